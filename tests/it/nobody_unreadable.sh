#!/bin/sh
# "Could not look" is UNKNOWN: a -1 run of tcpto, svc and kmsg as nobody on a
# real qmail home (queue/ of qmailq's, mode 750), a service under real
# daemontools (supervise/ is root's, mode 700) and the kernel log with
# kernel.dmesg_restrict=1 ends with exit 3, every warning an unreadable, and
# no crit: nobody could not look, nothing is known to be wrong.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-svc.sh"
command -v supervise >/dev/null || fail "daemontools is not installed"
id qmailq >/dev/null 2>&1 || fail "no qmailq account: run tests/setup-host.sh"

Q=$T/qmail
make_qmailhome "$Q"
mkdir -p "$Q/queue/lock"
head -c 1024 /dev/zero > "$Q/queue/lock/tcpto"
chown qmailr:qmail "$Q/queue/lock/tcpto"
chown qmailq:qmail "$Q/queue" "$Q/queue/lock"
chmod 750 "$Q/queue" "$Q/queue/lock"

SV=$T/service
mkservice "$SV/up" 'exec sleep 300'
supervise "$SV/up" > /dev/null 2>&1 &
kill_later $!
wait_up "$SV/up" 10 || fail "the service did not start"
kill_later "$(status_pid "$SV/up")"
[ "$(stat -c %a "$SV/up/supervise")" = 700 ] || fail "supervise/ is not 0700"

mkdir -m 700 "$T/state"
chown nobody "$T/state"
checks=tcpto,svc
restricted=$(cat /proc/sys/kernel/dmesg_restrict)
[ "$restricted" = 1 ] && checks=$checks,kmsg

rc=0
env QMAILHOME="$Q" MAINTD_STATE="$T/state" MAINTD_SERVICES="$SV" MAINTD_KMSG_PROGS=nothing-here \
    setuidgid nobody "$MAINTD" -1 -C "$checks" > "$T/out" 2>&1 || rc=$?
check_grammar "$T/out"
[ "$rc" = 3 ] || { cat "$T/out"; fail "exit $rc, want 3 (UNKNOWN)"; }
! grep -q '^crit ' "$T/out" || { cat "$T/out"; fail "a crit line from a run that could not look"; }
grep -q "^warn tcpto: unreadable file=$Q/queue/lock/tcpto op=open error=EACCES\$" "$T/out" ||
	{ cat "$T/out"; fail "tcpto: no unreadable line"; }
grep -q "^warn svc: unreadable service=$SV/up error=EACCES\$" "$T/out" ||
	{ cat "$T/out"; fail "svc: no unreadable line"; }
if [ "$restricted" = 1 ]; then
	grep -Eq '^warn kmsg: unreadable path=/dev/kmsg error=E(PERM|ACCES)$' "$T/out" ||
		{ cat "$T/out"; fail "kmsg: no unreadable line"; }
else
	echo "skip kmsg: kernel.dmesg_restrict=0, anyone may read the kernel log here"
fi
[ "$(grep '^warn ' "$T/out" | grep -vc ' unreadable ')" = 0 ] || { cat "$T/out"; fail "warnings other than unreadable"; }
rc=0
env QMAILHOME="$Q" MAINTD_STATE="$T/state" MAINTD_SERVICES="$SV" MAINTD_KMSG_PROGS=nothing-here \
    setuidgid nobody "$MAINTD" -1 -N -C "$checks" > "$T/nagios" 2>&1 || rc=$?
[ "$rc" = 3 ] && grep -q '^QMAIL-MAINTD UNKNOWN' "$T/nagios" || { cat "$T/nagios"; fail "-N: exit $rc, not UNKNOWN"; }
# each alone, too: its run could not check
for c in tcpto svc; do
	rc=0
	env QMAILHOME="$Q" MAINTD_STATE="$T/state" MAINTD_SERVICES="$SV" \
	    setuidgid nobody "$MAINTD" -1 -C "$c" > "$T/$c.out" 2>&1 || rc=$?
	[ "$rc" = 3 ] || { cat "$T/$c.out"; fail "$c alone: exit $rc, want 3"; }
done
pass "as nobody: $checks could not look: unreadable warnings only, exit 3, UNKNOWN"

#!/bin/sh
# kmsg: real crashes (SIGSEGV, SIGFPE, SIGILL, general protection) of programs
# named like qmail's, read back from the real kernel log; each reported once.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_kmsg.sh"

# a crash of another program before this test's time (UP0), and not-qmail
# later with the same pid, as pid_max 32768 makes happen: the old line is not
# this test's (the CI failure of 2026-11-29: two lines for that pid)
crash "ko$$" segv; P_OLD=$PID
U1=$(cut -d. -f1 /proc/uptime)
while [ "$(cut -d. -f1 /proc/uptime)" -le "$U1" ]; do sleep 0.1; done
UP0=$(cut -d. -f1 /proc/uptime)
crash qmail-remote segv; P_REMOTE=$PID
crash qmail-smtpd fpe; P_SMTPD=$PID
crash tai64nlocal gp; P_TAI=$PID
crash sslserver ill; P_SSL=$PID
WANT_PID=$P_OLD	# not right after ko: the same pid within 64 records is one crash
crash not-qmail segv; P_NOT=$PID
WANT_PID=
[ "$P_NOT" = "$P_OLD" ] || fail "not-qmail did not get the reused pid $P_OLD"
crash qmail-queue int3; P_INT3=$PID

# a fresh state: the crashes already in the buffer are reported
maintd "$T/run1"
check_grammar "$T/run1.all"
[ "$RC" = 2 ] || { cat "$T/run1"; fail "exit $RC, want 2 (crit findings)"; }
one() {	# FILE PROG PID SIGNAL
	n=$(count "$1" "^crit kmsg: crash prog=$2 pid=$3 signal=$4 .*at=[0-9]+ boot_time=[0-9]+\.[0-9]{6} seq=[0-9]+$")
	[ "$n" = 1 ] || { cat "$1"; fail "$n lines for $2 pid $3 $4 in $1, want 1"; }
}
one "$T/run1" qmail-remote $P_REMOTE SIGSEGV
one "$T/run1" qmail-smtpd $P_SMTPD SIGFPE
one "$T/run1" tai64nlocal $P_TAI SIGSEGV
one "$T/run1" sslserver $P_SSL SIGILL
grep -Eq "^crit kmsg: crash prog=qmail-remote pid=$P_REMOTE signal=SIGSEGV addr=0x0 ip=0x[0-9a-f]+ error=4 file=qmail-remote " "$T/run1" ||
	fail "segfault fields (addr, ip, error, file) missing"
[ "$(count "$T/run1" "pid=$P_NOT ")" = 1 ] && grep -Eq "^debug kmsg: other prog=not-qmail pid=$P_NOT signal=SIGSEGV .*boot_time=[0-9]+\.[0-9]{6}$" "$T/run1" ||
	{ cat "$T/run1"; fail "not-qmail: want only a debug other line"; }
[ "$(count "$T/run1" "pid=$P_INT3 ")" = 0 ] || fail "trap int3 reported"
grep -Eq '^info kmsg: scanned records=[1-9][0-9]* crashes=[1-9][0-9]* seq=[0-9]+$' "$T/run1" || fail "no scanned line"
grep -Eq '^[0-9a-f-]{36} [0-9]+$' "$T/state/kmsg.cursor" || fail "cursor: $(cat "$T/state/kmsg.cursor")"
pass "four crashes reported once each, not-qmail and int3 not"

# the same state again: none of them read again; each still active (within
# MAINTD_KMSG_HOLD), so this new process repeats it once, with again=1
maintd "$T/run2"
check_grammar "$T/run2.all"
[ "$RC" = 2 ] || { cat "$T/run2"; fail "second run: exit $RC, want 2 (the crashes are held)"; }
for p in $P_REMOTE $P_SMTPD $P_TAI $P_SSL; do
	[ "$(count "$T/run2" "crash .*pid=$p .* seq=[0-9]+( service=[^ ]+)?\$")" = 0 ] || { cat "$T/run2"; fail "pid $p read again"; }
	[ "$(count "$T/run2" "^crit kmsg: crash .*pid=$p .* again=1\$")" = 1 ] || { cat "$T/run2"; fail "pid $p not held"; }
done
grep -Eq '^info kmsg: scanned records=[0-9]+ crashes=[0-9]+ seq=[0-9]+$' "$T/run2" || fail "no scanned line in run 2"
pass "second run: nothing read again, the crashes held (again=1)"

# a new crash after the cursor: only it
crash qmail-send segv; P_SEND=$PID
maintd "$T/run3"
one "$T/run3" qmail-send $P_SEND SIGSEGV
[ "$(count "$T/run3" "crash prog=qmail-remote pid=$P_REMOTE .* seq=[0-9]+( service=[^ ]+)?\$")" = 0 ] || fail "old crash read again in run 3"
pass "third run: only the new crash"

#!/bin/sh
# kmsg: history is a summary, news is a page. A kernel log (a file of
# /dev/kmsg records, MAINTD_KMSG_DEVICE) with crashes from two days ago and
# one from a minute ago, read by a daemon whose clock says the machine has
# been up for three days (a real time namespace: unshare --time moves
# CLOCK_MONOTONIC, from which the daemon takes the boot time):
#  - the first run: one info backlog line for the old ones, one crit for the
#    new one, each crash time as at= (Unix seconds);
#  - the daemon's later sweeps: no cleared line, the crash still counted;
#  - -1 -N on a second run stays CRITICAL for a crash 30 minutes old (read by
#    the first run), and is OK once MAINTD_KMSG_HOLD has passed;
#  - a crash loop counted across -1 runs.
. "$SOURCE_DIR/tests/it/lib.sh"
command -v unshare >/dev/null || fail "unshare (util-linux) is needed"
unshare --time --monotonic 1 true 2>/dev/null || fail "no time namespaces (CONFIG_TIME_NS) here"
make_qmailhome "$T/qmail"

UP=259200	# the daemon's machine has been up for three days
MONO=$(python3 -c 'import time; print(int(time.monotonic()))')
NOW=$(date +%s)

# rec SEQ PROG PID AGO: a segfault record AGO seconds ago, in the namespace's boot time
rec() {
	printf '6,%s,%s000000,-;%s[%s]: segfault at 0 ip 0000000000401000 sp 00007ffc00000000 error 4 in %s[1000,401000+1000] likely on CPU 0 (core 0, socket 0)\n' \
	    "$1" $((MONO + UP - $4)) "$2" "$3" "$2"
	printf ' SUBSYSTEM=cpu\n DEVICE=+cpu:0\n'	# continuation lines, skipped
}

# oneshot OUT STATE DEVICE [-N] [VAR=VALUE...]: -1 -C kmsg in the namespace; sets RC
oneshot() {
	_out=$1 _st=$2 _dev=$3 _n=
	shift 3
	[ "${1:-}" = -N ] && { _n=-N; shift; }
	RC=0
	env QMAILHOME="$T/qmail" MAINTD_STATE="$_st" MAINTD_KMSG_DEVICE="$_dev" "$@" \
	    unshare --time --monotonic "$UP" --boottime "$UP" "$MAINTD" -1 $_n -C kmsg > "$_out" 2>&1 || RC=$?
}
near() {	# VALUE WANT SLACK
	[ "$1" -ge $(($2 - $3)) ] && [ "$1" -le $(($2 + $3)) ]
}

# 1. two days ago (two programs) and a minute ago
{
	rec 100 qmail-remote 1001 172800
	rec 101 qmail-smtpd 1002 172795
	rec 102 qmail-remote 1004 172790
	rec 103 qmail-send 1003 60
} > "$T/log1"
mkdir -m 700 "$T/s1"
oneshot "$T/run1" "$T/s1" "$T/log1"
check_grammar "$T/run1"
[ "$RC" = 2 ] || { cat "$T/run1"; fail "first run: exit $RC, want 2"; }
[ "$(count "$T/run1" '^info kmsg: backlog ')" = 1 ] || { cat "$T/run1"; fail "not one backlog line"; }
line=$(grep '^info kmsg: backlog ' "$T/run1")
echo "$line" | grep -Eq '^info kmsg: backlog crashes=3 progs=qmail-remote,qmail-smtpd oldest=[0-9]+ newest=[0-9]+$' ||
	fail "backlog line: $line"
old=$(echo "$line" | sed 's/.* oldest=\([0-9]*\).*/\1/')
new=$(echo "$line" | sed 's/.* newest=\([0-9]*\)$/\1/')
near "$old" $((NOW - 172800)) 5 && near "$new" $((NOW - 172790)) 5 ||
	fail "backlog times $old..$new, want about $((NOW - 172800))..$((NOW - 172790))"
[ "$(count "$T/run1" '^crit ')" = 1 ] || { cat "$T/run1"; fail "not one crit line"; }
crit=$(grep '^crit ' "$T/run1")
echo "$crit" | grep -Eq '^crit kmsg: crash prog=qmail-send pid=1003 signal=SIGSEGV addr=0x0 ip=0x401000 error=4 file=qmail-send at=[0-9]+ boot_time=[0-9]+\.000000 seq=103$' ||
	fail "crash line: $crit"
at=$(echo "$crit" | sed 's/.* at=\([0-9]*\) .*/\1/')
near "$at" $((NOW - 60)) 5 || fail "at=$at, want about $((NOW - 60))"
grep -q 'pid=100[124]' "$T/run1" && fail "an old crash reported one by one"
grep -q '^info kmsg: scanned records=4 crashes=4 seq=103$' "$T/run1" || { cat "$T/run1"; fail "scanned line"; }
pass "first run: one backlog line (3 crashes two days old), one crit with at=$at"

# 2. the daemon: later sweeps say nothing of the crash, clear nothing, count it
rm -rf "$T/s2"
mkdir -m 700 "$T/s2"
mkdir -p "$T/prom"
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/s2" MAINTD_KMSG_DEVICE="$T/log1" \
    MAINTD_CHECKS=kmsg MAINTD_INTERVAL_KMSG=1 MAINTD_PROMFILE="$T/prom/k.prom" \
    unshare --time --monotonic "$UP" --boottime "$UP" "$MAINTD" > "$T/daemon" 2>&1 &
DPID=$!
at_exit "kill $DPID 2>/dev/null"
i=0
while [ "$(count "$T/daemon" '^info sweep: done ')" -lt 4 ]; do
	[ $i -lt 100 ] || { cat "$T/daemon"; fail "no four sweeps"; }
	sleep 0.1
	i=$((i + 1))
done
kill $DPID
wait $DPID || true
check_grammar "$T/daemon"
[ "$(count "$T/daemon" '^crit kmsg: crash ')" = 1 ] || { cat "$T/daemon"; fail "daemon: crash not logged once"; }
[ "$(count "$T/daemon" '^info kmsg: backlog ')" = 1 ] || { cat "$T/daemon"; fail "daemon: backlog not once"; }
! grep -q 'cleared' "$T/daemon" || { cat "$T/daemon"; fail "daemon: a cleared line"; }
[ "$(grep '^info sweep: done ' "$T/daemon" | grep -vc ' crit=1\( \|$\)')" = 0 ] ||
	{ cat "$T/daemon"; fail "daemon: a sweep that did not count the crash as active"; }
# the metrics of the last sweep count it too (the check repeats it to the daemon, quietly)
grep -qx 'qmail_maintd_findings{check="kmsg",level="crit"} 1' "$T/prom/k.prom" ||
	{ cat "$T/prom/k.prom"; fail "daemon: the held crash not in qmail_maintd_findings"; }
grep -qx 'qmail_kmsg_crashes_total{prog="qmail-send"} 1' "$T/prom/k.prom" ||
	{ cat "$T/prom/k.prom"; fail "daemon: the crash counted more than once"; }
# every watched name that is not a pattern has its counter from the start, at 0
grep -qx 'qmail_kmsg_crashes_total{prog="tcpserver"} 0' "$T/prom/k.prom" ||
	{ cat "$T/prom/k.prom"; fail "daemon: no zero counter for a watched program"; }
pass "daemon: the crash logged once, active in every sweep and in the metrics, no cleared line"

# 3. -1 -N: a crash 30 minutes old, read by a first run, still CRITICAL on the next
rec 7 qmail-remote 2001 1800 > "$T/log3"
rm -rf "$T/s3"
mkdir -m 700 "$T/s3"
oneshot "$T/run3a" "$T/s3" "$T/log3"
[ "$RC" = 2 ] && grep -q '^crit kmsg: crash prog=qmail-remote pid=2001 ' "$T/run3a" ||
	{ cat "$T/run3a"; fail "30 minutes old: first run exit $RC"; }
oneshot "$T/run3b" "$T/s3" "$T/log3" -N
[ "$RC" = 2 ] || { cat "$T/run3b"; fail "second -1 -N: exit $RC, want 2 (CRITICAL)"; }
grep -q '^QMAIL-MAINTD CRITICAL' "$T/run3b" || { cat "$T/run3b"; fail "second -1 -N: not CRITICAL"; }
oneshot "$T/run3c" "$T/s3" "$T/log3"
[ "$RC" = 2 ] && grep -Eq '^crit kmsg: crash prog=qmail-remote pid=2001 .* seq=7 again=1$' "$T/run3c" ||
	{ cat "$T/run3c"; fail "third run: the held crash not repeated with again=1"; }
grep -q '^info kmsg: scanned records=0 crashes=0 seq=7$' "$T/run3c" || { cat "$T/run3c"; fail "read again"; }
oneshot "$T/run3d" "$T/s3" "$T/log3" -N MAINTD_KMSG_HOLD=1200
[ "$RC" = 0 ] && grep -q '^QMAIL-MAINTD OK' "$T/run3d" ||
	{ cat "$T/run3d"; fail "past MAINTD_KMSG_HOLD: exit $RC, want 0 (OK)"; }
pass "-1 -N stays CRITICAL on a second run for a crash 30 minutes old; OK after the hold"

# 4. a crash loop across -1 runs: each run reads one new crash
rm -rf "$T/s4"
mkdir -m 700 "$T/s4"
: > "$T/log4"
for n in 1 2 3; do
	rec $n qmail-smtpd $((3000 + n)) $((100 - n)) >> "$T/log4"
	oneshot "$T/run4" "$T/s4" "$T/log4" MAINTD_KMSG_LOOP=3
	[ "$(count "$T/run4" '^crit kmsg: crash prog=qmail-smtpd pid=')" -ge 1 ] || { cat "$T/run4"; fail "run $n"; }
done
grep -q '^crit kmsg: crash-loop prog=qmail-smtpd count=3 window=3600$' "$T/run4" ||
	{ cat "$T/run4"; fail "no crash-loop counted across -1 runs"; }
pass "crash-loop counted across three -1 runs"

# 5. links at the state file and its temporary name: neither read nor written
# through; the run starts afresh and replaces the link by a file
rm -rf "$T/s5"
mkdir -m 700 "$T/s5"
printf 'root-only secret\n' > "$T/victim"
chmod 600 "$T/victim"
cp -p "$T/victim" "$T/victim.orig"
ln -s "$T/victim" "$T/s5/kmsg.cursor"
ln -s "$T/victim" "$T/s5/.kmsg.cursor.tmp"
oneshot "$T/run5" "$T/s5" "$T/log3"
check_grammar "$T/run5"
grep -q '^warn kmsg: bad-cursor error=ELOOP$' "$T/run5" || { cat "$T/run5"; fail "link at kmsg.cursor: no bad-cursor"; }
! grep -q 'secret' "$T/run5" || fail "bytes of the victim in the log"
cmp "$T/victim.orig" "$T/victim" || fail "the victim was written"
[ -f "$T/s5/kmsg.cursor" ] && [ ! -L "$T/s5/kmsg.cursor" ] || fail "kmsg.cursor not replaced by a file"
[ ! -e "$T/s5/.kmsg.cursor.tmp" ] || fail "the temporary name was left"
pass "links at kmsg.cursor and .kmsg.cursor.tmp: refused, replaced, victim untouched"

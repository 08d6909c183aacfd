#!/bin/sh
# kmsg faults and limits: the kernel log missing or not permitted (reported
# once, cleared when it works again), bad variables, the backlog limit, crash
# loops. Programs get names unique to this test run so that crashes of other
# tests sharing the kernel log do not count.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_kmsg.sh"

# missing device: one warning, could not check (exit 3), never a crash
maintd "$T/miss" MAINTD_KMSG_DEVICE="$T/none"
check_grammar "$T/miss.all"
[ "$RC" = 3 ] || { cat "$T/miss"; fail "missing device: exit $RC, want 3"; }
grep -q "^warn kmsg: unavailable path=$T/none error=ENOENT\$" "$T/miss" || { cat "$T/miss"; fail "no unavailable line"; }
[ -f "$T/state/kmsg.cursor" ] && fail "a cursor was saved without reading"
pass "missing /dev/kmsg: unavailable error=ENOENT"

# not permitted (dmesg_restrict=1 and not root)
if [ "$(cat /proc/sys/kernel/dmesg_restrict)" = 1 ]; then
	mkdir -p "$T/nobody"
	chown nobody "$T/nobody"
	prc=0
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/nobody/state" setuidgid nobody \
	    "$MAINTD" -1 -C kmsg > "$T/perm" 2>&1 || prc=$?
	grep -Eq '^warn kmsg: unreadable path=/dev/kmsg error=E(PERM|ACCES)$' "$T/perm" ||
		{ cat "$T/perm"; fail "not root: no unreadable line"; }
	! grep -q '^crit ' "$T/perm" || { cat "$T/perm"; fail "not root: crit"; }
	[ "$prc" = 3 ] || { cat "$T/perm"; fail "not root: exit $prc, want 3 (UNKNOWN)"; }
	pass "not permitted: unreadable error=$(sed -n 's/.* error=//p' "$T/perm"), exit 3"
else
	echo "skip: kernel.dmesg_restrict=0, any user may read /dev/kmsg here"
fi

# the daemon: reported once across timed sweeps, cleared when the device appears
ln -s "$T/none" "$T/kmsg"
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_KMSG_DEVICE="$T/kmsg" \
    MAINTD_INTERVAL_KMSG=1 MAINTD_CHECKS=kmsg "$MAINTD" > "$T/daemon" 2>&1 &
DPID=$!
at_exit "kill $DPID 2>/dev/null"
wait_for "$T/daemon" "^info sweep: done reason=timer" 10 || { cat "$T/daemon"; fail "no timed sweep"; }
wait_for "$T/daemon" "^info sweep: done reason=timer.*" 10
sleep 1.2
[ "$(count "$T/daemon" "unavailable")" = 1 ] || { cat "$T/daemon"; fail "unavailable not exactly once"; }
ln -sf /dev/kmsg "$T/kmsg"
wait_for "$T/daemon" "^info kmsg: cleared unavailable" 10 || { cat "$T/daemon"; fail "not cleared"; }
wait_for "$T/daemon" "^info kmsg: scanned records=[0-9]+ crashes=[0-9]+ seq=[0-9]+$" 5 || fail "no scan after clearing"
kill $DPID
wait $DPID || true
check_grammar "$T/daemon"
pass "daemon: unavailable once, cleared when readable"

# bad variables are fatal at start
for v in MAINTD_KMSG_LOOP=x MAINTD_KMSG_MAXREC=0 MAINTD_KMSG_BACKLOG=-1 "MAINTD_KMSG_PROGS=a*b" "MAINTD_KMSG_PROGS=,"; do
	maintd "$T/bad" "$v"
	[ "$RC" = 111 ] && grep -q "^fatal maintd: bad-config var=${v%%=*} " "$T/bad" ||
		{ cat "$T/bad"; fail "$v: exit $RC"; }
done
pass "bad variables: fatal bad-config, exit 111"

# backlog: with no cursor at most MAINTD_KMSG_BACKLOG crashes, the newest; then a count
rm -rf "$T/state"
mkdir "$T/state"
U=k$(od -An -N4 -tx4 /dev/urandom | tr -d " ")
crash "${U}a" segv; PA=$PID
crash "${U}b" segv; PB=$PID
crash "${U}c" fpe; PC=$PID
maintd "$T/backlog" MAINTD_KMSG_PROGS="${U}*" MAINTD_KMSG_BACKLOG=1
check_grammar "$T/backlog.all"
[ "$(count "$T/backlog" "^crit kmsg: crash ")" = 1 ] && grep -q "^crit kmsg: crash prog=${U}c pid=$PC signal=SIGFPE " "$T/backlog" ||
	{ cat "$T/backlog"; fail "backlog: want only the newest crash"; }
grep -q '^warn kmsg: backlog-skipped count=2 limit=1$' "$T/backlog" || { cat "$T/backlog"; fail "no backlog count"; }
pass "backlog limit: newest reported, the rest counted"

# crash loop: MAINTD_KMSG_LOOP crashes of one program within the hour
rm -rf "$T/state"
mkdir "$T/state"
crash "${U}a" gp; PA2=$PID
maintd "$T/loop" MAINTD_KMSG_PROGS="${U}*" MAINTD_KMSG_LOOP=2
grep -q "^crit kmsg: crash-loop prog=${U}a count=2 window=3600\$" "$T/loop" || { cat "$T/loop"; fail "no crash-loop"; }
[ "$(count "$T/loop" "crash-loop")" = 1 ] || fail "crash-loop for more than ${U}a"
pass "crash loop"

# bounded work: MAINTD_KMSG_MAXREC records per sweep, the rest next sweep
rm -rf "$T/state"
mkdir "$T/state"
maintd "$T/max1" MAINTD_KMSG_MAXREC=5
grep -Eq '^info kmsg: scanned records=5 crashes=[0-9]+ seq=[0-9]+ more=1$' "$T/max1" || { cat "$T/max1"; fail "maxrec not honoured"; }
s1=$(sed -n 's/^info kmsg: scanned .* seq=\([0-9]*\).*/\1/p' "$T/max1")
maintd "$T/max2" MAINTD_KMSG_MAXREC=5
s2=$(sed -n 's/^info kmsg: scanned .* seq=\([0-9]*\).*/\1/p' "$T/max2")
[ "$s2" -gt "$s1" ] || fail "second bounded sweep did not continue ($s1 -> $s2)"
pass "bounded work per sweep"

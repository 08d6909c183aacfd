#!/bin/sh
# kmsg in the running daemon: a crash is logged once on a timed sweep, then
# cleared; a restart of the daemon neither repeats it nor misses a crash that
# happened while it was down.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_kmsg.sh"

maintd "$T/init"	# a cursor: the backlog is not this test's business

start() {	# OUT
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_INTERVAL_KMSG=1 \
	    MAINTD_CHECKS=kmsg "$MAINTD" > "$1" 2>&1 &
	DPID=$!
	at_exit "kill $DPID 2>/dev/null"
	wait_for "$1" "^info sweep: done reason=start" 10 || { cat "$1"; fail "no first sweep"; }
}
stop() {
	kill "$DPID"
	wait "$DPID" || true
}
sweeps() { count "$1" "^info sweep: done "; }
two_more() {	# OUT: waits for two more sweeps
	_want=$(($(sweeps "$1") + 2))
	_i=0
	while [ "$(sweeps "$1")" -lt $_want ]; do
		[ $_i -lt 100 ] || fail "no more sweeps in $1"
		sleep 0.1
		_i=$((_i + 1))
	done
}

start "$T/d1"
crash qmail-remote segv; P1=$PID
wait_for "$T/d1" "^crit kmsg: crash prog=qmail-remote pid=$P1 signal=SIGSEGV " 10 || { cat "$T/d1"; fail "crash not logged"; }
two_more "$T/d1"
[ "$(count_ours "$T/d1" "^crit kmsg: crash .*pid=$P1 ")" = 1 ] || { cat "$T/d1"; fail "crash logged more than once"; }
! grep -q "cleared crash .*pid=$P1 " "$T/d1" || { cat "$T/d1"; fail "a crash is an event: no cleared line"; }
stop
check_grammar "$T/d1"
pass "timed sweeps: logged once, no cleared line"

crash qmail-smtpd fpe; P2=$PID	# while the daemon is down
start "$T/d2"
wait_for "$T/d2" "^crit kmsg: crash prog=qmail-smtpd pid=$P2 signal=SIGFPE " 10 || { cat "$T/d2"; fail "crash while down missed"; }
two_more "$T/d2"
[ "$(count_ours "$T/d2" "pid=$P1 .* seq=[0-9]+( service=[^ ]+)?\$")" = 0 ] || { cat "$T/d2"; fail "old crash read again after restart"; }
[ "$(count_ours "$T/d2" "pid=$P1 .* again=1\$")" = 1 ] || { cat "$T/d2"; fail "held crash not said once by the new process"; }
[ "$(count_ours "$T/d2" "^crit kmsg: crash .*pid=$P2 ")" = 1 ] || fail "crash while down logged more than once"
stop
check_grammar "$T/d2"
pass "restart: nothing read again (the held crash said once, again=1), nothing missed"

#!/bin/sh
# 100 SIGHUPs during a slow sweep coalesce into exactly one more sweep;
# SIGTERM in the middle of a sweep ends the process promptly with exit 0.
. "$SOURCE_DIR/tests/it/lib.sh"
make_qmailhome "$T/qmail"
export QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_CHECKS=slow MAINTD_SLOW_MS=1500

"$MAINTD_TEST" > "$T/log" 2>&1 < /dev/null &
pid=$!
at_exit "kill -9 $pid"
wait_for "$T/log" 'sweep: done reason=start' 10 || fail "no start sweep"

kill -HUP $pid
wait_for "$T/log" 'sweep: start reason=hup' 2 || fail "no hup sweep"
i=0
while [ $i -lt 100 ]; do
	kill -HUP $pid
	i=$((i + 1))
done
grep -q 'sweep: done reason=hup' "$T/log" && fail "the sweep was not slow enough to test coalescing"
wait_for "$T/log" 'sweep: done reason=hup.*' 5 || fail "first hup sweep did not end"
# the one owed sweep runs; wait long enough that a third would have shown
sleep 4.5
[ "$(count "$T/log" '^info sweep: start reason=hup ')" -eq 2 ] || { cat "$T/log"; fail "want exactly 2 hup sweeps"; }
[ "$(count "$T/log" '^info sweep: done reason=hup ')" -eq 2 ] || { cat "$T/log"; fail "want exactly 2 hup sweeps done"; }
pass "100 HUPs during a sweep gave exactly one more sweep"

# SIGTERM mid-sweep
kill -ALRM $pid
wait_for "$T/log" 'sweep: start reason=alrm' 2 || fail "no alrm sweep"
t0=$(date +%s%N)
kill -TERM $pid
set +e
wait $pid
status=$?
set -e
t1=$(date +%s%N)
[ $status -eq 0 ] || fail "exit status $status after SIGTERM"
ms=$(( (t1 - t0) / 1000000 ))
[ $ms -lt 1000 ] || fail "SIGTERM to exit took $ms ms"
tail -1 "$T/log" | grep -q '^info maintd: exiting signal=TERM$' || fail "last line: $(tail -1 "$T/log")"
grep -q 'sweep: done reason=alrm' "$T/log" && fail "the cancelled sweep claimed to be done"
check_grammar "$T/log"
pass "SIGTERM mid-sweep: exit 0 after $ms ms (test bound 1000 ms)"

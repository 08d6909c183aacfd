#!/bin/sh
# The active-finding memory in the running daemon: logged once, not repeated on
# timed sweeps, reminded after MAINTD_REMIND, cleared when gone, all again on SIGHUP.
. "$SOURCE_DIR/tests/it/lib.sh"
make_qmailhome "$T/qmail"
export QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_CHECKS=slow
export MAINTD_SLOW_FINDINGS="$T/items" MAINTD_INTERVAL_SLOW=1 MAINTD_REMIND=4
printf 'warn a\ncrit b\n' > "$T/items"

"$MAINTD_TEST" > "$T/log" 2>&1 < /dev/null &
pid=$!
at_exit "kill -9 $pid"
wait_for "$T/log" 'sweep: done reason=start' 5 || fail "no start sweep"
grep -q 'sweep: done reason=start .* warn=1 crit=1$' "$T/log" || fail "start counts"
# two timed sweeps later: still said once each, still counted
wait_for "$T/log" '(sweep: done reason=timer.*){1}' 5 || fail "no timed sweep"
sleep 1.5
[ "$(count "$T/log" 'sweep: done reason=timer ')" -ge 2 ] || fail "fewer than 2 timed sweeps"
[ "$(count "$T/log" '^warn slow: item name=a$')" -eq 1 ] || fail "a repeated before the reminder"
[ "$(count "$T/log" '^crit slow: item name=b$')" -eq 1 ] || fail "b repeated before the reminder"
grep 'sweep: done reason=timer' "$T/log" | tail -1 | grep -q ' warn=1 crit=1$' || fail "timer counts"
pass "active findings are not repeated on timed sweeps"

# a reminder says since when the finding is there (the Unix time it was first seen)
A='^warn slow: item name=a( since=[0-9]+)?$'
n=0
while [ "$(count "$T/log" "$A")" -lt 2 ] && [ $n -lt 60 ]; do sleep 0.1; n=$((n + 1)); done
[ "$(count "$T/log" "$A")" -eq 2 ] || fail "no reminder after MAINTD_REMIND"
since=$(sed -n 's/^warn slow: item name=a since=\([0-9]*\)$/\1/p' "$T/log")
[ -n "$since" ] && [ "$since" -le "$(date +%s)" ] && [ "$since" -ge $(($(date +%s) - 30)) ] ||
    fail "the reminder has no since= of the first sighting: $(grep 'name=a' "$T/log")"
pass "reminded after MAINTD_REMIND, with since=$since"

echo 'warn a' > "$T/items"
wait_for "$T/log" '^info slow: cleared item name=b$' 4 || fail "b not cleared"
[ "$(count "$T/log" 'cleared item name=b')" -eq 1 ] || fail "cleared twice"
sleep 1.2
grep 'sweep: done' "$T/log" | tail -1 | grep -q ' warn=1 crit=0$' || fail "counts after clearing"
pass "a finding that disappears is cleared once"

before=$(count "$T/log" "$A")
kill -HUP $pid
wait_for "$T/log" 'sweep: done reason=hup' 3 || fail "no hup sweep"
[ "$(count "$T/log" "$A")" -eq $((before + 1)) ] || fail "HUP did not log the active finding again"
[ "$(grep -Ec "^warn slow: item name=a since=$since\$" "$T/log")" -eq 2 ] || fail "HUP's line without since=$since"
pass "SIGHUP logs every active finding again"

kill -TERM $pid
wait $pid || fail "exit status after TERM"
check_grammar "$T/log"

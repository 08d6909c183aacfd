# SIGHUP reloads the configuration all or nothing. The environment of a
# running daemon is changed the only way there is, from outside with gdb
# (under supervise it comes from envdir at start): MAINTD_TCPTO_MAXAGE made
# valid-but-different together with a bad MAINTD_TCPTO_PRUNE. One bad-config
# line, and the previous MAXAGE stays in force: nothing is pruned (the old
# code stored MAXAGE before it validated PRUNE, and pruned here). With PRUNE
# valid again, the next SIGHUP applies both.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_tcpto.sh"
command -v gdb >/dev/null || fail "no gdb: run tests/setup-host.sh"

fixture_shift tcpto-mixed 8000	# every entry 8,013 to 8,143 s old
cp "$TAB" "$T/before"
env QMAILHOME="$Q" MAINTD_STATE="$T/state" MAINTD_CHECKS=tcpto MAINTD_TCPTO_MAXAGE=9000 \
    MAINTD_TCPTO_PRUNE=1 "$MAINTD" > "$T/log" 2>&1 &
pid=$!
at_exit "kill $pid 2>/dev/null"
sweeps() { count "$T/log" '^info sweep: done '; }
wait_for "$T/log" '^info sweep: done ' 20 || fail "no first sweep: $(cat "$T/log")"

setenv_in() {	# setenv_in VAR VALUE: in the running daemon
	gdb -p "$pid" -batch -ex "call (int)setenv(\"$1\", \"$2\", 1)" >"$T/gdb.out" 2>&1 ||
	    fail "gdb: $(tail -5 "$T/gdb.out")"
}
hup_and_wait() {	# hup_and_wait N: SIGHUP, then until N sweeps are done
	kill -HUP "$pid"
	_n=100
	while [ "$(sweeps)" -lt "$1" ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	[ "$(sweeps)" -ge "$1" ] || fail "no sweep after SIGHUP: $(cat "$T/log")"
}

setenv_in MAINTD_TCPTO_MAXAGE 7200
setenv_in MAINTD_TCPTO_PRUNE 2
hup_and_wait 2
[ "$(count "$T/log" '^warn maintd: bad-config ')" = 1 ] || fail "bad-config lines: $(cat "$T/log")"
grep -q '^warn maintd: bad-config var=MAINTD_TCPTO_PRUNE value=2 reason=out-of-range$' "$T/log" ||
    fail "the bad-config line: $(grep bad-config "$T/log")"
[ "$(count "$T/log" '^info tcpto: pruned ')" = 0 ] || fail "half-applied: $(cat "$T/log")"
cmp -s "$T/before" "$TAB" || fail "the table changed after a refused reload"
pass "a bad MAINTD_TCPTO_PRUNE on SIGHUP: one bad-config line, MAXAGE 9000 still in force"

setenv_in MAINTD_TCPTO_PRUNE 1
hup_and_wait 3
[ "$(count "$T/log" '^warn maintd: bad-config ')" = 1 ] || fail "a second bad-config line"
[ "$(count "$T/log" '^info tcpto: pruned ')" = 5 ] || fail "valid reload not applied: $(cat "$T/log")"
check_grammar "$T/log"
pass "PRUNE valid again: the next SIGHUP applies MAXAGE 7200, 5 entries pruned"

#!/bin/sh
# qmail-maintd -1: exit status as a monitoring plugin, options, bad configuration, the state lock.
. "$SOURCE_DIR/tests/it/lib.sh"
make_qmailhome "$T/qmail"
export QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_CHECKS=slow
export MAINTD_SLOW_FINDINGS="$T/items"

run1() { # expected-status description [options]
	_want=$1; _what=$2; shift 2
	set +e
	"$MAINTD_TEST" "$@" > "$T/out" 2> "$T/err" < /dev/null
	_got=$?
	set -e
	[ "$_got" = "$_want" ] || { cat "$T/out" "$T/err" >&2; fail "$_what: exit $_got, want $_want"; }
}

: > "$T/items"
run1 0 "no findings" -1
[ -s "$T/err" ] && fail "stderr not empty: $(cat "$T/err")"
check_grammar "$T/out"
grep -q '^info sweep: done reason=once ms=[0-9]* ok=1 warn=0 crit=0 failed=0$' "$T/out" || fail "done line: $(cat "$T/out")"
pass "exit 0 without findings"

echo "warn w1" > "$T/items"
run1 1 "a warn finding" -1
grep -q '^warn slow: item name=w1$' "$T/out" || fail "warn line missing"
grep -q ' ok=0 warn=1 crit=0 failed=0$' "$T/out" || fail "counts"
pass "exit 1 with a warn finding"

printf 'warn w1\ncrit c1\n' > "$T/items"
run1 2 "a crit finding" -1
grep -q '^crit slow: item name=c1$' "$T/out" || fail "crit line missing"
pass "exit 2 with a crit finding"

: > "$T/items"
MAINTD_SLOW_MS=5000 MAINTD_TIMEOUT_SLOW=1 run1 3 "a check that could not run" -1
grep -q '^warn slow: timeout limit=1$' "$T/out" || fail "timeout line missing: $(cat "$T/out")"
grep -q ' failed=1$' "$T/out" || fail "failed count"
pass "exit 3 when a check timed out"

run1 0 "-V" -V
grep -Eq '^qmail-maintd [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "-V output: $(cat "$T/out")"
run1 100 "-h" -h
grep -q '^usage: qmail-maintd' "$T/err" || fail "-h usage on stderr"
[ -s "$T/out" ] && fail "-h wrote to stdout"
run1 100 "unknown option" -x
run1 100 "stray argument" -1 extra
run1 111 "unknown -C check" -1 -C slow,nonesuch
grep -q '^fatal maintd: bad-config var=-C value=slow,nonesuch reason=unknown-check$' "$T/out" || fail "-C line: $(cat "$T/out")"
pass "options"

# every bad value: one fatal line, exit 111
bad() { # VAR VALUE REASON
	set +e; env "$1=$2" "$MAINTD_TEST" -1 > "$T/out" 2>&1 < /dev/null; _s=$?; set -e
	[ $_s -eq 111 ] || fail "$1=$2: exit $_s"
	[ "$(wc -l < "$T/out")" -eq 1 ] || fail "$1=$2: more than one line"
	grep -q "^fatal maintd: bad-config var=$1 .*reason=$3\$" "$T/out" || fail "$1=$2: $(cat "$T/out")"
	check_grammar "$T/out"
}
bad MAINTD_INTERVAL abc not-a-number
bad MAINTD_INTERVAL 0 zero
bad MAINTD_INTERVAL_SLOW -1 not-a-number
bad MAINTD_REMIND 12x not-a-number
bad MAINTD_MAXFINDINGS 0 zero
bad MAINTD_CHECKS nonesuch unknown-check
bad QMAILHOME "$T/absent" missing
bad QMAILHOME /etc/hostname not-a-directory
bad MAINTD_SLOW_MS 9999999999 out-of-range
pass "bad configuration is fatal, one line, exit 111"

# a second process on the same state directory
flock "$MAINTD_STATE/lock" sleep 5 &
locker=$!
at_exit "kill $locker"
sleep 0.3
run1 111 "state locked" -1
grep -q "^fatal maintd: already-running state=$MAINTD_STATE\$" "$T/out" || fail "lock line: $(cat "$T/out")"
pass "a second qmail-maintd on the same state is refused"

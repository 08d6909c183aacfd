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
grep -q '^info sweep: done reason=once ms=[0-9]* checks_ok=1 checks_failed=0 warn=0 crit=0$' "$T/out" || fail "done line: $(cat "$T/out")"
pass "exit 0 without findings"

echo "warn w1" > "$T/items"
run1 1 "a warn finding" -1
grep -q '^warn slow: item name=w1$' "$T/out" || fail "warn line missing"
grep -q ' checks_ok=1 checks_failed=0 warn=1 crit=0$' "$T/out" || fail "counts"
pass "exit 1 with a warn finding"

printf 'warn w1\ncrit c1\n' > "$T/items"
run1 2 "a crit finding" -1
grep -q '^crit slow: item name=c1$' "$T/out" || fail "crit line missing"
pass "exit 2 with a crit finding"

: > "$T/items"
MAINTD_SLOW_MS=5000 MAINTD_TIMEOUT_SLOW=1 run1 3 "a check that could not run" -1
grep -q '^warn slow: timeout limit=1$' "$T/out" || fail "timeout line missing: $(cat "$T/out")"
grep -q ' checks_ok=0 checks_failed=1 warn=1 crit=0$' "$T/out" || fail "failed count"
pass "exit 3 when a check timed out"

run1 0 "-V" -V
grep -Eq '^qmail-maintd [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "-V output: $(cat "$T/out")"
run1 0 "--version" --version
grep -Eq '^qmail-maintd [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "--version output: $(cat "$T/out")"
# the Monitoring Plugins' rules: --help and -h on stdout, exit 0
for h in -h --help; do
	run1 0 "$h" $h
	grep -q '^usage: qmail-maintd' "$T/out" || fail "$h: usage not on stdout"
	[ -s "$T/err" ] && fail "$h wrote to stderr"
done
run1 100 "unknown option" -x
grep -q '^usage: qmail-maintd' "$T/err" || fail "usage error: no usage on stderr"
run1 100 "stray argument" -1 extra
# under -N every usage error is UNKNOWN with a status line, whatever its place
for args in "-N -x" "-x -N" "-1 -N extra" "-N -t 0" "-N -t x" "-N -w" "-s -N -C slow"; do
	run1 3 "$args" $args
	[ "$(wc -l < "$T/out")" = 1 ] && grep -q '^QMAIL-MAINTD UNKNOWN - usage: ' "$T/out" ||
	    fail "$args: $(cat "$T/out")"
done
# -t bounds the whole run: a check that would take 5 s, UNKNOWN after 1
MAINTD_SLOW_MS=5000 MAINTD_TIMEOUT_SLOW=30 "$MAINTD_TEST" -1 -N -t 1 > "$T/out" 2>&1 &
tpid=$!
t0=$(date +%s%N)
wait $tpid && tst=0 || tst=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$tst" = 3 ] && [ "$ms" -lt 2000 ] || fail "-t 1: exit $tst after $ms ms"
grep -q '^QMAIL-MAINTD UNKNOWN - timeout' "$T/out" || fail "-t 1: $(cat "$T/out")"
pass "-t 1 on a 5 s check: UNKNOWN after $ms ms"
run1 111 "unknown -C check" -1 -C slow,nonesuch
grep -q '^fatal maintd: bad-config var=-C value=slow,nonesuch reason=unknown-check$' "$T/out" || fail "-C line: $(cat "$T/out")"
pass "options"

# -1 from a shell (no MAINTD_STATE, no ./env): no state left anywhere, and the
# start line says so; MAINTD_PROMFILE (the daemon's) is not touched by -1
mkdir "$T/shell" "$T/tmp"
: > "$T/items"
(cd "$T/shell" && env -u MAINTD_STATE MAINTD_PROMFILE="$T/shell/daemon.prom" TMPDIR="$T/tmp" \
    "$MAINTD_TEST" -1 > "$T/out" 2>&1) || fail "-1 from a shell: $(cat "$T/out")"
grep -q '^info maintd: start version=.* state=none probe=none$' "$T/out" || fail "start line: $(head -1 "$T/out")"
[ -z "$(ls -A "$T/shell")" ] || fail "-1 left files in the current directory: $(ls -A "$T/shell")"
[ -z "$(ls -A "$T/tmp")" ] || fail "-1 left its private state: $(ls -A "$T/tmp")"
pass "-1 from a shell keeps no state and never writes MAINTD_PROMFILE"

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
grep -q "^fatal maintd: already-running state=$MAINTD_STATE use=\"qmail-maintd -s\"\$" "$T/out" ||
    fail "lock line: $(cat "$T/out")"
pass "a second qmail-maintd on the same state is refused"

#!/bin/sh
# qmail-maintd -s and -s -N, as the nobody user, read the status file that the
# daemon under real svscan/supervise writes after every run: fresh, rewritten
# after a run, stale when the daemon hangs (svc -p) or is gone (svc -d),
# missing. Without a sweep, without the lock, without writing anything; the
# plugin output keeps the Monitoring Plugins grammar. Prints how long -s takes.
. "$SOURCE_DIR/tests/it/lib.sh"
command -v svscan >/dev/null || fail "daemontools is not installed"
getent passwd nobody >/dev/null || fail "no nobody account"
slow_service

# qmail-maintd -s as nobody, with only MAINTD_STATE from the environment (as
# the NRPE and Icinga definitions of contrib/ pass it): output in $T/out, exit in $rc
as_nobody() {
	rc=0
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- env -i MAINTD_STATE="$STATE" \
	    "$MAINTD" "$@" > "$T/out" 2> "$T/err" || rc=$?
	[ ! -s "$T/err" ] || fail "-s wrote to stderr: $(cat "$T/err")"
}

slow_service_up
[ "$(stat -c %U:%a "$STATE")" = root:711 ] || fail "state: $(stat -c %U:%a "$STATE")"
[ "$(stat -c %U:%a "$STATE/status")" = root:644 ] || fail "status: $(stat -c %U:%a "$STATE/status")"
head -1 "$STATE/status" | grep -qx 'qmail-maintd-status 1' || fail "status: $(head -1 "$STATE/status")"
pid=$(svstat "$S" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
grep -q "^pid $pid start " "$STATE/status" || fail "status does not name pid $pid: $(cat "$STATE/status")"
grep -Eq '^check slow last [1-9][0-9]* result ok interval 1 timeout 1$' "$STATE/status" ||
    fail "no check line: $(cat "$STATE/status")"
pass "the supervised daemon wrote $STATE/status (root 0644 in a root 0711 directory)"

names() { ls -A "$STATE" | grep -vx 'status\|\.status\.tmp'; }
names > "$T/before"
as_nobody -s
[ "$rc" -eq 2 ] || fail "-s as nobody: exit $rc: $(cat "$T/out")"
grep -q '^  crit slow: item name=c$' "$T/out" || fail "-s: no crit finding: $(cat "$T/out")"
grep -q '^  warn slow: item name=a|b$' "$T/out" || fail "-s: no warn finding: $(cat "$T/out")"
awk '/^crit \(/ { c = NR } /^warn \(/ { w = NR } END { exit !(c && w && c < w) }' "$T/out" ||
    fail "-s: not grouped crit first: $(cat "$T/out")"
grep -q '^      what to do: ' "$T/out" || fail "-s: no what to do: $(cat "$T/out")"
grep -q "^qmail-maintd pid $pid running since " "$T/out" || fail "-s: no pid line"
cat "$T/out"
pass "-s as nobody: the findings grouped by level, crit first, each with what to do"

as_nobody -s -N
check_plugin "$T/out" "$rc" 2
head -1 "$T/out" | grep -q '^QMAIL-MAINTD CRITICAL - 1 critical, 1 warning: slow item; slow item | ' ||
    fail "-s -N: $(head -1 "$T/out")"
head -1 "$T/out" | grep -q "'findings_crit'=1 'findings_warn'=1 'checks_failed'=0;;;0;1 'status_age'=[0-9]*s\$" ||
    fail "-s -N perfdata: $(head -1 "$T/out")"
grep -Eq '^warn slow: item name=a/b since=[0-9]+$' "$T/out" || fail "-s -N long output: $(cat "$T/out")"
grep -Eq '^crit slow: item name=c since=[0-9]+$' "$T/out" || fail "-s -N long output: $(cat "$T/out")"
cat "$T/out"
# nothing of ours was made (the daemon itself rewrites status every second)
names > "$T/after"
cmp -s "$T/before" "$T/after" || fail "-s changed the state directory: $(diff "$T/before" "$T/after")"
grep -q 'sweep:' "$T/out" && fail "-s swept: $(cat "$T/out")"
pass "-s -N as nobody: CRITICAL, exit 2, the plugin grammar, '|' in a value as '/'; no sweep, no file"

# the NRPE command line of contrib/ and of the man page, as written (the
# install's paths replaced by this test's), as the nagios user
if getent passwd nagios > /dev/null; then
	for src in "$SOURCE_DIR/contrib/nrpe/qmail-maintd.cfg" "$SOURCE_DIR/docs/qmail-maintd.8"; do
		cmd=$(sed -n 's/^\(\.B \)\{0,1\}command\[qmail_maintd\]=//p' "$src" | sed 's/\\-/-/g' |
		    sed "s|/var/qmail/maintd/state|$STATE|; s|/var/qmail/bin/qmail-maintd|$MAINTD|")
		[ -n "$cmd" ] || fail "no command[qmail_maintd] in $src"
		rc=0
		setpriv --reuid=nagios --regid="$(id -g nagios)" --clear-groups -- sh -c "$cmd" \
		    > "$T/out" 2> "$T/err" || rc=$?
		[ ! -s "$T/err" ] || fail "$src: stderr: $(cat "$T/err")"
		check_plugin "$T/out" "$rc" 2
		head -1 "$T/out" | grep -q '^QMAIL-MAINTD CRITICAL - 1 critical, 1 warning: ' ||
		    fail "$src: $(head -1 "$T/out")"
	done
	pass "the NRPE command of contrib/nrpe and of qmail-maintd(8), as written, as nagios"
fi

# how long -s takes, as nobody (exec of the binary included): a figure, not an assertion
bench() { # label args...
	_l=$1
	shift
	: > "$T/ms"
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		_t0=$(date +%s%N)
		as_nobody "$@"
		_t1=$(date +%s%N)
		echo $(((_t1 - _t0) / 1000)) >> "$T/ms"
	done
	sort -n "$T/ms" | awk -v l="$_l" '{ a[NR] = $1 } END {
	    printf "benchmark: %s as nobody, 20 runs: min %.1f ms, median %.1f ms, max %.1f ms\n",
	    l, a[1] / 1000, a[int((NR + 1) / 2)] / 1000, a[NR] / 1000 }'
}
bench "qmail-maintd -s -N ($(grep -c '^finding ' "$STATE/status") findings)" -s -N
bench "qmail-maintd -s ($(grep -c '^finding ' "$STATE/status") findings)" -s

# the findings change: the status after the next run says so
printf 'warn a|b\n' > "$T/items"
svc -h "$S"
wait_for "$LOG" 'sweep: done reason=hup' 5 || fail "no sweep after svc -h"
n=0
while grep -q '^finding crit' "$STATE/status" && [ $n -lt 40 ]; do sleep 0.05; n=$((n + 1)); done
as_nobody -s -N
check_plugin "$T/out" "$rc" 1
head -1 "$T/out" | grep -q '^QMAIL-MAINTD WARNING - 1 warning: slow item | ' || fail "$(head -1 "$T/out")"
pass "after a run without the crit finding: WARNING, exit 1"

# a hung daemon: its pid exists, its runs stop (every 1 s, limit 1 s: overdue after 3 s)
svc -p "$S"
at_exit "svc -c '$S'"
sleep 4.5
as_nobody -s -N
check_plugin "$T/out" "$rc" 2
head -1 "$T/out" | grep -q '^QMAIL-MAINTD CRITICAL - no run of slow for [0-9]*s (limit 3s) | ' ||
    fail "paused: $(head -1 "$T/out")"
svc -c "$S"
pass "svc -p (the daemon hangs): CRITICAL, no run of slow"

# the daemon stopped: the file stays, naming a pid that is gone
svc -d "$S"
n=0
# (what is tested here is the stale file, not how fast SIGTERM is served:
# daemontools.sh bounds that; an ASan exit on a machine loaded by the tests
# beside it (it_stuck_diagnosis: key generation, Postfix, unbound) once took
# over 10 s in CI)
while kill -0 "$pid" 2>/dev/null && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
kill -0 "$pid" 2>/dev/null && fail "still running 30 s after svc -d"
as_nobody -s -N
check_plugin "$T/out" "$rc" 2
head -1 "$T/out" | grep -q "^QMAIL-MAINTD CRITICAL - qmail-maintd (pid $pid) is not running, status [0-9]*s old | 'status_age'=[0-9]*s\$" ||
    fail "stopped: $(head -1 "$T/out")"
as_nobody -s
[ "$rc" -eq 2 ] && grep -q "^STALE: qmail-maintd pid $pid " "$T/out" || fail "-s stopped: $rc $(cat "$T/out")"
pass "svc -d (pid gone): CRITICAL, exit 2, in both forms"

# the state directory closed to others, then no file at all: UNKNOWN
chmod 700 "$STATE"
as_nobody -s -N
check_plugin "$T/out" "$rc" 3
head -1 "$T/out" | grep -qx 'QMAIL-MAINTD UNKNOWN - cannot read the status file: EACCES' || fail "$(head -1 "$T/out")"
chmod 711 "$STATE"
rm "$STATE/status"
as_nobody -s -N
check_plugin "$T/out" "$rc" 3
head -1 "$T/out" | grep -qx 'QMAIL-MAINTD UNKNOWN - cannot read the status file: ENOENT' || fail "$(head -1 "$T/out")"
as_nobody -s
[ "$rc" -eq 3 ] && grep -q 'ENOENT' "$T/out" || fail "-s missing: $rc $(cat "$T/out")"
pass "unreadable (EACCES) or missing (ENOENT): UNKNOWN, exit 3"

# at the default bound of the finding memory (MAINTD_MAXFINDINGS=10000), with
# long subjects: the line still fits, the long output is bounded
now=$(date +%s)
awk -v pid=$$ -v now="$now" 'BEGIN {
	print "qmail-maintd-status 1"
	printf "pid %d start %d written %d\n", pid, now - 100, now
	for (c = 0; c < 6; c++)
		printf "check check%d last %d result ok interval 3600 timeout 600\n", c, now
	for (i = 0; i < 10000; i++)
		printf "finding %s check%d event-%d first %d id=%d path=queue/mess/%d/%d reply=\"421 %0150d\"\n",
		    i % 10 ? "warn" : "crit", i % 6, i % 40, now - i, i, i % 23, i, i
	print "end 6 10000"
}' > "$STATE/status"
chmod 644 "$STATE/status"
as_nobody -s -N
check_plugin "$T/out" "$rc" 2
[ "$(wc -c < "$T/out")" -lt 9000 ] || fail "long output of $(wc -c < "$T/out") bytes"
tail -1 "$T/out" | grep -q '^\.\.\. [0-9]* more findings: qmail-maintd -s$' || fail "$(tail -1 "$T/out")"
as_nobody -s
[ "$(grep -c '^      what to do: ' "$T/out")" -eq 10000 ] || fail "-s did not print every finding"
bench "qmail-maintd -s -N (10000 findings, $(($(wc -c < "$STATE/status") / 1024)) KB)" -s -N
bench "qmail-maintd -s (10000 findings, output to a file)" -s
check_grammar "$LOG"

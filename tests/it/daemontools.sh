#!/bin/sh
# The real thing: qmail-maintd-conf makes the service, Debian's svscan/supervise/
# multilog run it; svc -h, -a, -d, -u and kill -9 behave as an operator expects.
. "$SOURCE_DIR/tests/it/lib.sh"
command -v svscan >/dev/null || fail "daemontools is not installed"
getent passwd qmaill >/dev/null || fail "no qmaill account (run tests/setup-host.sh)"
make_qmailhome "$T/qmail"
S=$T/service/qmail-maintd
mkdir "$T/service"

"$MAINTD_CONF" qmaintd qmaill "$S" || fail "qmail-maintd-conf failed"
[ -x "$S/run" ] && [ -x "$S/log/run" ] || fail "run scripts missing"
grep -q "^exec envdir ./env $BUILD/qmail-maintd\$" "$S/run" || fail "run: $(cat "$S/run")"
grep -q '^exec setuidgid qmaill multilog t s16777215 n10 ./main$' "$S/log/run" || fail "log/run"
[ "$(stat -c %U "$S/log/main")" = qmaill ] || fail "log/main not owned by qmaill"
[ "$(stat -c %U:%a "$S/state")" = root:711 ] || fail "state: $(stat -c %U:%a "$S/state")"
[ "$(cat "$S/env/MAINTD_PROBEUSER")" = qmaintd ] || fail "env/MAINTD_PROBEUSER"
[ "$(cat "$S/env/MAINTD_PROBEROOT")" = "$S/root" ] && [ -z "$(ls -A "$S/root")" ] ||
    fail "env/MAINTD_PROBEROOT or root/"
"$MAINTD_CONF" root qmaill "$T/refused" 2>/dev/null && fail "qmail-maintd-conf took root as ACCT"
[ "$(cat "$S/env/MAINTD_INTERVAL")" = 3600 ] || fail "env/MAINTD_INTERVAL"
[ "$(cat "$S/env/QMAILHOME")" = /var/qmail ] || fail "env/QMAILHOME"
"$MAINTD_CONF" qmaintd qmaill "$S" 2>/dev/null && fail "qmail-maintd-conf overwrote an existing directory"
pass "qmail-maintd-conf made the service directory"

# the real binary and the local checks (dns and tls would probe the network)
echo "$T/qmail" > "$S/env/QMAILHOME"
echo "tcpto kmsg" > "$S/env/MAINTD_CHECKS"

svscan "$T/service" > /dev/null 2>&1 &
svscan_pid=$!
at_exit "kill $svscan_pid; svc -dx '$S' '$S/log'; sleep 0.3"
LOG=$S/log/main/current
wait_for "$LOG" 'sweep: done reason=start' 15 || fail "no start sweep in $LOG"
grep -q ' info maintd: start version=.* checks=tcpto,kmsg ' "$LOG" || fail "no start line"
pass "supervised daemon did its start sweep"

sweep_after() { # svc-option reason
	svc "$1" "$S"
	wait_for "$LOG" "sweep: done reason=$2" 2 || fail "svc $1: no sweep: done reason=$2 within 2 s"
}
sweep_after -h hup
sweep_after -a alrm
pass "svc -h and svc -a sweep at once"
grep -q "^@[0-9a-f]* info maintd: start version=.* qmailhome=$T/qmail state=./state intervals=tcpto:600,kmsg:60 probe=none\$" "$LOG" ||
    fail "the start line's settings: $(grep 'maintd: start' "$LOG")"
[ "$(count "$LOG" 'warn maintd: env-changed')" = 0 ] || fail "env-changed with ./env as it was"
# env/ is read by envdir at start: a change needs svc -t, and svc -h says so
echo 7200 > "$S/env/MAINTD_INTERVAL"
hups=$(count "$LOG" 'sweep: done reason=hup')
svc -h "$S"
wait_for "$LOG" 'warn maintd: env-changed action="svc -t"' 2 || fail "svc -h after an env/ edit said nothing"
pass "the start line lists the settings; an env/ edit then svc -h says env-changed"

pid=$(svstat "$S" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
[ -n "$pid" ] || fail "svstat: $(svstat "$S")"
svc -d "$S"
n=0
while kill -0 "$pid" 2>/dev/null && [ $n -lt 20 ]; do sleep 0.05; n=$((n + 1)); done
kill -0 "$pid" 2>/dev/null && fail "still running 1 s after svc -d"
wait_for "$LOG" 'info maintd: exiting signal=TERM' 2 || fail "no exiting line"
pass "svc -d: gone within $((n * 50)) ms, exiting logged"

starts=$(count "$LOG" 'info maintd: start ')
svc -u "$S"
n=0
while [ "$(count "$LOG" 'info maintd: start ')" -le "$starts" ] && [ $n -lt 60 ]; do sleep 0.05; n=$((n + 1)); done
[ "$(count "$LOG" 'info maintd: start ')" -gt "$starts" ] || fail "svc -u did not start it"
pass "svc -u starts it again"

wait_for "$LOG" 'sweep: done reason=start(.*)' 5
sleep 1.1	# supervise waits a second between starts
pid=$(svstat "$S" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
starts=$(count "$LOG" 'info maintd: start ')
kill -9 "$pid"
n=0
while [ "$(count "$LOG" 'info maintd: start ')" -le "$starts" ] && [ $n -lt 60 ]; do sleep 0.05; n=$((n + 1)); done
[ "$(count "$LOG" 'info maintd: start ')" -gt "$starts" ] || fail "not restarted after kill -9"
newpid=$(svstat "$S" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
[ "$newpid" != "$pid" ] || fail "same pid after kill -9"
pass "kill -9: supervise restarted it (pid $pid -> $newpid)"

check_grammar "$LOG"
pass "every line of log/main/current parses"

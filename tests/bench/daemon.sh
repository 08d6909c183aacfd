#!/bin/sh
# Daemon figures: idle RSS, wake-ups while idle, SIGTERM-to-exit latency.
#   sh tests/bench/daemon.sh [BUILD_DIR]      (as root, after a build; see README.md here)
# The production binary runs every check against a qmail tree made from the
# real queue fixture; the latency is measured mid-sweep with the test binary's
# slow and slowprobe checks (a sweep known to be running in both processes
# when SIGTERM arrives; the time until the root process has exited, after it
# killed and reaped the probe process). IDLE_SECONDS (default 10) for strace.
set -eu
cd "$(dirname "$0")/../.."
B=$(cd "${1:-build}" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/qmail/control"
python3 tests/it/queue_fixture.py prep tests/fixtures/queue-small-processed.tgz "$T/qmail"
echo mx1.example.test > "$T/qmail/control/me"
# every check but dns, which would ask the system resolver (tests/bench/dns.sh measures it);
# tls probes the default loopback targets (not listening here)
# kmsg and svc every hour, not every minute: idle means no run falls in the window
export QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_TCPTO_PRUNE=0 \
    MAINTD_CHECKS="queue tcpto kmsg tls svc" MAINTD_SERVICES="$T" \
    MAINTD_INTERVAL_KMSG=3600 MAINTD_INTERVAL_SVC=3600

"$B/qmail-maintd" > "$T/log" 2>&1 < /dev/null &
pid=$!
n=0
until grep -q 'sweep: done reason=start' "$T/log"; do
	sleep 0.1; n=$((n + 1)); [ $n -lt 600 ] || { cat "$T/log"; kill $pid; exit 1; }
done
sleep 1
echo "checks: $(sed -n 's/.*maintd: start .*checks=\([^ ]*\).*/\1/p' "$T/log")"
echo "first sweep: $(grep 'sweep: done reason=start' "$T/log")"
grep -E 'VmRSS|VmHWM' /proc/$pid/status
child=$(pgrep -P $pid | head -1)
[ -z "$child" ] || echo "probe process $child: $(grep -E 'VmRSS' /proc/$child/status | tr -s ' \t' ' ')"
idle=${IDLE_SECONDS:-10}
timeout -s INT "$idle" strace -p $pid -o "$T/trace" 2>/dev/null &
s1=$!
s2=
[ -z "$child" ] || { timeout -s INT "$idle" strace -p $child -o "$T/ptrace" 2>/dev/null & s2=$!; }
wait $s1 $s2 || true
probe_calls=-
[ -z "$child" ] || probe_calls=$(grep -cE '\) += ' "$T/ptrace" || true)
echo "idle $idle s under strace: root $(grep -cE '\) += ' "$T/trace" || true) system calls returned, probe $probe_calls"
kill -TERM $pid
wait $pid || true

: > "$T/lat"
i=0
while [ $i -lt 20 ]; do
	MAINTD_CHECKS=slow,slowprobe MAINTD_SLOW_MS=5000 MAINTD_SLOWPROBE_MS=5000 \
	    "$B/tests/qmail-maintd-test" > "$T/log2" 2>&1 < /dev/null &
	pid=$!
	until grep -q 'sweep: start reason=start' "$T/log2"; do sleep 0.01; done
	sleep 0.2
	t0=$(date +%s%N)
	kill -TERM $pid
	wait $pid || true
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 )) >> "$T/lat"
	i=$((i + 1))
done
sort -n "$T/lat" | awk '{ a[NR] = $1 } END { printf "SIGTERM mid-sweep to exit (incl. shell wait), 20 runs: median %.1f ms, max %.1f ms\n", a[int((NR + 1) / 2)] / 1000, a[NR] / 1000 }'

#!/bin/sh
# Quick start 1, on a fresh Debian 12 machine as root: installs the dependencies,
# builds, makes a qmail tree from the real notqmail queue fixture, runs
# qmail-maintd under real svscan/supervise/multilog, sends it one SIGHUP
# (svc -h), and prints the log through tai64nlocal. Leaves nothing running.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh tests/setup-host.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j "$(nproc)" > /dev/null

S=/tmp/qmail-maintd-sample
if [ -d "$S" ]; then
	svc -dx "$S/service/qmail-maintd" "$S/service/qmail-maintd/log" 2>/dev/null || true
	sleep 0.5
	rm -rf "$S"
fi
mkdir -p "$S/qmail/control" "$S/service"
(cd "$S/qmail" && tar --numeric-owner -xzf "$top/tests/fixtures/queue-small-processed.tgz" 2>/dev/null)
python3 tests/shift-times.py "$S/qmail/queue"
echo mx1.example.test > "$S/qmail/control/me"
printf 'localhost\nmx1.example.test\nexample.test\n' > "$S/qmail/control/rcpthosts"

build/qmail-maintd-conf root qmaill "$S/service/qmail-maintd"
E=$S/service/qmail-maintd/env
echo "$S/qmail" > "$E/QMAILHOME"
[ -f "$E/MAINTD_TCPTO_PRUNE" ] && echo 0 > "$E/MAINTD_TCPTO_PRUNE"	# show, do not touch

svscan "$S/service" > /dev/null 2>&1 &
svscan_pid=$!
LOG=$S/service/qmail-maintd/log/main/current
wait_log() {
	n=0
	until grep -q "$1" "$LOG" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 1200 ] || { echo "sample: no '$1' in $LOG" >&2; break; }
		sleep 0.05
	done
}
wait_log 'sweep: done reason=start'
svc -h "$S/service/qmail-maintd"
wait_log 'sweep: done reason=hup'
svc -d "$S/service/qmail-maintd"
wait_log 'maintd: exiting'
kill "$svscan_pid"
svc -dx "$S/service/qmail-maintd" "$S/service/qmail-maintd/log"
sleep 0.3
tai64nlocal < "$LOG"
echo "(service directory: $S/service/qmail-maintd; log: $LOG)"

#!/bin/sh
# svc check and metrics: one -1 sweep over N service directories (the check's
# cap is 1000) with real 18-byte daemontools status files and supervise/ok
# FIFOs held open by one reader, as many supervise processes would; with
# MAINTD_PROMFILE and -N. Prints wall time and max RSS of each run.
# usage: sh tests/bench/svc.sh BUILDDIR [N]
set -eu
build=$1
n=${2:-1000}
T=$(mktemp -d /tmp/maintd-bench.XXXXXX)
reader=""
trap 'kill $reader 2>/dev/null; rm -rf "$T"' EXIT INT TERM
mkdir -p "$T/service" "$T/state" "$T/qmail/control"
echo bench.example > "$T/qmail/control/me"
# a real status file: supervise on a throwaway service
mkdir -p "$T/real"
printf '#!/bin/sh\nexec sleep 30\n' > "$T/real/run"
chmod 755 "$T/real/run"
supervise "$T/real" >/dev/null 2>&1 &
sup=$!
sleep 1
cp "$T/real/supervise/status" "$T/status"
svc -dx "$T/real"
wait $sup 2>/dev/null || true
i=0
while [ $i -lt "$n" ]; do
	d=$T/service/s$i
	mkdir -p "$d/supervise" "$d/log/supervise"
	cp "$T/status" "$d/supervise/status"
	cp "$T/status" "$d/log/supervise/status"
	mkfifo "$d/supervise/ok" "$d/log/supervise/ok"
	printf '#!/bin/sh\nexec /var/qmail/bin/qmail-smtpd\n' > "$d/run"
	i=$((i + 1))
done
# one process holds every ok FIFO open for reading
/usr/bin/python3 -c '
import os, sys, glob, time
fds = [os.open(p, os.O_RDWR) for p in glob.glob(sys.argv[1] + "/service/*/supervise/ok") + glob.glob(sys.argv[1] + "/service/*/log/supervise/ok")]
time.sleep(600)' "$T" &
reader=$!
sleep 1
run() {
	/usr/bin/time -f "%e s wall, %M KB max RSS" env MAINTD_SERVICES="$T/service" MAINTD_STATE="$T/state" \
	    QMAILHOME="$T/qmail" "$@" > "$T/out" 2> "$T/time" || true
	echo "$(tail -1 "$T/time"); $(grep -o 'ms=[0-9]*' "$T/out" | tail -1); $(grep -c '' "$T/out") lines"
}
echo "$n services (+ $n log services)"
echo "first run (no state):      $(run "$build/qmail-maintd" -1 -C svc)"
echo "second run (state):        $(run "$build/qmail-maintd" -1 -C svc)"
echo "-v:                        $(run "$build/qmail-maintd" -1 -v -C svc)"
echo "MAINTD_PROMFILE and -N:    $(MAINTD_PROMFILE=$T/m.prom run "$build/qmail-maintd" -1 -N -C svc)"
echo "promfile: $(wc -c < "$T/m.prom") bytes, $(grep -c '^qmail_svc_up' "$T/m.prom") qmail_svc_up samples; state file $(wc -c < "$T/state/svc.state") bytes"

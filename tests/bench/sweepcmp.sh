#!/bin/sh
# One -1 sweep of queue tcpto kmsg tls svc on the real queue fixture (tls: the default loopback
# targets), 7 runs for each qmail-maintd binary given, medians: a before/after comparison.
#   sh tests/bench/sweepcmp.sh OLD/qmail-maintd NEW/qmail-maintd
set -eu
cd "$(dirname "$0")/../.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/qmail/control"
python3 tests/it/queue_fixture.py prep tests/fixtures/queue-small-processed.tgz "$T/qmail"
echo mx1.example.test > "$T/qmail/control/me"
for bin in "$@"; do
	i=0
	: > "$T/ms"
	while [ $i -lt 7 ]; do
		rm -rf "$T/state"
		env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_TCPTO_PRUNE=0 \
		    MAINTD_CHECKS="queue tcpto kmsg tls svc" MAINTD_SERVICES="$T" "$bin" -1 > "$T/out" 2>&1 || true
		sed -n 's/.*sweep: done .*ms=\([0-9]*\) .*/\1/p' "$T/out" >> "$T/ms"
		i=$((i + 1))
	done
	echo "$bin: sweep ms $(sort -n "$T/ms" | tr '\n' ' ') median $(sort -n "$T/ms" | sed -n 4p)"
done

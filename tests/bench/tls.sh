#!/bin/sh
# tls check figures: one sweep over N concurrent targets (wall time, peak RSS),
# and the daemon's RSS over repeated sweeps (SIGHUP) to show it does not grow.
#   sh tests/bench/tls.sh [BUILD_DIR] [N] [SWEEPS]   (as root, after a build; N <= 32, default 30; SWEEPS default 20)
# The targets are tls_fake.py servers on loopback (smtp, submission, smtps,
# pop3, pop3s in turn), each greeting after 1 s, with a test-CA certificate.
set -eu
cd "$(dirname "$0")/../.."
B=$(cd "${1:-build}" && pwd)
N=${2:-30}
SWEEPS=${3:-20}
T=$(mktemp -d)
chmod 755 "$T"
PIDS=""
trap 'kill $PIDS 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "bench: $*" >&2; exit 1; }
SOURCE_DIR=$PWD
wait_for() {
	_n=$(($3 * 20))
	until grep -Eq -- "$2" "$1" 2>/dev/null; do
		sleep 0.05; _n=$((_n - 1)); [ $_n -gt 0 ] || return 1
	done
}
at_exit() { :; }
TLS_PIDS=""
. tests/it/libtls.sh
mkdir -p "$T/qmail/control"
echo mx1.example.test > "$T/qmail/control/me"
tls_ca "$T/ca"
tls_cert "$T/ca" "$T/good" mx1.example.test "$(tls_date '-1 day')" "$(tls_date '+365 days')"
specs="" targets=""
protos="smtp submission smtps pop3 pop3s"
i=0
while [ $i -lt "$N" ]; do
	set -- $protos
	shift $((i % 5))
	specs="$specs s$i:$1:delay=1"
	i=$((i + 1))
done
tls_fake --cert "$T/good.pem" $specs
PIDS=$TLS_PIDS
i=0
while [ $i -lt "$N" ]; do
	set -- $protos
	shift $((i % 5))
	eval "targets=\"\$targets $1://127.0.0.1:\$p_s$i\""
	i=$((i + 1))
done
export QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_TLS_SPREAD=0 MAINTD_TLS_DANE=0 \
    MAINTD_TLS_CAFILE="$T/ca/ca.pem" MAINTD_TLS_TARGETS="$targets"
/usr/bin/time -f '%e s wall, %M kB peak RSS, %U s user, %S s sys' \
    "$B/qmail-maintd" -1 -C tls > "$T/one" 2> "$T/time" || true
echo "one sweep, $N targets (each greets after 1 s): $(grep -c 'tls: ok' "$T/one") ok"
cat "$T/one" | grep -v "tls: ok" | head -20
cat "$T/time"

"$B/qmail-maintd" -C tls > "$T/log" 2>&1 < /dev/null &
pid=$!
PIDS="$PIDS $pid"
sweeps() { grep -c 'sweep: done' "$T/log" || true; }
until [ "$(sweeps)" -ge 1 ]; do kill -0 $pid || fail "daemon died"; sleep 0.1; done
# the probe process (dns and tls run there when it exists): its RSS too
probe_rss() {
	_c=$(pgrep -P $pid | head -1)
	[ -z "$_c" ] || echo "probe process $(grep VmRSS /proc/$_c/status)"
}
echo "daemon after sweep 1: $(grep VmRSS /proc/$pid/status) $(probe_rss)"
k=1
while [ $k -lt "$SWEEPS" ]; do
	kill -HUP $pid
	until [ "$(sweeps)" -gt $k ]; do sleep 0.1; done
	k=$((k + 1))
done
echo "daemon after sweep $SWEEPS: $(grep VmRSS /proc/$pid/status) $(probe_rss) ($(grep -c 'tls: ok' "$T/log") ok lines)"
kill -TERM $pid
wait $pid || true

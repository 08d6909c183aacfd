#!/bin/sh
# How late the event loop serves a 1 ms timer while a check works through a
# large input: the test-only slow check (tests/it/slowcheck.c, in
# qmail-maintd-test) ticks every 1 ms beside the check and reports the
# largest lateness it saw ("info slow: ticks n=N late_max_us=L").
# usage (as root, after tests/setup-host.sh and a RelWithDebInfo build):
#   sh tests/bench/loop.sh BUILD [MESSAGES] [KMSG_RECORDS] [DIR]
# queue: a synthetic queue of MESSAGES (default 1000000) in DIR/queue
# (default /var/tmp/maintd-bench-N, kept, as queue_bench.sh does); kmsg:
# KMSG_RECORDS (default 1000000) reads of /dev/zero (not records: every one
# counts against MAINTD_KMSG_MAXREC). The dns case is in dns.sh (LOOP=1).
# Not run by CI.
set -eu
build=$(cd "$1" && pwd)
n=${2:-1000000}
recs=${3:-1000000}
dir=${4:-/var/tmp/maintd-bench-$n}
bin=$build/tests/qmail-maintd-test
mkdir -p "$dir/control"
echo localhost > "$dir/control/me"
[ -d "$dir/queue" ] || "$build/tests/queue-gen" "$dir/queue" "$n" >/dev/null
st=$(mktemp -d)
trap 'rm -rf "$st"' EXIT

tick() {	# tick NAME CHECK MS ENV...: the ticks line beside one run of CHECK
	_name=$1 _check=$2 _ms=$3
	shift 3
	env QMAILHOME="$dir" MAINTD_STATE="$st/$_name" MAINTD_CHECKS="$_check,slow" \
	    MAINTD_SLOW_MS="$_ms" MAINTD_SLOW_TICK_MS=1 "$@" "$bin" -1 > "$st/$_name.log" || true
	printf '%-6s %s | %s\n' "$_name" "$(grep '^info slow: ticks' "$st/$_name.log")" \
	    "$(grep -E '^(info queue: stats|warn kmsg|info kmsg|info sweep: done)' "$st/$_name.log" |
	    cut -c1-100 | tr '\n' ' ')"
}
# the slow check's run is shorter than the other one's, so every tick falls inside it
tick queue queue 5000
tick kmsg kmsg 500 MAINTD_KMSG_DEVICE=/dev/zero MAINTD_KMSG_MAXREC="$recs" MAINTD_TIMEOUT_KMSG=600

#!/bin/sh
# kmsg: one run over N in-memory records (both passes of a first run without a
# cursor), and one run over the real /dev/kmsg (fresh, then from the cursor).
# Usage: sh tests/bench/kmsg.sh BUILDDIR [N]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
n=${2:-100000}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cc -O2 -D_GNU_SOURCE -I"$top/lib" -o "$t/kmsg_bench" "$top/tests/bench/kmsg_bench.c" \
    "$build/libqmaintd.a" $(pkg-config --libs libevent libcares openssl)
mkdir "$t/state" "$t/real" "$t/qmail"
"$t/kmsg_bench" "$n" "$t/state"
for run in fresh cursor; do
	/usr/bin/time -f "$run: %e s wall, %M KB max RSS" env QMAILHOME="$t/qmail" MAINTD_STATE="$t/real" \
	    "$build/qmail-maintd" -1 -C kmsg 2>&1 | grep -E 'scanned|sweep: done|RSS' || true
done

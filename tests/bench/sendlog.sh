#!/bin/sh
# sendlog: the parser and the reader over a real qmail-send log repeated to
# MB megabytes, and the memory of the caps' worst case.
# Usage: sh tests/bench/sendlog.sh BUILDDIR [MB]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
mb=${2:-100}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cc -O2 -D_GNU_SOURCE -I"$top/lib" -o "$t/sendlog_bench" "$top/tests/bench/sendlog_bench.c" \
    "$build/libqmaintd.a" $(pkg-config --libs libevent libcares openssl)
mkdir "$t/dir"
for log in queue-small-processed.qmail-send.log sqmail/qmail-send.log; do
	echo "== $log"
	"$t/sendlog_bench" "$top/tests/fixtures/$log" "$mb" "$t/dir"
	rm -rf "$t/dir"/*
done

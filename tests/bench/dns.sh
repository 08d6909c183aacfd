#!/bin/sh
# dns check figures: one sweep of 1,000 domains served by a local nsd through a
# local unbound, its wall time and queries/s, beside the same queries made one
# at a time through the same resolver (tests/bench/dnsseq.c), in the same run.
#   sh tests/bench/dns.sh [BUILD_DIR] [DOMAINS]   (as root, after a build)
# LOOP=1 also measures how late the event loop serves a 1 ms timer beside a
# sweep (the test-only slow check of qmail-maintd-test; tests/bench/loop.sh).
# Each domain: MX to the shared MX host (this server, with a TLSA record),
# an SPF record with an include, a DMARC record; self IP 192.0.2.10 with PTR.
set -eu
cd "$(dirname "$0")/../.."
B=$(cd "${1:-build}" && pwd)
N=${2:-1000}
export UB_THREADS=${UB_THREADS:-1}
export BUILD=$B SOURCE_DIR=$PWD FIXTURES=$PWD/tests/fixtures
. tests/it/lib.sh
. tests/it/lib-dns.sh

cc -O2 -Ilib -o "$T/dnsseq" tests/bench/dnsseq.c "$B/libqmaintd.a" \
    $(pkg-config --libs libevent libcares openssl)

NSD_PORT=$(free_udp_port)
UB_PORT=$(free_udp_port)
UB2_PORT=$(free_udp_port)	# a second resolver: a cold cache for the one-at-a-time run
Z=$T/nsd
mkdir -p "$Z"
{
	printf '$ORIGIN bench.test.\n$TTL 86400\n'
	printf '@ SOA ns hostmaster 1 3600 600 86400 300\n  NS ns\nns A 127.0.0.1\n'
	printf 'mx A 192.0.2.10\n_25._tcp.mx TLSA 3 1 1 %s\n' \
	    8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1
	printf '_spf TXT "v=spf1 ip4:192.0.2.0/24 -all"\n'
	i=1
	while [ $i -le "$N" ]; do
		printf 'd%d MX 10 mx\nd%d TXT "v=spf1 include:_spf.bench.test -all"\n' $i $i
		printf '_dmarc.d%d TXT "v=DMARC1; p=reject"\n' $i
		i=$((i + 1))
	done
} > "$Z/bench.test"
printf '$ORIGIN 2.0.192.in-addr.arpa.\n$TTL 86400\n@ SOA ns.bench.test. h.bench.test. 1 3600 600 86400 300\n  NS ns.bench.test.\n10 PTR mx.bench.test.\n' > "$Z/rev"
nsd_start "$NSD_PORT" bench.test bench.test 2.0.192.in-addr.arpa rev
dns_wait "$NSD_PORT" bench.test || fail "nsd did not start"
unbound_start "$UB_PORT" "$NSD_PORT" allow "" bench.test 2.0.192.in-addr.arpa
dns_wait "$UB_PORT" bench.test || fail "unbound did not start"
unbound_start "$UB2_PORT" "$NSD_PORT" allow "" bench.test 2.0.192.in-addr.arpa
dns_wait "$UB2_PORT" bench.test || fail "unbound did not start"
if [ "${LOOP:-0}" = 1 ]; then
	UB3_PORT=$(free_udp_port)	# a third: a cold cache for the lateness run
	unbound_start "$UB3_PORT" "$NSD_PORT" allow "" bench.test 2.0.192.in-addr.arpa
	dns_wait "$UB3_PORT" bench.test || fail "unbound did not start"
fi

make_qmailhome "$T/qmail" mx.bench.test
seq 1 "$N" | sed 's/^/d/; s/$/.bench.test/' > "$T/qmail/control/rcpthosts"
sweep() {
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" \
	    MAINTD_DNS_SELFIPS=192.0.2.10 /usr/bin/time -f "rss_kb=%M wall_s=%e cpu_s=%U+%S" \
	    "$B/qmail-maintd" -1 -C dns > "$T/out" 2> "$T/time" || true	# exit 1: warnings
	line=$(grep 'dns: checked' "$T/out")
	q=$(echo "$line" | sed 's/.*queries=\([0-9]*\).*/\1/')
	ms=$(echo "$line" | sed 's/.* ms=\([0-9]*\).*/\1/')
	echo "$1: $line qps=$(( q * 1000 / (ms > 0 ? ms : 1) )) $(tail -1 "$T/time")"
	[ "$(grep -c 'lookup-failed' "$T/out")" = 0 ] || { grep lookup-failed "$T/out" | head; fail "lookups failed"; }
}
echo "domains=$N machine: $(nproc) cores, $(uname -r)"
sweep "sweep, cold resolver cache"
cold_ms=$ms
sweep "sweep, warm resolver cache"
warm_ms=$ms

# loop NAME SLOW_MS: the slow check's ticks beside a sweep through the third
# resolver; its run is shorter than the dns run, so every tick falls inside it
loop() {
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state-loop" MAINTD_DNS_SERVERS="127.0.0.1:$UB3_PORT" \
	    MAINTD_DNS_SELFIPS=192.0.2.10 MAINTD_CHECKS=dns,slow MAINTD_SLOW_MS="$2" \
	    MAINTD_SLOW_TICK_MS=1 "$B/tests/qmail-maintd-test" -1 > "$T/loop" 2>&1 || true
	echo "$1: $(grep '^info slow: ticks' "$T/loop") beside $(grep 'dns: checked' "$T/loop")"
	[ "$(grep -c 'lookup-failed' "$T/loop")" = 0 ] || fail "lookups failed"
}
if [ "${LOOP:-0}" = 1 ]; then
	loop "1 ms timer, cold resolver cache" $((cold_ms * 3 / 4))
	loop "1 ms timer, warm resolver cache" $((warm_ms * 3 / 4))
fi

# the same queries, one at a time, through the second resolver: cold, then warm
{
	echo "mx.bench.test A"; echo "mx.bench.test AAAA"; echo "_25._tcp.mx.bench.test TLSA"
	echo "10.2.0.192.in-addr.arpa PTR"; echo "_spf.bench.test TXT"
	i=1
	while [ $i -le "$N" ]; do
		echo "d$i.bench.test MX"; echo "d$i.bench.test TXT"; echo "_dmarc.d$i.bench.test TXT"
		i=$((i + 1))
	done
} > "$T/queries"
for cache in cold warm; do
	echo "one at a time, $cache resolver cache: $("$T/dnsseq" "127.0.0.1:$UB2_PORT" < "$T/queries")"
done
grep -v '^info' "$T/out" | cut -d' ' -f1-3 | sort | uniq -c

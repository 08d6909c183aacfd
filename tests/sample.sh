#!/bin/sh
# Quick start 1, on a fresh Debian 12 machine as root: installs the dependencies,
# builds, and runs qmail-maintd under real svscan/supervise/multilog on a sample
# server made of
#   - the real notqmail queue fixture (messages renamed to their new inode
#     numbers, as qmail names them, and times shifted to now), with its tcpto;
#   - loopback services: a private Postfix (SMTP with STARTTLS, submission,
#     SMTPS), a private Dovecot (POP3 with STLS, POP3S) with a certificate from
#     a private test CA, and an nsd serving the sample's domain;
# sends it one SIGHUP (svc -h) and prints its log through tai64nlocal.
# Leaves nothing running; the service directory stays in /tmp/qmail-maintd-sample.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh tests/setup-host.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j "$(nproc)" > /dev/null

export BUILD="$top/build" SOURCE_DIR="$top" FIXTURES="$top/tests/fixtures"
. tests/it/lib.sh		# $T: scratch for the servers, removed at exit with them
. tests/it/lib-dns.sh
. tests/it/libtls.sh

S=/tmp/qmail-maintd-sample
if [ -d "$S" ]; then
	svc -dx "$S/service/qmail-maintd" "$S/service/qmail-maintd/log" 2>/dev/null || true
	sleep 0.5
	rm -rf "$S"
fi
mkdir -p "$S/qmail/control" "$S/service"
python3 tests/it/queue_fixture.py prep tests/fixtures/queue-small-processed.tgz "$S/qmail"
echo mx1.example.test > "$S/qmail/control/me"
echo example.test > "$S/qmail/control/rcpthosts"

# loopback services with a certificate for mx1.example.test
set -- $(tls_ports 5)
P25=$1 P587=$2 P465=$3 P110=$4 P995=$5
tls_ca "$T/ca"
tls_cert "$T/ca" "$T/mx" mx1.example.test "$(tls_date '-1 day')" "$(tls_date '+200 days')"
cat "$T/mx.pem" "$T/ca/ca.pem" > "$T/mxchain.pem"
postfix_start "$T/postfix" "$P25" "$P587" "$P465" "$T/mxchain.pem" "$T/mx.key" \
    "$T/mxchain.pem" "$T/mx.key" "$T/mxchain.pem" "$T/mx.key"
dovecot_start "$T/dovecot" "$P110" "$P995" "$T/mxchain.pem" "$T/mx.key"

# the domain's DNS, served on a loopback port (no query leaves the machine)
NSD_PORT=$(free_udp_port)
mkdir -p "$T/nsd"
cat > "$T/nsd/example.test" <<ZONE
\$ORIGIN example.test.
\$TTL 3600
@	SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
	NS ns
	MX 10 mx1
	TXT "v=spf1 mx -all"
ns	A 127.0.0.1
mx1	A 127.0.0.1
_dmarc	TXT "v=DMARC1; p=reject"
_25._tcp.mx1	TLSA 3 1 1 $(tls_spki_sha256 "$T/mx.pem")
ZONE
cat > "$T/nsd/127.in-addr.arpa" <<ZONE
\$ORIGIN 127.in-addr.arpa.
\$TTL 3600
@	SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
	NS ns.example.test.
1.0.0	PTR mx1.example.test.
ZONE
# the destinations of the queue's stuck mail, for the remote check's diagnosis:
# a null MX, an MX host without an address, no such domain (drop-c.test), an
# MX nobody answers on (port 25 of 127.0.0.9, most likely refused)
cat > "$T/nsd/test" <<ZONE
\$ORIGIN test.
\$TTL 3600
@	SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
	NS ns.example.test.
drop-a	MX 0 .
drop-b	MX 10 mx.drop-b
drop-e	MX 10 mx.drop-e
mx.drop-e	A 127.0.0.9
ZONE
nsd_start "$NSD_PORT" example.test "$T/nsd/example.test" 127.in-addr.arpa "$T/nsd/127.in-addr.arpa" \
    test "$T/nsd/test"
dns_wait "$NSD_PORT" example.test || fail "nsd did not start"

# qmail-remote's routes: tempfail.test through our own Postfix (it answers
# well: the cause is after EHLO), refused.test to a port nobody listens on
CLOSED=$(free_port)
printf '%s\n' "tempfail.test:mx1.example.test:$P25" "refused.test:127.0.0.1:$CLOSED" \
    > "$S/qmail/control/smtproutes"

build/qmail-maintd-conf qmaintd qmaill "$S/service/qmail-maintd"
E=$S/service/qmail-maintd/env
echo "$S/qmail" > "$E/QMAILHOME"
echo "127.0.0.1:$NSD_PORT" > "$E/MAINTD_DNS_SERVERS"
echo 127.0.0.1 > "$E/MAINTD_DNS_SELFIPS"
echo "smtp://127.0.0.1:$P25 submission://127.0.0.1:$P587 smtps://127.0.0.1:$P465 pop3://127.0.0.1:$P110 pop3s://127.0.0.1:$P995" > "$E/MAINTD_TLS_TARGETS"
echo "$T/ca/ca.pem" > "$E/MAINTD_TLS_CAFILE"
echo 1 > "$E/MAINTD_TLS_SPREAD"
echo "$S/service" > "$E/MAINTD_SERVICES"
echo 60 > "$E/MAINTD_STUCK_AGE"		# the fixture's mail is minutes old: stuck after one

svscan "$S/service" > /dev/null 2>&1 &
at_exit "kill $!; svc -dx '$S/service/qmail-maintd' '$S/service/qmail-maintd/log'; sleep 0.3"
LOG=$S/service/qmail-maintd/log/main/current
wait_for "$LOG" 'sweep: done reason=start' 60 || fail "no start sweep in $LOG"
svc -h "$S/service/qmail-maintd"
wait_for "$LOG" 'sweep: done reason=hup' 60 || fail "no hup sweep in $LOG"
svc -d "$S/service/qmail-maintd"
wait_for "$LOG" 'maintd: exiting' 5 || fail "no exiting line"
sleep 0.2
tai64nlocal < "$LOG"
echo "(service directory: $S/service/qmail-maintd; log: $LOG)"

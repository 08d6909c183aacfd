#!/bin/sh
# The remote side of stuck mail (issue 16, items 3 and 4): the `remote`
# check diagnoses the domains the queue check finds stuck, the way an
# operator would by hand. In a network namespace of the test's own: a real
# nsd serves a DNSSEC-signed test. zone whose MX hosts are loopback
# addresses, behind a real validating unbound (the test's trust anchor; the
# check's MAINTD_DNS_SERVERS); behind the MX hosts a real Postfix without
# STARTTLS (127.0.0.2), one with a certificate for another name (.3), a
# server answering 421 at the greeting (.4, smtp421.py; the MX of busy.test
# and busy2.test), nothing (.5: refused), connects dropped by nftables (.6),
# a real Postfix with a valid certificate (.7, also the smtproutes relay on
# port 2525), an address qmail-remote skips in queue/lock/tcpto (.8), Postfix
# greeting with 554 (.9), refusing EHLO (.10), serving a self-signed
# certificate (.11), an expired one (.12), a self-signed one for another
# name that the MX's validated TLSA 3 1 1 record matches (.13), and a valid
# one that its validated TLSA record does not match (.14); and a null MX, no
# MX, an MX host without addresses, a domain whose first MX refuses.
# control/smtproutes: a domain, a .suffix, an empty relay (the MX) before a
# suffix that would route it, a [bracketed]:port address relay. A queue
# (bench generator, recipients rewritten) has recipients to each of them.
# Asserts each stuck-diagnosis line, smtproutes, DANE only with the
# resolver's AD bit (the same records straight from nsd are ignored), no DNS
# question for an address relay, at most MAINTD_STUCK_PROBES domains per run
# and the oldest first, none twice within MAINTD_STUCK_INTERVAL (across -1
# runs sharing MAINTD_STATE and across the sweeps of one daemon),
# MAINTD_STUCK_PROBES=0 opens no connection and asks no DNS question (nft
# counters, server logs), EHLO with control/helohost (none after a 5xx
# greeting, no STARTTLS after a refused EHLO), never MAIL FROM, one
# connection at a time to a host, no packet to the address in queue/lock/tcpto.
if [ -z "${STUCK_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "skip: not root (a network namespace, nftables, Postfix)"; exit 77; }
	command -v unshare >/dev/null && command -v ip >/dev/null ||
	    { echo "FAIL: unshare and ip (util-linux, iproute2) are needed" >&2; exit 1; }
	unshare -n true 2>/dev/null || { echo "skip: unshare -n is not permitted here"; exit 77; }
	STUCK_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up || { echo "FAIL: no loopback in the namespace" >&2; exit 1; }
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-dns.sh"
. "$SOURCE_DIR/tests/it/libtls.sh"
command -v nft >/dev/null || fail "nft is needed (tests/deps/tls.txt: nftables)"
T0=$(date +%s)

H=$T/qmail
make_qmailhome "$H" mx1.example.test
echo probe.helo.test > "$H/control/helohost"
# smtproutes: routed.test goes to a relay on port 2525 (its MX would say
# no-starttls); every .suffix.test to relay.suffix.test, port 25 (their MX
# would say ok) but direct.suffix.test, whose empty relay is its MX (the
# first key qmail-remote finds decides); bracket.test to an address relay
printf '%s\n' 'routed.test:relay.routed.test:2525' '.suffix.test:relay.suffix.test' \
    'direct.suffix.test:' 'bracket.test:[127.0.0.7]:2525' > "$H/control/smtproutes"
chmod 644 "$H/control/helohost" "$H/control/smtproutes"

# --- certificates: the test CA is MAINTD_TLS_CAFILE
tls_ca "$T/ca"
now=$(tls_date '-1 day')
year=$(tls_date '+365 days')
tls_cert "$T/ca" "$T/good" mx.good.test,relay.routed.test "$now" "$year"
tls_cert "$T/ca" "$T/wrong" other.example.test "$now" "$year"
tls_cert "$T/ca" "$T/expired" mx.expired.test "$(tls_date '-60 days')" "$(tls_date '-1 day')"
tls_cert "$T/ca" "$T/danebad" mx.danebad.test "$now" "$year"
tls_selfsigned "$T/selfsigned" mx.selfsigned.test
tls_selfsigned "$T/daneee" dane-ee.other.test	# what only a TLSA record vouches for
chmod 644 "$T/ca/ca.pem"

# --- DNS: one zone, test., DNSSEC-signed, served by nsd; a validating
# unbound (the zone's DS as its trust anchor) in front of it is the check's
# MAINTD_DNS_SERVERS: its answers carry the AD bit, nsd's never do
NSD_PORT=$(free_udp_port)
UB_PORT=$(free_udp_port)
mkdir -p "$T/nsd"
cat > "$T/nsd/test" <<ZONE
\$ORIGIN test.
\$TTL 3600
@	SOA ns.test. hostmaster.test. 1 3600 600 86400 300
	NS ns
ns	A 127.0.0.1
notls	MX 10 mx.notls
mx.notls	A 127.0.0.2
badname	MX 10 mx.badname
mx.badname	A 127.0.0.3
busy	MX 10 mx.busy
busy2	MX 10 mx.busy
mx.busy	A 127.0.0.4
refused	MX 10 mx.refused
mx.refused	A 127.0.0.5
dropped	MX 10 mx.dropped
mx.dropped	A 127.0.0.6
good	MX 10 mx.good
mx.good	A 127.0.0.7
nullmx	MX 0 .
unresolvable	MX 10 mx.unresolvable
mx.unresolvable	TXT "an MX host without addresses"
routed	MX 10 mx.notls
relay.routed	A 127.0.0.7
skipped	MX 10 mx.skipped
mx.skipped	A 127.0.0.8
fallback	MX 10 mx.refused
fallback	MX 20 mx.good
fresh	MX 10 mx.good
rejected	MX 10 mx.rejected
mx.rejected	A 127.0.0.9
ehlorej	MX 10 mx.ehlorej
mx.ehlorej	A 127.0.0.10
selfsigned	MX 10 mx.selfsigned
mx.selfsigned	A 127.0.0.11
expired	MX 10 mx.expired
mx.expired	A 127.0.0.12
danematch	MX 10 mx.danematch
mx.danematch	A 127.0.0.13
_25._tcp.mx.danematch	TLSA 3 1 1 $(tls_spki_sha256 "$T/daneee.pem")
danebad	MX 10 mx.danebad
mx.danebad	A 127.0.0.14
_25._tcp.mx.danebad	TLSA 3 1 1 $(tls_spki_sha256 "$T/wrong.pem")
relay.suffix	A 127.0.0.2
sub.suffix	MX 10 mx.good
direct.suffix	MX 10 mx.good
bracket	MX 10 mx.notls
ZONE
dns_sign "$T/nsd/test" test
[ -s "$T/nsd/test.signed" ] && [ -s "$T/nsd/test.ta" ] || fail "ldns-signzone: no signed zone"
nsd_start "$NSD_PORT" test test.signed
dns_wait "$NSD_PORT" test || { cat "$T/nsd/nsd.log" "$T/nsd/stdout" >&2; fail "nsd did not start"; }
unbound_start "$UB_PORT" "$NSD_PORT" allow "$T/nsd/test.ta" test
dns_wait "$UB_PORT" test || { cat "$UB_DIR/unbound.log" "$UB_DIR/stdout" >&2; fail "unbound did not start"; }
dig +short -p "$UB_PORT" @127.0.0.1 MX fallback.test | sort | tr '\n' ' ' |
    grep -qx '10 mx.refused.test. 20 mx.good.test. ' || fail "unbound: the MX set of fallback.test"
dig -p "$UB_PORT" @127.0.0.1 MX nomx.test | grep -q 'status: NXDOMAIN' || fail "unbound: nomx.test"
# the TLSA answers: validated (AD) through unbound, not from nsd itself
dig +dnssec -p "$UB_PORT" @127.0.0.1 TLSA _25._tcp.mx.danematch.test > "$T/tlsa.ub"
grep -q 'flags:.* ad[ ;]' "$T/tlsa.ub" && grep -q 'TLSA.*3 1 1 ' "$T/tlsa.ub" ||
    { cat "$T/tlsa.ub" "$UB_DIR/unbound.log" >&2; fail "unbound: no validated TLSA for mx.danematch.test"; }
dig +dnssec -p "$NSD_PORT" @127.0.0.1 TLSA _25._tcp.mx.danebad.test > "$T/tlsa.nsd"
! grep -q 'flags:.* ad[ ;]' "$T/tlsa.nsd" && grep -q 'TLSA.*3 1 1 ' "$T/tlsa.nsd" ||
    { cat "$T/tlsa.nsd" >&2; fail "nsd: TLSA of mx.danebad.test, without AD"; }
pass "nsd serves the signed test. on port $NSD_PORT, unbound validates it on port $UB_PORT"

# --- Postfix: one instance, a listener per address (its own smtpd settings),
# every SMTP command logged (debug_peer_list) to show EHLO and no MAIL FROM
dbg="-o debug_peer_list=127.0.0.0/8"
POSTFIX_EXTRA="127.0.0.2:25 inet n - n - - smtpd -o smtpd_tls_security_level=none -o myhostname=mx.notls.test $dbg
127.0.0.3:25 inet n - n - - smtpd -o smtpd_tls_cert_file=$T/wrong.pem -o smtpd_tls_key_file=$T/wrong.key -o myhostname=mx.badname.test $dbg
127.0.0.7:25 inet n - n - - smtpd -o smtpd_tls_cert_file=$T/good.pem -o smtpd_tls_key_file=$T/good.key -o myhostname=mx.good.test $dbg
127.0.0.7:2525 inet n - n - - smtpd -o smtpd_tls_cert_file=$T/good.pem -o smtpd_tls_key_file=$T/good.key -o myhostname=relay.routed.test $dbg
127.0.0.9:25 inet n - n - - smtpd -o smtpd_delay_reject=no -o smtpd_client_restrictions=reject -o myhostname=mx.rejected.test -o syslog_name=pf-rejected $dbg
127.0.0.10:25 inet n - n - - smtpd -o smtpd_delay_reject=no -o smtpd_helo_restrictions=reject -o myhostname=mx.ehlorej.test -o syslog_name=pf-ehlorej $dbg
127.0.0.11:25 inet n - n - - smtpd -o smtpd_tls_cert_file=$T/selfsigned.pem -o smtpd_tls_key_file=$T/selfsigned.key -o myhostname=mx.selfsigned.test $dbg
127.0.0.12:25 inet n - n - - smtpd -o smtpd_tls_cert_file=$T/expired.pem -o smtpd_tls_key_file=$T/expired.key -o myhostname=mx.expired.test $dbg
127.0.0.13:25 inet n - n - - smtpd -o smtpd_tls_cert_file=$T/daneee.pem -o smtpd_tls_key_file=$T/daneee.key -o myhostname=mx.danematch.test $dbg
127.0.0.14:25 inet n - n - - smtpd -o smtpd_tls_cert_file=$T/danebad.pem -o smtpd_tls_key_file=$T/danebad.key -o myhostname=mx.danebad.test $dbg"
set -- $(tls_ports 3)
postfix_start "$T/postfix" "$1" "$2" "$3" "$T/good.pem" "$T/good.key" \
    "$T/good.pem" "$T/good.key" "$T/good.pem" "$T/good.key"
ML=$T/postfix/maillog

# --- the 421 server
python3 "$SOURCE_DIR/tests/it/smtp421.py" "$T/busy.log" 127.0.0.4:25 > "$T/busy.out" 2>&1 &
at_exit "kill $!"
wait_for "$T/busy.log" '^ready$' 20 || { cat "$T/busy.out" >&2; fail "smtp421.py did not start"; }

# --- nftables, in this namespace: .6 drops SYNs; named counters of the
# connections to the test's SMTP addresses and of the questions to nsd
NFT=maintd_stuck
nft -f - <<NFT || fail "nft rules"
table inet $NFT {
	counter syns { }
	counter dnsq { }
	counter tcpto { }
	counter dropped { }
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr 127.0.0.2-127.0.0.254 tcp dport { 25, 2525 } tcp flags & (syn | ack) == syn counter name syns
		ip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport { $NSD_PORT, $UB_PORT } counter name dnsq
		ip daddr 127.0.0.8 counter name tcpto
		ip daddr 127.0.0.6 tcp dport 25 counter name dropped drop
	}
}
NFT
at_exit "nft delete table inet $NFT"
nft_count() { nft list counter inet $NFT "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

# --- the queue: the generator's layout, remote/ recipients rewritten; the
# stuck domains' oldest pending recipients (info/ mtime, minutes) all differ
"$BUILD/tests/queue-gen" "$H/queue" 60 23
# queue/lock/tcpto (queue-gen made it empty): qmail-remote skips 127.0.0.8 (3 timeouts, a minute ago)
python3 - "$H/queue/lock/tcpto" <<'PY'
import struct, sys, time
rec = bytes([127, 0, 0, 8, 3, 0, 0, 0]) + struct.pack("<I", int(time.time()) - 60) + bytes(4)
open(sys.argv[1], "wb").write(rec + bytes(1024 - len(rec)))
PY
chown qmailr:qmail "$H/queue/lock/tcpto"
chmod 644 "$H/queue/lock/tcpto"

STUCK_AGE=3600
# domain and age in minutes, the oldest first: the order of diagnosis (the
# first three are diagnosed alone, with MAINTD_STUCK_AGE, in section 5)
cat > "$T/domains" <<'EOF'
bracket.test 2300
danematch.test 2250
danebad.test 2200
notls.test 2000
badname.test 1950
busy.test 1900
busy2.test 1875
refused.test 1850
dropped.test 1800
good.test 1750
nullmx.test 1700
nomx.test 1650
unresolvable.test 1600
routed.test 1550
skipped.test 1500
fallback.test 1450
rejected.test 1425
ehlorej.test 1400
selfsigned.test 1375
expired.test 1350
sub.suffix.test 1325
direct.suffix.test 1300
EOF
ND=$(wc -l < "$T/domains")
python3 - "$H/queue" "$T/domains" <<'PY'
import os, sys, time
q, doms = sys.argv[1], [l.split() for l in open(sys.argv[2])]
now = time.time()
msgs = []
for s in sorted(os.listdir(os.path.join(q, "info")), key=int):
    for n in sorted(os.listdir(os.path.join(q, "info", s)), key=int):
        r = os.path.join(q, "remote", s, n)
        if os.path.exists(r):
            msgs.append((os.path.join(q, "info", s, n), r))
plan = [("T%d@%s\0Dgone@%s\0" % (i, d, d), int(m)) for i, (d, m) in enumerate(doms)]
plan.append(("Tyoung@good.test\0", 3))		# a domain's oldest recipient counts
plan.append(("Dold@fresh.test\0", 9000))	# delivered: not stuck
if len(msgs) < len(plan) + 2:
    sys.exit("queue-gen made %d messages with remote/, %d needed" % (len(msgs), len(plan) + 2))
for (info, remote), (recs, mins) in zip(msgs, plan):
    with open(remote, "w", encoding="latin-1") as f:
        f.write(recs)
    t = now - mins * 60
    os.utime(info, (t, t))
for info, remote in msgs[len(plan):]:	# the rest: young, to a domain that is not stuck
    with open(remote, "w") as f:
        f.write("Tx@fresh.test\0")
    t = now - 120
    os.utime(info, (t, t))
PY
pass "queue: $ND stuck domains, fresh.test not stuck"

# run NAME [VAR=VALUE...]: one -1 sweep of queue and remote; output in $T/NAME,
# exit status in $rc; its stuck-diagnosis lines (domain result) in $T/NAME.diag
run() {
	_n=$1
	shift
	rc=0
	env QMAILHOME="$H" MAINTD_STATE="$T/state" MAINTD_STUCK_AGE=$STUCK_AGE \
	    MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" MAINTD_TLS_CAFILE="$T/ca/ca.pem" \
	    MAINTD_TLS_TIMEOUT=3 "$@" timeout 60 "$MAINTD" -1 -v -C queue,remote \
	    > "$T/$_n" 2> "$T/$_n.err" || rc=$?
	[ ! -s "$T/$_n.err" ] || { cat "$T/$_n.err" >&2; fail "$_n: stderr output"; }
	check_grammar "$T/$_n"
	sed -n 's/^warn queue: stuck-diagnosis domain=\([^ ]*\) .*result=\([a-z0-9-]*\).*/\1 \2/p' \
	    "$T/$_n" > "$T/$_n.diag"
}
# diag_domains NAME: the diagnosed domains of run NAME, sorted, on one line
# (the diagnoses of a run go on side by side: lines come as each one ends)
diag_domains() { cut -d' ' -f1 "$T/$1.diag" | sort | tr '\n' ' ' | sed 's/ $//'; }
# oldest K N: domains K..K+N-1 (from 1, the oldest) of $T/domains, sorted, on one line
oldest() { sed -n "$1,$(($1 + $2 - 1))p" "$T/domains" | cut -d' ' -f1 | sort | tr '\n' ' ' | sed 's/ $//'; }
busy_conns() { count "$T/busy.log" '^connect '; }
pf_conns() { count "$ML" 'smtpd\[[0-9]+\]: connect from '; }

# STUCK_SCAFFOLD='COMMANDS': only the scaffolding, then COMMANDS (to debug by hand)
[ -z "${STUCK_SCAFFOLD:-}" ] || { eval "$STUCK_SCAFFOLD"; exit 0; }

# ---------------------------------------------------------------------------
# 1. every domain: MAINTD_STUCK_PROBES=10 (the most), a long interval: the
# ten oldest, then the next ten, then the rest; then no limit
# (MAINTD_STUCK_INTERVAL=0): the oldest again
syn0=$(nft_count syns) dns0=$(nft_count dnsq)
run all MAINTD_STUCK_PROBES=10 MAINTD_STUCK_INTERVAL=100000
grep -E '^warn queue: stuck(-diagnosis)? ' "$T/all" || :
[ "$rc" = 1 ] || { cat "$T/all" >&2; fail "all: exit $rc, want 1 (warnings)"; }
n=$(count "$T/all" '^warn queue: stuck domain=')
[ "$n" = "$ND" ] || fail "all: $n stuck lines, want $ND"
[ "$(count "$T/all" '^warn queue: stuck.* domain=fresh\.test ')" = 0 ] || fail "fresh.test is not stuck"
grep -q "^warn queue: stuck domain=good.test recipients=2 oldest=10[45][0-9][0-9][0-9]\( \|\$\)" "$T/all" ||
    fail "good.test: $(grep 'stuck domain=good.test' "$T/all")"
[ "$(diag_domains all)" = "$(oldest 1 10)" ] || fail "all: diagnosed '$(diag_domains all)', want '$(oldest 1 10)'"
pass "MAINTD_STUCK_PROBES=10: the 10 oldest stuck domains, oldest first, fresh.test not at all"
cp "$T/all" "$T/lines"
i=11
for r in all2 all3; do
	run $r MAINTD_STUCK_PROBES=10 MAINTD_STUCK_INTERVAL=100000
	n=$((ND - i + 1))
	[ $n -le 10 ] || n=10
	[ "$(diag_domains $r)" = "$(oldest $i $n)" ] || fail "$r: '$(diag_domains $r)', want '$(oldest $i $n)'"
	cat "$T/$r" >> "$T/lines"
	i=$((i + n))
done
[ $i = $((ND + 1)) ] || fail "the test has more than 30 domains: more runs of 10 are needed"
pass "the next runs: the next ten, then the $((ND - 20)) left, none of the first ones again"
# every stuck domain diagnosed within the interval: no work, and the root
# process opens neither control/smtproutes, control/helohost nor the tcpto
# table; the next run, with work, opens all three (the grep can fail)
traced() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    run "$@" strace -f -y -e trace=openat -o "$T/$1.trace"; }
opened() { count "$T/$1.trace" 'openat\(.*, "([^"]*/)?(smtproutes|helohost|tcpto)", '; }
traced none MAINTD_STUCK_PROBES=10 MAINTD_STUCK_INTERVAL=100000
[ ! -s "$T/none.diag" ] || fail "none: diagnosed $(diag_domains none) within the interval"
[ "$(opened none)" = 0 ] || { grep -E '(smtproutes|helohost|tcpto)"' "$T/none.trace"; fail "none: files read for no work"; }
pass "nothing due: no diagnosis, and smtproutes, helohost and tcpto not even opened"
traced again MAINTD_STUCK_PROBES=2 MAINTD_STUCK_INTERVAL=0
[ "$(diag_domains again)" = "$(oldest 1 2)" ] || fail "again: '$(diag_domains again)', want '$(oldest 1 2)'"
[ "$(opened again)" = 3 ] || { cat "$T/again.trace"; fail "again: $(opened again) of the 3 files opened"; }
pass "MAINTD_STUCK_INTERVAL=0: no limit, the oldest diagnosed again (and the 3 files opened)"

# has DOMAIN REGEX: exactly one stuck-diagnosis line of DOMAIN, matching
# ^warn queue: stuck-diagnosis domain=DOMAIN REGEX( .*)?$
has() {
	_l=$(grep "^warn queue: stuck-diagnosis domain=$1 " "$T/lines") || fail "no stuck-diagnosis line for $1"
	[ "$(printf '%s\n' "$_l" | wc -l)" = 1 ] || fail "$1: more than one line: $_l"
	printf '%s\n' "$_l" | grep -Eq "^warn queue: stuck-diagnosis domain=$1 $2( .*)?\$" ||
	    fail "$1: '$_l' does not match '$2'"
	pass "$_l"
}
has notls.test 'mx=mx\.notls\.test ip=127\.0\.0\.2 result=no-starttls'
has badname.test 'mx=mx\.badname\.test ip=127\.0\.0\.3 result=cert-name-mismatch'
has busy.test 'mx=mx\.busy\.test ip=127\.0\.0\.4 result=greeting-4xx reply="421 4\.3\.2 mx\.busy\.test Service not available, too busy; try later"'
has busy2.test 'mx=mx\.busy\.test ip=127\.0\.0\.4 result=greeting-4xx reply="421 [^"]*"'
has refused.test 'mx=mx\.refused\.test ip=127\.0\.0\.5 result=refused'
has dropped.test 'mx=mx\.dropped\.test ip=127\.0\.0\.6 result=connect-timeout'
has good.test 'mx=mx\.good\.test ip=127\.0\.0\.7 result=ok'
has nullmx.test 'result=null-mx'
has nomx.test 'result=no-mx'
has unresolvable.test 'mx=mx\.unresolvable\.test result=mx-unresolvable'
has routed.test 'relay=relay\.routed\.test ip=127\.0\.0\.7 port=2525 result=ok'
has skipped.test 'mx=mx\.skipped\.test ip=127\.0\.0\.8 result=tcpto-skipped tcpto=skipped'
has fallback.test 'mx=mx\.good\.test ip=127\.0\.0\.7 result=ok'
has rejected.test 'mx=mx\.rejected\.test ip=127\.0\.0\.9 result=greeting-5xx reply="554 5\.7\.1 <[^"]*\[127\.0\.0\.[0-9]+\]>: Client host rejected: Access denied"'
has ehlorej.test 'mx=mx\.ehlorej\.test ip=127\.0\.0\.10 result=ehlo-rejected reply="554 5\.7\.1 <probe\.helo\.test>: Helo command rejected: Access denied"'
has selfsigned.test 'mx=mx\.selfsigned\.test ip=127\.0\.0\.11 result=cert-untrusted reason="self[- ]signed certificate"'
has expired.test 'mx=mx\.expired\.test ip=127\.0\.0\.12 result=cert-expired'
# DANE-EE (3 1 1), validated: the certificate is self-signed and for another
# name, and that does not matter (RFC 7672 3.1.1); no reason= left from PKIX
has danematch.test 'mx=mx\.danematch\.test ip=127\.0\.0\.13 result=ok dane=match'
# a certificate PKIX would take, the validated TLSA record does not match
has danebad.test 'mx=mx\.danebad\.test ip=127\.0\.0\.14 result=dane-mismatch reason="[Nn]o matching DANE TLSA records"'
# .suffix.test: the relay (port 25), not the MX (mx.good.test: ok)
has sub.suffix.test 'relay=relay\.suffix\.test ip=127\.0\.0\.2 port=25 result=no-starttls'
# direct.suffix.test: its own empty relay is found first: the MX, no relay
has direct.suffix.test 'mx=mx\.good\.test ip=127\.0\.0\.7 result=ok'
# [127.0.0.7]:2525: the address, port 2525 (its MX, mx.notls.test, would say
# no-starttls); the name checked is the relay as written, an address the
# certificate (mx.good.test, relay.routed.test) is not for
has bracket.test 'relay=127\.0\.0\.7 ip=127\.0\.0\.7 port=2525 result=cert-name-mismatch'
for d in nullmx nomx unresolvable; do
	! grep "stuck-diagnosis domain=$d.test .* ip=" "$T/lines" || fail "$d.test: an ip= without an address"
done
for d in nullmx nomx; do
	! grep "stuck-diagnosis domain=$d.test .* mx=" "$T/lines" || fail "$d.test: an mx= without an MX"
done
for d in routed sub.suffix bracket; do
	! grep "stuck-diagnosis domain=$d.test .* mx=" "$T/lines" || fail "$d.test: mx= on a routed domain"
done
! grep -E 'stuck-diagnosis domain=direct\.suffix\.test .* (relay|port)=' "$T/lines" ||
    fail "direct.suffix.test: its empty relay is the MX, not the suffix's relay"
for d in danebad selfsigned expired rejected ehlorej; do
	! grep "stuck-diagnosis domain=$d.test .* dane=" "$T/lines" || fail "$d.test: dane="
done

# the servers' side: EHLO with control/helohost, never MAIL FROM; not a
# packet to the address in queue/lock/tcpto; the dropped address got SYNs
syn1=$(nft_count syns) dns1=$(nft_count dnsq)
grep -q ': < [^ ]*: EHLO probe\.helo\.test$' "$ML" || {
	grep ': < ' "$ML" >&2
	fail "Postfix saw no EHLO probe.helo.test"
}
! grep -Ei ': < [^ ]*: (HELO|EHLO) ' "$ML" | grep -v 'EHLO probe\.helo\.test$' || fail "another HELO/EHLO"
! grep -Ei ': < [^ ]*: (MAIL|RCPT|DATA)' "$ML" || fail "MAIL, RCPT or DATA sent to Postfix"
! grep -E ' disconnect from .* (mail|rcpt|data)=' "$ML" || fail "Postfix counted a MAIL, RCPT or DATA"
grep -Eq ' disconnect from .* ehlo=[12] starttls=1 quit=1 commands=[34]$' "$ML" ||
    fail "no EHLO, STARTTLS, QUIT dialogue in the Postfix log"
grep -Eq ' disconnect from .* ehlo=1 quit=1 commands=2$' "$ML" ||
    fail "no EHLO, QUIT dialogue (the server without STARTTLS) in the Postfix log"
! grep -Ei '^line [^ ]* (MAIL|RCPT|DATA|HELO|EHLO)' "$T/busy.log" || fail "commands after the 421 greeting"
# the 554 greeting (syslog_name pf-rejected): QUIT, no EHLO; the refused
# EHLO (pf-ehlorej): QUIT after it, no STARTTLS
grep -Eq ' pf-rejected/smtpd\[[0-9]+\]: > [^ ]*: 554 5\.7\.1 ' "$ML" || fail "no 554 greeting in the Postfix log"
grep -Eq ' pf-rejected/smtpd\[[0-9]+\]: < [^ ]*: QUIT$' "$ML" || fail "no QUIT after the 554 greeting"
! grep -Ei ' pf-rejected/smtpd\[[0-9]+\]: < [^ ]*: (HELO|EHLO|STARTTLS|MAIL)' "$ML" || fail "a command after the 554 greeting"
grep -Eq ' pf-ehlorej/smtpd\[[0-9]+\]: > [^ ]*: 554 5\.7\.1 <probe\.helo\.test>: Helo command rejected' "$ML" ||
    fail "no EHLO refused in the Postfix log"
grep -Eq ' pf-ehlorej/smtpd\[[0-9]+\]: < [^ ]*: QUIT$' "$ML" || fail "no QUIT after the refused EHLO"
! grep -Ei ' pf-ehlorej/smtpd\[[0-9]+\]: < [^ ]*: (STARTTLS|MAIL)' "$ML" || fail "STARTTLS or MAIL after the refused EHLO"
[ "$(count "$T/busy.log" '^connect ')" -ge 1 ] || fail "no connection to the 421 server"
# busy.test and busy2.test share their MX, diagnosed in the same run: one
# connection at a time to a remote host (the server greets after 0.5 s)
! grep -v ' open=1$' "$T/busy.log" | grep '^connect ' ||
    fail "two connections at a time to 127.0.0.4"
[ "$(nft_count tcpto)" = 0 ] || fail "$(nft_count tcpto) packets to 127.0.0.8, the address qmail-remote skips"
[ "$(nft_count dropped)" -ge 1 ] || fail "connect-timeout, but no SYN to 127.0.0.6 was dropped"
syn_all=$((syn1 - syn0))
[ "$syn_all" -ge 8 ] || fail "the nft counter saw $syn_all SYNs for these runs: the count below proves nothing"
[ $((dns1 - dns0)) -ge 10 ] || fail "the nft counter saw $((dns1 - dns0)) DNS questions"
pass "EHLO probe.helo.test, STARTTLS, QUIT; no MAIL FROM; none to the skipped address; $syn_all SYNs, $((dns1 - dns0)) DNS questions"

# ---------------------------------------------------------------------------
# 2. politeness: MAINTD_STUCK_PROBES=3 and a long interval, remembered in
# MAINTD_STATE across -1 runs: 3 domains a run, the oldest first, then none
rm -rf "$T/state"
i=1
r=0
while :; do
	r=$((r + 1))
	run p$r MAINTD_STUCK_PROBES=3 MAINTD_STUCK_INTERVAL=100000
	n=$((ND - i + 1))
	[ $n -le 3 ] || n=3
	[ $n -ge 0 ] || n=0
	want=$(oldest $i $n)
	[ "$(diag_domains p$r)" = "$want" ] || fail "p$r: diagnosed '$(diag_domains p$r)', want '$want'"
	[ "$(count "$T/p$r" '^warn queue: stuck domain=')" = "$ND" ] || fail "p$r: the stuck lines"
	[ $n -gt 0 ] || break
	i=$((i + 3))
done
[ ! -s "$T/p$r.diag" ] || fail "p$r: a domain diagnosed twice within the interval"
for k in $(seq 1 $r); do cat "$T/p$k.diag"; done > "$T/p.all"
cut -d' ' -f1 "$T/p.all" | sort | uniq -d | grep . && fail "a domain diagnosed twice"
pass "MAINTD_STUCK_PROBES=3: 3 domains a run ($((r - 1)) runs), oldest first; none twice within MAINTD_STUCK_INTERVAL"
# the same results as in the unlimited runs
sort "$T/p.all" > "$T/p.sorted"
cat "$T/all.diag" "$T/all2.diag" "$T/all3.diag" | sort | cmp - "$T/p.sorted" || fail "other results in p1..p$r"

# ---------------------------------------------------------------------------
# 3. the daemon: one process, sweeps forced with SIGHUP; a domain diagnosed
# in one sweep is not diagnosed again in the next
rm -rf "$T/state-d"
mkdir -p "$T/state-d"
env QMAILHOME="$H" MAINTD_STATE="$T/state-d" MAINTD_CHECKS=queue,remote MAINTD_STUCK_AGE=$STUCK_AGE \
    MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" MAINTD_TLS_CAFILE="$T/ca/ca.pem" MAINTD_TLS_TIMEOUT=3 \
    MAINTD_STUCK_PROBES=5 MAINTD_STUCK_INTERVAL=100000 "$MAINTD" > "$T/daemon" 2>&1 &
dpid=$!
at_exit "kill $dpid 2>/dev/null"
wait_for "$T/daemon" 'sweep: done reason=start' 30 || { cat "$T/daemon" >&2; fail "daemon: no first sweep"; }
kill -HUP $dpid
wait_for "$T/daemon" 'sweep: done reason=hup' 30 || { cat "$T/daemon" >&2; fail "daemon: no second sweep"; }
# qmail-maintd -s: the diagnoses as the queue's, with their "what to do"
MAINTD_STATE="$T/state-d" "$MAINTD" -s > "$T/status" 2>&1 || :
[ "$(grep -c '^  warn queue: stuck-diagnosis domain=' "$T/status")" = 10 ] ||
    { cat "$T/status" >&2; fail "-s: not the 10 diagnoses as queue: findings"; }
grep -q '^      what to do: follow the result' "$T/status" || { cat "$T/status" >&2; fail "-s: no advice"; }
! grep -q 'remote: stuck-diagnosis' "$T/status" || fail "-s: the check's name instead of queue"
kill -TERM $dpid
wait $dpid || :
check_grammar "$T/daemon"
awk '/sweep: done reason=start/ { n = 1 } /stuck-diagnosis/ { print n + 0, $0 }' "$T/daemon" > "$T/d.lines"
d1=$(awk '$1 == 0' "$T/d.lines" | sed 's/.* domain=\([^ ]*\) .*/\1/' | sort | tr '\n' ' ' | sed 's/ $//')
d2=$(awk '$1 == 1' "$T/d.lines" | sed 's/.* domain=\([^ ]*\) .*/\1/' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$d1" = "$(oldest 1 5)" ] || { cat "$T/daemon" >&2; fail "daemon, first sweep: '$d1', want '$(oldest 1 5)'"; }
[ "$d2" = "$(oldest 6 5)" ] || { cat "$T/daemon" >&2; fail "daemon, second sweep: '$d2', want '$(oldest 6 5)'"; }
pass "the daemon: 5 domains a sweep, the next 5 after SIGHUP, none twice"

# ---------------------------------------------------------------------------
# 4. MAINTD_STUCK_PROBES=0: the stuck lines, no diagnosis, no connection, no
# DNS question (a fresh state and no interval: nothing else would hold it back)
syn0=$(nft_count syns) dns0=$(nft_count dnsq) busy0=$(busy_conns) pf0=$(pf_conns)
run off MAINTD_STUCK_PROBES=0 MAINTD_STUCK_INTERVAL=0 MAINTD_STATE="$T/state-off"
[ "$rc" = 1 ] || fail "off: exit $rc, want 1"
[ "$(count "$T/off" '^warn queue: stuck domain=')" = "$(wc -l < "$T/domains")" ] || fail "off: the stuck lines"
[ "$(count "$T/off" 'stuck-diagnosis')" = 0 ] || fail "off: a stuck-diagnosis line"
sleep 1	# Postfix logs a connection asynchronously
[ "$(nft_count syns)" = "$syn0" ] || fail "off: $(($(nft_count syns) - syn0)) connections"
[ "$(nft_count dnsq)" = "$dns0" ] || fail "off: $(($(nft_count dnsq) - dns0)) DNS questions"
[ "$(busy_conns)" = "$busy0" ] && [ "$(pf_conns)" = "$pf0" ] || fail "off: the servers saw connections"
pass "MAINTD_STUCK_PROBES=0: no connection, no DNS question, no diagnosis"

# ---------------------------------------------------------------------------
# 5. alone (MAINTD_STUCK_AGE past every other domain's age, a state of its
# own): bracket.test, routed to [127.0.0.7]:2525, asks no DNS question (not
# its MX, not the relay's name: the address is the relay) and connects to
# 127.0.0.7 port 2525; then with the three oldest and nsd itself as
# MAINTD_DNS_SERVERS (the same TLSA records without the AD bit): DANE is
# ignored, the certificate decides
syn0=$(nft_count syns) dns0=$(nft_count dnsq)
run lit MAINTD_STUCK_AGE=$((2275 * 60)) MAINTD_STUCK_PROBES=10 MAINTD_STUCK_INTERVAL=0 \
    MAINTD_STATE="$T/state-lit"
[ "$(diag_domains lit)" = bracket.test ] || fail "lit: diagnosed '$(diag_domains lit)', want bracket.test"
grep -q '^warn queue: stuck-diagnosis domain=bracket\.test relay=127\.0\.0\.7 ip=127\.0\.0\.7 port=2525 result=' "$T/lit" ||
    fail "lit: $(grep stuck-diagnosis "$T/lit")"
[ "$(nft_count dnsq)" = "$dns0" ] || fail "lit: $(($(nft_count dnsq) - dns0)) DNS questions for an address relay"
[ "$(nft_count syns)" = $((syn0 + 1)) ] || fail "lit: $(($(nft_count syns) - syn0)) connections, want 1"
pass "$(grep stuck-diagnosis "$T/lit"): no DNS question, one connection"
run nodnssec MAINTD_STUCK_AGE=$((2175 * 60)) MAINTD_STUCK_PROBES=10 MAINTD_STUCK_INTERVAL=0 \
    MAINTD_STATE="$T/state-nodnssec" MAINTD_DNS_SERVERS="127.0.0.1:$NSD_PORT"
[ "$(diag_domains nodnssec)" = "$(oldest 1 3)" ] || fail "nodnssec: '$(diag_domains nodnssec)', want '$(oldest 1 3)'"
cp "$T/nodnssec" "$T/lines"
has danematch.test 'mx=mx\.danematch\.test ip=127\.0\.0\.13 result=cert-name-mismatch'
has danebad.test 'mx=mx\.danebad\.test ip=127\.0\.0\.14 result=ok'
! grep 'dane=' "$T/nodnssec" || fail "nodnssec: dane= without the AD bit"
pass "TLSA records without the AD bit are ignored: the certificate decides"

# ---------------------------------------------------------------------------
# 6. queue/lock/tcpto replaced by qmailq, who owns queue/lock in qmail's
# install: the root process reads neither a symbolic link nor a file with a
# second hard link, so no address is skipped and the address in the table is
# tried (nothing listens there: refused); the table back, it is skipped again.
# Only skipped.test is due: a state of its own whose memory holds every other
# domain as diagnosed now (FNV-1a 64 of the name, as lib/remote.c keeps it).
only_skipped() {	# STATE
	mkdir -m 700 "$1"
	python3 - "$T/domains" "$1/remote.diagnosed" <<'PY'
import sys, time
lines = []
for d in (l.split()[0] for l in open(sys.argv[1])):
    if d == "skipped.test":
        continue
    h = 0xcbf29ce484222325
    for b in d.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    lines.append("%016x %d\n" % (h, int(time.time())))
open(sys.argv[2], "w").write("".join(lines))
PY
}
skipped_run() {	# NAME: one run with only skipped.test due; its line in $T/NAME.line
	only_skipped "$T/state-$1"
	run "$1" MAINTD_STATE="$T/state-$1" MAINTD_STUCK_PROBES=10 MAINTD_STUCK_INTERVAL=100000
	[ "$(diag_domains "$1")" = skipped.test ] || fail "$1: diagnosed '$(diag_domains "$1")', want skipped.test"
	grep '^warn queue: stuck-diagnosis ' "$T/$1" > "$T/$1.line"
}
L=$H/queue/lock
cp -p "$L/tcpto" "$T/tcpto.orig"
chown qmailq:qmail "$L"
chmod 750 "$L"
as_qmailq() { runuser -u qmailq -- sh -c "cd '$L' && $1"; }
tried='^warn queue: stuck-diagnosis domain=skipped\.test mx=mx\.skipped\.test ip=127\.0\.0\.8 result=refused$'
as_qmailq 'cp tcpto tcpto.real && ln -sf tcpto.real tcpto'
[ -L "$L/tcpto" ] || fail "qmailq could not plant the link"
n0=$(nft_count tcpto)
skipped_run tsymlink
grep -Eq "$tried" "$T/tsymlink.line" || fail "symlink: $(cat "$T/tsymlink.line")"
[ "$(nft_count tcpto)" = $((n0 + 1)) ] || fail "symlink: $(($(nft_count tcpto) - n0)) packets to 127.0.0.8, want 1"
as_qmailq 'rm tcpto && ln tcpto.real tcpto'
[ "$(stat -c %h "$L/tcpto")" = 2 ] || fail "qmailq could not make the second link"
skipped_run thardlink
grep -Eq "$tried" "$T/thardlink.line" || fail "hard link: $(cat "$T/thardlink.line")"
pass "tcpto as qmailq's symbolic link or second hard link: not read, 127.0.0.8 tried"
rm -f "$L/tcpto" "$L/tcpto.real"
cp -p "$T/tcpto.orig" "$L/tcpto"
n0=$(nft_count tcpto)
skipped_run tback
grep -q 'result=tcpto-skipped tcpto=skipped$' "$T/tback.line" || fail "table back: $(cat "$T/tback.line")"
[ "$(nft_count tcpto)" = "$n0" ] || fail "table back: packets to 127.0.0.8"
pass "qmailr's table back: $(cat "$T/tback.line")"

echo "wall time $(($(date +%s) - T0)) s"

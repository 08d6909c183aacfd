#!/bin/sh
# The dns check against a real authoritative server (nsd) and a validating
# resolver (unbound, trust anchor for the signed zone sec.test): every
# finding of the check from zones made here, and none for the good domain.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-dns.sh"

NSD_PORT=$(free_udp_port)
UB_PORT=$(free_udp_port)
Z=$T/nsd
mkdir -p "$Z"

# DKIM keys: key1 published for sel1 (and configured for sel2, which
# publishes key2: a mismatch)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/key1.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/key2.pem" 2>/dev/null
txtkey() {	# the p= of a key file as quoted TXT strings of at most 200 bytes
	openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0 |
	    fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' '
}
TLSAHASH=8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1

cat > "$Z/sec.test" <<ZONE
\$ORIGIN sec.test.
\$TTL 3600
@	SOA ns.sec.test. hostmaster.sec.test. 1 3600 600 86400 300
	NS ns
ns	A 127.0.0.1
mx1	A 192.0.2.10
mx1	AAAA 2001:db8::10
_25._tcp.mx1	TLSA 3 1 1 $TLSAHASH
good	MX 10 mx1
good	TXT "v=spf1 mx a:mx1.sec.test ip4:192.0.2.0/24 -all"
_dmarc.good	TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@good.sec.test"
sub.good	MX 10 mx1
sub.good	TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"
sel1._domainkey.good	TXT "v=DKIM1; k=rsa; p=" $(txtkey "$T/key1.pem")
sel2._domainkey.good	TXT "v=DKIM1; k=rsa; p=" $(txtkey "$T/key2.pem")
sel4._domainkey.good	TXT "v=DKIM1; p="
ZONE
dns_sign "$Z/sec.test" sec.test

{
cat <<ZONE
\$ORIGIN plain.test.
\$TTL 3600
@	SOA ns.sec.test. hostmaster.sec.test. 1 3600 600 86400 300
	NS ns.sec.test.
mx2	A 192.0.2.10
mx3	A 192.0.2.10
_25._tcp.mx2	TLSA 3 1 1 $TLSAHASH
_25._tcp.mx3	TLSA 3 1 1 abcdef
alias	CNAME mx2
nomx	A 192.0.2.20
txtonly	TXT "not an SPF record"
nullmx	MX 0 .
cname	MX 10 alias
dangling	MX 10 alias2
alias2	CNAME gone
partial	MX 10 gone
partial	MX 20 mx1.sec.test.
dead	MX 10 gone
literal	MX 10 192.0.2.99.
tlsa	MX 10 mx2
badtlsa	MX 10 mx3
twospf	MX 10 mx2
twospf	TXT "v=spf1 a -all"
twospf	TXT "v=spf1 mx -all"
spffail	MX 10 mx2
spffail	TXT "v=spf1 ip4:198.51.100.1 -all"
nospf	MX 10 mx2
many	MX 10 mx2
dmarc2	MX 10 mx2
_dmarc.dmarc2	TXT "v=DMARC1; p=none"
_dmarc.dmarc2	TXT "v=DMARC1; p=reject"
dmarcbad	MX 10 mx2
_dmarc.dmarcbad	TXT "v=DMARC1; p=block"
macro	MX 10 mx2
macro	TXT "v=spf1 exists:%{p}.plain.test -all"
soft	MX 10 mx2
soft	TXT "v=spf1 ip4:192.0.2.10 ~all"
many	TXT "v=spf1 include:i1.plain.test ip4:192.0.2.0/24 -all"
ZONE
i=1
while [ $i -le 11 ]; do
	echo "i$i	TXT \"v=spf1 include:i$((i + 1)).plain.test ~all\""
	i=$((i + 1))
done
echo "i12	TXT \"v=spf1 -all\""
} > "$Z/plain.test"

cat > "$Z/rev" <<ZONE
\$ORIGIN 2.0.192.in-addr.arpa.
\$TTL 3600
@	SOA ns.sec.test. hostmaster.sec.test. 1 3600 600 86400 300
	NS ns.sec.test.
10	PTR mx1.sec.test.
12	PTR nomx.plain.test.
ZONE

cat > "$Z/rev6" <<ZONE
\$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
\$TTL 3600
@	SOA ns.sec.test. hostmaster.sec.test. 1 3600 600 86400 300
	NS ns.sec.test.
0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0	PTR mx1.sec.test.
ZONE

nsd_start "$NSD_PORT" sec.test sec.test.signed plain.test plain.test 2.0.192.in-addr.arpa rev \
    8.b.d.0.1.0.0.2.ip6.arpa rev6
dns_wait "$NSD_PORT" sec.test || { cat "$Z/nsd.log" "$Z/stdout" >&2; fail "nsd did not start"; }
unbound_start "$UB_PORT" "$NSD_PORT" allow "$Z/sec.test.ta" sec.test plain.test 2.0.192.in-addr.arpa \
    8.b.d.0.1.0.0.2.ip6.arpa
dns_wait "$UB_PORT" sec.test || { cat "$UB_DIR/unbound.log" >&2; fail "unbound did not start"; }
dig -p "$UB_PORT" @127.0.0.1 +dnssec _25._tcp.mx1.sec.test TLSA | grep -q 'flags:.* ad' ||
    fail "unbound does not validate sec.test: the AD bit test would prove nothing"

make_qmailhome "$T/qmail" mx1.sec.test
printf '%s\n' good.sec.test sub.good.sec.test .wild.sec.test nomx.plain.test nullmx.plain.test cname.plain.test \
    partial.plain.test dead.plain.test literal.plain.test tlsa.plain.test badtlsa.plain.test \
    twospf.plain.test spffail.plain.test nospf.plain.test many.plain.test dmarc2.plain.test \
    dmarcbad.plain.test macro.plain.test soft.plain.test dangling.plain.test \
    txtonly.plain.test > "$T/qmail/control/rcpthosts"

run() {
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" \
	    MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" \
	    MAINTD_DNS_SELFIPS="192.0.2.10 192.0.2.11,192.0.2.12 2001:db8::10" \
	    MAINTD_DKIM="sel1:good.sec.test:$T/key1.pem sel2:good.sec.test:$T/key1.pem sel3:good.sec.test sel4:good.sec.test" \
	    MAINTD_DNS_TIMEOUT=3000 \
	    "$MAINTD" -1 -v -C dns > "$T/out" 2>&1
}
st=0
run || st=$?
cat "$T/out"
check_grammar "$T/out"
[ "$st" = 2 ] || fail "exit status $st, want 2 (crit findings)"

has() { grep -Eq -- "$1" "$T/out" || fail "no line matching: $1"; }
hasnt() { ! grep -Eq -- "$1" "$T/out" || fail "a line matching: $1"; }

has '^info dns: checked domains=20 queries=[0-9]+ failed=0 ms=[0-9]+$'
has '^info dns: mx domain=good.sec.test pref=10 mx=mx1.sec.test ip=192.0.2.10$'
has '^info dns: mx domain=good.sec.test pref=10 mx=mx1.sec.test ip=2001:db8::10$'
hasnt '(ptr-missing|fcrdns-mismatch|helo-mismatch) ip=2001:db8::10'
has '^crit dns: spf-fail domain=spffail.plain.test ip=2001:db8::10 result=fail$'
hasnt '^(warn|crit) dns: [a-z-]+ domain=good.sec.test'
has '^info dns: dmarc domain=good.sec.test policy=reject$'
has '^info dns: dmarc domain=sub.good.sec.test policy=quarantine from=good.sec.test$'
hasnt 'dmarc-missing domain=sub.good.sec.test'
has "^info dns: tlsa mx=mx1.sec.test usage=3 selector=1 mtype=1 ad=1 len=32 data=$TLSAHASH\$"
hasnt 'tlsa-insecure mx=mx1.sec.test'
# an address and no MX: mail goes to the address (RFC 5321 5.1); a default
# (rcpthosts) name like that is a host's name: no SPF or DMARC required
has '^info dns: implicit-mx domain=nomx.plain.test$'
hasnt '(mx-missing|spf-missing|dmarc-missing) domain=nomx.plain.test'
has '^warn dns: mx-missing domain=txtonly.plain.test$'
has '^warn dns: spf-missing domain=txtonly.plain.test$'
has '^warn dns: dmarc-missing domain=txtonly.plain.test$'
has '^info dns: null-mx domain=nullmx.plain.test$'
has '^warn dns: mx-cname domain=cname.plain.test mx=alias.plain.test$'
has '^warn dns: mx-unresolvable domain=partial.plain.test mx=gone.plain.test$'
has '^warn dns: mx-cname domain=dangling.plain.test mx=alias2.plain.test$'
has '^crit dns: mx-unresolvable domain=dangling.plain.test mx=alias2.plain.test$'
has '^crit dns: mx-unresolvable domain=dead.plain.test mx=gone.plain.test$'
has '^warn dns: mx-ip-literal domain=literal.plain.test mx=192.0.2.99$'
has '^warn dns: tlsa-insecure mx=mx2.plain.test records=1$'
has '^warn dns: tlsa-malformed mx=mx3.plain.test count=1$'
has '^crit dns: spf-multiple domain=twospf.plain.test count=2$'
has '^crit dns: spf-fail domain=spffail.plain.test ip=192.0.2.10 result=fail$'
has '^crit dns: spf-fail domain=spffail.plain.test ip=192.0.2.12 result=fail$'
has '^warn dns: spf-missing domain=nospf.plain.test$'
has '^warn dns: spf-lookups domain=many.plain.test count=1[1-9] limit=10$'
has '^crit dns: spf-fail domain=many.plain.test ip=192.0.2.10 result=permerror reason=lookup-limit$'
has '^warn dns: dmarc-missing domain=nospf.plain.test$'
hasnt 'wild.sec.test'
has '^warn dns: dmarc-multiple domain=dmarc2.plain.test count=2$'
has '^warn dns: dmarc-syntax domain=dmarcbad.plain.test reason=bad-policy$'
has '^warn dns: spf-unsupported domain=macro.plain.test$'
has '^warn dns: spf-fail domain=soft.plain.test ip=192.0.2.11 result=softfail$'
hasnt 'spf-fail domain=soft.plain.test ip=192.0.2.10 '
hasnt 'dkim-[a-z-]+ selector=sel1 '
has '^crit dns: dkim-key-mismatch selector=sel2 domain=good.sec.test$'
has '^warn dns: dkim-missing selector=sel3 domain=good.sec.test reason=nxdomain$'
has '^warn dns: dkim-revoked selector=sel4 domain=good.sec.test$'
hasnt 'ptr-missing ip=192.0.2.10'
hasnt 'fcrdns-mismatch ip=192.0.2.10'
hasnt 'helo-mismatch ip=192.0.2.10'
has '^warn dns: ptr-missing ip=192.0.2.11$'
has '^warn dns: fcrdns-mismatch ip=192.0.2.12 ptr=nomx.plain.test$'
has '^warn dns: helo-mismatch ip=192.0.2.11 helo=mx1.sec.test$'
hasnt 'lookup-failed'
# the TLSA records are findings only: no state file (the tls check looks them up itself)
[ ! -e "$T/state/dns-tlsa" ] || fail "a dns-tlsa state file"
pass "dns findings"

# the self IPs by default: control/me's addresses (so HELO matches); none: no-selfips
printf 'good.sec.test\n' > "$T/qmail/control/rcpthosts"
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state2" MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" \
    "$MAINTD" -1 -C dns > "$T/out" 2>&1 || fail "exit $?: the good domain from this server"
cat "$T/out"
grep -q '^info dns: checked domains=1 ' "$T/out" || fail "no checked line"
grep -Eq '^(warn|crit)' "$T/out" && fail "findings for a good domain and self IP"
echo mx9.plain.test > "$T/qmail/control/me"
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state3" MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" \
    "$MAINTD" -1 -C dns > "$T/out" 2>&1 || true
cat "$T/out"
grep -q '^warn dns: no-selfips me=mx9.plain.test$' "$T/out" || fail "no no-selfips"
pass "self IPs from control/me"

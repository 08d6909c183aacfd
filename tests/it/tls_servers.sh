# tls check against real servers: a private Postfix (smtpd with STARTTLS,
# submission requiring it, smtps in wrapper mode), a private Dovecot (POP3
# with STLS, POP3S), and DANE: TLSA records served by nsd (a DNSSEC-signed
# zone and an unsigned one) through a validating unbound.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-dns.sh"
. "$SOURCE_DIR/tests/it/libtls.sh"

set -- $(tls_ports 7)
P25=$1 P587=$2 P465=$3 P110=$4 P995=$5 PEXP=$6 PSELF=$7
NSD_PORT=$(free_udp_port)
UB_PORT=$(free_udp_port)

make_qmailhome "$T/qmail" mx1.sec.test
tls_ca "$T/ca"
now=$(tls_date '-1 day')
year=$(tls_date '+365 days')
names=mx1.sec.test,dane-bad.sec.test,dane-ta.sec.test,roll.sec.test,dane-plain.plain.test
tls_cert "$T/ca" "$T/mx" "$names" "$now" "$year"
tls_cert "$T/ca" "$T/next" "$names" "$now" "$(tls_date '+400 days')"
tls_cert "$T/ca" "$T/sub" mx1.sec.test "$now" "$(tls_date '+3 days +2 hours')"
tls_cert "$T/ca" "$T/wrong" other.example.test "$now" "$year"
tls_cert "$T/ca" "$T/pop" pop.sec.test "$now" "$year"
tls_cert "$T/ca" "$T/expired" mx1.sec.test "$(tls_date '-90 days')" "$(tls_date '-5 days')"
tls_selfsigned "$T/self" mx1.sec.test
POSTFIX_EXTRA="127.0.0.1:$PEXP inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_cert_file=$T/expired.pem -o smtpd_tls_key_file=$T/expired.key
127.0.0.1:$PSELF inet n - n - - smtpd -o smtpd_tls_cert_file=$T/self.pem -o smtpd_tls_key_file=$T/self.key"

# DANE-TA (2 x 1) needs the trust anchor in the served chain (RFC 7671)
cat "$T/mx.pem" "$T/ca/ca.pem" > "$T/mxchain.pem"
postfix_start "$T/postfix" "$P25" "$P587" "$P465" "$T/mxchain.pem" "$T/mx.key" \
    "$T/sub.pem" "$T/sub.key" "$T/wrong.pem" "$T/wrong.key"
dovecot_start "$T/dovecot" "$P110" "$P995" "$T/pop.pem" "$T/pop.key"

Z=$T/nsd
mkdir -p "$Z"
cat > "$Z/sec.test" <<ZONE
\$ORIGIN sec.test.
\$TTL 3600
@	SOA ns.sec.test. hostmaster.sec.test. 1 3600 600 86400 300
	NS ns
ns	A 127.0.0.1
_25._tcp.mx1	TLSA 3 1 1 $(tls_spki_sha256 "$T/mx.pem")
_25._tcp.dane-bad	TLSA 3 1 1 $(tls_spki_sha256 "$T/wrong.pem")
_25._tcp.dane-ta	TLSA 2 1 1 $(tls_spki_sha256 "$T/ca/ca.pem")
_25._tcp.roll	TLSA 3 1 1 $(tls_spki_sha256 "$T/mx.pem")
_25._tcp.roll	TLSA 3 1 1 $(tls_spki_sha256 "$T/next.pem")
ZONE
dns_sign "$Z/sec.test" sec.test
cat > "$Z/plain.test" <<ZONE
\$ORIGIN plain.test.
\$TTL 3600
@	SOA ns.sec.test. hostmaster.sec.test. 1 3600 600 86400 300
	NS ns.sec.test.
_25._tcp.dane-plain	TLSA 3 1 1 $(tls_spki_sha256 "$T/wrong.pem")
ZONE
nsd_start "$NSD_PORT" sec.test sec.test.signed plain.test plain.test
dns_wait "$NSD_PORT" sec.test || { cat "$Z/nsd.log" "$Z/stdout" >&2; fail "nsd did not start"; }
unbound_start "$UB_PORT" "$NSD_PORT" allow "$Z/sec.test.ta" sec.test plain.test
dns_wait "$UB_PORT" sec.test || { cat "$T/unbound/unbound.log" >&2; fail "unbound did not start"; }
DNS_SERVERS=127.0.0.1:$UB_PORT

tls_run "$T/out1" MAINTD_TLS_TARGETS="smtp://127.0.0.1:$P25
    smtp://127.0.0.1:$P25/dane-bad.sec.test smtp://127.0.0.1:$P25/dane-ta.sec.test
    smtp://127.0.0.1:$P25/roll.sec.test smtp://127.0.0.1:$P25/dane-plain.plain.test
    submission://127.0.0.1:$P587 smtps://127.0.0.1:$P465
    smtps://127.0.0.1:$PEXP submission://127.0.0.1:$PSELF
    pop3://127.0.0.1:$P110/pop.sec.test pop3s://127.0.0.1:$P995/pop.sec.test"
check_grammar "$T/out1"
o=$T/out1
t=smtp://127.0.0.1:$P25
expect "$o" "^info tls: ok target=$t version=TLSv1.3 cipher=[A-Z0-9_-]+ subject=\"CN=mx1.sec.test\" issuer=\"CN=maintd test CA\" days=36[45]\$" 1
expect "$o" "^info tls: tlsa-match target=$t usage=3 selector=1 mtype=1 depth=0 dnssec=yes\$" 1
expect "$o" "^crit tls: tlsa-mismatch target=$t/dane-bad.sec.test reason=.* records=1 dnssec=yes\$" 1
expect "$o" "^info tls: tlsa-match target=$t/dane-ta.sec.test usage=2 selector=1 mtype=1 depth=1 dnssec=yes\$" 1
expect "$o" "^info tls: tlsa-match target=$t/roll.sec.test usage=3 selector=1 mtype=1 depth=0 dnssec=yes\$" 1
expect "$o" "^warn tls: tlsa-mismatch target=$t/dane-plain.plain.test reason=.* records=1 dnssec=no\$" 1
expect "$o" "^crit tls: cert-expiring target=submission://127.0.0.1:$P587 days=3 subject=\"CN=mx1.sec.test\"\$" 1
expect "$o" "^crit tls: cert-name-mismatch target=smtps://127.0.0.1:$P465 name=mx1.sec.test subject=\"CN=other.example.test\"\$" 1
expect "$o" "^info tls: ok target=pop3://127.0.0.1:$P110/pop.sec.test version=TLSv1.3 .*subject=\"CN=pop.sec.test\"" 1
expect "$o" "^info tls: ok target=pop3s://127.0.0.1:$P995/pop.sec.test version=TLSv1.3 " 1
expect "$o" "^crit tls: cert-expired target=smtps://127.0.0.1:$PEXP days=-[56] subject=\"CN=mx1.sec.test\"\$" 1
expect "$o" "^crit tls: cert-untrusted target=submission://127.0.0.1:$PSELF reason=\"self-signed certificate\" subject=\"CN=mx1.sec.test\"\$" 1
expect "$o" "^(warn|crit) tls: " 6
[ "$rc" = 2 ] || fail "exit $rc, expected 2"

# every target whose certificate was read has its exact notAfter in the
# metrics, whatever else was found (expired, wrong name)
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_TLS_SPREAD=0 MAINTD_TLS_CAFILE="$T/ca/ca.pem" \
    MAINTD_DNS_SERVERS="$DNS_SERVERS" MAINTD_TLS_TARGETS="smtp://127.0.0.1:$P25 smtps://127.0.0.1:$PEXP
    smtps://127.0.0.1:$P465" "$MAINTD" -1 -C tls -P "$T/m.prom" > "$T/outp" 2>&1 || true
for tc in "smtp://127.0.0.1:$P25 mx" "smtps://127.0.0.1:$PEXP expired" "smtps://127.0.0.1:$P465 wrong"; do
	set -- $tc
	want=$(date -d "$(openssl x509 -enddate -noout -in "$T/$2.pem" | cut -d= -f2)" +%s)
	grep -qx "qmail_tls_cert_not_after_timestamp_seconds{target=\"$1\"} $want" "$T/m.prom" ||
	    fail "notAfter of $1: $(grep not_after "$T/m.prom")"
done
pass "qmail_tls_cert_not_after_timestamp_seconds: exact, also for an expired and a misnamed certificate"

# a renewal with a fresh key on disk: DANE breaks once it is loaded unless
# its TLSA record is published first (roll has it, mx1 has not)
tls_run "$T/out2" MAINTD_TLS_CERTFILES="$T/next.pem" MAINTD_TLS_TARGETS="smtp://127.0.0.1:$P25
    smtp://127.0.0.1:$P25/roll.sec.test pop3://127.0.0.1:$P110/pop.sec.test"
check_grammar "$T/out2"
expect "$T/out2" "^warn tls: tlsa-no-rollover target=$t file=$T/next.pem\$" 1
expect "$T/out2" "tlsa-no-rollover" 1
expect "$T/out2" "^warn tls: cert-differs-from-disk target=$t file=$T/next.pem\$" 1
expect "$T/out2" "^warn tls: cert-differs-from-disk target=$t/roll.sec.test file=$T/next.pem\$" 1
expect "$T/out2" "^info tls: ok target=pop3://127.0.0.1:$P110/pop.sec.test " 1

# Dovecot keeps serving the certificate it loaded after the file is renewed
tls_cert "$T/ca" "$T/pop" pop.sec.test "$now" "$(tls_date '+400 days')"
tls_run "$T/out3" MAINTD_TLS_CERTFILES="$T/pop.pem" \
    MAINTD_TLS_TARGETS="pop3://127.0.0.1:$P110/pop.sec.test pop3s://127.0.0.1:$P995/pop.sec.test"
check_grammar "$T/out3"
expect "$T/out3" "^warn tls: cert-differs-from-disk target=pop3://127.0.0.1:$P110/pop.sec.test file=$T/pop.pem\$" 1
expect "$T/out3" "^warn tls: cert-differs-from-disk target=pop3s://127.0.0.1:$P995/pop.sec.test file=$T/pop.pem\$" 1

# a resolver that does not answer: DANE unknown, the run is incomplete
tls_run "$T/out4" DNS_SERVERS= MAINTD_DNS_SERVERS="127.0.0.1:$(free_udp_port)" MAINTD_TLS_TIMEOUT=2 \
    MAINTD_TLS_TARGETS="smtp://127.0.0.1:$P25"
expect "$T/out4" "^warn tls: tlsa-lookup-failed target=$t status=" 1
[ "$rc" = 3 ] || fail "exit $rc with the TLSA lookup failing, expected 3"

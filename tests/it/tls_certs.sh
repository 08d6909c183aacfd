# tls check: the certificate a service serves, judged as a peer would:
# expired, expiring (warn and crit), wrong name, self-signed, and a renewal on
# disk that the long-running service has not loaded.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/libtls.sh"

make_qmailhome "$T/qmail" mx1.example.test
tls_ca "$T/ca"
tls_cert "$T/ca" "$T/good" mx1.example.test,mail.example.test "$(tls_date '-1 day')" "$(tls_date '+365 days')"
tls_cert "$T/ca" "$T/expired" mx1.example.test "$(tls_date '-30 days')" "$(tls_date '-2 days')"
tls_cert "$T/ca" "$T/crit" mx1.example.test "$(tls_date '-1 day')" "$(tls_date '+3 days +2 hours')"
tls_cert "$T/ca" "$T/warn" mx1.example.test "$(tls_date '-1 day')" "$(tls_date '+10 days +2 hours')"
tls_cert "$T/ca" "$T/wrong" other.example.test "$(tls_date '-1 day')" "$(tls_date '+365 days')"
tls_selfsigned "$T/self" mx1.example.test
tls_cert "$T/ca" "$T/rot" rot.example.test "$(tls_date '-300 days')" "$(tls_date '+60 days')"

tls_fake good:smtp:cert=$T/good.pem expired:smtps:cert=$T/expired.pem \
    crit:pop3:cert=$T/crit.pem warn:pop3s:cert=$T/warn.pem \
    wrong:submission:cert=$T/wrong.pem self:smtp:cert=$T/self.pem rot:smtps:cert=$T/rot.pem

tls_run "$T/out1" MAINTD_TLS_DANE=0 MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_good
    smtp://127.0.0.1:$p_good/mail.example.test smtps://127.0.0.1:$p_expired
    pop3://127.0.0.1:$p_crit pop3s://127.0.0.1:$p_warn submission://127.0.0.1:$p_wrong
    smtp://127.0.0.1:$p_self"
check_grammar "$T/out1"
o=$T/out1
expect "$o" "^info tls: ok target=smtp://127.0.0.1:$p_good version=TLSv1.3 .*subject=\"CN=mx1.example.test\" issuer=\"CN=maintd test CA\" days=36[45]\$" 1
expect "$o" "^info tls: ok target=smtp://127.0.0.1:$p_good/mail.example.test " 1
expect "$o" "^info tls: ok " 2
expect "$o" "^crit tls: cert-expired target=smtps://127.0.0.1:$p_expired days=-[23] subject=\"CN=mx1.example.test\"\$" 1
expect "$o" "^crit tls: cert-expiring target=pop3://127.0.0.1:$p_crit days=3 subject=" 1
expect "$o" "^warn tls: cert-expiring target=pop3s://127.0.0.1:$p_warn days=10 subject=" 1
expect "$o" "^crit tls: cert-name-mismatch target=submission://127.0.0.1:$p_wrong name=mx1.example.test subject=\"CN=other.example.test\"\$" 1
expect "$o" "^crit tls: cert-untrusted target=smtp://127.0.0.1:$p_self reason=\"self-signed certificate\" subject=" 1
expect "$o" "cert-untrusted" 1
expect "$o" "cert-expir" 3
[ "$rc" = 2 ] || fail "exit $rc, expected 2"

# without our CA the good certificate is untrusted too
tls_run "$T/out2" MAINTD_TLS_DANE=0 MAINTD_TLS_CAFILE="$T/self.pem" MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_good"
expect "$T/out2" "^crit tls: cert-untrusted target=smtp://127.0.0.1:$p_good reason=\"unable to get local issuer certificate\"" 1
# a CA directory is read whole when the check is configured (a chrooted run
# could not open the hashed names OpenSSL would look up): no rehash needed,
# and the keys and other files in it are no trouble
tls_run "$T/out2b" MAINTD_TLS_DANE=0 MAINTD_TLS_CAFILE= MAINTD_TLS_CAPATH="$T/ca" MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_good"
expect "$T/out2b" "^info tls: ok " 1
openssl rehash "$T/ca" 2>/dev/null || c_rehash "$T/ca" >/dev/null 2>&1
tls_run "$T/out2c" MAINTD_TLS_DANE=0 MAINTD_TLS_CAFILE= MAINTD_TLS_CAPATH="$T/ca" MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_good"
expect "$T/out2c" "^info tls: ok " 1
# without our CA there: untrusted
mkdir -p "$T/otherca"
cp "$T/self.pem" "$T/otherca/"
tls_run "$T/out2d" MAINTD_TLS_DANE=0 MAINTD_TLS_CAFILE= MAINTD_TLS_CAPATH="$T/otherca" MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_good"
expect "$T/out2d" "^crit tls: cert-untrusted target=smtp://127.0.0.1:$p_good reason=\"unable to get local issuer certificate\"" 1

# CA paths that are not there, or hold no certificate: bad-config at start
tls_run "$T/out2e" MAINTD_TLS_CAFILE=/nonexistent/ca.pem
[ "$rc" = 111 ] || fail "nonexistent CAFILE: exit $rc"
expect "$T/out2e" '^fatal maintd: bad-config var=MAINTD_TLS_CAFILE value=/nonexistent/ca.pem error=ENOENT$' 1
tls_run "$T/out2f" MAINTD_TLS_CAFILE= MAINTD_TLS_CAPATH=/nonexistent
[ "$rc" = 111 ] || fail "nonexistent CAPATH: exit $rc"
expect "$T/out2f" '^fatal maintd: bad-config var=MAINTD_TLS_CAPATH value=/nonexistent error=ENOENT$' 1
mkdir -p "$T/emptyca"
tls_run "$T/out2g" MAINTD_TLS_CAFILE= MAINTD_TLS_CAPATH="$T/emptyca"
[ "$rc" = 111 ] || fail "empty CAPATH: exit $rc"
expect "$T/out2g" "^fatal maintd: bad-config var=MAINTD_TLS_CAPATH value=$T/emptyca reason=no-certificate\$" 1
tls_run "$T/out2h" MAINTD_TLS_CAFILE="$T/good.key"
[ "$rc" = 111 ] || fail "a key as CAFILE: exit $rc"
expect "$T/out2h" "^fatal maintd: bad-config var=MAINTD_TLS_CAFILE value=$T/good.key reason=no-certificate\$" 1
long=$(printf 'a%.0s' $(seq 1 60)).$(printf 'b%.0s' $(seq 1 60)).$(printf 'c%.0s' $(seq 1 60)).$(printf 'd%.0s' $(seq 1 60)).$(printf 'e%.0s' $(seq 1 60))
tls_run "$T/out2i" MAINTD_TLS_NAME="$long"
[ "$rc" = 111 ] || fail "a 304-byte MAINTD_TLS_NAME: exit $rc"
expect "$T/out2i" "^fatal maintd: bad-config var=MAINTD_TLS_NAME value=a{60}\\.b{60}\\.c{60}\\.d{60}\\.e+ reason=too-long\$" 1

# renewal on disk (a new key) while the service keeps serving the old one
tls_run "$T/out3" MAINTD_TLS_DANE=0 MAINTD_TLS_CERTFILES="$T/rot.pem" \
    MAINTD_TLS_TARGETS="smtps://127.0.0.1:$p_rot/rot.example.test"
expect "$T/out3" "^info tls: ok " 1
expect "$T/out3" "cert-differs" 0
tls_cert "$T/ca" "$T/rot" rot.example.test "$(tls_date '-1 day')" "$(tls_date '+365 days')"
tls_fake fresh:smtps:cert=$T/rot.pem
tls_run "$T/out4" MAINTD_TLS_DANE=0 MAINTD_TLS_CERTFILES="$T/rot.pem $T/missing.pem" \
    MAINTD_TLS_TARGETS="smtps://127.0.0.1:$p_rot/rot.example.test smtps://127.0.0.1:$p_fresh/rot.example.test"
check_grammar "$T/out4"
expect "$T/out4" "^warn tls: cert-differs-from-disk target=smtps://127.0.0.1:$p_rot/rot.example.test file=$T/rot.pem\$" 1
expect "$T/out4" "^warn tls: certfile-unreadable file=$T/missing.pem error=ENOENT\$" 1
expect "$T/out4" "^info tls: ok target=smtps://127.0.0.1:$p_fresh/rot.example.test " 1
expect "$T/out4" "cert-differs" 1

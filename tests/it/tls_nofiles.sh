#!/bin/sh
# A dns and a tls run open no file (issue 13): the probe process runs them
# chrooted to an empty directory, so everything they need from the
# filesystem (control/rcpthosts, the CA store, MAINTD_TLS_CERTFILES, DKIM
# keys, the system's resolvers and c-ares' other files, openssl.cnf, the
# checks' memory) is read when the checks are configured. strace shows every
# open(2) of the daemon; after "sweep: start" there must be none, but for the
# run's own save of its memory in MAINTD_STATE (root, no probe process).
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-dns.sh"
. "$SOURCE_DIR/tests/it/libtls.sh"

command -v strace >/dev/null || fail "strace is not installed (tests/deps)"

NSD_PORT=$(free_udp_port)
UB_PORT=$(free_udp_port)
Z=$T/nsd
mkdir -p "$Z"
openssl genpkey -algorithm ED25519 -out "$T/dkim.pem" 2>/dev/null
DKIMP=$(openssl pkey -in "$T/dkim.pem" -pubout -outform DER 2>/dev/null | tail -c 32 | base64)
cat > "$Z/files.test" <<ZONE
\$ORIGIN files.test.
\$TTL 3600
@	SOA ns hostmaster 1 3600 600 86400 300
	NS ns
ns	A 127.0.0.1
mx1	A 192.0.2.10
good	MX 10 mx1
good	TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc.good	TXT "v=DMARC1; p=none"
s1._domainkey.good	TXT "v=DKIM1; k=ed25519; p=$DKIMP"
ZONE
cat > "$Z/rev" <<ZONE
\$ORIGIN 2.0.192.in-addr.arpa.
\$TTL 3600
@	SOA ns.files.test. hostmaster.files.test. 1 3600 600 86400 300
	NS ns.files.test.
10	PTR mx1.files.test.
ZONE
nsd_start "$NSD_PORT" files.test files.test 2.0.192.in-addr.arpa rev
dns_wait "$NSD_PORT" files.test || fail "nsd did not start"
unbound_start "$UB_PORT" "$NSD_PORT" allow "" files.test 2.0.192.in-addr.arpa
dns_wait "$UB_PORT" files.test || fail "unbound did not start"

make_qmailhome "$T/qmail" mx1.files.test
printf 'localhost\nmx1.files.test\ngood.files.test\n' > "$T/qmail/control/rcpthosts"
tls_ca "$T/ca"
tls_cert "$T/ca" "$T/good" mx1.files.test "$(tls_date '-1 day')" "$(tls_date '+365 days')"
tls_fake --cert "$T/good.pem" good:smtp pgood:pop3s
mkdir -p "$T/state"

# trace RUN VAR=VALUE...: one -1 sweep of dns and tls under strace. The
# runs are in the probe process: every open(2) it makes after its chroot is
# in $T/RUN.opens (there must be none), and so is every open of the root
# process after the sweep started, but for its keeping of the checks'
# memory in MAINTD_STATE
trace() {
	_r=$1
	shift
	st=0
	# (LeakSanitizer cannot work under ptrace: the other tests look for leaks)
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_TLS_SPREAD=0 \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    MAINTD_TLS_TARGETS="smtp://127.0.0.1:$p_good pop3s://127.0.0.1:$p_pgood" \
	    MAINTD_TLS_CERTFILES="$T/good.pem" MAINTD_DKIM="s1:good.files.test:$T/dkim.pem" \
	    "$@" strace -f -y -qq -s 200 -e trace=open,openat,openat2,creat,chroot,write \
	    -o "$T/$_r.strace" "$MAINTD" -1 -v -C dns,tls > "$T/$_r.out" 2>&1 || st=$?
	grep -q 'sweep: done' "$T/$_r.out" || { cat "$T/$_r.out"; fail "$_r: no sweep"; }
	grep -q 'chroot(' "$T/$_r.strace" || fail "$_r: no probe process chrooted (run as root)"
	# the probe process: after its chroot; the root process: after the
	# sweep started, but for MAINTD_STATE
	awk -v state="$T/state" '
	    FNR == NR { if (/chroot\(.*= 0/) prober[$1] = 1; next }
	    /chroot\(.*= 0/ { jail[$1] = 1; next }
	    /write\(1.*sweep: start/ { started = 1; next }
	    !/open/ { next }
	    prober[$1] { if (jail[$1]) print; next }
	    started && index($0, state) == 0 { print }' "$T/$_r.strace" "$T/$_r.strace" > "$T/$_r.opens"
}

# the system's resolvers (/etc/resolv.conf) and CA store (/etc/ssl), read at
# configure; the lookups may fail here (no network): that is not the point
trace system MAINTD_DNS_SERVERS= MAINTD_DNS_TIMEOUT=300 MAINTD_TLS_DANE=1 MAINTD_TLS_TIMEOUT=2
grep -q '/etc/resolv.conf' "$T/system.strace" || fail "c-ares never read /etc/resolv.conf"
grep -q 'certs' "$T/system.strace" || fail "the system's CA store was not read"
if grep -q . "$T/system.opens"; then
	cat "$T/system.opens" >&2
	fail "the runs opened the files above (system resolver and CA store)"
fi
pass "system resolver and CA store: no open during the runs"

# the test CA and the resolvers named; memory written the first time
rm -rf "$T/state"
mkdir -p "$T/state"
trace first MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" MAINTD_TLS_CAFILE="$T/ca/ca.pem"
cat "$T/first.out"
grep -q '^info tls: ok target=smtp://127.0.0.1:' "$T/first.out" || fail "no tls ok"
grep -q '^info dns: checked domains=2 .* failed=0 ' "$T/first.out" || fail "no clean dns run"
grep -q '^info dns: implicit-mx domain=mx1.files.test$' "$T/first.out" || fail "no implicit-mx"
grep -q "^debug tls: seen-listening target=smtp://127.0.0.1:$p_good\$" "$T/first.out" || fail "no memo"
[ "$st" = 0 ] || fail "exit $st"
if grep -q . "$T/first.opens"; then
	cat "$T/first.opens" >&2
	fail "the runs opened the files above"
fi
# the same again, with what the root process kept
trace second MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" MAINTD_TLS_CAFILE="$T/ca/ca.pem"
[ "$st" = 0 ] || { cat "$T/second.out"; fail "exit $st"; }
if grep -q . "$T/second.opens"; then
	cat "$T/second.opens" >&2
	fail "the runs opened the files above"
fi
pass "named resolver, CAFILE, CERTFILES, DKIM key: no open during the runs"

# a CA directory (not hashed: every certificate in it is loaded at configure)
mkdir -p "$T/cadir"
cp "$T/ca/ca.pem" "$T/cadir/"
trace capath MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" MAINTD_TLS_CAPATH="$T/cadir" MAINTD_TLS_CAFILE=
grep -q '^info tls: ok target=smtp://127.0.0.1:' "$T/capath.out" || { cat "$T/capath.out"; fail "CAPATH: no ok"; }
if grep -q . "$T/capath.opens"; then
	cat "$T/capath.opens" >&2
	fail "CAPATH: the runs opened the files above"
fi
pass "CAPATH: no open during the runs"

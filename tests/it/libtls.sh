# Helpers for the tls check's integration tests (sourced after lib.sh).
# A private test CA and server certificates made with openssl, and the
# scripted servers of tls_fake.py.

# tls_ca DIR: a private CA in DIR (ca.pem, ca.key) and an `openssl ca` setup
tls_ca() {
	mkdir -p "$1/db"
	: > "$1/db/index.txt"
	echo 1000 > "$1/db/serial"
	cat > "$1/ca.cnf" <<EOF
[ca]
default_ca = test
[test]
dir = $1/db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
EOF
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/ca.key" -out "$1/ca.pem" -days 3650 -subj "/CN=maintd test CA" \
	    >/dev/null 2>&1 || fail "cannot make the test CA"
}

# tls_date OFFSET: an openssl ca date, OFFSET as date(1) understands it ("+3 days")
tls_date() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# tls_cert CADIR OUT NAMES START END: OUT.pem/OUT.key signed by the CA for
# the DNS names (comma-separated; the first is the CN), valid START..END
tls_cert() {
	_cn=${3%%,*}
	_san=$(echo "$3" | sed 's/^/DNS:/; s/,/,DNS:/g')
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$2.key" -out "$2.csr" -subj "/CN=$_cn" \
	    -addext "subjectAltName=$_san" >/dev/null 2>&1 || fail "cannot make a request for $2"
	openssl ca -batch -config "$1/ca.cnf" -cert "$1/ca.pem" -keyfile "$1/ca.key" \
	    -startdate "$4" -enddate "$5" -in "$2.csr" -out "$2.pem" -notext \
	    >/dev/null 2>&1 || fail "cannot sign $2"
}

# tls_selfsigned OUT NAME
tls_selfsigned() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.pem" -days 365 -subj "/CN=$2" \
	    -addext "subjectAltName=DNS:$2" >/dev/null 2>&1 || fail "cannot make $1"
}

# tls_spki_sha256 CERT: the hex SHA-256 of the certificate's public key (TLSA x 1 1)
tls_spki_sha256() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
	    sha256sum | cut -d' ' -f1
}

TLS_PIDS=""
tls_kill() { [ -z "$TLS_PIDS" ] || kill $TLS_PIDS 2>/dev/null; }
at_exit tls_kill

# tls_fake [--cert PEM] NAME:MODE[:opts]...: starts tls_fake.py with these
# servers and sets p_NAME to each one's port
tls_fake() {
	TLS_NFAKE=$((${TLS_NFAKE:-0} + 1))
	_pf=$T/fake$TLS_NFAKE
	python3 "$SOURCE_DIR/tests/it/tls_fake.py" "$_pf" "$@" > "$_pf.out" 2>&1 &
	TLS_PIDS="$TLS_PIDS $!"
	wait_for "$_pf.out" '^ready' 30 || { cat "$_pf.out" >&2; fail "fake servers did not start"; }
	eval "$(sed 's/^\([a-z0-9_]*\) \([0-9]*\)$/p_\1=\2/' "$_pf")"
}

# tls_run OUT VAR=VALUE...: one sweep of the tls check; exit status in $rc
tls_run() {
	_out=$1
	shift
	rc=0
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_TLS_SPREAD=0 \
	    MAINTD_TLS_CAFILE="$T/ca/ca.pem" MAINTD_DNS_SERVERS="${DNS_SERVERS:-127.0.0.1:9}" \
	    "$@" "$MAINTD" -1 -C tls > "$_out" 2> "$_out.err" || rc=$?
	[ ! -s "$_out.err" ] || { cat "$_out.err" >&2; fail "stderr output"; }
}

# expect FILE PATTERN [N]: at least one (or exactly N) lines match
expect() {
	_c=$(count "$1" "$2")
	if [ $# -ge 3 ]; then
		[ "$_c" -eq "$3" ] || { cat "$1" >&2; fail "expected $3 lines matching '$2' in $1, got $_c"; }
	else
		[ "$_c" -ge 1 ] || { cat "$1" >&2; fail "no line matching '$2' in $1"; }
	fi
	pass "$2"
}

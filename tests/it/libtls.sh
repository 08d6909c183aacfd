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

# tls_ports N: N free TCP ports on 127.0.0.1, one per line (one python start)
tls_ports() {
	python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# postfix_start DIR SMTP SUBMISSION SMTPS CERT KEY SUBCERT SUBKEY SMTPSCERT SMTPSKEY:
# a private Postfix (config, queue and log under DIR) with smtpd on the three
# loopback ports: STARTTLS, STARTTLS required, and implicit TLS (wrappermode);
# $POSTFIX_EXTRA: more master.cf lines
postfix_start() {
	_d=$1
	mkdir -p "$_d/conf" "$_d/queue" "$_d/data"
	chown postfix "$_d/data"
	cat > "$_d/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $_d/queue
data_directory = $_d/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx1.sec.test
mydestination =
maillog_file_prefixes = $_d
maillog_file = $_d/maillog
smtpd_banner = \$myhostname ESMTP maintd test
smtpd_tls_security_level = may
smtpd_tls_cert_file = $5
smtpd_tls_key_file = $6
EOF
	cat > "$_d/conf/master.cf" <<EOF
127.0.0.1:$2 inet n - n - - smtpd
127.0.0.1:$3 inet n - n - - smtpd -o smtpd_tls_security_level=encrypt -o smtpd_tls_cert_file=$7 -o smtpd_tls_key_file=$8
127.0.0.1:$4 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_cert_file=$9 -o smtpd_tls_key_file=${10}
${POSTFIX_EXTRA:-}
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	at_exit "postfix -c $_d/conf stop >/dev/null 2>&1"
	postfix -c "$_d/conf" start >/dev/null 2>&1 || { cat "$_d/maillog" >&2; fail "postfix did not start"; }
	wait_for "$_d/maillog" 'daemon started' 20 || { cat "$_d/maillog" >&2; fail "postfix did not start"; }
}

# dovecot_start DIR POP3 POP3S CERT KEY: a private Dovecot POP3 (STLS) and POP3S
dovecot_start() {
	_d=$1
	mkdir -p "$_d/run" "$_d/state" "$_d/home"
	cat > "$_d/dovecot.conf" <<EOF
base_dir = $_d/run
state_dir = $_d/state
log_path = $_d/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$4
ssl_key = <$5
auth_mechanisms = plain
passdb {
  driver = static
  args = password=test
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$_d/home
}
mail_location = maildir:~/Maildir
service pop3-login {
  inet_listener pop3 {
    port = $2
  }
  inet_listener pop3s {
    port = $3
    ssl = yes
  }
}
EOF
	dovecot -F -c "$_d/dovecot.conf" > "$_d/stdout" 2>&1 &
	at_exit "kill $!"
	wait_for "$_d/dovecot.log" 'starting up' 20 || { cat "$_d/stdout" "$_d/dovecot.log" >&2; fail "dovecot did not start"; }
}

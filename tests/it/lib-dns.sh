# Helpers for the dns integration tests (sourced after lib.sh): an nsd on a
# loopback port serving test zones, and an unbound validating resolver in
# front of it with the signed zone's trust anchor, both in the foreground,
# with their files under $T, killed at exit.

# the servers, killed (and continued, should a test have stopped them) at exit
DNS_PIDS=""
dns_kill() {
	for _p in $DNS_PIDS; do
		kill "$_p" 2>/dev/null
		kill -CONT "$_p" 2>/dev/null	# a test may have stopped it
	done
	for _p in $DNS_PIDS; do
		wait "$_p" 2>/dev/null
	done
}
at_exit dns_kill

# free_udp_port: a UDP port free on 127.0.0.1 that is also free for TCP
free_udp_port() {
	python3 -c '
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'
}

# dns_wait PORT NAME: until the server on PORT answers for NAME (10 s)
dns_wait() {
	_n=100
	while [ $_n -gt 0 ]; do
		dig +tries=1 +time=1 -p "$1" @127.0.0.1 "$2" SOA >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# nsd_start PORT ZONE FILE ...: serves each ZONE from FILE
nsd_start() {
	_port=$1
	shift
	mkdir -p "$T/nsd"
	cat > "$T/nsd/nsd.conf" <<NSD
server:
	ip-address: 127.0.0.1@$_port
	port: $_port
	username: ""
	chroot: ""
	zonesdir: "$T/nsd"
	pidfile: "$T/nsd/nsd.pid"
	database: ""
	xfrdfile: "$T/nsd/xfrd.state"
	zonelistfile: "$T/nsd/zone.list"
	xfrdir: "$T/nsd"
	logfile: "$T/nsd/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
NSD
	while [ $# -ge 2 ]; do
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$1" "$2" >> "$T/nsd/nsd.conf"
		shift 2
	done
	nsd -d -c "$T/nsd/nsd.conf" > "$T/nsd/stdout" 2>&1 &
	NSD_PID=$!
	DNS_PIDS="$DNS_PIDS $!"
}

# unbound_start PORT NSDPORT ACCESS ...: files in $UB_DIR (one dir per port)
# unbound_start PORT NSDPORT ACCESS TRUSTANCHOR-FILE|"" STUBZONE[@PORT]...
unbound_start() {
	_port=$1 _nsd=$2 _access=$3 _ta=$4
	shift 4
	UB_DIR=$T/unbound.$_port
	mkdir -p "$UB_DIR"
	cat > "$UB_DIR/unbound.conf" <<UB
server:
	interface: 127.0.0.1@$_port
	port: $_port
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$UB_DIR"
	pidfile: "$UB_DIR/unbound.pid"
	use-syslog: no
	logfile: "$UB_DIR/unbound.log"
	verbosity: 1
	num-threads: ${UB_THREADS:-1}
	so-reuseport: no
	do-ip6: no
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 $_access
	module-config: "validator iterator"
UB
	[ -z "$_ta" ] || printf '\ttrust-anchor-file: "%s"\n' "$_ta" >> "$UB_DIR/unbound.conf"
	cat >> "$UB_DIR/unbound.conf" <<UB
	qname-minimisation: no
	minimal-responses: yes
	local-zone: "test." nodefault
	local-zone: "2.0.192.in-addr.arpa." nodefault
	local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
	# nothing leaves the machine: names outside the stub zones are refused
	local-zone: "." refuse
	outgoing-range: 256
	num-queries-per-thread: 2048
	msg-cache-size: 32m
	rrset-cache-size: 32m
UB
	for _z in "$@"; do
		printf '\tlocal-zone: "%s." transparent\n' "${_z%@*}" >> "$UB_DIR/unbound.conf"
	done
	for _z in "$@"; do
		case $_z in
		*@*) printf 'stub-zone:\n\tname: "%s"\n\tstub-addr: 127.0.0.1@%s\n' "${_z%@*}" "${_z#*@}" ;;
		*) printf 'stub-zone:\n\tname: "%s"\n\tstub-addr: 127.0.0.1@%s\n' "$_z" "$_nsd" ;;
		esac >> "$UB_DIR/unbound.conf"
	done
	unbound-checkconf "$UB_DIR/unbound.conf" >/dev/null || fail "unbound.conf"
	unbound -d -c "$UB_DIR/unbound.conf" > "$UB_DIR/stdout" 2>&1 &
	DNS_PIDS="$DNS_PIDS $!"
}

# dns_sign ZONEFILE ORIGIN: ZONEFILE.signed, and ZONEFILE.ta (the DS trust anchor)
dns_sign() {
	(
		cd "$(dirname "$1")"
		_k=$(ldns-keygen -k -a ECDSAP256SHA256 "$2")
		ldns-signzone -e 20500101000000 -o "$2" "$1" "$_k" >/dev/null
		cat "$_k.ds" > "$1.ta"
		rm -f "$_k.private"
	)
}

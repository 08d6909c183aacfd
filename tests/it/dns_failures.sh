#!/bin/sh
# DNS trouble is not a DNS finding: a server that does not answer (timeouts),
# one that refuses, and a resolver answering SERVFAIL for one zone give
# lookup-failed lines and suppress every finding that depends on them. (A
# default domain's failures are tolerated for a while: dns_defaults.sh.)
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-dns.sh"

# bad configuration: fatal at start, exit 111
make_qmailhome "$T/qmail" mx.ok.test
badconf() {	# VAR VALUE
	st=0
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" "$1=$2" "$MAINTD" -1 -C dns > "$T/out" 2>&1 || st=$?
	[ "$st" = 111 ] || fail "$1=$2: exit $st, want 111"
	grep -q "^fatal maintd: bad-config var=$1 " "$T/out" || { cat "$T/out"; fail "$1=$2: no bad-config"; }
}
badconf MAINTD_DNS_SERVERS 127.0.0.1:99999
badconf MAINTD_DNS_SERVERS resolver.example
badconf MAINTD_DNS_SELFIPS 192.0.2.300
badconf MAINTD_DNS_TIMEOUT 10
badconf MAINTD_DKIM selector-only
badconf MAINTD_DKIM "s1:example.org:$T/no-such-key.pem"
echo "not a key" > "$T/junk.pem"
badconf MAINTD_DKIM "s1:example.org:$T/junk.pem"
long=$(printf 'a%.0s' $(seq 1 60)).$(printf 'b%.0s' $(seq 1 60)).$(printf 'c%.0s' $(seq 1 60)).$(printf 'd%.0s' $(seq 1 60)).$(printf 'e%.0s' $(seq 1 60))
badconf MAINTD_DNS_DOMAINS "ok.example $long"
grep -q '^fatal maintd: bad-config var=MAINTD_DNS_DOMAINS value=aaaa.* reason=too-long$' "$T/out" || fail "304 bytes"
badconf MAINTD_DNS_DOMAINS "a..b"
badconf MAINTD_DNS_SKIP "a..b"
pass "bad configuration"

NSD_PORT=$(free_udp_port)
UB_PORT=$(free_udp_port)
DEAD_PORT=$(free_udp_port)	# nobody listens there
Z=$T/nsd
mkdir -p "$Z"
cat > "$Z/ok.test" <<ZONE
\$ORIGIN ok.test.
\$TTL 3600
@	SOA ns hostmaster 1 3600 600 86400 300
	NS ns
ns	A 127.0.0.1
mx	A 192.0.2.10
good	MX 10 mx
good	TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc.good	TXT "v=DMARC1; p=none"
bare	A 192.0.2.30
ZONE
nsd_start "$NSD_PORT" ok.test ok.test
dns_wait "$NSD_PORT" ok.test || fail "nsd did not start"
# broken.test is delegated to nsd, which does not serve it: unbound says SERVFAIL
unbound_start "$UB_PORT" "$NSD_PORT" allow "" ok.test broken.test
dns_wait "$UB_PORT" ok.test || fail "unbound did not start"

printf '%s\n' good.ok.test bare.ok.test x.broken.test > "$T/qmail/control/rcpthosts"

run() {	# SERVERS TIMEOUT-MS [DKIM [DOMAINS]]
	st=0
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_DNS_SERVERS="$1" \
	    MAINTD_DNS_TIMEOUT="$2" MAINTD_DKIM="${3:-s1:good.ok.test}" MAINTD_DNS_DOMAINS="${4:-}" \
	    "$MAINTD" -1 -C dns > "$T/out" 2>&1 || st=$?
	cat "$T/out"
	check_grammar "$T/out"
}
only_failures() {	# ERROR: every finding is a lookup-failed with that error
	grep -Ev '^info (dns: checked|sweep: (start|done)|maintd: start)' "$T/out" |
	    grep -Ev "^warn dns: lookup-failed name=[^ ]+ type=[A-Z]+ error=$1\$" >&2 &&
	    fail "lines above are not lookup-failed error=$1" || true
	grep -q "lookup-failed .*error=$1\$" "$T/out" || fail "no lookup-failed error=$1"
}

# a port nobody listens on (port unreachable): the check could not check
t0=$(date +%s)
run "127.0.0.1:$DEAD_PORT" 300
only_failures timeout
grep -Eq '^info dns: checked domains=3 queries=([0-9]+) failed=\1 ' "$T/out" || fail "all queries failed"
[ "$st" = 3 ] || fail "exit $st, want 3 (could not check)"
[ $(( $(date +%s) - t0 )) -lt 10 ] || fail "timeouts took too long"
pass "unreachable server"

# a stopped server: real timeouts
tree() {	# PID and its descendants (nsd's server runs two levels down)
	echo "$1"
	for _c in $(pgrep -P "$1"); do tree "$_c"; done
}
nsd_procs=$(tree "$NSD_PID" | tr '\n' ' ')
at_exit "kill -CONT $nsd_procs 2>/dev/null"	# before dns_kill: stopped, they would not exit
kill -STOP $nsd_procs
t0=$(date +%s)
run "127.0.0.1:$NSD_PORT" 600
kill -CONT $nsd_procs
only_failures timeout
[ "$st" = 3 ] || fail "exit $st, want 3 (could not check)"
[ $(( $(date +%s) - t0 )) -lt 10 ] || fail "timeouts took too long"
pass "stopped server"

# nsd asked about names outside its zones: REFUSED
printf '%s\n' good.other.example > "$T/qmail/control/rcpthosts"
echo mx.other.example > "$T/qmail/control/me"
run "127.0.0.1:$NSD_PORT" 2000 s1:good.other.example
only_failures refused
[ "$st" = 3 ] || fail "exit $st, want 3"
pass "refused"

# the resolver: SERVFAIL for the zone whose servers are dead, findings for
# the rest; the domains are named (MAINTD_DNS_DOMAINS): each is required
printf '%s\n' good.ok.test bare.ok.test x.broken.test > "$T/qmail/control/rcpthosts"
echo mx.ok.test > "$T/qmail/control/me"
run "127.0.0.1:$UB_PORT" 8000 s1:good.ok.test "good.ok.test bare.ok.test x.broken.test"
grep -q '^warn dns: lookup-failed name=x.broken.test type=MX error=servfail$' "$T/out" ||
    fail "no servfail for the broken zone"
grep -q '^warn dns: lookup-failed name=_dmarc.x.broken.test type=TXT error=servfail$' "$T/out" ||
    fail "no servfail for the broken zone's DMARC"
! grep -E '^(warn|crit) dns: [a-z-]+ domain=x.broken.test' "$T/out" || fail "a finding from a SERVFAIL"
grep -q '^info dns: implicit-mx domain=bare.ok.test$' "$T/out" || fail "the working zone was not checked"
grep -q '^warn dns: spf-missing domain=bare.ok.test$' "$T/out" || fail "a named domain needs SPF"
grep -q '^warn dns: dkim-missing selector=s1 domain=good.ok.test reason=nxdomain$' "$T/out" || fail "dkim"
! grep -E '^(warn|crit) dns: [a-z-]+ domain=good.ok.test' "$T/out" || fail "a finding for the good domain"
[ "$st" = 3 ] || fail "exit $st, want 3 (a lookup failed: could not check all)"
pass "servfail"

# the same from control/rcpthosts: a default domain's failure is tolerated
# (dns_defaults.sh counts the sweeps), the check completes for the others
run "127.0.0.1:$UB_PORT" 8000
! grep -q 'lookup-failed' "$T/out" || fail "lookup-failed for a default domain"
grep -q '^info dns: implicit-mx domain=bare.ok.test$' "$T/out" || fail "the working zone was not checked"
! grep -q 'spf-missing domain=bare.ok.test' "$T/out" || fail "spf-missing for a default host name"
grep -q '^warn dns: dkim-missing selector=s1 domain=good.ok.test reason=nxdomain$' "$T/out" || fail "dkim"
[ "$st" = 1 ] || fail "exit $st, want 1 (dkim-missing only)"
pass "servfail of a default domain"

# the daemon: a finding whose lookup fails in a later sweep is not cleared
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state-d" MAINTD_CHECKS=dns \
    MAINTD_DNS_SERVERS="127.0.0.1:$NSD_PORT" MAINTD_DNS_TIMEOUT=600 \
    MAINTD_DNS_DOMAINS="good.ok.test bare.ok.test" \
    "$MAINTD" > "$T/daemon" 2>&1 &
dpid=$!
at_exit "kill $dpid"
wait_for "$T/daemon" 'sweep: done reason=start' 20 || fail "no first sweep"
grep -q '^warn dns: spf-missing domain=bare.ok.test$' "$T/daemon" || fail "no spf-missing"
kill -STOP $nsd_procs
kill -HUP "$dpid"
wait_for "$T/daemon" 'sweep: done reason=hup' 20 || fail "no second sweep"
kill -CONT $nsd_procs
cat "$T/daemon"
grep -q 'lookup-failed name=bare.ok.test type=TXT error=timeout' "$T/daemon" || fail "no timeout"
! grep -q 'cleared' "$T/daemon" || fail "a finding cleared because its lookup failed"
kill -TERM "$dpid"
pass "no clearing on lookup failures"

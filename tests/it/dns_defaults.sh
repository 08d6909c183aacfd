#!/bin/sh
# The dns check's defaults on a qmail host as qmail's config.sh leaves it
# (issue 14): control/rcpthosts holds localhost and the host's own name (an
# A record only, in a real nsd zone) beside two real domains: no finding for
# the first two, and the check completes. A default domain whose lookups
# fail is tolerated for two sweeps and is domain-unresolvable at the third
# (once), counted across -1 runs in MAINTD_STATE; MAINTD_DNS_SKIP leaves it
# out; the daemon keeps a failing domain's findings instead of clearing them.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-dns.sh"

NSD_PORT=$(free_udp_port)
NSD2_PORT=$(free_udp_port)	# flaky.test, on a server of its own (stopped below)
UB_PORT=$(free_udp_port)
Z=$T/nsd
mkdir -p "$Z"
cat > "$Z/host.test" <<ZONE
\$ORIGIN host.test.
\$TTL 3600
@	SOA ns hostmaster 1 3600 600 86400 300
	NS ns
ns	A 127.0.0.1
mx1	A 192.0.2.10
d1	MX 10 mx1
d1	TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc.d1	TXT "v=DMARC1; p=reject"
d2	MX 10 mx1
d2	TXT "v=spf1 a:mx1.host.test -all"
_dmarc.d2	TXT "v=DMARC1; p=quarantine"
ZONE
cat > "$Z/rev" <<ZONE
\$ORIGIN 2.0.192.in-addr.arpa.
\$TTL 3600
@	SOA ns.host.test. hostmaster.host.test. 1 3600 600 86400 300
	NS ns.host.test.
10	PTR mx1.host.test.
ZONE
nsd_start "$NSD_PORT" host.test host.test 2.0.192.in-addr.arpa rev
dns_wait "$NSD_PORT" host.test || { cat "$Z/nsd.log" "$Z/stdout" >&2; fail "nsd did not start"; }
# broken.test is delegated to nsd, which does not serve it: unbound says SERVFAIL
unbound_start "$UB_PORT" "$NSD_PORT" allow "" host.test 2.0.192.in-addr.arpa broken.test
dns_wait "$UB_PORT" host.test || fail "unbound did not start"

make_qmailhome "$T/qmail" mx1.host.test
# what qmail's config.sh writes (localhost, the host's name), an operator's
# two domains, and lines the default list leaves out
printf '%s\n' localhost mx1.host.test d1.host.test D2.Host.Test. mail '[192.0.2.10]' \
    192.0.2.10 a.localhost .wild.host.test > "$T/qmail/control/rcpthosts"

run() {	# OUT VAR=VALUE...: one -1 sweep of dns (-v); its exit status in $st
	_o=$1
	shift
	st=0
	env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" \
	    MAINTD_DNS_TIMEOUT=3000 "$@" "$MAINTD" -1 -v -C dns > "$T/$_o" 2>&1 || st=$?
	check_grammar "$T/$_o"
}
has() { grep -Eq -- "$2" "$T/$1" || { cat "$T/$1"; fail "$1: no line matching: $2"; }; }
hasnt() { ! grep -Eq -- "$2" "$T/$1" || { cat "$T/$1"; fail "$1: a line matching: $2"; }; }

run out1
cat "$T/out1"
has out1 '^info dns: checked domains=3 queries=[0-9]+ failed=0 ms=[0-9]+$'
has out1 '^info dns: implicit-mx domain=mx1.host.test$'
hasnt out1 'localhost|domain=mail |192\.0\.2\.10\]|wild'
hasnt out1 '^(warn|crit) '
has out1 '^info dns: dmarc domain=d1.host.test policy=reject$'
has out1 '^info dns: dmarc domain=d2.host.test policy=quarantine$'
[ "$st" = 0 ] || fail "exit $st on a healthy host, want 0"
pass "localhost, the host's name, two domains: no finding, exit 0"

# the host's name listed explicitly: SPF and DMARC required of it, still no mx-missing
run out2 MAINTD_DNS_DOMAINS="mx1.host.test d1.host.test"
has out2 '^info dns: implicit-mx domain=mx1.host.test$'
has out2 '^warn dns: spf-missing domain=mx1.host.test$'
has out2 '^warn dns: dmarc-missing domain=mx1.host.test$'
hasnt out2 'mx-missing'
pass "an explicit host name: SPF and DMARC required"

# a default domain whose lookups fail (SERVFAIL): tolerated twice, counted
# across -1 runs, domain-unresolvable the third time; the rest is checked
echo x.broken.test >> "$T/qmail/control/rcpthosts"
rm -rf "$T/state"
mkdir -p "$T/state"
for i in 1 2; do
	run fail$i
	has fail$i '^info dns: checked domains=4 '
	has fail$i "^debug dns: domain-failures domain=x.broken.test sweeps=$i\$"
	hasnt fail$i 'lookup-failed|^(warn|crit) '
	has fail$i '^info dns: implicit-mx domain=mx1.host.test$'
	[ "$st" = 0 ] || { cat "$T/fail$i"; fail "run $i: exit $st, want 0 (tolerated)"; }
done
grep -qx '2 x.broken.test' "$T/state/dns.failures" || fail "the count is not in the state"
run fail3
cat "$T/fail3"
has fail3 '^warn dns: domain-unresolvable domain=x.broken.test sweeps=3 error=servfail$'
has fail3 '^info dns: implicit-mx domain=mx1.host.test$'
has fail3 '^info dns: dmarc domain=d1.host.test policy=reject$'
hasnt fail3 'lookup-failed'
[ "$(count "$T/fail3" '^(warn|crit) ')" = 1 ] || fail "more than domain-unresolvable"
[ "$st" = 1 ] || fail "run 3: exit $st, want 1 (a warning: the check completed)"
# -N: WARNING
st=0
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" MAINTD_DNS_SERVERS="127.0.0.1:$UB_PORT" \
    "$MAINTD" -N -C dns > "$T/nagios" 2>&1 || st=$?
head -1 "$T/nagios" | grep -q '^QMAIL-MAINTD WARNING' || { cat "$T/nagios"; fail "-N not WARNING"; }
[ "$st" = 1 ] || fail "-N: exit $st"
pass "a default domain failing: tolerated twice, domain-unresolvable at the third"

# MAINTD_DNS_SKIP leaves it out: exit 0
run skip MAINTD_DNS_SKIP=x.broken.test
hasnt skip 'broken|^(warn|crit) '
has skip '^info dns: checked domains=3 '
[ "$st" = 0 ] || fail "MAINTD_DNS_SKIP: exit $st"
run skip2 MAINTD_DNS_SKIP=.broken.test
hasnt skip2 'broken'
pass "MAINTD_DNS_SKIP"

# the same domain named in MAINTD_DNS_DOMAINS: required, the run fails at once
run named MAINTD_DNS_DOMAINS="d1.host.test x.broken.test"
has named '^warn dns: lookup-failed name=x.broken.test type=MX error=servfail$'
[ "$st" = 3 ] || fail "a named domain failing: exit $st, want 3"
pass "a named domain failing: lookup-failed, exit 3"

# The daemon: a default domain with findings whose lookups then fail keeps
# its findings (they are not cleared) until it is domain-unresolvable.
# flaky.test is on a second nsd (stopped below), with TTL 0: unbound keeps
# nothing of it. Timer sweeps (a SIGHUP starts the probe process again).
cat > "$Z/flaky.test" <<ZONE
\$ORIGIN flaky.test.
\$TTL 0
@	SOA ns.host.test. hostmaster.host.test. 1 3600 600 86400 0
	NS ns.host.test.
nospf	MX 10 mx1.host.test.
ZONE
mkdir -p "$T/nsd2"
sed -e "s|@$NSD_PORT|@$NSD2_PORT|; s|port: $NSD_PORT|port: $NSD2_PORT|" \
    -e "s|\"$T/nsd/|\"$T/nsd2/|g; s|zonesdir: \"$T/nsd\"|zonesdir: \"$T/nsd2\"|" \
    -e '/^zone:/,$d' "$Z/nsd.conf" > "$T/nsd2/nsd.conf"
printf 'zone:\n\tname: "flaky.test"\n\tzonefile: "%s"\n' "$Z/flaky.test" >> "$T/nsd2/nsd.conf"
nsd -d -c "$T/nsd2/nsd.conf" > "$T/nsd2/stdout" 2>&1 &
NSD2_PID=$!
DNS_PIDS="$DNS_PIDS $NSD2_PID"
dns_wait "$NSD2_PORT" flaky.test || { cat "$T/nsd2/stdout" >&2; fail "nsd 2 did not start"; }
UB2=$(free_udp_port)
unbound_start "$UB2" "$NSD_PORT" allow "" host.test 2.0.192.in-addr.arpa "flaky.test@$NSD2_PORT"
dns_wait "$UB2" host.test || fail "unbound 2 did not start"
printf '%s\n' localhost mx1.host.test d1.host.test nospf.flaky.test > "$T/qmail/control/rcpthosts"
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state-d" MAINTD_CHECKS=dns MAINTD_INTERVAL_DNS=1 \
    MAINTD_DNS_SERVERS="127.0.0.1:$UB2" MAINTD_DNS_TIMEOUT=1000 \
    "$MAINTD" > "$T/daemon" 2>&1 &
dpid=$!
at_exit "kill $dpid 2>/dev/null"
wait_for "$T/daemon" 'sweep: done reason=start' 20 || { cat "$T/daemon"; fail "no first sweep"; }
grep -q '^warn dns: spf-missing domain=nospf.flaky.test$' "$T/daemon" || { cat "$T/daemon"; fail "no spf-missing"; }
tree() { echo "$1"; for _c in $(pgrep -P "$1"); do tree "$_c"; done; }
nsd2_procs=$(tree "$NSD2_PID" | tr '\n' ' ')
at_exit "kill -CONT $nsd2_procs 2>/dev/null"
sweeps() { count "$T/daemon" 'sweep: done reason=timer'; }
n0=$(sweeps)
kill -STOP $nsd2_procs
# the sweep under way may still have had answers: 4 more, of which at least
# 2 failing before the third
n=0
while [ "$(sweeps)" -lt $((n0 + 4)) ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
kill -CONT $nsd2_procs
kill -TERM "$dpid"
cat "$T/daemon"
[ "$(sweeps)" -ge $((n0 + 4)) ] || fail "no 4 timer sweeps"
grep -q '^warn dns: domain-unresolvable domain=nospf.flaky.test sweeps=3 error=timeout$' "$T/daemon" ||
    fail "no domain-unresolvable at the third failing sweep"
# spf-missing stayed until then: cleared only after domain-unresolvable
awk '/domain-unresolvable domain=nospf.flaky.test/ { u = NR } /cleared spf-missing domain=nospf.flaky.test/ { c = NR }
    END { exit !(c == 0 || (u && c > u)) }' "$T/daemon" ||
    fail "the findings of a domain whose lookups failed were cleared before it was unresolvable"
! grep -q 'lookup-failed' "$T/daemon" || fail "lookup-failed for a default domain"
! grep -q 'checks_failed=1' "$T/daemon" || fail "a failed dns run"
pass "the daemon keeps a failing default domain's findings, then says domain-unresolvable"

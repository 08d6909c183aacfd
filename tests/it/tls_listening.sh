#!/bin/sh
# A service that stopped answering is never OK (issue 14, item 1). The
# default targets are the real ports (25, 465, 587, 110, 995), so the test
# runs in a network namespace of its own: a private loopback where a real
# Postfix (smtp on 25, smtps on 465) and a real Dovecot (pop3 on 110) listen
# and nothing is on 587 and 995. Of the defaults, smtp on 25 is required from
# the first run, the others once seen listening (MAINTD_STATE/tls.seen);
# named targets are required from the first run. -N, the status counts and
# qmail_tls_probe_ok agree.
if [ -z "${TLS_LISTENING_NETNS:-}" ]; then
	command -v unshare >/dev/null && command -v ip >/dev/null ||
	    { echo "FAIL: unshare and ip (util-linux, iproute2) are needed" >&2; exit 1; }
	TLS_LISTENING_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up || { echo "FAIL: no loopback in the namespace" >&2; exit 1; }
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/libtls.sh"

make_qmailhome "$T/qmail" mx1.sec.test
tls_ca "$T/ca"
tls_cert "$T/ca" "$T/mx" mx1.sec.test "$(tls_date '-1 day')" "$(tls_date '+365 days')"
# smtp 25, smtps 465 (and 2525, not a default target); pop3 110 (pop3s on 10995)
postfix_start "$T/postfix" 25 2525 465 "$T/mx.pem" "$T/mx.key" "$T/mx.pem" "$T/mx.key" \
    "$T/mx.pem" "$T/mx.key"
dovecot_start "$T/dovecot" 110 10995 "$T/mx.pem" "$T/mx.key"
mkdir -p "$T/prom"

# run OUT STATE [-N] [VAR=VALUE...]: one -1 sweep of the default targets
run() {
	_o=$1 _s=$2
	shift 2
	_n=-1
	[ "${1:-}" != -N ] || { _n=-N; shift; }
	rc=0
	env QMAILHOME="$T/qmail" MAINTD_STATE="$_s" MAINTD_TLS_SPREAD=0 MAINTD_TLS_DANE=0 \
	    MAINTD_TLS_TIMEOUT=5 MAINTD_TLS_CAFILE="$T/ca/ca.pem" \
	    "$@" "$MAINTD" $_n -v -P "$T/prom/qmail.prom" -C tls > "$T/$_o" 2> "$T/$_o.err" || rc=$?
	[ ! -s "$T/$_o.err" ] || { cat "$T/$_o.err" >&2; fail "$_o: stderr output"; }
}
probe_ok() {	# TARGET: its qmail_tls_probe_ok, or "none"
	_v=$(sed -n "s|^qmail_tls_probe_ok{target=\"$1\"} ||p" "$T/prom/qmail.prom")
	echo "${_v:-none}"
}

mkdir -p "$T/state"
run out1 "$T/state"
check_grammar "$T/out1"
for t in smtp://127.0.0.1:25 smtps://127.0.0.1:465 pop3://127.0.0.1:110; do
	expect "$T/out1" "^info tls: ok target=$t version=" 1
	expect "$T/out1" "^debug tls: seen-listening target=$t\$" 1
	[ "$(probe_ok "$t")" = 1 ] || fail "probe_ok of $t: $(probe_ok "$t")"
done
for t in submission://127.0.0.1:587 pop3s://127.0.0.1:995; do
	expect "$T/out1" "^info tls: not-listening target=$t reason=refused\$" 1
	# a service the site does not run: no series at all (not a failed probe)
	[ "$(probe_ok "$t")" = none ] || fail "probe_ok of $t: $(probe_ok "$t")"
done
expect "$T/out1" '^info sweep: done .* checks_ok=1 checks_failed=0 warn=0 crit=0$' 1
[ "$rc" = 0 ] || fail "exit $rc with two optional services absent, want 0"
printf '%s\n' smtp://127.0.0.1:25 smtps://127.0.0.1:465 pop3://127.0.0.1:110 > "$T/want.seen"
cmp "$T/want.seen" "$T/state/tls.seen" || { cat "$T/state/tls.seen"; fail "tls.seen"; }
run out1n "$T/state" -N
head -1 "$T/out1n" | grep -q '^QMAIL-MAINTD OK' || { cat "$T/out1n"; fail "-N not OK"; }
pass "first sweep: three services seen listening, two absent, OK"

# Postfix stops: smtp (required) and smtps (seen before) are crit; -N CRITICAL
postfix -c "$T/postfix/conf" stop >/dev/null 2>&1
n=0
while python3 -c 'import socket; socket.create_connection(("127.0.0.1", 25), 1)' 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "postfix does not stop"
	sleep 0.1
done
run out2 "$T/state" -N
cat "$T/out2"
head -1 "$T/out2" | grep -q '^QMAIL-MAINTD CRITICAL' || fail "-N not CRITICAL"
[ "$rc" = 2 ] || fail "-N: exit $rc, want 2"
expect "$T/out2" '^crit tls: not-listening target=smtp://127.0.0.1:25 reason=refused$' 1
expect "$T/out2" '^crit tls: not-listening target=smtps://127.0.0.1:465 reason=refused$' 1
expect "$T/out2" '^info tls: not-listening target=submission://127.0.0.1:587 reason=refused$' 1
expect "$T/out2" '^info tls: ok target=pop3://127.0.0.1:110 ' 1
expect "$T/out2" '^info sweep: done .* warn=0 crit=2$' 1
[ "$(probe_ok smtp://127.0.0.1:25)" = 0 ] || fail "probe_ok of smtp: $(probe_ok smtp://127.0.0.1:25)"
[ "$(probe_ok smtps://127.0.0.1:465)" = 0 ] || fail "probe_ok of smtps"
[ "$(probe_ok pop3://127.0.0.1:110)" = 1 ] || fail "probe_ok of pop3"
[ "$(probe_ok submission://127.0.0.1:587)" = none ] || fail "probe_ok of submission"
pass "Postfix stopped: crit not-listening, -N CRITICAL, probe_ok 0"

# no memory (a new state directory): smtp on 25 is required from the first
# run, smtps never seen listening is not
mkdir -p "$T/state2"
run out3 "$T/state2"
expect "$T/out3" '^crit tls: not-listening target=smtp://127.0.0.1:25 reason=refused$' 1
expect "$T/out3" '^info tls: not-listening target=smtps://127.0.0.1:465 reason=refused$' 1
[ "$rc" = 2 ] || fail "exit $rc, want 2"
# named targets are required from the first run
run out4 "$T/state2" MAINTD_TLS_TARGETS="pop3s://127.0.0.1:995 pop3://127.0.0.1:110"
expect "$T/out4" '^crit tls: not-listening target=pop3s://127.0.0.1:995 reason=refused$' 1
expect "$T/out4" '^info tls: ok target=pop3://127.0.0.1:110 ' 1
[ "$rc" = 2 ] || fail "exit $rc, want 2"
pass "smtp on 25 and named targets required from the first run"

# The daemon, as supervise runs it: Postfix up at its first sweep, stopped
# before the next (after svc -h: the probe process starts again, from what
# the root process kept)
postfix -c "$T/postfix/conf" start >/dev/null 2>&1 || fail "postfix did not start again"
n=0
until python3 -c 'import socket; socket.create_connection(("127.0.0.1", 465), 1)' 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 200 ] || fail "postfix does not listen again"
	sleep 0.1
done
mkdir -p "$T/state3"
env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state3" MAINTD_CHECKS=tls MAINTD_TLS_SPREAD=0 \
    MAINTD_TLS_DANE=0 MAINTD_TLS_TIMEOUT=5 MAINTD_TLS_CAFILE="$T/ca/ca.pem" \
    "$MAINTD" > "$T/daemon" 2>&1 &
dpid=$!
at_exit "kill $dpid 2>/dev/null"
wait_for "$T/daemon" 'sweep: done reason=start' 30 || { cat "$T/daemon"; fail "no first sweep"; }
expect "$T/daemon" '^info tls: ok target=smtps://127.0.0.1:465 ' 1
postfix -c "$T/postfix/conf" stop >/dev/null 2>&1
sleep 1
kill -HUP "$dpid"
wait_for "$T/daemon" 'sweep: done reason=hup' 30 || { cat "$T/daemon"; fail "no second sweep"; }
kill -TERM "$dpid"
wait "$dpid" || true
cat "$T/daemon"
expect "$T/daemon" '^crit tls: not-listening target=smtp://127.0.0.1:25 reason=refused$' 1
expect "$T/daemon" '^crit tls: not-listening target=smtps://127.0.0.1:465 reason=refused$' 1
expect "$T/daemon" '^info sweep: done reason=hup .* crit=2$' 1
run out5 "$T/state3" -N
head -1 "$T/out5" | grep -q '^QMAIL-MAINTD CRITICAL' || { cat "$T/out5"; fail "-N after the daemon: not CRITICAL"; }
pass "the daemon: Postfix stopped after the first sweep is crit"

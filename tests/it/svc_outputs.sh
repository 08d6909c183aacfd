#!/bin/sh
# The same findings as a Nagios/Icinga plugin (-1 -N: status line first, exit
# 0/1/2 for an OK, a WARNING and a CRITICAL setup, run the way an agent runs
# it) and as a Prometheus textfile (MAINTD_PROMFILE), checked with a real
# parser, in one-shot and daemon mode.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-svc.sh"
# Debian's python3, not another one on PATH: python3-prometheus-client is there

make_qmailhome "$T/qmail"
sv=$T/sv
mkservice "$sv/ok" 'exec sleep 300'
mkservice "$sv/pz" 'exec sleep 300'
mkservice "$sv/dn" 'exec sleep 300'
start_svscan "$sv"
for s in ok pz dn; do wait_up "$sv/$s" 10 || fail "$s did not start"; done
svc -p "$sv/pz"
svc -d "$sv/dn"
# three /service directories: healthy; a paused service; a stopped one too
mkdir -p "$T/set-ok" "$T/set-warn" "$T/set-crit" "$T/prom"
ln -s "$sv/ok" "$T/set-ok/ok"
ln -s "$sv/ok" "$T/set-warn/ok"
ln -s "$sv/pz" "$T/set-warn/pz"
for s in ok pz dn; do ln -s "$sv/$s" "$T/set-crit/$s"; done
sleep 3		# up longer than MINUP=2

plugin() {	# plugin SET: as an agent runs it, no terminal, bounded time
	rc=0
	MAINTD_SERVICES=$T/set-$1 MAINTD_STATE=$T/state-$1 QMAILHOME=$T/qmail MAINTD_SVC_MINUP=2 \
	    timeout 30 "$MAINTD" -1 -N -P "$T/prom/$1.prom" -C svc < /dev/null > "$T/$1.out" 2> "$T/$1.err" || rc=$?
	[ ! -s "$T/$1.err" ] || { cat "$T/$1.err" >&2; fail "stderr not empty"; }
	sed -n 1p "$T/$1.out"
	# the status line (and, in the plugin's long output, its other lines),
	# then the log lines
	grep -E '^(debug|info|warn|crit|fatal) ' "$T/$1.out" > "$T/$1.lines" || true
	check_grammar "$T/$1.lines"
	grep -Eq '^info sweep: start ' "$T/$1.lines" || fail "no finding lines after the status line"
	/usr/bin/python3 "$SOURCE_DIR/tests/it/promcheck.py" "$T/prom/$1.prom" > "$T/$1.samples" ||
	    fail "$1.prom does not parse"
	[ ! -e "$T/prom/$1.prom.tmp" ] || fail "a temporary file was left"
}
sample() { grep -Fqx -- "$2" "$T/$1.samples" || { cat "$T/$1.samples" >&2; fail "no sample '$2' in $1"; }; }

plugin ok
[ "$rc" = 0 ] || fail "OK setup: exit $rc"
grep -Eq "^QMAIL-MAINTD OK - 1 checks ok, no findings \| 'findings_crit'=0;;;0 'findings_warn'=0;;;0 " "$T/ok.out" &&
    grep -q "'svc_up'=1;;;0;1" "$T/ok.out" || fail "OK status line"
sample ok "qmail_svc_up{service=\"$T/set-ok/ok\"} 1"
sample ok 'qmail_maintd_findings{check="svc",level="crit"} 0'
sample ok 'qmail_maintd_check_failed{check="svc"} 0'

plugin warn
[ "$rc" = 1 ] || fail "WARNING setup: exit $rc"
grep -Eq "^QMAIL-MAINTD WARNING - 0 critical, 1 warning, 0 could not check: svc paused service=$T/set-warn/pz( \||\$)" "$T/warn.out" &&
    grep -q "'svc_up'=2;;;0;2" "$T/warn.out" || fail "WARNING status line"
sample warn 'qmail_maintd_findings{check="svc",level="warn"} 1'

plugin crit
[ "$rc" = 2 ] || fail "CRITICAL setup: exit $rc"
grep -Eq "^QMAIL-MAINTD CRITICAL - 1 critical, 1 warning, 0 could not check: svc down service=$T/set-crit/dn" "$T/crit.out" &&
    grep -q "svc paused service=$T/set-crit/pz" "$T/crit.out" &&
    grep -q "'svc_up'=2;;;0;3" "$T/crit.out" || fail "CRITICAL status line"
grep -Eq "^crit svc: down service=$T/set-crit/dn " "$T/crit.lines" || fail "no down line"
sample crit "qmail_svc_up{service=\"$T/set-crit/dn\"} 0"
sample crit "qmail_svc_up{service=\"$T/set-crit/pz\"} 1"
sample crit "qmail_svc_restarts_total{service=\"$T/set-crit/ok\"} 0"
sample crit 'qmail_maintd_findings{check="svc",level="crit"} 1'
grep -Eq '^qmail_maintd_last_sweep_timestamp_seconds\{\} [0-9.e+]+$' "$T/crit.samples" || fail "no last sweep time"
grep -Eq '^qmail_maintd_sweep_duration_seconds\{\} ' "$T/crit.samples" || fail "no sweep duration"

# a start it cannot make is UNKNOWN (3), still with a status line first
rc=0
MAINTD_STATE=$T/state-x QMAILHOME=$T/qmail \
    timeout 30 "$MAINTD" -1 -N -P "$T/nodir/x.prom" -C svc < /dev/null > "$T/bad.out" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "bad -P with -N: exit $rc"
sed -n 1p "$T/bad.out" | grep -Eq '^QMAIL-MAINTD UNKNOWN - cannot start: bad-config$' || fail "UNKNOWN line"
grep -Eq '^fatal maintd: bad-config var=-P value=[^ ]+ reason=missing$' "$T/bad.out" || fail "bad-config line"

# the daemon rewrites the file after every sweep; a reader never sees half of it
MAINTD_SERVICES=$T/set-crit MAINTD_STATE=$T/state-d QMAILHOME=$T/qmail MAINTD_SVC_MINUP=2 \
    MAINTD_PROMFILE=$T/prom/d.prom MAINTD_INTERVAL_SVC=1 "$MAINTD" -C svc > "$T/d.out" 2>&1 &
daemon=$!
kill_later $daemon
wait_for "$T/d.out" '^info sweep: done reason=timer ' 10 || fail "no timed sweep"
t1=$(grep '^qmail_maintd_last_sweep_timestamp_seconds ' "$T/prom/d.prom")
reads=0
while [ $reads -lt 12 ]; do
	/usr/bin/python3 "$SOURCE_DIR/tests/it/promcheck.py" "$T/prom/d.prom" > "$T/d.samples" ||
	    fail "read $reads of the daemon's file does not parse"
	reads=$((reads + 1))
done
wait_for "$T/d.out" '^info sweep: done reason=timer .*' 5
sleep 1.2
t2=$(grep '^qmail_maintd_last_sweep_timestamp_seconds ' "$T/prom/d.prom")
[ "$t1" != "$t2" ] || fail "the file was not rewritten ($t1)"
grep -q "qmail_svc_up{service=\"$T/set-crit/dn\"} 0" "$T/prom/d.samples" 2>/dev/null ||
    grep -q "qmail_svc_up{service=\"$T/set-crit/dn\"} 0" "$T/d.samples" || fail "daemon samples"
kill $daemon
wait $daemon 2>/dev/null || true
grep -Eq '^info maintd: exiting signal=TERM$' "$T/d.out" || fail "daemon did not exit cleanly"
check_grammar "$T/d.out"
pass "Nagios and Prometheus outputs"

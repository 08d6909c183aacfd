#!/bin/sh
# The svc check on services supervised by runit's runsv (its 20-byte
# supervise/status, and its supervise/stat and pid text when there is no
# status): up, paused (sv pause), stopped (sv down), and runsv gone.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-svc.sh"

command -v runsv >/dev/null || fail "runsv missing: install runit (tests/deps/svc.txt)"
make_qmailhome "$T/qmail"
for s in up pz dn gone; do
	mkservice "$T/service/$s" 'exec sleep 300'
	runsv "$T/service/$s" >/dev/null 2>&1 &
	kill_later $!
	eval "runsv_$s=$!"
done
at_exit stop_runsv
stop_runsv() { for s in up pz dn gone; do sv exit "$T/service/$s" >/dev/null 2>&1; done; }
for s in up pz dn gone; do
	n=0
	until grep -q '^run' "$T/service/$s/supervise/stat" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 100 ] || fail "runsv did not start $s"
		sleep 0.1
	done
done
sv pause "$T/service/pz" >/dev/null
sv down "$T/service/dn" >/dev/null
# runsv killed: its service keeps running, unsupervised
gonepid=$(cat "$T/service/gone/supervise/pid")
kill_later "$gonepid"
kill "$runsv_gone"
wait "$runsv_gone" 2>/dev/null || true
sleep 2.5

maintd_svc "$T/out" "$T/service" -v
cat "$T/out"
check_grammar "$T/out"
[ "$rc" = 2 ] || fail "exit $rc, wanted 2"
S=$T/service
must() { grep -Eq -- "$1" "$T/out" || fail "no line /$1/"; }
must "^info svc: service path=$S/up state=up pid=[1-9][0-9]* uptime=[0-9]+ restarts=0 total=0 layout=runit$"
must "^warn svc: paused service=$S/pz$"
must "^crit svc: down service=$S/dn want=down since=[0-9]+$"
must "^crit svc: not-supervised service=$S/gone$"
! grep -Eq "^(warn|crit) svc: [a-z-]+ service=$S/up( |$)" "$T/out" || fail "a finding for the healthy service"

# runit's text files alone (an older runsv, or status unreadable)
mv "$S/up/supervise/status" "$T/status.up"
mv "$S/dn/supervise/status" "$T/status.dn"
maintd_svc "$T/out2" "$T/service" -v
cat "$T/out2"
grep -Eq "^info svc: service path=$S/up state=up pid=[1-9][0-9]* uptime=[0-9]+ .* layout=runit$" "$T/out2" || fail "up from stat/pid"
grep -Eq "^crit svc: down service=$S/dn want=down since=[0-9]+$" "$T/out2" || fail "down from stat/pid"
pass "svc on runit"

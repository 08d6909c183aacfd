#!/bin/sh
# The svc check against real daemontools: a healthy service with a log, one
# that exits at once (flapping), one stopped with svc -d, a paused one, one
# whose supervise was killed, one whose log service is down; and bad input:
# a truncated and an oversized status file, a symlink loop, a plain file.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-svc.sh"

make_qmailhome "$T/qmail"
sv=$T/sv
mkservice "$sv/ok" 'exec sleep 300'
mkservice "$sv/ok/log" 'exec multilog t ./main'
mkservice "$sv/flap" 'exit 1'
mkservice "$sv/dn" 'exec sleep 300'
mkservice "$sv/pz" 'exec sleep 300'
mkservice "$sv/logdn" 'exec sleep 300'
mkservice "$sv/logdn/log" 'exec cat > /dev/null'
start_svscan "$sv"

# supervise alone, outside svscan (which would restart it), then killed
mkservice "$T/solo/nosup" 'exec sleep 300'
supervise "$T/solo/nosup" >/dev/null 2>&1 &
sup=$!
kill_later "$sup"
wait_up "$T/solo/nosup" 10 || fail "nosup did not start"
child=$(status_pid "$T/solo/nosup")
kill_later "$child"
kill "$sup"
wait "$sup" 2>/dev/null || true

for s in ok ok/log dn pz logdn logdn/log; do
	wait_up "$sv/$s" 10 || fail "$s did not start"
done
svc -d "$sv/dn"
svc -p "$sv/pz"
svc -d "$sv/logdn/log"

# what /service usually is: symlinks to the service directories, plus junk
svcdir=$T/service
mkdir -p "$svcdir"
for s in ok flap dn pz logdn; do ln -s "$sv/$s" "$svcdir/$s"; done
ln -s "$T/solo/nosup" "$svcdir/nosup"
ln -s loop "$svcdir/loop"
echo "not a service" > "$svcdir/notadir"
# fake supervise directories: supervise/ok held open for reading, bad status
for s in trunc huge; do
	mkdir -p "$T/fake/$s/supervise"
	mkfifo "$T/fake/$s/supervise/ok"
	sleep 300 <> "$T/fake/$s/supervise/ok" &
	kill_later $!
	ln -s "$T/fake/$s" "$svcdir/$s"
done
head -c 10 "$sv/ok/supervise/status" > "$T/fake/trunc/supervise/status"
head -c 100 /dev/zero > "$T/fake/huge/supervise/status"

sleep 3		# the healthy ones are now up longer than MINUP=2
maintd_svc "$T/out1" "$svcdir" -v
[ "$rc" = 2 ] || fail "first run: exit $rc, wanted 2"
check_grammar "$T/out1"
sleep 2
maintd_svc "$T/out2" "$svcdir" -v
[ "$rc" = 2 ] || fail "second run: exit $rc, wanted 2"
check_grammar "$T/out2"
cat "$T/out2"

S=$svcdir
must() { grep -Eq -- "$2" "$1" || fail "no line /$2/ in $1"; }
mustnot() { ! grep -Eq -- "$2" "$1" || fail "unexpected /$2/ in $1"; }
for o in "$T/out1" "$T/out2"; do
	must "$o" "^crit svc: down service=$S/dn want=down since=[0-9]+$"
	must "$o" "^warn svc: paused service=$S/pz$"
	must "$o" "^crit svc: not-supervised service=$S/nosup$"
	must "$o" "^crit svc: log-down service=$S/logdn log=$S/logdn/log want=down since=[0-9]+$"
	must "$o" "^warn svc: bad-status service=$S/trunc size=10 reason=short$"
	must "$o" "^warn svc: bad-status service=$S/huge size=100 reason=size$"
	must "$o" "^warn svc: unreadable service=$S/loop error=ELOOP$"
	must "$o" "^info svc: skipped path=$S/notadir reason=not-a-directory$"
	must "$o" "^info svc: service path=$S/ok state=up pid=[1-9][0-9]* uptime=[0-9]+ restarts=0 total=0 layout=daemontools$"
	must "$o" "^info svc: service path=$S/ok/log state=up "
	must "$o" "^info svc: service path=$S/dn state=down pid=0 "
	mustnot "$o" "^(warn|crit) svc: [a-z-]+ service=$S/ok( |$)"
	mustnot "$o" "service=$S/ok/log"
	mustnot "$o" "service=$S/logdn/log( |$)"
	mustnot "$o" "service=$S/notadir"
	must "$o" "^info sweep: done reason=once .* checks_failed=0 warn=[0-9]+ crit=3$"
done
# flapping needs two short runs in a row: the state file carries the first
mustnot "$T/out1" "flapping"
must "$T/out2" "^warn svc: flapping service=$S/flap reason=short-uptime uptime=[01] restarts=[0-9]+$"
[ "$(count "$T/out2" "flapping")" = 1 ] || fail "only flap is flapping"
[ -f "$T/state/svc.state" ] || fail "no state file"
grep -q " $S/flap\$" "$T/state/svc.state" || fail "flap not in the state file"

# without -v: no detail lines. A second later: not the same young run of flap
# that out2 saw (the same pid seen twice is a young service, not flapping)
sleep 1.5
maintd_svc "$T/out3" "$svcdir"
mustnot "$T/out3" "^info svc: (service|skipped) "
must "$T/out3" "^warn svc: flapping service=$S/flap "

# MAINTD_SERVICES missing: could not check, exit 3
maintd_svc "$T/out4" "$T/nonexistent"
[ "$rc" = 3 ] || fail "missing MAINTD_SERVICES: exit $rc, wanted 3"
must "$T/out4" "^warn svc: unreadable service=$T/nonexistent error=ENOENT$"

# bad values are fatal at start
rc=0
MAINTD_SVC_MINUP=0 MAINTD_STATE=$T/state QMAILHOME=$T/qmail "$MAINTD" -1 -C svc > "$T/out5" 2>&1 || rc=$?
[ "$rc" = 111 ] || fail "MAINTD_SVC_MINUP=0: exit $rc"
must "$T/out5" "^fatal maintd: bad-config var=MAINTD_SVC_MINUP value=0 reason=zero$"
rc=0
MAINTD_SVC_RESTARTS=64 MAINTD_STATE=$T/state QMAILHOME=$T/qmail "$MAINTD" -1 -C svc > "$T/out5" 2>&1 || rc=$?
[ "$rc" = 111 ] || fail "MAINTD_SVC_RESTARTS=64: exit $rc"
pass "svc against real daemontools"

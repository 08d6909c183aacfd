#!/bin/sh
# Flapping by restarts: a service that stays up longer than MAINTD_SVC_MINUP
# each time but is restarted (svc -t) between -1 runs. The pid changes are
# counted across runs (the state file); beyond MAINTD_SVC_RESTARTS within the
# hour it is flapping with reason=restarts. A steady service beside it is not.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-svc.sh"

make_qmailhome "$T/qmail"
mkservice "$T/sv/bouncy" 'exec sleep 300'
mkservice "$T/sv/steady" 'exec sleep 300'
start_svscan "$T/sv"
wait_up "$T/sv/bouncy" 10 && wait_up "$T/sv/steady" 10 || fail "services did not start"
S=$T/sv
i=0
while [ $i -lt 4 ]; do
	old=$(status_pid "$S/bouncy")
	[ $i = 0 ] || svc -t "$S/bouncy"
	n=0
	while [ "$(status_pid "$S/bouncy")" = "$old" ] && [ $i != 0 ]; do
		n=$((n + 1))
		[ $n -lt 50 ] || fail "svc -t did not restart bouncy"
		sleep 0.1
	done
	sleep 1.3	# up longer than MINUP=1: never a short run
	MINUP=1 MAINTD_SVC_RESTARTS=2 maintd_svc "$T/out$i" "$S" -v
	check_grammar "$T/out$i"
	grep -Eq "^info svc: service path=$S/bouncy state=up pid=[1-9][0-9]* uptime=[1-9][0-9]* restarts=$i total=$i " "$T/out$i" ||
	    { cat "$T/out$i"; fail "run $i: restarts=$i not counted"; }
	i=$((i + 1))
done
for j in 0 1 2; do
	! grep -q 'flapping' "$T/out$j" || { cat "$T/out$j"; fail "flapping too early in run $j"; }
done
grep -Eq "^warn svc: flapping service=$S/bouncy reason=restarts uptime=[1-9][0-9]* restarts=3$" "$T/out3" ||
    { cat "$T/out3"; fail "no flapping by restarts in run 3"; }
[ "$rc" = 1 ] || fail "exit $rc, wanted 1"
! grep -q "service=$S/steady" "$T/out3" || fail "steady was reported"
pass "flapping by restarts counted across -1 runs"

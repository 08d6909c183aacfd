#!/bin/sh
# The svc check in the running daemon (timed sweeps every second): a crash
# loop is logged once as flapping while it lasts, and cleared once the service
# is repaired; a svc -d is logged as down and cleared by svc -u.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib-svc.sh"

make_qmailhome "$T/qmail"
mkservice "$T/sv/flap" 'exit 1'
mkservice "$T/sv/dn" 'exec sleep 300'
start_svscan "$T/sv"
wait_up "$T/sv/dn" 10 || fail "dn did not start"
S=$T/sv
MAINTD_SERVICES=$S MAINTD_STATE=$T/state QMAILHOME=$T/qmail MAINTD_SVC_MINUP=2 \
    MAINTD_INTERVAL_SVC=1 "$MAINTD" -C svc > "$T/log" 2>&1 &
daemon=$!
kill_later $daemon
wait_for "$T/log" "^warn svc: flapping service=$S/flap " 15 || { cat "$T/log"; fail "no flapping"; }
svc -d "$S/dn"
wait_for "$T/log" "^crit svc: down service=$S/dn want=down " 10 || { cat "$T/log"; fail "no down"; }
# repaired: a run that stays up
printf '#!/bin/sh\nexec sleep 300\n' > "$S/flap/run.new"
chmod 755 "$S/flap/run.new"
mv "$S/flap/run.new" "$S/flap/run"
svc -u "$S/dn"
wait_for "$T/log" "^info svc: cleared flapping service=$S/flap$" 15 || { cat "$T/log"; fail "flapping not cleared"; }
wait_for "$T/log" "^info svc: cleared down service=$S/dn$" 10 || { cat "$T/log"; fail "down not cleared"; }
kill $daemon
wait $daemon 2>/dev/null || true
cat "$T/log"
check_grammar "$T/log"
[ "$(count "$T/log" "^warn svc: flapping service=$S/flap ")" = 1 ] || fail "flapping logged more than once"
[ "$(count "$T/log" "^crit svc: down service=$S/dn ")" = 1 ] || fail "down logged more than once"
[ "$(count "$T/log" '^info sweep: done reason=timer ')" -ge 3 ] || fail "no timed sweeps"
grep -Eq '^info maintd: exiting signal=TERM$' "$T/log" || fail "no clean exit"
pass "svc in the daemon: logged once, cleared when repaired"

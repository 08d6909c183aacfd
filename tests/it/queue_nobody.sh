# queue, queuestats: a run that cannot look is UNKNOWN, never CRITICAL. As
# nobody (who cannot enter queue/), both checks say `warn CHECK: unreadable`
# and nothing else, and -1 exits 3; -N says UNKNOWN.
. "$SOURCE_DIR/tests/it/lib.sh"
QF="python3 $SOURCE_DIR/tests/it/queue_fixture.py"
H=$T/home
make_qmailhome "$H"
$QF prep "$FIXTURES/queue-small-processed.tgz" "$H"
install -d -o nobody "$T/state" "$T/state-n"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

rc=0
QMAILHOME=$H MAINTD_STATE=$T/state as_nobody "$MAINTD" -1 -C queue,queuestats > "$T/out" 2>&1 || rc=$?
cat "$T/out"
check_grammar "$T/out"
[ "$rc" = 3 ] || fail "exit status $rc, expected 3 (UNKNOWN)"
grep -q '^warn queue: unreadable path=queue error=EACCES$' "$T/out" || fail "queue: no unreadable line"
grep -q '^warn queuestats: unreadable path=queue error=EACCES$' "$T/out" || fail "queuestats: no unreadable line"
grep -E '^(warn|crit) ' "$T/out" | grep -Ev '^warn queue(stats)?: unreadable ' && fail "other findings"

rc=0
QMAILHOME=$H MAINTD_STATE=$T/state-n as_nobody "$MAINTD" -1 -N -C queue,queuestats > "$T/n.out" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "-N: exit status $rc, expected 3"
grep -q '^QMAIL-MAINTD UNKNOWN' "$T/n.out" || fail "-N: $(cat "$T/n.out")"
pass "as nobody: unreadable warnings only, UNKNOWN"

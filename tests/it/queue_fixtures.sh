# queue: the real fixtures are healthy (no warn/crit), stats equal the
# qmail-qstat and qmail-qread outputs taken with them, -v lists what qmail-qread
# lists, and a sweep changes nothing (inode, size, mode, owner, mtime, atime).
. "$SOURCE_DIR/tests/it/lib.sh"
QF="python3 $SOURCE_DIR/tests/it/queue_fixture.py"

for fx in queue-small-processed queue-todo; do
	H=$T/$fx
	make_qmailhome "$H"
	$QF prep "$FIXTURES/$fx.tgz" "$H"
	$QF snapshot "$H/queue" > "$T/before"
	rc=0
	QMAILHOME=$H MAINTD_STATE=$T/state "$MAINTD" -1 -v -C queue > "$T/out" 2>&1 || rc=$?
	cat "$T/out" | grep -v ' message ' || :
	check_grammar "$T/out"
	[ "$rc" = 0 ] || fail "$fx: exit status $rc, expected 0"
	[ "$(count "$T/out" '^(warn|crit) ')" = 0 ] || fail "$fx: warn/crit lines on a healthy queue"
	grep -q '^info queue: qmail-send running=no$' "$T/out" || fail "$fx: running=no line"

	msgs=$(sed -n 's/^messages in queue: //p' "$FIXTURES/$fx.qmail-qstat.txt")
	todo=$(sed -n 's/^messages in queue but not yet preprocessed: //p' "$FIXTURES/$fx.qmail-qstat.txt")
	rcpt=$(grep -c "$(printf '^\t')" "$FIXTURES/$fx.qmail-qread.txt" || :)
	done=$(grep -c '^  done' "$FIXTURES/$fx.qmail-qread.txt" || :)
	listed=$(grep -c ' GMT  #' "$FIXTURES/$fx.qmail-qread.txt" || :)
	grep -Eq "^info queue: stats messages=$msgs todo=$todo preprocessed=$listed .* recipients=$rcpt done=$done " "$T/out" ||
	    fail "$fx: stats differ from qmail-qstat ($msgs/$todo) or qmail-qread ($listed, $rcpt, $done)"

	$QF qread "$FIXTURES/$fx.qmail-qread.txt" > "$T/want"
	$QF vlines "$T/out" > "$T/got"
	diff "$T/want" "$T/got" || fail "$fx: -v message lines differ from qmail-qread"

	$QF snapshot "$H/queue" > "$T/after"
	diff "$T/before" "$T/after" || fail "$fx: the sweep changed something in the queue"
	pass "$fx: healthy, stats $msgs/$todo $rcpt/$done equal qmail-qstat/qmail-qread, no writes"
done

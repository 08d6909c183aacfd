# queue: while a load generator performs qmail-queue's and qmail-send's file
# operations in their real order on thousands of messages, repeated sweeps
# report no warn/crit finding; a real orphan made afterwards is reported.
. "$SOURCE_DIR/tests/it/lib.sh"
QF="python3 $SOURCE_DIR/tests/it/queue_fixture.py"
H=$T/home
make_qmailhome "$H"
$QF prep "$FIXTURES/queue-small-processed.tgz" "$H"
Q=$H/queue

python3 "$SOURCE_DIR/tests/it/queue_load.py" "$Q" "${QUEUE_LOAD_SECONDS:-20}" > "$T/load.out" 2>&1 &
load=$!
stop_load() { kill "$load" 2>/dev/null; }
at_exit stop_load

sweeps=0 bad=0
: > "$T/all.out"
while kill -0 "$load" 2>/dev/null; do
	rc=0
	QMAILHOME=$H MAINTD_STATE=$T/state "$MAINTD" -1 -C queue > "$T/one.out" 2>&1 || rc=$?
	cat "$T/one.out" >> "$T/all.out"
	[ "$rc" = 0 ] || { bad=$((bad + 1)); grep -E '^(warn|crit|fatal) ' "$T/one.out" >&2 || :; }
	sweeps=$((sweeps + 1))
done
wait "$load" || fail "load generator failed: $(cat "$T/load.out")"
cat "$T/load.out"
check_grammar "$T/all.out"
msgs=$(sed -n 's/^done \([0-9]*\) messages.*/\1/p' "$T/load.out")
[ "${msgs:-0}" -ge 1000 ] || fail "only ${msgs:-0} messages went through the queue"
[ "$sweeps" -ge 10 ] || fail "only $sweeps sweeps"
[ "$(count "$T/all.out" '^(warn|crit) ')" = 0 ] || fail "warn/crit lines under load"
[ "$bad" = 0 ] || fail "$bad sweeps exited non-zero"
# the sweeps did see messages in transient states
[ "$(count "$T/all.out" 'stats .* todo=[1-9]')" -gt 0 ] || fail "no sweep saw a todo message"
[ "$(count "$T/all.out" 'stats messages=(4[0-5]|[0-3]?[0-9]|4[7-9]|[5-9][0-9]|[0-9]{3,}) ')" -gt 0 ] ||
    fail "no sweep saw the load"
pass "$sweeps sweeps, $msgs messages, no warn/crit"

# and a real inconsistency is still found
f=$(ls "$Q"/info/*/* | head -1)
id=${f##*/}
rm "$Q/mess/$((id % 23))/$id"
rc=0
QMAILHOME=$H MAINTD_STATE=$T/state "$MAINTD" -1 -C queue > "$T/last.out" 2>&1 || rc=$?
grep -q "^warn queue: orphan-info id=$id " "$T/last.out" || fail "orphan-info id=$id after the load"
[ "$(count "$T/last.out" '^(warn|crit) ')" = 1 ] || fail "more than the one orphan after the load"
pass "orphan-info found after the load"

# The event loop stays responsive while a check works through unbounded
# input: the test-only slow check keeps a 1 ms timer running beside a
# 100,000-message queue walk and beside a kmsg run over /dev/zero (endless
# records that are not records); its "ticks" line must come while the other
# check is still running, with ticks served. The lateness itself is a
# benchmark figure (tests/bench/README.md), not asserted here.
. "$SOURCE_DIR/tests/it/lib.sh"
H=$T/home
make_qmailhome "$H"
"$BUILD/tests/queue-gen" "$H/queue" "${LOOP_MESSAGES:-100000}" >/dev/null

# order LOG: the line numbers of the ticks line and of the other check's end
ticks_before() {
	t=$(grep -n '^info slow: ticks ' "$1" | head -1 | cut -d: -f1)
	e=$(grep -nE "$2" "$1" | head -1 | cut -d: -f1)
	[ -n "$t" ] || fail "no ticks line: $(cat "$1")"
	[ -n "$e" ] || fail "no line matching $2: $(cat "$1")"
	[ "$t" -lt "$e" ] || fail "the 1 ms timer was served only after the run: $(cat "$1")"
	n=$(sed -n "${t}s/.* n=\([0-9]*\) .*/\1/p" "$1")
	[ "$n" -ge 2 ] || fail "only $n ticks: $(sed -n "${t}p" "$1")"
	pass "$3: $(sed -n "${t}p" "$1")"
}

QMAILHOME=$H MAINTD_STATE=$T/state MAINTD_CHECKS=queue,slow MAINTD_SLOW_MS=100 \
    MAINTD_SLOW_TICK_MS=1 "$MAINTD_TEST" -1 > "$T/queue.log" || true
ticks_before "$T/queue.log" '^info queue: stats ' "queue walk of 100,000 messages"

QMAILHOME=$H MAINTD_STATE=$T/state2 MAINTD_CHECKS=kmsg,slow MAINTD_KMSG_DEVICE=/dev/zero \
    MAINTD_KMSG_MAXREC=100000000 MAINTD_TIMEOUT_KMSG=2 MAINTD_SLOW_MS=100 MAINTD_SLOW_TICK_MS=1 \
    timeout 20 "$MAINTD_TEST" -1 > "$T/kmsg.log" || true
ticks_before "$T/kmsg.log" '^warn kmsg: timeout ' "kmsg over /dev/zero"

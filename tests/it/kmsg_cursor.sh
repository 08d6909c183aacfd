#!/bin/sh
# kmsg cursor durability: kill -9 between reading and saving the cursor (strace
# holds the rename(2) of the new cursor); after the restart the crash is
# reported again, never lost. Also: a corrupt cursor, a cursor of another boot.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_kmsg.sh"

maintd "$T/run0"
[ "$RC" -le 2 ] || { cat "$T/run0"; fail "first run exit $RC"; }
cp "$T/state/kmsg.cursor" "$T/cursor0"

crash qmail-remote segv; P=$PID

env QMAILHOME="$T/qmail" MAINTD_STATE="$T/state" strace -f -qq -o /dev/null \
    -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:delay_enter=60000000 \
    "$MAINTD" -1 -C kmsg > "$T/run1" 2>&1 &
SPID=$!
at_exit "kill -9 $SPID 2>/dev/null"
wait_for "$T/run1" "^crit kmsg: crash prog=qmail-remote pid=$P " 20 || { cat "$T/run1"; fail "crash not reported before the save"; }
wait_for "$T/run1" "^info kmsg: scanned " 10 || fail "no scanned line"
sleep 0.3	# into the held rename(2)
DPID=$(pgrep -P "$SPID" | head -1)
[ -n "$DPID" ] || fail "no daemon under strace"
kill -9 "$DPID"
sleep 0.2
kill -9 "$SPID"	# strace itself sleeps out the delay
wait "$SPID" || true
cmp -s "$T/state/kmsg.cursor" "$T/cursor0" || fail "the cursor moved although the daemon was killed before the rename"
pass "killed between reading and saving: cursor unchanged"

maintd "$T/run2"
[ "$(count "$T/run2" "^crit kmsg: crash prog=qmail-remote pid=$P signal=SIGSEGV ")" = 1 ] ||
	{ cat "$T/run2"; fail "crash of pid $P lost after kill -9"; }
cmp -s "$T/state/kmsg.cursor" "$T/cursor0" && fail "cursor not advanced by a completed run"
maintd "$T/run3"
[ "$(count "$T/run3" "pid=$P .* seq=[0-9]+( service=[^ ]+)?\$")" = 0 ] || fail "read a third time"
[ "$(count "$T/run3" "pid=$P .* again=1\$")" = 1 ] || fail "not held after the restart"
pass "after the restart: reported again once, then only held (again=1)"

# a corrupt cursor: reported, replaced, the backlog is read again
printf 'garbage\0\n' > "$T/state/kmsg.cursor"
maintd "$T/run4"
check_grammar "$T/run4.all"
grep -q '^warn kmsg: bad-cursor reason=corrupt bytes=9$' "$T/run4" || { cat "$T/run4"; fail "no bad-cursor line"; }
[ "$(count "$T/run4" "^crit kmsg: crash prog=qmail-remote pid=$P ")" = 1 ] || fail "backlog not read after a corrupt cursor"
grep -Eq '^[0-9a-f-]{36} [0-9]+$' "$T/state/kmsg.cursor" || fail "cursor not replaced"
maintd "$T/run5"
grep -q 'bad-cursor' "$T/run5" && fail "bad-cursor again after the replacement"
pass "corrupt cursor reported and replaced"

# a cursor of another boot far ahead: the new boot's buffer is read from its start
printf '00000000-0000-0000-0000-000000000000 999999999\n' > "$T/state/kmsg.cursor"
maintd "$T/run6"
[ "$(count "$T/run6" "^crit kmsg: crash prog=qmail-remote pid=$P ")" = 1 ] || { cat "$T/run6"; fail "reboot: crash not read"; }
grep -q 'bad-cursor' "$T/run6" && fail "another boot's cursor is not corrupt"
grep -q "^$(cat /proc/sys/kernel/random/boot_id) " "$T/state/kmsg.cursor" || fail "cursor not of this boot"
pass "another boot's cursor: read from the start of this boot"

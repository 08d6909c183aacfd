# tcpto: the prune takes qmail-remote's lock. A qmail-like holder refreshes a
# stale record while it holds the lock: the prune waits for it or gives up
# and retries on the next sweep, and the holder's write survives either way.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_tcpto.sh"

# slots 3 and 4 (127.0.0.5 and .6) stale; the holder rewrites slot 4 as a
# fresh 10.0.0.4 with 2 timeouts
fresh4='^0000064 0a 00 00 04 02 00 00 00 .. .. .. .. 00 00 00 00$'
slot4() { od -A d -t x1 -j 64 -N 16 "$TAB" | head -1; }

holder_survived() {
	slot4 | grep -Eq "$fresh4" || fail "$1: the holder's record was lost: $(slot4)"
	expect_no ' pruned ip=(127\.0\.0\.6|10\.0\.0\.4) ' "$1"
	cmp -s -n 64 "$T/before" "$TAB" && fail "$1: the stale slot 3 was not pruned"
	cmp -s -i 80 "$T/before" "$TAB" || fail "$1: slots after 4 changed"
}

# A holder far longer than the bounded wait: lock-busy, nothing written.
fixture_shift tcpto-mixed 7000
cp "$TAB" "$T/before"
t0=$(date +%s%N)
st=0
env QMAILHOME="$Q" MAINTD_STATE="$T/state" MAINTD_TCPTO_MAXAGE=7050 "$HELPER" hold "$TAB" 3000 4 \
    "$MAINTD" -1 -v -C tcpto > "$T/out" 2>&1 || st=$?
check_grammar "$T/out"
expect_status 3 "long hold"
expect_line "^warn tcpto: lock-busy file=$TAB tries=10\$" "long hold"
expect_no ' table ' "long hold"
ms=$(sed -n 's/^info sweep: done .* ms=\([0-9]*\) .*/\1/p' "$T/out")
[ -n "$ms" ] && [ "$ms" -ge 85 ] && [ "$ms" -lt 1000 ] || fail "long hold: the sweep took ${ms:-?} ms"
slot4 | grep -Eq "$fresh4" || fail "long hold: the holder's record was lost"
cmp -s -n 64 "$T/before" "$TAB" && cmp -s -i 80 "$T/before" "$TAB" ||
    fail "long hold: the table was written without the lock"
[ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 3000 ] || fail "long hold: the holder did not hold"
pass "lock held 3 s: lock-busy after ${ms} ms, nothing written"

# the next sweep, lock free: prunes slot 3, keeps the holder's slot 4
run MAINTD_TCPTO_MAXAGE=7050
expect_status 0 "next sweep"
expect_line '^info tcpto: pruned ip=127\.0\.0\.5 timeouts=0 ' "next sweep"
holder_survived "next sweep"
pass "next sweep pruned, the holder's write survived"

# A holder shorter than the bounded wait: the prune waits and then reads the
# holder's record (held 30 ms from the daemon's open; on a loaded machine
# the holder may see the open late, so up to 5 tries to see a wait).
i=0 waited=""
while [ $i -lt 5 ] && [ -z "$waited" ]; do
	i=$((i + 1))
	fixture_shift tcpto-mixed 7000
	cp "$TAB" "$T/before"
	st=0
	env QMAILHOME="$Q" MAINTD_STATE="$T/state" MAINTD_TCPTO_MAXAGE=7050 "$HELPER" hold "$TAB" 30 4 \
	    "$MAINTD" -1 -v -C tcpto > "$T/out" 2>&1 || st=$?
	check_grammar "$T/out"
	expect_status 0 "short hold"
	holder_survived "short hold"
	grep -Eq '^debug tcpto: lock-waited tries=([2-9]|10)$' "$T/out" && waited=1
done
[ -n "$waited" ] || fail "short hold: the prune never had to wait in $i tries"
pass "the prune waited for a 30 ms holder (try $i) and kept its write"

# SIGTERM while the check waits for the lock: the daemon exits 0 at once and
# the cancelled check says nothing more (ASan: and frees its run state).
fixture_shift tcpto-mixed 7000
cp "$TAB" "$T/before"
"$HELPER" lock "$TAB" 20000 &
holder=$!
at_exit "kill $holder 2>/dev/null"
sleep 0.1
i=0 mid=""
while [ $i -lt 5 ] && [ -z "$mid" ]; do
	i=$((i + 1))
	: > "$T/out"
	env QMAILHOME="$Q" MAINTD_STATE="$T/state" MAINTD_TCPTO_MAXAGE=7050 \
	    "$MAINTD" -v -C tcpto > "$T/out" 2>&1 &
	daemon=$!
	n=0
	until grep -q '^info sweep: start' "$T/out" || [ $n -ge 2000 ]; do
		sleep 0.005
		n=$((n + 1))
	done
	kill -TERM "$daemon"
	st=0
	wait "$daemon" || st=$?
	check_grammar "$T/out"
	expect_status 0 "TERM while waiting"
	expect_line '^info maintd: exiting signal=TERM$' "TERM while waiting"
	sed -n '/^info maintd: exiting/,$p' "$T/out" | grep -q 'tcpto' &&
	    fail "TERM while waiting: tcpto lines after exiting"
	cmp -s "$T/before" "$TAB" || fail "TERM while waiting: the table changed"
	grep -q 'lock-busy' "$T/out" || mid=1
done
[ -n "$mid" ] || fail "TERM never arrived while the check waited, in $i tries"
pass "SIGTERM during the lock wait (try $i): exit 0, nothing more"

# The running daemon: a sweep that finds the lock busy is followed by a timed
# one (MAINTD_INTERVAL_TCPTO=1) that prunes and clears the lock-busy finding.
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
fixture_shift tcpto-mixed 7000
"$HELPER" lock "$TAB" 1500 &
holder=$!
at_exit "kill $holder 2>/dev/null"
sleep 0.1
env QMAILHOME="$Q" MAINTD_STATE="$T/state" MAINTD_TCPTO_MAXAGE=7050 MAINTD_INTERVAL_TCPTO=1 \
    "$MAINTD" -C tcpto > "$T/out" 2>&1 &
daemon=$!
at_exit "kill $daemon 2>/dev/null"
wait_for "$T/out" '^info tcpto: cleared lock-busy ' 20 || { cat "$T/out" >&2; fail "daemon: no retry cleared lock-busy"; }
kill -TERM "$daemon"
wait "$daemon" || fail "daemon: exit $?"
check_grammar "$T/out"
[ "$(count "$T/out" '^warn tcpto: lock-busy ')" = 1 ] || fail "daemon: lock-busy not logged exactly once"
awk '/^warn tcpto: lock-busy/ { b = NR } /pruned=2$/ { p = NR } END { exit !(b && p > b) }' "$T/out" ||
    { cat "$T/out" >&2; fail "daemon: no pruning sweep after the busy one"; }
pass "the daemon retried on its next sweep"

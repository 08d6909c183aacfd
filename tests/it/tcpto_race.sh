# tcpto: 1000 record updates from a qmail-like writer (tcpto_err's locking)
# interleaved with repeated prunes; the writer checks under the lock, before
# each update, that nothing it wrote was lost (only its stale records may
# have been zeroed).
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_tcpto.sh"

install_table "$TR/tcpto-cleared.bin"
"$HELPER" hammer "$TAB" 1000 > "$T/writer" 2>&1 &
writer=$!
at_exit "kill $writer 2>/dev/null"
runs=0 pruned=0
while kill -0 "$writer" 2>/dev/null; do
	st=0
	env QMAILHOME="$Q" MAINTD_STATE="$T/state" timeout 30 "$MAINTD" -1 -C tcpto \
	    > "$T/out" 2>&1 || st=$?
	cat "$T/out" >> "$T/all"
	case $st in 0|1|3) ;; *) fail "prune run $runs: exit $st" ;; esac
	# any address: with only 10.0.0.0 (the first update) in slot 0 the table
	# fits the s/qmail layout too, and is pruned as ip=:: (s/qmail wins the tie)
	pruned=$((pruned + $(count "$T/out" '^info tcpto: pruned ip=')))
	runs=$((runs + 1))
done
st=0
wait "$writer" || st=$?
cat "$T/writer"
check_grammar "$T/all"
[ "$st" = 0 ] || fail "the writer lost an update (exit $st)"
grep -Eq '^updates=1000 cleared=[0-9]+$' "$T/writer" || fail "the writer did not finish"
cleared=$(sed -n 's/.*cleared=//p' "$T/writer")
[ "$runs" -ge 5 ] || fail "only $runs prune runs during the writer"
[ "$pruned" -gt 0 ] && [ "$cleared" -gt 0 ] || fail "no prune interleaved (pruned=$pruned cleared=$cleared)"
[ "$cleared" -le "$pruned" ] || fail "the writer saw $cleared records cleared, the prunes report $pruned"
pass "1000 updates, $runs prune runs, $pruned records pruned, none lost"

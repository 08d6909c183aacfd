# tcpto: the real fixtures listed like qmail-tcpto, pruned in place, and an
# s/qmail table with IPv6.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_tcpto.sh"

# the entries against qmail-tcpto's own output: ip, count exact, age to within 5 s
# (the clock ticks between the shift and the run, more so under ASan; the unit
# test compares ages exactly)
compare_listing() {	# NAME [DIR]
	awk '{ print $1, $10, $4 }' "${2:-$TR}/$1.qmail-tcpto.txt" > "$T/want"
	sed -n 's/^info tcpto: entry ip=\([^ ]*\) timeouts=\([0-9]*\) age=\([0-9]*\) skipped=\(yes\|no\)$/\1 \2 \3 \4/p' \
	    "$T/out" > "$T/got"
	[ "$(wc -l < "$T/got")" = "$(wc -l < "$T/want")" ] ||
	    { cat "$T/out" >&2; fail "$1: $(wc -l < "$T/got") entries, qmail-tcpto listed $(wc -l < "$T/want")"; }
	paste -d ' ' "$T/want" "$T/got" | awk -v name="$1" '
	    $1 != $4 || $2 != $5 || $6 < $3 || $6 > $3 + 5 ||
	    ($7 == "yes") != ($2 >= 2) { print name ": " $0; bad = 1 }
	    END { exit bad }' || fail "$1: entries differ from qmail-tcpto"
	[ "$(wc -l < "$T/want")" -gt 0 ] || fail "$1: nothing listed"
}

for name in tcpto-mixed tcpto-full; do
	fixture_shift "$name" 0
	cp "$TAB" "$T/before"
	run
	compare_listing "$name"
	used=$(wc -l < "$T/want")
	skipped=$(awk '$10 >= 2' "$TR/$name.qmail-tcpto.txt" | wc -l)
	expect_line "^info tcpto: table layout=classic slots=64 used=$used skipped=$skipped pruned=0\$" "$name"
	if [ "$used" = 64 ]; then
		expect_line '^warn tcpto: table-full slots=64$' "$name"
		expect_status 1 "$name"
	else
		expect_no 'table-full' "$name"
		expect_status 0 "$name"
	fi
	cmp -s "$T/before" "$TAB" || fail "$name: the table changed without a stale record"
done
pass "fixtures listed like qmail-tcpto"

# prune: ages 7013 (x3, count 2), 7142 (count 0), 7080; max age 7050
fixture_shift tcpto-mixed 7000
cp "$TAB" "$T/before"
cp "$TAB" "$T/want.bin"
zero_slots "$T/want.bin" 16 3 4
ino=$(stat -c %i "$TAB")
run MAINTD_TCPTO_MAXAGE=7050
expect_status 0 "prune"
expect_line '^info tcpto: pruned ip=127\.0\.0\.5 timeouts=0 age=714[2-7]$' "prune"
expect_line '^info tcpto: pruned ip=127\.0\.0\.6 timeouts=1 age=708[0-5]$' "prune"
[ "$(count "$T/out" ' pruned ip=')" = 2 ] || fail "prune: not exactly 2 records pruned"
expect_line '^info tcpto: table layout=classic slots=64 used=3 skipped=0 pruned=2$' "prune"
cmp "$T/want.bin" "$TAB" || fail "prune: bytes other than the two stale records changed"
[ "$(size_of "$TAB")" = 1024 ] && [ "$(stat -c %i "$TAB")" = "$ino" ] ||
    fail "prune: the file was resized or replaced"
run MAINTD_TCPTO_MAXAGE=7050
expect_line 'table layout=classic slots=64 used=3 skipped=0 pruned=0$' "second prune"
cmp -s "$T/want.bin" "$TAB" || fail "second prune changed the table"
pass "prune zeroes exactly the stale records, in place"

install_table "$T/before"
run MAINTD_TCPTO_MAXAGE=7050 MAINTD_TCPTO_PRUNE=0
expect_line 'table layout=classic slots=64 used=4 skipped=0 pruned=0$' "report only"
expect_no ' pruned ip=' "report only"
cmp -s "$T/before" "$TAB" || fail "report only: the table changed"
pass "MAINTD_TCPTO_PRUNE=0 reports only"

install_table "$TR/tcpto-cleared.bin"
run
expect_status 0 "cleared"
expect_line '^info tcpto: table layout=empty used=0 skipped=0 pruned=0$' "cleared"
expect_no ' entry ' "cleared"
cmp -s "$TR/tcpto-cleared.bin" "$TAB" || fail "cleared: the table changed"
pass "a cleared table"

# s/qmail on Linux (AF_INET6 10): a fresh IPv4 record skipped, a stale IPv6 one
python3 - "$T/sq.bin" "$(date +%s)" <<'PY'
import struct, sys
path, now = sys.argv[1], int(sys.argv[2])
b = bytearray(1024)
def rec(slot, af, addr, count, when):
    r = bytearray(32)
    r[0] = af; r[4] = count; r[8:12] = struct.pack('<I', when)
    r[16:32] = addr + b'.' * 12 if af == 2 else addr
    b[slot * 32:slot * 32 + 32] = r
rec(0, 2, bytes([192, 0, 2, 25]), 2, now - 60)
rec(1, 10, bytes.fromhex('20010db8000000000000000000000025'), 3, now - 9000)
rec(2, 10, bytes.fromhex('20010db8000100000000000000000000'), 1, now - 30)
open(path, 'wb').write(b)
PY
install_table "$T/sq.bin"
cp "$T/sq.bin" "$T/want.bin"
zero_slots "$T/want.bin" 32 1
run
expect_line '^info tcpto: entry ip=192\.0\.2\.25 timeouts=2 age=6[0-5] skipped=yes$' "sqmail"
expect_line '^info tcpto: entry ip=2001:db8::25 timeouts=3 age=900[0-5] skipped=no$' "sqmail"
expect_line '^info tcpto: entry ip=2001:db8:1:: timeouts=1 age=3[0-5] skipped=no$' "sqmail"
expect_line '^info tcpto: pruned ip=2001:db8::25 timeouts=3 age=900[0-5]$' "sqmail"
expect_line '^info tcpto: table layout=sqmail slots=32 used=2 skipped=1 pruned=1$' "sqmail"
cmp "$T/want.bin" "$TAB" || fail "sqmail: bytes other than the stale record changed"
pass "s/qmail layout with IPv6"

# s/qmail 3.3.10's own table (its qmail-remote wrote it, its qmail-tcpto listed
# it): the times moved so that the ages now are what qmail-tcpto printed
SQ=$FIXTURES/sqmail
install_table "$SQ/tcpto-v4.bin"
python3 - "$TAB" $(($(date +%s) - $(cat "$SQ/tcpto-v4.qmail-tcpto.time"))) <<'PY'
import struct, sys
path, delta = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, 'rb').read())
for i in range(0, 1024, 32):
    t = struct.unpack('<I', b[i + 8:i + 12])[0]
    if t:	# every used record, also one with no timeouts left: ages as qmail-tcpto saw them
        b[i + 8:i + 12] = struct.pack('<I', t + delta)
open(path, 'r+b').write(b)
PY
cp "$TAB" "$T/before"
run
compare_listing tcpto-v4 "$SQ"
expect_line '^info tcpto: table layout=sqmail slots=32 used=9 skipped=8 pruned=0$' "s/qmail fixture"
expect_status 0 "s/qmail fixture"
cmp -s "$T/before" "$TAB" || fail "s/qmail fixture: the table changed"
# s/qmail zeroes the table at every start of qmail-send: zeros are no layout
dd if=/dev/zero of="$TAB" bs=1024 count=1 conv=notrunc 2>/dev/null
run
expect_line '^info tcpto: table layout=empty used=0 skipped=0 pruned=0$' "s/qmail zeroed"
expect_no 'table-full|slots=' "s/qmail zeroed"
pass "s/qmail 3.3.10 fixture listed like its qmail-tcpto; a zeroed table is layout=empty"

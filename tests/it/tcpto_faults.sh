# tcpto: every fault is one clear finding and leaves the file untouched.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_tcpto.sh"

F="file=$TAB"

run
expect_status 1 "missing"
expect_line "^warn tcpto: missing $F\$" "missing"
expect_no ' table ' "missing"
pass "missing table"

mkdir "$TAB"
run
expect_status 1 "directory"
expect_line "^warn tcpto: not-a-file $F type=directory\$" "directory"
expect_no 'unreadable' "directory"
rmdir "$TAB"
mkfifo "$TAB"
run
expect_status 1 "fifo"
expect_line "^warn tcpto: not-a-file $F type=fifo\$" "fifo"
rm -f "$TAB"
pass "a directory and a FIFO in its place: not-a-file"

# a second name for the table: not the only one, never written
install_table "$TR/tcpto-cleared.bin"
ln "$TAB" "$T/second-name"
run
expect_status 1 "hard link"
expect_line "^warn tcpto: not-a-file $F type=file links=2\$" "hard link"
expect_no ' table ' "hard link"
rm -f "$T/second-name" "$TAB"
pass "a hard-linked table: not-a-file links=2"

# stale records (ages 7000+) that a prune would clear, were it allowed
fixture_shift tcpto-mixed 7000
cp "$TAB" "$T/before"
chown root "$TAB"
run
expect_status 1 "owner"
expect_line "^warn tcpto: bad-owner $F uid=0 want=$QMAILR_UID\$" "owner"
# another owner's file is not even read: its bytes could be anyone's
expect_no ' table ' "owner"
expect_no ' entry ' "owner"
expect_no ' pruned ip=' "owner"
cmp -s "$T/before" "$TAB" || fail "owner: the table was written"
chown qmailr "$TAB"
for mode in 666 620 444; do
	chmod "$mode" "$TAB"
	run
	expect_status 1 "mode $mode"
	expect_line "^warn tcpto: bad-mode $F mode=0$mode want=0644\$" "mode $mode"
	expect_no ' pruned ip=' "mode $mode"
	cmp -s "$T/before" "$TAB" || fail "mode $mode: the table was written"
done
pass "wrong owner or mode: reported, not written"

# not readable by the account the daemon runs as
chmod 600 "$TAB"
mkdir -m 700 "$T/state-nobody"
chown nobody "$T/state-nobody"
st=0
env QMAILHOME="$Q" MAINTD_STATE="$T/state-nobody" timeout 30 setuidgid nobody "$MAINTD" -1 -C tcpto \
    > "$T/out" 2>&1 || st=$?
check_grammar "$T/out"
expect_status 3 "unreadable"
expect_line "^warn tcpto: unreadable $F op=open error=EACCES\$" "unreadable"
cmp -s "$T/before" "$TAB" || fail "unreadable: the table changed"
pass "unreadable table"

# what fits no known layout: never written
python3 - "$T" <<'PY'
import random, struct, sys
d = sys.argv[1]
r = random.Random(4)
open(d + '/garbage', 'wb').write(bytes(r.randrange(256) for _ in range(1024)))
n = bytearray(2048)   # a native struct per record: af, count, 8-byte time, address
for i in range(3):
    n[i * 32] = 10; n[i * 32 + 1] = 2
    n[i * 32 + 8:i * 32 + 16] = struct.pack('<Q', 1000000)
    n[i * 32 + 16:i * 32 + 32] = bytes.fromhex('20010db8000000000000000000000001')
open(d + '/native', 'wb').write(n)
open(d + '/short', 'wb').write(bytes(1023))
open(d + '/empty', 'wb').write(b'')
PY
for f in garbage native short empty; do
	install_table "$T/$f"
	run
	expect_status 1 "$f"
	expect_line "^warn tcpto: unknown-format size=$(size_of "$T/$f")\$" "$f"
	expect_no ' table ' "$f"
	cmp -s "$T/$f" "$TAB" || fail "$f: the file was written"
done
pass "unknown formats reported, never written"

# the clock stepped back: a record from the future stays; a stale one goes
install_table "$TR/tcpto-cleared.bin"
"$HELPER" set "$TAB" 5 -1000 2
"$HELPER" set "$TAB" 6 100000 1
cp "$TAB" "$T/want.bin"
zero_slots "$T/want.bin" 16 6
run
expect_status 1 "future"
expect_line '^warn tcpto: future-time ip=10\.0\.0\.5 timeouts=2 ahead=(1000|99[5-9])$' "future"
expect_line '^info tcpto: pruned ip=10\.0\.0\.6 timeouts=1 age=10000[0-5]$' "future"
expect_line '^info tcpto: table layout=classic slots=64 used=1 skipped=0 pruned=1$' "future"
cmp "$T/want.bin" "$TAB" || fail "future: bytes other than the stale record changed"
pass "future times left alone"

for bad in MAINTD_TCPTO_MAXAGE=5823 MAINTD_TCPTO_MAXAGE=2h MAINTD_TCPTO_PRUNE=2; do
	run "$bad"
	expect_status 111 "$bad"
	expect_line "^fatal maintd: bad-config var=${bad%%=*} value=${bad#*=} reason=" "$bad"
done
pass "bad configuration is fatal"

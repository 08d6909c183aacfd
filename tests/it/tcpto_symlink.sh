#!/bin/sh
# tcpto: qmailq owns queue/ and queue/lock/, so it can put anything at
# queue/lock/tcpto. Each attack is planted by the real qmailq account; the
# root run follows no link, reads and writes no file but qmailr's own table,
# and says in one line what it refused. The victim stays byte-identical, no
# byte of it reaches the log, and no file appears elsewhere.
. "$SOURCE_DIR/tests/it/lib.sh"
. "$SOURCE_DIR/tests/it/lib_tcpto.sh"
command -v runuser >/dev/null || fail "runuser (util-linux) is needed"
command -v strace >/dev/null || fail "strace is needed"
id qmailq >/dev/null 2>&1 || fail "no qmailq account: run tests/setup-host.sh"

# qmail's install: queue/ and queue/lock/ belong to qmailq, mode 750
chown qmailq:qmail "$Q/queue" "$Q/queue/lock"
chmod 750 "$Q/queue" "$Q/queue/lock"
V=$T/victims
mkdir -m 755 "$V"
as_qmailq() { runuser -u qmailq -- "$@"; }

# snapshot: what exists in the victims' directory and the lock directory
snapshot() { (cd "$V" && ls -la --time-style=+%s . ; cd "$Q/queue/lock" && ls -la --time-style=+%s .) | grep -v ' \.\.\?$'; }

# run_traced: the one-shot run under strace; every open of a tcpto name in $T/trace
run_traced() {
	st=0
	# (LeakSanitizer cannot run under ptrace: an ASan build runs without it here)
	env QMAILHOME="$Q" MAINTD_STATE="$T/state" ASAN_OPTIONS=detect_leaks=0 \
	    strace -f -qq -o "$T/trace" -e trace=open,openat \
	    timeout 30 "$MAINTD" -1 -v -C tcpto > "$T/out" 2>&1 || st=$?
	check_grammar "$T/out"
}

# refused NAME: exactly one not-a-file line for the planted link, nothing
# read, the table never opened for writing
refused() {
	expect_line "^warn tcpto: not-a-file file=$TAB type=symlink\$" "$1"
	[ "$(count "$T/out" '^(warn|crit) ')" = 1 ] || { cat "$T/out"; fail "$1: more than one warning"; }
	expect_no ' table | entry | pruned | future-time | unknown-format |size=' "$1"
	! grep -E 'tcpto", O_(RDWR|WRONLY)' "$T/trace" || fail "$1: opened for writing"
	! grep -E 'tcpto", [^)]*= [0-9]' "$T/trace" || fail "$1: an open of the link succeeded"
	expect_status 1 "$1"
}

# 1. a link to a qmailr-owned table elsewhere, with records a prune would clear
install_table "$TR/tcpto-mixed.bin"
"$HELPER" shift "$TAB" $(($(date +%s) - $(cat "$TR/tcpto-mixed.qmail-tcpto.time") - 8000))
mv "$TAB" "$V/qmailr-table"
cp -p "$V/qmailr-table" "$T/qmailr-table.orig"
as_qmailq ln -s "$V/qmailr-table" "$TAB"
snapshot > "$T/before"
run_traced
refused "link to a qmailr table"
cmp "$T/qmailr-table.orig" "$V/qmailr-table" || fail "the qmailr table elsewhere was written"
snapshot > "$T/after"
diff "$T/before" "$T/after" || fail "files changed beside the victim or in queue/lock"
pass "queue/lock/tcpto -> a qmailr table elsewhere: not-a-file type=symlink, not pruned"

# 2. a link to a root-only 0600 file shaped like a table: "SECR" as an address
# (83.69.67.82) with a time in the future, which a read would print
as_qmailq rm -f "$TAB"
python3 - "$V/secret" <<'PY'
import struct, sys, time
b = bytearray(1024)
b[0:4] = b'SECR'; b[4] = 2; b[8:12] = struct.pack('<I', int(time.time()) + 100000)
b[16:20] = b'ETXX'; b[20] = 1; b[24:28] = struct.pack('<I', 1000)
open(sys.argv[1], 'wb').write(b)
PY
chmod 600 "$V/secret"
cp -p "$V/secret" "$T/secret.orig"
as_qmailq ln -s "$V/secret" "$TAB"
snapshot > "$T/before"
run_traced
refused "link to a root 0600 file"
cmp "$T/secret.orig" "$V/secret" || fail "the root file was written"
! grep -E '83\.69\.67\.82|69\.84\.88\.88|SECR|ETXX|1024|ahead=' "$T/out" || fail "bytes of the root file in the log"
snapshot > "$T/after"
diff "$T/before" "$T/after" || fail "files changed beside the victim or in queue/lock"
pass "queue/lock/tcpto -> a root 0600 table-shaped file: refused, no byte logged"

# 3. a link to /dev/null and to a FIFO: never opened, so never opened read-write
for target in /dev/null "$V/fifo"; do
	[ "$target" = /dev/null ] || mkfifo -m 666 "$target"
	as_qmailq rm -f "$TAB"
	as_qmailq ln -s "$target" "$TAB"
	run_traced
	refused "link to $target"
done
pass "links to /dev/null and a FIFO: not opened"

# 4. a FIFO planted in place: opened read-only and without blocking, then refused
as_qmailq rm -f "$TAB"
as_qmailq mkfifo "$TAB"
run_traced
expect_line "^warn tcpto: not-a-file file=$TAB type=fifo\$" "planted FIFO"
! grep -E 'tcpto", O_(RDWR|WRONLY)' "$T/trace" || fail "planted FIFO: opened for writing"
expect_status 1 "planted FIFO"
pass "a FIFO in place: read-only open, not-a-file type=fifo"

# 5. queue/lock itself replaced by a link to a directory with a qmailr table
as_qmailq rm -f "$TAB"
mkdir "$V/lockdir"
cp -p "$T/qmailr-table.orig" "$V/lockdir/tcpto"
as_qmailq mv "$Q/queue/lock" "$Q/queue/lock.old"
as_qmailq ln -s "$V/lockdir" "$Q/queue/lock"
run_traced
expect_line "^warn tcpto: not-a-file file=$Q/queue/lock type=symlink\$" "linked lock/"
expect_no ' table | entry | pruned ' "linked lock/"
cmp "$T/qmailr-table.orig" "$V/lockdir/tcpto" || fail "linked lock/: the table behind it was written"
expect_status 1 "linked lock/"
pass "queue/lock -> elsewhere: not-a-file type=symlink, nothing behind it read"

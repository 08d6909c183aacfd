# queue: the steady-state cache. A second sweep with the same state gives the
# same stats without opening the unchanged info/local/remote files; a record
# marked D in place (same size) and a rewritten info are seen at once.
. "$SOURCE_DIR/tests/it/lib.sh"
QF="python3 $SOURCE_DIR/tests/it/queue_fixture.py"
H=$T/home
make_qmailhome "$H"
$QF prep "$FIXTURES/queue-small-processed.tgz" "$H"
Q=$H/queue
sleep 3		# only files settled for 2 s are cached

sweep() {	# sweep NAME: stats line in $T/NAME.stats, openat count in $T/NAME.opens
	rc=0
	# LeakSanitizer cannot run under ptrace: the other tests look for leaks
	QMAILHOME=$H MAINTD_STATE=$T/state ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -e trace=openat -o "$T/$1.trace" \
	    "$MAINTD" -1 -C queue > "$T/$1.out" 2>&1 || rc=$?
	[ "$rc" = "${2:-0}" ] || { cat "$T/$1.out" >&2; fail "$1: exit status $rc"; }
	check_grammar "$T/$1.out"
	sed -n 's/^info queue: stats //p' "$T/$1.out" | sed 's/ oldest=[0-9]*//' > "$T/$1.stats"
	grep -c 'openat(' "$T/$1.trace" > "$T/$1.opens" || :
}
sweep first
sweep second
diff "$T/first.stats" "$T/second.stats" || fail "cached sweep: different stats"
[ -s "$T/state/queue-cache/0" ] || fail "no cache written"
o1=$(cat "$T/first.opens") o2=$(cat "$T/second.opens")
[ "$o2" -le $((o1 - 90)) ] || fail "cached sweep opened $o2 files, first $o1: cache not used"
pass "cached sweep: same stats, $o2 opens instead of $o1"

# a T record marked D in place: same size, new ctime
f=$(grep -l -a '^T' "$Q"/remote/*/* 2>/dev/null | head -1)
[ -n "$f" ] || f=$(ls "$Q"/remote/*/* | head -1)
printf D | dd of="$f" conv=notrunc status=none
sweep third
grep -q "recipients=75 done=8 " "$T/third.stats" || { cat "$T/third.stats"; fail "D mark not seen"; }
# an info rewritten with the same size, made bad
f=$(ls "$Q"/info/*/* | head -1)
printf 'X' | dd of="$f" conv=notrunc status=none
sweep fourth 1
grep -q "^warn queue: bad-info id=${f##*/} " "$T/fourth.out" || fail "rewritten info not re-read"
pass "changes in place are seen on the next sweep"

# never a mess/ or pid/ file opened (only stat'ed): every openat with its
# directory's path (strace -y), in a -v sweep, with a pid/ file present
install -o qmailq -g qmail -m 0644 /dev/null "$Q/pid/4242.1795600000.1"
QMAILHOME=$H MAINTD_STATE=$T/state-y ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -y -f -e trace=openat,open -o "$T/y.trace" "$MAINTD" -1 -v -C queue > "$T/y.out" 2>&1 || :
grep -q 'queue/mess/[0-9]*>, "[0-9]*"' "$T/y.trace" && { grep 'queue/mess/' "$T/y.trace" >&2; fail "a mess file was opened"; }
grep -E 'queue/pid>, "[^.]' "$T/y.trace" >&2 && fail "a pid file was opened"
grep -q 'queue/info/[0-9]*>, "[0-9]*"' "$T/y.trace" || fail "strace -y shows no info/ opens: the check above proves nothing"
pass "no mess/ or pid/ file opened"

# MAINTD_STATE/queue-cache is used only if it is a directory of ours that
# nobody else can write, and its files only if they are regular files of
# ours: a symlink is never followed, the victim is never read or written
csweep() {	# csweep NAME STATE: -C queue,queuestats under strace
	rc=0
	QMAILHOME=$H MAINTD_STATE=$2 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -y -e trace=openat,open -o "$T/$1.trace" \
	    "$MAINTD" -1 -C queue,queuestats > "$T/$1.out" 2>&1 || rc=$?
	check_grammar "$T/$1.out"
}
V=$T/victim
mkdir -m 0700 "$V"
cp "$T/state/queue-cache/0" "$V/0"
printf 'QMSEND1\0' > "$V/send"
cp -a "$V" "$T/victim.orig"
mkdir -m 0700 "$T/s1"
ln -s "$V" "$T/s1/queue-cache"
csweep linkdir "$T/s1"
grep -q "^warn queue: cache-error path=$T/s1/queue-cache reason=type\$" "$T/linkdir.out" ||
    fail "a symlinked queue-cache: $(cat "$T/linkdir.out")"
grep -q "^warn queuestats: cache-error path=$T/s1/queue-cache reason=type\$" "$T/linkdir.out" ||
    fail "a symlinked queue-cache (queuestats)"
mkdir -m 0700 "$T/s2" && install -d -o qmailq -m 0700 "$T/s2/queue-cache"
csweep owner "$T/s2"
grep -q "^warn queue: cache-error path=$T/s2/queue-cache reason=owner\$" "$T/owner.out" || fail "owner"
mkdir -m 0700 "$T/s3" && install -d -m 0770 "$T/s3/queue-cache"
csweep writable "$T/s3"
grep -q "^warn queue: cache-error path=$T/s3/queue-cache reason=writable\$" "$T/writable.out" ||
    fail "group-writable"
[ -z "$(find "$T/s2/queue-cache" "$T/s3/queue-cache" -mindepth 1)" ] || fail "an unsafe queue-cache was written"
# files of a good queue-cache replaced by links to the victims
cp -a "$T/state" "$T/s4"
ln -sf "$V/0" "$T/s4/queue-cache/0"
ln -sf "$V/send" "$T/s4/queue-cache/send"
ln -sf "$V/0" "$T/s4/queue-cache/mess.0"
csweep files "$T/s4"
grep 'cache-error' "$T/files.out" && fail "cache-error for linked cache files in a good directory"
grep -n "$V" "$T/files.trace" | grep -v ' = -1 ELOOP' >&2 && fail "a victim was opened"
diff -r "$V" "$T/victim.orig" || fail "a victim changed"
[ -f "$T/s4/queue-cache/0" ] && [ ! -L "$T/s4/queue-cache/0" ] || fail "the link was not replaced by a file"
pass "queue-cache: links, another owner, group-writable: refused, one line each"

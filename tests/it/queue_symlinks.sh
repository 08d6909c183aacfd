# queue: symlinks planted by qmailq (who owns queue/, mess/ and todo/) are
# never followed by root. As qmailq: mess/S replaced by a link to a directory
# elsewhere, todo/ID a link to a file elsewhere, and queue/info itself
# replaced by qmailq's own directory whose info/S is a link and whose
# info/S/ID are links. A root run of the queue and queuestats checks under
# strace opens nothing outside the queue and the state (every file it opens
# or stats is a single name under a directory descriptor), leaves the
# victims untouched, and names each planted link in one line.
. "$SOURCE_DIR/tests/it/lib.sh"
QF="python3 $SOURCE_DIR/tests/it/queue_fixture.py"
S=23
H=$T/home
make_qmailhome "$H"
$QF prep "$FIXTURES/queue-small-processed.tgz" "$H"
Q=$H/queue

# three subdirectories with messages: SM (mess/SM becomes a link), SI
# (info/SI/ID become links), SD (info/SD becomes a link); T1 in none of them
SM= SI= SD= T1=
for s in $(seq 0 $((S - 1))); do
	[ -n "$(ls "$Q/info/$s")" ] || continue
	if [ -z "$SM" ]; then SM=$s; elif [ -z "$SI" ]; then SI=$s
	elif [ -z "$SD" ]; then SD=$s; elif [ -z "$T1" ]; then T1=$(ls "$Q/info/$s" | head -1); fi
done
[ -n "$T1" ] || fail "fixture: fewer than four subdirectories with messages"
I3=$(ls "$Q/info/$SI" | head -1)

# the victims: root's, shaped like the queue's own files
V=$T/victim
install -d -m 0700 "$V" "$V/dir"
for id in $(ls "$Q/mess/$SM") $(ls "$Q/info/$SD"); do printf 'secret body\n' > "$V/dir/$id"; done
printf 'Fsecret@victim.test\0' > "$V/info"
printf 'Tsecret@victim.test\0' > "$V/remote"
$QF snapshot "$V" > "$T/victim.before"

as_qmailq() { runuser -u qmailq -- sh -c "$1"; }
as_qmailq "mv '$Q/mess/$SM' '$Q/mess.$SM.real' && ln -s '$V/dir' '$Q/mess/$SM'" ||
    fail "qmailq could not replace mess/$SM"
as_qmailq "ln -s '$V/info' '$Q/todo/$T1'" || fail "qmailq could not plant todo/$T1"
# queue/ is qmailq's: it can put a directory of its own in place of info/
as_qmailq "mv '$Q/info' '$Q/info.real' && mkdir -m 0700 '$Q/info' &&
    i=0; while [ \$i -lt $S ]; do mkdir '$Q/info/'\$i; i=\$((i + 1)); done &&
    rmdir '$Q/info/$SD' && ln -s '$V/dir' '$Q/info/$SD'" ||
    fail "qmailq could not replace info/"
# qmailq cannot list info.real/3 (qmails 0700): the ids come from root's listing
for id in $(ls "$Q/info.real/$SI"); do
	as_qmailq "ln -s '$V/info' '$Q/info/$SI/$id'" || fail "qmailq could not plant info/$SI/$id"
done
# a name in the wrong subdirectory for its id is reported as such: pick one
# that belongs in SI
X=$((99999999 / S * S + SI))
as_qmailq "ln -s '$V/remote' '$Q/info/$SI/$X'" || fail "qmailq could not plant info/$SI/$X"
sleep 0.05	# a change in the clock tick of the start waits for the next run

rc=0
QMAILHOME=$H MAINTD_STATE=$T/state ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -y -e trace=open,openat,openat2,stat,lstat,newfstatat,statx,readlink,readlinkat \
    -o "$T/trace" "$MAINTD" -1 -v -C queue,queuestats > "$T/out" 2>&1 || rc=$?
check_grammar "$T/out"
grep -v ' message ' "$T/out"
[ "$rc" = 2 ] || fail "exit status $rc, expected 2 (the layout is broken: crit)"

# nothing outside was opened or stat'ed: no path of the victims anywhere
grep -n "$V" "$T/trace" >&2 && fail "the trace shows a victim path"
# every name opened or stat'ed under a directory descriptor is one component
# (a path like mess/5/ID would follow mess/5); absolute paths are the
# administrator's: QMAILHOME/queue, MAINTD_STATE, /proc/locks, the system's
awk -v home="$H" -v state="$T/state" '
	/(openat|newfstatat|statx|readlinkat)\(/ {
		if (!match($0, /\(([0-9]+|AT_FDCWD)(<[^>]*>)?, "[^"]*"/))
			next
		call = substr($0, RSTART, RLENGTH)
		sub(/^[^"]*"/, "", call); sub(/"$/, "", call)
		if (call ~ /^\//) {
			if (index(call, home) == 1 || index(call, state) == 1 || call == "/" || call ~ /^\/(proc|etc|lib|lib64|usr|dev|sys|run)\//)
				next
			print "absolute: " $0; bad = 1; next
		}
		if (call ~ /\//) { print "multi-component: " $0; bad = 1 }
	}
	END { exit bad }' "$T/trace" >&2 || fail "a path of more than one name was opened or stat'ed"
grep -q "newfstatat([0-9]*</[^>]*queue/info/$SI>, \"$I3\"" "$T/trace" ||
    fail "the trace shows no stat of info/$SI/$I3: the checks above prove nothing"

$QF snapshot "$V" > "$T/victim.after"
diff "$T/victim.before" "$T/victim.after" || fail "a victim changed (atime: it was read)"
grep -q 'secret' "$T/out" && fail "a victim's bytes reached the log"

# one line for each planted link, naming it
one() {	# one PATTERN: exactly one line matches
	_n=$(count "$T/out" "$1")
	[ "$_n" = 1 ] || fail "$_n lines match '$1' (expected 1)"
}
one "^crit queue: bad-mode path=queue/mess/$SM type=symlink\$"
one "^crit queue: bad-mode path=queue/info/$SD type=symlink\$"
one "^warn queue: bad-mode id=$T1 dir=todo path=queue/todo/$T1 mode=120777\$"
one "^warn queue: bad-mode id=$I3 dir=info path=queue/info/$SI/$I3 mode=120777\$"
one "^warn queue: bad-mode id=$X dir=info path=queue/info/$SI/$X mode=120777\$"
one '^crit queue: bad-owner path=queue/info '
[ "$(count "$T/out" 'queuestats: unreadable')" = 0 ] || fail "queuestats: a second line for a link"
pass "planted links: nothing outside read, one line each"

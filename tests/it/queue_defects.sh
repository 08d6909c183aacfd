# queue: each defect introduced into copies of the real fixtures is reported
# with its event and id (or path), and nothing else is; stale-mess only while
# qmail-send does not run; bad input (symlinks, a directory for a file, 1 GB
# sparse files, odd names, unreadable directories) gives one finding each.
. "$SOURCE_DIR/tests/it/lib.sh"
QF="python3 $SOURCE_DIR/tests/it/queue_fixture.py"
S=23
DAY=86400

fresh() {	# fresh NAME FIXTURE: a prepared QMAILHOME in $H, its queue in $Q
	H=$T/$1
	make_qmailhome "$H"
	$QF prep "$FIXTURES/$2.tgz" "$H"
	Q=$H/queue
}

# sweep NAME [-v]: one-shot run; $T/NAME.out, the warn/crit set in $T/NAME.got
sweep() {
	_n=$1
	shift
	rc=0
	sleep 0.02	# a change in the clock tick of the start waits for the next run
	QMAILHOME=$H MAINTD_STATE=$T/state-$_n "$MAINTD" -1 -C queue "$@" > "$T/$_n.out" 2>&1 || rc=$?
	check_grammar "$T/$_n.out"
	sed -nE 's/^(warn|crit) queue: ([a-z-]+) ((id|path)=[^ ]+).*/\1 \2 \3/p' "$T/$_n.out" |
	    sort -u > "$T/$_n.got"
}

# expect NAME LINE...: the warn/crit set is exactly these lines
expect() {
	_n=$1
	shift
	printf '%s\n' "$@" | sed '/^$/d' | sort -u > "$T/$_n.want"
	if ! diff "$T/$_n.want" "$T/$_n.got"; then
		cat "$T/$_n.out" >&2
		fail "$_n: findings differ (< wanted, > got)"
	fi
	pass "$_n: $(wc -l < "$T/$_n.want") findings as expected"
}

ago() { touch -h -d "@$(($(date +%s) - $2))" "$1"; }	# ago FILE SECONDS
ago_atime() { touch -a -h -d "@$(($(date +%s) - $2))" "$1"; }

# ---- messages of the processed fixture ----

fresh msg queue-small-processed
# messages with info and remote only (no local, no bounce)
plain=""
for f in "$Q"/remote/*/*; do
	id=${f##*/}
	[ -e "$Q/local/$((id % S))/$id" ] || [ -e "$Q/bounce/$id" ] || plain="$plain $id"
done
set -- $plain
[ $# -ge 12 ] || fail "fixture: expected at least 12 remote-only messages, found $#"
A=$1 B=$2 C=$3 D=$4 E=$5 F=$6 G=$7 I=$8 K=$9
shift 9
L=$1 M=$2
# a message with local only
HL=""
for f in "$Q"/local/*/*; do
	id=${f##*/}
	[ -e "$Q/remote/$((id % S))/$id" ] || [ -e "$Q/bounce/$id" ] || { HL=$id; break; }
done
[ -n "$HL" ] || fail "fixture: no local-only message"

rm "$Q/mess/$((A % S))/$A"					# orphan-info
nb=$(((B % S + 1) % S))						# wrong-split
for d in mess info remote; do mv "$Q/$d/$((B % S))/$B" "$Q/$d/$nb/$B"; done
chown qmailr "$Q/mess/$((C % S))/$C"				# bad-owner (crit)
printf X | dd of="$Q/remote/$((D % S))/$D" conv=notrunc status=none	# bad-channel
printf 'Xfoo\0' > "$Q/info/$((E % S))/$E"			# bad-info
: > "$Q/mess/3/123abc"; : > "$Q/info/5/-1"			# bad-name
: > "$Q/local/7/123456789012345678901234567890"
ago "$Q/info/$((F % S))/$F" $((8 * DAY + 60))			# expired
rm "$Q/info/$((G % S))/$G" "$Q/remote/$((G % S))/$G"		# stale-mess
ago_atime "$Q/mess/$((G % S))/$G" $((2 * DAY))
install -o qmailq -g qmail -m 0644 /dev/null "$Q/pid/4242.1795600000.1"	# stale-pid
ago_atime "$Q/pid/4242.1795600000.1" $((2 * DAY))
install -o qmails -g qmail -m 0600 /dev/null "$Q/bounce/999"	# orphan-bounce
rm "$Q/info/$((HL % S))/$HL"					# orphan-local
J=$((I + S * 1000))						# inode-mismatch
for d in mess info remote; do mv "$Q/$d/$((I % S))/$I" "$Q/$d/$((J % S))/$J"; done
chmod 0666 "$Q/info/$((K % S))/$K"				# bad-mode
N=$((5000000 * S + 5))						# a directory for a file
mkdir "$Q/mess/5/$N"
truncate -s 1G "$Q/info/$((L % S))/$L"				# bad-info, sparse
truncate -s 0 "$Q/remote/$((M % S))/$M"; truncate -s 1G "$Q/remote/$((M % S))/$M"	# bad-channel
O=$((5000001 * S + 9))						# orphan-remote
printf 'Tx@example.test\0' > "$Q/remote/9/$O"
chown qmails:qmail "$Q/remote/9/$O"; chmod 0600 "$Q/remote/9/$O"

WANT="warn orphan-info id=$A
crit wrong-split id=$B
crit bad-owner id=$C
warn bad-channel id=$D
warn bad-info id=$E
warn bad-name path=queue/mess/3/123abc
warn bad-name path=queue/info/5/-1
warn bad-name path=queue/local/7/123456789012345678901234567890
warn expired id=$F
warn stale-pid path=queue/pid/4242.1795600000.1
warn orphan-bounce id=999
warn orphan-local id=$HL
crit inode-mismatch id=$J
warn bad-mode id=$K
crit bad-mode id=$N
warn bad-info id=$L
warn bad-channel id=$M
warn orphan-remote id=$O"

# qmail-send "running": its cleanup removes the stale mess, so no stale-mess
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(120)' \
    "$Q/lock/sendmutex" > "$T/locker" &
locker=$!
stop_locker() { kill "$locker" 2>/dev/null; }
at_exit stop_locker
wait_for "$T/locker" locked 10 || fail "could not lock sendmutex"
t0=$(date +%s)
sweep running
[ $(($(date +%s) - t0)) -le 20 ] || fail "sweep with 1 GB sparse files took more than 20 s"
grep -q "^info queue: qmail-send running=yes pid=$locker\$" "$T/running.out" || fail "running=yes pid=$locker"
expect running "$WANT"
[ "$rc" = 2 ] || fail "exit status $rc, expected 2 (crit)"
kill $locker; wait $locker 2>/dev/null || :
sweep stopped
grep -q '^info queue: qmail-send running=no$' "$T/stopped.out" || fail "running=no"
expect stopped "$WANT" "warn stale-mess id=$G"
grep -q "^info queue: stats messages=47 " "$T/stopped.out" || fail "messages count (46 - 1 removed + 2 entries: qmail-qstat counts every entry)"

# ---- the todo fixture: orphan-todo, orphan-intd ----
fresh todo queue-todo
set -- $(ls "$Q/todo")
rm "$Q/mess/$(($1 % S))/$1"					# orphan-todo
rm "$Q/mess/$(($2 % S))/$2" "$Q/todo/$2"			# orphan-intd
sweep todo
expect todo "warn orphan-todo id=$1" "warn orphan-intd id=$2"

# ---- the todo fixture with split todo/ and intd/ (big-todo, s/qmail) ----
fresh bigtodo queue-todo
for d in todo intd; do
	for s in $(seq 0 $((S - 1))); do install -d -o qmailq -g qmail -m 0700 "$Q/$d/$s"; done
	chmod 0750 "$Q/todo"/*
	for f in "$Q/$d"/*; do
		[ -f "$f" ] && mv "$f" "$Q/$d/$((${f##*/} % S))/"
	done
done
sweep bigtodo
expect bigtodo
grep -q '^info queue: layout split=23 todo=split group=qmail$' "$T/bigtodo.out" || fail "big-todo layout"
grep -q '^info queue: stats messages=20 todo=20 ' "$T/bigtodo.out" || fail "big-todo stats"
set -- $(for f in "$Q"/todo/*/*; do echo "${f##*/}"; done)
rm "$Q/mess/$(($1 % S))/$1"					# orphan-todo
rm "$Q/mess/$(($2 % S))/$2" "$Q/todo/$(($2 % S))/$2"		# orphan-intd
mv "$Q/intd/$(($3 % S))/$3" "$Q/intd/$((($3 + 1) % S))/$3"	# wrong-split
sweep bigtodo2
expect bigtodo2 "warn orphan-todo id=$1" "warn orphan-intd id=$2" "crit wrong-split id=$3"

# ---- layout ----
fresh layout queue-small-processed
chmod 0755 "$Q/info"
rm "$Q/lock/trigger"
chown root "$Q/lock/tcpto"
rmdir "$Q/pid"
install -d -o qmails -g qmail -m 0700 "$Q/info/23"
mv "$Q/bounce" "$Q/bounce.real"; ln -s bounce.real "$Q/bounce"
chown qmailr "$Q/mess/4"
ln -s ../local/6 "$Q/remote/6.x"; rm -r "$Q/local/6"; mkdir "$Q/local/6"	# empty again
mkdir "$Q/suppl1" "$Q/dkim"; : > "$Q/stray"		# unknown entries; dkim/ is s/qmail's
sweep layout
expect layout "crit bad-mode path=queue/info" "crit bad-lock path=queue/lock/trigger" \
    "crit bad-lock path=queue/lock/tcpto" "crit missing-dir path=queue/pid" \
    "crit bad-split path=queue/info" "crit bad-mode path=queue/bounce" \
    "crit bad-owner path=queue/mess/4" "crit bad-owner path=queue/local/6" \
    "crit bad-mode path=queue/local/6" "warn unknown-entry path=queue/suppl1" \
    "warn unknown-entry path=queue/stray" "warn unknown-entry path=queue/bounce.real"
grep -q '^warn queue: unknown-entry path=queue/suppl1 type=dir$' "$T/layout.out" || fail "unknown-entry type"
[ -d "$Q/suppl1" ] && [ -f "$Q/stray" ] || fail "unknown entries touched"

# ---- unreadable directories: qmail-maintd as qmails cannot read pid/ and intd/ ----
fresh unreadable queue-small-processed
install -d -o qmails "$T/state-qmails"
rc=0
QMAILHOME=$H MAINTD_STATE=$T/state-qmails setpriv --reuid=qmails --regid=qmail --clear-groups \
    "$MAINTD" -1 -C queue > "$T/qmails.out" 2>&1 || rc=$?
check_grammar "$T/qmails.out"
sed -nE 's/^(warn|crit) queue: ([a-z-]+) ((id|path)=[^ ]+).*/\1 \2 \3/p' "$T/qmails.out" | sort -u > "$T/qmails.got"
expect qmails "warn unreadable path=queue/intd" "warn unreadable path=queue/pid"
[ "$rc" = 3 ] || fail "could not look: exit status $rc, expected 3 (UNKNOWN)"
grep -q '^info queue: stats messages=46 ' "$T/qmails.out" || fail "stats as qmails"

# ---- files that cannot be opened: every file-descriptor limit from "nothing
# opens" to "everything opens" gives a clean exit and, where the info/,
# local/ or remote/ files are what fails, "unreadable" for them; never an
# orphan finding for a message whose files could not be read ----
fresh fds queue-small-processed
seen=0 n=6
while [ $n -le 48 ]; do
	rc=0
	# LeakSanitizer (the ASan build) needs descriptors of its own at exit
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	QMAILHOME=$H MAINTD_STATE=$T/state-fds sh -c "ulimit -n $n; exec \"\$0\" -1 -C queue" \
	    "$MAINTD" > "$T/fds-$n.out" 2>&1 || rc=$?
	case $rc in 0|1|2|3|111) ;; *) cat "$T/fds-$n.out" >&2; fail "ulimit -n $n: exit status $rc" ;; esac
	check_grammar "$T/fds-$n.out"
	grep -E "^(warn|crit) queue: (orphan-|unknown-user)" "$T/fds-$n.out" && fail "ulimit -n $n: a false finding"
	grep -q '^crit queue: unreadable' "$T/fds-$n.out" && fail "ulimit -n $n: unreadable is crit"
	if grep -Eq '^warn queue: unreadable path=queue/(info|local|remote)/[0-9]+/[0-9]+ error=' \
	    "$T/fds-$n.out"; then
		seen=$((seen + 1))
		[ "$rc" = 3 ] || fail "ulimit -n $n: unreadable files, exit $rc (expected 3: UNKNOWN)"
	fi
	n=$((n + 1))
done
[ "$seen" -ge 1 ] || fail "no file-descriptor limit made info/local/remote files unreadable"
[ "$rc" = 0 ] || fail "ulimit -n 48: exit $rc: $(cat "$T/fds-48.out")"
pass "ulimit -n 6..48: $seen limits gave unreadable message files, no orphan, no crash"

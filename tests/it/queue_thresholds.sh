# queuestats: the queue's thresholds on the real fixtures. qmail-send
# "stopped" (no process holds lock/sendmutex) with one todo message aged
# 10 minutes gives todo-backlog at once and send-not-running from the second
# run; qmail-send "running" (a real flock held) and a healthy queue give no
# finding; size, overdue and crit todo-backlog follow their variables; the
# figures equal qmail-qstat's; a later pass stats only the new entries (and
# the oldest of each directory); the gauges are in the metrics file.
. "$SOURCE_DIR/tests/it/lib.sh"
QF="python3 $SOURCE_DIR/tests/it/queue_fixture.py"

H=$T/todo
make_qmailhome "$H"
$QF prep "$FIXTURES/queue-todo.tgz" "$H"
Q=$H/queue
ago() { touch -m -h -d "@$(($(date +%s) - $2))" "$1"; }	# ago FILE SECONDS
# hold FILE: a process that holds the flock of FILE (as qmail-send does) until killed
hold() {
	python3 -c 'import fcntl, sys, time
f = open(sys.argv[1])
fcntl.flock(f, fcntl.LOCK_EX)
time.sleep(120)' "$1" > /dev/null 2>&1 &
}

stats() {	# stats NAME STATE [VAR=VALUE...]: -1 -v -C queuestats; $T/NAME.out, $rc
	_n=$1 _s=$2
	shift 2
	rc=0
	env QMAILHOME=$H MAINTD_STATE=$T/$_s "$@" \
	    "$MAINTD" -1 -v -P "$T/$_n.prom" -C queuestats > "$T/$_n.out" 2>&1 || rc=$?
	check_grammar "$T/$_n.out"
	sed 's/^/  /' "$T/$_n.out"
}
has() { grep -Eq -- "$2" "$T/$1.out" || fail "$1: no line matching '$2'"; }
hasnt() { grep -Eq -- "$2" "$T/$1.out" && fail "$1: a line matching '$2'"; :; }
metric() {	# metric NAME FAMILY VALUE
	grep -q "^$2 $3\$" "$T/$1.prom" || { grep qmail_queue "$T/$1.prom" >&2; fail "$1: $2 is not $3"; }
}

# ---- qmail-send stopped, a message 10 minutes in todo ----
old=$(ls "$Q/todo" | head -1)
ago "$Q/todo/$old" 600
stats stopped1 state-a
has stopped1 '^warn queuestats: todo-backlog messages=1 oldest=60[0-9] limit=300$'
hasnt stopped1 'send-not-running'	# one run: qmail-send may be restarting
has stopped1 '^info queuestats: figures messages=20 todo=20 oldest=[0-9]+ todo_oldest=60[0-9] running=no stated=40$'
[ "$rc" = 1 ] || fail "stopped1: exit status $rc, expected 1"
metric stopped1 qmail_queue_send_running 0
metric stopped1 qmail_queue_messages 20
metric stopped1 qmail_queue_todo 20
stats stopped2 state-a
has stopped2 '^crit queuestats: send-not-running messages=20 since=[0-9]+$'
has stopped2 '^warn queuestats: todo-backlog messages=1 '
[ "$rc" = 2 ] || fail "stopped2: exit status $rc, expected 2"
# nothing new: only the oldest entry of each directory is stat'ed again
n=$(sed -n 's/.* stated=\([0-9]*\)$/\1/p' "$T/stopped2.out")
dirs=$(ls -d "$Q"/mess/* | wc -l)
[ "$n" -le $((dirs + 1)) ] || fail "stopped2: $n entries stat'ed, at most $((dirs + 1)) expected"
pass "qmail-send stopped: todo-backlog, then send-not-running; $n stats on the second pass"

# a new message (a mess file named by its inode, as qmail-queue makes it)
f=$Q/pid/new.$$
install -o qmailq -g qmail -m 0644 /dev/null "$f"
ino=$(stat -c %i "$f")
ln "$f" "$Q/mess/$((ino % 23))/$ino" && rm "$f"
stats new state-a
has new '^info queuestats: figures messages=21 todo=20 '
n2=$(sed -n 's/.* stated=\([0-9]*\)$/\1/p' "$T/new.out")
[ "$n2" -le $((n + 1)) ] || fail "new: $n2 entries stat'ed for one new message"
pass "one new message: $n2 stats"

# ---- qmail-send running: a real process holds the flock ----
hold "$Q/lock/sendmutex"
lockpid=$!
at_exit "kill $lockpid 2>/dev/null"
wait_for /proc/locks "FLOCK +ADVISORY +WRITE +$lockpid " 10 || fail "no lock taken"
stats running state-a
hasnt running 'send-not-running'
has running ' running=yes '
metric running qmail_queue_send_running 1
# stopped again: the count starts over (one run is not enough)
kill $lockpid
wait $lockpid 2>/dev/null || :
stats stopped3 state-a
has stopped3 ' running=no '
hasnt stopped3 'send-not-running'
pass "qmail-send running: no finding; stopped again: one run is not enough"

# ---- thresholds ----
ago "$Q/todo/$old" 1800
stats crit state-b MAINTD_QUEUE_WARN=10 MAINTD_QUEUE_CRIT=100
has crit '^crit queuestats: todo-backlog messages=1 oldest=180[0-9] limit=1200$'
has crit '^warn queuestats: size messages=21 limit=10$'
stats crit2 state-b MAINTD_QUEUE_WARN=10 MAINTD_QUEUE_CRIT=20 MAINTD_QUEUE_TODO_AGE=0
has crit2 '^crit queuestats: size messages=21 limit=20$'
hasnt crit2 'todo-backlog'
m=$(ls "$Q/mess/$((old % 23))/$old")
ago "$Q/mess/$((old % 23))/$old" $((9 * 86400))
stats overdue state-b
has overdue '^warn queuestats: overdue messages=1 oldest=7776[0-9]{2} limit=691200$'
echo 86400 > "$H/control/queuelifetime"
stats overdue2 state-b
has overdue2 '^warn queuestats: overdue messages=1 oldest=7776[0-9]{2} limit=172800$'
rm "$H/control/queuelifetime"
rc=0
env QMAILHOME=$H MAINTD_STATE=$T/state-c MAINTD_QUEUE_WARN=30 MAINTD_QUEUE_CRIT=20 \
    "$MAINTD" -1 -C queuestats > "$T/bad.out" 2>&1 || rc=$?
[ "$rc" = 111 ] || fail "WARN above CRIT: exit $rc, expected 111"
grep -q '^fatal maintd: bad-config var=MAINTD_QUEUE_WARN value=30 ' "$T/bad.out" ||
    fail "WARN above CRIT: $(cat "$T/bad.out")"
pass "size, todo-backlog, overdue follow their variables"

# ---- the daemon, a pass every second: qmail-send stopped pages at the
# second pass, and is cleared once it holds its lock again ----
MAINTD_CHECKS=queuestats MAINTD_INTERVAL_QUEUESTATS=1 QMAILHOME=$H MAINTD_STATE=$T/state-d \
    "$MAINTD" > "$T/daemon.out" 2>&1 &
dpid=$!
at_exit "kill $dpid 2>/dev/null"
wait_for "$T/daemon.out" '^crit queuestats: send-not-running messages=21 ' 20 || {
	cat "$T/daemon.out" >&2
	fail "daemon: no send-not-running"
}
hold "$Q/lock/sendmutex"
lockpid=$!
at_exit "kill $lockpid 2>/dev/null"
wait_for "$T/daemon.out" '^info queuestats: cleared send-not-running$' 20 || {
	cat "$T/daemon.out" >&2
	fail "daemon: send-not-running not cleared"
}
kill $lockpid $dpid
wait $dpid || :
pass "daemon: send-not-running at the second pass, cleared when qmail-send runs"

# ---- a healthy queue: the processed fixture, qmail-send running ----
H=$T/healthy
make_qmailhome "$H"
$QF prep "$FIXTURES/queue-small-processed.tgz" "$H"
hold "$H/queue/lock/sendmutex"
lockpid=$!
at_exit "kill $lockpid 2>/dev/null"
wait_for /proc/locks "FLOCK +ADVISORY +WRITE +$lockpid " 10 || fail "no lock taken"
for i in 1 2; do
	stats healthy$i state-h
	[ "$rc" = 0 ] || fail "healthy$i: exit status $rc"
	hasnt healthy$i '^(warn|crit) '
done
msgs=$(sed -n 's/^messages in queue: //p' "$FIXTURES/queue-small-processed.qmail-qstat.txt")
todo=$(sed -n 's/^messages in queue but not yet preprocessed: //p' "$FIXTURES/queue-small-processed.qmail-qstat.txt")
has healthy2 "^info queuestats: figures messages=$msgs todo=$todo "
metric healthy2 qmail_queue_messages "$msgs"
kill $lockpid
pass "healthy queue: no finding; figures equal qmail-qstat ($msgs/$todo)"

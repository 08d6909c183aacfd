# queue: the shape by destination domain equals an independent count of the
# same files (tests/it/queue_shape.py) on a generated queue of 3000 messages
# to 400 domains, in -v lines, in the metrics file and in the stuck findings;
# again from the steady-state cache (no remote/ file opened); a stuck domain
# that drains is cleared.
. "$SOURCE_DIR/tests/it/lib.sh"
QS="python3 $SOURCE_DIR/tests/it/queue_shape.py"
H=$T/home
make_qmailhome "$H"
"$BUILD/tests/queue-gen" "$H/queue" "${QUEUE_SHAPE_MESSAGES:-3000}" 23 400
$QS prep "$H/queue"
STUCK=70000	# the two stuck domains' messages are 1500 and 2000 minutes old, the rest 960 at most

run() {	# run NAME TOP [strace]: one -1 run, its output in $T/NAME.out
	_n=$1 _top=$2
	shift 2
	rc=0
	MAINTD_STUCK_AGE=$STUCK MAINTD_QUEUE_TOPDOMAINS=$_top \
	    QMAILHOME=$H MAINTD_STATE=$T/state "$@" "$MAINTD" -1 -v -P "$T/$_n.prom" -C queue \
	    > "$T/$_n.out" 2>&1 || rc=$?
	check_grammar "$T/$_n.out"
	grep -v ' message ' "$T/$_n.out" | grep -v ' shape ' || :
	[ "$rc" = 1 ] || fail "$_n: exit status $rc, expected 1 (the stuck warnings)"
	grep -E '^(warn|crit) ' "$T/$_n.out" | grep -v '^warn queue: stuck ' && fail "$_n: other findings"
	$QS check "$H/queue" "$T/$_n.out" "$_top" "$STUCK" "$T/$_n.prom" || fail "$_n: shape differs"
}
run first 10
grep -q '^warn queue: stuck domain=stuck2.test recipients=1 oldest=1200[0-9][0-9] *$' "$T/first.out" ||
    fail "stuck2.test line"
pass "first run: shape, metrics and stuck domains as counted"
# qmail-maintd -q: the same as a table for people, and nothing else on stdout
QMAILHOME=$H MAINTD_STATE=$T/state-q MAINTD_QUEUE_TOPDOMAINS=10 "$MAINTD" -q > "$T/q.out" 2> "$T/q.err" ||
    [ $? = 1 ] || fail "-q: exit status"
head -1 "$T/q.out" | grep -Eq '^ +T +5 +10 +20 +40 +80 +160 +320 +640 +1280 +1280\+$' || fail "-q header: $(head -1 "$T/q.out")"
$QS table "$H/queue" "$T/q.out" || fail "-q table differs: $(cat "$T/q.out")"
! grep -q 'sweep:' "$T/q.out" || fail "-q: log lines on stdout"
pass "qmail-maintd -q: qshape's table, as counted"

sleep 3		# only files settled for 2 s are cached
run second 10
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    run third 25 strace -f -y -e trace=openat -o "$T/third.trace"
n=$(grep -c 'queue/remote/[0-9]*>, "[0-9]*"' "$T/third.trace" || :)
[ "$n" = 0 ] || fail "steady state: $n remote/ files opened"
grep -c 'queue/info/[0-9]*>, "[0-9]*"' "$T/third.trace" > /dev/null ||
    fail "strace shows no info/ open: the check above proves nothing"
pass "steady state: the same shape from the cache, no remote/ file opened"

# MAINTD_SENDLOG: the stuck line carries qmail-send's last deferral for the domain
mkdir -p "$T/sendlog"
printf '%s\n' 'status: local 0/10 remote 1/20' \
    'starting delivery 7: msg 123 to remote u@Stuck2.test' \
    'delivery 7: deferral: 192.0.2.7_does_not_like_recipient./Remote_host_said:_451_4.3.0_try_later/' \
    > "$T/sendlog/current"
run fourth 10 env MAINTD_SENDLOG="$T/sendlog/current"
grep -q '^warn queue: stuck domain=stuck2.test recipients=1 oldest=[0-9]* last_deferral="192.0.2.7 does not like recipient./Remote host said: 451 4.3.0 try later" last_deferral_age=[0-9]*$' \
    "$T/fourth.out" || fail "no last_deferral on the stuck line: $(grep stuck2 "$T/fourth.out")"
grep -q 'stuck domain=stuck1.test .*last_deferral' "$T/fourth.out" && fail "stuck1.test has no deferral in the log"
# the cursor: a second run reads nothing new and keeps the deferral
run fifth 10 env MAINTD_SENDLOG="$T/sendlog/current"
grep -q 'stuck domain=stuck2.test .*last_deferral="192.0.2.7 ' "$T/fifth.out" || fail "the cursor lost the deferral"
pass "MAINTD_SENDLOG: qmail-send's last deferral on the stuck line, kept across runs by the cursor"

# the daemon: stuck2.test drains (its recipient is marked done), a HUP sweep clears it
MAINTD_STUCK_AGE=$STUCK MAINTD_CHECKS=queue QMAILHOME=$H MAINTD_STATE=$T/state-d \
    "$MAINTD" > "$T/daemon.out" 2>&1 &
pid=$!
at_exit "kill $pid 2>/dev/null"
wait_for "$T/daemon.out" '^warn queue: stuck domain=stuck2.test ' 30 || fail "daemon: no stuck line"
f=$(grep -l -a 'stuck2.test' "$H"/queue/remote/*/*)
printf D | dd of="$f" conv=notrunc status=none
kill -HUP $pid
wait_for "$T/daemon.out" '^info queue: cleared stuck domain=stuck2.test$' 30 || {
	cat "$T/daemon.out" >&2
	fail "daemon: stuck2.test not cleared"
}
[ "$(count "$T/daemon.out" 'cleared stuck domain=stuck1.test')" = 0 ] || fail "stuck1.test cleared"
kill $pid
wait $pid || :
pass "a drained domain is cleared"

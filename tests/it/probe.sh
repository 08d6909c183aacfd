# The probe process (daemon/probe.c), with the test-only slowprobe check of
# qmail-maintd-test (CHECK_PROBE, like dns and tls) beside slow (in the root
# process): the probe process runs as MAINTD_PROBEUSER (not root), with
# no_new_privs, chrooted to the empty $MAINTD_STATE/empty; the root process
# holds no inet socket. Killed mid-run: one probe-died line, the run ends as
# failed, slow goes on every second, a new probe process serves the next
# sweep. SIGTERM ends both within 1 s.
. "$SOURCE_DIR/tests/it/lib.sh"
H=$T/home
make_qmailhome "$H"
printf 'warn probe-item\n' > "$T/items"
id qmaintd >/dev/null 2>&1 || fail "no qmaintd account: run tests/setup-host.sh"

env QMAILHOME="$H" MAINTD_STATE="$T/state" MAINTD_CHECKS=slow,slowprobe MAINTD_INTERVAL_SLOW=1 \
    MAINTD_SLOWPROBE_MS=4000 MAINTD_SLOWPROBE_FINDINGS="$T/items" MAINTD_INTERVAL_SLOWPROBE=3600 \
    MAINTD_PROMFILE="$T/m.prom" "$MAINTD_TEST" > "$T/log" 2>&1 &
pid=$!
at_exit "kill -9 $pid 2>/dev/null"
wait_for "$T/log" '^warn slowprobe: item name=probe-item$' 20 || fail "no finding from the probe: $(cat "$T/log")"
child=$(pgrep -P "$pid" | head -1)
[ -n "$child" ] || fail "no probe process"

# the probe process: not root, no new privileges, chrooted to the empty directory
uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$child/status")
gid=$(awk '/^Gid:/ { print $2 $3 $4 $5 }' "/proc/$child/status")
q=$(id -u qmaintd) g=$(id -g qmaintd)
[ "$uid" = "$q$q$q$q" ] || fail "probe uids: $uid, want $q"
[ "$gid" = "$g$g$g$g" ] || fail "probe gids: $gid, want $g"
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$child/status" || fail "probe without no_new_privs"
grep -q '^Groups:[[:space:]]*'"$g"'[[:space:]]*$' "/proc/$child/status" || fail "probe groups: $(grep Groups "/proc/$child/status")"
[ "$(readlink "/proc/$child/root")" = "$T/state/empty" ] || fail "probe root: $(readlink "/proc/$child/root")"
[ -z "$(ls -A "$T/state/empty")" ] || fail "the probe's root is not empty"
[ "$(stat -c %U:%a "$T/state/empty")" = "root:755" ] || fail "probe root: $(stat -c %U:%a "$T/state/empty")"
pass "probe process $child: uid/gid $q/$g, NoNewPrivs 1, root $T/state/empty"

# the root process: its sockets are unix ones (the socketpair, the log), no inet
python3 - "$pid" <<'PY' || fail "the root process holds an inet socket"
import os, re, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    m = re.match(r"socket:\[(\d+)\]", os.readlink("/proc/%s/fd/%s" % (pid, fd)))
    if m:
        inodes.add(m.group(1))
for t in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
    for line in open("/proc/net/" + t).readlines()[1:]:
        if line.split()[9] in inodes:
            sys.exit("inet socket %s in /proc/net/%s" % (line.split()[9], t))
unix = set(l.split()[6] for l in open("/proc/net/unix").readlines()[1:])
if not inodes or not inodes <= unix:
    sys.exit("sockets that are not unix: %s" % (inodes - unix))
PY
pass "root process: only unix sockets"

# killed in the middle of a run: one line, the run failed, slow never stopped
# (SIGHUP reloads the configuration, so a new probe process runs that sweep)
kill -HUP "$pid"
wait_for "$T/log" '^info sweep: start reason=hup' 10 || fail "no hup sweep"
sleep 0.5
child=$(pgrep -P "$pid" | head -1)
before=$(count "$T/log" '^info slow: ran ')
kill -9 "$child"
wait_for "$T/log" '^crit maintd: probe-died pid='"$child"' status=SIGKILL$' 10 ||
    fail "no probe-died line: $(tail -5 "$T/log")"
wait_for "$T/log" '^info sweep: done reason=hup .* checks_failed=1 .*' 10 || fail "the killed run did not end failed: $(tail -5 "$T/log")"
sleep 2.5
after=$(count "$T/log" '^info slow: ran ')
[ $((after - before)) -ge 2 ] || fail "slow stopped while the probe was down: $before then $after"
[ "$(count "$T/log" '^crit maintd: probe-died ')" = 1 ] || fail "probe-died lines: $(grep probe-died "$T/log")"
new=$(pgrep -P "$pid" | head -1)
[ -n "$new" ] && [ "$new" != "$child" ] || fail "no new probe process"
n=$(count "$T/log" '^warn slowprobe: item ')
kill -HUP "$pid"
_i=0
while [ "$(count "$T/log" '^warn slowprobe: item ')" -le "$n" ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
[ "$(count "$T/log" '^warn slowprobe: item ')" -gt "$n" ] || fail "no finding from the new probe: $(tail -8 "$T/log")"
grep -q '^qmail_slowprobe_items 1$' "$T/m.prom" || wait_for "$T/m.prom" '^qmail_slowprobe_items 1$' 10 ||
    fail "no samples from the new probe: $(cat "$T/m.prom")"
pass "probe killed: one probe-died line, slow ran $((after - before)) times meanwhile, new probe $new serves"

# a probe process that says what it should not: bytes that do not decode,
# written on its end of the socketpair (gdb, as an attacker inside it would)
command -v gdb >/dev/null || fail "no gdb: run tests/setup-host.sh"
new=$(pgrep -P "$pid" | head -1)
# (the root process kills it at once, often while gdb is still attached: gdb's
# own status says nothing, the log does)
gdb -p "$new" -batch -ex 'call (long)write(3, "\000\000\000\013\377hostile!!!", 15)' \
    > "$T/gdb.out" 2>&1 || true
wait_for "$T/log" '^crit maintd: probe-protocol reason=bad-version$' 10 ||
    fail "no probe-protocol line: $(tail -5 "$T/log"; tail -3 "$T/gdb.out")"
! grep -q hostile "$T/log" || fail "bytes of the hostile message in the log"
_i=0
while [ "$(pgrep -P "$pid" | head -1)" = "$new" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
old=$new
new=$(pgrep -P "$pid" | head -1)
[ -n "$new" ] && [ "$new" != "$old" ] || fail "the probe process was not replaced"
pass "a malformed message: one probe-protocol line, probe $old replaced by $new"

# SIGTERM: both gone within 1 s
wait_for "$T/log" '^info sweep: done reason=hup .* checks_failed=0 .*' 10 || true
kill -HUP "$pid"
wait_for "$T/log" '^info slowprobe: ran ' 5 || true
t0=$(date +%s%N)
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null || kill -0 "$new" 2>/dev/null; do
	[ $(($(date +%s%N) - t0)) -lt 1000000000 ] || fail "still running 1 s after SIGTERM"
	sleep 0.01
done
pass "SIGTERM: both processes gone in $((($(date +%s%N) - t0) / 1000000)) ms"
check_grammar "$T/log"

# queue: a long scan yields to the event loop: SIGTERM in the middle of the
# scan of a 15,000-message queue is served within 100 ms, three times; a
# SIGHUP in the middle of it is kept and served by one more sweep. The same
# SIGTERM test for the queuestats light pass's first pass (no cache: it
# stats all 18,000 entries).
. "$SOURCE_DIR/tests/it/lib.sh"
H=$T/home
make_qmailhome "$H"
"$BUILD/tests/queue-gen" "$H/queue" "${QUEUE_YIELD_MESSAGES:-15000}"

QMAILHOME=$H MAINTD_STATE=$T/state python3 - "$MAINTD" <<'PY' || fail "see above"
import os, signal, subprocess, sys, time
worst = 0
runs = 0
def trial(delay, check="queue"):
    """ms from SIGTERM to the exiting line; None if the scan ended first"""
    global runs
    runs += 1
    env = dict(os.environ)
    if check == "queuestats":	# its first pass: a state of its own each time
        env["MAINTD_STATE"] += str(runs)
    p = subprocess.Popen([sys.argv[1], "-C", check], stdout=subprocess.PIPE, env=env)
    line = b""
    while b"sweep: start" not in line:
        line = p.stdout.readline()
        if not line:
            sys.exit("FAIL: no sweep started")
    time.sleep(delay)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    seen = []
    for line in p.stdout:
        seen.append(line)
        if b"maintd: exiting signal=TERM" in line:
            break
    ms = (time.monotonic() - t0) * 1000
    p.wait(30)
    if not seen or b"exiting" not in seen[-1]:
        sys.exit("FAIL: no exiting line: %r" % seen)
    if p.returncode != 0:
        sys.exit("FAIL: exit status %d" % p.returncode)
    if any(b"sweep: done" in l for l in seen):
        return None
    print("%s: SIGTERM %.2f s into the scan: served in %.1f ms" % (check, delay, ms))
    return ms

for check, delays in (("queue", (0.3, 0.15, 0.05)), ("queuestats", (0.02, 0.01))):
    for delay in delays:
        ms = trial(delay, check)
        if ms is None:	# a fast machine: the scan was over, try earlier
            ms = trial(0.005, check)
        if ms is None:
            sys.exit("FAIL: the %s scan ends within 5 ms: queue too small to test" % check)
        worst = max(worst, ms)
# SIGHUP in the middle of a scan is not lost: one more sweep follows it
p = subprocess.Popen([sys.argv[1], "-C", "queue"], stdout=subprocess.PIPE,
                     env=dict(os.environ, MAINTD_STATE=os.environ["MAINTD_STATE"] + "-hup"))
lines = []
for line in p.stdout:
    lines.append(line)
    if b"sweep: start reason=start" in line:
        time.sleep(0.05)
        p.send_signal(signal.SIGHUP)
    if b"sweep: start reason=hup" in line:
        break
p.send_signal(signal.SIGTERM)
p.wait(30)
if not any(b"sweep: start reason=hup" in l for l in lines):
    sys.exit("FAIL: no sweep after SIGHUP: %r" % lines[-3:])
done = [i for i, l in enumerate(lines) if b"sweep: done" in l]
if not done or b"queue: stats" not in lines[done[0] - 1]:
    sys.exit("FAIL: the first sweep did not end normally: %r" % lines)
print("SIGHUP during the scan: the scan went on, one more sweep followed")
if worst >= 100:
    sys.exit("FAIL: SIGTERM took %.1f ms (limit 100)" % worst)
print("ok: worst %.1f ms" % worst)
PY

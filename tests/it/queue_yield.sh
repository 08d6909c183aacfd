# queue: a long scan yields to the event loop: SIGTERM in the middle of the
# scan of a 30,000-message queue is served within 100 ms, three times.
. "$SOURCE_DIR/tests/it/lib.sh"
H=$T/home
make_qmailhome "$H"
"$BUILD/tests/queue-gen" "$H/queue" "${QUEUE_YIELD_MESSAGES:-30000}"

QMAILHOME=$H MAINTD_STATE=$T/state python3 - "$MAINTD" <<'PY' || fail "see above"
import os, signal, subprocess, sys, time
worst = 0
for delay in (0.1, 0.25, 0.4):
    p = subprocess.Popen([sys.argv[1], "-C", "queue"], stdout=subprocess.PIPE)
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
    if any(b"queue: stats" in l for l in seen):
        sys.exit("FAIL: the scan ended before SIGTERM (delay %.1f s): queue too small" % delay)
    if not seen or b"exiting" not in seen[-1]:
        sys.exit("FAIL: no exiting line: %r" % seen)
    print("SIGTERM %.1f s into the scan: served in %.1f ms, exit status %d" % (delay, ms, p.returncode))
    worst = max(worst, ms)
    if p.returncode != 0:
        sys.exit("FAIL: exit status %d" % p.returncode)
if worst >= 100:
    sys.exit("FAIL: SIGTERM took %.1f ms (limit 100)" % worst)
print("ok: worst %.1f ms" % worst)
PY

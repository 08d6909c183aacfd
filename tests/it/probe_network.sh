# During a dns+tls sweep the network is the probe process's alone: an SMTP
# "server" that accepts and never speaks and a DNS "server" that never
# answers keep both checks busy; meanwhile the probe process (which holds the
# inet sockets) is not root, has no_new_privs and its root is the empty
# directory, and the root process holds no inet socket at all.
. "$SOURCE_DIR/tests/it/lib.sh"
H=$T/home
make_qmailhome "$H"
id qmaintd >/dev/null 2>&1 || fail "no qmaintd account: run tests/setup-host.sh"
python3 - "$T/ports" <<'PY' &
import socket, sys, time
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(5)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write("%d %d\n" % (t.getsockname()[1], u.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
t.settimeout(0.1)
end = time.time() + 60
while time.time() < end:
    try:
        conns.append(t.accept()[0])	# accepted, never answered
    except socket.timeout:
        pass
PY
srv=$!
at_exit "kill $srv 2>/dev/null"
wait_for "$T/ports" . 5 || fail "no test servers"
read -r tport uport < "$T/ports"

env QMAILHOME="$H" MAINTD_STATE="$T/state" MAINTD_CHECKS=dns,tls \
    MAINTD_TLS_TARGETS="smtp://127.0.0.1:$tport" MAINTD_TLS_TIMEOUT=20 MAINTD_TIMEOUT_TLS=30 \
    MAINTD_DNS_SERVERS="127.0.0.1:$uport" MAINTD_DNS_DOMAINS=example.test MAINTD_DNS_TIMEOUT=20000 \
    MAINTD_TIMEOUT_DNS=30 "$MAINTD" > "$T/log" 2>&1 &
pid=$!
at_exit "kill -9 $pid 2>/dev/null"
wait_for "$T/log" '^info sweep: start reason=start' 10 || fail "no sweep: $(cat "$T/log")"
sleep 1
child=$(pgrep -P "$pid" | head -1)
[ -n "$child" ] || fail "no probe process"
python3 - "$pid" "$child" "$T/state/empty" "$(id -u qmaintd)" <<'PY' || fail "see above"
import os, re, sys
root, probe, empty, quid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def inodes(pid):
    s = set()
    for fd in os.listdir("/proc/%s/fd" % pid):
        m = re.match(r"socket:\[(\d+)\]", os.readlink("/proc/%s/fd/%s" % (pid, fd)))
        if m:
            s.add(m.group(1))
    return s
inet = set()
for t in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
    for line in open("/proc/net/" + t).readlines()[1:]:
        inet.add(line.split()[9])
if inodes(root) & inet:
    sys.exit("FAIL: the root process holds inet sockets")
if not inodes(probe) & inet:
    sys.exit("FAIL: the probe process holds no inet socket: the checks are not running there")
st = dict(l.split(":", 1) for l in open("/proc/%s/status" % probe))
uids, gids = st["Uid"].split(), st["Gid"].split()
if set(uids) != {quid} or "0" in gids:
    sys.exit("FAIL: probe uids %s gids %s" % (uids, gids))
if st["NoNewPrivs"].strip() != "1":
    sys.exit("FAIL: probe without no_new_privs")
if os.readlink("/proc/%s/root" % probe) != empty:
    sys.exit("FAIL: probe root %s" % os.readlink("/proc/%s/root" % probe))
print("ok: mid-sweep: probe %s (uid %s) holds %d inet sockets, the root process none" %
      (probe, quid, len(inodes(probe) & inet)))
PY
kill -TERM "$pid"

# queue: what the walk sees is re-checked before it is reported. During a
# sweep of a 15,000-message queue, two orphans in the last split
# subdirectory are made legitimate (or new) before the walk reaches them:
#   ID1: an info/ file without mess/ created after the sweep started (a
#        message being preprocessed): seen by the walk, never reported;
#   ID2: an old info/ file without mess/ whose todo/ID2 appears during the
#        sweep (flat todo/ is looked at only when confirming): not reported.
# Once both are plain orphans (todo/ID2 removed), the next sweep reports both.
. "$SOURCE_DIR/tests/it/lib.sh"
H=$T/home
make_qmailhome "$H"
"$BUILD/tests/queue-gen" "$H/queue" "${QUEUE_RESTAT_MESSAGES:-15000}"
Q=$H/queue
S=$(ls "$Q/mess" | wc -l)
ID1=$((S * 900000001 + S - 1))
ID2=$((S * 900000002 + S - 1))
info() { install -o qmails -g qmail -m 0600 /dev/null "$Q/info/$((S - 1))/$1"; printf 'Fx@example.test\0' > "$Q/info/$((S - 1))/$1"; }
info "$ID2"
sleep 1.1	# older than the sweep's start, by more than a clock tick

QMAILHOME=$H MAINTD_STATE=$T/state python3 - "$MAINTD" "$Q" "$ID1" "$ID2" "$S" "$T/during.out" <<'PY' || fail "see above"
import os, subprocess, sys
maintd, q, id1, id2, s, save = sys.argv[1:]
p = subprocess.Popen([maintd, "-1", "-v", "-C", "queue"], stdout=subprocess.PIPE)
out = []
for line in p.stdout:
    out.append(line.decode())
    if "queue: qmail-send running=" in line.decode():
        # the check has started and the walk is at subdirectory 0; these go
        # into the last one
        path = os.path.join(q, "info", str(int(s) - 1), id1)
        with open(path, "wb") as f:
            f.write(b"Fnew@example.test\0")
        os.chown(path, os.stat(os.path.join(q, "info")).st_uid, -1)
        os.chmod(path, 0o600)
        t = os.path.join(q, "todo", id2)
        open(t, "wb").close()
        os.chown(t, os.stat(os.path.join(q, "todo")).st_uid, -1)
        os.chmod(t, 0o644)
p.wait(120)
text = "".join(out)
open(save, "w").write(text)
for i in (id1, id2):
    if "queue: message id=%s " % i not in text:
        sys.exit("FAIL: the walk did not see id=%s: make the queue bigger" % i)
    if "id=%s " % i in "".join(l for l in out if l.startswith(("warn", "crit"))):
        sys.exit("FAIL: id=%s reported during the sweep:\n%s" % (i, text))
print("ok: both seen by the walk (-v message lines), neither reported")
PY
check_grammar "$T/during.out"
[ "$(count "$T/during.out" '^(warn|crit) ')" = 0 ] || fail "warn/crit during the sweep"
rm "$Q/todo/$ID2"
sleep 1.1
rc=0
QMAILHOME=$H MAINTD_STATE=$T/state "$MAINTD" -1 -C queue > "$T/after.out" 2>&1 || rc=$?
check_grammar "$T/after.out"
grep -q "^warn queue: orphan-info id=$ID1 " "$T/after.out" || fail "orphan-info id=$ID1 afterwards"
grep -q "^warn queue: orphan-info id=$ID2 " "$T/after.out" || fail "orphan-info id=$ID2 afterwards"
[ "$(count "$T/after.out" '^(warn|crit) ')" = 2 ] || fail "other findings afterwards"
pass "the next sweep reports both orphans"

#!/usr/bin/env python3
"""Test helper for the queue check (not a test itself).

  queue_fixture.py prep TGZ QMAILHOME
      extracts a fixture queue (tar --numeric-owner), renames every message
      to its new inode number (what qmail-queue would have named it on this
      filesystem: tar cannot keep inode numbers), and shifts every atime and
      mtime so that the newest message is two minutes old, keeping relative
      ages (and the future mtimes of local/remote files).
  queue_fixture.py snapshot DIR
      prints path, inode, size, mode, owner, mtime and atime of every path.
  queue_fixture.py qread QREAD_FILE | queue_fixture.py vlines MAINTD_OUTPUT
      one normalised line per message (bytes sender local remote done
      bouncing), sorted, from qmail-qread output or from -v message lines.
"""
import os, re, stat, subprocess, sys, time

SPLIT_DIRS = ("mess", "info", "local", "remote")
FLAT_DIRS = ("todo", "intd", "bounce")


def prep(tgz, home):
    os.makedirs(home, exist_ok=True)
    subprocess.run(["tar", "--numeric-owner", "-xzf", tgz, "-C", home],
                   check=True, stderr=subprocess.DEVNULL)
    q = os.path.join(home, "queue")
    split = len([d for d in os.listdir(os.path.join(q, "mess")) if d.isdigit()])
    ren = {}
    for s in os.listdir(os.path.join(q, "mess")):
        for n in os.listdir(os.path.join(q, "mess", s)):
            ino = os.lstat(os.path.join(q, "mess", s, n)).st_ino
            if ino != int(n):
                ren[int(n)] = ino
    if set(ren.values()) & set(ren.keys()):
        sys.exit("inode numbers collide with old ids; try again")
    for old, new in ren.items():
        for d in SPLIT_DIRS:
            a = os.path.join(q, d, str(old % split), str(old))
            if os.path.lexists(a):
                os.rename(a, os.path.join(q, d, str(new % split), str(new)))
        for d in FLAT_DIRS:
            a = os.path.join(q, d, str(old))
            if os.path.lexists(a):
                os.rename(a, os.path.join(q, d, str(new)))
    newest = 0
    for s in os.listdir(os.path.join(q, "mess")):
        for n in os.listdir(os.path.join(q, "mess", s)):
            newest = max(newest, os.lstat(os.path.join(q, "mess", s, n)).st_mtime_ns)
    shift = time.time_ns() - 120 * 10**9 - newest
    for root, dirs, files in os.walk(q):
        for n in dirs + files + ["."]:
            p = os.path.join(root, n)
            st = os.lstat(p)
            os.utime(p, ns=(st.st_atime_ns + shift, st.st_mtime_ns + shift),
                     follow_symlinks=False)


def listdir_noatime(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOATIME)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def snapshot(top):
    """Read without touching: directories are listed with O_NOATIME."""
    out, todo = [], [top]
    while todo:
        d = todo.pop()
        for n in listdir_noatime(d) + ["."]:
            p = os.path.join(d, n)
            st = os.lstat(p)
            out.append("%s %d %d %o %d:%d %d %d" % (p, st.st_ino, st.st_size, st.st_mode,
                       st.st_uid, st.st_gid, st.st_mtime_ns, st.st_atime_ns))
            if n != "." and stat.S_ISDIR(st.st_mode):
                todo.append(p)
    print("\n".join(sorted(out)))


def qread(path):
    msgs, cur = [], None
    head = re.compile(r"^.* GMT  #(\d+)  (\d+)  <(.*)> ( bouncing)?$")
    for line in open(path, encoding="latin-1"):
        line = line.rstrip("\n")
        m = head.match(line)
        if m:
            cur = [int(m.group(2)), m.group(3), 0, 0, 0, 1 if m.group(4) else 0]
            msgs.append(cur)
        elif line.startswith("\tlocal\t"):
            cur[2] += 1
        elif line.startswith("\tremote\t"):
            cur[3] += 1
        elif line.startswith("  done\t"):
            cur[4] += 1
    for m in sorted(msgs, key=str):
        print("bytes=%d sender=%s local=%d remote=%d done=%d bouncing=%d" % tuple(m))


def vlines(path):
    msgs = []
    for line in open(path, encoding="latin-1"):
        if not line.startswith("info queue: message "):
            continue
        f = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line))
        sender = f["sender"].strip('"')
        msgs.append([int(f["bytes"]), sender, int(f["local"]), int(f["remote"]),
                     int(f["done"]), int(f["bouncing"])])
    for m in sorted(msgs, key=str):
        print("bytes=%d sender=%s local=%d remote=%d done=%d bouncing=%d" % tuple(m))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "prep":
        prep(sys.argv[2], sys.argv[3])
    elif cmd == "snapshot":
        snapshot(sys.argv[2])
    elif cmd == "qread":
        qread(sys.argv[2])
    elif cmd == "vlines":
        vlines(sys.argv[2])
    else:
        sys.exit("usage: queue_fixture.py prep|snapshot|qread|vlines ...")

#!/usr/bin/env python3
"""Test helper for the queue shape (not a test itself): an independent count.

  queue_shape.py prep QUEUE
      gives every preprocessed message an age in the middle of one of the
      qshape buckets below 1280 minutes (info mtime, qmail's birth time), and
      makes two messages the only ones to stuck1.test and stuck2.test, 1500
      and 2000 minutes old.
  queue_shape.py check QUEUE OUTPUT TOP STUCK_AGE [PROMFILE]
      counts the pending (T) recipients of every remote/ file whose message
      has info/ by domain (after the last @, lower-cased, cut at 255 bytes)
      and age bucket, straight from the files, and compares with the -v
      `info queue: shape` lines, the `warn queue: stuck` lines and, if given,
      the qmail_queue_destination_recipients samples of the metrics file.
"""
import os
import re, sys, time

BOUNDS = [5, 10, 20, 40, 80, 160, 320, 640, 1280]
KEYS = ["lt5", "lt10", "lt20", "lt40", "lt80", "lt160", "lt320", "lt640", "lt1280", "ge1280"]
MIDS = [2, 7, 15, 30, 60, 120, 240, 480, 960]	# minutes: 3 or more from any bound


def bucket(age):
    for i, b in enumerate(BOUNDS):
        if age < b * 60:
            return i
    return len(BOUNDS)


def messages(q):
    """(info path, remote path or None) of every message with info/"""
    for s in sorted(os.listdir(os.path.join(q, "info")), key=int):
        for n in sorted(os.listdir(os.path.join(q, "info", s)), key=int):
            r = os.path.join(q, "remote", s, n)
            yield os.path.join(q, "info", s, n), (r if os.path.exists(r) else None)


def prep(q):
    now = time.time()
    msgs = [m for m in messages(q) if m[1]]
    if len(msgs) < 20:
        sys.exit("prep: fewer than 20 messages with remote recipients")
    for i, (info, _) in enumerate(msgs):
        t = now - MIDS[i % len(MIDS)] * 60
        os.utime(info, (t, t))
    for (info, remote), dom, mins, recs in (
            (msgs[3], "stuck1.test", 1500, b"Tx@stuck1.test\0Ty@Stuck1.TEST\0"),
            (msgs[5], "stuck2.test", 2000, b"Tz@stuck2.test\0Dw@stuck2.test\0")):
        with open(remote, "wb") as f:
            f.write(recs)
        t = now - mins * 60
        os.utime(info, (t, t))


def count(q, now):
    doms = {}
    for info, remote in messages(q):
        if not remote:
            continue
        birth = os.stat(info).st_mtime
        b = bucket(now - birth)
        with open(remote, "rb") as f:
            data = f.read()
        for rec in data.split(b"\0")[:-1]:
            if not rec.startswith(b"T"):
                continue
            addr = rec[1:]
            dom = addr.rsplit(b"@", 1)[1] if b"@" in addr else b""
            dom = dom[:255].lower().decode("latin-1")
            d = doms.setdefault(dom, {"total": 0, "b": [0] * 10, "birth": birth})
            d["total"] += 1
            d["b"][b] += 1
            d["birth"] = min(d["birth"], birth)
    return doms


def fields(line):
    return {k: v.strip('"') for k, v in re.findall(r'([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)', line)}


def check(q, out, top, stuck_age, prom=None):
    now = time.time()
    doms = count(q, now)
    ranked = sorted(doms, key=lambda d: (-doms[d]["total"], d))
    want = ranked[:top]
    got, stuck = [], {}
    for line in open(out, encoding="latin-1"):
        if line.startswith("info queue: shape "):
            got.append(fields(line))
        elif line.startswith("warn queue: stuck "):
            f = fields(line)
            stuck[f["domain"]] = f
    bad = []
    if [g["domain"] for g in got] != want + ["other"]:
        bad.append("domains: want %s + other, got %s" % (want, [g["domain"] for g in got]))
    for g in got:
        if g["domain"] == "other":
            rest = [d for d in ranked[top:]]
            w = {"total": sum(doms[d]["total"] for d in rest),
                 "b": [sum(doms[d]["b"][i] for d in rest) for i in range(10)],
                 "birth": min([doms[d]["birth"] for d in rest], default=None)}
        elif g["domain"] in doms:
            w = doms[g["domain"]]
        else:
            continue
        if int(g["total"]) != w["total"] or [int(g[k]) for k in KEYS] != w["b"]:
            bad.append("%s: want total=%d %s, got %s" % (g["domain"], w["total"], w["b"], g))
        if "error" in g:
            bad.append("%s: not exact: %s" % (g["domain"], g))
        if w["birth"] is not None and abs(int(g["oldest"]) - (now - w["birth"])) > 10:
            bad.append("%s: oldest %s, want about %d" % (g["domain"], g["oldest"], now - w["birth"]))
    want_stuck = {d for d in doms if now - doms[d]["birth"] > stuck_age + 10}
    if set(stuck) != want_stuck:
        bad.append("stuck: want %s, got %s" % (sorted(want_stuck), sorted(stuck)))
    for d, f in stuck.items():
        if d in doms and int(f["recipients"]) != doms[d]["total"]:
            bad.append("stuck %s: recipients=%s, want %d" % (d, f["recipients"], doms[d]["total"]))
    if prom:
        samples = {}
        for line in open(prom, encoding="utf-8"):
            m = re.match(r'qmail_queue_destination_recipients\{domain="([^"]*)"\} (\S+)', line)
            if m:
                samples[m.group(1)] = float(m.group(2))
        rest = sum(doms[d]["total"] for d in ranked[top:])
        wantp = {d: float(doms[d]["total"]) for d in want}
        wantp["other"] = float(rest)
        if samples != wantp:
            bad.append("metrics: want %s, got %s" % (wantp, samples))
    if bad:
        sys.exit("\n".join(bad))
    print("shape: %d domains, %d recipients; top %d, other and %d stuck as counted from the files"
          % (len(doms), sum(d["total"] for d in doms.values()), top, len(stuck)))


def table(q, out):
    """qmail-maintd -q's table: TOTAL and every domain row's T as counted."""
    doms = count(q, time.time())
    rows = {}
    for line in open(out).read().splitlines()[1:]:
        parts = line.split()
        rows[parts[0]] = int(parts[1])
    bad = []
    if rows.get("TOTAL") != sum(d["total"] for d in doms.values()):
        bad.append("TOTAL %s, want %d" % (rows.get("TOTAL"), sum(d["total"] for d in doms.values())))
    listed = 0
    for name, n in rows.items():
        if name in ("TOTAL", "other"):
            continue
        listed += n
        if doms.get(name, {}).get("total") != n:
            bad.append("%s: %d, want %s" % (name, n, doms.get(name, {}).get("total")))
    if "other" in rows and rows["other"] + listed != rows["TOTAL"]:
        bad.append("other %d does not make up TOTAL" % rows["other"])
    if len(rows) < 3:
        bad.append("hardly a table: %r" % rows)
    if bad:
        sys.exit("\n".join(bad))
    print("table: %d rows as counted from the files" % len(rows))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "table":
        table(sys.argv[2], sys.argv[3])
        sys.exit(0)
    if cmd == "prep":
        prep(sys.argv[2])
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
              sys.argv[6] if len(sys.argv) > 6 else None)
    else:
        sys.exit("usage: queue_shape.py prep QUEUE | check QUEUE OUTPUT TOP STUCK_AGE [PROMFILE]")

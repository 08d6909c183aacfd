#!/usr/bin/env python3
"""Checks a plugin's output (stdin) and exit status (argv[1]) against the
Monitoring Plugins development guidelines, as qmail-maintd(8) promises them:
  - exit status 0..3, and the first line's state word agrees with it;
  - the first line at most 200 bytes: "QMAIL-MAINTD STATE - text[ | perfdata]";
  - '|' nowhere but the first line's perfdata separator and at most one later
    line that starts the rest of the perfdata (everything after it is perfdata);
  - perfdata items 'label'=value[UOM];[warn];[crit];[min];[max] with labels of
    [a-z0-9_] only, UOM one of s ms us % B KB MB TB c or none.
Prints what is wrong and exits 1."""
import re, sys

STATES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"]
NUM = r"-?[0-9]+(\.[0-9]+)?"
RANGE = r"(@?(~|" + NUM + r")?:?(" + NUM + r")?)"
ITEM = re.compile(r"^'[a-z0-9_]+'=" + NUM + r"(s|ms|us|%|B|KB|MB|TB|c)?(;" + RANGE + r"?){0,2}(;(" + NUM + r")?){0,2}$")


def fail(msg):
    print("plugin output: " + msg)
    sys.exit(1)


def perfdata(text, where):
    for item in text.split():
        if not ITEM.match(item):
            fail("%s: perfdata item %r" % (where, item))


def main():
    status = int(sys.argv[1])
    out = sys.stdin.buffer.read()
    if status not in range(4):
        fail("exit status %d" % status)
    if not out.endswith(b"\n"):
        fail("no final newline")
    lines = out.decode("utf-8", "replace").split("\n")[:-1]
    first = lines[0]
    if len(first.encode()) > 200:
        fail("first line of %d bytes: %r" % (len(first.encode()), first))
    m = re.match(r"^QMAIL-MAINTD (OK|WARNING|CRITICAL|UNKNOWN)( - [^|]*)?( \| (.*))?$", first)
    if not m:
        fail("first line %r" % first)
    if STATES.index(m.group(1)) != status:
        fail("state %s but exit status %d" % (m.group(1), status))
    if m.group(4) is not None:
        perfdata(m.group(4), "first line")
    rest = False
    for n, line in enumerate(lines[1:], 2):
        if rest:
            perfdata(line, "line %d" % n)
        elif line.startswith("|"):
            rest = True
            perfdata(line[1:], "line %d" % n)
        elif "|" in line:
            fail("line %d has a '|': %r" % (n, line))
    print("plugin output: ok (%d lines, first %d bytes)" % (len(lines), len(first.encode())))


main()

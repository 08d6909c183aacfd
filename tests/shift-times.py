#!/usr/bin/env python3
"""shift-times.py DIR: moves every atime and mtime under DIR (DIR included) by
the same amount, so that the newest info/ file (a message's birth) is now.
The fixtures were written on 2026-11-25; shifting keeps every age qmail left
(including the future mtimes of local/ and remote/ files) without making the
tests time bombs. Symlinks are not followed."""
import os
import sys
import time

def main():
    top = sys.argv[1]
    ref = None
    for root, _dirs, files in os.walk(os.path.join(top, "info")):
        for f in files:
            m = os.lstat(os.path.join(root, f)).st_mtime_ns
            ref = m if ref is None or m > ref else ref
    if ref is None:         # no info/: the newest mess file
        for root, _dirs, files in os.walk(os.path.join(top, "mess")):
            for f in files:
                m = os.lstat(os.path.join(root, f)).st_mtime_ns
                ref = m if ref is None or m > ref else ref
    if ref is None:
        return
    delta = time.time_ns() - ref
    paths = []
    for root, dirs, files in os.walk(top):
        paths += [os.path.join(root, n) for n in dirs + files]
    paths.append(top)
    for p in paths:         # files before their directories: children first
        st = os.lstat(p)
        os.utime(p, ns=(st.st_atime_ns + delta, st.st_mtime_ns + delta), follow_symlinks=False)

if __name__ == "__main__":
    main()

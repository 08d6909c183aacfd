#!/usr/bin/env python3
"""Load generator for the queue check's concurrency test (not a test itself).

  queue_load.py QUEUEDIR SECONDS [INFLIGHT]

Performs qmail-queue's, qmail-send's and qmail-clean's file operations in
their real order and with their real owners (as root, switching the effective
uid: qmailq for qmail-queue and qmail-clean, qmails for qmail-send), on many
messages at once, each advanced one step at a time in random order so that
every intermediate state is on disk at some moment:

  qmail-queue: pid/P.T.N -> link mess/S/ID (ID = inode) -> unlink pid ->
               body -> intd/ID (envelope) -> link todo/ID
  qmail-send:  unlink local, remote, info -> info (F<sender>) -> local/remote
               (T records); qmail-clean: unlink intd, then todo
  delivery:    one record marked D in place; a channel file with no T left
               is unlinked; a failed recipient appends to bounce/ID, which is
               unlinked once "injected"
  elimination: unlink info; qmail-clean: unlink mess

Prints "done N messages, M steps" at the end."""
import os, pwd, random, sys, time

Q, SECS = sys.argv[1], float(sys.argv[2])
INFLIGHT = int(sys.argv[3]) if len(sys.argv) > 3 else 300
QQ = pwd.getpwnam("qmailq").pw_uid
QS = pwd.getpwnam("qmails").pw_uid
SPLIT = len([d for d in os.listdir(os.path.join(Q, "mess")) if d.isdigit()])
os.setegid(pwd.getpwnam("qmailq").pw_gid)
os.umask(0o022)
seq = 0


def as_user(uid, fn, *a):
    os.seteuid(uid)
    try:
        return fn(*a)
    finally:
        os.seteuid(0)


def sp(d, i):
    return os.path.join(Q, d, str(i % SPLIT), str(i))


def fl(d, i):
    return os.path.join(Q, d, str(i))


def create(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.write(fd, data)
    os.close(fd)


class Msg:
    def __init__(self):
        self.step = 0
        self.id = None
        self.rcpt = {"local": random.randint(0, 2), "remote": random.randint(0, 3)}
        if not self.rcpt["local"] and not self.rcpt["remote"]:
            self.rcpt["remote"] = 1
        self.marked = {"local": 0, "remote": 0}
        self.bounce = random.random() < 0.2

    def queue_mess(self):
        global seq
        seq += 1
        pidfn = os.path.join(Q, "pid", "%d.%d.%d" % (os.getpid(), int(time.time()), seq))
        fd = os.open(pidfn, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.id = os.fstat(fd).st_ino
        os.link(pidfn, sp("mess", self.id))
        os.unlink(pidfn)
        os.write(fd, b"Subject: load\n\nbody\n" * random.randint(1, 20))
        os.close(fd)

    def envelope(self):
        env = b"u0\0p1\0Fload@example.test\0"
        for ch, n in self.rcpt.items():
            for k in range(n):
                env += b"T%s%d@%s.test\0" % (ch.encode(), k, ch.encode())
        create(fl("intd", self.id), env, 0o644)

    def preprocess(self):
        for d in ("local", "remote", "info"):
            try:
                os.unlink(sp(d, self.id))
            except FileNotFoundError:
                pass
        create(sp("info", self.id), b"Fload@example.test\0", 0o600)
        for ch, n in self.rcpt.items():
            if n:
                create(sp(ch, self.id), b"".join(b"T%s%d@x.test\0" % (ch.encode(), k)
                                                  for k in range(n)), 0o600)

    def deliver(self):
        """one recipient done; True when nothing is left"""
        for ch in ("local", "remote"):
            if self.marked[ch] < self.rcpt[ch]:
                path = sp(ch, self.id)
                off = sum(len(b"T%s%d@x.test\0" % (ch.encode(), k)) for k in range(self.marked[ch]))
                fd = os.open(path, os.O_WRONLY)
                os.pwrite(fd, b"D", off)
                os.close(fd)
                self.marked[ch] += 1
                if self.bounce and self.marked[ch] == 1:
                    fd = os.open(fl("bounce", self.id), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                    os.write(fd, b"<%s0@x.test>:\nfailed\n\n" % ch.encode())
                    os.close(fd)
                if self.marked[ch] == self.rcpt[ch]:
                    os.unlink(path)
                return False
        return True

    def advance(self):
        s = self.step
        if s == 0:
            as_user(QQ, self.queue_mess)
        elif s == 1:
            as_user(QQ, self.envelope)
        elif s == 2:
            as_user(QQ, os.link, fl("intd", self.id), fl("todo", self.id))
        elif s == 3:
            as_user(QS, self.preprocess)
        elif s == 4:
            as_user(QQ, os.unlink, fl("intd", self.id))
        elif s == 5:
            as_user(QQ, os.unlink, fl("todo", self.id))
        elif s == 6:
            if not as_user(QS, self.deliver):
                return False
        elif s == 7:
            if self.bounce:
                as_user(QS, os.unlink, fl("bounce", self.id))
        elif s == 8:
            as_user(QS, os.unlink, sp("info", self.id))
        elif s == 9:
            as_user(QQ, os.unlink, sp("mess", self.id))
            return True
        self.step += 1
        return False


def main():
    pool, done, steps = [], 0, 0
    end = time.time() + SECS
    while time.time() < end:
        while len(pool) < INFLIGHT:
            pool.append(Msg())
        i = random.randrange(len(pool))
        if pool[i].advance():
            pool[i] = pool[-1]
            pool.pop()
            done += 1
        steps += 1
    # finish every message in flight, so the queue is as healthy as before
    for m in pool:
        while not m.advance():
            steps += 1
        done += 1
    print("done %d messages, %d steps" % (done, steps), flush=True)


main()

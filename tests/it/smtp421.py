#!/usr/bin/env python3
"""Test helper for tests/it/stuck_diagnosis.sh (not a test itself).

  smtp421.py LOG ADDR:PORT...
      an SMTP server that is too busy: it answers every connection, after
      half a second (so that connections a client makes side by side do
      overlap), with a 421 greeting, and closes when the client quits or
      hangs up (or after 10 s). LOG gets one line per event, written at once:
        ready
        connect ADDR:PORT open=N     a connection accepted on ADDR:PORT,
                                     N connections open there with it
        line ADDR:PORT TEXT          a line the client sent (CR LF stripped)
        close ADDR:PORT
      so a test can count connections, see whether a client had more than
      one open at a time, and see every command (a client that diagnoses
      must never send MAIL FROM).
"""
import selectors, socket, sys, time

GREETING = b"421 4.3.2 mx.busy.test Service not available, too busy; try later\r\n"
DELAY = 0.5


def main():
    log = open(sys.argv[1], "a", buffering=1)
    sel = selectors.DefaultSelector()
    for spec in sys.argv[2:]:
        host, port = spec.rsplit(":", 1)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
        s.listen(16)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("listen", spec))
    conns = {}	# socket: [spec, buffer, accepted, greeted]

    def close(c):
        log.write("close %s\n" % conns[c][0])
        sel.unregister(c)
        c.close()
        del conns[c]

    log.write("ready\n")
    while True:
        now = time.monotonic()
        for c, st in list(conns.items()):
            if not st[3] and now - st[2] >= DELAY:
                st[3] = True
                try:
                    c.sendall(GREETING)
                except OSError:
                    close(c)
            elif now - st[2] > 10:
                close(c)
        # a connection's end before a new connection's start: a client that
        # closes one and then opens the next is never seen with two open
        events = sorted(sel.select(0.05), key=lambda e: e[0].data[0] != "conn")
        for key, _ in events:
            kind, spec = key.data
            if kind == "listen":
                c, _ = key.fileobj.accept()
                c.setblocking(False)
                conns[c] = [spec, b"", time.monotonic(), False]
                sel.register(c, selectors.EVENT_READ, ("conn", spec))
                n = sum(1 for st in conns.values() if st[0] == spec)
                log.write("connect %s open=%d\n" % (spec, n))
                continue
            c = key.fileobj
            if c not in conns:
                continue
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            buf = conns[c][1] + data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.rstrip(b"\r").decode("latin-1")
                log.write("line %s %s\n" % (spec, text))
                if text.upper().startswith("QUIT"):
                    try:
                        c.sendall(b"221 2.0.0 bye\r\n")
                    except OSError:
                        pass
                    data = b""
            if not data:
                close(c)
            else:
                conns[c][1] = buf


main()

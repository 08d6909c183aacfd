#!/usr/bin/env python3
"""Misbehaving and scripted SMTP/POP3 servers for the tls check's tests.

usage: tls_fake.py [--cert PEM] PORTFILE NAME:MODE[:opts]...
Each server listens on a free loopback port; PORTFILE gets "NAME PORT" lines.
MODEs: closed (nothing listens), full, silent, hangup, tarpit, smtp-busy, pop3-busy, starttls-close, longcap, inject,
       smtp, submission, smtps, pop3, pop3s
Prints "ready" on stdout once all listen; serves until killed."""
import argparse
import os
import socket
import socketserver
import ssl
import threading
import time


def tls_context(a):
    if getattr(a, "ctx", None):
        return a.ctx
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if a.tls10:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1
    ctx.load_cert_chain(a.cert, a.key)
    return ctx


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(4096)
            if not d:
                raise EOFError
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode("latin-1")


def smtp(c, a, mode):
    tls = mode == "smtps"
    if a.delay:
        time.sleep(a.delay)
    c.send(b"220-fake.example.test ESMTP\r\n220 hello\r\n")
    while True:
        cmd = c.line().upper()
        if cmd.startswith("EHLO"):
            caps = ["250-fake.example.test"]
            if mode == "longcap":
                caps.append("250-X" + "A" * 100000)
            if not tls and not a.no_starttls:
                caps.append("250-STARTTLS")
            if tls or a.auth_clear:
                caps.append("250-AUTH PLAIN LOGIN")
            caps.append("250 8BITMIME")
            c.send(("\r\n".join(caps) + "\r\n").encode())
        elif cmd == "STARTTLS" and not tls:
            if mode == "starttls-close":
                c.sock.close()
                return
            if mode == "inject":
                c.send(b"220 go ahead\r\n250 injected\r\n")
                return
            c.send(b"220 go ahead\r\n")
            c.sock = tls_context(a).wrap_socket(c.sock, server_side=True)
            c.buf = b""
            tls = True
        elif cmd == "QUIT":
            c.send(b"221 bye\r\n")
            return
        else:
            c.send(b"502 no\r\n")


def pop3(c, a, mode):
    tls = mode == "pop3s"
    c.send(b"+OK fake POP3 ready\r\n")
    while True:
        cmd = c.line().upper()
        if cmd == "CAPA":
            caps = ["+OK", "TOP", "UIDL"]
            if not tls and not a.no_starttls:
                caps.append("STLS")
            caps.append("USER")
            c.send(("\r\n".join(caps + ["."]) + "\r\n").encode())
        elif cmd == "STLS" and not tls:
            c.send(b"+OK begin TLS\r\n")
            c.sock = tls_context(a).wrap_socket(c.sock, server_side=True)
            c.buf = b""
            tls = True
        elif cmd == "QUIT":
            c.send(b"+OK bye\r\n")
            return
        else:
            c.send(b"-ERR no\r\n")


def handle(sock, a):
    mode = a.mode
    c = Conn(sock)
    try:
        if mode == "silent":
            time.sleep(3600)
        elif mode == "hangup":
            pass
        elif mode == "tarpit":
            c.send(b"220 fake.example.test ESMTP\r\n")
            c.line()
            time.sleep(3600)
        elif mode == "smtp-busy":
            c.send(b"421 fake.example.test too busy, try later\r\n")
        elif mode == "pop3-busy":
            c.send(b"-ERR [SYS/TEMP] too busy\r\n")
        elif mode in ("smtps", "pop3s"):
            c.sock = tls_context(a).wrap_socket(sock, server_side=True)
            (smtp if mode == "smtps" else pop3)(c, a, mode)
        elif mode.startswith("pop3"):
            pop3(c, a, mode)
        else:
            smtp(c, a, mode)
    except (EOFError, OSError, ssl.SSLError):
        pass
    finally:
        try:
            c.sock.close()
        except OSError:
            pass


class Opts:
    """One server's settings: NAME:MODE[:opt,opt...], opts delay=S, tls10,
    no-starttls, auth-clear, cert=PEM (key: the same path with .key)."""

    def __init__(self, spec, cert):
        parts = spec.split(":", 2)
        self.name, self.mode = parts[0], parts[1]
        self.cert, self.delay = cert, 0.0
        self.tls10 = self.no_starttls = self.auth_clear = False
        for o in (parts[2].split(",") if len(parts) > 2 else []):
            k, _, v = o.partition("=")
            if k == "delay":
                self.delay = float(v)
            elif k == "cert":
                self.cert = v
            else:
                setattr(self, k.replace("-", "_"), True)
        self.key = self.cert[:-4] + ".key" if self.cert else None
        self.ctx = None
        if self.cert and self.mode != "closed":
            # loaded once, like a long-running server: later renewals on disk are not seen
            self.ctx = tls_context(self)


def full_server():
    # a listen queue that is full: further SYNs are dropped, connects time out
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    keep = [srv]
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        keep.append(c)
    time.sleep(0.3)
    return port, keep


def serve(srv):
    srv.serve_forever()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert")
    p.add_argument("portfile")
    p.add_argument("servers", nargs="+")
    a = p.parse_args()
    lines, keep = [], []
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    for spec in a.servers:
        o = Opts(spec, a.cert)
        if o.mode == "closed":
            # bound, never listening: connections are refused, and no other
            # test running in parallel can take the port meanwhile
            c = socket.socket()
            c.bind(("127.0.0.1", 0))
            port = c.getsockname()[1]
            keep.append(c)
        elif o.mode == "full":
            port, k = full_server()
            keep.append(k)
        else:
            class H(socketserver.BaseRequestHandler):
                opts = o

                def handle(self):
                    handle(self.request, self.opts)

            srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
            port = srv.server_address[1]
            threading.Thread(target=serve, args=(srv,), daemon=True).start()
        lines.append("%s %d\n" % (o.name, port))
    with open(a.portfile + ".tmp", "w") as f:
        f.write("".join(lines))
    os.rename(a.portfile + ".tmp", a.portfile)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

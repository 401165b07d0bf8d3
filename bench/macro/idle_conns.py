#!/usr/bin/python3
"""idle_conns.py: holds many idle client connections to one HTTP server, cheaply enough for
100k of them (one process, one epoll loop, non-blocking sockets; no thread or coroutine per
connection). Used by bench/macro/conn_memory.sh and tests/integration/test_idle_connections.py.

Every connection makes one request (plain HTTP/1.1 keep-alive, HTTP/1.1 over TLS, or HTTP/2
over TLS by ALPN), checks that the answer is a whole 200, and is then left open and idle.
Then it obeys commands on stdin, one a line, each answered by one line on stdout:

  latency K   K requests one after another on one extra connection of the same kind, opened
              while the others are held: "LATENCY <p50 ms> <p99 ms> <max ms> <failed>"
  verify      one more request on every held connection (--parallel at a time):
              "VERIFIED <ok> <bad>"
  close       closes them all: "CLOSED", and exits

Before the first command it prints "HELD <ok> <failed>". Descriptors: the soft limit is raised
to the hard one; more than ~28k connections are spread over source addresses 127.0.0.2... so
that one (source, destination) pair never runs out of ephemeral ports.
"""

from __future__ import annotations

import argparse
import errno
import resource
import selectors
import socket
import ssl
import struct
import sys
import time

import hpack

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
PORTS_PER_SOURCE = 25000


def h2_frame(ftype: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


class Conn:
    """One client connection's state machine: connect, TLS handshake, request, response."""

    __slots__ = ("sock", "kind", "state", "buf", "stream_id", "encoder", "decoder", "status",
                 "done", "ok", "started", "want", "preface_sent")

    def __init__(self, sock, kind):
        self.sock = sock
        self.kind = kind
        self.state = "connect"
        self.buf = b""
        self.stream_id = -1
        self.encoder = None
        self.decoder = None
        self.status = 0
        self.done = False
        self.ok = False
        self.started = 0.0
        self.want = selectors.EVENT_WRITE
        self.preface_sent = False


class Client:
    def __init__(self, host, port, kind, path, authority):
        self.host, self.port, self.kind, self.path = host, port, kind, path
        self.authority = authority or f"{host}:{port}"
        self.sel = selectors.EpollSelector()
        self.ctx = None
        if kind != "plain":
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.ctx.check_hostname = False
            self.ctx.verify_mode = ssl.CERT_NONE
            self.ctx.set_alpn_protocols(["h2"] if kind == "h2" else ["http/1.1"])
        self.h1_request = (f"GET {path} HTTP/1.1\r\nHost: {self.authority}\r\n"
                           "User-Agent: idle-conns\r\n\r\n").encode()

    # -------------------------------------------------------------------------- opening

    def open(self, index: int) -> Conn:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        source = index // PORTS_PER_SOURCE
        if source > 0 and self.host.startswith("127."):
            sock.bind((f"127.0.0.{2 + source}", 0))
        err = sock.connect_ex((self.host, self.port))
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            raise OSError(err, "connect")
        c = Conn(sock, self.kind)
        c.started = time.monotonic()
        self.sel.register(sock, selectors.EVENT_WRITE, c)
        return c

    def watch(self, c: Conn, events: int):
        if events != c.want:
            c.want = events
            self.sel.modify(c.sock, events, c)

    def fail(self, c: Conn):
        c.done, c.ok = True, False
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()

    def finish(self, c: Conn, ok: bool):
        c.done, c.ok = True, ok
        c.state = "idle"
        self.watch(c, selectors.EVENT_READ)  # a close by the server is noticed, not acted on

    def send_request(self, c: Conn):
        c.buf = b""
        c.status = 0
        c.done = False
        if c.kind == "h2":
            if c.encoder is None:
                c.encoder, c.decoder = hpack.Encoder(), hpack.Decoder()
                c.stream_id = -1
            c.stream_id += 2
            block = c.encoder.encode([(":method", "GET"), (":scheme", "https"),
                                      (":authority", self.authority), (":path", self.path)])
            out = b""
            if not c.preface_sent:
                out = H2_PREFACE + h2_frame(4, 0, 0)
                c.preface_sent = True
            c.sock.send(out + h2_frame(1, 0x5, c.stream_id, block))
        else:
            c.sock.send(self.h1_request)
        c.state = "response"
        self.watch(c, selectors.EVENT_READ)

    # -------------------------------------------------------------------------- events

    def on_event(self, c: Conn):
        try:
            if c.state == "connect":
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self.fail(c)
                    return
                if self.ctx is None:
                    self.send_request(c)
                    return
                self.sel.unregister(c.sock)
                c.sock = self.ctx.wrap_socket(c.sock, do_handshake_on_connect=False,
                                              server_hostname="localhost")
                self.sel.register(c.sock, c.want, c)
                c.state = "handshake"
            if c.state == "handshake":
                try:
                    c.sock.do_handshake()
                except ssl.SSLWantReadError:
                    self.watch(c, selectors.EVENT_READ)
                    return
                except ssl.SSLWantWriteError:
                    self.watch(c, selectors.EVENT_WRITE)
                    return
                wanted = "h2" if c.kind == "h2" else None
                if wanted and c.sock.selected_alpn_protocol() != wanted:
                    self.fail(c)
                    return
                self.send_request(c)
                return
            self.read(c)
        except (OSError, ssl.SSLError, hpack.HPACKError):
            self.fail(c)

    def read(self, c: Conn):
        while True:
            try:
                data = c.sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                return
            if not data:
                # An idle connection the server closed counts as failed; so does a half answer.
                self.fail(c)
                return
            if c.state != "response":
                self.fail(c)  # bytes nobody asked for on an idle HTTP/1.1 connection
                return
            c.buf += data
            if c.kind == "h2":
                self.parse_h2(c)
            else:
                self.parse_h1(c)
            if c.done or c.state != "response":
                return

    def parse_h1(self, c: Conn):
        end = c.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = c.buf[:end].decode("latin-1").split("\r\n")
        length = None
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            self.fail(c)  # the bench origin always says how long its body is
            return
        if len(c.buf) - end - 4 < length:
            return
        parts = head[0].split(" ")
        extra = len(c.buf) - end - 4 - length
        self.finish(c, len(parts) > 1 and parts[1] == "200" and extra == 0)
        c.buf = b""

    def parse_h2(self, c: Conn):
        while len(c.buf) >= 9:
            length = int.from_bytes(c.buf[:3], "big")
            if len(c.buf) < 9 + length:
                return
            ftype, flags = c.buf[3], c.buf[4]
            stream = int.from_bytes(c.buf[5:9], "big") & 0x7FFFFFFF
            payload = c.buf[9:9 + length]
            c.buf = c.buf[9 + length:]
            if ftype == 4 and not flags & 1:
                c.sock.send(h2_frame(4, 1, 0))  # SETTINGS ACK
            elif ftype == 6 and not flags & 1:
                c.sock.send(h2_frame(6, 1, 0, payload))  # PING ACK
            elif ftype == 7:
                self.fail(c)  # GOAWAY
                return
            elif stream == c.stream_id and ftype in (0, 1):
                if ftype == 1:
                    if flags & 0x8:
                        payload = payload[1:len(payload) - payload[0]]
                    if flags & 0x20:
                        payload = payload[5:]
                    for name, value in c.decoder.decode(payload):
                        if name in (":status", b":status"):
                            c.status = int(value)
                if flags & 0x1:
                    self.finish(c, c.status == 200)
                    return
            elif stream == c.stream_id and ftype == 3:
                self.fail(c)  # RST_STREAM
                return

    # -------------------------------------------------------------------------- driving

    def pump(self, pending: set, deadline: float):
        while pending and time.monotonic() < deadline:
            for key, _ in self.sel.select(timeout=0.5):
                c = key.data
                self.on_event(c)
                if c.done:
                    pending.discard(c)

    def hold(self, count: int, parallel: int, timeout: float) -> list:
        conns, pending = [], set()
        deadline = time.monotonic() + timeout
        i = 0
        while (i < count or pending) and time.monotonic() < deadline:
            while i < count and len(pending) < parallel:
                c = self.open(i)
                conns.append(c)
                pending.add(c)
                i += 1
            for key, _ in self.sel.select(timeout=0.5):
                c = key.data
                self.on_event(c)
                if c.done:
                    pending.discard(c)
        for c in pending:
            self.fail(c)
        return conns

    def verify(self, conns: list, parallel: int, timeout: float) -> tuple:
        # At most `parallel` requests in flight: a proxy holds an upstream connection for each,
        # and the descriptor limit was sized for the idle crowd, not twice it.
        pending = set()
        deadline = time.monotonic() + timeout
        todo = [c for c in conns if c.ok]
        i = 0
        while (i < len(todo) or pending) and time.monotonic() < deadline:
            while i < len(todo) and len(pending) < parallel:
                c = todo[i]
                i += 1
                try:
                    self.send_request(c)
                    pending.add(c)
                except OSError:
                    self.fail(c)
            for key, _ in self.sel.select(timeout=0.5):
                c = key.data
                self.on_event(c)
                if c.done:
                    pending.discard(c)
        for c in pending:
            self.fail(c)
        for c in todo[i:]:
            self.fail(c)
        ok = sum(1 for c in conns if c.ok)
        return ok, len(conns) - ok

    def latency(self, count: int, timeout: float) -> tuple:
        c = self.open(0)
        times, failed = [], 0
        start = time.monotonic()
        self.pump({c}, start + timeout)
        if not c.ok:
            return [], count
        for _ in range(count):
            t0 = time.monotonic()
            try:
                self.send_request(c)
            except OSError:
                failed += 1
                break
            self.pump({c}, t0 + timeout)
            if not c.ok:
                failed += 1
                break
            times.append((time.monotonic() - t0) * 1000.0)
        failed += count - len(times) - failed
        self.fail(c)
        return times, failed


def percentile(values: list, p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--kind", choices=["plain", "tls", "h2"], default="plain")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--path", default="/")
    ap.add_argument("--authority", default="")
    ap.add_argument("--parallel", type=int, default=256, help="connections being opened at once")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds to open them all")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    client = Client(args.host, args.port, args.kind, args.path, args.authority)
    conns = client.hold(args.count, args.parallel, args.timeout)
    ok = sum(1 for c in conns if c.ok)
    print(f"HELD {ok} {args.count - ok}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "latency":
            times, failed = client.latency(int(words[1]) if len(words) > 1 else 200, 10.0)
            print(f"LATENCY {percentile(times, 50):.3f} {percentile(times, 99):.3f} "
                  f"{max(times) if times else float('nan'):.3f} {failed}", flush=True)
        elif words[0] == "verify":
            good, bad = client.verify(conns, args.parallel, 300.0)
            print(f"VERIFIED {good} {bad}", flush=True)
        elif words[0] == "close":
            for c in conns:
                if not c.done or c.ok:
                    try:
                        client.sel.unregister(c.sock)
                    except (KeyError, ValueError):
                        pass
                    c.sock.close()
            print("CLOSED", flush=True)
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

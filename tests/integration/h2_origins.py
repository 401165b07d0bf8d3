"""A real HTTP/2 origin for the upstream suites, built on the `h2` library: h2c, or h2 over
TLS with ALPN. One thread per connection; response bodies go out only as the peer's flow
control windows allow, so a slow Vortex reader really does hold the origin back.

H2Origin(handler=h2_echo, tls=None | (cert, key), port=0 (any free one))
  .address, .connections (accepted), .requests (one dict per completed request)
  .resets            -> RST_STREAM frames received
  .goaway_after = N  -> after N requests on a connection: GOAWAY(last = that stream), finish
                        the streams up to it, then close the connection
  .kill()            -> closes the listener and every connection (the origin dies)

A handler gets the request dict and returns H2Response(status, headers, body, trailers).
"""

from __future__ import annotations

import hashlib
import json
import select
import socket
import ssl
import threading
from dataclasses import dataclass, field

import h2.config
import hyperframe.frame
import h2.connection
import h2.events
import h2.exceptions
import h2.settings


@dataclass
class H2Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    trailers: list[tuple[str, str]] | None = None
    length: bool = True  # send content-length


def h2_bytes(n: int) -> bytes:
    """What h2_echo serves on /bytes/N."""
    return (b"0123456789abcdef" * (n // 16 + 1))[:n]


def h2_echo(req: dict) -> H2Response:
    """GET /bytes/N: N pattern bytes; anything else: the request as JSON. `x-trailers: yes`
    asks for response trailers; `x-status: N` for that status; `x-no-length` for no
    content-length."""
    headers = dict(req["headers"])
    if req["path"].startswith("/bytes/"):
        n = int(req["path"].split("/")[2].split("?")[0])
        resp = H2Response(200, [("content-type", "application/octet-stream")], h2_bytes(n))
    else:
        info = {k: req[k] for k in ("method", "path", "authority", "scheme", "body_bytes", "body_sha256")}
        info["headers"] = req["headers"]
        info["trailers"] = req["trailers"]
        resp = H2Response(int(headers.get("x-status", "200")), [("content-type", "application/json")],
                          json.dumps(info).encode())
    if headers.get("x-trailers") == "yes":
        resp.trailers = [("x-checksum", "c0ffee"), ("x-count", "2")]
    if "x-no-length" in headers:
        resp.length = False
    return resp


class H2Origin:
    def __init__(self, handler=h2_echo, tls: tuple | None = None, max_concurrent_streams: int = 100, port: int = 0):
        self.handler = handler
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[dict] = []
        self.goaway_after = 0
        self.resets = 0  # RST_STREAM received from Vortex
        self.max_concurrent_streams = max_concurrent_streams
        self.ssl_context = None
        if tls:
            self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ssl_context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.ssl_context.set_alpn_protocols(["h2"])
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(512)
        self.port = self.listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._socks: list[socket.socket] = []
        self._stopped = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def request_count(self) -> int:
        with self.lock:
            return len(self.requests)

    def _accept_loop(self):
        while not self._stopped:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                conn_id = self.connections
                self._socks.append(sock)
            threading.Thread(target=self._serve_safely, args=(sock, conn_id), daemon=True).start()

    def _serve_safely(self, sock, conn_id):
        try:
            if self.ssl_context:
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
                with self.lock:
                    self._socks.append(sock)
            self._serve(sock, conn_id)
        except (OSError, ValueError, ssl.SSLError, h2.exceptions.ProtocolError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def _serve(self, sock, conn_id):
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.local_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.max_concurrent_streams})
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        streams: dict[int, dict] = {}
        outgoing: dict[int, list] = {}  # id -> [memoryview body, offset, trailers]
        served = 0
        goaway_last = None
        while True:
            wait = 0.01 if outgoing else 1.0
            readable = (sock.pending() if hasattr(sock, "pending") else 0) or select.select([sock], [], [], wait)[0]
            if readable:
                data = sock.recv(65536)
                if not data:
                    return
                try:
                    events = conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    if goaway_last is None:
                        raise
                    events = []  # frames after our GOAWAY: h2 refuses them, we drop them
                for ev in events:
                    if isinstance(ev, h2.events.RequestReceived):
                        if goaway_last is not None and ev.stream_id > goaway_last:
                            continue  # refused by our GOAWAY: never answered
                        h = list(ev.headers)
                        pseudo = {k: v for k, v in h if k.startswith(":")}
                        streams[ev.stream_id] = {
                            "method": pseudo.get(":method"), "path": pseudo.get(":path"),
                            "authority": pseudo.get(":authority"), "scheme": pseudo.get(":scheme"),
                            "headers": [[k, v] for k, v in h if not k.startswith(":")],
                            "body": bytearray(), "trailers": None, "connection_id": conn_id,
                        }
                        if ev.stream_ended is not None:
                            self._complete(conn, ev.stream_id, streams, outgoing)
                            served += 1
                    elif isinstance(ev, h2.events.DataReceived):
                        if ev.stream_id in streams:
                            streams[ev.stream_id]["body"] += ev.data
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.TrailersReceived):
                        if ev.stream_id in streams:
                            streams[ev.stream_id]["trailers"] = [[k, v] for k, v in ev.headers]
                    elif isinstance(ev, h2.events.StreamEnded):
                        if ev.stream_id in streams and "done" not in streams[ev.stream_id]:
                            self._complete(conn, ev.stream_id, streams, outgoing)
                            served += 1
                    elif isinstance(ev, h2.events.StreamReset):
                        with self.lock:
                            self.resets += 1
                        outgoing.pop(ev.stream_id, None)
                        streams.pop(ev.stream_id, None)
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        sock.sendall(conn.data_to_send())
                        return
                if self.goaway_after and goaway_last is None and served >= self.goaway_after:
                    goaway_last = max(streams) if streams else 0
                    # Written by hand: h2's close_connection() would refuse to send the
                    # responses still due on streams up to goaway_last (RFC 9113 §6.8 says
                    # they complete).
                    goaway = hyperframe.frame.GoAwayFrame(0)
                    goaway.last_stream_id = goaway_last
                    sock.sendall(conn.data_to_send() + goaway.serialize())
            self._pump(conn, outgoing)
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
            if goaway_last is not None and not outgoing and all(
                    sid > goaway_last or "done" in s for sid, s in streams.items()):
                # Like a real server: half-close and read for a moment, so the close is a FIN
                # after the GOAWAY, not a reset that could destroy it in flight.
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(0.5)
                try:
                    while sock.recv(65536):
                        pass
                except OSError:
                    pass
                return

    def _complete(self, conn, stream_id, streams, outgoing):
        s = streams[stream_id]
        s["done"] = True
        body = bytes(s["body"])
        req = {k: v for k, v in s.items() if k not in ("body", "done")}
        req["body_bytes"] = len(body)
        req["body_sha256"] = hashlib.sha256(body).hexdigest()
        with self.lock:
            self.requests.append(req)
        resp = self.handler(req)
        headers = [(":status", str(resp.status))] + list(resp.headers)
        if resp.length:
            headers.append(("content-length", str(len(resp.body))))
        no_body = not resp.body and not resp.trailers
        conn.send_headers(stream_id, headers, end_stream=no_body)
        if not no_body:
            outgoing[stream_id] = [memoryview(resp.body), 0, resp.trailers]

    @staticmethod
    def _pump(conn, outgoing):
        for sid in list(outgoing):
            body, at, trailers = outgoing[sid]
            while at < len(body):
                window = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
                if window <= 0:
                    break
                piece = body[at:at + window]
                at += len(piece)
                conn.send_data(sid, bytes(piece), end_stream=(at == len(body) and not trailers))
            outgoing[sid][1] = at
            if at == len(body):
                if trailers:
                    conn.send_headers(sid, trailers, end_stream=True)
                elif len(body) == 0:
                    conn.end_stream(sid)
                del outgoing[sid]

    def kill(self):
        self._stopped = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked on it
        except OSError:
            pass
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            for s in self._socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    s.close()
                except OSError:
                    pass

    stop = kill

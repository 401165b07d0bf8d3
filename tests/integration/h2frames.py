"""Raw HTTP/2 frames for the HTTP/2 suites: build any frame (valid or not), HPACK-encode
heads with the hpack module, and read the server's frames back (GOAWAY code, RST_STREAM,
DATA, headers), so attacks and malformed input can be sent exactly as written."""

from __future__ import annotations

import socket
import ssl
import struct
import time

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0, 1, 2, 3
FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 6, 7, 8, 9, 11
INITIAL_WINDOW_SIZE = 4


def frame(ftype: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def settings(**values: int) -> bytes:
    ids = {"header_table_size": 1, "enable_push": 2, "max_concurrent_streams": 3,
           "initial_window_size": 4, "max_frame_size": 5, "max_header_list_size": 6}
    payload = b"".join(struct.pack(">HI", ids[k], v) for k, v in values.items())
    return frame(SETTINGS, 0, 0, payload)


def request_headers(port: int, path: str = "/", method: str = "GET", extra=None) -> list[tuple[str, str]]:
    return [(":method", method), (":scheme", "http"), (":authority", f"127.0.0.1:{port}"), (":path", path)] + list(extra or [])


class H2Conn:
    """One client connection speaking raw frames (h2c prior knowledge, or h2 over TLS)."""

    def __init__(self, port: int, tls: bool = False, initial: bytes | None = None, timeout: float = 10.0):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock)
            assert sock.selected_alpn_protocol() == "h2"
        self.sock = sock
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.buf = b""
        self.frames: list[tuple[int, int, int, bytes]] = []
        self.closed = False
        self.send(PREFACE + (initial if initial is not None else settings()))

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def headers(self, stream: int, fields, end_stream: bool = True, end_headers: bool = True) -> bytes:
        block = self.encoder.encode(fields)
        flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
        return frame(HEADERS, flags, stream, block)

    def read_frame(self, timeout: float = 5.0):
        """The next frame (type, flags, stream, payload), or None on close/timeout."""
        deadline = time.monotonic() + timeout
        while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                return None
            except (ssl.SSLError, OSError):
                self.closed = True
                return None
            if not data:
                self.closed = True
                return None
            self.buf += data
        n = int.from_bytes(self.buf[:3], "big")
        ftype, flags = self.buf[3], self.buf[4]
        stream = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
        payload = self.buf[9 : 9 + n]
        self.buf = self.buf[9 + n :]
        if ftype == SETTINGS and not flags & ACK:
            self.send(frame(SETTINGS, ACK, 0))
        self.frames.append((ftype, flags, stream, payload))
        return ftype, flags, stream, payload

    def wait_goaway(self, timeout: float = 10.0):
        """The error code of the server's GOAWAY (None if the connection ended without one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            f = self.read_frame(deadline - time.monotonic())
            if f is None:
                return None
            if f[0] == GOAWAY:
                return struct.unpack(">I", f[3][4:8])[0]
        return None

    def response(self, stream: int, timeout: float = 10.0, window_updates: bool = True):
        """(headers, body, trailers, rst_code) of `stream`, reading until it ends."""
        heads, body, trailers = [], b"", []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            f = self.read_frame(deadline - time.monotonic())
            if f is None:
                break
            ftype, flags, sid, payload = f
            if ftype == HEADERS:
                fields = self.decoder.decode(_strip_padding(flags, payload))
                (trailers if heads and any(n == ":status" for n, _ in heads) and not fields[0][0] == ":status" else heads).extend(fields)
            elif ftype == DATA and sid == stream:
                body += _strip_padding(flags, payload)
                if window_updates and payload:
                    inc = struct.pack(">I", len(payload))
                    self.send(frame(WINDOW_UPDATE, 0, 0, inc) + frame(WINDOW_UPDATE, 0, stream, inc))
            elif ftype == RST_STREAM and sid == stream:
                return heads, body, trailers, struct.unpack(">I", payload)[0]
            elif ftype == GOAWAY:
                continue
            if sid == stream and flags & END_STREAM and ftype in (HEADERS, DATA):
                return heads, body, trailers, None
        raise AssertionError(f"stream {stream} did not end; frames: {[(f[0], f[1], f[2]) for f in self.frames[-20:]]}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _strip_padding(flags: int, payload: bytes) -> bytes:
    if flags & PADDED:
        pad = payload[0]
        payload = payload[1 : len(payload) - pad]
    if flags & PRIORITY_FLAG:
        payload = payload[5:]
    return payload

"""Raw-socket HTTP/1.1 client side: send exact bytes, read what comes back, parse it.

Used where real clients would refuse to send (malformed input) or would hide what
matters (1xx, framing, trailers, whether the connection was closed). Single-threaded;
one RawConnection per socket.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    reason: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)
    framing: str = "none"  # content-length | chunked | close | none
    informational: list["Response"] = field(default_factory=list)  # 1xx received before it

    def header(self, name: str) -> str | None:
        values = self.headers_named(name)
        return ", ".join(values) if values else None

    def headers_named(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]

    def json(self):
        return json.loads(self.body)


class IncompleteResponse(Exception):
    """The bytes end before the response they start is complete."""


def _parse_head(head: bytes) -> tuple[str, int, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"not an HTTP status line: {lines[0]!r}")
    version, status = parts[0], int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return version, status, reason, headers


def _parse_one(data: bytes, pos: int, method: str, at_eof: bool) -> tuple[Response, int]:
    """Parses the response starting at data[pos]; returns it and the position after it."""
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        raise IncompleteResponse("head not complete")
    version, status, reason, headers = _parse_head(data[pos:end])
    resp = Response(status, reason, version, headers)
    pos = end + 4
    if 100 <= status < 200 or status in (204, 304) or method == "HEAD":
        return resp, pos
    te = (resp.header("transfer-encoding") or "").lower()
    cl = resp.header("content-length")
    if "chunked" in te:
        resp.framing = "chunked"
        body = bytearray()
        while True:
            line_end = data.find(b"\r\n", pos)
            if line_end < 0:
                raise IncompleteResponse("chunk size line not complete")
            size = int(data[pos:line_end].split(b";")[0].strip(), 16)
            pos = line_end + 2
            if size == 0:
                break
            if len(data) < pos + size + 2:
                raise IncompleteResponse("chunk not complete")
            body += data[pos : pos + size]
            if data[pos + size : pos + size + 2] != b"\r\n":
                raise ValueError("chunk data not followed by CRLF")
            pos += size + 2
        while True:  # trailer section
            line_end = data.find(b"\r\n", pos)
            if line_end < 0:
                raise IncompleteResponse("trailers not complete")
            line = data[pos:line_end].decode("latin-1")
            pos = line_end + 2
            if not line:
                break
            name, _, value = line.partition(":")
            resp.trailers.append((name.strip(), value.strip()))
        resp.body = bytes(body)
        return resp, pos
    if cl is not None:
        resp.framing = "content-length"
        n = int(cl)
        if len(data) < pos + n:
            raise IncompleteResponse("body shorter than content-length")
        resp.body = data[pos : pos + n]
        return resp, pos + n
    if not at_eof:
        raise IncompleteResponse("close-delimited body still open")
    resp.framing = "close"
    resp.body = data[pos:]
    return resp, len(data)


def parse_responses(data: bytes, methods: list[str] | None = None, at_eof: bool = True) -> list[Response]:
    """Parses every complete response in data, folding 1xx into the final one's
    `informational`. methods[i] is the method of the i-th request (HEAD has no body)."""
    out: list[Response] = []
    pending_1xx: list[Response] = []
    pos = 0
    while pos < len(data):
        method = (methods[len(out)] if methods and len(out) < len(methods) else "GET").upper()
        try:
            resp, pos = _parse_one(data, pos, method, at_eof)
        except IncompleteResponse:
            break
        if 100 <= resp.status < 200 and resp.status != 101:
            pending_1xx.append(resp)
            continue
        resp.informational = pending_1xx
        pending_1xx = []
        out.append(resp)
    return out


class RawConnection:
    """A client TCP connection that sends exact bytes and reads responses."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False
        self.reset = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> bool:
        """Sends data; False if the peer had already closed or reset."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self, deadline: float) -> bool:
        """Reads more bytes; False on EOF, reset or deadline."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.eof = self.reset = True
            return False
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def read_response(self, method: str = "GET", timeout: float = 5.0) -> Response:
        """Reads one final response (1xx folded in). Raises on timeout or early close."""
        deadline = time.monotonic() + timeout
        while True:
            responses, consumed = self._try_parse(method)
            if responses:
                self.buf = self.buf[consumed:]
                return responses
            if not self._fill(deadline):
                responses, consumed = self._try_parse(method)
                if responses:
                    self.buf = self.buf[consumed:]
                    return responses
                state = "closed" if self.eof else "timed out"
                raise AssertionError(f"connection {state} before a complete response; got {self.buf[:500]!r}")

    def _try_parse(self, method: str):
        pending = []
        pos = 0
        data = self.buf
        while pos < len(data):
            try:
                resp, pos2 = _parse_one(data, pos, method, self.eof)
            except IncompleteResponse:
                return None, 0
            pos = pos2
            if 100 <= resp.status < 200 and resp.status != 101:
                pending.append(resp)
                continue
            resp.informational = pending
            return resp, pos
        return None, 0

    def read_informational(self, timeout: float = 5.0) -> Response:
        """Reads exactly one 1xx response head (e.g. 100 Continue) and leaves the rest."""
        deadline = time.monotonic() + timeout
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                version, status, reason, headers = _parse_head(self.buf[:end])
                self.buf = self.buf[end + 4 :]
                return Response(status, reason, version, headers)
            if not self._fill(deadline):
                raise AssertionError(f"no interim response; got {self.buf!r}")

    def read_exactly(self, n: int, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise AssertionError(f"wanted {n} bytes, got {self.buf!r}")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_until_close(self, timeout: float = 5.0) -> bytes:
        """Reads until the peer closes; self.eof tells whether it did before the deadline."""
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass
        return self.buf

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """True if the peer closes (EOF or reset) within timeout; buffered bytes are kept."""
        self.read_until_close(timeout)
        return self.eof


@dataclass
class Exchange:
    data: bytes  # everything received
    closed: bool  # the proxy closed (FIN or RST) before the timeout
    responses: list[Response]
    elapsed: float

    @property
    def first(self) -> Response | None:
        return self.responses[0] if self.responses else None


def exchange(port: int, request: bytes, timeout: float = 5.0, methods=None) -> Exchange:
    """Sends request in one write, reads until close or timeout, parses the responses."""
    start = time.monotonic()
    with RawConnection(port, timeout=timeout) as conn:
        conn.send(request)
        data = conn.read_until_close(timeout)
        return Exchange(data, conn.eof, parse_responses(data, methods, at_eof=conn.eof), time.monotonic() - start)


def assert_json_error(resp: Response, status: int, error: str | None = None) -> dict:
    """The SPEC §3 error shape: status, content-type application/json, {"error", "message"}."""
    assert resp is not None, "no response"
    assert resp.status == status, f"expected {status}, got {resp.status} {resp.body[:300]!r}"
    ctype = resp.header("content-type") or ""
    assert ctype.split(";")[0].strip().lower() == "application/json", f"content-type {ctype!r}"
    body = resp.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"], body
    if error is not None:
        assert body["error"] == error, body
    if "retry_after_ms" not in body:
        assert isinstance(body.get("message"), str) and body["message"], body
    return body


def request_bytes(method: str = "GET", target: str = "/", headers=None, body: bytes = b"", host: str = "test.local") -> bytes:
    """A well-formed HTTP/1.1 request; Content-Length is added for a non-empty body."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    hdrs = list(headers or [])
    if body and not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in hdrs):
        hdrs.append(("Content-Length", str(len(body))))
    lines += [f"{n}: {v}" for n, v in hdrs]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def header_values(headers, name: str) -> list[str]:
    """Values of `name` (case-insensitive) in a [(name, value)] list such as an echo's."""
    lname = name.lower()
    return [v for n, v in headers if n.lower() == lname]


def curl(*args: str, timeout: float = 30.0):
    """Runs curl (ignoring proxy variables); returns the CompletedProcess (bytes)."""
    import subprocess

    return subprocess.run(["curl", "--noproxy", "*", "-sS", *args], capture_output=True, timeout=timeout)


def read_head(conn: RawConnection, timeout: float = 10.0) -> Response:
    """Reads a response head only (no body) from conn, leaving body bytes in conn.buf."""
    resp = conn.read_informational(timeout)
    te = (resp.header("transfer-encoding") or "").lower()
    if "chunked" in te:
        resp.framing = "chunked"
    elif resp.header("content-length") is not None:
        resp.framing = "content-length"
    else:
        resp.framing = "close"
    return resp


def iter_body(conn: RawConnection, resp: Response, timeout: float = 30.0, piece: int = 1 << 20):
    """Yields the body of `resp` (head already read) as it arrives, without storing it.
    `timeout` bounds each wait for more bytes, not the whole body."""
    sock = conn.sock
    sock.settimeout(timeout)
    buf = bytearray(piece)
    view = memoryview(buf)

    def recv_some(limit: int) -> bytes | memoryview:
        if conn.buf:
            out, conn.buf = conn.buf[:limit], conn.buf[limit:]
            return out
        n = sock.recv_into(view[:limit] if limit < piece else view)
        return view[:n]

    if resp.framing == "content-length":
        left = int(resp.header("content-length"))
        while left:
            part = recv_some(min(left, piece))
            if not len(part):
                raise AssertionError(f"connection closed with {left} body bytes missing")
            left -= len(part)
            yield part
    elif resp.framing == "chunked":
        while True:
            line = b""
            while b"\r\n" not in conn.buf:
                chunk = sock.recv(4096)
                if not chunk:
                    raise AssertionError("connection closed inside a chunk size line")
                conn.buf += chunk
            line, _, conn.buf = conn.buf.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while b"\r\n\r\n" not in b"\r\n" + conn.buf:  # trailers end with an empty line
                    chunk = sock.recv(4096)
                    if not chunk:
                        raise AssertionError("connection closed inside the trailers")
                    conn.buf += chunk
                return
            left = size
            while left:
                part = recv_some(min(left, piece))
                if not len(part):
                    raise AssertionError("connection closed inside a chunk")
                left -= len(part)
                yield part
            while len(conn.buf) < 2:
                chunk = sock.recv(2)
                if not chunk:
                    raise AssertionError("connection closed after chunk data")
                conn.buf += chunk
            conn.buf = conn.buf[2:]
    else:
        while True:
            part = recv_some(piece)
            if not len(part):
                return
            yield part

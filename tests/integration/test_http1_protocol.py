"""HTTP/1.1 details a client relies on (RFC 9112, RFC 9110): leading empty lines before a request
are ignored, an HTTP/1.0 client gets neither an interim 100 nor a keep-alive it did not hear
about, and a connection that never sends a request is closed after header_timeout_ms, not held
for the idle timeout."""

import json
import socket
import time

from rawhttp import RawConnection, request_bytes
from vortex_harness import simple_config


def test_empty_lines_before_a_request_line_are_ignored(echo_proxy):
    with RawConnection(echo_proxy.port) as conn:
        conn.send(b"\r\n\r\n" + request_bytes("GET", "/after-crlf"))
        resp = conn.read_response()
    assert resp.status == 200
    assert json.loads(resp.body)["path"] == "/after-crlf"


def test_an_http10_client_gets_no_100_continue(echo_proxy):
    with RawConnection(echo_proxy.port) as conn:
        conn.send(b"POST /upload HTTP/1.0\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        # An HTTP/1.0 client does not know 1xx (RFC 9110 §15.2): nothing may come before the body.
        conn.sock.settimeout(0.5)
        try:
            early = conn.sock.recv(100, socket.MSG_PEEK)
        except socket.timeout:
            early = b""
        assert not early.startswith(b"HTTP/1.1 100"), early
        conn.send(b"hello")
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.informational == []
    assert json.loads(resp.body)["body_bytes"] == 5


def test_an_http10_keep_alive_answer_says_keep_alive(echo_proxy):
    with RawConnection(echo_proxy.port) as conn:
        conn.send(b"GET /one HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 200
        # RFC 9112 §9.3 (and what every HTTP/1.0 client expects): without the token the client
        # must assume the connection closes.
        assert (resp.header("connection") or "").lower() == "keep-alive"
        conn.send(b"GET /two HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n")
        assert conn.read_response().status == 200


def test_an_http10_answer_without_keep_alive_closes(echo_proxy):
    with RawConnection(echo_proxy.port) as conn:
        conn.send(b"GET /one HTTP/1.0\r\nHost: t\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 200
        assert (resp.header("connection") or "close").lower() == "close"
        assert conn.wait_closed(5)


def test_a_connection_that_sends_nothing_is_closed_after_header_timeout(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address, limits="header_timeout_ms: 500, idle_timeout_ms: 30000"))
    start = time.monotonic()
    with RawConnection(proxy.port) as conn:
        data = conn.read_until_close(timeout=10)
        assert conn.eof, "a silent connection was held open"
        elapsed = time.monotonic() - start
    assert data == b"", data  # nothing to answer: no request began
    assert 0.4 <= elapsed < 4.0, f"closed after {elapsed:.2f}s with header_timeout_ms 500"


def test_a_kept_alive_connection_waits_the_idle_timeout_between_requests(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address, limits="header_timeout_ms: 300, idle_timeout_ms: 2000"))
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/first"))
        assert conn.read_response().status == 200
        time.sleep(1.0)  # past header_timeout_ms, inside idle_timeout_ms
        conn.send(request_bytes("GET", "/second"))
        assert conn.read_response().status == 200

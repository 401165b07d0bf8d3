"""The request limits of SPEC.md §2/§3: 431, 414, 413, 408 (slowloris) and the keep-alive
idle timeout. Each rejection is the SPEC JSON body, then the connection is closed, and the
origin never sees the request; a request just under each limit still goes through."""

import socket
import time

from rawhttp import RawConnection, assert_json_error, exchange, request_bytes
from vortex_harness import simple_config


def _limited_proxy(vortex, origin, limits):
    return vortex(simple_config(origin.address, limits=limits))


def _assert_rejected(proxy, origin, request: bytes, status: int):
    ex = exchange(proxy.port, request, timeout=5)
    assert ex.first is not None, f"no response, got {ex.data[:300]!r}"
    assert_json_error(ex.first, status)
    assert len(ex.responses) == 1
    assert ex.closed, "the connection stayed open after the rejection"
    assert origin.heads == 0, f"origin received {origin.paths()}"


def _assert_accepted(proxy, origin, request: bytes):
    with RawConnection(proxy.port) as conn:
        conn.send(request)
        resp = conn.read_response()
    assert resp.status == 200, resp.body[:300]
    assert origin.request_count == 1


def test_too_many_headers_get_431_and_close(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_headers: 10")
    headers = [(f"X-H{i}", "v") for i in range(20)]
    _assert_rejected(proxy, echo_origin, request_bytes("GET", "/many", headers=headers), 431)


def test_headers_within_the_count_limit_are_accepted(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_headers: 10")
    headers = [(f"X-H{i}", "v") for i in range(5)]
    _assert_accepted(proxy, echo_origin, request_bytes("GET", "/few", headers=headers))


def test_oversized_header_section_gets_431_and_close(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_header_bytes: 2048")
    _assert_rejected(proxy, echo_origin, request_bytes("GET", "/big", headers=[("X-Big", "a" * 4000)]), 431)


def test_header_section_under_the_byte_limit_is_accepted(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_header_bytes: 2048")
    _assert_accepted(proxy, echo_origin, request_bytes("GET", "/ok", headers=[("X-Big", "a" * 1000)]))


def test_oversized_header_split_over_many_writes_gets_431(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_header_bytes: 2048")
    with RawConnection(proxy.port) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: ")
        for _ in range(50):
            if not conn.send(b"a" * 100):
                break
            time.sleep(0.005)
        conn.send(b"\r\n\r\n")
        resp = conn.read_response()
        assert_json_error(resp, 431)
        assert conn.wait_closed(5)
    assert echo_origin.heads == 0


def test_oversized_uri_gets_414_and_close(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_uri_bytes: 256")
    _assert_rejected(proxy, echo_origin, request_bytes("GET", "/" + "u" * 1000), 414)


def test_uri_under_the_limit_is_accepted(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_uri_bytes: 256")
    _assert_accepted(proxy, echo_origin, request_bytes("GET", "/" + "u" * 200))


def test_body_over_max_body_bytes_by_content_length_gets_413_and_close(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_body_bytes: 1000")
    _assert_rejected(proxy, echo_origin, request_bytes("POST", "/up", body=b"b" * 2000), 413)


def test_body_under_max_body_bytes_is_accepted(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_body_bytes: 1000")
    _assert_accepted(proxy, echo_origin, request_bytes("POST", "/up", body=b"b" * 500))


def test_chunked_body_over_max_body_bytes_gets_413_and_close(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "max_body_bytes: 1000")
    chunks = b"".join(b"190\r\n" + b"c" * 400 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"  # 2000 bytes
    ex = exchange(proxy.port, b"POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
    assert ex.first is not None, f"no response, got {ex.data[:300]!r}"
    assert_json_error(ex.first, 413)
    assert ex.closed
    # Streaming may have sent the head upstream, but the origin never gets a whole request.
    assert echo_origin.request_count == 0


def test_slowloris_head_gets_408_and_close_after_header_timeout(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "header_timeout_ms: 500")
    head = request_bytes("GET", "/slow", headers=[("X-Pad", "p" * 40)])
    start = time.monotonic()
    with RawConnection(proxy.port) as conn:
        for byte in head[:-2]:  # never completes the head
            if not conn.send(bytes([byte])):
                break
            # Keep trickling while nothing has come back (100 ms per byte).
            conn.sock.settimeout(0.1)
            try:
                conn.sock.recv(1, socket.MSG_PEEK)  # an answer or a close arrived
                break
            except socket.timeout:
                pass
            except ConnectionResetError:
                break
            assert time.monotonic() - start < 6, "the trickled head was never cut off"
        resp = conn.read_response(timeout=5)
        elapsed = time.monotonic() - start
        assert_json_error(resp, 408)
        assert conn.wait_closed(5), "the connection stayed open after 408"
    assert 0.4 <= elapsed < 4.0, f"408 after {elapsed:.2f}s with header_timeout_ms 500"
    assert echo_origin.heads == 0


def test_idle_keep_alive_connection_is_closed_after_idle_timeout(vortex, echo_origin):
    proxy = _limited_proxy(vortex, echo_origin, "idle_timeout_ms: 1000")
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/first"))
        assert conn.read_response().status == 200
        time.sleep(0.3)  # well inside the idle timeout: still usable
        conn.send(request_bytes("GET", "/second"))
        assert conn.read_response().status == 200
        idle_start = time.monotonic()
        assert conn.wait_closed(6), "idle keep-alive connection was never closed"
        idle = time.monotonic() - idle_start
    assert 0.8 <= idle < 4.0, f"closed after {idle:.2f}s idle with idle_timeout_ms 1000"
    assert echo_origin.request_count == 2

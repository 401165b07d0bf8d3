"""HTTP/2 attacks and malformed frames: each is answered with GOAWAY (the error code
RFC 9113 prescribes, ENHANCE_YOUR_CALM for floods) on that connection only; the process
stays up and another client is served normally meanwhile."""

import struct
import time

import pytest

from h2frames import (CONTINUATION, DATA, ENHANCE_YOUR_CALM, FRAME_SIZE_ERROR, GOAWAY, HEADERS, PING,
                      PRIORITY, PROTOCOL_ERROR, RST_STREAM, SETTINGS, WINDOW_UPDATE, COMPRESSION_ERROR,
                      END_HEADERS, END_STREAM, H2Conn, frame, request_headers, settings)
from vortex_harness import simple_config


@pytest.fixture
def proxy(vortex, echo_origin):
    p = vortex(simple_config(echo_origin.address, limits="idle_timeout_ms: 1500"))
    return p


def _hpack_int(n: int, prefix: int) -> bytes:
    top = (1 << prefix) - 1
    if n < top:
        return bytes([n])
    out, n = [top], n - top
    while n >= 128:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(out + [n])


def _others_are_served(proxy):
    conn = H2Conn(proxy.port)
    try:
        conn.send(conn.headers(1, request_headers(proxy.port, "/still-served")))
        heads, _, _, rst = conn.response(1)
        assert rst is None and (":status", "200") in heads
    finally:
        conn.close()
    assert proxy.proc.poll() is None


def test_rapid_reset_gets_goaway_enhance_your_calm(proxy):
    conn = H2Conn(proxy.port)
    burst = b"".join(conn.headers(2 * i + 1, request_headers(proxy.port, f"/r{i}"))
                     + frame(RST_STREAM, 0, 2 * i + 1, struct.pack(">I", 8)) for i in range(1000))
    conn.send(burst)
    assert conn.wait_goaway() == ENHANCE_YOUR_CALM
    conn.close()
    _others_are_served(proxy)


def test_continuation_flood_gets_goaway(proxy):
    conn = H2Conn(proxy.port)
    first = conn.headers(1, request_headers(proxy.port, "/c"), end_headers=False)
    flood = b"".join(frame(CONTINUATION, 0, 1, conn.encoder.encode([(f"x-h{i}", "v")])) for i in range(200))
    conn.send(first + flood)
    code = conn.wait_goaway()
    assert code in (ENHANCE_YOUR_CALM, PROTOCOL_ERROR), code
    conn.close()
    _others_are_served(proxy)


def test_empty_continuation_frames_flood_gets_goaway(proxy):
    conn = H2Conn(proxy.port)
    first = conn.headers(1, request_headers(proxy.port, "/c"), end_headers=False)
    conn.send(first + frame(CONTINUATION, 0, 1, b"") * 500)
    assert conn.wait_goaway() in (ENHANCE_YOUR_CALM, PROTOCOL_ERROR)
    conn.close()
    _others_are_served(proxy)


def test_hpack_bomb_gets_goaway(proxy):
    """One 4 KiB header indexed once, then referenced by one byte each: a tiny frame that
    decodes to far more than max_header_bytes."""
    conn = H2Conn(proxy.port)
    head = conn.encoder.encode(request_headers(proxy.port, "/boom"))
    # Literal with incremental indexing (RFC 7541 §6.2.1): x-bomb becomes dynamic index 62,
    # then 200 one-byte references to it (§6.1).
    value = b"a" * 3000
    literal = b"\x40" + bytes([6]) + b"x-bomb" + _hpack_int(len(value), 7) + value
    conn.send(frame(HEADERS, END_HEADERS | END_STREAM, 3, head + literal + bytes([0x80 | 62]) * 200))
    assert conn.wait_goaway() in (ENHANCE_YOUR_CALM, COMPRESSION_ERROR)
    conn.close()
    _others_are_served(proxy)


@pytest.mark.parametrize("kind", ["settings", "ping"])
def test_control_frame_flood_gets_goaway(proxy, kind):
    conn = H2Conn(proxy.port)
    one = settings(initial_window_size=65535) if kind == "settings" else frame(PING, 0, 0, b"12345678")
    conn.send(one * 2000)
    assert conn.wait_goaway() == ENHANCE_YOUR_CALM
    conn.close()
    _others_are_served(proxy)


def test_empty_data_frame_flood_gets_goaway(proxy):
    conn = H2Conn(proxy.port)
    conn.send(conn.headers(1, request_headers(proxy.port, "/e", "POST"), end_stream=False)
              + frame(DATA, 0, 1, b"") * 1000)
    assert conn.wait_goaway() == ENHANCE_YOUR_CALM
    conn.close()
    _others_are_served(proxy)


def test_priority_flood_gets_goaway(proxy):
    conn = H2Conn(proxy.port)
    conn.send(b"".join(frame(PRIORITY, 0, 2 * i + 1, struct.pack(">IB", 0, 16)) for i in range(3000)))
    assert conn.wait_goaway() == ENHANCE_YOUR_CALM
    conn.close()
    _others_are_served(proxy)


def test_zero_window_stall_is_reset_after_idle_timeout(proxy):
    """The client announces a zero window and never opens it: the stream cannot progress;
    after idle_timeout (1.5 s here) Vortex gives up on it instead of holding it forever."""
    conn = H2Conn(proxy.port, initial=settings(initial_window_size=0))
    conn.send(conn.headers(1, request_headers(proxy.port, "/bytes/1000000")))
    started = time.monotonic()
    ended = None
    while time.monotonic() - started < 10:
        f = conn.read_frame(10)
        if f is None:
            ended = "closed"
            break
        if (f[0] == RST_STREAM and f[2] == 1) or f[0] == GOAWAY:
            ended = f[0]
            break
    assert ended is not None, "the stalled stream was never given up"
    assert 1.0 <= time.monotonic() - started < 8
    conn.close()
    _others_are_served(proxy)


@pytest.mark.parametrize("name,data,code", [
    ("bad preface", b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + settings(), PROTOCOL_ERROR),
    ("settings of bad length", frame(SETTINGS, 0, 0, b"\x00\x04\x00"), FRAME_SIZE_ERROR),
    ("data on stream 0", frame(DATA, 0, 0, b"x"), PROTOCOL_ERROR),
    ("window update of zero", frame(WINDOW_UPDATE, 0, 0, b"\x00\x00\x00\x00"), PROTOCOL_ERROR),
    ("even stream id", None, PROTOCOL_ERROR),
    ("ping of bad length", frame(PING, 0, 0, b"123"), FRAME_SIZE_ERROR),
])
def test_malformed_frames_get_goaway_with_the_right_code(proxy, name, data, code):
    if name == "bad preface":
        import socket
        s = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        s.sendall(data)
        # Not HTTP/2: an HTTP/1.1 parser sees garbage and answers 400, or the connection ends.
        reply = s.recv(1000)
        assert reply == b"" or reply.startswith(b"HTTP/1.1 400")
        s.close()
    else:
        conn = H2Conn(proxy.port)
        if data is None:
            data = conn.headers(2, request_headers(proxy.port, "/even"))
        conn.send(data)
        assert conn.wait_goaway() == code, name
        conn.close()
    _others_are_served(proxy)

"""Upgrades: the ones users rely on keep working (WebSocket over HTTP/1.1, and over HTTP/2 with
RFC 8441 extended CONNECT), and the "h2c smuggling" class is closed: an `Upgrade: h2c` is never
forwarded to an origin, an origin's 101 that nobody asked for is a 502 (never a raw tunnel past
routing and filters), and a malformed HTTP2-Settings is a 400."""

import base64
import hashlib
import struct

import pytest

from h2frames import DATA, HEADERS, RST_STREAM, SETTINGS, H2Conn, frame
from origins import invert, read_full_request, upgrade_echo
from rawhttp import RawConnection, assert_json_error
from tls_certs import make_cert, tls_listener
from vortex_harness import free_port, simple_config

ENABLE_CONNECT_PROTOCOL = 8


def _smuggling_origin(conn, index):
    """An origin that switches to whatever it is asked (or not asked) for and then talks
    HTTP/2 on the raw connection: what an h2c smuggling attack reaches through a proxy."""
    req = read_full_request(conn)
    if req is None:
        return
    conn.upgrade_request = req
    conn.send(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
              + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00internal-admin-bytes")
    conn.read_some()


def _tls_proxy(vortex, origin_address, tmp_path):
    cert = make_cert(tmp_path, "up", "localhost", ["localhost", "127.0.0.1"])
    port = free_port()
    proxy = vortex(tls_listener(port, [(cert[0], cert[1], ["*"])]) + simple_config(origin_address), port=port)
    return proxy


def test_an_h2c_upgrade_with_a_body_is_not_forwarded(vortex, raw_origin):
    origin = raw_origin(_smuggling_origin)
    proxy = vortex(simple_config(origin.address))
    with RawConnection(proxy.port) as conn:
        conn.send(b"POST /admin HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                  b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 4\r\n\r\nbody")
        resp = conn.read_response()
        data = conn.read_until_close(timeout=3)
    assert resp.status == 502, resp.status
    assert b"internal-admin-bytes" not in resp.body + data
    forwarded = origin._conns[0].upgrade_request
    assert forwarded.header("upgrade") is None
    assert "upgrade" not in (forwarded.header("connection") or "").lower()
    assert forwarded.header("http2-settings") is None


def test_an_h2c_upgrade_over_tls_is_not_forwarded(vortex, raw_origin, tmp_path):
    import socket
    import ssl

    origin = raw_origin(_smuggling_origin)
    proxy = _tls_proxy(vortex, origin.address, tmp_path)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", proxy.port), timeout=5)) as s:
        s.sendall(b"GET /admin HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                  b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ssl.SSLError, OSError):
                break
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 502"), data[:200]
    assert b"internal-admin-bytes" not in data
    assert origin._conns[0].upgrade_request.header("upgrade") is None


def test_an_unsolicited_101_from_the_origin_is_a_502(vortex, raw_origin):
    origin = raw_origin(_smuggling_origin)
    proxy = vortex(simple_config(origin.address))
    with RawConnection(proxy.port) as conn:
        conn.send(b"GET /plain HTTP/1.1\r\nHost: t\r\n\r\n")
        resp = conn.read_response()
        rest = conn.read_until_close(timeout=3)
    assert_json_error(resp, 502, "Bad Gateway")
    assert b"internal-admin-bytes" not in rest


@pytest.mark.parametrize("settings", ["!!!not-base64!!!", "AAMAAABkAAQ", "AAMAAABkAAQAAP__AA"])
def test_a_malformed_http2_settings_gets_400(echo_proxy, settings):
    with RawConnection(echo_proxy.port) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                  + f"HTTP2-Settings: {settings}\r\n\r\n".encode())
        resp = conn.read_response()
        assert conn.wait_closed(5)
    assert_json_error(resp, 400, "Bad Request")


def _server_settings(conn):
    while True:
        f = conn.read_frame()
        assert f is not None, "no SETTINGS from the server"
        if f[0] == SETTINGS and not f[1] & 1:
            return {struct.unpack(">H", f[3][i:i + 2])[0]: struct.unpack(">I", f[3][i + 2:i + 6])[0]
                    for i in range(0, len(f[3]), 6)}


def test_a_websocket_over_http2_extended_connect_reaches_an_http1_origin(vortex, raw_origin):
    origin = raw_origin(upgrade_echo)
    proxy = vortex(simple_config(origin.address))
    conn = H2Conn(proxy.port)
    try:
        assert _server_settings(conn).get(ENABLE_CONNECT_PROTOCOL) == 1
        conn.send(conn.headers(1, [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                                   (":path", "/chat"), (":authority", "t"), ("sec-websocket-version", "13")],
                               end_stream=False))
        heads, got = [], b""
        while not heads or len(got) < len(b"hello-from-origin"):
            f = conn.read_frame(timeout=5)
            assert f is not None, (heads, got)
            ftype, _, sid, payload = f
            assert ftype != RST_STREAM, payload
            if ftype == HEADERS and sid == 1:
                heads = conn.decoder.decode(payload)
            elif ftype == DATA and sid == 1:
                got += payload
        # RFC 8441 §5: a 200 opens the tunnel; no WebSocket handshake fields come back.
        assert (":status", "200") in heads, heads
        assert not any(n in ("sec-websocket-accept", "upgrade", "connection") for n, _ in heads)
        assert got == b"hello-from-origin"
        for msg in (b"ping-1", bytes(range(256)) * 40):
            conn.send(frame(DATA, 0, 1, msg))
            echoed = b""
            while len(echoed) < len(msg):
                f = conn.read_frame(timeout=5)
                assert f is not None and f[0] != RST_STREAM, f
                if f[0] == DATA and f[2] == 1:
                    echoed += f[3]
                    inc = struct.pack(">I", len(f[3]))
                    conn.send(frame(8, 0, 0, inc) + frame(8, 0, 1, inc))
            assert echoed == invert(msg)
    finally:
        conn.close()
    req = origin._conns[0].upgrade_request
    assert req.method == "GET" and req.path == "/chat"
    assert (req.header("upgrade") or "").lower() == "websocket"
    assert "upgrade" in (req.header("connection") or "").lower()
    key = req.header("sec-websocket-key") or ""
    assert len(base64.b64decode(key)) == 16  # RFC 6455 §4.1: a fresh 16-byte nonce


def test_an_origin_that_answers_the_wrong_websocket_accept_is_a_502_over_http2(vortex, raw_origin):
    def wrong_accept(conn, index):
        if read_full_request(conn) is None:
            return
        conn.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Accept: " + base64.b64encode(hashlib.sha1(b"x").digest()) + b"\r\n\r\n")
        conn.read_some()

    origin = raw_origin(wrong_accept)
    proxy = vortex(simple_config(origin.address))
    conn = H2Conn(proxy.port)
    try:
        conn.send(conn.headers(1, [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                                   (":path", "/chat"), (":authority", "t"), ("sec-websocket-version", "13")],
                               end_stream=False))
        heads, _, _, rst = conn.response(1)
        assert dict(heads).get(":status") == "502" or rst is not None, (heads, rst)
    finally:
        conn.close()

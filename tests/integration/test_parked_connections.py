"""Keep-alive connections parked between requests (issue 19): an HTTP/1.1 connection idle for
a second or two ends its serving coroutine and keeps only its stream, waiting for readability
with a plain handler (IdleConnections, src/adapters/net/idle_connections.h); its bytes start a
new serving coroutine. A parked connection must behave as any idle one: its next request is
served (also one that arrives in pieces), on TLS too; the idle timeout still closes it; a drain
closes it at once. HTTP/2 connections with no open stream park the same way, keeping their
session (HPACK state) and saying GOAWAY when the idle timeout or a drain ends them.
idle_timeout_ms 3000 is the shortest with which connections park."""

from __future__ import annotations

import http.client
import json
import signal
import ssl
import time

import pytest

from h2frames import NO_ERROR, H2Conn, request_headers
from rawhttp import RawConnection, request_bytes
from tls_certs import make_cert, tls_listener
from vortex_harness import free_port, simple_config

IDLE_TIMEOUT = "idle_timeout_ms: 3000"
PARKED_S = 2.3  # parked 1-2 s after the last response


def test_a_parked_connection_serves_its_next_requests(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address, limits=IDLE_TIMEOUT))
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/first"))
        assert conn.read_response().status == 200
        time.sleep(PARKED_S)
        # The head in two pieces: the resumed connection reads the rest in its serving coroutine.
        head = request_bytes("GET", "/second")
        conn.send(head[:10])
        time.sleep(0.2)
        conn.send(head[10:])
        resp = conn.read_response()
        assert resp.status == 200 and resp.json()["path"] == "/second"
        time.sleep(PARKED_S)  # parked again
        conn.send(request_bytes("GET", "/third") + request_bytes("GET", "/fourth"))  # pipelined
        assert conn.read_response().json()["path"] == "/third"
        assert conn.read_response().json()["path"] == "/fourth"
    assert echo_origin.request_count == 4


def test_a_parked_connection_is_closed_at_the_idle_timeout(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address, limits=IDLE_TIMEOUT))
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/only"))
        assert conn.read_response().status == 200
        idle_start = time.monotonic()
        assert conn.wait_closed(8), "the parked connection was never closed"
        idle = time.monotonic() - idle_start
    # Due at 3 s; the sweep that closes it runs at most a second after that.
    assert 2.7 <= idle < 4.8, f"closed after {idle:.2f}s idle with idle_timeout_ms 3000"


def test_a_parked_tls_connection_serves_its_next_request_and_times_out(vortex, echo_origin, tmp_path):
    cert, key = make_cert(tmp_path, "parked", "localhost", ["localhost", "127.0.0.1"])
    port = free_port()
    proxy = vortex(tls_listener(port, [(cert, key, ["*"])], alpn="[http/1.1]") +
                   simple_config(echo_origin.address, limits=IDLE_TIMEOUT), port=port)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", proxy.port, context=context, timeout=10)
    try:
        conn.request("GET", "/first")
        assert conn.getresponse().read() and conn.sock is not None
        first_socket = conn.sock
        time.sleep(PARKED_S)
        conn.request("GET", "/second")
        resp = conn.getresponse()
        assert resp.status == 200 and b'"/second"' in resp.read()
        assert conn.sock is first_socket, "the request went over a new connection"
        idle_start = time.monotonic()
        conn.sock.settimeout(8)
        assert conn.sock.recv(1) == b"", "the parked TLS connection sent bytes instead of closing"
        idle = time.monotonic() - idle_start
    finally:
        conn.close()
    assert 2.7 <= idle < 4.8, f"closed after {idle:.2f}s idle with idle_timeout_ms 3000"
    assert echo_origin.request_count == 2


def test_a_drain_closes_parked_connections_at_once(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address, limits="idle_timeout_ms: 60000"),
                   drain_timeout_ms=10000)
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/idle"))
        assert conn.read_response().status == 200
        time.sleep(PARKED_S)
        start = time.monotonic()
        proxy.signal(signal.SIGTERM)
        assert conn.wait_closed(5), "the parked connection outlived the drain"
        code = proxy.wait_exit(10)
        elapsed = time.monotonic() - start
    assert code == 0, proxy.describe()
    assert elapsed < 2.0, f"exited {elapsed:.2f}s after SIGTERM with only a parked connection open"


# HTTP/2 connections with no stream park too: their coroutines end and the connection object
# (nghttp2's session, with both HPACK tables, and the stream) waits without them.


def h2_proxy_for(vortex, echo_origin, tmp_path, tls: bool, limits: str, **kwargs):
    config = simple_config(echo_origin.address, limits=limits)
    if not tls:
        return vortex(config, **kwargs)  # h2c by prior knowledge
    cert, key = make_cert(tmp_path, "parked-h2", "localhost", ["localhost", "127.0.0.1"])
    port = free_port()
    return vortex(tls_listener(port, [(cert, key, ["*"])], alpn="[h2]") + config, port=port, **kwargs)


@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "h2"])
def test_a_parked_h2_connection_keeps_its_hpack_state(vortex, echo_origin, tmp_path, tls):
    proxy = h2_proxy_for(vortex, echo_origin, tmp_path, tls, IDLE_TIMEOUT)
    conn = H2Conn(proxy.port, tls=tls)
    try:
        fields = request_headers(proxy.port, "/first", extra=[("x-parked", "kept-in-the-table")])
        conn.send(conn.headers(1, fields))
        heads, _, _, reset = conn.response(1)
        assert reset is None and dict(heads)[":status"] == "200"
        time.sleep(PARKED_S)
        # The client's encoder now refers to the entries its first request added, and Vortex's
        # encoder to those its first response added: both tables must have survived the park.
        for stream, path in ((3, "/second"), (5, "/third")):
            fields = request_headers(proxy.port, path, extra=[("x-parked", "kept-in-the-table")])
            conn.send(conn.headers(stream, fields))
            heads, body, _, reset = conn.response(stream)
            assert reset is None and dict(heads)[":status"] == "200", heads
            seen = json.loads(body)
            received = {name.lower(): value for name, value in seen["headers"]}
            assert seen["path"] == path and received.get("x-parked") == "kept-in-the-table"
            time.sleep(PARKED_S)
    finally:
        conn.close()
    assert echo_origin.request_count == 3


@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "h2"])
def test_a_parked_h2_connection_gets_goaway_at_the_idle_timeout(vortex, echo_origin, tmp_path, tls):
    proxy = h2_proxy_for(vortex, echo_origin, tmp_path, tls, IDLE_TIMEOUT)
    conn = H2Conn(proxy.port, tls=tls)
    try:
        conn.send(conn.headers(1, request_headers(proxy.port, "/only")))
        assert dict(conn.response(1)[0])[":status"] == "200"
        idle_start = time.monotonic()
        assert conn.wait_goaway(8) == NO_ERROR, "no GOAWAY NO_ERROR before the close"
        idle = time.monotonic() - idle_start
        assert conn.read_frame(2) is None and conn.closed, "the connection stayed open after GOAWAY"
    finally:
        conn.close()
    assert 2.7 <= idle < 4.8, f"GOAWAY after {idle:.2f}s idle with idle_timeout_ms 3000"


def test_a_drain_sends_goaway_to_parked_h2_connections_at_once(vortex, echo_origin, tmp_path):
    proxy = h2_proxy_for(vortex, echo_origin, tmp_path, True, "idle_timeout_ms: 60000",
                         drain_timeout_ms=10000)
    conn = H2Conn(proxy.port, tls=True)
    try:
        conn.send(conn.headers(1, request_headers(proxy.port, "/idle")))
        assert dict(conn.response(1)[0])[":status"] == "200"
        time.sleep(PARKED_S)
        start = time.monotonic()
        proxy.signal(signal.SIGTERM)
        assert conn.wait_goaway(5) == NO_ERROR, "the parked connection got no GOAWAY"
        code = proxy.wait_exit(10)
        elapsed = time.monotonic() - start
    finally:
        conn.close()
    assert code == 0, proxy.describe()
    assert elapsed < 2.0, f"exited {elapsed:.2f}s after SIGTERM with only a parked connection open"

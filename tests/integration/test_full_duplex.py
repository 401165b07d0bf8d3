"""The full-duplex exchange: a request body is sent while the response is read. An origin
that answers before the upload ends has its answer relayed; a stalled origin still gets 504
after the route's timeout while the body flows; a client that stops mid-upload is not blamed
on the endpoint. (gRPC bidi streaming, the main user, is in test_grpc.py.)"""

from __future__ import annotations

import socket
import time

from origins import _response
from rawhttp import RawConnection, read_head, request_bytes
from vortex_harness import simple_config


def test_early_413_from_origin_reaches_client_still_uploading(vortex, raw_origin):
    def script(conn, index):
        conn.read_head()  # the head only: the body is refused without reading it
        conn.send(_response(413, "Payload Too Large", [("Content-Length", "4"), ("Connection", "close")], b"nope"))
        time.sleep(0.5)

    origin = raw_origin(script)
    proxy = vortex(simple_config(origin.address, route="timeout_ms: 5000"))
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.send(request_bytes("POST", "/up", [("Content-Length", str(64 << 20))]))
        conn.send(b"x" * 65536)  # a start; the rest would never be needed
        start = time.monotonic()
        resp = read_head(conn, timeout=5)
    assert resp.status == 413
    assert time.monotonic() - start < 4


def test_origin_stalled_after_the_body_gets_504(vortex, raw_origin):
    def script(conn, index):
        req = conn.read_request()
        for _ in req.body():
            pass
        conn.read_some()  # never answers

    origin = raw_origin(script)
    proxy = vortex(simple_config(origin.address, route="timeout_ms: 600"))
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.send(request_bytes("POST", "/", body=b"y" * 100000, headers=[("Connection", "close")]))
        start = time.monotonic()
        resp = read_head(conn, timeout=8)
        elapsed = time.monotonic() - start
    assert resp.status == 504
    assert 0.5 < elapsed < 5


def test_client_stopping_mid_upload_does_not_open_the_breaker(vortex, raw_origin, echo_origin):
    def script(conn, index):
        req = conn.read_request()
        for _ in req.body():
            pass

    origin = raw_origin(script)
    proxy = vortex(simple_config(origin.address, cluster="circuit_breaker: { consecutive_failures: 2, open_ms: 60000 }",
                                 limits="idle_timeout_ms: 300"))
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", proxy.port))
        s.sendall(request_bytes("POST", "/", [("Content-Length", "1000")]) + b"z" * 10)
        s.close()  # the client gives up mid-body
    time.sleep(0.5)
    with RawConnection(proxy.port, timeout=5) as conn:
        conn.send(request_bytes("POST", "/", body=b"ok", headers=[("Connection", "close")]))
        resp = read_head(conn, timeout=5)
    assert resp.status != 503  # the endpoint was never blamed for the clients

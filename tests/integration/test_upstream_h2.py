"""HTTP/2 to the upstreams: clusters with `protocol: h2c` (prior knowledge) and `protocol: h2`
(TLS + ALPN, certificate verified against tls.ca), and HTTP/1.1 over TLS. Real h2 origins
(h2_origins.H2Origin on the `h2` library); clients are raw HTTP/1.1, curl and an h2 client.
Covers translation both ways (pseudo-headers, framing, trailers), multiplexing on one
connection, flow control against a slow reader, GOAWAY and a dying origin."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from h2_origins import H2Origin, H2Response, h2_echo
from rawhttp import RawConnection, assert_json_error, curl, exchange, iter_body, read_head, request_bytes
from tls_certs import make_cert
from vortex_harness import RssSampler, simple_config


@pytest.fixture
def h2_origin():
    origins: list[H2Origin] = []

    def make(**kwargs) -> H2Origin:
        o = H2Origin(**kwargs)
        origins.append(o)
        return o

    yield make
    for o in origins:
        o.kill()


def req(method="GET", target="/", headers=(), body=b""):
    """An HTTP/1.1 request that closes the connection after its answer (exchange() reads until
    the close)."""
    return request_bytes(method, target, [*headers, ("Connection", "close")], body=body)


def _h2c(vortex, origin, cluster="", route="", limits=""):
    extra = "protocol: h2c" + (f", {cluster}" if cluster else "")
    return vortex(simple_config(origin.address, cluster=extra, route=route, limits=limits))


def test_h1_client_get_reaches_h2c_origin_with_pseudo_headers(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin)
    ex = exchange(proxy.port, req("GET", "/a/b?x=1", [("X-Custom", "v"), ("Keep-Alive", "timeout=5"),
                                                     ("Proxy-Connection", "x"), ("TE", "gzip")]),
                  timeout=3)
    resp = ex.first
    assert resp.status == 200, ex.data
    info = resp.json()
    assert info["method"] == "GET"
    assert info["path"] == "/a/b?x=1"
    assert info["authority"] == "test.local"
    assert info["scheme"] == "http"
    names = [n for n, _ in info["headers"]]
    assert "x-custom" in names  # lower-cased
    for forbidden in ("host", "connection", "keep-alive", "te", "transfer-encoding", "upgrade"):
        assert forbidden not in names, info["headers"]
    # The h2 origin sent content-length: the HTTP/1.1 client gets it, not chunked.
    assert resp.framing == "content-length"
    assert origin.connections == 1


def test_te_trailers_is_kept(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin)
    resp = exchange(proxy.port, req("GET", "/", [("TE", "trailers")]), timeout=3).first
    assert ["te", "trailers"] in resp.json()["headers"]


def test_response_without_length_is_chunked_for_h1(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin)
    resp = exchange(proxy.port, req("GET", "/bytes/5000", [("x-no-length", "1")]), timeout=3).first
    assert resp.status == 200
    assert resp.framing == "chunked"
    assert len(resp.body) == 5000


@pytest.mark.parametrize("chunked", [False, True])
def test_request_body_reaches_origin_as_data(vortex, h2_origin, chunked):
    origin = h2_origin()
    proxy = _h2c(vortex, origin)
    body = bytes(range(256)) * 4096  # 1 MiB: more than one stream window
    if chunked:
        payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                           for i in range(0, len(body), 65536)) + b"0\r\nx-sum: 42\r\n\r\n"
        request = req("POST", "/up", [("Transfer-Encoding", "chunked")]) + payload
    else:
        request = req("POST", "/up", body=body)
    resp = exchange(proxy.port, request, timeout=10).first
    assert resp.status == 200, resp
    info = resp.json()
    assert info["body_bytes"] == len(body)
    assert info["body_sha256"] == hashlib.sha256(body).hexdigest()
    if chunked:
        assert info["trailers"] == [["x-sum", "42"]]
    else:
        assert ["content-length", str(len(body))] in info["headers"]


def test_response_trailers_reach_h1_client_as_chunked_trailers(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin)
    # Like gRPC: no content-length, so HTTP/1.1 chunked framing can carry the trailers.
    resp = exchange(proxy.port, req("GET", "/bytes/100", [("x-trailers", "yes"), ("TE", "trailers"),
                                                                    ("x-no-length", "1")]),
                    timeout=3).first
    assert resp.status == 200
    assert resp.framing == "chunked"
    assert len(resp.body) == 100
    assert ("x-checksum", "c0ffee") in [(n.lower(), v) for n, v in resp.trailers]


def test_error_status_from_origin_is_relayed(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin)
    resp = exchange(proxy.port, req("GET", "/", [("x-status", "418")]), timeout=3).first
    assert resp.status == 418


def test_head_request_keeps_length_without_body(vortex, h2_origin):
    origin = h2_origin(handler=lambda req: H2Response(200, [("content-length", "10")], b"", length=False))
    proxy = _h2c(vortex, origin)
    ex = exchange(proxy.port, req("HEAD", "/"), timeout=3, methods=["HEAD"])
    resp = ex.first
    assert resp.status == 200
    assert resp.header("content-length") == "10"
    assert resp.body == b""


def test_many_concurrent_requests_share_one_connection(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin)

    def one(i):
        return exchange(proxy.port, req("GET", f"/n/{i}"), timeout=10).first

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(200)))
    assert all(r is not None and r.status == 200 for r in results)
    assert sorted(r.json()["path"] for r in results) == sorted(f"/n/{i}" for i in range(200))
    assert origin.connections == 1


def test_second_connection_opens_only_at_peer_stream_limit(vortex, h2_origin):
    release = threading.Event()

    def slow(req):
        release.wait(5)
        return h2_echo(req)

    # The origin answers one connection's streams in turn, so it can hold 2 at once only if
    # Vortex opens more connections: with a limit of 2 streams, 5 requests need 3 of them.
    origin = h2_origin(handler=slow, max_concurrent_streams=2)
    proxy = _h2c(vortex, origin)
    with ThreadPoolExecutor(max_workers=5) as pool:
        futures = [pool.submit(exchange, proxy.port, req("GET", f"/{i}"), 10) for i in range(5)]
        time.sleep(1.0)
        release.set()
        results = [f.result().first for f in futures]
    assert all(r.status == 200 for r in results)
    assert origin.connections >= 2


def test_slow_reader_of_large_response_keeps_memory_bounded(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin)
    size = 10 << 20
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        conn.send(request_bytes("GET", f"/bytes/{size}"))
        resp = read_head(conn)
        assert resp.status == 200
        assert resp.header("content-length") == str(size)
        before = proxy.rss()
        got = 0
        digest = hashlib.sha256()
        with RssSampler(proxy.proc.pid) as rss:
            for piece in iter_body(conn, resp):
                got += len(piece)
                digest.update(piece)
                time.sleep(0.002)
    assert got == size
    expected = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    assert digest.hexdigest() == hashlib.sha256(expected).hexdigest()
    # Flow control: Vortex holds about one stream window, never the whole 10 MiB body.
    assert rss.peak - before < 6 << 20, (before, rss.peak)


def test_goaway_mid_load_loses_no_get(vortex, h2_origin):
    origin = h2_origin()
    origin.goaway_after = 7
    proxy = _h2c(vortex, origin)

    def one(i):
        return exchange(proxy.port, req("GET", f"/g/{i}"), timeout=10).first

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(120)))
    statuses = [r.status if r else None for r in results]
    assert statuses == [200] * 120, statuses
    assert origin.connections >= 2  # each GOAWAY made Vortex open a new connection


def test_dead_origin_gives_502_and_counts_against_breaker(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin, cluster="circuit_breaker: { consecutive_failures: 2, open_ms: 60000 }")
    assert exchange(proxy.port, req("GET", "/"), timeout=3).first.status == 200
    origin.kill()
    first = exchange(proxy.port, req("POST", "/", body=b"x"), timeout=5).first
    assert_json_error(first, 502, "Bad Gateway")
    second = exchange(proxy.port, req("POST", "/", body=b"x"), timeout=5).first
    assert_json_error(second, 502, "Bad Gateway")
    third = exchange(proxy.port, req("GET", "/"), timeout=5).first
    assert_json_error(third, 503)  # two failures opened the breaker


def test_origin_closing_mid_response_aborts_the_client(vortex, h2_origin):
    gate = threading.Event()
    origin_holder = {}

    def dying(req):
        threading.Timer(0.3, lambda: origin_holder["o"].kill()).start()
        return H2Response(200, [], b"x" * (32 << 20))

    origin = h2_origin(handler=dying)
    origin_holder["o"] = origin
    proxy = _h2c(vortex, origin)
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        conn.send(request_bytes("GET", "/"))
        resp = read_head(conn)
        assert resp.status == 200
        time.sleep(0.6)
        # Truncated: the connection is closed, never a fake complete body.
        with pytest.raises(AssertionError, match="body bytes missing"):
            for _ in iter_body(conn, resp, timeout=5):
                pass

"""HTTP/2 to the upstreams: clusters with `protocol: h2c` (prior knowledge) and `protocol: h2`
(TLS + ALPN, certificate verified against tls.ca), and HTTP/1.1 over TLS. Real h2 origins
(h2_origins.H2Origin on the `h2` library); clients are raw HTTP/1.1, curl and an h2 client.
Covers translation both ways (pseudo-headers, framing, trailers), multiplexing on one
connection, flow control against a slow reader, GOAWAY and a dying origin."""

from __future__ import annotations

import hashlib
import json
import os
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


def held_until(release: threading.Event, timeout: float = 10):
    """An origin handler that answers once `release` is set (h2_origins serves a connection's
    streams in turn, so each held stream holds its connection)."""

    def handler(req):
        release.wait(timeout)
        return h2_echo(req)

    return handler


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

    # The origin answers one connection's streams in turn, so it can hold 2 at once only if
    # Vortex opens more connections: with a limit of 2 streams, 5 requests need 3 of them.
    origin = h2_origin(handler=held_until(release), max_concurrent_streams=2)
    proxy = _h2c(vortex, origin)
    with ThreadPoolExecutor(max_workers=5) as pool:
        futures = [pool.submit(exchange, proxy.port, req("GET", f"/{i}"), 10) for i in range(5)]
        time.sleep(1.0)
        release.set()
        results = [f.result().first for f in futures]
    assert all(r.status == 200 for r in results)
    assert origin.connections >= 2


def test_a_burst_beyond_a_low_peer_stream_limit_is_spread_over_sessions(vortex, h2_origin):
    """A burst waits on the first, connecting session, which then allows one stream: the rest
    must find room elsewhere at once, not pile onto each next connecting session in turn
    (which ran out of rounds: 502 "upstream allows too few concurrent streams")."""
    burst = 40
    release = threading.Event()

    origin = h2_origin(handler=held_until(release), max_concurrent_streams=1)
    proxy = _h2c(vortex, origin)
    with ThreadPoolExecutor(max_workers=burst) as pool:
        futures = [pool.submit(exchange, proxy.port, req("GET", f"/{i}"), 20) for i in range(burst)]
        deadline = time.monotonic() + 10
        while origin.connections < burst and time.monotonic() < deadline:
            time.sleep(0.02)
        release.set()
        results = [f.result().first for f in futures]
    assert [r.status for r in results] == [200] * burst, [r.body[:120] for r in results if r.status != 200][:2]
    assert origin.connections == burst


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


def test_body_over_max_body_bytes_gets_413_and_resets_the_upstream_stream(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin, limits="max_body_bytes: 1000",
                 cluster="circuit_breaker: { consecutive_failures: 1, open_ms: 60000 }")
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.send(req("POST", "/big", [("Transfer-Encoding", "chunked")]) + b"800\r\n" + b"a" * 2048 + b"\r\n")
        resp = read_head(conn, timeout=5)
    assert resp.status == 413
    deadline = time.monotonic() + 3
    while origin.resets == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert origin.resets == 1  # RST_STREAM(CANCEL): the origin never sees a complete request
    assert origin.request_count == 0
    # The client's 413 did not count against the endpoint (the breaker opens after 1 failure).
    assert exchange(proxy.port, req("GET", "/"), timeout=3).first.status == 200


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
    # 32 MiB cannot get past the flow-control windows (8 MiB at most) while the client does not
    # read: the origin is still sending when it dies, once the client has the head (a kill on a
    # timer raced a slow start under the sanitizers).
    origin = h2_origin(handler=lambda req: H2Response(200, [], b"x" * (32 << 20)))
    proxy = _h2c(vortex, origin)
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        conn.send(request_bytes("GET", "/"))
        resp = read_head(conn)
        assert resp.status == 200
        origin.kill()
        time.sleep(0.6)
        # Truncated: the connection is closed, never a fake complete body.
        with pytest.raises(AssertionError, match="body bytes missing"):
            for _ in iter_body(conn, resp, timeout=5):
                pass


# --- TLS to the upstream: protocol h2 (ALPN h2) and HTTP/1.1 over TLS ---------------------


@pytest.fixture
def upstream_cert(tmp_path):
    return make_cert(tmp_path, "origin", "localhost", ["localhost", "127.0.0.1"])


def _tls_cluster(protocol, ca="", sni="", verify=True):
    parts = []
    if ca:
        parts.append(f'ca: "{ca}"')
    if sni:
        parts.append(f'sni: "{sni}"')
    if not verify:
        parts.append("verify: false")
    return f"protocol: {protocol}, tls: {{ {', '.join(parts)} }}"


@pytest.mark.parametrize("sni", ["", "localhost"])
def test_h2_over_tls_with_verified_certificate(vortex, h2_origin, upstream_cert, sni):
    origin = h2_origin(tls=upstream_cert)
    proxy = vortex(simple_config(origin.address, cluster=_tls_cluster("h2", ca=upstream_cert[0], sni=sni)))
    resp = exchange(proxy.port, req("GET", "/tls", [("x-trailers", "yes"), ("x-no-length", "1")]), timeout=5).first
    assert resp.status == 200, resp.body
    info = resp.json()
    assert info["scheme"] == "https"
    assert info["path"] == "/tls"
    assert ("x-checksum", "c0ffee") in [(n.lower(), v) for n, v in resp.trailers]


def test_h2_over_tls_with_wrong_ca_is_502(vortex, h2_origin, upstream_cert, tmp_path):
    other_ca, _ = make_cert(tmp_path, "other", "localhost", ["localhost", "127.0.0.1"])
    origin = h2_origin(tls=upstream_cert)
    proxy = vortex(simple_config(origin.address, cluster=_tls_cluster("h2", ca=other_ca)))
    body = assert_json_error(exchange(proxy.port, req("GET", "/"), timeout=5).first, 502, "Bad Gateway")
    assert "TLS" in body["message"]
    assert origin.request_count == 0


def test_h2_over_tls_with_wrong_name_is_502(vortex, h2_origin, upstream_cert):
    origin = h2_origin(tls=upstream_cert)
    proxy = vortex(simple_config(origin.address,
                                 cluster=_tls_cluster("h2", ca=upstream_cert[0], sni="not-the-origin.example")))
    assert_json_error(exchange(proxy.port, req("GET", "/"), timeout=5).first, 502, "Bad Gateway")


def test_h2_over_tls_without_verification(vortex, h2_origin, upstream_cert):
    origin = h2_origin(tls=upstream_cert)
    proxy = vortex(simple_config(origin.address, cluster=_tls_cluster("h2", verify=False)))
    assert exchange(proxy.port, req("GET", "/"), timeout=5).first.status == 200


def test_h2_cluster_refuses_a_plaintext_origin(vortex, h2_origin, upstream_cert):
    origin = h2_origin()  # h2c only: the TLS handshake cannot succeed
    proxy = vortex(simple_config(origin.address, cluster=_tls_cluster("h2", verify=False)))
    assert_json_error(exchange(proxy.port, req("GET", "/"), timeout=5).first, 502, "Bad Gateway")


def test_h2_client_to_h2c_upstream(vortex, h2_origin):
    """An h2 client (prior knowledge) through Vortex to an h2c origin: trailers both ways."""
    import h2.config
    import h2.connection
    import h2.events

    origin = h2_origin()
    proxy = _h2c(vortex, origin)
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "POST"), (":scheme", "http"), (":authority", "h2.test"), (":path", "/h2"),
                          ("x-trailers", "yes"), ("te", "trailers")])
    conn.send_data(1, b"abc")
    conn.send_headers(1, [("x-req-trailer", "t1")], end_stream=True)
    sock.sendall(conn.data_to_send())
    headers, body, trailers, ended = None, b"", None, False
    while not ended:
        data = sock.recv(65536)
        assert data, "connection closed"
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                headers = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.TrailersReceived):
                trailers = dict(ev.headers)
            elif isinstance(ev, h2.events.StreamEnded):
                ended = True
        sock.sendall(conn.data_to_send())
    sock.close()
    assert headers[":status"] == "200"
    info = json.loads(body)
    assert info["authority"] == "h2.test"
    assert info["body_bytes"] == 3
    assert info["trailers"] == [["x-req-trailer", "t1"]]
    assert trailers == {"x-checksum": "c0ffee", "x-count": "2"}


class _TlsH1Origin:
    """An HTTP/1.1 origin over TLS (ALPN http/1.1) answering JSON; counts connections."""

    def __init__(self, cert):
        import http.server
        import ssl

        outer = self
        self.connections = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                outer.connections += 1

            def do_GET(self):
                body = json.dumps({"path": self.path, "host": self.headers.get("host")}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
        ctx.set_alpn_protocols(["http/1.1"])
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_http1_over_tls_reuses_one_verified_connection(vortex, upstream_cert):
    origin = _TlsH1Origin(upstream_cert)
    try:
        proxy = vortex(simple_config(origin.address, cluster=_tls_cluster("http1", ca=upstream_cert[0])))
        for i in range(5):
            resp = exchange(proxy.port, req("GET", f"/h1tls/{i}"), timeout=5).first
            assert resp.status == 200, resp.body
            assert resp.json()["path"] == f"/h1tls/{i}"
        assert origin.connections == 1  # keep-alive over TLS
    finally:
        origin.stop()


def test_http1_over_tls_with_wrong_ca_is_502(vortex, upstream_cert, tmp_path):
    other_ca, _ = make_cert(tmp_path, "other", "localhost", ["localhost", "127.0.0.1"])
    origin = _TlsH1Origin(upstream_cert)
    try:
        proxy = vortex(simple_config(origin.address, cluster=_tls_cluster("http1", ca=other_ca)))
        assert_json_error(exchange(proxy.port, req("GET", "/"), timeout=5).first, 502, "Bad Gateway")
    finally:
        origin.stop()


def test_check_refuses_an_unreadable_tls_ca(vortex, tmp_path):
    from vortex_harness import run_cli

    text, *_ = vortex.config(simple_config("127.0.0.1:9", cluster=_tls_cluster("h2", ca=str(tmp_path / "nope.pem"))))
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    got = run_cli("check", "--config", str(path))
    assert got.returncode == 1
    assert "nope.pem" in got.stderr and f"{path}:" in got.stderr, got.stderr


def test_stalled_h2_origin_gets_504_after_timeout_ms(vortex, h2_origin):
    def stall(req):
        if req["path"] == "/stall":
            time.sleep(1.5)
        return h2_echo(req)

    origin = h2_origin(handler=stall)
    proxy = _h2c(vortex, origin, route="timeout_ms: 400")
    start = time.monotonic()
    resp = exchange(proxy.port, req("GET", "/stall"), timeout=5).first
    assert_json_error(resp, 504)
    assert time.monotonic() - start < 1.4
    time.sleep(1.3)
    # The same connection serves the next request (only the stream was cancelled).
    assert exchange(proxy.port, req("GET", "/next"), timeout=5).first.status == 200
    assert origin.connections == 1


def test_idle_h2_connection_is_closed_after_pool_idle_timeout(vortex, h2_origin):
    origin = h2_origin()
    proxy = _h2c(vortex, origin, cluster="pool: { idle_timeout_ms: 200 }")
    assert exchange(proxy.port, req("GET", "/1"), timeout=3).first.status == 200
    assert exchange(proxy.port, req("GET", "/2"), timeout=3).first.status == 200
    assert origin.connections == 1
    time.sleep(0.8)
    assert exchange(proxy.port, req("GET", "/3"), timeout=3).first.status == 200
    assert origin.connections == 2


@pytest.mark.skipif(os.environ.get("VORTEX_SANITIZED") == "1", reason="ASan's quarantine holds freed memory")
def test_idle_pooled_sessions_give_their_buffers_back(vortex, h2_origin):
    """Issue 19: a pooled HTTP/2 session waits between streams without a read buffer, and gives
    back nghttp2's frame buffer and stream table pages a watchdog tick after its last stream."""
    sessions = 100
    release = threading.Event()

    # One stream per connection: `sessions` requests at once need as many sessions.
    origin = h2_origin(handler=held_until(release), max_concurrent_streams=1)
    proxy = _h2c(vortex, origin)
    release.set()
    assert exchange(proxy.port, req("GET", "/warm"), timeout=5).first.status == 200
    release.clear()
    time.sleep(2.5)  # the warm-up's buffers purged (dirty_decay_ms 1000)
    before = proxy.rss()
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        futures = []
        for i in range(sessions):
            # One at a time, so each finds the sessions before it ready and full.
            futures.append(pool.submit(exchange, proxy.port, req("GET", f"/{i}"), 20))
            deadline = time.monotonic() + 5
            while origin.connections < i + 1 and time.monotonic() < deadline:
                time.sleep(0.005)
        release.set()
        results = [f.result().first for f in futures]
    assert [r.status for r in results] == [200] * sessions, [(r.status, r.body[:200]) for r in results if r.status != 200][:2]
    assert origin.connections >= sessions
    time.sleep(3.0)  # a watchdog tick (1 s) after the last stream, then the allocator's purge
    per_session = (proxy.rss() - before) / (origin.connections - 1)
    # Measured: 26 KiB, with the worker's buffer pool and the allocator's caches in it; 71 KiB
    # while every session kept a 32 KiB read buffer and nghttp2's frame buffer pages.
    assert per_session < 40 * 1024, per_session

"""HTTP/1.1 proxying: methods, keep-alive, pipelining, chunked, trailers, Expect, HEAD,
1xx, close-delimited bodies, Upgrade tunnels and the headers of SPEC.md §4."""

import hashlib
import json
import os
import threading
import time

from origins import read_full_request
from rawhttp import RawConnection, curl, header_values, request_bytes
from vortex_harness import simple_config


def test_get_with_httpx_reaches_the_origin_and_returns_its_answer(echo_proxy, http):
    r = http.get(echo_proxy.url + "/hello?x=1")
    assert r.status_code == 200
    assert r.headers["x-origin"] == "echo"
    echo = r.json()
    assert echo["method"] == "GET"
    assert echo["target"] == "/hello?x=1"
    assert echo_proxy.origin.paths() == ["/hello"]


def test_post_with_httpx_delivers_the_body_intact(echo_proxy, http):
    body = os.urandom(300_000)
    r = http.post(echo_proxy.url + "/upload", content=body)
    assert r.status_code == 200
    echo = r.json()
    assert echo["method"] == "POST"
    assert echo["body_bytes"] == len(body)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_get_and_post_with_curl(echo_proxy, tmp_path):
    got = curl("-w", "\n%{http_code}", echo_proxy.url + "/curl-get")
    assert got.returncode == 0, got.stderr
    body, _, code = got.stdout.rpartition(b"\n")
    assert code == b"200"
    assert json.loads(body)["path"] == "/curl-get"

    payload = tmp_path / "payload.bin"
    data = os.urandom(2 * 1024 * 1024)  # over curl's threshold for Expect: 100-continue
    payload.write_bytes(data)
    got = curl("-w", "\n%{http_code}", "--data-binary", f"@{payload}", echo_proxy.url + "/curl-post")
    assert got.returncode == 0, got.stderr
    body, _, code = got.stdout.rpartition(b"\n")
    assert code == b"200"
    echo = json.loads(body)
    assert echo["method"] == "POST"
    assert echo["body_sha256"] == hashlib.sha256(data).hexdigest()


def test_keep_alive_serves_several_requests_on_one_client_connection(echo_proxy):
    with RawConnection(echo_proxy.port) as conn:
        for i in range(5):
            assert conn.send(request_bytes("GET", f"/ka/{i}"))
            resp = conn.read_response()
            assert resp.status == 200
            assert resp.json()["path"] == f"/ka/{i}"
        assert not conn.eof
    assert echo_proxy.origin.request_count == 5


def test_upstream_connection_is_pooled_and_reused_across_client_connections(echo_proxy, http):
    for i in range(5):
        with RawConnection(echo_proxy.port) as conn:
            conn.send(request_bytes("GET", f"/pool/{i}"))
            assert conn.read_response().status == 200
    assert echo_proxy.origin.request_count == 5
    assert echo_proxy.origin.connections == 1


def test_pipelined_requests_are_answered_in_order(echo_proxy):
    batch = (
        request_bytes("GET", "/p1?delay_ms=300")
        + request_bytes("POST", "/p2", body=b"x" * 1000)
        + request_bytes("GET", "/p3")
    )
    with RawConnection(echo_proxy.port) as conn:
        assert conn.send(batch)
        paths = [conn.read_response().json()["path"] for _ in range(3)]
    assert paths == ["/p1", "/p2", "/p3"]


def _chunked(parts, trailers=b""):
    return b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in parts) + b"0\r\n" + trailers + b"\r\n"


def test_chunked_request_body_reaches_the_origin_intact(echo_proxy):
    parts = [b"a", os.urandom(100), os.urandom(5000), os.urandom(70000)]
    head = b"POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    with RawConnection(echo_proxy.port) as conn:
        conn.send(head + _chunked(parts))
        resp = conn.read_response()
    assert resp.status == 200
    echo = resp.json()
    data = b"".join(parts)
    assert echo["body_bytes"] == len(data)
    assert echo["body_sha256"] == hashlib.sha256(data).hexdigest()


def test_request_trailers_reach_the_origin(echo_proxy):
    head = b"POST /trailers HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTrailer: X-Req-Checksum\r\n\r\n"
    with RawConnection(echo_proxy.port) as conn:
        conn.send(head + _chunked([b"hello"], trailers=b"X-Req-Checksum: 42\r\n"))
        resp = conn.read_response()
    assert resp.status == 200
    echo = resp.json()
    assert echo["body_bytes"] == 5
    assert header_values(echo["trailers"], "x-req-checksum") == ["42"]


def test_chunked_response_is_streamed_before_the_origin_finishes(vortex, raw_origin):
    client_saw_first = threading.Event()

    def script(conn, index):
        while read_full_request(conn) is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
            client_saw_first.wait(10)
            conn.send(b"6\r\nsecond\r\n0\r\n\r\n")

    origin = raw_origin(script)
    proxy = vortex(simple_config(origin.address))
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/stream"))
        deadline = time.monotonic() + 5
        while b"first" not in conn.buf and conn._fill(deadline):
            pass
        assert b"first" in conn.buf, f"the first chunk was held back by the proxy: {conn.buf!r}"
        client_saw_first.set()
        resp = conn.read_response()
        assert resp.status == 200
        assert resp.body == b"firstsecond"
        # An unknown-length body framed for keep-alive: the connection serves another request.
        conn.send(request_bytes("GET", "/again"))
        again = conn.read_response()
        assert again.status == 200 and again.body == b"firstsecond"


def test_response_trailers_reach_the_client(vortex, raw_origin):
    def script(conn, index):
        if read_full_request(conn) is None:
            return
        conn.send(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
            + _chunked([b"body"], trailers=b"X-Checksum: abc123\r\n")
        )

    origin = raw_origin(script)
    proxy = vortex(simple_config(origin.address))
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/t", headers=[("TE", "trailers")]))
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.framing == "chunked"
    assert resp.body == b"body"
    assert header_values(resp.trailers, "x-checksum") == ["abc123"]


def test_expect_100_continue_gets_100_before_the_body_then_the_final_answer(echo_proxy):
    body = b"hello world"
    with RawConnection(echo_proxy.port) as conn:
        conn.send(b"POST /expect HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
        interim = conn.read_informational(timeout=5)
        assert interim.status == 100
        conn.send(body)
        resp = conn.read_response()
    assert resp.status == 200
    echo = resp.json()
    assert echo["body_bytes"] == len(body)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_head_answer_has_the_length_but_no_body(echo_proxy):
    with RawConnection(echo_proxy.port) as conn:
        conn.send(request_bytes("HEAD", "/bytes/1234"))
        resp = conn.read_response(method="HEAD")
        assert resp.status == 200
        assert resp.header("content-length") == "1234"
        # Any body bytes would be parsed as the next response and break it.
        conn.send(request_bytes("GET", "/after-head"))
        nxt = conn.read_response()
    assert nxt.status == 200
    assert nxt.json()["path"] == "/after-head"


def test_1xx_from_the_origin_is_forwarded_before_the_final_answer(vortex, raw_origin):
    origin = raw_origin(
        lambda conn, i: read_full_request(conn)
        and conn.send(
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        )
        and conn.read_some()
    )
    proxy = vortex(simple_config(origin.address))
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/hints"))
        resp = conn.read_response()
    assert resp.status == 200
    assert resp.body == b"ok"
    assert [r.status for r in resp.informational] == [103]
    assert resp.informational[0].header("link") == "</style.css>; rel=preload"


def test_close_delimited_origin_response_is_fully_delivered(vortex, raw_origin):
    body = os.urandom(300_000)
    origin = raw_origin(
        lambda conn, i: read_full_request(conn) and conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + body)
    )
    proxy = vortex(simple_config(origin.address))
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/close-delimited"))
        resp = conn.read_response(timeout=10)
    assert resp.status == 200
    assert len(resp.body) == len(body)
    assert resp.body == body


def test_upgrade_tunnels_bytes_both_ways_after_101(vortex, raw_origin):
    from origins import invert, upgrade_echo

    origin = raw_origin(upgrade_echo)
    proxy = vortex(simple_config(origin.address))
    with RawConnection(proxy.port) as conn:
        conn.send(
            b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        resp = conn.read_response()
        assert resp.status == 101
        assert (resp.header("upgrade") or "").lower() == "websocket"
        assert resp.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        assert conn.read_exactly(len(b"hello-from-origin")) == b"hello-from-origin"
        for msg in (b"ping-1", os.urandom(20000), b"ping-3"):
            conn.send(msg)
            assert conn.read_exactly(len(msg), timeout=5) == invert(msg)
    upstream_req = origin._conns[0].upgrade_request
    assert (upstream_req.header("upgrade") or "").lower() == "websocket"
    assert "upgrade" in (upstream_req.header("connection") or "").lower()


def test_forwarding_headers_are_appended_and_request_id_kept(echo_proxy, http):
    r = http.get(
        echo_proxy.url + "/fwd",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Request-Id": "req-abc-123"},
    )
    assert r.status_code == 200
    headers = r.json()["headers"]
    assert ", ".join(header_values(headers, "x-forwarded-for")) == "203.0.113.7, 127.0.0.1"
    assert header_values(headers, "x-forwarded-proto") == ["http"]
    assert "1.1 vortex" in ", ".join(header_values(headers, "via"))
    assert header_values(headers, "x-request-id") == ["req-abc-123"]


def test_forwarding_headers_are_created_and_request_id_generated_when_absent(echo_proxy, http):
    seen_ids = []
    for _ in range(2):
        headers = http.get(echo_proxy.url + "/fwd").json()["headers"]
        assert header_values(headers, "x-forwarded-for") == ["127.0.0.1"]
        assert header_values(headers, "x-forwarded-proto") == ["http"]
        assert header_values(headers, "via") == ["1.1 vortex"]
        ids = header_values(headers, "x-request-id")
        assert len(ids) == 1 and ids[0].strip()
        seen_ids.append(ids[0])
    assert seen_ids[0] != seen_ids[1]


def test_hop_by_hop_request_headers_are_not_forwarded(echo_proxy):
    req = (
        b"GET /hop HTTP/1.1\r\nHost: t\r\n"
        b"Connection: keep-alive, X-Custom-Hop\r\n"
        b"X-Custom-Hop: secret\r\n"
        b"Keep-Alive: timeout=5, max=7\r\n"
        b"Proxy-Connection: keep-alive\r\n"
        b"TE: trailers, gzip\r\n"
        b"Upgrade: foo/1\r\n"
        b"X-End-To-End: kept\r\n\r\n"
    )
    with RawConnection(echo_proxy.port) as conn:
        conn.send(req)
        resp = conn.read_response()
    assert resp.status == 200
    headers = resp.json()["headers"]
    names = {n.lower() for n, _ in headers}
    assert header_values(headers, "x-end-to-end") == ["kept"]
    for hop in ("x-custom-hop", "keep-alive", "proxy-connection", "upgrade"):
        assert hop not in names, f"{hop} was forwarded: {headers}"
    for value in header_values(headers, "connection"):
        assert "x-custom-hop" not in value.lower()
    # TE may only travel as "trailers".
    assert all(v.strip().lower() == "trailers" for v in header_values(headers, "te")), headers


def test_hop_by_hop_response_headers_are_not_forwarded(vortex, raw_origin):
    def script(conn, index):
        while read_full_request(conn) is not None:
            conn.send(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                b"Connection: X-Resp-Hop\r\nX-Resp-Hop: secret\r\n"
                b"Keep-Alive: timeout=99, max=77\r\nProxy-Connection: keep-alive\r\n"
                b"X-End-To-End: kept\r\n\r\nok"
            )

    origin = raw_origin(script)
    proxy = vortex(simple_config(origin.address))
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/hop"))
        resp = conn.read_response()
    assert resp.status == 200 and resp.body == b"ok"
    assert resp.header("x-end-to-end") == "kept"
    assert resp.header("x-resp-hop") is None
    assert resp.header("proxy-connection") is None
    assert "timeout=99" not in (resp.header("keep-alive") or "")
    assert "x-resp-hop" not in (resp.header("connection") or "").lower()

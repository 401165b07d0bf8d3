"""HTTP/2 in front: h2 over TLS (ALPN), h2c by prior knowledge and by Upgrade, the same
pipeline as HTTP/1.1 (routing, bodies, errors), many streams on one connection, the stream
limit, trailers, and flow control that carries backpressure both ways."""

import hashlib
import json
import os
import struct
import subprocess
import time

import pytest

from h2frames import (ACK, DATA, END_HEADERS, END_STREAM, GOAWAY, HEADERS, RST_STREAM, SETTINGS, WINDOW_UPDATE,
                      H2Conn, frame, request_headers, settings)
from origins import PATTERN, _response, pattern_sha256
from rawhttp import curl, header_values
from tls_certs import make_cert, tls_listener
from vortex_harness import RssSampler, free_port, simple_config


@pytest.fixture
def cert(tmp_path):
    return make_cert(tmp_path, "h2", "localhost", ["localhost", "127.0.0.1"])


def _proxy(vortex, origin_address, cert, *, limits="", extra=""):
    """A proxy with a plain listener (h1 + h2c) and a TLS one (h2 + http/1.1)."""
    plain, secure = free_port(), free_port()
    listeners = (f'listeners:\n  - {{ name: plain, address: "127.0.0.1:{plain}" }}\n'
                 + tls_listener(secure, [(cert[0], cert[1], ["*"])]).replace("listeners:\n", ""))
    proxy = vortex(listeners + simple_config(origin_address, limits=limits, extra=extra), port=plain, listeners=2)
    proxy.tls_port = secure
    return proxy


@pytest.fixture
def h2_proxy(vortex, echo_origin, cert):
    proxy = _proxy(vortex, echo_origin.address, cert)
    proxy.origin = echo_origin
    return proxy


MODES = {
    "h2": lambda p: ["-k", "--http2", f"https://127.0.0.1:{p.tls_port}"],
    "h2c-prior": lambda p: ["--http2-prior-knowledge", f"http://127.0.0.1:{p.port}"],
    "h2c-upgrade": lambda p: ["--http2", f"http://127.0.0.1:{p.port}"],
    "h1": lambda p: ["--http1.1", f"http://127.0.0.1:{p.port}"],
    "https-h1": lambda p: ["-k", "--http1.1", f"https://127.0.0.1:{p.tls_port}"],
}


def _curl(proxy, mode, path, *args):
    opts = MODES[mode](proxy)
    url = opts.pop() + path
    got = curl(*opts, "-w", "\n%{http_version} %{http_code}", *args, url)
    assert got.returncode == 0, got.stderr
    body, _, tail = got.stdout.rpartition(b"\n")
    version, code = tail.decode().split()
    return version, int(code), body


@pytest.mark.parametrize("mode", list(MODES))
def test_get_reaches_the_origin_over_every_protocol(h2_proxy, mode):
    version, code, body = _curl(h2_proxy, mode, "/v?mode=" + mode)
    assert code == 200
    assert version == ("2" if mode.startswith("h2") else "1.1")
    echo = json.loads(body)
    assert echo["target"] == "/v?mode=" + mode
    assert header_values(echo["headers"], "host") == [f"127.0.0.1:{h2_proxy.tls_port if 'h2' == mode or mode == 'https-h1' else h2_proxy.port}"]
    assert header_values(echo["headers"], "x-forwarded-proto") == (["https"] if mode in ("h2", "https-h1") else ["http"])
    assert header_values(echo["headers"], "via") == ["1.1 vortex"]


@pytest.mark.parametrize("mode", ["h2", "h2c-prior"])
def test_post_body_arrives_intact_over_h2(h2_proxy, mode, tmp_path):
    data = os.urandom(1_500_000)
    payload = tmp_path / "p.bin"
    payload.write_bytes(data)
    _, code, body = _curl(h2_proxy, mode, "/upload", "--data-binary", f"@{payload}")
    assert code == 200
    echo = json.loads(body)
    assert echo["body_bytes"] == len(data)
    assert echo["body_sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("mode", ["h2", "h2c-prior"])
def test_large_download_over_h2_is_intact(h2_proxy, mode):
    _, code, body = _curl(h2_proxy, mode, "/bytes/5000000?chunked=1")
    assert code == 200
    assert hashlib.sha256(body).hexdigest() == pattern_sha256(5_000_000)


@pytest.mark.parametrize("mode", ["h2", "h2c-prior"])
def test_errors_and_direct_responses_keep_their_spec_bodies_over_h2(vortex, cert, mode):
    plain, secure = free_port(), free_port()
    text = (f'listeners:\n  - {{ name: plain, address: "127.0.0.1:{plain}" }}\n'
            + tls_listener(secure, [(cert[0], cert[1], ["*"])]).replace("listeners:\n", "") + """
routes:
  - { name: hello, match: { path_exact: /hello }, direct_response: { status: 201, body: "hi\\n", content_type: text/plain } }
  - { name: down, match: { path_prefix: /down }, cluster: dead }
clusters:
  - { name: dead, endpoints: [{ address: "127.0.0.1:1" }] }
""")
    proxy = vortex(text, port=plain, listeners=2)
    proxy.tls_port = secure
    version, code, body = _curl(proxy, mode, "/hello")
    assert (version, code, body) == ("2", 201, b"hi\n")
    _, code, body = _curl(proxy, mode, "/nowhere")
    assert code == 404 and json.loads(body) == {"error": "Not Found", "message": "no route"}
    _, code, body = _curl(proxy, mode, "/down")
    assert code in (502, 503) and "error" in json.loads(body)


def test_an_upstream_that_never_answers_gets_504_over_h2_while_other_streams_flow(
        vortex, raw_origin, echo_origin, cert):
    # The streams' deadlines are kept by their connection's watchdog: a stalled stream times
    # out on time and its neighbours on the same connection are not held up.
    from origins import replying
    stalled = raw_origin(replying(b"", then="hold"))
    plain = free_port()
    text = f'''listeners:
  - {{ name: plain, address: "127.0.0.1:{plain}" }}
routes:
  - {{ name: stall, match: {{ path_prefix: /stall }}, cluster: stalled, timeout_ms: 500 }}
  - {{ name: echo, match: {{ path_prefix: / }}, cluster: echo }}
clusters:
  - {{ name: stalled, endpoints: [{{ address: "{stalled.address}" }}] }}
  - {{ name: echo, endpoints: [{{ address: "{echo_origin.address}" }}] }}
'''
    proxy = vortex(text, port=plain)
    base = f"http://127.0.0.1:{plain}"
    started = time.monotonic()
    got = curl("--http2-prior-knowledge", "-w", "\n%{http_code}\n", f"{base}/stall",
               f"{base}/a", f"{base}/b", "-Z", "--parallel-immediate")
    elapsed = time.monotonic() - started
    assert got.returncode == 0, got.stderr
    codes = [line for line in got.stdout.split(b"\n") if line in (b"200", b"504")]
    assert sorted(codes) == [b"200", b"200", b"504"], got.stdout
    assert b'"Gateway Timeout"' in got.stdout
    assert 0.4 <= elapsed < 3.0, f"504 after {elapsed:.2f}s with timeout_ms 500"


@pytest.mark.parametrize("then", ["reset", "close"])
def test_upstream_gone_mid_body_resets_the_h2_stream_at_once(vortex, raw_origin, then):
    # The HTTP/2 twin of test_origin_reset_mid_response_cuts_the_client_connection: the 200
    # head and some body went out, the rest never will, so the client must learn it now (a
    # RST_STREAM with an error), not after the idle timeout (default 60 s) of the stream.
    from origins import replying
    origin = raw_origin(replying(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000, then=then))
    proxy = vortex(simple_config(origin.address))
    conn = H2Conn(proxy.port)
    try:
        conn.send(conn.headers(1, request_headers(proxy.port, "/midway")))
        started = time.monotonic()
        heads, body, _, reset = conn.response(1, timeout=3)
        elapsed = time.monotonic() - started
    finally:
        conn.close()
    assert dict(heads)[":status"] == "200"
    assert len(body) < 100000, "a truncated upstream body was presented as complete"
    assert reset not in (None, 0), f"the stream ended with {'END_STREAM' if reset is None else 'NO_ERROR'}"
    assert elapsed < 2.0, f"RST_STREAM after {elapsed:.1f} s"


def test_many_concurrent_streams_on_one_connection_with_h2load(h2_proxy):
    got = subprocess.run(["h2load", "-n", "400", "-c", "1", "-m", "50", f"http://127.0.0.1:{h2_proxy.port}/many"],
                         capture_output=True, text=True, timeout=60)
    assert "400 succeeded" in got.stdout, got.stdout + got.stderr
    assert "400 2xx" in got.stdout
    got = subprocess.run(["h2load", "-n", "400", "-c", "2", "-m", "20", f"https://127.0.0.1:{h2_proxy.tls_port}/many"],
                         capture_output=True, text=True, timeout=60)
    assert "400 succeeded" in got.stdout, got.stdout + got.stderr


def _run_streams(conn: H2Conn, port: int, first: int, count: int, batch: int = 50) -> int:
    """`count` GETs of /d on `conn`, `batch` at a time (under the stream limit), each read to its
    END_STREAM without decoding (the direct response's head is indexed after the first); returns
    the next stream id."""
    block, buf = None, b""
    sid = first
    for _ in range(count // batch):
        if block is None:  # the encoder indexes the fields once; later blocks are the same bytes
            conn.send(conn.headers(sid, request_headers(port, "/d")))
            block = conn.encoder.encode(request_headers(port, "/d"))
            sids = range(sid + 2, sid + 2 * batch, 2)
        else:
            sids = range(sid, sid + 2 * batch, 2)
        conn.send(b"".join(frame(HEADERS, END_STREAM | END_HEADERS, i, block) for i in sids))
        ended = 0
        while ended < batch:
            data = conn.sock.recv(1 << 16)
            assert data, f"connection closed at stream {sid}"
            buf += data
            while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
                n, ftype, flags = int.from_bytes(buf[:3], "big"), buf[3], buf[4]
                assert ftype not in (RST_STREAM, GOAWAY), f"frame type {ftype} at stream {sid}"
                if ftype == SETTINGS and not flags & ACK:
                    conn.send(frame(SETTINGS, ACK, 0))
                elif ftype in (HEADERS, DATA) and flags & END_STREAM:
                    ended += 1
                buf = buf[9 + n :]
        sid += 2 * batch
    return sid


@pytest.mark.skipif(os.environ.get("VORTEX_SANITIZED") == "1", reason="ASan's quarantine holds freed memory")
def test_a_long_lived_h2_connection_does_not_grow_with_the_streams_it_carried(vortex):
    """nghttp2 kept every closed stream of a server session (~250 bytes each) until the
    connection closed: the fault soak's RSS drift under h2load. jemalloc returns freed pages at
    once here, so RSS follows live memory; 30,000 streams kept would be over 7 MiB."""
    proxy = vortex('routes:\n  - { name: d, match: { path_exact: /d }, direct_response: { status: 200, body: "d" } }\n',
                   env={"MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"})
    conn = H2Conn(proxy.port)
    try:
        conn.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30)))
        sid = _run_streams(conn, proxy.port, 1, 5000)  # warm-up: buffers, caches, spare streams
        before = proxy.rss()
        _run_streams(conn, proxy.port, sid, 30000)
        growth = proxy.rss() - before
        assert growth < 2 << 20, f"RSS grew by {growth / 2**20:.1f} MiB over 30,000 streams on one connection"
    finally:
        conn.close()


def test_nghttp_sees_the_stream_limit_in_settings(h2_proxy):
    got = subprocess.run(["nghttp", "-nv", f"http://127.0.0.1:{h2_proxy.port}/n"], capture_output=True, text=True, timeout=30)
    assert "SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100" in got.stdout, got.stdout
    assert ":status: 200" in got.stdout


def test_streams_over_the_limit_are_refused(h2_proxy):
    h2_proxy.origin.release.clear()
    conn = H2Conn(h2_proxy.port)
    try:
        batch = b"".join(conn.headers(1 + 2 * i, request_headers(h2_proxy.port, "/hold?hold=1")) for i in range(101))
        conn.send(batch)
        refused = None
        deadline = time.monotonic() + 10
        while refused is None and time.monotonic() < deadline:
            f = conn.read_frame(5)
            assert f is not None, "connection ended"
            if f[0] == RST_STREAM:
                refused = (f[2], struct.unpack(">I", f[3])[0])
        assert refused == (201, 7)  # the 101st stream: REFUSED_STREAM
        h2_proxy.origin.release.set()
        ended = set()
        while len(ended) < 100:
            f = conn.read_frame(10)
            assert f is not None, f"only {len(ended)} of the 100 admitted streams ended"
            if f[0] in (HEADERS, DATA) and f[1] & END_STREAM:
                ended.add(f[2])
    finally:
        h2_proxy.origin.release.set()
        conn.close()


def _trailer_handler(server, req, conn):
    body = json.dumps({"ok": True}).encode()
    head = _response(200, "OK", [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"), ("Trailer", "x-checksum")])
    conn.send(head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\nx-checksum: abc123\r\nx-other: 1\r\n\r\n")
    return True


def test_trailers_from_an_http1_origin_reach_an_h2_client(vortex, origin, cert):
    o = origin("trailers", _trailer_handler)
    proxy = _proxy(vortex, o.address, cert)
    conn = H2Conn(proxy.port)
    try:
        conn.send(conn.headers(1, request_headers(proxy.port, "/t", extra=[("te", "trailers")])))
        heads, body, trailers, rst = conn.response(1)
        assert rst is None
        assert (":status", "200") in heads
        assert json.loads(body) == {"ok": True}
        assert ("x-checksum", "abc123") in trailers
    finally:
        conn.close()


def test_request_trailers_reach_the_origin(h2_proxy):
    conn = H2Conn(h2_proxy.port)
    try:
        conn.send(conn.headers(1, request_headers(h2_proxy.port, "/rt", "POST"), end_stream=False)
                  + frame(DATA, 0, 1, b"hello")
                  + conn.headers(1, [("x-sum", "42")], end_stream=True))
        heads, body, _, rst = conn.response(1)
        assert rst is None and (":status", "200") in heads
        echo = json.loads(body)
        assert echo["body_bytes"] == 5
        assert ["x-sum", "42"] in [list(t) for t in echo["trailers"]]
    finally:
        conn.close()


def test_a_slow_h2_client_does_not_make_vortex_buffer_the_whole_body(h2_proxy):
    """Backpressure downstream: the client opens no window beyond the first 64 KiB, so the
    upstream read must stop; Vortex's memory stays flat while 100 MB wait at the origin."""
    size = 100_000_000
    conn = H2Conn(h2_proxy.port)
    try:
        conn.send(conn.headers(1, request_headers(h2_proxy.port, f"/bytes/{size}")))
        got = 0
        with RssSampler(h2_proxy.pid) as rss:
            before = h2_proxy.rss()
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                f = conn.read_frame(0.2)
                if f and f[0] == DATA:
                    got += len(f[3])
            assert got <= 65535  # exactly the initial window, nothing more
            assert rss.peak - before < 30_000_000
        # Now open the windows and read the rest: every byte arrives, in order.
        from origins import generate
        expected = hashlib.sha256()
        for part in generate(size):
            expected.update(part)
        sha = hashlib.sha256(b"".join(f[3] for f in conn.frames if f[0] == DATA and f[2] == 1))
        conn.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30))
                  + frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", (1 << 31) - 1 - 65535)))
        total = got
        while total < size:
            f = conn.read_frame(10)
            assert f is not None, f"stalled at {total}"
            if f[0] == DATA and f[2] == 1:
                sha.update(f[3])
                total += len(f[3])
        assert total == size
        assert sha.hexdigest() == expected.hexdigest()
    finally:
        conn.close()


def test_a_slow_upstream_reader_makes_the_h2_client_wait(vortex, raw_origin, cert):
    """Backpressure upstream: an origin that reads nothing; the client's DATA beyond the
    windows is not acknowledged, so it cannot push the whole upload into Vortex."""
    import socket as _s
    import threading
    stop = threading.Event()

    def never_read(conn, _i):
        stop.wait(20)

    o = raw_origin(never_read)
    proxy = _proxy(vortex, o.address, cert)
    conn = H2Conn(proxy.port)
    try:
        conn.send(conn.headers(1, request_headers(proxy.port, "/up", "POST"), end_stream=False))
        sent = 0
        chunk = b"x" * 16384
        conn.sock.settimeout(0.5)
        # The client may send only what the windows allow: stream 64 KiB, connection 1 MiB.
        while sent < 8 * 1024 * 1024:
            try:
                conn.sock.sendall(frame(DATA, 0, 1, chunk))
            except (_s.timeout, OSError):
                break
            sent += len(chunk)
        time.sleep(0.5)
        updates = [f for f in (conn.read_frame(0.5) for _ in range(20)) if f and f[0] == WINDOW_UPDATE and f[2] == 1]
        acked = sum(struct.unpack(">I", f[3])[0] for f in updates)
        # Whatever the kernel buffers accepted, Vortex acknowledged at most the stream window
        # plus what the upstream socket buffers took.
        assert acked < 8 * 1024 * 1024
        assert proxy.proc.poll() is None
    finally:
        stop.set()
        conn.close()


def test_a_bad_chunk_size_mid_body_resets_the_h2_stream_at_once(vortex, raw_origin):
    from h2frames import INTERNAL_ERROR, H2Conn, request_headers
    from origins import replying

    origin = raw_origin(replying(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 b"3e8\r\n" + b"x" * 1000 + b"\r\nzz\r\n", then="hold"))
    proxy = vortex(simple_config(origin.address))  # idle_timeout_ms: the default 60 s
    conn = H2Conn(proxy.port)
    try:
        start = time.monotonic()
        conn.send(conn.headers(1, request_headers(proxy.port, "/midway")))
        heads, body, _, rst = conn.response(1, timeout=10)
        # The head may or may not be out before the reset; the stream must not look complete.
        assert rst == INTERNAL_ERROR, f"the stream ended with {rst} after {heads} and {len(body)} bytes"
        assert time.monotonic() - start < 5
    finally:
        conn.close()

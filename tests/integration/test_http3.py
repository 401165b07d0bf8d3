"""HTTP/3 in front (SPEC.md §2 listeners[].http3, §4 Alt-Svc): the real binary serving real
QUIC clients — tests/h3client (quic-go's http3.RoundTripper, built here from Debian's Go
packages) and ngtcp2's gtlsclient. GET and POST through the same pipeline as HTTP/1.1 and
HTTP/2 (routing, error bodies, limits, rate limits), bodies byte for byte, many streams on one
connection, several workers, packet loss and reordering, a client that changes its address mid-connection,
and the stateless answers (version negotiation, stateless reset) on raw UDP."""

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from origins import closed_port, pattern_sha256
from tls_certs import make_cert, tls_listener
from vortex_harness import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def h3client(tmp_path_factory):
    """Builds tests/h3client offline (GOPATH=/usr/share/gocode GO111MODULE=off)."""
    if prebuilt := os.environ.get("VORTEX_H3CLIENT"):
        return prebuilt
    if not shutil.which("go"):
        pytest.fail("no `go`: run scripts/bootstrap.sh (golang-go, golang-github-lucas-clemente-quic-go-dev)")
    out = tmp_path_factory.mktemp("h3client") / "h3client"
    env = dict(os.environ, GOPATH="/usr/share/gocode", GO111MODULE="off", GOFLAGS="-mod=mod")
    env.pop("GOFLAGS")
    got = subprocess.run(["go", "build", "-o", str(out), "."], cwd=REPO / "tests" / "h3client", env=env,
                         capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr
    return str(out)


@pytest.fixture
def cert(tmp_path):
    folder = tmp_path / "certs"
    folder.mkdir()
    return make_cert(folder, "h3", "localhost", ["localhost", "127.0.0.1"])


def h3_listener(port, cert):
    return tls_listener(port, [(cert[0], cert[1], ["*"])]) + "    http3: true\n"


def routes(origin_address, extra_routes="", cluster_extra=""):
    return (
        "routes:\n"
        + extra_routes
        + '  - { name: r, match: { path_prefix: "/" }, cluster: c }\n'
        "clusters:\n"
        f'  - {{ name: c, endpoints: [{{ address: "{origin_address}" }}]{cluster_extra} }}\n'
    )


def run_h3(client, url, *args, timeout=120):
    got = subprocess.run([client, *args, url], capture_output=True, text=True, timeout=timeout)
    assert got.stdout, f"h3client printed nothing (rc {got.returncode}): {got.stderr[-2000:]}"
    return json.loads(got.stdout.splitlines()[-1])


def field(result, name):
    for key, values in (result.get("headers") or {}).items():
        if key.lower() == name.lower():
            return values[0]
    return None


@pytest.fixture
def h3_proxy(vortex, echo_origin, cert):
    port = free_port()
    proxy = vortex(h3_listener(port, cert) + routes(echo_origin.address), port=port)
    proxy.h3 = f"https://127.0.0.1:{port}"
    return proxy


def test_get_over_http3_reaches_the_origin_with_headers_both_ways(h3_proxy, h3client):
    got = run_h3(h3client, h3_proxy.h3 + "/hello?x=1", "-show-body", "-H", "X-Test: forty-two")
    assert got["status"] == 200, got
    assert got["proto"] == "HTTP/3.0"
    assert field(got, "x-origin") == "echo"  # the origin's response field came through
    echo = json.loads(got["body"])
    assert echo["method"] == "GET" and echo["target"] == "/hello?x=1"
    headers = {k.lower(): v for k, v in echo["headers"]}
    assert headers["x-test"] == "forty-two"
    assert headers["x-forwarded-proto"] == "https"
    assert headers["host"] == "127.0.0.1:" + str(h3_proxy.port)


def test_post_4_mib_reaches_the_origin_byte_for_byte_and_a_4_mib_download_comes_back(h3_proxy, h3client):
    n = 4 << 20
    up = run_h3(h3client, h3_proxy.h3 + "/upload", "-X", "POST", "-body-size", str(n), "-show-body")
    assert up["status"] == 200, up
    echo = json.loads(up["body"])
    assert echo["body_bytes"] == n
    assert echo["body_sha256"] == up["sent_sha256"]
    down = run_h3(h3client, h3_proxy.h3 + f"/bytes/{n}")
    assert down["status"] == 200 and down["body_len"] == n
    assert down["body_sha256"] == pattern_sha256(n)


@pytest.mark.slow
def test_64_mib_both_ways_byte_for_byte(h3_proxy, h3client):
    n = 64 << 20
    up = run_h3(h3client, h3_proxy.h3 + "/upload", "-X", "POST", "-body-size", str(n), "-show-body", timeout=300)
    assert up["status"] == 200, up
    echo = json.loads(up["body"])
    assert echo["body_bytes"] == n and echo["body_sha256"] == up["sent_sha256"]
    down = run_h3(h3client, h3_proxy.h3 + f"/bytes/{n}", timeout=300)
    assert down["body_len"] == n and down["body_sha256"] == pattern_sha256(n)


def test_many_concurrent_streams_on_one_connection_all_complete(h3_proxy, h3client, echo_origin):
    # 300 requests, 60 at a time: more than the 100 streams the server allows at once over the
    # connection's life, so MAX_STREAMS must keep being extended.
    got = run_h3(h3client, h3_proxy.h3 + "/many", "-n", "300", "-c", "60")
    assert not got["errors"] and got["statuses"] == {"200": 300}, got


def test_spec_error_bodies_over_http3(vortex, echo_origin, cert, h3client):
    port = free_port()
    dead = f"127.0.0.1:{closed_port()}"
    text = (
        h3_listener(port, cert)
        + "limits: { max_body_bytes: 1000 }\n"
        + "rate_limits:\n  policies:\n    - { name: p, key: client_ip, rate: 1, period_ms: 60000, burst: 0 }\n"
        + "routes:\n"
        + '  - { name: limited, match: { path_prefix: "/limited" }, cluster: c, rate_limit: p }\n'
        + '  - { name: dead, match: { path_prefix: "/dead" }, cluster: d }\n'
        + '  - { name: r, match: { path_prefix: "/api" }, cluster: c }\n'
        + "clusters:\n"
        + f'  - {{ name: c, endpoints: [{{ address: "{echo_origin.address}" }}] }}\n'
        + f'  - {{ name: d, endpoints: [{{ address: "{dead}" }}], circuit_breaker: {{ consecutive_failures: 1, open_ms: 60000 }} }}\n'
    )
    proxy = vortex(text, port=port)
    base = f"https://127.0.0.1:{port}"

    def error(path, *args):
        got = run_h3(h3client, base + path, "-show-body", *args)
        return got["status"], json.loads(got["body"]), got

    status, body, _ = error("/nowhere")
    assert (status, body) == (404, {"error": "Not Found", "message": "no route"})
    status, body, _ = error("/api/up", "-X", "POST", "-body-size", "5000")
    assert status == 413 and body["error"] == "Content Too Large"
    assert run_h3(h3client, base + "/limited")["status"] == 200
    status, body, got = error("/limited")
    assert status == 429 and body["error"] == "Rate limit exceeded"
    assert field(got, "retry-after") is not None
    status, body, _ = error("/dead")
    assert status == 502
    status, body, _ = error("/dead")
    assert (status, body) == (503, {"error": "Service Unavailable",
                                    "message": "Circuit breaker open or all backend nodes are offline."})


def test_tcp_responses_of_an_http3_listener_carry_alt_svc(h3_proxy):
    for http2 in (False, True):
        with httpx.Client(verify=False, http2=http2, trust_env=False, timeout=10) as client:
            resp = client.get(f"https://127.0.0.1:{h3_proxy.port}/alt")
            assert resp.status_code == 200
            assert resp.headers["alt-svc"] == f'h3=":{h3_proxy.port}"'
            resp = client.get(f"https://127.0.0.1:{h3_proxy.port}/alt?status=404")
            assert resp.headers["alt-svc"] == f'h3=":{h3_proxy.port}"'


def test_tcp_responses_of_a_listener_without_http3_carry_no_alt_svc(vortex, echo_origin, cert):
    port = free_port()
    proxy = vortex(tls_listener(port, [(cert[0], cert[1], ["*"])]) + routes(echo_origin.address), port=port)
    with httpx.Client(verify=False, trust_env=False, timeout=10) as client:
        assert "alt-svc" not in client.get(f"https://127.0.0.1:{proxy.port}/plain").headers


def worker_cpu_ns(pid):
    """Time on CPU (ns, /proc schedstat) of each worker thread ("vortex-wN") of `pid`."""
    spent = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            schedstat = (task / "schedstat").read_text()
        except OSError:
            continue
        if name.startswith("vortex-w"):
            spent[name] = int(schedstat.split()[0])
    return spent


def test_several_workers_serve_many_http3_connections(vortex, echo_origin, cert, h3client):
    port = free_port()
    proxy = vortex(h3_listener(port, cert) + routes(echo_origin.address), port=port, workers=4)
    before = worker_cpu_ns(proxy.pid)
    assert len(before) == 4, before
    results = []

    def one(i):
        results.append(run_h3(h3client, f"https://127.0.0.1:{port}/conn{i}", "-n", "100", "-c", "5"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    for got in results:
        assert not got["errors"] and got["statuses"] == {"200": 100}, got
    # Only QUIC ran meanwhile: the workers that spent CPU are the ones that served it. The 12
    # connections' 4-tuples hash to several workers (all on one: 4 * 4**-12), and each
    # connection's packets stay on the worker that took it.
    after = worker_cpu_ns(proxy.pid)
    spent = {name: after[name] - before[name] for name in before}
    # An idle worker spends well under 1 ms here (a 200 ms housekeeping tick).
    busy = [name for name, ns in spent.items() if ns >= max(5_000_000, sum(spent.values()) // 20)]
    assert len(busy) >= 2, spent
    # TCP still served by every worker beside it.
    with httpx.Client(verify=False, trust_env=False, timeout=10) as client:
        assert client.get(f"https://127.0.0.1:{proxy.port}/tcp").status_code == 200


def gtlsclient(port, *args, paths=("/g",)):
    if not shutil.which("gtlsclient"):
        pytest.fail("no gtlsclient: run scripts/bootstrap.sh (ngtcp2-client)")
    urls = [f"https://127.0.0.1:{port}{p}" for p in paths]
    got = subprocess.run(["gtlsclient", "--exit-on-all-streams-close", "--no-quic-dump", "--timeout=20s", *args,
                          "127.0.0.1", str(port), *urls], capture_output=True, timeout=60)
    # gtlsclient always exits 0: the statuses are in its HTTP dump.
    return re.findall(rb"\[:status: (\d+)\]", got.stdout + got.stderr)


def test_gtlsclient_smoke(h3_proxy):
    assert gtlsclient(h3_proxy.port) == [b"200"]


def test_every_request_completes_despite_20_percent_packet_loss_both_ways(h3_proxy):
    statuses = gtlsclient(h3_proxy.port, "-t", "0.2", "-r", "0.2", "-n", "20")
    assert statuses == [b"200"] * 20


def test_a_client_that_changes_its_address_keeps_its_connection(h3_proxy):
    # The client moves to a new local port after 300 ms; its requests leave after 600 ms, so
    # they travel the new path (PATH_CHALLENGE, then the answers on it).
    statuses = gtlsclient(h3_proxy.port, "--change-local-addr=300ms", "--delay-stream=600ms", "-n", "3")
    assert statuses == [b"200"] * 3


def test_a_key_update_after_the_handshake_keeps_the_connection_serving(h3_proxy):
    # The TLS session is freed once the handshake completed (issue 19): a key update (RFC 9001
    # §6) must not need it. The client updates its keys 300 ms in, its requests leave after
    # 600 ms under the new keys, and the answers come back under ours.
    statuses = gtlsclient(h3_proxy.port, "--key-update=300ms", "--delay-stream=600ms", "-n", "3")
    assert statuses == [b"200"] * 3


def _udp(port, packet):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(packet, ("127.0.0.1", port))
        return s.recvfrom(65536)[0]


def test_unknown_version_gets_version_negotiation_listing_v1(h3_proxy):
    dcid, scid = os.urandom(8), os.urandom(8)
    # A long-header Initial of an unknown version, padded to 1200 bytes as clients must.
    packet = bytes([0xC0]) + struct.pack(">I", 0x1A2A3A4A) + bytes([8]) + dcid + bytes([8]) + scid
    packet += b"\0" * (1200 - len(packet))
    answer = _udp(h3_proxy.port, packet)
    assert answer[0] & 0x80 and answer[1:5] == b"\0\0\0\0"  # version 0: negotiation
    assert answer[5] == 8 and answer[6:14] == scid  # echoes our SCID as its DCID
    assert answer[15:23] == dcid
    assert b"\0\0\0\x01" in answer[23:]  # QUIC v1 offered


def test_short_header_packet_for_an_unknown_connection_gets_a_stateless_reset(h3_proxy):
    packet = bytes([0x40]) + os.urandom(18) + os.urandom(80)
    answer = _udp(h3_proxy.port, packet)
    assert answer[0] & 0xC0 == 0x40  # looks like a short-header packet
    assert 21 <= len(answer) < len(packet)  # smaller than its trigger (RFC 9000 §10.3)


def test_shutdown_lets_a_request_in_flight_over_http3_finish_then_exits(h3_proxy, h3client, echo_origin):
    echo_origin.release.clear()
    result = {}

    def held():
        result["got"] = run_h3(h3client, h3_proxy.h3 + "/held?hold=1", "-show-body")

    t = threading.Thread(target=held)
    t.start()
    assert echo_origin.held.wait(10), "the request never reached the origin"
    h3_proxy.signal()  # SIGTERM: GOAWAY, the stream in flight finishes, then CONNECTION_CLOSE
    echo_origin.release.set()
    t.join(30)
    assert result["got"]["status"] == 200, result
    assert json.loads(result["got"]["body"])["target"] == "/held?hold=1"
    assert h3_proxy.wait_exit(15) == 0


def test_header_section_over_max_header_bytes_gets_431_and_the_connection_lives_on(vortex, echo_origin, cert, h3client):
    port = free_port()
    vortex(h3_listener(port, cert) + "limits: { max_header_bytes: 4096 }\n" + routes(echo_origin.address), port=port)
    got = run_h3(h3client, f"https://127.0.0.1:{port}/big", "-show-body", "-H", "X-Big: " + "b" * 8000)
    assert got["status"] == 431, got
    assert json.loads(got["body"])["error"] == "Request Header Fields Too Large"
    assert run_h3(h3client, f"https://127.0.0.1:{port}/small")["status"] == 200


def _trailer_handler(server, req, conn):
    body = json.dumps({"ok": True}).encode()
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Trailer: x-checksum\r\n\r\n")
    conn.send(head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\nx-checksum: abc123\r\n\r\n")
    return True


def test_response_trailers_from_an_http1_origin_reach_the_http3_client(vortex, origin, cert):
    o = origin("trailers", _trailer_handler)
    port = free_port()
    vortex(h3_listener(port, cert) + routes(o.address), port=port)
    got = subprocess.run(["gtlsclient", "--exit-on-all-streams-close", "--no-quic-dump", "--timeout=20s",
                          "127.0.0.1", str(port), f"https://127.0.0.1:{port}/t"], capture_output=True, timeout=60)
    dump = got.stdout + got.stderr
    assert b"[:status: 200]" in dump
    assert b"[x-checksum: abc123]" in dump  # after the body: a trailer section


def _initial(dcid):
    """The header of a QUIC v1 Initial, padded to 1200 bytes; its payload does not decrypt, but
    the header is all the listener reads before deciding on a Retry."""
    head = bytes([0xC0]) + struct.pack(">I", 1) + bytes([len(dcid)]) + dcid + bytes([8]) + os.urandom(8) + b"\0"
    rest = 1200 - len(head) - 2
    return head + struct.pack(">H", 0x4000 | rest) + os.urandom(rest)


@pytest.mark.slow  # 64 client processes, ~18 s
def test_many_half_open_handshakes_make_new_clients_prove_their_address_with_retry(h3_proxy, h3client):
    # 64 clients (QuicListener::kRetryAboveHandshakes) that never hear the server (gtlsclient
    # drops every packet it receives) leave 64 handshakes in progress.
    url = f"https://127.0.0.1:{h3_proxy.port}/half"
    stalled = [subprocess.Popen(["gtlsclient", "-q", "-r", "1.0", "--timeout=20s", "127.0.0.1", str(h3_proxy.port), url],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(64)]
    try:
        time.sleep(2)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(_initial(os.urandom(8)), ("127.0.0.1", h3_proxy.port))
            answer = s.recvfrom(65536)[0]
        assert answer[0] & 0xF0 == 0xF0, answer[:8].hex()  # long header, type Retry
        assert answer[1:5] == b"\0\0\0\x01"
        # A real client follows the Retry (its token proves its address) and is served.
        assert run_h3(h3client, h3_proxy.h3 + "/after-retry")["status"] == 200
    finally:
        for p in stalled:
            p.kill()
            p.wait()


@pytest.mark.parametrize("steering", ["on", "off"])
def test_clients_that_change_their_address_keep_their_connection_with_4_workers(vortex, echo_origin, cert, steering):
    # The new 4-tuple hashes to another worker 3 times in 4: the reuseport program steers the
    # packets by their connection ID ("on"), or the worker they reach forwards them ("off").
    port = free_port()
    proxy = vortex(h3_listener(port, cert) + routes(echo_origin.address), port=port, workers=4,
                   env={"VORTEX_QUIC_STEERING": steering})
    for _ in range(6):
        statuses = gtlsclient(port, "--change-local-addr=300ms", "--delay-stream=600ms", "-n", "3")
        assert statuses == [b"200"] * 3, proxy.describe()
    assert "refused the QUIC steering program" not in proxy.stderr()


def test_with_4_workers_unknown_connections_get_a_stateless_reset_and_unknown_versions_negotiation(vortex, echo_origin, cert):
    port = free_port()
    vortex(h3_listener(port, cert) + routes(echo_origin.address), port=port, workers=4)
    for owner in range(6):  # 4 and 5 name no worker
        packet = bytes([0x40, owner]) + os.urandom(17) + os.urandom(80)
        answer = _udp(port, packet)
        assert answer[0] & 0xC0 == 0x40 and 21 <= len(answer) < len(packet)
    for _ in range(4):  # different source ports, so different workers
        packet = bytes([0xC0]) + struct.pack(">I", 0x1A2A3A4A) + bytes([8]) + os.urandom(8) + bytes([8]) + os.urandom(8)
        answer = _udp(port, packet + b"\0" * (1200 - len(packet)))
        assert answer[1:5] == b"\0\0\0\0"


@pytest.mark.slow  # 64 client processes, ~20 s
def test_retry_under_load_with_4_workers_counts_every_workers_handshakes(vortex, echo_origin, cert, h3client):
    port = free_port()
    proxy = vortex(h3_listener(port, cert) + routes(echo_origin.address), port=port, workers=4)
    url = f"https://127.0.0.1:{port}/half"
    # 64 stalled handshakes spread over the 4 workers (about 16 each): Retry starts at 64 in
    # progress on the whole listener, not on one worker.
    stalled = [subprocess.Popen(["gtlsclient", "-q", "-r", "1.0", "--timeout=20s", "127.0.0.1", str(port), url],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(64)]
    try:
        time.sleep(2)
        for _ in range(8):  # fresh source ports: Initials that hash to every worker
            answer = _udp(port, _initial(os.urandom(8)))
            assert answer[0] & 0xF0 == 0xF0, answer[:8].hex()  # Retry
        results = []
        clients = [threading.Thread(target=lambda i=i: results.append(run_h3(h3client, f"https://127.0.0.1:{port}/r{i}")))
                   for i in range(8)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        assert [r["status"] for r in results] == [200] * 8, (results, proxy.describe())
    finally:
        for p in stalled:
            p.kill()
            p.wait()


# Malformed HTTP/3 (RFC 9114 §4.1.2, §4.2, §4.3; RFC 9204): tests/h3client -raw writes the frames
# and QPACK bytes by hand. Each case closes only its stream or its connection, with the RFC's
# error code, and the proxy goes on serving other connections.
H3_MESSAGE_ERROR = 0x10E
H3_FRAME_UNEXPECTED = 0x105
H3_REQUEST_REJECTED = 0x10B
QPACK_DECOMPRESSION_FAILED = 0x200
QPACK_ENCODER_STREAM_ERROR = 0x201


def run_raw(client, proxy, case, timeout="10s"):
    return run_h3(client, proxy.h3, "-raw", case, "-timeout", timeout, timeout=60)


def assert_still_serving(proxy, client):
    got = run_h3(client, proxy.h3 + "/after")
    assert got["status"] == 200, got


def test_raw_client_sends_a_well_formed_request_that_succeeds(h3_proxy, h3client):
    # The hand-written frames are right: the same bytes, well formed, get a 200.
    assert run_raw(h3client, h3_proxy, "ok")["status"] == 200
    assert run_raw(h3client, h3_proxy, "te-trailers")["status"] == 200  # the one TE HTTP/3 allows


@pytest.mark.parametrize("case", [
    "missing-method", "missing-path", "duplicate-path", "unknown-pseudo", "pseudo-after-field",
    "uppercase-name", "connection", "keep-alive", "transfer-encoding", "upgrade", "te-gzip",
])
def test_malformed_request_head_resets_the_stream_with_h3_message_error(h3_proxy, h3client, case):
    got = run_raw(h3client, h3_proxy, case)
    assert got["stream_error"] == H3_MESSAGE_ERROR and got["status"] == 0, got
    assert got["conn_error"] == -1, got  # the stream, not the connection
    assert_still_serving(h3_proxy, h3client)


def test_data_before_headers_closes_the_connection_with_h3_frame_unexpected(h3_proxy, h3client):
    got = run_raw(h3client, h3_proxy, "data-before-headers")
    assert got["conn_error"] == H3_FRAME_UNEXPECTED, got
    assert_still_serving(h3_proxy, h3client)


@pytest.mark.parametrize("case", ["qpack-bad-reference", "qpack-capacity-over", "qpack-insert-too-large"])
def test_qpack_encoder_stream_abuse_closes_the_connection_with_encoder_stream_error(h3_proxy, h3client, case):
    got = run_raw(h3client, h3_proxy, case)
    assert got["conn_error"] == QPACK_ENCODER_STREAM_ERROR, got
    assert_still_serving(h3_proxy, h3client)


def test_more_blocked_streams_than_advertised_close_the_connection_with_decompression_failed(h3_proxy, h3client):
    # SETTINGS_QPACK_BLOCKED_STREAMS is 16: the 17th stream waiting for an insert is an error
    # (RFC 9204 §2.1.2).
    got = run_raw(h3client, h3_proxy, "qpack-blocked-many")
    assert got["conn_error"] == QPACK_DECOMPRESSION_FAILED, got
    assert_still_serving(h3_proxy, h3client)


def test_a_stream_waiting_for_an_insert_that_never_comes_is_rejected_at_header_timeout(vortex, echo_origin, cert,
                                                                                         h3client):
    port = free_port()
    proxy = vortex(h3_listener(port, cert) + "limits: { header_timeout_ms: 1000 }\n" + routes(echo_origin.address),
                   port=port)
    proxy.h3 = f"https://127.0.0.1:{port}"
    started = time.monotonic()
    got = run_raw(h3client, proxy, "qpack-blocked", timeout="15s")
    assert got["stream_error"] == H3_REQUEST_REJECTED, got
    assert time.monotonic() - started < 10
    assert_still_serving(proxy, h3client)


def test_each_protocol_counts_its_own_downstream_requests_series(vortex, echo_origin, cert, h3client):
    # vortex_downstream_requests_total{listener,protocol}: HTTP/1.1 and h2c on a plain listener,
    # h2 and h3 on a TLS one; vortex_http_requests_total keeps its SPEC labels.
    from rawhttp import curl
    from test_metrics import promtool_check, scrape, value

    plain, secure = free_port(), free_port()
    listeners = (f'listeners:\n  - {{ name: plain, address: "127.0.0.1:{plain}" }}\n'
                 + h3_listener(secure, cert).replace("listeners:\n", ""))
    proxy = vortex(listeners + routes(echo_origin.address), port=plain, listeners=2)
    for args in (["--http1.1", f"http://127.0.0.1:{plain}/a"],
                 ["--http2-prior-knowledge", f"http://127.0.0.1:{plain}/b"],
                 ["--http2-prior-knowledge", f"http://127.0.0.1:{plain}/c"],
                 ["-k", "--http2", f"https://127.0.0.1:{secure}/d"]):
        got = curl("-o", "/dev/null", "-w", "%{http_code}", *args)
        assert got.stdout == b"200", got
    for _ in range(3):
        assert run_h3(h3client, f"https://127.0.0.1:{secure}/e")["status"] == 200
    text = scrape(proxy)
    promtool_check(text)
    counts = {(listener, protocol): value(text, "vortex_downstream_requests_total", listener=listener,
                                          protocol=protocol)
              for listener in ("plain", "secure") for protocol in ("http1", "h2", "h3")}
    assert counts == {("plain", "http1"): 1, ("plain", "h2"): 2, ("plain", "h3"): 0,
                      ("secure", "http1"): 0, ("secure", "h2"): 1, ("secure", "h3"): 3}, counts
    assert value(text, "vortex_http_requests_total", route="r", code="200") == 7
    assert 'vortex_http_requests_total{route="r",code="200",' not in text


def test_sni_chooses_the_http3_certificate_by_server_names_as_on_tcp(vortex, echo_origin, tmp_path, h3client):
    # As test_tls.py's TCP test: an exact name, then a one-label wildcard, then "*", else the
    # first certificate; a name only in a certificate (not in its server_names) does not choose it.
    folder = tmp_path / "sni"
    folder.mkdir()
    default = make_cert(folder, "default", "default.test", ["default.test", "127.0.0.1"])
    exact = make_cert(folder, "exact", "www.example.org", ["www.example.org", "unlisted.test"])
    wild = make_cert(folder, "wild", "wild.example.com", ["*.example.com"])
    port = free_port()
    listener = tls_listener(port, [(default[0], default[1], ["*"]), (exact[0], exact[1], ["www.example.org"]),
                                   (wild[0], wild[1], ["*.example.com"])]) + "    http3: true\n"
    vortex(listener + routes(echo_origin.address), port=port)

    def served(name):
        got = run_h3(h3client, f"https://127.0.0.1:{port}/sni", "-sni", name)
        assert got["status"] == 200, got
        return got["peer_cn"]

    assert served("www.example.org") == "www.example.org"
    assert served("api.example.com") == "wild.example.com"
    assert served("API.Example.COM") == "wild.example.com"
    assert served("a.b.example.com") == "default.test"  # a wildcard covers one label
    assert served("unlisted.test") == "default.test"
    assert served("unknown.test") == "default.test"


def test_every_request_and_body_completes_through_loss_and_reordering_both_ways(h3_proxy, h3client):
    # 5 % of datagrams lost and 10 % held back 15 ms while later ones overtake them, in both
    # directions (tests/integration/impairing_relay.py: user-space netem, the kernel has none).
    from impairing_relay import ImpairingRelay

    relay = ImpairingRelay(h3_proxy.port, loss=0.05, reorder=0.10)
    try:
        url = f"https://127.0.0.1:{relay.port}"
        got = run_h3(h3client, url + "/lossy", "-n", "100", "-c", "10", "-timeout", "90s")
        assert not got["errors"] and got["statuses"] == {"200": 100}, got
        n = 1 << 20
        up = run_h3(h3client, url + "/upload", "-X", "POST", "-body-size", str(n), "-show-body", "-timeout", "90s")
        assert up["status"] == 200, up
        echo = json.loads(up["body"])
        assert echo["body_bytes"] == n and echo["body_sha256"] == up["sent_sha256"]
        down = run_h3(h3client, url + f"/bytes/{n}", "-timeout", "90s")
        assert down["status"] == 200 and down["body_len"] == n and down["body_sha256"] == pattern_sha256(n)
    finally:
        relay.close()
    assert relay.counts["dropped"] > 20 and relay.counts["reordered"] > 40, relay.counts

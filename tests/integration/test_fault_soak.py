"""Fault soak (`make test-slow`, not in `make test`): HTTP/1.1 and HTTP/2 clients load one Vortex
for FAULT_SOAK_SECONDS (180) while, on a schedule, origins are SIGKILLed and come back on the
same port, redis-server (the rate-limit store, on_error: allow) restarts or hangs, the config
reloads every few seconds (two valid variants in turn, by `vortexctl reload` and by SIGHUP; once
a broken file that must be refused) and clients vanish mid-upload and mid-download.

Every byte is checked (and a 200 must be in the access log as a 200 of as many bytes), and every
outcome is counted by kind. What a fault may explain (`judge`):
  1. Never: wrong bytes under a 200; no progress for CLIENT_TIMEOUT_S (a hang); any status but
     200 and 502; a failed direct response (Redis down or hung is on_error: allow).
  2. A request may fail (502, or its connection or stream cut before or after the response head)
     only if the access log says its last attempt went to an origin that was down while it ran.
  3. GETs retry connect failures and resets before the upstream's response began (retries.on),
     so a GET fails only when its origin died mid-response: cut after its 200 head, or a 502
     that says so; any other 502, or no answer at all, is a bug. POSTs are never retried: one
     whose origin died may get a 502 or lose its connection.
  4. The load generators' requests (h2load: direct responses and small GETs) never fail; only
     at its deadline may h2load leave requests unanswered (499 in the access log).
Afterwards every endpoint is healthy again and Vortex serves every path, its descriptors are
back at the baseline once its pools idled out, its RSS (jemalloc returning freed pages at once)
stayed flat, vortex_config_reloads_total counts every reload and the refusal, and no task failed
(vortex_contained_failures_total). The counts are printed even when it passes; the fds/RSS
samples are kept in the test's tmp_path/resources.tsv."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import select
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import httpx
import pytest

from h2_origins import h2_bytes
from h2frames import CANCEL, DATA, END_STREAM, HEADERS, RST_STREAM, WINDOW_UPDATE, H2Conn, frame, request_headers
from origins import OriginProcess, pattern_sha256
from ratelimit_support import RedisServer
from rawhttp import RawConnection, read_head, request_bytes
from test_admin import ctl
from test_metrics import samples
from test_reload import BODY_MARK, reconfigure
from tls_certs import make_cert, tls_listener
from vortex_harness import free_port

SECONDS = float(os.environ.get("FAULT_SOAK_SECONDS", "180"))
SANITIZED = os.environ.get("VORTEX_SANITIZED") == "1"
CLIENT_TIMEOUT_S = 30.0  # no progress for this long is a hang, never an expected outcome
POOL_IDLE_MS = 1000
# Generous probe timeout: on a loaded 2-core box a Python origin can be slow to answer, and a
# cluster whose every endpoint looks unhealthy answers 503. A killed one is out in ~0.6 s.
HEALTH_CHECK = "{ interval_ms: 200, timeout_ms: 2000, unhealthy_after: 3, healthy_after: 2 }"
# An origin's connections all die with its process, and a pooled one is trusted without a look
# only for its first 500 ms idle, so no failure can start later than that after a kill.
OUTAGE_SLACK_S = 0.5
# How a 502 says the upstream died after its response began (too late to retry a GET).
MID_RESPONSE = ("mid-response", "before the body ended")
DOWNLOAD_SIZES = (0, 1, 4096, 200_000, 2_000_000)
UPLOAD_SIZES = (0, 1, 1000, 65_536, 300_000, 1_000_000)
# Vortex's jemalloc returns freed pages at once: its RSS then follows live memory, so a leak shows
# as drift instead of hiding in retained dirty pages, which swing by ±10 MiB under this load.
FLAT_RSS_ENV = {"MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}
MAX_RSS_GROWTH = 32 << 20  # after the run, pools idle, over the baseline before it
# Last third of the run over the middle one (in the first, caches warm up to a plateau, reached
# by minute 4 of 10): 4 MiB in a minute of this load is about 150 bytes a request.
MAX_RSS_DRIFT = 4 << 20

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(SECONDS + 300),
    # A soak that found something once has found it: no silent second chance.
    pytest.mark.flaky(reruns=0),
]


# --- the config ------------------------------------------------------------------------------


def config_head(plain: int, secure: int, cert, redis: RedisServer, access_log) -> str:
    """What stays across reloads: listeners (h1 + h2c, and h2 over TLS), the access log the
    verdicts are read from, and the Redis store (a reload cannot change it)."""
    return (
        f'listeners:\n  - {{ name: plain, address: "127.0.0.1:{plain}" }}\n'
        + tls_listener(secure, [(cert[0], cert[1], ["*"])]).replace("listeners:\n", "")
        + f'access_log: {{ path: "{access_log}", format: json }}\n'
        "rate_limits:\n"
        "  store: redis\n"
        f'  redis: {{ url: "{redis.url}", timeout_ms: 100, pool_size: 2, on_error: allow }}\n'
        "  policies:\n"
        "    - { name: generous, key: client_ip, rate: 1000000, period_ms: 1000, burst: 1000000 }\n"
        + BODY_MARK
    )


def config_body(variant: int, web: list[OriginProcess], h2c: list[OriginProcess]) -> str:
    """Two valid variants: 0 balances web over o1..o3 round robin, 1 over o2..o4 by Peak EWMA
    with longer timeouts; /variant answers which one runs. Requests with `x-upstream: h2c` go to
    the h2c origins; everything but /bulk and /variant to an origin, each through the Redis
    rate limit (never denies)."""
    endpoints = web[:3] if variant == 0 else web[1:]
    upstream = (
        f"timeout_ms: {10000 + 2000 * variant}, retries: {{ attempts: 1, on: [connect_failure, reset] }}, "
        "rate_limit: generous"
    )
    cluster = (
        f"pool: {{ idle_timeout_ms: {POOL_IDLE_MS} }}, circuit_breaker: {{ consecutive_failures: 3, open_ms: 1000 }}, "
        f"health_check: {HEALTH_CHECK}"
    )

    def addresses(origins):
        return ", ".join(f'{{ address: "{o.address}" }}' for o in origins)

    return f"""
routes:
  - {{ name: variant, match: {{ path_exact: "/variant" }}, direct_response: {{ status: 200, body: "{variant}" }} }}
  - {{ name: bulk, match: {{ path_prefix: "/bulk" }}, rate_limit: generous, direct_response: {{ status: 200, body: "bulk\\n" }} }}
  - {{ name: to_h2c, match: {{ path_prefix: "/", headers: {{ x-upstream: h2c }} }}, cluster: h2c, {upstream} }}
  - {{ name: to_web, match: {{ path_prefix: "/" }}, cluster: web, {upstream} }}
clusters:
  - {{ name: web, lb: {("round_robin", "peak_ewma")[variant]}, endpoints: [{addresses(endpoints)}], {cluster} }}
  - {{ name: h2c, protocol: h2c, endpoints: [{addresses(h2c)}], {cluster} }}
"""


BROKEN_BODY = 'routes:\n  - { name: r, match: { path_prefix: "/" }, cluster: missing }\n'


# --- what happened ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """One checked request as its client saw it. kind: ok | wrong-bytes | status-N | cut (the
    connection or stream ended after the head) | no-response | timeout | bad-error-body."""

    request_id: str
    client: str
    method: str
    start: float
    end: float = 0.0
    kind: str = ""
    detail: str = ""
    size: int = -1  # response body bytes received, when the response completed


@dataclass
class Ledger:
    """Everything the threads record, behind one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: list[Outcome] = field(default_factory=list)
    outages: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # address -> [(kill, up)]
    faults: Counter = field(default_factory=Counter)
    vanished: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # failures found on the way (not per request)
    reloads_ok: int = 0
    reloads_refused: int = 0

    def add(self, outcome: Outcome):
        with self.lock:
            self.outcomes.append(outcome)

    def problem(self, text: str):
        with self.lock:
            self.problems.append(text)

    def fault(self, kind: str):
        with self.lock:
            self.faults[kind] += 1

    def outage(self, address: str, down: float, up: float):
        with self.lock:
            self.outages.setdefault(address, []).append((down, up))

    def down_during(self, address: str, start: float, end: float) -> bool:
        return any(start <= up + OUTAGE_SLACK_S and end >= down for down, up in self.outages.get(address, []))


def judge(outcome: Outcome, logged: dict | None, ledger: Ledger) -> str:
    """The verdict on one checked request: "ok", "expected: ..." or "UNEXPECTED: ..." (the rules
    in the module docstring)."""
    if outcome.kind == "ok":
        if logged is None or (logged["status"], logged["bytes"]) != (200, outcome.size):
            return "UNEXPECTED: ok, but the access log disagrees"
        return "ok"
    if logged is None:
        return f"UNEXPECTED: {outcome.kind}, not in the access log"
    upstream = logged.get("upstream", "")
    killed = ledger.down_during(upstream, outcome.start, outcome.end)
    if outcome.kind not in ("status-502", "cut", "no-response"):
        return f"UNEXPECTED: {outcome.kind}" + (", its origin was killed" if killed else "")
    if not killed:
        return f"UNEXPECTED: {outcome.kind} from {upstream or 'no upstream'}, which was up"
    mid_response = outcome.kind == "cut" or (outcome.kind == "status-502" and any(p in outcome.detail for p in MID_RESPONSE))
    if outcome.method != "POST" and not mid_response:
        return f"UNEXPECTED: {outcome.kind} on a {outcome.method} (retries cover it)"
    return f"expected: {outcome.method} {outcome.kind}, its origin was killed"


# --- checked clients -------------------------------------------------------------------------

_sha_cache: dict[tuple[int, bool], str] = {}


def expected_sha(n: int, h2c_origin: bool) -> str:
    key = (n, h2c_origin)
    if key not in _sha_cache:
        _sha_cache[key] = hashlib.sha256(h2_bytes(n)).hexdigest() if h2c_origin else pattern_sha256(n)
    return _sha_cache[key]


@dataclass
class Plan:
    """One random request and what its answer must carry: a download of generated bytes (its
    length and sha256) or an upload (what the origin's echo must report), to an HTTP/1.1 or an
    h2c origin; bodies both ways with a length or streamed (chunked / DATA without length)."""

    request_id: str
    method: str
    target: str
    headers: dict[str, str]
    body: bytes | None
    streamed: bool  # upload without a length: chunked over HTTP/1.1, no content-length over h2
    want: tuple[int, str]


def plan_request(rng: random.Random, request_id: str) -> Plan:
    headers = {"x-request-id": request_id}
    to_h2c = rng.random() < 0.3
    if to_h2c:
        headers["x-upstream"] = "h2c"
    if rng.random() < 0.5:
        n = rng.choice(DOWNLOAD_SIZES)
        chunked = not to_h2c and rng.random() < 0.5
        target = f"/bytes/{n}" + ("?chunked=1" if chunked else "")
        return Plan(request_id, "GET", target, headers, None, False, (n, expected_sha(n, to_h2c)))
    data = rng.randbytes(rng.choice(UPLOAD_SIZES))
    return Plan(request_id, "POST", "/up", headers, data, rng.random() < 0.5, (len(data), hashlib.sha256(data).hexdigest()))


class Answer:
    """A response as it arrives: its status, then its body hashed (kept too when it is small:
    an upload's echo or an error)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.status: int | None = None
        self.content_type = ""
        self.size = 0
        self.digest = hashlib.sha256()
        self.kept = bytearray()

    def head(self, status: int, content_type: str):
        self.status, self.content_type = status, content_type

    def data(self, part: bytes):
        self.size += len(part)
        self.digest.update(part)
        if self.plan.method == "POST" or self.status != 200:
            self.kept += part

    def verdict(self) -> tuple[str, str]:
        """(kind, detail) of the complete response."""
        if self.status != 200:
            ctype = self.content_type.split(";")[0].strip()
            try:
                shaped = ctype == "application/json" and isinstance(json.loads(self.kept).get("error"), str)
            except ValueError:
                shaped = False
            if self.status >= 400 and not shaped:  # SPEC.md §3: every error is a JSON body
                return "bad-error-body", f"{self.status} {ctype} {bytes(self.kept[:200])!r}"
            return f"status-{self.status}", bytes(self.kept[:200]).decode(errors="replace")
        if self.plan.method == "GET":
            got = (self.size, self.digest.hexdigest())
            return ("ok" if got == self.plan.want else "wrong-bytes"), f"{self.plan.target}: got {self.size} bytes"
        echo = json.loads(self.kept)
        got = (echo["body_bytes"], echo["body_sha256"])
        return ("ok" if got == self.plan.want else "wrong-bytes"), f"upload of {self.plan.want[0]} bytes: the origin got {got[0]}"


def run_h1(client: httpx.Client, base: str, plan: Plan, name: str) -> Outcome:
    """The plan over HTTP/1.1 keep-alive (httpx)."""
    out = Outcome(plan.request_id, name, plan.method, time.monotonic())
    answer = Answer(plan)
    content = plan.body
    if plan.body is not None and plan.streamed:
        content = (plan.body[i : i + 7000] for i in range(0, len(plan.body), 7000))  # no length: chunked
    try:
        with client.stream(plan.method, base + plan.target, headers=plan.headers, content=content) as resp:
            answer.head(resp.status_code, resp.headers.get("content-type", ""))
            for part in resp.iter_raw():
                answer.data(part)
        out.kind, out.detail = answer.verdict()
        out.size = answer.size
    except httpx.TimeoutException as e:
        out.kind, out.detail = "timeout", f"{plan.method} {plan.target}: {type(e).__name__}"
    except (httpx.TransportError, httpx.StreamError) as e:
        out.kind = "cut" if answer.status is not None else "no-response"
        out.detail = f"{plan.method} {plan.target}: {type(e).__name__}: {e}"
    out.end = time.monotonic()
    return out


@dataclass
class _H2Stream:
    plan: Plan
    outcome: Outcome
    answer: Answer
    sent: int = 0
    body_done: bool = False  # our END_STREAM is sent
    reset: bool = False  # Vortex reset the stream

    @property
    def finished(self) -> bool:
        """Judged, and nothing more to send: an upload whose answer came early goes on until
        Vortex takes it all or resets the stream (RFC 9113 §8.1)."""
        return bool(self.outcome.kind) and (self.body_done or self.reset)


class H2Client:
    """A checked HTTP/2 client on one connection (h2c by prior knowledge, or h2 over TLS), driven
    by the calling thread with several streams in flight. Not httpx: its HTTP/2 sender waits for
    flow-control window without noticing a RST_STREAM (the NO_ERROR one a server sends after an
    early answer), and uploads sharing a connection can wait for a WINDOW_UPDATE another thread
    already read (pydantic/httpx2#1133); both hang until the read timeout."""

    def __init__(self, port: int, tls: bool = False):
        sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT_S)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.authority, self.scheme = f"127.0.0.1:{port}", ("https" if tls else "http")
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.broken = False  # the connection failed: make a new client
        self._flush()

    def close(self):
        self.sock.close()

    def run(self, plans: list[Plan], name: str) -> list[Outcome]:
        """Sends every plan at once, one stream each; returns their outcomes once all finished."""
        streams: dict[int, _H2Stream] = {}
        for plan in plans:
            sid = self.conn.get_next_available_stream_id()
            fields = [(":method", plan.method), (":scheme", self.scheme), (":authority", self.authority), (":path", plan.target)]
            fields += list(plan.headers.items())
            if plan.body is not None and not plan.streamed:
                fields.append(("content-length", str(len(plan.body))))
            self.conn.send_headers(sid, fields, end_stream=not plan.body)
            outcome = Outcome(plan.request_id, name, plan.method, time.monotonic())
            streams[sid] = _H2Stream(plan, outcome, Answer(plan), body_done=not plan.body)
        try:
            last_progress = time.monotonic()
            while not all(s.finished for s in streams.values()):
                self._send_bodies(streams)
                self._flush()
                if not self._readable(last_progress + CLIENT_TIMEOUT_S - time.monotonic()):
                    self.broken = True
                    for s in streams.values():
                        if not s.finished:  # judged or not: the stream hangs
                            sent = f", {s.sent} body bytes sent" if s.plan.body else ""
                            self._fail(s, "timeout", f"no progress for {CLIENT_TIMEOUT_S:.0f} s{sent}")
                    break
                data = self.sock.recv(1 << 16)
                if not data:
                    raise ConnectionError("Vortex closed the connection")
                last_progress = time.monotonic()
                for event in self.conn.receive_data(data):
                    self._on_event(event, streams)
                self._flush()
        except (OSError, ConnectionError, h2.exceptions.ProtocolError) as e:
            self.broken = True
            for s in streams.values():
                if not s.outcome.kind:
                    self._fail(s, "cut" if s.answer.status is not None else "no-response", f"{type(e).__name__}: {e}")
        return [s.outcome for s in streams.values()]

    def _on_event(self, event, streams: dict[int, _H2Stream]):
        if isinstance(event, h2.events.ConnectionTerminated):
            raise ConnectionError(f"GOAWAY {event.error_code!r}, last stream {event.last_stream_id}")
        s = streams.get(getattr(event, "stream_id", 0))
        if s is None:
            return
        if isinstance(event, h2.events.ResponseReceived):
            fields = dict(event.headers)
            s.answer.head(int(fields[":status"]), fields.get("content-type", ""))
        elif isinstance(event, h2.events.DataReceived):
            s.answer.data(event.data)
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            s.outcome.kind, s.outcome.detail = s.answer.verdict()
            s.outcome.size, s.outcome.end = s.answer.size, time.monotonic()
        elif isinstance(event, h2.events.StreamReset):
            s.reset = True
            if not s.outcome.kind:
                self._fail(s, "cut" if s.answer.status is not None else "no-response", f"RST_STREAM {event.error_code!r}")

    def _send_bodies(self, streams: dict[int, _H2Stream]):
        """As much of every upload as the flow-control windows allow."""
        for sid, s in streams.items():
            while not s.body_done and not s.reset:
                window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
                if window <= 0:
                    break
                piece = s.plan.body[s.sent : s.sent + window]
                s.sent += len(piece)
                s.body_done = s.sent == len(s.plan.body)
                self.conn.send_data(sid, piece, end_stream=s.body_done)

    @staticmethod
    def _fail(s: _H2Stream, kind: str, detail: str):
        s.outcome.kind, s.outcome.detail, s.outcome.end = kind, f"{s.plan.method} {s.plan.target}: {detail}", time.monotonic()

    def _readable(self, timeout: float) -> bool:
        if getattr(self.sock, "pending", lambda: 0)():  # TLS: bytes already decrypted
            return True
        return timeout > 0 and bool(select.select([self.sock], [], [], timeout)[0])

    def _flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)


def _close_abruptly(sock: socket.socket, rng: random.Random) -> str:
    """Closes with a FIN or, half the time, an RST; says which."""
    if rng.random() < 0.5:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        return "RST"
    sock.close()
    return "FIN"


def vanish_h1(port: int, rid: str, upload: bool, rng: random.Random, extra) -> tuple[str, Outcome | None]:
    """An HTTP/1.1 client gone halfway through its upload, or its download's body."""
    out = None
    conn = RawConnection(port, timeout=CLIENT_TIMEOUT_S)
    headers = [("X-Request-Id", rid)] + extra
    if upload:
        conn.send(request_bytes("POST", "/up", headers + [("Content-Length", "1000000")]))
        conn.send(rng.randbytes(rng.randint(0, 200_000)))  # the socket buffers take it without waiting
        time.sleep(rng.uniform(0, 0.05))
    else:
        # Until it vanishes it is a GET like any other: what goes wrong before is judged.
        out = Outcome(rid, "vanishing", "GET", time.monotonic())
        conn.send(request_bytes("GET", "/bytes/5000000", headers))
        try:
            head = read_head(conn, timeout=CLIENT_TIMEOUT_S)
            if head.status == 200:
                conn.read_exactly(rng.randint(1, 1_000_000), timeout=CLIENT_TIMEOUT_S)
            else:
                out.kind = f"status-{head.status}"
        except AssertionError as e:  # rawhttp's way to say closed or timed out
            out.kind, out.detail = ("cut" if conn.eof else "timeout"), str(e)[:200]
        out.end = time.monotonic()
        if out.kind:
            conn.close()
            return "h1 download, failed before it vanished", out
        out = None
    return f"h1 {'upload' if upload else 'download'}, {_close_abruptly(conn.sock, rng)}", out


def vanish_h2(port: int, rid: str, upload: bool, rng: random.Random, extra) -> tuple[str, Outcome | None]:
    """An h2c client that resets its stream (then uses the connection once more: it must still
    serve) or drops the connection, halfway through an upload or a download's body."""
    conn = H2Conn(port, timeout=CLIENT_TIMEOUT_S)
    fields = [("x-request-id", rid)] + [(k.lower(), v) for k, v in extra]
    out = None
    try:
        if upload:
            conn.send(conn.headers(1, request_headers(port, "/up", "POST", fields), end_stream=False))
            data = rng.randbytes(rng.randint(0, 60_000))  # within the first window, in frames of
            for i in range(0, len(data), 16384):  # at most the default SETTINGS_MAX_FRAME_SIZE
                conn.send(frame(DATA, 0, 1, data[i : i + 16384]))
            time.sleep(rng.uniform(0, 0.05))
        else:
            out = Outcome(rid, "vanishing", "GET", time.monotonic())
            conn.send(conn.headers(1, request_headers(port, "/bytes/5000000", "GET", fields)))
            want, got = rng.randint(1, 60_000), 0
            while got < want:
                f = conn.read_frame(CLIENT_TIMEOUT_S)
                if f is None:
                    out.kind = "cut" if got else "no-response"
                    break
                ftype, flags, stream, payload = f
                if ftype == HEADERS:
                    status = dict(conn.decoder.decode(payload)).get(":status")
                    if stream == 1 and status != "200":
                        out.kind = f"status-{status}"
                        break
                elif ftype == DATA and stream == 1:
                    got += len(payload)
                elif ftype == RST_STREAM and stream == 1:
                    out.kind = "cut" if got else "no-response"
                    break
                if stream == 1 and flags & END_STREAM and ftype in (HEADERS, DATA):
                    out.kind = "cut"  # 5 MB cannot fit in the first window
                    break
            out.end = time.monotonic()
            if out.kind:
                return "h2 download, failed before it vanished", out
            out = None
        if rng.random() < 0.5:
            return f"h2 {'upload' if upload else 'download'}, connection dropped", out
        # The reset stream's DATA in flight used up connection window: give it back.
        conn.send(frame(RST_STREAM, 0, 1, struct.pack(">I", CANCEL)) + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 65535)))
        after = Outcome(rid + "-after", "vanishing", "GET", time.monotonic())
        conn.send(conn.headers(3, request_headers(port, "/bulk", extra=[("x-request-id", after.request_id)])))
        try:
            heads, body, _, reset = conn.response(3, timeout=CLIENT_TIMEOUT_S)
            status = dict(heads).get(":status")
            after.kind = "ok" if (status, body, reset) == ("200", b"bulk\n", None) else f"status-{status}"
            after.size = len(body)
            after.detail = f"a stream after RST_STREAM: {status} {body[:100]!r} reset {reset}"
        except AssertionError as e:
            after.kind, after.detail = "timeout", f"a stream after RST_STREAM: {e}"
        after.end = time.monotonic()
        return f"h2 {'upload' if upload else 'download'}, stream reset", after
    finally:
        conn.close()


def h2load(port: int, seconds: float, *, h1: bool) -> subprocess.Popen:
    """Steady background load: direct responses (every one a Redis decision) and small GETs
    through the web origins, at a fixed rate so the checked clients still get the CPU."""
    proto = ["--h1", "-c", "4", "--rps", "40"] if h1 else ["-c", "2", "-m", "8", "--rps", "80"]
    urls = [f"http://127.0.0.1:{port}/bulk", f"http://127.0.0.1:{port}/small"]
    return subprocess.Popen(
        ["h2load", "-D", str(int(seconds)), *proto, *urls], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def h2load_counts(output: str) -> dict[str, int]:
    """{"total", "succeeded", "failed", "errored", "timeout", "2xx", "3xx", "4xx", "5xx"}."""
    reqs = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", output)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output)
    assert reqs and codes, output
    names = ("total", "succeeded", "failed", "errored", "timeout", "2xx", "3xx", "4xx", "5xx")
    return dict(zip(names, map(int, reqs.groups() + codes.groups())))


# --- faults ----------------------------------------------------------------------------------


def kill_and_restart_origins(origins: list[OriginProcess], ledger: Ledger, until: float, rng: random.Random):
    """One origin at a time: SIGKILL, down for 1.5-4 s, then back on its port."""
    while True:
        time.sleep(rng.uniform(1.0, 2.5))
        if time.monotonic() + 5 > until:
            return
        victim = rng.choice(origins)
        down = time.monotonic()
        victim.kill()
        time.sleep(rng.uniform(1.5, 4.0))
        victim.start()
        ledger.outage(victim.address, down, time.monotonic())
        ledger.fault(f"origin {victim.name} killed")


def restart_or_hang_redis(redis: RedisServer, ledger: Ledger, until: float, rng: random.Random):
    """Every 5-10 s: Redis restarts (down 0.2-1.5 s, back empty), or every third time hangs for a
    second (SIGSTOP), longer than the store's timeout_ms."""
    n = 0
    while True:
        time.sleep(rng.uniform(5, 10))
        if time.monotonic() + 3 > until:
            return
        n += 1
        if n % 3 == 0:
            redis.freeze()
            time.sleep(1.0)
            redis.thaw()
            ledger.fault("redis hung for 1 s")
        else:
            redis.kill()
            time.sleep(rng.uniform(0.2, 1.5))
            redis.start()
            ledger.fault("redis restarted")


def serving_variant(proxy) -> str | None:
    try:
        return httpx.get(proxy.url + "/variant", trust_env=False, timeout=5).text
    except httpx.HTTPError:
        return None


def reload_configs(proxy, bodies: list[str], ledger: Ledger, until: float, rng: random.Random):
    """Every 2-4 s the other variant, by `vortexctl reload` and SIGHUP in turn, each checked to
    take effect (/variant); once, half way, a broken file that must be refused. Ends on variant 0,
    the baseline's."""
    variant, n, refused = 0, 0, False

    def apply(new: int, how: str):
        nonlocal variant
        reconfigure(proxy, bodies[new])
        if how == "sighup":
            proxy.signal(signal.SIGHUP)
        else:
            out = ctl(proxy, "reload")
            if out.returncode != 0:
                ledger.problem(f"vortexctl reload to variant {new} failed: {out.stdout}{out.stderr}")
                return
        deadline = time.monotonic() + 10
        while serving_variant(proxy) != str(new):
            if time.monotonic() > deadline:
                ledger.problem(f"reload to variant {new} by {how} did not take effect in 10 s")
                return
            time.sleep(0.05)
        variant = new
        ledger.reloads_ok += 1
        ledger.fault(f"reload by {how}")

    while True:
        time.sleep(rng.uniform(2, 4))
        if time.monotonic() + 3 > until:
            break
        n += 1
        if not refused and time.monotonic() > until - SECONDS / 2:
            refused = True
            reconfigure(proxy, BROKEN_BODY)
            out = ctl(proxy, "reload")
            if out.returncode != 1 or "refused" not in out.stderr:
                ledger.problem(f"a broken config was not refused: exit {out.returncode}\n{out.stdout}{out.stderr}")
            if serving_variant(proxy) != str(variant):
                ledger.problem(f"after the refused reload /variant is {serving_variant(proxy)!r}, not {variant}")
            reconfigure(proxy, bodies[variant])
            ledger.reloads_refused += 1
            ledger.fault("broken config refused")
            continue
        apply(1 - variant, "sighup" if n % 2 else "vortexctl")
    if variant != 0:
        apply(0, "vortexctl")


# --- the process seen from outside -----------------------------------------------------------


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def quiet_fds(pid: int, samples_n: int = 10) -> int:
    """Descriptors when no health probe is open: the least of a few samples."""
    least = open_fds(pid)
    for _ in range(samples_n):
        time.sleep(0.1)
        least = min(least, open_fds(pid))
    return least


def wait_decided_by_redis(url: str, timeout: float = 15.0) -> bool:
    """Until a direct response carries RateLimit-* (Redis answered, not on_error)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if "ratelimit-limit" in httpx.get(url + "/bulk", trust_env=False, timeout=5).headers:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def wait_recovered(proxy, timeout: float = 15.0) -> str:
    """Until every endpoint is healthy with a closed breaker; "" then, else what is still out."""
    deadline = time.monotonic() + timeout
    while True:
        out = [
            f"{name}{dict(labels)} = {v:g}"
            for (name, labels), v in samples(scrape(proxy)).items()
            if (name == "vortex_endpoint_healthy" and v != 1) or (name == "vortex_circuit_breaker_state" and v != 0)
        ]
        if not out or time.monotonic() > deadline:
            return ", ".join(out)
        time.sleep(0.2)


def metric_sum(text: str, name: str, **labels) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples(text).items() if n == name and want <= ls)


def scrape(proxy) -> str:
    return httpx.get(f"http://127.0.0.1:{proxy.metrics_port}/metrics", trust_env=False, timeout=10).text


# --- the soak --------------------------------------------------------------------------------


def check_every_protocol(url: str, plain: int, secure: int, label: str, n: int) -> list[Outcome]:
    """n checked requests over HTTP/1.1, h2c and h2 over TLS each (no faults running)."""
    rng = random.Random(label)
    outcomes = []
    with httpx.Client(trust_env=False, timeout=CLIENT_TIMEOUT_S) as client:
        outcomes += [run_h1(client, url, plan_request(rng, f"{label}-h1-{i}"), label) for i in range(n)]
    for port, tls in ((plain, False), (secure, True)):
        h2 = H2Client(port, tls)
        for i in range(0, n, 4):
            outcomes += h2.run([plan_request(rng, f"{label}-h2-{tls}-{i + j}") for j in range(4)], label)
        h2.close()
    return outcomes


def run_once(name: str, ledger: Ledger, target, *args) -> threading.Thread:
    """Runs target(*args) on its own thread; an exception is recorded as a problem."""

    def guarded():
        try:
            target(*args)
        except Exception:  # noqa: BLE001 - recorded, never hidden
            ledger.problem(f"{name}: {traceback.format_exc()}")

    t = threading.Thread(target=guarded, name=name, daemon=True)
    t.start()
    return t


def run_in_loop(name: str, until: float, step, ledger: Ledger) -> threading.Thread:
    """Runs step(rng, seq) on its own thread until `until`; an exception is a test bug or an
    unchecked failure: it is recorded and the loop goes on."""

    def loop():
        rng = random.Random(name)
        seq = 0
        while time.monotonic() < until:
            try:
                step(rng, seq)
            except Exception:  # noqa: BLE001 - recorded, never hidden
                ledger.problem(f"{name}: {traceback.format_exc()}")
                time.sleep(0.1)
            seq += 1

    t = threading.Thread(target=loop, name=name, daemon=True)
    t.start()
    return t


class FaultSoak:
    """One run, phase by phase: Vortex and what it talks to, the ledger of what happened, and the
    numbers the summary prints. A phase records failures in the ledger and goes on, so one run
    reports everything it found."""

    def __init__(self, vortex, tmp_path, redis: RedisServer, web: list[OriginProcess], h2c: list[OriginProcess]):
        self.redis, self.web, self.h2c = redis, web, h2c
        self.tmp_path = tmp_path
        self.plain, self.secure = free_port(), free_port()
        cert = make_cert(tmp_path, "soak", "localhost", ["localhost", "127.0.0.1"])
        self.access_log = tmp_path / "access.log"
        self.bodies = [config_body(v, web, h2c) for v in (0, 1)]
        head = config_head(self.plain, self.secure, cert, redis, self.access_log)
        self.proxy = vortex(head + self.bodies[0], workers=2, listeners=2, port=self.plain, env=FLAT_RSS_ENV)
        self.ledger = Ledger()
        self.numbers: dict[str, str] = {}  # summary line -> text
        self.resources: list[tuple[float, int, int]] = []  # (seconds into the storm, fds, RSS)

    def warm_up_and_take_baseline(self):
        assert wait_decided_by_redis(self.proxy.url), f"Redis never answered\n{self.proxy.describe()}"
        for got in check_every_protocol(self.proxy.url, self.plain, self.secure, "warm-up", 20):
            assert got.kind == "ok", got
        time.sleep(POOL_IDLE_MS / 1000 * 2.5)  # the warm-up's pooled connections expire
        self.base_fds = quiet_fds(self.proxy.pid)
        self.base_rss = self.proxy.rss()

    def run_storm(self):
        """The load and the faults, all at once for SECONDS."""
        ledger, proxy = self.ledger, self.proxy
        start = time.monotonic()
        until = start + SECONDS
        self.load_ends_at = time.time() + SECONDS  # wall clock, as in the access log
        loads = {"h2load h2c": h2load(self.plain, SECONDS, h1=False), "h2load h1": h2load(self.plain, SECONDS, h1=True)}
        h1_clients = [httpx.Client(trust_env=False, timeout=CLIENT_TIMEOUT_S) for _ in range(2)]
        h2_clients: dict[str, H2Client] = {}  # thread name -> its connection

        def h1_step(client: httpx.Client, name: str):
            return lambda rng, seq: ledger.add(run_h1(client, proxy.url, plan_request(rng, f"{name}-{seq}"), name))

        def h2_step(name: str, port: int, tls: bool, streams: int):
            def step(rng, seq):
                if name not in h2_clients or h2_clients[name].broken:  # a failed connection is replaced
                    if name in h2_clients:
                        h2_clients.pop(name).close()
                    h2_clients[name] = H2Client(port, tls)
                for outcome in h2_clients[name].run([plan_request(rng, f"{name}-{seq}-{i}") for i in range(streams)], name):
                    ledger.add(outcome)

            return step

        def vanishing(rng, seq):
            extra = [("X-Upstream", "h2c")] if rng.random() < 0.3 else []
            how = vanish_h2 if rng.random() < 0.5 else vanish_h1
            kind, outcome = how(self.plain, f"vanish-{seq}", rng.random() < 0.5, rng, extra)
            with ledger.lock:
                ledger.vanished[kind] += 1
            if outcome:
                ledger.add(outcome)
            time.sleep(rng.uniform(0.05, 0.3))

        def sample(rng, seq):
            self.resources.append((time.monotonic() - start, open_fds(proxy.pid), proxy.rss()))
            time.sleep(1.0)

        threads = [
            run_in_loop("h1-a", until, h1_step(h1_clients[0], "h1-a"), ledger),
            run_in_loop("h1-b", until, h1_step(h1_clients[1], "h1-b"), ledger),
            run_in_loop("h2c", until, h2_step("h2c", self.plain, False, 3), ledger),
            run_in_loop("h2-tls", until, h2_step("h2-tls", self.secure, True, 2), ledger),
            run_in_loop("vanishing", until, vanishing, ledger),
            run_in_loop("resources", until, sample, ledger),
            run_once("origin killer", ledger, kill_and_restart_origins, self.web + self.h2c, ledger, until, random.Random(1)),
            run_once("redis breaker", ledger, restart_or_hang_redis, self.redis, ledger, until, random.Random(2)),
            run_once("reloader", ledger, reload_configs, proxy, self.bodies, ledger, until, random.Random(3)),
        ]
        for t in threads:
            t.join(timeout=max(0.0, until - time.monotonic()) + CLIENT_TIMEOUT_S * 2)
            if t.is_alive():
                ledger.problem(f"thread {t.name} still running {CLIENT_TIMEOUT_S * 2:.0f} s after the end")
        self.elapsed = time.monotonic() - start
        for c in h1_clients + list(h2_clients.values()):
            c.close()
        for name, proc in loads.items():
            out, _ = proc.communicate(timeout=60)
            counts = h2load_counts(out)
            self.numbers[name] = f"{counts['total']} requests, {counts['2xx']} 2xx, {counts['failed']} failed, {counts['errored']} errored"
            if counts["failed"] or counts["errored"] or counts["timeout"] or counts["2xx"] != counts["succeeded"]:
                ledger.problem(f"{name} saw failures:\n{out}")
        (self.tmp_path / "resources.tsv").write_text("".join(f"{t:.1f}\t{f}\t{r}\n" for t, f, r in self.resources))

    def check_recovery(self):
        """Everything is back, and Vortex serves every path again."""
        assert all(o.alive for o in self.web + self.h2c)
        if not wait_decided_by_redis(self.proxy.url):
            self.ledger.problem("after the soak, Redis never decided again")
        still_out = wait_recovered(self.proxy)
        if still_out:
            self.ledger.problem(f"endpoints not back 15 s after the soak: {still_out}")
        for got in check_every_protocol(self.proxy.url, self.plain, self.secure, "final", 10):
            if got.kind != "ok":
                self.ledger.problem(f"after the soak: {got}")

    def check_resources(self):
        """Descriptors back at the baseline once the pools and sessions idled out; RSS bounded
        and flat. Under ASan freed memory sits in its quarantine: RSS says nothing there."""
        pid = self.proxy.pid
        deadline = time.monotonic() + 20
        end_fds = open_fds(pid)
        while end_fds > self.base_fds and time.monotonic() < deadline:
            time.sleep(0.2)
            end_fds = open_fds(pid)
        if end_fds > self.base_fds:
            self.ledger.problem(f"descriptors: {end_fds} 20 s after the load, {self.base_fds} before it\n{fd_targets(pid)}")
        end_rss = self.proxy.rss()
        thirds = rss_by_third(self.resources)
        if not SANITIZED and end_rss - self.base_rss > MAX_RSS_GROWTH:
            self.ledger.problem(f"RSS grew by {(end_rss - self.base_rss) >> 20} MiB")
        if not SANITIZED and len(thirds) == 3 and thirds[2] - thirds[1] > MAX_RSS_DRIFT:
            self.ledger.problem(f"RSS drifts up under steady load: medians by third {[t >> 20 for t in thirds]} MiB")
        mib = 1 << 20
        self.numbers["descriptors"] = f"{self.base_fds} before, peak {max(f for _, f, _ in self.resources)}, {end_fds} after"
        self.numbers["RSS MiB"] = (
            f"{self.base_rss / mib:.1f} before, peak {max(r for _, _, r in self.resources) / mib:.1f}, {end_rss / mib:.1f} after; "
            f"median by third of the run {[round(r / mib, 1) for r in thirds]}"
        )

    def check_metrics(self):
        problem = self.ledger.problem
        text = scrape(self.proxy)
        reloads = tuple(metric_sum(text, "vortex_config_reloads_total", result=r) for r in ("success", "failure"))
        if reloads != (self.ledger.reloads_ok, self.ledger.reloads_refused):
            problem(f"vortex_config_reloads_total (success, failure) = {reloads}, expected {(self.ledger.reloads_ok, self.ledger.reloads_refused)}")
        contained = metric_sum(text, "vortex_contained_failures_total")
        if contained:
            problem(f"vortex_contained_failures_total = {contained}\n{self.proxy.stderr()[-3000:]}")
        decisions = {d: metric_sum(text, "vortex_rate_limit_decisions_total", decision=d) for d in ("allowed", "limited", "error")}
        if decisions["limited"] or not decisions["allowed"]:
            problem(f"rate limit decisions {decisions}: the generous policy never denies, and Redis answered")
        self.numbers["rate limit decisions"] = ", ".join(f"{k} {v:g}" for k, v in decisions.items())
        # Nothing is in flight any more: gauges that kept a count would skew balancing and dashboards.
        for gauge in ("vortex_downstream_connections_active", "vortex_upstream_active_requests"):
            deadline = time.monotonic() + 5  # the connections gauge is refreshed every 200 ms
            while (left := metric_sum(scrape(self.proxy), gauge)) and time.monotonic() < deadline:
                time.sleep(0.2)
            if left:
                problem(f"{gauge} sums to {left:g} with no client left")

    def judge_every_request(self) -> list[str]:
        """Stops Vortex (a crash or a bad exit fails there; the access log is flushed), then judges
        every checked request against the access log, and what no client checked (h2load's) by
        its status. Returns what is unexpected."""
        self.proxy.stop()
        logged: dict[str, dict] = {}
        statuses = Counter()
        unexpected = []
        for line in self.access_log.read_text().splitlines():
            record = json.loads(line)
            if record["request_id"] in logged:
                unexpected.append(f"UNEXPECTED: request id logged twice: {logged[record['request_id']]} and {record}")
            logged[record["request_id"]] = record
            statuses[record["status"]] += 1
        verdicts = Counter()
        for outcome in self.ledger.outcomes:
            verdict = judge(outcome, logged.get(outcome.request_id), self.ledger)
            verdicts[verdict] += 1
            if verdict.startswith("UNEXPECTED"):
                unexpected.append(f"{verdict}: {outcome} access log: {logged.get(outcome.request_id)}")
        checked = {o.request_id for o in self.ledger.outcomes}
        for rid, record in logged.items():
            if record["status"] == 200 or rid in checked or rid.startswith("vanish-"):
                continue
            logged_at = datetime.fromisoformat(record["time"].replace("Z", "+00:00")).timestamp()
            if record["status"] == 499 and abs(logged_at - self.load_ends_at) < 5:
                continue  # h2load leaving at its deadline with requests in flight
            unexpected.append(f"UNEXPECTED: {record['status']} on an unchecked request: {record}")
        self.numbers["verdicts"] = ", ".join(f"{k} {v}" for k, v in verdicts.most_common())
        self.numbers["access log"] = f"{len(logged)} requests, statuses {dict(statuses)}"
        return unexpected

    def summary(self) -> list[str]:
        ledger = self.ledger
        counted = {
            "faults": ", ".join(f"{k} {v}" for k, v in sorted(ledger.faults.items())),
            "by client": ", ".join(f"{k} {v}" for k, v in sorted(Counter(o.client for o in ledger.outcomes).items())),
            "vanished clients": ", ".join(f"{k} {v}" for k, v in sorted(ledger.vanished.items())),
        }
        head = f"fault soak: {self.elapsed:.0f} s (FAULT_SOAK_SECONDS={SECONDS:.0f}), {len(ledger.outcomes)} checked requests"
        return [head] + [f"  {k}: {v}" for k, v in (counted | self.numbers).items()]


def test_http1_and_http2_load_through_origin_kills_redis_restarts_reloads_and_vanishing_clients(
    vortex, tmp_path, capsys
):
    redis = RedisServer()
    web = [OriginProcess(f"o{i}") for i in range(1, 5)]
    h2c = [OriginProcess(f"h2c{i}", "h2c") for i in range(1, 3)]
    try:
        soak = FaultSoak(vortex, tmp_path, redis, web, h2c)
        soak.warm_up_and_take_baseline()
        soak.run_storm()
        soak.check_recovery()
        soak.check_resources()
        soak.check_metrics()
        unexpected = soak.judge_every_request()
    finally:
        for o in web + h2c:
            o.kill()
        redis.stop()
    summary = soak.summary() + [f"  unexpected: {len(unexpected)}, problems: {len(soak.ledger.problems)}"]
    with capsys.disabled():
        print("\n" + "\n".join(summary))
    assert not unexpected and not soak.ledger.problems, "\n".join(summary + unexpected[:30] + soak.ledger.problems[:30])


def rss_by_third(resources: list[tuple[float, int, int]]) -> list[int]:
    """The median RSS sample of each third of the run."""
    rss = [r for _, _, r in resources]
    thirds = [sorted(rss[i * len(rss) // 3 : (i + 1) * len(rss) // 3]) for i in range(3)]
    return [t[len(t) // 2] for t in thirds if t]


def fd_targets(pid: int) -> str:
    """What the descriptors point at, counted (for a leak's report)."""
    kinds = Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kinds[re.sub(r"\[\d+\]", "", target)] += 1
    return ", ".join(f"{k} {v}" for k, v in kinds.most_common())

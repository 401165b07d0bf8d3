"""Helpers of the rate-limit and ban suites (SPEC.md §2 rate_limits/bans, §3 429): one request
per connection from a chosen loopback source address, the exact check of a 429 answer, and a
real redis-server on a free port that a test can kill, freeze and restart.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from rawhttp import RawConnection, Response, request_bytes
from vortex_harness import free_port

RATELIMIT_FIELDS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


def connect(port: int, source: str = "127.0.0.1", timeout: float = 5.0) -> RawConnection:
    """A RawConnection to 127.0.0.1:port whose source address is `source` (any 127.x.y.z works
    on Linux loopback), so a test can play several clients for client_ip keys and bans."""
    conn = RawConnection.__new__(RawConnection)
    conn.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.buf = b""
    conn.eof = False
    conn.reset = False
    return conn


def get(port: int, path: str = "/", headers=None, source: str = "127.0.0.1", timeout: float = 5.0) -> Response:
    """One GET on a new connection."""
    with connect(port, source, timeout) as conn:
        conn.send(request_bytes("GET", path, headers))
        return conn.read_response(timeout=timeout)


def get_on(conn: RawConnection, path: str = "/", headers=None, timeout: float = 5.0) -> Response:
    """One GET on an open keep-alive connection."""
    assert conn.send(request_bytes("GET", path, headers)), "connection closed before the request"
    return conn.read_response(timeout=timeout)


def fields(resp: Response) -> tuple[int, int, int]:
    """(RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset), each present exactly once."""
    out = []
    for name in RATELIMIT_FIELDS:
        values = resp.headers_named(name)
        assert len(values) == 1, f"{name}: {values!r} in {resp.headers!r}"
        out.append(int(values[0]))
    return tuple(out)


def assert_no_ratelimit_fields(resp: Response):
    present = [n for n, _ in resp.headers if n.lower() in RATELIMIT_FIELDS + ("retry-after",)]
    assert not present, f"unexpected rate-limit fields {present} in {resp.headers!r}"


def assert_429(resp: Response, limit: int, max_retry_ms: int) -> int:
    """The SPEC.md §3 answer, exactly: 429, application/json, body {"error":"Rate limit
    exceeded","retry_after_ms":N} with 0 < N <= max_retry_ms, Retry-After = ceil(N / 1000)
    seconds, RateLimit-Limit = limit, RateLimit-Remaining = 0, RateLimit-Reset present.
    Returns N."""
    assert resp.status == 429, f"expected 429, got {resp.status} {resp.body[:300]!r}"
    ctype = (resp.header("content-type") or "").split(";")[0].strip().lower()
    assert ctype == "application/json", resp.headers
    body = json.loads(resp.body)
    assert list(body) == ["error", "retry_after_ms"], body
    assert body["error"] == "Rate limit exceeded", body
    retry_ms = body["retry_after_ms"]
    assert isinstance(retry_ms, int) and 0 < retry_ms <= max_retry_ms, body
    assert resp.headers_named("retry-after") == [str(math.ceil(retry_ms / 1000))], (resp.headers, body)
    got_limit, remaining, reset = fields(resp)
    assert (got_limit, remaining) == (limit, 0), resp.headers
    assert reset * 1000 >= retry_ms, (resp.headers, body)  # full again no sooner than the next pass
    return retry_ms


def statuses(port: int, n: int, path: str = "/", headers=None, source: str = "127.0.0.1") -> list[int]:
    """Status of n sequential requests over one keep-alive connection."""
    with connect(port, source) as conn:
        return [get_on(conn, path, headers).status for _ in range(n)]


class RedisServer:
    """A private redis-server on a free loopback port: no persistence, own dir, own process
    group. kill() = SIGKILL (Redis gone); freeze()/thaw() = SIGSTOP/SIGCONT (Redis hangs);
    start() again = a new process on the same port (empty, no script cached)."""

    def __init__(self, start: bool = True):
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed (scripts/bootstrap.sh)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="vx-redis-")
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}"
        if start:
            self.start()

    def start(self, timeout: float = 10.0):
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.command("PING") == "PONG":
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer PING on {self.port}")

    def command(self, *args: str, timeout: float = 2.0) -> str:
        """Runs one command through redis-cli; its raw text reply."""
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args], capture_output=True, text=True, timeout=timeout
        )
        if out.returncode != 0 or "Could not connect" in out.stdout + out.stderr:
            raise ConnectionRefusedError(out.stdout + out.stderr)
        return out.stdout.strip()

    def commandstats(self) -> dict[str, int]:
        """calls per command from INFO commandstats, e.g. {"evalsha": 12, "script|load": 1}."""
        stats = {}
        for line in self.command("INFO", "commandstats").splitlines():
            if line.startswith("cmdstat_"):
                name, _, rest = line[len("cmdstat_") :].partition(":")
                kv = dict(p.split("=", 1) for p in rest.split(","))
                stats[name] = int(kv["calls"])
        return stats

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(5)

    def freeze(self):
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

"""Soak (`make test-slow`, not in `make test`): mixed HTTP/1.1 traffic through one Vortex for
SOAK_SECONDS (30): wrk keep-alive GETs, uploads and downloads with every byte checked, pipelined
bursts, and clients that vanish mid-request, all at once. Afterwards nothing failed, the proxy's
descriptors are back where they started once its idle pool expired, and its memory stayed flat.

The hot path takes shortcuts when nothing has to wait (try_read_head, try_recv_head,
try_recv_body, try_send_body) and the full coroutines otherwise; this load mixes both."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import subprocess
import threading
import time

import httpx
import pytest

from origins import pattern_sha256
from rawhttp import RawConnection
from vortex_harness import simple_config

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("SOAK_SECONDS", "30"))
POOL_IDLE_MS = 1000


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Workers:
    """Runs each job in a loop on its own thread until the deadline; collects what failed."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        self.failures: list[str] = []
        self.rounds: dict[str, int] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, name: str, job):
        def loop():
            rng = random.Random(name)
            count = 0
            while time.monotonic() < self.deadline:
                try:
                    job(rng)
                except Exception as e:  # noqa: BLE001 - every failure is reported, none hidden
                    with self._lock:
                        self.failures.append(f"{name}: {type(e).__name__}: {e}")
                    return
                count += 1
            with self._lock:
                self.rounds[name] = count

        t = threading.Thread(target=loop, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def join(self):
        for t in self._threads:
            t.join(timeout=SECONDS + 60)
            assert not t.is_alive(), f"{t.name} still running"


def test_mixed_http1_load_fails_nothing_and_leaks_nothing(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address, cluster=f"pool: {{ idle_timeout_ms: {POOL_IDLE_MS} }}"))
    url = proxy.url
    with httpx.Client(trust_env=False, timeout=10.0) as warm:
        for _ in range(20):
            assert warm.get(f"{url}/warm").status_code == 200
    time.sleep(POOL_IDLE_MS / 1000 * 2.5)  # the warm-up's pooled connections expire
    base_fds = open_fds(proxy.pid)
    base_rss = proxy.rss()

    wrk = subprocess.Popen(
        ["wrk", "-t1", "-c16", f"-d{int(SECONDS)}s", "--timeout", "5s", f"{url}/wrk"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    workers = Workers(SECONDS)

    def uploads(rng: random.Random):
        with httpx.Client(trust_env=False, timeout=10.0) as client:
            for _ in range(10):
                data = rng.randbytes(rng.choice([0, 1, 1000, 65536, 300_000]))
                if rng.random() < 0.5:
                    body = data
                else:  # chunked: a generator has no length
                    body = (data[i : i + 7000] for i in range(0, len(data), 7000))
                got = client.post(f"{url}/up", content=body)
                assert got.status_code == 200, got.text
                echo = got.json()
                assert echo["body_bytes"] == len(data)
                assert echo["body_sha256"] == hashlib.sha256(data).hexdigest()

    def downloads(rng: random.Random):
        with httpx.Client(trust_env=False, timeout=10.0) as client:
            for _ in range(10):
                n = rng.choice([0, 1, 4096, 200_000, 2_000_000])
                chunked = "?chunked=1" if rng.random() < 0.5 else ""
                got = client.get(f"{url}/bytes/{n}{chunked}")
                assert got.status_code == 200
                assert len(got.content) == n
                assert hashlib.sha256(got.content).hexdigest() == pattern_sha256(n)

    def pipelined(rng: random.Random):
        burst = rng.randint(2, 12)
        with RawConnection(proxy.port) as conn:
            conn.send(b"".join(f"GET /pipe/{i} HTTP/1.1\r\nHost: soak\r\n\r\n".encode() for i in range(burst)))
            for i in range(burst):
                got = conn.read_response(timeout=10.0)
                assert got.status == 200
                assert got.json()["path"] == f"/pipe/{i}"  # in order

    def vanishing(rng: random.Random):
        # Gone mid-head, or mid-body after the request went upstream: the proxy must drop
        # both sides of it and keep serving everyone else.
        s = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        if rng.random() < 0.5:
            s.sendall(b"GET /gone HTTP/1.1\r\nHost: so")
        else:
            s.sendall(b"POST /gone HTTP/1.1\r\nHost: soak\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
        time.sleep(rng.uniform(0, 0.05))
        s.close()

    for i in range(2):
        workers.start(f"uploads-{i}", uploads)
        workers.start(f"downloads-{i}", downloads)
    workers.start("pipelined", pipelined)
    workers.start("vanishing", vanishing)
    workers.join()
    out, _ = wrk.communicate(timeout=SECONDS + 30)

    assert not workers.failures, "\n".join(workers.failures)
    assert all(workers.rounds.get(n, 0) > 0 for n in ("uploads-0", "downloads-0", "pipelined", "vanishing")), workers.rounds
    assert wrk.returncode == 0, out
    assert "Non-2xx" not in out and "Socket errors" not in out, out
    requests = int(next(line.split()[0] for line in out.splitlines() if " requests in " in line))
    assert requests > 1000, out

    # Every client is gone; the idle upstream connections expire after POOL_IDLE_MS.
    deadline = time.monotonic() + 15
    while open_fds(proxy.pid) > base_fds and time.monotonic() < deadline:
        time.sleep(0.2)
    assert open_fds(proxy.pid) <= base_fds, f"descriptors: {open_fds(proxy.pid)} now, {base_fds} before the load"
    growth = proxy.rss() - base_rss
    # Under ASan freed memory sits in its quarantine: RSS says nothing there.
    if os.environ.get("VORTEX_SANITIZED") != "1":
        assert growth < 64 << 20, f"RSS grew by {growth >> 20} MiB"

    with httpx.Client(trust_env=False, timeout=5.0) as after:
        assert after.get(f"{url}/after").status_code == 200

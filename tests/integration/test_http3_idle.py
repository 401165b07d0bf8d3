"""Many idle HTTP/3 connections (issue 19): a few hundred QUIC connections each make one request
and are then left idle. Each one must still be served afterwards, what Vortex holds per idle
HTTP/3 connection must stay within a budget, and the memory must return once they close.

The client is tests/h3client in idle mode (-idle N: every connection on one shared UDP socket,
the line protocol of bench/macro/idle_conns.py: HELD / verify / close)."""

from __future__ import annotations

import os

import pytest

from idle_client import IdleClient, assert_rss_returns, held_rss, settled_rss
from test_http3 import h3client  # noqa: F401  (the fixture that builds tests/h3client)
from tls_certs import make_cert, tls_listener
from vortex_harness import free_port

COUNT = 500
# What one idle HTTP/3 connection may cost Vortex at most (RSS growth / COUNT). Measured (one
# worker, direct_response, 500 connections): ~100 KiB while each kept its GnuTLS session after
# the handshake, ~86 KiB since it is freed; nearly all of the rest is ngtcp2's and nghttp3's
# fixed per-connection state (docs/BENCHMARKS.md §12, "HTTP/3 idle connections").
BUDGET = 92 * 1024
# Under ASan the memory checks mean nothing (redzones, quarantine); that all are served does.
SANITIZED = os.environ.get("VORTEX_SANITIZED") == "1"


@pytest.fixture
def proxy(vortex, tmp_path):
    cert, key = make_cert(tmp_path, "h3idle", "localhost", ["localhost", "127.0.0.1"])
    port = free_port()
    config = (
        tls_listener(port, [(cert, key, ["*"])])
        + "    http3: true\n"
        + "routes:\n"
        + '  - { name: r, match: { path_prefix: "/" }, direct_response: { status: 200, body: "idle-ok" } }\n'
        + f"limits: {{ idle_timeout_ms: 120000, max_connections: {COUNT * 4} }}\n"
    )
    proc = vortex(config, port=port)
    proc.h3 = f"https://127.0.0.1:{port}/idle"
    return proc


def idle_h3_client(binary: str, url: str, count: int) -> IdleClient:
    """tests/h3client -idle: `count` HTTP/3 connections over one UDP socket."""
    return IdleClient([binary, "-idle", str(count), "-timeout", "30s", url])


def test_idle_http3_connections_stay_small_stay_served_and_give_memory_back(proxy, h3client):  # noqa: F811
    warm = idle_h3_client(h3client, proxy.h3, 32)  # the worker's pools and first arenas exist first
    assert warm.answer() == ["HELD", "32", "0"]
    warm.close()
    before = settled_rss(proxy)

    client = idle_h3_client(h3client, proxy.h3, COUNT)
    try:
        assert client.answer() == ["HELD", str(COUNT), "0"], "every connection's first request answered"
        held = held_rss(proxy, before, COUNT, BUDGET)
        per_connection = (held - before) / COUNT
        print(f"\nHTTP/3 idle: {per_connection / 1024:.1f} KiB per connection "
              f"(RSS {before / 2**20:.1f} -> {held / 2**20:.1f} MiB for {COUNT})")
        assert SANITIZED or per_connection <= BUDGET, (
            f"{per_connection / 1024:.1f} KiB per idle HTTP/3 connection (budget {BUDGET // 1024} KiB)")
        # A second request on every one of them is answered: nothing was lost by giving their
        # memory back.
        assert client.command("verify") == ["VERIFIED", str(COUNT), "0"]
    finally:
        client.close()

    if SANITIZED:
        return
    assert_rss_returns(proxy, before, held, "HTTP/3")

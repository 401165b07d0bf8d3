"""Bodies stream through the proxy with backpressure: a 256 MiB download and a 1 GiB upload
pass intact while the proxy's resident memory grows by less than 32 MiB.

Under ASan (VORTEX_SANITIZED=1, `make test-asan`) freed buffers sit in the allocator's
quarantine, so RSS says nothing about buffering there: the bound is checked only on
normal builds; the integrity checks always run."""

import hashlib
import os
import threading

import pytest

from origins import generate, pattern_sha256
from rawhttp import RawConnection, iter_body, read_head, request_bytes
from vortex_harness import RssSampler, simple_config

MiB = 1024 * 1024
MAX_RSS_GROWTH = 32 * MiB
SANITIZED = os.environ.get("VORTEX_SANITIZED") == "1"


def _assert_rss_growth_bounded(peak: int, baseline: int, what: str):
    if SANITIZED:
        return
    growth = peak - baseline
    assert growth < MAX_RSS_GROWTH, f"proxy RSS grew by {growth / MiB:.1f} MiB during {what}"


def _download(proxy, target: str) -> tuple[int, str, object]:
    with RawConnection(proxy.port, timeout=30) as conn:
        conn.send(request_bytes("GET", target))
        resp = read_head(conn, timeout=30)
        assert resp.status == 200
        h = hashlib.sha256()
        n = 0
        for part in iter_body(conn, resp, timeout=30):
            n += len(part)
            h.update(part)
        return n, h.hexdigest(), resp


def _warm_up(proxy):
    """Lets the proxy allocate its steady-state buffers before the baseline is taken."""
    for _ in range(3):
        n, _, _ = _download(proxy, f"/bytes/{4 * MiB}")
        assert n == 4 * MiB


@pytest.mark.timeout(180)
def test_256mib_download_streams_with_bounded_proxy_memory(vortex, echo_origin):
    size = 256 * MiB
    proxy = vortex(simple_config(echo_origin.address))
    _warm_up(proxy)
    baseline = proxy.rss()
    with RssSampler(proxy.pid) as rss:
        n, sha, resp = _download(proxy, f"/bytes/{size}")
    assert n == size
    assert resp.header("content-length") == str(size)
    assert sha == pattern_sha256(size)
    _assert_rss_growth_bounded(rss.peak, baseline, "a 256 MiB download")


@pytest.mark.timeout(180)
def test_256mib_chunked_download_streams_with_bounded_proxy_memory(vortex, echo_origin):
    size = 256 * MiB
    proxy = vortex(simple_config(echo_origin.address))
    _warm_up(proxy)
    baseline = proxy.rss()
    with RssSampler(proxy.pid) as rss:
        n, sha, _ = _download(proxy, f"/bytes/{size}?chunked=1")
    assert n == size
    assert sha == pattern_sha256(size)
    _assert_rss_growth_bounded(rss.peak, baseline, "a chunked 256 MiB download")


@pytest.mark.timeout(300)
def test_1gib_upload_streams_with_bounded_proxy_memory(vortex, echo_origin):
    size = 1024 * MiB
    proxy = vortex(simple_config(echo_origin.address))
    _warm_up(proxy)
    baseline = proxy.rss()
    sent = hashlib.sha256()
    with RssSampler(proxy.pid) as rss, RawConnection(proxy.port, timeout=60) as conn:
        conn.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
        failure = []

        def pump():
            for part in generate(size):
                sent.update(part)
                if not conn.send(part):
                    failure.append("the proxy closed the connection during the upload")
                    return

        sender = threading.Thread(target=pump)
        sender.start()
        sender.join(240)
        assert not sender.is_alive(), "upload stalled"
        assert not failure, failure
        resp = conn.read_response(method="POST", timeout=60)
    assert resp.status == 200, resp.body[:300]
    echo = resp.json()
    assert echo["body_bytes"] == size
    assert echo["body_sha256"] == sent.hexdigest()
    _assert_rss_growth_bounded(rss.peak, baseline, "a 1 GiB upload")

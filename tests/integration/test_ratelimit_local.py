"""Rate limiting with the in-process store (SPEC.md §2 rate_limits, store: local; §3 429): the
exact GCRA sequence (burst + 1 pass at once, then 429, one more every T), the 429 answer field by
field, RateLimit-* on allowed answers, the three key kinds, one limit for all workers, and
direct_response routes limited like proxied ones."""

import signal
import threading
import time

import pytest

from ratelimit_support import assert_429, assert_no_ratelimit_fields, connect, fields, get, get_on, statuses


def _config(policies: str, routes: str, clusters: str = "", workers: int | None = None) -> str:
    text = "rate_limits:\n  policies:\n" + policies + "routes:\n" + routes
    if clusters:
        text += "clusters:\n" + clusters
    if workers:
        text = f"workers: {workers}\n" + text
    return text


def _direct(name: str, path: str, policy: str | None) -> str:
    limit = f", rate_limit: {policy}" if policy else ""
    return (
        f'  - {{ name: {name}, match: {{ path_prefix: "{path}" }}{limit},\n'
        f'      direct_response: {{ status: 200, body: "ok {name}\\n", content_type: "text/plain" }} }}\n'
    )


def test_burst_plus_one_pass_at_once_then_429_then_one_more_after_the_emission_interval(vortex, echo_origin):
    # T = 1000 ms / 1 = 1 s, burst 3: 4 requests pass at once; the 5th is refused.
    proxy = vortex(
        _config(
            "    - { name: p, key: client_ip, rate: 1, period_ms: 1000, burst: 3 }\n",
            '  - { name: r, match: { path_prefix: "/" }, cluster: c, rate_limit: p }\n',
            f'  - {{ name: c, endpoints: [{{ address: "{echo_origin.address}" }}] }}\n',
        )
    )
    before = echo_origin.heads
    with connect(proxy.port) as conn:
        allowed = [get_on(conn, f"/a{i}") for i in range(4)]
        denied = get_on(conn, "/a4")
        for resp in allowed:
            assert resp.status == 200, resp.body
        # Limit = burst + 1; Remaining counts down; Reset = until the bucket is full (k x T).
        assert [fields(r) for r in allowed] == [(4, 3, 1), (4, 2, 2), (4, 1, 3), (4, 0, 4)]
        assert all(r.header("retry-after") is None for r in allowed)
        retry_ms = assert_429(denied, limit=4, max_retry_ms=1000)
        assert fields(denied)[2] == 4
        assert echo_origin.heads - before == 4  # the 429 never reached the origin
        time.sleep(retry_ms / 1000 + 0.05)
        again = get_on(conn, "/a5")
        assert again.status == 200, again.body
        assert fields(again)[:2] == (4, 0)
        assert_429(get_on(conn, "/a6"), limit=4, max_retry_ms=1000)
    assert echo_origin.heads - before == 5


def test_retry_after_is_whole_seconds_rounded_up(vortex):
    # T = 2.5 s, burst 0: the second request waits ~2500 ms -> Retry-After: 3, Reset: 3.
    proxy = vortex(
        _config(
            "    - { name: slow, key: client_ip, rate: 2, period_ms: 5000, burst: 0 }\n",
            _direct("d", "/", "slow"),
        )
    )
    with connect(proxy.port) as conn:
        first = get_on(conn)
        assert first.status == 200 and first.body == b"ok d\n"
        assert fields(first) == (1, 0, 3)
        denied = get_on(conn)
        retry_ms = assert_429(denied, limit=1, max_retry_ms=2500)
        assert retry_ms > 2000, retry_ms
        assert denied.header("retry-after") == "3"
        assert fields(denied)[2] == 3


def test_client_ip_key_gives_every_client_address_its_own_bucket(vortex):
    proxy = vortex(
        _config(
            "    - { name: p, key: client_ip, rate: 1, period_ms: 60000, burst: 1 }\n",
            _direct("d", "/", "p"),
        )
    )
    assert statuses(proxy.port, 3, source="127.0.0.1") == [200, 200, 429]
    assert statuses(proxy.port, 3, source="127.0.0.2") == [200, 200, 429]
    # new connections do not reset anything: the key is the address, not the connection
    assert get(proxy.port, source="127.0.0.1").status == 429
    assert get(proxy.port, source="127.0.0.3").status == 200


def test_header_key_limits_per_value_and_requests_without_it_share_the_key_dash(vortex):
    proxy = vortex(
        _config(
            "    - { name: p, key: header:X-Api-Key, rate: 1, period_ms: 60000, burst: 1 }\n",
            _direct("d", "/", "p"),
        )
    )
    a, b = [("x-api-key", "a")], [("X-API-KEY", "b")]
    assert statuses(proxy.port, 3, headers=a) == [200, 200, 429]
    # another value, even from the same address, is another bucket
    assert statuses(proxy.port, 2, headers=b) == [200, 200]
    assert get(proxy.port, headers=b, source="127.0.0.2").status == 429  # ... and any address
    # without the header: every such request, from any client, counts under "-"
    assert get(proxy.port, source="127.0.0.1").status == 200
    assert get(proxy.port, source="127.0.0.2").status == 200
    denied = get(proxy.port, source="127.0.0.3")
    assert_429(denied, limit=2, max_retry_ms=60000)
    assert get(proxy.port, headers=[("x-api-key", "c")]).status == 200


def test_route_key_shares_one_bucket_per_route_across_clients(vortex):
    proxy = vortex(
        _config(
            "    - { name: p, key: route, rate: 1, period_ms: 60000, burst: 1 }\n"
            "    - { name: q, key: route, rate: 1, period_ms: 60000, burst: 0 }\n",
            _direct("one", "/one", "p") + _direct("two", "/two", "p") + _direct("three", "/three", "q"),
        )
    )
    assert get(proxy.port, "/one", source="127.0.0.1").status == 200
    assert get(proxy.port, "/one", source="127.0.0.2").status == 200
    assert get(proxy.port, "/one", source="127.0.0.3").status == 429
    # same policy, another route: its own bucket
    assert statuses(proxy.port, 3, "/two", source="127.0.0.4") == [200, 200, 429]
    # another policy: its own bucket and its own limit
    assert statuses(proxy.port, 2, "/three") == [200, 429]


def test_direct_response_routes_are_limited_and_carry_ratelimit_fields(vortex):
    proxy = vortex(
        _config(
            "    - { name: p, key: client_ip, rate: 10, period_ms: 10000, burst: 1 }\n",
            _direct("limited", "/limited", "p") + _direct("free", "/", None),
        )
    )
    with connect(proxy.port) as conn:
        first, second = get_on(conn, "/limited"), get_on(conn, "/limited")
        assert (first.status, first.body, fields(first)) == (200, b"ok limited\n", (2, 1, 1))
        assert (second.status, fields(second)[:2]) == (200, (2, 0))
        assert_429(get_on(conn, "/limited"), limit=2, max_retry_ms=1000)
        # a route without rate_limit is neither limited nor marked
        for _ in range(5):
            free = get_on(conn, "/free")
            assert free.status == 200
            assert_no_ratelimit_fields(free)


def test_one_limit_is_shared_by_all_workers_over_many_connections(vortex):
    # 60 connections at once, spread over 2 workers by SO_REUSEPORT: exactly burst + 1 pass.
    proxy = vortex(
        _config(
            "    - { name: p, key: client_ip, rate: 1, period_ms: 600000, burst: 9 }\n",
            _direct("d", "/", "p"),
            workers=2,
        )
    )
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(60)

    def client():
        with connect(proxy.port) as conn:
            start.wait()
            status = get_on(conn).status
        with lock:
            results.append(status)

    threads = [threading.Thread(target=client) for _ in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 10 + [429] * 50


@pytest.mark.parametrize("workers", [1, 2])
def test_policy_never_reached_lets_every_request_through_with_fields(vortex, workers):
    proxy = vortex(
        _config(
            "    - { name: big, key: client_ip, rate: 100000, period_ms: 1000, burst: 1000 }\n",
            _direct("d", "/", "big"),
            workers=workers,
        )
    )
    with connect(proxy.port) as conn:
        for _ in range(50):
            resp = get_on(conn)
            assert resp.status == 200
            limit, remaining, _ = fields(resp)
            assert limit == 1001 and remaining >= 950


def test_a_policy_added_by_a_reload_applies_to_new_requests(vortex):
    # Started without any rate_limits section: the reload that adds one must still limit.
    proxy = vortex("routes:\n" + _direct("d", "/", None))
    assert statuses(proxy.port, 5) == [200] * 5
    harness_head = proxy.config_text.split("routes:\n")[0]  # listener, admin, metrics ...
    text = harness_head + _config(
        "    - { name: p, key: client_ip, rate: 1, period_ms: 60000, burst: 1 }\n",
        _direct("d", "/", "p"),
    )
    proxy.config_path.write_text(text)
    proxy.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "reloaded" not in proxy.stderr() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "reloaded" in proxy.stderr(), proxy.describe()
    assert statuses(proxy.port, 3) == [200, 200, 429]

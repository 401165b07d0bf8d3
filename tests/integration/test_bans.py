"""Automatic bans (SPEC.md §2 bans): after_violations 429s within window_ms ban the client for
ttl_ms, its new connections refused at accept (closed without an HTTP answer); the sweeper
lifts the ban every sweep_interval_ms; after_violations: 0 turns them off."""

import time

from rawhttp import request_bytes
from ratelimit_support import connect, get, statuses

# burst 0 and one request a minute: every request after the first is a 429.
POLICY = "    - { name: p, key: client_ip, rate: 1, period_ms: 60000, burst: 0 }\n"


def _config(bans: str, listener: str = "") -> str:
    text = (
        "rate_limits:\n  policies:\n" + POLICY + "routes:\n"
        '  - { name: d, match: { path_prefix: "/" }, rate_limit: p,\n'
        '      direct_response: { status: 200, body: "ok\\n", content_type: "text/plain" } }\n'
        f"bans: {{ {bans} }}\n"
    )
    if listener:
        text = f'listeners:\n  - {{ name: main, address: "{listener}" }}\n' + text
    return text


def refused(port: int, source: str, timeout: float = 3.0) -> bool:
    """True when a new connection from `source` is closed (FIN or RST) without any HTTP answer;
    False when it is answered. Raises when neither happens within timeout."""
    try:
        conn = connect(port, source, timeout)
    except ConnectionError:
        return True
    with conn:
        conn.send(request_bytes("GET", "/", [("Connection", "close")]))
        data = conn.read_until_close(timeout)
        if data.startswith(b"HTTP/1.1 "):
            return False
        assert conn.eof, f"neither answered nor closed within {timeout}s: {data!r}"
        assert data == b"", data
        return True


def test_client_over_after_violations_is_refused_at_accept_until_the_sweeper_lifts_it(vortex):
    ttl_ms = 1500
    proxy = vortex(_config(f"after_violations: 3, window_ms: 10000, ttl_ms: {ttl_ms}, sweep_interval_ms: 50"))
    bad, good = "127.0.0.5", "127.0.0.6"
    assert statuses(proxy.port, 3, source=bad) == [200, 429, 429]  # two violations: not yet
    assert not refused(proxy.port, bad)  # (answered: 429, the third violation)
    banned_at = time.monotonic()
    for _ in range(3):
        assert refused(proxy.port, bad)
    assert get(proxy.port, source=good).status == 200  # only the offender is banned
    # Lifted after ttl_ms by the sweeper (every 50 ms): not before, and not much later.
    while refused(proxy.port, bad):
        assert time.monotonic() - banned_at < ttl_ms / 1000 + 2.0, "ban not lifted"
        time.sleep(0.05)
    lifted_after = time.monotonic() - banned_at
    assert lifted_after >= ttl_ms / 1000 - 0.1, lifted_after
    # Served again (still over its rate: 429), and its violations count from zero.
    assert get(proxy.port, source=bad).status == 429
    assert not refused(proxy.port, bad)


def test_violations_spread_over_more_than_the_window_do_not_ban(vortex):
    proxy = vortex(_config("after_violations: 2, window_ms: 300, ttl_ms: 60000, sweep_interval_ms: 50"))
    assert statuses(proxy.port, 2) == [200, 429]
    time.sleep(0.5)
    assert get(proxy.port).status == 429  # second violation, but in a new window
    assert get(proxy.port).status == 429  # second of this window: banned now
    assert refused(proxy.port, "127.0.0.1")


def test_bans_are_off_when_after_violations_is_zero(vortex):
    proxy = vortex(_config("after_violations: 0, window_ms: 10000, ttl_ms: 60000, sweep_interval_ms: 50"))
    assert statuses(proxy.port, 30) == [200] + [429] * 29
    for _ in range(5):
        assert get(proxy.port).status == 429


def test_ipv4_clients_of_a_dual_stack_listener_are_banned_by_their_ipv4_address(vortex):
    # On "[::]:PORT" an IPv4 client appears as ::ffff:127.0.0.7; the ban recorded for its 429s
    # and the check at accept must name the same address.
    from vortex_harness import free_port

    port = free_port()
    proxy = vortex(
        _config("after_violations: 2, window_ms: 10000, ttl_ms: 60000, sweep_interval_ms: 50", listener=f"[::]:{port}"),
        port=port,
    )
    assert statuses(proxy.port, 3, source="127.0.0.7") == [200, 429, 429]
    assert refused(proxy.port, "127.0.0.7")
    assert not refused(proxy.port, "127.0.0.8")

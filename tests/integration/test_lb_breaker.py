"""Circuit breakers and the no-endpoint answer (SPEC.md §2 circuit_breaker, §3 503): connect
errors, resets and 5xx open an endpoint's breaker after consecutive_failures; with every
breaker open the proxy answers the SPEC 503 at once without connecting anywhere; after open_ms
a half-open probe lets a recovered endpoint serve again. Retries go to another endpoint."""

import time

import httpx

from origins import closed_port, echo_handler

SPEC_503 = {"error": "Service Unavailable", "message": "Circuit breaker open or all backend nodes are offline."}


class Switchable:
    """A handler whose behaviour the test flips: "ok" echoes, "reset" resets the connection
    before any response byte, "500" answers 500."""

    def __init__(self, mode="ok"):
        self.mode = mode

    def __call__(self, server, req, conn):
        if self.mode == "reset":
            conn.reset()
            return False
        if self.mode == "500":
            req.query["status"] = "500"
        return echo_handler(server, req, conn)


def _config(addresses, cluster_extra="", route_extra=""):
    endpoints = ", ".join(f'{{ address: "{a}" }}' for a in addresses)
    return f"""
    routes:
      - {{ name: r, match: {{ path_prefix: "/" }}, cluster: c{route_extra} }}
    clusters:
      - name: c
        endpoints: [{endpoints}]
        {cluster_extra}
    """


def test_both_dead_gets_503_at_once_without_connecting_then_one_comes_back(vortex, origin):
    mode_a, mode_b = Switchable("reset"), Switchable("reset")
    a, b = origin("a", mode_a), origin("b", mode_b)
    # A short decay so the failure penalties have faded by the time the breakers half-open.
    proxy = vortex(
        _config(
            [a.address, b.address],
            "circuit_breaker: { consecutive_failures: 2, open_ms: 1500, half_open_requests: 1 }\n"
            "        peak_ewma: { decay_ms: 200 }",
        )
    )
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        statuses = []
        for i in range(20):
            statuses.append(client.get(f"{proxy.url}/warm{i}").status_code)
            if statuses[-1] == 503:
                break
        assert statuses[-1] == 503, statuses
        assert set(statuses[:-1]) == {502}, statuses
        assert len(statuses) - 1 == 4  # two failures each opened both breakers

        accepted = (a.accepted, b.accepted)
        opened_at = time.monotonic()
        for i in range(20):
            start = time.monotonic()
            resp = client.get(f"{proxy.url}/open{i}")
            elapsed = time.monotonic() - start
            assert resp.status_code == 503
            assert resp.headers["content-type"] == "application/json"
            assert resp.json() == SPEC_503
            assert elapsed < 0.05, f"503 #{i} took {elapsed * 1000:.1f} ms"
        assert time.monotonic() - opened_at < 1.4, "the open window ended before the check did"
        assert (a.accepted, b.accepted) == accepted, "a connect was attempted while open"

        mode_a.mode = "ok"
        time.sleep(1.6)  # open_ms: both breakers half-open now
        statuses, names = [], []
        for i in range(15):
            resp = client.get(f"{proxy.url}/back{i}")
            statuses.append(resp.status_code)
            names.append(resp.headers.get("x-origin"))
        # b gets its one half-open probe at most (and fails it: open again); a serves the rest.
        assert statuses.count(502) <= 1, statuses
        assert statuses.count(200) >= 14 and set(n for n in names if n) == {"a"}, (statuses, names)
        assert b.accepted - accepted[1] <= 1


def test_5xx_answers_open_the_breaker(vortex, origin):
    mode = Switchable("500")
    a = origin("a", mode)
    proxy = vortex(_config([a.address], "circuit_breaker: { consecutive_failures: 3, open_ms: 60000 }"))
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        statuses = [client.get(f"{proxy.url}/x{i}").status_code for i in range(6)]
    assert statuses == [500, 500, 500, 503, 503, 503]
    assert a.heads == 3


def test_a_success_resets_the_failure_count(vortex, origin):
    mode = Switchable("500")
    a = origin("a", mode)
    proxy = vortex(_config([a.address], "circuit_breaker: { consecutive_failures: 3, open_ms: 60000 }"))
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        statuses = []
        for i in range(8):
            mode.mode = "ok" if i % 2 else "500"
            statuses.append(client.get(f"{proxy.url}/x{i}").status_code)
    assert statuses == [500, 200] * 4


def test_refused_endpoint_opens_and_traffic_goes_to_the_live_one(vortex, origin):
    live = origin("live")
    dead = f"127.0.0.1:{closed_port()}"
    proxy = vortex(
        _config([live.address, dead], "circuit_breaker: { consecutive_failures: 1, open_ms: 60000 }")
    )
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        statuses = [client.get(f"{proxy.url}/x{i}").status_code for i in range(30)]
    # The refused endpoint fails once (502), its breaker opens, and it is never tried again.
    assert statuses.count(502) <= 1, statuses
    assert statuses.count(200) >= 29


def test_idempotent_request_is_retried_on_another_endpoint_after_connect_failure(vortex, origin):
    live = origin("live")
    dead = f"127.0.0.1:{closed_port()}"
    proxy = vortex(
        _config(
            [dead, live.address],
            "circuit_breaker: { consecutive_failures: 1000 }",
            ", retries: { attempts: 1, on: [connect_failure, reset] }",
        )
    )
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        for i in range(20):
            resp = client.get(f"{proxy.url}/x{i}")
            assert resp.status_code == 200, resp.text
            assert resp.headers["x-origin"] == "live"
    assert live.request_count == 20

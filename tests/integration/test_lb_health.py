"""Active health checks (SPEC.md §2 clusters[].health_check): a side thread probes every
endpoint; an endpoint failing unhealthy_after checks in a row gets no traffic until
healthy_after checks pass; the checker follows config reloads; transitions are logged."""

import signal
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import httpx

CHECK = "health_check: { path: /healthz, interval_ms: 50, timeout_ms: 200, unhealthy_after: 2, healthy_after: 2 }"


def _two_endpoint_config(a, b, cluster_extra=CHECK):
    return f"""
    routes:
      - {{ name: r, match: {{ path_prefix: "/" }}, cluster: c }}
    clusters:
      - name: c
        lb: round_robin
        endpoints: [{{ address: "{a.address}" }}, {{ address: "{b.address}" }}]
        {cluster_extra}
    """


def _wait_for_log(proxy, text, timeout=5.0, count=1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proxy.stderr().count(text) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"no {text!r} in vortex's log within {timeout}s\n{proxy.describe()}")


def _spread(proxy, n):
    """Sends n sequential GETs; returns the origin names that answered, in order."""
    names = []
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        for i in range(n):
            r = client.get(f"{proxy.url}/n{i}")
            assert r.status_code == 200, r.text
            names.append(r.headers["x-origin"])
    return names


def test_every_endpoint_is_probed_at_the_configured_path_and_interval(vortex, origin):
    a, b = origin("a"), origin("b")
    vortex(_two_endpoint_config(a, b))
    time.sleep(0.6)
    # 50 ms interval over ~0.6 s: about 12 probes each; a loose band keeps a busy machine green
    # while still catching "never probed" and "probed in a tight loop".
    for o in (a, b):
        assert 3 <= o.probes <= 40, f"{o.name} answered {o.probes} probes in 0.6 s"
        assert o.heads == 0  # probes are not requests


def test_sick_endpoint_gets_no_traffic_until_healthy_after_passes(vortex, origin):
    a, sick = origin("a"), origin("sick")
    sick.probe_status = 503
    proxy = vortex(_two_endpoint_config(a, sick))
    _wait_for_log(proxy, f"endpoint {sick.address} is now unhealthy")
    assert "503" in proxy.stderr()
    assert _spread(proxy, 30) == ["a"] * 30
    assert sick.heads == 0

    sick.probe_status = 200
    _wait_for_log(proxy, f"endpoint {sick.address} is now healthy")
    names = _spread(proxy, 20)
    assert names.count("sick") == 10, names  # round robin over both again


def test_endpoint_that_answers_checks_too_slowly_is_unhealthy(vortex, origin):
    a, slow = origin("a"), origin("slow")
    slow.probe_delay_ms = 600  # over timeout_ms 200
    proxy = vortex(_two_endpoint_config(a, slow))
    _wait_for_log(proxy, f"endpoint {slow.address} is now unhealthy: timed out")
    assert _spread(proxy, 10) == ["a"] * 10


def test_refused_checks_make_an_endpoint_unhealthy(vortex, origin):
    a, gone = origin("a"), origin("gone")
    proxy = vortex(_two_endpoint_config(a, gone))
    gone.stop()
    _wait_for_log(proxy, f"endpoint {gone.address} is now unhealthy: connect failed")
    assert _spread(proxy, 10) == ["a"] * 10


def test_all_endpoints_unhealthy_gets_503_at_once(vortex, origin):
    a, b = origin("a"), origin("b")
    a.probe_status = b.probe_status = 500
    proxy = vortex(_two_endpoint_config(a, b))
    _wait_for_log(proxy, "is now unhealthy", count=2)
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        for _ in range(5):
            start = time.monotonic()
            resp = client.get(f"{proxy.url}/x")
            elapsed = time.monotonic() - start
            assert resp.status_code == 503
            assert resp.headers["content-type"] == "application/json"
            assert resp.json() == {
                "error": "Service Unavailable",
                "message": "Circuit breaker open or all backend nodes are offline.",
            }
            assert elapsed < 0.05, f"503 took {elapsed * 1000:.1f} ms"
    assert a.heads == b.heads == 0


def test_checks_follow_a_reload(vortex, origin):
    a, sick = origin("a"), origin("sick")
    sick.probe_status = 503
    proxy = vortex(_two_endpoint_config(a, sick, cluster_extra=""))
    time.sleep(0.3)
    assert sick.probes == 0  # no health_check configured: never probed
    assert sorted(set(_spread(proxy, 4))) == ["a", "sick"]

    proxy.config_path.write_text(proxy.config_text.replace("endpoints:", CHECK + "\n    endpoints:", 1))
    proxy.signal(signal.SIGHUP)
    _wait_for_log(proxy, "reloaded")
    _wait_for_log(proxy, f"endpoint {sick.address} is now unhealthy")
    before = sick.heads
    assert _spread(proxy, 10) == ["a"] * 10
    assert sick.heads == before


def _thread_switches(pid, name):
    """How often the thread of `pid` named `name` has waited so far (its voluntary context
    switches: preemption on a busy machine is not counted)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        if (task / "comm").read_text().strip() == name:
            status = (task / "status").read_text()
            return sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("voluntary_ctxt_switches"))
    raise AssertionError(f"no thread {name} in vortex")


def test_the_checker_sleeps_between_probes_even_while_one_is_overdue(vortex, origin):
    """A probe that outlives its interval (an endpoint that accepts and never answers, timeout
    longer than the interval) is waited for, not polled: the checker used to wake every
    millisecond until it ended, and every 100 ms for reloads in any case."""
    a = origin("a")
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)  # the kernel completes the handshakes; nobody ever reads
        hung_endpoint = SimpleNamespace(address="127.0.0.1:%d" % hung.getsockname()[1])
        check = CHECK.replace("interval_ms: 50, timeout_ms: 200", "interval_ms: 20, timeout_ms: 600")
        proxy = vortex(_two_endpoint_config(a, hung_endpoint, check))
        _wait_for_log(proxy, f"endpoint {hung_endpoint.address} is now unhealthy")
        before, probes = _thread_switches(proxy.pid, "vortex-health"), a.probes
        time.sleep(1.0)
        woke = _thread_switches(proxy.pid, "vortex-health") - before
        # In 1 s: ~50 probes of `a` (a connect, a request, an answer: ~3 waits each) and ~2 of
        # the hung endpoint, ~150 waits in all; polling while a probe was overdue made ~1000.
        assert a.probes - probes >= 20, "the healthy endpoint is still probed every 20 ms"
        assert woke < 500, f"the checker waited {woke} times in 1 s"

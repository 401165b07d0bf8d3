"""Prometheus metrics (SPEC.md §6) on metrics.address: /metrics passes promtool, values move as
requests flow, /healthz and /readyz, metrics.address "" turns them off, and a real Prometheus
server scrapes Vortex and answers a query about it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import httpx
import pytest

from test_admin import ctl, stats_of
from vortex_harness import free_port, simple_config

SAMPLE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')


def scrape(proxy) -> str:
    r = httpx.get(f"http://127.0.0.1:{proxy.metrics_port}/metrics", trust_env=False)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return r.text


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """{(name, frozenset of (label, value))): value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(text: str, name: str, **labels) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


def promtool_check(text: str):
    out = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr


def test_metrics_pass_promtool_and_name_every_spec_family(vortex, echo_origin):
    proxy = vortex(
        f"""
        routes:
          - {{ name: r, match: {{ path_prefix: "/" }}, cluster: c }}
        clusters:
          - {{ name: c, endpoints: [{{ address: "{echo_origin.address}" }}] }}
          - {{ name: spare, endpoints: [{{ address: "127.0.0.1:1" }}] }}
        """
    )
    with httpx.Client(trust_env=False) as client:
        client.get(proxy.url + "/a")
        client.get(proxy.url + "/a?status=503")
    text = scrape(proxy)
    promtool_check(text)
    for family in [
        "vortex_build_info", "vortex_downstream_connections_active", "vortex_http_requests_total",
        "vortex_http_request_duration_seconds", "vortex_upstream_requests_total", "vortex_upstream_ewma_seconds",
        "vortex_upstream_active_requests", "vortex_circuit_breaker_state", "vortex_endpoint_healthy",
        "vortex_rate_limit_decisions_total", "vortex_bans_active", "vortex_xdp_dropped_packets_total",
        "vortex_wasm_calls_total", "vortex_config_reloads_total", "vortex_tracing_spans_dropped_total",
    ]:
        assert f"# TYPE {family} " in text, family
    version = ctl(proxy, "stats").stdout.split("version:")[1].split()[0]
    assert value(text, "vortex_build_info", version=version) == 1


def test_metric_values_move_as_requests_flow(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address), workers=2)
    ep = dict(cluster="c", endpoint=echo_origin.address)
    before = scrape(proxy)
    assert value(before, "vortex_http_requests_total", route="r", code="200") is None
    with httpx.Client(trust_env=False) as client:
        for _ in range(5):
            assert client.get(proxy.url + "/a").status_code == 200
        assert client.get(proxy.url + "/a?status=404").status_code == 404
        # The gauge is published by each worker's 200 ms housekeeping tick.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = scrape(proxy)
            if value(text, "vortex_downstream_connections_active", listener="main") == 1:
                break
            time.sleep(0.05)
        assert value(text, "vortex_downstream_connections_active", listener="main") == 1
    after = scrape(proxy)
    assert value(after, "vortex_http_requests_total", route="r", code="200") == 5
    assert value(after, "vortex_http_requests_total", route="r", code="404") == 1
    assert value(after, "vortex_http_request_duration_seconds_count", route="r") == 6
    assert value(after, "vortex_http_request_duration_seconds_bucket", route="r", le="+Inf") == 6
    assert 0 < value(after, "vortex_http_request_duration_seconds_sum", route="r") < 6 * 5
    assert value(after, "vortex_upstream_requests_total", code="200", **ep) == 5
    assert value(after, "vortex_upstream_requests_total", code="404", **ep) == 1
    assert value(after, "vortex_upstream_active_requests", **ep) == 0
    assert value(after, "vortex_circuit_breaker_state", **ep) == 0
    assert value(after, "vortex_endpoint_healthy", **ep) == 1
    assert value(after, "vortex_upstream_ewma_seconds", **ep) > 0
    promtool_check(after)


def test_no_route_and_upstream_failures_are_counted(vortex):
    proxy = vortex(
        """
        routes:
          - { name: dead, match: { path_prefix: "/dead" }, cluster: dead }
        clusters:
          - name: dead
            endpoints: [{ address: "127.0.0.1:1" }]
            circuit_breaker: { consecutive_failures: 1, open_ms: 60000 }
        """
    )
    with httpx.Client(trust_env=False) as client:
        assert client.get(proxy.url + "/nowhere").status_code == 404
        assert client.get(proxy.url + "/dead").status_code == 502
        assert client.get(proxy.url + "/dead").status_code == 503
    text = scrape(proxy)
    assert value(text, "vortex_http_requests_total", route="", code="404") == 1
    assert value(text, "vortex_http_requests_total", route="dead", code="502") == 1
    assert value(text, "vortex_http_requests_total", route="dead", code="503") == 1
    assert value(text, "vortex_upstream_requests_total", cluster="dead", endpoint="127.0.0.1:1", code="502") == 1
    assert value(text, "vortex_circuit_breaker_state", cluster="dead", endpoint="127.0.0.1:1") == 1
    promtool_check(text)


def test_reloads_are_counted_by_result_and_counters_survive_them(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    httpx.get(proxy.url + "/a", trust_env=False)
    assert ctl(proxy, "reload").returncode == 0
    proxy.config_path.write_text("routes: [\n")
    assert ctl(proxy, "reload").returncode == 1
    httpx.get(proxy.url + "/a", trust_env=False)
    text = scrape(proxy)
    assert value(text, "vortex_config_reloads_total", result="success") == 1
    assert value(text, "vortex_config_reloads_total", result="failure") == 1
    assert value(text, "vortex_http_requests_total", route="r", code="200") == 2


def test_contained_failures_have_a_zero_series_per_task_from_the_start(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    assert httpx.get(proxy.url + "/a", trust_env=False).status_code == 200
    text = scrape(proxy)
    promtool_check(text)
    assert "# TYPE vortex_contained_failures_total counter" in text
    tasks = {dict(labels)["task"]: v for (name, labels), v in samples(text).items()
             if name == "vortex_contained_failures_total"}
    for task in ["connection", "stream", "upstream_session", "listener", "worker_thread",
                 "health_checker", "health_probe", "ban_sweeper_thread", "metrics_server_thread"]:
        assert tasks.get(task) == 0, (task, tasks)


def test_healthz_and_readyz(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    base = f"http://127.0.0.1:{proxy.metrics_port}"
    with httpx.Client(trust_env=False) as client:
        assert client.get(base + "/healthz").status_code == 200
        r = client.get(base + "/readyz")
        assert (r.status_code, r.text) == (200, "ready\n")
        assert client.get(base + "/nope").status_code == 404
        assert client.post(base + "/metrics").status_code == 405


def test_empty_metrics_address_turns_metrics_off(vortex, echo_origin):
    proxy = vortex('metrics: { address: "" }\n' + simple_config(echo_origin.address))
    assert httpx.get(proxy.url + "/a", trust_env=False).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{proxy.metrics_port}/metrics", trust_env=False)
    assert stats_of(proxy)["active_connections"] == "0"


def test_metrics_port_in_use_refuses_to_start(vortex, echo_origin):
    first = vortex(simple_config(echo_origin.address))
    second = vortex(f'metrics: {{ address: "127.0.0.1:{first.metrics_port}" }}\n' + simple_config(echo_origin.address), wait=False)
    assert second.wait_exit(15) == 1
    assert "metrics.address" in second.stderr() and "cannot bind" in second.stderr()


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="no prometheus binary")
def test_a_real_prometheus_scrapes_vortex(vortex, echo_origin, tmp_path):
    proxy = vortex(simple_config(echo_origin.address))
    with httpx.Client(trust_env=False) as client:
        for _ in range(7):
            assert client.get(proxy.url + "/a").status_code == 200
    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
        "scrape_configs:\n"
        f"  - job_name: vortex\n    static_configs: [{{ targets: ['127.0.0.1:{proxy.metrics_port}'] }}]\n"
    )
    (tmp_path / "data").mkdir()
    log = open(tmp_path / "prometheus.log", "wb")
    prom = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        query = urllib.parse.quote('vortex_http_requests_total{route="r",code="200"}')
        url = f"http://127.0.0.1:{prom_port}/api/v1/query?query={query}"
        got = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as r:
                    body = json.load(r)
                result = body["data"]["result"]
                if result:
                    got = float(result[0]["value"][1])
                    if got == 7:
                        break
            except OSError:
                pass
            time.sleep(0.5)
        assert got == 7, (tmp_path / "prometheus.log").read_text()[-3000:]
    finally:
        prom.terminate()
        prom.wait(20)
        log.close()

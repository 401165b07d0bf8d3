"""`make load-test` (bench/loadgen/load_test.sh + openloop.c) against a real Vortex: it sends
the asked rate, prints the percentiles, and counts what went wrong instead of hiding it."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from vortex_harness import REPO_ROOT, simple_config

SCRIPT = REPO_ROOT / "bench" / "loadgen" / "load_test.sh"


@pytest.fixture(scope="module")
def openloop(tmp_path_factory):
    return tmp_path_factory.mktemp("openloop") / "openloop"   # the script builds it here


def load_test(openloop, url: str, rate: int = 200, duration: float = 1.0) -> str:
    env = {**os.environ, "URL": url, "RATE": str(rate), "DURATION": str(duration), "WARMUP": "0.2",
           "CONNECTIONS": "8", "TIMEOUT_MS": "2000", "OPENLOOP": str(openloop)}
    out = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def field(output: str, name: str) -> float:
    raw = re.search(r"^raw: (.*)$", output, re.M).group(1)
    return float(dict(kv.split("=", 1) for kv in raw.split())[name])


def test_load_test_sends_the_rate_and_prints_percentiles(vortex, echo_origin, openloop):
    proxy = vortex(simple_config(echo_origin.address))
    output = load_test(openloop, proxy.url.replace("127.0.0.1", "localhost") + "/", rate=200, duration=1.0)
    assert field(output, "intended") == 200
    assert field(output, "ok") == 200
    assert field(output, "non2xx") == field(output, "errors") == field(output, "timeouts") == 0
    assert re.search(r"^latency: +p50 [\d.]+ +p90 [\d.]+ +p99 [\d.]+ +p99\.9 [\d.]+ +max [\d.]+", output, re.M)
    # Every request reached the origin (the warm-up's too).
    assert len(echo_origin.requests) >= 200


def test_load_test_counts_error_answers(vortex, openloop):
    # An endpoint that refuses: Vortex answers 502/503, which the load test reports as non-2xx.
    proxy = vortex(simple_config("127.0.0.1:1", cluster="connect_timeout_ms: 200"))
    output = load_test(openloop, proxy.url + "/", rate=100, duration=0.5)
    assert field(output, "intended") == 50
    assert field(output, "ok") == 0
    assert field(output, "non2xx") == 50
    assert "50 non-2xx" in output

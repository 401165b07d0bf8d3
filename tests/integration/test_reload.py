"""Zero-downtime reload (SPEC.md §1 SIGHUP, §5 ReloadConfig): routes swapped under load without
a single error, broken files refused while the old config serves, listeners opened and closed,
endpoint state and requests in flight carried across, limits applied to new connections."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import textwrap
import threading
import time

import httpx
import pytest

from test_admin import ctl, stats_of
from vortex_harness import free_port

BODY_MARK = "# body\n"


def reconfigure(proxy, body: str):
    """Rewrites the proxy's config file: the harness's head (listener, admin, metrics) + body."""
    head = proxy.config_text[: proxy.config_text.index(BODY_MARK)]
    proxy.config_path.write_text(head + BODY_MARK + textwrap.dedent(body).strip("\n") + "\n")


def reload_ok(proxy):
    out = ctl(proxy, "reload")
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def routes_body(origin_address: str, variant: int) -> str:
    """Every variant answers GET / and /v/... with 2xx; the route set, names and clusters move."""
    extra = "\n".join(
        f'  - {{ name: d{variant}_{i}, match: {{ path_exact: "/d{i}" }}, direct_response: {{ status: 200, body: "{variant}" }} }}'
        for i in range(variant % 4)
    )
    cluster = f"c{variant % 3}"
    return f"""
routes:
{extra}
  - {{ name: v{variant}, match: {{ path_prefix: "/v/" }}, cluster: {cluster}, timeout_ms: {1000 + variant} }}
  - {{ name: root{variant % 2}, match: {{ path_prefix: "/" }}, cluster: {cluster} }}
clusters:
  - {{ name: {cluster}, endpoints: [{{ address: "{origin_address}" }}] }}
  - {{ name: spare{variant}, endpoints: [{{ address: "{origin_address}" }}] }}
"""


def test_reload_under_load_serves_every_request(vortex, origin):
    target = origin("t")
    proxy = vortex(BODY_MARK + routes_body(target.address, 0), workers=2)
    wrk = subprocess.Popen(
        ["wrk", "-t2", "-c32", "-d10s", "--timeout", "5s", proxy.url + "/v/load"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        time.sleep(1.0)
        for variant in range(1, 26):
            reconfigure(proxy, routes_body(target.address, variant))
            reload_ok(proxy)
            time.sleep(0.25)
    finally:
        out, _ = wrk.communicate(timeout=60)
    assert wrk.returncode == 0, out
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    assert requests > 1000, out
    assert "Non-2xx" not in out, out
    assert "Socket errors" not in out, out
    assert stats_of(proxy)["reloads"] == "25 ok, 0 refused"


@pytest.mark.parametrize(
    "broken, expected",
    [
        ("routes: [\n", r"vortex\.yaml:\d+: "),
        (
            'routes:\n  - { name: r, match: { path_prefix: "/" }, cluster: missing }\n',
            r"vortex\.yaml:\d+: .*missing",
        ),
    ],
    ids=["yaml_syntax", "unknown_cluster"],
)
def test_broken_config_is_refused_and_the_old_one_keeps_serving(vortex, echo_origin, broken, expected):
    proxy = vortex(BODY_MARK + routes_body(echo_origin.address, 0))
    reconfigure(proxy, broken)
    out = ctl(proxy, "reload")
    assert out.returncode == 1
    assert "refused" in out.stderr
    assert re.search(expected, out.stderr), out.stderr
    r = httpx.get(proxy.url + "/v/still", trust_env=False)
    assert r.status_code == 200 and r.headers["x-origin"] == "echo"
    assert stats_of(proxy)["reloads"] == "0 ok, 1 refused"
    assert "still serving the previous config" in proxy.stderr()


def test_sighup_reloads_the_file_vortex_started_with(vortex, echo_origin):
    proxy = vortex(BODY_MARK + routes_body(echo_origin.address, 0))
    assert httpx.get(proxy.url + "/d2", trust_env=False).status_code == 200  # the echo origin
    reconfigure(proxy, routes_body(echo_origin.address, 2))  # /d0 and /d1 become direct answers
    proxy.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "reloaded" not in proxy.stderr() and time.monotonic() < deadline:
        time.sleep(0.02)
    r = httpx.get(proxy.url + "/d1", trust_env=False)
    assert (r.status_code, r.text) == (200, "2")
    assert stats_of(proxy)["reloads"] == "1 ok, 0 refused"


def _connect_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def test_reload_opens_and_closes_listeners_on_every_worker(vortex, echo_origin):
    main, extra = free_port(), free_port()
    listeners = f'listeners:\n  - {{ name: main, address: "127.0.0.1:{main}" }}\n'
    body = routes_body(echo_origin.address, 0)
    proxy = vortex(BODY_MARK + listeners + body, workers=2, port=main)
    assert _connect_refused(extra)
    reconfigure(proxy, listeners + f'  - {{ name: extra, address: "127.0.0.1:{extra}" }}\n' + body)
    assert "1 listeners opened" in reload_ok(proxy)
    with httpx.Client(trust_env=False) as client:
        for _ in range(20):  # new connections each time: both workers' sockets answer
            r = client.get(f"http://127.0.0.1:{extra}/v/x", headers={"connection": "close"})
            assert r.status_code == 200
    assert stats_of(proxy)["listeners"] == "2"
    reconfigure(proxy, listeners + body)
    assert "1 closed" in reload_ok(proxy)
    assert _connect_refused(extra)
    assert httpx.get(f"http://127.0.0.1:{main}/v/x", trust_env=False).status_code == 200


def test_reload_onto_a_port_in_use_is_refused_whole(vortex, echo_origin):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        main = free_port()
        head_listener = f'listeners:\n  - {{ name: main, address: "127.0.0.1:{main}" }}\n'
        proxy = vortex(BODY_MARK + head_listener + routes_body(echo_origin.address, 0), port=main)
        reconfigure(proxy, head_listener + f'  - {{ name: taken, address: "127.0.0.1:{port}" }}\n' + routes_body(echo_origin.address, 3))
        out = ctl(proxy, "reload")
        assert out.returncode == 1
        assert "listener taken: cannot bind" in out.stderr
        # Nothing of the refused file applies: /d0 is still the origin, not variant 3's answer.
        assert httpx.get(proxy.url + "/d0", trust_env=False).headers.get("x-origin") == "echo"
    finally:
        busy.close()


def test_open_breaker_survives_a_reload(vortex, echo_origin):
    dead = f"""
    routes:
      - {{ name: dead, match: {{ path_prefix: "/dead" }}, cluster: dead }}
      - {{ name: r{{}}, match: {{ path_prefix: "/" }}, direct_response: {{ status: 200, body: "x" }} }}
    clusters:
      - name: dead
        endpoints: [{{ address: "127.0.0.1:1" }}]
        circuit_breaker: {{ consecutive_failures: 2, open_ms: 60000 }}
    """
    dead = textwrap.dedent(dead)
    proxy = vortex(BODY_MARK + dead.replace("{}", "0"))
    for _ in range(2):
        assert httpx.get(proxy.url + "/dead", trust_env=False).status_code == 502
    assert httpx.get(proxy.url + "/dead", trust_env=False).status_code == 503
    reconfigure(proxy, dead.replace("{}", "1"))
    reload_ok(proxy)
    assert "open" in ctl(proxy, "backends").stdout
    assert httpx.get(proxy.url + "/dead", trust_env=False).status_code == 503


def test_request_in_flight_finishes_on_its_snapshot(vortex, echo_origin):
    proxy = vortex(BODY_MARK + routes_body(echo_origin.address, 0))
    result = {}

    def slow():
        result["r"] = httpx.get(proxy.url + "/v/slow?delay_ms=700", trust_env=False, timeout=10)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    reconfigure(proxy, 'routes:\n  - { name: gone, match: { path_prefix: "/" }, direct_response: { status: 410, body: "gone" } }\n')
    reload_ok(proxy)
    assert httpx.get(proxy.url + "/v/new", trust_env=False).status_code == 410
    t.join(10)
    assert result["r"].status_code == 200 and result["r"].headers["x-origin"] == "echo"


def test_limits_change_applies_to_new_connections(vortex, echo_origin):
    proxy = vortex(BODY_MARK + routes_body(echo_origin.address, 0))
    long_uri = "/v/" + "a" * 600
    assert httpx.get(proxy.url + long_uri, trust_env=False).status_code == 200
    reconfigure(proxy, "limits: { max_uri_bytes: 512 }\n" + routes_body(echo_origin.address, 0))
    reload_ok(proxy)
    assert httpx.get(proxy.url + long_uri, trust_env=False).status_code == 414

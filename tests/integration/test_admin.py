"""The admin API (SPEC.md §5) through vortexctl (SPEC.md §1): every command, the socket's mode
and lifecycle, refusal to share a socket with a live Vortex, exit codes."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from pathlib import Path

import httpx

from vortex_harness import simple_config, vortex_bin


def vortexctl_bin() -> str:
    return os.environ.get("VORTEXCTL_BIN") or str(Path(vortex_bin()).parent / "vortexctl")


def ctl(proxy, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Runs `vortexctl --socket <proxy's socket> ARGS...` to completion."""
    return subprocess.run(
        [vortexctl_bin(), "--socket", proxy.admin_socket, *args], capture_output=True, text=True, timeout=timeout
    )


def stats_of(proxy) -> dict[str, str]:
    out = ctl(proxy, "stats")
    assert out.returncode == 0, out.stderr
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.stdout.splitlines())}


def test_admin_socket_is_mode_0600_and_removed_at_exit(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    mode = os.stat(proxy.admin_socket).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600
    proxy.stop()
    assert not os.path.exists(proxy.admin_socket)


def test_stale_socket_file_is_replaced_at_start(vortex, echo_origin):
    full, port, _, admin = vortex.config(simple_config(echo_origin.address))
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(admin)  # a socket file nobody accepts on, as a killed Vortex leaves it
    stale.close()
    assert os.path.exists(admin)
    proxy = vortex(f'admin: {{ socket: "{admin}" }}\n' + simple_config(echo_origin.address))
    proxy.admin_socket = admin  # the harness names its own socket unless the text sets one
    assert ctl(proxy, "stats").returncode == 0


def test_second_vortex_on_a_live_socket_refuses_to_start(vortex, echo_origin):
    first = vortex(simple_config(echo_origin.address))
    second = vortex(f'admin: {{ socket: "{first.admin_socket}" }}\n' + simple_config(echo_origin.address), wait=False)
    assert second.wait_exit(15) == 1
    assert "another process" in second.stderr()
    # The first one still owns its socket and serves.
    assert ctl(first, "stats").returncode == 0
    assert httpx.get(first.url + "/x", trust_env=False).status_code == 200


def test_stats_counts_requests_statuses_and_connections(vortex, echo_origin):
    proxy = vortex(
        simple_config(echo_origin.address)
        + '  - { name: nothing, endpoints: [{ address: "127.0.0.1:1" }] }\n'
    )
    with httpx.Client(trust_env=False) as client:
        for _ in range(3):
            assert client.get(proxy.url + "/a").status_code == 200
        assert client.get(proxy.url + "/a?status=404").status_code == 404
        stats = stats_of(proxy)
        assert stats["active_connections"] == "1"  # the client's keep-alive connection
    assert stats["requests_total"] == "4"
    assert stats["responses"] == "200=3, 404=1"
    assert stats["workers"] == "1"
    assert stats["listeners"] == "1"
    assert stats["reloads"] == "0 ok, 0 refused"
    assert "generation 1" in stats["config"]
    assert float(stats["uptime"].split()[0]) >= 0


def test_backends_lists_every_endpoint_with_its_breaker(vortex, echo_origin):
    proxy = vortex(
        f"""
        routes:
          - {{ name: dead, match: {{ path_prefix: "/dead" }}, cluster: dead }}
          - {{ name: r, match: {{ path_prefix: "/" }}, cluster: c }}
        clusters:
          - {{ name: c, endpoints: [{{ address: "{echo_origin.address}", weight: 3 }}] }}
          - name: dead
            endpoints: [{{ address: "127.0.0.1:1" }}]
            circuit_breaker: {{ consecutive_failures: 2, open_ms: 60000 }}
        """
    )
    with httpx.Client(trust_env=False) as client:
        assert client.get(proxy.url + "/ok").status_code == 200
        for _ in range(2):
            assert client.get(proxy.url + "/dead").status_code == 502
    out = ctl(proxy, "backends")
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()[1:]}
    assert rows["c"][1] == echo_origin.address
    assert rows["c"][4:] == ["closed", "yes", "3", "file"]
    assert rows["dead"][1] == "127.0.0.1:1"
    assert rows["dead"][4] == "open"
    assert out.stdout.splitlines()[0].split() == ["CLUSTER", "ADDRESS", "EWMA_MS", "ACTIVE", "BREAKER", "HEALTHY", "WEIGHT", "SOURCE"]


def test_ban_bans_and_unban(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    out = ctl(proxy, "bans")
    assert out.returncode == 0 and "no active bans" in out.stdout
    out = ctl(proxy, "ban", "192.0.2.7", "--ttl-ms", "60000")
    assert out.returncode == 0, out.stderr
    assert "banned 192.0.2.7" in out.stdout
    out = ctl(proxy, "bans")
    assert out.returncode == 0
    row = [line.split() for line in out.stdout.splitlines() if line.startswith("192.0.2.7")]
    assert row and 50000 < int(row[0][1]) <= 60000
    assert row[0][2] == "userspace"  # ENFORCED_BY: no bans.xdp here (test_xdp.py has the kernel)
    assert stats_of(proxy)["bans_active"] == "1"
    assert ctl(proxy, "unban", "192.0.2.7").returncode == 0
    again = ctl(proxy, "unban", "192.0.2.7")
    assert again.returncode == 1 and "not banned" in again.stderr
    assert "no active bans" in ctl(proxy, "bans").stdout


def test_ban_refuses_what_is_not_an_address(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    out = ctl(proxy, "ban", "not-an-ip")
    assert out.returncode == 1
    assert "not an IPv4 or IPv6 address" in out.stderr
    assert ctl(proxy, "ban", "1.2.3.4", "--ttl-ms", "soon").returncode == 2


def test_reload_command_swaps_the_routes(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    assert httpx.get(proxy.url + "/hello", trust_env=False).status_code == 200
    text = proxy.config_text.replace(
        "routes:\n", 'routes:\n  - { name: hello, match: { path_exact: "/hello" }, direct_response: { status: 201, body: "hi" } }\n'
    )
    proxy.config_path.write_text(text)
    out = ctl(proxy, "reload")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok: reloaded") and "generation 2" in out.stdout
    r = httpx.get(proxy.url + "/hello", trust_env=False)
    assert (r.status_code, r.text) == (201, "hi")
    # --config FILE, relative to vortexctl's directory.
    other = proxy.config_path.parent / "other.yaml"
    other.write_text(proxy.config_text)
    out = subprocess.run(
        [vortexctl_bin(), "--socket", proxy.admin_socket, "reload", "--config", "other.yaml"],
        capture_output=True, text=True, timeout=60, cwd=str(other.parent),
    )
    assert out.returncode == 0, out.stderr
    assert httpx.get(proxy.url + "/hello", trust_env=False).status_code == 200
    assert stats_of(proxy)["reloads"] == "2 ok, 0 refused"


def test_unreachable_socket_fails_with_exit_1(tmp_path):
    out = subprocess.run(
        [vortexctl_bin(), "--socket", str(tmp_path / "none.sock"), "stats"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1
    assert "cannot reach vortex" in out.stderr


def test_usage_errors_exit_2():
    for args in ([], ["frobnicate"], ["stats", "extra"], ["ban"], ["wasm", "pull", "x"], ["--socket"]):
        out = subprocess.run([vortexctl_bin(), *args], capture_output=True, text=True, timeout=30)
        assert out.returncode == 2, args
        assert "usage: vortexctl" in out.stderr

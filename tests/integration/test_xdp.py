"""Kernel-side bans (SPEC.md §2 bans.xdp, docs/xdp.md) on the real kernel: Vortex runs in a
network namespace with its XDP program on one end of a veth pair; the test's clients sit in
the root namespace on the other end, two addresses per family: a banned one and a good one.
A packet the program drops never reaches the stack, so a banned client's connect times out,
where user-space refusal answers it with a close. Needs root (namespaces, bpf()); CI has it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest

from test_admin import ctl
from vortex_harness import free_port

DROP_TIMEOUT_S = 0.4  # a SYN-ACK on this veth takes microseconds; no answer in 0.4 s = dropped


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")
    return done


@dataclass
class Net:
    ns: str
    server_if: str  # in ns; Vortex's XDP goes here
    client_if: str  # in the root namespace
    bridge_if: str  # in ns: a bridge, which has no native XDP, carrying no traffic
    server4: str
    good4: str
    bad4: str
    server6: str
    good6: str
    bad6: str

    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.ns]

    def xdp_on(self, interface: str) -> dict | None:
        """The `xdp` object `ip -j link` reports for an interface of ns (None: no program)."""
        out = sh("ip", "-j", "-n", self.ns, "link", "show", "dev", interface).stdout
        return json.loads(out)[0].get("xdp")


@pytest.fixture(scope="module")
def net():
    if os.geteuid() != 0:
        pytest.skip("needs root: creates network namespaces and attaches XDP programs")
    n = os.getpid() % 200
    ns, server_if, client_if, bridge_if = f"vxs{os.getpid()}", f"vxs{os.getpid()}", f"vxc{os.getpid()}", "vxbridge0"
    v4, v6 = f"10.251.{n}", f"fd16:{n:x}::"
    made = Net(ns, server_if, client_if, bridge_if, f"{v4}.1", f"{v4}.2", f"{v4}.3", f"{v6}1", f"{v6}2", f"{v6}3")
    made_ns = sh("ip", "netns", "add", ns, check=False)
    if made_ns.returncode != 0:
        pytest.skip(f"the kernel refuses a network namespace: {made_ns.stderr.strip()}")
    try:
        made_veth = sh("ip", "link", "add", client_if, "type", "veth", "peer", "name", server_if,
                       "netns", ns, check=False)
        if made_veth.returncode != 0:
            pytest.skip(f"the kernel refuses a veth pair: {made_veth.stderr.strip()}")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "addr", "add", f"{made.server4}/24", "dev", server_if)
        sh("ip", "-n", ns, "addr", "add", f"{made.server6}/64", "dev", server_if, "nodad")
        sh("ip", "-n", ns, "link", "set", server_if, "up")
        sh("ip", "-n", ns, "link", "add", bridge_if, "type", "bridge")
        sh("ip", "-n", ns, "link", "set", bridge_if, "up")
        for address in (f"{made.good4}/24", f"{made.bad4}/24"):
            sh("ip", "addr", "add", address, "dev", client_if)
        for address in (f"{made.good6}/64", f"{made.bad6}/64"):
            sh("ip", "addr", "add", address, "dev", client_if, "nodad")
        sh("ip", "link", "set", client_if, "up")
        yield made
    finally:
        sh("ip", "link", "del", client_if, check=False)
        sh("ip", "netns", "del", ns, check=False)


def attempt(host: str, port: int, source: str, timeout: float = DROP_TIMEOUT_S) -> str:
    """One connection from `source`: 'dropped' (no answer to the SYN: XDP), 'refused' (accepted
    and closed without an HTTP answer: user space) or 'served' (an HTTP 200)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((source, 0))
        s.settimeout(timeout)
        try:
            s.connect((host, port))
        except (socket.timeout, TimeoutError):
            return "dropped"
        except ConnectionRefusedError:
            return "reset at connect"
        s.settimeout(3.0)
        data = b""
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            while chunk := s.recv(4096):
                data += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    if data.startswith(b"HTTP/1.1 200"):
        return "served"
    if data.startswith(b"HTTP/1.1 429"):
        return "429"
    return "refused" if data == b"" else f"unexpected {data[:80]!r}"


def metrics(net: Net, port: int) -> dict[str, float]:
    with socket.create_connection((net.server4, port), timeout=3, source_address=(net.good4, 0)) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    values = {}
    for line in data.decode().split("\r\n\r\n", 1)[1].splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


DIRECT = ('routes:\n  - { name: d, match: { path_prefix: "/" },\n'
          '      direct_response: { status: 200, body: "ok\\n", content_type: "text/plain" } }\n')


def config_text(net: Net, port: int, metrics_port: int, bans: str, routes: str = DIRECT) -> str:
    return (f'listeners:\n  - {{ name: v4, address: "{net.server4}:{port}" }}\n'
            f'  - {{ name: v6, address: "[{net.server6}]:{port}" }}\n'
            f'metrics: {{ address: "{net.server4}:{metrics_port}" }}\n' + routes + f"bans: {{ {bans} }}\n")


def start(vortex, net: Net, bans: str, routes: str = DIRECT, prefix: list[str] = ()):
    port, metrics_port = free_port(), free_port()
    proxy = vortex(config_text(net, port, metrics_port, bans, routes), port=port, listeners=2, prefix=net.exec_prefix() + list(prefix))
    proxy.metrics_port = metrics_port
    # Every address talks once before any ban: the neighbour entries (ARP, and NDP, which a
    # banned IPv6 source's own solicitations could not refresh) are in place.
    for host, sources in ((net.server4, (net.good4, net.bad4)), (net.server6, (net.good6, net.bad6))):
        for source in sources:
            assert attempt(host, port, source, timeout=3) in ("served", "429"), source
    return proxy


def enforcement_gauge(net: Net, proxy) -> str:
    values = metrics(net, proxy.metrics_port)
    active = [m for m in ("userspace", "xdp_native", "xdp_generic") if values[f'vortex_bans_enforcement{{mode="{m}"}}'] == 1]
    assert len(active) == 1, values
    return active[0]


def dropped(net: Net, proxy) -> float:
    return metrics(net, proxy.metrics_port)["vortex_xdp_dropped_packets_total"]


def bans_listed(proxy) -> dict[str, str]:
    out = ctl(proxy, "bans")
    assert out.returncode == 0, out.stderr
    return {fields[0]: fields[2] for fields in (line.split() for line in out.stdout.splitlines()[1:]) if len(fields) == 3}


@pytest.mark.parametrize("mode", ["native", "generic"])
def test_banned_clients_are_dropped_in_the_kernel_while_others_are_served(vortex, net, mode):
    proxy = start(vortex, net, f"ttl_ms: 60000, sweep_interval_ms: 100, xdp: {{ interface: {net.server_if}, mode: {mode} }}")
    assert f"attached to {net.server_if} (xdp_{mode})" in proxy.stderr(), proxy.describe()
    assert enforcement_gauge(net, proxy) == f"xdp_{mode}"
    xdp = net.xdp_on(net.server_if)
    assert xdp and xdp["mode"] == (1 if mode == "native" else 2) and xdp["prog"]["name"] == "vortex_xdp_ban", xdp
    assert dropped(net, proxy) == 0

    for ip in (net.bad4, net.bad6):
        assert ctl(proxy, "ban", ip).returncode == 0
    assert bans_listed(proxy) == {net.bad4: f"xdp_{mode}", net.bad6: f"xdp_{mode}"}
    for _ in range(2):
        assert attempt(net.server4, proxy.port, net.bad4) == "dropped"
        assert attempt(net.server6, proxy.port, net.bad6) == "dropped"
        assert attempt(net.server4, proxy.port, net.good4) == "served"
        assert attempt(net.server6, proxy.port, net.good6) == "served"
    first = dropped(net, proxy)
    assert first >= 4  # at least each SYN above (a retransmission within the timeout adds)
    assert attempt(net.server4, proxy.port, net.bad4) == "dropped"
    assert dropped(net, proxy) > first

    # Unbanned: the next SYN gets through at once (the map entry went with the ban).
    assert ctl(proxy, "unban", net.bad4).returncode == 0
    assert attempt(net.server4, proxy.port, net.bad4) == "served"
    assert attempt(net.server6, proxy.port, net.bad6) == "dropped"
    assert ctl(proxy, "unban", net.bad6).returncode == 0
    assert attempt(net.server6, proxy.port, net.bad6, timeout=3) == "served"

    proxy.stop()
    assert net.xdp_on(net.server_if) is None  # detached at exit


def test_an_automatic_ban_reaches_the_kernel_before_the_next_connection(vortex, net):
    routes = ("rate_limits:\n  policies:\n    - { name: p, key: client_ip, rate: 1, period_ms: 60000, burst: 0 }\n"
              + DIRECT.replace('match: { path_prefix: "/" },', 'match: { path_prefix: "/" }, rate_limit: p,'))
    proxy = start(vortex, net, f"after_violations: 2, window_ms: 10000, ttl_ms: 60000, sweep_interval_ms: 100, "
                  f"xdp: {{ interface: {net.server_if}, mode: generic }}", routes)
    # start() spent each client's one allowed request; the next two 429s ban bad4.
    assert attempt(net.server4, proxy.port, net.bad4) == "429"
    assert attempt(net.server4, proxy.port, net.bad4) == "429"
    # Not refused at accept: the SYN itself is dropped, so the map had the address before the
    # client read its 429 and opened the next connection.
    assert attempt(net.server4, proxy.port, net.bad4) == "dropped"
    assert bans_listed(proxy) == {net.bad4: "xdp_generic"}
    assert attempt(net.server4, proxy.port, net.good4) == "429"


def test_an_expired_ban_passes_the_kernel_and_the_sweeper_clears_map_and_list(vortex, net):
    # Sweeper far away: once the TTL is over the program lets the SYN through by itself (user
    # space still refuses: its list is swept later).
    proxy = start(vortex, net, f"sweep_interval_ms: 60000, xdp: {{ interface: {net.server_if}, mode: generic }}")
    assert ctl(proxy, "ban", net.bad4, "--ttl-ms", "700").returncode == 0
    banned_at = time.monotonic()
    assert attempt(net.server4, proxy.port, net.bad4) == "dropped"
    time.sleep(max(0.0, 0.75 - (time.monotonic() - banned_at)))
    assert attempt(net.server4, proxy.port, net.bad4) == "refused"
    proxy.stop()

    # Sweeper every 100 ms: the ban is lifted from the list and the map together.
    proxy = start(vortex, net, f"sweep_interval_ms: 100, xdp: {{ interface: {net.server_if}, mode: native }}")
    assert ctl(proxy, "ban", net.bad6, "--ttl-ms", "600").returncode == 0
    assert attempt(net.server6, proxy.port, net.bad6) == "dropped"
    deadline = time.monotonic() + 3
    while attempt(net.server6, proxy.port, net.bad6, timeout=0.2) != "served":
        assert time.monotonic() < deadline, "ban not lifted"
    assert ctl(proxy, "bans").stdout.startswith("no active bans (new bans: xdp_native)")
    map_ids = json.loads(sh("bpftool", "-j", "prog", "show", "id", str(net.xdp_on(net.server_if)["prog"]["id"])).stdout)["map_ids"]
    for map_id in map_ids:
        shown = json.loads(sh("bpftool", "-j", "map", "show", "id", str(map_id)).stdout)
        if shown["name"].startswith("BLOCKED_IPS"):
            assert json.loads(sh("bpftool", "-j", "map", "dump", "id", str(map_id)).stdout) == [], shown


def test_without_an_attachable_interface_bans_fall_back_to_user_space(vortex, net):
    proxy = start(vortex, net, "sweep_interval_ms: 100, xdp: { interface: vx-missing0, mode: auto }")
    lines = [l for l in proxy.stderr().splitlines() if "XDP" in l]
    assert len(lines) == 1 and "no interface 'vx-missing0'" in lines[0] and "user space" in lines[0], lines
    assert enforcement_gauge(net, proxy) == "userspace"
    assert ctl(proxy, "ban", net.bad4).returncode == 0
    assert attempt(net.server4, proxy.port, net.bad4) == "refused"
    assert attempt(net.server4, proxy.port, net.good4) == "served"
    assert bans_listed(proxy) == {net.bad4: "userspace"}
    assert dropped(net, proxy) == 0
    assert net.xdp_on(net.server_if) is None


def test_without_the_privilege_bans_fall_back_to_user_space(vortex, net):
    # Root without CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN (and CAP_PERFMON): what a container or
    # a unit file without those capabilities gives. The program cannot even be loaded.
    unprivileged = ["setpriv", "--bounding-set=-bpf,-net_admin,-sys_admin,-perfmon", "--"]
    proxy = start(vortex, net, f"xdp: {{ interface: {net.server_if}, mode: auto }}", prefix=unprivileged)
    lines = [l for l in proxy.stderr().splitlines() if "XDP" in l]
    assert len(lines) == 1 and "cannot load the XDP program" in lines[0] and "CAP_BPF" in lines[0], lines
    assert enforcement_gauge(net, proxy) == "userspace"
    assert ctl(proxy, "ban", net.bad4).returncode == 0
    assert attempt(net.server4, proxy.port, net.bad4) == "refused"
    assert net.xdp_on(net.server_if) is None


def test_auto_mode_falls_back_to_generic_where_the_driver_has_no_native_hook(vortex, net):
    # A bridge has no native XDP: native alone fails (user space), auto takes generic.
    proxy = start(vortex, net, f"xdp: {{ interface: {net.bridge_if}, mode: native }}")
    assert re.search(rf"XDP not attached to {net.bridge_if} \(mode native\): native attach failed", proxy.stderr()), proxy.describe()
    assert enforcement_gauge(net, proxy) == "userspace"
    proxy.stop()
    proxy = start(vortex, net, f"xdp: {{ interface: {net.bridge_if}, mode: auto }}")
    assert f"attached to {net.bridge_if} (xdp_generic)" in proxy.stderr(), proxy.describe()
    assert net.xdp_on(net.bridge_if)["mode"] == 2
    proxy.stop()
    assert net.xdp_on(net.bridge_if) is None


def test_a_killed_vortexs_program_is_replaced_not_stacked(vortex, net):
    killed = start(vortex, net, f"xdp: {{ interface: {net.server_if}, mode: generic }}")
    assert ctl(killed, "ban", net.bad4).returncode == 0
    left = net.xdp_on(net.server_if)
    killed.proc.send_signal(signal.SIGKILL)
    killed.wait_exit(10)
    assert net.xdp_on(net.server_if) == left  # left behind, still dropping until the ban expires
    assert attempt(net.server4, killed.port, net.bad4) == "dropped"

    # Same mode: swapped in place. Another mode: the leftover goes first (one mode at a time).
    for mode, code in (("generic", 2), ("native", 1)):
        proxy = start(vortex, net, f"xdp: {{ interface: {net.server_if}, mode: {mode} }}")
        now = net.xdp_on(net.server_if)
        assert now["mode"] == code and now["prog"]["id"] != left["prog"]["id"], (left, now)
        assert attempt(net.server4, proxy.port, net.bad4) == "served"  # the new map starts empty
        assert ctl(proxy, "ban", net.bad4).returncode == 0
        assert attempt(net.server4, proxy.port, net.bad4) == "dropped"
        if mode == "generic":
            proxy.proc.send_signal(signal.SIGKILL)
            proxy.wait_exit(10)
            left = now
        else:
            proxy.stop()
    assert net.xdp_on(net.server_if) is None


def test_reload_attaches_moves_and_detaches_with_the_bans_in_force(vortex, net):
    proxy = start(vortex, net, "sweep_interval_ms: 100")
    assert enforcement_gauge(net, proxy) == "userspace"
    assert ctl(proxy, "ban", net.bad4).returncode == 0
    assert attempt(net.server4, proxy.port, net.bad4) == "refused"

    def reload(bans: str):
        proxy.config_path.write_text(proxy.config_text.replace("bans: { sweep_interval_ms: 100 }", f"bans: {{ {bans} }}"))
        out = ctl(proxy, "reload")
        assert out.returncode == 0, out.stdout + out.stderr

    # The ban made before XDP existed reaches the new map.
    reload(f"sweep_interval_ms: 100, xdp: {{ interface: {net.server_if}, mode: generic }}")
    assert enforcement_gauge(net, proxy) == "xdp_generic"
    assert bans_listed(proxy) == {net.bad4: "xdp_generic"}
    assert attempt(net.server4, proxy.port, net.bad4) == "dropped"
    before = dropped(net, proxy)
    assert before > 0

    # Another interface: the first is left clean; drops stay counted (a counter never falls).
    reload(f"sweep_interval_ms: 100, xdp: {{ interface: {net.bridge_if}, mode: generic }}")
    assert net.xdp_on(net.server_if) is None and net.xdp_on(net.bridge_if) is not None
    assert attempt(net.server4, proxy.port, net.bad4) == "refused"
    assert dropped(net, proxy) >= before

    reload("sweep_interval_ms: 100")
    assert net.xdp_on(net.bridge_if) is None
    assert enforcement_gauge(net, proxy) == "userspace"
    assert bans_listed(proxy) == {net.bad4: "userspace"}
    assert attempt(net.server4, proxy.port, net.good4) == "served"

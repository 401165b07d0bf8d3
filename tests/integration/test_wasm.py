"""Wasm plugins through the real binary (SPEC.md §2 wasm, §3 403, §5 UpdateWasmPlugin, §6
vortex_wasm_calls_total): our own guests (tests/wasm, built into build/wasm) for every hook and
failure mode, the third-party TinyGo plugins of ../shared/wasm-plugins unmodified, over HTTP/1.1
and HTTP/2; modules pushed with `vortexctl wasm push` under load without a failed request, and a
module that cannot run refused while the running one keeps serving."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from origins import _response
from rawhttp import curl
from test_admin import ctl
from test_metrics import promtool_check, scrape, value
from vortex_harness import run_cli, simple_config, vortex_bin

THIRD_PARTY = Path(__file__).resolve().parents[2] / ".." / "shared" / "wasm-plugins"


def guest(name: str) -> str:
    """A test guest built by tests/wasm/CMakeLists.txt next to the binary under test."""
    path = Path(os.environ.get("VORTEX_TEST_WASM_DIR", Path(vortex_bin()).parent / "wasm")) / name
    assert path.exists(), f"{path}: build the test guests (make build)"
    return str(path)


def third_party(name: str) -> str:
    path = THIRD_PARTY.resolve() / name
    assert path.exists(), f"{path}: the shared third-party plugins are missing"
    return str(path)


def plugin_config(origin: str, file: str, *, name: str = "t", abi: str = "proxy_wasm", config: str = "",
                  fail_open: bool = False, max_call_ms: int = 300, on_route: bool = True,
                  runtime: str = "v8") -> str:
    text = simple_config(origin, route=f"plugins: [{name}]" if on_route else "")
    text += (
        f"wasm:\n  runtime: {runtime}\n  plugins:\n"
        f"    - {{ name: {name}, file: {json.dumps(file)}, abi: {abi}, config: {json.dumps(config)},"
        f" fail_open: {str(fail_open).lower()}, max_call_ms: {max_call_ms} }}\n"
    )
    return text


def leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def variant(tmp_path: Path, module: str, tag: str) -> str:
    """`module` with a custom section named `tag` appended: other bytes (so a push of it swaps
    the module), the same behaviour."""
    name = tag.encode()
    payload = leb128(len(name)) + name
    path = tmp_path / f"{Path(module).stem}-{tag}.wasm"
    path.write_bytes(Path(module).read_bytes() + b"\x00" + leb128(len(payload)) + payload)
    return str(path)


def echoed(resp: httpx.Response) -> dict:
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return resp.json()


@pytest.fixture
def client():
    with httpx.Client(trust_env=False, timeout=15.0) as c:
        yield c


# --- our own guest: every hook ---------------------------------------------------------------


def test_a_plugin_edits_request_and_response_headers(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm"), config="configured"), workers=2)
    resp = client.get(proxy.url + "/a", headers={"x-replace": "old", "x-remove": "gone"})
    seen = echoed(resp)["headers"]
    names = {k.lower(): v for k, v in seen}
    assert names["x-wasm-config"] == "configured"
    assert names["x-replace"] == "new"
    assert "x-remove" not in names
    assert resp.headers["x-wasm-response"] == "seen"


def test_a_plugin_reads_the_response_head_as_sent_once_the_stream_is_over(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm")))
    for _ in range(3):  # the upstream connection, and the buffer the head came in, are reused
        assert client.get(proxy.url + "/log-response").status_code == 200
    proxy.stop()
    assert proxy.stderr().count("logged response 200 seen") == 3


def test_a_plugin_answers_locally_and_the_origin_never_sees_it(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm")))
    resp = client.get(proxy.url + "/deny")
    assert resp.status_code == 401
    assert resp.headers["x-reason"] == "test"
    assert resp.text == "denied by test plugin\n"
    assert echo_origin.requests == []


def test_a_plugin_rewrites_bodies_both_ways(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm")))
    resp = client.post(proxy.url + "/upper", content=b"make me loud")
    assert resp.status_code == 200
    assert resp.text.endswith("!")  # appended to the response body at its end
    body = json.loads(resp.text[:-1])
    assert body["body_bytes"] == len(b"make me loud")
    import hashlib

    assert body["body_sha256"] == hashlib.sha256(b"MAKE ME LOUD").hexdigest()


def test_properties_shared_data_and_wasi_reach_the_guest(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm")), workers=2)
    names = {k.lower(): v for k, v in echoed(client.get(proxy.url + "/property"))["headers"]}
    assert names["x-property-path"] == "/property"
    assert names["x-property-plugin"] == "t"
    assert names["x-property-protocol"] == "HTTP/1.1"
    assert names["x-property-listener"] == "main"
    assert names["x-property-port"] == str(proxy.port)
    got = curl("--http2-prior-knowledge", proxy.url + "/property")
    names = {k.lower(): v for k, v in json.loads(got.stdout)["headers"]}
    assert names["x-property-protocol"] == "HTTP/2" and names["x-property-port"] == str(proxy.port)
    hits = []
    for _ in range(3):  # shared data is the process's, whichever worker takes the request
        with httpx.Client(trust_env=False) as fresh:
            names = {k.lower(): v for k, v in echoed(fresh.get(proxy.url + "/shared"))["headers"]}
            hits.append(names["x-shared"])
    assert hits == ["1", "2", "3"]
    names = {k.lower(): v for k, v in echoed(client.get(proxy.url + "/wasi"))["headers"]}
    assert names["x-clock"] == "y"
    assert names["x-random"] == "y"
    proxy.stop()
    assert "vortex: wasm plugin t [info]: hello from wasi" in proxy.stderr()


def test_a_plugin_calls_a_cluster_and_acts_on_the_answer(vortex, echo_origin, origin, client):
    def auth(server, req, conn):
        req.drain()
        server._completed(req, 0, "")
        ok = req.header("authorization") is None  # the guest's call carries no credentials
        body = b"granted" if ok else b"no"
        conn.send(_response(200 if ok else 401, "OK", [("Content-Length", str(len(body)))], body))
        return True

    auth_origin = origin("auth", auth)
    extra = f'  - {{ name: auth, endpoints: [{{ address: "{auth_origin.address}" }}] }}\n'
    text = plugin_config(echo_origin.address, guest("test_filter.wasm"))
    text = text.replace("clusters:\n", "clusters:\n" + extra, 1)
    proxy = vortex(text)
    names = {k.lower(): v for k, v in echoed(client.get(proxy.url + "/call"))["headers"]}
    assert names["x-auth"] == "granted"
    assert [r["path"] for r in auth_origin.requests] == ["/check"]


# --- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize("path,result", [("/trap", "trap"), ("/loop", "timeout"), ("/bomb", "trap")])
def test_a_failing_guest_fails_its_request_with_500_and_the_next_one_runs(vortex, echo_origin, client, path, result):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm"), max_call_ms=100))
    started = time.monotonic()
    resp = client.get(proxy.url + path)
    assert resp.status_code == 500, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert time.monotonic() - started < 5
    # A fresh instance takes the next request.
    assert client.get(proxy.url + "/a").status_code == 200
    text = scrape(proxy)
    assert value(text, "vortex_wasm_calls_total", plugin="t", result=result) == 1


def test_a_fail_open_plugin_lets_the_request_through_when_it_traps(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm"), fail_open=True))
    assert echoed(client.get(proxy.url + "/trap"))["path"] == "/trap"


def test_a_plugin_that_pauses_for_good_denies_after_max_call(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm"), max_call_ms=200))
    started = time.monotonic()
    resp = client.get(proxy.url + "/pause-forever")
    assert resp.status_code == 403
    assert resp.json()["error"] == "Forbidden"
    assert 0.15 < time.monotonic() - started < 5
    assert echo_origin.requests == []


# --- the execute ABI -------------------------------------------------------------------------


def test_execute_plugins_allow_with_200_and_deny_otherwise(vortex, echo_origin, client):
    allow = vortex(plugin_config(echo_origin.address, guest("execute_allow.wasm"), abi="execute"))
    assert client.get(allow.url + "/a").status_code == 200
    deny = vortex(plugin_config(echo_origin.address, guest("execute_deny.wasm"), abi="execute"))
    resp = client.get(deny.url + "/a")
    assert resp.status_code == 403
    assert resp.json() == {"error": "Forbidden", "message": "denied by a wasm plugin"}
    text = scrape(deny)
    assert value(text, "vortex_wasm_calls_total", plugin="t", result="deny") == 1


# --- HTTP/2 ----------------------------------------------------------------------------------


def test_plugins_run_on_http2_streams(vortex, echo_origin):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm"), config="h2"))
    got = curl("--http2-prior-knowledge", "-D", "-", "-H", "x-remove: gone", proxy.url + "/a")
    assert got.returncode == 0, got.stderr
    head, _, body = got.stdout.partition(b"\r\n\r\n")
    assert b"x-wasm-response: seen" in head
    names = {k.lower(): v for k, v in json.loads(body)["headers"]}
    assert names["x-wasm-config"] == "h2" and "x-remove" not in names
    denied = curl("--http2-prior-knowledge", "-D", "-", proxy.url + "/deny")
    assert denied.stdout.startswith(b"HTTP/2 401")
    assert denied.stdout.endswith(b"denied by test plugin\n")


# --- third-party plugins (TinyGo, proxy-wasm-go-sdk, ABI 0.1.0) ------------------------------


def test_helloworld_starts_and_ticks_on_no_route(vortex, echo_origin, client):
    """helloworld has no HTTP context (on a route, its proxy_on_context_create panics): a plugin
    no route names still starts on every worker and gets its ticks."""
    proxy = vortex(plugin_config(echo_origin.address, third_party("helloworld.wasm"), name="hello", on_route=False))
    assert client.get(proxy.url + "/a").status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "OnTick on" not in proxy.stderr():
        time.sleep(0.1)
    proxy.stop()
    assert "vortex: wasm plugin hello [info]: proxy_on_vm_start from Go!" in proxy.stderr()
    assert re.search(r"wasm plugin hello \[info\]: OnTick on \d+, it's \d+", proxy.stderr()), proxy.stderr()


def test_http_headers_logs_every_header_and_continues(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, third_party("http_headers.wasm"), name="headers"))
    resp = client.get(proxy.url + "/a", headers={"x-probe": "42"})
    assert resp.status_code == 200
    proxy.stop()
    assert "request header: x-probe: 42" in proxy.stderr()
    assert "request header: :path: /a" in proxy.stderr()
    assert "response header: :status: 200" in proxy.stderr()
    assert re.search(r"\[info\]: \d+ finished", proxy.stderr())


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def parity_bodies() -> tuple[bytes, bytes]:
    even = next(b"body-%d" % i for i in range(100) if fnv1a32(b"body-%d" % i) % 2 == 0)
    odd = next(b"body-%d" % i for i in range(100) if fnv1a32(b"body-%d" % i) % 2 == 1)
    return even, odd


@pytest.mark.parametrize("mode", ["h1", "h2c"])
def test_http_auth_random_grants_or_forbids_by_the_call_answer(vortex, echo_origin, origin, mode):
    even, odd = parity_bodies()

    def httpbin(server, req, conn):
        req.drain()
        server._completed(req, 0, "")
        body = even if req.path == "/even" else odd
        conn.send(_response(200, "OK", [("Content-Length", str(len(body)))], body))
        return True

    bin_origin = origin("httpbin", httpbin)
    text = plugin_config(echo_origin.address, third_party("http_auth_random.wasm"), name="auth",
                         max_call_ms=5000)
    text = text.replace("clusters:\n", f'clusters:\n  - {{ name: httpbin, endpoints: [{{ address: "{bin_origin.address}" }}] }}\n', 1)
    proxy = vortex(text, workers=2)
    flag = ["--http2-prior-knowledge"] if mode == "h2c" else ["--http1.1"]
    for _ in range(3):
        granted = curl(*flag, "-D", "-", proxy.url + "/even")
        assert b" 200" in granted.stdout.split(b"\r\n")[0], granted.stdout
        assert json.loads(granted.stdout.partition(b"\r\n\r\n")[2])["path"] == "/even"
        forbidden = curl(*flag, "-D", "-", proxy.url + "/odd")
        head, _, body = forbidden.stdout.partition(b"\r\n\r\n")
        assert b" 403" in head.split(b"\r\n")[0], forbidden.stdout
        assert b"powered-by: proxy-wasm-go!!" in head
        assert body == b"access forbidden"
    assert [r["path"] for r in echo_origin.requests] == ["/even"] * 3
    proxy.stop()
    assert proxy.stderr().count("access granted") == 3
    assert proxy.stderr().count("access forbidden") == 3


def test_the_wabt_runtime_runs_the_same_plugins_and_a_reload_switches_engines(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm"), config="on-wabt", runtime="wabt"),
                   workers=2)
    seen = {k.lower(): v for k, v in echoed(client.get(proxy.url + "/a"))["headers"]}
    assert seen["x-wasm-config"] == "on-wabt"
    assert client.get(proxy.url + "/deny").status_code == 401
    assert client.get(proxy.url + "/trap").status_code == 500
    assert echoed(client.get(proxy.url + "/a"))  # a fresh instance serves the next request
    head = proxy.config_text[: proxy.config_text.index("routes:")]
    proxy.config_path.write_text(head + plugin_config(echo_origin.address, guest("test_filter.wasm"),
                                                      config="on-wabt", runtime="v8"))
    out = ctl(proxy, "reload")
    assert out.returncode == 0, out.stdout + out.stderr
    assert echoed(client.get(proxy.url + "/a"))
    proxy.config_path.with_name("x.yaml").write_text(proxy.config_path.read_text().replace("runtime: v8", "runtime: wamr"))
    bad = run_cli("check", "--config", str(proxy.config_path.with_name("x.yaml")))
    assert bad.returncode == 1 and "expected v8 or wabt" in bad.stderr, bad.stderr


# --- start, check, reload, push --------------------------------------------------------------


def test_a_plugin_that_cannot_start_refuses_the_start_and_check(vortex, echo_origin, tmp_path):
    text = plugin_config(echo_origin.address, guest("vm_start_fails.wasm"))
    proxy = vortex(text, wait=False)
    assert proxy.wait_exit(15) == 1
    assert "wasm plugin 't'" in proxy.stderr() and "vm_start" in proxy.stderr()
    out = run_cli("check", "--config", str(proxy.config_path))
    assert out.returncode == 1
    assert "wasm plugin 't'" in out.stderr + out.stdout


def mapped_libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_v8_is_loaded_only_once_a_config_names_a_plugin(vortex, echo_origin, client):
    # Linking libnode cost every start ~100 M instructions of dynamic linking: a config without
    # plugins must not pay it, and a reload that adds one must load it then.
    proxy = vortex(simple_config(echo_origin.address))
    assert client.get(proxy.url + "/a").status_code == 200
    assert "libnode" not in mapped_libraries(proxy.pid)
    assert "libvortex_wasm_v8" not in mapped_libraries(proxy.pid)
    head = proxy.config_text[: proxy.config_text.index("routes:")]
    proxy.config_path.write_text(head + plugin_config(echo_origin.address, guest("test_filter.wasm"), config="late"))
    out = ctl(proxy, "reload")
    assert out.returncode == 0, out.stdout + out.stderr
    seen = {k.lower(): v for k, v in echoed(client.get(proxy.url + "/a"))["headers"]}
    assert seen["x-wasm-config"] == "late"
    maps = mapped_libraries(proxy.pid)
    assert "libvortex_wasm_v8.so" in maps and "libnode.so" in maps


def test_a_missing_v8_library_is_a_check_error_naming_where_it_looked(vortex, echo_origin, tmp_path):
    lonely = tmp_path / "bin" / "vortex"
    lonely.parent.mkdir()
    shutil.copy(vortex_bin(), lonely)
    config = tmp_path / "plugin.yaml"
    config.write_text(vortex.config(plugin_config(echo_origin.address, guest("test_filter.wasm")))[0])
    out = subprocess.run([str(lonely), "check", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "wasm plugin 't'" in out.stderr and "libvortex_wasm_v8.so not found" in out.stderr, out.stderr
    assert str(lonely.parent / "libvortex_wasm_v8.so") in out.stderr
    plain = tmp_path / "plain.yaml"
    plain.write_text(vortex.config(simple_config(echo_origin.address))[0])
    out = subprocess.run([str(lonely), "check", "--config", str(plain)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr


def test_check_compiles_and_starts_the_plugins(vortex, echo_origin, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(vortex.config(plugin_config(echo_origin.address, guest("test_filter.wasm")))[0])
    out = run_cli("check", "--config", str(good))
    assert out.returncode == 0, out.stderr
    broken = tmp_path / "broken.yaml"
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"\0asm\1\0\0\0garbage")
    broken.write_text(vortex.config(plugin_config(echo_origin.address, str(junk)))[0])
    out = run_cli("check", "--config", str(broken))
    assert out.returncode == 1
    assert "wasm plugin 't'" in out.stderr


def test_reload_applies_new_plugin_settings_and_refuses_a_broken_module(vortex, echo_origin, client, tmp_path):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm"), config="one"), workers=2)
    header = lambda: {k.lower(): v for k, v in echoed(client.get(proxy.url + "/a"))["headers"]}["x-wasm-config"]
    assert header() == "one"
    head = proxy.config_text[: proxy.config_text.index("routes:")]
    proxy.config_path.write_text(head + plugin_config(echo_origin.address, guest("test_filter.wasm"), config="two"))
    out = ctl(proxy, "reload")
    assert out.returncode == 0, out.stdout + out.stderr
    assert header() == "two"
    proxy.config_path.write_text(head + plugin_config(echo_origin.address, guest("vm_start_fails.wasm")))
    out = ctl(proxy, "reload")
    assert out.returncode == 1
    assert "wasm plugin 't'" in out.stdout + out.stderr
    assert header() == "two"


def push(proxy, module: str, plugin: str = "") -> subprocess.CompletedProcess:
    args = ["wasm", "push", module] + (["--plugin", plugin] if plugin else [])
    return ctl(proxy, *args)


def test_push_swaps_the_module_and_refuses_one_that_cannot_run(vortex, echo_origin, client, tmp_path):
    proxy = vortex(plugin_config(echo_origin.address, guest("execute_allow.wasm"), abi="execute"), workers=2)
    assert client.get(proxy.url + "/a").status_code == 200
    out = push(proxy, guest("execute_deny.wasm"))  # no --plugin: the first one
    assert out.returncode == 0, out.stdout + out.stderr
    assert client.get(proxy.url + "/a").status_code == 403
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"\0asm\1\0\0\0garbage")
    out = push(proxy, str(junk), "t")
    assert out.returncode == 1
    assert "wasm push to plugin 't' refused" in out.stderr
    assert client.get(proxy.url + "/a").status_code == 403  # the pushed one still runs
    out = push(proxy, guest("execute_allow.wasm"), "nope")
    assert out.returncode == 1 and "no wasm plugin named 'nope'" in out.stderr
    # A reload keeps the pushed module while the plugin's file is what it was.
    assert ctl(proxy, "reload").returncode == 0
    assert client.get(proxy.url + "/a").status_code == 403


def test_a_changed_file_wins_over_an_older_push(vortex, echo_origin, client, tmp_path):
    module = tmp_path / "plugin.wasm"
    module.write_bytes(Path(guest("execute_allow.wasm")).read_bytes())
    proxy = vortex(plugin_config(echo_origin.address, str(module), abi="execute"))
    assert push(proxy, guest("execute_deny.wasm")).returncode == 0
    assert client.get(proxy.url + "/a").status_code == 403
    module.write_bytes(Path(guest("execute_allow.wasm")).read_bytes() + b"")  # same bytes: push stays
    assert ctl(proxy, "reload").returncode == 0
    assert client.get(proxy.url + "/a").status_code == 403
    module.write_bytes(Path(guest("execute_deny.wasm")).read_bytes())  # a new file: it wins
    assert ctl(proxy, "reload").returncode == 0
    module.write_bytes(Path(guest("execute_allow.wasm")).read_bytes())
    assert ctl(proxy, "reload").returncode == 0
    assert client.get(proxy.url + "/a").status_code == 200


def test_push_without_plugins_is_refused(vortex, echo_origin, tmp_path):
    proxy = vortex(simple_config(echo_origin.address))
    out = push(proxy, guest("execute_allow.wasm"))
    assert out.returncode == 1 and "no wasm plugins are configured" in out.stderr
    missing = push(proxy, str(tmp_path / "none.wasm"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_pushes_under_load_lose_no_request(vortex, echo_origin, tmp_path):
    """h2load and wrk-like HTTP/1.1 clients run while the module is pushed back and forth; every
    request is answered 2xx by whichever module it started on, and requests in flight across a
    push (held at the origin) finish on the old one."""
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm"), config="load"), workers=2)
    stop = threading.Event()
    failures: list[str] = []
    counts = {"ok": 0}

    def hammer():
        with httpx.Client(trust_env=False, timeout=10) as c:
            while not stop.is_set():
                try:
                    r = c.post(proxy.url + "/upper", content=b"abc")
                    if r.status_code != 200 or not r.text.endswith("!"):
                        failures.append(f"{r.status_code} {r.text[:80]}")
                    else:
                        counts["ok"] += 1
                except httpx.HTTPError as e:
                    failures.append(repr(e))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    h2 = subprocess.Popen(["h2load", "-D", "6", "-c", "4", "-m", "8", proxy.url + "/a"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    modules = [variant(tmp_path, guest("test_filter.wasm"), tag) for tag in ("a", "b")]
    for i in range(10):
        out = push(proxy, modules[i % 2], "t")
        assert out.returncode == 0, out.stdout + out.stderr
        time.sleep(0.3)
    h2_out = h2.communicate(timeout=60)[0]
    stop.set()
    for t in threads:
        t.join()
    assert not failures, failures[:5]
    assert counts["ok"] > 50
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", h2_out)
    assert m and int(m.group(1)) > 0 and m.group(5) == "0" and m.group(6) == "0", h2_out
    status = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", h2_out)
    assert status and int(status.group(1)) == int(m.group(4)), h2_out


def test_a_request_in_flight_finishes_on_the_module_it_started_on(vortex, echo_origin, client, tmp_path):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm")))
    result = {}

    def slow():
        with httpx.Client(trust_env=False, timeout=30) as c:
            result["resp"] = c.get(proxy.url + "/a?hold=1")

    t = threading.Thread(target=slow)
    t.start()
    assert echo_origin.held.wait(10)
    assert push(proxy, variant(tmp_path, guest("test_filter.wasm"), "next"), "t").returncode == 0
    echo_origin.release.set()
    t.join(30)
    resp = result["resp"]
    assert resp.status_code == 200
    assert resp.headers["x-wasm-response"] == "seen"  # its response still ran the old instance


# --- metrics ---------------------------------------------------------------------------------


def test_plugin_calls_and_plugin_defined_metrics_are_exported(vortex, echo_origin, client):
    proxy = vortex(plugin_config(echo_origin.address, guest("test_filter.wasm"), config="tick"), workers=2)
    for _ in range(4):
        assert client.get(proxy.url + "/a").status_code == 200
    assert client.get(proxy.url + "/trap").status_code == 500
    time.sleep(0.2)  # ticks every 20 ms
    text = scrape(proxy)
    promtool_check(text)
    assert value(text, "vortex_wasm_calls_total", plugin="t", result="trap") == 1
    assert value(text, "vortex_wasm_calls_total", plugin="t", result="continue") >= 4
    assert value(text, "vortex_wasm_plugin_metric_total", plugin="t", metric="requests") == 5
    assert value(text, "vortex_wasm_plugin_metric_current", plugin="t", metric="ticks") >= 2


def test_the_example_config_of_make_run_loads_its_plugin_and_a_push_swaps_it(vortex, origin, client):
    """examples/vortex.yaml as `make run` starts it (its listeners and origins moved to free
    ports) and the README's walk-through: the plugin acts, and pushing version 2 swaps it."""
    repo = Path(__file__).resolve().parents[2]
    text = (repo / "examples" / "vortex.yaml").read_text()
    text = re.sub(r"\nlisteners:\n.*?\n\n", "\n", text, flags=re.S)  # the harness adds one
    first, second = origin("origin-1"), origin("origin-2")
    text = text.replace("127.0.0.1:9001", first.address).replace("127.0.0.1:9002", second.address)
    examples = Path(vortex_bin()).parent / "examples"
    text = text.replace("../build/examples/", f"{examples}/").replace("path: stdout", 'path: "off"')
    proxy = vortex(text)
    resp = client.get(proxy.url + "/anything")
    assert resp.headers["x-vortex-plugin"] == "hello_header/1"
    assert {k.lower(): v for k, v in echoed(resp)["headers"]}["x-hello"] == "hello from wasm"
    assert "x-vortex-plugin" not in client.get(proxy.url + "/hello").headers  # not on that route
    out = push(proxy, str(examples / "hello_header_v2.wasm"), "hello")
    assert out.returncode == 0, out.stdout + out.stderr
    assert client.get(proxy.url + "/anything").headers["x-vortex-plugin"] == "hello_header/2"

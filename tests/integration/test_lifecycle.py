"""The command line and process life of SPEC.md §1: version, check, invalid configs at run,
listeners logged when ready, graceful drain on SIGTERM/SIGINT, and the JSON access log."""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from rawhttp import RawConnection, request_bytes
from vortex_harness import free_port, run_cli, simple_config, vortex_bin


def test_version_prints_name_semver_commit_and_build_type():
    got = run_cli("version")
    assert got.returncode == 0, got.stderr
    assert re.fullmatch(r"vortex \d+\.\d+\.\d+ \([^,()\s]+, [^()]+\)", got.stdout.strip()), got.stdout


@pytest.mark.skipif(os.environ.get("VORTEX_SANITIZED") == "1", reason="sanitizer builds replace the allocator")
def test_allocator_is_jemalloc_with_the_frame_cache_setting():
    # src/app/vortex/allocator_tuning.cc: without it, coroutine frames overflow jemalloc's
    # per-thread cache under load. jemalloc prints its options at exit when asked.
    env = dict(os.environ, MALLOC_CONF="stats_print:true")
    got = subprocess.run([vortex_bin(), "version"], capture_output=True, text=True, env=env, timeout=15)
    assert got.returncode == 0, got.stderr
    assert "opt.tcache_nslots_small_min: 200" in got.stderr + got.stdout


def test_check_accepts_a_valid_config(vortex, echo_origin, tmp_path):
    text, *_ = vortex.config(simple_config(echo_origin.address))
    path = tmp_path / "good.yaml"
    path.write_text(text)
    got = run_cli("check", "--config", str(path))
    assert got.returncode == 0, got.stdout + got.stderr


# Line numbers matter: each error below sits on its own line.
BAD_CONFIG = """\
workers: 1
listeners:
  - { name: main, address: "127.0.0.1:notaport" }
routes:
  - { name: r1, match: { path_prefix: "/" }, cluster: missing_cluster }
  - { name: r2, match: { path_regex: "([a-z" }, cluster: c }
  - { name: r3, match: { path_prefix: "/x" }, cluster: c, timeout_millis: 5 }
clusters:
  - { name: c, endpoints: [{ address: "127.0.0.1:9001" }] }
  - { name: c, endpoints: [{ address: "127.0.0.1:9002" }] }
bogus_top_level_key: 1
"""

# line -> words of which the message must contain at least one (case-insensitive)
BAD_CONFIG_ERRORS = {
    3: ["notaport", "address", "port"],
    5: ["missing_cluster"],
    6: ["regex", "([a-z"],
    7: ["timeout_millis"],
    10: ["duplicate", '"c"', "'c'", " c "],
    11: ["bogus_top_level_key"],
}


def _diagnostics(output: str, path) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for m in re.finditer(rf"^{re.escape(str(path))}:(\d+): (.+)$", output, re.MULTILINE):
        found.setdefault(int(m.group(1)), []).append(m.group(2))
    return found


def _assert_reports_every_error(output: str, path):
    found = _diagnostics(output, path)
    for line, words in BAD_CONFIG_ERRORS.items():
        assert line in found, f"no {path}:{line}: diagnostic in\n{output}"
        assert any(w.lower() in msg.lower() for msg in found[line] for w in words), (
            f"line {line} message {found[line]} names none of {words}"
        )


def test_check_reports_every_error_with_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CONFIG)
    got = run_cli("check", "--config", str(path))
    assert got.returncode == 1, got.stdout + got.stderr
    _assert_reports_every_error(got.stdout + got.stderr, path)


def test_check_reports_missing_required_keys(tmp_path):
    path = tmp_path / "missing.yaml"
    path.write_text(
        "routes:\n"
        '  - { name: r, match: { path_prefix: "/" } }\n'
        "clusters:\n"
        "  - { name: c }\n"
    )
    got = run_cli("check", "--config", str(path))
    output = got.stdout + got.stderr
    assert got.returncode == 1, output
    found = _diagnostics(output, path)
    messages = " ".join(m for ms in found.values() for m in ms).lower()
    assert "listener" in messages, output
    assert "endpoints" in messages, output
    assert 2 in found, f"the route without cluster or direct_response is not reported at line 2:\n{output}"


def test_run_with_invalid_config_exits_1_with_the_check_messages(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CONFIG)
    checked = run_cli("check", "--config", str(path))
    run = subprocess.run([vortex_bin(), "run", "--config", str(path)], capture_output=True, text=True, timeout=15)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "listening on" not in output
    _assert_reports_every_error(output, path)
    for line in (checked.stdout + checked.stderr).splitlines():
        if line.startswith(f"{path}:"):
            assert line in output.splitlines(), f"`run` did not report: {line}"


def test_run_logs_listening_on_for_each_listener_and_serves_both(vortex):
    ports = [free_port(), free_port()]
    proxy = vortex(
        "listeners:\n"
        f'  - {{ name: one, address: "127.0.0.1:{ports[0]}" }}\n'
        f'  - {{ name: two, address: "127.0.0.1:{ports[1]}" }}\n'
        "routes:\n"
        '  - { name: hi, match: { path_exact: "/hi" }, direct_response: { status: 200, body: "hi" } }\n',
        listeners=2,
    )
    output = proxy.output()
    for port in ports:
        assert re.search(rf"listening on .*:{port}\b", output), output
        with RawConnection(port) as conn:
            conn.send(request_bytes("GET", "/hi"))
            assert conn.read_response().body == b"hi"


def _connect_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except (ConnectionRefusedError, ConnectionResetError):
        return True


def _start_held_request(proxy, target="/held?hold=1"):
    result = {}

    def run():
        try:
            with RawConnection(proxy.port, timeout=30) as conn:
                conn.send(request_bytes("GET", target))
                result["response"] = conn.read_response(timeout=30)
        except AssertionError as e:
            result["error"] = str(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _drain_test(vortex, echo_origin, sig):
    proxy = vortex(simple_config(echo_origin.address), drain_timeout_ms=10000)
    thread, result = _start_held_request(proxy)
    assert echo_origin.held.wait(5), "the request never reached the origin"
    proxy.signal(sig)
    deadline = time.monotonic() + 3
    while not _connect_refused(proxy.port):
        assert time.monotonic() < deadline, "still accepting connections 3 s after the signal"
        time.sleep(0.05)
    assert proxy.proc.poll() is None, "exited before the in-flight request finished"
    echo_origin.release.set()
    thread.join(10)
    assert "response" in result, result.get("error")
    resp = result["response"]
    assert resp.status == 200
    assert resp.json()["path"] == "/held"
    assert proxy.stop(expect_exit=0, timeout=10) == 0


def test_sigterm_stops_accepting_lets_the_in_flight_request_finish_and_exits_0(vortex, echo_origin):
    _drain_test(vortex, echo_origin, signal.SIGTERM)


def test_sigint_drains_like_sigterm(vortex, echo_origin):
    _drain_test(vortex, echo_origin, signal.SIGINT)


def test_drain_timeout_bounds_shutdown_with_a_stuck_request(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address), drain_timeout_ms=1000)
    _start_held_request(proxy)  # the origin never answers
    assert echo_origin.held.wait(5)
    start = time.monotonic()
    proxy.signal(signal.SIGTERM)
    code = proxy.wait_exit(10)
    elapsed = time.monotonic() - start
    assert code == 0, proxy.describe()
    assert 0.8 <= elapsed < 5.0, f"exited {elapsed:.2f}s after SIGTERM with drain_timeout_ms 1000"


def test_idle_keep_alive_connections_do_not_delay_shutdown(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address), drain_timeout_ms=10000)
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/idle"))
        assert conn.read_response().status == 200
        start = time.monotonic()
        proxy.signal(signal.SIGTERM)
        code = proxy.wait_exit(10)
        elapsed = time.monotonic() - start
    assert code == 0
    assert elapsed < 3.0, f"an idle keep-alive connection held shutdown for {elapsed:.2f}s"


def _access_log_records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _value_of(record: dict, fragment: str):
    keys = [k for k in record if fragment in k.lower()]
    assert keys, f"no key containing {fragment!r} in {record}"
    return record[keys[0]]


def test_access_log_writes_one_json_line_per_request(vortex, echo_origin, tmp_path):
    log = tmp_path / "access.log"
    proxy = vortex(
        simple_config(echo_origin.address).replace('path_prefix: "/"', 'path_prefix: "/logged"')
        + f'access_log: {{ path: "{log}", format: json }}\n'
    )
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/logged/a?x=1", headers=[("X-Request-Id", "log-req-1")]))
        ok = conn.read_response()
        conn.send(request_bytes("POST", "/nowhere", body=b"abc", headers=[("X-Request-Id", "log-req-2")]))
        missing = conn.read_response()
    assert ok.status == 200 and missing.status == 404
    proxy.stop()
    records = _access_log_records(log)
    assert len(records) == 2, records

    def logged(request_id):
        found = [r for r in records if any("request" in k.lower() and v == request_id for k, v in r.items())]
        assert len(found) == 1, f"no single record carries request id {request_id!r}: {records}"
        return found[0]

    first, second = logged("log-req-1"), logged("log-req-2")
    assert first["method"] == "GET"
    assert first["path"].startswith("/logged/a")
    assert int(first["status"]) == 200
    assert int(first["bytes"]) >= len(ok.body)
    assert float(_value_of(first, "duration")) >= 0
    assert echo_origin.address in str(_value_of(first, "upstream"))
    assert second["method"] == "POST"
    assert second["path"].startswith("/nowhere")
    assert int(second["status"]) == 404
    assert int(second["bytes"]) >= len(missing.body)
    assert echo_origin.address not in str(_value_of(second, "upstream"))


def test_access_log_to_stdout_writes_json_lines(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address) + "access_log: { path: stdout, format: json }\n")
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/to-stdout", headers=[("X-Request-Id", "stdout-req-7")]))
        assert conn.read_response().status == 200
    proxy.stop()
    lines = [line for line in proxy.stdout().splitlines() if "stdout-req-7" in line]
    assert len(lines) == 1, proxy.stdout()
    record = json.loads(lines[0])
    assert record["path"].startswith("/to-stdout")
    assert int(record["status"]) == 200


def test_access_log_off_writes_nothing(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))  # the harness sets path "off"
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/unlogged", headers=[("X-Request-Id", "silent-req-9")]))
        assert conn.read_response().status == 200
    proxy.stop()
    assert "silent-req-9" not in proxy.output()
    assert "/unlogged" not in proxy.output()

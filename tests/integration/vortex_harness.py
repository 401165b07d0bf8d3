"""Starting and stopping the real vortex binary from an inline config, plus process probes.

A test writes only the part of the config it cares about (routes, clusters, limits ...);
VortexFactory adds a loopback listener on a free port, a private admin socket and metrics
port (so parallel instances never collide), workers: 1, drain_timeout_ms and
access_log off, unless the test's text sets that top-level key itself.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 10.0


def vortex_bin() -> str:
    return os.environ.get("VORTEX_BIN") or str(REPO_ROOT / "build" / "vortex")


def free_port() -> int:
    """A port the OS says is free right now (bind to 0, read, close)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_cli(*args: str, timeout: float = 15.0) -> subprocess.CompletedProcess:
    """Runs `vortex ARGS...` to completion; text stdout/stderr."""
    return subprocess.run([vortex_bin(), *args], capture_output=True, text=True, timeout=timeout)


def rss_bytes(pid: int) -> int:
    """Resident set size of pid from /proc/PID/status (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class RssSampler:
    """Samples a process's RSS every `interval` seconds in a thread; .peak is the maximum."""

    def __init__(self, pid: int, interval: float = 0.02):
        self.pid = pid
        self.interval = interval
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_bytes(self.pid))
            except (OSError, RuntimeError):
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _has_top_key(text: str, key: str) -> bool:
    return re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE) is not None


class VortexProcess:
    """One running `vortex run`. port/url are the first listener's."""

    def __init__(self, config_path: Path, config_text: str, port: int, metrics_port: int, admin_socket: str, workdir: Path,
                 env: dict[str, str] | None = None, prefix: list[str] | None = None):
        self.config_path = config_path
        self.config_text = config_text
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.url = f"http://127.0.0.1:{port}"
        self.metrics_port = metrics_port
        self.admin_socket = admin_socket
        self.stdout_path = workdir / "vortex.stdout"
        self.stderr_path = workdir / "vortex.stderr"
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [*(prefix or []), vortex_bin(), "run", "--config", str(config_path)],
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            cwd=str(workdir),
            env={**os.environ, **env} if env else None,
        )
        self.pid = self.proc.pid
        self.stopped = False

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def output(self) -> str:
        return self.stdout() + self.stderr()

    def describe(self) -> str:
        return f"--- vortex stdout ---\n{self.stdout()[-4000:]}\n--- vortex stderr ---\n{self.stderr()[-4000:]}"

    def wait_ready(self, listeners: int = 1, timeout: float = READY_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output().count("listening on") >= listeners:
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"vortex exited with {self.proc.returncode} before it was ready\n{self.describe()}")
            time.sleep(0.02)
        self.kill()
        raise AssertionError(f"vortex did not log 'listening on' within {timeout}s\n{self.describe()}")

    def signal(self, sig: int = signal.SIGTERM):
        self.proc.send_signal(sig)

    def stop(self, expect_exit: int | None = 0, timeout: float = 15.0) -> int:
        """SIGTERM, wait for exit; asserts the exit code unless expect_exit is None."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"vortex did not exit within {timeout}s of SIGTERM\n{self.describe()}")
        finally:
            self._out.close()
            self._err.close()
        if expect_exit is not None:
            assert code == expect_exit, f"vortex exited with {code}, expected {expect_exit}\n{self.describe()}"
        return code

    def wait_exit(self, timeout: float) -> int:
        self.stopped = True
        return self.proc.wait(timeout)

    def kill(self):
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def rss(self) -> int:
        return rss_bytes(self.pid)


class VortexFactory:
    """vortex(config_text) -> VortexProcess (ready). See the module docstring for defaults."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.instances: list[VortexProcess] = []
        # unix socket paths are limited to 108 bytes; tmp_path can be longer.
        self.sockdir = tempfile.mkdtemp(prefix="vx-")
        self.counter = 0

    def config(self, text: str, *, workers: int = 1, port: int | None = None, drain_timeout_ms: int = 3000):
        """The full config text (with the harness defaults) and the chosen ports."""
        self.counter += 1
        text = _dedent(text)
        port = port or free_port()
        metrics_port = free_port()
        admin = os.path.join(self.sockdir, f"admin{self.counter}.sock")
        head = []
        if not _has_top_key(text, "workers"):
            head.append(f"workers: {workers}")
        if not _has_top_key(text, "drain_timeout_ms"):
            head.append(f"drain_timeout_ms: {drain_timeout_ms}")
        if not _has_top_key(text, "listeners"):
            head.append(f'listeners:\n  - {{ name: main, address: "127.0.0.1:{port}" }}')
        if not _has_top_key(text, "admin"):
            head.append(f'admin: {{ socket: "{admin}" }}')
        if not _has_top_key(text, "metrics"):
            head.append(f'metrics: {{ address: "127.0.0.1:{metrics_port}" }}')
        if not _has_top_key(text, "access_log"):
            head.append('access_log: { path: "off" }')
        full = "\n".join(head) + "\n" + text
        return full, port, metrics_port, admin

    def __call__(self, text: str, *, workers: int = 1, listeners: int = 1, port: int | None = None, drain_timeout_ms: int = 3000, wait: bool = True,
                 env: dict[str, str] | None = None, prefix: list[str] | None = None) -> VortexProcess:
        """`env`: variables added to the test's environment for this vortex only. `prefix`: a
        command that execs the rest (e.g. `ip netns exec NS`), so the pid stays vortex's."""
        full, port, metrics_port, admin = self.config(text, workers=workers, port=port, drain_timeout_ms=drain_timeout_ms)
        workdir = self.tmp_path / f"vortex{self.counter}"
        workdir.mkdir()
        path = workdir / "vortex.yaml"
        path.write_text(full)
        binary = vortex_bin()
        if not os.access(binary, os.X_OK):
            raise AssertionError(f"no vortex binary at {binary}: run `make build` or set VORTEX_BIN")
        proc = VortexProcess(path, full, port, metrics_port, admin, workdir, env, prefix)
        self.instances.append(proc)
        if wait:
            proc.wait_ready(listeners)
        return proc

    def cleanup(self) -> list[str]:
        """Stops what the test left running; returns problems (crash, bad exit, a
        ThreadSanitizer report from any instance, however it ended) to report."""
        problems = []
        for p in self.instances:
            if not p.stopped:
                if p.proc.poll() is not None:
                    problems.append(f"vortex exited on its own with {p.proc.returncode} during the test\n{p.describe()}")
                    p.stopped = True
                else:
                    try:
                        p.stop(expect_exit=0, timeout=15)
                    except AssertionError as e:
                        problems.append(str(e))
            # `make test-tsan` halts vortex at its first race (exit 66, a bad exit above), but a
            # test that kills vortex or expects another exit code would not see that one.
            report = _tsan_report(p.stderr())
            if report:
                problems.append(f"vortex ({p.config_path.parent.name}) reported a race:\n{report}")
        shutil.rmtree(self.sockdir, ignore_errors=True)
        return problems


def _tsan_report(stderr: str) -> str:
    """The first ThreadSanitizer report in `stderr` (its first 12000 characters), or ""."""
    start = stderr.find("WARNING: ThreadSanitizer:")
    return stderr[start : start + 12000] if start >= 0 else ""


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip("\n") + "\n"


def simple_config(origin_address: str, *, route: str = "", cluster: str = "", limits: str = "", extra: str = "") -> str:
    """One catch-all route `r` to one cluster `c` with a single endpoint. `route` and
    `cluster` are extra keys (flow-style fragments, e.g. "timeout_ms: 300") added to them."""
    route_extra = f", {route}" if route else ""
    cluster_extra = f", {cluster}" if cluster else ""
    text = (
        "routes:\n"
        f'  - {{ name: r, match: {{ path_prefix: "/" }}, cluster: c{route_extra} }}\n'
        "clusters:\n"
        f'  - {{ name: c, endpoints: [{{ address: "{origin_address}" }}]{cluster_extra} }}\n'
    )
    if limits:
        text += f"limits: {{ {limits} }}\n"
    return text + _dedent(extra) if extra else text

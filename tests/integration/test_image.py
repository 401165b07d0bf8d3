"""The container image (Dockerfile, `make docker-build`): it builds, `vortex version` runs in
it as the non-root user, and Vortex started inside it from a mounted config proxies a request
to an origin this test runs on the host. Slow (the build compiles Vortex): `make test-image`; IMAGE_PREBUILT=1 uses IMAGE as it is.

Where a docker daemon answers, the container runs with docker (`--network host`); else with
buildah (`buildah run --isolation chroot`, the host's network), which is what works in
sandboxes where podman and crun cannot start containers (shared/notes/containers.md).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from vortex_harness import REPO_ROOT, free_port

IMAGE = os.environ.get("IMAGE", "localhost/vortex:dev")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(7200)]


def docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.fixture(scope="module")
def image():
    if os.environ.get("IMAGE_PREBUILT") == "1":  # iterating on the test: the image as it is
        return IMAGE
    build = subprocess.run([str(REPO_ROOT / "scripts" / "docker_build.sh")], cwd=REPO_ROOT,
                           env={**os.environ, "IMAGE": IMAGE}, capture_output=True, text=True,
                           timeout=7000)
    assert build.returncode == 0, f"image build failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    return IMAGE


class Container:
    """Runs commands in a container of the image, on the host's network, with `mounts`
    (host path -> container path, read-only)."""

    def __init__(self, image: str, mounts: dict[str, str]):
        self.docker = docker_works()
        self.image = image
        self.mounts = mounts
        self.name = None
        if not self.docker:
            out = subprocess.run(["buildah", "from", "--quiet", image], capture_output=True, text=True,
                                 timeout=120, check=True)
            self.name = out.stdout.strip()

    def command(self, *args: str) -> list[str]:
        if self.docker:
            volumes = [f"--volume={h}:{c}:ro" for h, c in self.mounts.items()]
            # docker's entrypoint is `vortex`: args[0] replaces it.
            return ["docker", "run", "--rm", "--network=host", *volumes, "--entrypoint", args[0],
                    self.image, *args[1:]]
        volumes = [f"--volume={h}:{c}:ro" for h, c in self.mounts.items()]
        return ["buildah", "run", "--isolation", "chroot", *volumes, self.name, "--", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), capture_output=True, text=True, timeout=120)

    def close(self):
        if self.name:
            subprocess.run(["buildah", "rm", self.name], capture_output=True, timeout=120)


@pytest.fixture
def container(image, tmp_path):
    config_dir = tmp_path / "etc-vortex"
    config_dir.mkdir()
    c = Container(image, {str(config_dir): "/etc/vortex"})
    c.config_dir = config_dir
    yield c
    c.close()


def test_image_runs_vortex_version_as_a_non_root_user(container):
    version = container.run("vortex", "version")
    assert version.returncode == 0, version.stderr
    assert re.fullmatch(r"vortex \d+\.\d+\.\d+ \([0-9a-f]{4,}, Release\)\n", version.stdout), version.stdout
    ids = container.run("id", "-u")
    assert ids.stdout.strip() == "10001", ids.stdout + ids.stderr


def test_vortex_in_the_image_proxies_to_an_origin_on_the_host(container, echo_origin, http):
    port, metrics_port = free_port(), free_port()
    (container.config_dir / "vortex.yaml").write_text(f"""
workers: 1
drain_timeout_ms: 2000
listeners:
  - {{ name: public, address: "127.0.0.1:{port}" }}
routes:
  - {{ name: all, match: {{ path_prefix: / }}, cluster: origin }}
clusters:
  - {{ name: origin, endpoints: [{{ address: "{echo_origin.address}" }}] }}
admin: {{ socket: /tmp/vortex_admin.sock }}
metrics: {{ address: "127.0.0.1:{metrics_port}" }}
access_log: {{ path: "off" }}
""")
    # The image's default command reads /etc/vortex/vortex.yaml: the same arguments here.
    proc = subprocess.Popen(container.command("vortex", "run", "--config", "/etc/vortex/vortex.yaml"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        ready = False
        while time.monotonic() < deadline and proc.poll() is None and not ready:
            try:
                ready = http.get(f"http://127.0.0.1:{metrics_port}/readyz").status_code == 200
            except Exception:
                time.sleep(0.2)
        assert ready, f"vortex in the image did not get ready (exit {proc.poll()})"
        r = http.get(f"http://127.0.0.1:{port}/through/the/image?x=1")
        assert r.status_code == 200, r.text
        seen = r.json()  # what the origin received, echoed
        assert seen["path"] == "/through/the/image"
        assert ["via", "1.1 vortex"] in [[n.lower(), v] for n, v in seen["headers"]]
        assert len(echo_origin.requests) == 1
    finally:
        # SIGTERM to Vortex itself, as the kubelet sends it: buildah run kills its child on a
        # signal rather than forwarding it. Vortex drains, exits 0, and the runner with it.
        for pid in vortex_pids_in_session(proc.pid):
            os.kill(pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate(timeout=30)
    assert "listening on 127.0.0.1" in out, out
    assert "vortex: draining (signal 15)" in out and "vortex: stopped" in out, out
    assert proc.returncode == 0, out


def vortex_pids_in_session(session: int) -> list[int]:
    """The `vortex` processes of the session the test started the container runner in."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()  # state ppid pgrp session ...
        if comm == "vortex" and int(fields[3]) == session:
            pids.append(int(entry))
    return pids

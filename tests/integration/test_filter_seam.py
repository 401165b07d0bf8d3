"""The filter seam with real clients and the real codecs: no-op filters on every hook
(VORTEX_BENCH_FILTERS, the benchmark knob) leave every byte as it was over HTTP/1.1, h2c and h2
over TLS. A body filter may change a body's length, so with one a response that came with a
Content-Length goes out chunked to an HTTP/1.1 client (without a length over HTTP/2) and an
upload reaches the origin chunked; without one, lengths pass as they were. A hook the knob does
not know refuses to start."""

import hashlib
import json
import os
import subprocess

import pytest

from origins import pattern_sha256
from rawhttp import curl, header_values
from tls_certs import make_cert, tls_listener
from vortex_harness import free_port, simple_config, vortex_bin

EVERY_HOOK = "request_head,request_body,response_head,response_body,log"

MODES = {
    "h1": lambda p: ["--http1.1", f"http://127.0.0.1:{p.port}"],
    "h2c": lambda p: ["--http2-prior-knowledge", f"http://127.0.0.1:{p.port}"],
    "h2": lambda p: ["-k", "--http2", f"https://127.0.0.1:{p.tls_port}"],
}


@pytest.fixture
def seam_proxy(vortex, echo_origin, tmp_path, monkeypatch):
    """A proxy (plain + TLS listener) whose routes carry no-op filters on the hooks given."""
    cert = make_cert(tmp_path, "seam", "localhost", ["localhost", "127.0.0.1"])

    def start(hooks: str):
        monkeypatch.setenv("VORTEX_BENCH_FILTERS", hooks)
        plain, secure = free_port(), free_port()
        listeners = (f'listeners:\n  - {{ name: plain, address: "127.0.0.1:{plain}" }}\n'
                     + tls_listener(secure, [(cert[0], cert[1], ["*"])]).replace("listeners:\n", ""))
        proxy = vortex(listeners + simple_config(echo_origin.address), port=plain, listeners=2)
        proxy.tls_port = secure
        return proxy

    return start


def _curl(proxy, mode, path, *args):
    opts = MODES[mode](proxy)
    url = opts.pop() + path
    got = curl(*opts, "-D", "-", "-o", "/dev/stdout", *args, url)
    assert got.returncode == 0, got.stderr
    head, _, body = got.stdout.partition(b"\r\n\r\n")
    while head.split(b" ")[1].startswith(b"1"):  # interim heads (100 Continue) come first
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("mode", list(MODES))
def test_a_download_through_every_hook_is_intact(seam_proxy, mode):
    proxy = seam_proxy(EVERY_HOOK)
    size = 3_000_000
    status, headers, body = _curl(proxy, mode, f"/bytes/{size}")
    assert status == 200
    assert len(body) == size
    assert hashlib.sha256(body).hexdigest() == pattern_sha256(size)
    # The origin sent Content-Length; a body filter may change the length.
    assert "content-length" not in headers
    if mode == "h1":
        assert headers.get("transfer-encoding") == "chunked"


@pytest.mark.parametrize("mode", list(MODES))
def test_an_upload_through_every_hook_reaches_the_origin_intact(seam_proxy, mode, tmp_path):
    proxy = seam_proxy(EVERY_HOOK)
    data = os.urandom(1_500_000)
    payload = tmp_path / "upload.bin"
    payload.write_bytes(data)
    status, _, body = _curl(proxy, mode, "/upload", "--data-binary", f"@{payload}")
    assert status == 200
    echo = json.loads(body)
    assert echo["body_bytes"] == len(data)
    assert echo["body_sha256"] == hashlib.sha256(data).hexdigest()
    assert echo["framing"] == "chunked"
    assert header_values(echo["headers"], "content-length") == []


def test_head_filters_alone_keep_the_lengths(seam_proxy, tmp_path):
    proxy = seam_proxy("request_head,response_head,log")
    status, headers, body = _curl(proxy, "h1", "/bytes/100000")
    assert status == 200
    assert headers.get("content-length") == "100000"
    assert hashlib.sha256(body).hexdigest() == pattern_sha256(100_000)
    payload = tmp_path / "small.bin"
    payload.write_bytes(b"x" * 5000)
    _, _, body = _curl(proxy, "h1", "/upload", "--data-binary", f"@{payload}")
    assert json.loads(body)["framing"] == "content-length"


def test_keep_alive_survives_a_rewritten_framing(seam_proxy):
    proxy = seam_proxy(EVERY_HOOK)
    url = f"http://127.0.0.1:{proxy.port}"
    got = curl("--http1.1", "-s", "-o", "/dev/null", "-w", "%{num_connects} ",
               f"{url}/bytes/5000", "-o", "/dev/null", f"{url}/bytes/7000", "-o", "/dev/null",
               f"{url}/small")
    assert got.returncode == 0, got.stderr
    # Three requests on one connection: each chunked answer ended where the client expected.
    assert got.stdout.decode().split() == ["1", "0", "0"]


def test_an_unknown_hook_refuses_to_start(tmp_path):
    config = tmp_path / "vortex.yaml"
    config.write_text(f'listeners: [{{ name: main, address: "127.0.0.1:{free_port()}" }}]\n'
                      'routes: [{ name: r, match: { path_prefix: / }, direct_response: { status: 200 } }]\n'
                      f'admin: {{ socket: "{tmp_path}/a.sock" }}\nmetrics: {{ address: "" }}\n')
    env = dict(os.environ, VORTEX_BENCH_FILTERS="request_head,bogus")
    got = subprocess.run([vortex_bin(), "run", "--config", str(config)], capture_output=True,
                         text=True, timeout=15, env=env)
    assert got.returncode == 1
    assert "VORTEX_BENCH_FILTERS: unknown hook 'bogus'" in got.stderr

"""Active health checks in the cluster's own protocol (SPEC.md §2 clusters[].health_check with
protocol and tls): HTTP/1.1 over TLS, h2c and h2 endpoints are probed with a real GET of the
check path in that protocol; a sick one gets no traffic until it passes healthy_after probes,
and an endpoint whose certificate fails verification is unhealthy."""

from __future__ import annotations

import socket
import ssl
import time
from types import SimpleNamespace

import httpx
import pytest

from h2_origins import H2Origin, H2Response
from origins import OriginServer
from tls_certs import make_cert

CHECK = "health_check: { path: /healthz, interval_ms: 50, timeout_ms: 500, unhealthy_after: 2, healthy_after: 2 }"


class _TlsH1Origin(OriginServer):
    """The stdlib OriginServer behind TLS (ALPN http/1.1): answers /healthz with probe_status,
    everything else with the echo handler (X-Origin: name). A failed handshake is dropped."""

    def __init__(self, name, cert):
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(str(cert[0]), str(cert[1]))
        self._tls.set_alpn_protocols(["http/1.1"])
        super().__init__(name)

    def _serve(self, sock, conn_id):
        try:
            sock.settimeout(10)
            sock = self._tls.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError):
            sock.close()
            return
        with self.lock:
            self._socks.append(sock)
        super()._serve(sock, conn_id)

    @property
    def served(self) -> int:
        return self.heads


class _H2HealthOrigin:
    """An h2c or h2 (TLS, ALPN h2) origin: /healthz answers probe_status, anything else 200
    with x-origin: name. Records every probe's request as the origin saw it."""

    def __init__(self, name, tls=None):
        self.name = name
        self.probe_status = 200
        self._origin = H2Origin(handler=self._handle, tls=tls)
        self.address = self._origin.address

    def _handle(self, req):
        if req["path"] == "/healthz":
            return H2Response(self.probe_status, [("content-type", "text/plain")], b"ok")
        return H2Response(200, [("x-origin", self.name)], b"hi")

    def _requests(self, probes: bool) -> list[dict]:
        with self._origin.lock:
            return [r for r in self._origin.requests if (r["path"] == "/healthz") == probes]

    @property
    def probe_requests(self) -> list[dict]:
        return self._requests(True)

    @property
    def probes(self) -> int:
        return len(self.probe_requests)

    @property
    def served(self) -> int:
        return len(self._requests(False))

    def stop(self):
        self._origin.kill()


@pytest.fixture
def certs(tmp_path):
    good = make_cert(tmp_path, "origin", "localhost", ["localhost", "127.0.0.1"])
    # Same names, but signed by a key the cluster's tls.ca does not hold.
    untrusted = make_cert(tmp_path, "untrusted", "localhost", ["localhost", "127.0.0.1"])
    return good, untrusted


@pytest.fixture
def make_origin():
    made = []

    def make(protocol, name, cert=None):
        o = _TlsH1Origin(name, cert) if protocol == "http1" else _H2HealthOrigin(
            name, tls=cert if protocol == "h2" else None)
        made.append(o)
        return o

    yield make
    for o in made:
        o.stop()


def _config(protocol, a, b, ca=None):
    tls = f'tls: {{ ca: "{ca}" }}' if ca else ""
    return f"""
    routes:
      - {{ name: r, match: {{ path_prefix: "/" }}, cluster: c }}
    clusters:
      - name: c
        protocol: {protocol}
        {tls}
        lb: round_robin
        endpoints: [{{ address: "{a.address}" }}, {{ address: "{b.address}" }}]
        {CHECK}
    """


def _wait_for_log(proxy, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proxy.stderr():
            return
        time.sleep(0.02)
    raise AssertionError(f"no {text!r} in vortex's log within {timeout}s\n{proxy.describe()}")


def _wait_until(what, predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.02)


def _spread(proxy, n):
    """Sends n sequential GETs; returns the origin names that answered, in order."""
    names = []
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        for i in range(n):
            r = client.get(f"{proxy.url}/n{i}")
            assert r.status_code == 200, r.text
            names.append(r.headers["x-origin"])
    return names


# http1 here is HTTP/1.1 over TLS; plain HTTP/1.1 is test_lb_health.py's.
@pytest.mark.parametrize("protocol", ["http1", "h2c", "h2"])
def test_sick_endpoint_gets_no_traffic_until_healthy_after_passes(vortex, make_origin, certs, protocol):
    cert = None if protocol == "h2c" else certs[0]
    a, sick = make_origin(protocol, "a", cert), make_origin(protocol, "sick", cert)
    sick.probe_status = 503
    proxy = vortex(_config(protocol, a, sick, ca=cert[0] if cert else None))
    _wait_for_log(proxy, f"endpoint {sick.address} is now unhealthy: non-2xx status 503")
    assert f"endpoint {a.address} is now unhealthy" not in proxy.stderr()
    assert sick.probes >= 2  # each failed one was answered: the probes spoke the protocol
    _wait_until("the healthy endpoint answered probes", lambda: a.probes >= 2)
    assert _spread(proxy, 20) == ["a"] * 20
    assert sick.served == 0

    sick.probe_status = 200
    _wait_for_log(proxy, f"endpoint {sick.address} is now healthy")
    names = _spread(proxy, 20)
    assert names.count("sick") == 10, names  # round robin over both again
    assert sick.served == 10


@pytest.mark.parametrize("protocol", ["h2c", "h2"])
def test_h2_probe_is_a_get_of_the_path_with_the_endpoint_as_authority(vortex, make_origin, certs, protocol):
    cert = certs[0] if protocol == "h2" else None
    a, b = make_origin(protocol, "a", cert), make_origin(protocol, "b", cert)
    vortex(_config(protocol, a, b, ca=cert[0] if cert else None))
    _wait_until("3 probes each", lambda: a.probes >= 3 and b.probes >= 3)
    for o in (a, b):
        probes = o.probe_requests
        probe = probes[0]
        assert probe["method"] == "GET"
        assert probe["authority"] == o.address
        assert probe["scheme"] == ("https" if protocol == "h2" else "http")
        assert o.served == 0  # probes are not requests
        # One probe per connection: each one opened its own.
        assert len({r["connection_id"] for r in probes}) == len(probes)


@pytest.mark.parametrize("protocol", ["http1", "h2"])
def test_endpoint_whose_certificate_fails_verification_is_unhealthy(vortex, make_origin, certs, protocol):
    good, untrusted = certs
    a, impostor = make_origin(protocol, "a", good), make_origin(protocol, "impostor", untrusted)
    proxy = vortex(_config(protocol, a, impostor, ca=good[0]))
    _wait_for_log(proxy, f"endpoint {impostor.address} is now unhealthy: TLS handshake or certificate check failed")
    assert f"endpoint {a.address} is now unhealthy" not in proxy.stderr()
    assert impostor.probes == 0  # no probe got past the handshake
    _wait_until("the trusted endpoint answered probes", lambda: a.probes >= 2)
    assert _spread(proxy, 10) == ["a"] * 10
    assert impostor.served == 0


@pytest.mark.parametrize("protocol", ["h2c", "h2"])
def test_dead_h2_endpoint_is_unhealthy(vortex, make_origin, certs, protocol):
    cert = certs[0] if protocol == "h2" else None
    a, b = make_origin(protocol, "a", cert), make_origin(protocol, "b", cert)
    proxy = vortex(_config(protocol, a, b, ca=cert[0] if cert else None))
    b.stop()
    _wait_for_log(proxy, f"endpoint {b.address} is now unhealthy: connect failed")
    assert _spread(proxy, 10) == ["a"] * 10


def test_h2_probe_of_an_http1_only_endpoint_is_unhealthy(vortex, make_origin, origin):
    a = make_origin("h2c", "a")
    plain = origin("plain")  # HTTP/1.1 only: answers the h2 preface with an error
    proxy = vortex(_config("h2c", a, plain))
    _wait_for_log(proxy, f"endpoint {plain.address} is now unhealthy")
    assert _spread(proxy, 6) == ["a"] * 6


@pytest.mark.parametrize("protocol", ["http1", "h2"])
def test_tls_endpoint_that_never_handshakes_times_out(vortex, make_origin, certs, protocol):
    """timeout_ms bounds the TLS handshake too: a listener that accepts (the kernel completes
    TCP from the backlog) but never answers the ClientHello is unhealthy, not stuck."""
    a = make_origin(protocol, "a", certs[0])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    mute = SimpleNamespace(address=f"127.0.0.1:{listener.getsockname()[1]}")
    try:
        proxy = vortex(_config(protocol, a, mute, ca=certs[0][0]))
        _wait_for_log(proxy, f"endpoint {mute.address} is now unhealthy: timed out")
        assert _spread(proxy, 6) == ["a"] * 6
    finally:
        listener.close()

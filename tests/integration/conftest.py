"""Fixtures of the integration suite: the real vortex binary and real origins.

vortex(config_text, workers=1, listeners=1, ...) -> VortexProcess   (see vortex_harness)
origin(name="echo", handler=echo_handler) -> OriginServer           (see origins)
echo_origin -> OriginServer named "echo"
raw_origin(script) -> RawOrigin
echo_proxy -> VortexProcess routing every request to echo_origin (as .origin)
"""

from __future__ import annotations

import pytest

from origins import BlackholeListener, OriginServer, RawOrigin, echo_handler
from vortex_harness import VortexFactory, simple_config


@pytest.fixture
def vortex(tmp_path):
    factory = VortexFactory(tmp_path)
    yield factory
    problems = factory.cleanup()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def origin():
    servers: list[OriginServer] = []

    def make(name: str = "echo", handler=echo_handler) -> OriginServer:
        server = OriginServer(name, handler)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def echo_origin(origin):
    return origin("echo")


@pytest.fixture
def raw_origin():
    servers: list[RawOrigin] = []

    def make(script) -> RawOrigin:
        server = RawOrigin(script)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def blackhole():
    listener = BlackholeListener()
    yield listener
    listener.stop()


@pytest.fixture
def echo_proxy(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    proxy.origin = echo_origin
    return proxy


@pytest.fixture
def http():
    """An httpx client that ignores proxy environment variables."""
    import httpx

    with httpx.Client(trust_env=False, timeout=15.0) as client:
        yield client

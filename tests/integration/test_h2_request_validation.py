"""HTTP/2 requests Vortex must treat as malformed (RFC 9113 §8.3.1, §8.2.3, §8.1.1), and limits
that are one stream's problem, not its connection's: each bad stream gets its answer (400, 431,
RST_STREAM) while the connection and its other streams go on."""

import json

import pytest

from h2frames import (HEADERS, PROTOCOL_ERROR, REFUSED_STREAM, RST_STREAM, H2Conn, request_headers,
                      settings)
from rawhttp import header_values
from vortex_harness import simple_config


@pytest.fixture
def proxy(vortex, echo_origin):
    p = vortex(f"""
        routes:
          - {{ name: r, match: {{ host: "allowed.example", path_prefix: "/" }}, cluster: c }}
        clusters:
          - {{ name: c, endpoints: [{{ address: "{echo_origin.address}" }}] }}
        """)
    p.origin = echo_origin
    return p


def _head(port, authority="allowed.example", path="/", scheme="http", extra=()):
    return [(":method", "GET"), (":scheme", scheme), (":authority", authority), (":path", path)] + list(extra)


def _exchange(proxy, fields, stream=1):
    conn = H2Conn(proxy.port)
    try:
        conn.send(conn.headers(stream, fields))
        heads, body, _, rst = conn.response(stream)
        # The connection survives a bad stream: a good one is answered on it.
        conn.send(conn.headers(stream + 2, _head(proxy.port, path="/after")))
        after, _, _, after_rst = conn.response(stream + 2)
        assert after_rst is None and (":status", "200") in after, after
        return dict(heads), body, rst
    finally:
        conn.close()


def _is_refused(heads, rst):
    """A 400 answer, or a stream reset as malformed: either way nothing went upstream."""
    return heads.get(":status") == "400" or rst == PROTOCOL_ERROR


def test_a_host_header_that_disagrees_with_authority_is_malformed(proxy):
    heads, body, rst = _exchange(proxy, _head(proxy.port, extra=[("host", "internal.example")]))
    assert _is_refused(heads, rst), (heads, rst)
    assert all(r["path"] != "/" for r in proxy.origin.requests)


def test_a_matching_host_header_is_forwarded_as_the_authority(proxy):
    heads, body, rst = _exchange(proxy, _head(proxy.port, extra=[("host", "allowed.example")]))
    assert heads[":status"] == "200"
    assert header_values(json.loads(body)["headers"], "host") == ["allowed.example"]


def test_userinfo_in_the_authority_is_malformed(proxy):
    heads, _, rst = _exchange(proxy, _head(proxy.port, authority="user@allowed.example"))
    assert _is_refused(heads, rst), (heads, rst)
    assert proxy.origin.requests == [] or all(r["path"] != "/" for r in proxy.origin.requests)


def test_a_path_with_a_fragment_is_malformed(proxy):
    heads, _, rst = _exchange(proxy, _head(proxy.port, path="/a#frag"))
    assert _is_refused(heads, rst), (heads, rst)


@pytest.mark.parametrize("scheme", ["ftp", "gopher", "HTTPS2"])
def test_an_unknown_scheme_is_malformed(proxy, scheme):
    heads, _, rst = _exchange(proxy, _head(proxy.port, scheme=scheme))
    assert _is_refused(heads, rst), (heads, rst)


def test_cookie_crumbs_reach_an_http1_origin_as_one_field(proxy):
    crumbs = [("cookie", "a=1"), ("accept", "*/*"), ("cookie", "b=2"), ("cookie", "c=3")]
    heads, body, _ = _exchange(proxy, _head(proxy.port, extra=crumbs))
    assert heads[":status"] == "200"
    assert header_values(json.loads(body)["headers"], "cookie") == ["a=1; b=2; c=3"]


def test_an_oversized_header_gets_431_on_its_stream_only(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address, limits="max_header_bytes: 4096"))
    heads, body, rst = _exchange(proxy, _head(proxy.port, authority=f"127.0.0.1:{proxy.port}",
                                              extra=[("x-big", "v" * 8000)]))
    assert heads.get(":status") == "431", (heads, rst)
    assert json.loads(body)["error"] == "Request Header Fields Too Large"


def test_a_stream_over_the_concurrency_limit_is_refused_alone(vortex, echo_origin):
    proxy = vortex(simple_config(echo_origin.address))
    conn = H2Conn(proxy.port, initial=settings())
    try:
        # Learn the server's limit from its SETTINGS, then open one stream more than it allows
        # without waiting for any to finish (every request holds at the origin).
        limit = None
        while limit is None:
            f = conn.read_frame()
            assert f is not None
            if f[0] == 4 and not f[1] & 1:
                payload = f[3]
                for i in range(0, len(payload), 6):
                    ident = int.from_bytes(payload[i:i + 2], "big")
                    if ident == 3:
                        limit = int.from_bytes(payload[i + 2:i + 6], "big")
        streams = [1 + 2 * i for i in range(limit + 1)]
        for sid in streams:
            conn.send(conn.headers(sid, request_headers(proxy.port, "/slow?delay_ms=300")))
        statuses, resets = {}, {}
        while len(statuses) + len(resets) < len(streams):
            f = conn.read_frame(timeout=10)
            assert f is not None, (statuses, resets)
            ftype, _, sid, payload = f
            if ftype == RST_STREAM:
                resets[sid] = int.from_bytes(payload[:4], "big")
            elif ftype == HEADERS and sid in streams:
                fields = dict(conn.decoder.decode(payload))
                if ":status" in fields:
                    statuses[sid] = fields[":status"]
        assert list(resets.values()) == [REFUSED_STREAM]
        assert len([s for s in statuses.values() if s == "200"]) == limit
    finally:
        conn.close()

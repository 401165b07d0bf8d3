"""Routing as SPEC.md §2: host exact and wildcard, path exact/prefix/regex, methods,
headers, direct_response, first match wins, and the 404 JSON when nothing matches."""

import pytest

from rawhttp import RawConnection, assert_json_error, request_bytes

NOT_FOUND_BODY = b'{"error":"Not Found","message":"no route"}'


@pytest.fixture
def origins(origin):
    return {name: origin(name) for name in ("a", "b", "c")}


def _clusters(origins) -> str:
    lines = ["clusters:"]
    for name, server in origins.items():
        lines.append(f'  - {{ name: {name}, endpoints: [{{ address: "{server.address}" }}] }}')
    return "\n".join(lines) + "\n"


def _send(proxy, method="GET", target="/", host="test.local", headers=None, body=b""):
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes(method, target, headers=headers, body=body, host=host))
        return conn.read_response(method=method)


def _origin_of(resp) -> str | None:
    return resp.header("x-origin") if resp.status == 200 else None


def _assert_no_route(resp):
    assert_json_error(resp, 404, "Not Found")
    assert resp.body == NOT_FOUND_BODY


def test_host_exact_and_wildcard_select_their_clusters(vortex, origins):
    proxy = vortex(
        "routes:\n"
        '  - { name: api, match: { host: "api.example.com" }, cluster: a }\n'
        '  - { name: wild, match: { host: "*.example.com" }, cluster: b }\n' + _clusters(origins)
    )
    assert _origin_of(_send(proxy, host="api.example.com")) == "a"
    assert _origin_of(_send(proxy, host="api.example.com:8080")) == "a"
    assert _origin_of(_send(proxy, host="API.Example.COM")) == "a"
    assert _origin_of(_send(proxy, host="www.example.com")) == "b"
    assert _origin_of(_send(proxy, host="deep.www.example.com")) == "b"
    _assert_no_route(_send(proxy, host="example.com"))
    _assert_no_route(_send(proxy, host="api.example.org"))
    _assert_no_route(_send(proxy, host="notexample.com"))


def test_path_exact_prefix_and_regex_select_their_clusters(vortex, origins):
    proxy = vortex(
        "routes:\n"
        '  - { name: exact, match: { path_exact: "/exact" }, cluster: a }\n'
        '  - { name: prefix, match: { path_prefix: "/v1/" }, cluster: b }\n'
        '  - { name: regex, match: { path_regex: "^/u/[0-9]+$" }, cluster: c }\n' + _clusters(origins)
    )
    assert _origin_of(_send(proxy, target="/exact")) == "a"
    assert _origin_of(_send(proxy, target="/exact?q=1")) == "a"
    _assert_no_route(_send(proxy, target="/exact/more"))
    _assert_no_route(_send(proxy, target="/exactly"))
    assert _origin_of(_send(proxy, target="/v1/")) == "b"
    assert _origin_of(_send(proxy, target="/v1/users/7")) == "b"
    _assert_no_route(_send(proxy, target="/v1"))
    _assert_no_route(_send(proxy, target="/v2/users"))
    assert _origin_of(_send(proxy, target="/u/42")) == "c"
    assert _origin_of(_send(proxy, target="/u/42?x=y")) == "c"
    _assert_no_route(_send(proxy, target="/u/42x"))
    _assert_no_route(_send(proxy, target="/u/"))
    _assert_no_route(_send(proxy, target="/x/u/42"))


def test_methods_restrict_a_route(vortex, origins):
    proxy = vortex(
        "routes:\n"
        '  - { name: rw, match: { path_prefix: "/", methods: [GET, POST] }, cluster: a }\n'
        '  - { name: del, match: { path_prefix: "/", methods: [DELETE] }, cluster: b }\n' + _clusters(origins)
    )
    assert _origin_of(_send(proxy, "GET", "/m")) == "a"
    assert _origin_of(_send(proxy, "POST", "/m", body=b"x")) == "a"
    assert _origin_of(_send(proxy, "DELETE", "/m")) == "b"
    _assert_no_route(_send(proxy, "PUT", "/m", body=b"x"))


def test_required_headers_must_match_exactly(vortex, origins):
    proxy = vortex(
        "routes:\n"
        '  - { name: tenant-a, match: { path_prefix: "/", headers: { x-tenant: a } }, cluster: a }\n'
        '  - { name: tenant-b, match: { path_prefix: "/", headers: { x-tenant: b, x-env: prod } }, cluster: b }\n'
        + _clusters(origins)
    )
    assert _origin_of(_send(proxy, headers=[("x-tenant", "a")])) == "a"
    assert _origin_of(_send(proxy, headers=[("X-Tenant", "a")])) == "a"
    assert _origin_of(_send(proxy, headers=[("x-tenant", "b"), ("x-env", "prod")])) == "b"
    _assert_no_route(_send(proxy, headers=[("x-tenant", "b")]))
    _assert_no_route(_send(proxy, headers=[("x-tenant", "ab")]))
    _assert_no_route(_send(proxy))


def test_first_matching_route_wins(vortex, origins):
    proxy = vortex(
        "routes:\n"
        '  - { name: specific, match: { path_prefix: "/api/admin" }, cluster: a }\n'
        '  - { name: general, match: { path_prefix: "/api" }, cluster: b }\n'
        '  - { name: shadowed, match: { path_prefix: "/api/admin/x" }, cluster: c }\n' + _clusters(origins)
    )
    assert _origin_of(_send(proxy, target="/api/admin/x")) == "a"
    assert _origin_of(_send(proxy, target="/api/users")) == "b"
    assert origins["c"].request_count == 0


def test_direct_response_answers_with_its_status_body_and_content_type(vortex, origins):
    proxy = vortex(
        "routes:\n"
        '  - name: hello\n'
        '    match: { path_exact: "/hello" }\n'
        '    direct_response: { status: 201, body: "hello\\n", content_type: "text/plain" }\n'
        '  - name: teapot\n'
        '    match: { path_exact: "/teapot" }\n'
        '    direct_response: { status: 418, body: "{\\"short\\":\\"stout\\"}", content_type: "application/json" }\n'
        + _clusters(origins)
    )
    resp = _send(proxy, target="/hello")
    assert resp.status == 201
    assert resp.body == b"hello\n"
    assert (resp.header("content-type") or "").split(";")[0] == "text/plain"
    resp = _send(proxy, target="/teapot")
    assert resp.status == 418
    assert resp.json() == {"short": "stout"}
    assert (resp.header("content-type") or "").split(";")[0] == "application/json"
    assert all(o.heads == 0 for o in origins.values())


def test_direct_response_keeps_the_connection_alive(vortex):
    proxy = vortex(
        "routes:\n"
        '  - { name: hello, match: { path_exact: "/hello" }, direct_response: { status: 200, body: "hi" } }\n'
    )
    with RawConnection(proxy.port) as conn:
        for _ in range(3):
            conn.send(request_bytes("GET", "/hello"))
            resp = conn.read_response()
            assert resp.status == 200 and resp.body == b"hi"
        assert not conn.eof


def test_no_matching_route_gets_404_json(vortex, origins):
    proxy = vortex(
        "routes:\n"
        '  - { name: only, match: { path_exact: "/only" }, cluster: a }\n' + _clusters(origins)
    )
    resp = _send(proxy, target="/elsewhere")
    _assert_no_route(resp)
    assert origins["a"].heads == 0

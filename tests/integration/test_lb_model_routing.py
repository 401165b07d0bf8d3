"""AI-model routing (SPEC.md §2 `model_routing`, routes[].match.ai_model): with model_routing a
cluster picks only among endpoints whose ai_models list the request's model (header
x-ai-model); no such endpoint, or no model at all, gets the SPEC 503 at once. A route can also
match on the model."""

import httpx

SPEC_503 = {"error": "Service Unavailable", "message": "Circuit breaker open or all backend nodes are offline."}


def _routed_cluster(a, b, c, lb="peak_ewma"):
    return f"""
    routes:
      - {{ name: r, match: {{ path_prefix: "/" }}, cluster: models }}
    clusters:
      - name: models
        lb: {lb}
        model_routing: true
        endpoints:
          - {{ address: "{a.address}", ai_models: ["gpt-4"] }}
          - {{ address: "{b.address}", ai_models: ["llama-3"] }}
          - {{ address: "{c.address}", ai_models: ["gpt-4", "llama-3"] }}
    """


def _origins_for(proxy, n, model):
    names = []
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        for i in range(n):
            r = client.post(f"{proxy.url}/v1/chat/{i}", headers={"x-ai-model": model}, content=b'{"messages":[]}')
            assert r.status_code == 200, r.text
            names.append(r.headers["x-origin"])
    return names


def test_model_header_picks_only_endpoints_serving_that_model(vortex, origin):
    a, b, c = origin("a"), origin("b"), origin("c")
    proxy = vortex(_routed_cluster(a, b, c, lb="round_robin"))
    gpt = _origins_for(proxy, 20, "gpt-4")
    llama = _origins_for(proxy, 20, "llama-3")
    assert sorted(set(gpt)) == ["a", "c"] and gpt.count("a") == 10, gpt
    assert sorted(set(llama)) == ["b", "c"] and llama.count("b") == 10, llama


def test_model_routing_works_with_peak_ewma(vortex, origin):
    a, b, c = origin("a"), origin("b"), origin("c")
    proxy = vortex(_routed_cluster(a, b, c))
    assert set(_origins_for(proxy, 30, "llama-3")) <= {"b", "c"}
    assert a.heads == 0


def test_unknown_or_missing_model_gets_503(vortex, origin):
    a, b, c = origin("a"), origin("b"), origin("c")
    proxy = vortex(_routed_cluster(a, b, c))
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        for headers in ({"x-ai-model": "claude-9"}, {}, {"x-ai-model": ""}):
            r = client.get(f"{proxy.url}/v1/models", headers=headers)
            assert r.status_code == 503, (headers, r.text)
            assert r.json() == SPEC_503
    assert a.heads == b.heads == c.heads == 0


def test_route_matches_on_model_header(vortex, origin):
    big, small = origin("big"), origin("small")
    proxy = vortex(
        f"""
        routes:
          - {{ name: gpt, match: {{ path_prefix: "/", ai_model: "gpt-4" }}, cluster: big }}
          - {{ name: rest, match: {{ path_prefix: "/" }}, cluster: small }}
        clusters:
          - {{ name: big, endpoints: [{{ address: "{big.address}" }}] }}
          - {{ name: small, endpoints: [{{ address: "{small.address}" }}] }}
        """
    )
    assert set(_origins_for(proxy, 5, "gpt-4")) == {"big"}
    assert set(_origins_for(proxy, 5, "gpt-3.5")) == {"small"}


def test_model_in_json_body_routes_and_the_body_arrives_unchanged(vortex, echo_origin, origin):
    """No x-ai-model: the "model" of the JSON body decides (read up to 64 KiB, then forwarded
    byte for byte), for a Content-Length body, a chunked one, and one whose model comes after
    more than a read buffer of other members."""
    a, b = origin("a"), origin("b")
    proxy = vortex(f"""
    routes:
      - {{ name: r, match: {{ path_prefix: "/" }}, cluster: models }}
    clusters:
      - name: models
        lb: round_robin
        model_routing: true
        endpoints:
          - {{ address: "{a.address}", ai_models: ["gpt-4"] }}
          - {{ address: "{b.address}", ai_models: ["llama-3"] }}
    """)
    padding = "x" * 40000
    bodies = {
        "a": b'{"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}',
        "b": ('{"messages": [{"content": "' + padding + '"}], "model": "llama-3"}').encode(),
    }
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        for expected, body in bodies.items():
            r = client.post(f"{proxy.url}/v1/chat", content=body,
                            headers={"content-type": "application/json"})
            assert r.status_code == 200, r.text
            assert r.headers["x-origin"] == expected
            # chunked: a generator body has no length
            r = client.post(f"{proxy.url}/v1/chat", content=iter([body[:10], body[10:]]),
                            headers={"content-type": "application/json"})
            assert r.status_code == 200, r.text
            assert r.headers["x-origin"] == expected
        # a body naming no model, or not JSON at all, gets the SPEC 503
        for body in (b'{"messages": []}', b"model=gpt-4"):
            r = client.post(f"{proxy.url}/v1/chat", content=body)
            assert r.status_code == 503, r.text
    import hashlib
    seen = {h["body_sha256"] for h in a.requests + b.requests}
    for body in bodies.values():
        assert hashlib.sha256(body).hexdigest() in seen

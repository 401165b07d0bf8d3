"""The Kubernetes VortexRoute watcher (SPEC.md §2 `kubernetes`, §7; docs/kubernetes.md) against a
stand-in API server that speaks the real wire format (kube_apiserver.py): list + watch over
HTTPS with a bearer token or a client certificate, 410 Gone, dropped streams, status PATCHes.
Real vortex, real origins, real clients (httpx, vortexctl, wrk)."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from kube_apiserver import KubeApiServer, kubeconfig
from test_admin import ctl
from test_metrics import promtool_check
from tls_certs import make_cert
from vortex_harness import free_port

APPLY_WITHIN_S = 1.0


@pytest.fixture
def apiserver(tmp_path):
    servers: list[KubeApiServer] = []

    def make(**kwargs) -> KubeApiServer:
        folder = tmp_path / f"kubeapi{len(servers)}"
        folder.mkdir()
        server = KubeApiServer(folder, **kwargs)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


def k8s_config(kube: str, clusters: str = "  - { name: api }\n", routes: str | None = None) -> str:
    routes = routes if routes is not None else (
        '  - { name: hello, match: { path_exact: "/hello" }, direct_response: { status: 200, body: "hi" } }\n'
        '  - { name: api, match: { path_prefix: "/" }, cluster: api }\n')
    return f"""
kubernetes: {{ enabled: true, namespace: default, {kube} }}
routes:
{routes}clusters:
{clusters}"""


def with_kubeconfig(tmp_path: Path, api: KubeApiServer, **kwargs) -> str:
    path = kubeconfig(tmp_path / f"kubeconfig-{api.port}", api.url, api.ca, **kwargs)
    return f'kubeconfig: "{path}"'


def backend(i: int, origin, **extra) -> dict:
    return {"id": i, "address": origin.address, **extra}


def origin_of(client: httpx.Client, url: str) -> str | int:
    """The origin that answered (its name), or the status when Vortex answered itself."""
    r = client.get(url)
    return r.json()["origin"] if r.status_code == 200 and "origin" in r.text else r.status_code


def wait_for(predicate, within: float, what: str, poll: float = 0.02):
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within}s: {what}")
        time.sleep(poll)


def serves_only(client, proxy, expected, within: float = APPLY_WITHIN_S, what: str = ""):
    """Waits until requests reach only `expected` (a set of origin names, or a status)."""

    def check():
        seen = {origin_of(client, proxy.url + "/x") for _ in range(6)}
        return seen == (expected if isinstance(expected, set) else {expected})

    started = time.monotonic()
    wait_for(check, within, what or f"traffic goes to {expected}")
    return time.monotonic() - started


def scrape(proxy) -> str:
    return httpx.get(f"http://127.0.0.1:{proxy.metrics_port}/metrics", trust_env=False, timeout=10).text


def metric(text: str, name: str, **labels) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if labels else "") + r" (\S+)$"
    for line in text.splitlines():
        m = re.match(pattern, line)
        if m:
            return float(m.group(1))
    raise AssertionError(f"no sample {name}{{{want}}} in\n{text}")


def accepted_condition(api: KubeApiServer, name: str) -> dict | None:
    conditions = api.status_of(name).get("conditions") or []
    return next((c for c in conditions if c["type"] == "Accepted"), None)


def wait_condition(api: KubeApiServer, name: str, status: str, reason: str, generation: int, within: float = 3.0) -> dict:
    def check():
        c = accepted_condition(api, name)
        ok = c and c["status"] == status and c["reason"] == reason and c["observedGeneration"] == generation
        return c if ok else None

    try:
        return wait_for(check, within, f"{name}: Accepted={status} {reason} generation {generation}", poll=0.05)
    except AssertionError as e:
        raise AssertionError(f"{e}; status now {api.status_of(name)}") from None


def test_adds_updates_and_deletes_reach_traffic_within_a_second(vortex, origin, apiserver, tmp_path, http):
    one, two = origin("one"), origin("two")
    api = apiserver()
    # round_robin: which endpoints serve shows within a few requests (peak_ewma favours the one
    # it has measured).
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token),
                              clusters="  - { name: api, lb: round_robin }\n"))
    # No resource yet: the declared cluster has no endpoints (SPEC.md §7), the file's routes work.
    assert http.get(proxy.url + "/hello").text == "hi"
    assert http.get(proxy.url + "/x").status_code == 503
    wait_for(lambda: api.count("GET", watch=True) >= 1, 5, "a watch")

    api.put("api", [backend(0, one)])
    serves_only(http, proxy, "one", what="ADDED applied")
    wait_condition(api, "api", "True", "Accepted", 1)

    api.put("api", [backend(0, two), backend(1, one, weight=3)])
    serves_only(http, proxy, {"one", "two"}, what="MODIFIED applied")
    api.put("api", [backend(5, two)])
    serves_only(http, proxy, "two", what="second MODIFIED applied")
    wait_condition(api, "api", "True", "Accepted", 3)

    out = ctl(proxy, "backends")
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    assert [(r[0], r[1], r[-1]) for r in rows] == [("api", two.address, "kubernetes/default/api")]

    api.delete("api")
    serves_only(http, proxy, 503, what="DELETED applied")
    # Every request went through the stand-in's token; statuses went to the status subresource.
    assert api.count("GET", auth=f"Bearer {api.token}") == api.count("GET")
    assert all(p[1]["status"]["conditions"][0]["type"] == "Accepted" for p in api.patches)
    text = scrape(proxy)
    promtool_check(text)
    assert metric(text, "vortex_kubernetes_watch_events_total", type="ADDED") >= 1
    assert metric(text, "vortex_kubernetes_watch_events_total", type="DELETED") == 1
    assert metric(text, "vortex_kubernetes_watch_connected") == 1
    assert metric(text, "vortex_kubernetes_synced") == 1


def test_status_is_written_only_when_the_condition_changes(vortex, origin, apiserver, tmp_path, http):
    one = origin("one")
    api = apiserver()
    api.put("api", [backend(0, one)])
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token)))
    serves_only(http, proxy, "one", within=5)
    wait_condition(api, "api", "True", "Accepted", 1)
    # Events that change nothing Vortex reads (its own status writes, bookmarks) write nothing.
    api.bookmark()
    time.sleep(0.5)
    assert len(api.patches) == 1, api.patches
    assert api.patches[0][1]["status"]["observedGeneration"] == 1
    # A restarted Vortex finds the same condition in the status and writes nothing either.
    proxy.stop()
    watches = api.count("GET", watch=True)
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token)))
    serves_only(http, proxy, "one", within=5)
    wait_for(lambda: api.count("GET", watch=True) > watches, 5, "the second Vortex watching")
    time.sleep(0.5)
    assert len(api.patches) == 1, api.patches
    # A change of generation is written.
    api.put("api", [backend(1, one)])
    wait_condition(api, "api", "True", "Accepted", 2)
    assert len(api.patches) == 2


def test_a_410_gone_makes_it_list_again(vortex, origin, apiserver, tmp_path, http):
    one, two = origin("one"), origin("two")
    api = apiserver()
    api.put("api", [backend(0, one)])
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token)))
    serves_only(http, proxy, "one", within=5)
    lists = api.count("GET", watch=False)
    api.expire()  # the open watch gets an ERROR event with a 410 Status
    wait_for(lambda: api.count("GET", watch=False) > lists, 2, "a list after the 410")
    api.put("api", [backend(0, two)])
    serves_only(http, proxy, "two", what="a change after the relist")
    text = scrape(proxy)
    assert metric(text, "vortex_kubernetes_relists_total") >= 1
    assert metric(text, "vortex_kubernetes_watch_events_total", type="ERROR") >= 1


def test_a_dropped_watch_stream_resumes(vortex, origin, apiserver, tmp_path, http):
    one, two = origin("one"), origin("two")
    api = apiserver()
    api.put("api", [backend(0, one)])
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token)))
    serves_only(http, proxy, "one", within=5)
    watches = api.count("GET", watch=True)
    api.drop_watches()
    wait_for(lambda: api.count("GET", watch=True) > watches, 3, "a new watch after the drop")
    # Still serving what it had while the stream was down.
    assert origin_of(http, proxy.url + "/x") == "one"
    api.put("api", [backend(0, two)])
    serves_only(http, proxy, "two", what="a change after the drop")
    assert metric(scrape(proxy), "vortex_kubernetes_watch_failures_total") >= 1


def test_bad_resources_are_refused_with_a_condition_and_a_metric_while_others_apply(vortex, origin, apiserver, tmp_path, http):
    one = origin("one")
    api = apiserver()
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token),
                              clusters="  - { name: api }\n  - { name: web }\n  - { name: bad }\n  - { name: typo }\n"))
    api.put("web", [{"id": 1, "address": one.address}, {"id": 1, "address": "127.0.0.1:9"}])
    api.put("bad", [{"id": 0, "address": "not-an-address"}])
    api.put("typo", spec={"backends": [{"id": "zero", "address": one.address}]})
    api.put("nope", [backend(0, one)])
    api.put("api", [backend(0, one)])
    serves_only(http, proxy, "one", within=5, what="the good resource applies")
    wait_condition(api, "web", "False", "DuplicateBackendId", 1)
    bad = wait_condition(api, "bad", "False", "InvalidBackend", 1)
    assert "not-an-address" in bad["message"]
    wait_condition(api, "typo", "False", "InvalidSpec", 1)
    wait_condition(api, "nope", "False", "NoSuchCluster", 1)
    wait_condition(api, "api", "True", "Accepted", 1)
    text = scrape(proxy)
    assert metric(text, "vortex_kubernetes_resources_rejected_total", reason="DuplicateBackendId") == 1
    assert metric(text, "vortex_kubernetes_resources_rejected_total", reason="InvalidBackend") == 1
    assert metric(text, "vortex_kubernetes_resources_rejected_total", reason="NoSuchCluster") == 1
    assert "VortexRoute default/web (generation 1) refused: DuplicateBackendId" in proxy.stderr()
    # The refused ones changed nothing: their clusters have no endpoints.
    out = ctl(proxy, "backends")
    assert [line.split()[0] for line in out.stdout.splitlines()[1:]] == ["api"]
    # Fixing one makes it apply and its condition turn True.
    api.put("web", [{"id": 1, "address": one.address}])
    wait_condition(api, "web", "True", "Accepted", 2)
    # Breaking an accepted one changes nothing (SPEC.md §7): its cluster keeps what it had.
    api.put("api", [{"id": 0, "address": one.address}, {"id": 0, "address": "127.0.0.1:9"}])
    c = wait_condition(api, "api", "False", "DuplicateBackendId", 2)
    assert "keeps the endpoints of generation 1" in c["message"]
    assert {origin_of(http, proxy.url + "/x") for _ in range(4)} == {"one"}
    rows = [line.split() for line in ctl(proxy, "backends").stdout.splitlines()[1:]]
    assert ("api", one.address, "kubernetes/default/api") in [(r[0], r[1], r[-1]) for r in rows]


def test_an_address_that_does_not_resolve_is_refused_and_the_others_apply(vortex, origin, apiserver, tmp_path, http):
    one, two = origin("one"), origin("two")
    api = apiserver()
    api.put("api", [backend(0, one)])
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token),
                              clusters="  - { name: api }\n  - { name: web }\n"))
    serves_only(http, proxy, "one", within=5)
    api.put("web", [{"id": 0, "address": "no-such-host.invalid:80"}])
    # The resolver's own timeout bounds how long the refusal takes.
    c = wait_condition(api, "web", "False", "ApplyRefused", 1, within=15)
    assert "no-such-host.invalid" in c["message"]
    api.put("api", [backend(0, two)])
    serves_only(http, proxy, "two", what="the next change still applies")


def test_kubeconfig_with_a_client_certificate(vortex, origin, apiserver, tmp_path, http):
    one = origin("one")
    cert, key = make_cert(tmp_path, "client", "vortex")
    api = apiserver(client_ca=cert, token="unused-token")
    api.put("api", [backend(0, one)])
    for embed in (False, True):
        proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, client_cert=cert, client_key=key, embed=embed)))
        serves_only(http, proxy, "one", within=5, what=f"client certificate (embedded: {embed})")
        proxy.stop()
    assert api.count("GET", auth="") >= 4


def test_a_wrong_token_is_refused_and_retried(vortex, origin, apiserver, tmp_path, http):
    one = origin("one")
    api = apiserver()
    api.put("api", [backend(0, one)])
    token = tmp_path / "token"
    token.write_text("wrong\n")
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token_file=token)))
    wait_for(lambda: api.count("GET", auth="Bearer wrong") >= 2, 5, "retries with the wrong token")
    assert http.get(proxy.url + "/x").status_code == 503
    assert "HTTP 401" in proxy.stderr()
    token.write_text(api.token + "\n")  # the file is read again at the next attempt
    serves_only(http, proxy, "one", within=15, what="the corrected token")


def test_in_cluster_service_account_and_token_rotation(vortex, origin, apiserver, tmp_path, http):
    one, two = origin("one"), origin("two")
    api = apiserver(token="first-token")
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text("first-token")
    (sa / "ca.crt").write_bytes(Path(api.ca).read_bytes())
    api.put("api", [backend(0, one)])
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(api.port),
           "VORTEX_K8S_SA_DIR": str(sa)}
    proxy = vortex(k8s_config('kubeconfig: ""'), env=env)
    serves_only(http, proxy, "one", within=5, what="in-cluster credentials")
    # The kubelet rotates the token; the old one stops working; the stream breaks.
    (sa / "token").write_text("second-token")
    api.token = "second-token"
    api.drop_watches()
    wait_for(lambda: api.count("GET", auth="Bearer second-token") >= 2, 5, "requests with the rotated token")
    api.put("api", [backend(0, two)])
    serves_only(http, proxy, "two", within=3, what="a change seen with the rotated token")
    wait_condition(api, "api", "True", "Accepted", 2)


def test_api_server_down_at_start_still_serves_and_catches_up(vortex, origin, tmp_path, http):
    one = origin("one")
    port = free_port()
    folder = tmp_path / "later"
    folder.mkdir()
    # Only the certificate now: nothing listens on the port yet.
    cert, _ = make_cert(folder, "kubeapi", "127.0.0.1", ["127.0.0.1", "localhost"])
    path = kubeconfig(tmp_path / "kubeconfig", f"https://127.0.0.1:{port}", cert, token="test-token")
    proxy = vortex(k8s_config(f'kubeconfig: "{path}"'))
    assert http.get(proxy.url + "/hello").text == "hi"
    assert http.get(proxy.url + "/x").status_code == 503
    assert http.get(proxy.url + "/x").json()["error"] == "Service Unavailable"
    wait_for(lambda: "list https://127.0.0.1" in proxy.stderr(), 5, "a failed list logged")
    assert metric(scrape(proxy), "vortex_kubernetes_synced") == 0
    # A new certificate pair in the same files: the CA file is read again at every connection.
    api = KubeApiServer(folder, port=port)
    try:
        assert api.ca == cert
        api.put("api", [backend(0, one)])
        # The backoff is capped at 10 s.
        serves_only(http, proxy, "one", within=15, what="catching up once the API server is there")
        assert metric(scrape(proxy), "vortex_kubernetes_synced") == 1
    finally:
        api.stop()


def test_a_file_reload_keeps_the_kubernetes_endpoints(vortex, origin, apiserver, tmp_path, http):
    one = origin("one")
    api = apiserver()
    api.put("api", [backend(0, one)])
    kube = with_kubeconfig(tmp_path, api, token=api.token)
    proxy = vortex(k8s_config(kube))
    serves_only(http, proxy, "one", within=5)
    # A reload that changes something else keeps the endpoints Kubernetes supplied.
    proxy.config_path.write_text(proxy.config_text.replace('body: "hi"', 'body: "hello again"'))
    out = ctl(proxy, "reload")
    assert out.returncode == 0, out.stdout + out.stderr
    assert http.get(proxy.url + "/hello").text == "hello again"
    assert origin_of(http, proxy.url + "/x") == "one"
    # A reload that drops the cluster turns the resource's condition to NoSuchCluster.
    routes = '  - { name: hello, match: { path_exact: "/hello" }, direct_response: { status: 200, body: "hi" } }\n'
    full = proxy.config_text.split("kubernetes:")[0] + k8s_config(kube, clusters="  - { name: other, endpoints: [{ address: \"127.0.0.1:9\" }] }\n", routes=routes).lstrip("\n")
    proxy.config_path.write_text(full)
    out = ctl(proxy, "reload")
    assert out.returncode == 0, out.stdout + out.stderr
    wait_condition(api, "api", "False", "NoSuchCluster", 1)
    assert http.get(proxy.url + "/x").status_code == 404


def test_endpoint_state_survives_an_unrelated_resource_change(vortex, origin, apiserver, tmp_path, http):
    one = origin("one")
    api = apiserver()
    clusters = ("  - name: api\n    circuit_breaker: { consecutive_failures: 2, open_ms: 60000 }\n"
                "  - { name: web }\n")
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token), clusters=clusters))
    api.put("api", [{"id": 0, "address": "127.0.0.1:1"}])
    wait_for(lambda: http.get(proxy.url + "/x").status_code == 502, 2, "the dead endpoint applied")
    http.get(proxy.url + "/x")
    wait_for(lambda: "open" in ctl(proxy, "backends").stdout, 2, "the breaker opens")
    api.put("web", [backend(0, one)])
    wait_for(lambda: "web" in ctl(proxy, "backends").stdout, APPLY_WITHIN_S, "the unrelated resource applied")
    rows = {line.split()[0]: line.split() for line in ctl(proxy, "backends").stdout.splitlines()[1:]}
    assert rows["api"][4] == "open", rows
    assert http.get(proxy.url + "/x").status_code == 503  # still open: no new connect attempt


def test_wrk_sees_no_errors_while_endpoints_change(vortex, origin, apiserver, tmp_path):
    one, two, three = origin("one"), origin("two"), origin("three")
    api = apiserver()
    api.put("api", [backend(0, one), backend(1, two)])
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token),
                              clusters="  - { name: api, lb: round_robin }\n"), workers=2)
    with httpx.Client(trust_env=False) as client:
        serves_only(client, proxy, {"one", "two"}, within=5)
    wrk = subprocess.Popen(["wrk", "-t2", "-c16", "-d3s", "--timeout", "5s", proxy.url + "/x"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sets = [[backend(0, one), backend(1, two)], [backend(1, two)], [backend(1, two), backend(2, three)],
            [backend(2, three)], [backend(0, one), backend(2, three, weight=2)]]
    changes = 0
    try:
        deadline = time.monotonic() + 2.6
        while time.monotonic() < deadline:
            api.put("api", sets[changes % len(sets)])
            changes += 1
            time.sleep(0.1)
    finally:
        out, _ = wrk.communicate(timeout=30)
    assert wrk.returncode == 0, out
    assert int(re.search(r"(\d+) requests in", out).group(1)) > 500, out
    assert "Non-2xx" not in out, out
    assert "Socket errors" not in out, out
    assert changes >= 15
    assert metric(scrape(proxy), "vortex_kubernetes_watch_events_total", type="MODIFIED") >= changes


def test_check_refuses_a_route_to_an_undeclared_cluster_with_kubernetes_enabled(tmp_path):
    from vortex_harness import run_cli

    path = tmp_path / "vortex.yaml"
    path.write_text(
        'listeners: [{ name: main, address: "127.0.0.1:1" }]\n'
        "kubernetes: { enabled: true }\n"
        "routes: [{ name: r, match: { path_prefix: / }, cluster: default/api }]\n"
        "clusters: [{ name: api }]\n")
    out = run_cli("check", "--config", str(path))
    assert out.returncode == 1
    assert "unknown cluster 'default/api'" in out.stdout + out.stderr


def test_a_list_over_several_pages_is_applied_whole(vortex, origin, apiserver, tmp_path, http):
    one = origin("one")
    api = apiserver()
    # The watcher lists 500 per page: the resource of the declared cluster sorts last, on page 2.
    for i in range(500):
        api.put(f"a{i:03}", [])
    api.put("zzz", [backend(0, one)])
    proxy = vortex(k8s_config(with_kubeconfig(tmp_path, api, token=api.token), clusters="  - { name: zzz }\n",
                              routes='  - { name: r, match: { path_prefix: "/" }, cluster: zzz }\n'))
    serves_only(http, proxy, "one", within=5, what="the resource on the second page")
    lists = [r for r in api.requests if r["method"] == "GET" and not r["watch"]]
    assert [r["query"].get("continue", "") for r in lists[:2]] == ["", "500"]
    assert all(r["query"]["limit"] == "500" for r in lists)
    # The watch starts once the list is applied: traffic may switch a moment before it (more
    # than a moment under ASan, with 500 status writes queued).
    deadline = time.monotonic() + 15
    while not any(r["watch"] for r in api.requests) and time.monotonic() < deadline:
        time.sleep(0.05)
    watch = next(r for r in api.requests if r["watch"])
    assert watch["query"]["allowWatchBookmarks"] == "true"
    assert watch["query"]["resourceVersion"] == "601"

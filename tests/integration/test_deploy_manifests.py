"""deploy/: every kustomization renders with `kubectl kustomize`, and what it renders holds
together: the RBAC is exactly what the watcher needs, the probes, ports and paths match the
config the pods mount, a drain fits in the grace period, the pods run unprivileged, the canary
overlay hands the pods to the Rollout, and the config passes the real `vortex check`.

kubectl renders offline (no API server); without kubectl the tests skip and say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vortex_harness import REPO_ROOT, run_cli

DEPLOY = REPO_ROOT / "deploy"
KUBECTL = shutil.which("kubectl")
OVERLAYS = ["deploy", "deploy/base", "deploy/overlays/canary"]

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: cannot render deploy/")

_rendered: dict[str, list[dict]] = {}


def render(overlay: str) -> list[dict]:
    if overlay not in _rendered:
        out = subprocess.run([KUBECTL, "kustomize", str(REPO_ROOT / overlay)], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, f"kubectl kustomize {overlay} failed:\n{out.stderr}"
        _rendered[overlay] = [d for d in yaml.safe_load_all(out.stdout) if d]
    return _rendered[overlay]


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def by_name_prefix(docs: list[dict], kind: str, prefix: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].startswith(prefix)]
    assert len(found) == 1, f"expected one {kind} {prefix}*, found {len(found)}"
    return found[0]


def pod_template(docs: list[dict]) -> dict:
    return one(docs, "Deployment", "vortex")["spec"]["template"]


def vortex_container(docs: list[dict]) -> dict:
    (c,) = [c for c in pod_template(docs)["spec"]["containers"] if c["name"] == "vortex"]
    return c


def mounted_config(docs: list[dict]) -> tuple[dict, str, str]:
    """(parsed config, its text, the path the container reads it from)."""
    c = vortex_container(docs)
    args = c["args"]
    path = args[args.index("--config") + 1]
    (mount,) = [m for m in c["volumeMounts"] if path.startswith(m["mountPath"] + "/")]
    (volume,) = [v for v in pod_template(docs)["spec"]["volumes"] if v["name"] == mount["name"]]
    cm = one(docs, "ConfigMap", volume["configMap"]["name"])
    key = path[len(mount["mountPath"]) + 1:]
    text = cm["data"][key]
    return yaml.safe_load(text), text, path


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def named_port(container: dict, name: str) -> int:
    (p,) = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    return p


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_kustomization_renders_the_kinds_vortex_needs(overlay):
    docs = render(overlay)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for wanted in [("Namespace", "vortex"), ("CustomResourceDefinition", "vortexroutes.vortex.dev"),
                   ("ServiceAccount", "vortex"), ("Role", "vortex"), ("RoleBinding", "vortex"),
                   ("Deployment", "vortex"), ("Service", "vortex"),
                   ("HorizontalPodAutoscaler", "vortex"), ("PodDisruptionBudget", "vortex"),
                   ("Deployment", "redis"), ("Service", "redis")]:
        assert wanted in kinds, f"{overlay} renders no {wanted}"
    assert any(k == "ConfigMap" and n.startswith("vortex-config") for k, n in kinds)
    for d in docs:
        if d["kind"] not in ("Namespace", "CustomResourceDefinition"):
            assert d["metadata"].get("namespace") == "vortex", f"{d['kind']} {d['metadata']['name']}"
    if overlay != "deploy/base":
        assert ("VortexRoute", "demo") in kinds


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rbac_is_exactly_read_and_watch_vortexroutes_and_patch_their_status(overlay):
    docs = render(overlay)
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    grants = set()
    for rule in one(docs, "Role", "vortex")["rules"]:
        assert not rule.get("resourceNames") and not rule.get("nonResourceURLs")
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    grants.add((group, resource, verb))
    assert grants == {("vortex.dev", "vortexroutes", "get"), ("vortex.dev", "vortexroutes", "list"),
                      ("vortex.dev", "vortexroutes", "watch"),
                      ("vortex.dev", "vortexroutes/status", "patch")}
    binding = one(docs, "RoleBinding", "vortex")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "vortex"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "vortex", "namespace": "vortex"}]
    assert pod_template(docs)["spec"]["serviceAccountName"] == "vortex"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_ports_and_socket_match_the_mounted_config(overlay):
    docs = render(overlay)
    config, _, _ = mounted_config(docs)
    c = vortex_container(docs)
    # /healthz and /readyz are served on metrics.address (SPEC.md §2), which must be reachable
    # from the kubelet: not loopback.
    metrics = config["metrics"]["address"]
    assert not metrics.startswith("127.") and not metrics.startswith("[::1]")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = c[probe]["httpGet"]
        assert get["path"] == path
        port = get["port"] if isinstance(get["port"], int) else named_port(c, get["port"])
        assert port == port_of(metrics), f"{probe} on {port}, metrics on {metrics}"
    # The Service sends traffic to the proxy's listener.
    (listener,) = config["listeners"]
    (svc_port,) = one(docs, "Service", "vortex")["spec"]["ports"]
    target = svc_port["targetPort"]
    assert (target if isinstance(target, int) else named_port(c, target)) == port_of(listener["address"])
    # The root filesystem is read-only: the admin socket's folder is a mounted emptyDir.
    socket_dir = str(Path(config["admin"]["socket"]).parent)
    (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == socket_dir]
    (volume,) = [v for v in pod_template(docs)["spec"]["volumes"] if v["name"] == mount["name"]]
    assert "emptyDir" in volume and not mount.get("readOnly")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_drain_fits_in_the_grace_period_after_the_prestop_sleep(overlay):
    docs = render(overlay)
    config, _, _ = mounted_config(docs)
    command = vortex_container(docs)["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop_s = float(command[1])
    assert pre_stop_s > 0
    drain_s = config["drain_timeout_ms"] / 1000
    grace_s = pod_template(docs)["spec"]["terminationGracePeriodSeconds"]
    assert grace_s > pre_stop_s + drain_s, f"grace {grace_s} s <= preStop {pre_stop_s} s + drain {drain_s} s"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_unprivileged_with_limits(overlay):
    docs = render(overlay)
    for name in ("vortex", "redis"):
        spec = one(docs, "Deployment", name)["spec"]["template"]["spec"]
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add")
            assert not sc.get("privileged")
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{name}: {kind}"
    # The image's user (Dockerfile: USER 10001) is the one the pod asks for.
    assert pod_template(docs)["spec"]["securityContext"]["runAsUser"] == 10001
    assert "USER 10001:10001" in (REPO_ROOT / "Dockerfile").read_text()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_watches_this_namespace_and_shares_limits_through_the_redis_service(overlay):
    docs = render(overlay)
    config, _, _ = mounted_config(docs)
    assert config["kubernetes"]["enabled"] is True
    assert config["kubernetes"]["namespace"] == one(docs, "Deployment", "vortex")["metadata"]["namespace"]
    assert config["rate_limits"]["store"] == "redis"
    m = re.fullmatch(r"redis://([^:/]+):(\d+)(/\d+)?", config["rate_limits"]["redis"]["url"])
    assert m, config["rate_limits"]["redis"]["url"]
    redis_svc = one(docs, "Service", m.group(1))
    assert int(m.group(2)) in [p["port"] for p in redis_svc["spec"]["ports"]]
    assert all(r.get("rate_limit") for r in config["routes"] if "cluster" in r)
    # Every VortexRoute fills a cluster the config declares without endpoints (SPEC.md §7).
    empty = {c["name"] for c in config["clusters"] if not c.get("endpoints")}
    for route in [d for d in docs if d["kind"] == "VortexRoute"]:
        assert route["metadata"]["name"] in empty


def test_the_mounted_config_passes_vortex_check(tmp_path):
    _, text, _ = mounted_config(render("deploy"))
    path = tmp_path / "vortex.yaml"
    path.write_text(text)
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{path}: ok"


def test_a_broken_config_in_the_configmap_would_be_caught(tmp_path):
    # The check above can fail: the same text with a route to an undeclared cluster does.
    _, text, _ = mounted_config(render("deploy"))
    path = tmp_path / "vortex.yaml"
    path.write_text(text.replace("cluster: demo", "cluster: nowhere", 1))
    result = run_cli("check", "--config", str(path))
    assert result.returncode == 1
    assert "nowhere" in result.stdout + result.stderr


def test_crd_has_the_shape_the_watcher_reads_and_writes():
    crd = one(render("deploy/base"), "CustomResourceDefinition", "vortexroutes.vortex.dev")
    spec = crd["spec"]
    assert spec["group"] == "vortex.dev" and spec["scope"] == "Namespaced"
    assert spec["names"]["kind"] == "VortexRoute" and spec["names"]["plural"] == "vortexroutes"
    (version,) = spec["versions"]
    assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}
    columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
    assert columns["Accepted"] == '.status.conditions[?(@.type=="Accepted")].status'
    schema = version["schema"]["openAPIV3Schema"]["properties"]
    backend = schema["spec"]["properties"]["backends"]["items"]
    assert set(backend["required"]) == {"id", "address"}
    props = backend["properties"]
    assert props["id"]["type"] == "integer" and props["id"]["minimum"] == 0
    assert props["address"]["type"] == "string" and props["address"]["pattern"]
    assert props["ai_models"]["items"]["type"] == "string"
    assert props["weight"] == {"type": "integer", "format": "int32", "minimum": 1, "default": 1}
    status = schema["status"]["properties"]
    assert status["observedGeneration"]["type"] == "integer"
    condition = status["conditions"]["items"]
    assert set(condition["properties"]) == {"type", "status", "reason", "message",
                                            "lastTransitionTime", "observedGeneration"}


def test_crd_address_pattern_takes_host_port_and_refuses_the_rest():
    crd = one(render("deploy/base"), "CustomResourceDefinition", "vortexroutes.vortex.dev")
    items = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "properties"]["backends"]["items"]
    pattern = re.compile(items["properties"]["address"]["pattern"])
    for good in ("echo-0.echo:8080", "10.0.0.7:80", "[fd00::1]:9000", "api.example.com:443"):
        assert pattern.search(good), good
    for bad in ("echo", "echo:", ":80", "http://echo:80", "echo:80/x", "a b:80", "-x:80"):
        assert not pattern.search(bad), bad
    for route in [d for d in render("deploy") if d["kind"] == "VortexRoute"]:
        for b in route["spec"]["backends"]:
            assert pattern.search(b["address"]) and b["id"] >= 0


def test_base_hpa_and_pdb_govern_the_deployment_pods():
    docs = render("deploy")
    hpa = one(docs, "HorizontalPodAutoscaler", "vortex")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "vortex"}
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    labels = pod_template(docs)["metadata"]["labels"]
    pdb = one(docs, "PodDisruptionBudget", "vortex")["spec"]["selector"]["matchLabels"]
    assert pdb.items() <= labels.items()
    assert one(docs, "Service", "vortex")["spec"]["selector"].items() <= labels.items()


def test_canary_overlay_hands_the_deployment_pods_to_an_analysed_rollout():
    docs = render("deploy/overlays/canary")
    deployment = one(docs, "Deployment", "vortex")
    assert deployment["spec"]["replicas"] == 0
    rollout = one(docs, "Rollout", "vortex")["spec"]
    assert rollout["workloadRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "vortex",
                                      "scaleDown": "never"}
    assert rollout["selector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    steps = rollout["strategy"]["canary"]["steps"]
    weights = [s["setWeight"] for s in steps if "setWeight" in s]
    assert weights == sorted(weights) and weights[-1] == 100 and len(weights) >= 2
    assert any("pause" in s for s in steps)
    (template_ref,) = rollout["strategy"]["canary"]["analysis"]["templates"]
    analysis = one(docs, "AnalysisTemplate", template_ref["templateName"])["spec"]
    (metric,) = analysis["metrics"]
    assert "vortex_http_requests_total" in metric["provider"]["prometheus"]["query"]
    declared = {a["name"] for a in analysis["args"]}
    passed = {a["name"] for a in rollout["strategy"]["canary"]["analysis"]["args"]}
    assert {a for a in declared if "value" not in next(x for x in analysis["args"] if x["name"] == a)} <= passed
    hpa = one(docs, "HorizontalPodAutoscaler", "vortex")["spec"]["scaleTargetRef"]
    assert hpa == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "vortex"}

"""Kubernetes watcher (docs/kubernetes.md): the time from a VortexRoute change at the API server
to the first request served by the new endpoint; 30 changes alternating between two origins,
against the stand-in API server of the integration tests (tests/integration/kube_apiserver.py).
Usage: VORTEX_BIN=build/vortex /usr/bin/python3 bench/macro/k8s_apply_latency.py"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "integration"))
import httpx  # noqa: E402
from kube_apiserver import KubeApiServer, kubeconfig
from origins import OriginServer
from vortex_harness import VortexFactory

tmp = Path(tempfile.mkdtemp())
api = KubeApiServer(tmp)
one, two = OriginServer("one"), OriginServer("two")
kc = kubeconfig(tmp / "kc", api.url, api.ca, token=api.token)
factory = VortexFactory(tmp)
proxy = factory(f"""
kubernetes: {{ enabled: true, namespace: default, kubeconfig: "{kc}" }}
routes: [{{ name: api, match: {{ path_prefix: "/" }}, cluster: api }}]
clusters: [{{ name: api }}]
""")
samples = []
with httpx.Client(trust_env=False) as c:
    for i in range(31):
        target = (one, two)[i % 2]
        t0 = time.monotonic()
        api.put("api", [{"id": i, "address": target.address}])
        while True:
            r = c.get(proxy.url + "/")
            if r.status_code == 200 and r.json()["origin"] == target.name:
                break
            time.sleep(0.001)
        if i:
            samples.append((time.monotonic() - t0) * 1000)
samples.sort()
print(f"n={len(samples)} median={statistics.median(samples):.1f} ms p90={samples[int(len(samples)*0.9)]:.1f} ms max={samples[-1]:.1f} ms")
factory.cleanup(); api.stop(); one.stop(); two.stop()

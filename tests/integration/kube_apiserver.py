"""A stand-in Kubernetes API server for the VortexRoute watcher's tests (no real one can run
here). It speaks the real wire format of the parts Vortex uses:

- HTTPS (a generated self-signed certificate, `ca` is its file), bearer-token auth (401 with a
  Status object otherwise) or a client certificate it trusts (`client_ca`);
- GET /apis/vortex.dev/v1alpha1/namespaces/NS/vortexroutes: a VortexRouteList with
  metadata.resourceVersion (pages with `limit` + `continue`);
- the same with ?watch=1&resourceVersion=RV&allowWatchBookmarks=true: a chunked stream of JSON
  lines {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}, replaying what came after
  RV, then live events; a RV older than the compacted history answers an ERROR event with a 410
  Status and ends the stream, as the real server does;
- PATCH .../vortexroutes/NAME/status with application/merge-patch+json: merged into the object's
  status (a new resourceVersion and a MODIFIED event, as the real status subresource does) and
  recorded in `patches`.

The test drives it: put()/delete() resources, expire() the history (open watches get the 410),
drop_watches() (connections cut mid-stream), bookmark(), set `token` to rotate credentials.
"""

from __future__ import annotations

import copy
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tls_certs import make_cert

PREFIX = "/apis/vortex.dev/v1alpha1/namespaces/"


class KubeApiServer:
    def __init__(self, folder: Path, namespace: str = "default", token: str = "test-token",
                 client_ca: Path | None = None, port: int = 0):
        self.namespace = namespace
        self.token = token
        self.cert, self.key = make_cert(folder, "kubeapi", "127.0.0.1", ["127.0.0.1", "localhost"])
        self.ca = self.cert
        self.cond = threading.Condition()
        self.objects: dict[str, dict] = {}
        self.rv = 100
        self.history: list[tuple[int, str, dict]] = []  # (resourceVersion, type, object)
        self.min_rv = 0  # watches from an older resourceVersion get 410
        self.epoch = 0  # bumped by drop_watches()/expire(): open streams react
        self.gone_epoch = 0
        self.patches: list[tuple[str, dict]] = []
        self.requests: list[dict] = []  # method, path, query, auth, client_cert
        self.watches_open = 0

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert), str(self.key))
        if client_ca:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(str(client_ca))
        api = self

        class Handler(_Handler):
            server_api = api

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    # --- what a test does -------------------------------------------------------------------
    def put(self, name: str, backends: list[dict] | None = None, spec: dict | None = None) -> dict:
        """Creates or replaces VortexRoute `name` (generation moves on when the spec changes)."""
        spec = spec if spec is not None else {"backends": backends or []}
        with self.cond:
            self.rv += 1
            old = self.objects.get(name)
            if old is None:
                obj = {"apiVersion": "vortex.dev/v1alpha1", "kind": "VortexRoute",
                       "metadata": {"name": name, "namespace": self.namespace, "generation": 1,
                                    "uid": f"uid-{name}-{self.rv}", "resourceVersion": str(self.rv)},
                       "spec": spec}
                kind = "ADDED"
            else:
                obj = copy.deepcopy(old)
                if obj["spec"] != spec:
                    obj["metadata"]["generation"] += 1
                obj["spec"] = spec
                obj["metadata"]["resourceVersion"] = str(self.rv)
                kind = "MODIFIED"
            self.objects[name] = obj
            self.history.append((self.rv, kind, copy.deepcopy(obj)))
            self.cond.notify_all()
            return obj

    def delete(self, name: str):
        with self.cond:
            obj = self.objects.pop(name)
            self.rv += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self.history.append((self.rv, "DELETED", obj))
            self.cond.notify_all()

    def expire(self):
        """Compacts the history: every resourceVersion up to now is too old (410 Gone), and the
        open watches get the 410 ERROR event."""
        with self.cond:
            self.min_rv = self.rv
            self.gone_epoch += 1
            self.cond.notify_all()

    def drop_watches(self):
        """Cuts every open watch connection mid-stream (no final chunk)."""
        with self.cond:
            self.epoch += 1
            self.cond.notify_all()

    def bookmark(self):
        with self.cond:
            self.history.append((self.rv, "BOOKMARK", {"kind": "VortexRoute", "apiVersion": "vortex.dev/v1alpha1",
                                                      "metadata": {"resourceVersion": str(self.rv)}}))
            self.cond.notify_all()

    def status_of(self, name: str) -> dict:
        with self.cond:
            return copy.deepcopy(self.objects.get(name, {}).get("status", {}))

    def count(self, method: str, watch: bool | None = None, auth: str | None = None) -> int:
        with self.cond:
            return sum(1 for r in self.requests if r["method"] == method
                       and (watch is None or r["watch"] == watch)
                       and (auth is None or r["auth"] == auth))

    def stop(self):
        self.drop_watches()
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_api: KubeApiServer

    def log_message(self, *args):
        pass

    def _send_json(self, status: int, obj: dict):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _status(self, code: int, reason: str, message: str):
        self._send_json(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": message, "reason": reason, "code": code})

    def _authorized(self, api: KubeApiServer, record: dict) -> bool:
        if record["client_cert"]:
            return True
        return record["auth"] == f"Bearer {api.token}"

    def _route(self, method: str):
        api = self.server_api
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            peer = self.connection.getpeercert()
        except (ValueError, AttributeError):
            peer = None
        record = {"method": method, "path": url.path, "query": query,
                  "auth": self.headers.get("Authorization", ""), "client_cert": bool(peer),
                  "watch": query.get("watch") in ("1", "true"),
                  "content_type": self.headers.get("Content-Type", "")}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with api.cond:
            api.requests.append(record)
        if not self._authorized(api, record):
            return self._status(401, "Unauthorized", "Unauthorized")
        collection = PREFIX + api.namespace + "/vortexroutes"
        if method == "GET" and url.path == collection:
            return self._watch(api, query) if record["watch"] else self._list(api, query)
        if method == "PATCH" and url.path.startswith(collection + "/") and url.path.endswith("/status"):
            return self._patch_status(api, url.path[len(collection) + 1:-len("/status")], record, body)
        return self._status(404, "NotFound", f"no route for {method} {url.path}")

    def do_GET(self):
        self._route("GET")

    def do_PATCH(self):
        self._route("PATCH")

    def _list(self, api: KubeApiServer, query: dict):
        with api.cond:
            names = sorted(api.objects)
            start = int(query.get("continue") or 0)
            limit = int(query.get("limit") or 0) or len(names) or 1
            page = names[start:start + limit]
            items = [copy.deepcopy(api.objects[n]) for n in page]
            more = start + limit < len(names)
            rv = str(api.rv)
        self._send_json(200, {"apiVersion": "vortex.dev/v1alpha1", "kind": "VortexRouteList",
                              "metadata": {"resourceVersion": rv, "continue": str(start + limit) if more else ""},
                              "items": items})

    def _chunk(self, obj: dict) -> bool:
        data = (json.dumps(obj) + "\n").encode()
        try:
            self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
            self.wfile.flush()
            return True
        except OSError:
            return False

    def _watch(self, api: KubeApiServer, query: dict):
        since = int(query.get("resourceVersion") or 0)
        timeout = float(query.get("timeoutSeconds") or 1800)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        deadline = time.monotonic() + timeout
        with api.cond:
            epoch, gone_epoch = api.epoch, api.gone_epoch
            api.watches_open += 1
            too_old = since < api.min_rv
        try:
            if too_old:
                self._chunk({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                          "status": "Failure", "reason": "Expired", "code": 410,
                                                          "message": f"too old resource version: {since}"}})
                return self._end()
            sent = since
            cursor = 0
            while True:
                with api.cond:
                    while True:
                        pending = [(rv, t, o) for (rv, t, o) in api.history[cursor:]]
                        if pending or api.epoch != epoch or api.gone_epoch != gone_epoch or time.monotonic() > deadline:
                            break
                        api.cond.wait(0.2)
                    cursor = len(api.history)
                    dropped = api.epoch != epoch
                    gone = api.gone_epoch != gone_epoch
                if dropped:
                    # Cut mid-stream: no last chunk, the connection just goes.
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                for rv, kind, obj in pending:
                    if kind == "BOOKMARK" or rv > sent:
                        if not self._chunk({"type": kind, "object": obj}):
                            return
                        sent = max(sent, rv)
                if gone:
                    self._chunk({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                              "status": "Failure", "reason": "Expired", "code": 410,
                                                              "message": "too old resource version"}})
                    return self._end()
                if time.monotonic() > deadline:
                    return self._end()
        finally:
            with api.cond:
                api.watches_open -= 1

    def _end(self):
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def _patch_status(self, api: KubeApiServer, name: str, record: dict, body: bytes):
        if record["content_type"] != "application/merge-patch+json":
            return self._status(415, "UnsupportedMediaType", f"bad content type {record['content_type']}")
        patch = json.loads(body)
        with api.cond:
            obj = api.objects.get(name)
            if obj is None:
                return self._status(404, "NotFound", f'vortexroutes "{name}" not found')
            api.patches.append((name, patch))
            obj.setdefault("status", {}).update(patch.get("status", {}))
            api.rv += 1
            obj["metadata"]["resourceVersion"] = str(api.rv)
            api.history.append((api.rv, "MODIFIED", copy.deepcopy(obj)))
            api.cond.notify_all()
            out = copy.deepcopy(obj)
        self._send_json(200, out)


def kubeconfig(path: Path, server: str, ca: Path, *, token: str | None = None, token_file: Path | None = None,
               client_cert: Path | None = None, client_key: Path | None = None, embed: bool = False) -> Path:
    """Writes a kubeconfig whose current context reaches `server` with the given credentials.
    `embed`: certificates as *-data (base64) instead of file paths."""
    import base64

    def b64(p: Path) -> str:
        return base64.b64encode(Path(p).read_bytes()).decode()

    cluster = {"server": server}
    if embed:
        cluster["certificate-authority-data"] = b64(ca)
    else:
        cluster["certificate-authority"] = str(ca)
    user: dict = {}
    if token:
        user["token"] = token
    if token_file:
        user["tokenFile"] = str(token_file)
    if client_cert:
        if embed:
            user["client-certificate-data"] = b64(client_cert)
            user["client-key-data"] = b64(client_key)
        else:
            user["client-certificate"] = str(client_cert)
            user["client-key"] = str(client_key)
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "test",
           "contexts": [{"name": "other", "context": {"cluster": "nowhere", "user": "nobody"}},
                        {"name": "test", "context": {"cluster": "stand-in", "user": "vortex"}}],
           "clusters": [{"name": "nowhere", "cluster": {"server": "https://192.0.2.1:1"}},
                        {"name": "stand-in", "cluster": cluster}],
           "users": [{"name": "nobody", "user": {"token": "wrong"}}, {"name": "vortex", "user": user}]}
    path.write_text(json.dumps(doc))  # JSON is YAML
    return path

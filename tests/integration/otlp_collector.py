"""A stand-in OTLP/HTTP trace collector for the tests: decodes the real protobuf with modules
protoc generates at import time from the repository's proto/opentelemetry/ files (the messages
written from the OTLP definitions).

OtlpCollector(mode="ok")       answers 200 to POST /v1/traces and keeps every span
OtlpCollector(statuses=[503])  answers those statuses first (with Retry-After if retry_after)
StalledCollector()             accepts connections and never answers
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_generated = tempfile.mkdtemp(prefix="vx-otlp-pb2-")
_protos = sorted(str(p.relative_to(REPO / "proto")) for p in (REPO / "proto" / "opentelemetry").rglob("*.proto"))
subprocess.run(["protoc", "-I", str(REPO / "proto"), f"--python_out={_generated}", *_protos], check=True)
sys.path.insert(0, _generated)
trace_service_pb2 = importlib.import_module("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
trace_pb2 = importlib.import_module("opentelemetry.proto.trace.v1.trace_pb2")

SERVER = trace_pb2.Span.SPAN_KIND_SERVER
CLIENT = trace_pb2.Span.SPAN_KIND_CLIENT
STATUS_ERROR = trace_pb2.Status.STATUS_CODE_ERROR


def attrs(kvs) -> dict:
    out = {}
    for kv in kvs:
        which = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, which) if which else None
    return out


class Span:
    """One exported span, ids as hex strings, attributes as a dict."""

    def __init__(self, pb, resource: dict):
        self.pb = pb
        self.trace_id = pb.trace_id.hex()
        self.span_id = pb.span_id.hex()
        self.parent_span_id = pb.parent_span_id.hex()
        self.name = pb.name
        self.kind = pb.kind
        self.attributes = attrs(pb.attributes)
        self.events = [e.name for e in pb.events]
        self.status_code = pb.status.code
        self.resource = resource

    def __repr__(self):
        kind = {SERVER: "SERVER", CLIENT: "CLIENT"}.get(self.kind, self.kind)
        return f"<{kind} {self.name} {self.trace_id}/{self.span_id} parent={self.parent_span_id} {self.attributes}>"


class OtlpCollector:
    def __init__(self, statuses: list[int] | None = None, retry_after: int | None = None):
        self.spans: list[Span] = []
        self.requests: list[dict] = []  # {"path", "content_type", "status", "at"}
        self.statuses = list(statuses or [])
        self.retry_after = retry_after
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with collector.lock:
                    status = collector.statuses.pop(0) if collector.statuses else 200
                    collector.requests.append(
                        {"path": self.path, "content_type": self.headers.get("content-type"), "status": status, "at": time.monotonic()}
                    )
                    if status == 200:
                        request = trace_service_pb2.ExportTraceServiceRequest()
                        request.ParseFromString(body)
                        for rs in request.resource_spans:
                            resource = attrs(rs.resource.attributes)
                            for ss in rs.scope_spans:
                                collector.spans.extend(Span(s, resource) for s in ss.spans)
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString() if status == 200 else b""
                self.send_response(status)
                if status != 200 and collector.retry_after is not None:
                    self.send_header("Retry-After", str(collector.retry_after))
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self) -> list[Span]:
        with self.lock:
            return list(self.spans)

    def wait_for(self, predicate, timeout: float = 10.0) -> list[Span]:
        """Waits until predicate(spans) holds; returns the spans (asserts on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.snapshot()
            if predicate(spans):
                return spans
            if time.monotonic() > deadline:
                raise AssertionError(f"collector: condition not met in {timeout}s; have {len(spans)} spans: {spans[:6]}")
            time.sleep(0.05)

    def trace(self, trace_id: str) -> list[Span]:
        return [s for s in self.snapshot() if s.trace_id == trace_id]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class StalledCollector:
    """Accepts TCP connections and reads, but never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.endpoint = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def stop(self):
        self.stopped = True
        for c in self.conns:
            c.close()
        self.sock.close()


def closed_port_endpoint() -> str:
    """An http:// endpoint nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"

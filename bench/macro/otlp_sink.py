#!/usr/bin/python3
"""A minimal OTLP/HTTP collector for benchmarks: answers 200 (an empty protobuf
ExportTraceServiceResponse) to every POST /v1/traces, counting requests and body bytes. It does
not decode (that would make the sink, not Vortex, the bottleneck); tests/integration's
otlp_collector.py is the decoding one. GET /stats -> "requests bytes".

Usage: otlp_sink.py PORT
"""

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
totals = [0, 0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("content-length", "0"))
        self.rfile.read(n)
        with lock:
            totals[0] += 1
            totals[1] += n
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            body = f"{totals[0]} {totals[1]}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()

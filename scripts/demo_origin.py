#!/usr/bin/python3
"""A tiny threaded HTTP origin for `make run`: every GET answers JSON naming this origin and
echoing the path and request headers; /healthz answers 200. Standard library only.

    scripts/demo_origin.py --port 9001 --name origin-1
"""

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_handler(name: str):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so the proxy can pool connections
        server_version = "vortex-demo-origin"

        def _send(self, status: int, body: bytes, content_type: str, head_only: bool = False):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head_only:
                self.wfile.write(body)

        def _answer(self, head_only: bool = False):
            if self.path == "/healthz":
                self._send(200, b"ok\n", "text/plain", head_only)
                return
            body = json.dumps({"origin": name, "path": self.path, "headers": dict(self.headers.items())}, indent=2)
            self._send(200, body.encode() + b"\n", "application/json", head_only)

        def do_GET(self):
            self._answer()

        def do_HEAD(self):
            self._answer(head_only=True)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self._answer()

        def log_message(self, fmt, *args):  # quiet: Vortex keeps the access log
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description="demo origin for `make run`")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="origin")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.name))
    server.daemon_threads = True
    print(f"demo origin {args.name} on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

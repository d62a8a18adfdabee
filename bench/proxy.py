"""A loopback HTTP proxy that adds a fixed latency to every answer of the emulator: a stand-in for
real AWS, which answers in 50 to 150 ms (issue 11). Standard library only."""

from __future__ import annotations

import http.client
import os
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# BENCH_PROXY_TRACE=<file>: each call's start, end (before the added latency), the latency and the
# action, one line each (to see which calls wait on which).
TRACE = os.environ.get("BENCH_PROXY_TRACE")
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def start(upstream: str, latency_ms: float) -> tuple[ThreadingHTTPServer, str]:
    """The proxy, serving; ``upstream_seconds(server)`` is how long at least one call was with the
    emulator, so that the emulator's own compute can be told from the latency added."""
    target = urllib.parse.urlparse(upstream)
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            t0 = time.monotonic()
            conn.request(self.command, self.path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            with lock:
                spans.append((t0, time.monotonic()))
                if TRACE:
                    action = re.search(rb"Action=(\w+)", body)
                    name = action.group(1).decode() if action else self.headers.get("X-Amz-Target", "?")
                    with open(TRACE, "a") as f:
                        f.write(f"{t0:.3f} {spans[-1][1]:.3f} {latency_ms:.0f} {name}\n")
            time.sleep(latency_ms / 1000.0)
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_POST = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.upstream_spans = spans  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def upstream_seconds(server: ThreadingHTTPServer) -> float:
    """The length of the union of the calls' time with the emulator (overlapping calls count once)."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(server.upstream_spans):  # type: ignore[attr-defined]
        if b > end:
            total += b - max(a, end)
            end = b
    return total

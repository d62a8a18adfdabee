"""A fault-injecting HTTP proxy on loopback, between the provider and the emulator.

The provider's endpoints point at the proxy; the proxy forwards every request to the emulator
(``upstream``) unless a fault says otherwise. What it can do to a call (AWS query protocol: EC2,
ElastiCache, STS; the service from the SigV4 credential scope, the action from the form body):

- token buckets, EC2-style, per service and action class (``mutating``: Create*, Authorize*,
  Revoke*, Delete*, Modify*, Update*; ``describe``: everything else), or per action (a bucket named
  after an action takes that action's calls out of its class's bucket): a call that finds its bucket
  empty is answered ``RequestLimitExceeded`` (EC2, HTTP 503) or ``Throttling`` (ElastiCache and the
  others, HTTP 400) and never reaches the emulator; ``ec2_buckets()`` gives EC2's documented
  defaults (mutating: burst 10, 3 per second; describe: burst 100, 20 per second), stricter than
  ``documented_ec2_buckets()`` (per action, as AWS documents them; the benchmark uses these);
- faults, each for one service and action (``*``: any) and chosen by call number (the proxy counts
  the calls of every service and action from 1; a fault with ``match`` applies only to calls whose
  form body contains that text, e.g. ``GroupName=orders-cluster``, and counts those calls on its own,
  so that concurrent calls of other resources do not shift its numbers): ``throttle`` (with ``delay``:
  refused after that long, never forwarded), ``http500`` (InternalError),
  ``http503`` (Unavailable), ``reset`` (the connection is reset before the call is forwarded),
  ``lost`` (forwarded, so it takes effect, then the connection is reset instead of answering),
  ``slow`` (forwarded, then answered after ``delay`` seconds), ``hold`` (the call waits; with
  ``effect="after"`` it is forwarded first; it is answered when ``release()`` is called, or dropped
  when the client goes away, e.g. because the test killed the provider);
- a call log: one entry per call (service, action, its call number, the fault or throttle applied,
  the status answered).

Use it in-process (``FaultProxy(upstream).start()``) or as a process
(``python tests/common/fault_proxy.py --upstream URL`` prints ``PROXY_URL=...``, serves until
SIGTERM/SIGINT, exit 0); either way it is
also driven over HTTP: ``GET /_proxy/calls``, ``POST /_proxy/fault`` (a fault as JSON),
``POST /_proxy/buckets`` (``{"ec2": {"mutating": [burst, rate]}}``), ``POST /_proxy/release``,
``POST /_proxy/reset``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import select
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

MUTATING_PREFIXES = ("Create", "Authorize", "Revoke", "Delete", "Modify", "Update")
KINDS = ("throttle", "http500", "http503", "reset", "lost", "slow", "hold")


def action_class(action: str) -> str:
    return "mutating" if action.startswith(MUTATING_PREFIXES) else "describe"


def service_of(auth: str | None) -> str:
    """``AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request, ...`` -> ``ec2``."""
    try:
        parts = (auth or "").split("Credential=", 1)[1].split(",", 1)[0].strip().split("/")
        return parts[3].lower()
    except IndexError:
        return "unknown"


def error_body(service: str, code: str, message: str, status: int) -> bytes:
    rid = str(uuid.uuid4())
    c, m = escape(code), escape(message)
    if service == "ec2":
        xml = (f"<Response><Errors><Error><Code>{c}</Code><Message>{m}</Message></Error></Errors>"
               f"<RequestID>{rid}</RequestID></Response>")
    else:
        ns = ' xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/"' if service == "elasticache" else ""
        kind = "Receiver" if status >= 500 else "Sender"
        xml = (f"<ErrorResponse{ns}><Error><Type>{kind}</Type><Code>{c}</Code><Message>{m}</Message>"
               f"</Error><RequestId>{rid}</RequestId></ErrorResponse>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()


def throttle_error(service: str) -> tuple[int, str]:
    return (503, "RequestLimitExceeded") if service == "ec2" else (400, "Throttling")


class Bucket:
    """A token bucket: ``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(self, burst: float, rate: float) -> None:
        self.burst, self.rate = float(burst), float(rate)
        self.tokens, self.at = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def ec2_buckets() -> dict[str, dict[str, tuple[float, float]]]:
    """EC2's default request-rate buckets (mutating: burst 10, 3/s; describe: 100, 20/s), and the
    same for ElastiCache."""
    classes = {"mutating": (10, 3), "describe": (100, 20)}
    return {"ec2": dict(classes), "elasticache": dict(classes)}


def documented_ec2_buckets() -> dict[str, dict[str, tuple[float, float]]]:
    """EC2's documented per-action buckets for the calls an access makes (../shared/docs/anchors.md:
    Create/DeleteSecurityGroup and Authorize/RevokeSecurityGroupIngress 50 burst, 5 per second each;
    CreateTags 100 / 10, DeleteTags taken as the same; filtered describes 100 / 20), every other
    action in its class's bucket (mutating 50 / 5, describe 100 / 20); ElastiCache the same by class."""
    each = {a: (50, 5) for a in ("CreateSecurityGroup", "DeleteSecurityGroup", "AuthorizeSecurityGroupIngress",
                                 "RevokeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                                 "RevokeSecurityGroupEgress")}
    each.update({"CreateTags": (100, 10), "DeleteTags": (100, 10), "DescribeSecurityGroups": (100, 20),
                 "DescribeSecurityGroupRules": (100, 20), "mutating": (50, 5), "describe": (100, 20)})
    return {"ec2": each, "elasticache": {"mutating": (50, 5), "describe": (100, 20)}}


@dataclass
class Fault:
    kind: str
    service: str = "*"
    action: str = "*"
    calls: list[int] | None = None  # call numbers of (service, action); None: every call
    delay: float = 0.0  # slow: seconds before the answer
    effect: str = "before"  # hold: "after" forwards the call before holding it
    match: str | None = None  # only calls whose body contains this text, numbered among themselves
    seen: int = 0  # with match: the calls that matched so far

    def matches(self, service: str, action: str, n: int, body: str) -> bool:
        if self.service not in ("*", service) or self.action not in ("*", action):
            return False
        if self.match is not None:
            if self.match not in body:
                return False
            self.seen += 1
            n = self.seen
        return self.calls is None or n in self.calls


@dataclass
class Held:
    call: dict
    release: threading.Event = field(default_factory=threading.Event)


class FaultProxy:
    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0) -> None:
        u = urlsplit(upstream)
        self.upstream = (u.hostname or "127.0.0.1", u.port or 80)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread: threading.Thread | None = None
        self.reset()

    # ---- configuration ---------------------------------------------------------------------
    def reset(self) -> None:
        """No fault, no bucket, an empty call log and call counts from 1; held calls released."""
        with self.lock:
            for h in getattr(self, "held", []):
                h.release.set()
            self.faults: list[Fault] = []
            self.buckets: dict[tuple[str, str], Bucket] = {}
            self.counts: dict[tuple[str, str], int] = {}
            self.log: list[dict] = []
            self.held: list[Held] = []
            self.changed.notify_all()

    def add_fault(self, kind: str, service: str = "*", action: str = "*", calls: list[int] | None = None,
                  delay: float = 0.0, effect: str = "before", match: str | None = None) -> None:
        if kind not in KINDS or effect not in ("before", "after"):
            raise ValueError(f"unknown fault {kind!r} / effect {effect!r}")
        with self.lock:
            self.faults.append(Fault(kind, service, action, list(calls) if calls is not None else None,
                                     float(delay), effect, match))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults = []

    def set_buckets(self, spec: dict[str, dict[str, tuple[float, float]]]) -> None:
        with self.lock:
            self.buckets = {(svc, cls): Bucket(*v) for svc, classes in spec.items() for cls, v in classes.items()}

    def calls(self) -> list[dict]:
        with self.lock:
            return [dict(c) for c in self.log]

    def wait_held(self, timeout: float = 60) -> dict:
        """Waits until a call is held; returns its log entry."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while not self.held:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no call held within {timeout}s; calls: {self.log}")
                self.changed.wait(left)
            return dict(self.held[0].call)

    def release(self) -> None:
        with self.lock:
            for h in self.held:
                h.release.set()
            self.held = []

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="fault-proxy", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    # ---- one call ------------------------------------------------------------------------------
    def decide(self, service: str, action: str, body: str = "") -> tuple[dict, Fault | None]:
        """Records the call; returns its log entry and the fault to apply (throttle for an empty bucket)."""
        with self.lock:
            key = (service, action)
            n = self.counts[key] = self.counts.get(key, 0) + 1
            call = {"seq": len(self.log) + 1, "service": service, "action": action, "call": n,
                    "class": action_class(action), "fault": None, "status": None, "t": time.monotonic()}
            self.log.append(call)
            # Which faults' `match` texts the body holds (a test tells the calls of one resource apart).
            call["matched"] = [f.match for f in self.faults if f.match is not None and f.match in body]
            # Every fault sees the call (those with `match` count it), the first that matches applies.
            fault = None
            for f in self.faults:
                if f.matches(service, action, n, body) and fault is None:
                    fault = f
            bucket = self.buckets.get((service, action)) or self.buckets.get((service, action_class(action)))
            if fault is None and bucket is not None and not bucket.take():
                fault = Fault("throttle")
            if fault is not None:
                call["fault"] = fault.kind
                call["delay"] = fault.delay
            return call, fault

    def hold(self, call: dict, client: socket.socket) -> bool:
        """Holds the call until released (True) or the client goes away (False)."""
        h = Held(call)
        with self.lock:
            self.held.append(h)
            self.changed.notify_all()
        while not h.release.wait(0.05):
            readable, _, _ = select.select([client], [], [], 0)
            try:
                gone = bool(readable) and not client.recv(1, socket.MSG_PEEK)
            except OSError:
                gone = True
            if gone:
                with self.lock:
                    call["status"] = "client gone"
                    if h in self.held:
                        self.held.remove(h)
                return False
        return True

    def forward(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, list, bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            conn.close()


def _handler(proxy: FaultProxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: Any) -> None:
            pass

        def _send(self, status: int, headers: list, body: bytes) -> None:
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, payload: Any, status: int = 200) -> None:
            self._send(status, [("Content-Type", "application/json")], json.dumps(payload).encode())

        def _reset(self) -> None:
            """Resets the connection (RST, no answer)."""
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

        def _control(self, body: bytes) -> None:
            spec = json.loads(body or b"{}")
            path = self.path.rstrip("/")
            if path == "/_proxy/calls":
                return self._json({"calls": proxy.calls()})
            if path == "/_proxy/fault":
                proxy.add_fault(**spec)
            elif path == "/_proxy/faults/clear":
                proxy.clear_faults()
            elif path == "/_proxy/buckets":
                proxy.set_buckets(spec)
            elif path == "/_proxy/release":
                proxy.release()
            elif path == "/_proxy/reset":
                proxy.reset()
            else:
                return self._json({"ok": False, "error": f"unknown {path}"}, 404)
            self._json({"ok": True})

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/_proxy/"):
                return self._control(body)
            text = body.decode("utf-8", "replace")
            form = parse_qs(text) if b"Action=" in body else {}
            action = (form.get("Action") or parse_qs(urlsplit(self.path).query).get("Action") or ["?"])[0]
            service = service_of(self.headers.get("Authorization"))
            call, fault = proxy.decide(service, action, text)
            kind = fault.kind if fault else None
            if kind == "reset":
                call["status"] = "reset"
                return self._reset()
            if kind in ("throttle", "http500", "http503"):
                status, code = {"throttle": throttle_error(service), "http500": (500, "InternalError"),
                                "http503": (503, "Unavailable")}[kind]
                call["status"] = status
                msg = "Request limit exceeded." if kind == "throttle" else f"Injected {code}"
                if fault.delay:  # the refusal comes late (never forwarded: it takes no effect)
                    time.sleep(fault.delay)
                return self._send(status, [("Content-Type", "text/xml")], error_body(service, code, msg, status))
            if kind == "hold" and fault.effect == "before" and not proxy.hold(call, self.connection):
                return self._reset()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            status, rheaders, rbody = proxy.forward(self.command, self.path, headers, body)
            if kind == "lost":
                call["status"] = "lost"
                return self._reset()
            if kind == "slow":
                time.sleep(fault.delay)
            if kind == "hold" and fault.effect == "after" and not proxy.hold(call, self.connection):
                return self._reset()
            call["status"] = status
            try:
                self._send(status, rheaders, rbody)
            except OSError:
                call["status"] = "client gone"
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Handler


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="fault-injecting proxy in front of the emulator")
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    proxy = FaultProxy(args.upstream, port=args.port).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"PROXY_URL={proxy.url}", flush=True)
    while not stop.wait(3600):
        pass
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

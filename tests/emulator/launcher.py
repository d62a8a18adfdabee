#!/usr/bin/env python3
"""Local AWS API emulator for the elasticache-access tests.

Starts moto's server (EC2 + ElastiCache + everything else moto knows) on one
endpoint, after patching moto in-process so that the behaviours our provider
depends on match real AWS (see ``moto_patches.py``; every patch cites the AWS
behaviour it mirrors).

    python tests/emulator/launcher.py [--port N] [--host 127.0.0.1] [--vanilla] [--no-realism]
                                      [--config JSON]

Prints exactly one line ``EMULATOR_URL=http://127.0.0.1:<port>`` on stdout
(flushed) once the socket accepts connections, then serves until SIGTERM or
SIGINT and exits 0.  ``--port 0`` (the default) picks a free port.
``--vanilla`` skips the moto patches and the AWS realism (the control endpoints stay); it exists so
that one can show the tests fail against unpatched moto.

The AWS realism of ``realism_config.py`` (eventual consistency, modification windows, quotas, ...) is
on by default (``realism_config.REALISTIC``: a new group or rule is invisible for 2 s, a modified
cluster is ``modifying`` for 3 s); ``--no-realism`` turns all of it off, then the environment variable
``EMULATOR_CONFIG`` (JSON such as ``{"modify_window": 1}``, or the word ``realistic`` or ``off``) and
``--config`` (the same) change the defaults that ``POST /_emulator/reset`` restores. Tests change them
at run time: ``/_emulator/config``. ``POST /_emulator/settle`` ends every consistency window at once.

Control endpoints (handled before moto sees the request):

    GET    /_emulator/health        -> {"ok": true, "patched": bool}
    GET    /_emulator/calls         -> {"calls": [{"service": "ec2", "action": "DescribeSecurityGroups",
                                                   "access_key": "AKID"}, ...]}
                                       (an STS call also has "params": its RoleArn, RoleSessionName
                                       and ExternalId; a call with a group-id filter, "params":
                                       {"group-id": "sg-1,sg-2"})
    POST   /_emulator/calls/reset   -> {"ok": true}
    GET    /_emulator/fault         -> {"faults": [...]}
    POST   /_emulator/fault         body {"service": "ec2", "action": "AuthorizeSecurityGroupIngress",
                                          "code": "InternalError", "status": 500, "count": 1, "after": 0,
                                          "message": "optional"}  -> {"ok": true, "faults": [...]}
    DELETE /_emulator/fault         -> {"ok": true}
    POST   /_emulator/reset         -> resets moto's state, the call log, the faults, the realism
                                       settings (to the launcher's defaults) and the modification log
    GET|POST|DELETE /_emulator/config, GET|DELETE /_emulator/modifications, POST /_emulator/peering,
    POST /_emulator/settle          -> see realism_control.py

A fault matches calls by service and action ("*" or omitted = any); it lets ``after``
matching calls through, then fails the next ``count`` (default 1) matching calls with
HTTP ``status`` (default 500 for InternalError/InternalFailure/ServiceUnavailable, 503 for
RequestLimitExceeded, else 400) and the service's AWS error body, then disappears.  Each
fault counts matching calls on its own; when several are due, the oldest fires.  Error
bodies: EC2 ``<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>``;
other query services ``<ErrorResponse><Error><Type>Sender|Receiver</Type><Code/><Message/>
</Error><RequestId/></ErrorResponse>`` (Receiver when status >= 500; ElastiCache's carries
its xmlns).  A failed call is still recorded in the call log and never reaches moto.

Every request that carries an ``Action`` (query protocol: EC2, ElastiCache,
STS, ...; from the form body or the query string) is recorded as
(service, action), the service taken from the SigV4 credential scope of the
Authorization header (``Credential=AKID/20240101/us-east-1/ec2/aws4_request``).
"""

from __future__ import annotations

import argparse
import faulthandler
import io
import json
import os
import signal
import sys
import threading
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# moto reads these at import time in a few places; the emulator never talks to AWS.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import realism_control  # noqa: E402  (tests/emulator)
import realism_elasticache  # noqa: E402
from realism_config import CONFIG, OFF, launcher_defaults  # noqa: E402

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def access_key_from_authorization(auth: str | None) -> str | None:
    """The access key id of the SigV4 credential scope (never the secret, which is not sent)."""
    if not auth or "Credential=" not in auth:
        return None
    return auth.split("Credential=", 1)[1].split("/", 1)[0].strip() or None


# Request parameters recorded with the call: the role a client assumed, and how.
RECORDED_PARAMS = ("RoleArn", "RoleSessionName", "ExternalId")
# Filters recorded with a call, their values sorted and joined by commas under the filter's name
# (the tests of batched describes check which ids each call carried).
RECORDED_FILTERS = ("group-id",)


def recorded_filters(params: dict[str, str]) -> dict[str, str]:
    """``Filter.N.Name=group-id`` with ``Filter.N.Value.M`` -> ``{"group-id": "sg-1,sg-2"}``."""
    values: dict[str, set[str]] = {}
    for key, name in params.items():
        if key.startswith("Filter.") and key.endswith(".Name") and name in RECORDED_FILTERS:
            prefix = key[: -len("Name")] + "Value."
            values.setdefault(name, set()).update(v for k, v in params.items() if k.startswith(prefix))
    return {name: ",".join(sorted(vs)) for name, vs in values.items()}


def service_from_authorization(auth: str | None) -> str | None:
    """``AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request, ...`` -> ``ec2``."""
    if not auth or "Credential=" not in auth:
        return None
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
        parts = scope.split("/")
        return parts[3].lower() if len(parts) >= 5 else None
    except Exception:  # pragma: no cover - malformed header
        return None


def _error_body(service: str, code: str, message: str, status: int, request_id: str) -> bytes:
    code_x, msg_x = escape(code), escape(message)
    if service == "ec2":
        # EC2 query API error shape (EC2 API Reference, "Error codes" / "Error response").
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code_x}</Code><Message>{msg_x}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
    else:
        # Generic AWS query protocol error shape (ElastiCache, STS, ...).
        ns = ' xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/"' if service == "elasticache" else ""
        kind = "Receiver" if status >= 500 else "Sender"
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse{ns}><Error><Type>{kind}</Type><Code>{code_x}</Code>"
            f"<Message>{msg_x}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return xml.encode("utf-8")


class EmulatorControl:
    """WSGI middleware: call log, fault injection and the /_emulator/* endpoints."""

    def __init__(self, app: WsgiApp, patched: bool) -> None:
        self.app = app
        self.patched = patched
        self.lock = threading.Lock()
        self.calls: list[dict[str, str]] = []
        self.faults: list[dict[str, Any]] = []

    # ---- helpers -------------------------------------------------------------------------
    @staticmethod
    def _json(start_response: Callable, status: int, payload: Any) -> list[bytes]:
        body = json.dumps(payload).encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}.get(status, "OK")
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    @staticmethod
    def _read_body(environ: dict) -> bytes:
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        length = environ.get("CONTENT_LENGTH") or ""
        if length.strip().isdigit():
            body = stream.read(int(length)) if int(length) > 0 else b""
        elif environ.get("wsgi.input_terminated"):
            body = stream.read()  # chunked request, de-chunked by werkzeug
        else:
            return b""  # no framing information: leave the stream to moto untouched
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return body

    @staticmethod
    def _params(environ: dict, body: bytes) -> dict[str, str]:
        """The query-protocol parameters of a request (query string, then form body), first values."""
        out = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items() if v}
        ctype = environ.get("CONTENT_TYPE", "")
        if body and ("x-www-form-urlencoded" in ctype or b"Action=" in body[:4096]):
            try:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                return out
            for k, v in form.items():
                if v:
                    out.setdefault(k, v[0])
        return out

    @staticmethod
    def _action(environ: dict, body: bytes) -> str | None:
        return EmulatorControl._params(environ, body).get("Action")

    def _take_fault(self, service: str, action: str) -> dict[str, Any] | None:
        fired = None
        with self.lock:
            for fault in self.faults:
                if fault["service"] not in ("*", service):
                    continue
                if fault["action"] not in ("*", action):
                    continue
                if fault["remaining_after"] > 0:
                    fault["remaining_after"] -= 1
                    continue
                if fired is None and fault["remaining"] > 0:
                    fault["remaining"] -= 1
                    fired = dict(fault)
            self.faults = [f for f in self.faults if f["remaining"] > 0]
        return fired

    # ---- control endpoints ---------------------------------------------------------------
    def _control(self, environ: dict, start_response: Callable) -> list[bytes]:
        path = environ.get("PATH_INFO", "").rstrip("/")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        body = self._read_body(environ)

        if path == "/_emulator/health":
            return self._json(start_response, 200, {"ok": True, "patched": self.patched})
        if path == "/_emulator/calls" and method == "GET":
            with self.lock:
                calls = list(self.calls)
            return self._json(start_response, 200, {"calls": calls})
        if path == "/_emulator/calls/reset" and method == "POST":
            with self.lock:
                self.calls.clear()
            return self._json(start_response, 200, {"ok": True})
        if path == "/_emulator/fault":
            if method == "GET":
                with self.lock:
                    return self._json(start_response, 200, {"faults": [self._public(f) for f in self.faults]})
            if method == "DELETE":
                with self.lock:
                    self.faults.clear()
                return self._json(start_response, 200, {"ok": True})
            if method == "POST":
                try:
                    spec = json.loads(body or b"{}")
                    fault = self._parse_fault(spec)
                except (ValueError, TypeError) as exc:
                    return self._json(start_response, 400, {"ok": False, "error": str(exc)})
                with self.lock:
                    self.faults.append(fault)
                    faults = [self._public(f) for f in self.faults]
                return self._json(start_response, 200, {"ok": True, "faults": faults})
            return self._json(start_response, 405, {"ok": False, "error": "method not allowed"})
        if path == "/_emulator/reset" and method == "POST":
            from moto.moto_api._internal.models import moto_api_backend

            moto_api_backend.reset()
            realism_control.reset()
            with self.lock:
                self.calls.clear()
                self.faults.clear()
            return self._json(start_response, 200, {"ok": True})
        if path in realism_control.PATHS:
            status, payload = realism_control.handle(method, path, body, self.patched)
            return self._json(start_response, status, payload)
        return self._json(start_response, 404, {"ok": False, "error": f"unknown endpoint {method} {path}"})

    @staticmethod
    def _parse_fault(spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise ValueError("fault must be a JSON object")
        service = str(spec.get("service") or "*").lower()
        action = str(spec.get("action") or "*")
        code = str(spec.get("code") or "InternalError")
        default_status = 500 if code in ("InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable") else 400
        if code == "RequestLimitExceeded" or code == "Throttling":
            default_status = 503 if code == "RequestLimitExceeded" else 400
        status = int(spec.get("status") or default_status)
        count = int(spec.get("count", 1))
        after = int(spec.get("after", 0))
        if count < 1 or after < 0 or not 100 <= status <= 599:
            raise ValueError("count must be >= 1, after >= 0, status an HTTP status")
        message = str(spec.get("message") or f"Injected fault {code} for {service}:{action}")
        return {
            "service": service,
            "action": action,
            "code": code,
            "status": status,
            "message": message,
            "count": count,
            "after": after,
            "remaining": count,
            "remaining_after": after,
        }

    @staticmethod
    def _public(fault: dict[str, Any]) -> dict[str, Any]:
        return dict(fault)

    # ---- WSGI entry point ----------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_emulator/"):
            return self._control(environ, start_response)

        body = self._read_body(environ)
        action = self._action(environ, body)
        if self.patched:
            realism_elasticache.settle()  # modification windows that are over end before the call
        if action:
            auth = environ.get("HTTP_AUTHORIZATION")
            service = service_from_authorization(auth) or "unknown"
            call: dict[str, Any] = {"service": service, "action": action,
                                    "access_key": access_key_from_authorization(auth)}
            params = self._params(environ, body)
            recorded = {k: params[k] for k in RECORDED_PARAMS if k in params}
            recorded.update(recorded_filters(params))
            if recorded:
                call["params"] = recorded
            with self.lock:
                self.calls.append(call)
            fault = self._take_fault(service, action)
            if fault is not None:
                request_id = str(uuid.uuid4())
                payload = _error_body(service, fault["code"], fault["message"], fault["status"], request_id)
                start_response(
                    f"{fault['status']} Injected",
                    [
                        ("Content-Type", "text/xml"),
                        ("Content-Length", str(len(payload))),
                        ("x-amzn-RequestId", request_id),
                    ],
                )
                return [payload]
        return self.app(environ, start_response)


def build_app(patched: bool = True) -> EmulatorControl:
    if patched:
        import moto_patches

        moto_patches.apply()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return EmulatorControl(DomainDispatcherApplication(create_backend_app), patched=patched)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "0")),
                        help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--vanilla", action="store_true",
                        help="do not patch moto (control endpoints still work)")
    parser.add_argument("--no-realism", action="store_true",
                        help="turn every AWS realism behaviour off by default (realism_config.OFF)")
    parser.add_argument("--realistic", action="store_true",
                        help="every AWS realism behaviour on by default (realism_config.REALISTIC): the default")
    parser.add_argument("--config", default=None,
                        help="JSON of realism settings (or 'realistic', 'off') for the defaults, "
                             "applied after EMULATOR_CONFIG")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)

    try:
        if args.realistic and args.no_realism:
            raise ValueError("--realistic and --no-realism contradict each other")
        # Unpatched moto has none of the realism: its configuration says so.
        CONFIG.set_defaults(OFF if args.vanilla else launcher_defaults(
            args.no_realism, os.environ.get("EMULATOR_CONFIG"), args.config))
    except ValueError as exc:
        parser.error(str(exc))
    app = build_app(patched=not args.vanilla)

    from werkzeug.serving import WSGIRequestHandler, make_server

    class Handler(WSGIRequestHandler):
        def log_request(self, *a: Any, **kw: Any) -> None:
            if args.verbose:
                super().log_request(*a, **kw)

    server = make_server(args.host, args.port, app, threaded=True, request_handler=Handler)
    server.daemon_threads = True  # keep-alive client connections must not delay shutdown
    port = server.server_port
    host = args.host if ":" not in args.host else f"[{args.host}]"

    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    # A stop that hangs is diagnosed: SIGUSR1 writes every thread's stack to stderr (harness.stop).
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="emulator", daemon=True)
    thread.start()
    sys.stdout.write(f"EMULATOR_URL=http://{host}:{port}\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Exit without waiting for threads a library may have left running (there is nothing to save):
    # a stop must never hang on them.
    os._exit(code)

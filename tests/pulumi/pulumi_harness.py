"""Helpers that run `pulumi-resource-elasticache` the way the Pulumi engine does (the fixtures that use
them are in conftest.py): Struct conversion, the seeded emulator's handle, a fake ``pulumirpc.Engine``
that records every ``Log`` call, and the plugin process, started with the engine address as its last
argument, its port read from its first stdout line, driven through Pulumi's own generated stubs
(``pulumi.runtime.proto``).

The binary is target/debug/pulumi-resource-elasticache (``$CARGO_TARGET_DIR`` is honoured), built
with cargo when missing; ``PULUMI_PROVIDER_BIN`` overrides the path.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import engine_pb2_grpc, provider_pb2, provider_pb2_grpc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

REGION = "us-east-1"
# The engine's plain unknown sentinel, and the secret signature (sdk/go/common/resource/sig).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
TOKEN = "elasticache:index:Access"
# Pulumi's package metaschema, vendored (tests/fixtures/README.md).
METASCHEMA = os.path.join(ROOT, "tests", "fixtures", "pulumi-package-metaschema.json")


def urn(name: str) -> str:
    return f"urn:pulumi:test::elasticache-access::{TOKEN}::{name}"


def secret(value):
    return {SIG_KEY: SECRET_SIG, "value": value}


def to_struct(d: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


def to_dict(s: struct_pb2.Struct) -> dict:
    from google.protobuf import json_format

    return json_format.MessageToDict(s)


def python_metaschema() -> dict:
    """The metaschema with its `(?<name>` groups rewritten for Python's `re` (`(?P<name>`)."""
    with open(METASCHEMA, encoding="utf-8") as fh:
        text = fh.read()
    meta = json.loads(text)

    def fix(node):
        if isinstance(node, dict):
            return {k: (re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", v) if k == "pattern" and isinstance(v, str) else fix(v))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [fix(x) for x in node]
        return node

    return fix(meta)


# --- the emulator -----------------------------------------------------------------------------

@dataclass
class Emu:
    url: str
    seed: dict
    ec2: object
    elasticache: object

    def fault(self, **spec) -> None:
        self._post("/_emulator/fault", spec)

    def clear_faults(self) -> None:
        import urllib.request

        req = urllib.request.Request(self.url + "/_emulator/fault", method="DELETE")
        urllib.request.urlopen(req, timeout=10).read()

    def _post(self, path: str, body: dict) -> dict:
        import urllib.request

        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=10).read())

    def groups_named(self, name: str) -> list:
        return self.ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [f"{name}-cluster", f"{name}-clients"]}])["SecurityGroups"]

    def ingress_rules(self, group_id: str) -> list:
        rules = self.ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
        return [r for r in rules if not r["IsEgress"]]


# --- a fake engine that records Log calls ----------------------------------------------------

@dataclass
class FakeEngine:
    address: str
    logs: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, pred, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                hits = [entry for entry in self.logs if pred(entry)]
            if hits:
                return hits
            time.sleep(0.05)
        return []


class _EngineServicer(engine_pb2_grpc.EngineServicer):
    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def Log(self, request, context):  # noqa: N802 (gRPC method name)
        with self.engine.lock:
            self.engine.logs.append(request)
        return empty_pb2.Empty()


# --- the plugin --------------------------------------------------------------------------------

def provider_binary() -> str:
    explicit = os.environ.get("PULUMI_PROVIDER_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    path = os.path.join(target, "debug", "pulumi-resource-elasticache")
    if not os.path.exists(path):
        subprocess.run(["cargo", "build", "-p", "elasticache-provider", "--bin", "pulumi-resource-elasticache"],
                       cwd=ROOT, check=True)
    return path


def plugin_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    })
    return env


@dataclass
class Plugin:
    proc: subprocess.Popen
    port: int
    channel: grpc.Channel
    stub: provider_pb2_grpc.ResourceProviderStub
    stderr_path: str

    def stderr(self) -> str:
        with open(self.stderr_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def stop(self) -> int:
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT, as the engine does
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


def start_plugin(args: list[str], timeout: float = 30, env: dict | None = None) -> Plugin:
    """Starts the plugin with `args` (and `env`, else [`plugin_env`]) and connects to its port."""
    err = tempfile.NamedTemporaryFile(prefix="pulumi-plugin-", suffix=".log", delete=False)
    proc = subprocess.Popen([provider_binary(), *args], stdout=subprocess.PIPE, stderr=err, text=True,
                            env=plugin_env() if env is None else env)
    err.close()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(timeout=timeout):
            proc.kill()
            raise RuntimeError("the plugin printed no port")
        line = proc.stdout.readline()
    finally:
        sel.close()
    port = int(line.strip())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=timeout)
    return Plugin(proc, port, channel, provider_pb2_grpc.ResourceProviderStub(channel), err.name)


def configure(stub, emu, **extra) -> provider_pb2.ConfigureResponse:
    """Configures a plugin against an emulator (anything with a `url`)."""
    args = {"region": REGION, "endpoints": {"ec2": emu.url, "elasticache": emu.url, "servicequotas": emu.url},
            "maxRetries": 2}
    args.update(extra)
    return stub.Configure(provider_pb2.ConfigureRequest(args=to_struct(args), acceptSecrets=True,
                                                        acceptResources=True))



"""The Pulumi policy pack as the Pulumi engine runs it, without the CLI: its entry point
(policies/pulumi/__main__.py, run by the venv's Python from the pack's directory) serves pulumi's
Analyzer gRPC service, and the test is the engine: GetAnalyzerInfo lists the pack's policies, and
AnalyzeStack (the call that carries resources' outputs) is sent the accesses of the fixture plans as
Protobuf Structs, an unknown reachability as pulumi's unknown sentinel. The diagnostics must name
exactly the blocking findings, mandatory, against each access's URN."""

from __future__ import annotations

import json
import subprocess
import sys

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy_harness import FIXTURES, POLICIES, blocking_ids, findings_table, pulumi_outputs

EXPECTED_URNS = {  # fixture -> {(access name in the URN, finding id)}
    "plan-private.json": set(),
    "plan-unknown.json": set(),
    "plan-public.json": {("partner", "public-source")},
    "plan-no-tls.json": {("legacy", "no-transit-encryption")},
    "plan-world.json": {("module-cache-open", "open-to-world")},
}


SEVERITY = {"critical": analyzer_pb2.POLICY_SEVERITY_CRITICAL, "high": analyzer_pb2.POLICY_SEVERITY_HIGH}


@pytest.fixture(scope="module")
def analyzer():
    pack = POLICIES / "pulumi"
    proc = subprocess.Popen([sys.executable, "__main__.py"], cwd=pack, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.isdigit(), f"the pack printed {line!r}, not its port:\n{proc.stderr.read() if proc.poll() is not None else ''}"
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.kill()
        proc.wait(timeout=30)


def analyze(stub, plan: dict) -> list:
    resources = []
    for rtype, urn, outputs in pulumi_outputs(plan):
        props = struct_pb2.Struct()
        props.update(outputs)
        resources.append(analyzer_pb2.AnalyzerResource(type=rtype, properties=props, urn=urn,
                                                       name=urn.rsplit("::", 1)[1]))
    return list(stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources)).diagnostics)


def test_the_pack_lists_one_mandatory_policy_per_blocking_finding(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "elasticache-access"
    got = {p.name: p.enforcementLevel for p in info.policies}
    assert got == {f"elasticache-access-{i}": analyzer_pb2.MANDATORY for i in blocking_ids()}, got
    titles = {f["id"]: f["title"] for f in findings_table()}
    for p in info.policies:
        assert p.name.removeprefix("elasticache-access-") in p.description, p.description
        assert titles[p.name.removeprefix("elasticache-access-")]


@pytest.mark.parametrize("fixture", sorted(EXPECTED_URNS))
def test_analyze_stack_reports_the_blocking_findings_against_the_access(analyzer, fixture):
    plan = json.loads((FIXTURES / fixture).read_text())
    severity_of = {f["id"]: f["severity"] for f in findings_table()}
    diags = analyze(analyzer, plan)
    got = set()
    for d in diags:
        assert d.enforcementLevel == analyzer_pb2.MANDATORY, d
        assert d.urn.startswith("urn:pulumi:") and "::elasticache:index:Access::" in d.urn, d
        fid = d.policyName.removeprefix("elasticache-access-")
        # The engine shows the policy's description, then the violation's message.
        assert d.message.splitlines()[-1].startswith(f"{fid} on "), d.message
        assert d.severity == SEVERITY[severity_of[fid]], (d.severity, fid)
        got.add((d.urn.rsplit("::", 1)[1], fid))
    assert got == EXPECTED_URNS[fixture], [json_format.MessageToDict(d) for d in diags]

"""Secret inputs are never echoed to the engine: a warning or a Check failure about a secret property
names its path, never its value; failed applies and debug lines (`-v=9`, to the engine's Log and to
stderr) never hold a secret value, nor what is derived from it (a CIDR block's network)."""

from __future__ import annotations

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_harness import configure, secret, start_plugin, to_dict, urn
from test_provider import check, create, delete, init_failed, unique


def messages_since(engine, start: int) -> str:
    with engine.lock:
        return "\n".join(e.message for e in engine.logs[start:])


def test_a_warning_about_a_secret_names_its_path_not_its_value(stub, fake_engine, emulator):
    vpc = emulator.seed["vpc_id"]
    start = len(fake_engine.logs)
    name = unique("secwarn")
    resp = check(stub, name, {"vpcId": vpc, "allowedCidrBlocks": secret(["10.61.2.3/16"])})
    assert not resp.failures
    warned = fake_engine.wait_for(lambda e: e.urn == urn(name) and e.severity == 2 and "canonical" in e.message)
    assert warned, messages_since(fake_engine, start)
    assert "allowedCidrBlocks[0]" in warned[0].message and "network address" in warned[0].message
    # The same warning for a plain value quotes it: the check below is not vacuous.
    plain = unique("plainwarn")
    check(stub, plain, {"vpcId": vpc, "allowedCidrBlocks": ["10.62.2.3/16"]})
    assert fake_engine.wait_for(lambda e: e.urn == urn(plain) and "10.62.0.0/16" in e.message)
    shown = messages_since(fake_engine, start)
    for hidden in ["10.61.2.3", "10.61.0.0"]:
        assert hidden not in shown, shown


def test_check_failures_about_secrets_name_paths_not_values(stub, fake_engine, emulator):
    start = len(fake_engine.logs)
    name = unique("secfail")
    resp = check(stub, name, {
        "vpcId": emulator.seed["vpc_id"],
        "allowedCidrBlocks": secret(["10.63.0.0/33", "8.64.0.0/16", "10.65.1.0/16", "10.65.0.0/16"]),
        "description": secret("caf\u00e9 hush-hush"),
        "tags": secret({"aws:hidden-key": "hush-hush-value"}),
        "port": 70000,
    })
    failures = [(f.property, f.reason) for f in resp.failures]
    text = repr(failures) + messages_since(fake_engine, start)
    for hidden in ["10.63.0.0", "8.64.0.0", "10.65.", "hush-hush", "hidden-key", "\u00e9", "\\xe9"]:
        assert hidden not in text, (hidden, failures)
    secret_failures = [f for f in resp.failures if f.property != "port"]
    # The engine prints the input value of a failure's property: a secret's failure names none and
    # carries its path in the reason instead.
    assert secret_failures and all(f.property == "" for f in secret_failures), failures
    reasons = " ".join(f.reason for f in secret_failures)
    for path in ["allowedCidrBlocks[0]", "allowedCidrBlocks[1]", "allowedCidrBlocks[3]", "description", "tags"]:
        assert path in reasons, (path, failures)
    # What to do is still said where it needs no value; a plain property keeps its value.
    assert "such as 10.0.0.0/16" in reasons and "allowPublicCidrs: true" in reasons, failures
    assert "70000" in dict(failures)["port"], failures


def test_debug_lines_and_failed_applies_never_hold_a_secret(emulator, fake_engine):
    """As `pulumi up -v=9 --logtostderr` runs the plugin: every AWS call is a debug line."""
    p = start_plugin(["--logtostderr", "-v=9", fake_engine.address])
    cidr, hidden_name = "10.71.0.0/16", unique("hushname")
    try:
        p.stub.Handshake(provider_pb2.ProviderHandshakeRequest(engine_address=fake_engine.address))
        configure(p.stub, emulator)
        start = len(fake_engine.logs)
        name = unique("secdbg")
        news = {"vpcId": emulator.seed["vpc_id"], "name": secret(hidden_name),
                "allowedCidrBlocks": secret([cidr]), "tags": secret({"owner": "hush-owner"})}
        inputs = to_dict(check(p.stub, name, news).inputs)
        # AWS refuses the rule with a message that echoes it, as AWS does.
        emulator.fault(service="ec2", action="AuthorizeSecurityGroupIngress", code="InvalidParameterValue",
                       status=400, count=10, message=f"Invalid rule: peer {cidr} is not allowed here")
        try:
            with pytest.raises(grpc.RpcError) as exc:
                create(p.stub, name, inputs)
        finally:
            emulator.clear_faults()
        detail = init_failed(exc.value)
        assert detail is not None and "InvalidParameterValue" in exc.value.details(), exc.value.details()
        said = exc.value.details() + "\n".join(detail.reasons)
        delete(p.stub, name, detail.id, to_dict(detail.properties), inputs)
        made = create(p.stub, name, inputs)
        delete(p.stub, name, made.id, to_dict(made.properties), inputs)
        assert emulator.groups_named(hidden_name) == []
        logs = messages_since(fake_engine, start)
        assert "AuthorizeSecurityGroupIngress" in logs and "DescribeSecurityGroups" in logs, logs[-2000:]
        assert "AuthorizeSecurityGroupIngress" in p.stderr()
        for where, text in [("the failure", said), ("the engine log", logs), ("stderr", p.stderr())]:
            for hidden in [cidr, "10.71.0.0", hidden_name, "hush-owner"]:
                assert hidden not in text, f"{hidden} in {where}"
    finally:
        assert p.stop() == 0

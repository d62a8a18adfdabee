"""Secrets stay secret on the Pulumi side: with the most verbose logging (-v=9, --logtostderr) and a
canary secret access key and session token in the environment or in a shared credentials profile,
the canary appears in no answer of the provider (Configure, Check, Create, Read, Diff, Update, a
failed Create and its error details, Delete), in no Log call the engine receives and in nothing
the provider writes to stderr. Each canary is looked for whole and by its distinctive halves."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid

import grpc
import pytest
from google.protobuf import json_format
from pulumi.runtime.proto import provider_pb2

import emulator_fixture  # tests/common
from pulumi_harness import REGION, TOKEN, configure, plugin_env, start_plugin, to_dict, to_struct, urn

SECRET = "CanarySecretKey0123456789abcdefghijKLMNOP"  # 40 characters, like an AWS secret key
TOKEN_ = "CanarySessionToken" + "IQoJb3JpZ2luX2VjEJr" * 8 + "TokenEnd"
KEY_ID = "AKIACANARY0000000000"


def pieces() -> list[str]:
    return [p for c in (SECRET, TOKEN_) for p in (c, c[:20], c[-20:])]


def leaks(text: str) -> list[str]:
    return [p for p in pieces() if p in text]


def canary_env(tmp_path, where: str) -> tuple[dict, dict]:
    """The plugin's environment and the extra provider configuration for `where`."""
    env = {k: v for k, v in plugin_env().items() if not k.startswith("AWS_")}
    env.update({"AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true"})
    if where == "environment":
        env.update({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN_,
                    "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
        return env, {}
    creds, config = tmp_path / "credentials", tmp_path / "config"
    creds.write_text(f"[canary]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
                     f"aws_session_token = {TOKEN_}\n")
    config.write_text(f"[profile canary]\nregion = {REGION}\n")
    env.update({"AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_CONFIG_FILE": str(config)})
    return env, {"profile": "canary"}


def text(msg) -> str:
    return json_format.MessageToJson(msg)


def lifecycle(stub, emulator) -> list[str]:
    """Runs an access through every resource RPC; returns the text of every answer and error."""
    seen = []
    name = f"canary-{uuid.uuid4().hex[:8]}"
    news = {"vpcId": emulator.seed["vpc_id"], "name": name, "allowedCidrBlocks": ["10.9.0.0/16"]}
    chk = stub.Check(provider_pb2.CheckRequest(urn=urn(name), name=name, type=TOKEN, news=to_struct(news)))
    seen.append(text(chk))
    inputs = to_dict(chk.inputs)
    made = stub.Create(provider_pb2.CreateRequest(urn=urn(name), name=name, type=TOKEN,
                                                  properties=chk.inputs, timeout=300))
    seen.append(text(made))
    outputs = to_dict(made.properties)
    seen.append(text(stub.Read(provider_pb2.ReadRequest(id=made.id, urn=urn(name), name=name, type=TOKEN,
                                                        properties=made.properties, inputs=chk.inputs))))
    changed = dict(inputs, description="canary run")
    seen.append(text(stub.Diff(provider_pb2.DiffRequest(id=made.id, urn=urn(name), name=name, type=TOKEN,
                                                        olds=made.properties, news=to_struct(changed),
                                                        old_inputs=chk.inputs))))
    upd = stub.Update(provider_pb2.UpdateRequest(id=made.id, urn=urn(name), name=name, type=TOKEN,
                                                 olds=made.properties, news=to_struct(changed),
                                                 old_inputs=chk.inputs, timeout=300))
    seen.append(text(upd))
    # A failure whose message comes from AWS's answer: the cluster is in another VPC.
    other = emulator.ec2.create_vpc(CidrBlock="10.97.0.0/16")["Vpc"]["VpcId"]
    bad = {"vpcId": other, "name": name + "-x", "cluster": {"replicationGroupId": emulator.seed["replication_group_id"]}}
    with pytest.raises(grpc.RpcError) as failed:
        stub.Create(provider_pb2.CreateRequest(urn=urn(name + "-x"), name=name + "-x", type=TOKEN,
                                               properties=to_struct(bad), timeout=300))
    assert "vpc" in failed.value.details().lower(), failed.value.details()
    seen.append(failed.value.details())
    seen.append(repr(failed.value.trailing_metadata()))
    stub.Delete(provider_pb2.DeleteRequest(id=made.id, urn=urn(name), name=name, type=TOKEN,
                                           properties=upd.properties, old_inputs=to_struct(changed), timeout=300))
    assert outputs["clusterSecurityGroupId"] == made.id
    return seen


@pytest.mark.parametrize("where", ["environment", "profile"])
def test_canary_credentials_appear_in_no_answer_log_or_stderr(emulator, fake_engine, tmp_path, where):
    env, extra = canary_env(tmp_path, where)
    start = len(fake_engine.logs)
    p = start_plugin(["--logtostderr", "-v=9", fake_engine.address], env=env)
    try:
        p.stub.Handshake(provider_pb2.ProviderHandshakeRequest(engine_address=fake_engine.address,
                                                               configure_with_urn=True))
        emulator_fixture.reset_calls(emulator.url)
        answers = [text(configure(p.stub, emulator, **extra))] + lifecycle(p.stub, emulator)
    finally:
        rc = p.stop()
    assert rc == 0, p.stderr()[-3000:]
    with urllib.request.urlopen(emulator.url + "/_emulator/calls", timeout=30) as r:
        calls = json.loads(r.read())["calls"]
    # The provider signed its calls with the canary credentials (the test's own calls use "testing").
    assert {c.get("access_key") for c in calls} - {"testing"} == {KEY_ID}, calls[:3]
    logs = [text(e) for e in fake_engine.logs[start:]]
    stderr = p.stderr()
    assert len(logs) > 20 and "DEBUG" in stderr, "the provider logged too little to prove anything"
    texts = {"stderr": stderr, "engine log": "\n".join(logs)}
    texts.update({f"answer {i}": a for i, a in enumerate(answers)})
    for where_, t in texts.items():
        assert not leaks(t), f"canary {leaks(t)} in the {where_}"

"""The Pulumi policy pack (policies/pulumi) on the provider's own outputs: the plugin previews the
creation of accesses (Check, then Create with preview, as `pulumi preview` drives it) against the
emulator, and the pack's stack validations are called with those outputs as pulumi-policy's analyzer
hands them over (unknowns as pulumi's sentinels, behind its unknown-checking proxy). The public
access and the access to the seeded Redis (transit encryption off) are reported against their URNs,
the private access to a cluster with TLS and an AUTH token is not."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

from pulumi.runtime.proto import provider_pb2

from pulumi_harness import TOKEN, configure, start_plugin, to_dict, to_struct, urn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policies"))
from policy_harness import blocking_ids, run_pulumi  # noqa: E402

SECURE = "secure-cache"


def preview_outputs(stub, news: dict) -> tuple[str, dict]:
    name = f"pol-{uuid.uuid4().hex[:8]}"
    checked = stub.Check(provider_pb2.CheckRequest(urn=urn(name), name=name, type=TOKEN, olds=to_struct({}),
                                                   news=to_struct(news)))
    assert not checked.failures, [(f.property, f.reason) for f in checked.failures]
    created = stub.Create(provider_pb2.CreateRequest(urn=urn(name), name=name, type=TOKEN,
                                                     properties=checked.inputs, preview=True, timeout=300))
    return urn(name), to_dict(created.properties)


def test_the_pack_reports_the_blocking_findings_of_previewed_accesses(emulator, fake_engine):
    """A plugin process of its own: the provider reads network facts once per process, and the
    session's plugin must not keep those of this test's world (the emulator is reset between tests)."""
    p = start_plugin([fake_engine.address])
    try:
        configure(p.stub, emulator)
        judge_previews(p.stub, emulator)
    finally:
        assert p.stop() == 0


def judge_previews(stub, emulator) -> None:
    from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
    from pulumi_policy.proxy import unknown_checking_proxy

    seed = emulator.seed
    emulator.elasticache.create_replication_group(
        ReplicationGroupId=SECURE, ReplicationGroupDescription="TLS and AUTH", Engine="valkey",
        CacheNodeType="cache.t3.micro", NumCacheClusters=1, Port=6379, CacheSubnetGroupName=seed["subnet_group"],
        TransitEncryptionEnabled=True, AuthToken="a-long-enough-auth-token")
    accesses = {
        "private": {"cluster": {"replicationGroupId": SECURE}, "allowedCidrBlocks": ["10.20.0.0/16"]},
        "public": {"cluster": {"replicationGroupId": SECURE}, "createClientSecurityGroup": False,
                   "allowedCidrBlocks": ["203.0.113.0/24"], "allowPublicCidrs": True},
        "no-tls": {"cluster": {"replicationGroupId": seed["replication_group_id"]},
                   "allowedCidrBlocks": ["10.20.0.0/16"]},
    }
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    outputs = {k: preview_outputs(stub, news) for k, news in accesses.items()}
    for key, (u, props) in outputs.items():
        reach = props.get("reachability")
        assert isinstance(reach, dict), f"{key}: the preview has no known reachability: {props}"
    resources = [PolicyResource(TOKEN, unknown_checking_proxy(props), u, key, opts, None, None, [], {})
                 for key, (u, props) in outputs.items()]
    reported = {(u, msg.partition(" on ")[0]) for _, u, msg in run_pulumi(resources)}
    expected = {(u, f["id"]) for u, props in outputs.values() for f in props["reachability"]["findings"]
                if f["id"] in blocking_ids()}
    assert reported == expected
    by_key = {key: {i for u2, i in reported if u2 == u} for key, (u, _) in outputs.items()}
    assert by_key["private"] == set(), by_key
    assert "public-source" in by_key["public"], by_key
    assert "no-transit-encryption" in by_key["no-tls"], by_key

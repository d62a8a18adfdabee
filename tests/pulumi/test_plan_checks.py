"""Issue 23 on the Pulumi path: a preview (Create with preview, Diff) refuses what AWS would refuse
at apply, before any write, and `pulumi import` (Read without properties) goes on when
DescribeServerlessCaches is denied. Driven through Pulumi's generated stubs, against the emulator
with AWS's rule quota enforced."""

from __future__ import annotations

import json
import urllib.request

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_harness import TOKEN, configure, plugin_env, start_plugin, to_dict, to_struct, urn

WRITES = ("Create", "Authorize", "Revoke", "Delete", "Modify", "Update")


@pytest.fixture
def fresh(emulator, fake_engine):
    """A plugin of its own (the checks' facts are kept per process), Service Quotas at the emulator."""
    p = start_plugin([fake_engine.address], env={**plugin_env(), "AWS_ENDPOINT_URL_SERVICE_QUOTAS": emulator.url})
    try:
        p.stub.Handshake(provider_pb2.ProviderHandshakeRequest(engine_address=fake_engine.address,
                                                               configure_with_urn=True))
        configure(p.stub, emulator)
        emulator._post("/_emulator/config", {"enforce_rule_quota": True, "require_prefix_lists": True})
        yield p.stub
    finally:
        assert p.stop() == 0, p.stderr()[-3000:]


def calls(emulator) -> list[str]:
    with urllib.request.urlopen(emulator.url + "/_emulator/calls", timeout=10) as r:
        return [c["action"] for c in json.loads(r.read())["calls"]]


def writes(emulator) -> list[str]:
    return [a for a in calls(emulator) if a.startswith(WRITES)]


def base(emulator, **extra) -> dict:
    return {"name": "pchecks", "cluster": {"replicationGroupId": emulator.seed["replication_group_id"]},
            "clientSecurityGroupIds": [emulator.seed["app_security_group_id"]], **extra}


def create(stub, inputs: dict, preview: bool):
    return stub.Create(provider_pb2.CreateRequest(urn=urn("c"), name="c", type=TOKEN, properties=to_struct(inputs),
                                                  preview=preview, timeout=300))


def diff(stub, rid: str, outputs: dict, news: dict, old_inputs: dict):
    return stub.Diff(provider_pb2.DiffRequest(id=rid, urn=urn("c"), name="c", type=TOKEN, olds=to_struct(outputs),
                                              news=to_struct(news), old_inputs=to_struct(old_inputs)))


def cidrs(third: int) -> list[str]:
    return [f"10.{third}.{i}.0/24" for i in range(40)]


def test_a_preview_refuses_rules_over_quota_and_an_update_without_room(fresh, emulator):
    lists = [emulator.ec2.create_managed_prefix_list(PrefixListName=f"forty-{i}", MaxEntries=40, AddressFamily="IPv4")
             ["PrefixList"]["PrefixListId"] for i in range(2)]
    urllib.request.urlopen(urllib.request.Request(emulator.url + "/_emulator/calls/reset", method="POST"), timeout=10)
    with pytest.raises(grpc.RpcError) as e:
        create(fresh, base(emulator, allowedPrefixListIds=lists), preview=True)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    flat = " ".join(e.value.details().split())
    assert "82 IPv4 and 2 IPv6" in flat and "L-0EA8095F" in flat, flat
    assert writes(emulator) == []

    old_inputs = base(emulator, allowedCidrBlocks=cidrs(1))
    made = create(fresh, old_inputs, preview=False)
    outputs = to_dict(made.properties)
    with pytest.raises(grpc.RpcError) as e:
        diff(fresh, made.id, outputs, base(emulator, allowedCidrBlocks=cidrs(2)), old_inputs)
    assert "No room to authorize the new rules before revoking the old ones" in e.value.details()
    news = base(emulator, allowedCidrBlocks=cidrs(2), revokeBeforeAuthorize=True)
    d = diff(fresh, made.id, outputs, news, old_inputs)
    assert d.changes == provider_pb2.DiffResponse.DIFF_SOME and "revokeBeforeAuthorize" in d.diffs
    up = fresh.Update(provider_pb2.UpdateRequest(id=made.id, urn=urn("c"), name="c", type=TOKEN,
                                                 olds=to_struct(outputs), news=to_struct(news),
                                                 old_inputs=to_struct(old_inputs), timeout=300))
    rules = to_dict(up.properties)["ingressRuleIds"]
    assert len(rules) == 42 and "10.2.0.0/24" in rules and "10.1.0.0/24" not in rules
    fresh.Delete(provider_pb2.DeleteRequest(id=made.id, urn=urn("c"), name="c", type=TOKEN,
                                            properties=up.properties, old_inputs=to_struct(news), timeout=300))


def test_pulumi_import_goes_on_when_serverless_caches_cannot_be_listed(fresh, emulator, fake_engine):
    s = emulator.seed
    cg = emulator.ec2.create_security_group(GroupName="cache-sg", Description="cache", VpcId=s["vpc_id"])["GroupId"]
    emulator.ec2.authorize_security_group_ingress(GroupId=cg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 11211, "ToPort": 11211,
        "UserIdGroupPairs": [{"GroupId": s["app_security_group_id"]}]}])
    emulator.elasticache.modify_cache_cluster(CacheClusterId=s["cache_cluster_id"], ApplyImmediately=True,
                                              SecurityGroupIds=[s["default_security_group_id"], cg])
    emulator.fault(service="elasticache", action="DescribeServerlessCaches", code="AccessDenied", status=403,
                   count=50, message="User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: "
                                     "elasticache:DescribeServerlessCaches")
    r = fresh.Read(provider_pb2.ReadRequest(id=cg, urn=urn("c"), name="c", type=TOKEN))
    inputs = to_dict(r.inputs)
    assert inputs["cluster"] == {"cacheClusterId": s["cache_cluster_id"]} and inputs["attachToCluster"] is True
    # The warning reaches the user as a Log RPC warning (severity 2) on the imported resource.
    hits = fake_engine.wait_for(lambda e: e.urn == urn("c") and e.severity == 2
                                and "Some clusters were not searched" in e.message
                                and "elasticache:DescribeServerlessCaches" in e.message)
    assert hits, [(e.severity, e.urn, e.message) for e in fake_engine.logs][-10:]
    emulator.clear_faults()

"""`reachability` (issue 24) through Pulumi's generated stubs on the emulator: a preview shows the
known part (port, posture, the declared sources and their findings, unknown ids), Create and Read
give the whole object in camelCase (the convention of every output), and the invoke
`elasticache:index:getReachability` reads a cluster whose groups this provider did not make. No
credential reaches the outputs or the plugin's log."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
from pulumi.runtime.proto import provider_pb2

from pulumi_harness import TOKEN, UNKNOWN, to_dict, to_struct, urn

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "203.0.113.0/24"
HAND = "10.42.0.0/16"


def camel(s: str) -> str:
    head, *rest = s.split("_")
    return head + "".join(p.title() for p in rest)


def snake(v):
    """Pulumi's camelCase object back in the JSON Schema's snake_case."""
    if isinstance(v, dict):
        return {"".join("_" + c.lower() if c.isupper() else c for c in k): snake(x) for k, x in v.items()}
    if isinstance(v, list):
        return [snake(x) for x in v]
    return v


def world(emu) -> dict:
    ec2, w = emu.ec2, emu.seed
    app2 = ec2.create_security_group(GroupName="app2", Description="two instances", VpcId=w["vpc_id"])["GroupId"]
    for subnet in w["subnet_ids"]:
        ec2.create_network_interface(SubnetId=subnet, Groups=[app2])
    pl = ec2.create_managed_prefix_list(PrefixListName="office", MaxEntries=5, AddressFamily="IPv4",
                                        Entries=[{"Cidr": "10.70.0.0/16"}])["PrefixList"]["PrefixListId"]
    return {"app2": app2, "pl": pl}


def news(w: dict, m: dict) -> dict:
    return {"name": f"reach-{uuid.uuid4().hex[:6]}", "cluster": {"replicationGroupId": w["replication_group_id"]},
            "clientSecurityGroupIds": [m["app2"]], "allowedCidrBlocks": [PUBLIC], "allowPublicCidrs": True,
            "allowedPrefixListIds": [m["pl"]]}


def checked(stub, name, inputs):
    r = stub.Check(provider_pb2.CheckRequest(urn=urn(name), name=name, type=TOKEN, olds=to_struct({}),
                                             news=to_struct(inputs)))
    assert not r.failures, [(f.property, f.reason) for f in r.failures]
    return to_dict(r.inputs)


def ids(findings: list[dict]) -> list[tuple]:
    return [(f["id"], f["subject"]) for f in findings]


def test_preview_create_and_read_give_the_known_part_then_the_whole_object(stub, emulator, plugin):
    w = emulator.seed
    m = world(emulator)
    name = "reach"
    inputs = checked(stub, name, news(w, m))
    pre = to_dict(stub.Create(provider_pb2.CreateRequest(urn=urn(name), name=name, type=TOKEN,
                                                        properties=to_struct(inputs), preview=True)).properties)
    r = pre["reachability"]
    assert (r["schemaVersion"], r["port"]) == (1, 6379)
    assert r["cluster"] == {"id": "demo-redis", "kind": "replication_group", "engine": "redis",
                            "transitEncryption": False, "authentication": "none"}
    assert ids(r["findings"]) == [("no-authentication", "demo-redis"), ("no-transit-encryption", "demo-redis"),
                                  ("public-source", PUBLIC)]
    shown = [(s["kind"], s["reference"], s["ruleId"]) for s in r["sources"]]
    assert shown == [("security_group", UNKNOWN, UNKNOWN), ("cidr", PUBLIC, UNKNOWN),
                     ("prefix_list", m["pl"], UNKNOWN), ("security_group", m["app2"], UNKNOWN)], shown

    made = stub.Create(provider_pb2.CreateRequest(urn=urn(name), name=name, type=TOKEN,
                                                  properties=to_struct(inputs), timeout=300))
    out = to_dict(made.properties)
    rules = out["ingressRuleIds"]
    assert [s["ruleId"] for s in out["reachability"]["sources"]] == [
        rules[out["clientSecurityGroupId"]], rules[PUBLIC], rules[m["pl"]], rules[m["app2"]]]
    hand = emulator.ec2.authorize_security_group_ingress(
        GroupId=made.id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6380, "IpRanges": [{"CidrIp": HAND}]}],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    read = stub.Read(provider_pb2.ReadRequest(id=made.id, urn=urn(name), name=name, type=TOKEN,
                                              properties=to_struct(out), inputs=to_struct(inputs)))
    got = to_dict(read.properties)["reachability"]
    schema = json.loads((ROOT / "sdk-schemas" / "jsonschema" / "reachability.schema.json").read_text())
    jsonschema.validate(snake(got), schema)
    by_ref = {s["reference"]: s for s in got["sources"]}
    assert by_ref[m["app2"]]["networkInterfaces"] == 2 and by_ref[m["app2"]]["path"] == "same_vpc"
    assert by_ref[out["clientSecurityGroupId"]]["networkInterfaces"] == 0
    assert by_ref[m["pl"]]["entries"] == ["10.70.0.0/16"] and by_ref[m["pl"]]["public"] is False
    assert by_ref[PUBLIC]["public"] is True and by_ref[PUBLIC]["path"] == "unknown"
    assert {k: by_ref[HAND][k] for k in ("managed", "ruleId", "fromPort", "toPort", "onGroup", "path")} == {
        "managed": False, "ruleId": hand, "fromPort": 6379, "toPort": 6380, "onGroup": made.id, "path": "same_vpc"}
    assert ids(got["findings"]) == [("no-authentication", "demo-redis"), ("no-transit-encryption", "demo-redis"),
                                    ("public-source", PUBLIC), ("wide-port-range", HAND)]
    stub.Delete(provider_pb2.DeleteRequest(id=made.id, urn=urn(name), name=name, type=TOKEN,
                                           properties=read.properties, old_inputs=to_struct(inputs), timeout=300))
    log = plugin.stderr()
    assert "testing" not in json.dumps(got) and "aws_secret_access_key" not in log.lower()


def test_invoke_get_reachability_on_a_hand_made_setup(stub, emulator):
    w = emulator.seed
    legacy = emulator.ec2.create_security_group(GroupName="legacy-cache", Description="by hand",
                                                VpcId=w["vpc_id"])["GroupId"]
    emulator.ec2.authorize_security_group_ingress(GroupId=legacy, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
         "UserIdGroupPairs": [{"GroupId": w["app_security_group_id"]}]}])
    emulator.elasticache.modify_replication_group(ReplicationGroupId=w["replication_group_id"], ApplyImmediately=True,
                                                  SecurityGroupIds=[w["default_security_group_id"], legacy])
    resp = stub.Invoke(provider_pb2.InvokeRequest(tok="elasticache:index:getReachability",
                                                  args=to_struct({"replicationGroupId": w["replication_group_id"]})))
    assert not resp.failures, [(f.property, f.reason) for f in resp.failures]
    r = to_dict(resp.__getattribute__("return"))["reachability"]
    assert [(s["kind"], s["reference"], s["onGroup"], s["managed"]) for s in r["sources"]] == [
        ("security_group", w["app_security_group_id"], legacy, False)]
    assert ids(r["findings"]) == [("no-authentication", "demo-redis"), ("no-transit-encryption", "demo-redis")]
    bad = stub.Invoke(provider_pb2.InvokeRequest(tok="elasticache:index:getReachability", args=to_struct({})))
    assert bad.failures and "exactly one" in bad.failures[0].reason

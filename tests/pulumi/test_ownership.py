"""Issue 22, through Pulumi's gRPC stubs: Pulumi's recovery of a create it lost track of (a pending
create, brought back with `pulumi refresh --import-pending-creates` or `pulumi import`) is a Read by
id; the Read ends the creation lease the groups still carry, because a state records them now:
nobody else may take them over or sweep them afterwards. An import of a hand-made setup treats its
source group as an existing client group."""

from __future__ import annotations

import time

from pulumi_harness import to_dict
from test_provider import read, unique

CREATING, CREATED = "elasticache-access:creating", "elasticache-access:created"


def made_by_an_interrupted_create(ec2, vpc: str, name: str) -> tuple[str, str]:
    """The two groups of a create whose provider was killed: the full proof, an expired lease."""
    def group(role: str, extra: list[dict]) -> str:
        tags = [{"Key": CREATING, "Value": f"v2:dead0000:{int(time.time()) - 600}"},
                {"Key": "elasticache-access:role", "Value": role},
                {"Key": "elasticache-access:name", "Value": name},
                {"Key": "elasticache-access:origin", "Value": "dead0000"}, *extra]
        return ec2.create_security_group(
            GroupName=f"{name}-{role}", Description=f"ElastiCache access {name}: {role}", VpcId=vpc,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}])["GroupId"]
    cg = group("cluster", [])
    client = group("clients", [{"Key": "elasticache-access:cluster-group", "Value": cg}])
    return cg, client


def tags(ec2, gid: str) -> dict[str, str]:
    g = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    return {t["Key"]: t["Value"] for t in g.get("Tags", [])}


def test_the_read_that_recovers_a_pending_create_ends_its_lease(stub, emulator):
    ec2, vpc = emulator.ec2, emulator.seed["vpc_id"]
    name = unique("pending")
    cg, client = made_by_an_interrupted_create(ec2, vpc, name)
    inputs = {"vpcId": vpc, "name": name}
    r = read(stub, name, cg, inputs=inputs)
    assert r.id == cg
    assert to_dict(r.properties)["clientSecurityGroupId"] == client
    for gid in (cg, client):
        t = tags(ec2, gid)
        assert CREATING not in t and CREATED in t, (gid, t)


def test_import_of_a_hand_built_access_allows_its_source_group_as_an_existing_one(stub, emulator):
    ec2, vpc = emulator.ec2, emulator.seed["vpc_id"]
    name = unique("byhand")
    cache_sg = ec2.create_security_group(GroupName=f"{name}-cache", Description="cache", VpcId=vpc)["GroupId"]
    web_sg = ec2.create_security_group(GroupName=f"{name}-web", Description="web servers", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=cache_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "UserIdGroupPairs": [{"GroupId": web_sg}]}])
    r = read(stub, name, cache_sg)
    outputs, inputs = to_dict(r.properties), to_dict(r.inputs)
    assert outputs.get("clientSecurityGroupId") is None, outputs
    assert inputs["createClientSecurityGroup"] is False and inputs["clientSecurityGroupIds"] == [web_sg], inputs

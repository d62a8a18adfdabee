"""`pulumi import` of an access: the engine calls Read with the id alone (no properties, no inputs),
records the inputs it answers, Checks them and Diffs them against the outputs, and writes a program
whose inputs are exactly those. Each must then Check without failures and Diff to DIFF_NONE, for an
access built by hand as AWS's guide for reaching a cache from EC2 does it (a group on the cache that
admits, on the cache's port, a second group the clients carry: an existing client group of the
access, never its own) and for one the provider made."""

from __future__ import annotations

import pytest

from pulumi_harness import to_dict
from test_provider import Diff, accesses, check, diff, read, unique  # noqa: F401 - accesses is a fixture


def import_round_trip(stub, name: str, rid: str, access_id: str | None = None) -> tuple[dict, dict]:
    """What `pulumi import` then `pulumi up` with the generated program do; returns (outputs, inputs).
    The engine records the id Read answers (`access_id`, the import id by default)."""
    access_id = access_id or rid
    r = read(stub, name, rid)
    assert r.id == access_id
    outputs, inputs = to_dict(r.properties), to_dict(r.inputs)
    assert inputs, "an import must answer inputs"
    # The Go engine marshals the missing properties and inputs as empty Structs, not absent ones.
    again = read(stub, name, rid, outputs={}, inputs={})
    assert (again.id, to_dict(again.properties), to_dict(again.inputs)) == (access_id, outputs, inputs)
    rid = access_id
    # The engine's import step: Check(olds = news = the read inputs), then Diff against the outputs.
    # The program's first `pulumi up`: Check(olds = the recorded inputs, news = the program's,
    # which are the same), then Diff. And a fresh Check with no olds (a stack whose state was lost).
    for olds in (inputs, {}):
        resp = check(stub, name, inputs, olds)
        assert not resp.failures, [(f.property, f.reason) for f in resp.failures]
        news = to_dict(resp.inputs)
        d = diff(stub, name, rid, outputs, news, inputs)
        assert d.changes == Diff.DIFF_NONE, (olds is inputs, list(d.diffs), dict(d.detailedDiff), news, inputs)
        assert not d.replaces and not d.diffs and not d.detailedDiff
    return outputs, inputs


def test_import_of_a_hand_built_access_diffs_to_nothing(stub, emulator):
    seed, ec2 = emulator.seed, emulator.ec2
    name = unique("byhand")
    vpc = seed["vpc_id"]
    cache_sg = ec2.create_security_group(GroupName=f"{name}-cache", Description="cache access",
                                         VpcId=vpc)["GroupId"]
    client_sg = ec2.create_security_group(GroupName=f"{name}-ec2", Description="cache clients",
                                          VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=cache_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
        "UserIdGroupPairs": [{"GroupId": client_sg}]}])
    try:
        outputs, inputs = import_round_trip(stub, name, cache_sg)
        assert inputs["vpcId"] == vpc
        assert inputs["port"] == 6379
        assert outputs["clusterSecurityGroupId"] == cache_sg
        # the clients' group is an existing one, never the access's own (issue 22)
        assert outputs.get("clientSecurityGroupId") is None
        assert inputs["clientSecurityGroupIds"] == [client_sg] and inputs["createClientSecurityGroup"] is False
    finally:
        ec2.revoke_security_group_ingress(GroupId=cache_sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
            "UserIdGroupPairs": [{"GroupId": client_sg}]}])
        ec2.delete_security_group(GroupId=cache_sg)
        ec2.delete_security_group(GroupId=client_sg)


@pytest.mark.parametrize("claim", [False, True], ids=["existing-client-group", "claimed-client-group"])
def test_import_of_a_pulumi_aws_made_setup_diffs_to_nothing(stub, emulator, claim):
    """docs/guides/migrate.md, Pulumi: a setup pulumi-aws made (an aws.ec2.SecurityGroup for the cache
    and one for its clients, auto-named as pulumi-aws names them: the logical name, a dash and seven
    hex characters; an aws.vpc.SecurityGroupIngressRule between them, with a description) is imported
    with `pulumi import elasticache:index:Access cache <cache sg>`: its program plans nothing, the
    rule keeps its id, and the clients' group is an existing one; imported as `<cache sg>,<clients
    sg>` it is the access's own (marked with the access's tags)."""
    ec2, vpc = emulator.ec2, emulator.seed["vpc_id"]
    suffix = unique("x")[-7:]
    cache_sg = ec2.create_security_group(GroupName=f"cache-{suffix}", Description="Managed by Pulumi",
                                         VpcId=vpc)["GroupId"]
    clients_sg = ec2.create_security_group(GroupName=f"clients-{suffix}", Description="Managed by Pulumi",
                                           VpcId=vpc)["GroupId"]
    rule = ec2.authorize_security_group_ingress(GroupId=cache_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
        "UserIdGroupPairs": [{"GroupId": clients_sg, "Description": "clients to the cache"}]}])
    rule_id = rule["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    rid = f"{cache_sg},{clients_sg}" if claim else cache_sg
    outputs, inputs = import_round_trip(stub, "cache", rid, access_id=cache_sg)
    assert (inputs["name"], inputs["description"], inputs["port"]) == \
        (f"cache-{suffix}", "clients to the cache", 6379)
    assert outputs["ingressRuleIds"] == {clients_sg: rule_id}
    assert outputs.get("clientSecurityGroupId") == (clients_sg if claim else None)
    assert inputs["createClientSecurityGroup"] is claim
    assert inputs.get("clientSecurityGroupIds", []) == ([] if claim else [clients_sg])
    [clients] = ec2.describe_security_groups(GroupIds=[clients_sg])["SecurityGroups"]
    tags = {t["Key"]: t["Value"] for t in clients.get("Tags", [])}
    assert (tags.get("elasticache-access:cluster-group") == cache_sg) is claim, tags


@pytest.mark.parametrize("shape", ["cidr-and-groups", "attached-to-a-replication-group"])
def test_import_of_an_access_the_provider_made_diffs_to_nothing(stub, emulator, accesses, shape):
    seed = emulator.seed
    news = {"vpcId": seed["vpc_id"], "description": "to import", "allowedCidrBlocks": ["10.42.7.0/24"],
            "clientSecurityGroupIds": [seed["app_security_group_id"]], "port": 6390,
            "tags": {"team": "payments"}}
    if shape == "attached-to-a-replication-group":
        news = {"vpcId": seed["vpc_id"], "attachToCluster": True,
                "cluster": {"replicationGroupId": seed["replication_group_id"]}}
    a = accesses(news)
    outputs, inputs = import_round_trip(stub, a.name, a.id)
    assert outputs["ingressRuleIds"] == a.outputs["ingressRuleIds"]
    for key in news:
        assert inputs.get(key) == a.inputs[key], (key, inputs, a.inputs)

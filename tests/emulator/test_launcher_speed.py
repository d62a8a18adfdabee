"""The speed patches (moto_patches_speed.py) give moto's own answers: every tag lookup and every
rule filter of a small Region is compared, fast path against moto's function, in-process."""

from __future__ import annotations

import boto3
import pytest

import moto_patches_speed as speed

moto = pytest.importorskip("moto")


@pytest.fixture()
def region():
    speed.patch_speed()
    with moto.mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ids = []
        for i in range(12):
            tags = [{"Key": "elasticache-access:role", "Value": "cluster"}, {"Key": "n", "Value": str(i)}]
            gid = ec2.create_security_group(
                GroupName=f"g{i}", Description="d", VpcId=vpc,
                TagSpecifications=[{"ResourceType": "security-group", "Tags": tags[: 1 + i % 2]}])["GroupId"]
            perms = [{"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "IpRanges": [{"CidrIp": f"10.{i}.0.0/24"}]}]
            if ids:
                perms[0]["UserIdGroupPairs"] = [{"GroupId": ids[-1]}]
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms)
            ids.append(gid)
        from moto.ec2.models import ec2_backends
        backend = ec2_backends["123456789012"]["us-east-1"]
        yield ec2, backend, ids


def test_tag_lookups_match_moto_for_every_group(region):
    _, backend, ids = region
    groups = [g for by_vpc in backend.groups.values() for g in by_vpc.values()]
    assert {g.id for g in groups} >= set(ids)
    for g in groups:
        assert g.get_tags() == speed.ORIGINAL["get_tags"](g), g.id
    tagged = [g for g in groups if g.id in ids]
    assert all(g.get_tags() for g in tagged)
    assert sum(len(g.get_tags()) for g in tagged) == 18  # 1 or 2 tags per group


@pytest.mark.parametrize("pick", ["one", "some", "none", "glob", "regex-like", "rule-ids"])
def test_rule_filters_match_moto(region, pick):
    ec2, backend, ids = region
    rules = [r for by_vpc in backend.groups.values() for g in by_vpc.values()
             for r in [*g.ingress_rules, *g.egress_rules]]
    values = {"one": [ids[3]], "some": ids[2:9], "none": ["sg-00000000"], "glob": ["sg-*"],
              "regex-like": [ids[4][:-2] + ".."], "rule-ids": [rules[0].id, rules[5].id]}[pick]
    fast, slow = ("filter_id", speed.ORIGINAL["filter_id"]) if pick == "rule-ids" else \
        ("filter_group_id", speed.ORIGINAL["filter_group_id"])
    got = [getattr(r, fast)(values) for r in rules]
    assert got == [slow(r, values) for r in rules]
    assert any(got) == (pick != "none")
    api = ec2.describe_security_group_rules(
        Filters=[{"Name": "security-group-rule-id" if pick == "rule-ids" else "group-id", "Values": values}]
    )["SecurityGroupRules"] if pick not in ("glob", "regex-like") else None
    if api is not None:
        assert len(api) == sum(got)

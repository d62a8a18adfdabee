"""Tests of the emulator launcher, part 1: the process, and the EC2 behaviours the moto patches add
(duplicates, rule ids and descriptions, revokes, filters, dependency violations). Each test fails
against unpatched moto (``EMULATOR_LAUNCHER_ARGS=--vanilla python -m pytest tests/emulator`` shows
which)."""

from __future__ import annotations

import json
import re
import signal

import pytest
from botocore.exceptions import ClientError

from harness import start_emulator
from launcher_support import (  # noqa: F401  (fixtures: emulator, ec2, ec, net)
    ACCOUNT, PEER_ACCOUNT, ec, ec2, emulator, error_code, http, ingress_rules, net, pair,
)


# ----------------------------------------------------------------------------------------
# process behaviour
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_prints_one_url_line_and_exits_zero_on_signal(sig):
    emu = start_emulator()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.url)
        assert json.loads(http(emu, "GET", "/_emulator/health")[1])["ok"] is True
    finally:
        rc = emu.stop(sig)
    assert rc == 0, emu.stderr()
    assert emu.proc.stdout.read() == ""  # nothing after the one EMULATOR_URL line


def test_ec2_and_elasticache_share_the_endpoint(ec2, ec):
    assert ec2.describe_vpcs()["Vpcs"]
    assert "CacheClusters" in ec.describe_cache_clusters()


# ----------------------------------------------------------------------------------------
# a. InvalidPermission.Duplicate, atomic authorize
# ----------------------------------------------------------------------------------------
def test_duplicate_ingress_rejected_for_every_source_type(ec2, net):
    sg, src = net["cluster_sg"], net["client_sg"]
    perms = [
        pair(src, "first"),
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]},
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/48"}]},
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "PrefixListIds": [{"PrefixListId": "pl-0123abcd"}]},
    ]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=perms)
    before = ingress_rules(ec2, sg)
    assert len(before) == 4
    again = [pair(src, "another description"),
             {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
              "IpRanges": [{"CidrIp": "10.1.0.0/16", "Description": "x"}]},
             {"IpProtocol": "6", "FromPort": 6379, "ToPort": 6379, "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/48"}]},
             {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
              "PrefixListIds": [{"PrefixListId": "pl-0123abcd", "Description": "y"}]}]
    for perm in again:
        with pytest.raises(ClientError) as exc:
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[perm])
        assert error_code(exc) == "InvalidPermission.Duplicate"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(ingress_rules(ec2, sg)) == 4
    # the first rule kept its description
    group_rule = [r for r in ingress_rules(ec2, sg) if r.get("ReferencedGroupInfo")][0]
    assert group_rule["Description"] == "first"


def test_duplicate_anywhere_in_request_adds_nothing(ec2, net):
    sg, src = net["cluster_sg"], net["client_sg"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(src)])
    with pytest.raises(ClientError) as exc:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 11211, "ToPort": 11211, "IpRanges": [{"CidrIp": "10.9.0.0/16"}]},
            pair(src, "dup"),
        ])
    assert error_code(exc) == "InvalidPermission.Duplicate"
    assert "already exists" in exc.value.response["Error"]["Message"]
    rules = ingress_rules(ec2, sg)
    assert len(rules) == 1 and rules[0]["FromPort"] == 6379  # the new 11211 rule was not added
    # the same permission twice in one request is rejected too
    with pytest.raises(ClientError) as exc:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "10.2.0.0/16"},
                                                                           {"CidrIp": "10.2.0.0/16"}]}])
    assert error_code(exc) == "InvalidPermission.Duplicate"
    assert len(ingress_rules(ec2, sg)) == 1


def test_failing_authorize_leaves_group_unchanged(ec2, net):
    sg, src = net["cluster_sg"], net["client_sg"]
    with pytest.raises(ClientError) as exc:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            pair(src), pair("sg-0ffffffffffffffff", port=11211)])
    assert error_code(exc) == "InvalidGroup.NotFound"
    assert ingress_rules(ec2, sg) == []


def test_authorize_reports_all_rules_and_describe_rules_fields(ec2, net):
    sg, src = net["cluster_sg"], net["client_sg"]
    peer_sg = "sg-0aaaabbbbccccdddd"
    resp = ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
             "UserIdGroupPairs": [{"GroupId": src, "Description": "app"},
                                  {"GroupId": peer_sg, "UserId": PEER_ACCOUNT, "Description": "peer"}],
             "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "v4"}]},
            {"IpProtocol": "tcp", "FromPort": 6380, "ToPort": 6380,
             "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32", "Description": "v6"}],
             "PrefixListIds": [{"PrefixListId": "pl-0123abcd", "Description": "pl"}]},
        ],
        TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "owner", "Value": "t"}]}],
    )
    added = resp["SecurityGroupRules"]
    assert len(added) == 5  # every rule of every permission, not just the last permission's
    assert all(r["SecurityGroupRuleId"].startswith("sgr-") for r in added)
    assert all(r["Tags"] == [{"Key": "owner", "Value": "t"}] for r in added)

    by_id = {r["SecurityGroupRuleId"]: r for r in ingress_rules(ec2, sg)}
    assert set(by_id) == {r["SecurityGroupRuleId"] for r in added}
    for rule in by_id.values():
        assert rule["GroupId"] == sg and rule["GroupOwnerId"] == ACCOUNT and rule["IsEgress"] is False
        assert rule["IpProtocol"] == "tcp" and rule["Tags"] == [{"Key": "owner", "Value": "t"}]
    descs = {(r.get("CidrIpv4") or r.get("CidrIpv6") or r.get("PrefixListId")
              or (r["ReferencedGroupInfo"]["GroupId"], r["ReferencedGroupInfo"]["UserId"])): r["Description"]
             for r in by_id.values()}
    assert descs == {(src, ACCOUNT): "app", (peer_sg, PEER_ACCOUNT): "peer", "10.0.0.0/8": "v4",
                     "2001:db8::/32": "v6", "pl-0123abcd": "pl"}
    one = next(iter(by_id))
    assert [r["SecurityGroupRuleId"] for r in
            ec2.describe_security_group_rules(SecurityGroupRuleIds=[one])["SecurityGroupRules"]] == [one]

    perms = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]
    p6380 = [p for p in perms if p["FromPort"] == 6380][0]
    assert p6380["PrefixListIds"] == [{"PrefixListId": "pl-0123abcd", "Description": "pl"}]
    assert p6380["Ipv6Ranges"] == [{"CidrIpv6": "2001:db8::/32", "Description": "v6"}]


def test_rule_description_updates(ec2, net):
    sg, src = net["cluster_sg"], net["client_sg"]
    rule = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(src, "old")])["SecurityGroupRules"][0]
    rid = rule["SecurityGroupRuleId"]

    ec2.update_security_group_rule_descriptions_ingress(GroupId=sg, IpPermissions=[pair(src, "via update")])
    got = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]
    assert got["Description"] == "via update"

    # by rule id: only the description changes; omitting it removes it
    ec2.update_security_group_rule_descriptions_ingress(GroupId=sg, SecurityGroupRuleDescriptions=[
        {"SecurityGroupRuleId": rid, "Description": "by id"}])
    got = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]
    assert got["Description"] == "by id" and got["ReferencedGroupInfo"]["GroupId"] == src
    pairs = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"][0]["UserIdGroupPairs"]
    assert pairs == [{"Description": "by id", "GroupId": src, "UserId": ACCOUNT}]
    ec2.update_security_group_rule_descriptions_ingress(GroupId=sg, SecurityGroupRuleDescriptions=[
        {"SecurityGroupRuleId": rid}])
    assert "Description" not in ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]
    with pytest.raises(ClientError) as e:
        ec2.update_security_group_rule_descriptions_ingress(GroupId=sg, SecurityGroupRuleDescriptions=[
            {"SecurityGroupRuleId": rid, "Description": "x"},
            {"SecurityGroupRuleId": "sgr-0123456789abcdef0", "Description": "x"}])
    assert e.value.response["Error"]["Code"] == "InvalidSecurityGroupRuleId.NotFound"
    assert "Description" not in ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]
    with pytest.raises(ClientError) as e:
        ec2.update_security_group_rule_descriptions_ingress(
            GroupId=sg, IpPermissions=[pair(src, "both")],
            SecurityGroupRuleDescriptions=[{"SecurityGroupRuleId": rid, "Description": "x"}])
    assert e.value.response["Error"]["Code"] == "InvalidParameterCombination"

    # prefix lists get descriptions updated; omitting Description removes it
    pl = {"IpProtocol": "tcp", "FromPort": 11211, "ToPort": 11211}
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        dict(pl, PrefixListIds=[{"PrefixListId": "pl-0123abcd", "Description": "a"}],
             IpRanges=[{"CidrIp": "10.3.0.0/16", "Description": "b"}])])
    ec2.update_security_group_rule_descriptions_ingress(GroupId=sg, IpPermissions=[
        dict(pl, PrefixListIds=[{"PrefixListId": "pl-0123abcd", "Description": "pl new"}],
             IpRanges=[{"CidrIp": "10.3.0.0/16"}])])
    descs = {(r.get("PrefixListId") or r.get("CidrIpv4")): r.get("Description")
             for r in ingress_rules(ec2, sg) if r["FromPort"] == 11211}
    assert descs == {"pl-0123abcd": "pl new", "10.3.0.0/16": None}


def test_revoke_by_rule_id_and_tags_on_rules_and_groups(ec2, net):
    sg, src = net["cluster_sg"], net["client_sg"]
    rid = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(src)])["SecurityGroupRules"][0][
        "SecurityGroupRuleId"]
    ec2.create_tags(Resources=[rid, sg], Tags=[{"Key": "k", "Value": "v"}])
    assert ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]["Tags"] == [
        {"Key": "k", "Value": "v"}]
    ec2.delete_tags(Resources=[rid], Tags=[{"Key": "k"}])
    assert ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]["Tags"] == []
    ec2.revoke_security_group_ingress(GroupId=sg, SecurityGroupRuleIds=[rid])
    assert ingress_rules(ec2, sg) == []


def test_describe_security_groups_filters_and_not_found(ec2, net):
    vpc, src = net["vpc"], net["client_sg"]
    tagged = ec2.create_security_group(
        GroupName=f"tagged-{net['n']}", Description="t", VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "team", "Value": f"t{net['n']}"}]}])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=tagged, IpPermissions=[pair(src)])

    def ids(filters):
        return {g["GroupId"] for g in ec2.describe_security_groups(Filters=filters)["SecurityGroups"]}

    assert {tagged, src, net["cluster_sg"]} <= ids([{"Name": "vpc-id", "Values": [vpc]}])
    assert ids([{"Name": "group-name", "Values": [f"tagged-{net['n']}"]}]) == {tagged}
    assert ids([{"Name": "tag:team", "Values": [f"t{net['n']}"]}]) == {tagged}
    assert ids([{"Name": "ip-permission.group-id", "Values": [src]}]) == {tagged}
    assert ec2.describe_security_groups(GroupIds=[tagged])["SecurityGroups"][0]["Tags"] == [
        {"Key": "team", "Value": f"t{net['n']}"}]
    with pytest.raises(ClientError) as exc:
        ec2.describe_security_groups(GroupIds=[tagged, "sg-0123456789abcdef0"])
    assert error_code(exc) == "InvalidGroup.NotFound"
    assert exc.value.response["Error"]["Message"] == "The security group 'sg-0123456789abcdef0' does not exist"


# ----------------------------------------------------------------------------------------
# b. DeleteSecurityGroup dependencies
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("direction", ["ingress", "egress"])
def test_delete_referenced_group_is_dependency_violation(ec2, net, direction):
    sg, src = net["cluster_sg"], net["client_sg"]
    authorize = getattr(ec2, f"authorize_security_group_{direction}")
    revoke = getattr(ec2, f"revoke_security_group_{direction}")
    rid = authorize(GroupId=sg, IpPermissions=[pair(src)])["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=src)
    assert error_code(exc) == "DependencyViolation"
    assert exc.value.response["Error"]["Message"] == f"resource {src} has a dependent object"
    assert ec2.describe_security_groups(GroupIds=[src])["SecurityGroups"]  # still there
    revoke(GroupId=sg, SecurityGroupRuleIds=[rid])
    ec2.delete_security_group(GroupId=src)
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=src)
    assert error_code(exc) == "InvalidGroup.NotFound"


def test_self_reference_does_not_block_delete_but_default_group_cannot_go(ec2, net):
    sg = net["cluster_sg"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(sg)])
    ec2.delete_security_group(GroupId=sg)
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [net["vpc"]]},
                                                    {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=default[0]["GroupId"])
    assert error_code(exc) == "CannotDelete"


def test_delete_group_held_by_caches_and_enis(ec2, ec, net):
    sg, other = net["cluster_sg"], net["client_sg"]
    ec.create_cache_cluster(CacheClusterId=f"mc-{net['n']}", Engine="memcached", CacheNodeType="cache.t3.micro",
                            NumCacheNodes=1, CacheSubnetGroupName=net["subnet_group"], SecurityGroupIds=[sg])
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=sg)
    assert error_code(exc) == "DependencyViolation"
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [sg]}])["NetworkInterfaces"]
    assert len(enis) == 1 and enis[0]["RequesterManaged"] is True
    assert enis[0]["Description"] == f"ElastiCache mc-{net['n']}"
    ec.modify_cache_cluster(CacheClusterId=f"mc-{net['n']}", SecurityGroupIds=[other], ApplyImmediately=True)
    assert ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [sg]}])["NetworkInterfaces"] == []
    ec2.delete_security_group(GroupId=sg)

    # a plain ENI holds its group too
    third = ec2.create_security_group(GroupName=f"eni-{net['n']}", Description="e", VpcId=net["vpc"])["GroupId"]
    eni = ec2.create_network_interface(SubnetId=net["subnets"][0], Groups=[third])["NetworkInterface"]
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=third)
    assert error_code(exc) == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.delete_security_group(GroupId=third)

    # deleting the cache releases its group
    ec.delete_cache_cluster(CacheClusterId=f"mc-{net['n']}")
    with pytest.raises(ClientError) as exc:
        ec.describe_cache_clusters(CacheClusterId=f"mc-{net['n']}")
    assert error_code(exc) == "CacheClusterNotFound"
    ec2.delete_security_group(GroupId=other)


def test_the_call_log_records_the_group_ids_a_describe_was_filtered_by(emulator, ec2, net):
    """The tests of batched describes (tests/tests/core_emulator/bounds.rs) judge each call by the
    ids it carried: a `group-id` filter is recorded sorted, joined by commas."""
    a = ec2.create_security_group(GroupName="rec-a", Description="a", VpcId=net["vpc"])["GroupId"]
    b = ec2.create_security_group(GroupName="rec-b", Description="b", VpcId=net["vpc"])["GroupId"]
    http(emulator, "POST", "/_emulator/calls/reset")
    ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [b, a]}])
    ec2.describe_security_groups(GroupIds=[a])
    _, raw = http(emulator, "GET", "/_emulator/calls")
    calls = json.loads(raw)["calls"]
    assert [c["action"] for c in calls] == ["DescribeSecurityGroupRules", "DescribeSecurityGroups"], calls
    assert calls[0]["params"]["group-id"] == ",".join(sorted([a, b])), calls
    assert "group-id" not in calls[1].get("params", {}), "GroupIds is no filter"

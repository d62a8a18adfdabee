"""Tests of the emulator launcher: each AWS behaviour the moto patches add, the call log,
fault injection and the seed script.  Each test fails against unpatched moto
(``EMULATOR_LAUNCHER_ARGS=--vanilla python -m pytest tests/emulator`` shows which)."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET

import pytest

# Dummy credentials only; nothing but 127.0.0.1 is contacted.
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_SESSION_TOKEN"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

import emulator_fixture  # noqa: E402  (tests/common)
from harness import SEED, start_emulator  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
PEER_ACCOUNT = "111122223333"
_cidr = itertools.count(100)


# ----------------------------------------------------------------------------------------
# fixtures and helpers
# ----------------------------------------------------------------------------------------
@pytest.fixture
def emulator(emulator_process):
    """The run's one emulator (tests/common/emulator_fixture.py, which checks that it exits 0),
    reset before each test. The tests of starting and stopping start their own."""
    emulator_fixture.reset(emulator_process.url)
    return emulator_process


def client(emulator, service, retries=1):
    return boto3.client(service, endpoint_url=emulator.url, region_name=REGION,
                        config=Config(retries={"total_max_attempts": retries, "mode": "standard"}))


@pytest.fixture
def ec2(emulator):
    return client(emulator, "ec2")


@pytest.fixture
def ec(emulator):
    return client(emulator, "elasticache")


def http(emulator, method, path, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(emulator.url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def control(emulator, method, path, body=None):
    status, raw = http(emulator, method, path, body, {"Content-Type": "application/json"})
    assert status == 200, raw
    return json.loads(raw)


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def net(ec2, ec):
    """A fresh VPC with two subnets, a cache subnet group and two security groups."""
    n = next(_cidr)
    vpc = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n}.{i}.0/24", AvailabilityZone=f"{REGION}{az}")
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    subnet_group = f"sn-{n}"
    ec.create_cache_subnet_group(CacheSubnetGroupName=subnet_group, CacheSubnetGroupDescription="t",
                                 SubnetIds=subnets)
    cluster_sg = ec2.create_security_group(GroupName=f"cluster-{n}", Description="cluster", VpcId=vpc)["GroupId"]
    client_sg = ec2.create_security_group(GroupName=f"client-{n}", Description="client", VpcId=vpc)["GroupId"]
    return {"n": n, "vpc": vpc, "subnets": subnets, "subnet_group": subnet_group,
            "cluster_sg": cluster_sg, "client_sg": client_sg}


def ingress_rules(ec2, group_id):
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
    return [r for r in rules if not r["IsEgress"]]


def pair(group_id, desc=None, port=6379, user_id=None):
    p = {"GroupId": group_id}
    if desc is not None:
        p["Description"] = desc
    if user_id:
        p["UserId"] = user_id
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [p]}


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


# ----------------------------------------------------------------------------------------
# c. ElastiCache security groups and endpoints
# ----------------------------------------------------------------------------------------
def _groups_of(ec, cluster_id):
    cluster = ec.describe_cache_clusters(CacheClusterId=cluster_id)["CacheClusters"][0]
    return [g["SecurityGroupId"] for g in cluster["SecurityGroups"]], cluster


def test_modify_replication_group_security_groups_reach_every_member(ec2, ec, net):
    rg_id = f"rg-{net['n']}"
    rg = ec.create_replication_group(
        ReplicationGroupId=rg_id, ReplicationGroupDescription="t", Engine="redis", CacheNodeType="cache.t3.micro",
        NumCacheClusters=3, Port=6379, CacheSubnetGroupName=net["subnet_group"],
        SecurityGroupIds=[net["cluster_sg"]])["ReplicationGroup"]
    members = rg["MemberClusters"]
    assert members == [f"{rg_id}-001", f"{rg_id}-002", f"{rg_id}-003"]
    for cid in members:
        groups, cluster = _groups_of(ec, cid)
        assert groups == [net["cluster_sg"]]
        assert cluster["ReplicationGroupId"] == rg_id and cluster["CacheSubnetGroupName"] == net["subnet_group"]
        assert cluster["Engine"] == "redis" and cluster["SecurityGroups"][0]["Status"] == "active"

    new_sg = ec2.create_security_group(GroupName=f"new-{net['n']}", Description="n", VpcId=net["vpc"])["GroupId"]
    ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=[new_sg, net["cluster_sg"]],
                                ApplyImmediately=True)
    for cid in members:
        assert _groups_of(ec, cid)[0] == [new_sg, net["cluster_sg"]]
    ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=[new_sg], ApplyImmediately=True)
    all_clusters = ec.describe_cache_clusters()["CacheClusters"]
    assert {c["CacheClusterId"]: [g["SecurityGroupId"] for g in c["SecurityGroups"]]
            for c in all_clusters if c.get("ReplicationGroupId") == rg_id} == {cid: [new_sg] for cid in members}
    eni_groups = ec2.describe_network_interfaces(
        Filters=[{"Name": "group-id", "Values": [new_sg]}])["NetworkInterfaces"]
    assert len(eni_groups) == 3
    ec2.delete_security_group(GroupId=net["cluster_sg"])  # no longer held
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=new_sg)
    assert error_code(exc) == "DependencyViolation"
    not_in_rg = ec.describe_cache_clusters(ShowCacheClustersNotInReplicationGroups=True)["CacheClusters"]
    assert not any(c.get("ReplicationGroupId") == rg_id for c in not_in_rg)

    ec.delete_replication_group(ReplicationGroupId=rg_id)
    with pytest.raises(ClientError) as exc:
        ec.describe_replication_groups(ReplicationGroupId=rg_id)
    assert error_code(exc) == "ReplicationGroupNotFoundFault"
    ec2.delete_security_group(GroupId=new_sg)


def test_replication_group_endpoints(ec, net):
    rg = ec.create_replication_group(
        ReplicationGroupId=f"rgd-{net['n']}", ReplicationGroupDescription="t", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, Port=6380, CacheSubnetGroupName=net["subnet_group"],
        SecurityGroupIds=[net["cluster_sg"]])["ReplicationGroup"]
    described = ec.describe_replication_groups(ReplicationGroupId=f"rgd-{net['n']}")["ReplicationGroups"][0]
    assert described["MemberClusters"] == rg["MemberClusters"] and len(rg["MemberClusters"]) == 2
    primary = described["NodeGroups"][0]["PrimaryEndpoint"]
    assert primary["Port"] == 6380 and primary["Address"]
    cm = ec.create_replication_group(
        ReplicationGroupId=f"rgc-{net['n']}", ReplicationGroupDescription="t", Engine="redis",
        CacheNodeType="cache.t3.micro", NumNodeGroups=2, ReplicasPerNodeGroup=1, ClusterMode="enabled",
        CacheSubnetGroupName=net["subnet_group"], SecurityGroupIds=[net["cluster_sg"]])["ReplicationGroup"]
    assert cm["ConfigurationEndpoint"]["Port"] == 6379 and len(cm["MemberClusters"]) == 4
    for cid in cm["MemberClusters"]:
        assert _groups_of(ec, cid)[0] == [net["cluster_sg"]]
    nodes = ec.describe_cache_clusters(CacheClusterId=rg["MemberClusters"][0],
                                       ShowCacheNodeInfo=True)["CacheClusters"][0]["CacheNodes"]
    assert nodes[0]["Endpoint"]["Port"] == 6380


def test_memcached_cluster_endpoints_and_modify(ec2, ec, net):
    cid = f"mcm-{net['n']}"
    ec.create_cache_cluster(CacheClusterId=cid, Engine="memcached", CacheNodeType="cache.t3.micro",
                            NumCacheNodes=2, CacheSubnetGroupName=net["subnet_group"],
                            SecurityGroupIds=[net["cluster_sg"]])
    groups, cluster = _groups_of(ec, cid)
    assert groups == [net["cluster_sg"]]
    assert cluster["ConfigurationEndpoint"]["Port"] == 11211  # default Memcached port
    assert "CacheNodes" not in cluster
    detailed = ec.describe_cache_clusters(CacheClusterId=cid, ShowCacheNodeInfo=True)["CacheClusters"][0]
    assert [n["Endpoint"]["Port"] for n in detailed["CacheNodes"]] == [11211, 11211]
    ec.modify_cache_cluster(CacheClusterId=cid, SecurityGroupIds=[net["client_sg"]], ApplyImmediately=True)
    assert _groups_of(ec, cid)[0] == [net["client_sg"]]
    with pytest.raises(ClientError) as exc:
        ec.modify_cache_cluster(CacheClusterId="no-such-cluster", SecurityGroupIds=[net["client_sg"]])
    assert error_code(exc) == "CacheClusterNotFound"


def test_unknown_or_foreign_security_group_is_rejected(ec2, ec, net):
    with pytest.raises(ClientError) as exc:
        ec.create_cache_cluster(CacheClusterId=f"bad-{net['n']}", Engine="memcached", CacheNodeType="cache.t3.micro",
                                NumCacheNodes=1, CacheSubnetGroupName=net["subnet_group"],
                                SecurityGroupIds=["sg-0123456789abcdef0"])
    assert error_code(exc) == "InvalidParameterValue"
    other_vpc = ec2.create_vpc(CidrBlock="172.31.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(GroupName=f"foreign-{net['n']}", Description="f", VpcId=other_vpc)["GroupId"]
    ec.create_replication_group(ReplicationGroupId=f"rgv-{net['n']}", ReplicationGroupDescription="t",
                                Engine="redis", CacheNodeType="cache.t3.micro",
                                CacheSubnetGroupName=net["subnet_group"], SecurityGroupIds=[net["cluster_sg"]])
    with pytest.raises(ClientError) as exc:
        ec.modify_replication_group(ReplicationGroupId=f"rgv-{net['n']}", SecurityGroupIds=[foreign],
                                    ApplyImmediately=True)
    assert error_code(exc) == "InvalidParameterValue"
    assert _groups_of(ec, f"rgv-{net['n']}-001")[0] == [net["cluster_sg"]]


def test_serverless_cache_lifecycle(ec2, ec, net):
    name = f"sls-{net['n']}"
    created = ec.create_serverless_cache(ServerlessCacheName=name, Engine="valkey", SubnetIds=net["subnets"],
                                         SecurityGroupIds=[net["cluster_sg"]])["ServerlessCache"]
    assert created["Endpoint"]["Port"] == 6379 and created["Endpoint"]["Address"]
    assert created["SubnetIds"] == net["subnets"] and created["SecurityGroupIds"] == [net["cluster_sg"]]
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=net["cluster_sg"])
    assert error_code(exc) == "DependencyViolation"
    ec.modify_serverless_cache(ServerlessCacheName=name, SecurityGroupIds=[net["client_sg"]])
    got = ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]
    assert got["SecurityGroupIds"] == [net["client_sg"]] and got["Status"] == "available"
    ec2.delete_security_group(GroupId=net["cluster_sg"])
    ec.delete_serverless_cache(ServerlessCacheName=name)
    with pytest.raises(ClientError) as exc:
        ec.describe_serverless_caches(ServerlessCacheName=name)
    assert error_code(exc) == "ServerlessCacheNotFoundFault"
    ec2.delete_security_group(GroupId=net["client_sg"])


# ----------------------------------------------------------------------------------------
# d. call log and fault injection
# ----------------------------------------------------------------------------------------
def test_call_log_records_service_and_action_in_order(emulator, ec2, ec):
    control(emulator, "POST", "/_emulator/calls/reset")
    ec2.describe_security_groups()
    ec.describe_cache_clusters()
    ec2.describe_vpcs()
    key = "AKIDFORTHELOG"
    sts = boto3.client("sts", endpoint_url=emulator.url, region_name=REGION, aws_access_key_id=key,
                       aws_secret_access_key="testing")
    sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="ses", ExternalId="ext")
    assert control(emulator, "GET", "/_emulator/calls") == {"calls": [
        {"service": "ec2", "action": "DescribeSecurityGroups", "access_key": "testing"},
        {"service": "elasticache", "action": "DescribeCacheClusters", "access_key": "testing"},
        {"service": "ec2", "action": "DescribeVpcs", "access_key": "testing"},
        {"service": "sts", "action": "AssumeRole", "access_key": key,
         "params": {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "ses", "ExternalId": "ext"}},
    ]}
    control(emulator, "POST", "/_emulator/calls/reset")
    assert control(emulator, "GET", "/_emulator/calls") == {"calls": []}


def test_fault_injection_after_and_count(emulator, ec2, net):
    sg = net["cluster_sg"]
    control(emulator, "DELETE", "/_emulator/fault")
    control(emulator, "POST", "/_emulator/fault", {"service": "ec2", "action": "AuthorizeSecurityGroupIngress",
                                                   "code": "InternalError", "status": 500, "count": 1, "after": 1})
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(net["client_sg"], port=1)])  # skipped
    ec2.describe_security_groups(GroupIds=[sg])  # other actions are untouched
    with pytest.raises(ClientError) as exc:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(net["client_sg"], port=2)])
    assert error_code(exc) == "InternalError"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[pair(net["client_sg"], port=3)])  # used up
    assert sorted(r["FromPort"] for r in ingress_rules(ec2, sg)) == [1, 3]  # the failed call changed nothing
    assert control(emulator, "GET", "/_emulator/fault") == {"faults": []}

    control(emulator, "POST", "/_emulator/fault", {"service": "ec2", "action": "DeleteSecurityGroup",
                                                   "code": "RequestLimitExceeded", "status": 503, "count": 5})
    assert len(control(emulator, "GET", "/_emulator/fault")["faults"]) == 1
    control(emulator, "DELETE", "/_emulator/fault")
    assert control(emulator, "GET", "/_emulator/fault") == {"faults": []}


def _signed_headers(service):
    return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20240101/{REGION}/{service}/aws4_request, "
                             "SignedHeaders=host, Signature=0"}


def test_fault_error_bodies_have_aws_shapes(emulator, ec):
    control(emulator, "DELETE", "/_emulator/fault")
    control(emulator, "POST", "/_emulator/fault", {"service": "ec2", "action": "DescribeVpcs",
                                                   "code": "RequestLimitExceeded", "status": 503})
    status, body = http(emulator, "POST", "/", b"Action=DescribeVpcs&Version=2016-11-15", _signed_headers("ec2"))
    assert status == 503
    root = ET.fromstring(body)
    assert root.tag == "Response"
    assert root.find("Errors/Error/Code").text == "RequestLimitExceeded"
    assert root.find("Errors/Error/Message").text
    assert root.find("RequestID").text

    control(emulator, "POST", "/_emulator/fault", {"service": "elasticache", "action": "ModifyReplicationGroup",
                                                   "code": "InvalidReplicationGroupState", "status": 400})
    status, body = http(emulator, "POST", "/", b"Action=ModifyReplicationGroup&Version=2015-02-02",
                        _signed_headers("elasticache"))
    assert status == 400
    root = ET.fromstring(body)
    ns = {"e": "http://elasticache.amazonaws.com/doc/2015-02-02/"}
    assert root.tag == "{http://elasticache.amazonaws.com/doc/2015-02-02/}ErrorResponse"
    assert root.find("e:Error/e:Type", ns).text == "Sender"
    assert root.find("e:Error/e:Code", ns).text == "InvalidReplicationGroupState"
    assert root.find("e:RequestId", ns).text

    # botocore parses both shapes into the code
    control(emulator, "POST", "/_emulator/fault", {"service": "elasticache", "action": "DescribeCacheClusters",
                                                   "code": "InternalFailure", "status": 500})
    with pytest.raises(ClientError) as exc:
        ec.describe_cache_clusters()
    assert error_code(exc) == "InternalFailure"
    control(emulator, "DELETE", "/_emulator/fault")
    ec.describe_cache_clusters()


# ----------------------------------------------------------------------------------------
# seed script
# ----------------------------------------------------------------------------------------
def test_seed_creates_world_and_is_idempotent(emulator, ec2, ec):
    def run():
        out = subprocess.run([sys.executable, SEED, "--endpoint", emulator.url, "--region", REGION],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.strip().splitlines()
        assert len(lines) == 1
        return json.loads(lines[0])

    first = run()
    for key in ("vpc_id", "subnet_ids", "subnet_group", "replication_group_id", "cache_cluster_id",
                "app_security_group_id", "endpoint", "region"):
        assert key in first
    assert first["endpoint"] == emulator.url and first["region"] == REGION
    assert first["subnet_group"] == "demo-subnets" and first["replication_group_id"] == "demo-redis"
    assert first["cache_cluster_id"] == "demo-memcached" and len(first["subnet_ids"]) == 2
    assert run() == first  # second run reuses everything

    vpc = ec2.describe_vpcs(VpcIds=[first["vpc_id"]])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.42.0.0/16"
    app = ec2.describe_security_groups(GroupIds=[first["app_security_group_id"]])["SecurityGroups"][0]
    assert app["GroupName"] == "demo-app" and app["VpcId"] == first["vpc_id"]
    rg = ec.describe_replication_groups(ReplicationGroupId="demo-redis")["ReplicationGroups"][0]
    assert len(rg["MemberClusters"]) == 3 and rg["NodeGroups"][0]["PrimaryEndpoint"]["Port"] == 6379
    for cid in rg["MemberClusters"]:
        cluster = ec.describe_cache_clusters(CacheClusterId=cid)["CacheClusters"][0]
        assert cluster["CacheSubnetGroupName"] == "demo-subnets"
        assert [g["SecurityGroupId"] for g in cluster["SecurityGroups"]] == [first["default_security_group_id"]]
    mc = ec.describe_cache_clusters(CacheClusterId="demo-memcached", ShowCacheNodeInfo=True)["CacheClusters"][0]
    assert mc["Engine"] == "memcached" and mc["ConfigurationEndpoint"]["Port"] == 11211
    assert mc["CacheSubnetGroupName"] == "demo-subnets" and len(mc["CacheNodes"]) == 2


def test_reset_endpoint_clears_state_calls_and_faults():
    emu = start_emulator()
    try:
        ec2 = client(emu, "ec2")
        vpc = ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
        control(emu, "POST", "/_emulator/fault", {"service": "ec2", "action": "DescribeVpcs", "count": 3})
        assert control(emu, "POST", "/_emulator/reset") == {"ok": True}
        assert control(emu, "GET", "/_emulator/calls") == {"calls": []}
        assert control(emu, "GET", "/_emulator/fault") == {"faults": []}
        assert vpc not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    finally:
        assert emu.stop() == 0

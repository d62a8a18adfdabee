"""Tests of the emulator launcher, part 2: ElastiCache clusters, replication groups and serverless
caches, the call log, fault injection, the seed script and the reset endpoint. Each test fails
against unpatched moto (``EMULATOR_LAUNCHER_ARGS=--vanilla python -m pytest tests/emulator``)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import boto3
import pytest
from botocore.exceptions import ClientError

from harness import SEED, start_emulator
from launcher_support import (  # noqa: F401  (fixtures: emulator, ec2, ec, net)
    REGION, client, control, ec, ec2, emulator, error_code, http, ingress_rules, net, pair,
)




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

"""Tests of the emulator's AWS realism, part 2: the ElastiCache behaviours (realism_elasticache.py),
each shown on and off: modifications that take time and the modification log, snapshotting, the
security-groups-per-network-interface quota, ModifyServerlessCache's one field per request and the
default-group fallback."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from launcher_support import (  # noqa: F401  (fixtures: emulator, ec2, ec, net)
    ec, ec2, emulator, error_code, net,
)

WINDOW = 0.6


def _replication_group(ec, net, members=2, groups=None):
    rg_id = f"rg-{net['n']}"
    ec.create_replication_group(
        ReplicationGroupId=rg_id, ReplicationGroupDescription="t", Engine="redis", CacheNodeType="cache.t3.micro",
        NumCacheClusters=members, CacheSubnetGroupName=net["subnet_group"],
        SecurityGroupIds=groups or [net["cluster_sg"]])
    return rg_id


def _groups(ec2, n, net):
    return [ec2.create_security_group(GroupName=f"g{i}-{net['n']}", Description="g", VpcId=net["vpc"])["GroupId"]
            for i in range(n)]


def _cluster(ec, cid):
    return ec.describe_cache_clusters(CacheClusterId=cid)["CacheClusters"][0]


def _eni_groups(ec2, cid):
    enis = ec2.describe_network_interfaces(
        Filters=[{"Name": "description", "Values": [f"ElastiCache {cid}"]}])["NetworkInterfaces"]
    return [sorted(g["GroupId"] for g in e["Groups"]) for e in enis]


def _serverless(ec, net, groups):
    name = f"sl-{net['n']}"
    ec.create_serverless_cache(ServerlessCacheName=name, Engine="valkey", SubnetIds=net["subnets"],
                               SecurityGroupIds=groups)
    return name


# ----------------------------------------------------------------------------------------
# 2. modifications take time
# ----------------------------------------------------------------------------------------
def test_replication_group_is_modifying_for_the_window(emulator, ec2, ec, net):
    rg_id = _replication_group(ec, net)
    emulator.configure(modify_window=WINDOW)
    groups = [net["cluster_sg"], net["client_sg"]]
    answer = ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=groups, ApplyImmediately=True)
    assert answer["ReplicationGroup"]["Status"] == "modifying"
    assert ec.describe_replication_groups(ReplicationGroupId=rg_id)["ReplicationGroups"][0]["Status"] == "modifying"
    member = _cluster(ec, f"{rg_id}-001")
    assert member["CacheClusterStatus"] == "modifying"
    assert member["SecurityGroups"] == [{"SecurityGroupId": g, "Status": "modifying"} for g in groups]
    assert _eni_groups(ec2, f"{rg_id}-001") == [[net["cluster_sg"]]]  # the nodes keep their groups
    for again in ({"SecurityGroupIds": [net["cluster_sg"]]}, {"ReplicationGroupDescription": "x"}):
        with pytest.raises(ClientError) as exc:
            ec.modify_replication_group(ReplicationGroupId=rg_id, ApplyImmediately=True, **again)
        assert error_code(exc) == "InvalidReplicationGroupState"
        assert exc.value.response["Error"]["Message"] == "Replication group must be in available state to modify."
    with pytest.raises(ClientError) as exc:  # a member is busy too
        ec.modify_cache_cluster(CacheClusterId=f"{rg_id}-002", SecurityGroupIds=[net["cluster_sg"]])
    assert error_code(exc) == "InvalidCacheClusterState"
    time.sleep(WINDOW)
    assert ec.describe_replication_groups(ReplicationGroupId=rg_id)["ReplicationGroups"][0]["Status"] == "available"
    member = _cluster(ec, f"{rg_id}-002")
    assert member["CacheClusterStatus"] == "available"
    assert member["SecurityGroups"] == [{"SecurityGroupId": g, "Status": "active"} for g in groups]
    assert _eni_groups(ec2, f"{rg_id}-002") == [sorted(groups)]
    log = emulator.modifications()
    assert (log["accepted"], log["refused"], log["windows"]) == (1, 3, 1)
    assert [(m["action"], m["id"], m["accepted"], m["error"]) for m in log["modifications"]] == [
        ("ModifyReplicationGroup", rg_id, True, None),
        ("ModifyReplicationGroup", rg_id, False, "InvalidReplicationGroupState"),
        ("ModifyReplicationGroup", rg_id, False, "InvalidReplicationGroupState"),
        ("ModifyCacheCluster", f"{rg_id}-002", False, "InvalidCacheClusterState")]
    assert log["modifications"][0]["security_group_ids"] == groups and log["modifications"][0]["window"] == WINDOW
    ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=[net["client_sg"]], ApplyImmediately=True)


def test_an_old_group_is_held_until_the_window_ends(emulator, ec2, ec, net):
    rg_id = _replication_group(ec, net, members=1)
    emulator.configure(modify_window=WINDOW)
    ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=[net["client_sg"]], ApplyImmediately=True)
    with pytest.raises(ClientError) as exc:  # its node still uses it
        ec2.delete_security_group(GroupId=net["cluster_sg"])
    assert error_code(exc) == "DependencyViolation"
    time.sleep(WINDOW)
    ec2.delete_security_group(GroupId=net["cluster_sg"])


def test_without_a_window_modifications_apply_at_once_and_are_recorded(emulator, ec2, ec, net):
    rg_id = _replication_group(ec, net)
    for groups in ([net["client_sg"]], [net["cluster_sg"]]):
        answer = ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=groups, ApplyImmediately=True)
        assert answer["ReplicationGroup"]["Status"] == "available"
        assert _cluster(ec, f"{rg_id}-001")["SecurityGroups"] == [{"SecurityGroupId": groups[0], "Status": "active"}]
        assert _eni_groups(ec2, f"{rg_id}-001") == [groups]
    log = emulator.modifications()
    assert (log["accepted"], log["refused"], log["windows"]) == (2, 0, 0)


def test_cache_cluster_and_serverless_cache_are_modifying_for_the_window(emulator, ec2, ec, net):
    cid = f"mc-{net['n']}"
    ec.create_cache_cluster(CacheClusterId=cid, Engine="memcached", CacheNodeType="cache.t3.micro", NumCacheNodes=1,
                            CacheSubnetGroupName=net["subnet_group"], SecurityGroupIds=[net["cluster_sg"]])
    name = _serverless(ec, net, [net["cluster_sg"]])
    emulator.configure(modify_window=WINDOW)
    assert ec.modify_cache_cluster(CacheClusterId=cid, SecurityGroupIds=[net["client_sg"]],
                                   ApplyImmediately=True)["CacheCluster"]["CacheClusterStatus"] == "modifying"
    answer = ec.modify_serverless_cache(ServerlessCacheName=name, SecurityGroupIds=[net["client_sg"]])
    assert answer["ServerlessCache"]["Status"] == "modifying"
    with pytest.raises(ClientError) as exc:
        ec.modify_cache_cluster(CacheClusterId=cid, SecurityGroupIds=[net["cluster_sg"]], ApplyImmediately=True)
    assert error_code(exc) == "InvalidCacheClusterState"
    with pytest.raises(ClientError) as exc:
        ec.modify_serverless_cache(ServerlessCacheName=name, SecurityGroupIds=[net["cluster_sg"]])
    assert error_code(exc) == "InvalidServerlessCacheStateFault"
    time.sleep(WINDOW)
    assert _cluster(ec, cid)["CacheClusterStatus"] == "available"
    got = ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]
    assert got["Status"] == "available" and got["SecurityGroupIds"] == [net["client_sg"]]
    ec.modify_serverless_cache(ServerlessCacheName=name, SecurityGroupIds=[net["cluster_sg"]])


def test_a_snapshotting_cluster_refuses_modifications(emulator, ec, net):
    rg_id = _replication_group(ec, net)
    emulator.configure(snapshotting=[rg_id])
    assert ec.describe_replication_groups(ReplicationGroupId=rg_id)["ReplicationGroups"][0]["Status"] == "snapshotting"
    with pytest.raises(ClientError) as exc:
        ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=[net["client_sg"]], ApplyImmediately=True)
    assert error_code(exc) == "InvalidReplicationGroupState"
    emulator.configure(snapshotting=[f"{rg_id}-002"])  # one member snapshotting holds the group too
    with pytest.raises(ClientError) as exc:
        ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=[net["client_sg"]], ApplyImmediately=True)
    assert error_code(exc) == "InvalidReplicationGroupState"
    emulator.configure(snapshotting=[])
    assert ec.describe_replication_groups(ReplicationGroupId=rg_id)["ReplicationGroups"][0]["Status"] == "available"
    ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=[net["client_sg"]], ApplyImmediately=True)
    assert emulator.modifications()["refused"] == 2


# ----------------------------------------------------------------------------------------
# 4. security groups per network interface
# ----------------------------------------------------------------------------------------
def test_a_node_takes_at_most_the_quota_of_groups(emulator, ec2, ec, net):
    six = [net["cluster_sg"]] + _groups(ec2, 5, net)
    rg_id = _replication_group(ec, net)
    ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=six, ApplyImmediately=True)  # off
    ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=six[:1], ApplyImmediately=True)
    emulator.configure(enforce_sg_per_eni=True)
    ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=six[:5], ApplyImmediately=True)
    with pytest.raises(ClientError) as exc:
        ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=six, ApplyImmediately=True)
    assert error_code(exc) == "InvalidParameterValue"
    assert "maximum number of security groups per interface" in exc.value.response["Error"]["Message"]
    assert len(_cluster(ec, f"{rg_id}-001")["SecurityGroups"]) == 5
    with pytest.raises(ClientError) as exc:
        ec.create_serverless_cache(ServerlessCacheName=f"sl6-{net['n']}", Engine="valkey",
                                   SubnetIds=net["subnets"], SecurityGroupIds=six)
    assert error_code(exc) == "InvalidParameterValue"
    emulator.configure(quotas={"L-2AFB9258": 6})
    ec.modify_replication_group(ReplicationGroupId=rg_id, SecurityGroupIds=six, ApplyImmediately=True)
    assert _eni_groups(ec2, f"{rg_id}-001") == [sorted(six)]


# ----------------------------------------------------------------------------------------
# 3. serverless caches
# ----------------------------------------------------------------------------------------
def test_serverless_modification_takes_one_field(emulator, ec, net):
    name = _serverless(ec, net, [net["cluster_sg"]])
    ec.modify_serverless_cache(ServerlessCacheName=name, SecurityGroupIds=[net["client_sg"]], Description="d")  # off
    emulator.configure(serverless_one_field=True)
    for kwargs, message in (
            ({"SecurityGroupIds": [net["cluster_sg"]], "Description": "d"},
             "Serverless Cache modifications only support modifying one field per request."),
            ({"SecurityGroupIds": [net["cluster_sg"]], "DailySnapshotTime": "04:00"},
             "Serverless Cache modifications only support modifying one field per request."),
            ({}, "No modifications were requested")):
        with pytest.raises(ClientError) as exc:
            ec.modify_serverless_cache(ServerlessCacheName=name, **kwargs)
        assert error_code(exc) == "InvalidParameterCombination"
        assert exc.value.response["Error"]["Message"] == message
    ec.modify_serverless_cache(ServerlessCacheName=name, SecurityGroupIds=[net["cluster_sg"], net["client_sg"]])
    got = ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]
    assert got["SecurityGroupIds"] == [net["cluster_sg"], net["client_sg"]] and got["Description"] == "d"


def test_serverless_cache_left_without_groups_uses_the_default_group(emulator, ec2, ec, net):
    name = _serverless(ec, net, [net["cluster_sg"]])
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [net["vpc"]]},
                                                    {"Name": "group-name", "Values": ["default"]}])
    default_id = default["SecurityGroups"][0]["GroupId"]
    ec.modify_serverless_cache(ServerlessCacheName=name, SecurityGroupIds=[])  # off: nothing changes
    assert ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]["SecurityGroupIds"] == \
        [net["cluster_sg"]]
    emulator.configure(serverless_default_group=True, serverless_one_field=True)
    answer = ec.modify_serverless_cache(ServerlessCacheName=name, SecurityGroupIds=[])
    assert answer["ServerlessCache"]["SecurityGroupIds"] == [default_id]
    assert ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]["SecurityGroupIds"] == \
        [default_id]
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [default_id]}])
    assert len(enis["NetworkInterfaces"]) == len(net["subnets"])
    ec2.delete_security_group(GroupId=net["cluster_sg"])  # no longer held

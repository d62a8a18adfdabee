#!/usr/bin/env python3
"""Seed the emulator with the world our provider's tests start from.

    python tests/emulator/seed.py --endpoint http://127.0.0.1:PORT [--region us-east-1]

Creates (or reuses, when already present: the script can run twice):
  * VPC 10.42.0.0/16 tagged Name=demo-vpc, subnets 10.42.1.0/24 (<region>a) and
    10.42.2.0/24 (<region>b) tagged demo-subnet-a / demo-subnet-b;
  * cache subnet group ``demo-subnets`` over both subnets;
  * Redis OSS replication group ``demo-redis`` (port 6379, one node group: a primary and
    two replicas, i.e. NumCacheClusters=3) in that subnet group;
  * Memcached cluster ``demo-memcached`` (port 11211, two nodes) in that subnet group;
  * security group ``demo-app`` in the VPC (an application's existing client group).
The caches get no SecurityGroupIds, so (as on AWS) they start with the VPC's default group.

Prints one JSON object on stdout:
  {"vpc_id", "subnet_ids", "subnet_group", "replication_group_id", "cache_cluster_id",
   "app_security_group_id", "endpoint", "region",
   "default_security_group_id", "redis_port", "memcached_port", "redis_member_clusters"}
Dummy credentials (testing/testing); nothing but the given endpoint is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

VPC_CIDR = "10.42.0.0/16"
SUBNETS = [("10.42.1.0/24", "a", "demo-subnet-a"), ("10.42.2.0/24", "b", "demo-subnet-b")]
SUBNET_GROUP = "demo-subnets"
REPLICATION_GROUP = "demo-redis"
MEMCACHED = "demo-memcached"
APP_GROUP = "demo-app"


def clients(endpoint: str, region: str) -> tuple:
    kw = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
              aws_secret_access_key="testing", aws_session_token="testing",
              config=Config(retries={"max_attempts": 3, "mode": "standard"}))
    return boto3.client("ec2", **kw), boto3.client("elasticache", **kw)


def _tags(resource_type: str, name: str) -> list:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]


def ensure_vpc(ec2) -> str:
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["demo-vpc"]},
                                       {"Name": "cidr-block", "Values": [VPC_CIDR]}])["Vpcs"]
    if found:
        return found[0]["VpcId"]
    return ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=_tags("vpc", "demo-vpc"))["Vpc"]["VpcId"]


def ensure_subnets(ec2, vpc_id: str, region: str) -> list[str]:
    ids = []
    for cidr, az_suffix, name in SUBNETS:
        found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                              {"Name": "cidr-block", "Values": [cidr]}])["Subnets"]
        if found:
            ids.append(found[0]["SubnetId"])
            continue
        ids.append(ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=region + az_suffix,
                                     TagSpecifications=_tags("subnet", name))["Subnet"]["SubnetId"])
    return ids


def ensure_subnet_group(ec, subnet_ids: list[str]) -> None:
    try:
        ec.describe_cache_subnet_groups(CacheSubnetGroupName=SUBNET_GROUP)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("CacheSubnetGroupNotFoundFault", "CacheSubnetGroupNotFound"):
            raise
        ec.create_cache_subnet_group(CacheSubnetGroupName=SUBNET_GROUP,
                                     CacheSubnetGroupDescription="demo cache subnets", SubnetIds=subnet_ids)


def ensure_app_group(ec2, vpc_id: str) -> str:
    found = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                  {"Name": "group-name", "Values": [APP_GROUP]}])["SecurityGroups"]
    if found:
        return found[0]["GroupId"]
    return ec2.create_security_group(GroupName=APP_GROUP, Description="demo application (cache client)",
                                     VpcId=vpc_id,
                                     TagSpecifications=_tags("security-group", APP_GROUP))["GroupId"]


def default_group(ec2, vpc_id: str) -> str | None:
    found = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                  {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    return found[0]["GroupId"] if found else None


def ensure_redis(ec) -> list[str]:
    try:
        rg = ec.describe_replication_groups(ReplicationGroupId=REPLICATION_GROUP)["ReplicationGroups"][0]
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("ReplicationGroupNotFoundFault", "ReplicationGroupNotFound"):
            raise
        rg = ec.create_replication_group(
            ReplicationGroupId=REPLICATION_GROUP, ReplicationGroupDescription="demo redis",
            Engine="redis", CacheNodeType="cache.t3.micro", NumCacheClusters=3, Port=6379,
            CacheSubnetGroupName=SUBNET_GROUP, AutomaticFailoverEnabled=True,
            Tags=[{"Key": "Name", "Value": REPLICATION_GROUP}])["ReplicationGroup"]
    return list(rg.get("MemberClusters", []))


def ensure_memcached(ec) -> None:
    try:
        ec.describe_cache_clusters(CacheClusterId=MEMCACHED)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("CacheClusterNotFound", "CacheClusterNotFoundFault"):
            raise
        ec.create_cache_cluster(CacheClusterId=MEMCACHED, Engine="memcached", CacheNodeType="cache.t3.micro",
                                NumCacheNodes=2, Port=11211, CacheSubnetGroupName=SUBNET_GROUP,
                                Tags=[{"Key": "Name", "Value": MEMCACHED}])


def settle(endpoint: str) -> None:
    """The demo world stands as one made long before: the emulator's eventual consistency windows
    of what was just created end now (``POST /_emulator/settle``, realism_control.py)."""
    req = urllib.request.Request(endpoint + "/_emulator/settle", data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()


def seed(endpoint: str, region: str) -> dict:
    ec2, ec = clients(endpoint, region)
    vpc_id = ensure_vpc(ec2)
    subnet_ids = ensure_subnets(ec2, vpc_id, region)
    ensure_subnet_group(ec, subnet_ids)
    app_group = ensure_app_group(ec2, vpc_id)
    members = ensure_redis(ec)
    ensure_memcached(ec)
    settle(endpoint)
    return {
        "vpc_id": vpc_id,
        "subnet_ids": subnet_ids,
        "subnet_group": SUBNET_GROUP,
        "replication_group_id": REPLICATION_GROUP,
        "cache_cluster_id": MEMCACHED,
        "app_security_group_id": app_group,
        "endpoint": endpoint,
        "region": region,
        "default_security_group_id": default_group(ec2, vpc_id),
        "redis_port": 6379,
        "memcached_port": 11211,
        "redis_member_clusters": members,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed the local AWS emulator.")
    parser.add_argument("--endpoint", default=os.environ.get("EMULATOR_URL"),
                        help="emulator URL (default: $EMULATOR_URL)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or "us-east-1")
    args = parser.parse_args(argv)
    if not args.endpoint:
        parser.error("--endpoint (or EMULATOR_URL) is required")
    print(json.dumps(seed(args.endpoint.rstrip("/"), args.region), sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

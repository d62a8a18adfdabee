"""What the launcher's tests share: dummy credentials, boto3 clients of the run's one emulator,
a fresh network per test, and readers of rules and of the control endpoints."""

from __future__ import annotations

import itertools
import json
import os
import urllib.request

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

import emulator_fixture  # noqa: E402  (tests/common)
from realism_config import OFF  # noqa: E402  (tests/emulator)

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
    reset before each test, with the AWS realism off: these tests show moto's behaviour and the
    patches', and the realism tests switch on what each shows. The tests of starting and stopping
    start their own."""
    emulator_fixture.reset(emulator_process.url)
    emulator_fixture.configure(emulator_process.url, **OFF)
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

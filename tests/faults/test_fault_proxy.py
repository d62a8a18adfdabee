"""The fault proxy (tests/common/fault_proxy.py) against the emulator: each fault kind does what it
says, seen from a boto3 client without retries and from the emulator's own call log (what reached
it, so what took effect)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError  # noqa: E402

import emulator_fixture  # noqa: E402  (tests/common)
from fault_proxy import FaultProxy, documented_ec2_buckets, ec2_buckets  # noqa: E402  (tests/common)

REGION = "us-east-1"
PROXY = os.path.join(os.path.dirname(__file__), "..", "common", "fault_proxy.py")


@pytest.fixture
def emulator(emulator_process):
    emulator_fixture.reset(emulator_process.url)
    # these tests show the proxy's forwarding and faults, read straight from the emulator: AWS's
    # consistency window is not their subject (the provider's tests keep it on)
    emulator_fixture.configure(emulator_process.url, consistency_delay=0)
    return emulator_process


@pytest.fixture
def proxy(emulator):
    p = FaultProxy(emulator.url).start()
    yield p
    p.stop()


def client(url: str, service: str, read_timeout: float = 30):
    return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                      read_timeout=read_timeout, connect_timeout=5))


def emulator_actions(emulator) -> list[str]:
    with urllib.request.urlopen(emulator.url + "/_emulator/calls", timeout=30) as r:
        return [c["action"] for c in json.load(r)["calls"]]


def group_names(emulator) -> set[str]:
    ec2 = client(emulator.url, "ec2")
    return {g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]}


def create_group(ec2, name: str):
    return ec2.create_security_group(GroupName=name, Description="fault proxy test")


def error_of(err) -> tuple[str, int]:
    """(code, HTTP status) of a ClientError or of pytest's ExceptionInfo of one."""
    e = getattr(err, "value", err).response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_a_call_without_fault_is_forwarded_and_logged(proxy, emulator):
    ec2 = client(proxy.url, "ec2")
    gid = create_group(ec2, "plain")["GroupId"]
    assert gid.startswith("sg-")
    assert "plain" in group_names(emulator)
    [call] = proxy.calls()
    assert (call["service"], call["action"], call["call"], call["class"]) == \
        ("ec2", "CreateSecurityGroup", 1, "mutating")
    assert call["fault"] is None and call["status"] == 200


@pytest.mark.parametrize("service,action,want", [
    ("ec2", "CreateSecurityGroup", ("RequestLimitExceeded", 503)),
    ("elasticache", "DescribeReplicationGroups", ("Throttling", 400)),
])
def test_throttle_answers_the_services_code_and_never_reaches_the_emulator(proxy, emulator, service,
                                                                            action, want):
    proxy.add_fault("throttle", service, action)
    c = client(proxy.url, service)
    call = (lambda: create_group(c, "throttled")) if service == "ec2" else c.describe_replication_groups
    emulator_fixture.reset_calls(emulator.url)
    with pytest.raises(ClientError) as e:
        call()
    assert error_of(e) == want
    assert action not in emulator_actions(emulator)
    assert [(x["action"], x["fault"], x["status"]) for x in proxy.calls()] == [(action, "throttle", want[1])]


def test_faults_are_chosen_by_call_number(proxy, emulator):
    proxy.add_fault("http500", "ec2", "CreateSecurityGroup", calls=[2])
    ec2 = client(proxy.url, "ec2")
    create_group(ec2, "first")
    with pytest.raises(ClientError) as e:
        create_group(ec2, "second")
    assert error_of(e) == ("InternalError", 500)
    create_group(ec2, "third")
    # Other actions count on their own: DescribeSecurityGroups' call 2 is not faulted.
    ec2.describe_security_groups()
    ec2.describe_security_groups()
    assert {"first", "third"} <= group_names(emulator) and "second" not in group_names(emulator)
    assert [(c["action"], c["call"], c["fault"]) for c in proxy.calls()] == [
        ("CreateSecurityGroup", 1, None), ("CreateSecurityGroup", 2, "http500"),
        ("CreateSecurityGroup", 3, None), ("DescribeSecurityGroups", 1, None),
        ("DescribeSecurityGroups", 2, None)]


def test_a_fault_with_match_counts_only_the_calls_it_matches(proxy, emulator):
    proxy.add_fault("http500", "ec2", "CreateSecurityGroup", calls=[2], match="GroupName=mine")
    ec2 = client(proxy.url, "ec2")
    create_group(ec2, "other-1")
    create_group(ec2, "mine")  # the first call that matches
    create_group(ec2, "other-2")
    with pytest.raises(ClientError) as e:
        create_group(ec2, "mine")  # the second: faulted, whatever came between
    assert error_of(e) == ("InternalError", 500)
    assert [(c["call"], c["fault"]) for c in proxy.calls()] == [(1, None), (2, None), (3, None), (4, "http500")]


def test_http503_is_unavailable_and_not_forwarded(proxy, emulator):
    proxy.add_fault("http503", "elasticache", "*")
    ec = client(proxy.url, "elasticache")
    emulator_fixture.reset_calls(emulator.url)
    with pytest.raises(ClientError) as e:
        ec.describe_cache_clusters()
    assert error_of(e) == ("Unavailable", 503)
    assert emulator_actions(emulator) == []


def test_reset_drops_the_connection_before_the_call_reaches_the_emulator(proxy, emulator):
    proxy.add_fault("reset", "ec2", "CreateSecurityGroup")
    emulator_fixture.reset_calls(emulator.url)
    with pytest.raises(ConnectionClosedError):
        create_group(client(proxy.url, "ec2"), "never")
    assert "CreateSecurityGroup" not in emulator_actions(emulator)
    assert "never" not in group_names(emulator)
    assert proxy.calls()[0]["status"] == "reset"


def test_lost_takes_effect_then_drops_the_answer(proxy, emulator):
    proxy.add_fault("lost", "ec2", "CreateSecurityGroup", calls=[1])
    ec2 = client(proxy.url, "ec2")
    with pytest.raises(ConnectionClosedError):
        create_group(ec2, "made-anyway")
    assert "made-anyway" in group_names(emulator)
    # The retry a client would make finds the group made: AWS's InvalidGroup.Duplicate.
    with pytest.raises(ClientError) as e:
        create_group(ec2, "made-anyway")
    assert error_of(e)[0] == "InvalidGroup.Duplicate"
    assert [(c["call"], c["status"]) for c in proxy.calls()] == [(1, "lost"), (2, 400)]


def test_slow_answers_after_the_delay_and_past_a_client_timeout(proxy, emulator):
    proxy.add_fault("slow", "ec2", "CreateSecurityGroup", delay=1.0)
    t0 = time.monotonic()
    create_group(client(proxy.url, "ec2"), "slow-ok")
    assert time.monotonic() - t0 >= 1.0
    with pytest.raises(ReadTimeoutError):
        create_group(client(proxy.url, "ec2", read_timeout=0.3), "slow-timeout")
    # It was forwarded before the wait: the group exists although the client gave up.
    assert {"slow-ok", "slow-timeout"} <= group_names(emulator)


def test_hold_keeps_the_call_until_released(proxy, emulator):
    proxy.add_fault("hold", "ec2", "CreateSecurityGroup")
    emulator_fixture.reset_calls(emulator.url)
    out: dict = {}
    t = threading.Thread(target=lambda: out.update(create_group(client(proxy.url, "ec2"), "held")))
    t.start()
    held = proxy.wait_held(timeout=10)
    assert held["action"] == "CreateSecurityGroup"
    time.sleep(0.2)
    assert t.is_alive() and "CreateSecurityGroup" not in emulator_actions(emulator)
    proxy.release()
    t.join(10)
    assert out["GroupId"].startswith("sg-") and "held" in group_names(emulator)


def raw_create(url: str, name: str) -> socket.socket:
    """Sends a (signed-looking) CreateSecurityGroup and returns the socket, unanswered."""
    host, port = url.removeprefix("http://").split(":")
    body = f"Action=CreateSecurityGroup&Version=2016-11-15&GroupName={name}&GroupDescription=d".encode()
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"POST / HTTP/1.1\r\nHost: " + url.encode() + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              b"Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, "
              b"SignedHeaders=host, Signature=0\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    return s


@pytest.mark.parametrize("effect,made", [("before", False), ("after", True)])
def test_a_held_call_whose_client_goes_away(proxy, emulator, effect, made):
    """The client killed while its call waits: with effect=before the call never reaches the
    emulator, with effect=after it took effect and nobody hears the answer."""
    proxy.add_fault("hold", "ec2", "CreateSecurityGroup", effect=effect)
    s = raw_create(proxy.url, f"gone-{effect}")
    proxy.wait_held(timeout=10)
    s.close()
    deadline = time.monotonic() + 10
    while proxy.calls()[0]["status"] != "client gone" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proxy.calls()[0]["status"] == "client gone"
    assert (f"gone-{effect}" in group_names(emulator)) is made


def test_ec2_style_buckets_per_action_class(proxy, emulator):
    buckets = ec2_buckets()
    buckets["ec2"]["mutating"] = (3, 0.01)  # burst 3, next token after 100 s
    proxy.set_buckets(buckets)
    ec2 = client(proxy.url, "ec2")
    results = []
    for i in range(5):
        try:
            create_group(ec2, f"b{i}")
            results.append("ok")
        except ClientError as e:
            results.append(error_of(e))
    assert results == ["ok"] * 3 + [("RequestLimitExceeded", 503)] * 2
    # Describes have their own bucket (burst 100): not throttled.
    for _ in range(10):
        ec2.describe_security_groups()
    assert {c["fault"] for c in proxy.calls() if c["class"] == "describe"} == {None}
    assert group_names(emulator) >= {"b0", "b1", "b2"} and "b3" not in group_names(emulator)


def test_an_action_bucket_takes_that_action_out_of_its_class_bucket(proxy):
    buckets = documented_ec2_buckets()
    assert buckets["ec2"]["CreateSecurityGroup"] == (50, 5) and buckets["ec2"]["CreateTags"] == (100, 10)
    proxy.set_buckets({"ec2": {"CreateSecurityGroup": (2, 0.01), "mutating": (1, 0.01)}})
    ec2 = client(proxy.url, "ec2")
    made = []
    for i in range(3):
        try:
            made.append(create_group(ec2, f"a{i}")["GroupId"])
        except ClientError as e:
            made.append(error_of(e))
    assert made[2] == ("RequestLimitExceeded", 503) and all(isinstance(m, str) for m in made[:2]), made
    # CreateTags is in the class bucket (burst 1): one call passes, the next is throttled.
    tags = [{"Key": "k", "Value": "v"}]
    ec2.create_tags(Resources=[made[0]], Tags=tags)
    with pytest.raises(ClientError):
        ec2.create_tags(Resources=[made[1]], Tags=tags)
    assert [c["fault"] for c in proxy.calls()] == [None, None, "throttle", None, "throttle"]


def test_bucket_refills_at_its_rate(proxy):
    proxy.set_buckets({"ec2": {"mutating": (1, 1)}})
    ec2 = client(proxy.url, "ec2")
    create_group(ec2, "r0")
    with pytest.raises(ClientError):
        create_group(ec2, "r1")
    time.sleep(1.2)  # 1 per second: a token again after 1 s (at 5 per second, a loaded machine
    # took the 0.2 s between the first two calls: the second was not throttled)
    create_group(ec2, "r2")
    assert [c["fault"] for c in proxy.calls()] == [None, "throttle", None]


def test_as_a_process_driven_over_http(emulator):
    p = subprocess.Popen([sys.executable, PROXY, "--upstream", emulator.url], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        assert line.startswith("PROXY_URL=http://127.0.0.1:"), line
        url = line.split("=", 1)[1]

        def post(path: str, body: dict) -> dict:
            req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.load(r)

        assert post("/_proxy/fault", {"kind": "http500", "service": "ec2", "action": "DescribeVpcs"})["ok"]
        ec2 = client(url, "ec2")
        with pytest.raises(ClientError) as e:
            ec2.describe_vpcs()
        assert error_of(e) == ("InternalError", 500)
        with urllib.request.urlopen(url + "/_proxy/calls", timeout=10) as r:
            calls = json.load(r)["calls"]
        assert [(c["action"], c["fault"]) for c in calls] == [("DescribeVpcs", "http500")]
        assert post("/_proxy/reset", {})["ok"]
        assert ec2.describe_vpcs()["Vpcs"]
    finally:
        p.terminate()
        rc = p.wait(10)
    assert rc == 0

"""Bad inputs: `terraform validate` and `terraform plan` fail with the resource contract's message,
pointing at the offending line, and no AWS write happens (checked in the emulator's call log)."""

from __future__ import annotations

import re

import pytest

from tf_harness import line_of

# (case id, resource body lines, text the error must contain, text of the line it must point at)
CASES = [
    ("port-out-of-range", 'vpc_id = "{vpc}"\n  port = 70000', "Port out of range", "port = 70000"),
    ("name-starts-with-sg", 'vpc_id = "{vpc}"\n  name = "sg-cache"', 'starts with "sg-"', 'name = "sg-cache"'),
    ("name-and-prefix", 'vpc_id = "{vpc}"\n  name = "a"\n  name_prefix = "b-"', "Conflicting name and name_prefix", 'name_prefix = "b-"'),
    ("bad-cidr", 'vpc_id = "{vpc}"\n  allowed_cidr_blocks = ["10.0.0.0/33"]', "is not a CIDR block", "allowed_cidr_blocks"),
    ("public-cidr", 'vpc_id = "{vpc}"\n  allowed_cidr_blocks = ["0.0.0.0/0"]', "allow_public_cidrs = true", "allowed_cidr_blocks"),
    ("bad-security-group", 'vpc_id = "{vpc}"\n  client_security_group_ids = ["sg-1"]', "not a security group id", "client_security_group_ids"),
    ("bad-peer-account", 'vpc_id = "{vpc}"\n  client_security_group_ids = ["1234/sg-0123456789abcdef0"]', "must be 12 digits", "client_security_group_ids"),
    ("bad-vpc", 'vpc_id = "vpc-xyz"', "is not a VPC id", 'vpc_id = "vpc-xyz"'),
    ("no-vpc-no-cluster", 'name = "lonely"', "Missing vpc_id", None),
    ("two-cluster-ids", 'cluster {{\n    replication_group_id = "demo-redis"\n    cache_cluster_id = "demo-memcached"\n  }}', "Set exactly one cluster identifier",
     # The second identifier is the line to remove.
     'cache_cluster_id = "demo-memcached"'),
    ("reserved-tag", 'vpc_id = "{vpc}"\n  tags = {{\n    "aws:owner" = "me"\n  }}', "Reserved tag key", '"aws:owner" = "me"'),
    ("bad-timeout", 'vpc_id = "{vpc}"\n  timeouts {{\n    create = "ten minutes"\n  }}', "is not a duration", 'create = "ten minutes"'),
    ("ssh-without-client-group", 'vpc_id = "{vpc}"\n  create_client_security_group = false\n  client_ssh_cidr_blocks = ["10.0.0.0/8"]', "SSH rules need the client group", "client_ssh_cidr_blocks"),
    ("attach-without-cluster", 'vpc_id = "{vpc}"\n  attach_to_cluster = true', "attach_to_cluster needs cluster", "attach_to_cluster = true"),
    ("bad-prefix-list", 'vpc_id = "{vpc}"\n  allowed_prefix_list_ids = ["prefix"]', "not a prefix list id", "allowed_prefix_list_ids"),
    ("description-charset", 'vpc_id = "{vpc}"\n  description = "caf\u00e9 access"', "character AWS does not accept", "description ="),
]


def pointed_line(output: str) -> int | None:
    m = re.search(r"on main\.tf line (\d+)", output)
    return int(m.group(1)) if m else None


def check_points_at(ws, r, text: str, needle: str | None) -> None:
    assert r.returncode == 1, str(r)
    assert "Error:" in r.output, str(r)
    assert text in r.output, f"{text!r} missing:\n{r}"
    if needle is not None:
        config = (ws.dir / "main.tf").read_text()
        want = line_of(config, needle)
        assert pointed_line(r.output) == want, f"expected the error at line {want} ({needle!r}):\n{r}"


@pytest.mark.parametrize("case,body,text,needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_at_the_attribute_without_aws_writes(ws, emulator, case, body, text, needle):
    ws.write(f'resource "elasticache_access" "a" {{\n  {body.format(vpc=emulator.world["vpc_id"])}\n}}\n')
    emulator.reset_calls()
    r = ws.run("validate", "-no-color")
    check_points_at(ws, r, text, needle)
    r = ws.run("plan", "-no-color", "-input=false")
    check_points_at(ws, r, text, needle)
    assert emulator.writes() == [], f"AWS writes during a failed plan: {emulator.writes()}"
    assert emulator.created_groups() == {}


def test_provider_configuration_is_validated(ws, emulator):
    text = ws.write(f'resource "elasticache_access" "a" {{\n  vpc_id = "{emulator.world["vpc_id"]}"\n}}\n',
                    provider_extra='  max_retries = 0\n')
    r = ws.run("plan", "-no-color", "-input=false")
    assert r.returncode == 1, str(r)
    assert "max_retries out of range" in r.output, str(r)
    assert pointed_line(r.output) == line_of(text, "max_retries = 0"), str(r)
    assert emulator.writes() == []


def test_vpc_that_disagrees_with_the_cluster_fails_the_plan(ws, emulator):
    """Only knowable by reading the cluster: the plan reads, and writes nothing."""
    other_vpc = emulator.ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    emulator.reset_calls()
    text = ws.write(f"""\
        resource "elasticache_access" "a" {{
          vpc_id = "{other_vpc}"
          cluster {{
            replication_group_id = "{emulator.world["replication_group_id"]}"
          }}
        }}
        """)
    r = ws.run("plan", "-no-color", "-input=false")
    assert r.returncode == 1, str(r)
    assert "vpc_id does not match the cluster's VPC" in r.output, str(r)
    assert emulator.world["vpc_id"] in r.output
    assert pointed_line(r.output) == line_of(text, f'vpc_id = "{other_vpc}"'), str(r)
    assert any(c["action"].startswith("DescribeReplicationGroups") for c in emulator.calls())
    assert emulator.writes() == []


def test_running_the_binary_by_hand_prints_the_plugin_message(provider_binary):
    import subprocess

    p = subprocess.run([str(provider_binary)], capture_output=True, text=True, timeout=30,
                       env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL)
    assert p.returncode == 1
    assert p.stdout == ""
    assert "This binary is a plugin. These are not meant to be executed directly." in p.stderr

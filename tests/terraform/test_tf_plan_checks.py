"""What AWS would refuse at apply, found by the plan before any write (issue 23): rules over quota
L-0EA8095F (prefix lists at their MaxEntries), a sixth group on a cluster's nodes (L-2AFB9258),
sources that do not exist, a peered group without peering, an update with no room to authorize
before revoking; and an import that goes on when DescribeServerlessCaches is denied.

The emulator enforces each at apply (tests/emulator/realism_config.py), so a plan that let one
through would fail at apply: every plan here must fail first, with no write made."""

from __future__ import annotations

import json
import textwrap
import urllib.request

from tf_harness import Workspace

ADDR = "elasticache_access.cache"
PEER_ACCOUNT = "111122223333"
PEER_GROUP = "sg-0123456789abcdef0"


def realistic(ws: Workspace) -> None:
    ws.emulator.configure(enforce_rule_quota=True, require_prefix_lists=True, enforce_sg_per_eni=True,
                          require_peering=True)


def access(ws: Workspace, extra: str, clients: list[str] | None = None) -> None:
    w = ws.emulator.world
    ws.write(textwrap.dedent(f"""\
        resource "elasticache_access" "cache" {{
          name                      = "checks"
          cluster                   {{ replication_group_id = "{w['replication_group_id']}" }}
          client_security_group_ids = {json.dumps(clients or [w['app_security_group_id']])}
        """) + textwrap.indent(textwrap.dedent(extra), "  ") + "}\n")


def prefix_list(ws: Workspace, name: str, max_entries: int) -> str:
    return ws.emulator.ec2.create_managed_prefix_list(
        PrefixListName=name, MaxEntries=max_entries, AddressFamily="IPv4",
        Entries=[{"Cidr": "10.60.0.0/24"}])["PrefixList"]["PrefixListId"]


def refused(ws: Workspace, *needles: str) -> str:
    ws.emulator.reset_calls()
    r = ws.plan_exit()
    assert r.returncode == 1, str(r)
    flat = " ".join(r.output.split())  # Terraform wraps the detail
    for n in needles:
        assert n in flat, f"{n!r} not in {r}"
    assert ws.emulator.writes() == [], "the plan wrote"
    return r.output


def test_the_plan_refuses_what_aws_would_refuse_at_apply(ws: Workspace):
    realistic(ws)
    emu, w = ws.emulator, ws.emulator.world
    a, b = prefix_list(ws, "forty-a", 40), prefix_list(ws, "forty-b", 40)
    access(ws, f'allowed_prefix_list_ids = ["{a}", "{b}"]\n')
    refused(ws, "More inbound rules than the security group quota allows", "82 IPv4 and 2 IPv6",
            "L-0EA8095F", "is 60")
    emu.configure(quotas={"L-0EA8095F": 100})
    assert ws.plan_exit().returncode == 2, "a raised quota lets the plan through"

    access(ws, f'allowed_prefix_list_ids = ["{a}", "pl-0fedcba987654321f"]\n',
           clients=[w["app_security_group_id"], "sg-0fedcba987654321f"])
    refused(ws, "Prefix list not found", "pl-0fedcba987654321f", "Client security group not found",
            "sg-0fedcba987654321f")

    access(ws, "", clients=[f"{PEER_ACCOUNT}/{PEER_GROUP}"])
    refused(ws, "No peering connection to the group's account", PEER_ACCOUNT)
    req = urllib.request.Request(emu.url + "/_emulator/peering", method="POST", data=json.dumps(
        {"vpc_id": w["vpc_id"], "peer_account_id": PEER_ACCOUNT, "peer_group_ids": [PEER_GROUP]}).encode())
    urllib.request.urlopen(req, timeout=30).read()
    assert ws.plan_exit().returncode == 2

    extra = [emu.ec2.create_security_group(GroupName=f"other-{i}", Description="x", VpcId=w["vpc_id"])["GroupId"]
             for i in range(4)]
    emu.elasticache.modify_replication_group(ReplicationGroupId=w["replication_group_id"], ApplyImmediately=True,
                                             SecurityGroupIds=[w["default_security_group_id"], *extra])
    access(ws, "attach_to_cluster = true\n")
    refused(ws, "no room for another security group", "6 security groups", "L-2AFB9258", "is 5")
    emu.configure(quotas={"L-2AFB9258": 6})
    assert ws.plan_exit().returncode == 2


def two_attached(ws: Workspace) -> None:
    w = ws.emulator.world
    ws.write("".join(textwrap.dedent(f"""\
        resource "elasticache_access" "{n}" {{
          name                      = "slots-{n}"
          cluster                   {{ replication_group_id = "{w['replication_group_id']}" }}
          client_security_group_ids = ["{w['app_security_group_id']}"]
          attach_to_cluster         = true
        }}
        """) for n in ("a", "b")))


def nodes_at(ws: Workspace, n: int) -> None:
    emu, w = ws.emulator, ws.emulator.world
    extra = [emu.ec2.create_security_group(GroupName=f"node-{n}-{i}", Description="x", VpcId=w["vpc_id"])["GroupId"]
             for i in range(n - 1)]
    emu.elasticache.modify_replication_group(ReplicationGroupId=w["replication_group_id"], ApplyImmediately=True,
                                             SecurityGroupIds=[w["default_security_group_id"], *extra])


def test_two_accesses_of_one_run_count_each_others_node_slots(ws: Workspace):
    """Each access alone fits (4 + 1 = 5), both together do not (6): the plan counts the attaches
    planned before it in the same provider process. At 3 groups both fit, and the apply (which plans
    again in its own process, then writes) succeeds."""
    realistic(ws)
    ws.emulator.configure(modify_window=0)  # the test's own two modifications of the nodes' groups
    nodes_at(ws, 4)
    two_attached(ws)
    refused(ws, "no room for another security group", "6 security groups",
            "1 other access planned in this run", "L-2AFB9258", "is 5")
    nodes_at(ws, 3)
    assert ws.plan_exit().returncode == 2
    ws.apply()
    a, b = (ws.resource_state(f"elasticache_access.{n}")["cluster_security_group_id"] for n in ("a", "b"))
    rg = ws.emulator.elasticache.describe_replication_groups(
        ReplicationGroupId=ws.emulator.world["replication_group_id"])["ReplicationGroups"][0]
    member = ws.emulator.elasticache.describe_cache_clusters(CacheClusterId=rg["MemberClusters"][0])
    groups = {g["SecurityGroupId"] for g in member["CacheClusters"][0]["SecurityGroups"]}
    assert {a, b} <= groups and len(groups) == 5, groups
    assert ws.plan_exit().returncode == 0


def cidrs(third: int) -> str:
    return json.dumps([f"10.{third}.{i}.0/24" for i in range(40)])


def test_an_update_without_room_needs_revoke_before_authorize(ws: Workspace):
    realistic(ws)
    access(ws, f"allowed_cidr_blocks = {cidrs(1)}\n")
    ws.apply()
    access(ws, f"allowed_cidr_blocks = {cidrs(2)}\n")
    refused(ws, "No room to authorize the new rules before revoking the old ones", "82 IPv4",
            "revoke_before_authorize")
    access(ws, f"allowed_cidr_blocks = {cidrs(2)}\nrevoke_before_authorize = true\n")
    r = ws.plan_exit()
    assert r.returncode == 2 and "revokes rules before it authorizes new ones" in " ".join(r.output.split()), str(r)
    ws.apply()
    rules = ws.resource_state(ADDR)["ingress_rule_ids"]
    assert len(rules) == 42 and "10.2.39.0/24" in rules and "10.1.0.0/24" not in rules
    assert ws.plan_exit().returncode == 0


def test_import_goes_on_when_serverless_caches_cannot_be_listed(ws: Workspace):
    emu, w = ws.emulator, ws.emulator.world
    cg = emu.ec2.create_security_group(GroupName="cache-sg", Description="cache", VpcId=w["vpc_id"])["GroupId"]
    emu.ec2.authorize_security_group_ingress(GroupId=cg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 11211, "ToPort": 11211,
        "UserIdGroupPairs": [{"GroupId": w["app_security_group_id"]}]}])
    emu.elasticache.modify_cache_cluster(CacheClusterId=w["cache_cluster_id"], ApplyImmediately=True,
                                         SecurityGroupIds=[w["default_security_group_id"], cg])
    # An IAM policy written before serverless: AWS answers AccessDenied (HTTP 403) with this message.
    emu.fault(service="elasticache", action="DescribeServerlessCaches", code="AccessDenied", status=403, count=50,
              message="User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: "
                      "elasticache:DescribeServerlessCaches because no identity-based policy allows the "
                      "elasticache:DescribeServerlessCaches action")
    ws.write(f'resource "elasticache_access" "cache" {{\n  vpc_id = "{w["vpc_id"]}"\n}}\n')
    r = ws.run("import", "-no-color", "-input=false", ADDR, cg)
    assert r.returncode == 0, str(r)
    flat = " ".join(r.output.split())
    assert "Some clusters were not searched" in flat and "serverless caches" in flat, str(r)
    assert "AccessDenied" in flat, str(r)
    st = ws.resource_state(ADDR)
    assert st["cluster"] == [{"cache_cluster_id": w["cache_cluster_id"], "replication_group_id": None,
                              "serverless_cache_name": None}] or \
        st["cluster"]["cache_cluster_id"] == w["cache_cluster_id"], st["cluster"]
    assert st["attach_to_cluster"] is True

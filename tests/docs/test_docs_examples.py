"""Each Terraform example of examples/terraform/ applied, re-planned (no change) and destroyed against
the emulator with every Terraform version found, checking what the emulator holds after each step:
every group the example creates holds exactly the declared inbound rules (protocol, ports, source)
and, as docs/resources/access.md says, only the egress rule AWS gives a new group."""

from __future__ import annotations

import json
import urllib.request

from docs_harness import EXAMPLES, workdir


def group(world, gid):
    found = world.ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroups"]
    return found[0] if found else None


def ingress(world, gid):
    rules = world.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
    return [r for r in rules if not r["IsEgress"]]


def source(rule):
    ref = rule.get("ReferencedGroupInfo")
    if ref:
        owner = ref.get("UserId")
        own = rule.get("GroupOwnerId")
        return f"{owner}/{ref['GroupId']}" if owner and own and owner != own else ref["GroupId"]
    return rule.get("CidrIpv4") or rule.get("CidrIpv6") or rule.get("PrefixListId")


# The one egress rule AWS gives every new VPC security group; the provider adds and revokes none.
DEFAULT_EGRESS = {("egress", "-1", -1, -1, "0.0.0.0/0")}


def rules_of(world, gid):
    """Every rule of a group, inbound and outbound, as (direction, protocol, from, to, source)."""
    rules = world.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
    out = [("egress" if r["IsEgress"] else "ingress", r["IpProtocol"], r.get("FromPort"), r.get("ToPort"),
            source(r)) for r in rules]
    assert len(out) == len(set(out)), f"duplicate rules in {gid}: {out}"
    return set(out)


def assert_rules_exactly(world, gid, ingress_rules):
    """The group holds these inbound rules and the default egress rule, nothing more."""
    want = {("ingress", *r) for r in ingress_rules} | DEFAULT_EGRESS
    got = rules_of(world, gid)
    assert got == want, f"{gid}: wider than declared {sorted(got - want, key=str)}, missing {sorted(want - got, key=str)}"


def managed_groups(world):
    return world.ec2.describe_security_groups(
        Filters=[{"Name": "tag-key", "Values": ["elasticache-access:role"]}])["SecurityGroups"]


def cluster_groups(world, cluster_id):
    c = world.elasticache.describe_cache_clusters(CacheClusterId=cluster_id)["CacheClusters"][0]
    return sorted(g["SecurityGroupId"] for g in c.get("SecurityGroups", []))


def apply_and_replan(wd, *var_args):
    wd.run("apply", "-auto-approve", "-input=false", "-no-color", *var_args)
    plan = wd.run("plan", "-detailed-exitcode", "-input=false", "-no-color", *var_args, check=False)
    assert plan.returncode == 0, f"a second plan is not empty:\n{plan.stdout}\n{plan.stderr}"
    return wd.outputs()


def destroy(wd, world, *var_args):
    wd.run("destroy", "-auto-approve", "-input=false", "-no-color", *var_args)
    assert managed_groups(world) == []


def test_quickstart_example(version, terraform, world, plugin_built, tmp_path):
    seed = world.seed
    members = seed["redis_member_clusters"]
    before = {m: cluster_groups(world, m) for m in members}
    wd = workdir(tmp_path, terraform, world.url, source=EXAMPLES / "quickstart")
    args = ("-var", f"replication_group_id={seed['replication_group_id']}")
    out = apply_and_replan(wd, *args)

    cluster_sg, client_sg = out["cluster_security_group_id"], out["client_security_group_id"]
    assert group(world, cluster_sg)["GroupName"] == "quickstart-cluster"
    assert group(world, client_sg)["GroupName"] == "quickstart-clients"
    assert group(world, cluster_sg)["VpcId"] == seed["vpc_id"] == out["vpc_id"]
    [rule] = ingress(world, cluster_sg)
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], source(rule)) == ("tcp", 6379, 6379, client_sg)
    assert out["ingress_rule_ids"] == {client_sg: rule["SecurityGroupRuleId"]}
    assert out["port"] == seed["redis_port"]
    assert out["cluster_endpoint"].endswith(":6379")
    assert_rules_exactly(world, cluster_sg, {("tcp", 6379, 6379, client_sg)})
    assert_rules_exactly(world, client_sg, set())
    assert {g["GroupId"] for g in managed_groups(world)} == {cluster_sg, client_sg}
    # attach_to_cluster: each member cluster keeps its groups and gains the cluster group.
    assert {m: cluster_groups(world, m) for m in members} == {m: sorted(g + [cluster_sg]) for m, g in before.items()}

    destroy(wd, world, *args)
    assert group(world, cluster_sg) is None and group(world, client_sg) is None
    assert {m: cluster_groups(world, m) for m in members} == before


def test_existing_cluster_example(version, terraform, world, plugin_built, tmp_path):
    seed = world.seed
    members = seed["redis_member_clusters"]
    before = {m: cluster_groups(world, m) for m in members}
    wd = workdir(tmp_path, terraform, world.url, source=EXAMPLES / "existing-cluster")
    args = ("-var", f"replication_group_id={seed['replication_group_id']}",
            "-var", f"app_security_group_id={seed['app_security_group_id']}")
    out = apply_and_replan(wd, *args)

    cluster_sg, client_sg = out["cluster_security_group_id"], out["client_security_group_id"]
    app_sg = seed["app_security_group_id"]
    g = group(world, cluster_sg)
    assert g["GroupName"].startswith("orders-cache-") and g["GroupName"].endswith("-cluster")
    assert {t["Key"]: t["Value"] for t in g.get("Tags", [])}.get("Service") == "orders"
    assert (out["vpc_id"], out["port"]) == (seed["vpc_id"], seed["redis_port"])
    rules = ingress(world, cluster_sg)
    assert sorted(source(r) for r in rules) == sorted([client_sg, app_sg])
    assert all((r["IpProtocol"], r["FromPort"], r["ToPort"]) == ("tcp", 6379, 6379) for r in rules)
    assert out["ingress_rule_ids"] == {source(r): r["SecurityGroupRuleId"] for r in rules}
    for m in members:  # attached to every member, the groups already there kept
        assert cluster_groups(world, m) == sorted(before[m] + [cluster_sg])
    assert_rules_exactly(world, cluster_sg, {("tcp", 6379, 6379, client_sg), ("tcp", 6379, 6379, app_sg)})
    assert_rules_exactly(world, client_sg, set())
    assert {g["GroupId"] for g in managed_groups(world)} == {cluster_sg, client_sg}

    destroy(wd, world, *args)
    for m in members:
        assert cluster_groups(world, m) == before[m]
    assert group(world, app_sg) is not None and ingress(world, app_sg) == []


def test_cross_vpc_example(version, terraform, world, plugin_built, tmp_path):
    seed = world.seed
    # AWS (and the plan's check) accept another account's group only across an active peering
    # connection with that account's VPC: the example's premise, registered in the emulator.
    peering = {"vpc_id": seed["vpc_id"], "peer_account_id": "111122223333", "peer_group_ids": ["sg-0123456789abcdef0"]}
    urllib.request.urlopen(urllib.request.Request(world.url + "/_emulator/peering", method="POST",
                                                  data=json.dumps(peering).encode()), timeout=30).read()
    wd = workdir(tmp_path, terraform, world.url, source=EXAMPLES / "cross-vpc")
    args = ("-var", f"vpc_id={seed['vpc_id']}")
    out = apply_and_replan(wd, *args)

    cluster_sg = out["cluster_security_group_id"]
    assert group(world, cluster_sg)["GroupName"] == "peered-clients-cluster"
    assert group(world, cluster_sg)["VpcId"] == seed["vpc_id"]
    assert not [g for g in managed_groups(world) if g["GroupName"].endswith("-clients")]
    rules = ingress(world, cluster_sg)
    want = {"111122223333/sg-0123456789abcdef0", "10.20.0.0/16", "fd00:20::/56"}
    assert {source(r) for r in rules} == want
    assert all((r["IpProtocol"], r["FromPort"], r["ToPort"]) == ("tcp", 6379, 6379) for r in rules)
    assert set(out["ingress_rule_ids"]) == want
    assert_rules_exactly(world, cluster_sg, {("tcp", 6379, 6379, w) for w in want})
    assert {g["GroupId"] for g in managed_groups(world)} == {cluster_sg}

    destroy(wd, world, *args)
    assert group(world, cluster_sg) is None

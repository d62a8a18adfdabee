"""Plan, apply, update, replace, drift, import and destroy of `elasticache_access` with the real
terraform CLI against the emulator. Every assertion is about what exists in the emulator, what the
saved plan says (`terraform show -json`), or an exit code."""

from __future__ import annotations

import pytest

from tf_harness import Workspace, changes

ADDR = "elasticache_access.a"


def access_config(world: dict, name: str = "orders", port: int | None = None, lifecycle: str = "",
                  extra: str = "") -> str:
    port_line = f"  port = {port}\n" if port is not None else ""
    return f"""\
resource "elasticache_access" "a" {{
  vpc_id                    = "{world["vpc_id"]}"
  name                      = "{name}"
  description               = "orders service"
{port_line}  allowed_cidr_blocks       = ["10.42.1.0/24"]
  client_security_group_ids = ["{world["app_security_group_id"]}"]
  tags = {{
    team = "payments"
  }}
{extra}{lifecycle}}}

output "cluster_sg" {{
  value = elasticache_access.a.cluster_security_group_id
}}

output "client_sg" {{
  value = elasticache_access.a.client_security_group_id
}}

output "rules" {{
  value = elasticache_access.a.ingress_rule_ids
}}

output "port" {{
  value = elasticache_access.a.port
}}
"""


def expected_rules(world: dict, client_sg: str, port: int) -> set[tuple]:
    return {
        ("tcp", port, port, client_sg),
        ("tcp", port, port, world["app_security_group_id"]),
        ("tcp", port, port, "10.42.1.0/24"),
    }


def apply_base(ws: Workspace, **kw) -> dict:
    ws.write(access_config(ws.emulator.world, **kw))
    ws.apply()
    return ws.outputs()


def assert_exact_world(ws: Workspace, name: str, port: int) -> dict:
    """The emulator holds exactly the declared groups and rules; returns the outputs."""
    emu, world = ws.emulator, ws.emulator.world
    out = ws.outputs()
    created = emu.created_groups()
    assert set(created) == {f"{name}-cluster", f"{name}-clients"}, created.keys()
    cluster, clients = created[f"{name}-cluster"], created[f"{name}-clients"]
    assert out["cluster_sg"] == cluster["GroupId"]
    assert out["client_sg"] == clients["GroupId"]
    assert out["port"] == port
    assert emu.ingress_summary(cluster["GroupId"]) == expected_rules(world, clients["GroupId"], port)
    assert emu.ingress_summary(clients["GroupId"]) == set()
    rule_ids = {r["SecurityGroupRuleId"] for r in emu.ingress(cluster["GroupId"])}
    assert set(out["rules"]) == {clients["GroupId"], world["app_security_group_id"], "10.42.1.0/24"}
    assert set(out["rules"].values()) == rule_ids
    tags = {t["Key"]: t["Value"] for t in cluster.get("Tags", [])}
    assert tags.get("team") == "payments"
    # Nothing else changed: the seeded groups are still there, untouched.
    assert world["app_security_group_id"] in emu.groups()
    return out


def test_apply_creates_exactly_the_declared_groups_and_rules_then_plan_is_empty(ws):
    ws.write(access_config(ws.emulator.world))
    r, plan = ws.plan_json()
    assert changes(plan) == {ADDR: ["create"]}
    after = plan["resource_changes"][0]["change"]["after"]
    assert (after["port"], after["name"], after["unmanaged_ingress"]) == (6379, "orders", [])
    assert plan["resource_changes"][0]["change"]["after_unknown"].get("cluster_security_group_id") is True
    ws.apply()
    assert_exact_world(ws, "orders", 6379)
    r = ws.plan_exit()
    assert r.returncode == 0, str(r)


def test_port_change_updates_in_place_without_a_gap(ws):
    apply_base(ws)
    ws.write(access_config(ws.emulator.world, port=6380))
    r = ws.plan_exit()
    assert r.returncode == 2, str(r)
    _, plan = ws.plan_json()
    assert changes(plan) == {ADDR: ["update"]}
    ws.emulator.reset_calls()
    ws.apply()
    calls = [c["action"] for c in ws.emulator.calls()]
    assert "DeleteSecurityGroup" not in calls and "CreateSecurityGroup" not in calls, calls
    # New rules are authorized before old ones are revoked.
    assert calls.index("AuthorizeSecurityGroupIngress") < calls.index("RevokeSecurityGroupIngress"), calls
    assert_exact_world(ws, "orders", 6380)
    r = ws.plan_exit()
    assert r.returncode == 0, str(r)


def test_name_change_replaces_and_create_before_destroy_applies_in_one_run(ws):
    cbd = "  lifecycle {\n    create_before_destroy = true\n  }\n"
    apply_base(ws, lifecycle=cbd)
    old = ws.outputs()
    ws.write(access_config(ws.emulator.world, name="orders-v2", lifecycle=cbd))
    _, plan = ws.plan_json()
    assert changes(plan) == {ADDR: ["create", "delete"]}, "create_before_destroy replaces new-first"
    rc = plan["resource_changes"][0]
    assert ["name"] in rc["change"].get("replace_paths", [["name"]])
    r = ws.apply()
    assert "1 added, 0 changed, 1 destroyed" in r.stdout, str(r)
    out = assert_exact_world(ws, "orders-v2", 6379)
    assert old["cluster_sg"] not in ws.emulator.groups()
    assert old["client_sg"] not in ws.emulator.groups()
    assert out["cluster_sg"] != old["cluster_sg"]
    assert ws.plan_exit().returncode == 0


def test_name_change_without_create_before_destroy_is_a_replace(ws):
    apply_base(ws)
    ws.write(access_config(ws.emulator.world, name="orders-v2"))
    _, plan = ws.plan_json()
    assert changes(plan) == {ADDR: ["delete", "create"]}
    ws.apply()
    assert_exact_world(ws, "orders-v2", 6379)


def test_rule_revoked_outside_terraform_is_re_added(ws):
    out = apply_base(ws)
    cidr_rule = out["rules"]["10.42.1.0/24"]
    ws.emulator.ec2.revoke_security_group_ingress(GroupId=out["cluster_sg"], SecurityGroupRuleIds=[cidr_rule])
    assert ("tcp", 6379, 6379, "10.42.1.0/24") not in ws.emulator.ingress_summary(out["cluster_sg"])
    r = ws.plan_exit()
    assert r.returncode == 2, str(r)
    assert "10.42.1.0/24" in r.stdout, r.stdout
    _, plan = ws.plan_json()
    assert changes(plan) == {ADDR: ["update"]}
    before = plan["resource_changes"][0]["change"]["before"]
    after = plan["resource_changes"][0]["change"]["after"]
    assert "10.42.1.0/24" not in (before.get("allowed_cidr_blocks") or [])
    assert "10.42.1.0/24" in after["allowed_cidr_blocks"]
    ws.apply()
    new = assert_exact_world(ws, "orders", 6379)
    assert new["rules"]["10.42.1.0/24"] != cidr_rule
    assert ws.plan_exit().returncode == 0


def test_rule_added_outside_terraform_is_reported_not_removed(ws):
    out = apply_base(ws)
    ws.emulator.ec2.authorize_security_group_ingress(
        GroupId=out["cluster_sg"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.42.9.0/24"}]}])
    ws.apply("-refresh-only")
    unmanaged = ws.resource_state(ADDR)["unmanaged_ingress"]
    assert [(u["from_port"], u["source"]) for u in unmanaged] == [(22, "10.42.9.0/24")]
    assert ws.plan_exit().returncode == 0


def setup_for_import(ws: Workspace) -> dict:
    """An access created by Terraform, then forgotten by it: an existing setup to import."""
    out = apply_base(ws)
    ws.run("state", "rm", ADDR, check=True)
    return out


def test_terraform_import_command_then_plan_is_empty(ws, workspace_factory):
    out = setup_for_import(ws)
    other = workspace_factory("imported")
    # Without outputs: Terraform < 1.x records outputs only on apply, and they would be "changes".
    other.write(access_config(ws.emulator.world).split("\noutput ")[0])
    r = other.run("import", "-no-color", "-input=false", ADDR, out["cluster_sg"], check=True)
    assert "Import successful" in r.stdout, str(r)
    r = other.plan_exit()
    assert r.returncode == 0, str(r)
    state = other.resource_state(ADDR)
    assert state["ingress_rule_ids"] == out["rules"]
    assert (state["name"], state["description"], state["port"]) == ("orders", "orders service", 6379)


def test_import_block_then_plan_is_empty(terraform, ws, workspace_factory):
    if not terraform.at_least(1, 5):
        pytest.skip(f"import blocks need Terraform 1.5+; this client is {terraform.label}")
    out = setup_for_import(ws)
    other = workspace_factory("imported")
    other.write(access_config(ws.emulator.world) + f'\nimport {{\n  to = {ADDR}\n  id = "{out["cluster_sg"]}"\n}}\n')
    _, plan = other.plan_json()
    rc = plan["resource_changes"][0]
    assert rc["change"]["actions"] == ["no-op"], rc
    assert rc["change"].get("importing", {}).get("id") == out["cluster_sg"]
    r = other.apply()
    assert "1 imported, 0 added, 0 changed, 0 destroyed" in r.stdout, str(r)
    assert other.plan_exit().returncode == 0
    assert_exact_world(other, "orders", 6379)


def test_destroy_leaves_nothing_behind(ws):
    out = apply_base(ws)
    before = set(ws.emulator.groups())
    ws.destroy()
    after = ws.emulator.groups()
    assert ws.emulator.created_groups() == {}
    assert set(after) == before - {out["cluster_sg"], out["client_sg"]}
    for sg in (out["cluster_sg"], out["client_sg"]):
        assert ws.emulator.rules_referencing(sg) == []
    app = ws.emulator.world["app_security_group_id"]
    assert app in after, "the existing client group is not the access's to delete"
    assert ws.state().get("values") in (None, {}, {"root_module": {}}) or not ws.state()["values"]["root_module"].get("resources")


def test_cluster_gives_vpc_port_and_endpoint(ws):
    world = ws.emulator.world
    ws.write(f"""\
resource "elasticache_access" "a" {{
  cluster {{
    replication_group_id = "{world["replication_group_id"]}"
  }}
  name = "redis-clients"
}}

output "vpc" {{
  value = elasticache_access.a.vpc_id
}}

output "endpoint" {{
  value = elasticache_access.a.cluster_endpoint
}}
""")
    _, plan = ws.plan_json()
    after = plan["resource_changes"][0]["change"]["after"]
    assert after["vpc_id"] == world["vpc_id"]
    assert after["port"] == world["redis_port"]
    ws.apply()
    out = ws.outputs()
    assert out["vpc"] == world["vpc_id"]
    assert out["endpoint"].endswith(f":{world['redis_port']}")
    cluster = ws.emulator.created_groups()["redis-clients-cluster"]
    client = ws.emulator.created_groups()["redis-clients-clients"]
    assert ws.emulator.ingress_summary(cluster["GroupId"]) == {("tcp", 6379, 6379, client["GroupId"])}
    assert ws.plan_exit().returncode == 0
    ws.destroy()
    assert ws.emulator.created_groups() == {}


def test_unknown_inputs_plan_and_apply(ws):
    """`client_security_group_ids` from another access's output and a `vpc_id` known only during
    apply: both plan (with unknowns), apply, and leave an empty plan."""
    world = ws.emulator.world
    ws.write(f"""\
resource "elasticache_access" "a" {{
  vpc_id = "{world["vpc_id"]}"
  name   = "backend"
}}

resource "elasticache_access" "b" {{
  # Unknown until "a" exists: the conditional depends on a's id.
  vpc_id                    = elasticache_access.a.id != "" ? "{world["vpc_id"]}" : "{world["vpc_id"]}"
  name                      = "frontend"
  create_client_security_group = false
  client_security_group_ids = [elasticache_access.a.client_security_group_id]
}}
""")
    _, plan = ws.plan_json()
    assert changes(plan) == {"elasticache_access.a": ["create"], "elasticache_access.b": ["create"]}
    b = next(rc for rc in plan["resource_changes"] if rc["address"] == "elasticache_access.b")
    unknown = b["change"]["after_unknown"]
    assert unknown.get("vpc_id") is True
    assert unknown.get("client_security_group_ids") in (True, [True])
    ws.apply()
    created = ws.emulator.created_groups()
    assert set(created) == {"backend-cluster", "backend-clients", "frontend-cluster"}
    a_client = created["backend-clients"]["GroupId"]
    assert ws.emulator.ingress_summary(created["frontend-cluster"]["GroupId"]) == {("tcp", 6379, 6379, a_client)}
    assert ws.plan_exit().returncode == 0
    ws.destroy()
    assert ws.emulator.created_groups() == {}


def test_failed_create_keeps_what_exists_in_state_and_the_next_apply_recovers(ws):
    """An apply error returns the partial state: Terraform tracks (taints) the groups that exist, and
    the next apply replaces them instead of leaking them."""
    ws.write(access_config(ws.emulator.world))
    ws.emulator.fault(service="ec2", action="AuthorizeSecurityGroupIngress", code="InvalidParameterValue",
                      status=400, count=1, message="injected by the test")
    r = ws.run("apply", "-auto-approve", "-no-color", "-input=false")
    assert r.returncode == 1, str(r)
    assert "injected by the test" in r.output, str(r)
    resources = ws.state()["values"]["root_module"]["resources"]
    assert [x["address"] for x in resources] == [ADDR]
    partial = resources[0]["values"]
    assert resources[0].get("tainted") is True or '"status": "tainted"' in (ws.dir / "terraform.tfstate").read_text()
    assert partial["cluster_security_group_id"] in ws.emulator.groups()
    ws.emulator.clear_faults()
    ws.apply()
    assert partial["cluster_security_group_id"] not in ws.emulator.groups()
    assert_exact_world(ws, "orders", 6379)
    assert ws.plan_exit().returncode == 0


def test_interrupt_stops_the_provider_waiting_on_aws(ws):
    """Ctrl-C: Terraform sends StopProvider, which cancels the provider's wait (here a delete that
    waits out DependencyViolation for up to 10 minutes); the run ends in seconds, and the access is
    still in state because it still exists."""
    import os
    import signal
    import subprocess
    import time

    world = ws.emulator.world
    ws.write(access_config(world, extra='  timeouts {\n    delete = "10m"\n  }\n'))
    ws.apply()
    out = ws.outputs()
    # Another group's rule references the cluster group: AWS refuses to delete it.
    holder = ws.emulator.ec2.create_security_group(GroupName="holder", Description="holds", VpcId=world["vpc_id"])["GroupId"]
    ws.emulator.ec2.authorize_security_group_ingress(
        GroupId=holder,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "UserIdGroupPairs": [{"GroupId": out["cluster_sg"]}]}])
    env, log = ws.warn_log_env()
    p = subprocess.Popen([ws.tf.binary, "destroy", "-auto-approve", "-no-color", "-input=false"], cwd=ws.dir,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            calls = [c["action"] for c in ws.emulator.calls()]
            if calls.count("DeleteSecurityGroup") >= 2:  # the client group went, the cluster group is held
                break
            time.sleep(0.2)
        assert calls.count("DeleteSecurityGroup") >= 2, calls
        time.sleep(1)
        started = time.monotonic()
        # Ctrl-C reaches the whole foreground process group: Terraform (1.0's panicwrap parent and
        # child alike) and the provider, which must ignore it and wait for StopProvider.
        os.killpg(p.pid, signal.SIGINT)
        stdout, stderr = p.communicate(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode != 0, stdout + stderr
    assert elapsed < 30, f"Terraform took {elapsed:.1f}s to stop after the interrupt"
    assert "Interrupt received" in stdout + stderr
    # Stopped by StopProvider (the provider ignores SIGINT), not killed: the delete's error says so.
    assert "the operation was cancelled" in stdout + stderr, stdout + stderr
    assert "plugin failed to exit gracefully" not in stdout + stderr + log.read_text(errors="replace")
    assert out["cluster_sg"] in ws.emulator.groups()
    # The access is still tracked, so removing what holds it and destroying again cleans up.
    ws.emulator.ec2.delete_security_group(GroupId=holder)
    ws.destroy()
    assert ws.emulator.created_groups() == {}


def test_state_written_by_schema_version_zero_is_upgraded(ws):
    """UpgradeResourceState: a state object of schema version 0 (no client_ssh_rule_ids, no
    unmanaged_ingress) is read, upgraded and planned without changes."""
    import json

    out = apply_base(ws)
    path = ws.dir / "terraform.tfstate"
    st = json.loads(path.read_text())
    inst = st["resources"][0]["instances"][0]
    inst["schema_version"] = 0
    for gone in ("client_ssh_rule_ids", "unmanaged_ingress"):
        inst["attributes"].pop(gone, None)
    path.write_text(json.dumps(st))
    r = ws.plan_exit()
    assert r.returncode == 0, str(r)
    ws.apply()
    st = json.loads(path.read_text())
    inst = st["resources"][0]["instances"][0]
    assert inst["schema_version"] >= 1
    assert inst["attributes"]["unmanaged_ingress"] == []
    assert inst["attributes"]["ingress_rule_ids"] == out["rules"]

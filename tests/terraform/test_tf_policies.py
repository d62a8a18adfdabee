"""The shipped policies (policies/: checkov, Rego, the Pulumi pack) on real plans: the real terraform
CLI plans accesses against the emulator with the built provider, `terraform show -json` of each plan
is judged by all three (tests/policies/policy_harness.py runs them), and each must block exactly the
blocking findings the provider put in the plan, naming the access.

Three plans, nothing applied: a private access to a cluster with TLS and an AUTH token (passes), a
public CIDR with `allow_public_cidrs` to the same cluster (public-source), and a private access to
the seeded Redis, which has transit encryption off (no-transit-encryption). One CLI, the newest found:
the policies read the plan's JSON, which every CLI of the matrix writes alike (the attribute itself
is tested on every CLI by the reachability tests).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import terraform_finder  # tests/common

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policies"))
from policy_harness import (  # noqa: E402
    blocking_ids, pulumi_resources, pulumi_urn, rego_deny, run_checkov, run_pulumi,
)

SECURE = "secure-cache"


@pytest.fixture(scope="session")
def terraform():
    """The newest CLI found (overrides the matrix of tf_harness for this module)."""
    found = terraform_finder.find_terraforms()
    if not found:
        pytest.fail("no terraform found: run scripts/setup")
    return found[-1]


def blocking_findings(plan: dict) -> set[tuple[str, str]]:
    out = set()
    for rc in plan["resource_changes"]:
        if rc["type"] == "elasticache_access":
            reach = rc["change"]["after"].get("reachability")
            assert isinstance(reach, dict), f"{rc['address']}: no reachability object in the plan: {rc['change']}"
            out |= {(rc["address"], f["id"]) for f in reach["findings"] if f["id"] in blocking_ids()}
    return out


def test_the_three_policies_judge_real_plans(workspace_factory, emulator, tmp_path):
    seed = emulator.world
    emulator.elasticache.create_replication_group(
        ReplicationGroupId=SECURE, ReplicationGroupDescription="TLS and AUTH", Engine="valkey",
        CacheNodeType="cache.t3.micro", NumCacheClusters=1, Port=6379, CacheSubnetGroupName=seed["subnet_group"],
        TransitEncryptionEnabled=True, AuthToken="a-long-enough-auth-token")
    configs = {
        "private": f'''
            resource "elasticache_access" "app" {{
              cluster {{ replication_group_id = "{SECURE}" }}
              allowed_cidr_blocks = ["10.20.0.0/16"]
            }}
            ''',
        "public": f'''
            resource "elasticache_access" "partner" {{
              cluster {{ replication_group_id = "{SECURE}" }}
              create_client_security_group = false
              allowed_cidr_blocks = ["203.0.113.0/24"]
              allow_public_cidrs  = true
            }}
            ''',
        "no-tls": f'''
            resource "elasticache_access" "legacy" {{
              cluster {{ replication_group_id = "{seed['replication_group_id']}" }}
              allowed_cidr_blocks = ["10.20.0.0/16"]
            }}
            ''',
    }
    plans_dir = tmp_path / "plans"
    plans_dir.mkdir()
    plans = {}
    for name, body in configs.items():
        ws = workspace_factory(name)
        ws.write(body)
        _, plans[name] = ws.plan_json()
        (plans_dir / f"{name}.json").write_text(json.dumps(plans[name]))

    found = {n: blocking_findings(p) for n, p in plans.items()}
    assert found["private"] == set(), found
    assert ("elasticache_access.partner", "public-source") in found["public"], found
    assert ("elasticache_access.legacy", "no-transit-encryption") in found["no-tls"], found

    proc, by_file = run_checkov(plans_dir)
    for name, plan in plans.items():
        checkov = {(r["resource"], d.partition(" on ")[0]) for r in by_file[f"{name}.json"]
                   if r["status"] == "failed_checks" for d in r["details"]}
        rego = {(m.split(": ")[0], m.split(": ")[1].partition(" on ")[0]) for m in rego_deny(plan)}
        by_urn = {pulumi_urn(rc["address"]): rc["address"] for rc in plan["resource_changes"]}
        pulumi = {(by_urn[urn], msg.partition(" on ")[0]) for _, urn, msg in run_pulumi(pulumi_resources(plan))}
        assert checkov == rego == pulumi == found[name], (name, checkov, rego, pulumi, found[name])
    assert proc.returncode == 1

"""The shipped policies (policies/checkov, policies/rego, policies/pulumi) on Terraform plan JSON that
follows the reachability contract (tests/policies/fixtures), with the real engines: checkov 3 (run
once for the whole module on every plan), regopy and pulumi-policy's validations.

Each plan has the findings it has; every policy must block exactly the blocking ones (findings.json)
and name the access and the finding: the public plan fails on the partner access only, the plan
without transit encryption fails, the private plan (with a non-blocking finding) and the plan whose
reachability is unknown pass. One plan per finding of the table checks that every blocking id is
enforced by all three and that no other id is.
"""

from __future__ import annotations

import copy
import json
import re
import shutil

import pytest

from policy_harness import (
    CHECKOV_CHECK_PREFIX, FIXTURES, blocking_ids, findings_table,
    pulumi_policies, pulumi_resources, pulumi_urn, rego_deny, rego_query, run_checkov, run_pulumi,
)

# What each fixture must be blocked for: (resource address, finding id). Written out, not derived.
EXPECTED = {
    "plan-private.json": set(),  # its second access, public, is being destroyed
    "plan-unknown.json": set(),
    "plan-public.json": {("elasticache_access.partner", "public-source")},
    "plan-no-tls.json": {("elasticache_access.legacy", "no-transit-encryption")},
    "plan-world.json": {("module.cache.elasticache_access.open", "open-to-world")},  # replaced, in a module
}


def one_finding_plan(finding: dict) -> dict:
    """The private plan with its access's findings replaced by one finding of the table."""
    plan = json.loads((FIXTURES / "plan-private.json").read_text())
    f = {"id": finding["id"], "severity": finding["severity"], "subject": "sg-0aa11bb22cc33dd44",
         "message": f"fixture: {finding['title']}"}
    for rc in plan["resource_changes"]:
        if rc["address"] == "elasticache_access.app":
            rc["change"]["after"]["reachability"]["findings"] = [f]
            rc["change"]["after_unknown"]["reachability"]["findings"] = [{}]
    for r in plan["planned_values"]["root_module"]["resources"]:
        r["values"]["reachability"]["findings"] = [copy.deepcopy(f)]
    return plan


def all_plans() -> dict[str, dict]:
    plans = {p.name: json.loads(p.read_text()) for p in sorted(FIXTURES.glob("plan-*.json"))}
    for f in findings_table():
        plans[f"plan-finding-{f['id']}.json"] = one_finding_plan(f)
    return plans


@pytest.fixture(scope="module")
def plans() -> dict[str, dict]:
    got = all_plans()
    assert set(EXPECTED) <= set(got), f"fixtures missing: {set(EXPECTED) - set(got)}"
    return got


@pytest.fixture(scope="module")
def checkov_results(plans, tmp_path_factory):
    """One checkov run on a directory holding every plan (checkov takes ~4 s to start)."""
    d = tmp_path_factory.mktemp("plans")
    for name, plan in plans.items():
        (d / name).write_text(json.dumps(plan, indent=1))
    proc, by_file = run_checkov(d)
    return proc, by_file


def parse_message(msg: str) -> tuple[str, str, str]:
    """`<address or urn>: <finding id> on <subject>: <message>` -> (address, id, subject)."""
    m = re.fullmatch(r"(\S+): ([a-z-]+) on (\S+): .+", msg)
    assert m, f"not `<access>: <finding> on <subject>: <message>`: {msg!r}"
    return m.group(1), m.group(2), m.group(3)


def checkov_blocked(results: list[dict]) -> set[tuple[str, str]]:
    out = set()
    for r in results:
        assert r["check_id"].startswith(CHECKOV_CHECK_PREFIX), r
        if r["status"] != "failed_checks":
            continue
        assert r["details"], f"{r['check_id']} failed {r['resource']} without naming the finding"
        for d in r["details"]:
            fid, _, rest = d.partition(" on ")
            assert rest and f"no {fid} " in r["name"], (r["name"], d)
            out.add((r["resource"], fid))
    return out


def rego_blocked(plan: dict) -> set[tuple[str, str]]:
    return {parse_message(m)[:2] for m in rego_deny(plan)}


def pulumi_blocked(plan: dict) -> set[tuple[str, str]]:
    by_urn = {pulumi_urn(rc["address"]): rc["address"] for rc in plan["resource_changes"]}
    out = set()
    for name, urn, msg in run_pulumi(pulumi_resources(plan)):
        assert urn in by_urn, f"{name} reported against {urn!r}, not an access of the plan"
        fid = msg.partition(" on ")[0]
        assert name == f"elasticache-access-{fid}", (name, msg)
        out.add((by_urn[urn], fid))
    return out


def fixture_plans(plans: dict[str, dict]) -> dict[str, dict]:
    return {n: p for n, p in plans.items() if n in EXPECTED}


def test_checkov_blocks_what_each_plan_must_and_names_it(plans, checkov_results):
    proc, by_file = checkov_results
    assert set(by_file) == set(plans), f"checkov judged {sorted(by_file)}, not every plan"
    wrong = {n: (checkov_blocked(by_file[n]), want) for n, want in EXPECTED.items()
             if checkov_blocked(by_file[n]) != want}
    assert not wrong, f"checkov (blocked, expected): {wrong}"
    # Every check judged every access (one that skipped a resource would pass it unseen).
    for name, plan in plans.items():
        accesses = {rc["address"] for rc in plan["resource_changes"] if rc["change"]["after"] is not None}
        judged = {(r["resource"], r["check_id"]) for r in by_file[name]}
        assert len(judged) == len(accesses) * len(blocking_ids()), (name, sorted(judged))
    assert proc.returncode == 1  # some plan fails: the exit code a pipeline stops on


def test_checkov_exits_0_when_a_finding_is_accepted_by_a_skip_comment_in_the_configuration(tmp_path):
    """The guide's way to accept a finding for one access: `#checkov:skip=` on the resource, read from
    the configuration with --repo-root-for-plan-enrichment. With the private plan beside, checkov
    exits 0 (what lets a pipeline go on) and reports the skip."""
    shutil.copy(FIXTURES / "plan-private.json", tmp_path / "private.json")
    shutil.copy(FIXTURES / "plan-no-tls.json", tmp_path / "legacy.json")
    (tmp_path / "main.tf").write_text(
        'resource "elasticache_access" "legacy" {\n'
        "  #checkov:skip=CKV_ECACCESS_3:legacy cluster, TLS in Q3\n"
        '  cluster {\n    replication_group_id = "legacy"\n  }\n}\n')
    # (checkov reads skip comments for plans given with -f, not for a directory given with -d)
    proc, by_file = run_checkov(tmp_path / "legacy.json", "-f", str(tmp_path / "private.json"),
                                "--repo-root-for-plan-enrichment", str(tmp_path))
    assert proc.returncode == 0, f"checkov exited {proc.returncode}\n{proc.stdout[-2000:]}"
    assert {r["status"] for r in by_file["private.json"]} == {"passed_checks"}
    # checkov files the skipped result under the configuration file the skip comment is in.
    legacy = {(r["check_id"], r["status"]) for rs in by_file.values() for r in rs
              if r["resource"] == "elasticache_access.legacy"}
    assert legacy == {("CKV_ECACCESS_1", "passed_checks"), ("CKV_ECACCESS_2", "passed_checks"),
                      ("CKV_ECACCESS_3", "skipped_checks"), ("CKV_ECACCESS_4", "passed_checks")}, legacy


def test_rego_denies_what_each_plan_must_and_names_it(plans):
    wrong = {n: (rego_blocked(p), EXPECTED[n]) for n, p in fixture_plans(plans).items()
             if rego_blocked(p) != EXPECTED[n]}
    assert not wrong, f"rego (denied, expected): {wrong}"
    msgs = rego_deny(plans["plan-public.json"])
    assert msgs == ["elasticache_access.partner: public-source on 203.0.113.0/24: "
                    "203.0.113.0/24 is outside the private ranges and reaches port 6379"], msgs


def test_pulumi_pack_reports_what_each_plan_must_against_the_access_urn(plans):
    wrong = {n: (pulumi_blocked(p), EXPECTED[n]) for n, p in fixture_plans(plans).items()
             if pulumi_blocked(p) != EXPECTED[n]}
    assert not wrong, f"pulumi (reported, expected): {wrong}"


def test_every_blocking_finding_fails_each_policy_and_no_other_finding_does(plans, checkov_results):
    """The one-finding plans: a blocking id of the table fails all three, a non-blocking one none."""
    _, by_file = checkov_results
    wrong = {}
    for f in findings_table():
        name = f"plan-finding-{f['id']}.json"
        want = {("elasticache_access.app", f["id"])} if f["blocking"] else set()
        got = {"checkov": checkov_blocked(by_file[name]), "rego": rego_blocked(plans[name]),
               "pulumi": pulumi_blocked(plans[name])}
        wrong.update({(f["id"], tool): g for tool, g in got.items() if g != want})
    assert not wrong, f"(finding, policy): what it blocked instead of the table's verdict: {wrong}"


def test_the_policies_block_the_table_s_blocking_ids(checkov_results):
    """Each policy's own list of blocking ids is the table's (a stale or extra id fails here)."""
    want = blocking_ids()
    assert set(rego_query({}, "data.elasticache.access.blocking")) == want
    pulumi = pulumi_policies()
    assert set(pulumi.BLOCKING) == want
    severity = {f["id"]: f["severity"] for f in findings_table()}
    assert {k: v[0].value for k, v in pulumi.BLOCKING.items()} == {k: severity[k] for k in want}
    # checkov: the checks that ran, by the finding their name carries; one stable id each.
    _, by_file = checkov_results
    names = {r["check_id"]: r["name"] for rs in by_file.values() for r in rs}
    ids = {}
    for check_id, name in names.items():
        m = re.search(r"reachability: no ([a-z-]+) \(", name)
        assert m and re.fullmatch(r"CKV_ECACCESS_\d+", check_id), (check_id, name)
        ids[m.group(1)] = check_id
    assert set(ids) == want and len(ids) == len(names), names

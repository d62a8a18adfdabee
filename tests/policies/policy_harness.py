"""The three shipped policies (policies/) run as reviewers run them, on Terraform plan JSON:

- checkov (its own venv, <venv>/checkov, made by scripts/setup: checkov pins boto3 below the
  project's moto) with `--framework terraform_plan --skip-download --external-checks-dir`, once on a
  directory of plans (checkov starts in about 4 s);
- the Rego policy, evaluated by regopy (rego-cpp), `data.elasticache.access.deny`;
- the Pulumi policy pack's stack validations, called as pulumi-policy's analyzer calls them: a
  `StackValidationArgs` of `PolicyResource`s whose props are the resources' outputs wrapped in
  pulumi-policy's unknown-checking proxy.

Each runner returns the set of (resource, finding id) it blocks, with the message it printed, so the
tests compare the three with each other and with the findings of the plan.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
FINDINGS = POLICIES / "findings.json"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REGO = POLICIES / "rego" / "elasticache_access.rego"
CHECKOV_CHECK_PREFIX = "CKV_ECACCESS_"
ACCESS_TOKEN = "elasticache:index:Access"


def findings_table() -> list[dict]:
    return json.loads(FINDINGS.read_text())


def blocking_ids() -> set[str]:
    return {f["id"] for f in findings_table() if f["blocking"]}


# --- checkov ---------------------------------------------------------------------------------------

def checkov_binary() -> Path:
    venv = Path(os.environ.get("ELASTICACHE_VENV") or sys.prefix)
    for v in (venv, Path(sys.prefix)):
        b = v / "checkov" / "bin" / "checkov"
        if b.is_file():
            return b
    pytest.fail(f"no checkov in {venv}/checkov: run scripts/setup (it makes checkov's own venv there)")


def checkov_command(target: Path) -> list[str]:
    """The command of docs/guides/reviewing-access.md, on a file or a directory of plans."""
    return [str(checkov_binary()), "--framework", "terraform_plan", "--skip-download",
            "--external-checks-dir", str(POLICIES / "checkov"), "--check", f"{CHECKOV_CHECK_PREFIX}*",
            "-d" if target.is_dir() else "-f", str(target), "-o", "json"]


def run_checkov(target: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict[str, list[dict]]]:
    """Runs checkov once; returns the process and its results by plan file name."""
    env = {**os.environ, "HOME": str(target if target.is_dir() else target.parent), "LOG_LEVEL": "WARNING"}
    proc = subprocess.run(checkov_command(target) + list(extra), capture_output=True, text=True, timeout=300, env=env,
                          cwd=target if target.is_dir() else target.parent)
    assert proc.returncode in (0, 1), f"checkov exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    by_file: dict[str, list[dict]] = {}
    for r in reports:
        assert r["check_type"] == "terraform_plan", r["check_type"]
        assert r["summary"]["parsing_errors"] == 0, r["summary"]
        for status in ("passed_checks", "failed_checks", "skipped_checks"):
            for c in r["results"][status]:
                by_file.setdefault(Path(c["file_path"]).name, []).append(
                    {"status": status, "check_id": c["check_id"], "resource": c["resource"],
                     "details": c.get("details") or [], "name": c["check_name"]})
    return proc, by_file


# --- Rego ------------------------------------------------------------------------------------------

def rego_query(plan: dict, query: str):
    import regopy

    interp = regopy.Interpreter()
    interp.add_module(REGO.name, REGO.read_text())
    interp.set_input(regopy.Input(plan))
    out = interp.query(f"x := {query}")
    assert out.ok(), f"the Rego engine failed on {query}: {out}"
    return json.loads(out.binding("x").json())


def rego_deny(plan: dict) -> list[str]:
    return rego_query(plan, "data.elasticache.access.deny")


# --- Pulumi ----------------------------------------------------------------------------------------

def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.title() for w in rest)


def _camel_keys(value):
    """The object with Pulumi's property names at every level (`schema_version` -> `schemaVersion`)."""
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


OTHER_RESOURCE = ("aws:ec2/securityGroup:SecurityGroup", "urn:pulumi:ci::orders::aws:ec2/securityGroup:SecurityGroup::other",
                  {"ingress": [{"cidrBlocks": ["0.0.0.0/0"], "fromPort": 6379, "toPort": 6379}],
                   "reachability": {"findings": [{"id": "open-to-world", "subject": "0.0.0.0/0", "message": "x"}]}})


def pulumi_outputs(plan: dict) -> list[tuple[str, str, dict]]:
    """(type, urn, outputs) of the plan's accesses as the Pulumi provider would give them: the Pulumi
    schema's camelCase property names (the reachability object's too: `schemaVersion`, `onGroup`,
    ...; tags keep their keys), an unknown `reachability` as pulumi's unknown sentinel; and, beside
    them, a resource of another type that the pack must leave alone."""
    from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE

    out = []
    for rc in plan["resource_changes"]:
        after = rc["change"]["after"]
        if rc["type"] != "elasticache_access" or after is None:  # destroyed: not in the stack any more
            continue
        props = {_camel(k): v for k, v in after.items()}
        props["reachability"] = _camel_keys(after["reachability"]) if "reachability" in after else UNKNOWN_OBJECT_VALUE
        out.append((ACCESS_TOKEN, pulumi_urn(rc["address"]), props))
    return out + [copy.deepcopy(OTHER_RESOURCE)]


def pulumi_resources(plan: dict) -> list:
    """pulumi_outputs as pulumi-policy's analyzer hands them to a stack validation: PolicyResources
    whose props are behind its unknown-checking proxy."""
    from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
    from pulumi_policy.proxy import unknown_checking_proxy

    opts = PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 additional_secret_outputs=[], custom_timeouts=PolicyCustomTimeouts(0, 0, 0))
    return [PolicyResource(t, unknown_checking_proxy(props), urn, urn.rsplit("::", 1)[1], opts, None, None, [], {})
            for t, urn, props in pulumi_outputs(plan)]


def pulumi_urn(address: str) -> str:
    name = address.replace("elasticache_access.", "").replace(".", "-")
    return f"urn:pulumi:ci::orders::{ACCESS_TOKEN}::{name}"


def pulumi_policies():
    sys.path.insert(0, str(POLICIES / "pulumi"))
    try:
        import elasticache_access_policy
    finally:
        sys.path.remove(str(POLICIES / "pulumi"))
    return elasticache_access_policy


def run_pulumi(resources: list) -> list[tuple[str, str, str]]:
    """(policy name, urn, message) of every violation the pack's validations report."""
    from pulumi_policy import StackValidationArgs

    violations = []
    for policy in pulumi_policies().POLICIES:
        def report(message, urn=None, name=policy.name):
            violations.append((name, urn, message))

        result = policy.validate(StackValidationArgs(resources), report)
        assert result is None, f"{policy.name} returned {result!r}: the validations are synchronous"
    return violations

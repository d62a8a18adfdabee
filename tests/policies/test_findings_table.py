"""policies/findings.json: the provider's one table of findings, as `generate` writes it, in step with
the reachability contract, with the policies (test_policies.py) and with the guide."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest

from policy_harness import FINDINGS, FIXTURES, ROOT, blocking_ids, findings_table

GUIDE = ROOT / "docs" / "guides" / "reviewing-access.md"
README = ROOT / "README.md"
SEVERITIES = ("critical", "high", "medium", "low")
# The contract's table (docs/guides/reviewing-access.md repeats it): ids and severities.
CONTRACT = {
    "open-to-world": "critical",
    "public-source": "high",
    "no-transit-encryption": "high",
    "no-authentication": "high",
    "wide-port-range": "medium",
    "unknown-referenced-group": "medium",
    "nacl-denies-port": "low",
}


def test_findings_json_follows_the_contract():
    table = findings_table()
    assert all(set(f) == {"id", "severity", "title", "blocking"} for f in table), table
    ids = [f["id"] for f in table]
    assert len(ids) == len(set(ids)), f"duplicate ids: {ids}"
    assert {f["id"]: f["severity"] for f in table} == CONTRACT
    for f in table:
        assert f["blocking"] == (f["severity"] in ("critical", "high")), f
        assert f["title"] and "\n" not in f["title"], f


def test_findings_json_is_what_the_provider_generates(tmp_path):
    """`generate` writes policies/findings.json from the provider's table of findings (the table is
    the core's, branch `reach`): the committed file is byte for byte what it writes."""
    binary = Path(os.environ.get("ELASTICACHE_PROVIDER_DIR", ROOT / "target" / "debug")) / "terraform-provider-elasticache"
    if not binary.exists():
        pytest.fail(f"{binary} does not exist: cargo build --workspace")
    root = tmp_path / "repo"
    (root / "provider").mkdir(parents=True)
    (root / "Cargo.toml").write_text("")
    (root / "provider" / "Cargo.toml").write_text("")
    proc = subprocess.run([str(binary), "generate", "--root", str(root)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    written = root / "policies" / "findings.json"
    assert written.is_file(), "the provider's `generate` does not write policies/findings.json"
    assert written.read_text() == FINDINGS.read_text()


def _section(text: str, heading: str) -> str:
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert m, f"no `## {heading}` in {GUIDE.name}"
    return m.group(1)


def test_the_guide_lists_every_finding_and_each_policy_names_every_blocking_one():
    text = GUIDE.read_text()
    table = _section(text, "Findings")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z-]+)` \| (\w+) \|", table, re.M)}
    assert rows == CONTRACT == {f["id"]: f["severity"] for f in findings_table()}, rows
    for heading in ("checkov", "Rego (OPA, conftest)", "Pulumi policy pack"):
        section = _section(text, heading)
        missing = {i for i in blocking_ids() if f"`{i}`" not in section and i not in section}
        assert not missing, f"`## {heading}` does not name {missing}"
    checkov = _section(text, "checkov")
    for i in blocking_ids():
        assert re.search(rf"`CKV_ECACCESS_\d+` \| `{i}`", checkov), f"no checkov id listed for {i}"
    pulumi = _section(text, "Pulumi policy pack")
    for i in blocking_ids():
        assert f"elasticache-access-{i}" in pulumi, i
    for path in ("policies/checkov", "policies/rego/elasticache_access.rego", "policies/pulumi",
                 "policies/findings.json", "sdk-schemas/jsonschema/reachability.schema.json",
                 "elasticache_reachability", "--skip-download"):
        assert path in text, f"the guide does not mention {path}"


def test_the_guide_s_audit_example_is_the_tested_example():
    block = re.search(r"```hcl\n(.*?)```", _section(GUIDE.read_text(), "Auditing any cluster"), re.S)
    assert block, "no hcl block in `## Auditing any cluster`"
    example = (ROOT / "examples" / "terraform" / "reachability-check" / "main.tf").read_text()
    assert block.group(1) in example, "the guide's check example differs from examples/terraform/reachability-check"


def test_readme_links_the_guide():
    assert "(docs/guides/reviewing-access.md)" in README.read_text()


def test_the_fixtures_follow_the_reachability_json_schema():
    """The plans the policies are tested on carry objects the provider could produce: each validates
    against sdk-schemas/jsonschema/reachability.schema.json (generated from the provider's type)."""
    schema = json.loads((ROOT / "sdk-schemas" / "jsonschema" / "reachability.schema.json").read_text())

    def closed(node):  # no key the provider's type does not have, either
        if isinstance(node, dict):
            out = {k: closed(v) for k, v in node.items()}
            if "properties" in out:
                out["additionalProperties"] = False
            return out
        return [closed(v) for v in node] if isinstance(node, list) else node

    schema = closed(schema)
    validator = jsonschema.Draft202012Validator(schema)
    seen = 0
    for path in sorted(FIXTURES.glob("plan-*.json")):
        plan = json.loads(path.read_text())
        for rc in plan["resource_changes"]:
            for side in ("before", "after"):
                reach = (rc["change"][side] or {}).get("reachability")
                if reach is not None:
                    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(reach)]
                    assert not errors, f"{path.name} {rc['address']} {side}: {errors}"
                    seen += 1
    assert seen >= 6, seen

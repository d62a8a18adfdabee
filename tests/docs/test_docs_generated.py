"""The generated files: drift (the provider's `generate --check`) and the Terraform schema export
against what real Terraform prints for the built provider."""

from __future__ import annotations

import json
import subprocess

import terraform_finder  # tests/common
from docs_harness import PROVIDER_ADDRESS, PROVIDER_SOURCE, REPO, TF_PLUGIN, version_tuple, workdir

SCHEMA_FILE = REPO / "sdk-schemas" / "terraform" / "schema.json"
PLUGIN_MESSAGE = "This binary is a plugin"


def test_generate_check_reports_no_drift(plugin_built):
    proc = subprocess.run([str(TF_PLUGIN), "generate", "--check", "--root", str(REPO)], capture_output=True,
                          text=True, timeout=120)
    assert PLUGIN_MESSAGE not in proc.stderr, "the `generate` subcommand is not wired into the binary's main"
    assert proc.returncode == 0, f"generated files drifted:\n{proc.stdout}\n{proc.stderr}"
    assert "up to date" in proc.stdout


def test_generate_check_fails_on_a_stale_copy(plugin_built, tmp_path):
    proc = subprocess.run([str(TF_PLUGIN), "generate", "--help"], capture_output=True, text=True, timeout=60)
    assert PLUGIN_MESSAGE not in proc.stderr, "the `generate` subcommand is not wired into the binary's main"
    root = tmp_path / "repo"
    (root / "provider").mkdir(parents=True)
    (root / "Cargo.toml").write_text("")
    (root / "provider" / "Cargo.toml").write_text("")
    check = [str(TF_PLUGIN), "generate", "--check", "--root", str(root)]
    proc = subprocess.run(check, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "docs/resources/access.md" in proc.stderr, proc.stderr
    proc = subprocess.run([str(TF_PLUGIN), "generate", "--root", str(root)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    for rel in ("docs/index.md", "docs/resources/access.md", "sdk-schemas/terraform/schema.json",
                "sdk-schemas/pulumi/schema.json"):
        assert (root / rel).read_bytes() == (REPO / rel).read_bytes(), rel
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 0


def test_terraform_schema_export_matches_terraform_providers_schema(version, terraform, plugin_built, tmp_path):
    main_tf = ('terraform {\n  required_providers {\n    elasticache = {\n'
               f'      source = "{PROVIDER_SOURCE}"\n    }}\n  }}\n}}\n')
    wd = workdir(tmp_path, terraform, "http://127.0.0.1:9", main_tf=main_tf)
    real = json.loads(wd.run("providers", "schema", "-json").stdout)
    exported = json.loads(SCHEMA_FILE.read_text())
    # The export is what 1.15 prints; older versions leave out what they do not know: ephemeral
    # resources (1.10+), resource identities (1.12+) and list resources (1.14+).
    for key, since in (("ephemeral_resource_schemas", (1, 10)), ("resource_identity_schemas", (1, 12)),
                       ("list_resource_schemas", (1, 14))):
        if tuple(version_tuple(version))[:2] < since:
            for p in exported["provider_schemas"].values():
                p.pop(key, None)
    assert list(real["provider_schemas"]) == [PROVIDER_ADDRESS]
    # Terraform 1.0 prints format 0.2 (same content); 1.1 and later print 1.0, the exported format.
    if version_tuple(version) >= (1, 1):
        assert real == exported
    else:
        assert real["format_version"] == "0.2"
        assert real["provider_schemas"] == exported["provider_schemas"]


def test_there_is_a_terraform_to_compare_with():
    assert terraform_finder.find_terraforms(), "no terraform found (run scripts/setup; see tests/common/terraform_finder.py)"

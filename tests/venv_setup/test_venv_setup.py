"""scripts/setup from scratch: a new venv (ELASTICACHE_VENV) built with HOME set to an empty
directory holds every pinned requirement and the Terraform CLIs the tests need, a second run is quick
and changes nothing, and the user's Python (python3 -m pip list) gained nothing.

It builds a whole venv and checkov's (228 s at load average 12, with pip's cache, which it shares
with the user: HOME changes, PIP_CACHE_DIR does not), so it runs once per test run (the ``scratch_install`` fixture of conftest.py,
shared with test_install_scratch_home.py); `-m "not setup_from_scratch"` leaves it out."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

import terraform_finder  # tests/common
from scratch_home import norm, pip_list, user_python

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "setup"
REQUIREMENTS = ROOT / "tests" / "requirements.txt"
NODEPS = ROOT / "tests" / "requirements-nodeps.txt"
CHECKOV = ROOT / "tests" / "requirements-checkov.txt"


def pins(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    out = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"unpinned requirement {line!r} in {requirements}"
            out[norm(re.sub(r"\[.*\]", "", name))] = version.strip()
    return out


@pytest.mark.setup_from_scratch
def test_setup_from_scratch_builds_the_venv_and_leaves_the_users_python_alone(scratch_install):
    before = scratch_install.python_packages_before
    first, took, env, venv = scratch_install.result, scratch_install.seconds, scratch_install.env, scratch_install.venv
    home = scratch_install.home
    assert first.returncode == 0, f"scripts/setup exited {first.returncode} after {took:.0f} s\n{first.stderr[-6000:]}"
    assert f"creating the virtual environment {venv}" in first.stderr, first.stderr
    print(f"scripts/setup from scratch: {took:.1f} s")

    # A venv of its own, with every pin of tests/requirements.txt at its pinned version.
    vpy = venv / "bin" / "python"
    assert (venv / "pyvenv.cfg").is_file() and vpy.is_file()
    installed = pip_list(str(vpy), {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"})
    wanted = {**pins(), **pins(NODEPS)}
    wrong = {n: (v, installed.get(n)) for n, v in wanted.items() if installed.get(n) != v}
    assert not wrong, f"pinned (wanted, installed): {wrong}"

    # checkov in its own venv (tests/policies runs <venv>/checkov/bin/checkov), at its pinned version.
    checkov = subprocess.run([str(venv / "checkov" / "bin" / "checkov"), "--version"], capture_output=True,
                             text=True, env=env, timeout=300)
    assert checkov.returncode == 0 and checkov.stdout.strip() == pins(CHECKOV)["checkov"], checkov

    # The Terraform CLIs: 1.0.3 and 1.15.5 from the new venv, and the machine's when required.
    found = subprocess.run([str(vpy), str(ROOT / "tests" / "common" / "terraform_finder.py")], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=300)
    assert found.returncode == 0, found.stdout + found.stderr
    lines = {m.group(1): m.group(2) for m in re.finditer(r"^terraform (\S+)  (\S+)  ", found.stdout, re.M)}
    assert lines.get("1.0.3", "").startswith(str(venv)), found.stdout
    assert lines.get("1.15.5") == str(venv / "terraform-1.15" / "terraform"), found.stdout
    for v in terraform_finder.required_versions():
        assert v in lines, f"required terraform {v} not found:\n{found.stdout}"
    tf_env = {**env, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull}
    for v, binary in lines.items():
        out = subprocess.run([binary, "version"], capture_output=True, text=True, env=tf_env, timeout=120)
        assert out.returncode == 0 and out.stdout.startswith(f"Terraform v{v}\n"), (binary, out.stdout, out.stderr)
    shim = subprocess.run([str(venv / "bin" / "terraform"), "version"], capture_output=True, text=True,
                          env=tf_env, timeout=120)
    assert shim.stdout.startswith("Terraform v1.0.3\n"), shim.stdout + shim.stderr

    # Again: the stamp matches, so nothing is installed and it is quick.
    t0 = time.monotonic()
    again = subprocess.run([str(SETUP)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    took_again = time.monotonic() - t0
    assert again.returncode == 0 and again.stderr == "" and again.stdout == "", again.stderr
    assert took_again < 10, f"second run took {took_again:.1f} s"

    # The user's Python gained nothing, and nothing went to the (new) home's user site either.
    assert pip_list(user_python()) == before
    assert not (home / ".local").exists(), list((home / ".local").rglob("*"))[:20]

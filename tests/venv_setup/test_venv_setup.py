"""scripts/setup from scratch: a new venv (ELASTICACHE_VENV) built with HOME set to an empty
directory holds every pinned requirement and the Terraform CLIs the tests need, a second run is quick
and changes nothing, and the user's Python (python3 -m pip list) gained nothing.

It builds a whole venv (about a minute with pip's cache, which it shares with the user: HOME changes,
PIP_CACHE_DIR does not), so it runs once per test run; `-m "not setup_from_scratch"` leaves it out."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import terraform_finder  # tests/common

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "setup"
REQUIREMENTS = ROOT / "tests" / "requirements.txt"


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    out = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"unpinned requirement {line!r} in {REQUIREMENTS}"
            out[norm(re.sub(r"\[.*\]", "", name))] = version.strip()
    return out


def user_path() -> str:
    """PATH without this venv's bin/ (the tests may run in an activated venv)."""
    venv_bin = os.path.realpath(os.path.join(sys.prefix, "bin"))
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and os.path.realpath(d) != venv_bin)


def user_python() -> str:
    py = shutil.which("python3", path=user_path())
    assert py, "no python3 on PATH"
    return py


def pip_list(python: str, env: dict | None = None) -> dict[str, str]:
    p = subprocess.run([python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                       capture_output=True, text=True, timeout=120, env=env or user_env())
    assert p.returncode == 0, p.stderr
    return {norm(d["name"]): d["version"] for d in json.loads(p.stdout)}


def user_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")}
    env["PATH"] = user_path()
    return env


@pytest.mark.setup_from_scratch
def test_setup_from_scratch_builds_the_venv_and_leaves_the_users_python_alone(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fresh")
    home, venv = tmp / "home", tmp / "venv"
    home.mkdir()
    py = user_python()
    before = pip_list(py)
    cache = subprocess.run([py, "-m", "pip", "cache", "dir"], capture_output=True, text=True,
                           env=user_env(), timeout=60).stdout.strip()

    env = user_env()
    env.pop("PYTHON", None)
    env.update({"HOME": str(home), "ELASTICACHE_VENV": str(venv)})
    if cache:
        env["PIP_CACHE_DIR"] = cache  # the user's pip cache: HOME moved, the downloads did not
    t0 = time.monotonic()
    first = subprocess.run([str(SETUP)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    took = time.monotonic() - t0
    assert first.returncode == 0, f"scripts/setup exited {first.returncode} after {took:.0f} s\n{first.stderr[-6000:]}"
    assert f"creating the virtual environment {venv}" in first.stderr, first.stderr

    # A venv of its own, with every pin of tests/requirements.txt at its pinned version.
    vpy = venv / "bin" / "python"
    assert (venv / "pyvenv.cfg").is_file() and vpy.is_file()
    installed = pip_list(str(vpy), {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"})
    wrong = {n: (v, installed.get(n)) for n, v in pins().items() if installed.get(n) != v}
    assert not wrong, f"pinned (wanted, installed): {wrong}"

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
    assert pip_list(py) == before
    assert not (home / ".local").exists(), list((home / ".local").rglob("*"))[:20]

"""Helpers and the fixture (re-exported by conftest.py) of the one scratch install of a test run (marker ``setup_from_scratch``): ``.ci/run``'s install
step, ``scripts/setup``, run once, with HOME set to an empty directory, PATH a copy of the user's
(with that HOME's ``~/.local/bin`` first, where ``pip install --user`` puts scripts) and
ELASTICACHE_VENV a new venv under the same scratch directory. pip's cache is the user's
(PIP_CACHE_DIR), so nothing is downloaded again. The user's tools as seen from that environment are
recorded before anything runs (``user_tools``) so tests can compare them afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "setup"


def user_path() -> str:
    """PATH without this venv's bin/ (the tests may run in an activated venv)."""
    venv_bin = os.path.realpath(os.path.join(sys.prefix, "bin"))
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and os.path.realpath(d) != venv_bin)


def user_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")}
    env["PATH"] = user_path()
    return env


def user_python() -> str:
    py = shutil.which("python3", path=user_path())
    assert py, "no python3 on PATH"
    return py


def _out(cmd: list[str], env: dict, timeout: int = 120) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"{cmd} exited {p.returncode}: {p.stderr[-2000:]}"
    return p.stdout


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_list(python: str, env: dict | None = None) -> dict[str, str]:
    p = subprocess.run([python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                       capture_output=True, text=True, timeout=120, env=env or user_env())
    assert p.returncode == 0, p.stderr
    return {norm(d["name"]): d["version"] for d in json.loads(p.stdout)}


def user_tools(env: dict) -> dict:
    """What a user of this environment sees: which terraform runs, what the user site-packages
    directory holds, what `pip list --user` lists, and ~/.local/bin."""
    which = subprocess.run(["bash", "-c", "command -v terraform"], capture_output=True, text=True, env=env,
                           timeout=60).stdout.strip()
    site = Path(_out(["python3", "-m", "site", "--user-site"], env).strip())
    listing = sorted(str(p.relative_to(site)) for p in site.rglob("*")) if site.exists() else None
    user_pkgs = json.loads(_out(["python3", "-m", "pip", "list", "--user", "--format=json",
                                 "--disable-pip-version-check"], env))
    local_bin = Path(env["HOME"]) / ".local" / "bin"
    return {"command -v terraform": which, "user site": str(site), "user site contents": listing,
            "pip list --user": user_pkgs,
            "~/.local/bin": sorted(os.listdir(local_bin)) if local_bin.exists() else None}


@dataclass
class ScratchInstall:
    home: Path
    venv: Path
    env: dict
    before: dict  # user_tools(env) before scripts/setup ran
    python_packages_before: dict  # pip_list(user_python()) with the real HOME, before
    result: subprocess.CompletedProcess
    seconds: float


@pytest.fixture(scope="session")
def scratch_install(tmp_path_factory) -> ScratchInstall:
    tmp = tmp_path_factory.mktemp("fresh")
    home, venv = tmp / "home", tmp / "venv"
    home.mkdir()
    real = user_env()
    cache = subprocess.run([user_python(), "-m", "pip", "cache", "dir"], capture_output=True, text=True,
                           env=real, timeout=60).stdout.strip()
    env = dict(real)
    env.pop("PYTHON", None)
    env.update({"HOME": str(home), "ELASTICACHE_VENV": str(venv),
                "PATH": f"{home / '.local' / 'bin'}{os.pathsep}{real['PATH']}"})
    # Rust's toolchain stays where it is installed (the quickstart builds with it).
    real_home = Path(os.environ.get("HOME", "/"))
    env.setdefault("CARGO_HOME", str(real_home / ".cargo"))
    env.setdefault("RUSTUP_HOME", str(real_home / ".rustup"))
    if cache:
        env["PIP_CACHE_DIR"] = cache  # the user's pip cache: HOME moved, the downloads did not
    before = user_tools(env)
    packages = pip_list(user_python(), real)
    t0 = time.monotonic()
    first = subprocess.run([str(SETUP)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    took = time.monotonic() - t0
    return ScratchInstall(home, venv, env, before, packages, first, took)

"""Fixtures of the release tests (helpers in release_harness.py): one throwaway GPG key, one dist/
packaged by scripts/release from target/debug and one test certificate per session; a registry
server per test (cheap to start; the mirror test stops its own); the Terraform CLIs (Terraform
1.0.3 and the newest found) and the run's one emulator, reset and seeded for each test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for d in ("terraform", "pulumi"):
    p = str(HERE.parent / d)
    if p not in sys.path:
        sys.path.insert(0, p)

import release_harness as rh  # noqa: E402
import terraform_finder  # noqa: E402  (tests/common)
import tf_harness  # noqa: E402  (tests/terraform: the emulator's handle and the terraform runner)


def release_cli_labels() -> list[str]:
    """Terraform 1.0.3 and the newest CLI found, plus any required version newer than that (which
    then fails in terraform_finder.get): never a skip."""
    found = [t.label for t in terraform_finder.find_terraforms()]
    labels = ["1.0.3"] + found[-1:]
    newest = terraform_finder.find_terraforms()[-1].version if found else (0, 0, 0)
    labels += [v for v in terraform_finder.required_versions()
               if terraform_finder.version_tuple(v) > newest]
    return list(dict.fromkeys(labels))


@pytest.fixture(scope="session", params=release_cli_labels())
def terraform(request) -> terraform_finder.TerraformCli:
    return terraform_finder.get(request.param)


@pytest.fixture(scope="session")
def gpg_key(tmp_path_factory):
    # A short path: gpg-agent's socket lives in GNUPGHOME and unix socket paths are limited.
    key = rh.make_gpg_key(tmp_path_factory.mktemp("gpg", numbered=True) / "home")
    yield key
    key.close()


@pytest.fixture(scope="session")
def dist(gpg_key, tmp_path_factory) -> rh.Dist:
    bins = rh.target_debug()
    for name in (rh.TF_BIN, rh.PULUMI_BIN):
        if not (bins / name).is_file():
            pytest.fail(f"{bins / name} does not exist: cargo build --workspace --all-targets --locked")
    out = tmp_path_factory.mktemp("dist")
    p = rh.run_release(out, gpg_key, "--binaries-from", str(bins), "--allow-dirty")
    assert p.returncode == 0, f"scripts/release exited {p.returncode}\n{p.stdout}\n{p.stderr}"
    return rh.Dist(out, rh.workspace_version(), p.stdout, p.stderr)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tls")
    rh.make_certificate(d)
    return d


@pytest.fixture
def registry(dist, gpg_key, certificate):
    reg = rh.Registry(dist, gpg_key, certificate).start()
    yield reg
    reg.stop()


@pytest.fixture
def emulator(emulator_process) -> tf_harness.Emulator:
    e = tf_harness.Emulator(emulator_process.url)
    e.reset()
    return e

"""Helpers for the docs, examples and quickstart tests: where things are, and running Terraform
against the provider built in target/debug through dev_overrides. The Terraform CLIs come from
tests/common/terraform_finder.py (the `terraform_cli` fixture of conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EMULATOR_DIR = REPO / "tests" / "emulator"

REGION = "us-east-1"
PROVIDER_SOURCE = "elasticache-access/elasticache"
PROVIDER_ADDRESS = "registry.terraform.io/" + PROVIDER_SOURCE
EXAMPLES = REPO / "examples" / "terraform"


def target_dir() -> Path:
    env = os.environ.get("CARGO_TARGET_DIR")
    return Path(env) if env else REPO / "target"


PLUGIN_DIR = target_dir() / "debug"
TF_PLUGIN = PLUGIN_DIR / "terraform-provider-elasticache"


def version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else 0 for x in v.split("-")[0].split("."))


def aws_env(endpoint: str) -> dict[str, str]:
    """The environment for anything that must talk to the emulator only."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and not k.startswith("TF_")}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1",
    })
    return env


@dataclass
class Workdir:
    """A copy of one Terraform configuration with a CLI config that points at target/debug."""
    path: Path
    terraform: str
    env: dict[str, str]

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.terraform, *args], cwd=self.path, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"terraform {' '.join(args)} exited {proc.returncode}\n"
                                 f"--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}")
        return proc

    def outputs(self) -> dict:
        out = self.run("output", "-json").stdout
        return {k: v["value"] for k, v in json.loads(out).items()}


def workdir(tmp: Path, terraform: str, endpoint: str, source: Path | None = None,
            main_tf: str | None = None) -> Workdir:
    tmp.mkdir(parents=True, exist_ok=True)
    rc = tmp / "terraformrc"
    rc.write_text('provider_installation {\n  dev_overrides {\n'
                  f'    "{PROVIDER_SOURCE}" = "{PLUGIN_DIR}"\n  }}\n  direct {{}}\n}}\n')
    work = tmp / "work"
    if source is not None:
        shutil.copytree(source, work)
    else:
        work.mkdir()
    if main_tf is not None:
        (work / "main.tf").write_text(main_tf)
    env = aws_env(endpoint)
    env["TF_CLI_CONFIG_FILE"] = str(rc)
    return Workdir(path=work, terraform=terraform, env=env)

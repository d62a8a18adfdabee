"""The README's ways of installing the provider for Terraform, tried with every Terraform found:
dev_overrides (no init) and a filesystem mirror (`terraform init` installs it)."""

from __future__ import annotations

import json
import shutil
import subprocess

from docs_harness import PROVIDER_SOURCE, REPO, TF_PLUGIN, aws_env

MAIN_TF = f'''terraform {{
  required_providers {{
    elasticache = {{
      source  = "{PROVIDER_SOURCE}"
      version = "{{version}}"
    }}
  }}
}}

provider "elasticache" {{
  region = "us-east-1"
}}

resource "elasticache_access" "this" {{
  vpc_id = "vpc-0123456789abcdef0"
  name   = "readme"
}}
'''


def cargo_version() -> str:
    for line in (REPO / "Cargo.toml").read_text().splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise AssertionError("no workspace version in Cargo.toml")


def test_filesystem_mirror_install(version, terraform, plugin_built, tmp_path):
    v = cargo_version()  # the README's example names the same version (tests/release/test_release_version.py)
    info = subprocess.run([terraform, "version", "-json"], capture_output=True, text=True, timeout=60,
                          env=aws_env("http://127.0.0.1:9"))
    target = json.loads(info.stdout).get("platform", "linux_amd64")
    platform = tmp_path / "mirror" / "registry.terraform.io" / PROVIDER_SOURCE / v / target
    platform.mkdir(parents=True)
    shutil.copy2(TF_PLUGIN, platform / f"terraform-provider-elasticache_v{v}")
    rc = tmp_path / "terraformrc"
    rc.write_text(f'''provider_installation {{
  filesystem_mirror {{
    path    = "{tmp_path / 'mirror'}"
    include = ["{PROVIDER_SOURCE}"]
  }}
  direct {{
    exclude = ["{PROVIDER_SOURCE}"]
  }}
}}
''')
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(MAIN_TF.replace("{version}", v))
    env = aws_env("http://127.0.0.1:9")
    env["TF_CLI_CONFIG_FILE"] = str(rc)
    for args in (["init", "-no-color", "-input=false"], ["validate", "-no-color"]):
        proc = subprocess.run([terraform, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"terraform {args[0]}:\n{proc.stdout}\n{proc.stderr}"
    assert (work / ".terraform.lock.hcl").read_text().count(PROVIDER_SOURCE) == 1

"""Helpers of the release tests: the workspace version and where the binaries are."""

from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / "scripts" / "release"
TF_BIN = "terraform-provider-elasticache"
PULUMI_BIN = "pulumi-resource-elasticache"
NAMESPACE, TYPE = "elasticache-access", "elasticache"
PLATFORM = "linux_amd64"


def target_debug() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug"


def workspace_version() -> str:
    """[workspace.package] version of Cargo.toml, read independently of scripts/release."""
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

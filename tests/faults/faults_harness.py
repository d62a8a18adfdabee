"""Terraform through the fault proxy: the tf_harness workspace (real terraform CLI, our provider by
dev_overrides, the emulator reset and seeded for each test) with the provider's endpoints pointed at
a FaultProxy (tests/common/fault_proxy.py) in front of the emulator.

The fault tests run with one Terraform CLI, the newest found (the protocol paths they exercise are
the lifecycle tests' business, run with every CLI in tests/terraform), to keep .ci/run short.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "terraform") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "terraform"))

import terraform_finder  # noqa: E402  (tests/common)
from fault_proxy import FaultProxy  # noqa: E402  (tests/common)
from tf_harness import REGION, Emulator, Workspace  # noqa: E402  (tests/terraform)

ROLE_TAG = "elasticache-access:role"
# The fault matrices: title -> {(row, column): outcome}, printed at the end of the run (conftest.py).
MATRICES: dict[str, dict[tuple[str, str], str]] = {}
CREATING_TAG = "elasticache-access:creating"


@dataclass
class ProxiedWorkspace(Workspace):
    """A workspace whose provider talks to the emulator through `proxy`."""

    proxy: FaultProxy | None = None

    @classmethod
    def of(cls, ws: Workspace, proxy: FaultProxy) -> "ProxiedWorkspace":
        return cls(ws.tf, ws.emulator, ws.dir, ws.env, proxy)

    def provider_block(self, extra: str = "") -> str:
        return textwrap.dedent(f"""\
            terraform {{
              required_providers {{
                elasticache = {{ source = "elasticache-access/elasticache" }}
              }}
            }}

            provider "elasticache" {{
              region = "{REGION}"
              endpoints {{
                ec2         = "{self.url}"
                elasticache = "{self.url}"
              }}
            {extra}}}
            """)

    @property
    def url(self) -> str:
        assert self.proxy is not None
        return self.proxy.url

    def try_apply(self, *extra: str):
        return self.run("apply", "-auto-approve", "-no-color", "-input=false", *extra)

    def try_destroy(self, *extra: str):
        return self.run("destroy", "-auto-approve", "-no-color", "-input=false", *extra)


def newest_terraform() -> terraform_finder.TerraformCli:
    found = terraform_finder.find_terraforms()
    if not found:
        pytest.fail("no Terraform CLI found (run scripts/setup; see tests/common/terraform_finder.py)",
                    pytrace=False)
    return found[-1]


def own_groups(emu: Emulator) -> dict[str, dict]:
    """The groups this provider made (tagged with its role tag) in the seeded VPC, by name."""
    return emu.created_groups()


def tags_of(group: dict) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in group.get("Tags", [])}


def assert_exact(emu: Emulator, want: dict[str, set[tuple]]) -> dict[str, dict]:
    """The emulator holds exactly the groups of `want` (name -> ingress summary, where a source
    named `@<group name>` is that group's id) among this provider's, with exactly those rules, no
    duplicate, and no creation marker left. Returns the groups by name."""
    groups = own_groups(emu)
    assert set(groups) == set(want), f"groups: {sorted(groups)} want {sorted(want)}"
    ids = {n: g["GroupId"] for n, g in groups.items()}
    for name, rules in want.items():
        gid = ids[name]
        resolved = {(p, f, t, ids[s[1:]] if isinstance(s, str) and s.startswith("@") else s)
                    for p, f, t, s in rules}
        got = emu.ingress(gid)
        assert emu.ingress_summary(gid) == resolved, f"{name}: {emu.ingress_summary(gid)} want {resolved}"
        assert len(got) == len(resolved), f"{name}: duplicate rules {got}"
        assert CREATING_TAG not in tags_of(groups[name]), f"{name} still carries the creation marker"
    return groups


PORT = 6379
CIDR = "10.42.1.0/24"


def named(world: dict, name: str, extra: str = "") -> str:
    """One access named `name`: a CIDR source and the seeded app group as client."""
    return f"""\
resource "elasticache_access" "a" {{
  vpc_id                    = "{world["vpc_id"]}"
  name                      = "{name}"
  allowed_cidr_blocks       = ["{CIDR}"]
  client_security_group_ids = ["{world["app_security_group_id"]}"]
{extra}}}

output "cluster_sg" {{
  value = elasticache_access.a.cluster_security_group_id
}}

output "client_sg" {{
  value = elasticache_access.a.client_security_group_id
}}
"""


def want(world: dict, name: str) -> dict[str, set[tuple]]:
    """What `named(world, name)` declares, for assert_exact."""
    return {f"{name}-cluster": {("tcp", PORT, PORT, CIDR), ("tcp", PORT, PORT, f"@{name}-clients"),
                                ("tcp", PORT, PORT, world["app_security_group_id"])},
            f"{name}-clients": set()}

"""Refresh at scale: a `terraform plan` of 20 accesses shares its describe calls (issue 11).

Terraform refreshes up to 10 resources at a time; the provider coalesces the concurrent reads of
one process into batched DescribeSecurityGroups / DescribeSecurityGroupRules calls by group id.
One by one, the refresh of 20 accesses made 40 describes (2 per access)."""

from __future__ import annotations

from tf_harness import Workspace

N = 20
DESCRIBES = ("DescribeSecurityGroups", "DescribeSecurityGroupRules")
# `reachability` (issue 24): the VPC's interfaces, CIDRs and peerings, and (for `path`) its transit
# gateway attachments and route tables, each read once per process and VPC: 5 calls for 20 accesses,
# 0.01 per access at bench/run's 500
NETWORK = ("DescribeNetworkInterfaces", "DescribeVpcs", "DescribeVpcPeeringConnections",
           "DescribeTransitGatewayVpcAttachments", "DescribeRouteTables")


def scale_config(world: dict) -> str:
    return f"""\
resource "elasticache_access" "a" {{
  count                     = {N}
  vpc_id                    = "{world["vpc_id"]}"
  name                      = "scale-${{count.index}}"
  allowed_cidr_blocks       = ["10.${{count.index}}.0.0/16"]
  client_security_group_ids = ["{world["app_security_group_id"]}"]
}}
"""


def test_a_plan_of_twenty_accesses_makes_far_fewer_than_forty_describes(ws: Workspace):
    ws.write(scale_config(ws.emulator.world))
    ws.apply()
    # counted: the describes of a refresh of accesses AWS shows whole (a refresh moments after the
    # apply also reads again until the new rules show: tests/tests/core_emulator/consistency.rs)
    ws.emulator.settle()
    ws.emulator.reset_calls()
    r = ws.plan_exit()
    assert r.returncode == 0, str(r)  # refreshed, nothing to change
    actions = [c["action"] for c in ws.emulator.calls()]
    describes = [a for a in actions if a in DESCRIBES]
    # both kinds asked for (the refresh did read every access), in a handful of batched calls
    assert set(describes) == set(DESCRIBES), actions
    # 5 to 7 on an idle machine; a loaded one staggers the reads Terraform sends (10 at a time)
    assert len(describes) <= 20, actions
    others = [a for a in actions if a not in DESCRIBES]
    assert set(others) <= set(NETWORK) and all(others.count(a) <= 1 for a in NETWORK), actions

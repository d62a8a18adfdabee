"""A pipeline-sized apply against EC2-style request limits: 20 accesses at -parallelism=10 through
the fault proxy's token buckets (mutating calls: burst 10, 3 per second; describes: burst 100, 20 per
second; the same for ElastiCache). The provider's one client-side rate limiter must slow the run
down instead of letting the retries run out: apply and destroy both end with 0 failures."""

from __future__ import annotations

import time

from fault_proxy import ec2_buckets
from faults_harness import ProxiedWorkspace, assert_exact, own_groups

COUNT = 20
PORT = 6379


def config(world: dict) -> str:
    return f"""\
resource "elasticache_access" "load" {{
  count               = {COUNT}
  vpc_id              = "{world["vpc_id"]}"
  name                = "load-${{count.index}}"
  allowed_cidr_blocks = ["10.42.1.0/24"]
}}
"""


def declared() -> dict[str, set[tuple]]:
    want: dict[str, set[tuple]] = {}
    for i in range(COUNT):
        want[f"load-{i}-cluster"] = {("tcp", PORT, PORT, "10.42.1.0/24"),
                                     ("tcp", PORT, PORT, f"@load-{i}-clients")}
        want[f"load-{i}-clients"] = set()
    return want


def throttles(pws: ProxiedWorkspace) -> list[dict]:
    return [c for c in pws.proxy.calls() if c["fault"] == "throttle"]


def test_twenty_accesses_at_parallelism_ten_under_ec2_request_limits(pws: ProxiedWorkspace):
    emu = pws.emulator
    pws.write(config(emu.world))
    pws.proxy.set_buckets(ec2_buckets())

    t0 = time.monotonic()
    r = pws.try_apply("-parallelism=10")
    took = time.monotonic() - t0
    assert r.returncode == 0, f"apply failed after {took:.0f}s with {len(throttles(pws))} throttles:\n{r}"
    assert f"Apply complete! Resources: {COUNT} added, 0 changed, 0 destroyed." in r.stdout, r.stdout
    assert throttles(pws), "the proxy throttled nothing: the test did not exercise the limits"
    print(f"\napply: {took:.0f}s, {len(pws.proxy.calls())} calls, {len(throttles(pws))} throttled")
    assert_exact(emu, declared())

    pws.proxy.reset()
    pws.proxy.set_buckets(ec2_buckets())
    t0 = time.monotonic()
    r = pws.try_destroy("-parallelism=10")
    took = time.monotonic() - t0
    assert r.returncode == 0, f"destroy failed with {len(throttles(pws))} throttles:\n{r}"
    assert f"Destroy complete! Resources: {COUNT} destroyed." in r.stdout, r.stdout
    assert own_groups(emu) == {}
    print(f"destroy: {took:.0f}s, {len(pws.proxy.calls())} calls, {len(throttles(pws))} throttled")

"""Issue 22's concurrency soak, with the real terraform CLI: two states, five accesses each, all
attached to one replication group, applied together and destroyed together, round after round,
each state through its own fault proxy with request limits (token buckets the five accesses of a
state overrun) and slow answers; the emulator keeps a modified replication group `modifying`
for a moment and refuses other modifications meanwhile, as AWS does. After every apply each member
of the replication group uses exactly the default group and the ten cluster groups the states
record; after every destroy only the default group, and nothing this provider made is left."""

from __future__ import annotations

import os
import subprocess
import time

from faults_harness import ProxiedWorkspace, own_groups
from fault_proxy import FaultProxy
from test_tf_ownership import members_groups

ROUNDS = int(os.environ.get("ELASTICACHE_SOAK_ROUNDS", "10"))
WINDOW = 0.3  # seconds a modified replication group stays `modifying`
# Request limits per state (burst, per second): a state's creates and deletes of five accesses
# meet the mutating limit; describes stay within theirs.
BUCKETS = {"ec2": {"mutating": (15, 5), "describe": (100, 20)}, "elasticache": {"mutating": (10, 3), "describe": (100, 20)}}


def config(world: dict, state: str) -> str:
    return f"""\
resource "elasticache_access" "a" {{
  for_each          = toset(["1", "2", "3", "4", "5"])
  name              = "{state}-${{each.key}}"
  cluster {{
    replication_group_id = "{world["replication_group_id"]}"
  }}
  attach_to_cluster = true
  allowed_cidr_blocks = ["10.7.${{each.key}}.0/24"]
}}

output "cluster_sgs" {{
  value = [for a in elasticache_access.a : a.cluster_security_group_id]
}}
"""


def run_both(states: list[ProxiedWorkspace], command: str) -> None:
    procs = []
    for s in states:
        env, _ = s.warn_log_env()
        procs.append(subprocess.Popen([s.tf.binary, command, "-auto-approve", "-no-color", "-input=false",
                                       "-parallelism=5"], cwd=s.dir, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL))
    outs = [p.communicate(timeout=600)[0] for p in procs]
    for p, out in zip(procs, outs):
        assert p.returncode == 0, out


def test_two_states_attach_and_detach_together_round_after_round(pws: ProxiedWorkspace, workspace_factory):
    world, emu = pws.emulator.world, pws.emulator
    # the two states' accesses give a node more than AWS's default 5 groups (quota L-2AFB9258):
    # raised as an account would (up to 16); the check of the quota is not this test's subject
    emu.configure(modify_window=WINDOW, quotas={"L-2AFB9258": 16})
    default = world["default_security_group_id"]
    b = ProxiedWorkspace.of(workspace_factory("state-b"), FaultProxy(emu.url).start())
    states = [pws, b]
    try:
        for s, name in zip(states, ("sa", "sb")):
            s.write(config(world, name))
            s.proxy.set_buckets(BUCKETS)
        for n in range(ROUNDS):
            for s in states:
                s.proxy.add_fault("slow", "ec2", "AuthorizeSecurityGroupIngress", calls=[n * 5 + 2], delay=1.0)
                s.proxy.add_fault("slow", "elasticache", "DescribeCacheClusters", calls=[n * 40 + 3], delay=1.0)
            t0 = time.monotonic()
            run_both(states, "apply")
            t1 = time.monotonic()
            recorded = {g for s in states for g in s.outputs()["cluster_sgs"]}
            assert len(recorded) == 10, recorded
            for groups in members_groups(emu):
                assert groups == recorded | {default}, f"round {n}: {groups ^ (recorded | {default})}"
            for s in states:
                assert s.plan_exit().returncode == 0, f"round {n}: a state disagrees with AWS"
            t2 = time.monotonic()
            run_both(states, "destroy")
            print(f"round {n}: apply {t1 - t0:.1f}s, checks {t2 - t1:.1f}s, destroy {time.monotonic() - t2:.1f}s")
            for groups in members_groups(emu):
                assert groups == {default}, f"round {n}: {groups}"
            assert own_groups(emu) == {}, f"round {n}: leaked {sorted(own_groups(emu))}"
        throttled = sum(1 for s in states for c in s.proxy.calls() if c["fault"] == "throttle")
        assert throttled > 0, "the soak never met a request limit"
    finally:
        b.proxy.stop()

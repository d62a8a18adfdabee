"""The fault matrix, with the real terraform CLI through the fault proxy: for create (the cluster
group's CreateSecurityGroup; create': the client group's), update (port changed, a source added:
the new rules' AuthorizeSecurityGroupIngress) and delete (the cluster group's DeleteSecurityGroup),
each fault kind hits every attempt (max_retries = 2) of that mutating call of one access, the seven
accesses of a row running side by side (each fault matches its own access's group name or id). Each cell: the run ends in success or in a clear error; then one
plain re-apply (or destroy) converges, a plan shows nothing to do, and the emulator holds exactly the
declared groups and rules, no duplicate (after destroy: nothing this provider made). The table is
printed at the end of the pytest run (tests/faults/conftest.py). The SDK's attempt timeout is 2 s
here (ELASTICACHE_AWS_ATTEMPT_TIMEOUT): `slow` answers after 1.5 s, within it; `stall` after 4 s,
beyond it, so each attempt is abandoned after it took effect in AWS."""

from __future__ import annotations

import re

from faults_harness import MATRICES, ProxiedWorkspace, assert_exact, own_groups

KINDS = ["throttle", "http500", "http503", "reset", "lost", "slow", "stall"]
# The proxy's fault and delay of each column.
FAULT = {k: (k, 0.0) for k in KINDS} | {"slow": ("slow", 1.5), "stall": ("slow", 4.0)}
ATTEMPT_TIMEOUT = "2s"
BASE = {"port": 6379, "cidrs": ["10.42.1.0/24"]}
UPDATED = {"port": 6380, "cidrs": ["10.42.1.0/24", "10.42.2.0/24"]}
MATRIX = MATRICES.setdefault(
    "fault matrix: first run, then one plain re-apply or destroy (each fault on both attempts)", {})


def config(world: dict, port: int, cidrs: list[str]) -> str:
    kinds = ", ".join(f'"{k}"' for k in KINDS)
    blocks = ", ".join(f'"{c}"' for c in cidrs)
    return f"""\
resource "elasticache_access" "m" {{
  for_each                  = toset([{kinds}])
  vpc_id                    = "{world["vpc_id"]}"
  name                      = "m-${{each.key}}"
  port                      = {port}
  allowed_cidr_blocks       = [{blocks}]
  client_security_group_ids = ["{world["app_security_group_id"]}"]
}}

output "cluster_sgs" {{
  value = {{ for k, a in elasticache_access.m : k => a.cluster_security_group_id }}
}}
"""


def declared(world: dict, port: int, cidrs: list[str]) -> dict[str, set[tuple]]:
    want: dict[str, set[tuple]] = {}
    for k in KINDS:
        sources = [*cidrs, f"@m-{k}-clients", world["app_security_group_id"]]
        want[f"m-{k}-cluster"] = {("tcp", port, port, s) for s in sources}
        want[f"m-{k}-clients"] = set()
    return want


def inject(pws: ProxiedWorkspace, action: str, match: dict[str, str]) -> None:
    """Each kind's fault on both attempts of `action` for its own access (`match[kind]`)."""
    pws.proxy.reset()
    for kind in KINDS:
        fault, delay = FAULT[kind]
        pws.proxy.add_fault(fault, "ec2", action, calls=[1, 2], match=match[kind], delay=delay)


def errors_by_kind(output: str) -> dict[str, str]:
    """The error blocks of a run, by the access (for_each key) they name."""
    out: dict[str, str] = {}
    for block in output.split("\nError: ")[1:]:
        m = re.search(r'with elasticache_access\.m\["([a-z0-9]+)"\]', block)
        assert m, f"an error that names no access:\n{block}"
        out[m.group(1)] = block
    return out


def record(row: str, pws: ProxiedWorkspace, action: str, output: str) -> None:
    """Checks every cell of a faulted run (success, or an error that says what failed and what AWS
    answered) and that each fault was applied, and records the cells."""
    errors = errors_by_kind(output)
    applied = {}
    for c in pws.proxy.calls():
        if c["action"] == action and c["fault"]:
            applied.setdefault((c["fault"], c["delay"]), c["status"])
    for kind in KINDS:
        assert FAULT[kind] in applied, f"{row}/{kind}: the fault was never applied: {pws.proxy.calls()}"
        block = errors.get(kind)
        if block is None:
            MATRIX[(row, kind)] = "ok"
            continue
        summary = block.splitlines()[0]
        assert summary.startswith("Failed to ") and "AWS answered " in block, f"{row}/{kind}: unclear:\n{block}"
        assert ".. " not in " ".join(block.split()), f"{row}/{kind}: a doubled full stop:\n{block}"
        code = re.search(r"AWS answered ([A-Za-z.]+)", block)
        MATRIX[(row, kind)] = f"{code.group(1) if code else 'error'}"


def abandoned_after_the_attempt_timeout(row: str, pws: ProxiedWorkspace | None = None, match: str = "") -> None:
    """The stalled call's attempts ended at the attempt timeout (2 s), before the 4 s answer came:
    without an attempt timeout the provider would simply have waited for it. A create then tries
    again itself, is told the group exists, and finds it by its own creation token: the cell is
    "ok", and the proof of abandonment is the third call that followed the two stalled ones."""
    if pws is None:
        assert MATRIX[(row, "stall")] == "Timeout", f"{row}/stall: {MATRIX[(row, 'stall')]}"
        return
    assert MATRIX[(row, "stall")] == "ok", f"{row}/stall: {MATRIX[(row, 'stall')]}"
    stalled = [c for c in pws.proxy.calls() if c["action"] == "CreateSecurityGroup" and match in c["matched"]]
    assert len(stalled) >= 3, f"{row}/stall: the stalled attempts were not abandoned: {stalled}"


def converged(row: str) -> None:
    for kind in KINDS:
        MATRIX[(row, kind)] += ", converged"


def test_fault_matrix(pws: ProxiedWorkspace):
    world, emu = pws.emulator.world, pws.emulator
    pws.env = {**pws.env, "ELASTICACHE_AWS_ATTEMPT_TIMEOUT": ATTEMPT_TIMEOUT}
    pws.write(config(world, **BASE), provider_extra="  max_retries = 2\n")
    # create: the cluster group's CreateSecurityGroup
    inject(pws, "CreateSecurityGroup", {k: f"GroupName=m-{k}-cluster" for k in KINDS})
    r = pws.try_apply("-parallelism=7")
    record("create", pws, "CreateSecurityGroup", r.output)
    abandoned_after_the_attempt_timeout("create", pws, "GroupName=m-stall-cluster")
    pws.proxy.reset()
    pws.apply()
    assert_exact(emu, declared(world, **BASE))
    assert pws.plan_exit().returncode == 0
    converged("create")

    # update: port changed and a source added; the new rules' AuthorizeSecurityGroupIngress
    ids = pws.outputs()["cluster_sgs"]
    pws.write(config(world, **UPDATED), provider_extra="  max_retries = 2\n")
    inject(pws, "AuthorizeSecurityGroupIngress", {k: f"GroupId={ids[k]}" for k in KINDS})
    r = pws.try_apply("-parallelism=7")
    record("update", pws, "AuthorizeSecurityGroupIngress", r.output)
    abandoned_after_the_attempt_timeout("update")
    pws.proxy.reset()
    pws.apply()
    assert_exact(emu, declared(world, **UPDATED))
    assert pws.plan_exit().returncode == 0
    converged("update")

    # delete: the cluster group's DeleteSecurityGroup
    inject(pws, "DeleteSecurityGroup", {k: f"GroupId={ids[k]}" for k in KINDS})
    r = pws.try_destroy("-parallelism=7")
    record("delete", pws, "DeleteSecurityGroup", r.output)
    pws.proxy.reset()
    pws.destroy()
    assert own_groups(emu) == {}
    converged("delete")

    # create, the client group's CreateSecurityGroup: a create that fails with a partial state, which
    # terraform then replaces (the delete must find a client group that no state records), or
    # finds the client group its own lost attempt made (the same creation token)
    pws.write(config(world, **BASE), provider_extra="  max_retries = 2\n")
    inject(pws, "CreateSecurityGroup", {k: f"GroupName=m-{k}-clients" for k in KINDS})
    r = pws.try_apply("-parallelism=7")
    record("create'", pws, "CreateSecurityGroup", r.output)
    abandoned_after_the_attempt_timeout("create'", pws, "GroupName=m-stall-clients")
    pws.proxy.reset()
    pws.apply()
    assert_exact(emu, declared(world, **BASE))
    assert pws.plan_exit().returncode == 0
    converged("create'")
    pws.destroy()
    assert own_groups(emu) == {}

"""The provider killed (SIGKILL) during a create, an update and a delete, at each of its mutating
calls, with the real terraform CLI: the fault proxy holds the call after the emulator made it, the test kills the
provider process, terraform fails; then one plain apply (or destroy) converges (what a killed
create made is taken over once its creation lease expired, never duplicated: the leases here last
6 s, tests/faults/conftest.py), a plan shows nothing to do, and after destroy nothing this provider
made is left. Killed after the create's very last write (the lease ended), the access is complete
but unrecorded: the next apply refuses to take it over and names the import that brings it back.
The cells are printed with the fault matrix."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from faults_harness import CIDR, MATRICES, ProxiedWorkspace, assert_exact, named, own_groups, want

# The mutating calls of a create of `named(...)`, in order (the proxy counts each action from 1):
# the cluster group, the client group, the cluster group's rules, the creation lease ended (its
# DeleteTags goes out with the CreateTags that marks both groups recorded).
POINTS = [("CreateSecurityGroup", 1), ("CreateSecurityGroup", 2), ("AuthorizeSecurityGroupIngress", 1),
          ("DeleteTags", 1)]
MATRIX = MATRICES.setdefault("provider killed (SIGKILL) after the call took effect, then one plain apply", {})


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_provider(tf: subprocess.Popen) -> int:
    """SIGKILLs the provider plugin terraform (started by this test) runs; returns its pid."""
    for pid in descendants(tf.pid):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if Path(exe).name == "terraform-provider-elasticache":
            os.kill(pid, signal.SIGKILL)
            return pid
    raise AssertionError("no provider process under terraform")


def killed_run(pws: ProxiedWorkspace, command: str, action: str, call: int, service: str = "ec2") -> None:
    """Runs `terraform <command>` with the call `action` #`call` held after it took effect, kills the
    provider while it waits for the answer, and requires terraform to fail."""
    pws.proxy.reset()
    pws.proxy.add_fault("hold", service, action, calls=[call], effect="after")
    env, _ = pws.warn_log_env()
    tf = subprocess.Popen([pws.tf.binary, command, "-auto-approve", "-no-color", "-input=false"],
                          cwd=pws.dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, stdin=subprocess.DEVNULL)
    try:
        held = pws.proxy.wait_held(timeout=120)
        assert (held["action"], held["call"]) == (action, call)
        kill_provider(tf)
        out, _ = tf.communicate(timeout=120)
    finally:
        if tf.poll() is None:
            tf.kill()
            tf.wait()
    assert tf.returncode != 0, out
    pws.proxy.reset()


@pytest.mark.parametrize("action,call", POINTS, ids=[f"{a}-{n}" for a, n in POINTS])
def test_provider_killed_during_create(pws: ProxiedWorkspace, action: str, call: int):
    world, emu = pws.emulator.world, pws.emulator
    pws.write(named(world, "killed"))
    killed_run(pws, "apply", action, call)
    if (action, call) == POINTS[-1]:
        # Killed after its very last write: the access is complete and unmarked, so the next
        # create cannot tell it from another configuration's; it refuses and names the way back.
        r = pws.try_apply()
        gid = own_groups(emu)["killed-cluster"]["GroupId"]
        assert r.returncode != 0 and "Security group exists already" in r.output, r.output
        assert f"terraform import <address> {gid}" in " ".join(r.output.split()), r.output
        pws.run("import", "-no-color", "-input=false", "elasticache_access.a", gid, check=True)
        outcome = "refused; import; converged"
    else:
        r = pws.apply()
        assert "Apply complete! Resources: 1 added" in r.stdout, r.stdout
        outcome = "adopted, converged"
    assert_exact(emu, want(world, "killed"))
    assert pws.plan_exit().returncode == 0
    MATRIX[("create", f"{action} #{call}")] = outcome
    pws.destroy()
    assert own_groups(emu) == {}


UPDATED = {"port": 6380, "cidrs": ["10.42.1.0/24", "10.42.2.0/24"]}
# An update (port changed, a source added): the new rules first, then the old ones revoked.
UPDATE_POINTS = [("AuthorizeSecurityGroupIngress", 1), ("RevokeSecurityGroupIngress", 1)]
# A delete: the rules naming the client group revoked, then both groups deleted.
DELETE_POINTS = [("RevokeSecurityGroupIngress", 1), ("DeleteSecurityGroup", 1), ("DeleteSecurityGroup", 2)]


def updated(world: dict) -> str:
    return named(world, "killed", "  port = 6380\n").replace(f'["{CIDR}"]', '["10.42.1.0/24", "10.42.2.0/24"]')


@pytest.mark.parametrize("action,call", UPDATE_POINTS, ids=[f"{a}-{n}" for a, n in UPDATE_POINTS])
def test_provider_killed_during_update(pws: ProxiedWorkspace, action: str, call: int):
    world, emu = pws.emulator.world, pws.emulator
    pws.write(named(world, "killed"))
    pws.apply()
    pws.write(updated(world))
    killed_run(pws, "apply", action, call)
    pws.apply()
    sources = [*UPDATED["cidrs"], "@killed-clients", world["app_security_group_id"]]
    assert_exact(emu, {"killed-cluster": {("tcp", 6380, 6380, s) for s in sources}, "killed-clients": set()})
    assert pws.plan_exit().returncode == 0
    MATRIX[("update", f"{action} #{call}")] = "converged"
    pws.destroy()
    assert own_groups(emu) == {}


@pytest.mark.parametrize("action,call", DELETE_POINTS, ids=[f"{a}-{n}" for a, n in DELETE_POINTS])
def test_provider_killed_during_delete(pws: ProxiedWorkspace, action: str, call: int):
    world, emu = pws.emulator.world, pws.emulator
    pws.write(named(world, "killed"))
    pws.apply()
    killed_run(pws, "destroy", action, call)
    pws.destroy()
    assert own_groups(emu) == {}
    assert pws.state().get("values", {}).get("root_module", {}).get("resources", []) == []
    MATRIX[("delete", f"{action} #{call}")] = "converged"

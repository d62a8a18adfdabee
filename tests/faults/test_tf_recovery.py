"""Recovery after lost answers, with the real terraform CLI through the fault proxy: what AWS made
while its answer was lost is found again and adopted (or, for generated names, swept), never
duplicated; afterwards the emulator holds exactly the declared groups and rules, and after destroy
nothing this provider made."""

from __future__ import annotations

import subprocess
import time

from faults_harness import (CIDR, CREATING_TAG, PORT, ProxiedWorkspace, assert_exact, named, own_groups,
                            tags_of, want)


def faulted(pws: ProxiedWorkspace, action: str) -> list[tuple]:
    return [(c["call"], c["fault"], c["status"]) for c in pws.proxy.calls() if c["action"] == action]


def converged(pws: ProxiedWorkspace) -> None:
    r = pws.plan_exit()
    assert r.returncode == 0, f"a plan after recovery still has changes:\n{r}"


def destroyed(pws: ProxiedWorkspace) -> None:
    pws.proxy.reset()
    pws.destroy()
    assert own_groups(pws.emulator) == {}


def test_a_retried_authorize_answered_duplicate_adopts_the_rules(pws: ProxiedWorkspace):
    """The SDK retries an AuthorizeSecurityGroupIngress whose answer was lost; AWS answers
    InvalidPermission.Duplicate (the rules exist now): the rules are adopted, none made twice."""
    world = pws.emulator.world
    pws.write(named(world, "lostrule"))
    pws.proxy.add_fault("lost", "ec2", "AuthorizeSecurityGroupIngress", calls=[1])
    pws.apply()
    assert faulted(pws, "AuthorizeSecurityGroupIngress")[:2] == [(1, "lost", "lost"), (2, None, 400)]
    groups = assert_exact(pws.emulator, want(world, "lostrule"))
    for r in pws.emulator.ingress(groups["lostrule-cluster"]["GroupId"]):
        assert tags_of(r).get("elasticache-access:role") == "rule", r
    converged(pws)
    destroyed(pws)


def test_a_lost_create_answer_is_found_by_the_creates_own_token(pws: ProxiedWorkspace):
    """Both SDK attempts of the first CreateSecurityGroup lose their answer (the group is made): the
    create tries again itself, is told the group exists, finds it by its own creation token and
    finishes the job in the same apply; nothing is made twice."""
    world = pws.emulator.world
    pws.write(named(world, "lostgroup"), provider_extra="  max_retries = 2\n")
    pws.proxy.add_fault("lost", "ec2", "CreateSecurityGroup", calls=[1, 2])
    pws.apply()
    assert faulted(pws, "CreateSecurityGroup")[:3] == [(1, "lost", "lost"), (2, "lost", "lost"), (3, None, 400)]
    groups = assert_exact(pws.emulator, want(world, "lostgroup"))
    assert pws.outputs()["cluster_sg"] == groups["lostgroup-cluster"]["GroupId"]
    converged(pws)
    destroyed(pws)


def test_explicit_name_is_not_adopted_from_another_access(pws: ProxiedWorkspace, workspace_factory):
    """A completed access of the same name (no creation marker) is never taken over."""
    world = pws.emulator.world
    pws.write(named(world, "taken"))
    pws.apply()
    other = ProxiedWorkspace.of(workspace_factory("other"), pws.proxy)
    other.write(named(world, "taken"))
    r = other.try_apply()
    assert r.returncode != 0 and "Security group exists already" in r.output, r.output
    assert_exact(pws.emulator, want(world, "taken"))
    destroyed(pws)


def generated(world: dict) -> str:
    return f"""\
resource "elasticache_access" "a" {{
  vpc_id              = "{world["vpc_id"]}"
  name_prefix         = "gen-"
  allowed_cidr_blocks = ["{CIDR}"]
  timeouts {{
    create = "2s"
  }}
}}

output "name" {{
  value = elasticache_access.a.name
}}
"""


def orphan_of_lost_create(pws: ProxiedWorkspace, lease: str) -> dict:
    """Applies a generated name whose CreateSecurityGroup answers are all lost until the create
    timeout (2 s) ends the apply, with creation leases of `lease`: returns the orphan."""
    pws.write(generated(pws.emulator.world), provider_extra="  max_retries = 2\n")
    pws.proxy.add_fault("lost", "ec2", "CreateSecurityGroup")
    before = set(own_groups(pws.emulator))
    r = pws.run("apply", "-auto-approve", "-no-color", "-input=false", env_extra={"ELASTICACHE_CREATE_LEASE": lease})
    assert r.returncode != 0, r
    [orphan] = [g for n, g in own_groups(pws.emulator).items() if n not in before]
    assert orphan["GroupName"].startswith("gen-") and CREATING_TAG in tags_of(orphan)
    pws.proxy.reset()
    return orphan


def test_generated_name_orphan_is_swept_by_the_next_create(pws: ProxiedWorkspace):
    # a create timeout of 2 s cannot outlast AWS's consistency window of new groups (the emulator's
    # 2 s): shortened here, as this test is about the sweep, not the window
    pws.emulator.configure(consistency_delay=0.3)
    orphan = orphan_of_lost_create(pws, "6s")
    time.sleep(12)  # the lease (6 s), its grace (1 s) and the clock bounds (whole seconds) are over
    r = pws.apply()
    name = pws.outputs()["name"]
    assert name != orphan["GroupName"].removesuffix("-cluster")
    assert_exact(pws.emulator, {f"{name}-cluster": {("tcp", PORT, PORT, CIDR), ("tcp", PORT, PORT, f"@{name}-clients")},
                                f"{name}-clients": set()})
    assert "Deleted a security group left by an unfinished create" in r.output, r.output
    assert orphan["GroupId"] in r.output and orphan["GroupName"] in r.output, r.output
    converged(pws)
    destroyed(pws)


def sweep(pws: ProxiedWorkspace, provider_binary, *args: str) -> subprocess.CompletedProcess:
    env = {**pws.env, "AWS_ENDPOINT_URL": pws.url}
    return subprocess.run([str(provider_binary), "sweep", *args], env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_sweep_command_deletes_only_expired_orphans_naming_each(pws: ProxiedWorkspace, provider_binary):
    young = orphan_of_lost_create(pws, "1h")
    old = orphan_of_lost_create(pws, "6s")
    time.sleep(12)
    vpc = pws.emulator.world["vpc_id"]

    r = sweep(pws, provider_binary, "--dry-run", "--vpc-id", vpc)
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == [f"would delete {old['GroupId']} ({old['GroupName']}, {vpc})",
                                     f"1 security group(s) of unfinished creates in {vpc}"], r.stdout
    assert f"left alone {young['GroupId']} ({young['GroupName']}): a create may still be running" in r.stderr, r.stderr
    assert set(own_groups(pws.emulator)) == {young["GroupName"], old["GroupName"]}

    r = sweep(pws, provider_binary, "--vpc-id", vpc)
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[0] == f"deleted {old['GroupId']} ({old['GroupName']}, {vpc})", r.stdout
    # A lease that has not expired may belong to a create still running: kept.
    assert set(own_groups(pws.emulator)) == {young["GroupName"]}

    r = sweep(pws, provider_binary, "--bogus")
    assert r.returncode == 2 and "usage:" in r.stderr, r

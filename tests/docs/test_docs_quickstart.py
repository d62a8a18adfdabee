"""scripts/quickstart end to end, as the README tells a new user to run it: start, summary, run again
(reuses the emulator, no change), --destroy (emulator stopped, state removed)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request

import boto3
import pytest

from docs_harness import REPO

SCRIPT = REPO / "scripts" / "quickstart"


def run(state_dir, *args, timeout=1800):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("TF_")}
    env["QUICKSTART_DIR"] = str(state_dir)
    proc = subprocess.run([str(SCRIPT), *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"scripts/quickstart {' '.join(args)} exited {proc.returncode}\n" \
                                 f"--- stdout\n{proc.stdout[-8000:]}\n--- stderr\n{proc.stderr[-8000:]}"
    return proc.stdout


def field(out, label):
    m = re.search(rf"^  {label}\s+(.+)$", out, re.M)
    assert m, f"no {label!r} line in the summary:\n{out}"
    return m.group(1)


@pytest.fixture
def state_dir(tmp_path):
    d = tmp_path / "quickstart"
    yield d
    pid_file = d / "emulator.pid"
    if pid_file.exists():  # a failed test must not leave the emulator running
        subprocess.run([str(SCRIPT), "--destroy"], cwd=REPO, env={**os.environ, "QUICKSTART_DIR": str(d)},
                       capture_output=True, timeout=300)


def test_quickstart_applies_prints_what_was_authorized_and_tears_down(state_dir, plugin_built):
    out = run(state_dir)
    for step in ("1/5", "2/5", "3/5", "4/5", "5/5"):
        assert f"==> {step}" in out
    assert "Apply complete! Resources: 1 added" in out

    url = (state_dir / "emulator.url").read_text().strip()
    outputs = {k: v["value"] for k, v in json.loads((state_dir / "outputs.json").read_text()).items()}
    cluster_sg, client_sg = outputs["cluster_security_group_id"], outputs["client_security_group_id"]
    assert field(out, "Cluster group") == (f"{cluster_sg} (quickstart-cluster): attached to demo-redis "
                                           "(attach_to_cluster = true)")
    assert field(out, "Client group").startswith(f"{client_sg} (quickstart-clients)")
    assert field(out, "Port") == "tcp/6379"
    assert field(out, "Cluster endpoint") == outputs["cluster_endpoint"]
    assert outputs["cluster_endpoint"].endswith(":6379")
    rule_id = outputs["ingress_rule_ids"][client_sg]
    assert field(out, "Rule") == (f"{rule_id}: ingress to quickstart-cluster on tcp/6379 "
                                  f"from {client_sg} (quickstart-clients)")

    ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    rules = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"]
    assert rules[0]["GroupId"] == cluster_sg
    assert rules[0]["ReferencedGroupInfo"]["GroupId"] == client_sg

    # attach_to_cluster: every member cluster of the replication group uses the cluster group, as
    # ElastiCache reports it, and the read-back says so member by member.
    ec = boto3.client("elasticache", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    members = ec.describe_replication_groups(ReplicationGroupId="demo-redis")["ReplicationGroups"][0]["MemberClusters"]
    assert members
    read_back = dict(re.findall(r"^  Member cluster\s+(\S+) uses (.+)$", out, re.M))
    assert sorted(read_back) == sorted(members), out
    for m in members:
        used = [g["SecurityGroupId"] for g in
                ec.describe_cache_clusters(CacheClusterId=m)["CacheClusters"][0]["SecurityGroups"]]
        assert cluster_sg in used, (m, used)
        assert f"{cluster_sg} (quickstart-cluster)" in read_back[m], read_back[m]
        assert len(used) >= 2, f"{m} lost the security groups it had: {used}"

    again = run(state_dir)  # idempotent: same emulator, nothing to change
    assert "reusing the emulator" in again
    assert "Resources: 0 added, 0 changed, 0 destroyed" in again
    assert field(again, "Cluster group") == field(out, "Cluster group")

    pid = int((state_dir / "emulator.pid").read_text())
    down = run(state_dir, "--destroy")
    assert "Destroy complete! Resources: 1 destroyed." in down
    assert not state_dir.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/_emulator/health", timeout=3)


def test_quickstart_destroy_without_a_quickstart_is_harmless(tmp_path):
    out = run(tmp_path / "never-started", "--destroy", timeout=120)
    assert "nothing to destroy" in out


def test_quickstart_rejects_unknown_arguments():
    proc = subprocess.run([str(SCRIPT), "--bogus"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "unknown argument" in proc.stderr

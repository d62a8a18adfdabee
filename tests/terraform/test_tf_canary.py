"""Secrets stay secret under TF_LOG=trace: a canary secret access key and session token, given in the
environment or in a shared credentials profile, appear in no output line, log line, diagnostic or
state file of an apply, a failing plan and a destroy. Each canary is looked for whole and by its
distinctive halves, so a truncated or split leak is caught too."""

from __future__ import annotations

import pytest

SECRET = "CanarySecretKey0123456789abcdefghijKLMNOP"  # 40 characters, like an AWS secret key
TOKEN = "CanarySessionToken" + "IQoJb3JpZ2luX2VjEJr" * 8 + "TokenEnd"


def pieces() -> list[str]:
    out = []
    for c in (SECRET, TOKEN):
        out += [c, c[:20], c[-20:]]
    return out


def leaks(text: str) -> list[str]:
    return [p for p in pieces() if p in text]


def assert_nothing_leaked(ws, results, log):
    texts = {"log": log.read_text(errors="replace")}
    for i, r in enumerate(results):
        texts[f"output of terraform {' '.join(r.args)}"] = r.output
    for f in ws.dir.glob("terraform.tfstate*"):
        texts[f.name] = f.read_text(errors="replace")
    assert texts["log"].count("\n") > 100 and "[TRACE]" in texts["log"], "no trace log was written"
    for where, text in texts.items():
        assert not leaks(text), f"canary {leaks(text)} in the {where}"


def run_lifecycle(ws, emulator):
    vpc = emulator.world["vpc_id"]
    ws.write(f'resource "elasticache_access" "a" {{\n  vpc_id = "{vpc}"\n  name = "canary"\n  '
             f'allowed_cidr_blocks = ["10.9.0.0/16"]\n}}\n', provider_extra=ws.provider_extra)
    results = [ws.apply(), ws.run("plan", "-no-color", "-input=false", check=True)]
    # A diagnostic from AWS's answer: the VPC does not match the cluster's.
    other_vpc = emulator.ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
    ws.write(f'resource "elasticache_access" "a" {{\n  vpc_id = "{other_vpc}"\n  name = "canary"\n  '
             f'cluster {{\n    replication_group_id = "{emulator.world["replication_group_id"]}"\n  }}\n}}\n',
             provider_extra=ws.provider_extra)
    failed = ws.run("plan", "-no-color", "-input=false")
    assert failed.returncode == 1 and "vpc_id does not match" in failed.output, str(failed)
    results.append(failed)
    ws.write(f'resource "elasticache_access" "a" {{\n  vpc_id = "{vpc}"\n  name = "canary"\n  '
             f'allowed_cidr_blocks = ["10.9.0.0/16"]\n}}\n', provider_extra=ws.provider_extra)
    results.append(ws.destroy())
    assert emulator.created_groups() == {}
    return results


@pytest.mark.parametrize("where", ["environment", "profile"])
def test_canary_credentials_appear_nowhere(ws, emulator, tmp_path, where):
    log = tmp_path / "trace.log"
    env = {k: v for k, v in ws.env.items() if not k.startswith("AWS_")}
    env.update({"TF_LOG": "trace", "TF_LOG_PATH": str(log), "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true"})
    ws.provider_extra = ""
    if where == "environment":
        env.update({"AWS_ACCESS_KEY_ID": "AKIACANARY0000000000", "AWS_SECRET_ACCESS_KEY": SECRET,
                    "AWS_SESSION_TOKEN": TOKEN, "AWS_CONFIG_FILE": "/dev/null",
                    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    else:
        creds = tmp_path / "credentials"
        creds.write_text(f"[canary]\naws_access_key_id = AKIACANARY0000000000\naws_secret_access_key = {SECRET}\n"
                         f"aws_session_token = {TOKEN}\n")
        config = tmp_path / "config"
        config.write_text("[profile canary]\nregion = us-east-1\n")
        env.update({"AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_CONFIG_FILE": str(config)})
        ws.provider_extra = '  profile = "canary"\n'
    ws.env = env
    emulator.reset_calls()
    results = run_lifecycle(ws, emulator)
    # The provider signed every call with the canary credentials (the test's own calls use "testing").
    keys = {c.get("access_key") for c in emulator.calls()} - {"testing"}
    assert keys == {"AKIACANARY0000000000"}, keys
    assert_nothing_leaked(ws, results, log)

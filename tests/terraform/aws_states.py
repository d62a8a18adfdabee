"""States that terraform-provider-aws (6.x) writes for `aws_security_group`,
`aws_vpc_security_group_ingress_rule` and `aws_security_group_rule`, built from what the emulator
holds (each attribute as that provider's documentation and its Read set it), and a Terraform state
file (format 4) holding them at the addresses a configuration or a module gives them.

The stand-in for hashicorp/aws (tests/src/bin/aws_standin) serves these resources' schemas; a key
it does not declare would make Terraform refuse the state, so the two are kept in step."""

from __future__ import annotations

import json
import re
import uuid
import zlib
from pathlib import Path

AWS_PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
# The schema versions terraform-provider-aws writes (schemas.rs of the stand-in).
VERSIONS = {"aws_security_group": 1, "aws_security_group_rule": 2, "aws_vpc_security_group_ingress_rule": 0}
# A name that terraform-provider-aws generated from a name_prefix: 26 characters follow the prefix.
GENERATED = re.compile(r"^(.*?)(\d{18}[0-9a-f]{8})$")


def _rules(ec2, group_id: str) -> list[dict]:
    return ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]


def _rule(ec2, rule_id: str) -> dict:
    return ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"][0]


def _inline(r: dict) -> dict:
    ref = (r.get("ReferencedGroupInfo") or {}).get("GroupId")
    return {"cidr_blocks": [r["CidrIpv4"]] if r.get("CidrIpv4") else [],
            "description": r.get("Description", ""), "from_port": r["FromPort"],
            "ipv6_cidr_blocks": [r["CidrIpv6"]] if r.get("CidrIpv6") else [],
            "prefix_list_ids": [r["PrefixListId"]] if r.get("PrefixListId") else [],
            "protocol": r["IpProtocol"], "security_groups": [ref] if ref else [], "self": False,
            "to_port": r["ToPort"]}


def _tags(tags: list[dict] | None) -> dict:
    return {t["Key"]: t["Value"] for t in tags or []}


def security_group(ec2, group_id: str, region: str) -> dict:
    """`aws_security_group`: its inline `ingress`/`egress` list every rule of the group."""
    g = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    rules = _rules(ec2, group_id)
    m = GENERATED.match(g["GroupName"])
    tags = _tags(g.get("Tags"))
    return {"arn": f"arn:aws:ec2:{region}:{g['OwnerId']}:security-group/{group_id}",
            "description": g["Description"], "egress": [_inline(r) for r in rules if r["IsEgress"]],
            "id": group_id, "ingress": [_inline(r) for r in rules if not r["IsEgress"]],
            "name": g["GroupName"], "name_prefix": m.group(1) if m else "", "owner_id": g["OwnerId"],
            "region": region, "revoke_rules_on_delete": False, "tags": tags or None, "tags_all": tags,
            "timeouts": None, "vpc_id": g["VpcId"]}


def ingress_rule(ec2, rule_id: str, region: str) -> dict:
    """`aws_vpc_security_group_ingress_rule`: one rule, by its `sgr-` id."""
    r = _rule(ec2, rule_id)
    return {"arn": f"arn:aws:ec2:{region}:{r['GroupOwnerId']}:security-group-rule/{rule_id}",
            "cidr_ipv4": r.get("CidrIpv4"), "cidr_ipv6": r.get("CidrIpv6"),
            "description": r.get("Description"), "from_port": r["FromPort"], "id": rule_id,
            "ip_protocol": r["IpProtocol"], "prefix_list_id": r.get("PrefixListId"),
            "referenced_security_group_id": (r.get("ReferencedGroupInfo") or {}).get("GroupId"),
            "region": region, "security_group_id": r["GroupId"], "security_group_rule_id": rule_id,
            "tags": None, "tags_all": _tags(r.get("Tags")), "to_port": r["ToPort"]}


def security_group_rule(ec2, rule_id: str, region: str) -> dict:
    """`aws_security_group_rule` (the modules' rules): its id is the SDK's `sgrule-<hash>`."""
    r = _rule(ec2, rule_id)
    ref = (r.get("ReferencedGroupInfo") or {}).get("GroupId")
    return {"cidr_blocks": [r["CidrIpv4"]] if r.get("CidrIpv4") else None,
            "description": r.get("Description"), "from_port": r["FromPort"],
            "id": f"sgrule-{zlib.crc32(rule_id.encode())}", "ipv6_cidr_blocks": None,
            "prefix_list_ids": [], "protocol": r["IpProtocol"], "region": region,
            "security_group_id": r["GroupId"], "security_group_rule_id": rule_id, "self": False,
            "source_security_group_id": ref, "timeouts": None, "to_port": r["ToPort"],
            "type": "egress" if r["IsEgress"] else "ingress"}


ADDRESS = re.compile(r'^((?:module\.[a-z0-9_-]+\.)*)([a-z0-9_]+)\.([a-z0-9_-]+)(?:\[(\d+|"[^"]*")\])?$')


def write_state(path: Path, terraform_version: str, objects: dict[str, dict]) -> None:
    """A state file holding `objects` (address -> attributes), managed by hashicorp/aws."""
    resources: dict[tuple, dict] = {}
    for address, attrs in objects.items():
        m = ADDRESS.match(address)
        assert m, address
        module, rtype, name, key = m.group(1).rstrip("."), m.group(2), m.group(3), m.group(4)
        res = resources.setdefault((module, rtype, name), {
            **({"module": module} if module else {}), "mode": "managed", "type": rtype, "name": name,
            "provider": AWS_PROVIDER, "instances": []})
        inst = {"schema_version": VERSIONS[rtype], "attributes": attrs, "sensitive_attributes": []}
        if key is not None:
            inst["index_key"] = json.loads(key)
            res["each"] = "list" if key.isdigit() else "map"
        res["instances"].append(inst)
    path.write_text(json.dumps({"version": 4, "terraform_version": terraform_version, "serial": 1,
                                "lineage": str(uuid.uuid4()), "outputs": {},
                                "resources": list(resources.values()), "check_results": None}, indent=2))

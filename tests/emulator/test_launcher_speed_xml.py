"""The fast DescribeSecurityGroups / DescribeSecurityGroupRules answers (moto_patches_speed_xml.py,
and the rule-filtering and filter-regex patches of moto_patches_speed.py) are moto's own bytes.

Every case runs the same request twice in-process: with the speed patches, and with moto's own
serializer, backend method and filter translation put back (``moto_only``); the raw HTTP bodies
must be equal. For answers, the fast run must not touch moto's generic serializer (and the moto run
must), so a silent fallback cannot pass. The mutants at the end break the fast path on purpose and
check that the comparison notices."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

import moto_patches
import moto_patches_speed as speed
import moto_patches_speed_xml as speed_xml

moto = pytest.importorskip("moto")

ACCOUNT = "123456789012"
FOREIGN = "210987654321"
NAME = 'web & <api> "edge"'
TAGS = [{"Key": "Name", "Value": NAME}, {"Key": "quote", "Value": "say \"hi\" & 'bye'"},
        {"Key": "unicode", "Value": "żółć — 日本 ✓"}, {"Key": "a&b<c>", "Value": ""},
        {"Key": "elasticache-access:managed", "Value": "true"}]
DESCRIPTION = "desc with <&> \"quotes\" 'apos' ünï"


def _group(ec2: Any, name: str, vpc: str | None, tags: list[dict[str, str]] | None, description: str = "d") -> str:
    kwargs: dict[str, Any] = {"GroupName": name, "Description": description}
    if vpc:
        kwargs["VpcId"] = vpc
    if tags:
        kwargs["TagSpecifications"] = [{"ResourceType": "security-group", "Tags": tags}]
    return ec2.create_security_group(**kwargs)["GroupId"]


def _permissions(rich: str, other: str) -> list[dict[str, Any]]:
    """Every source type, with and without descriptions, ports, all protocols."""
    return [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "10.0.0.0/24", "Description": "ssh & <admin>"}, {"CidrIp": "10.1.0.0/16"}]},
        {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8100,
         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/64", "Description": "v6 ünï"}, {"CidrIpv6": "2001:db8:1::/64"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "PrefixListIds": [{"PrefixListId": "pl-12345678", "Description": "pl <d>"}, {"PrefixListId": "pl-87654321"}]},
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6380,
         "UserIdGroupPairs": [{"GroupId": other, "Description": 'pair "x" & y'}, {"GroupId": rich}]},
        {"IpProtocol": "tcp", "FromPort": 11211, "ToPort": 11211,
         "UserIdGroupPairs": [{"GroupId": "sg-0123456789abcdef0", "UserId": FOREIGN}]},
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "192.168.0.0/16", "Description": ""}]},
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.2.0.0/16"}],
         "Ipv6Ranges": [{"CidrIpv6": "2001:db8:2::/64"}]},
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.3.0.0/16"}]},
    ]


def _build(ec2: Any) -> dict[str, Any]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids = {"plain": _group(ec2, "plain", vpc, None),
           "rich": _group(ec2, "rich", vpc, TAGS, DESCRIPTION),
           "other": _group(ec2, "other", vpc, [{"Key": "Name", "Value": "other"}]),
           "classic": _group(ec2, "classic & <default vpc>", None, [{"Key": "k", "Value": "<v>"}])}
    rule_tags = [{"ResourceType": "security-group-rule", "Tags": [{"Key": "Name", "Value": "rule & <x>"}]}]
    ec2.authorize_security_group_ingress(GroupId=ids["rich"], IpPermissions=_permissions(ids["rich"], ids["other"]),
                                         TagSpecifications=rule_tags)
    ec2.authorize_security_group_egress(GroupId=ids["rich"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.9.0.0/16", "Description": "db"}]},
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "UserIdGroupPairs": [{"GroupId": ids["other"]}]}])
    ec2.revoke_security_group_egress(GroupId=ids["plain"], IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])  # no egress at all: <ipPermissionsEgress/>
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [ids["rich"]]}])
    ids["rule_ids"] = [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"]]
    ids["vpc"] = vpc
    return ids


@pytest.fixture(scope="module")
def region() -> Iterator[tuple[Any, dict[str, Any]]]:
    moto_patches.apply()  # the emulator's model (rule descriptions, owners, ...) with the speed patches
    with moto.mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        yield ec2, _build(ec2)


@contextmanager
def moto_only() -> Iterator[None]:
    """moto's own serializer, rule query and filter translation, as without the speed patches."""
    from moto.core.serialize import EC2Serializer
    from moto.ec2 import utils as ec2_utils
    from moto.ec2.models import tags as ec2_tags
    from moto.ec2.models.security_groups import SecurityGroupBackend

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(EC2Serializer, "_serialize_result", speed.ORIGINAL["serialize_result"])
        mp.setattr(SecurityGroupBackend, "describe_security_group_rules", speed.ORIGINAL["describe_security_group_rules"])
        mp.setattr(ec2_utils, "simple_aws_filter_to_re", speed.ORIGINAL["simple_aws_filter_to_re"])
        mp.setattr(ec2_tags, "simple_aws_filter_to_re", speed.ORIGINAL["simple_aws_filter_to_re"])
        yield


@contextmanager
def generic_calls() -> Iterator[list[int]]:
    """Counts calls of moto's generic shape walk and of xmltodict (what the fast path replaces)."""
    from moto.core import serialize

    count = [0]
    walk, unparse = serialize.ResponseSerializer._serialize, serialize.xmltodict.unparse

    def counted_walk(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return walk(*args, **kwargs)

    def counted_unparse(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return unparse(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(serialize.ResponseSerializer, "_serialize", counted_walk)
        mp.setattr(serialize.xmltodict, "unparse", counted_unparse)
        yield count


def _body(ec2: Any, op: str, kwargs: dict[str, Any]) -> bytes:
    """The raw HTTP body of one call (an error answer, or a mutant's unparsable one, too)."""
    seen: list[bytes] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        seen.append(response_dict["body"])

    ec2.meta.events.register("before-parse.ec2.*", keep)
    try:
        getattr(ec2, op)(**kwargs)
    except (ClientError, ResponseParserError):
        pass
    finally:
        ec2.meta.events.unregister("before-parse.ec2.*", keep)
    assert seen
    return seen[0]


def _filter(name: str, *values: str) -> dict[str, Any]:
    return {"Filters": [{"Name": name, "Values": list(values)}]}


SGS, RULES = "describe_security_groups", "describe_security_group_rules"
CASES: dict[str, tuple[str, Any, bool]] = {  # name -> (call, kwargs from the ids, is an error)
    "groups-all": (SGS, lambda ids: {}, False),
    "groups-by-id": (SGS, lambda ids: {"GroupIds": [ids["rich"], ids["plain"]]}, False),
    "groups-filter-group-id": (SGS, lambda ids: _filter("group-id", ids["rich"], ids["other"]), False),
    "groups-filter-tag-key": (SGS, lambda ids: _filter("tag-key", "elasticache-access:managed"), False),
    "groups-filter-tag-name": (SGS, lambda ids: _filter("tag:Name", NAME), False),
    "groups-filter-vpc": (SGS, lambda ids: _filter("vpc-id", ids["vpc"]), False),
    "groups-page-1": (SGS, lambda ids: {"MaxResults": 5}, False),
    "groups-page-2": (SGS, lambda ids: {"MaxResults": 5, "NextToken": "page-2"}, False),
    "groups-empty": (SGS, lambda ids: _filter("tag:Name", "nothing"), False),
    "groups-unknown-id": (SGS, lambda ids: {"GroupIds": [ids["rich"], "sg-00000000000000000"]}, True),
    "rules-all": (RULES, lambda ids: {}, False),
    "rules-filter-group-id": (RULES, lambda ids: _filter("group-id", ids["rich"]), False),
    "rules-filter-group-ids": (RULES, lambda ids: _filter("group-id", *(ids[k] for k in ("rich", "plain", "other", "classic"))), False),
    "rules-by-id": (RULES, lambda ids: {"SecurityGroupRuleIds": ids["rule_ids"][:3]}, False),
    "rules-filter-tag-name": (RULES, lambda ids: _filter("tag:Name", "rule & <x>"), False),
    "rules-page": (RULES, lambda ids: {"MaxResults": 5, "NextToken": "page-2"}, False),
    "rules-empty": (RULES, lambda ids: _filter("group-id", "sg-00000000"), False),
    "rules-unknown-id": (RULES, lambda ids: {"SecurityGroupRuleIds": ["sgr-00000000000000000"]}, True),
    "rules-malformed-group-id": (RULES, lambda ids: _filter("group-id", "not-a-group"), True),
}


def _both(ec2: Any, ids: dict[str, Any], case: str) -> tuple[bytes, bytes, int, int]:
    op, kwargs, _ = CASES[case]
    with generic_calls() as fast_count:
        fast = _body(ec2, op, kwargs(ids))
    with moto_only(), generic_calls() as moto_count:
        slow = _body(ec2, op, kwargs(ids))
    return fast, slow, fast_count[0], moto_count[0]


@pytest.mark.parametrize("case", list(CASES))
def test_answer_is_motos_byte_for_byte(region, case):
    ec2, ids = region
    fast, slow, fast_generic, moto_generic = _both(ec2, ids, case)
    assert fast == slow
    if CASES[case][2]:
        assert b"<Errors>" in fast
    else:
        assert fast_generic == 0, "the fast path fell back to moto's serializer"
        assert moto_generic > 0  # ... which is what the moto run used
        assert (b"<item>" in fast) == ("empty" not in case)


def test_region_exercises_every_feature(region):
    """The cases above are only as good as the Region: it has every element and escape."""
    ec2, ids = region
    groups = _body(ec2, SGS, {}).decode()
    rules = _body(ec2, RULES, {}).decode()
    for text in ("&amp;", "&lt;", "&gt;", '"', "'", "żółć — 日本 ✓", "<ipPermissionsEgress/>", "<tagSet/>",
                 "<ipv6Ranges><item>", "<prefixListIds><item>", "<groups><item>", "<ipProtocol>-1</ipProtocol>",
                 f"<userId>{FOREIGN}</userId>", "<description>ssh &amp; &lt;admin&gt;</description>", "<key>a&amp;b&lt;c&gt;</key><value/>"):
        assert text in groups, text
    for text in ("<isEgress>true</isEgress>", "<isEgress>false</isEgress>", "<fromPort>-1</fromPort>", "<cidrIpv6>",
                 "<prefixListId>pl-12345678</prefixListId>", "<referencedGroupInfo>", "<value>rule &amp; &lt;x&gt;</value>"):
        assert text in rules, text
    assert b"<securityGroupInfo/>" in _body(ec2, *_call("groups-empty", ids))
    assert b"<securityGroupRuleSet/>" in _body(ec2, *_call("rules-empty", ids))


def _call(case: str, ids: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    op, kwargs, _ = CASES[case]
    return op, kwargs(ids)


# -- the serializer alone, on values moto's backends do not produce but its serializer accepts -------

def _serializer(op: str, transformers: dict[str, Any] | None = None, pretty: bool = False) -> Any:
    """An EC2Serializer set up as ActionResult.execute_result sets it up."""
    from moto.core.serialize import EC2Serializer, XFormedAttributePicker
    from moto.core.utils import get_service_model
    from moto.ec2.responses._base_response import EC2BaseResponse

    if transformers is None:
        transformers = EC2BaseResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER
    picker = XFormedAttributePicker(response_transformers=transformers)
    return EC2Serializer(operation_model=get_service_model("ec2").operation_model(op), pretty_print=pretty,
                         value_picker=picker)


def _moto_body(op: str, result: Any, **kwargs: Any) -> str:
    serializer = _serializer(op, **kwargs)
    return speed.ORIGINAL["serialize_result"](serializer, serializer._create_default_response(), result)["body"]


ODD_RULES = {"NextToken": "tok & <next>", "SecurityGroupRules": [
    {"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-1", "IsEgress": "True", "IpProtocol": "tcp", "FromPort": "80",
     "ToPort": 80.0, "CidrIpv4": "", "Description": "a&b", "Tags": [], "ReferencedGroupInfo": {}},
    None, {},
    {"IsEgress": False, "FromPort": True, "Tags": [{"Key": "k", "Value": 5}, None, {}],
     "ReferencedGroupInfo": {"GroupId": "sg-2", "UserId": 123}},
    {"is_egress": 1, "group_id": "sg-snake", "security_group_rule_arn": "arn:<x>"},
]}
ODD_GROUPS = {"NextToken": "", "SecurityGroups": [
    {"GroupId": "sg-1", "IpPermissions": [], "Tags": None, "Description": "x", "IpPermissionsEgress": [
        {"IpProtocol": "-1", "FromPort": None, "UserIdGroupPairs": [{"GroupId": "sg-2", "VpcPeeringConnectionId": ""}],
         "IpRanges": [{}], "Ipv6Ranges": [None], "PrefixListIds": [{"PrefixListId": "pl-1", "Description": "<"}]}]},
    {"group_name": "snake", "owner_id": 7},
]}


@pytest.mark.parametrize("op, result", [
    ("DescribeSecurityGroupRules", ODD_RULES), ("DescribeSecurityGroups", ODD_GROUPS),
    ("DescribeSecurityGroupRules", {}), ("DescribeSecurityGroups", None),
    ("DescribeSecurityGroups", {"SecurityGroups": []}),
])
def test_serializer_values_match_moto(op, result):
    moto_patches.apply()
    body = speed_xml.fast_body(_serializer(op), result)
    assert body is not None
    assert body == _moto_body(op, result)


def test_response_transformers_apply_as_in_moto():
    moto_patches.apply()
    transformers = {"SecurityGroupRule.Description": lambda v: f"<{v}>", "Tags": lambda v: None,
                    "ReferencedGroupInfo.UserId": lambda v: "u"}
    body = speed_xml.fast_body(_serializer("DescribeSecurityGroupRules", transformers), ODD_RULES)
    assert body is not None and "<tagSet" not in body
    assert body == _moto_body("DescribeSecurityGroupRules", ODD_RULES, transformers=transformers)


def test_what_the_fast_path_does_not_reproduce_goes_to_moto():
    moto_patches.apply()
    assert speed_xml.fast_body(_serializer("DescribeSecurityGroups", pretty=True), ODD_GROUPS) is None
    assert speed_xml.fast_body(_serializer("DescribeVpcs"), {"Vpcs": []}) is None
    serializer = _serializer("DescribeSecurityGroupRules")
    with pytest.raises(ValueError):  # int("x"): the fast path gives up, moto raises its own error
        speed.serialize_result(serializer, serializer._create_default_response(),
                               {"SecurityGroupRules": [{"FromPort": "x"}]})


# -- mutants: a broken fast path must fail the comparison ------------------------------------------

def _members(op: str, *keys: str) -> Any:
    """The compiled node reached from the operation's root through the member ``keys``."""
    from moto.core.utils import get_service_model

    node = speed_xml.compiled(get_service_model("ec2").operation_model(op))
    for key in keys:
        node = next(m for m in node.members if m.key == key).node
        node = node.item or node
    return node


def _swap_first_two(mp: pytest.MonkeyPatch, node: Any) -> None:
    mp.setattr(node, "members", [node.members[1], node.members[0], *node.members[2:]])


MUTANTS = {
    "no-escaping": ("groups-all", lambda mp: mp.setattr(speed_xml, "escape", lambda text: text)),
    "group-elements-swapped": ("groups-all", lambda mp: _swap_first_two(
        mp, _members("DescribeSecurityGroups", "SecurityGroups"))),
    "rule-elements-swapped": ("rules-all", lambda mp: _swap_first_two(
        mp, _members("DescribeSecurityGroupRules", "SecurityGroupRules"))),
    "empty-list-dropped": ("rules-empty", lambda mp: mp.setattr(speed_xml.Node, "__post_init__", _no_empty_tag)),
}


def _no_empty_tag(node: Any) -> None:
    node.text = speed_xml.TEXT.get(node.kind)
    node.open, node.close, node.empty = f"<{node.tag}>", f"</{node.tag}>", ""


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_a_broken_fast_path_fails_the_comparison(region, monkeypatch, mutant):
    ec2, ids = region
    case, mutate = MUTANTS[mutant]
    monkeypatch.setattr(speed_xml, "_COMPILED", {})  # compile afresh, and drop the mutant's tree afterwards
    mutate(monkeypatch)
    fast, slow, fast_generic, _ = _both(ec2, ids, case)
    assert fast_generic == 0
    assert fast != slow

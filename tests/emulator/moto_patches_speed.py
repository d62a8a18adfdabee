"""Speed patches: the same answers as moto's own code, in time linear in the Region's size.

moto answers a tag lookup by scanning every tag of the Region (``TaggedEC2Resource.get_tags``
calls ``describe_tags`` with a resource-id filter) and matches a rule's group against each value of
a ``group-id`` filter with a compiled regular expression. A DescribeSecurityGroups of a thousand
tagged groups, or a DescribeSecurityGroupRules filtered by 200 group ids, is therefore quadratic:
the benchmark's refresh of 500 accesses (1000 groups) spent over 40 s in these two paths, hiding
what the provider's seven calls cost (docs/performance.md). Real AWS has no such cost.

Only plain values (letters, digits, ``-`` and ``_``, as every id is) take the fast path; a value
with any other character, such as a glob, goes through moto's own matching, so every answer is unchanged
(``test_launcher_speed.py`` compares both paths).

The answers themselves then cost more than the work (1000 tagged groups: ~0.3 s of a
DescribeSecurityGroups was moto's generic serializer, where AWS answers in ~100 ms), so:
- DescribeSecurityGroups and DescribeSecurityGroupRules bodies are written by
  ``moto_patches_speed_xml.fast_body``: moto's own walk and bytes, its per-answer invariant work (alias
  names, transformers, element names) done once; anything else is moto's ``_serialize_result``.
- DescribeSecurityGroupRules filters the Region's rules before copying them (moto copied every rule,
  then filtered): the filters read nothing a copy changes, so the same rules come back.
- The regular expression of a tag filter value (``simple_aws_filter_to_re``: an ``fnmatch.translate``
  per value and resource) is remembered: a pure function of the string.
``test_launcher_speed_xml.py`` compares the bodies with those of moto's own functions.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from typing import Any

import moto_patches_speed_xml

PLAIN = re.compile(r"[A-Za-z0-9_-]+")


def exact(value: Any) -> bool:
    """A value moto's glob and regular-expression matching can only match literally."""
    return isinstance(value, str) and PLAIN.fullmatch(value) is not None


ORIGINAL: dict[str, Any] = {}


def patch_speed() -> None:
    """Idempotent; moto's own functions stay in ``ORIGINAL`` (the tests compare both)."""
    from moto.core.serialize import EC2Serializer
    from moto.ec2 import utils as ec2_utils
    from moto.ec2.models import tags as ec2_tags
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.models.security_groups import SecurityGroupBackend, SecurityGroupRule
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    if ORIGINAL:
        return
    ORIGINAL.update(get_tags=TaggedEC2Resource.get_tags, filter_group_id=SecurityGroupRule.filter_group_id,
                    filter_id=SecurityGroupRule.filter_id, serialize_result=EC2Serializer._serialize_result,
                    describe_security_group_rules=SecurityGroupBackend.describe_security_group_rules,
                    simple_aws_filter_to_re=ec2_utils.simple_aws_filter_to_re)
    slow_get_tags = ORIGINAL["get_tags"]

    def get_tags(self: Any) -> list[dict[str, str]]:
        rid = getattr(self, "id", None)
        if not rid or not exact(rid):
            return slow_get_tags(self)
        tags = self.ec2_backend.tags.get(rid) or {}
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(rid), "")
        return [{"resource_id": rid, "key": k, "value": v, "resource_type": kind} for k, v in tags.items()]

    def matcher(slow: Any, attr: str) -> Any:
        # One call filters every rule of the Region with the same list: whether its values are all
        # plain is worked out once per list (held, so its id is not reused while it is cached).
        last: list[tuple[Any, Any]] = [(None, None)]

        def match(self: Any, values: list[Any]) -> bool:
            held, plain = last[0]
            if held is not values:
                plain = frozenset(values) if all(exact(v) for v in values) else None
                last[0] = (values, plain)
            if plain is not None:
                return str(getattr(self, attr)) in plain
            return slow(self, values)

        return match

    TaggedEC2Resource.get_tags = get_tags
    SecurityGroupRule.filter_group_id = matcher(ORIGINAL["filter_group_id"], "group_id")
    SecurityGroupRule.filter_id = matcher(ORIGINAL["filter_id"], "id")
    EC2Serializer._serialize_result = serialize_result  # type: ignore[method-assign]
    SecurityGroupBackend.describe_security_group_rules = describe_security_group_rules  # type: ignore[method-assign]
    ec2_utils.simple_aws_filter_to_re = ec2_tags.simple_aws_filter_to_re = filter_to_re


@functools.lru_cache(maxsize=4096)
def _filter_to_re(filter_string: str) -> str:
    return ORIGINAL["simple_aws_filter_to_re"](filter_string)


def filter_to_re(filter_string: Any) -> str:
    """moto's ``simple_aws_filter_to_re``, remembered for strings (anything else: moto's, uncached)."""
    if type(filter_string) is str:
        return _filter_to_re(filter_string)
    return ORIGINAL["simple_aws_filter_to_re"](filter_string)


def serialize_result(self: Any, resp: dict[str, Any], result: Any) -> dict[str, Any]:
    """``EC2Serializer._serialize_result``: the fast body where it is exact, else moto's own.

    Any exception of the fast path falls back too: moto then raises its own error, if any."""
    try:
        body = moto_patches_speed_xml.fast_body(self, result)
    except Exception:
        body = None
    if body is None:
        return ORIGINAL["serialize_result"](self, resp, result)
    resp["body"] = body
    resp["headers"]["Content-Type"] = self.CONTENT_TYPE
    return resp


def describe_security_group_rules(self: Any, sg_rule_ids: list[str], filters: dict[str, list[str]]) -> list[Any]:
    """moto's ``SecurityGroupBackend.describe_security_group_rules``, filtering before it copies.

    moto copies every rule of the Region, sets a missing port to -1 on the copies and then filters
    them. A shallow copy shares its ``filters`` (methods bound to the original), id, group and tags,
    and no filter reads ports, so filtering the originals selects the same rules; only those are
    copied, in the same order. Checks, errors and the added ``security-group-rule-id`` filter as moto."""
    from moto.ec2.models import security_groups as sgm

    for group_id in filters.get("group-id", []):
        if not sgm.is_valid_security_group_id(group_id):
            raise sgm.InvalidGroupIdMalformedError(group_id)
    values = filters.get("group-id", [])
    if not sg_rule_ids and list(filters) == ["group-id"] and all(exact(v) for v in values):
        # Only plain group ids: the rules of those groups, in moto's order, without testing every
        # rule of the Region (each rule's group_id is its group's id; the filter still decides).
        wanted = frozenset(values)
        rules = [rule for vpc_and_group in self.groups.values() for group in vpc_and_group.values()
                 if group.id in wanted for rule in itertools.chain(group.egress_rules, group.ingress_rules)
                 if str(rule.group_id) in wanted]
        filters = {}
    else:
        rules = [rule for vpc_and_group in self.groups.values() for group in vpc_and_group.values()
                 for rule in list(itertools.chain(group.egress_rules, group.ingress_rules))]
    if sg_rule_ids:
        filters.setdefault("security-group-rule-id", [])
        rule_ids = {rule.id for rule in rules}
        for rule_id in sg_rule_ids:
            if rule_id not in rule_ids:
                raise sgm.InvalidSecurityGroupRuleIdNotFoundError(rule_id)
            filters["security-group-rule-id"].append(rule_id)
    if filters:
        rules = [rule for rule in rules if rule.matches_filters(filters)]
    copies = [copy.copy(rule) for rule in rules]
    for rule in copies:
        if rule.from_port is None:
            rule.from_port = -1
        if rule.to_port is None:
            rule.to_port = -1
    return copies

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
"""

from __future__ import annotations

import re
from typing import Any

PLAIN = re.compile(r"[A-Za-z0-9_-]+")


def exact(value: Any) -> bool:
    """A value moto's glob and regular-expression matching can only match literally."""
    return isinstance(value, str) and PLAIN.fullmatch(value) is not None


ORIGINAL: dict[str, Any] = {}


def patch_speed() -> None:
    """Idempotent; moto's own functions stay in ``ORIGINAL`` (the tests compare both)."""
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.models.security_groups import SecurityGroupRule
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    if ORIGINAL:
        return
    ORIGINAL.update(get_tags=TaggedEC2Resource.get_tags, filter_group_id=SecurityGroupRule.filter_group_id,
                    filter_id=SecurityGroupRule.filter_id)
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

"""EC2 behaviours of AWS that moto does not have, each behind a switch of ``realism_config.CONFIG``
(all on by default, ``realism_config.REALISTIC``): eventual consistency of new groups and rules, the rules-per-group quota with
prefix-list weights, prefix-list existence, the 200-filter-value limit, peered group references and
Service Quotas values. Applied by ``moto_patches.apply`` after the other patches, so it wraps them."""

from __future__ import annotations

import threading
import time
from typing import Any

import moto_patches_ec2
from realism_config import CONFIG, RULES_PER_SG

# =====================================================================================
# eventual consistency: what was created moments ago
# =====================================================================================


class Young:
    """Ids created less than ``consistency_delay`` seconds ago (the delay in force at creation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def note(self, ids: Any) -> None:
        delay = CONFIG["consistency_delay"]
        if delay <= 0:
            return
        until = time.monotonic() + delay
        with self._lock:
            for i in ids:
                self._until[i] = until

    def __contains__(self, rid: Any) -> bool:
        if not self._until or CONFIG["consistency_delay"] <= 0:
            return False
        with self._lock:
            until = self._until.get(rid)
            if until is None:
                return False
            if time.monotonic() >= until:
                del self._until[rid]
                return False
            return True

    def any(self) -> bool:
        return bool(self._until) and CONFIG["consistency_delay"] > 0

    def clear(self) -> int:
        with self._lock:
            now = time.monotonic()
            young = sum(1 for until in self._until.values() if until > now)
            self._until.clear()
            return young


YOUNG_GROUPS = Young()
YOUNG_RULES = Young()


def reset() -> None:
    YOUNG_GROUPS.clear()
    YOUNG_RULES.clear()


def settle() -> int:
    """Ends every consistency window now (``POST /_emulator/settle``); the number of ids still young."""
    return YOUNG_GROUPS.clear() + YOUNG_RULES.clear()


def _not_found(ec2x: Any, group_id: str) -> Exception:
    return ec2x.InvalidSecurityGroupNotFoundError(group_id)


# =====================================================================================
# rule costs (Amazon VPC quotas, "Security groups"; Amazon VPC User Guide, "Security group size")
# =====================================================================================


def _prefix_list(backend: Any, pl_id: str) -> Any:
    return getattr(backend, "managed_prefix_lists", {}).get(pl_id)


def prefix_list_cost(backend: Any, pl_id: str) -> tuple[int, int]:
    """A rule that references a prefix list counts as the list's maximum number of entries ("if you
    create a prefix list with 20 maximum entries and you reference that prefix list in a security
    group rule, this counts as 20 security group rules", Amazon VPC quotas, "Customer-managed prefix
    lists"), in the list's address family. An AWS-managed list (no MaxEntries in moto) counts as its
    entries, a stand-in for its published weight; an unknown list as one IPv4 rule."""
    pl = _prefix_list(backend, pl_id)
    if pl is None:
        return (1, 0)
    weight = int(pl.max_entries) if pl.max_entries else max(len(pl.entries.get(pl.version, []) or []), 1)
    return (0, weight) if str(pl.address_family or "").lower() == "ipv6" else (weight, 0)


def rule_cost(backend: Any, cidr4: Any = None, cidr6: Any = None, group: Any = None, pl_id: Any = None) -> tuple[int, int]:
    """(IPv4, IPv6) rules one source costs. The quota "is enforced separately for IPv4 rules and IPv6
    rules"; a rule that references a security group counts in both families (re:Post, "Managing
    prefix lists in security groups: quota considerations"; the project's aws-and-protocol-facts)."""
    if group:
        return (1, 1)
    if pl_id:
        return prefix_list_cost(backend, pl_id)
    if cidr6:
        return (0, 1)
    return (1, 0)


def _existing_cost(backend: Any, rules: list) -> tuple[int, int]:
    v4 = v6 = 0
    for r in rules:
        a, b = rule_cost(backend, cidr4=r.ip_range.get("CidrIp"), cidr6=r.ip_range.get("CidrIpv6"),
                         group=bool(r.source_group), pl_id=r.prefix_list_id)
        v4, v6 = v4 + a, v6 + b
    return v4, v6


def _request_cost(backend: Any, all_kwargs: list[dict]) -> tuple[int, int]:
    v4 = v6 = 0
    for kw in all_kwargs:
        costs = [rule_cost(backend, cidr4=r.get("CidrIp"), cidr6=r.get("CidrIpv6"))
                 for r in kw.get("ip_ranges") or [] if isinstance(r, dict)]
        costs += [(1, 1) for _ in kw.get("source_groups") or []]
        costs += [rule_cost(backend, pl_id=p.get("PrefixListId")) for p in kw.get("prefix_list_ids") or []]
        for a, b in costs:
            v4, v6 = v4 + a, v6 + b
    return v4, v6


def check_rule_quota(ec2x: Any, backend: Any, group: Any, all_kwargs: list[dict], egress: bool) -> None:
    """AWS: "RulesPerSecurityGroupLimitExceeded - You've reached the limit on the number of rules that
    you can add to a security group" (EC2 API Reference, "Error codes"); the limit is the account's
    quota L-0EA8095F (60 by default) per direction and per address family (Amazon VPC quotas)."""
    quota = CONFIG.quota(RULES_PER_SG)
    have = _existing_cost(backend, list(group.egress_rules if egress else group.ingress_rules))
    add = _request_cost(backend, all_kwargs)
    if have[0] + add[0] > quota or have[1] + add[1] > quota:
        raise ec2x.RulesPerSecurityGroupLimitExceededError()


def check_prefix_lists(ec2x: Any, backend: Any, all_kwargs: list[dict]) -> None:
    """AWS answers a rule naming a prefix list that does not exist with InvalidPrefixListId.NotFound,
    "The prefix list ID 'pl-...' does not exist" (EC2 API Reference, "Error codes"; the message as AWS
    CloudFormation relays it, aws-cloudformation/rain#308). moto accepted any id."""
    for kw in all_kwargs:
        for p in kw.get("prefix_list_ids") or []:
            pl_id = p.get("PrefixListId")
            if pl_id and _prefix_list(backend, pl_id) is None:
                raise ec2x.EC2ClientError("InvalidPrefixListId.NotFound",
                                          f"The prefix list ID '{pl_id}' does not exist")


# =====================================================================================
# peered references
# =====================================================================================


def active_peering(backend: Any, vpc_a: str, vpc_b: str) -> bool:
    for pcx in list(backend.vpc_pcxs.values()):
        if pcx.status.get("Code") == "active" and {pcx.vpc.id, pcx.peer_vpc.id} == {vpc_a, vpc_b}:
            return True
    return False


def check_peering(ec2x: Any, backend: Any, group: Any, all_kwargs: list[dict]) -> None:
    """AWS: a rule may reference a security group of another VPC (of this or another account) only
    across an active VPC peering connection between the two VPCs; otherwise InvalidGroup.NotFound
    "You have specified two resources that belong to different networks." (Amazon VPC Peering Guide,
    "Update your security groups to reference peer security groups"; the message as reported in
    ansible/ansible#28876 and hashicorp/terraform#2857)."""
    from moto.ec2.models import ec2_backends

    for kw in all_kwargs:
        for item in kw.get("source_groups") or []:
            gid, user = item.get("GroupId"), str(item.get("UserId") or backend.account_id)
            if not gid:
                continue
            owner = backend if user == backend.account_id else ec2_backends[user][backend.region_name]
            other = owner.get_security_group_from_id(gid)
            if other is None:
                if user == backend.account_id:
                    continue  # moto's own check answers it
                raise _not_found(ec2x, gid)
            if other.vpc_id and group.vpc_id and other.vpc_id != group.vpc_id \
                    and not active_peering(backend, group.vpc_id, other.vpc_id):
                raise ec2x.EC2ClientError("InvalidGroup.NotFound",
                                          "You have specified two resources that belong to different networks.")


def register_peering(spec: Any) -> dict[str, Any]:
    """``POST /_emulator/peering``: an active peering connection between ``vpc_id`` (this account) and a
    VPC of ``peer_account_id`` (``peer_vpc_id``, or a new one of ``peer_cidr``), holding the groups
    ``peer_group_ids`` (created with exactly those ids when missing). All of it is moto's own state:
    DescribeVpcPeeringConnections shows the connection."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends
    from moto.ec2.models import security_groups as sgm

    if not isinstance(spec, dict) or not spec.get("vpc_id") or not spec.get("peer_account_id"):
        raise ValueError("peering needs vpc_id and peer_account_id")
    peer_account = str(spec["peer_account_id"])
    if not (peer_account.isdigit() and len(peer_account) == 12):
        raise ValueError("peer_account_id must be 12 digits")
    region = str(spec.get("region") or "us-east-1")
    own = ec2_backends[str(spec.get("account_id") or DEFAULT_ACCOUNT_ID)][region]
    peer = ec2_backends[peer_account][region]
    try:
        vpc = own.get_vpc(spec["vpc_id"])
        peer_vpc = peer.get_vpc(spec["peer_vpc_id"]) if spec.get("peer_vpc_id") else \
            peer.create_vpc(cidr_block=str(spec.get("peer_cidr") or "10.250.0.0/16"))
    except Exception as exc:
        raise ValueError(str(exc)) from exc
    group_ids = []
    for i, gid in enumerate(spec.get("peer_group_ids") or []):
        if peer.get_security_group_from_id(gid) is None:
            with _ID_LOCK:
                saved = sgm.random_security_group_id
                sgm.random_security_group_id = lambda gid=gid: gid
                try:
                    peer.create_security_group(f"peer-{gid}", "peered group", vpc_id=peer_vpc.id)
                finally:
                    sgm.random_security_group_id = saved
        group_ids.append(gid)
    pcx = own.create_vpc_peering_connection(vpc, peer_vpc)
    pcx._status.accept()
    return {"vpc_peering_connection_id": pcx.id, "vpc_id": vpc.id, "peer_account_id": peer_account,
            "peer_vpc_id": peer_vpc.id, "peer_group_ids": group_ids, "region": region}


_ID_LOCK = threading.Lock()


# =====================================================================================
# the patches
# =====================================================================================


def patch_ec2() -> None:
    from moto.ec2 import exceptions as ec2x
    from moto.ec2.models import security_groups as sgm
    from moto.ec2.responses._base_response import EC2BaseResponse
    from moto.ec2.responses.security_groups import SecurityGroups as SGResponse
    from moto.ec2.responses.tags import TagResponse

    _patch_create_and_authorize(ec2x, SGResponse)
    _patch_revoke_delete_tags(ec2x, SGResponse, TagResponse)
    _patch_describes(ec2x, sgm)
    _patch_filters(ec2x, EC2BaseResponse)
    _patch_service_quotas()

    # With the quota enforced as AWS counts it, moto's own count (60 per direction, both families
    # together, prefix lists free) steps aside.
    orig_limit = sgm.SecurityGroupBackend._verify_group_will_respect_rule_count_limit

    def _limit(self: Any, *args: Any, **kwargs: Any) -> None:
        if not CONFIG["enforce_rule_quota"]:
            orig_limit(self, *args, **kwargs)

    sgm.SecurityGroupBackend._verify_group_will_respect_rule_count_limit = _limit  # type: ignore[method-assign]


def _patch_create_and_authorize(ec2x: Any, SGResponse: Any) -> None:
    # AWS: "Eventual consistency in the Amazon EC2 API" (EC2 API Reference): a resource just created
    # may not be visible to the calls that follow; they answer it is not found. moto is consistent.
    orig_create = SGResponse.create_security_group

    def create_security_group(self: Any) -> Any:
        result = orig_create(self)
        YOUNG_GROUPS.note([result.result["GroupId"]])
        return result

    SGResponse.create_security_group = create_security_group  # type: ignore[method-assign]

    def wrap_authorize(inner: Any, egress: bool) -> Any:
        def handler(self: Any) -> Any:
            with moto_patches_ec2.RULES_LOCK:  # the count and the write are one step, as on AWS
                return _authorize(self)

        def _authorize(self: Any) -> Any:
            gid = self._get_param("GroupId")
            if gid and gid in YOUNG_GROUPS:
                raise _not_found(ec2x, gid)
            all_kwargs = list(self._process_rules_from_querystring())
            for kw in all_kwargs:
                for item in kw.get("source_groups") or []:
                    if item.get("GroupId") in YOUNG_GROUPS:
                        raise _not_found(ec2x, item["GroupId"])
            name_or_id = gid or self._get_param("GroupName")
            group = self.ec2_backend.get_security_group_by_name_or_id(name_or_id) if name_or_id else None
            if CONFIG["require_prefix_lists"]:
                check_prefix_lists(ec2x, self.ec2_backend, all_kwargs)
            if group is not None and CONFIG["require_peering"]:
                check_peering(ec2x, self.ec2_backend, group, all_kwargs)
            if group is not None and CONFIG["enforce_rule_quota"]:
                check_rule_quota(ec2x, self.ec2_backend, group, all_kwargs, egress)
            result = inner(self)
            YOUNG_RULES.note([r.id for r in result.result.get("SecurityGroupRules") or []])
            return result

        handler.__name__ = inner.__name__
        return handler

    SGResponse.authorize_security_group_ingress = wrap_authorize(  # type: ignore[method-assign]
        SGResponse.authorize_security_group_ingress, egress=False)
    SGResponse.authorize_security_group_egress = wrap_authorize(  # type: ignore[method-assign]
        SGResponse.authorize_security_group_egress, egress=True)


def _patch_revoke_delete_tags(ec2x: Any, SGResponse: Any, TagResponse: Any) -> None:
    def wrap_group_call(inner: Any) -> Any:
        def handler(self: Any) -> Any:
            gid = self._get_param("GroupId")
            if gid and gid in YOUNG_GROUPS:
                raise _not_found(ec2x, gid)
            for rid in self._get_param("SecurityGroupRuleIds", []) or []:
                if rid in YOUNG_RULES:
                    raise ec2x.InvalidSecurityGroupRuleIdNotFoundError(rid)
            return inner(self)

        handler.__name__ = inner.__name__
        return handler

    for name in ("revoke_security_group_ingress", "revoke_security_group_egress", "delete_security_group"):
        setattr(SGResponse, name, wrap_group_call(getattr(SGResponse, name)))

    orig_tags = TagResponse.create_tags

    def create_tags(self: Any) -> Any:
        for rid in self._get_param("Resources", []) or []:
            if rid in YOUNG_GROUPS:
                raise _not_found(ec2x, rid)
            if rid in YOUNG_RULES:
                raise ec2x.InvalidSecurityGroupRuleIdNotFoundError(rid)
        return orig_tags(self)

    TagResponse.create_tags = create_tags  # type: ignore[method-assign]


def _patch_describes(ec2x: Any, sgm: Any) -> None:
    Backend = sgm.SecurityGroupBackend
    orig_groups = Backend.describe_security_groups

    def describe_security_groups(self: Any, group_ids: Any = None, groupnames: Any = None, filters: Any = None) -> Any:
        if not YOUNG_GROUPS.any():
            return orig_groups(self, group_ids=group_ids, groupnames=groupnames, filters=filters)
        young = [g for g in group_ids or [] if g in YOUNG_GROUPS]
        if young:
            raise _not_found(ec2x, ", ".join(young))
        groups = orig_groups(self, group_ids=group_ids, groupnames=groupnames, filters=filters)
        return [g for g in groups if g.id not in YOUNG_GROUPS]

    Backend.describe_security_groups = describe_security_groups  # type: ignore[method-assign]

    orig_rules = Backend.describe_security_group_rules

    def describe_security_group_rules(self: Any, sg_rule_ids: Any, filters: Any) -> Any:
        if not (YOUNG_GROUPS.any() or YOUNG_RULES.any()):
            return orig_rules(self, sg_rule_ids, filters)
        for rid in sg_rule_ids or []:
            if rid in YOUNG_RULES:
                raise ec2x.InvalidSecurityGroupRuleIdNotFoundError(rid)
        rules = orig_rules(self, sg_rule_ids, filters)
        return [r for r in rules if r.id not in YOUNG_RULES and str(r.group_id) not in YOUNG_GROUPS]

    Backend.describe_security_group_rules = describe_security_group_rules  # type: ignore[method-assign]


def _patch_filters(ec2x: Any, EC2BaseResponse: Any) -> None:
    # AWS: "FilterLimitExceeded - The maximum number of filter values specified on a single call is
    # 200" (EC2 API Reference, "Error codes"; counted across all the filters of the call, as
    # apache/druid#1954 and gjbae1212/gossm#31 met it). moto took any number.
    orig = EC2BaseResponse._filters_from_querystring

    def _filters_from_querystring(self: Any) -> Any:
        if CONFIG["filter_limit"]:
            raw = self._get_param("Filters", []) or self._get_param("Filter", []) or []
            count = sum(len(f.get("Values") or []) for f in raw if isinstance(f, dict))
            if count > 200:
                raise ec2x.EC2ClientError(
                    "FilterLimitExceeded", "The maximum number of filter values specified on a single call is 200")
        return orig(self)

    EC2BaseResponse._filters_from_querystring = _filters_from_querystring  # type: ignore[method-assign]


def _patch_service_quotas() -> None:
    # AWS Service Quotas GetServiceQuota returns the account's applied value (Service Quotas API
    # Reference, GetServiceQuota); moto returns AWS's defaults. The emulator's values are settable
    # (POST /_emulator/config {"quotas": {...}}) and are the ones its checks enforce.
    from moto.servicequotas.models import ServiceQuotasBackend

    orig = ServiceQuotasBackend.get_service_quota

    def get_service_quota(self: Any, service_code: str, quota_code: str) -> dict[str, Any]:
        quota = dict(orig(self, service_code, quota_code))
        if service_code == "vpc" and quota_code in CONFIG["quotas"]:
            quota["Value"] = float(CONFIG.quota(quota_code))
            quota["QuotaArn"] = f"arn:aws:servicequotas:{self.region_name}:{self.account_id}:vpc/{quota_code}"
        return quota

    ServiceQuotasBackend.get_service_quota = get_service_quota  # type: ignore[method-assign]

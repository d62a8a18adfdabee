"""In-process patches that make moto 5.2.x behave like AWS where our provider depends on it.

Every patch names the AWS behaviour it mirrors (paraphrased from the AWS API reference /
user guide page given in the comment).  ``apply()`` is idempotent.  The patches are
deliberately small: they wrap or replace single moto backend methods or response
handlers and keep moto's own data model.

Gaps closed (tests/emulator/README.md lists them with what moto already did right):
  EC2   duplicate rules (any description) -> InvalidPermission.Duplicate, whole call rejected;
        SecurityGroupRules lists every rule the call added; rule descriptions for group /
        prefix-list sources; GroupOwnerId; UpdateSecurityGroupRuleDescriptions* for group
        pairs and prefix lists, and by rule id (SecurityGroupRuleDescriptions);
        DeleteSecurityGroup -> DependencyViolation / CannotDelete; InvalidGroup.NotFound text;
        cross-account (UserId) group references.
  ElastiCache  NumCacheClusters honoured; member clusters of replication groups exist as
        cache clusters; SecurityGroups / ConfigurationEndpoint / CacheNodes reported;
        ModifyCacheCluster / ModifyReplicationGroup; security group ids validated; the
        cluster's ENIs (requester-managed, carrying its security groups); deletes remove the
        resource; minimal serverless caches.
"""

from __future__ import annotations

import inspect
import random
import string
import threading
from typing import Any

_APPLIED = False
_LOCK = threading.Lock()
_RULES_LOCK = threading.RLock()


def apply() -> None:
    global _APPLIED
    with _LOCK:
        if _APPLIED:
            return
        _patch_ec2_rules()
        _patch_ec2_delete_and_errors()
        _patch_elasticache()
        _patch_elasticache_serverless()
        _APPLIED = True


# =====================================================================================
# EC2 security group rules
# =====================================================================================

_PROTO_ALIASES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}


def _norm_proto(proto: Any) -> str | None:
    if proto is None:
        return None
    p = str(proto).lower()
    return _PROTO_ALIASES.get(p, p)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def rule_identity(rule: Any) -> tuple:
    """What makes two security group rules "the same permission" on AWS.

    EC2 User Guide, "Security group rules": a rule is its protocol, port range and one
    source/destination (IPv4 CIDR, IPv6 CIDR, prefix list or security group); the
    description is not part of it ("Description ... can be updated" without replacing it).
    """
    proto = _norm_proto(rule.ip_protocol)
    if proto == "-1":
        ports: tuple = (None, None)
    else:
        ports = (_int_or_none(rule.from_port), _int_or_none(rule.to_port))
    if rule.source_group:
        sg = rule.source_group
        src: tuple = ("group", sg.get("GroupId") or sg.get("GroupName"),
                      str(sg.get("UserId") or rule.ec2_backend.account_id))
    elif rule.prefix_list_id:
        src = ("prefix", rule.prefix_list_id)
    elif rule.ip_range.get("CidrIp"):
        src = ("cidr4", rule.ip_range["CidrIp"])
    elif rule.ip_range.get("CidrIpv6"):
        src = ("cidr6", rule.ip_range["CidrIpv6"].lower())
    else:
        src = ("none",)
    return (bool(rule.is_egress), proto) + ports + src


def _aws_rule_text(rule: Any) -> str:
    """Text AWS puts in InvalidPermission.Duplicate messages:
    the specified rule "peer: sg-0123, TCP, from port: 6379, to port: 6379, ALLOW" already exists"""
    if rule.source_group:
        peer = rule.source_group.get("GroupId") or rule.source_group.get("GroupName")
    elif rule.prefix_list_id:
        peer = rule.prefix_list_id
    else:
        peer = rule.ip_range.get("CidrIp") or rule.ip_range.get("CidrIpv6")
    proto = _norm_proto(rule.ip_protocol)
    if proto == "-1":
        return f"peer: {peer}, ALL, ALLOW"
    return f"peer: {peer}, {str(proto).upper()}, from port: {rule.from_port}, to port: {rule.to_port}, ALLOW"


def _patch_ec2_rules() -> None:
    from moto.core.responses import ActionResult
    from moto.ec2 import exceptions as ec2x
    from moto.ec2.models import security_groups as sgm
    from moto.ec2.responses.security_groups import SecurityGroups as SGResponse

    Rule = sgm.SecurityGroupRule

    # -- rule equality ---------------------------------------------------------------
    # AWS: AuthorizeSecurityGroupIngress "InvalidPermission.Duplicate - The specified inbound
    # rule already exists" (EC2 API Reference, "Error codes for the Amazon EC2 API"); a rule
    # that differs only by Description is the same rule.  moto compared whole
    # UserIdGroupPairs dicts (Description included), so a second group-pair rule with another
    # description was accepted, and UpdateSecurityGroupRuleDescriptionsIngress could not find
    # group-pair rules whose description changed.  Equality is now the AWS rule identity.
    def _rule_eq(self: Any, other: Any) -> bool:
        if not isinstance(other, Rule):
            return NotImplemented
        return rule_identity(self) == rule_identity(other)

    Rule.__eq__ = _rule_eq  # type: ignore[method-assign]
    Rule.__hash__ = None  # type: ignore[assignment]

    # -- keep the prefix-list description --------------------------------------------
    # AWS: PrefixListId entries carry a Description (EC2 API Reference, "PrefixListId" data
    # type) that DescribeSecurityGroups / DescribeSecurityGroupRules return; moto dropped it.
    orig_init = Rule.__init__
    init_sig = inspect.signature(orig_init)

    def _rule_init(self: Any, *args: Any, **kwargs: Any) -> None:
        orig_init(self, *args, **kwargs)
        bound = init_sig.bind_partial(self, *args, **kwargs)
        pl = bound.arguments.get("prefix_list_id")
        self.prefix_list_description = pl.get("Description") if isinstance(pl, dict) else None

    Rule.__init__ = _rule_init  # type: ignore[method-assign]

    # AWS: DescribeSecurityGroupRules returns Description for every rule type and the
    # GroupOwnerId of the group (EC2 API Reference, "SecurityGroupRule" data type).
    def _rule_description(self: Any) -> str | None:
        if self.source_group:
            return self.source_group.get("Description")
        if self.prefix_list_id:
            return getattr(self, "prefix_list_description", None)
        return self.ip_range.get("Description")

    Rule.description = property(_rule_description)  # type: ignore[assignment]
    Rule.group_owner_id = property(lambda self: self.ec2_backend.account_id)  # type: ignore[attr-defined]

    # DescribeSecurityGroups IpPermissions: same grouping as moto, plus prefix-list
    # descriptions, and a rule lands in exactly one source list.
    def _flattened_rules(self: Any, rules: list) -> list:
        views: list = []
        for rule in rules:
            view = next((v for v in views if v.from_port == rule.from_port and v.to_port == rule.to_port
                         and v.ip_protocol == rule.ip_protocol), None)
            if view is None:
                view = sgm.GroupedSecurityRuleView(rule.from_port, rule.to_port, rule.ip_protocol)
                views.append(view)
            if rule.source_group:
                view.source_groups.append(rule.source_group)
            elif rule.prefix_list_id:
                entry = {"PrefixListId": rule.prefix_list_id}
                if getattr(rule, "prefix_list_description", None):
                    entry["Description"] = rule.prefix_list_description
                view.prefix_list_ids.append(entry)
            elif rule.ip_range:
                view.all_ip_ranges.append(rule.ip_range)
        return views

    sgm.SecurityGroup._flattened_rules = _flattened_rules  # type: ignore[method-assign]

    # -- cross-account group references -----------------------------------------------
    # AWS: a UserIdGroupPair may name a security group of another account (UserId) in a
    # peered VPC (EC2 API Reference, "UserIdGroupPair": "UserId - The ID of an AWS account.
    # For a referenced security group in another VPC, the account ID of the referenced
    # security group is returned").  moto looked such a group up in the caller's account and
    # answered InvalidGroup.NotFound.  The emulator cannot model VPC peering, so a group of
    # another account is accepted as given (moto still validates same-account groups).
    orig_add_source_group = sgm.SecurityGroupBackend._add_source_group

    def _add_source_group(self: Any, source_groups: Any, vpc_id: Any) -> list:
        out: list = []
        for item in source_groups or []:
            user_id = str(item.get("UserId") or "")
            if user_id and user_id != self.account_id and item.get("GroupId"):
                item.setdefault("OwnerId", user_id)
                out.append(item)
            else:
                out.extend(orig_add_source_group(self, [item], vpc_id))
        return out

    sgm.SecurityGroupBackend._add_source_group = _add_source_group  # type: ignore[method-assign]

    # -- atomic authorize, full SecurityGroupRules answer -------------------------------
    # AWS: AuthorizeSecurityGroupIngress/Egress is all-or-nothing: if one permission of the
    # request already exists the call fails with InvalidPermission.Duplicate and none of
    # the permissions is added (EC2 API Reference, AuthorizeSecurityGroupIngress; EC2 User
    # Guide, "Security group rules" - "you can't add a rule that already exists").  The
    # answer lists every rule the call created ("SecurityGroupRules - Information about the
    # inbound (ingress) security group rules that were added").  moto added permissions one
    # by one (a later duplicate left the earlier ones in place) and returned only the rules
    # of the last IpPermissions entry.
    def _candidates(resp: Any, kwargs: dict, egress: bool) -> list:
        account = resp.ec2_backend.account_id
        ip_ranges = kwargs.get("ip_ranges") or []
        if isinstance(ip_ranges, str):
            ip_ranges = [{"CidrIp": ip_ranges}]
        groups = [dict(g, UserId=g.get("UserId") or account) for g in (kwargs.get("source_groups") or [])]
        return list(resp.ec2_backend._iterate_security_rules(
            kwargs.get("ip_protocol"), "candidate", kwargs.get("from_port"), kwargs.get("to_port"),
            [r for r in ip_ranges if isinstance(r, dict)], groups, kwargs.get("prefix_list_ids") or [],
            is_egress=egress))

    def _make_authorize(direction: str) -> Any:
        egress = direction == "egress"
        attr = "egress_rules" if egress else "ingress_rules"
        backend_method = f"authorize_security_group_{direction}"

        def handler(self: Any) -> ActionResult:
            self.error_on_dryrun()
            with _RULES_LOCK:  # the rollback below must not undo a concurrent call's rules
                return _authorize(self)

        def _authorize(self: Any) -> ActionResult:
            name_or_id = self._get_param("GroupId") or self._get_param("GroupName")
            group = self.ec2_backend.get_security_group_by_name_or_id(name_or_id) if name_or_id else None
            all_kwargs = list(self._process_rules_from_querystring())
            if group is not None:
                seen = [rule_identity(r) for r in getattr(group, attr)]
                for kwargs in all_kwargs:
                    for cand in _candidates(self, kwargs, egress):
                        ident = rule_identity(cand)
                        if ident in seen:
                            raise ec2x.EC2ClientError(
                                "InvalidPermission.Duplicate",
                                f'the specified rule "{_aws_rule_text(cand)}" already exists')
                        seen.append(ident)
            saved = list(getattr(group, attr)) if group is not None else None
            added: list = []
            try:
                for kwargs in all_kwargs:
                    rules, _ = getattr(self.ec2_backend, backend_method)(**kwargs)
                    added.extend(rules)
            except Exception:
                if group is not None:
                    setattr(group, attr, saved)
                raise
            return ActionResult({"Return": True, "SecurityGroupRules": added})

        handler.__name__ = backend_method
        return handler

    SGResponse.authorize_security_group_ingress = _make_authorize("ingress")  # type: ignore[method-assign]
    SGResponse.authorize_security_group_egress = _make_authorize("egress")  # type: ignore[method-assign]

    # -- description updates ------------------------------------------------------------
    # AWS: UpdateSecurityGroupRuleDescriptionsIngress/Egress "updates the description of an
    # existing rule. You can remove a description ... by omitting the description parameter
    # in the request" (EC2 API Reference).  moto ignored prefix lists and never removed one.
    def _sg_update_description(self: Any, security_rule: Any, rule: Any) -> None:
        if rule.source_group:
            desc = security_rule.source_group.get("Description")
            target = rule.source_group
        elif rule.prefix_list_id:
            rule.prefix_list_description = getattr(security_rule, "prefix_list_description", None)
            return
        else:
            desc = security_rule.ip_range.get("Description")
            target = rule.ip_range
        if desc is None:
            target.pop("Description", None)
        else:
            target["Description"] = desc

    sgm.SecurityGroupBackend._sg_update_description = _sg_update_description  # type: ignore[method-assign]

    # -- descriptions by rule id -----------------------------------------------------------
    # AWS: UpdateSecurityGroupRuleDescriptionsIngress also takes SecurityGroupRuleDescriptions,
    # a list of {SecurityGroupRuleId, Description}; a rule whose Description is omitted loses
    # its description, an unknown id is InvalidSecurityGroupRuleId.NotFound, and the list may
    # not be combined with IpPermissions (EC2 API Reference,
    # UpdateSecurityGroupRuleDescriptionsIngress / "SecurityGroupRuleDescription").  moto read
    # IpPermissions only and silently did nothing.
    def _set_description(rule: Any, desc: str | None) -> None:
        if rule.prefix_list_id:
            rule.prefix_list_description = desc
            return
        target = rule.source_group or rule.ip_range
        if desc is None:
            target.pop("Description", None)
        else:
            target["Description"] = desc

    original_update_ingress = SGResponse.update_security_group_rule_descriptions_ingress

    def update_ingress_handler(self: Any) -> Any:
        by_id = self._get_param("SecurityGroupRuleDescriptions", [])
        if not by_id:
            return original_update_ingress(self)
        if self._get_param("IpPermissions", []):
            raise ec2x.InvalidParameterCombination(
                "The parameter 'ipPermissions' may not be used in combination with "
                "'securityGroupRuleDescriptions'")
        self.error_on_dryrun()
        group_id = self._get_param("GroupId")
        group = self.ec2_backend.get_security_group_by_name_or_id(group_id)
        if group is None:
            raise ec2x.InvalidSecurityGroupNotFoundError(group_id)
        with _RULES_LOCK:
            found = []
            for d in by_id:
                rule = group.get_rule(d.get("SecurityGroupRuleId"))
                if rule is None or not any(r is rule for r in group.ingress_rules):
                    raise ec2x.InvalidSecurityGroupRuleIdNotFoundError(d.get("SecurityGroupRuleId"))
                found.append((rule, d.get("Description")))
            for rule, desc in found:
                _set_description(rule, desc)
        return ActionResult({"Return": True})

    SGResponse.update_security_group_rule_descriptions_ingress = update_ingress_handler  # type: ignore[method-assign]


# =====================================================================================
# EC2 DeleteSecurityGroup and error texts
# =====================================================================================


def security_group_holders(ec2_backend: Any, group_id: str) -> list[str]:
    """Everything that keeps ``group_id`` from being deleted, as human-readable strings."""
    holders: list[str] = []
    for groups in list(ec2_backend.groups.values()):
        for other in list(groups.values()):
            if other.id == group_id:
                continue  # a group's rules may reference the group itself
            for rule in list(other.ingress_rules) + list(other.egress_rules):
                if rule.source_group.get("GroupId") == group_id:
                    holders.append(f"rule {rule.id} of {other.id}")
    for eni in list(ec2_backend.enis.values()):
        if any(getattr(g, "id", None) == group_id for g in eni.group_set):
            holders.append(f"network interface {eni.id}")
    try:
        from moto.elasticache.models import elasticache_backends

        ec = elasticache_backends[ec2_backend.account_id][ec2_backend.region_name]
        for cc in list(ec.cache_clusters.values()):
            if group_id in (cc.security_group_ids or []):
                holders.append(f"cache cluster {cc.cache_cluster_id}")
        for rg in list(ec.replication_groups.values()):
            if group_id in (getattr(rg, "security_group_ids", None) or []):
                holders.append(f"replication group {rg.replication_group_id}")
        for name, cache in list(getattr(ec, "_emu_serverless", {}).items()):
            if group_id in cache["SecurityGroupIds"]:
                holders.append(f"serverless cache {name}")
    except Exception:  # pragma: no cover - elasticache backend unavailable for region
        pass
    return holders


def _patch_ec2_delete_and_errors() -> None:
    from moto.ec2 import exceptions as ec2x
    from moto.ec2.models import security_groups as sgm
    from moto.ec2.responses.security_groups import SecurityGroups as SGResponse

    # AWS: "If you attempt to delete a security group that is associated with an instance
    # or network interface, is referenced by another security group in the same VPC, or
    # has a VPC association, the operation fails with DependencyViolation" (EC2 API
    # Reference, DeleteSecurityGroup).  A cache cluster holds its groups through its ENIs
    # (ElastiCache User Guide, "Amazon VPCs and ElastiCache security").  The default group
    # can't be deleted: "CannotDelete - You cannot delete the 'default' security group in
    # your VPC" (EC2 API Reference, "Error codes for the Amazon EC2 API").  moto deleted
    # any group.  Checked in the API handler only, so moto's own internal deletes (VPC
    # teardown) are untouched.
    orig_delete = SGResponse.delete_security_group

    def delete_security_group(self: Any) -> Any:
        self.error_on_dryrun()
        sg_id = self._get_param("GroupId")
        name = self._get_param("GroupName")
        if sg_id:
            group = self.ec2_backend.get_security_group_from_id(sg_id)
            if group is None:
                raise ec2x.InvalidSecurityGroupNotFoundError(sg_id)
        else:
            group = self.ec2_backend.get_security_group_from_name(name) if name else None
        if group is not None:
            if group.is_default or group.name == "default":
                raise ec2x.EC2ClientError(
                    "CannotDelete",
                    f'the specified group: "{group.id}" name: "default" cannot be deleted by a user')
            if security_group_holders(self.ec2_backend, group.id):
                raise ec2x.DependencyViolationError(f"resource {group.id} has a dependent object")
        return orig_delete(self)

    SGResponse.delete_security_group = delete_security_group  # type: ignore[method-assign]

    # AWS: DescribeSecurityGroups with an unknown id fails with InvalidGroup.NotFound "The
    # security group 'sg-...' does not exist" naming the unknown id (EC2 API Reference,
    # "Error codes").  moto named every requested id, formatted as a Python set.
    orig_describe = sgm.SecurityGroupBackend.describe_security_groups

    def describe_security_groups(self: Any, group_ids: Any = None, groupnames: Any = None, filters: Any = None) -> Any:
        if group_ids:
            known = {g.id for groups in self.groups.values() for g in groups.values()}
            unknown = [g for g in group_ids if g not in known]
            if unknown:
                raise ec2x.InvalidSecurityGroupNotFoundError(", ".join(unknown))
        return orig_describe(self, group_ids=group_ids, groupnames=groupnames, filters=filters)

    sgm.SecurityGroupBackend.describe_security_groups = describe_security_groups  # type: ignore[method-assign]


# =====================================================================================
# ElastiCache clusters and replication groups
# =====================================================================================


def _region_short(region: str) -> str:
    parts = region.split("-")
    if len(parts) == 3:
        return f"{parts[0]}{parts[1][0]}{parts[2]}"
    return region.replace("-", "")


def _token(obj: Any) -> str:
    tok = getattr(obj, "_emu_token", None)
    if tok is None:
        tok = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
        obj._emu_token = tok
    return tok


def _ec2_for(be: Any) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[be.account_id][be.region_name]


def _vpc_of_subnet_group(be: Any, name: str | None) -> str | None:
    if name and name in be.cache_subnet_groups:
        return be.cache_subnet_groups[name].vpc_id
    return None


def _validate_security_groups(be: Any, sg_ids: Any, vpc_id: str | None) -> None:
    """AWS: SecurityGroupIds must name existing VPC security groups of the cache's VPC
    (ElastiCache API Reference, CreateCacheCluster / CreateReplicationGroup "SecurityGroupIds:
    One or more VPC security groups associated with the cluster"; ElastiCache User Guide,
    "Subnets and subnet groups").  The exact AWS wording is not reproduced; the error code is
    InvalidParameterValue."""
    from moto.elasticache.exceptions import InvalidParameterValueException

    ec2 = _ec2_for(be)
    for sg_id in sg_ids or []:
        group = ec2.get_security_group_from_id(sg_id)
        if group is None:
            raise InvalidParameterValueException(f"The security group '{sg_id}' does not exist")
        if vpc_id and group.vpc_id != vpc_id:
            raise InvalidParameterValueException(
                f"The security group '{sg_id}' belongs to {group.vpc_id}, not to the cache's VPC {vpc_id}")


def _default_group_ids(be: Any, vpc_id: str | None) -> list[str]:
    # AWS: without SecurityGroupIds the cache uses the VPC's default security group
    # (ElastiCache User Guide, "Access patterns for accessing an ElastiCache cache in an Amazon VPC").
    if not vpc_id:
        return []
    group = _ec2_for(be).get_default_security_group(vpc_id)
    return [group.id] if group is not None else []


def _create_enis(be: Any, subnet_ids: list[str], group_ids: list[str], count: int, description: str,
                 preferred_az: str | None = None) -> list[str]:
    """ElastiCache places one requester-managed ENI per cache node in the subnet group and
    gives it the cache's security groups (ElastiCache User Guide, "Amazon VPCs and ElastiCache
    security"); DescribeNetworkInterfaces with Filter group-id shows them."""
    ec2 = _ec2_for(be)
    subnets = []
    for sid in subnet_ids:
        try:
            subnets.append(ec2.get_subnet(sid))
        except Exception:
            continue
    if not subnets:
        return []
    if preferred_az:
        subnets.sort(key=lambda s: s.availability_zone != preferred_az)
    ids = []
    groups = [g for g in group_ids if ec2.get_security_group_from_id(g) is not None]
    for i in range(max(count, 1)):
        eni = ec2.create_network_interface(subnet=subnets[i % len(subnets)], private_ip_address=None,
                                           group_ids=groups or None, description=description)
        eni.requester_managed = True
        eni.requester_id = "amazon-elasticache"
        eni.status = "in-use"
        ids.append(eni.id)
    return ids


def _set_eni_groups(be: Any, eni_ids: list[str], group_ids: list[str]) -> None:
    ec2 = _ec2_for(be)
    groups = [ec2.get_security_group_from_id(g) for g in group_ids]
    for eni_id in eni_ids:
        eni = ec2.enis.get(eni_id)
        if eni is not None:
            eni._group_set = [g for g in groups if g is not None]


def _delete_enis(be: Any, eni_ids: list[str]) -> None:
    ec2 = _ec2_for(be)
    for eni_id in eni_ids:
        ec2.enis.pop(eni_id, None)


def _subnet_ids(be: Any, name: str | None) -> list[str]:
    if name and name in be.cache_subnet_groups:
        return list(be.cache_subnet_groups[name].subnet_ids or [])
    return []


class _WithoutCacheNodes:
    """DescribeCacheClusters without ShowCacheNodeInfo omits CacheNodes (ElastiCache API
    Reference, DescribeCacheClusters: "By default, abbreviated information about the
    clusters is returned. You can use the optional ShowCacheNodeInfo flag to retrieve
    detailed information about the cache nodes ... the DNS address and port")."""

    def __init__(self, cluster: Any) -> None:
        self._cluster = cluster

    def __getattr__(self, name: str) -> Any:
        if name in ("cache_nodes", "CacheNodes"):
            raise AttributeError(name)
        return getattr(self._cluster, name)


def _patch_elasticache() -> None:
    from moto.core.responses import ActionResult, PaginatedResult
    from moto.elasticache import exceptions as ecx
    from moto.elasticache import models as ecm
    from moto.elasticache.responses import ElastiCacheResponse

    CacheCluster = ecm.CacheCluster
    Backend = ecm.ElastiCacheBackend

    # -- what DescribeCacheClusters reports ----------------------------------------------
    # AWS "CacheCluster" data type (ElastiCache API Reference): SecurityGroups is a list of
    # {SecurityGroupId, Status}; ConfigurationEndpoint is set for Memcached clusters ("the
    # configuration endpoint ... for Memcached"); CacheNodes carry Endpoint {Address, Port}.
    CacheCluster.security_groups = property(  # type: ignore[attr-defined]
        lambda self: [{"SecurityGroupId": g, "Status": "active"} for g in (self.security_group_ids or [])])

    def _configuration_endpoint(self: Any) -> dict | None:
        if (self.engine or "").lower() != "memcached":
            return None
        return {"Address": f"{self.cache_cluster_id}.{_token(self)}.cfg.{_region_short(self._emu_region)}"
                           f".cache.amazonaws.com", "Port": int(self.port)}

    CacheCluster.configuration_endpoint = property(_configuration_endpoint)  # type: ignore[attr-defined]

    def _cache_nodes(self: Any) -> list[dict]:
        nodes = []
        for i in range(1, int(getattr(self, "num_cache_nodes", 1) or 1) + 1):
            address = getattr(self, "_emu_member_address", None) if i == 1 else None
            if not address:
                address = (f"{self.cache_cluster_id}.{_token(self)}.{i:04d}."
                           f"{_region_short(self._emu_region)}.cache.amazonaws.com")
            nodes.append({
                "CacheNodeId": f"{i:04d}",
                "CacheNodeStatus": "available",
                "CacheNodeCreateTime": self.cache_cluster_create_time,
                "Endpoint": {"Address": address, "Port": int(self.port)},
                "ParameterGroupStatus": "in-sync",
                "CustomerAvailabilityZone": self.preferred_availability_zone or f"{self._emu_region}a",
            })
        return nodes

    CacheCluster.cache_nodes = property(_cache_nodes)  # type: ignore[attr-defined]
    CacheCluster._emu_region = "us-east-1"  # type: ignore[attr-defined]

    default_versions = {"redis": "7.1.0", "valkey": "8.0.1", "memcached": "1.6.22"}

    def _finish_cluster(be: Any, cc: Any, replication_group_id: str | None = None) -> None:
        cc._emu_region = be.region_name
        cc.engine = (cc.engine or "redis").lower()
        cc.engine_version = cc.engine_version or default_versions.get(cc.engine)
        if cc.engine != "memcached":
            cc.num_cache_nodes = 1
        elif not getattr(cc, "num_cache_nodes", None):
            cc.num_cache_nodes = 1
        cc.replication_group_id = replication_group_id or getattr(cc, "replication_group_id", None)
        cc.port = int(cc.port)
        vpc_id = _vpc_of_subnet_group(be, cc.cache_subnet_group_name)
        if not cc.security_group_ids:
            cc.security_group_ids = _default_group_ids(be, vpc_id)
        cc._emu_eni_ids = _create_enis(be, _subnet_ids(be, cc.cache_subnet_group_name), cc.security_group_ids,
                                       cc.num_cache_nodes, f"ElastiCache {cc.cache_cluster_id}",
                                       cc.preferred_availability_zone)
        if not cc.preferred_availability_zone and cc._emu_eni_ids:
            cc.preferred_availability_zone = _ec2_for(be).enis[cc._emu_eni_ids[0]].subnet.availability_zone

    def _check_subnet_group(be: Any, name: str | None) -> None:
        if name and name not in be.cache_subnet_groups:
            raise ecx.CacheSubnetGroupNotFound(name)

    # -- CreateCacheCluster ----------------------------------------------------------------
    # AWS: Port defaults to the engine's port (ElastiCache API Reference, CreateCacheCluster
    # "Port - The port number on which each of the cache nodes accepts connections";
    # Memcached listens on 11211, Redis OSS/Valkey on 6379).  moto used 6379 for Memcached.
    orig_create_cc = Backend.create_cache_cluster

    def create_cache_cluster(self: Any, **kw: Any) -> Any:
        engine = (kw.get("engine") or "redis").lower()
        if not kw.get("port"):
            kw["port"] = 11211 if engine == "memcached" else 6379
        _check_subnet_group(self, kw.get("cache_subnet_group_name"))
        _validate_security_groups(self, kw.get("security_group_ids"),
                                  _vpc_of_subnet_group(self, kw.get("cache_subnet_group_name")))
        cc = orig_create_cc(self, **kw)
        _finish_cluster(self, cc)
        return cc

    Backend.create_cache_cluster = create_cache_cluster  # type: ignore[method-assign]

    # -- CreateReplicationGroup ------------------------------------------------------------
    # AWS: "NumCacheClusters - The number of clusters this replication group initially has"
    # (ElastiCache API Reference, CreateReplicationGroup); moto always made one cluster
    # unless ReplicasPerNodeGroup was given.
    orig_members_disabled = ecm.ReplicationGroup._set_node_members_clusters_disabled

    def _members_disabled(self: Any, *args: Any, **kw: Any) -> Any:
        if not kw.get("replicas_per_node_group") and int(kw.get("num_cache_clusters") or 1) > 1:
            kw["replicas_per_node_group"] = int(kw["num_cache_clusters"]) - 1
        return orig_members_disabled(self, *args, **kw)

    ecm.ReplicationGroup._set_node_members_clusters_disabled = _members_disabled  # type: ignore[method-assign]

    cc_params = [p for p in inspect.signature(CacheCluster.__init__).parameters if p != "self"]

    # AWS: each member of a replication group is a cache cluster that DescribeCacheClusters
    # lists with its ReplicationGroupId and the group's SecurityGroups (ElastiCache API
    # Reference, DescribeCacheClusters; "ShowCacheClustersNotInReplicationGroups" exists to
    # hide them).  moto kept member ids only as strings.
    orig_create_rg = Backend.create_replication_group

    def create_replication_group(self: Any, **kw: Any) -> Any:
        _check_subnet_group(self, kw.get("cache_subnet_group_name"))
        vpc_id = _vpc_of_subnet_group(self, kw.get("cache_subnet_group_name"))
        _validate_security_groups(self, kw.get("security_group_ids"), vpc_id)
        rg = orig_create_rg(self, **kw)
        rg.security_group_ids = list(kw.get("security_group_ids") or []) or _default_group_ids(self, vpc_id)
        rg.engine_version = rg.engine_version or default_versions.get(rg.engine)
        members = {}
        for ng in rg.node_groups:
            if ng.get("reader_endpoint_address"):
                ng["reader_endpoint"] = {"address": ng["reader_endpoint_address"], "port": rg.port}
            for member in ng["node_group_members"]:
                members[member["cache_cluster_id"]] = member
        for cid in rg.member_clusters:
            member = members.get(cid, {})
            args = {p: None for p in cc_params}
            args.update(account_id=self.account_id, region_name=self.region_name, cache_cluster_id=cid,
                        cache_node_type=rg.cache_node_type, engine=rg.engine, engine_version=rg.engine_version,
                        cache_subnet_group_name=rg.cache_subnet_group_name,
                        security_group_ids=list(rg.security_group_ids), port=rg.port,
                        preferred_availability_zone=member.get("preferred_availability_zone"),
                        cache_parameter_group_name=rg.cache_parameter_group_name,
                        transit_encryption_enabled=rg.transit_encryption_enabled,
                        log_delivery_configurations=[], num_cache_nodes=1)
            cc = CacheCluster(**args)
            if member.get("read_endpoint"):
                cc._emu_member_address = member["read_endpoint"]["address"]
            _finish_cluster(self, cc, replication_group_id=rg.replication_group_id)
            self.cache_clusters[cid] = cc
        return rg

    Backend.create_replication_group = create_replication_group  # type: ignore[method-assign]

    def _set_cluster_groups(be: Any, cc: Any, group_ids: list[str]) -> None:
        cc.security_group_ids = list(group_ids)
        _set_eni_groups(be, getattr(cc, "_emu_eni_ids", []), cc.security_group_ids)

    # -- deletes -------------------------------------------------------------------------------
    # AWS: a deleted cluster / replication group is reported as "deleting" by the delete call
    # and then disappears (Describe* answer CacheClusterNotFound / ReplicationGroupNotFoundFault),
    # releasing its ENIs and so its security groups (ElastiCache API Reference,
    # DeleteCacheCluster / DeleteReplicationGroup).  moto kept them forever in "deleting",
    # which would hold their security groups forever once deletes check dependencies.
    orig_delete_cc = Backend.delete_cache_cluster

    def delete_cache_cluster(self: Any, cache_cluster_id: str) -> Any:
        cc = orig_delete_cc(self, cache_cluster_id)
        self.cache_clusters.pop(cache_cluster_id, None)
        _delete_enis(self, getattr(cc, "_emu_eni_ids", []))
        rg = self.replication_groups.get(getattr(cc, "replication_group_id", None) or "")
        if rg is not None and cache_cluster_id in rg.member_clusters:
            rg.member_clusters.remove(cache_cluster_id)
        return cc

    Backend.delete_cache_cluster = delete_cache_cluster  # type: ignore[method-assign]

    orig_delete_rg = Backend.delete_replication_group

    def delete_replication_group(self: Any, replication_group_id: str, retain_primary_cluster: Any) -> Any:
        members = list(self.replication_groups[replication_group_id].member_clusters) \
            if replication_group_id in self.replication_groups else []
        primary = members[0] if members else None
        rg = orig_delete_rg(self, replication_group_id, retain_primary_cluster)
        self.replication_groups.pop(replication_group_id, None)
        for cid in members:
            cc = self.cache_clusters.get(cid)
            if cc is None:
                continue
            if retain_primary_cluster and cid == primary:
                cc.replication_group_id = None
                continue
            self.cache_clusters.pop(cid, None)
            _delete_enis(self, getattr(cc, "_emu_eni_ids", []))
        return rg

    Backend.delete_replication_group = delete_replication_group  # type: ignore[method-assign]

    # -- DescribeCacheClusters flags ---------------------------------------------------------
    def describe_cache_clusters(self: Any) -> Any:
        clusters = self.elasticache_backend.describe_cache_clusters(
            cache_cluster_id=self._get_param("CacheClusterId"))
        if self._get_bool_param("ShowCacheClustersNotInReplicationGroups", False):
            clusters = [c for c in clusters if not getattr(c, "replication_group_id", None)]
        if not self._get_bool_param("ShowCacheNodeInfo", False):
            clusters = [_WithoutCacheNodes(c) for c in clusters]
        return PaginatedResult({"CacheClusters": clusters})

    ElastiCacheResponse.describe_cache_clusters = describe_cache_clusters  # type: ignore[method-assign]

    def _sg_param(resp: Any) -> list[str] | None:
        value = resp._get_param("SecurityGroupIds")
        if isinstance(value, str):
            value = [value] if value else []
        return list(value) if value else None  # an empty list changes nothing

    # -- ModifyCacheCluster --------------------------------------------------------------------
    # AWS: "SecurityGroupIds - Specifies the VPC Security Groups associated with the cluster"
    # replaces the cluster's groups (ElastiCache API Reference, ModifyCacheCluster).  moto had
    # no handler (HTTP 500).  Changes apply immediately here whatever ApplyImmediately says.
    def modify_cache_cluster(self: Any) -> Any:
        be = self.elasticache_backend
        cid = self._get_param("CacheClusterId")
        cc = be.cache_clusters.get(cid)
        if cc is None:
            raise ecx.CacheClusterNotFound(cid)
        sg_ids = _sg_param(self)
        if sg_ids is not None:
            _validate_security_groups(be, sg_ids, _vpc_of_subnet_group(be, cc.cache_subnet_group_name))
            _set_cluster_groups(be, cc, sg_ids)
        num = self._get_int_param("NumCacheNodes")
        if num and cc.engine == "memcached":
            cc.num_cache_nodes = num
        for param, attr in (("CacheNodeType", "cache_node_type"), ("EngineVersion", "engine_version"),
                            ("PreferredMaintenanceWindow", "preferred_maintenance_window"),
                            ("SnapshotWindow", "snapshot_window"), ("CacheParameterGroupName", "cache_parameter_group_name")):
            value = self._get_param(param)
            if value is not None:
                setattr(cc, attr, value)
        return ActionResult({"CacheCluster": cc})

    ElastiCacheResponse.modify_cache_cluster = modify_cache_cluster  # type: ignore[attr-defined]

    # -- ModifyReplicationGroup ----------------------------------------------------------------
    # AWS: "SecurityGroupIds - Specifies the VPC Security Groups associated with the clusters
    # in the replication group" (ElastiCache API Reference, ModifyReplicationGroup): every
    # member cluster gets the new list.  moto had no handler (HTTP 500).
    def modify_replication_group(self: Any) -> Any:
        be = self.elasticache_backend
        rid = self._get_param("ReplicationGroupId")
        rg = be.replication_groups.get(rid)
        if rg is None:
            raise ecx.ReplicationGroupNotFound(rid)
        sg_ids = _sg_param(self)
        members = [be.cache_clusters[c] for c in rg.member_clusters if c in be.cache_clusters]
        if sg_ids is not None:
            _validate_security_groups(be, sg_ids, _vpc_of_subnet_group(be, rg.cache_subnet_group_name))
            rg.security_group_ids = list(sg_ids)
            for cc in members:
                _set_cluster_groups(be, cc, sg_ids)
        if self._get_param("ReplicationGroupDescription") is not None:
            rg.description = self._get_param("ReplicationGroupDescription")
        for param, attr in (("CacheNodeType", "cache_node_type"), ("EngineVersion", "engine_version")):
            value = self._get_param(param)
            if value is not None:
                setattr(rg, attr, value)
                for cc in members:
                    setattr(cc, attr, value)
        for param, attr in (("AutomaticFailoverEnabled", "automatic_failover"), ("MultiAZEnabled", "multi_az")):
            value = self._get_bool_param(param)
            if value is not None:
                setattr(rg, attr, "enabled" if value else "disabled")
        for param, attr in (("SnapshotRetentionLimit", "snapshot_retention_limit"), ("SnapshotWindow", "snapshot_window"),
                            ("PreferredMaintenanceWindow", "preferred_maintenance_window")):
            value = self._get_param(param)
            if value is not None:
                setattr(rg, attr, value)
        return ActionResult({"ReplicationGroup": rg})

    ElastiCacheResponse.modify_replication_group = modify_replication_group  # type: ignore[attr-defined]


# =====================================================================================
# ElastiCache serverless caches (absent from moto 5.2.1)
# =====================================================================================


def _patch_elasticache_serverless() -> None:
    # AWS: CreateServerlessCache / DescribeServerlessCaches / ModifyServerlessCache /
    # DeleteServerlessCache (ElastiCache API Reference; "ServerlessCache" data type:
    # SecurityGroupIds, SubnetIds, Endpoint {Address, Port}, ReaderEndpoint, Status, ARN).
    # A serverless cache listens on 6379 (Redis OSS / Valkey) or 11211 (Memcached), its
    # reader endpoint on the next port, and places ENIs in its subnets (ElastiCache User
    # Guide, "Serverless caches").  Minimal in-memory model: created "available" at once.
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.elasticache import exceptions as ecx
    from moto.elasticache.responses import ElastiCacheResponse

    class ServerlessCacheNotFound(ecx.ElastiCacheException):
        code = "ServerlessCacheNotFoundFault"

    class ServerlessCacheAlreadyExists(ecx.ElastiCacheException):
        code = "ServerlessCacheAlreadyExistsFault"

    # moto finds the error model of an exception through its module's package name.
    ServerlessCacheNotFound.__module__ = ServerlessCacheAlreadyExists.__module__ = ecx.__name__

    majors = {"redis": "7", "valkey": "8", "memcached": "1.6"}

    def _store(be: Any) -> dict:
        if not hasattr(be, "_emu_serverless"):
            be._emu_serverless = {}
        return be._emu_serverless

    def _public(cache: dict) -> dict:
        return {k: v for k, v in cache.items() if not k.startswith("_")}

    def _get(be: Any, name: str) -> dict:
        cache = _store(be).get(name)
        if cache is None:
            raise ServerlessCacheNotFound(f"Serverless cache {name} not found.")
        return cache

    def create_serverless_cache(self: Any) -> Any:
        be, name = self.elasticache_backend, self._get_param("ServerlessCacheName")
        if name in _store(be):
            raise ServerlessCacheAlreadyExists(f"Serverless cache {name} already exists.")
        engine = (self._get_param("Engine") or "redis").lower()
        if engine not in majors:
            raise ecx.InvalidParameterValueException(f"Invalid engine {engine}")
        subnet_ids = list(self._get_param("SubnetIds") or [])
        ec2 = _ec2_for(be)
        vpc_id = None
        for sid in subnet_ids:
            try:
                vpc_id = ec2.get_subnet(sid).vpc_id
            except Exception:
                raise ecx.InvalidSubnet(sid)
        sg_ids = list(self._get_param("SecurityGroupIds") or []) or _default_group_ids(be, vpc_id)
        _validate_security_groups(be, sg_ids, vpc_id)
        port = 11211 if engine == "memcached" else 6379
        major = self._get_param("MajorEngineVersion") or majors[engine]
        host = f"{name}-{''.join(random.choices(string.ascii_lowercase + string.digits, k=6))}" \
               f".serverless.{_region_short(be.region_name)}.cache.amazonaws.com"
        cache = {
            "ServerlessCacheName": name, "Description": self._get_param("Description") or "",
            "CreateTime": utcnow(), "Status": "available", "Engine": engine, "MajorEngineVersion": major,
            "FullEngineVersion": {"redis": "7.1", "valkey": "8.0", "memcached": "1.6.22"}[engine],
            "SecurityGroupIds": sg_ids, "SubnetIds": subnet_ids,
            "Endpoint": {"Address": host, "Port": port}, "ReaderEndpoint": {"Address": host, "Port": port + 1},
            "ARN": f"arn:aws:elasticache:{be.region_name}:{be.account_id}:serverlesscache:{name}",
            "UserGroupId": self._get_param("UserGroupId"), "KmsKeyId": self._get_param("KmsKeyId"),
            "SnapshotRetentionLimit": self._get_int_param("SnapshotRetentionLimit") or 0,
            "DailySnapshotTime": self._get_param("DailySnapshotTime") or "04:00", "NetworkType": "ipv4",
        }
        cache["_eni_ids"] = _create_enis(be, subnet_ids, sg_ids, len(subnet_ids),
                                         f"ElastiCache Serverless {name}")
        tags = self._get_param("Tags") or []
        if tags:
            be.tagging_service.tag_resource(cache["ARN"], tags)
        _store(be)[name] = cache
        return ActionResult({"ServerlessCache": _public(cache)})

    def describe_serverless_caches(self: Any) -> Any:
        be, name = self.elasticache_backend, self._get_param("ServerlessCacheName")
        caches = [_get(be, name)] if name else list(_store(be).values())
        return ActionResult({"ServerlessCaches": [_public(c) for c in caches]})

    def modify_serverless_cache(self: Any) -> Any:
        be = self.elasticache_backend
        cache = _get(be, self._get_param("ServerlessCacheName"))
        sg_ids = self._get_param("SecurityGroupIds")
        if sg_ids:
            vpc_id = None
            if cache["SubnetIds"]:
                try:
                    vpc_id = _ec2_for(be).get_subnet(cache["SubnetIds"][0]).vpc_id
                except Exception:
                    vpc_id = None
            _validate_security_groups(be, sg_ids, vpc_id)
            cache["SecurityGroupIds"] = list(sg_ids)
            _set_eni_groups(be, cache["_eni_ids"], cache["SecurityGroupIds"])
        for param in ("Description", "DailySnapshotTime", "UserGroupId", "MajorEngineVersion"):
            if self._get_param(param) is not None:
                cache[param] = self._get_param(param)
        if self._get_int_param("SnapshotRetentionLimit") is not None:
            cache["SnapshotRetentionLimit"] = self._get_int_param("SnapshotRetentionLimit")
        return ActionResult({"ServerlessCache": _public(cache)})

    def delete_serverless_cache(self: Any) -> Any:
        be, name = self.elasticache_backend, self._get_param("ServerlessCacheName")
        cache = _get(be, name)
        _store(be).pop(name, None)
        _delete_enis(be, cache["_eni_ids"])
        return ActionResult({"ServerlessCache": dict(_public(cache), Status="deleting")})

    ElastiCacheResponse.create_serverless_cache = create_serverless_cache  # type: ignore[attr-defined]
    ElastiCacheResponse.describe_serverless_caches = describe_serverless_caches  # type: ignore[attr-defined]
    ElastiCacheResponse.modify_serverless_cache = modify_serverless_cache  # type: ignore[attr-defined]
    ElastiCacheResponse.delete_serverless_cache = delete_serverless_cache  # type: ignore[attr-defined]

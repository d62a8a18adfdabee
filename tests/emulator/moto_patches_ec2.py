"""The EC2 patches of ``moto_patches.py``: security group rules (duplicates, rule ids, descriptions,
owners, cross-account references) and deletes that AWS refuses while a group is held."""

from __future__ import annotations

import inspect
import threading
from typing import Any

RULES_LOCK = threading.RLock()

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


def patch_rules() -> None:
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
            with RULES_LOCK:  # the rollback below must not undo a concurrent call's rules
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
        with RULES_LOCK:
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


def patch_delete_and_errors() -> None:
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

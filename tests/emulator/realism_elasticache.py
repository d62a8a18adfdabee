"""ElastiCache behaviours of AWS that the emulator lacked, each behind a switch of
``realism_config.CONFIG`` (all on by default, ``realism_config.REALISTIC``): modifications that take time (``modifying`` for a
window, groups reaching the nodes at its end, a second modification refused), clusters held in
``snapshotting``, the security-groups-per-network-interface quota, ModifyServerlessCache's one field
per request and the default-group fallback. Every modification is recorded, accepted or refused
(``GET /_emulator/modifications``)."""

from __future__ import annotations

import threading
import time
from typing import Any

from moto_patches_elasticache import _default_group_ids, _ec2_for
from realism_config import CONFIG, SG_PER_ENI

LOCK = threading.RLock()
# (kind, name) -> {"until", "ec2", "enis": {eni id: [groups at the end]}, "obj"}
WINDOWS: dict[tuple[str, str], dict[str, Any]] = {}
# (kind, name) -> object whose status the emulator changed and must restore
HELD: dict[tuple[str, str], Any] = {}
MODIFICATIONS: list[dict[str, Any]] = []

RG, CC, SL = "replication-group", "cache-cluster", "serverless-cache"


def reset() -> None:
    with LOCK:
        WINDOWS.clear()
        HELD.clear()
        MODIFICATIONS.clear()


def modifications() -> dict[str, Any]:
    with LOCK:
        mods = [dict(m) for m in MODIFICATIONS]
    accepted = [m for m in mods if m["accepted"]]
    return {"modifications": mods, "accepted": len(accepted), "refused": len(mods) - len(accepted),
            "windows": sum(1 for m in accepted if m["window"] > 0)}


def clear_modifications() -> None:
    with LOCK:
        MODIFICATIONS.clear()


# =====================================================================================
# errors (ElastiCache API Reference, ModifyReplicationGroup / ModifyCacheCluster /
# ModifyServerlessCache, "Errors"; codes as botocore's elasticache model sends them)
# =====================================================================================


def _error(code: str, message: str) -> Exception:
    from moto.elasticache import exceptions as ecx

    cls = type(code.replace(".", ""), (ecx.ElastiCacheException,), {"code": code})
    cls.__module__ = ecx.__name__  # moto finds the error model through the module's package
    return cls(message)


def _busy_error(kind: str, name: str) -> Exception:
    if kind == RG:
        # The wire message as AWS sends it (umotif-public/terraform-aws-elasticache-redis#54,
        # aws-controllers-k8s/community#228).
        return _error("InvalidReplicationGroupState", "Replication group must be in available state to modify.")
    if kind == CC:
        # The fault's documented text (ElastiCache API Reference, "InvalidCacheClusterState").
        return _error("InvalidCacheClusterState", "The requested cluster is not in the available state.")
    # As AWS answers a serverless cache that is not available (ekristen/aws-nuke#256).
    return _error("InvalidServerlessCacheStateFault",
                  "Serverless cache is not in an available state to perform the requested action.")


# =====================================================================================
# status: snapshotting (set through the configuration), modifying (a window), available
# =====================================================================================


def _name(kind: str, obj: Any) -> str:
    if kind == RG:
        return obj.replication_group_id
    if kind == CC:
        return obj.cache_cluster_id
    return obj["ServerlessCacheName"]


def _related(kind: str, obj: Any) -> list[tuple[str, str]]:
    """The entities whose state holds this one: itself, its replication group or its members."""
    out = [(kind, _name(kind, obj))]
    if kind == RG:
        out += [(CC, m) for m in obj.member_clusters]
    elif kind == CC and getattr(obj, "replication_group_id", None):
        out.append((RG, obj.replication_group_id))
    return out


def status_of(kind: str, obj: Any) -> str:
    related = _related(kind, obj)
    snap = set(CONFIG["snapshotting"])
    if any(name in snap for _, name in related):
        return "snapshotting"
    if any(key in WINDOWS for key in related):
        return "modifying"
    return "available"


def _set_status(kind: str, obj: Any, status: str) -> None:
    if kind == RG:
        obj.status = status
    elif kind == CC:
        obj.cache_cluster_status = status
    else:
        obj["Status"] = status


def _all_entities() -> list[tuple[str, Any]]:
    from moto.elasticache.models import elasticache_backends

    out: list[tuple[str, Any]] = []
    for regions in list(elasticache_backends.values()):
        for be in list(regions.values()):
            out += [(RG, rg) for rg in list(be.replication_groups.values())]
            out += [(CC, cc) for cc in list(be.cache_clusters.values())]
            out += [(SL, c) for c in list(getattr(be, "_emu_serverless", {}).values())]
    return out


def settle() -> None:
    """Ends the windows that are over (the nodes get their new groups) and brings every status up
    to date. Called before each request, so what a request sees is the state at its arrival."""
    if not (WINDOWS or HELD or CONFIG["snapshotting"]):
        return
    with LOCK:
        now = time.monotonic()
        for key, w in list(WINDOWS.items()):
            if now >= w["until"]:
                _set_eni_groups(w["ec2"], w["enis"])
                if key[0] in (CC, RG):
                    for cc in w["clusters"]:
                        cc._emu_sg_status = None
                del WINDOWS[key]
        candidates = dict(HELD)
        snap = set(CONFIG["snapshotting"])
        if snap:
            for kind, obj in _all_entities():
                if any(name in snap for _, name in _related(kind, obj)):
                    candidates[(kind, _name(kind, obj))] = obj
        for key, obj in candidates.items():
            status = status_of(key[0], obj)
            _set_status(key[0], obj, status)
            if status == "available":
                HELD.pop(key, None)
            else:
                HELD[key] = obj


# =====================================================================================
# network interfaces
# =====================================================================================


def _eni_groups(ec2: Any, eni_ids: list[str]) -> dict[str, list]:
    return {e: list(ec2.enis[e]._group_set) for e in eni_ids if e in ec2.enis}


def _set_eni_groups(ec2: Any, groups: dict[str, list]) -> None:
    for eni_id, group_set in groups.items():
        eni = ec2.enis.get(eni_id)
        if eni is not None:
            eni._group_set = list(group_set)


def check_groups_per_eni(group_ids: Any) -> None:
    """A cache node is a network interface (ElastiCache User Guide, "Amazon VPCs and ElastiCache
    security"), and a network interface takes at most quota L-2AFB9258 security groups, 5 by default,
    adjustable up to 16 (Amazon VPC quotas, "Security groups"). EC2 refuses a sixth with
    SecurityGroupsPerInterfaceLimitExceeded, "The maximum number of security groups per interface has
    been reached."; ElastiCache's Create*/Modify* list InvalidParameterValue for a refused value (its
    exact answer here is not documented: this code with EC2's text is the emulator's choice)."""
    if not CONFIG["enforce_sg_per_eni"] or group_ids is None:
        return
    if len(set(group_ids)) > CONFIG.quota(SG_PER_ENI):
        raise _error("InvalidParameterValue", "The maximum number of security groups per interface has been reached.")


# =====================================================================================
# one modification: checks, the window, the record
# =====================================================================================


def _record(action: str, kind: str, name: str, groups: Any, error: Exception | None, window: float) -> None:
    MODIFICATIONS.append({
        "action": action, "kind": kind, "id": name,
        "security_group_ids": list(groups) if groups is not None else None,
        "accepted": error is None, "error": getattr(error, "code", None) if error else None,
        "at": time.time(), "window": window if error is None else 0.0,
    })


def modify(action: str, kind: str, obj: Any, ec2: Any, clusters: list, eni_ids: list[str],
           groups: Any, apply: Any) -> Any:
    """Runs ``apply`` (moto's handler, which changes everything at once) as AWS does: refused while
    the cluster is not available; then ``modifying`` for ``modify_window`` seconds, the nodes keeping
    their groups until the end ("the pending modification" is applied "asynchronously and as soon as
    possible", ElastiCache API Reference, ModifyCacheCluster / ModifyReplicationGroup ApplyImmediately).
    While modifying, each cluster's SecurityGroups membership is reported with Status "modifying" (the
    emulator's choice; AWS documents only that the status "changes whenever ... the security groups
    assigned to a cluster are modified", "SecurityGroupMembership" data type)."""
    name = _name(kind, obj)
    with LOCK:
        settle()
        try:
            if status_of(kind, obj) != "available":
                raise _busy_error(kind, name)
            check_groups_per_eni(groups)
            before = _eni_groups(ec2, eni_ids)
            result = apply()
        except Exception as exc:
            if getattr(exc, "code", None):
                _record(action, kind, name, groups, exc, 0.0)
            raise
        window = CONFIG["modify_window"]
        _record(action, kind, name, groups, None, window)
        if window > 0:
            after = _eni_groups(ec2, eni_ids)
            _set_eni_groups(ec2, before)
            WINDOWS[(kind, name)] = {"until": time.monotonic() + window, "ec2": ec2, "enis": after,
                                     "clusters": clusters}
            for cc in clusters:
                cc._emu_sg_status = "modifying"
            for k, o in [(kind, obj)] + [(CC, cc) for cc in clusters if cc is not obj]:
                HELD[(k, _name(k, o))] = o
                _set_status(k, o, "modifying")
            body = getattr(result, "result", None)
            if kind == SL and isinstance(body, dict) and isinstance(body.get("ServerlessCache"), dict):
                body["ServerlessCache"]["Status"] = "modifying"  # the answer is a copy of the cache
        return result


# =====================================================================================
# the patches
# =====================================================================================


def patch_elasticache() -> None:
    from moto.elasticache import exceptions as ecx
    from moto.elasticache import models as ecm
    from moto.elasticache.responses import ElastiCacheResponse as R

    # SecurityGroups membership status: "modifying" while a modification is under way.
    ecm.CacheCluster.security_groups = property(  # type: ignore[attr-defined]
        lambda self: [{"SecurityGroupId": g, "Status": getattr(self, "_emu_sg_status", None) or "active"}
                      for g in (self.security_group_ids or [])])

    _patch_creates(ecm, R)

    orig_rg, orig_cc = R.modify_replication_group, R.modify_cache_cluster

    def modify_replication_group(self: Any) -> Any:
        be = self.elasticache_backend
        rg = be.replication_groups.get(self._get_param("ReplicationGroupId"))
        if rg is None:
            return orig_rg(self)
        members = [be.cache_clusters[c] for c in rg.member_clusters if c in be.cache_clusters]
        enis = [e for cc in members for e in getattr(cc, "_emu_eni_ids", [])]
        return modify("ModifyReplicationGroup", RG, rg, _ec2_for(be), members, enis, _sg_list(self),
                      lambda: orig_rg(self))

    def modify_cache_cluster(self: Any) -> Any:
        be = self.elasticache_backend
        cc = be.cache_clusters.get(self._get_param("CacheClusterId"))
        if cc is None:
            return orig_cc(self)
        return modify("ModifyCacheCluster", CC, cc, _ec2_for(be), [cc], list(getattr(cc, "_emu_eni_ids", [])),
                      _sg_list(self), lambda: orig_cc(self))

    R.modify_replication_group = modify_replication_group  # type: ignore[attr-defined]
    R.modify_cache_cluster = modify_cache_cluster  # type: ignore[attr-defined]
    _patch_serverless(ecx, R)


def _sg_list(resp: Any) -> list[str] | None:
    """SecurityGroupIds as sent: None when absent, [] when sent empty (``SecurityGroupIds=``)."""
    keys = [k for k in resp.querystring if k == "SecurityGroupIds" or k.startswith("SecurityGroupIds.")]
    if not keys:
        return None
    members = sorted((k for k in keys if k != "SecurityGroupIds"), key=lambda k: int(k.rsplit(".", 1)[-1]))
    return [resp.querystring[k][0] for k in members if resp.querystring[k] and resp.querystring[k][0]]


def _patch_creates(ecm: Any, R: Any) -> None:
    Backend = ecm.ElastiCacheBackend
    orig_cc, orig_rg = Backend.create_cache_cluster, Backend.create_replication_group

    def create_cache_cluster(self: Any, **kw: Any) -> Any:
        check_groups_per_eni(kw.get("security_group_ids") or None)
        return orig_cc(self, **kw)

    def create_replication_group(self: Any, **kw: Any) -> Any:
        check_groups_per_eni(kw.get("security_group_ids") or None)
        return orig_rg(self, **kw)

    Backend.create_cache_cluster = create_cache_cluster  # type: ignore[method-assign]
    Backend.create_replication_group = create_replication_group  # type: ignore[method-assign]

    orig_sl = R.create_serverless_cache

    def create_serverless_cache(self: Any) -> Any:
        check_groups_per_eni(_sg_list(self) or None)
        return orig_sl(self)

    R.create_serverless_cache = create_serverless_cache  # type: ignore[attr-defined]


# Parameters of ModifyServerlessCache that are not fields (botocore's elasticache model:
# ServerlessCacheName names the cache; the rest are the query protocol's and SigV4's own).
_NOT_FIELDS = {"Action", "Version", "ServerlessCacheName", "AWSAccessKeyId", "Signature", "SignatureMethod",
               "SignatureVersion", "Timestamp", "SecurityToken"}


def modified_fields(resp: Any) -> list[str]:
    return sorted({k.split(".", 1)[0] for k in resp.querystring
                   if k.split(".", 1)[0] not in _NOT_FIELDS and not k.startswith("X-Amz-")})


def _patch_serverless(ecx: Any, R: Any) -> None:
    orig = R.modify_serverless_cache

    def modify_serverless_cache(self: Any) -> Any:
        # AWS: "InvalidParameterCombination: Serverless Cache modifications only support modifying
        # one field per request." (terraform-provider-aws #40461, #41103, #37499: a field sent
        # unchanged counts too) and "No modifications were requested" for none (#44746).
        if CONFIG["serverless_one_field"]:
            fields = modified_fields(self)
            if len(fields) > 1:
                raise ecx.InvalidParameterCombinationException(
                    "Serverless Cache modifications only support modifying one field per request.")
            if not fields:
                raise ecx.InvalidParameterCombinationException("No modifications were requested")
        be = self.elasticache_backend
        cache = getattr(be, "_emu_serverless", {}).get(self._get_param("ServerlessCacheName"))
        if cache is None:
            return orig(self)
        groups = _sg_list(self)
        fallback = groups == [] and CONFIG["serverless_default_group"]
        if fallback:
            # AWS: a serverless cache without security groups uses the VPC's default group
            # (terraform-provider-aws #43027, #43862).
            groups = _default_group_ids(be, _serverless_vpc(be, cache))
        ec2 = _ec2_for(be)

        def apply() -> Any:
            result = orig(self)
            if fallback:
                cache["SecurityGroupIds"] = list(groups)
                ec2_groups = [ec2.get_security_group_from_id(g) for g in groups]
                _set_eni_groups(ec2, {e: [g for g in ec2_groups if g is not None] for e in cache["_eni_ids"]})
                result.result["ServerlessCache"]["SecurityGroupIds"] = list(groups)  # the answer is a copy
            return result

        return modify("ModifyServerlessCache", SL, cache, ec2, [], list(cache["_eni_ids"]), groups, apply)

    R.modify_serverless_cache = modify_serverless_cache  # type: ignore[attr-defined]


def _serverless_vpc(be: Any, cache: dict) -> str | None:
    for sid in cache.get("SubnetIds") or []:
        try:
            return _ec2_for(be).get_subnet(sid).vpc_id
        except Exception:
            continue
    return None

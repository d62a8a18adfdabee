"""The ElastiCache patches of ``moto_patches.py``: clusters and replication groups with their
members, security groups, endpoints and ENIs, modifies and deletes, and minimal serverless caches."""

from __future__ import annotations

import inspect
import random
import string
from typing import Any

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


def patch_clusters() -> None:
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


def patch_serverless() -> None:
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

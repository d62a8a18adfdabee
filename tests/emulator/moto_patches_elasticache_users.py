"""RBAC user groups, absent from moto 5.2.1 (it models users, with their authentication type, but not
user groups; it keeps a replication group's `UserGroupIds` without checking them)."""

from __future__ import annotations

from typing import Any


def patch_user_groups() -> None:
    # AWS: CreateUserGroup / DescribeUserGroups (ElastiCache API Reference; "UserGroup" data type:
    # UserGroupId, Status, Engine, UserIds, MinimumEngineVersion, ReplicationGroups,
    # ServerlessCaches, ARN). CreateUserGroup fails with UserNotFound for an unknown user id and
    # UserGroupAlreadyExists for a taken id; DescribeUserGroups with UserGroupNotFound. A user's
    # UserGroupIds lists the groups holding it ("User" data type). CreateReplicationGroup fails with
    # UserGroupNotFound for an unknown id in UserGroupIds (its Errors). Minimal in-memory model:
    # a group is "active" at once; modifications and deletions are not modelled.
    from moto.core.responses import ActionResult
    from moto.elasticache import exceptions as ecx
    from moto.elasticache.responses import ElastiCacheResponse

    class UserGroupNotFound(ecx.ElastiCacheException):
        code = "UserGroupNotFound"

    class UserGroupAlreadyExists(ecx.ElastiCacheException):
        code = "UserGroupAlreadyExists"

    # moto finds the error model of an exception through its module's package name.
    UserGroupNotFound.__module__ = UserGroupAlreadyExists.__module__ = ecx.__name__

    def _store(be: Any) -> dict:
        if not hasattr(be, "_emu_user_groups"):
            be._emu_user_groups = {}
        return be._emu_user_groups

    def _get(be: Any, gid: str) -> dict:
        group = _store(be).get(gid)
        if group is None:
            raise UserGroupNotFound(f"User group {gid} not found.")
        return group

    def create_user_group(self: Any) -> Any:
        be, gid = self.elasticache_backend, self._get_param("UserGroupId")
        if gid in _store(be):
            raise UserGroupAlreadyExists(f"User group {gid} already exists.")
        user_ids = list(self._get_param("UserIds") or [])
        for uid in user_ids:
            if uid not in be.users:
                raise ecx.UserNotFound(uid)
        for uid in user_ids:
            be.users[uid].user_group_ids.append(gid)
        group = {
            "UserGroupId": gid, "Status": "active", "Engine": (self._get_param("Engine") or "redis").lower(),
            "UserIds": user_ids, "MinimumEngineVersion": "6.0", "ReplicationGroups": [],
            "ServerlessCaches": [],
            "ARN": f"arn:aws:elasticache:{be.region_name}:{be.account_id}:usergroup:{gid}",
        }
        _store(be)[gid] = group
        return ActionResult(group)

    def describe_user_groups(self: Any) -> Any:
        be, gid = self.elasticache_backend, self._get_param("UserGroupId")
        groups = [_get(be, gid)] if gid else list(_store(be).values())
        return ActionResult({"UserGroups": groups})

    create_replication_group = ElastiCacheResponse.create_replication_group

    def create_replication_group_checked(self: Any) -> Any:
        be = self.elasticache_backend
        gids = list(self._get_param("UserGroupIds") or [])
        for gid in gids:
            _get(be, gid)
        result = create_replication_group(self)
        for gid in gids:
            _get(be, gid)["ReplicationGroups"].append(self._get_param("ReplicationGroupId"))
        return result

    ElastiCacheResponse.create_user_group = create_user_group  # type: ignore[attr-defined]
    ElastiCacheResponse.describe_user_groups = describe_user_groups  # type: ignore[attr-defined]
    ElastiCacheResponse.create_replication_group = create_replication_group_checked  # type: ignore[method-assign]

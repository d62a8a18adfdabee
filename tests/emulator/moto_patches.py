"""In-process patches that make moto 5.2.x behave like AWS where our provider depends on it.

Every patch names the AWS behaviour it mirrors (paraphrased from the AWS API reference /
user guide page given in the comment).  ``apply()`` is idempotent.  The patches are
deliberately small: they wrap or replace single moto backend methods or response
handlers and keep moto's own data model. The EC2 patches are in ``moto_patches_ec2.py``, the
ElastiCache ones in ``moto_patches_elasticache.py``.

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
Speed (``moto_patches_speed.py``): tag lookups and group-id filters in linear time; DescribeSecurityGroups
and DescribeSecurityGroupRules bodies written without moto's generic serializer; same answers.
Realism (``realism_ec2.py``, ``realism_elasticache.py``), each behaviour switched by
``realism_config.CONFIG`` and off unless configured: eventual consistency, cluster modifications that
take time, snapshotting, serverless one-field modifications and default-group fallback, groups per
network interface, rules per group, prefix-list existence, the filter-value limit, peered references.
"""

from __future__ import annotations

import threading

import moto_patches_ec2
import moto_patches_elasticache
import moto_patches_elasticache_users
import moto_patches_speed
import realism_ec2
import realism_elasticache

_APPLIED = False
_LOCK = threading.Lock()


def apply() -> None:
    global _APPLIED
    with _LOCK:
        if _APPLIED:
            return
        moto_patches_ec2.patch_rules()
        moto_patches_ec2.patch_delete_and_errors()
        moto_patches_elasticache.patch_clusters()
        moto_patches_elasticache.patch_serverless()
        moto_patches_elasticache_users.patch_user_groups()
        moto_patches_speed.patch_speed()
        realism_ec2.patch_ec2()  # after the others: it wraps them
        realism_elasticache.patch_elasticache()
        _APPLIED = True

"""The policy pack: `pulumi preview --policy-pack policies/pulumi` (see elasticache_access_policy)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from elasticache_access_policy import POLICIES

PolicyPack(
    name="elasticache-access",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)

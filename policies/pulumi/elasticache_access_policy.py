"""Pulumi policies for `elasticache:index:Access` (the pack: __main__.py in this directory).

One stack validation per blocking finding of the provider's table (policies/findings.json, written
by the provider's `generate`; tests/policies keeps BLOCKING equal to its blocking entries). Stack
validations see the resources' outputs, where `reachability` lives: each one reports, against the
access's URN, every finding of its id in `reachability.findings`, with the subject and message. An
access whose reachability is not known yet (a preview before the cluster exists) has nothing to
judge and passes.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

ACCESS_TYPE = "elasticache:index:Access"

# finding id -> (severity, title); the policy names are `elasticache-access-<finding id>`.
BLOCKING = {
    "open-to-world": (Severity.CRITICAL, "A source is 0.0.0.0/0 or ::/0"),
    "public-source": (Severity.HIGH, "A source outside the private ranges reaches the cluster port"),
    "no-transit-encryption": (Severity.HIGH, "The cluster has transit encryption off"),
    "no-authentication": (Severity.HIGH, "The cluster has no AUTH token, RBAC user group or IAM"),
}


def _known(read: Callable[[], Any]) -> Optional[Any]:
    """The value `read` returns, or None when it is unknown during a preview."""
    try:
        return read()
    except UnknownValueError:
        return None


def findings(resource: PolicyResource) -> list[dict[str, Any]]:
    """The access's known findings (empty when its reachability is unknown)."""
    reach = _known(lambda: resource.props.get("reachability"))
    if not reach:
        return []
    out = []
    for f in _known(lambda: reach.get("findings")) or []:
        out.append({k: _known(lambda k=k: f.get(k)) for k in ("id", "severity", "subject", "message")})
    return out


def _validation(finding_id: str):
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for resource in args.resources:
            if resource.resource_type != ACCESS_TYPE:
                continue
            for f in findings(resource):
                if f["id"] == finding_id:
                    report_violation(f"{finding_id} on {f['subject']}: {f['message']}", resource.urn)

    return validate


POLICIES = [
    StackValidationPolicy(
        name=f"elasticache-access-{fid}",
        description=f"No elasticache_access whose reachability has the finding {fid}: {title}.",
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=severity,
        validate=_validation(fid),
    )
    for fid, (severity, title) in BLOCKING.items()
]

"""checkov custom policy for `elasticache_access` (run on `terraform show -json` of a plan):

    checkov --framework terraform_plan --skip-download \
        --external-checks-dir policies/checkov -f plan.json

One check per blocking finding of the provider's table (policies/findings.json, written by the
provider's `generate`; tests/policies keeps BLOCKING below equal to its blocking entries). A check
fails an access whose planned `reachability.findings` holds its finding, and names each subject and
message in the result's details. An access whose reachability is not known at plan time has nothing
to judge yet and passes (the guide, docs/guides/reviewing-access.md, says how to judge the state).
The check ids are stable: skip one with `#checkov:skip=CKV_ECACCESS_3:<reason>` on the resource.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

# finding id -> (checkov check id, title). Ids are never renumbered; a new finding takes a new one.
BLOCKING = {
    "open-to-world": ("CKV_ECACCESS_1", "A source is 0.0.0.0/0 or ::/0"),
    "public-source": ("CKV_ECACCESS_2", "A source outside the private ranges reaches the cluster port"),
    "no-transit-encryption": ("CKV_ECACCESS_3", "The cluster has transit encryption off"),
    "no-authentication": ("CKV_ECACCESS_4", "The cluster has no AUTH token, RBAC user group or IAM"),
}


def _one(value: Any) -> Any:
    """checkov wraps every plan value in a one-element list; unwraps it."""
    while isinstance(value, list) and len(value) == 1 and not isinstance(value[0], dict):
        value = value[0]
    return value


def findings(conf: dict[str, Any]) -> list[dict[str, Any]]:
    """The access's planned findings as plain dicts ([] when the reachability is unknown)."""
    reach = conf.get("reachability")
    if isinstance(reach, list):
        reach = reach[0] if reach else None
    if not isinstance(reach, dict):
        return []
    out = []
    for f in reach.get("findings") or []:
        if isinstance(f, dict):
            out.append({k: _one(v) for k, v in f.items()})
    return out


class NoBlockingFinding(BaseResourceCheck):
    def __init__(self, finding_id: str, check_id: str, title: str) -> None:
        self.finding_id = finding_id
        super().__init__(
            name=f"elasticache_access reachability: no {finding_id} ({title})",
            id=check_id,
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("elasticache_access",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["reachability/[0]/findings"]
        hits = [f for f in findings(conf) if f.get("id") == self.finding_id]
        self.details = [f"{self.finding_id} on {f.get('subject')}: {f.get('message')}" for f in hits]
        return CheckResult.FAILED if hits else CheckResult.PASSED


CHECKS = [NoBlockingFinding(fid, cid, title) for fid, (cid, title) in BLOCKING.items()]

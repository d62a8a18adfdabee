"""The switches of the emulator's AWS realism (``realism_ec2.py``, ``realism_elasticache.py``).

Every behaviour can be switched at run time, per test (``POST /_emulator/config``), and the launcher's
defaults come from its flags and the ``EMULATOR_CONFIG`` environment variable (``launcher.py``).
``REALISTIC``, the launcher's default, turns every behaviour on with windows short enough for tests;
``OFF`` (``--no-realism``) is moto plus the patches of ``moto_patches.py`` alone.

    consistency_delay         seconds a new security group / rule stays invisible to other calls (0: off)
    modify_window             seconds a modified cluster stays ``modifying`` (0: changes apply at once)
    snapshotting              ids of replication groups, cache clusters or serverless caches held in
                              ``snapshotting`` (they refuse modifications)
    serverless_one_field      ModifyServerlessCache takes one field per request
    serverless_default_group  a serverless cache left without groups falls back to the VPC's default group
    enforce_sg_per_eni        a cache node (network interface) takes at most quota L-2AFB9258 groups
    enforce_rule_quota        rules per group and direction: quota L-0EA8095F per address family
    require_prefix_lists      a rule naming an unknown prefix list is InvalidPrefixListId.NotFound
    filter_limit              more than 200 filter values in one describe is FilterLimitExceeded
    require_peering           a group of another VPC (another account's) needs an active peering connection
    quotas                    Service Quotas values: {"L-2AFB9258": 5, "L-0EA8095F": 60}
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

SG_PER_ENI = "L-2AFB9258"  # vpc: Security groups per network interface (default 5, at most 16)
RULES_PER_SG = "L-0EA8095F"  # vpc: Inbound or outbound rules per security group (default 60)

OFF: dict[str, Any] = {
    "consistency_delay": 0.0,
    "modify_window": 0.0,
    "snapshotting": [],
    "serverless_one_field": False,
    "serverless_default_group": False,
    "enforce_sg_per_eni": False,
    "enforce_rule_quota": False,
    "require_prefix_lists": False,
    "filter_limit": False,
    "require_peering": False,
    "quotas": {SG_PER_ENI: 5, RULES_PER_SG: 60},
}

SWITCHES = ("serverless_one_field", "serverless_default_group", "enforce_sg_per_eni", "enforce_rule_quota",
            "require_prefix_lists", "filter_limit", "require_peering")

REALISTIC: dict[str, Any] = dict(copy.deepcopy(OFF), consistency_delay=2.0, modify_window=3.0,
                                 **{k: True for k in SWITCHES})


def validated(current: dict[str, Any], changes: Any) -> dict[str, Any]:
    """``current`` with ``changes`` merged in (``quotas`` merged key by key); ValueError if invalid."""
    if not isinstance(changes, dict):
        raise ValueError("the configuration must be a JSON object")
    out = copy.deepcopy(current)
    for key, value in changes.items():
        if key not in OFF:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(sorted(OFF))})")
        if key in ("consistency_delay", "modify_window"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600:
                raise ValueError(f"{key} must be a number of seconds between 0 and 3600")
            out[key] = float(value)
        elif key == "snapshotting":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("snapshotting must be a list of ids")
            out[key] = list(value)
        elif key == "quotas":
            out[key] = _quotas(out[key], value)
        elif not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        else:
            out[key] = value
    return out


def _quotas(current: dict[str, int], value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("quotas must be an object of quota code to value")
    out = dict(current)
    for code, number in value.items():
        if code not in OFF["quotas"]:
            raise ValueError(f"unknown quota {code!r} (known: {', '.join(OFF['quotas'])})")
        if isinstance(number, bool) or not isinstance(number, (int, float)) or int(number) != number or number < 1:
            raise ValueError(f"quota {code} must be a positive whole number")
        out[code] = int(number)
    # Amazon VPC quotas, "Security groups": groups per network interface is adjustable up to 16, and
    # it multiplied by the rules per security group cannot exceed 1,000.
    if out[SG_PER_ENI] > 16:
        raise ValueError(f"quota {SG_PER_ENI} (security groups per network interface) is at most 16")
    if out[SG_PER_ENI] * out[RULES_PER_SG] > 1000:
        raise ValueError(f"quota {SG_PER_ENI} x quota {RULES_PER_SG} cannot exceed 1,000")
    return out


NAMED = {"realistic": REALISTIC, "off": OFF}


def launcher_defaults(off: bool, env_value: str | None, flag_value: str | None) -> dict[str, Any]:
    """REALISTIC (or OFF with ``--no-realism``), then ``EMULATOR_CONFIG`` (JSON, or the word
    ``realistic`` or ``off``), then ``--config`` (the same)."""
    out = copy.deepcopy(OFF if off else REALISTIC)
    for source in (env_value, flag_value):
        if not source or not source.strip():
            continue
        if source.strip() in NAMED:
            out = copy.deepcopy(NAMED[source.strip()])
            continue
        try:
            changes = json.loads(source)
        except json.JSONDecodeError as exc:
            raise ValueError(f"emulator configuration is not JSON: {exc}") from exc
        out = validated(out, changes)
    return out


class Config:
    """The current configuration (thread-safe), and the launcher's defaults that a reset restores."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._defaults = copy.deepcopy(OFF)
        self._current = copy.deepcopy(OFF)

    def set_defaults(self, defaults: dict[str, Any]) -> None:
        with self._lock:
            self._defaults = validated(OFF, defaults)
            self._current = copy.deepcopy(self._defaults)

    def defaults(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._defaults)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._current)

    def update(self, changes: Any) -> dict[str, Any]:
        with self._lock:
            self._current = validated(self._current, changes)
            return copy.deepcopy(self._current)

    def reset(self) -> None:
        with self._lock:
            self._current = copy.deepcopy(self._defaults)

    def __getitem__(self, key: str) -> Any:
        # Values are replaced, never mutated in place, so a read without a copy is safe.
        return self._current[key]

    def quota(self, code: str) -> int:
        return int(self._current["quotas"][code])


CONFIG = Config()

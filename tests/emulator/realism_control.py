"""The control endpoints of the emulator's AWS realism (``launcher.py`` routes them here):

    GET    /_emulator/config          -> {"config": {...}, "defaults": {...}, "patched": bool}
    POST   /_emulator/config          body: settings to change, e.g. {"modify_window": 1.0,
                                      "quotas": {"L-2AFB9258": 8}}  -> {"ok": true, "config": {...}}
    DELETE /_emulator/config          -> the launcher's defaults again: {"ok": true, "config": {...}}
    GET    /_emulator/modifications   -> {"modifications": [{"action", "kind", "id", "security_group_ids",
                                          "accepted", "error", "at", "window"}], "accepted", "refused", "windows"}
    DELETE /_emulator/modifications   -> {"ok": true}
    POST   /_emulator/peering         body {"vpc_id", "peer_account_id", "peer_vpc_id"?, "peer_cidr"?,
                                      "peer_group_ids"?, "region"?} -> {"ok": true, "vpc_peering_connection_id", ...}
    POST   /_emulator/settle          -> {"ok": true, "settled": N}: every group and rule made so far is
                                      visible to every call now (the end of their consistency windows);
                                      seed.py settles the world it makes, as one made long before

The settings are those of ``realism_config.py``; ``POST /_emulator/reset`` restores the defaults too.
"""

from __future__ import annotations

import json
from typing import Any

import realism_ec2
import realism_elasticache
from realism_config import CONFIG

PATHS = ("/_emulator/config", "/_emulator/modifications", "/_emulator/peering", "/_emulator/settle")


def reset() -> None:
    CONFIG.reset()
    realism_ec2.reset()
    realism_elasticache.reset()


def handle(method: str, path: str, body: bytes, patched: bool) -> tuple[int, Any]:
    try:
        spec = json.loads(body or b"{}") if method == "POST" else None
    except ValueError as exc:
        return 400, {"ok": False, "error": f"body is not JSON: {exc}"}
    try:
        if path == "/_emulator/config":
            if method == "GET":
                return 200, {"config": CONFIG.snapshot(), "defaults": CONFIG.defaults(), "patched": patched}
            if method == "POST":
                return 200, {"ok": True, "config": CONFIG.update(spec)}
            if method == "DELETE":
                CONFIG.reset()
                return 200, {"ok": True, "config": CONFIG.snapshot()}
        if path == "/_emulator/modifications":
            if method == "GET":
                return 200, realism_elasticache.modifications()
            if method == "DELETE":
                realism_elasticache.clear_modifications()
                return 200, {"ok": True}
        if path == "/_emulator/settle" and method == "POST":
            return 200, {"ok": True, "settled": realism_ec2.settle()}
        if path == "/_emulator/peering" and method == "POST":
            return 200, dict(realism_ec2.register_peering(spec), ok=True)
    except ValueError as exc:
        return 400, {"ok": False, "error": str(exc)}
    return 405, {"ok": False, "error": "method not allowed"}

"""The speed figures of issue 23 (docs/performance.md), run by bench/bench.py:

- serial round trips of one access attached to a replication group, with a CIDR block: create
  (`terraform apply`), no-op plan (`terraform plan`) and destroy (`terraform destroy`), each run through
  bench/proxy.py once with no added delay and once with --rt-delay-ms added to every AWS answer;
  the round trips are (wall with the delay - wall without) / delay;
- N accesses attached to one replication group in one apply, with the emulator's modification window
  (`POST /_emulator/config {"modify_window": W}`): wall time of the apply and of the destroy, the
  cluster modifications the emulator logged (`/_emulator/modifications`), and each wall time over W.
"""

from __future__ import annotations

import json
import textwrap
import time
import urllib.request
from pathlib import Path

import proxy  # bench/proxy.py

SOURCE = "elasticache-access/elasticache"
REGION = "us-east-1"


def _req(url: str, path: str, method: str, body: dict | None = None) -> dict:
    data = json.dumps(body or {}).encode() if method != "GET" else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def calls(url: str) -> list[str]:
    return [c["action"] for c in _req(url, "/_emulator/calls", "GET")["calls"]]


def attached_config(endpoint: str, world: dict, n: int, prefix: str) -> str:
    """`n` accesses (count), each with a CIDR block, attached to the seeded replication group."""
    return textwrap.dedent(f"""\
        terraform {{
          required_providers {{
            elasticache = {{ source = "{SOURCE}" }}
          }}
        }}
        provider "elasticache" {{
          region = "{REGION}"
          endpoints {{
            ec2           = "{endpoint}"
            elasticache   = "{endpoint}"
            servicequotas = "{endpoint}"
          }}
        }}
        resource "elasticache_access" "a" {{
          count               = {n}
          name                = "{prefix}-${{count.index}}"
          cluster {{
            replication_group_id = "{world["replication_group_id"]}"
          }}
          attach_to_cluster   = true
          allowed_cidr_blocks = ["10.${{count.index % 250}}.${{floor(count.index / 250)}}.0/24"]
        }}
        """)


def _phase(bench, args, ws, env, log, url: str, *cmd: str) -> tuple[float, list[str]]:
    _req(url, "/_emulator/calls/reset", "POST")
    r = bench.run(args.terraform, ws, env, log, *cmd)
    return r.wall, calls(url)


PHASES = {
    "create": ("apply", "-auto-approve"),
    "plan": ("plan", "-detailed-exitcode"),
    "destroy": ("destroy", "-auto-approve"),
}


def round_trips(bench, args, tmp: Path, url: str, world: dict) -> dict:
    """Serial round trips of create, no-op plan and destroy of one attached access (best of
    --rt-repeats for each delay: the attach's backoff sleeps are jittered)."""
    delay = args.rt_delay_ms / 1000.0
    walls: dict[tuple[str, float], float] = {}
    made: dict[str, list[str]] = {}
    for rep in range(args.rt_repeats):
        for d in (0.0, delay):
            sub = tmp / f"rt-{rep}-{int(d * 1000)}"
            sub.mkdir()
            ws, env, log = bench.workspace(args, sub)
            server, purl = proxy.start(url, d * 1000)
            try:
                (ws / "main.tf").write_text(attached_config(purl, world, 1, f"rt{rep}x{int(d * 1000)}"))
                for phase, cmd in PHASES.items():
                    wall, c = _phase(bench, args, ws, env, log, url, *cmd, *bench.TF)
                    key = (phase, d)
                    walls[key] = min(walls.get(key, wall), wall)
                    made.setdefault(phase, c)
            finally:
                server.shutdown()
    out = {"round_trip_delay_ms": args.rt_delay_ms, "round_trip_repeats": args.rt_repeats}
    for phase in PHASES:
        out[f"{phase}_wall_s_no_delay"] = round(walls[(phase, 0.0)], 3)
        out[f"{phase}_wall_s_with_delay"] = round(walls[(phase, delay)], 3)
        out[f"{phase}_serial_round_trips"] = round((walls[(phase, delay)] - walls[(phase, 0.0)]) / delay, 2)
        out[f"{phase}_aws_calls"] = len(made[phase])
        out[f"{phase}_calls_by_action"] = {a: made[phase].count(a) for a in sorted(set(made[phase]))}
    return out


def merged_attach(bench, args, tmp: Path, url: str, world: dict) -> dict:
    """--merge-n accesses attached to one replication group in one apply, then destroyed, under a
    modification window of --merge-window seconds."""
    n, window = args.merge_n, args.merge_window
    ws, env, log = bench.workspace(args, tmp)
    (ws / "main.tf").write_text(attached_config(url, world, n, "merge"))
    # n groups and the default one on every node: over AWS's default 5 groups per network interface
    # (L-2AFB9258), which the plan counts across the run's accesses; raised as an account would
    _req(url, "/_emulator/config", "POST", {"modify_window": window, "quotas": {"L-2AFB9258": 16}})
    out: dict = {"merge_n": n, "merge_modify_window_s": window}
    try:
        for phase, cmd in (("apply", PHASES["create"]), ("destroy", PHASES["destroy"])):
            _req(url, "/_emulator/modifications", "DELETE")
            start = time.monotonic()
            bench.run(args.terraform, ws, env, log, *cmd, *bench.TF)
            wall = time.monotonic() - start
            mods = _req(url, "/_emulator/modifications", "GET")
            out[f"merge_{phase}_wall_s"] = round(wall, 2)
            out[f"merge_{phase}_modifications"] = mods["accepted"]
            out[f"merge_{phase}_modifications_refused"] = mods["refused"]
            out[f"merge_{phase}_windows"] = round(wall / window, 2) if window else None
    finally:
        _req(url, "/_emulator/config", "POST", {"modify_window": 0, "quotas": {"L-2AFB9258": 5}})
    return out

"""The benchmark of issue 11: `bench/run --n 500` (see docs/performance.md).

With the real terraform CLI, the provider binary and the project's emulator (moto with the
launcher's patches), it measures, side by side in one run:

- AWS calls per access of a refresh (`terraform plan`) of N accesses, from the emulator's call log;
- the wall time of that refresh plan against the same plan with `-refresh=false`, both through a
  loopback proxy that adds --latency-ms to every AWS answer;
- the provider processes' peak RSS and CPU during the refresh plan (GNU time when installed, else
  Python's os.wait4), against terraform's own CPU in the same plan;
- an apply of --apply-n accesses through the fault proxy's token buckets (EC2's documented
  per-action limits): 0 failures, its wall time, the throttled answers, the provider's peak RSS;
- spawn to handshake line (Terraform, AutoMTLS) and to port line (Pulumi), median of --spawns;
- the size of the stripped release binaries, when a release build exists (none is made here).

Public tools only: the terraform CLI, GNU time or the standard library, openssl, strip.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "emulator"), str(ROOT / "tests" / "common"), str(ROOT / "bench")]

import proxy  # noqa: E402  (bench/proxy.py)
import speed  # noqa: E402  (bench/speed.py)
from fault_proxy import FaultProxy, documented_ec2_buckets  # noqa: E402  (tests/common/fault_proxy.py)
import seed  # noqa: E402  (tests/emulator/seed.py)
from harness import start_emulator  # noqa: E402  (tests/emulator/harness.py)

REGION = "us-east-1"
SOURCE = "elasticache-access/elasticache"
COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def post(url: str, path: str) -> None:
    import urllib.request
    req = urllib.request.Request(url + path, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()


def calls(url: str) -> list[str]:
    import urllib.request
    with urllib.request.urlopen(url + "/_emulator/calls", timeout=30) as r:
        return [c["action"] for c in json.loads(r.read())["calls"]]


def wrapper(dir: Path, real: Path, log: Path) -> None:
    """A provider 'binary' that runs the real one and appends its peak RSS (KiB) and CPU (s) to log."""
    w = dir / "terraform-provider-elasticache"
    if GNU_TIME:
        w.write_text(f'#!/bin/sh\nexec {GNU_TIME} -a -o "{log}" -f "%M %U %S" "{real}" "$@"\n')
    else:
        w.write_text(textwrap.dedent(f"""\
            #!{sys.executable}
            import os, subprocess, sys
            p = subprocess.Popen(["{real}", *sys.argv[1:]])
            _, status, ru = os.wait4(p.pid, 0)
            with open("{log}", "a") as f:
                f.write(f"{{ru.ru_maxrss}} {{ru.ru_utime}} {{ru.ru_stime}}\\n")
            sys.exit(os.waitstatus_to_exitcode(status))
            """))
    w.chmod(0o755)


def config(endpoint: str, world: dict, n: int) -> str:
    return textwrap.dedent(f"""\
        terraform {{
          required_providers {{
            elasticache = {{ source = "{SOURCE}" }}
          }}
        }}
        provider "elasticache" {{
          region = "{REGION}"
          endpoints {{
            ec2         = "{endpoint}"
            elasticache = "{endpoint}"
          }}
        }}
        resource "elasticache_access" "a" {{
          count                     = {n}
          vpc_id                    = "{world["vpc_id"]}"
          name                      = "bench-${{count.index}}"
          allowed_cidr_blocks       = ["10.${{count.index % 250}}.${{floor(count.index / 250)}}.0/24"]
          client_security_group_ids = ["{world["app_security_group_id"]}"]
        }}
        """)


class Run:
    """One terraform command: wall time, and terraform's CPU less its providers'."""

    def __init__(self, tf: str, ws: Path, env: dict, log: Path, *args: str) -> None:
        log.write_text("")
        start = time.monotonic()
        p = subprocess.Popen([tf, *args], cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate()
        self.wall = time.monotonic() - start
        self.code = p.returncode
        self.output = (out + err).decode(errors="replace")
        rows = [line.split() for line in log.read_text().splitlines() if line.strip()]
        rows = [r for r in rows if len(r) == 3 and r[0].isdigit()]
        self.providers = len(rows)
        self.provider_rss_mb = max((int(r[0]) for r in rows), default=0) / 1024
        self.provider_cpu = sum(float(r[1]) + float(r[2]) for r in rows)


def run(tf: str, ws: Path, env: dict, log: Path, *args: str) -> Run:
    r = Run(tf, ws, env, log, *args)
    if r.code != 0:
        raise SystemExit(f"terraform {' '.join(args)} failed ({r.code}):\n{r.output[-3000:]}")
    return r


def children_cpu() -> float:
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def spawn_median(argv: list[str], env: dict, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.monotonic()
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        ready, _, _ = select.select([p.stdout], [], [], 10)
        line = p.stdout.readline() if ready else b""
        times.append(time.monotonic() - start)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
        if not line.strip():
            raise SystemExit(f"{argv[0]}: no first line within 10 s")
    return statistics.median(times) * 1000


def spawns(provider_dir: Path, n: int, tmp: Path) -> dict:
    cert = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                           "-keyout", str(tmp / "k.pem"), "-subj", "/CN=localhost", "-days", "1"],
                          capture_output=True, text=True, check=True).stdout
    tf_env = {"PATH": "/usr/bin:/bin", "TF_PLUGIN_MAGIC_COOKIE": COOKIE, "PLUGIN_PROTOCOL_VERSIONS": "5,6",
              "PLUGIN_CLIENT_CERT": cert}
    pu_env = {"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true"}
    return {
        "terraform_handshake_ms": spawn_median([str(provider_dir / "terraform-provider-elasticache")], tf_env, n),
        "pulumi_port_line_ms": spawn_median([str(provider_dir / "pulumi-resource-elasticache")], pu_env, n),
    }


def release_sizes(provider_dir: Path) -> dict:
    """Stripped copies of the release binaries: --provider-dir's when it is a release build, else
    target/release's."""
    release = provider_dir if provider_dir.resolve().name == "release" else ROOT / "target" / "release"
    out = {"release_binaries_from": str(release)}
    for name in ("terraform-provider-elasticache", "pulumi-resource-elasticache"):
        b = release / name
        if b.exists() and shutil.which("strip"):
            with tempfile.TemporaryDirectory() as d:
                c = Path(d) / name
                shutil.copy(b, c)
                subprocess.run(["strip", str(c)], check=True)
                out[name + "_stripped_mb"] = c.stat().st_size / 1e6
    if len(out) == 1:
        return {"release_build": f"none ({release} has no binaries; not built by the benchmark)"}
    return out


def workspace(args, tmp: Path) -> tuple[Path, dict, Path]:
    """A terraform working directory under tmp whose provider runs under the usage wrapper."""
    ws, wdir = tmp / "ws", tmp / "wrapper"
    ws.mkdir()
    wdir.mkdir()
    log = tmp / "provider-usage.log"
    wrapper(wdir, (args.provider_dir / "terraform-provider-elasticache").resolve(), log)
    (tmp / "terraform.rc").write_text(
        f'provider_installation {{\n  dev_overrides {{\n    "{SOURCE}" = "{wdir}"\n  }}\n  direct {{}}\n}}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update({"TF_CLI_CONFIG_FILE": str(tmp / "terraform.rc"), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
                "AWS_EC2_METADATA_DISABLED": "true"})
    return ws, env, log


TF = ["-no-color", "-input=false"]


def throttled_apply(args, tmp: Path, url: str, world: dict) -> dict:
    """--apply-n accesses applied (default parallelism) through the fault proxy's token buckets, as
    EC2 documents them per action; it must end with 0 failures and a plan that finds no change."""
    ws, env, log = workspace(args, tmp)
    proxy = FaultProxy(url).start()
    try:
        proxy.set_buckets(documented_ec2_buckets())
        (ws / "main.tf").write_text(config(proxy.url, world, args.apply_n))
        apply = Run(args.terraform, ws, env, log, "apply", "-auto-approve", *TF)
        made = proxy.calls()
        done = f"Apply complete! Resources: {args.apply_n} added, 0 changed, 0 destroyed."
        if apply.code != 0 or done not in apply.output:
            raise SystemExit(f"the throttled apply failed ({apply.code}) after "
                             f"{sum(c['fault'] == 'throttle' for c in made)} throttles:\n{apply.output[-3000:]}")
        proxy.set_buckets({})
        check = Run(args.terraform, ws, env, log, "plan", "-detailed-exitcode", *TF)
        if check.code != 0:
            raise SystemExit(f"the plan after the throttled apply is not empty ({check.code}):\n{check.output[-3000:]}")
        run(args.terraform, ws, env, log, "destroy", "-auto-approve", *TF)
    finally:
        proxy.stop()
    return {
        "throttled_apply_n": args.apply_n,
        "throttled_apply_buckets": "documented_ec2_buckets() (tests/common/fault_proxy.py)",
        "throttled_apply_wall_s": apply.wall,
        "throttled_apply_failures": 0,
        "throttled_apply_aws_calls": len(made),
        "throttled_apply_throttled_answers": sum(c["fault"] == "throttle" for c in made),
        "throttled_apply_provider_peak_rss_mb": apply.provider_rss_mb,
        "throttled_apply_provider_cpu_s": apply.provider_cpu,
    }


def measure(args, tmp: Path, url: str, world: dict) -> dict:
    ws, env, log = workspace(args, tmp)
    tf = TF
    (ws / "main.tf").write_text(config(url, world, args.n))
    apply = run(args.terraform, ws, env, log, "apply", "-auto-approve", *tf)
    # --plans refresh plans: the calls are counted in the first; CPU figures are the medians (CPU
    # time on a shared 2-CPU machine varies by a fifth from one plan to the next).
    post(url, "/_emulator/calls/reset")
    plans, tf_cpus, made = [], [], []
    for i in range(args.plans):
        before = children_cpu()
        plans.append(run(args.terraform, ws, env, log, "plan", "-detailed-exitcode", *tf))
        tf_cpus.append(children_cpu() - before - plans[-1].provider_cpu)
        made = made or calls(url)
    plan = plans[0]
    provider_cpu = statistics.median(p.provider_cpu for p in plans)
    tf_cpu = statistics.median(tf_cpus)
    shares = [p.provider_cpu / t for p, t in zip(plans, tf_cpus) if t > 0]
    server, purl = proxy.start(url, args.latency_ms)
    # --plans pairs of a refresh plan and a -refresh=false plan, one after the other: the ratio of
    # each pair, and the median of those (wall time on a shared machine varies from plan to plan).
    slows, fasts, emulator = [], [], []
    try:
        (ws / "main.tf").write_text(config(purl, world, args.n))
        for _ in range(args.plans):
            server.upstream_spans.clear()  # type: ignore[attr-defined]
            slows.append(run(args.terraform, ws, env, log, "plan", "-detailed-exitcode", *tf).wall)
            emulator.append(proxy.upstream_seconds(server))
            fasts.append(run(args.terraform, ws, env, log, "plan", "-detailed-exitcode", "-refresh=false", *tf).wall)
    finally:
        server.shutdown()
    ratios = [s / f for s, f in zip(slows, fasts)]
    less_emulator = [(s - e) / f for s, e, f in zip(slows, emulator, fasts)]
    (ws / "main.tf").write_text(config(url, world, args.n))
    run(args.terraform, ws, env, log, "destroy", "-auto-approve", *tf)
    return {
        "n": args.n,
        "apply_wall_s": apply.wall,
        "refresh_plan_exit": plan.code,
        "refresh_aws_calls": len(made),
        "refresh_calls_by_action": {a: made.count(a) for a in sorted(set(made))},
        "aws_calls_per_access": len(made) / args.n,
        "plan_wall_s": plan.wall,
        "plan_provider_processes": plan.providers,
        "plans_measured": args.plans,
        "plan_provider_peak_rss_mb": max(p.provider_rss_mb for p in plans),
        "plan_provider_cpu_s": provider_cpu,
        "plan_terraform_cpu_s": tf_cpu,
        "provider_cpu_share_of_terraform": statistics.median(shares) if shares else None,
        "provider_cpu_share_of_terraform_each": [round(x, 3) for x in shares],
        "latency_ms": args.latency_ms,
        "refresh_plan_wall_s_with_latency": statistics.median(slows),
        "no_refresh_plan_wall_s_with_latency": statistics.median(fasts),
        "refresh_over_no_refresh": statistics.median(ratios),
        "refresh_over_no_refresh_each": [round(x, 3) for x in ratios],
        # The emulator's own time answering the refresh's calls (moto's Python; AWS's answer time is
        # what the added latency stands in for), and the ratio with that time taken out: a derived
        # figure, shown beside the measured one, never in its place.
        "refresh_plan_emulator_answer_s": statistics.median(emulator),
        "refresh_over_no_refresh_less_emulator": statistics.median(less_emulator),
        "resource_usage_by": "GNU time" if GNU_TIME else "os.wait4",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="accesses to apply, refresh and destroy")
    ap.add_argument("--plans", type=int, default=3, help="refresh plans measured, and pairs of plans through the latency proxy (each figure: the median)")
    ap.add_argument("--apply-n", type=int, default=200, help="accesses of the apply under EC2's token buckets")
    ap.add_argument("--latency-ms", type=float, default=80.0, help="latency the proxy adds to every AWS answer")
    ap.add_argument("--spawns", type=int, default=30, help="starts for the spawn-to-handshake median")
    ap.add_argument("--provider-dir", type=Path, default=ROOT / "target" / "debug")
    ap.add_argument("--terraform", default=shutil.which("terraform") or "terraform")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--rt-delay-ms", type=float, default=500.0, help="delay added to every AWS answer for the serial round trips (0: not measured)")
    ap.add_argument("--rt-repeats", type=int, default=2, help="runs of each delay for the round trips (the fastest is kept)")
    ap.add_argument("--merge-n", type=int, default=10, help="accesses attached to one cluster in one apply under the modification window (0: not measured)")
    ap.add_argument("--merge-window", type=float, default=3.0, help="the emulator's modify_window for --merge-n, seconds")
    ap.add_argument("--only", choices=["all", "speed"], default="all", help="speed: only the round trips and the merged attach")
    args = ap.parse_args()
    version = subprocess.run([args.terraform, "version"], capture_output=True, text=True).stdout.splitlines()[0]
    figures = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
               "terraform": version, "provider_dir": str(args.provider_dir)}
    # The figures are the provider's own costs, comparable from run to run: the emulator's AWS
    # realism (on by default: consistency and modification windows) is off here.
    emu = start_emulator(["--no-realism"])
    try:
        world = seed.seed(emu.url, REGION)
        with tempfile.TemporaryDirectory() as d:
            for sub in ("plan", "apply", "rt", "merge"):
                (Path(d) / sub).mkdir()
            if args.only == "all":
                figures.update(measure(args, Path(d) / "plan", emu.url, world))
                figures.update(throttled_apply(args, Path(d) / "apply", emu.url, world))
            if args.rt_delay_ms > 0:
                figures.update(speed.round_trips(sys.modules[__name__], args, Path(d) / "rt", emu.url, world))
            if args.merge_n > 0:
                figures.update(speed.merged_attach(sys.modules[__name__], args, Path(d) / "merge", emu.url, world))
            if args.only == "all":
                figures.update(spawns(args.provider_dir, args.spawns, Path(d)))
    finally:
        emu.stop()
    if args.only == "all":
        figures.update(release_sizes(args.provider_dir))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""`.ci/run`'s install step (scripts/setup) and then the quickstart, run as a new user would, in a
scratch HOME (the ``scratch_install`` fixture: HOME an empty directory, PATH a copy of the user's with
that HOME's ~/.local/bin first, the venv under the scratch directory): the user's tools are the same
afterwards. `command -v terraform` finds the same Terraform (a PyPI `terraform` shim installed into
the user's Python would come first on PATH and answer 1.0.3), and the user site-packages directory
and `pip list --user` are unchanged. Runs once per test run (marker setup_from_scratch)."""

from __future__ import annotations

import subprocess
import time

import pytest

from scratch_home import ROOT, pip_list, user_python, user_tools

QUICKSTART = ROOT / "scripts" / "quickstart"


def quickstart(env: dict, *args: str) -> subprocess.CompletedProcess:
    p = subprocess.run([str(QUICKSTART), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=1800, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, (f"scripts/quickstart {' '.join(args)} exited {p.returncode}\n"
                               f"--- stdout\n{p.stdout[-6000:]}\n--- stderr\n{p.stderr[-6000:]}")
    return p


@pytest.mark.setup_from_scratch
def test_install_and_quickstart_leave_the_users_tools_alone(scratch_install, tmp_path):
    s = scratch_install
    assert s.result.returncode == 0, s.result.stderr[-6000:]
    assert s.before["command -v terraform"], "no terraform on the user's PATH to compare with"
    env = {k: v for k, v in s.env.items() if not k.startswith(("AWS_", "TF_"))}
    env["QUICKSTART_DIR"] = str(tmp_path / "quickstart")
    t0 = time.monotonic()
    try:
        up = quickstart(env)
    finally:
        down = quickstart(env, "--destroy")
    took = time.monotonic() - t0
    print(f"scripts/setup from scratch {s.seconds:.1f} s; quickstart and --destroy {took:.1f} s")
    assert "Apply complete!" in up.stdout and "Destroy complete!" in down.stdout
    # The quickstart ran the user's Terraform, the one `command -v terraform` finds.
    assert f"terraform: {s.before['command -v terraform']} (Terraform v" in up.stdout, up.stdout

    after = user_tools(env)
    assert after == s.before, f"the user's tools changed:\nbefore {s.before}\nafter  {after}"
    assert not (s.home / ".local").exists(), sorted(str(p) for p in (s.home / ".local").rglob("*"))[:20]
    assert pip_list(user_python()) == s.python_packages_before

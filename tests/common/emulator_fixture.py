"""The one AWS emulator of a pytest run (of each worker under pytest-xdist's -n), shared by every tests/ directory (tests/conftest.py
re-exports the fixture).

``emulator_process`` (session scope) starts tests/emulator/launcher.py once, through
tests/emulator/harness.py ``start_emulator``, and stops it at the end of the run, checking that it
exits 0. Each suite wraps it in a function-scoped fixture that calls ``reset`` (moto's state, the
call log, the faults and the realism settings are reset to the launcher's defaults) and, where the tests need the demo world, ``reset_and_seed``
(tests/emulator/seed.py) before every test, so no test sees what another left behind.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_DIR = ROOT / "tests" / "emulator"
if str(EMULATOR_DIR) not in sys.path:
    sys.path.insert(0, str(EMULATOR_DIR))

from harness import Emulator, start_emulator  # noqa: E402  (tests/emulator/harness.py)

REGION = "us-east-1"


def _post(url: str, path: str) -> dict:
    req = urllib.request.Request(url + path, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        out = json.load(r)
    assert out.get("ok"), f"POST {path}: {out}"
    return out


def reset(url: str) -> None:
    """Clears moto's state, the call log, the faults and the modification log; the realism settings
    (tests/emulator/realism_config.py) go back to the launcher's defaults."""
    _post(url, "/_emulator/reset")


def configure(url: str, **settings) -> dict:
    """Changes realism settings until the next reset, e.g. ``configure(url, modify_window=1.0)``;
    returns the whole configuration."""
    req = urllib.request.Request(url + "/_emulator/config", data=json.dumps(settings).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["config"]


def settle(url: str) -> None:
    """Ends the emulator's eventual-consistency windows now: what tests read straight from the
    emulator (not through the provider) shows everything made so far."""
    _post(url, "/_emulator/settle")


def settled(client, url: str):
    """``client`` (boto3), whose every call settles the emulator before and after it: what a test
    makes or reads straight on the emulator stands as made long before (the provider under test
    meets the AWS realism; the test's own look at AWS does not). Returns the client."""
    def _settle(**_kwargs) -> None:
        settle(url)

    client.meta.events.register("before-call", _settle)
    client.meta.events.register("after-call", _settle)
    return client


def modifications(url: str) -> dict:
    """Cluster modifications recorded since the last reset (see tests/emulator/realism_control.py)."""
    with urllib.request.urlopen(url + "/_emulator/modifications", timeout=30) as r:
        return json.load(r)


def reset_calls(url: str) -> None:
    _post(url, "/_emulator/calls/reset")


def reset_and_seed(url: str, region: str = REGION) -> dict:
    """A fresh emulator holding the demo world of seed.py (VPC, subnets, Redis and Memcached); the
    call log is cleared after seeding. Returns what seed.py prints."""
    import seed  # tests/emulator/seed.py

    reset(url)
    world = seed.seed(url, region)
    reset_calls(url)
    return world


@pytest.fixture(scope="session")
def emulator_process() -> Emulator:
    emu = start_emulator()
    try:
        yield emu
    finally:
        rc = emu.stop()
    assert rc == 0, f"the emulator exited {rc}:\n{emu.stderr()[-4000:]}"

"""`scripts/cargo-deny` (run by .ci/run) checks Cargo.lock against the advisory database it is given,
offline: clean against the shared RustSec copy, and failing, naming the advisory, against a copy
with one advisory added for a crate in Cargo.lock (so a pass means the database was read)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cargo-deny"
SHARED = Path(os.environ.get("RUSTSEC_ADVISORY_DB", ROOT.parent / "shared" / "rustsec-advisory-db"))

CANARY = """\
```toml
[advisory]
id = "RUSTSEC-2099-0001"
package = "tokio"
date = "2099-01-01"
title = "test advisory for every tokio release"
description = "Added by tests/supply/test_cargo_deny.py."

[versions]
patched = [">= 999.0.0"]
```

# test advisory for every tokio release

Added by tests/supply/test_cargo_deny.py.
"""


def run(db: Path, *which: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RUSTSEC_ADVISORY_DB": str(db)}
    return subprocess.run([str(SCRIPT), *which], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def shared_db() -> Path:
    if not (SHARED / "PROVENANCE.md").is_file():
        pytest.fail(f"no RustSec database copy at {SHARED} (set RUSTSEC_ADVISORY_DB)")
    return SHARED


def test_every_check_passes_against_the_shared_database(shared_db):
    r = run(shared_db)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "advisories ok, bans ok, licenses ok, sources ok" in r.stdout, r.stdout + r.stderr[-4000:]


def test_an_advisory_for_a_locked_crate_fails_the_check(shared_db, tmp_path):
    db = tmp_path / "db"
    shutil.copytree(shared_db, db)
    (db / "crates" / "tokio").mkdir(exist_ok=True)
    (db / "crates" / "tokio" / "RUSTSEC-2099-0001.md").write_text(CANARY)
    try:
        r = run(db, "advisories")
        assert r.returncode != 0, r.stderr[-4000:]
        assert "RUSTSEC-2099-0001" in r.stderr and "advisories FAILED" in r.stdout, r.stdout + r.stderr[-4000:]
    finally:
        run(shared_db, "advisories")  # leave the copy of the shared database in place

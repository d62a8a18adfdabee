"""Shared by every tests/ directory (pytest.ini at the root makes this file apply however pytest is
started): the one emulator of the run (tests/common/emulator_fixture.py) and the Terraform finder
(tests/common/terraform_finder.py) are importable by their (unique) module names."""

import sys
from pathlib import Path

for d in ("common", "emulator"):
    p = str(Path(__file__).resolve().parent / d)
    if p not in sys.path:
        sys.path.insert(0, p)

from emulator_fixture import emulator_process  # noqa: E402,F401 - pytest finds fixtures by name

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

# The files that take longest (a soak of several minutes, a whole venv built from scratch, the fault
# matrix) are handed to the workers first: with `--dist loadfile --no-loadscope-reorder` (.ci/run),
# files go out in this order, and a long file handed out last would keep one worker busy after the
# others are done. Everything else keeps its order.
FIRST = (
    "faults/test_tf_soak.py",
    "venv_setup/test_venv_setup.py",
    "venv_setup/test_install_scratch_home.py",
    "faults/test_fault_matrix.py",
    "faults/test_tf_throttling.py",
)


def pytest_collection_modifyitems(session, config, items):
    root = Path(__file__).resolve().parent

    def rank(item) -> int:
        rel = Path(str(item.fspath)).resolve().relative_to(root).as_posix()
        return FIRST.index(rel) if rel in FIRST else len(FIRST)

    items.sort(key=rank)

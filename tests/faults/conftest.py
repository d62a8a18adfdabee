"""Fixtures of the fault tests: tf_harness's (the emulator reset and seeded for each test, the
provider binary, workspaces), a FaultProxy in front of the emulator, and one Terraform CLI."""

from __future__ import annotations

import pytest

from faults_harness import MATRICES, ProxiedWorkspace, newest_terraform
from fault_proxy import FaultProxy
from tf_harness import emulator, provider_binary, workspace_factory  # noqa: F401 - fixtures by name


@pytest.fixture(scope="session")
def terraform():
    """Overrides tf_harness's per-CLI parameter: the fault tests run with the newest CLI only."""
    return newest_terraform()


@pytest.fixture
def proxy(emulator):  # noqa: F811 - tf_harness's fixture, used by name
    p = FaultProxy(emulator.url).start()
    yield p
    p.stop()


# Creation leases of 6 s (renewed every 2 s, 1 s of grace), so that what a killed or failed create
# left is provably abandoned within seconds (the default lease is 3 minutes).
LEASE = "6s"


@pytest.fixture
def pws(workspace_factory, proxy) -> ProxiedWorkspace:  # noqa: F811
    ws = ProxiedWorkspace.of(workspace_factory("main"), proxy)
    ws.env["ELASTICACHE_CREATE_LEASE"] = LEASE
    return ws


def pytest_terminal_summary(terminalreporter):
    """Prints the fault matrices (tests/faults/test_fault_matrix.py) that ran."""
    tr = terminalreporter
    for title, cells in MATRICES.items():
        if not cells:  # its tests did not run (a -k selection)
            continue
        rows = list(dict.fromkeys(r for r, _ in cells))
        cols = list(dict.fromkeys(c for _, c in cells))
        table = [[cells.get((r, c), "-") for c in cols] for r in rows]  # "-": no such call
        width = max(len(x) for line in table for x in line + cols)
        first = max(len(r) for r in rows + ["op"])
        tr.section(title)
        tr.line("| " + " | ".join(["op".ljust(first)] + [c.ljust(width) for c in cols]) + " |")
        tr.line("|" + "|".join(["-" * (first + 2)] + ["-" * (width + 2)] * len(cols)) + "|")
        for r, line in zip(rows, table):
            tr.line("| " + " | ".join([r.ljust(first)] + [x.ljust(width) for x in line]) + " |")

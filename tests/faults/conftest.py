"""Fixtures of the fault tests: tf_harness's (the emulator reset and seeded for each test, the
provider binary, workspaces), a FaultProxy in front of the emulator, and one Terraform CLI."""

from __future__ import annotations

import pytest

from faults_harness import ProxiedWorkspace, newest_terraform
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


@pytest.fixture
def pws(workspace_factory, proxy) -> ProxiedWorkspace:  # noqa: F811
    return ProxiedWorkspace.of(workspace_factory("main"), proxy)

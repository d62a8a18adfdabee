"""Fixtures of the Terraform end-to-end tests; they live in tf_harness.py (a unique module name, so
that one pytest run can collect every tests/ directory)."""

from tf_harness import (  # noqa: F401 - pytest finds fixtures by name in this module
    emulator,
    provider_binary,
    terraform,
    workspace_factory,
    ws,
)

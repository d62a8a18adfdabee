"""Fixtures of tests/venv_setup; they live in scratch_home.py (a unique module name, so that one
pytest run can collect every tests/ directory)."""

from scratch_home import scratch_install  # noqa: F401 - pytest finds fixtures by name in this module

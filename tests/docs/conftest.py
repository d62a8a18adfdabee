"""Fixtures for tests/docs: one emulator for the session, reset and re-seeded for each test."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config

from docs_harness import EMULATOR_DIR, REGION, TF_PLUGIN


@dataclass
class World:
    url: str
    seed: dict
    ec2: object
    elasticache: object


@pytest.fixture(scope="session")
def emulator_url():
    from harness import start_emulator  # tests/emulator/harness.py

    emu = start_emulator()
    try:
        yield emu.url
    finally:
        emu.stop()


@pytest.fixture
def world(emulator_url) -> World:
    req = urllib.request.Request(emulator_url + "/_emulator/reset", data=b"{}", method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert json.load(r)["ok"]
    out = subprocess.run([sys.executable, str(EMULATOR_DIR / "seed.py"), "--endpoint", emulator_url,
                          "--region", REGION], check=True, capture_output=True, text=True, timeout=120).stdout
    kw = dict(endpoint_url=emulator_url, region_name=REGION, aws_access_key_id="testing",
              aws_secret_access_key="testing", config=Config(retries={"max_attempts": 2}))
    return World(url=emulator_url, seed=json.loads(out), ec2=boto3.client("ec2", **kw),
                 elasticache=boto3.client("elasticache", **kw))


@pytest.fixture(scope="session")
def plugin_built():
    if not TF_PLUGIN.is_file():
        pytest.fail(f"{TF_PLUGIN} is missing: build it with `cargo build --workspace --all-targets` (.ci/run does)")
    return TF_PLUGIN

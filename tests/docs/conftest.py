"""Fixtures for tests/docs: the run's one emulator (tests/common/emulator_fixture.py), reset and
re-seeded for each test, and the Terraform CLIs of tests/common/terraform_finder.py: a test that
takes `terraform` (the binary) or `version` runs once per CLI."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config

import emulator_fixture  # tests/common
import terraform_finder  # tests/common
from docs_harness import REGION, TF_PLUGIN


@dataclass
class World:
    url: str
    seed: dict
    ec2: object
    elasticache: object


@pytest.fixture(scope="session")
def emulator_url(emulator_process) -> str:
    return emulator_process.url


@pytest.fixture
def world(emulator_url) -> World:
    seed = emulator_fixture.reset_and_seed(emulator_url, REGION)
    kw = dict(endpoint_url=emulator_url, region_name=REGION, aws_access_key_id="testing",
              aws_secret_access_key="testing", config=Config(retries={"max_attempts": 2}))
    settled = emulator_fixture.settled  # the test's own calls see a settled emulator
    return World(url=emulator_url, seed=seed, ec2=settled(boto3.client("ec2", **kw), emulator_url),
                 elasticache=settled(boto3.client("elasticache", **kw), emulator_url))


@pytest.fixture(params=terraform_finder.terraform_params())
def terraform_cli(request) -> terraform_finder.TerraformCli:
    # A required (ELASTICACHE_REQUIRE_TERRAFORM) CLI that is missing fails here, never skips.
    return terraform_finder.get(request.param)


@pytest.fixture
def terraform(terraform_cli) -> str:
    return terraform_cli.binary


@pytest.fixture
def version(terraform_cli) -> str:
    return terraform_cli.label


@pytest.fixture(scope="session")
def plugin_built():
    if not TF_PLUGIN.is_file():
        pytest.fail(f"{TF_PLUGIN} is missing: build it with `cargo build --workspace --all-targets` (.ci/run does)")
    return TF_PLUGIN

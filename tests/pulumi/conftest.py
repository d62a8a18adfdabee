"""Fixtures: the run's one emulator (tests/common/emulator_fixture.py), reset and re-seeded for each
test, a fake engine recording Log calls, and one plugin process that was handshaken and configured
against the emulator as the engine would (see pulumi_harness.py)."""

from __future__ import annotations

from concurrent import futures

import boto3
import grpc
import pytest
from botocore.config import Config
from pulumi.runtime.proto import engine_pb2_grpc, provider_pb2

import emulator_fixture  # tests/common
from pulumi_harness import REGION, Emu, FakeEngine, _EngineServicer, configure, start_plugin


@pytest.fixture
def emulator(emulator_process) -> Emu:
    url = emulator_process.url
    seed = emulator_fixture.reset_and_seed(url, REGION)
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
              aws_secret_access_key="testing", config=Config(retries={"max_attempts": 2}))
    settled = emulator_fixture.settled  # the test's own calls see a settled emulator
    return Emu(url=url, seed=seed, ec2=settled(boto3.client("ec2", **kw), url),
               elasticache=settled(boto3.client("elasticache", **kw), url))


@pytest.fixture(scope="session")
def fake_engine():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    port = server.add_insecure_port("127.0.0.1:0")
    engine = FakeEngine(address=f"127.0.0.1:{port}")
    engine_pb2_grpc.add_EngineServicer_to_server(_EngineServicer(engine), server)
    server.start()
    yield engine
    server.stop(grace=1)


@pytest.fixture(scope="session")
def plugin(emulator_process, fake_engine):
    p = start_plugin(["--logtostderr", "-v=5", fake_engine.address])
    try:
        hs = p.stub.Handshake(provider_pb2.ProviderHandshakeRequest(engine_address=fake_engine.address,
                                                                   configure_with_urn=True))
        assert hs.accept_secrets and hs.accept_resources
        resp = configure(p.stub, emulator_process)  # the endpoints only: the URL stays across resets
        assert resp.supportsPreview and resp.acceptSecrets
        yield p
    finally:
        rc = p.stop()
        assert rc == 0, f"plugin exited {rc}:\n{p.stderr()[-4000:]}"


@pytest.fixture
def stub(plugin):
    return plugin.stub

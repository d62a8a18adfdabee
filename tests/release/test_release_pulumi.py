"""The Pulumi tarball unpacks into the plugin directory layout Pulumi installs into
($PULUMI_HOME/plugins/resource-elasticache-vVERSION/), and the binary runs from there as the engine
starts it (the engine address as the last argument, the port on the first stdout line): Handshake,
GetPluginInfo and GetSchema answer, and the shipped schema is the one it serves and validates
against Pulumi's package metaschema."""

from __future__ import annotations

import copy
import json
import os
import stat
import tarfile
from concurrent import futures

import grpc
import jsonschema
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2_grpc, provider_pb2

import release_harness as rh
from pulumi_harness import FakeEngine, _EngineServicer, python_metaschema, start_plugin


@pytest.fixture
def engine():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = server.add_insecure_port("127.0.0.1:0")
    eng = FakeEngine(address=f"127.0.0.1:{port}")
    engine_pb2_grpc.add_EngineServicer_to_server(_EngineServicer(eng), server)
    server.start()
    yield eng
    server.stop(grace=1)


def unpack(tarball, dest) -> None:
    """As `pulumi plugin install --file` does: every regular file, with its mode, under dest."""
    with tarfile.open(tarball) as t:
        for m in t.getmembers():
            assert m.isfile() and "/" not in m.name and not m.name.startswith("."), m.name
            path = dest / m.name
            path.write_bytes(t.extractfile(m).read())
            path.chmod(m.mode)


def test_tarball_runs_from_the_plugin_directory_and_serves_the_shipped_schema(dist, engine, tmp_path, monkeypatch):
    v = dist.version
    plugin_dir = tmp_path / "pulumi-home" / "plugins" / f"resource-elasticache-v{v}"
    plugin_dir.mkdir(parents=True)
    unpack(dist.tarball, plugin_dir)
    binary = plugin_dir / rh.PULUMI_BIN
    assert [p.name for p in plugin_dir.iterdir()] == [rh.PULUMI_BIN]
    assert os.stat(binary).st_mode & stat.S_IXUSR
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    monkeypatch.setenv("PULUMI_PROVIDER_BIN", str(binary))
    monkeypatch.chdir(tmp_path)
    plugin = start_plugin([engine.address])
    try:
        hs = plugin.stub.Handshake(provider_pb2.ProviderHandshakeRequest(
            engine_address=engine.address, root_directory=str(tmp_path), program_directory=str(tmp_path)))
        assert hs.accept_secrets and hs.accept_resources
        assert plugin.stub.GetPluginInfo(empty_pb2.Empty()).version == v
        served = json.loads(plugin.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema)
    finally:
        assert plugin.stop() == 0, plugin.stderr()[-4000:]
    shipped = json.loads(dist.schema.read_text())
    assert served == shipped
    assert shipped["name"] == "elasticache" and shipped["version"] == v


def test_shipped_schema_validates_against_pulumis_metaschema(dist):
    meta = python_metaschema()
    validator = jsonschema.validators.validator_for(meta)(meta)
    shipped = json.loads(dist.schema.read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(shipped)]
    assert not errors, errors
    broken = copy.deepcopy(shipped)
    broken["unknownTopLevelKey"] = True  # the metaschema refuses unknown top-level keys
    assert list(validator.iter_errors(broken))

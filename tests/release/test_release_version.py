"""One version, from one place: Cargo.toml's [workspace.package] version is what both binaries print,
what Pulumi's GetPluginInfo answers, and what the Pulumi schema, the docs, the README and the
CHANGELOG name (scripts/release packages it: the dist names are checked in test_release_dist.py)."""

from __future__ import annotations

import json
import re
import subprocess

from google.protobuf import empty_pb2

import release_harness as rh
from pulumi_harness import start_plugin

SEMVER = r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?"


def test_every_crate_inherits_the_workspace_version():
    v = rh.workspace_version()
    assert re.fullmatch(SEMVER, v), v
    meta = json.loads(subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"], cwd=rh.ROOT,
                                     capture_output=True, text=True, check=True, timeout=120).stdout)
    assert {p["name"]: p["version"] for p in meta["packages"]} == {
        "elasticache-proto": v, "elasticache-provider": v, "elasticache-tests": v}
    for member in ("proto", "provider", "tests"):
        assert "version.workspace = true" in (rh.ROOT / member / "Cargo.toml").read_text(), member


def test_both_binaries_print_the_workspace_version():
    v = rh.workspace_version()
    for name in (rh.TF_BIN, rh.PULUMI_BIN):
        p = subprocess.run([str(rh.target_debug() / name), "--version"], capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        assert (p.returncode, p.stdout, p.stderr) == (0, f"{name} {v}\n", ""), name


def test_pulumi_plugin_info_is_the_workspace_version():
    plugin = start_plugin([])
    try:
        assert plugin.stub.GetPluginInfo(empty_pb2.Empty()).version == rh.workspace_version()
    finally:
        assert plugin.stop() == 0, plugin.stderr()[-4000:]


def test_schema_and_docs_name_the_workspace_version():
    v = rh.workspace_version()
    schema = json.loads((rh.ROOT / "sdk-schemas" / "pulumi" / "schema.json").read_text())
    assert schema["version"] == v
    assert f'version = "~> {v}"' in (rh.ROOT / "docs" / "index.md").read_text()


def test_changelog_names_the_workspace_version():
    v = rh.workspace_version()
    changelog = (rh.ROOT / "CHANGELOG.md").read_text()
    released = re.findall(rf"^## \[({SEMVER})\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)
    assert released[:1] == [v], f"CHANGELOG.md's latest entry is {released[:1]}, not {v}"
    assert "## [Unreleased]" in changelog


def test_registry_manifest_declares_protocol_6():
    manifest = json.loads((rh.ROOT / "terraform-registry-manifest.json").read_text())
    assert manifest == {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}


def test_readme_names_the_workspace_version():
    v = rh.workspace_version()
    readme = (rh.ROOT / "README.md").read_text()
    # Every release version the README names: in file names, paths, constraints, tags, messages.
    named = re.findall(r'(?:elasticache[_/ -]v?|version += "(?:~> )?|VERSION `|tagged `v)(\d+\.\d+\.\d+)(?!\d)',
                       readme)
    assert len(named) >= 10 and set(named) == {v}, f"README.md names {set(named)}; the workspace version is {v}"


def test_release_looks_for_the_binaries_where_cargo_puts_them(monkeypatch, tmp_path):
    """With CARGO_TARGET_DIR set (as CI caches often do), the release takes the binaries from that
    directory, as cargo itself reports it, not from ./target (the build itself is not run here)."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("release_script", str(rh.ROOT / "scripts" / "release"))
    spec = importlib.util.spec_from_loader("release_script", loader)
    release = importlib.util.module_from_spec(spec)
    loader.exec_module(release)
    builds = []
    real_run = subprocess.run

    def fake_build(cmd, **kw):
        if cmd[:2] == ["cargo", "build"]:
            builds.append(cmd)
            return subprocess.CompletedProcess(cmd, 0)
        return real_run(cmd, **kw)

    monkeypatch.setattr(release.subprocess, "run", fake_build)
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path / "elsewhere"))
    host = release.host_platform()
    assert release.cargo_build(host, host) == tmp_path / "elsewhere" / "release"
    assert builds and builds[0][:3] == ["cargo", "build", "--release"]
    monkeypatch.delenv("CARGO_TARGET_DIR")
    assert release.cargo_build(host, host) == rh.ROOT / "target" / "release"

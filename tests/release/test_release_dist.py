"""What scripts/release writes: exactly the files of the Terraform registry layout (goreleaser's
naming) and the Pulumi plugin tarball, their checksums, a signature that verifies with the shipped
key alone; and what it refuses (a dirty tree, binaries of another version, no signing key)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import zipfile

import release_harness as rh


def test_dist_holds_exactly_the_release_files(dist):
    v = dist.version
    assert sorted(p.name for p in dist.dir.iterdir()) == sorted([
        f"terraform-provider-elasticache_{v}_linux_amd64.zip",
        f"terraform-provider-elasticache_{v}_SHA256SUMS",
        f"terraform-provider-elasticache_{v}_SHA256SUMS.sig",
        f"terraform-provider-elasticache_{v}_manifest.json",
        f"terraform-provider-elasticache_{v}_signing_key.asc",
        f"pulumi-resource-elasticache-v{v}-linux-amd64.tar.gz",
        f"pulumi-resource-elasticache-v{v}-schema.json",
    ])


def test_zip_holds_the_binary_under_its_registry_name(dist):
    with zipfile.ZipFile(dist.zip) as z:
        [info] = z.infolist()
        assert info.filename == f"terraform-provider-elasticache_v{dist.version}"
        assert (info.external_attr >> 16) & 0o777 == 0o755
        data = z.read(info)
    assert data == (rh.target_debug() / rh.TF_BIN).read_bytes()


def test_manifest_is_the_repositorys(dist):
    shipped = dist.tf("manifest.json").read_bytes()
    assert shipped == (rh.ROOT / "terraform-registry-manifest.json").read_bytes()
    assert json.loads(shipped) == {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}


def test_sums_cover_zip_and_manifest_and_verify_with_the_shipped_key_alone(dist, tmp_path):
    sums = dist.tf("SHA256SUMS").read_text()
    # one line per file, ordered by file name (as scripts/release writes them), whatever the hashes
    expected = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}"
                for p in sorted((dist.zip, dist.tf("manifest.json")), key=lambda p: p.name)]
    assert sums == "".join(line + "\n" for line in expected)
    sig = dist.tf("SHA256SUMS.sig").read_bytes()
    assert not sig.startswith(b"-----BEGIN"), "the signature must be binary (goreleaser's), not armored"
    keyring = tmp_path / "key.gpg"
    subprocess.run(["gpg", "--batch", "--yes", "--output", str(keyring), "--dearmor",
                    str(dist.tf("signing_key.asc"))], check=True, capture_output=True, timeout=30)
    ok = subprocess.run(["gpgv", "--keyring", str(keyring), str(dist.tf("SHA256SUMS.sig")),
                         str(dist.tf("SHA256SUMS"))], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / "SHA256SUMS"
    bad.write_text(sums.replace(sums[0], "0" if sums[0] != "0" else "1", 1))
    refused = subprocess.run(["gpgv", "--keyring", str(keyring), str(dist.tf("SHA256SUMS.sig")), str(bad)],
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "BAD signature" in refused.stderr, refused.stderr


def test_pulumi_tarball_holds_the_executable_binary_only(dist):
    with tarfile.open(dist.tarball) as t:
        [member] = t.getmembers()
        assert (member.name, member.mode, member.isfile()) == (rh.PULUMI_BIN, 0o755, True)
        assert t.extractfile(member).read() == (rh.target_debug() / rh.PULUMI_BIN).read_bytes()
    # No PulumiPlugin.yaml: Pulumi reads it only for plugins run through a language runtime, and
    # `pulumi plugin install` would run that runtime's dependency install when it is present.
    assert json.loads(dist.schema.read_text()) == json.loads(
        (rh.ROOT / "sdk-schemas" / "pulumi" / "schema.json").read_text())


def test_release_names_the_platforms_it_did_not_build(dist):
    for plat in ("darwin_arm64", "darwin_amd64", "linux_arm64", "windows_amd64"):
        assert f"--platform {plat}" in dist.stderr


def fake_repo(tmp_path, version: str):
    """A tiny git repository with a workspace of `version` and a copy of scripts/release."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "provider" / "src").mkdir(parents=True)
    shutil.copy2(rh.RELEASE, repo / "scripts" / "release")
    (repo / "Cargo.toml").write_text(f'[workspace]\nmembers = ["provider"]\n\n[workspace.package]\nversion = "{version}"\n')
    (repo / "provider" / "Cargo.toml").write_text(
        '[package]\nname = "elasticache-provider"\nversion.workspace = true\nedition = "2021"\n')
    (repo / "provider" / "src" / "lib.rs").write_text("")
    (repo / ".gitignore").write_text("/target\n/dist\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(git[:3] + ["init", "-q"], check=True, timeout=30)
    subprocess.run(git + ["add", "-A"], check=True, timeout=30)
    subprocess.run(git + ["commit", "-q", "-m", "init"], check=True, timeout=30)
    return repo


def test_refuses_a_dirty_tree_stale_binaries_and_a_missing_key(tmp_path, gpg_key):
    repo = fake_repo(tmp_path, "9.9.9")
    script, out = repo / "scripts" / "release", tmp_path / "out"
    (repo / "provider" / "src" / "lib.rs").write_text("// changed\n")
    dirty = rh.run_release(out, gpg_key, "--binaries-from", str(rh.target_debug()), cwd=repo, script=script)
    assert dirty.returncode == 1 and "uncommitted changes" in dirty.stderr and "provider/src/lib.rs" in dirty.stderr
    stale = rh.run_release(out, gpg_key, "--binaries-from", str(rh.target_debug()), "--allow-dirty",
                           cwd=repo, script=script)
    assert stale.returncode == 1, stale.stderr
    assert f"printed 'terraform-provider-elasticache {rh.workspace_version()}', not" in stale.stderr
    no_key = {k: v for k, v in gpg_key.env().items() if k != "GPG_FINGERPRINT"}
    unsigned = rh.run_release(out, gpg_key, "--allow-dirty", cwd=repo, script=script, env=no_key)
    assert unsigned.returncode == 1 and "GPG_FINGERPRINT is not set" in unsigned.stderr
    assert not out.exists() or not any(out.iterdir()), "nothing is written when the release is refused"

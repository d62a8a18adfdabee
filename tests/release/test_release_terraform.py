"""The signed release installs through Terraform's own registry client, with no CLI overrides: an
empty CLI configuration (TF_CLI_CONFIG_FILE), a scratch HOME, no plugin cache. The registry is a
loopback HTTPS server (release_harness.Registry) whose certificate is trusted through SSL_CERT_FILE.
Then the installed binary plans, applies and destroys against the emulator; an altered zip or
signature is refused; and `terraform providers mirror` makes a mirror that `terraform init` uses
with the registry gone. With Terraform 1.0.3 and the newest CLI found."""

from __future__ import annotations

import hashlib
import json
import os
import re
import textwrap
from pathlib import Path

import release_harness as rh
import tf_harness

REGION = tf_harness.REGION


def tf_env(scratch: Path, certificate: Path, cli_config: str = "") -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_", "AWS_", "SSL_CERT")) and k.lower() not in ("https_proxy", "http_proxy")}
    home = scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    rc = scratch / "terraform.rc"
    rc.write_text(cli_config)
    env.update({
        "HOME": str(home), "TF_CLI_CONFIG_FILE": str(rc), "SSL_CERT_FILE": str(certificate / "ca.pem"),
        "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def workspace(terraform, emulator, dir: Path, env: dict, source: str, version: str) -> tf_harness.Workspace:
    dir.mkdir()
    rg = emulator.world.get("replication_group_id", "demo-redis")
    (dir / "main.tf").write_text(textwrap.dedent(f"""\
        terraform {{
          required_providers {{
            elasticache = {{
              source  = "{source}"
              version = "~> {version}"
            }}
          }}
        }}

        provider "elasticache" {{
          region = "{REGION}"
          endpoints {{
            ec2         = "{emulator.url}"
            elasticache = "{emulator.url}"
          }}
        }}

        resource "elasticache_access" "this" {{
          name = "release"
          cluster {{
            replication_group_id = "{rg}"
          }}
        }}
        """))
    return tf_harness.Workspace(terraform, emulator, dir, env)


def flat(text: str) -> str:
    """Terraform wraps its diagnostics: the words on one line."""
    return " ".join(text.split())


def init(ws: tf_harness.Workspace) -> tf_harness.Result:
    return ws.run("init", "-no-color", "-input=false")


def lock_block(ws: tf_harness.Workspace, source: str) -> str:
    text = (ws.dir / ".terraform.lock.hcl").read_text()
    m = re.search(r'provider "' + re.escape(source) + r'" \{(.*?)\n\}', text, re.S)
    assert m, text
    return m.group(1)


def installed_binary(ws: tf_harness.Workspace, source: str, version: str) -> Path:
    return ws.dir / ".terraform" / "providers" / source / version / rh.PLATFORM / f"{rh.TF_BIN}_v{version}"


def test_registry_install_is_signed_locked_and_runs(terraform, registry, dist, gpg_key, emulator, tmp_path):
    v, source = dist.version, registry.source()
    ws = workspace(terraform, emulator, tmp_path / "ws", tf_env(tmp_path, registry.cert_dir), source, v)
    r = init(ws)
    assert r.returncode == 0, str(r)
    assert f"Installed {source} v{v} (self-signed, key ID {gpg_key.key_id})" in r.output, str(r)
    lock = lock_block(ws, source)
    assert f'version     = "{v}"' in lock and f'constraints = "~> {v}"' in lock, lock
    assert f'"zh:{rh.sha256_file(dist.zip)}"' in lock, lock
    assert re.search(r'"h1:[A-Za-z0-9+/=]{44}"', lock), lock
    assert rh.sha256_file(installed_binary(ws, source, v)) == rh.sha256_file(rh.target_debug() / rh.TF_BIN)
    base = f"/v1/providers/{rh.NAMESPACE}/{rh.TYPE}"
    for path in ("/.well-known/terraform.json", f"{base}/versions", f"{base}/{v}/download/linux/amd64",
                 f"/files/{dist.zip.name}", f"/files/{dist.tf('SHA256SUMS').name}",
                 f"/files/{dist.tf('SHA256SUMS.sig').name}"):
        assert path in registry.requests, (path, registry.requests)
    assert ws.plan_exit().returncode == 2
    ws.apply()
    assert set(emulator.created_groups()) == {"release-cluster", "release-clients"}
    again = ws.plan_exit()
    assert again.returncode == 0, str(again)
    ws.destroy()
    assert emulator.created_groups() == {}


def test_a_tampered_zip_is_refused(terraform, registry, dist, emulator, tmp_path):
    source = registry.source("tampered-zip")
    ws = workspace(terraform, emulator, tmp_path / "ws", tf_env(tmp_path, registry.cert_dir), source, dist.version)
    r = init(ws)
    assert r.returncode == 1, str(r)
    got, good = hashlib.sha256(rh.tampered_zip(dist.zip)).hexdigest(), rh.sha256_file(dist.zip)
    want = rf"archive has incorrect checksum (?:zh:)?{got} \(expected (?:zh:)?{good}\)"
    assert re.search(want, flat(r.output)), str(r)
    assert not installed_binary(ws, source, dist.version).exists()
    assert not (ws.dir / ".terraform.lock.hcl").exists()


def test_a_tampered_signature_is_refused(terraform, registry, dist, emulator, tmp_path):
    source = registry.source("tampered-sig")
    ws = workspace(terraform, emulator, tmp_path / "ws", tf_env(tmp_path, registry.cert_dir), source, dist.version)
    r = init(ws)
    assert r.returncode == 1, str(r)
    want = f"Error while installing {source} v{dist.version}: error checking signature: openpgp: invalid signature"
    assert want in flat(r.output), str(r)
    assert not installed_binary(ws, source, dist.version).exists()
    assert not (ws.dir / ".terraform.lock.hcl").exists()


def test_providers_mirror_then_offline_init(terraform, registry, dist, emulator, tmp_path):
    v, source = dist.version, registry.source()
    online = workspace(terraform, emulator, tmp_path / "online", tf_env(tmp_path, registry.cert_dir), source, v)
    mirror = tmp_path / "mirror"
    r = online.run("providers", "mirror", "-no-color", "-platform=linux_amd64", str(mirror))
    assert r.returncode == 0, str(r)
    pkg = mirror / source / f"{rh.TF_BIN}_{v}_{rh.PLATFORM}.zip"
    assert rh.sha256_file(pkg) == rh.sha256_file(dist.zip)
    hashes = json.loads((mirror / source / f"{v}.json").read_text())["archives"][rh.PLATFORM]["hashes"]
    registry.stop()
    offline_cfg = f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    offline = workspace(terraform, emulator, tmp_path / "offline",
                        tf_env(tmp_path / "offline-env", registry.cert_dir, offline_cfg), source, v)
    r = init(offline)
    assert r.returncode == 0, str(r)
    assert f"Installed {source} v{v} (unauthenticated)" in r.output, str(r)  # a local mirror is not signed
    lock = lock_block(offline, source)
    assert any(f'"{h}"' in lock for h in hashes), (lock, hashes)
    assert rh.sha256_file(installed_binary(offline, source, v)) == rh.sha256_file(rh.target_debug() / rh.TF_BIN)

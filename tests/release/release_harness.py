"""Helpers of the release tests (fixtures in conftest.py): the workspace version, a throwaway GPG key
in its own GNUPGHOME, the packaged dist/ (scripts/release --binaries-from target/debug, the same
layout, naming and signing code path as a release build), a certificate made for the test, and a
loopback HTTPS server that speaks Terraform's provider registry protocol.

The registry serves one release under several namespaces: ``elasticache-access`` as packaged, and
``tampered-zip`` / ``tampered-sig``, whose download answers point at an altered zip or an altered
signature while every other field is the release's.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import shutil
import ssl
import subprocess
import threading
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / "scripts" / "release"
TF_BIN = "terraform-provider-elasticache"
PULUMI_BIN = "pulumi-resource-elasticache"
NAMESPACE, TYPE = "elasticache-access", "elasticache"
PLATFORM = "linux_amd64"


def target_debug() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug"


def workspace_version() -> str:
    """[workspace.package] version of Cargo.toml, read independently of scripts/release (which asks
    cargo metadata); by hand, as Python 3.10 has no tomllib."""
    section = re.search(r"^\[workspace\.package\]\n(.*?)(?=^\[|\Z)", (ROOT / "Cargo.toml").read_text(), re.M | re.S)
    assert section, "no [workspace.package] in Cargo.toml"
    version = re.search(r'^version\s*=\s*"([^"]+)"', section.group(1), re.M)
    assert version, "no version in [workspace.package]"
    return version.group(1)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- GPG -----------------------------------------------------------------------------------------

@dataclass
class GpgKey:
    home: Path
    fingerprint: str

    @property
    def key_id(self) -> str:
        return self.fingerprint[-16:]

    def env(self) -> dict:
        return {**os.environ, "GNUPGHOME": str(self.home), "GPG_FINGERPRINT": self.fingerprint}

    def close(self) -> None:
        # The agent gpg started for this home only (gpgconf addresses it by GNUPGHOME).
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=self.env(), capture_output=True, timeout=30)
        shutil.rmtree(self.home, ignore_errors=True)


def make_gpg_key(home: Path) -> GpgKey:
    """A passphrase-less RSA signing key (Terraform 1.0.3's openpgp verifies RSA) in a new home."""
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
                    "elasticache-access release test <release-test@example.invalid>", "rsa2048", "sign", "1d"],
                   env=env, check=True, capture_output=True, timeout=120)
    out = subprocess.run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=env, check=True,
                         capture_output=True, text=True, timeout=30).stdout
    fprs = [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")]
    assert len(fprs) == 1, out
    return GpgKey(home, fprs[0])


# --- dist/ ---------------------------------------------------------------------------------------

@dataclass
class Dist:
    dir: Path
    version: str
    stdout: str
    stderr: str

    def tf(self, suffix: str) -> Path:
        return self.dir / f"{TF_BIN}_{self.version}_{suffix}"

    @property
    def zip(self) -> Path:
        return self.tf(f"{PLATFORM}.zip")

    @property
    def tarball(self) -> Path:
        return self.dir / f"{PULUMI_BIN}-v{self.version}-{PLATFORM.replace('_', '-')}.tar.gz"

    @property
    def schema(self) -> Path:
        return self.dir / f"{PULUMI_BIN}-v{self.version}-schema.json"


def run_release(out: Path, key: GpgKey, *extra: str, cwd: Path = ROOT, script: Path = RELEASE,
                env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["python3", str(script), "--out", str(out), *extra], cwd=cwd,
                          env=env if env is not None else key.env(), capture_output=True, text=True,
                          timeout=600)


# --- TLS -----------------------------------------------------------------------------------------

def make_certificate(dir: Path) -> tuple[Path, Path]:
    """A CA and a localhost certificate it signs (Go wants a subjectAltName); returns (ca, chain)."""
    def ossl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=dir, check=True, capture_output=True, timeout=60)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=elasticache-access release test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=localhost")
    (dir / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return dir / "ca.pem", dir / "server.pem"


# --- the registry --------------------------------------------------------------------------------

class Registry:
    """A loopback HTTPS provider registry serving a Dist; start() binds localhost:0."""

    def __init__(self, dist: Dist, key: GpgKey, cert_dir: Path) -> None:
        self.dist, self.key, self.cert_dir = dist, key, cert_dir
        self.requests: list[str] = []
        self.files: dict[str, bytes] = {}
        self.server: ThreadingHTTPServer | None = None
        self.stopped = False

    @property
    def host(self) -> str:
        return f"localhost:{self.server.server_address[1]}"

    def source(self, namespace: str = NAMESPACE) -> str:
        return f"{self.host}/{namespace}/{TYPE}"

    def start(self) -> "Registry":
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_dir / "server.pem", self.cert_dir / "server.key")
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self._publish()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None and not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()

    def _publish(self) -> None:
        d, v = self.dist, self.dist.version
        sums, sig = d.tf("SHA256SUMS"), d.tf("SHA256SUMS.sig")
        self.files = {f"/files/{p.name}": p.read_bytes() for p in (d.zip, sums, sig)}
        self.files["/files/tampered.zip"] = tampered_zip(d.zip)
        self.files["/files/tampered.sig"] = tampered_signature(sig.read_bytes())
        self.files["/.well-known/terraform.json"] = json.dumps({"providers.v1": "/v1/providers/"}).encode()
        protocols = json.loads(d.tf("manifest.json").read_text())["metadata"]["protocol_versions"]
        for ns, zip_name, sig_name in ((NAMESPACE, d.zip.name, sig.name), ("tampered-zip", "tampered.zip", sig.name),
                                       ("tampered-sig", d.zip.name, "tampered.sig")):
            base = f"/v1/providers/{ns}/{TYPE}"
            self.files[f"{base}/versions"] = json.dumps({"versions": [{
                "version": v, "protocols": protocols, "platforms": [{"os": "linux", "arch": "amd64"}]}]}).encode()
            self.files[f"{base}/{v}/download/linux/amd64"] = json.dumps({
                "protocols": protocols, "os": "linux", "arch": "amd64", "filename": d.zip.name,
                "download_url": self.url(f"/files/{zip_name}"), "shasums_url": self.url(f"/files/{sums.name}"),
                "shasums_signature_url": self.url(f"/files/{sig_name}"), "shasum": sha256_file(d.zip),
                "signing_keys": {"gpg_public_keys": [{
                    "key_id": self.key.key_id, "ascii_armor": d.tf("signing_key.asc").read_text()}]},
            }).encode()

    def url(self, path: str) -> str:
        return f"https://{self.host}{path}"


@functools.lru_cache(maxsize=None)
def tampered_zip(path: Path) -> bytes:
    """A valid zip of the same name holding the binary with bytes appended (stored, for speed)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info) + b"\0tampered", compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def tampered_signature(sig: bytes) -> bytes:
    """The signature with its last byte changed: a byte of the RSA value, so the packets still parse."""
    return sig[:-1] + bytes([sig[-1] ^ 0x01])


def _handler(registry: Registry):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            registry.requests.append(self.path)
            body = registry.files.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            kind = "application/json" if body[:1] == b"{" else "application/octet-stream"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler

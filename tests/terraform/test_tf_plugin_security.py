"""The plugin's transport, as go-plugin starts it: the unix socket and its directory are private
whatever the umask; without a client certificate (Terraform's TF_DISABLE_PLUGIN_TLS) it serves
plaintext only on that private socket or on 127.0.0.1; with one, a client without that certificate
is refused."""

from __future__ import annotations

import os
import select
import signal
import socket
import stat
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from test_tf_schema_and_logs import go_plugin_env

HEALTH = "/grpc.health.v1.Health/Check"
RAW = dict(request_serializer=lambda b: b, response_deserializer=lambda b: b)
PLUGIN_HEALTH_REQUEST = b"\x0a\x06plugin"  # HealthCheckRequest{service: "plugin"}
SERVING = b"\x08\x01"  # HealthCheckResponse{status: SERVING}
# gRPC names a unix socket's path as the :authority, which HTTP/2 servers refuse; go-plugin's client
# sends "localhost".
AUTHORITY = [("grpc.default_authority", "localhost")]


@contextmanager
def plugin(binary, env: dict, umask: int = 0o022):
    """Starts the plugin with `env` under `umask`; yields (network, address, cert) of its line."""
    # The umask is set by a shell that then execs the plugin: a preexec_fn would run Python between
    # fork and exec in this multi-threaded process (gRPC's threads), which can leave the child stuck
    # or dead before it prints anything.
    p = subprocess.Popen(["/bin/sh", "-c", f'umask {umask:03o} && exec "$0"', str(binary)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 10)
        assert ready, "no handshake line within 10 s"
        _, _, network, address, _, cert = p.stdout.readline().strip().split("|")
        yield network, address, cert
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def plaintext_env(tmp_path) -> dict:
    env = go_plugin_env(tmp_path, "6")
    del env["PLUGIN_CLIENT_CERT"]  # what go-plugin passes when TF_DISABLE_PLUGIN_TLS is set
    return env


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077], ids=["umask-000", "umask-022", "umask-077"])
def test_socket_and_its_directory_are_private_whatever_the_umask(provider_binary, tmp_path, umask):
    # (a short path: a unix socket's path has at most 107 bytes, and pytest's tmp_path can be longer)
    parent = Path(tempfile.mkdtemp(prefix="ea-sock-", dir="/tmp"))
    env = {**go_plugin_env(tmp_path, "6"), "PLUGIN_UNIX_SOCKET_DIR": str(parent)}
    with plugin(provider_binary, env, umask) as (network, address, _):
        assert network == "unix"
        assert os.path.dirname(os.path.dirname(address)) == str(parent)
        assert mode(os.path.dirname(address)) == 0o700, oct(mode(os.path.dirname(address)))
        assert stat.S_ISSOCK(os.stat(address).st_mode)
        assert mode(address) == 0o600, oct(mode(address))
        assert os.stat(address).st_uid == os.getuid()
    assert list(parent.iterdir()) == [], "socket directory left behind"
    parent.rmdir()


def test_plaintext_is_served_only_on_the_private_unix_socket(provider_binary, tmp_path):
    with plugin(provider_binary, plaintext_env(tmp_path), umask=0) as (network, address, cert):
        assert network == "unix" and cert == "", "plaintext must announce no certificate"
        assert mode(os.path.dirname(address)) == 0o700
        assert mode(address) == 0o600
        with grpc.insecure_channel(f"unix:{address}", options=AUTHORITY) as ch:
            assert ch.unary_unary(HEALTH, **RAW)(PLUGIN_HEALTH_REQUEST, timeout=10) == SERVING


def non_loopback_addresses() -> list[str]:
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout.split()
    return [a for a in out if ":" not in a and not a.startswith("127.")]


def test_plaintext_over_tcp_listens_on_loopback_only(provider_binary, tmp_path):
    env = {**plaintext_env(tmp_path), "ELASTICACHE_PLUGIN_NETWORK": "tcp"}
    with plugin(provider_binary, env) as (network, address, cert):
        assert network == "tcp" and cert == ""
        host, port = address.rsplit(":", 1)
        assert host == "127.0.0.1", address
        with grpc.insecure_channel(address) as ch:
            assert ch.unary_unary(HEALTH, **RAW)(PLUGIN_HEALTH_REQUEST, timeout=10) == SERVING
        # The same port on every other address of this machine is closed.
        for other in non_loopback_addresses():
            with socket.socket() as s:
                s.settimeout(2)
                assert s.connect_ex((other, int(port))) != 0, f"plugin reachable on {other}:{port}"


@pytest.mark.parametrize("network", ["unix", "tcp"])
def test_a_client_without_terraforms_certificate_is_refused(provider_binary, tmp_path, network):
    """With AutoMTLS, a TLS client that trusts the plugin's certificate but presents none of its own
    is refused, and so is a plaintext client."""
    import base64
    import ssl

    env = {**go_plugin_env(tmp_path, "6"), "ELASTICACHE_PLUGIN_NETWORK": network}
    with plugin(provider_binary, env) as (net, address, cert):
        assert net == network and cert
        server_pem = ssl.DER_cert_to_PEM_cert(base64.b64decode(cert + "=" * (-len(cert) % 4))).encode()
        target = f"unix:{address}" if net == "unix" else address
        creds = grpc.ssl_channel_credentials(root_certificates=server_pem)
        with grpc.secure_channel(target, creds, options=[("grpc.ssl_target_name_override", "localhost")]) as ch:
            with pytest.raises(grpc.RpcError) as refused:
                ch.unary_unary(HEALTH, **RAW)(PLUGIN_HEALTH_REQUEST, timeout=10)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        with grpc.insecure_channel(target) as ch:
            with pytest.raises(grpc.RpcError) as refused:
                ch.unary_unary(HEALTH, **RAW)(PLUGIN_HEALTH_REQUEST, timeout=5)
            assert refused.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

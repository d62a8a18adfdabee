"""The provider as Terraform sees it: its schema, its logs and a clean exit."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tf_harness import PROVIDER_ADDR

RESOURCE_INPUTS = [
    "vpc_id", "port", "name", "name_prefix", "description", "create_client_security_group",
    "client_security_group_ids", "allowed_cidr_blocks", "allowed_prefix_list_ids", "allow_public_cidrs",
    "client_ssh_cidr_blocks", "attach_to_cluster", "exclusive_ingress", "revoke_before_authorize", "tags",
]
RESOURCE_OUTPUTS = [
    "id", "cluster_security_group_id", "client_security_group_id", "ingress_rule_ids", "client_ssh_rule_ids",
    "owner_id", "cluster_endpoint", "tags_all", "unmanaged_ingress", "reachability",
]


def test_providers_schema_lists_every_attribute_with_a_description(ws):
    ws.write("")
    r = ws.run("providers", "schema", "-json", check=True)
    schemas = json.loads(r.stdout)["provider_schemas"]
    assert PROVIDER_ADDR in schemas, schemas.keys()
    res = schemas[PROVIDER_ADDR]["resource_schemas"]["elasticache_access"]
    block = res["block"]
    attrs = block["attributes"]
    assert set(attrs) == set(RESOURCE_INPUTS + RESOURCE_OUTPUTS)
    for name, a in attrs.items():
        assert a.get("description"), f"{name} has no description"
    for name in RESOURCE_OUTPUTS:
        assert attrs[name].get("computed") and not attrs[name].get("optional"), name
    assert attrs["vpc_id"].get("optional") and attrs["vpc_id"].get("computed")
    assert attrs["allowed_cidr_blocks"]["type"] == ["set", "string"]
    assert attrs["tags"]["type"] == ["map", "string"]
    assert attrs["port"]["type"] == "number"
    assert attrs["unmanaged_ingress"]["type"][0] == "list"
    # a computed object (a cty type, not a nested attribute: no crash of Terraform 1.0.0-1.0.4 on its
    # null `cluster`), and the data source of issue 24
    assert attrs["reachability"]["type"][0] == "object"
    assert set(attrs["reachability"]["type"][1]) == {"schema_version", "port", "sources", "cluster", "findings"}
    data = schemas[PROVIDER_ADDR]["data_source_schemas"]["elasticache_reachability"]["block"]["attributes"]
    assert data["reachability"]["computed"] and data["replication_group_id"]["optional"]
    blocks = block["block_types"]
    assert set(blocks) == {"timeouts", "cluster"}
    assert set(blocks["timeouts"]["block"]["attributes"]) == {"create", "update", "delete"}
    assert set(blocks["cluster"]["block"]["attributes"]) == {"replication_group_id", "cache_cluster_id", "serverless_cache_name"}
    for b in blocks.values():
        assert b["nesting_mode"] == "single"
        for name, a in b["block"]["attributes"].items():
            assert a.get("description") and a.get("optional"), name
    assert block.get("description", "").startswith("Authorizes network access")
    provider = schemas[PROVIDER_ADDR]["provider"]["block"]
    assert {"region", "profile", "max_retries", "shared_config_files"} <= set(provider["attributes"])
    # the blocks of terraform-provider-aws's provider block
    assert set(provider["block_types"]) == {"assume_role", "endpoints", "default_tags", "ignore_tags"}
    assert provider["block_types"]["assume_role"]["block"]["attributes"]["role_arn"].get("required")
    assert res["version"] >= 1
    # The ephemeral resource (Terraform 1.10+ prints ephemeral resource schemas).
    if ws.tf.at_least(1, 10):
        token = schemas[PROVIDER_ADDR]["ephemeral_resource_schemas"]["elasticache_iam_auth_token"]["block"]
        attrs = token["attributes"]
        assert attrs["token"].get("sensitive") and attrs["token"].get("computed"), attrs["token"]
        assert attrs["user_id"].get("required") and attrs["replication_group_id"].get("optional")
        assert all(a.get("description") for a in attrs.values())
    else:
        assert "ephemeral_resource_schemas" not in schemas[PROVIDER_ADDR]


def test_logs_are_hclog_json_at_tf_log_level_and_hold_no_secret(ws, emulator):
    secret = "SeCrEt-value-that-must-not-leak-0123456789"
    ws.env = {**ws.env, "TF_LOG": "TRACE", "AWS_SECRET_ACCESS_KEY": secret}
    ws.write(f'resource "elasticache_access" "a" {{\n  vpc_id = "{emulator.world["vpc_id"]}"\n  name = "logs"\n}}\n')
    r = ws.run("apply", "-auto-approve", "-no-color", "-input=false", check=True)
    assert secret not in r.output
    # go-plugin re-logs our JSON lines under the plugin's name, with our @module.
    provider_lines = [line for line in r.stderr.splitlines() if "provider.terraform-provider-elasticache" in line]
    assert any("@module=provider.terraform-provider-elasticache" in line for line in provider_lines), r.stderr[-3000:]
    assert any(re.search(r"\[(DEBUG|INFO)\]", line) for line in provider_lines)
    assert "plugin failed to exit gracefully" not in r.stderr
    assert re.search(r"plugin process exited: .*terraform-provider-elasticache", r.stderr), r.stderr[-2000:]
    # Without TF_LOG nothing of ours is shown.
    ws.env = {k: v for k, v in ws.env.items() if k != "TF_LOG"}
    r = ws.run("plan", "-no-color", "-input=false", check=True)
    assert "@module" not in r.output


def go_plugin_env(tmp_path, protocol_versions: str) -> dict:
    """The environment go-plugin gives a plugin it starts, with a client certificate as Terraform
    passes one (an ECDSA P-521 key; any PEM certificate will do for the handshake)."""
    cert_pem = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521", "-nodes",
         "-keyout", str(tmp_path / "k.pem"), "-subj", "/CN=localhost", "-days", "1"],
        capture_output=True, text=True, timeout=60, check=True).stdout
    return {
        "PATH": "/usr/bin:/bin",
        "TF_PLUGIN_MAGIC_COOKIE": "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        "PLUGIN_PROTOCOL_VERSIONS": protocol_versions,
        "PLUGIN_CLIENT_CERT": cert_pem,
    }


def test_handshake_line_is_printed_at_once_with_automtls(provider_binary, tmp_path):
    """Started as go-plugin does, the binary prints one handshake line naming a private unix socket
    and a base64 certificate without padding, then exits 0 on SIGTERM and removes the socket."""
    import base64
    import os
    import select
    import signal
    import stat
    import time

    env = go_plugin_env(tmp_path, "5,6")
    start = time.monotonic()
    p = subprocess.Popen([str(provider_binary)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 10)
        assert ready, "no handshake line within 10 s"
        line = p.stdout.readline().strip()
        elapsed = time.monotonic() - start
        core, version, network, address, protocol, cert = line.split("|")
        assert (core, version, network, protocol) == ("1", "6", "unix", "grpc"), line
        assert not cert.endswith("=") and len(cert) > 50
        base64.b64decode(cert + "=" * (-len(cert) % 4))
        mode = stat.S_IMODE(os.stat(os.path.dirname(address)).st_mode)
        assert mode == 0o700, oct(mode)
        # Start-up does no AWS or network work: the line comes in milliseconds (about 6 ms for a
        # debug build here); 0.5 s leaves room for a loaded machine, not for a credential lookup.
        assert elapsed < 0.5, f"handshake took {elapsed:.2f}s"
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
        assert not os.path.exists(address)
        assert p.stdout.read() == "", "nothing but the handshake line on stdout"
    finally:
        if p.poll() is None:
            p.kill()


@pytest.mark.parametrize("variant", [
    {"ELASTICACHE_PLUGIN_NETWORK": "tcp"},
    {"TF_DISABLE_PLUGIN_TLS": "1"},
    {"ELASTICACHE_PLUGIN_NETWORK": "tcp", "TF_DISABLE_PLUGIN_TLS": "1"},
], ids=["tcp-mtls", "unix-plaintext", "tcp-plaintext"])
def test_other_transports_work_end_to_end(ws, emulator, variant):
    """The default (unix socket + AutoMTLS) runs in every other test; TCP on 127.0.0.1 and plaintext
    (Terraform's TF_DISABLE_PLUGIN_TLS) work too."""
    ws.env = {**ws.env, **variant, "TF_LOG": "DEBUG"}
    ws.write(f'resource "elasticache_access" "a" {{\n  vpc_id = "{emulator.world["vpc_id"]}"\n  name = "transport"\n}}\n')
    r = ws.apply()
    tls = "TF_DISABLE_PLUGIN_TLS" not in variant
    network = "tcp" if variant.get("ELASTICACHE_PLUGIN_NETWORK") == "tcp" else "unix"
    serving = [line for line in r.stderr.splitlines() if "plugin serving" in line]
    assert serving, r.stderr[-2000:]
    assert all(f"tls={str(tls).lower()}" in line and f"network={network}" in line for line in serving), serving
    if network == "tcp":
        assert all("address=127.0.0.1:" in line for line in serving)
    assert set(emulator.created_groups()) == {"transport-cluster", "transport-clients"}
    assert ws.plan_exit().returncode == 0


def test_plugin_exits_when_terraform_dies_without_shutdown(provider_binary, tmp_path):
    """A Terraform that crashes or is killed never calls Shutdown; the plugin notices that its parent
    is gone and exits instead of lingering."""
    import os
    import time

    env = {
        "PATH": "/usr/bin:/bin",
        "TF_PLUGIN_MAGIC_COOKIE": "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        "PLUGIN_PROTOCOL_VERSIONS": "6",
    }
    pidfile = tmp_path / "pid"
    # A stand-in for Terraform: starts the plugin, then dies without a word.
    subprocess.run(["sh", "-c", f'"{provider_binary}" >/dev/null 2>&1 & echo $! > "{pidfile}"; sleep 1'],
                   env=env, timeout=30, check=True)
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as fh:
                if "State:\tZ" in fh.read():
                    break
        except FileNotFoundError:
            break
        time.sleep(0.2)
    else:
        os.kill(pid, 9)
        raise AssertionError("the orphaned plugin is still running 15 s after its parent died")


def test_sigterm_right_after_the_handshake_line_always_stops_the_plugin(provider_binary, tmp_path):
    """Terraform may stop a plugin the moment it has read the handshake line. The SIGTERM handler must
    already be in place then: one registered after the line could miss a signal sent in between, and
    the plugin would hang (seen about once in 60 starts before the handler moved ahead of the line)."""
    import select
    import signal
    import time

    env = go_plugin_env(tmp_path, "6")
    for i in range(150):
        p = subprocess.Popen([str(provider_binary)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, text=True)
        try:
            ready, _, _ = select.select([p.stdout], [], [], 10)
            assert ready and p.stdout.readline(), f"start {i}: no handshake line within 10 s"
            p.send_signal(signal.SIGTERM)
            start = time.monotonic()
            try:
                code = p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pytest.fail(f"start {i}: still running 5 s after SIGTERM")
            assert code == 0, f"start {i}: exit code {code}"
            assert time.monotonic() - start < 5
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_go_plugin_services_over_automtls_with_alpn(provider_binary, tmp_path):
    """gRPC's own client (which insists on ALPN h2) reaches go-plugin's health, stdio and controller
    services over AutoMTLS with the client certificate the plugin was given; another certificate is
    refused; Controller.Shutdown ends the plugin with exit 0."""
    import base64
    import select
    import ssl

    import grpc

    env = go_plugin_env(tmp_path, "6")
    p = subprocess.Popen([str(provider_binary)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 10)
        assert ready, "no handshake line within 10 s"
        _, _, network, address, _, cert = p.stdout.readline().strip().split("|")
        server_pem = ssl.DER_cert_to_PEM_cert(base64.b64decode(cert + "=" * (-len(cert) % 4))).encode()
        target = f"unix:{address}" if network == "unix" else address
        options = [("grpc.ssl_target_name_override", "localhost")]

        def channel(cert_pem: bytes, key_pem: bytes) -> grpc.Channel:
            creds = grpc.ssl_channel_credentials(root_certificates=server_pem, private_key=key_pem,
                                                 certificate_chain=cert_pem)
            return grpc.secure_channel(target, creds, options=options)

        raw = dict(request_serializer=lambda b: b, response_deserializer=lambda b: b)
        # Another client certificate (a key pair Terraform did not announce) is refused.
        other = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(tmp_path / "other.pem"), "-subj", "/CN=localhost", "-days", "1"],
            capture_output=True, timeout=60, check=True).stdout
        with channel(other, (tmp_path / "other.pem").read_bytes()) as ch:
            with pytest.raises(grpc.RpcError) as refused:
                ch.unary_unary("/grpc.health.v1.Health/Check", **raw)(b"\x0a\x06plugin", timeout=10)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

        with channel(env["PLUGIN_CLIENT_CERT"].encode(), (tmp_path / "k.pem").read_bytes()) as ch:
            # grpc.health.v1.HealthCheckRequest{service: "plugin"} -> HealthCheckResponse{status: SERVING}
            assert ch.unary_unary("/grpc.health.v1.Health/Check", **raw)(b"\x0a\x06plugin", timeout=10) == b"\x08\x01"
            # GRPCStdio: this provider forwards nothing, so the stream ends at once.
            assert list(ch.unary_stream("/plugin.GRPCStdio/StreamStdio", **raw)(b"", timeout=10)) == []
            ch.unary_unary("/plugin.GRPCController/Shutdown", **raw)(b"", timeout=10)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

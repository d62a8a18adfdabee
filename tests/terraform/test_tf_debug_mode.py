"""Debug mode: `terraform-provider-elasticache --debug` prints the TF_REATTACH_PROVIDERS value (the
words and JSON shape of terraform-plugin-go's debug servers), and real Terraform CLIs, given only
that variable (no dev_overrides, no `terraform init`), plan, apply and destroy through the one
running process, which keeps serving between commands and stops cleanly on SIGINT or SIGTERM. Its
stderr (hclog lines) reaches Terraform over go-plugin's stdio stream: Terraform logs data from that
stream as "unexpected data" warnings naming the provider's stderr (1.11+; 1.0 receives and
discards it, which only its trace shows)."""

from __future__ import annotations

import json
import os
import queue
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tf_harness import PROVIDER_ADDR

INTRO = ("Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment "
         "variable with the following:")


class DebugProvider:
    """The provider started with --debug; its stdout is read line by line on a thread."""

    def __init__(self, binary: Path, env: dict, stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self.stderr = stderr_path.open("w")
        self.proc = subprocess.Popen([str(binary), "--debug"], stdout=subprocess.PIPE, stderr=self.stderr,
                                     stdin=subprocess.DEVNULL, text=True, env=env)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.put(line)
        self.lines.put(None)

    def banner(self, timeout: float = 30) -> list[str]:
        """Stdout up to the blank line after the TF_REATTACH_PROVIDERS line."""
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            out.append(line)
            if len(out) >= 4 and out[-2].startswith("\tTF_REATTACH_PROVIDERS=") and line == "\n":
                return out
        raise AssertionError(f"no TF_REATTACH_PROVIDERS line within {timeout}s; stdout {out!r}, "
                             f"stderr {self.stderr_path.read_text()!r}")

    def stop(self, sig: int) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.stderr.close()


def reattach_value(banner: list[str]) -> str:
    line = banner[-2]
    prefix = "\tTF_REATTACH_PROVIDERS='"
    assert line.startswith(prefix) and line.endswith("'\n"), line
    return line[len(prefix):-2]


def access_config(world: dict) -> str:
    return f"""\
resource "elasticache_access" "a" {{
  vpc_id              = "{world["vpc_id"]}"
  name                = "debugged"
  allowed_cidr_blocks = ["10.42.1.0/24"]
}}
"""


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_terraform_reattaches_to_the_debug_process(ws, emulator, provider_binary, tmp_path, stop_signal):
    env = {**ws.env, "TF_LOG_PROVIDER": "DEBUG"}
    debug = DebugProvider(provider_binary, env, tmp_path / "debug-stderr.log")
    try:
        banner = debug.banner()
        assert banner[:2] == [INTRO + "\n", "\n"], banner
        assert len(banner) == 4, banner
        value = reattach_value(banner)
        parsed = json.loads(value)
        assert list(parsed) == [PROVIDER_ADDR]
        entry = parsed[PROVIDER_ADDR]
        assert list(entry) == ["Protocol", "ProtocolVersion", "Pid", "Test", "Addr"], entry
        assert (entry["Protocol"], entry["ProtocolVersion"], entry["Pid"], entry["Test"]) == \
            ("grpc", 6, debug.proc.pid, True)
        assert entry["Addr"]["Network"] == "unix", entry
        sock = Path(entry["Addr"]["String"])
        assert stat.S_ISSOCK(sock.stat().st_mode) and stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700

        # Only the reattach variable tells Terraform where the provider is: no dev_overrides.
        empty_rc = tmp_path / "no-overrides.rc"
        empty_rc.write_text("")
        ws.env = {**ws.env, "TF_CLI_CONFIG_FILE": str(empty_rc), "TF_REATTACH_PROVIDERS": value}
        ws.write(access_config(emulator.world))
        first = ws.plan_exit()
        assert first.returncode == 2, str(first)
        ws.apply()
        assert "debugged-cluster" in emulator.group_names(), emulator.group_names()
        # The apply's provider lines came over the stdio stream into Terraform's log. Terraform 1.0
        # receives them (go-plugin traces each message) but gives go-plugin no sink for a reattached
        # provider's stdio, so only its trace shows they arrived.
        logged = (ws.dir / "terraform-warnings.log").read_text(errors="replace")
        forwarded = [ln for ln in logged.splitlines() if "unexpected data" in ln and ":stderr" in ln]
        if ws.tf.at_least(1, 11):
            assert any('"@message":"configuring"' in ln.replace('\\"', '"') for ln in forwarded), logged[-3000:]
        else:
            trace = tmp_path / "trace.log"
            traced = ws.env
            ws.env = {**traced, "TF_LOG": "TRACE", "TF_LOG_PATH": str(trace)}
            assert ws.plan_exit().returncode == 0
            ws.env = traced
            assert "provider.stdio: received data: channel=STDERR" in trace.read_text(errors="replace")
        again = ws.plan_exit()
        assert again.returncode == 0, str(again)
        ws.destroy()
        assert emulator.created_groups() == {}
        assert debug.proc.poll() is None, "the debug process stopped between commands"
    finally:
        rc = debug.stop(stop_signal)
    assert rc == 0, debug.stderr_path.read_text()[-3000:]
    assert not sock.parent.exists(), "the socket directory was left behind"
    stderr = debug.stderr_path.read_text()
    assert '"@message":"debug mode: serving until interrupted"' in stderr, stderr[-3000:]


def test_debug_mode_serves_plaintext_streams_stderr_and_stops_on_shutdown(provider_binary, tmp_path):
    """gRPC's own client reaches the debug server without TLS (Terraform brings no certificate when
    it reattaches): health answers SERVING, the stdio stream carries the provider's log lines on
    channel STDERR, and the controller's Shutdown ends the process with exit 0."""
    import grpc

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
    env["TF_LOG_PROVIDER"] = "DEBUG"
    debug = DebugProvider(provider_binary, env, tmp_path / "debug-stderr.log")
    try:
        entry = json.loads(reattach_value(debug.banner()))[PROVIDER_ADDR]
        raw = dict(request_serializer=lambda b: b, response_deserializer=lambda b: b)
        got: list[bytes] = []
        # (grpc-python names a unix socket target by its path as :authority, which HTTP/2 servers
        # refuse; go-plugin clients send "localhost".)
        target = f"unix:{entry['Addr']['String']}"
        with grpc.insecure_channel(target, options=[("grpc.default_authority", "localhost")]) as ch:
            assert ch.unary_unary("/grpc.health.v1.Health/Check", **raw)(b"\x0a\x06plugin", timeout=10) == b"\x08\x01"
            stream = ch.unary_stream("/plugin.GRPCStdio/StreamStdio", **raw)(b"", timeout=30)
            reader = threading.Thread(target=lambda: got.extend(_until_error(stream)), daemon=True)
            reader.start()
            time.sleep(0.5)  # the stream is subscribed before the line is logged
            ch.unary_unary("/plugin.GRPCController/Shutdown", **raw)(b"", timeout=10)
            assert debug.proc.wait(timeout=10) == 0, debug.stderr_path.read_text()[-3000:]
            reader.join(timeout=10)
    finally:
        debug.stop(signal.SIGTERM)
    # StdioData{channel: STDERR (field 1 = 2), data (field 2)} holding the hclog line of Shutdown.
    lines = [m for m in got if m.startswith(b"\x08\x02\x12")]
    assert any(b'"@message":"controller Shutdown: stopping"' in m for m in lines), got


def _until_error(stream):
    try:
        yield from stream
    except Exception:  # noqa: BLE001 - the stream ends with the server (UNAVAILABLE or CANCELLED)
        return

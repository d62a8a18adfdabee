"""Start / stop the emulator launcher as a subprocess (used by pytest fixtures).

    from harness import start_emulator
    emu = start_emulator()          # reads the EMULATOR_URL=... line
    ... emu.url ...
    emu.configure(modify_window=1.0)  # the AWS realism settings (realism_config.py), until a reset
    emu.stop()                      # SIGTERM, waits for exit 0

Extra launcher arguments can come from the EMULATOR_LAUNCHER_ARGS environment variable
(e.g. ``--vanilla`` to run the tests against unpatched moto and watch them fail).
"""

from __future__ import annotations

import json
import os
import selectors
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "launcher.py")
SEED = os.path.join(HERE, "seed.py")


class Emulator:
    def __init__(self, proc: subprocess.Popen, url: str, stderr_path: str) -> None:
        self.proc = proc
        self.url = url
        self.stderr_path = stderr_path

    def _control(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def configure(self, **settings) -> dict:
        """Changes realism settings (tests/emulator/realism_config.py) until the next reset, e.g.
        ``configure(modify_window=1.0, enforce_sg_per_eni=True)``; returns the whole configuration."""
        return self._control("POST", "/_emulator/config", settings)["config"]

    def config(self) -> dict:
        return self._control("GET", "/_emulator/config")["config"]

    def settle(self) -> int:
        """Ends every eventual-consistency window now (realism_control.py); the number of ids it ended."""
        return self._control("POST", "/_emulator/settle", {})["settled"]

    def modifications(self) -> dict:
        """The cluster modifications so far: {"modifications": [...], "accepted", "refused", "windows"}."""
        return self._control("GET", "/_emulator/modifications")

    def peering(self, **spec) -> dict:
        """An active VPC peering connection to another account's VPC (realism_control.py)."""
        return self._control("POST", "/_emulator/peering", spec)

    def stderr(self) -> str:
        with open(self.stderr_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # Not stopped: have it write its threads' stacks to stderr (for the failure), then kill.
                self.proc.send_signal(signal.SIGUSR1)
                time.sleep(1)
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


def start_emulator(extra_args: list[str] | None = None, timeout: float = 60) -> Emulator:
    args = [sys.executable, LAUNCHER, "--port", "0"]
    args += shlex.split(os.environ.get("EMULATOR_LAUNCHER_ARGS", ""))
    args += list(extra_args or [])
    err = tempfile.NamedTemporaryFile(prefix="emulator-", suffix=".log", delete=False)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
    err.close()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("EMULATOR_URL="):
                return Emulator(proc, line.strip().split("=", 1)[1], err.name)
    finally:
        sel.close()
    proc.kill()
    proc.wait(timeout=5)
    with open(err.name, encoding="utf-8", errors="replace") as fh:
        raise RuntimeError(f"emulator did not print EMULATOR_URL within {timeout}s:\n{fh.read()}")

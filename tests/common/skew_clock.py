"""Builds tests/common/skew_clock.c (gcc) into a shared library for LD_PRELOAD: a provider process
started with ``LD_PRELOAD=<lib> SKEW_SECONDS=-600`` sees a wall clock ten minutes behind. Terraform
itself (a static Go binary) is not affected."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).with_name("skew_clock.c")


def build(out_dir: Path) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("no C compiler (gcc) to build the clock-skew shim")
    lib = out_dir / "libskewclock.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(lib), str(SOURCE), "-ldl"], check=True,
                   capture_output=True, text=True)
    return lib


def env(lib: Path, seconds: int) -> dict[str, str]:
    return {"LD_PRELOAD": str(lib), "SKEW_SECONDS": str(seconds)}

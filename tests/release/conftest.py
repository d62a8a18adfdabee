"""The release tests use the Pulumi and Terraform harnesses (tests/pulumi, tests/terraform)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for d in ("terraform", "pulumi"):
    p = str(HERE.parent / d)
    if p not in sys.path:
        sys.path.insert(0, p)

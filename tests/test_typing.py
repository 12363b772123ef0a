"""The package ships ``py.typed``, so its own annotations must hold: ``mypy planner`` finds nothing.

The configuration (``[tool.mypy]`` in pyproject.toml) ignores missing stubs of
untyped libraries only; every module of the package is checked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_errors() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--config-file", str(ROOT / "pyproject.toml"),
                          "planner"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    errors = [ln for ln in run.stdout.splitlines() if ": error:" in ln]
    assert run.returncode == 0 and not errors, "\n".join(errors) or run.stdout + run.stderr
    assert "Success: no issues found" in run.stdout

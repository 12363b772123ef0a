"""The import layers hold: data flows one way (scenario -> inputs -> model -> solution -> result -> outputs).

The contracts are in ``.importlinter`` at the top of the repository; ``lint-imports`` (import-linter)
checks them on the package's real import graph, lazy imports inside functions included.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    run = subprocess.run([exe, "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "broken" in run.stdout and " 0 broken" in run.stdout

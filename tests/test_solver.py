"""The solve step: HiGHS's own log on request, on stderr only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import SCENARIOS


def test_solver_log_goes_to_stderr_not_into_the_report(tmp_path):
    exe = str(Path(sys.executable).with_name("planner"))
    args = [exe, "solve", str(SCENARIOS / "us_china_2030.yaml"), "-o", str(tmp_path / "o"), "--no-maps"]
    quiet = subprocess.run(args, capture_output=True, text=True)
    loud = subprocess.run(args + ["--solver-log"], capture_output=True, text=True)
    assert quiet.returncode == loud.returncode == 0
    assert "Coefficient ranges" not in quiet.stderr and "Coefficient ranges" not in quiet.stdout
    assert "Coefficient ranges" in loud.stderr and "Coefficient ranges" not in loud.stdout  # HiGHS's banner
    assert loud.stdout.splitlines()[0] == quiet.stdout.splitlines()[0]  # the report is unchanged

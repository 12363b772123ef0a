"""Killing a run never leaves a half-written OUTDIR: the previous results stay, or the new ones are complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import SCENARIOS
from planner.io import FILES


def run(outdir, *extra, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "planner.cli", "solve", str(SCENARIOS / "us_china_2030.yaml"), "-o", str(outdir), "--quiet", "--no-maps", *extra],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**os.environ, **(env or {})},
    )


def snapshot(outdir):
    return {f: (outdir / f).read_bytes() for f in sorted(os.listdir(outdir))}


@pytest.mark.parametrize("stage", ["solve", "write"])
def test_sigkill_leaves_previous_results_intact(tmp_path, stage):
    out = tmp_path / "out"
    assert run(out, "--set", "carbon_price_usd_per_tco2.US=10").wait(timeout=120) == 0
    before = snapshot(out)
    p = run(out, env={"PLANNER_FAULT_PAUSE": stage})
    line = p.stderr.readline()
    assert f"fault point {stage}" in line
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert snapshot(out) == before  # the earlier, complete run: byte for byte
    assert set(FILES) <= set(before)
    # the next run replaces it whole
    assert run(out).wait(timeout=120) == 0
    after = snapshot(out)
    assert set(FILES) <= set(after) and after != before
    # and the killed run's scratch dir beside it has been cleaned up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]

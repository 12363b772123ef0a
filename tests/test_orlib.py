"""The planner reaches the published optima of two OR-Library capacitated facility-location instances.

The instances are bundled in benchmarks/orlib/ (README there: source and format); set
$PLANNER_ORLIB_DIR to read them from another folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planner.orlib import read_orlib, solve_orlib

ORLIB = Path(os.environ.get("PLANNER_ORLIB_DIR", Path(__file__).resolve().parents[1] / "benchmarks" / "orlib"))
PUBLISHED = {"cap41": 1040444.375, "cap131": 793439.562}  # Beasley (1988), OR-Library capopt

needs_files = pytest.mark.skipif(
    not (ORLIB / "cap41.txt").is_file(),
    reason=f"OR-Library instances cap41.txt and cap131.txt not found in {ORLIB} (bundled in benchmarks/orlib/; "
    "PLANNER_ORLIB_DIR points elsewhere) "
    "(Beasley's OR-Library, capacitated warehouse location: http://people.brunel.ac.uk/~mastjjb/jeb/orlib/capinfo.html)",
)


@needs_files
def test_reader_matches_the_format():
    inst = read_orlib(ORLIB / "cap41.txt")
    assert inst.capacity.shape == (16,) and inst.demand.shape == (50,) and inst.cost.shape == (50, 16)
    assert inst.capacity[0] == 5000 and inst.fixed_cost[0] == 7500


@needs_files
@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_optimum(name, solver):
    out = solve_orlib(ORLIB / f"{name}.txt", solver=solver)
    assert out["status"] == "optimal"
    assert out["unserved_share"] == pytest.approx(0.0, abs=1e-9)
    assert out["objective_usd"] == pytest.approx(PUBLISHED[name], rel=1e-6)

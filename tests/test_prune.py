"""Pruning dominated pairs (``planner/model/prune.py``) changes neither the optimum nor the marginal values.

The independent route is the full model: every objective and marginal value is compared with the
one of the same scenario solved with ``solver.prune_dominated: false``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import planner
from conftest import cluster, grid, make_tables, moratorium, region, scenario
from planner.model.prune import dominated_pairs, prune_enabled, prune_model
from planner.solver import solve_model
from test_properties import cases

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


def _off(s):
    return s.model_copy(update={"solver": s.solver.model_copy(update={"prune_dominated": False})})


def test_hand_case_drops_the_dearer_twin_only() -> None:
    regions = [
        region("US-A", "G0", 90.0),  # twin of B, dearer: dropped
        region("US-B", "G0", 80.0),  # the cheapest twin that may take load
        region("US-C", "G0", 70.0, max_new_load_mw="50"),  # its own region-limit row: no twin
        region("US-D", "G0", 60.0),  # cheapest, but under a moratorium: cannot dominate, is not dominated (B dearer)
        region("US-E", "G1", 50.0),  # another grid region
    ]
    tables = make_tables(regions, [grid("G0", 100.0), grid("G1", 30.0)], [moratorium("m", "US-D", 2030, 2030)])
    s = scenario([cluster("k1", 80.0)], moratoria=["m"])
    inputs, model = planner.build(s, tables)
    drop = dominated_pairs(model)
    assert sorted(model.columns.pairs["region_id"][drop]) == ["US-A"]
    pruned = prune_model(model)
    assert pruned.pruned_pairs == 1 and pruned.columns.n_x == model.columns.n_x - 1
    assert pruned.A.shape[0] == model.A.shape[0]
    full, cut = solve_model(model), solve_model(pruned)
    # worked by hand: 30 MW to US-E (G1's firm headroom), 50 MW to US-C (its limit), nothing else; PUE 1,
    # utilisation 1, one year undiscounted, no carbon price; capital 1e6 USD/MW over 10 years at rate 0
    expected = 8760.0 * (30 * 50.0 + 50 * 70.0) + 80 * 1e6 / 10
    assert full.objective_usd == pytest.approx(cut.objective_usd, rel=1e-12)
    res = planner.solve(s, tables=tables)
    shares = dict(zip(res.placements["region_id"], res.placements["share"]))
    assert shares == pytest.approx({"US-E": 30 / 80, "US-C": 50 / 80})
    assert res.summary["objective_usd"] == pytest.approx(expected, rel=1e-9)
    assert full.objective_usd == pytest.approx(expected, rel=1e-9)


#: Pruning is off with power on site (each zone's load matters there), which the reference enables: the bundled
#: scenarios are checked in their grid-only form.
GRID = ["onsite.enabled=false", "time_to_power.enabled=false"]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_bundled_objective_unchanged(path: Path) -> None:
    s = planner.load_scenario(path, ["solver.marginals=none", *GRID])
    on, off = planner.solve(s), planner.solve(_off(s))
    a, b = on.summary["solver_objective_usd"], off.summary["solver_objective_usd"]
    assert a == pytest.approx(b, rel=1e-9)
    inputs, model = planner.build(s)
    if not len(inputs.sites):  # region-level studies have twins (zones of one grid region); site studies none
        assert dominated_pairs(model).sum() > 0


def test_marginal_values_unchanged() -> None:
    s = planner.load_scenario(SCENARIOS[0].with_name("us_china_2030.yaml"), ["solver.marginals=binding", *GRID])
    on, off = planner.solve(s), planner.solve(_off(s))
    a, b = on.limits, off.limits
    assert len(a) > 0 and a[["family", "limit_id", "year", "level"]].equals(b[["family", "limit_id", "year", "level"]])
    assert a["binding"].any()
    cols = [c for c in a.columns if c.startswith(("value_of_plus_1mw", "cost_of_minus_1mw"))]
    assert len(cols) == 4
    for col in cols:
        va, vb = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(va), np.isnan(vb)) and np.array_equal(np.isinf(va), np.isinf(vb))
        ok = np.isfinite(va)
        np.testing.assert_allclose(va[ok], vb[ok], rtol=1e-6, atol=1e-3)
    assert (a["binding"] == b["binding"]).all()


def test_switches() -> None:
    s = planner.load_scenario(SCENARIOS[0].with_name("us_china_2030.yaml"), GRID)
    assert prune_enabled(s) and not prune_enabled(_off(s))
    assert not prune_enabled(planner.load_scenario(SCENARIOS[0].with_name("us_china_2030.yaml")))  # on site: off

    class Onsite:
        enabled = True

    class WithOnsite:
        solver = s.solver
        onsite = Onsite()

    assert not prune_enabled(WithOnsite())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_random_cases_same_optimum(case) -> None:
    s, tables = case
    inputs, model = planner.build(s, tables)
    full = solve_model(model)
    cut = solve_model(prune_model(model))
    assert full.status == cut.status == "optimal"
    assert cut.objective_usd == pytest.approx(full.objective_usd, rel=1e-9, abs=1e-6)

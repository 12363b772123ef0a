"""Column generation over the pairs (planner/colgen.py) gives the full LP's optimum.

Checked by independent routes: the objective of HiGHS on the whole LP; the LP optimality certificate
recomputed here from the model's arrays (the returned plan is feasible in the full model, and every
column's reduced cost under the returned row duals has the sign optimality needs); a tiny case whose
optimum is worked out on paper, where the first restricted LP lacks the cheapest feasible pair.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from conftest import SCENARIOS, cluster, grid, make_tables, region, scenario
from planner.colgen import AUTO_MIN_PAIRS, solve_by_column_generation, use_column_generation
from planner.solver import COST_SCALE, solve_model
from test_properties import cases

TOL = 1e-6


def assert_optimal_in_full(model, sol):
    """Primal feasibility of *sol* in the whole model and dual feasibility of every column (the
    reduced costs ``c - A^T y`` from the returned row duals): together, LP optimality of *sol*."""
    v, y = sol.values, sol.row_duals_usd
    assert np.isfinite(v).all() and y is not None
    assert (v >= model.lower - TOL).all() and (v <= model.upper + TOL).all()
    Av = model.A @ v
    scale = 1 + np.abs(np.where(np.isfinite(model.row_upper), model.row_upper, 0))
    assert (Av >= model.row_lower - TOL * scale).all() and (Av <= model.row_upper + TOL * scale).all()
    d = (model.c - model.A.T @ y) * COST_SCALE
    at_lower = v <= model.lower + 1e-9
    at_upper = v >= model.upper - 1e-9
    # minimisation: a column at its lower bound may have d >= 0, at its upper d <= 0, in between d = 0
    assert (d[~at_upper] >= -1e-6).all(), d[~at_upper].min()
    assert (d[~at_lower] <= 1e-6).all(), d[~at_lower].max()


@pytest.mark.parametrize("name", ["grid_only", "us_china_2030", "brief_2026", "open_borders"])
def test_bundled_scenarios_have_the_full_lp_optimum(name):
    s = planner.load_scenario(SCENARIOS / f"{name}.yaml")
    inputs, model = planner.build(s)
    full = solve_model(model)
    cg = solve_by_column_generation(model)
    assert cg.status == full.status == "optimal"
    assert cg.objective_usd == pytest.approx(full.objective_usd, rel=1e-9)
    assert_optimal_in_full(model, cg)
    assert "column generation" in cg.message and "pairs loaded" in cg.message


def test_on_paper_the_cheapest_pairs_are_not_enough(monkeypatch):
    """One 100 MW cluster and five regions, each its own grid region, at 20 < 30 < 40 < 50 < 60 USD/MWh
    (all else equal); the two cheapest grid regions have no headroom. The first restricted LP holds the
    two cheapest pairs only, so the cluster is unserved there; pricing brings in the other three, and
    the optimum on paper puts the whole cluster in the 40 USD/MWh region. Two rounds."""
    import planner.colgen as cg

    monkeypatch.setattr(cg, "INITIAL_PER_CLUSTER", 2)
    regions = [region(f"US-R{i}", f"G{i}", price) for i, price in enumerate((20, 30, 40, 50, 60))]
    grids = [grid(f"G{i}", *((0, 0, 0, 0) if i < 2 else (500, 500, 500, 500))) for i in range(5)]
    s = scenario([cluster("k0", 100, 2026)], first=2026, last=2026)
    inputs, model = planner.build(s, make_tables(regions, grids))
    sol = solve_by_column_generation(model)
    assert sol.status == "optimal"
    x = dict(zip(model.columns.pairs["region_id"], sol.values[model.columns.x]))
    assert x["US-R2"] == pytest.approx(1.0)
    assert sol.values[model.columns.u].sum() == pytest.approx(0.0, abs=1e-9)
    assert "2 rounds" in sol.message, sol.message
    assert sol.objective_usd == pytest.approx(solve_model(model).objective_usd, rel=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_random_cases_have_the_full_lp_optimum(case):
    import planner.colgen as cg

    s, tables = case
    inputs, model = planner.build(s, tables)
    with pytest.MonkeyPatch.context() as mp:  # force rounds on these small cases
        mp.setattr(cg, "INITIAL_PER_CLUSTER", 1)
        mp.setattr(cg, "ADD_PER_CLUSTER", 1)
        sol = solve_by_column_generation(model)
    full = solve_model(model)
    assert sol.status == full.status == "optimal"
    assert sol.objective_usd == pytest.approx(full.objective_usd, rel=1e-9, abs=1e-6)
    assert_optimal_in_full(model, sol)


def test_the_setting_and_the_size_rule(tmp_path):
    s = planner.load_scenario(SCENARIOS / "grid_only.yaml")
    inputs, model = planner.build(s)
    assert model.columns.n_x < AUTO_MIN_PAIRS
    assert not use_column_generation(model, "auto", "highs")
    assert use_column_generation(model, "on", "highs")
    assert not use_column_generation(model, "on", "cbc")
    assert not use_column_generation(model, "off", "highs")
    # YAML's bare on/off (booleans) are accepted; the solve path reports it
    on = planner.load_scenario(SCENARIOS / "grid_only.yaml", ["solver.column_generation=on"])
    assert on.solver.column_generation == "on"
    r = planner.solve(on)
    assert "column generation" in r.summary["solver_message"]
    assert r.summary["solver_objective_usd"] == pytest.approx(planner.solve(s).summary["solver_objective_usd"], rel=1e-9)


def test_where_least_cost_decides_a_zone_s_it_load_the_two_routes_agree():
    """On the on-site reference, every zone's IT MW in the last year that the equal-cost ranges mark as
    decided (all least-cost plans agree) is the same by column generation as by the whole LP; the
    zones least cost leaves open (Michigan's MISO/PJM split) may differ, within their ranges."""
    base = planner.load_scenario(SCENARIOS / "us_china_2030.yaml", ["solver.column_generation=off"])
    full = planner.solve(base)
    cg = planner.solve(planner.load_scenario(SCENARIOS / "us_china_2030.yaml", ["solver.column_generation=on"]))
    assert "column generation" in cg.summary["solver_message"]
    assert cg.summary["solver_objective_usd"] == pytest.approx(full.summary["solver_objective_usd"], rel=1e-9)
    ranges = full.summary["equal_cost_ranges"]
    assert ranges["status"] == "computed"
    open_zones = {u["id"]: u for u in ranges["undecided"] if u["figure"] == "it_mw"}
    last = full.regions["year"].max()

    def it_mw(r):
        df = r.regions[r.regions["year"] == last]
        return df.set_index("region_id")["it_load_mw"]

    a, b = it_mw(full), it_mw(cg)
    assert list(a.index) == list(b.index) and len(a) > 20
    decided = [z for z in a.index if z not in open_zones]
    assert len(decided) > 20 and open_zones
    np.testing.assert_allclose(b[decided].to_numpy(), a[decided].to_numpy(), atol=ranges["tolerance_mw"])
    for z, u in open_zones.items():
        assert u["low"] - 1 <= b[z] <= u["high"] + 1


def test_pairs_fixed_at_zero_are_never_loaded(monkeypatch):
    """A moratorium fixes its pairs at 0: they can never lower the cost, so they take no place in the
    restricted LP (brief_2026 has 133 such pairs)."""
    import planner.colgen as cg

    s = planner.load_scenario(SCENARIOS / "brief_2026.yaml")
    inputs, model = planner.build(s)
    nx = model.columns.n_x
    fixed = np.flatnonzero(model.upper[:nx] <= model.lower[:nx])
    assert len(fixed) > 50
    added: list[np.ndarray] = []
    real = cg.add_columns
    monkeypatch.setattr(cg, "add_columns",
                        lambda h, m, cols=None, lower=None: (added.append(np.asarray(cols)), real(h, m, cols, lower))[1])
    monkeypatch.setattr(cg, "INITIAL_PER_CLUSTER", 3)
    sol = cg.solve_by_column_generation(model)
    assert sol.status == "optimal"
    loaded = np.concatenate(added)
    assert len(np.intersect1d(loaded, fixed)) == 0
    assert sol.objective_usd == pytest.approx(solve_model(model).objective_usd, rel=1e-9)


def test_at_the_time_limit_the_last_restricted_optimum_is_returned(monkeypatch):
    """When a later round hits the time limit, the plan of the last restricted optimum comes back as
    ``time_limit``: feasible in the whole LP, its objective recomputed from the costs, no duals."""
    import planner.colgen as cg

    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    inputs, model = planner.build(s)
    calls = {"n": 0}
    real = cg.set_time_limit

    def limit(h, seconds):  # the second round gets no time at all
        calls["n"] += 1
        real(h, seconds if calls["n"] == 1 else 1e-9)

    monkeypatch.setattr(cg, "set_time_limit", limit)
    monkeypatch.setattr(cg, "INITIAL_PER_CLUSTER", 1)
    sol = cg.solve_by_column_generation(model)
    assert calls["n"] >= 2
    assert sol.status == "time_limit" and sol.row_duals_usd is None
    v = sol.values
    assert np.isfinite(v).all()
    assert (v >= model.lower - TOL).all() and (v <= model.upper + TOL).all()
    Av = model.A @ v
    scale = 1 + np.abs(np.where(np.isfinite(model.row_upper), model.row_upper, 0))
    assert (Av >= model.row_lower - TOL * scale).all() and (Av <= model.row_upper + TOL * scale).all()
    assert sol.objective_usd == pytest.approx(float(model.c @ v), rel=1e-9)
    assert sol.objective_usd >= solve_model(model).objective_usd * (1 - 1e-9)


def test_new_pairs_enter_nonbasic_at_their_upper_bound():
    """``add_at_upper`` relies on two rules of HiGHS (a new column without a finite lower bound starts
    at its upper bound; a nonbasic column keeps its status when its bounds change). If a HiGHS release
    changed either, the optimum would stay the same but every round would first repair its basis: this
    test says so. The pairs end with their own bounds, [0, 1], at their upper bound."""
    import highspy

    from planner.colgen import add_at_upper
    from planner.solver import add_columns, add_rows, configured_highs

    s = planner.load_scenario(SCENARIOS / "grid_only.yaml")
    inputs, model = planner.build(s)
    nx, n = model.columns.n_x, model.columns.n
    h = configured_highs()
    add_rows(h, model)
    add_columns(h, model, np.r_[np.arange(0, nx, 3), np.arange(nx, n)])
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    k = h.getNumCol()
    new = np.arange(1, nx, 3)
    add_at_upper(h, model, new)
    basis = h.getBasis()
    assert basis.valid
    assert set(basis.col_status[k:]) == {highspy.HighsBasisStatus.kUpper}
    lp = h.getLp()
    assert np.array_equal(np.asarray(lp.col_lower_)[k:], model.lower[new])
    assert np.array_equal(np.asarray(lp.col_upper_)[k:], model.upper[new])


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400), st.integers(1, 12), st.integers(1, 6), st.booleans(), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_the_k_cheapest_of_each_cluster_are_lexsort_s(n, groups, k, runs, odd, seed):
    """``_first_k`` against its definition: ``np.lexsort((cost, group))`` cut at k per group, ties
    (many here: costs on a coarse grid) by position; groups in runs (the pairs' order) or shuffled;
    with *odd*, some costs infinite or NaN (sorted last, as lexsort does)."""
    from planner.colgen import _first_k

    rng = np.random.default_rng(seed)
    group = rng.integers(0, groups, n)
    if runs:
        group = np.sort(group)
    cost = rng.integers(-5, 5, n) / 2.0
    if odd and n:
        cost[rng.random(n) < 0.2] = rng.choice([np.inf, -np.inf, np.nan])
    taken: dict[int, int] = {}
    expected = []
    for p in np.lexsort((cost, group)):  # by group, then cost, then position
        taken[group[p]] = taken.get(group[p], 0) + 1
        if taken[group[p]] <= k:
            expected.append(p)
    assert np.array_equal(np.sort(_first_k(group, cost, k)), np.sort(np.array(expected, dtype=np.int64)))

"""Marginal values are a property of the scenario: unique, one-sided, and checked by re-solves.

The raw solver duals differ between HiGHS and CBC, and between a warm and a
cold solve (the LP has many optimal solutions). ``value_of_plus_1mw`` and
``cost_of_minus_1mw`` are the one-sided derivatives of the optimal cost, so
they must agree across every route, and with +1 MW / -1 MW re-solves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import planner
from conftest import HOURS, SCENARIOS, cluster, grid, make_tables, region, scenario
from planner.model.objective import capital_recovery_factor
from planner.solver import solve_model
from planner.whatif import WhatIf
from test_properties import cases

BUNDLED = sorted(SCENARIOS.glob("*.yaml"))
VALUE_COLS = [
    "value_of_plus_1mw_usd_per_mw_yr", "cost_of_minus_1mw_usd_per_mw_yr",
    "value_of_plus_1mw_pv_usd_per_mw", "cost_of_minus_1mw_pv_usd_per_mw",
]
KEY = ["family", "limit_id", "year", "level"]


def _values(result) -> pd.DataFrame:
    return result.limits.set_index(KEY)[VALUE_COLS].sort_index()


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.index.equals(b.index)
    for col in VALUE_COLS:
        x, y = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
        both_inf = np.isinf(x) & np.isinf(y)
        np.testing.assert_allclose(np.where(both_inf, 0, x), np.where(both_inf, 0, y), rtol=1e-6, atol=1e-3, err_msg=col)


def test_tiny_case_by_hand():
    """One region, 40 MW firm headroom, a 100 MW cluster: 60 MW unserved at 1,000 USD/MWh.

    One more MW of headroom serves one more MW: it saves the penalty (1,000 x 8,760) less the
    cost of serving it (50 x 8,760 + capital 1e6 x CRF(0 %, 10 years) = 1e5). One MW less costs
    the same: the optimum is linear around 40 MW, so both sides are equal.
    """
    t = make_tables([region("US-AA", "G1", 50)], [grid("G1", 40)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    row = r.limits.set_index(KEY).loc[("headroom", "G1", 2030, "firm")]
    capital = 1e6 * 0.1
    expected = 1000 * HOURS - 50 * HOURS - capital
    assert row["value_of_plus_1mw_usd_per_mw_yr"] == pytest.approx(expected, rel=1e-9)
    assert row["cost_of_minus_1mw_usd_per_mw_yr"] == pytest.approx(expected, rel=1e-9)
    assert bool(row["binding"])


def test_kink_by_hand():
    """A kink: 100 MW of firm headroom exactly fits a 100 MW cluster; the next-best region is G2 at 60 USD/MWh.

    +1 MW of G1 headroom saves nothing (the cluster is already served there); -1 MW moves one
    MW to G2 at 10 USD/MWh more: 10 x 8,760 USD per MW-yr.
    """
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60)], [grid("G1", 100), grid("G2", 500)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    row = r.limits.set_index(KEY).loc[("headroom", "G1", 2030, "firm")]
    assert row["value_of_plus_1mw_usd_per_mw_yr"] == 0
    assert row["cost_of_minus_1mw_usd_per_mw_yr"] == pytest.approx(10 * HOURS, rel=1e-9)
    g = r.grid_regions.set_index(["grid_region_id", "year"]).loc[("G1", 2030)]
    assert g["value_of_plus_1mw_usd_per_mw_yr"] == 0
    assert g["cost_of_minus_1mw_usd_per_mw_yr"] == pytest.approx(10 * HOURS, rel=1e-9)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_highs_equals_cbc(path):
    sc = planner.load_scenario(path)
    a, b = planner.solve(sc), planner.solve(sc, solver="cbc")
    _assert_same(_values(a), _values(b))
    for table in ("grid_regions", "regions"):
        x, y = getattr(a, table), getattr(b, table)
        for col in ("value_of_plus_1mw_usd_per_mw_yr", "cost_of_minus_1mw_usd_per_mw_yr"):
            np.testing.assert_allclose(x[col], y[col], rtol=1e-6, atol=1e-3)


def test_raw_duals_differ_but_marginal_values_do_not():
    """The documented reason for the new columns: on the reference, HiGHS's and CBC's raw duals differ."""
    sc = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    a, b = planner.solve(sc), planner.solve(sc, solver="cbc")
    raw = "solver_dual_usd_per_mw_yr"
    assert (np.abs(a.limits[raw] - b.limits[raw]) > 1.0).sum() > 0
    _assert_same(_values(a), _values(b))


def test_warm_equals_cold():
    base = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    w = WhatIf(base)
    for change in (["carbon_price_usd_per_tco2.US=100"], ["parameters.expansion_cost_usd_per_kw_us=800"],
                   ["overrides.grid_regions.MISO.firm_headroom_mw=1000"]):
        warm = w.solve(change)
        assert w.last_mode == "resolve"
        cold = planner.solve(base.with_overrides(change))
        _assert_same(_values(warm), _values(cold))
    # and back to the base, warm, after the others: the same as the first cold solve
    _assert_same(_values(w.solve([])), _values(planner.solve(base)))


def test_plus_and_minus_agree_with_one_mw_resolves():
    """+1 MW / -1 MW re-solves (objective differences; CBC for +1, HiGHS for -1) against the reported values.

    A headroom level's MW is also available to more flexible loads, so "+1 MW at level c" raises
    level c and every more flexible level of that grid region and year.
    """
    sc = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    inputs, model = planner.build(sc)
    r = planner.solve(sc)
    lim = r.limits[r.limits["binding"] & (r.limits["family"] == "headroom")].reset_index(drop=True)
    rng = np.random.default_rng(0)
    picks = lim.iloc[rng.choice(len(lim), size=6, replace=False)]
    base = {name: solve_model(model, name).objective_usd for name in ("highs", "cbc")}
    keys = model.row_keys["headroom"]
    rank = {"firm": 0, "0.25%": 1, "0.5%": 2, "1%": 3}
    d = dict(zip(inputs.years, inputs.discount))
    for row in picks.itertuples():
        sel = (keys["grid_region_id"] == row.limit_id) & (keys["year"] == row.year) & (keys["level"].map(rank) >= rank[row.level])
        at = model.blocks["headroom"].start + np.flatnonzero(sel.to_numpy())
        for sign, expected, name in ((+1, row.value_of_plus_1mw_usd_per_mw_yr, "cbc"), (-1, row.cost_of_minus_1mw_usd_per_mw_yr, "highs")):
            if not np.isfinite(expected):
                continue
            model.row_upper[at] += sign
            moved = solve_model(model, name).objective_usd
            model.row_upper[at] -= sign
            noise = 1e-9 * base[name]  # the solvers' objectives agree to about this
            assert sign * (base[name] - moved) / d[row.year] == pytest.approx(expected, rel=1e-6, abs=noise), (row, sign)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_properties_of_marginal_values(case):
    s, tables = case
    r = planner.solve(s, tables=tables, marginals="all")
    lim = r.limits
    if lim.empty:
        return
    for per in ("usd_per_mw_yr", "pv_usd_per_mw"):
        p, m = lim[f"value_of_plus_1mw_{per}"], lim[f"cost_of_minus_1mw_{per}"]
        ok = p.notna() & m.notna()  # NaN: not a limit of this kind, or a kink closer than 1e-7 MW (never a guess)
        assert (p[ok] >= 0).all()
        assert (p[ok] <= m[ok] * (1 + 1e-7) + 1e-3).all()  # convexity: one more saves at most what one less costs
        slack = ~lim["binding"] & ok
        assert (p[slack] == 0).all() and (m[slack] == 0).all()  # a limit with room has no value
    # "binding" mode computes the same numbers as "all", only fewer of them
    rb = planner.solve(s, tables=tables, marginals="binding")
    _assert_same(_values(rb), _values(r))


def test_value_equals_annualised_expansion_cost_where_expansion_is_interior():
    """Where a grid region builds new capacity below its yearly cap, one more MW of headroom in its
    last year saves exactly the annualised expansion cost: value_of_plus = cost_of_minus = 1000 C CRF.
    (The grid-only reference: with power on site the reference builds no grid capacity.)"""
    sc = planner.load_scenario(SCENARIOS / "grid_only.yaml")
    r = planner.solve(sc)
    inputs = r.inputs
    crf = capital_recovery_factor(sc.discount_rate, inputs.parameters["asset_life_years"])
    g = r.grid_regions
    last = g[(g["year"] == inputs.years[-1]) & (g["new_capacity_mw"] > 1e-6)]
    checked = 0
    for row in last.itertuples():
        cap = inputs.grid_regions.loc[row.grid_region_id, "expansion_max_mw_per_year"]
        if row.new_capacity_mw < cap - 1e-6:
            cost = inputs.grid_regions.loc[row.grid_region_id, "expansion_cost_usd_per_kw"] * 1000 * crf
            assert row.value_of_plus_1mw_usd_per_mw_yr == pytest.approx(cost, rel=1e-6)
            assert row.cost_of_minus_1mw_usd_per_mw_yr == pytest.approx(cost, rel=1e-6)
            checked += 1
    assert checked >= 1


def test_shuffled_inputs_give_the_same_plan(tmp_path):
    """Permuting the rows of the clusters, regions, grid regions and moratoria tables changes nothing reported."""
    sc = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    from planner.data.load import load_tables
    from planner.inputs import dataset_paths

    tables = load_tables(dataset_paths(sc))
    a = planner.solve(sc, tables=tables)
    rng = np.random.default_rng(7)
    shuffled = tables
    for name in ("regions", "grid_regions", "moratoria"):
        df = getattr(tables, name)
        shuffled = _replace(shuffled, name, df.iloc[rng.permutation(len(df))])
    sc2 = sc.model_copy(update={"clusters": tuple(sc.clusters[i] for i in rng.permutation(len(sc.clusters)))})
    assert [c.id for c in sc2.clusters] != [c.id for c in sc.clusters]
    b = planner.solve(sc2, tables=shuffled)
    pd.testing.assert_frame_equal(a.placements, b.placements)
    pd.testing.assert_frame_equal(a.limits, b.limits)
    pd.testing.assert_frame_equal(a.grid_regions, b.grid_regions)
    pd.testing.assert_frame_equal(a.regions, b.regions)


def _replace(tables, name, df):
    import dataclasses

    return dataclasses.replace(tables, **{name: df})


@pytest.mark.parametrize("change", [[], ["carbon_price_usd_per_tco2.US=100"], ["moratoria=[]", "parameters.expansion_cost_usd_per_kw_us=800"]])
def test_every_binding_headroom_value_against_resolves(change):
    """Every binding headroom direction of the reference (and two variants) against +1 / -1 MW re-solves."""
    sc = planner.load_scenario(SCENARIOS / "us_china_2030.yaml", change)
    inputs, model = planner.build(sc)
    r = planner.solve(sc)
    base = solve_model(model).objective_usd
    keys = model.row_keys["headroom"]
    rank = {"firm": 0, "0.25%": 1, "0.5%": 2, "1%": 3}
    d = dict(zip(inputs.years, inputs.discount))
    lim = r.limits[r.limits["binding"] & (r.limits["family"] == "headroom")]
    assert len(lim) >= 10
    for row in lim.itertuples():
        sel = (keys["grid_region_id"] == row.limit_id) & (keys["year"] == row.year) & (keys["level"].map(rank) >= rank[row.level])
        at = model.blocks["headroom"].start + np.flatnonzero(sel.to_numpy())
        for sign, expected in ((+1, row.value_of_plus_1mw_usd_per_mw_yr), (-1, row.cost_of_minus_1mw_usd_per_mw_yr)):
            model.row_upper[at] += sign
            moved = solve_model(model)
            model.row_upper[at] -= sign
            if not np.isfinite(expected):
                assert sign < 0 and moved.status != "optimal", row  # a limit that cannot be lowered
                continue
            assert sign * (base - moved.objective_usd) / d[row.year] == pytest.approx(expected, rel=1e-6, abs=1e-9 * base), (row, sign)


def test_auto_mode_skips_marginal_values_above_the_pair_threshold(monkeypatch):
    import planner.api

    sc = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    assert sc.solver.marginals == "auto"
    small = planner.solve(sc)
    assert small.summary["marginal_values"]["mode"] == "binding"
    monkeypatch.setattr(planner.api, "AUTO_MARGINALS_MAX_PAIRS", 10)
    big = planner.solve(sc)
    assert big.summary["marginal_values"]["mode"] == "none"
    assert big.limits["value_of_plus_1mw_usd_per_mw_yr"].isna().all()
    assert big.summary["objective_usd"] == small.summary["objective_usd"]


def test_terminal_lists_binding_headroom_that_matters():
    """G1: 100 MW fits the 100 MW cluster exactly (+1 MW saves 0, -1 MW costs 10 x 8,760 USD per MW-yr). G0 has no
    headroom and nothing is placed there (its zone is the dearest): full only trivially, so named on one line
    instead of a row of +1 MW 0 / -1 MW inf."""
    from planner.report import format_report

    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60), region("US-ZZ", "G0", 70)],
                    [grid("G1", 100), grid("G2", 500), grid("G0", 0)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    block = format_report(r).split("Binding grid headroom")[1].split("\n\n")[0].splitlines()[1:]
    assert block[0].split()[:7] == ["G1", "+1", "MW", "0", "-1", "MW", f"{10 * HOURS:,.0f}"]
    assert block[1:] == ["  also without headroom, and with no load placed there: G0"]

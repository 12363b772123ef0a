"""Equal-cost ranges: what least cost decides and what it leaves open, checked on paper and across solvers."""

from __future__ import annotations

import pytest

import planner
from conftest import SCENARIOS, cluster, grid, make_tables, region, scenario
from planner.report import format_report, ranges_by_figure


def _ranges(r):
    return {k: v for k, v in ranges_by_figure(r.summary).items()}


def test_two_zones_at_one_price_leave_the_split_open():
    # US-AA (grid G1) and US-BB (grid G2) both at 50 USD/MWh, PUE 1, ample headroom: any split of the 100 MW
    # cluster costs the same, so each zone's IT MW and each grid region's load range over [0, 100]
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 50)], [grid("G1", 1000), grid("G2", 1000)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    rng = _ranges(r)
    for fid in ("US-AA", "US-BB"):
        assert rng[("it_mw", fid, -1)] == pytest.approx((0, 100), abs=1e-6)
    for gid in ("G1", "G2"):
        assert rng[("grid_load_mw", gid, 2030)] == pytest.approx((0, 100), abs=1e-6)
    shown = {u["id"]: u["value"] for u in r.summary["equal_cost_ranges"]["undecided"] if u["figure"] == "it_mw"}
    assert shown["US-AA"] + shown["US-BB"] == pytest.approx(100, abs=1e-6)  # the plan shown is one of them
    assert "Least cost leaves 4 of 5 reported figures open" in format_report(r)


def test_one_cheaper_zone_decides_everything():
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 51)], [grid("G1", 1000), grid("G2", 1000)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    er = r.summary["equal_cost_ranges"]
    assert er["undecided"] == [] and er["checked"] == 5  # 2 zones' IT MW, 2 grid regions' load, US emissions
    assert "each is the same, to 1 MW, in every least-cost plan" in format_report(r)


def test_a_pruned_twin_of_equal_cost_still_counts():
    # US-AA and US-BB share grid G1 and the price: their pairs are twins, and planner.solve drops one of them.
    # The other is still a least-cost place, so the ranges (taken over the model with every pair) show it
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G1", 50)], [grid("G1", 1000)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    assert r.summary["model_size"]["pruned_pairs"] == 1
    rng = _ranges(r)
    assert rng[("it_mw", "US-AA", -1)] == pytest.approx((0, 100), abs=1e-6)
    assert rng[("it_mw", "US-BB", -1)] == pytest.approx((0, 100), abs=1e-6)
    assert ("grid_load_mw", "G1", 2030) not in rng  # G1 takes the 100 MW in every least-cost plan


def test_ranges_are_the_same_with_highs_and_cbc():
    """On the bundled reference the plans HiGHS and CBC return differ (Michigan's split between MISO and PJM,
    on-site MW in 2028), but the ranges, being properties of the scenario, agree."""
    sc = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    a, b = planner.solve(sc), planner.solve(sc, solver="cbc")
    ra, rb = _ranges(a), _ranges(b)
    assert ra.keys() == rb.keys() and len(ra) >= 2
    for key, (lo, hi) in ra.items():
        assert rb[key] == pytest.approx((lo, hi), abs=0.01, rel=1e-6), key
    for r in (a, b):  # each solver's own plan lies within the ranges
        for u in r.summary["equal_cost_ranges"]["undecided"]:
            assert u["low"] - 0.01 <= u["value"] <= u["high"] + 0.01
    # Michigan's two zones trade the same 16,000 MW between them, and with it the US emissions (their grids
    # emit differently): the totals each solver reports lie in that range
    assert ra[("it_mw", "US-MI-PJM", -1)] == pytest.approx((0, 16000), abs=0.01)
    lo, hi = ra[("emissions_tco2_per_yr", "US", -1)]
    assert hi - lo > 1e6
    for r in (a, b):
        assert lo - 1 <= r.summary["totals_by_country"]["US"]["emissions_tco2_per_yr"] <= hi + 1


def test_ranges_agree_with_a_cost_cut_on_the_reference():
    """An independent route to every range: min and max of each figure with the least cost as a constraint
    (c v <= z* + 1e-9 |z*|: 135 USD), no complementary slackness. Every one of the reference's figures agrees,
    to 1 MW (tCO2/yr: 1e-5 of the figure; the 135 USD let the emissions move by up to 414 t)."""
    import highspy
    import numpy as np

    from planner.ranges import figure_weights
    from planner.solver import COST_SCALE, highs_instance

    sc = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    r = planner.solve(sc)
    inputs, model = planner.build(sc)
    keys, W = figure_weights(inputs, model)
    h = highs_instance(model)
    h.run()
    z = h.getInfo().objective_function_value
    c = model.c * COST_SCALE
    nz = np.flatnonzero(c)
    h.addRow(-highspy.kHighsInf, z + 1e-9 * abs(z), len(nz), nz.astype(np.int32), c[nz])
    n = model.columns.n
    idx = np.arange(n, dtype=np.int32)
    rng = _ranges(r)
    Wc = W.tocsr()
    for i in range(len(keys)):
        w = Wc[i].toarray().ravel()
        ends = []
        for sign in (1.0, -1.0):
            h.changeColsCost(n, idx, sign * w)
            h.run()
            assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            ends.append(sign * h.getInfo().objective_function_value)
        key = (keys.at[i, "figure"], keys.at[i, "id"], int(keys.at[i, "year"]))
        tol = max(1.0, 1e-5 * abs(ends[1]))
        if key in rng:
            assert rng[key] == pytest.approx(tuple(ends), abs=tol), key
        else:  # decided: the cut route finds no room either
            assert ends[1] - ends[0] <= tol, key
    assert len(rng) == 8


def test_a_milp_gets_no_ranges():
    """An indivisible cluster makes the model a MILP: its least-cost plans are not one LP face, so no ranges
    (and the report says so instead of claiming the figures are decided)."""
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 50)], [grid("G1", 1000), grid("G2", 1000)])
    r = planner.solve(scenario([cluster("k", 100, indivisible=True)]), tables=t)
    er = r.summary["equal_cost_ranges"]
    assert er["status"].startswith("not computed: a MILP") and er["undecided"] == []
    assert "Equal-cost ranges not computed: a MILP" in format_report(r)
    assert "Least cost leaves" not in format_report(r)

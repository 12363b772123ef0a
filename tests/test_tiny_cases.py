"""Tiny cases, one per constraint family, with optima worked out by hand.

Common set-up unless stated: PUE 1.0 (climate "cool"), utilisation 1, capex
1e6 USD/MW with a 10-year life and a 0% discount rate, so CRF = 0.1 and the
capital cost is 1e5 USD per MW-yr of IT load; one planning year.
"""

from __future__ import annotations

import numpy as np
import pytest

import planner
from conftest import HOURS, cluster, grid, make_tables, moratorium, placed, region, scenario

CAPITAL_PER_MW_YR = 1e6 * 0.1


def test_cheapest_region_wins():
    # 100 MW to A (50 USD/MWh) rather than B (60): 100*8760*50 + 100*1e5
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60)], [grid("G1", 1000), grid("G2", 1000)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    assert r.summary["status"] == "optimal"
    assert placed(r, "k") == {"US-AA": 1.0}
    assert r.summary["objective_usd"] == pytest.approx(100 * HOURS * 50 + 100 * CAPITAL_PER_MW_YR, rel=1e-9)


def test_headroom_splits_cluster_and_prices_the_limit():
    # G1 firm headroom 60 MW: 60 MW to A, 40 to B. Shadow price of G1 = 8760*(60-50) USD/MW-yr.
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60)], [grid("G1", 60), grid("G2", 1000)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    assert placed(r, "k") == {"US-AA": 0.6, "US-BB": 0.4}
    expected = HOURS * (60 * 50 + 40 * 60) + 100 * CAPITAL_PER_MW_YR
    assert r.summary["objective_usd"] == pytest.approx(expected, rel=1e-9)
    g = r.grid_regions.set_index("grid_region_id").loc["G1"]
    assert g["shadow_price_usd_per_mw_yr"] == pytest.approx(HOURS * 10, rel=1e-9)
    assert g["load_mw"] == pytest.approx(60)
    assert r.grid_regions.set_index("grid_region_id").loc["G2", "shadow_price_usd_per_mw_yr"] == 0


def test_shadow_price_matches_a_perturbed_resolve():
    # independent route: one more MW of every G1 level saves exactly the shadow price
    regions = [region("US-AA", "G1", 50), region("US-BB", "G2", 60, climate_class="hot")]
    base = planner.solve(scenario([cluster("k", 100)]), tables=make_tables(regions, [grid("G1", 60), grid("G2", 1000)]))
    more = planner.solve(scenario([cluster("k", 100)]), tables=make_tables(regions, [grid("G1", 61), grid("G2", 1000)]))
    saved = base.summary["objective_usd"] - more.summary["objective_usd"]
    price = base.grid_regions.set_index("grid_region_id").loc["G1", "shadow_price_usd_per_mw_yr"]
    assert saved == pytest.approx(price, rel=1e-6)


def test_curtailment_levels_are_nested():
    # G1: firm 50, 0.25% 80, 0.5% 80, 1% 120. K1 firm 60 MW, K2 accepts 1%, 60 MW.
    # firm row: K1 <= 50  -> K1 50 in A, 10 in B; 1% row: K1 + K2 <= 120 -> K2 all in A.
    t = make_tables(
        [region("US-AA", "G1", 50), region("US-BB", "G2", 60)],
        [grid("G1", 50, 80, 80, 120), grid("G2", 1000)],
    )
    r = planner.solve(scenario([cluster("k1", 60), cluster("k2", 60, curtailment_pct=1.0)]), tables=t)
    assert placed(r, "k1") == {"US-AA": pytest.approx(50 / 60), "US-BB": pytest.approx(10 / 60)}
    assert placed(r, "k2") == {"US-AA": 1.0}
    expected = HOURS * (110 * 50 + 10 * 60) + 120 * CAPITAL_PER_MW_YR
    assert r.summary["objective_usd"] == pytest.approx(expected, rel=1e-9)
    # the same two clusters, both firm: only 50 MW fit in A
    r2 = planner.solve(scenario([cluster("k1", 60), cluster("k2", 60)]), tables=t)
    assert r2.summary["objective_usd"] == pytest.approx(HOURS * (50 * 50 + 70 * 60) + 120 * CAPITAL_PER_MW_YR, rel=1e-9)


@pytest.mark.parametrize("window, expected", [((2026, 2027), {"US-BB": 1.0}), ((2026, 2026), {"US-AA": 1.0})])
def test_moratorium_window_holds_online_year(window, expected):
    t = make_tables(
        [region("US-AA", "G1", 50), region("US-BB", "G2", 60)],
        [grid("G1", 1000), grid("G2", 1000)],
        [moratorium("m", "US-AA", *window)],
    )
    s = scenario([cluster("k", 100, 2027)], first=2026, last=2027, moratoria=["m"])
    r = planner.solve(s, tables=t)
    assert placed(r, "k") == expected
    flags = r.regions.set_index(["region_id", "year"])["moratorium"]
    assert flags[("US-AA", 2026)] == "m"
    # a moratorium that is not selected does nothing
    r0 = planner.solve(scenario([cluster("k", 100, 2027)], first=2026, last=2027), tables=t)
    assert placed(r0, "k") == {"US-AA": 1.0}


@pytest.mark.parametrize("cost_usd_per_kw, expect_a", [(500.0, True), (1000.0, False)])
def test_expansion_is_built_when_cheaper_than_moving(cost_usd_per_kw, expect_a):
    # A has no headroom; new capacity costs cost*1000*CRF = cost*100 USD/MW-yr.
    # Moving to B costs 8760*10 = 87,600 USD/MW-yr more energy.
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60)], [grid("G1", 0), grid("G2", 1000)])
    opt = {"cost_usd_per_kw": cost_usd_per_kw, "lead_time_years": 0, "max_mw_per_year": 1000}
    r = planner.solve(scenario([cluster("k", 100)], expansion={"G1": opt}), tables=t)
    if expect_a:
        assert placed(r, "k") == {"US-AA": 1.0}
        g = r.grid_regions.set_index("grid_region_id").loc["G1"]
        assert g["new_capacity_mw"] == pytest.approx(100)
        expected = 100 * HOURS * 50 + 100 * cost_usd_per_kw * 100 + 100 * CAPITAL_PER_MW_YR
    else:
        assert placed(r, "k") == {"US-BB": 1.0}
        expected = 100 * HOURS * 60 + 100 * CAPITAL_PER_MW_YR
    assert r.summary["objective_usd"] == pytest.approx(expected, rel=1e-9)


def test_expansion_respects_lead_time_and_yearly_cap():
    # lead time 1: new MW only from 2027; the 2026 cluster (placed once, for good) cannot use them
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60)], [grid("G1", 0), grid("G2", 1000)])
    opt = {"cost_usd_per_kw": 100, "lead_time_years": 1, "max_mw_per_year": 30}
    s = scenario([cluster("early", 100, 2026), cluster("late", 100, 2027)], first=2026, last=2027, expansion={"G1": opt})
    r = planner.solve(s, tables=t)
    assert placed(r, "early") == {"US-BB": 1.0}
    assert placed(r, "late") == {"US-AA": pytest.approx(0.3), "US-BB": pytest.approx(0.7)}
    g = r.grid_regions.set_index(["grid_region_id", "year"])
    assert g.loc[("G1", 2026), "new_capacity_mw"] == 0
    assert g.loc[("G1", 2027), "new_capacity_mw"] == pytest.approx(30)


def test_unserved_load_is_reported_with_reason_and_penalty():
    # only 40 MW of headroom anywhere: 60 MW unserved at 1000 USD/MWh
    t = make_tables([region("US-AA", "G1", 50)], [grid("G1", 40)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    assert r.summary["status"] == "optimal"
    un = r.unserved.set_index("cluster_id").loc["k"]
    assert un["unserved_it_mw"] == pytest.approx(60)
    assert "Capacity ran out" in un["reason"] and "G1" in un["reason"]
    expected = 40 * HOURS * 50 + 40 * CAPITAL_PER_MW_YR
    penalty = 60 * HOURS * 1000
    # the penalty is not a cost: the objective excludes it, and it is reported apart
    assert r.summary["objective_usd"] == pytest.approx(expected, rel=1e-9)
    assert r.summary["unserved_penalty_usd"] == pytest.approx(penalty, rel=1e-9)
    assert r.summary["solver_objective_usd"] == pytest.approx(expected + penalty, rel=1e-9)
    # the explanation quotes no penalty-derived price; it names the capacity that would serve the cluster
    assert "USD/MW-yr" not in un["reason"].split("new capacity")[0]
    assert "60 MW more grid capacity" in un["reason"]
    assert any(w.startswith("k: 60 MW of IT load unserved") for w in r.summary["warnings"])
    assert r.summary["objective_parts_usd"]["unserved"] == pytest.approx(60 * HOURS * 1000, rel=1e-9)


def test_carbon_price_flips_the_choice():
    # A: 50 USD/MWh at 0.9 t/MWh; B: 60 at 0.1. Break-even carbon price = 10 / 0.8 = 12.5 USD/t.
    regions = [region("US-AA", "G1", 50, co2_tco2_per_mwh=0.9), region("US-BB", "G2", 60, co2_tco2_per_mwh=0.1)]
    t = make_tables(regions, [grid("G1", 1000), grid("G2", 1000)])
    low = planner.solve(scenario([cluster("k", 100)], carbon_price_usd_per_tco2={"US": 12.0}), tables=t)
    high = planner.solve(scenario([cluster("k", 100)], carbon_price_usd_per_tco2={"US": 13.0}), tables=t)
    assert placed(low, "k") == {"US-AA": 1.0}
    assert placed(high, "k") == {"US-BB": 1.0}
    assert high.summary["objective_parts_usd"]["carbon"] == pytest.approx(100 * HOURS * 0.1 * 13.0, rel=1e-9)


def test_latency_excludes_far_regions_and_names_the_rule():
    # A at (0,0), B at (10,0): 1,111.95 km apart on the equator. RTT = 2*d*1.0/200 = 11.1 ms.
    t = make_tables(
        [region("US-AA", "G1", 80, lon=0.0), region("US-BB", "G2", 50, lon=10.0)],
        [grid("G1", 1000), grid("G2", 1000)],
    )
    near = planner.solve(scenario([cluster("k", 100, user_hub={"region_id": "US-AA", "max_rtt_ms": 11.0})]), tables=t)
    far = planner.solve(scenario([cluster("k", 100, user_hub={"region_id": "US-AA", "max_rtt_ms": 11.2})]), tables=t)
    assert placed(near, "k") == {"US-AA": 1.0}
    assert placed(far, "k") == {"US-BB": 1.0}
    stuck = planner.solve(scenario([cluster("k", 100, user_hub={"lon": -60.0, "lat": 0.0, "max_rtt_ms": 5})]), tables=t)
    reason = stuck.unserved.set_index("cluster_id").loc["k", "reason"]
    assert "No eligible region" in reason and "latency: 2 region(s)" in reason and "6,672 km" in reason


def test_home_country_by_default():
    t = make_tables(
        [region("US-AA", "G1", 90), region("CN-BB", "G2", 40, country="CN")],
        [grid("G1", 1000), grid("G2", 1000, country="CN")],
    )
    home = planner.solve(scenario([cluster("k", 100)]), tables=t)
    open_ = planner.solve(scenario([cluster("k", 100, allowed_countries=["US", "CN"])]), tables=t)
    assert placed(home, "k") == {"US-AA": 1.0}
    assert placed(open_, "k") == {"CN-BB": 1.0}


def test_discounting_over_years_online():
    # horizon 2026-2028 at 10%: a cluster online 2027 pays in 2027 and 2028: S = 1/1.1 + 1/1.21
    t = make_tables([region("US-AA", "G1", 50)], [grid("G1", 1000)])
    r = planner.solve(scenario([cluster("k", 100, 2027)], first=2026, last=2028, discount_rate=0.1), tables=t)
    crf = 0.1 * 1.1**10 / (1.1**10 - 1)
    annual = 100 * HOURS * 50 + 100 * 1e6 * crf
    assert r.summary["objective_usd"] == pytest.approx(annual * (1 / 1.1 + 1 / 1.21), rel=1e-9)


def test_region_limit_caps_a_region():
    t = make_tables(
        [region("US-AA", "G1", 50, max_new_load_mw=30, max_new_load_source="test"), region("US-BB", "G1", 60)],
        [grid("G1", 1000)],
    )
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    assert placed(r, "k") == {"US-AA": pytest.approx(0.3), "US-BB": pytest.approx(0.7)}
    reg = r.regions.set_index("region_id").loc["US-AA"]
    # one row for the whole horizon: a present value per MW (one year at 0 % here: 8760 h x 10 USD/MWh)
    assert reg["region_limit_shadow_price_usd_per_mw"] == pytest.approx(HOURS * 10, rel=1e-9)
    assert reg["shadow_price_usd_per_mw_yr"] == 0


def test_chinese_price_adds_the_stated_adders():
    t = make_tables(
        [region("CN-AA", "G1", 40, country="CN", price_basis="wholesale_coal_benchmark")],
        [grid("G1", 1000, country="CN")],
        cn_td_adder_usd_per_mwh=30.0,
        cn_surcharge_usd_per_mwh=5.0,
    )
    s = scenario([cluster("k", 100, home_country="CN")])
    r = planner.solve(s, tables=t)
    assert r.placements.loc[0, "price_usd_per_mwh"] == pytest.approx(75.0)
    r2 = planner.solve(s.with_overrides(["parameters.cn_td_adder_usd_per_mwh=10"]), tables=t)
    assert r2.placements.loc[0, "price_usd_per_mwh"] == pytest.approx(55.0)
    assert r2.summary["objective_usd"] == pytest.approx(100 * HOURS * 55 + 100 * CAPITAL_PER_MW_YR, rel=1e-9)


def test_pue_scales_grid_draw_and_energy():
    # hot climate: PUE 1.4 -> a 100 MW IT cluster draws 140 MW; 100 MW of headroom holds 100/140 of it
    t = make_tables([region("US-AA", "G1", 50, climate_class="hot"), region("US-BB", "G2", 500)], [grid("G1", 100), grid("G2", 1000)])
    r = planner.solve(scenario([cluster("k", 100)]), tables=t)
    assert placed(r, "k")["US-AA"] == pytest.approx(100 / 140)
    assert r.grid_regions.set_index("grid_region_id").loc["G1", "load_mw"] == pytest.approx(100)
    # the rest goes to B (cool, PUE 1.0): 100 * (1 - 100/140) MW IT = as many MW of grid draw
    np.testing.assert_allclose(r.placements["grid_load_mw"].sum(), 100 + 100 * (1 - 100 / 140))

"""Indivisible clusters, candidate sites with fixed costs, pair costs: tiny MILPs solved by hand."""

from __future__ import annotations

import pytest

import planner
from conftest import HOURS, SCENARIOS, cluster, grid, make_tables, placed, region, scenario
from planner.errors import DataError
from planner.solver import solve_model

CAPITAL_PER_MW_YR = 1e6 * 0.1


def two_regions(h_a: float = 60):
    return make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60)], [grid("G1", h_a), grid("G2", 1000)])


def test_indivisible_cluster_goes_whole():
    # divisible: 60 MW in A, 40 in B. Indivisible: A cannot hold 100 MW, so all of it goes to B.
    t = two_regions()
    lp = planner.solve(scenario([cluster("k", 100)]), tables=t)
    mip = planner.solve(scenario([cluster("k", 100, indivisible=True)]), tables=t)
    assert placed(lp, "k") == {"US-AA": 0.6, "US-BB": 0.4}
    assert placed(mip, "k") == {"US-BB": 1.0}
    assert mip.summary["objective_usd"] == pytest.approx(100 * HOURS * 60 + 100 * CAPITAL_PER_MW_YR, rel=1e-9)
    assert mip.summary["objective_usd"] - lp.summary["objective_usd"] == pytest.approx(60 * HOURS * 10, rel=1e-9)
    m = mip.summary["mip"]
    assert m["gap"] == pytest.approx(0.0, abs=1e-6) and m["time_limit_s"] == 300 and "integer choices fixed" in m["duals"]
    assert lp.summary["mip"] is None


def test_indivisible_clusters_pack_into_the_cheap_region():
    # A holds 60 MW: of clusters 50 and 40 MW only one fits; the larger one saves more (50 MW x 10 USD/MWh)
    t = two_regions()
    r = planner.solve(scenario([cluster("big", 50, indivisible=True), cluster("small", 40, indivisible=True)]), tables=t)
    assert placed(r, "big") == {"US-AA": 1.0} and placed(r, "small") == {"US-BB": 1.0}


def write_sites(tmp_path, rows: str):
    p = tmp_path / "sites.csv"
    p.write_text("site_id,region_id,lon,lat,capacity_mw,fixed_cost_usd,lead_time_years\n" + rows)
    return str(p)


def test_sites_open_only_when_worth_their_fixed_cost(tmp_path):
    # Two sites in A (50 USD/MWh), 80 MW each, fixed 1e6 USD; one site in B (60), 200 MW, fixed 5e6.
    # 100 MW: both A sites (2e6 fixed, 100 MW at 50) vs B (5e6, at 60): A wins; then the 100 MW are split 80/20 or so.
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60)], [grid("G1", 1000), grid("G2", 1000)])
    sites = write_sites(tmp_path, "a1,US-AA,,,80,1000000,\na2,US-AA,,,80,1000000,\nb1,US-BB,,,200,5000000,\n")
    r = planner.solve(scenario([cluster("k", 100)], sites=sites), tables=t)
    dev = r.sites.set_index("site_id")["developed"].to_dict()
    assert dev == {"a1": 1, "a2": 1, "b1": 0}
    expected = 100 * HOURS * 50 + 100 * CAPITAL_PER_MW_YR + 2e6
    assert r.summary["objective_usd"] == pytest.approx(expected, rel=1e-9)
    assert r.summary["objective_parts_usd"]["fixed"] == pytest.approx(2e6)
    assert r.sites.set_index("site_id")["load_mw"].sum() == pytest.approx(100)
    # a cluster of 70 MW fits one A site: only one opens
    r2 = planner.solve(scenario([cluster("k", 70)], sites=sites), tables=t)
    assert r2.sites["developed"].sum() == 1
    assert r2.summary["objective_usd"] == pytest.approx(70 * HOURS * 50 + 70 * CAPITAL_PER_MW_YR + 1e6, rel=1e-9)


def test_site_capacity_region_and_grid_limits_all_apply(tmp_path):
    # site a1 800 MW but grid G1 has 60 MW headroom: only 60 MW go there
    t = two_regions()
    sites = write_sites(tmp_path, "a1,US-AA,,,800,0,\nb1,US-BB,,,800,0,\n")
    r = planner.solve(scenario([cluster("k", 100)], sites=sites), tables=t)
    assert r.sites.set_index("site_id")["load_mw"].to_dict() == pytest.approx({"a1": 60.0, "b1": 40.0})


def test_site_lead_time_excludes_early_clusters(tmp_path):
    t = two_regions(h_a=1000)
    sites = write_sites(tmp_path, "a1,US-AA,,,800,0,2\nb1,US-BB,,,800,0,0\n")
    s = scenario([cluster("early", 10, 2026), cluster("late", 10, 2028)], first=2026, last=2028, sites=sites)
    r = planner.solve(s, tables=t)
    p = r.placements.set_index("cluster_id")["site_id"].to_dict()
    assert p == {"early": "b1", "late": "a1"}


def test_pair_costs_shift_the_choice(tmp_path):
    # a backhaul cost of 1e8 USD on (k, A) outweighs A's 10 USD/MWh advantage (100 MW x 8760 h x 10 = 8.76e6)
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60)], [grid("G1", 1000), grid("G2", 1000)])
    costs = tmp_path / "pc.csv"
    costs.write_text("cluster_id,region_id,cost_usd\nk,US-AA,100000000\n")
    r = planner.solve(scenario([cluster("k", 100)], pair_costs=str(costs)), tables=t)
    assert placed(r, "k") == {"US-BB": 1.0}
    costs.write_text("cluster_id,region_id,cost_usd\nk,US-AA,1000000\n")
    r = planner.solve(scenario([cluster("k", 100)], pair_costs=str(costs)), tables=t)
    assert placed(r, "k") == {"US-AA": 1.0}
    assert r.summary["objective_parts_usd"]["pair"] == pytest.approx(1e6)


def test_bad_sites_are_named(tmp_path):
    t = two_regions()
    bad = write_sites(tmp_path, "a1,US-ZZ,,,80,0,\n")
    with pytest.raises(DataError, match=r"column 'region_id', rows a1: not a region id"):
        planner.solve(scenario([cluster("k", 10)], sites=bad), tables=t)
    bad = write_sites(tmp_path, "a1,,,,80,0,\n")
    with pytest.raises(DataError, match="give a region_id or both lon and lat"):
        planner.solve(scenario([cluster("k", 10)], sites=bad), tables=t)


def test_milp_routes_agree(tmp_path):
    t = make_tables([region("US-AA", "G1", 50), region("US-BB", "G2", 60)], [grid("G1", 90), grid("G2", 1000)])
    sites = write_sites(tmp_path, "a1,US-AA,,,50,300000,\na2,US-AA,,,50,200000,\nb1,US-BB,,,300,900000,\n")
    s = scenario([cluster("k1", 45, indivisible=True), cluster("k2", 30), cluster("k3", 35, indivisible=True)], sites=sites)
    _, model = planner.build(s, t)
    assert model.is_mip
    a, b = solve_model(model, "highs"), solve_model(model, "cbc")
    assert a.status == b.status == "optimal"
    assert a.objective_usd == pytest.approx(b.objective_usd, rel=1e-7)


def test_sites_without_fixed_cost_keep_the_model_an_lp(tmp_path):
    t = two_regions()
    sites = write_sites(tmp_path, "a1,US-AA,,,800,0,\nb1,US-BB,,,800,0,\n")
    _, model = planner.build(scenario([cluster("k", 100)], sites=sites), t)
    assert not model.is_mip
    assert model.blocks["site_link"].stop - model.blocks["site_link"].start == 0


def test_indivisible_cluster_larger_than_every_site_is_explained(tmp_path):
    t = two_regions(h_a=1000)
    sites = write_sites(tmp_path, "a1,US-AA,,,80,0,\nb1,US-BB,,,90,0,\n")
    r = planner.solve(scenario([cluster("k", 100, indivisible=True)], sites=sites), tables=t)
    reason = r.unserved.set_index("cluster_id").loc["k", "reason"]
    assert "Indivisible, and its 100 MW of grid load is more than the capacity of every candidate site (largest 90 MW)" in reason


def test_site_region_from_a_spatial_join(tmp_path):
    """Sites given by coordinates get their region from the bundled geometries."""
    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    sites = tmp_path / "sites.csv"
    # Richmond VA, Dallas TX, Zhongwei (Ningxia)
    sites.write_text(
        "site_id,lon,lat,capacity_mw,fixed_cost_usd\n"
        "richmond,-77.44,37.54,3000,0\ndallas,-96.80,32.78,30000,0\nzhongwei,105.19,37.51,30000,0\n"
    )
    inputs, _ = planner.build(s.with_overrides([f"sites={sites}"]))
    assert inputs.sites.set_index("site_id")["region_id"].to_dict() == {"richmond": "US-VA", "dallas": "US-TX-ERCOT", "zhongwei": "CN-NX"}
    sites.write_text("site_id,lon,lat,capacity_mw,fixed_cost_usd\nok,-77.44,37.54,10,0\natlantis,-40.0,30.0,10,0\n")
    with pytest.raises(DataError, match=r"rows atlantis: the site falls in no region"):
        planner.build(s.with_overrides([f"sites={sites}"]))


def test_pair_costs_that_match_nothing_are_an_error(tmp_path):
    t = two_regions()
    costs = tmp_path / "pc.csv"
    costs.write_text("cluster_id,region_id,cost_usd\nk,US-XX,5\n")
    with pytest.raises(DataError, match=r"pc.csv: column 'region_id', rows k\|US-XX: not a region id"):
        planner.build(scenario([cluster("k", 10)], pair_costs=str(costs)), t)
    costs.write_text("cluster_id,region_id,cost_usd\nnobody,US-AA,5\n")
    with pytest.raises(DataError, match="not a cluster of the scenario"):
        planner.build(scenario([cluster("k", 10)], pair_costs=str(costs)), t)

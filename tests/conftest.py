"""Shared test helpers: tiny hand-made tables and scenarios.

Tiny cases are built from small tables (not the bundled data) so that their
optima can be worked out on paper. They still go through the real schema
checks, the real model builder and the real solver.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

from planner.data.load import Tables, check_table
from planner.data.schemas import GRID_REGIONS, MORATORIA, PARAMETERS, REGIONS
from planner.scenario import Scenario

# hypothesis profiles: CI runs a few hundred fuzz cases; `--hypothesis-profile=long` runs 10,000
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True)  # the same cases every CI run
settings.register_profile("long", max_examples=10_000, deadline=None)
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

BASE_PARAMS = {
    "cny_per_usd": 7.0,
    "cn_td_adder_usd_per_mwh": 0.0,
    "cn_surcharge_usd_per_mwh": 0.0,
    "pue_cool": 1.0,
    "pue_temperate": 1.2,
    "pue_hot": 1.4,
    "capex_usd_per_mw_us": 1e6,
    "capex_usd_per_mw_cn": 1e6,
    "asset_life_years": 10,
    "fibre_km_per_ms": 200.0,
    "route_factor": 1.0,
    "unserved_penalty_usd_per_mwh": 1000.0,
    # expansion off unless a test enables it
    "expansion_cost_usd_per_kw_us": 1000.0,
    "expansion_lead_time_years_us": 0,
    "expansion_max_mw_per_year_us": 0.0,
    "expansion_cost_usd_per_kw_cn": 1000.0,
    "expansion_lead_time_years_cn": 0,
    "expansion_max_mw_per_year_cn": 0.0,
}


def region(rid: str, grid: str, price: float, country: str = "US", lon: float = 0.0, lat: float = 0.0, **kw) -> dict:
    row = {
        "region_id": rid,
        "name": rid,
        "country": country,
        "grid_region_id": grid,
        "lon": lon,
        "lat": lat,
        "point_source": "test",
        "price_usd_per_mwh": price,
        "price_year": 2023,
        "price_basis": "retail_industrial",
        "price_source": "test",
        "co2_tco2_per_mwh": 0.5,
        "co2_year": 2024,
        "co2_source": "test",
        "climate_class": "cool",
        "climate_source": "test",
        "capex_index": 1.0,
        "capex_source": "test",
        "dc_share_of_electricity_pct": "",
        "dc_share_source": "not reported",
        "annual_demand_mwh": 1e7,
        "demand_source": "test",
        "max_new_load_mw": "",
        "max_new_load_source": "",
    }
    row.update(kw)
    return row


def grid(gid: str, firm: float, h025: float | None = None, h05: float | None = None, h1: float | None = None, country: str = "US") -> dict:
    h025 = firm if h025 is None else h025
    h05 = h025 if h05 is None else h05
    h1 = h05 if h1 is None else h1
    return {
        "grid_region_id": gid,
        "name": gid,
        "country": country,
        "member_bas": gid,
        "firm_headroom_mw": firm,
        "headroom_0p25pct_mw": h025,
        "headroom_0p5pct_mw": h05,
        "headroom_1pct_mw": h1,
        "firm_source": "test",
        "headroom_source": "test",
    }


def moratorium(mid: str, rid: str, start: int, end: int, status: str = "enacted") -> dict:
    return {
        "moratorium_id": mid,
        "region_id": rid,
        "scope": "state",
        "jurisdiction": "test",
        "kind": "moratorium",
        "status": status,
        "from_year": start,
        "until_year": end,
        "window_note": "",
        "source": "test",
    }


def make_tables(regions: list[dict], grids: list[dict], moratoria: list[dict] | None = None, **params) -> Tables:
    p = {**BASE_PARAMS, **params}
    prm = pd.DataFrame({"parameter": list(p), "value": list(p.values()), "unit": "-", "source": "test"})
    mor = pd.DataFrame(moratoria or [moratorium("none", regions[0]["region_id"], 1990 + 20, 2000 + 10, "lifted")])
    frames = {
        "regions": check_table(pd.DataFrame(regions).astype(str), REGIONS, "regions"),
        "grid_regions": check_table(pd.DataFrame(grids).astype(str), GRID_REGIONS, "grid_regions"),
        "moratoria": check_table(mor.astype(str), MORATORIA, "moratoria"),
        "parameters": check_table(prm.astype(str), PARAMETERS, "parameters"),
    }
    return Tables(**frames, files={k: f"<test {k}>" for k in frames}, sha256={k: "0" * 64 for k in frames})


def scenario(clusters: list[dict], first: int = 2030, last: int = 2030, **kw) -> Scenario:
    raw = {"name": "tiny", "horizon": {"first_year": first, "last_year": last}, "discount_rate": 0.0, "clusters": clusters}
    raw.update(kw)
    return Scenario.model_validate(raw)


def cluster(cid: str, mw: float, year: int = 2030, **kw) -> dict:
    return {"id": cid, "home_country": "US", "it_load_mw": mw, "online_year": year, "utilisation": 1.0, **kw}


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch):
    monkeypatch.delenv("PLANNER_DEBUG", raising=False)
    yield


def placed(result, cluster_id: str) -> dict[str, float]:
    """{region: share} for one cluster."""
    p = result.placements[result.placements["cluster_id"] == cluster_id]
    return {r: round(float(s), 9) for r, s in zip(p["region_id"], p["share"])}


HOURS = 8760.0
__all__ = ["np", "os"]

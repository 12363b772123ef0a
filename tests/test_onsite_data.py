"""Structural checks of the issue-11 datasets: on-site generation and time to power.

The files are read with the standard library only, so a broken file fails here before the loader sees it:
coverage of every zone state and grid region, numeric ranges, the emissions arithmetic and the source rules
of datasets/SOURCES.md (every figure sourced; no citation of files outside the repository).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "datasets"
EF_TCO2_PER_MMBTU = 0.05306  # EPA 40 CFR 98 Table C-1, natural gas

TECH_COLS = ["technology_id", "name", "fuel", "countries", "capex_usd_per_kw", "cost_year",
             "fixed_om_usd_per_kw_yr", "variable_om_usd_per_mwh", "heat_rate_mmbtu_per_mwh", "availability",
             "emissions_tco2_per_mwh", "lead_time_years", "first_year_available", "cost_source",
             "performance_source", "availability_source", "lead_time_source"]
FILES = {
    "onsite_technologies.csv": TECH_COLS,
    "onsite_cost_multipliers.csv": ["state_id", "multiplier", "source"],
    "fuel_prices.csv": ["state_id", "fuel", "price_usd_per_mmbtu", "year", "price_kind", "source"],
    "grid_connection_lead_times.csv": ["grid_region_id", "connection_lead_years", "source"],
}
SOURCE_COLS = {
    "onsite_technologies.csv": ["cost_source", "performance_source", "availability_source", "lead_time_source"],
    "onsite_cost_multipliers.csv": ["source"],
    "fuel_prices.csv": ["source"],
    "grid_connection_lead_times.csv": ["source"],
}


def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(DATA / name, newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames or []), list(r)


def zone_states() -> set[str]:
    return {r["state_id"] for r in read("regions.csv")[1]}


def grid_ids() -> set[str]:
    return {r["grid_region_id"] for r in read("grid_regions.csv")[1]}


@pytest.mark.parametrize("name", sorted(FILES))
def test_columns_exact(name):
    cols, rows = read(name)
    assert cols == FILES[name]
    assert rows, f"{name} has no rows"


def test_every_zone_state_has_one_multiplier():
    rows = read("onsite_cost_multipliers.csv")[1]
    ids = [r["state_id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate state_id"
    assert set(ids) == zone_states()
    for r in rows:
        m = float(r["multiplier"])
        assert 0.5 <= m <= 2.0, r


def test_every_zone_state_has_one_gas_price():
    rows = [r for r in read("fuel_prices.csv")[1] if r["fuel"] == "gas"]
    ids = [r["state_id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate gas price for a state"
    assert set(ids) == zone_states()
    for r in rows:
        assert 0.5 <= float(r["price_usd_per_mmbtu"]) <= 40, r
        assert re.fullmatch(r"(19|20)\d\d", r["year"]), r
        assert r["price_kind"] in ("industrial", "electric_power"), r


def test_every_grid_region_has_one_lead_time():
    rows = read("grid_connection_lead_times.csv")[1]
    ids = [r["grid_region_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) == grid_ids()
    for r in rows:
        assert re.fullmatch(r"\d+", r["connection_lead_years"]), r  # integer years
        assert 0 <= int(r["connection_lead_years"]) <= 15, r


def test_technologies_ranges_and_ids():
    rows = read("onsite_technologies.csv")[1]
    ids = [r["technology_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert {"gas_ct_aero", "gas_recip", "fuel_cell", "gas_cc_ccs"} <= set(ids)
    for r in rows:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", r["technology_id"]), r["technology_id"]
        assert r["fuel"] == "gas"
        assert set(r["countries"].split(";")) <= {"US", "CN"} and "US" in r["countries"].split(";")
        assert float(r["capex_usd_per_kw"]) > 0
        assert float(r["fixed_om_usd_per_kw_yr"]) >= 0 and float(r["variable_om_usd_per_mwh"]) >= 0
        assert 6 <= float(r["heat_rate_mmbtu_per_mwh"]) <= 13, r["technology_id"]
        assert 0 < float(r["availability"]) <= 1, r["technology_id"]
        assert 0 < float(r["lead_time_years"]) <= 15
        for c in ("cost_year", "first_year_available"):
            assert re.fullmatch(r"20\d\d", r[c]), (r["technology_id"], c)


def test_emissions_follow_heat_rate_and_capture():
    for r in read("onsite_technologies.csv")[1]:
        m = re.search(r"\(1 - capture ([0-9.]+)\)", r["performance_source"])
        assert m, f"{r['technology_id']}: performance_source must state the capture rate as '(1 - capture x)'"
        cap = float(m.group(1))
        assert 0 <= cap < 1
        want = float(r["heat_rate_mmbtu_per_mwh"]) * EF_TCO2_PER_MMBTU * (1 - cap)
        assert abs(float(r["emissions_tco2_per_mwh"]) - want) <= 1e-3, r["technology_id"]
    ccs = [r for r in read("onsite_technologies.csv")[1] if r["technology_id"] == "gas_cc_ccs"]
    assert float(ccs[0]["emissions_tco2_per_mwh"]) < 0.1  # capture applied


@pytest.mark.parametrize("name", sorted(FILES))
def test_sources_present_and_well_formed(name):
    rows = read(name)[1]
    for r in rows:
        for c in SOURCE_COLS[name]:
            s = r[c].strip()
            assert s, f"{name}: empty {c}"
            kind_ok = (s.startswith(("derived:", "assumption:"))
                       or (s[0].isupper() and re.search(r"\b(19|20)\d\d\b", s)))  # a named publication with a year
            assert kind_ok, f"{name} {c}: {s[:60]!r}"
            assert "../shared" not in s and "shared/reference" not in s, f"{name} {c} cites a file outside the repo"

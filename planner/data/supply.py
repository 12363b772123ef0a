"""Supply options beside the grid (issue 11): on-site generation and grid connection lead times.

Reads and checks the four supply tables (bundled in ``datasets/`` or given in
the scenario's ``datasets:``) and turns them into what the model needs:

* :func:`onsite_options`: one row per (zone, technology) a scenario allows,
  with the zone's capital cost (technology capex x the state's regional
  multiplier), fuel price, availability, emissions and the first year the
  plant can run;
* :func:`connection_lead_years`: the years from a large load's request to
  energisation, per grid region.

The tables are read only when a scenario enables ``onsite`` or
``time_to_power``, so 0.1.0 scenarios and user datasets need none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.data.load import read_tables
from planner.data.schemas import SUPPLY_SCHEMAS
from planner.errors import DataError, ScenarioError

#: Columns of :func:`onsite_options`, the model's input.
ONSITE_COLUMNS = (
    "region_id", "state_id", "country", "grid_region_id", "technology_id", "capex_usd_per_kw",
    "fixed_om_usd_per_kw_yr", "variable_om_usd_per_mwh", "heat_rate_mmbtu_per_mwh", "fuel_price_usd_per_mmbtu",
    "availability", "emissions_tco2_per_mwh", "first_year", "max_mw",
)


@dataclass(frozen=True)
class SupplyTables:
    """The supply tables, checked, plus where each came from."""

    onsite_technologies: pd.DataFrame
    onsite_cost_multipliers: pd.DataFrame
    fuel_prices: pd.DataFrame
    grid_connection_lead_times: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)


def load_supply_tables(paths: dict[str, Path] | None = None, names: tuple[str, ...] | None = None) -> SupplyTables:
    """Read the supply tables (*names*, default all four; the others are empty); *paths* maps a name to a user file."""
    wanted = names or tuple(SUPPLY_SCHEMAS)
    frames, files, digests = read_tables({n: sc for n, sc in SUPPLY_SCHEMAS.items() if n in wanted}, paths)
    for name, schema in SUPPLY_SCHEMAS.items():  # the tables not asked for are empty
        frames.setdefault(name, pd.DataFrame(columns=schema.names))
    return SupplyTables(**frames, files=files, sha256=digests)


def connection_lead_years(tables: SupplyTables, grids: pd.DataFrame) -> pd.Series:
    """Connection lead time (years, int) of every grid region of *grids*; a missing one is a DataError."""
    lead = tables.grid_connection_lead_times
    missing = grids.index.difference(lead.index)
    if len(missing):
        raise DataError(tables.files.get("grid_connection_lead_times", "grid_connection_lead_times.csv"),
                        "grid_region_id", sorted(missing), "a connection lead time for every grid region")
    return lead.loc[grids.index, "connection_lead_years"].astype(int)


def onsite_options(scenario, tables: SupplyTables, regions: pd.DataFrame, zones_of: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (zone, technology) the scenario allows, canonical order (zone, technology).

    ``capex_usd_per_kw`` includes the state's multiplier; ``first_year`` is the
    later of the horizon's first year plus the technology's lead time and its
    ``first_year_available``; ``max_mw`` is the scenario's cap for the zone
    (a state's cap is shared by its zones in proportion to ``zone_share_of_state``), or inf.
    """
    src = scenario.source
    first, last = scenario.horizon.first_year, scenario.horizon.last_year
    tech = tables.onsite_technologies
    chosen = list(scenario.onsite.technologies) if scenario.onsite.technologies is not None else list(tech.index)
    for i, t in enumerate(chosen):
        if t not in tech.index:
            raise ScenarioError(src, f"onsite.technologies[{i}]", t, "a technology_id of onsite_technologies.csv: "
                                + ", ".join(sorted(tech.index)))
        start = max(first + int(tech.loc[t, "lead_time_years"]), int(tech.loc[t, "first_year_available"]))
        if scenario.onsite.technologies is not None and start > last:
            raise ScenarioError(src, f"onsite.technologies[{i}]", t,
                                f"a technology that can run inside the horizon {first}-{last} (lead time "
                                f"{int(tech.loc[t, 'lead_time_years'])} years, available from "
                                f"{int(tech.loc[t, 'first_year_available'])}: first power {start})")
    for key in scenario.onsite.max_mw:
        if key not in regions.index and key not in zones_of:
            raise ScenarioError(src, f"onsite.max_mw.{key}", key, "a region or state id such as US-VA or CN-GS")
    states = regions["state_id"]
    for name, label in (("onsite_cost_multipliers", "multiplier"), ("fuel_prices", "gas price")):
        missing = pd.Index(states.unique()).difference(getattr(tables, name).index)
        if len(missing):
            raise DataError(tables.files.get(name, name + ".csv"), "state_id", sorted(missing),
                            f"a {label} for every state or province of regions.csv")

    rows = []
    for t in sorted(chosen):
        spec = tech.loc[t]
        countries = set(str(spec["countries"]).split(";"))
        zones = regions[regions["country"].isin(countries)]
        if not len(zones):
            continue
        start = max(first + int(spec["lead_time_years"]), int(spec["first_year_available"]))
        mult = tables.onsite_cost_multipliers.loc[zones["state_id"], "multiplier"].to_numpy(dtype=float)
        fuel = tables.fuel_prices.loc[zones["state_id"], "price_usd_per_mmbtu"].to_numpy(dtype=float) * scenario.onsite.fuel_price_scale
        rows.append(pd.DataFrame({
            "region_id": zones.index.to_numpy(),
            "state_id": zones["state_id"].to_numpy(),
            "country": zones["country"].to_numpy(),
            "grid_region_id": zones["grid_region_id"].to_numpy(),
            "technology_id": t,
            "capex_usd_per_kw": float(spec["capex_usd_per_kw"]) * mult,
            "fixed_om_usd_per_kw_yr": float(spec["fixed_om_usd_per_kw_yr"]),
            "variable_om_usd_per_mwh": float(spec["variable_om_usd_per_mwh"]),
            "heat_rate_mmbtu_per_mwh": float(spec["heat_rate_mmbtu_per_mwh"]),
            "fuel_price_usd_per_mmbtu": fuel,
            "availability": float(spec["availability"]),
            "emissions_tco2_per_mwh": float(spec["emissions_tco2_per_mwh"]),
            "first_year": start,
            "max_mw": _zone_caps(scenario.onsite.max_mw, zones, zones_of),
        }))
    if not rows:
        return pd.DataFrame(columns=list(ONSITE_COLUMNS))
    out = pd.concat(rows, ignore_index=True)
    out = out[out["first_year"] <= last]
    return out.sort_values(["region_id", "technology_id"]).reset_index(drop=True)[list(ONSITE_COLUMNS)]


def _zone_caps(caps: dict[str, float], zones: pd.DataFrame, zones_of: dict[str, list[str]]) -> np.ndarray:
    """The scenario's on-site cap of each zone (MW): its own, else its state's times its share; inf where none."""
    out = np.full(len(zones), np.inf)
    for i, (zid, state, share) in enumerate(zip(zones.index, zones["state_id"], zones["zone_share_of_state"])):
        if zid in caps:
            out[i] = caps[zid]
        elif state in caps:
            out[i] = caps[state] * (float(share) if zid != state else 1.0)
    return out

"""Solution -> who powers each cluster, year by year: the grid or a plant on site; and what waiting cost.

The model decides on-site supply per zone, year and curtailment level
(``w[r, t, a]``, ``planner/model/onsite.py``), not per cluster: every cluster
of a zone and level is one load to the grid. ``supply.csv`` shares it out:

* a cluster's on-site MW in year t is its grid draw times the zone's on-site
  share at its level, ``w[r,t,a] / sum_{o<=t} z[r,o,a]`` (the same share for
  every cluster of that zone and level);
* its on-site energy is the zone's on-site generation times its share of the
  zone's load energy; fuel, emissions and MW by technology follow each
  technology's share of the zone's generation (MW: of its firm capacity).

The zone totals are the model's own; the split among a zone's clusters is
this rule, not a choice of the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.fastindex import sorted_by
from planner.inputs import Inputs
from planner.model.core import Model
from planner.model.objective import HOURS_PER_YEAR
from planner.scenario import CURTAILMENT_LEVELS_PCT

TOL = 1e-7


def _clean(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float).copy()
    a[np.abs(a) < TOL] = 0.0
    return a


def onsite_by_zone(inputs: Inputs, model: Model, v: np.ndarray) -> pd.DataFrame:
    """One row per (zone, year, technology) with on-site plant: nameplate_mw, firm_mw, generation_mwh, fuel_usd,
    emissions_tco2; and the zone-year's served_mw (w summed over levels) on every row of that zone-year."""
    cols = model.columns
    cols_out = ["region_id", "year", "technology_id", "nameplate_mw", "firm_mw", "generation_mwh", "fuel_usd",
                "emissions_tco2", "served_mw"]
    if not cols.n_onsite or not len(cols.build):
        return pd.DataFrame(columns=cols_out)
    opts = inputs.onsite[inputs.onsite["region_id"].isin(cols.zone_ids)].reset_index(drop=True)
    years = inputs.years
    b = cols.build
    nopt = len(opts)
    # nameplate online by year per option: cumulative builds; generation per option and year
    name = np.zeros((nopt, len(years)))
    np.add.at(name, (b["option"].to_numpy(), b["year"].to_numpy() - years[0]), _clean(v[cols.build_slice]))
    name = np.cumsum(name, axis=1)
    avg = np.zeros((nopt, len(years)))
    g = cols.gen
    np.add.at(avg, (g["option"].to_numpy(), g["year"].to_numpy() - years[0]), _clean(v[cols.gen_slice]))
    oi, ti = np.nonzero((name > TOL) | (avg > TOL))
    mwh = avg[oi, ti] * HOURS_PER_YEAR
    o = opts.iloc[oi]
    out = pd.DataFrame({
        "region_id": o["region_id"].to_numpy(), "year": years[ti].astype(int), "technology_id": o["technology_id"].to_numpy(),
        "nameplate_mw": name[oi, ti], "firm_mw": name[oi, ti] * o["availability"].to_numpy(dtype=float),
        "generation_mwh": mwh,
        "fuel_usd": mwh * o["heat_rate_mmbtu_per_mwh"].to_numpy(dtype=float) * o["fuel_price_usd_per_mmbtu"].to_numpy(dtype=float),
        "emissions_tco2": mwh * o["emissions_tco2_per_mwh"].to_numpy(dtype=float),
    })
    w = cols.serve.assign(mw=_clean(v[cols.w_slice])).groupby(["region_id", "year"])["mw"].sum()
    out["served_mw"] = w.reindex(pd.MultiIndex.from_frame(out[["region_id", "year"]])).fillna(0.0).to_numpy()
    return out[cols_out].sort_values(["region_id", "year", "technology_id"]).reset_index(drop=True)


def served_by_grid_level(model: Model, v: np.ndarray, grid_ids: pd.Index, years: np.ndarray) -> np.ndarray:
    """MW served on site, by grid region, year and curtailment level: shape (grids, years, levels)."""
    cols = model.columns
    out = np.zeros((len(grid_ids), len(years), len(CURTAILMENT_LEVELS_PCT)))
    if len(cols.serve):
        s = cols.serve
        np.add.at(out, (grid_ids.get_indexer(s["grid_region_id"]), s["year"].to_numpy() - years[0], s["level_pos"].to_numpy()),
                  _clean(v[cols.w_slice]))
    return out


def supply_table(inputs: Inputs, model: Model, v: np.ndarray, x: np.ndarray) -> pd.DataFrame:
    """Per cluster, place and year online: grid_mw, onsite_mw (and by technology), energies, fuel, emissions."""
    cols = model.columns
    p = cols.pairs
    on = np.flatnonzero(x > 0)
    years = inputs.years
    base = ["cluster_id", "region_id", "site_id", "year", "online_year", "grid_mw", "onsite_mw", "grid_energy_mwh",
            "onsite_energy_mwh", "onsite_fuel_usd", "onsite_emissions_tco2"]
    if not len(on):
        return pd.DataFrame(columns=base)
    online = p["online_year"].to_numpy()
    counts = years[-1] - online[on] + 1  # each placement is online from its year to the horizon's end
    rep = np.repeat(on, counts)
    year = online[rep] + np.arange(len(rep)) - np.repeat(np.cumsum(counts) - counts, counts)
    draw = (p["it_load_mw"] * p["pue"]).to_numpy()[rep] * x[rep]
    energy_avg = draw * p["utilisation"].to_numpy()[rep]
    level = np.searchsorted(CURTAILMENT_LEVELS_PCT, p["curtailment_pct"].to_numpy()[rep])
    # the few placed pairs' ids, not 0.8 M strings turned into Python objects
    df = pd.DataFrame({"cluster_id": p["cluster_id"].take(rep).to_numpy(), "region_id": p["region_id"].take(rep).to_numpy(),
                       "site_id": p["site_id"].take(rep).to_numpy(), "year": year.astype(int),
                       "online_year": p["online_year"].to_numpy()[rep].astype(int), "draw": draw, "energy_avg": energy_avg,
                       "level_pos": level})
    df["onsite_mw"] = 0.0
    df["onsite_energy_mwh"] = 0.0
    df["onsite_fuel_usd"] = 0.0
    df["onsite_emissions_tco2"] = 0.0
    zone = onsite_by_zone(inputs, model, v)
    tech_cols: list[str] = []
    if len(cols.serve) and len(zone):
        w = cols.serve.assign(w=_clean(v[cols.w_slice]))
        load = df.groupby(["region_id", "year", "level_pos"])["draw"].transform("sum")
        key = pd.MultiIndex.from_frame(df[["region_id", "year", "level_pos"]])
        served = w.set_index(["region_id", "year", "level_pos"])["w"].reindex(key).fillna(0.0).to_numpy()
        df["onsite_mw"] = np.where(load > 0, df["draw"] * served / np.where(load > 0, load, 1.0), 0.0)
        zy = pd.MultiIndex.from_frame(df[["region_id", "year"]])
        tot = zone.groupby(["region_id", "year"])[["generation_mwh", "fuel_usd", "emissions_tco2", "firm_mw"]].sum()
        e_zone = df.groupby(["region_id", "year"])["energy_avg"].transform("sum")
        frac = np.where(e_zone > 0, df["energy_avg"] / np.where(e_zone > 0, e_zone, 1.0), 0.0)
        for src, dst in (("generation_mwh", "onsite_energy_mwh"), ("fuel_usd", "onsite_fuel_usd"),
                         ("emissions_tco2", "onsite_emissions_tco2")):
            df[dst] = frac * tot[src].reindex(zy).fillna(0.0).to_numpy()
        firm = zone.pivot_table(index=["region_id", "year"], columns="technology_id", values="firm_mw", aggfunc="sum", fill_value=0.0)
        share = firm.div(firm.sum(axis=1).where(firm.sum(axis=1) > 0, 1.0), axis=0).reindex(zy).fillna(0.0)
        for j in firm.columns:
            name = f"onsite_mw_{j}"
            df[name] = df["onsite_mw"].to_numpy() * share[j].to_numpy()
            tech_cols.append(name)
    df["grid_mw"] = df["draw"] - df["onsite_mw"]
    df["grid_energy_mwh"] = np.maximum(df["energy_avg"] * HOURS_PER_YEAR - df["onsite_energy_mwh"], 0.0)
    out = df[base[:7] + tech_cols + base[7:]]
    for c in ["grid_mw", "onsite_mw", *tech_cols, "grid_energy_mwh", "onsite_energy_mwh", "onsite_fuel_usd", "onsite_emissions_tco2"]:
        out[c] = _clean(out[c].to_numpy())
    keys = ["cluster_id", "region_id", "site_id", "online_year"]
    # the model's pairs are in this order (planner.model.core.Columns) and each pair's years ascending: with
    # no two pairs alike on the keys, that is the order the sort would give
    if sorted_by(p[keys].iloc[on], keys, strict=True):
        return out.reset_index(drop=True)
    return out.sort_values(["cluster_id", "region_id", "site_id", "online_year", "year"]).reset_index(drop=True)


def onsite_summary(inputs: Inputs, model: Model, v: np.ndarray, parts: dict[str, float]) -> dict | None:
    """Totals of on-site power for summary.json (None when the scenario has none)."""
    if not inputs.scenario.onsite.enabled:
        return None
    zone = onsite_by_zone(inputs, model, v)
    years = [int(t) for t in inputs.years]
    served = zone.drop_duplicates(["region_id", "year"]).groupby("year")["served_mw"].sum() if len(zone) else pd.Series(dtype=float)
    last = zone[zone["year"] == years[-1]]
    names = ("onsite_capital", "onsite_om", "onsite_fuel", "onsite_carbon", "grid_energy_displaced")
    return {
        "onsite_mw": float(served.max()) if len(served) else 0.0,
        "onsite_mw_by_year": {str(t): round(float(served.get(t, 0.0)), 3) for t in years},
        "onsite_nameplate_mw": float(zone.groupby(["region_id", "technology_id"])["nameplate_mw"].max().sum()) if len(zone) else 0.0,
        "onsite_nameplate_mw_by_technology": {str(j): round(float(m), 3) for j, m in
                                               zone.groupby(["region_id", "technology_id"])["nameplate_mw"].max()
                                               .groupby(level=1).sum().items()} if len(zone) else {},
        "onsite_generation_mwh": float(zone["generation_mwh"].sum()) if len(zone) else 0.0,
        "onsite_emissions_tco2": float(zone["emissions_tco2"].sum()) if len(zone) else 0.0,
        "zones_last_year": sorted(last.loc[last["served_mw"] > TOL, "region_id"].unique().tolist()),
        "onsite_cost_usd": float(sum(parts.get(n, 0.0) for n in names)),
        "technologies_allowed": sorted(inputs.onsite["technology_id"].unique().tolist()) if len(inputs.onsite) else [],
    }


def time_to_power_summary(inputs: Inputs, placements: pd.DataFrame, parts: dict[str, float]) -> dict | None:
    """Delay totals for summary.json (None when the scenario does not model time to power)."""
    if not inputs.scenario.time_to_power.enabled:
        return None
    late = placements[placements["delay_years"] > 0]
    by_cluster = {str(k): {"it_mw": round(float(g["it_load_mw"].sum()), 3),
                           "online_years": sorted(int(y) for y in g["online_year"].unique())}
                  for k, g in late.groupby("cluster_id")}
    return {
        "delay_cost_usd_per_mw_yr": inputs.delay_cost_usd_per_mw_yr,
        "max_delay_years": inputs.scenario.time_to_power.max_delay_years,
        "delay_cluster_mw_years": float((late["it_load_mw"] * late["delay_years"]).sum()),
        "delay_cost_usd": float(parts.get("delay", 0.0)),
        "curtailment_cost_usd": float(parts.get("curtailment", 0.0)),
        "delayed_clusters": by_cluster,
        "connection_lead_years": {str(g): int(y) for g, y in inputs.grid_regions["expansion_lead_time_years"].items()},
    }

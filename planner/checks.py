"""Values that are valid but suspicious: warnings, not silence and not errors.

Each check returns plain sentences with the numbers in them, e.g. "total
planned load 48.2 GW exceeds the 31.5 GW of headroom ...". The CLI prints them
on stderr and ``summary.json`` records them.
"""

from __future__ import annotations

import numpy as np

from planner.inputs import Inputs


def warnings_for(inputs: Inputs) -> list[str]:
    """All warnings for *inputs*, in a stable order."""
    return _price_outliers(inputs) + _load_vs_headroom(inputs) + _cluster_vs_grid(inputs)


def _price_outliers(inputs: Inputs) -> list[str]:
    out = []
    r = inputs.regions
    for country, grp in r.groupby("country", sort=True):
        median = grp["industrial_price_usd_per_mwh"].median()
        for rid, price in grp["industrial_price_usd_per_mwh"].items():
            if price > 10 * median or price < median / 10:
                out.append(
                    f"{rid}: price {price:,.1f} USD/MWh is more than 10x away from the {country} median "
                    f"({median:,.1f}); was a value given in cents or per kWh?"
                )
    return out


def _load_vs_headroom(inputs: Inputs) -> list[str]:
    out = []
    cl, g = inputs.clusters, inputs.grid_regions
    years = len(inputs.years)
    for country in ("US", "CN"):
        may = cl["allowed_countries"].str.split(";").map(lambda xs, c=country: c in xs)
        if not may.any():
            continue
        planned = float((cl.loc[may, "it_load_mw"]).sum()) * float(inputs.regions["pue"].min())
        grids = g[g["country"] == country]
        room = float(grids["headroom_1pct_mw"].sum() + (grids["expansion_max_mw_per_year"] * years).sum())
        if planned > room:
            out.append(
                f"total planned load {planned / 1000:,.1f} GW that may go to {country} exceeds the "
                f"{room / 1000:,.1f} GW of headroom and possible expansion there; expect unserved clusters"
            )
    return out


def _cluster_vs_grid(inputs: Inputs) -> list[str]:
    out: list[str] = []
    pairs = inputs.pairs
    if pairs.empty:
        return out
    avg_load = inputs.regions.groupby("grid_region_id")["annual_demand_mwh"].sum() / 8760.0
    biggest = pairs.assign(avg=pairs["grid_region_id"].map(avg_load)).groupby("cluster_id")["avg"].max()
    draw = (inputs.clusters["it_load_mw"] * inputs.regions["pue"].min()).reindex(biggest.index)
    for k in biggest.index[np.asarray(draw > biggest)]:
        out.append(
            f"cluster {k}: {draw[k]:,.0f} MW is more than the average load of every grid region it may use "
            f"(largest {biggest[k]:,.0f} MW)"
        )
    return out


__all__ = ["warnings_for"]

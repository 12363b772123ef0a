"""Values that are valid but suspicious: warnings, not silence and not errors.

Each check returns plain sentences with the numbers in them, e.g. "total
planned load 48.2 GW exceeds the 31.5 GW of headroom ...". The CLI prints them
on stderr and ``summary.json`` records them.
"""

from __future__ import annotations

import numpy as np

from planner.fastindex import positions
from planner.inputs import Inputs


def warnings_for(inputs: Inputs) -> list[str]:
    """All warnings for *inputs*, in a stable order."""
    return _price_outliers(inputs) + _load_vs_headroom(inputs) + _cluster_vs_grid(inputs) + _sites_without_points(inputs)


def _sites_without_points(inputs: Inputs) -> list[str]:
    """Sites given by region alone in a study with latency limits: how far off their point can be."""
    s = inputs.sites
    if s.empty or "has_coordinates" not in s.columns or bool(s["has_coordinates"].all()):
        return []
    if "max_rtt_ms" not in inputs.clusters.columns or bool(inputs.clusters["max_rtt_ms"].isna().all()):
        return []
    parts = []
    for sid, row in s[~s["has_coordinates"].astype(bool)].iterrows():
        err = region_point_error_km(str(row["region_id"]), float(row["lon"]), float(row["lat"]))
        far = f"a place in it can be {err:,.0f} km from that point" if np.isfinite(err) else "no geometry to bound the error"
        parts.append(f"{row['site_id']} ({row['region_id']}: {far})")
    return [
        f"{len(parts)} site(s) have no lon/lat and sit at their region's point, from which latency to user hubs is "
        f"measured: {'; '.join(parts)}. Give each site's lon and lat for a latency study."
    ]


def region_point_error_km(region_id: str, lon: float, lat: float) -> float:
    """Greatest great-circle distance (km) from (lon, lat) to the boundary of *region_id* (NaN without geometry)."""
    import shapely

    from planner.data.geometry import load_geometries
    from planner.inputs import great_circle_km

    shapes = load_geometries().set_index("region_id")
    if region_id not in shapes.index:
        return float("nan")
    xy = shapely.get_coordinates(shapes.at[region_id, "geometry"])
    return float(np.max(great_circle_km(lon, lat, xy[:, 0], xy[:, 1])))


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
    g = positions(avg_load.index, pairs["grid_region_id"])  # Series.map on 0.8 M Arrow strings: ~0.3 s
    avg = np.where(g >= 0, avg_load.to_numpy(dtype=float)[g], np.nan)
    biggest = pairs.assign(avg=avg).groupby("cluster_id")["avg"].max()
    draw = (inputs.clusters["it_load_mw"] * inputs.regions["pue"].min()).reindex(biggest.index)
    for k in biggest.index[np.asarray(draw > biggest)]:
        out.append(
            f"cluster {k}: {draw[k]:,.0f} MW is more than the average load of every grid region it may use "
            f"(largest {biggest[k]:,.0f} MW)"
        )
    return out


__all__ = ["warnings_for"]

"""Candidate sites and pair costs: user-supplied tables for site-level studies.

Sites come as CSV or as a GeoPackage with point geometries. Each site gets its
region from ``region_id`` when given, else from a spatial join of its point with
the region geometries (``planner.data.geometry``); a site that falls in no
region is an error naming it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner.data.load import check_table, read_csv_text
from planner.data.schemas import PAIR_COSTS, SITES
from planner.errors import DataError, is_file


def read_sites(path: Path, regions: pd.DataFrame) -> pd.DataFrame:
    """Read, check and locate the candidate sites in *path* (CSV or .gpkg)."""
    label = str(path)
    if not is_file(path):
        raise DataError(label, "-", "-", "file not found")
    raw = _read_geo(path) if path.suffix.lower() in (".gpkg", ".geojson", ".parquet") else read_csv_text(path)
    for col in ("region_id", "lon", "lat", "lead_time_years"):
        if col not in raw.columns:
            raw[col] = ""
    sites = check_table(raw, SITES, label)
    sites["lead_time_years"] = sites["lead_time_years"].fillna(0.0)
    return locate_sites(sites, regions, label)


def _read_geo(path: Path) -> pd.DataFrame:
    import geopandas as gpd

    try:
        gdf = gpd.read_parquet(path) if path.suffix.lower() == ".parquet" else gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file, reported in one line
        raise DataError(str(path), "-", "-", f"not a readable GeoPackage/GeoJSON/GeoParquet ({type(exc).__name__})") from None
    not_points = gdf.geom_type != "Point"
    if not_points.any():
        ids = gdf["site_id"].astype(str) if "site_id" in gdf.columns else pd.Series(gdf.index.astype(str), index=gdf.index)
        raise DataError(str(path), "geometry", list(ids[not_points]), "expected point geometries (one point per site)")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["lon"] = gdf.geometry.x
    df["lat"] = gdf.geometry.y
    return df.astype(str).replace({"nan": "", "None": ""})


def locate_sites(sites: pd.DataFrame, regions: pd.DataFrame, label: str) -> pd.DataFrame:
    """Fill ``region_id`` (spatial join) and lon/lat (region point) where missing.

    A site given by ``region_id`` alone is placed at its region's point and
    marked ``has_coordinates = False``. It is not an error: cost, headroom and
    moratoria need only the region. Latency does need the place, so a study with
    user hubs gets a warning giving how far the region point can be from a site
    in that region (:func:`planner.checks.warnings_for`).
    """
    sites = sites.copy()
    named = sites["region_id"] != ""
    _resolve_state_ids(sites, regions, label)
    unknown = named & ~sites["region_id"].isin(regions.index)
    if unknown.any():
        raise DataError(label, "region_id", list(sites.index[unknown]), "not a region id of the regions table")
    has_point = sites["lon"].notna() & sites["lat"].notna()
    neither = ~named & ~has_point
    if neither.any():
        raise DataError(label, "region_id/lon/lat", list(sites.index[neither]), "give a region_id or both lon and lat")
    sites["has_coordinates"] = has_point  # else placed at its region's point (see planner.checks for the warning)
    todo = ~named & has_point
    if todo.any():
        sites.loc[todo, "region_id"] = _spatial_join(sites.loc[todo, "lon"], sites.loc[todo, "lat"], label)
    fill = ~has_point
    sites.loc[fill, "lon"] = regions.loc[sites.loc[fill, "region_id"], "lon"].to_numpy()
    sites.loc[fill, "lat"] = regions.loc[sites.loc[fill, "region_id"], "lat"].to_numpy()
    return sites


def _resolve_state_ids(sites: pd.DataFrame, regions: pd.DataFrame, label: str) -> None:
    """A 0.1.0 site file names a state (``US-IL``) where a state is now split into zones: the site goes
    to the zone of that state holding its point (the nearest of them, for a point just outside),
    or, without a point, to the state's largest zone by share. In place."""
    if "state_id" not in regions.columns:
        return
    # positions, NumPy arrays and sets, one column written back at the end (label lookups per state: ~0.2 s at
    # 3,500 sites; Series.isin and .loc per state: 0.03 s)
    region_id = sites["region_id"].to_numpy(dtype=object)
    state_of, zone_ids = regions["state_id"].to_numpy(dtype=object), regions.index.to_numpy(dtype=object)
    states, zone_set = set(state_of), set(zone_ids)
    split_pos = np.flatnonzero([r in states and r not in zone_set for r in region_id])
    if not len(split_pos):
        return

    split_states = set(region_id[split_pos])
    shapes = _zone_shapes({z for z, st in zip(zone_ids, state_of) if st in split_states})
    lon, lat = sites["lon"].to_numpy(dtype=float), sites["lat"].to_numpy(dtype=float)
    out = region_id.copy()
    share_of = regions["zone_share_of_state"].to_numpy(dtype=float) if "zone_share_of_state" in regions.columns else None
    for state in pd.unique(region_id[split_pos]):
        idx = split_pos[region_id[split_pos] == state]
        of_state = np.flatnonzero(state_of == state)
        zones = zone_ids[of_state]
        has_point = ~np.isnan(lon[idx]) & ~np.isnan(lat[idx])
        # the largest share, the first of equal ones (Series.idxmax); NaN shares are skipped
        largest = str(zones[np.nanargmax(share_of[of_state])]) if share_of is not None else str(zones[0])
        out[idx[~has_point]] = largest
        with_point = idx[has_point]
        if len(with_point) and all(z in shapes for z in zones):
            import shapely

            # the first of the state's zones holding the point (a prepared polygon answers in microseconds), else
            # the nearest by planar distance in degrees (what GeoSeries.distance computes, without its
            # geographic-CRS warning, whose stack inspection cost 1.3 s for 3,500 sites): fine for picking
            # the nearest of a state's zones. A point a zone holds is at distance 0 from it: the same zone.
            px, py = lon[with_point], lat[with_point]
            pick = np.full(len(with_point), -1)
            for j, z in enumerate(zones):
                shapely.prepare(shapes[z])
                pick[(pick < 0) & shapely.intersects_xy(shapes[z], px, py)] = j
            outside = pick < 0
            if outside.any():
                pts = shapely.points(px[outside], py[outside])
                pick[outside] = np.column_stack([shapely.distance(pts, shapes[z]) for z in zones]).argmin(axis=1)
            out[with_point] = zones[pick]
        elif len(with_point):
            out[with_point] = largest
    sites["region_id"] = pd.Series(out, index=sites.index, dtype=sites["region_id"].dtype)


#: Bytes of the envelope after the 8-byte header of a GeoPackage geometry blob, by envelope code.
_GPKG_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _zone_shapes(ids: set[str] | None = None) -> dict:
    """The bundled zone polygons by region id (shapely), read from the GeoPackage with sqlite3: those of
    *ids* (default: all).

    The same geometries as :func:`planner.data.geometry.load_geometries`, without importing geopandas
    and pyogrio (0.2-1 s of a site study): a GeoPackage is SQLite, and each geometry is a short
    header, an optional envelope and standard WKB.
    """
    import sqlite3

    import shapely

    from planner.data.geometry import LAYER, geometry_path

    path = geometry_path()
    if not path.is_file():
        raise DataError(str(path), "-", "-", "geometry file not found; rebuild it with `python -m planner.data.geometry`")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (column,) = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (LAYER,)).fetchone()
        rows = con.execute(f'SELECT region_id, "{column}" FROM "{LAYER}"').fetchall()
    finally:
        con.close()
    rows = [(r, b) for r, b in rows if ids is None or r in ids]
    blobs = [bytes(b[8 + _GPKG_ENVELOPE_BYTES[(b[3] >> 1) & 7]:]) for _, b in rows]
    return dict(zip((r for r, _ in rows), shapely.from_wkb(blobs)))


def _spatial_join(lon: pd.Series, lat: pd.Series, label: str) -> np.ndarray:
    import geopandas as gpd

    from planner.data.geometry import load_geometries

    shapes = load_geometries()
    pts = gpd.GeoDataFrame({"site_id": lon.index}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    hit = gpd.sjoin(pts, shapes[["region_id", "geometry"]], how="left", predicate="within")
    hit = hit.drop_duplicates("site_id").set_index("site_id")
    missing = hit["region_id"].isna()
    if missing.any():
        raise DataError(label, "lon/lat", list(hit.index[missing]), "the site falls in no region (48 US states + DC, 31 provinces)")
    return hit.loc[lon.index, "region_id"].to_numpy()


def read_pair_costs(path: Path) -> pd.DataFrame:
    """Read a cluster x region (or cluster x site) cost table: cluster_id, region_id|site_id, cost_usd."""
    label = str(path)
    raw = read_csv_text(path)
    loc_col = "site_id" if "site_id" in raw.columns else "region_id"
    if loc_col not in raw.columns or "cluster_id" not in raw.columns:
        raise DataError(label, "cluster_id, region_id|site_id", "header", "missing column(s)")
    raw = raw.rename(columns={loc_col: "location_id"})
    raw["pair"] = raw["cluster_id"] + "|" + raw["location_id"]
    return check_table(raw, PAIR_COSTS, label)

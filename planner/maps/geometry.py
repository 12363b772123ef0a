"""Geometry shared by the static and interactive maps: regions joined to their
boundaries, national boundaries, label and marker points, lighter shapes.

The region polygons are whatever :func:`planner.data.geometry.load_geometries`
holds (states and provinces, or sub-state zones): nothing here assumes 80 of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planner.maps.tables import check_year, tables_of

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

#: Equal-area projections of the two PNG panels.
US_CRS = "EPSG:5070"  # NAD83 / Conus Albers
CN_CRS = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +datum=WGS84 +units=m +no_defs"
#: Panel per country: id, projection.
CRS: dict[str, str] = {"US": US_CRS, "CN": CN_CRS}

#: What the markers are.
MARKER_TEXT: dict[str, str] = {
    "hub": "User hub of a placed cluster",
    "load": "Region with load placed (hubs not in the results files)",
}


#: Simplification (degrees) of the boundaries drawn on the maps: the PNG (about 0.4 pixel at its
#: scale of 5-7 km per pixel), the HTML and results.gpkg. Computed once per process (:func:`coarse_geometries`).
COARSE_TOLERANCE_DEG = 0.02

#: Rounding (decimal places of a degree, about 100 m) of the regions before they are dissolved into grid regions.
GRID_DECIMALS = 3

#: Per-process memo of the derived geometry (coarse regions, grid-region borders); a forked child inherits it.
_MEMO: dict[Any, Any] = {}


def region_frame(source: Any, year: int | None = None) -> geopandas.GeoDataFrame:
    """The regions of one year joined to their boundaries (EPSG:4326).

    Parameters
    ----------
    source
        Results directory, dict from :func:`planner.maps.load_results` or :class:`planner.Result`.
    year
        Year (default :func:`planner.maps.default_year`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per region with geometry; every metric column of :data:`planner.maps.METRICS`.
        Regions without a bundled geometry are left out.
    """
    import geopandas as gpd

    from planner.data.geometry import load_geometries

    tables = tables_of(source)
    year = check_year(tables, year)
    reg = tables["regions"]
    reg = reg[reg["year"] == year].drop(columns=["country"])
    geo = load_geometries()
    extra = [c for c in reg.columns if c in geo.columns and c != "region_id"]
    out = geo.merge(reg.drop(columns=extra), on="region_id", how="inner")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=geo.crs)


def anchor_points(gdf: geopandas.GeoDataFrame) -> geopandas.GeoSeries:
    """A point inside each region (representative point of its largest part), indexed by region_id."""
    import geopandas as gpd

    def rep(g: Any) -> Any:
        if g.geom_type == "MultiPolygon":
            g = max(g.geoms, key=lambda p: p.area)
        return g.representative_point()

    return gpd.GeoSeries([rep(g) for g in gdf.geometry], index=gdf["region_id"].to_numpy(), crs=gdf.crs)


def hub_points(tables: dict[str, Any], gdf: geopandas.GeoDataFrame) -> tuple[geopandas.GeoDataFrame, str]:
    """Points to mark (EPSG:4326) and what they are: user hubs, else regions with load in *gdf*'s year."""
    import geopandas as gpd

    hubs = tables.get("hubs")
    anchors = anchor_points(gdf)
    if hubs is not None and len(hubs):
        if "lon" in hubs.columns:
            pts = gpd.GeoDataFrame(
                hubs[["cluster_id"]], geometry=gpd.points_from_xy(hubs["lon"], hubs["lat"]), crs=4326
            )
        else:
            known = hubs[hubs["region_id"].isin(anchors.index)]
            pts = gpd.GeoDataFrame(known[["cluster_id"]], geometry=anchors.loc[known["region_id"]].to_numpy(), crs=4326)
        pts = pts.drop_duplicates(subset="geometry")
        return pts.reset_index(drop=True), "hub"
    with_load = gdf.loc[gdf["load_mw"] > 0, "region_id"]
    pts = gpd.GeoDataFrame({"region_id": with_load.to_numpy()}, geometry=anchors.loc[with_load].to_numpy(), crs=4326)
    return pts, "load"


def polygonal(geom: Any) -> Any:
    """The polygons of *geom* as one MultiPolygon (drops the slivers of lines or
    points that ``make_valid`` can leave after rounding)."""
    import shapely

    polys = [p for p in shapely.get_parts(shapely.get_parts(geom)) if p.geom_type == "Polygon" and not p.is_empty]
    if not polys:  # pragma: no cover - every region keeps an area at this tolerance
        return geom
    return shapely.MultiPolygon(polys)


def coarser(gdf: geopandas.GeoDataFrame, tolerance: float = COARSE_TOLERANCE_DEG) -> geopandas.GeoDataFrame:
    """*gdf* with its regions simplified further (degrees), each country as one
    coverage so that shared borders stay shared."""
    import shapely

    out = gdf.copy()
    geoms = out.geometry.to_numpy().copy()
    for country in out["country"].unique():
        sel = (out["country"] == country).to_numpy()
        try:
            geoms[sel] = shapely.coverage_simplify(geoms[sel], tolerance)
        except Exception:  # pragma: no cover - old GEOS or not a coverage
            geoms[sel] = shapely.simplify(geoms[sel], tolerance, preserve_topology=True)
    out["geometry"] = [polygonal(g) for g in shapely.make_valid(geoms)]
    return out


def coarse_geometries(tolerance: float = COARSE_TOLERANCE_DEG) -> geopandas.GeoDataFrame:
    """:func:`planner.data.geometry.load_geometries` simplified by :func:`coarser`, once per process.

    The simplification (0.3 s) is shared by the PNG, the HTML and results.gpkg, and by a
    forked child (:func:`planner.maps.files.write_all` computes it before forking).
    Each call returns a copy, so callers may change it freely.
    """
    from planner.data.geometry import load_geometries

    key = ("coarse", _file_key(), float(tolerance))
    if key not in _MEMO:
        _MEMO[key] = coarser(load_geometries(), tolerance)
    return _MEMO[key].copy()


def _file_key() -> tuple[str, int, int]:
    """The bundled geometry file (path, modification time, size): a rebuilt file is not served from the memo."""
    from planner.data.geometry import geometry_path

    path = geometry_path()
    try:
        st = path.stat()
    except OSError:  # load_geometries will say what is missing
        return str(path), 0, 0
    return str(path), st.st_mtime_ns, st.st_size


def grid_pairs(tables: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(region_id, grid_region_id) of the regions of the results, sorted: the key of :func:`grid_lines`."""
    reg = tables["regions"].drop_duplicates("region_id")
    return tuple(sorted(zip(reg["region_id"].astype(str), reg["grid_region_id"].astype(str))))


def grid_lines(pairs: tuple[tuple[str, str], ...],
               tolerance: float = COARSE_TOLERANCE_DEG) -> geopandas.GeoDataFrame:
    """Outlines of the grid regions (EPSG:4326), computed once per process for *pairs*.

    The regions of :func:`coarse_geometries` listed in *pairs* (``region_id``, ``grid_region_id``),
    rounded to :data:`GRID_DECIMALS`, dissolved by grid region (:func:`grid_borders`). One row per grid region: ``grid_region_id``,
    ``country`` (of its first region) and ``geometry`` (lines). The maps project or shift these
    lines instead of dissolving the regions again for each panel (the union is 0.3 s).
    """
    import geopandas as gpd

    key = ("grid", _file_key(), float(tolerance), pairs)
    if key not in _MEMO:
        geo = coarse_geometries(tolerance)
        grid_of = dict(pairs)
        geo = geo[geo["region_id"].isin(grid_of)].copy()
        geo["grid_region_id"] = geo["region_id"].map(grid_of)
        # rounded first, as the HTML's shapes are: the union then closes most slivers between neighbours
        geo["geometry"] = shifted(geo.geometry.to_numpy(), 0.0, GRID_DECIMALS)
        geo = geo.sort_values("grid_region_id", kind="stable")
        gids = sorted(geo["grid_region_id"].unique())
        country = geo.drop_duplicates("grid_region_id").set_index("grid_region_id")["country"]
        lines = grid_borders(geo)
        _MEMO[key] = gpd.GeoDataFrame({"grid_region_id": gids, "country": [country[g] for g in gids]},
                                      geometry=list(lines), crs=geo.crs)
    return _MEMO[key].copy()


def shifted(geoms: Any, shift_deg: float, decimals: int = 3) -> Any:
    """Geometries moved east by *shift_deg* degrees of longitude and rounded to *decimals*."""
    import numpy as np
    import shapely

    out = shapely.transform(np.asarray(geoms, dtype=object), lambda c: c + np.array([shift_deg, 0.0]))
    return shapely.transform(out, lambda c: np.round(c, decimals))


def country_outlines() -> tuple[geopandas.GeoDataFrame, geopandas.GeoDataFrame] | None:
    """National land boundaries and maritime lines (:mod:`planner.data.boundaries`), or None if not bundled."""
    from planner.data.boundaries import load_country_boundaries, load_maritime_boundaries
    from planner.errors import DataError

    try:
        return load_country_boundaries(), load_maritime_boundaries()
    except DataError:  # pragma: no cover - the file ships with the package
        return None


def grid_borders(gdf: geopandas.GeoDataFrame) -> geopandas.GeoSeries:
    """Outlines of the grid regions (the regions of *gdf* dissolved by ``grid_region_id``).

    Shapes are made valid first; a union that GEOS still rejects (a topology conflict
    left by reprojecting) is retried on a fine precision grid (1 m, or 1e-5 degrees).
    """
    import geopandas as gpd
    import shapely

    fine = 1e-5 if gdf.crs is None or gdf.crs.is_geographic else 1.0
    out = []
    for _gid, sub in gdf.groupby("grid_region_id", sort=True):
        geoms = shapely.make_valid(sub.geometry.to_numpy())
        try:
            merged = shapely.union_all(geoms)
        except shapely.errors.GEOSException:
            merged = shapely.union_all(geoms, grid_size=fine)
        out.append(polygonal(merged).boundary)
    return gpd.GeoSeries(out, crs=gdf.crs)

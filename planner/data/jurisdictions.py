"""County polygons of local moratoria (``datasets/jurisdictions.geojson``).

A county, city or utility measure in ``moratoria.csv`` names its county by the
5-digit Census FIPS code (``county_fips``). The polygons are cut at build time
from the US Census cartographic boundary file ``cb_2016_us_county_500k``
(shipped with plotly-geo) by ``datasets/build/jurisdictions.py``; nothing is
downloaded or derived at run time.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from planner.data.load import bundled_dir

JURISDICTIONS_FILE = "jurisdictions.geojson"


@lru_cache(maxsize=1)
def _features() -> tuple[dict, ...]:
    path = bundled_dir() / JURISDICTIONS_FILE
    if not path.is_file():
        return ()
    with open(path, encoding="utf-8") as f:
        return tuple(json.load(f)["features"])


def county_fips_codes() -> frozenset[str]:
    """The county FIPS codes that have a bundled polygon."""
    return frozenset(ft["properties"]["county_fips"] for ft in _features())


def points_in_county(lon: np.ndarray, lat: np.ndarray, fips: str) -> np.ndarray:
    """Whether each point (degrees, EPSG:4326) lies inside county *fips* (boundary counts as inside).

    Parameters
    ----------
    lon, lat
        Point coordinates, degrees.
    fips
        5-digit county FIPS code present in ``jurisdictions.geojson``.

    Returns
    -------
    numpy.ndarray
        Boolean mask, one entry per point.
    """
    import shapely
    from shapely.geometry import shape

    geoms = [shape(ft["geometry"]) for ft in _features() if ft["properties"]["county_fips"] == fips]
    if not geoms:
        raise KeyError(fips)
    points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(shapely.covers(geoms[0], points), dtype=bool)

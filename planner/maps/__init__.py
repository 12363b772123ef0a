"""Maps of a finished run: a static PNG, an offline HTML map and a GeoPackage.

Everything here reads a :class:`planner.Result` (its tables) or the files of a
results directory (``summary.json``, ``regions.csv``, ``placements.csv``), and
joins them to the bundled region boundaries
(:func:`planner.data.geometry.load_geometries`) and national boundaries
(:mod:`planner.data.boundaries`).

>>> from planner import maps
>>> maps.write_all(result, "results/us_china_2030")      # map.png, map.html, results.gpkg
>>> fig = maps.plot("results/us_china_2030", metric="shadow_price", year="all")

Modules: :mod:`~planner.maps.tables` (reading, metrics, years),
:mod:`~planner.maps.classes` (colour classes, per-country scales),
:mod:`~planner.maps.geometry` (regions joined to boundaries, points, lighter shapes),
:mod:`~planner.maps.static` (PNG), :mod:`~planner.maps.interactive` (HTML),
:mod:`~planner.maps.files` (GeoPackage, all files at once).

Heavy libraries (geopandas, matplotlib, mapclassify, folium) are imported only when
a map is drawn: ``import planner.maps`` stays light, and the functions below are
loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from planner.maps.tables import (
    ALIASES,
    ALL_YEARS,
    COUNTRIES,
    DEFAULT_METRIC,
    METRICS,
    SHORT_LABELS,
    UNITS,
    check_metric,
    check_year,
    default_year,
    load_results,
    tables_of,
)

#: public name -> submodule that defines it (imported on first use)
_LAZY: dict[str, str] = {
    "classify": "classes",
    "colour_regions": "classes",
    "needs_split": "classes",
    "Legend": "classes",
    "MAX_CLASSES": "classes",
    "region_frame": "geometry",
    "US_CRS": "geometry",
    "CN_CRS": "geometry",
    "MARKER_TEXT": "geometry",
    "plot": "static",
    "write_png": "static",
    "default_png_name": "static",
    "MapFigure": "static",
    "BACKGROUND": "static",
    "PNG_NAME": "static",
    "explore": "interactive",
    "write_html": "interactive",
    "HTML_NAME": "interactive",
    "write_gpkg": "files",
    "write_all": "files",
    "map_writer": "files",
    "missing_geometry": "files",
    "GPKG_NAME": "files",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"planner.maps.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'planner.maps' has no attribute {name!r}")


__all__ = [
    "ALIASES", "ALL_YEARS", "COUNTRIES", "DEFAULT_METRIC", "METRICS", "SHORT_LABELS", "UNITS",
    "check_metric", "check_year", "default_year", "load_results", "tables_of", *_LAZY,
]  # fmt: skip

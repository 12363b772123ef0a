"""The map files of a run: ``map.png``, ``map.html`` and ``results.gpkg``, written together."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner.maps.geometry import COARSE_TOLERANCE_DEG
from planner.maps.tables import tables_of

GPKG_NAME = "results.gpkg"
#: Extra simplification (degrees) of the boundaries in results.gpkg (repeated once per year).
GPKG_TOLERANCE_DEG = COARSE_TOLERANCE_DEG  # the shapes the maps simplified once per process


def write_gpkg(source: Any, path: str | Path | None = None) -> Path:
    """Region results of every year joined to the boundaries, as a GeoPackage.

    Parameters
    ----------
    source
        Results directory (also the default destination's folder), Result or tables dict.
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

    from planner.maps.geometry import coarse_geometries

    tables = tables_of(source)
    if path is None:
        if tables.get("outdir") is None:
            raise TypeError("write_gpkg needs a path when drawing a Result")
        path = Path(tables["outdir"]) / GPKG_NAME
    path = Path(path)
    geo = coarse_geometries(GPKG_TOLERANCE_DEG)[["region_id", "geometry"]]  # once per process, shared with the maps
    reg = tables["regions"]
    out = gpd.GeoDataFrame(geo.merge(reg, on="region_id", how="inner"), geometry="geometry", crs=geo.crs)
    out = out.sort_values(["region_id", "year"]).reset_index(drop=True)
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(out, path, layer="regions", driver="GPKG", promote_to_multi=True)
    return path


def write_all(source: Any, outdir: str | Path | None = None) -> list[Path]:
    """Write ``map.png``, ``map.html`` and ``results.gpkg`` into *outdir*.

    Parameters
    ----------
    source
        A :class:`planner.Result` (drawn from memory), a tables dict, or a results
        directory (read from it).
    outdir
        Destination folder; default: *source* when it is a results directory. It may be
        the temporary directory of :func:`planner.io.write_result` before the atomic rename.

    Returns
    -------
    list of pathlib.Path
        The three files written.
    """
    from planner.maps.geometry import country_outlines, grid_lines, grid_pairs
    from planner.maps.interactive import HTML_NAME, write_html
    from planner.maps.static import BACKGROUND, PIL_KWARGS, PNG_NAME, plot

    tables = tables_of(source)
    if outdir is None:
        if tables.get("outdir") is None:
            raise TypeError("write_all needs an output folder when drawing a Result")
        outdir = tables["outdir"]
    outdir = Path(outdir)
    png, htm, gpkg = outdir / PNG_NAME, outdir / HTML_NAME, outdir / GPKG_NAME
    # what the three files share, computed once and before forking so that the child inherits it (as it
    # inherits matplotlib, imported above: the colour classes need it): the coarser boundaries, the
    # grid-region borders, the national boundaries
    grid_lines(grid_pairs(tables), COARSE_TOLERANCE_DEG)
    country_outlines()

    def html_and_gpkg() -> None:
        write_html(tables, htm)
        write_gpkg(tables, gpkg)

    # the interactive map and the GeoPackage are written by a forked child while this process draws the PNG
    # (importing matplotlib's figures only after the fork, to overlap that with the child, gained nothing
    # measurable on the loaded 2-core machine)
    child = _fork(html_and_gpkg)
    fig = plot(tables)
    fig.savefig(png, dpi=fig.dpi, facecolor=BACKGROUND, pil_kwargs=dict(PIL_KWARGS))
    if child is None or not _joined(child):  # no fork here, or the child failed: write them in this process
        html_and_gpkg()
    return [png, htm, gpkg]


def _fork(work: Callable[[], object]) -> int | None:
    """Run *work* in a forked child; its pid, or None where forking is not safe (no fork, one CPU, threads)."""
    import os
    import threading

    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2 or threading.active_count() > 1:
        return None
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: do the work and leave without running the parent's cleanup
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)
    return pid


def _joined(pid: int) -> bool:
    """Wait for a child of :func:`_fork`; True when it succeeded."""
    import os

    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def missing_geometry(result: Any) -> list[str]:
    """Regions of the result (a user-supplied table's) that the bundled geometries do not cover."""
    from planner.data.geometry import load_geometries

    known = set(load_geometries()["region_id"])
    return sorted(set(tables_of(result)["regions"]["region_id"]) - known)


def map_writer(result: Any) -> Callable[[Path], list[Path]] | None:
    """The function that draws *result*'s map files into a folder, or None when it cannot.

    The CLI passes it to :func:`planner.io.write_result` (``extra=``), which calls it on
    the temporary directory before the atomic rename: the maps land with the tables
    or not at all. When regions have no bundled geometry (a user's own region table),
    maps are skipped, and a warning is added to ``result.summary["warnings"]``.

    Parameters
    ----------
    result
        A :class:`planner.Result`.

    Returns
    -------
    callable or None
        ``writer(folder) -> [map.png, map.html, results.gpkg]``.
    """
    missing = missing_geometry(result)
    if missing:
        note = f"maps skipped: no geometry for region(s) {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else "")
        result.summary.setdefault("warnings", []).append(note)
        return None
    tables = tables_of(result)

    def writer(folder: Path) -> list[Path]:
        return write_all(tables, folder)

    return writer

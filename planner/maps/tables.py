"""The tables the maps draw: read from a results directory or taken from a Result.

Nothing here imports the heavy map libraries, nor the writer of :mod:`planner.io`:
a results directory is read through :func:`planner.reader.read_summary` (the reader,
which checks the results format) and ``pandas``; a :class:`planner.Result` is read
through its attributes only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.errors import ResultsError
from planner.reader import ranges_by_figure

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: metric -> (column of the ``regions`` table of :func:`load_results`, label with units).
#: ``utilisation_pct`` (= 100 x ``utilisation``) and ``cost_musd_per_yr`` (sum of
#: ``total_usd_per_yr`` / 1e6 over the clusters placed in the region that are online
#: in the year, i.e. ``online_year <= year``) are derived by :func:`load_results`;
#: the others are columns of ``regions.csv``.
METRICS: dict[str, tuple[str, str]] = {
    "it_load": ("it_load_mw", "IT load of placed clusters (MW)"),
    "grid_load": ("load_mw", "Grid load of placed clusters, IT load x PUE (MW)"),
    "utilisation": ("utilisation_pct", "Utilisation of the region's headroom (%)"),
    "shadow_price": ("shadow_price_usd_per_mw_yr", "Shadow price of headroom (USD/MW-yr)"),
    "new_capacity": ("grid_new_capacity_mw", "New capacity in the region's grid region, cumulative (MW)"),
    "cost": ("cost_musd_per_yr", "Annual cost of the clusters placed (USD M/yr)"),
    "onsite": ("onsite_mw", "Data-center load served by plants on site, not the grid (MW)"),
    "time_to_power": ("waiting_it_mw", "IT load waiting for power: requested by then, not yet online (MW)"),
}
#: The default metric: IT load, as in the terminal summary.
DEFAULT_METRIC = "it_load"
#: Older metric names still accepted: ``load`` was the grid load.
ALIASES: dict[str, str] = {"load": "grid_load"}

#: Short names (HTML layer buttons, per-country legend titles).
SHORT_LABELS: dict[str, str] = {
    "it_load": "IT load (MW)",
    "grid_load": "Grid load (MW)",
    "utilisation": "Utilisation (%)",
    "shadow_price": "Shadow price (USD/MW-yr)",
    "new_capacity": "New grid capacity (MW)",
    "cost": "Annual cost (USD M/yr)",
    "onsite": "On-site power (MW)",
    "time_to_power": "Waiting for power (MW)",
}
#: Short units for labels, tooltips and legends.
UNITS: dict[str, str] = {
    "it_load": "MW",
    "grid_load": "MW",
    "utilisation": "%",
    "shadow_price": "USD/MW-yr",
    "new_capacity": "MW",
    "cost": "USD M/yr",
    "onsite": "MW",
    "time_to_power": "MW",
}

#: The two countries: id, name shown as the panel title.
COUNTRIES: dict[str, str] = {
    "US": "United States",
    "CN": "China",
}

REGION_COLUMNS = (
    "region_id", "year", "country", "grid_region_id", "it_load_mw", "load_mw", "headroom_mw",
    "grid_new_capacity_mw", "utilisation", "shadow_price_usd_per_mw_yr", "moratorium",
)  # fmt: skip
PLACEMENT_COLUMNS = ("cluster_id", "region_id", "online_year", "share", "it_load_mw", "total_usd_per_yr")

#: ``year`` value that asks for every year of the horizon (one panel row per year).
ALL_YEARS = "all"


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
        ``cluster_id, region_id``; ``None`` when the files do not record hubs) and ``outdir``.

    Raises
    ------
    planner.errors.ResultsError
        Missing files, an old results format, or missing columns (one line).
    """
    from planner.reader import read_summary

    outdir = Path(outdir)
    summary = read_summary(outdir)
    regions = _read_csv(outdir / "regions.csv", REGION_COLUMNS, {"moratorium": str, "region_id": str})
    placements = _read_csv(outdir / "placements.csv", PLACEMENT_COLUMNS, {"cluster_id": str, "region_id": str})
    hubs = None
    if {"hub_lon", "hub_lat"} <= set(placements.columns) or "hub_region_id" in placements.columns:
        hubs = _hubs_from(placements)
    return _assemble(summary, regions, placements, hubs, outdir)


def _read_csv(path: Path, required: tuple[str, ...], dtype: dict[str, Any]) -> pd.DataFrame:
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


def _assemble(summary: dict[str, Any], regions: pd.DataFrame, placements: pd.DataFrame,
              hubs: pd.DataFrame | None, outdir: str | Path | None) -> dict[str, Any]:
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
    # on-site power (regions.csv has it when the scenario enables it) and load waiting for power: placed
    # clusters whose requested year has come but that are not online yet (requested_online_year <= year < online_year)
    if "onsite_mw" not in regions.columns:
        regions["onsite_mw"] = 0.0
    waiting = np.zeros(len(regions))
    if len(placements) and "requested_online_year" in placements.columns:
        for y in years:
            late = placements[(placements["requested_online_year"] <= y) & (placements["online_year"] > y)]
            per_region = late.groupby("region_id")["it_load_mw"].sum()
            sel = (regions["year"] == y).to_numpy()
            waiting[sel] = per_region.reindex(regions.loc[sel, "region_id"]).fillna(0.0).to_numpy()
    regions["waiting_it_mw"] = waiting
    return {
        "summary": summary,
        "regions": regions,
        "placements": placements,
        "years": years,
        "hubs": hubs,
        "outdir": None if outdir is None else Path(outdir),
    }


def tables_of(source: Any) -> dict[str, Any]:
    """The tables of a results directory, a dict from :func:`load_results` or a :class:`planner.Result`.

    Parameters
    ----------
    source
        Results directory (str or Path), the dict of :func:`load_results`, or any
        object with ``regions``, ``placements`` and ``summary`` (a Result; its
        ``inputs``, when present, give the clusters' user hubs).

    Returns
    -------
    dict
        As :func:`load_results`.
    """
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
        elif "hub_lon" in source.placements.columns:
            hubs = _hubs_from(source.placements)
        return _assemble(source.summary, source.regions, source.placements, hubs, None)
    raise TypeError(f"expected a results directory, a dict from load_results or a Result, got {type(source).__name__}")


def check_metric(metric: str | None) -> str:
    """The metric's key (default :data:`DEFAULT_METRIC`; ``load`` means ``grid_load``).

    Raises
    ------
    planner.errors.ResultsError
        An unknown metric; the message lists the valid ones.
    """
    if metric is None:
        return DEFAULT_METRIC
    m = ALIASES.get(metric, metric)
    if m not in METRICS:
        raise ResultsError(f"unknown metric {metric!r}; valid metrics: {', '.join(METRICS)}")
    return m


def default_year(tables: dict[str, Any]) -> int:
    """The year a map shows by default: one in which moratoria are in force, if any are.

    The year with the most regions under a moratorium (the latest of those, if
    several tie); the last year of the horizon when no moratorium is in force in
    any year.

    Parameters
    ----------
    tables
        As :func:`load_results` returns.

    Returns
    -------
    int
    """
    years = tables["years"]
    if not years:
        raise ResultsError("the results hold no years")
    reg = tables["regions"]
    counts = reg[reg["moratorium"] != ""].groupby("year")["region_id"].nunique()
    if counts.empty:
        return int(years[-1])
    best = counts.max()
    return int(max(y for y, n in counts.items() if n == best))


def check_year(tables: dict[str, Any], year: Any) -> int:
    """A year of the results (default :func:`default_year`).

    Raises
    ------
    planner.errors.ResultsError
        A year outside the results; the message lists the valid ones.
    """
    years = tables["years"]
    if not years:
        raise ResultsError("the results hold no years")
    if year is None:
        return default_year(tables)
    y = None
    if isinstance(year, str) and year.strip().isdigit():
        y = int(year)
    elif not isinstance(year, (str, bool)):
        try:
            y = int(year) if int(year) == year else None
        except (TypeError, ValueError, OverflowError):
            y = None
    if y is None or y not in years:
        raise ResultsError(
            f"year {year!r} is not in the results; valid years: {', '.join(map(str, years))} or {ALL_YEARS!r}"
        )
    return y


def check_years(tables: dict[str, Any], year: Any) -> list[int]:
    """The years to draw: ``[year]``, or every year for ``"all"``."""
    if isinstance(year, str) and year.strip().lower() == ALL_YEARS:
        return list(tables["years"])
    return [check_year(tables, year)]


def region_names() -> dict[str, str]:
    """Region names from the bundled regions.csv (ids only if it cannot be read)."""
    import pandas as pd

    try:
        from planner.data.load import bundled_dir

        reg = pd.read_csv(bundled_dir() / "regions.csv", usecols=["region_id", "name"], dtype=str)
        return dict(zip(reg["region_id"], reg["name"]))
    except Exception:  # noqa: BLE001 - names are a nicety
        return {}


def short_id(region_id: str) -> str:
    """The region id without its country prefix: ``US-TX`` -> ``TX``, ``US-IL-PJM`` -> ``IL-PJM``."""
    head, _, rest = region_id.partition("-")
    return rest if rest and len(head) == 2 else region_id


#: Marks a value that least cost leaves open (planner.ranges): another plan of the same cost differs there.
OPEN_MARK = "\u2020"


def open_it_load(tables: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Zones whose IT load least cost leaves open: zone -> (low, high) MW over all least-cost plans
    (``summary.json``'s ``equal_cost_ranges``; empty when they were not computed)."""
    return {fid: lo_hi for (figure, fid, _), lo_hi in ranges_by_figure(tables["summary"]).items() if figure == "it_mw"}

"""Differences across finished runs: cost parts, load by state and zone, new capacity.

``planner compare OUTDIR1 OUTDIR2 ...`` reads each run back (:func:`planner.io.read_result`)
and lines them up; the first run is the base, and every other run gets a
``delta_<run>`` column (run minus base).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.errors import ResultsError
from planner.io import read_result
from planner.result import Result

#: Differences smaller than this (USD or MW) are shown as no change.
TOL = 1e-6


@dataclass
class Comparison:
    """The runs' tables side by side (one column per run, then the deltas to the first run).

    Attributes
    ----------
    labels
        Run labels, in order (folder names, or the paths when names repeat).
    costs
        One row per objective part (``part``), in USD over the horizon (present value), plus ``total``.
    load_by_state
        One row per (``state_id``, ``year``): IT load placed there, MW.
    load_by_zone
        One row per (``region_id``, ``year``) for states split into zones: IT load, MW
        (empty when no run has zones).
    new_capacity
        One row per ``grid_region_id``: grid capacity added over the horizon, MW.
    """

    labels: list[str]
    costs: pd.DataFrame
    load_by_state: pd.DataFrame
    load_by_zone: pd.DataFrame
    new_capacity: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by file stem (``costs``, ``load_by_state``, ``load_by_zone``, ``new_capacity``)."""
        return {
            "costs": self.costs,
            "load_by_state": self.load_by_state,
            "load_by_zone": self.load_by_zone,
            "new_capacity": self.new_capacity,
        }

    def to_dir(self, path: str | Path) -> list[Path]:
        """Write one CSV per table into *path*; each file appears whole or not at all."""
        out = Path(path)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ResultsError(f"{out}: cannot create the output directory ({exc.strerror})") from None
        written = []
        for name, df in self.tables().items():
            target = out / f"{name}.csv"
            tmp = out / f".{name}.csv.tmp-{os.getpid()}"
            try:
                df.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
                tmp.replace(target)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise ResultsError(f"{target}: cannot write ({exc.strerror})") from None
            written.append(target)
        return written


def labels_for(outdirs: list[Path]) -> list[str]:
    """Folder names, or the full paths when two runs share a name."""
    names = [Path(p).name or str(p) for p in outdirs]
    return names if len(set(names)) == len(names) else [str(p) for p in outdirs]


def compare(outdirs: list[str | Path]) -> Comparison:
    """Compare finished runs; the first is the base.

    Parameters
    ----------
    outdirs
        Two or more results directories (``planner solve -o OUTDIR``).

    Returns
    -------
    Comparison

    Raises
    ------
    ResultsError
        Fewer than two runs, or one is not a readable results directory.
    """
    paths = [Path(p) for p in outdirs]
    if len(paths) < 2:
        raise ResultsError(f"compare: {len(paths)} results director{'y' if len(paths) == 1 else 'ies'} given; "
                           "expected two or more")
    runs = [read_result(p) for p in paths]
    labels = labels_for(paths)
    return Comparison(
        labels=labels,
        costs=_side_by_side([_costs(r) for r in runs], labels, ["part"]),
        load_by_state=_side_by_side([_load(r, "state_id") for r in runs], labels, ["state_id", "year"]),
        load_by_zone=_zones(runs, labels),
        new_capacity=_side_by_side([_new_capacity(r) for r in runs], labels, ["grid_region_id"]),
    )


def _costs(r: Result) -> pd.Series:
    parts = {str(k): float(v) for k, v in (r.summary.get("objective_parts_usd") or {}).items()}
    parts["total"] = float(r.summary.get("objective_usd") or 0.0)
    return pd.Series(parts, name="usd").rename_axis("part")


def _load(r: Result, key: str) -> pd.Series:
    reg = r.regions
    if key not in reg.columns:  # a run from before zones: each region is its own state
        reg = reg.assign(**{key: reg["region_id"]})
    return reg.groupby([key, "year"])["it_load_mw"].sum()


def _zones(runs: list[Result], labels: list[str]) -> pd.DataFrame:
    """IT load by zone (region) for the states that some run splits into zones."""
    split: set[str] = set()
    for r in runs:
        if "state_id" in r.regions.columns:
            reg = r.regions[["region_id", "state_id"]].drop_duplicates()
            split |= set(reg.loc[reg["region_id"] != reg["state_id"], "state_id"])
    if not split:
        return pd.DataFrame(columns=["state_id", "region_id", "year", *labels])
    series = []
    for r in runs:
        reg = r.regions[r.regions["state_id"].isin(split)] if "state_id" in r.regions.columns else r.regions.iloc[:0]
        series.append(reg.groupby(["state_id", "region_id", "year"])["it_load_mw"].sum())
    return _side_by_side(series, labels, ["state_id", "region_id", "year"])


def _new_capacity(r: Result) -> pd.Series:
    return r.grid_regions.groupby("grid_region_id")["new_capacity_mw"].sum()


def _side_by_side(series: list[pd.Series], labels: list[str], keys: list[str]) -> pd.DataFrame:
    """One column per run (missing rows are 0), then ``delta_<label>`` = run minus the first."""
    df = pd.concat([s.rename(lab) for s, lab in zip(series, labels)], axis=1).fillna(0.0)
    df.index.names = keys
    df = df.sort_index() if keys != ["part"] else df
    for lab in labels[1:]:
        d = df[lab] - df[labels[0]]
        df[f"delta_{lab}"] = d.where(d.abs() > TOL, 0.0)
    return df.reset_index()


def format_comparison(c: Comparison, top: int = 15) -> str:
    """The comparison as text: cost parts, then the largest changes in load and new capacity."""
    base, others = c.labels[0], c.labels[1:]
    lines = [f"Base: {base}; compared: {', '.join(others)}", "", "Cost over the horizon (bn USD, present value)"]
    lines.append(_text(c.costs.set_index("part"), c.labels, scale=1e-9, fmt="{:,.3f}", all_rows=True))
    last = c.load_by_state["year"].max() if len(c.load_by_state) else None
    for title, df, key in (
        (f"IT load by state, {last} (MW)", c.load_by_state[c.load_by_state["year"] == last], ["state_id"]),
        (f"IT load by zone, {last} (MW)", c.load_by_zone[c.load_by_zone["year"] == last], ["region_id"]),
        ("New grid capacity over the horizon (MW)", c.new_capacity, ["grid_region_id"]),
    ):
        if df.empty:
            continue
        lines += ["", title, _text(df.set_index(key), c.labels, scale=1.0, fmt="{:,.0f}", top=top)]
    return "\n".join(lines)


def _text(df: pd.DataFrame, labels: list[str], scale: float, fmt: str, top: int = 0, all_rows: bool = False) -> str:
    deltas = [f"delta_{lab}" for lab in labels[1:]]
    more = 0
    if not all_rows:
        change = df[deltas].abs().max(axis=1)
        df = df[change > 0].assign(_c=change[change > 0]).sort_values("_c", ascending=False, kind="mergesort")
        if df.empty:
            return "  no differences"
        more = len(df) - top
        df = df.head(top)
    cols = labels + deltas
    head = [str(df.index.name or "")] + [c if len(c) <= 24 else "..." + c[-21:] for c in cols]
    rows = [[str(i)] + [fmt.format(float(df.at[i, col]) * scale) for col in cols] for i in df.index]
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
    out = ["  " + "  ".join(h.ljust(w) if k == 0 else h.rjust(w) for k, (h, w) in enumerate(zip(head, widths)))]
    out += ["  " + "  ".join(v.ljust(w) if k == 0 else v.rjust(w) for k, (v, w) in enumerate(zip(r, widths)))
            for r in rows]
    if more > 0:
        out.append(f"  ... {more} more row(s) with differences in the CSV")
    return "\n".join(out)

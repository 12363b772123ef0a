"""Sweep outputs: the table of cases, the plots, the tornado table and the summary line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.sweep.common import COUNTRIES
from planner.sweep.common import is_number as _is_number

def _get_path(raw: Any, key: str) -> Any:
    """The base value at a dotted path (``None`` when the scenario does not set it)."""
    node = raw
    for part in key.split("."):
        if isinstance(node, list):
            idx = None
            if part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
                idx = int(part)
            else:
                idx = next((j for j, it in enumerate(node) if isinstance(it, dict) and str(it.get("id")) == part), None)
            if idx is None:
                return None
            node = node[idx]
        elif isinstance(node, dict):
            if part not in node:
                return None
            node = node[part]
        else:
            return None
    return node


def _cell(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str, np.integer, np.floating)):
        return v
    return json.dumps(v, sort_keys=True, default=str)


# =========================================================================== plots


def _x_values(series: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    num = pd.to_numeric(series, errors="coerce")
    if num.notna().all():
        return num.to_numpy(dtype=float), None
    labels = list(dict.fromkeys(str(v) for v in series))
    pos = {lab: i for i, lab in enumerate(labels)}
    return np.array([pos[str(v)] for v in series], dtype=float), labels


def plot_response(frame: pd.DataFrame, keys: list[str] | None = None):
    """Objective (bn USD) and placed IT MW by country against each varied key.

    One column of panels per key; points are cases, the line joins the mean
    at each value (when there are few distinct values). Returns a
    :class:`matplotlib.figure.Figure` (no pyplot state is touched).
    """
    from matplotlib.figure import Figure

    keys = keys or _input_columns(frame)
    ok = frame[frame["status"] != "error"]
    n = max(1, len(keys))
    fig = Figure(figsize=(4.2 * n, 6.4))
    # a fixed layout: constrained layout took ~1 s per figure, longer than a thousand fast cases
    fig.subplots_adjust(left=0.75 / (4.2 * n), right=1 - 0.15 / (4.2 * n), bottom=0.09, top=0.92, wspace=0.32, hspace=0.3)
    axes = fig.subplots(2, n, squeeze=False)
    tornado = bool(frame.attrs.get("tornado"))
    for j, key in enumerate(keys):
        sub = ok
        if tornado and "case_id" in ok:
            sub = ok[(ok["case_id"] == 0) | (ok["case_id"].isin(_tornado_ids(frame, key)))]
        x, labels = _x_values(sub[key]) if len(sub) else (np.array([]), None)
        panels: list[tuple[str, str, float, str | None]] = [("objective_usd", "objective, bn USD", 1e-9, None)]
        panels += [(f"placed_it_mw_{c}", "placed IT load, MW", 1.0, c) for c in COUNTRIES]
        for col, ylabel, scale, label in panels:
            ax = axes[0 if col == "objective_usd" else 1][j]
            if col not in sub:
                continue
            y = sub[col].to_numpy(dtype=float) * scale
            # markers of one line (much faster to draw than a scatter), rasterized when there are many
            ax.plot(x, y, "o", ms=3.5, alpha=0.6, label=label, rasterized=len(y) > 2000)
            ux = np.unique(x)
            if 1 < len(ux) <= 25:
                means = [np.nanmean(y[x == u]) for u in ux]
                ax.plot(ux, means, lw=1.2)
            ax.set_ylabel(ylabel)
            ax.set_xlabel(key, fontsize=8)
            if labels:
                ax.set_xticks(range(len(labels)), [lab[:24] for lab in labels], rotation=15, ha="right", fontsize=7)
        axes[1][j].legend(fontsize=7)
    fig.suptitle(f"Sweep of {frame.attrs.get('base_scenario', 'the base scenario')}: {len(ok)} cases solved")
    return fig


def _tornado_ids(frame: pd.DataFrame, key: str) -> list[int]:
    """Case ids of a tornado frame that move *key* (the two cases after the base, per key, in order)."""
    keys = _input_columns(frame)
    if key not in keys:
        return []
    j = keys.index(key)
    return [1 + 2 * j, 2 + 2 * j]


def _input_columns(frame: pd.DataFrame) -> list[str]:
    cols = list(frame.columns)
    end = cols.index("status") if "status" in cols else len(cols)
    return cols[1:end]


def tornado_table(frame: pd.DataFrame, metric: str = "objective_usd") -> pd.DataFrame:
    """Per key: the metric at base, at the key's low and high values, and the swing (from a tornado frame)."""
    keys = _input_columns(frame)
    by_id = frame.set_index("case_id")
    base = float(by_id.loc[0, metric]) if 0 in by_id.index else float("nan")
    rows = []
    for j, key in enumerate(keys):
        lo_id, hi_id = 1 + 2 * j, 2 + 2 * j
        lo = float(by_id.loc[lo_id, metric]) if lo_id in by_id.index else float("nan")
        hi = float(by_id.loc[hi_id, metric]) if hi_id in by_id.index else float("nan")
        rows.append(
            {
                "key": key,
                "low_value": by_id.loc[lo_id, key] if lo_id in by_id.index else None,
                "high_value": by_id.loc[hi_id, key] if hi_id in by_id.index else None,
                "base": base,
                "at_low": lo,
                "at_high": hi,
                "swing": abs(hi - lo) if np.isfinite(lo) and np.isfinite(hi) else float("nan"),
            }
        )
    return pd.DataFrame(rows).sort_values("swing", ascending=True, na_position="first").reset_index(drop=True)


def plot_tornado(frame: pd.DataFrame, metric: str = "objective_usd"):
    """A tornado chart: the change of *metric* from base at each key's low and high value (bn USD)."""
    from matplotlib.figure import Figure

    t = tornado_table(frame, metric)
    scale = 1e-9 if metric.endswith("_usd") else 1.0
    unit = "bn USD" if scale != 1.0 else ""
    fig = Figure(figsize=(8, 1.2 + 0.55 * max(1, len(t))), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(t))
    lo = (t["at_low"] - t["base"]).to_numpy(dtype=float) * scale
    hi = (t["at_high"] - t["base"]).to_numpy(dtype=float) * scale
    ax.barh(y, np.nan_to_num(lo), color="tab:blue", label="at low value")
    ax.barh(y, np.nan_to_num(hi), color="tab:orange", alpha=0.8, label="at high value")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(y, [f"{r.key}\n{_fmt(r.low_value)} .. {_fmt(r.high_value)}" for r in t.itertuples()], fontsize=7)
    base = float(t["base"].iloc[0]) * scale if len(t) else float("nan")
    ax.set_xlabel(f"change of {metric} from base ({base:,.2f} {unit})")
    ax.legend(fontsize=8)
    ax.set_title("Tornado: one input at a time")
    return fig


def _fmt(v: Any) -> str:
    return f"{v:g}" if _is_number(v) else str(v)[:30]


def summary_line(frame: pd.DataFrame, outdir: Path | None = None, seconds: float | None = None) -> str:
    """One line: cases, how many failed, objective range, where written."""
    n = len(frame)
    failed = int((frame["status"] == "error").sum())
    ok = frame[frame["status"] != "error"]
    parts = [f"{n} case(s), {n - failed} solved, {failed} failed"]
    if len(ok):
        obj = ok["objective_usd"] / 1e9
        parts.append(f"objective {obj.min():,.2f}..{obj.max():,.2f} bn USD")
    if seconds is not None:
        parts.append(f"{seconds:,.1f} s ({n / seconds:,.1f} cases/s)" if seconds > 0 else f"{seconds:.1f} s")
    if outdir is not None:
        parts.append(f"written to {outdir}/")
    text = "sweep: " + "; ".join(parts)
    if failed:
        first = frame.loc[frame["status"] == "error"].iloc[0]
        text += f"\nsweep: first failure, case {int(first['case_id'])}: {first['error']}"
    return text
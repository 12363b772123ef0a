"""Sweeps: many variations of one scenario, solved warm, serially or on Dask.

A *case* is a mapping of ``--set``-style dotted keys to values, e.g.
``{"carbon_price_usd_per_tco2.US": 50, "moratoria": []}``. Cases come from

* a full grid (:func:`grid_cases`, ``--vary KEY=V1,V2``; several keys give the
  cartesian product),
* Monte Carlo draws from distributions (:func:`monte_carlo_cases`,
  ``--samples N --seed S`` with a sweep file), or
* a tornado: each key one at a time at its low and its high value, the others
  at base (:func:`tornado_cases`, ``--tornado``).

Every key and value is checked against the base scenario (with
:meth:`planner.scenario.Scenario.with_overrides`, plus one build of the inputs
per key) *before* any case runs, so a typo fails in a second with one line.

Cases run on a Dask cluster (a ``LocalCluster`` of one single-threaded process
per core by default, or an existing scheduler), or serially in-process
(``scheduler="serial"``). Each worker process keeps one
:class:`planner.whatif.WhatIf` per base scenario (keyed by the scenario hash),
so a cost or bound change re-solves warm from the last basis. A case that fails
is recorded with its error; the others complete.

>>> from planner.sweep import grid_cases, run_sweep
>>> cases = grid_cases({"carbon_price_usd_per_tco2.US": [0, 50, 100]})
>>> df = run_sweep("scenarios/us_china_2030.yaml", cases, scheduler="serial")
>>> df[["carbon_price_usd_per_tco2.US", "objective_usd"]]
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from planner.errors import PlannerError, ScenarioError
from planner.scenario import Scenario, load_scenario

#: Keys a sweep file may hold.
SWEEP_FILE_KEYS = ("base", "description", "set", "vary", "distributions", "samples", "seed", "tornado")
#: Supported distributions and their required / optional parameters.
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "uniform": (("low", "high"), ("integer",)),
    "normal": (("mean", "sd"), ("low", "high", "integer")),
    "triangular": (("low", "mode", "high"), ("integer",)),
    "choice": (("values",), ("p",)),
}
#: Seconds to wait for a ``--scheduler`` address before giving up.
CONNECT_TIMEOUT_S = 5.0
COUNTRIES = ("US", "CN")


class SweepError(PlannerError):
    """A sweep could not be set up or run (bad sweep file, unreachable scheduler, ...)."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep. ``frame`` holds the cases finished so far (already written)."""

    def __init__(self, frame: pd.DataFrame, outdir: Path | None) -> None:
        super().__init__("sweep interrupted")
        self.frame = frame
        self.outdir = outdir


# =========================================================================== case generation


def grid_cases(vary: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The full grid (cartesian product) of the values given for each key.

    Parameters
    ----------
    vary
        ``{dotted key: [value, ...]}``; each list must be non-empty.

    Returns
    -------
    list of dict
        One ``{key: value}`` per case, the last key varying fastest.

    Raises
    ------
    ScenarioError
        A key with an empty list of values.
    """
    keys = list(vary)
    for key in keys:
        values = vary[key]
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise ScenarioError("--vary", key, values, "a non-empty list of values")
    return [dict(zip(keys, combo)) for combo in itertools.product(*(list(vary[k]) for k in keys))]


def monte_carlo_cases(distributions: Mapping[str, Mapping[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """*n* random cases drawn independently for each key.

    Parameters
    ----------
    distributions
        ``{dotted key: {"dist": name, ...parameters}}`` with ``uniform`` (low, high),
        ``normal`` (mean, sd; optional low/high to clip), ``triangular``
        (low, mode, high) or ``choice`` (values; optional p). ``integer: true``
        rounds numeric draws.
    n
        Number of cases (>= 1).
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same cases.

    Returns
    -------
    list of dict
        ``n`` cases ``{key: value}``.

    Raises
    ------
    SweepError
        An unknown distribution or a missing / inconsistent parameter.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise SweepError(f"--samples: got {n!r}; expected an integer >= 1")
    rng = np.random.default_rng(seed)
    columns: dict[str, list[Any]] = {}
    for key, spec in distributions.items():
        spec = _check_distribution(key, spec)
        dist = spec["dist"]
        if dist == "uniform":
            draws = rng.uniform(spec["low"], spec["high"], n)
        elif dist == "normal":
            draws = rng.normal(spec["mean"], spec["sd"], n)
            draws = np.clip(draws, spec.get("low", -np.inf), spec.get("high", np.inf))
        elif dist == "triangular":
            draws = rng.triangular(spec["low"], spec["mode"], spec["high"], n)
        else:  # choice
            idx = rng.choice(len(spec["values"]), size=n, p=spec.get("p"))
            columns[key] = [spec["values"][i] for i in idx]
            continue
        if spec.get("integer"):
            columns[key] = [int(round(v)) for v in draws]
        else:
            columns[key] = [float(v) for v in draws]
    return [{k: columns[k][i] for k in columns} for i in range(n)]


def tornado_cases(ranges: Mapping[str, tuple[Any, Any]]) -> list[dict[str, Any]]:
    """The base case, then each key alone at its low and at its high value.

    Parameters
    ----------
    ranges
        ``{dotted key: (low, high)}``.

    Returns
    -------
    list of dict
        ``[{}, {k1: low1}, {k1: high1}, {k2: low2}, ...]``; ``{}`` is the base scenario.
    """
    cases: list[dict[str, Any]] = [{}]
    for key, pair in ranges.items():
        if isinstance(pair, (str, bytes)) or len(pair) != 2:
            raise ScenarioError("--tornado", key, pair, "a (low, high) pair")
        cases += [{key: pair[0]}, {key: pair[1]}]
    return cases


def parse_vary(items: Iterable[str]) -> dict[str, list[Any]]:
    """Parse ``KEY=V1,V2,...`` strings (values are YAML; commas inside ``[]``/``{}``/quotes are kept).

    Raises
    ------
    ScenarioError
        No ``=``, an empty key or an empty list of values.
    """
    out: dict[str, list[Any]] = {}
    for item in items:
        if "=" not in item:
            raise ScenarioError("--vary", item, item, "KEY=V1,V2,... (a dotted key, '=', comma-separated values)")
        key, text = item.split("=", 1)
        key = key.strip()
        if not key or any(not p for p in key.split(".")):
            raise ScenarioError("--vary", key, text, "a dotted key path such as carbon_price_usd_per_tco2.US")
        parts = [p for p in _split_top_level(text) if p.strip()]
        if not parts:
            raise ScenarioError("--vary", key, text, "at least one value (KEY=V1,V2,...); the range is empty")
        values = []
        for p in parts:
            try:
                values.append(yaml.safe_load(p))
            except yaml.YAMLError:
                values.append(p.strip())
        out.setdefault(key, []).extend(values)
    return out


def _split_top_level(text: str) -> list[str]:
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _check_distribution(key: str, spec: Any) -> dict[str, Any]:
    where = f"distributions.{key}"
    if not isinstance(spec, Mapping) or "dist" not in spec:
        raise SweepError(f"{where}: got {spec!r}; expected a mapping with dist: {'|'.join(DISTRIBUTIONS)}")
    dist = spec["dist"]
    if dist not in DISTRIBUTIONS:
        raise SweepError(f"{where}.dist: got {dist!r}; expected one of {', '.join(DISTRIBUTIONS)}")
    required, optional = DISTRIBUTIONS[dist]
    extra = set(spec) - {"dist", *required, *optional}
    if extra:
        raise SweepError(f"{where}: unknown parameter(s) {', '.join(sorted(extra))} for {dist}; expected {', '.join(required + optional)}")
    for p in required:
        if p not in spec:
            raise SweepError(f"{where}: {dist} needs {', '.join(required)}; {p} is missing")
    if dist == "choice":
        if not isinstance(spec["values"], list) or not spec["values"]:
            raise SweepError(f"{where}.values: got {spec['values']!r}; expected a non-empty list")
        return dict(spec)
    for p in (*required, "low", "high"):
        if p in spec and (isinstance(spec[p], bool) or not isinstance(spec[p], (int, float)) or not math.isfinite(spec[p])):
            raise SweepError(f"{where}.{p}: got {spec[p]!r}; expected a finite number")
    if dist == "uniform" and not spec["low"] < spec["high"]:
        raise SweepError(f"{where}: got low {spec['low']}, high {spec['high']}; expected low < high")
    if dist == "triangular" and not (spec["low"] <= spec["mode"] <= spec["high"] and spec["low"] < spec["high"]):
        raise SweepError(f"{where}: got low {spec['low']}, mode {spec['mode']}, high {spec['high']}; expected low <= mode <= high, low < high")
    if dist == "normal":
        if not spec["sd"] > 0:
            raise SweepError(f"{where}.sd: got {spec['sd']}; expected a number > 0")
        if "low" in spec and "high" in spec and not spec["low"] < spec["high"]:
            raise SweepError(f"{where}: got low {spec['low']}, high {spec['high']}; expected low < high")
    return dict(spec)


def distribution_range(key: str, spec: Mapping[str, Any]) -> tuple[Any, Any]:
    """Low and high of a distribution, for a tornado (normal: mean -/+ sd unless low/high are given)."""
    spec = _check_distribution(key, spec)
    dist = spec["dist"]
    if dist == "choice":
        vals = spec["values"]
        return (min(vals), max(vals)) if all(_is_number(v) for v in vals) else (vals[0], vals[-1])
    if dist == "normal":
        lo, hi = spec.get("low", spec["mean"] - spec["sd"]), spec.get("high", spec["mean"] + spec["sd"])
        lo, hi = max(lo, spec["mean"] - spec["sd"]), min(hi, spec["mean"] + spec["sd"])
    else:
        lo, hi = spec["low"], spec["high"]
    if spec.get("integer"):
        lo, hi = int(round(lo)), int(round(hi))
    return lo, hi


def vary_range(values: Sequence[Any]) -> tuple[Any, Any]:
    """Low and high of a ``--vary`` list: min and max when numeric, else the first and the last value."""
    if all(_is_number(v) for v in values):
        return min(values), max(values)
    return values[0], values[-1]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


# =========================================================================== sweep files


class SweepSpec:
    """A parsed sweep: the base scenario, the cases and what kind of sweep it is.

    Attributes
    ----------
    base
        The validated base scenario (with the file's ``set:`` applied).
    cases
        One ``{key: value}`` per case.
    kind
        ``grid``, ``monte_carlo`` or ``tornado``.
    source
        Where the sweep came from (file name or ``--vary``), for messages.
    """

    def __init__(self, base: Scenario, cases: list[dict[str, Any]], kind: str, source: str) -> None:
        self.base, self.cases, self.kind, self.source = base, cases, kind, source

    def __repr__(self) -> str:
        return f"SweepSpec({self.base.name!r}, {len(self.cases)} {self.kind} cases)"


def is_sweep_file(path: str | Path) -> bool:
    """True when *path* is a sweep file (a YAML mapping with ``vary:`` or ``distributions:``)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(raw, dict) and ("vary" in raw or "distributions" in raw)


def make_spec(
    path: str | Path,
    vary: Iterable[str] = (),
    samples: int | None = None,
    seed: int | None = None,
    tornado: bool = False,
) -> SweepSpec:
    """Build a :class:`SweepSpec` from a scenario or sweep file and command-line options.

    A sweep file holds ``base`` (a scenario path, relative to the sweep file),
    optional ``set`` (fixed overrides), ``vary`` (``{key: [values]}``),
    ``distributions`` (``{key: {dist: ...}}``) and defaults for ``samples``,
    ``seed`` and ``tornado``. ``--vary`` options add to ``vary``.

    * ``tornado``: each key of ``vary`` (min / max, or first / last) and of
      ``distributions`` (low / high) alone; the base case first.
    * ``samples``: *samples* Monte Carlo draws from ``distributions``, crossed with
      the ``vary`` grid when there is one (every grid point gets the same draws).
    * otherwise: the full ``vary`` grid.

    Every key and value is validated against the base scenario before returning.

    Raises
    ------
    ScenarioError, SweepError
        One line naming the file or option, the key and what was expected.
    """
    path = Path(path)
    grid: dict[str, list[Any]] = {}
    dists: dict[str, dict[str, Any]] = {}
    source = str(path)
    if path.is_file() and is_sweep_file(path):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        unknown = set(raw) - set(SWEEP_FILE_KEYS)
        if unknown:
            key = sorted(unknown)[0]
            raise ScenarioError(source, key, raw[key], f"a sweep-file key ({', '.join(SWEEP_FILE_KEYS)})")
        if not isinstance(raw.get("base"), str):
            raise ScenarioError(source, "base", raw.get("base"), "the path of the base scenario (relative to the sweep file)")
        base_path = path.parent / raw["base"]
        if not base_path.is_file():
            raise ScenarioError(source, "base", raw["base"], "the path of an existing scenario file")
        fixed = raw.get("set") or {}
        if not isinstance(fixed, dict):
            raise ScenarioError(source, "set", fixed, "a mapping {dotted key: value}")
        base = load_scenario(base_path)
        if fixed:
            base = base.with_overrides(fixed, source=source)
        file_vary = raw.get("vary") or {}
        if not isinstance(file_vary, dict):
            raise ScenarioError(source, "vary", file_vary, "a mapping {dotted key: [values]}")
        for key, values in file_vary.items():
            if not isinstance(values, list) or not values:
                raise ScenarioError(source, f"vary.{key}", values, "a non-empty list of values")
            grid[str(key)] = list(values)
        file_dists = raw.get("distributions") or {}
        if not isinstance(file_dists, dict):
            raise ScenarioError(source, "distributions", file_dists, "a mapping {dotted key: {dist: ...}}")
        dists = {str(k): _check_distribution(str(k), v) for k, v in file_dists.items()}
        samples = samples if samples is not None else raw.get("samples")
        seed = seed if seed is not None else raw.get("seed")
        tornado = tornado or bool(raw.get("tornado", False))
    else:
        base = load_scenario(path)
    for key, values in parse_vary(vary).items():
        grid[key] = values  # a --vary replaces the file's list for that key
    if not grid and not dists:
        raise SweepError(f"{source}: nothing to vary; give --vary KEY=V1,V2 or a sweep file with vary/distributions")

    if tornado:
        ranges = {k: vary_range(v) for k, v in grid.items()}
        ranges.update({k: distribution_range(k, d) for k, d in dists.items()})
        validate_values(base, {k: list(r) for k, r in ranges.items()})
        return SweepSpec(base, tornado_cases(ranges), "tornado", source)
    if samples is not None:
        if not dists:
            raise SweepError(f"{source}: --samples needs distributions (a sweep file with distributions:)")
        validate_values(base, {k: _probe_values(d) for k, d in dists.items()})
        if grid:
            validate_values(base, grid)
        draws = monte_carlo_cases(dists, int(samples), int(seed if seed is not None else 0))
        cases = [{**g, **d} for g in (grid_cases(grid) if grid else [{}]) for d in draws]
        return SweepSpec(base, cases, "monte_carlo", source)
    if dists and not grid:
        raise SweepError(f"{source}: distributions need --samples N (Monte Carlo) or --tornado")
    validate_values(base, grid)
    return SweepSpec(base, grid_cases(grid), "grid", source)


def _probe_values(spec: Mapping[str, Any]) -> list[Any]:
    if spec["dist"] == "choice":
        return list(spec["values"])
    lo, hi = distribution_range("", spec)
    mid = spec.get("mode", spec.get("mean", lo))
    return [lo, mid, hi]


def validate_values(base: Scenario, values: Mapping[str, Sequence[Any]], build_inputs: bool = True) -> None:
    """Check every (key, value) against *base* before any case runs.

    Each value is applied alone with :meth:`Scenario.with_overrides` (unknown
    keys, wrong types and out-of-range values fail there). With *build_inputs*,
    the inputs are also built once per key with its first value, which catches
    keys the schema cannot check (a parameter or dataset id that does not exist).

    Raises
    ------
    ScenarioError
        The first bad key or value, in one line.
    """
    from planner.inputs import build_inputs as _build

    for key, vals in values.items():
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) or len(vals) == 0:
            raise ScenarioError("--vary", key, vals, "a non-empty list of values")
        first = None
        for v in vals:
            scenario = base.with_overrides({key: v})
            if first is None:
                first = scenario
        if build_inputs and first is not None:
            _build(first)


# =========================================================================== running cases

#: Per-process cache of WhatIf objects, keyed by the base scenario's hash.
_WHATIFS: dict[str, Any] = {}
#: Most base scenarios kept per process (least recently used dropped first).
_MAX_WHATIFS = 4


def _whatif_for(base: Scenario, base_hash: str):
    from planner.whatif import WhatIf

    w = _WHATIFS.pop(base_hash, None)
    if w is None:
        w = WhatIf(base)
    _WHATIFS[base_hash] = w  # most recently used last
    while len(_WHATIFS) > _MAX_WHATIFS:
        _WHATIFS.pop(next(iter(_WHATIFS)))
    return w


def run_case(base: Scenario, base_hash: str, case_id: int, case: Mapping[str, Any]) -> dict[str, Any]:
    """Solve one case with this process's cached :class:`WhatIf` and return its flat row.

    Never raises for a failing case: the row then has ``status="error"`` and the
    message. Runs on a Dask worker (or in-process for ``scheduler="serial"``).
    """
    t0 = time.perf_counter()
    row: dict[str, Any] = {"case_id": int(case_id)}
    try:
        w = _whatif_for(base, base_hash)
        result = w.solve(dict(case)) if case else w.solve(base)
        row.update(_result_row(result))
        row["solve_mode"] = w.last_mode
        row["error"] = ""
    except Exception as exc:  # noqa: BLE001 - a failed case is data, not a crash
        _WHATIFS.pop(base_hash, None)  # the kept HiGHS model may be out of step: rebuild next time
        row.update(status="error", error=_one_line(exc))
    row["seconds"] = time.perf_counter() - t0
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return row


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, PlannerError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def _result_row(result) -> dict[str, Any]:
    s = result.summary
    row: dict[str, Any] = {"status": s["status"], "objective_usd": float(s["objective_usd"])}
    for part, value in s["objective_parts_usd"].items():
        row[f"{part}_usd"] = float(value)
    unserved = 0.0
    for c in COUNTRIES:
        t = s["totals_by_country"][c]
        row[f"placed_it_mw_{c}"] = t["hosted_it_mw"]  # IT load placed in country c, whoever's clusters
        row[f"unserved_it_mw_{c}"] = t["unserved_it_mw"]
        row[f"new_capacity_mw_{c}"] = t["new_capacity_mw"]
        row[f"emissions_tco2_per_yr_{c}"] = t["emissions_tco2_per_yr"]
        unserved += t["unserved_it_mw"]
    row["unserved_it_mw"] = unserved
    g = result.grid_regions
    last = g[g["year"] == g["year"].max()]
    for r in last.itertuples():
        row[f"grid_load_mw_{r.grid_region_id}"] = float(r.load_mw)
    for r in last.itertuples():
        row[f"shadow_price_{r.grid_region_id}_usd_per_mw_yr"] = float(r.shadow_price_usd_per_mw_yr)
    return row


def _load_base(base: Scenario | str | Path) -> Scenario:
    if isinstance(base, Scenario):
        scenario = base
    else:
        scenario = load_scenario(Path(base))
    if scenario.base_dir is not None and not scenario.base_dir.is_absolute():
        scenario = scenario.model_copy()  # absolute paths, so workers with another cwd find the data
        scenario._base_dir = scenario.base_dir.resolve()
        scenario._source = scenario.source
    return scenario


def run_sweep(
    base: Scenario | str | Path,
    cases: list[dict[str, object]],
    scheduler: Any = None,
    n_workers: int | None = None,
    outdir: str | Path | None = None,
    progress: bool = True,
    *,
    validate: bool = True,
    tornado: bool | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_S,
) -> pd.DataFrame:
    """Solve every case and return one row per case.

    Parameters
    ----------
    base
        The base scenario, or the path of its YAML file.
    cases
        ``{dotted key: value}`` per case (see :func:`grid_cases`,
        :func:`monte_carlo_cases`, :func:`tornado_cases`); ``{}`` is the base.
    scheduler
        ``None``: a new ``LocalCluster`` (one single-threaded process per core,
        or *n_workers*), closed at the end. ``"serial"``: in this process, no
        Dask. ``"tcp://host:port"``: an existing Dask scheduler. A
        ``distributed.Client`` is used as is (left open).
    n_workers
        Workers of the LocalCluster (default: the machine's cores).
    outdir
        If given, write ``sweep.parquet``, ``sweep.csv``, ``sweep.json`` and the
        plots there, atomically.
    progress
        Show a progress bar on stderr.
    validate
        Check every key and value against *base* first (see :func:`validate_values`).
    tornado
        Draw ``tornado.png``; default: when *cases* look like :func:`tornado_cases`.
    connect_timeout
        Seconds to wait for a ``tcp://`` scheduler.

    Returns
    -------
    pandas.DataFrame
        ``case_id``, one column per varied key, ``status`` (``optimal``,
        ``time_limit`` or ``error``), objective and its parts, placed IT MW and
        unserved MW per country, grid load per grid region (last year), shadow
        prices of grid regions whose headroom binds in some case, ``error``.

    Raises
    ------
    ScenarioError, SweepError
        Bad keys or values, or an unreachable scheduler, before any case runs.
    SweepInterrupted
        On Ctrl-C, after writing the finished cases (``.frame``).
    """
    t_start = time.perf_counter()
    scenario = _load_base(base)
    cases = [dict(c) for c in cases]
    if not cases:
        raise SweepError("no cases to run")
    keys = _keys_of(cases)
    if validate:
        validate_values(scenario, _representative_values(cases, keys))
    base_hash = scenario.hash()
    rows: dict[int, dict[str, Any]] = {}
    interrupted = False
    mode = "serial" if scheduler == "serial" else "dask"
    try:
        if scheduler == "serial":
            _run_serial(scenario, base_hash, cases, rows, progress)
        else:
            _run_dask(scenario, base_hash, cases, rows, scheduler, n_workers, progress, connect_timeout)
    except KeyboardInterrupt:
        interrupted = True
    frame = _frame(scenario, cases, keys, rows)
    if tornado is None:
        tornado = _looks_like_tornado(cases)
    frame.attrs["base_scenario"] = scenario.name
    frame.attrs["tornado"] = bool(tornado)
    out = None
    if outdir is not None:
        meta = {
            "base_scenario": scenario.name,
            "base_source": scenario.source,
            "scenario_hash": base_hash,
            "keys": keys,
            "cases": len(cases),
            "finished": len(rows),
            "failed": int((frame["status"] == "error").sum()),
            "interrupted": interrupted,
            "mode": mode,
            "scheduler": scheduler if isinstance(scheduler, str) or scheduler is None else repr(scheduler),
            "wall_seconds": round(time.perf_counter() - t_start, 3),
        }
        out = write_outputs(frame, Path(outdir), keys, meta, tornado=bool(tornado))
    if interrupted:
        raise SweepInterrupted(frame, out)
    return frame


def _representative_values(cases: list[dict[str, Any]], keys: list[str]) -> dict[str, list[Any]]:
    """Per key, the values worth checking: every distinct non-numeric value, and for numbers the
    smallest, the largest and one of each type (schema limits are bounds, so these suffice)."""
    out: dict[str, list[Any]] = {}
    for k in keys:
        vals = [c[k] for c in cases if k in c]
        nums = [v for v in vals if _is_number(v)]
        picked: list[Any] = []
        if nums:
            picked += [min(nums), max(nums)]
            seen_types: set[type] = set()
            for v in nums:
                if type(v) not in seen_types:
                    seen_types.add(type(v))
                    picked.append(v)
        for v in vals:
            if not _is_number(v) and not any(type(v) is type(p) and v == p for p in picked):
                picked.append(v)
        out[k] = picked
    return out


def _keys_of(cases: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for c in cases:
        for k in c:
            if k not in keys:
                keys.append(k)
    return keys


def _looks_like_tornado(cases: list[dict[str, Any]]) -> bool:
    if len(cases) < 3 or cases[0] != {} or any(len(c) != 1 for c in cases[1:]):
        return False
    counts: dict[str, int] = {}
    for c in cases[1:]:
        (k,) = c
        counts[k] = counts.get(k, 0) + 1
    return all(v == 2 for v in counts.values())


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm  # the plain bar: in a notebook it writes to stderr (no ipywidgets needed)

    return tqdm(total=total, disable=not enabled, file=sys.stderr, desc="sweep", unit="case", leave=True)


def _run_serial(scenario: Scenario, base_hash: str, cases: list[dict], rows: dict, progress: bool) -> None:
    with _progress_bar(len(cases), progress) as bar:
        for i, case in enumerate(cases):
            rows[i] = run_case(scenario, base_hash, i, case)
            bar.update(1)


def _connect(scheduler: Any, n_workers: int | None, timeout: float):
    """(client, cluster-or-None, own_client)."""
    import logging

    from distributed import Client, LocalCluster

    if scheduler is None:
        n = n_workers or _cores()
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )
        return Client(cluster), cluster, True
    if isinstance(scheduler, Client):
        return scheduler, None, False
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise SweepError(f"--scheduler: got {scheduler!r}; expected tcp://HOST:PORT, 'serial' or nothing (a LocalCluster)")
    address = scheduler.strip()
    if "://" not in address:
        address = "tcp://" + address
    try:
        client = Client(address, timeout=f"{timeout}s")
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ... all mean the same to the user
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SweepError(
            f"cannot reach the dask scheduler at {address} within {timeout:g} s ({reason[:200]}); "
            "is `dask scheduler` running there?"
        ) from None
    return client, None, True


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _run_dask(
    scenario: Scenario,
    base_hash: str,
    cases: list[dict],
    rows: dict,
    scheduler: Any,
    n_workers: int | None,
    progress: bool,
    timeout: float,
) -> None:
    from distributed import as_completed

    client, cluster, own = _connect(scheduler, n_workers, timeout)
    futures: dict[Any, int] = {}
    try:
        n = len(client.scheduler_info().get("workers", {}))
        if n == 0:
            try:
                client.wait_for_workers(1, timeout=max(timeout, 30.0))
            except Exception:  # noqa: BLE001 - TimeoutError and friends
                raise SweepError(f"the dask scheduler at {client.scheduler.address} has no workers; start `dask worker`") from None
            n = len(client.scheduler_info().get("workers", {})) or 1
        window = max(8, 4 * n)  # cases in flight: keeps every worker busy without flooding the scheduler
        base_future = client.scatter(scenario, broadcast=True, hash=False)
        token = f"{base_hash[:12]}-{time.time_ns()}"
        todo = iter(enumerate(cases))

        def submit(i: int, case: dict) -> Any:
            fut = client.submit(run_case, base_future, base_hash, i, case, key=f"planner-case-{token}-{i}", pure=False)
            futures[fut] = i
            return fut

        ac = as_completed([submit(i, c) for i, c in itertools.islice(todo, window)])
        with _progress_bar(len(cases), progress) as bar:
            for fut in ac:
                i = futures.pop(fut)
                try:
                    rows[i] = fut.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a worker died: record, go on
                    rows[i] = {"case_id": i, "status": "error", "error": _one_line(exc)}
                bar.update(1)
                nxt = next(todo, None)
                if nxt is not None:
                    ac.add(submit(*nxt))
    finally:
        for fut in list(futures):
            fut.cancel()
        if own:
            client.close()
        if cluster is not None:
            cluster.close()


# =========================================================================== results


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


def _frame(scenario: Scenario, cases: list[dict], keys: list[str], rows: dict[int, dict]) -> pd.DataFrame:
    raw = scenario.model_dump(mode="json")
    base_vals = {k: _get_path(raw, k) for k in keys}
    records = []
    for i in sorted(rows):
        rec: dict[str, Any] = {"case_id": i}
        for k in keys:
            rec[k] = _cell(cases[i].get(k, base_vals[k]))
        rec.update({k: v for k, v in rows[i].items() if k != "case_id"})
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    if df.empty:
        df = pd.DataFrame(columns=["case_id", *keys, "status", "objective_usd", "error"])
    for k in keys:  # one type per input column (parquet): numbers stay numbers, the rest becomes text
        col = df[k]
        if not all(v is None or _is_number(v) for v in col):
            df[k] = [None if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in col]
            df[k] = df[k].astype("string")
    shadow = [c for c in df.columns if c.startswith("shadow_price_")]
    drop = [c for c in shadow if not (pd.to_numeric(df[c], errors="coerce").fillna(0.0).abs() > 1e-6).any()]
    df = df.drop(columns=drop)
    order = ["case_id", *keys, "status", "solve_mode"]
    tail = ["seconds", "worker", "error"]
    middle = [c for c in df.columns if c not in order and c not in tail]
    df = df[[c for c in order + middle + tail if c in df.columns]]
    if "error" in df:
        df["error"] = df["error"].fillna("").astype("string")
    for c in ("status", "solve_mode", "worker"):
        if c in df:
            df[c] = df[c].astype("string")
    return df.reset_index(drop=True)


def write_outputs(frame: pd.DataFrame, outdir: Path, keys: list[str], meta: dict, tornado: bool = False) -> Path:
    """Write ``sweep.parquet``, ``sweep.csv``, ``sweep.json`` and the plots into *outdir*, atomically.

    The files are written to a temporary directory beside *outdir*, which then
    takes its place (the previous contents are removed only after that).
    """
    outdir = Path(outdir)
    parent = outdir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    if outdir.exists() and not outdir.is_dir():
        raise SweepError(f"{outdir}: exists and is not a directory")
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.tmp-{os.getpid()}-", dir=parent))
    try:
        frame.to_parquet(tmp / "sweep.parquet", engine="pyarrow", index=False)
        frame.to_csv(tmp / "sweep.csv", index=False, lineterminator="\n")
        with open(tmp / "sweep.json", "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, default=str)
            fh.write("\n")
        ok = frame[frame["status"] != "error"] if "status" in frame else frame
        if len(ok):
            plot_response(frame, keys).savefig(tmp / "sweep_response.png", dpi=110)
            if tornado:
                plot_tornado(frame).savefig(tmp / "tornado.png", dpi=110)
        if outdir.exists():
            old = outdir.with_name(f".{outdir.name}.old-{os.getpid()}")
            os.rename(outdir, old)
            os.rename(tmp, outdir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return outdir


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
    fig = Figure(figsize=(4.2 * n, 6.4), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    tornado = bool(frame.attrs.get("tornado"))
    for j, key in enumerate(keys):
        sub = ok
        if tornado and "case_id" in ok:
            sub = ok[(ok["case_id"] == 0) | (ok["case_id"].isin(_tornado_ids(frame, key)))]
        x, labels = _x_values(sub[key]) if len(sub) else (np.array([]), None)
        panels = [("objective_usd", "objective, bn USD", 1e-9, None)]
        panels += [(f"placed_it_mw_{c}", "placed IT load, MW", 1.0, c) for c in COUNTRIES]
        for col, ylabel, scale, label in panels:
            ax = axes[0 if col == "objective_usd" else 1][j]
            if col not in sub:
                continue
            y = sub[col].to_numpy(dtype=float) * scale
            ax.scatter(x, y, s=14, alpha=0.6, label=label)
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

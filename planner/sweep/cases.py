"""Case generation: full grids, Monte Carlo draws (random, Latin hypercube, Sobol), tornados, sweep files.

A *case* is a mapping of ``--set``-style dotted keys to values, e.g.
``{"carbon_price_usd_per_tco2.US": 50, "moratoria": []}``. Every key and value
is checked against the base scenario before any case runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from planner.errors import ScenarioError
from planner.scenario import Scenario, load_scenario
from planner.sweep.common import SweepError
from planner.sweep.common import is_number as _is_number

#: Keys a sweep file may hold.
SWEEP_FILE_KEYS = ("base", "description", "set", "vary", "distributions", "samples", "seed", "sampling", "tornado")
#: How ``--samples`` draws from the distributions: independent random draws, a Latin hypercube
#: (one draw in each of N equal-probability strata of every key), or scrambled Sobol points
#: (a low-discrepancy sequence; N a power of 2).
SAMPLING = ("random", "latin_hypercube", "sobol")
#: Supported distributions and their required / optional parameters.
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "uniform": (("low", "high"), ("integer",)),
    "normal": (("mean", "sd"), ("low", "high", "integer")),
    "triangular": (("low", "mode", "high"), ("integer",)),
    "choice": (("values",), ("p",)),
}


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


def monte_carlo_cases(distributions: Mapping[str, Mapping[str, Any]], n: int, seed: int,
                      sampling: str = "random") -> list[dict[str, Any]]:
    """*n* cases drawn from the distributions of the keys.

    Parameters
    ----------
    distributions
        ``{dotted key: {"dist": name, ...parameters}}`` with ``uniform`` (low, high),
        ``normal`` (mean, sd; optional low/high to clip), ``triangular``
        (low, mode, high) or ``choice`` (values; optional p). ``integer: true``
        rounds numeric draws.
    n
        Number of cases (>= 1; a power of 2 for ``sobol``).
    seed
        The seed; the same seed (and sampling) gives the same cases.
    sampling
        ``random``: independent draws from :func:`numpy.random.default_rng`, key by key
        in order. ``latin_hypercube``: :class:`scipy.stats.qmc.LatinHypercube`, so each
        key has exactly one draw in each of the *n* equal-probability strata of its
        distribution. ``sobol``: scrambled :class:`scipy.stats.qmc.Sobol` points (every
        key's strata as for a Latin hypercube, and pairs of the first keys balanced too).
        Both map points of the unit cube through each distribution's inverse CDF.

    Returns
    -------
    list of dict
        ``n`` cases ``{key: value}``.

    Raises
    ------
    SweepError
        An unknown distribution or sampling, a missing / inconsistent parameter, or
        ``sobol`` with *n* not a power of 2.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise SweepError(f"--samples: got {n!r}; expected an integer >= 1")
    if sampling not in SAMPLING:
        raise SweepError(f"--sampling: got {sampling!r}; expected one of {', '.join(SAMPLING)}")
    specs = {key: _check_distribution(key, spec) for key, spec in distributions.items()}
    if sampling != "random":
        return _quasi_cases(specs, int(n), seed, sampling)
    rng = np.random.default_rng(seed)
    columns: dict[str, list[Any]] = {}
    for key, spec in specs.items():
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
        columns[key] = _numbers(draws, spec)
    return [{k: columns[k][i] for k in columns} for i in range(n)]


def latin_hypercube_cases(distributions: Mapping[str, Mapping[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """*n* cases of a Latin hypercube: :func:`monte_carlo_cases` with ``sampling="latin_hypercube"``."""
    return monte_carlo_cases(distributions, n, seed, sampling="latin_hypercube")


def sobol_cases(distributions: Mapping[str, Mapping[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """*n* (a power of 2) scrambled Sobol cases: :func:`monte_carlo_cases` with ``sampling="sobol"``."""
    return monte_carlo_cases(distributions, n, seed, sampling="sobol")


def unit_points(d: int, n: int, seed: int, sampling: str) -> np.ndarray:
    """``(n, d)`` points of the unit cube from :mod:`scipy.stats.qmc` (``latin_hypercube`` or ``sobol``)."""
    from scipy.stats import qmc

    if sampling == "sobol":
        m = n.bit_length() - 1
        if n != 1 << m:
            raise SweepError(
                f"--samples: got {n} with --sampling sobol; expected a power of 2 (e.g. {1 << max(m, 0)} or "
                f"{1 << (m + 1)}): Sobol points are balanced only in blocks of 2^m"
            )
        return _qmc_engine(qmc.Sobol, d, seed).random_base2(m)
    return _qmc_engine(qmc.LatinHypercube, d, seed).random(n)


def _qmc_engine(kind: Any, d: int, seed: int) -> Any:
    try:
        return kind(d, scramble=True, rng=np.random.default_rng(seed))  # scipy >= 1.15
    except TypeError:  # older scipy names the generator `seed`
        return kind(d, scramble=True, seed=np.random.default_rng(seed))


def _quasi_cases(specs: Mapping[str, dict[str, Any]], n: int, seed: int, sampling: str) -> list[dict[str, Any]]:
    keys = list(specs)
    u = unit_points(max(1, len(keys)), n, seed, sampling)
    columns = {key: inverse_cdf(specs[key], u[:, j]) for j, key in enumerate(keys)}
    return [{k: columns[k][i] for k in keys} for i in range(n)]


def inverse_cdf(spec: Mapping[str, Any], u: np.ndarray) -> list[Any]:
    """Values of a (checked) distribution at probabilities *u* in [0, 1): its inverse CDF.

    ``normal`` is clipped to low/high like a random draw; ``choice`` picks the value whose
    cumulative probability interval holds *u*; ``integer: true`` rounds.
    """
    from scipy.special import ndtri

    u = np.asarray(u, dtype=float)
    dist = spec["dist"]
    if dist == "uniform":
        x = spec["low"] + u * (spec["high"] - spec["low"])
    elif dist == "normal":
        x = np.clip(spec["mean"] + spec["sd"] * ndtri(u), spec.get("low", -np.inf), spec.get("high", np.inf))
    elif dist == "triangular":
        lo, mode, hi = float(spec["low"]), float(spec["mode"]), float(spec["high"])
        f = (mode - lo) / (hi - lo)
        x = np.where(u < f, lo + np.sqrt(u * (hi - lo) * (mode - lo)), hi - np.sqrt((1 - u) * (hi - lo) * (hi - mode)))
    else:  # choice
        values = spec["values"]
        p = np.asarray(spec.get("p") or [1.0 / len(values)] * len(values), dtype=float)
        idx = np.minimum(np.searchsorted(np.cumsum(p) / p.sum(), u, side="right"), len(values) - 1)
        return [values[i] for i in idx]
    return _numbers(x, spec)


def _numbers(draws: np.ndarray, spec: Mapping[str, Any]) -> list[Any]:
    if spec.get("integer"):
        return [int(round(v)) for v in draws]
    return [float(v) for v in draws]


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
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
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
        ``grid``, ``monte_carlo``, ``latin_hypercube``, ``sobol`` or ``tornado``.
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
    sampling: str | None = None,
) -> SweepSpec:
    """Build a :class:`SweepSpec` from a scenario or sweep file and command-line options.

    A sweep file holds ``base`` (a scenario path, relative to the sweep file),
    optional ``set`` (fixed overrides), ``vary`` (``{key: [values]}``),
    ``distributions`` (``{key: {dist: ...}}``) and defaults for ``samples``,
    ``seed`` and ``tornado``. ``--vary`` options add to ``vary``.

    * ``tornado``: each key of ``vary`` (min / max, or first / last) and of
      ``distributions`` (low / high) alone; the base case first.
    * ``samples``: *samples* Monte Carlo draws from ``distributions``, crossed with
      the ``vary`` grid when there is one (every grid point gets the same draws);
      ``sampling`` (or the file's ``sampling:``) is ``random`` (default),
      ``latin_hypercube`` or ``sobol`` (see :func:`monte_carlo_cases`).
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
        sampling = sampling if sampling is not None else raw.get("sampling")
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
        method = "random" if sampling is None else sampling
        if method not in SAMPLING:
            raise SweepError(f"{source}: sampling: got {method!r}; expected one of {', '.join(SAMPLING)}")
        draws = monte_carlo_cases(dists, int(samples), int(seed if seed is not None else 0), sampling=method)
        cases = [{**g, **d} for g in (grid_cases(grid) if grid else [{}]) for d in draws]
        return SweepSpec(base, cases, "monte_carlo" if method == "random" else method, source)
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
    from planner.sweep.common import supply_for, tables_for

    firsts: dict[str, Any] = {}
    for key, vals in values.items():
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) or len(vals) == 0:
            raise ScenarioError("--vary", key, vals, "a non-empty list of values")
        for v in vals:
            base.with_overrides({key: v})
        firsts[key] = vals[0]
    if not build_inputs or not firsts:
        return
    # one build with every key at its first value; only if that fails, one per key, to name the key
    try:
        joint = base.with_overrides(firsts)
        _build(joint, tables_for(joint), supply_for(joint))
        return
    except Exception:  # noqa: BLE001 - the per-key builds below raise the one-line error
        pass
    for key, v in firsts.items():
        scenario = base.with_overrides({key: v})
        _build(scenario, tables_for(scenario), supply_for(scenario))


def representative_values(cases: list[dict[str, Any]], keys: list[str]) -> dict[str, list[Any]]:
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


def keys_of(cases: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for c in cases:
        for k in c:
            if k not in keys:
                keys.append(k)
    return keys


def looks_like_tornado(cases: list[dict[str, Any]]) -> bool:
    if len(cases) < 3 or cases[0] != {} or any(len(c) != 1 for c in cases[1:]):
        return False
    counts: dict[str, int] = {}
    for c in cases[1:]:
        (k,) = c
        counts[k] = counts.get(k, 0) + 1
    return all(v == 2 for v in counts.values())


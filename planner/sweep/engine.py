"""Solving cases fast: the model built once, cost-only changes as array updates, compact rows.

Three pieces:

* :class:`RowKernel`: what a sweep row reports, as sparse weights on the solution
  vector (placed IT MW per country, emissions, grid load per grid region, ...)
  and the objective parts as ``cost_parts @ v``. One row is a few sparse
  products, not a :class:`~planner.result.Result`. The same figures as
  ``Result.summary`` (checked case by case in ``tests/test_sweep_fast.py``).
* :class:`AffinePlan`: for keys whose effect on the model is *affine* in the
  value (carbon prices, power prices, headroom values, expansion caps...), the
  model's arrays (costs, cost parts, column and row bounds) as
  ``base + sum_k (delta_k + (value_k - low_k) * slope_k)``. Whether a key is
  affine is not assumed: :func:`plan_affine` builds the model at the low and high
  end of the key's values and at two points between, checks that the structure
  (matrix, columns) and the row kernel do not move and that the arrays lie on
  the line (to 1e-10 relative), and, with several keys, that they add up at one
  joint point. Keys that fail take the full path (build the inputs and the
  model for the case).
* :class:`Engine`: per process, the base model kept in one HiGHS instance. A
  batch of cases is solved warm, one after the other, pushing only the changed
  costs and bounds; the answer is a compact :class:`Batch` of arrays.
"""

from __future__ import annotations

import copy
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.data.load import Tables
from planner.inputs import Inputs, build_inputs
from planner.model.assemble import build_model
from planner.model.core import Model
from planner.scenario import Scenario
from planner.solver import run_limited
from planner.sweep.common import COUNTRIES, is_number, one_line, supply_for, tables_for

#: The objective part that is a penalty, not a cost: reported, but left out of ``objective_usd``.
PENALTY_PART = "unserved"
#: Shares below this are solver noise, as in :mod:`planner.result`.
TOL = 1e-7
#: Relative tolerance of the affine check.
AFFINE_RTOL = 1e-10
#: Interior probe points (fractions of the key's range) of the affine check.
PROBES = (0.37, 0.71)
#: Hours per year.
HOURS = 8760.0


# =========================================================================== row kernel


@dataclass
class RowKernel:
    """The figures of one sweep row as linear maps of the solution vector.

    Attributes
    ----------
    columns
        Names of the row's numeric columns, in order.
    W
        ``(n_linear, n)`` weights for the columns after the objective and its parts.
    place_keys
        ``(region_id, year)`` of each row of ``R_it`` / ``R_grid``.
    R_it, R_grid
        ``(n_region_years, n)`` IT and grid MW online per zone and year.
    grid_ids
        Grid regions in column order; ``last_year`` and ``discount_last`` for the marginal values.
    """

    columns: list[str]
    parts: tuple[str, ...]
    W: sp.csr_matrix
    place_keys: list[tuple[str, int]]
    R_it: sp.csr_matrix
    R_grid: sp.csr_matrix
    grid_ids: list[str]
    last_year: int
    discount_last: float
    n_x: int
    n_u: int
    x: slice
    u: slice

    def same_as(self, other: RowKernel) -> bool:
        """True when both give the same rows for every solution vector."""
        return (
            self.columns == other.columns
            and self.place_keys == other.place_keys
            and _same_sparse(self.W, other.W)
            and _same_sparse(self.R_it, other.R_it)
            and _same_sparse(self.R_grid, other.R_grid)
        )

    def row(self, sol_values: np.ndarray, objective_usd: float, parts: Any) -> tuple[np.ndarray, np.ndarray]:
        """The row's numbers and the placements vector for one solution.

        Parameters
        ----------
        sol_values
            The solver's column values.
        objective_usd
            The solver's objective (with the unserved penalty).
        parts
            ``(len(self.parts), n)`` cost parts of this case's model (dense or sparse), or a
            callable taking the cleaned solution vector and returning the parts' values.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            The row (``columns``) and the IT MW per ``place_keys``.
        """
        v = np.clip(sol_values, 0.0, None)
        xs = v[self.x]
        xs[xs < TOL] = 0.0  # a view: v's x entries too, as planner.result does
        part_vals = parts(v) if callable(parts) else parts @ v
        vw = v.copy()
        us = vw[self.u]
        us[us <= TOL] = 0.0
        lin = self.W @ vw
        k = len(self.parts)
        out = np.empty(1 + k + len(lin))
        out[0] = objective_usd - (part_vals[self.parts.index(PENALTY_PART)] if PENALTY_PART in self.parts else 0.0)
        out[1 : 1 + k] = part_vals
        out[1 + k :] = lin
        return out, self.R_it @ v


    def stacked(self, parts0: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """``[parts0; W; R_it]`` as one CSR matrix (one product per case), and ``W``'s unserved columns."""
        M = sp.vstack([parts0, self.W, self.R_it], format="csr")
        return M, sp.csr_matrix(self.W[:, self.u])

    def row_stacked(self, sol_values: np.ndarray, objective_usd: float, M: sp.csr_matrix, W_u: sp.csr_matrix,
                    part_extra: Any) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`row` with the products of :meth:`stacked`: the same numbers in one matrix product.

        *part_extra* maps the cleaned solution vector to what the case's cost parts add to ``parts0``.
        """
        v = np.clip(sol_values, 0.0, None)
        xs = v[self.x]
        xs[xs < TOL] = 0.0
        y = M @ v
        k = len(self.parts)
        n_lin = self.W.shape[0]
        part_vals = y[:k] + part_extra(v)
        lin = y[k : k + n_lin]
        us = v[self.u]
        tiny = (us > 0.0) & (us <= TOL)
        if tiny.any():  # unserved shares below the noise level count as none in the row (as in row())
            lin = lin - W_u @ np.where(tiny, us, 0.0)
        out = np.empty(1 + k + n_lin)
        out[0] = objective_usd - (part_vals[self.parts.index(PENALTY_PART)] if PENALTY_PART in self.parts else 0.0)
        out[1 : 1 + k] = part_vals
        out[1 + k :] = lin
        return out, y[k + n_lin :]


def _same_sparse(a: sp.spmatrix, b: sp.spmatrix) -> bool:
    if a.shape != b.shape:
        return False
    d = (a - b).tocoo()
    return bool(d.nnz == 0 or np.all(np.abs(d.data) <= 1e-12 * (1.0 + abs(a).max())))


def parts_of(model: Model) -> tuple[str, ...]:
    """The objective's parts, as the model splits its costs (``Model.cost_parts``, in its order)."""
    return tuple(model.cost_parts)


def parts_matrix(model: Model, parts: Sequence[str]) -> sp.csr_matrix:
    """``(len(parts), n)``: the model's cost part vectors as rows (a part the model lacks is zero)."""
    n = model.columns.n
    rows = [np.asarray(model.cost_parts[p], dtype=float) if p in model.cost_parts else np.zeros(n) for p in parts]
    return sp.csr_matrix(np.vstack(rows)) if rows else sp.csr_matrix((0, n))


def row_kernel(inputs: Inputs, model: Model) -> RowKernel:
    """The :class:`RowKernel` of a built model (the same figures as ``Result.summary``).

    Columns: ``objective_usd`` (without the unserved penalty), ``<part>_usd`` per
    objective part (every part of ``model.cost_parts``, in its order, so a new part
    of the objective gets its column without a change here), then per country ``placed_it_mw_<C>`` (IT load hosted in C),
    ``unserved_it_mw_<C>`` (of C's own clusters), ``new_capacity_mw_<C>``
    (cumulative, last year), ``emissions_tco2_per_yr_<C>``, then
    ``unserved_it_mw`` (all) and ``grid_load_mw_<grid region>`` (last year).
    """
    cols = model.columns
    n = cols.n
    pairs = cols.pairs
    years = np.asarray(inputs.years, dtype=int)
    last = int(years[-1])
    it = pairs["it_load_mw"].to_numpy(dtype=float)
    grid_mw = it * pairs["pue"].to_numpy(dtype=float)
    emis = grid_mw * pairs["utilisation"].to_numpy(dtype=float) * pairs["co2_tco2_per_mwh"].to_numpy(dtype=float) * HOURS
    online = pairs["online_year"].to_numpy(dtype=int)
    country = pairs["country"].to_numpy()
    cl = inputs.clusters.loc[cols.clusters]
    home = cl["home_country"].to_numpy()
    cl_it = cl["it_load_mw"].to_numpy(dtype=float)
    grids = inputs.grid_regions.sort_index()
    new_country = grids["country"].reindex(cols.new["grid_region_id"]).to_numpy() if cols.n_new else np.array([])
    new_year = cols.new["year"].to_numpy(dtype=int) if cols.n_new else np.array([], dtype=int)
    xs = np.arange(cols.x.start, cols.x.stop)
    us = np.arange(cols.u.start, cols.u.stop)
    ns = np.arange(cols.new_slice.start, cols.new_slice.stop)
    parts = parts_of(model)
    names: list[str] = ["objective_usd", *[f"{p}_usd" for p in parts]]
    r_i: list[np.ndarray] = []
    c_i: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def add(name: str, idx: np.ndarray, w: np.ndarray) -> None:
        r = len(names) - 1 - len(parts)
        names.append(name)
        r_i.append(np.full(len(idx), r))
        c_i.append(idx)
        vals.append(w)

    for c in COUNTRIES:
        on = (country == c) & (online <= last)
        add(f"placed_it_mw_{c}", xs[on], it[on])
        mine = home == c
        add(f"unserved_it_mw_{c}", us[mine], cl_it[mine])
        nc = (new_country == c) & (new_year <= last)
        add(f"new_capacity_mw_{c}", ns[nc], np.ones(int(nc.sum())))
        add(f"emissions_tco2_per_yr_{c}", xs[on], emis[on])
    add("unserved_it_mw", us, cl_it)
    grid_ids = [str(g) for g in grids.index]
    pg = pairs["grid_region_id"].to_numpy()
    for g in grid_ids:
        on = (pg == g) & (online <= last)
        add(f"grid_load_mw_{g}", xs[on], grid_mw[on])
    n_lin = len(names) - 1 - len(parts)
    W = sp.csr_matrix((np.concatenate(vals), (np.concatenate(r_i), np.concatenate(c_i))), shape=(n_lin, n))

    # IT and grid MW per zone and year: a pair counts from its online year on
    regions = sorted(set(pairs["region_id"]))
    rpos = {r: i for i, r in enumerate(regions)}
    ri = np.array([rpos[r] for r in pairs["region_id"]], dtype=int)
    ny = len(years)
    t0 = online - years[0]
    reps = np.clip(ny - t0, 0, ny)
    p_idx = np.repeat(np.arange(len(pairs)), reps)
    t_idx = np.concatenate([np.arange(max(t, 0), ny) for t in t0]) if len(pairs) else np.array([], dtype=int)
    row_idx = ri[p_idx] * ny + t_idx
    shape = (len(regions) * ny, n)
    R_it = sp.csr_matrix((it[p_idx], (row_idx, xs[p_idx])), shape=shape)
    R_grid = sp.csr_matrix((grid_mw[p_idx], (row_idx, xs[p_idx])), shape=shape)
    place_keys = [(r, int(y)) for r in regions for y in years]
    disc = float(inputs.discount.reindex([last]).to_numpy()[0])
    return RowKernel(names, parts, W, place_keys, R_it, R_grid, grid_ids, last, disc, cols.n_x, cols.n_u, cols.x, cols.u)


def marginal_columns(model: Model, sol: Any, h: Any, mode: str, kernel: RowKernel) -> dict[str, float]:
    """The marginal values a sweep row carries: per grid region, the last year's one-sided values.

    ``value_of_plus_1mw_<G>_usd_per_mw_yr`` and ``cost_of_minus_1mw_<G>_usd_per_mw_yr``
    (USD per MW-yr, undiscounted to that year), from :func:`planner.marginals.marginals_for`,
    as ``Result.grid_regions`` reports them. Empty when *mode* is ``none``. This one
    function is all a sweep knows about marginal values.
    """
    if mode == "none":
        return {}
    from planner.marginals import marginals_for

    marg = marginals_for(model, sol, mode, h)
    out: dict[str, float] = {}
    for g in kernel.grid_ids:
        p, m = marg.joint_values((g, kernel.last_year))
        if (g, kernel.last_year) not in marg.joint and marg.mode not in ("none", "unavailable"):
            p, m = 0.0, 0.0
        for name, val in (("value_of_plus_1mw", p), ("cost_of_minus_1mw", m)):
            v = float(val) / kernel.discount_last
            out[f"{name}_{g}_usd_per_mw_yr"] = 0.0 if (not np.isfinite(v) or abs(v) < 1e-6) else v
    return out


def marginal_names(kernel: RowKernel, mode: str) -> list[str]:
    """Column names :func:`marginal_columns` fills (none when *mode* is ``none``)."""
    if mode == "none":
        return []
    return [f"{n}_{g}_usd_per_mw_yr" for g in kernel.grid_ids for n in ("value_of_plus_1mw", "cost_of_minus_1mw")]


# =========================================================================== affine plan

def arrays_of(parts: Sequence[str]) -> tuple[str, ...]:
    """The model arrays that may change with a cost-only key, in the order of ``theta``."""
    return ("c", *[f"part:{p}" for p in parts], "lower", "upper", "row_lower", "row_upper")


def theta_of(model: Model, parts: Sequence[str] | None = None) -> np.ndarray:
    """All of a model's changeable arrays, concatenated in the order of :func:`arrays_of` (default
    parts: the model's own)."""
    n = model.columns.n
    parts = parts_of(model) if parts is None else parts
    vecs = [model.cost_parts.get(p, np.zeros(n)) for p in parts]
    return np.concatenate([model.c, *vecs, model.lower, model.upper, model.row_lower, model.row_upper]).astype(float)


def _layout(n: int, m: int, parts: Sequence[str]) -> dict[str, slice]:
    sizes = [n] * (1 + len(parts)) + [n, n, m, m]
    out, start = {}, 0
    for name, size in zip(arrays_of(parts), sizes):
        out[name] = slice(start, start + size)
        start += size
    return out


@dataclass
class AffinePlan:
    """Model arrays as affine functions of the values of the fast keys.

    ``theta(case) = theta0 + sum_k [delta0_k + (value_k - low_k) slope_k]`` over the
    fast keys the case sets (a key it does not set keeps the base arrays).
    """

    keys: list[str]
    low: dict[str, float]
    delta0: dict[str, tuple[np.ndarray, np.ndarray]]  # key -> (indices, values)
    slope: dict[str, tuple[np.ndarray, np.ndarray]]
    theta0: np.ndarray
    layout: dict[str, slice]
    rejected: dict[str, str] = field(default_factory=dict)  # key -> why it takes the full path

    def covers(self, case: Mapping[str, Any]) -> bool:
        """True when every key of *case* is a fast key with a numeric value."""
        return all(k in self.low and is_number(v) for k, v in case.items())

    def theta(self, case: Mapping[str, Any]) -> np.ndarray:
        """The case's arrays (a new vector)."""
        t = self.theta0.copy()
        for k, v in case.items():
            i, d = self.delta0[k]
            t[i] += d
            i, s = self.slope[k]
            t[i] += (float(v) - self.low[k]) * s
        return t


def _build(base: Scenario, tables: Tables, case: Mapping[str, Any]) -> tuple[Inputs, Model]:
    scenario = base.with_overrides(dict(case)) if case else base
    inputs = build_inputs(scenario, tables, supply_for(scenario))
    return inputs, build_model(inputs)


def same_structure(a: Model, b: Model) -> bool:
    """Same columns, integrality and matrix (pattern and values): only costs and bounds may differ."""
    if a.A.shape != b.A.shape or a.A.nnz != b.A.nnz or not np.array_equal(a.integrality, b.integrality):
        return False
    pa, pb = a.columns.pairs, b.columns.pairs
    if not pa[["cluster_id", "region_id", "site_id"]].equals(pb[["cluster_id", "region_id", "site_id"]]):
        return False
    if not a.columns.clusters.equals(b.columns.clusters) or a.columns.n != b.columns.n:
        return False
    A, B = a.A.tocsc(), b.A.tocsc()
    return np.array_equal(A.indptr, B.indptr) and np.array_equal(A.indices, B.indices) and np.array_equal(A.data, B.data)


def _close(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> bool:
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not np.array_equal(a[~fa], b[~fb]):
        return False
    return bool(np.all(np.abs(a[fa] - b[fb]) <= AFFINE_RTOL * scale[fa] + 1e-9))


def _sparse(vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vec = np.where(np.isfinite(vec), vec, 0.0)
    idx = np.flatnonzero(vec)
    return idx, vec[idx]


def plan_affine(
    base: Scenario, tables: Tables, inputs: Inputs, model: Model, kernel: RowKernel, cases: Sequence[Mapping[str, Any]]
) -> AffinePlan:
    """Find the keys of *cases* whose effect on the model is affine, and their slopes.

    A key qualifies when every case value is a number, the model built at its low
    and high value has the base's structure and row kernel, and the arrays lie on the
    line between those two builds (to :data:`AFFINE_RTOL`) at two points between.
    With several keys, the two points between are joint (every key at an interior
    value of its own range, at once), and a third joint build has every key at its
    high value: the arrays must equal the sum of the keys' effects at all three, so
    2 builds per key and 3 more check linearity and additivity together. When a joint
    check fails, each key is probed alone at its two interior points (the keys that
    leave their line take the full path), and the survivors must add up at their
    high values, or none of them is fast.
    Keys that fail, and why, are in ``rejected``.
    """
    parts = kernel.parts
    theta0 = theta_of(model, parts)
    layout = _layout(model.columns.n, model.A.shape[0], parts)
    plan = AffinePlan([], {}, {}, {}, theta0, layout)
    values: dict[str, list[Any]] = {}
    for case in cases:
        for k, v in case.items():
            values.setdefault(k, []).append(v)
    fin0 = np.isfinite(theta0)
    ranges: dict[str, tuple[Any, Any, bool]] = {}  # key -> (low, high, integer)

    def probe(case: Mapping[str, Any]) -> np.ndarray:
        inp, mod = _build(base, tables, case)
        if not same_structure(model, mod):
            raise _NotAffine("changes the model's structure")
        if not row_kernel(inp, mod).same_as(kernel):
            raise _NotAffine("changes what the row reports (loads, emissions)")
        return theta_of(mod, parts)

    def interior(key: str, f: float) -> Any:
        lo, hi, integer = ranges[key]
        p = lo + f * (hi - lo)
        return int(round(p)) if integer else float(p)

    for key, vals in values.items():
        if not all(is_number(v) for v in vals):
            plan.rejected[key] = "not a number"
            continue
        lo, hi = min(vals), max(vals)
        try:
            t_lo, t_hi = probe({key: lo}), probe({key: hi})
        except _NotAffine as exc:
            plan.rejected[key] = str(exc)
            continue
        except Exception as exc:  # noqa: BLE001 - e.g. bad data at one end: the full path reports it per case
            plan.rejected[key] = f"the model cannot be built at every probe value ({one_line(exc)[:120]})"
            continue
        if not _close(np.where(np.isfinite(t_lo), 0, t_lo), np.where(fin0, 0, theta0), np.ones_like(t_lo)):
            plan.rejected[key] = "changes which bounds are infinite"
            continue
        slope = (np.where(np.isfinite(t_hi), t_hi, 0) - np.where(np.isfinite(t_lo), t_lo, 0)) / (hi - lo) if hi != lo else np.zeros_like(t_lo)
        plan.keys.append(key)
        plan.low[key] = float(lo)
        plan.delta0[key] = _sparse(np.where(fin0, np.where(fin0, t_lo, 0.0) - np.where(fin0, theta0, 0.0), 0.0))
        plan.slope[key] = _sparse(slope)
        ranges[key] = (lo, hi, all(isinstance(v, (int, np.integer)) for v in vals))

    def agrees(point: Mapping[str, Any]) -> bool:
        try:
            t = probe(point)
        except Exception:  # noqa: BLE001 - _NotAffine or a build error: not on the line
            return False
        return _close(plan.theta(point), t, np.abs(np.where(np.isfinite(t), t, 0)) + np.abs(np.where(fin0, theta0, 0)))

    def drop(keys: Sequence[str], why: str) -> None:
        for k in keys:
            plan.rejected[k] = why
            plan.keys.remove(k)
            del plan.low[k], plan.delta0[k], plan.slope[k]

    # joint interior points: key j at fraction (f + 0.23 j) mod 1 of its range, so no two keys move in step
    joint = [{k: interior(k, (f + 0.23 * j) % 1.0) for j, k in enumerate(plan.keys)} for f in PROBES]
    checks = joint + ([{k: ranges[k][1] for k in plan.keys}] if len(plan.keys) >= 2 else [])
    if plan.keys and not all(agrees(point) for point in checks):
        # find the keys that leave their line, alone; the rest must still add up
        for key in list(plan.keys):
            if not all(agrees({key: interior(key, f)}) for f in PROBES):
                drop([key], "not affine in its value (the arrays leave the line between the probes)")
        if len(plan.keys) >= 2 and not agrees({k: ranges[k][1] for k in plan.keys}):
            drop(list(plan.keys), "the keys' effects do not add up (they interact)")
    return plan


class _NotAffine(Exception):
    pass


@dataclass(frozen=True)
class Anchors:
    """Where fast cases start: the optimal basis at the centre of their cell of a grid over the keys.

    Each fast key's range (over the sweep's whole case list) is cut into ``levels`` equal
    intervals; a case belongs to the cell of its values, and is solved from the optimal basis of
    the cell's centre, which is itself solved from the base's basis. A case near its anchor needs
    far fewer simplex iterations than one solved from the base (on the reference with on-site
    power: ~65 instead of ~410), and the start depends only on the case and the sweep (the
    ranges and the number of cases), never on which cases a worker solved before, so serial
    runs, Dask and a resumed sweep still agree case by case. A key a case does not set keeps
    the base value in its anchor too.
    """

    keys: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    levels: int

    def cell(self, case: Mapping[str, Any]) -> tuple[int, ...]:
        """The case's cell: an interval number per key (-1 where the case does not set the key)."""
        out = []
        for k, lo, hi in zip(self.keys, self.low, self.high):
            if k not in case:
                out.append(-1)
                continue
            f = (float(case[k]) - lo) / (hi - lo) if hi > lo else 0.0
            out.append(int(min(self.levels - 1, max(0, np.floor(f * self.levels)))))
        return tuple(out)

    def point(self, cell: tuple[int, ...]) -> dict[str, float]:
        """The centre of *cell*, as a case (a cell number of ``levels`` is the centre of the range)."""
        return {k: lo + (i + 0.5) / self.levels * (hi - lo) if i < self.levels else (lo + hi) / 2
                for k, lo, hi, i in zip(self.keys, self.low, self.high, cell) if i >= 0}

    def centre(self, cell: tuple[int, ...]) -> tuple[int, ...]:
        """The pseudo-cell of the centre of the ranges for the keys *cell* sets (anchors start there)."""
        mid = self.levels if self.levels % 2 == 0 else self.levels // 2
        return tuple(-1 if i < 0 else mid for i in cell)


#: Cases per anchor, at least (an anchor costs about one solve from the base basis, 3-6 cases' worth).
CASES_PER_ANCHOR = 10
#: Intervals per key, at most (4 per key: 256 anchors for 4 keys, from 2,560 cases).
MAX_ANCHOR_LEVELS = 4


def anchors_for(affine: AffinePlan | None, cases: Sequence[Mapping[str, Any]]) -> Anchors | None:
    """The anchors of a sweep of *cases* (its whole list, also when resuming), or None when there
    are too few cases for an anchor to pay off (the cases then start from the base's basis).

    The levels are the largest L <= 4 with L ** (fast keys) anchors for at least
    :data:`CASES_PER_ANCHOR` cases each; L = 1 is one anchor at the centre of the ranges."""
    if affine is None or not affine.keys:
        return None
    keys = tuple(affine.keys)
    levels = 0
    for L in range(1, MAX_ANCHOR_LEVELS + 1):
        if L ** len(keys) * CASES_PER_ANCHOR <= len(cases):
            levels = L
    if not levels:
        return None
    vals = {k: [float(c[k]) for c in cases if k in c and is_number(c[k])] for k in keys}
    if not all(vals.values()):
        return None
    return Anchors(keys, tuple(min(vals[k]) for k in keys), tuple(max(vals[k]) for k in keys), levels)


# =========================================================================== the engine


@dataclass
class SweepPlan:
    """What a worker needs to solve cases: shipped once per worker (Dask scatters it).

    Attributes
    ----------
    token
        Identifies this plan (engines are cached per process by it).
    base
        The base scenario (absolute data paths).
    model, kernel, affine
        The base model, its row kernel and the affine plan (``None``: no fast path).
    marginals
        ``none``, ``binding`` or ``all``: the marginal values each row carries.
    columns
        The row's numeric columns (kernel columns, then the marginal-value columns).
    anchors
        Where fast cases start (:class:`Anchors`; ``None``: from the base's basis).
    """

    token: str
    base: Scenario
    model: Model
    kernel: RowKernel
    affine: AffinePlan | None
    marginals: str
    columns: list[str]
    anchors: Anchors | None = None


@dataclass
class Batch:
    """The compact answer of one batch of cases (arrays, no DataFrames)."""

    case_id: np.ndarray
    status: list[str]
    mode: list[str]
    error: list[str]
    values: np.ndarray  # (cases, len(columns))
    seconds: np.ndarray
    worker: str | list[str]  # host:pid of the process (one per case once batches are merged)
    place_case: np.ndarray
    place_key: np.ndarray  # index into the plan's kernel.place_keys (or -1: see place_extra)
    place_it_mw: np.ndarray
    place_extra: list[tuple[str, int]] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C stopped the batch: these are the cases finished before it


_ENGINES: dict[str, Engine] = {}
_MAX_ENGINES = 2


def make_plan(base: Scenario, cases: Sequence[Mapping[str, Any]], marginals: str = "none", fast: bool = True,
              tables: Tables | None = None, all_cases: Sequence[Mapping[str, Any]] | None = None) -> SweepPlan:
    """Build the base model, its row kernel and (with *fast*) the affine plan for *cases*.

    *all_cases* is the sweep's whole case list when *cases* is part of it (a resumed sweep): the
    anchors, where fast cases start, are drawn from it, so a case starts where it would have in
    the uninterrupted run."""
    tables = tables or tables_for(base)
    inputs, model = _build(base, tables, {})
    kernel = row_kernel(inputs, model)
    affine = plan_affine(base, tables, inputs, model, kernel, cases) if fast else None
    columns = kernel.columns + marginal_names(kernel, marginals)
    token = f"{base.hash()[:12]}-{time.time_ns()}"
    anchors = anchors_for(affine, all_cases if all_cases is not None else cases)
    return SweepPlan(token, base, model, kernel, affine, marginals, columns, anchors)


def engine_for(plan: SweepPlan) -> Engine:
    """This process's engine for *plan* (built on first use, then kept)."""
    e = _ENGINES.pop(plan.token, None)
    if e is None:
        e = Engine(plan)
    _ENGINES[plan.token] = e
    while len(_ENGINES) > _MAX_ENGINES:
        _ENGINES.pop(next(iter(_ENGINES)))
    return e


class FastCases:
    """The affine plan compiled for one process: what a fast case pushes into HiGHS and reads back.

    Only the *touched* entries of ``theta`` (those some fast key moves, plus the other bound of a
    moved column or row) are computed per case, as ``theta0 + sum_k [delta_k + (value_k - low_k)
    slope_k]`` over the keys the case sets, in dense columns over the touched entries. The case's
    cost parts are the base parts (a sparse matrix) plus the moved part entries; no model object
    and no full-length array is built per case.
    """

    def __init__(self, plan: SweepPlan) -> None:
        aff = plan.affine
        assert aff is not None
        lay, model = aff.layout, plan.model
        self.keys = list(aff.keys)
        self.pos = {k: j for j, k in enumerate(self.keys)}
        self.low = np.array([aff.low[k] for k in self.keys], dtype=float)
        moved = [aff.delta0[k][0] for k in self.keys] + [aff.slope[k][0] for k in self.keys]
        t = np.unique(np.concatenate(moved)) if moved else np.zeros(0, dtype=np.int64)

        def within(name: str) -> np.ndarray:
            sl = lay[name]
            return t[(t >= sl.start) & (t < sl.stop)] - sl.start

        self.cost_cols = within("c").astype(np.int32)
        self.bound_cols = np.union1d(within("lower"), within("upper")).astype(np.int32)
        self.bound_rows = np.union1d(within("row_lower"), within("row_upper")).astype(np.int32)
        self.parts = plan.kernel.parts
        part_j, part_col = [], []
        for j, p in enumerate(self.parts):
            cols = within(f"part:{p}")
            part_j.append(np.full(len(cols), j, dtype=np.int64))
            part_col.append(cols)
        self.part_j = np.concatenate(part_j) if part_j else np.zeros(0, dtype=np.int64)
        self.part_col = np.concatenate(part_col) if part_col else np.zeros(0, dtype=np.int64)
        # the touched entries in push order: costs, column lower, column upper, row lower, row upper, parts
        index = np.concatenate([
            lay["c"].start + self.cost_cols, lay["lower"].start + self.bound_cols, lay["upper"].start + self.bound_cols,
            lay["row_lower"].start + self.bound_rows, lay["row_upper"].start + self.bound_rows,
            np.array([lay[f"part:{self.parts[j]}"].start for j in self.part_j], dtype=np.int64).reshape(-1) + self.part_col,
        ]).astype(np.int64)
        self.index = index
        c, b, r = len(self.cost_cols), len(self.bound_cols), len(self.bound_rows)
        self.s_cost = slice(0, c)
        self.s_lower, self.s_upper = slice(c, c + b), slice(c + b, c + 2 * b)
        self.s_rlower, self.s_rupper = slice(c + 2 * b, c + 2 * b + r), slice(c + 2 * b + r, c + 2 * b + 2 * r)
        self.s_parts = slice(c + 2 * b + 2 * r, len(index))
        self.theta0 = aff.theta0[index]
        order = np.argsort(index)
        self.delta = np.zeros((len(self.keys), len(index)))
        self.slope = np.zeros((len(self.keys), len(index)))
        for j, k in enumerate(self.keys):
            for dense, (i, v) in ((self.delta, aff.delta0[k]), (self.slope, aff.slope[k])):
                dense[j, order[np.searchsorted(index[order], i)]] = v
        self.parts_base = self.theta0[self.s_parts]
        self.M, self.W_u = plan.kernel.stacked(parts_matrix(model, self.parts))
        self.n = int(model.columns.n)

    def covers(self, case: Mapping[str, Any]) -> bool:
        """True when every key of *case* is a fast key with a numeric value."""
        pos = self.pos
        return all(k in pos and is_number(v) for k, v in case.items())

    def touched(self, case: Mapping[str, Any]) -> np.ndarray:
        """The touched entries of ``theta`` for *case* (same operations, in the same order, as
        :meth:`AffinePlan.theta`, so both give the same numbers)."""
        t = self.theta0.copy()
        for k, v in case.items():
            j = self.pos[k]
            t += self.delta[j]
            t += (float(v) - self.low[j]) * self.slope[j]
        return t

    def push(self, h: Any, t: np.ndarray, scale: float) -> None:
        """Set the case's costs and bounds in *h* (every touched entry: cases do not depend on each other)."""
        if len(self.cost_cols):
            h.changeColsCost(len(self.cost_cols), self.cost_cols, t[self.s_cost] * scale)
        if len(self.bound_cols):
            h.changeColsBounds(len(self.bound_cols), self.bound_cols, t[self.s_lower], t[self.s_upper])
        if len(self.bound_rows):
            h.changeRowsBounds(len(self.bound_rows), self.bound_rows, t[self.s_rlower], t[self.s_rupper])

    def part_extra(self, t: np.ndarray) -> Any:
        """A function of the cleaned solution vector: what the case's cost parts add to the base's."""
        d = t[self.s_parts] - self.parts_base
        k = len(self.parts)

        def extra(v: np.ndarray) -> np.ndarray:
            return np.bincount(self.part_j, d * v[self.part_col], minlength=k)

        return extra


class Engine:
    """The base model kept in HiGHS, solving cases warm one after another (one per process and plan)."""

    def __init__(self, plan: SweepPlan) -> None:
        self.plan = plan
        self.fast = FastCases(plan) if plan.affine is not None and plan.affine.keys else None
        self._fresh()

    def _fresh(self) -> None:
        import highspy

        from planner.solver import COST_SCALE, highs_instance

        cfg = self.plan.base.solver
        m = self.plan.model
        self.h = highs_instance(m, cfg.time_limit_s, cfg.threads, cfg.mip_gap)
        self.parts = self.plan.kernel.parts
        self.cur = theta_of(m, self.parts)
        # every case starts from the base's optimal basis, not from the previous case's: the answer
        # then depends on the case alone (not on which cases a worker solved before), so Dask, serial
        # and a resumed sweep agree case by case even where the optimum is not unique
        self.basis = None
        if not m.is_mip:
            run_limited(self.h)
            if self.h.getInfo().basis_validity == 1:
                self.basis = self.h.getBasis()
        self.scale = COST_SCALE
        self.optimal = highspy.HighsModelStatus.kOptimal
        self.off_base = False  # True once a full-path case moved entries a fast case does not push
        lay = self.plan.affine.layout if self.plan.affine else _layout(m.columns.n, m.A.shape[0], self.parts)
        self.lay = lay
        self.anchor_bases: dict[tuple[int, ...], Any] = {}  # cell -> optimal basis at its centre

    def _push(self, theta: np.ndarray) -> None:
        import highspy

        lay, cur, h = self.lay, self.cur, self.h
        inf = highspy.kHighsInf
        c = theta[lay["c"]]
        idx = np.flatnonzero(c != cur[lay["c"]])
        if len(idx):
            h.changeColsCost(len(idx), idx.astype(np.int32), c[idx] * self.scale)
        lo, up = theta[lay["lower"]], theta[lay["upper"]]
        idx = np.flatnonzero((lo != cur[lay["lower"]]) | (up != cur[lay["upper"]]))
        if len(idx):
            h.changeColsBounds(len(idx), idx.astype(np.int32), np.where(np.isneginf(lo[idx]), -inf, lo[idx]),
                               np.where(np.isposinf(up[idx]), inf, up[idx]))
        rl, ru = theta[lay["row_lower"]], theta[lay["row_upper"]]
        idx = np.flatnonzero((rl != cur[lay["row_lower"]]) | (ru != cur[lay["row_upper"]]))
        if len(idx):
            h.changeRowsBounds(len(idx), idx.astype(np.int32), np.where(np.isneginf(rl[idx]), -inf, rl[idx]),
                               np.where(np.isposinf(ru[idx]), inf, ru[idx]))
        self.cur = theta

    def _model_at(self, theta: np.ndarray) -> Model:
        m = copy.copy(self.plan.model)
        lay = self.lay
        m.c = theta[lay["c"]]
        m.cost_parts = {p: theta[lay[f"part:{p}"]] for p in self.parts}
        m.lower, m.upper = theta[lay["lower"]], theta[lay["upper"]]
        m.row_lower, m.row_upper = theta[lay["row_lower"]], theta[lay["row_upper"]]
        return m

    def _reset_basis(self) -> None:
        if self.basis is not None:
            self.h.clearSolver()  # no factorisation or edge weights carried over from the last case
            self.h.setBasis(self.basis)

    def _start(self, case: Mapping[str, Any], t: np.ndarray) -> None:
        """Reset HiGHS to where *case* starts (its anchor's basis, else the base's); *t* is the case's
        touched entries, already pushed (pushed again after an anchor is solved)."""
        anchors, fast = self.plan.anchors, self.fast
        if anchors is None or self.basis is None or fast is None:
            self._reset_basis()
            return
        cell = anchors.cell(case)
        if cell not in self.anchor_bases:
            self._anchor(cell, anchors)
            fast.push(self.h, t, self.scale)  # the anchor's solve left its own costs and bounds in HiGHS
        self.h.clearSolver()
        self.h.setBasis(self.anchor_bases[cell])

    def _anchor(self, cell: tuple[int, ...], anchors: Anchors) -> Any:
        """The optimal basis at the centre of *cell* (cached), solved from the basis at the centre of the
        whole ranges (itself solved from the base's), or the base's basis where a solve fails."""
        fast = self.fast
        assert fast is not None
        if cell in self.anchor_bases:
            return self.anchor_bases[cell]
        basis = self.basis
        if any(i >= 0 for i in cell):
            centre = anchors.centre(cell)
            start = self.basis if centre == cell else self._anchor(centre, anchors)
            fast.push(self.h, fast.touched(anchors.point(cell)), self.scale)
            self.h.clearSolver()
            self.h.setBasis(start)
            run_limited(self.h)
            if self.h.getModelStatus() == self.optimal and self.h.getInfo().basis_validity == 1:
                basis = self.h.getBasis()
        self.anchor_bases[cell] = basis
        return basis

    def solve_fast(self, case: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, str]:
        """One fast case: (kernel row, placement vector, status). Pushes only the touched entries,
        re-solves from the base basis and reads the row off the kernel; builds no model."""
        fast, h, plan = self.fast, self.h, self.plan
        assert fast is not None and plan.affine is not None
        t = fast.touched(case)
        if self.off_base:  # after a full-path case: every entry back to the base, then the case's
            theta = plan.affine.theta0.copy()
            theta[fast.index] = t
            self._push(theta)
            self.off_base = False
        else:
            fast.push(h, t, self.scale)
            self.cur[fast.index] = t  # keep the full-path bookkeeping in step with HiGHS
        self._start(case, t)
        run_limited(h)
        if h.getModelStatus() == self.optimal:
            values = np.fromiter(h.getSolution().col_value, dtype=float, count=fast.n)
            objective = h.getInfoValue("objective_function_value")[1] / self.scale
            status = "optimal"
        else:  # the general route: the status, a usable time-limit answer or a one-line error
            from planner.api import check_usable
            from planner.solver import read_highs

            sol = read_highs(h, 0.0)
            check_usable(sol, plan.base)
            values, objective, status = sol.values, sol.objective_usd, sol.status
        row, place = plan.kernel.row_stacked(values, objective, fast.M, fast.W_u, fast.part_extra(t))
        return row, place, status

    def solve(self, case: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, float], np.ndarray, str, RowKernel, str]:
        """Solve one case: (kernel row, marginal values, placement vector, solve mode, kernel, status)."""
        from planner.api import check_usable
        from planner.solver import highs_instance, run_highs

        plan = self.plan
        cfg = plan.base.solver
        if plan.affine is not None and plan.affine.covers(case):
            theta = plan.affine.theta(case)
            model, kernel, mode, h = self._model_at(theta), plan.kernel, "fast", self.h
            self._push(theta)
            self.off_base = True
            scenario = plan.base
        else:
            scenario = plan.base.with_overrides(dict(case)) if case else plan.base
            inputs = build_inputs(scenario, tables_for(scenario), supply_for(scenario))  # a case may point at other data files
            model = build_model(inputs)
            kernel = row_kernel(inputs, model)
            cfg = scenario.solver
            if same_structure(plan.model, model):
                theta = theta_of(model, self.parts)
                self._push(theta)
                self.off_base = True
                for name, value in (("threads", int(cfg.threads)), ("mip_rel_gap", float(cfg.mip_gap))):
                    self.h.setOptionValue(name, value)
                h, mode = self.h, "resolve"
            else:
                h, mode = highs_instance(model, cfg.time_limit_s, cfg.threads, cfg.mip_gap), "build"
        if h is self.h:
            self._reset_basis()
        sol = run_highs(h, model, cfg.time_limit_s)
        check_usable(sol, scenario)
        row, place = kernel.row(sol.values, sol.objective_usd, parts_matrix(model, kernel.parts))
        marg = marginal_columns(model, sol, h, plan.marginals, kernel)
        return row, marg, place, mode, kernel, sol.status

    def run(self, ids: Sequence[int], cases: Sequence[Mapping[str, Any]], kill: Sequence[int] = ()) -> Batch:
        """Solve a batch; a failing case is recorded with its error and the others go on.

        On Ctrl-C the batch stops after the case that was running and comes back with the
        finished cases only, ``interrupted`` set (the caller writes them, then stops).
        """
        plan = self.plan
        k = len(ids)
        ncol = len(plan.columns)
        nk = len(plan.kernel.columns)
        values = np.full((k, ncol), np.nan)
        status, modes, errors = [""] * k, [""] * k, [""] * k
        seconds = np.zeros(k)
        placed: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (case ids, place keys, IT MW)
        extra: list[tuple[str, int]] = []
        key_pos: dict[tuple[str, int], int] | None = None
        fast = self.fast if (plan.marginals == "none" and not plan.model.is_mip) else None
        kill_ids = set(kill)
        done = 0
        try:
            for j, (cid, case) in enumerate(zip(ids, cases)):
                if cid in kill_ids:  # test hook: this case kills its worker (os._exit), every time
                    os._exit(99)
                t0 = time.perf_counter()
                try:
                    if fast is not None and fast.covers(case):
                        row, place, st = self.solve_fast(case)
                        values[j, :nk] = row
                        nz = np.flatnonzero(place > 1e-9)
                        keys, mode = nz, "fast"
                    else:
                        row, marg, place, mode, kernel, st = self.solve(case)
                        if kernel is plan.kernel or kernel.columns == plan.kernel.columns:
                            values[j, : len(row)] = row
                            values[j, len(row) :] = [marg.get(c, 0.0) for c in plan.columns[len(row) :]]
                        else:  # the full path with another shape (e.g. a new grid region): match by name
                            named = {**dict(zip(kernel.columns, row)), **marg}
                            values[j] = [named.get(c, np.nan) for c in plan.columns]
                        nz = np.flatnonzero(place > 1e-9)
                        if kernel is plan.kernel or kernel.place_keys == plan.kernel.place_keys:
                            keys = nz
                        else:
                            if key_pos is None:
                                key_pos = {kk: i for i, kk in enumerate(plan.kernel.place_keys)}
                            keys = np.empty(len(nz), dtype=int)
                            for q, i in enumerate(nz):
                                key = kernel.place_keys[i]
                                if key not in key_pos:
                                    key_pos[key] = len(plan.kernel.place_keys) + len(extra)
                                    extra.append(key)
                                keys[q] = key_pos[key]
                    placed.append((np.full(len(nz), cid, dtype=np.int64), keys.astype(np.int64), place[nz]))
                    status[j], modes[j] = st, mode
                except Exception as exc:  # noqa: BLE001 - a failed case is data, not a crash
                    status[j], errors[j] = "error", one_line(exc)
                    self._fresh()  # the kept HiGHS model may be out of step
                seconds[j] = time.perf_counter() - t0
                done = j + 1
        except KeyboardInterrupt:
            interrupted = True
        else:
            interrupted = False
        if interrupted:  # a case cut short may have left its placements: keep the finished cases' only
            finished = set(int(i) for i in ids[:done])
            placed = [p for p in placed if len(p[0]) == 0 or int(p[0][0]) in finished]

        def cat(j: int, dt: type) -> np.ndarray:
            return np.concatenate([p[j] for p in placed]).astype(dt) if placed else np.zeros(0, dtype=dt)

        return Batch(np.asarray(list(ids[:done]), dtype=np.int64), status[:done], modes[:done], errors[:done],
                     values[:done], seconds[:done], f"{socket.gethostname()}:{os.getpid()}", cat(0, np.int64),
                     cat(1, np.int64), cat(2, float), extra, interrupted)


def run_batch(plan: SweepPlan, ids: Sequence[int], cases: Sequence[Mapping[str, Any]], kill: Sequence[int] = ()) -> Batch:
    """Solve a batch of cases with this process's engine for *plan* (the Dask task)."""
    return engine_for(plan).run(ids, cases, kill)

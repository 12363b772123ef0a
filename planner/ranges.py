"""What least cost does not decide: the range of each reported figure over all least-cost plans.

An LP's optimal solution is often not unique. When two zones cost the same to
serve (the same power price, the same grid or on-site supply at the margin), the
split of load between them is free, and HiGHS, CBC, a warm and a cold solve
each return a different split at the same cost. The split is then not a result
of the scenario; only its range is. For a reported figure f = w @ v (IT MW
placed in a zone, grid load of a grid region in the last year, a host
country's emissions, MW served on site in a year, new grid capacity of a grid
region in a year) the range over
the least-cost plans is ``[min f, max f]`` over the optimal face.

The optimal face, exactly: take any optimal solution with its dual y and
reduced costs d = c - A^T y. By complementary slackness a feasible plan is
optimal if and only if every column with d_j != 0 sits where the optimum has it
and every row with y_i != 0 is at its active bound. So the face is the model
with those columns and rows fixed (reduced costs and duals within HiGHS's dual
tolerance ``D_TOL`` count as zero), and a range is two LPs over it with w as
the only costs, solved warm by the primal simplex from the optimal plan.

Most figures need no LP: a figure over fixed columns only is decided. The
figures at 0 in the plan (most zones) are settled together: one LP maximises
their sum; if it stays below ``MW_TOL`` all of them are 0 in every least-cost
plan, and those it does move get LPs of their own. On the reference: 159
figures, 47 LPs, 0.27 s.

Ranges are properties of the scenario: the same with any solver (a test
compares HiGHS and CBC on the bundled reference, whose plans differ). They are
taken over the model with every pair (a dominated pair of equal cost that
pruning left out is a least-cost alternative too), computed with the marginal
values (``solver.marginals``; ``auto`` skips both above 20,000 pairs), and
reported in ``summary.json`` (``equal_cost_ranges``) and in the terminal.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs import Inputs
from planner.model.core import Model
from planner.solver import highs_instance, run_limited

#: Reduced costs and duals (HiGHS's scaled units) at most this large count as zero: its dual feasibility
#: tolerance.
D_TOL = 1e-7
#: A figure whose range is narrower than this (MW, or tCO2/yr; or 1e-7 of the figure, if more) is decided.
MW_TOL = 1.0
REL_WIDTH_TOL = 1e-7
HOURS = 8760.0


def figure_weights(inputs: Inputs, model: Model) -> tuple[pd.DataFrame, sp.csr_matrix]:
    """The reported figures as rows of weights on the model's columns.

    Returns ``(keys, W)``: keys has ``figure`` (``it_mw`` per zone, ``grid_load_mw`` per grid region in the
    last year, ``emissions_tco2_per_yr`` per host country, ``onsite_mw`` per year, ``new_capacity_mw`` per
    grid region and year), ``id`` and ``year``
    (-1 where the figure holds for the whole horizon); ``W @ v`` gives the figures of a solution vector v.
    """
    cols = model.columns
    pairs = cols.pairs
    last = int(inputs.years[-1])
    rows: list[np.ndarray] = []
    cidx: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    keys: list[tuple[str, str, int]] = []

    def add(figure: str, ids: np.ndarray, columns: np.ndarray, weights: np.ndarray, years=None) -> None:
        """One figure per distinct (id, year): the sum of *weights* times its *columns*."""
        years = np.full(len(ids), -1) if years is None else np.asarray(years, dtype=int)
        code, groups = pd.factorize(pd.MultiIndex.from_arrays([np.asarray(ids).astype(str), years]), sort=True)
        rows.append(len(keys) + code)
        cidx.append(columns)
        vals.append(weights)
        keys.extend((figure, str(i), int(y)) for i, y in groups)

    if cols.n_x:
        x = np.arange(cols.n_x)
        add("it_mw", pairs["region_id"].to_numpy(), x, pairs["it_load_mw"].to_numpy(dtype=float))
        online = pairs["online_year"].to_numpy(dtype=int) <= last
        add("grid_load_mw", pairs["grid_region_id"].to_numpy()[online], x[online],
            (pairs["it_load_mw"] * pairs["pue"]).to_numpy(dtype=float)[online], np.full(int(online.sum()), last))
        # tCO2 a year of the grid energy the placed clusters draw, by host country (summary totals_by_country)
        add("emissions_tco2_per_yr", pairs["country"].to_numpy(), x,
            (pairs["it_load_mw"] * pairs["pue"] * pairs["utilisation"] * pairs["co2_tco2_per_mwh"]).to_numpy(dtype=float) * HOURS)
    if len(cols.serve):
        w = cols.serve
        add("onsite_mw", w["year"].to_numpy(), cols.w_slice.start + np.arange(len(w)), np.ones(len(w)), w["year"].to_numpy())
    if len(cols.new):
        nc = cols.new
        add("new_capacity_mw", nc["grid_region_id"].to_numpy(), cols.new_slice.start + np.arange(len(nc)), np.ones(len(nc)),
            nc["year"].to_numpy())
    n_fig = len(keys)
    W = sp.csr_matrix((np.concatenate(vals) if vals else np.zeros(0),
                       (np.concatenate(rows) if rows else np.zeros(0, int), np.concatenate(cidx) if cidx else np.zeros(0, int))),
                      shape=(n_fig, cols.n))
    return pd.DataFrame(keys, columns=["figure", "id", "year"]), W


def equal_cost_ranges(inputs: Inputs, model: Model, values: np.ndarray, h=None, time_limit_s: float = 300.0,
                      threads: int = 1) -> dict:
    """``{"status", "checked", "solved", "seconds", "undecided": [...], "not_computed": [...]}``.

    ``status`` is ``computed``, or why not (a MILP: the ranges of a MILP's plans are not those of an LP's
    face; a solve that did not end optimal). ``undecided`` lists the figures of :func:`figure_weights` whose
    range over the least-cost plans is wider than ``MW_TOL``, each with ``figure``, ``id``, ``year``,
    ``value`` (the plan shown), ``low`` and ``high``; ``not_computed`` the figures whose LPs did not end
    optimal (within *time_limit_s* each), as ``{figure, id, year, value}``.

    *values* is the reported plan (an optimal solution of *model*); *h*, if given, a HiGHS instance holding
    *model* at that plan (its basis starts the LPs; it is not changed). Without *h* the LP is solved cold:
    any optimal solution gives the same set of least-cost plans.
    """
    import highspy

    t0 = time.perf_counter()
    keys, W = figure_weights(inputs, model)
    out: dict = {"status": "computed", "checked": len(keys), "solved": 0, "tolerance_mw": MW_TOL, "undecided": [],
                 "not_computed": []}

    def done(status: str | None = None) -> dict:
        if status:
            out["status"] = status
        out["seconds"] = round(time.perf_counter() - t0, 4)
        return out

    if model.is_mip:
        return done("not computed: a MILP (the figures of its least-cost plans are not ranges over one LP face)")
    if not np.isfinite(values).all() or not len(keys):
        return done("not computed: no finite plan" if len(keys) else None)
    lp = highs_instance(model, time_limit_s, threads)
    optimal = highspy.HighsModelStatus.kOptimal

    def run() -> bool:
        run_limited(lp)  # the limit is each LP's own (HiGHS's run clock adds up every run of an instance)
        return lp.getModelStatus() == optimal

    if h is not None:
        lp.setBasis(h.getBasis())
    if not run():
        return done(f"not computed: the LP ended {lp.modelStatusToString(lp.getModelStatus())}")
    solution = lp.getSolution()
    v = np.asarray(solution.col_value, dtype=float)
    d = np.asarray(solution.col_dual, dtype=float)  # reduced costs, in the solver's units (COST_SCALE USD)
    y = np.asarray(solution.row_dual, dtype=float)
    act = np.asarray(solution.row_value, dtype=float)
    value = W @ np.clip(values, 0.0, None)

    # the least-cost plans are the feasible plans that keep every column with a reduced cost, and every row
    # with a dual, where the optimum has it (complementary slackness with this optimal dual solution)
    fixed = np.abs(d) > D_TOL
    fixed |= model.upper <= model.lower
    tight = np.abs(y) > D_TOL
    n = model.columns.n
    fc = np.flatnonzero(fixed).astype(np.int32)
    lp.changeColsBounds(len(fc), fc, v[fc], v[fc])
    tr = np.flatnonzero(tight).astype(np.int32)
    lp.changeRowsBounds(len(tr), tr, act[tr], act[tr])
    lp.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
    lp.setOptionValue("simplex_strategy", 4)  # the plan is feasible: primal simplex from its basis
    Wc = W.tocsr()
    candidates = (Wc @ (~fixed).astype(float)) > 0  # a figure over fixed columns only is decided
    # figures at 0 (most zones): one LP maximises their sum; all stay 0 if it is 0. Those it moves need their
    # own LPs; the rest are tried again together until the sum stays below MW_TOL
    zero = candidates & (value <= 1e-9)
    solve_each = candidates & ~zero
    all_cols = np.arange(n, dtype=np.int32)
    while zero.any():
        lp.changeColsCost(n, all_cols, -np.asarray(Wc[np.flatnonzero(zero)].sum(axis=0)).ravel())
        ok = run()
        out["solved"] += 1
        if ok and -lp.getInfo().objective_function_value < MW_TOL:
            break
        moved = zero & ((Wc @ np.clip(np.asarray(lp.getSolution().col_value), 0.0, None)) > 1e-6) if ok else zero
        if not moved.any():  # the sum moved by less than the solver's tolerance on every figure: decided
            break
        solve_each |= moved
        zero &= ~moved
    lp.changeColsCost(n, all_cols, np.zeros(n))
    low, high = value.copy(), value.copy()
    for i in np.flatnonzero(solve_each):
        js = Wc.indices[Wc.indptr[i]:Wc.indptr[i + 1]].astype(np.int32)
        ws = Wc.data[Wc.indptr[i]:Wc.indptr[i + 1]]
        ends = []
        for sign in (1.0, -1.0):
            lp.changeColsCost(len(js), js, sign * ws)
            ends.append(sign * lp.getInfo().objective_function_value if run() else np.nan)
            out["solved"] += 1
        lp.changeColsCost(len(js), js, np.zeros(len(js)))
        low[i], high[i] = ends

    def entry(i: int) -> dict:
        # + 0.0: a solver's -1e-12 rounds to -0.0, which would print as "-0"
        return {"figure": keys.at[i, "figure"], "id": keys.at[i, "id"], "year": int(keys.at[i, "year"]),
                "value": round(float(value[i]), 3) + 0.0}

    failed = np.isnan(low) | np.isnan(high)
    out["not_computed"] = [entry(int(i)) for i in np.flatnonzero(failed)]
    tol = np.maximum(MW_TOL, REL_WIDTH_TOL * np.maximum(np.abs(low), np.abs(high)))
    for i in np.flatnonzero(~failed & (high - low > tol)):
        out["undecided"].append({**entry(int(i)), "low": round(float(low[i]), 3) + 0.0, "high": round(float(high[i]), 3) + 0.0})
    return done()

"""Column generation over the (cluster, place) pairs: the LP's optimum without loading most pairs.

At national site scale nearly every column of the LP is a pair ``x[cluster, place(, online year)]``
(size 4 of ``benchmarks/instances.py``: 780,000 of 790,673 columns), and HiGHS's dual simplex prices
all of them at every iteration, although a cluster ends up in one or two places. Here HiGHS holds a
*restricted* LP (every row, every column that is not a pair, and a few pairs per cluster), and the
remaining pairs are priced in one sparse product:

1. Restricted LP: each cluster's ``INITIAL_PER_CLUSTER`` cheapest pairs, with every other column.
2. Solve it (dual simplex; warm from the previous round's basis) and read the row duals ``y``.
3. Price every pair: ``d = c - A^T y``. If no pair has ``d < -DUAL_TOLERANCE`` the restricted optimum
   is optimal for the whole LP: it is feasible for it (the pairs left out are 0), ``y`` is dual
   feasible for every column, and complementary slackness holds. That is the LP optimality test
   itself, not a heuristic, so the objective, the duals and (where the optimum is unique) the plan
   are those of the full LP.
4. Otherwise add each cluster's ``ADD_PER_CLUSTER`` most negative pairs and go to 2. A new pair starts
   nonbasic at its upper bound (1, the whole cluster): with ``d < 0`` that keeps the basis dual
   feasible, so the dual simplex goes on from where it stopped instead of first repairing dual
   infeasibilities (measured at size 4: 9.0 s against 10.7 s with the new pairs at 0).

Only for LPs (a MILP's branch and bound needs every column) solved by HiGHS, above
:data:`AUTO_MIN_PAIRS` pairs (``solver.column_generation: auto``). Measured in docs/performance.md.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from planner.model.core import Model
from planner.solver import COST_SCALE, Solution, _stdout_to_stderr, read_highs, run_limited, set_time_limit

#: ``auto`` uses column generation from this many pairs on (docs/performance.md, "Column generation").
AUTO_MIN_PAIRS = 300_000
INITIAL_PER_CLUSTER = 10
ADD_PER_CLUSTER = 10
#: A pair prices out when its reduced cost (in the solver's cost units, COST_SCALE x USD) is below
#: minus this: HiGHS's own dual feasibility tolerance, so the test is the one HiGHS applies to its columns.
DUAL_TOLERANCE = 1e-7


def use_column_generation(model: Model, setting: str, solver: str) -> bool:
    """Whether a solve of *model* goes by column generation (``solver.column_generation``)."""
    if model.is_mip or solver != "highs" or setting == "off":
        return False
    return setting == "on" or model.columns.n_x >= AUTO_MIN_PAIRS


def _first_k(group: np.ndarray, cost: np.ndarray, k: int) -> np.ndarray:
    """Positions of the *k* lowest *cost* entries of each *group* (ties by position: lexsort is stable)."""
    order = np.lexsort((cost, group))
    g = group[order]
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1] if len(g) else np.zeros(0, dtype=np.int64)
    rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    return order[rank < k]


def solve_by_column_generation(model: Model, time_limit_s: float = 300.0, threads: int = 1,
                               log: bool = False) -> Solution:
    """Solve the LP *model* by column generation over its pairs (see the module's doc)."""
    import highspy

    t0 = time.perf_counter()
    A = model.A if model.A.format == "csc" else model.A.tocsc()
    m, n = A.shape
    nx = model.columns.n_x
    c = model.c * COST_SCALE
    inf = highspy.kHighsInf
    upper = np.where(np.isposinf(model.upper), inf, model.upper)
    group = pd.factorize(model.columns.pairs["cluster_id"])[0]
    AxT = A[:, :nx].T.tocsr()  # pricing: d = c_x - A_x^T y

    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log))  # with the log: HiGHS's own, round by round
    h.setOptionValue("log_to_console", bool(log))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("presolve", "off")  # re-solved warm every round
    i32, f64 = np.int32, np.float64
    h.addRows(m, np.where(np.isneginf(model.row_lower), -inf, model.row_lower).astype(f64),
              np.where(np.isposinf(model.row_upper), inf, model.row_upper).astype(f64),
              0, np.zeros(0, dtype=i32), np.zeros(0, dtype=i32), np.zeros(0, dtype=f64))

    def add(cols: np.ndarray) -> None:
        sub = A[:, cols]
        h.addCols(len(cols), np.ascontiguousarray(c[cols]), np.ascontiguousarray(model.lower[cols], dtype=f64),
                  np.ascontiguousarray(upper[cols], dtype=f64), sub.nnz, sub.indptr[:-1].astype(i32),
                  sub.indices.astype(i32), np.ascontiguousarray(sub.data, dtype=f64))

    loaded = np.zeros(nx, dtype=bool)
    first = np.sort(_first_k(group, c[:nx], INITIAL_PER_CLUSTER))
    loaded[first] = True
    order = np.r_[first, np.arange(nx, n)]  # restricted column j is model column order[j]
    add(order)
    rounds, iterations, highs_s = 0, 0, 0.0
    at_upper = highspy.HighsBasisStatus.kUpper
    while True:
        set_time_limit(h, max(1e-3, time_limit_s - (time.perf_counter() - t0)))
        clock = h.getRunTime()
        if log:
            with _stdout_to_stderr():  # HiGHS writes its log to fd 1; the report owns stdout
                run_limited(h)
        else:
            run_limited(h)
        highs_s += h.getRunTime() - clock
        rounds += 1
        iterations += int(h.getInfo().simplex_iteration_count)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        y = np.asarray(h.getSolution().row_dual, dtype=float)
        d = c[:nx] - AxT @ y
        priced = np.flatnonzero((d < -DUAL_TOLERANCE) & ~loaded)
        if log:
            print(f"column generation: round {rounds}, {int(loaded.sum()):,} of {nx:,} pairs loaded, "
                  f"{h.getInfo().simplex_iteration_count:,} iterations; pairs left out with a negative reduced cost: "
                  f"{len(priced):,}",
                  file=sys.stderr, flush=True)
        if not len(priced):
            break
        new = np.sort(priced[_first_k(group[priced], d[priced], ADD_PER_CLUSTER)])
        basis = h.getBasis()
        col_status = basis.col_status  # a list (a copy) already
        add(new)
        if np.isfinite(model.upper[new]).all():  # at the upper bound with d < 0: still dual feasible
            basis.col_status = col_status + [at_upper] * len(new)
            h.setBasis(basis)
        loaded[new] = True
        order = np.r_[order, new]
    sol = read_highs(h, time.perf_counter() - t0)
    values = np.full(n, np.nan)
    if np.isfinite(sol.values).all():  # the pairs never loaded are 0
        values = np.zeros(n)
        values[order] = sol.values
    sol.values = values
    sol.message = (f"{sol.message}; column generation: {rounds} rounds, {iterations:,} iterations, "
                   f"{int(loaded.sum()):,} of {nx:,} pairs loaded")
    sol.column_generation = {"rounds": rounds, "iterations": iterations, "pairs_loaded": int(loaded.sum()),
                             "pairs": nx, "highs_run_s": round(highs_s, 4)}
    return sol

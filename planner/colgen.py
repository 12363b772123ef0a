"""Column generation over the (cluster, place) pairs: the LP's optimum without loading most pairs.

At national site scale nearly every column of the LP is a pair ``x[cluster, place(, online year)]``
(size 4 of ``benchmarks/instances.py``: 780,000 of 790,673 columns), and HiGHS's dual simplex prices
all of them at every iteration, although a cluster ends up in one or two places. Here HiGHS holds a
*restricted* LP (every row, every column that is not a pair, and a few pairs per cluster), and the
remaining pairs are priced in one sparse product:

1. Restricted LP: each cluster's ``INITIAL_PER_CLUSTER`` cheapest pairs, with every other column. A pair
   fixed at 0 (a moratorium) is never loaded: at a fixed bound any reduced cost is optimal.
2. Solve it (dual simplex; warm from the previous round's basis) and read the row duals ``y``.
3. Price every pair left out: ``d = c - A^T y``. If none has ``d < -DUAL_TOLERANCE`` the restricted
   optimum is optimal for the whole LP: it is feasible for it (the pairs left out are 0, at their lower
   bound, where ``d >= 0`` is what optimality asks), ``y`` is dual feasible for every column (HiGHS
   certified the loaded ones), and complementary slackness holds. That is the LP optimality test
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
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
import pandas as pd

from planner.errors import SolverError
from planner.model.core import Model
from planner.solver import (COST_SCALE, Meanwhile, Solution, add_columns, add_rows, configured_highs, read_highs,
                            run_logged, set_time_limit)

#: ``auto`` uses column generation from this many pairs on (docs/performance.md, "Column generation").
AUTO_MIN_PAIRS = 300_000
INITIAL_PER_CLUSTER = 10
#: Pairs added per cluster a round. At size 4, alternating runs: 10 a round took 13 rounds and 65,761
#: simplex iterations (HiGHS 9.4-9.7 s), 20 took 7 and 53,558 (8.2-9.0 s), 30 took 7 and 50,541
#: (7.6-8.4 s), 40 took 6 and 44,432 (7.9-8.2 s) (docs/performance.md).
ADD_PER_CLUSTER = 30
#: A pair prices out when its reduced cost (in the solver's cost units, COST_SCALE x USD) is below
#: minus this: HiGHS's own dual feasibility tolerance, so the test is the one HiGHS applies to its columns.
DUAL_TOLERANCE = 1e-7


def use_column_generation(model: Model, setting: str, solver: str) -> bool:
    """Whether a solve of *model* goes by column generation (``solver.column_generation``)."""
    if model.is_mip or solver != "highs" or setting == "off":
        return False
    return setting == "on" or model.columns.n_x >= AUTO_MIN_PAIRS


def _first_k(group: np.ndarray, cost: np.ndarray, k: int) -> np.ndarray:
    """Positions of the *k* lowest *cost* entries of each *group*, ties by position (the entries of
    ``np.lexsort((cost, group))`` cut at *k* per group), in ascending order of position.

    The pairs come grouped by cluster (the model's canonical order), so each group is one run. A
    group gives every entry below v, its *k*-th lowest cost, and of its entries equal to v the first
    ones by position, up to *k*. v comes from ``np.partition`` of matrices holding a group per row (padded
    with +inf), one for each class of groups within a factor of two in length. On the pricing rounds
    of size 4 (0.78 M to 30 pairs, k = 10 and 30): about 2x faster than 10-30 passes of
    ``minimum.reduceat`` and 4x faster than sorting. Groups that are not sorted runs, and costs that
    are not all finite (the padding is +inf), are sorted instead.
    """
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
    lengths = np.diff(np.r_[starts, n])
    if (group[1:] < group[:-1]).any() or not np.isfinite(cost).all():  # sort by (group, cost, position)
        order = np.argsort(cost, kind="stable")
        order = order[np.argsort(group[order], kind="stable")]
        g = group[order]
        first = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
        rank = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))
        return np.sort(order[rank < k])
    # the k-th lowest cost of each group: groups of about the same length (within a factor of 2) share a
    # matrix, a row each, padded with +inf to at least k columns (so at most twice the entries in all)
    kth = np.empty(len(starts))
    size_class = np.ceil(np.log2(np.maximum(lengths, k))).astype(np.int64)
    for c in np.unique(size_class):
        rows = np.flatnonzero(size_class == c)
        n_in, width = lengths[rows], max(int(lengths[rows].max()), k)
        j = np.arange(int(n_in.sum())) - np.repeat(np.cumsum(n_in) - n_in, n_in)  # place in its group
        matrix = np.full(len(rows) * width, np.inf)
        matrix[np.repeat(np.arange(len(rows)) * width, n_in) + j] = cost[np.repeat(starts[rows], n_in) + j]
        kth[rows] = np.partition(matrix.reshape(len(rows), width), k - 1, axis=1)[:, k - 1]  # +inf: below k
    v = np.repeat(kth, lengths)
    take = cost <= v
    if (np.add.reduceat(take.view(np.uint8), starts, dtype=np.int64) <= k).all():  # no group has a tie at v
        return np.flatnonzero(take)  # too many: the tie goes by position
    # a tie at v: every entry below v, and of the entries equal to v the first k - (number below) of the group.
    # The equal entries are taken by position (fewer than all), so no running count over every entry is needed.
    pick = cost < v
    need = k - np.add.reduceat(pick.view(np.uint8), starts, dtype=np.int64)
    equal = np.flatnonzero(cost == v)  # ascending: each group's equal entries are one run
    g = np.searchsorted(starts, equal, side="right") - 1
    first = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    rank = np.arange(len(equal)) - np.repeat(first, np.diff(np.r_[first, len(equal)]))  # 0, 1, ... in its group
    pick[equal[rank < need[g]]] = True
    return np.flatnonzero(pick)


def solve_by_column_generation(model: Model, time_limit_s: float = 300.0, threads: int = 1,
                               log: bool = False, meanwhile: Meanwhile | None = None) -> Solution:
    """Solve the LP *model* by column generation over its pairs (see the module's doc); *meanwhile*'s
    tasks run while HiGHS does (:func:`planner.solver.run_limited`).

    At the time limit the last restricted optimum is returned as ``time_limit``: it is feasible for the
    whole LP (the pairs left out are 0), without duals (they are not dual feasible for it).
    """
    import highspy

    t0 = time.perf_counter()
    A = model.A if model.A.format == "csc" else model.A.tocsc()
    n = A.shape[1]
    nx = model.columns.n_x
    # the pricing's matrix (d = c_x - A_x^T y, about 0.06 s at size 4) is built on the other core while
    # this thread loads the restricted LP and HiGHS runs the first round (it releases the GIL)
    pool = ThreadPoolExecutor(1, thread_name_prefix="planner-pricing")
    pricing = pool.submit(_transposed_pairs, A, nx)
    pool.shutdown(wait=False)  # the one task runs on; no other is taken
    try:
        cx = model.c[:nx] * COST_SCALE  # the pairs' costs in the solver's units
        ids = model.columns.pairs["cluster_id"].array
        # a cluster's pairs are one run (canonical order); the codes of a Categorical with sorted categories
        # (the pairs' ids: eligibility.id_codes) are non-decreasing over the runs, one value each
        group = ids.codes if isinstance(ids, pd.Categorical) else pd.factorize(ids)[0]
        # a pair fixed at 0 (a moratorium) can never lower the cost: it is neither loaded nor priced
        open_pair = model.upper[:nx] > model.lower[:nx]

        h = configured_highs(time_limit_s, threads, log=log)  # presolve off: re-solved warm every round
        add_rows(h, model)
        free = open_pair.copy()  # open pairs not loaded yet: the ones priced
        candidates = np.flatnonzero(open_pair)
        first = candidates[_first_k(group[candidates], cx[candidates], INITIAL_PER_CLUSTER)]
        free[first] = False
        order = np.r_[first, np.arange(nx, n)]  # restricted column j is model column order[j]
        add_columns(h, model, order)
        rounds, iterations, highs_s = 0, 0, 0.0
        last = None  # the last restricted optimum: (order, HiGHS's solution, objective); its values read only if needed
        AxT = None
        while True:
            set_time_limit(h, max(1e-3, time_limit_s - (time.perf_counter() - t0)))
            clock = h.getRunTime()
            run_logged(h, meanwhile if rounds else None)  # not in the first round: the pricing's thread runs then
            highs_s += h.getRunTime() - clock
            rounds += 1
            iterations += int(h.getInfo().simplex_iteration_count)
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break
            solution = h.getSolution()  # a copy: the next run leaves it as it is
            last = (order, solution, h.getInfo().objective_function_value)
            AxT = pricing.result() if AxT is None else AxT
            d = cx - AxT @ np.asarray(solution.row_dual, dtype=float)
            negative = d < -DUAL_TOLERANCE
            negative &= free
            priced = np.flatnonzero(negative)
            if log:
                print(f"column generation: round {rounds}, {len(order) - (n - nx):,} of {nx:,} pairs loaded,"
                      f" {h.getInfo().simplex_iteration_count:,} iterations; pairs left out with a negative "
                      f"reduced cost: {len(priced):,}", file=sys.stderr, flush=True)
            if not len(priced):
                break
            new = priced[_first_k(group[priced], d[priced], ADD_PER_CLUSTER)]
            add_at_upper(h, model, new)
            free[new] = False
            order = np.r_[order, new]
    finally:
        wait([pricing])  # the pricing thread ends with the solve, also when the first run was not optimal
    sol = read_highs(h, time.perf_counter() - t0)
    loaded = len(order) - (n - nx)
    values = np.full(n, np.nan)
    if sol.status == "optimal":
        values = np.zeros(n)  # the pairs never loaded are 0
        values[order] = sol.values
    elif sol.status == "time_limit" and last is not None:  # after a restricted optimum: that plan, feasible here too
        values = np.zeros(n)
        values[last[0]] = np.asarray(last[1].col_value, dtype=float)
        sol = Solution("time_limit", "highs", last[2] / COST_SCALE, values, None, sol.solve_seconds, sol.message)
    sol.values = values
    sol.message = (f"{sol.message}; column generation: {rounds} rounds, {iterations:,} iterations, "
                   f"{loaded:,} of {nx:,} pairs loaded")
    sol.column_generation = {"rounds": rounds, "iterations": iterations, "pairs_loaded": loaded,
                             "pairs": nx, "highs_run_s": round(highs_s, 4)}
    return sol


def _transposed_pairs(A, nx: int):
    """The pair columns of *A* (CSC) as the rows of a CSR matrix: one pair's entries per row, for pricing."""
    return A[:, :nx].T.tocsr()


def add_at_upper(h, model: Model, new: np.ndarray) -> None:
    """Add the pair columns *new* to *h* nonbasic at their upper bound (the whole cluster placed there).

    With a reduced cost ``d < 0`` that keeps HiGHS's basis dual feasible, so the next run goes on from
    its optimal basis instead of first repairing dual infeasibilities. HiGHS puts a new column without a
    finite lower bound at its upper bound, and keeps a nonbasic column's status when its bounds change:
    so the pairs are added with no lower bound, which is then set. Reading the basis back and setting it
    would do the same, at about 25 ms a round for 100,000 statuses (highspy gives them as a Python list).
    A column without a finite upper bound is added as it is, at 0.
    """
    import highspy

    upper = model.upper[new]
    if not np.isfinite(upper).all():
        add_columns(h, model, new)
        return
    k = h.getNumCol()
    add_columns(h, model, new, lower=np.full(len(new), -np.inf))
    status = h.changeColsBounds(len(new), np.arange(k, k + len(new), dtype=np.int32),
                                np.ascontiguousarray(model.lower[new], dtype=np.float64),
                                np.ascontiguousarray(upper, dtype=np.float64))
    if status == highspy.HighsStatus.kError:
        raise SolverError(f"HiGHS rejected the new pairs' bounds ({status})")

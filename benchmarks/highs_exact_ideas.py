"""Exact changes around HiGHS (the same LP, the same optimum) tried for issue 15; none is kept.

    python benchmarks/highs_exact_ideas.py --sizes 3 4

Each variant solves the default (compact) model of an instance (``benchmarks/instances.py``) with
the planner's settings (``highs_instance``: dual simplex, presolve off, one thread) in a fresh
process and prints HiGHS's wall and CPU time, simplex iterations, the objective's relative
difference from the plain solve and the 1-minute load average. Variants:

* ``plain``: what ``planner.solve`` does;
* ``implied bounds dropped``: x <= 1 and u <= 1 follow from the placement row (sum x + u = 1, all
  >= 0), so the upper bounds are left out (the feasible set is the same);
* ``dual-feasible crash basis``: each cluster's cheapest pair basic in its placement row, every
  other row's slack basic (dual feasible: all reduced costs >= 0), passed with ``setBasis``;
* ``warm from K cheapest``: solve with only each cluster's K cheapest pairs free (the others fixed
  at 0), then free them and re-solve from that basis (times are the sum of both solves).

Results: ``benchmarks/results/highs_exact_ideas.json``; discussion in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from highs_options import record, run_study, start_clock  # noqa: E402

VARIANTS = ["plain", "implied bounds dropped", "dual-feasible crash basis", "warm from 20 cheapest", "warm from 60 cheapest"]


def _placement_row_of_pairs(model):
    """Each pair's placement row: its cluster's position (placement.py writes one row per cluster, in order)."""
    from planner.fastindex import positions

    return positions(model.columns.clusters, model.columns.pairs["cluster_id"])


def worker(scenario: str, variant: str) -> dict:
    import highspy
    import numpy as np

    import planner
    from planner.inputs import build_inputs
    from planner.model.assemble import build_model
    from planner.solver import highs_instance

    model = build_model(build_inputs(planner.load_scenario(scenario)))
    cols = model.columns
    if variant == "implied bounds dropped":
        model = copy.copy(model)
        upper = model.upper.copy()
        for span in (cols.x, cols.u):
            part = upper[span]
            part[part == 1.0] = np.inf
            upper[span] = part
        model.upper = upper
    h = highs_instance(model, time_limit_s=600, threads=1)
    clock = start_clock()
    if variant == "dual-feasible crash basis":
        rowof = _placement_row_of_pairs(model)
        cx = model.c[cols.x]
        free = model.upper[cols.x] > 0
        idx = np.flatnonzero(free)
        order = idx[np.lexsort((cx[idx], rowof[idx]))]
        first = np.r_[True, rowof[order][1:] != rowof[order][:-1]]
        best, best_row = order[first], rowof[order][first]
        B = highspy.HighsBasisStatus
        m, n = model.A.shape
        col_status = [B.kLower] * n
        row_status = [B.kBasic] * m
        u0 = cols.u.start
        cu = model.c[cols.u]
        basic_col = np.arange(u0, u0 + cols.n_u)  # u basic where no pair is cheaper
        basic_col[best_row] = np.where(cx[best] < cu[best_row], best, basic_col[best_row])
        for j in basic_col:
            col_status[int(j)] = B.kBasic
        for k in range(cols.n_u):
            row_status[model.blocks["placement"].start + k] = B.kLower
        basis = highspy.HighsBasis()
        basis.col_status, basis.row_status = col_status, row_status
        h.setBasis(basis)
    if variant.startswith("warm from"):
        K = int(variant.split()[2])
        rowof = _placement_row_of_pairs(model)
        order = np.lexsort((model.c[cols.x], rowof))
        starts = np.r_[0, np.flatnonzero(np.diff(rowof[order])) + 1]
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        off = np.flatnonzero(rank >= K).astype(np.int32)
        h.changeColsBounds(len(off), off, np.zeros(len(off)), np.zeros(len(off)))
        h.run()
        h.changeColsBounds(len(off), off, model.lower[off], model.upper[off])
    h.run()
    return record(h, clock)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[3, 4])
    ap.add_argument("--variants", nargs="+", default=VARIANTS)
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    run_study(__file__, args.sizes, lambda _size: [(v, v) for v in args.variants], "highs_exact_ideas.json", "variant",
              lambda r: (f"| {r['size']} | {r['variant']} | {r['status']} | {r['run_s']:.2f} | {r['cpu_s']:.2f} | "
                         f"{r['simplex_iterations']:,} | {r['rel_diff']:.1e} | {r['load_before']:.1f}/{r['load_after']:.1f} |"))


if __name__ == "__main__":
    main()

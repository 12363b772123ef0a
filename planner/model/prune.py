"""Exact pruning of dominated pairs: a pair that a cheaper twin of the same cluster makes useless.

Two placement columns x[k, r] and x[k, r'] of the same cluster k are *twins*
when their columns of the constraint matrix are identical: the same rows with
the same coefficients. In the built model that happens exactly when r and r'
share the grid region (the same load-aggregate or headroom rows), the grid
draw P = IT x PUE is the same, and neither touches a row of its own (no
``region_limit`` row for either, no site capacity or site link: site studies
never have twins). A pair (k, r) is dropped when it has a twin (k, r') with

* ``0 <= x[k, r'] <= 1`` (no moratorium on r': its upper bound is 1),
  continuous (indivisible clusters and MILPs are never pruned), and
* a strictly lower cost coefficient c[k, r'] < c[k, r] (energy, carbon,
  capital and pair cost, all of them: the whole objective coefficient), or an
  equal one and a smaller canonical position (ties keep the smaller id).

**Proof that the optimum is unchanged.** Let v be feasible with x[k, r] > 0.
Move the share to the twin: x'[k, r'] = x[k, r'] + x[k, r], x'[k, r] = 0.
Because the two columns are identical, A v' = A v, so every row (placement,
load aggregate, headroom, any other) has the same activity and stays within
its bounds. The placement row sum_r x[k, r] + u[k] = 1 with all terms >= 0
gives x[k, r'] + x[k, r] <= 1, so x'[k, r'] stays within [0, 1]. The cost
changes by (c[k, r'] - c[k, r]) x[k, r], which is < 0 under strict dominance:
then x[k, r] = 0 in every optimal solution, and dropping the column leaves the
optimal value and the set of optimal solutions unchanged. With equal costs the
move costs nothing: every optimum maps to an optimum with x[k, r] = 0, so the
optimal value is unchanged and the optima kept are those with x[k, r] = 0.

**Marginal values are unchanged.** The argument above holds for *every* right-
hand side: moving a headroom, region-limit or any other row bound b changes
the feasible set of both models in the same way and the move keeps v' feasible
whatever b is. So the value function z*(b) of the pruned model equals that of
the full model for every b, and its one-sided derivatives (what
``planner.marginals`` reports) are equal too. Every row keeps at least the
twin's entry, so no row disappears from the model or the reports.

**What it does not cover.** The argument needs the costs and the bounds of the
model as built: a what-if that changes costs or moves a moratorium (changes
bounds) in place, or a sweep moving costs, must use the full model. Hence
pruning is applied by :func:`planner.api.solve` only (one scenario, one solve,
marginal values), never by ``build_model``; it is switched by
``solver.prune_dominated`` (default true), and off when the scenario enables
on-site generation (there the loads of zones matter one by one).

Pruned pairs are simply absent from the model: results report them as zero
placement (``Model.pruned_pairs`` counts them).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.model.core import Model
from planner.fastindex import positions


def prune_enabled(scenario) -> bool:
    """Whether *scenario* asks for pruning: ``solver.prune_dominated`` and no on-site generation enabled."""
    if not getattr(scenario.solver, "prune_dominated", True):
        return False
    onsite = getattr(scenario, "onsite", None)
    if onsite is not None and bool(getattr(onsite, "enabled", False)):
        return False
    return True


def dominated_pairs(model: Model) -> np.ndarray:
    """Boolean mask over the x columns: True where a cheaper (or equal, smaller-position) twin dominates the pair."""
    cols = model.columns
    nx = cols.n_x
    drop = np.zeros(nx, dtype=bool)
    if nx < 2 or model.is_mip or cols.n_open:
        return drop
    Ax = model.A[:, :nx].tocsc()
    Ax.sort_indices()
    nnz = np.diff(Ax.indptr)
    if (nnz == 0).any():
        return drop
    rng = np.random.default_rng(15)
    w1, w2 = rng.random(Ax.shape[0]) + 0.5, rng.random(Ax.shape[0]) + 0.5
    h1 = np.add.reduceat(w1[Ax.indices] * Ax.data, Ax.indptr[:-1])
    h2 = np.add.reduceat(w2[Ax.indices] * np.sqrt(np.abs(Ax.data) + 1.0), Ax.indptr[:-1])
    k = positions(cols.clusters, cols.pairs["cluster_id"])
    group = pd.MultiIndex.from_arrays([k, nnz, h1, h2]).factorize()[0] if nx else np.zeros(0, dtype=np.int64)

    c = model.c[:nx]
    can_dominate = (model.lower[:nx] == 0) & (model.upper[:nx] == 1) & (model.integrality[:nx] == 0)
    pos = np.arange(nx)
    # the best dominator of each group: lowest cost, then smallest position
    cand = np.flatnonzero(can_dominate)
    if not len(cand):
        return drop
    order = cand[np.lexsort((pos[cand], c[cand], group[cand]))]
    first = np.r_[True, group[order][1:] != group[order][:-1]]
    best_of_group = np.full(group.max() + 1, -1, dtype=np.int64)
    best_of_group[group[order[first]]] = order[first]
    d = best_of_group[group]
    has = (d >= 0) & (d != pos)
    dominated = np.zeros(nx, dtype=bool)
    hd = np.flatnonzero(has)
    dd = d[hd]
    dominated[hd] = (c[dd] < c[hd]) | ((c[dd] == c[hd]) & (dd < hd))
    dominated &= model.integrality[:nx] == 0

    # the hashes only group candidates: check that each dropped column equals its twin entry by entry
    i = np.flatnonzero(dominated)
    if len(i):
        j = d[i]
        cnt = nnz[i]
        rep = np.repeat(np.arange(len(i)), cnt)
        off = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        ei, ej = Ax.indptr[i][rep] + off, Ax.indptr[j][rep] + off
        bad = (Ax.indices[ei] != Ax.indices[ej]) | (Ax.data[ei] != Ax.data[ej])
        ok = np.bincount(rep, weights=bad, minlength=len(i)) == 0
        drop[i[ok]] = True
    return drop


def prune_model(model: Model) -> Model:
    """*model* without its dominated pairs (see the module docstring); *model* itself when none is dominated."""
    t0 = time.perf_counter()
    drop = dominated_pairs(model)
    if not drop.any():
        return replace(model, build_seconds=model.build_seconds + time.perf_counter() - t0)
    cols = model.columns
    keep = np.concatenate([~drop, np.ones(cols.n - cols.n_x, dtype=bool)])
    kept = np.flatnonzero(keep)
    new_cols = replace(cols, pairs=cols.pairs.loc[~drop].reset_index(drop=True))
    A = model.A.tocsc()[:, kept] if not sp.isspmatrix_csc(model.A) else model.A[:, kept]
    return replace(
        model,
        columns=new_cols,
        c=model.c[kept],
        cost_parts={name: part[kept] for name, part in model.cost_parts.items()},
        lower=model.lower[kept],
        upper=model.upper[kept],
        A=A,
        integrality=model.integrality[kept] if len(model.integrality) else model.integrality,
        pruned_pairs=int(drop.sum()),
        build_seconds=model.build_seconds + time.perf_counter() - t0,
    )


def expand_to(full: Model, values: np.ndarray) -> np.ndarray:
    """A solution of ``prune_model(full)`` as a solution of *full*: the dropped pairs at 0."""
    drop = dominated_pairs(full)
    keep = np.concatenate([~drop, np.ones(full.columns.n - full.columns.n_x, dtype=bool)])
    out = np.zeros(full.columns.n)
    out[keep] = values
    return out

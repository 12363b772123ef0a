"""Candidate sites: capacity, and development as a binary choice (site studies only).

For each candidate site s with capacity Cap_s (MW) and the clusters k that may
go there (grid draw P_ks = IT_k PUE_ks)::

    sum_k P_ks x_ks - Cap_s open_s <= 0          (row ``site_capacity[s]``)
    x_ks - open_s <= 0                           (row ``site_link[k,s]``)
    open_s in {0, 1}

The second family is implied by the first when open_s is binary; it is the
classic strong formulation of capacitated facility location and makes the LP
relaxation much tighter, so HiGHS's branch and bound closes far sooner. A site
with no fixed cost is simply available: ``assemble.py`` fixes its open_s = 1
(continuous) and it gets no link rows, so a sites study without fixed costs
stays an LP.
Region and grid-region limits apply to sites through their region (see
``region_limit.py`` and ``headroom.py``). The development cost F_s is in the
objective (``objective.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs import Inputs
from planner.model.core import Columns, RowBlock
from planner.fastindex import positions


def site_capacity_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    if not cols.n_open:
        return _empty("site_capacity", cols, ["site_id"])
    pairs = cols.pairs
    s_of_pair = positions(cols.sites.index, pairs["site_id"])
    P = (pairs["it_load_mw"] * pairs["pue"]).to_numpy()
    ns = cols.n_open
    rows = np.concatenate([s_of_pair, np.arange(ns)])
    cidx = np.concatenate([np.arange(cols.n_x), cols.open_slice.start + np.arange(ns)])
    vals = np.concatenate([P, -cols.sites["capacity_mw"].to_numpy(dtype=float)])
    A = sp.coo_matrix((vals, (rows, cidx)), shape=(ns, cols.n))
    keys = pd.DataFrame({"site_id": cols.sites.index.to_numpy()})
    return RowBlock("site_capacity", A, np.full(ns, -np.inf), np.zeros(ns), keys)


def site_link_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    if not cols.n_open:
        return _empty("site_link", cols, ["cluster_id", "site_id"])
    pairs = cols.pairs
    s_of_pair = positions(cols.sites.index, pairs["site_id"])
    linked = np.flatnonzero(cols.sites["fixed_cost_usd"].to_numpy(dtype=float)[s_of_pair] > 0)
    n = len(linked)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cidx = np.concatenate([linked, cols.open_slice.start + s_of_pair[linked]])
    vals = np.concatenate([np.ones(n), -np.ones(n)])
    A = sp.coo_matrix((vals, (rows, cidx)), shape=(n, cols.n))
    keys = pairs[["cluster_id", "site_id"]].iloc[linked].reset_index(drop=True)
    return RowBlock("site_link", A, np.full(n, -np.inf), np.zeros(n), keys)


def _empty(name: str, cols: Columns, key_cols: list[str]) -> RowBlock:
    return RowBlock(name, sp.coo_matrix((0, cols.n)), np.zeros(0), np.zeros(0), pd.DataFrame({c: [] for c in key_cols}))

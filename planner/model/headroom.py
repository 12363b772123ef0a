"""Grid headroom, nested by flexibility, in every year.

A cluster's grid draw in region r is ``P[k, r] = IT_k * PUE[k, r]`` (MW), from
its online year o_k on. Curtailment levels are c in {0 (firm), 0.25, 0.5, 1} %
with headroom ``H[g, c]`` (MW) from ``grid_regions.csv``; H is non-decreasing
in c. A cluster accepting curtailment a_k may use headroom at any level
c >= a_k, so for each grid region g, year t and level c::

    sum_{k: o_k <= t, a_k <= c} sum_{r in g} P[k, r] x[k, r]
        - sum_{tau <= t} new[g, tau]  <=  H[g, c]           (row ``headroom[g,t,c]``)

New capacity is firm and counts at every level. Rows with no placement term
are dropped (they cannot bind). The dual of row (g, t, c), undiscounted, is the
USD per MW-year that one more MW of headroom at that level would save.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.data.schemas import HEADROOM_COLUMNS
from planner.inputs import Inputs
from planner.model.core import Columns, RowBlock
from planner.scenario import CURTAILMENT_LEVELS_PCT

LEVEL_LABELS = ("firm", "0.25%", "0.5%", "1%")


def headroom_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    pairs = cols.pairs
    grids = inputs.grid_regions
    years = inputs.years
    nt, nl = len(years), len(CURTAILMENT_LEVELS_PCT)
    gi = grids.index.get_indexer(pairs["grid_region_id"])
    ti0 = pairs["online_year"].to_numpy() - years[0]
    li0 = np.searchsorted(CURTAILMENT_LEVELS_PCT, pairs["curtailment_pct"].to_numpy())
    coef = (pairs["it_load_mw"] * pairs["pue"]).to_numpy()

    # every (pair, t, c) with t >= o_k and c >= a_k: a rectangle of (nt - t0) x (nl - c0) entries per pair,
    # generated directly (no dense pair x year x level mask)
    width = nl - li0
    counts = (nt - ti0) * width
    p_idx = np.repeat(np.arange(len(pairs), dtype=np.int64), counts)
    offset = np.arange(p_idx.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    t_of_entry = ti0[p_idx] + offset // width[p_idx]
    l_of_entry = li0[p_idx] + offset % width[p_idx]
    x_rows = (gi[p_idx] * nt + t_of_entry) * nl + l_of_entry
    x_cols = p_idx
    x_vals = coef[p_idx]
    t_flat = np.repeat(np.arange(nt), nl)
    l_flat = np.tile(np.arange(nl), nt)

    # new[g, tau] counts in rows (g, t, c) for all t >= tau and every c
    new = cols.new
    if len(new):
        ng = grids.index.get_indexer(new["grid_region_id"])
        tau = new["year"].to_numpy() - years[0]
        mask_n = t_flat[None, :] >= tau[:, None]
        n_idx, tln = np.nonzero(mask_n)
        n_rows = (ng[n_idx] * nt + t_flat[tln]) * nl + l_flat[tln]
        n_cols = cols.new_slice.start + n_idx
        n_vals = -np.ones(len(n_idx))
    else:
        n_rows = n_cols = np.zeros(0, dtype=int)
        n_vals = np.zeros(0)

    full = len(grids) * nt * nl
    has_x = np.bincount(x_rows, minlength=full) > 0
    keep = np.flatnonzero(has_x)
    renum = np.full(full, -1)
    renum[keep] = np.arange(len(keep))
    n_keep = renum[n_rows] >= 0
    rows = np.concatenate([renum[x_rows], renum[n_rows[n_keep]]])
    cidx = np.concatenate([x_cols, n_cols[n_keep]])
    vals = np.concatenate([x_vals, n_vals[n_keep]])
    A = sp.csr_matrix((vals, (rows, cidx)), shape=(len(keep), cols.n))

    g_of, rest = np.divmod(keep, nt * nl)
    t_of, l_of = np.divmod(rest, nl)
    H = grids[list(HEADROOM_COLUMNS)].to_numpy(dtype=float)
    upper = H[g_of, l_of]
    keys = pd.DataFrame(
        {
            "grid_region_id": grids.index.to_numpy()[g_of],
            "year": years[t_of].astype(int),
            "level": np.array(LEVEL_LABELS)[l_of],
        }
    )
    return RowBlock("headroom", A, np.full(len(keep), -np.inf), upper, keys)

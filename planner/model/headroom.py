"""Grid headroom, nested by flexibility, in every year.

A cluster's grid draw in region r is ``P[k, r] = IT_k * PUE[k, r]`` (MW), from
its online year o_k on. Curtailment levels are c in {0 (firm), 0.25, 0.5, 1} %
with headroom ``H[g, c]`` (MW) from ``grid_regions.csv``; H is non-decreasing
in c. A cluster accepting curtailment a_k may use headroom at any level
c >= a_k, so for each grid region g, year t and level c::

    sum_{k: o_k <= t, a_k <= c} sum_{r in g} P[k, r] x[k, r]
        - sum_{tau <= t} new[g, tau]  <=  H[g, c]           (row ``headroom[g,t,c]``)

Compact form (default): with the load aggregates ``z[g, o, a]`` of
``aggregates.py`` the same row reads::

    sum_{o <= t, a <= c} z[g, o, a] - sum_{tau <= t} new[g, tau]  <=  H[g, c]

Each pair then enters the headroom system once (in its aggregate's row)
instead of once per later year and accepted level; the expanded form
(``solver.formulation: expanded``) writes the pairs into every row directly.

With on-site power, the MW served on site ``w[r, t, a]`` (``onsite.py``) leave
the rows of g(r), t and every level c >= a::

    sum_{o <= t, a <= c} z[g, o, a] - sum_{r in g, a <= c} w[r, t, a] - sum_{tau <= t} new[g, tau]  <=  H[g, c]

New capacity is firm and counts at every level. Rows with no placement term
are dropped (they cannot bind). The dual of row (g, t, c), undiscounted, is
the USD per MW-year that one more MW of headroom at that level would save.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.data.schemas import HEADROOM_COLUMNS
from planner.inputs import Inputs
from planner.model.core import LEVEL_LABELS, Columns, RowBlock
from planner.scenario import CURTAILMENT_LEVELS_PCT


def headroom_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    grid_ids = cols.grid_ids
    years = inputs.years
    nt, nl = len(years), len(CURTAILMENT_LEVELS_PCT)
    if cols.n_z:  # compact: the aggregates enter the rows
        agg = cols.aggregates
        gi = grid_ids.get_indexer(agg["grid_region_id"])
        ti0 = agg["online_year"].to_numpy() - years[0]
        li0 = agg["level_pos"].to_numpy()
        col0 = cols.z_slice.start + np.arange(cols.n_z)
        coef = np.ones(cols.n_z)
    else:  # expanded: every pair enters every row it counts in
        pairs = cols.pairs
        gi = grid_ids.get_indexer(pairs["grid_region_id"])
        ti0 = pairs["online_year"].to_numpy() - years[0]
        li0 = np.searchsorted(CURTAILMENT_LEVELS_PCT, pairs["curtailment_pct"].to_numpy())
        col0 = np.arange(cols.n_x)
        coef = (pairs["it_load_mw"] * pairs["pue"]).to_numpy()

    # every (entry, t, c) with t >= o and c >= a: a rectangle of (nt - t0) x (nl - c0) cells per entry,
    # generated directly (no dense entry x year x level mask)
    width = nl - li0
    counts = (nt - ti0) * width
    e_idx = np.repeat(np.arange(len(col0), dtype=np.int64), counts)
    offset = np.arange(e_idx.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    t_of_entry = ti0[e_idx] + offset // width[e_idx]
    l_of_entry = li0[e_idx] + offset % width[e_idx]
    x_rows = (gi[e_idx] * nt + t_of_entry) * nl + l_of_entry
    x_cols = col0[e_idx]
    x_vals = coef[e_idx]
    t_flat = np.repeat(np.arange(nt), nl)
    l_flat = np.tile(np.arange(nl), nt)

    # new[g, tau] counts in rows (g, t, c) for all t >= tau and every c
    new = cols.new
    if len(new):
        ng = grid_ids.get_indexer(new["grid_region_id"])
        tau = new["year"].to_numpy() - years[0]
        mask_n = t_flat[None, :] >= tau[:, None]
        n_idx, tln = np.nonzero(mask_n)
        n_rows = (ng[n_idx] * nt + t_flat[tln]) * nl + l_flat[tln]
        n_cols = cols.new_slice.start + n_idx
        n_vals = -np.ones(len(n_idx))
    else:
        n_rows = n_cols = np.zeros(0, dtype=int)
        n_vals = np.zeros(0)

    # on-site supply w[r, t, a] (onsite.py) relieves the rows (g(r), t, c) for every c >= a
    w = cols.serve
    if len(w):
        wg = grid_ids.get_indexer(w["grid_region_id"])
        wt = w["year"].to_numpy() - years[0]
        wa = w["level_pos"].to_numpy()
        w_idx = np.repeat(np.arange(len(w)), nl - wa)
        w_lvl = wa[w_idx] + (np.arange(w_idx.size) - np.repeat(np.cumsum(nl - wa) - (nl - wa), nl - wa))
        w_rows = (wg[w_idx] * nt + wt[w_idx]) * nl + w_lvl
        w_cols = cols.w_slice.start + w_idx
    else:
        w_rows = w_cols = np.zeros(0, dtype=int)

    full = len(grid_ids) * nt * nl
    has_x = np.bincount(x_rows, minlength=full) > 0
    keep = np.flatnonzero(has_x)
    renum = np.full(full, -1)
    renum[keep] = np.arange(len(keep))
    n_keep = renum[n_rows] >= 0
    rows = np.concatenate([renum[x_rows], renum[n_rows[n_keep]], renum[w_rows]])
    cidx = np.concatenate([x_cols, n_cols[n_keep], w_cols])
    vals = np.concatenate([x_vals, n_vals[n_keep], -np.ones(len(w_rows))])
    A = sp.coo_matrix((vals, (rows, cidx)), shape=(len(keep), cols.n))

    g_of, rest = np.divmod(keep, nt * nl)
    t_of, l_of = np.divmod(rest, nl)
    H = inputs.grid_regions.loc[grid_ids, list(HEADROOM_COLUMNS)].to_numpy(dtype=float)
    upper = H[g_of, l_of]
    keys = pd.DataFrame(
        {
            "grid_region_id": grid_ids.to_numpy()[g_of],
            "year": years[t_of].astype(int),
            "level": np.array(LEVEL_LABELS)[l_of],
        }
    )
    return RowBlock("headroom", A, np.full(len(keep), -np.inf), upper, keys)

"""Region-level limits on new data-center load, where data or scenario give one.

For each region r with a limit R_r (``max_new_load_mw``; +inf for a zone that a local
moratorium of the data could limit but none applied does)::

    sum_k P[k, r] x[k, r] <= R_r                    (row ``region_limit[r]``)

Placements are fixed over time and load only grows, so the last year's row
implies all earlier ones; only that row is built.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs import Inputs
from planner.model.core import Columns, RowBlock
from planner.fastindex import positions


def region_limit_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    limits = inputs.regions["max_new_load_mw"].dropna()
    # zones that a local measure of the data could limit get their row whether or not a measure is applied
    # (then with no upper limit), so that applying or lifting moratoria changes bounds only, never the rows
    table = inputs.tables.moratoria if inputs.tables is not None else None
    if table is not None and "scope" in table.columns:
        local = table.loc[table["scope"] != "state", "region_id"]
        could = pd.Index(local[local.isin(inputs.regions.index)].unique()).difference(limits.index)
        limits = pd.concat([limits, pd.Series(np.inf, index=could)])
    pairs = cols.pairs
    if limits.empty:
        return RowBlock("region_limit", sp.coo_matrix((0, cols.n)), np.zeros(0), np.zeros(0), pd.DataFrame({"region_id": []}))
    limited = limits.index[limits.index.isin(pairs["region_id"].unique())].sort_values()
    row_of_pair = positions(limited, pairs["region_id"])  # -1: no limit
    sel = np.flatnonzero(row_of_pair >= 0)
    rows = row_of_pair[sel]
    vals = (pairs["it_load_mw"] * pairs["pue"]).to_numpy()[sel]
    A = sp.coo_matrix((vals, (rows, sel)), shape=(len(limited), cols.n))
    keys = pd.DataFrame({"region_id": limited.to_numpy()})
    return RowBlock("region_limit", A, np.full(len(limited), -np.inf), limits.loc[limited].to_numpy(dtype=float), keys)

"""Region-level limits on new data-center load, where data or scenario give one.

For each region r with a limit R_r (``max_new_load_mw``; +inf for a zone that a local
moratorium of the data could limit but none applied does)::

    sum_k P[k, r] x[k, r] <= R_r                    (row ``region_limit[r]``)

Placements are fixed over time and load only grows, so the last year's row
implies all earlier ones; only that row is built.

Compact form (default): a zone that keeps its own load aggregates ``z[r, o, a]``
(``aggregates.py``) has its row over them instead of the pairs::

    sum_{o, a} z[r, o, a] <= R_r

Substituting the aggregates' definition gives the row above exactly. A limited
zone keeps its own aggregates when that makes the matrix smaller
(:func:`shorter_by_zone`): its pairs then enter one short aggregate row each,
not also a region row as long as the zone's pair list (at national site scale
up to 13,557 entries; 6 such rows at size 4). With a few pairs per zone, as in
the bundled scenarios, the row over the pairs is the shorter one and stays.
The dual simplex prices its pivotal row over every row it touches, so long rows
cost in every iteration (at size 4: 2.38 M instead of 2.41 M nonzeros; the time
saved is within run-to-run noise, docs/performance.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs import Inputs
from planner.model.aggregates import distinct_cells, pair_aggregate_index
from planner.model.core import Columns, RowBlock
from planner.fastindex import positions, present
from planner.scenario import CURTAILMENT_LEVELS_PCT


def region_limits(inputs: Inputs, pairs: pd.DataFrame) -> pd.Series:
    """R_r (MW, +inf where only a local measure could set one) of the zones that get a row: those with a
    limit and at least one eligible pair, sorted by zone id."""
    limits = inputs.regions["max_new_load_mw"].dropna()
    # zones that a local measure of the data could limit get their row whether or not a measure is applied
    # (then with no upper limit), so that applying or lifting moratoria changes bounds only, never the rows
    table = inputs.tables.moratoria if inputs.tables is not None else None
    if table is not None and "scope" in table.columns:
        local = table.loc[table["scope"] != "state", "region_id"]
        could = pd.Index(local[local.isin(inputs.regions.index)].unique()).difference(limits.index)
        limits = pd.concat([limits, pd.Series(np.inf, index=could)])
    if limits.empty or not len(pairs):
        return pd.Series(dtype=float)
    limited = limits.index[limits.index.isin(present(pairs["region_id"]))].sort_values()
    return limits.loc[limited].astype(float)


def shorter_by_zone(inputs: Inputs, pairs: pd.DataFrame, zones: pd.Index) -> pd.Index:
    """The zones of *zones* whose loads are better kept by zone: those where the zone's own aggregates
    cost fewer matrix entries than writing its pairs into the region-limit row.

    Kept by zone, a zone's cell (o, a) adds an entry to the region row, a -1 in its aggregate row and
    (T - o + 1) x (number of levels >= a) headroom entries; the pairs' own entries move from the grid
    region's aggregate rows to the zone's and cost nothing more. Kept by grid region, the region row has
    one entry per pair. Depends on the pairs only (not on costs or bounds), so what-ifs and sweeps that
    move costs or bounds keep the same rows.
    """
    if not len(zones) or not len(pairs):
        return pd.Index([], dtype=object)
    nt, nl = len(inputs.years), len(CURTAILMENT_LEVELS_PCT)
    # the cells the zones would keep (no grid regions given: the other pairs get negative cells)
    cell = pair_aggregate_index(pairs, pd.Index([], dtype=object), zones, int(inputs.years[0]), nt)
    cell = cell[cell >= 0]
    n_pairs = np.bincount(cell // (nt * nl), minlength=len(zones))
    cz, rest = np.divmod(distinct_cells(cell), nt * nl)
    ct, ca = np.divmod(rest, nl)
    per_cell = 2 + (nt - ct) * (nl - ca)
    n_zone = np.bincount(cz, weights=per_cell, minlength=len(zones))
    return zones[n_zone < n_pairs]


def region_limit_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    limits = region_limits(inputs, cols.pairs)
    if limits.empty:
        return RowBlock("region_limit", sp.coo_matrix((0, cols.n)), np.zeros(0), np.zeros(0), pd.DataFrame({"region_id": []}))
    limited = limits.index
    # zones that keep their own aggregates (compact form): the row sums those
    row_of_z = positions(limited, cols.aggregates["region_id"]) if cols.n_z else np.zeros(0, dtype=np.intp)
    zi = np.flatnonzero(row_of_z >= 0)
    # the other limited zones (expanded form, or a zone whose row is shorter over its pairs): every pair
    pairs = cols.pairs
    row_of_pair = positions(limited, pairs["region_id"])  # -1: no limit
    row_of_pair[np.isin(row_of_pair, row_of_z[zi])] = -1
    xi = np.flatnonzero(row_of_pair >= 0)
    rows = np.concatenate([row_of_z[zi], row_of_pair[xi]])
    cidx = np.concatenate([cols.z_slice.start + zi, xi])
    vals = np.concatenate([np.ones(len(zi)), (pairs["it_load_mw"] * pairs["pue"]).to_numpy()[xi]])
    A = sp.coo_matrix((vals, (rows, cidx)), shape=(len(limited), cols.n))
    keys = pd.DataFrame({"region_id": limited.to_numpy()})
    return RowBlock("region_limit", A, np.full(len(limited), -np.inf), limits.to_numpy(dtype=float), keys)

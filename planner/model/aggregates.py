"""Load aggregates: the grid draw placed in a grid region, by online year and curtailment level.

The compact formulation (the default) gives each pair one entry in the
headroom system instead of one per later year and accepted level. For every
grid region g, online year o and curtailment level a with at least one
eligible pair, a free column ``z[g, o, a]`` (MW) is defined by::

    sum_{(k, r) in E: g(r) = g, o_k = o, a_k = a} P[k, r] x[k, r] - z[g, o, a] = 0     (row ``load_aggregate[g,o,a]``)

The headroom rows (``headroom.py``) then sum a few aggregates instead of many
pairs. Substituting the definition back gives the expanded rows exactly, so
the two formulations have the same feasible set in x and the same optimum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs import Inputs
from planner.model.core import LEVEL_LABELS, Columns, RowBlock
from planner.scenario import CURTAILMENT_LEVELS_PCT
from planner.fastindex import positions


def pair_aggregate_index(pairs: pd.DataFrame, grid_ids: pd.Index, first_year: int, n_years: int) -> np.ndarray:
    """Flat (g, o, a) cell of each pair: ``(g * n_years + (o - first_year)) * n_levels + a``."""
    nl = len(CURTAILMENT_LEVELS_PCT)
    gi = positions(grid_ids, pairs["grid_region_id"])
    ti = pairs["online_year"].to_numpy(dtype=np.int64) - first_year
    li = np.searchsorted(CURTAILMENT_LEVELS_PCT, pairs["curtailment_pct"].to_numpy())
    return (gi * n_years + ti) * nl + li


def load_aggregate_columns(inputs: Inputs, pairs: pd.DataFrame, grid_ids: pd.Index) -> pd.DataFrame:
    """One row per ``z[g, o, a]`` column that some pair feeds: grid_region_id, online_year, level_pos, cell."""
    nt, nl = len(inputs.years), len(CURTAILMENT_LEVELS_PCT)
    cells = np.unique(pair_aggregate_index(pairs, grid_ids, int(inputs.years[0]), nt))
    g, rest = np.divmod(cells, nt * nl)
    t, a = np.divmod(rest, nl)
    return pd.DataFrame(
        {
            "grid_region_id": grid_ids.to_numpy()[g],
            "online_year": (int(inputs.years[0]) + t).astype(int),
            "level_pos": a.astype(int),
            "cell": cells,
        }
    )


def load_aggregate_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    agg = cols.aggregates
    if not cols.n_z:
        return RowBlock("load_aggregate", sp.csr_matrix((0, cols.n)), np.zeros(0), np.zeros(0),
                        pd.DataFrame({"grid_region_id": [], "online_year": [], "level": []}))
    pairs = cols.pairs
    cell = pair_aggregate_index(pairs, cols.grid_ids, int(inputs.years[0]), len(inputs.years))
    row_of_pair = np.searchsorted(agg["cell"].to_numpy(), cell)
    nz = cols.n_z
    rows = np.concatenate([row_of_pair, np.arange(nz)])
    cidx = np.concatenate([np.arange(cols.n_x), cols.z_slice.start + np.arange(nz)])
    vals = np.concatenate([(pairs["it_load_mw"] * pairs["pue"]).to_numpy(), -np.ones(nz)])
    A = sp.csr_matrix((vals, (rows, cidx)), shape=(nz, cols.n))
    keys = pd.DataFrame(
        {
            "grid_region_id": agg["grid_region_id"].to_numpy(),
            "online_year": agg["online_year"].to_numpy(),
            "level": np.array(LEVEL_LABELS)[agg["level_pos"].to_numpy()],
        }
    )
    zeros = np.zeros(nz)
    return RowBlock("load_aggregate", A, zeros, zeros.copy(), keys)

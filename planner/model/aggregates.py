"""Load aggregates: the grid draw placed in a grid region, by online year and curtailment level.

The compact formulation (the default) gives each pair one entry in the
headroom system instead of one per later year and accepted level. For every
grid region g, online year o and curtailment level a with at least one
eligible pair, a free column ``z[g, o, a]`` (MW) is defined by::

    sum_{(k, r) in E: g(r) = g, o_k = o, a_k = a} P[k, r] x[k, r] - z[g, o, a] = 0     (row ``load_aggregate[g,o,a]``)

The headroom rows (``headroom.py``) then sum a few aggregates instead of many
pairs. With on-site power the aggregates are kept per zone r instead
(``z[r, o, a]``, the same rows with g(r) = g replaced by r): the on-site rows
(``onsite.py``) need each zone's load, and a grid region's headroom row sums
the aggregates of its zones. Substituting the definition back gives the expanded rows exactly, so
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


def aggregate_key(cols_or_zone_ids) -> str:
    """The pairs' column the aggregates are kept by: ``region_id`` (zones, with on-site power) or ``grid_region_id``."""
    return "region_id" if len(cols_or_zone_ids) else "grid_region_id"


def pair_aggregate_index(pairs: pd.DataFrame, ids: pd.Index, first_year: int, n_years: int, key: str = "grid_region_id") -> np.ndarray:
    """Flat (place, o, a) cell of each pair: ``(place * n_years + (o - first_year)) * n_levels + a``;
    the place is the pair's *key* column (grid region or zone) looked up in *ids*."""
    nl = len(CURTAILMENT_LEVELS_PCT)
    gi = positions(ids, pairs[key])
    ti = pairs["online_year"].to_numpy(dtype=np.int64) - first_year
    li = np.searchsorted(CURTAILMENT_LEVELS_PCT, pairs["curtailment_pct"].to_numpy())
    return (gi * n_years + ti) * nl + li


def load_aggregate_columns(inputs: Inputs, pairs: pd.DataFrame, grid_ids: pd.Index, zone_ids: pd.Index | None = None) -> pd.DataFrame:
    """One row per ``z`` column that some pair feeds: grid_region_id, region_id ("" when kept by grid
    region), online_year, level_pos, cell. Kept by zone when *zone_ids* is not empty."""
    nt, nl = len(inputs.years), len(CURTAILMENT_LEVELS_PCT)
    zone_ids = zone_ids if zone_ids is not None else pd.Index([], dtype=object)
    key = aggregate_key(zone_ids)
    ids = zone_ids if len(zone_ids) else grid_ids
    cells = np.unique(pair_aggregate_index(pairs, ids, int(inputs.years[0]), nt, key))
    g, rest = np.divmod(cells, nt * nl)
    t, a = np.divmod(rest, nl)
    place = ids.to_numpy()[g]
    grid = inputs.regions.loc[place, "grid_region_id"].to_numpy() if len(zone_ids) else place
    return pd.DataFrame(
        {
            "grid_region_id": grid,
            "region_id": place if len(zone_ids) else np.full(len(cells), "", dtype=object),
            "online_year": (int(inputs.years[0]) + t).astype(int),
            "level_pos": a.astype(int),
            "cell": cells,
        }
    )


def load_aggregate_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    agg = cols.aggregates
    if not cols.n_z:
        return RowBlock("load_aggregate", sp.coo_matrix((0, cols.n)), np.zeros(0), np.zeros(0),
                        pd.DataFrame({"grid_region_id": [], "online_year": [], "level": []}))
    pairs = cols.pairs
    key = aggregate_key(cols.zone_ids)
    ids = cols.zone_ids if len(cols.zone_ids) else cols.grid_ids
    cell = pair_aggregate_index(pairs, ids, int(inputs.years[0]), len(inputs.years), key)
    row_of_pair = np.searchsorted(agg["cell"].to_numpy(), cell)
    nz = cols.n_z
    rows = np.concatenate([row_of_pair, np.arange(nz)])
    cidx = np.concatenate([np.arange(cols.n_x), cols.z_slice.start + np.arange(nz)])
    vals = np.concatenate([(pairs["it_load_mw"] * pairs["pue"]).to_numpy(), -np.ones(nz)])
    A = sp.coo_matrix((vals, (rows, cidx)), shape=(nz, cols.n))
    keys = pd.DataFrame(
        {
            key: agg[key].to_numpy(),
            "online_year": agg["online_year"].to_numpy(),
            "level": np.array(LEVEL_LABELS)[agg["level_pos"].to_numpy()],
        }
    )
    zeros = np.zeros(nz)
    return RowBlock("load_aggregate", A, zeros, zeros.copy(), keys)

"""Load aggregates: the grid draw placed in a grid region, by online year and curtailment level.

The compact formulation (the default) gives each pair one entry in the
headroom system instead of one per later year and accepted level. For every
grid region g, online year o and curtailment level a with at least one
eligible pair, a free column ``z[g, o, a]`` (MW) is defined by::

    sum_{(k, r) in E: g(r) = g, o_k = o, a_k = a} P[k, r] x[k, r] - z[g, o, a] = 0     (row ``load_aggregate[g,o,a]``)

The headroom rows (``headroom.py``) then sum a few aggregates instead of many
pairs. Some zones r keep their own aggregates instead (``z[r, o, a]``, the
same rows with g(r) = g replaced by r; the zone's grid region g(r) is the
aggregate's grid region):

* with on-site power, every zone with a pair: the on-site rows (``onsite.py``)
  need each zone's load;
* every zone with a ``region_limit`` row: the row then sums the zone's few
  aggregates instead of all its pairs (``region_limit.py``).

A grid region's headroom row sums the aggregates of the grid region and of its
zones. Substituting the definition back gives the expanded rows exactly, so
the two formulations have the same feasible set in x and the same optimum.

Each aggregate has a *place*: its position among the grid regions (kept by grid
region) or ``len(grid_ids)`` plus its position among the zones kept by zone.
Its flat cell is ``(place * n_years + (o - first_year)) * n_levels + a``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs import Inputs
from planner.model.core import LEVEL_LABELS, Columns, RowBlock
from planner.scenario import CURTAILMENT_LEVELS_PCT
from planner.fastindex import positions


def pair_aggregate_index(pairs: pd.DataFrame, grid_ids: pd.Index, zone_ids: pd.Index, first_year: int, n_years: int) -> np.ndarray:
    """Flat (place, o, a) cell of each pair (see the module docstring); pairs in a zone of *zone_ids*
    are kept by zone, the others by grid region."""
    nl = len(CURTAILMENT_LEVELS_PCT)
    place = positions(grid_ids, pairs["grid_region_id"])
    if len(zone_ids):
        zi = positions(zone_ids, pairs["region_id"])
        place = np.where(zi >= 0, len(grid_ids) + zi, place)
    ti = pairs["online_year"].to_numpy(dtype=np.int64) - first_year
    li = np.searchsorted(CURTAILMENT_LEVELS_PCT, pairs["curtailment_pct"].to_numpy())
    return (place * n_years + ti) * nl + li


def distinct_cells(cell: np.ndarray) -> np.ndarray:
    """The distinct values of the non-negative integers *cell*, sorted (``np.unique``): by counting, as
    the cells are few (places x years x levels) and the pairs many (0.8 M at size 4: 2 ms against 16 ms)."""
    if not _countable(cell):  # not small counts: sort
        return np.unique(cell).astype(np.int64)
    return np.flatnonzero(np.bincount(cell)).astype(np.int64)


def _countable(cell: np.ndarray) -> bool:
    """Whether *cell* is non-empty, non-negative and small enough for an array indexed by its values."""
    return bool(len(cell)) and cell.min() >= 0 and cell.max() <= 16 * len(cell) + 1_000_000


def load_aggregate_columns(inputs: Inputs, pairs: pd.DataFrame, grid_ids: pd.Index, zone_ids: pd.Index | None = None) -> pd.DataFrame:
    """One row per ``z`` column that some pair feeds: grid_region_id, region_id (the zone, "" when kept by
    grid region), online_year, level_pos, cell. The pairs of the zones in *zone_ids* are kept by zone."""
    nt, nl = len(inputs.years), len(CURTAILMENT_LEVELS_PCT)
    zone_ids = pd.Index(np.unique(np.asarray(zone_ids, dtype=object).astype(str))) if zone_ids is not None else pd.Index([], dtype=object)
    cells = distinct_cells(pair_aggregate_index(pairs, grid_ids, zone_ids, int(inputs.years[0]), nt))
    place, rest = np.divmod(cells, nt * nl)
    t, a = np.divmod(rest, nl)
    by_zone = place >= len(grid_ids)
    zone = np.full(len(cells), "", dtype=object)
    zone[by_zone] = zone_ids.to_numpy()[place[by_zone] - len(grid_ids)]
    grid = np.empty(len(cells), dtype=object)
    grid[~by_zone] = grid_ids.to_numpy()[place[~by_zone]]
    grid[by_zone] = inputs.regions.loc[zone[by_zone], "grid_region_id"].to_numpy()
    return pd.DataFrame(
        {
            "grid_region_id": grid,
            "region_id": zone,
            "online_year": (int(inputs.years[0]) + t).astype(int),
            "level_pos": a.astype(int),
            "cell": cells,
        }
    )


def aggregate_zone_ids(aggregates: pd.DataFrame) -> pd.Index:
    """The zones that keep their own aggregates, sorted (as :func:`load_aggregate_columns` was given them)."""
    if not len(aggregates):
        return pd.Index([], dtype=object)
    zones = aggregates["region_id"].to_numpy()
    return pd.Index(np.unique(zones[zones != ""].astype(str)))


def load_aggregate_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    agg = cols.aggregates
    if not cols.n_z:
        return RowBlock("load_aggregate", sp.coo_matrix((0, cols.n)), np.zeros(0), np.zeros(0),
                        pd.DataFrame({"place_id": [], "online_year": [], "level": []}))
    pairs = cols.pairs
    cell = pair_aggregate_index(pairs, cols.grid_ids, aggregate_zone_ids(agg), int(inputs.years[0]), len(inputs.years))
    cells = agg["cell"].to_numpy()  # sorted (distinct_cells); every pair's cell is one of them (load_aggregate_columns)
    if _countable(cell):  # few cells: a lookup table
        row_of_cell = np.zeros(int(max(cells.max(), cell.max())) + 1, dtype=np.int64)
        row_of_cell[cells] = np.arange(len(cells))
        row_of_pair = row_of_cell[cell]
    else:
        row_of_pair = np.searchsorted(cells, cell)
    nz = cols.n_z
    rows = np.concatenate([row_of_pair, np.arange(nz)])
    cidx = np.concatenate([np.arange(cols.n_x), cols.z_slice.start + np.arange(nz)])
    vals = np.concatenate([(pairs["it_load_mw"] * pairs["pue"]).to_numpy(), -np.ones(nz)])
    A = sp.coo_matrix((vals, (rows, cidx)), shape=(nz, cols.n))
    zone = agg["region_id"].to_numpy()
    keys = pd.DataFrame(
        {
            "place_id": np.where(zone != "", zone, agg["grid_region_id"].to_numpy()),  # the zone, or the grid region
            "online_year": agg["online_year"].to_numpy(),
            "level": np.array(LEVEL_LABELS)[agg["level_pos"].to_numpy()],
        }
    )
    zeros = np.zeros(nz)
    return RowBlock("load_aggregate", A, zeros, zeros.copy(), keys)

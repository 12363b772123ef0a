"""Build the Model from Inputs: columns, bounds, each row family, objective.

Each family is one function in its own module; they never call each other.
This is the only place that knows the order of the row blocks.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs import Inputs
from planner.model.core import Columns, Model, RowBlock
from planner.model.expansion import new_capacity_columns
from planner.model.headroom import headroom_rows
from planner.model.moratoria import moratorium_upper_bounds
from planner.model.objective import objective_parts
from planner.model.placement import placement_rows
from planner.model.region_limit import region_limit_rows
from planner.model.sites import site_capacity_rows, site_link_rows

#: Row families, in the order their rows appear in A.
ROW_FAMILIES = (placement_rows, headroom_rows, region_limit_rows, site_capacity_rows, site_link_rows)


def build_model(inputs: Inputs) -> Model:
    """Assemble the LP for *inputs*."""
    t0 = time.perf_counter()
    new = new_capacity_columns(inputs)
    sites = inputs.sites if len(inputs.sites) else pd.DataFrame()
    cols = Columns(inputs.pairs, pd.Index(inputs.clusters.index), new, sites)

    lower = np.zeros(cols.n)
    upper = np.concatenate(
        [moratorium_upper_bounds(inputs), np.ones(cols.n_u), new["upper_mw"].to_numpy(dtype=float), np.ones(cols.n_open)]
    )
    integrality = np.zeros(cols.n, dtype=np.int8)
    integrality[cols.x] = inputs.pairs["indivisible"].to_numpy(dtype=bool)
    if cols.n_open:  # a site without a fixed cost is simply available: open = 1, no binary needed
        free = cols.sites["fixed_cost_usd"].to_numpy(dtype=float) == 0
        integrality[cols.open_slice] = ~free
        lower[cols.open_slice] = free.astype(float)

    blocks: list[RowBlock] = [family(inputs, cols) for family in ROW_FAMILIES]
    A = sp.vstack([b.A for b in blocks], format="csc")  # column-wise, as HiGHS takes it
    slices, start = {}, 0
    for b in blocks:
        slices[b.name] = slice(start, start + b.A.shape[0])
        start += b.A.shape[0]

    parts = objective_parts(inputs, cols)
    c = sum(parts.values())
    return Model(
        columns=cols,
        c=c,
        cost_parts=parts,
        lower=lower,
        upper=upper,
        A=A,
        row_lower=np.concatenate([b.lower for b in blocks]),
        row_upper=np.concatenate([b.upper for b in blocks]),
        blocks=slices,
        row_keys={b.name: b.keys for b in blocks},
        integrality=integrality,
        build_seconds=time.perf_counter() - t0,
    )

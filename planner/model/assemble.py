"""Build the Model from Inputs: columns, bounds, each row family, objective.

Each family is one function in its own module; they never call each other.
This is the only place that knows the order of the row blocks, and the only
place that puts the inputs in the canonical order the model is built in
(pairs by cluster, region and site; clusters, grid regions and sites by id),
so that shuffling the rows of any input table gives the same model.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.eligibility import BUILD_THREADS
from planner.inputs import Inputs
from planner.model.aggregates import load_aggregate_columns, load_aggregate_rows
from planner.model.core import Columns, Model, RowBlock
from planner.model.expansion import new_capacity_columns
from planner.model.headroom import headroom_rows
from planner.model.moratoria import moratorium_upper_bounds
from planner.model.objective import objective_parts
from planner.model.onsite import ONSITE_FAMILIES, onsite_columns, onsite_zone_ids
from planner.model.placement import placement_rows
from planner.model.region_limit import region_limit_rows, region_limits, shorter_by_zone
from planner.model.sites import site_capacity_rows, site_link_rows
from planner.fastindex import sorted_by

#: From this many pairs on, the row families are built by :data:`planner.eligibility.BUILD_THREADS` threads
#: (the eligibility's batch size: below it, threads cost more than they save).
PARALLEL_MIN_PAIRS = 1 << 18

#: Row families, in the order their rows appear in A.
ROW_FAMILIES = (placement_rows, load_aggregate_rows, headroom_rows, region_limit_rows, site_capacity_rows, site_link_rows,
                *ONSITE_FAMILIES)

#: The formulations of the headroom system (see ``headroom.py``); both give the same optimum.
FORMULATIONS = ("compact", "expanded")


def build_model(inputs: Inputs, formulation: str | None = None) -> Model:
    """Assemble the LP for *inputs*.

    Parameters
    ----------
    inputs
        From :func:`planner.inputs.build_inputs`.
    formulation
        ``compact`` (load aggregates, the default) or ``expanded`` (0.1.0's rows); default: the
        scenario's ``solver.formulation``.
    """
    t0 = time.perf_counter()
    formulation = formulation or inputs.scenario.solver.formulation
    if formulation not in FORMULATIONS:
        raise ValueError(f"unknown formulation {formulation!r}; expected one of {', '.join(FORMULATIONS)}")
    order = canonical_pair_order(inputs.pairs)
    in_order = bool((order == np.arange(len(order))).all())  # eligible_pairs gives them in order: no copy
    pairs = (inputs.pairs if in_order else inputs.pairs.iloc[order]).reset_index(drop=True)
    grid_ids = inputs.grid_regions.index.sort_values()
    new = new_capacity_columns(inputs)
    sites = inputs.sites.sort_index() if len(inputs.sites) else pd.DataFrame()
    zone_ids = onsite_zone_ids(inputs, pairs) if formulation == "compact" else pd.Index([], dtype=object)
    # zones that keep their own load aggregates: the on-site zones, and the zones with a region limit where
    # the row over their aggregates is shorter than over their pairs (region_limit.py)
    by_zone = (zone_ids.union(shorter_by_zone(inputs, pairs, region_limits(inputs, pairs).index))
               if formulation == "compact" else zone_ids)
    aggregates = load_aggregate_columns(inputs, pairs, grid_ids, by_zone) if formulation == "compact" and len(pairs) else pd.DataFrame()
    clusters = pd.Index(inputs.clusters.index).sort_values()
    onsite = onsite_columns(inputs, pairs, aggregates, zone_ids)
    cols = Columns(pairs, clusters, new, sites, aggregates, grid_ids, zone_ids, **onsite)

    lower = np.zeros(cols.n)
    upper = np.concatenate(
        [
            moratorium_upper_bounds(inputs)[order],
            np.ones(cols.n_u),
            new["upper_mw"].to_numpy(dtype=float),
            np.ones(cols.n_open),
            np.full(cols.n_z, np.inf),
            np.full(cols.n_onsite, np.inf),
        ]
    )
    integrality = np.zeros(cols.n, dtype=np.int8)
    integrality[cols.x] = pairs["indivisible"].to_numpy(dtype=bool)
    if cols.n_open:  # a site without a fixed cost is simply available: open = 1, no binary needed
        free = cols.sites["fixed_cost_usd"].to_numpy(dtype=float) == 0
        integrality[cols.open_slice] = ~free
        lower[cols.open_slice] = free.astype(float)

    # the families are independent and, at national scale, mostly NumPy on large arrays (which releases the
    # GIL): two threads, in order (size 4: 50-55 ms against 69-75 ms, docs/performance.md); the same blocks.
    # On small models the families are Python work on small arrays, and threads only contend for the GIL.
    if BUILD_THREADS > 1 and cols.n_x >= PARALLEL_MIN_PAIRS:
        with ThreadPoolExecutor(BUILD_THREADS, thread_name_prefix="planner-rows") as pool:
            blocks: list[RowBlock] = list(pool.map(lambda family: family(inputs, cols), ROW_FAMILIES))
    else:
        blocks = [family(inputs, cols) for family in ROW_FAMILIES]
    A = sp.vstack([b.A for b in blocks], format="csc")  # column-wise, as HiGHS takes it (one conversion of the triplets)
    slices, start = {}, 0
    for b in blocks:
        slices[b.name] = slice(start, start + b.A.shape[0])
        start += b.A.shape[0]

    parts = objective_parts(inputs, cols)
    c = np.zeros(cols.n)
    for part in parts.values():  # in the order of the parts, as the reported totals add them
        c = c + part
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


def canonical_pair_order(pairs: pd.DataFrame) -> np.ndarray:
    """Positions that sort the pairs by (cluster_id, region_id, site_id, online_year)."""
    if not len(pairs):
        return np.zeros(0, dtype=np.int64)
    names = [c for c in ("cluster_id", "region_id", "site_id", "online_year") if c in pairs]
    if sorted_by(pairs, names):  # eligible_pairs gives them in order: checking is cheaper than sorting (0.3 s)
        return np.arange(len(pairs))
    keys = [pd.factorize(pairs[c], sort=True)[0] for c in reversed(names)]
    return np.lexsort(keys)

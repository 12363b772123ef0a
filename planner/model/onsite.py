"""On-site generation: what a campus builds behind the meter when the grid has no room (issue 11).

Annual capacity-and-energy model per zone r (the part of a state in one grid
region), technology j (``datasets/onsite_technologies.csv``), year t and
curtailment level a. With P_k the grid draw and U_k the utilisation of a
cluster, the loads come from the placements through the zone aggregates
(``aggregates.py``, kept by zone when on-site power is enabled)::

    z[r, o, a] = sum_{k: o_k = o, a_k = a} P_k x[k, r]           peak MW placed      (load_aggregate)
    e[r, o]    = sum_{k: o_k = o} P_k U_k x[k, r]                 average MW placed   (energy_aggregate)

Columns: ``build[r, j, tau]`` MW of nameplate first running in year tau
(from the technology's first year: horizon start + lead time, or later when
it is not yet available); ``w[r, t, a]`` MW of level-a grid draw served on
site instead of by the grid; ``gen[r, j, t]`` average MW generated. With
availability A_j (firm share of nameplate), the on-site share limit s
(``onsite.max_share``) and the zone cap Cap_r (``onsite.max_mw``)::

    sum_a w[r,t,a]   <= sum_j A_j sum_{tau<=t} build[r,j,tau]      firm capacity          (onsite_firm)
    gen[r,j,t]       <= A_j sum_{tau<=t} build[r,j,tau]            output per plant       (onsite_output)
    w[r,t,a]         <= sum_{o<=t} z[r,o,a]                        only load that exists  (onsite_load)
    sum_j gen[r,j,t] <= s sum_{o<=t} e[r,o]                        no export              (onsite_energy)
    sum_a Umin[r,a] w[r,t,a] <= sum_j gen[r,j,t]                   relief needs energy    (onsite_relief)
    sum_{o<=t} e[r,o] - sum_j gen[r,j,t]
        <= sum_{o<=t,a} z[r,o,a] - sum_a w[r,t,a]                  grid energy <= its peak (grid_energy)
    sum_a w[r,t,a]   <= s sum_{o<=t,a} z[r,o,a]                    (onsite_share, when s < 1)
    sum_{j,tau} build[r,j,tau] <= Cap_r                            (onsite_cap, where given)

and the headroom row of grid region g, year t and level c (``headroom.py``)
subtracts sum_{r in g, a<=c} w[r,t,a]: load served on site does not draw on
the grid. Umin[r,a] is the lowest utilisation among the clusters that may go
to zone r at level a: serving w MW of their peak on site takes at least
Umin x w average MW (exact when those clusters share one utilisation, the
bundled scenarios' case; otherwise a bound in the on-site option's favour).

*Permanent* and *bridge* supply are outcomes, not modes: a zone whose w
equals its load every year is islanded; one whose w falls to 0 once new
grid capacity arrives (after the grid region's connection lead time) was
bridged. A plant built stays paid for (its capital is annualised over the
asset life from its first year, like the grid's expansion); its fuel is paid
only while it runs.

Costs (``objective.py``): capital 1000 capex_rj CRF and fixed O&M per MW-yr
from tau on; per average MW generated 8760 (heat rate x fuel price + variable
O&M + emissions x carbon price), less the zone's grid price and grid
emissions it displaces (the placements pay for all their energy at the grid's
price).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs import Inputs
from planner.model.core import LEVEL_LABELS, Columns, RowBlock
from planner.scenario import CURTAILMENT_LEVELS_PCT


def onsite_zone_ids(inputs: Inputs, pairs: pd.DataFrame) -> pd.Index:
    """Zones with placements that could be served on site (empty when on-site power is off)."""
    if not len(inputs.onsite) or not len(pairs):
        return pd.Index([], dtype=object)
    return pd.Index(np.unique(pairs["region_id"].to_numpy().astype(str)))


def onsite_columns(inputs: Inputs, pairs: pd.DataFrame, aggregates: pd.DataFrame, zone_ids: pd.Index) -> dict[str, pd.DataFrame]:
    """The e, build, w and gen columns (see the module docstring), in canonical order."""
    empty = {"energy": pd.DataFrame(), "build": pd.DataFrame(), "serve": pd.DataFrame(), "gen": pd.DataFrame()}
    if not len(zone_ids):
        return empty
    years = inputs.years
    opts = inputs.onsite[inputs.onsite["region_id"].isin(zone_ids)].reset_index(drop=True)
    zones = zone_ids[zone_ids.isin(opts["region_id"])]
    if not len(zones):
        return empty
    at = pairs["region_id"].isin(zones).to_numpy()
    energy = (pd.DataFrame({"region_id": pairs["region_id"].to_numpy()[at], "online_year": pairs["online_year"].to_numpy()[at]})
              .drop_duplicates().sort_values(["region_id", "online_year"]).reset_index(drop=True))
    per_option = [(i, t) for i, first in enumerate(opts["first_year"].to_numpy()) for t in years if t >= first]
    oi = np.array([i for i, _ in per_option], dtype=int)
    yt = np.array([t for _, t in per_option], dtype=int)
    build = pd.DataFrame({"region_id": opts["region_id"].to_numpy()[oi], "technology_id": opts["technology_id"].to_numpy()[oi],
                          "year": yt, "option": oi})
    gen = build.copy()
    # w[r, t, a] where zone r has level-a load by year t and some plant can run by then
    agg = aggregates[aggregates["region_id"].isin(zones)]
    first_load = agg.groupby(["region_id", "level_pos"])["online_year"].min()
    first_plant = opts.groupby("region_id")["first_year"].min()
    rows = [(r, t, a) for (r, a), o in first_load.items() for t in years if t >= max(o, first_plant[r])]
    serve = pd.DataFrame(rows, columns=["region_id", "year", "level_pos"]).sort_values(["region_id", "year", "level_pos"])
    serve.insert(1, "grid_region_id", inputs.regions.loc[serve["region_id"], "grid_region_id"].to_numpy())
    # a plant generates only in the years its zone has load to serve (the rows that bound gen are per zone-year)
    live = pd.MultiIndex.from_frame(serve[["region_id", "year"]].drop_duplicates())
    gen = gen[pd.MultiIndex.from_frame(gen[["region_id", "year"]]).isin(live)].reset_index(drop=True)
    return {"energy": energy, "build": build, "serve": serve.reset_index(drop=True), "gen": gen}


def _options(inputs: Inputs, cols: Columns) -> pd.DataFrame:
    return inputs.onsite[inputs.onsite["region_id"].isin(cols.zone_ids)].reset_index(drop=True)


def _empty(name: str, cols: Columns, *keys: str) -> RowBlock:
    return RowBlock(name, sp.coo_matrix((0, cols.n)), np.zeros(0), np.zeros(0), pd.DataFrame({k: [] for k in keys}))


def _block(name: str, cols: Columns, rows, colidx, vals, n_rows: int, upper: np.ndarray, keys: pd.DataFrame,
           lower: np.ndarray | None = None) -> RowBlock:
    A = sp.coo_matrix((np.asarray(vals, float), (np.asarray(rows, int), np.asarray(colidx, int))), shape=(n_rows, cols.n))
    lo = np.full(n_rows, -np.inf) if lower is None else lower
    return RowBlock(name, A, lo, upper, keys)


def _zone_years(cols: Columns):
    """The rows of the per-zone-year families: the (zone, year) pairs that have some w column; a lookup
    (zone, year) -> row; and the row of each w column."""
    zy = cols.serve[["region_id", "year"]].drop_duplicates().reset_index(drop=True)
    find = _lookup(pd.MultiIndex.from_frame(zy))
    return zy, find, find(cols.serve["region_id"].to_numpy(), cols.serve["year"].to_numpy())


def _cumulative_build(cols: Columns, inputs: Inputs, row_of, by_tech: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries -A_j build[r, j, tau] in every row (r, t[, j]) with tau <= t that *row_of* maps (-1: none)."""
    b = cols.build
    opts = _options(inputs, cols)
    avail = opts["availability"].to_numpy(dtype=float)[b["option"].to_numpy()]
    rows, cidx, vals = [], [], []
    for t in inputs.years:
        on = np.flatnonzero(b["year"].to_numpy() <= t)
        if not len(on):
            continue
        r = row_of(b["region_id"].to_numpy()[on], t, b["technology_id"].to_numpy()[on] if by_tech else None)
        ok = r >= 0
        rows.append(r[ok])
        cidx.append(cols.build_slice.start + on[ok])
        vals.append(-avail[on[ok]])
    if not rows:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    return np.concatenate(rows), np.concatenate(cidx), np.concatenate(vals)


def _lookup(index: pd.MultiIndex | pd.Index):
    """A vectorised key -> position lookup (-1 where absent)."""
    return lambda *keys: index.get_indexer(pd.MultiIndex.from_arrays(keys) if len(keys) > 1 else keys[0])


def energy_aggregate_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    """e[r, o] = sum_{k: o_k = o} P_k U_k x[k, r]   (average MW of load energy placed)."""
    if not len(cols.energy):
        return _empty("energy_aggregate", cols, "region_id", "online_year")
    en = cols.energy
    find = _lookup(pd.MultiIndex.from_frame(en[["region_id", "online_year"]]))
    p = cols.pairs
    r = find(p["region_id"].to_numpy(), p["online_year"].to_numpy())
    on = np.flatnonzero(r >= 0)
    coef = (p["it_load_mw"] * p["pue"] * p["utilisation"]).to_numpy()[on]
    ne = len(en)
    rows = np.concatenate([r[on], np.arange(ne)])
    cidx = np.concatenate([on, cols.e_slice.start + np.arange(ne)])
    vals = np.concatenate([coef, -np.ones(ne)])
    zeros = np.zeros(ne)
    return _block("energy_aggregate", cols, rows, cidx, vals, ne, zeros, en[["region_id", "online_year"]].copy(), lower=zeros.copy())


def onsite_firm_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    """sum_a w[r,t,a] - sum_j A_j sum_{tau<=t} build[r,j,tau] <= 0."""
    if not len(cols.serve):
        return _empty("onsite_firm", cols, "region_id", "year")
    zy, find, rw = _zone_years(cols)
    w = cols.serve
    rb, cb, vb = _cumulative_build(cols, inputs, lambda r, t, j: find(r, np.full(len(r), t)), by_tech=False)
    rows = np.concatenate([rw, rb])
    cidx = np.concatenate([cols.w_slice.start + np.arange(len(w)), cb])
    vals = np.concatenate([np.ones(len(w)), vb])
    return _block("onsite_firm", cols, rows, cidx, vals, len(zy), np.zeros(len(zy)), zy)


def onsite_output_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    """gen[r,j,t] - A_j sum_{tau<=t} build[r,j,tau] <= 0."""
    if not len(cols.gen):
        return _empty("onsite_output", cols, "region_id", "technology_id", "year")
    g = cols.gen
    keys = g[["region_id", "technology_id", "year"]].reset_index(drop=True)
    find = _lookup(pd.MultiIndex.from_frame(keys))
    rb, cb, vb = _cumulative_build(cols, inputs, lambda r, t, j: find(r, j, np.full(len(r), t)), by_tech=True)
    rows = np.concatenate([np.arange(len(g)), rb])
    cidx = np.concatenate([cols.gen_slice.start + np.arange(len(g)), cb])
    vals = np.concatenate([np.ones(len(g)), vb])
    return _block("onsite_output", cols, rows, cidx, vals, len(g), np.zeros(len(g)), keys)


def _z_up_to(cols: Columns, row_of_zone_year_level) -> tuple[np.ndarray, np.ndarray]:
    """(row, z column) for every z[r, o, a] and every row (r, t[, a]) with t >= o that the lookup maps."""
    agg = cols.aggregates
    rows, cidx = [], []
    for t in sorted(set(cols.serve["year"])):
        on = np.flatnonzero(agg["online_year"].to_numpy() <= t)
        r = row_of_zone_year_level(agg["region_id"].to_numpy()[on], t, agg["level_pos"].to_numpy()[on])
        ok = r >= 0
        rows.append(r[ok])
        cidx.append(cols.z_slice.start + on[ok])
    return (np.concatenate(rows), np.concatenate(cidx)) if rows else (np.zeros(0, int), np.zeros(0, int))


def _e_up_to(cols: Columns, row_of_zone_year) -> tuple[np.ndarray, np.ndarray]:
    """(row, e column) for every e[r, o] and every row (r, t) with t >= o that the lookup maps."""
    en = cols.energy
    rows, cidx = [], []
    for t in sorted(set(cols.serve["year"])):
        on = np.flatnonzero(en["online_year"].to_numpy() <= t)
        r = row_of_zone_year(en["region_id"].to_numpy()[on], t)
        ok = r >= 0
        rows.append(r[ok])
        cidx.append(cols.e_slice.start + on[ok])
    return (np.concatenate(rows), np.concatenate(cidx)) if rows else (np.zeros(0, int), np.zeros(0, int))


def onsite_load_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    """w[r,t,a] - sum_{o<=t} z[r,o,a] <= 0."""
    if not len(cols.serve):
        return _empty("onsite_load", cols, "region_id", "year", "level")
    w = cols.serve
    find = _lookup(pd.MultiIndex.from_frame(w[["region_id", "year", "level_pos"]]))
    rz, cz = _z_up_to(cols, lambda r, t, a: find(r, np.full(len(r), t), a))
    rows = np.concatenate([np.arange(len(w)), rz])
    cidx = np.concatenate([cols.w_slice.start + np.arange(len(w)), cz])
    vals = np.concatenate([np.ones(len(w)), -np.ones(len(rz))])
    keys = pd.DataFrame({"region_id": w["region_id"].to_numpy(), "year": w["year"].to_numpy(),
                         "level": np.array(LEVEL_LABELS)[w["level_pos"].to_numpy()]})
    return _block("onsite_load", cols, rows, cidx, vals, len(w), np.zeros(len(w)), keys)


def _gen_in(cols: Columns, find) -> tuple[np.ndarray, np.ndarray]:
    g = cols.gen
    r = find(g["region_id"].to_numpy(), g["year"].to_numpy())
    on = np.flatnonzero(r >= 0)
    return r[on], cols.gen_slice.start + on


def onsite_energy_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    """sum_j gen[r,j,t] - s sum_{o<=t} e[r,o] <= 0."""
    if not len(cols.serve):
        return _empty("onsite_energy", cols, "region_id", "year")
    zy, find, _ = _zone_years(cols)
    share = float(inputs.scenario.onsite.max_share)
    rg, cg = _gen_in(cols, find)
    re_, ce = _e_up_to(cols, lambda r, t: find(r, np.full(len(r), t)))
    rows = np.concatenate([rg, re_])
    cidx = np.concatenate([cg, ce])
    vals = np.concatenate([np.ones(len(rg)), np.full(len(re_), -share)])
    return _block("onsite_energy", cols, rows, cidx, vals, len(zy), np.zeros(len(zy)), zy)


def min_utilisation(cols: Columns) -> pd.Series:
    """Umin[r, a]: the lowest utilisation of the clusters that may go to zone r at level a."""
    p = cols.pairs
    lvl = np.searchsorted(CURTAILMENT_LEVELS_PCT, p["curtailment_pct"].to_numpy())
    return pd.Series(p["utilisation"].to_numpy(dtype=float)).groupby([p["region_id"].to_numpy(), lvl]).min()


def onsite_relief_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    """sum_a Umin[r,a] w[r,t,a] - sum_j gen[r,j,t] <= 0."""
    if not len(cols.serve):
        return _empty("onsite_relief", cols, "region_id", "year")
    zy, find, rw = _zone_years(cols)
    w = cols.serve
    umin = min_utilisation(cols)
    uw = umin.reindex(pd.MultiIndex.from_arrays([w["region_id"].to_numpy(), w["level_pos"].to_numpy()])).to_numpy()
    rg, cg = _gen_in(cols, find)
    rows = np.concatenate([rw, rg])
    cidx = np.concatenate([cols.w_slice.start + np.arange(len(w)), cg])
    vals = np.concatenate([uw, -np.ones(len(rg))])
    return _block("onsite_relief", cols, rows, cidx, vals, len(zy), np.zeros(len(zy)), zy)


def grid_energy_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    """sum_{o<=t} e[r,o] - sum_j gen[r,j,t] - sum_{o<=t,a} z[r,o,a] + sum_a w[r,t,a] <= 0."""
    if not len(cols.serve):
        return _empty("grid_energy", cols, "region_id", "year")
    zy, find, rw = _zone_years(cols)
    w = cols.serve
    re_, ce = _e_up_to(cols, lambda r, t: find(r, np.full(len(r), t)))
    rg, cg = _gen_in(cols, find)
    rz, cz = _z_up_to(cols, lambda r, t, a: find(r, np.full(len(r), t)))
    rows = np.concatenate([re_, rg, rz, rw])
    cidx = np.concatenate([ce, cg, cz, cols.w_slice.start + np.arange(len(w))])
    vals = np.concatenate([np.ones(len(re_)), -np.ones(len(rg)), -np.ones(len(rz)), np.ones(len(w))])
    return _block("grid_energy", cols, rows, cidx, vals, len(zy), np.zeros(len(zy)), zy)


def onsite_share_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    """sum_a w[r,t,a] - s sum_{o<=t,a} z[r,o,a] <= 0, when s (onsite.max_share) < 1."""
    share = float(inputs.scenario.onsite.max_share)
    if not len(cols.serve) or share >= 1.0:
        return _empty("onsite_share", cols, "region_id", "year")
    zy, find, rw = _zone_years(cols)
    w = cols.serve
    rz, cz = _z_up_to(cols, lambda r, t, a: find(r, np.full(len(r), t)))
    rows = np.concatenate([rw, rz])
    cidx = np.concatenate([cols.w_slice.start + np.arange(len(w)), cz])
    vals = np.concatenate([np.ones(len(w)), np.full(len(rz), -share)])
    return _block("onsite_share", cols, rows, cidx, vals, len(zy), np.zeros(len(zy)), zy)


def onsite_cap_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    """sum_{j,tau} build[r,j,tau] <= Cap_r, for zones with a cap."""
    if not len(cols.build):
        return _empty("onsite_cap", cols, "region_id")
    opts = _options(inputs, cols)
    cap = opts.groupby("region_id")["max_mw"].min()
    capped = cap[np.isfinite(cap.to_numpy())].sort_index()
    if not len(capped):
        return _empty("onsite_cap", cols, "region_id")
    b = cols.build
    r = capped.index.get_indexer(b["region_id"])
    on = np.flatnonzero(r >= 0)
    return _block("onsite_cap", cols, r[on], cols.build_slice.start + on, np.ones(len(on)), len(capped),
                  capped.to_numpy(dtype=float), pd.DataFrame({"region_id": capped.index.to_numpy()}))


#: The on-site families, in the order their rows appear in A (after the grid's).
ONSITE_FAMILIES = (energy_aggregate_rows, onsite_firm_rows, onsite_output_rows, onsite_load_rows, onsite_energy_rows,
                   onsite_relief_rows, grid_energy_rows, onsite_share_rows, onsite_cap_rows)

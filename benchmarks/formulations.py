"""The planner's LP written independently, as a user would: PuLP (loops) and linopy (arrays).

Both start from the planner's *Inputs* tables (pairs, clusters, grid regions,
sites, years, parameters) and the formulation in ``docs/formulation.md``; they
never read the planner's matrix or call ``planner.model``. Costs go to the
solver in MUSD, like the planner's, and objectives come back in USD.

Sites without a fixed cost are always available, so the site capacity row is
written as ``sum_k P_ks x_ks <= Cap_s`` (the planner keeps an ``open_s`` column
fixed at 1); the LP is the same.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

MUSD = 1e-6
HOURS = 8760.0
LEVELS = (0.0, 0.25, 0.5, 1.0)
HEADROOM = ("firm_headroom_mw", "headroom_0p25pct_mw", "headroom_0p5pct_mw", "headroom_1pct_mw")


# --------------------------------------------------------------------------- data from the Inputs tables


def lp_data(inputs) -> dict:
    """Cost and load coefficients from the tables, following docs/formulation.md."""
    sc = inputs.scenario
    years = [int(t) for t in inputs.years]
    first = years[0]
    rate = sc.discount_rate
    d = {t: (1.0 + rate) ** -(t - first) for t in years}
    tail = {t: sum(d[s] for s in years if s >= t) for t in years}  # sum_{s >= t} d_s
    life = inputs.parameters["asset_life_years"]
    crf = 1.0 / life if rate == 0 else rate * (1 + rate) ** life / ((1 + rate) ** life - 1)

    p = inputs.pairs.reset_index(drop=True)
    if inputs.sites is not None and len(inputs.sites):
        assert (inputs.sites["fixed_cost_usd"] == 0).all(), "the benchmark instances are LPs (no fixed costs)"
    draw = p["it_load_mw"] * p["pue"]
    mwh = draw * p["utilisation"] * HOURS
    annual = mwh * (p["price_usd_per_mwh"] + p["co2_tco2_per_mwh"] * p["carbon_price_usd_per_tco2"]) + p[
        "it_load_mw"
    ] * p["capex_usd_per_mw"] * crf
    cost = annual * p["online_year"].map(tail) + p["pair_cost_usd"]
    cl = inputs.clusters
    penalty = inputs.parameters["unserved_penalty_usd_per_mwh"]
    u_cost = penalty * cl["it_load_mw"] * cl["utilisation"] * HOURS * cl["online_year"].map(tail)

    g = inputs.grid_regions
    used = g.index.isin(p["grid_region_id"].unique()) & (g["expansion_max_mw_per_year"] > 0)
    new = [
        (gid, t, float(row["expansion_max_mw_per_year"]), 1000.0 * row["expansion_cost_usd_per_kw"] * crf * tail[t])
        for gid, row in g[used].iterrows()
        for t in years
        if t >= first + int(row["expansion_lead_time_years"])
    ]
    return {
        "pairs": p,
        "draw": draw.to_numpy(),
        "cost": cost.to_numpy(),
        "ub": np.where(p["blocked_by"] != "", 0.0, 1.0),
        "level": np.searchsorted(LEVELS, p["curtailment_pct"].to_numpy()),
        "u_cost": u_cost,
        "new": pd.DataFrame(new, columns=["grid_region_id", "year", "max_mw", "cost"]),
        "years": years,
        "headroom": g[list(HEADROOM)],
        "limits": inputs.regions["max_new_load_mw"].dropna(),
        "sites": inputs.sites.set_index("site_id", drop=False).rename_axis(None) if len(inputs.sites) else pd.DataFrame(),
    }


# --------------------------------------------------------------------------- PuLP, written the straightforward way


def pulp_build(inputs):
    """A PuLP model built with dicts, lpSum and one Python statement per constraint."""
    import pulp

    D = lp_data(inputs)
    p = D["pairs"]
    prob = pulp.LpProblem("scale", pulp.LpMinimize)
    keys = list(zip(p["cluster_id"], p["site_id"].where(p["site_id"] != "", p["region_id"])))
    x = {key: pulp.LpVariable(f"x_{i}", 0, float(ub)) for i, (key, ub) in enumerate(zip(keys, D["ub"]))}
    u = {k: pulp.LpVariable(f"u_{i}", 0, 1) for i, k in enumerate(inputs.clusters.index)}
    new = {(g, t): pulp.LpVariable(f"new_{i}", 0, mx) for i, (g, t, mx) in enumerate(zip(D["new"]["grid_region_id"], D["new"]["year"], D["new"]["max_mw"]))}

    cost = dict(zip(keys, D["cost"]))
    draw = dict(zip(keys, D["draw"]))
    online = dict(zip(keys, p["online_year"]))
    level = dict(zip(keys, D["level"]))
    grid = dict(zip(keys, p["grid_region_id"]))
    region = dict(zip(keys, p["region_id"]))
    new_cost = dict(zip(new, D["new"]["cost"]))
    prob += (
        pulp.lpSum(MUSD * cost[key] * x[key] for key in keys)
        + pulp.lpSum(MUSD * D["u_cost"][k] * u[k] for k in u)
        + pulp.lpSum(MUSD * new_cost[gt] * new[gt] for gt in new)
    )

    by_cluster: dict[str, list] = {k: [] for k in u}
    by_grid: dict[str, list] = {}
    by_region: dict[str, list] = {}
    by_site: dict[str, list] = {}
    has_sites = len(D["sites"]) > 0
    for key in keys:
        by_cluster[key[0]].append(key)
        by_grid.setdefault(grid[key], []).append(key)
        by_region.setdefault(region[key], []).append(key)
        if has_sites:
            by_site.setdefault(key[1], []).append(key)

    for k in u:  # placement
        prob += pulp.lpSum(x[key] for key in by_cluster[k]) + u[k] == 1, f"placement_{k}"
    for g, members in by_grid.items():  # headroom, nested by curtailment level, every year
        H = D["headroom"].loc[g]
        for t in D["years"]:
            for c in range(len(LEVELS)):
                terms = [draw[key] * x[key] for key in members if online[key] <= t and level[key] <= c]
                if terms:
                    added = [new[(g, tau)] for tau in D["years"] if tau <= t and (g, tau) in new]
                    prob += pulp.lpSum(terms) - pulp.lpSum(added) <= float(H.iloc[c]), f"headroom_{g}_{t}_{c}"
    for r, lim in D["limits"].items():  # region limits
        if r in by_region:
            prob += pulp.lpSum(draw[key] * x[key] for key in by_region[r]) <= float(lim), f"region_{r}"
    for s, members in by_site.items():  # site capacity
        prob += pulp.lpSum(draw[key] * x[key] for key in members) <= float(D["sites"].at[s, "capacity_mw"]), f"site_{s}"
    return prob


def pulp_solve(inputs, threads: int = 1) -> dict:
    import pulp

    t0 = time.perf_counter()
    prob = pulp_build(inputs)
    t1 = time.perf_counter()
    solver = pulp.HiGHS(msg=False, threads=threads, timeLimit=3600)
    prob.solve(solver)
    t2 = time.perf_counter()
    h = getattr(solver, "solverModel", None) or getattr(prob, "solverModel", None)
    return {
        "highs_run_s": h.getRunTime() if h is not None else None,
        "status": pulp.LpStatus[prob.status],
        "objective_usd": pulp.value(prob.objective) / MUSD,
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "rows": len(prob.constraints),
    }


# --------------------------------------------------------------------------- linopy, vectorised


def linopy_build(inputs):
    """A linopy model over a 1-D pair dimension; headroom by broadcasting over (year, level)."""
    import linopy
    import xarray as xr

    D = lp_data(inputs)
    p = D["pairs"]
    years = np.array(D["years"])
    levels = np.arange(len(LEVELS))
    grids = D["headroom"].index
    m = linopy.Model()
    pair = pd.RangeIndex(len(p), name="pair")
    x = m.add_variables(lower=0, upper=xr.DataArray(D["ub"], coords=[pair]), name="x")
    cl = pd.Index(sorted(inputs.clusters.index), name="cluster")  # groupby sorts its keys; xarray aligns by position here
    u = m.add_variables(lower=0, upper=1, coords=[cl], name="u")

    # new[g, t]: all (grid, year), upper 0 where it does not exist
    gy = pd.MultiIndex.from_frame(D["new"][["grid_region_id", "year"]])
    new_ub = pd.Series(D["new"]["max_mw"].to_numpy(), index=gy).reindex(
        pd.MultiIndex.from_product([grids, years]), fill_value=0.0
    )
    new_cost = pd.Series(D["new"]["cost"].to_numpy(), index=gy).reindex(new_ub.index, fill_value=0.0)
    ub_da = xr.DataArray(new_ub.to_numpy().reshape(len(grids), len(years)), coords=[pd.Index(grids, name="grid"), pd.Index(years, name="year")])
    new = m.add_variables(lower=0, upper=ub_da, name="new", mask=ub_da > 0)

    cost_x = xr.DataArray(D["cost"] * MUSD, coords=[pair])
    cost_u = xr.DataArray(D["u_cost"].reindex(cl).to_numpy() * MUSD, coords=[cl])
    cost_new = xr.DataArray(new_cost.to_numpy().reshape(ub_da.shape) * MUSD, coords=ub_da.coords)
    m.add_objective((cost_x * x).sum() + (cost_u * u).sum() + (cost_new * new).sum())

    # placement: sum over the cluster's pairs + u = 1
    k_of = xr.DataArray(p["cluster_id"].to_numpy(), coords=[pair], name="cluster")
    m.add_constraints(x.groupby(k_of).sum() + u == 1, name="placement")

    # headroom: for each grid region, P x summed over its pairs active in (year, level), minus cumulative new
    draw = xr.DataArray(D["draw"], coords=[pair])
    online = xr.DataArray(p["online_year"].to_numpy(), coords=[pair])
    level = xr.DataArray(D["level"], coords=[pair])
    yr = xr.DataArray(years, coords=[pd.Index(years, name="year")])
    lv = xr.DataArray(levels, coords=[pd.Index(levels, name="level")])
    H = xr.DataArray(D["headroom"].to_numpy(), coords=[pd.Index(grids, name="grid"), pd.Index(levels, name="level")])
    tri = xr.DataArray(
        (years[:, None] <= years[None, :]).astype(float),
        coords=[pd.Index(years, name="tau"), pd.Index(years, name="year")],
    )
    cum_new = (new.rename(year="tau") * tri).sum("tau")  # sum_{tau <= t} new[g, tau]
    gid = p["grid_region_id"].to_numpy()
    for g in pd.unique(gid):
        sel = np.flatnonzero(gid == g)
        xs = x.isel(pair=sel)
        active = (online.isel(pair=sel) <= yr) & (level.isel(pair=sel) <= lv)
        coeff = (draw.isel(pair=sel) * active).transpose("year", "level", "pair")
        has = active.any("pair")
        lhs = (coeff * xs).sum("pair") - cum_new.sel(grid=g)
        m.add_constraints(lhs <= H.sel(grid=g), name=f"headroom_{g}", mask=has)

    # region limits
    rid = p["region_id"].to_numpy()
    for r, lim in D["limits"].items():
        sel = np.flatnonzero(rid == r)
        if len(sel):
            m.add_constraints((draw.isel(pair=sel) * x.isel(pair=sel)).sum() <= float(lim), name=f"region_{r}")

    # site capacity
    if len(D["sites"]):
        s_of = xr.DataArray(p["site_id"].to_numpy(), coords=[pair], name="site")
        load = (draw * x).groupby(s_of).sum()
        cap = xr.DataArray(D["sites"]["capacity_mw"].to_numpy(dtype=float), coords=[pd.Index(D["sites"]["site_id"].to_numpy(), name="site")])
        m.add_constraints(load <= cap.sel(site=load.coords["site"]), name="site_capacity")
    return m


def linopy_solve(inputs, threads: int = 1) -> dict:
    t0 = time.perf_counter()
    m = linopy_build(inputs)
    t1 = time.perf_counter()
    status, cond = m.solve("highs", io_api="direct", output_flag=False, threads=threads, random_seed=0)
    t2 = time.perf_counter()
    h = getattr(m, "solver_model", None)
    return {
        "highs_run_s": h.getRunTime() if h is not None else None,
        "status": f"{status}/{cond}",
        "objective_usd": float(m.objective.value) / MUSD,
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "rows": int(m.constraints.ncons),
    }

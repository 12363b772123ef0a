"""OR-Library capacitated warehouse location instances as planner inputs.

J. E. Beasley's "cap" instances (OR-Library; Beasley, EJOR 33 (1988) 314-325)
are the classic capacitated facility-location benchmark, and they map onto the
planner one to one:

=====================  ==========================================
OR-Library             planner
=====================  ==========================================
warehouse i            candidate site ``w<i>``: ``capacity_mw``, ``fixed_cost_usd``
customer j             cluster ``c<j>`` with ``it_load_mw`` = demand (PUE 1)
cost of all j at i     pair cost of (``c<j>``, ``w<i>``), scaled by the share placed
demand may be split    ``x`` continuous; ``open`` binary
=====================  ==========================================

Energy, carbon and capital costs are zero and grid headroom does not bind, so
the planner's objective is exactly the instance's: fixed costs of the opened
warehouses plus allocation costs. ``tests/test_orlib.py`` checks the published
optima through both the HiGHS and the PuLP routes, on the two instances bundled in
the repository's ``benchmarks/orlib/`` (from OR-Library,
http://people.brunel.ac.uk/~mastjjb/jeb/orlib/capinfo.html):

>>> from planner.orlib import read_orlib, solve_orlib
>>> out = solve_orlib("cap41.txt")   # doctest: +SKIP
>>> round(out["objective_usd"], 3)  # doctest: +SKIP
1040444.375
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import DataError
from planner.inputs import Inputs, eligible_pairs, site_locations
from planner.model.assemble import build_model
from planner.model.core import Model
from planner.scenario import Scenario
from planner.solver import solve_model

YEAR = 2026


@dataclass(frozen=True)
class OrlibInstance:
    """One capacitated warehouse location instance."""

    name: str
    capacity: np.ndarray  # (m,)
    fixed_cost: np.ndarray  # (m,)
    demand: np.ndarray  # (n,)
    cost: np.ndarray  # (n, m): cost of allocating ALL of customer j's demand to warehouse i


def read_orlib(path: str | Path) -> OrlibInstance:
    """Parse an OR-Library ``cap*`` file (whitespace separated; see its README)."""
    path = Path(path)
    try:
        tokens = path.read_text().split()
        vals = [float(t) for t in tokens]
    except (OSError, ValueError) as exc:
        raise DataError(str(path), "-", "-", f"not an OR-Library cap file ({exc})") from None
    if len(vals) < 2:
        raise DataError(str(path), "-", "-", "empty file; expected 'm n' on the first line")
    m, n = int(vals[0]), int(vals[1])
    need = 2 + 2 * m + n * (1 + m)
    if len(vals) != need:
        raise DataError(str(path), "-", "-", f"expected {need} numbers for m={m}, n={n}, found {len(vals)}")
    wh = np.array(vals[2 : 2 + 2 * m]).reshape(m, 2)
    cust = np.array(vals[2 + 2 * m :]).reshape(n, 1 + m)
    return OrlibInstance(path.stem, wh[:, 0], wh[:, 1], cust[:, 0], cust[:, 1:])


def orlib_inputs(inst: OrlibInstance, indivisible: bool = False) -> Inputs:
    """The instance as planner :class:`~planner.inputs.Inputs` (one region, one grid region)."""
    m, n = len(inst.capacity), len(inst.demand)
    total = float(inst.demand.sum())
    region = {
        "region_id": "US-OR", "name": inst.name, "country": "US", "grid_region_id": "ORLIB", "lon": 0.0, "lat": 0.0,
        "industrial_price_usd_per_mwh": 0.0, "co2_tco2_per_mwh": 0.0, "carbon_price_usd_per_tco2": 0.0,
        "capex_usd_per_mw": 0.0, "pue": 1.0, "max_new_load_mw": np.nan, "price_year": YEAR, "co2_year": YEAR,
    }
    regions = pd.DataFrame([region]).set_index("region_id", drop=False).rename_axis(None)
    grids = pd.DataFrame(
        [{"grid_region_id": "ORLIB", "country": "US", "firm_headroom_mw": total, "headroom_0p25pct_mw": total,
          "headroom_0p5pct_mw": total, "headroom_1pct_mw": total, "expansion_cost_usd_per_kw": 0.0,
          "expansion_lead_time_years": 0, "expansion_max_mw_per_year": 0.0}]
    ).set_index("grid_region_id", drop=False).rename_axis(None)
    sites = pd.DataFrame(
        {"site_id": [f"w{i + 1}" for i in range(m)], "region_id": "US-OR", "lon": 0.0, "lat": 0.0,
         "capacity_mw": inst.capacity, "fixed_cost_usd": inst.fixed_cost, "lead_time_years": 0.0}
    ).set_index("site_id", drop=False).rename_axis(None)
    ids = [f"c{j + 1}" for j in range(n)]
    scenario = Scenario.model_validate(
        {
            "name": f"orlib_{inst.name}",
            "horizon": {"first_year": YEAR, "last_year": YEAR},
            "discount_rate": 0.0,
            "clusters": [
                {"id": k, "home_country": "US", "it_load_mw": float(d), "online_year": YEAR, "utilisation": 1.0,
                 "indivisible": indivisible}
                for k, d in zip(ids, inst.demand)
            ],
        }
    )
    clusters = pd.DataFrame(
        {"cluster_id": ids, "home_country": "US", "it_load_mw": inst.demand, "online_year": YEAR, "utilisation": 1.0,
         "curtailment_pct": 0.0, "allowed_countries": "US", "allowed_regions": "", "hub_lon": np.nan,
         "hub_lat": np.nan, "hub_region_id": "", "max_rtt_ms": np.nan, "pue_override": np.nan,
         "indivisible": indivisible}
    ).set_index("cluster_id", drop=False).rename_axis(None)
    # unserved demand costs 10x the dearest allocation per unit of demand (the u cost is penalty x MW x 8760 h),
    # so every customer is served whenever capacity allows, as the instances require
    dearest_per_mw = float((inst.cost.max(axis=1) / inst.demand).max())
    params = {"asset_life_years": 1.0, "unserved_penalty_usd_per_mwh": 10.0 * dearest_per_mw / 8760.0,
              "route_factor": 1.0, "fibre_km_per_ms": 200.0}
    moratoria = pd.DataFrame(columns=["moratorium_id", "region_id", "from_year", "until_year", "status", "source"])
    pairs, exclusions = eligible_pairs(clusters, site_locations(sites, regions), moratoria, params, YEAR)
    ci = pd.Index(ids).get_indexer(pairs["cluster_id"])
    si = sites.index.get_indexer(pairs["site_id"])
    pairs["pair_cost_usd"] = inst.cost[ci, si]
    years = np.array([YEAR])
    discount = pd.Series([1.0], index=years, name="discount")
    return Inputs(scenario, years, discount, regions, grids, clusters, pairs, exclusions, moratoria, params, None, sites)


def orlib_model(path: str | Path, indivisible: bool = False) -> Model:
    """Read an instance and build the planner's model of it."""
    return build_model(orlib_inputs(read_orlib(path), indivisible))


def solve_orlib(path: str | Path, solver: str = "highs", time_limit_s: float = 600.0, mip_gap: float = 1e-9) -> dict:
    """Solve an OR-Library instance with the planner; returns objective, status, gap and seconds."""
    t0 = time.perf_counter()
    model = orlib_model(path)
    build_s = time.perf_counter() - t0
    sol = solve_model(model, solver, time_limit_s, 1, mip_gap)
    opened = np.round(sol.values[model.columns.open_slice]).astype(int)
    return {
        "instance": Path(path).stem,
        "solver": solver,
        "status": sol.status,
        "objective_usd": sol.objective_usd,
        "unserved_share": float(sol.values[model.columns.u].sum()),
        "opened": [s for s, o in zip(model.columns.sites.index, opened) if o],
        "mip": sol.mip,
        "build_s": build_s,
        "solve_s": sol.solve_seconds,
    }

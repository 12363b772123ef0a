"""Property tests over random small scenarios: invariants hold and the objective can be recomputed."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from conftest import cluster, grid, make_tables, moratorium, region, scenario
from planner.solver import solve_model
from test_bundled import assert_invariants

LEVELS = (0.0, 0.25, 0.5, 1.0)


@st.composite
def cases(draw):
    n_grid = draw(st.integers(1, 3))
    grids = []
    for g in range(n_grid):
        h = sorted(draw(st.lists(st.floats(0, 400, allow_nan=False), min_size=4, max_size=4)))
        grids.append(grid(f"G{g}", *h))
    n_reg = draw(st.integers(1, 5))
    regions = [
        region(f"US-R{i}", f"G{draw(st.integers(0, n_grid - 1))}", draw(st.floats(20, 200)),
               lon=draw(st.floats(-120, -70)), lat=draw(st.floats(25, 48)),
               climate_class=draw(st.sampled_from(["cool", "temperate", "hot"])),
               co2_tco2_per_mwh=draw(st.floats(0, 1.2)),
               capex_index=draw(st.floats(0.5, 2)))
        for i in range(n_reg)
    ]
    first = 2026
    last = first + draw(st.integers(0, 3))
    clusters = []
    for k in range(draw(st.integers(1, 5))):
        kw = {"curtailment_pct": draw(st.sampled_from(LEVELS)), "utilisation": draw(st.floats(0.3, 1.0))}
        if draw(st.booleans()):
            kw["user_hub"] = {"region_id": regions[0]["region_id"], "max_rtt_ms": draw(st.floats(1, 60))}
        clusters.append(cluster(f"k{k}", draw(st.floats(1, 500)), draw(st.integers(first, last)), **kw))
    mors = [moratorium(f"m{i}", regions[draw(st.integers(0, n_reg - 1))]["region_id"], y0, y0 + draw(st.integers(0, 2)))
            for i, y0 in enumerate(draw(st.lists(st.integers(first, last), max_size=2)))]
    expansion = {}
    if draw(st.booleans()):
        expansion["US"] = {"cost_usd_per_kw": draw(st.floats(0, 5000)), "lead_time_years": draw(st.integers(0, 3)),
                           "max_mw_per_year": draw(st.floats(0, 300))}
    s = scenario(clusters, first=first, last=last, moratoria=[m["moratorium_id"] for m in mors],
                 discount_rate=draw(st.floats(0, 0.15)), expansion=expansion,
                 carbon_price_usd_per_tco2={"US": draw(st.floats(0, 200))})
    return s, make_tables(regions, grids, mors or None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_invariants_and_recomputed_objective(case):
    s, tables = case
    inputs, model = planner.build(s, tables)
    sol = solve_model(model)
    assert sol.status == "optimal"
    assert_invariants(inputs, model, sol.values)
    result = planner.solve(s, tables=tables)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "o"
        result.to_dir(out, maps=False)
        assert recompute(out, inputs) == pytest.approx(result.summary["solver_objective_usd"], rel=1e-6, abs=1e-3)


def recompute(out: Path, inputs) -> float:
    """The objective from the written files plus the scenario's own numbers."""
    years = inputs.years
    r = inputs.scenario.discount_rate
    d = (1 + r) ** -(years - years[0])
    pl = pd.read_csv(out / "placements.csv")
    total = sum(t * d[years >= y].sum() for t, y in zip(pl["total_usd_per_yr"], pl["online_year"]))
    n = inputs.parameters["asset_life_years"]
    crf = 1 / n + r / 2 if r < 1e-9 else r * (1 + r) ** n / ((1 + r) ** n - 1)  # series limit for tiny r
    g = pd.read_csv(out / "grid_regions.csv")
    cost = g["grid_region_id"].map(inputs.grid_regions["expansion_cost_usd_per_kw"])
    total += sum(mw * c * 1000 * crf * d[years >= y].sum() for mw, c, y in zip(g["new_capacity_mw"], cost, g["year"]))
    un = pd.read_csv(out / "unserved.csv")
    penalty = inputs.parameters["unserved_penalty_usd_per_mwh"]
    for row in un.itertuples():
        util = inputs.clusters.loc[row.cluster_id, "utilisation"]
        total += penalty * row.unserved_it_mw * util * 8760 * d[years >= row.online_year].sum()
    return total


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_pulp_route_agrees_with_highs(case):
    s, tables = case
    _, model = planner.build(s, tables)
    a, b = solve_model(model, "highs"), solve_model(model, "cbc")
    assert a.objective_usd == pytest.approx(b.objective_usd, rel=1e-6, abs=1e-3)
    np.testing.assert_allclose(model.c @ b.values, b.objective_usd)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_compact_formulation_has_the_expanded_optimum(case):
    """The compact headroom rows (over load aggregates) and the expanded ones give the same optimum."""
    from planner.model.assemble import build_model

    s, tables = case
    inputs, compact = planner.build(s, tables)
    expanded = build_model(inputs, "expanded")
    a, b = solve_model(compact), solve_model(expanded)
    assert a.status == b.status == "optimal"
    assert a.objective_usd == pytest.approx(b.objective_usd, rel=1e-9, abs=1e-6)
    # the compact solution, read back on the x, u and new columns, is feasible in the expanded model
    n_shared = expanded.columns.n
    assert_invariants(inputs, expanded, a.values[:n_shared])

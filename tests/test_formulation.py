"""The formulation's coefficients, checked without a solver."""

from __future__ import annotations

import numpy as np
import pytest

import planner
from conftest import HOURS, cluster, grid, make_tables, moratorium, region, scenario
from planner.model.assemble import build_model


def _tiny():
    t = make_tables(
        [region("US-AA", "G1", 50, climate_class="hot"), region("US-BB", "G1", 60), region("US-CC", "G2", 70)],
        [grid("G1", 10, 20, 30, 40), grid("G2", 100)],
        [moratorium("m", "US-CC", 2027, 2027)],
        expansion_max_mw_per_year_us=50.0,
        expansion_lead_time_years_us=1,
    )
    s = scenario(
        [cluster("firm", 100, 2026), cluster("flex", 200, 2027, curtailment_pct=0.5)],
        first=2026, last=2027, moratoria=["m"], discount_rate=0.0,
    )
    return planner.build(s, t)


@pytest.fixture()
def built():
    """The tiny case in the expanded (0.1.0) formulation: every pair written into every headroom row."""
    inputs, _ = _tiny()
    return inputs, build_model(inputs, "expanded")


@pytest.fixture()
def compact():
    return _tiny()


def test_columns_and_bounds(built):
    inputs, m = built
    names = m.columns.names()
    assert names[: m.columns.n_x] == [
        "x[firm,US-AA]", "x[firm,US-BB]", "x[firm,US-CC]", "x[flex,US-AA]", "x[flex,US-BB]", "x[flex,US-CC]"
    ]
    assert names[m.columns.n_x:] == ["u[firm]", "u[flex]", "new[G1,2027]", "new[G2,2027]"]
    # moratorium on CC in 2027 fixes x[flex,US-CC] to zero; lead time 1 leaves only 2027 expansion columns
    np.testing.assert_array_equal(m.upper, [1, 1, 1, 1, 1, 0, 1, 1, 50, 50])


def test_headroom_rows(built):
    inputs, m = built
    rows = m.row_keys["headroom"]
    A = m.A[m.blocks["headroom"]].toarray()
    as_dict = {tuple(k): (A[i], m.row_upper[m.blocks["headroom"]][i]) for i, k in enumerate(rows.itertuples(index=False))}
    # G1 2026 firm: only the firm cluster (online 2026), AA at PUE 1.4 and BB at 1.0; no new capacity before 2027
    coef, ub = as_dict[("G1", 2026, "firm")]
    np.testing.assert_allclose(coef, [140, 100, 0, 0, 0, 0, 0, 0, 0, 0])
    assert ub == 10
    # G1 2027 at 0.5%: both clusters; the 2027 new capacity counts with -1
    coef, ub = as_dict[("G1", 2027, "0.5%")]
    np.testing.assert_allclose(coef, [140, 100, 0, 280, 200, 0, 0, 0, -1, 0])
    assert ub == 30
    # G1 2027 firm: the flexible cluster does not count
    coef, _ = as_dict[("G1", 2027, "firm")]
    np.testing.assert_allclose(coef[3:5], [0, 0])
    # G2 holds only CC: its rows exist for every level with a placement term
    assert ("G2", 2026, "firm") in as_dict and ("G2", 2027, "1%") in as_dict


def test_placement_rows_and_costs(built):
    inputs, m = built
    A = m.A[m.blocks["placement"]].toarray()
    np.testing.assert_array_equal(A, [[1, 1, 1, 0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1, 0, 1, 0, 0]])
    np.testing.assert_array_equal(m.row_lower[m.blocks["placement"]], [1, 1])
    # energy of x[firm,US-AA]: 100 MW x PUE 1.4 x util 1 x 8760 h x 50 USD/MWh x 2 years (0% discount)
    assert m.cost_parts["energy"][0] == pytest.approx(100 * 1.4 * HOURS * 50 * 2)
    # capital: 100 MW x 1e6 USD/MW x CRF(0, 10) = 0.1, 2 years
    assert m.cost_parts["capital"][0] == pytest.approx(100 * 1e6 * 0.1 * 2)
    # unserved flex: 200 MW x 1000 USD/MWh x 8760 h, 1 year
    assert m.cost_parts["unserved"][7] == pytest.approx(200 * 1000 * HOURS)
    # new[G1,2027]: 1000 USD/kW x 1000 x 0.1, one year
    assert m.cost_parts["expansion"][8] == pytest.approx(1000 * 1000 * 0.1)
    np.testing.assert_allclose(m.c, sum(m.cost_parts.values()))


def test_compact_columns_and_aggregate_rows(compact):
    inputs, m = compact
    cols = m.columns
    # one z per (grid region, online year, level) that some pair feeds: firm/2026 in G1 and G2, 0.5%/2027 in G1 and G2
    assert cols.names()[cols.z_slice] == ["z[G1,2026,firm]", "z[G1,2027,0.5%]", "z[G2,2026,firm]", "z[G2,2027,0.5%]"]
    assert np.isinf(m.upper[cols.z_slice]).all() and (m.lower[cols.z_slice] == 0).all()
    A = m.A[m.blocks["load_aggregate"]].toarray()
    # z[G1,2026,firm] = 140 x[firm,AA] + 100 x[firm,BB]; z[G2,2027,0.5%] = 200 x[flex,CC] (CC is temperate, PUE 1.0)
    np.testing.assert_allclose(A[0], [140, 100, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0])
    np.testing.assert_allclose(A[3], [0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, -1])
    assert (m.row_lower[m.blocks["load_aggregate"]] == 0).all() and (m.row_upper[m.blocks["load_aggregate"]] == 0).all()
    # G1 2027 at 0.5%: both of G1's aggregates, and the 2027 new capacity
    keys = m.row_keys["headroom"]
    H = m.A[m.blocks["headroom"]].toarray()
    i = keys.index[(keys["grid_region_id"] == "G1") & (keys["year"] == 2027) & (keys["level"] == "0.5%")][0]
    np.testing.assert_allclose(H[i], [0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 1, 1, 0, 0])
    assert m.nnz <= build_model(inputs, "expanded").nnz  # equal at this size (46); 4,596 vs 11,481 on the reference


def test_compact_rows_substitute_to_expanded(compact):
    """Substituting z = (aggregate rows) into the compact headroom rows gives the expanded rows exactly."""
    inputs, m = compact
    e = build_model(inputs, "expanded")
    cols = m.columns
    assert m.row_keys["headroom"].equals(e.row_keys["headroom"])
    Hc = m.A[m.blocks["headroom"]].toarray()
    agg = m.A[m.blocks["load_aggregate"]].toarray()
    z_of_x = agg[:, : cols.n_x]  # each z as a combination of the x columns
    substituted = Hc[:, : cols.n_x] + Hc[:, cols.z_slice] @ z_of_x
    He = e.A[e.blocks["headroom"]].toarray()
    np.testing.assert_allclose(substituted, He[:, : cols.n_x])
    np.testing.assert_allclose(Hc[:, cols.new_slice], He[:, e.columns.new_slice])
    np.testing.assert_array_equal(m.row_upper[m.blocks["headroom"]], e.row_upper[e.blocks["headroom"]])


def test_model_ignores_input_row_order():
    """Shuffling the rows of every input table gives the same arrays (canonical order in assemble)."""
    t = make_tables(
        [region("US-AA", "G1", 50, climate_class="hot"), region("US-BB", "G1", 60), region("US-CC", "G2", 70)],
        [grid("G1", 10, 20, 30, 40), grid("G2", 100)],
        [moratorium("m", "US-CC", 2027, 2027), moratorium("n", "US-AA", 2026, 2026)],
        expansion_max_mw_per_year_us=50.0,
    )
    cl = [cluster("firm", 100, 2026), cluster("flex", 200, 2027, curtailment_pct=0.5), cluster("b", 50, 2026)]
    _, m1 = planner.build(scenario(cl, first=2026, last=2027, moratoria=["m", "n"]), t)
    rev = make_tables(
        [region("US-CC", "G2", 70), region("US-BB", "G1", 60), region("US-AA", "G1", 50, climate_class="hot")],
        [grid("G2", 100), grid("G1", 10, 20, 30, 40)],
        [moratorium("n", "US-AA", 2026, 2026), moratorium("m", "US-CC", 2027, 2027)],
        expansion_max_mw_per_year_us=50.0,
    )
    _, m2 = planner.build(scenario(cl[::-1], first=2026, last=2027, moratoria=["n", "m"]), rev)
    assert m1.columns.names() == m2.columns.names() and m1.row_names() == m2.row_names()
    assert (m1.A != m2.A).nnz == 0
    np.testing.assert_array_equal(m1.c, m2.c)
    np.testing.assert_array_equal(m1.upper, m2.upper)

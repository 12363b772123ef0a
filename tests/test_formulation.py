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


def _limited(n_firm: int = 20):
    """Two zones of G1, US-AA limited to 30 MW; *n_firm* firm 2 MW clusters online 2026 and a flexible 200 MW
    one online 2027, 2026-2027 at 0 %."""
    t = make_tables(
        [region("US-AA", "G1", 50, max_new_load_mw=30, max_new_load_source="test"), region("US-BB", "G1", 60),
         region("US-CC", "G2", 70)],
        [grid("G1", 1000), grid("G2", 1000)],
    )
    cl = [cluster(f"f{i:02d}", 2, 2026) for i in range(n_firm)] + [cluster("flex", 200, 2027, curtailment_pct=0.5)]
    return planner.build(scenario(cl, first=2026, last=2027), t)


def test_limited_zone_keeps_its_own_aggregates_when_that_is_shorter():
    # US-AA: 21 pairs in its region row, against 2 cells kept by zone: firm 2026 (1 region entry, one -1, 2 years x
    # 4 levels of headroom) and 0.5 % 2027 (1 + 1 + 1 year x 2 levels): 10 + 4 = 14 entries. 21 > 14: by zone
    inputs, m = _limited(20)
    cols = m.columns
    assert cols.names()[cols.z_slice] == ["z[G1,2026,firm]", "z[G1,2027,0.5%]", "z[G2,2026,firm]", "z[G2,2027,0.5%]",
                                          "z[US-AA,2026,firm]", "z[US-AA,2027,0.5%]"]
    assert m.row_keys["load_aggregate"]["place_id"].tolist() == ["G1", "G1", "G2", "G2", "US-AA", "US-AA"]
    R = m.A[m.blocks["region_limit"]].toarray()
    # sum of US-AA's two aggregates <= 30 MW: no pair in the row
    assert R.shape[0] == 1 and not R[0, : cols.n_x].any()
    np.testing.assert_array_equal(R[0, cols.z_slice], [0, 0, 0, 0, 1, 1])
    assert m.row_upper[m.blocks["region_limit"]].tolist() == [30]
    # G1's headroom rows take the aggregates of G1 and of its zone US-AA: firm in 2027 counts both firm aggregates
    keys = m.row_keys["headroom"]
    H = m.A[m.blocks["headroom"]].toarray()
    i = keys.index[(keys["grid_region_id"] == "G1") & (keys["year"] == 2027) & (keys["level"] == "firm")][0]
    np.testing.assert_array_equal(H[i, cols.z_slice], [1, 0, 0, 0, 1, 0])

    # substituting the aggregates' definition gives the expanded rows (pairs entered directly) exactly
    e = build_model(inputs, "expanded")
    Z = m.A[m.blocks["load_aggregate"]].toarray()[:, : cols.n_x]
    for fam in ("region_limit", "headroom"):
        Ac = m.A[m.blocks[fam]].toarray()
        np.testing.assert_allclose(Ac[:, : cols.n_x] + Ac[:, cols.z_slice] @ Z, e.A[e.blocks[fam]].toarray()[:, : cols.n_x])
        assert m.row_keys[fam].equals(e.row_keys[fam])

    # with 13 firm clusters the row has 14 pairs, not fewer than the 14 entries by zone: it stays over the pairs
    _, m13 = _limited(13)
    assert "z[US-AA,2026,firm]" not in m13.columns.names()
    R13 = m13.A[m13.blocks["region_limit"]].toarray()[0]
    assert np.count_nonzero(R13[: m13.columns.n_x]) == 14 and not R13[m13.columns.z_slice].any()


def test_limited_zone_solves_as_on_paper_in_both_formulations():
    from planner.solver import solve_model

    inputs, m = _limited(20)
    e = build_model(inputs, "expanded")
    # PUE 1, utilisation 1: US-AA (50 USD/MWh) is 10 USD/MWh cheaper than US-BB (60) and holds 30 MW. The 40 MW of
    # firm clusters run both years and the flexible one only 2027, so a MW in US-AA saves 2 x 8760 x 10 USD for a firm
    # cluster and half that for flex: firm clusters take all 30 MW, flex none, and one more MW of the limit is worth
    # 175,200 USD (one firm MW more in US-AA)
    sc, se = solve_model(m), solve_model(e)
    assert sc.objective_usd == pytest.approx(se.objective_usd, rel=1e-12)
    x = dict(zip(m.columns.names(), sc.values))
    assert x["z[US-AA,2026,firm]"] == pytest.approx(30, rel=1e-9) and x["x[flex,US-AA]"] == pytest.approx(0, abs=1e-9)
    for sol, model in ((sc, m), (se, e)):
        assert -sol.row_duals_usd[model.blocks["region_limit"]][0] == pytest.approx(2 * HOURS * 10, rel=1e-9)

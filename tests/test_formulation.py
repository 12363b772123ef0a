"""The formulation's coefficients, checked without a solver."""

from __future__ import annotations

import numpy as np
import pytest

import planner
from conftest import HOURS, cluster, grid, make_tables, moratorium, region, scenario


@pytest.fixture()
def built():
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

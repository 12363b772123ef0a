"""The sweep's fast path gives the numbers of a full rebuild, case by case.

The fast path (planner.sweep.engine) does not build the inputs or the model for a
cost-only case: it moves the base model's arrays along slopes found by probe
builds, re-solves the kept HiGHS model warm and reads the row off sparse weights.
Each figure is checked here against an independent route: ``planner.solve`` of
the case's scenario, built from scratch and solved cold, read from its Result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import planner
from conftest import SCENARIOS
from planner.api import build
from planner.sweep import grid_cases, make_plan, monte_carlo_cases, run_sweep
from planner.sweep.engine import theta_of
from planner.sweep.execute import _load_base

REF = SCENARIOS / "us_china_2030.yaml"
#: Two or three values of each kind of cost-only key: a carbon price (costs), a power price
#: (costs), a firm headroom (row bounds) and a yearly expansion cap (column bounds).
KINDS = {
    "carbon_price_usd_per_tco2.US": [0, 150],
    "overrides.regions.US-TX.price_usd_per_mwh": [50, 90],
    "overrides.grid_regions.PJM.firm_headroom_mw": [0, 6000],
    "parameters.expansion_max_mw_per_year_us": [500, 2000],
}


@pytest.fixture(scope="module")
def base():
    return _load_base(REF)


def _cases() -> list[dict]:
    cases: list[dict] = []
    for key, values in KINDS.items():
        cases += [{key: v} for v in values]
    # two keys at once (their effects must add up)
    cases += [{"carbon_price_usd_per_tco2.US": 120, "overrides.grid_regions.PJM.firm_headroom_mw": 1000}]
    return cases


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fast") / "sweep"
    cases = _cases()
    frame, places = run_sweep(REF, cases, scheduler="serial", progress=False, outdir=out, fast=True,
                              return_placements=True)
    return cases, frame, places, out


def test_every_cost_only_key_takes_the_fast_path(fast_run):
    import json

    cases, frame, _, out = fast_run
    assert (frame["status"] == "optimal").all(), frame["error"].tolist()
    assert (frame["solve_mode"] == "fast").all()
    meta = json.loads((out / "sweep.json").read_text())
    assert sorted(meta["fast_keys"]) == sorted(KINDS)
    assert meta["full_path_keys"] == {}


def test_fast_rows_equal_the_full_rebuild_path_case_by_case(fast_run):
    """The same cases with every case built from scratch (inputs, model) and re-solved warm in the same
    order: every figure of every row, and the placements, to 1e-9 relative."""
    cases, frame, places, _ = fast_run
    full, full_places = run_sweep(REF, cases, scheduler="serial", progress=False, fast=False, return_placements=True)
    assert (full["solve_mode"] == "resolve").all()
    num = [c for c in frame.columns if c not in ("case_id", "status", "solve_mode", "seconds", "worker", "error", *KINDS)]
    assert len(num) > 30
    pd.testing.assert_frame_equal(frame[num], full[num], rtol=1e-9, atol=1e-6)
    a = places.set_index(["case_id", "region_id", "year"])["it_load_mw"].sort_index()
    b = full_places.set_index(["case_id", "region_id", "year"])["it_load_mw"].sort_index()
    assert list(a.index) == list(b.index)
    assert a.to_numpy() == pytest.approx(b.to_numpy(), rel=1e-9, abs=1e-6)


def test_objective_equals_a_cold_solve(fast_run):
    """The optimal cost is unique: each fast row's objective and country totals equal planner.solve's."""
    cases, frame, _, _ = fast_run
    for case, got in zip(cases, frame.to_dict("records")):
        s = planner.solve(planner.load_scenario(REF).with_overrides(case), marginals="none").summary
        assert got["objective_usd"] == pytest.approx(s["objective_usd"], rel=1e-9), case
        assert got["unserved_it_mw"] == pytest.approx(sum(t["unserved_it_mw"] for t in s["totals_by_country"].values()), abs=1e-6)


def test_the_row_kernel_reads_what_the_result_reports(base):
    """For one solution, the row read off the kernel equals Result.summary, grid_regions and regions
    (an independent route: planner.result's tables)."""
    from planner.api import finish
    from planner.solver import highs_instance, run_highs
    from planner.sweep.engine import parts_matrix, row_kernel

    scenario = base.with_overrides({"carbon_price_usd_per_tco2.US": 60, "overrides.grid_regions.PJM.firm_headroom_mw": 900})
    inputs, model = build(scenario)
    h = highs_instance(model)
    sol = run_highs(h, model, 60.0)
    result = finish(inputs, model, sol, {}, h=h, marginals="none")
    kernel = row_kernel(inputs, model)
    assert kernel.parts == tuple(model.cost_parts)  # every part of the model's objective, none re-derived
    values, place = kernel.row(sol.values, sol.objective_usd, parts_matrix(model, kernel.parts))
    got = dict(zip(kernel.columns, values))
    s = result.summary
    assert got["objective_usd"] == pytest.approx(s["objective_usd"], rel=1e-12)
    for part, value in s["objective_parts_usd"].items():
        assert got[f"{part}_usd"] == pytest.approx(value, rel=1e-12, abs=1e-6)
    for c in ("US", "CN"):
        t = s["totals_by_country"][c]
        assert got[f"placed_it_mw_{c}"] == pytest.approx(t["hosted_it_mw"], rel=1e-12, abs=1e-9)
        assert got[f"unserved_it_mw_{c}"] == pytest.approx(t["unserved_it_mw"], rel=1e-12, abs=1e-9)
        assert got[f"new_capacity_mw_{c}"] == pytest.approx(t["new_capacity_mw"], rel=1e-12, abs=1e-9)
        assert got[f"emissions_tco2_per_yr_{c}"] == pytest.approx(t["emissions_tco2_per_yr"], rel=1e-12, abs=1e-6)
    g = result.grid_regions
    for r in g[g["year"] == g["year"].max()].itertuples():
        assert got[f"grid_load_mw_{r.grid_region_id}"] == pytest.approx(r.load_mw, rel=1e-12, abs=1e-9)
    reg = result.regions
    reg = reg[reg["it_load_mw"] > 1e-9].set_index(["region_id", "year"])["it_load_mw"]
    mine = pd.Series(place, index=pd.MultiIndex.from_tuples(kernel.place_keys))
    mine = mine[mine > 1e-9]
    assert sorted(mine.index) == sorted(reg.index)
    assert mine.reindex(reg.index).to_numpy() == pytest.approx(reg.to_numpy(), rel=1e-12, abs=1e-9)


def test_the_fast_arrays_are_the_rebuilt_arrays(base):
    """The model arrays of each case, from the slopes, against a build of that case (1e-10 relative)."""
    cases = _cases()
    plan = make_plan(base, cases)
    assert plan.affine is not None and sorted(plan.affine.keys) == sorted(KINDS)
    for case in cases:
        _, model = build(base.with_overrides(case))
        want, got = theta_of(model), plan.affine.theta(case)
        fin = np.isfinite(want)
        assert np.array_equal(fin, np.isfinite(got)) and np.array_equal(want[~fin], got[~fin])
        assert np.allclose(got[fin], want[fin], rtol=1e-10, atol=1e-6), case


def test_keys_that_change_the_structure_take_the_full_path(base):
    """A discount rate (not affine) and a moratorium list (not a number) are solved by a full build,
    and give the same rows as the fast plan's fallback would: checked against planner.solve."""
    cases = grid_cases({"discount_rate": [0.05, 0.09]}) + [{"moratoria": []}]
    plan = make_plan(base, cases)
    assert plan.affine is not None and plan.affine.keys == []
    assert "not affine" in plan.affine.rejected["discount_rate"]
    assert plan.affine.rejected["moratoria"] == "not a number"
    df = run_sweep(REF, cases, scheduler="serial", progress=False, fast=True)
    assert set(df["solve_mode"]) <= {"resolve", "build"}
    for case, obj in zip(cases, df["objective_usd"]):
        fresh = planner.solve(planner.load_scenario(REF).with_overrides(case), marginals="none")
        assert obj == pytest.approx(fresh.summary["objective_usd"], rel=1e-9)


def test_marginal_values_in_rows_are_the_results(base):
    """With marginals='binding', a row carries the last year's one-sided values of Result.grid_regions."""
    cases = [{"carbon_price_usd_per_tco2.US": 20}, {"carbon_price_usd_per_tco2.US": 120}]
    df = run_sweep(REF, cases, scheduler="serial", progress=False, fast=True, marginals="binding")
    cols = [c for c in df.columns if c.startswith(("value_of_plus_1mw_", "cost_of_minus_1mw_"))]
    assert cols, "some headroom binds in the reference scenario"
    for case, row in zip(cases, df.to_dict("records")):
        r = planner.solve(planner.load_scenario(REF).with_overrides(case), marginals="binding")
        g = r.grid_regions
        last = g[g["year"] == g["year"].max()].set_index("grid_region_id")
        for c in cols:
            name, grid = ("value_of_plus_1mw", c[len("value_of_plus_1mw_"):]) if c.startswith("value_") else \
                ("cost_of_minus_1mw", c[len("cost_of_minus_1mw_"):])
            grid = grid[: -len("_usd_per_mw_yr")]
            assert row[c] == pytest.approx(float(last.loc[grid, f"{name}_usd_per_mw_yr"]), rel=1e-6, abs=1e-3), (case, c)


def test_monte_carlo_serial_equals_local_cluster():
    """The same fast Monte Carlo sweep in-process and on a 2-worker LocalCluster: identical rows."""
    pytest.importorskip("distributed")
    dists = {"carbon_price_usd_per_tco2.CN": {"dist": "uniform", "low": 0, "high": 100},
             "overrides.grid_regions.PJM.firm_headroom_mw": {"dist": "uniform", "low": 0, "high": 6000}}
    cases = monte_carlo_cases(dists, 24, seed=3)
    a = run_sweep(REF, cases, scheduler="serial", progress=False, fast=True)
    b = run_sweep(REF, cases, n_workers=2, progress=False, fast=True, batch_size=6)
    assert (b["solve_mode"] == "fast").all()
    num = [c for c in a.columns if c.endswith(("_usd", "_mw", "_yr")) or "_mw_" in c]
    pd.testing.assert_frame_equal(a[num], b[num], rtol=1e-9, atol=1e-6)


def test_a_key_off_its_line_leaves_the_others_fast(base):
    """A discount rate fails the joint linearity check; probed alone it is found out, and the carbon
    price beside it stays on the fast path. Each row's objective against a cold planner.solve."""
    cases = [{"discount_rate": 0.05}, {"discount_rate": 0.09}, {"carbon_price_usd_per_tco2.US": 10},
             {"carbon_price_usd_per_tco2.US": 100}, {"carbon_price_usd_per_tco2.US": 55, "discount_rate": 0.07}]
    plan = make_plan(base, cases)
    assert plan.affine is not None and plan.affine.keys == ["carbon_price_usd_per_tco2.US"]
    assert "not affine" in plan.affine.rejected["discount_rate"]
    df = run_sweep(REF, cases, scheduler="serial", progress=False, fast=True)
    assert df["solve_mode"].tolist()[2:4] == ["fast", "fast"] and set(df["solve_mode"].iloc[[0, 1, 4]]) <= {"resolve", "build"}
    for case, obj in zip(cases, df["objective_usd"]):
        fresh = planner.solve(planner.load_scenario(REF).with_overrides(case), marginals="none")
        assert obj == pytest.approx(fresh.summary["objective_usd"], rel=1e-9), case


def test_anchored_starts_give_cold_objectives_and_resume_the_same(base):
    """With ten cases or more per anchor, a fast case starts from the optimal basis at the centre of
    its cell (planner.sweep.engine.Anchors). Each case's objective still equals a cold planner.solve
    of the case; a plan made for the second half of the cases with the whole list (as a resumed sweep
    makes it) has the same anchors and gives the same rows as the uninterrupted run."""
    from planner.sweep.engine import Engine

    dists = {"carbon_price_usd_per_tco2.US": {"dist": "uniform", "low": 0, "high": 150},
             "overrides.grid_regions.PJM.firm_headroom_mw": {"dist": "uniform", "low": 0, "high": 6000}}
    cases = monte_carlo_cases(dists, 40, seed=5)
    plan = make_plan(base, cases)
    assert plan.anchors is not None and plan.anchors.levels == 2  # 2 x 2 cells of 10 cases each
    cells = {plan.anchors.cell(c) for c in cases}
    assert cells == {(i, j) for i in (0, 1) for j in (0, 1)}
    frame = run_sweep(REF, cases, scheduler="serial", progress=False, fast=True)
    assert (frame["solve_mode"] == "fast").all()
    for i in (0, 13, 27, 39):  # cases in different cells, each against a cold solve
        cold = planner.solve(planner.load_scenario(REF).with_overrides(cases[i]), marginals="none").summary
        assert frame["objective_usd"].iloc[i] == pytest.approx(cold["objective_usd"], rel=1e-9), cases[i]
    part = make_plan(base, cases[20:], all_cases=cases)
    assert part.anchors == plan.anchors
    batch = Engine(part).run(list(range(20, 40)), cases[20:])
    got = pd.DataFrame(batch.values, columns=part.columns)
    num = [c for c in part.columns if c not in dists]
    pd.testing.assert_frame_equal(got[num], frame[num].iloc[20:].reset_index(drop=True), rtol=1e-9, atol=1e-6)


def test_a_worker_s_time_limit_is_per_case_not_for_all_its_cases(tmp_path):
    """HiGHS holds its time limit against an instance's run clock, which adds up every run. A worker keeps
    one instance for all its cases: with a 0.05 s limit, 258 of these 300 cases ended "time_limit" (measured
    on b2cebd1). Each case now gets the limit on top of the clock: all 300 end optimal, the last with the
    objective of a fresh solve."""
    import planner
    from planner.sweep import grid_cases, run_sweep

    base = planner.load_scenario(SCENARIOS / "grid_only.yaml", ["solver.time_limit_s=0.05"])
    cases = grid_cases({"carbon_price_usd_per_tco2.US": list(np.linspace(0, 150, 300))})
    df = run_sweep(base, cases, scheduler="serial", progress=False)
    assert (df["status"] == "optimal").all() and len(df) == 300
    last = planner.solve(planner.load_scenario(SCENARIOS / "grid_only.yaml", ["carbon_price_usd_per_tco2.US=150"]))
    assert df["objective_usd"].iloc[-1] == pytest.approx(last.summary["objective_usd"], rel=1e-9)

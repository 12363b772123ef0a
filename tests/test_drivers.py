"""`planner drivers`: the tornado's numbers against independent cold solves of each low and high case."""

from __future__ import annotations

import pandas as pd
import pytest

import planner
from conftest import ROOT, SCENARIOS
from planner.cli import main
from planner.data.load import load_tables
from planner.drivers import Driver, default_drivers, format_table, moved_gw, run_drivers


def state_load(result, state_of: pd.Series, total: float) -> pd.Series:
    """IT MW by state computed here from the placements (independently of planner.drivers)."""
    p = result.placements
    s = {}
    for rid, mw in zip(p["region_id"], p["it_load_mw"]):
        st = state_of.get(rid, rid)
        s[st] = s.get(st, 0.0) + float(mw)
    s["unserved"] = total - sum(s.values())
    return pd.Series(s)


def test_moved_gw_by_hand():
    base = pd.Series({"US-TX": 3000.0, "US-VA": 1000.0, "unserved": 0.0})
    case = pd.Series({"US-TX": 1000.0, "US-NM": 1500.0, "US-VA": 1000.0, "unserved": 500.0})
    # TX -2000, NM +1500, unserved +500: half of 4000 MW = 2 GW
    assert moved_gw(base, case) == pytest.approx(2.0)


def test_default_drivers_are_the_named_assumptions():
    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    drivers, skipped = default_drivers(s)
    names = [d.name for d in drivers] + list(skipped)
    assert set(names) == {"firm headroom share", "construction-cost index", "China price adders", "carbon price",
                          "discount rate", "moratorium set"}
    by = {d.name: d for d in drivers}
    assert by["carbon price"].high == {"carbon_price_usd_per_tco2.US": 190.0, "carbon_price_usd_per_tco2.CN": 190.0}
    assert by["moratorium set"].low == {"moratoria": []}
    # the index driver sets every zone whose index is not 1.0 to 1.0 at low; with no regional index in the
    # data, it moves the national construction costs by -25 % / +25 %
    tables = load_tables()
    idx = tables.regions["capex_index"]
    if (idx != 1.0).any():
        assert set(by["construction-cost index"].low) == {f"overrides.regions.{r}.capex_index" for r in idx.index[idx != 1.0]}
    else:
        p = tables.parameters["value"]
        assert by["construction-cost index"].low == {
            "parameters.capex_usd_per_mw_us": 0.75 * float(p["capex_usd_per_mw_us"]),
            "parameters.capex_usd_per_mw_cn": 0.75 * float(p["capex_usd_per_mw_cn"]),
        }


def test_drivers_match_independent_solves():
    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    drivers, _ = default_drivers(s)
    chosen = [d for d in drivers if d.name in ("carbon price", "construction-cost index", "moratorium set")]
    res = run_drivers(s, chosen)
    regions = load_tables().regions
    state_of = regions["state_id"]
    total = sum(c.it_load_mw for c in s.clusters)
    base = planner.solve(s)
    base_load = state_load(base, state_of, total)
    assert res.base_objective_usd == pytest.approx(base.summary["objective_usd"], rel=1e-7)
    table = res.table.set_index("driver")
    for d in chosen:
        for side, case in (("low", d.low), ("high", d.high)):
            cold = planner.solve(s.with_overrides(case))  # a fresh build and cold solve
            dcost = (cold.summary["objective_usd"] - base.summary["objective_usd"]) / 1e9
            assert table.loc[d.name, f"cost_change_{side}_busd"] == pytest.approx(dcost, abs=1e-6 * abs(base.summary["objective_usd"]) / 1e9)
            load = state_load(cold, state_of, total)
            both = pd.concat([base_load, load], axis=1).fillna(0.0)
            moved = (both.iloc[:, 1] - both.iloc[:, 0]).abs().sum() / 2 / 1000
            # the LP may have ties between equally cheap states: compare the totals with a small tolerance
            assert table.loc[d.name, f"moved_gw_{side}"] == pytest.approx(moved, abs=0.01), (d.name, side)
    # a carbon price of 190 USD/t costs more than none and moves load (Texas's gas-heavy grid loses)
    assert table.loc["carbon price", "cost_change_high_busd"] > 0
    assert table.loc["carbon price", "moved_gw_high"] > 1.0


def tiny_yaml(tmp_path) -> str:
    (tmp_path / "s.yaml").write_text(
        "name: tiny_drivers\nhorizon: {first_year: 2026, last_year: 2028}\nmoratoria: [status:enacted]\n"
        "clusters:\n"
        "  - {id: a, home_country: US, it_load_mw: 800, online_year: 2027}\n"
        "  - {id: b, home_country: CN, it_load_mw: 500, online_year: 2028}\n")
    return str(tmp_path / "s.yaml")


def test_cli_prints_the_table_and_writes_csv(tmp_path, capsys):
    out = tmp_path / "drivers.csv"
    assert main(["drivers", tiny_yaml(tmp_path), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    for name in ("firm headroom share", "construction-cost index", "China price adders", "carbon price",
                 "discount rate", "moratorium set"):
        assert name in text
    t = pd.read_csv(out)
    assert len(t) == 6 and {"cost_change_low_busd", "cost_change_high_busd", "moved_gw_low", "moved_gw_high"} <= set(t.columns)
    assert (t["status_low"] == "optimal").all() and (t["status_high"] == "optimal").all()
    assert (t[["moved_gw_low", "moved_gw_high", "unserved_gw_low", "unserved_gw_high"]] >= 0).all().all()
    # doubling China's price adders makes the Chinese cluster's energy dearer
    assert t.set_index("driver").loc["China price adders", "cost_change_high_busd"] > 0


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    assert main(["drivers", tiny_yaml(tmp_path), "--set", "discount_rate=7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "discount_rate" in err

"""On-site generation and time to power (issue 11): tiny cases solved on paper, and the checks of the issue.

Set-up as in test_tiny_cases.py: PUE 1.0, utilisation 1 unless stated, capex
1e6 USD/MW with a 10-year life and a 0% discount rate (CRF 0.1), so a
cluster's capital costs 1e5 USD per MW-yr and on-site capital 1000 USD/kW
costs 1e5 USD per MW-yr too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import planner
from conftest import HOURS, cluster, grid, make_tables, region, scenario

CAPITAL_PER_MW_YR = 1e6 * 0.1


def tech(tid: str = "t", capex: float = 1000.0, heat_rate: float = 10.0, availability: float = 1.0, fom: float = 0.0,
         vom: float = 0.0, emissions: float = 0.5, lead: int = 0, first: int = 2000, countries: str = "US") -> dict:
    return {"technology_id": tid, "name": tid, "fuel": "gas", "countries": countries, "capex_usd_per_kw": capex,
            "cost_year": 2023, "fixed_om_usd_per_kw_yr": fom, "variable_om_usd_per_mwh": vom,
            "heat_rate_mmbtu_per_mwh": heat_rate, "availability": availability, "emissions_tco2_per_mwh": emissions,
            "lead_time_years": lead, "first_year_available": first, "cost_source": "test", "performance_source": "test",
            "availability_source": "test", "lead_time_source": "test"}


def supply_files(folder: Path, techs: list[dict], states: list[str], gas_usd_per_mmbtu: float | dict = 3.0,
                 leads: dict[str, int] | None = None) -> dict[str, str]:
    """Write the four supply tables for a tiny case; returns the scenario's ``datasets`` entries."""
    gas = gas_usd_per_mmbtu if isinstance(gas_usd_per_mmbtu, dict) else {s: gas_usd_per_mmbtu for s in states}
    tables = {
        "onsite_technologies": pd.DataFrame(techs),
        "onsite_cost_multipliers": pd.DataFrame({"state_id": states, "multiplier": 1.0, "source": "test"}),
        "fuel_prices": pd.DataFrame({"state_id": states, "fuel": "gas", "price_usd_per_mmbtu": [gas[s] for s in states],
                                     "year": 2023, "price_kind": "industrial", "source": "test"}),
        "grid_connection_lead_times": pd.DataFrame({"grid_region_id": list((leads or {}).keys()) or ["G1"],
                                                    "connection_lead_years": list((leads or {}).values()) or [0],
                                                    "source": "test"}),
    }
    out = {}
    for name, df in tables.items():
        path = folder / f"{name}.csv"
        df.to_csv(path, index=False)
        out[name] = str(path)
    return out


def solve(s, t):
    return planner.solve(s, tables=t, marginals="none")


def test_no_grid_room_is_served_on_site(tmp_path):
    # G1 has no headroom and no expansion: the 100 MW firm cluster is powered on site.
    # Grid energy is charged on the placement (50 USD/MWh) and credited back for the on-site MWh (30 USD/MWh fuel):
    # objective = 100 MW x 8760 x 30 + 100 MW x (1e5 cluster capital + 1e5 plant capital)
    t = make_tables([region("US-AA", "G1", 50)], [grid("G1", 0)])
    ds = supply_files(tmp_path, [tech()], ["US-AA"])
    s = scenario([cluster("k", 100)], datasets=ds, onsite={"enabled": True})
    r = solve(s, t)
    assert r.summary["status"] == "optimal"
    assert r.summary["objective_usd"] == pytest.approx(100 * HOURS * 30 + 100 * 2 * CAPITAL_PER_MW_YR, rel=1e-9)
    assert r.unserved.empty
    assert r.summary["onsite"]["onsite_mw"] == pytest.approx(100)
    # the same without on-site power: unserved, at the penalty
    off = solve(scenario([cluster("k", 100)]), t)
    assert off.unserved["unserved_it_mw"].sum() == pytest.approx(100)


def test_availability_sizes_the_plant(tmp_path):
    # availability 0.8: 125 MW of nameplate to serve 100 MW firm; energy as before
    t = make_tables([region("US-AA", "G1", 50)], [grid("G1", 0)])
    ds = supply_files(tmp_path, [tech(availability=0.8)], ["US-AA"])
    r = solve(scenario([cluster("k", 100)], datasets=ds, onsite={"enabled": True}), t)
    assert r.summary["onsite"]["onsite_nameplate_mw"] == pytest.approx(125)
    assert r.summary["objective_usd"] == pytest.approx(100 * HOURS * 30 + 100 * CAPITAL_PER_MW_YR + 125 * CAPITAL_PER_MW_YR, rel=1e-9)


def test_cheap_grid_keeps_the_grid(tmp_path):
    # plenty of headroom and grid energy at 20 USD/MWh, below the plant's fuel alone (30): nothing built,
    # and the objective is that of the grid-only model exactly
    t = make_tables([region("US-AA", "G1", 20)], [grid("G1", 1000)])
    ds = supply_files(tmp_path, [tech()], ["US-AA"])
    r = solve(scenario([cluster("k", 100)], datasets=ds, onsite={"enabled": True}), t)
    off = solve(scenario([cluster("k", 100)]), t)
    assert r.summary["objective_usd"] == pytest.approx(off.summary["objective_usd"], rel=1e-12)
    assert r.summary["onsite"]["onsite_mw"] == pytest.approx(0)


def test_utilisation_bounds_grid_energy(tmp_path):
    # utilisation 0.5 and no headroom: the plant serves the whole 100 MW peak and the whole 50 MWa of energy
    # (no grid connection, so no grid energy): 100 MW built, 50 x 8760 MWh at 30 USD/MWh
    t = make_tables([region("US-AA", "G1", 50)], [grid("G1", 0)])
    ds = supply_files(tmp_path, [tech()], ["US-AA"])
    r = solve(scenario([cluster("k", 100, utilisation=0.5)], datasets=ds, onsite={"enabled": True}), t)
    assert r.summary["objective_usd"] == pytest.approx(50 * HOURS * 30 + 100 * 2 * CAPITAL_PER_MW_YR, rel=1e-9)


def test_delay_until_the_grid_arrives(tmp_path):
    # 2030-2032, G1 no headroom; new capacity from 2032 (connection lead 2 years), 1000 USD/kW (1e5 per MW-yr).
    # 100 MW requested in 2030, may wait 2 years at 1e6 USD per MW-yr: delay 2 x 1e6 x 100, then one year online
    t = make_tables([region("US-AA", "G1", 50)], [grid("G1", 0)], expansion_max_mw_per_year_us=1000.0)
    ds = supply_files(tmp_path, [tech()], ["US-AA"], leads={"G1": 2})
    s = scenario([cluster("k", 100)], first=2030, last=2032, datasets=ds,
                 time_to_power={"enabled": True, "max_delay_years": 2, "delay_cost_usd_per_mw_yr": 1e6})
    r = solve(s, t)
    expected = 2 * 1e6 * 100 + 100 * HOURS * 50 + 100 * CAPITAL_PER_MW_YR + 100 * 1000 * 1000 * 0.1
    assert r.summary["objective_usd"] == pytest.approx(expected, rel=1e-9)
    p = r.placements.iloc[0]
    assert (p["requested_online_year"], p["online_year"], p["delay_years"]) == (2030, 2032, 2)
    assert r.summary["time_to_power"]["delay_cluster_mw_years"] == pytest.approx(200)


def test_bridge_then_grid(tmp_path):
    # as above, but a plant can bridge: on site 2030-2031, then the grid in 2032. Grid energy 20 USD/MWh, plant fuel
    # 50 (gas 5 USD/MMBtu): in 2032 the grid (20 + new capacity 1e5 / 8760 = 31.4 USD/MWh) beats running the
    # paid-for plant (50). The plant stays paid for (capital annualised over its life: all 3 years). Bridging
    # (3e7 + 2 x 8760 x 100 x 30, plus two more years of the cluster's own costs) beats waiting (2 x 1e6 x 100).
    t = make_tables([region("US-AA", "G1", 20)], [grid("G1", 0)], expansion_max_mw_per_year_us=1000.0)
    ds = supply_files(tmp_path, [tech()], ["US-AA"], gas_usd_per_mmbtu=5.0, leads={"G1": 2})
    s = scenario([cluster("k", 100)], first=2030, last=2032, datasets=ds, onsite={"enabled": True},
                 time_to_power={"enabled": True, "max_delay_years": 2, "delay_cost_usd_per_mw_yr": 1e6})
    r = solve(s, t)
    grid_energy = 100 * HOURS * 20 * 3
    onsite = 100 * CAPITAL_PER_MW_YR * 3 + 100 * HOURS * (50 - 20) * 2
    expected = grid_energy + onsite + 100 * CAPITAL_PER_MW_YR * 3 + 100 * 1000 * 1000 * 0.1
    assert r.summary["objective_usd"] == pytest.approx(expected, rel=1e-9)
    sup = r.supply.set_index("year")
    assert sup.loc[2030, "onsite_mw"] == pytest.approx(100) and sup.loc[2032, "onsite_mw"] == pytest.approx(0)
    assert sup.loc[2032, "grid_mw"] == pytest.approx(100) and sup.loc[2031, "grid_mw"] == pytest.approx(0)
    assert r.placements.iloc[0]["delay_years"] == 0


# --- the checks of issue 11 on the bundled data -------------------------------------------------

from conftest import SCENARIOS  # noqa: E402
from planner.cli import main  # noqa: E402

VA_FIRM = """\
name: va_firm
horizon: {first_year: 2026, last_year: 2030}
clusters:
  - {id: va, home_country: US, it_load_mw: 1000, online_year: 2027, utilisation: 0.7, allowed_regions: [US-VA]}
"""


def _va(tmp_path, extra: str = "") -> planner.Scenario:
    path = tmp_path / "va.yaml"
    path.write_text(VA_FIRM + extra)
    return planner.load_scenario(path)


def test_firm_cluster_in_virginia_is_served_on_site_or_delayed(tmp_path):
    # PJM has no firm headroom and no new capacity before 2030: grid only, the cluster is unserved
    off = planner.solve(_va(tmp_path), marginals="none")
    assert off.unserved["unserved_it_mw"].sum() == pytest.approx(1000)
    on = planner.solve(_va(tmp_path, "onsite: {enabled: true}\ntime_to_power: {enabled: true}\n"), marginals="none")
    assert on.unserved.empty
    # engines, the quickest plant, take 2 years (first power 2028): the cluster waits one year, then runs on site
    # at its full grid draw (IT x PUE 1.25, temperate) with no grid at all
    p = on.placements.iloc[0]
    assert (p["requested_online_year"], p["online_year"], p["delay_years"], p["share"]) == (2027, 2028, 1, 1.0)
    supply = on.supply.groupby("year")[["grid_mw", "onsite_mw"]].sum()
    assert supply["onsite_mw"].tolist() == pytest.approx([1250.0] * 3) and supply["grid_mw"].abs().max() < 1e-6
    # the delay is priced: one year of the delay cost on 1000 MW at the 7 % discount of 2027
    assert on.summary["objective_parts_usd"]["delay"] == pytest.approx(1000 * on.inputs.delay_cost_usd_per_mw_yr / 1.07, rel=1e-9)
    # without time to power the plant cannot be ready for 2027 either: unserved
    only = planner.solve(_va(tmp_path, "onsite: {enabled: true}\n"), marginals="none")
    assert only.unserved["unserved_it_mw"].sum() == pytest.approx(1000)


@pytest.fixture(scope="module")
def reference_runs():
    base = planner.load_scenario(SCENARIOS / "us_china_2030.yaml")
    runs = {}
    for scale in (1.0, 1.5, 2.0):
        runs[("gas", scale)] = planner.solve(base.with_overrides([f"onsite.fuel_price_scale={scale}"]), marginals="none")
    for cost in (1.1e6, 3e6, 8e6):
        sc = base.with_overrides([f"time_to_power.delay_cost_usd_per_mw_yr={cost}", "time_to_power.price_curtailment=false"])
        runs[("delay", cost)] = planner.solve(sc, marginals="none")
    return runs


def test_dearer_gas_never_adds_on_site_plant(reference_runs):
    # LP theory: raising a cost vector by d never raises d @ v, so fuel burnt cannot grow; the nameplate built is
    # checked on the reference too
    built = [reference_runs[("gas", s)].summary["onsite"]["onsite_nameplate_mw"] for s in (1.0, 1.5, 2.0)]
    burnt = [reference_runs[("gas", s)].supply["onsite_fuel_usd"].sum() / s for s in (1.0, 1.5, 2.0)]
    assert built[0] >= built[1] >= built[2] and built[0] > built[2]
    assert burnt[0] >= burnt[1] - 1e-6 * burnt[0] >= burnt[2] - 2e-6 * burnt[0]


def test_dearer_delay_never_adds_delay(reference_runs):
    late = [reference_runs[("delay", c)].summary["time_to_power"]["delay_cluster_mw_years"] for c in (1.1e6, 3e6, 8e6)]
    assert late[0] >= late[1] >= late[2]
    assert late[0] > 0  # at the facility's own annualised capex, waiting is chosen somewhere


def test_both_off_is_the_grid_only_model():
    # turning both options off gives exactly the model of the reference as it was before them (the 0.1.0 form)
    grid_only = planner.load_scenario(SCENARIOS / "grid_only.yaml")
    old_style = planner.load_scenario(SCENARIOS / "us_china_2030.yaml", ["onsite.enabled=false", "time_to_power.enabled=false"])
    a, b = planner.build(grid_only)[1], planner.build(old_style)[1]
    assert a.shape == b.shape and (a.A != b.A).nnz == 0 and np.array_equal(a.c, b.c)
    assert a.columns.n_onsite == 0 and "delay" not in a.cost_parts
    r = planner.solve(grid_only, marginals="none")
    assert "onsite" not in r.summary and "time_to_power" not in r.summary
    assert r.placements["delay_years"].eq(0).all()


@pytest.mark.parametrize("edit, key", [
    (("gas_recip", "capex_usd_per_kw", "-5"), "capex_usd_per_kw"),
    (("gas_recip", "heat_rate_mmbtu_per_mwh", "42"), "heat_rate_mmbtu_per_mwh"),
])
def test_bad_technology_table_exit_2(tmp_path, edit, key, capsys):
    from planner.data.load import bundled_dir
    tech = pd.read_csv(bundled_dir() / "onsite_technologies.csv", dtype=str, keep_default_na=False)
    tid, col, value = edit
    tech.loc[tech["technology_id"] == tid, col] = value
    tech.to_csv(tmp_path / "tech.csv", index=False)
    s = _va(tmp_path, f"onsite: {{enabled: true}}\ndatasets: {{onsite_technologies: {tmp_path / 'tech.csv'}}}\n")
    out = tmp_path / "out"
    assert main(["solve", str(tmp_path / "va.yaml"), "-o", str(out), "--no-maps"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and key in err[0] and value in err[0] and "tech.csv" in err[0]
    assert not out.exists()


@pytest.mark.parametrize("extra, needle", [
    ("onsite: {enabled: true, technologies: [gas_turbine_xl]}\n", "onsite.technologies[0]"),
    ("onsite: {enabled: true, technologies: [gas_cc_ccs]}\n", "onsite.technologies[0]"),  # first power after 2030
    ("onsite: {enabled: true, max_mw: {US-XX: 10}}\n", "onsite.max_mw.US-XX"),
])
def test_bad_onsite_scenario_exit_2(tmp_path, extra, needle, capsys):
    _va(tmp_path, extra)
    out = tmp_path / "out"
    assert main(["solve", str(tmp_path / "va.yaml"), "-o", str(out), "--no-maps"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "va.yaml" in err[0]
    assert not out.exists()


def test_map_metrics_onsite_and_time_to_power(tmp_path):
    # the map tables carry what the results say: on-site MW per zone and year, and IT load waiting (requested, not online)
    from planner.maps.tables import METRICS, tables_of
    on = planner.solve(_va(tmp_path, "onsite: {enabled: true}\ntime_to_power: {enabled: true}\n"), marginals="none")
    t = tables_of(on)
    va = t["regions"].set_index(["region_id", "year"])
    assert va.loc[("US-VA", 2027), "waiting_it_mw"] == pytest.approx(1000)  # requested 2027, online 2028
    assert va.loc[("US-VA", 2028), "waiting_it_mw"] == 0
    assert va.loc[("US-VA", 2029), "onsite_mw"] == pytest.approx(1250)
    assert METRICS["onsite"][0] == "onsite_mw" and METRICS["time_to_power"][0] == "waiting_it_mw"
    fig = planner.maps.plot(on, "time_to_power", 2027)
    assert fig is not None


def test_max_share_and_zone_cap(tmp_path):
    # 25 MW of grid room: with at most half of a zone's load on site, the zone can host L with L - 25 <= L / 2,
    # so 50 MW are placed (25 on site, 25 from the grid) and 50 are unserved
    t = make_tables([region("US-AA", "G1", 50)], [grid("G1", 25)])
    ds = supply_files(tmp_path, [tech()], ["US-AA"])
    half = solve(scenario([cluster("k", 100)], datasets=ds, onsite={"enabled": True, "max_share": 0.5}), t)
    assert half.unserved["unserved_it_mw"].sum() == pytest.approx(50)
    assert half.supply["onsite_mw"].sum() == pytest.approx(25)
    # a 30 MW cap on the zone's plants: 25 from the grid + 30 on site = 55 MW placed
    capped = solve(scenario([cluster("k", 100)], datasets=ds, onsite={"enabled": True, "max_mw": {"US-AA": 30}}), t)
    assert capped.unserved["unserved_it_mw"].sum() == pytest.approx(45)
    assert capped.summary["onsite"]["onsite_nameplate_mw"] == pytest.approx(30)


# --- properties on random small cases (the cases of test_properties.py, with both options on) -------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from test_bundled import assert_invariants  # noqa: E402
from test_properties import cases  # noqa: E402


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cases(), st.floats(1.0, 8.0), st.floats(0.0, 5e6), st.integers(0, 2))
def test_properties_with_onsite_and_delay(tmp_path, case, gas, delay_cost, max_delay):
    s, t = case
    ds = supply_files(tmp_path, [tech("a", availability=0.9, lead=0), tech("b", capex=500, heat_rate=12, availability=0.8, lead=1)],
                      sorted(t.regions["state_id"].unique()), gas_usd_per_mmbtu=gas,
                      leads={g: 1 for g in t.grid_regions.index})
    raw = s.model_dump(mode="json")
    plain = planner.solve(s, tables=t, marginals="none")
    # time to power without delay and with on-site power: an option more can only lower the cost (the lead times
    # are the scenario's own: expansion leads as in the plain case)
    raw_on = {**raw, "datasets": ds, "onsite": {"enabled": True}}
    on = planner.Scenario.model_validate(raw_on)
    r_on = planner.solve(on, tables=t, marginals="none")
    assert r_on.summary["solver_objective_usd"] <= plain.summary["solver_objective_usd"] * (1 + 1e-9) + 1e-6
    # the invariants (shares sum to one, moratoria, headroom net of on-site supply backed by firm plant) hold
    inputs, model = planner.build(on, tables=t)
    from planner.solver import solve_model
    assert_invariants(inputs, model, solve_model(model).values)
    # delay: HiGHS and CBC agree on the optimum
    both = planner.Scenario.model_validate({**raw_on, "time_to_power": {"enabled": True, "max_delay_years": max_delay,
                                                                        "delay_cost_usd_per_mw_yr": delay_cost}})
    a = planner.solve(both, tables=t, marginals="none")
    b = planner.solve(both, tables=t, solver="cbc", marginals="none")
    assert a.summary["solver_objective_usd"] == pytest.approx(b.summary["solver_objective_usd"], rel=1e-6, abs=1e-3)

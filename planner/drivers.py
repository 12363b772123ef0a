"""What drives the plan: a tornado over the named assumptions (``planner drivers SCENARIO``).

Each *driver* is one named assumption moved to a low and a high value, the
others left at the scenario's values. Every case is a set of ``--set``
overrides, checked against the scenario with the sweep machinery
(:func:`planner.sweep.validate_values`) and solved warm with one
:class:`planner.whatif.WhatIf` (a cost or bound change re-solves from the last
basis; a moratorium set or a new regional index is a new set of bounds or
costs). For each case it reports the change in total cost against the
scenario and the IT load that moves between states:

    moved_gw = 1/2 x sum over states s (and "unserved") of |IT_case(s) - IT_base(s)| / 1000

where ``IT(s)`` is the IT load placed in state ``s`` (the sum over its zones)
once every cluster is online. Half the sum, because each MW that leaves one
state arrives in another (or goes unserved).

The drivers and their ranges (low, high), each a stated assumption:

* ``firm headroom share``: ``parameters.firm_share_of_0p25pct_headroom`` 0 and
  0.5 (the parameter's documented range; only where the data have it);
* ``construction-cost index``: every zone's ``capex_index`` at 1.0 (no regional
  index) and each zone's deviation from 1.0 doubled (``1 + 2 (i - 1)``, clipped
  to 0.2..5): the index is one market figure stretched over a state;
* ``China price adders``: ``cn_td_adder_usd_per_mwh`` and
  ``cn_surcharge_usd_per_mwh`` both at 0 (the coal benchmark alone) and both
  doubled;
* ``carbon price``: US and CN at 0 and at 190 USD/tCO2 (US EPA, *Report on the
  Social Cost of Greenhouse Gases*, Nov 2023: 190 USD/t for 2020 emissions at a
  2 % near-term discount rate, 2020 dollars);
* ``discount rate``: 0.04 and 0.10 (the range stated in the reference scenario);
* ``moratorium set``: none (``moratoria=[]``) and the pending bills passing
  (status ``enacted``, ``proposed`` and ``carried_over``; scenario
  ``moratoria_spread.yaml``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planner.scenario import Scenario

#: US EPA (2023), Report on the Social Cost of Greenhouse Gases, Table ES-1: 190 USD/tCO2
#: for 2020 emissions at a 2 % near-term Ramsey discount rate (2020 USD).
CARBON_HIGH_USD_PER_TCO2 = 190.0
DISCOUNT_RANGE = (0.04, 0.10)
FIRM_SHARE_RANGE = (0.0, 0.5)
PENDING_STATUSES = ("status:enacted", "status:proposed", "status:carried_over")


@dataclass(frozen=True)
class Driver:
    """One named assumption and its two cases (``--set``-style overrides)."""

    name: str
    low_label: str
    high_label: str
    low: dict[str, Any]
    high: dict[str, Any]
    note: str = ""


@dataclass
class DriversResult:
    """The tornado: one row per driver and the per-state IT load of every case.

    Attributes
    ----------
    table
        One row per driver: ``driver``, ``low``, ``high`` (labels),
        ``cost_change_low_busd``, ``cost_change_high_busd`` (total cost of the
        case minus the base, USD billion), ``moved_gw_low``, ``moved_gw_high``,
        ``gainers_high`` / ``losers_high`` (states gaining or losing most at the
        high value), ``swing_busd``; sorted by swing, largest first.
    base_objective_usd
        The scenario's total cost.
    state_it_mw
        IT MW placed by state (columns) for ``base`` and every ``<driver>|low|high`` case (rows).
    skipped
        Drivers that could not be varied with these data, and why.
    """

    table: pd.DataFrame
    base_objective_usd: float
    state_it_mw: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)


def default_drivers(scenario: Scenario) -> tuple[list[Driver], dict[str, str]]:
    """The named drivers for *scenario*, with the ranges in the module docstring.

    Returns
    -------
    tuple
        The drivers, and ``{name: reason}`` for those the data cannot vary.
    """
    from planner.data.load import load_tables
    from planner.inputs import dataset_paths

    tables = load_tables(dataset_paths(scenario))
    params = {k: float(v) for k, v in tables.parameters["value"].items()}
    params.update({k: float(v) for k, v in scenario.parameters.items()})
    drivers: list[Driver] = []
    skipped: dict[str, str] = {}
    name = "firm_share_of_0p25pct_headroom"
    if name in params:
        lo, hi = FIRM_SHARE_RANGE
        drivers.append(Driver("firm headroom share", f"{lo:g}", f"{hi:g}", {f"parameters.{name}": lo},
                              {f"parameters.{name}": hi}, f"base {params[name]:g}"))
    else:
        skipped["firm headroom share"] = f"parameter {name} is not in this parameters table"
    idx = tables.regions["capex_index"].astype(float)
    idx = idx[idx != 1.0]
    if len(idx):
        flat = {f"overrides.regions.{rid}.capex_index": 1.0 for rid in idx.index}
        stretched = {f"overrides.regions.{rid}.capex_index": float(np.clip(1 + 2 * (v - 1), 0.2, 5.0)) for rid, v in idx.items()}
        drivers.append(Driver("construction-cost index", "flat 1.0", "deviations x2", flat, stretched,
                              f"{len(idx)} zones with an index other than 1.0"))
    else:  # no regional index in the data: the national construction costs move instead (+-25 %)
        keys = [k for k in ("capex_usd_per_mw_us", "capex_usd_per_mw_cn") if k in params]
        drivers.append(Driver("construction-cost index", "x0.75", "x1.25",
                              {f"parameters.{k}": 0.75 * params[k] for k in keys},
                              {f"parameters.{k}": 1.25 * params[k] for k in keys},
                              "no zone has a regional index: national USD/MW of IT x0.75 and x1.25"))
    td, sur = "cn_td_adder_usd_per_mwh", "cn_surcharge_usd_per_mwh"
    drivers.append(Driver("China price adders", "0 + 0", f"{2 * params[td]:.1f} + {2 * params[sur]:.1f}",
                          {f"parameters.{td}": 0.0, f"parameters.{sur}": 0.0},
                          {f"parameters.{td}": 2 * params[td], f"parameters.{sur}": 2 * params[sur]},
                          f"base {params[td]:.2f} + {params[sur]:.2f} USD/MWh"))
    c = CARBON_HIGH_USD_PER_TCO2
    drivers.append(Driver("carbon price", "0", f"{c:g}",
                          {"carbon_price_usd_per_tco2.US": 0.0, "carbon_price_usd_per_tco2.CN": 0.0},
                          {"carbon_price_usd_per_tco2.US": c, "carbon_price_usd_per_tco2.CN": c},
                          "USD/tCO2, US and CN"))
    lo, hi = DISCOUNT_RANGE
    drivers.append(Driver("discount rate", f"{lo:g}", f"{hi:g}", {"discount_rate": lo}, {"discount_rate": hi},
                          f"base {scenario.discount_rate:g}"))
    drivers.append(Driver("moratorium set", "none", "pending bills pass", {"moratoria": []},
                          {"moratoria": list(PENDING_STATUSES)}, f"base {', '.join(scenario.moratoria) or 'none'}"))
    return drivers, skipped


def state_it_mw(result: Any, state_of: pd.Series, total_it_mw: float) -> pd.Series:
    """IT MW placed per state once every cluster is online, plus ``unserved``.

    Parameters
    ----------
    result
        A :class:`planner.result.Result`.
    state_of
        Zone id -> state id.
    total_it_mw
        IT load of all the scenario's clusters (what is not placed is ``unserved``).
    """
    p = result.placements
    placed = p.groupby(p["region_id"].map(state_of).fillna(p["region_id"]))["it_load_mw"].sum()
    placed.loc["unserved"] = max(total_it_mw - float(placed.sum()), 0.0)
    return placed


def moved_gw(base: pd.Series, case: pd.Series) -> float:
    """Half the sum of absolute changes of IT load by state (incl. ``unserved``), GW."""
    both = pd.concat([base, case], axis=1).fillna(0.0)
    return float(np.abs(both.iloc[:, 1] - both.iloc[:, 0]).sum()) / 2.0 / 1000.0


def run_drivers(scenario: Scenario, drivers: Sequence[Driver] | None = None) -> DriversResult:
    """Solve the base and each driver's low and high case; tabulate cost change and GW moved.

    Parameters
    ----------
    scenario
        The base scenario.
    drivers
        Default: :func:`default_drivers`.

    Returns
    -------
    DriversResult
    """
    from planner.data.load import load_tables
    from planner.inputs import dataset_paths
    from planner.sweep import validate_values
    from planner.whatif import WhatIf

    skipped: dict[str, str] = {}
    if drivers is None:
        drivers, skipped = default_drivers(scenario)
    values: dict[str, list[Any]] = {}
    for d in drivers:
        for case in (d.low, d.high):
            for k, v in case.items():
                values.setdefault(k, []).append(v)
    validate_values(scenario, values)  # one line naming the key if a value does not fit the scenario
    if scenario.solver.marginals != "none":  # cost and placements only: no marginal values needed
        scenario = scenario.with_overrides({"solver.marginals": "none"})
    regions = load_tables(dataset_paths(scenario)).regions
    state_of = regions["state_id"] if "state_id" in regions.columns else pd.Series(regions.index, index=regions.index)
    w = WhatIf(scenario)
    base = w.solve(scenario)
    base_obj = float(base.summary["objective_usd"])
    total = float(sum(c.it_load_mw for c in scenario.clusters))
    base_states = state_it_mw(base, state_of, total)
    states: dict[str, pd.Series] = {"base": base_states}
    rows = []
    for d in drivers:
        out: dict[str, Any] = {"driver": d.name, "low": d.low_label, "high": d.high_label, "note": d.note}
        for side, case in (("low", d.low), ("high", d.high)):
            r = w.solve(dict(case))
            s = state_it_mw(r, state_of, total)
            states[f"{d.name}|{side}"] = s
            out[f"cost_change_{side}_busd"] = (float(r.summary["objective_usd"]) - base_obj) / 1e9
            out[f"moved_gw_{side}"] = moved_gw(base_states, s)
            out[f"unserved_gw_{side}"] = float(s.get("unserved", 0.0)) / 1000.0
            out[f"status_{side}"] = r.summary["status"]
            delta = pd.concat([base_states, s], axis=1).fillna(0.0)
            delta = (delta.iloc[:, 1] - delta.iloc[:, 0]) / 1000.0
            out[f"gainers_{side}"] = _top(delta, +1)
            out[f"losers_{side}"] = _top(delta, -1)
        out["swing_busd"] = abs(out["cost_change_high_busd"] - out["cost_change_low_busd"])
        rows.append(out)
    table = pd.DataFrame(rows).sort_values("swing_busd", ascending=False, kind="stable").reset_index(drop=True)
    frame = pd.DataFrame(states).T.fillna(0.0)
    return DriversResult(table, base_obj, frame[sorted(frame.columns)], skipped)


def _top(delta: pd.Series, sign: int, n: int = 3, min_gw: float = 0.05) -> str:
    d = (delta * sign).sort_values(ascending=False, kind="stable")
    d = d[d >= min_gw].head(n)
    return ", ".join(f"{k} {sign * v:+.1f}" for k, v in d.items())


def format_table(res: DriversResult) -> str:
    """The tornado as fixed-width text (what ``planner drivers`` prints)."""
    t = res.table
    base_unserved = float(res.state_it_mw.loc["base"].get("unserved", 0.0)) / 1000.0
    lines = [f"Base: total cost {res.base_objective_usd / 1e9:,.2f} USD bn, {base_unserved:.2f} GW IT unserved. Per "
             "driver, at its low and high value: change in total cost (USD bn; the cost of what is placed, so a case "
             "that leaves load unserved can cost less), IT GW moving between states (unserved counted as a state) "
             "and IT GW unserved.",
             ""]
    head = (f"{'driver':<24} {'low':>12} {'high':>20} {'dcost low':>10} {'dcost high':>11} {'GW moved low':>13} "
            f"{'GW moved high':>14} {'unserved low':>13} {'unserved high':>14}")
    lines += [head, "-" * len(head)]
    for r in t.itertuples():
        lines.append(f"{r.driver:<24} {r.low:>12} {r.high:>20} {r.cost_change_low_busd:>+10.2f} "
                     f"{r.cost_change_high_busd:>+11.2f} {r.moved_gw_low:>13.2f} {r.moved_gw_high:>14.2f} "
                     f"{r.unserved_gw_low:>13.2f} {r.unserved_gw_high:>14.2f}")
    lines.append("")
    lines.append("Where the load moves (GW of IT load; state ids, 'unserved' = not placed):")
    for r in t.itertuples():
        for side in ("low", "high"):
            gain, lose = getattr(r, f"gainers_{side}"), getattr(r, f"losers_{side}")
            if gain or lose:
                lines.append(f"  {r.driver} at {getattr(r, side)}: gains {gain or '-'}; losses {lose or '-'}")
    for name, why in res.skipped.items():
        lines.append(f"  (not varied: {name}: {why})")
    return "\n".join(lines)

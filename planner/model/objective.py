"""Objective: total present cost, USD, discounted over the horizon.

With discount factor d_t = (1 + rate)^-(t - first_year), the present-value
sum S_k = sum_{t >= o_k} d_t over a cluster's years online, and the capital
recovery factor CRF = rate (1+rate)^n / ((1+rate)^n - 1) for asset life n::

    energy   [k,r] = IT_k PUE[k,r] util_k 8760 price_r                       USD/yr
    carbon   [k,r] = IT_k PUE[k,r] util_k 8760 co2_r carbon_price_country(r)  USD/yr
    capital  [k,r] = IT_k capex_r CRF                                         USD/yr
    min  sum_{k,r} (energy + carbon + capital)[k,r] S_k x[k,r]
       + sum_{g,tau} 1000 cost_g CRF (sum_{t >= tau} d_t) new[g,tau]          (expansion, USD/kW)
       + sum_k penalty IT_k util_k 8760 S_k u[k]                              (unserved)
       + sum_{k,r} pair_cost[k,r] x[k,r]                                         (pair, present value)
       + sum_s F_s open[s]                                                       (fixed, one-off site development)

With time to power, a pair whose online year s is later than its cluster's
requested year o_k pays for the compute forgone in the years between, and a
cluster that accepts curtailment pays for the compute curtailed (delay cost
delta, USD per MW of IT per year; ``time_to_power.price_curtailment``)::

       + sum_{k,r,s} delta IT_k (sum_{o_k <= t < s} d_t) x[k,r,s]               (delay)
       + sum_{k,r,s} (a_k / 100) delta IT_k S(s) x[k,r,s]                         (curtailment)

With on-site power (``onsite.py``), per MW built in zone r, technology j, year
tau and per average MW generated in year t::

       + sum 1000 capex_rj CRF (sum_{t >= tau} d_t) build[r,j,tau]              (onsite_capital)
       + sum 1000 fom_j (sum_{t >= tau} d_t) build[r,j,tau]
         + sum 8760 d_t vom_j gen[r,j,t]                                        (onsite_om)
       + sum 8760 d_t hr_j fuel_r gen[r,j,t]                                    (onsite_fuel)
       + sum 8760 d_t ef_j cp_country(r) gen[r,j,t]                             (onsite_carbon)
       - sum 8760 d_t (price_r + co2_r cp_country(r)) gen[r,j,t]               (grid_energy_displaced)

Annualising capital over the asset life (rather than charging it up front)
keeps the horizon's end from favouring late builds.
"""

from __future__ import annotations

import math

import numpy as np

from planner.inputs import Inputs
from planner.model.core import Columns

HOURS_PER_YEAR = 8760.0


def capital_recovery_factor(rate: float, life_years: float) -> float:
    """Annuity factor turning an overnight cost into equal yearly payments."""
    if rate == 0:
        return 1.0 / life_years
    growth = math.expm1(life_years * math.log1p(rate))  # (1+rate)^n - 1, accurate for tiny rates
    return rate * (1.0 + growth) / growth


def present_value_sums(inputs: Inputs, from_years: np.ndarray) -> np.ndarray:
    """``sum_{t >= from_year} d_t`` for each entry of *from_years*."""
    d = inputs.discount.to_numpy()
    tail = np.cumsum(d[::-1])[::-1]  # tail[i] = sum_{j >= i} d_j
    return tail[np.asarray(from_years, dtype=int) - int(inputs.years[0])]


def annual_pair_costs(inputs: Inputs, pairs) -> dict[str, np.ndarray]:
    """Annual energy, carbon and capital cost of placing each pair's whole cluster, USD/yr."""
    crf = capital_recovery_factor(inputs.scenario.discount_rate, inputs.parameters["asset_life_years"])
    mwh = (pairs["it_load_mw"] * pairs["pue"] * pairs["utilisation"]).to_numpy() * HOURS_PER_YEAR
    return {
        "energy": mwh * pairs["price_usd_per_mwh"].to_numpy(),
        "carbon": mwh * pairs["co2_tco2_per_mwh"].to_numpy() * pairs["carbon_price_usd_per_tco2"].to_numpy(),
        "capital": pairs["it_load_mw"].to_numpy() * pairs["capex_usd_per_mw"].to_numpy() * crf,
    }


def objective_parts(inputs: Inputs, cols: Columns) -> dict[str, np.ndarray]:
    """One full-length cost vector (USD, present value) per objective part."""
    n = cols.n
    names = ["energy", "carbon", "capital", "expansion", "unserved", "pair", "fixed"]
    if inputs.scenario.time_to_power.enabled:
        names += ["delay", "curtailment"]
    if cols.n_onsite:
        names += ["onsite_capital", "onsite_om", "onsite_fuel", "onsite_carbon", "grid_energy_displaced"]
    parts = {name: np.zeros(n) for name in names}
    pairs = cols.pairs
    s_pair = present_value_sums(inputs, pairs["online_year"].to_numpy())
    for name, annual in annual_pair_costs(inputs, pairs).items():
        parts[name][cols.x] = annual * s_pair

    cl = inputs.clusters.loc[cols.clusters]
    s_k = present_value_sums(inputs, cl["online_year"].to_numpy())
    penalty = inputs.parameters["unserved_penalty_usd_per_mwh"]
    parts["unserved"][cols.u] = penalty * (cl["it_load_mw"] * cl["utilisation"]).to_numpy() * HOURS_PER_YEAR * s_k

    if cols.n_new:
        crf = capital_recovery_factor(inputs.scenario.discount_rate, inputs.parameters["asset_life_years"])
        s_new = present_value_sums(inputs, cols.new["year"].to_numpy())
        parts["expansion"][cols.new_slice] = cols.new["cost_usd_per_kw"].to_numpy() * 1000.0 * crf * s_new
    parts["pair"][cols.x] = pairs["pair_cost_usd"].to_numpy(dtype=float)
    if cols.n_open:
        parts["fixed"][cols.open_slice] = cols.sites["fixed_cost_usd"].to_numpy(dtype=float)
    if inputs.scenario.time_to_power.enabled:
        _time_to_power_costs(inputs, cols, parts, s_pair)
    if cols.n_onsite:
        _onsite_costs(inputs, cols, parts)
    return parts


def delay_pv_sums(inputs: Inputs, requested: np.ndarray, online: np.ndarray) -> np.ndarray:
    """``sum_{requested <= t < online} d_t``: the discounted years a pair is late."""
    return present_value_sums(inputs, requested) - present_value_sums(inputs, online)


def _time_to_power_costs(inputs: Inputs, cols: Columns, parts: dict[str, np.ndarray], s_pair: np.ndarray) -> None:
    pairs = cols.pairs
    delta = inputs.delay_cost_usd_per_mw_yr
    it = pairs["it_load_mw"].to_numpy(dtype=float)
    late = delay_pv_sums(inputs, pairs["requested_online_year"].to_numpy(), pairs["online_year"].to_numpy())
    parts["delay"][cols.x] = delta * it * late
    if inputs.scenario.time_to_power.price_curtailment:
        parts["curtailment"][cols.x] = pairs["curtailment_pct"].to_numpy(dtype=float) / 100.0 * delta * it * s_pair


def _onsite_costs(inputs: Inputs, cols: Columns, parts: dict[str, np.ndarray]) -> None:
    opts = inputs.onsite[inputs.onsite["region_id"].isin(cols.zone_ids)].reset_index(drop=True)
    crf = capital_recovery_factor(inputs.scenario.discount_rate, inputs.parameters["asset_life_years"])
    b = cols.build
    ob = opts.iloc[b["option"].to_numpy()]
    s_build = present_value_sums(inputs, b["year"].to_numpy())
    parts["onsite_capital"][cols.build_slice] = 1000.0 * ob["capex_usd_per_kw"].to_numpy() * crf * s_build
    parts["onsite_om"][cols.build_slice] = 1000.0 * ob["fixed_om_usd_per_kw_yr"].to_numpy() * s_build
    g = cols.gen
    og = opts.iloc[g["option"].to_numpy()]
    per_mwa = HOURS_PER_YEAR * inputs.discount.reindex(g["year"].to_numpy()).to_numpy()
    reg = inputs.regions.loc[g["region_id"].to_numpy()]
    cp = reg["carbon_price_usd_per_tco2"].to_numpy(dtype=float)
    parts["onsite_om"][cols.gen_slice] = per_mwa * og["variable_om_usd_per_mwh"].to_numpy()
    parts["onsite_fuel"][cols.gen_slice] = per_mwa * og["heat_rate_mmbtu_per_mwh"].to_numpy() * og["fuel_price_usd_per_mmbtu"].to_numpy()
    parts["onsite_carbon"][cols.gen_slice] = per_mwa * og["emissions_tco2_per_mwh"].to_numpy() * cp
    grid = reg["industrial_price_usd_per_mwh"].to_numpy(dtype=float) + reg["co2_tco2_per_mwh"].to_numpy(dtype=float) * cp
    parts["grid_energy_displaced"][cols.gen_slice] = -per_mwa * grid

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
    parts = {name: np.zeros(n) for name in ("energy", "carbon", "capital", "expansion", "unserved", "pair", "fixed")}
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
    return parts

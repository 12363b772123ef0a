"""New grid capacity: which ``new[g, t]`` variables exist, and their bounds.

For grid region g with an expansion option (lead time L_g years, at most
M_g MW per year), capacity can come online from year ``first_year + L_g``::

    0 <= new[g, t] <= M_g      for t >= first_year + L_g
    new[g, t] does not exist   for t <  first_year + L_g   (or if M_g = 0)

New capacity is firm: once online it adds to the headroom at every
curtailment level in every later year (see ``headroom.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.fastindex import present
from planner.inputs import Inputs


def new_capacity_columns(inputs: Inputs) -> pd.DataFrame:
    """One row per ``new[g, t]`` variable: grid_region_id, year, upper_mw, cost_usd_per_kw."""
    g = inputs.grid_regions.sort_index()  # canonical order, whatever the table's row order
    used = g.index.isin(present(inputs.pairs["grid_region_id"]))
    g = g[used & (g["expansion_max_mw_per_year"] > 0)]
    first = int(inputs.years[0])
    gi = np.repeat(np.arange(len(g)), len(inputs.years))
    years = np.tile(inputs.years, len(g))
    ok = years >= first + g["expansion_lead_time_years"].to_numpy()[gi]
    return pd.DataFrame(
        {
            "grid_region_id": g.index.to_numpy()[gi][ok],
            "year": years[ok].astype(int),
            "upper_mw": g["expansion_max_mw_per_year"].to_numpy()[gi][ok],
            "cost_usd_per_kw": g["expansion_cost_usd_per_kw"].to_numpy()[gi][ok],
        }
    )

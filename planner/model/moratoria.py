"""Moratoria: no load in a region whose moratorium window holds the cluster's online year.

For every applied moratorium m on region r with window [from_m, until_m]
(inclusive years) and every cluster k with online year o_k::

    x[k, r] = 0      if from_m <= o_k <= until_m

Which moratoria apply is a scenario choice (``moratoria:`` ids or
``status:`` selectors, plus ``extra_moratoria``); ``inputs.py`` matches
windows to pairs and records the moratorium in ``pairs.blocked_by``. This
family is a set of *bounds*, not rows, so a what-if that lifts or spreads a
moratorium changes bounds only and never rebuilds the model.
"""

from __future__ import annotations

import numpy as np

from planner.inputs import Inputs


def moratorium_upper_bounds(inputs: Inputs) -> np.ndarray:
    """Upper bound of each ``x`` column: 0 where a moratorium applies, else 1."""
    return np.where(inputs.pairs["blocked_by"].to_numpy() != "", 0.0, 1.0)

"""Moratoria: no load where an applied measure blocks a cluster.

For every applied measure m and every eligible pair (cluster k, location r)::

    x[k, r] = 0      if m covers r, m's window blocks k, and k is at least m's size threshold

*Covers* (``planner.inputs._moratorium_blocks``):

* a **state** measure covers every zone of its state (its ``region_id`` is a
  state id such as ``US-IL``, or one zone id);
* a **county, city or utility** measure covers the candidate sites inside its
  county polygon (``datasets/jurisdictions.geojson``, a spatial join) in a
  sites study. In a region-level study it blocks no pair: it removes its
  documented share of its zone's capacity instead (``zone_capacity_share``,
  applied by ``planner.inputs.local_zone_limits`` as a lower
  ``max_new_load_mw`` on the zone, which the region-limit rows enforce), so a
  local measure never closes its state.

*Blocks* (``planner.inputs.moratorium_window_hits``), with the window
``[from_m, until_m]`` (inclusive years), the cluster's online year ``o_k`` and
its approval lead ``L_k`` (``approval_lead_years``: per cluster in the
scenario, else the parameter, default 3)::

    approvals      from_m <= o_k - L_k <= until_m        (approval needed inside the window)
    construction   [o_k - L_k, o_k] overlaps the window  (being built inside it)
    connections    from_m <= o_k <= until_m              (connecting inside it; also the 0.1.0 kinds)

*Size*: a measure with ``size_threshold_mw`` (New York's 20 MW) blocks only
clusters whose grid load (IT load x PUE) is at least the threshold.

Which measures apply is a scenario choice (``moratoria:`` ids or
``status:`` selectors, plus ``extra_moratoria``); ``inputs.py`` records the
blocking measure per pair in ``pairs.blocked_by``. This family is a set of
*bounds*, not rows, so a what-if that lifts or spreads a state moratorium
changes bounds only and never rebuilds the model.
"""

from __future__ import annotations

import numpy as np

from planner.inputs import Inputs


def moratorium_upper_bounds(inputs: Inputs) -> np.ndarray:
    """Upper bound of each ``x`` column: 0 where a moratorium applies, else 1."""
    return np.where((inputs.pairs["blocked_by"] != "").to_numpy(dtype=bool), 0.0, 1.0)

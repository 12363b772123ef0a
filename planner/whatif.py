"""Fast what-ifs: keep the model in HiGHS and re-solve from the previous basis.

A what-if that changes only costs or limits (prices, carbon, headroom,
moratorium windows, expansion cost or yearly cap) leaves the LP's structure
alone. :class:`WhatIf` rebuilds the cheap arrays for the new scenario, checks
that the structure (columns, rows and matrix) is unchanged, and passes only the
changed costs and bounds to the HiGHS instance it keeps, which then re-solves
warm from its last basis. A change of structure (a new cluster, a latency
limit that changes eligibility, a lead time) falls back to a fresh build.

>>> import planner
>>> from planner.whatif import WhatIf
>>> w = WhatIf(planner.load_scenario("scenarios/us_china_2030.yaml"))
>>> base = w.result
>>> r = w.solve(["carbon_price_usd_per_tco2.US=100"])     # a re-solve, not a rebuild
>>> w.last_mode
'resolve'
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from planner.api import finish
from planner.data.load import Tables, load_tables
from planner.inputs import build_inputs, dataset_paths, supply_table_names, supply_tables
from planner.model.assemble import build_model
from planner.model.core import Model
from planner.result import Result
from planner.scenario import Scenario
from planner.solver import COST_SCALE, highs_instance, run_highs


class WhatIf:
    """A scenario kept solved in HiGHS, for cheap variations of it.

    Parameters
    ----------
    scenario
        The base scenario; it is solved on construction (``self.result``).
    tables
        Data tables (default: the scenario's datasets, read once).
    """

    def __init__(self, scenario: Scenario, tables: Tables | None = None) -> None:
        self.base = scenario
        self._given_tables = tables
        self._tables_key = tuple(sorted(dataset_paths(scenario).items()))
        self.tables = tables or load_tables(dataset_paths(scenario))
        self._supply: tuple[tuple, Any] = ((), None)  # (key, tables): read once while the key holds
        self.model: Model | None = None
        self.h: Any = None  # the highspy.Highs holding self.model
        self.last_mode = "build"
        self.result = self.solve(scenario)

    def solve(self, change: Scenario | list[str] | dict) -> Result:
        """Solve a variation: a Scenario, or ``--set``-style overrides of the base scenario."""
        scenario = change if isinstance(change, Scenario) else self.base.with_overrides(change)
        key = tuple(sorted(dataset_paths(scenario).items()))
        if key != self._tables_key and self._given_tables is None:  # a what-if on the data tables themselves
            self.tables, self._tables_key = load_tables(dict(key)), key
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        skey = (supply_table_names(scenario), key)
        if skey != self._supply[0]:
            self._supply = (skey, supply_tables(scenario))
        inputs = build_inputs(scenario, self.tables, self._supply[1])
        timings["inputs"] = time.perf_counter() - t0
        model = build_model(inputs)
        timings["build"] = model.build_seconds
        t1 = time.perf_counter()
        cfg = scenario.solver
        if self.model is not None and _same_structure(self.model, model):
            self._push_changes(model)
            assert self.h is not None
            for name, value in (("threads", int(cfg.threads)), ("mip_rel_gap", float(cfg.mip_gap))):
                self.h.setOptionValue(name, value)
            self.last_mode = "resolve"
        else:
            self.h = highs_instance(model, cfg.time_limit_s, cfg.threads, cfg.mip_gap)
            self.last_mode = "build"
        self.model = model  # HiGHS now holds this model, whatever the solve brings
        timings["update" if self.last_mode == "resolve" else "pass_model"] = time.perf_counter() - t1
        sol = run_highs(self.h, model, cfg.time_limit_s)
        timings["solve"] = sol.solve_seconds
        result = finish(inputs, model, sol, timings, h=self.h)
        result.summary["solve_mode"] = self.last_mode
        return result

    # ------------------------------------------------------------------ internals

    def _push_changes(self, new: Model) -> None:
        import highspy

        old = self.model
        assert old is not None and self.h is not None, "a re-solve needs a solved model"
        inf = highspy.kHighsInf
        cols = np.flatnonzero(old.c != new.c)
        if len(cols):
            self.h.changeColsCost(len(cols), cols.astype(np.int32), new.c[cols] * COST_SCALE)
        cols = np.flatnonzero((old.lower != new.lower) | (old.upper != new.upper))
        if len(cols):
            self.h.changeColsBounds(len(cols), cols.astype(np.int32), new.lower[cols], new.upper[cols])
        rows = np.flatnonzero((old.row_lower != new.row_lower) | (old.row_upper != new.row_upper))
        if len(rows):
            lo = np.where(np.isneginf(new.row_lower[rows]), -inf, new.row_lower[rows])
            hi = np.where(np.isposinf(new.row_upper[rows]), inf, new.row_upper[rows])
            self.h.changeRowsBounds(len(rows), rows.astype(np.int32), lo, hi)


def _same_structure(a: Model, b: Model) -> bool:
    """Same columns (and integrality), same rows and the same matrix (pattern and values)."""
    if a.A.shape != b.A.shape or a.A.nnz != b.A.nnz or not np.array_equal(a.integrality, b.integrality):
        return False
    ca, cb = a.columns, b.columns
    if not (
        ca.pairs[["cluster_id", "region_id"]].equals(cb.pairs[["cluster_id", "region_id"]])
        and ca.clusters.equals(cb.clusters)
        and ca.new[["grid_region_id", "year"]].equals(cb.new[["grid_region_id", "year"]])
        and a.row_keys.keys() == b.row_keys.keys()
        and all(a.row_keys[k].equals(b.row_keys[k]) for k in a.row_keys)
    ):
        return False
    return (
        np.array_equal(a.A.indptr, b.A.indptr)
        and np.array_equal(a.A.indices, b.A.indices)
        and np.array_equal(a.A.data, b.A.data)
    )

"""The Python entry points: load a scenario, solve it, get a Result."""

from __future__ import annotations

import time

import numpy as np

from planner.data.load import Tables, load_tables
from planner.checks import warnings_for
from planner.colgen import solve_by_column_generation, use_column_generation
from planner.errors import SolverError
from planner.inputs import Inputs, dataset_paths, build_inputs
from planner.io import fault_point
from planner.model.assemble import build_model
from planner.model.core import Model
from planner.model.prune import expand_to, prune_enabled, prune_model
from planner.result import Result, make_result, report_tasks, unserved_warnings
from planner.scenario import Scenario
from planner.marginals import marginals_for
from planner.memory import planner_arrays, reuse_freed_blocks
from planner.ranges import equal_cost_ranges
from planner.solver import STATUS_EXIT_CODES, Meanwhile, Solution, highs_instance, run_highs, solve_model


@planner_arrays()
def solve(scenario: Scenario, tables: Tables | None = None, solver: str | None = None,
          built: tuple[Inputs, Model] | None = None, marginals: str | None = None) -> Result:
    """Solve *scenario* end to end and return its :class:`~planner.result.Result`.

    Parameters
    ----------
    scenario
        From :func:`planner.load_scenario`.
    tables
        Pre-loaded data tables (default: read the scenario's datasets).
    solver
        ``highs`` or ``cbc``; default: the scenario's ``solver.name``.
    built
        ``(inputs, model)`` from :func:`build` for this scenario, to solve without building again.
    marginals
        ``binding`` (default), ``all`` or ``none``: which limits get one-sided marginal values
        (see :mod:`planner.marginals`); default: the scenario's ``solver.marginals``.

    Examples
    --------
    >>> import planner
    >>> result = planner.solve(planner.load_scenario("scenarios/us_china_2030.yaml"))
    >>> result.summary["status"]
    'optimal'
    """
    timings: dict[str, float] = {}
    if built is None:
        with reuse_freed_blocks():  # given back before HiGHS takes its own memory (planner.memory)
            t0 = time.perf_counter()
            if tables is None:
                tables = load_tables(dataset_paths(scenario))
                timings["load_data"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            inputs = build_inputs(scenario, tables)
            timings["inputs"] = time.perf_counter() - t0
            model = full = build_model(inputs)
            if prune_enabled(scenario):  # exact; only for this one solve (a what-if or sweep moving costs keeps every pair)
                model = prune_model(model)
    else:
        inputs, model = built
        full = model
    timings["build"] = model.build_seconds
    cfg = scenario.solver
    fault_point("solve")
    h = None
    # the report's entries that need no solution are worked out while HiGHS runs (on the other core)
    meanwhile = report_meanwhile(inputs, model)
    if use_column_generation(model, cfg.column_generation, solver or cfg.name):
        sol = solve_by_column_generation(model, cfg.time_limit_s, cfg.threads, cfg.log, meanwhile)  # the full LP is never loaded
    elif (solver or cfg.name) == "highs":  # keep the instance: the marginal values re-solve it warm
        h = highs_instance(model, cfg.time_limit_s, cfg.threads, cfg.mip_gap, cfg.log)
        sol = run_highs(h, model, cfg.time_limit_s, meanwhile)
        if cfg.log:
            h.setOptionValue("output_flag", False)  # the marginal values' re-solves stay quiet
    else:
        sol = solve_model(model, solver or cfg.name, cfg.time_limit_s, cfg.threads, cfg.mip_gap, cfg.log)
    timings["solve"] = sol.solve_seconds
    return finish(inputs, model, sol, timings, h=h, marginals=marginals, full=full, meanwhile=meanwhile)


#: Above this many (cluster, place) pairs, ``solver.marginals: auto`` skips the marginal values (measured:
#: 0.4 s on the reference, 0.6 s at 5,000 pairs, 8 s at 69,000, minutes at 780,000; docs/formulation.md).
AUTO_MARGINALS_MAX_PAIRS = 20_000


def finish(inputs: Inputs, model: Model, sol: Solution, timings: dict[str, float], h=None,
           marginals: str | None = None, full: Model | None = None, meanwhile: Meanwhile | None = None) -> Result:
    """Check the solver's answer and turn it into a Result with its warnings (shared by every solve path).

    *h* is a HiGHS instance holding *model* at *sol* (re-used warm for the marginal values, and
    left as it was); *marginals* is ``binding``, ``all`` or ``none`` (default: the scenario's
    ``solver.marginals``). *full* is the model before dominated pairs were pruned: the equal-cost
    ranges are taken over it (a pruned twin of equal cost is a least-cost alternative too). *meanwhile*
    holds the report's entries the solve worked out while HiGHS ran (:func:`report_meanwhile`); any not
    done yet are done here.
    """
    check_usable(sol, inputs.scenario)
    t0 = time.perf_counter()
    mode = marginals or inputs.scenario.solver.marginals
    if mode == "auto":
        mode = "binding" if model.columns.n_x <= AUTO_MARGINALS_MAX_PAIRS else "none"
    marg = marginals_for(model, sol, mode, h)
    timings["marginals"] = marg.seconds
    meanwhile = meanwhile if meanwhile is not None else report_meanwhile(inputs, model)
    result = make_result(inputs, model, sol, timings, marg, meanwhile)
    if marg.mode not in ("none", "unavailable"):  # computed with the marginal values (the same size rule)
        cfg = inputs.scenario.solver
        if full is not None and model.pruned_pairs:
            ranges = equal_cost_ranges(inputs, full, expand_to(full, sol.values), None, cfg.time_limit_s, cfg.threads)
        else:
            ranges = equal_cost_ranges(inputs, model, sol.values, h, cfg.time_limit_s, cfg.threads)
        result.summary["timings_s"]["equal_cost_ranges"] = ranges.pop("seconds")
        result.summary["equal_cost_ranges"] = ranges
    result.summary["timings_s"]["result"] = round(time.perf_counter() - t0, 4)
    result.summary["warnings"] = meanwhile.get("warnings") + unserved_warnings(result)
    return result


def report_meanwhile(inputs: Inputs, model: Model) -> Meanwhile:
    """The report's entries that need no solution (summary entries, the zones' moratorium flags, the
    warnings), as tasks a HiGHS solve runs while HiGHS runs on the other core."""
    return Meanwhile({**report_tasks(inputs, model), "warnings": lambda: warnings_for(inputs)})


def check_usable(sol: Solution, scenario: Scenario) -> None:
    """Raise :class:`SolverError` when the solver returned no solution to report."""
    if sol.status == "optimal" or (sol.status == "time_limit" and np.isfinite(sol.objective_usd)):
        return
    if sol.status == "time_limit":
        raise SolverError(
            f"{scenario.source}: the solver reached its time limit ({scenario.solver.time_limit_s:g} s) before finding "
            "a feasible solution; raise solver.time_limit_s",
            exit_code=STATUS_EXIT_CODES["time_limit"],
        )
    raise SolverError(f"{scenario.source}: the solver returned {sol.status} ({sol.message}); no solution to report")


@planner_arrays()
def build(scenario: Scenario, tables: Tables | None = None):
    """Inputs and Model for *scenario*, without solving (for inspection or export)."""
    with reuse_freed_blocks():
        inputs: Inputs = build_inputs(scenario, tables)
        return inputs, build_model(inputs)

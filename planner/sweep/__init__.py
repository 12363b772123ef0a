"""Sweeps: many variations of one scenario, solved warm, serially or on Dask.

A *case* is a mapping of ``--set``-style dotted keys to values, e.g.
``{"carbon_price_usd_per_tco2.US": 50, "moratoria": []}``. Cases come from

* a full grid (:func:`grid_cases`, ``--vary KEY=V1,V2``; several keys give the
  cartesian product),
* Monte Carlo draws from distributions (:func:`monte_carlo_cases`,
  ``--samples N --seed S`` with a sweep file; ``--sampling latin_hypercube`` or
  ``sobol`` for :func:`latin_hypercube_cases` and :func:`sobol_cases`), or
* a tornado: each key one at a time at its low and its high value, the others
  at base (:func:`tornado_cases`, ``--tornado``).

The package has three parts:

* :mod:`planner.sweep.cases`: case generation, sweep files, validation;
* :mod:`planner.sweep.engine` and :mod:`planner.sweep.execute`: solving (the
  model kept in HiGHS per process, an affine fast path for cost-only keys,
  batches of cases per task), serially or on Dask, with checkpoints, resume,
  scheduler-loss and worker-loss handling, TLS;
* :mod:`planner.sweep.outputs`: the plots, the tornado table, the summary line.

>>> from planner.sweep import grid_cases, run_sweep
>>> cases = grid_cases({"carbon_price_usd_per_tco2.US": [0, 50, 100]})
>>> df = run_sweep("scenarios/us_china_2030.yaml", cases, scheduler="serial")
>>> df[["carbon_price_usd_per_tco2.US", "objective_usd"]]
"""

from __future__ import annotations

from planner.sweep.cases import (
    DISTRIBUTIONS,
    SWEEP_FILE_KEYS,
    SweepSpec,
    distribution_range,
    grid_cases,
    SAMPLING,
    is_sweep_file,
    latin_hypercube_cases,
    make_spec,
    monte_carlo_cases,
    sobol_cases,
    parse_vary,
    tornado_cases,
    validate_values,
    vary_range,
)
from planner.sweep.common import (
    COUNTRIES,
    EXIT_INTERRUPTED,
    EXIT_SCHEDULER_LOST,
    ResumeError,
    SchedulerLost,
    SweepError,
    SweepInterrupted,
)
from planner.sweep.engine import SweepPlan, make_plan, row_kernel, run_batch
from planner.sweep.execute import (
    CONNECT_TIMEOUT_S,
    SCHEDULER_TIMEOUT_S,
    read_checkpoint,
    run_sweep,
    security_from,
    stored_sweep,
    write_outputs,
)
from planner.sweep.outputs import plot_response, plot_tornado, summary_line, tornado_table

__all__ = [
    "CONNECT_TIMEOUT_S", "COUNTRIES", "DISTRIBUTIONS", "EXIT_INTERRUPTED", "EXIT_SCHEDULER_LOST",
    "SAMPLING", "SCHEDULER_TIMEOUT_S", "SWEEP_FILE_KEYS", "ResumeError", "SchedulerLost", "SweepError", "SweepInterrupted",
    "SweepPlan", "SweepSpec", "distribution_range", "grid_cases", "is_sweep_file", "latin_hypercube_cases", "make_plan", "make_spec",
    "monte_carlo_cases", "parse_vary", "plot_response", "plot_tornado", "read_checkpoint", "row_kernel",
    "run_batch", "run_sweep", "security_from", "sobol_cases", "stored_sweep", "summary_line", "tornado_cases", "tornado_table",
    "validate_values", "vary_range", "write_outputs",
]

"""Solving a Model: HiGHS through highspy, or any PuLP solver through the PuLP export.

The solve step only passes arrays to a solver, checks the status and maps the
answer back through the Model's index into a :class:`Solution`. It holds no
business logic. Costs go to the solver in millions of USD (``COST_SCALE``) so
the objective's coefficients stay near 1; values and duals come back in USD.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.errors import SolverError
from planner.model.core import Model

COST_SCALE = 1e-6  # USD -> MUSD for the solver

#: Status strings written to summary.json, and the CLI exit code of each.
STATUS_EXIT_CODES = {"optimal": 0, "time_limit": 4, "infeasible": 3, "unbounded": 3, "error": 3}


@dataclass
class Solution:
    """What the solver returned, in model units (USD, MW, shares)."""

    status: str
    solver: str
    objective_usd: float
    values: np.ndarray
    row_duals_usd: np.ndarray | None
    solve_seconds: float
    message: str = ""
    mip: dict | None = None  # for a MILP: gap, best bound, time limit, and how the duals were obtained
    column_generation: dict | None = None  # rounds, pairs loaded, HiGHS's own seconds (planner/colgen.py)


def solve_model(
    model: Model, solver: str = "highs", time_limit_s: float = 300.0, threads: int = 1, mip_gap: float = 1e-4,
    log: bool = False,
) -> Solution:
    """Solve *model* with ``highs`` (highspy) or ``cbc`` (PuLP's bundled CBC).

    A MILP (indivisible clusters, candidate sites) is solved to the relative
    gap *mip_gap*; its duals are those of the LP with the integer choices
    fixed at their optimal values (shadow prices are not defined for a MILP).
    """
    if solver == "highs":
        return run_highs(highs_instance(model, time_limit_s, threads, mip_gap, log), model, time_limit_s)
    if solver == "cbc":
        return solve_with_pulp(model, time_limit_s, mip_gap=mip_gap, log=log)
    raise SolverError(f"unknown solver {solver!r}; expected highs or cbc")


# --------------------------------------------------------------------------- HiGHS


def _quiet_highs():
    """A silent ``highspy.Highs``. Its first construction prints a banner to fd 1; keep it off stdout."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def configured_highs(time_limit_s: float = 300.0, threads: int = 1, mip_gap: float = 1e-4, log: bool = False,
                     presolve: bool = False):
    """An empty, quiet ``highspy.Highs`` with the planner's options (the model is added by the caller).

    With *log*, HiGHS's own log goes to stderr during :func:`run_logged` (stdout stays the report's).
    """
    h = _quiet_highs()
    if log:
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", True)
    h.setOptionValue("time_limit", float(time_limit_s))
    set_time_limit(h, time_limit_s)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    # presolve costs more than it saves on this LP shape (benchmarks/highs_options.py, 2026-11-29, CPU s:
    # size 3 0.70 with presolve, 0.30 without; size 4 21.4 against 18.5); a MILP keeps it for branch and bound.
    # No other option was faster beyond noise (docs/performance.md, "HiGHS options and exact solver-side ideas")
    h.setOptionValue("presolve", "on" if presolve else "off")
    return h


def add_rows(h, model: Model) -> None:
    """Add *model*'s rows to *h*, without coefficients (the columns bring them)."""
    import highspy

    inf, f64, i32 = highspy.kHighsInf, np.float64, np.int32
    status = h.addRows(
        model.A.shape[0],
        np.where(np.isneginf(model.row_lower), -inf, model.row_lower).astype(f64),
        np.where(np.isposinf(model.row_upper), inf, model.row_upper).astype(f64),
        0, np.zeros(0, dtype=i32), np.zeros(0, dtype=i32), np.zeros(0, dtype=f64),
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError(f"HiGHS rejected the model's rows ({status})")


def add_columns(h, model: Model, cols: np.ndarray | None = None, lower: np.ndarray | None = None) -> None:
    """Add *model*'s columns (all, or those at positions *cols*) to *h*, with costs scaled by COST_SCALE.

    *lower* replaces the columns' lower bounds (one per column added). The array calls take numpy
    buffers as they are (a HighsLp would copy 14 M nonzeros element by element, ~1 s at national site scale).
    """
    import highspy

    csc = model.A if model.A.format == "csc" else model.A.tocsc()
    c, low, upper = model.c, model.lower, model.upper
    if cols is not None:
        csc, c, low, upper = csc[:, cols], c[cols], low[cols], upper[cols]
    lower = low if lower is None else lower
    f64, i32 = np.float64, np.int32
    status = h.addCols(
        csc.shape[1],
        np.ascontiguousarray(c * COST_SCALE, dtype=f64),
        np.ascontiguousarray(lower, dtype=f64),
        np.ascontiguousarray(upper, dtype=f64),
        csc.nnz, csc.indptr[:-1].astype(i32), csc.indices.astype(i32), np.ascontiguousarray(csc.data, dtype=f64),
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError(f"HiGHS rejected the model's columns ({status})")


def highs_instance(model: Model, time_limit_s: float = 300.0, threads: int = 1, mip_gap: float = 1e-4,
                   log: bool = False):
    """A ``highspy.Highs`` holding the model, ready to ``run()`` (and to update for a re-solve).

    With *log*, HiGHS's own log goes to stderr during :func:`run_highs` (stdout stays the report's).
    """
    import highspy

    h = configured_highs(time_limit_s, threads, mip_gap, log, presolve=model.is_mip)
    add_rows(h, model)  # rows first, then the columns with their coefficients
    add_columns(h, model)
    if model.is_mip:
        n = model.columns.n
        status = h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), model.integrality.astype(np.uint8))
        if status == highspy.HighsStatus.kError:
            raise SolverError(f"HiGHS rejected the model ({status})")
    return h


class Meanwhile:
    """Work that needs no solution, done on the calling thread while HiGHS runs on a thread of its own.

    HiGHS releases the GIL while it runs, so on two cores the planner's report entries that do not
    depend on the plan (warnings, versions, the scenario's hash, ...) cost no time of the solve's.
    :func:`run_limited` runs the tasks in order, one at a time, for as long as HiGHS runs (a task
    started just before HiGHS ends still runs to its end); :meth:`get` gives a task's value, and
    computes it then if the solve ended first, so the values are the same either way. A task that
    raised raises again from :meth:`get`, where the caller would have computed it.
    """

    def __init__(self, tasks: dict[str, Callable[[], object]] | None = None):
        self._todo: deque[tuple[str, Callable[[], object]]] = deque((tasks or {}).items())
        self._done: dict[str, tuple[object, Exception | None]] = {}

    @property
    def pending(self) -> bool:
        return bool(self._todo)

    def step(self) -> None:
        """Run the next task."""
        name, task = self._todo.popleft()
        try:
            self._done[name] = (task(), None)
        except Exception as exc:  # noqa: BLE001 - kept for get(), which raises it where it is asked for
            self._done[name] = (None, exc)

    def get(self, name: str):
        """The value of task *name* (run now, with those before it, if not yet done)."""
        while name not in self._done and self._todo:
            self.step()
        value, error = self._done[name]
        if error is not None:
            raise error
        return value


def set_time_limit(h, time_limit_s: float) -> None:
    """Give *h* a time limit per run (seconds). See :func:`run_limited`."""
    h.planner_time_limit_s = float(time_limit_s)


def run_limited(h, meanwhile: Meanwhile | None = None) -> None:
    """``h.run()`` with the instance's time limit for this run alone; with *meanwhile* tasks pending,
    HiGHS runs on its own thread (highspy's ``startSolve``) while they run on this one.

    HiGHS (1.16) holds its ``time_limit`` against the instance's run clock, which adds up every run:
    an instance kept for many re-solves (a sweep worker's cases, a what-if session, the marginal values)
    would end every run with "Time limit reached" and 0 iterations once its runs together passed the
    limit (seen with a 1 s limit after five 0.2 s re-solves of the reference). Each run gets the limit
    on top of the clock so far.
    """
    limit = getattr(h, "planner_time_limit_s", None)
    if limit is None:
        limit = float(h.getOptionValue("time_limit"))
        h.planner_time_limit_s = limit
    h.setOptionValue("time_limit", float(h.getRunTime()) + limit)
    if meanwhile is None or not meanwhile.pending:
        h.run()
        return
    h.startSolve()
    try:
        while meanwhile.pending and h.is_solver_running():
            meanwhile.step()
        while not h.wait(0.1)[0]:
            pass
    except BaseException:  # Ctrl-C: HiGHS stops at its next check; then the interrupt goes on
        h.cancelSolve()
        while not h.wait(0.1)[0]:
            pass
        raise


def run_logged(h, meanwhile: Meanwhile | None = None) -> None:
    """:func:`run_limited`, with HiGHS's log (when its output is on) sent to stderr: the report owns stdout."""
    if h.getOptionValue("output_flag"):
        with _stdout_to_stderr():  # the solver writes its log to fd 1 directly
            run_limited(h, meanwhile)
    else:
        run_limited(h, meanwhile)


def run_highs(h, model: Model, time_limit_s: float, meanwhile: Meanwhile | None = None) -> Solution:
    """Run a ``highspy.Highs`` holding *model* (from its last basis, if any) and read the solution
    (with *meanwhile*'s tasks run while it runs)."""
    t0 = time.perf_counter()
    set_time_limit(h, time_limit_s)
    run_logged(h, meanwhile)
    sol = read_highs(h, time.perf_counter() - t0)
    if model.is_mip:
        info = h.getInfo()
        sol.mip = {
            "gap": float(info.mip_gap),
            "best_bound_usd": float(info.mip_dual_bound) / COST_SCALE,
            "time_limit_s": float(time_limit_s),
            "duals": "LP with the integer choices fixed at the MILP solution",
        }
        if sol.status in ("optimal", "time_limit") and np.isfinite(sol.objective_usd):
            sol.row_duals_usd = fixed_lp_duals(model, sol.values)
    return sol


class _stdout_to_stderr:
    """Point file descriptor 1 at 2 while a solver writes its log (C code writes to fd 1 directly)."""

    def __enter__(self) -> None:
        sys.stdout.flush()
        self.saved = os.dup(1)
        os.dup2(2, 1)

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        os.dup2(self.saved, 1)
        os.close(self.saved)


def fixed_lp(model: Model, values: np.ndarray) -> Model:
    """The LP with every integer column of *model* fixed at its (rounded) value in *values*."""
    import copy

    fixed = copy.copy(model)
    lower, upper = model.lower.copy(), model.upper.copy()
    ints = model.integrality.astype(bool)
    lower[ints] = upper[ints] = np.round(values[ints])
    fixed.lower, fixed.upper = lower, upper
    fixed.integrality = np.zeros_like(model.integrality)
    return fixed


def fixed_lp_duals(model: Model, values: np.ndarray) -> np.ndarray | None:
    """Row duals of the LP with every integer column fixed at its (rounded) value."""
    h = highs_instance(fixed_lp(model, values))
    h.run()
    lp = read_highs(h, 0.0)
    return lp.row_duals_usd if lp.status == "optimal" else None


def read_highs(h, seconds: float) -> Solution:
    """Turn a solved ``highspy.Highs`` into a :class:`Solution`."""
    import highspy

    ms = h.getModelStatus()
    S = highspy.HighsModelStatus
    status = {
        S.kOptimal: "optimal",
        S.kTimeLimit: "time_limit",
        S.kInfeasible: "infeasible",
        S.kUnbounded: "unbounded",
        S.kUnboundedOrInfeasible: "infeasible",
    }.get(ms, "error")
    sol = h.getSolution()
    info = h.getInfo()
    if info.primal_solution_status != 2:  # 2 = feasible; anything else is not a usable answer
        n = h.getNumCol()
        return Solution(status if status != "optimal" else "error", "highs", float("nan"), np.full(n, np.nan), None, seconds,
                        h.modelStatusToString(ms))
    values = np.asarray(sol.col_value, dtype=float)
    duals = np.asarray(sol.row_dual, dtype=float) / COST_SCALE if sol.dual_valid else None
    objective = info.objective_function_value / COST_SCALE
    return Solution(status, "highs", objective, values, duals, seconds, h.modelStatusToString(ms))


# --------------------------------------------------------------------------- PuLP


def to_pulp(model: Model, name: str = "planner"):
    """Export *model* as a :class:`pulp.LpProblem` with the same variables, rows and costs.

    Names are the model's deterministic names (``x[c1,US-VA]``,
    ``headroom[PJM,2029,firm]``), sanitised for LP files by PuLP.
    """
    import pulp

    prob = pulp.LpProblem(name, pulp.LpMinimize)
    names = _pulp_names(model.columns.names(), "v")
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable  # PuLP >= 3.3 prefers add_variable
    ints = model.integrality if model.is_mip else np.zeros(len(names), dtype=np.int8)
    xs = [
        new_var(nm, lowBound=float(lo), upBound=None if np.isinf(up) else float(up),
                cat=pulp.LpInteger if i else pulp.LpContinuous)
        for nm, lo, up, i in zip(names, model.lower, model.upper, ints)
    ]
    prob += pulp.LpAffineExpression([(v, float(c * COST_SCALE)) for v, c in zip(xs, model.c) if c != 0.0])
    A = model.A.tocsr()
    for i, rn in enumerate(_pulp_names(model.row_names(), "r")):
        lo, hi = model.row_lower[i], model.row_upper[i]
        sl = slice(A.indptr[i], A.indptr[i + 1])
        expr = pulp.LpAffineExpression([(xs[j], float(a)) for j, a in zip(A.indices[sl], A.data[sl])])
        if lo == hi:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, rn, float(hi))
        else:
            if not np.isinf(hi):
                prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, rn, float(hi))
            if not np.isinf(lo):
                prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, rn + "_lo", float(lo))
    return prob


def solve_with_pulp(model: Model, time_limit_s: float = 300.0, pulp_solver=None, mip_gap: float = 1e-4,
                    log: bool = False) -> Solution:
    """Solve through the PuLP export (default: PuLP's bundled CBC; with *log*, its log on stderr)."""
    import pulp

    prob = to_pulp(model)
    solver = pulp_solver or pulp.PULP_CBC_CMD(msg=log, timeLimit=time_limit_s, gapRel=mip_gap)
    t0 = time.perf_counter()
    if log:
        with _stdout_to_stderr():
            prob.solve(solver)
    else:
        prob.solve(solver)
    seconds = time.perf_counter() - t0
    status = {1: "optimal", 0: "time_limit", -1: "infeasible", -2: "unbounded"}.get(prob.status, "error")
    if status == "optimal" and getattr(prob, "sol_status", 1) == pulp.LpSolutionIntegerFeasible:
        status = "time_limit"  # CBC stopped (time limit) with a feasible, not proven optimal, solution
    by_name = {v.name: v.varValue for v in prob.variables()}
    names = _pulp_names(model.columns.names(), "v")
    if status in ("optimal", "time_limit") and all(by_name.get(nm) is not None for nm in names):
        values = np.array([by_name[nm] for nm in names], dtype=float)
    else:
        values = np.full(len(names), np.nan)  # no solution: nothing to report, not zeros
    get = getattr(prob, "get_constraint_by_name", None) or prob.constraints.get
    try:
        rows = [get(r) for r in _pulp_names(model.row_names(), "r")]  # None: a row with no finite limit (not exported)
        duals = np.array([((c.pi or 0.0) if c is not None else 0.0) / COST_SCALE for c in rows], dtype=float)
    except (AttributeError, TypeError):
        duals = None
    objective = float(model.c @ values) if np.isfinite(values).all() else float("nan")
    mip = None
    if model.is_mip:
        mip = {"gap": None, "best_bound_usd": None, "time_limit_s": float(time_limit_s),
               "duals": "LP with the integer choices fixed at the MILP solution"}
        duals = fixed_lp_duals(model, values) if status == "optimal" else None
    name = getattr(solver, "name", "pulp")
    return Solution(status, name, objective, values, duals, seconds, pulp.LpStatus[prob.status], mip)


def write_lp(model: Model, path: str) -> None:
    """Write the model as an LP file (through PuLP)."""
    to_pulp(model).writeLP(path)


def _pulp_names(names: list[str], prefix: str) -> list[str]:
    """LP-file-safe names; if sanitising makes two equal, fall back to ``v0, v1, ...``."""
    safe = [_safe(n) for n in names]
    if len(set(safe)) != len(safe):
        return [f"{prefix}{i}" for i in range(len(names))]
    return safe


def _safe(name: str) -> str:
    out = []
    for ch in name:
        out.append(ch if ch.isalnum() or ch in "_[],.%" else "_")
    return "".join(out).replace("-", "_").replace("[", "(").replace("]", ")").replace("%", "pct").replace(",", ";").replace(".", "p")

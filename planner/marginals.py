"""One-sided marginal values of the reported limits, unique by construction.

A limit's solver dual is not a property of the scenario: where the LP has
several optimal solutions (it usually has), each optimal basis carries its own
duals, and HiGHS, CBC, a warm and a cold solve each pick one. What *is* unique
is the optimal cost z*(b) as a function of the limit b. It is convex and
piecewise linear in b, so it has two one-sided derivatives:

    value_of_plus_1mw  = -dz*/db+   what one more MW of the limit would save
    cost_of_minus_1mw  = -dz*/db-   what one MW less would cost

with ``0 <= value_of_plus_1mw <= cost_of_minus_1mw`` (a ``<=`` limit). Where
they are equal that is the price; where they differ the limit sits at a kink.

How they are computed (exactly, not by finite differences of objectives):
for a side s in {+1, -1} the limit is moved to ``b + s * delta`` and the LP is
re-solved warm from the base optimal basis B0. The new optimal basis B' is then
checked to be optimal at ``b`` as well (the bound is moved back and HiGHS
confirms B' with zero simplex iterations). B' is then optimal on the whole
segment between b and b + s*delta, so z* is linear there with slope equal to
B''s dual of the limit: that slope *is* the one-sided derivative, whatever
basis or solver found the base solution. If the check fails, delta shrinks
(1 MW, then 0.001 MW). A limit with slack in the base solution has both
values 0. A limit that cannot be lowered at all (the LP becomes infeasible for
every delta) has ``cost_of_minus_1mw = inf``.

Directions may move several rows at once. Headroom is nested by flexibility:
a MW of headroom at level c is also available to loads that accept more
curtailment, so "one more MW at level c" raises the rows of level c and every
more flexible level of that grid region and year; at the firm level that is
"one more firm MW", which the grid-region table reports. (The one-sided
derivative of a joint move is not the sum of the rows' own ones.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from planner.model.core import Model
from planner.solver import COST_SCALE, Solution, highs_instance, run_limited

#: First step, MW; a step that does not certify shrinks (x 0.001, or to half the distance to the kink found)
#: down to MIN_DELTA. A value that cannot be certified is reported as NaN, never as a guess.
DELTAS = (1.0,)
MIN_DELTA = 1e-7
#: Limits with at most this slack, relative to max(1, |limit|), are re-solved; the others are 0. Re-solving
#: a limit that has room gives 0 exactly, so a generous tolerance costs time, never accuracy.
BINDING_TOL = 1e-4
#: The row families whose limits the results report.
FAMILIES = ("headroom", "region_limit", "site_capacity")


@dataclass
class Marginals:
    """One-sided marginal values (USD, present value, per unit of the limit) by direction.

    ``rows[i]`` are the row indices moved together by direction i; ``plus[i]`` and ``minus[i]``
    are ``value_of_plus_1mw`` and ``cost_of_minus_1mw`` in present-value USD per MW (NaN where not
    computed). ``by_row`` maps a row index to its single-row direction.
    """

    rows: list[np.ndarray] = field(default_factory=list)
    plus: list[float] = field(default_factory=list)
    minus: list[float] = field(default_factory=list)
    by_row: dict[int, int] = field(default_factory=dict)
    joint: dict[tuple, int] = field(default_factory=dict)
    seconds: float = 0.0
    resolves: int = 0
    ratio_tests: int = 0
    mode: str = "binding"

    def row_values(self, row_slice: slice) -> tuple[np.ndarray, np.ndarray]:
        """(plus, minus) for every row of a block; NaN where not computed."""
        idx = range(row_slice.start, row_slice.stop)
        plus = np.array([self.plus[self.by_row[i]] if i in self.by_row else np.nan for i in idx], dtype=float)
        minus = np.array([self.minus[self.by_row[i]] if i in self.by_row else np.nan for i in idx], dtype=float)
        return plus, minus

    def joint_values(self, key: tuple) -> tuple[float, float]:
        i = self.joint.get(key)
        return (np.nan, np.nan) if i is None else (self.plus[i], self.minus[i])


def binding_rows(model: Model, values: np.ndarray, families: tuple[str, ...] = FAMILIES) -> np.ndarray:
    """Rows of *families* with (near) zero slack against their upper limit at *values*."""
    activity = model.A @ values
    out = []
    for fam in families:
        sl = model.blocks.get(fam)
        if sl is None or sl.stop == sl.start:
            continue
        ub = model.row_upper[sl]
        slack = ub - activity[sl]
        tight = slack <= BINDING_TOL * np.maximum(1.0, np.abs(ub))
        out.append(sl.start + np.flatnonzero(tight))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def compute_marginals(
    model: Model, sol: Solution, mode: str = "binding", h=None, directions: dict[int, np.ndarray] | None = None,
    joint: dict[tuple, int] | None = None,
) -> Marginals:
    """One-sided marginal values of the limits of *model* at its optimum.

    Parameters
    ----------
    model
        The LP (for a MILP: the caller passes the LP with its integer choices fixed).
    sol
        The optimal solution (only its status is used; slack is read off HiGHS's own vertex).
    mode
        ``binding`` (limits with no slack; the others are 0 by definition), ``all`` (every limit
        computed, a check of the definition) or ``none``.
    h
        A ``highspy.Highs`` holding *model* at its optimum (re-used warm); default: a new one, solved.
    directions
        For a limit row, the rows that move with it (default: the row alone). A headroom level
        moves with every more flexible level of its grid region and year (see
        :func:`headroom_directions`).
    joint
        Names for some directions, by key (e.g. ``(grid_region_id, year)`` -> its firm row).
    """
    t0 = time.perf_counter()
    out = Marginals(mode=mode)
    if mode == "none" or sol.status != "optimal":
        return out
    if h is None:
        h = highs_instance(model)
        run_limited(h)
    h.setOptionValue("presolve", "off")
    base = _Point.read(h, model, model.row_upper)
    base_basis = h.getBasis()
    fam_rows = [np.arange(model.blocks[f].start, model.blocks[f].stop) for f in FAMILIES if f in model.blocks]
    candidates = np.concatenate(fam_rows) if fam_rows else np.zeros(0, dtype=np.int64)
    # which limits have room is read off HiGHS's own basic solution of this LP, not off *sol*: a solution
    # from another solver carries its own tolerances, and a row it leaves 1e-5 MW short would look slack
    tight = np.zeros(model.A.shape[0], dtype=bool)
    tight[binding_rows(model, base.col_value)] = True
    directions = directions or {}

    # 1. with the base basis B0's factors: a ratio test per direction and side. Where B0 stays primal
    #    feasible for a positive step, it stays optimal (dual feasibility does not depend on the limits),
    #    z* is linear there and the slope is B0's dual: no re-solve.
    pending: list[tuple[int, int]] = []
    for r in candidates.tolist():
        rows = np.asarray(directions.get(r, [r]), dtype=np.int64)
        k = len(out.rows)
        out.by_row[r] = k
        out.rows.append(rows)
        out.plus.append(0.0)
        out.minus.append(0.0)
        if not (mode == "all" or tight[rows].any()):
            continue  # every row it moves has room: neither side changes the optimum
        for sign in (+1, -1):
            out.ratio_tests += 1
            if base.max_step(h, rows, sign) > 1e-6:
                _store(out, k, sign, -float(base.row_dual[rows].sum()) / COST_SCALE)
            else:
                pending.append((k, sign))
    # 2. degenerate limits: re-solve warm at b + sign * delta; the new basis B' is certified optimal on
    #    the whole segment back to b by a ratio test with its own factors, and its dual is the slope
    for k, sign in pending:
        value, resolves = _resolve_side(h, model, out.rows[k], sign, base_basis)
        out.resolves += resolves
        _store(out, k, sign, value)
    for key, r in (joint or {}).items():
        out.joint[key] = out.by_row[r]
    if pending:  # leave the instance as it was: base bounds and basis
        h.setBasis(base_basis)
        run_limited(h)
    out.seconds = time.perf_counter() - t0
    return out


def _store(out: Marginals, k: int, sign: int, value: float) -> None:
    value = max(value, 0.0) + 0.0 if np.isfinite(value) else value  # + 0.0: no "-0"
    if sign > 0:
        out.plus[k] = value
    else:
        out.minus[k] = value


@dataclass
class _Point:
    """A basic solution held by HiGHS: its values and duals, the limits in force, which rows are basic.

    HiGHS's logical of row i is s_i = -(A x)_i, with bounds [-row_upper_i, -row_lower_i] and column
    +e_i in the basis matrix.
    """

    model: Model
    row_upper: np.ndarray
    col_value: np.ndarray
    logical_value: np.ndarray
    row_dual: np.ndarray
    row_is_basic: np.ndarray

    @classmethod
    def read(cls, h, model: Model, row_upper: np.ndarray) -> "_Point":
        import highspy

        sol = h.getSolution()
        basic = highspy.HighsBasisStatus.kBasic
        return cls(
            model, row_upper,
            np.asarray(sol.col_value, dtype=float), -np.asarray(sol.row_value, dtype=float),
            np.asarray(sol.row_dual, dtype=float),
            np.asarray([st == basic for st in h.getBasis().row_status]),
        )

    def max_step(self, h, rows: np.ndarray, sign: int) -> float:
        """How far the upper limits of *rows* can move by *sign* with HiGHS's current basis primal feasible.

        A ratio test along x_B(t) = x_B + t * sign * B^-1 (sum of e_i over the moved rows that are
        nonbasic, i.e. at their limit), with HiGHS's current factors; a basic logical of a moved row has
        its own bound moved too.
        """
        import highspy

        rhs = np.zeros(len(self.row_is_basic))
        rhs[rows[~self.row_is_basic[rows]]] = 1.0
        status, solved = h.getBasisSolve(rhs)[:2]
        if status != highspy.HighsStatus.kOk:
            return 0.0  # no factors to use: the caller re-solves
        delta = sign * np.asarray(solved, dtype=float)
        basic = h.getBasicVariables()  # asked every time: a refactorisation may reorder the basic positions
        basic = np.asarray(basic[1] if isinstance(basic, tuple) else basic, dtype=np.int64)
        is_col = basic >= 0
        j = np.where(is_col, basic, 0)
        i = np.where(is_col, 0, -basic - 1)
        m = self.model
        value = np.where(is_col, self.col_value[j], self.logical_value[i])
        low = np.where(is_col, m.lower[j], -self.row_upper[i])
        up = np.where(is_col, m.upper[j], -m.row_lower[i])
        moved = np.zeros(len(self.row_is_basic), dtype=bool)
        moved[rows] = True
        low_rate = delta - np.where(~is_col & moved[i], -float(sign), 0.0)  # d/dt of value(t) - low(t)
        eps = 1e-9
        t = np.inf
        grow = delta > eps
        if grow.any():
            t = min(t, float(np.min(np.maximum(up[grow] - value[grow], 0.0) / delta[grow])))
        shrink = low_rate < -eps
        if shrink.any():
            t = min(t, float(np.min(np.maximum(value[shrink] - low[shrink], 0.0) / -low_rate[shrink])))
        return t


def _resolve_side(h, model: Model, rows: np.ndarray, sign: int, base_basis) -> tuple[float, int]:
    """The one-sided marginal value (present-value USD per unit) of moving *rows*' upper limits by *sign*."""
    import highspy

    status_ok = highspy.HighsModelStatus.kOptimal
    n = len(rows)
    idx = rows.astype(np.int32)
    lo = _highs_bounds(model.row_lower[rows])
    base_up = model.row_upper[rows]
    value = np.nan
    resolves = 0
    infeasible_everywhere = True
    delta = DELTAS[0]
    while delta >= MIN_DELTA:
        moved_up = base_up + sign * delta
        h.changeRowsBounds(n, idx, lo, _highs_bounds(moved_up))
        # warm from whatever basis HiGHS holds (B0, or the last re-solve's B', which was certified optimal at
        # the base limits too): no setBasis, so no refactorisation; the answer is certified below either way
        run_limited(h)
        resolves += 1
        if h.getModelStatus() != status_ok:
            delta *= 1e-3  # infeasible this far out: try a smaller step
            continue
        infeasible_everywhere = False
        upper = model.row_upper.copy()
        upper[rows] = moved_up
        point = _Point.read(h, model, upper)
        # B' is optimal at b + sign*delta; if it stays feasible all the way back to b, it is optimal on the
        # whole segment, z* is linear there and B''s dual is the slope
        back = point.max_step(h, rows, -sign)
        if back >= delta * (1 - 1e-9):
            value = -float(point.row_dual[rows].sum()) / COST_SCALE
            break
        # B' holds on [delta - back, delta] only: a kink lies nearer b than delta - back
        delta = min(delta * 1e-3, 0.5 * (delta - back))
    h.changeRowsBounds(n, idx, lo, _highs_bounds(base_up))
    if np.isnan(value) and sign < 0 and infeasible_everywhere:
        value = np.inf  # the limit cannot be lowered: no MW less can be had at any cost
    return value, resolves


def _highs_bounds(a: np.ndarray) -> np.ndarray:
    import highspy

    inf = highspy.kHighsInf
    return np.where(np.isposinf(a), inf, np.where(np.isneginf(a), -inf, a)).astype(np.float64)


def headroom_directions(model: Model) -> tuple[dict[int, np.ndarray], dict[tuple, int]]:
    """How each headroom row moves: with every more flexible level of its grid region and year.

    Headroom is nested: a MW available to loads that accept c % curtailment is available to loads
    that accept more. So "one more MW at level c" raises the rows of level c and above; at the
    firm level it is "one more firm MW", which raises every level. Returns the directions by row,
    and the firm-MW direction of each (grid_region_id, year) (its least flexible row).
    """
    sl = model.blocks.get("headroom")
    if sl is None or sl.stop == sl.start:
        return {}, {}
    keys = model.row_keys["headroom"]
    rank = {label: i for i, label in enumerate(("firm", "0.25%", "0.5%", "1%"))}
    frame = keys[["grid_region_id", "year"]].assign(row=sl.start + np.arange(len(keys)), rank=keys["level"].map(rank))
    directions: dict[int, np.ndarray] = {}
    joint: dict[tuple, int] = {}
    for (g, t), grp in frame.groupby(["grid_region_id", "year"], sort=True):
        grp = grp.sort_values("rank")
        rows, ranks = grp["row"].to_numpy(), grp["rank"].to_numpy()
        for r, k in zip(rows, ranks):
            directions[int(r)] = rows[ranks >= k]
        joint[(g, int(t))] = int(rows[0])
    return directions, joint


def marginals_for(model: Model, sol: Solution, mode: str = "binding", h=None) -> Marginals:
    """Marginal values of *model*'s limits at *sol*, with the headroom's firm-MW directions.

    For a MILP they are those of the LP with the integer choices fixed at the solution (marginal
    values are not defined for the MILP itself); *h* is then not used.
    """
    if mode == "none" or sol.status != "optimal" or not np.isfinite(sol.values).all():
        return Marginals(mode="none" if mode == "none" else "unavailable")
    if model.is_mip:
        from planner.solver import fixed_lp

        model, h = fixed_lp(model, sol.values), None
    directions, joint = headroom_directions(model)
    return compute_marginals(model, sol, mode, h=h, directions=directions, joint=joint)

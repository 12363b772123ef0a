"""Solution -> Result: the tables a user reads, and explanations of shortfalls.

Writers, maps and notebooks read only the Result.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.inputs import Inputs
from planner.marginals import Marginals
from planner.model.core import Model
from planner.model.headroom import LEVEL_LABELS
from planner.model.objective import annual_pair_costs
from planner.result_supply import onsite_by_zone, onsite_summary, served_by_grid_level, supply_table, time_to_power_summary
from planner.solver import COST_SCALE, Meanwhile, Solution
from planner.fastindex import positions, sorted_by

from planner.reader import RESULTS_FORMAT  # noqa: E402,F401  (the files' layout version, re-exported)
TOL = 1e-7


@dataclass
class Result:
    """What a solve produced, as tables.

    Attributes
    ----------
    placements
        One row per (cluster, region) with a positive share: share, MW and annual cost parts.
    regions
        One row per region and year: load, headroom, new capacity, utilisation,
        shadow price and the moratorium in force (if any).
    grid_regions
        One row per grid region and year: load by flexibility, headroom by level,
        new capacity, utilisation, binding levels and shadow price.
    unserved
        One row per cluster not fully placed, with the reason.
    sites
        Site studies only: one row per candidate site: developed or not, load, capacity.
    limits
        One row per reported limit (headroom by grid region, year and level; region limits;
        site capacities): slack, whether it binds, the one-sided marginal values
        ``value_of_plus_1mw`` and ``cost_of_minus_1mw`` (unique; see :mod:`planner.marginals`)
        and the solver's raw dual (not unique).
    supply
        One row per cluster, place and year online: MW and MWh from the grid and from on-site
        plants (by technology), on-site fuel and emissions (see :mod:`planner.result_supply`).
    summary
        Totals, objective parts, status, timings, model size and provenance.
    """

    scenario_name: str
    placements: pd.DataFrame
    regions: pd.DataFrame
    grid_regions: pd.DataFrame
    unserved: pd.DataFrame
    summary: dict
    inputs: Inputs | None = field(default=None, repr=False)
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    limits: pd.DataFrame = field(default_factory=pd.DataFrame)
    supply: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def load(cls, path: str | Path) -> Result:
        """Read a finished run (``planner solve -o PATH`` or :meth:`to_dir`) back; see :func:`planner.io.read_result`."""
        return _output("load")(path)

    def to_dir(self, path: str | Path, maps: bool = True) -> Path:
        """Write the output files to *path* atomically (see :mod:`planner.io`); with maps by default.

        The maps are drawn by :func:`planner.maps.map_writer`, handed to the writer (which
        never draws maps itself) so that they land in the same atomic folder.
        """
        return _output("to_dir")(self, path, maps)

    def plot(self, metric: str | None = None, year: int | str | None = None):
        """A static map of one metric (default IT load): US and China, one year or ``year="all"``.

        Returns a :class:`planner.maps.MapFigure` (a matplotlib Figure) that a notebook
        displays as a PNG; see :func:`planner.maps.plot`.
        """
        return _output("plot")(self, metric, year)

    def explore(self, metric: str | None = None, year: int | None = None, tiles: str | None = None):
        """An interactive map that works offline, with metric and year controls; see :func:`planner.maps.explore`."""
        return _output("explore")(self, metric, year, tiles)

    def explain(self, cluster_id: str | None = None) -> str:
        """Why clusters are unserved, as text."""
        rows = self.unserved if cluster_id is None else self.unserved[self.unserved["cluster_id"] == cluster_id]
        if rows.empty:
            return "Every cluster is fully placed." if cluster_id is None else f"{cluster_id} is fully placed."
        return "\n".join(f"{r.cluster_id}: {r.unserved_it_mw:,.0f} MW unserved. {r.reason}" for r in rows.itertuples())


#: The output layer's functions behind Result.load, to_dir, plot and explore, registered by
#: :mod:`planner.outputs` (imported with the package): the Result never imports the writers or the
#: maps, so data flows one way (result -> io -> files; maps read files or a Result).
OUTPUT_HOOKS: dict[str, Any] = {}


def _output(name: str) -> Any:
    try:
        return OUTPUT_HOOKS[name]
    except KeyError:  # pragma: no cover - `import planner` (run before any planner.* module) registers them
        raise RuntimeError(f"Result.{name} needs planner.outputs; import planner first") from None


def make_result(inputs: Inputs, model: Model, sol: Solution, timings: dict[str, float],
                marginals: Marginals | None = None, ready: Meanwhile | None = None) -> Result:
    """Map a solution (and the marginal values of its limits) back to tables. *ready* holds the
    :func:`report_tasks` a solve ran while HiGHS ran (the others are computed here)."""
    cols = model.columns
    v = np.clip(sol.values, 0.0, None)
    x = v[cols.x]
    x[x < TOL] = 0.0
    u = v[cols.u]
    new = v[cols.new_slice].copy()
    new[new < TOL] = 0.0  # solver noise (1e-9 MW), not capacity to build
    duals = sol.row_duals_usd if sol.row_duals_usd is not None else np.full(model.A.shape[0], np.nan)
    marg = marginals if marginals is not None else Marginals(mode="none")
    disc = inputs.discount

    # the placed pairs: the sums over pairs below skip the 0.8 M zeros of a national study (the same sums,
    # added in the same order)
    on = np.flatnonzero(x)
    placed, xp = cols.pairs.iloc[on], x[on]
    placements = _placements(inputs, placed, xp)
    limits = _limits_table(inputs, model, sol.values, duals, marg, disc)
    grid = _grid_table(inputs, model, placed, xp, new, duals, marg, disc, v)
    ready = ready if ready is not None else Meanwhile(report_tasks(inputs, model))
    regions = _region_table(inputs, model, placed, xp, grid, limits, v, ready.get("moratorium_flags"))
    sites = _site_table(model, placed, xp, v, limits)
    unserved = _unserved(inputs, cols.clusters, inputs.pairs, x, u, grid, sites)  # every usable pair, pruned or not
    summary = _summary(inputs, model, sol, v, placements, grid, unserved, timings, marg, ready)
    supply = supply_table(inputs, model, v, x)
    return Result(inputs.scenario.name, placements, regions, grid, unserved, summary, inputs, sites, limits, supply)


def _limits_table(inputs, model: Model, values: np.ndarray, duals: np.ndarray, marg: Marginals, disc) -> pd.DataFrame:
    """Every reported limit with its slack, one-sided marginal values and raw solver dual.

    Headroom rows hold for one year: their values are undiscounted USD per MW-yr (present value
    divided by that year's discount factor). Region limits and site capacities hold for the whole
    horizon: their values are present-value USD per MW.
    """
    activity = model.A @ np.nan_to_num(values)
    frames = []
    for fam in ("headroom", "region_limit", "site_capacity"):
        sl = model.blocks.get(fam)
        if sl is None or sl.stop == sl.start:
            continue
        keys = model.row_keys[fam]
        ub = model.row_upper[sl]
        slack = ub - activity[sl]
        plus, minus = marg.row_values(sl)
        raw = -duals[sl]
        if fam == "headroom":
            scale = disc.reindex(keys["year"]).to_numpy()
            limit_id, year, level = keys["grid_region_id"].to_numpy(), keys["year"].to_numpy(), keys["level"].to_numpy()
        else:
            scale = np.ones(len(keys))
            limit_id = keys.iloc[:, 0].to_numpy()
            year = np.full(len(keys), -1)
            level = np.full(len(keys), "")
        per_year = fam == "headroom"
        frame = pd.DataFrame(
            {
                "family": fam,
                "limit_id": limit_id,
                "year": year.astype(int),
                "level": level,
                "limit_mw": ub if fam != "site_capacity" else model.columns.sites["capacity_mw"].reindex(limit_id).to_numpy(dtype=float),
                "slack_mw": np.where(np.abs(slack) < 1e-9, 0.0, slack),
                # binding = one MW less would cost something: a property of the scenario (the slack is one of
                # the solution found, and where optima are many another solution may leave room)
                "binding": (minus > 1e-6) if marg.mode in ("binding", "all") else (slack <= 1e-6 * np.maximum(1.0, np.abs(ub))),
            }
        )
        for name, vec in (("value_of_plus_1mw", plus), ("cost_of_minus_1mw", minus), ("solver_dual", raw)):
            vec = _clean(vec / scale)
            frame[f"{name}_usd_per_mw_yr"] = vec if per_year else np.nan
            frame[f"{name}_pv_usd_per_mw"] = np.nan if per_year else vec
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def _clean(a: np.ndarray) -> np.ndarray:
    """Values below 1e-6 in magnitude are 0 (solver noise), and no "-0"."""
    a = np.asarray(a, dtype=float)
    return np.where(np.abs(a) < 1e-6, 0.0, a) + 0.0


def _site_table(model: Model, pairs: pd.DataFrame, x: np.ndarray, v: np.ndarray, limits: pd.DataFrame) -> pd.DataFrame:
    """Sites with their load from *pairs* at shares *x* (the placed pairs, or all of them)."""
    cols = model.columns
    if not cols.n_open:
        return pd.DataFrame()
    s = cols.sites
    si = positions(s.index, pairs["site_id"])
    load = np.bincount(si, weights=(pairs["it_load_mw"] * pairs["pue"]).to_numpy() * x, minlength=len(s))
    cap = s["capacity_mw"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "site_id": s.index.to_numpy(),
            "region_id": s["region_id"].to_numpy(),
            "developed": np.round(v[cols.open_slice]).astype(int),
            "load_mw": load,
            "capacity_mw": cap,
            "utilisation": np.where(cap > 0, load / np.where(cap > 0, cap, 1), 0.0),
            "fixed_cost_usd": s["fixed_cost_usd"].to_numpy(dtype=float),
            **_limit_columns(limits, "site_capacity", s.index, "capacity"),
        }
    )


def _limit_columns(limits: pd.DataFrame, family: str, ids: pd.Index, prefix: str) -> dict[str, np.ndarray]:
    """The horizon-wide limit values of *family* for *ids* (0 where an id has no such limit)."""
    sub = limits[limits["family"] == family].set_index("limit_id") if len(limits) else pd.DataFrame()
    out = {}
    for name in ("value_of_plus_1mw", "cost_of_minus_1mw", "solver_dual"):
        col = f"{name}_pv_usd_per_mw"
        vals = sub[col].reindex(ids).fillna(0.0).to_numpy(dtype=float) if len(sub) else np.zeros(len(ids))
        out[f"{prefix}_{col}"] = vals
    # the 0.1.0 column, now the unique value of one more MW (not a solver's dual)
    out[f"{prefix}_shadow_price_usd_per_mw"] = out[f"{prefix}_value_of_plus_1mw_pv_usd_per_mw"]
    return out


# --------------------------------------------------------------------------- tables


def _placements(inputs: Inputs, pairs: pd.DataFrame, x: np.ndarray) -> pd.DataFrame:
    on = x > 0
    p = pairs[on]
    share = x[on]
    annual = annual_pair_costs(inputs, p)
    df = pd.DataFrame(
        {
            "cluster_id": p["cluster_id"].to_numpy(),
            "region_id": p["region_id"].to_numpy(),
            "site_id": p["site_id"].to_numpy(),
            "country": p["country"].to_numpy(),
            "grid_region_id": p["grid_region_id"].to_numpy(),
            "online_year": p["online_year"].to_numpy(),
            "requested_online_year": p["requested_online_year"].to_numpy() if "requested_online_year" in p else p["online_year"].to_numpy(),
            "delay_years": p["delay_years"].to_numpy() if "delay_years" in p else np.zeros(len(p), dtype=int),
            "curtailment_pct": p["curtailment_pct"].to_numpy(),
            "hub_region_id": p["cluster_id"].map(inputs.clusters["hub_region_id"]).to_numpy(),
            "hub_lon": p["cluster_id"].map(inputs.clusters["hub_lon"]).to_numpy(dtype=float),
            "hub_lat": p["cluster_id"].map(inputs.clusters["hub_lat"]).to_numpy(dtype=float),
            "share": share,
            "it_load_mw": share * p["it_load_mw"].to_numpy(),
            "grid_load_mw": share * (p["it_load_mw"] * p["pue"]).to_numpy(),
            "pue": p["pue"].to_numpy(),
            "price_usd_per_mwh": p["price_usd_per_mwh"].to_numpy(),
            "energy_usd_per_yr": share * annual["energy"],
            "carbon_usd_per_yr": share * annual["carbon"],
            "capital_usd_per_yr": share * annual["capital"],
            "emissions_tco2_per_yr": share
            * (p["it_load_mw"] * p["pue"] * p["utilisation"] * p["co2_tco2_per_mwh"]).to_numpy()
            * 8760.0,
        }
    )
    df["total_usd_per_yr"] = df["energy_usd_per_yr"] + df["carbon_usd_per_yr"] + df["capital_usd_per_yr"]
    df["pair_cost_usd"] = share * p["pair_cost_usd"].to_numpy()
    keys = ["cluster_id", "region_id", "site_id", "online_year"]
    if sorted_by(p, keys):  # the model's pairs are in this order already (planner.model.core.Columns)
        return df
    return df.sort_values(keys).reset_index(drop=True)


def _shadow(model: Model, duals: np.ndarray, family: str) -> np.ndarray:
    """Shadow price of each row of a family: USD saved per unit more of its upper bound (>= 0)."""
    return -duals[model.blocks[family]]


def _online_by_year(group: np.ndarray, year_pos: np.ndarray, values: np.ndarray, n_groups: int, n_years: int) -> np.ndarray:
    """Sum of *values* online (year_pos <= t) per group and year, flattened group-major (group, year)."""
    cell = np.asarray(group, dtype=np.int64) * n_years + year_pos  # what comes online in each year (bincount adds
    acc = np.bincount(cell, weights=values, minlength=n_groups * n_years).reshape(n_groups, n_years)  # as add.at did)
    return np.cumsum(acc, axis=1).ravel()  # ... and stays online after


LEVEL_COLUMNS = ("firm_headroom_mw", "headroom_0p25pct_mw", "headroom_0p5pct_mw", "headroom_1pct_mw")
LEVEL_SUFFIX = ("firm", "0p25pct", "0p5pct", "1pct")


def _grid_table(inputs, model, pairs, x, new, duals, marg: Marginals, disc, v=None) -> pd.DataFrame:
    grids = inputs.grid_regions.sort_index()
    years = inputs.years
    gy = pd.MultiIndex.from_product([grids.index, years], names=["grid_region_id", "year"])
    out = pd.DataFrame(index=gy)
    out["country"] = grids["country"].reindex(gy.get_level_values(0)).to_numpy()
    load = pairs["it_load_mw"].to_numpy() * pairs["pue"].to_numpy() * x
    curt = pairs["curtailment_pct"].to_numpy()
    gi = positions(grids.index, pairs["grid_region_id"])
    ti = pairs["online_year"].to_numpy() - years[0]
    out["load_mw"] = _online_by_year(gi, ti, load, len(grids), len(years))
    out["firm_load_mw"] = _online_by_year(gi, ti, load * (curt == 0), len(grids), len(years))
    served = served_by_grid_level(model, v, grids.index, years) if v is not None else np.zeros((len(grids), len(years), 4))
    out["onsite_mw"] = served.sum(axis=2).ravel()  # data-center load served by plants on site, not by the grid
    out["grid_draw_mw"] = out["load_mw"] - out["onsite_mw"]
    for col in LEVEL_COLUMNS:
        out[col] = grids[col].reindex(gy.get_level_values(0)).to_numpy()
    added = pd.Series(0.0, index=gy)
    nc = model.columns.new
    if len(nc):
        added.loc[list(zip(nc["grid_region_id"], nc["year"]))] = new
    out["new_capacity_mw"] = added.to_numpy()
    out["cumulative_new_capacity_mw"] = added.groupby(level=0).cumsum().to_numpy()
    # utilisation of each level's headroom: the load that counts there (curtailment accepted <= level)
    # over that level's headroom plus new capacity; `utilisation` is the fullest level
    util = []
    for pos, (col, suffix, level) in enumerate(zip(LEVEL_COLUMNS, LEVEL_SUFFIX, (0.0, 0.25, 0.5, 1.0))):
        counted = _online_by_year(gi, ti, load * (curt <= level), len(grids), len(years))
        counted = counted - served[:, :, : pos + 1].sum(axis=2).ravel()  # net of what plants on site serve
        cap = out[col].to_numpy() + out["cumulative_new_capacity_mw"].to_numpy()
        u = np.where(cap > 0, counted / np.where(cap > 0, cap, 1.0), np.where(counted > 1e-9, np.inf, 0.0))
        out[f"utilisation_{suffix}"] = u
        out[f"headroom_left_{suffix}_mw"] = np.maximum(cap - counted, 0.0)
        util.append(u)
    out["utilisation"] = np.max(util, axis=0)

    # marginal values: "one more firm MW" raises every level of (g, t): a direction of its own
    d = disc.reindex(years).to_numpy()
    plus = np.zeros(len(gy))
    minus = np.zeros(len(gy))
    for i, (g, t) in enumerate(gy):
        p, m = marg.joint_values((g, int(t)))
        if (g, int(t)) in marg.joint or marg.mode in ("none", "unavailable"):
            plus[i], minus[i] = p, m
    scale = np.tile(d, len(grids))
    out["value_of_plus_1mw_usd_per_mw_yr"] = _clean(plus / scale)
    out["cost_of_minus_1mw_usd_per_mw_yr"] = _clean(minus / scale)
    # the 0.1.0 column, now the unique value of one more firm MW (no longer a solver's dual)
    out["shadow_price_usd_per_mw_yr"] = out["value_of_plus_1mw_usd_per_mw_yr"]
    keys = model.row_keys["headroom"]
    raw = _shadow(model, duals, "headroom") / disc.reindex(keys["year"]).to_numpy()
    kdf = keys.assign(raw=raw)
    rp, rm = marg.row_values(model.blocks["headroom"])
    kdf["minus"] = rm
    out["solver_dual_usd_per_mw_yr"] = _clean(kdf.groupby(["grid_region_id", "year"])["raw"].sum().reindex(gy).fillna(0.0).to_numpy())
    binding = kdf[kdf["minus"] > 1e-6].groupby(["grid_region_id", "year"])["level"].agg(";".join)
    out["binding_levels"] = binding.reindex(gy).fillna("").to_numpy()
    return out.reset_index()


def _region_table(inputs, model, pairs, x, grid, limits, v=None, flags: np.ndarray | None = None) -> pd.DataFrame:
    """Regions (zones) by year. Headroom is the grid region's, shared: what is left after all placements."""
    regions = inputs.regions.sort_index()
    years = inputs.years
    ry = pd.MultiIndex.from_product([regions.index, years], names=["region_id", "year"])
    out = pd.DataFrame(index=ry)
    nt = len(years)
    out["country"] = regions["country"].to_numpy().repeat(nt)  # each zone's value in each of its years (ry's order)
    if "state_id" in regions.columns:
        out["state_id"] = regions["state_id"].to_numpy().repeat(nt)
    out["grid_region_id"] = regions["grid_region_id"].to_numpy().repeat(nt)
    ri = positions(regions.index, pairs["region_id"])
    ti = pairs["online_year"].to_numpy() - years[0]
    it = pairs["it_load_mw"].to_numpy() * x
    gl = it * pairs["pue"].to_numpy()
    out["it_load_mw"] = _online_by_year(ri, ti, it, len(regions), nt)
    out["load_mw"] = _online_by_year(ri, ti, gl, len(regions), nt)
    if v is not None and model.columns.n_onsite:
        zone = onsite_by_zone(inputs, model, v)
        zy = zone.drop_duplicates(["region_id", "year"]).set_index(["region_id", "year"])
        out["onsite_mw"] = zy["served_mw"].reindex(ry).fillna(0.0).to_numpy()
        out["onsite_nameplate_mw"] = zone.groupby(["region_id", "year"])["nameplate_mw"].sum().reindex(ry).fillna(0.0).to_numpy()
        out["onsite_generation_mwh"] = zone.groupby(["region_id", "year"])["generation_mwh"].sum().reindex(ry).fillna(0.0).to_numpy()
    # each zone-year's row of the grid table, whose rows are (grid region, year) in _grid_table's order
    grid_ids = inputs.grid_regions.sort_index().index
    zg = positions(grid_ids, regions["grid_region_id"])
    row = (zg[:, None] * nt + np.arange(nt)).ravel()
    known = np.repeat(zg >= 0, nt)

    def of_grid(col: str) -> np.ndarray:
        return np.where(known, grid[col].to_numpy(dtype=float)[np.where(known, row, 0)], np.nan)

    limit = regions["max_new_load_mw"].to_numpy(dtype=float).repeat(nt)
    zone_left = np.where(np.isnan(limit), np.inf, limit - out["load_mw"].to_numpy())
    out["firm_headroom_left_mw"] = np.maximum(np.minimum(of_grid("headroom_left_firm_mw"), zone_left), 0.0)
    out["headroom_mw"] = np.maximum(np.minimum(of_grid("headroom_left_1pct_mw"), zone_left), 0.0)  # left at the 1 % level
    out["grid_new_capacity_mw"] = of_grid("cumulative_new_capacity_mw")
    out["grid_region_utilisation"] = of_grid("utilisation")
    out["utilisation"] = out["grid_region_utilisation"]  # the 0.1.0 column: the zone shares its grid region's room
    for col in ("value_of_plus_1mw_usd_per_mw_yr", "cost_of_minus_1mw_usd_per_mw_yr", "shadow_price_usd_per_mw_yr"):
        out[col] = of_grid(col)
    # a region limit is one row for the whole horizon: its values are present values, USD per MW, kept apart
    for col, vals in _limit_columns(limits, "region_limit", regions.index, "region_limit").items():
        out[col] = np.asarray(vals).repeat(nt)
    out["moratorium"] = flags if flags is not None else moratorium_flags(inputs)
    return out.reset_index()


def moratorium_flags(inputs: Inputs) -> np.ndarray:
    """The measure in force in each zone and year (window years), zone-major in the zones' id order: a
    state-wide one flags every zone of its state (its id may be the state's); a local one flags its zone
    with "(part)", as it closes only part of it. The first measure by id wins; "" where none."""
    regions = inputs.regions.sort_index()
    years = inputs.years
    flag = np.full((len(regions), len(years)), "", dtype=object)
    state = regions["state_id"].to_numpy() if "state_id" in regions.columns else regions.index.to_numpy()
    for mid, m in inputs.moratoria.sort_index().iterrows():
        local = str(m.get("scope", "state")) not in ("state", "", "nan")
        zones = np.flatnonzero((regions.index == m["region_id"]) | (state == m["region_id"]))
        when = np.flatnonzero((years >= m["from_year"]) & (years <= m["until_year"]))
        block = flag[np.ix_(zones, when)]
        flag[np.ix_(zones, when)] = np.where(block == "", f"{mid} (part)" if local else str(mid), block)
    return flag.ravel()


def _unserved(inputs, clusters, pairs, x, u, grid, sites) -> pd.DataFrame:
    cl = inputs.clusters
    rows = []
    short = [k for k, share in zip(clusters, u) if share > TOL]  # filter 0.8 M pairs once, for these only
    usable = pairs[(pairs["blocked_by"] == "").to_numpy() & pairs["cluster_id"].isin(short).to_numpy()]
    g = grid.set_index(["grid_region_id", "year"])
    for k, share in zip(clusters, u):
        if share <= TOL:  # the same threshold as placements, so the files add up to the objective
            continue
        c = cl.loc[k]
        cand = usable[usable["cluster_id"] == k]
        mw = share * c["it_load_mw"]
        if cand.empty:
            reason = "No eligible region. " + exclusion_text(inputs, k)
        else:
            reason = _capacity_text(inputs, c, cand, g, sites, mw)
        rows.append(
            {
                "cluster_id": k,
                "home_country": c["home_country"],
                "online_year": int(c["online_year"]),
                "it_load_mw": float(c["it_load_mw"]),
                "unserved_share": float(share),
                "unserved_it_mw": float(mw),
                "reason": reason,
            }
        )
    cols = ["cluster_id", "home_country", "online_year", "it_load_mw", "unserved_share", "unserved_it_mw", "reason"]
    return pd.DataFrame(rows, columns=cols)


def _capacity_text(inputs, c: pd.Series, cand: pd.DataFrame, g: pd.DataFrame, sites: pd.DataFrame, mw: float) -> str:
    """Why an eligible cluster was not (fully) placed: the limits that are full, and what would serve it.

    The marginal values of a limit that leaves load unserved are set by the unserved-load penalty,
    which is not a price: the text quotes the capacity that would serve the cluster and its cost instead.
    """
    year = int(c["online_year"])
    draw = mw * cand["pue"].min()
    limits = []
    for gid in sorted(cand["grid_region_id"].unique()):
        row = g.loc[(gid, year)]
        if row["binding_levels"]:
            limits.append(f"grid {gid} ({row['binding_levels']} headroom full)")
    if len(sites):
        st = sites.set_index("site_id").loc[sorted(cand["site_id"].unique())]
        if bool(c["indivisible"]):
            whole = c["it_load_mw"] * cand.groupby("site_id")["pue"].min()
            if (whole > st["capacity_mw"].reindex(whole.index)).all():
                return (
                    f"Indivisible, and its {whole.min():,.0f} MW of grid load is more than the capacity of every "
                    f"candidate site (largest {st['capacity_mw'].max():,.0f} MW); split it or add a larger site."
                )
        full = st[st["capacity_cost_of_minus_1mw_pv_usd_per_mw"] > 0]
        limits += [f"site {s} ({r.capacity_mw:,.0f} MW full)" for s, r in full.iterrows()]
    if not limits:
        limits = ["the limits of its candidates together"]
    return (
        f"Capacity ran out in {year}: " + ", ".join(limits)
        + f". Serving it takes about {draw:,.0f} MW more grid capacity in {year}; " + _expansion_text(inputs, cand, year)
    )


def _expansion_text(inputs, cand: pd.DataFrame, year: int) -> str:
    """What new grid capacity could serve a cluster online in *year*, and at what cost, in its candidates' grid regions."""
    from planner.model.objective import capital_recovery_factor

    crf = capital_recovery_factor(inputs.scenario.discount_rate, inputs.parameters["asset_life_years"])
    grids = inputs.grid_regions.loc[sorted(cand["grid_region_id"].unique())]
    first = int(inputs.years[0])
    options = []
    for gid, r in grids.iterrows():
        if r["expansion_max_mw_per_year"] <= 0:
            continue
        online = first + int(r["expansion_lead_time_years"])
        per_mw_yr = r["expansion_cost_usd_per_kw"] * 1000.0 * crf
        when = "in time" if online <= year else f"from {online}, too late"
        options.append((online > year, per_mw_yr, f"{gid} at {r['expansion_cost_usd_per_kw']:,.0f} USD/kW "
                        f"({per_mw_yr:,.0f} USD/MW-yr annualised; up to {r['expansion_max_mw_per_year']:,.0f} MW/yr, {when})"))
    if not options:
        return "no grid region it may use has an expansion option in this scenario (see `expansion:`)."
    options.sort()
    return "new capacity: " + "; ".join(o[2] for o in options[:3]) + "."


def exclusion_text(inputs: Inputs, cluster_id: str) -> str:
    ex = inputs.exclusions[inputs.exclusions["cluster_id"] == cluster_id]
    if ex.empty:
        return "No region exists in its allowed set."
    parts = []
    for rule, grp in ex.groupby("rule", sort=True):
        sites = (grp["site_id"] != "").any()
        where = grp["site_id"].where(grp["site_id"] != "", grp["region_id"])
        sample = "; ".join(f"{r} {d}".strip() for r, d in zip(where[:3], grp["detail"][:3]))
        more = f" (+{len(grp) - 3} more)" if len(grp) > 3 else ""
        parts.append(f"{rule}: {len(grp)} {'site' if sites else 'region'}(s), e.g. {sample}{more}")
    return "Excluded by " + " | ".join(parts)


# --------------------------------------------------------------------------- summary


def report_tasks(inputs: Inputs, model: Model) -> dict[str, Callable[[], object]]:
    """The summary's entries that do not depend on the solution, as tasks: a solve runs them while HiGHS
    runs (:class:`planner.solver.Meanwhile`), :func:`make_result` computes any left."""
    return {
        "model_size": model.size,
        "coefficient_ranges": lambda: model.coefficient_ranges(COST_SCALE),
        "scenario_hash": inputs.scenario.hash,
        "datasets": lambda: _dataset_digests(inputs),
        "dataset_vintages": lambda: _vintages(inputs),
        "versions": _versions,
        "moratorium_flags": lambda: moratorium_flags(inputs),
    }


def _summary(inputs, model, sol, v, placements, grid, unserved, timings, marg: Marginals, ready: Meanwhile) -> dict:
    parts = {name: float(vec @ v) for name, vec in model.cost_parts.items()}
    cl = inputs.clusters
    by_country = {}
    home = placements["cluster_id"].map(cl["home_country"])
    for country in ("US", "CN"):
        pl = placements[home == country]  # the country's own clusters, wherever they went
        hosted = placements[placements["country"] == country]
        un = unserved[unserved["home_country"] == country] if len(unserved) else unserved
        gr = grid[(grid["country"] == country) & (grid["year"] == inputs.years[-1])]
        by_country[country] = {
            "planned_it_mw": float(cl.loc[cl["home_country"] == country, "it_load_mw"].sum()),
            "placed_it_mw": float(pl["it_load_mw"].sum()),
            "placed_abroad_it_mw": float(pl.loc[pl["country"] != country, "it_load_mw"].sum()),
            "hosted_it_mw": float(hosted["it_load_mw"].sum()),
            "grid_load_mw": float(hosted["grid_load_mw"].sum()),
            "unserved_it_mw": float(un["unserved_it_mw"].sum()) if len(un) else 0.0,
            "new_capacity_mw": float(gr["cumulative_new_capacity_mw"].sum()),
            "annual_cost_usd": float(hosted["total_usd_per_yr"].sum()),
            "emissions_tco2_per_yr": float(hosted["emissions_tco2_per_yr"].sum()),
        }
    last = grid[grid["year"] == inputs.years[-1]]
    by_grid = {
        r.grid_region_id: {
            "load_mw": round(float(r.load_mw), 3),
            "new_capacity_mw": round(float(r.cumulative_new_capacity_mw), 3),
            "utilisation": round(float(r.utilisation), 4) if np.isfinite(r.utilisation) else None,
            "value_of_plus_1mw_usd_per_mw_yr": _json_num(r.value_of_plus_1mw_usd_per_mw_yr),
            "cost_of_minus_1mw_usd_per_mw_yr": _json_num(r.cost_of_minus_1mw_usd_per_mw_yr),
        }
        for r in last.itertuples()
        if r.load_mw > 0 or r.cumulative_new_capacity_mw > 0
    }
    binding = grid[grid["binding_levels"] != ""]
    penalty = parts.get("unserved", 0.0)
    return {
        "results_format": RESULTS_FORMAT,
        "scenario": inputs.scenario.name,
        "status": sol.status,
        "solver": sol.solver,
        "solver_message": sol.message,
        "objective_usd": sol.objective_usd - penalty,
        "unserved_penalty_usd": penalty,
        "solver_objective_usd": sol.objective_usd,
        "objective_parts_usd": parts,
        **({"onsite": o} if (o := onsite_summary(inputs, model, v, parts)) is not None else {}),
        **({"time_to_power": d} if (d := time_to_power_summary(inputs, placements, parts)) is not None else {}),
        "horizon": [int(inputs.years[0]), int(inputs.years[-1])],
        "totals_by_country": by_country,
        "totals_by_grid_region_last_year": by_grid,
        "binding_headroom": [
            {
                "grid_region_id": r.grid_region_id,
                "year": int(r.year),
                "levels": r.binding_levels,
                "value_of_plus_1mw_usd_per_mw_yr": _json_num(r.value_of_plus_1mw_usd_per_mw_yr),
                "cost_of_minus_1mw_usd_per_mw_yr": _json_num(r.cost_of_minus_1mw_usd_per_mw_yr),
            }
            for r in binding.itertuples()
        ],
        "marginal_values": {
            "mode": marg.mode,
            "method": "one-sided derivatives of the optimal cost by warm parametric re-solves (planner.marginals)",
            "directions": len(marg.rows),
            "resolves": marg.resolves,
            "seconds": round(marg.seconds, 4),
        },
        "unserved_clusters": [
            {"cluster_id": r.cluster_id, "unserved_it_mw": round(r.unserved_it_mw, 3), "reason": r.reason}
            for r in unserved.itertuples()
        ],
        "mip": sol.mip,
        "column_generation": sol.column_generation,
        "solver_duals": "unavailable (the solver returned none)" if sol.row_duals_usd is None
        else ("LP with the integer choices fixed at the MILP solution" if sol.mip else "LP"),
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
        "model_size": ready.get("model_size"),
        "coefficient_ranges": ready.get("coefficient_ranges"),
        "moratoria_applied": sorted(inputs.moratoria.index.tolist()),
        "scenario_hash": ready.get("scenario_hash"),
        "datasets": ready.get("datasets"),
        "dataset_vintages": ready.get("dataset_vintages"),
        "versions": ready.get("versions"),
    }


def _json_num(x: float) -> float | None:
    """A float for summary.json: rounded to cents; None for NaN or infinity (JSON has neither)."""
    return round(float(x), 2) if np.isfinite(x) else None


def unserved_warnings(result: Result) -> list[str]:
    """One warning per cluster left (partly) unserved: the penalty that prices it is not a cost."""
    out = []
    for r in result.unserved.itertuples():
        out.append(
            f"{r.cluster_id}: {r.unserved_it_mw:,.0f} MW of IT load unserved; it is priced in the solver's objective at "
            "the unserved-load penalty, which is not a cost (reported apart as unserved_penalty_usd). " + r.reason
        )
    return out


def _dataset_digests(inputs: Inputs) -> dict[str, dict[str, str]]:
    """File name and SHA-256 of every table the run read, user-supplied sites and pair costs included."""
    import hashlib

    out = {}
    if inputs.tables is not None:
        out = {n: {"file": Path(f).name, "sha256": inputs.tables.sha256[n]} for n, f in inputs.tables.files.items()}
    sc = inputs.scenario
    for key in ("sites", "pair_costs"):
        value = getattr(sc, key)
        if value:
            path = Path(value) if Path(value).is_absolute() or sc.base_dir is None else sc.base_dir / value
            out[key] = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return out


def _vintages(inputs: Inputs) -> dict[str, str]:
    r = inputs.regions
    out = {}
    for country in ("US", "CN"):
        sub = r[r["country"] == country]
        out[f"price_{country}"] = ",".join(str(int(y)) for y in sorted(sub["price_year"].unique()))
        out[f"co2_{country}"] = ",".join(str(int(y)) for y in sorted(sub["co2_year"].unique()))
    return out


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("planner-siting", "highspy", "pulp", "pandas", "numpy", "scipy", "pydantic"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out

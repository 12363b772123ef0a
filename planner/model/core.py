"""The Model object: arrays plus the names of what each row and column means."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

#: Curtailment levels as the row and column names spell them (firm = 0 %), in the order of
#: ``planner.scenario.CURTAILMENT_LEVELS_PCT``.
LEVEL_LABELS = ("firm", "0.25%", "0.5%", "1%")


@dataclass(frozen=True)
class RowBlock:
    """One family of constraints: ``lower <= A @ v <= upper``.

    ``keys`` has one row per constraint; its columns name the constraint
    (``name[key1,key2,...]``), in order.
    """

    name: str
    A: sp.coo_matrix  # triplets: the assembly converts all families to one CSC matrix at once
    lower: np.ndarray
    upper: np.ndarray
    keys: pd.DataFrame

    def __post_init__(self) -> None:
        n = self.A.shape[0]
        if not (len(self.lower) == len(self.upper) == len(self.keys) == n):
            raise ValueError(f"row block {self.name}: inconsistent lengths")


@dataclass(frozen=True)
class Columns:
    """The variables, in contiguous groups, in this order.

    * ``x[cluster, region(, online_year)]``: share of a cluster placed in a region, one per eligible
      pair (and, with time to power, per online year the cluster may take);
    * ``u[cluster]``: unserved share of a cluster;
    * ``new[grid_region, year]``: MW of new grid capacity online from that year;
    * ``open[site]``: 1 if a candidate site is developed (binary; sites studies only);
    * ``z[place, online_year, level]``: MW of grid draw placed by the clusters of one online year and
      curtailment level, in a grid region (compact formulation), or in a zone (with on-site power);
    * with on-site power (``onsite.py``), per zone: ``e[zone, online_year]`` average MW of load
      energy placed; ``build[zone, technology, year]`` MW of on-site nameplate first running that
      year; ``w[zone, year, level]`` MW of grid draw served on site instead; ``gen[zone, technology,
      year]`` average MW generated on site.

    Pairs, clusters and grid regions are in a canonical (sorted) order, so
    the model does not depend on the order of the input tables' rows.
    """

    pairs: pd.DataFrame
    clusters: pd.Index
    new: pd.DataFrame  # grid_region_id, year, upper_mw, cost_usd_per_kw
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)  # site_id, capacity_mw, fixed_cost_usd
    aggregates: pd.DataFrame = field(default_factory=pd.DataFrame)  # grid_region_id, region_id, online_year, level_pos, cell
    grid_ids: pd.Index = field(default_factory=lambda: pd.Index([], dtype=object))
    zone_ids: pd.Index = field(default_factory=lambda: pd.Index([], dtype=object))  # zones of the on-site model
    energy: pd.DataFrame = field(default_factory=pd.DataFrame)  # region_id, online_year, cell
    build: pd.DataFrame = field(default_factory=pd.DataFrame)  # region_id, technology_id, year, option
    serve: pd.DataFrame = field(default_factory=pd.DataFrame)  # region_id, grid_region_id, year, level_pos
    gen: pd.DataFrame = field(default_factory=pd.DataFrame)  # region_id, technology_id, year, option

    def _span(self, group: str) -> slice:
        sizes = {"x": len(self.pairs), "u": len(self.clusters), "new": len(self.new), "open": len(self.sites),
                 "z": len(self.aggregates), "e": len(self.energy), "build": len(self.build),
                 "w": len(self.serve), "gen": len(self.gen)}
        start = 0
        for name, size in sizes.items():
            if name == group:
                return slice(start, start + size)
            start += size
        raise KeyError(group)

    @property
    def n_x(self) -> int:
        return len(self.pairs)

    @property
    def n_u(self) -> int:
        return len(self.clusters)

    @property
    def n_new(self) -> int:
        return len(self.new)

    @property
    def x(self) -> slice:
        return slice(0, self.n_x)

    @property
    def u(self) -> slice:
        return self._span("u")

    @property
    def n_open(self) -> int:
        return len(self.sites)

    @property
    def new_slice(self) -> slice:
        return self._span("new")

    @property
    def open_slice(self) -> slice:
        return self._span("open")

    @property
    def n_z(self) -> int:
        return len(self.aggregates)

    @property
    def z_slice(self) -> slice:
        return self._span("z")

    @property
    def e_slice(self) -> slice:
        return self._span("e")

    @property
    def build_slice(self) -> slice:
        return self._span("build")

    @property
    def w_slice(self) -> slice:
        return self._span("w")

    @property
    def gen_slice(self) -> slice:
        return self._span("gen")

    @property
    def n_onsite(self) -> int:
        """Columns of the on-site model (e, build, w, gen)."""
        return len(self.energy) + len(self.build) + len(self.serve) + len(self.gen)

    @property
    def n(self) -> int:
        return self.n_x + self.n_u + self.n_new + self.n_open + self.n_z + self.n_onsite

    def names(self) -> list[str]:
        """Deterministic names: ``x[c1,US-VA]`` (``x[c1,US-VA,2029]`` when delayed), ``u[c1]``, ``new[PJM,2029]``."""
        p = self.pairs[["cluster_id", "region_id", "site_id", "online_year"] + (["delay_years"] if "delay_years" in self.pairs else [])]
        p = p.astype({c: str for c in ("cluster_id", "region_id", "site_id")})  # ids as text (the pairs hold them as codes)
        where = p["site_id"].where(p["site_id"] != "", p["region_id"])
        x = "x[" + p["cluster_id"] + "," + where
        if "delay_years" in p.columns:
            x = x.where(p["delay_years"] == 0, x + "," + p["online_year"].astype(str))
        x = (x + "]").tolist()
        u = [f"u[{k}]" for k in self.clusters]
        new = [f"new[{g},{t}]" for g, t in zip(self.new["grid_region_id"], self.new["year"])]
        opened = [f"open[{s}]" for s in self.sites.index] if self.n_open else []
        z: list[str] = []
        if self.n_z:
            agg = self.aggregates
            place = agg["region_id"].where(agg["region_id"] != "", agg["grid_region_id"]) if "region_id" in agg else agg["grid_region_id"]
            z = [f"z[{g},{o},{LEVEL_LABELS[a]}]" for g, o, a in zip(place, agg["online_year"], agg["level_pos"])]
        onsite: list[str] = []
        if self.n_onsite:
            onsite += [f"e[{r},{o}]" for r, o in zip(self.energy["region_id"], self.energy["online_year"])]
            onsite += [f"build[{r},{j},{t}]" for r, j, t in zip(self.build["region_id"], self.build["technology_id"], self.build["year"])]
            onsite += [f"w[{r},{t},{LEVEL_LABELS[a]}]" for r, t, a in zip(self.serve["region_id"], self.serve["year"], self.serve["level_pos"])]
            onsite += [f"gen[{r},{j},{t}]" for r, j, t in zip(self.gen["region_id"], self.gen["technology_id"], self.gen["year"])]
        return x + u + new + opened + z + onsite


@dataclass
class Model:
    """A built LP: ``min c @ v  s.t.  row_lower <= A @ v <= row_upper, lower <= v <= upper``.

    Costs are in USD (present value over the horizon); rows are in MW or shares.
    ``integrality`` is 1 for integer (binary) columns: indivisible clusters'
    ``x`` and the sites' ``open``; the model is then a MILP.
    ``cost_parts`` splits ``c`` into energy, carbon, capital, expansion and
    unserved, so results can report each part. ``blocks`` keeps each constraint
    family's rows and keys; their order is the order of the rows of ``A``.
    The arrays may be changed in place (costs and bounds) for a re-solve.
    """

    columns: Columns
    c: np.ndarray
    cost_parts: dict[str, np.ndarray]
    lower: np.ndarray
    upper: np.ndarray
    A: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    blocks: dict[str, slice]
    row_keys: dict[str, pd.DataFrame]
    integrality: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    build_seconds: float = 0.0
    pruned_pairs: int = 0  # dominated pairs left out (planner/model/prune.py)

    @property
    def is_mip(self) -> bool:
        return bool(self.integrality.any())

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape

    @property
    def nnz(self) -> int:
        return int(self.A.nnz)

    def size(self) -> dict[str, int]:
        return {"variables": self.columns.n, "constraints": self.A.shape[0], "nonzeros": self.nnz,
                "pairs": self.columns.n_x, "pruned_pairs": self.pruned_pairs}

    def coefficient_ranges(self, cost_scale: float = 1.0) -> dict[str, list[float]]:
        """Smallest and largest nonzero magnitude of the matrix, costs (times *cost_scale*, e.g. the
        solver's USD -> MUSD), finite bounds and right-hand sides: the figures a solver's numerics depend on."""

        def span(a: np.ndarray) -> list[float]:
            a = np.abs(a[np.isfinite(a) & (a != 0)])
            return [float(a.min()), float(a.max())] if a.size else [0.0, 0.0]

        return {
            "matrix": span(self.A.data),
            "cost": span(self.c * cost_scale),
            "bound": span(np.concatenate([self.lower, self.upper])),
            "rhs": span(np.concatenate([self.row_lower, self.row_upper])),
        }

    def row_names(self) -> list[str]:
        """Deterministic names: ``headroom[PJM,2029,firm]``, ``placement[c1]``."""
        out: list[str] = []
        for name, keys in self.row_keys.items():
            parts = keys.astype(str)
            joined = parts.iloc[:, 0]
            for col in parts.columns[1:]:
                joined = joined + "," + parts[col]
            out += (name + "[" + joined + "]").tolist()
        return out

    def __repr__(self) -> str:
        fams = ", ".join(f"{k}: {s.stop - s.start}" for k, s in self.blocks.items())
        m, n = self.A.shape
        c = self.columns
        kind = f"MILP, {int(self.integrality.sum())} integer" if self.is_mip else "LP"
        return (
            f"<Model {kind}: {n} variables ({c.n_x} x, {c.n_u} u, {c.n_new} new, {c.n_open} open, {c.n_z} z, "
            f"{c.n_onsite} on-site), "
            f"{m} rows ({fams}), {self.nnz} nonzeros>"
        )

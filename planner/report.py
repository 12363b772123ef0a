"""Readable text for the terminal: totals, where load went, binding limits, shortfalls."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.reader import ranges_by_figure  # noqa: F401  (re-exported)
from planner.result import Result


def format_report(result: Result, top: int = 12) -> str:
    s = result.summary
    ranges = ranges_by_figure(s)
    printed: set[tuple[str, str, int]] = set()  # the open figures printed beside their value

    def rng(figure: str, fid, year: int = -1, unit: str = "", scale: float = 1.0, digits: int = 0) -> str:
        """' [low-high]' (in units of *scale*) when least cost does not decide the figure, else ''."""
        key = (figure, str(fid), int(year))
        lo_hi = ranges.get(key)
        if lo_hi is None:
            return ""
        printed.add(key)
        return f" [{lo_hi[0] / scale:,.{digits}f}-{lo_hi[1] / scale:,.{digits}f}{unit}]"
    lines = [
        f"Scenario {s['scenario']}  {s['horizon'][0]}-{s['horizon'][1]}  status: {s['status']}",
        f"Cost (present value): {s['objective_usd'] / 1e9:,.2f} bn USD  = "
        + ", ".join(f"{k} {v / 1e9:,.2f}" for k, v in s["objective_parts_usd"].items() if abs(v) > 0.5 and k != "unserved"),
    ]
    if result.inputs is not None and "firm_share_of_0p25pct_headroom" in result.inputs.parameters:  # issue 10
        lines.append(f"Firm headroom outside PJM: {result.inputs.parameters['firm_share_of_0p25pct_headroom']:g} x the headroom at 0.25 percent curtailment (parameter firm_share_of_0p25pct_headroom)")
    if s.get("unserved_penalty_usd", 0.0) > 0.5:
        lines.append(
            f"Unserved-load penalty (in the solver's objective, not a cost): {s['unserved_penalty_usd'] / 1e9:,.2f} bn USD"
        )
    lines += [
        "",
        "Clusters by home country (planned, placed, of which abroad, unserved); grid, cost and CO2 by host country:",
        f"{'country':8}{'planned MW':>12}{'placed MW':>12}{'abroad MW':>11}{'unserved MW':>13}{'new grid MW':>13}{'cost M$/yr':>12}{'MtCO2/yr':>10}",
    ]
    for c, t in s["totals_by_country"].items():
        lines.append(
            f"{c:8}{t['planned_it_mw']:>12,.0f}{t['placed_it_mw']:>12,.0f}{t['placed_abroad_it_mw']:>11,.0f}{t['unserved_it_mw']:>13,.0f}"
            f"{t['new_capacity_mw']:>13,.0f}{t['annual_cost_usd'] / 1e6:>12,.0f}{t['emissions_tco2_per_yr'] / 1e6:>10,.2f}"
        )
    for c in ("US", "CN"):
        if co2 := rng("emissions_tco2_per_yr", c, scale=1e6, digits=2):
            lines.append(f"  {c} MtCO2/yr at the same cost:{co2}")
    pl = result.placements
    if len(pl):
        by_region = pl.groupby("region_id").agg(
            it_mw=("it_load_mw", "sum"), grid_mw=("grid_load_mw", "sum"), price=("price_usd_per_mwh", "first")
        )
        by_region = by_region.sort_values(["it_mw", "grid_mw"], ascending=False)
        lines += ["", f"Where the load goes (top {min(top, len(by_region))} of {len(by_region)} regions; "
                  "IT load, and grid load = IT load x PUE):"]
        for rid, r in by_region.head(top).iterrows():
            it_range = rng("it_mw", rid, unit=" MW")
            lines.append(f"  {rid:10} IT {r.it_mw:>9,.0f} MW   grid {r.grid_mw:>9,.0f} MW   at {r.price:>6.1f} USD/MWh"
                         + (f"   IT at the same cost:{it_range}" if it_range else ""))
    g = result.grid_regions
    last = g[g["year"] == g["year"].max()]
    binding = last[last["binding_levels"] != ""].sort_values(
        ["value_of_plus_1mw_usd_per_mw_yr", "cost_of_minus_1mw_usd_per_mw_yr", "grid_region_id"], ascending=[False, False, True]
    )
    lines += ["", f"Binding grid headroom in {int(g['year'].max())}: what one firm MW more would save and one MW less "
              "would cost (USD per MW-yr; they differ at a kink):"]
    # a grid region with no headroom and no load placed is "full" trivially: more headroom saves nothing and
    # there is none to take away; listed by name after the others, not as rows of zeros and infinities
    idle = (binding["value_of_plus_1mw_usd_per_mw_yr"] <= 0) & (binding["load_mw"] <= 0.5)
    shown = binding[~idle]
    if shown.empty:
        lines.append("  none")
    for r in shown.head(top).itertuples():
        minus = r.cost_of_minus_1mw_usd_per_mw_yr
        minus_text = f"{minus:>10,.0f}" if np.isfinite(minus) else f"{'none left':>10}"  # -1 MW is infeasible
        lines.append(
            f"  {r.grid_region_id:13} +1 MW {r.value_of_plus_1mw_usd_per_mw_yr:>10,.0f}   -1 MW {minus_text}"
            f"   grid load {r.load_mw:>8,.0f} MW{rng('grid_load_mw', r.grid_region_id, r.year)}"
            f"   new {r.cumulative_new_capacity_mw:>7,.0f} MW   levels {r.binding_levels}"
        )
    if idle.any():
        lines.append(f"  also without headroom, and with no load placed there: {', '.join(binding.loc[idle, 'grid_region_id'])}")
    built = g[g["new_capacity_mw"] > 0]
    if len(built):
        lines += ["", "Grid capacity to add (MW coming online):"]
        for gid, grp in built.groupby("grid_region_id"):
            lines.append("  " + f"{gid:11} " + ", ".join(f"{int(y)}: {mw:,.0f}{rng('new_capacity_mw', gid, y)}"
                                                         for y, mw in zip(grp["year"], grp["new_capacity_mw"])))
    un = result.unserved
    if "onsite" in s:
        o = s["onsite"]
        tech = ", ".join(f"{j} {mw:,.0f}" for j, mw in o["onsite_nameplate_mw_by_technology"].items() if mw > 0.5) or "none"
        lines += ["", f"Power on site: {o['onsite_mw']:,.0f} MW of grid draw served on site at most (by year: "
                  + ", ".join(f"{y}: {mw:,.0f}{rng('onsite_mw', y, y)}" for y, mw in o["onsite_mw_by_year"].items())
                  + f"); plants built (MW): {tech}"]
    if "time_to_power" in s:
        d = s["time_to_power"]
        late = ", ".join(f"{k} {v['it_mw']:,.0f} MW to {'/'.join(map(str, v['online_years']))}" for k, v in d["delayed_clusters"].items())
        lines.append(f"Time to power: {d['delay_cluster_mw_years']:,.0f} MW-years of delay"
                     + (f" ({late})" if late else " (no cluster waits)"))
    lines += ["", f"Unserved clusters: {len(un)}" + ("" if un.empty else f" ({un['unserved_it_mw'].sum():,.0f} MW IT)")]
    for r in un.head(top).itertuples():
        lines.append(f"  {r.cluster_id}: {r.unserved_it_mw:,.0f} MW. {r.reason}")
    er = s.get("equal_cost_ranges")
    if er and er.get("status", "computed") != "computed":
        lines += ["", f"Equal-cost ranges {er['status']}"]
    elif er:
        n_und = len(er["undecided"])
        lines += ["", f"Least cost leaves {n_und} of {er['checked']} reported figures open" + (
            ": [low-high] is the range over all least-cost plans; the plan shown (and written) is one of them, "
            "and another solver may return another (summary.json: equal_cost_ranges)" if n_und
            else f": each is the same, to {er.get('tolerance_mw', 1.0):g} MW, in every least-cost plan")]
        rest = [u for u in er["undecided"] if (u["figure"], str(u["id"]), int(u["year"])) not in printed]
        for u in rest[:top]:
            when = f" {u['year']}" if int(u["year"]) >= 0 and u["figure"] != "onsite_mw" else ""
            lines.append(f"  {u['figure']} {u['id']}{when}: {u['value']:,.0f} [{u['low']:,.0f}-{u['high']:,.0f}]")
        if len(rest) > top:
            lines.append(f"  and {len(rest) - top} more (summary.json)")
        if er.get("not_computed"):
            lines.append(f"  not computed (an LP did not end optimal): {', '.join(u['figure'] + ' ' + str(u['id']) for u in er['not_computed'])}")
    t = s["timings_s"]
    m = s["model_size"]
    lines += [
        "",
        f"Model: {m['variables']:,} variables, {m['constraints']:,} constraints, {m['nonzeros']:,} nonzeros"
        + (f" ({m['pruned_pairs']:,} dominated pairs left out)" if m.get("pruned_pairs") else "") + ";"
        f" build {t.get('build', 0):.3f} s, solve {t.get('solve', 0):.3f} s, marginal values {t.get('marginals', 0):.3f} s"
        + (f", equal-cost ranges {t['equal_cost_ranges']:.3f} s" if "equal_cost_ranges" in t else ""),
    ]
    if cg := s.get("column_generation"):
        lines.append(f"  solved by column generation: {cg['rounds']} rounds; {cg['pairs_loaded']:,} of {cg['pairs']:,} "
                     f"pairs loaded into HiGHS, the others priced out (solver.column_generation)")
    return "\n".join(lines)


def format_datasets(df: pd.DataFrame) -> str:
    lines = [f"{'table':27}{'rows':>6}  {'vintage':12}{'sources':>8}  sha256        file"]
    for r in df.itertuples():
        lines.append(f"{r.table:27}{r.rows:>6}  {r.vintage:12}{r.sources:>8}  {r.sha256}  {r.file}")
    lines.append("Sources, units and vintages of every figure: datasets/SOURCES.md")
    return "\n".join(lines)

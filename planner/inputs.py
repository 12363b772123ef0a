"""Scenario + data tables -> Inputs: plain, checked tables joined on region ids.

Everything the model needs is computed here, at the edge, and nothing here
knows about solvers:

* scenario overrides applied to the tables (unknown ids and fields rejected);
* the Chinese industrial price built from the wholesale coal benchmark plus
  the stated adders (``cn_td_adder_usd_per_mwh``, ``cn_surcharge_usd_per_mwh``);
* the default PUE from each region's climate class, capex per MW, carbon price;
* **eligibility** of each (cluster, region) pair: allowed countries, allowed
  regions and latency (great-circle distance to the user hub at fibre speed,
  times a route factor). Ineligible pairs get no variable at all;
* which **moratoria** apply, and for each eligible pair the moratorium (if any)
  whose window holds the cluster's online year. Those pairs keep their variable
  but ``model/moratoria.py`` fixes it to zero, so a what-if on moratoria only
  changes bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.data.load import Tables, check_joins, check_rules, load_tables
from planner.data.supply import SupplyTables, connection_lead_years, load_supply_tables, onsite_options
from planner.data.sites import read_pair_costs, read_sites
from planner.data.schemas import GRID_REGIONS, OPTIONAL_PARAMETER_RANGES, PARAMETER_RANGES, REGIONS
from planner.errors import DataError, ScenarioError, is_file
from planner.scenario import Scenario
from planner.eligibility import candidate_rules, id_codes
from planner.fastindex import positions

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


@dataclass(frozen=True)
class Inputs:
    """Everything the model reads. Plain pandas/numpy, no solver types.

    Attributes
    ----------
    scenario
        The validated scenario.
    years
        Planning years, ascending (integers).
    discount
        Discount factor per year, ``(1 + rate) ** -(year - first_year)``.
    regions
        One row per region (index ``region_id``) with ``industrial_price_usd_per_mwh``,
        ``pue``, ``capex_usd_per_mw``, ``carbon_price_usd_per_tco2`` added.
    grid_regions
        One row per grid region with headroom by curtailment level and the
        expansion option (``expansion_cost_usd_per_kw``, ``expansion_lead_time_years``,
        ``expansion_max_mw_per_year``; zero max where expansion is not enabled).
    clusters
        One row per cluster (index ``cluster_id``).
    pairs
        Eligible (cluster, region) pairs, one row each, with everything the cost
        and headroom coefficients need, and ``blocked_by`` (a moratorium id or "").
    exclusions
        For clusters with no usable pair: one row per candidate region and the
        rule that excluded it (for explanations).
    moratoria
        The moratoria that apply in this scenario.
    sites
        Candidate sites (empty for a region-level study): region, capacity,
        fixed cost, lead time. When present, pairs are (cluster, site).
    onsite
        On-site generation options, one row per (zone, technology) the scenario
        allows (:func:`planner.data.supply.onsite_options`); empty unless
        ``onsite.enabled``.
    delay_cost_usd_per_mw_yr
        Value of compute forgone per MW of IT per year late (0 unless ``time_to_power.enabled``).
    supply
        The supply tables read for this scenario (None when neither option is enabled).
    parameters
        Parameter values after scenario overrides.
    """

    scenario: Scenario
    years: np.ndarray
    discount: pd.Series
    regions: pd.DataFrame
    grid_regions: pd.DataFrame
    clusters: pd.DataFrame
    pairs: pd.DataFrame
    exclusions: pd.DataFrame
    moratoria: pd.DataFrame
    parameters: dict[str, float]
    tables: Tables | None
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    onsite: pd.DataFrame = field(default_factory=pd.DataFrame)
    delay_cost_usd_per_mw_yr: float = 0.0
    supply: SupplyTables | None = None


def build_inputs(scenario: Scenario, tables: Tables | None = None, supply: SupplyTables | None = None) -> Inputs:
    """Join the scenario with the data tables and work out eligibility.

    *tables* and *supply* are the core and supply tables when the caller has them already (a sweep
    reads them once per process); by default they are read from the scenario's ``datasets:``."""
    src = scenario.source
    if tables is None:
        tables = load_tables(dataset_paths(scenario))
    params = _parameters(scenario, tables)
    zones_of = state_zones(tables.regions)
    region_overrides = {z: f for rid, f in scenario.overrides.regions.items() for z in zones_of.get(rid, [rid])}
    regions = _apply_overrides(tables.regions, region_overrides, REGIONS, "overrides.regions", src)
    grids = firm_headroom(tables.grid_regions, params)
    grids = _apply_overrides(grids, scenario.overrides.grid_regions, GRID_REGIONS, "overrides.grid_regions", src)
    if scenario.overrides.regions or scenario.overrides.grid_regions:
        _check_override_joins(scenario, regions, grids, tables)
    regions = _derive_region_columns(regions, params, scenario)
    supply = supply if supply is not None else supply_tables(scenario)
    grids = _expansion(grids, scenario, params,
                       connection_lead_years(supply, grids) if scenario.time_to_power.enabled and supply else None)
    clusters = _clusters(scenario, regions, zones_of)
    moratoria = _moratoria(scenario, tables.moratoria, regions)
    sites = read_sites(_user_path(scenario, "sites"), regions) if scenario.sites else pd.DataFrame()
    if not len(sites):  # a local measure removes its share of its zone (a sites study uses the county polygon)
        regions = local_zone_limits(regions, grids, moratoria, scenario.horizon.first_year, scenario.horizon.last_year)
    locations = site_locations(sites, regions) if len(sites) else region_locations(regions)
    pairs, exclusions = eligible_pairs(clusters, locations, moratoria, params, scenario.horizon.first_year)
    delay_cost = 0.0
    if scenario.time_to_power.enabled:
        delay_cost = _delay_cost(scenario, params)
        if scenario.time_to_power.max_delay_years > 0:  # one pair per place and online year a cluster may take
            later = delayed_clusters(clusters, scenario.time_to_power.max_delay_years, scenario.horizon.last_year)
            pairs, _ = eligible_pairs(later, locations, moratoria, params, scenario.horizon.first_year)
    requested = clusters["online_year"].to_numpy(dtype=int)[positions(clusters.index, pairs["cluster_id"])]
    pairs["requested_online_year"] = requested
    pairs["delay_years"] = pairs["online_year"].to_numpy(dtype=int) - requested
    if scenario.pair_costs:
        path = _user_path(scenario, "pair_costs")
        pairs = add_pair_costs(pairs, read_pair_costs(path), sites, clusters, regions, str(path))
    pairs = apply_cost_adders(scenario, pairs, regions, clusters, params)
    years = np.arange(scenario.horizon.first_year, scenario.horizon.last_year + 1)
    discount = pd.Series((1.0 + scenario.discount_rate) ** -(years - years[0]), index=years, name="discount")
    onsite = onsite_options(scenario, supply, regions, zones_of) if scenario.onsite.enabled and supply else pd.DataFrame()
    return Inputs(scenario, years, discount, regions, grids, clusters, pairs, exclusions, moratoria, params, tables, sites,
                  onsite, delay_cost, supply)


def supply_table_names(scenario: Scenario) -> tuple[str, ...]:
    """The supply tables *scenario* needs: the on-site ones, the lead times, or none."""
    names: tuple[str, ...] = ()
    if scenario.onsite.enabled:
        names += ("onsite_technologies", "onsite_cost_multipliers", "fuel_prices")
    if scenario.time_to_power.enabled:
        names += ("grid_connection_lead_times",)
    return names


def supply_tables(scenario: Scenario) -> SupplyTables | None:
    """The supply tables the scenario needs (on-site ones, lead times), or None."""
    names = supply_table_names(scenario)
    if not names:
        return None
    return load_supply_tables(dataset_paths(scenario), names)


def _delay_cost(scenario: Scenario, params: dict[str, float]) -> float:
    """Delay cost per MW of IT per year: the scenario's, else the parameter."""
    if scenario.time_to_power.delay_cost_usd_per_mw_yr is not None:
        return float(scenario.time_to_power.delay_cost_usd_per_mw_yr)
    if "delay_cost_usd_per_mw_yr" not in params:
        raise ScenarioError(scenario.source, "time_to_power.delay_cost_usd_per_mw_yr", None,
                            "a value, or the parameter delay_cost_usd_per_mw_yr in parameters.csv")
    return params["delay_cost_usd_per_mw_yr"]


def delayed_clusters(clusters: pd.DataFrame, max_delay_years: int, last_year: int) -> pd.DataFrame:
    """Each cluster once per online year it may take: its requested year, and up to *max_delay_years*
    later ones inside the horizon (``cluster_id`` repeats; ``online_year`` is the variant's)."""
    delays = np.arange(max_delay_years + 1)
    online = clusters["online_year"].to_numpy(dtype=int)
    k, d = np.divmod(np.arange(len(clusters) * len(delays)), len(delays))
    keep = online[k] + delays[d] <= last_year
    out = clusters.iloc[k[keep]].copy()
    out["online_year"] = online[k[keep]] + delays[d[keep]]
    return out


def state_zones(regions: pd.DataFrame) -> dict[str, list[str]]:
    """Zones of each split state: ``{"US-IL": ["US-IL-MISO", "US-IL-PJM"], ...}``.

    A state id stands for all its zones wherever a scenario names a region
    (``allowed_regions``, ``user_hub.region_id``, ``overrides.regions``,
    ``extra_moratoria``), so scenarios written for 0.1.0 keep working. States
    that are a single zone keep their id as the zone id and are not listed.

    Parameters
    ----------
    regions
        The regions (zones) table, with ``state_id``.

    Returns
    -------
    dict
        State id -> zone ids, in table order.
    """
    out: dict[str, list[str]] = {}
    if "state_id" not in regions.columns:
        return out
    for rid, sid in zip(regions["region_id"], regions["state_id"]):
        if sid != rid and sid not in regions.index:
            out.setdefault(sid, []).append(rid)
    return out


def firm_headroom(grids: pd.DataFrame, params: dict[str, float]) -> pd.DataFrame:
    """Firm headroom from the named assumption where the table says so.

    Grid regions with ``firm_rule == "share_of_0p25pct"`` get
    ``firm_headroom_mw = firm_share_of_0p25pct_headroom x headroom_0p25pct_mw``
    (no published firm figure: all but PJM in the bundled table); the others keep
    their published value. Scenario overrides of ``firm_headroom_mw`` apply after this.

    Parameters
    ----------
    grids
        The grid-regions table.
    params
        Parameter values after scenario overrides.

    Returns
    -------
    pandas.DataFrame
        A copy with ``firm_headroom_mw`` set.
    """
    g = grids.copy()
    if "firm_rule" not in g.columns:
        return g
    derived = g["firm_rule"] == "share_of_0p25pct"
    g.loc[derived, "firm_headroom_mw"] = params["firm_share_of_0p25pct_headroom"] * g.loc[derived, "headroom_0p25pct_mw"]
    return g


def _user_path(scenario: Scenario, key: str) -> Path:
    path = Path(getattr(scenario, key))
    if not path.is_absolute() and scenario.base_dir is not None:
        path = scenario.base_dir / path
    if not is_file(path):
        raise ScenarioError(scenario.source, key, getattr(scenario, key), "the path of an existing file")
    return path


# --------------------------------------------------------------------------- tables and overrides


def dataset_paths(scenario: Scenario) -> dict[str, Path]:
    """The user-supplied tables of *scenario* (absolute paths); bundled ones are absent."""
    out: dict[str, Path] = {}
    for name, value in scenario.datasets.model_dump().items():
        if value != "bundled":
            path = Path(value)
            if not path.is_absolute() and scenario.base_dir is not None:
                path = scenario.base_dir / path
            if not is_file(path):
                raise ScenarioError(scenario.source, f"datasets.{name}", value, "'bundled' or the path of an existing CSV")
            out[name] = path
    return out


def _parameters(scenario: Scenario, tables: Tables) -> dict[str, float]:
    params = {k: float(v) for k, v in tables.parameters["value"].items()}
    params.setdefault("firm_share_of_0p25pct_headroom", 0.25)  # 0.1.0 parameter tables (firm headroom published)
    for name, value in scenario.parameters.items():
        if name not in params:
            raise ScenarioError(scenario.source, f"parameters.{name}", value, f"one of {', '.join(sorted(params))}")
        params[name] = float(value)
    for name, (low, high) in PARAMETER_RANGES.items():
        if name not in params:
            raise ScenarioError(tables.files["parameters"], name, None, "this parameter to be present")
        if not low <= params[name] <= high:
            raise ScenarioError(scenario.source, f"parameters.{name}", params[name], f"a value in {low:g}..{high:g}")
    for name, (low, high) in OPTIONAL_PARAMETER_RANGES.items():
        if name in params and not low <= params[name] <= high:
            raise ScenarioError(scenario.source, f"parameters.{name}", params[name], f"a value in {low:g}..{high:g}")
    return params


def _apply_overrides(df: pd.DataFrame, overrides: dict, schema, key: str, src: str) -> pd.DataFrame:
    if not overrides:
        return df
    df = df.copy()
    for rid, fields in overrides.items():
        if rid not in df.index:
            raise ScenarioError(src, f"{key}.{rid}", rid, f"an id in the {schema.name} table")
        for name, value in fields.items():
            col = schema.column(name)
            if col is None or name == schema.key:
                raise ScenarioError(src, f"{key}.{rid}.{name}", value, f"a field of {schema.name}: {', '.join(schema.names[1:])}")
            if col.kind != "str":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                    raise ScenarioError(src, f"{key}.{rid}.{name}", value, "a finite number")
                if (col.low is not None and value < col.low) or (col.high is not None and value > col.high):
                    raise ScenarioError(src, f"{key}.{rid}.{name}", value, f"{col.description}, in {col.low:g}..{col.high:g}")
            elif not isinstance(value, str):
                raise ScenarioError(src, f"{key}.{rid}.{name}", value, f"a string ({col.description})")
            elif col.choices and value not in col.choices:
                raise ScenarioError(src, f"{key}.{rid}.{name}", value, f"one of {', '.join(col.choices)}")
            df.loc[rid, name] = value
    try:  # the rules across columns again (e.g. headroom must not shrink as curtailment grows)
        check_rules(df, schema, f"{schema.name} table")
    except DataError as exc:
        raise ScenarioError(src, key, list(overrides), str(exc)) from None
    return df


def _check_override_joins(scenario: Scenario, regions: pd.DataFrame, grids: pd.DataFrame, tables: Tables) -> None:
    """Overrides must keep the tables joined: grid regions exist, countries agree."""
    try:
        check_joins({"regions": regions, "grid_regions": grids, "moratoria": tables.moratoria}, tables.files)
    except DataError as exc:
        bad = exc.rows[0] if exc.rows else ""
        field = exc.column if exc.column in ("grid_region_id", "country") else ""
        path = f"overrides.regions.{bad}.{field}" if field else "overrides"
        value = regions.loc[bad, field] if field and bad in regions.index else None
        raise ScenarioError(scenario.source, path, value, "a grid region of the same country (grid_regions table)") from None


def _derive_region_columns(regions: pd.DataFrame, p: dict[str, float], scenario: Scenario) -> pd.DataFrame:
    r = regions.copy()
    adders = p["cn_td_adder_usd_per_mwh"] + p["cn_surcharge_usd_per_mwh"]
    wholesale = r["price_basis"] == "wholesale_coal_benchmark"
    r["industrial_price_usd_per_mwh"] = r["price_usd_per_mwh"] + np.where(wholesale, adders, 0.0)
    r["pue"] = r["climate_class"].map({c: p[f"pue_{c}"] for c in ("cool", "temperate", "hot")}).astype(float)
    capex = r["country"].map({"US": p["capex_usd_per_mw_us"], "CN": p["capex_usd_per_mw_cn"]})
    r["capex_usd_per_mw"] = r["capex_index"] * capex
    prices = {"US": 0.0, "CN": 0.0, **scenario.carbon_price_usd_per_tco2}
    r["carbon_price_usd_per_tco2"] = r["country"].map(prices).astype(float)
    return r


def _expansion(grids: pd.DataFrame, scenario: Scenario, p: dict[str, float], connection_lead: pd.Series | None = None) -> pd.DataFrame:
    """Expansion option per grid region: scenario entry for the grid region, else for
    its country, else the country defaults in parameters.csv (``expansion_*_us|cn``).

    With time to power (*connection_lead*, years per grid region), a grid region
    without a scenario entry of its own or its country's takes its connection
    lead time instead of the country's default lead time: new capacity for
    large loads comes online that many years after the first planning year."""
    g = grids.copy()
    for key in scenario.expansion:
        if key not in ("US", "CN") and key not in g.index:
            raise ScenarioError(scenario.source, f"expansion.{key}", key, "US, CN or a grid region id")
    cost, lead, cap = [], [], []
    for gid, country in g["country"].items():
        opt = scenario.expansion.get(gid) or scenario.expansion.get(country)
        cc = country.lower()
        cost.append(opt.cost_usd_per_kw if opt else p[f"expansion_cost_usd_per_kw_{cc}"])
        default_lead = connection_lead[gid] if connection_lead is not None else p[f"expansion_lead_time_years_{cc}"]
        lead.append(opt.lead_time_years if opt else default_lead)
        cap.append(opt.max_mw_per_year if opt else p[f"expansion_max_mw_per_year_{cc}"])
    g["expansion_cost_usd_per_kw"] = np.array(cost, dtype=float)
    lead_years = np.array(lead, dtype=float)
    if (lead_years % 1 != 0).any():
        raise ScenarioError(scenario.source, "parameters.expansion_lead_time_years_*", float(lead_years[lead_years % 1 != 0][0]),
                            "a whole number of years")
    g["expansion_lead_time_years"] = lead_years.astype(int)
    g["expansion_max_mw_per_year"] = np.array(cap, dtype=float)
    return g


def _clusters(scenario: Scenario, regions: pd.DataFrame, zones_of: dict[str, list[str]] | None = None) -> pd.DataFrame:
    zones_of = zones_of if zones_of is not None else state_zones(regions)
    rows = []
    for i, c in enumerate(scenario.clusters):
        allowed: list[str] = []
        for j, rid in enumerate(c.allowed_regions or ()):
            if rid not in regions.index and rid not in zones_of:
                raise ScenarioError(scenario.source, f"clusters[{i}].allowed_regions[{j}]", rid, "a region id such as US-VA or CN-GS")
            allowed += zones_of.get(rid, [rid])
        hub_lon = hub_lat = rtt = np.nan
        if c.user_hub is not None:
            rtt = c.user_hub.max_rtt_ms
            if c.user_hub.region_id is not None:
                hub = c.user_hub.region_id
                if hub in regions.index:
                    hub_lon, hub_lat = regions.loc[hub, ["lon", "lat"]]
                elif hub in zones_of:  # a state id: the state's own point
                    hub_lon, hub_lat = regions.loc[zones_of[hub][0], ["state_lon", "state_lat"]]
                else:
                    raise ScenarioError(scenario.source, f"clusters[{i}].user_hub.region_id", hub, "a region id such as US-VA or CN-GS")
            else:
                hub_lon, hub_lat = c.user_hub.lon, c.user_hub.lat  # type: ignore[assignment]  # both set by the schema
        rows.append(
            {
                "cluster_id": c.id,
                "home_country": c.home_country,
                "it_load_mw": c.it_load_mw,
                "online_year": c.online_year,
                "utilisation": c.utilisation,
                "curtailment_pct": c.curtailment_pct,
                "allowed_countries": ";".join(c.allowed_countries or (("US", "CN") if scenario.allow_cross_border else (c.home_country,))),
                "allowed_regions": ";".join(dict.fromkeys(allowed)),
                "hub_lon": hub_lon,
                "hub_lat": hub_lat,
                "hub_region_id": c.user_hub.region_id if c.user_hub and c.user_hub.region_id else "",
                "max_rtt_ms": rtt,
                "pue_override": c.pue if c.pue is not None else np.nan,
                "indivisible": c.indivisible,
                "approval_lead_years": c.approval_lead_years if c.approval_lead_years is not None else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("cluster_id", drop=False).rename_axis(None)


def _moratoria(scenario: Scenario, table: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """The moratoria that apply: table rows chosen by id or ``status:<status>``, plus ``extra_moratoria``.

    Scope is kept as written: a state row covers every zone of its state, a
    county, city or utility row only its county (see ``_rule_masks`` and
    ``local_zone_limits``). Extra moratoria written in a scenario are state-wide
    (or zone-wide) and block clusters coming online in their window (kind
    ``connections``, the 0.1.0 rule).
    """
    chosen: list[str] = []
    for i, sel in enumerate(scenario.moratoria):
        if sel.startswith("status:"):
            chosen += list(table.index[table["status"] == sel[7:]])
        elif sel in table.index:
            chosen.append(sel)
        else:
            raise ScenarioError(scenario.source, f"moratoria[{i}]", sel, "a moratorium id from datasets/moratoria.csv or status:<status>")
    applied = table.loc[list(dict.fromkeys(chosen))].copy()
    states = set(regions["state_id"]) if "state_id" in regions.columns else set()
    extra: list[dict[str, object]] = []
    for i, m in enumerate(scenario.extra_moratoria):
        if m.region_id not in regions.index and m.region_id not in states:
            raise ScenarioError(scenario.source, f"extra_moratoria[{i}].region_id", m.region_id, "a region id such as US-VA or CN-GS")
        if m.moratorium_id in table.index or m.moratorium_id in {e["moratorium_id"] for e in extra}:
            raise ScenarioError(scenario.source, f"extra_moratoria[{i}].moratorium_id", m.moratorium_id, "an id not already in the moratoria table")
        extra.append(
            {
                "moratorium_id": m.moratorium_id,
                "region_id": m.region_id,
                "scope": "state",
                "jurisdiction": "scenario",
                "county_fips": "",
                "zone_capacity_share": np.nan,
                "zone_share_source": "",
                "kind": "connections",
                "status": m.status,
                "decision_date": "",
                "from_year": m.from_year,
                "until_year": m.until_year,
                "size_threshold_mw": np.nan,
                "as_of": "",
                "window_note": "",
                "source": m.source,
            }
        )
    if extra:
        applied = pd.concat([applied, pd.DataFrame(extra).set_index("moratorium_id", drop=False)])
    return applied.rename_axis(None)


def local_zone_limits(regions: pd.DataFrame, grids: pd.DataFrame, moratoria: pd.DataFrame, first_year: int,
                      last_year: int) -> pd.DataFrame:
    """Region-level studies: a county, city or utility measure removes its share of its zone's capacity.

    For each zone with applied local measures in force at some time from
    ``first_year - approval lead`` to ``last_year`` (an approvals pause before the
    horizon still blocks clusters coming online in it), the zone's capacity for
    new load is its grid region's 1 % curtailment headroom plus the most
    expansion the grid region can add over the horizon, or the zone's own
    ``max_new_load_mw`` if lower; the measures remove ``sum(zone_capacity_share)``
    (at most 1) of it and the rest becomes the zone's ``max_new_load_mw``, which
    the region-limit rows enforce. A local measure never closes its state: it
    touches one zone, by its documented share. (In a sites study the county
    polygon decides instead, site by site; this function is not used.)

    Parameters
    ----------
    regions
        Zones with ``max_new_load_mw`` (NaN: no limit) and ``grid_region_id``.
    grids
        Grid regions with ``headroom_1pct_mw`` and ``expansion_max_mw_per_year``.
    moratoria
        The applied moratoria (``_moratoria``).
    first_year, last_year
        The planning horizon.

    Returns
    -------
    pandas.DataFrame
        *regions*, with ``max_new_load_mw`` and ``max_new_load_source`` changed where a local measure applies.
    """
    if not len(moratoria):
        return regions
    local = moratoria[(moratoria["scope"] != "state") & moratoria["region_id"].isin(regions.index)]
    local = local[(local["from_year"] <= last_year) & (local["until_year"] >= first_year - APPROVAL_LEAD_YEARS_DEFAULT)]
    share = local["zone_capacity_share"].astype(float).fillna(0.0)
    local = local[share > 0]
    if not len(local):
        return regions
    r = regions.copy()
    if "max_new_load_source" not in r.columns:
        r["max_new_load_source"] = ""
    n_years = last_year - first_year + 1
    for zone, rows in local.groupby("region_id", sort=True):
        removed = min(float(rows["zone_capacity_share"].astype(float).sum()), 1.0)
        g = grids.loc[r.at[zone, "grid_region_id"]]
        capacity = float(g["headroom_1pct_mw"]) + float(g.get("expansion_max_mw_per_year", 0.0)) * n_years
        own = r.at[zone, "max_new_load_mw"]
        if pd.notna(own):
            capacity = min(capacity, float(own))
        r.at[zone, "max_new_load_mw"] = (1.0 - removed) * capacity
        r.at[zone, "max_new_load_source"] = (
            f"derived: {1 - removed:.6f} x {capacity:,.1f} MW (zone capacity: grid region 1% headroom + expansion "
            f"over the horizon, or the zone's own limit) after local measures {', '.join(rows.index)} "
            f"removing {removed:.6f} (moratoria.csv zone_capacity_share)"
        )
    return r


def apply_cost_adders(scenario: Scenario, pairs: pd.DataFrame, regions: pd.DataFrame, clusters: pd.DataFrame,
                      params: dict[str, float]) -> pd.DataFrame:
    """Add the chosen cost adders (``cost_adders:``) to the pair costs.

    A cost adder is a measure that makes a place dearer without closing it (Illinois pausing its data-center
    tax incentive). For each chosen row of ``datasets/cost_adders.csv`` and each pair in its place (a state
    id covers every zone of the state) whose cluster it applies to (``kind`` approvals: approval year
    ``online - approval_lead_years`` in the window; connections: online year in it), the pair cost grows by
    ``usd_per_mw_it x it_load_mw``, discounted from the online year to the first planning year like every
    other cost.

    Parameters
    ----------
    scenario
        The scenario (its ``cost_adders`` selectors, horizon and discount rate).
    pairs
        Eligible pairs with ``pair_cost_usd``.
    regions, clusters
        Zones (with ``state_id``) and clusters (with ``approval_lead_years``).
    params
        Parameters (``approval_lead_years`` default).

    Returns
    -------
    pandas.DataFrame
        *pairs* with ``pair_cost_usd`` raised where an adder applies.
    """
    if not scenario.cost_adders:
        return pairs
    from planner.data.load import bundled_dir, read_table
    from planner.data.schemas import COST_ADDERS

    table = read_table(bundled_dir() / "cost_adders.csv", COST_ADDERS)
    chosen: list[str] = []
    for i, sel in enumerate(scenario.cost_adders):
        if sel.startswith("status:"):
            chosen += list(table.index[table["status"] == sel[7:]])
        elif sel in table.index:
            chosen.append(sel)
        else:
            raise ScenarioError(scenario.source, f"cost_adders[{i}]", sel, "an adder id from datasets/cost_adders.csv or status:<status>")
    if not chosen or not len(pairs):
        return pairs
    pairs = pairs.copy()
    state_of = regions["state_id"] if "state_id" in regions.columns else pd.Series(regions.index, index=regions.index)
    state = pairs["region_id"].map(state_of).to_numpy(dtype=object)
    default_lead = float(params.get("approval_lead_years", APPROVAL_LEAD_YEARS_DEFAULT))
    lead = pairs["cluster_id"].map(clusters["approval_lead_years"]).fillna(default_lead).to_numpy(dtype=float)
    online = pairs["online_year"].to_numpy(dtype=int)
    discount = (1.0 + scenario.discount_rate) ** -(online - scenario.horizon.first_year)
    extra = np.zeros(len(pairs))
    for aid in dict.fromkeys(chosen):
        a = table.loc[aid]
        at = (pairs["region_id"].to_numpy(dtype=object) == a["region_id"]) | (state == a["region_id"])
        when = moratorium_window_hits(a["kind"], online, lead, int(a["from_year"]), int(a["until_year"]))
        extra += np.where(at & when, float(a["usd_per_mw_it"]) * pairs["it_load_mw"].to_numpy(dtype=float) * discount, 0.0)
    pairs["pair_cost_usd"] = pairs["pair_cost_usd"].to_numpy(dtype=float) + extra
    return pairs


# --------------------------------------------------------------------------- eligibility


def great_circle_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine distance, km, between arrays of points in degrees."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    return _haversine_km(lon1, lat1, np.cos(lat1), lon2, lat2, np.cos(lat2))


def _haversine_km(lon1, lat1, coslat1, lon2, lat2, coslat2) -> np.ndarray:
    """Haversine distance, km, from radians (cosines of the latitudes given, so they can be precomputed)."""
    a = np.sin((lat2 - lat1) / 2) ** 2 + coslat1 * coslat2 * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def round_trip_ms(distance_km: np.ndarray, params: dict[str, float]) -> np.ndarray:
    """Round-trip latency: 2 x distance x route factor / fibre speed."""
    return 2.0 * distance_km * params["route_factor"] / params["fibre_km_per_ms"]


def region_locations(regions: pd.DataFrame) -> pd.DataFrame:
    """Regions as places a cluster can go (a region-level study)."""
    loc = regions.copy()
    loc["site_id"] = ""
    loc["site_lead_time_years"] = 0.0
    return loc


def site_locations(sites: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """Sites as places a cluster can go: each carries its region's data and its own point."""
    loc = regions.loc[sites["region_id"]].reset_index(drop=True)
    loc["site_id"] = sites["site_id"].to_numpy()
    loc["lon"] = sites["lon"].to_numpy(dtype=float)
    loc["lat"] = sites["lat"].to_numpy(dtype=float)
    loc["site_lead_time_years"] = sites["lead_time_years"].to_numpy(dtype=float)
    return loc.set_index("site_id", drop=False).rename_axis(None)


def add_pair_costs(pairs: pd.DataFrame, costs: pd.DataFrame, sites: pd.DataFrame, clusters: pd.DataFrame,
                   regions: pd.DataFrame, label: str) -> pd.DataFrame:
    """Join the optional pair-cost table onto the eligible pairs.

    Every row must name a known cluster and a location of this study (a site
    id in a site study, a region id otherwise); an eligible pair without a row
    costs nothing extra.
    """
    locations = sites.index if len(sites) else regions.index
    bad = ~costs["cluster_id"].isin(clusters.index)
    if bad.any():
        raise DataError(label, "cluster_id", list(costs.index[bad]), "not a cluster of the scenario")
    bad = ~costs["location_id"].isin(locations)
    if bad.any():
        kind = "site id of the sites table" if len(sites) else "region id (this is a region-level study)"
        raise DataError(label, "site_id" if len(sites) else "region_id", list(costs.index[bad]), f"not a {kind}")
    ids = pairs[["cluster_id", "region_id", "site_id"]].astype(str)  # ids as text (the pairs hold them as codes)
    location = ids["site_id"].where(ids["site_id"] != "", ids["region_id"])
    key = ids["cluster_id"] + "|" + location
    pairs = pairs.copy()
    pairs["pair_cost_usd"] = key.map(costs["cost_usd"]).fillna(0.0).to_numpy()
    return pairs


def eligible_pairs(clusters: pd.DataFrame, regions: pd.DataFrame, moratoria: pd.DataFrame, params: dict[str, float], first_year: int):
    """The eligible (cluster, location) pairs, and why the others are excluded.

    *regions* are the locations: regions (``region_locations``) or sites
    (``site_locations``). The rules are evaluated on flat arrays over all
    cluster x location combinations; only eligible pairs are materialised as a
    table. For clusters left with no usable pair, every candidate and the rule
    that excluded it are returned too (for explanations).
    """
    nk = len(clusters)
    rules = candidate_rules(clusters, regions, moratoria, params, first_year,  # == _rule_masks on the eligible combinations
                            _haversine_km, round_trip_ms, _moratorium_blocks)
    ki, ri, eligible, blocked = rules["ki"], rules["ri"], rules["eligible"], rules["blocked"]
    usable = eligible & (blocked < 0)
    stuck_k = np.flatnonzero(np.bincount(ki, weights=usable, minlength=nk) == 0)

    idx = np.flatnonzero(eligible)
    ke, re_ = ki[idx], ri[idx]
    cv = _columns(clusters, ("pue_override", "it_load_mw", "utilisation", "online_year", "curtailment_pct", "indivisible"))
    rv = _columns(regions, ("pue", "industrial_price_usd_per_mwh", "co2_tco2_per_mwh", "carbon_price_usd_per_tco2",
                            "capex_usd_per_mw"))
    pue_k = cv["pue_override"].astype(float)
    pue = np.where(np.isnan(pue_k[ke]), rv["pue"][re_], pue_k[ke]).astype(float)
    # each column: a value per pair, or (per-cluster or per-location values, the pairs' positions in them)
    columns = {
        "cluster_id": id_codes(clusters["cluster_id"], ke),
        "region_id": id_codes(regions["region_id"], re_),
        "site_id": id_codes(regions["site_id"], re_),
        "country": id_codes(regions["country"], re_),
        "grid_region_id": id_codes(regions["grid_region_id"], re_),
        "it_load_mw": (cv["it_load_mw"], ke),
        "pue": pue,
        "utilisation": (cv["utilisation"], ke),
        "online_year": cv["online_year"][ke].astype(int),
        "curtailment_pct": (cv["curtailment_pct"], ke),
        "price_usd_per_mwh": (rv["industrial_price_usd_per_mwh"], re_),
        "co2_tco2_per_mwh": (rv["co2_tco2_per_mwh"], re_),
        "carbon_price_usd_per_tco2": (rv["carbon_price_usd_per_tco2"], re_),
        "capex_usd_per_mw": (rv["capex_usd_per_mw"], re_),
        "distance_km": (rules["dist"], idx),
        "rtt_ms": (rules["rtt"], idx),
        "blocked_by": _moratorium_ids(moratoria, blocked[idx], codes=True),
        "indivisible": cv["indivisible"][ke].astype(bool),
        "pair_cost_usd": np.zeros(len(idx)),
    }
    return _pairs_frame(columns, len(idx)), _exclusions(clusters, regions, moratoria, params, first_year, stuck_k)


def _columns(frame: pd.DataFrame, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The NumPy arrays of *names* in *frame* (only these: converting a whole table's string columns to
    Python objects is most of the cost)."""
    return {name: frame[name].to_numpy() for name in names}


def _pairs_frame(columns: dict, n: int) -> pd.DataFrame:
    """``pd.DataFrame(columns)`` for the pairs table, where a ``(values, positions)`` column is gathered as floats
    straight into the frame's one float block (pandas would copy a dozen gathered 0.8 M-row columns into
    one block; at size 4 that memory traffic cost 0.1-0.5 s). The same table, column for column."""
    floats = [name for name, col in columns.items() if isinstance(col, tuple) or (isinstance(col, np.ndarray) and col.dtype == float)]
    block = np.empty((len(floats), n))
    for row, name in zip(block, floats):
        col = columns[name]
        if isinstance(col, tuple):
            np.take(np.asarray(col[0], dtype=float), col[1], out=row, mode="clip")  # valid positions; "raise" buffers out
        else:
            row[:] = col
    frame = pd.DataFrame(block.T, columns=floats, copy=False)
    for pos, (name, col) in enumerate(columns.items()):
        if name not in floats:
            frame.insert(pos, name, col)
    return frame


def _rule_masks(clusters, regions, moratoria, params, first_year, ks: np.ndarray) -> dict[str, np.ndarray]:
    """Each eligibility rule as a flat mask over clusters *ks* x all locations.

    Strings are compared once on the small tables; the flat arrays only gather
    booleans, integers and floats. ``blocked`` holds the position of the
    moratorium (in *moratoria*) that blocks a pair, or -1.
    """
    nr = len(regions)
    ki = np.repeat(ks, nr)
    ri = np.tile(np.arange(nr), len(ks))
    codes = ("US", "CN")
    loc_code = pd.Index(codes).get_indexer(regions["country"])
    allows = np.array([[c in a.split(";") for c in codes] for a in clusters["allowed_countries"]], dtype=bool).reshape(-1, 2)
    country_ok = allows[ki, loc_code[ri]]
    region_ok = np.ones(len(ki), dtype=bool)
    listed_all = clusters["allowed_regions"].to_numpy()
    for j, k in enumerate(ks):
        if listed_all[k]:
            region_ok[j * nr : (j + 1) * nr] = regions["region_id"].isin(listed_all[k].split(";")).to_numpy()
    online = clusters["online_year"].to_numpy(dtype=int)[ki]
    lead_ok = online >= first_year + regions["site_lead_time_years"].to_numpy(dtype=float)[ri]
    max_rtt = clusters["max_rtt_ms"].to_numpy(dtype=float)[ki]
    has_hub = ~np.isnan(max_rtt)
    dist = np.full(len(ki), np.nan)
    hub = np.flatnonzero(has_hub & country_ok & region_ok & lead_ok)  # distances only where they can matter
    if len(hub):
        lon_k, lat_k = (np.radians(clusters[c].to_numpy(dtype=float)) for c in ("hub_lon", "hub_lat"))
        lon_r, lat_r = (np.radians(regions[c].to_numpy(dtype=float)) for c in ("lon", "lat"))
        kh, rh = ki[hub], ri[hub]
        dist[hub] = _haversine_km(lon_k[kh], lat_k[kh], np.cos(lat_k)[kh], lon_r[rh], lat_r[rh], np.cos(lat_r)[rh])
    rtt = round_trip_ms(dist, params)
    latency_ok = ~has_hub | (rtt <= max_rtt)
    eligible = country_ok & region_ok & latency_ok & lead_ok
    blocked = _moratorium_blocks(clusters, regions, moratoria, params, ki, ri, online, eligible)
    return {"ki": ki, "ri": ri, "country_ok": country_ok, "region_ok": region_ok, "latency_ok": latency_ok,
            "lead_ok": lead_ok, "eligible": eligible, "blocked": blocked, "dist": dist, "rtt": rtt, "max_rtt": max_rtt}


#: Default years from approval to first operation when neither the scenario's cluster nor
#: parameters.csv (``approval_lead_years``) gives one. Assumption: long-lead equipment ordered
#: after approval takes up to about two years (switchgear 46-48 weeks, generators and chillers
#: 30-40 and up to 110 weeks: Cushman & Wakefield, Data Center Development Cost Guide 2025;
#: power transformers 2-5 years: NIAC, June 2024), and building and energising a campus about a
#: year more; 3 years taken, plausible range 2-5.
APPROVAL_LEAD_YEARS_DEFAULT = 3


def approval_year(online_year: np.ndarray, lead_years: np.ndarray) -> np.ndarray:
    """Year a cluster needs its approval: online year minus its approval lead time."""
    return np.asarray(online_year) - np.asarray(lead_years)


def moratorium_window_hits(kind: str, online: np.ndarray, lead: np.ndarray, start: int, end: int) -> np.ndarray:
    """Whether a measure of *kind* in force from *start* to *end* (inclusive years) blocks each cluster.

    * ``approvals``: the cluster needs approval inside the window,
      ``start <= online - lead <= end``;
    * ``construction``: the cluster is being built inside the window, i.e. the
      years from approval to first operation, ``[online - lead, online]``,
      overlap ``[start, end]``;
    * ``connections`` and the 0.1.0 kinds: the cluster connects (comes online)
      inside the window, ``start <= online <= end``.
    """
    online = np.asarray(online)
    if kind == "approvals":
        a = approval_year(online, lead)
        return (a >= start) & (a <= end)
    if kind == "construction":
        return (approval_year(online, lead) <= end) & (online >= start)
    return (online >= start) & (online <= end)


def _moratorium_blocks(clusters: pd.DataFrame, regions: pd.DataFrame, moratoria: pd.DataFrame,
                       params: dict[str, float], ki: np.ndarray, ri: np.ndarray, online: np.ndarray,
                       eligible: np.ndarray) -> np.ndarray:
    """Position (in *moratoria*) of the first measure blocking each flat pair, or -1.

    Where: a state measure (``scope == "state"``) covers every location whose
    ``state_id`` or ``region_id`` is its ``region_id``; a county, city or utility
    measure covers the sites inside its county polygon (a sites study) and no
    whole region (in a region-level study ``local_zone_limits`` removes its
    share of the zone's capacity instead). When: ``moratorium_window_hits``
    with each cluster's ``approval_lead_years`` (default: parameter
    ``approval_lead_years``, else :data:`APPROVAL_LEAD_YEARS_DEFAULT`). Size:
    a measure with ``size_threshold_mw`` blocks only clusters whose grid load
    (IT load x the location's PUE, or the cluster's own PUE) is at least that.
    """
    blocked = np.full(len(ki), -1, dtype=np.int32)
    if not len(moratoria):
        return blocked
    region_ids = regions["region_id"].to_numpy(dtype=object)
    state_ids = regions["state_id"].to_numpy(dtype=object) if "state_id" in regions.columns else region_ids
    is_site = regions["site_id"].to_numpy(dtype=object) != "" if "site_id" in regions.columns else np.zeros(len(regions), bool)
    size = moratoria["size_threshold_mw"].astype(float).to_numpy() if "size_threshold_mw" in moratoria else np.full(len(moratoria), np.nan)
    scope = moratoria["scope"].to_numpy(dtype=object)
    fips = moratoria["county_fips"].astype(str).to_numpy() if "county_fips" in moratoria else np.full(len(moratoria), "")
    places = []  # each measure's locations
    for pos, m_region in enumerate(moratoria["region_id"]):
        if scope[pos] == "state":
            at = (region_ids == m_region) | (state_ids == m_region)
        else:
            at = np.zeros(len(regions), dtype=bool)
            if is_site.any():
                from planner.data.jurisdictions import points_in_county

                at[is_site] = points_in_county(regions["lon"].to_numpy(dtype=float)[is_site],
                                               regions["lat"].to_numpy(dtype=float)[is_site], fips[pos])
        places.append(at)
    # the rules below on the pairs at some measure's places alone (a few states' share of a national study)
    near = np.flatnonzero(np.logical_or.reduce(places)[ri]) if places else np.zeros(0, dtype=np.int64)
    if not len(near):
        return blocked
    k, r = ki[near], ri[near]
    default_lead = float(params.get("approval_lead_years", APPROVAL_LEAD_YEARS_DEFAULT))
    lead_k = clusters["approval_lead_years"].to_numpy(dtype=float) if "approval_lead_years" in clusters else np.full(len(clusters), np.nan)
    lead = np.where(np.isnan(lead_k), default_lead, lead_k)[k]
    pue_k = clusters["pue_override"].to_numpy(dtype=float)[k]
    pue = np.where(np.isnan(pue_k), regions["pue"].to_numpy(dtype=float)[r], pue_k)
    grid_mw = clusters["it_load_mw"].to_numpy(dtype=float)[k] * pue
    online_near, usable, first = online[near], eligible[near], blocked[near]
    for pos, (at, kind, start, end) in enumerate(zip(places, moratoria["kind"], moratoria["from_year"], moratoria["until_year"])):
        where = np.flatnonzero(at[r])  # the pairs at its places
        if not len(where):
            continue
        hit = usable[where] & (first[where] < 0)
        hit &= moratorium_window_hits(kind, online_near[where], lead[where], int(start), int(end))
        if not np.isnan(size[pos]):
            hit &= grid_mw[where] >= size[pos]
        first[where[hit]] = pos
    blocked[near] = first
    return blocked


def _moratorium_ids(moratoria: pd.DataFrame, positions: np.ndarray, codes: bool = False):
    """Moratorium ids for positions from ``_rule_masks`` ("" where -1); with *codes*, as a Categorical
    (the pairs table's ids: see :func:`planner.eligibility.id_codes`)."""
    ids = np.append(moratoria.index.to_numpy(dtype=object), "")
    where = np.where(positions < 0, len(ids) - 1, positions)
    return id_codes(pd.Series(ids, dtype="str"), where) if codes else ids[where]


def _exclusions(clusters, regions, moratoria, params, first_year, stuck_k: np.ndarray) -> pd.DataFrame:
    """For each cluster with no usable pair: every candidate and the rule that excluded it."""
    cols = ["cluster_id", "region_id", "site_id", "rule", "detail"]
    if len(stuck_k) == 0:
        return pd.DataFrame(columns=cols)
    m = _rule_masks(clusters, regions, moratoria, params, first_year, stuck_k)
    blocked_ids = _moratorium_ids(moratoria, m["blocked"])
    reasons = np.select(
        [~m["country_ok"], ~m["region_ok"], ~m["latency_ok"], ~m["lead_ok"], m["blocked"] >= 0],
        ["country policy", "not in allowed_regions", "latency", "site lead time", "moratorium"],
        "eligible",
    )
    keep = reasons != "eligible"
    allowed = clusters["allowed_countries"].to_numpy()[m["ki"]]
    detail = []
    for rule, t, lim, d, mid, allow in zip(reasons[keep], m["rtt"][keep], m["max_rtt"][keep], m["dist"][keep], blocked_ids[keep], allowed[keep]):
        if rule == "latency":
            detail.append(f"{t:.0f} ms round trip > {lim:.0f} ms ({d:,.0f} km)")
        elif rule == "country policy":
            detail.append("allowed: " + allow.replace(";", ", "))
        elif rule == "moratorium":
            mor = moratoria.loc[mid]
            size = mor.get("size_threshold_mw", np.nan)
            size_txt = f", clusters of {size:g} MW or more" if pd.notna(size) else ""
            detail.append(f"{mid} ({mor['status']}, {mor['scope']} {mor['kind']} pause {mor['from_year']}-"
                          f"{mor['until_year']}{size_txt}; {mor['source']})")
        else:
            detail.append("")
    return pd.DataFrame(
        {
            "cluster_id": clusters["cluster_id"].to_numpy()[m["ki"][keep]],
            "region_id": regions["region_id"].to_numpy()[m["ri"][keep]],
            "site_id": regions["site_id"].to_numpy()[m["ri"][keep]],
            "rule": reasons[keep],
            "detail": detail,
        },
        columns=cols,
    )

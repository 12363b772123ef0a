"""Schemas of the data tables: one source of truth for columns, units and ranges.

Each column is declared once with its kind, plausible range and whether it
may be blank. :func:`planner.data.load.check_table` applies them when a table
is read, and raises :class:`~planner.errors.DataError` naming the file, the
column and the offending rows. Ranges are *plausibility* checks: a price of
8.9 where USD/MWh is expected is a price in cents and is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str", "float", "int"
    description: str
    low: float | None = None
    high: float | None = None
    optional: bool = False
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableSchema:
    name: str
    key: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


S, F, I = "str", "float", "int"

REGIONS = TableSchema(
    "regions",
    "region_id",
    (
        Column("region_id", S, "ISO 3166-2 id, e.g. US-VA, CN-GS"),
        Column("name", S, "English name"),
        Column("country", S, "US or CN", choices=("US", "CN")),
        Column("state_id", S, "ISO 3166-2 id of the state or province the zone is part of (blank: region_id)", optional=True),
        Column("zone_share_of_state", F, "the zone's share of its state's demand (blank: 1)", 0, 1, optional=True),
        Column("zone_share_source", S, "source of the zone share", optional=True),
        Column("grid_region_id", S, "grid region the region belongs to (grid_regions.csv)"),
        Column("grid_region_source", S, "why the zone is in its grid region", optional=True),
        Column("lon", F, "representative point longitude, degrees", -180, 180),
        Column("lat", F, "representative point latitude, degrees", -90, 90),
        Column("state_lon", F, "the state's representative point longitude (a state id as hub), degrees", -180, 180, optional=True),
        Column("state_lat", F, "the state's representative point latitude, degrees", -90, 90, optional=True),
        Column("point_source", S, "source of lon/lat"),
        Column("price_usd_per_mwh", F, "electricity price before adders, USD/MWh", 15, 500),
        Column("price_year", I, "year of the price", 2000, 2100),
        Column("price_basis", S, "retail_industrial or wholesale_coal_benchmark",
               choices=("retail_industrial", "wholesale_coal_benchmark")),
        Column("price_source", S, "source of the price"),
        Column("co2_tco2_per_mwh", F, "grid CO2 intensity, tCO2/MWh", 0, 1.5),
        Column("co2_year", I, "year of the CO2 intensity", 2000, 2100),
        Column("co2_source", S, "source of the CO2 intensity"),
        Column("climate_class", S, "cool, temperate or hot: sets the default PUE",
               choices=("cool", "temperate", "hot")),
        Column("climate_source", S, "reason for the climate class"),
        Column("capex_index", F, "multiplier on the country's construction cost per MW", 0.2, 5),
        Column("capex_source", S, "source of the capex index"),
        Column("dc_share_of_electricity_pct", F, "data-center share of state electricity, %", 0, 100, optional=True),
        Column("dc_share_source", S, "source of the data-center share"),
        Column("annual_demand_mwh", F, "annual electricity demand (or generation stand-in), MWh", 1e5, 2e10),
        Column("demand_source", S, "source of the demand"),
        Column("max_new_load_mw", F, "region-level limit on new data-center grid load, MW", 0, 1e6, optional=True),
        Column("max_new_load_source", S, "source of the region-level limit", optional=True),
    ),
)

GRID_REGIONS = TableSchema(
    "grid_regions",
    "grid_region_id",
    (
        Column("grid_region_id", S, "grid region id: US RTO/BA group or CN-<regional grid>"),
        Column("name", S, "name"),
        Column("country", S, "US or CN", choices=("US", "CN")),
        Column("member_bas", S, "balancing authorities or provincial grids it stands for"),
        Column("firm_headroom_mw", F, "new load servable at all hours without new capacity, MW", 0, 1e6),
        Column("headroom_0p25pct_mw", F, "new load servable if it accepts 0.25% curtailment, MW", 0, 1e6),
        Column("headroom_0p5pct_mw", F, "new load servable if it accepts 0.5% curtailment, MW", 0, 1e6),
        Column("headroom_1pct_mw", F, "new load servable if it accepts 1% curtailment, MW", 0, 1e6),
        Column("firm_rule", S, "published: firm_headroom_mw as given; share_of_0p25pct: firm headroom = "
               "parameter firm_share_of_0p25pct_headroom x headroom_0p25pct_mw at load time (blank: published)",
               optional=True, choices=("published", "share_of_0p25pct")),
        Column("headroom_year", I, "year the headroom figures describe", 2000, 2100, optional=True),
        Column("firm_source", S, "source of the firm headroom"),
        Column("headroom_source", S, "source of the curtailment-enabled headroom"),
    ),
)

#: Headroom column for each curtailment level, in CURTAILMENT_LEVELS_PCT order.
HEADROOM_COLUMNS: tuple[str, ...] = (
    "firm_headroom_mw",
    "headroom_0p25pct_mw",
    "headroom_0p5pct_mw",
    "headroom_1pct_mw",
)

#: Moratorium vocabulary (datasets/moratoria.csv); see planner/model/moratoria.py for what each kind blocks.
MORATORIUM_SCOPES = ("state", "county", "city", "utility")
MORATORIUM_STATUSES = ("enacted", "proposed", "carried_over", "failed", "lifted", "expired", "as_reported")
MORATORIUM_KINDS = ("approvals", "connections", "construction")
#: 0.1.0 kinds, still read: each blocks the clusters coming online in the window (the 0.1.0 rule, = connections).
LEGACY_MORATORIUM_KINDS = ("moratorium", "permit_pause", "ban", "zoning_restriction", "connection_pause")

MORATORIA = TableSchema(
    "moratoria",
    "moratorium_id",
    (
        Column("moratorium_id", S, "unique id"),
        Column("region_id", S, "state id (every zone of the state) or zone id (regions.csv)"),
        Column("scope", S, "state, county, city or utility", choices=MORATORIUM_SCOPES),
        Column("jurisdiction", S, "who imposed it"),
        Column("county_fips", S, "county, city and utility measures: 5-digit Census FIPS code of the county "
               "(datasets/jurisdictions.geojson)", optional=True),
        Column("zone_capacity_share", F, "county, city and utility measures: share of the zone's capacity for new "
               "load the measure removes (blank: 0)", 0, 1, optional=True),
        Column("zone_share_source", S, "source or assumption behind zone_capacity_share", optional=True),
        Column("kind", S, "what it blocks: approvals, connections or construction",
               choices=MORATORIUM_KINDS + LEGACY_MORATORIUM_KINDS),
        Column("status", S, "enacted, proposed, carried_over, failed, lifted, expired or as_reported",
               choices=MORATORIUM_STATUSES),
        Column("decision_date", S, "ISO date of the vote, filing or report (YYYY-MM-DD, YYYY-MM or YYYY)", optional=True),
        Column("from_year", I, "first year covered (inclusive)", 2000, 2100),
        Column("until_year", I, "last year covered (inclusive); 2100 = open-ended", 2000, 2100),
        Column("size_threshold_mw", F, "applies only to clusters whose grid load (IT x PUE) is at least this, MW "
               "(blank: every size)", 0, 1e6, optional=True),
        Column("as_of", S, "date the row was checked against the public record (ISO date)", optional=True),
        Column("window_note", S, "exact dates as published", optional=True),
        Column("source", S, "source"),
    ),
)

#: Measures that are a cost, not a ban (datasets/cost_adders.csv), e.g. a paused tax incentive: a one-off
#: cost per MW of IT load, added to the pair cost of the clusters it applies to (planner.inputs.apply_cost_adders).
COST_ADDERS = TableSchema(
    "cost_adders",
    "adder_id",
    (
        Column("adder_id", S, "unique id"),
        Column("region_id", S, "state id (every zone of the state) or zone id (regions.csv)"),
        Column("kind", S, "approvals: clusters needing approval in the window; connections: clusters coming "
               "online in it", choices=("approvals", "connections")),
        Column("status", S, "enacted, proposed, carried_over, failed, lifted, expired or as_reported",
               choices=MORATORIUM_STATUSES),
        Column("decision_date", S, "ISO date of the decision (YYYY-MM-DD, YYYY-MM or YYYY)", optional=True),
        Column("from_year", I, "first year covered (inclusive)", 2000, 2100),
        Column("until_year", I, "last year covered (inclusive); 2100 = open-ended", 2000, 2100),
        Column("usd_per_mw_it", F, "one-off cost per MW of IT load, USD (incurred in the online year)", 0, 1e8),
        Column("as_of", S, "date the row was checked against the public record", optional=True),
        Column("window_note", S, "exact dates as published", optional=True),
        Column("value_source", S, "source or assumption behind usd_per_mw_it"),
        Column("source", S, "source of the measure"),
    ),
)

#: On-site generation (issue 11): the technologies a campus can build behind the meter, their regional
#: cost multipliers and fuel prices; and the years a large load waits for a grid connection.
ONSITE_TECHNOLOGIES = TableSchema(
    "onsite_technologies",
    "technology_id",
    (
        Column("technology_id", S, "unique id, e.g. gas_recip"),
        Column("name", S, "name"),
        Column("fuel", S, "fuel burnt (fuel_prices.csv)", choices=("gas",)),
        Column("countries", S, "countries whose zones may build it: US, CN or US;CN", choices=("US", "CN", "US;CN", "CN;US")),
        Column("capex_usd_per_kw", F, "overnight capital cost before the regional multiplier, USD/kW", 50, 20_000),
        Column("cost_year", I, "dollar year of the costs", 2000, 2100),
        Column("fixed_om_usd_per_kw_yr", F, "fixed O&M, USD/kW-yr", 0, 1_000),
        Column("variable_om_usd_per_mwh", F, "variable O&M, USD/MWh", 0, 200),
        Column("heat_rate_mmbtu_per_mwh", F, "fuel burnt per MWh generated (HHV), MMBtu/MWh", 5.5, 14),
        Column("availability", F, "share of nameplate that is firm: firm capacity credit and most energy per MW", 0.05, 1),
        Column("emissions_tco2_per_mwh", F, "CO2 emitted per MWh generated, tCO2/MWh", 0, 1.5),
        Column("lead_time_years", I, "years from decision to first power on site", 0, 15),
        Column("first_year_available", I, "first year the technology can be ordered for a campus", 2000, 2100),
        Column("cost_source", S, "source of the costs"),
        Column("performance_source", S, "source of heat rate and emissions"),
        Column("availability_source", S, "source of the availability"),
        Column("lead_time_source", S, "source of the lead time"),
    ),
)

ONSITE_COST_MULTIPLIERS = TableSchema(
    "onsite_cost_multipliers",
    "state_id",
    (
        Column("state_id", S, "state or province id (regions.csv state_id)"),
        Column("multiplier", F, "regional multiplier on capex_usd_per_kw", 0.3, 3),
        Column("source", S, "source"),
    ),
)

FUEL_PRICES = TableSchema(
    "fuel_prices",
    "state_id",
    (
        Column("state_id", S, "state or province id (regions.csv state_id)"),
        Column("fuel", S, "fuel", choices=("gas",)),
        Column("price_usd_per_mmbtu", F, "delivered price, USD/MMBtu", 0.5, 60),
        Column("year", I, "year of the price", 2000, 2100),
        Column("price_kind", S, "which price (industrial, electric_power, ...)"),
        Column("source", S, "source"),
    ),
)

GRID_CONNECTION_LEAD_TIMES = TableSchema(
    "grid_connection_lead_times",
    "grid_region_id",
    (
        Column("grid_region_id", S, "grid region id (grid_regions.csv)"),
        Column("connection_lead_years", I, "years from a large load's request to energisation where new capacity "
               "is needed", 0, 20),
        Column("source", S, "source"),
    ),
)

#: The supply tables, read only when a scenario enables on-site power or time to power.
SUPPLY_SCHEMAS = {s.name: s for s in (ONSITE_TECHNOLOGIES, ONSITE_COST_MULTIPLIERS, FUEL_PRICES, GRID_CONNECTION_LEAD_TIMES)}

PARAMETERS = TableSchema(
    "parameters",
    "parameter",
    (
        Column("parameter", S, "parameter name, with units"),
        Column("value", F, "value", -1e12, 1e12),
        Column("unit", S, "unit"),
        Column("as_of_year", I, "year the value describes", 2000, 2100, optional=True),
        Column("source", S, "source"),
    ),
)

#: Parameters the model reads, with plausible ranges (checked after scenario overrides).
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "cny_per_usd": (1, 20),
    "cn_td_adder_usd_per_mwh": (0, 200),
    "cn_surcharge_usd_per_mwh": (0, 100),
    "pue_cool": (1.0, 3.0),
    "pue_temperate": (1.0, 3.0),
    "pue_hot": (1.0, 3.0),
    "capex_usd_per_mw_us": (1e5, 1e8),
    "capex_usd_per_mw_cn": (1e5, 1e8),
    "asset_life_years": (1, 60),
    "fibre_km_per_ms": (50, 300),
    "route_factor": (1.0, 4.0),
    "unserved_penalty_usd_per_mwh": (100, 1e6),
    "expansion_cost_usd_per_kw_us": (0, 50_000),
    "expansion_lead_time_years_us": (0, 30),
    "expansion_max_mw_per_year_us": (0, 1e6),
    "expansion_cost_usd_per_kw_cn": (0, 50_000),
    "expansion_lead_time_years_cn": (0, 30),
    "expansion_max_mw_per_year_cn": (0, 1e6),
    "firm_share_of_0p25pct_headroom": (0, 1),
}

SCHEMAS = {s.name: s for s in (REGIONS, GRID_REGIONS, MORATORIA, PARAMETERS)}

#: User-supplied candidate sites (CSV, or a GeoPackage with point geometries).
SITES = TableSchema(
    "sites",
    "site_id",
    (
        Column("site_id", S, "unique site id"),
        Column("region_id", S, "region the site is in; blank: found by a spatial join of lon/lat", optional=True),
        Column("lon", F, "site longitude, degrees", -180, 180, optional=True),
        Column("lat", F, "site latitude, degrees", -90, 90, optional=True),
        Column("capacity_mw", F, "most grid load the site can take, MW", 0, 1e6),
        Column("fixed_cost_usd", F, "one-off development cost if the site is used, USD", 0, 1e13),
        Column("lead_time_years", F, "years from the first planning year before the site can host load", 0, 50, optional=True),
    ),
)

#: Optional extra cost of placing a whole cluster at a region or site.
PAIR_COSTS = TableSchema(
    "pair_costs",
    "pair",
    (
        Column("pair", S, "cluster_id|location_id (built by the loader)"),
        Column("cluster_id", S, "cluster id"),
        Column("location_id", S, "region id or site id"),
        Column("cost_usd", F, "present-value cost of placing the whole cluster there, USD (scaled by the share)", -1e13, 1e13),
    ),
)

#: Parameters read only by some scenarios (time to power), checked where present.
OPTIONAL_PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "delay_cost_usd_per_mw_yr": (0, 1e9),
}

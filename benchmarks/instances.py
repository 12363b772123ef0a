"""Synthetic scale instances for ``benchmarks/scale.py``, written as the files a user would write.

Size 1 is the bundled reference scenario (``scenarios/us_china_2030.yaml``: 80
regions, 35 clusters, 5 years, region level). Sizes 2-4 are candidate-site
studies generated with a fixed seed:

* **sites** spread over the 80 bundled regions with probability proportional to
  the region's ``annual_demand_mwh``, each point jittered around the region's
  lon/lat (sd 0.8 degrees) and given with its ``region_id`` (no geometry
  needed); capacity lognormal, about 3x the total grid draw in all; lead time
  0 (70 %), 2 (20 %) or 4 (10 %) years; ``fixed_cost_usd`` 0, so every site is
  simply available and the model stays an LP;
* **clusters**: home country US (2/3) or CN (1/3), never crossing the border;
  90 % with a user hub (a point jittered around a demand-weighted region of the
  home country) and a round-trip limit of 10-30 ms (10 + 20 u^6: most near
  10-11 ms); 10 % training campuses without a hub, restricted to a short list of
  2-4 home-country regions (``allowed_regions``); IT load lognormal, scaled so
  the total is 8 GW of IT per horizon year; online years uniform over the
  horizon; curtailment 0 / 0.25 / 0.5 / 1 % with weights 50/20/15/15;
  utilisation 0.6-0.9;
* **scenario**: the reference scenario's policy (moratoria ``status:as_reported``,
  default expansion options) with carbon prices US 50, CN 30 USD/t so every
  cost part is live.

Each cluster then sees tens to a few hundred sites (the distribution is printed
by ``python benchmarks/instances.py``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "scenarios" / "us_china_2030.yaml"
SEED = 20260101
FIRST_YEAR = 2026


@dataclass(frozen=True)
class Size:
    label: int
    sites: int  # 0: the bundled reference scenario (region level)
    clusters: int
    years: int


SIZES = {
    1: Size(1, 0, 35, 5),
    2: Size(2, 300, 150, 6),
    3: Size(3, 1000, 600, 8),
    4: Size(4, 3500, 2000, 10),
    5: Size(5, 10000, 5000, 10),
}

#: Extra build-only points for the growth plot (between the benchmark sizes).
GROWTH = {
    "g5": Size(5, 150, 80, 5),
    "g6": Size(6, 600, 300, 7),
    "g7": Size(7, 2000, 1200, 9),
}


def _regions() -> pd.DataFrame:
    """The 80 regions of planner 0.1.0 (frozen in ``instance_regions.csv``), so that every version
    of the planner is measured on the same instance files: sites name their state or province,
    which later versions resolve to the zone holding the site's point."""
    return pd.read_csv(Path(__file__).with_name("instance_regions.csv"), comment="#").set_index("region_id", drop=False)


def write_instance(size: Size, out_dir: Path) -> Path:
    """Write sites.csv, clusters.csv and scenario.yaml for *size* into *out_dir*; return the YAML path."""
    if size.sites == 0:
        return REFERENCE
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED + size.label)
    regions = _regions()
    last_year = FIRST_YEAR + size.years - 1

    # ---------------------------------------------------------------- clusters
    n = size.clusters
    country = rng.choice(["US", "CN"], size=n, p=[2 / 3, 1 / 3])
    it = rng.lognormal(mean=0.0, sigma=0.9, size=n)
    it = np.round(it * (8000.0 * size.years) / it.sum(), 1).clip(1.0, 5000.0)
    online = rng.integers(FIRST_YEAR, last_year + 1, size=n)
    curtail = rng.choice([0, 0.25, 0.5, 1], size=n, p=[0.5, 0.2, 0.15, 0.15])
    util = np.round(rng.uniform(0.6, 0.9, size=n), 2)
    has_hub = rng.random(n) < 0.9
    rtt = np.round(10.0 + 20.0 * rng.random(n) ** 6, 1)  # 10-30 ms, most near 10-11

    weights = {}
    for c in ("US", "CN"):
        sub = regions[regions["country"] == c]
        weights[c] = (sub.index.to_numpy(), (sub["annual_demand_mwh"] / sub["annual_demand_mwh"].sum()).to_numpy())
    hub_lon = np.full(n, np.nan)
    hub_lat = np.full(n, np.nan)
    allowed = [""] * n
    for i in range(n):
        ids, p = weights[country[i]]
        if has_hub[i]:
            rid = rng.choice(ids, p=p)
            hub_lon[i] = regions.at[rid, "lon"] + rng.normal(0, 0.5)
            hub_lat[i] = regions.at[rid, "lat"] + rng.normal(0, 0.5)
        else:
            allowed[i] = ";".join(rng.choice(ids, size=int(rng.integers(2, 5)), replace=False, p=p))
    clusters = pd.DataFrame(
        {
            "id": [f"k{i:05d}" for i in range(n)],
            "home_country": country,
            "it_load_mw": it,
            "online_year": online,
            "utilisation": util,
            "curtailment_pct": curtail,
            "hub_lon": np.where(has_hub, np.round(hub_lon, 4), np.nan),
            "hub_lat": np.where(has_hub, np.round(hub_lat, 4), np.nan),
            "hub_max_rtt_ms": np.where(has_hub, rtt, np.nan),
            "allowed_regions": allowed,
        }
    )
    clusters.to_csv(out_dir / "clusters.csv", index=False, na_rep="")

    # ---------------------------------------------------------------- sites
    m = size.sites
    p_all = (regions["annual_demand_mwh"] / regions["annual_demand_mwh"].sum()).to_numpy()
    rid = rng.choice(regions.index.to_numpy(), size=m, p=p_all)
    lon = regions.loc[rid, "lon"].to_numpy() + rng.normal(0, 0.8, size=m)
    lat = regions.loc[rid, "lat"].to_numpy() + rng.normal(0, 0.8, size=m)
    cap = rng.lognormal(0.0, 0.7, size=m)
    draw = float(it.sum()) * 1.25  # grid draw at a typical PUE
    cap = np.round(cap * 3.0 * draw / cap.sum(), 1).clip(5.0, None)
    lead = rng.choice([0, 2, 4], size=m, p=[0.7, 0.2, 0.1])
    sites = pd.DataFrame(
        {
            "site_id": [f"s{j:05d}" for j in range(m)],
            "region_id": rid,
            "lon": np.round(lon.clip(-180, 180), 4),
            "lat": np.round(lat.clip(-90, 90), 4),
            "capacity_mw": cap,
            "fixed_cost_usd": 0,
            "lead_time_years": lead,
        }
    )
    sites.to_csv(out_dir / "sites.csv", index=False)

    # ---------------------------------------------------------------- scenario
    yaml_path = out_dir / "scenario.yaml"
    yaml_path.write_text(
        f"""# synthetic scale instance {size.label} (benchmarks/instances.py, seed {SEED + size.label})
name: scale_{size.label}
description: >-
  {m} candidate sites, {n} clusters, {size.years} years (synthetic, fixed seed).
horizon:
  first_year: {FIRST_YEAR}
  last_year: {last_year}
moratoria:
  - status:as_reported
carbon_price_usd_per_tco2:
  US: 50
  CN: 30
discount_rate: 0.07
clusters: clusters.csv
sites: sites.csv
solver:
  name: highs
  time_limit_s: 600
"""
    )
    return yaml_path


if __name__ == "__main__":  # print what each size looks like
    import tempfile

    import planner

    for label in [int(a) for a in sys.argv[1:]] or list(SIZES):
        with tempfile.TemporaryDirectory() as d:
            inputs = planner.api.build_inputs(planner.load_scenario(write_instance(SIZES[label], Path(d))))
            per = inputs.pairs.groupby("cluster_id").size().reindex(inputs.clusters.index, fill_value=0)
            print(f"size {label}: {len(inputs.pairs):,} pairs; sites per cluster: min {per.min()}, "
                  f"median {per.median():.0f}, p90 {per.quantile(0.9):.0f}, max {per.max()}; "
                  f"blocked {int((inputs.pairs['blocked_by'] != '').sum())}")

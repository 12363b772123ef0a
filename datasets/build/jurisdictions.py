#!/usr/bin/env python3
"""Build ``datasets/jurisdictions.geojson``: the county polygons of local moratoria.

Usage (from the repository, with the planner environment)::

    python datasets/build/jurisdictions.py            # write datasets/jurisdictions.geojson
    python datasets/build/jurisdictions.py --out DIR  # write it to DIR instead

A county or city measure in ``datasets/moratoria.csv`` names the county it is in
by its 5-digit Census FIPS code (``county_fips``; a city is represented by its
county). This script cuts those counties out of the US Census cartographic
boundary file ``cb_2016_us_county_500k`` (1:500,000, 2016), which ships with
the PyPI package plotly-geo 1.0.0 (``_plotly_geo/package_data``), and joins
each to the zone (``datasets/regions_geometry.gpkg``, layer ``regions``) that
holds most of its area. It writes, per county:

* ``county_fips``, ``name``, ``state_id`` (ISO 3166-2), ``area_km2`` (equal-area,
  EPSG:5070);
* ``zone_id``: the zone holding the largest part of the county;
* ``zone_area_share``: the county's area inside that zone / the zone's area.
  ``moratoria.csv`` uses it as the share of the zone's capacity a local measure
  removes (an assumption: land area as a proxy for sites; see SOURCES.md).

Coordinates are rounded to 5 decimals (about 1 m) so the file is byte-stable.
Nothing here runs when the planner runs: the planner reads the GeoJSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASETS = HERE.parent
OUT_NAME = "jurisdictions.geojson"
AREA_CRS = "EPSG:5070"  # CONUS Albers equal area

#: Counties (Census FIPS) named by local measures in moratoria.csv.
COUNTIES: dict[str, str] = {
    "51107": "Loudoun County, VA",
    "13097": "Douglas County, GA",
    "13077": "Coweta County, GA",
    "13113": "Fayette County, GA",  # City of Fayetteville
    "13067": "Cobb County, GA",
    "13059": "Clarke County, GA",  # Athens-Clarke (consolidated)
    "34041": "Warren County, NJ",  # Town of Phillipsburg
    "37045": "Cleveland County, NC",  # City of Kings Mountain (mostly in Cleveland)
    "18029": "Dearborn County, IN",
    "29183": "St. Charles County, MO",  # City of St. Charles
}
STATE_FP = {"51": "VA", "13": "GA", "34": "NJ", "37": "NC", "18": "IN", "29": "MO"}


def _round(obj, nd: int = 5):
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, (list, tuple)):
        return [_round(o, nd) for o in obj]
    return obj


def build(out_dir: Path = DATASETS) -> Path:
    """Write the jurisdictions GeoJSON to *out_dir* and return its path."""
    import importlib.util

    import geopandas as gpd
    import shapely
    from shapely.geometry import mapping

    spec = importlib.util.find_spec("_plotly_geo")
    if spec is None or spec.origin is None:
        raise SystemExit("plotly-geo is not installed: pip install plotly-geo==1.0.0")
    shp = Path(spec.origin).parent / "package_data" / "cb_2016_us_county_500k.shp"
    counties = gpd.read_file(shp)
    counties = counties[counties["GEOID"].isin(COUNTIES)].set_crs(4269, allow_override=True).to_crs(4326)
    missing = sorted(set(COUNTIES) - set(counties["GEOID"]))
    if missing:
        raise SystemExit(f"{shp}: counties not found: {missing}")
    zones = gpd.read_file(DATASETS / "regions_geometry.gpkg", layer="regions").to_crs(4326)
    zones = zones[zones["country"] == "US"]
    zones_eq = zones.to_crs(AREA_CRS)
    features = []
    for _, c in counties.sort_values("GEOID").iterrows():
        state_id = "US-" + STATE_FP[c["STATEFP"]]
        c_eq = gpd.GeoSeries([c.geometry], crs=4326).to_crs(AREA_CRS).iloc[0]
        inter = zones_eq.geometry.intersection(c_eq).area.to_numpy()
        best = int(inter.argmax())
        zone_id = str(zones.iloc[best]["region_id"])
        if not zone_id.startswith(state_id):
            raise SystemExit(f"{c['GEOID']}: largest overlap with {zone_id}, not a zone of {state_id}")
        share = float(inter[best]) / float(zones_eq.geometry.iloc[best].area)
        geom = shapely.make_valid(c.geometry)
        features.append({
            "type": "Feature",
            "properties": {
                "county_fips": str(c["GEOID"]),
                "name": COUNTIES[c["GEOID"]],
                "state_id": state_id,
                "area_km2": round(c_eq.area / 1e6, 1),
                "zone_id": zone_id,
                "zone_area_share": round(share, 6),
                "source": "US Census Bureau cartographic boundary file cb_2016_us_county_500k (2016, 1:500,000), "
                          "as shipped in the PyPI package plotly-geo 1.0.0; zone from datasets/regions_geometry.gpkg",
            },
            "geometry": _round(json.loads(json.dumps(mapping(geom)))),
        })
    out = Path(out_dir) / OUT_NAME
    doc = {"type": "FeatureCollection", "name": "jurisdictions", "features": features}
    out.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: ``[--out DIR]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out_dir = Path(argv[argv.index("--out") + 1]) if "--out" in argv else DATASETS
    path = build(out_dir)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The interactive map (HTML, offline): US left, China right, a metric and a year control.

The page carries one copy of the region boundaries; the metrics and years are
tables of values and colours that a small script applies to it (restyling the
same shapes), so the file does not grow with the number of metrics or years.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.maps.classes import colour_regions, fmt
from planner.maps.geometry import (
    COARSE_TOLERANCE_DEG,
    anchor_points,
    coarse_geometries,
    country_outlines,
    grid_lines,
    grid_pairs,
    polygonal,
    shifted,
)
from planner.maps.tables import (
    COUNTRIES,
    METRICS,
    SHORT_LABELS,
    UNITS,
    check_metric,
    check_year,
    open_it_load,
    region_names,
    tables_of,
)

if TYPE_CHECKING:  # pragma: no cover
    import folium

HTML_NAME = "map.html"
#: Without tiles: degrees of longitude added to the US so that it lies just west of China (US left).
US_SHIFT_SCHEMATIC = 132.0
#: Simplification of the boundaries for the browser (degrees; shared borders stay shared) and rounding.
WEB_TOLERANCE_DEG = COARSE_TOLERANCE_DEG  # the shapes simplified once per process, shared with the PNG
WEB_DECIMALS = 3


def explore(source: Any, metric: str | None = None, year: int | None = None,
            tiles: str | None = None) -> folium.Map:
    """An interactive map that works offline (Leaflet inlined): every metric, every year.

    Parameters
    ----------
    source
        Results directory, dict from :func:`planner.maps.load_results` or :class:`planner.Result`.
    metric
        The metric shown first (default ``it_load``); buttons switch between all of
        :data:`planner.maps.METRICS`.
    year
        The year shown first (default :func:`planner.maps.default_year`); a year control
        (buttons, a list, arrow keys) switches between the years of the horizon.
    tiles
        Optional Leaflet tile URL. Default ``None``: no basemap, so no tile server is
        needed; with tiles the page needs the network.

    Returns
    -------
    folium.Map
        Save it with ``.save(path)``; the HTML references no external file. In a notebook it
        displays itself.

    Notes
    -----
    The US is drawn left of China: without tiles just west of it (longitude + 132;
    shapes and scale within each country are exact Web Mercator), with tiles at its true
    place. The page's address may choose the view: ``map.html#metric=shadow_price&year=2028``;
    the address follows the controls. Tooltips give every metric of the region in the
    year shown, with units; a click lists the clusters placed there. Overlays:
    grid-region borders, moratoria in force in the year (dashed, tinted), user hubs (or
    regions with load), and China's national boundary with Taiwan and the South China
    Sea islands and the maritime boundary line, as published by the boundary source.
    """
    import folium
    from branca.element import Element, MacroElement
    from jinja2 import Template

    data = _page_data(tables_of(source), metric, year, tiles)
    js, css = _leaflet_assets()
    fmap = folium.Map(location=[35, 60], zoom_start=3, tiles=None, zoom_snap=0.25)
    fmap.default_js = []  # instance attributes: the class lists (CDN links) stay untouched
    fmap.default_css = []
    root: Any = fmap.get_root()  # a branca Figure (has .header)
    root.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css_inline")
    root.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js_inline")
    root.header.add_child(Element(f"<style>{_CSS}</style>"), name="planner_css")
    if tiles:
        folium.TileLayer(tiles, name="basemap", attr=" ").add_to(fmap)
    view: Any = MacroElement()
    view._template = Template(_TEMPLATE)
    view.data = data
    fmap.add_child(view)
    return fmap


def _page_data(tables: dict[str, Any], metric: str | None, year: int | None, tiles: str | None) -> dict[str, Any]:
    """What the page's script draws (the ``D`` object): shapes, values, colours, legends, overlays."""
    import numpy as np

    from planner.data.geometry import load_geometries

    metric = check_metric(metric)
    year = check_year(tables, year)
    years = [int(y) for y in tables["years"]]
    reg = tables["regions"]
    geo = load_geometries()
    geo = geo[geo["region_id"].isin(set(reg["region_id"]))].reset_index(drop=True)
    us_shift = 0.0 if tiles else US_SHIFT_SCHEMATIC
    # the regions simplified once per process (shared with the PNG and results.gpkg; shared borders stay shared)
    web = coarse_geometries(WEB_TOLERANCE_DEG)
    web = web[web["region_id"].isin(set(geo["region_id"]))].reset_index(drop=True)
    shift = np.where(web["country"].to_numpy() == "US", us_shift, 0.0)
    web["geometry"] = [polygonal(g) for g in (shifted([g], s, WEB_DECIMALS)[0] for g, s in zip(web.geometry, shift))]
    ids = web["region_id"].tolist()
    names = region_names()
    grid_of = reg.drop_duplicates("region_id").set_index("region_id")["grid_region_id"]
    web["grid_region_id"] = [grid_of.get(r, "") for r in ids]
    anchors = anchor_points(geo)
    anchor_ll = [[round(float(anchors[r].y), 3), round(float(anchors[r].x) + s, 3)] for r, s in zip(ids, shift)]

    features = [{"type": "Feature", "properties": {"i": i}, "geometry": g} for i, g in enumerate(_geojson(web.geometry))]
    open_ranges = open_it_load(tables)  # IT load that least cost leaves open: its range over all such plans
    regions_meta = [
        {"id": r, "name": names.get(r, r), "country": c, "grid": g,
         **({"open": f"{fmt(open_ranges[r][0])} - {fmt(open_ranges[r][1])}"} if r in open_ranges else {})}
        for r, c, g in zip(ids, web["country"], web["grid_region_id"])
    ]
    # grid-region borders: dissolved once per process (grid_lines), moved like their regions and rounded
    lines = grid_lines(grid_pairs(tables), WEB_TOLERANCE_DEG)
    grid_json = _collection([shifted([g], us_shift if c == "US" else 0.0, WEB_DECIMALS)[0]
                             for g, c in zip(lines.geometry, lines["country"])])

    # values, colours and legends: metric -> year -> one entry per region (the order of `features`)
    by = reg.set_index(["year", "region_id"])
    countries = web["country"].tolist()
    values: dict[str, dict[str, list[float | None]]] = {}
    colours: dict[str, dict[str, list[str]]] = {}
    legends: dict[str, list[dict[str, Any]]] = {}
    of_year = {y: by.xs(y, level="year").reindex(ids) for y in years}  # once per year, not per metric and year
    for m, (col, _label) in METRICS.items():
        per_year = {y: of_year[y][col].to_numpy(dtype=float) for y in years}
        flat = np.concatenate([per_year[y] for y in years])
        cols, legs = colour_regions(flat, countries * len(years), m)
        n = len(ids)
        values[m] = {str(y): [None if v != v else float(f"{v:.6g}") for v in per_year[y]] for y in years}
        colours[m] = {str(y): cols[k * n : (k + 1) * n] for k, y in enumerate(years)}
        legends[m] = [{"title": leg.title if len(legs) > 1 else "", "rows": list(zip(leg.colours, leg.labels))}
                      for leg in legs]
    moratoria = {str(y): of_year[y]["moratorium"].fillna("").tolist() for y in years}
    placements = tables["placements"]
    index = {r: i for i, r in enumerate(ids)}
    placed: list[list[list[Any]]] = [[] for _ in ids]
    for p in placements.sort_values(["online_year", "cluster_id"]).itertuples():
        if p.region_id in index:
            placed[index[p.region_id]].append([str(p.cluster_id), round(float(p.it_load_mw), 1),
                                               round(float(p.share), 4), int(p.online_year)])
    hubs = tables.get("hubs")
    hub_points: list[list[Any]] = []
    if hubs is not None and len(hubs):
        if "lon" in hubs.columns:
            for h in hubs.drop_duplicates(["lon", "lat"]).itertuples():
                lon = float(h.lon) + (us_shift if float(h.lon) < -30 else 0.0)
                hub_points.append([round(float(h.lat), 3), round(lon, 3), f"hub of {h.cluster_id}"])
        else:
            for h in hubs.drop_duplicates("region_id").itertuples():
                if h.region_id in index:
                    hub_points.append([*anchor_ll[index[h.region_id]], f"hub of {h.cluster_id}"])

    # China's national boundary (Taiwan, South China Sea islands) and maritime line, as published
    maritime_json = land_json = None
    outlines = country_outlines()
    if outlines is not None and "CN" in countries:
        land, sea = outlines
        land = land[land["country"] == "CN"].copy()
        land["geometry"] = shifted(land.geometry.simplify(WEB_TOLERANCE_DEG, preserve_topology=True), 0.0,
                                   WEB_DECIMALS)
        land_json = _collection(land.geometry)  # drawn filled (Taiwan, islands) and outlined: one copy
        sea = sea[sea["country"] == "CN"].copy()
        sea["geometry"] = shifted(sea.geometry, 0.0, WEB_DECIMALS)
        maritime_json = _collection(sea.geometry)

    titles = []
    for c in dict.fromkeys(countries):
        b = web[web["country"] == c].total_bounds
        titles.append([round(float(b[3]) + 1.0, 2), round(float(b[0] + b[2]) / 2, 2), COUNTRIES.get(c, c)])
    b = web.total_bounds
    bounds = [[float(b[1]), float(b[0])], [float(b[3]) + 3.0, float(b[2])]]

    data = {
        "scenario": str(tables["summary"].get("scenario", "?")),
        "years": years, "year": year, "metric": metric,
        "metrics": [[m, SHORT_LABELS[m], METRICS[m][1], UNITS[m]] for m in METRICS],
        "regions": regions_meta, "features": {"type": "FeatureCollection", "features": features},
        "values": values, "colours": colours, "legends": legends, "moratoria": moratoria,
        "placed": placed, "hubs": hub_points, "anchors": anchor_ll, "grids": grid_json,
        "land": land_json, "maritime": maritime_json,
        "titles": titles, "bounds": bounds,
    }  # fmt: skip
    return data


def _geojson(geoms: Any) -> list[dict[str, Any]]:
    """GeoJSON geometry dicts, through GEOS's own writer (fast)."""
    import shapely

    return [json.loads(t) for t in shapely.to_geojson([g for g in geoms if g is not None and not g.is_empty])]


def _collection(geoms: Any) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of *geoms*, without properties."""
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in _geojson(geoms)]}


def write_html(source: Any, path: str | Path | None = None, metric: str | None = None,
               year: int | None = None) -> Path:
    """Save :func:`explore` as a self-contained HTML file.

    Parameters
    ----------
    source
        Results directory (also the default destination's folder), Result or tables dict.
    path
        Destination (default ``OUTDIR/map.html``).
    metric, year
        Shown first (defaults: IT load, :func:`planner.maps.default_year`).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    tables = tables_of(source)
    if path is None:
        if tables.get("outdir") is None:
            raise TypeError("write_html needs a path when drawing a Result")
        path = Path(tables["outdir"]) / HTML_NAME
    path = Path(path)
    explore(tables, metric=metric, year=year).save(str(path))
    return path


def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS from an installed package, for inlining (offline HTML).

    folium and branca do not ship Leaflet itself; the PyPI package
    ``django-js-lib-leaflet`` (no dependencies, BSD licence) ships Leaflet 1.9.4's
    ``leaflet.js``/``leaflet.css`` and images. Its Python module is not imported (it
    is a Django app); only the files are read.
    """
    import base64
    import importlib.util

    spec = importlib.util.find_spec("js_lib_leaflet")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the HTML map inlines Leaflet for offline use: pip install django-js-lib-leaflet")
    base = Path(list(spec.submodule_search_locations)[0]) / "static" / "js_lib_leaflet"
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    for img in sorted((base / "images").glob("*.png")):
        uri = "data:image/png;base64," + base64.b64encode(img.read_bytes()).decode("ascii")
        css = css.replace(f"images/{img.name}", uri)
    js = js.replace("</script", "<\\/script")  # cannot end the inline <script> early
    return js, css


_CSS = """
.leaflet-container{background:#f4f7fa}
.planner-box{background:rgba(255,255,255,.94);padding:8px 10px;border-radius:4px;
  font:13px/1.4 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:330px}
.planner-box i{display:inline-block;width:16px;height:12px;margin-right:6px;border:1px solid #888;vertical-align:-1px}
.planner-title{font:600 15px sans-serif;margin-bottom:4px}
.planner-box label{display:block;cursor:pointer}
.planner-years button{font:13px sans-serif;margin:0 2px;padding:1px 7px}
.planner-years select{font:13px sans-serif}
.planner-country{font:600 17px sans-serif;color:#333;white-space:nowrap;text-shadow:0 0 3px #fff,0 0 3px #fff}
.planner-legend-block{margin-top:6px}
"""

_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var D = {{ this.data|tojson }};
  var state = {metric: D.metric, year: D.year};
  var h = new URLSearchParams(location.hash.slice(1));
  if (D.metrics.some(function (m) { return m[0] === h.get('metric'); })) state.metric = h.get('metric');
  if (D.years.indexOf(parseInt(h.get('year'), 10)) >= 0) state.year = parseInt(h.get('year'), 10);
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); }
  function num(v) {
    if (v === null || v === undefined) return 'no data';
    var a = Math.abs(v);
    if (a >= 100) return Math.round(v).toLocaleString('en-US');
    if (a >= 10) return v.toFixed(1);
    if (a >= 0.1) return v.toFixed(2);
    return Number(v.toPrecision(3)).toString();
  }
  function meta(m) { for (var k = 0; k < D.metrics.length; k++) if (D.metrics[k][0] === m) return D.metrics[k]; }

  var national = L.layerGroup().addTo(map);
  if (D.land) L.geoJSON(D.land, {interactive: false,
    style: {color: '#222222', weight: 1.2, fillColor: '#dcdcdc', fillOpacity: 1}}).addTo(national);
  var regions = L.geoJSON(D.features, {
    style: function (f) { return {color: '#ffffff', weight: 0.7, fillOpacity: 0.9,
      className: 'planner-region region-' + D.regions[f.properties.i].id}; },
    onEachFeature: function (f, layer) {
      var i = f.properties.i;
      layer.bindTooltip(function () { return tooltip(i); }, {sticky: true});
      layer.bindPopup(function () { return popup(i); }, {maxWidth: 420});
      layer.on('mouseover', function () { layer.setStyle({weight: 2.5, color: '#000000'}); });
      layer.on('mouseout', function () { layer.setStyle({weight: 0.7, color: '#ffffff'}); });
    }
  }).addTo(map);
  var grids = L.geoJSON(D.grids, {interactive: false, style: {color: '#222222', weight: 2.2, fill: false}}).addTo(map);
  var moratoria = L.layerGroup().addTo(map);
  if (D.maritime) L.geoJSON(D.maritime, {interactive: false,
    style: {color: '#333333', weight: 2, fill: false}}).addTo(national);
  var markers = L.layerGroup().addTo(map);
  D.titles.forEach(function (t) {
    L.marker([t[0], t[1]], {interactive: false, keyboard: false,
      icon: L.divIcon({className: '', html: '<div class="planner-country">' + esc(t[2]) + '</div>',
                       iconSize: null, iconAnchor: [0, 0]})}).addTo(map);
  });
  document.querySelectorAll('.planner-country').forEach(function (el) {
    el.style.transform = 'translate(-50%, -100%)'; });

  function tooltip(i) {
    var r = D.regions[i], y = String(state.year);
    var rows = D.metrics.map(function (m) {
      var v = D.values[m[0]][y][i];
      return '<tr><td>' + esc(m[2]) + '</td><td style="text-align:right;padding-left:8px"><b>' +
        (v === null ? 'no data' : num(v) + ' ' + esc(m[3])) + '</b></td></tr>'; }).join('');
    var mor = D.moratoria[y][i];
    return '<b>' + esc(r.name) + '</b> (' + esc(r.id) + '), grid region ' + esc(r.grid) + ', ' + y +
      '<table>' + rows + '</table>Moratorium in force: ' + (mor ? esc(mor) : 'none') +
      (r.open ? '<br>\u2020 IT load left open by least cost: ' + esc(r.open) +
       ' MW over all least-cost plans (this map shows one)' : '');
  }
  function popup(i) {
    var r = D.regions[i], list = D.placed[i];
    var lines = list.length ? list.map(function (p) {
      return esc(p[0]) + ': ' + num(p[1]) + ' MW IT (' + Math.round(100 * p[2]) + '%' +
        (p[3] > state.year ? ', online ' + p[3] : '') + ')'; }).join('<br>') : 'none';
    return '<b>' + esc(r.name) + '</b><br>Clusters placed:<br>' + lines;
  }

  var box = L.control({position: 'topleft'});
  box.onAdd = function () {
    var div = L.DomUtil.create('div', 'planner-box');
    var html = '<div class="planner-title" id="planner-title"></div>';
    html += '<div class="planner-years">Year <button type="button" id="planner-prev" title="previous year">&#9664;</button>' +
      '<select id="planner-year">' + D.years.map(function (y) { return '<option value="' + y + '">' + y + '</option>'; }).join('') +
      '</select><button type="button" id="planner-next" title="next year">&#9654;</button></div>';
    html += '<div style="margin-top:6px">' + D.metrics.map(function (m) {
      return '<label><input type="radio" name="planner-metric" value="' + m[0] + '"> ' + esc(m[1]) + '</label>'; }).join('') + '</div>';
    html += '<div style="margin-top:6px;border-top:1px solid #ddd;padding-top:4px">' +
      '<label><input type="checkbox" data-layer="grids" checked> Grid-region borders</label>' +
      '<label><input type="checkbox" data-layer="moratoria" checked> Moratoria in force</label>' +
      '<label><input type="checkbox" data-layer="markers" checked> ' +
      (D.hubs.length ? 'User hubs of placed clusters' : 'Regions with load placed') + '</label>' +
      (D.land ? '<label><input type="checkbox" data-layer="national" checked> China: national boundary, maritime line</label>' : '') +
      '</div>';
    div.innerHTML = html;
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  box.addTo(map);
  var legend = L.control({position: 'bottomleft'});
  legend.onAdd = function () { var d = L.DomUtil.create('div', 'planner-box'); d.id = 'planner-legend'; return d; };
  legend.addTo(map);
  var layers = {grids: grids, moratoria: moratoria, markers: markers, national: national};
  document.querySelectorAll('.planner-box input[data-layer]').forEach(function (el) {
    el.addEventListener('change', function () {
      var l = layers[el.getAttribute('data-layer')];
      if (el.checked) l.addTo(map); else map.removeLayer(l);
    });
  });
  document.querySelectorAll('input[name="planner-metric"]').forEach(function (el) {
    el.addEventListener('change', function () { if (el.checked) show(el.value, state.year); });
  });
  var select = document.getElementById('planner-year');
  select.addEventListener('change', function () { show(state.metric, parseInt(select.value, 10)); });
  function step(d) {
    var k = D.years.indexOf(state.year) + d;
    if (k >= 0 && k < D.years.length) show(state.metric, D.years[k]);
  }
  document.getElementById('planner-prev').addEventListener('click', function () { step(-1); });
  document.getElementById('planner-next').addEventListener('click', function () { step(1); });
  document.addEventListener('keydown', function (e) {
    if (e.target && e.target.tagName === 'SELECT') return;
    if (e.key === 'ArrowLeft' && e.shiftKey) step(-1);
    if (e.key === 'ArrowRight' && e.shiftKey) step(1);
  });

  function show(metric, year) {
    state.metric = metric; state.year = year;
    var y = String(year), m = meta(metric), cols = D.colours[metric][y];
    regions.eachLayer(function (layer) {
      layer.setStyle({fillColor: cols[layer.feature.properties.i]});
      if (layer._path) layer._path.setAttribute('data-value', String(D.values[metric][y][layer.feature.properties.i]));
    });
    moratoria.clearLayers();
    var mor = D.moratoria[y];
    L.geoJSON({type: 'FeatureCollection', features: D.features.features.filter(function (f) {
      return mor[f.properties.i] !== ''; })}, {interactive: false, style: {color: '#111111', weight: 2.2,
      dashArray: '6 4', fillColor: '#111111', fillOpacity: 0.18, className: 'planner-moratorium'}}).addTo(moratoria);
    markers.clearLayers();
    var pts = D.hubs.length ? D.hubs : D.anchors.map(function (a, i) {
      return D.values.grid_load[y][i] > 0 ? [a[0], a[1], D.regions[i].name + ': load placed'] : null; })
      .filter(function (p) { return p; });
    pts.forEach(function (p) {
      L.circleMarker([p[0], p[1]], {radius: D.hubs.length ? 6 : 4, color: '#ffffff', weight: 1.5, fill: true,
        fillColor: '#111111', fillOpacity: 1}).bindTooltip(esc(p[2])).addTo(markers);
    });
    document.getElementById('planner-title').textContent = D.scenario + ' \\u2014 ' + y;
    select.value = y;
    document.getElementById('planner-prev').disabled = D.years.indexOf(year) === 0;
    document.getElementById('planner-next').disabled = D.years.indexOf(year) === D.years.length - 1;
    document.querySelectorAll('input[name="planner-metric"]').forEach(function (el) { el.checked = el.value === metric; });
    var nmor = mor.filter(function (s) { return s !== ''; }).length;
    document.getElementById('planner-legend').innerHTML = '<b>' + esc(m[2]) + '</b>, ' + y +
      D.legends[metric].map(function (leg) {
        return '<div class="planner-legend-block">' + (leg.title ? '<i style="display:none"></i><u>' + esc(leg.title) + '</u><br>' : '') +
          leg.rows.map(function (r) { return '<div><i style="background:' + r[0] + '"></i>' + esc(r[1]) + '</div>'; }).join('') +
          '</div>'; }).join('') +
      '<div class="planner-legend-block"><i style="background:rgba(17,17,17,.18);border:2px dashed #111"></i>' +
      'Moratorium in force in ' + y + (nmor ? '' : ' (none)') + '</div>';
    var hash = '#metric=' + metric + '&year=' + y;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }
  show(state.metric, state.year);
  map.fitBounds(D.bounds, {paddingTopLeft: [250, 10], paddingBottomRight: [10, 10]});
})();
{% endmacro %}
"""

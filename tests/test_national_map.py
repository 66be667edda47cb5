"""Issue 19: a national map in seconds. The coverage simplification is done once per level and kept in the store
(GeoPackage and PostGIS), valid while the areas are the same; the map's GeoJSON is assembled from whole columns;
from CANVAS_FROM_AREAS areas on the map is drawn on a canvas, and a click still reaches the clicked buurt."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import mapping.choropleth as choropleth
from data.area_import import read_area_file
from data.postgis import PostgisStore
from data.store import GeoPackageStore, SqlStore
from mapping import simplify
from mapping.choropleth import choropleth_map, feature_collection_json
from tests.towns import build_state, write_town_files

BACKENDS = ("geopackage", "postgis")
FIGURE = "percentage_personen_65_jaar_en_ouder"


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend_store(request, tmp_path) -> SqlStore:
    """An empty store of each kind (as in tests/test_store_backends.py)."""
    if request.param == "postgis":
        return PostgisStore.open(request.getfixturevalue("postgres_url"))
    return GeoPackageStore.open(tmp_path / "opslag.gpkg")


@pytest.fixture()
def town_files(tmp_path):
    return write_town_files(tmp_path / "bron")


@pytest.fixture()
def town(backend_store, town_files) -> SqlStore:
    """Teststad's buurten and wijken imported into the store."""
    return build_state(backend_store, town_files, "gebieden")


@pytest.fixture()
def calls(monkeypatch) -> list[int]:
    """Counts every call of the simplifier (mapping.simplify.web_geometries)."""
    seen: list[int] = []
    real = simplify.web_geometries

    def counting(*args, **kwargs):
        seen.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(simplify, "web_geometries", counting)
    return seen


def _web(store, areas=None) -> np.ndarray:
    areas = store.read_areas("buurt") if areas is None else areas
    return simplify.cached_web_geometries(store, "buurt", areas["area_code"], areas.geometry,
                                          data_version=store.data_version())


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return len(a) == len(b) and bool(np.all(shapely.equals_identical(a, b)))


def _features(m) -> list[dict]:
    layer = next(c for c in m._children.values() if isinstance(c, choropleth.folium.GeoJson))
    return layer.data["features"]


def test_second_build_reads_the_cache_and_not_the_simplifier(town, calls):
    version = town.data_version()
    first = _web(town)
    assert calls == [1]
    assert town.data_version() == version  # derived data: the pages' caches stay valid
    # A new server process (a new store object on the same file or database) gets the same geometry, unsimplified.
    again = _web(type(town)(town.location) if isinstance(town, GeoPackageStore) else PostgisStore(town.url))
    assert calls == [1]
    assert _same(first, again)
    areas = town.read_areas("buurt")
    assert _same(first, simplify.web_geometries(areas.geometry.to_numpy()))


def test_cache_is_redone_after_an_area_import_and_after_its_undo(town, town_files, calls):
    before = _web(town)
    assert calls == [1]
    imported = read_area_file(town_files["buurten"])
    moved = imported.areas.copy()
    moved["geometry"] = shapely.transform(moved.geometry.to_numpy(), lambda c: c + 40.0)  # the whole town moves
    town.merge_area_data(moved, imported.values, user="test")
    batch = town.last_batch_id
    after_import = _web(town)
    assert calls == [1, 1]
    assert not _same(before, after_import)
    assert _same(after_import, _web(town))  # and cached again
    assert calls == [1, 1]
    town.undo_batch(batch, user="test")
    after_undo = _web(town)
    assert calls == [1, 1, 1]
    assert _same(after_undo, before)


def test_a_write_that_keeps_the_areas_keeps_the_cache(town, calls):
    first = _web(town)
    version = town.data_version()
    town.save_scenario("Proef", "{}", user="test")  # any other data write moves the data version
    assert town.data_version() != version
    assert _same(_web(town), first)
    assert calls == [1]  # the same areas (fingerprint): not simplified again
    assert _same(_web(town), first) and calls == [1]


def test_a_store_that_cannot_be_written_still_gets_its_map(town, calls, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(type(town), "_transaction", refuse)
    first = _web(town)
    second = _web(town)
    assert calls == [1, 1]  # nothing could be cached, both are simplified
    assert _same(first, second)
    assert town.read_map_geometry("buurt|nothing") is None


def test_map_from_the_cache_is_the_map_without_it(town):
    areas = town.read_areas("buurt")
    cached = choropleth_map(areas, FIGURE, label="65-plussers", unit="%", geometries=_web(town))
    direct = choropleth_map(areas, FIGURE, label="65-plussers", unit="%")
    assert _features(cached) == _features(direct)
    assert len(_features(direct)) == len(areas)


def test_cache_keeps_escaping_and_missing_geometry(tmp_path):
    hostile = "<img src=x onerror=alert(1)> {{ 7*7 }} 'x' & \"y\""
    areas = gpd.GeoDataFrame({
        "area_code": ["BU01", "BU02", "BU03"], "name": [hostile, "Één/twee", "Leeg"], "waarde": [1.0, None, 3.0],
    }, geometry=[shapely.box(100_000, 400_000, 101_000, 401_000), shapely.box(101_000, 400_000, 102_000, 401_000),
                 None], crs=28992)
    store = GeoPackageStore.open(tmp_path / "opslag.gpkg")
    # tolerance 0: coverage_simplify itself does not take a missing geometry
    web = simplify.cached_web_geometries(store, "buurt", areas["area_code"], areas.geometry, data_version=1,
                                         tolerance_m=0)
    again = simplify.cached_web_geometries(store, "buurt", areas["area_code"], areas.geometry, data_version=1,
                                           tolerance_m=0)
    assert store.read_map_geometry("buurt|tol=0.0|dec=5") is not None
    assert again[2] is None and _same(web[:2], again[:2])
    m = choropleth_map(areas, "waarde", label=hostile, geometries=again)
    html = m.get_root().render()
    assert "<img src=x" not in html and "{{ 7*7 }}" not in html and "7*7 }}" not in html
    props = [f["properties"] for f in _features(m)]
    assert props[0]["name"] == "&lt;img src=x onerror=alert(1)&gt; &#123;&#123; 7*7 &#125;&#125; &#x27;x&#x27; " \
                               "&amp; &quot;y&quot;"
    assert props[1]["name"] == "Één/twee" and props[1]["missing"] is True
    assert [f["geometry"] is None for f in _features(m)] == [False, False, True]


def test_feature_collection_json_is_what_geopandas_writes():
    geoms = np.array([shapely.Polygon([(4.1, 52.0), (4.2, 52.0), (4.2, 52.1)]), shapely.Polygon(), None,
                      shapely.MultiPolygon([shapely.box(4.0, 52.0, 4.01, 52.01)])], dtype=object)
    props = pd.DataFrame({"code": ["a/b", "é\n\"", "c", "d"], "flag": [True, False, True, False],
                          "lp": pd.Series([[52.1, 4.1], None, None, [52.0, 4.0]], dtype=object)})
    import json

    ours = json.loads(feature_collection_json(geoms, props))["features"]
    theirs = gpd.GeoDataFrame(props, geometry=geoms, crs=4326).__geo_interface__["features"]
    assert ours == [{"type": "Feature", "properties": f["properties"],
                     "geometry": None if f["geometry"] is None else json.loads(json.dumps(f["geometry"]))}
                    for f in theirs]
    assert json.loads(feature_collection_json(geoms[:0], props.iloc[:0])) == {"type": "FeatureCollection",
                                                                               "features": []}


def test_canvas_renderer_from_the_threshold_on(monkeypatch):
    areas = gpd.GeoDataFrame({"area_code": ["BU01", "BU02"], "name": ["A", "B"], "waarde": [1.0, 2.0]},
                             geometry=[shapely.box(100_000, 400_000, 101_000, 401_000),
                                       shapely.box(101_000, 400_000, 102_000, 401_000)], crs=28992)
    assert choropleth.CANVAS_FROM_AREAS == 3000
    assert '"preferCanvas": false' in choropleth_map(areas, "waarde", label="W").get_root().render()
    monkeypatch.setattr(choropleth, "CANVAS_FROM_AREAS", 2)
    html = choropleth_map(areas, "waarde", label="W").get_root().render()
    assert '"preferCanvas": true' in html
    assert "layer.on('click'" in html  # the click that selects a buurt is bound per feature, on canvas too


@pytest.mark.browser
def test_a_click_on_the_canvas_reaches_the_buurt(tmp_path, monkeypatch, chromium):
    from mapping.assets import STATIC_URL, ensure_static_assets
    from tests.browser import chromium_page

    store = GeoPackageStore.create_new(tmp_path / "teststad.gpkg")
    build_state(store, write_town_files(tmp_path / "bron"), "gebieden")
    buurten = store.read_areas("buurt")
    monkeypatch.setattr(choropleth, "CANVAS_FROM_AREAS", 1)
    m = choropleth_map(buurten, FIGURE, label="65-plussers", unit="%", height=500, geometries=_web(store))
    page_html = m.get_root().render()
    map_name = re.search(r"var (map_\w+) = L\.map\(", page_html).group(1)
    layer_name = re.search(r"(geo_json_\w+)_add\(", page_html).group(1)
    static_dir = tmp_path / "static"
    ensure_static_assets(static_dir)
    host = "steunkaart.test"
    elsewhere: list[str] = []

    def handle(route):
        url = urlparse(route.request.url)
        if url.hostname != host:
            elsewhere.append(route.request.url)
            return route.abort()
        if url.path == "/kaart.html":
            return route.fulfill(body=page_html, content_type="text/html; charset=utf-8")
        if url.path.startswith(STATIC_URL + "/"):
            file = static_dir / url.path[len(STATIC_URL) + 1:]
            if file.is_file():
                return route.fulfill(path=str(file))
        return route.fulfill(status=404, body="")

    with chromium_page(chromium, width=900, height=700) as page:
        page.route("**/*", handle)
        page.goto(f"http://{host}/kaart.html")
        page.wait_for_selector(".leaflet-overlay-pane canvas", state="attached", timeout=30_000)
        assert page.locator("path.sk-area").count() == 0  # no SVG path per area
        page.wait_for_timeout(300)
        page.evaluate(f"""() => {{ window.skClicked = [];
            {layer_name}.eachLayer(l => l.on('click', () => window.skClicked.push(l.feature.properties.code))); }}""")
        for code in buurten["area_code"].iloc[[0, 4]]:
            x, y = page.evaluate(f"""(code) => {{
                var layer = null; {layer_name}.eachLayer(l => {{ if (l.feature.properties.code === code) layer = l; }});
                var p = layer.feature.properties.lp;
                var pt = {map_name}.latLngToContainerPoint(L.latLng(p[0], p[1]));
                var box = {map_name}.getContainer().getBoundingClientRect();
                return [box.left + pt.x, box.top + pt.y]; }}""", code)
            page.mouse.click(x, y)
            page.wait_for_timeout(100)
            assert page.evaluate("() => window.skClicked")[-1] == code
    assert elsewhere == []

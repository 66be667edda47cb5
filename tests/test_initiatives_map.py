"""The residents' initiatives layer: one escaped circle marker per initiative, nothing from another host."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from data.errors import DataValidationError
from mapping.assets import STATIC_URL, asset_links, local_map
from mapping.initiatives import INITIATIVE_COLOUR, initiatives_layer
from tests.conftest import realdata

HOSTILE = "<img src=x onerror=alert(1)>"


def _initiatives(points, **columns) -> gpd.GeoDataFrame:
    n = len(points)
    base = {"initiative_id": [f"IN-{i + 1:04d}" for i in range(n)], "name": [f"Initiatief {i + 1}" for i in range(n)],
            "what": "Samen koken", "buurt_code": None, "status": "loopt", "support_asked": "Een ruimte",
            "contact_organisation": "Welzijn Voorbeeldstad"}
    return gpd.GeoDataFrame({**base, **columns}, geometry=list(points), crs=28992)


def _features(layer) -> list[dict]:
    geojson = [c for c in layer._children.values() if type(c).__name__ == "GeoJson"]
    return [f for g in geojson for f in g.data["features"]]


def _render(layer) -> str:
    m = local_map(location=[52.0, 5.5], zoom_start=12, tiles=None)
    layer.add_to(m)
    return m.get_root().render(), m


def test_hostile_texts_are_escaped_and_no_remote_host():
    frame = _initiatives([shapely.Point(167_500, 447_500), shapely.Point(168_000, 448_000)],
                         name=[HOSTILE, "Eettafel {{ 7*191 }}"], what=["<b>vet</b>", "koffie & thee"],
                         support_asked=["<script>alert(2)</script>", None],
                         contact_organisation=['"><svg onload=alert(3)>', "Buurtvereniging"])
    layer = initiatives_layer(frame)
    html, m = _render(layer)
    for raw in (HOSTILE, "<b>vet</b>", "<script>alert(2)</script>", "<svg onload"):
        assert raw not in html
    first, second = (f["properties"] for f in _features(layer))
    assert first["naam"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert first["contact"] == "&quot;&gt;&lt;svg onload=alert(3)&gt;"
    assert second["naam"] == "Eettafel &#123;&#123; 7*191 &#125;&#125;" and second["wat"] == "koffie &amp; thee"
    # The page carries the escaped text (inside JSON '&' is written \u0026); no template evaluated on the server.
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html
    assert "1337" not in html and "{{ 7*191 }}" not in html
    # A missing text is an empty cell, never 'None' or 'nan'.
    assert second["steun"] == ""
    assert all(link.startswith(STATIC_URL + "/") for link in asset_links(m))
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html.replace("http://www.w3.org", ""))
    assert "L.icon" not in html and ".png" not in html  # circle markers, no icon images


def test_one_marker_per_initiative_at_its_point():
    points = [shapely.Point(167_000 + 300 * i, 447_000 + 200 * i) for i in range(5)]
    frame = _initiatives(points, status=["loopt", "idee", "gestopt", "loopt", "onbekend"])
    layer = initiatives_layer(frame, name="Initiatieven")
    features = _features(layer)
    assert len(features) == 5
    assert layer.layer_name.endswith("Initiatieven (5)")
    expected = frame.to_crs(4326).geometry
    got = np.array([f["geometry"]["coordinates"] for f in features])
    assert got == pytest.approx(np.c_[expected.x, expected.y])
    by_status = [(f["properties"]["status_tekst"], f["properties"]["fill_opacity"], f["properties"]["dash"])
                 for f in features]
    # Running: filled; an idea: lighter and dashed; stopped: hollow; an unknown status is shown as it is.
    assert by_status[:3] == [("loopt", 0.9, None), ("idee", 0.35, "3 2"), ("gestopt", 0.0, "3 3")]
    assert by_status[4][0] == "onbekend"
    assert {f["properties"]["colour"] for f in features} == {INITIATIVE_COLOUR}
    html, _ = _render(layer)
    assert html.count("sk-initiative") == 1  # one styling function for the whole layer


def test_empty_or_missing_gives_an_empty_layer():
    for empty in (None, _initiatives([])):
        layer = initiatives_layer(empty)
        assert _features(layer) == [] and layer.layer_name == "Bewonersinitiatieven (0)"
        _render(layer)  # renders without error


def test_bad_geometry_is_refused_in_dutch():
    lines = _initiatives([shapely.LineString([(0, 0), (1, 1)])])
    with pytest.raises(DataValidationError, match="een punt op de kaart"):
        initiatives_layer(lines)
    no_crs = _initiatives([shapely.Point(1, 1)]).set_crs(None, allow_override=True)
    with pytest.raises(DataValidationError, match="geen coördinatenstelsel"):
        initiatives_layer(no_crs)


def test_demo_initiatives_with_buurt_names(demo):
    buurten = demo.areas.loc[demo.areas["level"] == "buurt"]
    layer = initiatives_layer(demo.initiatives, buurten=buurten)
    features = _features(layer)
    assert len(features) == len(demo.initiatives) >= 2
    names = buurten.set_index("area_code")["name"]
    assert [f["properties"]["buurt"] for f in features] == names[demo.initiatives["buurt_code"]].tolist()
    assert [f["properties"]["contact"] for f in features] == demo.initiatives["contact_organisation"].tolist()


def test_initiatives_with_only_a_buurt_on_real_buurten():
    """Zaanstad (CBS 2017, not the demo): initiatives recorded with a buurt code only are drawn inside their buurt;
    one with an unknown buurt and no point is left out."""
    buurten = gpd.read_file(realdata("zaanstad_buurten_2017_rd.geojson"))
    code_col = next(c for c in ("area_code", "buurtcode", "bu_code") if c in buurten)
    name_col = next(c for c in ("name", "buurtnaam", "bu_naam") if c in buurten)
    buurten = buurten.rename(columns={code_col: "area_code", name_col: "name"}).to_crs(28992)
    buurten = buurten.loc[~buurten.geometry.is_empty].head(3)
    codes = [*buurten["area_code"], "BU99999999"]
    frame = _initiatives([None] * 4, buurt_code=codes)
    layer = initiatives_layer(frame, buurten=buurten)
    features = _features(layer)
    assert len(features) == 3
    lon_lat = np.array([f["geometry"]["coordinates"] for f in features])
    points = gpd.GeoSeries(gpd.points_from_xy(lon_lat[:, 0], lon_lat[:, 1]), crs=4326).to_crs(28992)
    polygons = buurten.set_index("area_code").geometry
    assert all(polygons[c].buffer(0.01).contains(p) for c, p in zip(codes[:3], points, strict=True))
    assert [f["properties"]["buurt"] for f in features] == buurten["name"].astype(str).tolist()

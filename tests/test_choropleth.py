"""The folium choropleth: classes, missing values, legend, escaping, local assets only."""

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data.errors import DataValidationError
from mapping.assets import STATIC_URL, asset_links, ensure_static_assets
from mapping.choropleth import MISSING_FILL, choropleth_map, classify_values


@pytest.fixture()
def squares():
    """Five 1 km squares in RD New with hand-picked values, one missing."""
    geoms = [shapely.box(150_000 + i * 1000, 450_000, 151_000 + i * 1000, 451_000) for i in range(5)]
    return gpd.GeoDataFrame(
        {"area_code": [f"BU0000000{i}" for i in range(5)],
         "name": ["Noord", "Oost", "Zuid", "West <script>alert(1)</script>", "Meer"],
         "waarde": [10.0, 20.0, 30.0, 40.0, np.nan]},
        geometry=geoms, crs=28992,
    )


def _geojson_features(m) -> list[dict]:
    html = m.get_root().render()
    match = re.search(r"geo_json_\w+_add\((\{.*?\})\);", html, flags=re.S)
    assert match, "GeoJSON data not found in the rendered map"
    return json.loads(match.group(1))["features"]


def test_classify_quantiles_and_missing():
    bins, classes = classify_values(pd.Series([1.0, 2.0, 3.0, 4.0, np.nan]), scheme="quantiles", k=2)
    assert list(bins) == [2.5, 4.0]
    assert classes.tolist() == [0, 0, 1, 1, -1]


def test_classify_natural_breaks_separates_clusters():
    bins, classes = classify_values(pd.Series([1.0, 1.1, 1.2, 9.0, 9.1]), scheme="natural_breaks", k=2)
    assert classes.tolist() == [0, 0, 0, 1, 1]
    assert bins[0] == pytest.approx(1.2)


def test_classify_fewer_distinct_values_than_classes():
    bins, classes = classify_values(pd.Series([5.0, 5.0, 5.0]), k=5)
    assert len(bins) == 1 and classes.tolist() == [0, 0, 0]


def test_unknown_scheme_is_refused():
    with pytest.raises(DataValidationError, match="Onbekende indeling"):
        classify_values(pd.Series([1.0]), scheme="random")


def test_one_feature_per_area_missing_grey(squares):
    m = choropleth_map(squares, "waarde", label="Waarde", unit="%", k=4)
    features = _geojson_features(m)
    assert len(features) == 5
    fills = [f["properties"]["fill"] for f in features]
    assert fills[4] == MISSING_FILL
    assert len(set(fills[:4])) == 4 and MISSING_FILL not in fills[:4]
    assert features[4]["properties"]["value_text"] == "geen gegevens"
    assert features[1]["properties"]["value_text"] == "20%"


def test_status_shows_geheim(squares):
    status = pd.Series([None, None, None, None, "geheim"], index=squares.index)
    m = choropleth_map(squares, "waarde", label="Waarde", status=status)
    assert _geojson_features(m)[4]["properties"]["value_text"] == "geheim"


def test_legend_is_dutch_and_counts_missing(squares):
    squares["waarde"] = [1000.5, 2000.25, 3000.0, 4000.0, np.nan]
    html = choropleth_map(squares, "waarde", label="Inkomen", unit="", decimals=1, k=2).get_root().render()
    assert "1.000,5 – 2.500,1" in html or "1.000,5 \\u2013 2.500,1" in html
    assert "geen gegevens / geheim (1)" in html


def test_hostile_names_are_escaped(squares):
    m = choropleth_map(squares, "waarde", label="<b>Label</b>")
    html = m.get_root().render()
    assert "<script>alert(1)</script>" not in html
    assert "<b>Label</b>" not in html
    # The tooltip puts the name into innerHTML: it must arrive there HTML-escaped.
    assert _geojson_features(m)[3]["properties"]["name"] == "West &lt;script&gt;alert(1)&lt;/script&gt;"


def test_map_loads_only_local_assets(squares):
    m = choropleth_map(squares, "waarde", label="Waarde")
    links = list(asset_links(m))
    assert links, "the map must load Leaflet"
    assert all(link.startswith(STATIC_URL + "/") for link in links), links
    html = m.get_root().render()
    assert not re.search(r'(src|href)="https?://', html)


def test_tiles_are_a_setting(squares):
    assert "tile.openstreetmap.org" not in choropleth_map(squares, "waarde", label="W").get_root().render()
    assert "tile.openstreetmap.org" in choropleth_map(squares, "waarde", label="W", tiles="osm").get_root().render()
    assert "service.pdok.nl" in choropleth_map(squares, "waarde", label="W", tiles="pdok").get_root().render()


def test_missing_column_is_a_dutch_error(squares):
    with pytest.raises(DataValidationError, match="Kolom 'bestaat_niet' ontbreekt"):
        choropleth_map(squares, "bestaat_niet", label="x")


def test_static_assets_are_copied_from_the_installed_package(tmp_path):
    target = ensure_static_assets(tmp_path)
    assert (target / "leaflet.js").stat().st_size > 100_000
    assert "leaflet-container" in (target / "leaflet.css").read_text()
    assert (target / "images" / "layers.png").exists()

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
    # Classified as shown: 1.000,5 / 2.000,3 / 3.000,0 / 4.000,0; the median 2.500,15 rounds (half up) to 2.500,2.
    assert "1.000,5 – 2.500,2" in html or "1.000,5 \\u2013 2.500,2" in html
    assert "2.500,3 – 4.000,0" in html or "2.500,3 \\u2013 4.000,0" in html
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


# --------------------------------------------------------------------------- issue 15: readable classes
from data.formatting import format_number  # noqa: E402
from mapping.choropleth import (  # noqa: E402
    HIGHLIGHT_NAME,
    MAP_CREDIT,
    area_bounds,
    class_breaks,
    class_labels,
    highlight_layer,
    legend_entries,
    round_half_up,
)


def _rendered_legend(m) -> str:
    """The legend's HTML as the control gets it (the JS string literal after ``div.innerHTML = ``)."""
    page = m.get_root().render()
    start = page.index("div.innerHTML = ") + len("div.innerHTML = ")
    return json.JSONDecoder().raw_decode(page, start)[0]


def test_whole_percentages_0_to_12_in_equal_intervals():
    # Width 12 / 5 = 2.4: raw bounds 2.4, 4.8, 7.2, 9.6, 12; shown as whole numbers 2, 5, 7, 10, 12.
    values = pd.Series(np.arange(13, dtype=float))
    bins, classes = classify_values(values, scheme="equal_interval", k=5, decimals=0)
    assert bins.tolist() == [2, 5, 7, 10, 12]
    assert class_labels(bins, 0, decimals=0, unit="%") == ["0 – 2%", "3 – 5%", "6 – 7%", "8 – 10%", "11 – 12%"]
    assert classes.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4]


def test_labels_continue_one_step_above_the_previous_bound():
    assert class_labels([9, 12], 0, unit="%") == ["0 – 9%", "10 – 12%"]
    assert class_labels([2.4, 3.1], 0, decimals=1) == ["0,0 – 2,4", "2,5 – 3,1"]
    assert class_labels([1500, 2500], 1000, unit="personen") == ["1.000 – 1.500 personen", "1.501 – 2.500 personen"]
    assert class_labels([0, 3, 4], 0) == ["0", "1 – 3", "4"]  # a class of one value reads just that value


def test_person_counts_with_many_zeros_give_zero_its_own_class():
    values = pd.Series([0.0] * 10 + [1, 2, 3, 5, 8, 13, 21, 34, 55, 89])
    # Quantiles at 20/40/60/80%: 0, 0, 2.4 (between 2 and 3), 14.6 (between 13 and 21), 89.
    bins, classes = classify_values(values, k=5, decimals=0)
    assert bins.tolist() == [0, 2, 15, 89]
    labels = class_labels(bins, 0, unit="personen")
    assert labels == ["0 personen", "1 – 2 personen", "3 – 15 personen", "16 – 89 personen"]
    assert classes.tolist() == [0] * 10 + [1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
    assert class_breaks(values, k=5).tolist() == bins.tolist()


def test_one_decimal_classifies_the_shown_value():
    # 0.25 is shown as 0,3 (half up, as format_number does) and 2.46 as 2,5: both land in the class their
    # shown value names, although the raw values lie below the raw bounds 0.26 and 2.48.
    values = pd.Series([0.0, 0.25, 1.0, 2.44, 2.46, 3.1, 4.96])
    assert format_number(0.25, 1) == "0,3" and format_number(2.46, 1) == "2,5"
    bins, classes = classify_values(values, bins=[0.26, 2.48, 3.1], decimals=1)
    assert bins.tolist() == [0.3, 2.5, 3.1, 5.0]  # the maximum 4.96 -> 5,0 closes the last class
    assert class_labels(bins, 0.0, decimals=1) == ["0,0 – 0,3", "0,4 – 2,5", "2,6 – 3,1", "3,2 – 5,0"]
    assert classes.tolist() == [0, 0, 1, 1, 1, 2, 3]


def test_rounding_is_the_one_of_the_shown_numbers():
    values = [0.25, -0.25, 2.675, 1234.45, -7.5, 0.0]
    rounded = round_half_up(values, 1)
    assert [format_number(v, 1) for v in values] == [format_number(r, 1) for r in rounded]
    assert rounded.tolist() == [0.3, -0.3, 2.7, 1234.5, -7.5, 0.0]
    assert class_labels([-5, 0, 5], -12) == ["-12 – -5", "-4 – 0", "1 – 5"]


def test_a_single_value_and_all_missing():
    bins, classes = classify_values(pd.Series([5.0, 5.0, np.nan]), k=5, decimals=0)
    assert bins.tolist() == [5] and classes.tolist() == [0, 0, -1]
    assert class_labels(bins, 5, unit="%") == ["5%"]
    bins, classes = classify_values(pd.Series([np.nan, np.nan]), k=5, decimals=0)
    assert len(bins) == 0 and classes.tolist() == [-1, -1]
    assert class_labels(bins, None) == []
    assert class_breaks(pd.Series([np.nan]), decimals=1).size == 0


def test_legend_entries_match_the_map(squares):
    entries = legend_entries(squares["waarde"], k=4, unit="%", higher_is_need=True)
    # Quartiles of 10, 20, 30, 40 (linear interpolation): 17,5 -> 18, 25, 32,5 -> 33 (half up), 40.
    labels = ["10 – 18%", "19 – 25%", "26 – 33%", "34 – 40%", "geen gegevens / geheim (1)"]
    assert [label for _, label in entries] == labels
    assert entries[-1][0] == MISSING_FILL and len({colour for colour, _ in entries}) == 5
    legend = _rendered_legend(choropleth_map(squares, "waarde", label="W", unit="%", k=4, higher_is_need=True))
    for colour, label in entries[:-1]:
        assert f"background:{colour}\"></span>{label}</div>" in legend


def _parse_label(label: str, unit: str) -> tuple[float, float]:
    """(low, high) of a Dutch class label like '1.001 – 2.500 personen' or '5%'."""
    text = label[: len(label) - len(unit)].strip() if unit and label.endswith(unit) else label
    parts = [float(p.replace(".", "").replace(",", ".")) for p in text.split(" – ")]
    return parts[0], parts[-1]


@pytest.mark.realdata
@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks", "equal_interval"])
def test_no_overlapping_classes_on_the_real_zaanstad_buurten(empty_store, scheme):
    """Every key figure of the CBS file for Zaanstad 2017: classes do not overlap, and every buurt's
    value as shown in its tooltip lies inside the class its colour's label names."""
    from data.area_import import read_area_file
    from data.indicators import BY_NAME
    from tests.conftest import realdata

    imported = read_area_file(realdata("zaanstad_buurten_2017.geojson"))
    empty_store.merge_area_data(imported.areas, imported.values, user="test")
    areas = empty_store.read_areas("buurt")
    present = [name for name in BY_NAME if name in areas.columns and areas[name].notna().sum() > 1]
    assert len(present) >= 20, present  # the file has the usual CBS key figures
    for name in present:
        ind = BY_NAME[name]
        values = areas[name]
        bins, classes = classify_values(values, scheme=scheme, k=5, decimals=ind.decimals)
        labels = class_labels(bins, values.min(), decimals=ind.decimals, unit=ind.unit)
        ranges = [_parse_label(label, ind.unit) for label in labels]
        assert all(low <= high for low, high in ranges), (name, labels)
        assert all(prev[1] < nxt[0] for prev, nxt in zip(ranges[:-1], ranges[1:], strict=True)), (name, labels)
        assert not any(" – " in label and label.split(" – ")[0] == label.split(" – ")[1] for label in labels)
        known = values.notna()
        shown = [_parse_label(format_number(v, ind.decimals), "")[0] for v in values[known]]
        for value, cls in zip(shown, classes[known], strict=True):
            low, high = ranges[cls]
            assert low <= value <= high, (name, value, labels[cls])
    m = choropleth_map(areas, present[0], label=BY_NAME[present[0]].label, unit=BY_NAME[present[0]].unit,
                       decimals=BY_NAME[present[0]].decimals, scheme=scheme)
    assert m.legend_html.count("sk-swatch") >= 2


# --------------------------------------------------------------------------- issue 15: legend, scale, credit
def test_legend_starts_folded_on_low_maps_and_open_on_high_ones(squares):
    low = choropleth_map(squares, "waarde", label="W", height=460).get_root().render()
    high = choropleth_map(squares, "waarde", label="W", height=560).get_root().render()
    assert "details.open = false" in low and "details.open = true" in high
    assert "L.DomEvent.disableClickPropagation(box)" in low  # unfolding does not click the map below
    assert "Math.floor(height * 0.4)" in low  # open, at most 40% of the map's height (it scrolls inside)


def test_legend_outside_leaves_the_map_and_sets_legend_html(squares):
    m = choropleth_map(squares, "waarde", label="Waarde <b>", unit="%", k=4, legend="outside")
    html = m.get_root().render()
    assert "L.DomUtil.create('div', 'sk-legend')" not in html and "div.innerHTML = " not in html
    assert m.legend_html.startswith('<div class="sk-legend-panel"')
    assert "Waarde &lt;b&gt;" in m.legend_html and "<b>" not in m.legend_html
    assert "34 – 40%" in m.legend_html and "geen gegevens / geheim (1)" in m.legend_html
    inside = choropleth_map(squares, "waarde", label="Waarde <b>", unit="%", k=4)
    assert inside.legend_html == m.legend_html and _rendered_legend(inside) in m.legend_html
    with pytest.raises(DataValidationError, match="legenda"):
        choropleth_map(squares, "waarde", label="W", legend="links")


def test_scale_bar_is_metric_only_and_the_credit_is_shown(squares):
    html = choropleth_map(squares, "waarde", label="W").get_root().render()
    assert "L.control.scale({metric: true, imperial: false" in html
    assert "imperial: true" not in html and "control_scale" not in html
    assert html.count("L.control.scale(") == 1  # not folium's own (which shows miles) as well
    assert "setPrefix(false)" in html  # no link to leafletjs.com
    assert json.dumps(MAP_CREDIT) in html and "CBS" in MAP_CREDIT and "Kadaster" in MAP_CREDIT
    hostile = choropleth_map(squares, "waarde", label="W", credit="<img src=x onerror=alert(1)>").get_root().render()
    assert "<img src=x" not in hostile and "\\u003cimg" not in hostile  # escaped before it reaches innerHTML
    assert "addAttribution" not in choropleth_map(squares, "waarde", label="W", credit=None).get_root().render()


def test_labels_from_a_zoom_level_with_a_point_inside_each_area(squares):
    m = choropleth_map(squares, "waarde", label="W", labels_from_zoom=15)
    html = m.get_root().render()
    assert "var minZoom = 15;" in html and "sk-labels-on" in html and "className: 'sk-label'" in html and "interactive: false" in html
    for feature, geom in zip(_geojson_features(m), squares.to_crs(4326).geometry, strict=True):
        lat, lon = feature["properties"]["lp"]
        assert geom.buffer(1e-9).contains(shapely.Point(lon, lat))
    assert "sk-labels-on" not in choropleth_map(squares, "waarde", label="W", labels_from_zoom=None
                                                ).get_root().render()


# --------------------------------------------------------------------------- issue 15: the chosen area
def test_highlight_layer_outlines_one_area_without_fill(squares):
    group = highlight_layer(squares, "BU00000002")
    assert group.layer_name == HIGHLIGHT_NAME
    (geo,) = group._children.values()
    features = geo.data["features"]
    assert len(features) == 1 and features[0]["properties"]["code"] == "BU00000002"
    west, south, east, north = shapely.geometry.shape(features[0]["geometry"]).bounds
    expected = squares.to_crs(4326).geometry.iloc[2].bounds
    assert np.allclose([west, south, east, north], expected, atol=1e-5)  # WGS84, the third square
    style = geo.style_function(features[0])
    assert style["fill"] is False and style["weight"] >= 3 and style["color"] == "#111111"
    assert geo.options.get("interactive") is False  # clicks reach the areas below
    assert not highlight_layer(squares, None)._children and not highlight_layer(squares, "BU99")._children


def test_highlight_layer_on_a_real_town(town_store):
    buurten = town_store.read_areas("buurt")
    code = buurten["area_code"].iloc[3]
    (geo,) = highlight_layer(buurten, code)._children.values()
    assert [f["properties"]["code"] for f in geo.data["features"]] == [code]
    [[south, west], [north, east]] = area_bounds(buurten, code)
    assert 50.7 < south < north < 53.6 and 3.3 < west < east < 7.3  # in the Netherlands, WGS84
    whole = buurten.to_crs(4326).total_bounds
    assert whole[0] <= west and east <= whole[2] and whole[1] <= south and north <= whole[3]
    with pytest.raises(DataValidationError, match="niet gevonden"):
        area_bounds(buurten, "BU_bestaat_niet")


def test_selected_code_adds_the_highlight_on_top(squares):
    m = choropleth_map(squares, "waarde", label="W", selected_code="BU00000001")
    html = m.get_root().render()
    assert html.count('"code": "BU00000001"') == 2  # the area itself and its outline on top
    assert [f["properties"].get("selected") for f in _geojson_features(m)] == [False, True, False, False, False]


def test_new_controls_load_nothing_from_elsewhere(squares):
    m = choropleth_map(squares, "waarde", label="W", selected_code="BU00000001", height=460)
    assert all(link.startswith(STATIC_URL + "/") for link in asset_links(m))
    assert not re.search(r'(src|href)="https?://', m.get_root().render())

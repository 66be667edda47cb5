"""The Kaart page's figures without Streamlit: per 1.000 inhabitants, the year, the ranking and its
download, the shareable link; worked by hand, then on the real Zaanstad buurten of 2015 and 2017."""

from __future__ import annotations

import copy
import io

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest

from data.store import GeoPackageStore
from pages.kaart_data import (
    CODE,
    NAME,
    RANK,
    STATUS,
    KaartView,
    figure_text,
    figure_values,
    header_text,
    indicator_years,
    not_found_text,
    parse_view_params,
    per_1000,
    per_1000_allowed,
    ranking_export,
    ranking_frame,
    share_link,
    view_params,
)
from tests.conftest import realdata

BIJSTAND = "personen_per_soort_uitkering_bijstand"
OUDEREN = "percentage_personen_65_jaar_en_ouder"


def long_values() -> pd.DataFrame:
    """Three buurten, two years. 2024: A 2.000 inhabitants and 30 on bijstand, B 0 inhabitants, C secret
    inhabitants and 12 on bijstand; 2020: A 1.000 inhabitants and 5 on bijstand."""
    rows = [
        ("A", "aantal_inwoners", 2024, 2000.0, None), ("A", BIJSTAND, 2024, 30.0, None),
        ("B", "aantal_inwoners", 2024, 0.0, None), ("B", BIJSTAND, 2024, 0.0, None),
        ("C", "aantal_inwoners", 2024, np.nan, "geheim"), ("C", BIJSTAND, 2024, 12.0, None),
        ("A", "aantal_inwoners", 2020, 1000.0, None), ("A", BIJSTAND, 2020, 5.0, None),
        ("A", OUDEREN, 2024, 20.0, None), ("B", OUDEREN, 2024, np.nan, "geen_inwoners"),
        ("C", OUDEREN, 2024, 20.0, None),
    ]
    return pd.DataFrame(rows, columns=["area_code", "indicator", "year", "value", "status"])


def test_only_counts_of_people_can_be_shown_per_1000_inhabitants():
    assert per_1000_allowed(BIJSTAND) and per_1000_allowed("aantal_part_huishoudens")
    assert not per_1000_allowed("aantal_inwoners")  # always 1.000
    assert not per_1000_allowed(OUDEREN)  # a share already
    assert not per_1000_allowed("oppervlakte_totaal_in_ha")  # hectares, not people
    assert not per_1000_allowed("no_such_figure")


def test_per_1000_divides_by_inhabitants_and_never_by_zero():
    counts = pd.Series([10.0, 5.0, 3.0, np.nan, 7.0], index=list("abcde"))
    inhabitants = pd.Series([2000.0, 0.0, np.nan, 100.0, -99999999.0], index=list("abcde"))
    result = per_1000(counts, inhabitants)
    assert result["a"] == pytest.approx(5.0)  # 10 / 2.000 * 1.000
    assert result[["b", "c", "d", "e"]].isna().all()


def test_figure_values_newest_year_by_default_and_a_chosen_year():
    values = long_values()
    assert indicator_years(values, ["A", "B", "C"], BIJSTAND) == [2020, 2024]
    assert indicator_years(values, ["B", "C"], BIJSTAND) == [2024]
    newest = figure_values(values, ["C", "A", "B"], BIJSTAND)
    assert newest.index.tolist() == ["C", "A", "B"]  # the order asked for
    assert newest["value"].tolist() == [12.0, 30.0, 0.0]
    assert newest["year"].tolist() == [2024] * 3
    old = figure_values(values, ["A", "B", "C"], BIJSTAND, year=2020)
    assert old.loc["A", "value"] == 5.0 and old[["value"]].loc[["B", "C"]].isna().all().all()
    assert old["year"].tolist() == [2020] * 3
    assert figure_values(values, ["A"], BIJSTAND, year=1999)["year"].tolist() == [2024]  # not stored: newest


def test_figure_values_per_1000_says_why_a_rate_is_missing():
    fig = figure_values(long_values(), ["A", "B", "C"], BIJSTAND, per_1000_on=True)
    assert fig.loc["A", "value"] == pytest.approx(15.0)  # 30 / 2.000 * 1.000
    assert np.isnan(fig.loc["B", "value"]) and fig.loc["B", "status"] == "geen_inwoners"
    assert np.isnan(fig.loc["C", "value"]) and fig.loc["C", "status"] == "geheim"  # the inhabitants are secret
    assert fig.loc["A", "status"] is None
    old = figure_values(long_values(), ["A"], BIJSTAND, year=2020, per_1000_on=True)
    assert old.loc["A", "value"] == pytest.approx(5.0)  # 5 / 1.000 * 1.000, the inhabitants of that year
    # A share is never divided, also when asked.
    assert figure_values(long_values(), ["A"], OUDEREN, per_1000_on=True).loc["A", "value"] == 20.0


def test_labels_say_per_1000_and_the_year():
    assert figure_text(BIJSTAND, per_1000_on=True, year=2024) == (
        "Personen met bijstandsuitkering per 1.000 inwoners (2024)", "per 1.000 inwoners", 1)
    assert figure_text(OUDEREN, per_1000_on=True) == ("Personen 65 jaar en ouder", "%", 0)
    assert header_text("Personen 65 jaar en ouder (2024)", "%") == "Personen 65 jaar en ouder (2024) (%)"
    assert header_text("Personen met bijstandsuitkering per 1.000 inwoners", "per 1.000 inwoners") == \
        "Personen met bijstandsuitkering per 1.000 inwoners"


def test_ranking_highest_first_ties_share_a_rank_missing_last():
    areas = pd.DataFrame({"area_code": ["A", "B", "C", "D"], "name": ["Aap", "Beek", "Centrum", "Dorp"]})
    figure = pd.DataFrame({"value": [10.0, 30.04, 29.96, np.nan], "status": [None, None, None, "geheim"]},
                          index=["A", "B", "C", "D"])
    ranking = ranking_frame(areas, figure, header="Waarde (%)", decimals=0)
    assert ranking.columns.tolist() == [RANK, NAME, CODE, "Waarde (%)", STATUS]
    # 30,04 and 29,96 both show as 30%: one rank, the next is 3 (not 2).
    assert ranking[CODE].tolist() == ["B", "C", "A", "D"]
    assert ranking[RANK].tolist()[:3] == [1, 1, 3] and pd.isna(ranking[RANK].iloc[3])
    assert str(ranking[RANK].dtype) == "Int64"
    assert ranking[STATUS].tolist() == ["", "", "", "geheim"]
    assert ranking["Waarde (%)"].iloc[0] == 30.04  # the stored value, not the rounded one


def test_ranking_download_has_numbers_formats_and_an_explanation():
    areas = pd.DataFrame({"area_code": ["A", "B"], "name": ["=Aap", "Beek"]})
    figure = pd.DataFrame({"value": [12.5, np.nan], "status": [None, "geheim"]}, index=["A", "B"])
    header = "Personen 65 jaar en ouder (2024) (%)"
    ranking = ranking_frame(areas, figure, header=header, decimals=1)
    sheets, formats = ranking_export(ranking, indicator=OUDEREN, header=header, unit="%", decimals=1, level="buurt")
    assert list(sheets) == ["Ranglijst", "Toelichting"]
    from data.export import frame_to_csv_bytes, frames_to_excel_bytes

    book = openpyxl.load_workbook(io.BytesIO(frames_to_excel_bytes(sheets, number_formats=formats)))
    sheet = book["Ranglijst"]
    assert [c.value for c in sheet[1]] == [RANK, NAME, CODE, header, STATUS]
    assert [c.value for c in sheet[2]] == [1, "=Aap", "A", 12.5, None]
    assert sheet["A2"].data_type == "n" and sheet["D2"].data_type == "n" and sheet["B2"].data_type == "s"
    assert sheet["D2"].number_format == '0.0"%"'  # CBS percentages are stored as 12,5, not 0,125
    assert sheet["A3"].value is None and sheet["D3"].value is None and sheet["E3"].value == "geheim"
    explained = {row[1].value for row in book["Toelichting"].iter_rows(min_row=2)}
    assert explained == {RANK, NAME, CODE, header, STATUS}
    csv = frame_to_csv_bytes(ranking).decode("utf-8-sig").splitlines()
    assert csv[1] == "1;'=Aap;A;12,5;" and csv[2] == ";Beek;B;;geheim"  # integer rank, empty where missing


def test_view_params_round_trip_and_bad_parameters_are_ignored():
    indicators = {BIJSTAND, OUDEREN}
    codes = {"buurt": {"BU04790101"}, "wijk": {"WK047901"}}
    view = KaartView("buurt", BIJSTAND, "BU04790101", 2017, True)
    params = view_params(view)
    assert params == {"niveau": "buurt", "kerncijfer": BIJSTAND, "gebied": "BU04790101", "jaar": "2017",
                      "per1000": "1"}
    assert parse_view_params(params, indicators=indicators, codes=codes) == view
    # parse_qs gives lists; an unknown figure, area, year or flag leaves the default.
    assert parse_view_params({"niveau": ["wijk"], "gebied": ["WK047901"]}, indicators=indicators,
                             codes=codes) == KaartView("wijk", OUDEREN, "WK047901")
    messy = {"niveau": "provincie", "kerncijfer": "<script>", "gebied": "BU99999999", "jaar": "20x7",
             "per1000": "1"}
    assert parse_view_params(messy, indicators=indicators, codes=codes) == KaartView()  # a share: never per 1.000
    assert view_params(KaartView("wijk", OUDEREN, per_1000=True)) == {"niveau": "wijk", "kerncijfer": OUDEREN}


def test_share_link_opens_the_kaart_with_the_view():
    view = KaartView("buurt", OUDEREN, "BU04790101")
    assert share_link("https://steunkaart.example.nl/", view) == (
        "https://steunkaart.example.nl/kaart?niveau=buurt&kerncijfer=percentage_personen_65_jaar_en_ouder"
        "&gebied=BU04790101")
    assert share_link("http://localhost:8501", view, page="").startswith("http://localhost:8501/?niveau=buurt&")


def test_not_found_message_names_the_search_and_the_pc6_table():
    plain = not_found_text("Nergens ", pc6_table=False)
    assert plain.startswith("Niets gevonden voor 'Nergens'") and "Beheer" not in plain
    pc6 = not_found_text("1505 ab", pc6_table=False)
    assert "'1505 ab'" in pc6 and "Beheer" in pc6
    assert "Beheer" not in not_found_text("1505AB", pc6_table=True)


@pytest.fixture(scope="module")
def zaanstad(tmp_path_factory):
    """A store (not the demo) with the Zaanstad buurten of 2015 and of 2017, as imported on Beheer."""
    import geopandas as gpd

    from data.area_import import read_area_file

    path = tmp_path_factory.mktemp("zaanstad") / "zaanstad.gpkg"
    store = GeoPackageStore.create_new(path)
    raw = {}
    for year in (2015, 2017):
        name = f"zaanstad_buurten_{year}.geojson"
        imported = read_area_file(realdata(name), year=year)
        store.merge_area_data(imported.areas, imported.values, user="test", file_name=name)
        frame = gpd.read_file(realdata(name))
        frame.columns = [c.lower() for c in frame.columns]
        raw[year] = frame.set_index("bu_code")
    return store, raw


def test_real_town_years_and_per_1000(zaanstad):
    store, raw = zaanstad
    areas = store.read_areas("buurt")
    values = store.read_area_values()
    codes = areas["area_code"]
    assert indicator_years(values, codes, "mannen") == [2015, 2017]
    for year in (2015, 2017):
        fig = figure_values(values, codes, "mannen", year=year, per_1000_on=True)
        file = raw[year].reindex(codes)
        inhabited = (file["aant_inw"] > 0).to_numpy()
        with np.errstate(invalid="ignore"):  # Guisveld: 0 / 0
            expected = file["aant_man"].to_numpy(dtype=float) / file["aant_inw"].to_numpy(dtype=float) * 1000
        np.testing.assert_allclose(fig["value"].to_numpy()[inhabited], expected[inhabited])
        assert fig["value"].to_numpy()[inhabited].min() > 300 and fig["value"].max() < 700  # men per 1.000
        assert (fig.loc[~inhabited, "status"] == "geen_inwoners").all()  # Guisveld, an industrial area


def test_real_town_ranking_of_65_plus(zaanstad):
    store, raw = zaanstad
    areas = store.read_areas("buurt")
    fig = figure_values(store.read_area_values(), areas["area_code"], OUDEREN, year=2017)
    ranking = ranking_frame(areas, fig, header="65+ (%)")
    file = raw[2017]
    shown = file.loc[(file["aant_inw"] > 0) & (file["p_65_eo_jr"] >= 0), "p_65_eo_jr"]
    assert len(ranking) == len(areas) == len(file)
    assert ranking["65+ (%)"].iloc[0] == shown.max()
    top = set(shown.index[shown == shown.max()])
    assert set(ranking.loc[ranking[RANK] == 1, CODE]) == top
    assert ranking[RANK].notna().sum() == len(shown)  # every buurt with a value has a rank, no other
    assert ranking[RANK].max() <= len(shown)


def test_map_component_gives_the_component_what_st_folium_gives_it(monkeypatch):
    """pages.kaart_data.map_component makes st_folium's arguments once per cached map: they must stay equal to
    what st_folium itself passes (a streamlit-folium upgrade that changes them makes this fail)."""
    import folium
    import shapely
    import streamlit_folium as sf

    from mapping.choropleth import choropleth_map, highlight_layer
    from pages import kaart_data as kd

    areas = gpd.GeoDataFrame({"area_code": ["BU1", "BU2"], "name": ["Oost", "West"], "v": [3.0, 7.0]},
                             geometry=[shapely.box(120_000, 480_000, 121_000, 481_000),
                                       shapely.box(121_000, 480_000, 122_000, 481_000)], crs=28992)
    fmap = choropleth_map(areas, "v", label="Waarde", legend="outside")
    calls = []
    monkeypatch.setattr(sf, "_component_func", lambda **kwargs: calls.append(kwargs))
    outline = highlight_layer(areas, "BU2")
    sf.st_folium(copy.deepcopy(fmap), key="kaart_buurt", height=580, use_container_width=True,
                 returned_objects=["last_active_drawing"], feature_group_to_add=copy.deepcopy(outline),
                 center=(52.0, 5.0), zoom=14)
    kd.map_component(fmap, key="kaart_buurt", height=580, returned_objects=["last_active_drawing"],
                     feature_group_to_add=outline, center=(52.0, 5.0), zoom=14)
    kd.map_component(fmap, key="kaart_buurt", height=580, returned_objects=["last_active_drawing"],
                     feature_group_to_add=outline, center=(52.0, 5.0), zoom=14)  # from the parts made once
    theirs, ours, again = calls
    for call in (ours, again):
        assert call.keys() == theirs.keys()
        for name in theirs:
            if name != "on_change":
                assert call[name] == theirs[name], name
    assert "feature_group_feature_group_0" in ours["feature_group"] and ours["script"]
    assert isinstance(fmap, folium.Map) and not any("feature_group" in k for k in fmap._children)  # cache untouched

"""The municipality gap report: small counts hidden (also against differencing), escaped, no external assets."""

import io
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook

from mapping.gap_report import HIDDEN, build_gap_report, report_to_excel, report_to_html
from mapping.gaps import describe_need, gaps_from_need_and_supply
from mapping.scenarios import Scenario, compare_scenarios, run_scenario

VISIT = "bezoekdienst_weduwen"


@pytest.fixture()
def row():
    """Four buurten in a row; need 0,10 × widowed: 3, 40, 25 and 12 people; no provision at all,
    so the gap equals the need. A hostile buurt name must come out as text."""
    widowed = [30, 400, 250, 120]
    buurten = gpd.GeoDataFrame({
        "area_code": [f"BU0001000{k}" for k in range(4)],
        "name": ["<script>alert(1)</script>", "Midden", "Oost", "Verre Oost"],
        "aantal_inwoners": [1000.0] * 4, "percentage_verweduwd": [w / 10 for w in widowed], "water": False,
    }, geometry=[shapely.box(k * 1000, 0, (k + 1) * 1000, 1000) for k in range(4)], crs=28992)
    provisions = gpd.GeoDataFrame({
        "provision_id": ["V1"], "name": ["Kring"], "type": [VISIT], "status": ["gestopt"],
        "capacity_per_year": [10], "reach_m": [1500.0], "funding_end": pd.to_datetime(["2025-01-01"]),
    }, geometry=[shapely.Point(500, 500)], crs=28992)
    return buurten, provisions


def test_small_counts_hidden_with_secondary_suppression(row):
    buurten, provisions = row
    gaps = gaps_from_need_and_supply(buurten, provisions, types=[VISIT])
    report = build_gap_report(buurten, gaps, scope="Testgemeente", type_label="Bezoekdienst",
                              formula=describe_need(VISIT))
    table = report.table.set_index("Code")
    assert report.totals["Tekort (personen)"] == "80"
    # 3 is hidden; the total 80 would give it away, so the smallest other count (12) is hidden as well.
    assert table.loc["BU00010000", "Tekort (personen)"] == HIDDEN
    assert table.loc["BU00010003", "Tekort (personen)"] == HIDDEN
    assert table.loc["BU00010001", "Tekort (personen)"] == "40"
    shown = [int(v) for v in table["Tekort (personen)"] if v != HIDDEN]
    assert 80 - sum(shown) >= 5  # what a reader can work out is never a single small cell
    # The hidden numbers appear nowhere else in the row (reason, index, accessibility).
    small = table.loc["BU00010000"]
    assert small["Reden"].startswith(HIDDEN) and small["Tekortindex"] == "" and small["Bereikbaarheid"] == ""


def test_html_is_escaped_and_self_contained(row):
    buurten, provisions = row
    gaps = gaps_from_need_and_supply(buurten, provisions, types=[VISIT])
    page = report_to_html(build_gap_report(buurten, gaps, scope="Wijk <b>", type_label="Bezoekdienst",
                                           formula=describe_need(VISIT)))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Wijk &lt;b&gt;" in page
    assert not re.search(r"(src|href)=\"https?://", page)  # nothing loaded from elsewhere
    assert page.count("<path ") == 4  # one SVG path per buurt
    assert "@media print" in page


def test_excel_has_tables_scenarios_and_map(row):
    buurten, provisions = row
    gaps = gaps_from_need_and_supply(buurten, provisions, types=[VISIT])
    scenario = Scenario("Nieuwe kring", added=())
    compared = compare_scenarios([run_scenario(buurten, provisions, scenario, types=[VISIT])])
    report = build_gap_report(buurten, gaps, scope="Testgemeente", type_label="Bezoekdienst",
                              formula=describe_need(VISIT), scenarios=compared)
    book = load_workbook(io.BytesIO(report_to_excel(report)))
    assert book.sheetnames == ["Toelichting", "Tekorten per buurt", "Scenario's", "Kaart"]
    ranked = pd.read_excel(io.BytesIO(report_to_excel(report)), sheet_name="Tekorten per buurt", dtype=str)
    assert ranked["Tekort (personen)"].tolist()[0] == "40" and HIDDEN in ranked["Tekort (personen)"].tolist()
    assert len(book["Kaart"]._images) == 1


def test_report_for_one_wijk_of_the_demo(demo):
    areas = demo.areas
    wide = demo.area_values.pivot_table(index="area_code", columns="indicator", values="value")
    buurten = areas.loc[areas["level"] == "buurt"].merge(wide, left_on="area_code", right_index=True)
    gaps = gaps_from_need_and_supply(buurten, demo.provisions, types=[VISIT])
    wijk = buurten.loc[buurten["area_code"].str[2:8] == "999901"]
    report = build_gap_report(wijk, gaps, scope="Kanaalzone", type_label="Bezoekdienst",
                              formula=describe_need(VISIT))
    assert set(report.table["Code"]) == set(wijk["area_code"])
    values = report.table["Tekort (personen)"]
    assert all(v == HIDDEN or re.fullmatch(r"[\d.]+", v) for v in values)
    numeric = pd.to_numeric(values.str.replace(".", "", regex=False), errors="coerce")
    assert not ((numeric > 0) & (numeric < 5)).any()
    assert np.isclose(gaps.loc[gaps["area_code"].isin(wijk["area_code"]), "gap_people"].sum(),
                      float(report.totals["Tekort (personen)"].replace(".", "")), atol=0.5)


def test_map_and_legend_do_not_give_hidden_values_away(row):
    buurten, provisions = row
    gaps = gaps_from_need_and_supply(buurten, provisions, types=[VISIT])
    report = build_gap_report(buurten, gaps, scope="T", type_label="Bezoekdienst", formula=describe_need(VISIT))
    fills = report.areas.set_index("area_code")["fill"]
    assert fills["BU00010000"] == fills["BU00010003"] == "#9e9e9e"  # the two hidden buurten: grey, no class
    labels = [label for _, label in report.legend]
    assert labels[0].startswith("25") and "verborgen (minder dan 5 personen)" in labels  # bounds from shown only

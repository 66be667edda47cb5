"""Issue 15, the profile: numeric exports with a data year per row, the mixed-years warning, the trend
chart with wijk and gemeente lines, and the report (HTML with a static map, PDF) through the reports module.

Tested on the fixture town Teststad (tests/towns.py, written as real CBS files) and on the real town
Zaanstad with CBS 2015 and 2017 imported (skipped when ../shared/realdata is absent).
"""

from __future__ import annotations

import base64
import io
import math
import re

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from data import auth
from data.area_import import read_area_file
from data.export import FMT_INT, FMT_PCT_POINTS
from data.profile import (
    area_profile,
    compare_to_excel,
    mixed_years_message,
    nearby_provisions,
    profile_messages,
    profile_to_excel,
    profile_to_html,
    profile_to_pdf,
    trend_chart,
    trend_long,
    years_label,
)
from data.store import GeoPackageStore
from reports import pdf_problem
from tests.conftest import in_ci, realdata
from tests.towns import build_state, write_town_files

HOSTILE = "<img src=x onerror=alert(1)> {{7*7}}"
ZAANSTAD = ["zaanstad_buurten_2015.geojson", "zaanstad_wijken_2015.geojson",
            "zaanstad_buurten_2017.geojson", "zaanstad_wijken_2017.geojson"]
POELENBURG = "BU04791210"
WIDOWED = "percentage_verweduwd"


@pytest.fixture()
def teststad(empty_store, tmp_path) -> GeoPackageStore:
    return build_state(empty_store, write_town_files(tmp_path / "bron"), "voorzieningen")


@pytest.fixture(scope="module")
def zaanstad(tmp_path_factory) -> GeoPackageStore:
    paths = [realdata(name) for name in ZAANSTAD]
    store = GeoPackageStore.open(tmp_path_factory.mktemp("zaanstad") / "zaanstad.gpkg")
    for path in paths:
        imported = read_area_file(path)
        store.merge_area_data(imported.areas, imported.values, user="test", file_name=path.name)
    auth.create_user(store, "beheer", "beheerder", [], "correct horse battery", by="test")  # a store with users
    return store


def _book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _records(sheet) -> list[dict]:
    """Rows of a sheet as {header: cell} (the cells, to look at their type and format)."""
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def _no_none_text(book) -> None:
    texts = [c.value for sheet in book for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if t in ("None", "nan", "NaN", "<NA>", "NaT")]


def _pdf_or_skip() -> None:
    problem = pdf_problem()
    if problem is not None and not in_ci():
        pytest.skip(f"PDF kan hier niet gemaakt worden: {problem}")


# --------------------------------------------------------------------------- one year: Teststad


def test_teststad_excel_is_numeric_with_codes_units_and_year(teststad):
    values, areas = teststad.read_area_values(), teststad.read_table("areas")
    profile = area_profile(values, areas, "BU19990101")
    assert profile.years == [2017] and years_label(profile) == "gegevensjaar 2017"
    assert mixed_years_message(profile) is None
    assert profile.table["Jaar"].tolist() == [2017] * len(profile.table)
    book = _book(profile_to_excel(profile, values, areas, ["BU19990001"]))
    assert book.sheetnames == ["Profiel", "Vergelijking", "Samenvatting", "Toelichting"]
    rows = _records(book["Profiel"])
    assert {r["Gebiedscode"].value for r in rows} == {"BU19990101", "WK199901", "GM1999"}
    by_key = {(r["Gebiedscode"].value, r["Indicator"].value): r for r in rows}
    # the buurt file's own figures: 3.020 inhabitants, 11% widowed
    inhabitants = by_key[("BU19990101", "aantal_inwoners")]
    assert inhabitants["Waarde"].value == 3020 and inhabitants["Waarde"].data_type == "n"
    assert inhabitants["Waarde"].number_format == FMT_INT and inhabitants["Eenheid"].value == "personen"
    # the wijk Noord is the sum of its buurten: 3.020 + 2.410 + 5
    assert by_key[("WK199901", "aantal_inwoners")]["Waarde"].value == 3020 + 2410 + 5
    widowed = by_key[("BU19990101", WIDOWED)]
    assert widowed["Waarde"].value == 11 and widowed["Waarde"].number_format == FMT_PCT_POINTS
    assert widowed["Eenheid"].value == "%" and widowed["Bron"].value.endswith("2017")
    # widowed among the four inhabited buurten 9, 6, 11, 5 (Plas is water, Industrieterrein empty):
    # mean 7,75, sd √(22,75 / 4); Bloemenwijk is 3,25 / 2,385 = 1,36 sd above -> unfavourable
    assert widowed["Afwijking"].value == pytest.approx(3.25 / math.sqrt(22.75 / 4))
    assert widowed["Afwijking"].data_type == "n" and widowed["Signaal"].value == "ongunstig"
    assert by_key[("GM1999", WIDOWED)]["Afwijking"].value is None  # only the area itself has a deviation
    for r in rows:
        assert isinstance(r["Jaar"].value, int) and r["Jaar"].value == 2017 and r["Jaar"].number_format == "0"
        assert r["Waarde"].value is None or r["Waarde"].data_type == "n"
        # a missing value has its reason in Status, a known one has none
        assert (r["Waarde"].value is None) == (r["Status"].value is not None)
    compare = _records(book["Vergelijking"])
    assert {r["Gebiedscode"].value for r in compare} == {"BU19990101", "BU19990001"}
    assert next(r for r in compare if r["Gebiedscode"].value == "BU19990001"
                and r["Indicator"].value == WIDOWED)["Waarde"].value == 9
    explained = {(r["Blad"].value, r["Kolom"].value) for r in _records(book["Toelichting"])}
    assert {("Profiel", c.value) for c in book["Profiel"][1]} <= explained
    assert any("CBS Kerncijfers wijken en buurten 2017" in (r["Bron"].value or "")
               for r in _records(book["Toelichting"]))
    _no_none_text(book)


def test_teststad_secret_and_uninhabited_values_are_empty_cells_with_a_status(teststad):
    values, areas = teststad.read_area_values(), teststad.read_table("areas")
    for code, reason in (("BU19990103", "geheim"), ("BU19990003", "geen inwoners")):
        book = _book(profile_to_excel(area_profile(values, areas, code)))
        row = next(r for r in _records(book["Profiel"])
                   if r["Gebiedscode"].value == code and r["Indicator"].value == WIDOWED)
        assert row["Waarde"].value is None and row["Status"].value == reason
        _no_none_text(book)


def test_teststad_comparison_workbook(teststad):
    values, areas = teststad.read_area_values(), teststad.read_table("areas")
    book = _book(compare_to_excel(values, areas, ["BU19990002", "BU19990102"]))
    assert book.sheetnames == ["Vergelijking", "Toelichting"]
    rows = {(r["Gebiedscode"].value, r["Indicator"].value): r for r in _records(book["Vergelijking"])}
    assert rows[("BU19990002", "percentage_personen_65_jaar_en_ouder")]["Waarde"].value == 14
    assert rows[("BU19990102", "aantal_inwoners")]["Waarde"].value == 2410
    assert rows[("BU19990102", "aantal_inwoners")]["Waarde"].number_format == FMT_INT


# --------------------------------------------------------------------------- two years in one profile


@pytest.fixture()
def two_years():
    """One wijk, three buurten. 65+ in 2024 for all but Drie (only 2020); widowed only in 2020."""
    areas = pd.DataFrame({
        "area_code": ["GM0001", "WK000101", "BU00010101", "BU00010102", "BU00010103"],
        "name": ["Stad", "Wijk", "Een", "Twee", "Drie"], "level": ["gemeente", "wijk", "buurt", "buurt", "buurt"],
        "wijk_code": [None, None, "WK000101", "WK000101", "WK000101"], "gemeente_code": ["GM0001"] * 5,
        "water": [False] * 5})
    rows = []
    for code, p65_2020, p65_2024, widowed in [("BU00010101", 10, 12, 4), ("BU00010102", 20, 22, 6),
                                              ("BU00010103", 30, None, 11), ("WK000101", 20, 17, 7),
                                              ("GM0001", 20, 17, 7)]:
        for year in (2020, 2024):
            rows.append({"area_code": code, "indicator": "aantal_inwoners", "year": year, "value": 100})
        rows.append({"area_code": code, "indicator": "percentage_personen_65_jaar_en_ouder", "year": 2020,
                     "value": p65_2020})
        if p65_2024 is not None:
            rows.append({"area_code": code, "indicator": "percentage_personen_65_jaar_en_ouder", "year": 2024,
                         "value": p65_2024})
        rows.append({"area_code": code, "indicator": WIDOWED, "year": 2020, "value": widowed})
    values = pd.DataFrame(rows).assign(status=None, lower=np.nan, upper=np.nan, source="CBS Wijk- en Buurtkaart")
    return areas, values


def test_each_row_has_its_own_year_and_peers_of_that_year(two_years):
    areas, values = two_years
    profile = area_profile(values, areas, "BU00010103")
    table = profile.table.set_index("indicator")
    assert table["Jaar"].to_dict() == {"aantal_inwoners": 2024, "percentage_personen_65_jaar_en_ouder": 2020,
                                       WIDOWED: 2020}
    # Drie's 65+ is of 2020: the wijk column shows the wijk's 2020 value (20%), not its 2024 one (17%)
    assert table.loc["percentage_personen_65_jaar_en_ouder", ["Drie", "Wijk"]].tolist() == ["30%", "20%"]
    # and it is compared with the 2020 values of the buurten (10, 20, 30), not with 12 and 22 of 2024
    assert table.loc["percentage_personen_65_jaar_en_ouder", "z"] == pytest.approx(10 / np.std([10, 20, 30]))
    assert profile.years == [2020, 2024] and years_label(profile) == "gegevens 2020–2024"
    message = mixed_years_message(profile)
    assert "Van 2024: 1 kerncijfer." in message
    assert "Van 2020: Personen 65 jaar en ouder en Verweduwd." in message
    # Een has 65+ of 2024: compared with 12, 22 (Drie has no 2024 value)
    een = area_profile(values, areas, "BU00010101").table.set_index("indicator")
    assert een.loc["percentage_personen_65_jaar_en_ouder", "z"] == pytest.approx(-1.0)


def test_trend_lines_for_area_wijk_and_gemeente(two_years):
    areas, values = two_years
    profile = area_profile(values, areas, "BU00010101")
    data = trend_long(profile, "Personen 65 jaar en ouder")
    assert data["Gebied"].tolist() == ["Een", "Een", "Wijk", "Wijk", "Stad", "Stad"]
    assert data["Waarde"].tolist() == [10, 12, 20, 17, 20, 17]
    chart = trend_chart(profile, "percentage_personen_65_jaar_en_ouder")
    spec = chart.to_dict()
    assert spec["encoding"]["y"]["axis"]["title"] == "%"
    assert spec["encoding"]["color"]["sort"] == ["Een", "Wijk", "Stad"]  # three lines
    assert chart.data["Tekst"].tolist() == ["10%", "12%", "20%", "17%", "20%", "17%"]
    assert "'%'" in spec["encoding"]["y"]["axis"]["labelExpr"]
    counts = trend_chart(profile, "aantal_inwoners")
    assert counts.to_dict()["encoding"]["y"]["axis"]["title"] == "personen"
    assert "',.0f'" in counts.to_dict()["encoding"]["y"]["axis"]["labelExpr"]  # no decimals for a count
    # a count has only the area's line: the wijk and gemeente add up many areas and would flatten it
    assert set(counts.data["Gebied"]) == {"Een"} and counts.data["Tekst"].tolist() == ["100", "100"]
    book = _book(profile_to_excel(profile))
    trend = _records(book["Trend"])
    years = {(r["Gebiedscode"].value, r["Indicator"].value, r["Jaar"].value): r for r in trend}
    assert years[("BU00010101", "percentage_personen_65_jaar_en_ouder", 2020)]["Waarde"].value == 10
    assert years[("GM0001", "aantal_inwoners", 2024)]["Waarde"].number_format == FMT_INT
    assert isinstance(years[("GM0001", "aantal_inwoners", 2024)]["Waarde"].value, int)


# --------------------------------------------------------------------------- real data: Zaanstad 2015 + 2017


def test_zaanstad_2015_and_2017_mixed_years_per_row(zaanstad):
    values, areas = zaanstad.read_area_values(), zaanstad.read_table("areas")
    profile = area_profile(values, areas, POELENBURG)
    table = profile.table.set_index("indicator")
    # CBS 2017 has no benefit counts: those rows are 2015, the rest 2017
    assert table.loc["personen_per_soort_uitkering_bijstand", "Jaar"] == 2015
    assert table.loc["aantal_inwoners", "Jaar"] == 2017
    assert profile.years == [2015, 2017] and years_label(profile) == "gegevens 2015–2017"
    assert "Personen met bijstandsuitkering" in mixed_years_message(profile).split("Van 2015:")[1]
    raw = {year: gpd.read_file(realdata(f"zaanstad_buurten_{year}.geojson")) for year in (2015, 2017)}
    own = {year: frame.loc[frame[next(c for c in frame if c.lower() == "bu_code")] == POELENBURG].iloc[0]
           for year, frame in raw.items()}
    inhabitants = {year: int(next(v for k, v in row.items() if k.lower() == "aant_inw")) for year, row in own.items()}

    book = _book(profile_to_excel(profile))
    rows = {(r["Gebiedscode"].value, r["Indicator"].value): r for r in _records(book["Profiel"])}
    assert rows[(POELENBURG, "personen_per_soort_uitkering_bijstand")]["Jaar"].value == 2015
    assert rows[(POELENBURG, "personen_per_soort_uitkering_bijstand")]["Bron"].value.endswith("2015")
    assert rows[(POELENBURG, "aantal_inwoners")]["Waarde"].value == inhabitants[2017]
    trend = {(r["Gebiedscode"].value, r["Indicator"].value, r["Jaar"].value): r for r in _records(book["Trend"])}
    assert {y: trend[(POELENBURG, "aantal_inwoners", y)]["Waarde"].value for y in (2015, 2017)} == inhabitants
    summary = {r["Onderdeel"].value: r["Tekst"].value for r in _records(book["Samenvatting"])}
    assert summary["Gegevens"] == "gegevens 2015–2017" and "Van 2015" in summary["Jaren"]
    _no_none_text(book)

    page = profile_to_html(profile, areas_gdf=zaanstad.read_areas("buurt"), generated=pd.Timestamp("2026-11-01"))
    assert "gegevens 2015–2017" in page and "gegevensjaar 2017" not in page
    warn = re.search(r'<div class="warn"[^>]*>(.*?)</div>', page, re.S)
    assert warn and "Personen met bijstandsuitkering" in warn.group(1)
    assert "CBS-kerncijfers wijken en buurten 2015–2017" in page
    assert "<th class=\"num\">Jaar</th>" in page
    data = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert data and base64.b64decode(data.group(1)).startswith(b"\x89PNG")


# --------------------------------------------------------------------------- key messages


def test_messages_name_funding_ending_within_a_year_and_pressure(teststad):
    values, areas = teststad.read_area_values(), teststad.read_table("areas")
    geometry = teststad.read_areas("buurt").set_index("area_code").geometry["BU19990001"]
    centre = geometry.centroid
    provisions = gpd.GeoDataFrame({
        "provision_id": ["P1", "P2", "P3", "P4", "P5"],
        "name": ["Soon", "Later", "Stopped soon", "Pressed", "Far away"],
        "type": ["buurthuis"] * 5,
        "status": ["actief", "actief", "gestopt", "onder_druk", "onder_druk"],
        "capacity_per_year": [10, 20, 30, 40, 50],
        "funding_end": pd.to_datetime(["2027-03-01", "2027-12-01", "2027-01-01", None, "2027-02-01"]),
        "last_verified": pd.to_datetime(["2026-05-01", "2026-09-15", None, "2026-01-01", "2026-10-01"]),
    }, geometry=[centre, centre, centre, shapely.Point(centre.x + 1200, centre.y),
                 shapely.Point(centre.x + 5000, centre.y)], crs=28992)
    near = nearby_provisions(provisions, geometry, distance_m=1000)
    assert near["name"].tolist() == ["Later", "Soon", "Stopped soon", "Pressed"]  # nearest first, then by name
    assert near["distance_m"].tolist()[-1] == pytest.approx(1200 - 450)  # from the centre to the edge: 450 m
    profile = area_profile(values, areas, "BU19990001", nearby=near)
    messages = profile_messages(profile, today="2026-11-01")
    assert 3 <= len(messages) <= 5
    assert messages[0] == profile.summary
    assert messages[1] == "Het gebied telt 2.150 inwoners in 1.210 huishoudens (CBS 2017)."
    funding = next(m for m in messages if "financiering" in m)
    # 1 March 2027 is within 12 months of 1 November 2026; 1 December 2027 is not; a stopped one is not counted
    assert funding.startswith("Bij 1 voorziening") and "Soon" in funding
    assert "Later" not in funding and "Stopped soon" not in funding
    pressure = next(m for m in messages if "onder druk" in m)
    assert "1 staat onder druk (Pressed)" in pressure and "1 is gestopt (Stopped soon)" in pressure
    assert "Far away" not in " ".join(messages)
    page = profile_to_html(profile, generated=pd.Timestamp("2026-11-01"), messages=messages)
    assert "laatst gecontroleerd 15 september 2026" in page  # the newest check of the provisions near


# --------------------------------------------------------------------------- the report: escaped, self-contained


def _hostile_report(store) -> tuple[str, object]:
    values, areas = store.read_area_values(), store.read_table("areas")
    areas.loc[areas["area_code"] == "BU19990101", "name"] = HOSTILE
    gdf = store.read_areas("buurt")
    gdf.loc[gdf["area_code"] == "BU19990101", "name"] = HOSTILE
    profile = area_profile(values, areas, "BU19990101")
    return profile_to_html(profile, areas_gdf=gdf, generated=pd.Timestamp("2026-11-01")), profile


def test_report_is_escaped_and_self_contained(teststad):
    page, profile = _hostile_report(teststad)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "{{7*7}}" in page  # shown as text, never evaluated
    assert "onerror=alert(1)>" not in page
    assert page.count("<img") == 1 and '<img src="data:image/png;base64,' in page
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert "Kernboodschappen" in page and "Toelichting en kanttekeningen" in page
    assert "CBS / Kadaster (CC BY 4.0)" in page
    assert "gegevensjaar 2017" in page


def test_report_pdf(teststad):
    _pdf_or_skip()
    values, areas = teststad.read_area_values(), teststad.read_table("areas")
    profile = area_profile(values, areas, "BU19990101")
    pdf = profile_to_pdf(profile, areas_gdf=teststad.read_areas("buurt"))
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 20_000  # the page text and the embedded map, not an empty document


def test_report_in_a_real_browser_shows_the_map_and_asks_no_host(chromium, teststad, tmp_path):
    from tests.browser import chromium_page

    page_html, _ = _hostile_report(teststad)
    path = tmp_path / "profiel.html"
    path.write_text(page_html, encoding="utf-8")
    requests: list[str] = []
    dialogs: list[str] = []
    with chromium_page(chromium) as page:
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        image = page.locator(".map img")
        assert image.count() == 1
        assert image.evaluate("img => img.complete && img.naturalWidth") > 0
        assert page.locator("h1").inner_text() == f"Buurt {HOSTILE} (BU19990101)"
        assert not dialogs  # the hostile name ran nothing
    hosts = [u for u in requests if u.startswith(("http://", "https://"))]
    assert not hosts, hosts
    assert requests[0].startswith("file://")


# --------------------------------------------------------------------------- the page


def test_page_shows_year_per_row_warning_chart_and_downloads(zaanstad, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from data.auth import User
    from tests.conftest import ROOT

    monkeypatch.setenv("STEUNKAART_STORE", str(zaanstad.path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["sk_user"] = User("beheer", "beheerder")
    at.run()
    at.session_state["profiel_gebied"] = POELENBURG
    at.switch_page("pages/profiel.py").run()
    assert not at.exception, at.exception
    assert "gegevens 2015–2017" in at.caption[0].value
    assert any("Personen met bijstandsuitkering" in w.value for w in at.warning)
    frame = at.dataframe[0].value
    jaar = dict(zip(frame["Kerncijfer"], frame["Jaar"], strict=True))
    assert jaar["Personen met bijstandsuitkering"] == 2015 and jaar["Aantal inwoners"] == 2017
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    labels = [b.label for b in at.get("download_button")]
    assert labels[:2] == ["Profiel als Excel", "Profiel als printbare HTML"]
    assert ("Profiel als PDF" in labels) == (pdf_problem() is None)
    at.multiselect(key="profiel_vergelijk").set_value(["BU04791110"]).run()
    assert "Vergelijking als Excel" in [b.label for b in at.get("download_button")]

"""Profiles: weighted comparisons, deviation colours, summary, comparison, trend, exports."""

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from data.profile import area_profile, compare_areas, indicator_trend, profile_frame, profile_to_excel, profile_to_html


@pytest.fixture()
def small():
    """One gemeente, one wijk, four buurten; values chosen so that mean and sd are easy."""
    areas = pd.DataFrame({
        "area_code": ["GM0001", "WK000101", "BU00010101", "BU00010102", "BU00010103", "BU00010104"],
        "name": ["Stad", "Wijk", "Een", "Twee", "Drie", "Meer <b>"],
        "level": ["gemeente", "wijk", "buurt", "buurt", "buurt", "buurt"],
        "wijk_code": [None, None, "WK000101", "WK000101", "WK000101", "WK000101"],
        "gemeente_code": ["GM0001"] * 6,
        "water": [False, False, False, False, False, True],
    })
    rows = []
    # 65+: 10, 20, 30 (mean 20, sd 8.165): buurt Drie is 1.22 sd above -> unfavourable
    # income: 30, 30, 30 (sd 0): never coloured
    for code, inh, p65, inc in [("BU00010101", 100, 10, 30), ("BU00010102", 100, 20, 30),
                                ("BU00010103", 200, 30, 30), ("BU00010104", 0, np.nan, np.nan),
                                ("WK000101", 400, 22.5, 30), ("GM0001", 400, 22.5, 30)]:
        rows += [
            {"area_code": code, "indicator": "aantal_inwoners", "year": 2024, "value": inh, "status": None},
            {"area_code": code, "indicator": "percentage_personen_65_jaar_en_ouder", "year": 2024,
             "value": p65, "status": "geheim" if np.isnan(p65) else None},
            {"area_code": code, "indicator": "gemiddeld_inkomen_per_inwoner", "year": 2024, "value": inc,
             "status": None},
        ]
    values = pd.DataFrame(rows)
    values["lower"] = np.nan
    values["upper"] = np.nan
    return areas, values


def test_profile_columns_and_deviation(small):
    areas, values = small
    profile = area_profile(values, areas, "BU00010103")
    assert profile.columns == ["Drie", "Wijk", "Stad"]
    row = profile.table.set_index("indicator").loc["percentage_personen_65_jaar_en_ouder"]
    assert row["z"] == pytest.approx((30 - 20) / np.std([10, 20, 30]))
    assert row["signal"] == "ongunstig"
    assert (row["Drie"], row["Wijk"], row["Stad"]) == ("30%", "23%", "23%")  # 22,5 rounds half up
    income = profile.table.set_index("indicator").loc["gemiddeld_inkomen_per_inwoner"]
    assert pd.isna(income["z"]) and pd.isna(income["signal"])
    inhabitants = profile.table.set_index("indicator").loc["aantal_inwoners"]
    assert pd.isna(inhabitants["z"])  # counts are not compared
    assert profile.summary == "Valt op: hoog aandeel personen 65 jaar en ouder (30% tegen 23% in Stad)."


def test_low_value_of_a_need_indicator_is_favourable(small):
    areas, values = small
    row = area_profile(values, areas, "BU00010101").table.set_index("indicator").loc[
        "percentage_personen_65_jaar_en_ouder"]
    assert row["z"] < -1 and row["signal"] == "gunstig"


def test_uninhabited_buurt_shows_geen_inwoners_and_is_not_a_peer(small):
    areas, values = small
    profile = area_profile(values, areas, "BU00010104")
    row = profile.table.set_index("indicator").loc["percentage_personen_65_jaar_en_ouder"]
    assert row["Meer <b>"] == "geen inwoners"  # CBS said 'geheim'; the reason is that nobody lives there
    assert pd.isna(row["z"])


def test_nothing_stands_out(small):
    areas, values = small
    assert area_profile(values, areas, "BU00010102").summary.startswith("Geen kerncijfer wijkt")


def test_compare_areas(small):
    areas, values = small
    table = compare_areas(values, areas, ["BU00010101", "BU00010103"])
    assert list(table.columns) == ["Kerncijfer", "Een (BU00010101)", "Drie (BU00010103)"]
    assert table.set_index("Kerncijfer").loc["Aantal inwoners"].tolist() == ["100", "200"]


def test_trend_needs_two_years(small):
    areas, values = small
    assert indicator_trend(values, "BU00010101").empty
    older = values.assign(year=2020, value=values["value"] * 0.5)
    trend = indicator_trend(pd.concat([values, older]), "BU00010101")
    assert list(trend.columns) == [2020, 2024]
    assert trend.loc["Aantal inwoners"].tolist() == [50, 100]


def test_intervals_are_shown(small):
    areas, values = small
    extra = pd.DataFrame([{"area_code": "BU00010101", "indicator": "percentage_personen_65_jaar_en_ouder",
                           "year": 2025, "value": 12.0, "lower": 9.5, "upper": 14.5, "status": None}])
    profile = area_profile(pd.concat([values, extra]), areas, "BU00010101")
    assert profile.table.set_index("indicator").loc["percentage_personen_65_jaar_en_ouder", "Een"] == "12% (10–15)"


def test_exports(small):
    areas, values = small
    profile = area_profile(values, areas, "BU00010104")
    book = openpyxl.load_workbook(io.BytesIO(profile_to_excel(profile)))
    assert book.sheetnames == ["Profiel", "Samenvatting", "Toelichting"]  # one year: no trend sheet
    sheet = book["Profiel"]
    assert [c.value for c in sheet[1]] == ["Gebiedscode", "Gebied", "Niveau", "Kerncijfer", "Indicator", "Eenheid",
                                           "Jaar", "Waarde", "Ondergrens", "Bovengrens", "Status", "Bron",
                                           "Afwijking", "Signaal"]
    rows = [dict(zip([c.value for c in sheet[1]], r, strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert len(rows) == 3 * 3  # three figures for the buurt, its wijk and the gemeente
    older = next(r for r in rows if r["Gebiedscode"].value == "BU00010104"
                 and r["Indicator"].value == "percentage_personen_65_jaar_en_ouder")
    assert older["Gebied"].value == "Meer <b>" and older["Waarde"].value is None
    assert older["Status"].value == "geen inwoners"  # CBS said 'geheim'; nobody lives there
    wijk = next(r for r in rows if r["Gebiedscode"].value == "WK000101"
                and r["Indicator"].value == "percentage_personen_65_jaar_en_ouder")
    assert wijk["Waarde"].value == 22.5 and wijk["Waarde"].number_format == '0.0"%"'
    assert wijk["Status"].value is None and wijk["Jaar"].value == 2024
    page = profile_to_html(profile)
    assert "Meer &lt;b&gt;" in page and "Meer <b>" not in page
    assert "http" not in page  # self-contained, printable
    assert "<img" not in page  # no areas with geometry given: no map
    assert len(profile_frame(profile)) == 3
    assert list(profile_frame(profile).columns) == ["Kerncijfer", "Meer <b>", "Wijk", "Stad", "Jaar", "Afwijking"]


def test_trend_sheet_with_two_years(small):
    areas, values = small
    older = values.assign(year=2020, value=values["value"] * 0.5)
    profile = area_profile(pd.concat([values, older]), areas, "BU00010101")
    book = openpyxl.load_workbook(io.BytesIO(profile_to_excel(profile)))
    sheet = book["Trend"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)]
    inhabitants = {(r["Gebiedscode"], r["Jaar"]): r["Waarde"] for r in rows if r["Indicator"] == "aantal_inwoners"}
    assert inhabitants == {("BU00010101", 2020): 50, ("BU00010101", 2024): 100, ("WK000101", 2020): 200,
                           ("WK000101", 2024): 400, ("GM0001", 2020): 200, ("GM0001", 2024): 400}
    # counts are shown as whole numbers, not 50,0; the year is not grouped as 2.024
    waarde, jaar = header.index("Waarde") + 1, header.index("Jaar") + 1
    assert {sheet.cell(row=r, column=waarde).number_format for r in range(2, sheet.max_row + 1)
            if sheet.cell(row=r, column=5).value == "aantal_inwoners"} == {"#,##0"}
    assert {sheet.cell(row=r, column=jaar).number_format for r in range(2, sheet.max_row + 1)} == {"0"}


def test_a_buurt_named_like_its_wijk_and_gemeente(demo):
    """Common in real CBS data (buurt 'Centrum' in wijk 'Centrum'): the columns stay apart."""
    from data.profile import area_profile

    areas = demo.areas.copy()
    wijk = areas.set_index("area_code").loc["BU99990101", "wijk_code"]
    areas.loc[areas["area_code"].isin(["BU99990101", wijk, "GM9999"]), "name"] = "Voorbeeldstad"
    profile = area_profile(demo.area_values, areas, "BU99990101")
    assert profile.columns == ["Voorbeeldstad (buurt)", "Voorbeeldstad (wijk)", "Voorbeeldstad (gemeente)"]
    assert profile.summary.startswith(("Valt op", "Geen kerncijfer"))

"""The municipality gap report: small counts hidden (also against differencing), escaped, no external assets."""

import io
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook

from data.formatting import format_date
from mapping.gap_report import HIDDEN, build_gap_report, person_classes, report_to_excel, report_to_html, report_to_pdf
from mapping.gaps import describe_need, gaps_from_need_and_supply
from mapping.scenarios import NewProvision, Scenario, run_scenario
from tests.conftest import in_ci

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
    assert not re.search(r"https?://", page)  # no address of any host, anywhere
    assert page.count('<img src="data:image/png;base64,') == 1  # the map, embedded
    assert "<svg" not in page and "@media print" in page


def test_excel_has_tables_scenarios_and_map(row):
    buurten, provisions = row
    gaps = gaps_from_need_and_supply(buurten, provisions, types=[VISIT])
    scenario = Scenario("Nieuwe kring", added=(NewProvision(VISIT, 1500.0, 500.0, 30.0, 1200.0, "Kring Midden"),))
    result = run_scenario(buurten, provisions, scenario, types=[VISIT])
    report = build_gap_report(buurten, gaps, scope="Testgemeente", type_label="Bezoekdienst",
                              formula=describe_need(VISIT), scenarios=[result])
    book = load_workbook(io.BytesIO(report_to_excel(report)))
    assert book.sheetnames == ["Tekorten per buurt", "Samenvatting", "Scenario's", "Kaart", "Toelichting"]
    assert len(book["Kaart"]._images) == 1
    sheet = book["Scenario's"]
    header = [c.value for c in sheet[1]]
    row2 = dict(zip(header, sheet[2], strict=True))
    # Without provisions 'now' is the need: 3 + 40 + 25 + 12 = 80 (the gemeente total is shown).
    assert row2["Tekort nu (personen)"].value == 80 and row2["Tekort nu (personen)"].number_format == "#,##0"
    assert isinstance(row2["Tekort in scenario (personen)"].value, int)
    assert row2["Verschil (personen)"].value == row2["Tekort in scenario (personen)"].value - 80 < 0


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


# --------------------------------------------------------------------------- numbers, legend, messages, files
GENERATED = pd.Timestamp("2026-01-15 10:00")


def _report(row, **kwargs):
    buurten, provisions = row
    buurten = buurten.assign(year=2017)
    gaps = gaps_from_need_and_supply(buurten, provisions, types=[VISIT])
    kwargs.setdefault("scope", "Testgemeente")
    return build_gap_report(buurten, gaps, type_label="Bezoekdienst", formula=describe_need(VISIT),
                            generated=GENERATED, **kwargs)


def _sheet(book, name):
    rows = list(book[name].iter_rows())
    header = [c.value for c in rows[0]]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def test_excel_numbers_are_numbers_and_hidden_cells_empty(row):
    report = _report(row)
    book = load_workbook(io.BytesIO(report_to_excel(report)))
    header, rows = _sheet(book, "Tekorten per buurt")
    access = "Bereikbaarheid (plaatsen per jaar per persoon in de doelgroep)"
    assert header[:10] == ["Buurt", "Buurtcode", "Wijkcode", "Soort", "Behoefte (personen)", access,
                           "Tekort (personen)", "Tekortindex", "Verborgen", "Reden"]
    assert header[-2:] == ["Jaar kerncijfers", "Bron"]
    by_code = {r["Buurtcode"].value: r for r in rows}
    midden = by_code["BU00010001"]  # 400 widowed × 0,10 = 40, nothing running: all of it is a gap
    assert midden["Behoefte (personen)"].value == 40 and isinstance(midden["Behoefte (personen)"].value, int)
    assert midden["Behoefte (personen)"].number_format == "#,##0"
    assert midden["Tekort (personen)"].value == 40 and midden["Tekort (personen)"].number_format == "#,##0"
    assert midden[access].value == 0 and midden[access].number_format == "#,##0.00"
    assert midden["Tekortindex"].value == 1 and midden["Tekortindex"].number_format == "#,##0.00"
    assert midden["Verborgen"].value is None and midden["Wijkcode"].value == "WK000100"
    assert midden["Jaar kerncijfers"].value == 2017 and midden["Jaar kerncijfers"].number_format == "0"
    assert "2017" in midden["Bron"].value
    # 3 (small) and 12 (its complement against the total 80): empty cells, the reason in 'Verborgen'.
    for code in ("BU00010000", "BU00010003"):
        cells = by_code[code]
        assert cells["Tekort (personen)"].value is None and cells["Tekortindex"].value is None
        assert cells[access].value is None and cells["Verborgen"].value == HIDDEN
    assert by_code["BU00010000"]["Behoefte (personen)"].value is None
    assert by_code["BU00010003"]["Behoefte (personen)"].value is None  # 12: the complement of 3 here too
    texts = [c.value for sheet in book for r in sheet.iter_rows() for c in r if isinstance(c.value, str)]
    assert not [t for t in texts if t.strip() in ("None", "nan", "<NA>", "NaT")]
    numeric = ("Behoefte (personen)", "Tekort (personen)", access, "Tekortindex", "Jaar kerncijfers")
    assert all(r[c].value is None or isinstance(r[c].value, int | float) for r in rows for c in numeric)
    # The summary: totals as numbers.
    _, summary = _sheet(book, "Samenvatting")
    totals = {r["Onderdeel"].value: r["Aantal"].value for r in summary}
    assert totals["Tekort (personen)"] == 80 and totals["Buurten"] == 4


def test_excel_explains_every_column_the_formula_and_the_rules(row):
    report = _report(row)
    book = load_workbook(io.BytesIO(report_to_excel(report)))
    header, _ = _sheet(book, "Tekorten per buurt")
    cols, notes = _sheet(book, "Toelichting")
    assert cols == ["Blad", "Kolom", "Betekenis", "Eenheid", "Bron"]
    explained = {r["Kolom"].value for r in notes if r["Blad"].value == "Tekorten per buurt"}
    assert set(header) <= explained
    units = {r["Kolom"].value: r["Eenheid"].value for r in notes}
    assert units["Bereikbaarheid (plaatsen per jaar per persoon in de doelgroep)"] == \
        "plaatsen per jaar per persoon in de doelgroep"
    meanings = [r["Betekenis"].value or "" for r in notes]
    assert describe_need(VISIT) in meanings  # the formula, and each term with its weight and reason
    assert any(m.startswith("0,1 × verweduwde inwoners") and "bezoekdienst" in m for m in meanings)
    assert any("hemelsbreed" in m for m in meanings)
    assert any("van de wijk of van de gemeente" in m for m in meanings)  # the suppression rule


def _bounds(label: str) -> tuple[int, int]:
    numbers = [int(x.replace(".", "")) for x in re.findall(r"[\d.]+", label)]
    return numbers[0], numbers[-1]


@pytest.mark.parametrize("values", [
    [0] * 12 + [1, 2, 3, 5, 7, 8, 10, 15, 16, 30],  # many zeros: quantiles alone would give '0 – 0'
    [0.2, 0.4, 0.3, 7.6, 8.4, 12.0],                # fractions that round to 0 and to 8
    [5, 5, 5, 6, 40, 1200, 1500],
    [0, 0, 0],
    [9.0, np.nan, 9.0],
])
def test_legend_classes_are_whole_persons_and_never_overlap(values):
    series = pd.Series(values, dtype=float)
    classes, labels = person_classes(series)
    assert "0 – 0" not in labels and labels
    bounds = [_bounds(label) for label in labels]
    assert all(lo <= hi for lo, hi in bounds)
    assert all(b[0] == a[1] + 1 for a, b in zip(bounds, bounds[1:], strict=False))  # no overlap, no gap
    if (series.round() == 0).any():
        assert labels[0] == "0"
    whole = np.floor(series + 0.5)
    for value, k in zip(whole, classes, strict=True):
        if np.isnan(value):
            assert k == -1
        else:
            lo, hi = bounds[k]
            assert lo <= value <= hi, (value, labels[k])


def test_demo_legends_read_well(demo):
    wide = demo.area_values.pivot_table(index="area_code", columns="indicator", values="value")
    buurten = demo.areas.loc[demo.areas["level"] == "buurt"].merge(wide, left_on="area_code", right_index=True)
    for ptype in ("maatjesproject", "bezoekdienst_weduwen", "buurthuis"):
        gaps = gaps_from_need_and_supply(buurten, demo.provisions, types=[ptype])
        legend = build_gap_report(buurten, gaps, scope="Voorbeeldstad", type_label=ptype,
                                  formula=describe_need(ptype)).legend
        labels = [label for _, label in legend if label[0].isdigit()]
        assert labels and not [label for label in labels if re.match(r"(\d+) – \1 ", label)]


def test_key_messages_from_the_figures(row):
    """Provisions of the type: Kring Noord under pressure, Kring Zuid's funding ends in 5 months (named);
    Kring Later ends in 3 years, Kring Weg has stopped, the Buurthuis is another type (not named)."""
    buurten, _ = row
    provisions = gpd.GeoDataFrame({
        "provision_id": ["P1", "P2", "P3", "P4", "P5"],
        "name": ["Kring Noord", "Kring Zuid", "Kring Later", "Kring Weg", "Buurthuis"],
        "type": [VISIT, VISIT, VISIT, VISIT, "buurthuis"],
        "status": ["onder_druk", "actief", "actief", "gestopt", "onder_druk"],
        "funding_end": pd.to_datetime(["2028-01-01", "2026-06-01", "2029-01-01", "2026-02-01", "2026-02-01"]),
        "last_verified": pd.to_datetime(["2025-11-03", "2025-06-30", None, "2024-01-01", "2025-01-01"]),
        "buurt_code": ["BU00010001", "BU00010002", "BU00010002", "BU00010001", "BU00010001"],
    }, geometry=[shapely.Point(1500, 500), shapely.Point(2500, 500), shapely.Point(2500, 600),
                 shapely.Point(1500, 600), shapely.Point(1600, 500)], crs=28992)
    hot = pd.Series({"BU00010001": "hot", "BU00010002": "hot", "BU00010000": None})
    report = _report(row, provisions=provisions, hotspots=hot)
    messages = report.messages
    assert 3 <= len(messages) <= 5
    assert messages[0].startswith("In Testgemeente hebben naar schatting 80 mensen een bezoekdienst nodig; voor 80")
    # The largest shown shortages; the hidden ones (3 and 12) are never named with a number.
    assert messages[1] == "Het grootste tekort is in Midden (40 personen) en Oost (25 personen)."
    risky = next(m for m in messages if "onder druk" in m)
    assert "Kring Noord (onder druk, financiering tot" in risky and "Kring Zuid (financiering tot" in risky
    assert "Kring Later" not in risky and "Kring Weg" not in risky and "Buurthuis" not in risky
    assert risky.startswith("2 voorzieningen")
    assert any(m.startswith("Hotspots") and "Midden, Oost" in m for m in messages)
    assert not [m for m in messages for n in ("Verre Oost", "<script>") if f"{n} (" in m]
    page = report_to_html(report)
    # The reference dates: the CBS year and the dates the type's provisions were last verified.
    assert "CBS Kerncijfers wijken en buurten 2017" in page
    assert format_date(pd.Timestamp("2024-01-01")) in page and format_date(pd.Timestamp("2025-11-03")) in page


def test_html_escapes_data_in_every_part_and_explains_the_units(row):
    buurten, provisions = row
    hostile = '<img src=x onerror="alert(1)">'
    buurten = buurten.assign(name=[hostile if n == "Midden" else n for n in buurten["name"]])
    gaps = gaps_from_need_and_supply(buurten, provisions, types=[VISIT])
    report = build_gap_report(buurten, gaps, scope="Wijk <i>", type_label="Bezoekdienst",
                              formula=describe_need(VISIT), generated=GENERATED)
    assert any(hostile in m for m in report.messages)  # the largest shortage: named in the key messages
    page = report_to_html(report)
    assert hostile not in page and "<img src=x" not in page
    assert page.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") >= 2  # key message and table
    assert "Wijk &lt;i&gt;" in page and not re.search(r"https?://", page)
    assert "Kernboodschappen" in page and "plaatsen per jaar per persoon in de doelgroep" in page
    assert "hemelsbreed" in page and "0,1 × verweduwde inwoners" in page


def test_pdf_of_the_report(row):
    from reports import pdf_problem

    if pdf_problem() and not in_ci():
        pytest.skip(pdf_problem())
    pdf = report_to_pdf(_report(row))
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000  # with the embedded map


def test_the_html_report_in_a_real_browser(row, chromium, tmp_path):
    """Opened from disk: the map image displays, and the page asks no host for anything."""
    from tests.browser import chromium_page

    path = tmp_path / "rapport.html"
    path.write_text(report_to_html(_report(row)), encoding="utf-8")
    requests = []
    with chromium_page(chromium) as page:
        page.on("request", lambda request: requests.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        width = page.evaluate("() => document.querySelector('.map img').naturalWidth")
        assert width > 0
        assert page.get_by_role("heading", name="Kernboodschappen").is_visible()
    assert requests and all(url.startswith(("file:", "data:")) for url in requests), requests

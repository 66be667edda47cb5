"""Every export outside the profile and the gap report: numbers are number cells, counts are integers.

Read back as a user's spreadsheet reads them: openpyxl for Excel (data type 'n' for numbers, 'd' for
dates, the number format a Dutch Excel shows as 1.234,5; no cell with the text "None"; a sheet
Toelichting with a row for every column), pandas for the CSV (';', decimal comma: a count reads '30',
never '30,0'). Stores: the fixture town Teststad (written as real files) and the demo's tables in a
store that is not the demo.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from data import auth
from data.export import FMT_1, FMT_2, FMT_DATE, FMT_DATETIME, FMT_FRACTION_PCT, FMT_INT
from data.provisions import provisions_to_csv, provisions_to_excel, read_provisions_file
from data.store import GeoPackageStore
from tests.test_cli import run_cli
from tests.towns import build_state, write_town_files

ROOT = Path(__file__).resolve().parent.parent
FORMULA = '=HYPERLINK("http://x","klik")'
WHOLE = re.compile(r"^-?\d+$")  # a count as CSV text: digits only, no ',0'


@pytest.fixture()
def teststad(tmp_path) -> GeoPackageStore:
    files = write_town_files(tmp_path / "bestanden")
    return build_state(GeoPackageStore.create_new(tmp_path / "teststad.gpkg"), files, "netwerken")


def _book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _columns(book: openpyxl.Workbook, sheet: str) -> dict[str, list]:
    """Column header -> the cells below it."""
    rows = list(book[sheet].iter_rows())
    return {cell.value: [row[i] for row in rows[1:]] for i, cell in enumerate(rows[0])}


def _assert_numeric(cells: list, fmt: str, *, kind: str = "n") -> None:
    """Every filled cell is a number (or date) cell with ``fmt``; empty cells are truly empty."""
    filled = [c for c in cells if c.value is not None]
    assert filled, "the column has no values to check"
    assert all(c.data_type == kind for c in filled), [(c.coordinate, c.value, c.data_type) for c in filled]
    assert all(c.number_format == fmt for c in filled), {c.number_format for c in filled}


def _assert_clean(book: openpyxl.Workbook) -> None:
    texts = {c.value for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert not {"None", "nan", "NaN", "<NA>", "NaT"} & texts
    assert not [c.coordinate for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]


def _assert_explained(book: openpyxl.Workbook, sheet: str) -> None:
    """The Toelichting (Blad, Kolom, Betekenis, Eenheid, Bron) has a row for every column of ``sheet``."""
    rows = list(book["Toelichting"].iter_rows(values_only=True))
    assert list(rows[0]) == ["Blad", "Kolom", "Betekenis", "Eenheid", "Bron"]
    explained = {r[1] for r in rows[1:] if r[0] == sheet}
    assert set(_columns(book, sheet)) <= explained


def _csv(data: bytes | Path) -> pd.DataFrame:
    raw = data.read_bytes() if isinstance(data, Path) else data
    return pd.read_csv(io.BytesIO(raw), sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _assert_whole(column: pd.Series) -> None:
    filled = column[column != ""]
    assert len(filled) and filled.str.fullmatch(WHOLE).all(), filled[~filled.str.fullmatch(WHOLE)].tolist()


# --------------------------------------------------------------------------- provisions


def _edited_provision(store: GeoPackageStore, **changes) -> pd.DataFrame:
    """V001 with a capacity, volunteers and two dates whose day is at most 12 (a day-first reading swaps them)."""
    first = store.read_table("provisions").set_index("provision_id").loc["V001"]
    store.update_provision("V001", {"capacity_per_year": 24, "volunteers": 3,
                                    "funding_end": pd.Timestamp("2027-01-02"),
                                    "last_verified": pd.Timestamp("2026-03-04"), **changes},
                           expected_version=int(first["version"]), user="test")
    return store.read_table("provisions")


def test_provisions_excel_has_typed_cells_and_reimports_unchanged(teststad, tmp_path):
    provisions = _edited_provision(teststad)
    path = tmp_path / "voorzieningen.xlsx"
    path.write_bytes(provisions_to_excel(provisions))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Voorzieningen", "Toelichting"]
    cols = _columns(book, "Voorzieningen")
    row = {name: cells[0] for name, cells in cols.items()}  # V001 is the first row
    assert row["id"].value == "V001"
    assert (row["capaciteit_per_jaar"].value, row["capaciteit_per_jaar"].data_type) == (24, "n")
    assert (row["vrijwilligers"].value, row["vrijwilligers"].data_type) == (3, "n")
    assert row["financiering_tot"].value == dt.datetime(2027, 1, 2)
    assert row["laatst_gecontroleerd"].value == dt.datetime(2026, 3, 4)
    for name in ("capaciteit_per_jaar", "vrijwilligers", "bereik_m"):
        _assert_numeric(cols[name], FMT_INT)
    _assert_numeric(cols["breedtegraad"], "#,##0.000000")
    _assert_numeric(cols["financiering_tot"], FMT_DATE, kind="d")
    # Teststad's other provisions have no capacity: empty cells, not 'None' or 0.
    assert [c.value for c in cols["capaciteit_per_jaar"][1:]] == [None, None]
    # Reach is stored in metres as float (1000.0): an integer cell.
    assert all(isinstance(c.value, int) for c in cols["bereik_m"])
    # The buurt of each provision, as the store has it.
    assert [c.value for c in cols["buurtcode"]] == provisions.sort_values("provision_id")["buurt_code"].tolist()
    _assert_explained(book, "Voorzieningen")
    _assert_clean(book)

    # The same file imported again changes nothing (the dates are not read day-first).
    back = read_provisions_file(path)
    assert teststad.import_provisions(back, user="t") == {"nieuw": 0, "bijgewerkt": 0, "ongewijzigd": 3}
    stored = teststad.read_table("provisions").set_index("provision_id").loc["V001"]
    assert stored["funding_end"] == pd.Timestamp("2027-01-02")
    assert stored["last_verified"] == pd.Timestamp("2026-03-04")


def test_provisions_csv_writes_counts_whole_and_dates_day_first(teststad, tmp_path):
    provisions = _edited_provision(teststad)
    data = provisions_to_csv(provisions)
    table = _csv(data).set_index("id")
    assert table.loc["V001", "capaciteit_per_jaar"] == "24" and table.loc["V001", "vrijwilligers"] == "3"
    assert table.loc["V002", "capaciteit_per_jaar"] == ""  # missing: an empty field
    assert table["bereik_m"].tolist() == ["1000", "1500", "1500"]  # not '1000,0'
    assert table.loc["V001", "financiering_tot"] == "02-01-2027"
    assert table.loc["V001", "breedtegraad"].count(",") == 1  # a decimal comma
    path = tmp_path / "voorzieningen.csv"
    path.write_bytes(data)
    assert teststad.import_provisions(read_provisions_file(path), user="t") == {
        "nieuw": 0, "bijgewerkt": 0, "ongewijzigd": 3}


def test_cli_provision_export_of_a_formula_name_stays_text(teststad, tmp_path):
    _edited_provision(teststad, name=FORMULA)
    out = tmp_path / "export.xlsx"
    assert run_cli("export-provisions", "--store", str(teststad.path), "--out", str(out)).returncode == 0
    book = openpyxl.load_workbook(out)
    cell = _columns(book, "Voorzieningen")["naam"][0]
    assert (cell.value, cell.data_type) == (FORMULA, "s")
    _assert_clean(book)
    assert read_provisions_file(out).set_index("provision_id").loc["V001", "name"] == FORMULA


# --------------------------------------------------------------------------- command line


def test_cli_signals_csv_and_excel_on_teststad(teststad, tmp_path):
    """Teststad: T-01 has LSNS-6 3, T-02 18, T-03 no answers (an empty field, an empty cell)."""
    csv_out, xlsx_out = tmp_path / "signalen.csv", tmp_path / "signalen.xlsx"
    result = run_cli("signals", "--store", str(teststad.path), "--out", str(csv_out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"3 van 3 personen met een signaal van een arm netwerk geschreven naar {csv_out}.")
    table = _csv(csv_out)
    assert list(table.columns) == ["persoon", "buurtcode", "leeftijd", "lsns6", "djg11", "netwerkgrootte",
                                   "informele_contacten", "emotionele_steun", "praktische_steun", "redenen"]
    assert table.set_index("persoon")["lsns6"].to_dict() == {"T-01": "3", "T-02": "18", "T-03": ""}
    for column in ("lsns6", "netwerkgrootte", "informele_contacten"):
        _assert_whole(table[column])

    assert run_cli("signals", "--store", str(teststad.path), "--out", str(xlsx_out)).returncode == 0
    book = openpyxl.load_workbook(xlsx_out)
    assert book.sheetnames == ["Signalen", "Toelichting"]
    cols = _columns(book, "Signalen")
    assert list(cols)[:3] == ["persoon", "buurtcode", "buurt"]
    assert [c.value for c in cols["buurt"]] == ["Oude Kern", "Oude Kern", "Bloemenwijk"]
    assert [c.value for c in cols["lsns6"]] == [3, 18, None]
    assert all(isinstance(c.value, int) for c in cols["netwerkgrootte"])
    for column in ("lsns6", "netwerkgrootte", "informele_contacten", "emotionele_steun", "praktische_steun"):
        _assert_numeric(cols[column], FMT_INT)
    _assert_explained(book, "Signalen")
    _assert_clean(book)


def test_cli_match_and_gaps_excel_on_a_town(town_store, tmp_path):
    csv_out, xlsx_out = tmp_path / "koppeling.csv", tmp_path / "koppeling.xlsx"
    first = run_cli("match", "--store", str(town_store.path), "--out", str(csv_out))
    assert first.returncode == 0, first.stderr
    table = _csv(csv_out)
    assert list(table.columns) == ["persoon", "buurtcode", "voorziening_id", "voorziening", "soort", "afstand_m",
                                   "reden"]
    _assert_whole(table["afstand_m"])
    second = run_cli("match", "--store", str(town_store.path), "--out", str(xlsx_out))
    # The same printed lines, only the file name differs.
    assert second.stdout.replace(str(xlsx_out), "X") == first.stdout.replace(str(csv_out), "X")
    book = openpyxl.load_workbook(xlsx_out)
    cols = _columns(book, "Koppeling")
    _assert_numeric(cols["afstand_m"], FMT_INT)
    proposed = table.loc[table["afstand_m"] != ""]
    assert [c.value for c in cols["afstand_m"] if c.value is not None] == proposed["afstand_m"].astype(int).tolist()
    # A proposal has no reason, a person without one no distance: empty cells both.
    assert all((d.value is None) != (r.value is None) for d, r in zip(cols["afstand_m"], cols["reden"], strict=True))
    _assert_explained(book, "Koppeling")
    _assert_clean(book)

    gaps = tmp_path / "tekorten.xlsx"
    result = run_cli("gaps", "--store", str(town_store.path), "--type", "bezoekdienst_weduwen", "--out", str(gaps))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"40 rijen (buurt × soort) geschreven naar {gaps}."
    book = openpyxl.load_workbook(gaps)
    cols = _columns(book, "Tekorten")
    _assert_numeric(cols["behoefte"], FMT_1)
    _assert_numeric(cols["tekort_index"], FMT_2)
    assert all(0 <= c.value <= 1 for c in cols["tekort_index"] if c.value is not None)
    assert {c.value for c in cols["cbs_jaar"]} == set(town_store.read_areas("buurt")["year"].astype(int))
    assert {c.data_type for c in cols["voorziening_onder_druk"]} == {"b"}
    _assert_explained(book, "Tekorten")
    _assert_clean(book)


def test_cli_match_excel_writes_a_formula_named_provision_as_text(town_store, tmp_path):
    out = tmp_path / "koppeling.csv"
    assert run_cli("match", "--store", str(town_store.path), "--out", str(out)).returncode == 0
    proposed = _csv(out).query("voorziening_id != ''")["voorziening_id"].iloc[0]
    version = town_store.read_table("provisions").set_index("provision_id").loc[proposed, "version"]
    town_store.update_provision(proposed, {"name": FORMULA}, expected_version=int(version), user="test")
    xlsx = tmp_path / "koppeling.xlsx"
    assert run_cli("match", "--store", str(town_store.path), "--out", str(xlsx)).returncode == 0
    book = openpyxl.load_workbook(xlsx)
    cells = [c for c in _columns(book, "Koppeling")["voorziening"] if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)
    _assert_clean(book)


def test_cli_export_network_csv_writes_whole_numbers(teststad, tmp_path):
    out = tmp_path / "relaties.csv"
    assert run_cli("export-network", "--store", str(teststad.path), "--out", str(out)).returncode == 0
    table = _csv(out)
    assert len(table) == len(teststad.read_table("ties"))
    _assert_whole(table["closeness"])


# --------------------------------------------------------------------------- network measures


def test_measures_export_formats_per_kind(teststad):
    from graphs.card import measures_export_bytes
    from graphs.signals import signals_from_store

    signals = signals_from_store(teststad)
    book = _book(measures_export_bytes(signals, excel=True))
    cols = _columns(book, "Netwerkmaten")
    assert [c.value for c in cols["lsns6"]] == [3, 18, None]  # T-03 answered nothing
    _assert_numeric(cols["lsns6"], FMT_INT)
    _assert_numeric(cols["netwerkgrootte"], FMT_INT)
    _assert_numeric(cols["aandeel_familie"], FMT_FRACTION_PCT)
    _assert_numeric(cols["beperking"], FMT_2)
    _assert_clean(book)
    explained = {r[0] for r in book["Toelichting"].iter_rows(min_row=2, values_only=True)}
    assert set(cols) <= explained
    table = _csv(measures_export_bytes(signals, excel=False))
    assert table.set_index("persoon")["lsns6"].to_dict() == {"T-01": "3", "T-02": "18", "T-03": ""}
    _assert_whole(table["lsns6"])


# --------------------------------------------------------------------------- pages


def _run_page(store_path: Path, page: str, user, monkeypatch, *, tab: str | None = None) -> tuple:
    """Run a page as ``user``; return the AppTest and every download offered (label -> (data, kwargs))."""
    import streamlit
    from streamlit.testing.v1 import AppTest

    offered = {}
    original = streamlit.download_button

    def capture(label, data, *args, **kwargs):
        offered[label] = (data() if callable(data) else data, kwargs)
        return original(label, data, *args, **kwargs)

    monkeypatch.setenv("STEUNKAART_STORE", str(store_path))
    monkeypatch.setattr(streamlit, "download_button", capture)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["sk_user"] = user
    at.run()
    at.switch_page(page).run()
    if tab:
        offered.clear()
        at.session_state["nw_tabs"] = tab
        at.run()
    assert not at.exception, at.exception
    return at, offered


def _download(offered: dict, start: str) -> tuple[bytes, dict]:
    return next(value for label, value in offered.items() if label.startswith(start))


def test_signal_list_downloads_are_numeric(teststad, monkeypatch):
    from data.auth import User

    auth.create_user(teststad, "beheer", "beheerder", (), "correct horse battery", by="test")
    at, offered = _run_page(teststad.path, "pages/netwerken.py", User("beheer", "beheerder"), monkeypatch)
    shown = next(d.value for d in at.dataframe if "Redenen" in d.value.columns)
    assert list(shown.columns) == ["Persoon", "Buurt", "Leeftijd", "Redenen", "Passende voorzieningen binnen bereik"]
    data, kwargs = _download(offered, "Download (Excel, 3 personen)")
    assert kwargs["file_name"] == "signalen.xlsx"
    assert kwargs["args"][0] == "export-personen" and kwargs["args"][2]["personen"] == ["T-01", "T-02", "T-03"]
    book = _book(data)
    cols = _columns(book, "Personen")
    assert list(cols)[:4] == ["Persoon", "Buurtcode", "Buurt", "Leeftijd"]
    assert [c.value for c in cols["Buurtcode"]] == ["BU19990001", "BU19990001", "BU19990101"]
    lsns = dict(zip([c.value for c in cols["Persoon"]], [c.value for c in cols["LSNS-6"]], strict=True))
    assert lsns == {"T-01": 3, "T-02": 18, "T-03": None}
    _assert_numeric(cols["LSNS-6"], FMT_INT)
    _assert_numeric(cols["Netwerkgrootte"], FMT_INT)
    _assert_explained(book, "Personen")
    _assert_clean(book)
    csv_data, csv_kwargs = _download(offered, "Download (CSV, 3 personen)")
    assert csv_kwargs["file_name"] == "signalen.csv" and csv_kwargs["args"][2]["personen"] == ["T-01", "T-02", "T-03"]
    table = _csv(csv_data)
    assert table.set_index("Persoon")["LSNS-6"].to_dict() == {"T-01": "3", "T-02": "18", "T-03": ""}
    _assert_whole(table["Netwerkgrootte"])


def test_matching_download_has_distance_in_km_as_a_number(town_store, monkeypatch):
    from data.auth import User
    from graphs.matching import match_signalled
    from graphs.signals import signals_from_store

    auth.create_user(town_store, "beheer", "beheerder", (), "correct horse battery", by="test")
    at, offered = _run_page(town_store.path, "pages/netwerken.py", User("beheer", "beheerder"), monkeypatch,
                            tab="Koppelen")
    shown = next(d.value for d in at.dataframe if "Afstand" in d.value.columns)
    assert shown["Afstand"].str.endswith(" km").all()  # the screen keeps its Dutch text
    data, kwargs = next(v for v in offered.values() if v[1].get("file_name") == "koppeling.xlsx")
    assert kwargs["args"][:2] == ("export-personen", "koppeling per persoon")
    book = _book(data)
    cols = _columns(book, "Personen")
    _assert_numeric(cols["Afstand (km)"], FMT_1)
    # The page's own matching (default rules), metres to km with one decimal.
    store = town_store
    signals = signals_from_store(store)
    match = match_signalled(signals, store.read_table("persons"), store.read_table("provisions"),
                            store.read_areas("buurt"), store.read_table("participation"),
                            catalogue=store.read_provision_types(), suitability=store.read_suitability())
    expected = dict(zip(match.assignments["person_id"], match.assignments["distance_m"] / 1000, strict=True))
    got = dict(zip([c.value for c in cols["Persoon"]], [c.value for c in cols["Afstand (km)"]], strict=True))
    assert got.keys() == expected.keys()
    assert all(got[p] == pytest.approx(round(expected[p], 1)) for p in got)
    assert sorted(kwargs["args"][2]["personen"]) == sorted(got)
    assert {c.data_type for c in cols["Voorziening-id"]} == {"s"}
    _assert_explained(book, "Personen")
    _assert_clean(book)
    unmatched, _ = next(v for v in offered.values() if v[1].get("file_name") == "zonder_optie.xlsx")
    book = _book(unmatched)
    assert list(_columns(book, "Personen")) == ["Persoon", "Buurtcode", "Buurt", "Reden"]
    _assert_explained(book, "Personen")


def test_audit_log_excel_has_real_date_times(town_store, monkeypatch):
    from data.auth import User

    auth.create_user(town_store, "beheer", "beheerder", (), "correct horse battery", by="test")
    town_store.log("anna", "export-test", FORMULA, {"tekst": "x"})
    at, offered = _run_page(town_store.path, "pages/logboek.py", User("beheer", "beheerder"), monkeypatch)
    data, kwargs = offered["Exporteren (Excel)"]
    assert kwargs["args"] == ("steunkaart-logboek.xlsx",)
    book = _book(data)
    cols = _columns(book, "Logboek")
    assert list(cols) == ["Wanneer", "Wie", "Wat", "Waarop", "Details"]
    _assert_numeric(cols["Wanneer"], FMT_DATETIME, kind="d")
    # The entry logged above, in Dutch wall-clock time (Excel has no time zones; a cell keeps milliseconds).
    audit = town_store.read_audit()
    logged = audit.loc[audit["target"] == FORMULA, "at"].iloc[0]
    wall = pd.Timestamp(logged).tz_convert("Europe/Amsterdam").tz_localize(None)
    row = next(i for i, c in enumerate(cols["Waarop"]) if c.value == FORMULA)
    assert cols["Waarop"][row].data_type == "s"
    assert abs(pd.Timestamp(cols["Wanneer"][row].value) - wall) < pd.Timedelta(seconds=1)
    times = [c.value for c in cols["Wanneer"]]
    assert times == sorted(times, reverse=True)  # newest first, as on screen
    _assert_explained(book, "Logboek")
    _assert_clean(book)
    csv_data, _ = offered["Exporteren (CSV voor Excel)"]
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}", _csv(csv_data)["Wanneer"].iloc[0])

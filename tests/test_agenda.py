"""The wijkagenda as tables (data/agenda.py): the text rule, the Dutch table, export, import and the changes
since the last meeting; hand-made frames first, then an export -> import round trip through the store of a
municipality that is not the demo (Teststad)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import shapely

from data.agenda import (
    AGENDA_COLUMNS,
    CHANGES_COLUMNS,
    IMPORT_COLUMNS,
    agenda_export_bytes,
    agenda_table,
    changes_since,
    check_agenda_text,
    personal_text_kind,
    read_agenda_file,
)
from data.errors import DataValidationError
from data.schema import AGENDA_NOTE_MAX
from data.tabular import read_table_file

# A BSN that passes the eleven-test: 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3-1*3 = 66 = 6*11.
BSN = "111222333"
# Nine digits that fail it: 9+16+21+24+25+24+21+16-9 = 147 = 13*11 + 4.
NOT_BSN = "123456789"

AREAS = pd.DataFrame({
    "area_code": ["WK199900", "WK199901", "BU19990001", "BU19990002", "BU19990101"],
    "name": ["Centrum", "Noord", "Oude Kern", "Haven", "Bloemenwijk"],
    "level": ["wijk", "wijk", "buurt", "buurt", "buurt"],
})
PROVISIONS = pd.DataFrame({"provision_id": ["V001", "V002"], "name": ["Buurtkamer De Kern", "JC Haven"]})
INITIATIVES = pd.DataFrame({"initiative_id": ["IN-0001"], "name": ["Moestuin Haven"]})
TYPES = {"buurthuis": "Buurthuis", "bezoekdienst": "Bezoekdienst"}
KNOWN = {"known_wijken": ["WK199900", "WK199901"], "known_buurten": ["BU19990001", "BU19990002", "BU19990101"],
         "known_provisions": ["V001", "V002"], "known_initiatives": ["IN-0001"], "known_types": TYPES}


def _items() -> pd.DataFrame:
    return pd.DataFrame({
        "item_id": ["AG-0002", "AG-0001", "AG-0003"],
        "wijk_code": ["WK199900", "WK199901", "WK199900"],
        "title": ["Koffieochtend Haven", "Buurttafel Noord", "=HYPERLINK(\"x\")"],
        "aim": ["Bewoners leren elkaar kennen", None, None],
        "owner_role": ["opbouwwerker", "gebiedsverbinder", "wijkteam"],
        "status": ["gepland", "loopt", "idee"],
        "starts_on": pd.to_datetime(["2027-01-04", None, None]),
        "due_on": pd.to_datetime(["2027-03-01", "2027-06-30", None]),
        "origin_kind": ["tekort", "handmatig", "signaal"],
        "origin_figure": ["tekort buurthuis: 1.234 inwoners", None, "minder dan 5"],
        "created_by": ["anne", "bram", "cor"],
        "created_at": ["2026-11-01T10:00:00.000000Z", "2026-11-02T09:00:00.000000Z", "2026-11-03T09:00:00Z"],
        "updated_by": ["anne", "bram", "cor"],
        "updated_at": ["2026-12-05T10:00:00.000000Z", "2026-11-02T09:00:00.000000Z", "2026-11-03T09:00:00Z"],
        "version": pd.array([3, 1, 1], dtype="Int64"),
    })


def _links() -> pd.DataFrame:
    return pd.DataFrame({
        "item_id": ["AG-0002", "AG-0002", "AG-0002", "AG-0002", "AG-0001", "AG-0001", "AG-0009"],
        "kind": ["buurt", "buurt", "tekort", "initiatief", "voorziening", "buurt", "buurt"],
        "target": ["BU19990002", "BU19990001", "buurthuis", "IN-0001", "V001", "BU19990199", "BU19990101"],
    })


# --------------------------------------------------------------------------- check_agenda_text

def test_text_is_stripped_and_a_title_is_one_line():
    assert check_agenda_text("  Buurttafel\r\n  Noord ", column="title") == "Buurttafel Noord"
    assert check_agenda_text("  eerste regel\ntweede  ", column="aim") == "eerste regel\ntweede"
    assert check_agenda_text(None, column="aim") == ""
    assert check_agenda_text(f"aandeel 12,5% (n=40); code {NOT_BSN}", column="origin_figure").endswith(NOT_BSN)


@pytest.mark.parametrize(("column", "limit"), [("title", 200), ("aim", 1000), ("note", AGENDA_NOTE_MAX)])
def test_text_at_its_limit_passes_and_one_more_is_refused(column, limit):
    assert len(check_agenda_text("a" * limit, column=column)) == limit
    with pytest.raises(DataValidationError, match=f"{limit + 1} tekens lang; maximaal {limit}"):
        check_agenda_text("a" * (limit + 1), column=column)


def test_empty_title_is_refused():
    with pytest.raises(DataValidationError, match="titel"):
        check_agenda_text("   ", column="title")


@pytest.mark.parametrize(("text", "kind"), [
    (f"bsn {BSN} belt terug", "BSN"),
    (f"nummer {BSN[:3]} {BSN[3:6]} {BSN[6:]}", "BSN"),
    ("bel 06-12345678 na vijven", "telefoonnummer"),
    ("of 020 123 4567", "telefoonnummer"),
    ("+31 6 1234 5678", "telefoonnummer"),
    ("mail j.jansen@example.nl even", "e-mailadres"),
])
def test_personal_data_inside_a_text_is_refused(text, kind):
    with pytest.raises(DataValidationError, match=kind) as info:
        check_agenda_text(text, column="note")
    assert "notitie" in str(info.value)


def test_dates_and_counts_are_not_mistaken_for_phone_numbers_or_bsns():
    values = pd.Series(["02-12-2026 10:00", "2-12-2026 10:00", "30-06-2027", "1.234 inwoners", NOT_BSN, None])
    assert personal_text_kind(values).isna().all()


# --------------------------------------------------------------------------- agenda_table

def test_table_has_one_row_per_item_with_names_of_links_and_dutch_labels():
    table = agenda_table(_items(), _links(), AREAS, PROVISIONS, INITIATIVES, provision_types=TYPES)
    assert list(table.columns) == list(AGENDA_COLUMNS)
    # Sorted by wijk, then item; the link of AG-0009 (not in items) is left out.
    assert table["agendapunt"].tolist() == ["AG-0002", "AG-0003", "AG-0001"]
    first = table.iloc[0]
    assert first["wijk"] == "Centrum"
    assert first["eigenaar"] == "opbouwwerk" and first["bron"] == "tekort (witte vlek)"
    assert first["buurten"] == "BU19990001 Oude Kern; BU19990002 Haven"
    assert first["initiatieven"] == "IN-0001 Moestuin Haven"
    assert first["tekorten"] == "buurthuis Buurthuis"
    assert first["voorzieningen"] is None
    noord = table.iloc[2]
    # A buurt the areas do not know keeps its code alone.
    assert noord["buurten"] == "BU19990199" and noord["voorzieningen"] == "V001 Buurtkamer De Kern"
    assert noord["doel"] is None and pd.isna(noord["start"])
    assert table["versie"].dtype == "Int64" and table["versie"].tolist() == [3, 1, 1]
    assert table["deadline"].iloc[0] == pd.Timestamp("2027-03-01")
    # 10:00 UTC on 5 December is 11:00 in Amsterdam (winter time).
    assert table["bijgewerkt_op"].iloc[0] == pd.Timestamp("2026-12-05 11:00")


def test_a_link_of_an_unknown_kind_is_refused():
    links = pd.concat([_links(), pd.DataFrame({"item_id": ["AG-0001"], "kind": ["persoon"], "target": ["P-17"]})])
    with pytest.raises(DataValidationError, match="Onbekende soort koppeling 'persoon'"):
        agenda_table(_items(), links, AREAS)


def test_empty_agenda_gives_the_header_only():
    items = _items().iloc[0:0]
    table = agenda_table(items, _links().iloc[0:0], AREAS)
    assert list(table.columns) == list(AGENDA_COLUMNS) and table.empty
    text = agenda_export_bytes(table, "csv").decode("utf-8-sig")
    assert text == ";".join(AGENDA_COLUMNS) + "\r\n"


# --------------------------------------------------------------------------- export

def test_csv_export_has_dutch_dates_integer_versions_empty_cells_and_marked_formulas(tmp_path):
    table = agenda_table(_items(), _links(), AREAS, PROVISIONS, INITIATIVES, provision_types=TYPES)
    data = agenda_export_bytes(table, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "None" not in text and "nan" not in text.lower() and "NaT" not in text
    frame = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    assert frame["start"].tolist() == ["04-01-2027", "", ""]
    assert frame["deadline"].tolist() == ["01-03-2027", "", "30-06-2027"]
    assert frame["versie"].tolist() == ["3", "1", "1"]
    assert frame["bijgewerkt_op"].iloc[0] == "05-12-2026 11:00"
    # A title a spreadsheet would evaluate gets one quote in front; the reader removes it again.
    assert frame["titel"].iloc[1] == "'=HYPERLINK(\"x\")"
    path = tmp_path / "agenda.csv"
    path.write_bytes(data)
    assert read_table_file(path)["titel"].iloc[1] == "=HYPERLINK(\"x\")"


def test_excel_export_has_date_cells_an_integer_version_and_a_toelichting(tmp_path):
    from openpyxl import load_workbook

    table = agenda_table(_items(), _links(), AREAS, PROVISIONS, INITIATIVES, provision_types=TYPES)
    path = tmp_path / "agenda.xlsx"
    path.write_bytes(agenda_export_bytes(table, "xlsx"))
    book = load_workbook(path)
    assert book.sheetnames == ["Wijkagenda", "Toelichting"]
    sheet = book["Wijkagenda"]
    header = [c.value for c in sheet[1]]
    assert header == list(AGENDA_COLUMNS)
    start = sheet.cell(row=2, column=header.index("start") + 1)
    assert start.is_date and start.number_format == "dd-mm-yyyy"
    version = sheet.cell(row=2, column=header.index("versie") + 1)
    assert version.value == 3 and isinstance(version.value, int)
    assert sheet.cell(row=2, column=header.index("voorzieningen") + 1).value is None
    formula = sheet.cell(row=3, column=header.index("titel") + 1)
    assert formula.data_type == "s" and formula.value == "=HYPERLINK(\"x\")"
    explained = [r[1].value for r in book["Toelichting"].iter_rows(min_row=2)]
    assert explained == list(AGENDA_COLUMNS)


def test_export_refuses_another_table_and_kind():
    with pytest.raises(DataValidationError, match="agendatabel"):
        agenda_export_bytes(pd.DataFrame({"a": [1]}))
    table = agenda_table(_items(), _links(), AREAS)
    with pytest.raises(DataValidationError, match="kies csv of xlsx"):
        agenda_export_bytes(table, "pdf")


# --------------------------------------------------------------------------- read_agenda_file

def test_dutch_excel_csv_with_bom_semicolons_labels_and_lower_case_codes(tmp_path):
    text = ("Wijkcode;Titel;Doel;Eigenaar;Status;Start;Deadline;Buurten;Tekorten;Voorzieningen\r\n"
            "wk199900;Koffieochtend;\"Elkaar kennen; samen eten\";opbouwwerk;Gepland;4-1-2027;01-03-2027;"
            "\"bu19990002 Haven; BU19990001\";Buurthuis;v002\r\n"
            "WK199901;Buurttafel;;Gebiedsverbinder;;;;;;\r\n")
    path = tmp_path / "agenda uit excel.csv"
    path.write_bytes(text.encode("utf-8-sig"))
    agenda = read_agenda_file(path, **KNOWN)
    assert list(agenda.items.columns) == list(IMPORT_COLUMNS)
    first, second = agenda.items.iloc[0], agenda.items.iloc[1]
    assert first["wijk_code"] == "WK199900" and first["aim"] == "Elkaar kennen; samen eten"
    assert first["owner_role"] == "opbouwwerker" and first["status"] == "gepland"
    assert first["starts_on"] == pd.Timestamp("2027-01-04") and first["due_on"] == pd.Timestamp("2027-03-01")
    assert first["origin_kind"] == "handmatig"
    assert second["owner_role"] == "gebiedsverbinder" and second["status"] == "idee"
    assert second["aim"] is None and pd.isna(second["starts_on"])
    # Codes as the store has them; a type given by its label; sorted per kind.
    assert agenda.links == [[("buurt", "BU19990001"), ("buurt", "BU19990002"), ("tekort", "buurthuis"),
                             ("voorziening", "V002")], []]
    assert agenda.links_frame["row"].tolist() == [0, 0, 0, 0]
    assert agenda.describe() == ("2 agendapunten uit agenda uit excel.csv (wijken WK199900, WK199901), "
                                 "4 koppelingen.")


def _bad_file(tmp_path):
    long_title = "t" * 201
    lines = [
        "wijkcode;titel;doel;eigenaar;status;start;deadline;bron;cijfer;buurten;voorzieningen;initiatieven;tekorten",
        "WK199900;Goed punt;;wijkteam;idee;;;;;;;;",                                    # 2: fine
        "WK000000;Onbekende wijk;;wijkteam;idee;;;;;;;;",                               # 3
        "WK199900;Status;;wijkteam;bezig;;;;;;;;",                                      # 4
        "WK199900;Eigenaar;;wethouder;idee;;;;;;;;",                                    # 5
        "WK199900;Buurt;;wijkteam;idee;;;;;BU99999999 Nergens;;;",                      # 6
        "WK199900;Voorziening;;wijkteam;idee;;;;;;V999;;",                              # 7
        "WK199900;Initiatief;;wijkteam;idee;;;;;;;IN-0099;",                            # 8
        "WK199900;Tekort;;wijkteam;idee;;;;;;;;zwembad",                                # 9
        "WK199900;Start;;wijkteam;idee;morgen;;;;;;;",                                  # 10
        "WK199900;Deadline;;wijkteam;idee;01-03-2027;01-02-2027;;;;;;",                 # 11
        "WK199900;;;wijkteam;idee;;;;;;;;",                                             # 12
        "WK199900;Bel 06-12345678;;wijkteam;idee;;;;;;;;",                              # 13
        "WK199900;Mail;mail aan j.jansen@example.nl;wijkteam;idee;;;;;;;;",             # 14
        f"WK199900;BSN;;wijkteam;idee;;;;bsn {BSN};;;;",                                # 15
        f"WK199900;{long_title};;wijkteam;idee;;;;;;;;",                                # 16
        "WK199900;Bron;;wijkteam;idee;;;gevoel;;;;;",                                   # 17
    ]
    path = tmp_path / "fout.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    return path


def test_every_problem_of_a_file_is_reported_once_with_its_row_and_column(tmp_path):
    with pytest.raises(DataValidationError, match="er is niets geïmporteerd") as info:
        read_agenda_file(_bad_file(tmp_path), **KNOWN)
    found = {(p["rij"], p["kolom"]) for p in info.value.problems}
    assert found == {(3, "wijkcode"), (4, "status"), (5, "eigenaar"), (6, "buurten"), (7, "voorzieningen"),
                     (8, "initiatieven"), (9, "tekorten"), (10, "start"), (11, "deadline"), (12, "titel"),
                     (13, "titel"), (14, "doel"), (15, "cijfer"), (16, "titel"), (17, "bron")}
    assert len(info.value.problems) == len(found)
    assert all(p["bestand"] == "fout.csv" for p in info.value.problems)
    assert info.value.row == 3 and info.value.column == "wijkcode"
    messages = {(p["rij"], p["kolom"]): p["melding"] for p in info.value.problems}
    assert "onbekende wijk 'WK000000'" in messages[(3, "wijkcode")]
    assert "voor de start" in messages[(11, "deadline")]
    assert "201 tekens" in messages[(16, "titel")]
    assert "telefoonnummer" in messages[(13, "titel")] and "e-mailadres" in messages[(14, "doel")]
    assert "BSN" in messages[(15, "cijfer")]
    # Personal data is named by its kind, never repeated.
    assert not any(v in str(info.value.problems) for v in ("06-12345678", "j.jansen@example.nl", BSN))


@pytest.mark.parametrize("column", ["naam", "Telefoon", "e-mail", "persoon", "person_id", "BSN"])
def test_a_column_that_looks_like_personal_data_is_refused(tmp_path, column):
    path = tmp_path / "agenda.csv"
    path.write_text(f"wijkcode;titel;eigenaar;{column}\r\nWK199900;Koffie;wijkteam;x\r\n", encoding="utf-8-sig")
    with pytest.raises(DataValidationError, match="persoonsgegevens") as info:
        read_agenda_file(path, **KNOWN)
    assert (info.value.row, info.value.column) == (1, column)


def test_missing_required_column_and_unknown_columns(tmp_path):
    path = tmp_path / "agenda.csv"
    path.write_text("wijkcode;titel;opmerking\r\nWK199900;Koffie;x\r\n", encoding="utf-8-sig")
    with pytest.raises(DataValidationError, match="verplichte kolom ontbreekt") as info:
        read_agenda_file(path, **KNOWN)
    assert [(p["rij"], p["kolom"]) for p in info.value.problems] == [(1, "eigenaar")]
    path.write_text("wijkcode;titel;eigenaar;opmerking\r\nWK199900;Koffie;wijkteam;x\r\n", encoding="utf-8-sig")
    agenda = read_agenda_file(path, file_name="upload.csv", **KNOWN)
    assert agenda.warnings == [{"bestand": "upload.csv", "rij": 1, "kolom": "opmerking",
                                "melding": "onbekende kolom; genegeerd."}]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_export_reads_back_as_the_same_items_and_links(tmp_path, kind):
    items = _items().iloc[:2]  # the links of AG-0001 to an unknown buurt would be refused: use known ones
    links = _links().iloc[:5]
    table = agenda_table(items, links, AREAS, PROVISIONS, INITIATIVES, provision_types=TYPES)
    path = tmp_path / f"agenda.{kind}"
    path.write_bytes(agenda_export_bytes(table, kind))
    agenda = read_agenda_file(path, **KNOWN)
    expected = items.sort_values(["wijk_code", "item_id"]).reset_index(drop=True)
    for column in ("wijk_code", "title", "aim", "owner_role", "status", "origin_kind", "origin_figure"):
        values = expected[column].astype(object)
        assert agenda.items[column].tolist() == values.where(values.notna(), None).tolist()
    for column in ("starts_on", "due_on"):
        pd.testing.assert_series_equal(agenda.items[column], expected[column].astype("datetime64[ns]"),
                                       check_names=False)
    assert agenda.links == [[("buurt", "BU19990001"), ("buurt", "BU19990002"), ("initiatief", "IN-0001"),
                             ("tekort", "buurthuis")], [("voorziening", "V001")]]
    assert len(agenda.warnings) == 1 and "agendapunt" in agenda.warnings[0]["kolom"]


# --------------------------------------------------------------------------- changes_since

def _history():
    items = pd.DataFrame({
        "item_id": ["A", "B", "C", "D"],
        "title": ["Koffie", "Buurttafel", "Moestuin", "Wandelen"],
        "owner_role": ["opbouwwerker", "gebiedsverbinder", "wijkteam", "wijkteam"],
        "due_on": pd.to_datetime([None, "2027-03-01", "2027-05-01", None]),
        "created_by": ["anne", "bram", "cor", "cor"],
        "created_at": ["2026-10-01T09:00:00Z", "2026-11-30T23:30:00Z", "2026-10-02T09:00:00Z",
                       "2026-10-03T09:00:00Z"],
        "updated_by": ["dirk", "bram", "cor", "cor"],
        "updated_at": ["2026-12-03T14:00:00Z", "2026-11-30T23:30:00Z", "2026-12-04T08:00:00Z",
                       "2026-11-30T22:30:00Z"],
    })
    updates = pd.DataFrame({
        "item_id": ["A", "A", "A", "B", "C", "D", "D", "Z"],
        "at": ["2026-10-01T09:00:00Z", "2026-11-15T09:00:00Z", "2026-12-03T14:00:00Z", "2026-11-30T23:30:00Z",
               "2026-10-02T09:00:00Z", "2026-10-03T09:00:00Z", "2026-11-30T22:30:00Z", "2026-12-05T09:00:00Z"],
        "user": ["anne", "anne", "dirk", "bram", "cor", "cor", "cor", "eva"],
        "role": ["opbouwwerker", "opbouwwerker", "wijkteam", "gebiedsverbinder", "wijkteam", "wijkteam",
                 "wijkteam", "wijkteam"],
        "status": ["idee", "gepland", "loopt", "idee", "idee", "idee", "afgerond", "loopt"],
        "note": [None, None, "zaal geregeld", "uit de tekortenkaart", None, None, "klaar", "weg"],
    })
    return items, updates


def test_changes_since_a_date_list_new_items_status_changes_notes_and_other_edits():
    items, updates = _history()
    changes = changes_since(items, updates, "2026-12-01")
    assert list(changes.columns) == list(CHANGES_COLUMNS)
    # 23:30 UTC on 30 November is 00:30 on 1 December in Amsterdam: B counts, D's 23:30 local on 30 Nov not.
    assert changes[["agendapunt", "wat"]].values.tolist() == [
        ["B", "nieuw (eigenaar gebiedsverbinder, deadline 01-03-2027)"],
        ["B", "notitie: uit de tekortenkaart"],
        ["A", "status: gepland → loopt"],
        ["A", "notitie: zaal geregeld"],
        ["C", "gewijzigd (titel, doel of datums; deadline nu 01-05-2027)"],
    ]
    assert changes["wanneer"].iloc[0] == pd.Timestamp("2026-12-01 00:30")
    assert changes["wie"].tolist() == ["bram (gebiedsverbinder)", "bram (gebiedsverbinder)", "dirk (wijkteam)",
                                       "dirk (wijkteam)", "cor"]
    assert changes["titel"].tolist() == ["Buurttafel", "Buurttafel", "Koffie", "Koffie", "Moestuin"]


def test_changes_since_a_moment_and_with_due_dates_in_the_history():
    items, updates = _history()
    updates = updates.assign(due_on=pd.to_datetime([None, None, "2027-02-01", "2027-03-01", "2027-05-01", None,
                                                    None, None]))
    changes = changes_since(items, updates, pd.Timestamp("2026-12-03 15:00", tz="Europe/Amsterdam"))
    # A's update at 14:00 UTC is 15:00 in Amsterdam: from that moment on, so it counts.
    assert changes["wat"].tolist() == ["status: gepland → loopt", "deadline: geen → 01-02-2027",
                                       "notitie: zaal geregeld",
                                       "gewijzigd (titel, doel of datums; deadline nu 01-05-2027)"]
    assert changes_since(items, updates, "2027-01-01").empty


def test_changes_since_refuses_what_is_no_date():
    items, updates = _history()
    with pytest.raises(DataValidationError, match="geen datum"):
        changes_since(items, updates, "volgende week")


# --------------------------------------------------------------------------- through the store (Teststad)

def test_export_then_import_through_the_store_of_a_municipality(empty_store, tmp_path):
    from data.access import ScopedStore
    from data.auth import User
    from tests.towns import ORIGIN_RD, build_state, write_town_files

    store = build_state(empty_store, write_town_files(tmp_path / "bron"), "voorzieningen")
    assert not store.is_demo
    admin = ScopedStore(store, User("beheer", "beheerder"))
    provisions = store.read_table("provisions")
    provision = str(provisions["provision_id"].iloc[0])
    initiative = admin.save_initiative({"name": "Moestuin", "what": "samen tuinieren",
                                        "geometry": shapely.Point(ORIGIN_RD[0] + 450, ORIGIN_RD[1] + 450)})
    assert initiative["buurt_code"] == "BU19990001"
    admin.save_agenda_item({"wijk_code": "WK199900", "title": "Koffieochtend", "aim": "Elkaar leren kennen",
                            "owner_role": "opbouwwerker", "status": "gepland", "starts_on": "2027-01-04",
                            "due_on": "2027-03-01", "origin_kind": "tekort", "origin_figure": "tekort: 1.234"},
                           [("buurt", "BU19990001"), ("voorziening", provision),
                            ("initiatief", initiative["initiative_id"]), ("tekort", "buurthuis")])
    admin.save_agenda_item({"wijk_code": "WK199901", "title": "Buurttafel", "owner_role": "gebiedsverbinder"})
    before = admin.read_table("agenda_items")
    table = agenda_table(before, admin.read_table("agenda_links"), admin.read_table("areas"), provisions,
                         admin.read_table("initiatives"), provision_types=store.read_provision_types())
    assert table.loc[0, "voorzieningen"] == f"{provision} {provisions['name'].iloc[0]}"
    areas = store.read_table("areas")
    known = {"known_wijken": areas.loc[areas["level"] == "wijk", "area_code"],
             "known_buurten": areas.loc[areas["level"] == "buurt", "area_code"],
             "known_provisions": provisions["provision_id"],
             "known_initiatives": admin.read_table("initiatives")["initiative_id"],
             "known_types": store.read_provision_types()}
    for kind in ("csv", "xlsx"):
        path = tmp_path / f"agenda.{kind}"
        path.write_bytes(agenda_export_bytes(table, kind))
        agenda = read_agenda_file(path, **known)
        result = admin.import_agenda_items(agenda.items, agenda.links, source=path.name)
        assert result["agendapunten"] == 2
    after = admin.read_table("agenda_items")
    assert len(after) == 6 and after["item_id"].is_unique
    compare = ["wijk_code", "title", "aim", "owner_role", "status", "starts_on", "due_on", "origin_kind",
               "origin_figure"]
    original = before[compare].astype(object).where(before[compare].notna(), None)
    for copy in (after.iloc[2:4], after.iloc[4:6]):
        copied = copy[compare].reset_index(drop=True).astype(object)
        assert copied.where(copied.notna(), None).values.tolist() == original.values.tolist()
    links = admin.read_table("agenda_links")
    per_item = links.groupby("item_id").apply(lambda g: sorted(zip(g["kind"], g["target"], strict=True)))
    first = per_item[before["item_id"].iloc[0]]
    assert len(first) == 4
    assert [per_item[i] for i in after["item_id"].iloc[[2, 4]]] == [first, first]
    assert np.isin(after["item_id"].iloc[[3, 5]], links["item_id"]).sum() == 0


def test_changes_since_on_items_as_the_store_reads_them_without_any_deadline(tmp_path):
    """Regression: items read back from the store (pandas strings, no due date at all) once made the text
    'nieuw (eigenaar …)' fail with a TypeError (str + an all-missing object column)."""
    from data.access import ScopedStore
    from data.auth import User
    from data.store import GeoPackageStore
    from tests.towns import build_state, write_town_files

    store = build_state(GeoPackageStore.create_new(tmp_path / "t.gpkg"), write_town_files(tmp_path / "bron"),
                        "gebieden")
    ScopedStore(store, User("beheer", "beheerder")).save_agenda_item(
        {"wijk_code": "WK199900", "title": "Koffieochtend", "owner_role": "opbouwwerker"})
    changes = changes_since(store.read_table("agenda_items"), store.read_table("agenda_updates"), "2020-01-01")
    assert changes["wat"].tolist() == ["nieuw (eigenaar opbouwwerk)"]

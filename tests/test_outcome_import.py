"""Follow-up measurements in: the long template (as Dutch Excel writes it) and repeated Network Canvas
interviews of the same case, on Teststad (not the demo). Every refusal names its file, row and column; a
refused import leaves the store as it was; the stored networks give the hand-made kept/changed/lost/new."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from data.access import ScopedStore
from data.auth import User
from data.errors import DataValidationError
from data.network_canvas import read_network_canvas_export
from data.outcome_import import (
    MEASUREMENT_TEMPLATE_COLUMNS,
    measurement_template,
    network_canvas_followup,
    read_followup_export,
    read_measurements_file,
)
from graphs.outcomes import measurements_long, tie_change_counts, tie_changes
from tests import nc_fixtures as nc
from tests.towns import build_state, write_town_files

FIXTURES = Path(__file__).parent / "fixtures" / "followup"
ADMIN = User("beheer", "beheerder")
PERSONS = {"T-01", "T-02", "T-03"}


@pytest.fixture()
def teststad(empty_store, tmp_path):
    """Teststad up to its networks: persons T-01, T-02, T-03 and provisions V001-V003 (not the demo)."""
    return build_state(empty_store, write_town_files(tmp_path / "teststad"), "netwerken")


def _known(store):
    return {"known_persons": set(store.read_table("persons")["person_id"]),
            "known_provisions": set(store.read_table("provisions")["provision_id"])}


def _digest(store) -> str:
    """A hash of what the follow-up tables hold."""
    text = "".join(store.read_table(t).sort_values(["person_id", "moment"]).to_csv(index=False)
                   for t in ("measurements", "followup_ties"))
    return hashlib.sha256(text.encode()).hexdigest()


def _excel_csv(path: Path, text: str) -> Path:
    """Write as Dutch Excel saves 'CSV UTF-8': a BOM, semicolons, CRLF."""
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    return path


def _where(exc: DataValidationError) -> set[tuple]:
    return {(p["bestand"], p["rij"], p["kolom"]) for p in exc.problems}


def _lsns(long: pd.DataFrame) -> dict:
    rows = long.loc[long["measure"] == "lsns6"]
    return {(p, m): float(s) for p, m, s in zip(rows["person_id"], rows["moment"], rows["score"], strict=True)}


# --------------------------------------------------------------------------- the template

def test_template_columns_and_both_kinds_read_back(tmp_path):
    xlsx, csv = tmp_path / "sjabloon.xlsx", tmp_path / "sjabloon.csv"
    xlsx.write_bytes(measurement_template("xlsx"))
    csv.write_bytes(measurement_template("csv"))
    assert csv.read_bytes().startswith(b"\xef\xbb\xbfpersoon;voorziening;groep;moment;datum;lsns_1")
    book = openpyxl.load_workbook(xlsx)
    sheet = book["Metingen"]
    assert [c.value for c in sheet[1]] == list(MEASUREMENT_TEMPLATE_COLUMNS)
    assert isinstance(sheet["E2"].value, datetime.datetime)  # a real date cell, shown dd-mm-yyyy
    assert sheet["E2"].number_format == "dd-mm-yyyy"
    assert isinstance(sheet["F2"].value, int)  # LSNS items are numbers, not text
    assert "Toelichting" in book.sheetnames
    for path in (xlsx, csv):
        read = read_measurements_file(path)
        m = read.measurements
        assert m["person_id"].tolist() == ["K-0001", "K-0001"] and m["moment"].tolist() == ["T0", "T1"]
        assert m["measured_on"].tolist() == [pd.Timestamp("2025-09-01"), pd.Timestamp("2025-10-13")]
        assert read.describe() == "2 metingen van 1 persoon bij 1 voorziening (T0: 1, T1: 1)"
    with pytest.raises(DataValidationError):
        measurement_template("pdf")


def test_dutch_excel_csv_round_trips_into_the_store_with_hand_computed_lsns(teststad):
    read = read_measurements_file(FIXTURES / "metingen_excel.csv", **_known(teststad))
    m = read.measurements
    assert read.describe() == "6 metingen van 3 personen bij 1 voorziening (T0: 3, T1: 3)"
    # 'intake', 'T 1', 't0', 'einde' and day-first dates without leading zeros; 12-1-2026 is 12 January.
    assert m["moment"].tolist() == ["T0", "T1", "T0", "T1", "T0", "T1"]
    assert m.loc[0, "measured_on"] == pd.Timestamp("2026-01-12")
    assert m.loc[2, "measured_on"] == pd.Timestamp("2026-01-12")  # jjjj-mm-dd
    assert m.loc[3, "measured_on"] == pd.Timestamp("2026-02-23")
    assert m["study_group"].tolist() == ["deelnemer"] * 4 + ["vergelijking"] * 2
    assert m.loc[0, "djg_10"] == "min of meer"
    assert m["network_recorded"].tolist() == [True, False, False, False, False, False]
    assert len(m) == 6  # the line of only semicolons is no measurement
    assert str(m["lsns_1"].dtype) == "Int64"

    result = ScopedStore(teststad, ADMIN).merge_measurements(read.measurements, source="metingen_excel.csv")
    assert result["metingen"] == 6
    stored = teststad.read_table("measurements")
    long = measurements_long(stored, teststad.read_table("followup_ties"))
    # LSNS-6 = sum of the six items (0-5 each), by hand from the file.
    assert _lsns(long) == {("T-01", "T0"): 3.0, ("T-01", "T1"): 8.0, ("T-02", "T0"): 18.0, ("T-02", "T1"): 19.0,
                           ("T-03", "T0"): 2.0, ("T-03", "T1"): 4.0}
    djg = long.loc[(long["measure"] == "djg") & (long["person_id"] == "T-01")].sort_values("moment")
    assert djg["score"].tolist() == [11.0, 3.0]  # every answer lonely at T0; items 3, 6 and 8 at T1


def test_excel_file_with_real_date_cells_and_store_headers(teststad, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["person_id", "provision_id", "study_group", "moment", "measured_on",
                  *(f"lsns_{i}" for i in range(1, 7))])
    sheet.append(["T-01", "V001", "participant", "T0", datetime.datetime(2026, 3, 4), 1, 2, 3, 4, 5, 0])
    sheet.append(["T-01", "V001", "participant", "T2", datetime.datetime(2026, 6, 5), 2.0, 2, 3, 4, 5, 1])
    path = tmp_path / "metingen.xlsx"
    book.save(path)
    m = read_measurements_file(path, **_known(teststad)).measurements
    # 4 March, never 3 April: a date cell has no day/month order to guess.
    assert m["measured_on"].tolist() == [pd.Timestamp("2026-03-04"), pd.Timestamp("2026-06-05")]
    assert m["lsns_1"].tolist() == [1, 2] and m[[f"lsns_{i}" for i in range(1, 7)]].sum(axis=1).tolist() == [15, 17]


def test_every_refusal_names_file_row_and_column(teststad):
    with pytest.raises(DataValidationError) as err:
        read_measurements_file(FIXTURES / "metingen_fouten.csv", **_known(teststad))
    f = "metingen_fouten.csv"
    assert _where(err.value) == {
        (f, 3, "persoon"),  # X-9 is unknown: one problem, on its first row (rows 3 and 5)
        (f, 4, "moment"),  # T-01 V001 T0 again (row 2)
        (f, 6, "voorziening"),  # V999
        (f, 7, "datum"),  # 31-02-2026 does not exist
        (f, 7, "lsns_3"),  # 6 is out of range
        (f, 7, "djg_1"),  # '+/-' is no answer of the scale
        (f, 8, "datum"),  # 2099: in the future
        (f, 9, "groep"),  # T-01 is a participant of V001 (row 2) and here comparison
        (f, 10, "moment"),  # T9
        (f, 10, "opmerking"),  # a phone number
        (f, 11, "datum"),  # 'gisteren'
    }
    messages = {(p["rij"], p["kolom"]): p["melding"] for p in err.value.problems}
    assert "X-9" not in messages[(3, "persoon")] and "2 rijen" in messages[(3, "persoon")]
    assert "rij 2" in messages[(4, "moment")]
    assert "V999" in messages[(6, "voorziening")]
    assert "toekomst" in messages[(8, "datum")]
    assert "0612345678" not in messages[(10, "opmerking")]


def test_missing_columns_personal_column_empty_and_header_only(tmp_path):
    path = _excel_csv(tmp_path / "zonder_moment.csv", "persoon;voorziening;naam;datum\nT-01;V001;x;01-02-2026\n")
    with pytest.raises(DataValidationError) as err:
        read_measurements_file(path, file_name="upload.csv")
    assert _where(err.value) == {("upload.csv", None, "moment"), ("upload.csv", None, "naam")}
    header_only = _excel_csv(tmp_path / "kop.csv", ";".join(MEASUREMENT_TEMPLATE_COLUMNS) + "\n")
    with pytest.raises(DataValidationError, match="alleen een kopregel") as err:
        read_measurements_file(header_only)
    assert err.value.problems[0]["bestand"] == "kop.csv"
    semicolons = _excel_csv(tmp_path / "leeg.csv", "persoon;voorziening;moment\n;;\n;;\n")
    with pytest.raises(DataValidationError, match="alleen een kopregel"):
        read_measurements_file(semicolons)
    empty = tmp_path / "niets.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataValidationError) as err:
        read_measurements_file(empty)
    assert err.value.problems and err.value.problems[0]["bestand"] == "niets.csv"


def test_follow_up_before_intake_is_a_warning_not_a_refusal(tmp_path):
    path = _excel_csv(tmp_path / "volgorde.csv", "persoon;voorziening;moment;datum\nK-1;V001;T0;01-03-2026\n"
                                                 "K-1;V001;T1;01-02-2026\nK-2;V001;T1;01-02-2026\n")
    read = read_measurements_file(path)
    assert [(w["rij"], w["kolom"]) for w in read.warnings if "vóór de intake" in w["melding"]] == [(3, "datum")]
    assert any("zonder groep" in w["melding"] for w in read.warnings)  # no group column: participants
    assert read.measurements["study_group"].eq("deelnemer").all()


def test_store_unchanged_after_refused_imports(teststad, tmp_path):
    scoped = ScopedStore(teststad, ADMIN)
    scoped.merge_measurements(read_measurements_file(FIXTURES / "metingen_excel.csv").measurements)
    before = _digest(teststad)
    with pytest.raises(DataValidationError):
        read_measurements_file(FIXTURES / "metingen_fouten.csv", **_known(teststad))
    # Read without the store's codes, the file passes the reader; the store still refuses it whole.
    unknown = _excel_csv(tmp_path / "onbekend.csv", "persoon;voorziening;moment;datum;lsns_1\n"
                                                    "T-01;V001;T2;01-05-2026;4\nX-9;V001;T0;01-05-2026;1\n")
    with pytest.raises(DataValidationError):
        scoped.merge_measurements(read_measurements_file(unknown).measurements)
    assert _digest(teststad) == before
    assert len(teststad.read_table("measurements")) == 6


# --------------------------------------------------------------------------- repeated Network Canvas interviews

def _followup(source, **kwargs):
    return network_canvas_followup(source, provision_id="V001", known_persons=PERSONS, **kwargs)


def _counts(ties: pd.DataFrame, before: str, after: str) -> dict:
    ties = ties.rename(columns={"person_id": "ego_id"})
    changes = tie_changes(ties.loc[ties["moment"] == before], ties.loc[ties["moment"] == after])
    return tie_change_counts(changes).set_index("ego_id").loc["T-01"].to_dict()


@pytest.mark.parametrize("kind", ["csv", "zip", "graphml"])
def test_three_sessions_of_one_case_give_t0_t1_t2_and_the_hand_made_tie_changes(teststad, tmp_path, kind):
    folder = tmp_path / "export"
    sessions = nc.followup_case()
    if kind == "graphml":
        nc.write_followup_graphml(sessions, folder)
        source = read_followup_export(folder)
    elif kind == "zip":
        source = read_followup_export(nc.write_followup_csv(sessions, folder, zipped=True))
    else:
        nc.write_followup_csv(sessions, folder)
        source = read_followup_export(folder)  # a folder is read in file-name order: T2, T1, T0
    result = _followup(source, alter_code_variable="alter_code")
    m = result.measurements.sort_values("moment")
    assert m["moment"].tolist() == ["T0", "T1", "T2"]
    assert m["measured_on"].tolist() == [pd.Timestamp("2026-01-12"), pd.Timestamp("2026-02-23"),
                                         pd.Timestamp("2026-05-25")]
    assert result.report[0]["te_volgen"] == "ja" and result.report[0]["relaties"] == "T0: 4, T1: 5, T2: 5"
    assert not any("bestandsnaam" in w["melding"] for w in result.warnings)  # the case id from the export itself

    ScopedStore(teststad, ADMIN).merge_measurements(result.measurements, result.followup_ties,
                                                    source=source.label)
    stored = teststad.read_table("followup_ties")
    long = measurements_long(teststad.read_table("measurements"), stored)
    assert _lsns(long) == {("T-01", "T0"): 3.0, ("T-01", "T1"): 8.0, ("T-01", "T2"): 11.0}
    djg6 = long.loc[long["measure"] == "djg6"].sort_values("moment")["score"].tolist()
    assert djg6 == [6.0, 3.0, 1.0]
    sizes = long.loc[long["measure"] == "network_size"].sort_values("moment")["score"].tolist()
    assert sizes == [4.0, 5.0, 5.0]
    assert _counts(stored, "T0", "T1") == {"kept": 2, "changed": 1, "lost": 1, "new": 2}
    assert _counts(stored, "T1", "T2") == {"kept": 3, "changed": 1, "lost": 1, "new": 1}
    assert _counts(stored, "T0", "T2") == {"kept": 1, "changed": 1, "lost": 2, "new": 3}
    group = stored.loc[stored["from_group"].astype(bool)]
    assert sorted(group["moment"]) == ["T1", "T2"] and set(group["alter_id"]) == {"T-02"}
    assert set(group["role"]) == {"groepsgenoot"}
    # No name typed in Network Canvas reaches the store.
    assert not stored.astype(str).apply(lambda c: c.str.contains("Naam")).any().any()


def test_without_an_alter_code_the_report_says_ties_cannot_be_followed(teststad, tmp_path):
    nc.write_followup_csv(nc.followup_case(), tmp_path / "export", alter_code=False)
    result = _followup(read_followup_export(tmp_path / "export"))
    row = result.report[0]
    assert row["te_volgen"] == "nee"
    assert "niet van moment tot moment te volgen" in row["melding"] and "verloren en nieuw" in row["melding"]
    assert "12 relaties" in row["melding"]  # 4 per session; the group member is a known person
    # Only the known person is followed: everyone else counts as lost and new, never matched by position.
    assert _counts(result.followup_ties, "T0", "T1") == {"kept": 0, "changed": 0, "lost": 4, "new": 5}
    assert _counts(result.followup_ties, "T1", "T2") == {"kept": 1, "changed": 0, "lost": 4, "new": 4}


def test_plain_reader_takes_the_case_from_the_exporters_file_names(tmp_path):
    nc.write_followup_csv(nc.followup_case(), tmp_path / "export")
    result = _followup(read_network_canvas_export(tmp_path / "export"), alter_code_variable="alter_code")
    assert set(result.measurements["person_id"]) == {"T-01"}
    assert sorted(result.measurements["moment"]) == ["T0", "T1", "T2"]
    assert sum("bestandsnaam" in w["melding"] for w in result.warnings) == 3  # one per session, said each time


def test_session_without_start_is_ordered_and_dated_by_its_finish(tmp_path):
    sessions = nc.followup_case()
    # Without a start and with a finish after T2's start it would sort last: the finish really is used.
    sessions[1] = dataclasses.replace(sessions[1], start=None, finish="2026-06-10T09:40:00.000Z")
    nc.write_followup_csv(sessions, tmp_path / "export")
    result = _followup(read_followup_export(tmp_path / "export"), alter_code_variable="alter_code")
    m = result.measurements.set_index("moment")["measured_on"]
    assert m.to_dict() == {"T0": pd.Timestamp("2026-01-12"), "T1": pd.Timestamp("2026-05-25"),
                           "T2": pd.Timestamp("2026-06-10")}
    said = [w for w in result.warnings if "uit sessionFinish" in w["melding"]]
    assert [(w["bestand"], w["rij"]) for w in said] == [(f"T-01_{sessions[1].session_uuid}_ego.csv", 2)]
    with pytest.raises(DataValidationError) as err:
        sessions[1] = dataclasses.replace(sessions[1], finish=None, exported="")
        shutil.rmtree(tmp_path / "export")
        nc.write_followup_csv(sessions, tmp_path / "export")
        _followup(read_followup_export(tmp_path / "export"), alter_code_variable="alter_code")
    assert _where(err.value) == {(f"T-01_{sessions[1].session_uuid}_ego.csv", 2, "sessionStart")}


def test_moment_variable_overrides_the_order(tmp_path):
    sessions = [dataclasses.replace(s, moment=v) for s, v in zip(nc.followup_case(), ("intake", "einde", "T 3"),
                                                                  strict=True)]
    nc.write_followup_csv(sessions, tmp_path / "export", moment=True)
    result = _followup(read_followup_export(tmp_path / "export"), moment_variable="meetmoment",
                       alter_code_variable="alter_code")
    by_date = result.measurements.sort_values("measured_on")["moment"].tolist()
    assert by_date == ["T0", "T1", "T3"]  # the order alone would have made the last one T2


def test_unknown_case_five_sessions_and_group_member_without_code_are_problems(teststad, tmp_path):
    sessions = nc.followup_case()
    stranger = dataclasses.replace(sessions[0], case_id="Jan Jansen", session_uuid="aaaaaaaa-0a0b-4c0d-8e0f-00000000000a")
    extra = [dataclasses.replace(sessions[2], session_uuid=f"bbbbbbb{k}-0a0b-4c0d-8e0f-00000000000{k}",
                                 start=f"2026-0{6 + k}-01T09:00:00.000Z", finish=None) for k in (1, 2)]
    no_code = dataclasses.replace(sessions[1], alters=[dataclasses.replace(sessions[1].alters[3], person=None)])
    sessions = [sessions[0], no_code, sessions[2], *extra, stranger]
    nc.write_followup_csv(sessions, tmp_path / "export")
    before = _digest(teststad)
    with pytest.raises(DataValidationError) as err:
        _followup(read_followup_export(tmp_path / "export"), alter_code_variable="alter_code")
    fifth = f"T-01_{extra[1].session_uuid}_ego.csv"
    assert _where(err.value) == {
        ("Jan Jansen_aaaaaaaa-0a0b-4c0d-8e0f-00000000000a_ego.csv", 2, "networkCanvasCaseID"),
        (fifth, 2, "networkCanvasCaseID"),  # the fifth session of T-01: T0-T3 only
        (f"T-01_{no_code.session_uuid}_attributeList_Person.csv", 2, "uit_de_groep"),
    }
    assert not any("Jan Jansen" in p["melding"] for p in err.value.problems)
    assert _digest(teststad) == before


def test_group_member_must_be_a_known_person(tmp_path):
    sessions = nc.followup_case(group_member="T-99")
    nc.write_followup_csv(sessions, tmp_path / "export")
    with pytest.raises(DataValidationError) as err:
        _followup(read_followup_export(tmp_path / "export"), alter_code_variable="alter_code")
    rows = {(p["rij"], p["kolom"]) for p in err.value.problems}
    # The member is the fourth alter (row 5) at T1 and the third (row 4) at T2.
    assert rows == {(5, "code"), (4, "code")}


def test_zip_upload_as_bytes_reads_like_the_folder(tmp_path):
    [archive] = nc.write_followup_csv(nc.followup_case(), tmp_path / "export", zipped=True)
    upload = ("networkCanvasExport.zip", archive.read_bytes())  # as the page gets it
    result = _followup(read_followup_export([upload]), alter_code_variable="alter_code")
    assert sorted(result.measurements["moment"]) == ["T0", "T1", "T2"]
    assert result.followup_ties["alter_key"].isin(["a1", "a2", "a3", "a4", "a5", "a6", "T-02"]).all()

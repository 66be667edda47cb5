"""``cli.py export-agenda`` and ``import-agenda`` on the store of a municipality that is not the demo (Teststad
with networks): filtering by wijk, no person id in the file, header only without items, Dutch refusals."""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from data.access import ScopedStore
from data.agenda import AGENDA_COLUMNS
from data.auth import User
from data.store import GeoPackageStore
from tests.towns import build_state, write_town_files

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=180)


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";")
    return list(reader.fieldnames or []), list(reader)


@pytest.fixture()
def teststad(tmp_path) -> GeoPackageStore:
    """Teststad with persons and ties, and three agenda items: two in Centrum, one in Noord."""
    store = build_state(GeoPackageStore.create_new(tmp_path / "teststad.gpkg"), write_town_files(tmp_path / "bron"),
                        "netwerken")
    assert len(store.read_table("persons")) == 3
    admin = ScopedStore(store, User("beheer", "beheerder"))
    provision = str(store.read_table("provisions")["provision_id"].iloc[0])
    admin.save_agenda_item({"wijk_code": "WK199900", "title": "Koffieochtend", "owner_role": "opbouwwerker",
                            "status": "gepland", "due_on": "2027-03-01", "origin_kind": "signaal",
                            "origin_figure": "aandeel met een signaal: 40%"},
                           [("buurt", "BU19990001"), ("voorziening", provision)])
    admin.save_agenda_item({"wijk_code": "WK199900", "title": "Wandelgroep", "owner_role": "wijkteam"})
    admin.save_agenda_item({"wijk_code": "WK199901", "title": "Buurttafel", "owner_role": "gebiedsverbinder"},
                           [("buurt", "BU19990101")])
    return store


def _person_ids(store: GeoPackageStore) -> set[str]:
    persons = set(store.read_table("persons")["person_id"].astype(str))
    ties = store.read_table("ties")
    return persons | set(ties["alter_id"].dropna().astype(str)) | set(ties["ego_id"].astype(str))


def test_export_one_wijk_to_csv_without_person_ids(teststad, tmp_path):
    out = tmp_path / "agenda.csv"
    result = run_cli("export-agenda", "--store", str(teststad.path), "--out", str(out), "--wijk", "WK199900")
    assert result.returncode == 0, result.stderr
    header, rows = _rows(out)
    assert header == list(AGENDA_COLUMNS)
    assert [r["titel"] for r in rows] == ["Koffieochtend", "Wandelgroep"]
    assert {r["wijkcode"] for r in rows} == {"WK199900"}
    first = rows[0]
    assert first["eigenaar"] == "opbouwwerk" and first["status"] == "gepland"
    assert first["deadline"] == "01-03-2027" and first["versie"] == "1"
    assert first["buurten"] == "BU19990001 Oude Kern" and first["voorzieningen"].endswith("Buurtkamer De Kern")
    text = out.read_bytes().decode("utf-8-sig")
    ids = _person_ids(teststad)
    assert ids and not any(pid in text for pid in ids)
    assert "2 agendapunten van WK199900 geschreven naar" in result.stdout
    audit = teststad.read_audit()
    assert audit.iloc[0]["action"] == "export-agenda"


@pytest.mark.parametrize("wijk_args", [("--wijk", "WK199900,wk199901"), ("--wijk", "WK199901", "--wijk", "WK199900"),
                                       ()])
def test_several_wijken_as_a_list_or_repeated_or_all(teststad, tmp_path, wijk_args):
    out = tmp_path / "agenda.xlsx"
    result = run_cli("export-agenda", "--store", str(teststad.path), "--out", str(out), *wijk_args)
    assert result.returncode == 0, result.stderr
    from openpyxl import load_workbook

    book = load_workbook(out)
    sheet = book["Wijkagenda"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert sorted(v[3] for v in values) == ["Buurttafel", "Koffieochtend", "Wandelgroep"]
    assert "Toelichting" in book.sheetnames
    cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None}
    ids = _person_ids(teststad)
    assert not any(pid in cell for cell in cells for pid in ids)
    assert "3 agendapunten" in result.stdout and "Toelichting" in result.stdout


def test_a_store_without_items_writes_the_header_only(tmp_path):
    store = build_state(GeoPackageStore.create_new(tmp_path / "leeg.gpkg"), write_town_files(tmp_path / "bron"),
                        "gebieden")
    out = tmp_path / "agenda.csv"
    result = run_cli("export-agenda", "--store", str(store.path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().decode("utf-8-sig") == ";".join(AGENDA_COLUMNS) + "\r\n"
    assert "Nog geen agendapunten" in result.stdout and "alleen de kopregel" in result.stdout


def test_unknown_wijk_or_extension_is_refused_in_dutch(teststad, tmp_path):
    out = tmp_path / "agenda.csv"
    result = run_cli("export-agenda", "--store", str(teststad.path), "--out", str(out), "--wijk", "WK000000")
    assert result.returncode == 2 and "Onbekende wijk WK000000" in result.stderr and not out.exists()
    result = run_cli("export-agenda", "--store", str(teststad.path), "--out", str(tmp_path / "agenda.pdf"))
    assert result.returncode == 2 and ".csv- of .xlsx-bestand" in result.stderr


def test_import_agenda_adds_the_exported_items_as_new_ones(teststad, tmp_path):
    out = tmp_path / "agenda.csv"
    assert run_cli("export-agenda", "--store", str(teststad.path), "--out", str(out)).returncode == 0
    result = run_cli("import-agenda", str(out), "--store", str(teststad.path))
    assert result.returncode == 0, result.stderr
    assert "3 agendapunten geïmporteerd uit agenda.csv (AG-0004 tot en met AG-0006)" in result.stdout
    items = teststad.read_table("agenda_items")
    assert items["title"].tolist() == ["Koffieochtend", "Wandelgroep", "Buurttafel"] * 2
    links = teststad.read_table("agenda_links")
    assert sorted(links.loc[links["item_id"] == "AG-0004", "target"]) == sorted(
        links.loc[links["item_id"] == "AG-0001", "target"])


def test_import_agenda_with_problems_lists_them_and_changes_nothing(teststad, tmp_path):
    bad = tmp_path / "fout.csv"
    bad.write_text("wijkcode;titel;eigenaar;status\r\nWK199900;Goed;wijkteam;idee\r\nWK999999;Fout;wethouder;idee\r\n",
                   encoding="utf-8-sig")
    before = hashlib.sha256(teststad.path.read_bytes()).hexdigest()
    result = run_cli("import-agenda", str(bad), "--store", str(teststad.path))
    assert result.returncode == 2
    assert "niets geïmporteerd" in result.stderr and "rij 3" in result.stderr
    assert "onbekende wijk 'WK999999'" in result.stderr and "onbekende eigenaar 'wethouder'" in result.stderr
    assert hashlib.sha256(teststad.path.read_bytes()).hexdigest() == before

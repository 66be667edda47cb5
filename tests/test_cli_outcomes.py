"""``cli.py outcomes``: change per provision and measure to CSV/Excel, exact for the administrator but with
counts of 1-4 persons left empty, on the demo, on a municipality's own store, and with a small cell."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data.access import ScopedStore
from data.auth import User
from data.store import GeoPackageStore
from graphs.outcomes import OUTCOME_COLUMNS, TOO_FEW
from tests.towns import build_state, write_town_files

ROOT = Path(__file__).resolve().parent.parent
COUNTS = ["n_T0", "n_T1", "n_T2", "n_T3", "n_paired"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=180)


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    return list(reader.fieldnames or []), list(reader)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _provision_of_type(store, ptype: str) -> tuple[str, str]:
    provisions = store.read_table("provisions").set_index("provision_id")
    measured = store.read_table("measurements")["provision_id"].astype(str).unique()
    ids = [p for p in measured if provisions.loc[p, "type"] == ptype]
    assert len(ids) == 1
    return ids[0], provisions.loc[ids[0], "name"]


def test_demo_csv_has_the_outcome_columns_and_the_figures_of_the_summary(demo_store, tmp_path):
    out = tmp_path / "uitkomsten.csv"
    result = run_cli("outcomes", "--store", str(demo_store.path), "--out", str(out), "--before", "T0",
                     "--after", "T2")
    assert result.returncode == 0, result.stderr
    header, rows = _read_csv(out)
    assert header == OUTCOME_COLUMNS
    gg, gg_name = _provision_of_type(demo_store, "grip_en_glans")
    mine = {r["measure"]: r for r in rows if r["provision_id"] == gg}
    assert {"lsns6", "djg", "network_size"} <= set(mine)
    # Counts are whole numbers ('10', never '10,0'); figures are numbers with a decimal comma.
    for row in rows:
        for column in COUNTS:
            assert row[column].isdigit(), (column, row[column])
    assert (mine["lsns6"]["n_T0"], mine["lsns6"]["n_T2"], mine["lsns6"]["n_paired"]) == ("10", "8", "8")
    summary = ScopedStore(demo_store, User("beheer", "beheerder")).outcome_summary(before="T0", after="T2")
    exact = summary.set_index(["provision_id", "measure"]).loc[(gg, "lsns6")]
    for column in ("mean_change", "ci_low", "ci_high", "d_z", "did", "did_ci_low", "did_ci_high"):
        assert _number(mine["lsns6"][column]) == pytest.approx(exact[column], abs=5e-4)
    text = out.read_bytes().decode("utf-8-sig")
    persons = demo_store.read_table("persons")["person_id"].astype(str)
    assert not any(pid in text for pid in persons)
    assert gg_name in result.stdout and "T0 10, T2 8" in result.stdout
    assert "Zonder vergelijkingsgroep laat dit geen effect zien" in result.stdout
    assert str(out) in result.stdout


def test_per_type_and_excel_with_number_formats_and_toelichting(town_store, tmp_path):
    """On a municipality's own store (the demo's tables, not flagged as demo) per type, as Excel."""
    from openpyxl import load_workbook

    out = tmp_path / "uitkomsten.xlsx"
    result = run_cli("outcomes", "--store", str(town_store.path), "--out", str(out), "--per", "type")
    assert result.returncode == 0, result.stderr
    book = load_workbook(out)
    assert book.sheetnames == ["Uitkomsten", "Toelichting"]
    sheet = book["Uitkomsten"]
    header = [c.value for c in sheet[1]]
    assert header[0] == "type" and set(OUTCOME_COLUMNS[1:]) <= set(header)
    rows = list(sheet.iter_rows(min_row=2))
    assert {r[0].value for r in rows} == {"grip_en_glans", "bezoekdienst_weduwen"}
    col = {name: i for i, name in enumerate(header)}
    for row in rows:
        for name in COUNTS:
            cell = row[col[name]]
            assert isinstance(cell.value, int) and cell.number_format == "#,##0"
        assert isinstance(row[col["mean_change"]].value, int | float)  # a number cell, not text
        assert row[col["mean_change"]].number_format == "#,##0.00"
        assert row[col["reason"]].value is None  # no empty text cells where nothing is hidden
    explained = {r[1] for r in book["Toelichting"].iter_rows(min_row=2, values_only=True)}
    assert set(header) <= explained
    assert "Grip & Glans (grip_en_glans)" in result.stdout


@pytest.fixture()
def teststad(tmp_path) -> GeoPackageStore:
    """Teststad (not the demo) built from its files: areas, provisions, health figures, three persons."""
    files = write_town_files(tmp_path / "bestanden")
    return build_state(GeoPackageStore.create_new(tmp_path / "teststad.gpkg"), files, "netwerken")


def test_store_without_measurements_writes_only_the_header(teststad, tmp_path):
    out = tmp_path / "leeg.csv"
    result = run_cli("outcomes", "--store", str(teststad.path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Nog geen metingen in deze opslag" in result.stdout
    header, rows = _read_csv(out)
    assert header == OUTCOME_COLUMNS and rows == []


def _measurement(person: str, provision: str, moment: str, day: str, lsns: int, djg_lonely: int) -> dict:
    row = {"person_id": person, "provision_id": provision, "study_group": "deelnemer", "moment": moment,
           "measured_on": pd.Timestamp(day)}
    row.update({f"lsns_{i}": lsns for i in range(1, 7)})
    # Items 1 and 4 are positively worded: 'nee' scores lonely; the rest answered not lonely.
    row.update({f"djg_{i}": ("ja" if i in (1, 4, 7, 8, 11) else "nee") for i in range(1, 12)})
    for i in (1, 4, 7, 8, 11)[:djg_lonely]:
        row[f"djg_{i}"] = "nee"
    return row


def test_a_cell_of_three_persons_is_left_empty_with_the_reason(teststad, tmp_path):
    persons = teststad.read_table("persons")["person_id"].astype(str).tolist()
    provision = teststad.read_table("provisions")["provision_id"].astype(str).iloc[0]
    assert len(persons) == 3
    rows = [_measurement(p, provision, "T0", "2026-03-02", 1, 4) for p in persons]
    rows += [_measurement(p, provision, "T1", "2026-04-13", 3, 1) for p in persons]
    teststad.merge_measurements(pd.DataFrame(rows), user="test", source="metingen.csv")
    out = tmp_path / "klein.csv"
    result = run_cli("outcomes", "--store", str(teststad.path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    header, table = _read_csv(out)
    assert header == OUTCOME_COLUMNS
    cells = [r for r in table if r["provision_id"] == provision]
    assert {r["measure"] for r in cells} >= {"lsns6", "djg"}
    for row in cells:
        assert row["n_T0"] == row["n_T1"] == row["n_paired"] == ""  # 3 persons: not shown
        assert row["n_T2"] == row["n_T3"] == "0"
        assert row["mean_change"] == row["ci_low"] == row["ci_high"] == row["d_z"] == row["did"] == ""
        assert TOO_FEW in row["reason"]
    assert TOO_FEW in result.stdout
    text = out.read_text(encoding="utf-8-sig")
    assert not any(p in text for p in persons)


def test_outcomes_export_table_names_the_hidden_counts():
    from cli import outcomes_export_table

    summary = pd.DataFrame({"provision_id": ["V1", "V2"], "measure": ["lsns6", "lsns6"], "n_T0": [12, 3],
                            "n_T1": [12, 3], "n_T2": [4, 0], "n_T3": [0, 0], "n_paired": [12, 3],
                            "mean_change": [2.0, float("nan")], "ci_low": [1.0, float("nan")],
                            "ci_high": [3.0, float("nan")], "d_z": [1.1, float("nan")], "did": [float("nan")] * 2,
                            "did_ci_low": [float("nan")] * 2, "did_ci_high": [float("nan")] * 2,
                            "reason": ["", TOO_FEW], "did_reason": ["geen vergelijkingsgroep", ""]})
    table = outcomes_export_table(summary).set_index("provision_id")
    assert list(table.reset_index().columns) == OUTCOME_COLUMNS
    assert table.loc["V1", "n_T0"] == 12 and pd.isna(table.loc["V1", "n_T2"]) and table.loc["V1", "n_T3"] == 0
    assert table.loc["V1", "reason"] == f"{TOO_FEW}: n_T2; geen vergelijkingsgroep"
    assert table.loc[["V2"], ["n_T0", "n_T1", "n_paired"]].isna().all().all()
    assert table.loc["V2", "reason"] == TOO_FEW  # already said once: not repeated
    assert str(table["n_T0"].dtype) == "Int64"


@pytest.mark.parametrize(("args", "message"), [
    (("--before", "T9"), "Onbekend meetmoment 'T9'"),
    (("--before", "T2", "--after", "T1"), "eerder meetmoment"),
    (("--per", "wijk"), "Onbekende indeling 'wijk'"),
])
def test_bad_options_give_a_dutch_error_and_write_nothing(demo_store, tmp_path, args, message):
    out = tmp_path / "x.csv"
    result = run_cli("outcomes", "--store", str(demo_store.path), "--out", str(out), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Fout" in result.stderr
    assert not out.exists()


def test_help_names_the_options():
    result = run_cli("outcomes", "--help")
    assert result.returncode == 0, result.stderr
    assert all(option in result.stdout for option in ("--before", "--after", "--per", "--out"))


def test_import_measurements_from_a_dutch_excel_csv_then_outcomes(teststad, tmp_path):
    """``cli.py import-measurements``: the template as Dutch Excel writes it lands as one undoable import; a file
    with an unknown person is refused with its row and leaves the store as it was."""
    persons = teststad.read_table("persons")["person_id"].astype(str).tolist()
    provision = teststad.read_table("provisions")["provision_id"].astype(str).iloc[0]
    header = "persoon;voorziening;groep;moment;datum;" + ";".join(f"lsns_{i}" for i in range(1, 7))
    lines = [f"{p};{provision};deelnemer;T0;02-03-2026;" + ";".join(["1"] * 6) for p in persons]
    lines += [f"{p};{provision};deelnemer;T1;13-04-2026;" + ";".join(["2"] * 6) for p in persons]
    good = tmp_path / "metingen.csv"
    good.write_bytes(("\ufeff" + "\r\n".join([header, *lines]) + "\r\n").encode("utf-8"))
    result = run_cli("import-measurements", str(good), "--store", str(teststad.path))
    assert result.returncode == 0, result.stderr
    assert "Metingen geïmporteerd: 6 metingen van 3 personen" in result.stdout
    stored = teststad.read_table("measurements")
    assert len(stored) == 6 and set(stored["moment"]) == {"T0", "T1"}
    assert stored.loc[stored["moment"] == "T1", "lsns_1"].tolist() == [2, 2, 2]
    assert teststad.read_batches().iloc[0]["kind"] == "metingen"

    bad = tmp_path / "fout.csv"
    bad.write_text("\r\n".join([header, f"K-9999;{provision};deelnemer;T2;13-07-2026;" + ";".join(["2"] * 6)]),
                   encoding="utf-8")
    before = teststad.read_table("measurements")
    result = run_cli("import-measurements", str(bad), "--store", str(teststad.path))
    assert result.returncode != 0
    assert "rij 2" in result.stderr and "persoon" in result.stderr and "K-9999" not in result.stderr
    pd.testing.assert_frame_equal(teststad.read_table("measurements"), before)

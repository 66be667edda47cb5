"""The command line: demo, info, failures with Dutch messages that leave the store as it was."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "demo" in result.stdout and "info" in result.stdout


def test_demo_then_info_json(tmp_path):
    store = tmp_path / "demo.gpkg"
    result = run_cli("demo", "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert "Voorbeeldstad" in result.stdout
    info = run_cli("info", "--store", str(store), "--json")
    assert info.returncode == 0, info.stderr
    data = json.loads(info.stdout)
    assert set(data) == {"areas", "provisions", "persons", "ties", "participation", "schema_version"}
    assert data["areas"] == 47 and data["persons"] == 2000
    assert all(v > 0 for v in data.values())


def test_info_text_uses_dutch_numbers(demo_store_file):
    result = run_cli("info", "--store", str(demo_store_file))
    assert result.returncode == 0
    assert "2.000" in result.stdout


def test_demo_refuses_to_overwrite_data(town_store):
    store = town_store.path  # a municipality's own store: the demo never replaces it without --force
    before = _digest(store)
    result = run_cli("demo", "--store", str(store))
    assert result.returncode != 0
    assert "bevat al gegevens" in result.stderr
    assert _digest(store) == before
    again = run_cli("demo", "--store", str(store), "--if-missing")
    assert again.returncode == 0 and _digest(store) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "bestaat niet"), (b"dit is tekst", "geen GeoPackage")],
)
def test_info_on_a_bad_store_fails_in_dutch(tmp_path, content, message):
    store = tmp_path / "x.gpkg"
    if content is not None:
        store.write_bytes(content)
    result = run_cli("info", "--store", str(store))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    if content is None:
        assert not store.exists()
    else:
        assert store.read_bytes() == content


def test_unknown_command_fails_in_dutch():
    result = run_cli("onzin")
    assert result.returncode == 2
    assert "Fout in de opdracht" in result.stderr


@pytest.mark.parametrize(("command", "sheet"), [("signals", "Signalen"), ("match", "Koppeling"), ("gaps", "Tekorten")])
def test_xlsx_out_writes_the_same_rows_as_csv_and_logs_the_file(town_store, tmp_path, command, sheet):
    """``--out x.xlsx`` gives a workbook (the table and a Toelichting) with the rows of the CSV; both are logged."""
    import openpyxl
    import pandas as pd

    csv_out, xlsx_out = tmp_path / f"{command}.csv", tmp_path / f"{command}.xlsx"
    for out in (csv_out, xlsx_out):
        result = run_cli(command, "--store", str(town_store.path), "--out", str(out))
        assert result.returncode == 0, result.stderr
    table = pd.read_csv(csv_out, sep=";", decimal=",", encoding="utf-8-sig", dtype=str)
    book = openpyxl.load_workbook(xlsx_out)
    assert book.sheetnames == [sheet, "Toelichting"]
    rows = list(book[sheet].iter_rows(values_only=True))
    assert len(rows) - 1 == len(table)
    assert [r[0] for r in rows[1:]] == table.iloc[:, 0].tolist()  # same order: persons or buurten
    assert set(table.columns) <= set(rows[0])  # the CSV's columns, perhaps with more (buurt name, year)
    files = [json.loads(d).get("bestand") for d in town_store.read_audit()["details"]]
    assert {csv_out.name, xlsx_out.name} <= set(files)


def test_out_help_names_both_formats():
    for command in ("gaps", "signals", "match"):
        result = run_cli(command, "--help")
        assert result.returncode == 0 and ".xlsx" in result.stdout and ".csv" in result.stdout

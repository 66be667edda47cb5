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

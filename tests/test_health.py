"""Gezondheidsmonitor estimates with intervals: StatLine export and Dutch Excel CSV."""

import hashlib
import logging
import warnings

import pandas as pd
import pytest

import data.health as health
from data.errors import DataValidationError
from data.health import measure_key, read_health_file
from data.profile import area_profile
from data.tabular import parse_numbers, read_table_file
from tests.test_cli import run_cli

STATLINE_CSV = """\
ID;Leeftijd;Marges;WijkenEnBuurten;Perioden;Eenzaam_27;ErnstigZeerErnstigEenzaam_28;MoeiteMetRondkomen_41
0;18 jaar of ouder;Waarde;BU99990101;2022JJ00;52;15;31
1;18 jaar of ouder;Ondergrens 95%-interval;BU99990101;2022JJ00;47;12;26
2;18 jaar of ouder;Bovengrens 95%-interval;BU99990101;2022JJ00;57;18;36
3;65 jaar of ouder;Waarde;BU99990101;2022JJ00;61;19;.
4;18 jaar of ouder;Waarde;GM9999;2022JJ00;44;11;18
"""


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def statline(tmp_path):
    path = tmp_path / "50120NED_export.csv"
    path.write_text(STATLINE_CSV, encoding="utf-8")
    return path


def test_measure_names():
    assert measure_key("Eenzaam_27") == "eenzaam"
    assert measure_key("ErnstigZeerErnstigEenzaam_28") == "ernstig_eenzaam"
    assert measure_key("EmotioneelEenzaam_29") == "emotioneel_eenzaam"
    assert measure_key("HoogRisicoOpAngstOfDepressie_25") == "psychische_klachten"
    assert measure_key("Mantelzorger_39") == "mantelzorger"
    assert measure_key("Codering_3") is None


def test_statline_export_with_intervals(statline):
    values = read_health_file(statline).set_index(["area_code", "indicator"])
    row = values.loc[("BU99990101", "gm_eenzaam_18")]
    assert (row["value"], row["lower"], row["upper"], row["year"]) == (52, 47, 57, 2022)
    assert values.loc[("BU99990101", "gm_eenzaam_65"), "value"] == 61
    assert pd.isna(values.loc[("BU99990101", "gm_eenzaam_65"), "lower"])
    assert values.loc[("BU99990101", "gm_moeite_rondkomen_65"), "status"] == "onbekend"
    assert values.loc[("GM9999", "gm_ernstig_eenzaam_18"), "value"] == 11


def test_dutch_excel_csv_with_decimal_commas_cp1252(tmp_path):
    path = tmp_path / "gezondheid_2022.csv"
    text = "Gebiedscode;Eenzaam;Eenzaam ondergrens;Eenzaam bovengrens;Opmerking\n" \
           "BU99990101;52,4;47,1;57,9;één\nWK999901;48,0;40,5;55,0;\n"
    path.write_bytes(text.encode("cp1252"))
    values = read_health_file(path).set_index("area_code")
    assert values.loc["BU99990101", ["value", "lower", "upper"]].tolist() == [52.4, 47.1, 57.9]
    assert values.loc["WK999901", "value"] == 48.0
    assert (values["year"] == 2022).all()


def test_bad_number_names_row_and_column(tmp_path):
    path = tmp_path / "gezondheid_2022.csv"
    path.write_text("Gebiedscode;Eenzaam\nBU99990101;52\nBU99990102;veel\n", encoding="utf-8-sig")
    with pytest.raises(DataValidationError, match=r"'veel' is geen getal.*rij 3, kolom 'Eenzaam'"):
        read_health_file(path)


def test_no_measure_and_no_code(tmp_path):
    path = tmp_path / "x_2022.csv"
    path.write_text("Gebiedscode;Geluk\nBU99990101;5\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="Geen bekende maat"):
        read_health_file(path)
    path.write_text("Naam;Eenzaam\nNoord;5\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="Geen kolom met gebiedscodes"):
        read_health_file(path)


def test_profile_shows_the_interval(statline, town_store):
    town_store.merge_area_values(read_health_file(statline), user="t", action="import-gezondheid")
    profile = area_profile(town_store.read_area_values(), town_store.read_table("areas"), "BU99990101")
    row = profile.table.set_index("indicator").loc["gm_eenzaam_18"]
    assert row["Rozenhof"] == "52% (47–57)"
    assert row["Voorbeeldstad"] == "44%"
    # The CBS figures of the same store are untouched by the health import.
    assert profile.table.set_index("indicator").loc["aantal_inwoners", "Rozenhof"] == "4.855"


def test_cli_import_health(statline, town_store):
    result = run_cli("import-gezondheid", str(statline), "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    assert "2022" in result.stdout and "2 gebieden" in result.stdout
    bad = statline.with_name("kapot_2022.csv")
    bad.write_text("Gebiedscode;Eenzaam\nBU99990101;?!\n", encoding="utf-8")
    before = _digest(town_store.path)
    result = run_cli("import-gezondheid", str(bad), "--store", str(town_store.path))
    assert result.returncode == 2 and "geen getal" in result.stderr
    assert _digest(town_store.path) == before


def test_tabular_reader_basics(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("\ufeffa,b\n1,2\n".encode())
    assert read_table_file(path).columns.tolist() == ["a", "b"]
    assert parse_numbers(pd.Series(["1.234,5", "12", ".", ""]), file="f", column="c").tolist()[:2] == [1234.5, 12.0]
    empty = tmp_path / "leeg.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataValidationError, match="leeg"):
        read_table_file(empty)
    header_only = tmp_path / "kop.csv"
    header_only.write_text("a;b\n")
    with pytest.raises(DataValidationError, match="geen gegevensrijen"):
        read_table_file(header_only)


def test_percentages_outside_0_to_100_are_refused_with_row_and_column(tmp_path):
    path = tmp_path / "gezondheid_2022.csv"
    path.write_text("Gebiedscode;Eenzaam;Eenzaam ondergrens;Eenzaam bovengrens;MoeiteMetRondkomen\n"
                    "BU99990101;52;47;57;31\n"
                    "BU99990102;1.048,0;40;55;12\n"
                    "BU99990103;48;-2;55;101\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"3 problemen gevonden.*BU99990102: de schatting is 1.048%") as info:
        read_health_file(path)
    assert [(p["rij"], p["kolom"]) for p in info.value.problems] == [
        (3, "Eenzaam"), (4, "Eenzaam ondergrens"), (4, "MoeiteMetRondkomen")]
    assert info.value.problems[1]["melding"] == ("BU99990103: de ondergrens is -2%; de Gezondheidsmonitor geeft "
                                                 "percentages, tussen 0 en 100.")


def test_secrecy_codes_are_missing_values_not_errors(tmp_path):
    path = tmp_path / "gezondheid_2022.csv"
    path.write_text("Gebiedscode;Eenzaam;MoeiteMetRondkomen\nBU99990101;-99997;31\nBU99990102;40;-99995\n",
                    encoding="utf-8")
    values = read_health_file(path).set_index(["area_code", "indicator"])
    assert values.loc[("BU99990101", "gm_eenzaam_18"), "status"] == "geheim"
    assert values.loc[("BU99990102", "gm_moeite_rondkomen_18"), "status"] == "onbekend"
    assert values["value"].min() == 31


def test_lower_bound_above_upper_bound_names_the_row(tmp_path):
    path = tmp_path / "gezondheid_2022.csv"
    path.write_text("Gebiedscode;Eenzaam;Eenzaam ondergrens;Eenzaam bovengrens\nBU99990101;52;47;57\n"
                    "BU99990102;50;58;45\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"de ondergrens \(58%\) is groter dan de bovengrens \(45%\)") as info:
        read_health_file(path)
    assert [(p["rij"], p["kolom"]) for p in info.value.problems] == [(3, "Eenzaam ondergrens")]


def test_content_problems_come_before_the_year_and_the_year_message_names_no_flag(tmp_path):
    path = tmp_path / "gezondheid.csv"
    path.write_text("Gebiedscode;Eenzaam\nBU99990101;120\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="de schatting is 120%"):
        read_health_file(path)
    path.write_text("Gebiedscode;Eenzaam\nBU99990101;20\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="Geef het jaar van de cijfers op") as info:
        read_health_file(path)
    assert "--" not in str(info.value)
    assert read_health_file(path, year=2022)["year"].eq(2022).all()


def test_library_warnings_while_reading_go_to_the_log(statline, monkeypatch, caplog):
    real = health.read_table_file

    def noisy(path):
        warnings.warn("Workbook contains no default style, apply openpyxl's default", UserWarning, stacklevel=2)
        return real(path)

    monkeypatch.setattr(health, "read_table_file", noisy)
    with warnings.catch_warnings(record=True) as shown, caplog.at_level(logging.WARNING, logger="data.health"):
        warnings.simplefilter("always")
        assert len(read_health_file(statline)) > 0
    assert shown == []
    assert [r.getMessage() for r in caplog.records if r.name == "data.health"] == [
        "50120NED_export.csv: UserWarning: Workbook contains no default style, apply openpyxl's default"]

"""The delimiter of a CSV is judged over many lines outside quoted fields (issue 13 part 4)."""

from __future__ import annotations

import csv
import io

import pytest

from data.tabular import DELIMITER_HEAD_CHARS, csv_delimiter, read_table_file

DUTCH_COLUMNS = ["naam", "soort", "organisatie", "capaciteit per jaar", "bereik (km)", "opmerking", "bijzonderheden"]


def _dutch_rows(n: int = 40, *, only_semicolon: bool = False) -> list[list[str]]:
    """40 rows as a Dutch office types them: decimal commas, cells with ';', '"' and a line break.

    Only row 7 has a ';' inside a cell (in the last column); the last two columns are mostly
    empty (Excel still writes their delimiters). ``only_semicolon``: no other quoted cell.
    """
    rows = [[f"Buurthuis {k}", "buurthuis", "Stichting Welzijn", str(10 + k), f"{k % 4},{k % 10}", "", ""]
            for k in range(1, n + 1)]
    rows[6][6] = "open ma; di en wo"
    rows[29][6] = "bel 058-1234567"
    if not only_semicolon:
        rows[11][0] = 'Koffie "De Linde"'
        rows[19][5] = "eerste regel\ntweede regel"
    return rows


def _excel_csv(rows: list[list[str]], *, sep: str = ";", newline: str = "\r\n", header=DUTCH_COLUMNS) -> str:
    """Text as Excel writes it: fields quoted only when needed, quotes doubled, ``newline`` between records."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, quotechar='"', doublequote=True, quoting=csv.QUOTE_MINIMAL,
                        lineterminator=newline)
    writer.writerows([header, *rows])
    return buffer.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_dutch_excel_csv_is_read_on_semicolons(tmp_path, encoding, newline):
    rows = _dutch_rows()
    rows[2][2] = "Stichting Wélzijn Fryslân"  # cp1252 and UTF-8 differ here
    path = tmp_path / "voorzieningen.csv"
    path.write_bytes(_excel_csv(rows, newline=newline).encode(encoding))
    raw = path.read_bytes()
    assert b'"open ma; di en wo"' in raw and b'"Koffie ""De Linde"""' in raw
    assert raw.count(b"\r\n") == (41 if newline == "\r\n" else 0)
    frame = read_table_file(path)
    assert frame.columns.tolist() == DUTCH_COLUMNS
    assert len(frame) == 40
    assert frame.loc[0, "bereik (km)"] == "1,1"
    assert frame.loc[2, "organisatie"] == "Stichting Wélzijn Fryslân"
    assert frame.loc[6, "bijzonderheden"] == "open ma; di en wo"
    assert frame.loc[11, "naam"] == 'Koffie "De Linde"'
    assert frame.loc[19, "opmerking"] == "eerste regel\ntweede regel"
    assert frame.loc[29, "bijzonderheden"] == "bel 058-1234567"
    assert frame.loc[39, "naam"] == "Buurthuis 40"
    assert frame.loc[39, "opmerking"] == "" and frame.loc[39, "bijzonderheden"] == ""  # empty trailing fields


def test_the_issue_file_is_not_read_on_commas(tmp_path):
    """CRLF, decimal commas and one quoted ';' at a line end: csv.Sniffer said ',', no column was found."""
    text = _excel_csv(_dutch_rows(only_semicolon=True))
    assert csv.Sniffer().sniff(text[:DELIMITER_HEAD_CHARS], delimiters=";,\t").delimiter == ","  # the old guess
    assert csv_delimiter(text) == ";"
    path = tmp_path / "issue.csv"
    path.write_bytes(text.encode("utf-8-sig"))
    frame = read_table_file(path)
    assert frame.columns.tolist() == DUTCH_COLUMNS
    assert frame.loc[6, "bijzonderheden"] == "open ma; di en wo" and frame.loc[6, "bereik (km)"] == "3,7"


def test_decimal_commas_that_split_every_line_evenly_do_not_win():
    # One decimal comma on every line and in the header too: ',' qualifies, ';' comes first.
    rows = [[f"Buurt {k}", f"{k},5"] for k in range(40)]
    text = _excel_csv(rows, header=["naam", "aandeel, %"])
    assert csv_delimiter(text) == ";"


def test_english_comma_file_with_quoted_commas(tmp_path):
    rows = [[f"Community centre {k}", f"Smith, J. and Jones, {k}", f"{k}.5", ""] for k in range(40)]
    rows[5][3] = 'said "yes, maybe"'
    path = tmp_path / "english.csv"
    path.write_bytes(_excel_csv(rows, sep=",", newline="\n", header=["name", "contact", "share", "note"])
                     .encode("utf-8"))
    frame = read_table_file(path)
    assert frame.columns.tolist() == ["name", "contact", "share", "note"]
    assert frame.loc[3, "contact"] == "Smith, J. and Jones, 3"
    assert frame.loc[5, "note"] == 'said "yes, maybe"'
    assert frame.loc[39, "share"] == "39.5"


def test_comma_file_where_one_cell_has_a_semicolon(tmp_path):
    rows = [[f"BU{k:08d}", str(100 + k), "nee"] for k in range(40)]
    rows[17][2] = "ja; sinds 2020"  # unquoted: a ',' writer need not quote a ';'
    path = tmp_path / "cbs.csv"
    path.write_bytes(_excel_csv(rows, sep=",", header=["Gebiedscode", "Inwoners", "Opmerking"]).encode("utf-8"))
    frame = read_table_file(path)
    assert frame.columns.tolist() == ["Gebiedscode", "Inwoners", "Opmerking"]
    assert frame.loc[17, "Opmerking"] == "ja; sinds 2020"
    assert frame.loc[0, "Gebiedscode"] == "BU00000000" and frame.loc[39, "Inwoners"] == "139"


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_tab_file(tmp_path, newline):
    rows = [[f"Buurt {k}", f"{k},5", "a; b, c"] for k in range(40)]
    path = tmp_path / "tab.txt"
    path.write_bytes(_excel_csv(rows, sep="\t", newline=newline, header=["naam", "waarde", "tekst"])
                     .encode("utf-8"))
    frame = read_table_file(path)
    assert frame.columns.tolist() == ["naam", "waarde", "tekst"]
    assert frame.loc[4, "waarde"] == "4,5" and frame.loc[39, "tekst"] == "a; b, c"


def test_one_column_file_is_not_split_on_a_comma_in_names(tmp_path):
    path = tmp_path / "namen.csv"
    path.write_bytes(("naam\r\n" + "".join(f"Jansen, P. {k}\r\n" for k in range(40))).encode("utf-8-sig"))
    frame = read_table_file(path)
    assert frame.columns.tolist() == ["naam"]
    assert frame.loc[0, "naam"] == "Jansen, P. 0" and len(frame) == 40


def test_only_complete_lines_of_a_long_file_are_judged():
    # The head stops inside the first field of a record, after a comma: that piece must not count,
    # or ';' (one per line) loses to ',' (the header and every line have one).
    head = "naam;aandeel, %\r\n" + "".join(f"Buurt {k};{k},5\r\n" for k in range(5)) + "Jansen, P"
    assert csv_delimiter(head, whole=True) == ","
    assert csv_delimiter(head, whole=False) == ";"


def test_a_few_ragged_lines_do_not_change_the_verdict():
    # 4 of 40 lines lack the empty last field; ',' (decimal comma) splits every line evenly.
    rows = [["a", "1,5", "c"]] * 36 + [["a", "1,5"]] * 4
    assert csv_delimiter(_excel_csv(rows, header=["naam", "aandeel, %", "c"])) == ";"


def test_one_column_fallback_picks_a_delimiter_that_splits_nothing():
    assert csv_delimiter("x\r\n" + "a;b\r\n" * 40) == "\t"
    assert csv_delimiter("x\r\n" + "a;b\r\n" * 20 + "c,d\r\n" * 20 + "e\tf\r\n") == "\t"
    assert csv_delimiter("x\r\n" + "a,b\r\n" * 20 + "c\td\r\n") == ";"
    assert csv_delimiter("") == ";"

"""The one export writer: typed cells, empty missing values, no formulas, exact round trips."""

from __future__ import annotations

import csv
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from data.errors import DataValidationError
from data.export import frame_to_csv_bytes, frames_to_excel_bytes, frames_to_workbook, restore_text
from data.tabular import read_table_file


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "tekst": ["Buurthuis", "-1,3", None, "=1+1"],
        "getal": [-1.3, 2.5, np.nan, 0.0],
        "aantal": pd.array([-4, None, 7, 0], dtype="Int64"),
        "gemengd": pd.Series([np.int64(3), "x", pd.NA, np.float64(-0.5)], dtype=object),
        "ja_nee": [True, False, True, False],
        "datum": pd.to_datetime(["2026-01-31", None, "2026-02-01", "2026-03-01"]),
    })


def _cells(data: bytes, sheet: str) -> list[list[openpyxl.cell.Cell]]:
    return [list(row) for row in openpyxl.load_workbook(io.BytesIO(data))[sheet].iter_rows()]


def test_excel_numbers_stay_numbers_and_missing_is_empty():
    rows = _cells(frames_to_excel_bytes({"Blad": _frame()}), "Blad")
    assert [c.value for c in rows[0]] == ["tekst", "getal", "aantal", "gemengd", "ja_nee", "datum"]
    assert all(c.font.bold for c in rows[0])
    body = [[(c.value, c.data_type) for c in row] for row in rows[1:]]
    assert [r[1] for r in body] == [(-1.3, "n"), (2.5, "n"), (None, "n"), (0, "n")]  # None: an empty cell
    assert [r[2] for r in body] == [(-4, "n"), (None, "n"), (7, "n"), (0, "n")]
    assert [r[3] for r in body] == [(3, "n"), ("x", "s"), (None, "n"), (-0.5, "n")]
    assert [r[4] for r in body] == [(True, "b"), (False, "b"), (True, "b"), (False, "b")]
    assert body[0][5] == (pd.Timestamp("2026-01-31").to_pydatetime(), "d") and body[1][5] == (None, "n")
    assert [r[0] for r in body] == [("Buurthuis", "s"), ("-1,3", "s"), (None, "n"), ("=1+1", "s")]
    texts = {c.value for row in rows for c in row if isinstance(c.value, str)}
    assert not {"None", "nan", "NaN", "<NA>", "NaT"} & texts


def test_excel_infinity_is_empty_and_widths_are_set():
    frame = pd.DataFrame({"a": [np.inf, -np.inf, 1.0]})
    book = frames_to_workbook({"Een": frame, "Twee": frame.iloc[0:0]}, column_widths={"Een": {"A": 33}})
    assert [c.value for c in book["Een"]["A"]] == ["a", None, None, 1]
    assert book["Een"].column_dimensions["A"].width == 33
    assert [[c.value for c in row] for row in book["Twee"].iter_rows()] == [["a"]]  # the header of an empty table
    assert book.sheetnames == ["Een", "Twee"]


def test_csv_is_dutch_excel_style_and_marks_only_text():
    raw = frame_to_csv_bytes(_frame())
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == 5
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows == [
        ["tekst", "getal", "aantal", "gemengd", "ja_nee", "datum"],
        ["Buurthuis", "-1,3", "-4", "3", "True", "2026-01-31"],  # a negative number stays a number
        ["'-1,3", "2,5", "", "x", "False", ""],  # number-like text is text: marked
        ["", "", "7", "", "True", "2026-02-01"],
        ["'=1+1", "0,0", "0", "-0.5", "False", "2026-03-01"],
    ]


def test_csv_marks_headers_and_keeps_their_order():
    frame = pd.DataFrame([[1, 2, 3]], columns=["b", "=a", "c"])
    assert frame_to_csv_bytes(frame).decode("utf-8-sig").splitlines()[0] == "b;'=a;c"


TRICKY = ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "'=2", "''+1", "'s-Hertogenbosch", "a\r\nb;c",
          "a_x0041_b", "x\x01y", "gewoon"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_text_round_trips_exactly_through_the_reader(tmp_path, suffix):
    frame = pd.DataFrame({"naam": TRICKY, "nummer": range(len(TRICKY))})
    path = tmp_path / f"uit{suffix}"
    path.write_bytes(frame_to_csv_bytes(frame) if suffix == ".csv" else frames_to_excel_bytes({"Blad": frame}))
    back = read_table_file(path)
    assert back["naam"].tolist() == TRICKY
    assert back["nummer"].tolist() == [str(i) for i in range(len(TRICKY))]


def test_restore_text_removes_only_the_mark():
    marked = pd.Series(["'=1", "''=1", "'x", "'", "=1", None], dtype=object)
    assert restore_text(marked).tolist() == ["=1", "'=1", "'x", "'", "=1", None]
    assert restore_text(marked, excel=True).tolist() == marked.tolist()  # Excel cells carry no mark
    assert restore_text(pd.Series(["_x000D_=1", "_x005F_x000D_"]), excel=True).tolist() == ["\r=1", "_x000D_"]
    numbers = pd.Series([1, 2])
    assert restore_text(numbers) is numbers


@pytest.mark.parametrize(
    ("sheets", "message"),
    [
        ({}, "minstens één blad"),
        ({"Een/twee": pd.DataFrame()}, "Ongeldige bladnaam 'Een/twee'"),
        ({"x" * 32: pd.DataFrame()}, "Ongeldige bladnaam"),
        ({"Blad": pd.DataFrame(), "blad": pd.DataFrame()}, "komt twee keer voor"),
        ({"Blad": [1, 2]}, "geen tabel"),
    ],
)
def test_bad_sheets_are_refused_in_dutch(sheets, message):
    with pytest.raises(DataValidationError, match=message):
        frames_to_excel_bytes(sheets)


def test_bad_csv_options_are_refused():
    with pytest.raises(DataValidationError, match="geen tabel|verwacht een tabel"):
        frame_to_csv_bytes([1, 2])
    with pytest.raises(DataValidationError, match="moeten verschillen"):
        frame_to_csv_bytes(pd.DataFrame({"a": [1.5]}), sep=",", decimal=",")

"""The one writer for every CSV and Excel export: numbers stay numbers, text never becomes a formula.

A spreadsheet evaluates a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
some also after a leading tab or carriage return (CSV or formula injection: ``=HYPERLINK(...)`` in a
provision's name would become a link in the municipality's spreadsheet). Every export of Steunkaart
(profile, provisions, gap report, audit log, the command line's tables) goes through this module:

- **Excel** (:func:`frames_to_excel_bytes`, :func:`frames_to_workbook`): numbers, booleans and dates
  are typed cells, missing values are empty cells, and every text is a string cell (openpyxl data
  type ``s``), also when it starts with ``=``; nothing is ever written as a formula. A carriage
  return and the control characters XML cannot hold are written with the OOXML escape ``_xHHHH_``
  (which Excel and LibreOffice decode), and a literal ``_xHHHH_`` in the text as ``_x005F_xHHHH_``,
  so the text reads back exactly (:func:`restore_text` with ``excel=True``).
- **CSV** (:func:`frame_to_csv_bytes`): the way Dutch Excel opens it (``;``, decimal comma, UTF-8
  with BOM, CRLF), and a text whose first character is one of ``= + - @``, tab or carriage return
  gets one single quote in front (OWASP advice); so does a text that already starts with quotes
  before such a character, so that the mark can always be told apart. :func:`restore_text`
  removes that one quote again on import, so an export re-imports unchanged.

Number-like text produced by formatting (``"-1,3"``) is text too, and is marked like any other.
Exports therefore keep numbers as numbers and let the spreadsheet format them: every numeric Excel
column gets a number format (:data:`FMT_INT`, :data:`FMT_1`, ... or one given per column), which
Excel and LibreOffice show with the user's own separators (``1.234,5`` in Dutch), and a sheet
*Toelichting* (:func:`explanation_frame`) says what every column means, in which unit, from which source.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from data.errors import DataValidationError

if TYPE_CHECKING:
    from openpyxl import Workbook

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # a text starting with one of these is marked
CSV_TEXT_MARK = "'"  # put before such a text in CSV
_FIRST = "[" + re.escape("".join(FORMULA_PREFIXES)) + "]"
_DANGEROUS = "^" + _FIRST
# Quotes already in front are counted in, so that the mark is always one quote more than the text had.
_NEEDS_MARK = "^'*" + _FIRST
_MARKED = f"^'(?='*{_FIRST})"
# Characters an XML text cannot hold (or, for CR, not keep), and literal escapes that Excel would decode.
_OOXML_SPECIAL = r"[\x00-\x08\x0b-\x0d\x0e-\x1f]|_(?=x[0-9A-Fa-f]{4}_)"
_OOXML_ESCAPE = r"_x([0-9A-Fa-f]{4})_"
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
MAX_SHEET_NAME = 31  # Excel's limit
CSV_LINE_END = "\r\n"  # RFC 4180; a text holding a line break or CR is then quoted
# Excel number formats (locale-independent codes: ',' groups thousands, '.' is the decimal mark; a Dutch
# Excel shows 1234.5 with FMT_1 as "1.234,5").
FMT_INT = "#,##0"
FMT_1 = "#,##0.0"
FMT_2 = "#,##0.00"
FMT_3 = "#,##0.000"
FMT_PCT_POINTS = '0.0"%"'  # a percentage stored as 0-100 (CBS: 12.5 means 12,5%)
FMT_PCT_POINTS_0 = '0"%"'
FMT_FRACTION_PCT = "0%"  # a share stored as 0-1
FMT_DATE = "dd-mm-yyyy"
FMT_DATETIME = "dd-mm-yyyy hh:mm"
EXPLANATION_COLUMNS = ("Blad", "Kolom", "Betekenis", "Eenheid", "Bron")


def decimals_format(decimals: int) -> str:
    """The Excel number format with ``decimals`` decimals (and thousands grouping)."""
    return FMT_INT if decimals <= 0 else "#,##0." + "0" * int(decimals)


def explanation_frame(rows) -> pd.DataFrame:
    """The *Toelichting* sheet of an export: one row per column of the other sheets.

    Parameters
    ----------
    rows : iterable of tuple or dict
        ``(blad, kolom, betekenis, eenheid, bron)`` (the last two may be left out or empty), or dicts
        with those keys.

    Returns
    -------
    DataFrame
        Columns :data:`EXPLANATION_COLUMNS`.
    """
    records = []
    for row in rows:
        if isinstance(row, Mapping):
            records.append({c: row.get(c.lower(), row.get(c, "")) or "" for c in EXPLANATION_COLUMNS})
        else:
            values = [*row, "", "", ""][: len(EXPLANATION_COLUMNS)]
            records.append(dict(zip(EXPLANATION_COLUMNS, values, strict=True)))
    return pd.DataFrame.from_records(records, columns=list(EXPLANATION_COLUMNS))


def _default_format(values: pd.Series) -> str | None:
    """The number format of a column without one given: integers grouped, floats with what they need."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_datetime64_any_dtype(values):
        return FMT_DATETIME if (values.dropna().dt.normalize() != values.dropna()).any() else FMT_DATE
    if pd.api.types.is_integer_dtype(values):
        return FMT_INT
    if pd.api.types.is_float_dtype(values):
        known = values.dropna()
        if known.empty:
            return FMT_1
        if np.allclose(known, np.round(known)):
            return FMT_INT
        for decimals in (1, 2):
            if np.allclose(known, np.round(known, decimals)):
                return decimals_format(decimals)
        return FMT_3
    return None


def _text_accessor(values: pd.Series):
    """The ``.str`` accessor of a column that can hold text, or None (numbers, dates, booleans)."""
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return None
    try:
        return values.str
    except AttributeError:  # an object column of only numbers
        return None


def _dangerous(values: pd.Series, pattern: str = _DANGEROUS) -> np.ndarray:
    """Boolean mask: which cells are text starting with a character a spreadsheet may evaluate."""
    text = _text_accessor(values)
    if text is None:
        return np.zeros(len(values), dtype=bool)
    return text.match(pattern, na=False).to_numpy(dtype=bool)


def _header(name):
    if isinstance(name, str) and re.match(_NEEDS_MARK, name):
        return CSV_TEXT_MARK + name
    return name


def frame_to_csv_bytes(frame: pd.DataFrame, *, sep: str = ";", decimal: str = ",") -> bytes:
    """Write ``frame`` as CSV for Dutch Excel, with every formula-like text marked as text.

    Parameters
    ----------
    frame : DataFrame
        The table to write; its columns (in order) are the headers, its index is not written.
    sep, decimal : str
        Field separator and decimal mark of float columns (Dutch Excel: ``;`` and ``,``).

    Returns
    -------
    bytes
        UTF-8 with BOM, CRLF line ends. Missing values are empty fields; a text (also a header)
        starting with ``= + - @``, tab or carriage return starts with a single quote.

    Raises
    ------
    DataValidationError
        When ``frame`` is not a DataFrame, or ``sep`` and ``decimal`` are the same character.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError("De export verwacht een tabel (DataFrame).")
    if sep == decimal:
        raise DataValidationError("Scheidingsteken en decimaalteken van de CSV-export moeten verschillen.")
    out = frame.copy(deep=False)
    for pos in range(out.shape[1]):
        column = out.iloc[:, pos]
        mask = _dangerous(column, _NEEDS_MARK)
        if mask.any():
            marked = column.astype(object).copy()
            marked.loc[mask] = CSV_TEXT_MARK + column.loc[mask].astype(str)
            out.isetitem(pos, marked)
    out.columns = [_header(c) for c in frame.columns]
    text = out.to_csv(sep=sep, decimal=decimal, index=False, lineterminator=CSV_LINE_END)
    return text.encode("utf-8-sig")


def _ooxml_escape(match: re.Match) -> str:
    return "_x005F_" if match.group(0) == "_" else f"_x{ord(match.group(0)):04X}_"


def _excel_cells(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Cell values of one column (None for missing) and the mask of texts to force to string cells."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if pd.api.types.is_datetime64_any_dtype(values) and getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)  # Excel has no time zones: keep the wall-clock time
    if pd.api.types.is_float_dtype(values):
        values = values.where(np.isfinite(values.astype(float)))  # Excel has no infinity
    mask = _dangerous(values)
    text = _text_accessor(values)
    if text is not None:
        special = text.contains(_OOXML_SPECIAL, na=False).to_numpy(dtype=bool)
        if special.any():
            values = values.astype(object).copy()
            values.loc[special] = values.loc[special].str.replace(_OOXML_SPECIAL, _ooxml_escape, regex=True)
            mask = mask | _dangerous(values)
    return values.to_numpy(dtype=object, na_value=None), mask


def _check_sheets(sheets: Mapping[str, pd.DataFrame]) -> None:
    if not isinstance(sheets, Mapping) or not sheets:
        raise DataValidationError("De Excel-export verwacht minstens één blad (naam → tabel).")
    seen = set()
    for name, frame in sheets.items():
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_SHEET_NAME or _SHEET_NAME_BAD.search(name):
            raise DataValidationError(f"Ongeldige bladnaam '{name}': 1 tot {MAX_SHEET_NAME} tekens, "
                                      "zonder [ ] : * ? / \\.")
        if name.lower() in seen:
            raise DataValidationError(f"De bladnaam '{name}' komt twee keer voor.")
        seen.add(name.lower())
        if not isinstance(frame, pd.DataFrame):
            raise DataValidationError(f"Blad '{name}' is geen tabel (DataFrame).")


def frames_to_workbook(sheets: Mapping[str, pd.DataFrame], *,
                       column_widths: Mapping[str, Mapping[str, float]] | None = None,
                       number_formats: Mapping[str, Mapping[str, str]] | None = None) -> Workbook:
    """Build an openpyxl workbook with one sheet per frame; no cell is ever a formula.

    Use this when the caller adds more (a picture); otherwise use :func:`frames_to_excel_bytes`.

    Parameters
    ----------
    sheets : mapping of str to DataFrame
        Sheet name → table, in the order the sheets appear. Each sheet has a bold header row
        (the columns) and the rows below it; the index is not written (reset it to keep it).
    column_widths : mapping of str to mapping of str to float, optional
        Per sheet name, column letter → width in characters.
    number_formats : mapping of str to mapping of str to str, optional
        Per sheet name, column name → Excel number format (:data:`FMT_INT`, :data:`FMT_PCT_POINTS`,
        :func:`decimals_format`, ...). Numeric and date columns without one get a default: integers
        (also floats holding only whole numbers) :data:`FMT_INT`, other floats 1 to 3 decimals as they
        need, dates :data:`FMT_DATE`.

    Returns
    -------
    openpyxl.Workbook
        Numbers (also negative), booleans and dates are typed cells with a number format; missing
        values and infinity are empty cells; every text is a string cell. The header row is frozen.

    Raises
    ------
    DataValidationError
        No sheets, a sheet name Excel refuses (empty, longer than 31 characters, ``[ ] : * ? / \\``)
        or used twice, or a sheet that is not a DataFrame.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _check_sheets(sheets)
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        header, header_mask = _excel_cells(pd.Series(list(frame.columns), dtype=object))
        sheet.append(list(header))
        for cell in sheet[1] if frame.shape[1] else ():
            cell.font = bold
        cells = [_excel_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
        for row in zip(*(values for values, _ in cells), strict=True):
            sheet.append(row)
        # openpyxl makes a formula of a text starting with '=' when it is assigned: make every such text
        # (and every other text a spreadsheet may evaluate) a string cell again.
        for col in np.flatnonzero(header_mask):
            sheet.cell(row=1, column=int(col) + 1).data_type = "s"
        for col, (_, mask) in enumerate(cells):
            for row in np.flatnonzero(mask):
                sheet.cell(row=int(row) + 2, column=col + 1).data_type = "s"
        given = (number_formats or {}).get(name, {})
        for col in range(frame.shape[1]):
            column = frame.iloc[:, col]
            fmt = given.get(frame.columns[col]) or _default_format(column)
            if fmt is None or not len(frame):
                continue
            for cell in sheet.iter_rows(min_row=2, max_row=len(frame) + 1, min_col=col + 1, max_col=col + 1):
                if cell[0].data_type in ("n", "d"):
                    cell[0].number_format = fmt
        if len(frame.columns):
            sheet.freeze_panes = "A2"
        for letter, width in (column_widths or {}).get(name, {}).items():
            sheet.column_dimensions[letter].width = width
    return book


def workbook_to_bytes(book: Workbook) -> bytes:
    """Save an openpyxl workbook (from :func:`frames_to_workbook`) as the bytes of an .xlsx file."""
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def frames_to_excel_bytes(sheets: Mapping[str, pd.DataFrame], *,
                          column_widths: Mapping[str, Mapping[str, float]] | None = None,
                          number_formats: Mapping[str, Mapping[str, str]] | None = None) -> bytes:
    """Write the frames as an Excel workbook (.xlsx bytes), one sheet each; see :func:`frames_to_workbook`."""
    return workbook_to_bytes(frames_to_workbook(sheets, column_widths=column_widths, number_formats=number_formats))


def restore_text(values: pd.Series, *, excel: bool = False) -> pd.Series:
    """Undo the marks of the export writer on an imported text column.

    From CSV, removes the one single quote that :func:`frame_to_csv_bytes` puts before a text
    starting with ``= + - @``, tab or carriage return, or with quotes and then one of those (only
    then: ``'s-Hertogenbosch`` stays as it is). From Excel, where nothing is marked, decodes the
    OOXML escapes ``_xHHHH_`` instead (Excel writes a carriage return as ``_x000D_``).

    Parameters
    ----------
    values : Series
        Text cells as read (missing values stay missing).
    excel : bool
        Whether the cells come from an Excel workbook.

    Returns
    -------
    Series
        The original texts.
    """
    text = _text_accessor(values)
    if text is None:
        return values
    if not excel:
        # Only cells that start with a quote can carry the mark: a cheap test first, the regex on those
        # alone (a 2.6 million row CSV: seconds and a second copy of the table saved).
        marked = text.startswith("'", na=False).to_numpy(dtype=bool)
        if not marked.any():
            return values
        values = values.copy()
        values.loc[marked] = values.loc[marked].str.replace(_MARKED, "", n=1, regex=True)
        return values
    escaped = text.contains("_x", regex=False, na=False).to_numpy(dtype=bool)
    if not escaped.any():
        return values
    values = values.copy()
    values.loc[escaped] = values.loc[escaped].str.replace(_OOXML_ESCAPE, lambda m: chr(int(m.group(1), 16)),
                                                          regex=True)
    return values

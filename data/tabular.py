"""Read spreadsheets the way Dutch offices write them.

CSV from Dutch Excel uses semicolons and decimal commas, is saved as UTF-8 (with or without
BOM) or Windows-1252; StatLine exports use commas or semicolons and '.' for missing. Every
cell is read as text first, so that parsing numbers can report the exact row and column.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.export import restore_text
from data.uploads import MB, TABLE_KINDS, check_path, format_mib

MAX_TABLE_BYTES = 200 * MB  # 200 MiB, as the upload limit
_MISSING = {"", ".", "-", "x", "?", "nan", "NaN", "onbekend", "geheim"}


def check_file(path: str | Path, *, max_bytes: int, allowed: tuple[str, ...] | None = None,
               max_unpacked_bytes: int | None = None) -> Path:
    """Return ``path`` if it exists, is not empty and not larger than ``max_bytes``; else say why.

    With ``allowed`` (kinds as in :mod:`data.uploads`, e.g. ``('csv', 'xlsx')``) the content is
    checked too, as for uploads: it must match the extension, and zips must not be zip bombs.
    """
    path = Path(path)
    if not path.exists():
        raise DataValidationError("Het bestand bestaat niet.", file=str(path))
    size = path.stat().st_size
    if size == 0:
        raise DataValidationError("Het bestand is leeg.", file=path.name)
    if size > max_bytes:
        raise DataValidationError(f"Het bestand is te groot ({format_mib(size)} MiB; maximaal "
                                  f"{format_mib(max_bytes)} MiB).", file=path.name)
    if allowed is not None:
        check_path(path, allowed=allowed, max_bytes=max_bytes, max_unpacked_bytes=max_unpacked_bytes)
    return path


def read_table_file(path: str | Path) -> pd.DataFrame:
    """Read a CSV (any of ; , tab) or Excel file into a DataFrame of strings.

    The marks of :mod:`data.export` are undone (:func:`data.export.restore_text`): the quote in
    front of a text starting with ``= + - @``, tab or CR, and Excel's ``_xHHHH_`` escapes.

    Raises
    ------
    DataValidationError
        Missing, empty, too large or unreadable files, content that is not CSV or Excel (or does
        not match the extension), zip bombs, and files without data rows.
    """
    path = check_file(path, max_bytes=MAX_TABLE_BYTES, allowed=TABLE_KINDS)
    # Read from the file itself, never the whole file as bytes and again as text: a 190 MiB CSV
    # needs about the memory of its table, not four copies of it (bench/bench_uploads.py).
    with path.open("rb") as fh:
        excel = fh.read(4) == b"PK\x03\x04" or path.suffix.lower() in (".xlsx", ".xlsm")
    if excel:
        try:
            frame = pd.read_excel(path, dtype=str, engine="openpyxl")
        except Exception as exc:
            raise DataValidationError("Het Excel-bestand kan niet gelezen worden.", file=path.name) from exc
    else:
        encoding = _encoding(path)
        with path.open(encoding=encoding, newline="") as fh:
            head = fh.read(65536)
        try:
            dialect = csv.Sniffer().sniff(head, delimiters=";,\t")
            sep = dialect.delimiter
        except csv.Error:
            sep = ";" if head.split("\n", 1)[0].count(";") else ","
        try:
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding)
        except pd.errors.ParserError as exc:
            raise DataValidationError(f"Het CSV-bestand is niet goed opgebouwd: {exc}", file=path.name) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataValidationError("Het bestand bevat geen gegevensrijen.", file=path.name)
    # Undo the export writer's marks (quote before '=...', Excel's _x000D_) so an export re-imports unchanged.
    return frame.apply(restore_text, excel=excel)


def _encoding(path: Path) -> str:
    """UTF-8 (BOM optional) when the whole file decodes as such, else Windows-1252; read in 1 MiB pieces."""
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise DataValidationError("De tekenset van het bestand is niet te lezen (geen UTF-8 of Windows-1252).",
                              file=path.name)


def parse_numbers(series: pd.Series, *, file: str, column: str, thousands_dot: bool = False) -> pd.Series:
    """Parse Dutch or English numbers ('1.234,5', '1234.5', '12,5'); '.' and empty are missing.

    With ``thousands_dot`` (for counts, never for coordinates) '2.500' is read as 2500.
    Raises DataValidationError naming the first row (1-based, header = row 1) that is not a number.
    """
    text = series.astype("string").str.strip().str.replace("\u00a0", "", regex=False)
    missing = text.isna() | text.isin(_MISSING)
    has_comma = text.str.contains(",", regex=False).fillna(False)
    cleaned = text.where(~has_comma, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    if thousands_dot:
        grouped = text.str.fullmatch(r"-?\d{1,3}(\.\d{3})+").fillna(False)
        cleaned = cleaned.where(~grouped, text.str.replace(".", "", regex=False))
    numbers = pd.to_numeric(cleaned.where(~missing), errors="coerce")
    bad = numbers.isna() & ~missing
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(f"'{series.iloc[pos]}' is geen getal.", file=file, row=pos + 2, column=column)
    return numbers.astype(float)

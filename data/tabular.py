"""Read spreadsheets the way Dutch offices write them.

CSV from Dutch Excel uses semicolons and decimal commas, is saved as UTF-8 (with or without
BOM) or Windows-1252; StatLine exports use commas or semicolons and '.' for missing. Every
cell is read as text first, so that parsing numbers can report the exact row and column.

The delimiter is judged, not guessed from one line (:func:`csv_delimiter`): over the first
complete lines, each candidate (; tab ,) is counted outside quoted fields with the same quoting
rules as the parser that reads the file, and the one that splits the header and nearly every line
into the same number of fields wins. ``csv.Sniffer`` read a Dutch Excel file with CRLF and one
quoted ';' as comma-separated (issue 13).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.export import restore_text
from data.uploads import MB, TABLE_KINDS, check_path, format_mib

MAX_TABLE_BYTES = 200 * MB  # 200 MiB, as the upload limit
_MISSING = {"", ".", "-", "x", "?", "nan", "NaN", "onbekend", "geheim"}
# The delimiter is judged on at most this much of the start of a CSV (complete lines only).
DELIMITER_HEAD_CHARS = 65536
DELIMITER_HEAD_LINES = 200
# Share of data lines that must have as many fields as the header ("nearly every line"): a few
# ragged lines (a total row, a hand-edited line) do not change the verdict.
DELIMITER_AGREEMENT = 0.9
# Dutch Excel first, then tab, then comma: a ';' file may also split evenly on decimal commas.
DELIMITERS = (";", "\t", ",")


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
            head = fh.read(DELIMITER_HEAD_CHARS)
            whole = fh.read(1) == ""
        sep = csv_delimiter(head, whole=whole)
        try:
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding)
        except pd.errors.ParserError as exc:
            raise DataValidationError(f"Het CSV-bestand is niet goed opgebouwd: {exc}", file=path.name) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataValidationError("Het bestand bevat geen gegevensrijen.", file=path.name)
    # Undo the export writer's marks (quote before '=...', Excel's _x000D_) so an export re-imports unchanged.
    return frame.apply(restore_text, excel=excel)


def csv_delimiter(head: str, *, whole: bool = True) -> str:
    """Judge the delimiter of CSV text: ';', tab or ',' (in that order of preference).

    Each candidate splits ``head`` into records with the quoting rules of the parser that reads the
    file (``"`` opens a quoted field at its start, ``""`` inside it is a quote, quoted fields may
    span lines; CRLF, LF or CR), so a delimiter inside quotes does not count. Over the header and at
    most ``DELIMITER_HEAD_LINES`` records, a candidate qualifies when the header has it at least
    once and at least ``DELIMITER_AGREEMENT`` of the data records (all of them below ten records)
    have exactly as many as the header. Of the qualifying candidates the first of ``DELIMITERS``
    wins: decimal commas in a ';' file ('1,5') rarely split every line evenly, and if they do, ';'
    still comes first.

    When nothing qualifies: the candidate the header has and most records agree with; for a
    single-column header the candidate that occurs least in the records (it splits nothing), so a
    one-column list of 'Jansen, P.' is not split on the comma.

    Parameters
    ----------
    head : str
        The start of the decoded file.
    whole : bool
        True when ``head`` is the whole file; otherwise the text after the last line end is dropped,
        and so is the last record (a quoted field may continue beyond ``head``).

    Returns
    -------
    str
        The delimiter.
    """
    if not whole:
        cut = max(head.rfind("\n"), head.rfind("\r"))
        head = head[:cut + 1] if cut >= 0 else head
    header = np.zeros(len(DELIMITERS), dtype=int)
    agree = np.zeros(len(DELIMITERS))
    occurs = np.zeros(len(DELIMITERS), dtype=int)
    for k, sep in enumerate(DELIMITERS):
        # Records differ per candidate (a quote opens a field only right after its delimiter), so
        # each is judged on its own records.
        reader = csv.reader(io.StringIO(head, newline=""), delimiter=sep, quotechar='"', doublequote=True,
                            strict=False)
        try:  # len(record) - 1 delimiters outside quotes; blank lines are no record
            found = [len(r) - 1 for _, r in zip(range(DELIMITER_HEAD_LINES + 2), reader, strict=False) if r]
        except csv.Error:  # e.g. a NUL character: this candidate cannot read the file
            continue
        found = np.array(found[:-1] if not whole and len(found) > 2 else found, dtype=int)
        if len(found) == 0:
            continue
        header[k], rows = found[0], found[1:]
        agree[k] = (rows == found[0]).mean() if len(rows) else 1.0
        occurs[k] = rows.sum()
        if header[k] > 0 and agree[k] >= (DELIMITER_AGREEMENT if len(rows) >= 10 else 1.0):
            return sep  # DELIMITERS is in order of preference
    if (header > 0).any():  # argmax takes the first of equal scores: the order of DELIMITERS
        return DELIMITERS[int(np.argmax(np.where(header > 0, agree, -1.0)))]
    return DELIMITERS[int(np.argmin(occurs))]


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


def mapping_json(text: str | bytes, *, file: str | None = None):
    """Parse a saved mapping (JSON text, or bytes with or without BOM); a Dutch error with the line if not JSON."""
    try:
        return json.loads(text.decode("utf-8-sig") if isinstance(text, bytes) else text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" (regel {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise DataValidationError(f"De koppeling is geen geldige JSON{where}.", file=file) from exc

"""Check uploaded and imported files before any reader touches them.

A file is judged by its content, not only by its name: the first bytes say whether it is a
zip archive (and then whether it is an Excel workbook), a GeoPackage, a shapefile or text
(CSV, JSON/GeoJSON). The result must agree with the extension and be one of the kinds the
caller accepts. Zip-based files (Excel, zipped shapefiles) are checked for zip bombs from
the central directory only, without unpacking: total unpacked size, compression ratio per
member, number of members, nested archives and unsafe member names. A zipped shapefile must
hold its .shp, .shx, .dbf and .prj; the message says which is missing and what it holds.
Geometry types are named in Dutch in messages (:func:`geometry_type_nl`).

No Streamlit here: the pages and the command line use the same checks.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from data.errors import DataValidationError
from data.formatting import format_number

MB = 1024 * 1024  # one MiB: Streamlit's server checks server.maxUploadSize in these (starlette_routes.py)
DEFAULT_MAX_UPLOAD_MB = 200
MAX_UPLOAD_ENV = "STEUNKAART_MAX_UPLOAD_MB"
MAX_UNPACKED_BYTES = 1024 * MB  # cap on the unpacked size of a zip, whatever the upload limit
UNPACK_FACTOR = 10  # ... and at most this many times the upload limit
MAX_RATIO = 100  # a member compressed more than 100:1 ...
RATIO_MIN_BYTES = 5 * MB  # ... and unpacking to more than this is treated as a bomb
MAX_ZIP_MEMBERS = 10_000
SNIFF_BYTES = MB  # how much of the start of a file is looked at

KINDS = ("csv", "xlsx", "geojson", "json", "gpkg", "zip", "shp")
TABLE_KINDS = ("csv", "xlsx")
AREA_KINDS = ("gpkg", "zip", "geojson", "shp")

# What a kind is called when the extension promises it ("Het bestand is geen ...").
_EXPECTED = {
    "csv": "CSV-bestand",
    "xlsx": "Excel-bestand (.xlsx)",
    "geojson": "GeoJSON-bestand",
    "json": "JSON-bestand",
    "gpkg": "GeoPackage",
    "zip": "zip-archief",
    "shp": "shapefile (.shp)",
}
# What the content turned out to be ("de inhoud is ...").
_CONTENT = {
    "csv": "tekst (CSV)",
    "jsontext": "JSON-tekst",
    "json": "JSON-tekst",
    "geojson": "GeoJSON",
    "xlsx": "een Excel-bestand (.xlsx)",
    "office": "een ander Office-bestand (Word of PowerPoint)",
    "opendocument": "een OpenDocument-bestand (LibreOffice)",
    "zip": "een zip-archief",
    "gpkg": "een GeoPackage",
    "sqlite": "een SQLite-database die geen GeoPackage is",
    "shp": "een shapefile (.shp)",
    "utf16": "tekst in UTF-16",
    "ole": "een oud Office-bestand (.xls of .doc)",
    "program": "een programma",
    "pdf": "een PDF-document",
    "archive": "een ander soort archief (gzip, 7z, rar of bzip2)",
    "image": "een afbeelding",
    "binary": "binaire gegevens van onbekende soort",
}
# Kinds as they are listed when a kind is not accepted ("Toegestaan: ...").
_ALLOWED_LABEL = {
    "csv": "CSV",
    "xlsx": "Excel (.xlsx)",
    "geojson": "GeoJSON",
    "json": "JSON",
    "gpkg": "GeoPackage",
    "zip": "gezipte shapefile (.zip)",
    "shp": "shapefile (.shp)",
}
_EXTENSION_KIND = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".geojson": "geojson", ".json": "json",
    ".gpkg": "gpkg",
    ".zip": "zip",
    ".shp": "shp",
}
_MAGIC = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # empty archive
    (b"SQLite format 3\x00", "sqlite"),
    (b"\x00\x00\x27\x0a", "shp"),  # shapefile file code 9994, big-endian
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"%PDF", "pdf"),
    (b"MZ", "program"),
    (b"\x7fELF", "program"),
    (b"\xca\xfe\xba\xbe", "program"),
    (b"\xcf\xfa\xed\xfe", "program"),
    (b"\x1f\x8b", "archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive"),
    (b"Rar!\x1a\x07", "archive"),
    (b"BZh", "archive"),
    (b"\xfd7zXZ\x00", "archive"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
)
_GPKG_IDS = (b"GPKG", b"GP10", b"GP11")  # application_id at offset 68 (1.2+, 1.0, 1.1)
_NESTED_SUFFIXES = (".zip", ".gz", ".tgz", ".7z", ".rar", ".tar", ".bz2", ".xz", ".zst", ".jar", ".cab")
_NESTED_MAGIC = tuple(magic for magic, kind in _MAGIC if kind == "archive") + (b"PK\x03\x04", b"PK\x05\x06")
_GEOJSON_TYPE = re.compile(
    r'"type"\s*:\s*"(FeatureCollection|Feature|Point|MultiPoint|LineString|MultiLineString|Polygon|'
    r'MultiPolygon|GeometryCollection)"')
_TEXT_CONTROLS = set(range(32)) - {9, 10, 11, 12, 13, 26}

# Dutch names of geometry types, for every message that names one; keyed by the OGC/shapely
# name, and listed in the order of ``shapely.get_type_id`` (0 = Point ... 7 = GeometryCollection).
GEOMETRY_TYPES_NL = {
    "Point": "punt",
    "LineString": "lijn",
    "LinearRing": "ring",
    "Polygon": "vlak",
    "MultiPoint": "multipunt",
    "MultiLineString": "multilijn",
    "MultiPolygon": "multivlak",
    "GeometryCollection": "geometrieverzameling",
}
# The parts of a shapefile that an import needs, and what each holds (for the message when one is missing).
SHAPEFILE_PARTS = {
    ".shp": "daarin staan de vlakken (de geometrie)",
    ".shx": "dat is de index bij het .shp-bestand",
    ".dbf": "daarin staan de kerncijfers",
    ".prj": "daarin staat het coördinatenstelsel",
}
_OTHER_MAP_SUFFIXES = (".gpkg", ".geojson", ".json")


def max_upload_mb() -> float:
    """The upload limit in MiB: ``$STEUNKAART_MAX_UPLOAD_MB`` when set to a positive number, else 200."""
    raw = os.environ.get(MAX_UPLOAD_ENV, "").strip().replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_MAX_UPLOAD_MB
    return value if value > 0 else DEFAULT_MAX_UPLOAD_MB


def max_upload_bytes() -> int:
    """The upload limit in bytes, read from the environment at call time."""
    return int(max_upload_mb() * MB)


MAX_UPLOAD_BYTES = max_upload_bytes()


def geometry_type_nl(kind: str | int | None) -> str:
    """Return the Dutch name of a geometry type: ``'Polygon'`` or shapely type id 3 -> ``'vlak'``.

    Parameters
    ----------
    kind : str, int or None
        An OGC/shapely type name (``geom_type``) or a ``shapely.get_type_id`` number; ``None``
        or -1 is a missing geometry.

    Returns
    -------
    str
        ``'punt'``, ``'lijn'``, ``'vlak'``, ``'multivlak'``, ..., ``'geen geometrie'`` when missing,
        or the given name itself when it is not a known type.
    """
    if kind is None or isinstance(kind, float) or kind == -1:
        return "geen geometrie"
    if not isinstance(kind, str):
        names = list(GEOMETRY_TYPES_NL)
        return GEOMETRY_TYPES_NL[names[int(kind)]] if 0 <= int(kind) < len(names) else f"type {kind}"
    return GEOMETRY_TYPES_NL.get(kind, kind)


def check_shapefile_parts(names: list[str], *, file: str) -> None:
    """Refuse a zipped or loose shapefile that lacks one of its parts, saying what that part holds.

    Parameters
    ----------
    names : list of str
        The member names of the zip (or the files next to a ``.shp``).
    file : str
        File name used in the message.

    Raises
    ------
    DataValidationError
        When a shapefile has no ``.shp``, ``.shx``, ``.dbf`` or ``.prj`` next to its other parts,
        or when a zip holds no map at all (no shapefile, GeoPackage or GeoJSON).
    """
    files = [PurePosixPath(n.replace("\\", "/")) for n in names if not n.endswith(("/", "\\"))]
    stems: dict[str, set[str]] = {}
    for member in files:
        if member.suffix.lower() in SHAPEFILE_PARTS and not member.name.startswith("."):
            stems.setdefault(str(member.with_suffix("")).lower(), set()).add(member.suffix.lower())
    if not stems:
        if any(m.suffix.lower() in _OTHER_MAP_SUFFIXES for m in files):
            return  # a GeoPackage or GeoJSON in a zip: GDAL reads it, and the reader judges it
        raise DataValidationError(
            "De zip bevat geen shapefile: het .shp-bestand ontbreekt in de zip; "
            f"{SHAPEFILE_PARTS['.shp']}. Zip de .shp, .shx, .dbf en .prj van de shapefile samen.", file=file)
    in_zip = file.lower().endswith(".zip")
    for stem, present in sorted(stems.items()):
        missing = [suffix for suffix in SHAPEFILE_PARTS if suffix not in present]
        if not missing:
            continue
        where = "in de zip" if in_zip else "naast het .shp-bestand"
        which = f" (shapefile '{PurePosixPath(stem).name}')" if len(stems) > 1 else ""
        text = " ".join(f"Het {suffix}-bestand ontbreekt {where}{which}; {SHAPEFILE_PARTS[suffix]}."
                        for suffix in missing)
        raise DataValidationError(
            f"{text} Zet de .shp, .shx, .dbf en .prj van de shapefile samen "
            + ("in één zip." if in_zip else "in één map."), file=file)


def format_mib(size: int, *, decimals: int | None = None) -> str:
    """A size in bytes as Dutch MiB text without the unit: ``209715200`` -> ``'200'``, ``524288`` -> ``'0,5'``."""
    value = size / MB
    if decimals is None:
        decimals = 0 if value >= 10 or value == int(value) else 1
    return format_number(value, decimals)


def _too_large(size: int, limit: int) -> str:
    """The Dutch refusal of a file over the limit; a size that rounds to the limit is given in bytes."""
    shown, most = f"{format_mib(size)} MiB", f"{format_mib(limit)} MiB"
    if shown == most:
        shown, most = f"{format_number(size)} bytes", f"{most} = {format_number(limit)} bytes"
    return (f"Het bestand is te groot ({shown}; maximaal {most}). Verklein of splits het bestand, of vraag de "
            "beheerder de grens te verhogen.")


class _BufferReader(io.RawIOBase):
    """A seekable read-only file over a buffer, so zipfile can read an upload without copying it."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        chunk = self._view[self._pos:self._pos + len(buffer)]
        buffer[:len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


def check_upload(name: str, data: bytes | memoryview, *, allowed: tuple[str, ...],
                 max_bytes: int | None = None, max_unpacked_bytes: int | None = None) -> str:
    """Check an uploaded file by its content and return its kind.

    Parameters
    ----------
    name : str
        The file name as the user chose it; its extension must agree with the content.
    data : bytes or memoryview
        The whole file (``UploadedFile.getbuffer()`` works without a copy).
    allowed : tuple of str
        Kinds accepted here, from ``'csv'``, ``'xlsx'``, ``'geojson'``, ``'json'``, ``'gpkg'``,
        ``'zip'`` (zipped shapefile) and ``'shp'``. ``'json'`` also accepts GeoJSON.
    max_bytes : int, optional
        Size limit in bytes; by default ``$STEUNKAART_MAX_UPLOAD_MB`` MiB (200 MiB). Checked first, on
        ``len(data)``, before any byte of the content is looked at.
    max_unpacked_bytes : int, optional
        Limit on the unpacked size of a zip; by default 10 times ``max_bytes``, at most 1 GB.

    Returns
    -------
    str
        The detected kind, one of ``allowed`` (or ``'geojson'`` when only ``'json'`` is allowed).

    Raises
    ------
    DataValidationError
        Empty or too large file, content that does not match the extension or is not
        allowed, a damaged zip or a possible zip bomb; the message is Dutch and names the file.
    """
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    name = Path(name).name
    return _check(name, len(view), bytes(view[:SNIFF_BYTES]), lambda: _BufferReader(view), allowed,
                  max_bytes, max_unpacked_bytes)


def check_path(path: str | Path, *, allowed: tuple[str, ...] | None = None, max_bytes: int | None = None,
               max_unpacked_bytes: int | None = None) -> str:
    """Like :func:`check_upload` for a file on disk (read in part, never loaded whole).

    ``allowed=None`` accepts every kind in :data:`KINDS`; content and extension must still agree.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError("Het bestand bestaat niet.", file=str(path))
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    return _check(path.name, path.stat().st_size, head, lambda: path.open("rb"), allowed, max_bytes,
                  max_unpacked_bytes)


def _check(name: str, size: int, head: bytes, opener: Callable[[], BinaryIO], allowed: tuple[str, ...] | None,
           max_bytes: int | None, max_unpacked_bytes: int | None) -> str:
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if size == 0:
        raise DataValidationError("Het bestand is leeg.", file=name)
    if size > limit:
        raise DataValidationError(_too_large(size, limit), file=name)
    content = _sniff(head, complete=size <= len(head))
    members: list[zipfile.ZipInfo] = []
    if content == "zip":
        try:
            with opener() as handle, zipfile.ZipFile(handle) as archive:
                members = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise DataValidationError("Het zip-bestand is beschadigd en kan niet gelezen worden.",
                                      file=name) from exc
        content = _zip_content(members)
    kind = _resolve(name, content, head)
    allowed = KINDS if allowed is None else allowed
    if not (kind in allowed or (kind == "geojson" and "json" in allowed)):
        labels = ", ".join(_ALLOWED_LABEL[k] for k in allowed if k in _ALLOWED_LABEL)
        raise DataValidationError(
            f"Dit soort bestand kan hier niet gebruikt worden: de inhoud is {_CONTENT.get(kind, kind)}. "
            f"Toegestaan: {labels}.", file=name)
    if content in ("xlsx", "zip"):
        unpacked = min(UNPACK_FACTOR * limit, MAX_UNPACKED_BYTES) if max_unpacked_bytes is None \
            else max_unpacked_bytes
        _check_zip(name, members, opener, max_unpacked=unpacked, nested=content == "zip")
    return kind


def _sniff(head: bytes, *, complete: bool) -> str:
    """Classify the start of a file: a binary kind, 'zip', 'text' or 'jsontext'."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "sqlite":
                return "gpkg" if head[68:72] in _GPKG_IDS else "sqlite"
            return kind
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    if b"\x00" in head:
        return "binary"
    text = _decode_text(head, complete=complete)
    if text is None:
        return "binary"
    controls = sum(1 for ch in text if ord(ch) in _TEXT_CONTROLS)
    if controls > max(2, len(text) // 100):
        return "binary"
    return "jsontext" if text.lstrip()[:1] in ("{", "[") else "text"


def _decode_text(head: bytes, *, complete: bool) -> str | None:
    """Decode as UTF-8 (BOM optional) or Windows-1252, as the table reader does; ``None`` if neither."""
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
    except UnicodeDecodeError:
        pass
    try:
        return head.decode("cp1252")
    except UnicodeDecodeError:
        return None


def _zip_content(members: list[zipfile.ZipInfo]) -> str:
    """Tell an Excel workbook (and other Office files) from a plain zip by the member names."""
    names = {m.filename for m in members}
    if "[Content_Types].xml" in names:
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        return "office"
    if "mimetype" in names and "content.xml" in names:
        return "opendocument"
    return "zip"


def _resolve(name: str, content: str, head: bytes) -> str:
    """The kind of the file: its content, which must agree with what the extension promises."""
    expected = _EXTENSION_KIND.get(Path(name).suffix.lower())
    if content in ("text", "jsontext"):
        geo = content == "jsontext" and bool(_GEOJSON_TYPE.search(head.decode("utf-8", "replace")))
        if expected == "csv" or (expected is None and content == "text"):
            return "csv"
        if content == "jsontext" and expected in ("geojson", "json", None):
            return "geojson" if expected == "geojson" or geo else "json"
        label = "csv" if content == "text" else ("geojson" if geo else "jsontext")
    else:
        if expected is None or expected == content:
            return content
        label = content
    raise DataValidationError(
        f"Het bestand is geen {_EXPECTED[expected]}: de inhoud is {_CONTENT.get(label, label)}. "
        + _hint(expected, label), file=name)


def _hint(expected: str, content: str) -> str:
    if content == "utf16":
        return "Sla het in Excel op als 'CSV UTF-8 (door komma's gescheiden)' of als Excel-werkmap (.xlsx)."
    if expected == "xlsx" and content == "ole":
        return "Open het in Excel en sla het op als Excel-werkmap (.xlsx)."
    if expected == "xlsx" and content == "csv":
        return "Geef het de extensie .csv, of open het in Excel en sla het op als Excel-werkmap (.xlsx)."
    if expected == "csv" and content == "xlsx":
        return "Geef het de extensie .xlsx, of sla het in Excel op als CSV."
    if expected == "zip" and content == "xlsx":
        return "Geef het de extensie .xlsx als het een werkmap is."
    return "Kies het juiste bestand, of geef het de extensie die bij de inhoud past."


def _unsafe_name(member: str) -> bool:
    """Absolute paths, drive letters and '..' would unpack outside the target folder."""
    posix = member.replace("\\", "/")
    return (posix.startswith("/") or re.match(r"^[A-Za-z]:", posix) is not None
            or ".." in PurePosixPath(posix).parts)


def _check_zip(name: str, members: list[zipfile.ZipInfo], opener: Callable[[], BinaryIO], *,
               max_unpacked: int, nested: bool) -> None:
    """Refuse possible zip bombs, judged from the central directory (nothing is unpacked)."""
    if len(members) > MAX_ZIP_MEMBERS:
        raise DataValidationError(
            f"Het zip-archief bevat te veel bestanden ({format_number(len(members))}; maximaal "
            f"{format_number(MAX_ZIP_MEMBERS)}). Mogelijk is het een zip-bom.", file=name)
    if nested and not any(not m.is_dir() for m in members):
        raise DataValidationError("Het zip-archief is leeg.", file=name)
    total = 0
    for member in members:
        if _unsafe_name(member.filename):
            raise DataValidationError(
                f"Het zip-archief bevat een onveilige bestandsnaam ('{member.filename}'): bestanden mogen niet "
                "buiten de map uitgepakt worden.", file=name)
        if member.flag_bits & 0x1:
            raise DataValidationError(
                f"'{member.filename}' in het zip-archief is met een wachtwoord beveiligd; zip het opnieuw "
                "zonder wachtwoord.", file=name)
        if nested and member.filename.lower().endswith(_NESTED_SUFFIXES):
            raise DataValidationError(
                f"Het zip-archief bevat een ander archief ('{member.filename}'). Pak dat eerst uit en zip de "
                "bestanden zelf.", file=name)
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO:
            raise DataValidationError(
                f"'{member.filename}' in het zip-archief is verdacht sterk ingepakt (verhouding "
                f"{format_number(ratio)}:1; maximaal {format_number(MAX_RATIO)}:1). Het bestand wordt "
                "geweigerd als mogelijke zip-bom.",
                file=name)
        total += member.file_size
        if total > max_unpacked:
            raise DataValidationError(
                f"Het zip-archief is uitgepakt te groot (meer dan {format_mib(max_unpacked)} MiB). Mogelijk is het een "
                "zip-bom.", file=name)
    if nested:
        _check_nested_content(name, members, opener)
        check_shapefile_parts([m.filename for m in members if not m.is_dir()], file=name)


def _check_nested_content(name: str, members: list[zipfile.ZipInfo], opener: Callable[[], BinaryIO]) -> None:
    """Archives hidden under another name: look at the first bytes of each member (a few bytes unpacked)."""
    candidates = [m for m in members if not m.is_dir() and m.file_size >= 4]
    if not candidates:
        return
    nested = None
    try:
        with opener() as handle, zipfile.ZipFile(handle) as archive:
            for member in candidates:
                with archive.open(member) as stream:
                    if stream.read(8).startswith(_NESTED_MAGIC):
                        nested = member.filename
                        break
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, zlib.error) as exc:
        raise DataValidationError("Het zip-bestand is beschadigd en kan niet gelezen worden.", file=name) from exc
    if nested is not None:
        raise DataValidationError(
            f"Het zip-archief bevat een ander archief ('{nested}'). Pak dat eerst uit en zip de bestanden zelf.",
            file=name)

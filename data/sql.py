"""The two SQL dialects of the store: SQLite (the GeoPackage) and PostgreSQL with PostGIS.

The store's domain writes (:mod:`data.store`) are written once, in the SQL that SQLite and PostgreSQL share,
against a DB-API connection with ``execute``/``executemany``/``total_changes``/``in_transaction``. For
SQLite that is the :class:`SqliteConnection` itself; for PostgreSQL :class:`PgConnection` wraps a psycopg 3
connection and translates the few SQLite forms the store uses, once per statement (cached):

* ``?`` placeholders become ``%s`` (and a literal ``%`` becomes ``%%``);
* ``x IS ?`` becomes ``x IS NOT DISTINCT FROM %s`` (SQLite's NULL-safe equality);
* ``INSERT OR IGNORE INTO ...`` becomes ``INSERT INTO ... ON CONFLICT DO NOTHING``;
* the column ``user`` (a reserved word in PostgreSQL) is quoted;
* geometries travel as GeoPackage binary blobs on both: an ``INSERT``/``UPDATE`` of ``geom`` wraps the value in
  ``steunkaart_gpkg_geom(...)`` and a ``SELECT`` of ``geom`` in ``steunkaart_geom_gpkg(...)`` (SQL functions the
  PostGIS store creates), so the PostGIS column is a real ``geometry(..., 28992)`` with a GiST index while the
  Python side is the same for both stores.

Anything else SQLite-only (``INSERT OR REPLACE``, ``PRAGMA``, ``sqlite_master``) is refused with an error, so a
new statement that would not run on PostgreSQL fails in the tests of both stores rather than in production.
Use :func:`set_meta`, :func:`table_names` and :func:`column_names` for those.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import re
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

try:  # psycopg is only needed for the PostGIS store
    import psycopg

    # DataError: a value PostgreSQL refuses for the column's type (SQLite stores it anyway)
    INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError, psycopg.DataError)
    DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)
except ImportError:  # pragma: no cover - psycopg is in requirements.txt
    psycopg = None
    INTEGRITY_ERRORS = (sqlite3.IntegrityError,)
    DATABASE_ERRORS = (sqlite3.Error,)


class SqliteConnection(sqlite3.Connection):
    """A sqlite3 connection that says which dialect it speaks (``sqlite3.connect(..., factory=...)``)."""

    dialect = SQLITE

    def read_frame(self, sql: str, params=()) -> pd.DataFrame:
        return pd.read_sql_query(sql, self, params=params or None)


def dialect_of(conn) -> str:
    return getattr(conn, "dialect", SQLITE)


def is_postgres(conn) -> bool:
    return dialect_of(conn) == POSTGRESQL


def read_frame(conn, sql: str, params=()) -> pd.DataFrame:
    """A query's result as a DataFrame, on either connection."""
    if isinstance(conn, sqlite3.Connection) and not hasattr(conn, "read_frame"):
        return pd.read_sql_query(sql, conn, params=params or None)
    return conn.read_frame(sql, params)


# --------------------------------------------------------------------------- Arrow reads
#
# A GeoPackage table is read as Arrow columns (GDAL's Arrow stream, in a helper process) and turned into exactly
# the frame the tuple path gives (pandas.read_sql_query followed by the store's casts): a column without any
# value is object None (and its cast of that), text is pandas' ``str``, REAL float64, INTEGER Int64, the store's
# booleans ``boolean``, DATE text through ``pd.to_datetime(errors="coerce")``. PostgreSQL reads through tuples:
# ``COPY (query) TO STDOUT`` in CSV into pyarrow was measured (1M ties) about 1,2x slower than psycopg's fetchall,
# as libpq hands COPY out one row per call.

TEXT, REAL, INTEGER, BOOLEAN, DATE, BLOB = "text", "real", "integer", "boolean", "date", "blob"


def column_kind(sqltype: str, is_bool: bool = False) -> str:
    """The read kind of a column of the schema (its SQL type with constraints)."""
    if is_bool:
        return BOOLEAN
    head = sqltype.split()[0].upper() if sqltype.strip() else "TEXT"
    return {"INTEGER": INTEGER, "REAL": REAL, "DATE": DATE, "BLOB": BLOB}.get(head, TEXT)


def sqlite_literal(value) -> str | None:
    """``value`` as an SQLite literal equal to what sqlite3 binds for it; None when there is no safe literal."""
    if value is None:
        return "NULL"
    if value is True or value is False:
        return str(int(value))
    if isinstance(value, int | np.integer):
        value = int(value)
        return str(value) if -(2 ** 63) <= value < 2 ** 63 else None
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return "NULL"  # what sqlite3 binds for NaN
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        if "\x00" in value:
            return None
        return "'" + value.replace("'", "''") + "'"
    return None


def inline_params(sql: str, params) -> str | None:
    """``sql`` with each ``?`` outside quotes replaced by its parameter as a literal (GDAL takes no parameters);
    None when a parameter has no safe literal or the count does not match."""
    params = tuple(params or ())
    out, used = [], 0
    for literal, quoted, plain in _SEGMENTS.findall(sql):
        if literal or quoted:
            out.append(literal or quoted)
            continue
        pieces = plain.split("?")
        out.append(pieces[0])
        for piece in pieces[1:]:
            if used >= len(params):
                return None
            text = sqlite_literal(params[used])
            if text is None:
                return None
            used += 1
            out.append(text)
            out.append(piece)
    return "".join(out) if used == len(params) else None


# GDAL carries its own copy of SQLite. Two copies of SQLite in one process break SQLite's locking (POSIX locks are
# per process: GDAL closing the file drops the locks of this process's sqlite3 connections, and takes itself for the
# last connection and removes the -shm file under them), which corrupts the store. So GDAL reads the store in a helper
# process of its own (started on the first large read, kept, one read at a time), as any other process would, and
# hands the table back as an Arrow IPC stream through a pipe.
_GDAL_WORKER = r"""
import json, struct, sys
import pyarrow as pa, pyogrio
inp, out = sys.stdin.buffer, sys.stdout.buffer
for line in iter(inp.readline, b""):
    try:
        req = json.loads(line)
        if req["sql"] is not None:
            source = pyogrio.open_arrow(req["path"], sql=req["sql"], sql_dialect="SQLITE", use_pyarrow=True)
        else:
            source = pyogrio.open_arrow(req["path"], layer=req["layer"], columns=req["columns"], return_fids=True,
                                        use_pyarrow=True)
        with source as (meta, reader), pa.OSFile(req["out"], "wb") as sink, \
                pa.ipc.new_file(sink, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
        head = json.dumps({"geometry_name": meta.get("geometry_name") or "",
                           "fid_column": meta.get("fid_column") or "OGC_FID"}).encode()
        out.write(struct.pack("<BQ", 0, len(head)))
        out.write(head)
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}".encode()
        out.write(struct.pack("<BQ", 1, len(message)))
        out.write(message)
    out.flush()
"""
_GDAL_LOCK = threading.Lock()
_GDAL_PROCESS: list = []  # the helper process, once started


def _gdal_process():
    if _GDAL_PROCESS and _GDAL_PROCESS[0].poll() is None:
        return _GDAL_PROCESS[0]
    _stop_gdal_process()
    proc = subprocess.Popen([sys.executable, "-c", _GDAL_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, close_fds=True)
    _GDAL_PROCESS.append(proc)
    return proc


def _stop_gdal_process() -> None:
    """End the helper process (at exit; after a broken pipe). It also ends by itself when this process ends."""
    while _GDAL_PROCESS:
        proc = _GDAL_PROCESS.pop()
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()


atexit.register(_stop_gdal_process)


def _read_exactly(stream, n: int) -> bytearray:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        step = stream.readinto(view[got:])
        if not step:
            raise EOFError("the GDAL helper process ended")
        got += step
    return buf


def read_gpkg_arrow(path, sql: str | None = None, *, layer: str | None = None, columns=None):
    """One read of the GeoPackage at ``path`` through GDAL's Arrow stream (pyogrio, in the helper process): an
    SQLite ``SELECT`` (``sql``), or the ``columns`` of a whole ``layer`` in fid order.

    The helper writes the batches as an Arrow IPC file in shared memory (``/dev/shm`` where there is one), read
    here through a memory map without a copy. Returns ``(table, geometry_name)``: a pyarrow Table and the name of
    its WKB geometry column ("" when none). One statement, so one read snapshot (WAL: never blocked by a
    writer, never half a write).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    fd, out = tempfile.mkstemp(prefix="steunkaart-arrow-", suffix=".arrow",
                               dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.close(fd)
    try:
        request = (json.dumps({"path": str(Path(path).resolve()), "sql": sql, "layer": layer, "out": out,
                               "columns": None if columns is None else list(columns)}) + "\n").encode()
        with _GDAL_LOCK:
            for attempt in (0, 1):
                proc = _gdal_process()
                try:
                    proc.stdin.write(request)
                    proc.stdin.flush()
                    status, size = struct.unpack("<BQ", _read_exactly(proc.stdout, 9))
                    head = bytes(_read_exactly(proc.stdout, size))
                    break
                except (OSError, EOFError, struct.error):
                    _stop_gdal_process()  # a helper that died is started again, once
                    if attempt:
                        raise
        if status:
            raise RuntimeError(head.decode("utf-8", "replace"))
        with pa.memory_map(out) as source:
            table = pa.ipc.open_file(source).read_all()
    finally:
        os.unlink(out)
    info = json.loads(head)
    if sql is None:
        fids = table.column(info["fid_column"])
        if len(fids) > 1 and not pc.all(pc.greater(fids[1:], fids[:-1])).as_py():
            table = table.take(pc.sort_indices(fids))  # a whole layer comes in rowid order; this is the guard
    return table, info["geometry_name"]


def frame_from_arrow(table, kinds: Mapping[str, str]) -> pd.DataFrame:
    """The columns ``kinds`` (name -> kind) of an Arrow table as the store's frame (see above).

    The columns with a value go through one ``Table.to_pandas`` (integers to Int64, booleans to ``boolean``,
    text to ``str`` without copying the strings); a column without any value gets what the tuple path infers.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    ready, empty = {}, {}
    for name, kind in kinds.items():
        column = table.column(name)
        if column.null_count == n:  # no value at all (also an empty table)
            empty[name] = _no_values(kind, n)
            continue
        if kind in (BOOLEAN, INTEGER) and not pa.types.is_integer(column.type):
            column = pc.cast(column, pa.int64())
        if kind == BOOLEAN:
            column = pc.not_equal(column, 0)
        elif kind == INTEGER:
            column = pc.cast(column, pa.int64())
        elif kind == REAL:
            column = pc.cast(column, pa.float64())
        elif kind in (TEXT, DATE) and not pa.types.is_string(column.type):
            column = pc.cast(column, pa.string())
        ready[name] = column
    mapper = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get
    frame = pa.table(ready).to_pandas(types_mapper=mapper) if ready else pd.DataFrame(index=pd.RangeIndex(n))
    for name, kind in kinds.items():
        if name in empty:
            frame[name] = empty[name]
        elif kind == DATE:
            frame[name] = pd.to_datetime(frame[name], errors="coerce")
    return frame[list(kinds)] if list(frame.columns) != list(kinds) else frame


def _no_values(kind: str, n: int):
    """A column without any value as the tuple path gives it: object None, then the store's cast."""
    if kind == BOOLEAN:
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    if kind == INTEGER:
        return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))
    nothing = pd.Series(np.full(n, None, dtype=object))
    return pd.to_datetime(nothing, errors="coerce") if kind == DATE else nothing


def set_meta(conn, key: str, value: str) -> None:
    """Insert or replace one row of ``steunkaart_meta`` (SQLite's INSERT OR REPLACE, PostgreSQL's upsert)."""
    if is_postgres(conn):
        conn.execute("INSERT INTO steunkaart_meta (key, value) VALUES (?, ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (key, value))
    else:
        conn.execute("INSERT OR REPLACE INTO steunkaart_meta (key, value) VALUES (?, ?)", (key, value))


def table_names(conn) -> set[str]:
    """The names of the tables in the store's database (for migrations)."""
    if is_postgres(conn):
        return {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")}
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def column_names(conn, table: str) -> set[str]:
    """The columns of one table (for migrations)."""
    if is_postgres(conn):
        return {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                           "WHERE table_schema = current_schema() AND table_name = ?", (table,))}
    return {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}


# --------------------------------------------------------------------------- PostgreSQL

_SEGMENTS = re.compile(r"('(?:[^']|'')*')|(\"[^\"]*\")|([^'\"]+)", re.S)
_REFUSED = re.compile(r"\bINSERT\s+OR\s+REPLACE\b|\bPRAGMA\b|\bsqlite_master\b|\bBEGIN\s+IMMEDIATE\b", re.I)
_GEOM_ID = re.compile(r'(?<![\w."])("geom"|geom)(?![\w"])')
# SQLite's NULL-safe 'a IS b' / 'a IS NOT b' (not IS NULL, IS TRUE, ...) and its two-argument MAX/MIN.
_KEYWORDS_AFTER_IS = r"(?!(?:NOT|NULL|DISTINCT|TRUE|FALSE|UNKNOWN)\b)"
_IS_NOT = re.compile(r"\bIS\s+NOT\s+" + _KEYWORDS_AFTER_IS, re.I)
_IS = re.compile(r"\bIS\s+" + _KEYWORDS_AFTER_IS, re.I)
_SCALAR_MAX = re.compile(r"\b(MAX|MIN)\(\s*([^(),]+?)\s*,\s*([^(),]+?)\s*\)", re.I)
_USER_ID = re.compile(r'(?<![\w."%])user(?![\w"(])', re.I)


@lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """SQLite-flavoured SQL of the store -> PostgreSQL (see the module docstring)."""
    if _REFUSED.search(sql):
        raise ValueError(f"SQLite-only SQL, not portable to PostgreSQL: {sql[:120]}")
    text = sql.strip()
    upper = text.upper()
    ignore = upper.startswith("INSERT OR IGNORE INTO")
    if ignore:
        text = "INSERT INTO" + text[len("INSERT OR IGNORE INTO"):]
        upper = text.upper()
    if upper.startswith("INSERT INTO") and re.search(r'\(\s*[^)]*"?geom"?[^)]*\)\s*VALUES', text, re.S):
        text = _wrap_insert_geom(text)
    elif upper.startswith("UPDATE"):
        text = re.sub(r'(?<![\w"])("geom"|geom)\s*=\s*COALESCE\(\?', r'\1 = COALESCE(steunkaart_gpkg_geom(?)', text)
        text = re.sub(r'(?<![\w"])("geom"|geom)\s*=\s*\?', r'\1 = steunkaart_gpkg_geom(?)', text)
    elif upper.startswith("SELECT"):
        text = _wrap_select_geom(text)
    out = []
    for literal, quoted, plain in _SEGMENTS.findall(text):
        if literal:
            out.append(literal.replace("%", "%%"))
        elif quoted:
            out.append(quoted)
        else:
            plain = plain.replace("%", "%%")
            plain = _IS_NOT.sub("IS DISTINCT FROM ", plain)
            plain = _IS.sub("IS NOT DISTINCT FROM ", plain)
            plain = _SCALAR_MAX.sub(lambda m: ("GREATEST(" if m.group(1).upper() == "MAX" else "LEAST(")
                                    + m.group(2) + ", " + m.group(3) + ")", plain)
            plain = _USER_ID.sub('"user"', plain)
            out.append(plain.replace("?", "%s"))
    text = "".join(out)
    if ignore:
        text += " ON CONFLICT DO NOTHING"
    return text


def _wrap_insert_geom(text: str) -> str:
    match = re.match(r'(INSERT INTO\s+\S+\s*\()([^)]*)(\)\s*VALUES\s*\()([^)]*)(\).*)$', text, re.S | re.I)
    if match is None:
        return text
    columns = [c.strip().strip('"') for c in match.group(2).split(",")]
    marks = [m.strip() for m in match.group(4).split(",")]
    if len(columns) != len(marks) or "geom" not in columns:
        return text
    at = columns.index("geom")
    marks[at] = f"steunkaart_gpkg_geom({marks[at]})"
    return match.group(1) + match.group(2) + match.group(3) + ", ".join(marks) + match.group(5)


def _wrap_select_geom(text: str) -> str:
    """``SELECT a, geom FROM t`` -> ``SELECT a, steunkaart_geom_gpkg("geom") AS "geom" FROM t`` (select list)."""
    match = re.match(r"(SELECT\s+)(.*?)(\s+FROM\s.*)$", text, re.S | re.I)
    if match is None:
        return text
    head = _GEOM_ID.sub('steunkaart_geom_gpkg("geom") AS "geom"', match.group(2))
    return match.group(1) + head + match.group(3)


def _plain(value):
    """A parameter as SQLite would store it: bools as 0/1, NaN as NULL."""
    if value is True or value is False:
        return int(value)
    if value.__class__ is float and math.isnan(value):
        return None
    return value


def _row(params) -> tuple:
    if params is None:
        return ()
    if isinstance(params, dict):
        raise TypeError("named parameters are not used by the store")
    return tuple(_plain(v) for v in params)


class PgCursor:
    """A psycopg cursor that accepts the store's SQLite-flavoured SQL."""

    def __init__(self, owner: PgConnection) -> None:
        self._owner = owner
        self._cur = owner.raw.cursor()

    def execute(self, sql: str, params=()) -> PgCursor:
        self._cur.execute(translate(sql), _row(params))
        self._owner._count(self._cur.rowcount)
        return self

    def executemany(self, sql: str, seq) -> PgCursor:
        rows = [_row(p) for p in seq]
        if rows:
            self._cur.executemany(translate(sql), rows)
            self._owner._count(self._cur.rowcount)
        return self

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def description(self):
        return self._cur.description

    def fetchone(self):
        return self._cur.fetchone()

    def fetchall(self):
        return self._cur.fetchall()

    def fetchmany(self, size: int = 1000):
        return self._cur.fetchmany(size)

    def __iter__(self):
        return iter(self._cur)

    def close(self) -> None:
        self._cur.close()


class PgConnection:
    """A psycopg 3 connection (autocommit; the store issues BEGIN/COMMIT itself) with the sqlite3 surface the store
    uses: ``execute``, ``executemany``, ``cursor``, ``total_changes``, ``in_transaction``, ``read_frame``."""

    dialect = POSTGRESQL

    def __init__(self, raw) -> None:
        self.raw = raw
        self.total_changes = 0

    def _count(self, rowcount: int) -> None:
        if rowcount and rowcount > 0:
            self.total_changes += rowcount

    def cursor(self) -> PgCursor:
        return PgCursor(self)

    def execute(self, sql: str, params=()) -> PgCursor:
        return self.cursor().execute(sql, params)

    def executemany(self, sql: str, seq) -> PgCursor:
        return self.cursor().executemany(sql, seq)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def read_frame(self, sql: str, params=()) -> pd.DataFrame:
        cur = self.execute(sql, params)
        columns = [d.name for d in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=columns, coerce_float=True)

    def copy_rows(self, table: str, columns: list[str], rows: list[tuple], *, integers=()) -> None:
        """Bulk insert with COPY (tables without geometry); NaN and bools as SQLite stores them, and a whole number
        given as a float (a pandas integer column with a gap) as an integer in the ``integers`` positions."""
        cols = ", ".join(f'"{c}"' for c in columns)
        with self.raw.cursor().copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                values = _row(row)
                if integers:
                    values = list(values)
                    for i in integers:
                        v = values[i]
                        if v.__class__ is not int and isinstance(v, float) and v.is_integer():
                            values[i] = int(v)
                copy.write_row(values)
        self.total_changes += len(rows)

    def close(self) -> None:
        self.raw.close()

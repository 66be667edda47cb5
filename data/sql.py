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

import math
import re
import sqlite3
from functools import lru_cache

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

"""The store: one GeoPackage file (SQLite, OGC standard) that opens directly in QGIS.

Every read and write of the application goes through :class:`GeoPackageStore`. Every
write runs in one SQLite transaction together with its audit entry: an import lands
whole or not at all, and a failed write leaves the file byte-for-byte as it was.

Feature layers (``areas``, ``provisions``) hold geometries in GeoPackage binary format in
EPSG:28992; the other tables are GeoPackage attribute tables. The interface is kept
narrow (read a table, replace a set of tables, counts, audit) so that a PostGIS store
can be a second implementation behind the same methods.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from data.errors import ConflictError, DataValidationError, StoreError
from data.indicators import mask_rates_without_base
from data.schema import (
    BATCH_COLUMN,
    BATCH_KINDS,
    BATCHED_TABLES,
    CRS_EPSG,
    DATA_TABLES,
    SCHEMA_VERSION,
    TABLES,
    Table,
)
from data.sql import (
    BLOB,
    DATE,
    INTEGRITY_ERRORS,
    SqliteConnection,
    column_kind,
    column_names,
    frame_from_arrow,
    inline_params,
    is_postgres,
    read_frame,
    read_gpkg_arrow,
    set_meta,
    table_names,
)

DEMO_STORE_PATH = Path("var") / "demo.gpkg"
STORE_ENV_VAR = "STEUNKAART_STORE"
DEMO_ENV_VAR = "STEUNKAART_DEMO_STORE"  # where the demo lives when STEUNKAART_STORE is not set
_TEMP_PREFIX = ".steunkaart-"
_STALE_TEMP_S = 600  # a temporary build file older than this is left over from an interrupted start
# A writer waits this long for another writer (an import) to finish before it gets StoreBusyError; readers
# never wait for a writer (the store is in WAL mode).
BUSY_TIMEOUT_S = 30.0
_COMPANIONS = ("-wal", "-shm", "-journal")  # what SQLite keeps next to a database file
_BUSY_MESSAGE = ("De opslag is bezet door een andere schrijfactie (bijvoorbeeld een import die nog loopt); "
                 "probeer het over een minuut opnieuw. Er is niets gewijzigd.")
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10400  # GeoPackage 1.4
_SQLITE_MAGIC = b"SQLite format 3\x00"
# Envelope sizes in bytes by the envelope indicator of the GeoPackage geometry header.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_BOOL_COLUMNS = {
    "areas": ("water",),
    "provisions": ("outside_areas",),
    "persons": ("consent",),
    "measurements": ("network_recorded",),
    "key_figures": ("consent_name",),
    "followup_ties": ("support_practical", "support_emotional", "support_informational", "support_companionship",
                      "from_group"),
    "ties": (
        "support_practical",
        "support_emotional",
        "support_informational",
        "support_companionship",
        "reciprocal",
        "same_buurt",
    ),
}


class StoreBusyError(StoreError):
    """Another writer kept the store locked for longer than :data:`BUSY_TIMEOUT_S`; nothing was changed."""


def default_store_path() -> Path:
    """Return the store path: ``STEUNKAART_STORE``, or else the demo store ``var/demo.gpkg``.

    Without ``STEUNKAART_STORE`` the app runs on the built-in demo, in a file of its own
    (``STEUNKAART_DEMO_STORE``, default ``var/demo.gpkg``); a real installation names its own file.
    """
    return Path(os.environ.get(STORE_ENV_VAR) or demo_store_path())


def demo_store_path() -> Path:
    """The file of the built-in demo (``STEUNKAART_DEMO_STORE`` or ``var/demo.gpkg``)."""
    return Path(os.environ.get(DEMO_ENV_VAR) or DEMO_STORE_PATH)


def uses_demo_store() -> bool:
    """True when no own store is configured: the app starts on (and builds) the demo."""
    return not os.environ.get(STORE_ENV_VAR)


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, recorded with every import (which file exactly was loaded)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_COUNT_LABELS = {"areas": "gebieden", "area_values": "kerncijfers", "provisions": "voorzieningen",
                 "persons": "personen", "ties": "relaties", "alter_links": "banden tussen anderen",
                 "participation": "deelnames", "vervangen_gebieden": "vervangen gebieden",
                 "onbekende_gebieden": "onbekende gebieden", "rijen_onbekend": "rijen voor onbekende gebieden",
                 "postcodes": "postcodes", "vervangen_postcodes": "vervangen postcodes"}


def describe_counts(counts: dict) -> str:
    """Counts of an import or undo in Dutch ("96 gebieden, 2.304 kerncijfers"); zeros left out."""
    from data.formatting import format_number

    parts = [f"{format_number(v)} {_COUNT_LABELS.get(k, k.replace('_', ' '))}" for k, v in (counts or {}).items()
             if isinstance(v, int | float) and not isinstance(v, bool) and v]
    return ", ".join(parts) or "niets"


def recover_interrupted_start(path: str | os.PathLike) -> list[str]:
    """Clear what an interrupted start left behind at ``path``; return what was done, in Dutch.

    Stores are built in a temporary file and moved into place when complete, so an interruption
    leaves a temporary ``.steunkaart-*.gpkg`` (removed here once it is old) or, from older versions,
    an empty file or a database without any table (removed with its -wal/-shm/-journal, so the store
    is built anew). A store with tables and a hot journal or -wal file is left to SQLite: it rolls an
    interrupted write back, and keeps every commit that is in the -wal file.
    """
    import logging
    import time

    path = Path(path)
    notes: list[str] = []
    if path.parent.is_dir():
        now = time.time()
        for tmp in path.parent.glob(f"{_TEMP_PREFIX}*.gpkg*"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime > _STALE_TEMP_S:
                    tmp.unlink()
                    notes.append(f"Onvoltooid tijdelijk bestand '{tmp.name}' van een onderbroken start verwijderd.")
    if path.exists() and (path.stat().st_size == 0 or _has_no_tables(path)):
        path.unlink()
        for suffix in _COMPANIONS:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        notes.append(f"'{path}' was leeg (een onderbroken eerste start) en wordt opnieuw gemaakt.")
    for note in notes:
        logging.getLogger(__name__).warning(note)
    return notes


def _has_no_tables(path: Path) -> bool:
    with open(path, "rb") as fh:
        if fh.read(16) != _SQLITE_MAGIC:
            return False
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- geometry codec


def encode_gpkg_geometries(geoms: np.ndarray, srs_id: int = CRS_EPSG) -> list[bytes | None]:
    """Encode shapely geometries as GeoPackage binary blobs (little endian, xy envelope)."""
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms) & ~missing
    wkb = shapely.to_wkb(geoms, byte_order=1)
    bounds = shapely.bounds(geoms)
    header = np.zeros(
        len(geoms),
        dtype=[
            ("magic", "S2"),
            ("version", "u1"),
            ("flags", "u1"),
            ("srs", "<i4"),
            ("env", "<f8", (4,)),
        ],
    )
    header["magic"] = b"GP"
    header["flags"] = np.where(empty, 0b00010001, 0b00000011)  # little endian; xy envelope
    header["srs"] = srs_id
    # The envelope is stored as minx, maxx, miny, maxy.
    header["env"] = np.nan_to_num(bounds[:, [0, 2, 1, 3]])
    raw = header.view(np.dtype((np.void, header.dtype.itemsize)))
    out: list[bytes | None] = []
    for is_missing, is_empty, head, body in zip(missing, empty, raw, wkb, strict=True):
        if is_missing:
            out.append(None)
        elif is_empty:
            out.append(head.tobytes()[:8] + body)
        else:
            out.append(head.tobytes() + body)
    return out


def decode_gpkg_geometries(blobs: pd.Series | list) -> np.ndarray:
    """Decode GeoPackage binary blobs (any envelope) into shapely geometries."""
    wkb = [
        None if b is None else bytes(b[8 + _ENVELOPE_BYTES[(b[3] >> 1) & 0b111] :])
        for b in blobs
    ]
    return shapely.from_wkb(np.array(wkb, dtype=object))


# --------------------------------------------------------------------------- the store


class SqlStore:
    """The store's domain reads and writes, written once for both databases (see :mod:`data.sql`).

    Subclasses give the connection, the transaction and the way a store is created and opened:
    :class:`GeoPackageStore` (one GeoPackage file, the embedded default) and
    :class:`data.postgis.PostgisStore` (PostgreSQL with PostGIS, for a region sharing one installation).
    What a backend must offer is :class:`data.store_api.StoreBackend`.
    """

    last_batch_id: int | None = None  # the batch number of this object's last import

    @property
    def location(self) -> str:
        """Where the store is: a file path or a database URL (what :func:`data.store_api.store_at` opens)."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """A short name for messages (the file name, or the database name)."""
        raise NotImplementedError

    def data_version(self):
        """A value that changes whenever the data changed (the key of the pages' caches)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- schema

    def _migrate(self, from_version: int) -> None:
        """Bring an older store up to :data:`SCHEMA_VERSION`, one step per version, atomically."""
        with self._transaction() as conn:
            version = from_version
            while version < SCHEMA_VERSION:
                step = _MIGRATIONS.get(version)
                if step is None:
                    raise StoreError(
                        f"De opslag '{self.path}' heeft schemaversie {version}, die deze "
                        "versie van Steunkaart niet kan bijwerken."
                    )
                step(conn)
                version += 1
            conn.execute(
                "UPDATE steunkaart_meta SET value=? WHERE key='schema_version'", (str(version),)
            )
            _audit(conn, "systeem", "migratie", "steunkaart_meta", {"van": from_version, "naar": version})

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        with self._connection() as conn:
            return int(
                conn.execute("SELECT value FROM steunkaart_meta WHERE key='schema_version'").fetchone()[0]
            )

    # ---------------------------------------------------------------- reads

    def counts(self) -> dict[str, int]:
        """Return the number of records per data table and the schema version."""
        with self._connection() as conn:
            out = {
                name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
                for name in DATA_TABLES
            }
        out["schema_version"] = self.schema_version
        return out

    def read_table(self, name: str) -> pd.DataFrame | gpd.GeoDataFrame:
        """Return one table; feature layers come back as a GeoDataFrame in EPSG:28992."""
        return self._read_rows(name)

    def _read_rows(self, name: str, where: str = "", params: tuple = ()) -> pd.DataFrame | gpd.GeoDataFrame:
        """The rows of one table matching ``where`` (all without), with the dtypes of :meth:`read_table`.

        Read as Arrow columns where the backend can (:meth:`_read_arrow`), else through Python tuples
        (:meth:`_read_rows_tuples`); both give the same frame.
        """
        table = _table(name)
        kinds = _column_kinds(table)
        arrow = self._read_arrow(table, kinds, where, tuple(params or ()))
        if arrow is None:
            return self._read_rows_tuples(table, where, params)
        frame, geometry = arrow
        if table.geometry_type:
            return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS_EPSG)
        return frame

    def _read_arrow(self, table: Table, kinds: dict[str, str], where: str,
                    params: tuple) -> tuple[pd.DataFrame, np.ndarray | None] | None:
        """``(frame, geometries)`` read as Arrow columns, or None when this backend or query cannot (then tuples)."""
        return None

    def _read_rows_tuples(self, table: Table, where: str = "", params: tuple = ()) -> pd.DataFrame | gpd.GeoDataFrame:
        """:meth:`_read_rows` through the DB-API: Python tuples, pandas' inference, then the store's casts."""
        name = table.name
        cols = ", ".join(f'"{c}"' for c in table.column_names)
        geom = ', "geom"' if table.geometry_type else ""
        with self._connection() as conn:
            frame = read_frame(conn, f'SELECT {cols}{geom} FROM "{name}"{f" WHERE {where}" if where else ""} '
                                     "ORDER BY fid", params)
        bools = _BOOL_COLUMNS.get(name, ())
        for col, sqltype in table.columns:
            if col in bools:
                frame[col] = frame[col].astype("boolean")
            elif sqltype.startswith("DATE"):
                frame[col] = pd.to_datetime(frame[col], errors="coerce")
            elif sqltype.startswith("INTEGER"):
                frame[col] = frame[col].astype("Int64")
        if table.geometry_type:
            geometry = decode_gpkg_geometries(frame.pop("geom"))
            return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS_EPSG)
        return frame

    def read_areas(self, level: str | None = None) -> gpd.GeoDataFrame:
        """Return areas with one column per indicator (latest year); missing values are NaN."""
        areas = self.read_table("areas")
        if level is not None:
            areas = areas.loc[areas["level"] == level].reset_index(drop=True)
        values = self.read_area_values()
        if values.empty:
            return areas
        latest = values.sort_values("year").drop_duplicates(["area_code", "indicator"], keep="last")
        wide = latest.pivot(index="area_code", columns="indicator", values="value")
        wide.columns.name = None
        return areas.merge(wide, left_on="area_code", right_index=True, how="left")

    def read_area_values(self, area_codes: list[str] | None = None) -> pd.DataFrame:
        """Return key figures in long form: area_code, indicator, year, value, status, ...

        Rates whose denominator is 0 (no inhabitants or households) come out missing with status
        'geen_inwoners'/'geen_huishoudens' (:func:`data.indicators.mask_rates_without_base`), so
        that no reader shows a share of nobody, also for files imported before this rule.
        """
        frame = self.read_table("area_values")
        if area_codes is not None:
            frame = frame.loc[frame["area_code"].isin(area_codes)].reset_index(drop=True)
        return mask_rates_without_base(frame)

    def read_audit(self) -> pd.DataFrame:
        """Return the audit log, newest first."""
        return self.read_table("audit").iloc[::-1].reset_index(drop=True)

    # ---------------------------------------------------------------- writes

    def replace_tables(
        self,
        frames: Mapping[str, pd.DataFrame],
        *,
        user: str,
        action: str,
        details: dict | None = None,
    ) -> None:
        """Replace the full contents of the given tables in one transaction.

        Every frame is checked before anything is written; on any error nothing
        changes. One audit entry records who did it and how many rows each table got.
        """
        prepared = {name: _prepare_rows(_table(name), frame) for name, frame in frames.items()}
        with self._transaction() as conn:
            for name, (columns, rows) in prepared.items():
                conn.execute(f'DELETE FROM "{name}"')
                _insert_rows(conn, name, columns, rows)
                _touch_contents(conn, _table(name))
            summary = {name: len(rows) for name, (_, rows) in prepared.items()}
            _audit(conn, user, action, ",".join(prepared), {**(details or {}), "rijen": summary})

    def merge_area_data(
        self,
        areas: pd.DataFrame,
        values: pd.DataFrame,
        *,
        user: str,
        action: str = "import-gebieden",
        details: dict | None = None,
        file_name: str | None = None,
        sha256: str | None = None,
    ) -> list[str]:
        """Add or replace areas and their key figures for one import, in one transaction.

        Areas with the same code are replaced (the newest geometry and name win); key figures
        are replaced per (area, year), so other years stay and form the trend. Returns Dutch
        warnings for codes that now carry a different name: CBS re-uses codes, and then the
        figures of the years are not about the same area.
        """
        area_cols, area_rows = _prepare_rows(_table("areas"), areas)
        value_cols, value_rows = _prepare_rows(_table("area_values"), values)
        codes = [(c,) for c in pd.unique(areas["area_code"])]
        # Only the figures the file has are replaced: health figures of the same year stay.
        keys = values[["area_code", "indicator", "year"]].drop_duplicates()
        key_rows = list(zip(keys["area_code"], keys["indicator"],
                            keys["year"].astype(object).where(keys["year"].notna(), None), strict=True))
        with self._transaction() as conn:
            _refuse_demo(conn, self.name)
            batch = _begin_batch(conn, "gebieden", user, file_name or (details or {}).get("bestand"), sha256,
                                 details)
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _codes (code TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM _codes")
            conn.executemany("INSERT OR IGNORE INTO _codes VALUES (?)", codes)
            old = {code: (name, year) for code, name, year in conn.execute(
                "SELECT area_code, name, year FROM areas WHERE area_code IN (SELECT code FROM _codes)")}
            new_names = dict(zip(areas["area_code"], areas["name"], strict=True))
            warnings = [
                f"gebiedscode {code} heette '{name}' en heet nu '{new_names[code]}': CBS heeft de code "
                "hergebruikt; vergelijk de jaren van dit gebied niet zonder meer."
                for code, (name, _) in old.items()
                if "" not in (_normalised_name(name, code), _normalised_name(new_names[code], code))
                and _normalised_name(name, code) != _normalised_name(new_names[code], code)
            ]
            stored = read_frame(conn, "SELECT area_code, indicator, year, value FROM area_values "
                                      "WHERE area_code IN (SELECT code FROM _codes)")
            if len(stored):
                from data.area_import import year_jump_warnings

                warnings += year_jump_warnings(values, stored)
            # An older file adds its figures (the trend) but keeps the newer geometry and name.
            years = areas["year"].astype(object).where(areas["year"].notna(), None).tolist()
            keep = [
                code not in old or old[code][1] is None or (year is not None and year >= old[code][1])
                for code, year in zip(areas["area_code"], years, strict=True)
            ]
            replaced = _delete_keeping(conn, "areas", "area_code = ?",
                                       [(c,) for c, k in zip(areas["area_code"], keep, strict=True) if k], batch)
            renamed = [(new_names[c], batch, c) for c, k in zip(areas["area_code"], keep, strict=True)
                       if not k and _normalised_name(old[c][0], c) == ""]
            # A real name from an older file beats a name derived from the code (kept for undo, too).
            _copy_for_undo(conn, "areas", "area_code = ?", [(c,) for _, _, c in renamed], batch)
            conn.executemany("UPDATE areas SET name = ?, batch_id = ? WHERE area_code = ?", renamed)
            _delete_keeping(conn, "area_values", "area_code = ? AND indicator = ? AND year IS ?", key_rows, batch)
            _insert_batch_rows(conn, "areas", area_cols, [r for r, k in zip(area_rows, keep, strict=True) if k],
                               batch)
            _insert_batch_rows(conn, "area_values", value_cols, value_rows, batch)
            conn.execute("DROP TABLE _codes")
            unlocated = _relocate_provisions(conn)
            _touch_contents(conn, _table("areas"))
            _touch_contents(conn, _table("area_values"))
            counts = {"gebieden": len(area_rows), "waarden": len(value_rows), "vervangen_gebieden": replaced}
            _end_batch(conn, batch, counts)
            _audit(conn, user, action, "areas,area_values",
                   {**(details or {}), **counts, "import": batch, "waarschuwingen": len(warnings),
                    "voorzieningen_zonder_buurt": unlocated})
        self.last_batch_id = batch
        return warnings

    def merge_area_values(self, values: pd.DataFrame, *, user: str, action: str,
                          details: dict | None = None, file_name: str | None = None,
                          sha256: str | None = None) -> dict:
        """Add or replace key figures per (area, indicator, year) in one transaction.

        Returns counts: rows written and how many of their area codes are not (yet) in the store.
        """
        cols, rows = _prepare_rows(_table("area_values"), values)
        keys = list(zip(values["area_code"], values["indicator"],
                        values["year"].astype(object).where(values["year"].notna(), None), strict=True))
        with self._transaction() as conn:
            _refuse_demo(conn, self.name)
            batch = _begin_batch(conn, "gezondheid", user, file_name or (details or {}).get("bestand"), sha256,
                                 details)
            known = {r[0] for r in conn.execute("SELECT area_code FROM areas")}
            _delete_keeping(conn, "area_values", "area_code = ? AND indicator = ? AND year IS ?", keys, batch)
            _insert_batch_rows(conn, "area_values", cols, rows, batch)
            _touch_contents(conn, _table("area_values"))
            unknown = int((~values["area_code"].isin(known)).sum())
            summary = {"waarden": len(rows), "onbekende_gebieden": int(values.loc[
                ~values["area_code"].isin(known), "area_code"].nunique()), "rijen_onbekend": unknown}
            _end_batch(conn, batch, summary)
            _audit(conn, user, action, "area_values", {**(details or {}), **summary, "import": batch})
        self.last_batch_id = batch
        return {**summary, "import": batch}

    def import_postcodes(self, frame: pd.DataFrame, *, user: str, source: str, sha256: str | None = None) -> dict:
        """Replace the table postcode (PC6) -> buurt as a whole, in one transaction.

        Parameters
        ----------
        frame : DataFrame
            ``postcode`` (PC6), ``buurt_code`` and optionally ``year``, as :func:`data.postcodes.read_postcode_table`
            returns it.
        user : str
            Who imports (audit log and the list of imports).
        source : str
            The file name, stored with every row and with the import.
        sha256 : str, optional
            The SHA-256 of the file.

        Returns
        -------
        dict
            ``postcodes`` (rows written), ``buurten``, ``vervangen_postcodes`` (rows of the previous table) and
            ``import`` (the batch number: the import can be undone like any other).

        Raises
        ------
        DataValidationError
            The table is not sound (:func:`data.postcodes.check_postcode_frame`) or names buurten that are not
            in the store; nothing is changed.
        DemoStoreError
            On the store of the built-in demo.
        """
        from data.postcodes import check_postcode_frame

        table = check_postcode_frame(frame, file=source or None).assign(source=source or None)
        cols, rows = _prepare_rows(_table("postcodes"), table)
        with self._transaction() as conn:
            _refuse_demo(conn, self.name)
            known = {r[0] for r in conn.execute("SELECT area_code FROM areas WHERE level = 'buurt'")}
            unknown = ~table["buurt_code"].isin(known).to_numpy(dtype=bool)
            if unknown.any():
                at = int(np.flatnonzero(unknown)[0])
                n = int(table.loc[unknown, "buurt_code"].nunique())
                raise DataValidationError(
                    f"Buurt {table['buurt_code'].iloc[at]} (postcode {table['postcode'].iloc[at]}) staat niet in de "
                    f"opslag{f', en nog {n - 1} andere buurten' if n > 1 else ''}. Importeer eerst de CBS-gebieden "
                    "van het jaar van de postcodetabel; er is niets geïmporteerd.",
                    file=source or None, row=at + 2, column="buurt_code")
            batch = _begin_batch(conn, "postcodes", user, source or None, sha256)
            replaced = _delete_keeping(conn, "postcodes", "1 = 1", [()], batch)
            _insert_batch_rows(conn, "postcodes", cols, rows, batch)
            _touch_contents(conn, _table("postcodes"))
            counts = {"postcodes": len(rows), "buurten": int(table["buurt_code"].nunique()),
                      "vervangen_postcodes": replaced}
            _end_batch(conn, batch, counts)
            _audit(conn, user, "import-postcodes", "postcodes", {"bestand": source, **counts, "import": batch})
        self.last_batch_id = batch
        return {**counts, "import": batch}

    # ---------------------------------------------------------------- networks

    def merge_network(self, persons: pd.DataFrame, ties: pd.DataFrame, participation: pd.DataFrame | None = None,
                      *, user: str, source: str = "", alter_links: pd.DataFrame | None = None,
                      sha256: str | None = None, kind: str = "netwerk") -> dict:
        """Add or replace persons (by id) and all ties of the egos in ``ties``, in one transaction.

        Participation rows replace those of the persons they name. Every call is a batch that can be
        undone (``kind`` 'netwerk' for an import, 'netwerk-invoer' for the conversation form); imports
        into the demo store are refused. Returns counts for the report.
        """
        p_cols, p_rows = _prepare_rows(_table("persons"), persons)
        t_cols, t_rows = _prepare_rows(_table("ties"), ties)
        x_cols, x_rows = (_prepare_rows(_table("participation"), participation)
                          if participation is not None and len(participation) else ([], []))
        l_cols, l_rows = (_prepare_rows(_table("alter_links"), alter_links)
                          if alter_links is not None and len(alter_links) else ([], []))
        person_ids = [(p,) for p in persons["person_id"]]
        egos = [(e,) for e in pd.unique(ties["ego_id"])]
        with self._transaction() as conn:
            if kind != "netwerk-invoer":  # the form may be tried out on the demo; imports may not
                _refuse_demo(conn, self.name)
            batch = _begin_batch(conn, kind, user, source or None, sha256)
            _delete_keeping(conn, "persons", "person_id = ?", person_ids, batch)
            _insert_batch_rows(conn, "persons", p_cols, p_rows, batch)
            _delete_keeping(conn, "ties", "ego_id = ?", egos, batch)
            _insert_batch_rows(conn, "ties", t_cols, t_rows, batch)
            _delete_keeping(conn, "alter_links", "ego_id = ?", egos, batch)
            _insert_batch_rows(conn, "alter_links", l_cols, l_rows, batch)
            if x_rows:
                _delete_keeping(conn, "participation", "person_id = ?",
                                [(p,) for p in pd.unique(participation["person_id"])], batch)
                _insert_batch_rows(conn, "participation", x_cols, x_rows, batch)
            for name in ("persons", "ties", "participation"):
                _touch_contents(conn, _table(name))
            counts = {"personen": len(p_rows), "relaties": len(t_rows), "deelnames": len(x_rows),
                      "onderlinge_banden": len(l_rows)}
            _end_batch(conn, batch, counts)
            egos_text = sorted(map(str, pd.unique(ties["ego_id"])))
            _audit(conn, user, "import-netwerk" if kind == "netwerk" else "invoer-netwerk",
                   "persons,ties,participation",
                   {"bron": source, **counts, "import": batch, "egos": egos_text[:50],
                    "egos_meer": max(0, len(egos_text) - 50)})
        self.last_batch_id = batch
        return counts

    # ---------------------------------------------------------------- follow-up of participants (version 9)

    def merge_measurements(self, measurements: pd.DataFrame, followup_ties: pd.DataFrame | None = None, *,
                           user: str, source: str = "", sha256: str | None = None, kind: str = "metingen",
                           expected_versions: dict | None = None) -> dict:
        """Add or replace measurements by (person, provision, moment), with the network asked at each, at once.

        A measurement that is stored already is replaced together with its network (the rows replaced are
        kept: the call is a batch that can be undone, ``kind`` 'metingen' for an import, 'meting-invoer' for
        the conversation form). Its version goes up by one; with ``expected_versions`` ({(person, provision,
        moment): version}) a measurement changed by someone else since it was read is refused (ConflictError).

        Raises
        ------
        DataValidationError
            A person or provision that is not in the store, an unknown group or moment, a network row
            without its measurement, or a tie to a person that is not in the store; nothing is changed.
        """
        from data.schema import MOMENTS, STUDY_GROUPS

        ties = followup_ties if followup_ties is not None else pd.DataFrame(
            columns=[c for c, _ in _table("followup_ties").columns])
        m_table, t_table = _table("measurements"), _table("followup_ties")
        m = measurements.copy()
        m["person_id"] = m["person_id"].astype(str)
        m["provision_id"] = m["provision_id"].astype(str)
        for column, allowed, label in (("study_group", STUDY_GROUPS, "groep"), ("moment", MOMENTS, "moment")):
            bad = ~m[column].isin(list(allowed)).to_numpy(dtype=bool)
            if bad.any():
                at = int(np.flatnonzero(bad)[0])
                raise DataValidationError(f"Onbekende {label} '{m[column].iloc[at]}'; kies uit {', '.join(allowed)}. "
                                          "Er is niets opgeslagen.", file=source or None, row=at + 2, column=column)
        keys = list(zip(m["person_id"], m["provision_id"], m["moment"], strict=True))
        if len(ties):
            ties = ties.copy()
            ties["person_id"] = ties["person_id"].astype(str)
            ties["provision_id"] = ties["provision_id"].astype(str)
            tie_keys = pd.Series(list(zip(ties["person_id"], ties["provision_id"], ties["moment"], strict=True)))
            orphan = ~tie_keys.isin(set(keys)).to_numpy(dtype=bool)
            if orphan.any():
                raise DataValidationError("Een netwerkregel hoort bij geen enkele meting (persoon, voorziening en "
                                          "moment); er is niets opgeslagen.", file=source or None,
                                          row=int(np.flatnonzero(orphan)[0]) + 2, column="moment")
            recorded = set(tie_keys)
            m["network_recorded"] = [int(bool(r) or k in recorded) for r, k in
                                     zip(m.get("network_recorded", pd.Series(0, index=m.index)).fillna(0), keys,
                                         strict=True)]
        m_cols, m_rows = _prepare_rows(m_table, m.drop(columns=["version"], errors="ignore"))
        t_cols, t_rows = _prepare_rows(t_table, ties) if len(ties) else ([], [])
        with self._transaction() as conn:
            if kind != "meting-invoer":  # the form may be tried out on the demo; imports may not
                _refuse_demo(conn, self.name)
            persons = {r[0] for r in conn.execute("SELECT person_id FROM persons")}
            provisions = {r[0] for r in conn.execute("SELECT provision_id FROM provisions")}
            for column, known, what in (("person_id", persons, "Persoon"), ("provision_id", provisions,
                                                                            "Voorziening")):
                unknown = ~m[column].isin(known).to_numpy(dtype=bool)
                if unknown.any():
                    at = int(np.flatnonzero(unknown)[0])
                    code = m[column].iloc[at] if column == "provision_id" else "van deze rij"
                    raise DataValidationError(
                        f"{what} {code} staat niet in de opslag ({int(unknown.sum())} rij(en)). Importeer eerst de "
                        f"{'personen' if column == 'person_id' else 'voorzieningen'}; er is niets opgeslagen.",
                        file=source or None, row=at + 2, column=column)
            if len(ties):
                alter = ties["alter_id"].astype("string") if "alter_id" in ties else pd.Series(pd.NA, index=ties.index)
                unknown = (alter.notna() & ~alter.isin(persons)).to_numpy(dtype=bool)
                if unknown.any():
                    raise DataValidationError("Een relatie verwijst naar een persoon die niet in de opslag staat; "
                                              "laat de code leeg voor iemand die niet in Steunkaart staat. Er is "
                                              "niets opgeslagen.", file=source or None,
                                              row=int(np.flatnonzero(unknown)[0]) + 2, column="alter_id")
            stored = {(a, b, c): v for a, b, c, v in conn.execute(
                "SELECT person_id, provision_id, moment, version FROM measurements")}
            for key, version in (expected_versions or {}).items():
                now = stored.get(tuple(key))
                if now is not None and int(now) != int(version):
                    raise ConflictError(f"De meting {key[2]} is intussen door iemand anders gewijzigd (versie {now}, "
                                        f"u bewerkte versie {version}). Uw wijziging is niet opgeslagen; open de "
                                        "meting opnieuw en voer de wijziging nog eens in.")
            batch = _begin_batch(conn, kind, user, source or None, sha256)
            where = "person_id = ? AND provision_id = ? AND moment = ?"
            replaced = _delete_keeping(conn, "measurements", where, keys, batch)
            _delete_keeping(conn, "followup_ties", where, keys, batch)
            _insert_batch_rows(conn, "measurements", m_cols, m_rows, batch)
            conn.executemany("UPDATE measurements SET version = ? WHERE person_id = ? AND provision_id = ? "
                             "AND moment = ?", [(int(stored[k]) + 1, *k) for k in keys if k in stored])
            _insert_batch_rows(conn, "followup_ties", t_cols, t_rows, batch)
            for name in ("measurements", "followup_ties"):
                _touch_contents(conn, _table(name))
            counts = {"metingen": len(m_rows), "vervangen_metingen": replaced, "netwerkregels": len(t_rows),
                      "personen": int(m["person_id"].nunique())}
            _end_batch(conn, batch, counts)
            people = sorted(map(str, pd.unique(m["person_id"])))
            _audit(conn, user, "import-metingen" if kind == "metingen" else "invoer-meting", "measurements",
                   {"bron": source, **counts, "import": batch, "personen": people[:50],
                    "personen_meer": max(0, len(people) - 50)})
        self.last_batch_id = batch
        return {**counts, "import": batch}

    def save_aftercare_plan(self, plan: dict, *, user: str, expected_version: int | None = None) -> dict:
        """Create an aftercare plan (``expected_version`` None) or change one with optimistic locking.

        ``plan`` has person_id, reason, starts_on and optionally plan_id (new: 'NZ-0001', ...), provision_id,
        contacts_per_year (1-12), months (1-36) and status. Returns the stored plan as a dict (with version).

        Raises
        ------
        DataValidationError
            Unknown person, provision, reason or status, or numbers out of range; nothing is changed.
        ConflictError
            The plan was changed by someone else since ``expected_version`` was read.
        """
        from data.schema import AFTERCARE_REASONS, AFTERCARE_STATUSES

        record = {k: plan.get(k) for k in ("plan_id", "person_id", "provision_id", "reason", "starts_on",
                                           "contacts_per_year", "months", "status")}
        record["status"] = record["status"] or "actief"
        record["contacts_per_year"] = int(record["contacts_per_year"] or 4)
        record["months"] = int(record["months"] or 12)
        if record["reason"] not in AFTERCARE_REASONS:
            raise DataValidationError(f"Kies waarna de nazorg komt: {', '.join(AFTERCARE_REASONS.values())}.",
                                      column="reason")
        if record["status"] not in AFTERCARE_STATUSES:
            raise DataValidationError(f"Onbekende status; kies uit {', '.join(AFTERCARE_STATUSES)}.", column="status")
        if not 1 <= record["contacts_per_year"] <= 12:
            raise DataValidationError("Plan 1 tot 12 contacten per jaar.", column="contacts_per_year")
        if not 1 <= record["months"] <= 36:
            raise DataValidationError("Een nazorgplan loopt 1 tot 36 maanden.", column="months")
        starts = pd.to_datetime(record["starts_on"], errors="coerce")
        if pd.isna(starts):
            raise DataValidationError("Vul de datum in waarop de ondersteuning eindigde.", column="starts_on")
        record["starts_on"] = starts.strftime("%Y-%m-%d")
        if record["reason"] == "voorziening" and not record["provision_id"]:
            raise DataValidationError("Kies de voorziening waarna de nazorg komt.", column="provision_id")
        if record["reason"] == "wijkteam":
            record["provision_id"] = None
        with self._transaction() as conn:
            person = (str(record["person_id"]),)
            if conn.execute("SELECT 1 FROM persons WHERE person_id = ?", person).fetchone() is None:
                raise DataValidationError("Deze persoon staat niet in de opslag; er is niets opgeslagen.",
                                          column="person_id")
            if record["provision_id"] and conn.execute("SELECT 1 FROM provisions WHERE provision_id = ?",
                                                       (str(record["provision_id"]),)).fetchone() is None:
                raise DataValidationError(f"Voorziening {record['provision_id']} staat niet in de opslag.",
                                          column="provision_id")
            if expected_version is None:
                if not record["plan_id"]:
                    taken = [r[0] for r in conn.execute("SELECT plan_id FROM aftercare_plans")]
                    numbers = [int(t[3:]) for t in taken if re.fullmatch(r"NZ-\d+", t or "")]
                    record["plan_id"] = f"NZ-{max(numbers, default=0) + 1:04d}"
                elif conn.execute("SELECT 1 FROM aftercare_plans WHERE plan_id = ?",
                                  (record["plan_id"],)).fetchone():
                    raise DataValidationError(f"Nazorgplan {record['plan_id']} bestaat al.", column="plan_id")
                cols = [*record, "created_by", "created_at", "version"]
                conn.execute(f"INSERT INTO aftercare_plans ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             [*record.values(), user, _now_iso(), 1])
                version, action = 1, "nieuw-nazorgplan"
            else:
                sets = ", ".join(f'"{c}" = ?' for c in record if c != "plan_id")
                cur = conn.execute(f"UPDATE aftercare_plans SET {sets}, version = version + 1 "
                                   "WHERE plan_id = ? AND version = ?",
                                   [*(v for c, v in record.items() if c != "plan_id"), record["plan_id"],
                                    int(expected_version)])
                if cur.rowcount != 1:
                    raise ConflictError(_AFTERCARE_CONFLICT.format(plan=record["plan_id"], version=expected_version))
                version, action = int(expected_version) + 1, "wijzig-nazorgplan"
            _touch_contents(conn, _table("aftercare_plans"))
            _audit(conn, user, action, record["plan_id"], {**{k: v for k, v in record.items() if k != "plan_id"},
                                                          "personen": [str(record["person_id"])]})
        return {**record, "version": version}

    def register_aftercare_contact(self, plan_id: str, sequence: int, *, done_on, by_role: str, outcome: str,
                                   expected_version: int, user: str, planned_on=None) -> int:
        """Register the ``sequence``-th planned contact of a plan as done: date, role and outcome code only.

        The plan's version goes up (optimistic locking: two people registering the same contact from an
        open list, the second is refused). Returns the plan's new version.
        """
        from data.schema import AFTERCARE_OUTCOMES, AFTERCARE_ROLES

        if by_role not in AFTERCARE_ROLES:
            raise DataValidationError(f"Kies wie het contact had: {', '.join(AFTERCARE_ROLES.values())}.",
                                      column="by_role")
        if outcome not in AFTERCARE_OUTCOMES:
            raise DataValidationError(f"Kies een uitkomst: {', '.join(AFTERCARE_OUTCOMES.values())}.",
                                      column="outcome")
        done = pd.to_datetime(done_on, errors="coerce")
        if pd.isna(done):
            raise DataValidationError("Vul de datum van het contact in.", column="done_on")
        planned = pd.to_datetime(planned_on, errors="coerce") if planned_on is not None else pd.NaT
        with self._transaction() as conn:
            row = conn.execute("SELECT person_id FROM aftercare_plans WHERE plan_id = ?", (plan_id,)).fetchone()
            if row is None:
                raise StoreError(f"Nazorgplan {plan_id} bestaat niet (meer).")
            cur = conn.execute("UPDATE aftercare_plans SET version = version + 1 WHERE plan_id = ? AND version = ?",
                               (plan_id, int(expected_version)))
            if cur.rowcount != 1:
                raise ConflictError(_AFTERCARE_CONFLICT.format(plan=plan_id, version=expected_version))
            if conn.execute("SELECT 1 FROM aftercare_contacts WHERE plan_id = ? AND sequence = ?",
                            (plan_id, int(sequence))).fetchone():
                raise ConflictError(f"Contact {int(sequence)} van nazorgplan {plan_id} is al geregistreerd; er is "
                                    "niets gewijzigd.")
            conn.execute("INSERT INTO aftercare_contacts (plan_id, sequence, planned_on, done_on, by_role, outcome, "
                         "registered_by, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (plan_id, int(sequence), None if pd.isna(planned) else planned.strftime("%Y-%m-%d"),
                          done.strftime("%Y-%m-%d"), by_role, outcome, user, _now_iso()))
            for name in ("aftercare_plans", "aftercare_contacts"):
                _touch_contents(conn, _table(name))
            _audit(conn, user, "nazorgcontact", plan_id, {"contact": int(sequence), "datum": done.strftime("%Y-%m-%d"),
                                                          "rol": by_role, "uitkomst": outcome,
                                                          "personen": [str(row[0])]})
        return int(expected_version) + 1

    def set_followup_schedule(self, code: str, *, t1_weeks, t2_weeks, t3_weeks, aftercare_per_year, user: str) -> None:
        """The follow-up moments (weeks after intake) and aftercare contacts per year of one provision type."""
        weeks = [None if w is None or pd.isna(w) else int(w) for w in (t1_weeks, t2_weeks, t3_weeks)]
        given = [w for w in weeks if w is not None]
        if any(w <= 0 or w > 260 for w in given) or given != sorted(given) or len(set(given)) != len(given):
            raise DataValidationError("De meetmomenten liggen 1 tot 260 weken na de intake, T1 voor T2 voor T3.",
                                      column="t1_weeks")
        per_year = None if aftercare_per_year is None or pd.isna(aftercare_per_year) else int(aftercare_per_year)
        if per_year is not None and not 1 <= per_year <= 12:
            raise DataValidationError("Plan 1 tot 12 nazorgcontacten per jaar.", column="aftercare_per_year")
        with self._transaction() as conn:
            cur = conn.execute("UPDATE provision_types SET t1_weeks = ?, t2_weeks = ?, t3_weeks = ?, "
                               "aftercare_per_year = ? WHERE code = ?", (*weeks, per_year, code))
            if cur.rowcount != 1:
                raise DataValidationError(f"Soort '{code}' bestaat niet.", column="code")
            _audit(conn, user, "meetmomenten-soort", code, {"weken": weeks, "nazorg_per_jaar": per_year})

    # ---------------------------------------------------------------- the wijkagenda (version 10)

    def save_agenda_item(self, item: dict, links=None, *, user: str, role: str, expected_version: int | None = None,
                         note: str | None = None) -> dict:
        """Create an agenda item (``expected_version`` None) or change one with optimistic locking.

        ``item`` holds the columns of agenda_items (wijk_code, title, owner_role, ...); ``links`` (a list of
        (kind, target)) replace the item's links when given. Every save adds a line to the item's history
        (agenda_updates: who, role, the status after it, the optional short ``note``) and to the audit log.
        Returns the stored item as a dict (with item_id and version).

        Raises
        ------
        DataValidationError
            An unknown wijk, status, owner, origin or link, a due date before the start, a title or note that is
            too long or looks like personal data; nothing is changed.
        ConflictError
            The item was changed by someone else since ``expected_version`` was read.
        """
        record, link_rows, note = _agenda_record(item, links, note)
        now = _now_iso()
        with self._transaction() as conn:
            _check_agenda_refs(conn, [record], link_rows)
            if expected_version is None:
                record["item_id"] = record.get("item_id") or _next_id(conn, "agenda_items", "item_id", "AG")
                if conn.execute("SELECT 1 FROM agenda_items WHERE item_id = ?", (record["item_id"],)).fetchone():
                    raise DataValidationError(f"Agendapunt {record['item_id']} bestaat al.", column="item_id")
                record.update(created_by=user, created_at=now, updated_by=user, updated_at=now, version=1)
                cols = list(record)
                conn.execute(f"INSERT INTO agenda_items ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             list(record.values()))
                action = "nieuw-agendapunt"
            else:
                before = conn.execute("SELECT created_by FROM agenda_items WHERE item_id = ?",
                                      (record["item_id"],)).fetchone()
                if before is None:
                    raise StoreError(f"Agendapunt {record['item_id']} bestaat niet (meer).")
                fields = {k: v for k, v in record.items() if k not in ("item_id", "created_by", "created_at")}
                fields.update(updated_by=user, updated_at=now)
                sets = ", ".join(f'"{c}" = ?' for c in fields)
                cur = conn.execute(f"UPDATE agenda_items SET {sets}, version = version + 1 WHERE item_id = ? "
                                   "AND version = ?", [*fields.values(), record["item_id"], int(expected_version)])
                if cur.rowcount != 1:
                    raise ConflictError(f"Agendapunt '{record['title']}' is intussen door iemand anders gewijzigd (u "
                                        f"werkte met versie {int(expected_version)}). Uw wijziging is niet "
                                        "opgeslagen; open het agendapunt opnieuw en voer de wijziging nog eens in.")
                record.update(version=int(expected_version) + 1, created_by=before[0])
                action = "wijzig-agendapunt"
            if links is not None:
                conn.execute("DELETE FROM agenda_links WHERE item_id = ?", (record["item_id"],))
                conn.executemany("INSERT INTO agenda_links (item_id, kind, target) VALUES (?, ?, ?)",
                                 [(record["item_id"], k, t) for k, t in link_rows[0]])
            conn.execute("INSERT INTO agenda_updates (item_id, at, user, role, status, due_on, note) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", (record["item_id"], now, user, role, record.get("status"),
                                                          record.get("due_on"), note))
            for name in ("agenda_items", "agenda_links", "agenda_updates"):
                _touch_contents(conn, _table(name))
            _audit(conn, user, action, record["item_id"], {"wijk": record.get("wijk_code"), "titel": record["title"],
                                                           "status": record.get("status"), "rol": role})
        return record

    def import_agenda_items(self, items: pd.DataFrame, links=None, *, user: str, role: str = "beheerder",
                            source: str = "") -> dict:
        """Add agenda items from a file in one transaction: every item new (ids assigned), nothing written on any
        error. ``links``: per row of ``items`` a list of (kind, target), or None."""
        rows = items.to_dict("records")
        links = list(links) if links is not None else [[] for _ in rows]
        if len(links) != len(rows):
            raise DataValidationError("Elke rij van de agenda heeft één lijst met koppelingen nodig.")
        prepared = []
        for at, (row, row_links) in enumerate(zip(rows, links, strict=True)):
            try:
                record, link_rows, _ = _agenda_record(row, row_links, None)
            except DataValidationError as exc:
                raise DataValidationError(str(exc.args[0]) if exc.args else str(exc), file=source or None,
                                          row=at + 2, column=exc.column) from exc
            prepared.append((record, link_rows[0]))
        now = _now_iso()
        with self._transaction() as conn:
            _check_agenda_refs(conn, [r for r, _ in prepared], [lk for _, lk in prepared], file=source)
            ids = []
            for record, row_links in prepared:
                record = {**record, "item_id": _next_id(conn, "agenda_items", "item_id", "AG"), "created_by": user,
                          "created_at": now, "updated_by": user, "updated_at": now, "version": 1}
                cols = list(record)
                conn.execute(f"INSERT INTO agenda_items ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             list(record.values()))
                conn.executemany("INSERT OR IGNORE INTO agenda_links (item_id, kind, target) VALUES (?, ?, ?)",
                                 [(record["item_id"], k, t) for k, t in row_links])
                conn.execute("INSERT INTO agenda_updates (item_id, at, user, role, status, due_on, note) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", (record["item_id"], now, user, role, record["status"],
                                                               record.get("due_on"),
                                                               f"geïmporteerd uit {source}"[:280] if source else None))
                ids.append(record["item_id"])
            for name in ("agenda_items", "agenda_links", "agenda_updates"):
                _touch_contents(conn, _table(name))
            _audit(conn, user, "import-agenda", "agenda_items", {"bestand": source, "agendapunten": len(ids),
                                                                  "eerste": ids[:1], "laatste": ids[-1:]})
        return {"agendapunten": len(ids), "ids": ids}

    def save_initiative(self, record: dict, *, user: str, expected_version: int | None = None) -> dict:
        """Create or change a residents' initiative (a point on the map, its buurt found from the point)."""
        from data.schema import INITIATIVE_STATUSES

        fields = {k: record.get(k) for k in ("initiative_id", "name", "what", "buurt_code", "status",
                                             "support_asked", "contact_organisation")}
        fields["status"] = fields["status"] or "loopt"
        if not str(fields["name"] or "").strip():
            raise DataValidationError("Geef het initiatief een naam.", column="name")
        if fields["status"] not in INITIATIVE_STATUSES:
            raise DataValidationError(f"Onbekende status; kies uit {', '.join(INITIATIVE_STATUSES)}.", column="status")
        for column in ("name", "what", "support_asked", "contact_organisation"):
            if fields[column] is not None and not (isinstance(fields[column], float) and np.isnan(fields[column])):
                from data.agenda import check_agenda_text

                fields[column] = check_agenda_text(str(fields[column]), column=column) or None
        point = record.get("geometry")
        if point is not None:
            if shapely.get_type_id(point) != 0:
                raise DataValidationError("Een initiatief is een punt op de kaart.", column="geometry")
            fields["buurt_code"] = self.buurt_codes_at(np.array([point]))[0] or fields["buurt_code"]
        blob = encode_gpkg_geometries(np.array([point], dtype=object))[0]
        with self._transaction() as conn:
            if expected_version is None:
                fields["initiative_id"] = (fields["initiative_id"]
                                           or _next_id(conn, "initiatives", "initiative_id", "IN"))
                cols = [*fields, "created_by", "created_at", "version", "geom"]
                conn.execute(f"INSERT INTO initiatives ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             [*fields.values(), user, _now_iso(), 1, blob])
                version = 1
            else:
                sets = ", ".join(f'"{c}" = ?' for c in fields if c != "initiative_id")
                cur = conn.execute(f"UPDATE initiatives SET {sets}, geom = COALESCE(?, geom), version = version + 1 "
                                   "WHERE initiative_id = ? AND version = ?",
                                   [*(v for c, v in fields.items() if c != "initiative_id"), blob,
                                    fields["initiative_id"], int(expected_version)])
                if cur.rowcount != 1:
                    raise ConflictError(f"Initiatief '{fields['name']}' is intussen door iemand anders gewijzigd; uw "
                                        "wijziging is niet opgeslagen. Open het opnieuw.")
                version = int(expected_version) + 1
            _touch_contents(conn, _table("initiatives"))
            _audit(conn, user, "initiatief", fields["initiative_id"], {"naam": fields["name"],
                                                                      "status": fields["status"]})
        return {**fields, "version": version}

    def save_key_figure(self, record: dict, *, user: str, expected_version: int | None = None) -> dict:
        """Create or change a key figure: a role and an organisation; a name only when the person consented."""
        fields = {k: record.get(k) for k in ("figure_id", "role_label", "organisation", "wijk_code", "buurt_code",
                                             "name")}
        fields["consent_name"] = int(bool(record.get("consent_name")))
        if not str(fields["role_label"] or "").strip():
            raise DataValidationError("Geef de rol van de sleutelfiguur (bijv. 'voorzitter bewonerscommissie').",
                                      column="role_label")
        name = str(fields["name"] or "").strip()
        if name and not fields["consent_name"]:
            raise DataValidationError("Een naam van een sleutelfiguur staat er alleen met diens toestemming: vink "
                                      "'toestemming voor de naam' aan of laat de naam leeg. Er is niets opgeslagen.",
                                      column="name")
        fields["name"] = name or None
        from data.agenda import check_agenda_text

        for column in ("role_label", "organisation", "name"):
            if fields[column]:
                fields[column] = check_agenda_text(str(fields[column]), column=column)
        with self._transaction() as conn:
            if expected_version is None:
                fields["figure_id"] = fields["figure_id"] or _next_id(conn, "key_figures", "figure_id", "SF")
                cols = [*fields, "created_by", "created_at", "version"]
                conn.execute(f"INSERT INTO key_figures ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             [*fields.values(), user, _now_iso(), 1])
                version = 1
            else:
                sets = ", ".join(f'"{c}" = ?' for c in fields if c != "figure_id")
                cur = conn.execute(f"UPDATE key_figures SET {sets}, version = version + 1 WHERE figure_id = ? "
                                   "AND version = ?", [*(v for c, v in fields.items() if c != "figure_id"),
                                                        fields["figure_id"], int(expected_version)])
                if cur.rowcount != 1:
                    raise ConflictError("Deze sleutelfiguur is intussen door iemand anders gewijzigd; uw wijziging "
                                        "is niet opgeslagen. Open het opnieuw.")
                version = int(expected_version) + 1
            _touch_contents(conn, _table("key_figures"))
            _audit(conn, user, "sleutelfiguur", fields["figure_id"], {"rol": fields["role_label"],
                                                                     "organisatie": fields["organisation"]})
        return {**fields, "version": version}

    # ---------------------------------------------------------------- provisions

    def _provision_plan(self, provisions: gpd.GeoDataFrame):
        """Stored provisions, the incoming ones with their buurt, and which are stored / changed.

        A provision whose fields are all equal and whose point moved less than half a metre (the
        rounding of exported coordinates) is unchanged; an unmoved point keeps its stored coordinates.
        """
        existing = self.read_table("provisions").set_index("provision_id", drop=False)
        incoming = provisions.copy()
        codes = self.buurt_codes_at(incoming.geometry.to_numpy())
        if "outside_areas" in incoming:  # a point flagged outside the areas belongs to no buurt
            codes = [None if out else c for c, out in zip(codes, incoming["outside_areas"].fillna(False), strict=True)]
        incoming["buurt_code"] = codes
        fields = [c for c in _table("provisions").column_names if c != "version" and c in incoming]
        is_old = incoming["provision_id"].isin(existing.index).to_numpy()
        changed = np.zeros(len(incoming), dtype=bool)
        if is_old.any():
            old = existing.loc[incoming.loc[is_old, "provision_id"]]
            new = incoming.loc[is_old]
            diff = np.zeros(len(new), dtype=bool)
            for col in fields:
                a, b = _comparable(old[col]), _comparable(new[col])
                # Filled or cleared optional fields compare as <NA>: count them as changed, never crash.
                same = (a == b).fillna(False).astype(bool) | (a.isna() & b.isna())
                diff |= ~same.to_numpy(dtype=bool)
            moved = shapely.distance(old.geometry.to_numpy(), new.geometry.to_numpy()) > 0.5
            diff |= moved
            changed[np.flatnonzero(is_old)] = diff
            keep_geom = ~moved
            geoms = incoming.geometry.to_numpy().copy()
            geoms[np.flatnonzero(is_old)[keep_geom]] = old.geometry.to_numpy()[keep_geom]
            incoming = incoming.set_geometry(geoms, crs=CRS_EPSG)
        return existing, incoming, is_old, changed

    def preview_provisions(self, provisions: gpd.GeoDataFrame) -> pd.DataFrame:
        """What :meth:`import_provisions` would do, without writing: provision_id, name, buurt_code and
        action ('nieuw', 'bijgewerkt' or 'ongewijzigd') per incoming row, in its order."""
        _, incoming, is_old, changed = self._provision_plan(provisions)
        action = np.where(~is_old, "nieuw", np.where(changed, "bijgewerkt", "ongewijzigd"))
        return pd.DataFrame({"provision_id": incoming["provision_id"].to_numpy(), "name": incoming["name"].to_numpy(),
                             "buurt_code": incoming["buurt_code"].to_numpy(), "action": action})

    def import_provisions(self, provisions: gpd.GeoDataFrame, *, user: str, source: str = "",
                          sha256: str | None = None, as_batch: bool = True, refuse_same_file: bool = True) -> dict:
        """Insert new provisions and update changed ones (matched on provision_id), atomically.

        A provision whose fields are all equal (and whose point moved less than half a metre,
        the rounding of exported coordinates) is left alone, so re-importing an export changes
        nothing. Every insert and update is audited with before/after values.
        Returns counts: ``nieuw``, ``bijgewerkt``, ``ongewijzigd``. An import (``as_batch``) is a batch
        that can be undone and is refused on the demo store; one provision added by hand is not.
        """
        existing, incoming, is_old, changed = self._provision_plan(provisions)
        new_rows = incoming.loc[~is_old].assign(version=1)
        upd = incoming.loc[changed]
        ins_cols, ins_rows = _prepare_rows(_table("provisions"), new_rows)
        upd_cols, upd_rows = _prepare_rows(_table("provisions"), upd)
        with self._transaction() as conn:
            if as_batch:
                _refuse_demo(conn, self.name)
                # A source whose rows all carry an id (ours or the source's) updates itself on a second import;
                # one without ids would be added a second time, so the same file again is refused.
                same = conn.execute("SELECT batch_id, at FROM batches WHERE kind = 'voorzieningen' AND sha256 = ? "
                                    "AND undone_at IS NULL", (sha256,)).fetchone() if sha256 and refuse_same_file \
                    else None
                if same is not None:  # a source without ids of its own would be added a second time
                    raise DataValidationError(
                        f"Dit bestand is al geïmporteerd (import {same[0]}, {same[1][:10]}); er is niets "
                        "geïmporteerd. Maak die import eerst ongedaan als u het opnieuw wilt inlezen.",
                        file=source or None)
            batch = _begin_batch(conn, "voorzieningen" if as_batch else "handmatig", user, source or None, sha256)
            _insert_batch_rows(conn, "provisions", ins_cols, ins_rows, batch)
            _copy_for_undo(conn, "provisions", "provision_id = ?", [(r[upd_cols.index("provision_id")],)
                                                                    for r in upd_rows], batch)
            for row in upd_rows:
                record = dict(zip(upd_cols, row, strict=True))
                pid = record.pop("provision_id")
                record.pop("version", None)  # the store counts versions itself (a frame read back carries them)
                version = int(existing.loc[pid, "version"])
                sets = ", ".join(f'"{c}" = ?' for c in record)
                cur = conn.execute(
                    f'UPDATE provisions SET {sets}, version = version + 1, batch_id = {int(batch)} '
                    'WHERE provision_id = ? AND version = ?', [*record.values(), pid, version])
                if cur.rowcount != 1:
                    raise ConflictError(f"Voorziening {pid} is tijdens de import door iemand anders gewijzigd; "
                                        "er is niets geïmporteerd. Probeer het opnieuw.")
                _audit(conn, user, "wijzig-voorziening", pid,
                       {"bron": source, "voor": _jsonable(existing.loc[pid]), "na": _jsonable(upd.set_index(
                           "provision_id").loc[pid])})
            _audit_many(conn, user, "nieuwe-voorziening", [(pid, {"bron": source}) for pid in new_rows["provision_id"]])
            _touch_contents(conn, _table("provisions"))
            counts = {"nieuw": len(ins_rows), "bijgewerkt": len(upd_rows),
                      "ongewijzigd": int(is_old.sum()) - len(upd_rows)}
            _end_batch(conn, batch, counts)
            _audit(conn, user, "import-voorzieningen" if as_batch else "nieuwe-voorzieningen", "provisions",
                   {"bron": source, **counts, "import": batch})
        self.last_batch_id = batch
        return counts

    def update_provision(self, provision_id: str, changes: dict, *, expected_version: int, user: str) -> int:
        """Change one provision if nobody else changed it since ``expected_version`` was read.

        Returns the new version. Raises ConflictError when the stored version differs
        (optimistic locking: the second of two simultaneous edits is refused, not merged).
        """
        current = self._read_rows("provisions", "provision_id = ?", (provision_id,)).set_index("provision_id")
        if provision_id not in current.index:
            raise StoreError(f"Voorziening {provision_id} bestaat niet (meer).")
        before = current.loc[provision_id]
        row = current.loc[[provision_id]].reset_index()
        for key, value in changes.items():
            if key == "geometry":
                row = row.set_geometry([value], crs=CRS_EPSG)
            else:
                row[key] = [value]
        cols, rows = _prepare_rows(_table("provisions"), row)
        record = dict(zip(cols, rows[0], strict=True))
        record.pop("provision_id")
        record.pop("version", None)
        with self._transaction() as conn:
            # A hand edit is a small batch of its own: the row as it was is kept, so undoing the import
            # that wrote it is blocked until this edit is undone (nothing is overwritten silently).
            batch = _begin_batch(conn, "handmatig", user, None, None, {"voorziening": provision_id})
            _copy_for_undo(conn, "provisions", "provision_id = ?", [(provision_id,)], batch)
            sets = ", ".join(f'"{c}" = ?' for c in record)
            cur = conn.execute(
                f"UPDATE provisions SET {sets}, version = version + 1, batch_id = {batch} "
                "WHERE provision_id = ? AND version = ?",
                [*record.values(), provision_id, int(expected_version)])
            if cur.rowcount != 1:
                now = conn.execute("SELECT version FROM provisions WHERE provision_id = ?", (provision_id,)).fetchone()
                if now is None:
                    raise ConflictError(f"Voorziening '{before['name']}' is intussen door iemand anders verwijderd. Uw "
                                        "wijziging is niet opgeslagen.")
                raise ConflictError(
                    f"Voorziening '{before['name']}' is intussen door iemand anders gewijzigd (versie "
                    f"{int(now[0])}, u bewerkte versie {int(expected_version)}). Uw wijziging is "
                    "niet opgeslagen; laad de voorziening opnieuw en voer de wijziging nog eens in.")
            _audit(conn, user, "wijzig-voorziening", provision_id,
                   {"voor": _jsonable(before), "na": _jsonable(row.set_index("provision_id").iloc[0]),
                    "import": batch})
            _touch_contents(conn, _table("provisions"))
        self.last_batch_id = batch
        return int(expected_version) + 1

    def delete_provision(self, provision_id: str, *, expected_version: int, user: str) -> None:
        """Delete one provision (with the same optimistic locking) and audit what it was."""
        current = self._read_rows("provisions", "provision_id = ?", (provision_id,)).set_index("provision_id")
        if provision_id not in current.index:
            raise StoreError(f"Voorziening {provision_id} bestaat niet (meer).")
        with self._transaction() as conn:
            batch = _begin_batch(conn, "handmatig", user, None, None, {"voorziening": provision_id,
                                                                        "verwijderd": True})
            _copy_for_undo(conn, "provisions", "provision_id = ? AND version = ?",
                           [(provision_id, int(expected_version))], batch)
            cur = conn.execute("DELETE FROM provisions WHERE provision_id = ? AND version = ?",
                               (provision_id, int(expected_version)))
            if cur.rowcount != 1:
                raise ConflictError(f"Voorziening {provision_id} is intussen gewijzigd; er is niets verwijderd.")
            gone = _delete_keeping(conn, "participation", "provision_id = ?", [(provision_id,)], batch)
            _audit(conn, user, "verwijder-voorziening", provision_id,
                   {"voor": _jsonable(current.loc[provision_id]), "deelnames_verwijderd": gone, "import": batch})
            _touch_contents(conn, _table("provisions"))
        self.last_batch_id = batch

    def buurt_codes_at(self, points: np.ndarray) -> list[str | None]:
        """The code of the buurt each point (RD New) lies in, None outside every buurt."""
        from data.spatial import buurt_codes_at

        buurten = self.read_table("areas")
        return buurt_codes_at(points, buurten.loc[buurten["level"] == "buurt"])

    def outline(self) -> shapely.Geometry | None:
        """The union of the gemeenten in the store (RD New), or None when there are none."""
        areas = self.read_table("areas")
        gemeenten = areas.loc[areas["level"] == "gemeente"].geometry.to_numpy()
        return shapely.union_all(gemeenten) if len(gemeenten) else None

    def read_provision_types(self) -> dict:
        """The provision type catalogue: the defaults plus what users added."""
        from data.provision_types import types_from_frame

        return types_from_frame(self.read_table("provision_types"))

    def add_provision_type(self, ptype, *, user: str) -> None:
        """Add a provision type to the catalogue (the code must be new)."""
        from data.provision_types import catalogue_frame, check_new_type

        check_new_type(ptype, self.read_provision_types())
        cols, rows = _prepare_rows(_table("provision_types"), catalogue_frame({ptype.code: ptype}))
        with self._transaction() as conn:
            _insert_rows(conn, "provision_types", cols, rows)
            _audit(conn, user, "nieuwe-soort", ptype.code, {"naam": ptype.label})

    def read_suitability(self) -> dict[str, tuple[str, ...]]:
        """Which provision types fit which needs: {type: (need, ...)} (see data.provision_types.NEEDS)."""
        from data.provision_types import suitability_from_frame

        return suitability_from_frame(self.read_table("suitability"))

    def save_suitability(self, table: dict[str, tuple[str, ...]], *, user: str) -> None:
        """Replace the suitability table (type -> needs) in one transaction and audit before/after."""
        from data.provision_types import NEEDS, suitability_frame

        known = self.read_provision_types()
        unknown_types = sorted(set(table) - set(known))
        if unknown_types:
            raise DataValidationError(f"Onbekende soort(en) in de tabel 'wat past bij wie': "
                                      f"{', '.join(unknown_types)}.", column="soort")
        unknown_needs = sorted({n for needs in table.values() for n in needs} - set(NEEDS))
        if unknown_needs:
            raise DataValidationError(f"Onbekende behoefte(n): {', '.join(unknown_needs)}; kies uit "
                                      f"{', '.join(NEEDS)}.", column="behoefte")
        before = self.read_suitability()
        cols, rows = _prepare_rows(_table("suitability"), suitability_frame(table))
        with self._transaction() as conn:
            conn.execute("DELETE FROM suitability")
            _insert_rows(conn, "suitability", cols, rows)
            _audit(conn, user, "wijzig-geschiktheid", "suitability",
                   {"voor": {k: list(v) for k, v in before.items()},
                    "na": {k: list(v) for k, v in sorted(table.items()) if v}})

    def next_provision_number(self) -> int:
        """The number after the highest ``V###`` id, for ids of new provisions."""
        with self._connection() as conn:  # ids kept for an undo are taken too: undo must not clash
            ids = [r[0] for r in conn.execute("SELECT provision_id FROM provisions UNION "
                                              "SELECT provision_id FROM undo_provisions")]
        numbers = [int(i[1:]) for i in ids if isinstance(i, str) and i[:1] == "V" and i[1:].isdigit()]
        return max(numbers, default=0) + 1

    def read_scenarios(self) -> pd.DataFrame:
        """Saved scenarios: name, definition (JSON), created_by, created_at, version."""
        return self.read_table("scenarios").sort_values("name").reset_index(drop=True)

    def save_scenario(self, name: str, definition: str, *, user: str, expected_version: int | None = None) -> int:
        """Save a scenario under a name; a new name creates it, an existing name needs its version.

        Returns the stored version. Saving over a scenario someone else changed meanwhile raises
        ConflictError, and a new scenario under a name that already exists as well.
        """
        name = (name or "").strip()
        if not name or len(name) > 80:
            raise DataValidationError("Geef het scenario een naam van 1 tot 80 tekens.", column="naam")
        with self._transaction() as conn:
            row = conn.execute("SELECT version FROM scenarios WHERE name = ?", (name,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO scenarios (name, definition, created_by, created_at, version) "
                             "VALUES (?, ?, ?, ?, 1)", (name, definition, user, _now_iso()))
                _audit(conn, user, "bewaar-scenario", name, {"definitie": json.loads(definition)})
                return 1
            if expected_version is None or int(row[0]) != int(expected_version):
                raise ConflictError(f"Er bestaat al een scenario '{name}' (versie {row[0]}). Kies een andere naam "
                                    "of laad dat scenario eerst.")
            conn.execute("UPDATE scenarios SET definition = ?, version = version + 1 WHERE name = ?",
                         (definition, name))
            _audit(conn, user, "wijzig-scenario", name, {"definitie": json.loads(definition)})
            return int(row[0]) + 1

    def delete_scenario(self, name: str, *, user: str) -> None:
        with self._transaction() as conn:
            if conn.execute("DELETE FROM scenarios WHERE name = ?", (name,)).rowcount != 1:
                raise StoreError(f"Scenario '{name}' bestaat niet (meer).")
            _audit(conn, user, "verwijder-scenario", name, {})

    # ------------------------------------------------------------------ audit

    def log(self, user: str, action: str, target: str = "", details: dict | None = None) -> None:
        """Write one audit entry (e.g. an export or a view of a person's network)."""
        with self._transaction(data=False, lock=False) as conn:
            _audit(conn, user, action, target, details or {})

    # ------------------------------------------------------------------ batches: list, undo, remove

    @property
    def is_demo(self) -> bool:
        """True when this store holds the built-in demo (flagged when it was written)."""
        with self._connection() as conn:
            return _is_demo(conn)

    def read_batches(self) -> pd.DataFrame:
        """Every import, newest first: batch_id, kind, at, user, file_name, sha256, counts (dict),
        undone_at, undone_by, and ``active`` (not undone)."""
        batches = self.read_table("batches").iloc[::-1].reset_index(drop=True)
        batches["counts"] = batches["counts"].map(lambda c: json.loads(c) if isinstance(c, str) else {})
        batches["details"] = batches["details"].map(lambda c: json.loads(c) if isinstance(c, str) else {})
        batches["kind_label"] = batches["kind"].map(lambda k: BATCH_KINDS.get(k, k))
        batches["active"] = batches["undone_at"].isna()
        return batches

    def undo_preview(self, batch_id: int) -> dict:
        """What undoing a batch would do, without doing it.

        Returns a dict with ``batch`` (its record), ``remove`` and ``restore`` (rows per table that go
        and that come back as they were before the import), ``blockers`` (later imports that must be
        undone first, with the reason) and ``orphans`` (provisions and persons that would be left in a
        buurt that is no longer in the store).
        """
        with self._connection() as conn:
            return _undo_plan(conn, int(batch_id))

    def undo_batch(self, batch_id: int, *, user: str) -> dict:
        """Undo one import in one transaction: its rows go, the rows it replaced come back.

        Refused (StoreError, nothing changed) when the batch is unknown or already undone, or while a
        later import changed the same rows or uses its areas. Provisions get the buurt they lie in
        anew; what is left pointing at a removed buurt is counted in the result and the audit log.
        """
        batch_id = int(batch_id)
        with self._transaction() as conn:
            plan = _undo_plan(conn, batch_id)
            if plan["blockers"]:
                first = "; ".join(f"import {b['batch_id']} {b['reason']}" if b["batch_id"] else b["reason"]
                                  for b in plan["blockers"])
                raise StoreError(f"Import {batch_id} kan nog niet ongedaan worden gemaakt: {first}. Maak die "
                                 "eerst ongedaan. Er is niets gewijzigd.")
            versions = dict(conn.execute("SELECT provision_id, version FROM provisions WHERE batch_id = ?",
                                         (batch_id,)))
            for name in BATCHED_TABLES:
                if not (plan["remove"][name] or plan["restore"][name]):
                    continue
                conn.execute(f'DELETE FROM "{name}" WHERE "{BATCH_COLUMN}" = ?', (batch_id,))
                cols = _stored_columns(_table(name))
                try:
                    conn.execute(f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM "undo_{name}" '
                                 "WHERE undo_batch = ? ORDER BY fid", (batch_id,))
                except INTEGRITY_ERRORS as exc:
                    raise StoreError(f"Import {batch_id} kan niet ongedaan worden gemaakt: de oude gegevens in "
                                     f"'{name}' botsen met gegevens van later ({exc}). Er is niets gewijzigd.") from exc
                conn.execute(f'DELETE FROM "undo_{name}" WHERE undo_batch = ?', (batch_id,))
                _touch_contents(conn, _table(name))
            # A provision that comes back gets a newer version than the one removed: an edit form opened
            # on the removed version cannot pass the optimistic lock.
            conn.executemany("UPDATE provisions SET version = MAX(version, ?) + 1 WHERE provision_id = ?",
                             [(v, pid) for pid, v in versions.items()])
            areas_changed = plan["remove"]["areas"] or plan["restore"]["areas"]
            unlocated = _relocate_provisions(conn) if areas_changed else conn.execute(
                "SELECT COUNT(*) FROM provisions WHERE buurt_code IS NULL").fetchone()[0]
            conn.execute("UPDATE batches SET undone_at = ?, undone_by = ? WHERE batch_id = ?",
                         (_now_iso(), user, batch_id))
            result = {"verwijderd": plan["remove"], "teruggezet": plan["restore"],
                      "voorzieningen_zonder_buurt": unlocated,
                      "personen_in_verdwenen_buurt": plan["orphans"]["personen"]}
            _audit(conn, user, "ongedaan-maken", f"import {batch_id}",
                   {"soort": plan["batch"]["kind"], "bestand": plan["batch"]["file_name"], **result})
        return result

    def remove_areas(self, gemeente_code: str, year: int, *, user: str) -> dict:
        """Remove one gemeente's key figures of one year, and its areas that have no figures left.

        This is a batch itself (kind 'verwijdering'), so it can be undone like an import.
        """
        gemeente_code = str(gemeente_code).strip().upper()
        with self._transaction() as conn:
            codes = [(r[0],) for r in conn.execute("SELECT area_code FROM areas WHERE gemeente_code = ?",
                                                   (gemeente_code,))]
            n_values = sum(conn.execute("SELECT COUNT(*) FROM area_values WHERE area_code = ? AND year IS ?",
                                        (c, int(year))).fetchone()[0] for (c,) in codes)
            if not codes or not n_values:
                raise DataValidationError(f"Er zijn geen gebieden van {gemeente_code} met cijfers van {int(year)} "
                                          "in de opslag; er is niets verwijderd.")
            batch = _begin_batch(conn, "verwijdering", user, None, None,
                                 {"gemeente": gemeente_code, "jaar": int(year)})
            _delete_keeping(conn, "area_values", "area_code = ? AND year IS ?", [(c, int(year)) for (c,) in codes],
                            batch)
            empty = [(r[0],) for r in conn.execute(
                "SELECT area_code FROM areas WHERE gemeente_code = ? AND area_code NOT IN "
                "(SELECT DISTINCT area_code FROM area_values)", (gemeente_code,))]
            _delete_keeping(conn, "areas", "area_code = ?", empty, batch)
            unlocated = _relocate_provisions(conn)
            orphans = conn.execute("SELECT COUNT(*) FROM persons WHERE buurt_code IS NOT NULL AND buurt_code NOT IN "
                                   "(SELECT area_code FROM areas)").fetchone()[0]
            counts = {"waarden": n_values, "gebieden": len(empty), "voorzieningen_zonder_buurt": unlocated,
                      "personen_in_verdwenen_buurt": orphans}
            _end_batch(conn, batch, counts)
            _touch_contents(conn, _table("areas"))
            _touch_contents(conn, _table("area_values"))
            _audit(conn, user, "verwijder-gebieden", gemeente_code, {"jaar": int(year), "import": batch, **counts})
        self.last_batch_id = batch
        return {**counts, "import": batch}

    def remove_demo(self, *, user: str) -> dict:
        """Take the demo municipality out: everything of GM9999, or the whole content of a demo store.

        Afterwards the store is an empty (or real-only) store of its own, no longer a demo: the next
        step is to create the administrator and import the gemeente's own data.
        """
        from data.demo import GEMEENTE_CODE

        with self._transaction() as conn:
            demo = _is_demo(conn)
            has_demo_areas = conn.execute("SELECT COUNT(*) FROM areas WHERE gemeente_code = ?",
                                          (GEMEENTE_CODE,)).fetchone()[0]
            if not demo and not has_demo_areas:
                raise DataValidationError("Deze opslag bevat de demogemeente niet; er is niets verwijderd.")
            before = {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in BATCHED_TABLES}
            if demo:
                for name in (*BATCHED_TABLES, "aftercare_plans", "aftercare_contacts", "agenda_items", "agenda_links",
                             "agenda_updates", "initiatives", "key_figures", "scenarios", "batches"):
                    conn.execute(f'DELETE FROM "{name}"')
                for name in BATCHED_TABLES:
                    conn.execute(f'DELETE FROM "undo_{name}"')
            else:  # an older store where real data was imported next to the demo: only the demo's part
                buurt = f"BU{GEMEENTE_CODE[2:]}%"
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS _demo_people (pid TEXT PRIMARY KEY)")
                conn.execute("DELETE FROM _demo_people")
                conn.execute("INSERT OR IGNORE INTO _demo_people SELECT person_id FROM persons WHERE buurt_code LIKE ?",
                             (buurt,))
                conn.execute("DELETE FROM participation WHERE person_id IN (SELECT pid FROM _demo_people) OR "
                             "provision_id IN (SELECT provision_id FROM provisions WHERE buurt_code LIKE ?)", (buurt,))
                for name in ("ties", "alter_links"):
                    conn.execute(f'DELETE FROM "{name}" WHERE ego_id IN (SELECT pid FROM _demo_people)')
                conn.execute("DELETE FROM aftercare_contacts WHERE plan_id IN (SELECT plan_id FROM aftercare_plans "
                             "WHERE person_id IN (SELECT pid FROM _demo_people))")
                for name in ("measurements", "followup_ties", "aftercare_plans"):
                    conn.execute(f'DELETE FROM "{name}" WHERE person_id IN (SELECT pid FROM _demo_people)')
                wijk = f"WK{GEMEENTE_CODE[2:]}%"
                for name in ("agenda_links", "agenda_updates"):
                    conn.execute(f'DELETE FROM "{name}" WHERE item_id IN (SELECT item_id FROM agenda_items '
                                 "WHERE wijk_code LIKE ?)", (wijk,))
                conn.execute("DELETE FROM agenda_items WHERE wijk_code LIKE ?", (wijk,))
                conn.execute("DELETE FROM initiatives WHERE buurt_code LIKE ?", (buurt,))
                conn.execute("DELETE FROM key_figures WHERE wijk_code LIKE ? OR buurt_code LIKE ?", (wijk, buurt))
                conn.execute("DELETE FROM persons WHERE person_id IN (SELECT pid FROM _demo_people)")
                conn.execute("DELETE FROM provisions WHERE buurt_code LIKE ?", (buurt,))
                conn.execute("DELETE FROM area_values WHERE area_code IN (SELECT area_code FROM areas "
                             "WHERE gemeente_code = ?)", (GEMEENTE_CODE,))
                conn.execute("DELETE FROM areas WHERE gemeente_code = ?", (GEMEENTE_CODE,))
                conn.execute("DROP TABLE _demo_people")
            set_meta(conn, "demo", "0")
            set_meta(conn, "demo_removed_at", _now_iso())
            after = {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in BATCHED_TABLES}
            removed = {n: before[n] - after[n] for n in BATCHED_TABLES}
            for name in BATCHED_TABLES:
                _touch_contents(conn, _table(name))
            _audit(conn, user, "verwijder-demo", GEMEENTE_CODE, {"verwijderd": removed})
        return removed

    # ---------------------------------------------------------------- derived: map geometry (a cache, not data)

    MAP_GEOMETRY_TABLE = "steunkaart_map_geometry"  # derived data: not in TABLES, never copied or undone

    def read_map_geometry(self, key: str) -> dict | None:
        """The browser geometry cached under ``key`` (see :func:`mapping.simplify.cached_web_geometries`), or None.

        Returns ``{"data_version", "fingerprint", "codes", "payload"}``; None when nothing is cached or the cache
        cannot be read (no table yet, a store without it): the caller then simplifies itself.
        """
        from data.sql import DATABASE_ERRORS

        try:
            with self._connection() as conn:
                if self.MAP_GEOMETRY_TABLE not in table_names(conn):
                    return None
                row = conn.execute(f'SELECT data_version, fingerprint, codes, payload FROM "{self.MAP_GEOMETRY_TABLE}" '
                                   "WHERE cache_key = ?", (key,)).fetchone()
        except (StoreError, *DATABASE_ERRORS):
            return None
        if row is None:
            return None
        return {"data_version": int(row[0]), "fingerprint": str(row[1]), "codes": str(row[2]),
                "payload": bytes(row[3])}

    def write_map_geometry(self, key: str, *, data_version: int, fingerprint: str, codes: str,
                           payload: bytes) -> bool:
        """Cache browser geometry under ``key`` for ``data_version``; derived data, so the data version stays.

        Returns False (and changes nothing) when the store cannot be written now (read-only, busy, no right to
        create the table): the map is drawn anyway.
        """
        from data.sql import DATABASE_ERRORS

        try:
            with self._transaction(data=False, lock=False) as conn:
                blob, integer = ("bytea", "bigint") if is_postgres(conn) else ("BLOB", "INTEGER")
                conn.execute(f'CREATE TABLE IF NOT EXISTS "{self.MAP_GEOMETRY_TABLE}" (cache_key TEXT PRIMARY KEY, '
                             f"data_version {integer} NOT NULL, fingerprint TEXT NOT NULL, codes TEXT NOT NULL, "
                             f"payload {blob} NOT NULL)")
                conn.execute(f'INSERT INTO "{self.MAP_GEOMETRY_TABLE}" (cache_key, data_version, fingerprint, codes, '
                             "payload) VALUES (?, ?, ?, ?, ?) ON CONFLICT (cache_key) DO UPDATE SET "
                             "data_version = excluded.data_version, fingerprint = excluded.fingerprint, "
                             "codes = excluded.codes, payload = excluded.payload",
                             (key, int(data_version), fingerprint, codes, payload))
        except (StoreError, OSError, *DATABASE_ERRORS):
            return False
        return True


class GeoPackageStore(SqlStore):
    """Steunkaart's embedded store in one GeoPackage file.

    Parameters
    ----------
    path : str or Path
        The ``.gpkg`` file. Use :meth:`open` to create or check it.
    """

    # Tables up to this many rows (by their largest fid) are read through sqlite3 tuples, larger ones through
    # GDAL's Arrow stream; both give the same frame (0: always Arrow, as the tests of the Arrow path set it).
    ARROW_MIN_ROWS = 2_000

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.last_batch_id = None

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    def data_version(self) -> int:
        """A counter in ``steunkaart_meta`` that every data write bumps in its own transaction (a sign-in or an audit
        entry does not): the key of the pages' caches, the same on every server process that opens the file."""
        with self._connection() as conn:
            row = conn.execute("SELECT value FROM steunkaart_meta WHERE key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def _read_arrow(self, table: Table, kinds: dict[str, str], where: str,
                    params: tuple) -> tuple[pd.DataFrame, np.ndarray | None] | None:
        """One SQLite statement through GDAL's Arrow stream (pyogrio): DATE columns as their stored text (the
        same ``pd.to_datetime`` as the tuple path), the geometry as WKB; the parameters inlined as literals.
        None (read through tuples) when a parameter has no safe literal or GDAL cannot read the file."""
        if BLOB in kinds.values() or not self.path.exists():
            return None
        if table.geometry_type not in (None, "POINT"):
            # GDAL turns each GeoPackage blob into its own geometry and back into WKB: for detailed polygons
            # (a national coverage, 11.7 M vertices) twice as slow as decoding the blobs here, so those read as tuples.
            return None
        clause = ""
        if where:
            inlined = inline_params(where, params)
            if inlined is None:
                return None
            clause = f" WHERE {inlined}"
        if self.ARROW_MIN_ROWS > 0:  # opening a dataset in GDAL costs a few ms: a small table reads faster as tuples
            with self._connection() as conn:
                last = conn.execute(f'SELECT max(fid) FROM "{table.name}"').fetchone()[0]
            if (last or 0) < self.ARROW_MIN_ROWS:
                return None
        try:
            if clause or DATE in kinds.values():
                cols = ", ".join(f'CAST("{c}" AS TEXT) AS "{c}"' if kind == DATE else f'"{c}"'
                                 for c, kind in kinds.items())
                geom = ', "geom"' if table.geometry_type else ""
                data, geometry_name = read_gpkg_arrow(
                    self.path, f'SELECT {cols}{geom} FROM "{table.name}"{clause} ORDER BY fid')
            else:  # a whole layer without dates: GDAL's own layer reader, a little faster than a SELECT
                data, geometry_name = read_gpkg_arrow(self.path, layer=table.name, columns=list(kinds))
        except Exception:  # noqa: BLE001 - any GDAL trouble: the tuple path reads (and reports) it
            return None
        if set(kinds) - set(data.column_names):
            return None
        geometry = None
        if table.geometry_type:
            if geometry_name not in data.column_names:
                if data.num_rows:
                    return None
                geometry = np.array([], dtype=object)
            else:
                geometry = shapely.from_wkb(data.column(geometry_name).to_numpy(zero_copy_only=False))
        return frame_from_arrow(data, kinds), geometry

    # ---------------------------------------------------------------- opening and schema

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = True) -> GeoPackageStore:
        """Open the store at ``path``, creating an empty one when it is missing.

        What an interrupted start left behind is cleared first (see :func:`recover_interrupted_start`).

        Raises
        ------
        StoreError
            When the file is not a Steunkaart GeoPackage, was written by a newer
            version, or is missing while ``create`` is False.
        """
        store = cls(path if path is not None else default_store_path())
        recover_interrupted_start(store.path)
        if not store.path.exists():
            if not create:
                raise StoreError(
                    f"De opslag '{store.path}' bestaat niet. Maak een lege opslag aan (python cli.py init "
                    f"--store {store.path}), of de demo (python cli.py demo --store {store.path})."
                )
            cls.create_new(store.path, exist_ok=True)
        store._check_and_migrate()
        return store

    @classmethod
    def create_new(cls, path: str | os.PathLike, *, fill: Callable[[GeoPackageStore], None] | None = None,
                   exist_ok: bool = False, seed: bool = True) -> GeoPackageStore:
        """Create a store at ``path`` that is complete before it is there: built in a temporary file
        next to it (schema, catalogue and, with ``fill``, its data), then moved into place.

        A start that is interrupted leaves at most a temporary file, never a half-built store. An
        existing file is never overwritten: with ``exist_ok`` the existing store is kept and opened,
        otherwise StoreError.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and not exist_ok:
            raise StoreError(f"Het bestand '{target}' bestaat al; er is niets gewijzigd. Kies een nieuwe "
                             "bestandsnaam voor een nieuwe opslag.")
        fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".gpkg", dir=target.parent)
        os.close(fd)
        os.unlink(tmp)
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
                conn.execute("BEGIN")
                _create_gpkg_core(conn)
                for table in TABLES.values():
                    _create_table(conn, table)
                _create_undo_tables(conn)
                conn.execute(
                    "CREATE TABLE steunkaart_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                conn.executemany(
                    "INSERT INTO steunkaart_meta VALUES (?, ?)",
                    [("schema_version", str(SCHEMA_VERSION)), ("created_at", _now_iso()), ("demo", "0")],
                )
                if seed:  # without: an empty shell for a copy of another store (data.store_copy)
                    _seed_provision_types(conn)
                    _seed_suitability(conn)
                    _audit(conn, "systeem", "nieuwe-opslag", target.name, {"schemaversie": SCHEMA_VERSION})
                conn.execute("COMMIT")
            finally:
                conn.close()
            if fill is not None:
                fill(cls(tmp))
            # Built in rollback-journal mode, so the finished build is this one file: nothing of it can
            # stay behind in a -wal file when it is linked into place.
            placed = False
            try:
                os.link(tmp, target)  # never replaces a file that appeared meanwhile
                placed = True
            except FileExistsError:
                if not exist_ok:
                    raise StoreError(f"Het bestand '{target}' bestaat al; er is niets gewijzigd.") from None
            except OSError:
                if target.exists() and not exist_ok:
                    raise StoreError(f"Het bestand '{target}' bestaat al; er is niets gewijzigd.") from None
                if not target.exists():
                    os.replace(tmp, target)
                    placed = True
        finally:
            for leftover in (tmp, *(tmp + suffix for suffix in _COMPANIONS)):
                if os.path.exists(leftover):
                    os.unlink(leftover)
        store = cls(target)
        if placed:
            with store._connection() as conn:
                _use_wal(conn)
        return store

    def _check_and_migrate(self) -> None:
        with open(self.path, "rb") as fh:
            magic = fh.read(16)
        if magic != _SQLITE_MAGIC:
            raise StoreError(
                f"'{self.path}' is geen GeoPackage-bestand (het is geen SQLite-database). "
                "Kies het .gpkg-bestand van Steunkaart of een nieuwe bestandsnaam."
            )
        with self._connection() as conn:
            has_meta = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='steunkaart_meta'"
            ).fetchone()
            if not has_meta:
                raise StoreError(
                    f"'{self.path}' is een GeoPackage, maar geen Steunkaart-opslag "
                    "(de tabel steunkaart_meta ontbreekt). Wilt u gegevens uit dit bestand "
                    "gebruiken, importeer het dan in een Steunkaart-opslag."
                )
            _use_wal(conn)  # once, for stores made before Steunkaart used WAL
            version = int(
                conn.execute(
                    "SELECT value FROM steunkaart_meta WHERE key='schema_version'"
                ).fetchone()[0]
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"De opslag '{self.path}' heeft schemaversie {version}; deze versie van "
                f"Steunkaart kent tot en met versie {SCHEMA_VERSION}. Werk Steunkaart bij."
            )
        if version < SCHEMA_VERSION:
            self._migrate(version)

    # ---------------------------------------------------------------- connections

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection that waits up to BUSY_TIMEOUT_S for a lock; 'database is locked' becomes StoreBusyError."""
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S, factory=SqliteConnection)
        try:
            yield conn
        except (sqlite3.OperationalError, pd.errors.DatabaseError) as exc:
            cause = exc if isinstance(exc, sqlite3.Error) else exc.__cause__  # pandas wraps what read_sql met
            if isinstance(cause, sqlite3.OperationalError) and _is_busy(cause):
                raise StoreBusyError(_BUSY_MESSAGE) from exc
            raise
        finally:
            conn.close()

    @contextmanager
    def _transaction(self, *, data: bool = True, lock: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock first (waiting for another writer),
        COMMIT at the end; any error, also a lock that is not released at COMMIT, rolls everything back."""
        with self._connection() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreBusyError(_BUSY_MESSAGE) from exc
            try:
                yield conn
                if data:
                    bump_data_version(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ backups

    def backup_to(self, out: str | os.PathLike) -> Path:
        """Write a consistent copy of the store to ``out`` while the app may be running.

        Uses SQLite's online backup API (a snapshot under a read lock, not a file copy halfway through
        a write), checks the copy and only then gives it its name. An existing ``out`` is refused.
        """
        out = Path(out)
        if out.exists():
            raise StoreError(f"Het bestand '{out}' bestaat al; kies een nieuwe naam voor de reservekopie.")
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".gpkg", dir=out.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            _sqlite_copy(self.path, tmp)
            problem = _check_copy(tmp)
            if problem:
                raise StoreError(f"De reservekopie is niet in orde ({problem}); probeer het opnieuw.")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        with self._transaction() as conn:
            _audit(conn, "systeem", "reservekopie", out.name, {"bytes": out.stat().st_size})
        return out

    @classmethod
    def restore_from(cls, copy: str | os.PathLike, target: str | os.PathLike, *, user: str) -> dict:
        """Put a backup back as the store at ``target``, after checking it.

        The copy must be a sound Steunkaart GeoPackage of this or an older schema version (it is
        migrated); the copy itself is not changed. The store that was at ``target`` is kept next to
        it as ``<naam>.voor-herstel-<tijd>.gpkg``. Returns the counts of the restored store and the
        name of that safety copy.
        """
        copy, target = Path(copy), Path(target)
        if not copy.is_file():
            raise StoreError(f"De reservekopie '{copy}' bestaat niet.")
        problem = _check_copy(copy)
        if problem:
            raise StoreError(f"'{copy.name}' kan niet worden teruggezet: {problem}. Er is niets gewijzigd.")
        previous = cls(target).data_version() if target.exists() else 0
        fd, staged_name = tempfile.mkstemp(prefix=f"{_TEMP_PREFIX}herstel-", suffix=".gpkg", dir=target.parent)
        os.close(fd)
        staged = Path(staged_name)
        safety = None
        try:
            _sqlite_copy(copy, staged)
            cls(staged)._check_and_migrate()
            if target.exists():
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
                safety = target.with_name(f"{target.stem}.voor-herstel-{stamp}{target.suffix}")
                _sqlite_copy(target, safety)
                _match_page_size(staged, target)
                # Into the live file under its lock (it stays in WAL mode): other servers see it at once.
                _sqlite_copy(staged, target, single_file=False)
            else:
                os.replace(staged, target)
        finally:
            for leftover in (staged, *(Path(f"{staged}{suffix}") for suffix in _COMPANIONS)):
                leftover.unlink(missing_ok=True)
        store = cls(target)
        with store._transaction(data=False) as conn:
            # Past every version the replaced store had: no page cache can take the restored data for old data.
            restored = conn.execute("SELECT value FROM steunkaart_meta WHERE key = 'data_version'").fetchone()
            set_meta(conn, "data_version", str(max(previous, int(restored[0]) if restored else 0) + 1))
            _audit(conn, user, "herstel-reservekopie", copy.name,
                   {"bestand": copy.name, "sha256": file_sha256(copy),
                    "vorige_opslag": safety.name if safety else None})
        return {"counts": store.counts(), "safety_copy": safety}


# --------------------------------------------------------------------------- helpers


def _comparable(series: pd.Series) -> pd.Series:
    """Values as comparable text: dates as ISO days, numbers without float noise."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").astype("string").reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("Float64").round(6).astype("string").reset_index(drop=True)
    return series.astype("string").str.strip().replace("", pd.NA).reset_index(drop=True)


def _jsonable(row: pd.Series) -> dict:
    """One record as plain JSON-able values for the audit log (geometry as WKT)."""
    out = {}
    for key, value in row.items():
        if isinstance(value, shapely.Geometry):
            out[key] = value.wkt
        elif value is None or (not isinstance(value, str) and pd.isna(value)):
            out[key] = None
        elif isinstance(value, pd.Timestamp):
            out[key] = value.strftime("%Y-%m-%d")
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _normalised_name(name: str | None, code: str) -> str:
    """Lower-case name; names derived from a code (``Wijk 03``) match any real name."""
    text = str(name or "").strip().lower()
    return "" if text in ("", f"wijk {code[-2:]}".lower()) else text


def _table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise StoreError(f"Onbekende tabel '{name}' in de opslag.") from None


def _column_kinds(table: Table) -> dict[str, str]:
    """Column -> read kind (:func:`data.sql.column_kind`) of one table, its booleans from ``_BOOL_COLUMNS``."""
    bools = _BOOL_COLUMNS.get(table.name, ())
    return {col: column_kind(sqltype, col in bools) for col, sqltype in table.columns}


def _create_gpkg_core(conn: sqlite3.Connection) -> None:
    """Create the mandatory GeoPackage metadata tables and spatial reference systems."""
    conn.execute(
        """CREATE TABLE gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
            description TEXT)"""
    )
    conn.execute(
        """CREATE TABLE gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
            identifier TEXT UNIQUE, description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))"""
    )
    conn.execute(
        """CREATE TABLE gpkg_geometry_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL,
            geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
            z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT uk_gc_table_name UNIQUE (table_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))"""
    )
    wgs84, rd_new = (CRS.from_epsg(e).to_wkt("WKT1_GDAL") for e in (4326, CRS_EPSG))
    srs_rows = [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined",
         "undefined cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined",
         "undefined geographic coordinate reference system"),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, wgs84,
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ("Amersfoort / RD New", CRS_EPSG, "EPSG", CRS_EPSG, rd_new, "Rijksdriehoekstelsel (RD New)"),
    ]
    conn.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", srs_rows)


def _create_table(conn: sqlite3.Connection, table: Table) -> None:
    if is_postgres(conn):
        from data.postgis import create_table

        return create_table(conn, table)
    cols = ['"fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL']
    cols += [f'"{name}" {sqltype}' for name, sqltype in table.columns]
    if table.name in BATCHED_TABLES:
        cols.append(f'"{BATCH_COLUMN}" INTEGER')
    if table.geometry_type:
        cols.append(f'"geom" {table.geometry_type}')
    if table.unique:
        cols.append("UNIQUE (" + ", ".join(f'"{c}"' for c in table.unique) + ")")
    conn.execute(f'CREATE TABLE "{table.name}" ({", ".join(cols)})')
    if table.name in BATCHED_TABLES:
        conn.execute(f'CREATE INDEX "idx_{table.name}_batch" ON "{table.name}" ("{BATCH_COLUMN}")')
    data_type = "features" if table.geometry_type else "attributes"
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (table.name, data_type, table.name, table.description, CRS_EPSG if table.geometry_type else None),
    )
    if table.geometry_type:
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
            (table.name, table.geometry_type, CRS_EPSG),
        )


def _prepare_rows(table: Table, frame: pd.DataFrame) -> tuple[list[str], list[tuple]]:
    """Check a frame against the table and turn it into plain Python rows for SQLite."""
    required = [c for c, t in table.columns if "NOT NULL" in t and "DEFAULT" not in t]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"Tabel '{table.name}': verplichte kolommen ontbreken: {', '.join(missing)}."
        )
    columns = [c for c in table.column_names if c in frame.columns]
    for col in required:
        empty = frame[col].isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0]) + 2
            raise DataValidationError(
                f"Tabel '{table.name}': kolom '{col}' mag niet leeg zijn.", row=row, column=col
            )
    if table.unique:
        dup = frame.duplicated(list(table.unique), keep="first")
        if dup.any():
            row = int(np.flatnonzero(dup.to_numpy())[0]) + 2
            # The key itself is not repeated: it can be a person's code (no person data in messages).
            raise DataValidationError(
                f"Tabel '{table.name}': dubbele sleutel; elke "
                f"{'/'.join(table.unique)} mag maar één keer voorkomen.",
                row=row,
                column=table.unique[0],
            )
    values = []
    text = {c: t.split()[0] == "TEXT" for c, t in table.columns}
    for col in columns:
        series = frame[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            series = series.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(series):
            series = series.astype("Int64")
        elif text.get(col) and pd.api.types.is_numeric_dtype(series):
            series = series.astype("string")  # as SQLite's TEXT affinity stores a number (PostgreSQL refuses one)
        obj = series.astype(object)
        values.append(obj.where(series.notna(), None).tolist())
    if table.geometry_type:
        geoms = _geometries_for(table, frame)
        columns = [*columns, "geom"]
        values.append(encode_gpkg_geometries(geoms))
    rows = list(zip(*values, strict=True)) if values else []
    return columns, rows


def _geometries_for(table: Table, frame: pd.DataFrame) -> np.ndarray:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise DataValidationError(f"Tabel '{table.name}': de geometrie ontbreekt.")
    if frame.crs is None or CRS(frame.crs) != CRS.from_epsg(CRS_EPSG):
        raise DataValidationError(
            f"Tabel '{table.name}': de geometrie moet in RD New (EPSG:{CRS_EPSG}) staan, "
            f"maar staat in {frame.crs or 'een onbekend coördinatenstelsel'}."
        )
    geoms = frame.geometry.to_numpy()
    if table.geometry_type == "MULTIPOLYGON":
        is_poly = shapely.get_type_id(geoms) == 3
        geoms = geoms.copy()
        if is_poly.any():
            geoms[is_poly] = shapely.multipolygons(geoms[is_poly], indices=np.arange(is_poly.sum()))
        bad = ~np.isin(shapely.get_type_id(geoms), [6, -1])
    else:
        bad = ~np.isin(shapely.get_type_id(geoms), [0, -1])
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        raise DataValidationError(
            f"Tabel '{table.name}': verwacht geometrie van type {table.geometry_type}, "
            f"maar rij {row} heeft {shapely.get_type_id(geoms[row - 2])}.",
            row=row,
            column="geometry",
        )
    return geoms


def _insert_rows(conn: sqlite3.Connection, name: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    try:
        if is_postgres(conn) and "geom" not in columns and len(rows) > 100:
            base = TABLES[name[len("undo_"):] if name.startswith("undo_") else name]
            integers = {c for c, t in base.columns if t.split()[0] == "INTEGER"} | {"fid", BATCH_COLUMN, "undo_batch"}
            conn.copy_rows(name, columns, rows, integers=[i for i, c in enumerate(columns) if c in integers])
        else:
            conn.executemany(f'INSERT INTO "{name}" ({cols}) VALUES ({marks})', rows)
    except INTEGRITY_ERRORS as exc:
        raise DataValidationError(
            f"Tabel '{name}': de gegevens passen niet in de opslag ({exc}). Er is niets gewijzigd."
        ) from exc


def _touch_contents(conn: sqlite3.Connection, table: Table) -> None:
    """Update last_change and, for feature layers, the extent in gpkg_contents (GeoPackage only)."""
    if is_postgres(conn):
        return
    if table.geometry_type:
        blobs = [r[0] for r in conn.execute(f'SELECT geom FROM "{table.name}"')]
        geoms = decode_gpkg_geometries(blobs)
        if len(geoms):
            minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        else:
            minx = miny = maxx = maxy = None
        conn.execute(
            "UPDATE gpkg_contents SET last_change=?, min_x=?, min_y=?, max_x=?, max_y=? "
            "WHERE table_name=?",
            (_now_iso(), minx, miny, maxx, maxy, table.name),
        )
    else:
        conn.execute(
            "UPDATE gpkg_contents SET last_change=? WHERE table_name=?", (_now_iso(), table.name)
        )


def _audit(conn: sqlite3.Connection, user: str, action: str, target: str, details: dict) -> None:
    conn.execute(
        "INSERT INTO audit (at, user, action, target, details) VALUES (?, ?, ?, ?, ?)",
        (_now_iso(), user, action, target, json.dumps(details, ensure_ascii=False, default=str)),
    )


def bump_data_version(conn) -> int:
    """Count one data write (inside its transaction); stores made before the counter start at 1."""
    cur = conn.execute("UPDATE steunkaart_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
                       "WHERE key = 'data_version'")
    if cur.rowcount == 0:
        conn.execute("INSERT INTO steunkaart_meta (key, value) VALUES ('data_version', '1')")
        return 1
    return int(conn.execute("SELECT value FROM steunkaart_meta WHERE key = 'data_version'").fetchone()[0])


def _audit_many(conn: sqlite3.Connection, user: str, action: str, entries: list[tuple[str, dict]]) -> None:
    """One audit entry per (target, details), written in one statement (an import of 10,000 provisions)."""
    at = _now_iso()
    conn.executemany("INSERT INTO audit (at, user, action, target, details) VALUES (?, ?, ?, ?, ?)",
                     [(at, user, action, target, json.dumps(details, ensure_ascii=False, default=str))
                      for target, details in entries])


def mark_demo(store) -> None:
    """Flag a store that holds only the built-in demo municipality."""
    with store._transaction() as conn:
        set_meta(conn, "demo", "1")


def _seed_provision_types(conn: sqlite3.Connection) -> None:
    from data.provision_types import catalogue_frame

    cols, rows = _prepare_rows(_table("provision_types"), catalogue_frame())
    _insert_rows(conn, "provision_types", cols, rows)


def _seed_suitability(conn: sqlite3.Connection) -> None:
    from data.provision_types import suitability_frame

    cols, rows = _prepare_rows(_table("suitability"), suitability_frame())
    _insert_rows(conn, "suitability", cols, rows)


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Version 2 keeps the provision type catalogue in the store, so users can extend it."""
    _create_table(conn, _table("provision_types"))
    _seed_provision_types(conn)  # in version 7's columns; the 6 -> 7 step adds nothing then


def _migrate_2_to_3(conn: sqlite3.Connection) -> None:
    """Version 3 records which alters of an ego know each other (density among alters)."""
    _create_table(conn, _table("alter_links"))


def _migrate_3_to_4(conn: sqlite3.Connection) -> None:
    """Version 4 keeps named scenarios and the local user accounts."""
    _create_table(conn, _table("scenarios"))
    _create_table(conn, _table("users"))


def _migrate_4_to_5(conn: sqlite3.Connection) -> None:
    """Version 5 records every import as a batch that can be undone, and flags the demo explicitly."""
    for name in BATCHED_TABLES:
        have = column_names(conn, name)
        if have and BATCH_COLUMN not in have:  # tables of later versions come with their own step
            conn.execute(f'ALTER TABLE "{name}" ADD COLUMN "{BATCH_COLUMN}" INTEGER')
            conn.execute(f'CREATE INDEX "idx_{name}_batch" ON "{name}" ("{BATCH_COLUMN}")')
    _create_table(conn, _table("batches"))
    _create_undo_tables(conn)
    if conn.execute("SELECT 1 FROM steunkaart_meta WHERE key = 'demo'").fetchone() is None:
        from data.demo import GEMEENTE_CODE

        gemeenten = [r[0] for r in conn.execute("SELECT area_code FROM areas WHERE level = 'gemeente'")]
        conn.execute("INSERT INTO steunkaart_meta VALUES ('demo', ?)", ("1" if gemeenten == [GEMEENTE_CODE] else "0",))


def _migrate_5_to_6(conn: sqlite3.Connection) -> None:
    """Version 6 gives users a second sign-in step (TOTP secret) and a session epoch."""
    have = column_names(conn, 'users')
    for name, sqltype in _table("users").columns:
        if name not in have:  # a users table made by the version 4 step already has them
            conn.execute(f'ALTER TABLE "users" ADD COLUMN "{name}" {sqltype}')


def _migrate_6_to_7(conn: sqlite3.Connection) -> None:
    """Version 7: organisations' addresses, source ids and the outside-areas flag on provisions; places
    or visitors per type; the suitability table (type x need)."""
    from data.provision_types import PROVISION_TYPES

    for name in ("provisions", "undo_provisions", "provision_types"):
        have = column_names(conn, name)
        for col, sqltype in _table(name.removeprefix("undo_")).columns:
            if col not in have:
                # Undo copies take every value as it is; only the live tables carry the constraints.
                conn.execute(f'ALTER TABLE "{name}" ADD COLUMN "{col}" '
                             f'{sqltype if not name.startswith("undo_") else sqltype.split()[0]}')
    conn.executemany("UPDATE provision_types SET has_places = ?, places_per_volunteer = ? WHERE code = ?",
                     [(int(t.has_places), t.places_per_volunteer, code) for code, t in PROVISION_TYPES.items()])
    # A store copied back to version 6 by hand may keep the table (tests do): create and fill it once.
    if "suitability" not in table_names(conn):
        _create_table(conn, _table("suitability"))
    if conn.execute("SELECT COUNT(*) FROM suitability").fetchone()[0] == 0:
        _seed_suitability(conn)


def _create_undo_tables(conn: sqlite3.Connection, names: tuple[str, ...] = BATCHED_TABLES) -> None:
    """``undo_<table>``: the rows an import replaced or removed, with the batch that did it.

    Plain SQLite tables, not registered as GeoPackage layers (QGIS does not list them).
    """
    if is_postgres(conn):
        from data.postgis import create_undo_tables

        return create_undo_tables(conn, names)
    for name in names:
        table = _table(name)
        cols = ['"fid" INTEGER'] + [f'"{c}" {t.split()[0]}' for c, t in table.columns]
        cols.append(f'"{BATCH_COLUMN}" INTEGER')
        if table.geometry_type:
            cols.append('"geom" BLOB')
        cols.append('"undo_batch" INTEGER NOT NULL')
        conn.execute(f'CREATE TABLE "undo_{name}" ({", ".join(cols)})')
        conn.execute(f'CREATE INDEX "idx_undo_{name}_batch" ON "undo_{name}" ("undo_batch")')
        conn.execute(f'CREATE INDEX "idx_undo_{name}_origin" ON "undo_{name}" ("{BATCH_COLUMN}")')


def _stored_columns(table: Table) -> str:
    """Every stored column of a batched table (fid, data, batch, geometry), quoted, for copies."""
    cols = ["fid", *table.column_names, BATCH_COLUMN] + (["geom"] if table.geometry_type else [])
    return ", ".join(f'"{c}"' for c in cols)


def _delete_keeping(conn: sqlite3.Connection, name: str, where: str, params: list[tuple],
                    batch_id: int | None) -> int:
    """Delete the rows matching ``where`` (once per parameter tuple); with a batch, keep them for its undo."""
    if not params:
        return 0
    params = _text_keys(where, params, name)
    where, params = _as_key_set(conn, where, params, name)
    _copy_for_undo(conn, name, where, params, batch_id)
    before = conn.total_changes
    conn.executemany(f'DELETE FROM "{name}" WHERE {where}', params)
    return conn.total_changes - before


def _as_key_set(conn: sqlite3.Connection, where: str, params: list[tuple],
                table: str | None = None) -> tuple[str, list[tuple]]:
    """``col = ?`` for many keys becomes one ``col IN (temp table)``: one pass over the table instead
    of one per key (ties have no index on ego_id; a city re-imports 100,000 egos at once)."""
    match = re.fullmatch(r'"?(\w+)"? = \?', where.strip())
    if is_postgres(conn) and len(params) >= 50:
        if match is not None:  # one array parameter: PostgreSQL plans '= ANY' as a hashed set
            return f'"{match.group(1)}" = ANY(?)', [([p[0] for p in params],)]
        return _pg_key_arrays(where, params, table)
    if match is None or len(params) < 50:
        return where, params
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _keys (k PRIMARY KEY)")
    conn.execute("DELETE FROM _keys")
    conn.executemany("INSERT OR IGNORE INTO _keys VALUES (?)", params)
    return f'"{match.group(1)}" IN (SELECT k FROM _keys)', [()]


_KEY_PART = re.compile(r'"?(\w+)"? (=|IS) \?')
_ARRAY_TYPES = {"INTEGER": "bigint[]", "REAL": "double precision[]"}
_NULL_STANDIN = {"INTEGER": "-9223372036854775807", "REAL": "-1e308"}


def _text_keys(where: str, params: list[tuple], table: str) -> list[tuple]:
    """Key values for TEXT columns as text (a person id given as the number 5 is the stored '5'), as SQLite's column
    affinity compares them; PostgreSQL has no text = integer."""
    parts = [_KEY_PART.fullmatch(p.strip()) for p in re.split(r"\s+AND\s+", where.strip())]
    if not all(parts) or table not in TABLES:
        return params
    types = dict(TABLES[table].columns)
    text = [types.get(m.group(1), "").split()[:1] == ["TEXT"] for m in parts]
    if not any(text) or all(isinstance(v, str) or v is None
                            for p in params for v, t in zip(p, text, strict=False) if t):
        return params
    return [tuple(str(v) if t and v is not None and not isinstance(v, str) else v
                  for v, t in zip(p, text, strict=False)) for p in params]


def _pg_key_arrays(where: str, params: list[tuple], table: str | None) -> tuple[str, list[tuple]]:
    """``a = ? AND b = ? AND c IS ?`` for many keys -> one join with ``unnest`` of one array per column (PostgreSQL):
    one statement instead of one per key (a national import replaces 87,000 figures by area, indicator and year)."""
    parts = [p.strip() for p in re.split(r"\s+AND\s+", where.strip())]
    matches = [_KEY_PART.fullmatch(p) for p in parts]
    if table is None or not all(matches) or any(len(p) != len(parts) for p in params):
        return where, params
    types = dict(TABLES[table].columns)
    conds, arrays = [], []
    for i, m in enumerate(matches):
        column, op = m.group(1), m.group(2)
        sqltype = types.get(column, "TEXT").split()[0]
        arrays.append(f"?::{_ARRAY_TYPES.get(sqltype, 'text[]')}")
        if op == "=":
            conds.append(f'"{column}" = k.k{i}')
        else:  # NULL-safe, and still a plain equality the planner can hash (IS NOT DISTINCT FROM is not)
            none = _NULL_STANDIN.get(sqltype, "'\x01'")
            conds.append(f'COALESCE("{column}", {none}) = COALESCE(k.k{i}, {none})')
    names = ", ".join(f"k{i}" for i in range(len(parts)))
    sql = (f"EXISTS (SELECT 1 FROM unnest({', '.join(arrays)}) AS k({names}) WHERE {' AND '.join(conds)})")
    return sql, [tuple([p[i] for p in params] for i in range(len(parts)))]


def _copy_for_undo(conn: sqlite3.Connection, name: str, where: str, params: list[tuple],
                   batch_id: int | None) -> None:
    """Keep a copy of the rows matching ``where`` as they are now, for the undo of ``batch_id``."""
    if batch_id is None or not params:
        return
    params = _text_keys(where, params, name)
    where, params = _as_key_set(conn, where, params, name)
    cols = _stored_columns(_table(name))
    conn.executemany(f'INSERT INTO "undo_{name}" ({cols}, "undo_batch") SELECT {cols}, {int(batch_id)} '
                     f'FROM "{name}" WHERE {where}', params)


def _insert_batch_rows(conn: sqlite3.Connection, name: str, columns: list[str], rows: list[tuple],
                       batch_id: int | None) -> None:
    """Insert rows and mark them as written by ``batch_id``."""
    if not rows:
        return
    first = conn.execute(f'SELECT COALESCE(MAX(fid), 0) FROM "{name}"').fetchone()[0]
    _insert_rows(conn, name, columns, rows)
    if batch_id is not None:
        conn.execute(f'UPDATE "{name}" SET "{BATCH_COLUMN}" = ? WHERE fid > ?', (int(batch_id), first))


def _begin_batch(conn: sqlite3.Connection, kind: str, user: str, file_name: str | None,
                 sha256: str | None, details: dict | None = None) -> int:
    """Register a new batch (inside the import's own transaction) and return its number."""
    batch_id = conn.execute("SELECT COALESCE(MAX(batch_id), 0) + 1 FROM batches").fetchone()[0]
    conn.execute("INSERT INTO batches (batch_id, kind, at, user, file_name, sha256, details) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (batch_id, kind, _now_iso(), user, file_name, sha256,
                  json.dumps(details or {}, ensure_ascii=False, default=str)))
    return int(batch_id)


def _end_batch(conn: sqlite3.Connection, batch_id: int | None, counts: dict) -> None:
    if batch_id is not None:
        conn.execute("UPDATE batches SET counts = ? WHERE batch_id = ?",
                     (json.dumps(counts, ensure_ascii=False, default=str), batch_id))


def _is_demo(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT value FROM steunkaart_meta WHERE key = 'demo'").fetchone()
    return row is not None and row[0] == "1"


def _refuse_demo(conn: sqlite3.Connection, name: str) -> None:
    if _is_demo(conn):
        raise DemoStoreError(
            f"De opslag '{name}' bevat de demogemeente Voorbeeldstad. Echte gegevens komen in een eigen "
            "opslag, zodat demo en werkelijkheid nooit door elkaar lopen: start Steunkaart met een eigen "
            "opslagbestand (zie 'Eigen installatie' in de README), of verwijder de demo eerst op de pagina "
            "Beheer. Er is niets geïmporteerd."
        )


def _relocate_provisions(conn: sqlite3.Connection) -> int:
    """Give every provision the buurt it lies in now (after areas came or went); return how many have none."""
    buurten = conn.execute("SELECT area_code, geom FROM areas WHERE level = 'buurt'").fetchall()
    points = conn.execute("SELECT fid, geom FROM provisions").fetchall()
    if not points:
        return 0
    from data.spatial import buurt_codes_at

    areas = gpd.GeoDataFrame({"area_code": [b[0] for b in buurten]},
                             geometry=decode_gpkg_geometries([b[1] for b in buurten]), crs=CRS_EPSG)
    codes = buurt_codes_at(decode_gpkg_geometries([p[1] for p in points]), areas)
    conn.executemany("UPDATE provisions SET buurt_code = ? WHERE fid = ?",
                     [(c, p[0]) for c, p in zip(codes, points, strict=True)])
    return sum(c is None for c in codes)


def _undo_plan(conn: sqlite3.Connection, batch_id: int) -> dict:
    row = conn.execute("SELECT batch_id, kind, at, user, file_name, sha256, undone_at FROM batches "
                       "WHERE batch_id = ?", (batch_id,)).fetchone()
    if row is None:
        raise StoreError(f"Import {batch_id} bestaat niet; 'Imports' op de pagina Beheer (of python cli.py imports) "
                         "toont de imports.")
    batch = dict(zip(("batch_id", "kind", "at", "user", "file_name", "sha256", "undone_at"), row, strict=True))
    if batch["undone_at"]:
        raise StoreError(f"Import {batch_id} is al ongedaan gemaakt (op {batch['undone_at'][:10]}).")
    remove = {n: conn.execute(f'SELECT COUNT(*) FROM "{n}" WHERE "{BATCH_COLUMN}" = ?', (batch_id,)).fetchone()[0]
              for n in BATCHED_TABLES}
    restore = {n: conn.execute(f'SELECT COUNT(*) FROM "undo_{n}" WHERE undo_batch = ?', (batch_id,)).fetchone()[0]
               for n in BATCHED_TABLES}
    blockers: dict[int, str] = {}
    for name in BATCHED_TABLES:
        for (later,) in conn.execute(
                f'SELECT DISTINCT undo_batch FROM "undo_{name}" WHERE "{BATCH_COLUMN}" = ? AND undo_batch != ?',
                (batch_id, batch_id)):
            blockers.setdefault(int(later), "heeft gegevens van deze import daarna vervangen")
    going = ("SELECT area_code FROM areas WHERE batch_id = ? EXCEPT SELECT area_code FROM undo_areas "
             "WHERE undo_batch = ?")
    for (later,) in conn.execute(f"SELECT DISTINCT batch_id FROM area_values WHERE batch_id > ? "
                                 f"AND area_code IN ({going})", (batch_id, batch_id, batch_id)):
        blockers.setdefault(int(later), "heeft cijfers voor gebieden van deze import")
    # What this batch brought and others point at: participation in its provisions, ties to its persons.
    dependants = (
        ("participation", "provision_id", "provisions", "provision_id",
         "heeft deelnames aan voorzieningen van deze import"),
        ("ties", "alter_id", "persons", "person_id", "heeft relaties met personen van deze import"),
        ("postcodes", "buurt_code", "areas", "area_code", "heeft postcodes bij buurten van deze import"),
        ("measurements", "person_id", "persons", "person_id", "heeft metingen van personen van deze import"),
        ("measurements", "provision_id", "provisions", "provision_id",
         "heeft metingen bij voorzieningen van deze import"),
        ("followup_ties", "alter_id", "persons", "person_id", "heeft relaties met personen van deze import"),
    )
    for table, column, owner, key, reason in dependants:
        gone = (f'SELECT "{key}" FROM "{owner}" WHERE batch_id = ? EXCEPT SELECT "{key}" FROM "undo_{owner}" '
                "WHERE undo_batch = ?")
        for (later,) in conn.execute(f'SELECT DISTINCT batch_id FROM "{table}" WHERE batch_id IS NOT ? '
                                     f'AND "{column}" IN ({gone})', (batch_id, batch_id, batch_id)):
            if later is not None:
                blockers.setdefault(int(later), reason)
    # Rows that come back must not clash with rows written since (also without an import).
    for name in BATCHED_TABLES:
        unique = _table(name).unique
        if not unique:
            continue
        on = " AND ".join(f't."{c}" IS u."{c}"' for c in unique)
        for (later,) in conn.execute(f'SELECT DISTINCT t.batch_id FROM "undo_{name}" u JOIN "{name}" t ON {on} '
                                     "WHERE u.undo_batch = ? AND t.batch_id IS NOT ?", (batch_id, batch_id)):
            if later is None:
                blockers.setdefault(0, "gegevens die later zonder import zijn vastgelegd, gebruiken dezelfde sleutels")
            else:
                blockers.setdefault(int(later), "heeft dezelfde gegevens daarna opnieuw vastgelegd")
    orphans = {
        "voorzieningen": conn.execute(f"SELECT COUNT(*) FROM provisions WHERE buurt_code IN ({going})",
                                      (batch_id, batch_id)).fetchone()[0],
        "personen": conn.execute(f"SELECT COUNT(*) FROM persons WHERE buurt_code IN ({going})",
                                 (batch_id, batch_id)).fetchone()[0],
    }
    kinds = dict(conn.execute("SELECT batch_id, kind FROM batches"))
    return {"batch": batch, "remove": remove, "restore": restore, "orphans": orphans,
            "blockers": [{"batch_id": b, "kind": kinds.get(b), "reason": r} for b, r in sorted(blockers.items())]}


def _sqlite_copy(source: Path, target: Path, *, single_file: bool = True) -> None:
    """Copy one SQLite database into another with the online backup API (consistent while in use).

    The copy is a snapshot of the last commit, including what is still in the source's -wal file. With
    ``single_file`` it is switched to rollback-journal mode, so that it is one self-contained file to
    keep or move (the store itself switches back to WAL when it is opened). Without it (a restore into
    the live store) the target keeps its own mode; see :func:`_match_page_size`.
    """
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)
    dst = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        src.backup(dst)
        if single_file:
            dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        dst.close()
        src.close()


def _match_page_size(path: Path, target: Path) -> None:
    """Give the database at ``path`` (a staged copy of our own) the page size of ``target``.

    SQLite's backup into a database in WAL mode fails when the page sizes differ ('attempt to write a
    readonly database'); a copy made by another program or an old version may have another size.
    """
    with contextlib.closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_S)) as conn:
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        if conn.execute("PRAGMA page_size").fetchone()[0] != size:
            conn.execute("PRAGMA journal_mode = DELETE")  # the page size of a WAL database cannot change
            conn.execute(f"PRAGMA page_size = {size}")
            conn.execute("VACUUM")


def _is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock (after the busy timeout)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)
    return "locked" in str(exc) or "busy" in str(exc)


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the store in WAL mode (kept in the file): readers go on while an import writes.

    Needs a moment without other connections: it waits at most a second, and when another process
    keeps the file busy the switch waits for the next opening (the store works in either mode).
    """
    with contextlib.suppress(sqlite3.OperationalError):
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA busy_timeout = 1000")
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


def _check_copy(path: Path) -> str | None:
    """Why ``path`` is not a sound Steunkaart store this version can open, in Dutch; None when it is."""
    with open(path, "rb") as fh:
        if fh.read(16) != _SQLITE_MAGIC:
            return "het is geen GeoPackage (geen SQLite-database)"
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            return "het bestand is beschadigd (de integriteitscontrole van SQLite faalt)"
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'steunkaart_meta'").fetchone():
            return "het is geen Steunkaart-opslag"
        version = int(conn.execute("SELECT value FROM steunkaart_meta WHERE key = 'schema_version'").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return f"het bestand kan niet worden gelezen ({exc})"
    finally:
        conn.close()
    if version > SCHEMA_VERSION:
        return f"het heeft schemaversie {version}, nieuwer dan deze Steunkaart (tot {SCHEMA_VERSION})"
    return None


def _next_id(conn: sqlite3.Connection, table: str, column: str, prefix: str) -> str:
    """The next free code like 'AG-0001' in ``table``."""
    taken = [r[0] for r in conn.execute(f'SELECT "{column}" FROM "{table}"')]
    numbers = [int(t[len(prefix) + 1:]) for t in taken if re.fullmatch(rf"{prefix}-\d+", t or "")]
    return f"{prefix}-{max(numbers, default=0) + 1:04d}"


def _agenda_record(item: dict, links, note) -> tuple[dict, list[list[tuple[str, str]]], str | None]:
    """An agenda item checked (codes, dates, texts) and its links; raises DataValidationError in Dutch."""
    from data.agenda import check_agenda_text
    from data.schema import AGENDA_LINK_KINDS, AGENDA_ORIGINS, AGENDA_OWNERS, AGENDA_STATUSES

    columns = [c for c in _table("agenda_items").column_names
               if c not in ("created_by", "created_at", "updated_by", "updated_at", "version")]
    record = {c: item.get(c) for c in columns if c in item or c in ("title", "wijk_code", "owner_role")}
    record = {k: (None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT else v)
              for k, v in record.items()}
    record["status"] = record.get("status") or "idee"
    record["origin_kind"] = record.get("origin_kind") or "handmatig"
    for column, allowed, label in (("status", AGENDA_STATUSES, "status"), ("owner_role", AGENDA_OWNERS, "eigenaar"),
                                   ("origin_kind", AGENDA_ORIGINS, "bron")):
        if record.get(column) not in allowed:
            raise DataValidationError(f"Onbekende {label} '{record.get(column)}'; kies uit {', '.join(allowed)}.",
                                      column=column)
    if not str(record.get("title") or "").strip():
        raise DataValidationError("Geef het agendapunt een titel.", column="title")
    for column in ("title", "aim", "origin_figure"):
        if record.get(column):
            record[column] = check_agenda_text(str(record[column]), column=column)
    for column in ("starts_on", "due_on"):
        if record.get(column) is not None:
            day = pd.to_datetime(record[column], errors="coerce", dayfirst=isinstance(record[column], str)
                                 and not re.match(r"\d{4}-", record[column]))
            if pd.isna(day):
                raise DataValidationError(f"'{record[column]}' is geen datum.", column=column)
            record[column] = day.strftime("%Y-%m-%d")
    if record.get("starts_on") and record.get("due_on") and record["due_on"] < record["starts_on"]:
        raise DataValidationError("De deadline ligt voor de start.", column="due_on")
    link_rows = [(str(k), str(t)) for k, t in (links or [])]
    bad = [k for k, _ in link_rows if k not in AGENDA_LINK_KINDS]
    if bad:
        raise DataValidationError(f"Onbekende koppeling '{bad[0]}'; kies uit {', '.join(AGENDA_LINK_KINDS)}.",
                                  column="links")
    note = check_agenda_text(str(note), column="note") if note is not None and str(note).strip() else None
    return record, [list(dict.fromkeys(link_rows))], note


def _check_agenda_refs(conn: sqlite3.Connection, records: list[dict], links: list[list[tuple[str, str]]],
                       file: str | None = None) -> None:
    """Every wijk and link target of these items exists in the store (inside the write transaction)."""
    wijken = {r[0] for r in conn.execute("SELECT area_code FROM areas WHERE level = 'wijk'")}
    known = {"buurt": {r[0] for r in conn.execute("SELECT area_code FROM areas WHERE level = 'buurt'")},
             "voorziening": {r[0] for r in conn.execute("SELECT provision_id FROM provisions")},
             "initiatief": {r[0] for r in conn.execute("SELECT initiative_id FROM initiatives")},
             "tekort": {r[0] for r in conn.execute("SELECT code FROM provision_types")}}
    for at, (record, row_links) in enumerate(zip(records, links, strict=True)):
        row = at + 2 if file else None
        if record.get("wijk_code") not in wijken:
            raise DataValidationError(f"Wijk {record.get('wijk_code')} staat niet in de opslag; er is niets "
                                      "opgeslagen.", file=file or None, row=row, column="wijk_code")
        for kind, target in row_links:
            if target not in known[kind]:
                raise DataValidationError(f"Koppeling aan {kind} '{target}': die staat niet in de opslag; er is "
                                          "niets opgeslagen.", file=file or None, row=row, column="links")


_AFTERCARE_CONFLICT = ("Nazorgplan {plan} is intussen door iemand anders gewijzigd (u werkte met versie {version}). Uw "
                       "wijziging is niet opgeslagen; open de lijst opnieuw en voer de wijziging nog eens in.")


class DemoStoreError(StoreError):
    """Real data was offered to the store of the built-in demo."""


def _migrate_7_to_8(conn: sqlite3.Connection) -> None:
    """Version 8: a buurt's most common postcode (PC4, from CBS) on areas, and the table PC6 -> buurt.

    Idempotent: a column or table that is already there (a store made by a newer step, or copied back
    to version 7 by hand) is left as it is.
    """
    for name in ("areas", "undo_areas"):
        have = column_names(conn, name)
        if have and "postcode" not in have:
            conn.execute(f'ALTER TABLE "{name}" ADD COLUMN "postcode" TEXT')
    table = _table("postcodes")
    exists = table_names(conn)
    if "postcodes" not in exists:
        _create_table(conn, table)
    if "undo_postcodes" not in exists:
        _create_undo_tables(conn, ("postcodes",))


def _migrate_8_to_9(conn: sqlite3.Connection) -> None:
    """Version 9: follow-up of participants (measurements per moment, the network per moment, aftercare plans
    and contacts) and follow-up moments per provision type. Idempotent like the step before."""
    from data.provision_types import PROVISION_TYPES

    have = column_names(conn, 'provision_types')
    for col, sqltype in _table("provision_types").columns:
        if col not in have:
            conn.execute(f'ALTER TABLE "provision_types" ADD COLUMN "{col}" {sqltype}')
    conn.executemany("UPDATE provision_types SET t1_weeks = ?, t2_weeks = ?, t3_weeks = ?, aftercare_per_year = ? "
                     "WHERE code = ? AND t1_weeks IS NULL",
                     [(t.t1_weeks, t.t2_weeks, t.t3_weeks, t.aftercare_per_year, code)
                      for code, t in PROVISION_TYPES.items()])
    exists = table_names(conn)
    for name in ("measurements", "followup_ties", "aftercare_plans", "aftercare_contacts"):
        if name not in exists:
            _create_table(conn, _table(name))
    _create_undo_tables(conn, tuple(n for n in ("measurements", "followup_ties") if f"undo_{n}" not in exists))


def _migrate_9_to_10(conn: sqlite3.Connection) -> None:
    """Version 10: the wijkagenda (items, their links and history), residents' initiatives and key figures."""
    exists = table_names(conn)
    for name in ("agenda_items", "agenda_links", "agenda_updates", "initiatives", "key_figures"):
        if name not in exists:
            _create_table(conn, _table(name))


# Migrations from version N to N+1, each run inside the opening transaction.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5, 5: _migrate_5_to_6,
    6: _migrate_6_to_7, 7: _migrate_7_to_8, 8: _migrate_8_to_9, 9: _migrate_9_to_10}

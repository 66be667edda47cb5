"""Copy a whole store between a GeoPackage and PostgreSQL/PostGIS (``cli.py copy-store``), losslessly.

Everything is copied: every table of the schema with its row ids (``fid``) and import numbers, the undo tables
(so imports made before the copy can still be undone after it), the audit log, and the store's metadata (schema
version, demo flag). The target is made new and filled in one go: a GeoPackage is built next to its name and
appears only when complete; a PostgreSQL database must be empty and is emptied again when the copy fails.

After the copy the number of rows and a content hash of every table are compared between the two stores (values
normalised the same way on both sides: geometries as WKB, integers as integers, text as text); any difference
fails the copy. Only then the target's audit log gets one entry saying where it came from. The source is only read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from data.errors import StoreError
from data.postgis import PostgisStore, is_postgres_url, redacted
from data.schema import BATCH_COLUMN, BATCHED_TABLES, SCHEMA_VERSION, TABLES
from data.sql import is_postgres, read_frame
from data.store import (
    GeoPackageStore,
    SqlStore,
    _audit,
    _insert_rows,
    _touch_contents,
    decode_gpkg_geometries,
    encode_gpkg_geometries,
)
from data.store_api import open_store, store_location

# Metadata that belongs to a database, not to the data: a PostGIS store counts its own data version.
_OWN_META = ("data_version",)


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int
    source_hash: str
    target_hash: str

    @property
    def equal(self) -> bool:
        return self.source_rows == self.target_rows and self.source_hash == self.target_hash


def copied_tables() -> list[str]:
    """Every table a copy carries, in a fixed order: the schema's tables, then the undo tables, then the metadata."""
    return [*TABLES, *(f"undo_{n}" for n in BATCHED_TABLES), "steunkaart_meta"]


def _columns(name: str) -> tuple[list[str], set[str], bool]:
    """(stored columns, integer columns, has geometry) of a copied table."""
    if name == "steunkaart_meta":
        return ["key", "value"], set(), False
    base = TABLES[name[len("undo_"):]] if name.startswith("undo_") else TABLES[name]
    cols = ["fid", *base.column_names]
    ints = {"fid"} | {c for c, t in base.columns if t.split()[0] == "INTEGER"}
    if base.name in BATCHED_TABLES:
        cols.append(BATCH_COLUMN)
        ints.add(BATCH_COLUMN)
    if name.startswith("undo_"):
        cols.append("undo_batch")
        ints.add("undo_batch")
    if base.geometry_type:
        cols.append("geom")
    return cols, ints, bool(base.geometry_type)


def _read_raw(conn, name: str) -> pd.DataFrame:
    cols, ints, _ = _columns(name)
    order = "key" if name == "steunkaart_meta" else "fid"
    listed = ", ".join(f'"{c}"' for c in cols)
    frame = read_frame(conn, f'SELECT {listed} FROM "{name}" ORDER BY "{order}"')
    if name == "steunkaart_meta":
        frame = frame.loc[~frame["key"].isin(_OWN_META)].reset_index(drop=True)
    for col in ints:
        frame[col] = pd.array(pd.to_numeric(frame[col]), dtype="Int64") if len(frame) else frame[col].astype("Int64")
    return frame


def _digest(frame: pd.DataFrame, name: str) -> str:
    """A content hash that is the same for the same data in either database."""
    cols, ints, has_geom = _columns(name)
    canon = pd.DataFrame(index=range(len(frame)))
    for col in cols:
        values = frame[col].reset_index(drop=True)
        if col == "geom":
            geoms = decode_gpkg_geometries(values)
            canon[col] = pd.Series([None if g is None else g.hex() for g in
                                    shapely.to_wkb(geoms, byte_order=1, output_dimension=2)], dtype="string")
        elif col in ints:
            canon[col] = values.astype("Int64").astype("string")
        elif pd.api.types.is_numeric_dtype(values):
            canon[col] = values.astype("Float64").astype("string")
        else:
            canon[col] = values.astype("string")
    digest = hashlib.sha256(name.encode())
    digest.update(str(len(canon)).encode())
    if len(canon):
        digest.update(pd.util.hash_pandas_object(canon.fillna("\x00NULL"), index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _rows(frame: pd.DataFrame, name: str, to_gpkg: bool) -> tuple[list[str], list[tuple]]:
    cols, ints, has_geom = _columns(name)
    out = frame[cols].astype(object).where(frame[cols].notna(), None)
    if has_geom and to_gpkg and len(out):
        # Re-encoded with the envelope the GeoPackage's own writes have (PostGIS hands out blobs without one).
        geoms = decode_gpkg_geometries(out["geom"])
        out["geom"] = encode_gpkg_geometries(np.asarray(geoms, dtype=object))
    for col in ints:
        out[col] = pd.Series([None if v is None else int(v) for v in out[col]], index=out.index, dtype=object)
    return cols, list(out.itertuples(index=False, name=None))


def _write_all(conn, tables: list[str], frames: dict[str, pd.DataFrame]) -> None:
    to_gpkg = not is_postgres(conn)
    for name in tables:
        frame = frames[name]
        if name == "steunkaart_meta":
            conn.executemany("DELETE FROM steunkaart_meta WHERE key = ?", [(k,) for k in frame["key"]])
            conn.executemany("INSERT INTO steunkaart_meta (key, value) VALUES (?, ?)",
                             list(frame[["key", "value"]].itertuples(index=False, name=None)))
            continue
        cols, rows = _rows(frame, name, to_gpkg)
        _insert_rows(conn, name, cols, rows)
        top = int(frame["fid"].max()) if len(frame) else 0
        if not name.startswith("undo_"):
            undo = frames.get(f"undo_{name}")
            if undo is not None and len(undo):
                top = max(top, int(undo["fid"].max()))
            if is_postgres(conn):
                if top:
                    conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'fid'), ?)", (top,))
            elif top:
                conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", (name,))
                conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, top))
            _touch_contents(conn, TABLES[name])


def copy_store(source: str, target: str, *, user: str = "systeem") -> list[TableCopy]:
    """Copy the store at ``source`` (a .gpkg path or a postgresql:// URL) to a new store at ``target``.

    Returns one :class:`TableCopy` per table (rows and hashes on both sides). Raises StoreError when the target
    exists already (a file) or is not empty (a database), when the source is not of this version, or when the
    copy differs from the source (then the target is removed again).
    """
    src_loc, dst_loc = store_location(source), store_location(target)
    if src_loc == dst_loc:
        raise StoreError("Bron en doel van de kopie zijn dezelfde opslag; kies een ander doel.")
    src = open_store(src_loc, create=False)
    if src.schema_version != SCHEMA_VERSION:  # open_store migrated it; a newer one was refused
        raise StoreError(f"De bron heeft schemaversie {src.schema_version}; verwacht {SCHEMA_VERSION}.")
    tables = copied_tables()
    with src._connection() as conn:  # one snapshot of the source
        if is_postgres(conn):
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            conn.execute("BEGIN")
        frames = {name: _read_raw(conn, name) for name in tables}
        conn.execute("COMMIT")

    def fill(store: SqlStore) -> None:
        with store._transaction() as conn:
            _write_all(conn, tables, frames)

    if is_postgres_url(dst_loc):
        dst: SqlStore = PostgisStore.create_new(dst_loc, fill=fill, seed=False)
    else:
        from pathlib import Path

        if Path(dst_loc).exists():
            raise StoreError(f"Het bestand '{dst_loc}' bestaat al; een kopie komt in een nieuw bestand. Er is niets "
                             "gewijzigd.")
        dst = GeoPackageStore.create_new(dst_loc, fill=fill, seed=False)
    result = []
    with dst._connection() as conn:
        for name in tables:
            copied = _read_raw(conn, name)
            result.append(TableCopy(name, len(frames[name]), len(copied), _digest(frames[name], name),
                                    _digest(copied, name)))
    bad = [r.table for r in result if not r.equal]
    if bad:
        _discard(dst)
        raise StoreError(f"De kopie wijkt af van de bron in {', '.join(bad)}; de kopie is verwijderd. Er is niets "
                         "gewijzigd aan de bron.")
    with dst._transaction(data=False) as conn:
        _audit(conn, user, "kopie-opslag", dst.name,
               {"van": redacted(src_loc), "naar": redacted(dst_loc),
                "rijen": {r.table: r.target_rows for r in result if r.target_rows}})
    return result


def _discard(store: SqlStore) -> None:
    if isinstance(store, PostgisStore):
        store.drop_all()
    else:
        store.path.unlink(missing_ok=True)


def compare_stores(a: str, b: str, *, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, int, bool]]:
    """Rows on both sides and whether the contents are equal, per copied table (for tests and checks)."""
    out = {}
    sa, sb = open_store(a, create=False), open_store(b, create=False)
    with sa._connection() as ca, sb._connection() as cb:
        for name in copied_tables():
            if name in skip:
                continue
            fa, fb = _read_raw(ca, name), _read_raw(cb, name)
            out[name] = (len(fa), len(fb), _digest(fa, name) == _digest(fb, name))
    return out


__all__ = ["TableCopy", "copy_store", "compare_stores", "copied_tables"]

"""Helpers for the tests that run on both stores (tests/test_store_backends.py, tests/test_postgis.py).

``snapshot`` reads every table a store keeps (the schema's tables, the undo tables and the metadata) raw, as
``cli.py copy-store`` does, and gives rows and a content hash per table: equal snapshots mean equal contents,
in either database. ``comparable`` turns a column as the store reads it, or as a test wrote it, into plain
Python values, so that a round trip can be compared value by value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from data.store_copy import _digest, _read_raw, copied_tables


def snapshot(store, *, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """{table: (rows, content hash)} of every table the store keeps, except ``skip``."""
    out = {}
    with store._connection() as conn:
        for name in copied_tables():
            if name in skip:
                continue
            frame = _read_raw(conn, name)
            out[name] = (len(frame), _digest(frame, name))
    return out


def differing(before: dict, after: dict) -> list[str]:
    """The tables whose rows or contents differ between two snapshots."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def _plain(value):
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    return str(value)


def comparable(values) -> list:
    """A column as plain values: dates as ISO days, booleans as 0/1, numbers as numbers, missing as None."""
    series = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in series]
    return [_plain(v) for v in series.astype(object)]


def as_stored_geometry(geoms, geometry_type: str) -> np.ndarray:
    """Geometries as a MULTIPOLYGON layer keeps them (a polygon becomes a multipolygon of one part)."""
    geoms = np.asarray(geoms, dtype=object).copy()
    if geometry_type == "MULTIPOLYGON":
        single = shapely.get_type_id(geoms) == 3
        if single.any():
            geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(single.sum()))
    return geoms


def assert_read_back(stored: pd.DataFrame, given: pd.DataFrame, name: str) -> None:
    """Every column of ``given`` that the table has comes back value for value (geometry exactly)."""
    from data.schema import TABLES

    table = TABLES[name]
    assert len(stored) == len(given), f"{name}: {len(stored)} rijen terug, {len(given)} geschreven"
    for col in table.column_names:
        if col in given.columns:
            assert comparable(stored[col]) == comparable(given[col]), f"{name}.{col} komt anders terug"
    if table.geometry_type:
        back = stored.geometry.to_numpy()
        written = as_stored_geometry(given.geometry.to_numpy(), table.geometry_type)
        same = shapely.equals_exact(back, written, tolerance=0) | (shapely.is_missing(back)
                                                                  & shapely.is_missing(written))
        assert same.all(), f"{name}: {int((~same).sum())} geometrieën komen anders terug"
        assert stored.crs.to_epsg() == 28992

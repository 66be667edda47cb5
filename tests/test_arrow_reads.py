"""The Arrow read path of the store (issue 19) on both stores: it must give exactly the frame of the tuple path.

``SqlStore._read_rows`` reads through ``_read_arrow`` (GDAL's Arrow stream in a helper process for the GeoPackage's
attribute tables and point layers) and otherwise through ``_read_rows_tuples`` (sqlite3/psycopg tuples, the
reference; PostgreSQL always). Here every GeoPackage read takes the Arrow path (``ARROW_MIN_ROWS = 0``), and each
test checks which path was taken, that the frame equals the reference, dtypes included, and what the values must be;
the PostGIS runs hold the tuple path of PostgreSQL to the same expectations.
"""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data.postgis import PostgisStore
from data.sql import inline_params, sqlite_literal
from data.store import GeoPackageStore, SqlStore, _column_kinds, _table

BACKENDS = ("geopackage", "postgis")


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend_store(request, tmp_path, monkeypatch) -> SqlStore:
    """An empty store of each kind (as in tests/test_store_backends.py), the GeoPackage reading all through Arrow."""
    monkeypatch.setattr(GeoPackageStore, "ARROW_MIN_ROWS", 0)
    if request.param == "postgis":
        return PostgisStore.open(request.getfixturevalue("postgres_url"))
    return GeoPackageStore.open(tmp_path / "opslag.gpkg")


def read_both(store: SqlStore, name: str, where: str = "", params: tuple = ()):
    """The frame of the store's read path, checked to come from Arrow and to equal the tuple path's."""
    table = _table(name)
    arrow = store._read_arrow(table, _column_kinds(table), where, params)
    # The GeoPackage reads attribute tables and point layers through Arrow, polygon layers as tuples (faster for
    # detailed polygons); PostgreSQL reads as tuples (its COPY path measured slower), held to the same expectations.
    if isinstance(store, GeoPackageStore) and table.geometry_type in (None, "POINT"):
        assert arrow is not None, f"{name} was not read through Arrow"
    else:
        assert arrow is None
    frame = store._read_rows(name, where, params)
    reference = store._read_rows_tuples(table, where, params)
    pd.testing.assert_frame_equal(frame, reference, check_exact=True)
    assert type(frame) is type(reference)
    return frame


def insert(store: SqlStore, name: str, rows: list[dict]) -> None:
    """Rows straight into a table (no validation), as another program or an old version could have left them."""
    columns = list(rows[0])
    marks = ", ".join("?" for _ in columns)
    cols = ", ".join(f'"{c}"' for c in columns)
    with store._transaction() as conn:
        conn.executemany(f'INSERT INTO "{name}" ({cols}) VALUES ({marks})', [tuple(r[c] for c in columns) for r in rows])


def test_every_empty_table_reads_as_the_tuple_path(backend_store):
    for name in ("ties", "persons", "area_values", "postcodes", "participation", "areas", "provisions"):
        frame = read_both(backend_store, name)
        assert frame.empty
        assert list(frame.columns)[: len(_table(name).columns)] == _table(name).column_names


def test_nulls_in_every_column_type_and_nullable_integers(backend_store):
    insert(backend_store, "area_values", [
        {"area_code": "BU1", "indicator": "a", "year": 2023, "value": 1.5, "lower": None, "upper": 2.25,
         "status": None, "source": "cbs"},
        {"area_code": "BU2", "indicator": "a", "year": None, "value": None, "lower": None, "upper": -0.1,
         "status": "geheim", "source": None},
        {"area_code": "BU3", "indicator": "a", "year": 2024, "value": 1e-300, "lower": None, "upper": None,
         "status": None, "source": None},
    ])
    frame = read_both(backend_store, "area_values")
    assert str(frame["year"].dtype) == "Int64"
    assert frame["year"].isna().tolist() == [False, True, False]
    assert frame["year"].iloc[2] == 2024
    assert frame["value"].dtype == np.float64 and np.isnan(frame["value"].iloc[1]) and frame["value"].iloc[2] == 1e-300
    assert frame["lower"].dtype == object and frame["lower"].isna().all()  # no value at all: object, as read_sql
    assert frame["status"].isna().tolist() == [True, False, True]


def test_booleans_with_and_without_nulls(backend_store):
    insert(backend_store, "ties", [
        {"ego_id": "P1", "alter_id": "P2", "role": "vriend", "support_practical": 1, "reciprocal": None,
         "same_buurt": 0, "closeness": 3},
        {"ego_id": "P2", "alter_id": None, "role": "buur", "support_practical": 0, "reciprocal": 1,
         "same_buurt": None, "closeness": None},
    ])
    frame = read_both(backend_store, "ties")
    assert str(frame["support_practical"].dtype) == "boolean"
    assert frame["support_practical"].tolist() == [True, False]
    assert frame["reciprocal"].tolist() == [pd.NA, True]
    assert frame["same_buurt"].tolist() == [False, pd.NA]
    assert frame["closeness"].tolist()[0] == 3 and frame["closeness"].iloc[1] is pd.NA
    assert frame["alter_key"].isna().all()


def test_dates_as_text_and_text_that_looks_like_a_number(backend_store):
    insert(backend_store, "persons", [
        {"person_id": "0123", "buurt_code": "1e3", "widowed_since": "2024-01-05", "age_band": " 7 ", "consent": 1},
        {"person_id": "00", "buurt_code": "NULL", "widowed_since": None, "age_band": "", "consent": 0},
        {"person_id": "-1.50", "buurt_code": "NaN", "widowed_since": "onzin", "age_band": "nan", "consent": 0},
    ])
    frame = read_both(backend_store, "persons")
    assert frame["person_id"].tolist() == ["0123", "00", "-1.50"]
    assert frame["buurt_code"].tolist() == ["1e3", "NULL", "NaN"]  # text, not a number and not missing
    assert frame["age_band"].tolist() == [" 7 ", "", "nan"]  # the empty string stays itself
    assert pd.api.types.is_datetime64_any_dtype(frame["widowed_since"])
    assert frame["widowed_since"].iloc[0] == pd.Timestamp("2024-01-05")
    assert frame["widowed_since"].iloc[1:].isna().all()
    assert frame["measured_on"].isna().all() and pd.api.types.is_datetime64_any_dtype(frame["measured_on"])
    assert frame["lsns_1"].isna().all() and str(frame["lsns_1"].dtype) == "Int64"


def test_unicode_quotes_and_newlines(backend_store):
    names = ["Café “De Hoek” ñ", "北京 😀", "O'Brien, \"quoted\"\nsecond line", "tab\there;semi"]
    insert(backend_store, "persons", [{"person_id": f"P{i}", "life_events": text, "consent": 1}
                                      for i, text in enumerate(names)])
    frame = read_both(backend_store, "persons")
    assert frame["life_events"].tolist() == names


def test_where_filters_with_parameters(backend_store):
    ids = ["A'1", "B?2", "C", "100%"]
    insert(backend_store, "persons", [{"person_id": pid, "buurt_code": f"BU{i % 2}", "lsns_1": i, "consent": 1}
                                      for i, pid in enumerate(ids)])
    assert read_both(backend_store, "persons", "person_id = ?", ("A'1",))["person_id"].tolist() == ["A'1"]
    assert read_both(backend_store, "persons", "person_id = ?", ("B?2",))["lsns_1"].tolist() == [1]
    assert read_both(backend_store, "persons", "buurt_code = ? AND lsns_1 >= ?",
                     ("BU0", 1))["person_id"].tolist() == ["C"]
    assert read_both(backend_store, "persons", "person_id LIKE '%'")["person_id"].tolist() == ids
    assert read_both(backend_store, "persons", "person_id = ?", ("geen",)).empty


def test_a_read_during_another_connections_open_write_sees_the_old_state(backend_store):
    insert(backend_store, "persons", [{"person_id": "oud", "consent": 1}])
    if isinstance(backend_store, PostgisStore):
        import psycopg

        other = psycopg.connect(backend_store.url, autocommit=False)
        other.execute("INSERT INTO persons (person_id, consent) VALUES ('nieuw', 0)")
    else:
        other = sqlite3.connect(backend_store.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO persons (person_id, consent) VALUES ('nieuw', 0)")
    try:
        assert read_both(backend_store, "persons")["person_id"].tolist() == ["oud"]
        other.commit() if isinstance(backend_store, PostgisStore) else other.execute("COMMIT")
        assert read_both(backend_store, "persons")["person_id"].tolist() == ["oud", "nieuw"]  # right after commit
    finally:
        other.close()


def test_a_table_with_geometry(backend_store):
    areas = gpd.GeoDataFrame({
        "area_code": ["BU1", "BU2", "BU3"], "name": ["Één", "Twee", "Drie"], "level": "buurt",
        "gemeente_code": "GM1", "year": [2024, None, 2024],
    }, geometry=[shapely.box(100_000, 400_000, 101_000, 401_000),
                 shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3.5, 3.25)]),
                 shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 0)], holes=[[(6, 1), (9, 1), (9, 4), (6, 1)]])],
        crs=28992)
    backend_store.replace_tables({"areas": areas}, user="test", action="test")
    frame = read_both(backend_store, "areas")
    assert isinstance(frame, gpd.GeoDataFrame) and frame.crs.to_epsg() == 28992
    assert shapely.equals_exact(frame.geometry.to_numpy(), backend_store._read_rows_tuples(
        _table("areas")).geometry.to_numpy(), 0).all()
    assert frame.geometry.area.round(6).tolist() == pytest.approx(
        shapely.area(areas.geometry.to_numpy()).round(6).tolist())
    assert read_both(backend_store, "areas", "area_code = ?", ("BU2",))["name"].tolist() == ["Twee"]
    if isinstance(backend_store, GeoPackageStore):  # the file keeps its spatial index (if it has one) intact
        with sqlite3.connect(backend_store.path) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        for rtree in {n for n in names if n.startswith("rtree_areas")}:
            assert rtree in names


def test_provisions_points_with_where(backend_store):
    """A point layer with dates, booleans and REALs, read by id as update_provision does."""
    provisions = gpd.GeoDataFrame({
        "provision_id": ["V1", "V2"], "name": ["Koffie", "Tuin"], "type": "ontmoeting", "status": "actief",
        "reach_m": [500.0, None], "funding_end": ["2025-12-31", None], "version": [1, 3],
    }, geometry=[shapely.Point(155_000, 463_000), shapely.Point(155_100, 463_100)], crs=28992)
    backend_store.replace_tables({"provisions": provisions}, user="test", action="test")
    frame = read_both(backend_store, "provisions")
    assert frame["funding_end"].iloc[0] == pd.Timestamp("2025-12-31")
    assert str(frame["outside_areas"].dtype) == "boolean"
    one = read_both(backend_store, "provisions", "provision_id = ?", ("V2",))
    assert one["version"].tolist() == [3] and one.geometry.iloc[0].equals(shapely.Point(155_100, 463_100))


def test_a_large_table_takes_the_arrow_path_without_forcing(backend_store, monkeypatch):
    monkeypatch.setattr(GeoPackageStore, "ARROW_MIN_ROWS", 500)
    n = 3_000
    rng = np.random.default_rng(3)
    insert(backend_store, "ties", [
        {"ego_id": f"P{i}", "alter_id": None if i % 7 == 0 else f"P{i + 1}", "role": "vriend",
         "support_practical": int(rng.integers(0, 2)), "closeness": None if i % 5 == 0 else int(rng.integers(1, 6)),
         "contact_frequency": "wekelijks" if i % 3 else None, "reciprocal": int(i % 2)} for i in range(n)])
    calls = []
    original = type(backend_store)._read_arrow

    def spy(self, *args):
        result = original(self, *args)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(type(backend_store), "_read_arrow", spy)
    frame = read_both(backend_store, "ties")
    assert len(frame) == n and calls and all(calls) == isinstance(backend_store, GeoPackageStore)
    assert frame["closeness"].isna().sum() == n // 5


def test_inline_params_keeps_literals_and_refuses_what_it_cannot_write():
    assert inline_params("a = ? AND b = '?' AND c = ?", ("x'y", 3)) == "a = 'x''y' AND b = '?' AND c = 3"
    assert inline_params("a = ?", ()) is None and inline_params("a = ?", (1, 2)) is None
    assert inline_params("a = ?", (b"raw",)) is None
    assert sqlite_literal(float("nan")) == "NULL" and sqlite_literal(True) == "1"
    assert sqlite_literal(np.int64(7)) == "7" and sqlite_literal(0.1) == "0.1"
    assert sqlite_literal(float("inf")) is None and sqlite_literal(2 ** 70) is None and sqlite_literal("a\x00") is None


def test_a_geopackage_read_the_helper_cannot_do_falls_back_to_tuples(tmp_path, monkeypatch):
    store = GeoPackageStore.open(tmp_path / "opslag.gpkg")
    monkeypatch.setattr(GeoPackageStore, "ARROW_MIN_ROWS", 0)
    insert(store, "persons", [{"person_id": "P1", "consent": 1}])

    def broken(*args, **kwargs):
        raise RuntimeError("GDAL kan dit niet")

    monkeypatch.setattr("data.store.read_gpkg_arrow", broken)
    assert store._read_arrow(_table("persons"), _column_kinds(_table("persons")), "", ()) is None
    assert store.read_table("persons")["person_id"].tolist() == ["P1"]

"""What only the PostgreSQL/PostGIS store has: real PostGIS geometries, an audit log the database itself keeps
append-only, several app servers on one database (optimistic locking across connections, a write lock with
the Dutch 'bezet' message), Dutch messages for a database that cannot be used, and lossless copies between
the GeoPackage and PostGIS (``cli.py copy-store``). The store's common contract, on both stores, is in
tests/test_store_backends.py. Every test needs the throwaway PostGIS server of tests/pg_server.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely

import cli
import data.postgis as postgis_module
import data.store as store_module
from data.area_import import read_area_file
from data.errors import ConflictError, StoreError
from data.formatting import format_number
from data.postgis import _WRITE_LOCK, PostgisStore, redacted
from data.schema import BATCHED_TABLES, TABLES
from data.sql import table_names
from data.store import _BUSY_MESSAGE, GeoPackageStore, StoreBusyError, file_sha256
from data.store_api import open_store, store_at
from data.store_copy import compare_stores, copied_tables, copy_store
from tests.backends import differing, snapshot
from tests.browser import free_port
from tests.conftest import realdata
from tests.test_cli import run_cli
from tests.towns import build_state, write_town_files

GEOMETRY_TABLES = {name: t.geometry_type for name, t in TABLES.items() if t.geometry_type}


def _file_digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pg_town(url, tmp_path, state: str = "netwerken") -> PostgisStore:
    return build_state(PostgisStore.open(url), write_town_files(tmp_path / "bron"), state)


def _gpkg_town(path, tmp_path, state: str = "netwerken") -> GeoPackageStore:
    return build_state(GeoPackageStore.create_new(path), write_town_files(tmp_path / "bron"), state)


def _tables_in(url) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")}


def _audit_rows(store) -> list[tuple]:
    """The audit log oldest first, as (at, user, action, target, details)."""
    audit = store.read_table("audit")
    return list(audit[["at", "user", "action", "target", "details"]].itertuples(index=False, name=None))


# --------------------------------------------------------------------------- PostGIS geometries


def test_geometries_are_postgis_geometries_in_rd_new_with_a_gist_index(postgres_url, tmp_path):
    store = _pg_town(postgres_url, tmp_path, "voorzieningen")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        columns = {(t, c): (srid, kind) for t, c, srid, kind in conn.execute(
            "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns")}
        gist = {t for (t,) in conn.execute("SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")}
        areas = dict(conn.execute("SELECT area_code, ST_Area(geom) FROM areas WHERE level = 'buurt'").fetchall())
        checks = conn.execute("SELECT bool_and(ST_IsValid(geom)), bool_and(ST_SRID(geom) = 28992), "
                              "count(*) FROM areas").fetchone()
        # A spatial join in SQL agrees with the buurt the store gave every provision.
        inside = dict(conn.execute("SELECT p.provision_id, a.area_code FROM provisions p JOIN areas a "
                                   "ON a.level = 'buurt' AND ST_Within(p.geom, a.geom)").fetchall())
    expected = {(name, "geom"): (28992, kind) for name, kind in GEOMETRY_TABLES.items()}
    expected.update({(f"undo_{name}", "geom"): (28992, GEOMETRY_TABLES[name]) for name in BATCHED_TABLES
                     if name in GEOMETRY_TABLES})
    assert columns == expected
    assert set(GEOMETRY_TABLES) <= gist
    assert checks == (True, True, 9)
    buurten = store.read_table("areas").query("level == 'buurt'").set_index("area_code")
    assert set(areas) == set(buurten.index) and len(areas) == 6
    for code, area in areas.items():
        assert area == pytest.approx(buurten.geometry[code].area, rel=1e-12), code
    provisions = store.read_table("provisions").set_index("provision_id")
    assert inside == provisions["buurt_code"].to_dict()


def test_the_audit_log_is_append_only_in_the_database(postgres_url):
    store = PostgisStore.open(postgres_url)
    store.log("anna", "export", "provisions", {"bestand": "x.xlsx"})
    before = _audit_rows(store)
    assert [r[2] for r in before] == ["nieuwe-opslag", "export"]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for sql in ("UPDATE audit SET action = 'niets'", "DELETE FROM audit WHERE action = 'export'",
                    "TRUNCATE audit"):
            with pytest.raises(psycopg.errors.RaiseException, match="alleen worden aangevuld"):
                conn.execute(sql)
        conn.execute("INSERT INTO audit (at, \"user\", action, target, details) "
                     "VALUES ('2026-01-01T00:00:00Z', 'dba', 'controle', '', '{}')")
    after = _audit_rows(store)
    assert after[:2] == before and after[2][1:3] == ("dba", "controle")
    # Also the store's own connection cannot rewrite it, and a refused statement rolls its transaction back.
    with pytest.raises(psycopg.errors.RaiseException), store._transaction() as conn:
        conn.execute("INSERT INTO scenarios (name, definition, version) VALUES ('x', '{}', 1)")
        conn.execute("DELETE FROM audit")
    assert store.read_scenarios().empty and len(_audit_rows(store)) == 3


def test_a_failed_demo_fill_leaves_the_database_empty(postgres_url):
    def fill(store):
        store.log("t", "iets", "x")
        raise RuntimeError("onderbroken")

    with pytest.raises(RuntimeError, match="onderbroken"):
        PostgisStore.create_new(postgres_url, fill=fill)
    assert _tables_in(postgres_url) == {"spatial_ref_sys"}
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'steunkaart%'").fetchone()[0] == 0
    assert PostgisStore.open(postgres_url).counts()["areas"] == 0  # and can be made afresh


# --------------------------------------------------------------------------- several app servers


def test_two_app_servers_edit_the_same_provision_and_the_second_is_refused(postgres_url, tmp_path):
    _pg_town(postgres_url, tmp_path)
    servers = {"server-a": PostgisStore(postgres_url), "server-b": PostgisStore(postgres_url)}
    opened = threading.Barrier(2, timeout=30)
    results: dict[str, object] = {}

    def edit(name: str) -> None:
        store = servers[name]
        version = int(store.read_table("provisions").set_index("provision_id").loc["V002", "version"])
        opened.wait()  # both have the form open at version 1
        try:
            results[name] = store.update_provision("V002", {"name": f"JC Haven ({name})"}, expected_version=version,
                                                   user=name)
        except ConflictError as exc:
            results[name] = exc

    threads = [threading.Thread(target=edit, args=(name,)) for name in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [name for name, r in results.items() if r == 2]
    losers = [name for name, r in results.items() if isinstance(r, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, results
    message = str(results[losers[0]])
    assert "intussen door iemand anders gewijzigd" in message and "niet opgeslagen" in message
    for store in servers.values():  # both servers read what the winner stored
        row = store.read_table("provisions").set_index("provision_id").loc["V002"]
        assert (row["name"], row["version"]) == (f"JC Haven ({winners[0]})", 2)
    edits = servers["server-a"].read_audit().query("action == 'wijzig-voorziening' and target == 'V002'")
    assert edits["user"].tolist() == winners

    # An import through one server is there for the other at once, and its data version moved on.
    a, b = servers["server-a"], servers["server-b"]
    version_b = b.data_version()
    result = a.import_postcodes(pd.DataFrame({"postcode": ["1999AA", "1999BA"],
                                              "buurt_code": ["BU19990001", "BU19990101"]}), user="a", source="p.csv")
    assert b.read_table("postcodes")["postcode"].tolist() == ["1999AA", "1999BA"]
    assert b.read_batches().iloc[0]["batch_id"] == result["import"]
    assert b.data_version() > version_b and b.data_version() == a.data_version()
    assert b.counts() == a.counts()


def test_twenty_sessions_at_once_lose_no_update(postgres_url, tmp_path):
    """Twenty sessions, each on its own store object (its own connections), change one provision: half add one
    to its capacity, half to its volunteers, each retrying after a refusal. Every change is in the result."""
    store = _pg_town(postgres_url, tmp_path)
    start = store.update_provision("V001", {"capacity_per_year": 0, "volunteers": 0}, expected_version=1,
                                   user="start")
    sessions = 20
    go = threading.Barrier(sessions, timeout=60)
    saved, refused, errors = [], [], []

    def session(k: int) -> None:
        mine = PostgisStore(postgres_url)
        column = "capacity_per_year" if k % 2 else "volunteers"
        go.wait()
        try:
            for _ in range(200):
                row = mine.read_table("provisions").set_index("provision_id").loc["V001"]
                try:
                    mine.update_provision("V001", {column: int(row[column]) + 1},
                                          expected_version=int(row["version"]), user=f"sessie-{k}")
                except ConflictError:
                    refused.append(k)
                    continue
                saved.append(k)
                return
        except Exception as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(k,)) for k in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not errors, errors
    assert sorted(saved) == list(range(sessions))
    row = store.read_table("provisions").set_index("provision_id").loc["V001"]
    assert (row["capacity_per_year"], row["volunteers"]) == (sessions // 2, sessions // 2)
    assert row["version"] == start + sessions
    edits = store.read_audit().query("action == 'wijzig-voorziening' and target == 'V001'")
    assert len(edits) == sessions + 1
    assert (store.read_batches()["kind"] == "handmatig").sum() == sessions + 1


def test_twenty_sessions_adding_agenda_items_get_twenty_numbers(postgres_url, tmp_path):
    """The next number ('AG-0001', ...) is read and written under the write lock: no two sessions get one number."""
    store = _pg_town(postgres_url, tmp_path, "gebieden")
    sessions = 20
    go = threading.Barrier(sessions, timeout=60)
    ids, errors = [], []

    def session(k: int) -> None:
        go.wait()
        try:
            item = PostgisStore(postgres_url).save_agenda_item(
                {"wijk_code": "WK199900", "title": f"Actie {k}", "owner_role": "wijkteam"}, user=f"s{k}",
                role="wijkteam")
            ids.append(item["item_id"])
        except Exception as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(k,)) for k in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert sorted(ids) == [f"AG-{k:04d}" for k in range(1, sessions + 1)]
    items = store.read_table("agenda_items")
    assert sorted(items["item_id"]) == sorted(ids) and len(store.read_table("agenda_updates")) == sessions


def test_a_writer_waiting_longer_than_the_lock_timeout_gets_bezet(postgres_url, tmp_path, monkeypatch):
    store = _pg_town(postgres_url, tmp_path)
    monkeypatch.setattr(postgis_module, "BUSY_TIMEOUT_S", 0.2)
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    before = snapshot(store)
    version = store.data_version()
    holder = psycopg.connect(postgres_url)  # another app server in the middle of a long import
    try:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
        writes = [
            lambda: store.update_provision("V001", {"name": "Nu"}, expected_version=1, user="t"),
            lambda: store.replace_tables({"ties": store.read_table("ties").iloc[:1]}, user="t", action="import"),
            lambda: store.import_postcodes(pd.DataFrame({"postcode": ["1999AA"], "buurt_code": ["BU19990001"]}),
                                           user="t", source="p.csv"),
            lambda: store.undo_batch(5, user="t"),
        ]
        for write in writes:
            with pytest.raises(StoreBusyError) as caught:
                write()
            assert str(caught.value) == _BUSY_MESSAGE
            assert "bezet door een andere schrijfactie" in str(caught.value)
            assert isinstance(caught.value.__cause__, psycopg.errors.LockNotAvailable)
        # Readers do not wait for the writer, and see the last committed state, not its half-done work.
        holder.execute("DELETE FROM provisions")
        assert len(store.read_table("provisions")) == 3 and store.counts()["persons"] == 3
    finally:
        holder.rollback()
        holder.close()
    assert differing(before, snapshot(store)) == []
    assert store.data_version() == version
    # Rows locked by another program (a DBA's transaction, without Steunkaart's lock): the same message.
    other = psycopg.connect(postgres_url)
    try:
        other.execute("SELECT * FROM provisions WHERE provision_id = 'V001' FOR UPDATE")
        with pytest.raises(StoreBusyError, match="bezet"):
            store.update_provision("V001", {"name": "Nu"}, expected_version=1, user="t")
    finally:
        other.rollback()
        other.close()
    assert differing(before, snapshot(store)) == []
    assert store.update_provision("V001", {"name": "Nu"}, expected_version=1, user="t") == 2


def test_a_writer_waits_for_the_other_and_then_lands(postgres_url, tmp_path):
    store = _pg_town(postgres_url, tmp_path)
    holder = psycopg.connect(postgres_url)
    holder.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
    outcome = []
    writer = threading.Thread(target=lambda: outcome.append(
        store.update_provision("V001", {"name": "Na de import"}, expected_version=1, user="t")))
    try:
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and not outcome  # waiting for the lock, not refused
        assert store.read_table("provisions")["name"].iloc[0] == "Buurtkamer De Kern"
    finally:
        holder.commit()
        holder.close()
    writer.join(30)
    assert outcome == [2]
    assert store.read_table("provisions")["name"].iloc[0] == "Na de import"


# --------------------------------------------------------------------------- a database that cannot be used


def test_an_unreachable_database_is_named_without_its_password(pg_server):
    port = free_port()  # nothing listens there
    url = f"postgresql://steunkaart:geheim-wachtwoord@127.0.0.1:{port}/steunkaart?sslmode=disable"
    shown = f"postgresql://steunkaart@127.0.0.1:{port}/steunkaart?sslmode=disable"
    assert redacted(url) == shown
    for opening in (lambda: open_store(url), lambda: open_store(url, create=False), lambda: store_at(url).counts()):
        with pytest.raises(StoreError) as caught:
            opening()
        message = str(caught.value)
        assert f"De PostgreSQL-database '{shown}' is niet bereikbaar" in message
        assert "geheim-wachtwoord" not in message and "STEUNKAART_STORE" in message
    result = run_cli("info", "--store", url)
    assert result.returncode == 2
    assert "niet bereikbaar" in result.stderr and "geheim-wachtwoord" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_database_with_other_tables_is_refused_and_left_alone(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE klanten (id integer, naam text)")
        conn.execute("INSERT INTO klanten VALUES (1, 'Jansen')")
    for opening in (lambda: open_store(postgres_url), lambda: PostgisStore.create_new(postgres_url)):
        with pytest.raises(StoreError, match="is niet leeg \\(tabellen: klanten\\).*er is niets gewijzigd"):
            opening()
    result = run_cli("init", "--store", postgres_url)
    assert result.returncode == 2 and "niet leeg" in result.stderr
    assert _tables_in(postgres_url) == {"klanten", "spatial_ref_sys"}
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT id, naam FROM klanten").fetchall() == [(1, "Jansen")]


def test_an_empty_database_opened_without_create_says_what_to_do(postgres_url):
    with pytest.raises(StoreError) as caught:
        open_store(postgres_url, create=False)
    message = str(caught.value)
    assert "bevat nog geen Steunkaart-opslag" in message
    assert f"python cli.py init --store '{postgres_url}'" in message and "copy-store" in message
    assert _tables_in(postgres_url) == {"spatial_ref_sys"}
    store = open_store(postgres_url)  # with create: the schema is made
    assert isinstance(store, PostgisStore) and store.counts()["schema_version"] == 10
    short = open_store(postgres_url.replace("postgresql://", "postgres://"), create=False)  # libpq's other scheme
    assert isinstance(short, PostgisStore) and short.counts() == store.counts()
    with pytest.raises(StoreError, match="bevat al een Steunkaart-opslag"):
        PostgisStore.create_new(postgres_url)


def test_a_backup_is_a_geopackage_copy_of_the_whole_store(postgres_url, tmp_path):
    store = _pg_town(postgres_url, tmp_path)
    out = store.backup_to(tmp_path / "kopie" / "reserve.gpkg")
    compared = compare_stores(postgres_url, str(out), skip=("audit",))
    assert all(equal for _, _, equal in compared.values()), compared
    copy = GeoPackageStore.open(out, create=False)
    assert copy.counts() == store.counts() and copy.read_audit().iloc[0]["action"] == "kopie-opslag"
    assert store.read_audit().iloc[0][["action", "target"]].tolist() == ["reservekopie", "reserve.gpkg"]
    digest = _file_digest(out)
    with pytest.raises(StoreError, match="bestaat al"):
        store.backup_to(out)
    assert _file_digest(out) == digest


# --------------------------------------------------------------------------- both stores read the same


def test_both_stores_read_back_the_same_frames(demo, postgres_url, tmp_path):
    """The same writes on a GeoPackage and on PostGIS: every reader gives the same frame, dtypes included."""
    gpkg, pg = GeoPackageStore.open(tmp_path / "demo.gpkg"), PostgisStore.open(postgres_url)
    for store in (gpkg, pg):
        store.replace_tables(demo.tables(), user="test", action="demo")
        store.save_scenario("Plan", json.dumps({"uit": ["V001"]}), user="anna")
        store.import_provisions(store.read_table("provisions").iloc[:2].drop(columns="version").assign(
            provision_id=["V901", "V902"], name=["Nieuw 1", "Nieuw 2"]), user="anna", source="n.geojson",
            as_batch=False)
    for name, table in TABLES.items():
        a, b = gpkg.read_table(name), pg.read_table(name)
        if name == "audit":  # the first entry names the store itself (file or database)
            a, b = a.iloc[1:].reset_index(drop=True), b.iloc[1:].reset_index(drop=True)
        if name in ("audit", "batches"):  # the moments differ
            a, b = a.drop(columns="at"), b.drop(columns="at")
        if name == "scenarios":
            a, b = a.drop(columns="created_at"), b.drop(columns="created_at")
        if table.geometry_type:
            assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), tolerance=0).all(), name
            a, b = pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
        pd.testing.assert_frame_equal(a, b, obj=name)
    pd.testing.assert_frame_equal(pd.DataFrame(gpkg.read_areas().drop(columns="geometry")),
                                  pd.DataFrame(pg.read_areas().drop(columns="geometry")))
    pd.testing.assert_frame_equal(gpkg.read_area_values(), pg.read_area_values())
    assert gpkg.read_provision_types() == pg.read_provision_types()
    assert gpkg.read_suitability() == pg.read_suitability()
    assert gpkg.counts() == pg.counts()


# --------------------------------------------------------------------------- copy-store


def _assert_audit_of_copy(source_rows: list[tuple], copy, copies: int) -> None:
    rows = _audit_rows(copy)
    assert rows[:len(source_rows)] == source_rows
    extra = rows[len(source_rows):]
    assert [r[2] for r in extra] == ["kopie-opslag"] * copies
    for entry in extra:
        details = json.loads(entry[4])
        assert {"van", "naar", "rijen"} <= set(details)


def test_demo_from_geopackage_to_postgis_and_back_is_lossless(demo_store_file, postgres_url, tmp_path):
    source = tmp_path / "demo.gpkg"
    shutil.copyfile(demo_store_file, source)
    source_digest = _file_digest(source)
    source_audit = _audit_rows(GeoPackageStore(source))
    result = copy_store(str(source), postgres_url, user="beheer")
    assert [r.table for r in result] == copied_tables() and all(r.equal for r in result)
    assert {r.table: r.target_rows for r in result}["persons"] == 2000
    assert _file_digest(source) == source_digest  # the source is only read
    compared = compare_stores(str(source), postgres_url, skip=("audit",))
    assert set(compared) == set(copied_tables()) - {"audit"}
    assert all(equal for _, _, equal in compared.values()), compared
    pg = PostgisStore.open(postgres_url, create=False)
    assert pg.is_demo and pg.counts() == GeoPackageStore(source).counts()
    _assert_audit_of_copy(source_audit, pg, 1)
    assert pg.read_audit().iloc[0]["user"] == "beheer"

    back = tmp_path / "terug.gpkg"
    copy_store(postgres_url, str(back))
    compared = compare_stores(str(source), str(back), skip=("audit",))
    assert all(equal for _, _, equal in compared.values()), compared
    _assert_audit_of_copy(source_audit, GeoPackageStore(back), 2)
    assert GeoPackageStore.open(back, create=False).is_demo


def test_a_copied_town_keeps_its_imports_undoable_and_numbers_on(postgres_url, tmp_path):
    source = _gpkg_town(tmp_path / "teststad.gpkg", tmp_path)
    copy_store(str(source.path), postgres_url)
    pg = PostgisStore.open(postgres_url, create=False)
    # An import made before the copy is undone the same way on both.
    for store in (source, pg):
        store.undo_batch(5, user="beheer")
    compared = compare_stores(str(source.path), postgres_url, skip=("audit", "batches"))
    assert all(equal for _, _, equal in compared.values()), compared
    assert pg.read_table("persons").empty
    # New rows get new numbers after the copied ones: row ids, imports, agenda numbers.
    fids = {}
    with pg._connection() as conn:
        for name in ("provisions", "postcodes", "audit", "batches"):
            fids[name] = conn.execute(f'SELECT COALESCE(MAX(fid), 0) FROM "{name}"').fetchone()[0]
    result = pg.import_postcodes(pd.DataFrame({"postcode": ["1999AA"], "buurt_code": ["BU19990001"]}), user="b",
                                 source="p.csv")
    assert result["import"] == 6
    pg.update_provision("V001", {"name": "Kern"}, expected_version=1, user="b")
    new = pg.read_table("provisions").iloc[:1].drop(columns="version").assign(provision_id="V004")
    pg.import_provisions(new, user="b", source="n.geojson", as_batch=False)
    with pg._connection() as conn:
        assert conn.execute("SELECT MAX(fid) FROM provisions").fetchone()[0] > fids["provisions"]
        assert conn.execute("SELECT MAX(fid) FROM audit").fetchone()[0] > fids["audit"]
    assert pg.read_table("provisions")["provision_id"].tolist() == ["V001", "V002", "V003", "V004"]
    pg.undo_batch(pg.last_batch_id, user="b")
    assert pg.read_table("provisions")["provision_id"].tolist() == ["V001", "V002", "V003"]


@pytest.mark.realdata
def test_a_real_town_from_geopackage_to_postgis_and_back_is_lossless(postgres_url, tmp_path):
    source = GeoPackageStore.create_new(tmp_path / "haarlem.gpkg")
    for name in ("haarlem_buurten_2015.geojson", "haarlem_wijken_2015.geojson", "haarlem_gemeente_2015.geojson"):
        path = realdata(name)
        imported = read_area_file(path)
        source.merge_area_data(imported.areas, imported.values, user="test", file_name=path.name,
                               sha256=file_sha256(path))
    source_audit = _audit_rows(source)
    copy_store(str(source.path), postgres_url)
    back = tmp_path / "terug.gpkg"
    copy_store(postgres_url, str(back))
    for target in (postgres_url, str(back)):
        compared = compare_stores(str(source.path), target, skip=("audit",))
        assert all(equal for _, _, equal in compared.values()), compared
    _assert_audit_of_copy(source_audit, GeoPackageStore(back), 2)
    pg = PostgisStore.open(postgres_url, create=False)
    areas = source.read_table("areas").set_index("area_code")
    assert (areas["level"] == "buurt").sum() == 40
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        stored = dict(conn.execute("SELECT area_code, ST_Area(geom) FROM areas").fetchall())
        assert conn.execute("SELECT bool_and(ST_IsValid(geom)) FROM areas").fetchone()[0]
    assert stored.keys() == set(areas.index)
    assert np.allclose([stored[c] for c in areas.index], areas.geometry.area.to_numpy(), rtol=1e-12, atol=0)
    assert pg.read_areas("buurt")["aantal_inwoners"].sum() == GeoPackageStore(back).read_areas("buurt")[
        "aantal_inwoners"].sum()


def _copy_cli(capsys, source: str, target: str) -> tuple[int, list[str], str]:
    code = cli.main(["copy-store", "--from", source, "--to", target, "--gebruiker", "beheer"])
    captured = capsys.readouterr()
    return code, captured.out.strip().splitlines(), captured.err


def test_copy_store_through_the_cli_names_every_table(demo_store_file, postgres_url, tmp_path, capsys):
    source = tmp_path / "demo.gpkg"
    shutil.copyfile(demo_store_file, source)
    code, lines, err = _copy_cli(capsys, str(source), postgres_url)
    assert code == 0, err
    assert lines[0] == f"Opslag {source} gekopieerd naar {postgres_url}."
    assert lines[1].split() == ["tabel", "bron", "kopie", "inhoud"]
    # The source's rows: the copy's own audit entry is written after the comparison the CLI prints.
    counts = {name: rows for name, (rows, _, _) in compare_stores(str(source), postgres_url).items()}
    body = lines[2:-1]
    assert [line.split()[0] for line in body] == copied_tables()
    for line in body:
        name, source_rows, target_rows, verdict = line.split()[:4]
        assert source_rows == target_rows == format_number(counts[name]), line
        assert verdict == "gelijk", line
    match = re.fullmatch(r"Alle (\d+) tabellen gelijk \(aantallen en inhoud\), ([\d.]+) rijen\.", lines[-1])
    assert match and int(match.group(1)) == len(copied_tables())
    assert match.group(2) == format_number(sum(counts.values()))

    back = tmp_path / "terug.gpkg"
    code, lines, err = _copy_cli(capsys, postgres_url, str(back))
    assert code == 0, err
    assert lines[-1].startswith(f"Alle {len(copied_tables())} tabellen gelijk")
    assert all(equal for _, _, equal in compare_stores(str(source), str(back), skip=("audit",)).values())

    # Onto an existing file, or a database that is not empty: refused, nothing changed.
    before_file, before_db = _file_digest(back), snapshot(PostgisStore(postgres_url))
    code, _, err = _copy_cli(capsys, postgres_url, str(back))
    assert code == 2 and "bestaat al" in err and "niets gewijzigd" in err
    code, _, err = _copy_cli(capsys, str(source), postgres_url)
    assert code == 2 and "bevat al een Steunkaart-opslag" in err
    assert _file_digest(back) == before_file
    assert differing(before_db, snapshot(PostgisStore(postgres_url))) == []
    code, _, err = _copy_cli(capsys, str(source), str(source))
    assert code == 2 and "dezelfde opslag" in err


def test_copy_into_a_database_with_other_tables_is_refused(demo_store_file, postgres_url, tmp_path, capsys):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE klanten (id integer)")
    code, _, err = _copy_cli(capsys, str(demo_store_file), postgres_url)
    assert code == 2 and "niet leeg" in err
    assert _tables_in(postgres_url) == {"klanten", "spatial_ref_sys"}


# --------------------------------------------------------------------------- the CLI on PostgreSQL


def test_cli_init_info_demo_and_import_on_postgresql(pg_server, tmp_path):
    own, demo_db = pg_server.new_database(), pg_server.new_database()
    try:
        result = run_cli("init", "--store", own)
        assert result.returncode == 0, result.stderr
        assert f"Lege opslag aangemaakt in {own}" in result.stdout
        result = run_cli("info", "--store", own, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"areas": 0, "provisions": 0, "persons": 0, "ties": 0,
                                             "participation": 0, "schema_version": 10}
        again = run_cli("init", "--store", own)
        assert again.returncode == 2 and "bevat al een Steunkaart-opslag" in again.stderr

        files = write_town_files(tmp_path / "bron")
        result = run_cli("import-areas", str(files["buurten"]), "--store", own, "--gebruiker", "beheer")
        assert result.returncode == 0, result.stderr
        info = run_cli("info", "--store", own)
        assert info.returncode == 0 and f"Opslag: {own}" in info.stdout
        assert PostgisStore(own).counts()["areas"] == len(read_area_file(files["buurten"]).areas)
        assert PostgisStore(own).read_batches().iloc[0]["user"] == "beheer"
        refused = run_cli("demo", "--store", own)  # an own store with data is not overwritten by the demo
        assert refused.returncode == 2 and "bevat al gegevens" in refused.stderr

        result = run_cli("demo", "--store", demo_db)
        assert result.returncode == 0, result.stderr
        assert f"Demogemeente Voorbeeldstad geschreven naar {demo_db}" in result.stdout
        counts = json.loads(run_cli("info", "--store", demo_db, "--json").stdout)
        assert (counts["provisions"], counts["persons"]) == (40, 2000)
        assert PostgisStore(demo_db).is_demo
        kept = run_cli("demo", "--store", demo_db, "--if-missing")
        assert kept.returncode == 0 and "bestaat al; niets gewijzigd" in kept.stdout
        into_demo = run_cli("import-areas", str(files["buurten"]), "--store", demo_db)
        assert into_demo.returncode == 2 and "demogemeente" in into_demo.stderr
        assert table_names_of(demo_db) == table_names_of(own)
    finally:
        pg_server.drop_database(own)
        pg_server.drop_database(demo_db)


def table_names_of(url: str) -> set[str]:
    with PostgisStore(url)._connection() as conn:
        return table_names(conn)


def test_the_data_version_is_a_counter_of_data_writes(postgres_url, tmp_path):
    store = _pg_town(postgres_url, tmp_path)
    other = PostgisStore(postgres_url)
    first = store.data_version()
    assert isinstance(first, int) and other.data_version() == first
    store.log("t", "bekeken", "T-01")
    assert other.data_version() == first  # a view in the audit log does not empty the caches
    other.update_provision("V001", {"name": "Kern"}, expected_version=1, user="t")
    assert store.data_version() == first + 1


def test_two_server_processes_keep_optimistic_locking_and_see_each_others_imports(postgres_url, tmp_path):
    """As two app servers behind a proxy: a second Python process on the same database (loopback)."""
    import subprocess
    import sys

    _pg_town(postgres_url, tmp_path)
    mine = PostgisStore(postgres_url)
    seen = int(mine.read_table("provisions").set_index("provision_id").loc["V002", "version"])  # form opened
    other = (
        "import sys, pandas as pd\n"
        "from data.store_api import open_store\n"
        "s = open_store(sys.argv[1], create=False)\n"
        "v = int(s.read_table('provisions').set_index('provision_id').loc['V002', 'version'])\n"
        "print(s.update_provision('V002', {'name': 'JC Haven (server B)'}, expected_version=v, user='b'))\n"
        "r = s.import_postcodes(pd.DataFrame({'postcode': ['1999AB'], 'buurt_code': ['BU19990001']}), "
        "user='b', source='pc.csv')\n"
        "print(r['import'])\n")
    done = subprocess.run([sys.executable, "-c", other, postgres_url], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    new_version, batch = (int(x) for x in done.stdout.split())
    assert new_version == seen + 1
    with pytest.raises(ConflictError, match="intussen door iemand anders gewijzigd"):
        mine.update_provision("V002", {"name": "JC Haven (server A)"}, expected_version=seen, user="a")
    row = mine.read_table("provisions").set_index("provision_id").loc["V002"]
    assert (row["name"], int(row["version"])) == ("JC Haven (server B)", seen + 1)
    assert mine.read_table("postcodes")["postcode"].tolist() == ["1999AB"]
    assert int(mine.read_batches().iloc[0]["batch_id"]) == batch


def test_the_map_draws_from_postgis_in_a_real_browser(chromium, demo_store_file, postgres_url, tmp_path):
    """`make run STORE=postgresql://...`: the app on the PostGIS copy of the demo draws its buurten in Chromium,
    and no request leaves for another host."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.browser import chromium_page, map_frame

    copy_store(str(demo_store_file), postgres_url)
    port = free_port()
    env = {**os.environ, "STEUNKAART_STORE": postgres_url, "STEUNKAART_TILES": "geen"}
    root = Path(__file__).resolve().parents[1]
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115 - open while the server runs
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.port",
                             str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "streamlit.log").read_text()
                time.sleep(0.3)
        with chromium_page(chromium) as page:
            hosts = set()
            page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
            page.goto(f"http://127.0.0.1:{port}/")
            frame = map_frame(page)
            buurten = len(store_at(postgres_url).read_areas("buurt"))
            assert frame.locator("path.sk-area").count() >= buurten > 0
            assert hosts <= {f"127.0.0.1:{port}"}, hosts
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()

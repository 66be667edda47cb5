"""The throwaway PostgreSQL/PostGIS cluster of the tests (tests/pg_server.py and the conftest fixtures)."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests import pg_server as pgs

DEPLOY_SQL = Path(__file__).resolve().parent.parent / "deploy" / "postgres"


def test_postgres_url_is_an_empty_postgis_database(postgres_url):
    assert re.fullmatch(r"postgresql://postgres@127\.0\.0\.1:\d+/steunkaart_test_[0-9a-f]{12}", postgres_url)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT postgis_version()").fetchone()[0].startswith("3.")
        # PROJ works: the RD New origin of Amersfoort lands near 52.16 N, 5.39 E.
        lon, lat = conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID("
                                "ST_MakePoint(155000, 463000), 28992), 4326) AS p) AS t").fetchone()
        assert lat == pytest.approx(52.1552, abs=1e-3) and lon == pytest.approx(5.3872, abs=1e-3)
        tables = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                              "AND table_type = 'BASE TABLE'").fetchall()
        assert tables == [("spatial_ref_sys",)]
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"


def test_new_database_gives_separate_databases(pg_server):
    first, second = pg_server.new_database(), pg_server.new_database()
    try:
        assert first != second
        with psycopg.connect(first, autocommit=True) as conn:
            conn.execute("CREATE TABLE only_here (id integer)")
            conn.execute("INSERT INTO only_here VALUES (1)")
        with psycopg.connect(second) as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone()[0] is None
            assert conn.execute("SELECT postgis_version()").fetchone()[0].startswith("3.")
        with psycopg.connect(pg_server.url("steunkaart_template")) as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone()[0] is None
    finally:
        pg_server.drop_database(first)
        pg_server.drop_database(second)
    with psycopg.connect(pg_server.url()) as conn:
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert first.rsplit("/", 1)[1] not in names and second.rsplit("/", 1)[1] not in names


def test_cluster_is_stopped_and_removed_also_after_an_error(pg_server):
    with pytest.raises(ZeroDivisionError), pgs.throwaway_server() as server:
        root, url = server.root, server.new_database()
        assert root.is_dir()
        _ = 1 / 0
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3)


def _fake_bindir(path):
    path.mkdir()
    for name in pgs.SERVER_PROGRAMS:
        program = path / name
        program.write_text("#!/bin/sh\nexit 1\n")
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return path


def test_missing_detection_gives_the_dutch_message(tmp_path, monkeypatch):
    monkeypatch.setattr(pgs, "_needs_other_user", lambda: False)
    message = ("PostgreSQL met PostGIS ontbreekt: installeer de Debian-pakketten postgresql en postgis "
               "(apt-get install postgresql postgis), dan draaien deze tests mee.")
    empty = tmp_path / "leeg"
    empty.mkdir()
    assert pgs.missing_reason(bindir=empty, sharedirs=[]) == message

    bindir = _fake_bindir(tmp_path / "bin")
    share = tmp_path / "share"
    (share / "extension").mkdir(parents=True)
    assert pgs.missing_reason(bindir=bindir, sharedirs=[share]) == message  # server, but no PostGIS
    (share / "extension" / "postgis.control").write_text("default_version = '3.3.9'\n")
    assert pgs.missing_reason(bindir=bindir, sharedirs=[share]) is None


def test_root_without_postgres_user_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(pgs, "_needs_other_user", lambda: True)
    monkeypatch.setattr(pgs, "OS_USER", "geen_gebruiker_met_deze_naam")
    bindir = _fake_bindir(tmp_path / "bin")
    share = tmp_path / "share"
    (share / "extension").mkdir(parents=True)
    (share / "extension" / "postgis.control").write_text("")
    assert pgs.missing_reason(bindir=bindir, sharedirs=[share]) == pgs.NO_POSTGRES_USER_MESSAGE


def _psql(pg_server, url, script, *variables):
    args = [str(pg_server.bindir / "psql"), "-X", "-q"]
    for variable in variables:
        args += ["-v", variable]
    args += [url, "-f", str(DEPLOY_SQL / script)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_deploy_sql_gives_the_app_role_append_only_audit(pg_server, postgres_url):
    """deploy/postgres/init.sql and grants.sql, as the README tells a DBA to run them."""
    refused = _psql(pg_server, postgres_url, "init.sql")
    assert refused.returncode != 0 and "Geef de wachtwoorden mee" in refused.stderr
    for _ in range(2):  # may run again
        done = _psql(pg_server, postgres_url, "init.sql", "owner_password=eigenaar", "app_password=app")
        assert done.returncode == 0, done.stderr
    owner = postgres_url.replace("postgres@", "steunkaart_owner@")
    app = postgres_url.replace("postgres@", "steunkaart_app@")
    with psycopg.connect(owner, autocommit=True) as conn:  # as Steunkaart creates its tables
        conn.execute("CREATE TABLE persons (fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text)")
        conn.execute("CREATE TABLE audit (fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, action text)")
    for url in (owner, postgres_url):  # as the owner or as a superuser
        done = _psql(pg_server, url, "grants.sql")
        assert done.returncode == 0, done.stderr
    with psycopg.connect(app, autocommit=True) as conn:
        conn.execute("INSERT INTO persons (name) VALUES ('a')")
        conn.execute("UPDATE persons SET name = 'b'")
        conn.execute("DELETE FROM persons")
        conn.execute("INSERT INTO audit (action) VALUES ('import')")
        assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == 1
        for sql in ("UPDATE audit SET action = 'x'", "DELETE FROM audit", "TRUNCATE audit",
                    "CREATE TABLE extra (i integer)", "DELETE FROM spatial_ref_sys WHERE srid = 28992"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE ROLE steunkaart_test_other LOGIN")
    try:
        with pytest.raises(psycopg.OperationalError, match="CONNECT"):
            psycopg.connect(postgres_url.replace("postgres@", "steunkaart_test_other@"))
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("DROP ROLE steunkaart_test_other")


def test_the_app_role_works_the_store_that_the_owner_made(pg_server, postgres_url, tmp_path):
    """The recipe end to end: the owner creates the store, grants.sql, then the app servers' role imports a
    municipality (temporary tables included), edits and undoes; it cannot create the store itself."""
    from data.errors import StoreError
    from data.postgis import PostgisStore, close_connections
    from data.store_api import open_store
    from tests.towns import build_state, write_town_files

    done = _psql(pg_server, postgres_url, "init.sql", "owner_password=eigenaar", "app_password=app")
    assert done.returncode == 0, done.stderr
    owner = postgres_url.replace("postgres@", "steunkaart_owner@")
    app = postgres_url.replace("postgres@", "steunkaart_app@")
    with pytest.raises(StoreError, match="mag in deze database geen tabellen maken"):
        PostgisStore.create_new(app)
    PostgisStore.create_new(owner)
    done = _psql(pg_server, owner, "grants.sql")
    assert done.returncode == 0, done.stderr
    try:
        store = build_state(open_store(app, create=False), write_town_files(tmp_path / "bron"), "netwerken")
        counts = store.counts()
        assert counts["areas"] > 0 and counts["persons"] > 0 and counts["ties"] > 0
        provision = store.read_table("provisions").iloc[0]
        assert store.update_provision(provision["provision_id"], {"name": "Nieuwe naam"},
                                      expected_version=int(provision["version"]), user="app") == 2
        last = int(store.read_batches().iloc[0]["batch_id"])
        store.undo_batch(last, user="app")
        assert store.read_table("provisions").set_index("provision_id").loc[provision["provision_id"], "name"] \
            == provision["name"]
        with psycopg.connect(app, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit")
    finally:
        close_connections()

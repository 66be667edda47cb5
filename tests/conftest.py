"""Shared fixtures: the demo data (generated once), a demo store, real CBS files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from data.demo import generate_demo
from data.store import GeoPackageStore, mark_demo

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def demo():
    """The demo municipality, generated once per test session."""
    return generate_demo()


@pytest.fixture(scope="session")
def demo_store_file(demo, tmp_path_factory) -> Path:
    """A store file filled with the demo and flagged as the demo, as the app writes it (copy it with
    ``demo_store``; do not modify)."""
    path = tmp_path_factory.mktemp("store") / "demo.gpkg"
    store = GeoPackageStore.open(path)
    store.replace_tables(demo.tables(), user="test", action="demo")
    mark_demo(store)
    return path


@pytest.fixture()
def demo_store(demo_store_file, tmp_path) -> GeoPackageStore:
    """A private, writable copy of the demo store (imports of real data into it are refused)."""
    path = tmp_path / "demo.gpkg"
    shutil.copyfile(demo_store_file, path)
    return GeoPackageStore.open(path, create=False)


@pytest.fixture()
def town_store(demo_store_file, tmp_path) -> GeoPackageStore:
    """The demo's tables in a store that is *not* the demo: a municipality with a full data set,
    for imports and analyses on rich data (its own installation, no demo sign-in)."""
    path = tmp_path / "gemeente.gpkg"
    shutil.copyfile(demo_store_file, path)
    store = GeoPackageStore.open(path, create=False)
    with store._transaction() as conn:
        conn.execute("UPDATE steunkaart_meta SET value = '0' WHERE key = 'demo'")
    return store


@pytest.fixture()
def empty_store(tmp_path) -> GeoPackageStore:
    """A new, empty store of a municipality's own installation (as ``cli.py init`` makes it)."""
    return GeoPackageStore.create_new(tmp_path / "eigen.gpkg")


def realdata(name: str) -> Path:
    """Path of a file in ../shared/realdata; skip the test cleanly when it is absent."""
    path = REALDATA / name
    if not path.exists():
        pytest.skip(f"echte CBS-gegevens niet aanwezig ({path})")
    return path


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium for the browser tests: required in CI, skipped with what to install elsewhere."""
    from tests.browser import chromium_path

    exe = chromium_path()
    if exe is None:
        if in_ci():
            pytest.fail("Chromium ontbreekt in CI: .ci/run hoort 'apt-get install chromium' te doen.")
        pytest.skip("Chromium niet gevonden: installeer het met 'sudo apt-get install chromium' "
                    "om de browsertest te draaien.")
    return exe


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL cluster with PostGIS for this test session (tests/pg_server.py): required in CI,
    skipped with what to install elsewhere. Stopped and removed at the end, also when tests fail."""
    from tests.pg_server import missing_reason, throwaway_server

    reason = missing_reason()
    if reason is not None:
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    with throwaway_server() as server:
        yield server


@pytest.fixture()
def postgres_url(pg_server):
    """The URL of a new, empty database with PostGIS for this test only (dropped afterwards)."""
    url = pg_server.new_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture()
def app(demo_store, monkeypatch):
    """The app on a private copy of the demo store, after its first run (AppTest)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STEUNKAART_STORE", str(demo_store.path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at

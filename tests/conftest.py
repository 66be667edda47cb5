"""Shared fixtures: the demo data (generated once), a demo store, real CBS files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from data.demo import generate_demo
from data.store import GeoPackageStore

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def demo():
    """The demo municipality, generated once per test session."""
    return generate_demo()


@pytest.fixture(scope="session")
def demo_store_file(demo, tmp_path_factory) -> Path:
    """A store file filled with the demo (do not modify: copy it with ``demo_store``)."""
    path = tmp_path_factory.mktemp("store") / "demo.gpkg"
    store = GeoPackageStore.open(path)
    store.replace_tables(demo.tables(), user="test", action="demo")
    return path


@pytest.fixture()
def demo_store(demo_store_file, tmp_path) -> GeoPackageStore:
    """A private, writable copy of the demo store."""
    path = tmp_path / "demo.gpkg"
    shutil.copyfile(demo_store_file, path)
    return GeoPackageStore.open(path, create=False)


def realdata(name: str) -> Path:
    """Path of a file in ../shared/realdata; skip the test cleanly when it is absent."""
    path = REALDATA / name
    if not path.exists():
        pytest.skip(f"echte CBS-gegevens niet aanwezig ({path})")
    return path


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")

"""What a store is, and which one to open.

Two implementations share the domain code of :class:`data.store.SqlStore`:

* :class:`data.store.GeoPackageStore` — one GeoPackage file, the embedded default (a municipality on one server);
* :class:`data.postgis.PostgisStore` — PostgreSQL with PostGIS (a region or a large city: several app servers
  share one database, with its own roles and backups).

``STEUNKAART_STORE`` chooses: a file path for the GeoPackage, ``postgresql://…`` for PostGIS. The app, the CLI
and the tests open a store only through :func:`open_store` (checks, creates, migrates) or :func:`store_at`
(cheap, for a store that was opened before, e.g. in a cached page loader).

:class:`StoreBackend` is the narrow interface a backend gives the shared code: a read connection and a write
transaction speaking the store's SQL (:mod:`data.sql`), the schema version and migrations, metadata, the data
version that keys the caches, and where it is. Everything else — tables read and written in transactions, batches
(the import history, undo), the audit log — is written once on top of it. Accounts are in :mod:`data.auth`, the
provision-type rules in :mod:`data.provision_types`, spatial joins in geopandas.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from data.postgis import PostgisStore, is_postgres_url, redacted
from data.store import STORE_ENV_VAR, GeoPackageStore, SqlStore, default_store_path

__all__ = ["StoreBackend", "open_store", "store_at", "store_location", "is_postgres_url", "redacted", "SqlStore"]


@runtime_checkable
class StoreBackend(Protocol):
    """The members a database backend implements; the domain methods of SqlStore are built on these alone."""

    @property
    def location(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def schema_version(self) -> int: ...

    def data_version(self) -> Any: ...

    def _connection(self) -> AbstractContextManager: ...

    def _transaction(self, *, data: bool = True, lock: bool = True) -> AbstractContextManager: ...

    def _check_and_migrate(self) -> None: ...

    def counts(self) -> dict[str, int]: ...

    def read_table(self, name: str) -> pd.DataFrame: ...

    def log(self, user: str, action: str, target: str = "", details: dict | None = None) -> None: ...

    def read_batches(self) -> pd.DataFrame: ...

    def undo_batch(self, batch_id: int, *, user: str) -> dict: ...


def store_location(target: str | os.PathLike | None = None) -> str:
    """``target``, or ``STEUNKAART_STORE``, or the demo's file: as a string (a path or a URL)."""
    if target is not None:
        return str(target) if is_postgres_url(str(target)) else str(Path(target))
    env = os.environ.get(STORE_ENV_VAR)
    return env if env and is_postgres_url(env) else str(default_store_path())


def open_store(target: str | os.PathLike | None = None, *, create: bool = True) -> SqlStore:
    """Open (check, migrate, and with ``create`` make when missing) the store at a path or a postgresql:// URL."""
    location = store_location(target)
    if is_postgres_url(location):
        return PostgisStore.open(location, create=create)
    return GeoPackageStore.open(location, create=create)


def store_at(location: str) -> SqlStore:
    """The store at ``location`` without checks (it was opened with :func:`open_store` before)."""
    return PostgisStore(location) if is_postgres_url(location) else GeoPackageStore(location)

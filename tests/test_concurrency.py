"""Several users at once: the store in WAL mode, a long import next to readers and a second writer.

A writer holds ``BEGIN IMMEDIATE`` in another connection (as a long import does) for about two
seconds. Readers must go on at once and see the last committed state; a second writer waits and
then succeeds, or, when the wait is longer than the busy timeout, gets the Dutch StoreBusyError,
never a raw sqlite3 error. A page shows database trouble in Dutch, without Streamlit's exception box.
"""

import contextlib
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import streamlit as st

import data.store as store_module
from data.store import GeoPackageStore, StoreBusyError

APP = str(Path(__file__).resolve().parent.parent / "app.py")
HOLD_S = 2.0


def _journal_mode(path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


# As a large import does: more than fits in the writer's page cache, so SQLite writes it out before the
# COMMIT. Without WAL that takes an exclusive lock and every reader gets 'database is locked'.
_BIG_WRITE = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
              "INSERT INTO audit (at, user, action, target, details) SELECT '2026', 'import', 'import', 'x', "
              "hex(randomblob(50)) FROM n")


@contextlib.contextmanager
def _held(path, seconds: float, statements: tuple[str, ...], end: str):
    """Another connection runs ``statements`` in one transaction, keeps it open ``seconds``, then ``end``s it."""
    started, errors = threading.Event(), []

    def hold():
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            for statement in statements:
                conn.execute(statement).fetchall()
            started.set()
            time.sleep(seconds)
            conn.execute(end)
        except sqlite3.Error as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)
            started.set()
        finally:
            conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert started.wait(10)
    try:
        yield
    finally:
        thread.join(seconds + 10)
    assert not errors, errors


def held_write(path, seconds: float = HOLD_S):
    """Another connection holds a large write transaction for ``seconds``, then rolls it back."""
    return _held(path, seconds, ("PRAGMA cache_size = 10", "BEGIN IMMEDIATE", "DELETE FROM provisions", _BIG_WRITE),
                 "ROLLBACK")


def held_read(path, seconds: float = HOLD_S):
    """Another connection keeps a read transaction open (a shared lock) for ``seconds``."""
    return _held(path, seconds, ("BEGIN", "SELECT COUNT(*) FROM provisions"), "COMMIT")


# --------------------------------------------------------------------------- WAL mode and single-file copies

def test_new_and_opened_older_stores_are_in_wal_mode_and_a_backup_is_one_file(town_store, tmp_path):
    new = GeoPackageStore.create_new(tmp_path / "nieuw.gpkg")
    assert _journal_mode(new.path) == "wal"
    with contextlib.closing(sqlite3.connect(town_store.path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")  # a store as versions before WAL wrote it
    GeoPackageStore.open(town_store.path, create=False)
    assert _journal_mode(town_store.path) == "wal"

    # A backup taken while a reader keeps the store's -wal file alive is one self-contained file.
    with held_read(town_store.path, 0.5):
        town_store.log("t", "test", "na-de-laatste-checkpoint")
        assert os.path.getsize(f"{town_store.path}-wal") > 0  # that entry is only in the -wal file yet
        copy = town_store.backup_to(tmp_path / "backup" / "kopie.gpkg")
    assert sorted(os.listdir(copy.parent)) == ["kopie.gpkg"]
    assert _journal_mode(copy) == "delete"
    alone = tmp_path / "los" / "kopie.gpkg"  # moved on its own: nothing of it stays behind
    alone.parent.mkdir()
    shutil.copyfile(copy, alone)
    assert GeoPackageStore(alone).read_audit()["target"].iloc[0] == "na-de-laatste-checkpoint"

    # Restoring into the live store keeps it in WAL mode; the safety copy is one file too.
    restored = GeoPackageStore.restore_from(copy, town_store.path, user="t")
    assert _journal_mode(town_store.path) == "wal"
    assert _journal_mode(restored["safety_copy"]) == "delete"
    assert restored["counts"]["provisions"] == 40


def test_a_copy_with_another_page_size_is_restored_into_the_live_store(town_store, tmp_path):
    copy = town_store.backup_to(tmp_path / "kopie.gpkg")
    with contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as conn:
        conn.execute("PRAGMA page_size = 1024")
        conn.execute("VACUUM")
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 1024
    town_store.log("t", "test", "na-de-kopie")
    restored = GeoPackageStore.restore_from(copy, town_store.path, user="t")
    assert restored["counts"]["provisions"] == 40
    assert _journal_mode(town_store.path) == "wal"
    assert "na-de-kopie" not in set(town_store.read_audit()["target"])


# --------------------------------------------------------------------------- a long write next to readers and writers

def test_readers_go_on_at_once_while_an_import_holds_the_store(town_store):
    with held_write(town_store.path):
        start = time.perf_counter()
        provisions = town_store.read_table("provisions")
        counts = town_store.counts()
        waited = time.perf_counter() - start
    assert waited < 1.0  # not the 2 s of the writer
    assert len(provisions) == counts["provisions"] == 40  # the last committed state, not the half-done import


def test_a_second_import_waits_for_the_first_and_then_lands(town_store):
    provisions = town_store.read_table("provisions").iloc[:5]
    with held_write(town_store.path):
        start = time.perf_counter()
        town_store.replace_tables({"provisions": provisions}, user="t", action="import")
        waited = time.perf_counter() - start
    assert waited > HOLD_S / 2  # it waited for the writer ...
    assert town_store.counts()["provisions"] == 5  # ... and then wrote everything
    assert town_store.read_audit().iloc[0]["action"] == "import"


def test_a_second_import_that_waits_too_long_gets_the_dutch_message(town_store, monkeypatch):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    before = len(town_store.read_audit())
    provisions = town_store.read_table("provisions").iloc[:5]
    with held_write(town_store.path):
        with pytest.raises(StoreBusyError, match="bezet door een andere schrijfactie.*Er is niets gewijzigd"):
            town_store.replace_tables({"provisions": provisions}, user="t", action="import")
        with pytest.raises(StoreBusyError, match="bezet"):
            town_store.log("t", "test", "x")
    assert town_store.counts()["provisions"] == 40
    assert len(town_store.read_audit()) == before


def test_a_lock_that_stays_at_commit_becomes_the_dutch_message_and_changes_nothing(town_store, monkeypatch):
    # Without WAL (a store another program switched back, or a disk where WAL cannot work) COMMIT
    # must wait for every reader: the 'database is locked' comes at COMMIT, not at BEGIN.
    with contextlib.closing(sqlite3.connect(town_store.path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    store = GeoPackageStore(town_store.path)  # not open(): that would switch it to WAL again
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    provisions = store.read_table("provisions").iloc[:5]
    with held_read(store.path), pytest.raises(StoreBusyError, match="bezet") as caught:
        store.replace_tables({"provisions": provisions}, user="t", action="import")
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert store.counts()["provisions"] == 40
    # ... and a large write there locks the readers out: after the wait they get the same Dutch message.
    with held_write(store.path), pytest.raises(StoreBusyError, match="bezet"):
        store.read_table("provisions")
    assert _journal_mode(store.path) == "delete"


# --------------------------------------------------------------------------- the pages

def test_the_tekorten_page_runs_while_another_connection_writes(app, demo_store):
    st.cache_data.clear()  # read from the file now, not from an earlier test's cache
    with held_write(demo_store.path):
        start = time.perf_counter()
        app.switch_page("pages/tekorten.py").run()
        waited = time.perf_counter() - start
    assert not app.exception, app.exception
    assert not app.error
    assert app.title[0].value.startswith("Tekorten")
    print(f"Tekorten next to a writer: {waited:.1f} s")


def test_a_database_error_on_a_page_is_dutch_without_the_exception_box(app, monkeypatch):
    st.cache_data.clear()

    def broken(self, level=None):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(GeoPackageStore, "read_areas", broken)
    app.switch_page("pages/tekorten.py").run()
    assert not app.exception
    assert [e.value for e in app.error] == [
        "De opslag kan nu niet gelezen of geschreven worden (DatabaseError). Ververs de pagina over een ogenblik; "
        "gebeurt het steeds, dan vindt de beheerder de details in het log van de server."]
    st.cache_data.clear()


def test_a_store_busy_for_too_long_is_dutch_on_a_page(app, monkeypatch):
    st.cache_data.clear()

    def busy(self, name):
        raise StoreBusyError(store_module._BUSY_MESSAGE)

    monkeypatch.setattr(GeoPackageStore, "read_table", busy)
    app.switch_page("pages/tekorten.py").run()
    assert not app.exception
    assert any("bezet door een andere schrijfactie" in e.value for e in app.error)
    st.cache_data.clear()


def test_the_page_caches_see_a_commit_that_is_still_in_the_wal_file(town_store):
    from pages.common import _version

    with held_read(town_store.path, 1.0):  # a reader keeps SQLite from folding the -wal file back
        before, main = _version(town_store), os.path.getmtime(town_store.path)
        time.sleep(0.02)
        town_store.save_scenario("proef", "{}", user="t")
        assert os.path.getmtime(town_store.path) == main  # the file itself did not change yet ...
        assert _version(town_store) == before + 1  # ... but the loaders' key did


def test_sign_ins_and_audit_entries_leave_the_page_caches_alone(town_store):
    """Issue 19: the caches' key counts data writes only; a sign-in or a logged view does not empty them."""
    from data import auth
    from pages.common import _version

    auth.create_user(town_store, "teller", "beheerder", (), "correct horse battery", by="test")
    before = _version(town_store)
    town_store.log("t", "bekijk-netwerk", "P0001")
    assert auth.authenticate(town_store, "teller", "correct horse battery") is not None
    with pytest.raises(auth.SignInError):  # refused, and counted in the account: still no data write
        auth.authenticate(town_store, "teller", "fout wachtwoord")
    assert _version(town_store) == before
    town_store.save_scenario("proef", "{}", user="t")
    assert _version(town_store) == before + 1


def test_creating_the_record_key_secret_leaves_the_page_caches_alone(town_store):
    """The first protected figure creates the store's secret (data.disclosure): metadata, not a data write,
    so the caches computed on the same data stay valid."""
    from data.disclosure import SECRET_META_KEY, store_secret
    from pages.common import _version

    with town_store._connection() as conn:
        assert conn.execute("SELECT 1 FROM steunkaart_meta WHERE key = ?", (SECRET_META_KEY,)).fetchone() is None
    before = _version(town_store)
    secret = store_secret(town_store)
    assert len(secret) == 32 and store_secret(town_store) == secret
    assert _version(town_store) == before


def test_a_restored_store_gets_a_data_version_past_the_one_it_replaces(town_store, tmp_path):
    """A backup carries an older counter; after the restore the caches must not take its data for data they hold."""
    copy = town_store.backup_to(tmp_path / "kopie.gpkg")
    for i in range(3):
        town_store.save_scenario(f"na-de-kopie-{i}", "{}", user="t")
    before = town_store.data_version()
    GeoPackageStore.restore_from(copy, town_store.path, user="t")
    assert town_store.data_version() > before
    assert "na-de-kopie-0" not in set(town_store.read_scenarios()["name"])

"""A municipality's own installation: init, the demo kept apart, every import a batch that can be
undone, removal of a gemeente's year, backups and restores, and a first start that cannot half-happen.

Everything here runs on stores that are not the demo, filled from files in the formats a municipality
really has (tests/towns.py), except where the demo itself is the subject.
"""

import hashlib
import json
import shutil
import sqlite3
import threading

import pandas as pd
import pytest

from data.demo import ensure_demo_store
from data.errors import DataValidationError, StoreError
from data.health import read_health_file
from data.schema import BATCHED_TABLES, SCHEMA_VERSION
from data.store import DemoStoreError, GeoPackageStore, file_sha256, recover_interrupted_start
from tests.test_cli import run_cli
from tests.towns import GEMEENTE, build_state, import_areas, import_provisions, write_town_files


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _content(store: GeoPackageStore) -> dict[str, pd.DataFrame]:
    """Every data table as plain sortable text (geometry as WKB hex), to compare states exactly."""
    out = {}
    for name in BATCHED_TABLES:
        frame = store.read_table(name)
        if "geometry" in frame:
            frame = pd.DataFrame(frame.drop(columns="geometry")).assign(geometry=frame.geometry.to_wkb(hex=True))
        # An undone change gives a provision a newer version (optimistic locking), not its old number.
        frame = frame.drop(columns=["version"], errors="ignore")
        out[name] = frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def _assert_same(a: dict, b: dict) -> None:
    for name in BATCHED_TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


@pytest.fixture(scope="module")
def town_files(tmp_path_factory):
    return write_town_files(tmp_path_factory.mktemp("teststad"))


# --------------------------------------------------------------------------- init and the demo apart

def test_init_creates_an_empty_store_and_refuses_an_existing_file(tmp_path):
    path = tmp_path / "gemeente.gpkg"
    result = run_cli("init", "--store", str(path))
    assert result.returncode == 0, result.stderr
    store = GeoPackageStore.open(path, create=False)
    assert not store.is_demo and store.schema_version == SCHEMA_VERSION
    assert all(v == 0 for k, v in store.counts().items() if k != "schema_version")
    before = _digest(path)
    again = run_cli("init", "--store", str(path))
    assert again.returncode == 2 and "bestaat al" in again.stderr
    assert _digest(path) == before
    assert run_cli("init").returncode == 2  # --store is required: never an implicit file


def test_import_into_the_demo_store_is_refused_with_the_way_forward(demo_store, town_files):
    before = _digest(demo_store.path)
    result = run_cli("import-areas", str(town_files["buurten"]), "--store", str(demo_store.path))
    assert result.returncode == 2
    assert "demogemeente" in result.stderr and "cli.py init" in result.stderr
    assert _digest(demo_store.path) == before
    imported = __import__("data.area_import", fromlist=["read_area_file"]).read_area_file(town_files["buurten"])
    with pytest.raises(DemoStoreError, match="eigen opslag"):
        demo_store.merge_area_data(imported.areas, imported.values, user="t")
    with pytest.raises(DemoStoreError, match="verwijder de demo"):
        demo_store.merge_area_values(read_health_file(town_files["gezondheid"]), user="t", action="x")
    assert _digest(demo_store.path) == before


def test_removing_the_demo_leaves_an_empty_own_store(demo_store, town_files):
    removed = demo_store.remove_demo(user="beheerder")
    assert removed["persons"] == 2000 and removed["areas"] == 47
    assert not demo_store.is_demo
    assert all(v == 0 for k, v in demo_store.counts().items() if k != "schema_version")
    assert demo_store.read_audit().iloc[0]["action"] == "verwijder-demo"
    import_areas(demo_store, town_files["buurten"])  # now a real gemeente may come in
    assert demo_store.counts()["areas"] > 0
    assert ensure_demo_store(demo_store.path).counts()["areas"] == demo_store.counts()["areas"]  # not rebuilt


def test_an_older_store_with_the_demo_and_real_data_loses_only_the_demo(town_store, town_files):
    import_areas(town_store, town_files["buurten"])
    removed = town_store.remove_demo(user="beheerder")
    assert removed["areas"] == 47 and removed["persons"] == 2000 and removed["provisions"] == 40
    areas = town_store.read_table("areas")
    assert set(areas["gemeente_code"]) == {GEMEENTE}


# --------------------------------------------------------------------------- batches and undo

def test_every_import_is_a_batch_and_undo_in_reverse_order_retraces_every_state(tmp_path, town_files):
    store = GeoPackageStore.create_new(tmp_path / "eigen.gpkg")
    states = [_content(store)]
    for state in ("gebieden", "voorzieningen", "gezondheid", "netwerken"):
        fresh = GeoPackageStore.create_new(tmp_path / f"{state}.gpkg")
        states.append(_content(build_state(fresh, town_files, state)))
    build_state(store, town_files, "netwerken")
    batches = store.read_batches()
    assert batches["kind"].tolist() == ["netwerk", "gezondheid", "voorzieningen", "gebieden", "gebieden"]
    assert batches["file_name"].tolist()[-1] == "buurt_2017.geojson"
    assert batches["sha256"].tolist()[-1] == file_sha256(town_files["buurten"])
    assert batches["user"].eq("test").all() and batches["active"].all()
    assert batches["counts"].iloc[2] == {"nieuw": 3, "bijgewerkt": 0, "ongewijzigd": 0}

    with pytest.raises(StoreError, match="import 2 .*daarna vervangen"):  # the wijken file replaced derived wijken
        store.undo_batch(1, user="beheerder")
    preview = store.undo_preview(2)
    assert preview["remove"]["areas"] == 2 and preview["restore"]["areas"] == 2 and not preview["blockers"]

    _assert_same(_content(store), states[4])
    store.undo_batch(5, user="beheerder")  # networks
    _assert_same(_content(store), states[3])
    store.undo_batch(4, user="beheerder")  # health monitor
    _assert_same(_content(store), states[2])
    store.undo_batch(3, user="beheerder")  # provisions
    _assert_same(_content(store), states[1])
    store.undo_batch(2, user="beheerder")  # wijken: the wijken derived from the buurten come back
    areas = store.read_table("areas").set_index("area_code")
    assert areas.loc["WK199900", "name"] == "Wijk 00"
    store.undo_batch(1, user="beheerder")
    _assert_same(_content(store), states[0])
    audit = store.read_audit()
    assert (audit["action"] == "ongedaan-maken").sum() == 5
    with pytest.raises(StoreError, match="al ongedaan"):
        store.undo_batch(1, user="beheerder")


def test_undoing_areas_reports_what_is_left_in_a_removed_buurt(tmp_path, town_files):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "voorzieningen")
    store.undo_batch(2, user="b")
    plan = store.undo_preview(1)
    assert plan["orphans"]["voorzieningen"] == 3
    result = store.undo_batch(1, user="b")
    assert result["voorzieningen_zonder_buurt"] == 3
    assert store.read_table("provisions")["buurt_code"].isna().all()  # no pointer to a buurt that is gone
    import_areas(store, town_files["buurten"])  # areas again: the provisions find their buurt again
    assert store.read_table("provisions")["buurt_code"].notna().all()


def test_a_later_import_of_figures_for_the_same_areas_blocks_their_undo(tmp_path, town_files):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "gezondheid")
    plan = store.undo_preview(1)
    assert {b["batch_id"] for b in plan["blockers"]} == {2, 4}
    before = _digest(store.path)
    with pytest.raises(StoreError, match="Er is niets gewijzigd"):
        store.undo_batch(1, user="b")
    assert _digest(store.path) == before


def test_a_reimport_that_changes_a_provision_is_undone_to_the_old_version(tmp_path, town_files):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "voorzieningen")
    changed = tmp_path / "gewijzigd.geojson"
    data = json.loads(town_files["voorzieningen"].read_text())
    data["features"][0]["properties"]["naam"] = "Buurtkamer De Nieuwe Kern"
    data["features"] = data["features"][:1]
    changed.write_text(json.dumps(data))
    before = _content(store)
    provisions = store.read_table("provisions")
    # The source has no id we keep yet (issue 13): give the point the stored id, as a re-imported export does.
    from data.provisions import read_provision_points, read_type_map

    new = read_provision_points(changed, type_map=read_type_map(town_files["soorten"]), area=store.outline(),
                                next_number=1, catalogue=store.read_provision_types())
    new["provision_id"] = provisions["provision_id"].iloc[0]
    assert store.import_provisions(new, user="t", source=changed.name)["bijgewerkt"] == 1
    assert store.read_table("provisions")["name"].iloc[0] == "Buurtkamer De Nieuwe Kern"
    store.undo_batch(store.last_batch_id, user="t")
    _assert_same(_content(store), before)
    assert store.read_table("provisions")["version"].iloc[0] == 3  # 1, updated to 2, undone as 3


def test_cli_imports_and_undo(tmp_path, town_files):
    path = tmp_path / "gemeente.gpkg"
    assert run_cli("init", "--store", str(path)).returncode == 0
    first = run_cli("import-areas", str(town_files["buurten"]), "--store", str(path))
    assert first.returncode == 0, first.stderr
    assert "Import 1; ongedaan te maken met 'python cli.py undo 1'" in first.stdout
    listing = run_cli("imports", "--store", str(path))
    assert listing.returncode == 0 and "buurt_2017.geojson" in listing.stdout and "CBS-gebieden" in listing.stdout
    rows = json.loads(run_cli("imports", "--store", str(path), "--json").stdout)
    assert rows[0]["batch_id"] == 1 and rows[0]["sha256"] == file_sha256(town_files["buurten"])
    undo = run_cli("undo", "1", "--store", str(path), "--gebruiker", "anna")
    assert undo.returncode == 0, undo.stderr
    assert GeoPackageStore.open(path, create=False).counts()["areas"] == 0
    missing = run_cli("undo", "7", "--store", str(path))
    assert missing.returncode == 2 and "bestaat niet" in missing.stderr


def test_removing_one_gemeente_year_keeps_the_other_year_and_can_be_undone(tmp_path, town_files):
    store = GeoPackageStore.create_new(tmp_path / "eigen.gpkg")
    import_areas(store, town_files["buurten"], year=2016)
    import_areas(store, town_files["buurten"])  # 2017 from the file name
    before = _content(store)
    result = store.remove_areas(GEMEENTE, 2016, user="b")
    assert result["gebieden"] == 0 and result["waarden"] > 0  # the areas still have 2017 figures
    years = store.read_area_values()["year"].unique().tolist()
    assert years == [2017]
    with pytest.raises(DataValidationError, match="geen gebieden van GM1999 met cijfers van 2016"):
        store.remove_areas(GEMEENTE, 2016, user="b")
    store.remove_areas(GEMEENTE, 2017, user="b")
    assert store.counts()["areas"] == 0
    store.undo_batch(store.last_batch_id, user="b")
    store.undo_batch(store.last_batch_id - 1, user="b")
    _assert_same(_content(store), before)


# --------------------------------------------------------------------------- backups

def test_backup_while_writing_and_restore_after_checking(tmp_path, town_files):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "voorzieningen")
    expected = _content(store)
    # A writer holds the store while the backup is taken: the copy is the last committed state.
    writer = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM provisions")
    done = threading.Event()
    threading.Timer(0.5, lambda: (writer.execute("ROLLBACK"), done.set())).start()
    copy = tmp_path / "backup" / "nacht.gpkg"
    result = run_cli("backup", "--store", str(store.path), "--out", str(copy))
    assert result.returncode == 0, result.stderr
    done.wait(5)
    writer.close()
    _assert_same(_content(GeoPackageStore.open(copy, create=False)), expected)
    assert run_cli("backup", "--store", str(store.path), "--out", str(copy)).returncode == 2  # never overwritten

    store.undo_batch(3, user="b")  # a mistake after the backup …
    restored = run_cli("restore", str(copy), "--store", str(store.path))
    assert restored.returncode == 0, restored.stderr
    _assert_same(_content(store), expected)
    safety = list(tmp_path.glob("eigen.voor-herstel-*.gpkg"))
    assert len(safety) == 1 and GeoPackageStore.open(safety[0], create=False).counts()["provisions"] == 0
    assert store.read_audit().iloc[0]["action"] == "herstel-reservekopie"


def test_restore_refuses_what_is_not_a_sound_store(tmp_path, town_files):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "gebieden")
    before = _digest(store.path)
    junk = tmp_path / "kopie.gpkg"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    other = tmp_path / "ander.gpkg"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.close()
    for bad, message in ((junk, "kan niet|beschadigd"), (other, "geen Steunkaart-opslag"),
                         (tmp_path / "weg.gpkg", "bestaat niet")):
        result = run_cli("restore", str(bad), "--store", str(store.path))
        assert result.returncode == 2
        assert any(m in result.stderr for m in message.split("|")), result.stderr
    assert _digest(store.path) == before


# --------------------------------------------------------------------------- a first start that cannot half-happen

def test_leftovers_of_an_interrupted_first_start_are_cleared(tmp_path):
    path = tmp_path / "var" / "demo.gpkg"
    path.parent.mkdir()
    path.write_bytes(b"")  # what an interrupted start of an older version could leave
    stale = path.parent / ".steunkaart-abc.gpkg"
    stale.write_bytes(b"half")
    import os

    os.utime(stale, (0, 0))
    notes = recover_interrupted_start(path)
    assert not path.exists() and not stale.exists() and len(notes) == 2
    store = ensure_demo_store(path)
    assert store.is_demo and store.counts()["persons"] == 2000


def test_a_never_completed_demo_store_is_rebuilt_not_shown_as_first_use(tmp_path):
    path = tmp_path / "demo.gpkg"
    GeoPackageStore.create_new(path)  # schema but no data and no demo flag: the old half-built demo
    store = ensure_demo_store(path)
    assert store.is_demo and store.counts()["areas"] == 47


def test_an_empty_own_store_stays_empty(tmp_path):
    path = tmp_path / "eigen.gpkg"
    GeoPackageStore.open(path)  # first start with STEUNKAART_STORE naming a new file
    assert not GeoPackageStore.open(path, create=False).is_demo
    shutil.copyfile(path, tmp_path / "kopie.gpkg")
    assert GeoPackageStore.open(tmp_path / "kopie.gpkg", create=False).counts()["areas"] == 0


# --------------------------------------------------------------------------- hostile files change nothing

def _hostile(town_files, tmp_path, kind: str):
    import geopandas as gpd
    import shapely

    frame = gpd.read_file(town_files["buurten"]).to_crs(28992)
    if kind == "negatief":
        frame.loc[1, "aant_inw"] = -5
    else:  # one buurt with x and y swapped, as a spreadsheet round trip can leave it
        frame.loc[3, "geometry"] = shapely.transform(frame.geometry.iloc[3], lambda xy: xy[:, ::-1])
    path = tmp_path / f"buurt_{kind}_2017.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.mark.parametrize(("kind", "message"), [("negatief", "kan niet negatief zijn"),
                                               ("verwisseld", "verwisseld")])
def test_hostile_area_files_are_refused_and_leave_the_store_byte_identical(tmp_path, town_files, kind, message):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "voorzieningen")
    before = _digest(store.path)
    path = _hostile(town_files, tmp_path, kind)
    result = run_cli("import-areas", str(path), "--store", str(store.path))
    assert result.returncode == 2
    assert message in result.stderr and "er is niets geïmporteerd" in result.stderr
    assert "rij" in result.stderr  # where: the row of the file
    assert _digest(store.path) == before


# --------------------------------------------------------------------------- undo never loses a later change

def test_a_hand_edit_after_an_import_blocks_its_undo_until_the_edit_is_undone(tmp_path, town_files):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "voorzieningen")
    before_import = store.read_table("provisions").set_index("provision_id")
    pid = before_import.index[0]
    store.update_provision(pid, {"volunteers": 12, "notes": "met de hand"}, expected_version=1, user="anna")
    edit = store.last_batch_id
    plan = store.undo_preview(3)
    assert [(b["batch_id"], b["kind"]) for b in plan["blockers"]] == [(edit, "handmatig")]
    with pytest.raises(StoreError, match=f"import {edit} heeft gegevens van deze import daarna vervangen"):
        store.undo_batch(3, user="b")
    store.undo_batch(edit, user="b")  # the hand edit first: the row as the import left it
    row = store.read_table("provisions").set_index("provision_id").loc[pid]
    assert pd.isna(row["notes"]) and int(row["version"]) == 3  # newer than the edited version 2
    store.undo_batch(3, user="b")
    assert store.counts()["provisions"] == 0


def test_a_deleted_provision_comes_back_with_its_participation_when_the_deletion_is_undone(tmp_path, town_files):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "netwerken")
    pid = store.read_table("provisions")["provision_id"].iloc[0]
    store.merge_network(store.read_table("persons").head(1), store.read_table("ties").query("ego_id == 'T-01'"),
                        pd.DataFrame({"person_id": ["T-01"], "provision_id": [pid], "role": ["deelnemer"]}),
                        user="wijk", kind="netwerk-invoer")
    entry = int(store.read_batches()["batch_id"].iloc[0])
    assert {b["batch_id"] for b in store.undo_preview(3)["blockers"]} == {entry}  # participation in its provision
    store.delete_provision(pid, expected_version=1, user="anna")
    assert store.counts()["participation"] == 0
    store.undo_batch(int(store.read_batches()["batch_id"].iloc[0]), user="b")
    assert pid in set(store.read_table("provisions")["provision_id"])
    assert store.read_table("participation")["provision_id"].tolist() == [pid]


def test_undo_is_blocked_when_removed_rows_were_recorded_again(tmp_path, town_files):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "gebieden")
    removal = store.remove_areas(GEMEENTE, 2017, user="b")["import"]
    import_areas(store, town_files["buurten"])
    plan = store.undo_preview(removal)
    assert plan["blockers"] and plan["blockers"][0]["reason"] == "heeft dezelfde gegevens daarna opnieuw vastgelegd"
    before = _digest(store.path)
    with pytest.raises(StoreError, match="Er is niets gewijzigd"):
        store.undo_batch(removal, user="b")
    assert _digest(store.path) == before


def test_an_area_file_leaves_health_figures_of_the_same_year_alone(tmp_path, town_files):
    store = GeoPackageStore.create_new(tmp_path / "eigen.gpkg")
    health = read_health_file(town_files["gezondheid"])
    store.merge_area_values(health, user="t", action="import-gezondheid")
    import_areas(store, town_files["buurten"], year=int(health["year"].iloc[0]))
    stored = store.read_area_values()
    assert stored["indicator"].str.startswith("gm_").sum() == len(health)
    assert not store.undo_preview(2)["blockers"]  # figures that were there before the areas do not block
    store.undo_batch(2, user="b")
    assert len(store.read_area_values()) == len(health)


def test_the_same_provisions_file_twice_is_refused_not_doubled(tmp_path, town_files):
    store = build_state(GeoPackageStore.create_new(tmp_path / "eigen.gpkg"), town_files, "voorzieningen")
    before = _digest(store.path)
    with pytest.raises(DataValidationError, match=r"al geïmporteerd \(import 3"):
        import_provisions(store, town_files["voorzieningen"], town_files["soorten"])
    assert _digest(store.path) == before and store.counts()["provisions"] == 3
    store.undo_batch(3, user="b")
    import_provisions(store, town_files["voorzieningen"], town_files["soorten"])  # after the undo: allowed
    assert store.counts()["provisions"] == 3

"""The store's contract, on both stores: the GeoPackage file and PostgreSQL with PostGIS.

Every test runs twice through the fixture ``backend_store`` (an empty store of each kind); ``backend_town`` is
Teststad (tests/towns.py, a municipality's own store, not the demo) built on it with the real readers, and
``backend_demo`` the built-in demo written by ``write_demo_store``. What is checked is what the domain code
promises whichever database holds it: tables come back as written, a failed write changes no table at all,
every write is audited, imports are batches whose undo gives back exactly what was there, the second of two
edits of the same version is refused, the demo takes no real data. The PostgreSQL variants skip (or fail in
CI) like the other PostgreSQL tests when no PostGIS server can be started.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import data.store as store_module
from data import auth
from data.area_import import read_area_file
from data.demo import write_demo_store
from data.errors import ConflictError, DataValidationError, StoreError
from data.health import read_health_file
from data.postgis import PostgisStore
from data.provision_types import PROVISION_TYPES, ProvisionType, suitability_frame, suitability_from_frame
from data.schema import BATCHED_TABLES, SCHEMA_VERSION, TABLES
from data.store import DemoStoreError, GeoPackageStore, SqlStore, file_sha256
from data.store_api import StoreBackend, open_store, store_at
from tests.backends import as_stored_geometry, assert_read_back, comparable, differing, snapshot
from tests.towns import ORIGIN_RD, SIDE_M, build_state, write_town_files
from tests.towns import import_provisions as import_town_provisions

BACKENDS = ("geopackage", "postgis")
CENTRUM, NOORD = "WK199900", "WK199901"
PASSWORD = "correct horse battery"


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend_store(request, tmp_path) -> SqlStore:
    """An empty store of a municipality's own installation: a GeoPackage file or a PostGIS database."""
    if request.param == "postgis":
        return PostgisStore.open(request.getfixturevalue("postgres_url"))
    return GeoPackageStore.open(tmp_path / "opslag.gpkg")


@pytest.fixture()
def town_files(tmp_path):
    return write_town_files(tmp_path / "bron")


@pytest.fixture()
def backend_town(backend_store, town_files) -> SqlStore:
    """Teststad up to its networks on the backend: 9 areas, 3 provisions, health figures, 3 persons, 5 imports."""
    return build_state(backend_store, town_files, "netwerken")


@pytest.fixture()
def backend_demo(backend_store, tmp_path) -> SqlStore:
    """The built-in demo written by write_demo_store on the backend (in the test's own database or file)."""
    if isinstance(backend_store, PostgisStore):
        backend_store.drop_all()  # the database is empty again: the demo gets a database of its own
        return write_demo_store(backend_store.url)
    return write_demo_store(tmp_path / "demo.gpkg")


def _is_pg(store) -> bool:
    return isinstance(store, PostgisStore)


def _measurement(**changes) -> dict:
    return {"person_id": "T-01", "provision_id": "V001", "study_group": "deelnemer", "moment": "T0",
            "measured_on": pd.Timestamp("2026-03-02"), **{f"lsns_{i}": 1 for i in range(1, 7)}, **changes}


def _agenda_item(**changes) -> dict:
    return {"wijk_code": CENTRUM, "title": "Koffieochtend voor weduwen", "aim": "Lichte ontmoeting",
            "owner_role": "opbouwwerker", "status": "idee", "starts_on": "2026-10-01", "due_on": "2027-03-31",
            **changes}


def _centre(col: int, row: int) -> shapely.Point:
    return shapely.Point(ORIGIN_RD[0] + (col + 0.5) * SIDE_M, ORIGIN_RD[1] + (row + 0.5) * SIDE_M)


# --------------------------------------------------------------------------- a new store, round trips


def test_a_new_store_is_empty_with_the_catalogue(backend_store):
    store = backend_store
    assert isinstance(store, StoreBackend)
    assert store.counts() == {"areas": 0, "provisions": 0, "persons": 0, "ties": 0, "participation": 0,
                              "schema_version": SCHEMA_VERSION}
    assert not store.is_demo
    assert set(store.read_provision_types()) == set(PROVISION_TYPES)
    assert store.read_suitability() == suitability_from_frame(suitability_frame())
    audit = store.read_audit()
    assert audit["action"].tolist() == ["nieuwe-opslag"] and audit["user"].tolist() == ["systeem"]
    assert store.read_batches().empty
    for name, table in TABLES.items():
        frame = store.read_table(name)
        assert list(frame.columns) == table.column_names + (["geometry"] if table.geometry_type else []), name
    again = open_store(store.location, create=False)  # opening it again finds the same, empty store
    assert type(again) is type(store) and again.counts() == store.counts()
    assert len(again.read_audit()) == 1


def test_every_table_of_the_demo_round_trips(backend_store, demo):
    frames = demo.tables()
    backend_store.replace_tables(frames, user="test", action="demo")
    for name, given in frames.items():
        assert_read_back(backend_store.read_table(name), given, name)
    counts = backend_store.counts()
    assert (counts["persons"], counts["ties"], counts["provisions"]) == (2000, 9684, 40)
    entry = backend_store.read_audit().iloc[0]
    assert (entry["user"], entry["action"]) == ("test", "demo")
    assert json.loads(entry["details"])["rijen"]["ties"] == len(demo.ties)
    # The readers on top of read_table: the lake has no inhabitants, its rates come out as 'geen_inwoners'.
    values = backend_store.read_area_values()
    assert values.loc[values["status"] == "geen_inwoners", "area_code"].unique().tolist() == ["BU99990504"]
    assert values["value"].sum() == pytest.approx(demo.area_values["value"].sum())
    buurten = backend_store.read_areas("buurt")
    assert len(buurten) == 40 and buurten["aantal_inwoners"].notna().all()


def test_awkward_values_round_trip_exactly(backend_store):
    """Texts with the characters the SQL translation touches, exact floats, big integers, NULLs, geometries
    with holes and parts, empty strings: every value comes back as it was written."""
    texts = ["50% vol? ja", "O'Brien \"de Kade\" \\ ", "regel 1\nregel 2\ttab", "café Ĳssel – 🎉",
             "'; DROP TABLE provisions; --", ""]
    n = len(texts)
    provisions = gpd.GeoDataFrame({
        "provision_id": [f"V{i:03d}" for i in range(1, n + 1)],
        "name": texts,
        "type": ["buurthuis"] * n,
        "status": ["actief", "onder_druk", "gestopt", "actief", "actief", "actief"],
        "organisation": [None, "Welzijn ? Centrum", "user", "geom", "IS NULL", "%s"],
        "reach_m": [0.1 + 0.2, 1e-12, 1234567.891011, None, -0.5, 3.0],
        "capacity_per_year": pd.array([2**40, None, 0, -5, 7, 12], dtype="Int64"),
        "funding_end": pd.to_datetime(["2026-12-31", None, "1999-01-01", "2100-02-28", None, "2026-06-30"]),
        "notes": [None, "x IS ? y", "INSERT OR IGNORE INTO", "?", "%", "100%"],
        "outside_areas": [False, True, False, False, True, False],
    }, geometry=[shapely.Point(118000.123456789, 486000.987654321), shapely.Point(0, 0),
                 shapely.Point(-1.5, 1e7), shapely.Point(155000, 463000), shapely.Point(1 / 3, 2 / 3),
                 shapely.Point(118900.0, 486900.0)], crs=28992)
    outer = shapely.box(118000, 486000, 119000, 487000)
    holed = shapely.Polygon(outer.exterior.coords, [shapely.box(118400.25, 486400.75, 118600.5, 486600.125)
                                                    .exterior.coords])
    areas = gpd.GeoDataFrame({
        "area_code": ["GM1999", "BU19990001"], "name": ["Test'stad", "Oude Kern?"], "level": ["gemeente", "buurt"],
        "gemeente_code": ["GM1999", "GM1999"], "year": pd.array([2017, None], dtype="Int64"),
        "water": [False, True],
    }, geometry=[shapely.MultiPolygon([holed, shapely.box(120000, 486000, 120000.5, 486000.5)]), outer], crs=28992)
    backend_store.replace_tables({"areas": areas, "provisions": provisions}, user="tëst", action="proef")
    assert_read_back(backend_store.read_table("provisions"), provisions, "provisions")
    assert_read_back(backend_store.read_table("areas"), areas, "areas")
    stored = backend_store.read_table("provisions")
    assert stored["version"].tolist() == [1] * n  # the column's default
    assert stored["name"].iloc[5] == "" and pd.isna(stored["organisation"].iloc[0])
    assert backend_store.read_audit().iloc[0]["user"] == "tëst"
    # And through a hand edit (an UPDATE with a geometry): the same values as given.
    point = shapely.Point(118123.456789, 486765.4321)
    version = backend_store.update_provision("V002", {"notes": "x IS ? 100%", "geometry": point, "reach_m": 0.3},
                                             expected_version=1, user="tëst")
    row = backend_store.read_table("provisions").set_index("provision_id").loc["V002"]
    assert (version, row["version"], row["notes"], row["reach_m"]) == (2, 2, "x IS ? 100%", 0.3)
    assert row["geometry"].equals_exact(point, 0)


@pytest.mark.parametrize("rows", [20, 150])
def test_whole_numbers_given_as_floats_land_in_integer_columns(backend_town, rows):
    """A pandas column of whole numbers with a gap is float64 (1.0, NaN): the GeoPackage stores the integers;
    PostgreSQL must too, in a small batch (INSERT) and in a large one (COPY)."""
    store = backend_town
    ties = pd.DataFrame({"ego_id": "T-01", "alter_key": [f"a{i}" for i in range(rows)], "role": "buur",
                         "closeness": [float(i % 4) if i % 5 else np.nan for i in range(rows)],
                         "support_practical": [1.0] * rows})
    assert ties["closeness"].dtype == "float64"
    store.replace_tables({"ties": ties}, user="t", action="import")
    stored = store.read_table("ties")
    assert comparable(stored["closeness"]) == [i % 4 if i % 5 else None for i in range(rows)]
    assert stored["support_practical"].eq(True).all() and stored["closeness"].dtype == "Int64"


def test_town_imports_land_in_every_table(backend_town):
    store = backend_town
    assert store.counts() == {"areas": 9, "provisions": 3, "persons": 3, "ties": 4, "participation": 0,
                              "schema_version": SCHEMA_VERSION}
    batches = store.read_batches()
    assert batches["kind"].tolist() == ["netwerk", "gezondheid", "voorzieningen", "gebieden", "gebieden"]
    assert batches["batch_id"].tolist() == [5, 4, 3, 2, 1] and batches["active"].all()
    assert batches.iloc[-1]["file_name"] == "buurt_2017.geojson"
    provisions = store.read_table("provisions")
    assert provisions[["provision_id", "buurt_code"]].values.tolist() == [
        ["V001", "BU19990001"], ["V002", "BU19990002"], ["V003", "BU19990102"]]
    buurten = store.read_areas("buurt").set_index("area_code")
    assert buurten.loc["BU19990001", "aantal_inwoners"] == 2150
    assert pd.isna(buurten.loc["BU19990003", "percentage_verweduwd"])  # CBS's -99999999 is missing, not a value
    assert buurten.geometry.area.to_numpy() == pytest.approx([SIDE_M * SIDE_M] * 6, rel=1e-4)
    health = store.read_area_values().query("indicator == 'gm_eenzaam_18'").set_index("area_code")
    assert health.loc["BU19990001", ["value", "lower", "upper"]].tolist() == [48.5, 41.0, 56.0]
    persons = store.read_table("persons").set_index("person_id")
    assert persons.loc["T-01", "widowed_since"] == pd.Timestamp("2025-02-03")
    assert persons["consent"].tolist() == [True, True, True]
    ties = store.read_table("ties")
    assert ties["support_practical"].dtype == "boolean" and ties["support_practical"].all()


def test_buurt_codes_at_and_the_outline(backend_town):
    points = np.array([_centre(0, 0), _centre(2, 1), shapely.Point(ORIGIN_RD[0] - 10, ORIGIN_RD[1] + 450),
                       shapely.Point(0, 0)], dtype=object)
    # The middle of Oude Kern and of Plas; a point just west of Teststad and one far away: none.
    assert backend_town.buurt_codes_at(points) == ["BU19990001", "BU19990103", None, None]
    assert backend_town.outline().area == pytest.approx(6 * SIDE_M * SIDE_M, rel=1e-4)
    assert backend_town.next_provision_number() == 4


# --------------------------------------------------------------------------- atomic writes


def test_a_failed_write_leaves_every_table_as_it_was(backend_town, town_files):
    store = backend_town
    before = snapshot(store)
    version = store.data_version()
    persons = store.read_table("persons")
    dup = pd.concat([persons, persons.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataValidationError, match="dubbele sleutel"):
        store.replace_tables({"areas": store.read_table("areas"), "persons": dup}, user="t", action="import")
    # A row the database itself refuses (NULL in a NOT NULL column with a default), after another table was
    # already rewritten in the same transaction, and in a batch of more than 100 rows (COPY on PostgreSQL).
    ties = pd.DataFrame({"ego_id": "T-01", "alter_key": [f"a{i}" for i in range(150)], "role": "buur",
                         "support_practical": pd.Series([1] * 120 + [None] + [0] * 29, dtype=object)})
    with pytest.raises(DataValidationError, match="passen niet in de opslag"):
        store.replace_tables({"persons": persons, "ties": ties}, user="t", action="import")
    with pytest.raises(DataValidationError, match="staat niet in de opslag"):
        store.import_postcodes(pd.DataFrame({"postcode": ["1999AA", "1999AB"],
                                             "buurt_code": ["BU19990001", "BU00000000"]}), user="t", source="p.csv")
    with pytest.raises(DataValidationError, match="staat niet in de opslag"):
        store.merge_measurements(pd.DataFrame([_measurement(), _measurement(person_id="X-9")]), user="t")
    with pytest.raises(DataValidationError, match="Wijk WK000000 staat niet in de opslag"):
        store.save_agenda_item(_agenda_item(wijk_code="WK000000"), user="t", role="beheerder")
    with pytest.raises(DataValidationError, match="al geïmporteerd"):
        import_town_provisions(store, town_files["voorzieningen"], town_files["soorten"])
    with pytest.raises(StoreError, match="kan nog niet ongedaan worden gemaakt"):
        store.undo_batch(1, user="t")
    with pytest.raises(StoreError, match="bestaat niet"):
        store.undo_batch(99, user="t")
    assert differing(before, snapshot(store)) == []
    if _is_pg(store):
        assert store.data_version() == version


def test_a_failure_inside_the_transaction_rolls_everything_back(backend_town, town_files, monkeypatch):
    """The rows were already written when the failure comes (in the audit write, at the end of the batch):
    every table is as it was, also the batch list, the undo tables and the audit log."""
    store = backend_town
    before = snapshot(store)
    version = store.data_version()

    def broken(*_args, **_kwargs):
        raise RuntimeError("schijf vol")

    with monkeypatch.context() as patch:
        patch.setattr(store_module, "_audit", broken)
        with pytest.raises(RuntimeError, match="schijf vol"):
            store.replace_tables({"ties": store.read_table("ties").iloc[:2]}, user="t", action="import")
        with pytest.raises(RuntimeError, match="schijf vol"):
            store.update_provision("V001", {"name": "Nieuw"}, expected_version=1, user="t")
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "_end_batch", broken)
        imported = read_area_file(town_files["buurten"])
        with pytest.raises(RuntimeError, match="schijf vol"):
            store.merge_area_data(imported.areas, imported.values.assign(value=1.0), user="t")
        with pytest.raises(RuntimeError, match="schijf vol"):
            store.merge_area_values(read_health_file(town_files["gezondheid"]).assign(value=99.0), user="t",
                                    action="import-gezondheid")
        with pytest.raises(RuntimeError, match="schijf vol"):
            store.import_postcodes(pd.DataFrame({"postcode": ["1999AA"], "buurt_code": ["BU19990001"]}), user="t",
                                   source="p.csv")
        with pytest.raises(RuntimeError, match="schijf vol"):
            store.merge_measurements(pd.DataFrame([_measurement()]), user="t")
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "_relocate_provisions", broken)
        with pytest.raises(RuntimeError, match="schijf vol"):
            store.remove_areas("GM1999", 2017, user="t")
    assert differing(before, snapshot(store)) == []
    if _is_pg(store):
        assert store.data_version() == version
    # The store still works: the next write lands.
    assert store.update_provision("V001", {"name": "Nieuw"}, expected_version=1, user="t") == 2


def test_every_write_is_audited(backend_town):
    store = backend_town
    n = len(store.read_audit())
    steps = [
        (lambda: store.update_provision("V001", {"name": "Kern"}, expected_version=1, user="anna"),
         "wijzig-voorziening", "V001"),
        (lambda: store.save_scenario("Zonder V002", json.dumps({"uit": ["V002"]}), user="anna"),
         "bewaar-scenario", "Zonder V002"),
        (lambda: store.add_provision_type(ProvisionType("taalcafe", "Taalcafé", "", ("alle_bewoners",),
                                                        "deelnemers per jaar", 1200), user="anna"),
         "nieuwe-soort", "taalcafe"),
        (lambda: store.save_suitability({"buurthuis": ("sociaal",)}, user="anna"), "wijzig-geschiktheid",
         "suitability"),
        (lambda: store.import_postcodes(pd.DataFrame({"postcode": ["1999AA"], "buurt_code": ["BU19990001"]}),
                                        user="anna", source="p.csv"), "import-postcodes", "postcodes"),
        (lambda: store.save_agenda_item(_agenda_item(), user="anna", role="opbouwwerker"), "nieuw-agendapunt",
         "AG-0001"),
        (lambda: store.save_initiative({"name": "Moestuin", "geometry": _centre(1, 0)}, user="anna"), "initiatief",
         "IN-0001"),
        (lambda: store.save_key_figure({"role_label": "huisarts", "organisation": "Praktijk"}, user="anna"),
         "sleutelfiguur", "SF-0001"),
        (lambda: store.save_aftercare_plan({"person_id": "T-01", "reason": "wijkteam", "starts_on": "2026-01-01"},
                                           user="anna"), "nieuw-nazorgplan", "NZ-0001"),
        (lambda: store.set_followup_schedule("buurthuis", t1_weeks=6, t2_weeks=19, t3_weeks=None,
                                             aftercare_per_year=4, user="anna"), "meetmomenten-soort", "buurthuis"),
        (lambda: store.undo_batch(store.read_batches()["batch_id"].iloc[0], user="anna"), "ongedaan-maken",
         "import 7"),
        (lambda: auth.create_user(store, "beheer", "beheerder", (), PASSWORD, by="anna"), "nieuwe-gebruiker",
         "beheer"),
        (lambda: store.log("anna", "export", "provisions", {"bestand": "x.xlsx"}), "export", "provisions"),
    ]
    for step, action, target in steps:
        step()
        audit = store.read_audit()
        assert len(audit) == n + 1, action
        assert audit.loc[0, ["user", "action", "target"]].tolist() == ["anna", action, target]
        n += 1
    assert json.loads(store.read_audit().loc[0, "details"]) == {"bestand": "x.xlsx"}
    edit = store.read_audit().query("action == 'wijzig-voorziening'").iloc[0]
    details = json.loads(edit["details"])
    assert (details["voor"]["name"], details["na"]["name"]) == ("Buurtkamer De Kern", "Kern")


# --------------------------------------------------------------------------- imports are batches; undo


def _import_areas(store, files):
    imported = read_area_file(files["buurten"])
    areas = imported.areas.assign(year=2018)
    areas.loc[areas["area_code"] == "BU19990002", "name"] = "Haven-Oost"
    values = imported.values.assign(year=2018)
    values["value"] = values["value"] + 1
    warnings = store.merge_area_data(areas, values, user="t", file_name="buurt_2018.geojson")
    assert any("heette 'Haven' en heet nu 'Haven-Oost'" in w for w in warnings)
    details = json.loads(store.read_audit().iloc[0]["details"])
    assert (details["gebieden"], details["vervangen_gebieden"]) == (len(areas), len(areas))
    return {"areas", "area_values", "undo_areas"}


def _import_health(store, files):
    health = read_health_file(files["gezondheid"])
    store.merge_area_values(health.assign(value=health["value"] * 1.1), user="t", action="import-gezondheid")
    return {"area_values", "undo_area_values"}


def _import_provisions(store, files):
    stored = store.read_table("provisions").drop(columns="version")  # as a source file has them: no version
    changed = stored.iloc[[0]].assign(name="Buurtkamer De Kern (nieuw)")
    new = stored.iloc[[1]].assign(provision_id="V004", name="Nieuwe plek", source_id=None)
    new = new.set_geometry([_centre(1, 1)], crs=28992)
    store.import_provisions(gpd.GeoDataFrame(pd.concat([changed, new], ignore_index=True), crs=28992), user="t",
                            source="bijwerking.geojson")
    return {"provisions", "undo_provisions"}


def _import_network(store, files):
    persons = store.read_table("persons")
    changed = persons.iloc[[2]].assign(age_band="65-74")
    new = persons.iloc[[2]].assign(person_id="T-04", buurt_code="BU19990102")
    ties = store.read_table("ties").query("ego_id == 'T-03'").assign(closeness=1)
    ties = pd.concat([ties, ties.assign(ego_id="T-04", alter_id="T-03", role="buur")], ignore_index=True)
    store.merge_network(pd.concat([changed, new], ignore_index=True), ties, user="t", source="netwerk2.csv")
    return {"persons", "ties", "undo_persons", "undo_ties"}


def _import_measurements(store, files):
    replaced = len(store.read_table("measurements"))
    result = store.merge_measurements(pd.DataFrame([_measurement(), _measurement(person_id="T-02", moment="T1")]),
                             pd.DataFrame([{"person_id": "T-01", "provision_id": "V001", "moment": "T0",
                                            "alter_key": "a1", "role": "buur"}]), user="t", source="m.csv")
    assert (result["metingen"], result["vervangen_metingen"], result["netwerkregels"]) == (2, replaced, 1)
    return {"measurements", "followup_ties"}


def _import_postcodes(store, files):
    replaced = len(store.read_table("postcodes"))
    result = store.import_postcodes(pd.DataFrame({"postcode": ["1999AA", "1999AB"],
                                                  "buurt_code": ["BU19990001"] * 2}), user="t", source="p.csv")
    assert (result["postcodes"], result["vervangen_postcodes"]) == (2, replaced)
    return {"postcodes"}


def _remove_areas(store, files):
    result = store.remove_areas("GM1999", 2017, user="t")
    assert result["gebieden"] == 5 and result["voorzieningen_zonder_buurt"] == 2
    return {"areas", "area_values", "provisions", "undo_areas", "undo_area_values"}


def _edit_provision(store, files):
    store.update_provision("V002", {"name": "JC Haven-Oost", "capacity_per_year": 80}, expected_version=1,
                           user="t")
    return {"provisions", "undo_provisions"}


def _delete_provision(store, files):
    store.delete_provision("V003", expected_version=1, user="t")
    return {"provisions", "undo_provisions"}


IMPORTS = {"gebieden": _import_areas, "gezondheid": _import_health, "voorzieningen": _import_provisions,
           "netwerk": _import_network, "metingen": _import_measurements, "postcodes": _import_postcodes,
           "verwijdering": _remove_areas, "handmatig": _edit_provision, "verwijder-voorziening": _delete_provision}


@pytest.mark.parametrize("kind", list(IMPORTS))
def test_undo_restores_exactly_what_was_there(backend_town, town_files, kind):
    store = backend_town
    if kind == "postcodes":  # a table to replace, so that the undo has rows to bring back
        _import_postcodes(store, town_files)
    elif kind == "metingen":
        _import_measurements(store, town_files)
    skip = ("audit", "batches")
    before = snapshot(store, skip=skip)
    provisions_before = store.read_table("provisions")
    expected = IMPORTS[kind](store, town_files)
    batch = store.last_batch_id
    changed = differing(before, snapshot(store, skip=skip))
    assert expected <= set(changed) or (kind in ("postcodes", "metingen") and expected & set(changed)), changed
    assert store.read_batches().iloc[0]["batch_id"] == batch
    assert store.undo_preview(batch)["blockers"] == []
    result = store.undo_batch(batch, user="anna")
    assert sum(result["verwijderd"].values()) + sum(result["teruggezet"].values()) > 0
    after = snapshot(store, skip=skip)
    left = differing(before, after)
    provisions = store.read_table("provisions")
    if "provisions" in left:  # a provision that comes back gets a newer version; the rest is as it was
        assert left == ["provisions"]
        pd.testing.assert_frame_equal(pd.DataFrame(provisions.drop(columns=["version", "geometry"])),
                                      pd.DataFrame(provisions_before.drop(columns=["version", "geometry"])))
        assert provisions.geometry.geom_equals_exact(provisions_before.geometry, 0).all()
        assert (provisions["version"] >= provisions_before["version"]).all()
        assert (provisions["version"] > provisions_before["version"]).any()
    else:
        assert left == []
    undone = store.read_batches().set_index("batch_id").loc[batch]
    assert not undone["active"] and undone["undone_by"] == "anna"
    assert store.read_audit().iloc[0]["action"] == "ongedaan-maken"
    with pytest.raises(StoreError, match="al ongedaan gemaakt"):
        store.undo_batch(batch, user="anna")


def test_a_provision_frame_read_from_the_store_is_imported_back(backend_town):
    """Frames read from the store carry the column 'version'; an import of such a frame (a changed provision
    and a new one) must not write that column twice: the store counts the version itself."""
    store = backend_town
    stored = store.read_table("provisions")
    changed = stored.iloc[[0]].assign(name="Buurtkamer De Kern (nieuw)")
    new = stored.iloc[[1]].assign(provision_id="V004", name="Nieuwe plek", source_id=None)
    counts = store.import_provisions(gpd.GeoDataFrame(pd.concat([changed, new], ignore_index=True), crs=28992),
                                     user="t", source="terug.geojson")
    assert counts == {"nieuw": 1, "bijgewerkt": 1, "ongewijzigd": 0}
    after = store.read_table("provisions").set_index("provision_id")
    assert after.loc["V001", ["name", "version"]].tolist() == ["Buurtkamer De Kern (nieuw)", 2]
    assert after.loc["V004", "version"] == 1 and len(after) == 4


def test_undo_is_blocked_by_a_later_import_and_changes_nothing(backend_town, town_files):
    store = backend_town
    # Teststad's own history: the wijken file (2) replaced the wijken the buurten import (1) derived, the health
    # figures (4) are for areas of the buurten import.
    assert {b["batch_id"] for b in store.undo_preview(1)["blockers"]} == {2, 4}
    _import_postcodes(store, town_files)
    first_postcodes = store.last_batch_id
    store.import_postcodes(pd.DataFrame({"postcode": ["1999BA"], "buurt_code": ["BU19990101"]}), user="t",
                           source="p2.csv")
    second_postcodes = store.last_batch_id
    _import_measurements(store, town_files)
    measurements = store.last_batch_id
    store.update_provision("V002", {"name": "JC"}, expected_version=1, user="t")
    edit = store.last_batch_id
    cases = {first_postcodes: second_postcodes, 5: measurements, 3: edit}
    before = snapshot(store)
    for batch, later in cases.items():
        blockers = store.undo_preview(batch)["blockers"]
        assert later in {b["batch_id"] for b in blockers}, (batch, blockers)
        with pytest.raises(StoreError, match=f"Import {batch} kan nog niet ongedaan worden gemaakt: .*import {later}"):
            store.undo_batch(batch, user="t")
    assert differing(before, snapshot(store)) == []
    # Undone in the right order, each goes.
    store.undo_batch(second_postcodes, user="t")
    store.undo_batch(first_postcodes, user="t")
    assert store.read_table("postcodes").empty
    store.undo_batch(measurements, user="t")
    store.undo_batch(5, user="t")
    assert store.read_table("persons").empty and store.read_table("ties").empty


def test_a_network_of_many_persons_is_replaced_and_undone_exactly(backend_town):
    """Sixty persons at once: the deletes and undo copies go by key set (a temp table in SQLite, an array in
    PostgreSQL), and more than 100 ties go by COPY on PostgreSQL."""
    store = backend_town
    template = store.read_table("persons").iloc[[0]]
    persons = pd.concat([template.assign(person_id=f"M-{i:03d}", lsns_1=i % 6) for i in range(60)],
                        ignore_index=True)
    tie = store.read_table("ties").iloc[[1]]  # an anonymous alter
    ties = pd.concat([tie.assign(ego_id=f"M-{i:03d}", alter_key=f"a{k}", closeness=k % 4)
                      for i in range(60) for k in range(2)], ignore_index=True)
    first = store.merge_network(persons, ties, user="t", source="groot.csv")
    assert first == {"personen": 60, "relaties": 120, "deelnames": 0, "onderlinge_banden": 0}
    after_first = snapshot(store, skip=("audit", "batches"))
    stored = store.read_table("persons").set_index("person_id")
    assert stored.loc["M-059", "lsns_1"] == 59 % 6 and len(stored) == 63
    second = store.merge_network(persons.assign(age_band="85+"), ties.iloc[::2].assign(closeness=3), user="t",
                                 source="groot2.csv")
    assert second["relaties"] == 60
    assert len(store.read_table("ties")) == 4 + 60
    assert set(store.read_table("persons").query("person_id.str.startswith('M-')")["age_band"]) == {"85+"}
    store.undo_batch(store.last_batch_id, user="t")
    assert differing(after_first, snapshot(store, skip=("audit", "batches"))) == []
    store.undo_batch(store.read_batches().query("active")["batch_id"].iloc[0], user="t")
    assert store.counts()["persons"] == 3 and store.counts()["ties"] == 4


# --------------------------------------------------------------------------- optimistic locking


def test_the_second_edit_of_the_same_version_is_refused_everywhere(backend_town):
    store = backend_town
    store.update_provision("V001", {"name": "Eerst"}, expected_version=1, user="a")
    item = store.save_agenda_item(_agenda_item(), user="a", role="opbouwwerker")
    store.save_agenda_item({**item, "status": "gepland"}, user="a", role="opbouwwerker", expected_version=1)
    plan = store.save_aftercare_plan({"person_id": "T-01", "reason": "wijkteam", "starts_on": "2026-01-01"}, user="a")
    store.register_aftercare_contact(plan["plan_id"], 1, done_on="2026-04-03", by_role="wijkteam",
                                     outcome="gaat_goed", expected_version=1, user="a")
    store.merge_measurements(pd.DataFrame([_measurement()]), user="a", kind="meting-invoer")
    store.merge_measurements(pd.DataFrame([_measurement(lsns_1=3)]), user="a", kind="meting-invoer",
                             expected_versions={("T-01", "V001", "T0"): 1})
    initiative = store.save_initiative({"name": "Moestuin", "geometry": _centre(1, 0)}, user="a")
    store.save_initiative({**initiative, "status": "idee"}, user="a", expected_version=1)
    figure = store.save_key_figure({"role_label": "imam", "organisation": "Moskee"}, user="a")
    store.save_key_figure({**figure, "organisation": "Moskee Noord"}, user="a", expected_version=1)
    store.save_scenario("Plan", json.dumps({"uit": []}), user="a")
    store.save_scenario("Plan", json.dumps({"uit": ["V001"]}), user="a", expected_version=1)
    before = snapshot(store)
    stale = [
        (lambda: store.update_provision("V001", {"name": "Tweede"}, expected_version=1, user="b"),
         "intussen door iemand anders gewijzigd \\(versie 2, u bewerkte versie 1\\)"),
        (lambda: store.delete_provision("V001", expected_version=1, user="b"), "intussen gewijzigd"),
        (lambda: store.save_agenda_item({**item, "status": "gestopt"}, user="b", role="beheerder",
                                        expected_version=1), "intussen door iemand anders gewijzigd"),
        (lambda: store.save_aftercare_plan({**plan, "months": 6}, user="b", expected_version=1),
         "intussen door iemand anders gewijzigd"),
        (lambda: store.register_aftercare_contact(plan["plan_id"], 2, done_on="2026-07-03", by_role="wijkteam",
                                                  outcome="gaat_goed", expected_version=1, user="b"),
         "intussen door iemand anders gewijzigd"),
        (lambda: store.merge_measurements(pd.DataFrame([_measurement(lsns_1=5)]), user="b", kind="meting-invoer",
                                          expected_versions={("T-01", "V001", "T0"): 1}),
         "versie 2, u bewerkte versie 1"),
        (lambda: store.save_initiative({**initiative, "status": "gestopt"}, user="b", expected_version=1),
         "intussen door iemand anders gewijzigd"),
        (lambda: store.save_key_figure({**figure, "organisation": "X"}, user="b", expected_version=1),
         "intussen door iemand anders gewijzigd"),
        (lambda: store.save_scenario("Plan", json.dumps({"uit": ["V002"]}), user="b", expected_version=1),
         "Er bestaat al een scenario 'Plan' \\(versie 2\\)"),
        (lambda: store.save_scenario("Plan", json.dumps({"uit": ["V002"]}), user="b"), "Er bestaat al"),
    ]
    for step, message in stale:
        with pytest.raises(ConflictError, match=message):
            step()
    assert differing(before, snapshot(store)) == []
    assert store.read_table("provisions").set_index("provision_id").loc["V001", ["name", "version"]].tolist() == [
        "Eerst", 2]
    assert store.read_table("measurements")[["lsns_1", "version"]].values.tolist() == [[3, 2]]
    assert store.read_table("aftercare_plans")["version"].tolist() == [2]
    # With the current versions the same edits land.
    assert store.update_provision("V001", {"name": "Tweede"}, expected_version=2, user="b") == 3
    assert store.save_agenda_item({**item, "status": "loopt"}, user="b", role="beheerder",
                                  expected_version=2)["version"] == 3
    assert store.register_aftercare_contact(plan["plan_id"], 2, done_on="2026-07-03", by_role="wijkteam",
                                            outcome="gaat_goed", expected_version=2, user="b") == 3


# --------------------------------------------------------------------------- the demo


def test_the_demo_refuses_real_data_and_can_be_removed(backend_demo, town_files):
    store = backend_demo
    assert store.is_demo and store.counts()["persons"] == 2000
    areas = store.read_table("areas")
    buurt = areas.loc[areas["level"] == "buurt", "area_code"].iloc[0]
    imported = read_area_file(town_files["buurten"])
    persons = store.read_table("persons").iloc[:1]
    before = snapshot(store)
    refused = [
        lambda: store.merge_area_data(imported.areas, imported.values, user="t"),
        lambda: store.merge_area_values(read_health_file(town_files["gezondheid"]), user="t", action="x"),
        lambda: store.import_postcodes(pd.DataFrame({"postcode": ["9999AA"], "buurt_code": [buurt]}), user="t",
                                       source="p.csv"),
        lambda: store.merge_network(persons, store.read_table("ties").iloc[:1], user="t", source="n.csv"),
        lambda: store.import_provisions(store.read_table("provisions").iloc[:1].assign(provision_id="V999"),
                                        user="t", source="v.csv"),
        lambda: store.merge_measurements(store.read_table("measurements").iloc[:1], user="t", source="m.csv"),
    ]
    for step in refused:
        with pytest.raises(DemoStoreError, match="demogemeente Voorbeeldstad.*Er is niets geïmporteerd"):
            step()
    assert differing(before, snapshot(store)) == []
    # The conversation form may be tried out on the demo.
    store.merge_network(persons.assign(age_band="85+"), store.read_table("ties").query(
        f"ego_id == '{persons['person_id'].iloc[0]}'"), user="t", kind="netwerk-invoer")
    assert store.read_batches().iloc[0]["kind"] == "netwerk-invoer"

    removed = store.remove_demo(user="beheer")
    assert removed["persons"] == 2000 and removed["areas"] == len(areas)
    assert not store.is_demo
    assert store.counts() == {"areas": 0, "provisions": 0, "persons": 0, "ties": 0, "participation": 0,
                              "schema_version": SCHEMA_VERSION}
    assert all(store.read_table(t).empty for t in (*BATCHED_TABLES, "batches", "agenda_items", "initiatives"))
    assert store.read_audit().iloc[0][["user", "action"]].tolist() == ["beheer", "verwijder-demo"]
    with pytest.raises(DataValidationError, match="bevat de demogemeente niet"):
        store.remove_demo(user="beheer")
    # Now it is a municipality's own store: real data comes in.
    build_state(store, town_files, "gebieden")
    assert store.counts()["areas"] == 9


def test_removing_the_demo_from_a_store_with_real_data_keeps_the_real_data(backend_town, demo):
    """An older store where real data was imported next to the demo: only Voorbeeldstad's part goes."""
    store = backend_town
    teststad = {name: store.read_table(name) for name in ("areas", "provisions", "persons", "ties")}
    store.merge_area_data(demo.areas, demo.area_values, user="t", file_name="demo.gpkg")
    provisions = demo.provisions.assign(provision_id=[f"D{i:03d}" for i in range(len(demo.provisions))])
    store.import_provisions(provisions.drop(columns="version"), user="t", source="demo.gpkg")
    persons = demo.persons.iloc[:60]
    ties = demo.ties.loc[demo.ties["ego_id"].isin(persons["person_id"])
                         & (demo.ties["alter_id"].isna() | demo.ties["alter_id"].isin(persons["person_id"]))]
    participation = demo.participation.loc[demo.participation["person_id"].isin(persons["person_id"])].assign(
        provision_id="D000")
    store.merge_network(persons, ties, participation.drop_duplicates(["person_id", "provision_id"]), user="t",
                        source="demo.gpkg")
    store.save_agenda_item(_agenda_item(wijk_code="WK999901"), user="t", role="opbouwwerker")
    store.save_agenda_item(_agenda_item(), user="t", role="opbouwwerker")
    assert store.counts()["areas"] == 9 + len(demo.areas) and not store.is_demo
    removed = store.remove_demo(user="beheer")
    assert removed["areas"] == len(demo.areas) and removed["persons"] == 60 and removed["provisions"] == 40
    assert removed["ties"] == len(ties) and removed["participation"] > 0
    for name, before in teststad.items():
        after = store.read_table(name)
        pd.testing.assert_frame_equal(pd.DataFrame(after.drop(columns="geometry", errors="ignore")),
                                      pd.DataFrame(before.drop(columns="geometry", errors="ignore")), obj=name)
    assert store.read_table("participation").empty
    assert store.read_table("agenda_items")["wijk_code"].tolist() == [CENTRUM]
    assert store.read_audit().iloc[0]["action"] == "verwijder-demo"


def test_a_conflict_names_the_version_stored_now(backend_town, monkeypatch):
    """Two saves of version 1 at the same moment (two app servers): the second is refused, and its message
    names the version the other one stored, not the version it read itself a moment before."""
    store = backend_town
    other = type(store).open(store.location, create=False)
    read = store._read_rows
    raced = []

    def read_then_the_other_saves(name, *args):
        frame = read(name, *args)
        if name == "provisions" and not raced:
            raced.append(other.update_provision("V001", {"name": "Door de ander"}, expected_version=1, user="b"))
        return frame

    monkeypatch.setattr(store, "_read_rows", read_then_the_other_saves)
    with pytest.raises(ConflictError, match="intussen door iemand anders gewijzigd") as caught:
        store.update_provision("V001", {"name": "Door mij"}, expected_version=1, user="a")
    assert raced == [2]
    assert "versie 2, u bewerkte versie 1" in str(caught.value)
    assert other.read_table("provisions")["name"].iloc[0] == "Door de ander"


# --------------------------------------------------------------------------- catalogue, scenarios, accounts


def test_scenarios_are_saved_and_deleted(backend_town):
    store = backend_town
    assert store.save_scenario("  Zonder V002 ", json.dumps({"uit": ["V002"]}), user="a") == 1
    assert store.save_scenario("Zonder V002", json.dumps({"uit": ["V002", "V003"]}), user="a",
                               expected_version=1) == 2
    store.save_scenario("Alfa", json.dumps({"nieuw": [{"type": "buurthuis", "x": 1.5, "y": 2.5}]}), user="b")
    scenarios = store.read_scenarios()
    assert scenarios["name"].tolist() == ["Alfa", "Zonder V002"] and scenarios["version"].tolist() == [1, 2]
    assert json.loads(scenarios["definition"].iloc[1]) == {"uit": ["V002", "V003"]}
    with pytest.raises(DataValidationError, match="1 tot 80 tekens"):
        store.save_scenario("x" * 81, "{}", user="a")
    store.delete_scenario("Zonder V002", user="a")
    assert store.read_scenarios()["name"].tolist() == ["Alfa"]
    with pytest.raises(StoreError, match="bestaat niet"):
        store.delete_scenario("Zonder V002", user="a")
    assert store.read_audit().iloc[0]["action"] == "verwijder-scenario"


def test_provision_types_suitability_and_follow_up_moments(backend_town):
    store = backend_town
    taalcafe = ProvisionType("taalcafe", "Taalcafé", "Oefenen met Nederlands", ("alle_bewoners",),
                             "deelnemers per jaar", 1200)
    store.add_provision_type(taalcafe, user="anna")
    with pytest.raises(DataValidationError, match="bestaat al"):
        store.add_provision_type(ProvisionType("taalcafe", "Nog een", "", (), "x", 100), user="anna")
    types = store.read_provision_types()
    assert len(types) == len(PROVISION_TYPES) + 1
    assert types["taalcafe"].label == "Taalcafé" and types["taalcafe"].default_reach_m == 1200
    assert types["taalcafe"].target_groups == ("alle_bewoners",)
    table = store.read_suitability()
    table["buurthuis"] = ()
    table["taalcafe"] = ("sociaal", "emotioneel")
    store.save_suitability(table, user="anna")
    saved = store.read_suitability()
    assert "buurthuis" not in saved and set(saved["taalcafe"]) == {"sociaal", "emotioneel"}
    with pytest.raises(DataValidationError, match="Onbekende behoefte"):
        store.save_suitability({"buurthuis": ("rouw",)}, user="anna")
    with pytest.raises(DataValidationError, match="Onbekende soort"):
        store.save_suitability({"kroeg": ("sociaal",)}, user="anna")
    assert store.read_suitability() == saved
    store.set_followup_schedule("taalcafe", t1_weeks=8, t2_weeks=20, t3_weeks=52, aftercare_per_year=2, user="anna")
    assert store.read_provision_types()["taalcafe"].moment_weeks == {"T1": 8, "T2": 20, "T3": 52}
    with pytest.raises(DataValidationError, match="bestaat niet"):
        store.set_followup_schedule("kroeg", t1_weeks=8, t2_weeks=None, t3_weeks=None, aftercare_per_year=None,
                                    user="anna")


def test_accounts_sign_in_count_failures_and_lock(backend_town):
    store = backend_town
    auth.create_user(store, "beheer", "beheerder", (), PASSWORD, by="test")
    auth.create_user(store, "wijk0", "wijkteam", (CENTRUM,), PASSWORD, by="beheer")
    with pytest.raises(DataValidationError, match="bestaat al"):
        auth.create_user(store, "wijk0", "wijkteam", (CENTRUM,), PASSWORD, by="beheer")
    user = auth.authenticate(store, "Wijk0", PASSWORD)
    assert (user.username, user.role, user.wijken) == ("wijk0", "wijkteam", (CENTRUM,))
    for attempt in (1, 2):
        with pytest.raises(auth.SignInError):
            auth.authenticate(store, "wijk0", "fout wachtwoord")
        assert store.read_table("users").set_index("username").loc["wijk0", "failed_attempts"] == attempt
    auth.authenticate(store, "wijk0", PASSWORD)  # a right password takes the failures back
    assert store.read_table("users").set_index("username").loc["wijk0", "failed_attempts"] == 0
    for _ in range(auth.MAX_FAILED + 1):
        with pytest.raises(auth.SignInError):
            auth.authenticate(store, "wijk0", "fout wachtwoord")
    with pytest.raises(auth.SignInError):
        auth.authenticate(store, "wijk0", PASSWORD)  # locked: the right password does not lift it
    assert pd.notna(store.read_table("users").set_index("username").loc["wijk0", "locked_until"])
    reasons = [json.loads(d).get("reden") for d in store.read_audit().query("action == 'aanmelden-mislukt'")["details"]]
    assert "geblokkeerd" in reasons and "wachtwoord" in reasons
    assert auth.read_users(store)["username"].tolist() == ["beheer", "wijk0"]
    assert "password_hash" not in auth.read_users(store).columns
    # The administrator gives a new password (which lifts the lock) and another role: the sessions end.
    auth.update_user(store, "wijk0", by="beheer", role="gebiedsverbinder", password="een heel ander wachtwoord")
    row = store.read_table("users").set_index("username").loc["wijk0"]
    assert (row["role"], row["session_epoch"], row["failed_attempts"]) == ("gebiedsverbinder", 1, 0)
    assert pd.isna(row["locked_until"])
    assert auth.authenticate(store, "wijk0", "een heel ander wachtwoord").epoch == 1
    with pytest.raises(DataValidationError, match="altijd een actieve beheerder"):
        auth.update_user(store, "beheer", by="beheer", active=False)
    assert auth.current_user(store, "beheer").role == "beheerder"


def test_two_first_administrators_at_once_give_one(backend_store, monkeypatch):
    """The first-run step on a fresh install, by two people at the same moment: the check 'no account yet' and
    the new account are one transaction under the write lock, so the second is refused. The first is held
    inside its transaction (after its insert) until the second has had every chance to pass the check."""
    store = backend_store
    real_audit = store_module._audit
    inside = threading.Barrier(2, timeout=3)

    def audit_after_waiting(conn, user, action, target, details):
        if action == "nieuwe-gebruiker":
            with contextlib.suppress(threading.BrokenBarrierError):
                inside.wait()  # both inside their transaction at once: only possible without the lock
        real_audit(conn, user, action, target, details)

    monkeypatch.setattr(store_module, "_audit", audit_after_waiting)
    outcome: dict[str, object] = {}

    def first_run(name: str) -> None:
        try:
            auth.create_user(store_at(store.location), name, "beheerder", (), PASSWORD, by=name, only_first=True)
            outcome[name] = "aangemaakt"
        except DataValidationError as exc:
            outcome[name] = str(exc)

    threads = [threading.Thread(target=first_run, args=(name,)) for name in ("anna", "bram")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcome.values(), key=len) == ["aangemaakt", "Er is al een beheerder; meld u aan."], outcome
    assert len(store.read_table("users")) == 1


# --------------------------------------------------------------------------- wijkagenda, initiatives, aftercare


def test_agenda_initiatives_and_key_figures(backend_town):
    store = backend_town
    initiative = store.save_initiative({"name": "Moestuin Haven", "geometry": _centre(1, 0),
                                        "support_asked": "gereedschap"}, user="opbouw")
    assert (initiative["initiative_id"], initiative["buurt_code"]) == ("IN-0001", "BU19990002")
    layer = store.read_table("initiatives")
    assert layer.geometry.iloc[0].equals_exact(_centre(1, 0), 0) and layer.crs.to_epsg() == 28992
    first = store.save_agenda_item(_agenda_item(), [("buurt", "BU19990001"), ("initiatief", "IN-0001")],
                                   user="opbouw", role="opbouwwerker", note="met de kerk besproken")
    assert (first["item_id"], first["version"]) == ("AG-0001", 1)
    result = store.import_agenda_items(pd.DataFrame([_agenda_item(title="Eén"), _agenda_item(title="Twee",
                                                                                           wijk_code=NOORD)]),
                                       [[("tekort", "buurthuis")], []], user="opbouw", source="agenda.csv")
    assert result == {"agendapunten": 2, "ids": ["AG-0002", "AG-0003"]}
    with pytest.raises(DataValidationError, match="Onbekende status") as info:
        store.import_agenda_items(pd.DataFrame([_agenda_item(), _agenda_item(status="bezig")]), user="o",
                                  source="agenda.csv")
    assert (info.value.file, info.value.row) == ("agenda.csv", 3)
    items = store.read_table("agenda_items")
    assert items["item_id"].tolist() == ["AG-0001", "AG-0002", "AG-0003"]
    assert items["starts_on"].iloc[0] == pd.Timestamp("2026-10-01")
    links = store.read_table("agenda_links")[["item_id", "kind", "target"]].values.tolist()
    assert links == [["AG-0001", "buurt", "BU19990001"], ["AG-0001", "initiatief", "IN-0001"],
                     ["AG-0002", "tekort", "buurthuis"]]
    history = store.read_table("agenda_updates")
    assert history["note"].tolist()[0] == "met de kerk besproken" and history["user"].tolist() == ["opbouw"] * 3
    with pytest.raises(DataValidationError, match="toestemming"):
        store.save_key_figure({"role_label": "imam", "name": "A. Jansen"}, user="o")
    store.save_key_figure({"role_label": "huisarts", "name": "dr. De Vries", "consent_name": True,
                           "wijk_code": CENTRUM}, user="o")
    figures = store.read_table("key_figures")
    assert figures[["figure_id", "name", "consent_name"]].values.tolist() == [["SF-0001", "dr. De Vries", True]]


def test_aftercare_plans_and_contacts(backend_town):
    store = backend_town
    plan = store.save_aftercare_plan({"person_id": "T-01", "provision_id": "V001", "reason": "voorziening",
                                      "starts_on": "2026-01-01", "contacts_per_year": 4, "months": 12}, user="w")
    assert (plan["plan_id"], plan["version"]) == ("NZ-0001", 1)
    assert store.register_aftercare_contact("NZ-0001", 1, done_on="2026-04-03", by_role="wijkteam",
                                            outcome="gaat_goed", expected_version=1, user="w",
                                            planned_on="2026-04-02") == 2
    with pytest.raises(ConflictError, match="al geregistreerd"):
        store.register_aftercare_contact("NZ-0001", 1, done_on="2026-04-05", by_role="wijkteam",
                                         outcome="gaat_goed", expected_version=2, user="w")
    with pytest.raises(DataValidationError, match="staat niet in de opslag"):
        store.save_aftercare_plan({"person_id": "X-9", "reason": "wijkteam", "starts_on": "2026-01-01"}, user="w")
    plans, contacts = store.read_table("aftercare_plans"), store.read_table("aftercare_contacts")
    assert plans[["plan_id", "provision_id", "version"]].values.tolist() == [["NZ-0001", "V001", 2]]
    assert plans["starts_on"].tolist() == [pd.Timestamp("2026-01-01")]
    assert contacts[["sequence", "planned_on", "done_on", "outcome"]].values.tolist() == [
        [1, pd.Timestamp("2026-04-02"), pd.Timestamp("2026-04-03"), "gaat_goed"]]


# --------------------------------------------------------------------------- postcodes, data version, schema


def test_postcodes_for_unknown_buurten_are_refused_with_row_and_column(backend_town):
    store = backend_town
    frame = pd.DataFrame({"postcode": ["1999AA", "1999AB", "1011AB", "1011AC"],
                          "buurt_code": ["BU19990001", "BU19990002", "BU03630101", "BU03630102"]})
    with pytest.raises(DataValidationError, match="Buurt BU03630101 \\(postcode 1011AB\\) staat niet in de opslag, "
                                                  "en nog 1 andere buurten") as err:
        store.import_postcodes(frame, user="beheer", source="pc6.csv")
    assert (err.value.file, err.value.row, err.value.column) == ("pc6.csv", 4, "buurt_code")
    assert store.read_table("postcodes").empty
    result = store.import_postcodes(frame.iloc[:2], user="beheer", source="pc6.csv", sha256="ab" * 32)
    assert result == {"postcodes": 2, "buurten": 2, "vervangen_postcodes": 0, "import": 6}
    stored = store.read_table("postcodes")
    assert stored[["postcode", "buurt_code", "source"]].values.tolist() == [
        ["1999AA", "BU19990001", "pc6.csv"], ["1999AB", "BU19990002", "pc6.csv"]]
    assert store.read_batches().iloc[0][["kind", "sha256"]].tolist() == ["postcodes", "ab" * 32]


def test_data_version_changes_with_every_data_write(backend_town):
    store = backend_town
    first = store.data_version()
    store.read_table("provisions")
    store.counts()
    assert store.data_version() == first  # reading changes nothing
    time.sleep(0.02)  # the GeoPackage's version is the file's time
    store.update_provision("V001", {"name": "Kern"}, expected_version=1, user="t")
    second = store.data_version()
    assert second != first
    time.sleep(0.02)
    store.import_postcodes(pd.DataFrame({"postcode": ["1999AA"], "buurt_code": ["BU19990001"]}), user="t",
                           source="p.csv")
    third = store.data_version()
    assert third not in (first, second)
    if _is_pg(store):  # a counter of data writes: an audit entry (a view, an export) is not one
        assert first < second < third
        store.log("t", "export", "provisions")
        assert store.data_version() == third
        with pytest.raises(ConflictError):
            store.update_provision("V001", {"name": "Oud"}, expected_version=1, user="t")
        assert store.data_version() == third


def test_a_newer_schema_is_refused_and_an_older_one_without_migration_says_why(backend_store):
    store = backend_store
    with store._transaction(data=False) as conn:
        conn.execute("UPDATE steunkaart_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schemaversie 99.*Werk Steunkaart bij"):
        open_store(store.location, create=False)
    with store._transaction(data=False) as conn:
        conn.execute("UPDATE steunkaart_meta SET value = '0' WHERE key = 'schema_version'")
    before = snapshot(store)
    with pytest.raises(StoreError, match="schemaversie 0, die deze versie van Steunkaart niet kan bijwerken"):
        open_store(store.location, create=False)
    assert differing(before, snapshot(store)) == []


def test_the_stored_geometry_is_the_written_one(backend_town, town_files):
    """The buurten of the CBS file land as multipolygons equal to what the reader made of the file."""
    imported = read_area_file(town_files["buurten"]).areas.query("level == 'buurt'")
    assert len(imported) == 6
    stored = backend_town.read_table("areas").set_index("area_code").loc[imported["area_code"]]
    written = as_stored_geometry(imported.geometry.to_numpy(), "MULTIPOLYGON")
    assert shapely.equals_exact(stored.geometry.to_numpy(), written, tolerance=0).all()
    assert comparable(stored["name"]) == comparable(imported["name"])
    assert file_sha256(town_files["buurten"]) == backend_town.read_batches().iloc[-1]["sha256"]


def test_person_ids_given_as_numbers_are_stored_as_their_text(backend_town):
    """A caller of the API with integer ids (not the file readers, which give text): stored as '5' on both stores,
    as SQLite's TEXT column does, and replaced by the same numbers again."""
    store = backend_town
    buurt = store.read_areas("buurt")["area_code"].iloc[0]
    persons = pd.DataFrame({"person_id": [905, 906], "buurt_code": [buurt, buurt], "age_band": ["65-74", "75-84"]})
    ties = pd.DataFrame({"ego_id": [905], "alter_id": [906], "role": ["buur"], "alter_key": ["k1"]})
    before = len(store.read_table("persons"))
    for _ in range(2):
        store.merge_network(persons, ties, user="api", source="api")
    stored = store.read_table("persons")
    assert len(stored) == before + 2
    assert {"905", "906"} <= set(stored["person_id"])
    mine = store.read_table("ties").query("ego_id == '905'")
    assert mine["alter_id"].tolist() == ["906"]

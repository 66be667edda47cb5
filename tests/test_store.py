"""The GeoPackage store: round trip, GDAL compatibility, atomic writes, schema version."""

import hashlib
import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from data.errors import DataValidationError, StoreError
from data.schema import BATCHED_TABLES, SCHEMA_VERSION
from data.store import GeoPackageStore, decode_gpkg_geometries, encode_gpkg_geometries


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_store_is_an_empty_geopackage(tmp_path):
    store = GeoPackageStore.open(tmp_path / "sub" / "nieuw.gpkg")
    assert store.counts() == {"areas": 0, "provisions": 0, "persons": 0, "ties": 0,
                              "participation": 0, "schema_version": SCHEMA_VERSION}
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    layers = dict(pyogrio.list_layers(store.path))
    assert layers["areas"] == "MultiPolygon"
    assert layers["provisions"] == "Point"
    assert {"persons", "ties", "participation", "audit", "area_values"} <= set(layers)


def test_round_trip_of_every_table(demo, demo_store):
    areas = demo_store.read_table("areas")
    assert areas.crs.to_epsg() == 28992
    assert list(areas["area_code"]) == list(demo.areas["area_code"])
    assert shapely.equals_exact(areas.geometry.to_numpy(),
                                shapely.multipolygons(shapely.get_parts(demo.areas.geometry.to_numpy()),
                                                      indices=_part_index(demo.areas)),
                                tolerance=0).all()
    assert areas["water"].sum() == 1
    prov = demo_store.read_table("provisions")
    assert list(prov["provision_id"]) == list(demo.provisions["provision_id"])
    assert shapely.equals_exact(prov.geometry.to_numpy(), demo.provisions.geometry.to_numpy(), 0).all()
    assert (prov["funding_end"] == demo.provisions["funding_end"]).all()
    persons = demo_store.read_table("persons")
    pd.testing.assert_series_equal(persons["lsns_3"], demo.persons["lsns_3"], check_names=False)
    assert persons["djg_7"].fillna("-").tolist() == pd.Series(demo.persons["djg_7"]).fillna("-").tolist()
    assert (persons["widowed_since"].isna() == demo.persons["widowed_since"].isna()).all()
    ties = demo_store.read_table("ties")
    assert len(ties) == len(demo.ties)
    assert ties["support_emotional"].tolist() == demo.ties["support_emotional"].tolist()
    assert ties["alter_id"].isna().sum() == demo.ties["alter_id"].isna().sum()
    values = demo_store.read_area_values()
    assert values["value"].sum() == pytest.approx(demo.area_values["value"].sum())
    stored = demo_store.read_table("area_values")
    assert (stored["status"] == "geheim").sum() == (demo.area_values["status"] == "geheim").sum()
    # read_area_values gives the 12 rates of the lake (no inhabitants) as 'geen_inwoners', not 'geheim'
    assert values.loc[values["status"] == "geen_inwoners", "area_code"].unique().tolist() == ["BU99990504"]
    assert (values["status"] == "geen_inwoners").sum() == 12
    assert (values["status"] == "geheim").sum() == (demo.area_values["status"] == "geheim").sum() - 12


def _part_index(frame):
    import numpy as np

    counts = shapely.get_num_geometries(frame.geometry.to_numpy())
    return np.repeat(np.arange(len(frame)), counts)


def test_gdal_reads_the_layers_as_qgis_would(demo, demo_store):
    areas = pyogrio.read_dataframe(demo_store.path, layer="areas")
    assert areas.crs.to_epsg() == 28992
    assert len(areas) == len(demo.areas)
    assert areas.is_valid.all()
    assert areas.geometry.area.sum() == pytest.approx(demo.areas.geometry.area.sum(), rel=1e-9)
    ties = pyogrio.read_dataframe(demo_store.path, layer="ties")
    assert len(ties) == len(demo.ties)
    info = pyogrio.read_info(demo_store.path, layer="provisions")
    assert info["features"] == len(demo.provisions)
    assert info["total_bounds"] == pytest.approx(tuple(demo.provisions.total_bounds))


def test_read_areas_is_wide_with_missing_as_nan(demo_store):
    buurten = demo_store.read_areas("buurt")
    assert len(buurten) == 40
    assert buurten["aantal_inwoners"].notna().all()
    assert buurten["gemiddeld_inkomen_per_inwoner"].isna().sum() >= 1  # secret, not -99999999
    assert (buurten.select_dtypes("number").fillna(0) > -99990).all().all()


def test_failed_write_leaves_the_file_unchanged(demo, demo_store):
    before = _digest(demo_store.path)
    bad = demo.persons.copy()
    bad.loc[10, "person_id"] = bad.loc[3, "person_id"]  # duplicate key in the last table
    with pytest.raises(DataValidationError, match="dubbele sleutel"):
        demo_store.replace_tables({"areas": demo.areas, "persons": bad}, user="test", action="import")
    assert _digest(demo_store.path) == before
    assert demo_store.counts()["persons"] == 2000


def test_failure_inside_the_transaction_rolls_back(demo, demo_store, monkeypatch):
    """A failure after rows were already inserted (here: in the audit write) undoes them all."""
    before = _digest(demo_store.path)
    import data.store as store_module

    def broken_audit(*_args, **_kwargs):
        raise RuntimeError("schijf vol")

    monkeypatch.setattr(store_module, "_audit", broken_audit)
    with pytest.raises(RuntimeError):
        demo_store.replace_tables({"ties": demo.ties.iloc[:10]}, user="test", action="import")
    assert _digest(demo_store.path) == before
    assert demo_store.counts()["ties"] == len(demo.ties)


def test_wrong_crs_is_refused_in_dutch(demo, demo_store):
    wgs = demo.provisions.to_crs(4326)
    with pytest.raises(DataValidationError, match="RD New"):
        demo_store.replace_tables({"provisions": wgs}, user="test", action="import")


def test_missing_required_column_is_refused(demo, demo_store):
    with pytest.raises(DataValidationError, match="verplichte kolommen ontbreken: role"):
        demo_store.replace_tables({"ties": demo.ties.drop(columns="role")}, user="t", action="i")


def test_every_write_is_audited(demo_store):
    log = demo_store.read_audit()
    assert log.loc[0, "action"] == "demo"
    demo_store.log("anna", "export", "provisions", {"bestand": "x.xlsx"})
    log = demo_store.read_audit()
    assert (log.loc[0, "user"], log.loc[0, "action"]) == ("anna", "export")
    assert '"bestand": "x.xlsx"' in log.loc[0, "details"]


def test_not_a_geopackage(tmp_path):
    path = tmp_path / "tekst.gpkg"
    path.write_text("geen database")
    with pytest.raises(StoreError, match="geen GeoPackage"):
        GeoPackageStore.open(path)
    assert path.read_text() == "geen database"


def test_foreign_geopackage_is_not_a_store(tmp_path):
    path = tmp_path / "cbs.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(1, 2)], crs=28992).to_file(path, layer="buurten")
    with pytest.raises(StoreError, match="geen Steunkaart-opslag"):
        GeoPackageStore.open(path)


def test_newer_schema_is_refused(demo_store):
    with sqlite3.connect(demo_store.path) as conn:
        conn.execute("UPDATE steunkaart_meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="schemaversie 99"):
        GeoPackageStore.open(demo_store.path)


def test_older_schema_without_migration_says_why(demo_store):
    with sqlite3.connect(demo_store.path) as conn:
        conn.execute("UPDATE steunkaart_meta SET value='0' WHERE key='schema_version'")
    before = _digest(demo_store.path)
    with pytest.raises(StoreError, match="niet kan bijwerken"):
        GeoPackageStore.open(demo_store.path)
    assert _digest(demo_store.path) == before


def test_missing_store_is_not_created_when_asked(tmp_path):
    with pytest.raises(StoreError, match="bestaat niet"):
        GeoPackageStore.open(tmp_path / "weg.gpkg", create=False)
    assert not (tmp_path / "weg.gpkg").exists()


def test_geometry_codec_reads_other_envelopes():
    geoms = shapely.from_wkt(["POINT (1 2)", "POLYGON ((0 0, 1 0, 1 1, 0 0))", None])
    blobs = encode_gpkg_geometries(geoms)
    assert blobs[2] is None
    assert blobs[0][:2] == b"GP" and blobs[0][3] == 0b11
    # A header without envelope (as other writers may produce) decodes the same.
    no_env = b"GP\x00\x01" + blobs[0][4:8] + blobs[0][40:]
    out = decode_gpkg_geometries([no_env, blobs[1], None])
    assert out[0].equals(geoms[0]) and out[1].equals(geoms[1]) and out[2] is None


def test_version_1_store_is_migrated_step_by_step(demo_store):
    version_9 = ("measurements", "followup_ties", "aftercare_plans", "aftercare_contacts")
    version_10 = ("agenda_items", "agenda_links", "agenda_updates", "initiatives", "key_figures")
    with sqlite3.connect(demo_store.path) as conn:
        conn.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'initiatives'")
        for table in ("provision_types", "alter_links", "scenarios", "users", "batches", "suitability",
                      *version_9, *version_10):  # not in v1
            conn.execute(f"DROP TABLE {table}")
            conn.execute(f"DELETE FROM gpkg_contents WHERE table_name = '{table}'")
        for table in BATCHED_TABLES:
            if table in version_9:
                conn.execute(f"DROP TABLE undo_{table}")
                continue
            if table != "alter_links":
                conn.execute(f"DROP INDEX idx_{table}_batch")
                conn.execute(f"ALTER TABLE {table} DROP COLUMN batch_id")
            conn.execute(f"DROP TABLE undo_{table}")
        for col in ("street", "house_number", "postcode", "city", "source_id", "outside_areas"):  # version 7
            conn.execute(f"ALTER TABLE provisions DROP COLUMN {col}")
        conn.execute("DROP TABLE postcodes")  # version 8
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'postcodes'")
        conn.execute("ALTER TABLE areas DROP COLUMN postcode")
        conn.execute("UPDATE steunkaart_meta SET value='1' WHERE key='schema_version'")
        conn.execute("DELETE FROM steunkaart_meta WHERE key='demo'")  # version 4 had no demo flag
    store = GeoPackageStore.open(demo_store.path)
    assert store.schema_version == SCHEMA_VERSION == 10
    assert store.is_demo  # only Voorbeeldstad in it: flagged as the demo by the migration
    assert store.read_batches().empty
    assert store.read_table("alter_links").empty
    assert store.read_scenarios().empty and store.read_table("users").empty
    types = store.read_provision_types()
    assert len(types) == 9 and types["grip_en_glans"].default_reach_m == 2500
    assert types["grip_en_glans"].has_places and not types["buurthuis"].has_places
    assert store.read_suitability()["bezoekdienst_weduwen"] == ("verweduwd",)
    assert store.read_table("provisions")["outside_areas"].eq(False).all()
    assert store.read_audit().iloc[0]["action"] == "migratie"
    assert "provision_types" in dict(pyogrio.list_layers(store.path))
    assert store.read_table("postcodes").empty and store.read_table("areas")["postcode"].isna().all()
    assert all(store.read_table(t).empty for t in version_9)  # version 9: follow-up, empty
    assert all(store.read_table(t).empty for t in version_10)  # version 10: the wijkagenda, empty
    assert types["grip_en_glans"].moment_weeks == {"T1": 6, "T2": 19, "T3": 58}


def test_users_can_extend_the_type_catalogue(town_store, tmp_path):
    from data.provision_types import ProvisionType
    from data.provisions import read_provisions_file

    store = town_store
    store.add_provision_type(ProvisionType("taalcafe", "Taalcafé", "Oefenen met Nederlands", ("alle_bewoners",),
                                           "deelnemers per jaar", 1200), user="anna")
    with pytest.raises(DataValidationError, match="bestaat al"):
        store.add_provision_type(ProvisionType("taalcafe", "Nog een", "", (), "x", 100), user="anna")
    with pytest.raises(DataValidationError, match="kleine letters"):
        store.add_provision_type(ProvisionType("Taal Café", "X", "", (), "x", 100), user="anna")
    sheet = tmp_path / "v.csv"
    sheet.write_text("naam;soort;breedtegraad;lengtegraad\nTaalcafé De Linde;Taalcafé;52,0406;5,5709\n",
                     encoding="utf-8")
    with pytest.raises(DataValidationError, match="onbekende soort"):
        read_provisions_file(sheet)  # the built-in catalogue does not know it
    new = read_provisions_file(sheet, catalogue=store.read_provision_types(), next_number=41)
    assert new["type"].tolist() == ["taalcafe"] and new["reach_m"].tolist() == [1200.0]
    assert store.import_provisions(new, user="anna")["nieuw"] == 1


def test_version_6_store_gets_addresses_places_and_suitability(town_store):
    """The 6 -> 7 step on a store with provisions: new columns empty, built-in types get places or not, user
    types keep places, and the default suitability table is there."""
    from data.provision_types import ProvisionType

    town_store.add_provision_type(ProvisionType("taalcafe", "Taalcafé", "", ("alle_bewoners",), "x", 800),
                                  user="anna")
    before = town_store.read_table("provisions")
    with sqlite3.connect(town_store.path) as conn:
        conn.execute("DROP TABLE suitability")
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'suitability'")
        for table in ("provisions", "undo_provisions"):
            for col in ("street", "house_number", "postcode", "city", "source_id", "outside_areas"):
                conn.execute(f"ALTER TABLE {table} DROP COLUMN {col}")
        for col in ("has_places", "places_per_volunteer"):
            conn.execute(f"ALTER TABLE provision_types DROP COLUMN {col}")
        conn.execute("UPDATE steunkaart_meta SET value='6' WHERE key='schema_version'")
    store = GeoPackageStore.open(town_store.path)
    assert store.schema_version == SCHEMA_VERSION
    after = store.read_table("provisions")
    assert after["provision_id"].tolist() == before["provision_id"].tolist()
    assert after["street"].isna().all() and not after["outside_areas"].any()
    types = store.read_provision_types()
    assert not types["buurthuis"].has_places and types["bezoekdienst_weduwen"].places_per_volunteer == 2
    assert types["taalcafe"].has_places and types["taalcafe"].places_per_volunteer is None
    assert store.read_suitability()["maatjesproject"] == ("emotioneel",)
    # The undo copy has the new columns too: a hand edit keeps the row as it was.
    pid = after["provision_id"].iloc[0]
    store.update_provision(pid, {"street": "Dorpsstraat"}, expected_version=int(after["version"].iloc[0]),
                           user="anna")
    store.undo_batch(store.last_batch_id, user="anna")
    assert pd.isna(store.read_table("provisions").set_index("provision_id").loc[pid, "street"])


def test_suitability_is_saved_whole_and_checked(town_store):
    table = town_store.read_suitability()
    table["buurthuis"] = ()
    table["maatjesproject"] = ("emotioneel", "verweduwd")
    town_store.save_suitability(table, user="anna")
    saved = town_store.read_suitability()
    assert "buurthuis" not in saved and saved["maatjesproject"] == ("verweduwd", "emotioneel")
    assert "wijzig-geschiktheid" in set(town_store.read_audit()["action"])
    with pytest.raises(DataValidationError, match="Onbekende behoefte"):
        town_store.save_suitability({"buurthuis": ("rouw",)}, user="anna")
    with pytest.raises(DataValidationError, match="Onbekende soort"):
        town_store.save_suitability({"kroeg": ("sociaal",)}, user="anna")
    assert town_store.read_suitability() == saved


def _as_version_7(path) -> None:
    """Take a store back to schema version 7: no postcode on areas, no table postcodes."""
    with sqlite3.connect(path) as conn:
        for table in ("postcodes", "undo_postcodes"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'postcodes'")
        for table in ("areas", "undo_areas"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN postcode")
        conn.execute("UPDATE steunkaart_meta SET value='7' WHERE key='schema_version'")


def test_version_7_store_gets_postcodes(town_store):
    """The 7 -> 8 step keeps every area and figure, adds areas.postcode (empty) and the table postcodes,
    whose imports can be undone; running the step again changes nothing."""
    from data.store import _migrate_7_to_8

    areas, values = town_store.read_table("areas"), town_store.read_table("area_values")
    batches = len(town_store.read_batches())
    _as_version_7(town_store.path)
    with sqlite3.connect(town_store.path) as conn:
        assert "postcode" not in {r[1] for r in conn.execute("PRAGMA table_info(areas)")}
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'postcodes'").fetchone()[0] == 0
    store = GeoPackageStore.open(town_store.path)
    assert store.schema_version == SCHEMA_VERSION == 10
    after = store.read_table("areas")
    assert after["postcode"].isna().all()
    pd.testing.assert_frame_equal(pd.DataFrame(after.drop(columns=["postcode", "geometry"])),
                                  pd.DataFrame(areas.drop(columns=["postcode", "geometry"])))
    assert after.geometry.geom_equals(areas.geometry).all()
    pd.testing.assert_frame_equal(store.read_table("area_values"), values)
    assert len(store.read_batches()) == batches
    assert list(store.read_table("postcodes").columns) == ["postcode", "buurt_code", "year", "source"]
    assert "postcodes" in dict(pyogrio.list_layers(store.path))
    with store._transaction() as conn:  # idempotent
        _migrate_7_to_8(conn)
    buurt = after.loc[after["level"] == "buurt", "area_code"].iloc[0]
    store.import_postcodes(pd.DataFrame({"postcode": ["9999AA"], "buurt_code": [buurt]}), user="anna",
                           source="p.csv")
    assert store.read_table("postcodes")["buurt_code"].tolist() == [buurt]
    store.undo_batch(store.last_batch_id, user="anna")
    assert store.read_table("postcodes").empty


def test_version_8_store_gets_follow_up_tables(town_store):
    """The 8 -> 9 step: the follow-up tables appear empty, the built-in types get their moments, a user's own
    type keeps none, and nothing else changes."""
    from data.provision_types import ProvisionType

    town_store.add_provision_type(ProvisionType("taalcafe", "Taalcafé", "", ("alle_bewoners",), "deelnemers per jaar",
                                                1200), user="anna")
    before = {t: len(town_store.read_table(t)) for t in ("areas", "provisions", "persons", "ties")}
    version_9 = ("measurements", "followup_ties", "aftercare_plans", "aftercare_contacts")
    with sqlite3.connect(town_store.path) as conn:
        for table in (*version_9, "undo_measurements", "undo_followup_ties"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute(f"DELETE FROM gpkg_contents WHERE table_name IN {version_9}")
        for col in ("t1_weeks", "t2_weeks", "t3_weeks", "aftercare_per_year"):
            conn.execute(f"ALTER TABLE provision_types DROP COLUMN {col}")
        conn.execute("UPDATE steunkaart_meta SET value='8' WHERE key='schema_version'")
    store = GeoPackageStore.open(town_store.path)
    assert store.schema_version == 10
    assert all(store.read_table(t).empty for t in version_9)
    types = store.read_provision_types()
    assert types["bezoekdienst_weduwen"].moment_weeks == {"T1": 26, "T2": 39, "T3": 78}
    assert types["taalcafe"].moment_weeks == {"T1": None, "T2": None, "T3": None}
    assert {t: len(store.read_table(t)) for t in before} == before
    assert "measurements" in dict(pyogrio.list_layers(store.path))
    GeoPackageStore.open(town_store.path)  # opening again changes nothing
    assert store.schema_version == 10


def test_a_measurement_import_is_undone_whole_and_blocks_undoing_the_persons_it_measures(tmp_path):
    """Measurements are a batch like any import (version 9): undoing it removes them with their networks and
    brings back what they replaced; the import of the persons they are about cannot be undone before them."""
    from tests.towns import build_state, write_town_files

    store = build_state(GeoPackageStore.create_new(tmp_path / "teststad.gpkg"), write_town_files(tmp_path / "bron"),
                        "netwerken")
    person = str(store.read_table("persons")["person_id"].iloc[0])
    provision = str(store.read_table("provisions")["provision_id"].iloc[0])
    row = {"person_id": person, "provision_id": provision, "study_group": "deelnemer", "moment": "T0",
           "measured_on": pd.Timestamp("2026-03-02"), **{f"lsns_{i}": 1 for i in range(1, 7)}}
    tie = {"person_id": person, "provision_id": provision, "moment": "T0", "alter_key": "a1", "role": "buur"}
    first = store.merge_measurements(pd.DataFrame([row]), pd.DataFrame([tie]), user="test", source="t0.csv")
    second = store.merge_measurements(pd.DataFrame([{**row, "lsns_1": 4}]), None, user="test", source="t0b.csv")
    stored = store.read_table("measurements")
    assert stored["lsns_1"].tolist() == [4] and stored["version"].tolist() == [2]
    assert store.read_table("followup_ties").empty  # the replaced moment was asked without a network
    network = int(store.read_batches().query("kind == 'netwerk'")["batch_id"].max())
    blockers = store.undo_preview(network)["blockers"]
    assert any("metingen" in b["reason"] for b in blockers)
    store.undo_batch(second["import"], user="test")
    back = store.read_table("measurements")
    assert back["lsns_1"].tolist() == [1] and len(store.read_table("followup_ties")) == 1
    store.undo_batch(first["import"], user="test")
    assert store.read_table("measurements").empty and store.read_table("followup_ties").empty

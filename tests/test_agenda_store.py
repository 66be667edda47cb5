"""The wijkagenda in the store (schema v10) and its role rules in the access layer, on Teststad (a municipality's
own store, not the demo): who may add and change which items, optimistic locking (the second of two concurrent
saves is refused with the Dutch message and changes nothing), the history and audit of every save, initiatives
as points with their buurt, key figures without a name unless consented, and the 9 -> 10 migration."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
import shapely

from data.access import AccessDenied, ScopedStore
from data.auth import User
from data.errors import ConflictError, DataValidationError
from data.store import GeoPackageStore
from tests.towns import build_state, write_town_files

CENTRUM, NOORD = "WK199900", "WK199901"
ADMIN = User("beheer", "beheerder")
VERBINDER = User("verbinder", "gebiedsverbinder", (CENTRUM,))
OPBOUW = User("opbouw", "opbouwwerker")
WIJKTEAM = User("wijk0", "wijkteam", (CENTRUM,))
GEMEENTE = User("beleid", "gemeente")


@pytest.fixture()
def teststad(tmp_path) -> GeoPackageStore:
    return build_state(GeoPackageStore.create_new(tmp_path / "teststad.gpkg"), write_town_files(tmp_path / "bron"),
                       "netwerken")


def _item(**changes) -> dict:
    return {"wijk_code": CENTRUM, "title": "Koffieochtend voor weduwen en weduwnaars", "aim": "Lichte ontmoeting",
            "owner_role": "opbouwwerker", "status": "idee", "starts_on": "2026-10-01", "due_on": "2027-03-31",
            "origin_kind": "tekort", "origin_figure": "Tekort bezoekdienst in Centrum: 12 personen (2024)",
            **changes}


def test_three_roles_build_one_agenda_and_the_municipality_only_reads(teststad):
    verbinder, opbouw, wijkteam = (ScopedStore(teststad, u) for u in (VERBINDER, OPBOUW, WIJKTEAM))
    buurt = teststad.read_areas("buurt")["area_code"].iloc[0]
    first = verbinder.save_agenda_item(_item(owner_role="gebiedsverbinder"), [("buurt", buurt)])
    assert first["item_id"] == "AG-0001" and first["version"] == 1
    second = opbouw.save_agenda_item(_item(title="Buurtkamer twee ochtenden open"), note="met de kerk besproken")
    third = wijkteam.save_agenda_item(_item(title="Signalen bundelen", owner_role="wijkteam"))
    assert [second["item_id"], third["item_id"]] == ["AG-0002", "AG-0003"]

    # Opbouwwerk and wijkteam change their own items only; the gebiedsverbinder every item of the wijk.
    with pytest.raises(AccessDenied, match="zelf hebt gemaakt"):
        opbouw.save_agenda_item({**third, "status": "gepland"}, expected_version=1)
    changed = verbinder.save_agenda_item({**third, "status": "gepland"}, expected_version=1)
    assert changed["version"] == 2 and changed["created_by"] == WIJKTEAM.username
    with pytest.raises(AccessDenied):
        wijkteam.save_agenda_item({**second, "status": "loopt"}, expected_version=1)
    opbouw.save_agenda_item({**second, "status": "loopt"}, expected_version=1, note="eerste ochtend: 9 bezoekers")

    # A wijkteam and a gebiedsverbinder of Centrum cannot add items in Noord; the gemeente cannot write at all.
    with pytest.raises(AccessDenied):
        wijkteam.save_agenda_item(_item(wijk_code=NOORD))
    with pytest.raises(AccessDenied):
        verbinder.save_agenda_item(_item(wijk_code=NOORD))
    gemeente = ScopedStore(teststad, GEMEENTE)
    with pytest.raises(AccessDenied, match="Gemeente"):
        gemeente.save_agenda_item(_item())
    items = gemeente.read_table("agenda_items").set_index("item_id")
    assert items.loc["AG-0002", "status"] == "loopt" and items.loc["AG-0003", "status"] == "gepland"
    assert gemeente.read_table("agenda_links")[["item_id", "kind", "target"]].values.tolist() == [
        ["AG-0001", "buurt", buurt]]
    history = gemeente.read_table("agenda_updates")
    assert history.loc[history["item_id"] == "AG-0002", ["status", "note"]].values.tolist() == [
        ["idee", "met de kerk besproken"], ["loopt", "eerste ochtend: 9 bezoekers"]]
    audit = teststad.read_audit()
    assert (audit["action"] == "nieuw-agendapunt").sum() == 3 and (audit["action"] == "wijzig-agendapunt").sum() == 2


def test_the_second_of_two_concurrent_saves_is_refused_and_changes_nothing(teststad):
    verbinder = ScopedStore(teststad, VERBINDER)
    item = verbinder.save_agenda_item(_item())
    # Two people opened version 1; the first saves, the second's save is refused.
    verbinder.save_agenda_item({**item, "status": "gepland"}, expected_version=1)
    before = teststad.read_table("agenda_items")
    with pytest.raises(ConflictError, match="intussen door iemand anders gewijzigd"):
        ScopedStore(teststad, ADMIN).save_agenda_item({**item, "status": "gestopt"}, expected_version=1)
    pd.testing.assert_frame_equal(teststad.read_table("agenda_items"), before)
    assert teststad.read_table("agenda_updates")["status"].tolist() == ["idee", "gepland"]


@pytest.mark.parametrize(("changes", "links", "message"), [
    ({"status": "bezig"}, None, "Onbekende status"),
    ({"owner_role": "gemeente"}, None, "Onbekende eigenaar"),
    ({"wijk_code": "WK000000"}, None, "staat niet in de opslag"),
    ({"title": "  "}, None, "titel"),
    ({"starts_on": "2027-01-01", "due_on": "2026-01-01"}, None, "deadline ligt voor de start"),
    ({}, [("voorziening", "V999")], "niet in de opslag"),
    ({}, [("persoon", "T-01")], "Onbekende koppeling"),
])
def test_bad_items_are_refused_in_dutch_and_nothing_is_written(teststad, changes, links, message):
    with pytest.raises(DataValidationError, match=message):
        ScopedStore(teststad, ADMIN).save_agenda_item(_item(**changes), links)
    assert teststad.read_table("agenda_items").empty and teststad.read_table("agenda_updates").empty


def test_an_import_lands_whole_or_not_at_all(teststad):
    store = ScopedStore(teststad, OPBOUW)
    rows = pd.DataFrame([_item(title="Eén"), _item(title="Twee", status="gepland")])
    with pytest.raises(DataValidationError, match="Onbekende status") as info:
        store.import_agenda_items(pd.DataFrame([_item(title="Goed"), _item(status="?")]), source="agenda.csv")
    assert info.value.row == 3 and info.value.file == "agenda.csv"
    assert teststad.read_table("agenda_items").empty
    result = store.import_agenda_items(rows, [[("tekort", "bezoekdienst_weduwen")], []], source="agenda.csv")
    assert result == {"agendapunten": 2, "ids": ["AG-0001", "AG-0002"]}
    assert teststad.read_table("agenda_links")["target"].tolist() == ["bezoekdienst_weduwen"]
    with pytest.raises(AccessDenied):
        ScopedStore(teststad, WIJKTEAM).import_agenda_items(pd.DataFrame([_item(wijk_code=NOORD)]))


def test_initiatives_are_points_with_their_buurt_and_key_figures_need_consent_for_a_name(teststad):
    buurten = teststad.read_areas("buurt")
    inside = buurten.geometry.iloc[1].representative_point()
    store = ScopedStore(teststad, OPBOUW)
    initiative = store.save_initiative({"name": "Moestuin Haven", "what": "samen tuinieren", "geometry": inside,
                                        "support_asked": "gereedschap", "contact_organisation": "Buurtwerk"})
    assert initiative["initiative_id"] == "IN-0001"
    assert initiative["buurt_code"] == buurten["area_code"].iloc[1]
    layer = teststad.read_table("initiatives")
    assert layer.geometry.iloc[0].equals(inside) and layer.crs.to_epsg() == 28992
    # The initiative can now be linked to an agenda item.
    item = store.save_agenda_item(_item(), [("initiatief", "IN-0001")])
    assert teststad.read_table("agenda_links")["target"].tolist() == ["IN-0001"] and item["version"] == 1

    with pytest.raises(DataValidationError, match="toestemming"):
        store.save_key_figure({"role_label": "imam", "organisation": "Moskee", "name": "A. Jansen"})
    assert teststad.read_table("key_figures").empty
    store.save_key_figure({"role_label": "voorzitter bewonerscommissie", "organisation": "BC Haven",
                           "wijk_code": CENTRUM})
    store.save_key_figure({"role_label": "huisarts", "organisation": "Praktijk Kern", "name": "dr. De Vries",
                           "consent_name": True})
    names = ScopedStore(teststad, VERBINDER).read_table("key_figures")["name"]
    assert names.isna().tolist() == [True, False] and names.iloc[1] == "dr. De Vries"
    assert ScopedStore(teststad, GEMEENTE).read_table("key_figures")["name"].isna().all()
    with pytest.raises(AccessDenied):
        ScopedStore(teststad, GEMEENTE).save_initiative({"name": "X", "geometry": inside})
    with pytest.raises(DataValidationError, match="punt"):
        store.save_initiative({"name": "Vlak", "geometry": shapely.box(0, 0, 1, 1)})


def test_version_9_store_gets_the_agenda_tables(teststad):
    tables = ("agenda_items", "agenda_links", "agenda_updates", "initiatives", "key_figures")
    with sqlite3.connect(teststad.path) as conn:
        for table in tables:
            conn.execute(f"DROP TABLE {table}")
        conn.execute(f"DELETE FROM gpkg_contents WHERE table_name IN {tables}")
        conn.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'initiatives'")
        conn.execute("UPDATE steunkaart_meta SET value='9' WHERE key='schema_version'")
    store = GeoPackageStore.open(teststad.path)
    assert store.schema_version == 10
    assert all(store.read_table(t).empty for t in tables)
    assert len(store.read_table("persons")) == 3

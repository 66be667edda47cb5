"""The page Wijkagenda (issue 17) in AppTest, on Teststad (a municipality's own store, not the demo): the
gebiedsverbinder and the opbouwwerker add items, the opbouwwerker updates their own, the wijkteam sees both; a stale
edit is refused with the store's Dutch conflict message; the gemeente only reads, without person ids or names of
key figures; an initiative added through the form lands in its buurt."""

from __future__ import annotations

import pytest
import shapely
from streamlit.testing.v1 import AppTest

from data import auth
from data.auth import User
from data.store import GeoPackageStore
from tests.test_app import APP
from tests.towns import build_state, write_town_files

CENTRUM, NOORD = "WK199900", "WK199901"
OUDE_KERN, HAVEN = "BU19990001", "BU19990002"
VERBINDER = User("verbinder", "gebiedsverbinder", (CENTRUM,))
OPBOUW = User("opbouw", "opbouwwerker")
TEAM = User("wijk0", "wijkteam", (CENTRUM,))
BELEID = User("beleid", "gemeente")
PASSWORD = "correct horse battery"


def _town(tmp_path, monkeypatch, state: str) -> GeoPackageStore:
    store = build_state(GeoPackageStore.create_new(tmp_path / "teststad.gpkg"), write_town_files(tmp_path / "bron"),
                        state)
    auth.create_user(store, "beheer", "beheerder", [], PASSWORD, by="test")
    for user in (VERBINDER, OPBOUW, TEAM, BELEID):
        auth.create_user(store, user.username, user.role, user.wijken, PASSWORD, by="test")
    monkeypatch.setenv("STEUNKAART_STORE", str(store.path))
    return store


@pytest.fixture()
def teststad(tmp_path, monkeypatch):
    return _town(tmp_path, monkeypatch, "voorzieningen")


def _page(user: User, tab: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["sk_user"] = user
    at.run()
    at.switch_page("pages/wijkagenda.py").run()
    assert not at.exception, at.exception
    if tab is not None:
        at.session_state["wa_tabs"] = tab
        at.run()
        assert not at.exception, at.exception
    return at


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def _shown(at: AppTest) -> str:
    return "\n".join(str(n.proto) for n in at._tree if getattr(n, "proto", None) is not None)


def test_items_added_and_updated_by_their_roles_and_seen_by_the_wijkteam(teststad):
    at = _page(VERBINDER)
    assert at.selectbox(key="wa_wijk").value == CENTRUM  # the own wijk first
    assert any("Nog geen agendapunten in deze wijk" in i.value for i in at.info)
    at.text_input(key="wa_nieuw_titel").set_value("Koffieochtend Oude Kern")
    at.multiselect(key="wa_nieuw_buurten").set_value([OUDE_KERN])
    _click(at, "Agendapunt toevoegen")
    items = teststad.read_table("agenda_items")
    assert items[["wijk_code", "title", "owner_role", "created_by"]].values.tolist() == [
        [CENTRUM, "Koffieochtend Oude Kern", "gebiedsverbinder", "verbinder"]]
    links = teststad.read_table("agenda_links")
    assert links[["kind", "target"]].values.tolist() == [["buurt", OUDE_KERN]]
    assert at.dataframe[0].value["Titel"].tolist() == ["Koffieochtend Oude Kern"]
    assert "Oude Kern" in at.dataframe[0].value["Koppelingen"].iloc[0]

    at = _page(OPBOUW)
    at.text_input(key="wa_nieuw_titel").set_value("Moestuin aan de haven")
    at.selectbox(key="wa_nieuw_status").set_value("gepland")
    _click(at, "Agendapunt toevoegen")
    own = teststad.read_table("agenda_items").set_index("created_by").at["opbouw", "item_id"]
    assert own != items["item_id"].iloc[0]
    # Only the item they made is offered for an update (the gebiedsverbinder's is not theirs).
    assert at.selectbox(key="wa_bijwerken_punt").options == [f"Moestuin aan de haven ({own})"]
    at.selectbox(key=f"wa_bw_status_{own}").set_value("loopt")
    at.text_input(key=f"wa_bw_notitie_{own}").set_value("Eerste plantdag gehouden")
    _click(at, "Bijwerken")
    assert any("bijgewerkt" in s.value for s in at.success)
    stored = teststad.read_table("agenda_items").set_index("item_id").loc[own]
    assert stored["status"] == "loopt" and int(stored["version"]) == 2 and stored["owner_role"] == "opbouwwerker"
    updates = teststad.read_table("agenda_updates")
    assert updates.loc[updates["item_id"] == own, "status"].tolist() == ["gepland", "loopt"]

    at = _page(TEAM)
    table = at.dataframe[0].value
    assert sorted(table["Titel"]) == ["Koffieochtend Oude Kern", "Moestuin aan de haven"]
    assert table.set_index("Titel").at["Moestuin aan de haven", "Status"] == "loopt"
    at = _page(TEAM, "Wat is er veranderd")
    changes = at.dataframe[0].value
    assert "status: gepland → loopt" in changes["Wat"].tolist()
    assert "notitie: Eerste plantdag gehouden" in changes["Wat"].tolist()


def test_a_stale_edit_is_refused_and_the_store_keeps_the_other_change(teststad):
    item = teststad.save_agenda_item({"wijk_code": CENTRUM, "title": "Buurtfeest", "owner_role": "gebiedsverbinder"},
                                     user="verbinder", role="gebiedsverbinder")
    at = _page(VERBINDER)
    assert at.dataframe[0].value["Status"].tolist() == ["idee"]
    # A colleague changes the item after this user saw it, before this user saves.
    teststad.save_agenda_item({**item, "status": "gepland"}, user="iemand", role="gebiedsverbinder",
                              expected_version=1)
    at.selectbox(key=f"wa_bw_status_{item['item_id']}").set_value("afgerond")
    _click(at, "Bijwerken")
    assert any("intussen door iemand anders gewijzigd" in e.value for e in at.error)
    stored = teststad.read_table("agenda_items").iloc[0]
    assert stored["status"] == "gepland" and int(stored["version"]) == 2
    assert len(teststad.read_table("agenda_updates")) == 2  # the creation and the colleague's change only
    # The page now shows the item as it is, and a new try is based on that version.
    assert at.dataframe[0].value["Status"].tolist() == ["gepland"]
    at.selectbox(key=f"wa_bw_status_{item['item_id']}").set_value("afgerond")
    _click(at, "Bijwerken")
    assert teststad.read_table("agenda_items").iloc[0]["status"] == "afgerond"


def test_the_gemeente_reads_without_forms_person_ids_or_names(tmp_path, monkeypatch):
    store = _town(tmp_path, monkeypatch, "netwerken")
    persons = set(store.read_table("persons")["person_id"].astype(str))
    assert persons  # the state has residents, so the check below could fail
    store.save_agenda_item({"wijk_code": CENTRUM, "title": "Ontmoeting ouderen", "owner_role": "wijkteam"},
                           [("buurt", OUDE_KERN)], user="wijk0", role="wijkteam")
    store.save_key_figure({"role_label": "voorzitter bewonerscommissie", "wijk_code": CENTRUM,
                           "name": "Fatima Yilmaz", "consent_name": True}, user="verbinder")
    for tab in ("Agenda", "Wat is er veranderd", "Initiatieven en sleutelfiguren"):
        at = _page(BELEID, tab)
        assert any("alleen" in i.value and "gemeente" in i.value for i in at.info)
        assert not at.text_input and not at.text_area, tab  # no form at all
        assert not [b for b in at.button if b.label in ("Agendapunt toevoegen", "Bijwerken", "Initiatief toevoegen",
                                                         "Sleutelfiguur toevoegen")]
        shown = _shown(at)
        assert not {p for p in persons if p in shown}, tab
        assert "Fatima Yilmaz" not in shown
    assert "voorzitter bewonerscommissie" in at.dataframe[-1].value["Rol"].tolist()
    assert "Ontmoeting ouderen" in _shown(_page(BELEID))
    # The wijk's own team does see the consented name.
    assert "Fatima Yilmaz" in _page(TEAM, "Initiatieven en sleutelfiguren").dataframe[-1].value["Naam"].tolist()


def test_an_initiative_from_the_form_lands_in_its_buurt(teststad):
    at = _page(OPBOUW, "Initiatieven en sleutelfiguren")
    assert any("Nog geen bewonersinitiatieven" in i.value for i in at.info)
    at.text_input(key="wa_in_naam").set_value("Repair café De Haven")
    at.selectbox(key="wa_in_buurt").set_value(HAVEN)
    at.text_input(key="wa_in_contact").set_value("Buurthuis De Haven")
    _click(at, "Initiatief toevoegen")
    initiatives = teststad.read_table("initiatives")
    assert initiatives[["name", "buurt_code", "status", "contact_organisation", "created_by"]].values.tolist() == [
        ["Repair café De Haven", HAVEN, "loopt", "Buurthuis De Haven", "opbouw"]]
    haven = teststad.read_areas("buurt").set_index("area_code").geometry[HAVEN]
    assert shapely.within(initiatives.geometry.iloc[0], haven)
    assert at.dataframe[0].value["Naam"].tolist() == ["Repair café De Haven"]
    # A key figure's name without consent is refused in Dutch; nothing is stored.
    at.text_input(key="wa_sf_rol").set_value("imam")
    at.text_input(key="wa_sf_naam").set_value("Ahmed")
    _click(at, "Sleutelfiguur toevoegen")
    assert any("alleen met diens toestemming" in e.value for e in at.error)
    assert teststad.read_table("key_figures").empty

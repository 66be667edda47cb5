"""The page Opvolging (issue 16) in AppTest, on Teststad (a municipality's own store, not the demo): a wijkteam
member's "te doen" list for a chosen period shows exactly the contacts planned in it plus the overdue ones of its
own wijk; registering a contact takes it off the list; and roles without person access get only the aggregate
tabs, without any person code."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data import auth
from data.auth import User
from data.formatting import format_date
from data.store import GeoPackageStore
from tests.test_app import APP
from tests.towns import build_state, write_town_files

CENTRUM, NOORD = "WK199900", "WK199901"
TEAM = User("wijk0", "wijkteam", (CENTRUM,))


@pytest.fixture()
def teststad(tmp_path, monkeypatch):
    store = build_state(GeoPackageStore.create_new(tmp_path / "teststad.gpkg"), write_town_files(tmp_path / "bron"),
                        "netwerken")
    auth.create_user(store, "beheer", "beheerder", [], "correct horse battery", by="test")
    auth.create_user(store, TEAM.username, TEAM.role, TEAM.wijken, "correct horse battery", by="test")
    auth.create_user(store, "beleid", "gemeente", [], "correct horse battery", by="test")
    monkeypatch.setenv("STEUNKAART_STORE", str(store.path))
    return store


def _person_in(store, wijk: str) -> str:
    persons = store.read_table("persons")
    return str(persons.loc[persons["buurt_code"].str[2:8] == wijk[2:], "person_id"].sort_values().iloc[0])


def _page(user: User) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["sk_user"] = user
    at.run()
    at.switch_page("pages/opvolging.py").run()
    assert not at.exception, at.exception
    return at


def test_te_doen_shows_exactly_the_period_and_what_is_late_for_the_own_wijk(teststad):
    today = pd.Timestamp.today().normalize()
    own, other = _person_in(teststad, CENTRUM), _person_in(teststad, NOORD)
    starts = today - pd.Timedelta(days=100)
    for person in (own, other):  # the same plan in both wijken: only the own one may show
        teststad.save_aftercare_plan({"person_id": person, "reason": "wijkteam", "starts_on": starts,
                                      "contacts_per_year": 4, "months": 12}, user="test")
    # 4 a year: contact k on starts + round(k * 365.25 / 4) days = +91, +183, +274, +365 days (graphs/aftercare.py).
    planned = [starts + pd.Timedelta(days=d) for d in (91, 183, 274, 365)]
    assert planned[0] < today < planned[1]

    at = _page(TEAM)
    assert [t.label for t in at.tabs][0] == "Te doen"
    at.selectbox(key="fu_periode").set_value("zelf kiezen").run()
    end = today + pd.Timedelta(days=120)  # contains contact 2 (today + 83 days), not contact 3 (today + 174)
    at.date_input(key="fu_van_tot").set_value((today.date(), end.date())).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table["Persoon"].tolist() == [own, own]  # never the person of Noord
    assert table["Gepland"].tolist() == [format_date(planned[0]), format_date(planned[1])]
    assert table["Status"].tolist() == ["te laat", "te doen"]
    assert table["Dagen te laat"].tolist() == ["9", ""]
    assert table["Wat"].tolist() == ["nazorgcontact 1 van 4", "nazorgcontact 2 van 4"]
    assert any("1 taak is te laat" in w.value for w in at.warning)

    # Registering the late contact: date, role and outcome code only; it leaves the list.
    at.selectbox(key="fu_contact_rol").set_value("vrijwilliger")
    at.selectbox(key="fu_contact_uitkomst").set_value("gaat_goed")
    form_button = next(b for b in at.button if b.label == "Registreren")
    form_button.click().run()
    assert not at.exception, at.exception
    assert any("Contact geregistreerd" in s.value for s in at.success)
    contacts = teststad.read_table("aftercare_contacts")
    assert contacts[["sequence", "by_role", "outcome"]].values.tolist() == [[1, "vrijwilliger", "gaat_goed"]]
    assert contacts["done_on"].iloc[0] == today
    at.run()
    assert at.dataframe[0].value["Status"].tolist() == ["te doen"]
    audit = teststad.read_audit()
    assert (audit["action"] == "nazorgcontact").sum() == 1 and (audit["user"] == TEAM.username).any()


def test_roles_without_person_access_get_the_aggregates_only(teststad):
    person = _person_in(teststad, CENTRUM)
    teststad.save_aftercare_plan({"person_id": person, "reason": "wijkteam", "starts_on": "2026-01-01"}, user="test")
    at = _page(User("beleid", "gemeente"))
    assert [t.label for t in at.tabs] == ["Per voorziening", "Bewijsrapport"]
    assert any("Nog geen metingen van deelnemers" in i.value for i in at.info)
    persons = set(teststad.read_table("persons")["person_id"])
    for label in ("Per voorziening", "Bewijsrapport"):
        at.session_state["fu_tabs"] = label
        at.run()
        assert not at.exception, at.exception
        shown = "\n".join(str(n.proto) for n in at._tree if getattr(n, "proto", None) is not None)
        assert not {p for p in persons if p in shown}, label


def test_a_stale_plan_is_not_overwritten_from_the_page(teststad):
    person = _person_in(teststad, CENTRUM)
    plan = teststad.save_aftercare_plan({"person_id": person, "reason": "wijkteam", "starts_on": "2026-01-01"},
                                        user="test")
    at = _page(TEAM)
    at.session_state["fu_tabs"] = "Nazorgplannen"
    at.run()
    assert at.dataframe[0].value["Plan"].tolist() == [plan["plan_id"]]
    # Someone else stops the plan after this user's list was shown, before this user saves.
    teststad.save_aftercare_plan({**plan, "status": "gestopt"}, user="iemand", expected_version=1)
    at.selectbox(key="fu_status_nieuw").set_value("afgerond")
    next(b for b in at.button if b.label == "Status wijzigen").click().run()
    assert not at.exception, at.exception
    assert any("intussen door iemand anders gewijzigd" in e.value for e in at.error)
    stored = teststad.read_table("aftercare_plans").iloc[0]
    assert stored["status"] == "gestopt" and int(stored["version"]) == 2  # the other's change stands
    # After the refusal the list shows the plan as it is now, and a second try is based on that.
    next(b for b in at.button if b.label == "Status wijzigen").click().run()
    assert teststad.read_table("aftercare_plans").iloc[0]["status"] == "afgerond"


def test_follow_up_moments_per_type_are_set_on_the_page(teststad):
    at = _page(User("beheer", "beheerder"))
    at.session_state["fu_tabs"] = "Meetmomenten"
    at.run()
    codes = list(teststad.read_provision_types())
    row = codes.index("buurthuis")  # no fixed course by default: every cell empty
    at.session_state["fu_schema"] = {"edited_rows": {row: {"T1 (einde), weken": 8, "T2, weken": 21}},
                                     "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.label == "Meetmomenten opslaan").click().run()
    assert not at.exception, at.exception
    assert any("Meetmomenten opgeslagen" in s.value for s in at.success)
    types = teststad.read_provision_types()
    assert types["buurthuis"].moment_weeks == {"T1": 8, "T2": 21, "T3": None}
    assert types["grip_en_glans"].moment_weeks == {"T1": 6, "T2": 19, "T3": 58}  # untouched
    # A schedule out of order is refused in Dutch and changes nothing.
    at.session_state["fu_schema"] = {"edited_rows": {row: {"T1 (einde), weken": 30}}, "added_rows": [],
                                     "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.label == "Meetmomenten opslaan").click().run()
    assert any("T1 voor T2 voor T3" in e.value for e in at.error)
    assert teststad.read_provision_types()["buurthuis"].moment_weeks["T1"] == 8

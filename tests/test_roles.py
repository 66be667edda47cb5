"""Role × page × data kind: every page as every role in AppTest, and what each may (not) see or do.

Everything a page renders (texts, tables, widget options, metrics) is collected and searched for
person ids; roles without person access must never get one, a wijkteam only those of its wijken.
"""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import auth
from data.auth import User
from data.store import DemoStoreError
from tests.test_app import open_tab

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ["pages/kaart.py", "pages/profiel.py", "pages/netwerken.py", "pages/tekorten.py",
         "pages/voorzieningen.py", "pages/opvolging.py", "pages/wijkagenda.py", "pages/over.py",
         "pages/account.py"]
# The tabs of Opvolging per role: person views only for the roles that see persons (issue 16).
FOLLOW_UP_TABS = {
    "beheerder": ["Te doen", "Meting vastleggen", "Nazorgplannen", "Per persoon", "Per voorziening", "Bewijsrapport",
                  "Importeren", "Meetmomenten"],
    "wijkteam": ["Te doen", "Meting vastleggen", "Nazorgplannen", "Per persoon", "Per voorziening", "Bewijsrapport"],
    "opbouwwerker": ["Per voorziening", "Bewijsrapport", "Meetmomenten"],
    "gebiedsverbinder": ["Per voorziening", "Bewijsrapport", "Meetmomenten"],
    "gemeente": ["Per voorziening", "Bewijsrapport"],
}
ADMIN_PAGES = ["pages/beheer.py", "pages/gebruikers.py", "pages/logboek.py"]
PERSON_ID = re.compile(r"P[0-9a-f]{8}")
KANAALZONE = "WK999901"
ROLES = {
    "beheerder": User("beheer", "beheerder"),
    "wijkteam": User("wijk1", "wijkteam", (KANAALZONE,)),
    "opbouwwerker": User("opbouw", "opbouwwerker"),
    "gebiedsverbinder": User("verbinder", "gebiedsverbinder"),
    "gemeente": User("beleid", "gemeente"),
}


def rendered(at: AppTest) -> str:
    """All that the page shows: element protos (texts, options, metrics) and dataframe contents."""
    parts = []
    for node in at._tree:
        value = getattr(node, "value", None)
        if node.type == "arrow_data_frame":
            parts.append(value.to_csv())
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
    return "\n".join(parts)


@pytest.fixture()
def signed_in(demo_store, monkeypatch):
    monkeypatch.setenv("STEUNKAART_STORE", str(demo_store.path))
    for user in ROLES.values():  # accounts exist (the app checks the session's user on every run): no demo mode
        auth.create_user(demo_store, user.username, user.role, user.wijken, "correct horse battery", by="test")

    def start(role: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state["sk_user"] = ROLES[role]
        at.run()
        assert not at.exception, at.exception
        return at
    return start


@pytest.fixture(scope="module")
def person_ids(demo_store_file):
    from data.store import GeoPackageStore

    persons = GeoPackageStore(demo_store_file).read_table("persons")
    inside = set(persons.loc[persons["buurt_code"].str[2:8] == KANAALZONE[2:], "person_id"])
    return set(persons["person_id"]), inside


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_as_every_role(signed_in, person_ids, role):
    everyone, inside = person_ids
    at = signed_in(role)
    nav = " ".join(str(n.proto) for n in at._tree if getattr(n, "type", "") == "navigation") or rendered(at)
    for page in PAGES + (ADMIN_PAGES if role == "beheerder" else []):
        at.switch_page(page).run()
        assert not at.exception, (role, page, at.exception)
        shown = rendered(at)
        if page == "pages/netwerken.py" and ROLES[role].sees_persons:  # every tab, each run only when open
            for label in ("Koppelen", "Kaart per buurt", "Ecogram", "Netwerk vastleggen", "Gemeenschap"):
                shown += rendered(open_tab(at, label))
        if page == "pages/opvolging.py":
            assert [t.label for t in at.tabs] == FOLLOW_UP_TABS[role], role
            for label in FOLLOW_UP_TABS[role][1:]:
                shown += rendered(open_tab(at, label, "fu_tabs"))
        seen = set(PERSON_ID.findall(shown)) & everyone
        if role in ("opbouwwerker", "gebiedsverbinder", "gemeente"):
            assert not seen, (role, page, sorted(seen)[:5])
        elif role == "wijkteam":
            assert seen <= inside, (role, page, sorted(seen - inside)[:5])
        if role in ("beheerder", "wijkteam") and page == "pages/netwerken.py":
            assert seen, "persons are shown to roles with person access"
    if role != "beheerder":
        assert "Gebruikers" not in nav and "Logboek" not in nav


@pytest.mark.parametrize("role", ["gemeente", "wijkteam"])
def test_admin_pages_are_not_reachable(signed_in, role):
    at = signed_in(role)
    for page in ADMIN_PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in this role's navigation
            at.switch_page(page)


def test_aggregates_only_for_the_municipality(signed_in):
    at = signed_in("gemeente")
    at.switch_page("pages/netwerken.py").run()
    assert any("alleen als totalen" in i.value for i in at.info)
    assert [t.label for t in at.tabs] == ["Kaart per buurt", "Koppelen (totalen)"]
    share = at.dataframe[0].value
    counts = share["Met signaal"].replace("", None).dropna().astype(int)
    assert not ((counts > 0) & (counts < 5)).any()
    at.switch_page("pages/voorzieningen.py").run()
    assert any("niet wijzigen" in i.value for i in at.info)
    assert not [b for b in at.button if b.label in ("Opslaan", "Verwijderen", "Toevoegen", "Importeren")]


def test_provision_editing_per_role(signed_in):
    for role, can in (("opbouwwerker", True), ("gebiedsverbinder", True), ("wijkteam", False), ("gemeente", False)):
        at = signed_in(role)
        at.switch_page("pages/voorzieningen.py").run()
        tabs = [t.label for t in at.tabs]
        assert ("Bewerken of verwijderen" in tabs) == can, role


def test_wijkteam_sees_only_its_own_wijk(signed_in, person_ids):
    _, inside = person_ids
    at = signed_in("wijkteam")
    at.switch_page("pages/netwerken.py").run()
    persons = open_tab(at, "Ecogram").selectbox(key="nw_persoon").options
    assert persons and set(persons) <= inside
    buurten = open_tab(at, "Netwerk vastleggen").selectbox(key="nv_buurt").options
    assert buurten and all("9999 01" not in b for b in buurten)
    assert all("BU999901" in b for b in buurten)


def test_every_view_of_persons_is_logged_with_who_and_which_persons(signed_in, demo_store):
    """NEN 7513-style: only what is shown is logged, with the person codes, and the administrator can
    answer 'who looked at person X?'."""
    import json

    from data.access import views_of_person

    at = signed_in("wijkteam")
    at.switch_page("pages/netwerken.py").run()
    shown = set(at.dataframe[0].value["Persoon"])
    log = demo_store.read_audit()
    views = log.loc[log["action"] == "bekijk-personen"]
    assert views["target"].tolist() == ["signalenlijst"]  # the other tabs were never opened: not logged
    details = json.loads(views["details"].iloc[0])
    assert set(details["personen"]) == shown and details["namens"] == {"rol": "wijkteam", "wijken": [KANAALZONE]}
    at.run()  # a rerun that shows the same persons is not a new view
    assert (demo_store.read_audit()["action"] == "bekijk-personen").sum() == 1

    person = open_tab(at, "Ecogram").selectbox(key="nw_persoon").options[0]
    at.selectbox(key="nw_persoon").set_value(person).run()
    open_tab(at, "Gemeenschap")
    targets = demo_store.read_audit().query("action == 'bekijk-personen'")["target"].tolist()
    assert targets[:3] == ["gemeenschap", "netwerkmaten", "ecogram"]  # the card under the ecogram is a view too
    who = views_of_person(demo_store.read_audit(), person)
    assert set(who["target"]) >= {"ecogram", "netwerkmaten", "gemeenschap"} and (who["user"] == "wijk1").all()
    assert views_of_person(demo_store.read_audit(), "P00000000").empty

@pytest.mark.parametrize("role", ["beheerder", "wijkteam"])
def test_network_card_shows_for_roles_that_see_persons(signed_in, demo_store, person_ids, role):
    """Under the ecogram: every measure with its explanation, the values of the signal table, the view logged."""
    import json

    from graphs.card import CARD_MEASURES
    from graphs.signals import signals_from_store

    at = signed_in(role)
    at.switch_page("pages/netwerken.py").run()
    person = open_tab(at, "Ecogram").selectbox(key="nw_persoon").options[-1]
    at.selectbox(key="nw_persoon").set_value(person).run()
    assert not at.exception, at.exception
    assert f"Netwerkmaten van {person}" in [h.value for h in at.subheader]
    card = at.table[0].value
    assert list(card.index) == [m.label for m in CARD_MEASURES]
    assert list(card.columns) == ["Onderdeel", "Waarde", "Let op", "Wat zegt het"]
    row = signals_from_store(demo_store).loc[person]
    assert card.loc["Netwerkgrootte", "Waarde"] == str(int(row["network_size"]))
    assert card.loc["Genoemd door anderen", "Waarde"] == str(int(row["reported_by_others"]))
    assert any("eigen netwerk vertelde" in c.value for c in at.caption)
    if role == "wijkteam":
        assert person in person_ids[1]
    views = demo_store.read_audit().query("action == 'bekijk-personen' and target == 'netwerkmaten'")
    assert len(views) == 1 and json.loads(views["details"].iloc[0])["personen"] == [person]
    at.run()  # the same card again is not a new view
    assert len(demo_store.read_audit().query("action == 'bekijk-personen' and target == 'netwerkmaten'")) == 1


def test_network_card_is_refused_to_the_municipality(signed_in, demo_store, person_ids):
    """The gemeente sees networks as totals only: no card on the page, and the card itself refuses, logs nothing."""
    at = signed_in("gemeente")
    at.switch_page("pages/netwerken.py").run()
    assert not at.exception
    assert not any(h.value.startswith("Netwerkmaten") for h in at.subheader) and not at.table
    person = sorted(person_ids[0])[0]  # a real person: refused by role, not because the code is unknown
    card = AppTest.from_string(f"from pages.network_card import network_card\nnetwork_card({person!r})\n",
                               default_timeout=60)
    card.session_state["sk_user"] = ROLES["gemeente"]
    card.run()
    assert not card.exception, card.exception
    assert any("geen toegang tot de netwerkmaten" in e.value for e in card.error)
    assert not card.table and person not in rendered(card)
    assert demo_store.read_audit().query("target == 'netwerkmaten'").empty


def test_first_run_sign_in_and_sign_out(tmp_path, monkeypatch):
    """A store without users that is not the demo: create the administrator, then sign in and out."""
    from data.store import GeoPackageStore

    path = tmp_path / "eigen.gpkg"
    GeoPackageStore.open(path)  # an empty store of one's own municipality: no demo mode
    monkeypatch.setenv("STEUNKAART_STORE", str(path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert at.subheader[0].value == "Eerste gebruik: maak de beheerder aan"
    at.text_input(key="sk_eerste_naam").input("anna")
    at.text_input(key="sk_eerste_ww").input("een lang wachtwoord")
    at.text_input(key="sk_eerste_ww2").input("een lang wachtwoord")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert any("Aangemeld als" in c.value and "anna" in c.value for c in at.caption)
    assert any(b.label == "Afmelden" for b in at.sidebar.button)  # signing out: see the browser test
    at = AppTest.from_file(APP, default_timeout=90)  # a new session
    at.run()
    assert at.subheader[0].value == "Aanmelden"
    at.text_input(key="sk_naam").input("anna")
    at.text_input(key="sk_ww").input("fout")
    at.button[0].click().run()
    assert at.error[0].value.startswith("Gebruikersnaam of wachtwoord klopt niet")
    at.text_input(key="sk_ww").input("een lang wachtwoord")
    at.button[0].click().run()
    assert any("anna (Beheerder)" in c.value for c in at.caption)
    actions = GeoPackageStore(path).read_audit()["action"].tolist()
    assert {"nieuwe-gebruiker", "aanmelden", "aanmelden-mislukt"} <= set(actions)


def test_demo_mode_says_so(app_demo):
    assert any("Demomodus" in w.value for w in app_demo.sidebar.warning)


@pytest.fixture()
def app_demo(demo_store, monkeypatch):
    monkeypatch.setenv("STEUNKAART_STORE", str(demo_store.path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    return at


def test_admin_manages_users(signed_in, demo_store):
    at = signed_in("beheerder")
    at.switch_page("pages/gebruikers.py").run()
    at.text_input(key="gb_naam").input("nieuw")
    at.selectbox(key="gb_rol").set_value("gemeente")
    at.text_input(key="gb_ww").input("een lang wachtwoord")
    at.text_input(key="gb_ww2").input("een lang wachtwoord")
    next(b for b in at.button if b.label == "Toevoegen").click().run()
    assert not at.exception, at.exception
    assert auth.read_users(demo_store).set_index("username").loc["nieuw", "role"] == "gemeente"
    at.selectbox(key="gb_wie").set_value("verbinder").run()
    form_role = next(s for s in at.selectbox if s.label == "Rol" and s.key != "gb_rol")
    form_role.set_value("gemeente")
    next(b for b in at.button if b.label == "Opslaan").click().run()
    assert auth.read_users(demo_store).set_index("username").loc["verbinder", "role"] == "gemeente"
    assert "wijzig-gebruiker" in set(demo_store.read_audit()["action"])


def test_a_changed_role_or_block_applies_at_once(signed_in, demo_store):
    """The session's user is checked against the store on every run (data/access.refresh_user)."""
    from data.access import refresh_user
    from data.auth import DEMO_ADMIN

    signed_in("beheerder")  # the accounts exist
    verbinder = ROLES["gebiedsverbinder"]
    assert refresh_user(demo_store, verbinder, oidc=False, demo_store=True) == verbinder
    auth.update_user(demo_store, "verbinder", role="gemeente", by="test")
    assert refresh_user(demo_store, verbinder, oidc=False, demo_store=True) == User("verbinder", "gemeente")
    auth.update_user(demo_store, "verbinder", active=False, by="test")
    assert refresh_user(demo_store, verbinder, oidc=False, demo_store=True) is None
    assert refresh_user(demo_store, DEMO_ADMIN, oidc=False, demo_store=True) is None  # accounts exist: no demo


def test_demo_mode_ends_with_real_data(demo_store):
    from data.access import refresh_user
    from data.auth import DEMO_ADMIN
    from data.demo import is_demo_store

    assert is_demo_store(demo_store)
    assert refresh_user(demo_store, DEMO_ADMIN, oidc=False, demo_store=True) == DEMO_ADMIN
    assert refresh_user(demo_store, DEMO_ADMIN, oidc=True, demo_store=True) is None  # OIDC configured: no demo
    values = demo_store.read_area_values().head(1)
    with pytest.raises(DemoStoreError):  # real data never goes into the demo …
        demo_store.merge_area_values(values, user="test", action="import-gezondheid")
    assert is_demo_store(demo_store)
    demo_store.remove_demo(user="demo")  # … the demo goes out first, and with it the demo sign-in
    assert not is_demo_store(demo_store)
    assert refresh_user(demo_store, DEMO_ADMIN, oidc=False, demo_store=is_demo_store(demo_store)) is None


def test_with_oidc_configured_there_is_no_demo_mode_and_a_provider_button(demo_store, monkeypatch):
    monkeypatch.setenv("STEUNKAART_STORE", str(demo_store.path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "steunkaart", "client_secret": "geheim",
                          "server_metadata_url": "https://login.example/.well-known/openid-configuration"}
    at.secrets["steunkaart"] = {"rollen": {"groep:Beleid": {"rol": "gemeente"}}}
    at.run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "Eerste gebruik: maak de beheerder aan"  # the demo store, but no demo mode
    assert not any("Demomodus" in w.value for w in at.sidebar.warning)
    auth.create_user(demo_store, "beheer", "beheerder", (), "een lang wachtwoord", by="test")
    at.run()
    assert at.subheader[0].value == "Aanmelden"
    assert any(b.label == "Aanmelden met het account van uw organisatie" for b in at.button)

"""Every page, as every role, in every state of a municipality's own store (page × role × state).

The states grow the way a municipality starts: an empty store; the CBS areas; plus provisions; plus
the health monitor; plus persons and ties, each imported from the files of tests/towns.py. No state is
the demo. Every run must end without an exception, and where data is missing the page says in Dutch
what is missing and where to add it.
"""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from data import auth
from data.auth import User
from data.store import GeoPackageStore
from tests.test_app import APP
from tests.towns import STATES, build_state, write_town_files

PAGES = ["pages/kaart.py", "pages/profiel.py", "pages/netwerken.py", "pages/tekorten.py",
         "pages/voorzieningen.py", "pages/opvolging.py", "pages/wijkagenda.py", "pages/over.py",
         "pages/account.py"]
ADMIN_PAGES = ["pages/beheer.py", "pages/gebruikers.py", "pages/logboek.py"]
ROLES = {
    "beheerder": User("beheer", "beheerder"),
    "wijkteam": User("wijk0", "wijkteam", ("WK199900",)),
    "opbouwwerker": User("opbouw", "opbouwwerker"),
    "gebiedsverbinder": User("verbinder", "gebiedsverbinder"),
    "gemeente": User("beleid", "gemeente"),
}
NO_AREAS = "Nog geen gebieden in de opslag"
# A wijkteam account names its wijken, and an empty store has none yet: that account cannot exist.
CASES_WITHOUT_ACCOUNT = {("leeg", "wijkteam")}
CASES = [(state, role) for state in STATES for role in ROLES if (state, role) not in CASES_WITHOUT_ACCOUNT]
NO_NETWORKS = "Nog geen netwerkgegevens"


def expected_messages(state: str, page: str, role: str) -> list[str]:
    """What the page must say in this state (a part of an info, warning or caption text)."""
    person_role = ROLES[role].sees_persons
    if state == "leeg" and page in ("pages/kaart.py", "pages/profiel.py", "pages/netwerken.py",
                                     "pages/tekorten.py", "pages/voorzieningen.py", "pages/opvolging.py",
                                     "pages/wijkagenda.py"):
        return [NO_AREAS]
    if page == "pages/wijkagenda.py":  # no state has agenda items yet
        return ["Nog geen agendapunten in deze wijk"]
    if page == "pages/opvolging.py":  # the first tab: the to-do list for person roles, else the change per provision
        return ["Niets te doen in deze periode"] if person_role else ["Nog geen metingen van deelnemers"]
    if page == "pages/tekorten.py" and state != "netwerken":
        return ["Nog geen netwerkgegevens: de behoefte komt alleen uit de kerncijfers"] + (
            ["Nog geen voorzieningen in de opslag"] if state == "gebieden" else [])
    if page == "pages/netwerken.py" and state != "netwerken" and person_role:
        return [NO_NETWORKS]
    if page == "pages/voorzieningen.py" and state == "gebieden":
        return ["Nog geen voorzieningen"]
    if page == "pages/beheer.py" and state == "leeg":
        return ["Nog geen gebieden. Importeer hierboven", "Nog geen imports in deze opslag."]
    return []


@pytest.fixture(scope="module")
def state_files(tmp_path_factory):
    """One store file per state, built once; every test works on a copy."""
    folder = tmp_path_factory.mktemp("staten")
    files = write_town_files(folder / "bestanden")
    paths = {}
    for state in STATES:
        store = build_state(GeoPackageStore.create_new(folder / f"{state}.gpkg"), files, state)
        for user in ROLES.values():
            if (state, user.role) in CASES_WITHOUT_ACCOUNT:
                continue
            auth.create_user(store, user.username, user.role, user.wijken, "correct horse battery", by="test")
        paths[state] = store.path
    return paths


def _texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.info, at.warning, at.error, at.caption, at.markdown, at.subheader)
                     for e in kind)


def visit_every_page(user: User, *, where: str = "", expected=lambda page: ()) -> dict[str, str]:
    """Open every page the user's role has (STEUNKAART_STORE must be set); return each page's texts.

    Fails on any exception or error message, and when a page does not say what ``expected(page)`` names.
    """
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["sk_user"] = user
    at.run()
    assert not at.exception, at.exception
    texts = {}
    for page in PAGES + (ADMIN_PAGES if user.is_admin else []):
        at.switch_page(page).run()
        assert not at.exception, f"{page} als {user.role} {where}: {at.exception}"
        assert not at.error, f"{page} als {user.role} {where}: {[e.value for e in at.error]}"
        texts[page] = _texts(at)
        if page == "pages/opvolging.py" and at.tabs:  # its tabs run lazily: open each one, in every state
            for label in [t.label for t in at.tabs][1:]:
                at.session_state["fu_tabs"] = label
                at.run()
                assert not at.exception, f"{page} ({label}) als {user.role} {where}: {at.exception}"
                assert not at.error, f"{page} ({label}) als {user.role} {where}: {[e.value for e in at.error]}"
            at.session_state["fu_tabs"] = at.tabs[0].label
        for message in expected(page):
            assert message in texts[page], f"{page} als {user.role} {where} zegt niet: {message}"
    return texts


@pytest.mark.parametrize(("state", "role"), CASES)
def test_every_page_works_in_every_state(state_files, tmp_path, monkeypatch, state, role):
    path = tmp_path / "eigen.gpkg"
    shutil.copyfile(state_files[state], path)
    monkeypatch.setenv("STEUNKAART_STORE", str(path))
    texts = visit_every_page(ROLES[role], where=f"in staat '{state}'",
                             expected=lambda page: expected_messages(state, page, role))
    if state == "netwerken" and ROLES[role].sees_persons:
        assert NO_NETWORKS not in texts["pages/netwerken.py"]


PG_CASES = [("leeg", "beheerder"), *(("netwerken", role) for role in ROLES)]


@pytest.mark.parametrize(("state", "role"), PG_CASES)
def test_every_page_works_on_postgis(state_files, pg_server, monkeypatch, state, role):
    """The same pages on PostgreSQL/PostGIS: the state's store copied into a new database (cli.py copy-store)."""
    from data.postgis import close_connections
    from data.store_copy import copy_store

    url = pg_server.new_database()
    try:
        copy_store(str(state_files[state]), url)
        monkeypatch.setenv("STEUNKAART_STORE", url)
        texts = visit_every_page(ROLES[role], where=f"op PostGIS in staat '{state}'",
                                 expected=lambda page: expected_messages(state, page, role))
        if state == "netwerken" and ROLES[role].sees_persons:
            assert NO_NETWORKS not in texts["pages/netwerken.py"]
    finally:
        close_connections()
        pg_server.drop_database(url)

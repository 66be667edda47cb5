"""'Naar de agenda' on the aggregate views (issue 17): Tekorten, Voorzieningen and Netwerken put a figure, as the
page shows it, on the wijkagenda within the role rules; the gemeente gets no button."""

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data import auth
from data.auth import User

APP = str(Path(__file__).resolve().parent.parent / "app.py")
KANAALZONE = "WK999901"
PERSON_ID = re.compile(r"P[0-9a-f]{8}")
USERS = {  # the first account is an administrator
    "beheerder": User("beheer", "beheerder"),
    "gebiedsverbinder": User("verbinder", "gebiedsverbinder"),
    "wijkteam": User("wijk1", "wijkteam", (KANAALZONE,)),
    "gemeente": User("beleid", "gemeente"),
}
AGENDA_KEYS = {"pages/tekorten.py": ("tk_agenda_buurt", "tk_agenda"),
               "pages/voorzieningen.py": ("vz_agenda_voorziening", "vz_agenda"),
               "pages/netwerken.py": ("nw_agenda_buurt", "nw_agenda")}


@pytest.fixture()
def open_page(demo_store, monkeypatch):
    """Start the app as a role (accounts exist, so no demo mode) on one page."""
    monkeypatch.setenv("STEUNKAART_STORE", str(demo_store.path))
    for user in USERS.values():
        auth.create_user(demo_store, user.username, user.role, user.wijken, "correct horse battery", by="test")

    def start(role: str, page: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state["sk_user"] = USERS[role]
        at.run()
        at.switch_page(page).run()
        assert not at.exception, at.exception
        return at
    return start


def _keys(at: AppTest, widgets) -> set:
    return {w.key for w in widgets}


def _new_items(store, before: set):
    """The agenda items stored since ``before`` (the item ids the demo's agenda already had)."""
    items = store.read_table("agenda_items")
    return items.loc[~items["item_id"].isin(before)].reset_index(drop=True)


def _ids(store) -> set:
    return set(store.read_table("agenda_items")["item_id"])


def _links(store, item_id: str) -> set:
    links = store.read_table("agenda_links")
    links = links.loc[links["item_id"] == item_id]
    return set(zip(links["kind"], links["target"].astype(str), strict=True))


def test_gebiedsverbinder_puts_a_shortage_on_the_agenda(open_page, demo_store):
    before = _ids(demo_store)
    at = open_page("gebiedsverbinder", "pages/tekorten.py")
    box = at.selectbox(key="tk_agenda_buurt")
    assert box.options, "the demo has buurten with a shortage of 5 persons or more"
    code = box.value
    ptype = at.selectbox(key="tk_soort").value
    at.button(key="tk_agenda").click().run()
    assert not at.exception, at.exception
    items = _new_items(demo_store, before)
    assert len(items) == 1
    item = items.iloc[0]
    assert any(item["item_id"] in s.value.replace("\\", "") for s in at.success)  # shown Markdown-escaped
    assert item["origin_kind"] in ("tekort", "hotspot")
    assert item["owner_role"] == "gebiedsverbinder" and item["status"] == "idee"
    assert item["wijk_code"] == "WK" + code[2:8]  # the demo's buurten carry their CBS wijk
    assert _links(demo_store, item["item_id"]) == {("buurt", code), ("tekort", ptype)}
    figure = str(item["origin_figure"])
    assert "minder dan" not in figure and not PERSON_ID.search(figure)
    # Every number in the figure (the shortage, the CBS year) is a shown count, never 1 to 4.
    numbers = [int(n.replace(".", "")) for n in re.findall(r"\d[\d.]*", figure)]
    assert numbers and all(n >= 5 for n in numbers), figure
    # The figure is the one the selectbox showed for that buurt.
    shown = re.search(r"\(([\d.]+) personen tekort\)", box.format_func(code)).group(1)
    assert f": {shown} personen" in figure
    updates = demo_store.read_table("agenda_updates")
    assert (updates["item_id"] == item["item_id"]).sum() == 1


@pytest.mark.parametrize("page", list(AGENDA_KEYS))
def test_gemeente_gets_no_agenda_button(open_page, page):
    at = open_page("gemeente", page)
    box_key, button_key = AGENDA_KEYS[page]
    assert button_key not in _keys(at, at.button)
    assert box_key not in _keys(at, at.selectbox)
    assert not [b for b in at.button if b.label == "Naar de agenda"]


def test_wijkteam_is_refused_outside_its_wijk(open_page, demo_store):
    before = _ids(demo_store)
    at = open_page("wijkteam", "pages/tekorten.py")
    box = at.selectbox(key="tk_agenda_buurt")
    areas = demo_store.read_areas("buurt")
    wijk_by_name = dict(zip(areas["name"], areas["wijk_code"], strict=True))  # the demo's names are unique
    code_by_name = dict(zip(areas["name"], areas["area_code"], strict=True))
    offered = [label.rsplit(" (", 1)[0] for label in box.options]  # 'Buurt (12 personen tekort)'
    elsewhere = [n for n in offered if wijk_by_name[n] != KANAALZONE]
    own = [n for n in offered if wijk_by_name[n] == KANAALZONE]
    assert elsewhere, "the list holds buurten of every wijk"
    box.set_value(code_by_name[elsewhere[0]]).run()
    assert at.selectbox(key="tk_agenda_buurt").value == code_by_name[elsewhere[0]]
    at.button(key="tk_agenda").click().run()
    assert not at.exception, at.exception
    assert any("eigen wijken" in e.value for e in at.error)
    assert not at.success
    assert _new_items(demo_store, before).empty
    if own:  # in its own wijk the same button works
        at.selectbox(key="tk_agenda_buurt").set_value(code_by_name[own[0]]).run()
        at.button(key="tk_agenda").click().run()
        items = _new_items(demo_store, before)
        assert items["wijk_code"].tolist() == [KANAALZONE]
        assert items["owner_role"].tolist() == ["wijkteam"]


def test_a_provision_under_pressure_lands_on_the_agenda(open_page, demo_store):
    provisions = demo_store.read_table("provisions")
    pressed = provisions.loc[provisions["status"] == "onder_druk"].iloc[0]
    before = _ids(demo_store)
    at = open_page("gebiedsverbinder", "pages/voorzieningen.py")
    box = at.selectbox(key="vz_agenda_voorziening")
    offered = [re.search(r"\((V\w+)\)$", label).group(1) for label in box.options]  # 'Naam (V002)'
    assert pressed["provision_id"] in offered
    # Only provisions at risk: a running one is offered only when its funding ends within a year.
    by_id = provisions.set_index("provision_id")
    soon = pd.Timestamp.today().normalize() + pd.DateOffset(months=12)
    for pid in offered:
        assert by_id.at[pid, "status"] != "actief" or pd.Timestamp(by_id.at[pid, "funding_end"]) <= soon, pid
    running = by_id.loc[(by_id["status"] == "actief") & (pd.to_datetime(by_id["funding_end"]) > soon)].index
    assert len(running) and not set(running) & set(offered)
    box.set_value(pressed["provision_id"]).run()
    at.button(key="vz_agenda").click().run()
    assert not at.exception, at.exception
    item = _new_items(demo_store, before).iloc[0]
    assert item["origin_kind"] == "voorziening"
    assert str(item["origin_figure"]).startswith(f"{pressed['name']}: onder druk, financiering tot ")
    assert _links(demo_store, item["item_id"]) == {("voorziening", pressed["provision_id"]),
                                                   ("buurt", pressed["buurt_code"])}


def test_a_signal_share_lands_on_the_agenda_as_shown(open_page, demo_store):
    before = _ids(demo_store)
    at = open_page("gebiedsverbinder", "pages/netwerken.py")  # the aggregate view: totals only
    box = at.selectbox(key="nw_agenda_buurt")
    table = at.dataframe[0].value
    shown = dict(zip(table["Buurt"], table["Aandeel"], strict=True))
    name = demo_store.read_areas("buurt").set_index("area_code").at[box.value, "name"]
    at.button(key="nw_agenda").click().run()
    assert not at.exception, at.exception
    item = _new_items(demo_store, before).iloc[0]
    assert item["origin_kind"] == "signaal"
    assert str(item["origin_figure"]) == (f"{shown[name]} van de personen met netwerkgegevens in {name} heeft een "
                                          "signaal van een arm netwerk")
    assert shown[name] not in ("", "geheim", "te weinig personen")
    assert _links(demo_store, item["item_id"]) == {("buurt", box.value)}

"""Issue 17 in a real browser, on Teststad (a municipality's own store, not the demo): three users build the agenda
of Centrum together - the gebiedsverbinder puts a shortage on it from "Wat de cijfers zeggen", the opbouwwerker
records a residents' initiative and adds an item linked to it, the wijkteam adds an item and moves it on, the
gebiedsverbinder moves the opbouwwerker's item on - the printed agenda shows every item with its owner, and a
gemeente user sees it all read-only. No person code appears anywhere, and nothing is fetched from another host."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from data import auth
from data.store import GeoPackageStore
from tests.browser import ROOT, chromium_page, running_app, sign_in, wait_until_idle
from tests.towns import build_state, write_town_files

pytestmark = pytest.mark.browser
PASSWORD = "een lang wachtwoord"
CENTRUM = "WK199900"


def _choose(page, label: str, option: str, *, within=None) -> None:
    """Pick an option of a selectbox (in ``within``, e.g. one form): typing filters the (virtualised) list."""
    combo = (within or page).get_by_role("combobox", name=label).first
    combo.click()
    page.keyboard.type(option[:18])
    page.get_by_role("option", name=option, exact=True).click()
    wait_until_idle(page)


def _update_form(page):
    return page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Bijwerken"))


def _sign_out(page) -> None:
    page.get_by_role("button", name="Afmelden").click()
    page.get_by_role("heading", name="Aanmelden").wait_for(timeout=60_000)


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_until_idle(page)


def test_three_users_build_one_wijk_agenda_and_the_municipality_reads_it(chromium, tmp_path):
    store = build_state(GeoPackageStore.create_new(tmp_path / "gemeente.gpkg"), write_town_files(tmp_path / "bron"),
                        "netwerken")
    for username, role, wijken in (("beheer", "beheerder", []), ("verbinder", "gebiedsverbinder", [CENTRUM]),
                                   ("opbouw", "opbouwwerker", []), ("wijk0", "wijkteam", [CENTRUM]),
                                   ("beleid", "gemeente", [])):
        auth.create_user(store, username, role, wijken, PASSWORD, by="test")
    persons = set(store.read_table("persons")["person_id"].astype(str))
    with running_app(store.path) as url, chromium_page(chromium, height=1400) as page:
        elsewhere: list[str] = []
        page.on("request", lambda r: elsewhere.append(r.url)
                if urlparse(r.url).hostname not in ("127.0.0.1", "localhost", None)
                and not r.url.startswith(("data:", "about:", "blob:")) else None)

        # 1. The gebiedsverbinder puts the first shortage of "Wat de cijfers zeggen" on the agenda.
        sign_in(page, url, "wijkagenda", "verbinder", PASSWORD, heading="Wijkagenda")
        page.get_by_text("Wat de cijfers zeggen").first.wait_for(timeout=60_000)
        page.get_by_role("button", name="Naar de agenda").first.click()
        page.get_by_text(re.compile(r"Op de wijkagenda gezet als AG-0001")).wait_for(timeout=60_000)
        first = store.read_table("agenda_items").iloc[0]
        assert first["origin_kind"] == "tekort" and first["wijk_code"] == CENTRUM
        assert first["owner_role"] == "gebiedsverbinder" and "personen" in first["origin_figure"]
        _sign_out(page)

        # 2. The opbouwwerker records an initiative and adds an item linked to it.
        sign_in(page, url, "wijkagenda", "opbouw", PASSWORD, heading="Wijkagenda")
        _open_tab(page, "Initiatieven en sleutelfiguren")
        page.get_by_role("textbox", name="Naam van het initiatief", exact=True).fill("Moestuin Haven")
        page.get_by_role("textbox", name="Wat doet het initiatief", exact=True).fill("Samen tuinieren")
        _choose(page, "Buurt", "Haven (BU19990002)")
        page.get_by_role("textbox", name="Contact via organisatie", exact=True).fill("Buurtwerk Teststad")
        page.get_by_role("button", name="Initiatief toevoegen").click()
        wait_until_idle(page)
        page.get_by_text("Moestuin Haven").first.wait_for(state="attached", timeout=60_000)  # a grid cell
        initiative = store.read_table("initiatives").iloc[0]
        assert initiative["buurt_code"] == "BU19990002"
        _open_tab(page, "Agenda")
        page.get_by_role("textbox", name="Titel", exact=True).fill("Moestuin als ontmoetingsplek voor ouderen")
        combo = page.get_by_role("combobox", name="Bewonersinitiatieven")
        combo.click()
        combo.press("ArrowDown")
        page.get_by_role("option", name=f"Moestuin Haven ({initiative['initiative_id']})").click()
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Agendapunt toevoegen").click()
        wait_until_idle(page)
        page.get_by_text("Moestuin als ontmoetingsplek voor ouderen").first.wait_for(state="attached", timeout=60_000)  # a grid cell
        _sign_out(page)

        # 3. The wijkteam adds an item and moves it on.
        sign_in(page, url, "wijkagenda", "wijk0", PASSWORD, heading="Wijkagenda")
        page.get_by_role("textbox", name="Titel", exact=True).fill("Signalen van eenzaamheid bundelen")
        page.get_by_role("button", name="Agendapunt toevoegen").click()
        wait_until_idle(page)
        page.get_by_text("Signalen van eenzaamheid bundelen").first.wait_for(state="attached", timeout=60_000)  # a grid cell
        _choose(page, "Agendapunt", "Signalen van eenzaamheid bundelen (AG-0003)")
        _choose(page, "Status", "gepland", within=_update_form(page))
        page.get_by_role("button", name="Bijwerken").click()
        wait_until_idle(page)
        _sign_out(page)

        # 4. The gebiedsverbinder moves the opbouwwerker's item on and prints the agenda.
        sign_in(page, url, "wijkagenda", "verbinder", PASSWORD, heading="Wijkagenda")
        _choose(page, "Agendapunt", "Moestuin als ontmoetingsplek voor ouderen (AG-0002)")
        _choose(page, "Status", "loopt", within=_update_form(page))
        page.get_by_role("textbox", name="Notitie (kort, over de actie)", exact=True).fill("eerste plantdag gepland")
        page.get_by_role("button", name="Bijwerken").click()
        wait_until_idle(page)
        items = store.read_table("agenda_items").set_index("item_id")
        assert items["status"].to_dict() == {"AG-0001": "idee", "AG-0002": "loopt", "AG-0003": "gepland"}
        assert items["owner_role"].to_dict() == {"AG-0001": "gebiedsverbinder", "AG-0002": "opbouwwerker",
                                                 "AG-0003": "wijkteam"}
        links = store.read_table("agenda_links")
        assert [initiative["initiative_id"]] == links.loc[links["item_id"] == "AG-0002", "target"].tolist()
        with page.expect_download() as download:
            page.get_by_role("button", name="Afdrukbare agenda (HTML)").click()
        printed = tmp_path / "agenda.html"
        download.value.save_as(printed)
        # The exported CSV re-imports on the page: every row a new item with the same links.
        with page.expect_download() as exported:
            page.get_by_role("button", name="Download CSV").click()
        csv_path = tmp_path / "agenda.csv"
        exported.value.save_as(csv_path)
        page.get_by_text("Agendapunten importeren (CSV of Excel)").click()
        page.locator("[data-testid='stFileUploader']").filter(has_text="Agenda").locator(
            "input[type='file']").set_input_files(str(csv_path))
        page.get_by_role("button", name="Importeren (3 agendapunten)").click()
        page.get_by_text("Geïmporteerd: 3 agendapunten.").wait_for(timeout=60_000)
        again = store.read_table("agenda_items")
        assert len(again) == 6 and sorted(again["title"])[::2] == sorted(items["title"])
        _sign_out(page)
        page.goto(printed.as_uri())
        text = page.locator("body").inner_text()
        for title, owner in (("Moestuin als ontmoetingsplek voor ouderen", "opbouwwerk"),
                             ("Signalen van eenzaamheid bundelen", "wijkteam")):
            rows = [r.inner_text() for r in page.locator("tr").filter(has_text=title).all()]
            assert any(owner in r for r in rows), (title, owner)  # the item's row (the changes list it too)
        assert "Wat de cijfers zeggen" in text and "Wijkagenda" in text
        assert not {p for p in persons if p in text}

        # 5. The gemeente reads the same agenda and can change nothing.
        sign_in(page, url, "wijkagenda", "beleid", PASSWORD, heading="Wijkagenda")
        page.get_by_text("U bekijkt de wijkagenda alleen").wait_for(timeout=60_000)
        page.get_by_text("Signalen van eenzaamheid bundelen").first.wait_for(state="attached", timeout=60_000)
        assert page.get_by_role("button", name="Agendapunt toevoegen").count() == 0
        assert page.get_by_role("button", name="Naar de agenda").count() == 0
        body = page.locator("body").inner_text()
        assert not {p for p in persons if p in body}
        page.screenshot(path=str(ROOT / "artifacts" / "browser-wijkagenda-gemeente.png"), full_page=True)
        assert not elsewhere, elsewhere[:5]

"""Issue 13 in a real browser: the open-data set imports through the Voorzieningen page with a saved
mapping and one value chosen by hand; the preview says what happens before anything is stored, and
importing the same file again changes nothing."""

from __future__ import annotations

import time

from data import auth
from data.store import GeoPackageStore
from tests.browser import ROOT, chromium_page, running_app, sign_in, wait_until_idle
from tests.towns import OPEN_DATA_OUTSIDE, build_state, write_open_data, write_town_files

PASSWORD = "een lang wachtwoord"


def _uploader(page, label: str):
    return page.locator("[data-testid='stFileUploader']").filter(has_text=label).locator("input[type='file']")


def _choose(page, label: str, option: str) -> None:
    combo = page.get_by_role("combobox", name=label)
    combo.click()
    combo.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click()
    wait_until_idle(page)


def test_open_data_through_the_page_with_a_saved_mapping(chromium, tmp_path):
    path = tmp_path / "gemeente.gpkg"
    store = GeoPackageStore.create_new(path)
    build_state(store, write_town_files(tmp_path / "bron"), "gebieden")
    auth.create_user(store, "beheer", "beheerder", [], PASSWORD, by="test")
    files = write_open_data(tmp_path / "opendata")
    with running_app(path) as url, chromium_page(chromium) as page:
        sign_in(page, url, "voorzieningen", "beheer", PASSWORD, heading="Voorzieningen")
        page.get_by_role("tab", name="Importeren en exporteren").click()

        # GeoJSON is accepted (it was refused in English before).
        _uploader(page, "open data").set_input_files(str(files["geojson"]))
        page.get_by_text("rijen in de eigen kolommen van de bron").wait_for(timeout=60_000)
        assert not page.get_by_text("files are not allowed").count()
        _uploader(page, "Bewaarde koppeling laden").set_input_files(str(files["koppeling"]))
        time.sleep(1)
        wait_until_idle(page)
        page.get_by_role("combobox", name="Buurtkamer (13×)").wait_for(timeout=30_000)
        assert "Buurthuis" in page.get_by_role("combobox", name="Buurtkamer (13×)").input_value() or \
            page.get_by_text("Buurthuis / ontmoetingsplek").count()
        # One value mapped by hand: the library becomes a meeting place too.
        _choose(page, "Bibliotheek (4×)", "Buurthuis / ontmoetingsplek")

        page.get_by_role("button", name="Voorbeeld bekijken").click()
        wait_until_idle(page)
        page.get_by_text("waarschuwing(en)").wait_for(timeout=60_000)
        assert store.read_table("provisions").empty  # the preview writes nothing
        body = page.locator("body").inner_text()
        assert "Caf? De Hoek" in body and "lijkt door Excel in een datum veranderd" in body
        page.screenshot(path=str(ROOT / "artifacts" / "browser-opendata-voorbeeld.png"), full_page=True)
        page.get_by_role("button", name="Importeren (28 nieuw, 0 bijgewerkt)").click()
        page.get_by_text("Import gelukt: 28 nieuw, 0 bijgewerkt, 0 ongewijzigd, 9 overgeslagen").wait_for(
            timeout=60_000)
        prov = store.read_table("provisions").set_index("source_id")
        assert len(prov) == 28 and prov["outside_areas"].sum() == OPEN_DATA_OUTSIDE
        assert prov.loc["MVZN-0027", "type"] == "buurthuis"  # the first Bibliotheek
        assert (prov.loc["MVZN-0001", "street"], prov.loc["MVZN-0001", "postcode"]) == ("Havenkade", "1999 BH")

        # The same file again: the preview says nothing changes and offers no import.
        page.get_by_role("tab", name="Importeren en exporteren").click()
        _uploader(page, "open data").set_input_files(str(files["geojson"]))
        page.get_by_text("rijen in de eigen kolommen van de bron").wait_for(timeout=60_000)
        _uploader(page, "Bewaarde koppeling laden").set_input_files(str(files["koppeling"]))
        time.sleep(1)
        wait_until_idle(page)
        _choose(page, "Bibliotheek (4×)", "Buurthuis / ontmoetingsplek")
        page.get_by_role("button", name="Voorbeeld bekijken").click()
        page.get_by_text("Er verandert niets").wait_for(timeout=60_000)
        assert not page.get_by_role("button", name="Importeren (").count()
    assert len(store.read_table("provisions")) == 28

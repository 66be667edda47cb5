"""Issue 14 in a real browser: a Network Canvas export (CSV and GraphML in its zip, with names, phones,
addresses and a venue node type) imports through Netwerken → Importeren with the preset; the preview
says what is not imported and why, and the stored ties match the files."""

from __future__ import annotations

import shutil
import time

from data import auth
from data.store import GeoPackageStore
from tests import nc_fixtures as nc
from tests.browser import ROOT, chromium_page, running_app, sign_in, wait_until_idle
from tests.test_network_canvas import _compare_ties, _stored

PASSWORD = "een lang wachtwoord"


def test_network_canvas_zip_through_the_page(chromium, demo_store_file, tmp_path):
    path = tmp_path / "gemeente.gpkg"
    shutil.copyfile(demo_store_file, path)
    store = GeoPackageStore.open(path, create=False)
    with store._transaction() as conn:  # the demo's areas and persons, as a municipality's own store
        conn.execute("UPDATE steunkaart_meta SET value = '0' WHERE key = 'demo'")
    auth.create_user(store, "beheer", "beheerder", [], PASSWORD, by="test")
    archive = nc.write_export(tmp_path / "export", formats=("csv", "graphml"), zipped=True)[0]
    persons_before = len(store.read_table("persons"))
    with running_app(path) as url, chromium_page(chromium) as page:
        sign_in(page, url, "netwerken", "beheer", PASSWORD, heading="Netwerken")
        page.get_by_role("tab", name="Importeren").click()
        uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="De bestanden van de export")
        uploader.locator("input[type='file']").set_input_files(str(archive))
        time.sleep(1)
        wait_until_idle(page)
        page.get_by_role("button", name="Voorbeeld bekijken").click()
        page.get_by_text("Niet geïmporteerd (identificerend)").wait_for(timeout=60_000)
        # The preview streams in part by part: wait for this part too before reading the page (a CI run read the
        # body while it was still coming).
        page.get_by_text("Overgeslagen (geen personen)").first.wait_for(state="attached", timeout=60_000)
        body = page.locator("body").inner_text()
        assert "Overgeslagen (geen personen)" in body
        for value in nc.identifying_values():  # names, phones, addresses are listed as columns, never shown
            assert value not in body
        assert len(store.read_table("persons")) == persons_before  # the preview writes nothing
        page.screenshot(path=str(ROOT / "artifacts" / "browser-network-canvas-voorbeeld.png"))
        page.get_by_role("button", name="Importeren (3 personen, 14 relaties)").click()
        page.get_by_text("Netwerk geïmporteerd: 3 personen, 14 relaties").wait_for(timeout=60_000)
    ties, links = _stored(store)
    _compare_ties(ties)
    assert {(r.ego_id, frozenset((r.source, r.target))) for r in links.itertuples()} == nc.expected_links()
    assert len(store.read_table("persons")) == persons_before + 3
    data = path.read_bytes()
    assert not [v for v in nc.identifying_values() if v.encode() in data]

"""Issue 16 in a real browser, on Teststad (a municipality's own store, not the demo): the administrator imports
follow-up measurements on the page Opvolging, first from the template as Dutch Excel saves it, then from a zip of
repeated Network Canvas interviews of one case; both land in the store and the change per provision appears."""

from __future__ import annotations

from data import auth
from data.store import GeoPackageStore
from tests import nc_fixtures as nc
from tests.browser import ROOT, chromium_page, running_app, sign_in, wait_until_idle
from tests.towns import build_state, write_town_files

PASSWORD = "een lang wachtwoord"


def _uploader(page, label: str):
    return page.locator("[data-testid='stFileUploader']").filter(has_text=label).locator("input[type='file']")


def test_template_and_network_canvas_import_through_the_page(chromium, tmp_path):
    store = build_state(GeoPackageStore.create_new(tmp_path / "gemeente.gpkg"), write_town_files(tmp_path / "bron"),
                        "netwerken")
    auth.create_user(store, "beheer", "beheerder", [], PASSWORD, by="test")
    header = "persoon;voorziening;groep;moment;datum;" + ";".join(f"lsns_{i}" for i in range(1, 7))
    rows = [f"{p};V002;deelnemer;T0;02-03-2026;" + ";".join(["1"] * 6) for p in ("T-01", "T-02", "T-03")]
    rows += [f"{p};V002;deelnemer;T1;13-04-2026;" + ";".join(["2"] * 6) for p in ("T-01", "T-02", "T-03")]
    template = tmp_path / "metingen.csv"
    template.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([header, *rows, ""]).encode("utf-8"))
    export = nc.write_followup_csv(nc.followup_case(), tmp_path / "export", zipped=True)

    with running_app(store.path) as url, chromium_page(chromium) as page:
        sign_in(page, url, "opvolging", "beheer", PASSWORD, heading="Opvolging en nazorg")
        page.get_by_role("tab", name="Importeren").click()
        wait_until_idle(page)
        _uploader(page, "Metingen").set_input_files(str(template))
        page.get_by_text("6 metingen van 3 personen bij 1 voorziening").wait_for(timeout=60_000)
        assert store.read_table("measurements").empty  # reading the file writes nothing
        page.get_by_role("button", name="Importeren").click()
        page.get_by_text("Geïmporteerd: 6 metingen van 3 personen").wait_for(timeout=60_000)
        assert len(store.read_table("measurements")) == 6

        page.get_by_text("herhaalde Network Canvas-interviews").click()
        wait_until_idle(page)
        page.get_by_label("Variabele met een vaste code per alter (leeg: geen)").fill("alter_code")
        page.keyboard.press("Enter")
        wait_until_idle(page)
        _uploader(page, "Network Canvas-export").set_input_files([str(p) for p in export])
        # The report (ties per moment) is a data grid: its cells are in the page's accessible table, not visible.
        page.get_by_text("T0: 4, T1: 5, T2: 5").wait_for(state="attached", timeout=60_000)
        page.get_by_role("button", name="Importeren").click()
        page.get_by_text("Geïmporteerd: 3 metingen van 1 persoon").wait_for(timeout=60_000)
        page.screenshot(path=str(ROOT / "artifacts" / "browser-opvolging-import.png"), full_page=True)

    stored = store.read_table("measurements")
    case = stored.loc[stored["provision_id"] == "V001"]
    assert sorted(case["moment"]) == ["T0", "T1", "T2"] and set(case["person_id"]) == {"T-01"}
    ties = store.read_table("followup_ties")
    assert ties["from_group"].any()  # the group member named at T1 and T2
    assert (store.read_batches()["kind"] == "metingen").sum() == 2

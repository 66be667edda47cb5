"""Issue 15, the Kaart page in a real headless Chromium on a real town (Zaanstad 2017, not the demo):
a click highlights the buurt and fills the side panel, the legend sits outside the map, a postcode
finds its buurt, and the address of the view reopens the same buurt and figure in a fresh browser."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest

from data import auth
from data.area_import import read_area_file
from data.store import GeoPackageStore
from tests.browser import ROOT, chromium_page, map_frame, running_app, sign_in, wait_until_idle
from tests.conftest import realdata

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

PASSWORD = "een lang wachtwoord voor de kaart"
BUURTEN = "zaanstad_buurten_2017.geojson"


def zaanstad_store(folder: Path) -> Path:
    """A municipality's own store (not the demo) with the Zaanstad buurten and wijken of 2017, one account."""
    path = folder / "zaanstad.gpkg"
    store = GeoPackageStore.create_new(path)
    for name in (BUURTEN, "zaanstad_wijken_2017.geojson"):
        imported = read_area_file(realdata(name))
        store.merge_area_data(imported.areas, imported.values, user="test", file_name=name)
    auth.create_user(store, "beheer", "beheerder", [], PASSWORD, by="test")
    return path


def highlighted_box(frame) -> dict | None:
    """The screen box of the outline drawn for the chosen area: an SVG path without fill on top of the areas."""
    return frame.evaluate("""() => {
        const outlines = [...document.querySelectorAll('.leaflet-overlay-pane path')]
            .filter(p => !p.classList.contains('sk-area') && !p.classList.contains('sk-provision')
                         && (p.getAttribute('fill') === 'none' || p.getAttribute('fill-opacity') === '0'));
        if (outlines.length !== 1) { return outlines.length ? {count: outlines.length} : null; }
        const b = outlines[0].getBoundingClientRect();
        return {count: 1, x: b.x, y: b.y, w: b.width, h: b.height};
    }""")


def area_box(frame, index: int) -> dict:
    return frame.locator("path.sk-area").nth(index).evaluate(
        "p => { const b = p.getBoundingClientRect(); return {x: b.x, y: b.y, w: b.width, h: b.height}; }")


def wait_for_outline(page, frame, timeout_s: float = 30) -> dict:
    page.wait_for_timeout(0)
    frame.wait_for_function("""() => [...document.querySelectorAll('.leaflet-overlay-pane path')]
        .some(p => !p.classList.contains('sk-area') && !p.classList.contains('sk-provision')
                   && p.getAttribute('fill') === 'none')""", timeout=timeout_s * 1000)
    return highlighted_box(frame)


def close_to(a: dict, b: dict, tolerance_px: float = 4) -> bool:
    return all(abs(a[k] - b[k]) <= tolerance_px for k in ("x", "y", "w", "h"))


@pytest.fixture()
def zaanstad(tmp_path):
    return zaanstad_store(tmp_path), gpd.read_file(realdata(BUURTEN))


def test_click_highlights_the_buurt_and_the_link_reopens_it(chromium, zaanstad):
    path, raw = zaanstad
    buurten = GeoPackageStore(path).read_areas("buurt")
    # A buurt in the middle of the list whose name is unique (the panel heading must be exact).
    index = int(buurten.index[buurten["name"] == "Rosmolenbuurt"][0])
    code = buurten.loc[index, "area_code"]
    with running_app(path) as url, chromium_page(chromium) as page:
        sign_in(page, url, "", "beheer", PASSWORD, heading="Kaart")
        frame = map_frame(page)
        assert frame.locator("path.sk-area").count() == len(buurten) == len(raw)
        town_zoom = frame.evaluate("() => window.map.getZoom()")  # fitted to the whole town

        # The legend is beside the map, not drawn over it.
        assert frame.locator(".leaflet-container .sk-legend").count() == 0
        legend = page.locator("[data-testid='stHtml']").filter(has_text="Personen 65 jaar en ouder").first
        legend.wait_for(timeout=30_000)
        assert legend.is_visible()

        # A click: the buurt gets an outline of its own shape and the side panel shows its name.
        frame.locator("path.sk-area").nth(index).dispatch_event("click")
        page.get_by_role("heading", name="Rosmolenbuurt").wait_for(timeout=30_000)
        outline = wait_for_outline(page, frame)
        assert outline["count"] == 1
        assert close_to(outline, area_box(frame, index)), (outline, area_box(frame, index))
        page.get_by_text(f"Gebiedscode {code}").wait_for(timeout=30_000)
        page.wait_for_url(re.compile(f"gebied={code}"), timeout=30_000)

        # Another figure; the address bar now holds level, figure and buurt.
        combo = page.get_by_role("combobox", name="Kerncijfer")
        combo.click()
        page.get_by_role("option", name="Verweduwd", exact=True).click()
        page.wait_for_url(re.compile(r"kerncijfer=percentage_verweduwd"), timeout=30_000)
        wait_until_idle(page)
        assert f"gebied={code}" in page.url and "niveau=buurt" in page.url
        page.get_by_text("Link naar deze kaart").click()
        link = page.locator("[data-testid='stCode']").filter(has_text="kerncijfer=").inner_text().strip()
        assert link.startswith(url) and f"gebied={code}" in link and "kerncijfer=percentage_verweduwd" in link
        page.screenshot(path=str(ROOT / "artifacts" / "browser-kaart-zaanstad.png"), full_page=True)

        # The link in a new browser session (its own sign-in) reopens the same view.
        fresh = page.context.browser.new_context(viewport={"width": 1500, "height": 950}, locale="nl-NL")
        other = fresh.new_page()
        other.goto(link)
        other.get_by_role("heading", name="Aanmelden").wait_for(timeout=60_000)
        form = other.locator("[data-testid='stForm']")
        form.get_by_label("Gebruikersnaam", exact=True).fill("beheer")
        form.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
        other.get_by_role("button", name="Aanmelden").click()
        other.get_by_role("heading", name="Rosmolenbuurt").wait_for(timeout=60_000)
        assert other.get_by_role("combobox", name="Kerncijfer").input_value() == "Verweduwd" or \
            "Verweduwd" in other.locator("[data-testid='stSelectbox']").filter(has_text="Kerncijfer").inner_text()
        second = map_frame(other)
        outline = wait_for_outline(other, second)
        assert outline["count"] == 1
        # ... zoomed in on that buurt, and it stays so (the map does not fit back to the town when laid out).
        second.wait_for_function(f"() => window.map && window.map.getZoom() > {town_zoom}", timeout=30_000)
        other.wait_for_timeout(1500)
        assert second.evaluate("() => window.map.getZoom()") > town_zoom
        centre = second.evaluate("() => { const c = window.map.getCenter(); return [c.lat, c.lng]; }")
        west, south, east, north = raw.loc[raw["bu_code"] == code].to_crs(4326).total_bounds
        assert south <= centre[0] <= north and west <= centre[1] <= east, centre
        assert other.locator("[data-testid='stHtml']").filter(has_text="Verweduwd").count() >= 1
        fresh.close()


def test_search_by_postcode_chooses_the_buurt(chromium, zaanstad):
    pytest.importorskip("data.postcodes", reason="de zoekfunctie op postcode (data/postcodes.py) is er nog niet")
    path, raw = zaanstad
    # A PC4 that CBS gives as the most common postcode of exactly one inhabited buurt.
    counts = raw["postcode"].value_counts()
    single = raw.loc[raw["postcode"].map(counts).eq(1) & (raw["aant_inw"] > 0)].iloc[0]
    with running_app(path) as url, chromium_page(chromium) as page:
        sign_in(page, url, "", "beheer", PASSWORD, heading="Kaart")
        frame = map_frame(page)
        box = page.get_by_label("Zoek een gebied")
        box.fill(str(single["postcode"]))
        box.press("Enter")
        page.get_by_role("heading", name=single["bu_naam"]).wait_for(timeout=30_000)
        page.get_by_text(f"Gebiedscode {single['bu_code']}").wait_for(timeout=30_000)
        assert wait_for_outline(page, frame)["count"] == 1
        # Nothing found: the message says what was searched.
        box.fill("Nergenshuizen")
        box.press("Enter")
        page.get_by_text("Niets gevonden voor 'Nergenshuizen'").wait_for(timeout=30_000)

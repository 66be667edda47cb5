"""Issue 15 in a real browser: the folium map of a town that is not the demo (Teststad, imported from its
CBS files) at the height of the Tekorten maps (460 px). The legend starts folded and covers little of the
map, unfolds to the class rows within 40% of the map's height, and a click on it does not reach the map;
names appear from zoom 14 on; the scale bar is metric; the CBS/Kadaster credit is shown; the chosen area is
outlined; and nothing is requested from any host but the app's own."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from data.indicators import BY_NAME
from data.store import GeoPackageStore
from mapping.assets import STATIC_URL, ensure_static_assets
from mapping.choropleth import LEGEND_MAX_SHARE, choropleth_map, highlight_layer
from tests.browser import chromium_page
from tests.towns import build_state, write_town_files

pytestmark = pytest.mark.browser

APP_HOST = "steunkaart.test"  # only ever answered by the route below, never by the network
INDICATOR = "percentage_personen_65_jaar_en_ouder"


@pytest.fixture()
def town_map_html(tmp_path):
    """The rendered map of Teststad's buurten (460 px, the fourth buurt chosen) and that buurt's code."""
    store = GeoPackageStore.create_new(tmp_path / "teststad.gpkg")
    build_state(store, write_town_files(tmp_path / "bron"), "gebieden")
    buurten = store.read_areas("buurt")
    ind = BY_NAME[INDICATOR]
    m = choropleth_map(buurten, INDICATOR, label=ind.label, unit=ind.unit, decimals=ind.decimals, k=5,
                       higher_is_need=ind.higher_is_need, height=460)
    chosen = buurten["area_code"].iloc[3]
    highlight_layer(buurten, chosen).add_to(m)  # as st_folium(feature_group_to_add=...) adds it
    return m.get_root().render(), chosen, int(buurten[INDICATOR].notna().sum())


def _open(page, page_html: str, static_dir) -> list[str]:
    """Serve the map and the app's static files on APP_HOST; block and record every other request."""
    elsewhere: list[str] = []

    def handle(route):
        url = urlparse(route.request.url)
        if url.hostname != APP_HOST:
            elsewhere.append(route.request.url)
            return route.abort()
        if url.path == "/kaart.html":
            return route.fulfill(body=page_html, content_type="text/html; charset=utf-8")
        if url.path.startswith(STATIC_URL + "/"):
            file = static_dir / url.path[len(STATIC_URL) + 1:]
            if file.is_file():
                return route.fulfill(path=str(file))
        return route.fulfill(status=404, body="")

    page.route("**/*", handle)
    page.goto(f"http://{APP_HOST}/kaart.html")
    page.wait_for_selector("path.sk-area", state="attached", timeout=30_000)
    page.wait_for_timeout(300)  # the legend limits its height once the map has its size
    return elsewhere


def _area(box) -> float:
    return box["width"] * box["height"]


def test_legend_labels_scale_credit_and_highlight_in_the_browser(chromium, tmp_path, town_map_html):
    page_html, chosen, n_known = town_map_html
    static_dir = ensure_static_assets(tmp_path / "static").parent
    with chromium_page(chromium, width=900, height=700) as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        elsewhere = _open(page, page_html, static_dir)
        map_box = page.locator(".leaflet-container").bounding_box()
        assert map_box["height"] == pytest.approx(460, abs=1)
        key = page.evaluate("Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom)")
        page.evaluate(f"() => {{ window.skClicks = 0; window['{key}'].on('click', () => window.skClicks++); }}")

        # Folded: only the summary line (the title) shows, a small part of the map.
        legend = page.locator(".sk-legend")
        assert page.evaluate("document.querySelector('.sk-legend details').open") is False
        assert legend.locator(".sk-row").first.is_visible() is False
        assert _area(legend.bounding_box()) < 0.15 * _area(map_box)
        assert legend.inner_text().startswith(BY_NAME[INDICATOR].label)

        # Unfolded: the class rows, with non-overlapping Dutch labels, at most ~40% of the map's height.
        legend.locator("summary").click()
        rows = legend.locator(".sk-row")
        rows.first.wait_for(state="visible", timeout=5_000)
        texts = rows.all_inner_texts()
        classes = [t for t in texts if re.fullmatch(r"[\d.,]+( – [\d.,]+)?%", t.strip())]
        assert 2 <= len(classes) <= 5, texts
        assert legend.bounding_box()["height"] <= LEGEND_MAX_SHARE * map_box["height"] + 2
        assert page.evaluate("window.skClicks") == 0  # unfolding the legend is not a click on the map
        swatches = legend.locator(".sk-swatch")
        assert swatches.count() == len(texts) and swatches.first.bounding_box()["width"] > 10

        # Names only from zoom 14 on (Teststad is small: it opens at about that zoom, so first zoom out).
        page.evaluate(f"window['{key}'].setZoom(13, {{animate: false}})")
        page.wait_for_timeout(200)
        assert page.evaluate(f"window['{key}'].getZoom()") == 13
        assert page.locator(".sk-label-text:visible").count() == 0
        page.evaluate(f"window['{key}'].setView(window['{key}'].getCenter(), 14, {{animate: false}})")
        page.wait_for_function("document.querySelectorAll('.sk-label').length > 0", timeout=5_000)
        visible = page.locator(".sk-label-text:visible")
        assert visible.count() >= 1
        assert all(name.strip() for name in visible.all_inner_texts())
        page.evaluate(f"window['{key}'].setZoom(13, {{animate: false}})")
        page.wait_for_timeout(200)
        assert page.locator(".sk-label-text:visible").count() == 0

        # Metric scale bar only, and the source of the boundaries.
        scales = page.locator(".leaflet-control-scale-line").all_inner_texts()
        assert len(scales) == 1 and re.fullmatch(r"\d+ k?m", scales[0].strip()), scales
        control = page.locator(".leaflet-control-scale").inner_text()
        assert "mi" not in control and "ft" not in control
        attribution = page.locator(".leaflet-control-attribution")
        assert "CBS" in attribution.inner_text() and "Kadaster" in attribution.inner_text()
        assert attribution.locator("a").count() == 0  # no link to leafletjs.com

        # The chosen buurt: one thick dark outline without fill, which does not catch the mouse.
        outline = page.locator("path[stroke='#111111']")
        assert outline.count() == 1
        assert outline.get_attribute("fill") == "none" and float(outline.get_attribute("stroke-width")) >= 3
        assert "leaflet-interactive" not in (outline.get_attribute("class") or "")
        assert page.locator("path.sk-area").count() >= n_known
        assert chosen  # a real code of the town

        assert elsewhere == [], elsewhere
        assert errors == [], errors

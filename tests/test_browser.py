"""The real app in a real headless Chromium: the Leaflet map draws, clicks work, no CDN.

Runs always in CI (CI=true); on a machine without Chromium it skips and says what to
install.
"""

import time
from urllib.parse import urlparse

import pytest

from data.store import GeoPackageStore
from tests.browser import chromium_page, chromium_path, map_frame, running_app
from tests.conftest import ROOT, in_ci

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    exe = chromium_path()
    if exe is None:
        if in_ci():
            pytest.fail("Chromium ontbreekt in CI: .ci/run hoort 'apt-get install chromium' te doen.")
        pytest.skip("Chromium niet gevonden: installeer het met 'sudo apt-get install chromium' "
                    "om de browsertest te draaien.")
    return exe


def test_map_draws_every_buurt_from_local_assets_only(chromium, demo_store_file, tmp_path):
    store = tmp_path / "demo.gpkg"
    store.write_bytes(demo_store_file.read_bytes())
    buurten = GeoPackageStore(store).read_areas("buurt")
    requests: list[str] = []
    with running_app(store) as url, chromium_page(chromium) as page:
        app_host = urlparse(url).netloc
        page.on("request", lambda req: requests.append(req.url))
        # A deep link as the server's very first visit still gets the app's own navigation.
        page.goto(f"{url}/over")
        page.get_by_text("Personen (pseudoniem)").wait_for(timeout=60_000)
        nav = page.locator("[data-testid='stSidebarNav']").inner_text()
        assert "Kaart" in nav and "common" not in nav
        page.goto(url)
        frame = map_frame(page)
        time.sleep(1.0)  # let Leaflet finish adding layers
        paths = frame.locator("path.sk-area")
        # One SVG path per buurt: all 40, the water buurt drawn as missing (hatched grey).
        assert paths.count() == len(buurten)
        fills = [paths.nth(i).get_attribute("fill") for i in range(paths.count())]
        with_data = buurten["percentage_personen_65_jaar_en_ouder"].notna().sum()
        assert sum(f != "#d9d9d9" for f in fills) == with_data
        assert frame.locator(".sk-legend").inner_text().startswith("Personen 65 jaar en ouder")

        # Click a buurt: its name and figures appear beside the map.
        centre = buurten.loc[buurten["name"] == "Rozenhof"].geometry.iloc[0]
        index = int(buurten.index[buurten["name"] == "Rozenhof"][0])
        assert centre is not None
        paths.nth(index).dispatch_event("click")  # a marker may sit on top of its centre
        page.get_by_role("heading", name="Rozenhof").wait_for(timeout=30_000)
        assert page.get_by_text("Gebiedscode BU99990101").is_visible()
        figures = page.locator("table").first
        figures.wait_for(timeout=30_000)
        assert "Aantal inwoners" in figures.inner_text()
        assert "Kanaalzone" in figures.inner_text()  # the wijk, for comparison
        page.screenshot(path=str(ROOT / "artifacts" / "browser-kaart.png"), full_page=True)

        # ... and the full profile is one click further.
        page.get_by_role("button", name="Volledig profiel openen").click()
        page.get_by_role("heading", name="Profiel").wait_for(timeout=30_000)
        page.get_by_text("Valt op:").first.wait_for(timeout=30_000)
        page.get_by_role("heading", name="Voorzieningen in en rond het gebied").wait_for(timeout=30_000)
        page.screenshot(path=str(ROOT / "artifacts" / "browser-profiel.png"), full_page=True)

    foreign = {urlparse(u).netloc for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert foreign <= {app_host}, [u for u in requests if app_host not in u]
    assert any(u.endswith("/app/static/leaflet/leaflet.js") for u in requests)


def test_hostile_provision_name_shows_as_text(chromium, demo_store):
    hostile = "<script>alert(1)</script>"
    version = demo_store.read_table("provisions").set_index("provision_id").loc["V001", "version"]
    demo_store.update_provision("V001", {"name": hostile}, expected_version=version, user="test")
    dialogs: list[str] = []
    with running_app(demo_store.path) as url, chromium_page(chromium) as page:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        frame = map_frame(page)
        markers = frame.locator("path.sk-provision")
        assert markers.count() == 40
        found = False
        for i in range(markers.count()):
            markers.nth(i).dispatch_event("click")
            popup = frame.locator(".leaflet-popup-content")
            popup.wait_for(timeout=5_000)
            if hostile in popup.inner_text():
                found = True
                assert popup.locator("script").count() == 0
                break
        assert found, "the popup with the hostile name was not found"
        page.screenshot(path=str(ROOT / "artifacts" / "browser-popup.png"))
    assert dialogs == []


def test_network_page_signal_list_ecogram_and_community(chromium, demo_store_file, tmp_path):
    store = tmp_path / "demo.gpkg"
    store.write_bytes(demo_store_file.read_bytes())
    requests: list[str] = []
    with running_app(store) as url, chromium_page(chromium) as page:
        app_host = urlparse(url).netloc
        page.on("request", lambda req: requests.append(req.url))
        page.goto(f"{url}/netwerken")
        page.get_by_text("personen met een signaal").first.wait_for(timeout=60_000)
        page.get_by_role("tab", name="Ecogram").click()
        ecogram = page.locator("[data-testid='stImage'] img").first
        ecogram.wait_for(timeout=30_000)
        assert ecogram.evaluate("img => img.naturalWidth") >= 500  # the SVG rendered
        page.get_by_role("tab", name="Gemeenschap").click()
        page.get_by_text("Deelnetwerken").wait_for(timeout=60_000)
        deadline = time.monotonic() + 60
        canvas = None
        while time.monotonic() < deadline and canvas is None:
            for frame in page.frames:
                if frame.locator("#net canvas").count():
                    canvas = frame.locator("#net canvas")
                    break
            time.sleep(0.5)
        assert canvas is not None, "vis-network did not draw the community graph"
        time.sleep(3)
        page.screenshot(path=str(ROOT / "artifacts" / "browser-gemeenschap.png"), full_page=True)
    foreign = {urlparse(u).netloc for u in requests if urlparse(u).scheme in ("http", "https")}
    assert foreign <= {app_host}, [u for u in requests if app_host not in u]
    assert any(u.endswith("/app/static/vis/vis-network.min.js") for u in requests)

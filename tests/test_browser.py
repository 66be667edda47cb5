"""The real app in a real headless Chromium: the Leaflet map draws, clicks work, no CDN.

Runs always in CI (CI=true); on a machine without Chromium it skips and says what to
install.
"""

import re
import time
from urllib.parse import urlparse

import pytest

from data import auth
from data.store import GeoPackageStore
from mapping.choropleth import MISSING_FILL, NO_BASE_FILL
from tests.browser import chromium_page, map_frame, running_app, wait_until_idle
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


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
        # One SVG path per buurt: all 40, the water buurt (no inhabitants) drawn without a class.
        assert paths.count() == len(buurten)
        fills = [paths.nth(i).get_attribute("fill") for i in range(paths.count())]
        with_data = buurten["percentage_personen_65_jaar_en_ouder"].notna().sum()
        assert sum(f not in (MISSING_FILL, NO_BASE_FILL) for f in fills) == with_data == len(buurten) - 1
        assert fills.count(NO_BASE_FILL) == 1
        # The legend stands beside the map, not on it (it would cover buurten).
        assert frame.locator(".sk-legend").count() == 0
        assert page.locator(".sk-legend-panel").first.inner_text().startswith("Personen 65 jaar en ouder")

        # Click a buurt: its name and figures appear beside the map.
        centre = buurten.loc[buurten["name"] == "Rozenhof"].geometry.iloc[0]
        index = int(buurten.index[buurten["name"] == "Rozenhof"][0])
        assert centre is not None
        paths.nth(index).dispatch_event("click")  # a marker may sit on top of its centre
        page.get_by_role("heading", name="Rozenhof").wait_for(timeout=30_000)
        page.get_by_text("Gebiedscode BU99990101").wait_for(timeout=30_000)  # the panel streams in
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
        # The person table has no toolbar of its own (no unlogged "Download as CSV"), only the logged button.
        table = page.locator(".st-key-sk_personen_signalen [data-testid='stDataFrame']")
        table.wait_for(timeout=30_000)
        table.hover()
        time.sleep(0.5)
        toolbars = page.locator(".st-key-sk_personen_signalen [data-testid='stElementToolbar']")
        assert all(not toolbars.nth(i).is_visible() for i in range(toolbars.count()))
        assert page.get_by_role("button", name=re.compile(r"Download \(CSV, \d+ personen\)")).is_visible()
        page.get_by_role("tab", name="Ecogram").click()
        page.locator("[data-testid='stSelectbox']").filter(has_text="Persoon (pseudoniem)").click()
        page.get_by_role("option").first.click()
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


def _metric_value(page, label: str) -> int:
    metric = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return int(metric.locator("[data-testid='stMetricValue']").inner_text().replace(".", ""))


def _free_spot(frame, points) -> tuple[float, float]:
    """Page coordinates of the first point that lies on the visible map, clear of the legend and controls."""
    container = frame.locator(".leaflet-container").bounding_box()
    blocked = [frame.locator(sel).first.bounding_box() for sel in (".sk-legend", ".leaflet-control-layers",
                                                                   ".leaflet-control-zoom")]
    for point in points:
        cx, cy = frame.evaluate(
            """([lat, lon]) => {
                const key = Object.keys(window).find(k => k.startsWith('map_') && window[k].latLngToContainerPoint);
                const p = window[key].latLngToContainerPoint([lat, lon]);
                return [p.x, p.y];
            }""", [point.y, point.x])
        x, y = container["x"] + cx, container["y"] + cy
        inside = container["x"] + 5 < x < container["x"] + container["width"] - 5 and \
            container["y"] + 5 < y < container["y"] + container["height"] - 5
        clear = all(not (b["x"] - 5 <= x <= b["x"] + b["width"] + 5 and b["y"] - 5 <= y <= b["y"] + b["height"] + 5)
                    for b in blocked if b)
        if inside and clear:
            return x, y
    raise AssertionError("no free spot on the map to click")


def test_hypothetical_provision_by_a_click_shrinks_the_gap(chromium, demo_store_file, tmp_path):
    """Issue 6, done when: a click on the scenario map places a new visiting service; the gap shrinks."""
    from mapping.gaps import gaps_from_need_and_supply

    store = tmp_path / "demo.gpkg"
    store.write_bytes(demo_store_file.read_bytes())
    opened = GeoPackageStore(store)
    buurten = opened.read_areas("buurt")
    gaps = gaps_from_need_and_supply(buurten, opened.read_table("provisions"), types=["bezoekdienst_weduwen"])
    # Where to click: inside the buurten with the largest gap (sorted first), away from any provision marker.
    provisions = opened.read_table("provisions")
    points = buurten.set_index("area_code").geometry.representative_point()
    far = points.apply(lambda p: provisions.distance(p).min() > 400)
    candidates = points.loc[[c for c in gaps["area_code"] if far.get(c, False)][:10]].to_crs(4326)
    requests: list[str] = []
    with running_app(store) as url, chromium_page(chromium) as page:
        app_host = urlparse(url).netloc
        page.on("request", lambda req: requests.append(req.url))
        page.goto(f"{url}/tekorten")
        page.get_by_text("Scenario samenstellen").wait_for(timeout=60_000)
        deadline = time.monotonic() + 60
        frames = []
        while time.monotonic() < deadline and len(frames) < 2:
            frames = [f for f in page.frames if "streamlit_folium" in f.url and f.locator("path.sk-area").count()]
            time.sleep(0.3)
        assert len(frames) == 2, "both maps (now and scenario) should draw"
        before = _metric_value(page, "Tekort nu")
        assert _metric_value(page, "Tekort in scenario") == before > 0
        scenario_frame = max(frames, key=lambda f: f.frame_element().bounding_box()["x"])  # the right map
        x, y = _free_spot(scenario_frame, candidates)
        page.mouse.click(x, y)  # a real click on the map, not on a marker or the legend
        page.get_by_text("Nieuwe voorziening op de aangeklikte plek").wait_for(timeout=30_000)
        page.get_by_role("button", name="Toevoegen aan scenario").click()
        page.get_by_text("weduwnaars (nieuw)").first.wait_for(timeout=30_000)
        deadline = time.monotonic() + 30
        after = before
        while time.monotonic() < deadline and after >= before:
            after = _metric_value(page, "Tekort in scenario")
            time.sleep(0.3)
        assert after < before, (before, after)
        assert _metric_value(page, "Tekort nu") == before
        page.screenshot(path=str(ROOT / "artifacts" / "browser-scenario.png"), full_page=True)
    foreign = {urlparse(u).netloc for u in requests if urlparse(u).scheme in ("http", "https")}
    assert foreign <= {app_host}, [u for u in requests if app_host not in u]


NEW_PASSWORD = "Wachtwoord (minstens 12 tekens, geen veelgebruikt wachtwoord)"  # label on the Gebruikers page


def _fill_form(page, form_key: str, values: dict[str, str]) -> None:
    form = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name=form_key))
    for label, value in values.items():
        form.get_by_label(label, exact=True).fill(value)


def test_new_user_flow_admin_then_municipality_sees_only_aggregates(chromium, demo_store_file, tmp_path):
    """Issue 7, done when: create the administrator, add a gemeente user, sign in as that user, and
    see only aggregates."""

    store = tmp_path / "demo.gpkg"
    store.write_bytes(demo_store_file.read_bytes())
    person_ids = set(GeoPackageStore(store).read_table("persons")["person_id"])
    requests: list[str] = []
    password = "een lang wachtwoord"
    with running_app(store) as url, chromium_page(chromium) as page:
        app_host = urlparse(url).netloc
        page.on("request", lambda req: requests.append(req.url))
        page.goto(url)
        page.get_by_text("Demomodus").wait_for(timeout=60_000)
        # 1. The administrator, created from the demo mode.
        page.get_by_role("link", name="Gebruikers").click()
        page.get_by_text("Gebruiker toevoegen").wait_for(timeout=30_000)
        _fill_form(page, "Toevoegen", {"Gebruikersnaam": "beheer", NEW_PASSWORD: password,
                                       "Wachtwoord nogmaals": password})
        page.get_by_role("button", name="Toevoegen").click()
        # 2. The demo mode has ended: sign in as the administrator.
        page.get_by_role("heading", name="Aanmelden").wait_for(timeout=30_000)
        _fill_form(page, "Aanmelden", {"Gebruikersnaam": "beheer", "Wachtwoord": password})
        page.get_by_role("button", name="Aanmelden").click()
        page.get_by_text("Aangemeld als").wait_for(timeout=30_000)
        # 3. Add a municipality policy officer.
        page.get_by_role("link", name="Gebruikers").click()
        page.get_by_text("Gebruiker toevoegen").wait_for(timeout=30_000)
        _fill_form(page, "Toevoegen", {"Gebruikersnaam": "beleid", NEW_PASSWORD: password,
                                       "Wachtwoord nogmaals": password})
        form = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Toevoegen"))
        form.locator("[data-testid='stSelectbox']").first.click()
        page.get_by_role("option", name="Gemeente (beleid)").click()
        page.get_by_role("button", name="Toevoegen").click()
        deadline = time.monotonic() + 30
        users = auth.read_users(GeoPackageStore(store))
        while "beleid" not in set(users["username"]) and time.monotonic() < deadline:
            time.sleep(0.3)
            users = auth.read_users(GeoPackageStore(store))
        assert users.set_index("username").loc["beleid", "role"] == "gemeente"
        # 4. Sign out, sign in as the municipality.
        page.get_by_role("button", name="Afmelden").click()
        page.get_by_role("heading", name="Aanmelden").wait_for(timeout=30_000)
        _fill_form(page, "Aanmelden", {"Gebruikersnaam": "beleid", "Wachtwoord": password})
        page.get_by_role("button", name="Aanmelden").click()
        page.get_by_text("Aangemeld als").wait_for(timeout=30_000)
        nav = page.locator("[data-testid='stSidebarNav']").inner_text()
        assert "Netwerken" in nav and "Gebruikers" not in nav and "Logboek" not in nav and "Beheer" not in nav
        # 5. Networks only as aggregates: no person anywhere on the page.
        page.get_by_role("link", name="Netwerken").click()
        page.get_by_text("alleen als totalen").wait_for(timeout=60_000)
        assert page.get_by_role("tab").all_inner_texts() == ["Kaart per buurt", "Koppelen (totalen)"]
        page.get_by_role("tab", name="Koppelen (totalen)").click()
        page.get_by_text("Per voorziening", exact=True).wait_for(timeout=30_000)
        page.get_by_text("Kunnen een plek krijgen").wait_for(timeout=30_000)
        wait_until_idle(page)
        text = page.locator("body").inner_text()
        assert not set(re.findall(r"P[0-9a-f]{8}", text)) & person_ids
        page.screenshot(path=str(ROOT / "artifacts" / "browser-gemeente.png"), full_page=True)
    log = GeoPackageStore(store).read_audit()
    assert {"nieuwe-gebruiker", "aanmelden", "afmelden"} <= set(log["action"])
    assert set(log.loc[log["action"] == "aanmelden", "user"]) == {"demo-beheerder", "beheer", "beleid"}
    foreign = {urlparse(u).netloc for u in requests if urlparse(u).scheme in ("http", "https")}
    assert foreign <= {app_host}, [u for u in requests if app_host not in u]


def test_own_installation_deep_link_first_admin_import_and_undo(chromium, tmp_path):
    """Issue 11: an own, empty store; a deep link opened before sign-in leads there after it; the
    administrator imports the gemeente's areas on Beheer and undoes the import again."""
    from tests.towns import write_town_files

    files = write_town_files(tmp_path / "bestanden")
    store = tmp_path / "gemeente.gpkg"
    password = "een lang wachtwoord"
    with running_app(store) as url, chromium_page(chromium) as page:
        page.goto(f"{url}/tekorten")
        page.get_by_text("Eerste gebruik: maak de beheerder aan").wait_for(timeout=60_000)
        assert not page.get_by_text("Page not found").count()
        assert not page.get_by_text("Demomodus").count()
        _fill_form(page, "Beheerder aanmaken", {"Gebruikersnaam": "beheer", "Wachtwoord": password,
                                                "Wachtwoord nogmaals": password})
        page.get_by_role("button", name="Beheerder aanmaken").click()
        page.get_by_role("heading", name="Tekorten (witte vlekken)").wait_for(timeout=60_000)
        page.get_by_text("Nog geen gebieden in de opslag").wait_for(timeout=30_000)

        page.get_by_role("link", name="Beheer").click()
        page.get_by_role("heading", name="CBS-gebieden importeren").wait_for(timeout=30_000)
        form = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Importeren")).first
        form.locator("input[type='file']").set_input_files(str(files["buurten"]))
        time.sleep(1)
        form.get_by_role("button", name="Importeren").click()
        page.get_by_text("Import gelukt.").wait_for(timeout=60_000)
        assert GeoPackageStore(store).counts()["areas"] == 9
        page.screenshot(path=str(ROOT / "artifacts" / "browser-beheer-import.png"), full_page=True)

        page.get_by_text("Import ongedaan maken", exact=True).wait_for(timeout=30_000)
        combo = page.get_by_role("combobox", name="Import ongedaan maken")
        combo.click()
        combo.press("ArrowDown")
        option = page.get_by_role("option", name=re.compile("buurt_2017"))
        option.wait_for(timeout=30_000)
        option.click()
        page.get_by_text("Wat er gebeurt:").wait_for(timeout=30_000)
        page.get_by_text("Ja, maak import 1 ongedaan").click()
        page.get_by_role("button", name="Ongedaan maken").click()
        deadline = time.monotonic() + 30
        while GeoPackageStore(store).counts()["areas"] and time.monotonic() < deadline:
            time.sleep(0.3)
        assert GeoPackageStore(store).counts()["areas"] == 0
        assert GeoPackageStore(store).read_audit()["action"].iloc[0] == "ongedaan-maken"

"""The netwerkkaart of a person with 25 people and the community view, in the real app in headless Chromium.

Saves artifacts/netwerkkaart-25.png (the netwerkkaart as the browser shows it) and
artifacts/netwerkkaart-gemeenschap.png, to be looked at by a person.
"""

import time
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest

from data.store import GeoPackageStore
from graphs.ecogram import WIDTH, ecogram_svg
from tests.browser import chromium_page, running_app, wait_until_idle
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

EGO = "K-2500"
ROLES_25 = (["partner", "ouder", "kind", "kind", "familie", "familie"] + ["vriend"] * 5 + ["anders"]
            + ["buur"] * 4 + ["collega", "groepsgenoot", "groepsgenoot", "kerk_vereniging"]
            + ["professional", "professional", "vrijwilliger", "professional", "vrijwilliger"])


def _add_person_with_25(store: GeoPackageStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One person with 25 people in every sector, three of them persons in the data, some who know each other."""
    persons = store.read_table("persons")
    buurt = persons["buurt_code"].mode().iloc[0]
    neighbours = persons.loc[persons["buurt_code"] == buurt, "person_id"].head(3).tolist()
    rng = np.random.default_rng(25)
    n = len(ROLES_25)
    alter_id = [None] * n
    for pos, code in zip((12, 8, 17), neighbours, strict=True):  # a buur, a vriend, a groepsgenoot
        alter_id[pos] = code
    ties = pd.DataFrame({
        "ego_id": EGO, "alter_id": alter_id,
        "alter_key": [None if a else f"a{i + 1}" for i, a in enumerate(alter_id)],
        "role": ROLES_25,
        "support_practical": rng.random(n) < 0.4, "support_emotional": rng.random(n) < 0.45,
        "support_informational": rng.random(n) < 0.3, "support_companionship": rng.random(n) < 0.45,
        "contact_frequency": "wekelijks",
        "closeness": pd.array(rng.choice([1, 2, 3, 0], n, p=[0.3, 0.3, 0.3, 0.1]), dtype="Int64"),
        "reciprocal": None, "same_buurt": None})
    ties.loc[ties["closeness"] == 0, "closeness"] = pd.NA  # a few without a known closeness
    ids = ties["alter_id"].fillna(ties["alter_key"]).tolist()
    pairs = [(0, 1), (0, 2), (0, 3), (2, 3), (1, 4), (4, 5), (6, 7), (7, 8), (8, 9), (12, 13), (13, 14),
             (17, 18), (16, 17), (21, 23)]
    links = pd.DataFrame({"ego_id": EGO, "source": [ids[a] for a, _ in pairs], "target": [ids[b] for _, b in pairs]})
    person = pd.DataFrame([{"person_id": EGO, "buurt_code": buurt, "age_band": "75-84", "consent": True}])
    store.merge_network(person, ties, alter_links=links, user="test", source="browsertest", kind="netwerk-invoer")
    return ties, links


def _choose(page, label: str, value: str) -> None:
    page.locator("[data-testid='stSelectbox']").filter(has_text=label).click()
    page.keyboard.type(value)
    page.get_by_role("option", name=value, exact=True).click()


def test_netwerkkaart_of_25_people_and_the_community_view(chromium, demo_store_file, tmp_path):
    path = tmp_path / "demo.gpkg"
    path.write_bytes(demo_store_file.read_bytes())
    ties, links = _add_person_with_25(GeoPackageStore.open(path, create=False))
    requests: list[str] = []
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with running_app(path) as url, chromium_page(chromium, width=1500, height=1000) as page:
        app_host = urlparse(url).netloc
        page.on("request", lambda req: requests.append(req.url))
        page.goto(f"{url}/netwerken")
        page.get_by_role("tab", name="Ecogram").wait_for(timeout=60_000)
        page.get_by_role("tab", name="Ecogram").click()
        _choose(page, "Persoon (pseudoniem)", EGO)
        image = page.locator("[data-testid='stImage'] img").first
        image.wait_for(timeout=30_000)
        wait_until_idle(page)
        assert image.evaluate("img => img.naturalWidth") == WIDTH
        assert page.get_by_text(f"Netwerkkaart van {EGO}").first.is_visible()
        assert page.get_by_role("button", name="Download (SVG)").is_visible()
        assert page.get_by_role("button", name="Afdrukversie (HTML, A4)").is_visible()
        # The three persons of the data in this map open their own netwerkkaart.
        first = ties["alter_id"].dropna().iloc[0]
        assert page.get_by_role("button", name=first, exact=True).is_visible()
        image.scroll_into_view_if_needed()
        time.sleep(0.5)
        image.screenshot(path=str(artifacts / "netwerkkaart-25.png"))

        # In the same browser: every label's text, as Chromium draws it, fits the box the layout reserved.
        svg = ecogram_svg(ties, alter_links=links, title=f"Netwerkkaart van {EGO}")
        probe = page.context.browser.new_page()
        probe.set_content(f"<!DOCTYPE html><html><body style='margin:0'>{svg}</body></html>")
        overflow = probe.evaluate("""() => [...document.querySelectorAll('rect.label')].map(rect => {
            const box = rect.getBBox(), text = rect.nextElementSibling.getBBox();
            let worst = Math.max(0, box.x - text.x, box.y - text.y - 1, text.y + text.height - box.y - box.height - 1);
            let right = text.x + text.width;
            for (let el = rect.nextElementSibling.nextElementSibling; el && el.tagName !== 'line';
                 el = el.nextElementSibling) {
                const sign = el.getBoundingClientRect();
                worst = Math.max(worst, right - sign.left);  // the text runs into its support signs
                right = sign.right;
            }
            return Math.max(worst, right - box.x - box.width);
        })""")
        assert len(overflow) == 25 and max(overflow) <= 1.0, overflow
        probe.close()

        page.get_by_role("button", name=first, exact=True).click()  # the link to that person
        page.get_by_text(f"Netwerkkaart van {first}").first.wait_for(timeout=30_000)

        page.get_by_role("tab", name="Gemeenschap").click()
        page.get_by_text("Zonder verbinding").first.wait_for(timeout=60_000)
        page.get_by_text("Verbinders", exact=False).first.wait_for(timeout=30_000)  # the tab streams in
        frame = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and frame is None:
            frame = next((f for f in page.frames if f.locator("body[data-fitted='1']").count()), None)
            time.sleep(0.5)
        assert frame is not None, "the community view did not settle and fit"
        assert frame.locator("#legend").is_visible() and "signaal arm netwerk" in frame.locator("#legend").inner_text()
        inside = frame.evaluate("""() => {
            const box = document.getElementById('net').getBoundingClientRect();
            return Object.values(network.getPositions()).every(p => {
                const d = network.canvasToDOM(p);
                return d.x >= -2 && d.y >= -2 && d.x <= box.width + 2 && d.y <= box.height + 2;
            });
        }""")
        assert inside, "the view does not show the whole graph"
        time.sleep(1)
        block = page.locator("[data-testid='stHorizontalBlock']").filter(has=page.locator("iframe")).last
        block.scroll_into_view_if_needed()
        block.screenshot(path=str(artifacts / "netwerkkaart-gemeenschap.png"))
    foreign = {urlparse(u).netloc for u in requests if urlparse(u).scheme in ("http", "https")}
    assert foreign <= {app_host}, [u for u in requests if app_host not in u]

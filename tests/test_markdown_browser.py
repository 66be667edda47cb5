"""Markdown in names from the data, in the real app in a real Chromium: shown as text, never as an image
that the browser fetches from another host or a link to one.

Runs always in CI (CI=true); on a machine without Chromium it skips and says what to install.
"""

import time
from urllib.parse import urlparse

import pytest

from data.store import GeoPackageStore
from tests.browser import chromium_page, map_frame, running_app, wait_until_idle
from tests.test_escaping import MARKDOWN, PASSWORD, markdown_town

pytestmark = pytest.mark.browser

# Elements that point at the host in the hostile text (127.0.0.2), in the page and in every frame (the map).
_FOREIGN = """() => ({
    img: [...document.querySelectorAll('img, source')].filter(e => (e.getAttribute('src') || '').includes('127.0.0.2')
                                                                || (e.getAttribute('srcset') || '').includes('127.0.0.2')).length,
    a: [...document.querySelectorAll('a')].filter(e => (e.getAttribute('href') || '').includes('127.0.0.2')).length,
    katex: document.querySelectorAll('.katex').length,
})"""


def _assert_plain(page, where: str) -> None:
    for frame in page.frames:
        found = frame.evaluate(_FOREIGN)
        assert found == {"img": 0, "a": 0, "katex": 0}, f"{where} ({frame.url}): {found}"


def _shown(locator) -> str:
    """The text as a reader sees it (without the invisible word joiners md() puts into shortcodes and links)."""
    from pages.common import WORD_JOINER

    return locator.inner_text().replace(WORD_JOINER, "")


def test_markdown_in_names_is_text_on_kaart_profiel_and_voorzieningen(chromium, tmp_path):
    path, _pid = markdown_town(tmp_path)
    names = list(GeoPackageStore(path).read_areas("buurt")["name"])
    requests: list[str] = []
    with running_app(path) as url, chromium_page(chromium) as page:
        app_host = urlparse(url).netloc
        page.on("request", lambda req: requests.append(req.url))
        page.goto(url)
        page.get_by_role("heading", name="Aanmelden").wait_for(timeout=60_000)
        form = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Aanmelden"))
        form.get_by_label("Gebruikersnaam", exact=True).fill("beheer")
        form.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Aanmelden").click()

        # Kaart: click the buurt; its name is the heading beside the map and a column of the table.
        frame = map_frame(page)
        time.sleep(1.0)
        frame.locator("path.sk-area").nth(names.index(MARKDOWN)).dispatch_event("click")
        heading = page.locator("h3").filter(has_text="inloggen")
        heading.wait_for(timeout=30_000)
        wait_until_idle(page)
        assert _shown(heading) == MARKDOWN
        assert MARKDOWN in _shown(page.locator("[data-testid='stTable']").first)
        assert f"in Stad {MARKDOWN})" in _shown(page.get_by_text("Valt op").first)
        _assert_plain(page, "Kaart")

        # Profiel: the heading and 'Valt op' with the gemeente's name.
        page.get_by_role("button", name="Volledig profiel openen").click()
        page.get_by_role("heading", name="Profiel").wait_for(timeout=30_000)
        summary = page.get_by_text("Valt op").first
        summary.wait_for(timeout=30_000)
        wait_until_idle(page)
        assert _shown(page.locator("h2").filter(has_text="inloggen")) == MARKDOWN
        assert f"in Stad {MARKDOWN})" in _shown(summary)
        _assert_plain(page, "Profiel")

        # Voorzieningen: the hostile provision is the first, so its delete confirmation is on screen.
        page.get_by_role("link", name="Voorzieningen").click()
        confirm = page.get_by_text("Ja, verwijder")
        confirm.wait_for(timeout=30_000)
        wait_until_idle(page)
        assert _shown(confirm) == f"Ja, verwijder '{MARKDOWN}' definitief"
        _assert_plain(page, "Voorzieningen")
        time.sleep(1.0)  # a request for an image would have gone out by now

    foreign = {urlparse(u).netloc for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert foreign <= {app_host}, [u for u in requests if app_host not in u]

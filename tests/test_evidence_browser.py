"""Issue 16 in a real browser: the evidence report of the demo's Grip & Glans round, opened by a municipality
user (aggregates only) on the page Opvolging. The report renders in its frame with the caveat, the comparison
with the comparison group and the provision's funding, shows no person code, and nothing is requested from any
host but the app's own."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from data import auth
from data.demo import FOLLOWUP_EFFECTS
from graphs.evidence import NOT_BY_LOT
from graphs.outcomes import CAVEAT
from tests.browser import ROOT, chromium_page, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
PERSON_ID = re.compile(r"\bP[0-9a-f]{8}\b")


def _report_frame(page, text: str, timeout_s: float = 60):
    """The frame of the report once it shows ``text``."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame is not page.main_frame and frame.locator("body").count():
                try:
                    if text in frame.locator("body").inner_text(timeout=1000):
                        return frame
                except Exception:  # noqa: BLE001 - a frame that is being replaced
                    continue
        page.wait_for_timeout(500)  # lets Playwright take in the frames that attached meanwhile (time.sleep does not)
    raise TimeoutError(f"no report frame shows {text!r}: " + repr([(f.url, f.locator("body").inner_text()[:300])
                                                                  for f in page.frames]))


def test_evidence_report_of_the_grip_en_glans_round_in_the_browser(chromium, demo_store):
    provisions = demo_store.read_table("provisions").set_index("provision_id")
    gg = provisions.loc[provisions["type"] == "grip_en_glans"]
    measured = set(demo_store.read_table("measurements")["provision_id"])
    pid = next(p for p in gg.index if p in measured)
    assert "grip_en_glans" in FOLLOWUP_EFFECTS  # the demo plants an effect for this round
    persons = set(demo_store.read_table("persons")["person_id"])
    auth.create_user(demo_store, "beheer", "beheerder", [], PASSWORD, by="test")  # the first account is an administrator
    auth.create_user(demo_store, "beleid", "gemeente", [], PASSWORD, by="test")
    with running_app(demo_store.path) as url, chromium_page(chromium) as page:
        elsewhere: list[str] = []
        page.on("request", lambda r: elsewhere.append(r.url)
                if urlparse(r.url).hostname not in ("127.0.0.1", "localhost", None) and not r.url.startswith(
                    ("data:", "about:", "blob:")) else None)
        sign_in(page, url, "opvolging", "beleid", PASSWORD, heading="Opvolging en nazorg")
        page.get_by_role("tab", name="Bewijsrapport").click()
        wait_until_idle(page)
        combo = page.get_by_role("combobox", name="Voorziening")
        combo.click()
        page.get_by_role("option", name=f"{gg.loc[pid, 'name']} ({pid})", exact=True).click()
        wait_until_idle(page)
        try:
            frame = _report_frame(page, str(gg.loc[pid, "name"]))
        finally:
            page.screenshot(path=str(ROOT / "artifacts" / "browser-bewijsrapport.png"), full_page=True)
        text = frame.locator("body").inner_text()
        assert CAVEAT in text and NOT_BY_LOT in text
        assert "vergelijkingsgroep" in text.lower() and "95%-interval" in text
        assert "Financiering" in text or "financiering" in text
        frame.get_by_text(CAVEAT).first.scroll_into_view_if_needed()
        assert frame.get_by_text(CAVEAT).first.is_visible()
        seen = set(PERSON_ID.findall(text + page.locator("body").inner_text())) & persons
        assert not seen, sorted(seen)[:5]
        page.screenshot(path=str(ROOT / "artifacts" / "browser-bewijsrapport.png"), full_page=True)
        assert not elsewhere, elsewhere[:5]

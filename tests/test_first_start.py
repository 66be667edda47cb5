"""A first start that cannot half-happen: the server is killed (SIGKILL) while it builds the demo,
started again, and then shows a working demo in a real browser.

Runs always in CI (CI=true); on a machine without Chromium it skips and says what to install.
"""

import os
import signal
import time
import urllib.request

import pytest

from data.store import GeoPackageStore
from tests.browser import chromium_page, map_frame, start_app, stop_app

pytestmark = pytest.mark.browser


def test_sigkill_during_the_first_start_then_a_working_demo(chromium, tmp_path):
    demo = tmp_path / "var" / "demo.gpkg"
    proc, url = start_app(demo, demo=True)
    try:
        with chromium_page(chromium) as page:
            page.goto(url, wait_until="commit")  # the first session makes the server build the demo
            deadline = time.monotonic() + 90
            while not list(demo.parent.glob(".steunkaart-*")) and time.monotonic() < deadline:
                time.sleep(0.02)
            building = list(demo.parent.glob(".steunkaart-*"))
            assert building, "the server never started building the demo"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            stop_app(proc)
    assert not demo.exists()  # killed while building: no half store under the real name

    proc, url = start_app(demo, demo=True)
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as resp:
            assert resp.status == 200
        with chromium_page(chromium) as page:
            page.goto(url)
            frame = map_frame(page)
            assert frame.locator("path.sk-area").count() == 40
            assert page.get_by_text("Demomodus").first.is_visible()
            assert not page.get_by_text("Eerste gebruik").count()
    finally:
        stop_app(proc)
    store = GeoPackageStore.open(demo, create=False)
    assert store.is_demo and store.counts()["persons"] == 2000

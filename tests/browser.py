"""Start the real app and drive it with headless Debian Chromium (Playwright).

Used by tests/test_browser.py and, as a script, for screenshots:

    .venv/bin/python -m tests.browser --out artifacts/kaart.png [--click]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    """Return the path of a system Chromium, or None."""
    env = os.environ.get("STEUNKAART_CHROMIUM")
    if env and Path(env).exists():
        return env
    for cand in CHROMIUM_CANDIDATES:
        if Path(cand).exists():
            return cand
    found = shutil.which("chromium")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(store: Path, *, port: int | None = None, timeout_s: float = 90,
              demo: bool = False) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run app.py`` on a free port and wait until it is healthy; return (process, URL).

    ``demo``: run as ``make run`` does without an own store (no STEUNKAART_STORE; the demo lives at
    ``store``), otherwise the app uses ``store`` as the municipality's own store.
    """
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k != "STEUNKAART_STORE"}
    env.update({"STEUNKAART_TILES": "geen"} | ({"STEUNKAART_DEMO_STORE": str(store)} if demo
                                              else {"STEUNKAART_STORE": str(store)}))
    store.parent.mkdir(parents=True, exist_ok=True)
    log_path = store.parent / f"streamlit-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("Streamlit did not start:\n" + log_path.read_text())
        time.sleep(0.3)


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def running_app(store: Path, *, port: int | None = None, timeout_s: float = 90, demo: bool = False) -> Iterator[str]:
    """Run ``streamlit run app.py`` on a free port with ``store``; yield the base URL."""
    proc, url = start_app(store, port=port, timeout_s=timeout_s, demo=demo)
    try:
        yield url
    finally:
        stop_app(proc)


@contextlib.contextmanager
def chromium_page(executable: str, *, width: int = 1500, height: int = 950):
    """Yield a Playwright page in headless system Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale="nl-NL")
            yield page
        finally:
            browser.close()


def map_frame(page, timeout_ms: int = 60_000):
    """Return the streamlit-folium iframe once its Leaflet map has drawn its paths."""
    page.wait_for_selector("iframe[title*='st_folium']", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "streamlit_folium" in frame.url and frame.locator(
                    "path.sk-area").count() > 0:
                return frame
        time.sleep(0.3)
    raise TimeoutError("The Leaflet map did not draw any path")


def sign_in(page, url: str, path: str, username: str, password: str, *, heading: str) -> None:
    """Open ``url/path``, sign in on the form that a deep link leads to, and wait for the page's ``heading``."""
    page.goto(f"{url}/{path}")
    page.get_by_role("heading", name="Aanmelden").wait_for(timeout=60_000)
    form = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Aanmelden"))
    form.get_by_label("Gebruikersnaam", exact=True).fill(username)
    form.get_by_label("Wachtwoord", exact=True).fill(password)
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)


def wait_until_idle(page, timeout_s: float = 90) -> None:
    """Wait until the script run is over (Streamlit's 'running' status widget has gone)."""
    deadline = time.monotonic() + timeout_s
    time.sleep(1)
    while time.monotonic() < deadline:
        if page.locator("[data-testid='stStatusWidget']").count() == 0:
            return
        time.sleep(0.3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot van de draaiende Steunkaart-app")
    parser.add_argument("--out", default="artifacts/kaart.png")
    parser.add_argument("--store", default=None, help="opslag (standaard: tijdelijke demo-opslag)")
    parser.add_argument("--click", action="store_true", help="klik eerst op een buurt")
    parser.add_argument("--page", default="", help="pad van de pagina, bijv. 'over'")
    args = parser.parse_args(argv)
    exe = chromium_path()
    if exe is None:
        print("Chromium niet gevonden: installeer het met 'apt-get install chromium'.", file=sys.stderr)
        return 2
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(args.store) if args.store else Path(tmp) / "demo.gpkg"
        if not args.store:  # the demo as `make run` starts it (signed in automatically)
            from data.demo import write_demo_store

            write_demo_store(store)
        with running_app(store, demo=not args.store) as url, chromium_page(exe) as page:
            page.goto(f"{url}/{args.page}")
            page.get_by_role("link", name="Kaart", exact=True).wait_for(timeout=60_000)
            page.locator("h1").first.wait_for(timeout=60_000)
            wait_until_idle(page)
            time.sleep(3)  # let tables and charts finish drawing
            if not args.page:
                frame = map_frame(page)
                if args.click:
                    frame.locator("path.sk-area").nth(5).dispatch_event("click")
                    page.wait_for_selector("h3", timeout=30_000)
                    time.sleep(2)
            time.sleep(2)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out, full_page=True)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

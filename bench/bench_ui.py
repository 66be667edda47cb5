"""Benchmark: the Kaart page in a real headless Chromium, measured on what the user sees change.

(a) klik: a click on a buurt until the side panel's heading shows that buurt;
(b) eerste kaart: opening the page again on a warm server until the Leaflet SVG paths exist;
(c) kerncijfer wisselen: choosing another figure until the map is drawn again with the new legend.

Each is timed with DOM changes (Playwright ``wait_for_function`` / ``wait_for_selector``), never with a
fixed sleep; one warm-up, then at least five runs; the median is printed. First the demo (``make run``
mode, signed in automatically), then, when ../shared/realdata exists, Zaanstad 2017 imported into a
temporary store of its own (with sign-in: its "eerste kaart" counts from the sign-in button).

Run by hand: ``.venv/bin/python bench/bench_ui.py [--runs 5]``. The last three lines are the demo's
medians: ``klik: 0,31 s``, ``eerste kaart: 1,20 s``, ``kerncijfer wisselen: 0,90 s``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data import auth  # noqa: E402
from data.formatting import format_number  # noqa: E402
from data.indicators import BY_NAME  # noqa: E402
from data.store import GeoPackageStore  # noqa: E402
from tests.browser import CHROMIUM_ARGS, chromium_path, start_app, stop_app  # noqa: E402

REALDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "realdata"
PASSWORD = "een lang wachtwoord voor de benchmark"
FIGURES = ("percentage_verweduwd", "percentage_eenpersoonshuishoudens", "percentage_personen_65_jaar_en_ouder")
MAP_IFRAME = "iframe[title*='st_folium']"
TIMEOUT_MS = 120_000

# The main map's document and whether it has drawn its areas (the component iframe is same-origin).
_MAP_DRAWN = """([oldDoc, title]) => {
    const frame = document.querySelector("iframe[title*='st_folium']");
    const doc = frame && frame.contentDocument;
    if (!doc || doc === oldDoc || doc.querySelectorAll('path.sk-area').length === 0) { return false; }
    if (title === null) { return true; }
    return [...document.querySelectorAll("[data-testid='stHtml']")].some(e => e.textContent.includes(title));
}"""
_HEADING = """(name) => [...document.querySelectorAll('h3')].some(h => h.textContent.trim() === name)"""


def seconds(value: float) -> str:
    return f"{format_number(value, 2)} s"


def idle(page) -> None:
    """Until Streamlit's 'running' indicator has gone (between measurements, not inside one)."""
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=TIMEOUT_MS)


def map_document(page):
    return page.evaluate_handle(f"() => document.querySelector(\"{MAP_IFRAME}\").contentDocument")


def wait_map(page, old=None, title: str | None = None) -> None:
    page.wait_for_function(_MAP_DRAWN, arg=[old, title], timeout=TIMEOUT_MS, polling="raf")


def unique_names(store: Path) -> list[tuple[int, str]]:
    """(index of the SVG path, name) of the buurten whose name is unique and that have inhabitants."""
    areas = GeoPackageStore(store).read_areas("buurt")
    counts = areas["name"].value_counts()
    keep = areas["name"].map(counts).eq(1) & areas.get("aantal_inwoners", 1).fillna(0).gt(0)
    return [(int(i), str(n)) for i, n in zip(areas.index[keep], areas.loc[keep, "name"], strict=True)]


def measure(page, url: str, store: Path, runs: int, *, sign_in: bool) -> dict[str, list[float]]:
    """The three measurements on one running app; returns the run times in seconds (warm-ups left out)."""

    def open_page() -> float:
        page.goto("about:blank")
        start = time.perf_counter()
        page.goto(url)
        if sign_in:
            page.get_by_role("heading", name="Aanmelden").wait_for(timeout=TIMEOUT_MS)
            form = page.locator("[data-testid='stForm']")
            form.get_by_label("Gebruikersnaam", exact=True).fill("beheer")
            form.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
            start = time.perf_counter()
            page.get_by_role("button", name="Aanmelden").click()
        wait_map(page)
        return time.perf_counter() - start

    results: dict[str, list[float]] = {"klik": [], "eerste kaart": [], "kerncijfer wisselen": []}
    open_page()  # the cold start: builds the caches
    idle(page)
    for run in range(runs + 1):
        elapsed = open_page()
        idle(page)
        if run:
            results["eerste kaart"].append(elapsed)

    names = unique_names(store)
    step = max(1, len(names) // (runs + 2))
    for run in range(runs + 1):
        index, name = names[(run * step + 1) % len(names)]
        frame = page.frame_locator(MAP_IFRAME).first
        path = frame.locator("path.sk-area").nth(index)
        start = time.perf_counter()
        path.dispatch_event("click")
        page.wait_for_function(_HEADING, arg=name, timeout=TIMEOUT_MS, polling="raf")
        elapsed = time.perf_counter() - start
        idle(page)
        if run:
            results["klik"].append(elapsed)

    combo = page.get_by_role("combobox", name="Kerncijfer")
    order = [FIGURES[i % len(FIGURES)] for i in range(len(FIGURES) + runs)]  # one warm-up round per figure
    for run, figure in enumerate(order):
        label = BY_NAME[figure].label
        old = map_document(page)
        combo.click()
        option = page.get_by_role("option", name=label, exact=True)
        option.wait_for(timeout=TIMEOUT_MS)
        start = time.perf_counter()
        option.click()
        wait_map(page, old, label)
        elapsed = time.perf_counter() - start
        idle(page)
        if run >= len(FIGURES):
            results["kerncijfer wisselen"].append(elapsed)
    return results


def zaanstad_store(folder: Path) -> Path | None:
    """Zaanstad 2017 (buurten and wijken) in a new store of its own, with one account; None without realdata."""
    files = [REALDATA / "zaanstad_buurten_2017.geojson", REALDATA / "zaanstad_wijken_2017.geojson"]
    if not all(f.exists() for f in files):
        return None
    from data.area_import import read_area_file

    path = folder / "zaanstad.gpkg"
    store = GeoPackageStore.create_new(path)
    for file in files:
        imported = read_area_file(file)
        store.merge_area_data(imported.areas, imported.values, user="bench", file_name=file.name)
    auth.create_user(store, "beheer", "beheerder", [], PASSWORD, by="bench")
    return path


def run_app(executable: str, store: Path, runs: int, *, demo: bool) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    proc, url = start_app(store, demo=demo)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1500, "height": 950}, locale="nl-NL")
                return measure(page, url, store, runs, sign_in=not demo)
            finally:
                browser.close()
    finally:
        stop_app(proc)


def summary(results: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(times) for name, times in results.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Meet de Kaart-pagina in een echte browser")
    parser.add_argument("--runs", type=int, default=5, help="metingen per soort (minstens 5)")
    args = parser.parse_args(argv)
    runs = max(5, args.runs)
    executable = chromium_path()
    if executable is None:
        print("Chromium niet gevonden: installeer het met 'apt-get install chromium'.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        town = zaanstad_store(Path(tmp))
        if town is not None:
            n = len(GeoPackageStore(town).read_areas("buurt"))
            results = run_app(executable, town, runs, demo=False)
            for name, value in summary(results).items():
                extra = " (vanaf de knop Aanmelden)" if name == "eerste kaart" else ""
                runs_text = ", ".join(format_number(t, 2) for t in results[name])
                print(f"Zaanstad 2017 ({n} buurten) {name}{extra}: {seconds(value)} [{runs_text}]")
        else:
            print("Zaanstad 2017 overgeslagen: ../shared/realdata ontbreekt.")
        demo = Path(tmp) / "demo" / "demo.gpkg"
        results = run_app(executable, demo, runs, demo=True)
        for name, times in results.items():
            print(f"demo {name}, {len(times)} metingen: " + ", ".join(format_number(t, 2) for t in times))
        medians = summary(results)
    print(f"klik: {seconds(medians['klik'])}")
    print(f"eerste kaart: {seconds(medians['eerste kaart'])}")
    print(f"kerncijfer wisselen: {seconds(medians['kerncijfer wisselen'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

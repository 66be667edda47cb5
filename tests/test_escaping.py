"""Hostile text from the data reaches the browser only as text: never markup, never script.

Every function that writes HTML, SVG or JavaScript for the browser or for a download gets the same
hostile names. The output is parsed (html.parser, xml.etree) and compared with the output for a
benign name: the hostile text may add no element, no attribute and no ``<script>`` end, and the text a
browser shows (after innerHTML or innerText) must be the original string, escaped exactly once, so
``&`` and unicode stay readable and ``{{7*7}}`` is never evaluated to 49.
"""

from __future__ import annotations

import csv
import functools
import html
import http.server
import io
import json
import os
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data import auth
from data.profile import area_profile, profile_to_excel, profile_to_html
from data.provisions import provisions_to_csv, provisions_to_excel
from graphs.community import community_graph, community_html, community_summary
from graphs.ecogram import ecogram_svg
from mapping.choropleth import choropleth_map
from mapping.gap_report import build_gap_report, report_to_excel
from mapping.gaps import gaps_from_need_and_supply
from mapping.provisions import provisions_near
from tests.browser import CHROMIUM_ARGS, chromium_path
from tests.conftest import in_ci

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(2)</script>",
    "' onmouseover='alert(3)",
    "{{7*7}}",
    "{% if x %}{# a",  # would break folium's second Jinja pass (TemplateSyntaxError)
    "Ruïne & Co «test»",
    "<!--<script>",  # in a script this would hide the element's end from the HTML parser
]
IDS = ["script", "img-onerror", "close-script", "attr-quote", "template", "template-syntax", "amp-unicode", "comment"]
BENIGN = "Gewone naam"
hostile = pytest.mark.parametrize("text", HOSTILE, ids=IDS)
_DECODER = json.JSONDecoder()


# --------------------------------------------------------------------------- helpers


class _Tree(HTMLParser):
    """Start tags with their attributes, shown text and <script> bodies of a page or fragment."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    @property
    def shape(self) -> tuple[Counter, Counter]:
        return (Counter(tag for tag, _ in self.tags),
                Counter((tag, name) for tag, attrs in self.tags for name, _ in attrs))

    @property
    def handlers(self) -> list[tuple[str, str]]:
        return [(tag, name) for tag, attrs in self.tags for name, _ in attrs if name.startswith("on")]


def _is_markup(text: str) -> bool:
    return any(c in text for c in "<>\"'")


def _assert_same_page(page: str, benign: str, text: str) -> None:
    """The hostile page has exactly the elements, attributes and script boundaries of the benign one."""
    tree, ref = _Tree(page), _Tree(benign)
    assert tree.shape == ref.shape, "the text added or removed elements or attributes"
    assert tree.handlers == ref.handlers == []
    for marker in ("<script", "</script", "<!--", "<img"):
        assert page.lower().count(marker) == benign.lower().count(marker), marker
    assert not any("<!--" in body or "</script" in body.lower() for body in tree.scripts)
    if _is_markup(text):
        assert text not in page, "the hostile text appears unescaped"


def _shown(fragment: str, allowed: set[str]) -> str:
    """The text a browser shows for ``fragment`` set as innerHTML; fails on any unexpected element."""
    tree = _Tree(fragment)
    assert {tag for tag, _ in tree.tags} <= allowed, tree.tags
    assert not tree.handlers and not tree.scripts
    return "".join(tree.text)


def _geojson(page: str) -> dict[str, dict]:
    """GeoJSON data per folium layer, decoded as the browser does."""
    return {m.group(1): _DECODER.raw_decode(page, m.end())[0]
            for m in re.finditer(r"(geo_json_\w+)_add\((?=\{)", page)}


def _details(page: str):
    """(layer, 'Tooltip'/'Popup', fields, aliases) for every GeoJsonTooltip and GeoJsonPopup."""
    for m in re.finditer(r"(geo_json_\w+)\.bind(Tooltip|Popup)\(", page):
        start = page.index("let fields = ", m.end()) + len("let fields = ")
        fields, end = _DECODER.raw_decode(page, start)
        start = page.index("let aliases = ", end) + len("let aliases = ")
        aliases, _ = _DECODER.raw_decode(page, start)
        yield m.group(1), m.group(2), fields, aliases


def _detail_texts(page: str, kind: str) -> list[str]:
    """Every tooltip or popup as shown: folium's template (innerHTML of a table) applied to each feature."""
    data = _geojson(page)
    shown = []
    for layer, detail, fields, aliases in _details(page):
        if detail != kind:
            continue
        for feature in data[layer]["features"]:
            props = feature["properties"]
            rows = "".join(
                f"<tr><th>{alias}</th><td>{'' if props.get(f) is None else props[f]}</td></tr>"
                for f, alias in zip(fields, aliases, strict=True)
            )
            shown.append(_shown(f"<table>{rows}</table>", {"table", "tr", "th", "td"}))
    return shown


def _legend_text(page: str) -> str:
    start = page.index("div.innerHTML = ") + len("div.innerHTML = ")
    legend, _ = _DECODER.raw_decode(page, start)
    return _shown(legend, {"div", "span"})


def _overlay_names(page: str) -> list[str]:
    """Layer control entries as shown (Leaflet puts each name into innerHTML)."""
    keys = re.findall(r'^\s*("(?:[^"\\]|\\.)*")\s*:\s*(?:geo_json|feature_group)_\w+,\s*$', page, flags=re.M)
    return [_shown(json.loads(k), {"span"}) for k in keys]


# --------------------------------------------------------------------------- inputs


def _areas(text: str) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Four 1 km squares; the second has the text as name, the third as code, the fourth as status."""
    geoms = [shapely.box(150_000 + i * 1000, 450_000, 151_000 + i * 1000, 451_000) for i in range(4)]
    areas = gpd.GeoDataFrame(
        {"area_code": ["BU01", "BU02", text, "BU04"], "name": ["Noord", text, "Zuid", "West"],
         "waarde": [10.0, 20.0, 30.0, np.nan]},
        geometry=geoms, crs=28992,
    )
    return areas, pd.Series([None, None, None, text], index=areas.index)


def _choropleth(text: str) -> str:
    areas, status = _areas(text)
    m = choropleth_map(areas, "waarde", label=f"Label {text}", unit=text, level_label=f"Niveau {text}",
                       status=status, selected_code=text)
    return m.get_root().render()


def _provisions(demo, text: str) -> gpd.GeoDataFrame:
    """Four demo provisions; every free-text field of the first and the type of the second is hostile."""
    prov = demo.provisions.iloc[:4].copy()
    first, second = prov.index[:2]
    for col in ("name", "organisation", "contact", "notes", "capacity_unit", "funding_source", "evidence_label"):
        prov[col] = prov[col].astype(object)
        prov.loc[first, col] = text
    prov.loc[first, "status"] = "onder_druk"
    prov.loc[second, "type"] = text  # not in the catalogue: its code becomes its label
    return prov


def _provision_map(demo, text: str) -> str:
    areas, _ = _areas(BENIGN)
    m = choropleth_map(areas, "waarde", label="Waarde", provisions=_provisions(demo, text))
    return m.get_root().render()


def _community(text: str) -> str:
    persons = pd.DataFrame({"person_id": [text, "P2", "P3", "P4"]})
    ties = pd.DataFrame({"ego_id": [text, "P2"], "alter_id": ["P2", "P3"]})
    provisions = pd.DataFrame({"provision_id": ["V1", text], "name": [text, f"Groep {text}"],
                               "type": ["grip_en_glans", text]})
    participation = pd.DataFrame({"person_id": ["P3", "P4", text], "provision_id": ["V1", "V1", text]})
    graph = community_graph(persons, ties, participation, provisions)
    return community_html(graph, community_summary(graph), signalled={text},
                          provision_names=dict(zip(provisions["provision_id"], provisions["name"], strict=True)),
                          provision_types=dict(zip(provisions["provision_id"], provisions["type"], strict=True)),
                          vis_base="vis")


def _ecogram(demo, text: str) -> str:
    ties = demo.ties.loc[demo.ties["ego_id"] == demo.ties["ego_id"].iloc[0]].copy()
    ties["alter_key"] = text
    ties.loc[ties.index[0], "role"] = text
    return ecogram_svg(ties, title=f"Ecogram van {text}")


def _profile(text: str):
    """The profile of a buurt named ``text`` in wijk and gemeente named after it, with a hostile provision."""
    areas = pd.DataFrame({
        "area_code": ["GM0001", "WK000101", "BU00010101", "BU00010102", "BU00010103"],
        "name": [f"Stad {text}", f"Wijk {text}", "Een", "Twee", text],
        "level": ["gemeente", "wijk", "buurt", "buurt", "buurt"],
        "wijk_code": [None, None, "WK000101", "WK000101", "WK000101"],
        "gemeente_code": ["GM0001"] * 5,
        "water": [False] * 5,
    })
    rows = []
    for code, p65 in [("BU00010101", 10), ("BU00010102", 20), ("BU00010103", 30), ("WK000101", 20),
                      ("GM0001", 20)]:
        rows += [{"area_code": code, "indicator": "aantal_inwoners", "year": 2024, "value": 100, "status": None},
                 {"area_code": code, "indicator": "percentage_personen_65_jaar_en_ouder", "year": 2024,
                  "value": p65, "status": None}]
    values = pd.DataFrame(rows).assign(lower=np.nan, upper=np.nan)
    prov = gpd.GeoDataFrame(
        {"name": [text], "type": [text], "status": [text], "reach_m": [500.0], "capacity_per_year": [10],
         "funding_end": [pd.Timestamp("2027-01-01")]},
        geometry=[shapely.Point(0, 0)], crs=28992,
    )
    near = provisions_near(prov, shapely.box(-10, -10, 10, 10))
    return area_profile(values, areas, "BU00010103", provisions=near)


def _profile_page(text: str) -> str:
    return profile_to_html(_profile(text), generated=pd.Timestamp("2026-01-01"))


# --------------------------------------------------------------------------- choropleth


@hostile
def test_choropleth_tooltip_legend_and_data_are_escaped(text):
    page, benign = _choropleth(text), _choropleth(BENIGN)
    _assert_same_page(page, benign, text)
    tooltips = _detail_texts(page, "Tooltip")
    assert len(tooltips) == 4
    assert tooltips[1] == f"Niveau {text}{text}Label {text}20 {text}"  # level, area name, label, value + unit
    assert tooltips[3].endswith(text)  # the status of a missing value
    assert tooltips[0].endswith(f"10 {text}")  # the unit
    features = _geojson(page)
    codes = [f["properties"]["code"] for layer in features.values() for f in layer["features"]]
    assert html.unescape(codes[2]) == text  # script-safe in the page; braces only as character references
    legend = _legend_text(page)
    assert legend.startswith(f"Label {text}") and f"24 – 30 {text}" in legend


_SSTI = "{{ cycler.__init__.__globals__.os.getpid() }}"


def test_map_text_is_never_evaluated_on_the_server(demo):
    """folium/branca compile every rendered script once more as a Jinja template: data must not reach it."""
    areas, status = _areas(_SSTI)
    m = choropleth_map(areas, "waarde", label=_SSTI, unit=_SSTI, level_label=_SSTI, status=status,
                       provisions=_provisions(demo, _SSTI))
    page = m.get_root().render()
    tooltips, popups = _detail_texts(page, "Tooltip"), _detail_texts(page, "Popup")
    legend, overlays = _legend_text(page), _overlay_names(page)
    assert sum(_SSTI in t for t in tooltips) == 4 + 1  # every area (label), the hostile provision (name)
    assert any(t.startswith(f"Naam{_SSTI}") for t in popups)
    assert legend.startswith(_SSTI) and overlays[0] == _SSTI
    assert str(os.getpid()) not in "".join([*tooltips, *popups, legend, *overlays])


# --------------------------------------------------------------------------- provisions


@hostile
def test_provision_popup_tooltip_and_layer_names_are_escaped(demo, text):
    page, benign = _provision_map(demo, text), _provision_map(demo, BENIGN)
    _assert_same_page(page, benign, text)
    popups = _detail_texts(page, "Popup")
    tooltips = _detail_texts(page, "Tooltip")
    assert len(popups) == 4 and len(tooltips) == 4 + 4  # the provisions' and the areas' tooltips
    popup = next(p for p in popups if p.startswith(f"Naam{text}"))
    assert f"Organisatie{text}" in popup and f"{text}Bereik" in popup  # capacity unit before 'Bereik'
    assert f"{text}Statusonder druk" in tooltips
    assert any(f"Soort{text}Status" in p for p in popups)  # an unknown type shows its code
    # Contact and notes are not shown; they may not leak unescaped either (checked page-wide above).
    overlays = _overlay_names(page)
    assert any(name.startswith(f"● {text} (") for name in overlays), overlays


# --------------------------------------------------------------------------- community network


@hostile
def test_community_network_shows_names_as_plain_text(text):
    page, benign = _community(text), _community(BENIGN)
    _assert_same_page(page, benign, text)
    start = page.index("const data = ") + len("const data = ")
    data, end = _DECODER.raw_decode(page, start)
    assert not set("<>&'") & set(page[start:end]), "data-derived text must not put <, >, & or quote into the script"
    nodes = {n["id"]: n for n in data["nodes"]}
    # vis-network 9 shows a string title with innerText and draws labels on a canvas: plain text.
    assert nodes["V:V1"]["label"] == nodes["V:V1"]["title"] == text
    assert nodes[f"V:{text}"]["label"] == f"Groep {text}"
    assert nodes[text]["title"].startswith(text) and "signaal arm netwerk" in nodes[text]["title"]
    assert {(e["from"], e["to"]) for e in data["edges"]} >= {(text, "P2"), ("P3", "V:V1"), (text, f"V:{text}")}


# --------------------------------------------------------------------------- ecogram

_SVG = "{http://www.w3.org/2000/svg}"


@hostile
def test_ecogram_svg_is_well_formed_and_inert(demo, text):
    svg, benign = _ecogram(demo, text), _ecogram(demo, BENIGN)
    root, ref = ET.fromstring(svg), ET.fromstring(benign)  # raises on anything not well-formed
    assert [el.tag for el in root.iter()] == [el.tag for el in ref.iter()]
    assert {el.tag.removeprefix(_SVG) for el in root.iter()} <= {"svg", "rect", "circle", "line", "text"}
    assert not [name for el in root.iter() for name in el.attrib if name.lower().startswith("on")]
    assert root.get("aria-label") == f"Ecogram van {text}"
    assert text in [el.text for el in root.iter(f"{_SVG}text")]  # the unknown role, as written
    if _is_markup(text):
        assert text not in svg


# --------------------------------------------------------------------------- profile report


@hostile
def test_profile_report_is_escaped(text):
    page, benign = _profile_page(text), _profile_page(BENIGN)
    _assert_same_page(page, benign, text)
    shown = _Tree(page).text  # one item per run of text between tags
    assert f"Profiel {text}" in shown  # <title>
    assert f"Buurt {text} (BU00010103)" in shown  # <h1>
    assert {f"Wijk {text}", f"Stad {text}"} <= set(shown)  # table header
    assert any(f"in Stad {text})" in s for s in shown)  # the summary names the gemeente
    assert shown.count(text) == 4  # buurt header; provision name, type and status


# --------------------------------------------------------------------------- spreadsheet exports
# A spreadsheet evaluates text that starts with = + - @ (also after a tab or CR) as a formula. Every CSV
# and Excel export must write such text as text: in Excel a string cell (never data type 'f') that
# reads back as the exact text, in CSV with a single quote in front.

FORMULAS = ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://evil","x")']
FORMULA_IDS = ["equals", "plus", "minus", "at", "tab", "cr", "hyperlink"]
formula = pytest.mark.parametrize("text", FORMULAS, ids=FORMULA_IDS)
_NUMBER = re.compile(r"-\d+(,\d+)?")  # a negative number in a Dutch CSV: a number, not a formula


def _assert_xlsx_text(data: bytes, text: str) -> int:
    """No cell of the workbook is a formula and ``text`` reads back exactly; returns how many cells hold it."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [f"{c.parent.title}!{c.coordinate}" for c in cells if c.data_type == "f"]
    # XML keeps a CR only as Excel's own escape, which Excel (and our import) decodes: that is the exact text.
    stored = text.replace("\r", "_x000D_")
    hits = [c for c in cells if c.value == stored]
    assert hits, f"{text!r} is not in any cell"
    assert {c.data_type for c in hits} == {"s"}
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith("=") and c.data_type != "s"]
    return len(hits)


def _assert_csv_marked(data: bytes, text: str) -> int:
    """No CSV cell starts like a formula unless it is a negative number; returns how many hold ``'text``."""
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    cells = [cell for row in rows for cell in row]
    assert len({len(row) for row in rows}) == 1, "the text broke the rows apart"
    evaluated = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(c)]
    assert not evaluated, evaluated
    hits = cells.count("'" + text)
    assert hits, f"{text!r} is not in any cell"
    return hits


def _gap_report(text: str):
    """Two buurten, one named ``text``; the need formula is ``text`` too."""
    buurten = gpd.GeoDataFrame({
        "area_code": ["BU00010000", "BU00010001"], "name": [text, "Midden"],
        "aantal_inwoners": [1000.0, 1000.0], "percentage_verweduwd": [40.0, 25.0], "water": False,
    }, geometry=[shapely.box(k * 1000, 0, (k + 1) * 1000, 1000) for k in range(2)], crs=28992)
    provisions = gpd.GeoDataFrame({
        "provision_id": ["V1"], "name": [text], "type": ["bezoekdienst_weduwen"], "status": ["actief"],
        "capacity_per_year": [10], "reach_m": [1500.0],
    }, geometry=[shapely.Point(500, 500)], crs=28992)
    gaps = gaps_from_need_and_supply(buurten, provisions, types=["bezoekdienst_weduwen"])
    return build_gap_report(buurten, gaps, scope="Testgemeente", type_label="Bezoekdienst", formula=text)


@formula
def test_profile_excel_writes_formulas_as_text(text):
    data = profile_to_excel(_profile(text))
    # the buurt's name in the Gebied cell of its two Profiel rows; provision name, type, status
    assert _assert_xlsx_text(data, text) == 2 + 3


@formula
def test_provision_exports_write_formulas_as_text(demo, text):
    provisions = _provisions(demo, text)
    # name, organisation, contact, notes, capacity unit, funding source, evidence label; the second's type
    assert _assert_xlsx_text(provisions_to_excel(provisions), text) == 7 + 1
    assert _assert_csv_marked(provisions_to_csv(provisions), text) == 7 + 1


@formula
def test_gap_report_excel_writes_formulas_as_text(text):
    assert _assert_xlsx_text(report_to_excel(_gap_report(text)), text) == 2  # the buurt's name; the formula


@pytest.fixture(scope="module")
def cli_exports(tmp_path_factory):
    """The CSV files of the command line for a store where each hostile text is a buurt's name, a
    provision's name, a person's code and the label of an anonymous contact."""
    from shapely.geometry import box

    from cli import main
    from data.store import GeoPackageStore

    folder = tmp_path_factory.mktemp("cli_exports")
    store = GeoPackageStore.open(folder / "vijandig.gpkg")
    codes = [f"BU000101{k:02d}" for k in range(len(FORMULAS))]
    buurten = gpd.GeoDataFrame(
        {"area_code": codes, "name": FORMULAS, "level": "buurt", "gemeente_code": "GM0001", "wijk_code": "WK000101"},
        geometry=[box(k * 1000 - 100, -100, k * 1000 + 100, 100) for k in range(len(codes))], crs=28992)
    provisions = gpd.GeoDataFrame(
        {"provision_id": [f"V{k}" for k in range(len(codes))], "name": FORMULAS, "type": "grip_en_glans",
         "reach_m": 1500.0, "capacity_per_year": 10, "status": "actief"},
        geometry=gpd.points_from_xy(np.arange(len(codes)) * 1000.0, np.zeros(len(codes))), crs=28992)
    persons = pd.DataFrame({"person_id": [*FORMULAS, "EGO-1"], "buurt_code": [*codes, codes[0]], "consent": 1})
    # EGO-1 has friends for emotional and practical support: no signal, so only the hostile persons are matched.
    ties = pd.DataFrame({"ego_id": "EGO-1", "alter_key": FORMULAS, "role": "vriend", "support_emotional": True,
                         "support_practical": True})
    store.replace_tables({"areas": buurten, "provisions": provisions, "persons": persons, "ties": ties},
                         user="test", action="test")
    files = {"types": len(store.read_provision_types())}
    for command in ("gaps", "signals", "match", "export-network"):
        out = folder / f"{command}.csv"
        assert main([command, "--store", str(store.path), "--out", str(out)]) == 0
        files[command] = out.read_bytes()
    return files


@formula
@pytest.mark.parametrize("command", ["gaps", "signals", "match", "export-network"])
def test_cli_csv_marks_formulas_as_text(cli_exports, text, command):
    # gaps: the buurt's name, once per provision type; signals: the person; match: the person and the
    # provision proposed to them (in their own buurt); export-network: the contact's label
    cells = {"gaps": cli_exports["types"], "signals": 1, "match": 2, "export-network": 1}[command]
    assert _assert_csv_marked(cli_exports[command], text) == cells


@pytest.fixture(scope="module")
def audit_export(demo_store_file, tmp_path_factory):
    """The logboek page's CSV download, for a store whose audit log has each hostile text as user and target."""
    import shutil

    import streamlit
    from streamlit.testing.v1 import AppTest

    from data.auth import User
    from data.store import GeoPackageStore

    path = tmp_path_factory.mktemp("audit") / "demo.gpkg"
    shutil.copyfile(demo_store_file, path)
    store = GeoPackageStore.open(path, create=False)
    auth.create_user(store, "beheer", "beheerder", (), "correct horse battery", by="test")
    for text in FORMULAS:
        store.log(text, "export-test", text, {"tekst": text})
    offered = {}
    original = streamlit.download_button

    def capture(label, data, *args, **kwargs):
        offered[label] = data
        return original(label, data, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEUNKAART_STORE", str(path))
        patch.setattr(streamlit, "download_button", capture)
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=90)
        at.session_state["sk_user"] = User("beheer", "beheerder")
        at.run()
        at.switch_page("pages/logboek.py").run()
        assert not at.exception, at.exception
    return offered["Exporteren (CSV voor Excel)"]


@formula
def test_audit_log_csv_marks_formulas_as_text(audit_export, text):
    assert _assert_csv_marked(audit_export, text) == 2  # who ('Wie') and on what ('Waarop')


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser():
    exe = chromium_path()
    if exe is None:
        if in_ci():
            pytest.fail("Chromium ontbreekt in CI: .ci/run hoort 'apt-get install chromium' te doen.")
        pytest.skip("Chromium niet gevonden: installeer het met 'sudo apt-get install chromium'.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A local web server for pages next to the app's static files (as /app/static/...)."""
    from mapping.assets import ensure_static_assets

    root = tmp_path_factory.mktemp("site")
    ensure_static_assets(root / "app" / "static")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _open(browser, site, name: str, page_html: str):
    root, url = site
    (root / name).write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}/{name}")
    return page, dialogs


@pytest.mark.browser
@hostile
def test_browser_map_shows_hostile_text_as_text(browser, site, demo, text):
    areas, status = _areas(text)
    m = choropleth_map(areas, "waarde", label=f"Label {text}", unit=text, status=status,
                       provisions=_provisions(demo, text))
    page_html = m.get_root().render()
    page, dialogs = _open(browser, site, f"map-{IDS[HOSTILE.index(text)]}.html", page_html)
    try:
        page.wait_for_selector("path.sk-area", state="attached", timeout=30_000)
        page.locator("path.sk-area").nth(1).dispatch_event("mouseover")
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.wait_for(timeout=5_000)
        assert text in tooltip.inner_text()
        assert page.locator(".sk-legend").inner_text().startswith(f"Label {text}")
        assert any(text in t for t in page.locator(".leaflet-control-layers-overlays label").all_text_contents())
        markers = page.locator("path.sk-provision")
        found = False
        for i in range(markers.count()):
            markers.nth(i).dispatch_event("click")
            popup = page.locator(".leaflet-popup-content")
            popup.wait_for(timeout=5_000)
            if f"Organisatie\t{text}" in popup.inner_text():
                found = True
                break
        assert found, "no popup showed the hostile name and organisation"
        assert page.evaluate("document.querySelectorAll('img, [onerror], [onmouseover]').length") == 0
        assert page.evaluate("document.scripts.length") == _Tree(page_html).shape[0]["script"]
    finally:
        page.close()
    assert dialogs == []


@pytest.mark.browser
@hostile
def test_browser_community_tooltip_is_readable_text(browser, site, text):
    page_html = _community(text).replace('"vis/', '"/app/static/vis/')
    page, dialogs = _open(browser, site, f"net-{IDS[HOSTILE.index(text)]}.html", page_html)
    try:
        page.wait_for_function("() => typeof network !== 'undefined' && network.physics.options.enabled === false",
                               timeout=30_000)
        time.sleep(0.3)
        tooltip = "document.querySelector('.vis-tooltip')"
        for node, suffix in (("V:V1", ""), (text, " · signaal arm netwerk")):
            page.mouse.move(2, 2)
            page.wait_for_function(f"() => !{tooltip} || {tooltip}.style.visibility !== 'visible'", timeout=5_000)
            point = page.evaluate(
                """id => { const p = network.canvasToDOM(network.getPositions([id])[id]);
                           const r = document.querySelector('#net canvas').getBoundingClientRect();
                           return [r.left + p.x, r.top + p.y]; }""", node)
            page.mouse.move(*point)
            page.wait_for_function(f"() => {tooltip} && {tooltip}.style.visibility === 'visible'", timeout=5_000)
            shown = page.evaluate(f"{tooltip}.innerText")
            assert shown.startswith(text) and shown.endswith(suffix), shown  # innerText: exactly the name
        assert page.evaluate("document.querySelectorAll('img, [onerror], [onmouseover]').length") == 0
        assert page.evaluate("document.scripts.length") == 2
    finally:
        page.close()
    assert dialogs == []


# --------------------------------------------------------------------------- Markdown in the app
# Streamlit renders Markdown in headings, captions, alerts, metrics, st.table, image captions and the labels of
# checkboxes, buttons, radio options, tabs and expanders (not in selectbox/multiselect options or dataframes).
# A name from the data must show there as written: no image (a request to another host), no link, no formula,
# no icon, no bold.

MARKDOWN = "![t](http://127.0.0.2:9/p.png) [inloggen](http://127.0.0.2:9/x) $x^2$ :material/warning: **vet**"
SCENARIO = "![t](http://127.0.0.2:9/p.png) [s](http://127.0.0.2:9/x) $x^2$ **vet**"  # 80 characters at most
MARKUP = ("![", "](http", "[inloggen]", "$x^2$", ":material/warning:", "**vet**")  # what Markdown would act on
PASSWORD = "correct horse battery"
# Elements whose texts are not Markdown: option lists, inputs, tables, code, charts, components (the map is
# checked above, as HTML).
_PLAIN_TEXT = {"selectbox", "multiselect", "text_input", "text_area", "number_input", "date_input", "slider",
               "select_slider", "dataframe", "arrow_data_frame", "code", "text", "json", "html", "vega_lite_chart",
               "arrow_vega_lite_chart", "plotly_chart", "deck_gl_json_chart", "component_instance"}


def markdown_town(folder: Path) -> tuple[Path, str]:
    """Teststad with a buurt, a provision (name, organisation, notes) and its type called ``MARKDOWN``, the
    gemeente 'Stad MARKDOWN', and a saved scenario called ``SCENARIO`` that adds a provision called ``MARKDOWN``; an
    administrator 'beheer'.

    Returns the store path and the id of the hostile provision (the first, so every list starts with it).
    """
    from data.provision_types import ProvisionType
    from data.store import GeoPackageStore
    from mapping.scenarios import NewProvision, Scenario
    from tests.towns import build_state, write_town_files

    files = write_town_files(folder / "bestanden")
    for kind in ("buurten", "wijken"):  # the files as the municipality has them, renamed before the import
        data = json.loads(files[kind].read_text(encoding="utf-8"))
        for feature in data["features"]:
            feature["properties"]["gm_naam"] = f"Stad {MARKDOWN}"
            if feature["properties"].get("bu_naam") == "Oude Kern":
                feature["properties"]["bu_naam"] = MARKDOWN
        files[kind].write_text(json.dumps(data), encoding="utf-8")
    store = build_state(GeoPackageStore.create_new(folder / "gemeente.gpkg"), files, "netwerken")
    store.add_provision_type(ProvisionType("vijandig", MARKDOWN, MARKDOWN, ("ouderen",), MARKDOWN, 1500,
                                           colour="#8c6d31"), user="test")
    first = store.read_table("provisions").sort_values("provision_id").iloc[0]
    store.update_provision(first["provision_id"], {"name": MARKDOWN, "organisation": MARKDOWN, "notes": MARKDOWN,
                                                   "type": "vijandig"},
                           expected_version=int(first["version"]), user="test")
    point = first.geometry
    scenario = Scenario(MARKDOWN, (first["provision_id"],),
                        (NewProvision("bezoekdienst_weduwen", point.x, point.y, 10.0, 1000.0, MARKDOWN),))
    store.save_scenario(SCENARIO, scenario.to_json(), user="test")
    auth.create_user(store, "beheer", "beheerder", (), PASSWORD, by="test")
    return store.path, str(first["provision_id"])


def _proto_strings(message) -> list[str]:
    """Every string field of a protobuf message, nested messages and repeated fields included."""
    out = []
    for _field, value in message.ListFields():
        values = [value] if isinstance(value, (str, bytes, int, float)) or hasattr(value, "ListFields") else value
        for v in values:
            if isinstance(v, str):
                out.append(v)
            elif hasattr(v, "ListFields"):
                out += _proto_strings(v)
    return out


def _markdown_strings(at) -> list[tuple[str, str]]:
    """(element type, text) for every text of the current run that Streamlit renders as Markdown."""
    found = []
    for node in at._tree:
        if node.type in _PLAIN_TEXT or getattr(node, "proto", None) is None:
            continue
        if node.type == "table":  # cells and headers of st.table are Markdown
            frame = node.value
            found += [("table", str(c)) for c in [*frame.columns, *frame.index, *frame.to_numpy().ravel()]]
            continue
        found += [(node.type, s) for s in _proto_strings(node.proto)]
    return found


@pytest.fixture(scope="module")
def markdown_app(tmp_path_factory):
    """Every page as the administrator of the hostile Teststad: the texts each renders as Markdown."""
    from streamlit.testing.v1 import AppTest

    from data.auth import User
    from data.store import GeoPackageStore

    path, pid = markdown_town(tmp_path_factory.mktemp("markdown"))
    index = GeoPackageStore(path).read_table("areas")
    buurt = index.loc[(index["name"] == MARKDOWN) & (index["level"] == "buurt"), "area_code"].item()
    seen: dict[str, list[tuple[str, str]]] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEUNKAART_STORE", str(path))
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
        at.session_state["sk_user"] = User("beheer", "beheerder")
        at.run()
        assert not at.exception, at.exception

        def visit(name: str) -> None:
            assert not at.exception, f"{name}: {[e.stack_trace for e in at.exception]}"
            seen[name] = _markdown_strings(at)

        at.switch_page("pages/kaart.py").run()
        next(s for s in at.selectbox if s.label == "Gekozen gebied").set_value(buurt).run()
        visit("kaart")
        at.session_state["profiel_gebied"] = buurt
        at.switch_page("pages/profiel.py").run()
        visit("profiel")
        at.switch_page("pages/voorzieningen.py").run()
        at.selectbox(key="vz_kies").set_value(pid).run()
        at.checkbox(key=f"vz_zeker_{pid}").check().run()
        visit("voorzieningen")
        at.session_state["tk_uit"] = [pid]
        at.session_state["tk_nieuw"] = [{"type": "bezoekdienst_weduwen", "x": 118_450.0, "y": 486_450.0,
                                         "capacity": 10.0, "reach_m": 1000.0, "name": MARKDOWN}]
        at.switch_page("pages/tekorten.py").run()
        visit("tekorten")
        for page in ("netwerken", "beheer", "gebruikers", "logboek", "over"):
            at.switch_page(f"pages/{page}.py").run()
            visit(page)
    return seen


def test_markdown_from_the_data_is_escaped_on_every_page(markdown_app):
    from pages.common import md

    for page, texts in markdown_app.items():
        acting = [(kind, text[:200]) for kind, text in texts if any(m in text for m in MARKUP)]
        assert not acting, f"{page}: Markdown from the data would act: {acting}"
    escaped = md(MARKDOWN)
    shown = {page: [(kind, text) for kind, text in texts if escaped in text] for page, texts in markdown_app.items()}
    kaart = dict(shown["kaart"])
    assert kaart["subheader"] == escaped
    assert {text for kind, text in shown["kaart"] if kind == "table"} == {escaped, f"Stad {escaped}"}  # headers
    assert f"in Stad {escaped}" in kaart["markdown"]  # 'Valt op: ... in <gemeente>'
    assert dict(shown["profiel"])["header"] == escaped
    assert f"in Stad {escaped}" in dict(shown["profiel"])["markdown"]
    assert shown["voorzieningen"] == [("checkbox", f"Ja, verwijder '{escaped}' definitief")]
    scenario = next(text for kind, text in shown["tekorten"] if text.startswith("**Scenario:**"))
    assert scenario.count(escaped) == 2  # the provision switched off and the new one
    assert any(text.startswith(f"Nieuw: **{escaped}**") for _, text in shown["tekorten"])


def _as_parsed(markdown: str) -> str:
    """The text Streamlit's plugins search after parsing: backslash escapes resolved."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


@pytest.mark.parametrize("text", [MARKDOWN, "1. x", "- x", "+ x", "> x", "# x", "10:00 :+1: :red[x] a~~b~~ <b>",
                                  "a.jansen@gemeente.nl www.voorbeeld.nl https://x.nl a -> b <= c",
                                  "`code` *i* _i_ {x} |t| $$y$$ &amp; ^2 =="])
def test_md_leaves_nothing_for_markdown(text):
    from pages.common import WORD_JOINER, md

    out = md(text)
    unescaped = set(re.sub(r"\\[!-/:-@\[-`{-~]", "", out)) & set("\\`*_{}[]()<>#+-.!|~$:=&^")
    assert not unescaped, f"not escaped: {unescaped}"
    parsed = _as_parsed(out)
    assert parsed.replace(WORD_JOINER, "") == text  # shown exactly as written (the joiner is invisible)
    # What Streamlit finds in the parsed text: shortcodes, bare links, e-mail addresses, arrows.
    for pattern in (r":[\w+-]+:", r":material_\w+:", r"https?://", r"(?i)www\.", r"@[\w-]",
                    r"(^|\s)(->|<-|<=|>=|--)(\s|$)"):
        assert not re.search(pattern, parsed), pattern

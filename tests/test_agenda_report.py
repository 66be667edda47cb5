"""What the data says about a wijk (wijk_facts) and the printable wijkagenda (HTML and PDF)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from data.access import ScopedStore
from data.agenda import agenda_table, changes_since
from data.auth import User
from data.demo import DEMO_AGENDA_WIJKEN
from data.reach import is_running
from data.schema import AGENDA_ORIGINS, AGENDA_OWNERS
from graphs.aggregates import BAND_STATUS, FEW_PERSONS, HIDDEN_STATUS, MIN_CELL, format_count
from mapping.agenda_report import agenda_report, agenda_to_html, agenda_to_pdf, wijk_facts
from mapping.gaps import DEFAULT_NEED, gaps_from_need_and_supply
from reports import pdf_problem
from tests.conftest import in_ci
from tests.towns import build_state, write_town_files

KANAALZONE = DEMO_AGENDA_WIJKEN[0]
VISIT = "bezoekdienst_weduwen"
TODAY = pd.Timestamp("2026-12-01")
# A count of 1 to 4 persons written out anywhere ('3 personen', '4 personen tekort').
SMALL_COUNT = re.compile(r"(?<![\d.,])[1-4] (personen|persoon|mensen|inwoners)")


def _inputs(store):
    return {"buurten": store.read_areas("buurt"), "values": store.read_area_values(),
            "areas": store.read_table("areas"), "provisions": store.read_table("provisions"),
            "catalogue": store.read_provision_types()}


def _wijk_gaps(inputs, wijk_code, types):
    gaps = gaps_from_need_and_supply(inputs["buurten"], inputs["provisions"], types=types,
                                     catalogue=inputs["catalogue"])
    own = inputs["buurten"].loc[inputs["buurten"]["wijk_code"] == wijk_code, "area_code"]
    return gaps.loc[gaps["area_code"].isin(own)].sort_values("gap_people", ascending=False)


def _no_small_counts(facts):
    for fact in facts:
        for key in ("figure", "text", "title"):
            assert not SMALL_COUNT.search(fact[key]), fact[key]


@pytest.fixture()
def demo_inputs(demo_store):
    inputs = _inputs(demo_store)
    inputs["signal_share"] = ScopedStore(demo_store, User("gem", "gemeente")).signal_share()
    return inputs


def test_kanaalzone_facts_of_every_kind_and_the_largest_shortages(demo_inputs):
    facts = wijk_facts(KANAALZONE, today=TODAY, **demo_inputs)
    kinds = {f["kind"] for f in facts}
    assert kinds <= set(AGENDA_ORIGINS)
    assert {"profiel", "tekort", "hotspot", "voorziening", "signaal"} <= kinds
    for fact in facts:
        assert set(fact) == {"kind", "text", "figure", "title", "links"} and fact["title"] and fact["figure"]
        assert all(kind in ("buurt", "voorziening", "initiatief", "tekort") for kind, _ in fact["links"])
    # The shortage facts are the three largest buurt x type rows of the wijk, from the gap computation itself.
    types = [t for t in DEFAULT_NEED if t in demo_inputs["catalogue"]]
    expected = _wijk_gaps(demo_inputs, KANAALZONE, types).head(3)
    shortages = [f for f in facts if f["kind"] == "tekort"]
    assert [sorted(f["links"]) for f in shortages] == [
        sorted([("buurt", r.area_code), ("tekort", r.type)]) for r in expected.itertuples()]
    for fact, row in zip(shortages, expected.itertuples(), strict=True):
        assert f"{format_count(np.floor(row.gap_people + 0.5))} personen" in fact["figure"]
        assert row.buurt in fact["title"]
    _no_small_counts(facts)


def test_largest_visiting_shortage_buurt_is_named(demo_inputs):
    visit = _wijk_gaps(demo_inputs, KANAALZONE, [VISIT])
    largest = visit.iloc[0]
    assert largest["buurt"] == "Rozenhof"  # the demo plants it there (data/demo.py)
    only_visit = {**demo_inputs, "catalogue": {VISIT: demo_inputs["catalogue"][VISIT]}}
    facts = wijk_facts(KANAALZONE, today=TODAY, top=1, **only_visit)
    (shortage,) = [f for f in facts if f["kind"] == "tekort"]
    assert ("buurt", largest["area_code"]) in shortage["links"] and ("tekort", VISIT) in shortage["links"]
    assert shortage["figure"].startswith("Tekort bezoekdienst weduwen en weduwnaars in Rozenhof: ")
    count = format_count(np.floor(largest["gap_people"] + 0.5))
    assert re.fullmatch(rf"Tekort bezoekdienst weduwen en weduwnaars in Rozenhof: {count} personen; CBS \d{{4}}",
                        shortage["figure"])
    assert shortage["title"] == "Tekort bezoekdienst weduwen en weduwnaars in Rozenhof aanpakken"


def test_provisions_whose_funding_ends_soon_appear(demo_inputs):
    facts = wijk_facts(KANAALZONE, today=TODAY, **demo_inputs)
    linked = {t for f in facts if f["kind"] == "voorziening" for k, t in f["links"] if k == "voorziening"}
    provisions = demo_inputs["provisions"]
    own = demo_inputs["buurten"].loc[demo_inputs["buurten"]["wijk_code"] == KANAALZONE, ["area_code", "geometry"]]
    inside = gpd.sjoin(provisions, own, predicate="within")
    end = pd.to_datetime(inside["funding_end"])
    running = np.asarray(is_running(inside), dtype=bool)
    soon = inside.loc[running & (end >= TODAY) & (end <= TODAY + pd.DateOffset(months=12))]
    later = inside.loc[running & (end > TODAY + pd.DateOffset(months=12)) & (inside["status"] == "actief")]
    assert len(soon) >= 1
    assert set(soon["provision_id"]) <= linked
    assert not set(later["provision_id"]) & linked
    elsewhere = set(provisions["provision_id"]) - set(inside["provision_id"])
    assert not elsewhere & linked  # only provisions in the wijk


def test_hidden_signal_shares_stay_hidden(demo_inputs):
    codes = demo_inputs["buurten"].loc[demo_inputs["buurten"]["wijk_code"] == KANAALZONE, "area_code"].tolist()
    share = pd.DataFrame({
        "measured": pd.array([40, 3, 30, 12], dtype="Int64"),
        "signalled": pd.array([20, pd.NA, pd.NA, pd.NA], dtype="Int64"),
        "share": [50.0, np.nan, np.nan, np.nan], "share_at_least": [np.nan, np.nan, np.nan, 60.0],
        "status": [None, FEW_PERSONS, HIDDEN_STATUS, BAND_STATUS]}, index=pd.Index(codes[:4], name="buurt_code"))
    facts = wijk_facts(KANAALZONE, today=TODAY, **{**demo_inputs, "signal_share": share}, top=5)
    signals = {f["links"][0][1]: f["figure"] for f in facts if f["kind"] == "signaal"}
    assert set(signals) == {codes[0], codes[3]}
    assert "50% van 40 personen" in signals[codes[0]]
    assert "60% of meer" in signals[codes[3]]


@pytest.fixture()
def teststad(empty_store, tmp_path):
    return build_state(empty_store, write_town_files(tmp_path / "bestanden"), "gezondheid")


def test_teststad_facts_are_from_its_own_data(teststad):
    inputs = _inputs(teststad)
    noord = "WK199901"
    provisions = inputs["provisions"].copy()
    in_noord = provisions.sjoin(inputs["buurten"].loc[inputs["buurten"]["wijk_code"] == noord, ["geometry"]],
                                predicate="within").index
    assert len(in_noord)
    soon, late = in_noord[0], (in_noord[1] if len(in_noord) > 1 else None)
    provisions["funding_end"] = pd.NaT
    provisions.loc[soon, "funding_end"] = TODAY + pd.DateOffset(months=3)
    if late is not None:
        provisions.loc[late, "funding_end"] = TODAY + pd.DateOffset(months=13)
    inputs["provisions"] = provisions
    facts = wijk_facts(noord, today=TODAY, **inputs)
    assert facts and {f["kind"] for f in facts} <= set(AGENDA_ORIGINS)
    linked = {t for f in facts if f["kind"] == "voorziening" for k, t in f["links"] if k == "voorziening"}
    assert provisions.loc[soon, "provision_id"] in linked
    if late is not None and provisions.loc[late, "status"] == "actief":
        assert provisions.loc[late, "provision_id"] not in linked
    types = [t for t in DEFAULT_NEED if t in inputs["catalogue"]]
    gaps = _wijk_gaps(inputs, noord, types)
    shown = gaps.loc[np.floor(gaps["gap_people"] + 0.5) >= MIN_CELL].head(3)
    shortages = [f for f in facts if f["kind"] == "tekort"]
    assert [sorted(f["links"]) for f in shortages] == [
        sorted([("buurt", r.area_code), ("tekort", r.type)]) for r in shown.itertuples()]
    # A buurt x type shortage of 1 to 4 persons is never a fact (Teststad's small buurten have some).
    small = gaps.loc[(gaps["gap_people"] > 0) & (np.floor(gaps["gap_people"] + 0.5) < MIN_CELL)]
    assert len(small)
    pairs = {tuple(sorted(f["links"])) for f in shortages}
    assert not pairs & {tuple(sorted([("buurt", r.area_code), ("tekort", r.type)])) for r in small.itertuples()}
    assert all(f["figure"].startswith("Tekort ") for f in shortages)
    assert "Teststad" not in [f["title"] for f in facts]
    _no_small_counts(facts)


# --------------------------------------------------------------------------- the printable agenda


@pytest.fixture()
def kanaalzone_report(demo_store, demo_inputs):
    saved = demo_store.save_agenda_item(
        {"wijk_code": KANAALZONE, "title": "<script>alert(1)</script>", "owner_role": "opbouwwerker",
         "status": "idee"}, [("buurt", demo_inputs["buurten"].loc[
             demo_inputs["buurten"]["wijk_code"] == KANAALZONE, "area_code"].iloc[0])],
        user="beheer", role="beheerder")
    items = demo_store.read_table("agenda_items")
    table = agenda_table(items, demo_store.read_table("agenda_links"), demo_inputs["areas"],
                         demo_inputs["provisions"], demo_store.read_table("initiatives"),
                         provision_types=demo_inputs["catalogue"])
    table = table.loc[table["wijkcode"] == KANAALZONE]
    changes = changes_since(items, demo_store.read_table("agenda_updates"), "2026-11-01")
    facts = wijk_facts(KANAALZONE, today=TODAY, **demo_inputs)
    report = agenda_report(KANAALZONE, "Kanaalzone", facts=facts, table=table, changes=changes, since="2026-11-01",
                           generated=TODAY)
    return report, table, saved, changes


def test_html_escapes_and_shows_every_item_with_its_owner(demo_store, kanaalzone_report):
    report, table, saved, changes = kanaalzone_report
    page = agenda_to_html(report)
    assert "<title>Wijkagenda Kanaalzone</title>" in page and "Wat de cijfers zeggen" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert saved["item_id"] in page
    assert len(table) >= 5  # the demo's items of the Kanaalzone and the new one
    for row in table.itertuples():
        # Each item is a table row with its id and its owner's label.
        cell = re.search(rf"<tr>\s*<td>{re.escape(row.agendapunt)}</td>(.*?)</tr>", page, re.S)
        assert cell, row.agendapunt
        assert f"<td>{row.eigenaar}</td>" in cell.group(1)
        assert row.eigenaar in AGENDA_OWNERS.values()
    assert "Wat is er veranderd sinds 1 november 2026" in page
    assert any(r[0] == saved["item_id"] and r[2].startswith("nieuw") for r in report["changes"])
    for fact in report["facts"]:
        assert fact["text"].replace("&", "&amp;").replace("'", "&#39;") in page
    persons = demo_store.read_table("persons")
    ids = set(persons["person_id"].astype(str))
    assert ids and not {i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", page)}
    assert "http://" not in page and "https://" not in page  # self-contained


def test_empty_agenda_and_no_changes_section(demo_inputs):
    report = agenda_report("WK999902", "Noorderhout", facts=[], table=pd.DataFrame(columns=["wijkcode"]),
                           generated=TODAY)
    page = agenda_to_html(report)
    assert "Er staan nog geen agendapunten" in page and "Wat is er veranderd" not in page
    assert "Wat de cijfers zeggen" not in page


def test_pdf_renders(kanaalzone_report):
    problem = pdf_problem()
    if problem and not in_ci():
        pytest.skip(problem)
    pdf = agenda_to_pdf(kanaalzone_report[0])
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000

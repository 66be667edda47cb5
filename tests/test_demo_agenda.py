"""The demo's wijkagenda (issue 17): items, links, updates, initiatives and key figures.

The tests read the intended story from the constants of :mod:`data.demo` and check it against what the
rest of the code computes from the demo independently: the shortage with :mod:`mapping.gaps` (as
tests/test_gaps.py does), the poor-network share with :mod:`graphs.screening`, the buurt of a point with
the store's own lookup.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
import shapely

import data.demo as demo_module
from data.agenda import check_agenda_text
from data.demo import (
    DEMO_AGENDA_PERIOD,
    DEMO_AGENDA_SHORTAGE_TYPE,
    DEMO_AGENDA_USERS,
    DEMO_AGENDA_WIJKEN,
    FOLLOWUP_REFERENCE,
    SIGNAL_MIN_SCREENED,
    VISIT_NEED_PER_WIDOWED,
    generate_demo,
    write_demo_store,
)
from data.disclosure import MIN_CELL
from data.provision_types import PROVISION_TYPES
from data.schema import (
    AGENDA_LINK_KINDS,
    AGENDA_NOTE_MAX,
    AGENDA_ORIGINS,
    AGENDA_OWNERS,
    AGENDA_STATUSES,
    INITIATIVE_STATUSES,
    TABLES,
)
from graphs.screening import lsns6_scores
from mapping.gaps import DEFAULT_NEED, gaps_from_need_and_supply

AGENDA_TABLES = ("agenda_items", "agenda_links", "agenda_updates", "initiatives", "key_figures")
# A number as the pages write it: 1.757 / 21 / 96 / 0,5.
NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?")


def _number(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


def _buurten(demo):
    areas = demo.areas.loc[demo.areas["level"] == "buurt"]
    wide = demo.area_values.pivot_table(index="area_code", columns="indicator", values="value")
    return areas.merge(wide, left_on="area_code", right_index=True)


@pytest.fixture(scope="module")
def shortage(demo):
    """The shortage of the visiting service per buurt, computed by the gap page's own function."""
    gaps = gaps_from_need_and_supply(_buurten(demo), demo.provisions, types=[DEMO_AGENDA_SHORTAGE_TYPE])
    return gaps.set_index("area_code")["gap_people"]


def _linked(demo, item_id: str, kind: str) -> list[str]:
    links = demo.agenda_links
    return links.loc[links["item_id"].eq(item_id) & links["kind"].eq(kind), "target"].tolist()


def _tekort_items(demo) -> pd.DataFrame:
    links = demo.agenda_links
    about = links.loc[(links["kind"] == "tekort") & (links["target"] == DEMO_AGENDA_SHORTAGE_TYPE), "item_id"]
    return demo.agenda_items.loc[demo.agenda_items["item_id"].isin(about)
                                 & demo.agenda_items["origin_kind"].eq("tekort")]


def test_written_and_read_back_against_the_schema(demo, tmp_path):
    store = write_demo_store(tmp_path / "demo.gpkg")
    for name in AGENDA_TABLES:
        frame = getattr(demo, name)
        assert list(frame.columns[:len(TABLES[name].column_names)]) == TABLES[name].column_names
        back = store.read_table(name)
        assert len(back) == len(frame) > 0, name
        for column, sql in TABLES[name].columns:
            if "NOT NULL" in sql:
                assert back[column].notna().all(), (name, column)
    items = store.read_table("agenda_items")
    assert items["item_id"].str.fullmatch(r"AG-\d{4}").all() and items["item_id"].is_unique
    assert items["status"].isin(list(AGENDA_STATUSES)).all()
    assert items["owner_role"].isin(list(AGENDA_OWNERS)).all()
    assert items["origin_kind"].isin(list(AGENDA_ORIGINS)).all()
    starts, due = pd.to_datetime(items["starts_on"]), pd.to_datetime(items["due_on"])
    assert (starts <= due).all()
    assert starts.min() >= DEMO_AGENDA_PERIOD[0] and due.max() <= DEMO_AGENDA_PERIOD[1]
    links = store.read_table("agenda_links")
    assert links["kind"].isin(list(AGENDA_LINK_KINDS)).all()
    assert not links.duplicated(["item_id", "kind", "target"]).any()
    updates = store.read_table("agenda_updates")
    assert updates["note"].str.len().le(AGENDA_NOTE_MAX).all()
    assert updates["status"].isin(list(AGENDA_STATUSES)).all()
    initiatives = store.read_table("initiatives")
    assert initiatives["initiative_id"].str.fullmatch(r"IN-\d{4}").all()
    assert initiatives["status"].isin(list(INITIATIVE_STATUSES)).all()
    # Each point lies in the buurt the record names, by the store's own point-in-buurt lookup.
    assert list(store.buurt_codes_at(initiatives.geometry.to_numpy())) == initiatives["buurt_code"].tolist()
    figures = store.read_table("key_figures")
    assert figures["figure_id"].str.fullmatch(r"SF-\d{4}").all()
    # Every text passes the agenda's one text rule unchanged (length, one line, no BSN/phone/e-mail).
    for name, columns in (("agenda_items", ("title", "aim", "origin_figure")), ("agenda_updates", ("note",)),
                          ("initiatives", ("name", "what", "support_asked", "contact_organisation")),
                          ("key_figures", ("role_label", "organisation", "name"))):
        frame = getattr(demo, name)
        for column in columns:
            for text in frame[column].dropna():
                assert check_agenda_text(text, column=column) == text, (name, column, text)


def test_the_story_two_wijken_with_the_teams_and_statuses(demo):
    items = demo.agenda_items
    assert set(items["wijk_code"]) == set(DEMO_AGENDA_WIJKEN)
    assert DEMO_AGENDA_WIJKEN[0] == "WK999901"  # the Kanaalzone: its visiting service is under pressure
    for wijk, own in items.groupby("wijk_code"):
        assert 4 <= len(own) <= 6, wijk
        assert set(own["owner_role"]) == set(AGENDA_OWNERS), wijk
        assert {"idee", "gepland", "loopt", "afgerond"} <= set(own["status"]), wijk
    assert {"tekort", "voorziening", "signaal", "handmatig"} <= set(items["origin_kind"])
    kanaalzone = set(demo.agenda_links.loc[demo.agenda_links["item_id"].isin(
        items.loc[items["wijk_code"] == DEMO_AGENDA_WIJKEN[0], "item_id"]) & demo.agenda_links["kind"].eq(
        "voorziening"), "target"])
    pressed = demo.provisions.loc[(demo.provisions["type"] == DEMO_AGENDA_SHORTAGE_TYPE)
                                  & (demo.provisions["status"] == "onder_druk"), "provision_id"]
    assert set(pressed) <= kanaalzone
    assert 2 <= len(demo.initiatives) <= 3 and 3 <= len(demo.key_figures) <= 4
    assert demo.agenda_links["kind"].eq("initiatief").any()
    # A name only with consent; exactly one key figure consented.
    named = demo.key_figures["name"].notna()
    assert named.sum() == 1 and demo.key_figures.loc[named, "consent_name"].all()
    assert not demo.key_figures.loc[~demo.key_figures["consent_name"].astype(bool), "name"].notna().any()


def test_update_history_matches_the_items(demo):
    items, updates = demo.agenda_items.set_index("item_id"), demo.agenda_updates
    at = pd.to_datetime(updates["at"], utc=True)
    assert at.max() < FOLLOWUP_REFERENCE.tz_localize("UTC")
    for item_id, history in updates.assign(at=at).groupby("item_id", sort=False):
        item = items.loc[item_id]
        assert 2 <= len(history) <= 3, item_id
        assert history["at"].is_monotonic_increasing and history["at"].is_unique, item_id
        assert history["status"].iloc[-1] == item["status"], item_id
        assert item["version"] == len(history), item_id
        assert (item["created_by"], item["updated_by"]) == (history["user"].iloc[0], history["user"].iloc[-1])
        assert history["user"].tolist() == [DEMO_AGENDA_USERS[r] for r in history["role"]]
        # The owning team creates its items; a later update is by the owner or the gebiedsverbinder.
        assert history["role"].iloc[0] == item["owner_role"]
        assert history["role"].isin([item["owner_role"], "gebiedsverbinder"]).all()
    assert set(updates["item_id"]) == set(items.index)


def test_no_person_id_anywhere_in_the_agenda_tables(demo):
    person_ids = set(demo.persons["person_id"])
    shape = re.compile(r"P[0-9a-f]{8}")
    assert all(shape.fullmatch(p) for p in list(person_ids)[:50])  # the pattern does catch the demo's ids
    for name in AGENDA_TABLES:
        frame = pd.DataFrame(getattr(demo, name)).drop(columns="geometry", errors="ignore")
        cells = [str(c) for c in frame.to_numpy().ravel()]
        assert not any(shape.search(c) for c in cells), name
        assert person_ids.isdisjoint(cells), name


def test_every_link_target_exists(demo):
    links = demo.agenda_links.merge(demo.agenda_items[["item_id", "wijk_code"]], on="item_id", how="left")
    assert links["wijk_code"].notna().all()
    known = {"buurt": set(demo.areas.loc[demo.areas["level"] == "buurt", "area_code"]),
             "voorziening": set(demo.provisions["provision_id"]),
             "initiatief": set(demo.initiatives["initiative_id"]), "tekort": set(PROVISION_TYPES)}
    for kind, target in zip(links["kind"], links["target"], strict=True):
        assert target in known[kind], (kind, target)
    buurt = links.loc[links["kind"] == "buurt"]
    assert (buurt["target"].str[2:8] == buurt["wijk_code"].str[2:8]).all()  # a buurt link lies in the item's wijk
    assert set(demo.initiatives["buurt_code"]) <= known["buurt"]
    assert set(demo.key_figures["wijk_code"]) <= set(DEMO_AGENDA_WIJKEN)
    # Every initiative point lies inside the polygon of its buurt.
    polygons = demo.areas.set_index("area_code").geometry
    assert all(shapely.contains(polygons[b], p) for b, p in zip(demo.initiatives["buurt_code"],
                                                                 demo.initiatives.geometry, strict=True))


def test_origin_figures_state_no_number_under_the_minimum(demo):
    items = demo.agenda_items
    assert items.loc[items["origin_kind"] != "handmatig", "origin_figure"].notna().all()
    figures = items["origin_figure"].dropna()
    assert len(figures) >= 5
    for text in figures:
        numbers = [_number(n) for n in NUMBER.findall(text)]
        assert numbers, text
        assert min(numbers) >= MIN_CELL, text
    assert NUMBER.findall("in Rozenhof: 21 personen; 1.757 bezoekers, 4 mensen") == ["21", "1.757", "4"]


def test_the_shortage_items_point_at_the_largest_shortage_of_their_wijk(demo, shortage):
    """Exact top 1: the 'tekort' item of each agenda wijk links the buurt whose bezoekdienst shortage, as
    mapping.gaps computes it, is the largest in that wijk; its figure states that shortage and the wijk's total
    in whole persons."""
    assert DEFAULT_NEED[DEMO_AGENDA_SHORTAGE_TYPE][0].weight == VISIT_NEED_PER_WIDOWED
    items = _tekort_items(demo)
    assert set(items["wijk_code"]) == set(DEMO_AGENDA_WIJKEN)
    for item in items.itertuples():
        in_wijk = shortage.loc[shortage.index.str[2:8] == item.wijk_code[2:8]]
        buurten = _linked(demo, item.item_id, "buurt")
        assert buurten == [in_wijk.idxmax()], item.item_id
        name = demo.areas.set_index("area_code").at[buurten[0], "name"]
        assert f" {name}: " in item.origin_figure
        numbers = [_number(n) for n in NUMBER.findall(item.origin_figure)]
        assert numbers[0] == pytest.approx(in_wijk.max(), abs=0.5)
        assert numbers[1] == pytest.approx(in_wijk.sum(), abs=0.5)
    # The Kanaalzone's largest shortage is also the gemeente's: the widowed hot spot of the demo.
    kanaalzone = items.loc[items["wijk_code"] == DEMO_AGENDA_WIJKEN[0], "item_id"].iloc[0]
    assert _linked(demo, kanaalzone, "buurt") == [shortage.idxmax()]


def test_generator_shortage_equals_the_gap_page(demo, shortage):
    own = demo_module._visiting_shortage(_buurten(demo), demo.provisions)
    assert own.reindex(shortage.index).to_numpy() == pytest.approx(shortage.to_numpy(), nan_ok=True)


def test_signal_items_use_the_screening_share(demo):
    scores = lsns6_scores(demo.persons)
    frame = pd.DataFrame({"buurt": demo.persons["buurt_code"], "screened": scores["lsns6"].notna(),
                          "signal": scores["lsns6_at_risk"].fillna(False).astype(bool)})
    per_buurt = frame.groupby("buurt")[["screened", "signal"]].sum()
    items = demo.agenda_items.loc[demo.agenda_items["origin_kind"] == "signaal"]
    assert len(items) == len(DEMO_AGENDA_WIJKEN)
    for item in items.itertuples():
        own = per_buurt.loc[per_buurt.index.str[2:8] == item.wijk_code[2:8]]
        big = own.loc[own["screened"] >= SIGNAL_MIN_SCREENED]
        buurt = _linked(demo, item.item_id, "buurt")
        assert buurt == [(big["signal"] / big["screened"]).idxmax()]
        share, wijk_share = (_number(n) for n in re.findall(r"(\d+)%", item.origin_figure))
        row = own.loc[buurt[0]]
        assert share == round(100 * row["signal"] / row["screened"])
        assert wijk_share == round(100 * own["signal"].sum() / own["screened"].sum())


def test_deterministic_and_drawn_apart(demo, monkeypatch):
    again = generate_demo()
    for name in ("agenda_items", "agenda_links", "agenda_updates", "key_figures"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(demo, name))
    pd.testing.assert_frame_equal(pd.DataFrame(again.initiatives.drop(columns="geometry")),
                                  pd.DataFrame(demo.initiatives.drop(columns="geometry")))
    assert shapely.equals_exact(again.initiatives.geometry.to_numpy(), demo.initiatives.geometry.to_numpy()).all()
    # Without the agenda the rest of the demo is the same: the agenda draws from its own generator.
    monkeypatch.setattr(demo_module, "_demo_agenda", lambda *args, **kwargs: {})
    without = generate_demo()
    for name in ("provisions", "persons", "ties", "participation", "measurements", "aftercare_contacts"):
        pd.testing.assert_frame_equal(getattr(without, name), getattr(demo, name))
    tables = without.tables()
    for name in AGENDA_TABLES:
        assert tables[name].empty and list(tables[name].columns[:len(TABLES[name].column_names)]) == \
            TABLES[name].column_names
    assert tables["initiatives"].crs.to_epsg() == 28992


def test_changes_since_the_last_meeting_on_the_demo(demo):
    """The agenda's 'wat is er veranderd sinds' finds the demo's autumn updates (a smoke test of the story)."""
    from data.agenda import changes_since

    changes = changes_since(demo.agenda_items, demo.agenda_updates, "2026-10-01")
    late = pd.to_datetime(demo.agenda_updates["at"], utc=True) >= pd.Timestamp("2026-10-01", tz="Europe/Amsterdam")
    assert late.sum() >= 3
    assert set(changes["agendapunt"]) == set(demo.agenda_updates.loc[late.to_numpy(), "item_id"])

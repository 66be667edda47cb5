"""The Netwerken page at a town's and a city's scale (issue 19): one computation per data version, the
reasons of the signal, the community view's connectors and its summarised drawing, and the page in the
states a store can be in, for every role."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data import auth
from data.auth import User
from data.disclosure import store_secret
from data.store import GeoPackageStore
from graphs.community import (
    community_graph,
    community_html,
    community_summary,
    sampled_betweenness,
    summarised_graph,
)
from graphs.signals import SignalRules, poor_network_signals
from tests.test_app import APP
from tests.towns import build_state, write_town_files

ROLES = {
    "beheerder": User("beheer", "beheerder"),
    "wijkteam": User("wijk0", "wijkteam", ("WK199900",)),
    "opbouwwerker": User("opbouw", "opbouwwerker"),
    "gebiedsverbinder": User("verbinder", "gebiedsverbinder"),
    "gemeente": User("beleid", "gemeente"),
}
NOTE = "geen vragenlijst: alleen op netwerkgegevens beoordeeld"


# --------------------------------------------------------------------------- stores (Teststad, not the demo)

@pytest.fixture(scope="module")
def town_files(tmp_path_factory):
    return write_town_files(tmp_path_factory.mktemp("teststad") / "bestanden")


def _store(path, files, state: str, *, without_ties: bool = False) -> GeoPackageStore:
    store = build_state(GeoPackageStore.create_new(path), files, state)
    if without_ties:
        store.replace_tables({"ties": store.read_table("ties").iloc[:0],
                              "alter_links": store.read_table("alter_links").iloc[:0]}, user="test", action="test")
    for user in ROLES.values():
        auth.create_user(store, user.username, user.role, user.wijken, "correct horse battery", by="test")
    # The secret of the protected counts is written the first time a protected figure is made, and that
    # write is a new data version: made here, so that a test sees one data version throughout.
    store_secret(store)
    return store


def _app(monkeypatch, path, user: User) -> AppTest:
    monkeypatch.setenv("STEUNKAART_STORE", str(path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["sk_user"] = user
    at.run()
    assert not at.exception, at.exception
    at.switch_page("pages/netwerken.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _open(at: AppTest, label: str) -> AppTest:
    at.session_state["nw_tabs"] = label
    at.run()
    assert not at.exception, f"{label}: {at.exception}"
    assert not at.error, f"{label}: {[e.value for e in at.error]}"
    return at


# --------------------------------------------------------------------------- one computation per data version

def test_every_loader_shares_one_computation_per_data_version(town_files, tmp_path, monkeypatch):
    import graphs.measures
    import graphs.signals

    calls = {"measures": 0, "signals": 0}
    measures, signals = graphs.measures.person_measures, graphs.signals.poor_network_signals

    def counted_measures(*args, **kwargs):
        calls["measures"] += 1
        return measures(*args, **kwargs)

    def counted_signals(*args, **kwargs):
        calls["signals"] += 1
        return signals(*args, **kwargs)

    monkeypatch.setattr(graphs.measures, "person_measures", counted_measures)
    monkeypatch.setattr(graphs.signals, "poor_network_signals", counted_signals)
    path = tmp_path / "eigen.gpkg"
    _store(path, town_files, "netwerken")
    at = _app(monkeypatch, path, ROLES["beheerder"])  # Signalen: signals, suitable provisions
    for label in ("Koppelen", "Kaart per buurt", "Gemeenschap", "Signalen"):  # matching totals, shares, ...
        _open(at, label)
    at.run()
    assert calls == {"measures": 1, "signals": 1}, calls  # the default rules: one signal table for all loaders
    # Other rules: a new signal table, the same measures.
    at.session_state["regel_praktisch"] = True
    _open(at, "Koppelen")
    _open(at, "Kaart per buurt")
    assert calls == {"measures": 1, "signals": 2}, calls
    # Another scope (a wijkteam): its own signal table from the same measures of this data version.
    at = _app(monkeypatch, path, ROLES["wijkteam"])
    _open(at, "Koppelen")
    _open(at, "Kaart per buurt")
    assert calls["measures"] == 1 and calls["signals"] == 3, calls
    # A new data version computes again, once.
    store = GeoPackageStore.open(path, create=False)
    persons = store.read_table("persons")
    store.replace_tables({"persons": persons.iloc[1:]}, user="test", action="test")
    at = _app(monkeypatch, path, ROLES["beheerder"])
    _open(at, "Koppelen")
    assert calls["measures"] == 2, calls


# --------------------------------------------------------------------------- the reasons, vectorised

def _row_wise_reasons(out: pd.DataFrame, rules: SignalRules) -> pd.Series:
    """The reasons as a loop over the persons would write them (the reference of the vectorised version)."""
    texts = []
    for _, row in out.iterrows():
        parts = []
        if rules.lsns_below is not None and pd.notna(row["lsns6"]) and row["lsns6"] < rules.lsns_below:
            parts.append(f"LSNS-6 = {int(row['lsns6'])} (lager dan {rules.lsns_below:g})")
        if rules.min_emotional is not None and row["emotional_supporters"] < rules.min_emotional:
            parts.append("geen emotionele steun" if rules.min_emotional == 1
                         else f"{row['emotional_supporters']} mensen voor emotionele steun")
        if rules.min_practical is not None and row["practical_supporters"] < rules.min_practical:
            parts.append("geen praktische steun" if rules.min_practical == 1
                         else f"{row['practical_supporters']} mensen voor praktische steun")
        if rules.min_informal is not None and row["informal_size"] < rules.min_informal:
            n = row["informal_size"]
            parts.append("geen informele contacten" if n == 0 else
                         f"{n} {'informeel contact' if n == 1 else 'informele contacten'} "
                         f"(minder dan {rules.min_informal})")
        if rules.djg_at_least is not None and pd.notna(row["djg11"]) and row["djg11"] >= rules.djg_at_least:
            parts.append(f"De Jong Gierveld = {int(row['djg11'])}")
        text = "; ".join(parts)
        if text and not row["screened"]:
            text += "; " + NOTE
        texts.append(text)
    return pd.Series(texts, index=out.index, dtype=object)


@pytest.mark.parametrize("rules", [
    SignalRules(),
    SignalRules(lsns_below=15, min_emotional=2, min_practical=2, min_informal=5, djg_at_least=6),
    SignalRules(lsns_below=None, min_emotional=None, min_practical=1, min_informal=None, djg_at_least=9),
    SignalRules(lsns_below=None, min_emotional=None, min_practical=None, min_informal=None),
])
def test_reasons_equal_the_row_wise_version(rules):
    from data.demo import generate_demo
    from graphs.measures import person_measures

    demo = generate_demo(11, n_persons=600)
    persons = demo.persons.copy()
    # Varied: some without any answers, some with a partial questionnaire.
    persons.loc[persons.index[::7], [f"lsns_{i}" for i in range(1, 7)]] = None
    persons.loc[persons.index[::5], [f"djg_{i}" for i in range(1, 12)]] = None
    persons.loc[persons.index[3::11], "lsns_2"] = None
    measures = person_measures(persons, demo.ties, demo.participation, demo.alter_links)
    out = poor_network_signals(persons, demo.ties, demo.participation, rules=rules, measures=measures)
    expected = _row_wise_reasons(out, rules)
    assert out["reasons"].tolist() == expected.tolist()
    assert out["signal"].tolist() == (expected != "").tolist()
    if any(v is not None for v in (rules.lsns_below, rules.min_emotional, rules.min_informal)):
        assert out["signal"].any() and (~out["signal"]).any()  # the frame is varied for these rules
        assert out["reasons"].str.contains(NOTE, regex=False).any()


# --------------------------------------------------------------------------- connectors

def test_sampled_betweenness_is_networkx_exact_when_the_budget_allows_all_sources():
    graph = nx.relabel_nodes(nx.karate_club_graph(), lambda n: f"P{n}")
    graph.add_nodes_from(["alleen1", "alleen2"])
    exact = nx.betweenness_centrality(graph)
    ours, sources = sampled_betweenness(graph, budget_s=60)
    assert sources == graph.number_of_nodes()
    assert ours.keys() == exact.keys()
    assert all(ours[n] == pytest.approx(exact[n], rel=1e-12, abs=1e-15) for n in exact)
    # A fixed sample: that many sources, as networkx's estimator scales them (k sources of n).
    sample, sources = sampled_betweenness(graph, k=10)
    assert sources == 10 and max(sample.values()) > 0
    nothing, sources = sampled_betweenness(graph, budget_s=0)
    assert 1 <= sources < graph.number_of_nodes() and len(nothing) == graph.number_of_nodes()
    assert sampled_betweenness(nx.Graph()) == ({}, 0)


def test_articulation_points_and_bridges_are_exact():
    persons = pd.DataFrame({"person_id": list("ABCDEFG")})
    # A-B-C a triangle, C-D-E a path, E joins group V1 with F; G nobody.
    ties = pd.DataFrame({"ego_id": ["A", "B", "C", "C", "D"], "alter_id": ["B", "C", "A", "D", "E"]})
    participation = pd.DataFrame({"person_id": ["E", "F"], "provision_id": ["V1", "V1"]})
    provisions = pd.DataFrame({"provision_id": ["V1"], "name": ["Groep"], "type": ["buurthuis"]})
    graph = community_graph(persons, ties, participation, provisions)
    summary = community_summary(graph)
    assert summary["articulation_points"] == {"C", "D", "E", "V:V1"} == set(nx.articulation_points(graph))
    assert {frozenset(e) for e in summary["bridges"]} == {frozenset(e) for e in nx.bridges(graph)} == {
        frozenset(("C", "D")), frozenset(("D", "E")), frozenset(("E", "V:V1")), frozenset(("V:V1", "F"))}
    assert summary["isolated"] == ["G"] and summary["linked_persons"] == list("ABCDEF")
    assert summary["sources"] == summary["nodes"] == 8  # small: every source, the exact betweenness
    assert summary["components"] == 1 and summary["largest_component"] == 7


# --------------------------------------------------------------------------- the summarised drawing

def _town(n_persons: int = 2000, n_ties: int = 3000, n_groups: int = 12, seed: int = 4):
    rng = np.random.default_rng(seed)
    ids = np.char.add("P", np.arange(n_persons).astype(str)).astype(object)
    ties = pd.DataFrame({"ego_id": ids[rng.integers(0, n_persons, n_ties)],
                         "alter_id": ids[rng.integers(0, n_persons, n_ties)]})
    hub = ids[0]  # a person with many ties, to choose
    ties = pd.concat([ties, pd.DataFrame({"ego_id": hub, "alter_id": ids[1:120]})], ignore_index=True)
    groups = np.char.add("G", np.arange(n_groups).astype(str)).astype(object)
    joins = rng.choice(n_persons, min(400, n_persons), replace=False)
    participation = pd.DataFrame({"person_id": ids[joins],
                                  "provision_id": groups[rng.integers(0, n_groups, len(joins))]})
    provisions = pd.DataFrame({"provision_id": [*groups, "LEEG"], "name": [*groups, "Leeg"],
                               "type": "buurthuis"})
    return community_graph(pd.DataFrame({"person_id": ids}), ties, participation, provisions), hub


def test_summarised_graph_keeps_groups_connectors_and_the_chosen_persons_neighbours():
    graph, hub = _town()
    summary = community_summary(graph, betweenness_sample=100)
    groups = [n for n, kind in graph.nodes(data="kind") if kind == "voorziening" and graph.degree(n)]
    shown, left = summarised_graph(graph, summary, focus=hub, max_connectors=30, max_neighbours=200)
    assert set(groups) <= set(shown) and "V:LEEG" not in shown  # every group with participants, not an empty one
    assert set(summary["person_connectors"][:30]) <= set(shown)
    assert set(graph[hub]) <= set(shown) and hub in shown
    assert all(shown.has_edge(hub, n) for n in graph[hub])
    assert shown.number_of_nodes() <= len(groups) + 30 + 200 + 1 < graph.number_of_nodes()
    assert all(shown.nodes[g]["members"] == graph.degree(g) for g in groups)
    drawn_persons = sum(1 for _, kind in shown.nodes(data="kind") if kind == "persoon")
    assert left == {"persons": len(summary["linked_persons"]) - drawn_persons,
                    "links": graph.number_of_edges() - shown.number_of_edges(), "neighbours": 0}
    # Fewer neighbours drawn: the rest are counted, groups first among those kept.
    shown, left = summarised_graph(graph, summary, focus=hub, max_connectors=30, max_neighbours=10)
    assert left["neighbours"] == graph.degree(hub) - 10
    assert shown.number_of_nodes() <= len(groups) + 30 + 10 + 1
    # Without a choice: the groups and connectors only.
    plain, _ = summarised_graph(graph, summary, max_connectors=30)
    assert plain.number_of_nodes() <= len(groups) + 30
    page = community_html(shown, summary, signalled={hub}, provision_names={}, provision_types={},
                          vis_base="/app/static/vis", focus=hub, left_out=left)
    assert "Niet getekend" in page and "gekozen persoon" in page and "http" not in page
    assert f"{left['links']:,}".replace(",", ".") in page  # Dutch thousands
    assert len(page) < 60_000  # small, whatever the size of the town


def test_a_small_graph_is_drawn_whole():
    graph, hub = _town(n_persons=150, n_ties=100, n_groups=3)
    summary = community_summary(graph)
    shown, left = summarised_graph(graph, summary, focus=hub)
    assert shown is graph and left == {"persons": 0, "links": 0, "neighbours": 0}
    page = community_html(shown, summary, signalled=set(), provision_names={}, provision_types={}, vis_base="v",
                          left_out=left)
    assert "Niet getekend" not in page


# --------------------------------------------------------------------------- the page in every state, every role

@pytest.mark.parametrize("case", ["zonder personen", "zonder relaties", "netwerken"])
def test_the_page_works_in_each_state_for_every_role(town_files, tmp_path, monkeypatch, case):
    state = "gezondheid" if case == "zonder personen" else "netwerken"
    path = tmp_path / "eigen.gpkg"
    _store(path, town_files, state, without_ties=case == "zonder relaties")
    for role, user in ROLES.items():
        at = _app(monkeypatch, path, user)
        texts = " ".join(e.value for e in (*at.info, *at.caption, *at.markdown))
        if not user.sees_persons:
            assert "alleen als totalen" in texts, role
            continue
        if case == "zonder personen":
            assert "Nog geen netwerkgegevens" in texts, role
            continue
        for label in ("Koppelen", "Kaart per buurt", "Gemeenschap"):
            _open(at, label)
        metrics = {m.label: m.value for m in at.metric}
        assert "Personen zonder verbinding" in metrics, role
        if case == "zonder relaties":  # nobody has a tie: connected only through groups, if at all
            assert at.selectbox(key="nw_gem_focus") is not None

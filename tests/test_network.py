"""Network measures, screening scores and poor-network signals: by hand and against networkx."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from graphs.measures import person_measures, support_graph
from graphs.screening import djg_scores, lsns6_item, lsns6_scores
from graphs.signals import SignalRules, poor_network_signals
from tests.test_cli import run_cli


def _tie(ego, alter=None, key=None, role="vriend", emo=False, prac=False, freq="wekelijks", same=True):
    return {"ego_id": ego, "alter_id": alter, "alter_key": key, "role": role, "support_emotional": emo,
            "support_practical": prac, "support_informational": False, "support_companionship": False,
            "contact_frequency": freq, "reciprocal": True, "same_buurt": same}


@pytest.fixture()
def hand_made():
    """Known by construction.

    A: ties to B, C, D (persons) who know each other in a triangle B-C-D, plus a professional.
       -> size 4, informal 3, alters of A in the graph: B, C, D, prof -> k = 4, ties among them = 3.
    E: only a professional and one neighbour, no emotional support -> signalled (no emotional, 1 informal).
    F: nobody at all -> signalled, not screened.
    """
    persons = pd.DataFrame({"person_id": list("ABCDEF"), "buurt_code": "BU00010101", "age_band": "65-74",
                            **{f"lsns_{i}": [5, 3, 3, 3, 1, None][:6] for i in range(1, 7)},
                            **{f"djg_{i}": ["nee"] * 6 for i in range(1, 12)}})
    ties = pd.DataFrame([
        _tie("A", "B", emo=True, role="partner", freq="dagelijks"), _tie("A", "C", role="kind", prac=True),
        _tie("A", "D", role="vriend", same=False, freq="maandelijks"),
        _tie("A", key="a1", role="professional"),
        _tie("B", "C"), _tie("C", "D"), _tie("D", "B"), _tie("B", "A", emo=True),
        _tie("C", "A", emo=True), _tie("D", "A", emo=True),
        _tie("E", key="a1", role="professional", prac=True), _tie("E", key="a2", role="buur"),
    ])
    participation = pd.DataFrame({"person_id": ["A", "A", "E"], "provision_id": ["V1", "V2", "V1"]})
    return persons, ties, participation


def test_measures_by_hand(hand_made):
    persons, ties, participation = hand_made
    m = person_measures(persons, ties, participation)
    a = m.loc["A"]
    assert (a["network_size"], a["informal_size"], a["emotional_supporters"], a["practical_supporters"]) == (4, 3, 1, 1)
    assert a["role_diversity"] == 3  # partner, kind, professional: at least fortnightly (vriend is monthly)
    assert a["kin_share"] == pytest.approx(0.5)
    assert a["bridging_ties"] == 1 and a["provisions_joined"] == 2 and a["group_ties"] == 0
    # k = 4 alters (B, C, D, professional), 3 ties among them
    assert a["density_alters"] == pytest.approx(3 / 6)
    assert a["effective_size"] == pytest.approx(4 - 2 * 3 / 4)
    # Constraint of A on its ego network: B, C, D each share 2 alters with A (degree 3 in the ego
    # network), the professional shares none: c = 3 (1/4 + 2 * 1/4 * 1/3)^2 + (1/4)^2
    assert a["constraint"] == pytest.approx(3 * (1 / 4 + 2 / 12) ** 2 + (1 / 4) ** 2)
    assert np.isnan(m.loc["F", "effective_size"]) and m.loc["F", "network_size"] == 0


def test_bridging_ties_use_where_persons_live(hand_made):
    persons, ties, participation = hand_made
    persons.loc[persons["person_id"] == "C", "buurt_code"] = "BU00010102"
    m = person_measures(persons, ties, participation)
    assert m.loc["A", "bridging_ties"] == 2  # D said so; C lives in another buurt
    assert m.loc["B", "bridging_ties"] == 1  # B -> C


def test_signals_by_hand(hand_made):
    persons, ties, participation = hand_made
    persons.loc[persons["person_id"] == "F", [f"djg_{i}" for i in range(1, 12)]] = None
    s = poor_network_signals(persons, ties, participation)
    assert s["signal"].to_dict() == {"A": False, "B": True, "C": True, "D": True, "E": True, "F": True}
    assert s.loc["A", "lsns6"] == 30 and s.loc["E", "lsns6"] == 6
    assert s.loc["E", "reasons"] == ("LSNS-6 = 6 (lager dan 12); geen emotionele steun; "
                                     "1 informeel contact (minder dan 3)")
    assert s.loc["F", "reasons"] == ("geen emotionele steun; geen informele contacten; "
                                     "geen vragenlijst: alleen op netwerkgegevens beoordeeld")
    # B scores 18 on LSNS-6 and has A for emotional support, but only two informal ties of its own
    assert s.loc["B", "reasons"] == "2 informele contacten (minder dan 3)"
    relaxed = poor_network_signals(persons, ties, participation,
                                   rules=SignalRules(lsns_below=None, min_emotional=None, min_informal=1))
    assert relaxed["signal"].to_dict() == {"A": False, "B": False, "C": False, "D": False, "E": False, "F": True}


def test_equals_networkx_on_the_demo_sample(demo):
    m = person_measures(demo.persons, demo.ties, demo.participation, demo.alter_links)
    adjacency, nodes = support_graph(demo.persons, demo.ties, demo.alter_links)
    graph = nx.relabel_nodes(nx.from_scipy_sparse_array(adjacency), dict(enumerate(nodes)))
    sample = np.random.default_rng(1).choice(demo.persons["person_id"].to_numpy(), 150, replace=False)
    checked = 0
    for p in sample:
        if graph.degree(p) == 0:
            continue
        ego = nx.ego_graph(graph, p)
        assert m.loc[p, "effective_size"] == pytest.approx(nx.effective_size(ego, nodes=[p])[p])
        assert m.loc[p, "constraint"] == pytest.approx(nx.constraint(ego, nodes=[p])[p])
        assert m.loc[p, "density_alters"] == pytest.approx(nx.density(ego.subgraph([n for n in ego if n != p])))
        checked += 1
    assert checked > 100
    assert m["density_alters"].mean() > 0.1  # the demo records who knows whom


def test_lsns_items_and_totals():
    assert lsns6_item([0, 1, 2, 3, 4, 5, 8, 9, 30]).tolist() == [0, 1, 2, 3, 3, 4, 4, 5, 5]
    frame = pd.DataFrame({f"lsns_{i}": [2, 5, None] for i in range(1, 7)})
    scores = lsns6_scores(frame)
    assert scores["lsns6"].tolist()[:2] == [12, 30] and pd.isna(scores["lsns6"].iloc[2])
    assert scores["lsns6_at_risk"].tolist()[:2] == [False, False]


def test_djg_scoring():
    lonely = {f"djg_{i}": ("ja" if i in (2, 3, 5, 6, 9, 10) else "nee") for i in range(1, 12)}
    not_lonely = {f"djg_{i}": ("nee" if i in (2, 3, 5, 6, 9, 10) else "ja") for i in range(1, 12)}
    mixed = {**not_lonely, "djg_2": "min of meer", "djg_4": "min of meer", "djg_7": "nee"}
    scores = djg_scores(pd.DataFrame([lonely, not_lonely, mixed, {**lonely, "djg_5": None}]))
    assert scores["djg11"].tolist()[:3] == [11, 0, 3]
    assert scores["djg11_emotional"].tolist()[:3] == [6, 0, 1]
    assert scores["djg11_social"].tolist()[:3] == [5, 0, 2]
    assert scores["djg11_band"].tolist()[:3] == ["zeer ernstig eenzaam", "niet eenzaam", "matig eenzaam"]
    assert scores["djg6"].tolist()[:3] == [6, 0, 2]
    assert pd.isna(scores["djg11"].iloc[3])


def test_cli_signals(demo_store_file, tmp_path):
    out = tmp_path / "signalen.csv"
    store = tmp_path / "s.gpkg"
    store.write_bytes(demo_store_file.read_bytes())
    result = run_cli("signals", "--store", str(store), "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig")
    assert list(table.columns)[:3] == ["persoon", "buurtcode", "leeftijd"]
    assert 500 < len(table) < 1500
    assert table["redenen"].str.len().gt(0).all()
    assert table["persoon"].str.fullmatch(r"P[0-9a-f]{8}").all()


def test_share_by_buurt_hides_small_cells():
    """Measured 20, 4, 30, 12, 25, 10 and signalled 8, 1, 2, 6, 10, 8 in B1..B6. B2 (4 persons) is hidden,
    and B6 (10, the smallest other) too: the total minus the rest would give B2 away. Signalled: B3 (2) is
    small, and in B6 all but 2 are signalled (the complement is a cell too); with B2 and B6 already hidden
    the hidden cells add up to more than 5, so B1, B4 and B5 show their share."""
    from graphs.aggregates import signal_share_by_buurt

    sizes = {"B1": (20, 8), "B2": (4, 1), "B3": (30, 2), "B4": (12, 6), "B5": (25, 10), "B6": (10, 8)}
    signals = pd.DataFrame([{"buurt_code": b, "signal": k < s} for b, (n, s) in sizes.items() for k in range(n)])
    share = signal_share_by_buurt(signals)
    assert share["measured"].isna().tolist() == [False, True, False, False, False, True]
    assert share["signalled"].notna().tolist() == [True, False, False, True, True, False]
    assert share.loc[["B1", "B4", "B5"], "share"].tolist() == pytest.approx([40.0, 50.0, 40.0])
    assert [v if isinstance(v, str) else None for v in share["status"]] == [
        None, "minder dan 5 personen", "verborgen (kleine aantallen)", None, None, "verborgen (kleine aantallen)"]


def test_suitable_provisions_by_hand():
    """Suggestions follow the suitability table: Grip & Glans for a social need, the visiting service for the
    widowed, a buurthuis only as a meeting place without places (never as a free place), nothing for an
    emotional need when the only maatjesproject has stopped. Volunteers take no place."""
    import geopandas as gpd
    import shapely

    from graphs.aggregates import NO_PLACES, suitable_provisions

    buurten = gpd.GeoDataFrame({"area_code": ["B1", "B2"]},
                               geometry=[shapely.box(0, 0, 100, 100), shapely.box(5000, 0, 5100, 100)], crs=28992)
    provisions = gpd.GeoDataFrame({
        "provision_id": ["V1", "V2", "V3", "V4"],
        "name": ["Grip Oost", "Weduwenkring", "Vol huis", "Gestopt"],
        "type": ["grip_en_glans", "bezoekdienst_weduwen", "buurthuis", "maatjesproject"],
        "status": ["actief", "actief", "actief", "gestopt"],
        "capacity_per_year": [10, 5, 1, 50], "reach_m": [1000.0, 1000.0, 1000.0, 9000.0],
    }, geometry=[shapely.Point(50, 50), shapely.Point(60, 60), shapely.Point(70, 70), shapely.Point(50, 50)],
        crs=28992)
    participation = pd.DataFrame({"person_id": ["x", "y", "z"], "provision_id": ["V1", "V1", "V3"],
                                  "role": ["deelnemer", "vrijwilliger", "deelnemer"]})
    persons = pd.DataFrame({"person_id": ["p1", "p2", "p3", "p4"], "buurt_code": ["B1", "B1", "B2", "B1"],
                            "widowed_since": [pd.Timestamp("2025-01-01"), pd.NaT, pd.NaT, pd.NaT]})
    # p1-p3 have no informal contacts (a social need), p4 has nobody for emotional support only.
    signals = pd.DataFrame({"signal": True, "informal_size": [0, 0, 0, 5], "emotional_supporters": [2, 2, 2, 0]},
                           index=pd.Index(["p1", "p2", "p3", "p4"], dtype="string"))
    out = suitable_provisions(signals, persons, provisions, buurten, participation)
    meeting = f"Vol huis (Buurthuis / ontmoetingsplek; {NO_PLACES})"
    assert out["p1"] == ("Grip Oost (Grip & Glans; 9 plekken vrij); "
                         f"Weduwenkring (Bezoekdienst weduwen en weduwnaars; 5 plekken vrij); {meeting}")
    assert out["p2"] == f"Grip Oost (Grip & Glans; 9 plekken vrij); {meeting}"
    assert out["p3"] == ""  # nothing reaches B2
    assert out["p4"] == ""  # the maatjesproject has stopped; a group or a buurthuis is no answer to this need
    widowed_only = suitable_provisions(signals.assign(informal_size=5, emotional_supporters=2), persons,
                                       provisions, buurten, participation)
    assert widowed_only.tolist() == ["Weduwenkring (Bezoekdienst weduwen en weduwnaars; 5 plekken vrij)", "", "", ""]


def test_ecogram_is_escaped_and_complete(demo):
    from graphs.ecogram import ecogram_svg

    ties = demo.ties.loc[demo.ties["ego_id"] == demo.ties["ego_id"].iloc[0]].copy()
    svg = ecogram_svg(ties, title="<b>x</b>")
    assert svg.startswith("<svg") and svg.count("<line") == len(ties) + 3  # + three legend lines
    assert "&lt;b&gt;x&lt;/b&gt;" in svg and "<b>" not in svg
    assert "Geen steunrelaties" in ecogram_svg(ties.iloc[0:0])


def test_format_count_hides_small_cells():
    from graphs.aggregates import format_count

    assert [format_count(n) for n in (0, 1, 4, 5, 1234)] == ["0", "minder dan 5", "minder dan 5", "5", "1.234"]


def test_secondary_suppression_prevents_differencing():
    from graphs.aggregates import suppressed

    counts = pd.Series([3, 40, 25, 12], index=list("abcd"))
    hidden = suppressed(counts)
    # 3 is hidden; a total of 80 would give it back (80 - 40 - 25 - 12), so 12 goes too.
    assert hidden.tolist() == [True, False, False, True]
    assert counts[~hidden].sum() < counts.sum() - 4  # the hidden rest is never a single small cell
    assert not suppressed(pd.Series([0, 40, 25])).any()  # zero is not a small cell
    assert suppressed(pd.Series([3, 40]), total_shown=False).tolist() == [True, False]
    two = suppressed(pd.Series([1, 2, 50, 60]))
    assert two.tolist() == [True, True, True, False]  # 1 + 2 < 5: the next smallest goes as well
    # A cell hidden for another reason counts, with its real value, in the hidden sum.
    assert suppressed(pd.Series([3, 40, 25, 12]), already=pd.Series([False, False, False, True])).tolist() == [
        True, False, False, True]

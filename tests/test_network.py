"""Network measures, screening scores and poor-network signals: by hand and against networkx."""

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from graphs.measures import person_measures
from graphs.screening import djg_scores, lsns6_item, lsns6_scores
from graphs.signals import SignalRules, poor_network_signals, signal_table
from tests.test_cli import run_cli


def _tie(ego, alter=None, key=None, role="vriend", emo=False, prac=False, freq="wekelijks", same=True):
    return {"ego_id": ego, "alter_id": alter, "alter_key": key, "role": role, "support_emotional": emo,
            "support_practical": prac, "support_informational": False, "support_companionship": False,
            "contact_frequency": freq, "reciprocal": True, "same_buurt": same}


@pytest.fixture()
def hand_made():
    """Known by construction.

    A: ties to B, C, D (persons) who know each other in a triangle B-C-D (A says so, and they name
       each other too), plus a professional.
       -> size 4, informal 3, alters of A: B, C, D, prof -> k = 4, ties among them = 3.
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
    links = pd.DataFrame({"ego_id": "A", "source": ["B", "C", "D"], "target": ["C", "D", "B"]})
    return persons, ties, participation, links


def test_measures_by_hand(hand_made):
    persons, ties, participation, links = hand_made
    m = person_measures(persons, ties, participation, links)
    a = m.loc["A"]
    assert (a["network_size"], a["informal_size"], a["emotional_supporters"], a["practical_supporters"]) == (4, 3, 1, 1)
    assert a["role_diversity"] == 3  # partner, kind, professional: at least fortnightly (vriend is monthly)
    assert a["kin_share"] == pytest.approx(0.5)
    assert a["ties_outside_buurt"] == 1 and a["provisions_joined"] == 2 and a["group_ties"] == 0
    assert (a["ties_inside_buurt"], a["ties_buurt_unknown"]) == (3, 0) and a["ei_buurt"] == pytest.approx(-2 / 4)
    assert (a["reported_by_others"], a["reported_by_others_only"]) == (3, 0)  # B, C and D name A, A names them
    # k = 4 alters (B, C, D, professional), 3 ties among them
    assert a["density_alters"] == pytest.approx(3 / 6)
    assert a["effective_size"] == pytest.approx(4 - 2 * 3 / 4)
    # Constraint of A on its ego network: B, C, D each share 2 alters with A (degree 3 in the ego
    # network), the professional shares none: c = 3 (1/4 + 2 * 1/4 * 1/3)^2 + (1/4)^2
    assert a["constraint"] == pytest.approx(3 * (1 / 4 + 2 / 12) ** 2 + (1 / 4) ** 2)
    assert np.isnan(m.loc["F", "effective_size"]) and m.loc["F", "network_size"] == 0
    # B's own report: C and A, who do not know each other by B's account (A's links are A's own).
    assert m.loc["B", "density_alters"] == 0 and m.loc["B", "effective_size"] == 2


def test_ties_outside_the_buurt_use_where_persons_live(hand_made):
    persons, ties, participation, links = hand_made
    persons.loc[persons["person_id"] == "C", "buurt_code"] = "BU00010102"
    m = person_measures(persons, ties, participation, links)
    assert m.loc["A", "ties_outside_buurt"] == 2  # D said so; C lives in another buurt
    assert m.loc["B", "ties_outside_buurt"] == 1  # B -> C


def test_signals_by_hand(hand_made):
    persons, ties, participation, _ = hand_made
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


def _own_report_graph(ties: pd.DataFrame, links: pd.DataFrame, person: str) -> nx.Graph:
    """The ego graph of one person's own report, built the plain way: its ties and its alter links."""
    own = ties.loc[ties["ego_id"] == person]
    alters = set(own["alter_id"].fillna(own["alter_key"])) - {person}
    graph = nx.Graph()
    graph.add_node(person)
    graph.add_edges_from((person, a) for a in alters)
    mine = links.loc[links["ego_id"] == person]
    graph.add_edges_from((u, v) for u, v in zip(mine["source"], mine["target"], strict=True)
                         if u in alters and v in alters and u != v)
    return graph


def test_equals_networkx_on_the_demo_sample(demo):
    m = person_measures(demo.persons, demo.ties, demo.participation, demo.alter_links)
    sample = np.random.default_rng(1).choice(demo.persons["person_id"].to_numpy(), 150, replace=False)
    checked = 0
    for p in sample:
        ego = _own_report_graph(demo.ties, demo.alter_links, p)
        if ego.degree(p) < 2:
            continue
        assert m.loc[p, "effective_size"] == pytest.approx(nx.effective_size(ego, nodes=[p])[p])
        assert m.loc[p, "constraint"] == pytest.approx(nx.constraint(ego, nodes=[p])[p])
        assert m.loc[p, "density_alters"] == pytest.approx(nx.density(ego.subgraph([n for n in ego if n != p])))
        assert m.loc[p, "alters"] == ego.degree(p)
        checked += 1
    assert checked > 100
    assert m["density_alters"].mean() > 0.1  # the demo records who knows whom
    # Persons named by others in the demo: their measures ignore those reports.
    named = demo.ties["alter_id"].dropna().value_counts()
    assert (m.loc[named.index, "reported_by_others"] == named).all()


def test_lsns_items_and_totals():
    assert lsns6_item([0, 1, 2, 3, 4, 5, 8, 9, 30]).tolist() == [0, 1, 2, 3, 3, 4, 4, 5, 5]
    frame = pd.DataFrame({f"lsns_{i}": [2, 5, None] for i in range(1, 7)})
    scores = lsns6_scores(frame)
    assert scores["lsns6"].tolist()[:2] == [12, 30] and pd.isna(scores["lsns6"].iloc[2])
    assert scores["lsns6_at_risk"].tolist()[:2] == [False, False]
    # Family = items 1-3, friends = items 4-6 (0-15 each); below 6 is flagged; a missing item, a missing subscale.
    sub = lsns6_scores(pd.DataFrame([[1, 2, 2, 5, 5, 5], [2, 2, 2, 1, None, 1]], columns=[f"lsns_{i}" for i in
                                                                                        range(1, 7)]))
    assert sub["lsns6_family"].tolist() == [5, 6] and sub["lsns6_family_low"].tolist() == [True, False]
    assert sub["lsns6_friends"].iloc[0] == 15 and not sub["lsns6_friends_low"].iloc[0]
    assert pd.isna(sub["lsns6_friends"].iloc[1]) and pd.isna(sub["lsns6_friends_low"].iloc[1])
    assert pd.isna(sub["lsns6"].iloc[1])


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
    # Mixed: items 3, 9, 10 'nee' (0) and 4 'min of meer', 7 'nee' (1 each), 8 'ja' (0): short scale 0 + 2.
    assert scores["djg6_emotional"].tolist()[:3] == [3, 0, 0] and scores["djg6_social"].tolist()[:3] == [3, 0, 2]
    assert scores["djg6_band"].tolist()[:3] == ["ernstig eenzaam", "niet eenzaam", "matig eenzaam"]
    # Item 5 is emotional and not in the short scale: the social subscale and the short scale stand.
    assert pd.isna(scores["djg11_emotional"].iloc[3]) and scores["djg11_social"].iloc[3] == 5
    assert scores["djg6"].iloc[3] == 6


def test_djg6_allows_one_missing_item_and_its_subscales_none():
    """The manual's syntax for the short scale: the total with at most one item missing, a subscale with none."""
    short = {"djg_3": "ja", "djg_9": "min of meer", "djg_10": "nee", "djg_4": "nee", "djg_7": "ja", "djg_8": "ja"}
    one_missing = {**short, "djg_10": None}
    two_missing = {**short, "djg_10": None, "djg_8": None}
    scores = djg_scores(pd.DataFrame([short, one_missing, two_missing], columns=[f"djg_{i}" for i in range(1, 12)]))
    assert scores["djg6"].tolist()[:2] == [3, 3] and pd.isna(scores["djg6"].iloc[2])
    assert scores["djg6_emotional"].tolist()[0] == 2 and pd.isna(scores["djg6_emotional"].iloc[1])
    assert scores["djg6_social"].tolist()[:2] == [1, 1] and pd.isna(scores["djg6_social"].iloc[2])
    assert scores["djg11"].isna().all()  # only the six short-scale items were asked


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
    assert svg.startswith("<svg") and svg.count('<line class="ego"') == len(ties)  # one line from ego per tie
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


# --------------------------------------------------------------------------- the network card
def _person(pid, buurt, lsns=None, djg=None):
    row = {"person_id": pid, "buurt_code": buurt, "age_band": "65-74", "widowed_since": pd.NaT,
           **{f"lsns_{i}": None for i in range(1, 7)}, **{f"djg_{i}": None for i in range(1, 12)}}
    row.update({f"lsns_{i}": v for i, v in enumerate(lsns or [], start=1)})
    row.update({f"djg_{i}": v for i, v in (djg or {}).items()})
    return row


@pytest.fixture()
def card_person():
    """K, made by hand. K names six people (M and N are persons in the data, a1-a4 anonymous):

    ====  ============  ==========  ====================  ==================  ===============================
    who   role          contact     support               same_buurt (said)   where
    ====  ============  ==========  ====================  ==================  ===============================
    M     partner       daily       emotional, practical  missing             M lives in K's buurt: inside
    N     kind          weekly      emotional             yes                 N lives in BU2: outside
    a1    kind          weekly      practical             no                  outside
    a2    buur          weekly      practical             yes                 inside
    a3    professional  monthly     practical             missing             unknown
    a4    groepsgenoot  fortnightly -                     no                  outside
    ====  ============  ==========  ====================  ==================  ===============================

    K says M, N and a1 know each other (a triangle) and a2 knows a4; a link given twice (a1-M) and one to
    someone K did not name (a2-a9) add nothing. M names K (partner) and also names N; X names K but K does
    not name X. Those reports are not K's: they must not change K's measures.
    """
    emo = {2: "ja", 3: "min of meer", 5: "nee", 6: "nee", 9: "ja", 10: "nee"}  # emotional items
    soc = {1: "ja", 4: "nee", 7: "min of meer", 8: "ja", 11: "ja"}  # social items
    persons = pd.DataFrame([_person("K", "BU1", [2, 1, 2, 3, 4, 4], {**emo, **soc}),
                            _person("M", "BU1"), _person("N", "BU2"), _person("X", "BU1")])
    ties = pd.DataFrame([
        _tie("K", "M", role="partner", emo=True, prac=True, freq="dagelijks", same=None),
        _tie("K", "N", role="kind", emo=True, freq="wekelijks", same=True),
        _tie("K", key="a1", role="kind", prac=True, freq="wekelijks", same=False),
        _tie("K", key="a2", role="buur", prac=True, freq="wekelijks", same=True),
        _tie("K", key="a3", role="professional", prac=True, freq="maandelijks", same=None),
        _tie("K", key="a4", role="groepsgenoot", freq="tweewekelijks", same=False),
        _tie("M", "K", role="partner", emo=True, freq="dagelijks"), _tie("M", "N", role="kind"),
        _tie("X", "K", role="buur", emo=True),
    ])
    links = pd.DataFrame({"ego_id": "K", "source": ["M", "M", "N", "a2", "a1", "a2"],
                          "target": ["N", "a1", "a1", "a4", "M", "a9"]})
    participation = pd.DataFrame({"person_id": ["K"], "provision_id": ["V1"]})
    return persons, ties, participation, links


def test_network_card_of_a_hand_made_person(card_person):
    from graphs.card import network_card_table

    persons, ties, participation, links = card_person
    row = signal_table(persons, ties, participation, links).loc["K"]
    # Own report: 6 ties; informal 6 - 1 professional = 5; emotional M, N = 2; practical M, a1, a2, a3 = 4.
    # Role diversity: partner, kind, buur, groepsgenoot at least fortnightly = 4 (the professional is monthly).
    # Entropy: roles partner 1, kind 2, buur 1, professional 1, groepsgenoot 1 of 6:
    #   H = 4 · (1/6) log2 6 + (2/6) log2 3 = (2/3) log2 6 + (1/3) log2 3 ≈ 2,2516 bits.
    # Kin: partner + 2 kind = 3 of 6 = 50%.
    # k = 6 alters, t = 4 links (M-N, M-a1, N-a1, a2-a4): density 2·4 / (6·5) = 4/15 ≈ 0,27;
    #   effective size 6 - 2·4/6 = 14/3 ≈ 4,67.
    # Constraint: degrees among alters d(M) = d(N) = d(a1) = 2, d(a2) = d(a4) = 1, d(a3) = 0.
    #   c(M) = (1 + 1/3 + 1/3) / 6 = 5/18, the same for N and a1; c(a2) = (1 + 1/2) / 6 = 1/4 = c(a4); c(a3) = 1/6.
    #   constraint = 3 (5/18)² + 2 (1/4)² + (1/6)² = 150/648 + 81/648 + 18/648 = 249/648 ≈ 0,38.
    # Buurt: outside N (lives elsewhere), a1, a4 (said so) = 3; inside M (same registered buurt), a2 = 2;
    #   unknown a3 = 1 (missing answer, anonymous); EI = (3 - 2) / (3 + 2) = 0,20.
    # Groups: a4 = 1; provisions: V1 = 1. Named by others: M and X = 2, of whom K does not name X = 1.
    # LSNS-6: 2+1+2+3+4+4 = 16 of 30 (not below 12); family 2+1+2 = 5 (< 6: flagged); friends 3+4+4 = 11.
    # DJG-11 emotional: items 2 ja, 3 min of meer, 9 ja = 3 of 6; social: 4 nee, 7 min of meer = 2 of 5;
    #   total 5 of 11: 'matig eenzaam' (3-8). DJG-6: emotional 3, 9 = 2 of 3; social 4, 7 = 2 of 3; 4 of 6.
    assert row["effective_size"] == pytest.approx(14 / 3) and row["constraint"] == pytest.approx(249 / 648)
    assert row["role_entropy"] == pytest.approx(2 / 3 * np.log2(6) + 1 / 3 * np.log2(3))
    card = network_card_table(row).set_index("Maat")
    assert card["Waarde"].to_dict() == {
        "Netwerkgrootte": "6", "Informele contacten": "5", "Emotionele steun": "2", "Praktische steun": "4",
        "Rolverscheidenheid": "4", "Spreiding over rollen": "2,25 bits", "Aandeel familie": "50%",
        "Verschillende mensen": "6", "Onderlinge banden": "4", "Dichtheid": "0,27", "Effectieve grootte": "4,67",
        "Beperking (constraint)": "0,38", "Contacten buiten de buurt": "3", "Contacten in de buurt": "2",
        "Buurt onbekend": "1", "EI-index buurt": "0,20", "Contacten via groepen": "1", "Voorzieningen": "1",
        "LSNS-6": "16 van 30", "LSNS-6 familie": "5 van 15", "LSNS-6 vrienden": "11 van 15",
        "De Jong Gierveld (11 vragen)": "5 van 11 (matig eenzaam)", "Emotionele eenzaamheid": "3 van 6",
        "Sociale eenzaamheid": "2 van 5", "De Jong Gierveld (6 vragen)": "4 van 6 (matig eenzaam)",
        "Emotionele eenzaamheid (kort)": "2 van 3", "Sociale eenzaamheid (kort)": "2 van 3",
        "Genoemd door anderen": "2", "Alleen door de ander genoemd": "1"}
    flagged = card.loc[card["Let op"] != "", "Let op"].to_dict()
    assert flagged == {"LSNS-6 familie": "onder 6", "De Jong Gierveld (11 vragen)": "eenzaam",
                       "Emotionele eenzaamheid": "3 of meer", "De Jong Gierveld (6 vragen)": "eenzaam",
                       "Emotionele eenzaamheid (kort)": "2 of meer", "Sociale eenzaamheid (kort)": "2 of meer"}
    assert card.loc["Genoemd door anderen", "Onderdeel"] == "Genoemd door anderen"
    assert card["Wat zegt het"].str.len().gt(20).all()
    # The card of someone with no ties and no answers says why a value is missing.
    empty = network_card_table(signal_table(persons, ties, participation, links).loc["N"]).set_index("Maat")
    assert empty.loc["Dichtheid", "Waarde"] == "n.v.t. (minder dan 2 mensen)"
    assert empty.loc["LSNS-6", "Waarde"] == "geen (volledige) antwoorden"
    assert empty.loc["EI-index buurt", "Waarde"] == "onbekend (geen contact met bekende buurt)"


def test_card_measures_equal_networkx_on_the_hand_made_person(card_person):
    persons, ties, participation, links = card_person
    m = person_measures(persons, ties, participation, links).loc["K"]
    ego = _own_report_graph(ties, links, "K")
    assert m["effective_size"] == pytest.approx(nx.effective_size(ego, nodes=["K"])["K"])
    assert m["constraint"] == pytest.approx(nx.constraint(ego, nodes=["K"])["K"])
    assert m["density_alters"] == pytest.approx(nx.density(ego.subgraph(set(ego) - {"K"})))


def test_ties_of_others_do_not_change_the_own_measures():
    """Issue 14: size 3 on its own report, yet effective size 4, because someone else named the person."""
    persons = pd.DataFrame([_person("R", "BU1"), _person("S", "BU1")])
    ties = pd.DataFrame([_tie("R", key=k) for k in ("a1", "a2", "a3")] + [_tie("S", "R", emo=True)])
    m = person_measures(persons, ties).loc["R"]
    assert (m["network_size"], m["alters"], m["effective_size"], m["constraint"]) == (3, 3, 3.0, pytest.approx(1 / 3))
    assert (m["emotional_supporters"], m["reported_by_others"], m["reported_by_others_only"]) == (0, 1, 1)
    alone = person_measures(persons.iloc[:1], ties.iloc[:3]).loc["R"]
    assert alone.drop(["reported_by_others", "reported_by_others_only"]).equals(
        m.drop(["reported_by_others", "reported_by_others_only"]))


def test_missing_same_buurt_is_unknown_not_outside():
    persons = pd.DataFrame([_person("R", "BU1")])
    ties = pd.DataFrame([_tie("R", key="a1", same=None), _tie("R", key="a2", same=None),
                         _tie("R", key="a3", same=True)])
    m = person_measures(persons, ties).loc["R"]
    assert (m["ties_outside_buurt"], m["ties_inside_buurt"], m["ties_buurt_unknown"]) == (0, 1, 2)
    assert m["ei_buurt"] == -1.0  # over the one known tie only


def _export_store(town_store, card_person):
    """The town's store plus K and the others of the hand-made card, as an import would add them."""
    persons, ties, participation, links = card_person
    buurten = town_store.read_areas("buurt")["area_code"].tolist()[:2]
    persons = persons.assign(buurt_code=persons["buurt_code"].map({"BU1": buurten[0], "BU2": buurten[1]}),
                             consent=True)
    town_store.merge_network(persons, ties, participation.assign(provision_id=town_store.read_table(
        "provisions")["provision_id"].iloc[0]), alter_links=links, user="test", source="handwerk.csv")
    return town_store


def test_cli_export_measures_xlsx_and_csv(town_store, card_person, tmp_path):
    import openpyxl

    from graphs.card import CARD_MEASURES

    store = _export_store(town_store, card_person)
    n_persons = len(store.read_table("persons"))
    out = tmp_path / "netwerkmaten.xlsx"
    result = run_cli("export-measures", "--store", str(store.path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Netwerkmaten", "Toelichting"]
    rows = list(book["Netwerkmaten"].iter_rows())
    header = [c.value for c in rows[0]]
    measures = [m.export for m in CARD_MEASURES]
    assert header[:3] == ["persoon", "buurtcode", "leeftijd"] and set(measures) <= set(header)
    assert [h for h in header if h in measures] == measures  # in the order of the card
    assert len(rows) - 1 == n_persons  # one row per person
    people = [r[0].value for r in rows[1:]]
    assert len(set(people)) == n_persons
    k = dict(zip(header, rows[1 + people.index("K")], strict=True))
    assert (k["netwerkgrootte"].value, k["netwerkgrootte"].data_type) == (6, "n")
    assert k["effectieve_grootte"].data_type == "n" and k["effectieve_grootte"].value == pytest.approx(4.6667)
    assert k["aandeel_familie"].value == pytest.approx(0.5) and k["ei_index_buurt"].value == pytest.approx(0.2)
    assert (k["lsns6_familie"].value, k["lsns6_familie_laag"].value, k["lsns6_familie_laag"].data_type) == (
        5, True, "b")
    assert (k["genoemd_door_anderen"].value, k["alleen_door_ander_genoemd"].value) == (2, 1)
    # Every numeric column holds numbers or empty cells, never text.
    numeric = [i for i, h in enumerate(header) if h in measures]
    assert all(r[i].data_type in ("n", "b") for r in rows[1:] for i in numeric)
    explained = [r[0].value for r in book["Toelichting"].iter_rows(min_row=2)]
    assert set(header) <= set(explained)
    log = store.read_audit()
    entry = log.loc[log["action"] == "export-netwerkmaten"].iloc[0]
    details = json.loads(entry["details"])
    assert details["bestand"] == "netwerkmaten.xlsx" and details["aantal"] == n_persons and "K" in details["personen"]

    csv_out = tmp_path / "netwerkmaten.csv"
    assert run_cli("export-measures", "--store", str(store.path), "--out", str(csv_out)).returncode == 0
    table = pd.read_csv(csv_out, sep=";", decimal=",", encoding="utf-8-sig")
    assert list(table.columns) == header and len(table) == n_persons
    assert table.set_index("persoon").loc["K", "dichtheid"] == pytest.approx(0.2667)
    assert table.set_index("persoon").loc["K", "lsns6_familie_laag"] == "ja"
    bad = run_cli("export-measures", "--store", str(store.path), "--out", str(tmp_path / "x.json"))
    assert bad.returncode == 2 and ".csv- of .xlsx-bestand" in bad.stderr

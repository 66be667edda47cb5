"""Edge cases of the integer-code / bincount paths of graphs.measures, each against networkx ego graphs.

Every person's own-report ego graph is built the plain way (its ties, its alter links between alters it
named) and networkx's alters, ties among alters, density, effective size and constraint must equal
``person_measures`` for every person, defined or undefined (NaN) alike.
"""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from graphs.measures import person_measures

STRUCTURE = ["alters", "ties_among_alters", "density_alters", "effective_size", "constraint"]
EGO = ("the ego",)  # a node name no alter reference can have


def _tie(ego, alter=None, key=None, role="vriend", freq="wekelijks", same=True, emo=False):
    return {"ego_id": ego, "alter_id": alter, "alter_key": key, "role": role, "support_emotional": emo,
            "support_practical": False, "contact_frequency": freq, "same_buurt": same}


def _ties(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(_tie("x")))


def _links(*rows, ego=None) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=["ego_id", "source", "target"]) if ego is None else pd.DataFrame(
        [(ego, s, t) for s, t in rows], columns=["ego_id", "source", "target"])
    return frame


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string")


def _networkx_structure(persons: pd.DataFrame, ties: pd.DataFrame, links: pd.DataFrame | None) -> pd.DataFrame:
    """alters .. constraint of every person from its own-report ego graph in networkx."""
    links = links if links is not None else _links()
    rows = {}
    for person in _text(persons["person_id"]):
        mine = _text(ties["ego_id"]).eq(person).fillna(False) & ~_text(ties["alter_id"]).eq(person).fillna(False)
        own = ties.loc[mine.to_numpy(bool)]
        ref = _text(own["alter_id"]).fillna(_text(own["alter_key"]))
        alters = set(ref.dropna()) | {("unnamed", i) for i in ref.index[ref.isna()]}
        graph = nx.Graph()
        graph.add_node(EGO)
        graph.add_edges_from((EGO, a) for a in alters)
        reported = links.loc[_text(links["ego_id"]).eq(person).fillna(False).to_numpy(bool)]
        graph.add_edges_from((s, t) for s, t in zip(_text(reported["source"]), _text(reported["target"]), strict=True)
                             if s in alters and t in alters and s != t)
        k = graph.degree(EGO)
        among = graph.subgraph(alters)
        rows[person] = {"alters": k, "ties_among_alters": among.number_of_edges(),
                        "density_alters": nx.density(among) if k >= 2 else np.nan,
                        "effective_size": nx.effective_size(graph, nodes=[EGO])[EGO] if k else np.nan,
                        "constraint": nx.constraint(graph, nodes=[EGO])[EGO] if k else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index", columns=STRUCTURE)


def _assert_equals_networkx(persons, ties, links=None) -> pd.DataFrame:
    got = person_measures(persons, ties, None, links)
    want = _networkx_structure(persons, ties, links)
    assert list(got.index) == list(want.index)
    for column in STRUCTURE:
        np.testing.assert_allclose(got[column].to_numpy(float), want[column].to_numpy(float), rtol=1e-12,
                                   atol=1e-15, err_msg=column)
    return got


def _persons(*ids, buurt="BU1") -> pd.DataFrame:
    return pd.DataFrame({"person_id": list(ids), "buurt_code": buurt})


def test_duplicate_links_both_ways_and_self_links_count_once():
    ties = _ties(_tie("A", "B"), _tie("A", "C"), _tie("A", key="k1"))
    links = _links(("B", "C"), ("C", "B"), ("B", "C"), ("B", "B"), ("k1", "k1"), ego="A")
    m = _assert_equals_networkx(_persons("A", "B", "C"), ties, links).loc["A"]
    assert (m["alters"], m["ties_among_alters"]) == (3, 1)
    assert m["density_alters"] == pytest.approx(1 / 3) and m["effective_size"] == pytest.approx(3 - 2 / 3)


def test_links_to_alters_the_ego_did_not_name_and_links_of_others_add_nothing():
    ties = _ties(_tie("A", "B"), _tie("A", "C"), _tie("B", "A"), _tie("B", "C"))
    links = _links(("A", "B", "Z"), ("A", "Z", "Y"), ("A", None, "B"), ("B", "A", "C"),  # B's link is B's own
                   (None, "B", "C"), ("X", "B", "C"))  # no ego, an ego who is no person
    m = _assert_equals_networkx(_persons("A", "B", "C"), ties, links)
    assert m.loc["A", "ties_among_alters"] == 0 and m.loc["B", "ties_among_alters"] == 1
    assert m.loc["A", "constraint"] == pytest.approx(2 * (1 / 2) ** 2)


def test_unnamed_alters_by_key_or_without_any_reference():
    """Keys are alters as well as ids; a tie without id and key is an alter of its own (two of them: two)."""
    ties = _ties(_tie("A", key="k1"), _tie("A", key="k2"), _tie("A"), _tie("A"), _tie("A", key="k1"))
    links = _links(("k1", "k2"), ("k2", "k1"), ("k1", None), ego="A")
    m = _assert_equals_networkx(_persons("A"), ties, links).loc["A"]
    assert (m["network_size"], m["alters"], m["ties_among_alters"]) == (5, 4, 1)


def test_egos_with_zero_or_one_alter_and_persons_without_ties():
    ties = _ties(_tie("A", "B"), _tie("C", "C"), _tie("D", key="k"), _tie("D", key="k"))
    m = _assert_equals_networkx(_persons("A", "B", "C", "D"), ties, _links(("k", "k"), ego="D"))
    assert (m.loc["A", "alters"], m.loc["A", "effective_size"], m.loc["A", "constraint"]) == (1, 1.0, 1.0)
    assert np.isnan(m.loc["A", "density_alters"]) and m.loc["D", "alters"] == 1
    assert m.loc["C", "network_size"] == 0 and m.loc["C", "alters"] == 0  # only a self tie
    for person in ("B", "C"):
        assert m.loc[person, ["density_alters", "effective_size", "constraint"]].isna().all()
    assert m.loc["B", "reported_by_others"] == 1 and m.loc["B", "reported_by_others_only"] == 1


def test_ids_that_look_like_numbers_stay_text():
    """'1', '01' and '1.0' are three persons; an alter key equal to a person id names the same alter."""
    persons = _persons("1", "01", "1.0", "2")
    ties = _ties(_tie("1", "01"), _tie("1", "1.0"), _tie("1", key="2"), _tie("1", "2"), _tie("01", "1"))
    links = _links(("01", "1.0"), ("1.0", "2"), ("1", "01"), ego="1")
    m = _assert_equals_networkx(persons, ties, links)
    assert (m.loc["1", "network_size"], m.loc["1", "alters"], m.loc["1", "ties_among_alters"]) == (4, 3, 2)
    assert m.loc["01", "reported_by_others"] == 1 and m.loc["01", "reported_by_others_only"] == 0
    assert str(m.index.dtype) == "string"


def test_integer_person_ids_match_text_ids_in_the_ties():
    persons = pd.DataFrame({"person_id": [1, 2, 3], "buurt_code": ["BU1", "BU1", "BU2"]})
    ties = _ties(_tie("1", "2"), _tie("1", "3", same=None), _tie("2", "1"))
    links = pd.DataFrame({"ego_id": [1], "source": [2], "target": [3]})
    m = _assert_equals_networkx(persons, ties, links)
    assert m.loc["1", "ties_among_alters"] == 1 and m.loc["1", "ties_outside_buurt"] == 1
    assert m.loc["1", "reported_by_others"] == 1 and m.loc["3", "reported_by_others_only"] == 1


def test_empty_ties_and_links():
    persons = _persons("A", "B")
    for links in (None, _links()):
        m = _assert_equals_networkx(persons, _ties(), links)
        assert (m["network_size"] == 0).all() and m["constraint"].isna().all() and len(m) == 2
    only_links = _assert_equals_networkx(persons, _ties(), _links(("A", "B", "C"), ("A", "A", "B")))
    assert (only_links["alters"] == 0).all()
    none = person_measures(persons.iloc[:0], _ties(), None, None)
    assert len(none) == 0 and "constraint" in none.columns


def test_object_columns_give_the_same_measures_as_text_columns():
    ties = _ties(_tie("A", "B", role=None, freq="dagelijks"), _tie("A", key="k1", role="kind", freq="maandelijks"),
                 _tie("B", "A", same=None), _tie("B", "C", role="professional"))
    links = _links(("B", "k1"), ego="A")
    persons = _persons("A", "B", "C")
    text = person_measures(persons, ties, None, links)
    objects = person_measures(persons.astype(object), ties.astype(object), None, links.astype(object))
    pd.testing.assert_frame_equal(text, objects)
    # A tie without a role adds no role (also for the first person, whose key would otherwise be negative).
    assert text.loc["A", "role_diversity"] == 0 and text.loc["B", "role_diversity"] == 2


def test_random_small_networks_equal_networkx_for_everyone():
    """Random reports over a small id pool: duplicates, reverse links, self ties and links, keys equal to ids."""
    rng = np.random.default_rng(19)
    for _ in range(12):
        pool = [str(i) for i in range(14)] + ["07", "k1", "k2"]
        persons = _persons(*pool[:10])
        n_ties, n_links = 60, 80
        ties = pd.DataFrame({
            "ego_id": rng.choice(pool[:12] + [None], n_ties), "alter_id": rng.choice(pool + [None] * 6, n_ties),
            "alter_key": np.where(rng.random(n_ties) < 0.5, rng.choice(["k1", "k2", "3", "k3"], n_ties), None),
            "role": rng.choice(["partner", "kind", "buur", "professional", None], n_ties),
            "support_emotional": rng.random(n_ties) < 0.5, "support_practical": False,
            "contact_frequency": rng.choice(["dagelijks", "maandelijks"], n_ties),
            "same_buurt": rng.choice([True, False, None], n_ties)})
        refs = pool + ["k3", None]
        noise = pd.DataFrame({"ego_id": rng.choice(pool[:12], n_links), "source": rng.choice(refs, n_links),
                              "target": rng.choice(refs, n_links)})
        # and links between two alters of the same report (either way round, some twice)
        ref, ego = ties["alter_id"].fillna(ties["alter_key"]).to_numpy(), ties["ego_id"].to_numpy()
        same_ego = [(ego[i], ref[i], ref[rng.choice(np.flatnonzero(ego == ego[i]))])
                    for i in rng.integers(0, n_ties, n_links) if pd.notna(ego[i])]
        links = pd.concat([noise, pd.DataFrame(same_ego, columns=["ego_id", "source", "target"])], ignore_index=True)
        m = _assert_equals_networkx(persons, ties, links)
        assert m["ties_among_alters"].sum() > 0

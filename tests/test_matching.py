"""Matching signalled persons to suitable provisions as a min-cost flow: hand-checked cases,
brute force on tiny instances, the demo store and the ``match`` command."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from graphs.matching import REASON_ALREADY, REASON_FULL, REASON_NO_BUURT, REASON_NONE, match_signalled

# Buurten as 200 m squares; persons sit at the centre of their buurt.
CENTRES = {"BU01": (0, 0), "BU02": (1000, 0), "BU03": (2000, 0), "BU09": (20000, 0)}


def _buurten(centres: dict = CENTRES) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"area_code": list(centres)},
                            geometry=[box(x - 100, y - 100, x + 100, y + 100) for x, y in centres.values()],
                            crs=28992)


def _provisions(rows: list[tuple]) -> gpd.GeoDataFrame:
    """Rows: (id, type, x, y, reach_m, capacity[, status])."""
    rows = [r if len(r) == 7 else (*r, "actief") for r in rows]
    frame = pd.DataFrame(rows, columns=["provision_id", "type", "x", "y", "reach_m", "capacity_per_year", "status"])
    frame["name"] = "Voorziening " + frame["provision_id"]
    return gpd.GeoDataFrame(frame.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(frame["x"], frame["y"]),
                            crs=28992)


def _persons(rows: list[tuple]) -> pd.DataFrame:
    """Rows: (id, buurt_code[, widowed])."""
    return pd.DataFrame({
        "person_id": [r[0] for r in rows],
        "buurt_code": [r[1] for r in rows],
        "widowed_since": [pd.Timestamp("2024-01-01") if len(r) > 2 and r[2] else pd.NaT for r in rows],
    })


def _signals(persons: pd.DataFrame, signalled=None) -> pd.DataFrame:
    ids = persons["person_id"].astype(str)
    flags = ids.isin(ids if signalled is None else signalled).to_numpy()
    return pd.DataFrame({"buurt_code": persons["buurt_code"].to_numpy(), "signal": flags}, index=pd.Index(ids))


def _participation(pairs=()) -> pd.DataFrame:
    return pd.DataFrame(list(pairs), columns=["person_id", "provision_id"]).assign(role="deelnemer")


def _match(persons, provisions, participation=None, signalled=None, centres=CENTRES):
    return match_signalled(_signals(persons, signalled), persons, provisions, _buurten(centres),
                           _participation() if participation is None else participation)


def _assigned(result) -> dict:
    return dict(zip(result.assignments["person_id"], result.assignments["provision_id"], strict=True))


def _reasons(result) -> dict:
    return dict(zip(result.unmatched["person_id"], result.unmatched["reason"], strict=True))


def test_capacity_respected_and_the_rest_is_full():
    persons = _persons([(f"P{i}", "BU01") for i in range(5)] + [("Q0", "BU01")])
    # 3 places, one taken by a participant who has no signal: 2 free for 5 signalled persons.
    provisions = _provisions([("G", "grip_en_glans", 0, 0, 1500, 3)])
    result = _match(persons, provisions, _participation([("Q0", "G")]), signalled=[f"P{i}" for i in range(5)])
    assert _assigned(result) == {"P0": "G", "P1": "G"}  # deterministic: lowest ids first
    assert _reasons(result) == dict.fromkeys(["P2", "P3", "P4"], REASON_FULL)
    row = result.per_provision.set_index("provision_id").loc["G"]
    assert (row["free_places"], row["matched"], row["signalled_in_reach"]) == (2, 2, 5)


def test_nearest_provision_is_chosen_when_there_is_room():
    persons = _persons([("P1", "BU02")])
    provisions = _provisions([("FAR", "buurthuis", 0, 0, 1500, 10), ("NEAR", "buurthuis", 2000, 0, 1500, 10),
                              ("BEST", "maatjesproject", 1300, 0, 1500, 10)])
    result = _match(persons, provisions)
    assert _assigned(result) == {"P1": "BEST"}
    assert result.assignments["distance_m"].tolist() == [300] and result.total_distance_m == 300


def test_more_persons_matched_beats_a_shorter_total_distance():
    # G is next to P1 and also reaches P2; H reaches only P1. Sending P1 to G (0 m) would leave P2
    # without a place; the flow sends P1 to H (1000 m) so that both get one.
    persons = _persons([("P1", "BU01"), ("P2", "BU02")])
    provisions = _provisions([("G", "grip_en_glans", 0, 0, 1200, 1), ("H", "buurthuis", -1000, 0, 1100, 1)])
    result = _match(persons, provisions)
    assert _assigned(result) == {"P1": "H", "P2": "G"}
    assert result.total_distance_m == 2000 and result.unmatched.empty


def _options(persons, provisions, centres) -> tuple[np.ndarray, np.ndarray]:
    """Distances (whole metres) and which provisions suit and reach each person, worked out directly."""
    xy = np.array([centres[b] for b in persons["buurt_code"]], dtype=float)
    px, py = provisions.geometry.x.to_numpy(), provisions.geometry.y.to_numpy()
    dist = np.rint(np.hypot(xy[:, [0]] - px[None, :], xy[:, [1]] - py[None, :])).astype(int)
    widowed = persons["widowed_since"].notna().to_numpy()
    running = (provisions["status"] != "gestopt").to_numpy()
    fits = np.where((provisions["type"] == "bezoekdienst_weduwen").to_numpy()[None, :], widowed[:, None], True)
    return dist, (dist <= provisions["reach_m"].to_numpy()[None, :]) & fits & running[None, :]


def _brute_force(persons, provisions, centres) -> tuple[int, int]:
    """(most matched, least total distance for that number) over every possible assignment."""
    dist, ok = _options(persons, provisions, centres)
    options = [[None, *np.flatnonzero(row)] for row in ok]
    best = (0, 0)
    for choice in itertools.product(*options):
        used = [c for c in choice if c is not None]
        if any(used.count(j) > provisions["capacity_per_year"].iloc[j] for j in set(used)):
            continue
        score = (len(used), -sum(dist[i, c] for i, c in enumerate(choice) if c is not None))
        best = max(best, score)
    return best[0], -best[1]


@pytest.mark.parametrize("seed", range(8))
def test_matches_brute_force_on_tiny_instances(seed):
    rng = np.random.default_rng(seed)
    centres = {f"BU{k}": (int(x), int(y)) for k, (x, y) in enumerate(rng.integers(0, 3000, (4, 2)))}
    types = ["grip_en_glans", "buurthuis", "maatjesproject", "bezoekdienst_weduwen"]
    provisions = _provisions([
        (f"V{j}", types[j % 4], int(x), int(y), int(rng.integers(800, 2500)), int(rng.integers(0, 3)),
         "gestopt" if j == 3 and seed % 2 else "actief")
        for j, (x, y) in enumerate(rng.integers(0, 3000, (4, 2)))])
    persons = _persons([(f"P{i}", f"BU{rng.integers(0, 4)}", rng.random() < 0.4) for i in range(7)])
    result = _match(persons, provisions, centres=centres)
    assert (result.n_matched, result.total_distance_m) == _brute_force(persons, provisions, centres)
    assert result.n_matched + result.n_unmatched == len(persons)
    counts = result.assignments["provision_id"].value_counts()
    caps = provisions.set_index("provision_id")["capacity_per_year"]
    assert (counts <= caps.reindex(counts.index)).all()
    _, ok = _options(persons, provisions, centres)
    has_option = dict(zip(persons["person_id"], ok.any(axis=1), strict=True))
    assert all(has_option[p] == (r == REASON_FULL) for p, r in _reasons(result).items())


def test_visiting_service_only_for_the_widowed():
    persons = _persons([("W1", "BU01", True), ("N1", "BU01", False)])
    provisions = _provisions([("B", "bezoekdienst_weduwen", 0, 0, 3000, 5)])
    result = _match(persons, provisions)
    assert _assigned(result) == {"W1": "B"}
    assert _reasons(result) == {"N1": REASON_NONE}
    assert result.per_provision.loc[0, "signalled_in_reach"] == 1


def test_stopped_and_unsuitable_provisions_are_ignored():
    persons = _persons([("P1", "BU01")])
    provisions = _provisions([("S", "grip_en_glans", 0, 0, 3000, 10, "gestopt"),
                              ("J", "jongerenwerk", 0, 0, 3000, 10),
                              ("D", "buurthuis", 2000, 0, 2500, 10, "onder_druk")])
    result = _match(persons, provisions)
    assert _assigned(result) == {"P1": "D"}  # running 'onder druk' counts, stopped and youth work do not
    assert result.per_provision["provision_id"].tolist() == ["D"]


def test_out_of_reach_and_unknown_buurt_give_their_reasons():
    persons = _persons([("P1", "BU09"), ("P2", "BU77"), ("P3", "BU01")])
    provisions = _provisions([("G", "grip_en_glans", 0, 0, 1500, 10)])
    result = _match(persons, provisions)
    assert _assigned(result) == {"P3": "G"}
    assert _reasons(result) == {"P1": REASON_NONE, "P2": REASON_NO_BUURT}


def test_reach_falls_back_to_the_default_of_the_type():
    persons = _persons([("P1", "BU03")])
    # 2000 m away; Grip & Glans reaches 2500 m by default, a buurthuis 1000 m.
    provisions = _provisions([("G", "grip_en_glans", 0, 0, np.nan, 10), ("H", "buurthuis", 0, 0, np.nan, 10)])
    result = _match(persons, provisions)
    assert _assigned(result) == {"P1": "G"}
    assert result.per_provision.set_index("provision_id")["signalled_in_reach"].to_dict() == {"G": 1, "H": 0}


def test_participants_are_not_proposed_the_provision_they_already_join():
    persons = _persons([("P1", "BU01"), ("P2", "BU09")])
    provisions = _provisions([("G", "grip_en_glans", 0, 0, 1500, 10), ("H", "buurthuis", 500, 0, 1000, 10),
                              ("F", "buurthuis", 20000, 0, 1000, 10)])
    result = _match(persons, provisions, _participation([("P1", "G"), ("P2", "F")]))
    assert _assigned(result) == {"P1": "H"}
    assert _reasons(result) == {"P2": REASON_ALREADY}
    counts = result.per_provision.set_index("provision_id")
    assert counts.loc["G", "free_places"] == 9 and counts.loc["G", "signalled_in_reach"] == 0


def test_nobody_signalled_or_nothing_running():
    persons = _persons([("P1", "BU01")])
    provisions = _provisions([("G", "grip_en_glans", 0, 0, 1500, 10)])
    none = _match(persons, provisions, signalled=[])
    assert none.assignments.empty and none.unmatched.empty and none.total_distance_m == 0
    assert none.per_provision["matched"].tolist() == [0]
    stopped = _match(persons, _provisions([("G", "grip_en_glans", 0, 0, 1500, 10, "gestopt")]))
    assert _reasons(stopped) == {"P1": REASON_NONE} and stopped.per_provision.empty


def test_interchangeable_persons_are_split_deterministically():
    persons = _persons([(f"P{i:02d}", "BU02") for i in range(10)][::-1])
    provisions = _provisions([("A", "buurthuis", 1100, 0, 1000, 3), ("B", "buurthuis", 1400, 0, 1000, 4),
                              ("C", "buurthuis", 1900, 0, 1000, 2)])
    result = _match(persons, provisions)
    assert _assigned(result) == {**dict.fromkeys(["P00", "P01", "P02"], "A"),
                                 **dict.fromkeys(["P03", "P04", "P05", "P06"], "B"),
                                 **dict.fromkeys(["P07", "P08"], "C")}
    assert _reasons(result) == {"P09": REASON_FULL}
    assert result.total_distance_m == 3 * 100 + 4 * 400 + 2 * 900


def _demo_inputs(store):
    from graphs.measures import person_measures
    from graphs.signals import poor_network_signals

    persons, ties, participation = (store.read_table(n) for n in ("persons", "ties", "participation"))
    signals = poor_network_signals(persons, ties, participation, measures=person_measures(
        persons, ties, participation, store.read_table("alter_links")))
    return signals, persons, store.read_table("provisions"), store.read_areas("buurt"), participation


def test_demo_store_assignments_are_within_reach_and_capacity(demo_store):
    signals, persons, provisions, buurten, participation = _demo_inputs(demo_store)
    catalogue = demo_store.read_provision_types()
    result = match_signalled(signals, persons, provisions, buurten, participation, catalogue=catalogue)
    assert result.n_matched + result.n_unmatched == int(signals["signal"].sum())
    assert set(result.assignments["person_id"]).isdisjoint(result.unmatched["person_id"])
    assert set(result.assignments["person_id"]) | set(result.unmatched["person_id"]) == \
        set(signals.index[signals["signal"]])
    per = result.per_provision.set_index("provision_id")
    assert (per["matched"] <= per["free_places"]).all()
    assert (per["matched"] <= per["signalled_in_reach"]).all()
    assert per["matched"].sum() == result.n_matched
    # Every assignment suits the person and lies within reach of their buurt centre.
    prov = provisions.set_index("provision_id").loc[result.assignments["provision_id"]]
    assert (prov["status"] != "gestopt").all()
    reach = prov["reach_m"].fillna(prov["type"].map(lambda t: catalogue[t].default_reach_m)).to_numpy()
    centres = buurten.set_index("area_code").geometry.centroid.loc[result.assignments["buurt_code"]]
    dist = np.hypot(centres.x.to_numpy() - prov.geometry.x.to_numpy(), centres.y.to_numpy() - prov.geometry.y.to_numpy())
    assert (dist <= reach).all()
    assert np.allclose(dist, result.assignments["distance_m"], atol=0.5)
    widowed = persons.set_index("person_id")["widowed_since"].notna()
    visits = result.assignments.loc[result.assignments["type"] == "bezoekdienst_weduwen", "person_id"]
    assert widowed.loc[visits].all()
    joined = set(zip(participation["person_id"], participation["provision_id"], strict=True))
    assert not joined & set(zip(result.assignments["person_id"], result.assignments["provision_id"], strict=True))
    assert result.total_distance_m == result.assignments["distance_m"].sum()


def test_match_command_writes_csv_for_dutch_excel(demo_store, tmp_path, capsys):
    from cli import main

    out = tmp_path / "koppeling.csv"
    assert main(["match", "--store", str(demo_store.path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "met een voorstel voor een passende voorziening" in printed and "zonder mogelijkheid" in printed
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    table = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert table.columns.tolist() == ["persoon", "buurtcode", "voorziening_id", "voorziening", "soort",
                                      "afstand_m", "reden"]
    signals, *_ = _demo_inputs(demo_store)
    assert sorted(table["persoon"]) == sorted(signals.index[signals["signal"]])
    matched = table["voorziening_id"] != ""
    assert (table.loc[matched, "reden"] == "").all() and (table.loc[~matched, "reden"] != "").all()
    assert table.loc[matched, "afstand_m"].str.fullmatch(r"\d+").all()
    assert f"{matched.sum():,}".replace(",", ".") + " met een voorstel" in printed


def test_match_command_reports_the_gap(tmp_path, capsys):
    from cli import main
    from data.store import GeoPackageStore

    store = GeoPackageStore.open(tmp_path / "klein.gpkg")
    buurten = _buurten().assign(name=lambda f: f["area_code"], level="buurt", gemeente_code="GM9999")
    provisions = _provisions([("V1", "grip_en_glans", 0, 0, 1500, 1)]).assign(
        name="Grip & Glans Centrum")
    persons = _persons([("P1", "BU01"), ("P2", "BU01"), ("P3", "BU09")]).assign(consent=1)
    store.replace_tables({"areas": buurten, "provisions": provisions, "persons": persons}, user="test",
                         action="test")
    out = tmp_path / "uit.csv"
    assert main(["match", "--store", str(store.path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 personen met een signaal" in printed and "1 met een voorstel" in printed
    assert "2 zonder mogelijkheid" in printed
    assert f"{REASON_FULL}: 1" in printed and f"{REASON_NONE}: 1" in printed
    table = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert table.to_dict("records") == [
        {"persoon": "P1", "buurtcode": "BU01", "voorziening_id": "V1", "voorziening": "Grip & Glans Centrum",
         "soort": "Grip & Glans", "afstand_m": "0", "reden": ""},
        {"persoon": "P2", "buurtcode": "BU01", "voorziening_id": "", "voorziening": "", "soort": "",
         "afstand_m": "", "reden": REASON_FULL},
        {"persoon": "P3", "buurtcode": "BU09", "voorziening_id": "", "voorziening": "", "soort": "",
         "afstand_m": "", "reden": REASON_NONE},
    ]


def test_free_places_can_count_participants_the_caller_does_not_see(demo_store):
    """A wijkteam sees its own participation rows only; free places must still count everyone."""
    signals, persons, provisions, buurten, participation = _demo_inputs(demo_store)
    catalogue = demo_store.read_provision_types()
    some = participation.iloc[: len(participation) // 3]
    everyone = participation.groupby("provision_id").size()
    full = match_signalled(signals, persons, provisions, buurten, participation, catalogue=catalogue)
    partial = match_signalled(signals, persons, provisions, buurten, some, catalogue=catalogue, taken=everyone)
    assert partial.per_provision["free_places"].tolist() == full.per_provision["free_places"].tolist()
    naive = match_signalled(signals, persons, provisions, buurten, some, catalogue=catalogue)
    assert (naive.per_provision["free_places"] >= full.per_provision["free_places"]).all()
    assert (naive.per_provision["free_places"] > full.per_provision["free_places"]).any()

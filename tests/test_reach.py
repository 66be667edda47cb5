"""One definition of a buurt's location, a provision's reach, running and places (data/reach.py), by hand,
and the agreement of gaps, scenarios and matching on "is a running provision of type T in reach of buurt B"
for the demo and for each real town of ../shared/realdata (issue 13, part 9)."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data.provision_types import NEEDS, PROVISION_TYPES
from data.reach import (
    FALLBACK_REACH_M,
    buurt_points,
    catchment_pairs,
    effective_reach_m,
    fits,
    free_places,
    is_running,
    needs_from_pattern,
    needs_pattern,
    places,
    reach_pairs,
    room_by_need,
    suitability_from_grid,
    suitability_grid,
    supply_per_year,
)
from tests.conftest import realdata

ALL_TYPES = list(PROVISION_TYPES)


def _points(rows: list[tuple]) -> gpd.GeoDataFrame:
    """Rows: (id, type, x, y, reach_m, capacity, status[, volunteers])."""
    rows = [r if len(r) == 8 else (*r, np.nan) for r in rows]
    frame = pd.DataFrame(rows, columns=["provision_id", "type", "x", "y", "reach_m", "capacity_per_year", "status",
                                        "volunteers"])
    return gpd.GeoDataFrame(frame.drop(columns=["x", "y"]).assign(name="Voorziening " + frame["provision_id"]),
                            geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=28992)


# --------------------------------------------------------------------------- the definitions by hand
def test_a_buurt_is_located_inside_itself():
    """A U-shaped buurt (three sides of a 300 m square, 100 m wide): its centroid (150, 171) lies in the open
    middle, outside the buurt; the representative point lies inside."""
    u = shapely.Polygon([(0, 0), (300, 0), (300, 300), (200, 300), (200, 100), (100, 100), (100, 300), (0, 300)])
    buurten = gpd.GeoDataFrame({"area_code": ["BU01"]}, geometry=[u], crs=28992)
    assert not buurten.geometry.centroid.iloc[0].within(u)
    assert buurt_points(buurten).iloc[0].within(u)


def test_running_means_not_stopped_and_inside_the_areas():
    provisions = _points([("A", "buurthuis", 0, 0, 1, 1, "actief"), ("B", "buurthuis", 0, 0, 1, 1, "onder_druk"),
                          ("C", "buurthuis", 0, 0, 1, 1, "gestopt"), ("D", "buurthuis", 0, 0, 1, 1, "hypothetisch"),
                          ("E", "buurthuis", 0, 0, 1, 1, "actief"), ("F", "buurthuis", 0, 0, 1, 1, "actief")])
    assert is_running(provisions).tolist() == [True, True, False, True, True, True]  # no column: all inside
    provisions["outside_areas"] = [False, False, False, None, True, np.nan]
    assert is_running(provisions).tolist() == [True, True, False, True, False, True]


def test_effective_reach_falls_back_to_the_type_then_one_kilometre():
    provisions = _points([("A", "grip_en_glans", 0, 0, 800, 1, "actief"), ("B", "grip_en_glans", 0, 0, np.nan, 1,
                                                                           "actief"),
                          ("C", "kookclub", 0, 0, np.nan, 1, "actief"), ("D", "buurthuis", 0, 0, 0, 1, "actief")])
    assert effective_reach_m(provisions).tolist() == [800, 2500, FALLBACK_REACH_M, 1000]
    own = {**PROVISION_TYPES, "grip_en_glans": replace(PROVISION_TYPES["grip_en_glans"], default_reach_m=1200)}
    assert effective_reach_m(provisions, own).tolist() == [800, 1200, 1000, 1000]


def test_in_reach_is_inclusive_and_skips_missing_points():
    """Points 0, 300 and 500 m from a provision with 300 m reach, plus one without coordinates."""
    demand = np.array([[0, 0], [300, 0], [500, 0], [np.nan, np.nan]])
    i, j, d = catchment_pairs(demand, np.array([[0.0, 0.0], [np.nan, 0.0]]), np.array([300.0, 9e9]))
    assert (i.tolist(), j.tolist(), d.tolist()) == ([0, 1], [0, 0], [0.0, 300.0])
    # Distance 3-4-5: exactly at the reach counts, a millimetre beyond does not.
    i, _, _ = catchment_pairs(np.array([[3.0, 4.0], [3.0, 4.001]]), np.array([[0.0, 0.0]]), np.array([5.0]))
    assert i.tolist() == [0]


def test_places_visitors_and_free_places_by_hand():
    """V: a visiting service without capacity, 3 volunteers × 2 visits a year = 6 places; 2 participants and
    a volunteer: 4 free. M: a maatjesproject with capacity 4 and 5 participants: never below 0.
    H: a buurthuis with 1000 visitors a year: supply 1000 for the gap page, but 0 places."""
    provisions = _points([("V", "bezoekdienst_weduwen", 0, 0, 3000, np.nan, "actief", 3),
                          ("M", "maatjesproject", 0, 0, 3000, 4, "actief", 9),
                          ("H", "buurthuis", 0, 0, 1000, 1000, "actief", 12)])
    participation = pd.DataFrame({"person_id": ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
                                  "provision_id": ["V", "V", "V", "M", "M", "M", "M", "M", "H"],
                                  "role": ["deelnemer", "deelnemer", "vrijwilliger", *["deelnemer"] * 5, None]})
    assert supply_per_year(provisions).tolist() == [6, 4, 1000]
    assert places(provisions).tolist() == [6, 4, 0]
    assert free_places(provisions, participation).tolist() == [4, 0, 0]
    assert free_places(provisions, pd.Series({"V": 1})).tolist() == [5, 4, 0]  # counts given: as they are
    assert free_places(provisions, None).tolist() == [6, 4, 0]


def test_suitability_fits_and_needs_patterns():
    types = ["bezoekdienst_weduwen", "maatjesproject", "grip_en_glans", "buurthuis", "jongerenwerk"]
    needs = np.array([[True, False, False], [False, True, True], [False, False, False]])
    assert list(NEEDS) == ["verweduwd", "emotioneel", "sociaal"]
    assert fits(types, needs).tolist() == [[True, False, False, False, False],
                                           [False, True, True, True, False],
                                           [False, False, False, False, False]]
    assert fits(types, needs, {"jongerenwerk": ("sociaal",)})[1].tolist() == [False, False, False, False, True]
    patterns = needs_pattern(needs)
    assert patterns.tolist() == ["verweduwd", "emotioneel+sociaal", ""]
    assert (needs_from_pattern(patterns) == needs).all()
    grid = suitability_grid()
    assert grid.loc["buurthuis", ["has_places", "sociaal"]].tolist() == [False, True]
    assert suitability_from_grid(grid) == {"bezoekdienst_weduwen": ("verweduwd",), "buurthuis": ("sociaal",),
                                           "grip_en_glans": ("sociaal",), "maatjesproject": ("emotioneel",),
                                           "sociaal_cultureel_werk": ("sociaal",)}


def test_room_by_need_counts_places_not_visitors():
    """A point at 0: a full visiting service (1 place, 1 participant), a buurthuis with visitors (no places)
    and a maatjesproject with room: only the emotional need has a provision with room."""
    provisions = _points([("V", "bezoekdienst_weduwen", 0, 0, 3000, 1, "actief"),
                          ("H", "buurthuis", 0, 0, 1000, 1000, "actief"),
                          ("M", "maatjesproject", 0, 0, 3000, 5, "actief")])
    room = room_by_need(np.array([[0.0, 0.0], [9000.0, 0.0]]), provisions, pd.Series({"V": 1}))
    assert room.tolist() == [[False, True, False], [False, False, False]]


def test_need_categories_by_hand():
    """A widowed person with an emotional supporter and enough contacts: 'verweduwd' only. Nobody for
    emotional support: 'emotioneel'. Two informal contacts, or an LSNS-6 of 10, or a high De Jong Gierveld
    social subscale: 'sociaal'. Not signalled: nothing. Signalled for practical support only: nothing."""
    from graphs.signals import SignalRules, need_categories

    signals = pd.DataFrame({
        "signal": [True, True, True, True, True, False, True],
        "emotional_supporters": [1, 0, 2, 2, 2, 0, 2], "informal_size": [5, 5, 2, 5, 5, 0, 5],
        "lsns6": [20, np.nan, 20, 10, 20, 0, 20], "djg11_emotional": [0, 0, 0, 0, 0, 6, np.nan],
        "djg11_social": [0, 0, 0, 0, 3, 5, np.nan],
    }, index=pd.Index(["w", "e", "s1", "s2", "s3", "n", "p"], dtype="string"))
    persons = pd.DataFrame({"person_id": list(signals.index), "widowed_since": [pd.Timestamp("2025-03-01"),
                                                                                *[pd.NaT] * 6]})
    needs = need_categories(signals, persons)
    assert list(needs.columns) == list(NEEDS)
    assert needs_pattern(needs).tolist() == ["verweduwd", "emotioneel", "sociaal", "sociaal", "sociaal", "", ""]
    # The thresholds follow the rules in use: fewer than 6 informal contacts makes s2, s3 and w social too.
    wider = need_categories(signals, persons, rules=SignalRules(min_informal=6))
    assert needs_pattern(wider).tolist()[:5] == ["verweduwd+sociaal", "emotioneel+sociaal", "sociaal", "sociaal",
                                                 "sociaal"]


def test_needs_follow_the_loneliness_subscales():
    """Issue 14 part 5: emotional loneliness points to individual support (a maatje), social loneliness to groups.

    Everyone has three informal contacts and one emotional supporter and is signalled only for lacking practical
    support, so the De Jong Gierveld subscales, scored as graphs.screening does ('min of meer' counts as lonely),
    decide the needs: the 11-item subscale from 3 (of 6 or 5), the short scale's (of 3) from 2 when the 11 items
    were not asked. A low 11-item subscale is not overruled by the short-scale items within it.
    """
    from graphs.signals import SignalRules, needs_of, signal_table

    items = [f"djg_{i}" for i in range(1, 12)]
    calm = {f"djg_{i}": ("nee" if i in (2, 3, 5, 6, 9, 10) else "ja") for i in range(1, 12)}
    answers = {
        "e11": {**calm, "djg_2": "ja", "djg_5": "min of meer", "djg_6": "ja"},  # emotional 3 of 6
        "s11": {**calm, "djg_1": "nee", "djg_11": "min of meer", "djg_8": "nee"},  # social 3 of 5
        "e6": {"djg_3": "ja", "djg_9": "min of meer", "djg_10": "nee", "djg_4": "ja", "djg_7": "ja", "djg_8": "ja"},
        "s6": {"djg_3": "nee", "djg_9": "nee", "djg_10": "nee", "djg_4": "nee", "djg_7": "min of meer", "djg_8": "ja"},
        "low": {**calm, "djg_3": "ja", "djg_9": "ja"},  # 11 items: emotional 2 of 6 (short scale alone: 2 of 3)
        "neutral": dict.fromkeys(items, "min of meer"),  # every item lonely: both subscales full
    }
    ids = list(answers)
    persons = pd.DataFrame([{"person_id": p, "buurt_code": "BU1", "age_band": "65-74", "widowed_since": pd.NaT,
                             **{f"lsns_{i}": None for i in range(1, 7)}, **dict.fromkeys(items),
                             **answers[p]} for p in ids])
    ties = pd.DataFrame([{"ego_id": p, "alter_id": None, "alter_key": f"a{k}", "role": "vriend",
                          "support_emotional": k == 0, "support_practical": False, "contact_frequency": "wekelijks",
                          "same_buurt": True} for p in ids for k in range(3)])
    rules = SignalRules(lsns_below=None, min_emotional=None, min_practical=1, min_informal=None)
    table = signal_table(persons, ties, rules=rules)
    assert table["signal"].all()
    assert table.loc[ids, "djg11_emotional"].tolist()[:2] == [3, 0] and table.loc["e6", "djg6_emotional"] == 2
    needs = needs_of(table).loc[ids]
    assert needs_pattern(needs).tolist() == ["emotioneel", "sociaal", "emotioneel", "sociaal", "",
                                             "emotioneel+sociaal"]
    suits = fits(["maatjesproject", "grip_en_glans", "bezoekdienst_weduwen"], needs.to_numpy())
    assert suits[:, 0].tolist() == [True, False, True, False, False, True]  # a maatje for emotional loneliness
    assert suits[:, 1].tolist() == [False, True, False, True, False, True]  # a group for social loneliness


# --------------------------------------------------------------------------- gaps, scenarios and matching agree
def _demo_town(demo):
    buurten = demo.areas.loc[demo.areas["level"] == "buurt"].reset_index(drop=True)
    provisions = demo.provisions.copy()
    return buurten, provisions


def _real_town(town: str):
    """The town's CBS 2015 buurten and its facility points as provisions of our types (a fixed type map)."""
    from data.cbs import harmonise_cbs_areas
    from data.provisions import read_provision_points

    areas = harmonise_cbs_areas(gpd.read_file(realdata(f"{town}_buurten_2015.geojson")), year=2015).areas
    buurten = areas.loc[areas["level"] == "buurt"].reset_index(drop=True)
    kinds = {"school_primary": "jongerenwerk", "school_secondary": "buurthuis", "care_ggz": "grip_en_glans",
             "care_ghz": "maatjesproject", "care_vvt": "bezoekdienst_weduwen", "hospital": "sociaal_cultureel_werk"}
    provisions = read_provision_points(realdata(f"{town}_facilities_nonosm.geojson"), type_map=kinds)
    return buurten, provisions


def _varied(provisions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every case the old copies disagreed on: missing reaches (type default), stopped, at risk, outside the
    areas, a reach of its own; and room everywhere, so reach alone decides."""
    k = np.arange(len(provisions))
    out = provisions.reset_index(drop=True).copy()
    out["reach_m"] = np.where(k % 3 == 0, np.nan, np.where(k % 3 == 1, 700.0 + 37 * k, out["reach_m"]))
    out["status"] = np.select([k % 5 == 0, k % 7 == 0], ["gestopt", "onder_druk"], "actief")
    out["outside_areas"] = k % 11 == 4
    out["capacity_per_year"] = 1_000_000
    out["provision_id"] = [f"V{j:03d}" for j in k]
    return out


def _matching_reach(buurten, provisions, ptype: str, catalogue: dict) -> np.ndarray:
    """Per buurt, from the matching: one signalled person per buurt whose one need only type T suits; the
    person is reached by a running T unless the reason is 'geen passende voorziening binnen bereik'."""
    from graphs.matching import REASON_NONE, match_signalled

    codes = buurten["area_code"].to_numpy()
    ids = pd.Index([f"P{j:04d}" for j in range(len(codes))], dtype=object)
    persons = pd.DataFrame({"person_id": ids, "buurt_code": codes, "widowed_since": pd.NaT})
    signals = pd.DataFrame({"signal": True}, index=ids)
    needs = pd.DataFrame({"verweduwd": False, "emotioneel": False, "sociaal": True}, index=ids)
    result = match_signalled(signals, persons, provisions, buurten, pd.DataFrame(columns=["person_id",
                                                                                         "provision_id"]),
                             catalogue=catalogue, suitability={ptype: ("sociaal",)}, needs=needs)
    none = set(result.unmatched.loc[result.unmatched["reason"] == REASON_NONE, "person_id"])
    return ~ids.isin(none)


@pytest.mark.parametrize("town", ["demo", "leeuwarden", "haarlem", "zaanstad"])
def test_gaps_scenarios_and_matching_agree_on_what_is_in_reach(town, demo):
    from graphs.matching import match_signalled
    from mapping.gaps import gaps_from_need_and_supply
    from mapping.scenarios import Scenario, run_scenario

    buurten, provisions = _demo_town(demo) if town == "demo" else _real_town(town)
    provisions = _varied(provisions)
    codes = buurten["area_code"].to_numpy()
    types = sorted(set(provisions["type"]))
    assert len(types) >= 5

    gaps = gaps_from_need_and_supply(buurten, provisions, types=ALL_TYPES)
    from_gaps = gaps.pivot(index="area_code", columns="type", values="in_reach").loc[codes, ALL_TYPES]
    scenario = run_scenario(buurten, provisions, Scenario("niets"), types=ALL_TYPES).per_buurt
    from_scenario = scenario.pivot(index="area_code", columns="type", values="reach_before").loc[codes, ALL_TYPES]
    assert from_gaps.to_numpy().tolist() == from_scenario.to_numpy().tolist()
    assert (scenario["reach_before"] == scenario["reach_after"]).all()

    # The matching for every type, types without places taken as having them (to see their reach at all).
    with_places = {code: replace(t, has_places=True) for code, t in PROVISION_TYPES.items()}
    for ptype in ALL_TYPES:
        assert _matching_reach(buurten, provisions, ptype, with_places).tolist() == from_gaps[ptype].tolist(), ptype
    # Where a type has places, the scenarios' "suitable with room" is the same answer as well.
    for ptype in [t for t in types if PROVISION_TYPES[t].has_places]:
        signalled = pd.DataFrame({"buurt_code": codes, "widowed": False, "needs": "sociaal", "count": 1})
        counts = run_scenario(buurten, provisions, Scenario("niets"), types=[ptype], signalled=signalled,
                              suitability={ptype: ("sociaal",)}).signalled
        assert counts["without_before"] == int((~from_gaps[ptype]).sum()), ptype
    # … and with the real catalogue a type without places is never a candidate, however many visitors.
    real = match_signalled(pd.DataFrame({"signal": [True]}, index=["P"]),
                           pd.DataFrame({"person_id": ["P"], "buurt_code": [codes[0]], "widowed_since": [pd.NaT]}),
                           provisions, buurten, pd.DataFrame(columns=["person_id", "provision_id"]),
                           suitability={t: ("sociaal",) for t in ALL_TYPES},
                           needs=pd.DataFrame({"verweduwd": [False], "emotioneel": [False], "sociaal": [True]},
                                              index=["P"]))
    assert set(real.per_provision["type"]) <= {t for t in ALL_TYPES if PROVISION_TYPES[t].has_places}
    # The answer is not trivial: some pairs are in reach and some are not.
    assert 0 < from_gaps.to_numpy().mean() < 1


@pytest.mark.parametrize("town", ["leeuwarden", "haarlem", "zaanstad"])
def test_the_old_copies_did_disagree_on_the_real_towns(town):
    """What the one definition replaces, so the agreement above can fail: the matching used the buurt's
    centroid, a reach of 0 where none was known and counted points outside the areas; the gap page the
    representative point and a fallback of 1 km. On the real towns those answers differ."""
    buurten, provisions = _real_town(town)
    provisions = _varied(provisions)
    running = provisions.loc[is_running(provisions)].reset_index(drop=True)
    points = buurten.geometry.representative_point()
    new_i, new_j, _ = reach_pairs(np.c_[points.x, points.y], running)
    centroid = buurten.geometry.centroid
    old = provisions.loc[provisions["status"] != "gestopt"].reset_index(drop=True)
    default = old["type"].map({c: t.default_reach_m for c, t in PROVISION_TYPES.items()})
    old_i, old_j, _ = catchment_pairs(np.c_[centroid.x, centroid.y], np.c_[old.geometry.x, old.geometry.y],
                                      old["reach_m"].fillna(default).fillna(0).to_numpy(float))
    new = pd.crosstab(new_i, running["type"].to_numpy()[new_j]).reindex(index=range(len(buurten)),
                                                                          fill_value=0) > 0
    old_cov = pd.crosstab(old_i, old["type"].to_numpy()[old_j]).reindex(index=range(len(buurten)),
                                                                         fill_value=0) > 0
    new, old_cov = new.align(old_cov, fill_value=False)
    assert (new != old_cov).to_numpy().any()


@pytest.mark.parametrize("ball_query_max", [0, 10_000])
def test_catchment_pairs_equal_brute_force_on_both_query_paths(monkeypatch, ball_query_max):
    """Ball queries per provision (few provisions) and the dual-tree distance matrix (many) give exactly the
    pairs of a dense distance matrix, boundary included, missing points and reaches left out."""
    import data.reach as reach

    monkeypatch.setattr(reach, "_BALL_QUERY_MAX", ball_query_max)
    rng = np.random.default_rng(5)
    demand = rng.uniform(0, 5_000, (400, 2))
    demand[7] = np.nan
    supply = rng.uniform(0, 5_000, (60, 2))
    reach_m = rng.uniform(100, 1_500, 60)
    reach_m[3] = np.nan
    supply[4] = demand[10]  # distance 0
    supply[5] = demand[11] + [300.0, 400.0]  # exactly 500 m
    reach_m[5] = 500.0
    i, j, d = catchment_pairs(demand, supply, reach_m)
    dist = np.hypot(demand[:, None, 0] - supply[None, :, 0], demand[:, None, 1] - supply[None, :, 1])
    want_i, want_j = np.nonzero(dist <= reach_m[None, :])  # NaN compares False: left out
    assert list(zip(i, j, strict=True)) == list(zip(want_i, want_j, strict=True))
    assert np.array_equal(d, dist[want_i, want_j])
    found = set(zip(i.tolist(), j.tolist(), strict=True))
    assert (11, 5) in found and (10, 4) in found


def test_the_reused_tree_answers_for_the_points_it_was_built_on():
    """The k-d tree of the demand points is reused for equal points only: other points of the same shape
    get their own tree (and their own pairs)."""
    rng = np.random.default_rng(9)
    demand = rng.uniform(0, 1_000, (50, 2))
    supply, reach_m = np.array([[500.0, 500.0]]), np.array([300.0])
    first = catchment_pairs(demand, supply, reach_m)
    again = catchment_pairs(demand.copy(), supply, reach_m)
    moved = catchment_pairs(demand + 2_000, supply, reach_m)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert len(first[0]) > 0 and len(moved[0]) == 0

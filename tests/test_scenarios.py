"""Scenarios: before/after by hand on a small grid, the demo story, saving and comparing in the store."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data.errors import ConflictError, DataValidationError
from mapping.gaps import gaps_from_need_and_supply
from mapping.scenarios import NewProvision, Scenario, apply_scenario, compare_scenarios, run_scenario

VISIT = "bezoekdienst_weduwen"


@pytest.fixture()
def grid():
    """Three 1 km buurten in a row; need for the visiting service = 0,10 × widowed:
    West 1000 × 10% → 10, Midden 2000 × 15% → 30, Oost 1000 × 20% → 20.
    V1 (20 places, reach 1,5 km) at the centre of West; V2 in Oost has stopped;
    G1, a Grip & Glans group in West (reach 0,8 km), is full (10 of 10 places taken)."""
    buurten = gpd.GeoDataFrame({
        "area_code": ["BU00010001", "BU00010002", "BU00010003"], "name": ["West", "Midden", "Oost"],
        "aantal_inwoners": [1000.0, 2000.0, 1000.0], "percentage_verweduwd": [10.0, 15.0, 20.0], "water": False,
    }, geometry=[shapely.box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(3)], crs=28992)
    provisions = gpd.GeoDataFrame({
        "provision_id": ["V1", "V2", "G1"], "name": ["Kring West", "Kring Oost", "Grip & Glans West"],
        "type": [VISIT, VISIT, "grip_en_glans"], "status": ["actief", "gestopt", "actief"],
        "capacity_per_year": [20, 50, 10], "reach_m": [1500.0, 1500.0, 800.0],
        "funding_end": pd.to_datetime(["2028-01-01", "2025-06-01", "2027-01-01"]),
    }, geometry=[shapely.Point(500, 500), shapely.Point(2500, 500), shapely.Point(500, 500)], crs=28992)
    participation = pd.DataFrame({"person_id": [f"x{k}" for k in range(10)], "provision_id": "G1"})
    signalled = pd.DataFrame({
        "person_id": ["p1", "p2", "p3", "p4"],
        "buurt_code": ["BU00010001", "BU00010003", "BU00010002", "BU00010001"],
        "widowed": [False, True, True, True],
    })
    return buurten, provisions, participation, signalled


def test_before_after_by_hand(grid):
    """Before: V1 reaches West and Midden (0 and 1 km): R = 20 / (10 + 30) = 0,5, so A = 0,5 there and
    Oost (2 km away) has A = 0. Gaps 5, 15, 20.
    Scenario: V1 stops, N (25 places, reach 1,5 km) opens in the centre of Oost; N reaches Midden and
    Oost: R = 25 / (30 + 20) = 0,5. Gaps 10, 15, 10. West (10 people) loses reach, Oost (20) gains it.
    Signalled: p4 (widowed, West) loses V1 and G1 is full; p2 (widowed, Oost) gains N; p3 keeps
    (V1 → N); p1 (not widowed, West) had nothing suitable with room before or after."""
    buurten, provisions, participation, signalled = grid
    scenario = Scenario("Kring West stopt, nieuwe kring in Oost", off=("V1",),
                        added=(NewProvision(VISIT, 2500, 500, 25, 1500, "Nieuwe kring Oost"),))
    res = run_scenario(buurten, provisions, scenario, types=[VISIT], signalled=signalled,
                       participation=participation)
    table = res.per_buurt.set_index("area_code")
    assert table.loc[["BU00010001", "BU00010002", "BU00010003"], "access_before"].tolist() == pytest.approx(
        [0.5, 0.5, 0.0])
    assert table.loc[["BU00010001", "BU00010002", "BU00010003"], "gap_before"].tolist() == pytest.approx(
        [5, 15, 20])
    assert table.loc[["BU00010001", "BU00010002", "BU00010003"], "gap_after"].tolist() == pytest.approx(
        [10, 15, 10])
    assert table["gap_change"].tolist() == pytest.approx([5, 0, -10])  # sorted: worst first
    assert table.loc["BU00010001", "lose_reach"] == 10 and table["lose_reach"].sum() == 10
    assert table.loc["BU00010003", "gain_reach"] == 20 and table["gain_reach"].sum() == 20
    summary = res.summary.iloc[0]
    assert (summary["gap_before"], summary["gap_after"], summary["gap_change"]) == pytest.approx((40, 35, -5))
    assert (summary["buurten_worse"], summary["buurten_better"]) == (1, 1)
    assert res.signalled == {"lose": 1, "gain": 1, "without_before": 2, "without_after": 2, "signalled": 4}
    assert "Kring West" in scenario.describe(provisions) and "Nieuwe kring Oost" in scenario.describe(provisions)


def test_scenario_changes_nothing_without_changes(grid):
    buurten, provisions, participation, signalled = grid
    res = run_scenario(buurten, provisions, Scenario("leeg"), types=[VISIT], signalled=signalled,
                       participation=participation)
    assert (res.per_buurt["gap_change"] == 0).all()
    assert res.signalled["lose"] == res.signalled["gain"] == 0


def test_apply_and_json_round_trip(grid):
    _, provisions, _, _ = grid
    scenario = Scenario("s", off=("V1",), added=(NewProvision("grip_en_glans", 10.5, 20.25, 12, 1000, "Groep"),))
    assert Scenario.from_json("s", scenario.to_json()) == scenario
    changed = apply_scenario(provisions, scenario)
    assert "V1" not in set(changed["provision_id"]) and "NIEUW-1" in set(changed["provision_id"])
    new = changed.set_index("provision_id").loc["NIEUW-1"]
    assert (new.geometry.x, new.geometry.y, new["status"]) == (10.5, 20.25, "hypothetisch")


def test_compare_saved_scenarios(grid):
    buurten, provisions, participation, signalled = grid
    results = [run_scenario(buurten, provisions, s, types=[VISIT], signalled=signalled, participation=participation)
               for s in (Scenario("A", off=("V1",)), Scenario("B", added=(NewProvision(VISIT, 2500, 500, 20, 1500),)))]
    table = compare_scenarios(results).set_index("scenario")
    assert table.loc["A", "gap_after"] == pytest.approx(60)  # nothing left: full need 10 + 30 + 20
    # B: V1 R = 20/40 = 0,5 for West/Midden; N reaches Midden and Oost: R = 20/50 = 0,4 → Midden A = 0,9
    assert table.loc["B", "gap_after"] == pytest.approx(5 + 30 * 0.1 + 20 * 0.6)
    assert table.loc["A", "signalled_lose"] == 2 and table.loc["B", "signalled_gain"] == 1


def test_demo_switching_off_the_visiting_service_where_most_widowed_live(demo):
    """Done-when of issue 6: the wijk with the most widowed residents visibly becomes a gap."""
    areas = demo.areas
    wide = demo.area_values.pivot_table(index="area_code", columns="indicator", values="value")
    wijken = areas.loc[areas["level"] == "wijk"].merge(wide, left_on="area_code", right_index=True)
    widowed = wijken["aantal_inwoners"] * wijken["percentage_verweduwd"] / 100
    top = wijken.loc[widowed.idxmax(), "area_code"]
    visit = demo.provisions.query("type == @VISIT and status != 'gestopt'")
    inside = visit.loc[visit["buurt_code"].str[2:8] == top[2:8], "provision_id"]
    assert len(inside) == 1, "the demo has a running visiting service in the wijk with the most widowed"
    buurten = areas.loc[areas["level"] == "buurt"].merge(wide, left_on="area_code", right_index=True)
    res = run_scenario(buurten, demo.provisions, Scenario("subsidie stopt", off=tuple(inside)), types=[VISIT])
    table = res.per_buurt.assign(wijk=lambda t: "WK" + t["area_code"].str[2:8])
    own = table.loc[table["wijk"] == top]
    assert own["gap_after"].sum() > 1.5 * own["gap_before"].sum()
    lost = own.loc[own["reach_before"] & ~own["reach_after"]]
    assert len(lost) > len(own) / 2  # most of the wijk has no visiting service within reach any more
    assert (lost["index_after"] == 1).all() and (lost["index_before"] < 1).all()
    per_wijk = table.groupby("wijk")["gap_after"].sum()
    assert per_wijk.idxmax() == top
    # The same numbers as two direct gap computations.
    direct = gaps_from_need_and_supply(buurten, demo.provisions.loc[~demo.provisions["provision_id"].isin(inside)],
                                       types=[VISIT])
    assert direct["gap_people"].sum() == pytest.approx(table["gap_after"].sum())


def test_store_saves_compares_and_refuses_conflicts(demo_store):
    store = demo_store
    scenario = Scenario("Subsidie Humanitas stopt", off=("V002",))
    assert store.save_scenario(scenario.name, scenario.to_json(), user="test") == 1
    with pytest.raises(ConflictError):
        store.save_scenario(scenario.name, Scenario(scenario.name).to_json(), user="ander")
    assert store.save_scenario(scenario.name, Scenario(scenario.name).to_json(), user="test", expected_version=1) == 2
    with pytest.raises(DataValidationError):
        store.save_scenario("  ", scenario.to_json(), user="test")
    saved = store.read_scenarios()
    assert saved["name"].tolist() == [scenario.name] and saved["version"].tolist() == [2]
    assert Scenario.from_json(scenario.name, saved["definition"].iloc[0]).empty
    audit = store.read_audit()
    assert {"bewaar-scenario", "wijzig-scenario"} <= set(audit["action"])
    store.delete_scenario(scenario.name, user="test")
    assert store.read_scenarios().empty
    assert np.isin(["verwijder-scenario"], store.read_audit()["action"]).all()


def test_grouped_signals_and_counted_participation_give_the_same_answer(grid):
    """The app passes counts (no person ids) for roles without person access: same result."""
    buurten, provisions, participation, signalled = grid
    scenario = Scenario("s", off=("V1",), added=(NewProvision(VISIT, 2500, 500, 25, 1500),))
    per_person = run_scenario(buurten, provisions, scenario, types=[VISIT], signalled=signalled,
                              participation=participation)
    groups = signalled.groupby(["buurt_code", "widowed"]).size().rename("count").reset_index()
    grouped = run_scenario(buurten, provisions, scenario, types=[VISIT], signalled=groups,
                           participation=participation.groupby("provision_id").size())
    assert grouped.signalled == per_person.signalled


def test_part_of_a_scenario_for_one_wijk_sums_to_the_whole(grid):
    buurten, provisions, participation, signalled = grid
    scenario = Scenario("s", off=("V1",), added=(NewProvision(VISIT, 2500, 500, 25, 1500),))
    whole = run_scenario(buurten, provisions, scenario, types=[VISIT], signalled=signalled,
                         participation=participation)
    west, rest = whole.within(["BU00010001"]), whole.within(["BU00010002", "BU00010003"])
    assert west.summary["gap_after"].iloc[0] == pytest.approx(10)  # as computed with all demand, by hand above
    assert west.summary["gap_after"].iloc[0] + rest.summary["gap_after"].iloc[0] == pytest.approx(35)
    assert west.signalled == {}


def test_signalled_counts_follow_the_needs_and_places(grid):
    """With needs (as signal_groups gives them): in West, 3 widowed persons whose only need is the bereavement
    and 2 with a social need only. Grip & Glans West gets room (capacity 20, 10 taken) and a buurthuis with
    1000 visitors stands in West. Switching Kring West off leaves the 3 bereaved without a provision with room
    (Grip & Glans does not suit them, the buurthuis has no places); the 2 keep Grip & Glans."""
    buurten, provisions, participation, _ = grid
    provisions = pd.concat([provisions.assign(capacity_per_year=[20, 50, 20]), gpd.GeoDataFrame({
        "provision_id": ["H1"], "name": ["Buurthuis West"], "type": ["buurthuis"], "status": ["actief"],
        "capacity_per_year": [1000], "reach_m": [1000.0], "funding_end": pd.NaT,
    }, geometry=[shapely.Point(500, 500)], crs=28992)], ignore_index=True)
    signalled = pd.DataFrame({"buurt_code": ["BU00010001", "BU00010001"], "widowed": [True, False],
                              "needs": ["verweduwd", "sociaal"], "count": [3, 2]})
    res = run_scenario(buurten, provisions, Scenario("Kring West stopt", off=("V1",)), types=[VISIT],
                       signalled=signalled, participation=participation)
    assert res.signalled == {"lose": 3, "gain": 0, "without_before": 0, "without_after": 3, "signalled": 5}
    # Without the needs column (an older caller) every signalled person counts as needing social and emotional
    # support too, so the bereaved keep Grip & Glans.
    old = run_scenario(buurten, provisions, Scenario("Kring West stopt", off=("V1",)), types=[VISIT],
                       signalled=signalled.drop(columns="needs"), participation=participation)
    assert old.signalled["lose"] == 0
    # A buurthuis listed for the bereaved by the administrator still gives no place.
    listed = run_scenario(buurten, provisions, Scenario("Kring West stopt", off=("V1",)), types=[VISIT],
                          signalled=signalled, participation=participation,
                          suitability={"buurthuis": ("verweduwd",), "grip_en_glans": ("sociaal",)})
    assert listed.signalled["without_before"] == 3 and listed.signalled["without_after"] == 3

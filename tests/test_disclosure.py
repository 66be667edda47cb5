"""Disclosure control (data/disclosure.py through data/access.py): the attacks seen, replayed, learn nothing.

The capacity-stepping attack (gemeente role): switch off every running provision, add a hypothetical
visiting service in one buurt, step its capacity and reach and watch the matching totals. It is replayed
on copies of the demo that differ only in the hidden cell (signalled widowed persons in that buurt,
0 to 4 of them): every answer must be the same in every copy, so no sequence of the page's own inputs
can tell the hidden value. The copies share one store secret, as the one store an attacker sees would.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from data import auth
from data.access import ScopedStore
from data.auth import User
from data.disclosure import (
    MAX_DEVIATION,
    MIN_CAPACITY,
    MIN_REACH_M,
    PTABLE,
    SECRET_META_KEY,
    perturb,
    protected_counts,
    record_keys,
    store_secret,
)
from data.errors import DataValidationError
from data.reach import buurt_points
from data.store import GeoPackageStore
from graphs.signals import DEFAULT_RULES, SignalRules, poor_network_signals
from mapping.scenarios import NewProvision, Scenario, apply_scenario, run_scenario

VISIT = "bezoekdienst_weduwen"
KANAALZONE = "WK999901"
FLATWIJK = "BU99990103"  # Flatwijk De Horst (Kanaalzone): 4 signalled widowed persons in the demo
WATERRIJK = "BU99990201"  # Waterrijk: 1 signalled widowed person, the case of the issue
POLICY = User("beleid", "gemeente")
ADMIN = User("beheer", "beheerder")
TEAM = User("wijk1", "wijkteam", (KANAALZONE,))


# --------------------------------------------------------------------------- copies that differ in one cell
def _with_count(store: GeoPackageStore, buurt: str, count: int) -> None:
    """Make ``count`` persons of the buurt signalled and widowed, changing nobody else's cell: persons stay
    the same, a signalled widowed person loses the signal (LSNS-6 of 30, three friends for emotional
    support), a widowed person without one gets it (LSNS-6 of 0), or a person without a signal becomes
    widowed and gets it."""
    persons, ties = store.read_table("persons"), store.read_table("ties")
    signal = persons["person_id"].map(poor_network_signals(persons, ties)["signal"]).to_numpy(bool)
    widowed = persons["widowed_since"].notna().to_numpy()
    here = (persons["buurt_code"] == buurt).to_numpy() & ~(signal & ~widowed)  # signalled, not widowed: stays
    rank = pd.DataFrame({"first": ~(signal & widowed), "then": ~widowed, "id": persons["person_id"]})[here]
    chosen = rank.sort_values(["first", "then", "id"]).index[:count]
    assert len(chosen) == count, "not enough persons in the buurt"
    lsns = [f"lsns_{i + 1}" for i in range(6)]
    gets = chosen[~signal[chosen]]
    persons.loc[gets, lsns] = 0
    persons.loc[gets[~widowed[gets]], "widowed_since"] = pd.Timestamp("2024-01-01")
    loses = persons.index[here & signal & widowed].difference(chosen)
    persons.loc[loses, lsns] = 5
    friends = ties.iloc[np.zeros(3 * len(loses), dtype=int)].reset_index(drop=True).assign(
        ego_id=np.repeat(persons.loc[loses, "person_id"].to_numpy(), 3), alter_id=None,
        alter_key=np.tile(["vriend1", "vriend2", "vriend3"], len(loses)), role="vriend", support_emotional=True,
        support_practical=False, contact_frequency="wekelijks")
    store.replace_tables({"persons": persons, "ties": pd.concat([ties, friends], ignore_index=True)},
                         user="test", action="testwereld")


@pytest.fixture(scope="module")
def base_file(demo_store_file, tmp_path_factory):
    """The demo with its secret made once: every copy below shares it."""
    path = tmp_path_factory.mktemp("disclosure") / "basis.gpkg"
    shutil.copyfile(demo_store_file, path)
    store_secret(GeoPackageStore(path))
    return path


@pytest.fixture(scope="module")
def worlds(base_file, tmp_path_factory):
    """Per target buurt: five stores, equal but for 0, 1, 2, 3 or 4 signalled widowed persons there."""
    out = {}
    for buurt in (FLATWIJK, WATERRIJK):
        out[buurt] = {}
        for count in range(5):
            path = tmp_path_factory.mktemp("wereld") / f"{buurt}_{count}.gpkg"
            shutil.copyfile(base_file, path)
            store = GeoPackageStore(path)
            _with_count(store, buurt, count)
            out[buurt][count] = store
    return out


def _exact_cells(store) -> pd.Series:
    """Exact signalled persons per buurt and widowed or not (summed over the needs patterns)."""
    return ScopedStore(store, ADMIN).signal_groups().groupby(["buurt_code", "widowed"])["count"].sum()


def test_the_copies_differ_only_in_the_hidden_cell(worlds):
    for buurt, stores in worlds.items():
        cells = {k: _exact_cells(s) for k, s in stores.items()}
        measured = {k: ScopedStore(s, ADMIN).signal_share()["measured"] for k, s in stores.items()}
        for k, c in cells.items():
            assert c.get((buurt, True), 0) == k
            assert c.drop((buurt, True), errors="ignore").equals(cells[4].drop((buurt, True)))
            assert measured[k].equals(measured[4])


# --------------------------------------------------------------------------- the capacity-stepping attack
def _summary(totals: dict) -> tuple:
    per = totals["per_provision"]
    return (totals["signalled"], totals["matched"], totals["unmatched"],
            per[["provision_id", "free_places", "matched", "signalled_in_reach"]].to_csv(index=False))


def _attack(store, buurt: str, user: User = POLICY, *, capacities=range(5, 21), reaches=range(500, 3001, 100)):
    """Everything the Tekorten and Netwerken pages show this user while the attack runs."""
    scoped = ScopedStore(store, user)
    buurten = scoped.read_areas("buurt")
    provisions = scoped.read_table("provisions")
    centre = buurt_points(buurten.set_index("area_code"))[buurt]  # where the buurt's persons are placed
    off = tuple(provisions.loc[provisions["status"] != "gestopt", "provision_id"])
    now = scoped.match_totals(provisions, buurten)
    groups = scoped.signal_groups()
    participation = scoped.participation_counts()
    seen = {"now": _summary(now), "share": scoped.signal_share().to_csv(), "groups": groups.to_csv(),
            "participation": participation.to_csv()}
    for capacity in capacities:
        for reach in reaches:
            scenario = Scenario("aanval", off, (NewProvision(VISIT, centre.x, centre.y, capacity, reach),))
            then = scoped.match_totals(apply_scenario(provisions, scenario), buurten)
            seen[(capacity, reach)] = (_summary(then), tuple(scoped.match_change(now, then).items()))
            if capacity % 5 == 0 and reach % 500 == 0:  # the scenario figures of the page, on a coarser grid
                result = run_scenario(buurten, provisions, scenario, types=[VISIT],
                                      signals_per_buurt=groups.groupby("buurt_code")["count"].sum(),
                                      signalled=groups, participation=participation)
                seen[("scenario", capacity, reach)] = (tuple(sorted(result.signalled.items())),
                                                       result.summary.to_csv())
    return seen


@pytest.mark.parametrize(("buurt", "capacities", "reaches"), [
    (WATERRIJK, range(5, 21), range(500, 3001, 100)),  # the case of the issue, every input step
    (FLATWIJK, (5, 6, 7, 10, 15, 20), range(500, 3001, 500)),  # in the Kanaalzone, 4 of them: a coarser grid
])
def test_capacity_stepping_learns_nothing_about_a_small_cell(worlds, buurt, capacities, reaches):
    answers = {k: _attack(store, buurt, capacities=capacities, reaches=reaches)
               for k, store in worlds[buurt].items()}
    coarse = sum(c % 5 == 0 for c in capacities) * sum(r % 500 == 0 for r in reaches)
    assert len(answers[0]) == 4 + len(capacities) * len(reaches) + coarse
    for k in range(1, 5):
        assert answers[k] == answers[0], f"the answers depend on the hidden value ({k} vs 0)"
    # The same inputs as the administrator (exact figures) do tell the copies apart: the test can fail.
    exact = {k: _attack(store, buurt, ADMIN, capacities=[20], reaches=[100])[(20, 100)][0][1]
             for k, store in worlds[buurt].items()}
    assert exact == {k: k for k in range(5)}


def test_small_provisions_are_refused_to_roles_that_see_totals(worlds):
    store = worlds[WATERRIJK][1]
    buurten, provisions = store.read_areas("buurt"), store.read_table("provisions")
    centre = buurt_points(buurten.set_index("area_code"))[WATERRIJK]
    for capacity, reach in ((1, 100), (MIN_CAPACITY - 1, 1000), (20, MIN_REACH_M - 1)):
        probe = apply_scenario(provisions, Scenario("x", (), (NewProvision(VISIT, centre.x, centre.y, capacity,
                                                                          reach),)))
        for user in (POLICY, TEAM, User("opbouw", "opbouwwerker")):
            with pytest.raises(DataValidationError, match="minstens 5 plekken per jaar en een bereik van minstens"):
                ScopedStore(store, user).match_totals(probe, buurten)
        assert ScopedStore(store, ADMIN).match_totals(probe, buurten)["signalled"] > 0  # the administrator may


def test_a_change_of_fewer_than_five_is_reported_as_such(worlds):
    policy = ScopedStore(worlds[WATERRIJK][1], POLICY)
    now = {"matched": 100, "unmatched": 40, "protected": True}
    assert policy.match_change(now, {"matched": 103, "unmatched": 37, "protected": True}) == {
        "matched": 100, "unmatched": 40, "small_change": True}
    assert policy.match_change(now, {"matched": 105, "unmatched": 35, "protected": True})["matched"] == 105
    assert policy.match_change(now, {"matched": 100, "unmatched": 40, "protected": True})["small_change"] is False
    admin = ScopedStore(worlds[WATERRIJK][1], ADMIN)
    assert admin.match_change(now, {"matched": 101, "unmatched": 39, "protected": False})["matched"] == 101


# --------------------------------------------------------------------------- the rule-threshold attack
RULES = [DEFAULT_RULES, SignalRules(lsns_below=6), SignalRules(lsns_below=7), SignalRules(lsns_below=30),
         SignalRules(lsns_below=None, min_emotional=None, min_informal=None, djg_at_least=9),
         SignalRules(min_practical=3, min_informal=10)]


def _outside(frame: pd.DataFrame, codes) -> pd.DataFrame:
    return frame.loc[~pd.Index(codes).str[2:8].isin([KANAALZONE[2:]])]


def test_a_wijkteam_rule_changes_only_its_own_persons(base_file):
    store = GeoPackageStore(base_file)
    team = ScopedStore(store, TEAM)
    shares = [team.signal_share(r) for r in RULES]
    groups = [team.signal_groups(r) for r in RULES]
    for share, group in zip(shares[1:], groups[1:], strict=True):
        assert _outside(share, share.index).equals(_outside(shares[0], shares[0].index))
        assert _outside(group, group["buurt_code"]).reset_index(drop=True).equals(
            _outside(groups[0], groups[0]["buurt_code"]).reset_index(drop=True))
    # Outside the wijk the team sees what the municipality sees; inside, its rules do apply.
    policy = ScopedStore(store, POLICY).signal_groups()
    assert _outside(groups[1], groups[1]["buurt_code"]).reset_index(drop=True).equals(
        _outside(policy, policy["buurt_code"]).reset_index(drop=True))
    inside = [len(share) - len(_outside(share, share.index)) for share in shares]
    assert inside[0] > 0
    own = [share.loc[share.index.str[2:8] == KANAALZONE[2:], "measured"].to_csv() for share in shares]
    assert own[0] == own[1]  # persons with data do not depend on the rules …
    signalled = [g.loc[g["buurt_code"].str[2:8] == KANAALZONE[2:], "count"].sum() for g in groups]
    assert signalled[1] < signalled[2] < signalled[3]  # … the signals of the own persons do
    # Exactly, as the administrator, the threshold does move buurten outside the wijk: the attack of the issue.
    admin = ScopedStore(store, ADMIN)
    moved = [_outside(admin.signal_groups(r), admin.signal_groups(r)["buurt_code"])["count"].sum() for r in RULES[1:3]]
    assert moved[0] != moved[1]
    totals = [team.match_totals(store.read_table("provisions"), store.read_areas("buurt"), r) for r in RULES[1:4]]
    assert len({t["signalled"] - n for t, n in zip(totals, signalled[1:4], strict=True)}) == 1  # the rest: fixed


def test_roles_that_see_totals_always_get_the_fixed_rules(base_file):
    policy = ScopedStore(GeoPackageStore(base_file), POLICY)
    assert policy.signal_groups(SignalRules(lsns_below=30)).equals(policy.signal_groups())
    assert policy.signal_share(SignalRules(lsns_below=6)).equals(policy.signal_share())


# --------------------------------------------------------------------------- the cell-key method itself
def test_perturbation_is_deterministic_bounded_and_keeps_zero():
    keys = (np.arange(1000) + 0.5) / 1000  # evenly over [0, 1): the noise follows the table exactly
    for n in (0, 1, 2, 3, 4):
        assert (perturb(np.full(1000, n), keys) == 0).all()
    for n in (5, 6, 7, 12, 1000):
        out = perturb(np.full(1000, n), keys)
        assert (out == perturb(np.full(1000, n), keys)).all()  # same cell, same answer
        assert (np.abs(out - n) <= MAX_DEVIATION).all() and (out >= 5).all()
        row = PTABLE.loc["7+" if n >= 7 else str(n)]
        freq = pd.Series(out - n).value_counts(normalize=True).reindex(row.index, fill_value=0)
        assert freq.to_numpy() == pytest.approx(row.to_numpy(), abs=1e-3)
    big = perturb(np.full(1000, 50), keys)
    assert abs((big - 50).mean()) < 1e-9 and (big - 50).var() == pytest.approx(1.0, abs=1e-3)
    assert perturb(np.array([9]), np.array([0.0]))[0] == 7 and perturb(np.array([9]), np.array([0.9999]))[0] == 11
    with pytest.raises(DataValidationError, match="tussen 0 en 1"):
        perturb([5], [1.0])


def test_cell_keys_come_from_which_persons_are_in_a_cell():
    secret = bytes(range(32))
    keys = record_keys([f"P{k:08x}" for k in range(12)], secret)
    assert keys.between(0, 2**32 - 1).all() and keys.is_unique
    assert record_keys(["P00000003", "P00000001"], secret).tolist() == [keys.iloc[3], keys.iloc[1]]
    assert (record_keys(keys.index, bytes(range(1, 33))) != keys.to_numpy()).all()  # another store, other keys
    cells = np.array(["A"] * 7 + ["B"] * 3 + ["C"] * 2)
    published = protected_counts(keys, [cells])
    cell_key = (keys.iloc[:7].sum() % 2**32) / 2**32
    assert published["A"] == perturb(np.array([7]), np.array([cell_key]))[0]
    assert published["B"] == 0 and published["C"] == 0
    shuffled = protected_counts(keys.iloc[::-1], [cells[::-1]])  # the order of the persons does not matter
    assert shuffled.equals(published)
    other = protected_counts(keys.iloc[1:8], [np.array(["A"] * 7)])  # another set of 7: its own key
    assert abs(other["A"] - 7) <= MAX_DEVIATION
    with pytest.raises(DataValidationError, match="16 tot 64 bytes"):
        record_keys(["P00000001"], b"kort")


def test_the_secret_lives_in_the_store_and_answers_repeat(demo_store, town_store):
    with demo_store._connection() as conn:
        assert conn.execute("SELECT value FROM steunkaart_meta WHERE key = ?", (SECRET_META_KEY,)).fetchone() is None
    first = ScopedStore(demo_store, POLICY).signal_groups()
    with demo_store._connection() as conn:
        (stored,) = conn.execute("SELECT value FROM steunkaart_meta WHERE key = ?", (SECRET_META_KEY,)).fetchone()
    assert len(bytes.fromhex(stored)) == 32 and store_secret(demo_store) == bytes.fromhex(stored)
    assert store_secret(town_store) != store_secret(demo_store)  # each store its own
    assert ScopedStore(demo_store, POLICY).signal_groups().equals(first)  # asking again: the same answer
    exact = ScopedStore(demo_store, ADMIN).signal_groups().set_index(["buurt_code", "needs"])["count"]
    shown = first.set_index(["buurt_code", "needs"])["count"]
    assert (shown >= 5).all() and set(shown.index) == set(exact.index[exact >= 5])
    assert (shown - exact.reindex(shown.index)).abs().max() <= MAX_DEVIATION
    assert (shown != exact.reindex(shown.index)).any()  # the noise is there


def test_the_administrator_keeps_exact_figures(town_store):
    admin = ScopedStore(town_store, ADMIN)
    persons, ties = town_store.read_table("persons"), town_store.read_table("ties")
    signals = poor_network_signals(persons, ties)
    widowed = signals.index.isin(persons.loc[persons["widowed_since"].notna(), "person_id"])
    exact = (pd.DataFrame({"buurt_code": signals["buurt_code"], "widowed": widowed}).loc[signals["signal"].to_numpy()]
             .value_counts().sort_index())
    assert _exact_cells(town_store).sort_index().to_dict() == exact.to_dict()
    participation = town_store.read_table("participation")
    participants = participation.loc[participation["role"] == "deelnemer"]  # volunteers take no place
    assert admin.participation_counts().to_dict() == participants.groupby("provision_id").size().to_dict()
    assert len(participants) < len(participation)
    totals = admin.match_totals(town_store.read_table("provisions"), town_store.read_areas("buurt"))
    assert not totals["protected"]
    assert totals["signalled"] == signals["signal"].sum() == totals["matched"] + totals["unmatched"]
    share = admin.signal_share()
    measured = signals.groupby("buurt_code").size()
    shown = share["measured"].dropna().astype(int)
    assert len(shown) > 30 and shown.to_dict() == measured.loc[shown.index].to_dict()


# --------------------------------------------------------------------------- the page's own inputs
@pytest.fixture()
def tekorten(demo_store, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STEUNKAART_STORE", str(demo_store.path))
    for user in (ADMIN, POLICY):
        auth.create_user(demo_store, user.username, user.role, user.wijken, "correct horse battery", by="test")
    centre = demo_store.read_areas("buurt").set_index("area_code").geometry.centroid[WATERRIJK]

    def start(user: User, added: list | None = None) -> AppTest:
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=90)
        at.session_state["sk_user"] = user
        at.session_state["tk_klik"] = (round(centre.x), round(centre.y))  # a click on the map: the form opens
        if added is not None:
            at.session_state["tk_nieuw"] = added
        at.run()
        at.switch_page("pages/tekorten.py").run()
        assert not at.exception, at.exception
        return at
    return start, centre


def test_the_page_inputs_start_at_the_minimum_and_a_loaded_probe_is_refused(tekorten):
    start, centre = tekorten
    at = start(POLICY)
    inputs = {n.label: n for n in at.number_input}
    assert (inputs["Capaciteit per jaar"].min, inputs["Bereik (m)"].min) == (MIN_CAPACITY, MIN_REACH_M)
    assert any("celsleutelmethode" in m.value for m in at.markdown if "Koppelen" in m.value)
    inputs = {n.label: n for n in start(ADMIN).number_input}
    assert (inputs["Capaciteit per jaar"].min, inputs["Bereik (m)"].min) == (1, 100)
    probe = {"type": VISIT, "x": float(centre.x), "y": float(centre.y), "capacity": 1.0, "reach_m": 100.0,
             "name": "Proef"}  # e.g. a scenario kept by the administrator, loaded by the municipality
    at = start(POLICY, [probe])
    assert any("minstens 5 plekken per jaar" in e.value for e in at.error)
    assert not any("Koppelen" in m.value for m in at.markdown)

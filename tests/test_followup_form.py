"""The follow-up form (pages/followup_form.py) in AppTest: a T0 and a T1 recorded in conversation, the T1 network
starting from T0's (lost, changed, new, the group question), a concurrent change refused, and the roles.

The form runs on its own through tests/apps/followup_form_app.py, on Teststad (tests/towns.py, not the demo) with a
Grip & Glans group added through the store, and on the demo store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data.auth import DEMO_ADMIN, User
from data.store import GeoPackageStore
from pages.followup_form import (
    ALTER_TAKEN,
    GROUP_QUESTION,
    NO_ACCESS,
    NO_CONSENT,
    NOT_FOUND,
    next_moment,
    planned_date,
    score_lines,
)
from pages.network_form import CODE_REFUSED
from tests.test_escaping import _proto_strings
from tests.towns import build_state, write_town_files

HARNESS = Path(__file__).resolve().parent / "apps" / "followup_form_app.py"
ADMIN = User("beheer", "beheerder")
GROUP = "V900"
T0_DAY, T1_DAY = dt.date(2026, 9, 1), dt.date(2026, 10, 14)
# LSNS-6 answers 0-5 per item (sum by hand: 3 and 9). De Jong Gierveld 6 items: the negative items 3, 9, 10 score 1
# on 'ja'/'min of meer', the positive items 4, 7, 8 score 1 on 'nee'/'min of meer'.
T0_LSNS, T1_LSNS = [1, 1, 0, 1, 0, 0], [2, 2, 1, 2, 1, 1]
T0_DJG6 = {3: "ja", 4: "nee", 7: "nee", 8: "nee", 9: "ja", 10: "nee"}  # 1+1+1+1+1+0 = 5
T1_DJG6 = {3: "nee", 4: "ja", 7: "ja", 8: "min of meer", 9: "nee", 10: "nee"}  # only item 8: 1


# --------------------------------------------------------------------------- the small helpers
def test_planned_dates_next_moment_and_score_lines():
    assert planned_date(pd.Timestamp("2026-09-01"), 19) == pd.Timestamp("2027-01-12")  # 133 days later
    assert planned_date(pd.Timestamp("2026-09-01"), None) is None and planned_date(None, 6) is None
    assert next_moment(set()) == "T0" and next_moment({"T0", "T2"}) == "T1" and next_moment({"T0", "T1", "T2", "T3"}) == "T3"
    nan = float("nan")
    # 11 items now, only 6 before: compared on the 6-item total, which an 11-item answer has too.
    assert score_lines({"lsns6": 11.0, "djg11": 4.0, "djg6": 2.0}, {"lsns6": 15.0, "djg11": nan, "djg6": 3.0}) == [
        "LSNS-6: 15 → 11", "De Jong Gierveld (6): 3 → 2"]
    assert score_lines({"lsns6": nan, "djg11": 4.0, "djg6": 2.0}, {"lsns6": 15.0, "djg11": 9.0, "djg6": 5.0}) == [
        "LSNS-6: 15 → geen score", "De Jong Gierveld (11): 9 → 4"]


# --------------------------------------------------------------------------- Teststad with a Grip & Glans group
@pytest.fixture()
def teststad(tmp_path, monkeypatch) -> GeoPackageStore:
    """Teststad's networks (T-01 with ties to T-02 and a professional 'a1'), a Grip & Glans group V900 in Centrum
    with participants T-01, T-04, T-05 (Centrum) and T-03 (Noord); T-02 does not take part."""
    files = write_town_files(tmp_path / "bronnen")
    store = build_state(GeoPackageStore.create_new(tmp_path / "gemeente.gpkg"), files, "netwerken")
    provision = store.read_table("provisions").query("provision_id == 'V001'").copy()
    provision = provision.assign(provision_id=GROUP, name="Grip & Glans Centrum", type="grip_en_glans",
                                 source_id=None)
    store.import_provisions(gpd.GeoDataFrame(provision, crs=store.read_table("provisions").crs), user="test",
                            source="handmatig")
    persons = store.read_table("persons")
    new = persons.loc[persons["person_id"] == "T-02"].assign(person_id=["T-04"])
    new = pd.concat([new, new.assign(person_id=["T-05"])], ignore_index=True)
    ties = store.read_table("ties").iloc[:0]
    participation = pd.DataFrame({"person_id": ["T-01", "T-03", "T-04", "T-05"], "provision_id": GROUP,
                                  "role": "deelnemer", "since": pd.Timestamp(T0_DAY)})
    store.merge_network(new, ties, participation, user="test", source="test")
    monkeypatch.setenv("STEUNKAART_STORE", str(store.path))
    return store


def _open(user: User) -> AppTest:
    at = AppTest.from_file(str(HARNESS), default_timeout=60)
    at.session_state["sk_user"] = user
    at.run()
    assert not at.exception, at.exception
    return at


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _shown(at: AppTest) -> str:
    """Every string of the current run: texts, labels, captions, widget values and options."""
    return "\n".join(s for node in at._tree if getattr(node, "proto", None) is not None
                     for s in _proto_strings(node.proto))


def _answer(at: AppTest, on: dt.date, lsns: list[int], djg6: dict[int, str]) -> AppTest:
    at.date_input(key="fu_datum").set_value(on)
    for i, value in enumerate(lsns, start=1):
        at.radio(key=f"fu_lsns_{i}").set_value(value)
    at.radio(key="fu_djg_versie").set_value(6)
    _run(at)
    for i, value in djg6.items():
        at.radio(key=f"fu_djg_{i}").set_value(value)
    at.checkbox(key="fu_toestemming").check()
    return _run(at)


def _add(at: AppTest, role: str, code: str = "") -> AppTest:
    at.selectbox(key="fu_nieuw_rol").set_value(role)
    at.text_input(key="fu_nieuw_code").set_value(code)
    next(b for b in at.button if b.label == "Toevoegen aan het netwerk").click()
    return _run(at)


def _save(at: AppTest) -> AppTest:
    at.button(key="fu_opslaan").click()
    return _run(at)


def _listed(at: AppTest) -> list[str]:
    """The alters of the previous network as listed, by their keys."""
    return [r.key[len("fu_alter_"):-len("_status")] for r in at.radio
            if r.key and r.key.startswith("fu_alter_") and r.key.endswith("_status")]


def _ties(store: GeoPackageStore, person: str, provision: str, moment: str) -> pd.DataFrame:
    ties = store.read_table("followup_ties")
    return ties.loc[(ties["person_id"] == person) & (ties["provision_id"] == provision)
                    & (ties["moment"] == moment)].set_index("alter_key").sort_index()


def _measurement(store: GeoPackageStore, person: str, provision: str, moment: str) -> pd.Series:
    m = store.read_table("measurements")
    rows = m.loc[(m["person_id"] == person) & (m["provision_id"] == provision) & (m["moment"] == moment)]
    assert len(rows) == 1
    return rows.iloc[0]


def _success(at: AppTest) -> str:
    assert len(at.success) == 1, [e.value for e in at.error]
    return at.success[0].value.replace("\\", "")  # md() escapes the punctuation of the message


def test_t0_then_t1_starting_from_t0_network(teststad):
    at = _open(ADMIN)
    at.text_input(key="fu_code").set_value("T-01")
    _run(at)
    # A participant: group and provision prefilled from the participation, the first moment proposed.
    assert at.radio(key="fu_groep").value == "deelnemer"
    assert at.selectbox(key="fu_voorziening").value == GROUP
    assert at.selectbox(key="fu_moment").value == "T0"
    # T0 starts from the network in the ties table: T-02 (a stored person) and the professional a1.
    assert _listed(at) == ["T-02", "a1"]
    assert not any(m.key == "fu_groep_contact" for m in at.multiselect)  # asked from T1 on
    _answer(at, T0_DAY, T0_LSNS, T0_DJG6)
    _add(at, "vriend")  # no code typed: the next free key after a1
    _save(at)
    message = _success(at)
    assert "De meting T0 is opgeslagen" in message and "LSNS-6: 3" in message and "Gierveld (6): 5" in message
    assert "2 behouden, 0 veranderd, 0 verloren, 1 nieuw, 0 uit de groep" in message
    t0 = _measurement(teststad, "T-01", GROUP, "T0")
    assert [int(t0[f"lsns_{i}"]) for i in range(1, 7)] == T0_LSNS
    assert t0["study_group"] == "deelnemer" and t0["measured_on"] == pd.Timestamp(T0_DAY)
    assert bool(t0["network_recorded"]) and pd.isna(t0["djg_1"]) and t0["djg_8"] == "nee"
    assert list(_ties(teststad, "T-01", GROUP, "T0").index) == ["T-02", "a1", "a2"]
    batches = teststad.read_batches().sort_values("batch_id")
    assert batches["kind"].iloc[-1] == "meting-invoer"  # one undoable batch of the form

    # T1: proposed with its planned date, T0 + 6 weeks for Grip & Glans (01-09-2026 + 42 days).
    assert planned_date(pd.Timestamp(T0_DAY), 6) == pd.Timestamp("2026-10-13")
    at.selectbox(key="fu_moment").set_value("T1")
    _run(at)
    assert any("gepland rond 13-10-2026" in c.value for c in at.caption)
    assert _listed(at) == ["T-02", "a1", "a2"]  # T0's network, in its order
    assert all(at.radio(key=f"fu_alter_{k}_status").value == "behouden" for k in _listed(at))
    assert at.radio(key="fu_lsns_1").value is None  # a new moment starts with empty answers
    assert at.radio(key="fu_djg_versie").value == 6  # the scale of the previous moment
    members = at.multiselect(key="fu_groep_contact")
    assert members.options == ["T-03", "T-04", "T-05"] and members.value == []
    assert any(GROUP_QUESTION in m.value for m in at.markdown)

    _answer(at, T1_DAY, T1_LSNS, T1_DJG6)
    at.radio(key="fu_alter_a1_status").set_value("verloren")
    at.radio(key="fu_alter_T-02_status").set_value("veranderd")
    _run(at)
    at.selectbox(key="fu_alter_T-02_rol").set_value("vriend")
    at.checkbox(key="fu_alter_T-02_support_emotional").check()
    _run(at)
    _add(at, "buur", "buurman-1")
    at.multiselect(key="fu_groep_contact").set_value(["T-04"])
    _save(at)
    message = _success(at)
    assert "De meting T1 is opgeslagen (vergeleken met T0)" in message
    assert "LSNS-6: 3 → 9" in message and "De Jong Gierveld (6): 5 → 1" in message
    assert "1 behouden, 1 veranderd, 1 verloren, 2 nieuw, 1 uit de groep" in message

    t1 = _ties(teststad, "T-01", GROUP, "T1")
    assert list(t1.index) == ["T-02", "T-04", "a2", "buurman-1"]  # a1 lost: not at this moment
    assert t1.loc["T-02", "role"] == "vriend" and bool(t1.loc["T-02", "support_emotional"])
    assert t1.loc["T-02", "alter_id"] == "T-02" and pd.isna(t1.loc["buurman-1", "alter_id"])
    assert t1.loc["T-04", "alter_id"] == "T-04" and t1.loc["T-04", "role"] == "groepsgenoot"
    assert t1["from_group"].astype(bool).to_dict() == {"T-02": False, "T-04": True, "a2": False, "buurman-1": False}
    m1 = _measurement(teststad, "T-01", GROUP, "T1")
    assert [int(m1[f"lsns_{i}"]) for i in range(1, 7)] == T1_LSNS and m1["measured_on"] == pd.Timestamp(T1_DAY)
    assert list(_ties(teststad, "T-01", GROUP, "T0").index) == ["T-02", "a1", "a2"]  # T0 untouched

    # The saved moment is shown again as stored: statuses, the group answer and the answers come back.
    assert at.selectbox(key="fu_moment").value == "T1"
    assert at.radio(key="fu_alter_a1_status").value == "verloren"
    assert at.radio(key="fu_alter_T-02_status").value == "veranderd"
    assert at.selectbox(key="fu_alter_T-02_rol").value == "vriend"
    assert at.multiselect(key="fu_groep_contact").value == ["T-04"]
    assert [at.radio(key=f"fu_lsns_{i}").value for i in range(1, 7)] == T1_LSNS
    assert not at.checkbox(key="fu_toestemming").value  # consent is asked again

    # Another session: T2 is proposed and starts from T1's network; T-04 is asked again in the group question.
    again = _open(ADMIN)
    again.text_input(key="fu_code").set_value("T-01")
    _run(again)
    assert again.selectbox(key="fu_moment").value == "T2"
    assert any("gepland rond 12-01-2027" in c.value for c in again.caption)  # 01-09-2026 + 19 weeks
    assert _listed(again) == ["T-02", "a2", "buurman-1"]
    assert again.multiselect(key="fu_groep_contact").value == []
    assert any("Bij de vorige meting genoemd: T-04." in c.value.replace("\\", "") for c in again.caption)


def test_a_concurrent_change_is_refused_and_nothing_is_stored(teststad):
    at = _open(ADMIN)
    at.text_input(key="fu_code").set_value("T-01")
    _run(at)
    _answer(at, T0_DAY, T0_LSNS, T0_DJG6)
    _save(at)
    _success(at)
    # Re-opened (as after every save): someone else changes T0 in between.
    assert at.selectbox(key="fu_moment").value == "T0"
    stored = teststad.read_table("measurements")
    other = stored.drop(columns=["version", "batch_id"], errors="ignore").assign(lsns_1=5)
    teststad.merge_measurements(other, teststad.read_table("followup_ties").drop(columns="batch_id", errors="ignore"),
                                user="collega", kind="metingen")
    before = (teststad.read_table("measurements"), teststad.read_table("followup_ties"), len(teststad.read_batches()))
    assert int(before[0]["version"].iloc[0]) == 2
    at.radio(key="fu_lsns_2").set_value(4)
    at.radio(key="fu_alter_a1_status").set_value("verloren")
    at.checkbox(key="fu_toestemming").check()
    _save(at)
    assert any("intussen door iemand anders gewijzigd" in e.value for e in at.error)
    assert not at.success
    after = (teststad.read_table("measurements"), teststad.read_table("followup_ties"), len(teststad.read_batches()))
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])
    assert before[2] == after[2]


def test_a_moment_stored_meanwhile_by_someone_else_is_not_overwritten(teststad):
    at = _open(ADMIN)
    at.text_input(key="fu_code").set_value("T-01")
    _run(at)
    _answer(at, T0_DAY, T0_LSNS, T0_DJG6)
    row = pd.DataFrame([{"person_id": "T-01", "provision_id": GROUP, "study_group": "deelnemer", "moment": "T0",
                         "measured_on": pd.Timestamp(T0_DAY), "lsns_1": 0}])
    teststad.merge_measurements(row, user="collega", kind="metingen")
    _save(at)
    assert any("intussen door iemand anders gewijzigd" in e.value for e in at.error)
    assert int(_measurement(teststad, "T-01", GROUP, "T0")["lsns_1"]) == 0


def test_nothing_is_saved_without_consent(teststad):
    at = _open(ADMIN)
    at.text_input(key="fu_code").set_value("T-01")
    _run(at)
    _answer(at, T0_DAY, T0_LSNS, T0_DJG6)
    at.checkbox(key="fu_toestemming").uncheck()
    _save(at)
    assert [e.value for e in at.error] == [NO_CONSENT]
    assert teststad.read_table("measurements").empty and teststad.read_table("followup_ties").empty


def test_new_alter_codes_are_checked(teststad):
    at = _open(ADMIN)
    at.text_input(key="fu_code").set_value("T-01")
    _run(at)
    for typed, refusal in (("Jan Jansen", CODE_REFUSED), ("T-02", ALTER_TAKEN), ("T-01", ALTER_TAKEN)):
        _add(at, "vriend", typed)
        assert any(refusal in e.value for e in at.error), typed
    assert "Jansen" not in _shown(at)
    _add(at, "buur", "T-05")  # a stored person the user may see: linked by alter_id
    _add(at, "collega", "a-tijdelijk")
    assert any(b.key == "fu_weg_a-tijdelijk" for b in at.button)
    at.button(key="fu_weg_a-tijdelijk").click()  # taken out again before saving
    _run(at)
    assert not any(b.key == "fu_weg_a-tijdelijk" for b in at.button)
    _answer(at, T0_DAY, T0_LSNS, T0_DJG6)
    _save(at)
    t0 = _ties(teststad, "T-01", GROUP, "T0")
    assert list(t0.index) == ["T-02", "T-05", "a1"] and t0.loc["T-05", "alter_id"] == "T-05"


@pytest.mark.parametrize("typed", ["Jan Jansen", "jan.jansen@example.nl", "06 12345678"])
def test_a_name_like_person_code_is_refused_and_never_echoed(teststad, typed):
    at = _open(ADMIN)
    at.text_input(key="fu_code").set_value(typed)
    _run(at)
    assert [e.value for e in at.error] == [CODE_REFUSED]
    assert at.text_input(key="fu_code").value == ""  # removed from the field by its on_change
    assert not any(s.key == "fu_voorziening" for s in at.selectbox)
    assert typed not in _shown(at) and typed.split()[-1] not in _shown(at)


# --------------------------------------------------------------------------- roles
def test_the_municipality_sees_the_info_and_no_codes(teststad):
    at = _open(User("beleid", "gemeente"))
    assert [i.value for i in at.info] == [NO_ACCESS]
    assert not at.text_input and not at.selectbox and not at.multiselect
    shown = _shown(at)
    assert not any(code in shown for code in ("T-01", "T-02", "T-03", "T-04", "T-05", GROUP))


def test_a_wijkteam_finds_only_its_own_persons(teststad):
    noord = User("wijkteam-noord", "wijkteam", ("WK199901",))
    at = _open(noord)
    at.text_input(key="fu_code").set_value("T-01")  # lives in Centrum
    _run(at)
    assert [e.value for e in at.error] == [NOT_FOUND]
    assert not any(s.key == "fu_voorziening" for s in at.selectbox)
    at.text_input(key="fu_code").set_value("T-99")  # unknown: the same answer, so nothing is told about T-01
    _run(at)
    assert [e.value for e in at.error] == [NOT_FOUND]

    at.text_input(key="fu_code").set_value("T-03")  # its own participant of the group
    _run(at)
    assert at.selectbox(key="fu_voorziening").value == GROUP
    at.selectbox(key="fu_moment").set_value("T1")
    _run(at)
    # The other participants live in Centrum: not offered, not shown.
    assert not any(m.key == "fu_groep_contact" for m in at.multiselect)
    shown = _shown(at)
    assert not any(code in shown for code in ("T-01", "T-04", "T-05"))
    _answer(at, T1_DAY, T1_LSNS, T1_DJG6)
    _save(at)
    _success(at)
    assert list(_ties(teststad, "T-03", GROUP, "T1").index) == ["a1"]
    assert teststad.read_audit().query("action == 'invoer-meting'")["user"].tolist() == ["wijkteam-noord"]


# --------------------------------------------------------------------------- the demo store
def test_t0_and_t1_on_the_demo(demo_store, monkeypatch):
    monkeypatch.setenv("STEUNKAART_STORE", str(demo_store.path))
    provisions = demo_store.read_table("provisions")
    groups = set(provisions.loc[provisions["type"] == "grip_en_glans", "provision_id"])
    part = demo_store.read_table("participation").query("role == 'deelnemer'")
    part = part.loc[part["provision_id"].isin(groups)]
    measured = set(demo_store.read_table("measurements")["person_id"])
    ties = demo_store.read_table("ties")
    ties = ties.loc[ties["alter_key"].notna() | ties["alter_id"].notna()]
    # A participant without measurements, with at least two alters none of whom is in the same group (an alter who
    # is moves to the group question from T1 on), and who takes part in one group only (so it is prefilled).
    candidates = part.loc[~part["person_id"].isin(measured)].groupby("person_id").filter(lambda g: len(g) == 1)
    chosen = None
    for person, provision in zip(candidates["person_id"], candidates["provision_id"], strict=True):
        members = set(part.loc[part["provision_id"] == provision, "person_id"]) - {person}
        own = ties.loc[ties["ego_id"] == person]
        if len(own) >= 2 and members and not own["alter_id"].isin(members).any():
            chosen = person, provision, sorted(members)
            break
    assert chosen is not None, "the demo has Grip & Glans participants with networks"
    person, provision, members = chosen

    at = _open(DEMO_ADMIN)
    assert any("Demo" in i.value for i in at.info)
    at.text_input(key="fu_code").set_value(person)
    _run(at)
    assert at.selectbox(key="fu_voorziening").value == provision and at.selectbox(key="fu_moment").value == "T0"
    base = _listed(at)
    assert len(base) >= 2
    _answer(at, T0_DAY, T0_LSNS, T0_DJG6)
    _save(at)
    assert f"{len(base)} behouden, 0 veranderd, 0 verloren, 0 nieuw" in _success(at)
    assert sorted(_ties(demo_store, person, provision, "T0").index) == sorted(base)

    at.selectbox(key="fu_moment").set_value("T1")
    _run(at)
    assert _listed(at) == base
    lost, changed = base[0], base[1]
    _answer(at, T1_DAY, T1_LSNS, T1_DJG6)
    at.radio(key=f"fu_alter_{lost}_status").set_value("verloren")
    at.radio(key=f"fu_alter_{changed}_status").set_value("veranderd")
    _run(at)
    role_before = _ties(demo_store, person, provision, "T0").loc[changed, "role"]
    new_role = "anders" if role_before != "anders" else "buur"
    at.selectbox(key=f"fu_alter_{changed}_rol").set_value(new_role)
    _run(at)
    _add(at, "kerk_vereniging")
    at.multiselect(key="fu_groep_contact").set_value([members[0]])
    _save(at)
    assert f"{len(base) - 2} behouden, 1 veranderd, 1 verloren, 2 nieuw, 1 uit de groep" in _success(at)
    t1 = _ties(demo_store, person, provision, "T1")
    added = set(t1.index) - set(base) - {members[0]}
    assert set(t1.index) == (set(base) - {lost}) | {members[0]} | added and len(added) == 1
    assert t1.loc[changed, "role"] == new_role and t1.loc[added.pop(), "role"] == "kerk_vereniging"
    assert bool(t1.loc[members[0], "from_group"]) and t1.loc[members[0], "alter_id"] == members[0]
    assert int(t1["from_group"].astype(bool).sum()) == 1
    m1 = _measurement(demo_store, person, provision, "T1")
    assert [int(m1[f"lsns_{i}"]) for i in range(1, 7)] == T1_LSNS
    assert demo_store.is_demo


# --------------------------------------------------------------------------- a network carried forward from an import
def _store_moment(store: GeoPackageStore, moment: str, day: dt.date, network: list[dict], *,
                  person: str = "T-01", group: str = "deelnemer") -> None:
    """One measurement and its network written straight into the store (as an import would)."""
    row = pd.DataFrame([{"person_id": person, "provision_id": GROUP, "study_group": group, "moment": moment,
                         "measured_on": pd.Timestamp(day), **{f"lsns_{i}": v for i, v in enumerate(T0_LSNS, 1)}}])
    ties = pd.DataFrame([{"person_id": person, "provision_id": GROUP, "moment": moment, "support_practical": False,
                          "support_emotional": False, "support_informational": False,
                          "support_companionship": False, "from_group": False, **tie} for tie in network])
    store.merge_measurements(row, ties, user="test", kind="metingen")


T0_NETWORK = [{"alter_key": "T-02", "alter_id": "T-02", "role": "buur"}, {"alter_key": "a1", "role": "professional"}]
# At T1: a1 lost, T-04 named in the group question, and T-05 (also in the group) named as a friend under key a9.
T1_NETWORK = [{"alter_key": "T-02", "alter_id": "T-02", "role": "buur"},
              {"alter_key": "T-04", "alter_id": "T-04", "role": "groepsgenoot", "from_group": True},
              {"alter_key": "a9", "alter_id": "T-05", "role": "vriend"}]


def test_a_stored_moment_reopens_and_the_group_keeps_its_keys(teststad):
    _store_moment(teststad, "T0", T0_DAY, T0_NETWORK)
    _store_moment(teststad, "T1", T1_DAY, T1_NETWORK)
    at = _open(ADMIN)
    at.text_input(key="fu_code").set_value("T-01")
    _run(at)
    assert at.selectbox(key="fu_moment").value == "T2"
    # T1 re-opened: compared with T0, a1 was lost; both group members are in the group answer.
    at.selectbox(key="fu_moment").set_value("T1")
    _run(at)
    assert _listed(at) == ["T-02", "a1"]
    assert at.radio(key="fu_alter_a1_status").value == "verloren"
    assert at.radio(key="fu_alter_T-02_status").value == "behouden"
    assert at.multiselect(key="fu_groep_contact").value == ["T-04", "T-05"]
    assert at.radio(key="fu_lsns_1").value == T0_LSNS[0]

    # T2 starts from T1: the group members are asked in the group question, not listed as alters.
    at.selectbox(key="fu_moment").set_value("T2")
    _run(at)
    assert _listed(at) == ["T-02"]
    assert at.multiselect(key="fu_groep_contact").value == []
    _answer(at, dt.date(2026, 11, 30), T1_LSNS, T1_DJG6)
    at.multiselect(key="fu_groep_contact").set_value(["T-04", "T-05"])
    _save(at)
    message = _success(at)
    assert "3 behouden, 0 veranderd, 0 verloren, 0 nieuw, 2 uit de groep" in message
    assert "LSNS-6: 3 → 9" in message and "(vergeleken met T1)" in message
    t2 = _ties(teststad, "T-01", GROUP, "T2")
    assert list(t2.index) == ["T-02", "T-04", "a9"]  # T-05 keeps its key a9, so the tie is followed
    assert t2.loc["a9", "alter_id"] == "T-05" and t2.loc["a9", "role"] == "vriend"
    assert t2["from_group"].astype(bool).to_dict() == {"T-02": False, "T-04": True, "a9": True}


def test_a_comparison_person_and_one_group_per_person_and_provision(teststad):
    at = _open(ADMIN)
    at.text_input(key="fu_code").set_value("T-02")  # takes part in nothing
    _run(at)
    assert at.radio(key="fu_groep").value == "vergelijking"
    assert at.selectbox(key="fu_voorziening").value is None
    assert "Grip & Glans Centrum (V900)" in at.selectbox(key="fu_voorziening").options  # any provision
    at.selectbox(key="fu_voorziening").set_value(GROUP)
    _run(at)
    assert at.selectbox(key="fu_moment").value == "T0"
    assert not any(m.key == "fu_groep_contact" for m in at.multiselect)
    assert not any(GROUP_QUESTION in c.value for c in at.caption)  # not asked of a comparison person
    _answer(at, T0_DAY, T0_LSNS, T0_DJG6)
    _save(at)
    _success(at)
    assert _measurement(teststad, "T-02", GROUP, "T0")["study_group"] == "vergelijking"
    at.radio(key="fu_groep").set_value("deelnemer")
    _run(at)
    assert any("aan geen voorziening deel" in i.value for i in at.info)

    # T-01 measured as a participant: a T1 as comparison person of the same provision is refused.
    _store_moment(teststad, "T0", T0_DAY, T0_NETWORK)
    again = _open(ADMIN)
    again.text_input(key="fu_code").set_value("T-01")
    _run(again)
    again.radio(key="fu_groep").set_value("vergelijking")
    _run(again)
    again.selectbox(key="fu_voorziening").set_value(GROUP)
    _run(again)
    again.selectbox(key="fu_moment").set_value("T1")
    _answer(again, T1_DAY, T1_LSNS, T1_DJG6)
    _save(again)
    assert any("eerder gemeten als deelnemer" in e.value for e in again.error)
    assert teststad.read_table("measurements").query("person_id == 'T-01'")["moment"].tolist() == ["T0"]

"""The aftercare schedule, due follow-up measurements and the "te doen" list (graphs/aftercare.py).

Every date below is worked out by hand from the rules in the module docstring:
contact k of a plan with c contacts a year is planned round(k · 365,25 / c) days (half up) after the start,
a follow-up moment T0 + weeks · 7 days.
"""

from __future__ import annotations

import pandas as pd
import pytest

from data.access import AccessDenied, ScopedStore
from data.auth import User
from data.errors import ConflictError, DataValidationError
from data.provision_types import PROVISION_TYPES
from data.store import GeoPackageStore
from graphs.aftercare import (
    CONTACT_COLUMNS,
    DUE_COLUMNS,
    OVERVIEW_COLUMNS,
    TODO_COLUMNS,
    aftercare_overview,
    measurement_due,
    planned_contacts,
    todo_list,
)
from tests.conftest import realdata
from tests.towns import build_state, write_town_files

D = pd.Timestamp


def plans_frame(rows: list[dict]) -> pd.DataFrame:
    """An aftercare_plans table as the store reads it (dates datetime64, integers Int64)."""
    defaults = {"provision_id": None, "reason": "wijkteam", "contacts_per_year": 4, "months": 12,
                "status": "actief", "version": 1}
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    frame["starts_on"] = pd.to_datetime(frame["starts_on"])
    return frame.astype({"contacts_per_year": "Int64", "months": "Int64", "version": "Int64"})


def contacts_frame(rows: list[dict]) -> pd.DataFrame:
    """An aftercare_contacts table as the store reads it."""
    columns = ["plan_id", "sequence", "planned_on", "done_on", "by_role", "outcome"]
    frame = pd.DataFrame([{"planned_on": None, "by_role": "wijkteam", "outcome": "gaat_goed", **row} for row in rows],
                         columns=columns)
    for column in ("planned_on", "done_on"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.astype({"sequence": "Int64"})


def measurements_frame(rows: list[tuple]) -> pd.DataFrame:
    """A measurements table: (person, provision, group, moment, measured_on) per row."""
    frame = pd.DataFrame(rows, columns=["person_id", "provision_id", "study_group", "moment", "measured_on"])
    frame["measured_on"] = pd.to_datetime(frame["measured_on"])
    return frame


GRIP = pd.DataFrame({"provision_id": ["GG1", "BH1"], "name": ["Grip & Glans Centrum", "Buurthuis Noord"],
                     "type": ["grip_en_glans", "buurthuis"]})


# ------------------------------------------------------------------------------------------ the schedule

def test_four_a_year_from_new_year_on_the_dates_of_the_rule():
    # 365,25 / 4 = 91,3125 days: k=1 -> 91 (1 jan + 91 = 2 apr), k=2 -> 182,625 -> 183 (1 jan + 181 = 1 jul,
    # so 3 jul), k=3 -> 273,9375 -> 274 (1 jan + 273 = 1 okt, so 2 okt), k=4 -> 365,25 -> 365 = 1 jan 2027.
    out = planned_contacts(plans_frame([{"plan_id": "NZ-0001", "person_id": "a", "starts_on": "2026-01-01"}]),
                           None, today="2026-01-01")
    assert list(out.columns) == CONTACT_COLUMNS
    assert out["sequence"].tolist() == [1, 2, 3, 4]
    assert out["planned_on"].tolist() == [D("2026-04-02"), D("2026-07-03"), D("2026-10-02"), D("2027-01-01")]
    assert (out["status"] == "te doen").all()
    assert out["days_overdue"].isna().all()
    assert str(out["sequence"].dtype) == "Int64" and str(out["days_overdue"].dtype) == "Int64"


def test_five_a_year_gives_five_contacts_and_four_over_six_months_two():
    plans = plans_frame([
        {"plan_id": "NZ-0001", "person_id": "a", "starts_on": "2026-01-01", "contacts_per_year": 5},
        {"plan_id": "NZ-0002", "person_id": "b", "starts_on": "2026-01-01", "months": 6},
        {"plan_id": "NZ-0003", "person_id": "c", "starts_on": "2026-01-01", "months": 7},
    ])
    out = planned_contacts(plans, None, today="2026-01-01")
    counts = out.groupby("plan_id").size().to_dict()
    # ceil(5·12/12) = 5, ceil(4·6/12) = 2, ceil(4·7/12) = ceil(2,33) = 3
    assert counts == {"NZ-0001": 5, "NZ-0002": 2, "NZ-0003": 3}
    # 365,25/5 = 73,05 days: 73, 146,1 -> 146, 219,15 -> 219, 292,2 -> 292, 365,25 -> 365
    five = out.loc[out["plan_id"] == "NZ-0001", "planned_on"].tolist()
    assert five == [D("2026-03-15"), D("2026-05-27"), D("2026-08-08"), D("2026-10-20"), D("2027-01-01")]
    assert out.loc[out["plan_id"] == "NZ-0002", "planned_on"].tolist() == [D("2026-04-02"), D("2026-07-03")]


def test_a_half_day_rounds_up():
    # c = 12: contact 8 is 8 · 30,4375 = 243,5 days after the start -> 244 (half up; half to even gives 244 too,
    # so check contact 8 of c = 12 against contact 24: 730,5 -> 731, where half to even would give 730).
    plans = plans_frame([{"plan_id": "NZ-0001", "person_id": "a", "starts_on": "2026-01-01",
                          "contacts_per_year": 12, "months": 24}])
    out = planned_contacts(plans, None, today="2026-01-01").set_index("sequence")["planned_on"]
    assert out[8] == D("2026-01-01") + pd.Timedelta(days=244)
    assert out[24] == D("2026-01-01") + pd.Timedelta(days=731)


def test_registered_contact_is_done_and_overdue_days_are_exact():
    plans = plans_frame([{"plan_id": "NZ-0001", "person_id": "a", "starts_on": "2026-01-01", "version": 3}])
    contacts = contacts_frame([{"plan_id": "NZ-0001", "sequence": 1, "done_on": "2026-04-07",
                                "by_role": "vrijwilliger", "outcome": "lichte_zorg"}])
    out = planned_contacts(plans, contacts, today="2026-08-01").set_index("sequence")
    assert out.loc[1, "status"] == "gedaan"
    assert (out.loc[1, "done_on"], out.loc[1, "by_role"], out.loc[1, "outcome"]) == (
        D("2026-04-07"), "vrijwilliger", "lichte_zorg")
    assert pd.isna(out.loc[1, "days_overdue"])
    # Contact 2 planned 3 jul: 28 days left in July, plus 1 august = 29 days late.
    assert out.loc[2, "status"] == "te laat" and out.loc[2, "days_overdue"] == 29
    assert out.loc[3, "status"] == "te doen" and pd.isna(out.loc[3, "days_overdue"])
    assert out["plan_version"].tolist() == [3, 3, 3, 3]
    # Planned today is not late yet.
    today = planned_contacts(plans, contacts, today="2026-07-03").set_index("sequence")
    assert today.loc[2, "status"] == "te doen"


def test_stopped_and_finished_plans_lapse_their_open_contacts_and_a_contact_beyond_the_plan_stays():
    plans = plans_frame([
        {"plan_id": "NZ-0001", "person_id": "a", "starts_on": "2026-01-01", "status": "gestopt"},
        {"plan_id": "NZ-0002", "person_id": "b", "starts_on": "2026-01-01", "status": "afgerond"},
        {"plan_id": "NZ-0003", "person_id": "c", "starts_on": "2026-01-01", "months": 6},
    ])
    contacts = contacts_frame([
        {"plan_id": "NZ-0001", "sequence": 1, "done_on": "2026-04-02"},
        # registered as contact 3 when the plan still ran 12 months; it was shortened to 6 (n = 2) later
        {"plan_id": "NZ-0003", "sequence": 3, "planned_on": "2026-10-02", "done_on": "2026-10-05"},
        {"plan_id": "NZ-9999", "sequence": 1, "done_on": "2026-04-02"},  # a plan not in view
    ])
    out = planned_contacts(plans, contacts, today="2026-12-01")
    status = dict(zip(zip(out["plan_id"], out["sequence"], strict=True), out["status"], strict=True))
    assert status == {("NZ-0001", 1): "gedaan", ("NZ-0001", 2): "vervallen", ("NZ-0001", 3): "vervallen",
                      ("NZ-0001", 4): "vervallen", ("NZ-0002", 1): "vervallen", ("NZ-0002", 2): "vervallen",
                      ("NZ-0002", 3): "vervallen", ("NZ-0002", 4): "vervallen", ("NZ-0003", 1): "te laat",
                      ("NZ-0003", 2): "te laat", ("NZ-0003", 3): "gedaan"}
    beyond = out.loc[(out["plan_id"] == "NZ-0003") & (out["sequence"] == 3)].iloc[0]
    assert beyond["planned_on"] == D("2026-10-02") and beyond["done_on"] == D("2026-10-05")
    lapsed = out.loc[out["status"] == "vervallen", "days_overdue"]
    assert lapsed.isna().all()
    persons = pd.DataFrame({"person_id": ["a", "b", "c"], "buurt_code": ["BU19990001"] * 3})
    todo = todo_list(plans, contacts, None, persons, GRIP, PROVISION_TYPES, start="2026-01-01", end="2027-12-31",
                     today="2026-12-01")
    assert set(todo["plan_id"]) == {"NZ-0003"}
    assert todo["what"].tolist() == ["nazorgcontact 1 van 2", "nazorgcontact 2 van 2"]


def test_overview_per_plan():
    plans = plans_frame([
        {"plan_id": "NZ-0001", "person_id": "a", "starts_on": "2026-01-01", "version": 4},
        {"plan_id": "NZ-0002", "person_id": "b", "starts_on": "2026-01-01", "status": "gestopt"},
        {"plan_id": "NZ-0003", "person_id": "c", "starts_on": "2026-06-01", "contacts_per_year": 5},
    ])
    contacts = contacts_frame([
        {"plan_id": "NZ-0001", "sequence": 2, "done_on": "2026-07-01", "outcome": "niet_bereikt"},
        {"plan_id": "NZ-0001", "sequence": 1, "done_on": "2026-07-20", "outcome": "gaat_goed"},
        {"plan_id": "NZ-0002", "sequence": 1, "done_on": "2026-04-01", "outcome": "wil_geen_contact"},
    ])
    out = aftercare_overview(plans, contacts, today="2026-11-01").set_index("plan_id")
    assert list(out.reset_index().columns) == OVERVIEW_COLUMNS
    assert out["planned"].tolist() == [4, 4, 5]
    assert out["done"].tolist() == [2, 1, 0]
    # NZ-0001: contact 3 (2 okt) late, 4 (1 jan 2027) next-but-one; NZ-0003: 1 jun + 73 = 13 aug,
    # + 146 = 25 okt late, + 219 = 6 jan 2027 open; the stopped plan has nothing late or due.
    assert out["overdue"].tolist() == [1, 0, 2]
    assert out.loc["NZ-0001", "next_due"] == D("2026-10-02")
    assert pd.isna(out.loc["NZ-0002", "next_due"])
    assert out.loc["NZ-0003", "next_due"] == D("2026-08-13")
    # last outcome by the date done, not by sequence
    assert out.loc["NZ-0001", "last_outcome"] == "gaat_goed"
    assert out.loc["NZ-0002", "last_outcome"] == "wil_geen_contact"
    assert pd.isna(out.loc["NZ-0003", "last_outcome"])
    assert out.loc["NZ-0001", "plan_version"] == 4


# ------------------------------------------------------------------------------------------ measurements

def test_grip_en_glans_follow_up_dates_and_a_measured_moment_is_not_due():
    # T1 6 weeks = 42 days after 2 mar: 13 apr; T2 19 weeks = 133 days: 13 jul; T3 58 weeks = 406 days:
    # 2 mar 2027 is 365 days, + 41 = 12 apr 2027.
    measured = measurements_frame([("p1", "GG1", "deelnemer", "T0", "2026-03-02")])
    due = measurement_due(measured, GRIP, PROVISION_TYPES, today="2026-03-02")
    assert list(due.columns) == DUE_COLUMNS
    assert due["moment"].tolist() == ["T1", "T2", "T3"]
    assert due["due_on"].tolist() == [D("2026-04-13"), D("2026-07-13"), D("2027-04-12")]
    assert (due["status"] == "te doen").all()

    with_t1 = measurements_frame([("p1", "GG1", "deelnemer", "T0", "2026-03-02"),
                                  ("p1", "GG1", "deelnemer", "T1", "2026-04-20")])
    due = measurement_due(with_t1, GRIP, PROVISION_TYPES, today="2026-08-01")
    assert due["moment"].tolist() == ["T2", "T3"]
    # 13 jul -> 1 aug: 18 days left in July + 1 = 19 days late
    assert due["status"].tolist() == ["te laat", "te doen"]
    assert due["days_overdue"].tolist()[0] == 19 and pd.isna(due["days_overdue"].iloc[1])


def test_measurement_due_leaves_out_what_is_not_planned():
    rows = [
        ("p2", "GG1", "vergelijking", "T0", "2026-03-02"),  # the comparison group is followed too
        ("p3", "GG1", "deelnemer", "T0", None),  # intake without a date: nothing to plan from
        ("p4", "BH1", "deelnemer", "T0", "2026-03-02"),  # a buurthuis has no fixed moments
        ("p5", "GG1", "deelnemer", "T0", "2026-03-02"),
        ("p5", "GG1", "deelnemer", "T2", "2026-07-15"),  # T2 done: T1 can no longer be measured
    ]
    due = measurement_due(measurements_frame(rows), GRIP, PROVISION_TYPES, today="2026-08-01")
    got = set(zip(due["person_id"], due["study_group"], due["moment"], strict=True))
    assert got == {("p2", "vergelijking", "T1"), ("p2", "vergelijking", "T2"), ("p2", "vergelijking", "T3"),
                   ("p5", "deelnemer", "T3")}
    # the catalogue as the store's table works the same; a type without T3 weeks plans no T3
    table = pd.DataFrame({"code": ["grip_en_glans"], "t1_weeks": [6], "t2_weeks": [19], "t3_weeks": [None]})
    due = measurement_due(measurements_frame(rows[:1]), GRIP, table, today="2026-08-01")
    assert due["moment"].tolist() == ["T1", "T2"]


# ------------------------------------------------------------------------------------------ the te-doen list

PERSONS = pd.DataFrame({"person_id": ["c1", "c2", "n1"],
                        "buurt_code": ["BU19990001", "BU19990002", "BU19990101"]})  # Centrum, Centrum, Noord


def two_wijken():
    """Plans and measurements of two persons in Centrum (WK199900) and one in Noord (WK199901)."""
    plans = plans_frame([
        {"plan_id": "NZ-0001", "person_id": "c1", "starts_on": "2026-01-01", "version": 2},
        {"plan_id": "NZ-0002", "person_id": "n1", "starts_on": "2026-01-01"},
        {"plan_id": "NZ-0003", "person_id": "c2", "starts_on": "2026-02-01", "reason": "voorziening",
         "provision_id": "GG1", "contacts_per_year": 5, "status": "gestopt"},
    ])
    contacts = contacts_frame([{"plan_id": "NZ-0001", "sequence": 1, "done_on": "2026-04-02"}])
    measured = measurements_frame([
        ("c2", "GG1", "deelnemer", "T0", "2026-03-02"),
        ("n1", "GG1", "deelnemer", "T0", "2026-03-02"),
    ])
    return plans, contacts, measured


def test_todo_list_of_a_wijkteam_shows_exactly_its_period_and_its_overdue_items():
    plans, contacts, measured = two_wijken()
    # Period: October 2026, judged on 15 October.
    out = todo_list(plans, contacts, measured, PERSONS, GRIP, PROVISION_TYPES, start="2026-10-01",
                    end="2026-10-31", today="2026-10-15", wijken=["WK199900"])
    assert list(out.columns) == TODO_COLUMNS
    got = list(zip(out["kind"], out["person_id"], out["what"], out["due_on"], out["status"],
                   out["days_overdue"].astype(object).where(out["days_overdue"].notna(), None), strict=True))
    assert got == [
        # c2's T1 (13 apr): 17 + 31 + 30 + 31 + 31 + 30 + 15 = 185 days late
        ("meting", "c2", "meting T1 (einde)", D("2026-04-13"), "te laat", 185),
        # c1's contact 2 (3 jul): 28 + 31 + 30 + 15 = 104 days late; contact 1 was done
        ("nazorgcontact", "c1", "nazorgcontact 2 van 4", D("2026-07-03"), "te laat", 104),
        # c2's T2 (13 jul): 18 + 31 + 30 + 15 = 94 days late
        ("meting", "c2", "meting T2 (follow-up 1)", D("2026-07-13"), "te laat", 94),
        # c1's contact 3 (2 okt) in the period and already late: 13 days
        ("nazorgcontact", "c1", "nazorgcontact 3 van 4", D("2026-10-02"), "te laat", 13),
    ]
    # Not there: c1's contact 4 (1 jan 2027) and c2's T3 (12 apr 2027) lie after the period, c2's plan was
    # stopped, and nothing of n1 in Noord.
    assert "n1" not in set(out["person_id"])
    contact = out.loc[out["kind"] == "nazorgcontact"].iloc[0]
    assert (contact["plan_id"], contact["sequence"], contact["plan_version"]) == ("NZ-0001", 2, 2)
    assert pd.isna(contact["moment"]) and out.loc[out["kind"] == "meting", "plan_id"].isna().all()
    assert out.loc[out["kind"] == "meting", "provision_name"].unique().tolist() == ["Grip & Glans Centrum"]
    assert out["buurt_code"].tolist() == ["BU19990002", "BU19990001", "BU19990002", "BU19990001"]


def test_todo_list_for_a_future_period_has_the_planned_items_and_what_is_late_today():
    plans, contacts, measured = two_wijken()
    # Judged on 1 March 2026, for the second quarter: nothing is late yet. c1's contact 1 (2 apr) is registered
    # already and contact 2 (3 jul) lies after the period; c2's T1 (13 apr) is inside, T2 (13 jul) is not.
    out = todo_list(plans, contacts, measured, PERSONS, GRIP, PROVISION_TYPES, start="2026-04-01",
                    end="2026-06-30", today="2026-03-01", wijken=["WK199900"])
    assert list(zip(out["person_id"], out["what"], out["status"], strict=True)) == [
        ("c2", "meting T1 (einde)", "te doen")]
    # Noord alone: n1's contact 1 (2 apr) and T1 (13 apr); the list of every wijk has all three.
    noord = todo_list(plans, contacts, measured, PERSONS, GRIP, PROVISION_TYPES, start="2026-04-01",
                      end="2026-06-30", today="2026-03-01", wijken=["WK199901"])
    assert list(zip(noord["person_id"], noord["what"], strict=True)) == [
        ("n1", "nazorgcontact 1 van 4"), ("n1", "meting T1 (einde)")]
    everyone = todo_list(plans, contacts, measured, PERSONS, GRIP, PROVISION_TYPES, start="2026-04-01",
                         end="2026-06-30", today="2026-03-01")
    assert len(everyone) == 3 and everyone["due_on"].is_monotonic_increasing


def test_empty_tables_give_an_empty_list_with_its_columns():
    empty_plans = plans_frame([{"plan_id": "x", "person_id": "x", "starts_on": "2026-01-01"}]).iloc[:0]
    out = todo_list(empty_plans, contacts_frame([]), measurements_frame([]), PERSONS, GRIP, PROVISION_TYPES,
                    start="2026-01-01", end="2026-12-31", today="2026-06-01", wijken=["WK199900"])
    assert out.empty and list(out.columns) == TODO_COLUMNS
    assert list(planned_contacts(empty_plans, None, today="2026-06-01").columns) == CONTACT_COLUMNS
    assert list(measurement_due(measurements_frame([]), GRIP, PROVISION_TYPES, today="2026-06-01").columns) == \
        DUE_COLUMNS
    assert list(aftercare_overview(empty_plans, None, today="2026-06-01").columns) == OVERVIEW_COLUMNS


def test_bad_input_is_refused_in_dutch():
    plans, contacts, measured = two_wijken()
    with pytest.raises(DataValidationError, match="einde van de periode ligt voor het begin"):
        todo_list(plans, contacts, measured, PERSONS, GRIP, PROVISION_TYPES, start="2026-05-01", end="2026-04-01",
                  today="2026-04-01")
    with pytest.raises(DataValidationError, match="'BU19990001' is geen wijkcode"):
        todo_list(plans, contacts, measured, PERSONS, GRIP, PROVISION_TYPES, start="2026-04-01", end="2026-05-01",
                  today="2026-04-01", wijken=["BU19990001"])
    with pytest.raises(DataValidationError, match="mist de kolom.*starts_on"):
        planned_contacts(plans.drop(columns="starts_on"), None, today="2026-04-01")
    with pytest.raises(DataValidationError, match="NZ-0002 heeft geen geldige begindatum"):
        planned_contacts(plans.assign(starts_on=[D("2026-01-01"), pd.NaT, D("2026-01-01")]), None,
                         today="2026-04-01")
    with pytest.raises(DataValidationError, match="geldige datum voor vandaag"):
        planned_contacts(plans, None, today="morgen")


# ------------------------------------------------------------------------------------------ real data

def test_wijk_filter_agrees_with_the_cbs_wijk_of_every_real_buurt():
    import geopandas as gpd

    buurten = gpd.read_file(realdata("zaanstad_buurten_2017.geojson"), columns=["bu_code", "wk_code"])
    persons = pd.DataFrame({"person_id": "P" + buurten.index.astype(str), "buurt_code": buurten["bu_code"]})
    plans = plans_frame([{"plan_id": f"NZ-{i:04d}", "person_id": p, "starts_on": "2026-01-01"}
                         for i, p in enumerate(persons["person_id"])])
    wijk = buurten["wk_code"].value_counts().index[0]
    out = todo_list(plans, None, None, persons, GRIP, PROVISION_TYPES, start="2026-04-01", end="2026-04-30",
                    today="2026-03-01", wijken=[wijk])
    expected = set(persons.loc[(buurten["wk_code"] == wijk).to_numpy(), "person_id"])
    assert len(expected) >= 2 and set(out["person_id"]) == expected
    assert (out["what"] == "nazorgcontact 1 van 4").all()


# ------------------------------------------------------------------------------------------ end to end

@pytest.fixture()
def teststad(tmp_path) -> GeoPackageStore:
    """Teststad with its networks: T-01, T-02 in Oude Kern (Centrum, WK199900), T-03 in Bloemenwijk (Noord)."""
    files = write_town_files(tmp_path / "bestanden")
    return build_state(GeoPackageStore.create_new(tmp_path / "teststad.gpkg"), files, "netwerken")


def test_end_to_end_a_wijkteam_plans_registers_and_sees_its_own_list(teststad):
    admin = ScopedStore(teststad, User("beheer", "beheerder"))
    centrum = ScopedStore(teststad, User("wijk-centrum", "wijkteam", ("WK199900",)))
    noord = ScopedStore(teststad, User("wijk-noord", "wijkteam", ("WK199901",)))
    # The buurthuis gets follow-up moments 6 and 19 weeks after intake.
    admin.set_followup_schedule("buurthuis", t1_weeks=6, t2_weeks=19, t3_weeks=None, aftercare_per_year=4)
    centrum.merge_measurements(pd.DataFrame({"person_id": ["T-01"], "provision_id": ["V001"],
                                             "study_group": ["deelnemer"], "moment": ["T0"],
                                             "measured_on": ["2026-06-01"]}), kind="meting-invoer")
    plan = centrum.save_aftercare_plan({"person_id": "T-01", "reason": "wijkteam", "starts_on": "2026-01-01",
                                        "contacts_per_year": 4, "months": 12})
    assert (plan["plan_id"], plan["version"]) == ("NZ-0001", 1)
    version = centrum.register_aftercare_contact("NZ-0001", 1, done_on="2026-04-03", by_role="wijkteam",
                                                 outcome="gaat_goed", expected_version=1)
    assert version == 2

    def read(scoped):
        return {name: scoped.read_table(name) for name in ("aftercare_plans", "aftercare_contacts",
                                                           "measurements", "persons", "provisions")}

    mine = read(centrum)
    todo = todo_list(mine["aftercare_plans"], mine["aftercare_contacts"], mine["measurements"], mine["persons"],
                     mine["provisions"], centrum.read_provision_types(), start="2026-07-01", end="2026-09-30",
                     today="2026-08-01", wijken=centrum.user.wijken)
    # Contact 2 (3 jul, 29 days late), T1 of T-01 at 1 jun + 42 = 13 jul (19 days late); contact 3 (2 okt) and
    # T2 (1 jun + 133 = 12 okt) lie after the period; contact 1 is done.
    assert list(zip(todo["kind"], todo["what"], todo["due_on"], todo["days_overdue"].astype(int), strict=True)) == [
        ("nazorgcontact", "nazorgcontact 2 van 4", D("2026-07-03"), 29),
        ("meting", "meting T1 (einde)", D("2026-07-13"), 19)]
    assert todo["plan_version"].iloc[0] == 2 and todo["provision_name"].iloc[1] == "Buurtkamer De Kern"
    overview = aftercare_overview(mine["aftercare_plans"], mine["aftercare_contacts"], today="2026-08-01")
    assert overview[["planned", "done", "overdue"]].iloc[0].tolist() == [4, 1, 1]

    # Another wijk's team may not plan for T-01 and sees no plan, contact or measurement of it.
    with pytest.raises(AccessDenied, match="eigen wijken"):
        noord.save_aftercare_plan({"person_id": "T-01", "reason": "wijkteam", "starts_on": "2026-01-01"})
    with pytest.raises(AccessDenied, match="eigen wijken"):
        noord.register_aftercare_contact("NZ-0001", 2, done_on="2026-07-05", by_role="wijkteam",
                                         outcome="gaat_goed", expected_version=2)
    theirs = read(noord)
    assert theirs["aftercare_plans"].empty and theirs["aftercare_contacts"].empty and theirs["measurements"].empty
    assert todo_list(theirs["aftercare_plans"], theirs["aftercare_contacts"], theirs["measurements"],
                     theirs["persons"], theirs["provisions"], noord.read_provision_types(), start="2026-07-01",
                     end="2026-09-30", today="2026-08-01", wijken=noord.user.wijken).empty
    # Aggregate roles see no person's plan at all.
    with pytest.raises(AccessDenied):
        ScopedStore(teststad, User("beleid", "gemeente")).read_table("aftercare_plans")

    # Two people registering from the same open list: the second, with the old version, is refused.
    with pytest.raises(ConflictError, match="intussen door iemand anders gewijzigd.*niet opgeslagen"):
        centrum.register_aftercare_contact("NZ-0001", 2, done_on="2026-07-05", by_role="wijkteam",
                                           outcome="gaat_goed", expected_version=1)
    assert len(centrum.read_table("aftercare_contacts")) == 1
    centrum.register_aftercare_contact("NZ-0001", 2, done_on="2026-07-05", by_role="vrijwilliger",
                                       outcome="lichte_zorg", expected_version=2)
    mine = read(centrum)
    todo = todo_list(mine["aftercare_plans"], mine["aftercare_contacts"], mine["measurements"], mine["persons"],
                     mine["provisions"], centrum.read_provision_types(), start="2026-07-01", end="2026-09-30",
                     today="2026-08-01", wijken=centrum.user.wijken)
    assert todo["what"].tolist() == ["meting T1 (einde)"]

"""The demo's follow-up cohorts: the planted effects are recovered within their intervals, counts and response
are what the generator documents, aggregate roles see no person, and the cohort is deterministic."""

import numpy as np
import pandas as pd
import pytest

from data.access import ScopedStore
from data.auth import User
from data.demo import (
    FOLLOWUP_COHORTS,
    FOLLOWUP_DATE_JITTER_DAYS,
    FOLLOWUP_EFFECTS,
    FOLLOWUP_REFERENCE,
    generate_demo,
)
from data.provision_types import PROVISION_TYPES
from data.schema import AFTERCARE_OUTCOMES, AFTERCARE_ROLES, DJG_ANSWERS, ROLES
from graphs.outcomes import tie_change_counts, tie_changes

ADMIN = User("beheer", "beheerder")


def _cohort_provision(demo, ptype: str) -> str:
    """The provision the demo measured for this type (read from the data, not from the generator)."""
    types = demo.provisions.set_index("provision_id")["type"]
    measured = demo.measurements["provision_id"].drop_duplicates()
    ids = measured[measured.map(types) == ptype].tolist()
    assert len(ids) == 1, ids
    return ids[0]


def _row(summary: pd.DataFrame, provision_id: str, measure: str) -> pd.Series:
    rows = summary.loc[(summary["provision_id"] == provision_id) & (summary["measure"] == measure)]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.mark.parametrize("ptype", sorted(FOLLOWUP_EFFECTS))
@pytest.mark.parametrize("after", ["T1", "T2"])
@pytest.mark.parametrize("measure", ["lsns6", "djg"])
def test_planted_effect_lies_in_the_interval(demo, demo_store, ptype, after, measure):
    provision = _cohort_provision(demo, ptype)
    summary = ScopedStore(demo_store, ADMIN).outcome_summary(before="T0", after=after)
    row = _row(summary, provision, measure)
    planted = FOLLOWUP_EFFECTS[ptype]["deelnemer"][measure][after]
    compared = FOLLOWUP_EFFECTS[ptype]["vergelijking"][measure][after]
    assert row["ci_low"] <= planted <= row["ci_high"]
    assert np.sign(row["mean_change"]) == np.sign(planted)  # LSNS up, loneliness down: the sign is not swapped
    # The generator centres the noise per group: the sample mean is the effect up to rounding to whole points.
    assert abs(row["mean_change"] - planted) <= 0.5 / row["n_paired"] + 1e-9
    assert abs(row["compare_mean_change"] - compared) <= 0.5 / row["n_compare_paired"] + 1e-9
    assert row["did_ci_low"] <= planted - compared <= row["did_ci_high"]
    assert row["reason"] == "" and row["did_reason"] == ""
    assert row["ci_high"] - row["ci_low"] > 0.5  # real spread between persons, not a constant change


def test_counts_and_response_follow_the_documented_cohort(demo, demo_store):
    provision = _cohort_provision(demo, "grip_en_glans")
    spec = FOLLOWUP_COHORTS["grip_en_glans"]
    scoped = ScopedStore(demo_store, ADMIN)
    row = _row(scoped.outcome_summary(before="T0", after="T2"), provision, "lsns6")
    n_t2 = spec["participants"] - spec["missing_T2"]["deelnemer"]
    assert spec["participants"] == 10 and n_t2 == 8  # the round: 10 participants, 2 missing at T2
    assert (row["n_T0"], row["n_T1"], row["n_T2"], row["n_T3"]) == (10, 10, 8, 0)
    assert row["n_paired"] == 8
    assert row["response_rate"] == pytest.approx(0.8)
    assert row["n_compare_before"] == spec["comparison"]
    assert row["n_compare_paired"] == spec["comparison"] - spec["missing_T2"]["vergelijking"]
    assert pd.notna(row["did"])
    t1 = _row(scoped.outcome_summary(before="T0", after="T1"), provision, "lsns6")
    assert t1["response_rate"] == pytest.approx(1.0) and t1["n_compare_paired"] == spec["comparison"]


def test_most_grip_en_glans_participants_are_still_in_contact_at_t2(demo, demo_store):
    provision = _cohort_provision(demo, "grip_en_glans")
    table = ScopedStore(demo_store, ADMIN).group_contact_summary(moment="T2").set_index("provision_id")
    assert table.loc[provision, "n_participants"] == 8
    assert table.loc[provision, "share"] > 0.5
    visits = _cohort_provision(demo, "bezoekdienst_weduwen")  # individual visits: no group to stay in touch with
    assert table.loc[visits, "share"] == 0


def test_aggregate_roles_see_protected_counts_and_no_person(demo, demo_store):
    ids = set(demo.persons["person_id"])
    for role in ("gemeente", "gebiedsverbinder", "opbouwwerker"):
        scoped = ScopedStore(demo_store, User("x", role))
        for after in ("T1", "T2"):
            summary = scoped.outcome_summary(before="T0", after=after)
            assert len(summary)
            text = " ".join(map(str, summary.to_numpy(dtype=object).ravel()))
            assert not any(pid in text for pid in ids)
            counts = summary[[c for c in summary.columns if c.startswith("n_") and c != "n_labelled"]]
            values = counts.astype(float).to_numpy().ravel()
            assert not ((values >= 1) & (values <= 4)).any()
            assert summary["n_labelled"].isna().all()
        contact = scoped.group_contact_summary(moment="T2")
        assert not any(pid in " ".join(map(str, contact.to_numpy(dtype=object).ravel())) for pid in ids)
        assert not contact["n_participants"].astype(int).between(1, 4).any()


def test_measurements_are_valid_and_dated_by_the_provision_type(demo):
    m = demo.measurements
    assert m["person_id"].isin(demo.persons["person_id"]).all()
    assert not m.duplicated(["person_id", "provision_id", "moment"]).any()
    items = m[[f"lsns_{i}" for i in range(1, 7)]].astype(float)
    assert items.notna().all().all() and items.isin(range(6)).all().all()
    assert m[[f"djg_{i}" for i in range(1, 12)]].isin(DJG_ANSWERS).all().all()
    assert m["network_recorded"].all() and (m["version"] == 1).all()
    types = demo.provisions.set_index("provision_id")["type"]
    t0 = m.loc[m["moment"] == "T0"].set_index(["person_id", "provision_id"])["measured_on"]
    for moment in ("T1", "T2"):
        later = m.loc[m["moment"] == moment].set_index(["person_id", "provision_id"])
        weeks = later.index.get_level_values("provision_id").map(types).map(
            lambda t, k=moment: PROVISION_TYPES[t].moment_weeks[k])
        offset = (later["measured_on"] - t0.reindex(later.index)).dt.days.to_numpy() - np.asarray(weeks) * 7
        assert (np.abs(offset) <= FOLLOWUP_DATE_JITTER_DAYS).all()
    gg = m.loc[m["provision_id"] == _cohort_provision(demo, "grip_en_glans")]
    assert gg.loc[gg["moment"] == "T0", "measured_on"].between("2026-02-23", "2026-03-05").all()
    visits = m.loc[m["provision_id"] == _cohort_provision(demo, "bezoekdienst_weduwen")]
    assert visits.loc[visits["moment"] == "T0", "measured_on"].between("2025-11-01", "2025-12-31").all()
    widowed = demo.persons.set_index("person_id")["widowed_since"]
    intake = visits.loc[visits["moment"] == "T0"]
    assert (widowed.reindex(intake["person_id"]).to_numpy() < intake["measured_on"].to_numpy()).all()


def test_participants_take_part_and_the_comparison_group_does_not(demo):
    m, part = demo.measurements, demo.participation
    assert not part.duplicated(["person_id", "provision_id"]).any()
    types = demo.provisions.set_index("provision_id")["type"]
    intake = m.loc[m["moment"] == "T0"]
    joined = intake.merge(part, on=["person_id", "provision_id"], how="left")
    takes_part = joined["study_group"] == "deelnemer"
    assert (joined.loc[takes_part, "role"] == "deelnemer").all()
    assert (pd.to_datetime(joined.loc[takes_part, "since"]) == joined.loc[takes_part, "measured_on"]).all()
    comparison = intake.loc[intake["study_group"] == "vergelijking"]
    of_type = part.assign(type=part["provision_id"].map(types))
    for ptype, persons in comparison.assign(type=comparison["provision_id"].map(types)).groupby("type"):
        assert not persons["person_id"].isin(of_type.loc[of_type["type"] == ptype, "person_id"]).any()
    assert not (set(intake.loc[intake["provision_id"] == _cohort_provision(demo, "grip_en_glans"), "person_id"])
                & set(intake.loc[intake["provision_id"] == _cohort_provision(demo, "bezoekdienst_weduwen"),
                                 "person_id"]))


def test_networks_start_from_the_demo_ties_and_change_from_moment_to_moment(demo):
    f, m = demo.followup_ties, demo.measurements
    assert not f.duplicated(["person_id", "provision_id", "moment", "alter_key"]).any()
    assert set(f["role"]) <= set(ROLES)
    assert f["alter_id"].dropna().isin(demo.persons["person_id"]).all()
    keys = f[["person_id", "provision_id", "moment"]].drop_duplicates().merge(
        m[["person_id", "provision_id", "moment"]], how="left", indicator=True)
    assert (keys["_merge"] == "both").all()  # every network belongs to a measurement
    t0 = f.loc[f["moment"] == "T0"]
    ties = demo.ties.loc[demo.ties["ego_id"].isin(t0["person_id"])]
    expected = set(zip(ties["ego_id"], ties["alter_key"].fillna(ties["alter_id"]), strict=True))
    assert set(zip(t0["person_id"], t0["alter_key"], strict=True)) == expected
    group = m.drop_duplicates("person_id").set_index("person_id")["study_group"]
    changes = tie_changes(t0.rename(columns={"person_id": "ego_id"}),
                          f.loc[f["moment"] == "T1"].rename(columns={"person_id": "ego_id"}))
    assert {"behouden", "veranderd", "verloren", "nieuw"} <= set(changes["status"])
    counts = tie_change_counts(changes).set_index("ego_id")
    counts["group"] = counts.index.map(group)
    new = counts.groupby("group")["new"].mean()
    assert new["deelnemer"] > 2 * new["vergelijking"]
    assert counts["kept"].sum() > counts["lost"].sum()  # most alters stay


def test_group_ties_name_other_participants_of_the_same_round(demo):
    f, m = demo.followup_ties, demo.measurements
    provision = _cohort_provision(demo, "grip_en_glans")
    participants = set(m.loc[(m["provision_id"] == provision) & (m["study_group"] == "deelnemer"), "person_id"])
    from_group = f.loc[f["from_group"].astype(bool)]
    assert len(from_group) and (from_group["provision_id"] == provision).all()
    assert (from_group["role"] == "groepsgenoot").all()
    assert from_group["person_id"].isin(participants).all() and from_group["alter_id"].isin(participants).all()
    assert (from_group["alter_id"] != from_group["person_id"]).all()
    assert (from_group["alter_key"] == from_group["alter_id"]).all()  # stable key: the same alter at T1 and T2
    at_t2 = from_group.loc[from_group["moment"] == "T2"].groupby("person_id").size()
    assert at_t2.between(2, 3).all()


def _planned(starts_on: pd.Timestamp, per_year: int, months: int) -> list[pd.Timestamp]:
    # The schedule rule of issue 16's aftercare list: n = ceil(c·M/12) contacts, k-th at round(k·365.25/c) days.
    n = -(-per_year * months // 12)
    return [starts_on + pd.Timedelta(days=round(k * 365.25 / per_year)) for k in range(1, n + 1)]


def test_aftercare_has_overdue_and_december_contacts(demo, demo_store):
    plans, contacts = demo.aftercare_plans, demo.aftercare_contacts
    assert plans["plan_id"].is_unique and plans["plan_id"].str.fullmatch(r"NZ-\d{4}").all()
    visits = _cohort_provision(demo, "bezoekdienst_weduwen")
    m = demo.measurements
    t1 = m.loc[(m["provision_id"] == visits) & (m["study_group"] == "deelnemer") & (m["moment"] == "T1")]
    after_visits = plans.loc[plans["reason"] == "voorziening"].set_index("person_id")
    assert set(after_visits.index) == set(t1["person_id"])
    assert (after_visits.loc[t1["person_id"], "starts_on"].to_numpy() == t1["measured_on"].to_numpy()).all()
    assert (after_visits["provision_id"] == visits).all() and (after_visits["contacts_per_year"] == 4).all()
    wijkteam = plans.loc[plans["reason"] == "wijkteam"]
    assert len(wijkteam) == 3 and wijkteam["provision_id"].isna().all()
    assert not wijkteam["person_id"].isin(m["person_id"]).any()
    assert plans["person_id"].isin(demo.persons["person_id"]).all() and (plans["status"] == "actief").all()
    # Versions as register_aftercare_contact leaves them.
    per_plan = contacts.groupby("plan_id").size()
    assert (plans["version"] == 1 + plans["plan_id"].map(per_plan).fillna(0)).all()
    assert contacts["by_role"].isin(list(AFTERCARE_ROLES)).all()
    assert contacts["outcome"].isin(list(AFTERCARE_OUTCOMES)).all()
    assert (contacts["done_on"] < FOLLOWUP_REFERENCE).all()
    schedule = pd.DataFrame([(p.plan_id, k, when) for p in plans.itertuples()
                             for k, when in enumerate(_planned(p.starts_on, p.contacts_per_year, p.months), 1)],
                            columns=["plan_id", "sequence", "planned_on"])
    done = schedule.merge(contacts[["plan_id", "sequence", "planned_on"]], on=["plan_id", "sequence"], how="left",
                          suffixes=("", "_stored"), indicator=True)
    registered = done["_merge"] == "both"
    assert registered.sum() == len(contacts)  # every registered contact is a planned one, on its planned date
    assert (done.loc[registered, "planned_on"] == done.loc[registered, "planned_on_stored"]).all()
    overdue = ~registered & (done["planned_on"] < FOLLOWUP_REFERENCE)
    december = ~registered & done["planned_on"].between("2026-12-01", "2026-12-31")
    assert overdue.sum() >= 1 and december.sum() >= 1
    stored = ScopedStore(demo_store, ADMIN).read_table("aftercare_plans")
    assert stored["version"].astype(int).tolist() == plans["version"].astype(int).tolist()


def test_cohort_is_deterministic(demo):
    again = generate_demo()
    for name in ("measurements", "followup_ties", "aftercare_plans", "aftercare_contacts", "participation"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(demo, name))
    other = generate_demo(seed=1)
    assert len(other.measurements) and len(other.aftercare_plans)
    assert not other.measurements["person_id"].isin(demo.measurements["person_id"]).all()

"""Change statistics (graphs/outcomes.py): hand-worked cohort, reliable change, suppression, tie follow-up."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from graphs.outcomes import (
    CHANGED,
    COMPARISON_TOO_FEW,
    IMPROVED,
    KEPT,
    LOST,
    NEW,
    NO_COMPARISON,
    OUTCOME_COLUMNS,
    TOO_FEW,
    UNCHANGED,
    WORSE,
    change_summary,
    outcomes_table,
    paired_changes,
    reliable_change,
    still_in_contact_by_provision,
    still_in_contact_share,
    tie_change_counts,
    tie_changes,
)

# The hand-made cohort: provision P1, LSNS-6, 8 participants and 4 comparison persons.
PART_T0 = [10, 12, 8, 14, 11, 9, 13, 15]
PART_CHANGE = [1, 2, 3, 4, 5, 6, 7, 4]
COMP_T0 = [12, 10, 9, 11]
COMP_CHANGE = [-1, 1, 3, 1]
T0_DATE = pd.Timestamp("2024-01-08")


def rows(person: str, provision: str, group: str, moment: str, score: float, *, measure: str = "lsns6",
         days: int = 0, kind: str = "grip_en_glans") -> dict:
    return {"person_id": person, "provision_id": provision, "group": group, "moment": moment,
            "measured_on": T0_DATE + pd.Timedelta(days=days), "measure": measure, "score": float(score),
            "type": kind}


def cohort() -> pd.DataFrame:
    out = []
    for i, (t0, d) in enumerate(zip(PART_T0, PART_CHANGE, strict=True)):
        out += [rows(f"d{i}", "P1", "deelnemer", "T0", t0), rows(f"d{i}", "P1", "deelnemer", "T1", t0 + d, days=42)]
    for i, (t0, d) in enumerate(zip(COMP_T0, COMP_CHANGE, strict=True)):
        out += [rows(f"v{i}", "P1", "vergelijking", "T0", t0),
                rows(f"v{i}", "P1", "vergelijking", "T1", t0 + d, days=45)]
    # Three participants also came to the return meeting (T2); they do not change the T0 -> T1 figures.
    out += [rows(f"d{i}", "P1", "deelnemer", "T2", 20, days=130) for i in range(3)]
    return pd.DataFrame(out)


def test_paired_changes_of_the_cohort():
    changes = paired_changes(cohort(), before="T0", after="T1")
    assert len(changes) == 12
    part = changes[changes["group"] == "deelnemer"].set_index("person_id").loc[[f"d{i}" for i in range(8)]]
    assert part["change"].tolist() == PART_CHANGE
    assert part["before"].tolist() == PART_T0
    assert (part["days"] == 42).all()
    assert set(changes.columns) >= {"person_id", "provision_id", "measure", "group", "before", "after", "change",
                                    "days", "type"}
    # T0 -> T2 only the three who came back.
    assert len(paired_changes(cohort(), before="T0", after="T2")) == 3


def test_hand_computed_cohort():
    # Participants' changes 1,2,3,4,5,6,7,4: sum 32, mean 4. Deviations -3,-2,-1,0,1,2,3,0; squares
    # 9+4+1+0+1+4+9+0 = 28; variance 28/7 = 4; sd 2. se = 2/sqrt(8) = 0.70710678.
    # t_{0.975,7} = 2.3646 (table); CI = 4 ± 2.3646 · 0.70710678 = [2.32795, 5.67205]. d_z = 4/2 = 2.
    # Comparison changes -1,1,3,1: mean 1; deviations -2,0,2,0, squares 8, variance 8/3.
    # DiD = 4 - 1 = 3. v1 = 4/8 = 1/2, v2 = (8/3)/4 = 2/3; se = sqrt(7/6) = 1.08012345.
    # Welch df = (7/6)^2 / ((1/2)^2/7 + (2/3)^2/3) = (49/36) / (1/28 + 4/27) = (49/36)/(139/756) = 1029/139.
    t7 = stats.t.ppf(0.975, 7)
    assert t7 == pytest.approx(2.3646, abs=5e-5)  # scipy agrees with the table
    summary = change_summary(cohort(), before="T0", after="T1", min_persons=4,
                             reliability={"lsns6": 0.75}, sd_before=pd.Series({"lsns6": 4.0}))
    row = summary.set_index(["provision_id", "measure"]).loc[("P1", "lsns6")]
    assert (row["n_T0"], row["n_T1"], row["n_T2"], row["n_T3"], row["n_paired"]) == (8, 8, 3, 0, 8)
    assert row["response_rate"] == 1.0
    assert abs(row["mean_change"] - 4.0) < 1e-9
    assert abs(row["sd_change"] - 2.0) < 1e-9
    se = 2 / math.sqrt(8)
    assert abs(row["ci_low"] - (4 - t7 * se)) < 1e-9 and abs(row["ci_high"] - (4 + t7 * se)) < 1e-9
    assert abs(row["ci_low"] - (4 - 2.3646 * se)) < 1e-4  # the table value, to its 4 decimals
    assert abs(row["d_z"] - 2.0) < 1e-9
    assert row["n_compare_paired"] == 4 and abs(row["compare_mean_change"] - 1.0) < 1e-9
    assert abs(row["did"] - 3.0) < 1e-9
    assert abs(row["did_se"] - math.sqrt(7 / 6)) < 1e-9
    assert abs(row["did_df"] - 1029 / 139) < 1e-9
    t_w = stats.t.ppf(0.975, 1029 / 139)
    assert abs(row["did_ci_low"] - (3 - t_w * math.sqrt(7 / 6))) < 1e-9
    assert abs(row["did_ci_high"] - (3 + t_w * math.sqrt(7 / 6))) < 1e-9
    # Reliable change with SD 4, r 0.75: SE = 4·sqrt(0.25) = 2, S_diff = 2·sqrt(2) = 2.8284; 1.96·S_diff =
    # 5.5437, so changes 6 and 7 are 'verbeterd' (2 of 8), the other six 'onveranderd'.
    assert (row["share_improved"], row["share_unchanged"], row["share_worse"]) == (0.25, 0.75, 0.0)
    assert row["reason"] == "" and row["did_reason"] == ""


def test_comparison_of_four_is_too_small_by_default():
    summary = change_summary(cohort(), before="T0", after="T1")
    row = summary.iloc[0]
    assert abs(row["mean_change"] - 4.0) < 1e-9  # 8 participants: shown
    assert np.isnan(row["did"]) and np.isnan(row["did_ci_low"]) and np.isnan(row["compare_mean_change"])
    assert row["did_reason"] == COMPARISON_TOO_FEW
    table = outcomes_table(summary)
    assert table.loc[0, "reason"] == COMPARISON_TOO_FEW


def test_reliable_change_threshold_and_direction():
    # SD 4, r 0.75: S_diff = sqrt(2)·4·sqrt(0.25) = 2.828427. Change 5.6 -> RCI 1.9799 (just above 1.96),
    # 5.5 -> 1.9445 (just below), -5.6 -> -1.9799.
    changes = pd.DataFrame({"measure": ["lsns6", "lsns6", "lsns6", "djg", "djg", "djg", "djg_sociaal"],
                            "before": [10.0, 10, 10, 5, 5, 5, 2], "change": [5.6, 5.5, -5.6, 5.6, -5.6, 5.5, 3]})
    out = reliable_change(changes, reliability={"lsns6": 0.75, "djg": 0.75},
                          sd_before=pd.Series({"lsns6": 4.0, "djg": 4.0, "djg_sociaal": 1.0}))
    s_diff = math.sqrt(2) * 4 * 0.5
    assert np.allclose(out["rci"].iloc[:6], np.array([5.6, 5.5, -5.6, 5.6, -5.6, 5.5]) / s_diff, atol=1e-12)
    assert out["rci"].iloc[0] > 1.96 > out["rci"].iloc[1]
    # LSNS-6 higher = better; De Jong Gierveld higher = more lonely = worse; no reliability -> no label.
    assert out["reliable_change"].iloc[:6].tolist() == [IMPROVED, UNCHANGED, WORSE, WORSE, IMPROVED, UNCHANGED]
    assert pd.isna(out["reliable_change"].iloc[6])


def test_reliable_change_default_sd_is_the_sd_of_the_before_scores():
    # before 10, 14: sd = sqrt(((10-12)^2 + (14-12)^2)/1) = 2.828427; r = 0.75: S_diff = sqrt(2)·2.8284·sqrt(.25) = 2.
    changes = pd.DataFrame({"measure": ["lsns6", "lsns6"], "before": [10.0, 14.0], "change": [4.0, 3.0]})
    out = reliable_change(changes, reliability={"lsns6": 0.75})
    assert np.allclose(out["s_diff"], 2.0) and np.allclose(out["rci"], [2.0, 1.5])
    assert out["reliable_change"].tolist() == [IMPROVED, UNCHANGED]


def suppression_data() -> pd.DataFrame:
    out = []
    # P2: 8 measured at T0, 6 of them at T1 -> response 6/8 = 0.75, shown (6 >= 5).
    for i in range(8):
        out.append(rows(f"a{i}", "P2", "deelnemer", "T0", 10 + i))
        if i < 6:
            out.append(rows(f"a{i}", "P2", "deelnemer", "T1", 12 + i, days=40))
    # P3: 6 at T0; at T1 one NaN score, one absent, one measured only at T1 -> 5 at T1, 4 paired: suppressed.
    for i in range(6):
        out.append(rows(f"b{i}", "P3", "deelnemer", "T0", 10 + i))
        if i < 4:
            out.append(rows(f"b{i}", "P3", "deelnemer", "T1", 13 + i, days=40))
    out.append(rows("b4", "P3", "deelnemer", "T1", np.nan, days=40))
    out.append(rows("b9", "P3", "deelnemer", "T1", 14, days=40))
    return pd.DataFrame(out)


def test_suppression_and_missing_follow_ups():
    summary = change_summary(suppression_data(), before="T0", after="T1").set_index("provision_id")
    p2, p3 = summary.loc["P2"], summary.loc["P3"]
    assert (p2["n_T0"], p2["n_T1"], p2["n_paired"]) == (8, 6, 6)
    assert p2["response_rate"] == 0.75
    assert abs(p2["mean_change"] - 2.0) < 1e-9 and p2["reason"] == "" and p2["did_reason"] == NO_COMPARISON
    assert np.isnan(p2["d_z"])  # all changes are 2: sd 0, d_z undefined
    assert (p3["n_T0"], p3["n_T1"], p3["n_paired"]) == (6, 5, 4)
    assert abs(p3["response_rate"] - 4 / 6) < 1e-12
    for column in ("mean_change", "ci_low", "ci_high", "d_z", "share_improved", "did"):
        assert np.isnan(p3[column]), column
    assert p3["reason"] == TOO_FEW == "minder dan 5 personen gemeten"

    table = outcomes_table(change_summary(suppression_data()))
    assert list(table.columns) == OUTCOME_COLUMNS
    for column in ("n_T0", "n_T1", "n_T2", "n_T3", "n_paired"):
        assert str(table[column].dtype) == "Int64"
    by_id = table.set_index("provision_id")
    assert by_id.loc["P3", "reason"] == f"{TOO_FEW}"
    assert by_id.loc["P2", "reason"] == NO_COMPARISON
    assert by_id.loc["P3", "n_T1"] == 5 and pd.isna(by_id.loc["P3", "mean_change"])


def test_summary_per_type():
    data = pd.concat([suppression_data(), cohort()], ignore_index=True)
    by_type = change_summary(data, by="type", reliability={}).set_index("type")
    # All three provisions share the type: 8 + 6 + 8 = 22 at T0, 8 + 6 + 4 = 18 paired.
    row = by_type.loc["grip_en_glans"]
    assert (row["n_T0"], row["n_paired"]) == (22, 18)
    assert np.isnan(row["share_improved"])  # no reliability given
    with pytest.raises(ValueError):
        change_summary(data.drop(columns="type"), by="type")


def test_summary_matches_scipy_paired_t_test():
    rng = np.random.default_rng(7)
    n = 40
    before = rng.normal(15, 4, n).round()
    after = before + rng.normal(1.5, 3, n).round()
    long = pd.DataFrame([rows(f"p{i}", "R", "deelnemer", m, s) for i in range(n)
                         for m, s in (("T0", before[i]), ("T1", after[i]))])
    row = change_summary(long).iloc[0]
    test = stats.ttest_rel(after, before)
    ci = test.confidence_interval(0.95)
    assert abs(row["mean_change"] - np.mean(after - before)) < 1e-9
    assert abs(row["ci_low"] - ci.low) < 1e-9 and abs(row["ci_high"] - ci.high) < 1e-9
    assert abs(row["d_z"] * math.sqrt(n) - test.statistic) < 1e-9  # t = d_z · sqrt(n)


def test_summary_did_matches_scipy_welch():
    rng = np.random.default_rng(3)
    d1, d2 = rng.normal(2, 3, 30), rng.normal(0.5, 5, 12)
    data = [rows(f"p{i}", "R", "deelnemer", "T0", 10) for i in range(30)]
    data += [rows(f"p{i}", "R", "deelnemer", "T1", 10 + d) for i, d in enumerate(d1)]
    data += [rows(f"c{i}", "R", "vergelijking", "T0", 10) for i in range(12)]
    data += [rows(f"c{i}", "R", "vergelijking", "T1", 10 + d) for i, d in enumerate(d2)]
    row = change_summary(pd.DataFrame(data)).iloc[0]
    welch = stats.ttest_ind(d1, d2, equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert abs(row["did"] - (d1.mean() - d2.mean())) < 1e-9
    assert abs(row["did_ci_low"] - ci.low) < 1e-9 and abs(row["did_ci_high"] - ci.high) < 1e-9
    assert abs(row["did_df"] - welch.df) < 1e-9


def tie(ego: str, key: str, role: str, *, practical: int = 0, emotional: int = 0, frequency: str = "wekelijks"):
    return {"ego_id": ego, "alter_id": None, "alter_key": key, "role": role, "support_practical": practical,
            "support_emotional": emotional, "support_informational": 0, "support_companionship": 0,
            "contact_frequency": frequency, "closeness": 3}


def test_tie_changes_of_a_follow_up_network():
    before = pd.DataFrame([tie("E1", "A", "vriend", emotional=1), tie("E1", "B", "familie", practical=1),
                           tie("E1", "C", "buur"), tie("E1", "D", "vriend"), tie("E1", "E", "collega"),
                           tie("E2", "X", "buur")])
    after = pd.DataFrame([
        tie("E1", "B", "vriend", practical=1),     # role changed
        tie("E1", "C", "buur", emotional=1),       # a support flag changed
        tie("E1", "D", "vriend", frequency=" Wekelijks"),  # same after normalising: kept
        {**tie("E1", "E", "collega"), "closeness": 5},     # closeness is not compared: kept
        tie("E1", "F", "groepsgenoot"), tie("E1", "G", "groepsgenoot"),  # new
        tie("E2", "X", "buur", frequency="maandelijks"),   # contact frequency changed
    ])
    changes = tie_changes(before, after).set_index(["ego_id", "alter_key"])
    expected = {("E1", "A"): LOST, ("E1", "B"): CHANGED, ("E1", "C"): CHANGED, ("E1", "D"): KEPT,
                ("E1", "E"): KEPT, ("E1", "F"): NEW, ("E1", "G"): NEW, ("E2", "X"): CHANGED}
    assert changes["status"].to_dict() == expected
    assert changes.loc[("E1", "B"), "changed"] == "role"
    assert changes.loc[("E1", "C"), "changed"] == "support_emotional"
    assert changes.loc[("E2", "X"), "changed"] == "contact_frequency"
    assert changes.loc[("E1", "A"), "changed"] == "" and changes.loc[("E1", "D"), "changed"] == ""
    counts = tie_change_counts(tie_changes(before, after)).set_index("ego_id")
    assert counts.loc["E1"].to_dict() == {"kept": 2, "changed": 2, "lost": 1, "new": 2}
    assert counts.loc["E2"].to_dict() == {"kept": 0, "changed": 1, "lost": 0, "new": 0}


def test_tie_changes_need_a_stable_key():
    bad = pd.DataFrame([{**tie("E1", "A", "buur"), "alter_key": None}])
    with pytest.raises(ValueError):
        tie_changes(bad, bad)
    # alter_id stands in for a missing alter_key (a person in the store).
    by_id = pd.DataFrame([{**tie("E1", "A", "buur"), "alter_key": None, "alter_id": "P9"}])
    assert tie_changes(by_id, by_id)["status"].tolist() == [KEPT]


def test_still_in_contact_share():
    participants = pd.DataFrame({"person_id": ["p1", "p2", "p3", "p4", "q1", "q2"],
                                 "provision_id": ["G1", "G1", "G1", "G1", "G2", "G2"]})
    ties = pd.DataFrame({"ego_id": ["p1", "p2", "p3", "p4", "p4", "q1", "x9"],
                         "alter_id": ["p2", "p1", "q1", None, "p4", "q2", "p1"]})
    # p1 -> p2 and p2 -> p1 (same group), q1 -> q2 (same group): 3 of 6. p3 names someone of another group,
    # p4 only an anonymous alter and themself, x9 is no participant: none count.
    assert still_in_contact_share(ties, participants) == 0.5
    assert math.isnan(still_in_contact_share(ties, participants.iloc[0:0]))
    per = still_in_contact_by_provision(ties, participants, min_persons=2).set_index("provision_id")
    assert per.loc["G1", "share"] == 0.5 and per.loc["G2", "share"] == 0.5
    per5 = still_in_contact_by_provision(ties, participants).set_index("provision_id")
    assert per5["share"].isna().all() and (per5["reason"] == TOO_FEW).all()

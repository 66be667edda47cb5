"""Change statistics for follow-up of participants: paired change, reliable change, difference-in-differences,
and how a follow-up network changed, for all persons at once.

Input is the long format of measurements, one row per person × provision × moment × measure, with columns
``person_id``, ``provision_id``, ``group`` ('deelnemer' | 'vergelijking'), ``moment`` ('T0'..'T3'),
``measured_on``, ``measure`` and ``score`` (NaN = not measured); an optional ``type`` column (provision type)
allows summaries per type. Nothing here loops over persons: every figure is a merge, a groupby or an array
operation over the whole table.

For a measure and a pair of moments (``before``, ``after``), person i measured at both has the change
``x_i = after_i − before_i``. Over the n participants of a cell (provision or type × measure):

- mean change:          x̄ = Σ x_i / n
- sd of the changes:    s = sqrt(Σ (x_i − x̄)² / (n − 1))
- 95% interval (paired t):  x̄ ± t_{0.975, n−1} · s / √n
- effect size (Cohen's d_z):  d_z = x̄ / s  (undefined when s = 0)

Reliable change (Jacobson & Truax, 1991, *J. Consult. Clin. Psychol.* 59(1)) of person i on a measure
with reliability r_xx and standard deviation SD_0 of the ``before`` scores of that measure:

    SE     = SD_0 · sqrt(1 − r_xx)
    S_diff = sqrt(2) · SE
    RCI_i  = x_i / S_diff

|RCI| > 1.96 is a change larger than measurement error would give in 95% of cases: 'verbeterd' or
'verslechterd' according to whether higher scores are better on that measure (:data:`HIGHER_IS_BETTER`),
otherwise 'onveranderd'. SD_0 is taken over everyone measured at ``before`` on that measure (participants and
comparison group, all provisions), unless given.

Against a comparison group (people with a signal who did not take part, measured at similar intervals) with
n_1, x̄_1, s_1 for the participants and n_2, x̄_2, s_2 for the comparison group of the same cell:

- difference-in-differences:  DiD = x̄_1 − x̄_2
- standard error (Welch):     se = sqrt(s_1²/n_1 + s_2²/n_2)
- degrees of freedom (Welch–Satterthwaite):
  ν = se⁴ / ((s_1²/n_1)² / (n_1 − 1) + (s_2²/n_2)² / (n_2 − 1))
- 95% interval:               DiD ± t_{0.975, ν} · se

A before/after change alone is not evidence of an effect: only the difference with a comparison group says
something about what the provision brought (see :data:`CAVEAT`).

Small cells: a figure based on fewer than ``min_persons`` (:data:`data.disclosure.MIN_CELL`, 5) persons is
NaN with the Dutch reason in the summary. The counts per moment and the response rate stay in the summary,
so missing follow-ups are always visible; hiding small counts for roles without person access is the
report's job (:func:`graphs.aggregates.format_count`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from data.disclosure import MIN_CELL

MOMENTS = ("T0", "T1", "T2", "T3")
PARTICIPANT = "deelnemer"
COMPARISON = "vergelijking"
MEASURES = ("lsns6", "djg", "djg6", "djg_emotioneel", "djg_sociaal", "network_size")
MEASURE_LABELS = {"lsns6": "netwerk (LSNS-6, 0-30)", "djg": "eenzaamheid (De Jong Gierveld 11, 0-11)",
                  "djg6": "eenzaamheid (De Jong Gierveld 6, 0-6)",
                  "djg_emotioneel": "emotionele eenzaamheid (0-6)", "djg_sociaal": "sociale eenzaamheid (0-5)",
                  "network_size": "omvang netwerk (personen)"}
# Whether a higher score is better: LSNS-6 0-30 higher = larger network (graphs/screening.py); the De Jong
# Gierveld scales (0-6 or 0-11, subscales) count lonely answers, so higher = more lonely.
HIGHER_IS_BETTER = {"lsns6": True, "djg": False, "djg6": False, "djg_emotioneel": False, "djg_sociaal": False,
                    "network_size": True}

# Internal consistency (Cronbach's alpha) as reported in the literature, used as r_xx for reliable change.
# LSNS-6: alpha = 0.83 (Lubben, Blozik, Gillmann, Iliffe, von Renteln Kruse, Beck & Stuck, 2006, "Performance
# of an abbreviated version of the Lubben Social Network Scale among three European community-dwelling older
# adult populations", The Gerontologist 46(4), 503-513).
LSNS6_RELIABILITY = 0.83
# De Jong Gierveld 11 items: alpha between 0.80 and 0.90 in most studies; 6 items: between 0.70 and 0.76
# (De Jong Gierveld & Van Tilburg, 2006, "A 6-item scale for overall, emotional, and social loneliness:
# confirmatory tests on survey data", Research on Aging 28(5), 582-598; and the manual, De Jong Gierveld &
# Van Tilburg, 1999). The lower bound is the default: it gives the wider S_diff, so fewer persons are called
# changed (conservative).
DJG11_RELIABILITY_RANGE = (0.80, 0.90)
DJG6_RELIABILITY_RANGE = (0.70, 0.76)
DJG11_RELIABILITY = DJG11_RELIABILITY_RANGE[0]
DJG6_RELIABILITY = DJG6_RELIABILITY_RANGE[0]
# Defaults when the De Jong Gierveld total is the 11-item scale; use RELIABILITY_DJG6 for the 6-item scale.
# The subscales and the network size have no published reliability here: no reliable-change label for them
# unless the caller gives one.
RELIABILITY = {"lsns6": LSNS6_RELIABILITY, "djg": DJG11_RELIABILITY, "djg6": DJG6_RELIABILITY}
RELIABILITY_DJG6 = {"lsns6": LSNS6_RELIABILITY, "djg": DJG6_RELIABILITY, "djg6": DJG6_RELIABILITY}
RCI_THRESHOLD = 1.96  # two-sided 5%: |RCI| above this is a reliable change

IMPROVED, UNCHANGED, WORSE = "verbeterd", "onveranderd", "verslechterd"
TOO_FEW = f"minder dan {MIN_CELL} personen gemeten"
NO_COMPARISON = "geen vergelijkingsgroep"
COMPARISON_TOO_FEW = f"vergelijkingsgroep: minder dan {MIN_CELL} personen gemeten"
CAVEAT = "Zonder vergelijkingsgroep laat dit geen effect zien, alleen een verandering."
SUMMARY_LABELS = {
    "n_paired": "gemeten op beide momenten", "response_rate": "respons", "mean_change": "gemiddelde verandering",
    "ci_low": "95%-interval ondergrens", "ci_high": "95%-interval bovengrens", "d_z": "effectgrootte (d_z)",
    "share_improved": "aandeel verbeterd", "share_unchanged": "aandeel onveranderd",
    "share_worse": "aandeel verslechterd", "compare_mean_change": "verandering vergelijkingsgroep",
    "did": "verschil met vergelijkingsgroep", "reason": "toelichting",
}

# Tie follow-up.
KEPT, CHANGED, LOST, NEW = "behouden", "veranderd", "verloren", "nieuw"
SUPPORT_FIELDS = ("support_practical", "support_emotional", "support_informational", "support_companionship")
TIE_COMPARED = ("role", *SUPPORT_FIELDS, "contact_frequency")

OUTCOME_COLUMNS = ["provision_id", "measure", "n_T0", "n_T1", "n_T2", "n_T3", "n_paired", "mean_change",
                   "ci_low", "ci_high", "d_z", "did", "did_ci_low", "did_ci_high", "reason"]
_KEYS = ["person_id", "provision_id", "measure"]


def _compact(long: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The key columns as categoricals: one factorisation, then every merge and groupby runs on integer codes."""
    out = long[[c for c in long.columns if c in {*columns, "measured_on", "score"}]].copy()
    for column in dict.fromkeys(columns):
        if not isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype("category")
    return out


def _measured(long: pd.DataFrame, moment: str) -> pd.DataFrame:
    """Rows measured at one moment, one per person × provision × measure (the latest if given twice)."""
    rows = long[(long["moment"] == moment) & long["score"].notna()]
    if "measured_on" in rows and rows.duplicated(_KEYS).any():
        rows = rows.sort_values("measured_on", kind="stable")
    return rows.drop_duplicates(_KEYS, keep="last")


def paired_changes(long: pd.DataFrame, *, before: str = "T0", after: str = "T1") -> pd.DataFrame:
    """Change per person × provision × measure measured at both moments.

    ``change = after − before`` and ``days = measured_on(after) − measured_on(before)`` in days. Persons measured
    at only one of the two moments are not in the result (they are counted by :func:`change_summary`). A
    measurement given twice at one moment counts once: the latest ``measured_on``.

    Parameters
    ----------
    long : DataFrame
        Long format (see the module docstring); ``type`` is carried along when present.
    before, after : str
        The two moments, e.g. 'T0' and 'T1'.

    Returns
    -------
    DataFrame
        person_id, provision_id, measure, group, [type], before, after, change, days.
    """
    extra = [c for c in ("group", "type") if c in long.columns]
    b = _measured(long, before)[[*_KEYS, *extra, "measured_on", "score"]]
    a = _measured(long, after)[[*_KEYS, "measured_on", "score"]]
    out = b.merge(a, on=_KEYS, suffixes=("_before", "_after"), how="inner", sort=False)
    days = (pd.to_datetime(out["measured_on_after"]) - pd.to_datetime(out["measured_on_before"])).dt.days
    result = out[[*_KEYS, *extra]].copy()
    result["before"] = out["score_before"].astype(float).to_numpy()
    result["after"] = out["score_after"].astype(float).to_numpy()
    result["change"] = result["after"] - result["before"]
    result["days"] = days.astype("Int64").to_numpy()
    return result.reset_index(drop=True)


def reliable_change(changes: pd.DataFrame, *, reliability: dict[str, float], sd_before: pd.Series | None = None,
                    higher_is_better: dict[str, bool] | None = None) -> pd.DataFrame:
    """Jacobson–Truax reliable change index and its label for every row of :func:`paired_changes`.

    ``SE = SD_0 · sqrt(1 − r_xx)``, ``S_diff = sqrt(2) · SE``, ``RCI = change / S_diff``; |RCI| > 1.96 is
    'verbeterd' or 'verslechterd' by the direction of the measure, otherwise 'onveranderd'.

    Parameters
    ----------
    changes : DataFrame
        Output of :func:`paired_changes` (measure, before, change).
    reliability : dict
        r_xx per measure (e.g. :data:`RELIABILITY`). Measures without one get no label (missing).
    sd_before : Series, optional
        SD_0 per measure (index = measure). By default the sample SD (ddof 1) of the ``before`` scores in
        ``changes``, per measure; :func:`change_summary` passes the SD over everyone measured at ``before``.
    higher_is_better : dict, optional
        Direction per measure; default :data:`HIGHER_IS_BETTER`.

    Returns
    -------
    DataFrame
        ``changes`` with sd_before, s_diff, rci and reliable_change ('verbeterd' / 'onveranderd' /
        'verslechterd', missing where r_xx or SD_0 is unknown or SD_0 is 0).
    """
    direction = HIGHER_IS_BETTER if higher_is_better is None else higher_is_better
    if sd_before is None:
        sd_before = changes.groupby("measure", sort=False, observed=True)["before"].std(ddof=1)
    measure = changes["measure"]
    sd = measure.map(sd_before).astype(float).to_numpy()
    r = measure.map(reliability).astype(float).to_numpy()
    s_diff = np.sqrt(2.0) * sd * np.sqrt(1.0 - r)
    with np.errstate(divide="ignore", invalid="ignore"):
        rci = np.where(s_diff > 0, changes["change"].to_numpy(dtype=float) / s_diff, np.nan)
    sign = np.where(measure.map(direction).fillna(True).astype(bool).to_numpy(), 1.0, -1.0)
    label = np.select([np.isnan(rci), sign * rci > RCI_THRESHOLD, sign * rci < -RCI_THRESHOLD],
                      [None, IMPROVED, WORSE], UNCHANGED)
    out = changes.copy()
    out["sd_before"] = sd
    out["s_diff"] = s_diff
    out["rci"] = rci
    out["reliable_change"] = pd.array(label, dtype="string")
    return out


def _t_interval(mean: np.ndarray, se: np.ndarray, df: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mean ± t_{0.975, df} · se (NaN where df < 1)."""
    with np.errstate(invalid="ignore"):
        t = stats.t.ppf(0.975, np.where(df >= 1, df, np.nan))
    return mean - t * se, mean + t * se


def _keys(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def change_summary(long: pd.DataFrame, *, before: str = "T0", after: str = "T1", min_persons: int = MIN_CELL,
                   by: str | Sequence[str] = "provision_id", reliability: dict[str, float] | None = None,
                   sd_before: pd.Series | None = None) -> pd.DataFrame:
    """Change per cell (``by`` × measure) for the participants, against the comparison group where there is one.

    For the participants ('deelnemer') of a cell: n measured at each moment T0..T3, n at ``before``, n paired
    (measured at both), response rate = n paired / n at ``before`` (NaN when n at ``before`` < ``min_persons``),
    mean change x̄ with its 95% paired t
    interval x̄ ± t_{0.975, n−1} · s/√n, d_z = x̄ / s, and the shares verbeterd / onveranderd / verslechterd
    by :func:`reliable_change` (of those with a label). For the comparison group ('vergelijking') of the same
    cell: n paired and mean change x̄_2, and DiD = x̄_1 − x̄_2 with its Welch interval (module docstring).

    Parameters
    ----------
    long : DataFrame
        Long format (module docstring).
    before, after : str
        The moments compared.
    min_persons : int
        Figures based on fewer persons are NaN, with the reason ('minder dan 5 personen gemeten').
    by : str or list of str
        The cell: 'provision_id' (default), 'type' (provision type, needs a ``type`` column), or a list.
    reliability : dict, optional
        r_xx per measure for the reliable change; default :data:`RELIABILITY`.
    sd_before : Series, optional
        SD_0 per measure; default the SD of all ``before`` scores of that measure in ``long``.

    Returns
    -------
    DataFrame
        One row per cell and measure that has anyone measured at any moment: the ``by`` columns, measure,
        before, after, n_T0..n_T3, n_before, n_paired (Int64), response_rate, mean_change, sd_change, ci_low,
        ci_high, d_z, share_improved, share_unchanged, share_worse, n_labelled (persons with a reliable-change
        label), n_compare_before, n_compare_paired (Int64),
        compare_mean_change, did, did_se, did_df, did_ci_low, did_ci_high, reason (suppression of the
        participants' figures, '' where shown) and did_reason (why there is no difference-in-differences).
    """
    if before not in MOMENTS or after not in MOMENTS:
        raise ValueError(f"unknown moment(s) {before!r}, {after!r}: expected one of {MOMENTS}")
    keys = _keys(by)
    missing = [k for k in keys if k not in long.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the measurements")
    cell = [*keys, "measure"]
    reliability = RELIABILITY if reliability is None else reliability
    dtypes = long.dtypes
    long = _compact(long, [*_KEYS, *keys, "group", "moment"])

    # n per moment (participants), and the comparison group's n at 'before'.
    measured = long[long["score"].notna() & long["moment"].isin(MOMENTS)]
    measured = measured.drop_duplicates([*_KEYS, "moment"])
    participants = measured[measured["group"] == PARTICIPANT]
    counts = participants.groupby([*cell, "moment"], sort=False, observed=True).size().unstack("moment")
    counts = counts.reindex(columns=list(MOMENTS)).fillna(0).astype("int64")
    counts.columns = [f"n_{m}" for m in MOMENTS]
    compare_before = (measured[(measured["group"] == COMPARISON) & (measured["moment"] == before)]
                      .groupby(cell, sort=False, observed=True).size().rename("n_compare_before"))
    summary = counts.join(compare_before, how="outer")
    summary["n_before"] = summary[f"n_{before}"]

    changes = paired_changes(long, before=before, after=after)
    if sd_before is None:
        sd_before = _measured(long, before).groupby("measure", sort=False, observed=True)["score"].std(ddof=1)
    changes = reliable_change(changes, reliability=reliability, sd_before=sd_before)
    is_part = changes["group"] == PARTICIPANT
    part = changes[is_part]
    grouped = part.groupby(cell, sort=False, observed=True)
    stats_part = grouped["change"].agg(n_paired="size", mean_change="mean", sd_change="std")
    label = part["reliable_change"]
    shares = pd.DataFrame({"labelled": label.notna(), "improved": label.eq(IMPROVED).fillna(False),
                           "unchanged": label.eq(UNCHANGED).fillna(False), "worse": label.eq(WORSE).fillna(False)})
    shares = shares.astype(int).groupby([part[k] for k in cell], sort=False, observed=True).sum()
    comp = changes[changes["group"] == COMPARISON].groupby(cell, sort=False, observed=True)["change"].agg(
        n_compare_paired="size", compare_mean_change="mean", compare_sd_change="std")
    summary = summary.join(stats_part, how="outer").join(shares, how="outer").join(comp, how="outer")
    for column in ("n_T0", "n_T1", "n_T2", "n_T3", "n_before", "n_paired", "n_compare_before", "n_compare_paired",
                   "labelled", "improved", "unchanged", "worse"):
        summary[column] = summary[column].fillna(0).astype("int64")
    summary = summary[(summary[["n_T0", "n_T1", "n_T2", "n_T3", "n_compare_before", "n_compare_paired"]]
                       .sum(axis=1) > 0)]

    n = summary["n_paired"].to_numpy(dtype=float)
    mean = summary["mean_change"].to_numpy(dtype=float)
    sd = summary["sd_change"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ci_low, ci_high = _t_interval(mean, sd / np.sqrt(n), n - 1)
        d_z = np.where(sd > 0, mean / sd, np.nan)
        labelled = summary["labelled"].to_numpy(dtype=float)
        share = {k: np.where(labelled > 0, summary[k].to_numpy(dtype=float) / labelled, np.nan)
                 for k in ("improved", "unchanged", "worse")}
        n_before = summary["n_before"].to_numpy(dtype=float)
        response = np.where(n_before >= max(min_persons, 1), summary["n_paired"] / n_before, np.nan)
        n2 = summary["n_compare_paired"].to_numpy(dtype=float)
        v1, v2 = sd ** 2 / n, summary["compare_sd_change"].to_numpy(dtype=float) ** 2 / n2
        did = mean - summary["compare_mean_change"].to_numpy(dtype=float)
        did_se = np.sqrt(v1 + v2)
        did_df = did_se ** 4 / (v1 ** 2 / (n - 1) + v2 ** 2 / (n2 - 1))
        did_df = np.where(did_se > 0, did_df, np.nan)
        did_low, did_high = _t_interval(did, did_se, did_df)

    shown = n >= min_persons
    compared = shown & (n2 >= min_persons)

    def only(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, np.nan)

    out = summary.reset_index()[cell]
    for column in cell:
        out[column] = out[column].astype(dtypes[column])
    out.insert(len(cell), "before", before)
    out.insert(len(cell) + 1, "after", after)
    for column in ("n_T0", "n_T1", "n_T2", "n_T3", "n_before", "n_paired"):
        out[column] = pd.array(summary[column].to_numpy(), dtype="Int64")
    out["response_rate"] = response
    out["mean_change"] = only(shown, mean)
    out["sd_change"] = only(shown, sd)
    out["ci_low"], out["ci_high"] = only(shown, ci_low), only(shown, ci_high)
    out["d_z"] = only(shown, d_z)
    out["share_improved"] = only(shown, share["improved"])
    out["share_unchanged"] = only(shown, share["unchanged"])
    out["share_worse"] = only(shown, share["worse"])
    out["n_labelled"] = pd.array(summary["labelled"].to_numpy(), dtype="Int64")
    out["n_compare_before"] = pd.array(summary["n_compare_before"].to_numpy(), dtype="Int64")
    out["n_compare_paired"] = pd.array(summary["n_compare_paired"].to_numpy(), dtype="Int64")
    out["compare_mean_change"] = only(n2 >= min_persons, summary["compare_mean_change"].to_numpy(dtype=float))
    out["did"] = only(compared, did)
    out["did_se"] = only(compared, did_se)
    out["did_df"] = only(compared, did_df)
    out["did_ci_low"], out["did_ci_high"] = only(compared, did_low), only(compared, did_high)
    out["reason"] = pd.array(np.where(shown, "", TOO_FEW), dtype="string")
    did_reason = np.select([~shown, n2 == 0, n2 < min_persons], ["", NO_COMPARISON, COMPARISON_TOO_FEW], "")
    out["did_reason"] = pd.array(did_reason, dtype="string")
    return out.sort_values(cell, kind="stable").reset_index(drop=True)


def outcomes_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``cli.py outcomes --out FILE.csv``: one per provision and measure.

    Columns exactly :data:`OUTCOME_COLUMNS`; counts Int64; ``reason`` is empty where every figure is shown,
    otherwise why figures are empty (the participants' suppression and/or why there is no
    difference-in-differences, joined by '; ').

    Parameters
    ----------
    summary : DataFrame
        :func:`change_summary` with ``by='provision_id'``.
    """
    if "provision_id" not in summary.columns:
        raise ValueError("outcomes_table needs a summary per provision (by='provision_id')")
    out = summary.reindex(columns=OUTCOME_COLUMNS).copy()
    for column in ("n_T0", "n_T1", "n_T2", "n_T3", "n_paired"):
        out[column] = out[column].astype("Int64")
    reason = summary["reason"].fillna("").astype(str)
    did_reason = (summary["did_reason"] if "did_reason" in summary else pd.Series("", index=summary.index))
    did_reason = did_reason.fillna("").astype(str)
    both = (reason != "") & (did_reason != "")
    out["reason"] = pd.array((reason + np.where(both, "; ", "") + did_reason).to_numpy(), dtype="string")
    return out.reset_index(drop=True)


def _tie_key(ties: pd.DataFrame) -> pd.Series:
    key = ties["alter_key"] if "alter_key" in ties else pd.Series(pd.NA, index=ties.index, dtype="string")
    if "alter_id" in ties:
        key = key.astype("string").fillna(ties["alter_id"].astype("string"))
    key = key.astype("string")
    if key.isna().any():
        raise ValueError("ties without alter_key or alter_id cannot be followed from one moment to the next")
    return key


def _comparable(values: pd.Series, field: str) -> pd.Series:
    """Values normalised for comparison: support flags as 0/1 numbers, text stripped and lower case."""
    if field in SUPPORT_FIELDS:
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            return values.astype(float).fillna(0.0)  # the store's 0/1: the same numbers, without the text pass
        text = values.astype("string").str.strip().str.lower()
        mapped = text.map({"true": "1", "ja": "1", "false": "0", "nee": "0"}).fillna(text)
        return pd.to_numeric(mapped, errors="coerce").fillna(0.0)
    return values.astype("string").str.strip().str.lower()


def tie_changes(before_ties: pd.DataFrame, after_ties: pd.DataFrame,
                compare: Sequence[str] = TIE_COMPARED) -> pd.DataFrame:
    """What happened to every tie between two moments, per ego.

    Ties are matched on (ego_id, alter_key), the stable alter code (alter_id where alter_key is empty). An
    alter of the earlier network is 'behouden' when present later with the same ``compare`` fields (role,
    the four support flags, contact_frequency; a missing support flag is 0, two missing values are equal),
    'veranderd' when present with any of them different, 'verloren' when absent later; an alter only in the
    later network is 'nieuw'. An alter named twice by the same ego at one moment counts once (the last row).

    Returns
    -------
    DataFrame
        ego_id, alter_key, status, changed (comma-separated names of the fields that differ, '' otherwise),
        and role_before, role_after.
    """
    def prepared(ties: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame({"ego_id": ties["ego_id"].astype("string"), "alter_key": _tie_key(ties)})
        for field in compare:
            column = ties[field] if field in ties else pd.Series(pd.NA, index=ties.index)
            frame[field] = _comparable(column, field)
        frame["role_shown"] = ties["role"].astype("string") if "role" in ties else pd.NA
        return frame.drop_duplicates(["ego_id", "alter_key"], keep="last")

    merged = prepared(before_ties).merge(prepared(after_ties), on=["ego_id", "alter_key"], how="outer",
                                         suffixes=("_b", "_a"), indicator=True, sort=True)
    both = (merged["_merge"] == "both").to_numpy()
    changed = np.full(len(merged), "", dtype=object)
    any_diff = np.zeros(len(merged), dtype=bool)
    for field in compare:  # a handful of fields, never a loop over persons
        b, a = merged[f"{field}_b"], merged[f"{field}_a"]
        differs = (b.ne(a) & ~(b.isna() & a.isna())).fillna(True).to_numpy(dtype=bool) & both
        changed = np.where(differs, changed + np.where(changed == "", "", ",") + field, changed)
        any_diff |= differs
    side = merged["_merge"].astype(str).to_numpy()
    status = np.select([side == "left_only", side == "right_only", any_diff], [LOST, NEW, CHANGED], KEPT)
    return pd.DataFrame({"ego_id": merged["ego_id"], "alter_key": merged["alter_key"],
                         "status": pd.array(status, dtype="string"),
                         "changed": pd.array(changed.astype(str), dtype="string"),
                         "role_before": merged["role_shown_b"], "role_after": merged["role_shown_a"]})


def tie_change_counts(changes: pd.DataFrame) -> pd.DataFrame:
    """Per ego the number of ties kept, changed, lost and new (from :func:`tie_changes`).

    Returns
    -------
    DataFrame
        ego_id, kept, changed, lost, new (int64), one row per ego in ``changes``.
    """
    table = pd.crosstab(changes["ego_id"], changes["status"])
    table = table.reindex(columns=[KEPT, CHANGED, LOST, NEW], fill_value=0).astype("int64")
    table.columns = ["kept", "changed", "lost", "new"]
    table.columns.name = None
    return table.reset_index()


def _in_contact(group_ties: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """Participants (person × provision) with a flag: names another participant of the same provision."""
    members = participants[["person_id", "provision_id"]].astype("string").drop_duplicates()
    ties = pd.DataFrame({"person_id": group_ties["ego_id"].astype("string"),
                         "other_id": group_ties["alter_id"].astype("string")}).dropna()
    ties = ties[ties["person_id"] != ties["other_id"]]
    named = ties.merge(members, on="person_id").merge(
        members.rename(columns={"person_id": "other_id"}), on=["other_id", "provision_id"])
    hits = named[["person_id", "provision_id"]].drop_duplicates().assign(in_contact=True)
    out = members.merge(hits, on=["person_id", "provision_id"], how="left")
    out["in_contact"] = out["in_contact"].fillna(False).astype(bool)
    return out


def still_in_contact_share(group_ties: pd.DataFrame, participants: pd.DataFrame) -> float:
    """Share of participants who at T2 name at least one other participant of the same group.

    The answer to "met wie uit de groep heeft u nog contact?": ``group_ties`` has ego_id and alter_id (the
    person id of the other participant); ``participants`` has person_id and provision_id (the group). A
    participant counts when one of their ties goes to another person of the same provision_id:

        share = #{participants naming ≥ 1 other participant of their group} / #participants

    A person in two groups counts once per group. NaN when there are no participants.
    """
    flags = _in_contact(group_ties, participants)["in_contact"]
    return float(flags.mean()) if len(flags) else float("nan")


def still_in_contact_by_provision(group_ties: pd.DataFrame, participants: pd.DataFrame, *,
                                  min_persons: int = MIN_CELL) -> pd.DataFrame:
    """:func:`still_in_contact_share` per provision: provision_id, n_participants (Int64), share (NaN with the
    reason when fewer than ``min_persons`` participants)."""
    flags = _in_contact(group_ties, participants)
    table = flags.groupby("provision_id", sort=True)["in_contact"].agg(n_participants="size", share="mean")
    shown = table["n_participants"] >= min_persons
    return pd.DataFrame({"provision_id": table.index.astype("string"),
                         "n_participants": pd.array(table["n_participants"].to_numpy(), dtype="Int64"),
                         "share": np.where(shown, table["share"].to_numpy(dtype=float), np.nan),
                         "reason": pd.array(np.where(shown, "", TOO_FEW), dtype="string")}).reset_index(drop=True)


def measurements_long(measurements: pd.DataFrame, followup_ties: pd.DataFrame | None = None,
                      provisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The store's measurements (one row per person × provision × moment, with the LSNS-6 and De Jong Gierveld
    items) as the long format of this module: one row per measure with a score.

    Scores by :mod:`graphs.screening` (the same rules as for the intake screening): ``lsns6`` (0-30), ``djg``
    (11 items, 0-11) with ``djg_emotioneel`` and ``djg_sociaal``, ``djg6`` (6 items, 0-6) where the 11-item total
    is missing, and ``network_size`` (the number of alters in the network of that moment) where the network was
    asked (``network_recorded``; an empty network then counts 0). Rows without a score are left out; the counts
    per moment come from the rows that remain. With ``provisions`` the provision's ``type`` is added.
    """
    from graphs.screening import djg_scores, lsns6_scores

    columns = ["person_id", "provision_id", "group", "moment", "measured_on", "measure", "score"]
    if measurements is None or measurements.empty:
        out = pd.DataFrame({c: pd.Series(dtype="float64" if c == "score" else object) for c in columns})
        out["measured_on"] = pd.to_datetime(out["measured_on"])
        if provisions is not None:
            out["type"] = pd.Series(dtype=object)
        return out
    m = measurements.reset_index(drop=True)
    base = pd.DataFrame({"person_id": m["person_id"].astype(str), "provision_id": m["provision_id"].astype(str),
                         "group": m["study_group"].astype(str) if "study_group" in m else m["group"].astype(str),
                         "moment": m["moment"].astype(str),
                         "measured_on": pd.to_datetime(m["measured_on"], errors="coerce")})
    lsns, djg = lsns6_scores(m)["lsns6"], djg_scores(m)
    scores = {"lsns6": lsns, "djg": djg["djg11"], "djg6": djg["djg6"].where(djg["djg11"].isna()),
              "djg_emotioneel": djg["djg11_emotional"], "djg_sociaal": djg["djg11_social"]}
    recorded = (m["network_recorded"].fillna(False).astype(bool).to_numpy() if "network_recorded" in m
                else np.zeros(len(m), dtype=bool))
    size = np.zeros(len(m))
    if followup_ties is not None and len(followup_ties):
        key = pd.MultiIndex.from_frame(base[["person_id", "provision_id", "moment"]])
        ties = followup_ties.astype({"person_id": str, "provision_id": str, "moment": str})
        counted = ties.groupby(["person_id", "provision_id", "moment"]).size()
        size = counted.reindex(key).fillna(0).to_numpy(dtype=float)
    scores["network_size"] = pd.Series(np.where(recorded, size, np.nan))
    frames = [base.assign(measure=name, score=pd.to_numeric(values, errors="coerce").astype(float).to_numpy())
              for name, values in scores.items()]
    out = pd.concat(frames, ignore_index=True)
    out = out.loc[out["score"].notna()].reset_index(drop=True)
    if provisions is not None:
        types = provisions[["provision_id", "type"]].astype({"provision_id": str}).drop_duplicates("provision_id")
        out = out.merge(types, on="provision_id", how="left")
    return out


def protect_summary(summary: pd.DataFrame, long: pd.DataFrame, *, before: str, after: str,
                    by: str | Sequence[str] = "provision_id", secret: bytes) -> pd.DataFrame:
    """:func:`change_summary` for a user who may not see the persons one by one.

    Every count of persons (n per moment, n paired, the comparison group's) becomes the protected cell of
    :mod:`data.disclosure` (cell-key method: 1-4 as 0, larger counts with the fixed noise of the persons in
    the cell); the response rate is computed from the protected counts; the shares improved/unchanged/worse
    are left out of a cell where one of them counts 1 to 4 persons (shares of a known total would give the
    small count away). Means, intervals and effect sizes are computed from the true data and were already
    left out below 5 persons.
    """
    from data.disclosure import protected_counts, record_keys

    keys = _keys(by)
    cell = [*keys, "measure"]
    out = summary.copy()
    measured = long.loc[long["score"].notna()].drop_duplicates([*_KEYS, "moment"])

    def published(rows: pd.DataFrame) -> pd.Series:
        if rows.empty:
            return pd.Series(dtype="int64")
        record = record_keys(rows["person_id"].astype(str), secret)
        return protected_counts(record, [rows[c].astype(str).to_numpy(dtype=object) for c in cell])

    index = pd.MultiIndex.from_frame(out[cell].astype(str)) if len(cell) > 1 else pd.Index(out[cell[0]].astype(str))

    def put(column: str, rows: pd.DataFrame) -> None:
        counts = published(rows)
        out[column] = pd.array(counts.reindex(index).fillna(0).to_numpy(dtype="int64"), dtype="Int64")

    part, comp = measured[measured["group"] == PARTICIPANT], measured[measured["group"] == COMPARISON]
    for moment in MOMENTS:
        put(f"n_{moment}", part[part["moment"] == moment])
    out["n_before"] = out[f"n_{before}"]

    def both(rows: pd.DataFrame) -> pd.DataFrame:
        at_before = rows.loc[rows["moment"] == before, list(dict.fromkeys([*_KEYS, *keys]))].drop_duplicates()
        at_after = rows.loc[rows["moment"] == after, _KEYS].drop_duplicates()
        return at_before.merge(at_after, on=_KEYS)

    put("n_paired", both(part))
    put("n_compare_before", comp[comp["moment"] == before])
    put("n_compare_paired", both(comp))
    n_before, n_paired = out["n_before"].astype(float), out["n_paired"].astype(float)
    # Each count carries its own noise: the published pair can have more paired than measured at 'before'.
    out["response_rate"] = (n_paired / n_before).clip(upper=1.0).where(n_before >= MIN_CELL)
    labelled = out["n_labelled"].astype(float)
    counts = pd.concat([(out[c] * labelled).round() for c in ("share_improved", "share_unchanged", "share_worse")],
                       axis=1)
    small = ((counts > 0) & (counts < MIN_CELL)).any(axis=1)
    for column in ("share_improved", "share_unchanged", "share_worse"):
        out[column] = out[column].where(~small)
    out["n_labelled"] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out


PERSON_KEYS = ["person_id", "provision_id", "group"]
TIE_COUNT_COLUMNS = ["kept", "changed", "lost", "new"]  # as tie_change_counts
_EGO_SEP = "\x1f"  # joins person and provision into one ego key (never in an id)


def _recorded_at(long: pd.DataFrame, ties: pd.DataFrame | None, moment: str) -> pd.DataFrame:
    """Person × provision whose network was asked at ``moment``: a network_size score (an empty network counts)
    in ``long``, or any follow-up tie at that moment."""
    rows = long.loc[(long["moment"] == moment) & (long["measure"] == "network_size") & long["score"].notna(),
                    ["person_id", "provision_id"]]
    frames = [rows.astype(str)]
    if ties is not None and len(ties):
        frames.append(ties.loc[ties["moment"].astype(str) == moment, ["person_id", "provision_id"]].astype(str))
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def person_changes(long: pd.DataFrame, followup_ties: pd.DataFrame | None = None, *, before: str = "T0",
                   after: str = "T1", reliability: dict[str, float] | None = None,
                   sd_before: pd.Series | None = None) -> pd.DataFrame:
    """Change per person × provision (and group): every measure before and after, with the reliable change, and
    what happened to the network between the two moments.

    Scores are those of :func:`paired_changes` (one per person × provision × measure × moment, the latest
    ``measured_on`` when given twice), but a person measured at only one of the two moments is kept, with the
    other score missing, so missing follow-ups stay visible. The reliable-change label is
    :func:`reliable_change` with SD_0 over everyone measured at ``before`` (as in :func:`change_summary`).

    Ties (``followup_ties``, columns as in the store: person_id, provision_id, moment, alter_key, alter_id,
    role, the support flags, contact_frequency, from_group) are compared with :func:`tie_changes` for all
    persons at once (ego = person × provision), only where the network was asked at both moments (a
    ``network_size`` score in ``long``, or ties at that moment); elsewhere the tie counts are missing.

    Parameters
    ----------
    long : DataFrame
        Long format (module docstring), e.g. from :func:`measurements_long`.
    followup_ties : DataFrame, optional
        The follow-up networks.
    before, after : str
        The moments compared.
    reliability : dict, optional
        r_xx per measure; default :data:`RELIABILITY`.
    sd_before : Series, optional
        SD_0 per measure; default the SD of all ``before`` scores of that measure in ``long``.

    Returns
    -------
    DataFrame
        One row per person × provision × group measured at ``before`` or ``after``: person_id, provision_id,
        group, [type], measured_on_before, measured_on_after, then per measure (in :data:`MEASURES` order, those
        present) ``<m>_before``, ``<m>_after``, ``<m>_change``, ``<m>_rci`` and ``<m>_rci_label``
        ('verbeterd' / 'onveranderd' / 'verslechterd', missing without both scores or a reliability), then
        kept, changed, lost, new (the ties, as :func:`tie_change_counts`; Int64, missing unless the network was
        asked at both moments) and group_ties_after (Int64: alters at ``after`` marked from_group; missing unless
        the network was asked at ``after``).
    """
    if before not in MOMENTS or after not in MOMENTS:
        raise ValueError(f"unknown moment(s) {before!r}, {after!r}: expected one of {MOMENTS}")
    reliability = RELIABILITY if reliability is None else reliability
    extra = [c for c in ("type",) if c in long.columns]
    compact = _compact(long, [*_KEYS, "group", "moment", *extra])
    b = _measured(compact, before)
    a = _measured(compact, after)
    if sd_before is None:
        sd_before = b.groupby("measure", sort=False, observed=True)["score"].std(ddof=1)
    side = [*_KEYS, "group", *extra, "measured_on", "score"]
    both = b[side].merge(a[side], on=_KEYS, how="outer", suffixes=("_before", "_after"), sort=False)
    for column in ("group", *extra):
        both[column] = both[f"{column}_before"].astype(object).where(both[f"{column}_before"].notna(),
                                                                     both[f"{column}_after"].astype(object))
    frame = both[[*_KEYS, "group", *extra]].astype(object)
    frame["before"] = both["score_before"].astype(float).to_numpy()
    frame["after"] = both["score_after"].astype(float).to_numpy()
    frame["change"] = frame["after"] - frame["before"]
    frame = reliable_change(frame, reliability=reliability, sd_before=sd_before)
    index = PERSON_KEYS
    dates = pd.DataFrame({"measured_on_before": pd.to_datetime(both["measured_on_before"]).to_numpy(),
                          "measured_on_after": pd.to_datetime(both["measured_on_after"]).to_numpy()})
    for column in (*index, *extra):
        dates[column] = frame[column].to_numpy()
    grouped = dates.groupby(index, sort=True)
    dates = grouped[["measured_on_before", "measured_on_after"]].max()
    for column in extra:
        dates.insert(0, column, grouped[column].first())

    present = frame["measure"].astype(str).unique().tolist()
    order = [m for m in MEASURES if m in present] + sorted(m for m in present if m not in MEASURES)
    values = frame.assign(measure=frame["measure"].astype(str)).drop(columns=extra).set_index([*index, "measure"])
    numeric = values[["before", "after", "change", "rci"]].unstack("measure")
    labels = values["reliable_change"].astype(object).unstack("measure")
    out = dates.copy()
    for measure in order:  # a handful of measures, never a loop over persons
        for stat in ("before", "after", "change", "rci"):
            out[f"{measure}_{stat}"] = numeric[(stat, measure)].reindex(out.index).to_numpy(dtype=float)
        out[f"{measure}_rci_label"] = pd.array(labels[measure].reindex(out.index).to_numpy(), dtype="string")
    out = out.reset_index()
    for column in index:
        out[column] = out[column].astype(str)

    ego = (out["person_id"] + _EGO_SEP + out["provision_id"]).astype(object)  # object: fast hash lookups
    for column in [*TIE_COUNT_COLUMNS, "group_ties_after"]:
        out[column] = pd.array([pd.NA] * len(out), dtype="Int64")
    ties = followup_ties if followup_ties is not None else None
    if ties is not None and len(ties):
        ties = ties.astype({"person_id": str, "provision_id": str, "moment": str})
        ties = ties.assign(ego_id=(ties["person_id"] + _EGO_SEP + ties["provision_id"]).astype(object))
    at_before, at_after = _recorded_at(long, ties, before), _recorded_at(long, ties, after)
    egos_before = (at_before["person_id"] + _EGO_SEP + at_before["provision_id"]).astype(object)
    egos_after = (at_after["person_id"] + _EGO_SEP + at_after["provision_id"]).astype(object)
    asked_after = ego.isin(egos_after).to_numpy()
    in_both = asked_after & ego.isin(egos_before).to_numpy()
    counts = pd.DataFrame(0, index=pd.Index(ego[in_both].unique()), columns=TIE_COUNT_COLUMNS)
    group_after = pd.Series(0, index=pd.Index(ego[asked_after].unique()), dtype="int64")
    if ties is not None and len(ties):
        keep = ties["ego_id"].isin(counts.index)
        changes = tie_changes(ties.loc[keep & (ties["moment"] == before)], ties.loc[keep & (ties["moment"] == after)])
        if len(changes):  # as tie_change_counts, by a groupby on the codes (crosstab is slow on 100,000 egos)
            counted = changes.groupby([changes["ego_id"].astype(object), changes["status"].astype(object)],
                                      sort=False).size().unstack(fill_value=0)
            counted = counted.reindex(columns=[KEPT, CHANGED, LOST, NEW], fill_value=0)
            counted.columns = TIE_COUNT_COLUMNS
            counts = counted.reindex(counts.index).fillna(0).astype("int64")
        later = ties.loc[(ties["moment"] == after) & ties["ego_id"].isin(group_after.index)]
        if "from_group" in later and len(later):
            flagged = later.loc[later["from_group"].fillna(False).astype(bool)]
            per_ego = (pd.DataFrame({"ego_id": flagged["ego_id"].astype(str), "alter": _tie_key(flagged)})
                       .drop_duplicates().groupby("ego_id").size())
            group_after = per_ego.reindex(group_after.index).fillna(0).astype("int64")
    for column in TIE_COUNT_COLUMNS:
        out.loc[in_both, column] = counts[column].reindex(ego[in_both]).to_numpy()
    out.loc[asked_after, "group_ties_after"] = group_after.reindex(ego[asked_after]).to_numpy()
    return out

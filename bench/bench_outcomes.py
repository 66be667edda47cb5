"""Benchmark: change statistics (graphs/outcomes.py) for 100,000 persons × 3 moments × 3 measures.

A synthetic follow-up cohort (seeded): 500 provisions, 20% of the persons in the comparison group, moments
T0, T1 (about +6 weeks) and T2 (about +3 months), measures LSNS-6, De Jong Gierveld (11) and network size,
with follow-ups missing for some persons (15% at T1, 30% at T2) and 1% of the scores missing at every moment.
Timed: ``change_summary`` for T0 -> T1 and T0 -> T2 (and per type), its peak memory measured with tracemalloc
in a second call (tracemalloc slows every allocation). For comparison a plain per-person Python loop computes
only the paired mean change per provision × measure on a sample of 2,000 persons (rows selected beforehand);
its time is scaled to all persons, and the ratio against the vectorised summary is printed (the loop's mean
change is checked against the summary's on the same sample). Then the store side: ``measurements_long`` on a
synthetic store-shaped ``measurements`` table (every person × T0, T1, T2 with the six LSNS-6 items and the eleven
De Jong Gierveld answers, the same missing follow-ups) with its ``followup_ties`` (about 6 alters per person per
moment: most kept, some changed, lost or new, a few marked from the group), and ``person_changes`` T0 -> T1 on
that, each with seconds and peak memory. Run by hand:

    .venv/bin/python bench/bench_outcomes.py [--persons 100000] [--provisions 500] [--sample 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphs.outcomes import change_summary, measurements_long, person_changes  # noqa: E402

MEASURES = {"lsns6": (14.0, 5.0, 0, 30, 1.5), "djg": (5.0, 2.5, 0, 11, -0.8), "network_size": (6.0, 3.0, 0, 40, 1.0)}
MOMENT_DAYS = {"T0": 0, "T1": 42, "T2": 130}
MISSING = {"T0": 0.0, "T1": 0.15, "T2": 0.30}


def nl(value: float, decimals: int = 2) -> str:
    """A number the Dutch way: 100.000 and 0,84."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def synthetic_cohort(n_persons: int, n_provisions: int, seed: int = 16) -> pd.DataFrame:
    """Long format: one row per person × moment × measure (each person in one provision)."""
    rng = np.random.default_rng(seed)
    person = np.array([f"P{i:06d}" for i in range(n_persons)], dtype=object)
    provision = np.array([f"V{j:03d}" for j in range(n_provisions)], dtype=object)[rng.integers(0, n_provisions,
                                                                                                 n_persons)]
    comparison = rng.random(n_persons) < 0.20
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n_persons), unit="D")
    frames = []
    for measure, (mean, sd, low, high, effect) in MEASURES.items():  # three measures, not persons
        base = rng.normal(mean, sd, n_persons)
        for moment, days in MOMENT_DAYS.items():
            shift = 0.0 if moment == "T0" else np.where(comparison, 0.2 * effect, effect)
            score = np.clip(np.round(base + shift + rng.normal(0, sd / 2, n_persons) * (moment != "T0")), low, high)
            score[rng.random(n_persons) < MISSING[moment] + 0.01] = np.nan
            frames.append(pd.DataFrame({
                "person_id": person, "provision_id": provision,
                "group": np.where(comparison, "vergelijking", "deelnemer"), "moment": moment,
                "measured_on": start + pd.to_timedelta(days + rng.integers(-7, 8, n_persons), unit="D"),
                "measure": measure, "score": score}))
    return pd.concat(frames, ignore_index=True)


DJG_ANSWERS = np.array(["ja", "min of meer", "nee"], dtype=object)
ALTER_SLOTS = 9  # alter keys a0..a8 per person: a0-a5 at T0, a6-a8 only later (new)


def synthetic_store_rows(n_persons: int, n_provisions: int, seed: int = 17) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Store-shaped ``measurements`` (person × T0, T1, T2 with LSNS-6 items and De Jong Gierveld answers) and
    ``followup_ties`` (about 6 alters per person per moment), seeded; loops only over moments and alter slots."""
    rng = np.random.default_rng(seed)
    person = np.array([f"P{i:06d}" for i in range(n_persons)], dtype=object)
    provision = np.array([f"V{j:03d}" for j in range(n_provisions)], dtype=object)[rng.integers(0, n_provisions,
                                                                                                 n_persons)]
    group = np.where(rng.random(n_persons) < 0.20, "vergelijking", "deelnemer").astype(object)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n_persons), unit="D")
    base = rng.integers(0, 6, (n_persons, 6))
    measurements, ties = [], []
    present = np.zeros((n_persons, ALTER_SLOTS), dtype=bool)
    present[:, :6] = rng.random((n_persons, 6)) < 0.95
    frequency = np.where(rng.random((n_persons, ALTER_SLOTS)) < 0.5, "wekelijks", "maandelijks").astype(object)
    roles = np.array(["partner", "kind", "vriend", "buur", "kennis", "professional"], dtype=object)
    role = roles[rng.integers(0, len(roles), (n_persons, ALTER_SLOTS))]
    for k, (moment, days) in enumerate(MOMENT_DAYS.items()):  # three moments, not persons
        measured = rng.random(n_persons) >= MISSING[moment]
        items = np.clip(base + (rng.integers(-1, 3, (n_persons, 6)) if k else 0), 0, 5)
        frame = pd.DataFrame({"person_id": person, "provision_id": provision, "study_group": group,
                              "moment": moment,
                              "measured_on": (start + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")})
        for i in range(6):
            frame[f"lsns_{i + 1}"] = items[:, i]
        answers = DJG_ANSWERS[rng.integers(0, 3, (n_persons, 11))]
        for i in range(11):
            frame[f"djg_{i + 1}"] = answers[:, i]
        frame["network_recorded"] = 1
        measurements.append(frame.loc[measured])
        if k:  # a later network: most alters kept, some lost, a few new; some contact more or less often
            present[:, :6] &= rng.random((n_persons, 6)) < 0.90
            present[:, 6:] |= rng.random((n_persons, ALTER_SLOTS - 6)) < 0.25
            changed = rng.random((n_persons, ALTER_SLOTS)) < 0.10
            frequency = np.where(changed, np.where(frequency == "wekelijks", "maandelijks", "wekelijks"), frequency)
        from_group = np.zeros((n_persons, ALTER_SLOTS), dtype=bool)
        from_group[:, 6:] = k > 0
        for slot in range(ALTER_SLOTS):  # nine alter slots, not persons
            rows = measured & present[:, slot]
            ties.append(pd.DataFrame({"person_id": person[rows], "provision_id": provision[rows], "moment": moment,
                                      "alter_key": f"a{slot}", "alter_id": None, "role": role[rows, slot],
                                      "support_practical": (slot % 2), "support_emotional": int(slot < 3),
                                      "support_informational": 0, "support_companionship": 0,
                                      "contact_frequency": frequency[rows, slot], "closeness": 3,
                                      "from_group": from_group[rows, slot]}))
    return pd.concat(measurements, ignore_index=True), pd.concat(ties, ignore_index=True)


def timed(function, *args, **kwargs):
    """(result, seconds, peak MiB): timed on a call of its own, since tracemalloc slows every allocation."""
    t0 = time.perf_counter()
    result = function(*args, **kwargs)
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    function(*args, **kwargs)
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    return result, seconds, peak


def loop_mean_change(rows: pd.DataFrame, before: str, after: str) -> dict:
    """The plain way: per person collect the scores, then per person the change, summed per cell."""
    scores: dict[str, dict] = defaultdict(dict)
    for row in rows.itertuples(index=False):
        if row.group == "deelnemer" and row.score == row.score:
            scores[row.person_id][(row.provision_id, row.measure, row.moment)] = row.score
    sums: dict[tuple, list] = defaultdict(lambda: [0.0, 0])
    for person_scores in scores.values():
        for (provision, measure, moment), value in person_scores.items():
            if moment == before and (provision, measure, after) in person_scores:
                cell = sums[(provision, measure)]
                cell[0] += person_scores[(provision, measure, after)] - value
                cell[1] += 1
    return {cell: total / n for cell, (total, n) in sums.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--provisions", type=int, default=500)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    long = synthetic_cohort(args.persons, args.provisions)
    print(f"testdata {nl(len(long), 0)} rijen ({nl(args.persons, 0)} personen × 3 momenten × 3 maten): "
          f"{nl(time.perf_counter() - t0)} s")

    results = {}
    for after in ("T1", "T2"):
        summary, seconds, peak = timed(change_summary, long, before="T0", after=after)
        results[after] = (summary, seconds)
        shown = summary["reason"].eq("").sum()
        print(f"verandering T0→{after} {nl(args.persons, 0)} personen: {nl(seconds)} s, "
              f"piekgeheugen {nl(peak, 0)} MiB ({nl(len(summary), 0)} cellen, {nl(shown, 0)} getoond, "
              f"{nl(summary['did'].notna().sum(), 0)} met vergelijking)")
    by_type = long.assign(type=np.where(long["provision_id"] < "V250", "grip_en_glans", "bezoekdienst_weduwen"))
    _, seconds, peak = timed(change_summary, by_type, before="T0", after="T1", by="type")
    print(f"verandering per type T0→T1: {nl(seconds)} s, piekgeheugen {nl(peak, 0)} MiB")

    rng = np.random.default_rng(1)
    sample = set(rng.choice(long["person_id"].unique(), args.sample, replace=False))
    sample_rows = long[long["person_id"].isin(sample)]  # selected outside the timing: only the loop is timed
    for after in ("T1", "T2"):
        t0 = time.perf_counter()
        loop = loop_mean_change(sample_rows, "T0", after)
        loop_seconds = time.perf_counter() - t0
        scaled = loop_seconds * args.persons / args.sample
        check = change_summary(sample_rows, before="T0", after=after, min_persons=1)
        got = check.set_index(["provision_id", "measure"])["mean_change"].dropna()
        worst = max(abs(got[cell] - value) for cell, value in loop.items())
        summary_seconds = results[after][1]
        print(f"lus per persoon T0→{after} {nl(args.sample, 0)} personen: {nl(loop_seconds)} s, "
              f"geschaald naar {nl(args.persons, 0)}: {nl(scaled)} s; verhouding lus / gevectoriseerd: "
              f"{nl(scaled / summary_seconds, 1)}× (grootste verschil gemiddelde {worst:.1e})")

    t0 = time.perf_counter()
    measurements, ties = synthetic_store_rows(args.persons, args.provisions)
    print(f"testdata opslag: {nl(len(measurements), 0)} metingen en {nl(len(ties), 0)} netwerkregels "
          f"({nl(len(ties) / len(measurements), 1)} per meting): {nl(time.perf_counter() - t0)} s")
    store_long, seconds, peak = timed(measurements_long, measurements, ties)
    print(f"measurements_long {nl(len(measurements), 0)} metingen: {nl(seconds)} s, piekgeheugen {nl(peak, 0)} MiB "
          f"({nl(len(store_long), 0)} rijen lang formaat)")
    per_person, seconds, peak = timed(person_changes, store_long, ties, before="T0", after="T1")
    followed = int(per_person["kept"].notna().sum())
    print(f"verandering per persoon T0→T1: {nl(seconds)} s, piekgeheugen {nl(peak, 0)} MiB "
          f"({nl(len(per_person), 0)} personen, netwerk gevolgd bij {nl(followed, 0)}; gemiddeld "
          f"{nl(per_person['kept'].astype(float).mean(), 1)} behouden, "
          f"{nl(per_person['lost'].astype(float).mean(), 1)} verloren, "
          f"{nl(per_person['new'].astype(float).mean(), 1)} nieuw)")


if __name__ == "__main__":
    main()

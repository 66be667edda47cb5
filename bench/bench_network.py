"""Benchmark: all per-person network measures for a city (100,000 persons, ~1,000,000 ties).

Compares the vectorised block-diagonal measures with the plain way (a Python loop that builds each
person's own-report ego graph and calls networkx ``effective_size`` + ``constraint`` + ``density``),
timed on a sample and scaled, and checks both give identical results on that sample. Prints figures; run by hand:

    .venv/bin/python bench/bench_network.py [--persons 100000] [--ties 1000000] [--sample 300]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphs.measures import person_measures  # noqa: E402


def city(n_persons: int, n_ties: int, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Persons in 500 buurten; ties mostly within the buurt, some anonymous alters."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("P", np.arange(n_persons).astype(str))
    buurt = np.sort(rng.integers(0, 500, n_persons))
    ego = rng.integers(0, n_persons, n_ties)
    local = rng.random(n_ties) < 0.8
    start = np.searchsorted(buurt, buurt)
    size = np.bincount(buurt, minlength=500)[buurt]
    alter = np.where(local, start[ego] + rng.integers(0, 10**9, n_ties) % size[ego], rng.integers(0, n_persons, n_ties))
    anonymous = rng.random(n_ties) < 0.3
    roles = np.array(["partner", "kind", "familie", "vriend", "buur", "professional", "vrijwilliger"])
    ties = pd.DataFrame({
        "ego_id": ids[ego],
        "alter_id": np.where(anonymous, None, ids[alter]),
        "alter_key": np.where(anonymous, np.char.add("a", np.arange(n_ties).astype(str)), None),
        "role": roles[rng.integers(0, len(roles), n_ties)],
        "support_emotional": rng.random(n_ties) < 0.4,
        "support_practical": rng.random(n_ties) < 0.4,
        "contact_frequency": np.array(["dagelijks", "wekelijks", "maandelijks"])[rng.integers(0, 3, n_ties)],
        "same_buurt": local,
    })
    persons = pd.DataFrame({"person_id": ids, "buurt_code": [f"BU0000{b:04d}" for b in buurt]})
    # Who knows whom in each ego's report: a link from about half the ties to another alter of the same ego.
    ties = ties.sort_values("ego_id", kind="stable", ignore_index=True)
    ref = ties["alter_id"].fillna(ties["alter_key"]).to_numpy(dtype=object)
    codes = pd.factorize(ties["ego_id"])[0]
    first = np.searchsorted(codes, codes)
    count = np.bincount(codes)[codes]
    pick = rng.random(len(ties)) < 0.5
    other = first + rng.integers(0, 10**9, len(ties)) % count
    alter_links = pd.DataFrame({"ego_id": ties["ego_id"].to_numpy()[pick], "source": ref[pick],
                                "target": ref[other[pick]]})
    return persons, ties, alter_links


def own_report_graph(ties: pd.DataFrame, alter_links: pd.DataFrame, person: str) -> nx.Graph:
    """The plain way: the ego graph of one person's own report (its ties and its alter links)."""
    own = ties.loc[ties["ego_id"] == person]
    graph = nx.Graph()
    graph.add_node(person)
    alters = set(own["alter_id"].fillna(own["alter_key"])) - {person}
    graph.add_edges_from((person, a) for a in alters)
    links = alter_links.loc[alter_links["ego_id"] == person]
    graph.add_edges_from((s, t) for s, t in zip(links["source"], links["target"], strict=True)
                         if s in alters and t in alters and s != t)
    return graph


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--ties", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    persons, ties, alter_links = city(args.persons, args.ties)
    base = peak_mb()
    print(f"city: {len(persons):,} persons, {len(ties):,} ties, {len(alter_links):,} alter links "
          f"(peak RSS before measures {base:,.0f} MB)")

    start = time.perf_counter()
    measures = person_measures(persons, ties, None, alter_links)
    fast = time.perf_counter() - start
    print(f"vectorised person_measures (all {len(persons):,}): {fast:6.2f} s, peak RSS {peak_mb():,.0f} MB")

    sample = np.random.default_rng(0).choice(persons["person_id"].to_numpy(), args.sample, replace=False)
    by_ego = dict(tuple(ties.groupby("ego_id")))  # the plain way gets its lookups for free
    links_by_ego = dict(tuple(alter_links.groupby("ego_id")))
    start = time.perf_counter()
    plain = {}
    for person in sample:
        if person not in by_ego:
            continue
        ego = own_report_graph(by_ego[person], links_by_ego.get(person, alter_links.iloc[:0]), person)
        if ego.degree(person) < 2:
            continue
        plain[person] = (nx.effective_size(ego, nodes=[person])[person], nx.constraint(ego, nodes=[person])[person],
                         nx.density(ego.subgraph([n for n in ego if n != person])))
    slow = time.perf_counter() - start
    scaled = slow / args.sample * len(persons)
    got = measures.loc[list(plain), ["effective_size", "constraint", "density_alters"]].to_numpy()
    want = np.array(list(plain.values()))
    same = np.allclose(got, want, rtol=1e-9, atol=1e-12)
    print(f"plain networkx loop: {slow:6.2f} s for {args.sample} persons -> {scaled:,.0f} s scaled to "
          f"{len(persons):,}; speed-up {scaled / fast:,.0f}x")
    print(f"identical results on the sample ({len(plain)} persons with 2 or more alters): {same}")


if __name__ == "__main__":
    main()

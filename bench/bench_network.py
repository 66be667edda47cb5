"""Benchmark: all per-person network measures for a city (100,000 persons, ~1,000,000 ties), against its peers.

Three ways to get the same table (every column of :func:`graphs.measures.person_measures`), each timed
from the tables to the measures, set-up included, in the same run:

1. ours: ``person_measures`` (all measures, all persons);
2. igraph, the way an igraph user would do it: pandas to find the distinct alters and the alter links of
   every own report, one block-diagonal igraph Graph of all ego networks (each person's ego node, its
   alters and its alter links), igraph's ``constraint()``, ``transitivity_local_undirected()`` (the
   density among the alters) and ``degree()``, effective size from those, and the count measures
   (network size, supporters, roles, entropy, buurt ties, reported by others, ...) with pandas groupby;
   checked equal to ours on ALL persons;
3. the plain networkx loop: per person, build its own-report ego graph and compute every measure
   (networkx for the structural ones, plain Python for the counts), timed on a sample and SCALED to all
   persons (the lookups it uses, each table sorted once by ego or alter, are built once and counted in
   full); checked equal on the sample.

Equal means ``np.allclose(rtol=1e-9)`` with NaN where a measure is undefined on both sides. Peak RSS is
the process's high-water mark during each step (reset before it through /proc/self/clear_refs where the
kernel allows it; the tables themselves are part of it, and so is memory an earlier step freed but the
allocator kept, which is why ours runs first). Counts must be identical; ratios within rtol 1e-9 (ours
sums in another order than networkx and igraph: they differ in the last bits). Prints figures; run by hand:

    .venv/bin/python bench/bench_network.py [--persons 100000] [--ties 1000000] [--sample 300] [--summary F]
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

from bench.summary import add_argument, record  # noqa: E402
from data.schema import KIN_ROLES  # noqa: E402
from graphs.measures import FREQUENT, GROUP_ROLES, person_measures  # noqa: E402

COUNTS = ["network_size", "informal_size", "emotional_supporters", "practical_supporters", "role_diversity",
          "alters", "ties_among_alters", "ties_outside_buurt", "ties_inside_buurt", "ties_buurt_unknown",
          "group_ties", "reported_by_others", "reported_by_others_only", "provisions_joined"]
IGRAPH_SECONDS: dict[str, float] = {}  # the part of the igraph way spent building the graph and in igraph calls
RATIOS = ["role_entropy", "kin_share", "density_alters", "effective_size", "constraint", "ei_buurt"]


def city(n_persons: int, n_ties: int, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
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


# --------------------------------------------------------------------------- the igraph way
def igraph_measures(persons: pd.DataFrame, ties: pd.DataFrame, alter_links: pd.DataFrame) -> pd.DataFrame:
    """The same table as ``person_measures`` (participation None), the way an igraph user would compute it.

    pandas with integer person positions (``Index.get_indexer``) and groupby for the counts; for the
    structure one igraph Graph of all own-report ego networks (vertex i < n: person i's ego node, then one
    vertex per distinct (ego, alter) and edges for the alter links between alters of the same ego)."""
    import igraph as ig

    ids = persons["person_id"].astype("string")
    n = len(ids)
    person = pd.Index(ids)
    everyone = pd.RangeIndex(n)
    ego_i = person.get_indexer(ties["ego_id"].astype("string"))
    alter_i = person.get_indexer(ties["alter_id"].astype("string"))
    self_tie = ties["alter_id"].astype("string").eq(ties["ego_id"].astype("string")).fillna(False).to_numpy(bool)
    own_mask = (ego_i >= 0) & ~self_tie
    t = ties.loc[own_mask].assign(ego=ego_i[own_mask], alter=alter_i[own_mask])
    home = pd.factorize(persons["buurt_code"].astype("string"))[0]
    by_ego = t.groupby("ego")
    out = pd.DataFrame(index=everyone)
    out["network_size"] = by_ego.size()
    out["informal_size"] = t["role"].ne("professional").fillna(True).groupby(t["ego"]).sum()
    out["emotional_supporters"] = by_ego["support_emotional"].sum()
    out["practical_supporters"] = by_ego["support_practical"].sum()
    out["role_diversity"] = t.loc[t["contact_frequency"].isin(FREQUENT)].groupby("ego")["role"].nunique()
    per_role = t.groupby(["ego", "role"]).size()
    share = per_role / per_role.groupby(level="ego").transform("sum")
    out["role_entropy"] = (-share * np.log2(share)).groupby(level="ego").sum() + 0.0
    out["kin_share"] = t["role"].isin(KIN_ROLES).groupby(t["ego"]).sum() / out["network_size"]
    ego_home = home[t["ego"].to_numpy()]
    alter_home = np.where(t["alter"].to_numpy() >= 0, home[t["alter"].to_numpy()], -1)
    known = (ego_home >= 0) & (alter_home >= 0)
    outside = t["same_buurt"].eq(False).to_numpy(bool) | (known & (ego_home != alter_home))
    inside = ~outside & (t["same_buurt"].eq(True).to_numpy(bool) | (known & (ego_home == alter_home)))
    out["ties_outside_buurt"] = pd.Series(outside).groupby(t["ego"].to_numpy()).sum()
    out["ties_inside_buurt"] = pd.Series(inside).groupby(t["ego"].to_numpy()).sum()
    out["group_ties"] = t["role"].isin(GROUP_ROLES).groupby(t["ego"]).sum()
    # Reports of others naming the person, and whether the person names the reporter in return.
    others = pd.DataFrame({"ego": ego_i, "alter": alter_i}).loc[(alter_i >= 0) & ~self_tie]
    own = t.loc[t["alter"] >= 0, ["ego", "alter"]].drop_duplicates()
    back = others.merge(own.rename(columns={"ego": "alter", "alter": "ego"}).assign(answered=True),
                        on=["ego", "alter"], how="left")
    out["reported_by_others"] = others.groupby("alter").size()
    out["reported_by_others_only"] = back["answered"].isna().groupby(back["alter"]).sum()
    out["provisions_joined"] = 0

    # The structure: the distinct alters of every own report become vertices n, n+1, ...
    ref = t["alter_id"].fillna(t["alter_key"]).astype(object)
    unnamed = ref.isna().to_numpy()
    ref[unnamed] = [f"\0unnamed {i}" for i in range(int(unnamed.sum()))]  # no id or key: an alter of its own
    alters = pd.DataFrame({"ego": t["ego"].to_numpy(), "ref": ref.to_numpy()}).drop_duplicates(ignore_index=True)
    alters["vertex"] = n + np.arange(len(alters))
    links = pd.DataFrame({"ego": person.get_indexer(alter_links["ego_id"].astype("string")),
                          "source": alter_links["source"].astype(object),
                          "target": alter_links["target"].astype(object)})
    ends = links.merge(alters.rename(columns={"ref": "source", "vertex": "u"}), on=["ego", "source"]).merge(
        alters.rename(columns={"ref": "target", "vertex": "v"}), on=["ego", "target"])
    ends = ends.loc[ends["u"] != ends["v"]]
    started = time.perf_counter()
    graph = ig.Graph(n=n + len(alters), edges=list(zip(
        alters["ego"].tolist() + ends["u"].tolist(), alters["vertex"].tolist() + ends["v"].tolist(), strict=True)))
    graph.simplify()  # a link given twice (or both ways) is one link
    egos = range(n)
    k = np.asarray(graph.degree(egos), dtype=float)
    density = np.asarray(graph.transitivity_local_undirected(egos, mode="nan"), dtype=float)
    t_among = np.where(k >= 2, np.nan_to_num(density) * k * (k - 1) / 2, 0.0)
    out["alters"] = k.astype(int)
    out["ties_among_alters"] = np.rint(t_among).astype(int)
    out["density_alters"] = np.where(k >= 2, density, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["effective_size"] = np.where(k > 0, k - 2 * t_among / k, np.nan)
    out["constraint"] = np.where(k > 0, graph.constraint(egos), np.nan)
    IGRAPH_SECONDS["graph"] = time.perf_counter() - started
    count_cols = [c for c in COUNTS if c not in ("alters", "ties_among_alters", "ties_buurt_unknown")]
    out[count_cols] = out[count_cols].fillna(0).astype(int)
    out["ties_buurt_unknown"] = out["network_size"] - out["ties_outside_buurt"] - out["ties_inside_buurt"]
    out["role_entropy"] = out["role_entropy"].where(
        t["role"].notna().groupby(t["ego"]).sum().reindex(everyone, fill_value=0) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        known_ties = out["ties_outside_buurt"] + out["ties_inside_buurt"]
        out["ei_buurt"] = ((out["ties_outside_buurt"] - out["ties_inside_buurt"]) / known_ties).where(known_ties > 0)
    return out.set_axis(pd.Index(ids, name="person_id"))


# --------------------------------------------------------------------------- the plain networkx loop
def own_report_graph(ties: pd.DataFrame, alter_links: pd.DataFrame, person: str) -> nx.Graph:
    """The plain way: the ego graph of one person's own report (its ties and its alter links)."""
    own = ties.loc[ties["ego_id"] == person]
    graph = nx.Graph()
    graph.add_node(person)
    named = own["alter_id"].fillna(own["alter_key"])
    alters = set(named.dropna()) - {person}
    alters |= {("unnamed", i) for i in named.index[named.isna()]}  # a tie without id or key: its own alter
    graph.add_edges_from((person, a) for a in alters)
    links = alter_links.loc[alter_links["ego_id"] == person]
    graph.add_edges_from((s, t) for s, t in zip(links["source"], links["target"], strict=True)
                         if s in alters and t in alters and s != t)
    return graph


def plain_measures(person: str, own: pd.DataFrame, links: pd.DataFrame, named_by: pd.DataFrame,
                   home: dict) -> dict:
    """Every measure of one person, the plain way: its ego graph in networkx, the counts in Python."""
    own = own.loc[own["alter_id"].ne(person).fillna(True)]
    ego = own_report_graph(own, links, person)
    k = ego.degree(person)
    among = ego.subgraph([v for v in ego if v != person])
    roles = own["role"].dropna().tolist()
    frequent_roles = {r for r, f in zip(own["role"], own["contact_frequency"], strict=True)
                      if isinstance(r, str) and f in FREQUENT}
    outside = inside = 0
    for alter, said in zip(own["alter_id"], own["same_buurt"], strict=True):
        said = None if pd.isna(said) else bool(said)
        mine, theirs = home.get(person), home.get(alter) if isinstance(alter, str) else None
        known = mine is not None and theirs is not None
        if said is False or (known and mine != theirs):
            outside += 1
        elif said is True or (known and mine == theirs):
            inside += 1
    size = len(own)
    shares = [roles.count(r) / len(roles) for r in dict.fromkeys(roles)]
    reporters = [e for e in named_by["ego_id"] if e != person]
    named = {a for a in own["alter_id"].dropna() if a in home}  # the persons the person names
    return {
        "network_size": size,
        "informal_size": sum(r != "professional" for r in own["role"]),
        "emotional_supporters": int(own["support_emotional"].sum()),
        "practical_supporters": int(own["support_practical"].sum()),
        "role_diversity": len(frequent_roles),
        "role_entropy": sum(-p * np.log2(p) for p in shares) + 0.0 if roles else np.nan,
        "kin_share": sum(r in KIN_ROLES for r in own["role"]) / size if size else np.nan,
        "alters": k,
        "ties_among_alters": among.number_of_edges(),
        "density_alters": nx.density(among) if k >= 2 else np.nan,
        "effective_size": nx.effective_size(ego, nodes=[person])[person] if k else np.nan,
        "constraint": nx.constraint(ego, nodes=[person])[person] if k else np.nan,
        "ties_outside_buurt": outside,
        "ties_inside_buurt": inside,
        "ties_buurt_unknown": size - outside - inside,
        "ei_buurt": (outside - inside) / (outside + inside) if outside + inside else np.nan,
        "group_ties": sum(r in GROUP_ROLES for r in own["role"]),
        "reported_by_others": len(reporters),
        "reported_by_others_only": sum(e not in named for e in reporters),
        "provisions_joined": 0,
    }


# --------------------------------------------------------------------------- figures
def reset_peak() -> bool:
    """Reset the process's RSS high-water mark (Linux >= 4.0); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    """The RSS high-water mark since the last reset (else since the start), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def same(got: pd.DataFrame, want: pd.DataFrame) -> tuple[bool, list[str]]:
    """Equal on every column (counts exactly, ratios with rtol 1e-9, NaN on both sides where undefined)."""
    want = want.loc[got.index]
    wrong = [c for c in COUNTS if not np.array_equal(got[c].to_numpy(), want[c].to_numpy())]
    wrong += [c for c in RATIOS if not np.allclose(got[c].to_numpy(float), want[c].to_numpy(float), rtol=1e-9,
                                                   atol=1e-12, equal_nan=True)]
    return not wrong, wrong


def timed(step, *args):
    reset_peak()
    start = time.perf_counter()
    result = step(*args)
    return result, time.perf_counter() - start, peak_mb()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--ties", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=300, help="persons for the networkx loop (then scaled)")
    add_argument(parser)
    args = parser.parse_args()
    persons, ties, alter_links = city(args.persons, args.ties)
    n = len(persons)
    reset_peak()
    print(f"city: {n:,} persons, {len(ties):,} ties, {len(alter_links):,} alter links "
          f"(RSS with the tables {peak_mb():,.0f} MB)")

    ours, ours_s, ours_mb = timed(person_measures, persons, ties, None, alter_links)
    print(f"ours   person_measures, all {len(ours.columns)} measures, all {n:,}: {ours_s:7.2f} s, "
          f"peak RSS {ours_mb:,.0f} MB")

    peer, peer_s, peer_mb = timed(igraph_measures, persons, ties, alter_links)
    equal, wrong = same(peer, ours)
    print(f"igraph block-diagonal graph + pandas groupby, set-up included, all {n:,}: {peer_s:7.2f} s, "
          f"peak RSS {peer_mb:,.0f} MB (of which {IGRAPH_SECONDS['graph']:.2f} s building the graph and in igraph "
          f"calls); equal to ours on all persons: {equal}{' ' + str(wrong) if wrong else ''}")

    def lookups():
        """Each table sorted once by the column a person is looked up by (rows without it dropped)."""
        def by(frame: pd.DataFrame, column: str):
            ordered = frame.dropna(subset=[column]).sort_values(column, kind="stable", ignore_index=True)
            return ordered, ordered[column].to_numpy(dtype=object)

        return by(ties, "ego_id"), by(alter_links, "ego_id"), by(ties, "alter_id"), dict(zip(
            persons["person_id"], persons["buurt_code"], strict=True))

    def rows(lookup, person: str) -> pd.DataFrame:
        frame, keys = lookup
        return frame.iloc[np.searchsorted(keys, person, "left"):np.searchsorted(keys, person, "right")]

    (by_ego, links_by_ego, by_alter, home), lookup_s, _ = timed(lookups)
    sample = np.random.default_rng(0).choice(persons["person_id"].to_numpy(), min(args.sample, n), replace=False)
    reset_peak()
    start = time.perf_counter()
    plain = {p: plain_measures(p, rows(by_ego, p), rows(links_by_ego, p), rows(by_alter, p), home) for p in sample}
    loop_s = time.perf_counter() - start
    plain_mb = peak_mb()
    scaled = lookup_s + loop_s / len(sample) * n
    equal_plain, wrong_plain = same(pd.DataFrame.from_dict(plain, orient="index"), ours)
    print(f"networkx loop (ego graph per person + every measure): {loop_s:7.2f} s for {len(sample)} persons "
          f"+ {lookup_s:.2f} s lookups -> SCALED to {n:,}: {scaled:,.0f} s, peak RSS {plain_mb:,.0f} MB; "
          f"equal to ours on the sample: {equal_plain}{' ' + str(wrong_plain) if wrong_plain else ''}")
    print(f"ours vs igraph: {peer_s / ours_s:,.1f}x faster; vs networkx (scaled): {scaled / ours_s:,.0f}x")
    record(args.summary, "egomaten 100k", ours_s, peer_s)
    if not (equal and equal_plain):
        raise SystemExit("results differ")


if __name__ == "__main__":
    main()

"""Ego-network measures for every person at once, with sparse matrices instead of per-node loops.

The whole support network is one undirected graph: persons in the store are nodes, and so is
every anonymous alter (one node per ego and alter key). Burt's effective size and constraint
and the density among alters are computed for all egos together from the sparse adjacency
matrix ``A`` and its row-normalised form ``P = D⁻¹A``:

- ties among the alters of i:  t_i = (A² ∘ A) row sum of i / 2  (triangles through i)
- density among alters:        2 t_i / (k_i (k_i - 1))
- effective size (Borgatti):   k_i - 2 t_i / k_i
- constraint on i's ego network: Σ_j∈N(i) (1/k_i + Σ_q∈N(i)∩N(j) 1/(k_i (1 + c_iq)))², where
  c_iq = (A²)_iq counts the alters that i and q share, so 1 + c_iq is q's degree inside i's ego
  network; in matrix form (P + (W A) ∘ A) with W_iq = A_iq / (k_i (1 + c_iq)).

which are exactly networkx's ``density`` on the alters of ``ego_graph``, ``effective_size`` and
``constraint`` computed on ``ego_graph`` for an undirected, unweighted graph (tested against them). networkx's own
whole-graph ``effective_size`` builds a dense n × n matrix: never call it on the city graph.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from data.schema import KIN_ROLES

FREQUENT = ("dagelijks", "wekelijks", "tweewekelijks")  # at least fortnightly (Cohen's SNI)


def _node(ego: pd.Series, ref: pd.Series, known: set) -> pd.Series:
    """Node label of an alter reference: a person id as is, an anonymous key as ``<ego>|<key>``."""
    ref = ref.astype("string")
    return ref.where(ref.isin(known), ego.astype("string") + "|" + ref)


def support_graph(persons: pd.DataFrame, ties: pd.DataFrame,
                  alter_links: pd.DataFrame | None = None) -> tuple[sp.csr_matrix, pd.Index]:
    """The undirected, unweighted adjacency matrix of all ties and its node labels.

    Node labels are person ids, and ``<ego>|<alter_key>`` for anonymous alters. ``alter_links``
    (ego_id, source, target) adds who in an ego's network knows whom.
    """
    alter = ties["alter_id"].astype("string")
    anon = alter.isna()
    alter = alter.where(~anon, ties["ego_id"].astype("string") + "|" + ties["alter_key"].astype("string"))
    src_labels, dst_labels = ties["ego_id"].astype("string"), alter
    if alter_links is not None and len(alter_links):
        known = set(persons["person_id"].astype(str))
        src_labels = pd.concat([src_labels, _node(alter_links["ego_id"], alter_links["source"], known)],
                               ignore_index=True)
        dst_labels = pd.concat([dst_labels, _node(alter_links["ego_id"], alter_links["target"], known)],
                               ignore_index=True)
    # One factorisation of all labels (persons first, so they keep their order) gives every index.
    n_persons, n_edges = len(persons), len(src_labels)
    codes, uniques = pd.factorize(pd.concat([persons["person_id"].astype("string"), src_labels, dst_labels],
                                            ignore_index=True))
    nodes = pd.Index(uniques)
    src = codes[n_persons:n_persons + n_edges]
    dst = codes[n_persons + n_edges:]
    keep = src != dst
    n = len(nodes)
    a = sp.coo_matrix((np.ones(keep.sum(), dtype=np.float64), (src[keep], dst[keep])), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.float64)  # undirected, simple
    a.eliminate_zeros()
    return a.tocsr(), nodes


def structural_measures(adjacency: sp.csr_matrix) -> pd.DataFrame:
    """Degree, ties among alters, density among alters, effective size and constraint per node."""
    a = adjacency.tocsr()
    k = np.asarray(a.sum(axis=1)).ravel()
    a2 = a @ a
    triangles = np.asarray(a2.multiply(a).sum(axis=1)).ravel() / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(k >= 2, 2 * triangles / (k * (k - 1)), 0.0)
        esize = np.where(k > 0, k - 2 * triangles / k, np.nan)
        inv_k = np.where(k > 0, 1.0 / k, 0.0)
    p = (sp.diags(inv_k) @ a).tocsr()
    # 1 + shared alters on every edge, with exactly the sparsity pattern of A.
    shared = (a2.multiply(a) + a).tocsr()
    shared.sort_indices()
    w = shared.copy()
    w.data = 1.0 / w.data
    w = (sp.diags(inv_k) @ w).tocsr()
    indirect = (w @ a).multiply(a)
    local = (p + indirect).tocsr()
    local.data **= 2
    constraint = np.asarray(local.sum(axis=1)).ravel()
    constraint = np.where(k > 0, constraint, np.nan)
    return pd.DataFrame({"degree": k.astype(int), "ties_among_alters": triangles.astype(int),
                         "density_alters": density, "effective_size": esize, "constraint": constraint})


def person_measures(persons: pd.DataFrame, ties: pd.DataFrame,
                    participation: pd.DataFrame | None = None,
                    alter_links: pd.DataFrame | None = None) -> pd.DataFrame:
    """All per-person network measures, computed for everyone at once.

    Returns one row per person (index: person_id) with: network size (own reported ties),
    informal size (without professionals), emotional and practical supporters, role diversity
    (distinct roles with at least fortnightly contact), kin share, structural measures of the
    whole support graph (density among alters, effective size, constraint), ties that bridge to
    another buurt, ties into groups (group members, church or club), and the number of provisions joined.
    """
    ids = persons["person_id"].astype("string")
    n = len(ids)
    # Integer positions instead of string keys: one hash pass, then bincount for every count.
    person_pos = pd.Index(ids)
    ego_idx = person_pos.get_indexer(ties["ego_id"].astype("string"))
    valid = ego_idx >= 0
    role = ties["role"].astype("string")
    informal = role.ne("professional").to_numpy()
    frequent = ties["contact_frequency"].astype("string").isin(FREQUENT).to_numpy()

    def count(mask) -> np.ndarray:
        mask = np.asarray(mask, dtype=bool) & valid
        return np.bincount(ego_idx[mask], minlength=n)

    size = count(np.ones(len(ties), dtype=bool))
    # A tie bridges to another buurt when the respondent says so, or when the alter is a person in
    # the data who lives in another buurt.
    home = pd.factorize(persons["buurt_code"].astype("string"))[0]  # -1 where unknown
    alter_idx = person_pos.get_indexer(ties["alter_id"].astype("string"))
    ego_home = np.where(valid, home[np.clip(ego_idx, 0, None)], -1)
    alter_home = np.where(alter_idx >= 0, home[np.clip(alter_idx, 0, None)], -1)
    derived = (ego_home >= 0) & (alter_home >= 0) & (ego_home != alter_home)
    bridges = ties["same_buurt"].eq(False).fillna(False).to_numpy(dtype=bool) | derived
    role_code, role_names = pd.factorize(role)
    pair = ego_idx[frequent & valid].astype(np.int64) * (len(role_names) + 1) + role_code[frequent & valid]
    diversity = np.bincount(np.unique(pair) // (len(role_names) + 1), minlength=n)
    kin = role.isin(KIN_ROLES).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        kin_share = np.where(size > 0, count(kin) / size, np.nan)
    out = pd.DataFrame({
        "network_size": size,
        "informal_size": count(informal),
        "emotional_supporters": count(ties["support_emotional"].fillna(False).to_numpy(dtype=bool)),
        "practical_supporters": count(ties["support_practical"].fillna(False).to_numpy(dtype=bool)),
        "role_diversity": diversity,
        "kin_share": kin_share,
        "bridging_ties": count(bridges),
        "group_ties": count(role.isin(["groepsgenoot", "kerk_vereniging"]).to_numpy()),
    }, index=pd.Index(ids, name="person_id"))
    adjacency, nodes = support_graph(persons, ties, alter_links)
    structural = structural_measures(adjacency).set_index(nodes)
    structural = structural.iloc[:n]  # persons come first in the node order
    for col in ("density_alters", "effective_size", "constraint"):
        out[col] = structural[col].to_numpy()
    if participation is not None and len(participation):
        joined = participation.groupby(participation["person_id"].astype("string"))["provision_id"].nunique()
        out["provisions_joined"] = joined.reindex(ids, fill_value=0).to_numpy()
    else:
        out["provisions_joined"] = 0
    return out

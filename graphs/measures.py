"""Ego-network measures for every person at once, from each person's own report, without per-person loops.

A person's network is what the person reported: the alters of ego i are the ties with
``ego_id == i`` (a person in the data or an anonymous alter), and who among them know each other
comes from i's ``alter_links`` (``ego_id == i``). A tie in someone else's report that names i is
not part of i's network: it is counted apart (``reported_by_others``), so i's measures are the
same whether or not the people around i were interviewed too.

All egos together form one block-diagonal problem. Every (ego, alter) pair is a *local node*;
``L`` is the sparse, symmetric 0/1 matrix of i's alter links between the local nodes of i (blocks
never touch each other). With ``k_i`` the number of distinct alters of i, ``d_j = Σ_q L_jq`` the
number of i's other alters that alter j knows, and ``e(j)`` the ego of local node j:

- ties among the alters of i:  t_i = Σ_{j: e(j)=i} d_j / 2
- density among alters:        2 t_i / (k_i (k_i - 1))              (k_i ≥ 2, else undefined)
- effective size (Borgatti):   k_i - 2 t_i / k_i
- constraint (Burt):           Σ_{j: e(j)=i} c_j²,  c_j = (1 + (L (1 / (1 + d)))_j) / k_i

In the ego network of i every alter q has degree 1 + d_q (the tie to i plus its links), so
i's proportional tie to j is 1/k_i directly and Σ_q (1/k_i)(1/(1 + d_q)) through the alters q
that know j: that is ``c_j``. These are exactly networkx's ``density`` on the alters,
``effective_size`` and ``constraint`` computed on the ego graph of i's own report (undirected,
unweighted; tested against them). Everything is a bincount or one sparse product over all local
nodes: linear in the number of ties and links.

Where the ties go (buurt): a tie lies *outside* the buurt when the respondent says so
(``same_buurt`` false) or when the alter is a person in the data whose registered buurt differs
from the ego's; *inside* when it is not outside and the respondent says so or both registered
buurten are the same; otherwise *unknown* (a missing ``same_buurt`` is never counted as outside).
The EI-index (Krackhardt & Stern, 1988) is (E − I) / (E + I) over the known ties only: −1 all
inside the buurt, +1 all outside.

Role diversity (entropy) is the Shannon entropy in bits (log base 2) of the roles of the ego's
ties: 0 when everyone has the same role, log2(r) when the ties are spread evenly over r roles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from data.schema import KIN_ROLES

FREQUENT = ("dagelijks", "wekelijks", "tweewekelijks")  # at least fortnightly (Cohen's SNI)
GROUP_ROLES = ("groepsgenoot", "kerk_vereniging")


def _unique(keys: np.ndarray, *, counts: bool = False):
    """Sorted distinct integer keys (and how often each occurs); a sort beats hashing for int64 here."""
    keys = np.sort(keys, kind="stable")
    first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
    if not counts:
        return keys[first]
    starts = np.flatnonzero(first)
    return keys[first], np.diff(np.r_[starts, len(keys)])


def _flags(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(is true, is false) of a yes/no column that may be missing (booleans, 0/1 or text)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = values.astype("string").str.strip().str.lower()
        values = text.map({"true": True, "1": True, "ja": True, "false": False, "0": False, "nee": False})
    flags = pd.array(pd.to_numeric(values, errors="coerce"), dtype="Float64")
    known = ~pd.isna(flags)
    as_float = np.asarray(flags.fillna(-1.0), dtype=float)
    return known & (as_float == 1.0), known & (as_float == 0.0)


def _own_report_structure(n: int, ego_idx: np.ndarray, alter_ref: pd.Series, keep: np.ndarray,
                          alter_links: pd.DataFrame | None, person_pos: pd.Index) -> dict[str, np.ndarray]:
    """Distinct alters, ties among them, density, effective size and constraint of every ego's own report."""
    links = alter_links if alter_links is not None else pd.DataFrame(columns=["ego_id", "source", "target"])
    link_ego = person_pos.get_indexer(links["ego_id"].astype("string"))
    # One factorisation of every alter reference (ties and both ends of the links) gives integer codes.
    refs = pd.concat([alter_ref[keep], links["source"].astype("string"), links["target"].astype("string")],
                     ignore_index=True)
    codes, uniques = pd.factorize(refs)
    n_ties = int(keep.sum())
    tie_codes = codes[:n_ties].astype(np.int64)
    unnamed = tie_codes < 0  # a tie without alter id or key: an alter of its own
    tie_codes[unnamed] = len(uniques) + np.arange(unnamed.sum())
    m = np.int64(len(uniques) + unnamed.sum() + 1)
    tie_key = ego_idx[keep].astype(np.int64) * m + tie_codes
    local_keys = _unique(tie_key)  # one local node per distinct (ego, alter), sorted
    local_ego = (local_keys // m).astype(np.int64)
    n_local = len(local_keys)
    k = np.bincount(local_ego, minlength=n).astype(float)

    def local(ref_codes: np.ndarray) -> np.ndarray:
        """The local node of each link end, -1 where the ego did not name that alter."""
        if n_local == 0:
            return np.full(len(ref_codes), -1, dtype=np.int64)
        key = link_ego.astype(np.int64) * m + ref_codes
        pos = np.minimum(np.searchsorted(local_keys, key), n_local - 1)
        found = (link_ego >= 0) & (ref_codes >= 0) & (local_keys[pos] == key)
        return np.where(found, pos, -1)

    n_links = len(links)
    src = local(codes[n_ties:n_ties + n_links])
    dst = local(codes[n_ties + n_links:])
    ok = (src >= 0) & (dst >= 0) & (src != dst)  # both ends are alters the ego named
    lmat = sp.coo_matrix((np.ones(2 * ok.sum()), (np.r_[src[ok], dst[ok]], np.r_[dst[ok], src[ok]])),
                         shape=(n_local, n_local)).tocsr()
    lmat.data[:] = 1.0  # a link given twice (or both ways) is one link
    d = np.asarray(lmat.sum(axis=1)).ravel()
    t = np.bincount(local_ego, weights=d, minlength=n) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (1.0 + lmat @ (1.0 / (1.0 + d))) / k[local_ego]
        constraint = np.where(k > 0, np.bincount(local_ego, weights=c ** 2, minlength=n), np.nan)
        density = np.where(k >= 2, 2 * t / (k * (k - 1)), np.nan)
        esize = np.where(k > 0, k - 2 * t / k, np.nan)
    return {"alters": k.astype(int), "ties_among_alters": t.astype(int), "density_alters": density,
            "effective_size": esize, "constraint": constraint}


def person_measures(persons: pd.DataFrame, ties: pd.DataFrame,
                    participation: pd.DataFrame | None = None,
                    alter_links: pd.DataFrame | None = None) -> pd.DataFrame:
    """All per-person network measures from each person's own report, computed for everyone at once.

    Parameters
    ----------
    persons, ties, participation, alter_links : DataFrame
        The store tables (participation and alter_links may be None).

    Returns
    -------
    DataFrame
        One row per person (index person_id) with, from the person's own report (ties with
        ``ego_id`` = the person): ``network_size`` (ties), ``informal_size`` (without
        professionals), ``emotional_supporters``, ``practical_supporters``, ``role_diversity``
        (distinct roles with at least fortnightly contact), ``role_entropy`` (bits), ``kin_share``,
        ``alters`` (distinct alters), ``ties_among_alters``, ``density_alters``,
        ``effective_size``, ``constraint``, ``ties_outside_buurt``, ``ties_inside_buurt``,
        ``ties_buurt_unknown``, ``ei_buurt``, ``group_ties`` (group members, church or club);
        ``provisions_joined``; and apart from the own report ``reported_by_others`` (ties in
        other persons' reports that name this person) and ``reported_by_others_only`` (of those,
        the ones whose reporter the person does not name in return).
    """
    ids = persons["person_id"].astype("string")
    n = len(ids)
    # Integer positions instead of string keys: one hash pass, then bincount for every count.
    person_pos = pd.Index(ids)
    ego_id = ties["ego_id"].astype("string")
    alter_id = ties["alter_id"].astype("string")
    # One factorisation of persons, egos and alters (persons first, so a code below n is a person).
    codes = pd.factorize(pd.concat([ids, ego_id, alter_id], ignore_index=True))[0]
    ego_idx = np.where(codes[n:n + len(ties)] < n, codes[n:n + len(ties)], -1)
    alter_idx = np.where(codes[n + len(ties):] < n, codes[n + len(ties):], -1)
    self_tie = alter_id.eq(ego_id).fillna(False).to_numpy(dtype=bool)
    valid = (ego_idx >= 0) & ~self_tie
    role = ties["role"].astype("string")
    informal = role.ne("professional").fillna(True).to_numpy(dtype=bool)
    frequent = ties["contact_frequency"].astype("string").isin(FREQUENT).fillna(False).to_numpy(dtype=bool)

    def count(mask, where: np.ndarray = ego_idx, ok: np.ndarray = valid) -> np.ndarray:
        mask = np.asarray(mask, dtype=bool) & ok
        return np.bincount(where[mask], minlength=n)

    def flag(name: str) -> np.ndarray:
        return ties[name].fillna(False).to_numpy(dtype=bool) if name in ties else np.zeros(len(ties), dtype=bool)

    size = count(np.ones(len(ties), dtype=bool))
    # Where the ties go: the respondent's answer or the registered buurten; unknown stays unknown.
    home = pd.factorize(persons["buurt_code"].astype("string"))[0]  # -1 where unknown
    ego_home = np.where(ego_idx >= 0, home[np.clip(ego_idx, 0, None)], -1)
    alter_home = np.where(alter_idx >= 0, home[np.clip(alter_idx, 0, None)], -1)
    both_known = (ego_home >= 0) & (alter_home >= 0)
    said_same, said_other = (_flags(ties["same_buurt"]) if "same_buurt" in ties
                             else (np.zeros(len(ties), bool), np.zeros(len(ties), bool)))
    outside = said_other | (both_known & (ego_home != alter_home))
    inside = ~outside & (said_same | (both_known & (ego_home == alter_home)))
    n_out, n_in = count(outside), count(inside)

    role_code, role_names = pd.factorize(role)
    r = len(role_names) + 1
    pair = ego_idx[frequent & valid].astype(np.int64) * r + role_code[frequent & valid]
    diversity = np.bincount(_unique(pair) // r, minlength=n)
    # Shannon entropy of the roles (bits): per (ego, role) counts, then -Σ p log2 p per ego.
    named = valid & (role_code >= 0)
    role_pairs, per_role = _unique(ego_idx[named].astype(np.int64) * r + role_code[named], counts=True)
    pair_ego = role_pairs // r
    share = per_role / np.bincount(pair_ego, weights=per_role, minlength=n)[pair_ego]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = np.bincount(pair_ego, weights=-share * np.log2(share), minlength=n) + 0.0
        entropy = np.where(count(named) > 0, entropy, np.nan)
        kin_share = np.where(size > 0, count(role.isin(KIN_ROLES).fillna(False).to_numpy(bool)) / size, np.nan)
        ei = np.where(n_out + n_in > 0, (n_out - n_in) / (n_out + n_in), np.nan)

    # Reports of others that name this person: apart from the own report, never mixed in.
    named_by_other = (alter_idx >= 0) & ~self_tie
    names_person = valid & (alter_idx >= 0)
    own_pairs = _unique(ego_idx[names_person].astype(np.int64) * n + alter_idx[names_person])
    back = alter_idx[named_by_other].astype(np.int64) * n + ego_idx[named_by_other]
    pos = np.minimum(np.searchsorted(own_pairs, back), max(len(own_pairs) - 1, 0))
    answered = np.zeros(len(ties), dtype=bool)
    answered[named_by_other] = (ego_idx[named_by_other] >= 0) & (own_pairs[pos] == back) if len(own_pairs) else False

    structure = _own_report_structure(n, ego_idx, ties["alter_id"].astype("string").fillna(
        ties["alter_key"].astype("string")), valid, alter_links, person_pos)
    out = pd.DataFrame({
        "network_size": size,
        "informal_size": count(informal),
        "emotional_supporters": count(flag("support_emotional")),
        "practical_supporters": count(flag("support_practical")),
        "role_diversity": diversity,
        "role_entropy": entropy,
        "kin_share": kin_share,
        **structure,
        "ties_outside_buurt": n_out,
        "ties_inside_buurt": n_in,
        "ties_buurt_unknown": size - n_out - n_in,
        "ei_buurt": ei,
        "group_ties": count(role.isin(GROUP_ROLES).fillna(False).to_numpy(bool)),
        "reported_by_others": count(np.ones(len(ties), dtype=bool), alter_idx, named_by_other),
        "reported_by_others_only": count(~answered, alter_idx, named_by_other),
    }, index=pd.Index(ids, name="person_id"))
    if participation is not None and len(participation):
        joined = participation.groupby(participation["person_id"].astype("string"))["provision_id"].nunique()
        out["provisions_joined"] = joined.reindex(ids, fill_value=0).to_numpy()
    else:
        out["provisions_joined"] = 0
    return out

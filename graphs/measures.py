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
unweighted; tested against them). Everything is a bincount over all local nodes and the distinct
link pairs {a, b} (a link given twice or both ways counts once): ``d = bincount(a) + bincount(b)`` and
``L w = bincount(a, w[b]) + bincount(b, w[a])``, after one factorisation of every id and one hash pass
over the (ego, alter) keys: linear in the number of ties and links.

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

from data.schema import KIN_ROLES

FREQUENT = ("dagelijks", "wekelijks", "tweewekelijks")  # at least fortnightly (Cohen's SNI)
GROUP_ROLES = ("groepsgenoot", "kerk_vereniging")


def _unique(keys: np.ndarray, *, counts: bool = False):
    """Sorted distinct integer keys (and how often each occurs); a sort beats hashing for int64 here."""
    keys = np.sort(keys)
    first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
    if not counts:
        return keys[first]
    starts = np.flatnonzero(first)
    return keys[first], np.diff(np.r_[starts, len(keys)])


def _distinct_pairs(first: np.ndarray, second: np.ndarray, r: int, n: int, *, counts: bool = False):
    """Sorted distinct keys ``first * r + second`` (0 <= first < n, 0 <= second < r), and their counts.

    A bincount over the dense key range when it is small (a few roles per person), else a sort."""
    keys = first.astype(np.int64) * r + second
    if n * r > max(4 * len(keys), 10_000_000):
        return _unique(keys, counts=counts)
    per_key = np.bincount(keys, minlength=n * r)
    distinct = np.flatnonzero(per_key)
    return (distinct, per_key[distinct]) if counts else distinct


def _flags(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(is true, is false) of a yes/no column that may be missing (booleans, 0/1 or text)."""
    if values.dtype == bool:
        flags = values.to_numpy(dtype=bool)
        return flags, ~flags
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = values.astype("string").str.strip().str.lower()
        values = text.map({"true": True, "1": True, "ja": True, "false": False, "0": False, "nee": False})
    flags = pd.array(pd.to_numeric(values, errors="coerce"), dtype="Float64")
    known = ~pd.isna(flags)
    as_float = np.asarray(flags.fillna(-1.0), dtype=float)
    return known & (as_float == 1.0), known & (as_float == 0.0)


def _arrow_text(values: pd.Series) -> list:
    """The column as Arrow large_string chunks, without a copy when it is already Arrow-backed text."""
    import pyarrow as pa

    array = values.array
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        array = values.astype("string").array  # numbers, objects or Python strings: as text, the way ids match
    data = pa.array(array)
    chunks = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    return [chunk if chunk.type == pa.large_string() else chunk.cast(pa.large_string()) for chunk in chunks]


def _codes(columns: list[pd.Series]) -> list[np.ndarray]:
    """One factorisation of several text columns: equal strings get the same int32 code, missing gets -1.

    Codes follow the order of first appearance over the columns in turn, so a code below ``len(columns[0])``
    is a value of the first column (its position there when its values are distinct)."""
    import pyarrow as pa

    chunks = [chunk for column in columns for chunk in _arrow_text(column)]
    if not chunks or not sum(len(chunk) for chunk in chunks):
        return [np.zeros(0, dtype=np.int32) for _ in columns]
    encoded = pa.chunked_array(chunks, type=pa.large_string()).dictionary_encode()
    indices = pa.chunked_array([chunk.indices for chunk in encoded.chunks]).fill_null(-1)
    flat = indices.to_numpy().astype(np.int32, copy=False)
    bounds = np.cumsum([0] + [len(column) for column in columns])
    return [flat[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def _own_report_structure(n: int, ego_idx: np.ndarray, ref_code: np.ndarray, keep: np.ndarray,
                          link_ego: np.ndarray, source: np.ndarray, target: np.ndarray,
                          n_codes: int) -> dict[str, np.ndarray]:
    """Distinct alters, ties among them, density, effective size and constraint of every ego's own report.

    ``ref_code`` is the alter reference (alter id, else alter key) of every tie as an integer code, -1 when
    the tie has neither; ``link_ego``, ``source`` and ``target`` are the alter links as codes of the same
    factorisation (``link_ego`` the person position, -1 when the ego is no person); codes are below ``n_codes``.
    """
    tie_ego = ego_idx[keep].astype(np.int64)
    tie_codes = ref_code[keep].astype(np.int64)
    unnamed = tie_codes < 0  # a tie without alter id or key: an alter of its own
    tie_codes[unnamed] = n_codes + np.arange(unnamed.sum())
    m = np.int64(n_codes + unnamed.sum() + 1)
    # One hash pass over the (ego, alter) keys of the ties and of both link ends: codes in order of first
    # appearance, so the ties' keys come first and number the local nodes 0..n_local-1.
    n_ties, n_links = len(tie_ego), len(link_ego)
    link_ok = (link_ego >= 0) & (source >= 0) & (target >= 0) & (source != target)
    link_key = np.where(link_ok, link_ego.astype(np.int64) * m, -1)
    keys = np.concatenate([tie_ego * m + tie_codes, np.where(link_ok, link_key + source, -1),
                           np.where(link_ok, link_key + target, -1)])
    local, _ = pd.factorize(keys)
    n_local = int(local[:n_ties].max()) + 1 if n_ties else 0
    local_ego = np.zeros(n_local, dtype=np.int64)
    local_ego[local[:n_ties]] = tie_ego
    k = np.bincount(local_ego, minlength=n).astype(float)
    src, dst = local[n_ties:n_ties + n_links], local[n_ties + n_links:]
    ok = link_ok & (src < n_local) & (dst < n_local)  # both ends are alters the ego named
    low, high = np.minimum(src[ok], dst[ok]), np.maximum(src[ok], dst[ok])
    pairs = pd.unique(low.astype(np.int64) * max(n_local, 1) + high)  # a link given twice (or both ways) is one
    low, high = pairs // max(n_local, 1), pairs % max(n_local, 1)
    d = (np.bincount(low, minlength=n_local) + np.bincount(high, minlength=n_local)).astype(float)
    t = np.bincount(local_ego, weights=d, minlength=n) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        w = 1.0 / (1.0 + d)
        lw = np.bincount(low, weights=w[high], minlength=n_local) + np.bincount(high, weights=w[low],
                                                                                minlength=n_local)
        c = (1.0 + lw) / k[local_ego]
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
    links = alter_links if alter_links is not None else pd.DataFrame(
        {"ego_id": pd.Series(dtype="string"), "source": pd.Series(dtype="string"),
         "target": pd.Series(dtype="string")})
    # Integer positions instead of string keys: one factorisation of every id in the tables (persons first,
    # so a code below n is a person and its position), then bincount for every count.
    (_, ego_code, alter_code, key_code, link_ego, source, target) = _codes(
        [ids, ties["ego_id"], ties["alter_id"], ties["alter_key"], links["ego_id"], links["source"],
         links["target"]])
    n_codes = int(max((c.max() for c in (ego_code, alter_code, key_code, source, target) if len(c)),
                      default=n - 1)) + 1
    ego_idx = np.where(ego_code < n, ego_code, -1)
    alter_idx = np.where(alter_code < n, alter_code, -1)
    self_tie = (alter_code >= 0) & (alter_code == ego_code)
    valid = (ego_idx >= 0) & ~self_tie
    role_code, role_names = pd.factorize(ties["role"].astype("string"))
    role_names = pd.Index(role_names)

    def role_in(names) -> np.ndarray:
        return np.isin(role_code, np.flatnonzero(role_names.isin(list(names))))

    informal = ~role_in(["professional"])
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

    r = len(role_names) + 1
    with_role = valid & (role_code >= 0)  # a tie without a role adds no role
    diversity = np.bincount(_distinct_pairs(ego_idx[frequent & with_role], role_code[frequent & with_role], r, n)
                            // r, minlength=n)
    # Shannon entropy of the roles (bits): per (ego, role) counts, then -Σ p log2 p per ego.
    named = valid & (role_code >= 0)
    role_pairs, per_role = _distinct_pairs(ego_idx[named], role_code[named], r, n, counts=True)
    pair_ego = role_pairs // r
    share = per_role / np.bincount(pair_ego, weights=per_role, minlength=n)[pair_ego]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = np.bincount(pair_ego, weights=-share * np.log2(share), minlength=n) + 0.0
        entropy = np.where(count(named) > 0, entropy, np.nan)
        kin_share = np.where(size > 0, count(role_in(KIN_ROLES)) / size, np.nan)
        ei = np.where(n_out + n_in > 0, (n_out - n_in) / (n_out + n_in), np.nan)

    # Reports of others that name this person: apart from the own report, never mixed in.
    named_by_other = (alter_idx >= 0) & ~self_tie
    names_person = valid & (alter_idx >= 0)
    # Does the person name the reporter in return: a hash set of the own (ego, alter) pairs, looked up with
    # the reversed pairs of the reports of others.
    own_pairs = ego_idx[names_person].astype(np.int64) * n + alter_idx[names_person]
    back = alter_idx[named_by_other].astype(np.int64) * n + ego_idx[named_by_other]
    answered = np.zeros(len(ties), dtype=bool)
    answered[named_by_other] = (ego_idx[named_by_other] >= 0) & pd.Series(back).isin(own_pairs).to_numpy(bool)

    # The alter reference of a tie: its alter id, else its alter key (the codes are shared, so equal text is
    # the same alter whichever column names it).
    ref_code = np.where(alter_code >= 0, alter_code, key_code)
    structure = _own_report_structure(n, ego_idx, ref_code, valid, np.where(link_ego < n, link_ego, -1),
                                      source, target, n_codes)
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
        "group_ties": count(role_in(GROUP_ROLES)),
        "reported_by_others": count(np.ones(len(ties), dtype=bool), alter_idx, named_by_other),
        "reported_by_others_only": count(~answered, alter_idx, named_by_other),
    }, index=pd.Index(ids, name="person_id"))
    if participation is not None and len(participation):
        joined = participation.groupby(participation["person_id"].astype("string"))["provision_id"].nunique()
        out["provisions_joined"] = joined.reindex(ids, fill_value=0).to_numpy()
    else:
        out["provisions_joined"] = 0
    return out

"""Match persons with a poor-network signal to suitable provisions as a min-cost flow.

Goal: propose one suitable provision to as many signalled persons as possible and, among all
ways to do that, the one with the least total distance, never filling a provision beyond its free
places. What is left over is the real gap, counted in people ("zonder optie").

Candidates of a person, with the one set of definitions of :mod:`data.reach`:

* running provisions (not 'gestopt', not outside the loaded areas; 'onder_druk' and a scenario's
  hypothetical ones run);
* of a type that suits one of the person's needs in the suitability table (type → needs, editable
  by the administrator); the needs come from :func:`graphs.signals.need_categories` (widowed,
  emotional, social) — a bereavement visit suits the widowed, a maatje emotional loneliness, a
  Grip & Glans round social loneliness;
* of a type **with places** (``ProvisionType.has_places``): a buurthuis has visitors, not places,
  so it is never a candidate, however many visitors it has a year;
* within reach of the person's buurt point (representative point, inside the buurt) by the
  provision's effective reach (own reach, else the type's default);
* free places = places − current participants with role 'deelnemer' (volunteers take no place),
  never below 0; a provision without free places takes nobody.

Persons who already take part in a provision stay eligible for the others, but are never proposed
a provision they already join (they are in it; proposing it again would hide the gap).

The network: persons with the same buurt, the same needs pattern and the same joined candidate
provisions are interchangeable, so they form one supply node with the count as supply. Edges go
to the provisions that suit and reach them (integer cost: distance in whole metres), every
provision has an edge to the sink with its free places as capacity, and every supply node has a
direct 'unmatched' edge to the sink whose cost exceeds any possible sum of distances, so the
cheapest flow first matches as many persons as possible, then minimises the total distance.
Flows are split back to persons in order of their (sorted) ids, nearest provision first.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from data.reach import (
    ALL_PATTERNS,
    NEED_CODES,
    buurt_xy,
    fits,
    free_places,
    has_places,
    is_running,
    pattern_codes,
    reach_pairs,
    served_needs,
    suitability_matrix,
)

REASON_NONE = "geen passende voorziening binnen bereik"
REASON_FULL = "passende voorzieningen binnen bereik zijn vol"
REASON_ALREADY = "doet al mee aan de passende voorzieningen binnen bereik"
REASON_NO_BUURT = "buurt onbekend"
REASON_NO_TYPE = "geen passende soort voor dit signaal"

ASSIGNMENT_COLUMNS = ["person_id", "buurt_code", "provision_id", "name", "type", "distance_m"]
PER_PROVISION_COLUMNS = ["provision_id", "name", "type", "free_places", "matched", "signalled_in_reach"]
UNMATCHED_COLUMNS = ["person_id", "buurt_code", "reason"]


@dataclass(frozen=True)
class MatchResult:
    """Outcome of :func:`match_signalled`.

    Attributes
    ----------
    assignments : DataFrame
        One row per matched person: person_id, buurt_code, provision_id, name, type, distance_m
        (int, metres from the buurt point), sorted by person_id.
    per_provision : DataFrame
        One row per running provision of a type with places that suits a need in the table:
        provision_id, name, type, free_places,
        matched (persons proposed here) and signalled_in_reach (signalled persons it suits and reaches,
        whether or not there was room), sorted by provision_id.
    unmatched : DataFrame
        One row per signalled person without a proposal: person_id, buurt_code and reason (Dutch:
        :data:`REASON_NONE`, :data:`REASON_FULL`, :data:`REASON_ALREADY`, :data:`REASON_NO_BUURT` or
        :data:`REASON_NO_TYPE`: none of the person's needs is suited by a type with places).
    total_distance_m : int
        Sum of distance_m over the assignments (the minimum for this number matched).
    """

    assignments: pd.DataFrame
    per_provision: pd.DataFrame
    unmatched: pd.DataFrame
    total_distance_m: int

    @property
    def n_matched(self) -> int:
        return len(self.assignments)

    @property
    def n_unmatched(self) -> int:
        return len(self.unmatched)


def _empty_result(per_provision: pd.DataFrame) -> MatchResult:
    return MatchResult(pd.DataFrame(columns=ASSIGNMENT_COLUMNS), per_provision,
                       pd.DataFrame(columns=UNMATCHED_COLUMNS), 0)


def match_signalled(signals: pd.DataFrame, persons: pd.DataFrame, provisions: gpd.GeoDataFrame,
                    buurten: gpd.GeoDataFrame, participation: pd.DataFrame, *,
                    catalogue: dict | None = None, taken: pd.Series | None = None,
                    suitability: dict | None = None, needs: pd.DataFrame | None = None,
                    rules=None) -> MatchResult:
    """Propose one suitable provision to as many signalled persons as possible, at least total distance.

    Parameters
    ----------
    signals : DataFrame
        Output of :func:`graphs.signals.poor_network_signals` (index person_id, column ``signal``).
    persons, participation : DataFrame
        Store tables (``buurt_code``, ``widowed_since``; ``person_id``, ``provision_id``, ``role``).
    provisions : GeoDataFrame
        Store table, points in metres (EPSG:28992).
    buurten : GeoDataFrame
        Buurt areas (``area_code``, polygons in metres); persons are placed at their representative point.
    catalogue : dict, optional
        Provision type catalogue (default reach, places per type); the built-in one when omitted.
    taken : Series, optional
        Participants ('deelnemer') per provision_id for the free places, when ``participation`` holds
        only some persons (a wijkteam sees the participation of its own wijken only).
    suitability : dict, optional
        Type → needs (the store's table); :data:`data.provision_types.DEFAULT_SUITABILITY` when omitted.
    needs : DataFrame, optional
        Boolean need columns per person_id (:func:`graphs.signals.need_categories`); derived from
        ``signals`` and ``persons`` with ``rules`` (default: the default rules) when omitted.
    """
    from data.provision_types import PROVISION_TYPES
    from graphs.signals import DEFAULT_RULES, need_categories

    types = PROVISION_TYPES if catalogue is None else catalogue
    suits_any = suitability_matrix(provisions["type"].to_numpy(dtype=object), suitability).any(axis=1)
    keep = is_running(provisions) & has_places(provisions, types) & suits_any
    running = provisions.loc[keep].sort_values("provision_id").reset_index(drop=True)
    prov_ids = running["provision_id"].astype(str).to_numpy()
    free = free_places(running, participation if taken is None else taken, types)
    n_prov = len(running)

    flagged = pd.Index(signals.index[signals["signal"].astype(bool)].astype(str)).sort_values()
    base = persons.set_index(persons["person_id"].astype(str))
    base = base.loc[~base.index.duplicated()].reindex(flagged)
    buurt_of = base["buurt_code"].astype("string").to_numpy(dtype=object, na_value=None)
    if needs is None:
        needs = need_categories(signals, persons, rules=rules or DEFAULT_RULES)
    needs = needs.set_axis(needs.index.astype(str))
    needs = needs.loc[~needs.index.duplicated()]
    need_of = needs.reindex(index=flagged, columns=list(NEED_CODES), fill_value=False).eq(True).to_numpy()
    pattern_code = pattern_codes(need_of)

    # Candidates per (buurt, needs pattern): suits a need and reaches the buurt point. Only the buurten
    # where signalled persons live get a row, plus one extra row of False at the end (buurt unknown).
    areas = buurten.loc[~buurten["area_code"].duplicated()].reset_index(drop=True)
    row_of = pd.Index(areas["area_code"].astype(object)).get_indexer(pd.Index(buurt_of, dtype=object))
    used = np.unique(row_of[row_of >= 0])
    local_row = np.full(len(areas) + 1, len(used), dtype=np.int64)
    local_row[used] = np.arange(len(used))
    row_local = local_row[np.where(row_of >= 0, row_of, len(areas))]
    in_reach = np.zeros((len(used) + 1, n_prov), dtype=bool)
    dist = np.zeros((len(used) + 1, n_prov))
    if n_prov and len(used):
        i, j, d = reach_pairs(buurt_xy(areas.iloc[used]), running, types)
        in_reach[i, j] = True
        dist[i, j] = d
    fit_by_pattern = fits(running["type"].to_numpy(dtype=object), ALL_PATTERNS, suitability)
    # Base group: one row per distinct (buurt row, needs pattern).
    base_keys, base_of = np.unique(np.column_stack([row_local, pattern_code]).astype(np.int64), axis=0,
                                   return_inverse=True)
    base_of = base_of.ravel()
    base_rows, base_pattern = base_keys[:, 0], base_keys[:, 1]
    base_cand = in_reach[base_rows] & fit_by_pattern[base_pattern]

    # Provisions a person already joins, where they would otherwise be a candidate.
    person_pos = pd.Series(np.arange(len(flagged)), index=flagged)
    prov_pos = pd.Series(np.arange(n_prov), index=prov_ids)
    joins = participation.assign(
        i=participation["person_id"].astype(str).map(person_pos),
        j=participation["provision_id"].astype(str).map(prov_pos)).dropna(subset=["i", "j"])
    ji, jj = joins["i"].to_numpy(dtype=np.int64), joins["j"].to_numpy(dtype=np.int64)
    keep = base_cand[base_of[ji], jj]
    ji, jj = ji[keep], jj[keep]
    pattern_of = np.zeros(len(flagged), dtype=np.int64)  # 0: joins none of their candidates
    patterns = np.zeros((1, n_prov), dtype=bool)
    if len(ji):
        joiners, local = np.unique(ji, return_inverse=True)
        joined = np.zeros((len(joiners), n_prov), dtype=bool)
        joined[local, jj] = True
        packed_patterns, pat = np.unique(np.packbits(joined, axis=1), axis=0, return_inverse=True)
        patterns = np.vstack([patterns, np.unpackbits(packed_patterns, axis=1, count=n_prov).astype(bool)])
        pattern_of[joiners] = pat.ravel() + 1

    # Supply groups: interchangeable persons (same base group, same joined candidates).
    groups, group_of, counts = np.unique(np.column_stack([base_of, pattern_of]), axis=0,
                                         return_inverse=True, return_counts=True)
    group_of = group_of.ravel()
    any_fit = base_cand[groups[:, 0]]  # suits and reaches, before excluding joined ones
    cand = any_fit & ~patterns[groups[:, 1]]
    signalled_in_reach = (cand * counts[:, None]).sum(axis=0).astype(np.int64)
    per_provision = pd.DataFrame({
        "provision_id": prov_ids,
        "name": running["name"].astype(str).to_numpy(),
        "type": running["type"].astype(str).to_numpy(),
        "free_places": free,
        "matched": np.zeros(n_prov, dtype=np.int64),
        "signalled_in_reach": signalled_in_reach,
    }, columns=PER_PROVISION_COLUMNS)
    if not len(flagged):
        return _empty_result(per_provision)

    # Min-cost flow over supply groups -> provisions -> sink.
    cost = np.rint(dist).astype(np.int64)
    gs, gj = np.nonzero(cand & (free[None, :] > 0))
    edge_cost = cost[base_rows[groups[gs, 0]], gj]
    flow_s = np.zeros(0, dtype=np.int64)
    flow_j = np.zeros(0, dtype=np.int64)
    flow_f = np.zeros(0, dtype=np.int64)
    if len(gs):
        total = int(counts.sum())
        unmatched_cost = total * int(edge_cost.max()) + 1  # more than any possible sum of distances
        graph = nx.DiGraph()
        graph.add_node("sink", demand=total)
        graph.add_nodes_from((("g", int(s)), {"demand": -int(c)}) for s, c in enumerate(counts))
        graph.add_edges_from((("p", int(j)), "sink", {"capacity": int(free[j]), "weight": 0})
                             for j in np.unique(gj))
        graph.add_edges_from((("g", int(s)), ("p", int(j)), {"weight": int(c)})
                             for s, j, c in zip(gs, gj, edge_cost, strict=True))
        graph.add_edges_from((("g", int(s)), "sink", {"weight": unmatched_cost}) for s in range(len(counts)))
        _, flow = nx.network_simplex(graph)
        sent = [(s, node[1], f) for s in range(len(counts)) for node, f in flow[("g", s)].items()
                if node != "sink" and f > 0]
        if sent:
            flow_s, flow_j, flow_f = (np.array(x, dtype=np.int64) for x in zip(*sent, strict=True))

    # Split each group's flows over its persons: sorted ids, nearest provision (then id) first.
    order = np.lexsort((flow_j, cost[base_rows[groups[flow_s, 0]], flow_j] if len(flow_s) else flow_j, flow_s))
    flow_s, flow_j, flow_f = flow_s[order], flow_j[order], flow_f[order]
    matched_per_group = np.bincount(flow_s, weights=flow_f, minlength=len(counts)).astype(np.int64)
    slots = np.repeat(flow_j, flow_f)  # provisions in group order, one per matched person
    slot_start = np.concatenate([[0], np.cumsum(matched_per_group)[:-1]])
    person_order = np.lexsort((np.arange(len(flagged)), group_of))  # flagged is sorted: ids within group
    group_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(flagged), dtype=np.int64)
    rank[person_order] = np.arange(len(flagged)) - group_start[group_of[person_order]]
    is_matched = rank < matched_per_group[group_of]
    chosen = np.full(len(flagged), -1, dtype=np.int64)
    chosen[is_matched] = slots[slot_start[group_of[is_matched]] + rank[is_matched]]

    mi = np.flatnonzero(is_matched)
    mj = chosen[mi]
    distance = cost[row_local[mi], mj] if len(mi) else np.zeros(0, dtype=np.int64)
    assignments = pd.DataFrame({
        "person_id": flagged[mi].to_numpy(dtype=object),
        "buurt_code": buurt_of[mi],
        "provision_id": prov_ids[mj],
        "name": per_provision["name"].to_numpy()[mj],
        "type": per_provision["type"].to_numpy()[mj],
        "distance_m": distance.astype(np.int64),
    }, columns=ASSIGNMENT_COLUMNS)
    per_provision["matched"] = np.bincount(mj, minlength=n_prov).astype(np.int64)

    ui = np.flatnonzero(~is_matched)
    g = group_of[ui]
    no_type = ~(need_of[ui] & served_needs(types, suitability)[None, :]).any(axis=1)
    reason = np.select(
        [cand[g].any(axis=1), any_fit[g].any(axis=1), row_of[ui] < 0, no_type],
        [REASON_FULL, REASON_ALREADY, REASON_NO_BUURT, REASON_NO_TYPE], default=REASON_NONE)
    unmatched = pd.DataFrame({"person_id": flagged[ui].to_numpy(dtype=object), "buurt_code": buurt_of[ui],
                              "reason": reason.astype(object)}, columns=UNMATCHED_COLUMNS)
    return MatchResult(assignments, per_provision, unmatched, int(distance.sum()))

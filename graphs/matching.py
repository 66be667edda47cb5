"""Match persons with a poor-network signal to suitable provisions as a min-cost flow.

Goal: propose one suitable provision to as many signalled persons as possible and, among all
ways to do that, the one with the least total distance, never filling a provision beyond its free
places. What is left over is the real gap, counted in people.

Suitability follows :func:`graphs.aggregates.suitable_provisions`:

* only running provisions (status other than 'gestopt');
* network-building types (:data:`graphs.aggregates.SUITABLE_TYPES`) for everyone, the visiting
  service for the widowed (``bezoekdienst_weduwen``) only for persons with ``widowed_since``;
* a person is placed at the centre (centroid) of their buurt, and the provision reaches them when
  that centre lies within its ``reach_m`` (missing: the default reach of its type in the catalogue);
* free places = capacity per year minus the current participation rows, never below 0 (the same
  count the Netwerken page shows as 'plekken vrij').

Persons who already take part in a provision stay eligible for the others, but are never proposed
a provision they already join (they are in it; proposing it again would hide the gap).

The network: persons with the same buurt, the same widowed flag and the same joined candidate
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

from graphs.aggregates import SUITABLE_TYPES

WIDOW_TYPE = "bezoekdienst_weduwen"
REASON_NONE = "geen passende voorziening binnen bereik"
REASON_FULL = "passende voorzieningen binnen bereik zijn vol"
REASON_ALREADY = "doet al mee aan de passende voorzieningen binnen bereik"
REASON_NO_BUURT = "buurt onbekend"

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
        (int, metres from the buurt centre), sorted by person_id.
    per_provision : DataFrame
        One row per running provision of a suitable type: provision_id, name, type, free_places,
        matched (persons proposed here) and signalled_in_reach (signalled persons it suits and reaches,
        whether or not there was room), sorted by provision_id.
    unmatched : DataFrame
        One row per signalled person without a proposal: person_id, buurt_code and reason (Dutch:
        :data:`REASON_NONE`, :data:`REASON_FULL`, :data:`REASON_ALREADY` or :data:`REASON_NO_BUURT`).
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


def _free_places(running: pd.DataFrame, participation: pd.DataFrame, taken: pd.Series | None = None) -> np.ndarray:
    counts = participation.groupby("provision_id").size() if taken is None else taken
    taken = counts.reindex(running["provision_id"], fill_value=0).fillna(0).to_numpy(dtype=float)
    capacity = running["capacity_per_year"].astype("Float64").fillna(0).to_numpy(dtype=float)
    return np.maximum(np.floor(capacity - taken), 0).astype(np.int64)


def _reach(running: pd.DataFrame, types: dict) -> np.ndarray:
    default = running["type"].map({code: float(t.default_reach_m) for code, t in types.items()})
    return running["reach_m"].astype("Float64").fillna(default).fillna(0).to_numpy(dtype=float)


def _empty_result(per_provision: pd.DataFrame) -> MatchResult:
    return MatchResult(pd.DataFrame(columns=ASSIGNMENT_COLUMNS), per_provision,
                       pd.DataFrame(columns=UNMATCHED_COLUMNS), 0)


def match_signalled(signals: pd.DataFrame, persons: pd.DataFrame, provisions: gpd.GeoDataFrame,
                    buurten: gpd.GeoDataFrame, participation: pd.DataFrame, *,
                    catalogue: dict | None = None, taken: pd.Series | None = None) -> MatchResult:
    """Propose one suitable provision to as many signalled persons as possible, at least total distance.

    Parameters
    ----------
    signals : DataFrame
        Output of :func:`graphs.signals.poor_network_signals` (index person_id, column ``signal``).
    persons, participation : DataFrame
        Store tables (``buurt_code``, ``widowed_since``; ``person_id``, ``provision_id``).
    provisions : GeoDataFrame
        Store table, points in metres (EPSG:28992).
    buurten : GeoDataFrame
        Buurt areas (``area_code``, polygons in metres); persons are placed at their centroid.
    catalogue : dict, optional
        Provision type catalogue (default reach per type); the built-in one when omitted.
    taken : Series, optional
        Participants per provision_id for the free places, when ``participation`` holds only some
        persons (a wijkteam sees the participation of its own wijken only).
    """
    from data.provision_types import PROVISION_TYPES

    types = PROVISION_TYPES if catalogue is None else catalogue
    running = provisions.loc[(provisions["status"] != "gestopt")
                             & provisions["type"].isin((*SUITABLE_TYPES, WIDOW_TYPE))]
    running = running.sort_values("provision_id").reset_index(drop=True)
    prov_ids = running["provision_id"].astype(str).to_numpy()
    free = _free_places(running, participation, taken)
    n_prov = len(running)

    flagged = pd.Index(signals.index[signals["signal"].astype(bool)].astype(str)).sort_values()
    base = persons.set_index(persons["person_id"].astype(str))
    base = base.loc[~base.index.duplicated()].reindex(flagged)
    buurt_of = base["buurt_code"].astype("string").to_numpy(dtype=object, na_value=None)
    widowed = base["widowed_since"].notna().to_numpy()

    # Candidates per (buurt, widowed): suits the person and reaches the buurt centre.
    centres = buurten.set_index("area_code").geometry.centroid
    centres = centres.loc[~centres.index.duplicated()]
    row_of = centres.index.get_indexer(pd.Index(buurt_of, dtype=object))
    if n_prov:
        dist = np.hypot(centres.x.to_numpy()[:, None] - running.geometry.x.to_numpy()[None, :],
                        centres.y.to_numpy()[:, None] - running.geometry.y.to_numpy()[None, :])
    else:
        dist = np.zeros((len(centres), 0))
    # One extra row of False at the end: row -1 (buurt not among the areas) reaches nothing.
    in_reach = np.vstack([dist <= _reach(running, types)[None, :], np.zeros((1, n_prov), dtype=bool)])
    general = running["type"].isin(SUITABLE_TYPES).to_numpy()
    widow_type = (running["type"] == WIDOW_TYPE).to_numpy()
    # Base group: one row per distinct (buurt row, widowed).
    base_keys, base_of = np.unique(np.column_stack([row_of, widowed]).astype(np.int64), axis=0,
                                   return_inverse=True)
    base_of = base_of.ravel()
    base_rows, base_widowed = base_keys[:, 0], base_keys[:, 1].astype(bool)
    fits = general[None, :] | (widow_type[None, :] & base_widowed[:, None])
    base_cand = in_reach[base_rows] & fits

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
    distance = cost[row_of[mi], mj] if len(mi) else np.zeros(0, dtype=np.int64)
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
    reason = np.select(
        [cand[g].any(axis=1), any_fit[g].any(axis=1), row_of[ui] < 0],
        [REASON_FULL, REASON_ALREADY, REASON_NO_BUURT], default=REASON_NONE)
    unmatched = pd.DataFrame({"person_id": flagged[ui].to_numpy(dtype=object), "buurt_code": buurt_of[ui],
                              "reason": reason.astype(object)}, columns=UNMATCHED_COLUMNS)
    return MatchResult(assignments, per_provision, unmatched, int(distance.sum()))

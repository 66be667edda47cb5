"""The one definition of where a buurt is, what a provision reaches, what runs and what has room.

Gaps (:mod:`mapping.gaps`), scenarios (:mod:`mapping.scenarios`), matching (:mod:`graphs.matching`),
the signal list's suggestions (:func:`graphs.aggregates.suitable_provisions`) and the access layer
all call these functions, so "is a provision in reach of this buurt" has one answer everywhere.

Location of a buurt
    Its representative point (:func:`buurt_points`): a point guaranteed *inside* the polygon, unlike
    the centroid, which lies outside a crescent or L-shaped buurt. Persons are placed there.

Running
    A provision runs (:func:`is_running`) unless its status is 'gestopt' or it lies outside the
    loaded areas (``outside_areas``: shown on the map, never counted). 'onder_druk' runs (and is
    flagged by the gap page); a scenario's hypothetical provisions (status 'hypothetisch') run.

Effective reach
    ``reach_m`` when it is a positive number, else the ``default_reach_m`` of the provision's type
    in the catalogue, else :data:`FALLBACK_REACH_M` (1 km: a walk of a quarter of an hour).

In reach
    Straight-line distance in metres (RD New) from the buurt point to the provision, at most its
    effective reach, inclusive (:func:`catchment_pairs`). A k-d tree proposes the candidate pairs
    with a small margin and the test itself is ``np.hypot(dx, dy) <= reach``, so no pair flips on
    rounding and no dense buurt × provision matrix is ever built.

Places and supply
    A type either has *places* (a Grip & Glans round, a bezoekdienst's volunteers' visits, a maatje)
    or only *visitors* (a buurthuis, opbouwwerk): ``ProvisionType.has_places``.

    * :func:`supply_per_year` is what a provision offers per year: ``capacity_per_year``, or, where
      that is missing and the type has ``places_per_volunteer``, volunteers × places per volunteer.
      For a type without places it is the number of visitors. This is the 2SFCA supply of the gap
      page: a buurthuis's visitors per year measure how well a buurthuis-need is reached.
    * :func:`places` is the same for types with places and **0 for types without places**, so a
      buurthuis never gives a free place in matching or in a scenario's count of signalled persons
      with a suitable provision with room.
    * :func:`free_places` = places − current participants (participation rows with role
      'deelnemer'; volunteers do not take a place), floored to whole places, never below 0.

Suitability
    The table type → needs (:data:`data.provision_types.DEFAULT_SUITABILITY`, editable by the
    administrator, stored in the ``suitability`` table). A person's needs are a boolean row over
    :data:`data.provision_types.NEEDS` (see :func:`graphs.signals.need_categories`); a type fits a
    person when it suits at least one of their needs (:func:`fits`). A needs pattern is written as
    the need codes joined by '+', in the order of ``NEEDS`` (e.g. 'verweduwd+sociaal'; '' for none).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import OrderedDict

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from data.provision_types import DEFAULT_SUITABILITY, NEEDS, PROVISION_TYPES

STOPPED = "gestopt"
HYPOTHETICAL = "hypothetisch"  # status of a provision that only exists in a scenario
PARTICIPANT_ROLE = "deelnemer"  # the participation role that takes a place (a 'vrijwilliger' does not)
FALLBACK_REACH_M = 1000.0  # reach of a provision whose own reach and type default are both unknown
NEED_CODES: tuple[str, ...] = tuple(NEEDS)


# --------------------------------------------------------------------------- locations
def buurt_points(buurten: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The location of each buurt: its representative point (inside the polygon), same index."""
    return buurten.geometry.representative_point()


def points_xy(geometry: gpd.GeoSeries) -> np.ndarray:
    """(n, 2) coordinates of points; missing or empty geometries give NaN (they reach nothing)."""
    if len(geometry) == 0:
        return np.zeros((0, 2))
    empty = geometry.isna().to_numpy() | geometry.is_empty.to_numpy()
    x = np.full(len(geometry), np.nan)
    y = np.full(len(geometry), np.nan)
    ok = ~empty
    if ok.any():
        x[ok] = geometry[ok].x.to_numpy(dtype=float)
        y[ok] = geometry[ok].y.to_numpy(dtype=float)
    return np.c_[x, y]


def buurt_xy(buurten: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) coordinates of :func:`buurt_points`, in the order of ``buurten``."""
    return points_xy(buurt_points(buurten))


# --------------------------------------------------------------------------- running and reach
def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].astype(object).where(frame[column].notna(), False).astype(bool).to_numpy()


def is_outside(provisions: pd.DataFrame) -> np.ndarray:
    """Boolean mask: imported outside the loaded areas (shown on the map, never counted)."""
    return _flag(provisions, "outside_areas")


def is_running(provisions: pd.DataFrame) -> np.ndarray:
    """Boolean mask: status is not 'gestopt' and the provision is not outside the loaded areas."""
    status = provisions["status"].astype("string").fillna("").to_numpy(dtype=object)
    return (status != STOPPED) & ~is_outside(provisions)


def _catalogue(catalogue: dict | None) -> dict:
    return PROVISION_TYPES if catalogue is None else catalogue


def _type_attr(provisions: pd.DataFrame, catalogue: dict | None, attr: str, default) -> np.ndarray:
    types = _catalogue(catalogue)
    values = {code: getattr(t, attr) for code, t in types.items()}
    mapped = provisions["type"].astype(object).map(values)
    return mapped.where(mapped.notna(), default).to_numpy(dtype=object)


def effective_reach_m(provisions: pd.DataFrame, catalogue: dict | None = None) -> np.ndarray:
    """Reach in metres per provision: ``reach_m`` if positive, else the type's default, else 1 km."""
    own = pd.to_numeric(provisions["reach_m"], errors="coerce").to_numpy(dtype=float) \
        if "reach_m" in provisions else np.full(len(provisions), np.nan)
    default = _type_attr(provisions, catalogue, "default_reach_m", np.nan).astype(float)
    default = np.where(np.isfinite(default) & (default > 0), default, FALLBACK_REACH_M)
    return np.where(np.isfinite(own) & (own > 0), own, default)


_TREES: OrderedDict[bytes, cKDTree] = OrderedDict()
_TREES_KEPT = 8
_BALL_QUERY_MAX = 2_000  # up to this many provisions, ball queries beat a dual-tree distance matrix
_TREES_LOCK = threading.Lock()  # the app's sessions run in threads


def _tree(xy: np.ndarray) -> cKDTree:
    """A k-d tree of the points, reused for the same points: every provision type (and every decay) of a
    run queries the same buurten, so their tree is built once instead of once per call."""
    xy = np.ascontiguousarray(xy, dtype=float)
    key = hashlib.blake2b(xy.tobytes(), digest_size=16).digest() + str(xy.shape).encode()
    with _TREES_LOCK:
        tree = _TREES.get(key)
        if tree is not None:
            _TREES.move_to_end(key)
            return tree
    tree = cKDTree(xy)
    with _TREES_LOCK:
        _TREES[key] = tree
        while len(_TREES) > _TREES_KEPT:
            _TREES.popitem(last=False)
    return tree


def catchment_pairs(demand_xy: np.ndarray, supply_xy: np.ndarray, reach_m: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (demand i, supply j, distance) pairs with ``hypot(dx, dy) <= reach_m[j]``.

    Points or reaches that are not finite take part in no pair. Pairs come sorted by (i, j).
    """
    demand_xy = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    supply_xy = np.asarray(supply_xy, dtype=float).reshape(-1, 2)
    reach_m = np.asarray(reach_m, dtype=float).reshape(-1)
    empty = (np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=float))
    di = np.flatnonzero(np.isfinite(demand_xy).all(axis=1))
    sj = np.flatnonzero(np.isfinite(supply_xy).all(axis=1) & np.isfinite(reach_m) & (reach_m >= 0))
    if len(di) == 0 or len(sj) == 0:
        return empty
    tree = _tree(demand_xy[di])
    if len(sj) <= _BALL_QUERY_MAX:
        # Few provisions (a type of a national run): one ball per provision with its own reach (plus a
        # margin; the exact test is on np.hypot below), in the demand points' tree.
        balls = tree.query_ball_point(supply_xy[sj], r=reach_m[sj] * (1 + 1e-9) + 1e-6)
        counts = np.fromiter(map(len, balls), dtype=np.int64, count=len(balls))
        i = di[np.fromiter(itertools.chain.from_iterable(balls), dtype=np.int64, count=int(counts.sum()))]
        j = np.repeat(sj, counts)
    else:
        # Candidates within the largest reach plus a margin; the exact test is on np.hypot below.
        margin = float(reach_m[sj].max()) * (1 + 1e-9) + 1e-6
        pairs = tree.sparse_distance_matrix(cKDTree(supply_xy[sj]), max_distance=margin,
                                            output_type="ndarray")  # includes distance 0
        i, j = di[pairs["i"].astype(np.int64)], sj[pairs["j"].astype(np.int64)]
    d = np.hypot(demand_xy[i, 0] - supply_xy[j, 0], demand_xy[i, 1] - supply_xy[j, 1])
    keep = d <= reach_m[j]
    i, j, d = i[keep], j[keep], d[keep]
    order = np.lexsort((j, i))
    return i[order], j[order], d[order]


def reach_pairs(xy: np.ndarray, provisions: gpd.GeoDataFrame, catalogue: dict | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point i, provision j, distance) for every provision whose effective reach covers point i.

    ``provisions`` are taken as given (filter them with :func:`is_running` first).
    """
    return catchment_pairs(xy, points_xy(provisions.geometry), effective_reach_m(provisions, catalogue))


def covered_by_type(xy: np.ndarray, provisions: gpd.GeoDataFrame, types, catalogue: dict | None = None
                    ) -> np.ndarray:
    """(n points × len(types)) booleans: a running provision of the type has the point within reach."""
    types = list(types)
    out = np.zeros((len(xy), len(types)), dtype=bool)
    running = provisions.loc[is_running(provisions)]
    column = pd.Index(types).get_indexer(running["type"].astype(object))
    running = running.loc[column >= 0]
    if running.empty:
        return out
    i, j, _ = reach_pairs(xy, running, catalogue)
    out[i, column[column >= 0][j]] = True
    return out


# --------------------------------------------------------------------------- places
def has_places(provisions: pd.DataFrame, catalogue: dict | None = None) -> np.ndarray:
    """Boolean per provision: its type has places (types not in the catalogue are taken to have them)."""
    return _type_attr(provisions, catalogue, "has_places", True).astype(bool)


def supply_per_year(provisions: pd.DataFrame, catalogue: dict | None = None) -> np.ndarray:
    """What a provision offers per year: capacity, else volunteers × places per volunteer, else 0.

    For types without places this is the number of visitors: the 2SFCA supply of the gap page.
    """
    capacity = pd.to_numeric(provisions["capacity_per_year"], errors="coerce").to_numpy(dtype=float) \
        if "capacity_per_year" in provisions else np.full(len(provisions), np.nan)
    volunteers = pd.to_numeric(provisions["volunteers"], errors="coerce").to_numpy(dtype=float) \
        if "volunteers" in provisions else np.full(len(provisions), np.nan)
    per_volunteer = pd.to_numeric(pd.Series(_type_attr(provisions, catalogue, "places_per_volunteer", np.nan)),
                                  errors="coerce").to_numpy(dtype=float)
    derived = np.where(np.isfinite(volunteers) & np.isfinite(per_volunteer), volunteers * per_volunteer, np.nan)
    out = np.where(np.isfinite(capacity), capacity, derived)
    return np.maximum(np.nan_to_num(out, nan=0.0), 0.0)


def places(provisions: pd.DataFrame, catalogue: dict | None = None) -> np.ndarray:
    """Places per year (whole places): :func:`supply_per_year` for types with places, 0 for the others."""
    return np.where(has_places(provisions, catalogue), np.floor(supply_per_year(provisions, catalogue)), 0.0)


def participants(participation: pd.DataFrame | pd.Series | None, provision_ids) -> np.ndarray:
    """Current participants per provision, in the order of ``provision_ids``.

    ``participation``: participation rows (provision_id, role; a missing role counts as 'deelnemer',
    other roles such as 'vrijwilliger' do not take a place), or participants per provision_id
    already counted (a Series, e.g. the protected counts of the access layer), or None.
    """
    ids = pd.Index(pd.Series(provision_ids, dtype=object).astype(str))
    if participation is None or len(participation) == 0:
        return np.zeros(len(ids))
    if isinstance(participation, pd.Series):
        counts = participation.copy()
        counts.index = counts.index.astype(str)
    else:
        role = participation["role"] if "role" in participation else pd.Series(PARTICIPANT_ROLE,
                                                                                index=participation.index)
        taking = role.astype("string").fillna(PARTICIPANT_ROLE).eq(PARTICIPANT_ROLE).to_numpy(dtype=bool)
        counts = participation.loc[taking, "provision_id"].astype(str).value_counts()
    counts = counts.groupby(level=0).sum()
    return pd.to_numeric(counts.reindex(ids), errors="coerce").fillna(0).to_numpy(dtype=float)


def free_places(provisions: pd.DataFrame, participation: pd.DataFrame | pd.Series | None,
                catalogue: dict | None = None) -> np.ndarray:
    """Free places per provision: places − participants ('deelnemer'), whole places, never below 0."""
    taken = participants(participation, provisions["provision_id"].to_numpy(dtype=object))
    return np.maximum(np.floor(places(provisions, catalogue) - taken), 0).astype(np.int64)


# --------------------------------------------------------------------------- suitability
def suitability_matrix(types, suitability: dict | None = None) -> np.ndarray:
    """(len(types) × len(NEEDS)) booleans: the type suits the need (unknown types suit nothing)."""
    table = DEFAULT_SUITABILITY if suitability is None else suitability
    rows = pd.DataFrame([(t, n) for t, needs in table.items() for n in needs if n in NEEDS],
                        columns=["type", "need"])
    known = pd.crosstab(rows["type"], rows["need"]) if len(rows) else pd.DataFrame(dtype=np.int64)
    known = known.reindex(index=pd.Index(pd.Series(types, dtype=object).astype(str)), columns=list(NEED_CODES),
                          fill_value=0)
    return known.to_numpy(dtype=np.int64) > 0


def fits(types, needs: np.ndarray, suitability: dict | None = None) -> np.ndarray:
    """(n persons × n types) booleans: the type suits at least one of the person's needs.

    ``needs``: (n persons × len(NEEDS)) booleans, columns in the order of :data:`NEEDS`.
    """
    needs = np.asarray(needs, dtype=bool).reshape(-1, len(NEED_CODES))
    suits = suitability_matrix(types, suitability)
    return (needs.astype(np.int64) @ suits.T.astype(np.int64)) > 0


#: Every combination of needs as a row of booleans: row k holds need n when bit n of k is set (NEEDS order).
ALL_PATTERNS = ((np.arange(1 << len(NEED_CODES))[:, None] >> np.arange(len(NEED_CODES))[None, :]) & 1).astype(bool)


def pattern_codes(needs: np.ndarray | pd.DataFrame) -> np.ndarray:
    """The row of :data:`ALL_PATTERNS` for each person's needs (an integer 0 … 2**len(NEEDS) − 1)."""
    values = np.asarray(needs, dtype=bool).reshape(-1, len(NEED_CODES))
    return values.astype(np.int64) @ (1 << np.arange(len(NEED_CODES), dtype=np.int64))


def needs_pattern(needs: np.ndarray | pd.DataFrame) -> np.ndarray:
    """The needs of each row as one text, e.g. 'verweduwd+sociaal' ('' for none)."""
    values = np.asarray(needs, dtype=bool).reshape(-1, len(NEED_CODES))
    out = np.full(len(values), "", dtype=object)
    for k, code in enumerate(NEED_CODES):  # one pass per need (three), each over every row at once
        out = np.where(values[:, k], np.where(out == "", code, out + "+" + code), out)
    return out


def needs_from_pattern(patterns) -> np.ndarray:
    """(n × len(NEEDS)) booleans from texts made by :func:`needs_pattern`."""
    text = pd.Series(patterns, dtype="string").fillna("")
    parts = "+" + text + "+"
    return np.column_stack([parts.str.contains(f"+{code}+", regex=False).to_numpy(dtype=bool)
                            for code in NEED_CODES]) if len(text) else np.zeros((0, len(NEED_CODES)), dtype=bool)


def served_needs(catalogue: dict | None = None, suitability: dict | None = None) -> np.ndarray:
    """Per need (in the order of NEEDS): some type with places suits it."""
    types = _catalogue(catalogue)
    with_places = [code for code, t in types.items() if t.has_places]
    return suitability_matrix(with_places, suitability).any(axis=0) if with_places else \
        np.zeros(len(NEED_CODES), dtype=bool)


def room_by_need(xy: np.ndarray, provisions: gpd.GeoDataFrame, participation, catalogue: dict | None = None,
                 suitability: dict | None = None) -> np.ndarray:
    """(n points × len(NEEDS)) booleans: a running provision that suits the need, has a free place
    and has the point within reach (what a scenario counts for signalled persons)."""
    out = np.zeros((len(xy), len(NEED_CODES)), dtype=bool)
    running = provisions.loc[is_running(provisions)]
    if running.empty:
        return out
    room = free_places(running, participation, catalogue) > 0
    running = running.loc[room]
    if running.empty:
        return out
    suits = suitability_matrix(running["type"].to_numpy(dtype=object), suitability)
    i, j, _ = reach_pairs(xy, running, catalogue)
    hit_i, hit_k = np.nonzero(suits[j])
    out[i[hit_i], hit_k] = True
    return out


def suitability_grid(catalogue: dict | None = None, suitability: dict | None = None) -> pd.DataFrame:
    """The suitability table as a grid for display and editing: one row per catalogue type (index: code),
    columns label, has_places and one boolean column per need (codes of NEEDS)."""
    types = _catalogue(catalogue)
    codes = list(types)
    grid = pd.DataFrame(suitability_matrix(codes, suitability), index=pd.Index(codes, name="code"),
                        columns=list(NEED_CODES))
    grid.insert(0, "has_places", [bool(t.has_places) for t in types.values()])
    grid.insert(0, "label", [t.label for t in types.values()])
    return grid


def suitability_from_grid(grid: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Type → needs from a grid as :func:`suitability_grid` makes it (index: type code); types without
    any need ticked are left out."""
    ticks = grid.reindex(columns=list(NEED_CODES)).fillna(False).astype(bool)
    codes, k = np.nonzero(ticks.to_numpy())
    pairs = pd.DataFrame({"type": ticks.index.to_numpy(dtype=object)[codes],
                          "need": np.array(NEED_CODES, dtype=object)[k]})
    return {str(t): tuple(g["need"]) for t, g in pairs.groupby("type", sort=True)}

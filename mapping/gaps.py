"""Need, accessible supply and gaps ("witte vlekken") per buurt and provision type.

Need is an estimated number of people in a type's target group, from the key figures (and the
persons with a poor-network signal where network data exists). Every formula has a plain-Dutch
description and adjustable weights; a buurt whose figures are missing gets no need (NaN) and the
missing figures are named, never treated as zero. Supply is the 2SFCA accessibility of running
provisions (stopped ones do not count; at-risk ones count and are flagged). The gap is the part of
the need not covered: need × max(0, 1 − A).

Where a buurt is, what runs and what a provision reaches are the definitions of :mod:`data.reach`
(buurt representative point, running = not stopped and not outside the loaded areas, effective
reach with the type's default), shared with the scenarios and the matching; the column ``in_reach``
says whether a running provision of the type reaches the buurt at all. The 2SFCA supply is
:func:`data.reach.supply_per_year`: places for types with places (capacity, else volunteers ×
places per volunteer) and, for types without places (a buurthuis), the visitors per year. That is
deliberate: the gap of buurthuis-need is a measure of how well a buurthuis is *reached*, not of free
places. A buurthuis never counts as a free place; that rule lives in :func:`data.reach.places`, which
matching and the scenarios' signalled counts use.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from data.formatting import format_date, format_number
from data.indicators import BY_NAME, NO_BASE_STATUS
from data.provision_types import PROVISION_TYPES
from data.reach import (
    buurt_xy,
    catchment_pairs,
    covered_by_type,
    effective_reach_m,
    is_outside,
    is_running,
    supply_per_year,
)
from mapping.accessibility import DECAYS, two_step_fca

DECAYS_CLI = tuple(DECAYS)


@dataclass(frozen=True)
class Term:
    """One part of a need formula: weight × a group of people derived from key figures."""

    label: str
    indicators: tuple[str, ...]
    weight: float


def _group(wide: pd.DataFrame, term: Term) -> pd.Series:
    inh = wide.get("aantal_inwoners")
    hh = wide.get("aantal_part_huishoudens")
    g = term.indicators
    if g == ("aantal_inwoners", "percentage_verweduwd"):
        return inh * wide["percentage_verweduwd"] / 100
    if g == ("aantal_inwoners", "percentage_personen_65_jaar_en_ouder", "percentage_eenpersoonshuishoudens"):
        return inh * wide[g[1]] / 100 * wide[g[2]] / 100
    if g == ("aantal_part_huishoudens", "percentage_huishoudens_onder_of_rond_sociaal_minimum"):
        return hh * wide[g[1]] / 100
    if g == ("aantal_inwoners", "percentage_personen_15_tot_25_jaar", "percentage_personen_0_tot_15_jaar"):
        # people aged 12-23: about nine tenths of 15-24 plus a fifth of 0-14
        return inh * (0.9 * wide[g[1]] + 0.2 * wide[g[2]]) / 100
    if g == ("aantal_inwoners",):
        return inh
    if g == ("signalen",):
        return wide["signalen"]
    raise KeyError(g)


_OLDER_ALONE = ("aantal_inwoners", "percentage_personen_65_jaar_en_ouder", "percentage_eenpersoonshuishoudens")
_LOW_INCOME = ("aantal_part_huishoudens", "percentage_huishoudens_onder_of_rond_sociaal_minimum")
_GROUP_LABELS = {
    ("aantal_inwoners", "percentage_verweduwd"): "verweduwde inwoners (inwoners × % verweduwd)",
    _OLDER_ALONE: "ouderen die alleen wonen (inwoners × % 65+ × % eenpersoonshuishoudens)",
    _LOW_INCOME: "huishoudens rond het sociaal minimum (huishoudens × % onder of rond sociaal minimum)",
    ("aantal_inwoners", "percentage_personen_15_tot_25_jaar", "percentage_personen_0_tot_15_jaar"):
        "jongeren van 12 tot 23 (inwoners × (0,9 × % 15-24 + 0,2 × % 0-14))",
    ("aantal_inwoners",): "inwoners",
    ("signalen",): "personen met een signaal van een arm netwerk (netwerkgegevens)",
}

DEFAULT_NEED: dict[str, tuple[Term, ...]] = {
    "bezoekdienst_weduwen": (Term("verweduwd", ("aantal_inwoners", "percentage_verweduwd"), 0.10),),
    "grip_en_glans": (Term("ouderen alleen", _OLDER_ALONE, 0.05), Term("laag inkomen", _LOW_INCOME, 0.03),
                      Term("signalen", ("signalen",), 0.5)),
    "maatjesproject": (Term("ouderen alleen", _OLDER_ALONE, 0.03), Term("signalen", ("signalen",), 0.3)),
    "buurthuis": (Term("ouderen alleen", _OLDER_ALONE, 0.3), Term("laag inkomen", _LOW_INCOME, 0.2),
                  Term("signalen", ("signalen",), 1.0)),
    "sociaal_cultureel_werk": (Term("ouderen alleen", _OLDER_ALONE, 0.2), Term("laag inkomen", _LOW_INCOME, 0.1)),
    "opbouwwerk": (Term("inwoners", ("aantal_inwoners",), 0.02),),
    "jongerenwerk": (Term("jongeren", ("aantal_inwoners", "percentage_personen_15_tot_25_jaar",
                                       "percentage_personen_0_tot_15_jaar"), 0.3),),
    "mantelzorgondersteuning": (Term("inwoners", ("aantal_inwoners",), 0.12 * 0.2),),
    "inloop_armoede_schulden": (Term("laag inkomen", _LOW_INCOME, 0.3),),
}


def describe_need(ptype: str, terms: tuple[Term, ...] | None = None) -> str:
    """The need formula of a type in plain Dutch."""
    terms = terms or DEFAULT_NEED.get(ptype, ())
    return " + ".join(f"{format_number(t.weight, 2)} × {_GROUP_LABELS[t.indicators]}" for t in terms)


def _without_base(wide: pd.DataFrame, indicators: tuple[str, ...]) -> pd.Series:
    """Rows where a count of the group, or the denominator of one of its shares, is 0."""
    bases = {c for c in indicators if c in NO_BASE_STATUS} | {
        BY_NAME[c].weight for c in indicators
        if c in BY_NAME and BY_NAME[c].aggregation == "weighted_mean" and BY_NAME[c].weight in NO_BASE_STATUS
    }
    zero = pd.Series(False, index=wide.index)
    for base in bases:
        if base in wide:
            zero = zero | wide[base].eq(0).fillna(False).astype(bool)
    return zero


def need_for_type(wide: pd.DataFrame, ptype: str, terms: tuple[Term, ...] | None = None
                  ) -> tuple[pd.Series, pd.Series]:
    """Estimated need per buurt and the missing key figures per buurt (comma-separated, '' if none)."""
    terms = terms or DEFAULT_NEED[ptype]
    total = pd.Series(0.0, index=wide.index)
    missing = pd.Series("", index=wide.index, dtype=object)
    for term in terms:
        if term.indicators == ("signalen",) and "signalen" not in wide:
            continue  # no network data: the term does not apply
        absent = [c for c in term.indicators if c not in wide]
        if absent:
            missing = missing + np.where(missing == "", "", ", ") + ", ".join(absent)
            total = total * np.nan
            continue
        # A group of nobody: its count is 0 or a share in it has a base of 0 (the share is then
        # missing with 'geen inwoners', see data.indicators.mask_rates_without_base). Need 0, not unknown.
        no_base = _without_base(wide, term.indicators)
        part = _group(wide, term).where(~no_base, 0.0)
        absent_values = wide[list(term.indicators)].isna()
        absent_values.loc[no_base] = False
        lacking = absent_values.any(axis=1)
        names = pd.Series("", index=wide.index, dtype=object)
        for col in term.indicators:  # the missing figures of each buurt, comma-separated, in formula order
            names = names.where(~absent_values[col], names + np.where(names == "", "", ", ") + col)
        missing = missing.where(~lacking, missing + np.where(missing == "", "", ", ") + names)
        total = total + term.weight * part
    return total.where(missing == ""), missing


def gaps_from_need_and_supply(buurten: gpd.GeoDataFrame, provisions: gpd.GeoDataFrame, *,
                              types: list[str] | None = None, decay: str = "step",
                              need_terms: dict[str, tuple[Term, ...]] | None = None,
                              signals_per_buurt: pd.Series | None = None,
                              catalogue: dict | None = None) -> pd.DataFrame:
    """One row per buurt and provision type: need, accessibility, gap (people and index), in_reach and reason.

    ``in_reach``: a running provision of the type has the buurt's representative point within its effective
    reach (:func:`data.reach.covered_by_type`, the answer the scenarios and the matching share).

    Parameters
    ----------
    buurten : GeoDataFrame
        Buurten (RD New) with area_code, name and indicator columns (wide).
    provisions : GeoDataFrame
        Provisions (RD New) with type, status, capacity_per_year, reach_m, name, funding_end.
    types : list, optional
        Provision types (default: every type in the catalogue).
    decay : str
        'step', 'gaussian' or 'e2sfca'.
    need_terms : dict, optional
        Replacement formulas per type (weights adjustable).
    signals_per_buurt : Series, optional
        Persons with a poor-network signal per buurt code.
    """
    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    types = types or list(catalogue)
    wide = buurten.set_index("area_code")
    if signals_per_buurt is not None:
        wide = wide.assign(signalen=signals_per_buurt.reindex(wide.index).fillna(0))
    inhabited = ~wide.get("water", pd.Series(False, index=wide.index)).fillna(False).astype(bool)
    demand_xy = buurt_xy(buurten)
    counted = provisions.loc[~is_outside(provisions)]  # outside the loaded areas: never counted
    running_mask = is_running(counted)
    in_reach = covered_by_type(demand_xy, counted, types, catalogue)
    rows = []
    for k, ptype in enumerate(types):
        need, missing = need_for_type(wide, ptype, (need_terms or {}).get(ptype))
        need = need.where(inhabited)
        of_type = (counted["type"] == ptype).to_numpy()
        own = counted.loc[of_type]
        running = counted.loc[of_type & running_mask]
        reach = effective_reach_m(running, catalogue)
        access, _ = two_step_fca(demand_xy, need.to_numpy(), np.c_[running.geometry.x, running.geometry.y],
                                 supply_per_year(running, catalogue), reach, decay=decay)
        gap_index = np.clip(1 - access, 0, 1)
        gap = need.to_numpy() * gap_index
        # Nearest running and nearest stopped provision of this type, for the reason text.
        stopped = own.loc[~is_running(own)]
        near_run = _nearest(demand_xy, running)
        near_stop = _nearest(demand_xy, stopped)
        at_risk = _reached_at_risk(demand_xy, running, reach)
        label = catalogue[ptype].label if ptype in catalogue else ptype
        frame = pd.DataFrame({
            "area_code": wide.index, "buurt": wide["name"].to_numpy(), "type": ptype, "soort": label,
            "need": need.to_numpy(), "accessibility": access, "gap_index": np.where(need.notna(), gap_index, np.nan),
            "gap_people": gap, "missing": missing.to_numpy(), "at_risk": at_risk, "in_reach": in_reach[:, k],
        })
        frame["reason"] = _reasons(label, frame, near_run, near_stop, stopped)
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values("gap_people", ascending=False, na_position="last").reset_index(drop=True)


def _nearest(xy: np.ndarray, provisions: gpd.GeoDataFrame, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Distance to and position (in ``provisions``) of the nearest provision per point; inf and -1 if none.

    A k-d tree gives the k nearest candidates; their distances are recomputed with ``np.hypot`` and
    ties go to the first provision, exactly as a full distance matrix with ``argmin`` would.
    """
    dist = np.full(len(xy), np.inf)
    best = np.full(len(xy), -1)
    pxy = np.c_[provisions.geometry.x.to_numpy(), provisions.geometry.y.to_numpy()] if len(provisions) else None
    if pxy is None or len(xy) == 0:
        return dist, best
    valid = np.flatnonzero(np.isfinite(pxy).all(axis=1))
    points = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if len(valid) == 0 or len(points) == 0:
        return dist, best
    k = min(k, len(valid))
    _, cand = cKDTree(pxy[valid]).query(xy[points], k=k)
    cand = valid[cand.reshape(len(points), k)]
    d = np.hypot(xy[points, None, 0] - pxy[cand, 0], xy[points, None, 1] - pxy[cand, 1])
    nearest = d.min(axis=1)
    dist[points] = nearest
    best[points] = np.where(d == nearest[:, None], cand, np.iinfo(cand.dtype).max).min(axis=1)
    return dist, best


def _reached_at_risk(xy: np.ndarray, running: gpd.GeoDataFrame, reach: np.ndarray) -> np.ndarray:
    """Whether an at-risk running provision has the point within its reach (:func:`data.reach.catchment_pairs`)."""
    risky = (running["status"] == "onder_druk").to_numpy()
    out = np.zeros(len(xy), dtype=bool)
    if not risky.any() or len(xy) == 0:
        return out
    pxy = np.c_[running.geometry.x.to_numpy()[risky], running.geometry.y.to_numpy()[risky]]
    i, _, _ = catchment_pairs(xy, pxy, np.asarray(reach, dtype=float)[risky])
    out[i] = True
    return out


def _format_numbers(values: np.ndarray, decimals: int = 0) -> np.ndarray:
    """``format_number`` for an array: the same text ('1.234,5'), without a Babel call per value.

    Rounding is half up on the decimal value, as format_number does; values whose scaled
    fraction is within 1e-6 of a half (where binary and decimal rounding could differ), negative,
    huge or missing values go through format_number itself.
    """
    v = np.asarray(values, dtype=float)
    out = np.empty(len(v), dtype=object)
    scale = 10 ** decimals
    with np.errstate(invalid="ignore"):
        x = v * scale
        fast = np.isfinite(x) & ~np.signbit(v) & (x < 1e9) & (np.abs(x - np.floor(x) - 0.5) > 1e-6)
    rounded = np.floor(x[fast] + 0.5).astype(np.int64)
    if decimals:
        out[fast] = [f"{r // scale:,}".replace(",", ".") + f",{r % scale:0{decimals}d}" for r in rounded.tolist()]
    else:
        out[fast] = [f"{r:,}".replace(",", ".") for r in rounded.tolist()]
    for k in np.flatnonzero(~fast):
        out[k] = format_number(None if np.isnan(v[k]) else float(v[k]), decimals)
    return out


def _reasons(label: str, frame: pd.DataFrame, near_run: tuple[np.ndarray, np.ndarray],
             near_stop: tuple[np.ndarray, np.ndarray], stopped: gpd.GeoDataFrame) -> np.ndarray:
    """The reason text per buurt (vectorised), e.g. '30 mensen in de doelgroep, dichtstbijzijnde
    bezoekdienst 1,0 km, Kring Oost (1,0 km) gestopt per 1 juni 2025'; unknown need names the missing
    figures, no need at all reads 'geen inwoners'."""
    need = frame["need"].to_numpy(float)
    missing = frame["missing"].to_numpy(object)
    known = ~np.isnan(need)
    run_dist, run_at = near_run
    stop_dist, stop_at = near_stop
    has_run, has_stop = run_at >= 0, stop_at >= 0
    lab = label.lower()
    out = np.where(missing != "", "behoefte onbekend: ontbrekende kerncijfers (" + missing + ")",
                   "geen inwoners").astype(object)
    idx = np.flatnonzero(known)
    text = _format_numbers(need[idx]) + " mensen in de doelgroep"
    run_txt = np.full(len(idx), f"geen {lab} in de gemeente", dtype=object)
    with_run = has_run[idx]
    run_txt[with_run] = (f"dichtstbijzijnde {lab} " + _format_numbers(run_dist[idx][with_run] / 1000, 1)) + " km"
    text = text + ", " + run_txt
    show_stop = has_stop[idx] & (~has_run[idx] | (stop_dist[idx] <= run_dist[idx]))
    if show_stop.any():
        at = stop_at[idx][show_stop]
        names = stopped["name"].to_numpy()
        ends = stopped["funding_end"].to_numpy()
        end_txt = {j: format_date(ends[j]) for j in np.unique(at)}
        stop_txt = np.array([f"{names[j]} (" for j in at], dtype=object)
        stop_txt = stop_txt + _format_numbers(stop_dist[idx][show_stop] / 1000, 1) + " km) gestopt"
        stop_txt = stop_txt + np.array([f" per {end_txt[j]}" if end_txt[j] else "" for j in at], dtype=object)
        text[show_stop] = text[show_stop] + ", " + stop_txt
    risk = frame["at_risk"].to_numpy(bool)[idx]
    text[risk] = text[risk] + ", een voorziening binnen bereik staat onder druk"
    out[idx] = text
    return out

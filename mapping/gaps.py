"""Need, accessible supply and gaps ("witte vlekken") per buurt and provision type.

Need is an estimated number of people in a type's target group, from the key figures (and the
persons with a poor-network signal where network data exists). Every formula has a plain-Dutch
description and adjustable weights; a buurt whose figures are missing gets no need (NaN) and the
missing figures are named, never treated as zero. Supply is the 2SFCA accessibility of running
provisions (stopped ones do not count; at-risk ones count and are flagged). The gap is the part of
the need not covered: need × max(0, 1 − A).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from data.formatting import format_date, format_number
from data.provision_types import PROVISION_TYPES
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
        part = _group(wide, term)
        lacking = wide[list(term.indicators)].isna().any(axis=1)
        names = wide[list(term.indicators)].isna().apply(lambda r: ", ".join(r.index[r]), axis=1)
        missing = missing.where(~lacking, missing + np.where(missing == "", "", ", ") + names)
        total = total + term.weight * part
    return total.where(missing == ""), missing


def gaps_from_need_and_supply(buurten: gpd.GeoDataFrame, provisions: gpd.GeoDataFrame, *,
                              types: list[str] | None = None, decay: str = "step",
                              need_terms: dict[str, tuple[Term, ...]] | None = None,
                              signals_per_buurt: pd.Series | None = None,
                              catalogue: dict | None = None) -> pd.DataFrame:
    """One row per buurt and provision type: need, accessibility, gap (people and index) and reason.

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
    centres = buurten.geometry.representative_point()
    demand_xy = np.c_[centres.x.to_numpy(), centres.y.to_numpy()]
    rows = []
    for ptype in types:
        need, missing = need_for_type(wide, ptype, (need_terms or {}).get(ptype))
        need = need.where(inhabited)
        own = provisions.loc[provisions["type"] == ptype]
        running = own.loc[own["status"] != "gestopt"]
        reach = running["reach_m"].fillna(catalogue[ptype].default_reach_m if ptype in catalogue else 1000)
        access, _ = two_step_fca(demand_xy, need.to_numpy(), np.c_[running.geometry.x, running.geometry.y],
                                 running["capacity_per_year"].astype("Float64").fillna(0).to_numpy(float),
                                 reach.to_numpy(float), decay=decay)
        gap_index = np.clip(1 - access, 0, 1)
        gap = need.to_numpy() * gap_index
        # Nearest running and nearest stopped provision of this type, for the reason text.
        near_run = _nearest(demand_xy, running)
        near_stop = _nearest(demand_xy, own.loc[own["status"] == "gestopt"])
        at_risk = _reached_at_risk(demand_xy, running, reach.to_numpy(float))
        label = catalogue[ptype].label if ptype in catalogue else ptype
        frame = pd.DataFrame({
            "area_code": wide.index, "buurt": wide["name"].to_numpy(), "type": ptype, "soort": label,
            "need": need.to_numpy(), "accessibility": access, "gap_index": np.where(need.notna(), gap_index, np.nan),
            "gap_people": gap, "missing": missing.to_numpy(), "at_risk": at_risk,
        })
        frame["reason"] = [
            _reason(label, row, near_run[k], near_stop[k]) for k, row in enumerate(frame.itertuples(index=False))
        ]
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values("gap_people", ascending=False, na_position="last").reset_index(drop=True)


def _nearest(xy: np.ndarray, provisions: gpd.GeoDataFrame) -> list[tuple[float, str, object] | None]:
    if provisions.empty:
        return [None] * len(xy)
    px, py = provisions.geometry.x.to_numpy(), provisions.geometry.y.to_numpy()
    dist = np.hypot(xy[:, None, 0] - px[None, :], xy[:, None, 1] - py[None, :])
    best = dist.argmin(axis=1)
    names = provisions["name"].to_numpy()
    ends = provisions["funding_end"].to_numpy()
    return [(float(dist[k, b]), str(names[b]), ends[b]) for k, b in enumerate(best)]


def _reached_at_risk(xy: np.ndarray, running: gpd.GeoDataFrame, reach: np.ndarray) -> np.ndarray:
    risky = (running["status"] == "onder_druk").to_numpy()
    if not risky.any():
        return np.zeros(len(xy), dtype=bool)
    dist = np.hypot(xy[:, None, 0] - running.geometry.x.to_numpy()[None, :],
                    xy[:, None, 1] - running.geometry.y.to_numpy()[None, :])
    return ((dist <= reach[None, :]) & risky[None, :]).any(axis=1)


def _reason(label: str, row, nearest_running, nearest_stopped) -> str:
    if pd.isna(row.need):
        return f"behoefte onbekend: ontbrekende kerncijfers ({row.missing})" if row.missing else "geen inwoners"
    parts = [f"{format_number(row.need)} mensen in de doelgroep"]
    if nearest_running is None:
        parts.append(f"geen {label.lower()} in de gemeente")
    else:
        parts.append(f"dichtstbijzijnde {label.lower()} {format_number(nearest_running[0] / 1000, 1)} km")
    if nearest_stopped is not None and (nearest_running is None or nearest_stopped[0] <= nearest_running[0]):
        end = format_date(nearest_stopped[2])
        parts.append(f"{nearest_stopped[1]} ({format_number(nearest_stopped[0] / 1000, 1)} km) gestopt"
                     + (f" per {end}" if end else ""))
    if row.at_risk:
        parts.append("een voorziening binnen bereik staat onder druk")
    return ", ".join(parts)

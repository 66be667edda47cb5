"""Aggregates of person data for maps and lists: shares per buurt with small cells hidden, and
suitable provisions within reach of signalled persons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from data.disclosure import MIN_CELL  # counts and rates based on fewer persons are not shown
from data.formatting import format_number
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
)

HIDDEN = f"minder dan {MIN_CELL}"


def format_count(n: float, *, min_persons: int = MIN_CELL) -> str:
    """A count of persons for aggregate views: 'minder dan 5' for 1 to 4, never the small number."""
    if pd.isna(n):
        return ""
    return f"minder dan {min_persons}" if 0 < n < min_persons else format_number(n)


def suppressed(counts: pd.Series, *, min_persons: int = MIN_CELL, total_shown: bool = True,
               already: pd.Series | None = None) -> pd.Series:
    """Which counts of persons to hide: 1 to 4 (primary), and more where a shown total would give them away.

    A total minus the shown parts reveals a single hidden cell (the differencing trick), so while
    fewer than two cells are hidden, or the hidden cells add up to fewer than ``min_persons``, the
    smallest shown non-zero cell is hidden as well (secondary suppression). ``already``: cells hidden
    for another reason (their real values in ``counts`` count in the hidden sum). Returns a boolean mask.
    """
    values = pd.to_numeric(counts, errors="coerce").astype(float).round()
    hidden = (values > 0) & (values < min_persons)
    if already is not None:
        hidden = hidden | already.reindex(values.index).fillna(False).astype(bool)
    if not total_shown or not hidden.any():
        return hidden.fillna(False).astype(bool)
    while hidden.sum() < 2 or values[hidden].sum() < min_persons:
        candidates = values[~hidden & (values > 0)]
        if candidates.empty:
            break
        hidden[candidates.idxmin()] = True
    return hidden.fillna(False).astype(bool)


def signal_share_by_buurt(signals: pd.DataFrame, *, min_persons: int = MIN_CELL) -> pd.DataFrame:
    """Per buurt: persons with data, persons signalled and the share; hidden below ``min_persons``.

    Returns columns measured, signalled, share (percentage) and status ('minder dan 5 personen'
    or 'minder dan 5 met signaal' where hidden: then the counts and the share are missing, never a
    number). Secondary suppression keeps a hidden cell from being worked out from the totals.
    """
    grouped = signals.groupby("buurt_code")["signal"].agg(measured="size", signalled="sum")
    return share_from_counts(grouped["measured"], grouped["signalled"], min_persons=min_persons)


def share_from_counts(measured: pd.Series, signalled: pd.Series, *, min_persons: int = MIN_CELL,
                      hide: pd.Series | None = None) -> pd.DataFrame:
    """The share table of :func:`signal_share_by_buurt` from counts per buurt (same index).

    Parameters
    ----------
    measured, signalled : Series
        Persons with data and persons with a signal per buurt_code (exact, or the protected counts of
        :mod:`data.disclosure`).
    hide : Series of bool, optional
        Buurten whose signalled count must be hidden for another reason (e.g. protected counts whose
        complement, measured minus signalled, is under ``min_persons`` or below 0 by the noise).

    Returns
    -------
    DataFrame
        Index buurt_code; measured, signalled (Int64), share (percentage) and status, as
        :func:`signal_share_by_buurt`.
    """
    # Counts under 5 are hidden, and a second cell where the total would give a hidden one away.
    small = suppressed(measured, min_persons=min_persons)
    rest = measured - signalled  # the complement is a cell too (all but 2 signalled)
    also = small | ((rest > 0) & (rest < min_persons))
    if hide is not None:
        also = also | hide.reindex(measured.index).fillna(False).astype(bool)
    few = suppressed(signalled, min_persons=min_persons, already=also)
    out = pd.DataFrame({
        "measured": measured.where(~small).astype("Int64"),
        "signalled": signalled.where(~few).astype("Int64"),
        "share": (100 * signalled / measured).where(~few),
        "status": np.where(measured < min_persons, f"minder dan {min_persons} personen",
                           np.where(few, "verborgen (kleine aantallen)", None)).astype(object),
    }, index=measured.index)
    out.index.name = "buurt_code"
    return out


NO_PLACES = "vrij toegankelijk, zonder plaatsen"  # a suggestion of a type with visitors only (a buurthuis)


def suitable_provisions(signals: pd.DataFrame, persons: pd.DataFrame, provisions: gpd.GeoDataFrame,
                        buurten: gpd.GeoDataFrame, participation: pd.DataFrame, *,
                        catalogue: dict | None = None, taken: pd.Series | None = None,
                        suitability: dict | None = None, needs: pd.DataFrame | None = None, rules=None,
                        limit: int = 3) -> pd.Series:
    """For each signalled person: running provisions that suit their needs and reach their buurt.

    The definitions are those of :mod:`data.reach` and the matching: a type suits a person when the
    suitability table lists it for one of their needs (:func:`graphs.signals.need_categories`), the
    provision runs and the buurt's representative point lies within its effective reach. A type with
    places is listed with its free places ('8 plekken vrij'; full ones are left out). A type without
    places (a buurthuis) may be suggested as a place to meet, marked :data:`NO_PLACES`, never as a
    free place. Those with free places come first, then the meeting places, nearest first within
    each; at most ``limit`` per person, '; '-separated ('' when none).

    Parameters are as for :func:`graphs.matching.match_signalled`.
    """
    from data.provision_types import PROVISION_TYPES
    from graphs.signals import DEFAULT_RULES, need_categories

    types = PROVISION_TYPES if catalogue is None else catalogue
    flagged = signals.index[signals["signal"].astype(bool).to_numpy()]
    running = provisions.loc[is_running(provisions)].reset_index(drop=True)
    if running.empty or not len(flagged):
        return pd.Series("", index=flagged, dtype=object)
    free = free_places(running, participation if taken is None else taken, types)
    with_places = has_places(running, types)
    shown = ~with_places | (free > 0)
    labels = np.array([f"{name} ({types[t].label if t in types else t}; "
                       + (f"{format_number(r)} plekken vrij" if p else NO_PLACES) + ")"
                       for name, t, r, p in zip(running["name"], running["type"], free, with_places, strict=True)],
                      dtype=object)

    ids = pd.Index(flagged.astype(str))
    base = persons.set_index(persons["person_id"].astype(str))
    base = base.loc[~base.index.duplicated()].reindex(ids)
    if needs is None:
        needs = need_categories(signals, persons, rules=rules or DEFAULT_RULES)
    needs = needs.set_axis(needs.index.astype(str))
    needs = needs.loc[~needs.index.duplicated()]
    need_of = needs.reindex(index=ids, columns=list(NEED_CODES), fill_value=False).eq(True).to_numpy()
    areas = buurten.loc[~buurten["area_code"].duplicated()].reset_index(drop=True)
    row_of = pd.Index(areas["area_code"].astype(object)).get_indexer(
        pd.Index(base["buurt_code"].astype(object).to_numpy()))
    # The answer depends only on (buurt, needs pattern): worked out once per combination, all at once.
    keys = pd.DataFrame({"row": row_of, "pattern": pattern_codes(need_of)})
    groups = keys.drop_duplicates().reset_index(drop=True).rename_axis("group").reset_index()
    i, j, d = reach_pairs(buurt_xy(areas), running, types)
    pairs = pd.DataFrame({"row": i, "j": j, "d": d}).merge(groups, on="row")
    fit = fits(running["type"].to_numpy(dtype=object), ALL_PATTERNS, suitability)
    pairs = pairs.loc[fit[pairs["pattern"].to_numpy(), pairs["j"].to_numpy()] & shown[pairs["j"].to_numpy()]]
    pairs = pairs.assign(meeting=~with_places[pairs["j"].to_numpy()]).sort_values(["group", "meeting", "d", "j"])
    pairs = pairs.loc[pairs.groupby("group").cumcount() < limit]
    text = (pd.Series(labels[pairs["j"].to_numpy()], index=pairs["group"].to_numpy())
            .groupby(level=0, sort=False).agg("; ".join))
    group_of = keys.merge(groups, on=["row", "pattern"], how="left")["group"].to_numpy()
    answer = text.reindex(group_of).fillna("").to_numpy(dtype=object)
    return pd.Series(answer, index=flagged, dtype=object)

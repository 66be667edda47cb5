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
BAND_STEP = 10  # a share shown as a band is rounded down to a multiple of this many percent
FEW_PERSONS = f"minder dan {MIN_CELL} personen"  # the status of a buurt with too few persons to show anything
HIDDEN_STATUS = "verborgen (kleine aantallen)"
BAND_STATUS = f"minder dan {MIN_CELL} zonder signaal"  # the share is a band: 'at least ...%'


def format_count(n: float, *, min_persons: int = MIN_CELL) -> str:
    """A count of persons for aggregate views: 'minder dan 5' for 1 to 4, never the small number."""
    if pd.isna(n):
        return ""
    return f"minder dan {min_persons}" if 0 < n < min_persons else format_number(n)


def format_share(share: float, at_least: float | None = None) -> str:
    """A share for aggregate views: '62%', a band '80% of meer' (see :func:`share_from_counts`), or ''."""
    if pd.notna(share):
        return f"{format_number(share)}%"
    if at_least is not None and pd.notna(at_least):
        return f"{format_number(at_least)}% of meer"
    return ""


def share_band(measured: pd.Series, *, min_persons: int = MIN_CELL) -> pd.Series:
    """The lower bound (percent) of the band shown for a share whose complement is 1 to ``min_persons - 1``.

    ``floor((measured - (min_persons - 1)) / measured * 100 / BAND_STEP) * BAND_STEP``: the smallest share
    the complement allows, rounded down to a step of :data:`BAND_STEP`. It depends on the (shown) number
    of persons only, never on the complement itself, so the band is the same for a complement of 1, 2, 3
    or 4 and gives away no more than 'minder dan 5 zonder signaal'. Only from ``2 * min_persons - 1`` (9)
    persons: below that some complement of 1 to 4 would leave fewer than 5 with a signal (hidden as small),
    and whether a band is shown would then tell which complements are possible (for 6 persons: exactly 1).
    NaN where there is no band.
    """
    m = pd.to_numeric(measured, errors="coerce").astype(float)
    lowest = 100 * (m - (min_persons - 1)) / m
    return (np.floor(lowest / BAND_STEP) * BAND_STEP).where(m >= 2 * min_persons - 1)


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


def suppressed_nested(counts: pd.Series, groups: pd.Series, *, min_persons: int = MIN_CELL,
                      already: pd.Series | None = None) -> pd.Series:
    """Which counts to hide when a total is shown per group (wijk) *and* for all groups (gemeente).

    :func:`suppressed` protects one table against its one total. Reports of the same data for each
    wijk and for the whole gemeente show every wijk total and the gemeente total, so a mask made per
    report leaks: a cell hidden as a complement in a wijk report may be shown in the gemeente report
    and then, with the wijk total, gives the small cell away. This mask is computed once over all
    cells and holds for every report of the same data:

    1. primary: counts of 1 to ``min_persons - 1`` (and ``already``);
    2. the group totals themselves are counts: a group total of 1 to 4 is hidden, and another group
       total where the overall total would give it away (:func:`suppressed` over the group totals);
    3. repeated until nothing changes, hiding each time the smallest shown non-zero cell of a total
       that still leaks: (a) a group with a shown total whose hidden cells are a single cell or add
       up to fewer than ``min_persons``; (b) a group whose total is hidden but none of whose cells
       are (its shown cells would add up to that total); (c) the same as (a) for the overall total.

    Afterwards no shown total, minus the shown cells it covers, leaves a single hidden cell or a
    hidden sum under ``min_persons``, as far as shown non-zero cells are left to hide (counts are
    rounded to whole persons first, as they are shown). With one group the mask equals :func:`suppressed`'s.

    Parameters
    ----------
    counts : Series
        Persons per cell (e.g. per buurt); rounded to whole persons; missing values are never hidden.
    groups : Series
        The group (e.g. wijk code) of each cell, same index; a missing group is a group of its own.
    min_persons : int
        Counts below this (and above 0) are hidden.
    already : Series of bool, optional
        Cells hidden for another reason; their real values count in the hidden sums.

    Returns
    -------
    Series of bool
        True where the cell is hidden, same index as ``counts``.
    """
    values = pd.to_numeric(counts, errors="coerce").astype(float).round()
    group = groups.reindex(values.index).astype(object).where(groups.reindex(values.index).notna(), "")
    hidden = ((values > 0) & (values < min_persons)).fillna(False).astype(bool)
    if already is not None:
        hidden = hidden | already.reindex(values.index).fillna(False).astype(bool)
    totals = pd.to_numeric(counts, errors="coerce").astype(float).groupby(group, sort=False).sum(min_count=1)
    total_hidden = suppressed(totals, min_persons=min_persons).reindex(group.to_numpy()).to_numpy()
    positive = (values > 0).to_numpy()
    while True:
        weight = values.where(hidden, 0.0).fillna(0.0)
        n_hidden = hidden.groupby(group, sort=False).transform("sum").to_numpy()
        sum_hidden = weight.groupby(group, sort=False).transform("sum").to_numpy()
        leaks = np.where(total_hidden, n_hidden == 0,
                         (n_hidden > 0) & ((n_hidden < 2) | (sum_hidden < min_persons)))
        open_cells = ~hidden.to_numpy() & positive
        overall = hidden.any() and (hidden.sum() < 2 or weight.sum() < min_persons)
        pick = pd.DataFrame({"value": values.to_numpy(), "group": group.to_numpy(),
                             "row": np.arange(len(values))}).loc[open_cells]
        # The smallest open cell of each leaking group, and (for the overall total) of all.
        rows = (pick.loc[leaks[open_cells]].sort_values("value", kind="stable")
                .drop_duplicates("group")["row"].to_numpy())
        if overall and not len(rows) and len(pick):
            rows = pick.sort_values("value", kind="stable")["row"].to_numpy()[:1]
        if not len(rows):
            return hidden.astype(bool)
        hidden.iloc[rows] = True


def signal_share_by_buurt(signals: pd.DataFrame, *, min_persons: int = MIN_CELL) -> pd.DataFrame:
    """Per buurt: persons with data, persons signalled and the share; hidden below ``min_persons``.

    Returns columns measured, signalled, share (percentage) and status ('minder dan 5 personen'
    or 'minder dan 5 met signaal' where hidden: then the counts and the share are missing, never a
    number). Secondary suppression keeps a hidden cell from being worked out from the totals.
    """
    grouped = signals.groupby("buurt_code")["signal"].agg(measured="size", signalled="sum")
    return share_from_counts(grouped["measured"], grouped["signalled"], min_persons=min_persons)


def share_from_counts(measured: pd.Series, signalled: pd.Series, *, min_persons: int = MIN_CELL,
                      hide: pd.Series | None = None, band: pd.Series | None = None) -> pd.DataFrame:
    """The share table of :func:`signal_share_by_buurt` from counts per buurt (same index).

    The rules, in this order:

    1. fewer than ``min_persons`` persons with data: nothing is shown (status 'minder dan 5 personen'),
       and a second buurt's count where a total would give that one away (:func:`suppressed`);
    2. 1 to 4 persons **without** a signal (the complement is a cell too) while the count of persons is
       shown and is at least ``2 * min_persons - 1`` (so that at least ``min_persons`` are signalled
       whatever the complement): the share is shown as a **band**, 'X% of meer' (``share_at_least``,
       :func:`share_band`), instead of being hidden: a buurt where almost everyone has a signal stays
       visible. The signalled count is not shown (with the count of persons it would give the complement
       away) and counts as a hidden cell below; every figure of the table is then the same for a
       complement of 1, 2, 3 or 4;
    3. 1 to 4 persons with a signal, and a second buurt where a total would give a hidden signalled count
       away (secondary suppression over every hidden cell, bands included): hidden (status 'verborgen
       (kleine aantallen)').

    Parameters
    ----------
    measured, signalled : Series
        Persons with data and persons with a signal per buurt_code (exact, or the protected counts of
        :mod:`data.disclosure`).
    hide : Series of bool, optional
        Buurten whose signalled count must be hidden for another reason (e.g. a protected 0, which is 0
        to 4 persons).
    band : Series of bool, optional
        Buurten to show as a band for another reason (e.g. protected counts whose complement is under
        ``min_persons`` or below 0 by the noise); rule 2's conditions on the counts still apply.

    Returns
    -------
    DataFrame
        Index buurt_code; measured, signalled (Int64), share (percentage, exact), share_at_least (the
        band's lower bound in percent, only where the share is a band) and status ('minder dan 5
        personen', 'minder dan 5 zonder signaal' for a band, 'verborgen (kleine aantallen)' or None).
    """
    small = suppressed(measured, min_persons=min_persons)
    rest = measured - signalled
    near_all = (rest > 0) & (rest < min_persons)
    if band is not None:
        near_all = near_all | band.reindex(measured.index).fillna(False).astype(bool)
    banded = near_all & ~small & share_band(measured, min_persons=min_persons).notna() & (signalled >= min_persons)
    also = small | near_all
    if hide is not None:
        also = also | hide.reindex(measured.index).fillna(False).astype(bool)
        banded = banded & ~hide.reindex(measured.index).fillna(False).astype(bool)
    few = suppressed(signalled, min_persons=min_persons, already=also)
    banded = banded & few  # hidden as a count; shown as a band unless hidden for another reason
    hidden = few & ~banded
    out = pd.DataFrame({
        "measured": measured.where(~small).astype("Int64"),
        "signalled": signalled.where(~few).astype("Int64"),
        "share": (100 * signalled / measured).where(~few),
        "share_at_least": share_band(measured, min_persons=min_persons).where(banded),
        "status": np.where(measured < min_persons, FEW_PERSONS,
                           np.where(banded, BAND_STATUS, np.where(hidden, HIDDEN_STATUS, None))).astype(object),
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

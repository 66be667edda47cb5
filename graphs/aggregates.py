"""Aggregates of person data for maps and lists: shares per buurt with small cells hidden, and
suitable provisions within reach of signalled persons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from data.disclosure import MIN_CELL  # counts and rates based on fewer persons are not shown
from data.formatting import format_number

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


SUITABLE_TYPES = ("grip_en_glans", "maatjesproject", "buurthuis", "sociaal_cultureel_werk")


def suitable_provisions(signals: pd.DataFrame, persons: pd.DataFrame, provisions: gpd.GeoDataFrame,
                        buurten: gpd.GeoDataFrame, participation: pd.DataFrame, *,
                        catalogue: dict | None = None, taken: pd.Series | None = None) -> pd.Series:
    """For each signalled person: running provisions that fit and reach their buurt, with room left.

    Fit: groups that build networks (Grip & Glans, maatjes, buurthuis, sociaal-cultureel werk) for
    everyone; the visiting service for the widowed. Reach: the buurt's centre lies within the
    provision's reach. Room: capacity per year minus current participants.
    """
    from data.provision_types import PROVISION_TYPES

    types = PROVISION_TYPES if catalogue is None else catalogue
    running = provisions.loc[provisions["status"] != "gestopt"].reset_index(drop=True)
    if running.empty or not signals["signal"].any():
        return pd.Series("", index=signals.index[signals["signal"]])
    counts = participation.groupby("provision_id").size() if taken is None else taken  # taken: all participants
    taken = counts.reindex(running["provision_id"], fill_value=0).fillna(0).to_numpy(dtype=float)
    room = running["capacity_per_year"].astype("Float64").fillna(0).to_numpy(dtype=float) - taken
    centres = buurten.set_index("area_code").geometry.centroid
    codes = centres.index
    dist = np.hypot(centres.x.to_numpy()[:, None] - running.geometry.x.to_numpy()[None, :],
                    centres.y.to_numpy()[:, None] - running.geometry.y.to_numpy()[None, :])
    default_reach = running["type"].map({c: t.default_reach_m for c, t in types.items()}).astype(float)
    reach = dist <= running["reach_m"].astype(float).fillna(default_reach).fillna(0).to_numpy()[None, :]
    labels = [f"{name} ({types[t].label if t in types else t}; "
              + (f"{format_number(r)} plekken vrij" if r > 0 else "vol") + ")"
              for name, t, r in zip(running["name"], running["type"], room, strict=True)]
    general = running["type"].isin(SUITABLE_TYPES).to_numpy()
    widow_type = (running["type"] == "bezoekdienst_weduwen").to_numpy()
    base = persons.set_index(persons["person_id"].astype("string"))
    flagged = signals.index[signals["signal"]]
    widowed = base.loc[flagged, "widowed_since"].notna().to_numpy()
    row_of = codes.get_indexer(base.loc[flagged, "buurt_code"])
    # The answer depends only on (buurt, widowed): work it out once per combination.
    keys = pd.DataFrame({"row": row_of, "widowed": widowed})
    labels = np.array(labels, dtype=object)
    answers = {}
    for row, is_widowed in keys.drop_duplicates().itertuples(index=False):
        if row < 0:
            answers[(row, is_widowed)] = ""
            continue
        fit = reach[row] & (general | (widow_type & is_widowed)) & (room > 0)
        order = np.argsort(dist[row][fit])
        answers[(row, is_widowed)] = "; ".join(labels[fit][order][:3])
    return pd.Series([answers[k] for k in zip(keys["row"], keys["widowed"], strict=True)], index=flagged)

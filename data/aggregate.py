"""Aggregate buurt key figures to wijk and gemeente by the catalogue's rules."""

from __future__ import annotations

import pandas as pd

from data.indicators import BY_NAME


def aggregate_indicators(wide: pd.DataFrame, by: pd.Series) -> pd.DataFrame:
    """Aggregate indicator columns of ``wide`` over the groups ``by``.

    Counts are summed, rates are averaged weighted by their denominator (inhabitants or
    households), indicators with aggregation ``none`` are left out. Missing values never
    count as zero: a sum over a group with only missing values is missing, and a rate
    uses only the rows where both the rate and its weight are known. An area whose
    denominator is 0 adds nothing to a rate (its 0% or 100% describes nobody), and a group
    whose denominator is 0 in total gets no rate (NaN); its stored count of 0 makes readers
    label it 'geen inwoners' (:func:`data.indicators.mask_rates_without_base`).

    Parameters
    ----------
    wide : DataFrame
        One row per area, one column per indicator (catalogue names), NaN for missing.
    by : Series
        Group key per row (e.g. the wijk code), aligned with ``wide``.

    Returns
    -------
    DataFrame
        One row per group, indexed by the group key.
    """
    cols = [c for c in wide.columns if c in BY_NAME and BY_NAME[c].aggregation != "none"]
    sums = [c for c in cols if BY_NAME[c].aggregation == "sum"]
    out = wide[sums].groupby(by.to_numpy()).sum(min_count=1)
    for col in cols:
        ind = BY_NAME[col]
        if ind.aggregation != "weighted_mean" or ind.weight not in wide:
            continue
        value, weight = wide[col], wide[ind.weight]
        known = value.notna() & weight.notna()
        num = (value * weight).where(known).groupby(by.to_numpy()).sum(min_count=1)
        den = weight.where(known).groupby(by.to_numpy()).sum(min_count=1)
        out[col] = num / den.where(den > 0)
    return out

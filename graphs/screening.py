"""Screening instruments: LSNS-6 (Lubben) and the De Jong Gierveld loneliness scales.

These scores screen groups; they do not diagnose an individual.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LSNS_ITEMS = [f"lsns_{i}" for i in range(1, 7)]
LSNS_AT_RISK_BELOW = 12
DJG_ITEMS = [f"djg_{i}" for i in range(1, 12)]
# Negatively worded items (emotional loneliness) score 1 on 'ja' or 'min of meer';
# positively worded items (social loneliness) score 1 on 'nee' or 'min of meer'.
DJG_NEGATIVE = (2, 3, 5, 6, 9, 10)
DJG_POSITIVE = (1, 4, 7, 8, 11)
# The 6-item short scale uses three of each.
DJG6_NEGATIVE = (3, 9, 10)
DJG6_POSITIVE = (4, 7, 8)
SCREENING_NOTE = ("LSNS-6 en De Jong Gierveld zijn screeningsinstrumenten: ze helpen groepen en "
                  "signalen te zien, maar stellen geen diagnose bij een persoon.")


def lsns6_item(count: np.ndarray | pd.Series) -> np.ndarray:
    """Score one LSNS-6 item from a number of people: 0, 1, 2, 3-4, 5-8, 9+ -> 0..5."""
    return np.searchsorted(np.array([1, 2, 3, 5, 9]), np.asarray(count), side="right")


def lsns6_scores(persons: pd.DataFrame) -> pd.DataFrame:
    """LSNS-6 total (0-30, missing when any item is missing) and the at-risk flag (< 12)."""
    items = persons[LSNS_ITEMS].apply(pd.to_numeric, errors="coerce")
    total = items.sum(axis=1, min_count=6).where(items.notna().all(axis=1))
    return pd.DataFrame({"lsns6": total.astype("Float64"),
                         "lsns6_at_risk": (total < LSNS_AT_RISK_BELOW).where(total.notna()).astype("boolean")},
                        index=persons.index)


def _djg_points(answers: pd.DataFrame, negative: tuple, positive: tuple) -> tuple[pd.Series, pd.Series]:
    norm = answers.apply(lambda c: c.astype("string").str.strip().str.lower())
    neg = sum((norm[f"djg_{i}"].isin(["ja", "min of meer"])).astype(int) for i in negative)
    pos = sum((norm[f"djg_{i}"].isin(["nee", "min of meer"])).astype(int) for i in positive)
    complete = norm[[f"djg_{i}" for i in (*negative, *positive)]].isin(["ja", "nee", "min of meer"]).all(axis=1)
    return neg.where(complete), pos.where(complete)


def djg_scores(persons: pd.DataFrame) -> pd.DataFrame:
    """De Jong Gierveld 11-item total (0-11), emotional (0-6) and social (0-5) subscales, bands,
    and the 6-item total (0-6), all missing where answers are incomplete."""
    emotional, social = _djg_points(persons[DJG_ITEMS], DJG_NEGATIVE, DJG_POSITIVE)
    total = emotional + social
    e6, s6 = _djg_points(persons[DJG_ITEMS], DJG6_NEGATIVE, DJG6_POSITIVE)
    band = pd.cut(total, bins=[-1, 2, 8, 10, 11],
                  labels=["niet eenzaam", "matig eenzaam", "ernstig eenzaam", "zeer ernstig eenzaam"])
    return pd.DataFrame({
        "djg11": total.astype("Float64"),
        "djg11_emotional": emotional.astype("Float64"),
        "djg11_social": social.astype("Float64"),
        "djg11_lonely": (total >= 3).where(total.notna()).astype("boolean"),
        "djg11_severe": (total >= 9).where(total.notna()).astype("boolean"),
        "djg11_band": band.astype("string"),
        "djg6": (e6 + s6).astype("Float64"),
    }, index=persons.index)

"""Screening instruments: LSNS-6 (Lubben) and the De Jong Gierveld loneliness scales.

These scores screen groups; they do not diagnose an individual.

Scoring rules, as published:

- **LSNS-6** (Lubben et al., 2006, *The Gerontologist* 46(4)): six items scored 0-5, total 0-30, below
  12 at risk of social isolation. Items 1-3 ask about relatives (family subscale), items 4-6 about
  friends (friends subscale), each 0-15; a subscale below 6 marks a thin family or friends network.
  A total or subscale is missing when one of its items is.
- **De Jong Gierveld, 11 items** (De Jong Gierveld & Kamphuis, 1985; manual by De Jong Gierveld &
  Van Tilburg, 1999): answers 'ja' / 'min of meer' / 'nee'. The six negatively worded items (2, 3,
  5, 6, 9, 10) form the emotional subscale (0-6) and score 1 on 'ja' or 'min of meer'; the five
  positively worded items (1, 4, 7, 8, 11) form the social subscale (0-5) and score 1 on 'nee' or
  'min of meer' (the neutral answer counts as lonely on both). Total 0-11: 3+ lonely, 9+ severely
  lonely (RIVM/GGD bands). A subscale needs all its items, the total all 11.
- **De Jong Gierveld, 6 items** (De Jong Gierveld & Van Tilburg, 2006, *Research on Aging* 28(5)):
  emotional items 3, 9, 10 and social items 4, 7, 8 of the 11-item list, scored the same way; each
  subscale 0-3 (missing when one of its items is), total 0-6, missing when more than one item is
  missing (the manual's SPSS syntax: ``if (mlones>1) lones=-1``). Bands 0-1 not lonely, 2-4
  moderately, 5-6 severely lonely.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LSNS_ITEMS = [f"lsns_{i}" for i in range(1, 7)]
LSNS_AT_RISK_BELOW = 12
LSNS_FAMILY_ITEMS = LSNS_ITEMS[:3]
LSNS_FRIENDS_ITEMS = LSNS_ITEMS[3:]
LSNS_SUBSCALE_LOW_BELOW = 6  # Lubben et al. (2006): below 6 on a subscale
DJG_ITEMS = [f"djg_{i}" for i in range(1, 12)]
# Negatively worded items (emotional loneliness) score 1 on 'ja' or 'min of meer';
# positively worded items (social loneliness) score 1 on 'nee' or 'min of meer'.
DJG_NEGATIVE = (2, 3, 5, 6, 9, 10)
DJG_POSITIVE = (1, 4, 7, 8, 11)
# The 6-item short scale uses three of each.
DJG6_NEGATIVE = (3, 9, 10)
DJG6_POSITIVE = (4, 7, 8)
DJG6_MAX_MISSING = 1  # the short scale's total allows one unanswered item
DJG_ANSWERS = ("ja", "min of meer", "nee")
SCREENING_NOTE = ("LSNS-6 en De Jong Gierveld zijn screeningsinstrumenten: ze helpen groepen en "
                  "signalen te zien, maar stellen geen diagnose bij een persoon.")


def lsns6_item(count: np.ndarray | pd.Series) -> np.ndarray:
    """Score one LSNS-6 item from a number of people: 0, 1, 2, 3-4, 5-8, 9+ -> 0..5."""
    return np.searchsorted(np.array([1, 2, 3, 5, 9]), np.asarray(count), side="right")


def lsns6_scores(persons: pd.DataFrame) -> pd.DataFrame:
    """LSNS-6 total (0-30) and at-risk flag (< 12); family (items 1-3) and friends (items 4-6) subscales
    (0-15) with their low flags (< 6). Each is missing when one of its items is."""
    items = persons[LSNS_ITEMS].apply(pd.to_numeric, errors="coerce")

    def total(columns: list[str]) -> pd.Series:
        return items[columns].sum(axis=1).where(items[columns].notna().all(axis=1))

    def below(score: pd.Series, threshold: float) -> pd.Series:
        return (score < threshold).where(score.notna()).astype("boolean")

    lsns, family, friends = total(LSNS_ITEMS), total(LSNS_FAMILY_ITEMS), total(LSNS_FRIENDS_ITEMS)
    return pd.DataFrame({"lsns6": lsns.astype("Float64"),
                         "lsns6_at_risk": below(lsns, LSNS_AT_RISK_BELOW),
                         "lsns6_family": family.astype("Float64"),
                         "lsns6_family_low": below(family, LSNS_SUBSCALE_LOW_BELOW),
                         "lsns6_friends": friends.astype("Float64"),
                         "lsns6_friends_low": below(friends, LSNS_SUBSCALE_LOW_BELOW)},
                        index=persons.index)


def _djg_items(persons: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per item: 1 where the answer scores as lonely, 0 where it does not; and which items were answered."""
    norm = persons[DJG_ITEMS].apply(lambda c: c.astype("string").str.strip().str.lower())
    answered = norm.isin(DJG_ANSWERS).fillna(False).astype(bool)
    lonely_answer = {i: ("ja" if i in DJG_NEGATIVE else "nee") for i in range(1, 12)}
    points = pd.DataFrame({f"djg_{i}": norm[f"djg_{i}"].isin([lonely_answer[i], "min of meer"]).fillna(False)
                           .astype(int) for i in range(1, 12)}, index=persons.index)
    return points, answered


def _djg_sum(points: pd.DataFrame, answered: pd.DataFrame, items: tuple, max_missing: int = 0) -> pd.Series:
    columns = [f"djg_{i}" for i in items]
    missing = (~answered[columns]).sum(axis=1)
    return points[columns].sum(axis=1).where(missing <= max_missing)


def djg_scores(persons: pd.DataFrame) -> pd.DataFrame:
    """De Jong Gierveld 11-item total (0-11), emotional (0-6) and social (0-5) subscales and band, and the
    6-item total (0-6), its emotional and social subscales (0-3 each) and band; missing where answers are
    missing as the module docstring says."""
    points, answered = _djg_items(persons)
    emotional = _djg_sum(points, answered, DJG_NEGATIVE)
    social = _djg_sum(points, answered, DJG_POSITIVE)
    total = emotional + social
    e6, s6 = _djg_sum(points, answered, DJG6_NEGATIVE), _djg_sum(points, answered, DJG6_POSITIVE)
    total6 = _djg_sum(points, answered, (*DJG6_NEGATIVE, *DJG6_POSITIVE), DJG6_MAX_MISSING)
    band = pd.cut(total, bins=[-1, 2, 8, 10, 11],
                  labels=["niet eenzaam", "matig eenzaam", "ernstig eenzaam", "zeer ernstig eenzaam"])
    band6 = pd.cut(total6, bins=[-1, 1, 4, 6], labels=["niet eenzaam", "matig eenzaam", "ernstig eenzaam"])
    return pd.DataFrame({
        "djg11": total.astype("Float64"),
        "djg11_emotional": emotional.astype("Float64"),
        "djg11_social": social.astype("Float64"),
        "djg11_lonely": (total >= 3).where(total.notna()).astype("boolean"),
        "djg11_severe": (total >= 9).where(total.notna()).astype("boolean"),
        "djg11_band": band.astype("string"),
        "djg6": total6.astype("Float64"),
        "djg6_emotional": e6.astype("Float64"),
        "djg6_social": s6.astype("Float64"),
        "djg6_band": band6.astype("string"),
    }, index=persons.index)

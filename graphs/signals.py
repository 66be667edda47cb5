"""The poor-network signal: configurable rules, with the reasons for every signalled person in Dutch.

Default rules (any one is enough): LSNS-6 below 12; no one for emotional support; fewer than three
informal ties. Persons without screening answers are judged on their network alone, and the
reasons say so. A signal is a reason to look and ask, not a judgement about a person.

:func:`signal_table` is the one pipeline from the store tables to the signal table (measures,
screening scores, signal, reasons and needs): the pages (through the access layer), the command
line and the access layer's aggregates all call it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from graphs.measures import person_measures
from graphs.screening import djg_scores, lsns6_scores


@dataclass(frozen=True)
class SignalRules:
    """Thresholds of the poor-network signal; ``None`` switches a rule off."""

    lsns_below: float | None = 12
    min_emotional: int | None = 1
    min_practical: int | None = None
    min_informal: int | None = 3
    djg_at_least: float | None = None  # e.g. 9: severely lonely

    def describe(self) -> list[str]:
        """The active rules in plain Dutch."""
        out = []
        if self.lsns_below is not None:
            out.append(f"LSNS-6 lager dan {self.lsns_below:g}")
        if self.min_emotional is not None:
            out.append("niemand voor emotionele steun" if self.min_emotional == 1
                       else f"minder dan {self.min_emotional} mensen voor emotionele steun")
        if self.min_practical is not None:
            out.append("niemand voor praktische steun" if self.min_practical == 1
                       else f"minder dan {self.min_practical} mensen voor praktische steun")
        if self.min_informal is not None:
            out.append(f"minder dan {self.min_informal} informele contacten")
        if self.djg_at_least is not None:
            out.append(f"De Jong Gierveld-score {self.djg_at_least:g} of hoger")
        return out


DEFAULT_RULES = SignalRules()


def poor_network_signals(persons: pd.DataFrame, ties: pd.DataFrame, participation: pd.DataFrame | None = None,
                         *, rules: SignalRules = DEFAULT_RULES,
                         measures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Apply the rules to every person.

    Returns
    -------
    DataFrame
        Index person_id; columns buurt_code, age_band, screened, lsns6, djg11, the network measures,
        ``signal`` (bool) and ``reasons`` (Dutch, '; '-separated; empty when not signalled).
    """
    m = measures if measures is not None else person_measures(persons, ties, participation)
    base = persons.set_index(persons["person_id"].astype("string"))
    scores = pd.concat([lsns6_scores(base), djg_scores(base)], axis=1)
    out = base[["buurt_code", "age_band"]].join(scores).join(m)
    screened = out["lsns6"].notna() | out["djg11"].notna()
    out["screened"] = screened.astype(bool)
    reasons: list[pd.Series] = []

    def add(mask: pd.Series, text: pd.Series | str) -> None:
        reasons.append(pd.Series(np.where(mask.fillna(False).astype(bool), text, ""), index=out.index))

    if rules.lsns_below is not None:
        add(out["lsns6"] < rules.lsns_below,
            "LSNS-6 = " + out["lsns6"].astype("Int64").astype("string").fillna("")
            + f" (lager dan {rules.lsns_below:g})")
    if rules.min_emotional is not None:
        add(out["emotional_supporters"] < rules.min_emotional,
            "geen emotionele steun" if rules.min_emotional == 1 else
            out["emotional_supporters"].astype(str) + " mensen voor emotionele steun")
    if rules.min_practical is not None:
        add(out["practical_supporters"] < rules.min_practical,
            "geen praktische steun" if rules.min_practical == 1 else
            out["practical_supporters"].astype(str) + " mensen voor praktische steun")
    if rules.min_informal is not None:
        n = out["informal_size"]
        add(n < rules.min_informal,
            np.where(n == 0, "geen informele contacten",
                     n.astype(str) + np.where(n == 1, " informeel contact", " informele contacten")
                     + f" (minder dan {rules.min_informal})"))
    if rules.djg_at_least is not None:
        add(out["djg11"] >= rules.djg_at_least,
            "De Jong Gierveld = " + out["djg11"].astype("Int64").astype("string").fillna(""))
    joined = pd.Series("", index=out.index, dtype=object)
    for part in reasons:  # one pass per rule (a handful), each over everyone at once; also for 0 persons
        joined = pd.Series(np.where((joined != "") & (part != ""), joined + "; " + part, joined + part),
                           index=out.index, dtype=object)
    out["signal"] = joined != ""
    note = "geen vragenlijst: alleen op netwerkgegevens beoordeeld"
    out["reasons"] = np.where(out["signal"] & ~screened, joined + "; " + note, joined)
    return out


# A De Jong Gierveld subscale counts as high from half of its items (rounded up): emotional 3 of 6,
# social 3 of 5; on the 6-item short scale 2 of 3 for each (used when the 11-item subscale is missing).
# The subscales screen groups, as the total does; they do not diagnose a person.
DJG_EMOTIONAL_HIGH = 3
DJG_SOCIAL_HIGH = 3
DJG6_SUBSCALE_HIGH = 2
NEED_PREFIX = "need_"


def need_categories(signals: pd.DataFrame, persons: pd.DataFrame, *, rules: SignalRules = DEFAULT_RULES
                    ) -> pd.DataFrame:
    """What each signalled person needs, for the suitability table (see :data:`data.provision_types.NEEDS`).

    The rule (any combination can hold; persons without a signal get none):

    * ``verweduwd``: the person is widowed (``persons.widowed_since`` is set);
    * ``emotioneel`` (points to individual support: a visiting service, a maatje): fewer people for
      emotional support than the emotional-support rule asks (``rules.min_emotional``, else 1:
      nobody), or a high De Jong Gierveld emotional subscale (:data:`DJG_EMOTIONAL_HIGH` or more of
      6; without the 11 items, :data:`DJG6_SUBSCALE_HIGH` or more of 3 on the short scale);
    * ``sociaal`` (points to groups): fewer informal contacts than the rule asks
      (``rules.min_informal``, else 3), an LSNS-6 below its threshold (``rules.lsns_below``, else
      12), or a high De Jong Gierveld social subscale (:data:`DJG_SOCIAL_HIGH` or more of 5; without
      the 11 items, :data:`DJG6_SUBSCALE_HIGH` or more of 3 on the short scale).

    The subscales are scored as in :mod:`graphs.screening` (the neutral answer counts as lonely).

    The thresholds follow the rules in use, so whoever a rule signals gets the matching need, and a
    switched-off rule still describes the person's network. A signal that fits none of these (e.g.
    only 'no one for practical support') gives no need: no collective provision in the table suits it.
    Missing measures or answers never indicate a need.

    Parameters
    ----------
    signals : DataFrame
        Output of :func:`poor_network_signals` (index person_id; ``signal`` and the measure and
        score columns; any that are absent count as not indicating a need).
    persons : DataFrame
        Store table (``person_id``, ``widowed_since``).

    Returns
    -------
    DataFrame
        Index as ``signals``; one boolean column per need, in the order of ``NEEDS``.
    """
    from data.provision_types import NEEDS

    def column(name: str) -> pd.Series:
        if name not in signals:
            return pd.Series(np.nan, index=signals.index, dtype=float)
        return pd.to_numeric(signals[name], errors="coerce").astype(float)

    def below(name: str, threshold: float) -> np.ndarray:
        return (column(name) < threshold).to_numpy(dtype=bool)  # NaN < x is False

    def at_least(name: str, threshold: float) -> np.ndarray:
        return (column(name) >= threshold).to_numpy(dtype=bool)

    flagged = signals["signal"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    widowed_ids = persons.loc[persons["widowed_since"].notna(), "person_id"].astype(str)
    widowed = signals.index.astype(str).isin(widowed_ids)
    def subscale_high(long: str, short: str, threshold: int) -> np.ndarray:
        # The 11-item subscale where it was answered, else the short scale's.
        return np.where(column(long).notna().to_numpy(), at_least(long, threshold),
                        at_least(short, DJG6_SUBSCALE_HIGH))

    emotional = (below("emotional_supporters", rules.min_emotional or 1)
                 | subscale_high("djg11_emotional", "djg6_emotional", DJG_EMOTIONAL_HIGH))
    social = (below("informal_size", rules.min_informal or 3) | below("lsns6", rules.lsns_below or 12)
              | subscale_high("djg11_social", "djg6_social", DJG_SOCIAL_HIGH))
    values = {"verweduwd": widowed, "emotioneel": emotional, "sociaal": social}
    return pd.DataFrame({need: values[need] & flagged for need in NEEDS}, index=signals.index)


def signal_table(persons: pd.DataFrame, ties: pd.DataFrame, participation: pd.DataFrame | None = None,
                 alter_links: pd.DataFrame | None = None, *, rules: SignalRules = DEFAULT_RULES,
                 measures: pd.DataFrame | None = None) -> pd.DataFrame:
    """The one pipeline from the store tables to the signal table.

    Network measures (:func:`graphs.measures.person_measures`, each person's own report), screening
    scores (:mod:`graphs.screening`), the signal with its reasons (:func:`poor_network_signals`) and
    the needs (:func:`need_categories`, as ``need_<need>`` columns; read them with :func:`needs_of`),
    all under the same ``rules``.

    Parameters
    ----------
    persons, ties, participation, alter_links : DataFrame
        The store tables (participation and alter_links may be None).
    rules : SignalRules
        The rules of the signal (and the thresholds of the needs).
    measures : DataFrame, optional
        Measures already computed from the same tables (they do not depend on the rules).

    Returns
    -------
    DataFrame
        Index person_id; the columns of :func:`poor_network_signals` and one boolean column per need.
    """
    m = measures if measures is not None else person_measures(persons, ties, participation, alter_links)
    signals = poor_network_signals(persons, ties, participation, rules=rules, measures=m)
    needs = need_categories(signals, persons, rules=rules)
    return signals.join(needs.add_prefix(NEED_PREFIX))


def needs_of(table: pd.DataFrame) -> pd.DataFrame:
    """The need columns of a :func:`signal_table` as :func:`need_categories` gives them (columns in NEEDS order)."""
    from data.provision_types import NEEDS

    return pd.DataFrame({need: table[NEED_PREFIX + need].to_numpy(dtype=bool) for need in NEEDS}, index=table.index)


def signals_from_store(store, *, rules: SignalRules = DEFAULT_RULES) -> pd.DataFrame:
    """:func:`signal_table` of the tables of a store (anything with ``read_table``, e.g. the command line's)."""
    tables = {name: store.read_table(name) for name in ("persons", "ties", "participation", "alter_links")}
    return signal_table(tables["persons"], tables["ties"], tables["participation"], tables["alter_links"],
                        rules=rules)

"""The evidence report of a provision or a provision type: what changed for the participants, against what.

For a subsidy decision that wants local figures: what was measured (instruments, moments), how many were
measured at each moment and the response (missing follow-ups are reported, never dropped), per measure and
pair of moments the mean change with its 95% interval, the effect size d_z and the shares improved /
unchanged / worse (reliable change), the comparison group's change and the difference-in-differences, the
share still in contact with other participants at T2, and next to it the provision's status and funding.

Input is what :class:`data.access.ScopedStore` gives every role: ``outcome_summary`` (the
:func:`graphs.outcomes.change_summary` frame, with protected counts for everyone but the administrator) and
``group_contact_summary``. Nothing here sees a person: no person id can reach the output.

Small counts: a count of 1 to 4 persons shows as 'minder dan 5' (:func:`graphs.aggregates.format_count`),
empty in Excel with the column *Verborgen*; for a protected summary (every role but the administrator) a 0
shows as 'minder dan 5' too, since the cell-key method publishes 1-4 persons as 0. Means, intervals and
effect sizes are only in the summary for cells of 5 or more persons. A percentage whose count would be
hidden (a response of 3 of 10) is left out as well.

Output: :func:`build_evidence_report` gives a dict; :func:`evidence_to_html` (``reports/templates/
evidence.html``), :func:`evidence_to_pdf` and :func:`evidence_to_excel` (the one writer :mod:`data.export`,
numeric cells and a *Toelichting* sheet) render it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from data.disclosure import MIN_CELL, PROTECTION_NOTE
from data.export import (
    FMT_2,
    FMT_DATE,
    FMT_FRACTION_PCT,
    FMT_INT,
    explanation_frame,
    frames_to_excel_bytes,
)
from data.formatting import format_date, format_number
from data.schema import MOMENTS as MOMENT_LABELS
from data.schema import PROVISION_STATUSES
from graphs.aggregates import HIDDEN, format_count
from graphs.outcomes import (
    CAVEAT,
    COMPARISON_TOO_FEW,
    HIGHER_IS_BETTER,
    MEASURES,
    MOMENTS,
    RELIABILITY,
)
from graphs.screening import SCREENING_NOTE

FUNDING_HORIZON_MONTHS = 12  # funding ending within this many months is a key message
SOURCES = ("Metingen: opvolging van deelnemers en vergelijkingsgroep in Steunkaart (LSNS-6, De Jong Gierveld, "
           "netwerk), alleen als geaggregeerde cijfers",
           "Voorzieningen: sociale kaart van de gemeente (Steunkaart)")
NOT_BY_LOT = ("De deelnemers en de vergelijkingsgroep zijn niet door loting ingedeeld. De groepen kunnen dus ook op "
              "andere punten van elkaar verschillen, en zulke verschillen kunnen in het verschil tussen de groepen "
              "blijven zitten.")
LITERATURE = ("In de meeste gepubliceerde evaluaties van activiteiten tegen eenzaamheid bleek, vergeleken met een "
              "controlegroep, geen effect dat aan de activiteit zelf toe te schrijven was. Een verbetering bij de "
              "deelnemers alleen is dus nog geen bewijs dat de voorziening werkt.")
SMALL_CELLS = (f"Aantallen personen van 1 tot {MIN_CELL} staan als '{HIDDEN}'; gemiddelden, intervallen, "
               f"effectgroottes en aandelen staan er alleen bij {MIN_CELL} of meer personen. Een percentage dat een "
               "verborgen aantal zou verraden, staat er ook niet.")
PROTECTED_ZERO = f"Daarom staat ook 0 als '{HIDDEN}': een verborgen aantal wordt als 0 gepubliceerd."
METHOD = ("Verandering: de score op het latere moment min die op het eerdere, alleen voor wie op beide momenten is "
          "gemeten. 95%-interval: gepaarde t-toets. Effectgrootte d_z: de gemiddelde verandering gedeeld door de "
          "standaardafwijking van de veranderingen (ongeveer 0,2 klein, 0,5 middelmatig, 0,8 groot).")
RELIABLE = ("Verbeterd of verslechterd: een verandering groter dan de meetfout van het instrument (reliable change "
            "volgens Jacobson en Truax, |RCI| > 1,96; betrouwbaarheid LSNS-6 0,83, De Jong Gierveld 11 vragen 0,80, "
            "6 vragen 0,70); een kleinere verandering telt als onveranderd. Voor de subschalen van De Jong "
            "Gierveld en de omvang van het netwerk is geen betrouwbaarheid bekend: daar is die indeling er niet.")
DID = ("Verschil met de vergelijkingsgroep: de gemiddelde verandering bij de deelnemers min die bij de "
       "vergelijkingsgroep (verschil-in-verschillen), met een 95%-interval volgens Welch; alleen als beide groepen "
       f"minstens {MIN_CELL} personen tellen die op beide momenten zijn gemeten. Bevat het interval 0, dan is het "
       "verschil niet duidelijk.")
MISSING_FOLLOW_UP = ("Wie op een moment niet is gemeten, telt voor die verandering niet mee; de respons staat erbij. "
                     "Blijven juist de mensen weg bij wie het minder goed gaat, dan lijkt de verandering gunstiger dan "
                     "ze is.")
SHARES_HIDDEN = "aandelen verborgen (kleine aantallen)"
NO_RELIABILITY = "geen betrouwbaarheid bekend: geen indeling"

# Per measure: instrument, range, direction (plain Dutch), and the short name used in the key messages.
INSTRUMENTS = {
    "lsns6": ("LSNS-6 (Lubben Social Network Scale, 6 vragen): het netwerk van familie en vrienden", "0 tot 30",
              "hoger is een groter netwerk", "LSNS-6"),
    "djg": ("De Jong Gierveld eenzaamheidsschaal, 11 vragen", "0 tot 11", "hoger is eenzamer",
            "De eenzaamheidsscore (De Jong Gierveld, 11 vragen)"),
    "djg6": ("De Jong Gierveld eenzaamheidsschaal, 6 vragen", "0 tot 6", "hoger is eenzamer",
             "De eenzaamheidsscore (De Jong Gierveld, 6 vragen)"),
    "djg_emotioneel": ("Emotionele eenzaamheid (6 van de 11 vragen van De Jong Gierveld)", "0 tot 6",
                       "hoger is eenzamer", "De emotionele eenzaamheid"),
    "djg_sociaal": ("Sociale eenzaamheid (5 van de 11 vragen van De Jong Gierveld)", "0 tot 5", "hoger is eenzamer",
                    "De sociale eenzaamheid"),
    "network_size": ("Omvang van het netwerk: het aantal personen in het netwerk van dat moment", "0 of meer",
                     "hoger is een groter netwerk", "De omvang van het netwerk"),
}
# Short names in the tables (the full name is in the table of instruments).
TABLE_LABELS = {"lsns6": "LSNS-6", "djg": "Eenzaamheid (DJG-11)", "djg6": "Eenzaamheid (DJG-6)",
                "djg_emotioneel": "Emotionele eenzaamheid", "djg_sociaal": "Sociale eenzaamheid",
                "network_size": "Omvang netwerk"}
_MEANING = {True: "een hogere score is een groter netwerk", False: "een lagere score is minder eenzaam"}

RESULT_COLUMNS = ["Maat", "Van", "Naar", "Deelnemers op eerste moment", "Gemeten op beide momenten", "Respons",
                  "Gemiddelde verandering", "Ondergrens 95%-interval", "Bovengrens 95%-interval", "Effectgrootte d_z",
                  "Aandeel verbeterd", "Aandeel onveranderd", "Aandeel verslechterd",
                  "Vergelijkingsgroep op eerste moment", "Vergelijkingsgroep gemeten op beide",
                  "Verandering vergelijkingsgroep", "Verschil met vergelijkingsgroep", "Ondergrens verschil",
                  "Bovengrens verschil", "Verborgen", "Toelichting"]
_RESULT_COUNTS = {"Deelnemers op eerste moment": "n_before", "Gemeten op beide momenten": "n_paired",
                  "Vergelijkingsgroep op eerste moment": "n_compare_before",
                  "Vergelijkingsgroep gemeten op beide": "n_compare_paired"}
_RESULT_VALUES = {"Gemiddelde verandering": "mean_change", "Ondergrens 95%-interval": "ci_low",
                  "Bovengrens 95%-interval": "ci_high", "Effectgrootte d_z": "d_z",
                  "Aandeel verbeterd": "share_improved", "Aandeel onveranderd": "share_unchanged",
                  "Aandeel verslechterd": "share_worse", "Verandering vergelijkingsgroep": "compare_mean_change",
                  "Verschil met vergelijkingsgroep": "did", "Ondergrens verschil": "did_ci_low",
                  "Bovengrens verschil": "did_ci_high"}
CHANGE_COLUMNS = ["Maat", "Momenten", "Gemeten op beide", "Respons", "Gemiddelde verandering", "95%-interval",
                  "d_z", "Verbeterd", "Onveranderd", "Verslechterd", "Toelichting"]
COMPARISON_COLUMNS = ["Maat", "Momenten", "Vergelijkingsgroep gemeten", "Verandering vergelijkingsgroep",
                      "Verandering deelnemers", "Verschil", "95%-interval verschil", "Toelichting"]
CONTACT_COLUMNS = ["Voorziening", "Deelnemers gemeten op T2", "Nog contact met een andere deelnemer", "Toelichting"]
PROVISION_COLUMNS = ["Voorziening", "Organisatie", "Status", "Financiering", "Financiering tot"]


# --------------------------------------------------------------------------- small formatting helpers
def _missing(value) -> bool:
    return value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value))


def count_hidden(n, *, protected: bool) -> bool:
    """Whether a count of persons is hidden: 1 to 4, and for a protected summary also 0 (1-4 are published as 0)."""
    if _missing(n):
        return False
    return bool(0 < n < MIN_CELL or (protected and n == 0))


def count_text(n, *, protected: bool) -> str:
    """A count of persons for the report: 'minder dan 5' where :func:`count_hidden`, '' where missing."""
    if _missing(n):
        return ""
    return HIDDEN if count_hidden(n, protected=protected) else format_count(n)


def _text(value) -> str:
    return "" if _missing(value) else str(value)


def _number(value, decimals: int = 1) -> str:
    return "" if _missing(value) else _signed(value, decimals)


def _percent(share) -> str:
    return "" if _missing(share) else f"{format_number(100 * float(share))}%"


def _signed(value: float, decimals: int = 1) -> str:
    """A number with its sign, but never '-0,0' (a value that rounds to zero)."""
    text = format_number(float(value), decimals)
    return text[1:] if text.startswith("-") and not text.strip("-0,.") else text


def _interval(low, high, decimals: int = 1) -> str:
    if _missing(low) or _missing(high):
        return ""
    return f"{_signed(low, decimals)} tot {_signed(high, decimals)}"


def _moment_text(moment: str) -> str:
    return MOMENT_LABELS.get(moment, moment)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


# --------------------------------------------------------------------------- building the report
def _catalogue(catalogue) -> dict:
    from data.provision_types import PROVISION_TYPES, types_from_frame

    if catalogue is None:
        return dict(PROVISION_TYPES)
    if isinstance(catalogue, pd.DataFrame):
        return types_from_frame(catalogue)
    return dict(catalogue)


def _scope_rows(summaries: Mapping, scope: str, by: str) -> dict[tuple[str, str], pd.DataFrame]:
    """The scope's rows of every summary, pairs in moment order; pairs without rows are left out."""
    out = {}
    order = {m: i for i, m in enumerate(MOMENTS)}
    for pair in sorted(summaries, key=lambda p: (order.get(p[0], 9), order.get(p[1], 9))):
        frame = summaries[pair]
        if frame is None or not len(frame) or by not in frame:
            continue
        rows = frame.loc[frame[by].astype(str).to_numpy() == str(scope)]
        if len(rows):
            rank = rows["measure"].astype(str).map({m: i for i, m in enumerate(MEASURES)}).fillna(len(MEASURES))
            out[(str(pair[0]), str(pair[1]))] = rows.assign(_rank=rank.to_numpy()).sort_values(
                ["_rank", "measure"], kind="stable").drop(columns="_rank").reset_index(drop=True)
    return out


def _primary(rows: pd.DataFrame) -> pd.Series | None:
    """The row of the main measure: LSNS-6 where present, else the first measure in :data:`MEASURES` order."""
    return rows.iloc[0] if len(rows) else None


def _provision_rows(provisions: pd.DataFrame | None, scope: str, scope_kind: str) -> pd.DataFrame:
    if provisions is None or not len(provisions):
        return pd.DataFrame(columns=["provision_id", "name", "type", "organisation", "status", "funding_source",
                                     "funding_end"])
    column = "provision_id" if scope_kind == "provision" else "type"
    rows = provisions.loc[provisions[column].astype(str).to_numpy() == str(scope)].copy()
    return rows.sort_values("name", kind="stable", key=lambda s: s.astype(str).str.lower()) if len(rows) else rows


def _results(pairs: dict, protected: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The numeric result table (Excel) and the two display tables (change, comparison)."""
    data_rows, change_rows, compare_rows = [], [], []
    for (before, after), rows in pairs.items():
        for row in rows.itertuples(index=False):  # measures × moment pairs: a handful of rows, no persons
            measure = str(row.measure)
            label = TABLE_LABELS.get(measure, measure)
            hidden = [c for c, f in _RESULT_COUNTS.items() if count_hidden(getattr(row, f), protected=protected)]
            values = {c: (pd.NA if c in hidden else getattr(row, f)) for c, f in _RESULT_COUNTS.items()}
            response_hidden = bool({"Deelnemers op eerste moment", "Gemeten op beide momenten"} & set(hidden))
            response = np.nan if response_hidden else row.response_rate
            numbers = {c: getattr(row, f) for c, f in _RESULT_VALUES.items()}
            notes = [_text(row.reason)] if _text(row.reason) else []
            shown = not _missing(row.mean_change)
            if shown and _missing(row.share_improved):
                notes.append(SHARES_HIDDEN if measure in RELIABILITY else NO_RELIABILITY)
            did_reason = _text(getattr(row, "did_reason", ""))
            if did_reason:
                notes.append(did_reason)
            if response_hidden and not _missing(row.response_rate):
                notes.append("respons verborgen (kleine aantallen)")
            data_rows.append({"Maat": label, "Van": before, "Naar": after, **values, "Respons": response, **numbers,
                              "Verborgen": f"{HIDDEN}: " + ", ".join(hidden) if hidden else "",
                              "Toelichting": "; ".join(notes)})
            moments = f"{before} → {after}"
            change_rows.append([label, moments, count_text(row.n_paired, protected=protected),
                                "" if response_hidden else _percent(row.response_rate), _number(row.mean_change),
                                _interval(row.ci_low, row.ci_high), _number(row.d_z, 2),
                                _percent(row.share_improved), _percent(row.share_unchanged),
                                _percent(row.share_worse), "; ".join(n for n in notes if n != did_reason)])
            compare_rows.append([label, moments, count_text(row.n_compare_paired, protected=protected),
                                 _number(row.compare_mean_change), _number(row.mean_change), _number(row.did),
                                 _interval(row.did_ci_low, row.did_ci_high),
                                 did_reason or _text(row.reason)])
    data = pd.DataFrame(data_rows, columns=RESULT_COLUMNS)
    for column in _RESULT_COUNTS:
        data[column] = pd.array(pd.to_numeric(data[column], errors="coerce"), dtype="Int64")
    for column in ["Respons", *_RESULT_VALUES]:
        data[column] = pd.to_numeric(data[column], errors="coerce").astype(float)
    return (data, pd.DataFrame(change_rows, columns=CHANGE_COLUMNS),
            pd.DataFrame(compare_rows, columns=COMPARISON_COLUMNS))


def _counts(pairs: dict, moments: list[str], protected: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Participants measured per moment and measure: numeric (hidden empty) and display."""
    first: dict[str, pd.Series] = {}
    for rows in pairs.values():
        for _, row in rows.iterrows():
            first.setdefault(str(row["measure"]), row)
    data_rows, text_rows = [], []
    for measure, row in first.items():
        label = TABLE_LABELS.get(measure, measure)
        ns = {m: row.get(f"n_{m}") for m in moments}
        hidden = [m for m, n in ns.items() if count_hidden(n, protected=protected)]
        data_rows.append({"Maat": label, **{m: (pd.NA if m in hidden else ns[m]) for m in moments},
                          "Verborgen": f"{HIDDEN}: " + ", ".join(hidden) if hidden else ""})
        text_rows.append({"Maat": label, **{m: count_text(n, protected=protected) for m, n in ns.items()}})
    data = pd.DataFrame(data_rows, columns=["Maat", *moments, "Verborgen"])
    for m in moments:
        data[m] = pd.array(pd.to_numeric(data[m], errors="coerce"), dtype="Int64")
    return data, pd.DataFrame(text_rows, columns=["Maat", *moments])


def share_hidden(share, n, *, protected: bool) -> bool:
    """Whether a share of n persons would give a count of 1 to 4 away (the share itself or its complement).

    Parameters
    ----------
    share : float
        The share (0-1), e.g. still in contact with another participant.
    n : int
        The number of persons it is a share of, as shown.
    protected : bool
        Whether ``n`` is a protected count: it deviates at most 2 from the true count, so the share is judged
        on the smallest true n it may stand for.

    Returns
    -------
    bool
        True where the share should be left out.
    """
    if _missing(share) or _missing(n):
        return False
    lowest = max(float(n) - (2 if protected else 0), MIN_CELL)
    part = [float(share) * lowest, (1 - float(share)) * lowest]
    return any(0 < p < MIN_CELL - 0.5 for p in part)


def _contact(contact: pd.DataFrame | None, provision_rows: pd.DataFrame, scope: str, scope_kind: str,
             protected: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    columns = ["Voorziening", "Deelnemers gemeten op T2", "Aandeel nog contact met een andere deelnemer",
               "Verborgen", "Toelichting"]
    if contact is None or not len(contact):
        return pd.DataFrame(columns=columns), pd.DataFrame(columns=CONTACT_COLUMNS)
    ids = [str(scope)] if scope_kind == "provision" else provision_rows["provision_id"].astype(str).tolist()
    names = dict(zip(provision_rows["provision_id"].astype(str), provision_rows["name"].astype(str), strict=False))
    table = contact.assign(provision_id=contact["provision_id"].astype(str)).set_index("provision_id")
    data_rows, text_rows = [], []
    for pid in ids:  # the provisions of one type: a short list
        if pid not in table.index:
            continue
        row = table.loc[pid]
        n, share = row["n_participants"], row["share"]
        hidden_n = count_hidden(n, protected=protected)
        hidden_share = share_hidden(share, n, protected=protected)
        reason = _text(row.get("reason", ""))
        note = "; ".join(x for x in (reason, "aandeel verborgen (kleine aantallen)" if hidden_share else "") if x)
        name = names.get(pid, pid)
        data_rows.append({"Voorziening": name, "Deelnemers gemeten op T2": pd.NA if hidden_n else n,
                          "Aandeel nog contact met een andere deelnemer": np.nan if hidden_share else share,
                          "Verborgen": f"{HIDDEN}: deelnemers" if hidden_n else "", "Toelichting": note})
        text_rows.append([name, count_text(n, protected=protected), "" if hidden_share else _percent(share), note])
    data = pd.DataFrame(data_rows, columns=columns)
    data["Deelnemers gemeten op T2"] = pd.array(pd.to_numeric(data["Deelnemers gemeten op T2"], errors="coerce"),
                                                dtype="Int64")
    data[columns[2]] = pd.to_numeric(data[columns[2]], errors="coerce").astype(float)
    return data, pd.DataFrame(text_rows, columns=CONTACT_COLUMNS)


def _provisions(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    def text(column: str) -> pd.Series:
        if column not in rows:
            return pd.Series([""] * len(rows), index=rows.index, dtype=object)
        return rows[column].astype(object).where(rows[column].notna(), "").astype(str)

    end = pd.to_datetime(rows["funding_end"], errors="coerce") if "funding_end" in rows else pd.Series(
        pd.NaT, index=rows.index)
    status = text("status").map(lambda s: PROVISION_STATUSES.get(s, s))
    data = pd.DataFrame({"Voorziening": text("name"), "Organisatie": text("organisation"), "Status": status,
                         "Financiering": text("funding_source"), "Financiering tot": end.to_numpy()},
                        columns=PROVISION_COLUMNS)
    shown = data.copy()
    shown["Financiering tot"] = [format_date(v) if pd.notna(v) else "onbekend" for v in end]
    return data.reset_index(drop=True), shown.reset_index(drop=True)


def _funding_message(rows: pd.DataFrame, generated: pd.Timestamp) -> str | None:
    """The provisions under pressure or whose funding ends within the horizon (or has ended), in one line."""
    if not len(rows):
        return None
    end = pd.to_datetime(rows["funding_end"], errors="coerce") if "funding_end" in rows else pd.Series(
        pd.NaT, index=rows.index)
    horizon = generated + pd.DateOffset(months=FUNDING_HORIZON_MONTHS)
    status = rows["status"].astype(str) if "status" in rows else pd.Series("", index=rows.index)
    parts = []
    for name, state, until in zip(rows["name"].astype(str), status, end, strict=True):  # a type's few provisions
        bits = []
        if state == "onder_druk":
            bits.append("staat onder druk")
        if pd.notna(until) and until < generated.normalize():
            bits.append(f"de financiering is afgelopen op {format_date(until)}")
        elif pd.notna(until) and until <= horizon:
            bits.append(f"de financiering loopt af op {format_date(until)}, binnen {FUNDING_HORIZON_MONTHS} "
                        "maanden")
        if bits:
            parts.append(f"{name}: {' en '.join(bits)}")
    if not parts:
        return None
    more = f"; en {len(parts) - 3} andere" if len(parts) > 3 else ""
    return f"Let op voor het besluit over de financiering. {'; '.join(parts[:3])}{more}."


def _change_sentence(row: pd.Series, protected: bool) -> str:
    measure = str(row["measure"])
    name = INSTRUMENTS.get(measure, (measure, "", "", measure))[3]
    before, after = str(row["before"]), str(row["after"])
    between = f"tussen {_moment_text(before)} en {_moment_text(after)}"
    if _missing(row["mean_change"]):
        return (f"{name}: te weinig deelnemers gemeten op {before} én {after} ({HIDDEN}) om een verandering te "
                "tonen.")
    mean = float(row["mean_change"])
    unit = "personen" if measure == "network_size" else "punten"
    n = count_text(row["n_paired"], protected=protected)
    low, high = float(row["ci_low"]), float(row["ci_high"])
    if mean < 0 and high < 0:  # a decrease: say it as one, 'a decrease of 2,3 to 3,7'
        interval = f"95%-interval: een daling van {_interval(-high, -low)}"
    else:
        interval = f"95%-interval {_interval(low, high)}"
    meaning = _MEANING[HIGHER_IS_BETTER.get(measure, True)] if measure != "network_size" else ""
    tail = f"; {meaning}" if meaning else ""
    if round(mean, 1) == 0:
        return f"{name} bleef {between} gemiddeld gelijk ({interval}) bij {n} deelnemers{tail}."
    verb = "steeg" if mean > 0 else "daalde"
    return (f"{name} {verb} {between} gemiddeld {format_number(abs(mean), 1)} {unit} ({interval}) bij {n} "
            f"deelnemers{tail}.")


def _comparison_sentence(row: pd.Series) -> str:
    measure = str(row["measure"])
    if not _missing(row["did"]):
        comp = float(row["compare_mean_change"])
        verb = ("bleef gemiddeld gelijk" if round(comp, 1) == 0 else
                f"{'steeg' if comp > 0 else 'daalde'} gemiddeld {format_number(abs(comp), 1)}")
        did, low, high = float(row["did"]), float(row["did_ci_low"]), float(row["did_ci_high"])
        interval = _interval(low, high)
        if low > 0 or high < 0:
            favourable = (did > 0) == HIGHER_IS_BETTER.get(measure, True)
            verdict = "wijst op een effect van de voorziening" if favourable else \
                "wijst op een ongunstig verschil voor de deelnemers"
            return (f"De vergelijkingsgroep {verb}; het verschil van {format_number(did, 1)} (95%-interval "
                    f"{interval}) {verdict}.")
        return (f"De vergelijkingsgroep {verb}; het verschil met de vergelijkingsgroep is niet duidelijk "
                f"(95%-interval {interval}).")
    if _text(row.get("did_reason", "")) == COMPARISON_TOO_FEW:
        return f"De vergelijkingsgroep is te klein om mee te vergelijken ({HIDDEN} personen). {CAVEAT}"
    if _missing(row["mean_change"]):
        return CAVEAT
    return f"Er is geen vergelijkingsgroep. {CAVEAT}"


def _response_sentence(pairs: dict, protected: bool) -> list[str]:
    """Per first moment: 'Van de 10 deelnemers zijn er 8 gemeten op T1 (80%) en minder dan 5 op T2.'"""
    lines, by_before = [], {}
    for (before, after), rows in pairs.items():
        by_before.setdefault(before, []).append((after, _primary(rows)))
    for before, items in by_before.items():
        n_before = items[0][1]["n_before"]
        if count_hidden(n_before, protected=protected) or _missing(n_before):
            lines.append(f"Op {before} zijn {HIDDEN} deelnemers gemeten.")
            continue
        parts = []
        for k, (after, row) in enumerate(items):
            hidden = count_hidden(row["n_paired"], protected=protected)
            rate = "" if hidden or _missing(row["response_rate"]) else f" ({_percent(row['response_rate'])})"
            parts.append(f"{count_text(row['n_paired'], protected=protected)}{' gemeten' if k == 0 else ''} op "
                         f"{after}{rate}")
        lines.append(f"Van de {count_text(n_before, protected=protected)} deelnemers (gemeten op {before}) zijn er "
                     f"{_join(parts)}.")
    return lines


def evidence_messages(report: dict) -> list[str]:
    """Three to five key messages in plain Dutch: the main change, the comparison, the response, the funding and
    the contact in the group; never a hidden number."""
    pairs = report["_pairs"]
    if not pairs:
        lines = [report["empty_message"]]
        if report["funding_message"]:
            lines.append(report["funding_message"])
        lines.append(CAVEAT)
        return lines
    # The first pair where the main measure has a mean, else the first pair.
    chosen = next((p for p, rows in pairs.items() if not _missing(_primary(rows)["mean_change"])), next(iter(pairs)))
    rows = pairs[chosen]
    main = _primary(rows)
    lines = [_change_sentence(main, report["protected"]), _comparison_sentence(main)]
    lines += report["response"][:1]
    if report["funding_message"]:
        lines.append(report["funding_message"])
    second = rows.loc[rows["measure"].astype(str).isin(["djg", "djg6"]) & (rows["measure"] != main["measure"])]
    if len(second):
        lines.append(_change_sentence(second.iloc[0], report["protected"]))
    if report["contact_message"]:
        lines.append(report["contact_message"])
    return lines[:5]


def _contact_message(contact_text: pd.DataFrame, scope_kind: str) -> str | None:
    shown = contact_text.loc[contact_text["Nog contact met een andere deelnemer"] != ""] if len(contact_text) else \
        contact_text
    if not len(shown):
        return None
    if scope_kind == "provision":
        row = shown.iloc[0]
        return (f"Op T2 had {row['Nog contact met een andere deelnemer']} van de {row['Deelnemers gemeten op T2']} "
                "gemeten deelnemers nog contact met een andere deelnemer uit de groep.")
    parts = [f"{v} ({p})" for v, p in zip(shown["Voorziening"], shown["Nog contact met een andere deelnemer"],
                                          strict=True)]
    return "Nog contact met een andere deelnemer uit de groep op T2: " + _join(parts[:3]) + "."


def _caveats(has_comparison: bool, protected: bool) -> list[str]:
    items = [CAVEAT]
    if has_comparison:
        items.append(NOT_BY_LOT)
    items += [LITERATURE, SCREENING_NOTE, SMALL_CELLS + (f" {PROTECTED_ZERO} {PROTECTION_NOTE}" if protected else ""),
              METHOD, RELIABLE, DID, MISSING_FOLLOW_UP]
    return items


def _has_comparison(pairs: dict) -> bool:
    for rows in pairs.values():
        counts = pd.concat([pd.to_numeric(rows[c], errors="coerce") for c in ("n_compare_before", "n_compare_paired")
                            if c in rows], axis=1)
        reason = rows["did_reason"].astype(str) if "did_reason" in rows else pd.Series("", index=rows.index)
        if (counts.fillna(0).to_numpy() > 0).any() or rows["compare_mean_change"].notna().any() or \
                reason.eq(COMPARISON_TOO_FEW).any():
            return True
    return False


def build_evidence_report(summaries: Mapping, contact: pd.DataFrame | None, provisions: pd.DataFrame | None,
                          catalogue=None, *, scope: str, scope_kind: str = "provision", protected: bool,
                          generated=None, period: tuple | None = None) -> dict:
    """Everything the evidence report of one provision or provision type shows (no person in it).

    Parameters
    ----------
    summaries : mapping
        {(before, after): :func:`graphs.outcomes.change_summary` frame} as given by
        ``ScopedStore.outcome_summary(before=, after=, by='provision_id' or 'type')``, for the pairs measured.
    contact : DataFrame or None
        ``ScopedStore.group_contact_summary()`` (provision_id, n_participants, share, reason).
    provisions : DataFrame or None
        The provisions table (provision_id, name, type, organisation, status, funding_source, funding_end).
    catalogue : dict or DataFrame, optional
        The provision types (code → :class:`data.provision_types.ProvisionType`, or the store's table);
        default the built-in catalogue.
    scope : str
        A provision_id (``scope_kind='provision'``) or a type code (``scope_kind='type'``).
    scope_kind : {'provision', 'type'}
    protected : bool
        True for every role but the administrator: the summary's counts are protected cells, so 0 shows
        as 'minder dan 5' as well.
    generated : timestamp, optional
        When the report is made (default now); the funding horizon counts from it.
    period : (date, date), optional
        First and last ``measured_on`` of the measurements in the scope (not in the summary).

    Returns
    -------
    dict
        title, name, scope, scope_kind, type_code, type_label, protected, generated, period, empty,
        empty_message, references (lines), instruments (rows: maat, instrument, bereik, richting), moments (rows:
        moment, wanneer), counts / counts_data (participants per moment: display / numeric), response (lines),
        changes and comparison (display tables), results_data (numeric), contact / contact_data,
        provisions / provisions_data, funding_message, contact_message, has_comparison, messages, caveats.
    """
    if scope_kind not in ("provision", "type"):
        raise ValueError(f"scope_kind must be 'provision' or 'type', not {scope_kind!r}")
    types = _catalogue(catalogue)
    generated = pd.Timestamp.now() if generated is None else pd.Timestamp(generated)
    by = "provision_id" if scope_kind == "provision" else "type"
    provision_rows = _provision_rows(provisions, scope, scope_kind)
    if scope_kind == "provision":
        known = provision_rows.iloc[0] if len(provision_rows) else None
        type_code = str(known["type"]) if known is not None and pd.notna(known.get("type")) else None
        name = str(known["name"]) if known is not None and pd.notna(known.get("name")) else str(scope)
    else:
        type_code = str(scope)
        name = types[type_code].label if type_code in types else type_code
    ptype = types.get(type_code) if type_code else None
    type_label = ptype.label if ptype is not None else (type_code or "onbekende soort")

    pairs = _scope_rows(summaries, scope, by)
    if not protected:  # exact counts: a pair nobody was measured at (yet) is left out; a protected 0 may be 1-4
        pairs = {p: rows for p, rows in pairs.items()
                 if (pd.to_numeric(rows.get(f"n_{p[1]}"), errors="coerce").fillna(0) > 0).any()
                 or (pd.to_numeric(rows["n_compare_paired"], errors="coerce").fillna(0) > 0).any()}
    moments = [m for m in MOMENTS if m in {p for pair in pairs for p in pair}] or ["T0"]
    weeks = ptype.moment_weeks if ptype is not None else {}
    moment_rows = []
    for moment in moments:
        if moment == "T0":
            when = "bij de start"
        elif weeks.get(moment) is not None:
            when = f"{format_number(weeks[moment])} weken na de intake (ingesteld voor {type_label})"
        else:
            when = "datum bij elke meting (geen vaste planning voor deze soort)"
        moment_rows.append((_moment_text(moment), when))
    present = [str(m) for rows in pairs.values() for m in rows["measure"]]
    instruments = [(TABLE_LABELS.get(m, m), *INSTRUMENTS.get(m, (m, "", "", m))[:3]) for m in dict.fromkeys(present)]

    results_data, changes, comparison = _results(pairs, protected)
    counts_data, counts = _counts(pairs, moments, protected)
    contact_data, contact_text = _contact(contact, provision_rows, scope, scope_kind, protected)
    provisions_data, provisions_text = _provisions(provision_rows)
    references = [f"Gemaakt op {format_date(generated)}."]
    if period is not None and not _missing(period[0]) and not _missing(period[1]):
        references.insert(0, f"Metingen van {format_date(period[0])} tot en met {format_date(period[1])}.")
    has_comparison = _has_comparison(pairs)
    kind = "voorziening" if scope_kind == "provision" else f"soort voorziening ({type_label})"
    report = {
        "title": f"Resultaten voor deelnemers: {name}", "name": name, "scope": str(scope), "scope_kind": scope_kind,
        "kind": kind, "type_code": type_code, "type_label": type_label, "protected": bool(protected),
        "generated": generated, "period": period, "empty": not pairs,
        "empty_message": f"Nog geen metingen voor {name}: leg metingen vast op de pagina Opvolging.",
        "references": references, "instruments": instruments, "moments": moment_rows,
        "pairs": [f"{b} → {a}" for b, a in pairs], "counts": counts, "counts_data": counts_data,
        "response": _response_sentence(pairs, protected), "changes": changes, "comparison": comparison,
        "results_data": results_data, "contact": contact_text, "contact_data": contact_data,
        "provisions": provisions_text, "provisions_data": provisions_data,
        "funding_message": _funding_message(provision_rows, generated),
        "contact_message": _contact_message(contact_text, scope_kind), "has_comparison": has_comparison,
        "_pairs": pairs,
    }
    report["messages"] = evidence_messages(report)
    report["caveats"] = _caveats(has_comparison, protected)
    return report


# --------------------------------------------------------------------------- rendering
def evidence_to_html(report: dict) -> str:
    """The report as one self-contained HTML page (``reports/templates/evidence.html``, autoescape on)."""
    from reports import frame_rows, render_html

    def table(frame: pd.DataFrame, first_text: int = 2) -> dict:
        return {"columns": list(frame.columns), "rows": frame_rows(frame),
                "numeric": [c for c in list(frame.columns)[first_text:] if c != "Toelichting"]}

    return render_html(
        "evidence.html", title=report["title"], report=report, messages=report["messages"],
        caveats=report["caveats"], hidden=HIDDEN, sources=list(SOURCES), generated=report["generated"],
        instruments=report["instruments"], moments=report["moments"], counts=table(report["counts"], 1),
        changes=table(report["changes"]), comparison=table(report["comparison"]),
        contact=table(report["contact"], 1), provisions=table(report["provisions"], 5))


def evidence_to_pdf(report: dict) -> bytes:
    """The report as PDF, made from :func:`evidence_to_html` (:func:`reports.html_to_pdf`).

    Raises
    ------
    DataValidationError
        When PDFs cannot be made on this computer (the message says what to install).
    """
    from reports import html_to_pdf

    return html_to_pdf(evidence_to_html(report))


def _explanation(report: dict) -> pd.DataFrame:
    source = "Opvolging in Steunkaart (metingen van deelnemers en vergelijkingsgroep)"
    res = "Resultaten"
    rows = [
        (res, "Maat", "Het meetinstrument (zie blad Meetinstrumenten; DJG = De Jong Gierveld)", "", source),
        (res, "Van", "Het eerdere moment (T0 = intake)", "", source),
        (res, "Naar", "Het latere moment (T1 = einde, T2 en T3 = follow-ups)", "", source),
        (res, "Deelnemers op eerste moment", "Deelnemers gemeten op het eerdere moment", "personen", source),
        (res, "Gemeten op beide momenten", "Deelnemers gemeten op beide momenten", "personen", source),
        (res, "Respons", "Gemeten op beide momenten gedeeld door gemeten op het eerdere moment", "fractie (0-1)",
         "berekend"),
        (res, "Gemiddelde verandering", "Gemiddelde van (latere score − eerdere score) bij de deelnemers",
         "punten van de maat (omvang netwerk: personen)", "berekend"),
        (res, "Ondergrens 95%-interval", "Ondergrens van het 95%-interval van de gemiddelde verandering (gepaarde "
         "t-toets)", "punten", "berekend"),
        (res, "Bovengrens 95%-interval", "Bovengrens van dat interval", "punten", "berekend"),
        (res, "Effectgrootte d_z", "Gemiddelde verandering gedeeld door de standaardafwijking van de veranderingen",
         "geen eenheid", "berekend"),
        (res, "Aandeel verbeterd", "Deel van de deelnemers met een betrouwbare verbetering (Jacobson-Truax)",
         "fractie (0-1)", "berekend"),
        (res, "Aandeel onveranderd", "Deel zonder verandering groter dan de meetfout", "fractie (0-1)", "berekend"),
        (res, "Aandeel verslechterd", "Deel met een betrouwbare verslechtering", "fractie (0-1)", "berekend"),
        (res, "Vergelijkingsgroep op eerste moment", "Mensen uit de vergelijkingsgroep gemeten op het eerdere moment",
         "personen", source),
        (res, "Vergelijkingsgroep gemeten op beide", "Mensen uit de vergelijkingsgroep gemeten op beide momenten",
         "personen", source),
        (res, "Verandering vergelijkingsgroep", "Gemiddelde verandering in de vergelijkingsgroep", "punten",
         "berekend"),
        (res, "Verschil met vergelijkingsgroep", "Verandering deelnemers min verandering vergelijkingsgroep "
         "(verschil-in-verschillen)", "punten", "berekend"),
        (res, "Ondergrens verschil", "Ondergrens van het 95%-interval van het verschil (Welch)", "punten",
         "berekend"),
        (res, "Bovengrens verschil", "Bovengrens van dat interval", "punten", "berekend"),
        (res, "Verborgen", SMALL_CELLS, "", ""),
        (res, "Toelichting", "Waarom een cijfer ontbreekt", "", "berekend"),
        ("Per moment", "T0 … T3", "Deelnemers gemeten op dat moment, per maat", "personen", source),
        ("Per moment", "Verborgen", SMALL_CELLS, "", ""),
        ("Contact in de groep", "Deelnemers gemeten op T2", "Deelnemers van wie op T2 het netwerk is gevraagd",
         "personen", source),
        ("Contact in de groep", "Aandeel nog contact met een andere deelnemer", "Deel van hen dat op T2 nog contact "
         "heeft met een andere deelnemer van dezelfde groep ('met wie uit de groep heeft u nog contact?')",
         "fractie (0-1)", source),
        ("Voorzieningen", "Status", "Status op de sociale kaart (actief, onder druk, gestopt)", "",
         SOURCES[1].split(": ", 1)[1]),
        ("Voorzieningen", "Financiering tot", "Einddatum van de financiering", "datum", SOURCES[1].split(": ", 1)[1]),
    ]
    for item in report["caveats"]:
        rows.append(("Samenvatting", "Kanttekening", item, "", ""))
    for line in report["references"]:
        rows.append(("Samenvatting", "Peildatum", line, "", ""))
    return explanation_frame(rows)


def evidence_to_excel(report: dict) -> bytes:
    """The report as an Excel workbook (the one writer :mod:`data.export`): numbers as numeric cells with a
    number format, hidden counts empty with 'minder dan 5' in *Verborgen*, the key messages and the caveat in
    *Samenvatting*, and a *Toelichting* sheet (every column, its unit and source).

    Returns
    -------
    bytes
        The .xlsx file.
    """
    summary_rows = [("Rapport", report["title"]), ("Soort rapport", report["kind"])]
    summary_rows += [("Peildatum", line) for line in report["references"]]
    if report["empty"]:
        summary_rows.append(("Geen metingen", report["empty_message"]))
    summary_rows += [("Kernboodschap", m) for m in report["messages"]]
    summary_rows += [("Respons", line) for line in report["response"]]
    summary_rows += [("Kanttekening", c) for c in report["caveats"]]
    summary = pd.DataFrame(summary_rows, columns=["Onderdeel", "Tekst"])
    instruments = pd.DataFrame(report["instruments"], columns=["Maat", "Instrument", "Bereik", "Richting"])
    moments = pd.DataFrame(report["moments"], columns=["Moment", "Wanneer"])
    sheets = {"Samenvatting": summary, "Resultaten": report["results_data"], "Per moment": report["counts_data"],
              "Contact in de groep": report["contact_data"], "Voorzieningen": report["provisions_data"],
              "Meetinstrumenten": instruments, "Momenten": moments, "Toelichting": _explanation(report)}
    result_formats = {c: FMT_INT for c in _RESULT_COUNTS}
    result_formats.update({c: FMT_2 for c in _RESULT_VALUES})
    result_formats.update({c: FMT_FRACTION_PCT for c in ("Respons", "Aandeel verbeterd", "Aandeel onveranderd",
                                                          "Aandeel verslechterd")})
    formats = {"Resultaten": result_formats,
               "Per moment": {m: FMT_INT for m in report["counts_data"].columns if m in MOMENTS},
               "Contact in de groep": {"Deelnemers gemeten op T2": FMT_INT,
                                       "Aandeel nog contact met een andere deelnemer": FMT_FRACTION_PCT},
               "Voorzieningen": {"Financiering tot": FMT_DATE}}
    widths = {"Samenvatting": {"A": 18, "B": 120}, "Resultaten": {"A": 44, "T": 40, "U": 60},
              "Per moment": {"A": 44}, "Contact in de groep": {"A": 36, "E": 40}, "Voorzieningen": {"A": 36, "B": 30},
              "Meetinstrumenten": {"A": 24, "B": 80, "C": 12, "D": 30}, "Momenten": {"A": 22, "B": 60},
              "Toelichting": {"A": 20, "B": 40, "C": 100, "D": 30, "E": 40}}
    return frames_to_excel_bytes(sheets, column_widths=widths, number_formats=formats)

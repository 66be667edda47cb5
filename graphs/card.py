"""The network card of one person and the export of every measure per person: labels, explanations, numbers.

One list (:data:`CARD_MEASURES`) says, for every measure of the signal table
(:func:`graphs.signals.signal_table`), its Dutch label, a one-line explanation of what it means for
support, its export column and how to show it. The card (:func:`network_card_table`) and the
export (:func:`measures_export_frame`, :func:`measures_export_bytes`) are both made from it, so
they always hold the same measures with the same words.

The measures follow the person's own report (see :mod:`graphs.measures`); ties in other persons'
reports that name the person are the last group, apart. Screening scores screen groups; they do
not diagnose a person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.formatting import format_number
from graphs.screening import LSNS_AT_RISK_BELOW, LSNS_SUBSCALE_LOW_BELOW
from graphs.signals import DEFAULT_RULES, DJG6_SUBSCALE_HIGH, DJG_EMOTIONAL_HIGH, DJG_SOCIAL_HIGH

OWN = "Eigen netwerk"
SCREENING = "Vragenlijsten"
OTHERS = "Genoemd door anderen"
NO_ANSWERS = "geen (volledige) antwoorden"


@dataclass(frozen=True)
class CardMeasure:
    """One measure on the card and in the export.

    ``kind``: 'count' (whole number), 'share' (0-1, shown as a percentage), 'ratio' (two decimals),
    'bits' (two decimals, bits) or 'score' (a questionnaire score out of ``out_of``). A value below
    ``low_below`` or from ``high_from`` on is flagged with ``note``.
    """

    column: str
    label: str
    explanation: str
    export: str
    group: str = OWN
    kind: str = "count"
    out_of: int | None = None
    low_below: float | None = None
    high_from: float | None = None
    note: str = ""
    missing: str = "n.v.t."
    flag_column: str | None = None  # a boolean column exported next to the value (e.g. LSNS-6 family low)
    flag_export: str | None = None


CARD_MEASURES: tuple[CardMeasure, ...] = (
    CardMeasure("network_size", "Netwerkgrootte",
                "Aantal mensen dat de persoon zelf noemt; een klein netwerk geeft weinig om op terug te vallen.",
                "netwerkgrootte"),
    CardMeasure("informal_size", "Informele contacten",
                "Familie, vrienden, buren (geen professionals): de steun die blijft als de hulpverlening stopt.",
                "informele_contacten", low_below=DEFAULT_RULES.min_informal,
                note=f"minder dan {DEFAULT_RULES.min_informal}"),
    CardMeasure("emotional_supporters", "Emotionele steun",
                "Mensen bij wie de persoon terechtkan met zorgen en gevoelens (expressieve steun).",
                "emotionele_steun", low_below=DEFAULT_RULES.min_emotional, note="niemand"),
    CardMeasure("practical_supporters", "Praktische steun",
                "Mensen die helpen met boodschappen, klussen, vervoer of papieren (instrumentele steun).",
                "praktische_steun", low_below=1, note="niemand"),
    CardMeasure("role_diversity", "Rolverscheidenheid",
                "Soorten relaties (partner, familie, vriend, buur, …) met minstens tweewekelijks contact; "
                "meer soorten is steun van meer kanten.", "rolverscheidenheid"),
    CardMeasure("role_entropy", "Spreiding over rollen",
                "Entropie van de rollen in bits: 0 = iedereen in één rol, 1 = twee rollen even vaak, hoger = "
                "steun over meer soorten relaties verdeeld.", "spreiding_rollen_bits", kind="bits",
                missing="n.v.t. (geen netwerk)"),
    CardMeasure("kin_share", "Aandeel familie",
                "Deel van het netwerk dat familie is; heel hoog betekent afhankelijk van één kring.",
                "aandeel_familie", kind="share", missing="n.v.t. (geen netwerk)"),
    CardMeasure("alters", "Verschillende mensen",
                "Aantal verschillende mensen in het netwerk (iemand die twee keer genoemd is telt één keer).",
                "verschillende_mensen"),
    CardMeasure("ties_among_alters", "Onderlinge banden",
                "Paren uit het netwerk die elkaar kennen, volgens de persoon zelf.", "onderlinge_banden"),
    CardMeasure("density_alters", "Dichtheid",
                "Deel van de paren dat elkaar kent (0-1): hoog = een hechte kring die samen kan opvangen, "
                "laag = losse contacten.", "dichtheid", kind="ratio", missing="n.v.t. (minder dan 2 mensen)"),
    CardMeasure("effective_size", "Effectieve grootte",
                "Aantal contacten dat eigen, niet-overlappende steun en informatie geeft (Burt); dicht bij de "
                "netwerkgrootte = weinig overlap.", "effectieve_grootte", kind="ratio",
                missing="n.v.t. (geen netwerk)"),
    CardMeasure("constraint", "Beperking (constraint)",
                "Hoe sterk het netwerk op een paar onderling verbonden mensen leunt (Burt): hoog = valt één "
                "weg, dan valt veel weg.", "beperking", kind="ratio", missing="n.v.t. (geen netwerk)"),
    CardMeasure("ties_outside_buurt", "Contacten buiten de buurt",
                "Contacten die in een andere buurt wonen: verbinden met andere buurten, maar zijn minder snel "
                "dichtbij.", "contacten_buiten_buurt"),
    CardMeasure("ties_inside_buurt", "Contacten in de buurt",
                "Contacten in de eigen buurt: dichtbij voor praktische hulp en een oogje in het zeil.",
                "contacten_in_buurt"),
    CardMeasure("ties_buurt_unknown", "Buurt onbekend",
                "Contacten waarvan niet bekend is of ze in de buurt wonen; ze tellen nergens mee.",
                "contacten_buurt_onbekend"),
    CardMeasure("ei_buurt", "EI-index buurt",
                "(buiten − binnen) / (buiten + binnen) over de contacten met bekende buurt: −1 = alles in de "
                "buurt, +1 = alles erbuiten.", "ei_index_buurt", kind="ratio",
                missing="onbekend (geen contact met bekende buurt)"),
    CardMeasure("group_ties", "Contacten via groepen",
                "Groepsgenoten en mensen van kerk of vereniging: banden die in groepen ontstaan.",
                "contacten_via_groepen"),
    CardMeasure("provisions_joined", "Voorzieningen",
                "Aantal collectieve voorzieningen waaraan de persoon meedoet.", "voorzieningen"),
    CardMeasure("lsns6", "LSNS-6",
                "Sociaal netwerk volgens de vragenlijst van Lubben: onder 12 = risico op sociaal isolement.",
                "lsns6", group=SCREENING, kind="score", out_of=30, low_below=LSNS_AT_RISK_BELOW,
                note=f"onder {LSNS_AT_RISK_BELOW}",
                missing=NO_ANSWERS, flag_column="lsns6_at_risk", flag_export="lsns6_risico"),
    CardMeasure("lsns6_family", "LSNS-6 familie",
                "Contact met en steun van familie (vragen 1-3): onder 6 = weinig familie om op terug te vallen.",
                "lsns6_familie", group=SCREENING, kind="score", out_of=15, low_below=LSNS_SUBSCALE_LOW_BELOW,
                note=f"onder {LSNS_SUBSCALE_LOW_BELOW}",
                missing=NO_ANSWERS, flag_column="lsns6_family_low", flag_export="lsns6_familie_laag"),
    CardMeasure("lsns6_friends", "LSNS-6 vrienden",
                "Contact met en steun van vrienden (vragen 4-6): onder 6 = weinig vrienden om op terug te vallen.",
                "lsns6_vrienden", group=SCREENING, kind="score", out_of=15, low_below=LSNS_SUBSCALE_LOW_BELOW,
                note=f"onder {LSNS_SUBSCALE_LOW_BELOW}",
                missing=NO_ANSWERS, flag_column="lsns6_friends_low", flag_export="lsns6_vrienden_laag"),
    CardMeasure("djg11", "De Jong Gierveld (11 vragen)",
                "Eenzaamheid: 3 of meer = eenzaam, 9 of meer = ernstig eenzaam.", "djg11", group=SCREENING,
                kind="score", out_of=11, high_from=3, note="eenzaam", missing=NO_ANSWERS),
    CardMeasure("djg11_emotional", "Emotionele eenzaamheid",
                f"Gemis van een hechte band (vragen 2, 3, 5, 6, 9, 10); {DJG_EMOTIONAL_HIGH} of meer wijst op "
                "individuele steun: "
                "een bezoekdienst of een maatje.", "djg11_emotioneel", group=SCREENING, kind="score", out_of=6,
                high_from=DJG_EMOTIONAL_HIGH, note=f"{DJG_EMOTIONAL_HIGH} of meer", missing=NO_ANSWERS),
    CardMeasure("djg11_social", "Sociale eenzaamheid",
                f"Gemis van een bredere kring (vragen 1, 4, 7, 8, 11); {DJG_SOCIAL_HIGH} of meer wijst op groepen "
                "en ontmoeting.",
                "djg11_sociaal", group=SCREENING, kind="score", out_of=5, high_from=DJG_SOCIAL_HIGH,
                note=f"{DJG_SOCIAL_HIGH} of meer", missing=NO_ANSWERS),
    CardMeasure("djg6", "De Jong Gierveld (6 vragen)",
                "Korte schaal: 2-4 = matig eenzaam, 5-6 = ernstig eenzaam.", "djg6", group=SCREENING,
                kind="score", out_of=6, high_from=2, note="eenzaam", missing=NO_ANSWERS),
    CardMeasure("djg6_emotional", "Emotionele eenzaamheid (kort)",
                f"Korte schaal, vragen 3, 9, 10: {DJG6_SUBSCALE_HIGH} of meer wijst op individuele steun.",
                "djg6_emotioneel", group=SCREENING, kind="score", out_of=3, high_from=DJG6_SUBSCALE_HIGH,
                note=f"{DJG6_SUBSCALE_HIGH} of meer", missing=NO_ANSWERS),
    CardMeasure("djg6_social", "Sociale eenzaamheid (kort)",
                f"Korte schaal, vragen 4, 7, 8: {DJG6_SUBSCALE_HIGH} of meer wijst op groepen en ontmoeting.",
                "djg6_sociaal", group=SCREENING, kind="score", out_of=3, high_from=DJG6_SUBSCALE_HIGH,
                note=f"{DJG6_SUBSCALE_HIGH} of meer", missing=NO_ANSWERS),
    CardMeasure("reported_by_others", "Genoemd door anderen",
                "Hoe vaak anderen deze persoon in hun eigen netwerk noemen; telt niet mee in de maten hierboven.",
                "genoemd_door_anderen", group=OTHERS),
    CardMeasure("reported_by_others_only", "Alleen door de ander genoemd",
                "Van die keren: door iemand die de persoon zelf niet noemt; mogelijke steun die in het eigen "
                "verhaal ontbreekt.", "alleen_door_ander_genoemd", group=OTHERS),
)
PERSON_COLUMNS = {"person_id": "persoon", "buurt_code": "buurtcode", "age_band": "leeftijd"}
CARD_COLUMNS = ("Onderdeel", "Maat", "Waarde", "Let op", "Wat zegt het")


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def format_measure(measure: CardMeasure, value, band: str | None = None) -> str:
    """The value as shown on the card, the Dutch way (``0,33``; ``40%``; ``12 van 30``)."""
    if _missing(value):
        return measure.missing
    value = float(value)
    if measure.kind == "share":
        return f"{format_number(value * 100)}%"
    if measure.kind == "ratio":
        return format_number(value, 2)
    if measure.kind == "bits":
        return f"{format_number(value, 2)} bits"
    if measure.kind == "score":
        text = f"{format_number(value)} van {measure.out_of}"
        return f"{text} ({band})" if band else text
    return format_number(value)


def measure_note(measure: CardMeasure, value) -> str:
    """The flag of a value ('onder 6', 'niemand'), or '' when it is not flagged or missing."""
    if _missing(value):
        return ""
    low = measure.low_below is not None and float(value) < measure.low_below
    high = measure.high_from is not None and float(value) >= measure.high_from
    return measure.note if low or high else ""


def network_card_table(row: pd.Series) -> pd.DataFrame:
    """The network card of one person: every measure with its value, flag and what it means for support.

    Parameters
    ----------
    row : Series
        One row of the signal table (:func:`graphs.signals.signal_table`); absent measures show as missing.

    Returns
    -------
    DataFrame
        Columns Onderdeel, Maat, Waarde, Let op, Wat zegt het; one row per measure of :data:`CARD_MEASURES`,
        in that order. Values are Dutch text (``1.234``, ``0,33``, ``40%``, ``12 van 30``).
    """
    if not isinstance(row, pd.Series):
        from data.errors import DataValidationError

        raise DataValidationError("De netwerkkaart verwacht één rij van de signaaltabel (één persoon).")
    bands = {"djg11": row.get("djg11_band"), "djg6": row.get("djg6_band")}
    rows = []
    for measure in CARD_MEASURES:
        value = row.get(measure.column)
        band = bands.get(measure.column)
        rows.append((measure.group, measure.label,
                     format_measure(measure, value, None if _missing(band) else str(band)),
                     measure_note(measure, value), measure.explanation))
    return pd.DataFrame(rows, columns=list(CARD_COLUMNS))


def _export_column(values: pd.Series, measure: CardMeasure) -> pd.Series:
    if measure.kind in ("count", "score"):
        # Whole numbers stay whole (no '12,0'); a missing score is an empty cell.
        return pd.to_numeric(values, errors="coerce").round().astype("Int64")
    return pd.to_numeric(values, errors="coerce").astype(float).round(4)


def measures_export_frame(signals: pd.DataFrame) -> pd.DataFrame:
    """Every measure of the card per person, numbers as numbers, under short Dutch headers.

    ``signals`` is a signal table (index person_id). The columns are ``persoon``, ``buurtcode``,
    ``leeftijd`` and then, in the order of :data:`CARD_MEASURES`, each measure's ``export`` name
    (and its flag column where it has one); one row per person, sorted by person.
    """
    table = signals.sort_index()
    out = pd.DataFrame({"persoon": table.index.astype(str)})
    for column, header in list(PERSON_COLUMNS.items())[1:]:
        out[header] = table[column].astype("string").to_numpy() if column in table else pd.NA
    for measure in CARD_MEASURES:
        values = table[measure.column] if measure.column in table else pd.Series(np.nan, index=table.index)
        out[measure.export] = _export_column(values, measure).to_numpy()
        if measure.flag_column:
            flags = table[measure.flag_column] if measure.flag_column in table else pd.Series(pd.NA, index=table.index)
            out[measure.flag_export] = flags.astype("boolean").to_numpy()
    return out


def measures_explanation_frame() -> pd.DataFrame:
    """The sheet that explains each column of :func:`measures_export_frame` (Kolom, Maat, Onderdeel, Betekenis)."""
    rows = [("persoon", "Persoon", "", "De pseudonieme code van de persoon (geen naam)."),
            ("buurtcode", "Buurtcode", "", "CBS-code van de buurt waar de persoon woont."),
            ("leeftijd", "Leeftijd", "", "Leeftijdsgroep.")]
    units = {"share": " Als fractie (0-1).", "bits": " Logaritme met grondtal 2.", "ratio": ""}
    for m in CARD_MEASURES:
        extra = f" Score van 0 tot {m.out_of}." if m.kind == "score" else units.get(m.kind, "")
        empty = "" if m.kind == "count" else f" Leeg: {m.missing}."
        rows.append((m.export, m.label, m.group, m.explanation + extra + empty))
        if m.flag_column:
            rows.append((m.flag_export, f"{m.label}: {m.note}", m.group,
                         f"WAAR wanneer {m.label} {m.note} is; leeg zonder (volledige) antwoorden."))
    rows.append(("", "Let op", "", "De maten volgen het eigen verhaal van elke persoon; wie de persoon in het eigen "
                 "netwerk noemt, staat apart. LSNS-6 en De Jong Gierveld zijn screeningsinstrumenten, geen diagnose."))
    return pd.DataFrame(rows, columns=["Kolom", "Maat", "Onderdeel", "Betekenis"])


def measures_export_bytes(signals: pd.DataFrame, *, excel: bool) -> bytes:
    """The export of every measure per person as .xlsx (sheets 'Netwerkmaten' and 'Toelichting') or CSV.

    Written by the one safe writer (:mod:`data.export`): numeric cells stay numbers, no text becomes a
    formula. Counts and scores are whole numbers (``19``, never ``19,0``; a missing score an empty cell),
    in Excel with a number format per kind: counts and scores ``#,##0``, shares ``0%``, ratios and bits
    two decimals. In CSV (which has no second sheet) the flags read 'ja' / 'nee'.
    """
    from data.export import FMT_2, FMT_FRACTION_PCT, FMT_INT, frame_to_csv_bytes, frames_to_excel_bytes

    table = measures_export_frame(signals)
    # The frame is built from numpy arrays, which turn a nullable integer with a gap into float: whole again.
    whole = [m.export for m in CARD_MEASURES if m.kind in ("count", "score")]
    table = table.assign(**{c: pd.to_numeric(table[c], errors="coerce").round().astype("Int64") for c in whole})
    if excel:
        kinds = {"count": FMT_INT, "score": FMT_INT, "share": FMT_FRACTION_PCT, "ratio": FMT_2, "bits": FMT_2}
        formats = {m.export: kinds.get(m.kind, FMT_2) for m in CARD_MEASURES}
        return frames_to_excel_bytes({"Netwerkmaten": table, "Toelichting": measures_explanation_frame()},
                                     column_widths={"Toelichting": {"A": 28, "B": 32, "C": 22, "D": 110}},
                                     number_formats={"Netwerkmaten": formats})
    flags = [m.flag_export for m in CARD_MEASURES if m.flag_export]
    csv = table.assign(**{c: table[c].map({True: "ja", False: "nee"}, na_action="ignore") for c in flags})
    return frame_to_csv_bytes(csv)

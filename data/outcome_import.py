"""Import follow-up measurements: the long template (Excel/CSV) and repeated Network Canvas interviews.

Two ways in, one result: frames in the store's columns of ``measurements`` (and ``followup_ties``) that
the page or the command line passes to ``ScopedStore.merge_measurements``. Nothing is written here.

- The long template (:func:`measurement_template`, :func:`read_measurements_file`): one row per
  person × provision × moment with the date, the LSNS-6 and De Jong Gierveld items. Every problem of
  the file is collected (file, row, column, in Dutch) and raised at once; nothing is imported then.
- Repeated Network Canvas interviews (:func:`read_followup_export`, :func:`network_canvas_followup`):
  Network Canvas has no follow-up that carries a network forward, so teams interview the same case
  again with the same protocol. The sessions of one case (``networkCanvasCaseID`` = the Steunkaart code
  of the person) are ordered by their start: T0, T1, T2, T3. Alters get new ids in every session, so
  they are followed by a code the interviewer enters again (``alter_code_variable``) or because they are
  a known person; otherwise the report says that the ties of that person cannot be followed (they count
  as lost and new). Alters are never matched by their position.

Problem and warning rows are dicts with the keys ``bestand``, ``rij`` (1-based, header = row 1),
``kolom`` and ``melding``, as in :mod:`data.network_import` and :mod:`data.network_canvas`. Person codes
that are not in the store are never repeated in a message (they can be a name typed by mistake).
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.export import FMT_DATE, FMT_INT, explanation_frame, frame_to_csv_bytes, frames_to_excel_bytes
from data.formatting import format_number
from data.network_canvas import (
    _BOOL_VALUES,
    _EGO,
    _FILE,
    _ROW,
    _UUID,
    FieldMapping,
    NetworkCanvasMapping,
    NetworkCanvasSource,
    _expand,
    _file_kind,
    _norm_key,
    _norm_values,
    is_identifying_column,
    preview_network_canvas,
    read_network_canvas_export,
)
from data.network_import import (
    _DJG_SHORT,
    DJG_ITEM_TEXT,
    LSNS_ANSWERS,
    LSNS_ITEM_TEXT,
    _privacy_problems,
    _Report,
    _text,
)
from data.privacy import _OPAQUE_ID, personal_value_kind
from data.schema import DJG_ANSWERS, MOMENTS, STUDY_GROUPS
from data.tabular import read_table_file

__all__ = [
    "MEASUREMENT_TEMPLATE_COLUMNS",
    "FollowupImport",
    "MeasurementFile",
    "measurement_template",
    "network_canvas_followup",
    "read_followup_export",
    "read_measurements_file",
]

LSNS_COLUMNS = tuple(f"lsns_{i}" for i in range(1, 7))
DJG_COLUMNS = tuple(f"djg_{i}" for i in range(1, 12))
MEASUREMENT_TEMPLATE_COLUMNS = ("persoon", "voorziening", "groep", "moment", "datum", *LSNS_COLUMNS, *DJG_COLUMNS,
                                "netwerk_gevraagd")
REQUIRED_COLUMNS = ("persoon", "voorziening", "moment")
STORE_COLUMNS = ("person_id", "provision_id", "study_group", "moment", "measured_on", *LSNS_COLUMNS, *DJG_COLUMNS,
                 "network_recorded")
FOLLOWUP_TIE_COLUMNS = ("person_id", "provision_id", "moment", "alter_key", "alter_id", "role", "support_practical",
                        "support_emotional", "support_informational", "support_companionship", "contact_frequency",
                        "closeness", "from_group")
# Our Dutch header for each accepted header (the store's and English names too).
_HEADER_ALIASES = {
    **{c: c for c in MEASUREMENT_TEMPLATE_COLUMNS},
    "person_id": "persoon", "persoonscode": "persoon", "provision_id": "voorziening", "voorzieningscode": "voorziening",
    "study_group": "groep", "group": "groep", "onderzoeksgroep": "groep", "measured_on": "datum",
    "meetdatum": "datum", "network_recorded": "netwerk_gevraagd", "meetmoment": "moment",
}
# Group and moment as teams write them (compared lower case, spaces collapsed).
_GROUP_INPUT = {"deelnemer": "deelnemer", "deelnemers": "deelnemer", "participant": "deelnemer",
                "vergelijking": "vergelijking", "vergelijkingsgroep": "vergelijking", "controle": "vergelijking",
                "controlegroep": "vergelijking", "comparison": "vergelijking", "control": "vergelijking"}
_MOMENT_INPUT = {**{m.lower(): m for m in MOMENTS}, **{label.lower(): m for m, label in MOMENTS.items()},
                 "intake": "T0", "begin": "T0", "nulmeting": "T0", "einde": "T1", "eind": "T1", "nameting": "T1",
                 "follow-up 1": "T2", "follow-up 2": "T3"}
_YES = {"ja", "j", "1", "x", "waar", "true", "yes", "y"}
_NO = {"nee", "n", "0", "onwaar", "false", "no"}
# Dates: day first (dd-mm-jjjj, d-m-jjjj; also / or .) or ISO (jjjj-mm-dd, as an Excel date cell reads).
_DAY_FIRST = r"^(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{4})$"
_ISO = r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
# Node variables that say the alter is another participant of the group, and the alter's Steunkaart code.
FROM_GROUP_VARIABLES = ("uit_de_groep", "fromGroup", "from_group", "groepsgenoot_deelnemer", "in_group")
ALTER_PERSON_VARIABLES = ("code", "persoonscode", "steunkaart_code", "person_code")
MAX_SESSIONS = len(MOMENTS)


def _plural(n: int, one: str, many: str) -> str:
    return f"{format_number(n)} {one if n == 1 else many}"


# --------------------------------------------------------------------------- the long template

@dataclass
class MeasurementFile:
    """A measurement file as read: the rows for ``merge_measurements`` and what the user should know.

    ``measurements`` has the store's columns of table ``measurements`` (without ``version``);
    ``warnings`` are report rows (bestand, rij, kolom, melding) that do not block the import.
    """

    measurements: pd.DataFrame
    warnings: list[dict] = field(default_factory=list)
    file: str = ""

    def describe(self) -> str:
        """One Dutch line, e.g. '24 metingen van 12 personen bij 2 voorzieningen (T0: 12, T1: 10, T2: 2)'."""
        return _describe(self.measurements)


def _describe(m: pd.DataFrame) -> str:
    counts = m["moment"].value_counts()
    per = ", ".join(f"{k}: {format_number(int(counts[k]))}" for k in MOMENTS if k in counts.index)
    text = (f"{_plural(len(m), 'meting', 'metingen')} van {_plural(m['person_id'].nunique(), 'persoon', 'personen')} "
            f"bij {_plural(m['provision_id'].nunique(), 'voorziening', 'voorzieningen')}")
    return f"{text} ({per})" if per else text


def measurement_template(kind: str = "xlsx") -> bytes:
    """The measurement template with two example rows, as an Excel workbook or a CSV for Dutch Excel.

    Parameters
    ----------
    kind : {'xlsx', 'csv'}
        ``'xlsx'``: sheets Metingen (real date and number cells) and Toelichting; ``'csv'``: the rows
        only, ``;``-separated with dates as dd-mm-jjjj (as Dutch Excel writes it).

    Returns
    -------
    bytes
        Read back as it is by :func:`read_measurements_file` (replace the example codes by your own).
    """
    if kind not in ("xlsx", "csv"):
        raise DataValidationError("Kies het soort sjabloon: xlsx of csv.")
    rows = pd.DataFrame({
        "persoon": ["K-0001", "K-0001"], "voorziening": ["V001", "V001"], "groep": ["deelnemer", "deelnemer"],
        "moment": ["T0", "T1"], "datum": pd.to_datetime(["2025-09-01", "2025-10-13"]),
        **{c: pd.array(v, dtype="Int64") for c, v in zip(LSNS_COLUMNS, ((1, 2), (1, 1), (0, 1), (1, 2), (0, 1),
                                                                        (0, 1)), strict=True)},
        **{c: [a, b] for c, (a, b) in zip(DJG_COLUMNS, (("nee", "min of meer"), ("ja", "ja"), ("ja", "min of meer"),
                                                        ("nee", "min of meer"), ("ja", "nee"), ("ja", "ja"),
                                                        ("nee", "nee"), ("nee", "min of meer"), ("ja", "ja"),
                                                        ("min of meer", "nee"), ("nee", "ja")), strict=True)},
        "netwerk_gevraagd": ["ja", "ja"],
    })[list(MEASUREMENT_TEMPLATE_COLUMNS)]
    if kind == "csv":
        return frame_to_csv_bytes(rows.assign(datum=rows["datum"].dt.strftime("%d-%m-%Y")))
    formats = {"Metingen": {"datum": FMT_DATE, **{c: FMT_INT for c in LSNS_COLUMNS}}}
    widths = {"Metingen": {"A": 12, "B": 12, "C": 14, "D": 9, "E": 12}, "Toelichting": {"A": 12, "B": 18, "C": 90,
                                                                                        "D": 40}}
    return frames_to_excel_bytes({"Metingen": rows, "Toelichting": _template_help()}, column_widths=widths,
                                 number_formats=formats)


def _template_help() -> pd.DataFrame:
    lsns = "; ".join(f"{score} = {label}" for score, label in LSNS_ANSWERS.items())
    rows = [
        ("Metingen", "persoon", "Verplicht. De code van de persoon in Steunkaart (bijv. K-0001); nooit een naam, BSN, "
                                "telefoonnummer of adres.", "letters, cijfers en - _ . : |"),
        ("Metingen", "voorziening", "Verplicht. De code van de voorziening waaraan de persoon deelneemt (of waarmee "
                                    "de vergelijkingsgroep vergeleken wordt), bijv. V001.", "code uit Steunkaart"),
        ("Metingen", "groep", "deelnemer, of vergelijking voor wie met een signaal niet deelnam (ook: "
                              "vergelijkingsgroep, controle). Leeg = deelnemer. Een persoon is bij één voorziening "
                              "deelnemer óf vergelijking.", "deelnemer, vergelijking"),
        ("Metingen", "moment", "Verplicht. T0 = intake, T1 = einde, T2 en T3 = follow-ups (ook: intake, einde).",
         "T0, T1, T2, T3"),
        ("Metingen", "datum", "Datum van de meting; niet in de toekomst.", "dd-mm-jjjj (of een Excel-datum)"),
        *((("Metingen", col, f"LSNS-6 vraag {col[-1]}: {text}", lsns) for col, text in LSNS_ITEM_TEXT.items())),
        *((("Metingen", col, f"De Jong Gierveld vraag {col.split('_')[1]}: {text}"
            + (" Hoort ook bij de korte schaal van 6 vragen." if col in _DJG_SHORT else ""), ", ".join(DJG_ANSWERS))
           for col, text in DJG_ITEM_TEXT.items())),
        ("Metingen", "netwerk_gevraagd", "Is bij deze meting ook het netwerk gevraagd (in het gespreksformulier of "
                                         "Network Canvas)? Leeg = nee.", "ja, nee"),
    ]
    return explanation_frame([(*r, "") for r in rows])


def _parse_dates(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates from dd-mm-jjjj, d-m-jjjj or jjjj-mm-dd[ time] (vectorised); never day and month swapped.

    Returns (dates, bad) where ``bad`` marks a present value that is no existing date.
    """
    parts = text.str.extract(_DAY_FIRST)
    iso = text.str.extract(_ISO)
    parts = parts.fillna(iso[["d", "m", "y"]])
    numbers = parts.astype(object).apply(pd.to_numeric, errors="coerce").astype("float64")
    dates = pd.to_datetime(pd.DataFrame({"year": numbers["y"], "month": numbers["m"], "day": numbers["d"]}),
                           errors="coerce")
    return dates, text.notna() & dates.isna()


def _lookup_codes(values: pd.Series, known: Iterable[str] | None, aliases: dict | None) -> tuple[pd.Series, pd.Series]:
    """Codes as the store has them (exact, then case-insensitive, then an alias); (codes, unknown mask)."""
    if known is None and not aliases:
        return values, pd.Series(False, index=values.index)
    table: dict[str, str] = {}
    for code in known or ():
        table.setdefault(str(code).lower(), str(code))
    for alias, code in (aliases or {}).items():
        table.setdefault(str(alias).strip().lower(), str(code))
    exact = values.isin(list(known or ()))
    ours = values.where(exact, values.str.lower().map(table))
    return ours.astype("string"), values.notna() & ours.isna()


def _distinct_problems(report: _Report, file: str, values: pd.Series, bad: pd.Series, column: str, message) -> None:
    """One problem per distinct bad value, on its first row, with the number of rows."""
    if not bad.any():
        return
    counts = values[bad].value_counts()
    first = bad & ~values.where(bad).duplicated()
    report.add(file, first, column, lambda p: message(values.iloc[p], int(counts[values.iloc[p]])))


def read_measurements_file(path: str | Path, *, file_name: str | None = None,
                           known_persons: Iterable[str] | None = None, known_provisions: Iterable[str] | None = None,
                           provision_codes: dict[str, str] | None = None) -> MeasurementFile:
    """Read and check a filled-in measurement template (CSV or Excel); nothing is written.

    Parameters
    ----------
    path : path
        The file: CSV as Dutch Excel writes it (``;``, BOM, decimal commas) or ``,``, or an Excel file
        (the first sheet). Headers as in :data:`MEASUREMENT_TEMPLATE_COLUMNS`; the store's names
        (person_id, provision_id, study_group, measured_on, network_recorded) are read too.
    file_name : str, optional
        The name to use in messages (an upload is read from a temporary file).
    known_persons, known_provisions : iterable of str, optional
        Codes in the store; other codes are a problem (one per distinct code, on its first row).
    provision_codes : dict, optional
        Other codes for a provision (e.g. its source id or its name) → its provision_id.

    Returns
    -------
    MeasurementFile

    Raises
    ------
    DataValidationError
        With every problem in ``problems`` (bestand, rij, kolom, melding): an empty file or one with
        only a header, missing columns (persoon, voorziening, moment), a column or value that looks
        like personal data, unknown persons or provisions, a person × provision × moment twice, a
        person in both groups of one provision, items out of range, dates that are no date or lie in
        the future.
    """
    path = Path(path)
    name = file_name or path.name
    try:
        raw = read_table_file(path)
    except DataValidationError as exc:
        message = str(exc).split(" (bestand")[0]
        if "geen gegevensrijen" in message:
            message = "Het bestand heeft alleen een kopregel en geen metingen; er is niets geïmporteerd."
        raise DataValidationError(message, file=name, row=exc.row, column=exc.column,
                                  problems=[{"bestand": name, "rij": exc.row, "kolom": exc.column or "",
                                             "melding": message}]) from exc
    report = _Report()
    warnings: list[dict] = []
    headers = [re.sub(r"\s+", "_", str(c).strip().lower()) for c in raw.columns]
    ours = [_HEADER_ALIASES.get(h, h) for h in headers]
    for pos, col in enumerate(ours):
        if col in ours[:pos]:
            report.file(name, str(raw.columns[pos]), f"De kolom '{col}' staat twee keer in het bestand (ook als "
                                                     f"'{raw.columns[ours.index(col)]}'); laat er één staan.")
    frame = raw.copy()
    frame.columns = ours
    frame = frame.loc[:, ~pd.Index(ours).duplicated()]
    _privacy_problems(frame, name, ("persoon",), (), report)
    for col in REQUIRED_COLUMNS:
        if col not in frame:
            report.file(name, col, f"Verplichte kolom '{col}' ontbreekt (sjabloonkolommen: "
                                   f"{', '.join(MEASUREMENT_TEMPLATE_COLUMNS)}).")
    texts = pd.DataFrame({c: _text(frame, c) for c in frame.columns}, index=frame.index)
    blank = texts.isna().all(axis=1)
    if blank.all():
        message = "Het bestand heeft alleen een kopregel en geen metingen; er is niets geïmporteerd."
        raise DataValidationError(message, file=name, problems=[{"bestand": name, "rij": None, "kolom": "",
                                                                  "melding": message}])
    live = ~blank

    person = _text(frame, "persoon").where(live)
    report.add(name, live & person.isna() & ("persoon" in frame), "persoon", "mag niet leeg zijn.")
    if known_persons is not None:
        known = set(map(str, known_persons))
        unknown = person.notna() & ~person.isin(list(known))
        # The code itself is not repeated: it may be a name typed by mistake.
        _distinct_problems(report, name, person, unknown, "persoon",
                           lambda _v, n: "onbekende persoon: de code staat niet in de opslag ("
                                         f"{_plural(n, 'rij', 'rijen')} met deze code; de code wordt niet getoond). "
                                         "Importeer eerst de persoon.")

    given = _text(frame, "voorziening").where(live)
    report.add(name, live & given.isna() & ("voorziening" in frame), "voorziening", "mag niet leeg zijn.")
    provision, unknown = _lookup_codes(given, known_provisions, provision_codes)
    _distinct_problems(report, name, given, unknown, "voorziening",
                       lambda v, n: f"voorziening '{v}' staat niet in de opslag ({_plural(n, 'rij', 'rijen')}).")

    group_in = _text(frame, "groep").str.lower().str.replace(r"\s+", " ", regex=True).where(live)
    group = group_in.map(_GROUP_INPUT).astype("string")
    report.add(name, group_in.notna() & group.isna(), "groep",
               lambda p: f"'{frame['groep'].iloc[p]}' is geen groep; kies deelnemer of vergelijking.")
    no_group = live & group_in.isna()
    if no_group.any():
        warnings.append({"bestand": name, "rij": None, "kolom": "groep",
                         "melding": f"{_plural(int(no_group.sum()), 'rij', 'rijen')} zonder groep: gelezen als "
                                    "deelnemer."})
    group = group.mask(no_group, "deelnemer")

    moment_in = _text(frame, "moment").str.lower().str.replace(r"\s+", " ", regex=True).where(live)
    moment_key = moment_in.where(~moment_in.str.fullmatch(r"t ?[0-3]").fillna(False),
                                 moment_in.str.replace(" ", "", regex=False))
    moment = moment_key.map(_MOMENT_INPUT).astype("string")
    report.add(name, live & moment_in.isna() & ("moment" in frame), "moment",
               "mag niet leeg zijn; kies T0, T1, T2 of T3.")
    report.add(name, moment_in.notna() & moment.isna(), "moment",
               lambda p: f"'{frame['moment'].iloc[p]}' is geen moment; kies T0 (intake), T1 (einde), T2 of T3.")

    date_text = _text(frame, "datum").where(live)
    measured, bad = _parse_dates(date_text)
    report.add(name, bad, "datum", lambda p: f"'{date_text.iloc[p]}' is geen datum; schrijf dd-mm-jjjj (bijv. "
                                             "01-09-2026).")
    today = pd.Timestamp(date.today())
    report.add(name, measured > today, "datum",
               lambda p: f"de datum {measured.iloc[p]:%d-%m-%Y} ligt in de toekomst.")

    lsns = {}
    for col in LSNS_COLUMNS:
        raw_value = _text(frame, col).where(live)
        number = pd.to_numeric(raw_value.str.replace(",", ".", regex=False), errors="coerce")
        ok = number.isin(range(6))
        report.add(name, raw_value.notna() & ~ok, col, lambda p, r=raw_value: f"'{r.iloc[p]}' is geen score 0-5 "
                                                                              "(het aantal personen, gecodeerd 0-5).")
        lsns[col] = number.where(ok).astype("Int64")
    djg = {}
    for col in DJG_COLUMNS:
        answer = _text(frame, col).str.lower().str.replace(r"\s+", " ", regex=True).where(live)
        report.add(name, answer.notna() & ~answer.isin(DJG_ANSWERS), col,
                   lambda p, c=col: f"'{frame[c].iloc[p]}' is geen antwoord; kies ja, min of meer of nee.")
        djg[col] = answer.where(answer.isin(DJG_ANSWERS))
    network = _text(frame, "netwerk_gevraagd").str.lower().where(live)
    report.add(name, network.notna() & ~network.isin(list(_YES | _NO)), "netwerk_gevraagd",
               lambda p: f"'{frame['netwerk_gevraagd'].iloc[p]}' is geen ja/nee.")

    rows = pd.Series(np.arange(len(frame)) + 2, index=frame.index)
    key = person + "|" + provision.fillna(given) + "|" + moment
    keyed = key.notna()
    first_row = rows.groupby(key.where(keyed).to_numpy()).transform("min")
    report.add(name, keyed & key.where(keyed).duplicated(), "moment",
               lambda p: f"dezelfde persoon, voorziening en moment staan al op rij {int(first_row.iloc[p])}.")
    pair = person + "|" + provision.fillna(given)
    both = pair.notna() & group.notna()
    groups_of = group[both].groupby(pair[both]).transform("nunique").reindex(frame.index).fillna(0)
    first_group = group[both].groupby(pair[both]).transform("first").reindex(frame.index)
    report.add(name, both & (groups_of > 1) & (group != first_group), "groep",
               "een persoon is bij één voorziening deelnemer óf vergelijking; deze persoon staat hier in beide "
               "groepen.")
    report.raise_if_any()

    measurements = pd.DataFrame({
        "person_id": person, "provision_id": provision, "study_group": group, "moment": moment,
        "measured_on": measured, **lsns, **djg, "network_recorded": network.isin(list(_YES)).fillna(False),
    }).loc[live]
    # A follow-up dated before the person's intake is probably a typing error: say so, do not refuse.
    baseline = measurements.loc[measurements["moment"] == "T0"].set_index(["person_id", "provision_id"])[
        "measured_on"]
    at = pd.MultiIndex.from_frame(measurements[["person_id", "provision_id"]])
    t0 = pd.Series(baseline.reindex(at).to_numpy(), index=measurements.index)
    early = (measurements["moment"] != "T0") & (measurements["measured_on"] < t0)
    for pos in measurements.index[early.fillna(False).to_numpy(dtype=bool)]:
        warnings.append({"bestand": name, "rij": int(rows[pos]), "kolom": "datum",
                         "melding": f"De {moment[pos]} van deze persoon is gedateerd vóór de intake (T0 op "
                                    f"{t0[pos]:%d-%m-%Y}); klopt de datum?"})
    measurements = measurements.reset_index(drop=True)
    return MeasurementFile(measurements[list(STORE_COLUMNS)], warnings, name)


# --------------------------------------------------------------------------- repeated Network Canvas interviews

_SESSION_FILE = re.compile(r"^(?P<case>.+?)_(?P<session>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                           r"[0-9a-fA-F]{12})(?:_ego\.csv|\.graphml|\.xml)$")


@dataclass
class FollowupSource(NetworkCanvasSource):
    """A Network Canvas export with, per interview, what the plain reader leaves out on purpose.

    ``sessions``: one row per ego (``__ego``) with ``case`` (networkCanvasCaseID, typed by the interviewer:
    the Steunkaart code of the person for a follow-up), ``session`` and the ``start``, ``finish`` and
    ``exported`` times as written. Only :func:`network_canvas_followup` uses them; the case id is never
    stored as such, only when it is a known person's code.
    """

    sessions: pd.DataFrame = field(default_factory=pd.DataFrame)


def read_followup_export(files) -> FollowupSource:
    """Read a Network Canvas export of repeated interviews (CSV, GraphML, their zip or folder, or uploads).

    The export is read by :func:`data.network_canvas.read_network_canvas_export` (the same checks); the
    case id, session id and session times of each interview are read from its ego file or ``<graph>``.

    Parameters
    ----------
    files : path, (name, bytes) or a list of them
        As for ``read_network_canvas_export``.

    Returns
    -------
    FollowupSource
    """
    source = read_network_canvas_export(files)
    items = [files] if isinstance(files, str | Path | tuple) else list(files)
    rows: list[pd.DataFrame] = []
    with tempfile.TemporaryDirectory(prefix="steunkaart-nc-followup-") as tmp:
        out: dict = {"problems": [], "warnings": []}
        for name, path in _expand(items, Path(tmp), out):
            lower = name.lower()
            if lower.endswith(".csv") and _file_kind(name)[0] in ("ego", None):
                frame = read_table_file(path)
                cols = {str(c).strip().lower(): c for c in frame.columns}
                ego = next((cols[c] for c in ("networkcanvasegouuid", "_egoid", "ego_uuid") if c in cols), None)
                if ego is None or _file_kind(name)[0] is None and "sessionstart" not in cols:
                    continue

                def col(*names, frame=frame, cols=cols):
                    found = next((cols[n] for n in names if n in cols), None)
                    return frame[found] if found else pd.Series(pd.NA, index=frame.index, dtype="string")

                rows.append(pd.DataFrame({
                    _EGO: frame[ego], "case": col("networkcanvascaseid", "_caseid", "caseid"),
                    "session": col("networkcanvassessionid", "_sessionid"),
                    "start": col("sessionstart", "_sessionstart"), "finish": col("sessionfinish", "_sessionfinish"),
                    "exported": col("sessionexported", "_sessionexported"), "file": name}))
            elif lower.endswith((".graphml", ".xml")):
                from data.graphml import read_graphml

                try:
                    graphs = read_graphml(path, file=name).graphs
                except DataValidationError:
                    continue

                def attr(*names, graphs=graphs):
                    found = next((n for n in names if n in graphs), None)
                    return graphs[found] if found else pd.Series(pd.NA, index=graphs.index, dtype="string")

                ego = attr("networkCanvasUUID").fillna(attr("@sessionUUID"))
                rows.append(pd.DataFrame({
                    _EGO: ego, "case": attr("@caseId", "@caseID"), "session": attr("@sessionUUID"),
                    "start": attr("@sessionStartTime"), "finish": attr("@sessionFinishTime"),
                    "exported": attr("@sessionExportTime"), "file": name}))
    sessions = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=[_EGO, "case", "session", "start", "finish", "exported", "file"])
    sessions = sessions.astype("string").apply(lambda c: c.str.strip().where(c.str.strip() != ""))
    # CSV before GraphML, as the reader: an interview in both is read once.
    sessions = sessions.assign(__graphml=sessions["file"].str.lower().str.endswith((".graphml", ".xml")))
    sessions = sessions.sort_values("__graphml", kind="stable").drop_duplicates(_EGO).drop(columns="__graphml")
    values = {f.name: getattr(source, f.name) for f in dataclasses.fields(NetworkCanvasSource)}
    return FollowupSource(**values, sessions=sessions.reset_index(drop=True))


@dataclass
class FollowupImport:
    """Repeated Network Canvas interviews as measurements and follow-up networks, ready to store.

    ``measurements`` and ``followup_ties`` have the store's columns of those tables; ``report`` has one
    row per person (persoon, gesprekken, momenten, relaties, te_volgen, melding); ``warnings`` are report
    rows (bestand, rij, kolom, melding).
    """

    measurements: pd.DataFrame
    followup_ties: pd.DataFrame
    report: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)

    def describe(self) -> str:
        """One Dutch line: the measurements and the number of network rows."""
        return f"{_describe(self.measurements)}; {_plural(len(self.followup_ties), 'relatie', 'relaties')}"


def _moment_values(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    text = text.where(~text.str.fullmatch(r"t ?[0-3]").fillna(False), text.str.replace(" ", "", regex=False))
    return text.map(_MOMENT_INPUT).astype("string")


def _column(frame: pd.DataFrame, names) -> str | None:
    """The first column of ``frame`` that is one of ``names`` (case, spaces and underscores ignored)."""
    names = [names] if isinstance(names, str) else list(names)
    by_key = {}
    for col in frame.columns:
        if not str(col).startswith("__"):
            by_key.setdefault(_norm_key(col), col)
    return next((by_key[_norm_key(n)] for n in names if _norm_key(n) in by_key), None)


def _session_table(source: NetworkCanvasSource) -> pd.DataFrame:
    """Per ego of ``source``: file, row, case, start/finish/exported (from a FollowupSource, else the file name)."""
    egos = source.egos
    table = pd.DataFrame({_EGO: egos[_EGO], "file": egos[_FILE], "row": egos[_ROW],
                          "start": egos.get("__start", pd.Series(pd.NA, index=egos.index, dtype="string"))})
    sessions = getattr(source, "sessions", None)
    if sessions is not None and len(sessions):
        extra = sessions.drop_duplicates(_EGO).set_index(_EGO)
        for col in ("case", "finish", "exported"):
            table[col] = table[_EGO].map(extra[col]).astype("string")
        table["start"] = table["start"].fillna(table[_EGO].map(extra["start"]).astype("string"))
    else:
        for col in ("case", "finish", "exported"):
            table[col] = egos.get(f"__{col}", pd.Series(pd.NA, index=egos.index, dtype="string"))
    from_name = table["file"].str.extract(_SESSION_FILE)["case"].astype("string")
    table["case_from_name"] = table["case"].isna() & from_name.notna()
    table["case"] = table["case"].fillna(from_name)
    return table


def network_canvas_followup(source: NetworkCanvasSource, mapping: NetworkCanvasMapping | None = None, *,
                            provision_id: str, study_group: str = "deelnemer", known_persons: Iterable[str],
                            moment_variable: str | None = None, alter_code_variable: str | None = None,
                            alter_person_variables: Iterable[str] = ALTER_PERSON_VARIABLES,
                            from_group_variables: Iterable[str] = FROM_GROUP_VARIABLES) -> FollowupImport:
    """Repeated Network Canvas interviews of the same cases as measurements T0-T3 with their networks.

    The person is the case: ``networkCanvasCaseID`` is the Steunkaart code of a known person. The
    sessions of a case are ordered by ``sessionStart`` (else ``sessionFinish``, else ``sessionExported``,
    with a warning): the first is T0, then T1, T2, T3; an ego variable ``moment_variable`` (T0..T3,
    intake, einde) overrides the order. The LSNS-6 and De Jong Gierveld items come from the ego variables
    through ``mapping`` (default: the preset), the network of each session from its person alters.

    Alters get new ids in every Network Canvas session. An alter is followed from moment to moment by the
    node variable ``alter_code_variable`` (a code the interviewer enters again, never a name), else
    because it is a known person (a node variable of ``alter_person_variables``, e.g. ``code``); otherwise
    it gets a key of its own session and the report says that the ties of that person cannot be followed
    (they count as lost and new). A node variable of ``from_group_variables`` that is true marks another
    participant of the group (``from_group``): that alter must have a known person's code.

    Parameters
    ----------
    source : NetworkCanvasSource
        From :func:`read_followup_export` (or ``read_network_canvas_export``: the case id then comes from
        the exporter's file names ``<caseId>_<sessionId>_ego.csv``).
    mapping : NetworkCanvasMapping, optional
        How ego and alter variables become our fields; the mapping's ``person_id`` is not used.
    provision_id : str
        The provision taken part in (or compared with).
    study_group : {'deelnemer', 'vergelijking'}
    known_persons : iterable of str
        Person codes in the store.
    moment_variable, alter_code_variable : str, optional
        Ego variable with the moment; node variable with the alter's stable code.
    alter_person_variables, from_group_variables : iterable of str
        Candidate node variables (the first present is used).

    Returns
    -------
    FollowupImport

    Raises
    ------
    DataValidationError
        With every problem in ``problems`` (bestand, rij, kolom, melding).
    """
    if study_group not in STUDY_GROUPS:
        raise DataValidationError(f"Onbekende groep '{study_group}'; kies {' of '.join(STUDY_GROUPS)}.")
    known = set(map(str, known_persons))
    mapping = mapping or NetworkCanvasMapping.preset()
    # The person is the case, not an ego variable: without person_id every session keeps its own ego.
    session_mapping = dataclasses.replace(mapping, ego={**mapping.ego, "person_id": FieldMapping(())})
    preview = preview_network_canvas(source, session_mapping)
    problems = preview.problems.astype(object).where(preview.problems.notna(), None).to_dict("records")
    warnings = preview.warnings.astype(object).where(preview.warnings.notna(), None).to_dict("records")
    # A follow-up needs no buurt: the person is in the store already.
    warnings = [w for w in warnings if not str(w["melding"]).startswith("Geen variabele met de buurtcode")]

    def problem(file, row, column, message) -> None:
        problems.append({"bestand": file, "rij": None if row is None or pd.isna(row) else int(row),
                         "kolom": column, "melding": message})

    sessions = _session_table(source)
    for file in sessions.loc[sessions["case_from_name"], "file"]:
        warnings.append({"bestand": file, "rij": None, "kolom": "networkCanvasCaseID",
                         "melding": "De case-id staat niet in het bestand; gelezen uit de bestandsnaam "
                                    "(<case-id>_<sessie-id>_…)."})
    for s in sessions.loc[sessions["case"].isna()].itertuples():
        problem(s.file, s.row, "networkCanvasCaseID",
                "Het gesprek heeft geen case-id. Vul in Network Canvas als case-id de Steunkaart-code van de persoon "
                "in.")
    unknown = sessions["case"].notna() & ~sessions["case"].isin(list(known))
    for s in sessions.loc[unknown].itertuples():
        problem(s.file, s.row, "networkCanvasCaseID",
                "De case-id van dit gesprek is geen persoon in de opslag (de waarde wordt niet getoond: het kan een "
                "naam zijn). Vul in Network Canvas als case-id de Steunkaart-code van de persoon in.")

    # When each session took place: its start, else its finish, else its export (and say so).
    when = pd.Series(pd.NaT, index=sessions.index, dtype="datetime64[ns, UTC]")
    for col, label in (("start", None), ("finish", "sessionFinish"), ("exported", "sessionExported")):
        parsed = pd.to_datetime(sessions[col], errors="coerce", utc=True, format="ISO8601")
        fill = when.isna() & parsed.notna()
        if label and fill.any():
            for s in sessions.loc[fill].itertuples():
                warnings.append({"bestand": s.file, "rij": None if pd.isna(s.row) else int(s.row), "kolom": label,
                                 "melding": f"sessionStart ontbreekt; de volgorde en de datum van dit gesprek komen "
                                            f"uit {label}."})
        when = when.where(~fill, parsed)
    sessions["when"] = when
    for s in sessions.loc[when.isna() & (moment_variable is None)].itertuples():
        problem(s.file, s.row, "sessionStart",
                "Het gesprek heeft geen (leesbare) sessionStart, sessionFinish of sessionExported: de volgorde van "
                "de gesprekken is niet te bepalen.")
    cased = sessions["case"].notna()
    order = sessions.loc[cased].sort_values(["case", "when"], kind="stable")
    rank = order.groupby("case").cumcount()
    sessions["moment"] = pd.Series(pd.NA, index=sessions.index, dtype="string")
    sessions.loc[rank.index, "moment"] = ("T" + rank.astype(str)).where(rank < MAX_SESSIONS)
    same_time = cased & when.notna() & sessions.duplicated(["case", "when"], keep=False)
    if moment_variable is None:
        for s in sessions.loc[same_time].itertuples():
            problem(s.file, s.row, "sessionStart", "Twee gesprekken van dezelfde persoon begonnen op hetzelfde moment: "
                                                   "de volgorde is niet te bepalen (geef een momentvariabele op).")
    too_many = pd.Series(False, index=sessions.index)
    too_many.loc[rank.index] = rank >= MAX_SESSIONS
    for s in sessions.loc[too_many].itertuples():
        problem(s.file, s.row, "networkCanvasCaseID",
                f"Van deze persoon staan meer dan {MAX_SESSIONS} gesprekken in de export (T0 tot en met T3); dit is "
                f"het {int(rank[s.Index]) + 1}e. Laat oude of dubbele gesprekken weg.")
    if moment_variable is not None:
        col = _column(source.egos, moment_variable)
        if col is None:
            problem(", ".join(sorted(set(sessions["file"].dropna()))), None, moment_variable,
                    f"De ego-variabele '{moment_variable}' met het moment staat niet in de export.")
        else:
            given = _moment_values(source.egos[col])
            for pos in np.flatnonzero(given.isna().to_numpy()):
                problem(sessions["file"].iloc[pos], sessions["row"].iloc[pos], col,
                        f"'{source.egos[col].iloc[pos] if pd.notna(source.egos[col].iloc[pos]) else ''}' is geen "
                        "moment; vul T0, T1, T2 of T3 in.")
            sessions["moment"] = given.to_numpy()
            twice = cased & given.notna().to_numpy() & sessions.duplicated(["case", "moment"], keep="first")
            for s in sessions.loc[twice].itertuples():
                problem(s.file, s.row, col, f"Deze persoon heeft al een gesprek met moment {s.moment} in de export.")

    # Scores per session from the preview (its persons are the sessions, keyed by their own ego).
    persons = preview.frames["persons"]
    session_pid = ("NC-" + source.egos[_EGO].str.replace("-", "", regex=False).str[:8]).astype("string")
    sessions["pid"] = session_pid.to_numpy()
    by_pid = sessions.drop_duplicates("pid").set_index("pid")
    measured = persons.merge(sessions[["pid", "case", "moment", "when"]], left_on="person_id", right_on="pid",
                             how="left")
    local = measured["when"].dt.tz_convert("Europe/Amsterdam").dt.tz_localize(None).dt.normalize()
    measurements = pd.DataFrame({
        "person_id": measured["case"].astype("string"), "provision_id": str(provision_id),
        "study_group": study_group, "moment": measured["moment"].astype("string"), "measured_on": local,
        **{c: measured[c].astype("Int64") for c in LSNS_COLUMNS},
        **{c: measured[c].astype("string") for c in DJG_COLUMNS}, "network_recorded": True,
    })

    # The network of each session: the preview's ties, with the node variables this import needs.
    ties = preview.frames["ties"]
    nodes = source.nodes.drop_duplicates([_EGO, _UUID])
    ego_uuid = ties["ego_id"].map(by_pid[_EGO])
    at = pd.MultiIndex.from_arrays([ego_uuid.astype("string"), ties["alter_key"].astype("string")])
    node_at = pd.Series(np.arange(len(nodes)), index=pd.MultiIndex.from_arrays([nodes[_EGO], nodes[_UUID]]))
    pos = node_at.reindex(at).to_numpy()
    rows = nodes.iloc[pos.astype(int)].reset_index(drop=True) if len(ties) else nodes.iloc[:0]
    file, line = rows[_FILE].to_numpy(), rows[_ROW].to_numpy()
    case = ties["ego_id"].map(by_pid["case"]).astype("string").reset_index(drop=True)
    moment = ties["ego_id"].map(by_pid["moment"]).astype("string").reset_index(drop=True)

    def node_problems(mask, column, message) -> None:
        for k in np.flatnonzero(np.asarray(mask, dtype=bool)):
            problem(file[k], line[k], column, message)

    def node_values(names, label) -> tuple[str | None, pd.Series]:
        col = _column(rows, names) if len(rows) else None
        if col is None:
            return None, pd.Series(pd.NA, index=rows.index, dtype="string")
        if is_identifying_column(col) and _norm_key(col) not in {_norm_key(c) for c in mapping.not_identifying}:
            problem(", ".join(sorted(set(rows[_FILE]))), None, col,
                    f"De variabele '{col}' ({label}) lijkt een naam of ander persoonsgegeven te bevatten; gebruik een "
                    "code zonder naam of initialen (of zet de variabele in not_identifying van de koppeling).")
        return col, rows[col].astype("string")

    code_col, code = node_values([alter_code_variable] if alter_code_variable else [], "vaste code van de ander")
    if alter_code_variable and code_col is None and len(rows):
        problem(", ".join(sorted(set(rows[_FILE]))), None, alter_code_variable,
                f"De knoopvariabele '{alter_code_variable}' met de vaste code van de ander staat niet in de export.")
    if code_col is not None:
        personal = personal_value_kind(code, names=True).notna() | ~code.str.fullmatch(_OPAQUE_ID.pattern).fillna(True)
        node_problems(code.notna() & personal, code_col,
                      "De code van deze ander is geen ondoorzichtige code (alleen letters, cijfers en - _ . : |; geen "
                      "naam). De waarde wordt niet getoond.")
        code = code.where(~personal)
    person_col, alter_person = node_values(alter_person_variables, "code van een persoon in Steunkaart")
    not_known = alter_person.notna() & ~alter_person.isin(list(known))
    node_problems(not_known, person_col or "",
                  "Deze ander heeft een code die geen persoon in de opslag is (de waarde wordt niet getoond); laat de "
                  "code leeg voor iemand die niet in Steunkaart staat.")
    self_tie = alter_person.notna() & (alter_person == case)
    node_problems(self_tie, person_col or "", "Deze ander heeft de code van de persoon zelf.")
    alter_id = alter_person.where(~not_known & ~self_tie)
    group_col, group_raw = node_values(from_group_variables, "uit de groep")
    group_norm = _norm_values(group_raw)
    bad_bool = group_norm.notna() & ~group_norm.isin(list(_BOOL_VALUES))
    node_problems(bad_bool, group_col or "", "Geen true/false (ja/nee): is deze ander iemand uit de groep?")
    from_group = group_norm.map(_BOOL_VALUES).fillna(False).astype(bool)
    node_problems(from_group & alter_id.isna() & ~not_known & ~self_tie, group_col or "",
                  "Deze ander komt uit de groep, maar heeft geen code van een deelnemer in Steunkaart"
                  + (f" (variabele '{person_col}')" if person_col else f" (knoopvariabele {ALTER_PERSON_VARIABLES[0]})")
                  + "; vul de Steunkaart-code van die deelnemer in.")
    followable = code.notna() | alter_id.notna()
    key = code.fillna(alter_id).fillna("nc-" + ties["alter_key"].astype("string").reset_index(drop=True))
    twice = case.notna() & pd.DataFrame({"c": case, "m": moment, "k": key}).duplicated(keep="first")
    node_problems(twice, code_col or person_col or "networkCanvasUUID",
                  "Deze ander heeft dezelfde code als een andere ander in hetzelfde gesprek.")
    followup_ties = pd.DataFrame({
        "person_id": case, "provision_id": str(provision_id), "moment": moment, "alter_key": key,
        "alter_id": alter_id, "role": ties["role"].astype("string").reset_index(drop=True),
        **{c: ties[c].astype(bool).reset_index(drop=True) for c in ("support_practical", "support_emotional",
                                                                     "support_informational",
                                                                     "support_companionship")},
        "contact_frequency": ties["contact_frequency"].astype("string").reset_index(drop=True),
        "closeness": ties["closeness"].astype("Int64").reset_index(drop=True), "from_group": from_group,
    })

    if problems:
        first = problems[0]
        raise DataValidationError(
            f"{len(problems)} probleem/problemen gevonden; er is niets geïmporteerd. Eerste: {first['melding']}",
            file=first["bestand"], row=first["rij"], column=first["kolom"] or None, problems=problems)

    report = []
    per_moment = followup_ties.groupby(["person_id", "moment"]).size()
    unfollowed = followup_ties.loc[~followable.to_numpy()].groupby("person_id").size()
    for person, group in measurements.sort_values(["person_id", "moment"]).groupby("person_id", sort=True):
        n_sessions = len(group)
        lost = int(unfollowed.get(person, 0))
        ok = n_sessions < 2 or lost == 0
        message = ""
        if not ok:  # never matched by position: say that these ties count as lost and new
            message = ("De relaties van deze persoon zijn niet van moment tot moment te volgen: bij "
                       f"{_plural(lost, 'relatie', 'relaties')} (alle gesprekken samen) heeft de ander geen vaste code"
                       + (f" (variabele '{code_col}')" if code_col else "")
                       + " en is geen bekende persoon; die tellen bij elke meting als verloren en nieuw. Laat de "
                         "interviewer in elk gesprek dezelfde code per ander invullen (geen naam of initialen) en "
                         "geef die variabele op.")
        report.append({
            "persoon": person, "gesprekken": n_sessions, "momenten": ", ".join(group["moment"]),
            "relaties": ", ".join(f"{m}: {int(per_moment.get((person, m), 0))}" for m in group["moment"]),
            "uit_de_groep": int(followup_ties.loc[followup_ties["person_id"] == person, "from_group"].sum()),
            "te_volgen": "n.v.t." if n_sessions < 2 else ("ja" if ok else "nee"), "melding": message})
    return FollowupImport(measurements[list(STORE_COLUMNS)].reset_index(drop=True), followup_ties, report, warnings)

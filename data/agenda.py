"""The wijkagenda as tables: the export, the import, the text rules and "wat is er veranderd sinds".

An agenda item is a collective action of the wijk (issue 17). Its tables (``agenda_items``,
``agenda_links``, ``agenda_updates``) hold no person ids by construction: an item links only to
buurten, provisions, residents' initiatives and gaps (a provision type), and carries an aggregate
figure as text. This module keeps it that way where text comes in:

- :func:`check_agenda_text` is the one rule for a title, aim or note (length, no BSN, phone number
  or e-mail address in it); the store calls it on every save, :func:`read_agenda_file` on every cell.
- :func:`agenda_table` is the one Dutch table of the agenda (export, CLI, printed agenda); a link of a
  kind that is not in :data:`data.schema.AGENDA_LINK_KINDS` is refused, never shown.
- :func:`read_agenda_file` reads a CSV or Excel file of items (also the export itself), collects every
  problem before it raises one error, and returns the items in the store's columns.
- :func:`changes_since` lists what changed since the last meeting, from the items and their updates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.export import (
    FMT_DATE,
    FMT_DATETIME,
    FMT_INT,
    explanation_frame,
    frame_to_csv_bytes,
    frames_to_excel_bytes,
)
from data.privacy import _PERSONAL_COLUMN, passes_eleven_test
from data.schema import AGENDA_LINK_KINDS, AGENDA_NOTE_MAX, AGENDA_ORIGINS, AGENDA_OWNERS, AGENDA_STATUSES

AGENDA_COLUMNS = ("agendapunt", "wijkcode", "wijk", "titel", "doel", "eigenaar", "status", "start", "deadline",
                  "bron", "cijfer", "buurten", "voorzieningen", "initiatieven", "tekorten", "aangemaakt_door",
                  "bijgewerkt_door", "bijgewerkt_op", "versie")
# Link kind -> the column of the table that lists its targets.
LINK_COLUMNS = {"buurt": "buurten", "voorziening": "voorzieningen", "initiatief": "initiatieven", "tekort": "tekorten"}
LINK_SEPARATOR = "; "
TITLE_MAX = 200
AIM_MAX = 1000
FIGURE_MAX = 500
# Store column -> (Dutch label in messages, maximum length in characters).
TEXT_LIMITS = {"title": ("titel", TITLE_MAX), "aim": ("doel", AIM_MAX), "note": ("notitie", AGENDA_NOTE_MAX),
               "origin_figure": ("cijfer", FIGURE_MAX),
               # initiatives and key figures (the store uses the same rule for their texts)
               "name": ("naam", TITLE_MAX), "what": ("omschrijving", AIM_MAX),
               "support_asked": ("gevraagde steun", AIM_MAX), "contact_organisation": ("contactorganisatie", TITLE_MAX),
               "role_label": ("rol", TITLE_MAX), "organisation": ("organisatie", TITLE_MAX)}
# The columns of agenda_items an import fills in (ids, versions and who/when are the store's).
IMPORT_COLUMNS = ("wijk_code", "title", "aim", "owner_role", "status", "starts_on", "due_on", "origin_kind",
                  "origin_figure")
# Export column -> store column, and the other names a file may use for it.
_IMPORT_HEADERS = {"wijkcode": "wijk_code", "titel": "title", "doel": "aim", "eigenaar": "owner_role",
                   "status": "status", "start": "starts_on", "deadline": "due_on", "bron": "origin_kind",
                   "cijfer": "origin_figure"}
_ALIASES = {**{v: k for k, v in _IMPORT_HEADERS.items()}, "wijk_code": "wijkcode", "einddatum": "deadline",
            "startdatum": "start", "omschrijving": "doel"}
_IGNORED_HEADERS = ("agendapunt", "wijk", "aangemaakt_door", "bijgewerkt_door", "bijgewerkt_op", "versie", "item_id",
                    "version")
_REQUIRED = ("wijkcode", "titel", "eigenaar")
# Columns that name a resident: never in an agenda file (the privacy module's list, and person codes).
_PERSON_COLUMN = re.compile(r"^(persoon|persoon_?id|person_?id|person|client|cliënt|clientnummer|ego|ego_?id|"
                            r"alter|alter_?id|bewoner)$", re.IGNORECASE)
# Personal data inside a free text: a nine-digit number (BSN if it passes the eleven-test), a Dutch
# phone number (with spaces, dashes or +31) and an e-mail address, anywhere in the text.
_BSN_IN_TEXT = r"(?<![\d])(\d(?:[ .\-]?\d){8})(?![\d:])"
_PHONE_IN_TEXT = (r"(?<![\d+])(?:\+31|0031|0)[ \-]?(?:\(0\)[ \-]?)?[1-9](?:[ \-]?\d){8}(?![\d:])")
_EMAIL_IN_TEXT = r"[^@\s;,<>()]+@[^@\s;,<>()]+\.[A-Za-z]{2,}"
_KIND_BSN, _KIND_PHONE, _KIND_EMAIL = "een BSN (elfproef)", "een telefoonnummer", "een e-mailadres"
_ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
LOCAL_TZ = "Europe/Amsterdam"


# --------------------------------------------------------------------------- text rules

def personal_text_kind(values: pd.Series) -> pd.Series:
    """Which personal data each free text contains anywhere in it (vectorised), in Dutch; ``<NA>`` where none.

    Unlike :func:`data.privacy.personal_value_kind`, which judges a whole cell, this finds a BSN
    (nine digits passing the eleven-test, also written with spaces, dots or dashes), a Dutch phone
    number or an e-mail address *inside* a sentence ("bel 06-12345678 voor ...").

    Parameters
    ----------
    values : Series
        Texts (missing values are never personal data).

    Returns
    -------
    Series
        Same index, dtype string: 'een BSN (elfproef)', 'een telefoonnummer', 'een e-mailadres' or ``<NA>``.
    """
    text = values.astype("string")
    kind = pd.Series(pd.NA, index=values.index, dtype="string")
    email = text.str.contains(_EMAIL_IN_TEXT, regex=True).fillna(False).astype(bool)
    phone = text.str.contains(_PHONE_IN_TEXT, regex=True).fillna(False).astype(bool)
    bsn = pd.Series(False, index=values.index)
    candidates = text.str.extractall(_BSN_IN_TEXT)[0] if text.notna().any() else pd.Series(dtype="string")
    if len(candidates):
        passing = passes_eleven_test(candidates.reset_index(drop=True))
        rows = candidates.index.get_level_values(0)[passing.to_numpy()]
        bsn = pd.Series(values.index.isin(rows), index=values.index)
    # The first kind that matches names the cell (most specific first).
    for mask, what in ((email, _KIND_EMAIL), (phone, _KIND_PHONE), (bsn, _KIND_BSN)):
        kind = kind.mask(mask & kind.isna(), what)
    return kind


def _limit(column: str) -> tuple[str, int]:
    return TEXT_LIMITS.get(column, (column, AIM_MAX))


def check_agenda_text(text, *, column: str) -> str:
    """Return a title, aim, note or figure of an agenda item stripped, or refuse it in Dutch.

    The one text rule of the agenda (the store calls it on every save, the import on every cell):
    leading and trailing spaces are removed, a title or note is one line (line breaks become spaces),
    the text may not be longer than its limit (title 200, aim 1000, note
    :data:`data.schema.AGENDA_NOTE_MAX`, figure 500 characters; other columns 1000) and may not contain
    anything that looks like a BSN, a phone number or an e-mail address: an agenda is about collective
    actions, never about a resident.

    Parameters
    ----------
    text : str or None
        The text as entered; None or empty gives ``""`` (except for a title).
    column : str
        The store column: 'title', 'aim', 'note' or 'origin_figure'; also the texts of initiatives and key
        figures ('name', 'what', 'support_asked', 'contact_organisation', 'role_label', 'organisation'; see
        :data:`TEXT_LIMITS`). Any other name gets the limit 1000.

    Returns
    -------
    str
        The cleaned text.

    Raises
    ------
    DataValidationError
        An empty title, a text over its limit or one with personal data in it (``column`` names the column).
    """
    label, limit = _limit(column)
    value = "" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    value = value.strip()
    if column in ("title", "note"):
        value = re.sub(r"\s*[\r\n]+\s*", " ", value)
    if not value:
        if column == "title":
            raise DataValidationError("Geef het agendapunt een titel.", column=label)
        return ""
    if len(value) > limit:
        raise DataValidationError(f"De tekst bij {label} is {len(value)} tekens lang; maximaal {limit} tekens. "
                                  "Houd het kort: het agendapunt gaat over een gezamenlijke actie.", column=label)
    kind = personal_text_kind(pd.Series([value], dtype="string")).iloc[0]
    if not pd.isna(kind):
        raise DataValidationError(f"De tekst bij {label} lijkt {kind} te bevatten. Een wijkagenda gaat over "
                                  "gezamenlijke acties, nooit over een bewoner: laat persoonsgegevens weg.",
                                  column=label)
    return value


# --------------------------------------------------------------------------- the table

def _names(frame, code_col: str, name_col: str = "name") -> pd.Series:
    if frame is None or len(frame) == 0 or code_col not in frame or name_col not in frame:
        return pd.Series(dtype=object)
    return pd.Series(frame[name_col].to_numpy(dtype=object), index=frame[code_col].astype(str).to_numpy())


def _type_labels(provision_types) -> pd.Series:
    if provision_types is None:
        from data.provision_types import PROVISION_TYPES

        provision_types = PROVISION_TYPES
    return pd.Series({code: getattr(t, "label", t) for code, t in provision_types.items()}, dtype=object)


def _local_moment(values: pd.Series) -> pd.Series:
    """ISO moments of the store (UTC) as naive local times (Europe/Amsterdam), missing as NaT."""
    moments = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    return moments.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)


def _check_link_kinds(links: pd.DataFrame) -> None:
    unknown = sorted(set(links["kind"].dropna().astype(str)) - set(AGENDA_LINK_KINDS)) if len(links) else []
    if unknown or (len(links) and links["kind"].isna().any()):
        raise DataValidationError(
            f"Onbekende soort koppeling '{unknown[0] if unknown else ''}' bij een agendapunt; een agendapunt "
            f"koppelt alleen aan: {', '.join(AGENDA_LINK_KINDS)} (nooit aan een persoon).", column="kind")


def agenda_table(items: pd.DataFrame, links: pd.DataFrame, areas: pd.DataFrame, provisions=None, initiatives=None, *,
                 provision_types: Mapping | None = None) -> pd.DataFrame:
    """The agenda as one Dutch table: one row per item with its wijk, owner, status, dates and links.

    Parameters
    ----------
    items : DataFrame
        The store's ``agenda_items``.
    links : DataFrame
        The store's ``agenda_links`` (item_id, kind, target); links of items not in ``items`` are left out.
    areas : DataFrame
        The store's ``areas`` (area_code, name, level): names of the wijken and linked buurten.
    provisions, initiatives : DataFrame, optional
        ``provisions`` (provision_id, name) and ``initiatives`` (initiative_id, name) for the names of links.
    provision_types : mapping, optional
        Code -> provision type (or label), the names of the gaps (default: the built-in catalogue).

    Returns
    -------
    DataFrame
        Columns :data:`AGENDA_COLUMNS`, sorted by wijk code and item id. ``eigenaar``, ``status`` and ``bron``
        are Dutch labels; ``start`` and ``deadline`` dates; ``bijgewerkt_op`` a local time (Europe/Amsterdam);
        ``versie`` Int64; the link columns the targets joined by '; ', each as its code and, where known, its
        name ('BU19990001 Oude Kern'); empty where there are none. ``aangemaakt_door`` and ``bijgewerkt_door``
        are account names of colleagues; the tables hold no person id of a resident.

    Raises
    ------
    DataValidationError
        A link of a kind that is not in :data:`data.schema.AGENDA_LINK_KINDS` (the guard that keeps
        anything else, such as a person, out of the agenda).
    """
    for name, frame, needed in (("items", items, ("item_id", "wijk_code", "title", "owner_role", "status")),
                                ("links", links, ("item_id", "kind", "target"))):
        if not isinstance(frame, pd.DataFrame):
            raise DataValidationError(f"agenda_table verwacht een tabel (DataFrame) voor {name}.")
        missing = [c for c in needed if c not in frame]
        if missing:
            raise DataValidationError(f"De tabel {name} mist de kolom(men) {', '.join(missing)}.", column=missing[0])
    _check_link_kinds(links)
    level = areas["level"].astype(str) if "level" in areas else pd.Series("", index=areas.index)
    wijk_names = _names(areas.loc[level.eq("wijk")], "area_code")
    buurt_names = _names(areas.loc[level.eq("buurt")], "area_code")
    if items.empty:
        return _typed(pd.DataFrame({c: pd.Series(dtype=object) for c in AGENDA_COLUMNS}))

    item_ids = items["item_id"].astype(str)
    own = links.loc[links["item_id"].astype(str).isin(item_ids)].astype({"item_id": str, "kind": str, "target": str})
    labelled = own.assign(name=pd.Series(None, index=own.index, dtype=object))
    for kind, names in (("buurt", buurt_names), ("voorziening", _names(provisions, "provision_id")),
                        ("initiatief", _names(initiatives, "initiative_id")),
                        ("tekort", _type_labels(provision_types))):
        of_kind = labelled["kind"].eq(kind)
        labelled["name"] = labelled["name"].mask(of_kind, labelled["target"].map(names).astype(object))
    name = labelled["name"].astype("string").str.strip()
    labelled["label"] = (labelled["target"] + (" " + name).fillna("")).where(name.fillna("").ne(""),
                                                                            labelled["target"])
    joined = (labelled.drop_duplicates(["item_id", "kind", "target"]).sort_values(["item_id", "kind", "target"])
              .groupby(["item_id", "kind"])["label"].agg(LINK_SEPARATOR.join).unstack("kind"))
    joined = joined.reindex(columns=list(LINK_COLUMNS)).rename(columns=LINK_COLUMNS)

    wijk = items["wijk_code"].astype(str)
    table = pd.DataFrame({
        "agendapunt": item_ids.to_numpy(),
        "wijkcode": wijk.to_numpy(),
        "wijk": wijk.map(wijk_names).to_numpy(dtype=object),
        "titel": items["title"].to_numpy(dtype=object),
        "doel": _col(items, "aim"),
        "eigenaar": items["owner_role"].map(lambda r: AGENDA_OWNERS.get(r, r)).to_numpy(dtype=object),
        "status": items["status"].map(lambda s: AGENDA_STATUSES.get(s, s)).to_numpy(dtype=object),
        "start": _day(_col(items, "starts_on")),
        "deadline": _day(_col(items, "due_on")),
        "bron": pd.Series(_col(items, "origin_kind")).map(lambda o: AGENDA_ORIGINS.get(o, o)).to_numpy(dtype=object),
        "cijfer": _col(items, "origin_figure"),
        **{c: item_ids.map(joined[c]).to_numpy(dtype=object) for c in LINK_COLUMNS.values()},
        "aangemaakt_door": _col(items, "created_by"),
        "bijgewerkt_door": _col(items, "updated_by"),
        "bijgewerkt_op": _local_moment(pd.Series(_col(items, "updated_at"))).to_numpy(),
        "versie": pd.array(pd.to_numeric(pd.Series(_col(items, "version")), errors="coerce"), dtype="Int64"),
    })
    table = table.sort_values(["wijkcode", "agendapunt"], kind="stable").reset_index(drop=True)
    return _typed(table)


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name in frame:
        return frame[name].to_numpy(dtype=object)
    return np.full(len(frame), None, dtype=object)


def _day(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(values), errors="coerce").dt.normalize().to_numpy(dtype="datetime64[ns]")


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Missing texts as None (empty cells), dates as datetime64, the version as Int64."""
    for column in ("start", "deadline", "bijgewerkt_op"):
        table[column] = pd.to_datetime(table[column], errors="coerce").astype("datetime64[ns]")
    table["versie"] = pd.array(pd.to_numeric(table["versie"], errors="coerce"), dtype="Int64")
    texts = [c for c in AGENDA_COLUMNS if c not in ("start", "deadline", "bijgewerkt_op", "versie")]
    for column in texts:
        values = table[column].astype(object)
        table[column] = values.where(values.notna() & values.astype(str).str.strip().ne(""), None)
    return table[list(AGENDA_COLUMNS)]


# --------------------------------------------------------------------------- export

_EXPLANATION = (
    ("agendapunt", "Nummer van het agendapunt (bij opnieuw importeren krijgt elk punt een nieuw nummer).", ""),
    ("wijkcode", "CBS-code van de wijk (WK......). Verplicht bij importeren.", ""),
    ("wijk", "Naam van de wijk.", ""),
    ("titel", f"Korte titel van de gezamenlijke actie (maximaal {TITLE_MAX} tekens). Verplicht.", ""),
    ("doel", f"Wat de actie moet bereiken (maximaal {AIM_MAX} tekens).", ""),
    ("eigenaar", "Wie de actie trekt: " + ", ".join(AGENDA_OWNERS.values()) + ". Verplicht.", ""),
    ("status", "Een van: " + ", ".join(AGENDA_STATUSES.values()) + " (leeg: idee).", ""),
    ("start", "Startdatum (dd-mm-jjjj).", "datum"),
    ("deadline", "Datum waarop de actie klaar moet zijn (dd-mm-jjjj); niet voor de start.", "datum"),
    ("bron", "Waar het agendapunt vandaan komt: " + ", ".join(AGENDA_ORIGINS.values()) + ".", ""),
    ("cijfer", "Het geaggregeerde cijfer zoals het was toen het punt werd gemaakt (kleine aantallen verborgen).", ""),
    ("buurten", "Gekoppelde buurten: CBS-code en naam, gescheiden door '; '.", ""),
    ("voorzieningen", "Gekoppelde voorzieningen: id en naam, gescheiden door '; '.", ""),
    ("initiatieven", "Gekoppelde bewonersinitiatieven: id en naam, gescheiden door '; '.", ""),
    ("tekorten", "Gekoppelde tekorten: code en naam van de soort voorziening, gescheiden door '; '.", ""),
    ("aangemaakt_door", "Account van de collega die het punt maakte.", ""),
    ("bijgewerkt_door", "Account van de collega die het punt het laatst bijwerkte.", ""),
    ("bijgewerkt_op", "Moment van de laatste wijziging (Nederlandse tijd).", "datum en tijd"),
    ("versie", "Versienummer (telt op bij elke wijziging).", "aantal"),
)
AGENDA_SHEET = "Wijkagenda"
AGENDA_NUMBER_FORMATS = {"start": FMT_DATE, "deadline": FMT_DATE, "bijgewerkt_op": FMT_DATETIME, "versie": FMT_INT}


def agenda_export_bytes(table: pd.DataFrame, kind: str = "csv") -> bytes:
    """Write the agenda table (:func:`agenda_table`) as CSV or Excel through :mod:`data.export`.

    Parameters
    ----------
    table : DataFrame
        The output of :func:`agenda_table` (columns :data:`AGENDA_COLUMNS`).
    kind : {'csv', 'xlsx'}
        CSV for Dutch Excel (';', UTF-8 with BOM; dates as dd-mm-jjjj, the moment as dd-mm-jjjj uu:mm) or an
        Excel workbook with the sheet 'Wijkagenda' (dates as date cells, the version as an integer) and a
        sheet 'Toelichting' per column. Both read back with :func:`read_agenda_file`.

    Returns
    -------
    bytes
        The file; without items only the header row (and the Toelichting).

    Raises
    ------
    DataValidationError
        A table without the agenda's columns or an unknown ``kind``.
    """
    if not isinstance(table, pd.DataFrame) or list(table.columns) != list(AGENDA_COLUMNS):
        raise DataValidationError("De export verwacht de agendatabel (agenda_table) met de kolommen "
                                  + ", ".join(AGENDA_COLUMNS) + ".")
    kind = str(kind).lower().lstrip(".")
    if kind == "xlsx":
        explanation = explanation_frame((AGENDA_SHEET, column, meaning, unit, "Wijkagenda in Steunkaart")
                                        for column, meaning, unit in _EXPLANATION)
        widths = {AGENDA_SHEET: {"A": 10, "B": 11, "C": 20, "D": 40, "E": 50},
                  "Toelichting": {"A": 12, "B": 18, "C": 90, "D": 14, "E": 26}}
        return frames_to_excel_bytes({AGENDA_SHEET: table, "Toelichting": explanation}, column_widths=widths,
                                     number_formats={AGENDA_SHEET: AGENDA_NUMBER_FORMATS})
    if kind != "csv":
        raise DataValidationError(f"Onbekend exportformaat '{kind}'; kies csv of xlsx.")
    out = table.copy()
    # A CSV has no date cells: the dates as the Dutch write them, which the import reads back day first.
    for column, fmt in (("start", "%d-%m-%Y"), ("deadline", "%d-%m-%Y"), ("bijgewerkt_op", "%d-%m-%Y %H:%M")):
        text = pd.to_datetime(out[column]).dt.strftime(fmt)
        out[column] = text.astype(object).where(text.notna(), None)
    return frame_to_csv_bytes(out)


# --------------------------------------------------------------------------- import

@dataclass
class AgendaFile:
    """A checked agenda file: the items in the store's columns, their links and what was not taken over.

    Attributes
    ----------
    items : DataFrame
        Columns :data:`IMPORT_COLUMNS` (codes, not labels; dates as datetime64; missing as None/NaT), one row
        per data row of the file, index 0..n-1.
    links : list of list of tuple
        Per item (same order as ``items``) its links as ``(kind, target)``.
    warnings : list of dict
        ``bestand``, ``rij``, ``kolom``, ``melding``: what was ignored (ids, unknown columns).
    file_name : str
    rows : ndarray
        The spreadsheet row (header = 1) of each item.
    """

    items: pd.DataFrame
    links: list[list[tuple[str, str]]]
    warnings: list[dict] = field(default_factory=list)
    file_name: str = ""
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def links_frame(self) -> pd.DataFrame:
        """The links as a frame: ``row`` (position in ``items``), ``kind``, ``target``."""
        records = [(i, kind, target) for i, item_links in enumerate(self.links) for kind, target in item_links]
        return pd.DataFrame.from_records(records, columns=["row", "kind", "target"])

    def describe(self) -> str:
        """One Dutch line: how many items for which wijken, how many links, how many warnings."""
        from data.formatting import format_number

        n = len(self.items)
        wijken = sorted(set(self.items["wijk_code"].dropna().astype(str)))
        n_links = sum(len(item_links) for item_links in self.links)
        text = (f"{format_number(n)} {'agendapunt' if n == 1 else 'agendapunten'} uit {self.file_name}"
                + (f" (wijk{'en' if len(wijken) > 1 else ''} {', '.join(wijken)})" if wijken else "")
                + f", {format_number(n_links)} {'koppeling' if n_links == 1 else 'koppelingen'}")
        if self.warnings:
            text += f"; {format_number(len(self.warnings))} {'opmerking' if len(self.warnings) == 1 else 'opmerkingen'}"
        return text + "."


def _problem(problems: list, file: str, row: int, column: str, message: str) -> None:
    problems.append({"bestand": file, "rij": int(row), "kolom": column, "melding": message})


def _parse_dates(text: pd.Series, file: str, column: str, problems: list, rows: np.ndarray) -> pd.Series:
    empty = text.isna() | text.eq("")
    # An Excel date cell reads back as '2027-01-02 00:00:00': year first, never day first.
    iso = text.str.fullmatch(_ISO_DATE, na=False)
    parsed = pd.to_datetime(text.where(~empty & ~iso), errors="coerce", dayfirst=True, format="mixed")
    if iso.any():
        parsed = parsed.where(~iso, pd.to_datetime(text.where(iso), errors="coerce", format="ISO8601"))
    for pos in np.flatnonzero((parsed.isna() & ~empty).to_numpy()):
        _problem(problems, file, rows[pos], column, f"'{text.iloc[pos]}' is geen datum (gebruik dd-mm-jjjj).")
    return parsed.dt.normalize()


def _code_lookup(values: Iterable[str], *, upper: bool) -> dict[str, str]:
    """Known codes by their normalised form (case-insensitive), to the code as stored."""
    return {(str(v).strip().upper() if upper else str(v).strip().lower()): str(v) for v in values}


def _label_lookup(labels: Mapping[str, str]) -> dict[str, str]:
    """Codes and Dutch labels (any case) to the code."""
    return {**{v.lower(): k for k, v in labels.items()}, **{k.lower(): k for k in labels}}


def _split_links(text: pd.Series) -> pd.DataFrame:
    """Every '; '-separated part of the cells as (pos, part, code): the code is the first word of a part."""
    parts = text.fillna("").str.split(";").explode()
    parts = parts.astype("string").str.strip()
    parts = parts.loc[parts.fillna("").ne("")]
    frame = pd.DataFrame({"pos": parts.index.to_numpy(dtype=int), "part": parts.to_numpy(dtype=object)})
    frame["code"] = frame["part"].astype(str).str.split(n=1).str[0]
    return frame


def read_agenda_file(path: str | Path, *, file_name: str | None = None, known_wijken: Iterable[str],
                     known_buurten: Iterable[str] = (), known_provisions: Iterable[str] = (),
                     known_initiatives: Iterable[str] = (), known_types: Mapping | None = None) -> AgendaFile:
    """Read and check a CSV or Excel file of agenda items (such as the export) for the store.

    Columns (any case): ``wijkcode``, ``titel`` and ``eigenaar`` are required; ``doel``, ``status`` (empty:
    idee), ``start``, ``deadline``, ``bron`` (empty: zelf ingevoerd), ``cijfer``, and the links ``buurten``,
    ``voorzieningen``, ``initiatieven``, ``tekorten`` ('; '-separated; each part starts with its code, a name
    after it is ignored) are optional. Owner, status and origin may be codes or Dutch labels. The export's
    other columns (``agendapunt``, ``wijk``, who and when, ``versie``) are ignored with a remark: every row
    becomes a new item, numbered by the store. Other unknown columns are ignored with a remark too.

    Every problem of the file is collected before one error is raised; nothing is returned then.

    Parameters
    ----------
    path : str or Path
        The file (CSV from Dutch Excel, with or without BOM, any of ; , tab; or .xlsx).
    file_name : str, optional
        The name to report (an upload's own name); default the name of ``path``.
    known_wijken : iterable of str
        Wijk codes of the store (items of other wijken are refused).
    known_buurten, known_provisions, known_initiatives : iterable of str
        Buurt codes, provision ids and initiative ids a link may point at; a link to anything else is refused.
    known_types : mapping, optional
        Provision type code -> type (or label), the gaps a link may name (default: the built-in catalogue).

    Returns
    -------
    AgendaFile

    Raises
    ------
    DataValidationError
        With ``problems`` (``bestand``, ``rij``, ``kolom``, ``melding``; header = row 1) for: a missing
        required column, a column that looks like personal data (a name, address, phone, e-mail, BSN or a
        person code), an unknown wijk, owner, status or origin, a link to an unknown buurt, provision,
        initiative or type, a date that is no date, a deadline before the start, a missing or too long
        title (or aim, figure), and a text that contains a BSN, phone number or e-mail address.
    """
    from data.tabular import read_table_file

    path = Path(path)
    file = file_name or path.name
    try:
        frame = read_table_file(path)
    except DataValidationError as exc:
        if exc.file or not file_name:
            raise
        raise DataValidationError(str(exc), file=file) from exc
    problems: list[dict] = []
    warnings: list[dict] = []
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for column in frame.columns:
        name = str(column).strip()
        key = _ALIASES.get(name.lower(), name.lower())
        if _PERSONAL_COLUMN.match(name) or _PERSON_COLUMN.match(name):
            _problem(problems, file, 1, name, "deze kolom lijkt persoonsgegevens te bevatten (een naam, adres, "
                     "telefoon, e-mail, BSN of de code van een persoon); een wijkagenda gaat nooit over een bewoner. "
                     "Verwijder de kolom.")
        elif key in _IMPORT_HEADERS or key in LINK_COLUMNS.values():
            if key in headers:
                _problem(problems, file, 1, name, f"de kolom '{key}' komt twee keer voor.")
            headers[key] = column
        elif key in _IGNORED_HEADERS:
            if frame[column].fillna("").astype(str).str.strip().ne("").any():
                ignored.append(name)
        else:
            warnings.append({"bestand": file, "rij": 1, "kolom": name, "melding": "onbekende kolom; genegeerd."})
    if ignored:  # the export's own columns: one remark for all of them
        warnings.insert(0, {"bestand": file, "rij": 1, "kolom": ", ".join(ignored), "melding": (
            "genegeerd: elke rij wordt een nieuw agendapunt met een eigen nummer; wie, wanneer en de versie vult "
            "Steunkaart zelf in.")})
    for required in _REQUIRED:
        if required not in headers:
            _problem(problems, file, 1, required, "verplichte kolom ontbreekt (kolommen: "
                     + ", ".join([*_IMPORT_HEADERS, *LINK_COLUMNS.values()]) + ").")
    if problems:
        _raise(problems, file)

    rows = np.arange(len(frame)) + 2
    text = {key: frame[column].astype("string").str.strip() for key, column in headers.items()}
    empty_col = pd.Series(pd.NA, index=frame.index, dtype="string")
    cell = {key: text.get(key, empty_col) for key in [*_IMPORT_HEADERS, *LINK_COLUMNS.values()]}
    present = {key: values.notna() & values.ne("") for key, values in cell.items()}

    # Personal data anywhere in the file, also in a column that is ignored.
    for column in frame.columns:
        values = frame[column].astype("string")
        kind = personal_text_kind(values)
        for pos in np.flatnonzero(kind.notna().to_numpy()):
            _problem(problems, file, rows[pos], str(column), f"de waarde lijkt {kind.iloc[pos]} te bevatten; "
                     "persoonsgegevens horen niet in de wijkagenda. De waarde zelf wordt niet getoond.")
    bad_personal = {(p["rij"], p["kolom"]) for p in problems}

    for pos in np.flatnonzero(~present["titel"].to_numpy()):
        _problem(problems, file, rows[pos], headers["titel"], "mag niet leeg zijn: geef elk agendapunt een titel.")
    clean = {}
    for key, store_col in (("titel", "title"), ("doel", "aim"), ("cijfer", "origin_figure")):
        label, limit = _limit(store_col)
        values = cell[key]
        if store_col == "title":
            values = values.str.replace(r"\s*[\r\n]+\s*", " ", regex=True)
        length = values.str.len().fillna(0).to_numpy()
        for pos in np.flatnonzero(length > limit):
            _problem(problems, file, rows[pos], headers.get(key, key),
                     f"de tekst bij {label} is {int(length[pos])} tekens lang; maximaal {limit} tekens.")
        clean[store_col] = values.where(present[key], None)

    wijken = _code_lookup(known_wijken, upper=True)
    wijk_in = cell["wijkcode"].str.upper()
    wijk = wijk_in.map(wijken)
    known_text = ", ".join(sorted(wijken.values())) or "geen wijken"
    for pos in np.flatnonzero(~present["wijkcode"].to_numpy()):
        _problem(problems, file, rows[pos], headers["wijkcode"], "mag niet leeg zijn: de code van de wijk (WK......).")
    for pos in np.flatnonzero((wijk.isna() & present["wijkcode"]).to_numpy()):
        _problem(problems, file, rows[pos], headers["wijkcode"],
                 f"onbekende wijk '{cell['wijkcode'].iloc[pos]}'; de opslag kent: {known_text}.")

    coded = {}
    for key, labels, default in (("eigenaar", AGENDA_OWNERS, None), ("status", AGENDA_STATUSES, "idee"),
                                 ("bron", AGENDA_ORIGINS, "handmatig")):
        lookup = _label_lookup(labels)
        codes = cell[key].str.lower().map(lookup)
        if default is not None:
            codes = codes.where(present[key], default)
        elif key in headers:
            for pos in np.flatnonzero(~present[key].to_numpy()):
                _problem(problems, file, rows[pos], headers[key], "mag niet leeg zijn; kies uit: "
                         + ", ".join(labels.values()) + ".")
        for pos in np.flatnonzero((codes.isna() & present[key]).to_numpy()):
            _problem(problems, file, rows[pos], headers.get(key, key),
                     f"onbekende {key} '{cell[key].iloc[pos]}'; kies uit: {', '.join(labels.values())}.")
        coded[key] = codes

    starts = _parse_dates(cell["start"], file, headers.get("start", "start"), problems, rows)
    dues = _parse_dates(cell["deadline"], file, headers.get("deadline", "deadline"), problems, rows)
    for pos in np.flatnonzero((dues < starts).fillna(False).to_numpy()):
        _problem(problems, file, rows[pos], headers.get("deadline", "deadline"),
                 "de deadline ligt voor de start; controleer beide datums.")

    if known_types is None:
        from data.provision_types import PROVISION_TYPES

        known_types = PROVISION_TYPES
    type_lookup = _label_lookup(_type_labels(known_types).astype(str).to_dict())
    link_parts = []
    for kind, column in LINK_COLUMNS.items():
        parts = _split_links(cell[column])
        if parts.empty:
            continue
        if kind == "tekort":  # a code, or a type's label as a whole
            target = parts["part"].str.lower().map(type_lookup).fillna(parts["code"].str.lower().map(type_lookup))
        else:
            known = {"buurt": known_buurten, "voorziening": known_provisions, "initiatief": known_initiatives}[kind]
            target = parts["code"].str.upper().map(_code_lookup(known, upper=True))
        what = {"buurt": "buurt", "voorziening": "voorziening", "initiatief": "bewonersinitiatief",
                "tekort": "soort voorziening"}[kind]
        for pos, part in parts.loc[target.isna(), ["pos", "part"]].itertuples(index=False):
            if (rows[pos], headers[column]) not in bad_personal:
                _problem(problems, file, rows[pos], headers[column], f"onbekende {what} '{part}'.")
        link_parts.append(pd.DataFrame({"pos": parts["pos"], "kind": kind, "target": target}).dropna())
    if problems:
        _raise(problems, file)

    items = pd.DataFrame({
        "wijk_code": wijk.astype(object).to_numpy(),
        "title": clean["title"].astype(object).to_numpy(),
        "aim": clean["aim"].astype(object).to_numpy(),
        "owner_role": coded["eigenaar"].astype(object).to_numpy(),
        "status": coded["status"].astype(object).to_numpy(),
        "starts_on": starts.to_numpy(),
        "due_on": dues.to_numpy(),
        "origin_kind": coded["bron"].astype(object).to_numpy(),
        "origin_figure": clean["origin_figure"].astype(object).to_numpy(),
    })
    items = items.astype({c: object for c in IMPORT_COLUMNS if c not in ("starts_on", "due_on")})
    items = items.where(items.notna(), None).astype({"starts_on": "datetime64[ns]", "due_on": "datetime64[ns]"})
    links: list[list[tuple[str, str]]] = [[] for _ in range(len(items))]
    if link_parts:
        all_links = pd.concat(link_parts, ignore_index=True).drop_duplicates(["pos", "kind", "target"])
        for pos, kind, target in all_links.sort_values(["pos", "kind", "target"]).itertuples(index=False):
            links[int(pos)].append((str(kind), str(target)))
    return AgendaFile(items=items, links=links, warnings=warnings, file_name=file, rows=rows)


def _raise(problems: list[dict], file: str) -> None:
    problems.sort(key=lambda p: (p["rij"], p["kolom"]))
    first = problems[0]
    raise DataValidationError(
        f"{len(problems)} {'probleem' if len(problems) == 1 else 'problemen'} gevonden; er is niets geïmporteerd. "
        f"Eerste: {first['melding']}", file=file, row=first["rij"], column=first["kolom"], problems=problems)


# --------------------------------------------------------------------------- changes since a date

CHANGES_COLUMNS = ("agendapunt", "titel", "wat", "wanneer", "wie")


def _since_moment(since) -> pd.Timestamp:
    """``since`` as a UTC moment: a date means the start of that day in Dutch time."""
    try:
        moment = pd.Timestamp(since)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"'{since}' is geen datum (gebruik dd-mm-jjjj).") from exc
    if moment is pd.NaT or pd.isna(moment):
        raise DataValidationError("Kies een datum voor 'wat is er veranderd sinds'.")
    if moment.tzinfo is None:
        moment = moment.tz_localize(LOCAL_TZ)
    return moment.tz_convert("UTC")


def _who(user: pd.Series, role: pd.Series) -> pd.Series:
    from data.auth import ROLES

    label = role.map(lambda r: ROLES.get(r, r).lower() if isinstance(r, str) else None)
    user = user.astype(object).where(user.notna(), "")
    return (user.astype(str) + (" (" + label.astype("string") + ")").fillna("")).str.strip()


def changes_since(items: pd.DataFrame, updates: pd.DataFrame, since) -> pd.DataFrame:
    """What changed on the agenda since a date: the list for the next meeting ("Wat is er veranderd sinds").

    One row per change after ``since`` (a date: from the start of that day, Dutch time; a moment: from then):

    - ``nieuw`` for an item created then (with its owner, and its deadline when it has one);
    - ``status: gepland → loopt`` for an update whose status differs from the item's status before it
      (from the update history, in time order; the update that created an item is its 'nieuw');
    - ``deadline: 01-03-2027 → 15-04-2027`` when the updates carry a ``due_on`` column (the deadline after
      the update) and it changed;
    - ``notitie: <the note>`` for every note added;
    - ``gewijzigd (titel, doel of datums)`` for an item updated then without any of the above in its history
      (the history does not say what changed; the item's current deadline is named).

    ``wie`` is the account name of the colleague with their role ('jvdberg (opbouwwerker)'): accounts are
    colleagues' working names, fine to show in a team meeting, and the agenda never holds a resident.

    Parameters
    ----------
    items : DataFrame
        The store's ``agenda_items`` (item_id, title, owner_role, due_on, created_by, created_at, updated_by,
        updated_at).
    updates : DataFrame
        The store's ``agenda_updates`` (item_id, at, user, role, status, note; optionally due_on).
    since : date, str or Timestamp
        The date of the last meeting.

    Returns
    -------
    DataFrame
        Columns :data:`CHANGES_COLUMNS`; ``wanneer`` a naive local time (Europe/Amsterdam). Sorted by time,
        then item. Items no longer in ``items`` are left out.
    """
    start = _since_moment(since)
    empty = pd.DataFrame({"agendapunt": pd.Series(dtype=object), "titel": pd.Series(dtype=object),
                          "wat": pd.Series(dtype=object), "wanneer": pd.Series(dtype="datetime64[ns]"),
                          "wie": pd.Series(dtype=object)})
    if items is None or items.empty:
        return empty
    items = items.assign(item_id=items["item_id"].astype(str))
    titles = items.set_index("item_id")["title"]
    created = pd.to_datetime(items["created_at"], errors="coerce", utc=True, format="mixed")
    updated = pd.to_datetime(items["updated_at"], errors="coerce", utc=True, format="mixed")
    due_text = pd.to_datetime(_col(items, "due_on"), errors="coerce").strftime("%d-%m-%Y")
    # Both as pandas strings: '+' on a str column and an all-missing object column fails in pandas 3.
    due_text = pd.Series(np.asarray(due_text, dtype=object), index=items.index).astype("string")
    owner = items["owner_role"].map(lambda r: AGENDA_OWNERS.get(r, r)).astype("string")
    new = created >= start
    frames = []
    first_role = pd.Series(dtype=object)
    if updates is not None and len(updates) and "role" in updates:  # who created it, in which role
        ordered = updates.assign(item_id=updates["item_id"].astype(str),
                                 at=pd.to_datetime(updates["at"], errors="coerce", utc=True, format="mixed"))
        first_role = ordered.sort_values("at", kind="stable").drop_duplicates("item_id").set_index("item_id")["role"]
    new_items = items.loc[new]
    if len(new_items):
        what = ("nieuw (eigenaar " + owner[new].astype(str) + ")").where(
            due_text[new].isna(), "nieuw (eigenaar " + owner[new].astype(str) + ", deadline " + due_text[new] + ")")
        frames.append(pd.DataFrame({"item_id": new_items["item_id"], "wat": what.to_numpy(),
                                    "at": created[new].to_numpy(), "wie": new_items["created_by"].to_numpy(),
                                    "role": new_items["item_id"].map(first_role).to_numpy(dtype=object),
                                    "order": 0}))

    explained = pd.Series(False, index=items["item_id"].to_numpy())
    if updates is not None and len(updates):
        ups = updates.assign(item_id=updates["item_id"].astype(str),
                             at=pd.to_datetime(updates["at"], errors="coerce", utc=True, format="mixed"))
        ups = ups.loc[ups["item_id"].isin(items["item_id"])]
        ups = ups.reset_index(drop=True).rename_axis("seq").reset_index().sort_values(["item_id", "at", "seq"])
        group = ups.groupby("item_id", sort=False)
        previous = group["status"].shift()
        after = (ups["at"] >= start).to_numpy()
        first = group.cumcount().eq(0).to_numpy()
        status = ups["status"].astype("string")
        changed = (status.notna() & previous.notna() & status.ne(previous.astype("string"))).fillna(False).to_numpy()
        pieces = [(changed & after & ~first, "status: " + previous.astype("string").fillna("") + " → "
                   + status.fillna(""), 1)]
        if "due_on" in ups:
            due = pd.to_datetime(ups["due_on"], errors="coerce")
            before_due = group["due_on"].shift()
            before_due = pd.to_datetime(before_due, errors="coerce")
            due_changed = ((due.ne(before_due)) & ~(due.isna() & before_due.isna())).to_numpy() & ~first & after
            due_line = ("deadline: " + before_due.dt.strftime("%d-%m-%Y").fillna("geen") + " → "
                        + due.dt.strftime("%d-%m-%Y").fillna("geen"))
            pieces.append((due_changed, due_line, 2))
        note = ups["note"].astype("string").str.strip()
        has_note = (note.notna() & note.ne("")).to_numpy() & after
        pieces.append((has_note, "notitie: " + note.fillna(""), 3))
        for mask, what, order in pieces:
            if mask.any():
                chosen = ups.loc[mask]
                frames.append(pd.DataFrame({"item_id": chosen["item_id"].to_numpy(),
                                            "wat": what[mask].to_numpy(dtype=object),
                                            "at": chosen["at"].to_numpy(), "wie": chosen["user"].to_numpy(),
                                            "role": chosen["role"].to_numpy(), "order": order}))
        hit = np.zeros(len(ups), dtype=bool)
        for mask, _, _ in pieces:
            hit |= mask
        explained = explained | pd.Series(explained.index.isin(ups.loc[hit, "item_id"]), index=explained.index)

    touched = ((updated >= start) & ~new).to_numpy() & ~explained.reindex(items["item_id"]).to_numpy()
    if touched.any():
        chosen = items.loc[touched]
        what = pd.Series("gewijzigd (titel, doel of datums)", index=chosen.index)
        what = what.where(due_text[touched].isna(), "gewijzigd (titel, doel of datums; deadline nu "
                          + due_text[touched].fillna("") + ")")
        frames.append(pd.DataFrame({"item_id": chosen["item_id"].to_numpy(), "wat": what.to_numpy(),
                                    "at": updated[touched].to_numpy(), "wie": chosen["updated_by"].to_numpy(),
                                    "role": None, "order": 4}))
    if not frames:
        return empty
    out = pd.concat(frames, ignore_index=True)
    out["at"] = pd.to_datetime(out["at"], utc=True)
    out = out.sort_values(["at", "item_id", "order"], kind="stable").reset_index(drop=True)
    return pd.DataFrame({
        "agendapunt": out["item_id"].to_numpy(dtype=object),
        "titel": out["item_id"].map(titles).to_numpy(dtype=object),
        "wat": out["wat"].to_numpy(dtype=object),
        "wanneer": out["at"].dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).astype("datetime64[ns]").to_numpy(),
        "wie": _who(out["wie"], out["role"]).to_numpy(dtype=object),
    })

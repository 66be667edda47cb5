"""Import support networks from the Dutch templates (Excel/CSV): persons, ties, participation.

Every row is checked first (unknown persons, self-ties, duplicate ties, unknown roles, values out
of range, personal data, missing columns); every problem of every file is reported per file, row
and column, and nothing is written unless all files are clean. Optional columns may be missing
or empty. The downloadable template (:func:`network_templates_excel`) is one workbook with the
sheets Personen, Relaties and Deelname and a Toelichting with the wording of the LSNS-6 and De
Jong Gierveld items, the allowed answers and the roles; it is read back as it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.export import frames_to_excel_bytes, restore_text
from data.privacy import _OPAQUE_ID, _PERSONAL_COLUMN, personal_value_kind
from data.schema import AGE_BANDS, CONTACT_FREQUENCIES, DJG_ANSWERS, HOUSEHOLD_TYPES, PARTICIPATION_ROLES, ROLES
from data.tabular import MAX_TABLE_BYTES, check_file, read_table_file

PERSON_HEADERS = {
    "persoon": "person_id",
    "buurtcode": "buurt_code",
    "leeftijd": "age_band",
    "huishouden": "household_type",
    "verweduwd_sinds": "widowed_since",
    "levensgebeurtenissen": "life_events",
    **{f"lsns_{i}": f"lsns_{i}" for i in range(1, 7)},
    **{f"djg_{i}": f"djg_{i}" for i in range(1, 12)},
    "meetdatum": "measured_on",
    "toestemming": "consent",
}
TIE_HEADERS = {
    "ego": "ego_id",
    "alter": "alter_id",
    "alter_label": "alter_key",
    "rol": "role",
    "praktisch": "support_practical",
    "emotioneel": "support_emotional",
    "informatief": "support_informational",
    "gezelschap": "support_companionship",
    "contact": "contact_frequency",
    "nabijheid": "closeness",
    "wederzijds": "reciprocal",
    "zelfde_buurt": "same_buurt",
}
PARTICIPATION_HEADERS = {"persoon": "person_id", "voorziening": "provision_id", "rol": "role", "sinds": "since"}
_YES = {"ja", "j", "1", "x", "waar", "true", "yes", "y"}
_NO = {"nee", "n", "0", "", "onwaar", "false", "no"}
_ROLE_INPUT = {
    **{k: k for k in ROLES},
    **{v.lower(): k for k, v in ROLES.items()},
    "vriendin": "vriend",
    "buurman": "buur",
    "buurvrouw": "buur",
    "kerk": "kerk_vereniging",
    "vereniging": "kerk_vereniging",
}


class _Report:
    def __init__(self) -> None:
        self.problems: list[dict] = []

    def add(self, file: str, mask: pd.Series, column: str, message) -> None:
        for pos in np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool)):
            text = message(pos) if callable(message) else message
            self.problems.append({"bestand": file, "rij": int(pos) + 2, "kolom": column, "melding": text})

    def file(self, file: str, column: str, message: str) -> None:
        self.problems.append({"bestand": file, "rij": None, "kolom": column, "melding": message})

    def raise_if_any(self) -> None:
        if self.problems:
            first = self.problems[0]
            raise DataValidationError(
                f"{len(self.problems)} probleem/problemen gevonden; er is niets geïmporteerd. "
                f"Eerste: {first['melding']}",
                file=first["bestand"],
                row=first["rij"],
                column=first["kolom"] or None,
                problems=self.problems,
            )


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    text = frame[col].astype("string").str.strip()
    return text.where(text != "")


def _translate(values: pd.Series, table: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Look values up in ``table`` (vectorised; an empty or missing column is fine): (ours, unknown mask)."""
    keys = list(table)
    codes = pd.Index(keys, dtype=object).get_indexer(values.astype(object).where(values.notna(), None))
    targets = np.array([table[k] for k in keys] + [None], dtype=object)
    ours = pd.Series(np.where(codes >= 0, targets[codes], None), index=values.index, dtype="string")
    return ours, values.notna() & pd.Series(codes < 0, index=values.index)


def _bool(frame, col, file, report) -> pd.Series:
    text = _text(frame, col).str.lower().fillna("")
    bad = ~text.isin(_YES | _NO)
    report.add(file, bad, col, lambda p: f"'{frame[col].iloc[p]}' is geen ja/nee.")
    return text.isin(_YES)


def _tribool(frame, col, file, report) -> pd.Series:
    """Ja, nee or unknown: an empty cell stays unknown (NULL), never 'nee'."""
    text = _text(frame, col).str.lower()
    bad = text.notna() & ~text.isin(_YES | _NO)
    report.add(file, bad, col, lambda p: f"'{frame[col].iloc[p]}' is geen ja/nee (leeg = onbekend).")
    out = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    return out.mask(text.isin(_YES).fillna(False), True).mask(text.isin(_NO - {""}).fillna(False), False)


def _dates(frame, col, file, report) -> pd.Series:
    text = _text(frame, col)
    parsed = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
    report.add(file, parsed.isna() & text.notna(), col, lambda p: f"'{text.iloc[p]}' is geen datum (dd-mm-jjjj).")
    return parsed


SHEETS = {"persons": "Personen", "ties": "Relaties", "participation": "Deelname"}


def _workbook_sheet(path: Path, sheet: str) -> pd.DataFrame | None:
    """The sheet of our template workbook, or ``None`` when ``path`` is no workbook with that sheet."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    check_file(path, max_bytes=MAX_TABLE_BYTES, allowed=("xlsx",))
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
        names = {n.lower(): n for n in book.sheet_names}
        if sheet.lower() not in names:
            return None
        frame = pd.read_excel(book, sheet_name=names[sheet.lower()], dtype=str)
    except Exception as exc:
        raise DataValidationError("Het Excel-bestand kan niet gelezen worden.", file=path.name) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.dropna(how="all")
    return frame.apply(restore_text, excel=True).reset_index(drop=True)


def _load(path: Path, headers: dict, required: tuple[str, ...], id_columns: tuple[str, ...], report: _Report,
          *, sheet: str, free_text: tuple[str, ...] = ()) -> tuple[pd.DataFrame, str]:
    """Read one template (a CSV, an Excel file or its sheet of the workbook); add its problems to the report."""
    frame = _workbook_sheet(path, sheet)
    name = f"{path.name} (blad {sheet})" if frame is not None else path.name
    if frame is None:
        frame = read_table_file(path)
    elif frame.empty:
        raise DataValidationError(f"Het blad {sheet} bevat geen gegevensrijen.", file=path.name)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    _privacy_problems(frame, name, id_columns, free_text, report)
    missing = [c for c in required if c not in frame.columns]
    for col in missing:
        report.file(name, col, f"Verplichte kolom '{col}' ontbreekt (sjabloonkolommen: {', '.join(headers)}).")
    return frame, name


def _privacy_problems(frame: pd.DataFrame, file: str, id_columns: tuple[str, ...], free_text: tuple[str, ...],
                      report: _Report) -> None:
    """Every column and cell that looks like personal data; the values themselves are never repeated."""
    for col in frame.columns:
        if _PERSONAL_COLUMN.match(str(col).strip()):
            report.file(file, str(col),
                        f"Kolom '{col}' lijkt persoonsgegevens te bevatten (naam, adres, telefoon, e-mail, "
                        "geboortedatum of BSN). Steunkaart bewaart personen alleen onder een ondoorzichtige code; "
                        "verwijder de kolom.")
    for col in frame.columns:
        if _PERSONAL_COLUMN.match(str(col).strip()):
            continue
        kind = personal_value_kind(frame[col], names=col in free_text)
        report.add(file, kind.notna(), str(col),
                   lambda p, k=kind: f"Een waarde lijkt {k.iloc[p]}; zulke gegevens horen niet in Steunkaart. "
                                     "Gebruik ondoorzichtige codes (de waarde wordt niet getoond).")
    for col in id_columns:
        if col in frame:
            values = _text(frame, col)
            bad = values.notna() & ~values.str.fullmatch(_OPAQUE_ID.pattern).fillna(False).astype(bool)
            report.add(file, bad, col,
                       "De waarde is geen ondoorzichtige code (alleen letters, cijfers en - _ . : |, zonder spaties; "
                       "geen namen). De waarde zelf wordt niet getoond: het kan een persoonsgegeven zijn.")


def read_network_files(
    persons_path: str | Path,
    ties_path: str | Path | None = None,
    participation_path: str | Path | None = None,
    *,
    known_buurten: set[str] | None = None,
    known_persons: set[str] | None = None,
    known_provisions: set[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read and validate the three network templates; return frames in the store's columns.

    Parameters
    ----------
    persons_path : path
        The persons template (CSV or Excel), or the template workbook with the sheets Personen,
        Relaties and (optionally) Deelname.
    ties_path, participation_path : path, optional
        The ties and participation templates; without ``ties_path`` the Relaties (and Deelname)
        sheets of the workbook ``persons_path`` are read.
    known_buurten, known_persons, known_provisions : set of str, optional
        Codes in the store; ties may point at persons already stored.

    Raises
    ------
    DataValidationError
        With every problem of every file in ``problems`` (bestand, rij, kolom, melding).
    """
    report = _Report()
    p_path = Path(persons_path)
    t_path = Path(ties_path) if ties_path is not None else p_path
    if ties_path is None and _workbook_sheet(p_path, SHEETS["ties"]) is None:
        raise DataValidationError("Geef ook de relaties (--relaties), of het Excel-sjabloon met het blad Relaties.",
                                  file=p_path.name)
    if participation_path is None and ties_path is None:
        sheet = _workbook_sheet(p_path, SHEETS["participation"])
        participation_path = p_path if sheet is not None and not sheet.empty else None
    pf, pfile = _load(p_path, PERSON_HEADERS, ("persoon", "buurtcode"), ("persoon",), report,
                      sheet=SHEETS["persons"], free_text=("levensgebeurtenissen",))
    tf, tfile = _load(t_path, TIE_HEADERS, ("ego", "rol"), ("ego", "alter", "alter_label"), report,
                      sheet=SHEETS["ties"])

    pid = _text(pf, "persoon")
    report.add(pfile, pid.isna() & ("persoon" in pf), "persoon", "mag niet leeg zijn.")
    report.add(pfile, pid.notna() & pid.duplicated(), "persoon", "deze code komt vaker voor in het bestand.")
    buurt = _text(pf, "buurtcode").str.upper()
    if known_buurten is not None:
        report.add(
            pfile,
            buurt.notna() & ~buurt.isin(list(known_buurten)),
            "buurtcode",
            lambda p: f"buurtcode '{buurt.iloc[p]}' staat niet in de opslag; importeer eerst de CBS-gebieden.",
        )
    age = _text(pf, "leeftijd")
    report.add(
        pfile,
        age.notna() & ~age.isin(AGE_BANDS),
        "leeftijd",
        lambda p: f"onbekende leeftijdsklasse '{age.iloc[p]}'; kies uit {', '.join(AGE_BANDS)}.",
    )
    household_in = _text(pf, "huishouden").str.lower().str.replace(" ", "_")
    labels = {**{k: k for k in HOUSEHOLD_TYPES}, **{v.replace(" ", "_"): k for k, v in HOUSEHOLD_TYPES.items()}}
    household, unknown = _translate(household_in, labels)
    report.add(pfile, unknown, "huishouden",
               lambda p: f"onbekend huishouden '{pf['huishouden'].iloc[p]}'; kies uit "
                         f"{', '.join(HOUSEHOLD_TYPES.values())}.")
    lsns = {}
    for i in range(1, 7):
        col = f"lsns_{i}"
        raw = _text(pf, col)
        num = pd.to_numeric(raw, errors="coerce")
        report.add(
            pfile, raw.notna() & ~(num.isin(range(6))), col, lambda p, r=raw: f"'{r.iloc[p]}' is geen score 0-5."
        )
        lsns[col] = num.where(num.isin(range(6))).astype("Int64")
    djg = {}
    for i in range(1, 12):
        col = f"djg_{i}"
        raw = _text(pf, col).str.lower()
        report.add(
            pfile,
            raw.notna() & ~raw.isin(DJG_ANSWERS),
            col,
            lambda p, r=raw: f"'{r.iloc[p]}' is geen antwoord (ja / min of meer / nee).",
        )
        djg[col] = raw
    persons = pd.DataFrame(
        {
            "person_id": pid,
            "buurt_code": buurt,
            "age_band": age,
            "household_type": household,
            "widowed_since": _dates(pf, "verweduwd_sinds", pfile, report),
            "life_events": _text(pf, "levensgebeurtenissen"),
            **lsns,
            **djg,
            "measured_on": _dates(pf, "meetdatum", pfile, report),
            "consent": _bool(pf, "toestemming", pfile, report) if "toestemming" in pf else True,
        }
    )

    everyone = set(pid.dropna()) | set(known_persons or ())
    ego = _text(tf, "ego")
    alter = _text(tf, "alter")
    key = _text(tf, "alter_label")
    report.add(tfile, ego.isna() & ("ego" in tf), "ego", "mag niet leeg zijn.")
    # Messages name the file, row and column, never the person's code (no person data in messages).
    report.add(tfile, ego.notna() & ~ego.isin(list(everyone)), "ego",
               "onbekende persoon: de code staat niet in de personen.")
    report.add(
        tfile,
        alter.notna() & ~alter.isin(list(everyone)),
        "alter",
        "onbekende persoon: de code staat niet in de personen (gebruik alter_label voor iemand die niet in de "
        "opslag staat).",
    )
    report.add(tfile, alter.isna() & key.isna(), "alter", "vul alter (een persoon) of alter_label (anoniem) in.")
    report.add(tfile, alter.notna() & (alter == ego), "alter", "een persoon kan geen relatie met zichzelf hebben.")
    pair = ego + "→" + alter.fillna("#" + key.fillna(""))
    first_row = pd.Series(np.arange(len(pair)), index=pair.index).groupby(pair.to_numpy()).transform("min") + 2
    report.add(tfile, ego.notna() & pair.notna() & pair.duplicated(), "alter",
               lambda p: f"dubbele relatie (dezelfde als rij {int(first_row.iloc[p])}).")
    role, unknown = _translate(_text(tf, "rol").str.lower(), _ROLE_INPUT)
    report.add(tfile, unknown, "rol", lambda p: f"onbekende rol '{tf['rol'].iloc[p]}'; kies uit {', '.join(ROLES)}.")
    report.add(tfile, role.isna() & ~unknown & ("rol" in tf), "rol",
               f"rol mag niet leeg zijn; kies uit {', '.join(ROLES)}.")
    freq_map = {**{k: k for k in CONTACT_FREQUENCIES}, **{v: k for k, v in CONTACT_FREQUENCIES.items()}}
    freq, unknown = _translate(_text(tf, "contact").str.lower(), freq_map)
    report.add(tfile, unknown, "contact",
               lambda p: f"onbekende contactfrequentie '{tf['contact'].iloc[p]}'; kies uit "
                         f"{', '.join(CONTACT_FREQUENCIES.values())}.")
    closeness = pd.to_numeric(_text(tf, "nabijheid"), errors="coerce")
    report.add(
        tfile, _text(tf, "nabijheid").notna() & ~closeness.isin([1, 2, 3]), "nabijheid", "nabijheid is 1, 2 of 3."
    )
    ties = pd.DataFrame(
        {
            "ego_id": ego,
            "alter_id": alter,
            "alter_key": key.where(alter.isna()),
            "role": role.fillna("anders"),
            **{
                col: _bool(tf, hdr, tfile, report)
                for hdr, col in (
                    ("praktisch", "support_practical"),
                    ("emotioneel", "support_emotional"),
                    ("informatief", "support_informational"),
                    ("gezelschap", "support_companionship"),
                )
            },
            "contact_frequency": freq,
            "closeness": closeness.where(closeness.isin([1, 2, 3])).astype("Int64"),
            "reciprocal": _tribool(tf, "wederzijds", tfile, report),
            "same_buurt": _tribool(tf, "zelfde_buurt", tfile, report),
        }
    )

    participation = pd.DataFrame(columns=["person_id", "provision_id", "role", "since"])
    if participation_path is not None:
        x_path = Path(participation_path)
        xf, xfile = _load(x_path, PARTICIPATION_HEADERS, ("persoon", "voorziening"), ("persoon",), report,
                          sheet=SHEETS["participation"])
        who, what = _text(xf, "persoon"), _text(xf, "voorziening")
        report.add(xfile, ~who.isin(list(everyone)), "persoon",
                   "onbekende persoon: de code staat niet in de personen.")
        if known_provisions is not None:
            report.add(
                xfile,
                what.notna() & ~what.isin(list(known_provisions)),
                "voorziening",
                lambda p: f"onbekende voorziening '{what.iloc[p]}'.",
            )
        prole = _text(xf, "rol").fillna("deelnemer").str.lower()
        report.add(xfile, ~prole.isin(PARTICIPATION_ROLES), "rol", "rol is deelnemer of vrijwilliger.")
        participation = pd.DataFrame(
            {"person_id": who, "provision_id": what, "role": prole, "since": _dates(xf, "sinds", xfile, report)}
        )
    report.raise_if_any()
    return {"persons": persons, "ties": ties, "participation": participation}


# --------------------------------------------------------------------------- the template workbook

# LSNS-6 (Lubben Social Network Scale, 6 items; Lubben e.a. 2006) in Dutch, worded as the conversation
# form (pages/network_form.py) asks them. Answer = number of people, scored 0-5 (graphs/screening.py).
LSNS_FAMILY_INTRO = "Familie: denk aan de mensen met wie u familie bent door geboorte, huwelijk, adoptie, enzovoort."
LSNS_FRIENDS_INTRO = "Vrienden: denk aan al uw vrienden, ook die bij u in de buurt wonen."
LSNS_ITEM_TEXT = {
    "lsns_1": "Hoeveel familieleden ziet of spreekt u minstens één keer per maand?",
    "lsns_2": "Met hoeveel familieleden voelt u zich zo op uw gemak dat u met hen over persoonlijke zaken kunt praten?",
    "lsns_3": "Met hoeveel familieleden voelt u zich zo verbonden dat u hen om hulp zou kunnen vragen?",
    "lsns_4": "Hoeveel van uw vrienden ziet of spreekt u minstens één keer per maand?",
    "lsns_5": "Met hoeveel vrienden voelt u zich zo op uw gemak dat u met hen over persoonlijke zaken kunt praten?",
    "lsns_6": "Met hoeveel vrienden voelt u zich zo verbonden dat u hen om hulp zou kunnen vragen?",
}
LSNS_ANSWERS = {0: "geen", 1: "één", 2: "twee", 3: "drie of vier", 4: "vijf tot acht", 5: "negen of meer"}
# De Jong Gierveld loneliness scale, 11 items (De Jong Gierveld & Kamphuis 1985), the published Dutch wording.
DJG_ITEM_TEXT = {
    "djg_1": "Er is altijd wel iemand in mijn omgeving bij wie ik met mijn dagelijkse probleempjes terecht kan.",
    "djg_2": "Ik mis een echt goede vriend of vriendin.",
    "djg_3": "Ik ervaar een leegte om me heen.",
    "djg_4": "Er zijn genoeg mensen op wie ik in geval van narigheid kan terugvallen.",
    "djg_5": "Ik mis gezelligheid om me heen.",
    "djg_6": "Ik vind mijn kring van kennissen te beperkt.",
    "djg_7": "Ik heb veel mensen op wie ik volledig kan vertrouwen.",
    "djg_8": "Er zijn voldoende mensen met wie ik me nauw verbonden voel.",
    "djg_9": "Ik mis mensen om me heen.",
    "djg_10": "Vaak voel ik me in de steek gelaten.",
    "djg_11": "Wanneer ik daar behoefte aan heb, kan ik altijd bij mijn vrienden terecht.",
}
_DJG_POSITIVE = ("djg_1", "djg_4", "djg_7", "djg_8", "djg_11")
_DJG_SHORT = ("djg_3", "djg_4", "djg_7", "djg_8", "djg_9", "djg_10")  # the 6-item version
_CLOSENESS_LABELS = {1: "verder weg", 2: "dichtbij", 3: "heel dichtbij"}


def template_help() -> pd.DataFrame:
    """The Toelichting of the template: per sheet and column what to fill in and which values are allowed."""
    yes_no = "ja of nee (ook j/n, 1/0, x)"
    synonyms = {}
    for word, role in _ROLE_INPUT.items():
        if word not in (role, ROLES[role]):
            synonyms.setdefault(role, []).append(word)
    rows = [
        ("Personen", "persoon", "Verplicht. Een ondoorzichtige code die u zelf uitgeeft (bijv. K-0142); nooit een "
                                "naam, BSN, telefoonnummer of adres.", "letters, cijfers en - _ . : |"),
        ("Personen", "buurtcode", "Verplicht. De CBS-buurtcode van waar de persoon woont.", "BU + 8 cijfers"),
        ("Personen", "leeftijd", "Leeftijdsklasse (geen geboortedatum).", ", ".join(AGE_BANDS)),
        ("Personen", "huishouden", "Mag leeg blijven.", ", ".join(HOUSEHOLD_TYPES.values())),
        ("Personen", "verweduwd_sinds", "Datum van verweduwing, als die er is.", "dd-mm-jjjj"),
        ("Personen", "levensgebeurtenissen", "Korte omschrijving (geen namen), bijv. 'verhuisd, ziekte partner'.",
         "vrije tekst"),
        *((("Personen", col, f"LSNS-6 vraag {col[-1]}: "
            + (LSNS_FAMILY_INTRO if int(col[-1]) <= 3 else LSNS_FRIENDS_INTRO) + f" {text}",
            "; ".join(f"{score} = {label}" for score, label in LSNS_ANSWERS.items()))
           for col, text in LSNS_ITEM_TEXT.items())),
        *((("Personen", col, f"De Jong Gierveld vraag {col.split('_')[1]}: {text}"
            + (" (positief geformuleerd: 'nee' of 'min of meer' telt als eenzaam)" if col in _DJG_POSITIVE else
               " ('ja' of 'min of meer' telt als eenzaam)")
            + (" Hoort ook bij de korte schaal van 6 vragen." if col in _DJG_SHORT else ""),
            ", ".join(DJG_ANSWERS)) for col, text in DJG_ITEM_TEXT.items())),
        ("Personen", "meetdatum", "Datum van het gesprek of de vragenlijst.", "dd-mm-jjjj"),
        ("Personen", "toestemming", "Heeft de persoon toestemming gegeven?", yes_no),
        ("Relaties", "ego", "Verplicht. De code van de persoon wiens netwerk dit is.", "een code uit Personen"),
        ("Relaties", "alter", "De code van de ander als die ook in Personen (of al in de opslag) staat.",
         "een code uit Personen, of leeg"),
        ("Relaties", "alter_label", "Anders: een eigen, anonieme aanduiding van de ander (bijv. a1, a2); geen naam.",
         "letters, cijfers en - _ . : |"),
        ("Relaties", "rol", "Verplicht. Wat de ander voor de persoon is.",
         ", ".join(label if label == key else f"{label} ({key})" for key, label in ROLES.items())),
        *((("Relaties", "rol", f"Ook goed voor {ROLES[role]}:", ", ".join(words)) for role, words in synonyms.items())),
        ("Relaties", "praktisch", "Geeft praktische steun (boodschappen, klusjes, vervoer).", yes_no),
        ("Relaties", "emotioneel", "Geeft emotionele steun (praten over zorgen, troost).", yes_no),
        ("Relaties", "informatief", "Geeft informatie en advies.", yes_no),
        ("Relaties", "gezelschap", "Geeft gezelschap (samen dingen doen).", yes_no),
        ("Relaties", "contact", "Hoe vaak zij contact hebben.", ", ".join(CONTACT_FREQUENCIES.values())),
        ("Relaties", "nabijheid", "Hoe dichtbij de ander staat (de ring in het ecogram).",
         "; ".join(f"{k} = {v}" for k, v in _CLOSENESS_LABELS.items())),
        ("Relaties", "wederzijds", "Steunt de persoon de ander ook?", yes_no + "; leeg = onbekend"),
        ("Relaties", "zelfde_buurt", "Woont de ander in dezelfde buurt?", yes_no + "; leeg = onbekend"),
        ("Deelname", "persoon", "De code van de persoon.", "een code uit Personen"),
        ("Deelname", "voorziening", "De id van de voorziening (zie de pagina Voorzieningen).", "een id uit de opslag"),
        ("Deelname", "rol", "Mag leeg blijven (deelnemer).", ", ".join(PARTICIPATION_ROLES)),
        ("Deelname", "sinds", "Sinds wanneer.", "dd-mm-jjjj"),
        ("Algemeen", "", "LSNS-6 en De Jong Gierveld zijn screeningsinstrumenten voor groepen, geen diagnose van een "
                         "persoon. Vul een blad in per soort gegevens; laat de kopregel staan. Importeer het hele "
                         "bestand in één keer: alles of niets, met een verslag per rij.", ""),
    ]
    return pd.DataFrame(rows, columns=["blad", "kolom", "toelichting", "toegestane waarden"])


def network_templates_excel() -> bytes:
    """The template workbook (.xlsx bytes): sheets Personen, Relaties, Deelname (headers only) and Toelichting.

    Filled in, it is imported as it is: ``read_network_files(workbook)`` (CLI: ``import-network --personen
    sjabloon.xlsx``).
    """
    sheets = {
        SHEETS["persons"]: pd.DataFrame(columns=list(PERSON_HEADERS)),
        SHEETS["ties"]: pd.DataFrame(columns=list(TIE_HEADERS)),
        SHEETS["participation"]: pd.DataFrame(columns=list(PARTICIPATION_HEADERS)),
        "Toelichting": template_help(),
    }
    widths = {"Toelichting": {"A": 12, "B": 22, "C": 90, "D": 60}}
    return frames_to_excel_bytes(sheets, column_widths=widths)

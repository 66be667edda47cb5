"""Import support networks from the Dutch templates (Excel/CSV): persons, ties, participation.

Every row is checked first (unknown persons, self-ties, duplicate ties, unknown roles, values out
of range, personal data); problems are reported per file, row and column and nothing is written
unless all files are clean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.privacy import check_pseudonymous
from data.schema import AGE_BANDS, CONTACT_FREQUENCIES, DJG_ANSWERS, HOUSEHOLD_TYPES, PARTICIPATION_ROLES, ROLES
from data.tabular import read_table_file

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
        for pos in np.flatnonzero(mask.fillna(False).to_numpy()):
            text = message(pos) if callable(message) else message
            self.problems.append({"bestand": file, "rij": int(pos) + 2, "kolom": column, "melding": text})

    def raise_if_any(self) -> None:
        if self.problems:
            first = self.problems[0]
            raise DataValidationError(
                f"{len(self.problems)} probleem/problemen gevonden; er is niets geïmporteerd. "
                f"Eerste: {first['melding']}",
                file=first["bestand"],
                row=first["rij"],
                column=first["kolom"],
                problems=self.problems,
            )


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[col].astype("string").str.strip().replace("", pd.NA)


def _bool(frame, col, file, report) -> pd.Series:
    text = _text(frame, col).str.lower().fillna("")
    bad = ~text.isin(_YES | _NO)
    report.add(file, bad, col, lambda p: f"'{frame[col].iloc[p]}' is geen ja/nee.")
    return text.isin(_YES)


def _dates(frame, col, file, report) -> pd.Series:
    text = _text(frame, col)
    parsed = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
    report.add(file, parsed.isna() & text.notna(), col, lambda p: f"'{text.iloc[p]}' is geen datum (dd-mm-jjjj).")
    return parsed


def _load(path: Path, headers: dict, required: tuple[str, ...], id_columns: tuple[str, ...]) -> pd.DataFrame:
    frame = read_table_file(path)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    check_pseudonymous(frame, file=path.name, id_columns=id_columns)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"Verplichte kolommen ontbreken: {', '.join(missing)} (sjabloonkolommen: {', '.join(headers)}).",
            file=path.name,
            column=missing[0],
        )
    return frame


def read_network_files(
    persons_path: str | Path,
    ties_path: str | Path,
    participation_path: str | Path | None = None,
    *,
    known_buurten: set[str] | None = None,
    known_persons: set[str] | None = None,
    known_provisions: set[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read and validate the three network templates; return frames in the store's columns.

    ``known_persons`` are persons already in the store (ties may point at them).
    """
    report = _Report()
    p_path, t_path = Path(persons_path), Path(ties_path)
    pf = _load(p_path, PERSON_HEADERS, ("persoon", "buurtcode"), ("persoon",))
    tf = _load(t_path, TIE_HEADERS, ("ego", "rol"), ("ego", "alter", "alter_label"))
    pfile, tfile = p_path.name, t_path.name

    pid = _text(pf, "persoon")
    report.add(pfile, pid.isna(), "persoon", "mag niet leeg zijn.")
    report.add(pfile, pid.notna() & pid.duplicated(), "persoon", "deze code komt vaker voor in het bestand.")
    buurt = _text(pf, "buurtcode").str.upper()
    if known_buurten is not None:
        report.add(
            pfile,
            buurt.notna() & ~buurt.isin(known_buurten),
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
    household = _text(pf, "huishouden").str.lower().str.replace(" ", "_")
    labels = {v.replace(" ", "_"): k for k, v in HOUSEHOLD_TYPES.items()}
    household = household.map(lambda h: labels.get(h, h) if isinstance(h, str) else h)
    report.add(
        pfile,
        household.notna() & ~household.isin(HOUSEHOLD_TYPES),
        "huishouden",
        lambda p: f"onbekend huishouden '{pf['huishouden'].iloc[p]}'.",
    )
    lsns = {}
    for i in range(1, 7):
        col = f"lsns_{i}"
        raw = _text(pf, col)
        num = pd.to_numeric(raw, errors="coerce")
        report.add(
            pfile, raw.notna() & ~(num.isin(range(6))), col, lambda p, r=raw: f"'{r.iloc[p]}' is geen score 0-5."
        )
        lsns[col] = num.astype("Int64")
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
    report.add(tfile, ego.isna(), "ego", "mag niet leeg zijn.")
    # Messages name the file, row and column, never the person's code (no person data in messages).
    report.add(tfile, ego.notna() & ~ego.isin(everyone), "ego", "onbekende persoon: de code staat niet in de personen.")
    report.add(
        tfile,
        alter.notna() & ~alter.isin(everyone),
        "alter",
        "onbekende persoon: de code staat niet in de personen (gebruik alter_label voor iemand die niet in de "
        "opslag staat).",
    )
    report.add(tfile, alter.isna() & key.isna(), "alter", "vul alter (een persoon) of alter_label (anoniem) in.")
    report.add(tfile, alter.notna() & (alter == ego), "alter", "een persoon kan geen relatie met zichzelf hebben.")
    pair = ego + "→" + alter.fillna("#" + key.fillna(""))
    first_row = pd.Series(np.arange(len(pair)), index=pair.index).groupby(pair.to_numpy()).transform("min") + 2
    report.add(tfile, ego.notna() & pair.duplicated(), "alter",
               lambda p: f"dubbele relatie (dezelfde als rij {int(first_row.iloc[p])}).")
    role = _text(tf, "rol").str.lower().map(lambda r: _ROLE_INPUT.get(r) if isinstance(r, str) else None)
    report.add(
        tfile, role.isna(), "rol", lambda p: f"onbekende rol '{tf['rol'].iloc[p]}'; kies uit {', '.join(ROLES)}."
    )
    freq = _text(tf, "contact").str.lower()
    freq_map = {**{k: k for k in CONTACT_FREQUENCIES}, **{v: k for k, v in CONTACT_FREQUENCIES.items()}}
    freq = freq.map(lambda f: freq_map.get(f, "?") if isinstance(f, str) else None)
    report.add(tfile, freq == "?", "contact", lambda p: f"onbekende contactfrequentie '{tf['contact'].iloc[p]}'.")
    closeness = pd.to_numeric(_text(tf, "nabijheid"), errors="coerce")
    report.add(
        tfile, _text(tf, "nabijheid").notna() & ~closeness.isin([1, 2, 3]), "nabijheid", "nabijheid is 1, 2 of 3."
    )
    ties = pd.DataFrame(
        {
            "ego_id": ego,
            "alter_id": alter,
            "alter_key": key.where(alter.isna()),
            "role": role,
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
            "closeness": closeness.astype("Int64"),
            "reciprocal": _bool(tf, "wederzijds", tfile, report),
            "same_buurt": _bool(tf, "zelfde_buurt", tfile, report),
        }
    )

    participation = pd.DataFrame(columns=["person_id", "provision_id", "role", "since"])
    if participation_path is not None:
        x_path = Path(participation_path)
        xf = _load(x_path, PARTICIPATION_HEADERS, ("persoon", "voorziening"), ("persoon",))
        who, what = _text(xf, "persoon"), _text(xf, "voorziening")
        report.add(x_path.name, ~who.isin(everyone), "persoon", "onbekende persoon: de code staat niet in de personen.")
        if known_provisions is not None:
            report.add(
                x_path.name,
                ~what.isin(known_provisions),
                "voorziening",
                lambda p: f"onbekende voorziening '{what.iloc[p]}'.",
            )
        prole = _text(xf, "rol").fillna("deelnemer").str.lower()
        report.add(x_path.name, ~prole.isin(PARTICIPATION_ROLES), "rol", "rol is deelnemer of vrijwilliger.")
        participation = pd.DataFrame(
            {"person_id": who, "provision_id": what, "role": prole, "since": _dates(xf, "sinds", x_path.name, report)}
        )
    report.raise_if_any()
    return {"persons": persons, "ties": ties, "participation": participation}

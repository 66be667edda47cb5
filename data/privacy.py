"""Privacy checks for person data: opaque ids only, no names, addresses, phone numbers or BSNs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from data.errors import DataValidationError

_PERSONAL_COLUMN = re.compile(
    r"^(naam|voornaam|achternaam|roepnaam|tussenvoegsel|name|first_?name|last_?name|surname|adres|address|straat|"
    r"street|huisnummer|house_?number|postcode|zip|woonplaats|telefoon.*|tel|mobiel.*|phone.*|e-?mail.*|bsn|"
    r"burgerservicenummer|sofi.*|geboortedatum|date_?of_?birth|birth_?date)$", re.IGNORECASE)
_PHONE = re.compile(r"^(\+31|0031|0)[1-9]\d{8}$")  # after removing spaces and dashes
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_OPAQUE_ID = re.compile(r"^[A-Za-z0-9_\-.:|]{1,80}$")


def passes_eleven_test(values: pd.Series) -> pd.Series:
    """True where a value is a 9-digit number that passes the BSN eleven-test (vectorised)."""
    text = values.astype("string").str.strip().str.replace(r"[\s.\-]", "", regex=True)
    nine = text.str.fullmatch(r"\d{9}").fillna(False)
    digits = np.zeros((len(text), 9), dtype=int)
    if nine.any():
        arr = np.array([list(map(int, s)) for s in text[nine]], dtype=int)
        digits[nine.to_numpy()] = arr
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])
    total = digits @ weights
    return pd.Series(nine.to_numpy() & (total % 11 == 0) & (total != 0), index=values.index)


def check_pseudonymous(frame: pd.DataFrame, *, file: str, id_columns: tuple[str, ...] = ()) -> None:
    """Refuse tables that carry directly identifying data about persons.

    Raises DataValidationError (with file, column and, where it applies, row) when a column name
    looks like a name, address, phone, e-mail, date of birth or BSN column, when values look like
    BSNs (eleven-test), phone numbers or e-mail addresses, or when ids are not opaque codes.
    """
    for col in frame.columns:
        if _PERSONAL_COLUMN.match(str(col).strip()):
            raise DataValidationError(
                f"Kolom '{col}' lijkt persoonsgegevens te bevatten (naam, adres, telefoon, e-mail, geboortedatum "
                "of BSN). Steunkaart bewaart personen alleen onder een ondoorzichtige code; verwijder de kolom.",
                file=file, column=str(col))
    for col in frame.columns:
        values = frame[col].astype("string").str.strip()
        present = values.notna() & (values != "")
        if not present.any():
            continue
        for mask, what in ((passes_eleven_test(values) & present, "een BSN (elfproef)"),
                           (values.str.replace(r"[\s\-()]", "", regex=True).str.fullmatch(_PHONE.pattern)
                            .fillna(False), "een telefoonnummer"),
                           (values.str.fullmatch(_EMAIL.pattern, case=False).fillna(False), "een e-mailadres")):
            if mask.any():
                row = int(np.flatnonzero(mask.to_numpy())[0]) + 2
                raise DataValidationError(
                    f"Een waarde lijkt {what}; zulke gegevens horen niet in Steunkaart. Gebruik ondoorzichtige "
                    "codes.", file=file, row=row, column=str(col))
    for col in id_columns:
        if col not in frame:
            continue
        values = frame[col].astype("string").str.strip()
        bad = values.notna() & (values != "") & ~values.str.fullmatch(_OPAQUE_ID.pattern).fillna(False)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise DataValidationError(
                "De waarde is geen ondoorzichtige code (alleen letters, cijfers en - _ . : |, zonder spaties; geen "
                "namen). De waarde zelf wordt niet getoond: het kan een persoonsgegeven zijn.", file=file, row=row,
                column=col)


_POSTCODE_WITH_NUMBER = (r"(?:\b[1-9]\d{3}\s?[A-Za-z]{2}\b.*\d|\d.*\b[1-9]\d{3}\s?[A-Za-z]{2}\b)")
_STREET_WITH_NUMBER = (r"\b[A-Za-zÀ-ÿ'’.-]+(?:straat|laan|weg|plein|gracht|kade|dijk|singel|hof|park|pad|steeg|"
                       r"markt|dreef|street|road|avenue|lane)\s+\d+")
# Two or more capitalised words, Dutch infixes allowed between them ("Jan Jansen", "Oma de Vries").
_NAME_LIKE = (r"[A-ZÀ-Ý][a-zà-ÿ'’-]+\.?(?:\s+(?:van|de|der|den|het|ter|ten|te|op|in|'t|la|le|du|da|von))*"
              r"(?:\s+[A-ZÀ-Ý][a-zà-ÿ'’-]+)+")


def personal_value_kind(values: pd.Series, *, names: bool = False) -> pd.Series:
    """Which kind of personal data each value looks like (vectorised), in Dutch; ``<NA>`` where none.

    Recognises BSNs (eleven-test), Dutch phone numbers, e-mail addresses, a postcode with a house
    number or a street with a number, and with ``names=True`` also name-like values (two or more
    capitalised words, Dutch infixes allowed). Use ``names`` only on free text or on values that a
    mapping did not recognise: coded answers such as 'Very close' would look like a name.

    Parameters
    ----------
    values : Series
        Cells as text (missing values are never personal data).
    names : bool
        Also flag name-like values.

    Returns
    -------
    Series
        Same index; e.g. 'een telefoonnummer' or ``<NA>``. The values themselves are never repeated.
    """
    text = values.astype("string").str.strip()
    present = text.notna() & (text != "")
    kind = pd.Series(pd.NA, index=values.index, dtype="string")
    checks = [
        (passes_eleven_test(text), "een BSN (elfproef)"),
        (text.str.replace(r"[\s\-()]", "", regex=True).str.fullmatch(_PHONE.pattern), "een telefoonnummer"),
        (text.str.contains(_EMAIL.pattern[1:-1], case=False, regex=True), "een e-mailadres"),
        (text.str.contains(_POSTCODE_WITH_NUMBER, regex=True), "een adres (postcode en huisnummer)"),
        (text.str.contains(_STREET_WITH_NUMBER, case=False, regex=True), "een adres (straat en huisnummer)"),
    ]
    if names:
        checks.append((text.str.fullmatch(_NAME_LIKE), "een naam"))
    for mask, what in reversed(checks):  # the first check that matches names the kind
        hit = mask.fillna(False).astype(bool) & present
        kind = kind.mask(hit, what)
    return kind

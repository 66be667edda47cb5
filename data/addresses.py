"""Addresses of the organisations behind provisions: Dutch postcodes and one-line addresses.

An address here is an organisation's visiting address (straat, huisnummer, postcode, plaats), not
personal data. A Dutch postcode is four digits (the first not 0) and two letters; the letter pairs
SA, SD and SS are never issued. It is stored the way PostNL writes it: ``1234 AB``.
"""

from __future__ import annotations

import pandas as pd

from data.errors import DataValidationError

ADDRESS_COLUMNS = ("street", "house_number", "postcode", "city")
# Digits, optional spaces, letters; case and spacing are normalised, everything else is refused.
_POSTCODE = r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$"
_NEVER_ISSUED = ("SA", "SD", "SS")
POSTCODE_HELP = "vier cijfers en twee letters, bijvoorbeeld 1234 AB"


def normalise_postcodes(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return the postcodes written as ``1234 AB`` and a mask of the cells that are no Dutch postcode.

    Empty cells (missing, '' or only spaces) become missing and are not refused; a refused cell is
    missing in the first result and True in the mask.
    """
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    parts = text.str.extract(_POSTCODE)
    letters = parts[1].str.upper()
    valid = parts[0].notna() & ~letters.isin(_NEVER_ISSUED).fillna(False).astype(bool)
    normalised = (parts[0] + " " + letters).where(valid & ~empty)
    return normalised, (~empty & ~valid).astype(bool)


def normalise_postcode(value, *, column: str | None = None) -> str | None:
    """One postcode as ``1234 AB`` (None when empty); raises DataValidationError with a Dutch message.

    Raises
    ------
    DataValidationError
        When the text is not a Dutch postcode; the message quotes it and says how to write one
        (``column`` names the column of a file, if any).
    """
    normalised, bad = normalise_postcodes(pd.Series([value], dtype=object))
    if bool(bad.iloc[0]):
        raise DataValidationError(f"'{str(value).strip()}' is geen Nederlandse postcode; schrijf "
                                  f"{POSTCODE_HELP}.", column=column)
    return None if pd.isna(normalised.iloc[0]) else str(normalised.iloc[0])


def _parts(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip().fillna("")


def _joined(left: pd.Series, right: pd.Series, sep: str) -> pd.Series:
    """``left + sep + right``, without the separator where either side is empty."""
    return left + ((left != "") & (right != "")).map({True: sep, False: ""}) + right


def address_lines(frame: pd.DataFrame) -> pd.Series:
    """One line per row: 'Dorpsstraat 12a, 1234 AB Plaats'; parts that are missing are left out ('' if none).

    Reads the columns ``street``, ``house_number``, ``postcode`` and ``city``; a frame without them
    (a store from before version 7, a scenario's provisions) gives empty lines.
    """
    street = _joined(_parts(frame, "street"), _parts(frame, "house_number"), " ")
    place = _joined(_parts(frame, "postcode"), _parts(frame, "city"), " ")
    return _joined(street, place, ", ").astype(object)

"""One provision in the edit form: what the form shows and what a save writes to the store.

The form must never show or save the text 'nan': a missing text in a pandas row is NaN (a float,
and truthy), so ``value or ""`` lets it through and ``str(value)`` writes it. Missing text is shown
as '' and an empty field is saved as missing (None); a missing number stays missing (not 0).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from data.addresses import normalise_postcode
from data.errors import DataValidationError

TEXT_FIELDS = ("name", "organisation", "street", "house_number", "postcode", "city", "notes")


def _missing(value) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and not isinstance(value, str) and bool(pd.isna(value)))


def _text(value) -> str:
    return "" if _missing(value) else str(value)


def _date(value) -> dt.date | None:
    return None if _missing(value) else pd.Timestamp(value).date()


def form_values(row: pd.Series) -> dict:
    """The stored values of one provision as the edit form shows them.

    ``row`` is one row of the provisions table (indexed by provision_id or with that column). Missing
    texts become '', missing numbers and dates None; ``version`` is the version these values belong to,
    the one a save is checked against (optimistic locking).
    """
    pid = row.get("provision_id", row.name)
    outside = row.get("outside_areas")
    return {
        "provision_id": str(pid),
        "version": int(row["version"]),
        "type": str(row["type"]),
        "status": str(row["status"]),
        **{field: _text(row.get(field)) for field in TEXT_FIELDS},
        "capacity_per_year": None if _missing(row.get("capacity_per_year")) else int(row["capacity_per_year"]),
        "reach_m": None if _missing(row.get("reach_m")) else float(row["reach_m"]),
        "funding_end": _date(row.get("funding_end")),
        "last_verified": _date(row.get("last_verified")),
        "outside_areas": not _missing(outside) and bool(outside),
    }


def provision_changes(values: dict) -> dict:
    """What a save of the form writes: only the fields given, each cleaned.

    Texts are stripped and an empty text becomes None (never 'nan'); the postcode is written
    ``1234 AB``; numbers keep None for an empty field; dates become Timestamps (NaT when empty).

    Raises
    ------
    DataValidationError
        For an empty name or a postcode that is not Dutch (a Dutch message); nothing is returned then.
    """
    out = {}
    for field, value in values.items():
        if field in TEXT_FIELDS:
            text = _text(value).strip()
            out[field] = text or None
        elif field in ("capacity_per_year", "volunteers"):
            out[field] = None if _missing(value) else int(value)
        elif field == "reach_m":
            out[field] = None if _missing(value) else float(value)
        elif field in ("funding_end", "last_verified"):
            out[field] = pd.NaT if _missing(value) else pd.Timestamp(value)
        else:
            out[field] = value
    if "name" in out and out["name"] is None:
        raise DataValidationError("Geef de voorziening een naam; het veld Naam is leeg.")
    if out.get("postcode") is not None:
        out["postcode"] = normalise_postcode(out["postcode"])
    return out

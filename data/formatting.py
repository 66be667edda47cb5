"""Dutch number and date formats (1.234,5; 22 november 2026) via Babel."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal

from data.schema import VALUE_STATUSES

LOCALE = "nl_NL"
MISSING_LABELS = dict(VALUE_STATUSES)  # 'geheim', 'onbekend', 'geen inwoners', 'geen huishoudens'
NO_DATA = "geen gegevens"


def format_number(value: float | int | None, decimals: int = 0) -> str:
    """Format a number the Dutch way: ``1234.5`` -> ``'1.234,5'``; missing -> 'geen gegevens'."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return NO_DATA
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    # Round half up, as in Excel and CBS tables (Babel would round half to even).
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return format_decimal(rounded, format=pattern, locale=LOCALE)


def format_value(value, *, decimals: int = 0, unit: str = "", status: str | None = None) -> str:
    """Format a key figure with its unit; a missing value shows its status ('geheim')."""
    if value is None or pd.isna(value):
        # Known CBS statuses have a fixed label; any other status (e.g. 'minder dan 5 personen') is shown as is.
        return MISSING_LABELS.get(status, status) if isinstance(status, str) and status else NO_DATA
    text = format_number(value, decimals)
    if not unit:
        return text
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def format_date(value) -> str:
    """Format a date as '22 november 2026'; missing -> ''."""
    if value is None or pd.isna(value):
        return ""
    return _babel_date(pd.Timestamp(value).date(), format="long", locale=LOCALE)


def format_datetime(value) -> str:
    """Format a moment (ISO text or timestamp; UTC when no zone) as '1-12-2026 09:15' in Dutch time; missing -> ''."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return ""
    moment = pd.Timestamp(value)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment
    return moment.tz_convert("Europe/Amsterdam").strftime("%-d-%-m-%Y %H:%M")


def round_to_five(counts):
    """Counts of persons rounded to the nearest multiple of 5 (half up), for figures that other
    figures could be subtracted from: a small exact number cannot be worked out of rounded ones."""
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(pd.Series(counts), errors="coerce").astype(float)
    return (np.floor(values / 5 + 0.5) * 5).astype("Int64")

"""Dutch number and date formats."""

import math

import pandas as pd

from data.formatting import format_date, format_number, format_value


def test_dutch_thousands_and_decimal_separators():
    assert format_number(1234.5, 1) == "1.234,5"
    assert format_number(1234567, 0) == "1.234.567"
    assert format_number(0.25, 2) == "0,25"
    assert format_number(-3.14159, 2) == "-3,14"


def test_missing_is_never_zero():
    assert format_number(None) == "geen gegevens"
    assert format_number(math.nan) == "geen gegevens"
    assert format_value(math.nan, status="geheim") == "geheim"
    assert format_value(None, status="onbekend") == "onbekend"


def test_units():
    assert format_value(12.0, unit="%") == "12%"
    assert format_value(31.25, decimals=1, unit="× € 1.000") == "31,3 × € 1.000"
    assert format_value(5, unit="") == "5"


def test_dates_are_dutch():
    assert format_date(pd.Timestamp("2026-11-22")) == "22 november 2026"
    assert format_date(pd.NaT) == ""

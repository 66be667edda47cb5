"""RIVM/GGD Gezondheidsmonitor small-area estimates (CBS table 50120NED) per buurt and wijk.

Reads the StatLine export (one row per area, age group and margin: value, lower and upper
95% bound) or a simple wide sheet (columns ``Eenzaam``, ``Eenzaam_ondergrens``, ...), in
CSV or Excel, and turns it into key figures with intervals for the store.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.indicators import HEALTH_MEASURES, HEALTH_SOURCE
from data.tabular import parse_numbers, read_table_file

_CODE = re.compile(r"^(BU\d{8}|WK\d{6}|GM\d{4}|NL\d{2})$")


def measure_key(column: str) -> str | None:
    """Map a StatLine or template column name to a health measure key, or None."""
    name = re.sub(r"[^a-z]", "", column.lower())
    name = name.replace("ondergrens", "").replace("bovengrens", "")
    if "eenzaam" in name:
        for key in ("ernstig", "emotioneel", "sociaal"):
            if key in name:
                return f"{key}_eenzaam"
        return "eenzaam"
    if "angst" in name or "depressie" in name or "psychischeklachten" in name:
        return "psychische_klachten"
    if "mantelzorg" in name:
        return "mantelzorger"
    if "vrijwilliger" in name:
        return "vrijwilligerswerk"
    if "rondkomen" in name:
        return "moeite_rondkomen"
    return None


def _bound(column: str) -> str:
    low = column.lower()
    return "lower" if "ondergrens" in low else "upper" if "bovengrens" in low else "value"


def _age(text: str) -> str:
    digits = re.findall(r"\d+", str(text))
    if any(d in ("65", "53115") for d in digits) or "65" in str(text):
        return "65"
    return "18"


def _margin(text: str) -> str:
    low = str(text).lower()
    if "onder" in low or low.startswith("mog"):
        return "lower"
    if "boven" in low or low.startswith("mbg"):
        return "upper"
    return "value"


def read_health_file(path: str | Path, *, year: int | None = None) -> pd.DataFrame:
    """Read Gezondheidsmonitor estimates into long key figures with intervals.

    Returns
    -------
    DataFrame
        area_code, indicator (``gm_<measure>_<18|65>``), year, value, lower, upper, status,
        source; one row per area, measure and age group.

    Raises
    ------
    DataValidationError
        No area code column, no known measure, no year, or a value that is not a number
        (with file, row and column).
    """
    path = Path(path)
    frame = read_table_file(path)
    code_col = next((c for c in frame.columns
                     if frame[c].astype(str).str.strip().str.match(_CODE.pattern).mean() > 0.5), None)
    if code_col is None:
        raise DataValidationError("Geen kolom met gebiedscodes (BU…/WK…/GM…) gevonden, zoals "
                                  "'WijkenEnBuurten' of 'Codering'.", file=path.name)
    measures = {c: measure_key(c) for c in frame.columns if c != code_col and measure_key(c)}
    if not measures:
        raise DataValidationError(
            "Geen bekende maat gevonden; verwacht kolommen zoals 'Eenzaam', 'ErnstigZeerErnstigEenzaam', "
            f"'MoeiteMetRondkomen' (bekend: {', '.join(HEALTH_MEASURES)}).", file=path.name)
    lower_cols = {c.lower(): c for c in frame.columns}
    age = (frame[lower_cols["leeftijd"]].map(_age) if "leeftijd" in lower_cols
           else pd.Series("18", index=frame.index))
    margin = (frame[lower_cols["marges"]].map(_margin) if "marges" in lower_cols
              else pd.Series("value", index=frame.index))
    if year is None and "perioden" in lower_cols:
        years = frame[lower_cols["perioden"]].astype(str).str.extract(r"(\d{4})")[0].dropna().astype(int)
        year = int(years.max()) if len(years) else None
    if year is None:
        found = re.findall(r"(?<!\d)(20[0-4]\d)(?!\d)", path.name)
        year = int(found[-1]) if found else None
    if year is None:
        raise DataValidationError("Het jaar van de cijfers is onbekend; geef het op met --jaar.", file=path.name)

    codes = frame[code_col].astype(str).str.strip()
    parts = []
    for col, key in measures.items():
        numbers = parse_numbers(frame[col], file=path.name, column=col)
        bound = _bound(col)
        parts.append(pd.DataFrame({
            "area_code": codes.to_numpy(),
            "indicator": ("gm_" + key + "_" + age).to_numpy(),
            "bound": np.where(bound == "value", margin.to_numpy(), bound),
            "number": numbers.to_numpy(),
        }))
    long = pd.concat(parts, ignore_index=True)
    long = long.loc[long["area_code"].str.match(r"^(BU|WK|GM)")]
    wide = long.groupby(["area_code", "indicator", "bound"])["number"].first().unstack("bound")
    wide = wide.reset_index()
    wide.columns.name = None
    for col in ("value", "lower", "upper"):
        if col not in wide:
            wide[col] = np.nan
    bad = wide["lower"].notna() & wide["upper"].notna() & (wide["lower"] > wide["upper"])
    if bad.any():
        r = wide.loc[bad].iloc[0]
        raise DataValidationError(
            f"Ondergrens groter dan bovengrens voor {r['area_code']} ({r['indicator']}).", file=path.name)
    wide["year"] = year
    wide["status"] = np.where(wide["value"].isna(), "onbekend", None)
    wide["source"] = HEALTH_SOURCE
    columns = ["area_code", "indicator", "year", "value", "lower", "upper", "status", "source"]
    return wide[columns].reset_index(drop=True)

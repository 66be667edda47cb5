"""RIVM/GGD Gezondheidsmonitor small-area estimates (CBS table 50120NED) per buurt and wijk.

Reads the StatLine export (one row per area, age group and margin: value, lower and upper
95% bound) or a simple wide sheet (columns ``Eenzaam``, ``Eenzaam_ondergrens``, ...), in
CSV or Excel, and turns it into key figures with intervals for the store. Every estimate is a
percentage: values and bounds outside 0-100 are refused with their row and column (CBS
secrecy codes such as -99997 are missing values, not errors), like a lower bound above the
upper bound. Library warnings while reading go to the log, not to the screen.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from data.cbs import SECRECY_CODES, raise_if_problems
from data.errors import DataValidationError
from data.formatting import format_number
from data.indicators import BY_NAME, HEALTH_MEASURES, HEALTH_SOURCE
from data.tabular import parse_numbers, read_table_file

logger = logging.getLogger(__name__)
_CODE = re.compile(r"^(BU\d{8}|WK\d{6}|GM\d{4}|NL\d{2})$")
_CODE_THRESHOLD = max(SECRECY_CODES)  # -99995 and lower are CBS codes, never numbers
_BOUND_LABEL = {"value": "De schatting", "lower": "De ondergrens", "upper": "De bovengrens"}


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


def _percent(value: float) -> str:
    return format_number(value, 0 if float(value).is_integer() else 1)


def read_health_file(path: str | Path, *, year: int | None = None) -> pd.DataFrame:
    """Read Gezondheidsmonitor estimates into long key figures with intervals.

    Parameters
    ----------
    path : str or Path
        StatLine export or own sheet, CSV or Excel.
    year : int, optional
        Year of the estimates; taken from ``Perioden`` or the file name when omitted.

    Returns
    -------
    DataFrame
        area_code, indicator (``gm_<measure>_<18|65>``), year, value, lower, upper, status,
        source; one row per area, measure and age group. CBS secrecy codes are missing values
        with status ``geheim``/``onbekend``.

    Raises
    ------
    DataValidationError
        No area code column, no known measure, or a value that is not a number (with file, row
        and column); with ``problems`` (bestand, rij, kolom, melding) every percentage outside
        0-100 and every lower bound above its upper bound; only after those: no year.
    """
    path = Path(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = read_table_file(path)
        finally:
            for item in caught:
                logger.warning("%s: %s: %s", path.name, item.category.__name__, item.message)
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

    codes = frame[code_col].astype(str).str.strip()
    rows = np.arange(len(frame)) + 2  # header = row 1
    parts = []
    problems: list[dict] = []
    for col, key in measures.items():  # one vectorised pass per column
        raw = parse_numbers(frame[col], file=path.name, column=col)
        secret = raw <= _CODE_THRESHOLD
        numbers = raw.mask(secret)
        bound = _bound(col)
        bounds = np.where(bound == "value", margin.to_numpy(), bound)
        outside = ((numbers < 0) | (numbers > 100)).to_numpy()
        if outside.any():
            problems.extend(
                {"bestand": path.name, "rij": int(r), "kolom": col,
                 "melding": f"{c}: {_BOUND_LABEL[b].lower()} is {_percent(v)}%; de Gezondheidsmonitor "
                            "geeft percentages, tussen 0 en 100."}
                for r, c, b, v in zip(rows[outside], codes.to_numpy()[outside], bounds[outside],
                                      numbers.to_numpy()[outside], strict=True))
        parts.append(pd.DataFrame({
            "area_code": codes.to_numpy(),
            "indicator": ("gm_" + key + "_" + age).to_numpy(),
            "bound": bounds,
            "number": numbers.to_numpy(),
            "code": raw.where(secret).to_numpy(),
            "row": rows,
            "column": col,
        }))
    long = pd.concat(parts, ignore_index=True)
    long = long.loc[long["area_code"].str.match(r"^(BU|WK|GM)")]
    wide = long.groupby(["area_code", "indicator", "bound"])["number"].first().unstack("bound")
    wide = wide.reset_index()
    wide.columns.name = None
    for col in ("value", "lower", "upper"):
        if col not in wide:
            wide[col] = np.nan
    # Where each lower bound came from, for the report.
    origin = long.loc[long["bound"] == "lower"].groupby(["area_code", "indicator"])[["row", "column"]].first()
    bad = (wide["lower"].notna() & wide["upper"].notna() & (wide["lower"] > wide["upper"])).to_numpy()
    if bad.any():
        where = origin.reindex(pd.MultiIndex.from_frame(wide.loc[bad, ["area_code", "indicator"]]))
        problems.extend(
            {"bestand": path.name, "rij": int(r), "kolom": c,
             "melding": f"{a}: de ondergrens ({_percent(lo)}%) is groter dan de bovengrens "
                        f"({_percent(up)}%) voor {BY_NAME[i].label if i in BY_NAME else i}."}
            for r, c, a, i, lo, up in zip(where["row"], where["column"], wide.loc[bad, "area_code"],
                                          wide.loc[bad, "indicator"], wide.loc[bad, "lower"], wide.loc[bad, "upper"],
                                          strict=True))
    problems.sort(key=lambda p: (p["rij"], p["kolom"]))
    raise_if_problems(problems)
    # Only now the year: a file with content problems shows those first.
    if year is None:
        raise DataValidationError(
            "Het jaar van de cijfers staat niet in het bestand of de bestandsnaam. Geef het jaar van de cijfers op "
            "(bijvoorbeeld 2022).", file=path.name)
    value_codes = long.loc[long["bound"] == "value"].groupby(["area_code", "indicator"])["code"].first()
    value_codes = value_codes.reindex(pd.MultiIndex.from_frame(wide[["area_code", "indicator"]]))
    status = value_codes.map(SECRECY_CODES).fillna("onbekend").to_numpy(dtype=object)
    wide["year"] = year
    wide["status"] = np.where(wide["value"].notna(), None, status)
    wide["source"] = HEALTH_SOURCE
    columns = ["area_code", "indicator", "year", "value", "lower", "upper", "status", "source"]
    return wide[columns].reset_index(drop=True)

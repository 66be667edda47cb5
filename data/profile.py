"""Key figures of one area side by side with its wijk and gemeente, formatted in Dutch."""

from __future__ import annotations

import pandas as pd

from data.formatting import format_value
from data.indicators import CATALOGUE


def area_figures(values: pd.DataFrame, areas: pd.DataFrame, area_code: str) -> pd.DataFrame:
    """Return a table: one row per catalogue indicator, one column per comparison area.

    Parameters
    ----------
    values : DataFrame
        Key figures in long form (area_code, indicator, year, value, status).
    areas : DataFrame
        Area attributes with area_code, name, level, wijk_code, gemeente_code.
    area_code : str
        The area to show; its wijk (for a buurt) and gemeente are added as columns.

    Returns
    -------
    DataFrame
        Column ``Kerncijfer`` with the Dutch label plus one column per area (headed by its
        name) with the formatted value, 'geheim'/'onbekend' where CBS withheld it.
    """
    row = areas.loc[areas["area_code"] == area_code]
    if row.empty:
        raise KeyError(area_code)
    row = row.iloc[0]
    codes = [area_code]
    if row["level"] == "buurt" and isinstance(row.get("wijk_code"), str):
        codes.append(row["wijk_code"])
    if row["level"] != "gemeente":
        codes.append(row["gemeente_code"])
    latest = (values.loc[values["area_code"].isin(codes)]
              .sort_values("year").drop_duplicates(["area_code", "indicator"], keep="last")
              .set_index(["indicator", "area_code"]))
    names = areas.set_index("area_code")["name"]
    present = set(latest.index.get_level_values("indicator"))
    table = {"Kerncijfer": [
        f"{ind.label} ({ind.unit})" if ind.unit not in ("", "%") else ind.label
        for ind in CATALOGUE if ind.name in present
    ]}
    for code in codes:
        column = []
        for ind in CATALOGUE:
            if ind.name not in present:
                continue
            if (ind.name, code) in latest.index:
                rec = latest.loc[(ind.name, code)]
                unit = "%" if ind.unit == "%" else ""  # other units are in the label
                column.append(format_value(rec["value"], decimals=ind.decimals, unit=unit,
                                           status=rec["status"] if pd.notna(rec["status"]) else None))
            else:
                column.append("geen gegevens")
        table[str(names.get(code, code))] = column
    return pd.DataFrame(table)

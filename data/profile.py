"""Neighbourhood profiles: an area's key figures beside its wijk and gemeente, how far they
deviate, what stands out, comparisons, trends, and exports (Excel, printable HTML)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.export import frames_to_excel_bytes
from data.formatting import format_date, format_number, format_value
from data.indicators import BY_NAME, CATALOGUE, mask_rates_without_base

DEVIATION_SD = 1.0  # colour when more than one standard deviation from the gemeente's areas


@dataclass
class Profile:
    """Everything the profile page and its exports show for one area."""

    code: str
    name: str
    level: str
    year: int | None
    columns: list[str]  # area, wijk (for a buurt), gemeente: display names
    table: pd.DataFrame  # one row per indicator
    summary: str
    provisions: pd.DataFrame = field(default_factory=pd.DataFrame)
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)


def _latest(values: pd.DataFrame, year: int | None) -> pd.DataFrame:
    if year is not None:
        values = values.loc[values["year"].isna() | (values["year"] <= year)]
    return values.sort_values("year").drop_duplicates(["area_code", "indicator"], keep="last")


def _fmt(ind, value, status=None, lower=None, upper=None) -> str:
    unit = "%" if ind.unit == "%" else ""  # other units are in the label
    text = format_value(value, decimals=ind.decimals, unit=unit, status=status)
    if lower is not None and upper is not None and pd.notna(lower) and pd.notna(upper) and pd.notna(value):
        text += f" ({format_number(lower, ind.decimals)}–{format_number(upper, ind.decimals)})"
    return text


def _label(ind) -> str:
    return f"{ind.label} ({ind.unit})" if ind.unit not in ("", "%") else ind.label


def deviation_stats(values: pd.DataFrame, areas: pd.DataFrame, *, level: str, gemeente_code: str,
                    year: int | None = None) -> pd.DataFrame:
    """Mean and standard deviation per indicator over the gemeente's inhabited areas of ``level``.

    Areas without inhabitants or of water only are left out: they have no rates. A rate counts
    only the areas where it is known and has a base: an inhabited area without households has
    no rates per household (:func:`data.indicators.mask_rates_without_base`).
    """
    peers = areas.loc[(areas["level"] == level) & (areas["gemeente_code"] == gemeente_code)
                      & ~areas["water"].fillna(False).astype(bool), "area_code"]
    latest = _latest(mask_rates_without_base(values.loc[values["area_code"].isin(peers)]), year)
    wide = latest.pivot(index="area_code", columns="indicator", values="value")
    if "aantal_inwoners" in wide:
        wide = wide.loc[wide["aantal_inwoners"].fillna(0) > 0]
    return pd.DataFrame({"mean": wide.mean(), "sd": wide.std(ddof=0), "n": wide.count()})


def area_profile(values: pd.DataFrame, areas: pd.DataFrame, area_code: str, *,
                 year: int | None = None, provisions: pd.DataFrame | None = None) -> Profile:
    """Build the profile of one buurt or wijk (or the gemeente).

    Parameters
    ----------
    values : DataFrame
        Key figures in long form (area_code, indicator, year, value, lower, upper, status).
    areas : DataFrame
        Area attributes (area_code, name, level, wijk_code, gemeente_code, water).
    area_code : str
        The area.
    year : int, optional
        Latest year to use (default: the newest per indicator).
    provisions : DataFrame, optional
        Provisions in and near the area, from :func:`mapping.provisions.provisions_near`.

    Returns
    -------
    Profile
        With a table of every indicator: formatted values for the area, its wijk and gemeente,
        the deviation ``z`` from the mean of the gemeente's areas of the same level (in SDs)
        and ``signal`` 'ongunstig'/'gunstig' where that exceeds one SD and the catalogue says
        which direction means more need.
    """
    index = areas.set_index("area_code")
    if area_code not in index.index:
        raise KeyError(area_code)
    row = index.loc[area_code]
    codes = [area_code]
    if row["level"] == "buurt" and isinstance(row.get("wijk_code"), str) and row["wijk_code"] in index.index:
        codes.append(row["wijk_code"])
    if row["level"] != "gemeente" and row["gemeente_code"] in index.index:
        codes.append(row["gemeente_code"])
    latest = _latest(mask_rates_without_base(values.loc[values["area_code"].isin(codes)]), year
                     ).set_index(["indicator", "area_code"])
    stats = deviation_stats(values, areas, level=row["level"], gemeente_code=row["gemeente_code"], year=year)
    present = set(latest.index.get_level_values("indicator"))
    records = []
    for ind in CATALOGUE:
        if ind.name not in present:
            continue
        rec = {"indicator": ind.name, "Kerncijfer": _label(ind)}
        for i, code in enumerate(codes):
            if (ind.name, code) in latest.index:
                v = latest.loc[(ind.name, code)]
                rec[f"_v{i}"] = v["value"]
                rec[f"col{i}"] = _fmt(ind, v["value"], v["status"] if pd.notna(v["status"]) else None,
                                      v.get("lower"), v.get("upper"))
            else:
                rec[f"_v{i}"] = np.nan
                rec[f"col{i}"] = "geen gegevens"
        value = rec["_v0"]
        # Counts grow with the size of an area; only rates and averages are compared.
        comparable = ind.aggregation != "sum" and ind.name in stats.index
        if comparable and stats.loc[ind.name, "sd"] > 0 and pd.notna(value):
            z = (value - stats.loc[ind.name, "mean"]) / stats.loc[ind.name, "sd"]
        else:
            z = np.nan
        rec["z"] = z
        signal = None
        if pd.notna(z) and abs(z) > DEVIATION_SD and ind.higher_is_need is not None:
            worse = (z > 0) == ind.higher_is_need
            signal = "ongunstig" if worse else "gunstig"
        rec["signal"] = signal
        records.append(rec)
    table = pd.DataFrame.from_records(records)
    names = [str(index.loc[c, "name"]) for c in codes]
    if len(set(names)) < len(names):  # a buurt 'Centrum' in wijk 'Centrum': columns must stay apart
        names = [f"{n} ({index.loc[c, 'level']})" if names.count(n) > 1 else n for n, c in zip(names, codes,
                                                                                               strict=True)]
    table = table.rename(columns={f"col{i}": n for i, n in enumerate(names)})
    summary = profile_summary(table, names)
    data_year = latest["year"].max() if len(latest) else None
    return Profile(area_code, str(row["name"]), str(row["level"]),
                   int(data_year) if pd.notna(data_year) else None, names, table, summary,
                   provisions if provisions is not None else pd.DataFrame(),
                   indicator_trend(values, area_code))


def profile_summary(table: pd.DataFrame, names: list[str]) -> str:
    """A short plain-Dutch sentence on what stands out (more than one SD from the gemeente)."""
    if table.empty:
        return "Voor dit gebied zijn geen kerncijfers bekend."
    # Only figures whose direction means something: rates and those the catalogue marks as need.
    telling = table["indicator"].map(lambda n: BY_NAME[n].unit == "%" or BY_NAME[n].higher_is_need is not None)
    out = table.loc[(table["z"].abs() > DEVIATION_SD) & telling].copy()
    if out.empty:
        return "Geen kerncijfer wijkt meer dan één standaardafwijking af van de andere gebieden in de gemeente."
    out = out.reindex(out["z"].abs().sort_values(ascending=False).index).head(5)
    gem = names[-1] if len(names) > 1 else None
    parts = []
    for _, r in out.iterrows():
        ind = BY_NAME[r["indicator"]]
        word = "hoog" if r["z"] > 0 else "laag"
        label = ind.label[0].lower() + ind.label[1:]
        noun = f"{word} aandeel {label.lower()}" if ind.unit == "%" else f"{word} {label}"
        # Compared only with a number: not with 'geen gegevens', 'geheim' or 'geen inwoners'.
        known = bool(gem) and r[gem] != "geen gegevens" and pd.notna(r.get(f"_v{len(names) - 1}", 0))
        compare = f" ({r[names[0]]} tegen {r[gem]} in {gem})" if known else ""
        parts.append(noun + compare)
    return "Valt op: " + "; ".join(parts) + "."


def compare_areas(values: pd.DataFrame, areas: pd.DataFrame, codes: list[str], *,
                  year: int | None = None) -> pd.DataFrame:
    """Side-by-side table of 2-4 areas: one row per indicator, one column per area."""
    index = areas.set_index("area_code")
    latest = _latest(mask_rates_without_base(values.loc[values["area_code"].isin(codes)]), year
                     ).set_index(["indicator", "area_code"])
    present = set(latest.index.get_level_values("indicator"))
    rows = []
    for ind in CATALOGUE:
        if ind.name not in present:
            continue
        rec = {"Kerncijfer": _label(ind)}
        for code in codes:
            col = f"{index.loc[code, 'name']} ({code})"
            if (ind.name, code) in latest.index:
                v = latest.loc[(ind.name, code)]
                rec[col] = _fmt(ind, v["value"], v["status"] if pd.notna(v["status"]) else None,
                                v.get("lower"), v.get("upper"))
            else:
                rec[col] = "geen gegevens"
        rows.append(rec)
    return pd.DataFrame(rows)


def indicator_trend(values: pd.DataFrame, area_code: str) -> pd.DataFrame:
    """Values per year (rows: indicators, columns: years) when more than one year exists.

    A rate of a year in which the area had no inhabitants (or households) is NaN; see
    :func:`indicator_trend_text` for the table with its reason.
    """
    own = mask_rates_without_base(values.loc[(values["area_code"] == area_code) & values["year"].notna()])
    if own["year"].nunique() < 2:
        return pd.DataFrame()
    wide = own.pivot_table(index="indicator", columns="year", values="value", aggfunc="first")
    order = [i.name for i in CATALOGUE if i.name in wide.index]
    wide = wide.reindex(order)
    wide.index = [BY_NAME[i].label for i in wide.index]
    wide.columns = [int(c) for c in wide.columns]
    return wide


def indicator_trend_text(values: pd.DataFrame, area_code: str) -> pd.DataFrame:
    """The trend table as shown: every value formatted with its unit, a missing one with its reason.

    Parameters
    ----------
    values : DataFrame
        Key figures in long form (area_code, indicator, year, value, status, lower, upper).
    area_code : str
        The area.

    Returns
    -------
    DataFrame
        Rows: indicator labels (catalogue order), columns: years; texts such as '12%',
        'geheim' or 'geen inwoners', '' where the year has no such figure. Empty when the
        area has fewer than two years.
    """
    own = mask_rates_without_base(values.loc[(values["area_code"] == area_code) & values["year"].notna()
                                             & values["indicator"].isin(list(BY_NAME))])
    if own["year"].nunique() < 2:
        return pd.DataFrame()
    own = own.drop_duplicates(["indicator", "year"], keep="first")
    lower = own["lower"] if "lower" in own else pd.Series(np.nan, index=own.index)
    upper = own["upper"] if "upper" in own else pd.Series(np.nan, index=own.index)
    text = [_fmt(BY_NAME[i], v, s if isinstance(s, str) else None, lo, up)
            for i, v, s, lo, up in zip(own["indicator"], own["value"], own["status"], lower, upper, strict=True)]
    wide = own.assign(text=text).pivot(index="indicator", columns="year", values="text")
    wide = wide.reindex([i.name for i in CATALOGUE if i.name in wide.index]).fillna("")
    wide.index = [BY_NAME[i].label for i in wide.index]
    wide.columns = [int(c) for c in wide.columns]
    return wide


# --------------------------------------------------------------------------- exports

_SIGNAL_COLOUR = {"ongunstig": "#f4c7b8", "gunstig": "#cfe5f2"}


def profile_frame(profile: Profile) -> pd.DataFrame:
    """The profile table as shown: labels, formatted values and the deviation text."""
    frame = profile.table[["Kerncijfer", *profile.columns]].copy()
    frame["Afwijking"] = [
        "" if pd.isna(z) else f"{format_number(z, 1)} sd" + (f" ({s})" if isinstance(s, str) else "")
        for z, s in zip(profile.table["z"], profile.table["signal"], strict=True)
    ]
    return frame


def profile_to_excel(profile: Profile) -> bytes:
    """Export the profile (and provisions, trend) as an Excel workbook."""
    sheets = {"Profiel": profile_frame(profile), "Samenvatting": pd.DataFrame({"Samenvatting": [profile.summary]})}
    if not profile.provisions.empty:
        sheets["Voorzieningen"] = profile.provisions
    if not profile.trend.empty:
        sheets["Trend"] = profile.trend.rename_axis("Kerncijfer").reset_index()
    widths = {"Profiel": {"A": 48, **dict.fromkeys("BCDE", 20)}}
    return frames_to_excel_bytes(sheets, column_widths=widths)


def profile_to_html(profile: Profile, *, generated: pd.Timestamp | None = None) -> str:
    """A printable, self-contained HTML page (no external assets; all text escaped)."""
    esc = html.escape
    frame = profile_frame(profile)
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = []
    for (_, row), signal in zip(frame.iterrows(), profile.table["signal"], strict=True):
        style = f' style="background:{_SIGNAL_COLOUR[signal]}"' if signal in _SIGNAL_COLOUR else ""
        cells = "".join(f"<td>{esc(str(v))}</td>" for v in row)
        body.append(f"<tr{style}>{cells}</tr>")
    prov = ""
    if not profile.provisions.empty:
        phead = "".join(f"<th>{esc(str(c))}</th>" for c in profile.provisions.columns)
        prows = "".join(
            "<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in r) + "</tr>"
            for r in profile.provisions.astype(str).itertuples(index=False)
        )
        prov = f"<h2>Voorzieningen in en rond het gebied</h2><table><tr>{phead}</tr>{prows}</table>"
    when = format_date(generated if generated is not None else pd.Timestamp.now())
    level = {"buurt": "Buurt", "wijk": "Wijk", "gemeente": "Gemeente"}.get(profile.level, profile.level)
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Profiel {esc(profile.name)}</title>
<style>
body {{ font-family: Arial, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12px; }}
th, td {{ border: 1px solid #bbb; padding: 3px 6px; text-align: left; }}
th {{ background: #eee; }}
.legend span {{ padding: 2px 6px; margin-right: 8px; }}
@media print {{ body {{ margin: 0.5cm; }} h1 {{ font-size: 18px; }} }}
</style></head><body>
<h1>{esc(level)} {esc(profile.name)} ({esc(profile.code)})</h1>
<p>Gegevensjaar {esc(str(profile.year or "onbekend"))}; gemaakt op {esc(when)} met Steunkaart.</p>
<p><strong>{esc(profile.summary)}</strong></p>
<p class="legend"><span style="background:{_SIGNAL_COLOUR['ongunstig']}">ongunstig: meer dan 1 sd</span>
<span style="background:{_SIGNAL_COLOUR['gunstig']}">gunstig: meer dan 1 sd</span>
afwijking ten opzichte van de andere gebieden van hetzelfde niveau in de gemeente.</p>
<table><tr>{head}</tr>{''.join(body)}</table>
{prov}
<p>Bron: CBS / Kadaster (CC BY 4.0); 'geheim': CBS maakt de waarde niet bekend.</p>
</body></html>"""


def area_figures(values: pd.DataFrame, areas: pd.DataFrame, area_code: str) -> pd.DataFrame:
    """The profile table as shown beside the map: 'Kerncijfer' plus one column per area."""
    profile = area_profile(values, areas, area_code)
    return profile.table[["Kerncijfer", *profile.columns]]

"""Neighbourhood profiles: an area's key figures beside its wijk and gemeente, how far they
deviate, what stands out, comparisons, trends, and exports (Excel, printable HTML and PDF).

Every figure keeps its own data year: after importing CBS 2015 and 2017 some key figures exist only
in 2015 (the benefits), so a profile may mix years. Each row of the table then says its year
(``Jaar``), :func:`mixed_years_message` names which figures are from which year, and the wijk and
gemeente columns and the deviation use the same year as the area's own value where they have it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.export import (
    FMT_1,
    FMT_INT,
    FMT_PCT_POINTS,
    decimals_format,
    explanation_frame,
    frames_to_workbook,
    workbook_to_bytes,
)
from data.formatting import MISSING_LABELS, format_date, format_number, format_value
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
    codes: list[str] = field(default_factory=list)  # area, wijk, gemeente codes, in the order of ``columns``
    levels: list[str] = field(default_factory=list)  # their levels ('buurt', 'wijk', 'gemeente')
    years: list[int] = field(default_factory=list)  # the distinct data years of the rows, oldest first
    gemeente_code: str | None = None
    wijk_code: str | None = None
    figures: pd.DataFrame = field(default_factory=pd.DataFrame)  # long: the value behind every cell
    trend_figures: pd.DataFrame = field(default_factory=pd.DataFrame)  # long: every year of the three areas
    nearby: pd.DataFrame = field(default_factory=pd.DataFrame)  # typed provisions near (nearby_provisions)


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


def _stats_by_year(values: pd.DataFrame, areas: pd.DataFrame, *, level: str, gemeente_code: str,
                   year: int | None = None) -> pd.DataFrame:
    """Mean, sd and n per (indicator, year) over the gemeente's inhabited areas of ``level``.

    As :func:`deviation_stats`, but per data year, so that an area's 2015 figure is compared with the
    other areas' 2015 figures. An area counts as inhabited in a year by its inhabitants of that year;
    for a year without inhabitant figures (e.g. the health monitor's), by its newest inhabitant figure.
    A missing year is keyed as -1.
    """
    peers = areas.loc[(areas["level"] == level) & (areas["gemeente_code"] == gemeente_code)
                      & ~areas["water"].fillna(False).astype(bool), "area_code"]
    own = mask_rates_without_base(values.loc[values["area_code"].isin(peers)])
    if year is not None:
        own = own.loc[own["year"].isna() | (own["year"] <= year)]
    own = own.assign(_year=own["year"].fillna(-1).astype(int)).drop_duplicates(
        ["area_code", "indicator", "_year"], keep="last")
    inh = own.loc[own["indicator"] == "aantal_inwoners", ["area_code", "_year", "value"]]
    if len(inh):
        same = own[["area_code", "_year"]].merge(inh, on=["area_code", "_year"], how="left")["value"].to_numpy()
        newest = inh.sort_values("_year").drop_duplicates("area_code", keep="last").set_index("area_code")["value"]
        fallback = own["area_code"].map(newest).to_numpy(dtype=float)
        known_year = own["_year"].isin(set(inh["_year"])).to_numpy()
        base = np.where(known_year, same.astype(float), fallback)
        own = own.loc[np.nan_to_num(base, nan=0.0) > 0]
    grouped = own.groupby(["indicator", "_year"])["value"]
    return pd.DataFrame({"mean": grouped.mean(), "sd": grouped.std(ddof=0), "n": grouped.count()})


def _ensure_columns(values: pd.DataFrame) -> pd.DataFrame:
    """Long values with every column a profile reads (lower, upper, status, source may be absent)."""
    missing = {c: np.nan for c in ("lower", "upper") if c not in values}
    missing.update({c: None for c in ("status", "source") if c not in values})
    return values.assign(**missing) if missing else values


def _cells(masked: pd.DataFrame, codes: list[str], row_year: pd.Series) -> pd.DataFrame:
    """One value per (indicator, area): of the row's year where the area has it, else its newest."""
    ordered = masked.sort_values("year", na_position="first")
    wanted = ordered["indicator"].map(row_year)
    same = ordered.loc[ordered["year"] == wanted]
    newest = ordered.drop_duplicates(["indicator", "area_code"], keep="last")
    cells = pd.concat([same.drop_duplicates(["indicator", "area_code"], keep="last"), newest])
    cells = cells.drop_duplicates(["indicator", "area_code"], keep="first")
    order = {ind.name: i for i, ind in enumerate(CATALOGUE)}
    cells = cells.assign(_ind=cells["indicator"].map(order), _area=cells["area_code"].map(
        {c: i for i, c in enumerate(codes)}))
    return cells.sort_values(["_ind", "_area"]).drop(columns=["_ind", "_area"]).reset_index(drop=True)


def area_profile(values: pd.DataFrame, areas: pd.DataFrame, area_code: str, *,
                 year: int | None = None, provisions: pd.DataFrame | None = None,
                 nearby: pd.DataFrame | None = None) -> Profile:
    """Build the profile of one buurt or wijk (or the gemeente).

    Parameters
    ----------
    values : DataFrame
        Key figures in long form (area_code, indicator, year, value, lower, upper, status, source).
    areas : DataFrame
        Area attributes (area_code, name, level, wijk_code, gemeente_code, water).
    area_code : str
        The area.
    year : int, optional
        Latest year to use (default: the newest per indicator).
    provisions : DataFrame, optional
        Provisions in and near the area as shown, from :func:`mapping.provisions.provisions_near`.
    nearby : DataFrame, optional
        The same provisions typed (funding end, status, last verified), from :func:`nearby_provisions`;
        used by the key messages and the Excel export.

    Returns
    -------
    Profile
        With a table of every indicator: formatted values for the area, its wijk and gemeente,
        ``Jaar`` (the data year of the area's own value; the wijk and gemeente values are of that
        year where they have it), the deviation ``z`` from the mean of the gemeente's areas of the
        same level in that year (in SDs) and ``signal`` 'ongunstig'/'gunstig' where that exceeds one
        SD and the catalogue says which direction means more need.

    Raises
    ------
    KeyError
        When ``area_code`` is not among ``areas``.
    """
    index = areas.set_index("area_code")
    if area_code not in index.index:
        raise KeyError(area_code)
    row = index.loc[area_code]
    codes = [area_code]
    wijk_code = row.get("wijk_code") if isinstance(row.get("wijk_code"), str) else None
    if row["level"] == "buurt" and wijk_code in index.index:
        codes.append(wijk_code)
    if row["level"] != "gemeente" and row["gemeente_code"] in index.index:
        codes.append(row["gemeente_code"])
    masked = _ensure_columns(mask_rates_without_base(values.loc[values["area_code"].isin(codes)]))
    masked = masked.loc[masked["indicator"].isin(list(BY_NAME))]
    dated = masked if year is None else masked.loc[masked["year"].isna() | (masked["year"] <= year)]
    newest = dated.sort_values("year", na_position="first")
    own_year = newest.loc[newest["area_code"] == area_code].drop_duplicates("indicator", keep="last"
                                                                           ).set_index("indicator")["year"]
    any_year = newest.groupby("indicator")["year"].max()
    row_year = own_year.reindex(any_year.index).fillna(any_year)
    cells = _cells(dated, codes, row_year)
    stats = _stats_by_year(values, areas, level=row["level"], gemeente_code=row["gemeente_code"], year=year)
    lookup = cells.set_index(["indicator", "area_code"])
    present = set(cells["indicator"])
    records = []
    for ind in CATALOGUE:
        if ind.name not in present:
            continue
        jaar = row_year.get(ind.name, np.nan)
        rec = {"indicator": ind.name, "Kerncijfer": _label(ind)}
        for i, code in enumerate(codes):
            if (ind.name, code) in lookup.index:
                v = lookup.loc[(ind.name, code)]
                rec[f"_v{i}"] = v["value"]
                rec[f"col{i}"] = _fmt(ind, v["value"], v["status"] if isinstance(v["status"], str) else None,
                                      v["lower"], v["upper"])
            else:
                rec[f"_v{i}"] = np.nan
                rec[f"col{i}"] = "geen gegevens"
        rec["Jaar"] = jaar
        value = rec["_v0"]
        key = (ind.name, -1 if pd.isna(jaar) else int(jaar))
        # Counts grow with the size of an area; only rates and averages are compared.
        comparable = ind.aggregation != "sum" and key in stats.index
        if comparable and stats.loc[key, "sd"] > 0 and pd.notna(value):
            z = (value - stats.loc[key, "mean"]) / stats.loc[key, "sd"]
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
    if table.empty:
        table = pd.DataFrame(columns=["indicator", "Kerncijfer", "Jaar", "z", "signal"])
    table["Jaar"] = pd.array(table["Jaar"], dtype="Int64") if len(table) else pd.array([], dtype="Int64")
    names = [str(index.loc[c, "name"]) for c in codes]
    if len(set(names)) < len(names):  # a buurt 'Centrum' in wijk 'Centrum': columns must stay apart
        names = [f"{n} ({index.loc[c, 'level']})" if names.count(n) > 1 else n for n, c in zip(names, codes,
                                                                                               strict=True)]
    table = table.rename(columns={f"col{i}": n for i, n in enumerate(names)})
    summary = profile_summary(table, names)
    years = sorted(int(y) for y in table["Jaar"].dropna().unique())
    trend_figures = masked.loc[masked["year"].notna()].drop_duplicates(["area_code", "indicator", "year"],
                                                                         keep="last")
    return Profile(area_code, str(row["name"]), str(row["level"]), years[-1] if years else None, names, table,
                   summary, provisions if provisions is not None else pd.DataFrame(),
                   indicator_trend(values, area_code), codes=codes,
                   levels=[str(index.loc[c, "level"]) for c in codes], years=years,
                   gemeente_code=str(row["gemeente_code"]) if isinstance(row["gemeente_code"], str) else None,
                   wijk_code=wijk_code, figures=cells, trend_figures=trend_figures.reset_index(drop=True),
                   nearby=nearby if nearby is not None else pd.DataFrame())


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


# --------------------------------------------------------------------------- years, units, provisions

_SIGNAL_COLOUR = {"ongunstig": "#f4c7b8", "gunstig": "#cfe5f2"}
_LEVEL_LABELS = {"buurt": "Buurt", "wijk": "Wijk", "gemeente": "Gemeente"}
_PLURAL = {"buurt": "buurten", "wijk": "wijken", "gemeente": "gemeenten"}
# What a number without a unit in the catalogue counts (for the axis title and the Eenheid column).
_COUNTED = {"aantal_inwoners": "personen", "mannen": "personen", "vrouwen": "personen",
            "aantal_part_huishoudens": "huishoudens", "personen_per_soort_uitkering_bijstand": "personen",
            "personen_per_soort_uitkering_ao": "personen", "personen_per_soort_uitkering_ww": "personen",
            "personen_per_soort_uitkering_aow": "personen", "stedelijkheid_adressen_per_km2": "klasse (1-5)"}
FUNDING_HORIZON_MONTHS = 12  # the key messages name provisions whose funding ends within this time
CBS_CREDIT = "CBS / Kadaster (CC BY 4.0)"


def unit_label(indicator: str) -> str:
    """The unit of a key figure in words: '%', 'personen', 'huishoudens', '× € 1.000', 'ha', ...

    Parameters
    ----------
    indicator : str
        Internal name from :data:`data.indicators.CATALOGUE`.

    Returns
    -------
    str
        The catalogue's unit, or for a count what it counts ('aantal' when nothing more is known).
    """
    ind = BY_NAME[indicator]
    return ind.unit or _COUNTED.get(indicator, "aantal" if ind.aggregation == "sum" else "")


def excel_format(indicator: str) -> str:
    """The Excel number format of a key figure: percentages (stored 0-100) with one decimal and a
    '%', counts as whole numbers, averages with the catalogue's decimals."""
    ind = BY_NAME[indicator]
    if ind.unit == "%":
        return FMT_PCT_POINTS
    if ind.aggregation == "sum":
        return FMT_INT
    return decimals_format(ind.decimals)


def years_label(profile: Profile) -> str:
    """'gegevensjaar 2017', or 'gegevens 2015–2017' when the rows are of different years."""
    if not profile.years:
        return "gegevensjaar onbekend"
    if len(profile.years) == 1:
        return f"gegevensjaar {profile.years[0]}"
    return f"gegevens {profile.years[0]}–{profile.years[-1]}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def mixed_years_message(profile: Profile) -> str | None:
    """None when every row is of one year; else which figures are from which (older) year.

    Returns
    -------
    str or None
        E.g. 'Niet alle cijfers zijn van hetzelfde jaar. Van 2017: 25 kerncijfers. Van 2015:
        Personen met bijstandsuitkering en Personen met WW-uitkering.' The newest year is counted,
        the figures of older years are named.
    """
    if len(profile.years) < 2:
        return None
    jaar = profile.table["Jaar"]
    labels = profile.table["indicator"].map(lambda n: BY_NAME[n].label)
    newest = profile.years[-1]
    n_new = int((jaar == newest).sum())
    parts = [f"Van {newest}: {n_new} kerncijfer{'s' if n_new != 1 else ''}."]
    for year in reversed(profile.years[:-1]):
        parts.append(f"Van {year}: {_join(list(labels[(jaar == year).fillna(False)]))}.")
    return ("Niet alle cijfers zijn van hetzelfde jaar: een nieuwer CBS-bestand bevat niet elk kerncijfer. "
            + " ".join(parts) + " Vergelijk cijfers van verschillende jaren met voorzichtigheid.")


def nearby_provisions(provisions: pd.DataFrame, area, *, distance_m: float = 1000.0,
                      catalogue: dict | None = None) -> pd.DataFrame:
    """The provisions in ``area`` or within ``distance_m`` of its edge, typed for messages and exports.

    Parameters
    ----------
    provisions : GeoDataFrame
        The provisions of the store (RD New, metres).
    area : shapely geometry
        The area (RD New).
    distance_m : float
        How far outside the area a provision still counts as near, in metres.
    catalogue : dict, optional
        Provision types (code → type with ``label``); default the built-in catalogue.

    Returns
    -------
    DataFrame
        Nearest first (as :func:`mapping.provisions.provisions_near`): provision_id, name, type,
        type_label, status, distance_m (0 inside), capacity_per_year, funding_end, last_verified
        (timestamps, NaT when unknown) and running.
    """
    import shapely

    from data.provision_types import PROVISION_TYPES
    from data.reach import is_running

    columns = ["provision_id", "name", "type", "type_label", "status", "distance_m", "capacity_per_year",
               "funding_end", "last_verified", "running"]
    if provisions is None or len(provisions) == 0 or area is None:
        return pd.DataFrame(columns=columns)
    if not 0 <= distance_m < np.inf:
        raise ValueError("distance_m moet een afstand van 0 meter of meer zijn")
    dist = shapely.distance(provisions.geometry.to_numpy(), area)
    keep = np.flatnonzero(dist <= distance_m)
    near = provisions.iloc[keep].assign(distance_m=dist[keep]).sort_values(["distance_m", "name"])
    types = PROVISION_TYPES if catalogue is None else catalogue

    def column(name):
        return near[name] if name in near else pd.Series(np.nan, index=near.index)

    return pd.DataFrame({
        "provision_id": column("provision_id").to_numpy(),
        "name": near["name"].to_numpy(),
        "type": near["type"].to_numpy(),
        "type_label": near["type"].map(lambda t: types[t].label if t in types else t).to_numpy(),
        "status": near["status"].to_numpy(),
        "distance_m": near["distance_m"].round().to_numpy(),
        "capacity_per_year": pd.array(pd.to_numeric(column("capacity_per_year"), errors="coerce").round(),
                                      dtype="Int64"),
        "funding_end": pd.to_datetime(column("funding_end"), errors="coerce").to_numpy(),
        "last_verified": pd.to_datetime(column("last_verified"), errors="coerce").to_numpy(),
        "running": is_running(near),
    }, columns=columns)


# --------------------------------------------------------------------------- key messages


def _names(frame: pd.DataFrame, limit: int = 3, *, dates: bool = False) -> str:
    shown = [f"{n} (tot {format_date(d)})" if dates and pd.notna(d) else str(n)
             for n, d in zip(frame["name"].head(limit), frame["funding_end"].head(limit), strict=True)]
    rest = len(frame) - len(shown)
    return _join(shown + ([f"nog {rest} andere"] if rest > 0 else []))


def profile_messages(profile: Profile, *, today=None, shortage: str | None = None) -> list[str]:
    """Three to five plain-Dutch key messages (kernboodschappen) for the report's box.

    Parameters
    ----------
    profile : Profile
        From :func:`area_profile`, with ``nearby`` (:func:`nearby_provisions`) for the provision messages.
    today : date-like, optional
        The day the funding horizon starts (default: today).
    shortage : str, optional
        A sentence on the largest shortage in the area (from the gap analysis), added last.

    Returns
    -------
    list of str
        What stands out (the strongest deviations); the size of the area; the provisions near the
        area whose funding ends within :data:`FUNDING_HORIZON_MONTHS` months; those under pressure or
        stopped; and ``shortage``. At most five.
    """
    today = pd.Timestamp(today if today is not None else pd.Timestamp.now()).normalize()
    messages = [profile.summary]
    figures = profile.figures
    own = figures.loc[figures["area_code"] == profile.code].set_index("indicator") if len(figures) else None
    if own is not None and "aantal_inwoners" in own.index and pd.notna(own.loc["aantal_inwoners", "value"]):
        inh = own.loc["aantal_inwoners"]
        text = f"Het gebied telt {format_number(inh['value'])} inwoners"
        hh = own["value"].get("aantal_part_huishoudens")
        if hh is not None and pd.notna(hh):
            text += f" in {format_number(hh)} huishoudens"
        year = f" (CBS {int(inh['year'])})" if pd.notna(inh["year"]) else ""
        messages.append(text + year + ".")
    near = profile.nearby
    if near.empty and profile.provisions.empty:
        messages.append("In of binnen 1 km van het gebied staat geen voorziening op de sociale kaart.")
    elif not near.empty:
        running = near.loc[near["running"].astype(bool)]
        horizon = today + pd.DateOffset(months=FUNDING_HORIZON_MONTHS)
        ending = running.loc[(running["funding_end"] >= today) & (running["funding_end"] <= horizon)
                             ].sort_values("funding_end")
        if len(ending):
            n = len(ending)
            messages.append(f"Bij {n} voorziening{'en' if n > 1 else ''} in of rond het gebied loopt de "
                            f"financiering binnen {FUNDING_HORIZON_MONTHS} maanden af: "
                            f"{_names(ending, dates=True)}.")
        else:
            messages.append(f"Van de {len(running)} lopende voorzieningen in of rond het gebied loopt geen "
                            f"bekende financiering binnen {FUNDING_HORIZON_MONTHS} maanden af.")
        pressure = near.loc[near["status"] == "onder_druk"]
        stopped = near.loc[near["status"] == "gestopt"]
        parts = []
        if len(pressure):
            parts.append(f"{len(pressure)} {'staat' if len(pressure) == 1 else 'staan'} onder druk "
                         f"({_names(pressure)})")
        if len(stopped):
            parts.append(f"{len(stopped)} {'is' if len(stopped) == 1 else 'zijn'} gestopt ({_names(stopped)})")
        if parts:
            messages.append("Van de voorzieningen in of rond het gebied " + " en ".join(parts) + ".")
    else:  # only the shown table: its Dutch status labels
        status = profile.provisions["Status"].astype(str) if "Status" in profile.provisions else pd.Series([])
        n_p, n_s = int((status == "onder druk").sum()), int((status == "gestopt").sum())
        if n_p or n_s:
            messages.append(f"Van de voorzieningen in of rond het gebied staan er {n_p} onder druk en "
                            f"zijn er {n_s} gestopt.")
    if shortage:
        messages.append(shortage)
    return messages[:5]


# --------------------------------------------------------------------------- exports


def profile_frame(profile: Profile) -> pd.DataFrame:
    """The profile table as shown: labels, formatted values, the data year and the deviation text."""
    frame = profile.table[["Kerncijfer", *profile.columns]].copy()
    if "Jaar" in profile.table:
        frame["Jaar"] = profile.table["Jaar"].to_numpy()
    frame["Afwijking"] = [
        "" if pd.isna(z) else f"{format_number(z, 1)} sd" + (f" ({s})" if isinstance(s, str) else "")
        for z, s in zip(profile.table["z"], profile.table["signal"], strict=True)
    ]
    return frame


TIDY_COLUMNS = ["Gebiedscode", "Gebied", "Niveau", "Kerncijfer", "Indicator", "Eenheid", "Jaar", "Waarde",
                "Ondergrens", "Bovengrens", "Status", "Bron"]


def _source_text(source: pd.Series, indicator: pd.Series, year: pd.Series) -> pd.Series:
    """'CBS Wijk- en Buurtkaart 2017' per row: the stored source (else the catalogue's) and the year."""
    default = indicator.map(lambda n: BY_NAME[n].source)
    derived = source.astype(object).eq("afgeleid uit buurten")
    base = source.astype(object).where(source.notna() & ~derived, default).astype(str)
    years = year.map(lambda y: "" if pd.isna(y) else f" {int(y)}")
    text = base + years
    return text.where(~derived, text + ", afgeleid uit buurten")


def tidy_figures(figures: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Key figures in long form as exported: one row per area, figure and year, values as numbers.

    Parameters
    ----------
    figures : DataFrame
        Long values (area_code, indicator, year, value, lower, upper, status, source), e.g.
        ``Profile.figures`` or ``Profile.trend_figures``.
    areas : DataFrame
        Area attributes (area_code, name, level).

    Returns
    -------
    DataFrame
        Columns :data:`TIDY_COLUMNS`: Jaar as an integer, Waarde/Ondergrens/Bovengrens as floats (empty
        where unknown), Status the reason ('geheim', 'geen inwoners') only where Waarde is empty, Bron
        the source with its year.
    """
    figures = _ensure_columns(figures.loc[figures["indicator"].isin(list(BY_NAME))])
    index = areas.drop_duplicates("area_code").set_index("area_code")
    status = figures["status"].map(lambda s: MISSING_LABELS.get(s, s) if isinstance(s, str) and s else None)
    status = status.where(figures["value"].isna(), None)
    status = status.where(status.notna() | figures["value"].notna(), "geen gegevens")
    return pd.DataFrame({
        "Gebiedscode": figures["area_code"].to_numpy(),
        "Gebied": figures["area_code"].map(index["name"]).to_numpy(),
        "Niveau": figures["area_code"].map(index["level"]).to_numpy(),
        "Kerncijfer": figures["indicator"].map(lambda n: BY_NAME[n].label).to_numpy(),
        "Indicator": figures["indicator"].to_numpy(),
        "Eenheid": figures["indicator"].map(unit_label).to_numpy(),
        "Jaar": pd.array(figures["year"].to_numpy(dtype=float), dtype="Int64") if len(figures) else
        pd.array([], dtype="Int64"),
        "Waarde": figures["value"].to_numpy(dtype=float),
        "Ondergrens": figures["lower"].to_numpy(dtype=float),
        "Bovengrens": figures["upper"].to_numpy(dtype=float),
        "Status": status.to_numpy(dtype=object),
        "Bron": _source_text(figures["source"], figures["indicator"], figures["year"]).to_numpy(),
    }, columns=TIDY_COLUMNS)


def _profile_areas(profile: Profile) -> pd.DataFrame:
    names = [profile.name, *profile.columns[1:]]  # the columns may carry '(wijk)' to stay apart
    return pd.DataFrame({"area_code": profile.codes, "name": names, "level": profile.levels})


def profile_long(profile: Profile) -> pd.DataFrame:
    """The 'Profiel' sheet: :func:`tidy_figures` of the area, its wijk and gemeente, per figure, with the
    area's deviation (Afwijking, in sd) and signal on its own rows."""
    if not profile.codes:  # a Profile made by hand, without the long figures
        return pd.DataFrame(columns=[*TIDY_COLUMNS, "Afwijking", "Signaal"])
    tidy = tidy_figures(profile.figures, _profile_areas(profile))
    table = profile.table.set_index("indicator")
    own = tidy["Gebiedscode"].eq(profile.code).to_numpy()
    z = tidy["Indicator"].map(table["z"]).to_numpy(dtype=float)
    signal = tidy["Indicator"].map(table["signal"]).to_numpy(dtype=object)
    out = tidy.assign(Afwijking=np.where(own, z, np.nan), Signaal=np.where(own, signal, None))
    out["Signaal"] = out["Signaal"].where(out["Signaal"].map(lambda s: isinstance(s, str)), None)
    return out


def _trend_long(profile: Profile) -> pd.DataFrame:
    own = profile.trend_figures
    if own.empty or own.loc[own["area_code"] == profile.code, "year"].nunique() < 2:
        return pd.DataFrame(columns=TIDY_COLUMNS)
    order = {ind.name: i for i, ind in enumerate(CATALOGUE)}
    area_order = {c: i for i, c in enumerate(profile.codes)}
    own = own.assign(_i=own["indicator"].map(order), _a=own["area_code"].map(area_order)).sort_values(
        ["_i", "_a", "year"]).drop(columns=["_i", "_a"])
    return tidy_figures(own, _profile_areas(profile))


def _provisions_sheet(profile: Profile) -> pd.DataFrame:
    near = profile.nearby
    if near.empty:
        return profile.provisions
    shown = profile.provisions
    frame = pd.DataFrame({
        "Naam": near["name"].to_numpy(), "Soort": near["type_label"].to_numpy(),
        "Status": near["status"].map(lambda s: {"onder_druk": "onder druk"}.get(s, s)).to_numpy(),
        "Afstand (m)": pd.array(near["distance_m"].to_numpy(dtype=float).round(), dtype="Int64"),
        "Capaciteit per jaar": pd.array(near["capacity_per_year"], dtype="Int64"),
        "Financiering tot": pd.to_datetime(near["funding_end"]).to_numpy(),
        "Laatst gecontroleerd": pd.to_datetime(near["last_verified"]).to_numpy(),
    })
    aligned = "Binnen bereik" in shown and len(shown) == len(frame) and (
        shown["Naam"].astype(str).to_numpy() == frame["Naam"].astype(str).to_numpy()).all()
    if aligned:
        frame.insert(4, "Binnen bereik", shown["Binnen bereik"].to_numpy())
    return frame


_EXPLAIN = {
    "Gebiedscode": ("CBS-code van het gebied (BU buurt, WK wijk, GM gemeente)", ""),
    "Gebied": ("Naam van het gebied", ""),
    "Niveau": ("buurt, wijk of gemeente", ""),
    "Kerncijfer": ("Naam van het kerncijfer", ""),
    "Indicator": ("Vaste (interne) naam van het kerncijfer, gelijk over alle CBS-jaren", ""),
    "Eenheid": ("Eenheid van Waarde, Ondergrens en Bovengrens", ""),
    "Jaar": ("Gegevensjaar van deze waarde (CBS: stand 1 januari)", "jaar"),
    "Waarde": ("Het kerncijfer; leeg als het niet bekend is (zie Status)", "zie Eenheid"),
    "Ondergrens": ("Ondergrens van het 95%-interval (alleen bij schattingen)", "zie Eenheid"),
    "Bovengrens": ("Bovengrens van het 95%-interval (alleen bij schattingen)", "zie Eenheid"),
    "Status": ("Waarom Waarde leeg is: 'geheim' (CBS maakt de waarde niet bekend), 'geen inwoners' of "
               "'geen huishoudens' (een percentage van niemand bestaat niet), 'geen gegevens'", ""),
    "Bron": ("Bron en jaar van de waarde", ""),
    "Afwijking": ("Afstand tot het gemiddelde van de gebieden van hetzelfde niveau met inwoners in de gemeente, "
                  "in standaardafwijkingen; aantallen worden niet vergeleken", "sd"),
    "Signaal": ("'ongunstig' of 'gunstig' bij meer dan 1 sd afwijking, als de richting iets zegt over behoefte",
                ""),
}


def _explanation(sheets: dict[str, pd.DataFrame], sources: str) -> pd.DataFrame:
    rows = []
    for sheet in ("Profiel", "Vergelijking", "Trend"):
        if sheet in sheets:
            for col in sheets[sheet].columns:
                meaning, unit = _EXPLAIN.get(col, ("", ""))
                rows.append((sheet, col, meaning, unit, sources if col in ("Waarde", "Jaar") else ""))
    if "Voorzieningen" in sheets:
        for col in sheets["Voorzieningen"].columns:
            unit = {"Afstand (m)": "meter", "Capaciteit per jaar": "deelnemers of contacten per jaar",
                    "Financiering tot": "datum", "Laatst gecontroleerd": "datum"}.get(col, "")
            meaning = {"Afstand (m)": "Afstand tot de rand van het gebied; 0 = in het gebied",
                       "Binnen bereik": "Of de voorziening loopt en het gebied binnen haar bereik ligt"}.get(col, col)
            rows.append(("Voorzieningen", col, meaning, unit, "Sociale kaart (Steunkaart)"))
    rows.append(("Samenvatting", "Tekst", "Wat opvalt, de kernboodschappen en de gegevensjaren", "", ""))
    return explanation_frame(rows)


def _row_formats(book, sheet_name: str, frame: pd.DataFrame) -> None:
    """Per row the number format of its figure (a tidy column holds figures of different units)."""
    if sheet_name not in book.sheetnames or frame.empty:
        return
    sheet = book[sheet_name]
    formats = frame["Indicator"].map(excel_format).to_numpy()
    for name in ("Waarde", "Ondergrens", "Bovengrens"):
        col = frame.columns.get_loc(name) + 1
        for row, fmt in enumerate(formats, start=2):
            cell = sheet.cell(row=row, column=col)
            if cell.data_type == "n" and cell.value is not None:
                cell.number_format = fmt


def profile_workbook(profile: Profile, values: pd.DataFrame | None = None, areas: pd.DataFrame | None = None,
                     compare_codes: list[str] | None = None, *, messages: list[str] | None = None):
    """The profile as an openpyxl workbook (see :func:`profile_to_excel`); add a picture and save it
    with :func:`data.export.workbook_to_bytes`."""
    sheets: dict[str, pd.DataFrame] = {"Profiel": profile_long(profile)}
    if compare_codes:
        if values is None or areas is None:
            raise ValueError("Voor het blad Vergelijking zijn de kerncijfers en de gebieden nodig.")
        sheets["Vergelijking"] = compare_long(values, areas, [profile.code, *[c for c in compare_codes
                                                                             if c != profile.code]])
    trend = _trend_long(profile)
    if not trend.empty:
        sheets["Trend"] = trend
    provisions = _provisions_sheet(profile)
    if not provisions.empty:
        sheets["Voorzieningen"] = provisions
    mixed = mixed_years_message(profile)
    lines = [("Gebied", f"{_LEVEL_LABELS.get(profile.level, profile.level)} {profile.name} ({profile.code})"),
             ("Gegevens", years_label(profile)), ("Wat opvalt", profile.summary)]
    lines += [(f"Kernboodschap {i}", m) for i, m in enumerate(messages or [], start=1)]
    if mixed:
        lines.append(("Jaren", mixed))
    sheets["Samenvatting"] = pd.DataFrame(lines, columns=["Onderdeel", "Tekst"])
    years = sorted({int(y) for f in (sheets["Profiel"], trend) for y in f["Jaar"].dropna()})
    sources = "CBS Kerncijfers wijken en buurten " + ", ".join(map(str, years)) if years else ""
    sheets["Toelichting"] = _explanation(sheets, sources)
    formats = {name: {"Jaar": "0", "Afwijking": FMT_1} for name in ("Profiel", "Vergelijking", "Trend")}
    widths = {name: {"B": 28, "D": 40, "E": 34, "K": 16, "L": 34} for name in ("Profiel", "Vergelijking", "Trend")}
    widths.update({"Samenvatting": {"A": 18, "B": 120}, "Toelichting": {"A": 14, "B": 20, "C": 80, "E": 40},
                   "Voorzieningen": {"A": 36, "B": 28}})
    book = frames_to_workbook(sheets, column_widths=widths, number_formats=formats)
    for name in ("Profiel", "Vergelijking", "Trend"):
        if name in sheets:
            _row_formats(book, name, sheets[name])
    return book


def profile_to_excel(profile: Profile, values: pd.DataFrame | None = None, areas: pd.DataFrame | None = None,
                     compare_codes: list[str] | None = None, *, messages: list[str] | None = None) -> bytes:
    """Export the profile as an Excel workbook: numbers as numbers, each row with its code, year and source.

    Parameters
    ----------
    profile : Profile
        From :func:`area_profile`.
    values, areas : DataFrame, optional
        The key figures and areas of the store; needed only for ``compare_codes``.
    compare_codes : list of str, optional
        Areas to compare with (sheet *Vergelijking*).
    messages : list of str, optional
        Key messages (:func:`profile_messages`) for the sheet *Samenvatting*.

    Returns
    -------
    bytes
        An .xlsx file with the sheets *Profiel* (long: Gebiedscode, Gebied, Niveau, Kerncijfer, Indicator,
        Eenheid, Jaar, Waarde, Ondergrens, Bovengrens, Status, Bron, Afwijking, Signaal), *Vergelijking*
        (when asked), *Trend* (every year of the area, wijk and gemeente, when the area has two or more),
        *Voorzieningen*, *Samenvatting* and *Toelichting* (every column, its unit and source). Values have
        the number format of their unit: percentages ``0.0"%"``, counts ``#,##0``, averages with their decimals.

    Raises
    ------
    ValueError
        When ``compare_codes`` is given without ``values`` and ``areas``.
    """
    return workbook_to_bytes(profile_workbook(profile, values, areas, compare_codes, messages=messages))


def compare_long(values: pd.DataFrame, areas: pd.DataFrame, codes: list[str], *,
                 year: int | None = None) -> pd.DataFrame:
    """The comparison of areas in long form (sheet *Vergelijking*): per area its newest value of each
    figure, with its own year (:func:`tidy_figures`), in catalogue order and the order of ``codes``."""
    masked = _ensure_columns(mask_rates_without_base(values.loc[values["area_code"].isin(codes)]))
    latest = _latest(masked.loc[masked["indicator"].isin(list(BY_NAME))], year)
    order = {ind.name: i for i, ind in enumerate(CATALOGUE)}
    latest = latest.assign(_i=latest["indicator"].map(order), _a=latest["area_code"].map(
        {c: i for i, c in enumerate(codes)})).sort_values(["_i", "_a"])
    return tidy_figures(latest, areas)


def compare_to_excel(values: pd.DataFrame, areas: pd.DataFrame, codes: list[str], *,
                     year: int | None = None) -> bytes:
    """Export a comparison of areas as Excel: sheet *Vergelijking* (long, numbers) and *Toelichting*.

    Parameters
    ----------
    values, areas : DataFrame
        Key figures (long) and area attributes.
    codes : list of str
        The areas, in the order to show.
    year : int, optional
        Latest year to use.

    Returns
    -------
    bytes
        An .xlsx file.
    """
    sheets = {"Vergelijking": compare_long(values, areas, codes, year=year)}
    years = sorted({int(y) for y in sheets["Vergelijking"]["Jaar"].dropna()})
    sheets["Toelichting"] = _explanation(sheets, "CBS Kerncijfers wijken en buurten " + ", ".join(map(str, years)))
    book = frames_to_workbook(sheets, number_formats={"Vergelijking": {"Jaar": "0"}},
                              column_widths={"Vergelijking": {"B": 28, "D": 40, "E": 34, "L": 34},
                                             "Toelichting": {"C": 80, "E": 40}})
    _row_formats(book, "Vergelijking", sheets["Vergelijking"])
    return workbook_to_bytes(book)


# --------------------------------------------------------------------------- trend chart


def _indicator_name(indicator: str) -> str:
    """The catalogue name of a figure given by name or by its Dutch label; KeyError when unknown."""
    name = indicator if indicator in BY_NAME else next((i.name for i in CATALOGUE if i.label == indicator), None)
    if name is None:
        raise KeyError(indicator)
    return name


def trend_long(profile: Profile, indicator: str) -> pd.DataFrame:
    """One figure over the years for the area, its wijk and its gemeente (for the chart).

    Parameters
    ----------
    profile : Profile
        From :func:`area_profile`.
    indicator : str
        Internal name or Dutch label of the figure.

    Returns
    -------
    DataFrame
        Columns Gebied (the column names of the profile), Jaar (int), Waarde (float; NaN where
        unknown), in the order area, wijk, gemeente and by year.
    """
    name = _indicator_name(indicator)
    own = profile.trend_figures
    if own.empty:
        return pd.DataFrame(columns=["Gebied", "Jaar", "Waarde"])
    own = own.loc[own["indicator"] == name]
    labels = dict(zip(profile.codes, profile.columns, strict=True))
    order = {c: i for i, c in enumerate(profile.codes)}
    own = own.assign(_a=own["area_code"].map(order)).sort_values(["_a", "year"])
    return pd.DataFrame({"Gebied": own["area_code"].map(labels).to_numpy(),
                         "Jaar": own["year"].astype(int).to_numpy(),
                         "Waarde": own["value"].to_numpy(dtype=float)})


def _vega_dutch_number(decimals: int, suffix: str = "") -> str:
    """A Vega expression formatting ``datum.value`` the Dutch way (1.234,5): Streamlit's charts use the
    English locale, so the separators are swapped in the label expression."""
    english = f"format(datum.value, ',.{decimals}f')"
    dutch = (f"replace(replace(replace({english}, regexp(',', 'g'), '_'), regexp('[.]', 'g'), ','), "
             "regexp('_', 'g'), '.')")
    return dutch + (f" + '{suffix}'" if suffix else "")


def trend_chart(profile: Profile, indicator: str):
    """An Altair line chart of one figure over the years, the unit on the y axis.

    A rate or average has three lines: the area, its wijk (for a buurt) and its gemeente. A count has
    only the area's line: the wijk and gemeente counts are many times larger and would flatten it.
    Numbers are Dutch (1.234,5), counts without decimals, percentages with a '%'; a year without a
    value is a gap. The tooltip shows the value as the profile table does.

    Parameters
    ----------
    profile : Profile
        From :func:`area_profile`.
    indicator : str
        Internal name or Dutch label of the figure.

    Returns
    -------
    altair.Chart
    """
    import altair as alt

    name = _indicator_name(indicator)
    ind = BY_NAME[name]
    data = trend_long(profile, name)
    if ind.aggregation == "sum":
        data = data.loc[data["Gebied"] == profile.columns[0]]
    data = data.assign(Tekst=[format_value(v, decimals=ind.decimals, unit="%" if ind.unit == "%" else "")
                              for v in data["Waarde"]])
    unit = unit_label(name)
    decimals = 0 if ind.unit == "%" else ind.decimals
    years = sorted(data["Jaar"].unique().tolist())
    axis = alt.Axis(title=unit or "waarde", labelExpr=_vega_dutch_number(decimals, "%" if ind.unit == "%" else ""))
    shown = [c for c in profile.columns if c in set(data["Gebied"])]
    return (alt.Chart(data, title=ind.label)
            .mark_line(point=True)
            .encode(x=alt.X("Jaar:O", title="jaar", sort=years, axis=alt.Axis(labelAngle=0)),
                    y=alt.Y("Waarde:Q", axis=axis, scale=alt.Scale(zero=ind.aggregation == "sum")),
                    color=alt.Color("Gebied:N", sort=shown, title=None, legend=alt.Legend(orient="bottom")),
                    tooltip=[alt.Tooltip("Gebied:N"), alt.Tooltip("Jaar:O", title="jaar"),
                             alt.Tooltip("Tekst:N", title=unit or "waarde")]))


# --------------------------------------------------------------------------- the report (HTML, PDF)


def _profile_map(profile: Profile, areas_gdf) -> bytes | None:
    """The area highlighted among the gemeente's areas of its level; its wijk's areas lightly coloured."""
    from mapping.static_map import CONTEXT_FILL, static_map_png

    if areas_gdf is None or len(areas_gdf) == 0 or "area_code" not in areas_gdf:
        return None
    shown = areas_gdf
    if "level" in shown:
        shown = shown.loc[shown["level"] == profile.level]
    if "gemeente_code" in shown and profile.gemeente_code:
        shown = shown.loc[shown["gemeente_code"] == profile.gemeente_code]
    if not shown["area_code"].eq(profile.code).any():
        return None
    same_wijk = (shown["wijk_code"] == profile.wijk_code) if ("wijk_code" in shown and profile.wijk_code) else False
    fills = np.where(shown["area_code"] == profile.code, "#2c6e9b",
                     np.where(same_wijk, "#cfe0ee", CONTEXT_FILL))
    plural = _PLURAL.get(profile.level, "gebieden")
    legend = [("#2c6e9b", f"deze {profile.level}")]
    if np.any(same_wijk & (shown["area_code"] != profile.code)):
        legend.append(("#cfe0ee", "andere buurten in dezelfde wijk"))
    legend.append((CONTEXT_FILL, f"overige {plural} in de gemeente"))
    return static_map_png(shown.reset_index(drop=True), list(fills), highlight=profile.code, legend=legend,
                          width_px=640)


def _caveats(profile: Profile) -> list[str]:
    plural = _PLURAL.get(profile.level, "gebieden")
    items = [
        f"Afwijking (sd): hoeveel standaardafwijkingen het cijfer van het gebied van het gemiddelde van de "
        f"{plural} met inwoners in de gemeente ligt, in hetzelfde gegevensjaar. Vanaf {DEVIATION_SD:g} sd is "
        "de rij gekleurd: rood ongunstig, blauw gunstig (als een hogere waarde meer behoefte betekent). "
        "Aantallen groeien met de grootte van een gebied en worden niet vergeleken.",
        "'geheim': het CBS maakt de waarde niet bekend, meestal omdat het om te weinig personen of "
        "huishoudens gaat. 'geen gegevens': het cijfer is voor dit gebied niet geleverd.",
        "'geen inwoners' / 'geen huishoudens': zonder inwoners of huishoudens bestaat er geen percentage; "
        "het CBS-bestand geeft dan soms 0% of 100%, dat wordt niet getoond of vergeleken.",
        "De kerncijfers zijn CBS-cijfers (bevolking per 1 januari van het gegevensjaar); een deel is afgerond "
        "of geschat, gezondheidscijfers zijn modelschattingen met een 95%-interval (tussen haakjes). "
        "Wijk- en gemeentecijfers zijn naar inwoners of huishoudens gewogen gemiddelden.",
    ]
    mixed = mixed_years_message(profile)
    if mixed:
        items.append(mixed)
    return items


def profile_to_html(profile: Profile, *, areas_gdf=None, generated: pd.Timestamp | None = None,
                    messages: list[str] | None = None, today=None) -> str:
    """The printable, self-contained profile report (``reports/templates/profile.html``).

    Parameters
    ----------
    profile : Profile
        From :func:`area_profile` (with ``nearby`` for the provision messages and dates).
    areas_gdf : GeoDataFrame, optional
        Areas with geometry (area_code, level, gemeente_code, wijk_code), e.g. the store's areas of the
        profile's level; when given, the report shows the area on a static map.
    generated : Timestamp, optional
        When the report was made (default: now); also the 'stand' of the provisions.
    messages : list of str, optional
        Key messages (default :func:`profile_messages`).
    today : date-like, optional
        The start of the funding horizon of the default messages (default: ``generated``'s day).

    Returns
    -------
    str
        A complete HTML document: no script, no external reference, every text from the data escaped.
    """
    from reports import frame_rows, render_html

    generated = pd.Timestamp(generated) if generated is not None else pd.Timestamp.now()
    if messages is None:
        messages = profile_messages(profile, today=today if today is not None else generated)
    frame = profile_frame(profile)
    if "Jaar" in frame:
        frame["Jaar"] = [("" if pd.isna(y) else str(int(y))) for y in frame["Jaar"]]
    styles = [_SIGNAL_COLOUR.get(s, "") if isinstance(s, str) else "" for s in profile.table["signal"]]
    reference = [f"CBS-kerncijfers wijken en buurten {years_label(profile).split(' ', 1)[1]}"]
    near = profile.nearby
    verified = pd.to_datetime(near["last_verified"]).max() if len(near) else pd.NaT
    provisions_note = "voorzieningen volgens de sociale kaart"
    if pd.notna(verified):
        provisions_note += f", laatst gecontroleerd {format_date(verified)}"
    reference.append(f"{provisions_note} / stand {format_date(generated)}")
    trend_text = pd.DataFrame()
    if not profile.trend_figures.empty:
        own = profile.trend_figures.loc[profile.trend_figures["area_code"] == profile.code]
        trend_text = indicator_trend_text(own, profile.code)
    trend_columns = ["Kerncijfer", *[str(c) for c in trend_text.columns]] if not trend_text.empty else []
    trend_rows = [[label, *row] for label, row in zip(trend_text.index, frame_rows(trend_text), strict=True)]
    sources = [f"Bron: CBS Kerncijfers wijken en buurten ({', '.join(map(str, profile.years)) or 'jaar onbekend'})",
               CBS_CREDIT]
    if profile.table["indicator"].str.startswith("gm_").any():
        sources.append(BY_NAME[next(n for n in profile.table["indicator"] if n.startswith("gm_"))].source)
    if not profile.provisions.empty or not near.empty:
        sources.append("voorzieningen: sociale kaart van de gemeente (Steunkaart)")
    map_png = _profile_map(profile, areas_gdf)
    return render_html(
        "profile.html",
        title=f"Profiel {profile.name}",
        level_label=_LEVEL_LABELS.get(profile.level, profile.level),
        name=profile.name, code=profile.code, years_label=years_label(profile),
        reference=reference, messages=messages, mixed=mixed_years_message(profile),
        summary=profile.summary, columns=list(frame.columns), rows=frame_rows(frame),
        numeric=[*profile.columns, "Jaar"], row_styles=styles, signal_colours=_SIGNAL_COLOUR,
        level_plural=_PLURAL.get(profile.level, "gebieden"), deviation_sd=format_number(DEVIATION_SD, 0),
        provision_columns=[str(c) for c in profile.provisions.columns],
        provision_rows=frame_rows(profile.provisions) if not profile.provisions.empty else [],
        trend_columns=trend_columns, trend_rows=trend_rows,
        map_png=map_png, map_alt=f"Kaart: ligging van deze {profile.level} in de gemeente",
        map_legend=[], caveat_items=_caveats(profile), sources=sources, generated=generated,
    )


def profile_to_pdf(profile: Profile, **options) -> bytes:
    """The profile report as PDF (:func:`reports.html_to_pdf` of :func:`profile_to_html`).

    Raises
    ------
    DataValidationError
        When PDFs cannot be made on this computer (WeasyPrint or Pango missing); the message says why.
    """
    from reports import html_to_pdf

    return html_to_pdf(profile_to_html(profile, **options))


def area_figures(values: pd.DataFrame, areas: pd.DataFrame, area_code: str) -> pd.DataFrame:
    """The profile table as shown beside the map: 'Kerncijfer' plus one column per area."""
    profile = area_profile(values, areas, area_code)
    return profile.table[["Kerncijfer", *profile.columns]]

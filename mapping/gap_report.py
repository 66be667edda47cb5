"""The municipality report on gaps: map, ranked table, scenarios, key messages; aggregates only.

For a wijk or the whole municipality and one provision type, as a printable, self-contained HTML page
(:mod:`reports`: a Jinja2 template with autoescape, the map a static PNG as a ``data:`` URI, no external
assets), as PDF made from that HTML, and as an Excel workbook with numeric cells, the map as a picture
and a *Toelichting* sheet (every column, its unit and source; the need formula with its weights).

Small counts: persons counts of 1 to 4 are hidden, and more where a shown total would give them away.
The masks are computed **once over all buurten of the gaps table** (the gemeente), with every wijk
total and the gemeente total as shown totals (:func:`graphs.aggregates.suppressed_nested`); a scope
only selects rows. So a buurt hidden in one wijk's report is hidden in the gemeente report and in every
other report of the same data, and no report's total together with another's gives a hidden cell away.
The scope totals and the scenario comparison follow the same rule (:func:`scoped_total_hidden`).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from data.errors import DataValidationError
from data.export import (
    FMT_2,
    FMT_INT,
    explanation_frame,
    frames_to_workbook,
    workbook_to_bytes,
)
from data.formatting import format_date, format_number
from graphs.aggregates import HIDDEN_STATUS, MIN_CELL, suppressed, suppressed_nested
from mapping.choropleth import MISSING_FILL, PALETTES, classify_values
from mapping.gaps import _GROUP_LABELS, DEFAULT_NEED, Term  # the group labels: one wording with describe_need

HIDDEN = f"minder dan {MIN_CELL}"  # a hidden count of persons (also a secondary one: which is which stays unknown)
HIDDEN_TOTAL = HIDDEN_STATUS  # a hidden total ('verborgen (kleine aantallen)')
HIDDEN_FILL = "#9e9e9e"
FUNDING_HORIZON_MONTHS = 12  # funding that ends within this many months is named in the key messages
CBS_SOURCE = "CBS Kerncijfers wijken en buurten"
MAP_CREDIT = "Bron: CBS Wijk- en buurtkaart / Kadaster (CC BY 4.0)"
INVENTORY_SOURCE = "sociale kaart van de gemeente (Steunkaart)"
SOURCES = ("Kerncijfers en buurtgrenzen: CBS Kerncijfers wijken en buurten, CBS Wijk- en buurtkaart / Kadaster "
           "(CC BY 4.0)", "Voorzieningen: sociale kaart van de gemeente",
           "Netwerksignalen: netwerkgegevens van de wijkteams (alleen als aantallen)")
NEED = "Behoefte (personen)"
GAP = "Tekort (personen)"
INDEX = "Tekortindex"
STRAIGHT_LINE = ("Afstanden zijn hemelsbreed (in een rechte lijn) gemeten, van een punt binnen de buurt tot de "
                 "voorziening; de werkelijke reisafstand over straat is langer.")
SUPPRESSION_RULE = (f"Aantallen personen van 1 tot {MIN_CELL} zijn verborgen ('{HIDDEN}'), en ook een ander aantal "
                    "waar een getoond totaal (van de wijk of van de gemeente) het verborgen aantal zou verraden; die "
                    f"staan ook als '{HIDDEN}', zodat niet te zien is welke buurt werkelijk onder de {MIN_CELL} zit. "
                    "Dezelfde buurten zijn verborgen in het rapport van elke wijk en van de hele gemeente. Waar een "
                    "aantal verborgen is, zijn de bereikbaarheid en de tekortindex van die buurt ook leeg.")

# Why each group of people is in a need formula (by its key figures), in plain Dutch.
_RATIONALE = {
    ("aantal_inwoners", "percentage_verweduwd"):
        "Weduwen en weduwnaars zijn de doelgroep van een bezoekdienst: getrainde vrijwilligers met "
        "ervaringskennis bezoeken een weduwe of weduwnaar een- of tweemaal per maand, ongeveer een half jaar.",
    ("aantal_inwoners", "percentage_personen_65_jaar_en_ouder", "percentage_eenpersoonshuishoudens"):
        "Ouderen die alleen wonen hebben vaker een klein netwerk en zijn vaker eenzaam. De kerncijfers geven alleen "
        "de aandelen 65-plussers en eenpersoonshuishoudens; hun product is een benadering (alsof beide los van "
        "elkaar staan).",
    ("aantal_part_huishoudens", "percentage_huishoudens_onder_of_rond_sociaal_minimum"):
        "Huishoudens rond het sociaal minimum: 'arme mensen hebben arme netwerken'; op het eigen netwerk "
        "terugvallen gaat vaak niet, zij hebben praktische en emotionele steun nodig.",
    ("aantal_inwoners", "percentage_personen_15_tot_25_jaar", "percentage_personen_0_tot_15_jaar"):
        "Jongeren van 12 tot 23 zijn de doelgroep van het jongerenwerk; de leeftijdsgroepen van het CBS (0-14, "
        "15-24) passen daar niet precies op, vandaar de benadering.",
    ("aantal_inwoners",):
        "Alle inwoners: deze soort is er voor de hele buurt; het gewicht is het deel dat naar verwachting "
        "gebruikmaakt.",
    ("signalen",):
        "Mensen met een signaal van een arm netwerk (LSNS-6 of eenzaamheid) in de netwerkgegevens van de "
        "wijkteams: geteld, niet geschat; telt alleen mee waar netwerkgegevens zijn.",
}
_WEIGHT_NOTE = ("Het gewicht is een aanname (welk deel van de groep deze voorziening nodig heeft), geen gemeten "
                "cijfer; het is in te stellen op de pagina Tekorten.")


def access_unit(ptype: str | None = None, catalogue: dict | None = None) -> str:
    """The unit of the 2SFCA accessibility of a type: places (or visitors) per year per person in the target group."""
    from data.provision_types import PROVISION_TYPES

    types = PROVISION_TYPES if catalogue is None else catalogue
    places = ptype not in types or types[ptype].has_places
    return f"{'plaatsen' if places else 'bezoekers'} per jaar per persoon in de doelgroep"


@dataclass
class GapReport:
    """Everything a gap report shows; hidden counts are missing (numbers) or :data:`HIDDEN` (texts)."""

    title: str
    scope: str
    type_label: str
    formula: str
    generated: pd.Timestamp
    table: pd.DataFrame          # display texts, ranked, small counts hidden
    totals: dict                 # display texts of the totals
    legend: list[tuple[str, str]]  # (colour, label)
    areas: gpd.GeoDataFrame      # geometry + fill colour, RD New
    scenarios: pd.DataFrame      # display texts of the comparison (may be empty)
    hotspots: list[str]          # names of buurten in a hot spot (empty when not computed)
    data: pd.DataFrame = field(default_factory=pd.DataFrame)            # the ranked table, numeric
    scenario_data: pd.DataFrame = field(default_factory=pd.DataFrame)   # the comparison, numeric
    total_values: dict = field(default_factory=dict)  # numeric totals; None where hidden
    terms: tuple[Term, ...] = ()
    access_unit: str = "plaatsen per jaar per persoon in de doelgroep"
    cbs_years: list[int] = field(default_factory=list)
    inventory_dates: tuple = (None, None)  # oldest and newest last_verified of the type's provisions
    at_risk: pd.DataFrame = field(default_factory=pd.DataFrame)  # name, status, funding_end (this type, scope)
    provisions_given: bool = False
    hotspots_computed: bool = False
    context: gpd.GeoDataFrame | None = None  # the rest of the gemeente, drawn grey around a wijk
    messages: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    _pngs: dict = field(default_factory=dict, repr=False)

    @property
    def access_header(self) -> str:
        return f"Bereikbaarheid ({self.access_unit})"


def _people_text(values: pd.Series, hidden: pd.Series) -> pd.Series:
    text = values.map(lambda v: "" if pd.isna(v) else format_number(v))
    return text.where(~hidden.to_numpy(), HIDDEN)


def _whole(values: pd.Series) -> pd.Series:
    """Counts of persons as whole numbers (Int64, missing stays missing), rounded half up."""
    v = pd.to_numeric(values, errors="coerce").astype(float)
    return np.floor(v + 0.5).astype("Int64")


def wijk_codes(area_codes: pd.Series, wijk_of: pd.Series | None = None) -> pd.Series:
    """The wijk of each buurt: from ``wijk_of`` (area_code → wijk code), else from the CBS code (BUggggwwbb → WKggggww).

    Parameters
    ----------
    area_codes : Series
        Buurt codes.
    wijk_of : Series, optional
        Wijk code per buurt code (e.g. the store's ``wijk_code`` column).

    Returns
    -------
    Series
        Wijk code per row of ``area_codes`` (same index); '' where unknown.
    """
    codes = area_codes.astype(str)
    from_code = pd.Series(np.where(codes.str.startswith("BU") & (codes.str.len() >= 8), "WK" + codes.str[2:8], ""),
                          index=area_codes.index, dtype=object)
    if wijk_of is None:
        return from_code
    given = pd.Series(wijk_of.reindex(codes.to_numpy()).to_numpy(), index=area_codes.index, dtype=object)
    return given.where(given.notna() & given.ne(""), from_code)


def scoped_total_hidden(values: pd.Series, wijk: pd.Series, in_scope: pd.Series, *,
                        min_persons: int = MIN_CELL) -> tuple[float, bool]:
    """The total of a scope and whether it is hidden, by the rule all reports of the same data share.

    The gemeente total (every row in scope) is hidden when it is 1 to 4; a wijk total (the scope is exactly
    one wijk's rows) when :func:`graphs.aggregates.suppressed` over all wijk totals hides it (1 to 4, or a
    second wijk where the gemeente total would give a small one away); any other part only when 1 to 4.

    Parameters
    ----------
    values : Series
        Persons per row (buurt) for the whole gemeente.
    wijk : Series
        Wijk code per row (same index).
    in_scope : Series of bool
        The rows of the scope.

    Returns
    -------
    (float, bool)
        The total (NaN when no row has a value) and whether to hide it.
    """
    v = pd.to_numeric(values, errors="coerce").astype(float)
    total = float(v[in_scope.to_numpy()].sum(min_count=1)) if in_scope.any() else np.nan
    small = bool(pd.notna(total) and 0 < round(total) < min_persons)
    scoped = set(wijk[in_scope.to_numpy()])
    if in_scope.all() or len(scoped) != 1:
        return total, small
    (only,) = scoped
    if not (wijk.eq(only).to_numpy() == in_scope.to_numpy()).all():
        return total, small
    per_wijk = v.groupby(wijk.to_numpy(), sort=False).sum(min_count=1)
    return total, bool(suppressed(per_wijk, min_persons=min_persons).get(only, small))


def person_classes(values: pd.Series, *, k: int = 5) -> tuple[pd.Series, list[str]]:
    """Map classes of whole persons: '0' on its own, then '1 – 7', '8 – 15', ...; never overlapping.

    The values are rounded to whole persons; when some are 0, 0 is a class of its own and the positive
    values are split in up to ``k - 1`` quantile classes (mapclassify); the upper bounds are rounded down
    to whole persons (the same classes for whole numbers) and duplicates dropped; each class starts at
    the previous upper bound + 1. A class holding one value reads '8', never '8 – 8'.

    Parameters
    ----------
    values : Series
        Persons per area (missing: no class).
    k : int
        The most classes.

    Returns
    -------
    (Series, list of str)
        Class index per row (-1 where missing) and the label of each class ('... personen' left to the caller).
    """
    v = pd.to_numeric(values, errors="coerce").astype(float)
    known = np.floor(v.dropna() + 0.5)
    classes = pd.Series(-1, index=values.index, dtype=int)
    if known.empty:
        return classes, []
    uppers: list[int] = [0] if (known == 0).any() else []
    positive = known[known > 0]
    if len(positive):
        with warnings.catch_warnings():  # ties: mapclassify lowers k itself and says so
            warnings.simplefilter("ignore")
            bins, _ = classify_values(positive, k=max(1, k - len(uppers)))
        bounds = np.floor(np.asarray(bins, dtype=float)).astype(int)
        bounds = np.clip(bounds, int(positive.min()), int(positive.max()))
        uppers += sorted(set(bounds.tolist()) | {int(positive.max())})
    upper = np.asarray(uppers)
    classes.loc[known.index] = np.searchsorted(upper, known.to_numpy(), side="left")
    lowers = [0 if uppers[0] == 0 else int(positive.min()), *[u + 1 for u in uppers[:-1]]]
    labels = [format_number(lo) if lo == hi else f"{format_number(lo)} – {format_number(hi)}"
              for lo, hi in zip(lowers, uppers, strict=True)]
    return classes, labels


_GAP_COLUMNS = ("area_code", "buurt", "need", "accessibility", "gap_people", "gap_index", "reason")


def build_gap_report(buurten: gpd.GeoDataFrame, gaps: pd.DataFrame, *, scope: str, type_label: str,
                     formula: str, terms: Sequence[Term] | None = None, wijk_of: pd.Series | None = None,
                     scenarios: Sequence | None = None, hotspots: pd.Series | None = None,
                     provisions: pd.DataFrame | None = None, catalogue: dict | None = None,
                     context: gpd.GeoDataFrame | None = None, generated: pd.Timestamp | None = None) -> GapReport:
    """Assemble the report for the buurten given (a wijk's or all) and the gaps of one type.

    Parameters
    ----------
    buurten : GeoDataFrame
        The buurten of the scope (area_code, name, geometry; ``year`` of the key figures when known).
    gaps : DataFrame
        Rows of :func:`mapping.gaps.gaps_from_need_and_supply` for one type, for **all** buurten of the
        gemeente: the small-count masks are made over all of them (see the module docstring), the scope
        only selects rows.
    scope, type_label, formula : str
        The area's name ('Wijk Kanaalzone'), the type's label and the need formula in plain Dutch
        (:func:`mapping.gaps.describe_need`).
    terms : sequence of Term, optional
        The need formula's terms with the weights used (default: :data:`mapping.gaps.DEFAULT_NEED`).
    wijk_of : Series, optional
        Wijk code per buurt code (default: from the CBS code, :func:`wijk_codes`).
    scenarios : sequence of ScenarioResult, optional
        Results of :func:`mapping.scenarios.run_scenario` over the whole gemeente; the report shows each
        for the scope, hidden by the same rule in every report.
    hotspots : Series, optional
        Cluster per area_code ('hot'/'cold'/None) from :mod:`mapping.hotspots`.
    provisions : DataFrame, optional
        The provisions (type, status, funding_end, last_verified, buurt_code, name): the key messages name
        those of this type in the scope under pressure or whose funding ends within 12 months, and the
        report gives the dates the inventory was last verified.
    catalogue : dict, optional
        Provision types (default :data:`data.provision_types.PROVISION_TYPES`).
    context : GeoDataFrame, optional
        Areas drawn light grey around the scope on the map (the rest of the gemeente).
    generated : Timestamp, optional
        The report's moment (default now).

    Returns
    -------
    GapReport

    Raises
    ------
    DataValidationError
        When ``gaps`` lacks a column or holds more than one provision type.
    """
    absent = [c for c in _GAP_COLUMNS if c not in gaps]
    if absent:
        raise DataValidationError(f"De tekortentabel mist de kolom(men) {', '.join(absent)}; maak hem met "
                                  "mapping.gaps.gaps_from_need_and_supply.")
    if "type" in gaps and gaps["type"].nunique() > 1:
        raise DataValidationError("Een tekortenrapport gaat over één soort voorziening; de tabel bevat er "
                                  f"{gaps['type'].nunique()}. Kies eerst één soort.")
    from data.provision_types import PROVISION_TYPES

    catalogue = PROVISION_TYPES if catalogue is None else catalogue
    generated = pd.Timestamp.now() if generated is None else pd.Timestamp(generated)
    ptype = str(gaps["type"].iloc[0]) if "type" in gaps and len(gaps) else None
    terms = tuple(terms) if terms else DEFAULT_NEED.get(ptype, ())
    unit = access_unit(ptype, catalogue)

    # ---- masks over the whole gemeente (every report of the same data hides the same cells)
    every = gaps.loc[~gaps["area_code"].duplicated()].reset_index(drop=True)
    wijk = wijk_codes(every["area_code"], wijk_of)
    need_hidden = suppressed_nested(every["need"], wijk)
    gap_hidden = suppressed_nested(every["gap_people"], wijk)
    in_scope = every["area_code"].isin(buurten["area_code"])
    either = need_hidden | gap_hidden

    # ---- the scope's rows, ranked: shown shortages first (largest first), then the hidden ones by name
    # (their place among the shown ones would bound the hidden value), then those without an estimate.
    order = pd.DataFrame({"known": every["gap_people"].notna(), "hidden": gap_hidden,
                          "gap": every["gap_people"].where(~gap_hidden), "name": every["buurt"].astype(str)})
    ranked = order.loc[in_scope].sort_values(["known", "hidden", "gap", "name"], ascending=[False, True, False, True],
                                             kind="stable").index
    rows = every.loc[ranked].reset_index(drop=True)
    wijk_rows = wijk.loc[ranked].reset_index(drop=True)
    n_hidden, g_hidden, e_hidden = (m.loc[ranked].reset_index(drop=True) for m in (need_hidden, gap_hidden, either))
    years = buurten.drop_duplicates("area_code").set_index("area_code").get("year")
    year = (pd.Series(years.reindex(rows["area_code"]).to_numpy(), dtype="Float64").round().astype("Int64")
            if years is not None else pd.Series(pd.NA, index=rows.index, dtype="Int64"))
    reason = rows["reason"].astype(object).where(~n_hidden, rows["reason"].astype(str).str.replace(
        r"^[\d.]+ mensen", f"{HIDDEN} mensen", regex=True))
    hidden_text = pd.Series(np.where(e_hidden, HIDDEN, ""), dtype=object)
    data = pd.DataFrame({
        "Buurt": rows["buurt"].astype(object), "Buurtcode": rows["area_code"].astype(object),
        "Wijkcode": wijk_rows.astype(object),
        "Soort": rows["soort"].astype(object) if "soort" in rows else type_label,
        NEED: _whole(rows["need"]).where(~n_hidden.to_numpy()),
        f"Bereikbaarheid ({unit})": rows["accessibility"].astype(float).round(2).where(~e_hidden.to_numpy()),
        GAP: _whole(rows["gap_people"]).where(~g_hidden.to_numpy()),
        INDEX: rows["gap_index"].astype(float).round(2).where(~e_hidden.to_numpy()),
        "Verborgen": hidden_text,
        "Reden": reason,
    })
    # A value is missing where it is hidden too: 'Reden' and 'Verborgen' say which.
    data[f"Bereikbaarheid ({unit})"] = data[f"Bereikbaarheid ({unit})"].where(rows["need"].notna().to_numpy())
    if hotspots is not None:
        data["Cluster"] = rows["area_code"].map(hotspots).map({"hot": "hotspot", "cold": "coldspot"}).fillna("")
    data["Jaar kerncijfers"] = year.to_numpy()
    data["Bron"] = np.where(year.notna(), CBS_SOURCE + " " + year.astype(str), CBS_SOURCE).astype(object) + \
        "; " + INVENTORY_SOURCE

    table = pd.DataFrame({
        "Buurt": data["Buurt"], "Code": data["Buurtcode"],
        NEED: _people_text(data[NEED], n_hidden),
        "Bereikbaarheid": data[f"Bereikbaarheid ({unit})"].map(lambda v: "" if pd.isna(v) else format_number(v, 2)),
        GAP: _people_text(data[GAP], g_hidden),
        INDEX: data[INDEX].map(lambda v: "" if pd.isna(v) else format_number(v, 2)),
        "Reden": data["Reden"],
    })
    if "Cluster" in data:
        table["Cluster"] = data["Cluster"]

    # ---- totals of the scope, hidden by the rule every report shares
    need_total, need_total_hidden = scoped_total_hidden(every["need"], wijk, in_scope)
    gap_total, gap_total_hidden = scoped_total_hidden(every["gap_people"], wijk, in_scope)
    no_estimate = int(rows["need"].isna().sum())
    total_values = {NEED: None if need_total_hidden or pd.isna(need_total) else int(np.floor(need_total + 0.5)),
                    GAP: None if gap_total_hidden or pd.isna(gap_total) else int(np.floor(gap_total + 0.5)),
                    "Buurten": len(rows), "Buurten zonder behoefteschatting": no_estimate}
    totals = {k: (HIDDEN_TOTAL if v is None else format_number(v)) for k, v in total_values.items()}

    # ---- the map shows no more than the table: hidden buurten grey, classes from the shown values only
    shown = buurten[["area_code", "name", "geometry"]].drop_duplicates("area_code").merge(
        data[["Buurtcode", GAP]].rename(columns={"Buurtcode": "area_code"}), on="area_code", how="left")
    is_hidden = shown["area_code"].isin(set(rows.loc[g_hidden.to_numpy(), "area_code"]))
    classes, labels = person_classes(shown[GAP].astype("Float64").astype(float))
    ramp = PALETTES["need"]
    colours = [ramp[i] for i in np.round(np.linspace(0, len(ramp) - 1, max(len(labels), 1))).astype(int)]
    palette = np.array([*colours, MISSING_FILL], dtype=object)
    shown["fill"] = np.where(is_hidden, HIDDEN_FILL, palette[np.where(classes.to_numpy() >= 0, classes, -1)])
    legend = [(c, f"{label} personen") for c, label in zip(colours, labels, strict=False)]
    if is_hidden.any():
        legend.append((HIDDEN_FILL, f"verborgen (minder dan {MIN_CELL} personen)"))
    if ((classes < 0) & ~is_hidden).any():
        legend.append((MISSING_FILL, "geen schatting (kerncijfers ontbreken of geen inwoners)"))

    scenario_data, comparison = _scenario_tables(scenarios, every, wijk, in_scope, provisions, catalogue)
    hot = [] if hotspots is None else sorted(
        rows.loc[rows["area_code"].map(hotspots).eq("hot").to_numpy(), "buurt"].astype(str))
    at_risk, first_check, last_check = _inventory(provisions, ptype, buurten, generated)
    known_years = sorted({int(y) for y in year.dropna()})
    report = GapReport(f"Tekorten {type_label.lower()} — {scope}", scope, type_label, formula, generated, table,
                       totals, legend, shown, comparison, hot, data=data, scenario_data=scenario_data,
                       total_values=total_values, terms=terms, access_unit=unit, cbs_years=known_years,
                       inventory_dates=(first_check, last_check), at_risk=at_risk,
                       provisions_given=provisions is not None, hotspots_computed=hotspots is not None,
                       context=_surroundings(context, shown))
    report.messages = gap_messages(report)
    report.caveats = _caveats(report)
    return report


def _surroundings(context: gpd.GeoDataFrame | None, shown: gpd.GeoDataFrame, margin: float = 0.3
                  ) -> gpd.GeoDataFrame | None:
    """The context areas around the scope, clipped to its box plus a margin: the map stays on the scope."""
    if context is None or not len(context) or not len(shown):
        return None
    rest = context.loc[~context["area_code"].isin(shown["area_code"])]
    if shown.crs is not None and rest.crs is not None:
        rest = rest.to_crs(shown.crs)
    minx, miny, maxx, maxy = shown.total_bounds
    pad = margin * max(maxx - minx, maxy - miny, 1.0)
    clipped = gpd.clip(rest[["area_code", "geometry"]], (minx - pad, miny - pad, maxx + pad, maxy + pad))
    return clipped if len(clipped) else None


def _inventory(provisions: pd.DataFrame | None, ptype: str | None, buurten: gpd.GeoDataFrame,
               generated: pd.Timestamp) -> tuple[pd.DataFrame, pd.Timestamp | None, pd.Timestamp | None]:
    """This type's running provisions in the scope under pressure or with funding ending soon; check dates."""
    empty = pd.DataFrame(columns=["name", "status", "funding_end"])
    if provisions is None or not len(provisions) or "type" not in provisions:
        return empty, None, None
    own = provisions.loc[provisions["type"].eq(ptype)]
    checked = pd.to_datetime(own.get("last_verified", pd.Series(dtype=object)), errors="coerce").dropna()
    first, last = (checked.min(), checked.max()) if len(checked) else (None, None)
    running = own.loc[own["status"].ne("gestopt")]
    if "outside_areas" in running:
        running = running.loc[~running["outside_areas"].fillna(False).astype(bool)]
    codes = set(buurten["area_code"])
    here = running.get("buurt_code", pd.Series(None, index=running.index)).isin(codes)
    if isinstance(running, gpd.GeoDataFrame) and running.geometry.notna().any() and len(buurten):
        outline = buurten.to_crs(running.crs).union_all() if running.crs is not None else buurten.union_all()
        here = here | running.geometry.within(outline).fillna(False)
    running = running.loc[here.to_numpy()]
    end = pd.to_datetime(running.get("funding_end", pd.Series(pd.NaT, index=running.index)), errors="coerce")
    soon = end.le(generated + pd.DateOffset(months=FUNDING_HORIZON_MONTHS)).fillna(False)
    risky = running.loc[(soon | running["status"].eq("onder_druk")).to_numpy()]
    out = pd.DataFrame({"name": risky["name"].astype(str).to_numpy(), "status": risky["status"].to_numpy(),
                        "funding_end": end.loc[risky.index].to_numpy()})
    return out.sort_values(["funding_end", "name"], na_position="last").reset_index(drop=True), first, last


def _scenario_tables(results: Sequence | None, every: pd.DataFrame, wijk: pd.Series, in_scope: pd.Series,
                     provisions: pd.DataFrame | None, catalogue: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The comparison for the scope, numeric and as texts: each total hidden by :func:`scoped_total_hidden`."""
    if not results:
        return pd.DataFrame(), pd.DataFrame()
    columns = {"gap_before": "Tekort nu (personen)", "gap_after": "Tekort in scenario (personen)",
               "lose_reach": "Verliezen bereik (personen)", "gain_reach": "Krijgen bereik (personen)"}
    records, hidden_any = [], []
    whole = bool(in_scope.all())
    for res in results:
        per = res.per_buurt.drop_duplicates("area_code").set_index("area_code").reindex(every["area_code"])
        record = {"Scenario": res.scenario.name,
                  "Wijzigingen": res.scenario.describe(provisions, catalogue) if provisions is not None
                  else res.scenario.describe(pd.DataFrame({"provision_id": [], "name": []}), catalogue)}
        hidden = {}
        for col, label in columns.items():
            total, hide = scoped_total_hidden(pd.Series(per[col].to_numpy(), index=every.index), wijk, in_scope)
            record[label] = pd.NA if hide or pd.isna(total) else int(np.floor(total + 0.5))
            hidden[label] = hide
        before, after = record[columns["gap_before"]], record[columns["gap_after"]]
        change = np.nansum(per["gap_after"].to_numpy(float)[in_scope.to_numpy()]) - \
            np.nansum(per["gap_before"].to_numpy(float)[in_scope.to_numpy()])
        record["Verschil (personen)"] = pd.NA if pd.isna(before) or pd.isna(after) else int(np.floor(change + 0.5))
        for key, label in (("lose", "Signalen: verliezen passend aanbod (personen)"),
                           ("gain", "Signalen: krijgen passend aanbod (personen)")):
            value = res.signalled.get(key) if whole and res.signalled else None  # counted for the gemeente only
            hide = value is not None and 0 < value < MIN_CELL
            record[label] = pd.NA if value is None or hide else int(value)
            hidden[label] = hide
        records.append(record)
        hidden_any.append(", ".join(k for k, v in hidden.items() if v))
    data = pd.DataFrame.from_records(records)
    for col in data.columns[2:]:
        data[col] = data[col].astype("Int64")
    data = data.drop(columns=[c for c in data.columns[-2:] if data[c].isna().all() and not any(
        c in h for h in hidden_any)])
    data["Verborgen"] = [f"{HIDDEN}: {h}" if h else "" for h in hidden_any]
    shown = data.copy()
    for col in data.columns[2:-1]:
        hid = pd.Series([col in h for h in hidden_any])
        shown[col] = data[col].map(lambda v: "" if pd.isna(v) else format_number(v)).where(~hid, HIDDEN)
    return data, shown.drop(columns="Verborgen")


def gap_messages(report: GapReport) -> list[str]:
    """Three to five key messages in plain Dutch from the report's figures; never a hidden number.

    The largest shortages (only shown ones), the totals, this type's provisions in the scope under pressure
    or whose funding ends within :data:`FUNDING_HORIZON_MONTHS` months (when provisions were given), the hot
    spots (when computed) and how many buurten have no estimate.
    """
    kind = report.type_label.lower()
    values = report.total_values
    need, gap = values.get(NEED), values.get(GAP)
    messages = []
    if need is None and gap is None:
        messages.append(f"De totalen voor {report.scope} zijn verborgen: het gaat om kleine aantallen personen.")
    else:
        need_text = HIDDEN if need is None else format_number(need)
        gap_text = HIDDEN if gap is None else format_number(gap)
        messages.append(f"In {report.scope} hebben naar schatting {need_text} mensen een {kind} nodig; voor "
                        f"{gap_text} van hen is er geen plaats binnen bereik (het tekort).")
    data = report.data
    largest = data.loc[data[GAP].notna() & data[GAP].gt(0)].head(3) if len(data) else data
    if len(largest):
        parts = [f"{name} ({format_number(v)} personen)" for name, v in zip(largest["Buurt"], largest[GAP],
                                                                           strict=True)]
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]
        messages.append(f"Het grootste tekort is in {joined}.")
    elif (data["Verborgen"] != "").any() if len(data) else False:
        messages.append("Geen buurt heeft een tekort dat groot genoeg is om te tonen.")
    else:
        messages.append(f"Geen buurt heeft een tekort aan {kind}.")
    if report.provisions_given:
        risky = report.at_risk
        if len(risky):
            named = [_risk_label(n, s, e) for n, s, e in zip(risky["name"], risky["status"], risky["funding_end"],
                                                                 strict=True)]
            more = f" en {len(named) - 5} andere" if len(named) > 5 else ""
            messages.append(f"{len(risky)} {'voorziening' if len(risky) == 1 else 'voorzieningen'} van deze soort in "
                            f"{report.scope} {'staat' if len(risky) == 1 else 'staan'} onder druk of "
                            f"{'heeft' if len(risky) == 1 else 'hebben'} financiering die binnen "
                            f"{FUNDING_HORIZON_MONTHS} maanden afloopt: {', '.join(named[:5])}{more}.")
        else:
            messages.append(f"Geen voorziening van deze soort in {report.scope} staat onder druk of heeft "
                            f"financiering die binnen {FUNDING_HORIZON_MONTHS} maanden afloopt.")
    if report.hotspots_computed:
        if report.hotspots:
            messages.append("Hotspots (clusters van buurten met hoge tekorten): " + ", ".join(report.hotspots) + ".")
        else:
            messages.append("Er zijn geen clusters van buurten met hoge tekorten (hotspots) gevonden.")
    missing = values.get("Buurten zonder behoefteschatting", 0)
    if missing:
        messages.append(f"Voor {format_number(missing)} van de {format_number(values.get('Buurten', 0))} buurten is "
                        "geen schatting te maken (kerncijfers ontbreken of er wonen geen mensen).")
    elif len(messages) < 5:
        messages.append("Voor alle buurten is een schatting gemaakt.")
    return messages[:5]


def _risk_label(name: str, status: str, funding_end) -> str:
    parts = (["onder druk"] if status == "onder_druk" else []) + (
        [f"financiering tot {format_date(funding_end)}"] if pd.notna(funding_end) else [])
    return f"{name} ({', '.join(parts)})"


def _weight_text(weight: float) -> str:
    """A weight with the decimals it needs (0,1; 0,024), at most three."""
    for decimals in (1, 2, 3):
        if abs(round(weight, decimals) - weight) < 1e-9:
            return format_number(weight, decimals)
    return format_number(weight, 3)


def need_terms_explained(terms: Sequence[Term]) -> list[tuple[str, str]]:
    """Per term of a need formula: '0,1 × verweduwde inwoners (...)' and why that group and weight."""
    return [(f"{_weight_text(t.weight)} × {_GROUP_LABELS.get(t.indicators, t.label)}",
             f"{_RATIONALE.get(t.indicators, '')} {_WEIGHT_NOTE}".strip()) for t in terms]


def _reference_lines(report: GapReport) -> list[str]:
    years = report.cbs_years
    cbs = (f"Kerncijfers: {CBS_SOURCE} {years[0]}" if len(years) == 1 else
           f"Kerncijfers: {CBS_SOURCE} {years[0]} tot {years[-1]} (per buurt het jongste jaar)" if years else
           f"Kerncijfers: {CBS_SOURCE} (jaar onbekend)")
    first, last = report.inventory_dates
    if last is None:
        inventory = ("Sociale kaart: voor deze soort is geen datum van de laatste controle vastgelegd."
                     if report.provisions_given else "Sociale kaart: stand van de opslag bij het maken.")
    elif first == last:
        inventory = f"Sociale kaart: voorzieningen van deze soort gecontroleerd op {format_date(last)}."
    else:
        inventory = (f"Sociale kaart: voorzieningen van deze soort laatst gecontroleerd tussen {format_date(first)} "
                     f"en {format_date(last)}.")
    return [cbs + ".", inventory]


def _caveats(report: GapReport) -> list[str]:
    items = [
        STRAIGHT_LINE,
        f"De behoefte is een schatting uit de kerncijfers (aandelen van het CBS maal aantallen), geen telling; "
        f"de gewichten zijn aannames. Bereikbaarheid: two-step floating catchment area (2SFCA), in "
        f"{report.access_unit}: de plaatsen van elke voorziening worden verdeeld over de doelgroep in alle "
        "buurten binnen haar bereik; 1 of meer betekent genoeg voor iedereen, 0 niets binnen bereik. "
        "Tekort = behoefte × (1 − bereikbaarheid), niet lager dan 0; de tekortindex is 1 − bereikbaarheid "
        "(0 tot 1).",
        "Gestopte voorzieningen en voorzieningen buiten de geladen gebieden tellen niet mee; voorzieningen onder "
        "druk tellen mee. Alleen wat op de sociale kaart staat, telt: ontbreekt daar aanbod, dan lijkt het tekort "
        "groter dan het is.",
        SUPPRESSION_RULE,
        "Een buurt zonder schatting (kerncijfers geheim of ontbrekend, of geen inwoners) telt nooit als 0 mee.",
    ]
    if report.hotspots_computed:
        items.append("Hotspots: Getis-Ord Gi* op het tekort, buren delen een grens of hoekpunt, significant na "
                     f"FDR-correctie (5%); een buurt met een behoefte onder de {MIN_CELL} is nooit een hotspot.")
    return items


def gap_map_png(report: GapReport, *, legend: bool = True, width_px: int = 900) -> bytes:
    """The report's map as a PNG (:func:`mapping.static_map.static_map_png`), made once per report."""
    key = (legend, width_px)
    if key not in report._pngs:
        from mapping.static_map import static_map_png

        report._pngs[key] = static_map_png(report.areas, "fill", legend=report.legend if legend else (),
                                           legend_title="Tekort (personen)", context=report.context,
                                           width_px=width_px, credit=MAP_CREDIT)
    return report._pngs[key]


def report_to_html(report: GapReport) -> str:
    """A printable, self-contained HTML page (reports/templates/gap_report.html): no scripts, no external assets.

    Parameters
    ----------
    report : GapReport

    Returns
    -------
    str
        The HTML document; every text is escaped by the template's autoescape, the map is a ``data:`` URI.
    """
    from reports import frame_rows, render_html

    numeric = [NEED, "Bereikbaarheid", GAP, INDEX]
    scenario_numeric = list(report.scenarios.columns[2:]) if len(report.scenarios) else []
    return render_html(
        "gap_report.html", title=report.title, report=report, references=_reference_lines(report),
        messages=report.messages, map_png=gap_map_png(report, legend=False),
        map_alt=f"Kaart van het tekort aan {report.type_label.lower()} per buurt in {report.scope}",
        legend=report.legend, legend_title="Tekort (personen)", totals=list(report.totals.items()),
        columns=list(report.table.columns), rows=frame_rows(report.table), numeric=numeric,
        scenario_columns=list(report.scenarios.columns), scenario_rows=frame_rows(report.scenarios),
        scenario_numeric=scenario_numeric, terms=need_terms_explained(report.terms), caveats=report.caveats,
        access_unit=report.access_unit, hidden=HIDDEN, sources=list(SOURCES), generated=report.generated)


def report_to_pdf(report: GapReport) -> bytes:
    """The report as PDF, made from :func:`report_to_html` (:func:`reports.html_to_pdf`).

    Raises
    ------
    DataValidationError
        When PDFs cannot be made on this computer (the message says what to install).
    """
    from reports import html_to_pdf

    return html_to_pdf(report_to_html(report))


def _explanation(report: GapReport) -> pd.DataFrame:
    sheet = "Tekorten per buurt"
    cbs = CBS_SOURCE + (f" {report.cbs_years[-1]}" if report.cbs_years else "")
    rows = [
        (sheet, "Buurt", "Naam van de buurt", "", cbs),
        (sheet, "Buurtcode", "CBS-code van de buurt (BU + gemeente + wijk + buurt)", "", cbs),
        (sheet, "Wijkcode", "CBS-code van de wijk waar de buurt in ligt", "", cbs),
        (sheet, "Soort", "Soort voorziening waar het rapport over gaat", "", INVENTORY_SOURCE),
        (sheet, NEED, "Geschat aantal mensen in de doelgroep (zie Behoefteformule)", "personen (afgerond)",
         f"{cbs}; netwerkgegevens (signalen, als aantallen)"),
        (sheet, report.access_header, "Bereikbaarheid volgens de two-step floating catchment area (2SFCA): de "
         "plaatsen van elke voorziening binnen bereik, verdeeld over de doelgroep in alle buurten die zij bereikt. "
         "1 of meer: genoeg voor iedereen in de doelgroep; 0: niets binnen bereik. " + STRAIGHT_LINE,
         report.access_unit, f"{INVENTORY_SOURCE}; {cbs}"),
        (sheet, GAP, "Behoefte × (1 − bereikbaarheid), niet lager dan 0: mensen in de doelgroep zonder plaats "
         "binnen bereik", "personen (afgerond)", "berekend"),
        (sheet, INDEX, "1 − bereikbaarheid, begrensd op 0 tot 1: het deel van de doelgroep zonder plaats binnen "
         "bereik", "fractie (0 tot 1)", "berekend"),
        (sheet, "Verborgen", SUPPRESSION_RULE, "", ""),
        (sheet, "Reden", "Waarom de buurt een tekort heeft: de doelgroep en de dichtstbijzijnde voorziening", "",
         "berekend"),
    ]
    if "Cluster" in report.data:
        rows.append((sheet, "Cluster", "Hotspot of coldspot (Getis-Ord Gi*, FDR 5%)", "", "berekend"))
    rows += [(sheet, "Jaar kerncijfers", "Jaar van de kerncijfers van de buurt", "jaar", cbs),
             (sheet, "Bron", "Bronnen van de rij", "", "")]
    for col in report.scenario_data.columns:
        meaning = {"Scenario": "Naam van het bewaarde scenario", "Wijzigingen": "Welke voorzieningen uit of erbij",
                   "Verborgen": "Welke aantallen verborgen zijn (kleine aantallen)"}.get(
            col, f"{col.rsplit(' (', 1)[0]}, opgeteld over de buurten van {report.scope}")
        rows.append(("Scenario's", col, meaning, "personen" if "(personen)" in col else "", "berekend"))
    rows.append(("Kaart", "Kaart", "Tekort in personen per buurt, klassen van hele personen; grijs: verborgen",
                 "personen", MAP_CREDIT.removeprefix("Bron: ")))
    rows.append(("Berekening", "Behoefteformule", report.formula, "personen",
                 f"{cbs}; netwerkgegevens"))
    for term, why in need_terms_explained(report.terms):
        rows.append(("Berekening", "Term", f"{term}: {why}", "personen", cbs))
    rows.append(("Berekening", "Afstanden", STRAIGHT_LINE, "meter", ""))
    rows.append(("Berekening", "Kleine aantallen", SUPPRESSION_RULE, "", ""))
    for line in _reference_lines(report):
        rows.append(("Berekening", "Peildatum", line, "", ""))
    rows.append(("Berekening", "Gemaakt op", format_date(report.generated), "", "Steunkaart"))
    return explanation_frame(rows)


def report_to_excel(report: GapReport) -> bytes:
    """The report as an Excel workbook with numeric cells, the map as a picture and an explanation.

    Sheets: *Tekorten per buurt* (numbers as numbers, hidden counts empty with 'minder dan 5' in
    *Verborgen*), *Samenvatting* (totals and key messages), *Scenario's* (when given), *Kaart* (the static
    map, legend below it) and *Toelichting* (every column, its unit and source; the formula and weights,
    the small-count rule, straight-line distances, the reference dates).

    Returns
    -------
    bytes
        The .xlsx file.
    """
    from openpyxl.drawing.image import Image as XLImage

    values = report.total_values
    summary = pd.DataFrame({
        "Onderdeel": [*values, *["Kernboodschap"] * len(report.messages)],
        "Aantal": pd.array([*values.values(), *[None] * len(report.messages)], dtype="Int64"),
        "Toelichting": [*[HIDDEN_TOTAL if v is None else "" for v in values.values()], *report.messages],
    })
    sheets = {"Tekorten per buurt": report.data, "Samenvatting": summary}
    formats = {"Tekorten per buurt": {NEED: FMT_INT, report.access_header: FMT_2, GAP: FMT_INT, INDEX: FMT_2,
                                      "Jaar kerncijfers": "0"},
               "Samenvatting": {"Aantal": FMT_INT}}
    if len(report.scenario_data):
        sheets["Scenario's"] = report.scenario_data
        formats["Scenario's"] = {c: FMT_INT for c in report.scenario_data.columns[2:] if c != "Verborgen"}
    sheets["Kaart"] = pd.DataFrame({"Legenda": [label for _, label in report.legend]})
    sheets["Toelichting"] = _explanation(report)
    widths = {"Tekorten per buurt": dict(zip("ABCDEFGHIJKLMN", (28, 12, 11, 26, 12, 22, 12, 11, 13, 80, 11, 10, 40),
                                             strict=False)),
              "Samenvatting": {"A": 34, "B": 10, "C": 110}, "Scenario's": {"A": 30, "B": 60},
              "Kaart": {"A": 48}, "Toelichting": {"A": 18, "B": 40, "C": 100, "D": 30, "E": 40}}
    book = frames_to_workbook(sheets, column_widths=widths, number_formats=formats)
    book["Kaart"].add_image(XLImage(io.BytesIO(gap_map_png(report))), "C2")
    return workbook_to_bytes(book)

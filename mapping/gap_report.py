"""The municipality report on gaps: map, ranked table and scenario comparison, aggregates only.

For a wijk or the whole municipality and one provision type, as a printable, self-contained HTML
page (inline SVG map, no external assets, every text escaped) and as an Excel workbook (the same
tables plus the map as a picture). Counts of people under 5 are hidden, also where a total would
give them away (see :func:`graphs.aggregates.suppressed`).
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.export import frames_to_workbook, workbook_to_bytes
from data.formatting import format_date, format_number
from graphs.aggregates import MIN_CELL, suppressed
from mapping.choropleth import MISSING_FILL, PALETTES, classify_values

HIDDEN = f"minder dan {MIN_CELL}"
HIDDEN_FILL = "#9e9e9e"


@dataclass
class GapReport:
    title: str
    scope: str
    type_label: str
    formula: str
    generated: pd.Timestamp
    table: pd.DataFrame          # formatted, ranked, small counts hidden
    totals: dict                 # formatted totals
    legend: list[tuple[str, str]]  # (colour, label)
    areas: gpd.GeoDataFrame      # geometry + fill colour, RD New
    scenarios: pd.DataFrame      # formatted comparison (may be empty)
    hotspots: list[str]          # names of buurten in a hot spot (empty when not computed)


def _people(values: pd.Series, hidden: pd.Series) -> pd.Series:
    return pd.Series(np.where(hidden, HIDDEN, values.map(lambda v: "" if pd.isna(v) else format_number(v))),
                     index=values.index)


def _reason(text: str, hidden: bool) -> str:
    # The reason starts with "N mensen in de doelgroep"; a hidden count is hidden there too.
    return re.sub(r"^[\d.]+ mensen", f"{HIDDEN} mensen", text) if hidden else text


def build_gap_report(buurten: gpd.GeoDataFrame, gaps: pd.DataFrame, *, scope: str, type_label: str,
                     formula: str, scenarios: pd.DataFrame | None = None, hotspots: pd.Series | None = None,
                     generated: pd.Timestamp | None = None) -> GapReport:
    """Assemble the report for the buurten given (a wijk's or all) and the gaps of one type.

    ``gaps``: rows of :func:`mapping.gaps.gaps_from_need_and_supply` for one type.
    ``scenarios``: rows of :func:`mapping.scenarios.compare_scenarios` for that type.
    ``hotspots``: cluster per area_code ('hot'/'cold'/None) from :mod:`mapping.hotspots`.
    """
    rows = gaps.loc[gaps["area_code"].isin(buurten["area_code"])].copy()
    rows = rows.sort_values("gap_people", ascending=False, na_position="last").reset_index(drop=True)
    need_hidden = suppressed(rows["need"])
    gap_hidden = suppressed(rows["gap_people"])
    table = pd.DataFrame({
        "Buurt": rows["buurt"], "Code": rows["area_code"],
        "Behoefte (personen)": _people(rows["need"], need_hidden),
        "Bereikbaarheid": rows["accessibility"].map(lambda v: format_number(v, 2)).where(
            ~(need_hidden | gap_hidden), ""),
        "Tekort (personen)": _people(rows["gap_people"], gap_hidden),
        # need × index = gap: the index goes where a count is hidden
        "Tekortindex": rows["gap_index"].map(lambda v: "" if pd.isna(v) else format_number(v, 2)).where(
            ~(need_hidden | gap_hidden), ""),
        "Reden": [_reason(r, h) for r, h in zip(rows["reason"], need_hidden, strict=True)],
    })
    if hotspots is not None:
        table["Cluster"] = rows["area_code"].map(hotspots).map({"hot": "hotspot", "cold": "coldspot"}).fillna("")
    totals = {"Behoefte (personen)": format_number(rows["need"].sum()),
              "Tekort (personen)": format_number(rows["gap_people"].sum()),
              "Buurten": format_number(len(rows)),
              "Buurten zonder behoefteschatting": format_number(int(rows["need"].isna().sum()))}

    # The map shows no more than the table: hidden buurten get their own grey, and the classes are made
    # from the shown values only (class bounds would otherwise give hidden values away).
    hidden_codes = set(rows.loc[need_hidden | gap_hidden, "area_code"])
    shown = buurten[["area_code", "name", "geometry"]].merge(rows[["area_code", "gap_people"]], on="area_code",
                                                             how="left")
    is_hidden = shown["area_code"].isin(hidden_codes)
    bins, classes = classify_values(shown["gap_people"].where(~is_hidden), scheme="quantiles", k=5)
    ramp = PALETTES["need"]
    colours = [ramp[i] for i in np.round(np.linspace(0, len(ramp) - 1, max(len(bins), 1))).astype(int)]
    shown["fill"] = np.where(is_hidden, HIDDEN_FILL,
                             [colours[c] if c >= 0 else MISSING_FILL for c in classes]).astype(object)
    legend, lower = [], shown["gap_people"].where(~is_hidden).min()
    for upper, colour in zip(bins, colours, strict=False):
        legend.append((colour, f"{format_number(lower)} – {format_number(upper)} personen"))
        lower = upper
    if is_hidden.any():
        legend.append((HIDDEN_FILL, f"verborgen (minder dan {MIN_CELL} personen)"))
    if ((classes < 0) & ~is_hidden).any():
        legend.append((MISSING_FILL, "geen schatting (kerncijfers ontbreken of geen inwoners)"))

    comparison = pd.DataFrame()
    if scenarios is not None and len(scenarios):
        lose_hidden = suppressed(scenarios["lose_reach"], total_shown=False)
        gain_hidden = suppressed(scenarios["gain_reach"], total_shown=False)
        comparison = pd.DataFrame({
            "Scenario": scenarios["scenario"],
            "Tekort nu": scenarios["gap_before"].map(format_number),
            "Tekort in scenario": scenarios["gap_after"].map(format_number),
            "Verschil": scenarios["gap_change"].map(format_number),
            "Verliezen bereik": _people(scenarios["lose_reach"], lose_hidden),
            "Krijgen bereik": _people(scenarios["gain_reach"], gain_hidden),
        })
        for col, label in (("signalled_lose", "Signalen: verliezen passend aanbod"),
                           ("signalled_gain", "Signalen: krijgen passend aanbod")):
            if col in scenarios and scenarios[col].notna().any():
                comparison[label] = _people(scenarios[col], suppressed(scenarios[col], total_shown=False))
        if "description" in scenarios:
            comparison.insert(1, "Wijzigingen", scenarios["description"])
    hot = [] if hotspots is None else sorted(
        rows.loc[rows["area_code"].map(hotspots).eq("hot"), "buurt"].astype(str))
    return GapReport(f"Tekorten {type_label.lower()} — {scope}", scope, type_label, formula,
                     generated if generated is not None else pd.Timestamp.now(), table, totals, legend, shown,
                     comparison, hot)


def _svg_map(areas: gpd.GeoDataFrame, width: int = 640) -> str:
    """An inline SVG of the areas (RD New) filled with their class colour; names as tooltips."""
    minx, miny, maxx, maxy = areas.total_bounds
    scale = width / max(maxx - minx, 1)
    height = int((maxy - miny) * scale) + 1
    paths = []
    for name, fill, geom in zip(areas["name"], areas["fill"], areas.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        d = []
        for poly in getattr(geom, "geoms", [geom]):
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                px = (xy[:, 0] - minx) * scale
                py = (maxy - xy[:, 1]) * scale
                d.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py, strict=True)) + "Z")
        paths.append(f'<path d="{"".join(d)}" fill="{html.escape(fill)}" fill-rule="evenodd" stroke="#555" '
                     f'stroke-width="0.6"><title>{html.escape(str(name))}</title></path>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="Kaart van het tekort">{"".join(paths)}</svg>')


def _png_map(areas: gpd.GeoDataFrame, width: int = 900) -> bytes:
    from PIL import Image, ImageDraw

    minx, miny, maxx, maxy = areas.total_bounds
    scale = width / max(maxx - minx, 1)
    height = int((maxy - miny) * scale) + 1
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for fill, geom in zip(areas["fill"], areas.geometry, strict=True):
        for poly in getattr(geom, "geoms", [geom]):
            if not isinstance(poly, shapely.Polygon):
                continue
            xy = np.asarray(poly.exterior.coords)
            pts = list(zip((xy[:, 0] - minx) * scale, (maxy - xy[:, 1]) * scale, strict=True))
            draw.polygon(pts, fill=fill, outline="#555555")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _html_table(frame: pd.DataFrame) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


def report_to_html(report: GapReport) -> str:
    """A printable, self-contained HTML page: no scripts, no external assets, all text escaped."""
    esc = html.escape
    legend = "".join(f'<span class="sw" style="background:{esc(c)}"></span>{esc(label)}<br>'
                     for c, label in report.legend)
    totals = "".join(f"<li>{esc(k)}: <strong>{esc(v)}</strong></li>" for k, v in report.totals.items())
    scen = (f"<h2>Scenario's</h2>{_html_table(report.scenarios)}" if len(report.scenarios) else "")
    hot = (f"<p><strong>Hotspots</strong> (clusters van hoge tekorten, Getis-Ord Gi*, FDR 5%): "
           f"{esc(', '.join(report.hotspots))}.</p>" if report.hotspots else "")
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>{esc(report.title)}</title>
<style>
body {{ font-family: Arial, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; font-size: 11px; margin-bottom: 1em; }}
th, td {{ border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }}
th {{ background: #eee; }}
.map {{ display: flex; gap: 1.5em; align-items: flex-start; }}
.sw {{ display: inline-block; width: 16px; height: 11px; border: 1px solid #777; margin-right: 6px; }}
@media print {{ body {{ margin: 0.5cm; }} h1 {{ font-size: 18px; }} tr {{ break-inside: avoid; }} }}
</style></head><body>
<h1>{esc(report.title)}</h1>
<p>Gemaakt op {esc(format_date(report.generated))} met Steunkaart. Alleen geaggregeerde cijfers; aantallen
personen onder de {MIN_CELL} zijn verborgen ('{esc(HIDDEN)}'), ook waar een totaal ze zou verraden.</p>
<p><strong>Behoefte</strong> = {esc(report.formula)}. Bereikbaarheid: two-step floating catchment area (2SFCA);
tekort = behoefte × (1 − bereikbaarheid), niet lager dan 0.</p>
<ul>{totals}</ul>
<div class="map">{_svg_map(report.areas)}<div><strong>Tekort (personen)</strong><br>{legend}</div></div>
{hot}
<h2>Buurten naar tekort</h2>
{_html_table(report.table)}
{scen}
<p>Bronnen: CBS Kerncijfers wijken en buurten / Kadaster (CC BY 4.0); sociale kaart van de gemeente.</p>
</body></html>"""


def report_to_excel(report: GapReport) -> bytes:
    """The report as an Excel workbook: explanation, ranked table, scenarios and the map as a picture."""
    from openpyxl.drawing.image import Image as XLImage

    intro = pd.DataFrame({"Onderdeel": ["Rapport", "Gemaakt op", "Behoefte", "Privacy", *report.totals],
                          "Waarde": [report.title, format_date(report.generated), report.formula,
                                     f"Aantallen personen onder de {MIN_CELL} zijn verborgen ('{HIDDEN}').",
                                     *report.totals.values()]})
    sheets = {"Toelichting": intro, "Tekorten per buurt": report.table}
    if len(report.scenarios):
        sheets["Scenario's"] = report.scenarios
    sheets["Kaart"] = pd.DataFrame({"Legenda": [label for _, label in report.legend]})
    widths = {"Toelichting": {"A": 34, "B": 90},
              "Tekorten per buurt": dict(zip("ABCDEFGH", (28, 12, 18, 15, 18, 12, 90, 12), strict=True))}
    book = frames_to_workbook(sheets, column_widths=widths)
    book["Kaart"].add_image(XLImage(io.BytesIO(_png_map(report.areas))), "C2")
    return workbook_to_bytes(book)

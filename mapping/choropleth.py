"""Choropleth maps of areas for one key figure, with a Dutch legend and no CDN assets."""

from __future__ import annotations

import html
import json
import os

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
from branca.element import MacroElement, Template
from folium.utilities import JsCode

from data.errors import DataValidationError
from data.formatting import MISSING_LABELS, format_number, format_value
from data.indicators import NO_BASE_STATUS
from mapping.assets import local_map
from mapping.simplify import web_geometries

SCHEMES = {"quantiles": "Kwantielen (gelijke aantallen)", "natural_breaks": "Natuurlijke grenzen (Jenks)",
           "equal_interval": "Gelijke intervallen"}
# ColorBrewer sequential palettes, 3..7 classes are taken from the 7-class ramp.
PALETTES = {
    "need": ["#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#990000"],
    "neutral": ["#f1eef6", "#d0d1e6", "#a6bddb", "#74a9cf", "#3690c0", "#0570b0", "#034e7b"],
}
MISSING_FILL = "#d9d9d9"
NO_BASE_FILL = "#ffffff"  # a rate of an area without inhabitants/households: nothing to colour
FEW_FILL = "#f3f3f3"  # too few persons to show anything (``few_status``): lighter than a secret value
MISSING_LABEL = "geen gegevens / geheim"
_STYLE_JS = """
function(feature, layer) {
    var p = feature.properties;
    layer.options.className = 'sk-area';  // read by Leaflet when the path element is created
    var base = {fillColor: p.fill, fillOpacity: p.missing ? 0.55 : 0.8,
                color: p.selected ? '#111111' : '#555555', weight: p.selected ? 3.5 : 0.8,
                dashArray: p.few ? '1 3' : (p.missing ? '4 3' : null)};
    layer.setStyle(base);
    layer.on('mouseover', function () { layer.setStyle({weight: 3, color: '#000000'}); });
    layer.on('mouseout', function () { layer.setStyle(base); });
}
"""

TILE_SOURCES = {
    "geen": None,
    "pdok": {
        "tiles": "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/{z}/{x}/{y}.png",
        "attr": "Kaartgegevens &copy; Kadaster (PDOK BRT-Achtergrondkaart)",
        "name": "PDOK BRT-Achtergrondkaart",
    },
    "osm": {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": "&copy; OpenStreetMap-bijdragers",
        "name": "OpenStreetMap",
    },
}
TILE_LABELS = {"geen": "Geen (offline)", "pdok": "PDOK BRT-Achtergrondkaart", "osm": "OpenStreetMap"}
TILES_ENV_VAR = "STEUNKAART_TILES"


def escape_html(value) -> str:
    """Escape text from the data for the map's HTML (tooltips, popups, legend, layer names).

    Besides ``html.escape``, braces become character references: branca compiles every element's
    rendered script as a Jinja template once more, so ``{{ ... }}`` in a name would be evaluated on
    the server (template injection) and ``{%`` would break the map. The browser shows the same text.
    """
    return escape_braces(html.escape(str(value)))


def escape_braces(text: str) -> str:
    """Braces as HTML character references (see :func:`escape_html`), for text that is not escaped."""
    return text.replace("{", "&#123;").replace("}", "&#125;")


def default_tiles() -> str:
    """Return the configured base map (``STEUNKAART_TILES``: geen, pdok, osm); default none."""
    value = os.environ.get(TILES_ENV_VAR, "geen").strip().lower()
    return value if value in TILE_SOURCES else "geen"


def classify_values(values: pd.Series, *, scheme: str = "quantiles", k: int = 5, bins=None
                    ) -> tuple[np.ndarray, pd.Series]:
    """Classify values with mapclassify (or into given class bounds, e.g. to compare two maps).

    Returns
    -------
    (bins, classes)
        ``bins`` are the upper bounds of the classes; ``classes`` holds the class index
        per row, -1 where the value is missing (missing is never a number).
    """
    if scheme not in SCHEMES:
        raise DataValidationError(f"Onbekende indeling '{scheme}'; kies uit {', '.join(SCHEMES)}.")
    known = values.dropna().astype(float)
    classes = pd.Series(-1, index=values.index, dtype=int)
    if known.empty:
        return np.array([]), classes
    if bins is not None:
        classifier = mapclassify.UserDefined(known.to_numpy(), bins=list(bins))
        bins, yb = np.asarray(classifier.bins), np.asarray(classifier.yb)
        classes.loc[known.index] = yb
        return bins, classes
    k = int(max(1, min(k, known.nunique())))
    if k == 1:
        bins = np.array([known.max()])
        yb = np.zeros(len(known), dtype=int)
    else:
        classifier = {
            "quantiles": mapclassify.Quantiles,
            "natural_breaks": mapclassify.NaturalBreaks,
            "equal_interval": mapclassify.EqualInterval,
        }[scheme](known.to_numpy(), k=k)
        bins, yb = np.asarray(classifier.bins), np.asarray(classifier.yb)
    classes.loc[known.index] = yb
    return bins, classes


def _palette(n: int, need: bool) -> list[str]:
    ramp = PALETTES["need" if need else "neutral"]
    if n == 0:  # nothing known (e.g. every cell hidden): only the missing-value rows in the legend
        return []
    if n == 1:
        return [ramp[3]]
    idx = np.round(np.linspace(0, len(ramp) - 1, n)).astype(int)
    return [ramp[i] for i in idx]


def _legend_html(title: str, bins: np.ndarray, colours: list[str], minimum: float | None, *,
                 decimals: int, unit: str, n_missing: int, no_base: dict[str, int] | None = None,
                 missing_label: str = MISSING_LABEL, few: tuple[str, int] | None = None,
                 note: str | None = None) -> str:
    unit_txt = "%" if unit == "%" else (f" {unit}" if unit else "")
    rows = []
    lower = minimum
    for upper, colour in zip(bins, colours, strict=True):
        low = format_number(lower, decimals) if lower is not None else ""
        rows.append(
            f'<div class="sk-row"><span class="sk-swatch" style="background:{colour}"></span>'
            + (html.escape(low) if low == format_number(upper, decimals)
               else f"{html.escape(low)} – {html.escape(format_number(upper, decimals))}")
            + f"{html.escape(unit_txt)}</div>"
        )
        lower = upper
    if n_missing:
        rows.append(
            f'<div class="sk-row"><span class="sk-swatch sk-missing"></span>'
            f"{html.escape(missing_label)} ({n_missing})</div>"
        )
    if few is not None and few[1]:
        rows.append(f'<div class="sk-row"><span class="sk-swatch sk-few"></span>'
                    f"{html.escape(few[0])} ({few[1]})</div>")
    for text, n in (no_base or {}).items():
        if n:
            rows.append(f'<div class="sk-row"><span class="sk-swatch sk-nobase"></span>'
                        f"{html.escape(text)} ({n})</div>")
    if note:
        rows.append(f'<div class="sk-note">{html.escape(note)}</div>')
    return f'<div class="sk-legend-title">{html.escape(title)}</div>' + "".join(rows)


class _Legend(MacroElement):
    """A Leaflet control in the bottom-right corner holding pre-escaped HTML."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .sk-legend { background: rgba(255,255,255,0.95); padding: 8px 10px; border-radius: 4px;
          box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 13px/1.4 "Source Sans Pro", Arial,
          sans-serif; color: #222; max-width: 260px; }
        .sk-legend-title { font-weight: 600; margin-bottom: 4px; }
        .sk-row { display: flex; align-items: center; gap: 6px; white-space: nowrap; }
        .sk-swatch { width: 18px; height: 12px; border: 1px solid #777; display: inline-block; }
        .sk-missing { background: repeating-linear-gradient(45deg, #d9d9d9, #d9d9d9 3px,
          #ffffff 3px, #ffffff 6px); }
        .sk-nobase { background: #ffffff; }
        .sk-few { background: #f3f3f3; border-style: dotted; }
        .sk-note { margin-top: 4px; white-space: normal; font-size: 12px; color: #444; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'sk-legend');
                div.innerHTML = {{ this.html_json }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, legend_html: str) -> None:
        super().__init__()
        self._name = "Legend"
        # json.dumps makes it a JS string literal; "</" is broken up so that no text can
        # close the surrounding <script> element.
        self.html_json = json.dumps(legend_html).replace("</", "<\\/")
        # Braces as JS escapes: the rendered script is compiled as a Jinja template once more.
        self.html_json = self.html_json.replace("{", "\\u007b").replace("}", "\\u007d")


class _FitWhenShown(MacroElement):
    """Fit the map to its areas again whenever its container gets (another) size, until the user moves it.

    Leaflet fits the bounds once, when the map is created; a map created while its container has no
    size yet (a tab that is not shown, an iframe still being laid out) would open at world zoom.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var bounds = {{ this.bounds_json }};
            var el = map.getContainer();
            var touched = false;
            ['mousedown', 'touchstart', 'wheel', 'keydown'].forEach(function (kind) {
                el.addEventListener(kind, function () { touched = true; }, {passive: true});
            });
            function fit() {
                if (el.clientWidth > 0 && el.clientHeight > 0) {
                    map.invalidateSize(false);
                    if (!touched) { map.fitBounds(bounds); }
                }
            }
            if (window.ResizeObserver) { new ResizeObserver(fit).observe(el); }
            window.setTimeout(fit, 0);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitWhenShown"
        self.bounds_json = json.dumps([[float(v) for v in corner] for corner in bounds])


def choropleth_map(
    areas: gpd.GeoDataFrame,
    column: str,
    *,
    label: str,
    unit: str = "",
    decimals: int = 0,
    higher_is_need: bool | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    tiles: str = "geen",
    selected_code: str | None = None,
    status: pd.Series | None = None,
    code_col: str = "area_code",
    name_col: str = "name",
    level_label: str = "Buurt",
    height: int = 560,
    simplify_m: float | None = None,
    provisions: gpd.GeoDataFrame | None = None,
    provision_types: dict | None = None,
    bins=None,
    value_labels: pd.Series | None = None,
    few_status: str | None = None,
    missing_label: str = MISSING_LABEL,
    legend_note: str | None = None,
) -> folium.Map:
    """Build a folium choropleth of ``areas`` coloured by ``column``.

    Parameters
    ----------
    areas : GeoDataFrame
        One row per area, any CRS (reprojected to WGS84 for Leaflet).
    column : str
        The key figure to colour by; NaN is shown as missing (hatched grey), never as 0.
    label, unit, decimals : str, str, int
        Dutch label, unit and decimals for legend and tooltip.
    higher_is_need : bool, optional
        True uses a red ramp (more = more need), otherwise a blue ramp.
    scheme, k : str, int
        mapclassify scheme (``quantiles``, ``natural_breaks``, ``equal_interval``) and classes.
    tiles : str
        Base map: ``geen`` (no third-party requests), ``pdok`` or ``osm``.
    selected_code : str, optional
        Area drawn with a thick outline.
    status : Series, optional
        Per area (aligned with ``areas``) why a value is missing ('geheim', 'onbekend'); areas
        with 'geen_inwoners'/'geen_huishoudens' (a rate without a base) are drawn white and
        counted apart in the legend.
    provisions : GeoDataFrame, optional
        Collective provisions to show as a layer per type on top of the areas.
    bins : sequence of float, optional
        Fixed upper class bounds instead of ``scheme``/``k`` (the same colours on two maps).
    value_labels : Series, optional
        Per area (aligned with ``areas``) a text for the tooltip instead of the formatted value (e.g. a
        band '80% of meer' for an area coloured by the band's lower bound).
    few_status : str, optional
        The status of areas with too few persons to show anything: drawn lighter, with a dotted outline,
        and counted apart in the legend under this text (the other missing areas under ``missing_label``).
    missing_label, legend_note : str
        Legend text for missing values (default 'geen gegevens / geheim'), and a note under the legend.
    simplify_m : float, optional
        Coverage simplification tolerance in metres (None: about a pixel of the full view;
        0: none). Neighbours stay gap- and overlap-free.

    Returns
    -------
    folium.Map
        A map that loads only the app's own Leaflet files, one SVG path per area.
    """
    for col in (column, code_col, name_col):
        if col not in areas.columns:
            raise DataValidationError(f"Kolom '{col}' ontbreekt in de gebieden.", column=col)
    if tiles not in TILE_SOURCES:
        raise DataValidationError(f"Onbekende achtergrondkaart '{tiles}'.")
    if areas.empty:
        raise DataValidationError("Er zijn geen gebieden om te tonen. Importeer eerst gebieden.")

    values = pd.to_numeric(areas[column], errors="coerce").astype(float)
    bins, classes = classify_values(values, scheme=scheme, k=k, bins=bins)
    colours = _palette(len(bins), bool(higher_is_need))
    fill = np.where(classes.to_numpy() >= 0,
                    np.array(colours + [MISSING_FILL], dtype=object)[classes.clip(lower=0)],
                    MISSING_FILL)
    status = status if status is not None else pd.Series(None, index=areas.index, dtype=object)
    status = status.reindex(areas.index)
    no_base = (status.isin(list(NO_BASE_STATUS.values())) & (classes < 0)).to_numpy()
    fill = np.where(no_base, NO_BASE_FILL, fill)
    few = ((status == few_status).fillna(False).to_numpy(dtype=bool) & (classes < 0).to_numpy()
           if few_status is not None else np.zeros(len(areas), dtype=bool))
    fill = np.where(few, FEW_FILL, fill)
    value_text = [
        format_value(v, decimals=decimals, unit=unit, status=s)
        for v, s in zip(values, status, strict=True)
    ]
    if value_labels is not None:
        labels = value_labels.reindex(areas.index)
        value_text = [str(t) if isinstance(t, str) and t else v for v, t in zip(value_text, labels, strict=True)]
    shown = gpd.GeoDataFrame(
        {
            # Not shown, but it goes through the same Jinja pass (a code with braces no longer round-trips).
            "code": areas[code_col].astype(str).map(escape_braces).to_numpy(),
            "name": areas[name_col].astype(str).map(escape_html).to_numpy(),
            "value_text": [escape_html(t) for t in value_text],
            "fill": fill,
            "missing": classes.to_numpy() < 0,
            "few": few,
        },
        geometry=web_geometries(areas.geometry.to_crs(28992).to_numpy(), tolerance_m=simplify_m),
        crs=4326,
    )
    if selected_code is not None:
        shown["selected"] = shown["code"] == selected_code
    minx, miny, maxx, maxy = shown.total_bounds
    m = local_map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12, tiles=None,
                  control_scale=True, height=height, prefer_canvas=False)
    source = TILE_SOURCES[tiles]
    if source is not None:
        folium.TileLayer(tiles=source["tiles"], attr=source["attr"], name=source["name"],
                         max_zoom=19).add_to(m)

    folium.GeoJson(
        shown.__geo_interface__,
        name=escape_html(label),
        # Styles are set per feature in the browser from its own 'fill' property: a style_function
        # would add a switch over every feature id to the page, twice (style and highlight).
        on_each_feature=JsCode(_STYLE_JS),
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "value_text"],
            aliases=[escape_html(level_label), escape_html(label)],
            sticky=True,
        ),
        zoom_on_click=False,
    ).add_to(m)
    legend = _legend_html(
        label, bins, colours, float(values.min()) if values.notna().any() else None,
        decimals=decimals, unit=unit, n_missing=int(((classes < 0).to_numpy() & ~no_base & ~few).sum()),
        no_base={MISSING_LABELS[s]: int((no_base & status.isin([s]).to_numpy()).sum())
                 for s in NO_BASE_STATUS.values()},
        missing_label=missing_label, few=(few_status, int(few.sum())) if few_status is not None else None,
        note=legend_note,
    )
    m.add_child(_Legend(legend))
    if provisions is not None and not provisions.empty:
        from mapping.provisions import add_provision_layers

        add_provision_layers(m, provisions, provision_types)
        folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    m.add_child(_FitWhenShown([[miny, minx], [maxy, maxx]]))
    return m

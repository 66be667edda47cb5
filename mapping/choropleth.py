"""Choropleth maps of areas for one key figure, with a Dutch legend and no CDN assets."""

from __future__ import annotations

import copy
import html
import json
import os
import re
import warnings

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from branca.element import Element, MacroElement, Template
from folium.elements import ElementAddToElement
from folium.utilities import JsCode, get_obj_in_upper_tree

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
# Credit for the area boundaries in Leaflet's attribution control (also without a tile layer).
MAP_CREDIT = "Bron: CBS Wijk- en buurtkaart / Kadaster (CC BY 4.0)"
LEGEND_POSITIONS = ("inside", "outside")
LEGEND_FOLDED_BELOW_PX = 500  # maps lower than this start with the legend folded (Tekorten: 460 px)
CANVAS_FROM_AREAS = 3000  # from this many areas on Leaflet draws them on one canvas (SVG paths get slow)
LEGEND_MAX_SHARE = 0.4  # an open legend never takes more than this share of the map's height
HIGHLIGHT_NAME = "Gekozen gebied"
HIGHLIGHT_STYLE = {"color": "#111111", "weight": 4, "opacity": 1.0, "fill": False, "fillOpacity": 0.0}
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
    // Inside st_folium a click reaches the app at once: st_folium sends every map event only after a
    // 250 ms debounce. This sends the value st_folium would send with returned_objects =
    // ['last_active_drawing'] and records it as sent, so its own update 250 ms later finds nothing new.
    // Outside st_folium (an exported or embedded map) there is no __GLOBAL_DATA__ and nothing happens.
    layer.on('click', function () {
        var g = window.__GLOBAL_DATA__;
        if (!g || !g.returned_objects || g.returned_objects.length !== 1
                || g.returned_objects[0] !== 'last_active_drawing' || window.parent === window) { return; }
        var value = {last_active_drawing: layer.toGeoJSON()};
        if (JSON.stringify(value) === JSON.stringify(g.previous_data)) { return; }
        g.previous_data = value;
        window.parent.postMessage({isStreamlitMessage: true, type: 'streamlit:setComponentValue',
                                   value: value, dataType: 'json'}, '*');
    });
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


def _grid(values, decimals: int) -> np.ndarray:
    """Values as whole numbers on the display grid of ``decimals`` (``12.34`` with 1 decimal -> ``123``).

    Rounded half away from zero, as :func:`data.formatting.format_number` shows them (``ROUND_HALF_UP``,
    as in Excel and CBS tables: -0.25 -> -0.3). The product is first rounded to 6 decimals, so 2.675
    (2.67499... in binary) still rounds up.
    """
    scaled = np.round(np.asarray(values, dtype=float) * 10.0 ** decimals, 6)
    return np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)


def _from_grid(grid: np.ndarray, decimals: int) -> np.ndarray:
    return grid / 10.0 ** decimals + 0.0  # + 0.0: no '-0'


def round_half_up(values, decimals: int) -> np.ndarray:
    """Round like the legend and tooltips show the values (half up; :func:`data.formatting.format_number`).

    Parameters
    ----------
    values : array-like of float
        NaN stays NaN.
    decimals : int
        Display precision.

    Returns
    -------
    ndarray
        The rounded values (``0.25`` -> ``0.3`` with one decimal, where ``np.round`` gives ``0.2``).
    """
    return _from_grid(_grid(values, decimals), decimals)


def classify_values(values: pd.Series, *, scheme: str = "quantiles", k: int = 5, bins=None,
                    decimals: int | None = None) -> tuple[np.ndarray, pd.Series]:
    """Classify values with mapclassify (or into given class bounds, e.g. to compare two maps).

    Parameters
    ----------
    values : Series
        The key figure per area; NaN is missing.
    scheme, k : str, int
        mapclassify scheme (see ``SCHEMES``) and the wanted number of classes (fewer when there are
        fewer distinct values).
    bins : sequence of float, optional
        Fixed upper class bounds instead of ``scheme``/``k``.
    decimals : int, optional
        The display precision. When given, the values are classified as shown (rounded half up to
        ``decimals``) and the upper bounds are rounded to that precision, duplicates dropped:
        every area's shown value then lies in the class its label (:func:`class_labels`) names.
        Without it, the raw values and bounds are used.

    Returns
    -------
    (bins, classes)
        ``bins`` are the upper bounds of the classes; ``classes`` holds the class index
        per row, -1 where the value is missing (missing is never a number).
    """
    if scheme not in SCHEMES:
        raise DataValidationError(f"Onbekende indeling '{scheme}'; kies uit {', '.join(SCHEMES)}.")
    known = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    classes = pd.Series(-1, index=values.index, dtype=int)
    if known.empty:
        return np.array([]), classes
    if decimals is not None:
        known = pd.Series(round_half_up(known.to_numpy(), decimals), index=known.index)
    if bins is not None:
        classifier = mapclassify.UserDefined(known.to_numpy(), bins=list(bins))
        bins, yb = np.asarray(classifier.bins, dtype=float), np.asarray(classifier.yb)
    else:
        k = int(max(1, min(k, known.nunique())))
        if k == 1:
            bins = np.array([known.max()])
            yb = np.zeros(len(known), dtype=int)
        else:
            with warnings.catch_warnings():  # quantiles of many equal values: duplicate bounds, dropped below
                warnings.simplefilter("ignore")
                classifier = {
                    "quantiles": mapclassify.Quantiles,
                    "natural_breaks": mapclassify.NaturalBreaks,
                    "equal_interval": mapclassify.EqualInterval,
                }[scheme](known.to_numpy(), k=k)
            bins, yb = np.asarray(classifier.bins, dtype=float), np.asarray(classifier.yb)
    if decimals is not None:
        grid = np.unique(_grid(bins, decimals))
        # The values are on the grid too: value <= bound is an exact comparison of whole numbers.
        yb = np.searchsorted(grid, _grid(known.to_numpy(), decimals), side="left")
        bins = _from_grid(grid, decimals)
    classes.loc[known.index] = yb
    return bins, classes


def class_breaks(values: pd.Series, *, scheme: str = "quantiles", k: int = 5, decimals: int = 0) -> np.ndarray:
    """Upper class bounds of ``values`` on the display grid of ``decimals`` (see :func:`classify_values`).

    Returns
    -------
    ndarray
        Strictly increasing upper bounds, each a value that can be shown with ``decimals``; empty when
        no value is known.
    """
    return classify_values(values, scheme=scheme, k=k, decimals=decimals)[0]


def _unit_suffix(unit: str) -> str:
    return "%" if unit == "%" else (f" {unit}" if unit else "")


def class_labels(bins, minimum: float | None, *, decimals: int = 0, unit: str = "") -> list[str]:
    """Dutch labels for classes with upper bounds ``bins`` that do not overlap.

    The first class runs from ``minimum`` to the first bound, every next class from one display step
    (``10 ** -decimals``) above the previous bound: "0 – 9%", "10 – 12%" for whole percentages,
    "0,0 – 2,4", "2,5 – 3,1" with one decimal. A class of a single value reads just that value ("0").
    The unit comes once, at the end ("%" glued on, other units after a space).

    Parameters
    ----------
    bins : sequence of float
        Upper class bounds, increasing (as :func:`class_breaks` returns them; other bounds are rounded
        to ``decimals`` first).
    minimum : float, optional
        The smallest value shown (rounded half up to ``decimals``); None: the first class reads "t/m" its bound.
    decimals : int
        Display precision.
    unit : str
        Unit of the values.

    Returns
    -------
    list of str
        One label per bound, plain text (escape before putting it into HTML).
    """
    upper = np.unique(_grid(bins, decimals))
    if len(upper) == 0:
        return []
    suffix = _unit_suffix(unit)
    lower = np.r_[upper[0], upper[:-1] + 1]
    labels = []
    for i, (low, high) in enumerate(zip(_from_grid(lower, decimals), _from_grid(upper, decimals), strict=True)):
        high_text = format_number(high, decimals)
        if i == 0:
            if minimum is None:
                labels.append(f"t/m {high_text}{suffix}")
                continue
            low = min(float(round_half_up([minimum], decimals)[0]), high)
        low_text = format_number(low, decimals)
        labels.append(f"{low_text}{suffix}" if low_text == high_text else f"{low_text} – {high_text}{suffix}")
    return labels


def _palette(n: int, need: bool) -> list[str]:
    ramp = PALETTES["need" if need else "neutral"]
    if n == 0:  # nothing known (e.g. every cell hidden): only the missing-value rows in the legend
        return []
    if n == 1:
        return [ramp[3]]
    idx = np.round(np.linspace(0, len(ramp) - 1, n)).astype(int)
    return [ramp[i] for i in idx]


# Inline styles as well as classes: the same legend HTML also stands on its own beside the map (``legend_html``).
_ROW_STYLE = "display:flex;align-items:center;gap:6px;white-space:nowrap"
_SWATCH_STYLE = "display:inline-block;flex:none;width:18px;height:12px;border:1px solid #777"
_SWATCH_EXTRA = {
    "sk-missing": ("background:repeating-linear-gradient(45deg,#d9d9d9,#d9d9d9 3px,#ffffff 3px,"
                   "#ffffff 6px)"),
    "sk-few": "background:#f3f3f3;border-style:dotted",
    "sk-nobase": "background:#ffffff",
}
_PANEL_STYLE = "font:13px/1.4 'Source Sans Pro',Arial,sans-serif;color:#222"


def _legend_row(text: str, *, colour: str | None = None, kind: str | None = None) -> str:
    """One legend row: a swatch (a class colour or a kind of missing value) and its escaped text."""
    css = f"{_SWATCH_STYLE};background:{colour}" if colour else f"{_SWATCH_STYLE};{_SWATCH_EXTRA[kind]}"
    cls = "sk-swatch" + (f" {kind}" if kind else "")
    return (f'<div class="sk-row" style="{_ROW_STYLE}"><span class="{cls}" style="{css}"></span>'
            f"{html.escape(text)}</div>")


def _legend_html(title: str, bins: np.ndarray, colours: list[str], minimum: float | None, *,
                 decimals: int, unit: str, n_missing: int, no_base: dict[str, int] | None = None,
                 missing_label: str = MISSING_LABEL, few: tuple[str, int] | None = None,
                 note: str | None = None) -> str:
    rows = [_legend_row(text, colour=colour) for text, colour in
            zip(class_labels(bins, minimum, decimals=decimals, unit=unit), colours, strict=True)]
    if n_missing:
        rows.append(_legend_row(f"{missing_label} ({n_missing})", kind="sk-missing"))
    if few is not None and few[1]:
        rows.append(_legend_row(f"{few[0]} ({few[1]})", kind="sk-few"))
    for text, n in (no_base or {}).items():
        if n:
            rows.append(_legend_row(f"{text} ({n})", kind="sk-nobase"))
    if note:
        rows.append(f'<div class="sk-note" style="margin-top:4px;white-space:normal;font-size:12px;color:#444">'
                    f"{html.escape(note)}</div>")
    return (f'<div class="sk-legend-title" style="font-weight:600;margin-bottom:4px">{html.escape(title)}</div>'
            + "".join(rows))


def legend_entries(values: pd.Series, *, scheme: str = "quantiles", k: int = 5, decimals: int = 0, unit: str = "",
                   higher_is_need: bool | None = None, bins=None,
                   missing_label: str = MISSING_LABEL) -> list[tuple[str, str]]:
    """The legend of a choropleth as data: ``(colour, label)`` per class, then the missing values.

    The same classes, colours and labels as :func:`choropleth_map` draws for these values, e.g. for
    ``mapping.static_map.static_map_png(legend=...)``; missing values get ``MISSING_FILL`` and
    ``missing_label`` with their count.

    Parameters
    ----------
    values : Series
        The key figure per area (NaN: missing).
    scheme, k, decimals, unit, higher_is_need, bins
        As for :func:`choropleth_map`.
    missing_label : str
        Text of the missing-value entry.

    Returns
    -------
    list of (str, str)
        ``(colour, label)`` per class, then one entry for the missing values if there are any.
    """
    values = pd.to_numeric(values, errors="coerce").astype(float)
    bins, classes = classify_values(values, scheme=scheme, k=k, bins=bins, decimals=decimals)
    colours = _palette(len(bins), bool(higher_is_need))
    minimum = float(values.min()) if values.notna().any() else None
    entries = list(zip(colours, class_labels(bins, minimum, decimals=decimals, unit=unit), strict=True))
    n_missing = int((classes < 0).sum())
    if n_missing:
        entries.append((MISSING_FILL, f"{missing_label} ({n_missing})"))
    return entries


def _script_json(value) -> str:
    """A JS literal of ``value`` that is safe inside a <script> element and branca's second Jinja pass."""
    # No "<" at all (so no text can close or open a script element), and no "&", ">" or "'" either.
    text = (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("'", "\\u0027"))
    # Braces as JS escapes: the rendered script is compiled as a Jinja template once more.
    return text.replace("{", "\\u007b").replace("}", "\\u007d")


_TITLE_DIV = re.compile(r'^<div class="sk-legend-title"[^>]*>(.*?)</div>', flags=re.S)


class _Legend(MacroElement):
    """A collapsible Leaflet control (``<details>``) holding pre-escaped legend HTML.

    The summary line is the legend's own title (its leading ``sk-legend-title`` div, hidden in the
    body) or "Legenda"; clicking it folds or unfolds the classes. Open, the body scrolls inside at most
    ``LEGEND_MAX_SHARE`` of the map's height. Clicks and wheel turns on the legend do not reach the map.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .sk-legend { background: rgba(255,255,255,0.95); padding: 4px 8px; border-radius: 4px;
          box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 13px/1.4 "Source Sans Pro", Arial,
          sans-serif; color: #222; max-width: 260px; }
        .sk-legend summary { cursor: pointer; font-weight: 600; padding: 2px 0; }
        .sk-legend details.sk-titled .sk-legend-body > .sk-legend-title { display: none; }
        .sk-legend-body { overflow-y: auto; padding: 2px 4px 4px 0; }
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
            var map = {{ this._parent.get_name() }};
            var legend = L.control({position: {{ this.position_json }}});
            legend.onAdd = function () {
                var box = L.DomUtil.create('div', 'sk-legend');
                L.DomEvent.disableClickPropagation(box);
                L.DomEvent.disableScrollPropagation(box);
                var details = L.DomUtil.create('details', {{ this.details_class_json }}, box);
                var summary = L.DomUtil.create('summary', 'sk-legend-summary', details);
                summary.textContent = {{ this.summary_json }};
                summary.title = 'Legenda tonen of verbergen';
                var div = L.DomUtil.create('div', 'sk-legend-body', details);
                div.innerHTML = {{ this.html_json }};
                details.open = {{ this.open_json }};
                function limit() {
                    var height = map.getSize().y;
                    if (height > 0) {
                        var room = Math.floor(height * {{ this.max_share }}) - summary.offsetHeight - 12;
                        div.style.maxHeight = Math.max(40, room) + 'px';
                    }
                }
                details.addEventListener('toggle', limit);
                map.on('resize', limit);
                window.setTimeout(limit, 0);
                limit();
                return box;
            };
            legend.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, legend_html: str, *, open: bool = True, position: str = "bottomright",  # noqa: A002
                 summary: str | None = None) -> None:
        super().__init__()
        self._name = "Legend"
        # json.dumps makes it a JS string literal; "</" is broken up so that no text can
        # close the surrounding <script> element.
        self.html_json = _script_json(legend_html)
        title = _TITLE_DIV.match(legend_html)
        if summary is None and title is not None:
            summary = html.unescape(title.group(1))  # plain text again: it goes into textContent
        self.summary_json = _script_json(summary or "Legenda")
        self.details_class_json = json.dumps("sk-legend-details" + (" sk-titled" if title is not None else ""))
        self.open_json = "true" if open else "false"
        self.position_json = json.dumps(position)
        self.max_share = float(LEGEND_MAX_SHARE)


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (folium's ``control_scale`` also shows miles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false, position: 'bottomleft', maxWidth: 120})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


class _Credit(MacroElement):
    """The source of the boundaries in Leaflet's attribution control, without Leaflet's link prefix."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>.leaflet-container .leaflet-control-attribution { font-size: 10px; line-height: 1.3; }</style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var control = {{ this._parent.get_name() }}.attributionControl;
            if (control) {
                control.setPrefix(false);
                control.addAttribution({{ this.credit_json }});
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, credit: str) -> None:
        super().__init__()
        self._name = "Credit"
        self.credit_json = _script_json(escape_html(credit))  # the control puts it into innerHTML


class _ZoomLabels(MacroElement):
    """Area names as labels (divIcons of class ``sk-label``, not interactive) from a zoom level on.

    Labels are made lazily, only for the areas in view once the map is zoomed in that far (so a map of
    thousands of buurten does not get thousands of labels), and shown through a class on the map
    container that is toggled on ``zoomend``. The names in the features are already HTML-escaped.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .sk-label { background: none; border: 0; pointer-events: none; }
        .sk-label-text { position: absolute; left: 0; top: 0; transform: translate(-50%, -50%);
          color: #1a1a1a; font: 600 11px/1.2 "Source Sans Pro", Arial, sans-serif; white-space: nowrap;
          text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; pointer-events: none; }
        .leaflet-container:not(.sk-labels-on) .sk-label { display: none; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var geo = {{ this.layer.get_name() }};
            var minZoom = {{ this.min_zoom }};
            var el = map.getContainer();
            function update() {
                var on = map.getZoom() >= minZoom && map.hasLayer(geo);
                if (on) { L.DomUtil.addClass(el, 'sk-labels-on'); } else { L.DomUtil.removeClass(el, 'sk-labels-on'); }
                if (!on) { return; }
                var view = map.getBounds().pad(0.25);
                geo.eachLayer(function (layer) {
                    var p = layer.feature && layer.feature.properties;
                    if (!p || layer._skLabel || !p.lp) { return; }
                    var at = L.latLng(p.lp[0], p.lp[1]);
                    if (!view.contains(at)) { return; }
                    var text = document.createElement('span');
                    text.className = 'sk-label-text';
                    text.innerHTML = p.name;  // HTML-escaped in Python: shows the name as text
                    layer._skLabel = L.marker(at, {
                        icon: L.divIcon({className: 'sk-label', html: text, iconSize: [0, 0]}),
                        interactive: false, keyboard: false,
                    }).addTo(map);
                });
            }
            map.on('zoomend moveend overlayadd overlayremove', update);
            map.whenReady(update);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: folium.GeoJson, min_zoom: int) -> None:
        super().__init__()
        self._name = "ZoomLabels"
        self.layer = layer  # named at render time: st_folium renames the elements
        self.min_zoom = int(min_zoom)


class _FitWhenShown(MacroElement):
    """Fit the map to its areas again whenever its container gets (another) size, until it is moved otherwise.

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
            var fitting = false;
            ['mousedown', 'touchstart', 'wheel', 'keydown'].forEach(function (kind) {
                el.addEventListener(kind, function () { touched = true; }, {passive: true});
            });
            // A move that is not this fit (the page zooming to a searched or shared area, a popup panning
            // into view) counts as touched too: the map keeps that view instead of fitting back.
            map.on('moveend', function () { if (!fitting) { touched = true; } });
            function fit() {
                if (el.clientWidth > 0 && el.clientHeight > 0) {
                    fitting = true;
                    try {
                        map.invalidateSize(false);
                        if (!touched) { map.fitBounds(bounds, {animate: false}); }
                    } finally {
                        fitting = false;
                    }
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


class _RawScript(Element):
    """Script text rendered as it is (what branca's ``Element(text)`` gives for text without Jinja syntax)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text[:-1] if text.endswith("\n") else text  # Jinja drops one trailing newline too

    def render(self, **kwargs) -> str:
        return self._text


class _AreasGeoJson(folium.GeoJson):
    """folium's GeoJson whose features are shared by its deep copies (st_folium gets a copy of the cached map).

    The features are never changed once the map is built (no style function), so a copy needs only its own
    element ids: copying 14.500 buurten feature by feature took longer than building them.
    """

    def render(self, **kwargs):
        """folium's GeoJson.render, but the layer's script (megabytes of features) goes into the page as it is.

        branca compiles every element's script as a Jinja template once more (``Element(text)``): for a national
        map that is most of the render time, and it is no more than a copy (the text holds no Jinja syntax: every
        name and code is escaped with :func:`escape_braces`).
        """
        if self.style or self.highlight or getattr(self, "includes", None):  # not used here: folium's own way
            return super().render(**kwargs)
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)
        if self.show:  # folium.map.Layer.render
            self.add_child(ElementAddToElement(element_name=self.get_name(),
                                               element_parent_name=self._parent.get_name()),
                           name=self.get_name() + "_add")
        figure = self.get_root()
        script = self._template.module.__dict__["script"]
        figure.script.add_child(_RawScript(str(script(self, kwargs))), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)

    def __deepcopy__(self, memo):
        memo[id(self.data)] = self.data
        clone = self.__class__.__new__(self.__class__)
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone


def _value_texts(values: pd.Series, status: pd.Series, *, decimals: int, unit: str) -> np.ndarray:
    """:func:`data.formatting.format_value` per area, formatted once per distinct (value, status)."""
    pairs = pd.DataFrame({"v": values.to_numpy(dtype=float), "s": status.astype(object).to_numpy()})
    pairs["s"] = pairs["s"].where(pairs["v"].isna())  # the status only matters where the value is missing
    codes, uniques = pd.MultiIndex.from_frame(pairs).factorize()
    texts = np.array([format_value(v, decimals=decimals, unit=unit, status=s if isinstance(s, str) else None)
                      for v, s in uniques], dtype=object)
    return texts[codes]


def feature_collection_json(geometries: np.ndarray, properties: pd.DataFrame) -> str:
    """A GeoJSON FeatureCollection as text, assembled from whole columns (no Python work per feature).

    Parameters
    ----------
    geometries : array of shapely geometries
        In WGS84, already rounded; None or empty becomes ``null`` (as geopandas writes it).
    properties : DataFrame
        One row per geometry; the values must be JSON-able (text, numbers, booleans, lists, None).

    Returns
    -------
    str
        ``{"type": "FeatureCollection", "features": [...]}`` with ``type``, ``properties`` and ``geometry``
        per feature. Text is JSON-escaped only: folium escapes the whole collection for the script element.
    """
    geoms = np.asarray(geometries, dtype=object)
    if len(geoms) == 0:
        return '{"type": "FeatureCollection", "features": []}'
    shapes = pd.Series(shapely.to_geojson(geoms), dtype=object)
    shapes = shapes.where(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)), "null")
    props = pd.Series(properties.to_json(orient="records", lines=True).rstrip("\n").split("\n"), dtype=object)
    features = '{"type":"Feature","properties":' + props + ',"geometry":' + shapes + "}"
    return '{"type":"FeatureCollection","features":[' + ",".join(features.tolist()) + "]}"


def _wgs84(areas: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The geometries in WGS84; without a CRS they are taken as RD New (the store's CRS)."""
    geoms = areas.geometry
    return (geoms.set_crs(28992) if geoms.crs is None else geoms).to_crs(4326)


def _one_area(areas: gpd.GeoDataFrame, code: str, code_col: str) -> gpd.GeoDataFrame:
    if code_col not in areas.columns:
        raise DataValidationError(f"Kolom '{code_col}' ontbreekt in de gebieden.", column=code_col)
    return areas.loc[areas[code_col].astype(str).to_numpy() == str(code)]


def highlight_layer(areas: gpd.GeoDataFrame, code: str | None, *, code_col: str = "area_code") -> folium.FeatureGroup:
    """The outline of one area as its own layer "Gekozen gebied", to put on top of a choropleth.

    Thick and near-black, without fill and not interactive (clicks and hovers reach the areas below),
    in WGS84. Meant for ``st_folium(..., feature_group_to_add=highlight_layer(...))``: the page
    highlights a clicked or searched area without building or sending the whole map again.

    Parameters
    ----------
    areas : GeoDataFrame
        The areas of the map, any CRS (none: RD New).
    code : str, optional
        The area to outline; None or an unknown code gives an empty layer.
    code_col : str
        Column with the area codes.

    Returns
    -------
    folium.FeatureGroup
        Holds one GeoJson with (at most) one feature, whose property ``code`` is the area code.
    """
    group = folium.FeatureGroup(name=HIGHLIGHT_NAME)
    if code is None:
        return group
    chosen = _one_area(areas, code, code_col)
    if chosen.empty:
        return group
    geom = shapely.set_precision(_wgs84(chosen.iloc[:1]).to_numpy()[0], 1e-6)
    data = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "sk-highlight",
        "properties": {"code": escape_braces(str(code))},
        "geometry": shapely.geometry.mapping(geom),
    }]}
    folium.GeoJson(data, name=HIGHLIGHT_NAME, style_function=lambda _feature: dict(HIGHLIGHT_STYLE),
                   interactive=False, control=False, zoom_on_click=False).add_to(group)
    return group


def area_bounds(areas: gpd.GeoDataFrame, code: str, *, code_col: str = "area_code") -> list[list[float]]:
    """Bounds of one area as Leaflet wants them: ``[[south, west], [north, east]]`` in WGS84.

    Parameters
    ----------
    areas : GeoDataFrame
        The areas, any CRS (none: RD New).
    code : str
        The area, e.g. one found by a search, to zoom to (``fit_bounds``).
    code_col : str
        Column with the area codes.

    Returns
    -------
    list of list of float
        ``[[south, west], [north, east]]``.

    Raises
    ------
    DataValidationError
        When no area has this code (Dutch message).
    """
    chosen = _one_area(areas, code, code_col)
    if chosen.empty:
        raise DataValidationError(f"Gebied '{code}' is niet gevonden.")
    west, south, east, north = _wgs84(chosen).total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]


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
    initiatives: gpd.GeoDataFrame | None = None,
    bins=None,
    value_labels: pd.Series | None = None,
    few_status: str | None = None,
    missing_label: str = MISSING_LABEL,
    legend_note: str | None = None,
    legend: str = "inside",
    labels_from_zoom: int | None = 14,
    credit: str | None = MAP_CREDIT,
    geometries: np.ndarray | None = None,
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
        Area drawn with a thick outline (also as the layer of :func:`highlight_layer`, on top).
    status : Series, optional
        Per area (aligned with ``areas``) why a value is missing ('geheim', 'onbekend'); areas
        with 'geen_inwoners'/'geen_huishoudens' (a rate without a base) are drawn white and
        counted apart in the legend.
    provisions : GeoDataFrame, optional
        Collective provisions to show as a layer per type on top of the areas.
    initiatives : GeoDataFrame, optional
        Residents' initiatives (points) drawn as a layer of their own (mapping/initiatives.py).
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
    legend : {'inside', 'outside'}
        'inside': a collapsible legend in the bottom-right corner, folded at first on maps lower than
        ``LEGEND_FOLDED_BELOW_PX`` (e.g. 460 px), open otherwise, and never higher than about 40% of the
        map (it scrolls). 'outside': no legend on the map; the page shows ``m.legend_html`` beside it.
    labels_from_zoom : int, optional
        From this zoom level on, area names appear on the map (only for the areas in view); None: never.
    credit : str, optional
        Source of the boundaries in the attribution control (default CBS / Kadaster); None: none.
    geometries : array of shapely geometries, optional
        The areas' geometries already made for the browser (WGS84, simplified and rounded: what
        :func:`mapping.simplify.web_geometries` gives for ``areas.geometry`` and ``simplify_m``), aligned
        with ``areas``, e.g. from the store's cache (:func:`mapping.simplify.cached_web_geometries`);
        None: simplified here.

    Returns
    -------
    folium.Map
        A map that loads only the app's own Leaflet files, one SVG path per area (drawn on one canvas
        from ``CANVAS_FROM_AREAS`` areas on), with a metric scale bar. Its attribute ``legend_html`` holds
        the legend as escaped, self-contained HTML (inline styles), whether or not it is drawn on the map.
    """
    for col in (column, code_col, name_col):
        if col not in areas.columns:
            raise DataValidationError(f"Kolom '{col}' ontbreekt in de gebieden.", column=col)
    if tiles not in TILE_SOURCES:
        raise DataValidationError(f"Onbekende achtergrondkaart '{tiles}'.")
    if areas.empty:
        raise DataValidationError("Er zijn geen gebieden om te tonen. Importeer eerst gebieden.")
    if legend not in LEGEND_POSITIONS:
        raise DataValidationError(f"Onbekende plaats voor de legenda '{legend}'; "
                                  f"kies uit {', '.join(LEGEND_POSITIONS)}.")

    values = pd.to_numeric(areas[column], errors="coerce").astype(float)
    bins, classes = classify_values(values, scheme=scheme, k=k, bins=bins, decimals=decimals)
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
    value_text = _value_texts(values, status, decimals=decimals, unit=unit)
    if value_labels is not None:
        labels = value_labels.reindex(areas.index)
        own = labels.map(lambda t: isinstance(t, str) and bool(t)).to_numpy(dtype=bool)
        value_text = np.where(own, labels.astype(object).to_numpy(), value_text)
    if geometries is None:
        geometries = web_geometries(areas.geometry.to_crs(28992).to_numpy(), tolerance_m=simplify_m)
    else:
        geometries = np.asarray(geometries, dtype=object)
        if len(geometries) != len(areas):
            raise ValueError(f"{len(geometries)} geometries for {len(areas)} areas")
    # Where a name label goes: a point inside the area (a centroid can fall outside a bent buurt).
    label_at = shapely.point_on_surface(geometries)
    label_x, label_y = shapely.get_x(label_at), shapely.get_y(label_at)  # NaN for an empty geometry
    label_lp = pd.Series(np.round(np.c_[label_y, label_x], 5).tolist(), dtype=object).where(~np.isnan(label_x), None)
    properties = pd.DataFrame({
        # Not shown, but it goes through the same Jinja pass (a code with braces no longer round-trips).
        "code": areas[code_col].astype(str).map(escape_braces).to_numpy(dtype=object),
        "name": areas[name_col].astype(str).map(escape_html).to_numpy(dtype=object),
        "value_text": pd.Series(value_text, dtype=object).map(escape_html).to_numpy(dtype=object),
        "fill": fill,
        "missing": classes.to_numpy() < 0,
        "few": few,
        "lp": label_lp.to_numpy(),  # [lat, lon]
    })
    if selected_code is not None:
        properties["selected"] = properties["code"] == selected_code
    minx, miny, maxx, maxy = shapely.total_bounds(geometries)
    m = local_map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12, tiles=None,
                  control_scale=False, height=height, prefer_canvas=len(areas) >= CANVAS_FROM_AREAS)
    source = TILE_SOURCES[tiles]
    if source is not None:
        folium.TileLayer(tiles=source["tiles"], attr=source["attr"], name=source["name"],
                         max_zoom=19).add_to(m)

    layer = _AreasGeoJson(
        feature_collection_json(geometries, properties),
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
    legend_html = _legend_html(
        label, bins, colours, float(values.min()) if values.notna().any() else None,
        decimals=decimals, unit=unit, n_missing=int(((classes < 0).to_numpy() & ~no_base & ~few).sum()),
        no_base={MISSING_LABELS[s]: int((no_base & status.isin([s]).to_numpy()).sum())
                 for s in NO_BASE_STATUS.values()},
        missing_label=missing_label, few=(few_status, int(few.sum())) if few_status is not None else None,
        note=legend_note,
    )
    if legend == "inside":
        m.add_child(_Legend(legend_html, open=height >= LEGEND_FOLDED_BELOW_PX))
    m.legend_html = f'<div class="sk-legend-panel" style="{_PANEL_STYLE}">{legend_html}</div>'
    if selected_code is not None:
        highlight_layer(areas, selected_code, code_col=code_col).add_to(m)
    if labels_from_zoom is not None:
        m.add_child(_ZoomLabels(layer, labels_from_zoom))
    m.add_child(_MetricScale())
    if credit:
        m.add_child(_Credit(credit))
    has_provisions = provisions is not None and not provisions.empty
    has_initiatives = initiatives is not None and not initiatives.empty
    if has_provisions:
        from mapping.provisions import add_provision_layers

        add_provision_layers(m, provisions, provision_types)
    if has_initiatives:  # residents' initiatives of the wijkagenda (issue 17): a layer of their own
        from mapping.initiatives import initiatives_layer

        initiatives_layer(initiatives, buurten=areas if "area_code" in areas else None).add_to(m)
    if has_provisions or has_initiatives:
        folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    m.add_child(_FitWhenShown([[miny, minx], [maxy, maxx]]))
    return m

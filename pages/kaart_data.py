"""What the Kaart page shows, apart from the widgets: one figure per area for a year (or per 1.000
inhabitants), the ranking of all areas, the shareable link, and the cached maps and searches.

The helpers at the top are plain pandas (tested in tests/test_kaart_data.py without Streamlit); the
loaders at the bottom cache per store file and its version, as pages/common.py does, so that a click
on the map re-uses everything and only the side panel is new.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from data.export import FMT_INT, decimals_format, explanation_frame
from data.formatting import MISSING_LABELS, NO_DATA
from data.indicators import BY_NAME, NO_BASE_STATUS
from pages.common import CACHE_ENTRIES

LEVELS = {"buurt": "Buurten", "wijk": "Wijken"}
DEFAULT_INDICATOR = "percentage_personen_65_jaar_en_ouder"
INHABITANTS = "aantal_inwoners"
PER_1000_DECIMALS = 1
PAGE_PATH = "kaart"
# The query parameters of a shared link (Dutch, as users read them in the address bar).
PARAM_LEVEL, PARAM_FIGURE, PARAM_AREA, PARAM_YEAR, PARAM_PER_1000 = "niveau", "kerncijfer", "gebied", "jaar", "per1000"
RANK, NAME, CODE, STATUS = "Rang", "Gebied", "Gebiedscode", "Status"
SMALL_MULTIPLES_MAX = 4


# --------------------------------------------------------------------------- the figure shown

@dataclass(frozen=True)
class KaartView:
    """What the Kaart page shows: level, key figure, chosen area, year (None: newest) and per 1.000."""

    level: str = "buurt"
    indicator: str = DEFAULT_INDICATOR
    area: str | None = None
    year: int | None = None
    per_1000: bool = False


def per_1000_allowed(indicator: str) -> bool:
    """Whether a key figure is a count of people or households that can be shown per 1.000 inhabitants.

    Only counts (aggregation ``sum``) without a unit of their own: not the inhabitants themselves and
    not areas in hectares.
    """
    ind = BY_NAME.get(indicator)
    return ind is not None and ind.aggregation == "sum" and ind.unit == "" and ind.name != INHABITANTS


def per_1000(counts: pd.Series, inhabitants: pd.Series) -> pd.Series:
    """``counts / inhabitants * 1000``, missing where the inhabitants are 0 or missing (never a division by 0).

    Parameters
    ----------
    counts, inhabitants : Series
        Aligned on the same index (one row per area).

    Returns
    -------
    Series
        Float, NaN where a count or the inhabitants are missing or the inhabitants are not positive.
    """
    counts = pd.to_numeric(counts, errors="coerce").astype(float)
    base = pd.to_numeric(inhabitants, errors="coerce").astype(float).reindex(counts.index)
    base = base.where(base > 0)
    return counts / base * 1000.0


def figure_text(indicator: str, *, per_1000_on: bool = False, year: int | None = None) -> tuple[str, str, int]:
    """Label (with the year when given), unit and decimals of the figure as shown on the map and in the ranking."""
    ind = BY_NAME[indicator]
    label, unit, decimals = ind.label, ind.unit, ind.decimals
    if per_1000_on and per_1000_allowed(indicator):
        label, unit, decimals = f"{ind.label} per 1.000 inwoners", "per 1.000 inwoners", PER_1000_DECIMALS
    if year is not None:
        label = f"{label} ({year})"
    return label, unit, decimals


def header_text(label: str, unit: str) -> str:
    """A column header with its unit: 'Personen 65 jaar en ouder (2017) (%)' (a unit in the label is not repeated)."""
    return f"{label} ({unit})" if unit and unit not in label else label


def indicator_years(values: pd.DataFrame, codes, indicator: str) -> list[int]:
    """The years in which ``indicator`` is stored for any of the areas ``codes``, oldest first."""
    rows = values.loc[(values["indicator"] == indicator) & values["area_code"].isin(list(codes)), "year"]
    return sorted(int(y) for y in pd.to_numeric(rows, errors="coerce").dropna().unique())


def choose_year(years: list[int], wanted: int | None) -> int | None:
    """The wanted year when it is stored, else the newest (None when no year is stored)."""
    if not years:
        return None
    return wanted if wanted in years else years[-1]


def figure_values(values: pd.DataFrame, codes, indicator: str, *, year: int | None = None,
                  per_1000_on: bool = False) -> pd.DataFrame:
    """One key figure per area for one year: ``value`` and ``status`` (why it is missing), in the order of ``codes``.

    Parameters
    ----------
    values : DataFrame
        Key figures in long form (area_code, indicator, year, value, status), as the store reads them.
    codes : sequence of str
        The areas, in the order the result should have.
    indicator : str
        The key figure.
    year : int, optional
        The year; default the newest year in which the figure is stored for these areas.
    per_1000_on : bool
        Divide a count by the inhabitants of the same area and year, times 1.000
        (:func:`per_1000_allowed`); an area without inhabitants gets status 'geen_inwoners',
        one whose inhabitants are secret or unknown gets their status.

    Returns
    -------
    DataFrame
        Index ``codes``; columns ``value``, ``status`` (None where the value is known) and ``year``.
    """
    codes = pd.Index(list(codes), name="area_code")
    year = choose_year(indicator_years(values, codes, indicator), year)

    def one(name: str) -> pd.DataFrame:
        rows = values.loc[(values["indicator"] == name) & values["area_code"].isin(codes)]
        if year is not None:
            rows = rows.loc[pd.to_numeric(rows["year"], errors="coerce") == year]
        rows = rows.drop_duplicates("area_code", keep="last").set_index("area_code")
        return pd.DataFrame({"value": pd.to_numeric(rows["value"], errors="coerce").astype(float),
                             "status": rows["status"].astype(object)}).reindex(codes)

    out = one(indicator)
    if per_1000_on and per_1000_allowed(indicator):
        base = one(INHABITANTS)
        rate = per_1000(out["value"], base["value"])
        status = out["status"].where(out["value"].isna())
        zero = base["value"].eq(0) & out["value"].notna()
        status = status.mask(zero, NO_BASE_STATUS[INHABITANTS])
        status = status.mask(out["value"].notna() & base["value"].isna(), base["status"])
        out = pd.DataFrame({"value": rate, "status": status})
    out["status"] = out["status"].where(out["value"].isna() & out["status"].notna(), None).astype(object)
    out["year"] = pd.array([year] * len(out), dtype="Int64")
    return out


def status_text(status: pd.Series, value: pd.Series) -> pd.Series:
    """Dutch text of why a value is missing ('geheim', 'geen inwoners', 'geen gegevens'); empty where known."""
    text = status.map(lambda s: MISSING_LABELS.get(s, s) if isinstance(s, str) and s else NO_DATA)
    return text.where(value.isna(), "").astype(object)


def ranking_frame(areas: pd.DataFrame, figure: pd.DataFrame, *, header: str,
                  decimals: int = 0) -> pd.DataFrame:
    """All areas ranked by the figure, highest first; areas without a value last, without a rank.

    Parameters
    ----------
    areas : DataFrame
        ``area_code`` and ``name``.
    figure : DataFrame
        From :func:`figure_values` (index area_code; value, status).
    header : str
        The header of the value column, with its unit (:func:`header_text`).
    decimals : int
        The value is rounded to what the map shows, so equal values share a rank ('1, 2, 2, 4').

    Returns
    -------
    DataFrame
        Columns Rang (Int64), Gebied, Gebiedscode, ``header`` (float) and Status (text, empty where known).
    """
    fig = figure.reindex(areas["area_code"].to_numpy())
    value = fig["value"].round(decimals).to_numpy()
    out = pd.DataFrame({
        RANK: pd.array(pd.Series(value).rank(method="min", ascending=False).to_numpy(), dtype="Float64"
                       ).astype("Int64"),
        NAME: areas["name"].astype(str).to_numpy(),
        CODE: areas["area_code"].astype(str).to_numpy(),
        header: fig["value"].to_numpy(dtype=float),
        STATUS: status_text(fig["status"].reset_index(drop=True), pd.Series(value)).to_numpy(),
    })
    known = out[RANK].notna().to_numpy()
    order = np.lexsort((out[NAME].str.lower().to_numpy(), out[RANK].fillna(len(out) + 1).to_numpy(), ~known))
    return out.iloc[order].reset_index(drop=True)


def ranking_export(ranking: pd.DataFrame, *, indicator: str, header: str, unit: str, decimals: int,
                   level: str, per_1000_on: bool = False) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, str]]]:
    """The sheets and number formats of the ranking's Excel download (a 'Toelichting' sheet explains every column)."""
    ind = BY_NAME[indicator]
    sheet = "Ranglijst"
    formats = {sheet: {RANK: FMT_INT, header: decimals_format(decimals)}}
    if unit == "%":
        formats[sheet][header] = '0"%"' if decimals <= 0 else "0." + "0" * decimals + '"%"'
    per = per_1000_on and per_1000_allowed(indicator)
    meaning = f"{ind.label} gedeeld door het aantal inwoners, maal 1.000" if per else ind.label
    explanation = explanation_frame([
        (sheet, RANK, f"Plaats van het gebied onder alle {LEVELS[level].lower()}, hoogste waarde eerst; gelijke "
                      "waarden delen een plaats; zonder waarde geen plaats", "", ""),
        (sheet, NAME, "Naam van het gebied", "", ind.source),
        (sheet, CODE, "CBS-gebiedscode", "", ind.source),
        (sheet, header, meaning, unit, ind.source),
        (sheet, STATUS, "Waarom de waarde ontbreekt: geheim (CBS maakt haar niet bekend), geen inwoners, "
                        "geen gegevens; leeg als de waarde bekend is", "", ind.source),
    ])
    return {sheet: ranking, "Toelichting": explanation}, formats


# --------------------------------------------------------------------------- the shareable link

def view_params(view: KaartView) -> dict[str, str]:
    """The query parameters of a view (only what differs from 'nothing chosen')."""
    params = {PARAM_LEVEL: view.level, PARAM_FIGURE: view.indicator}
    if view.area:
        params[PARAM_AREA] = view.area
    if view.year is not None:
        params[PARAM_YEAR] = str(int(view.year))
    if view.per_1000 and per_1000_allowed(view.indicator):
        params[PARAM_PER_1000] = "1"
    return params


def _first(value) -> str | None:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return None if value is None else str(value).strip()


def parse_view_params(params: Mapping, *, indicators, codes=None, default: KaartView | None = None) -> KaartView:
    """Read a view from query parameters; anything unknown or malformed falls back to ``default``.

    Parameters
    ----------
    params : mapping
        ``st.query_params`` or a dict (values may be lists, as in ``parse_qs``).
    indicators : collection of str
        The key figures the store has (a figure it has not is ignored).
    codes : mapping of level to collection of str, optional
        The area codes per level; an area that is not there is ignored.
    default : KaartView, optional
        The view without parameters.

    Returns
    -------
    KaartView
    """
    view = default or KaartView()
    level = _first(params.get(PARAM_LEVEL))
    if level in LEVELS:
        view = replace(view, level=level, area=None if level != view.level else view.area)
    figure = _first(params.get(PARAM_FIGURE))
    if figure in set(indicators):
        view = replace(view, indicator=figure)
    area = _first(params.get(PARAM_AREA))
    if area and (codes is None or area in set(codes.get(view.level, ()))):
        view = replace(view, area=area)
    year = _first(params.get(PARAM_YEAR))
    if year and year.isdigit() and len(year) == 4:
        view = replace(view, year=int(year))
    flag = _first(params.get(PARAM_PER_1000))
    if flag is not None:
        view = replace(view, per_1000=flag.lower() in ("1", "ja", "true") and per_1000_allowed(view.indicator))
    return view


def share_link(base_url: str, view: KaartView, *, page: str = PAGE_PATH) -> str:
    """The address that reopens ``view``: ``<base>/kaart?niveau=buurt&kerncijfer=...&gebied=BU...``.

    ``page=""`` gives the app's own address (``<base>/?niveau=...``): the Kaart is its default page.
    """
    path = f"/{page.strip('/')}" if page.strip("/") else "/"
    return f"{base_url.rstrip('/')}{path}?{urlencode(view_params(view))}"


# --------------------------------------------------------------------------- search (name, postcode)

def search_areas(query: str, areas: pd.DataFrame, postcodes: pd.DataFrame | None) -> pd.DataFrame:
    """Areas that match a name (part) or postcode, best first (:func:`data.postcodes.search_areas`).

    Columns area_code, name, level, match.
    """
    from data.postcodes import search_areas as search

    return search(query, areas, postcodes)


def is_pc6(query: str) -> bool:
    """Whether the text is a full postcode (four digits and two letters, a space allowed)."""
    text = str(query or "").replace(" ", "").upper()
    return len(text) == 6 and text[:4].isdigit() and text[4:].isalpha()


def not_found_text(query: str, *, pc6_table: bool) -> str:
    """The Dutch message when a search found nothing, with how to search a full postcode without the table."""
    text = (f"Niets gevonden voor '{query.strip()}'. Zoek op (een deel van) de naam of op een postcode "
            "(1234 of 1234 AB).")
    if is_pc6(query) and not pc6_table:
        text += (" Voor zes-cijferige postcodes (1234 AB) is een tabel postcode → buurt nodig; de beheerder kan die "
                 "importeren op de pagina Beheer. Met alleen de vier cijfers zoekt u op de meest voorkomende postcode "
                 "van de buurt (CBS).")
    return text


# --------------------------------------------------------------------------- cached loaders (Streamlit)

@st.cache_data(show_spinner=False, max_entries=64)
def _figure(path: str, mtime: float, level: str, indicator: str, year: int | None, per_1000_on: bool) -> pd.DataFrame:
    from pages.common import _area_values, _areas

    areas = _areas(path, mtime, level)
    return figure_values(_area_values(path, mtime), areas["area_code"], indicator, year=year, per_1000_on=per_1000_on)


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _years(path: str, mtime: float, level: str, indicator: str) -> list[int]:
    from pages.common import _area_values, _areas

    return indicator_years(_area_values(path, mtime), _areas(path, mtime, level)["area_code"], indicator)


def _key() -> tuple[str, float]:
    from pages.common import _version, get_store

    store = get_store()
    return store.location, _version(store)


def load_years(level: str, indicator: str) -> list[int]:
    """The years in which the figure is stored for this level, oldest first (cached)."""
    return _years(*_key(), level, indicator)


def load_figure(view: KaartView) -> pd.DataFrame:
    """:func:`figure_values` for the view (cached per store version)."""
    return _figure(*_key(), view.level, view.indicator, view.year, view.per_1000)


@st.cache_resource(show_spinner="De kaart wordt opgebouwd…", max_entries=48)
def _map(path: str, mtime: float, level: str, indicator: str, year: int | None, per_1000_on: bool, scheme: str,
         k: int, tiles: str, with_provisions: bool, height: int):
    from mapping.choropleth import choropleth_map
    from pages.common import _areas, _provision_types, _provisions

    areas = _areas(path, mtime, level)
    figure = _figure(path, mtime, level, indicator, year, per_1000_on)
    label, unit, decimals = figure_text(indicator, per_1000_on=per_1000_on, year=figure["year"].iloc[0]
                                        if len(figure) and pd.notna(figure["year"].iloc[0]) else None)
    shown = areas[["area_code", "name", "geometry"]].copy()
    shown["_figure"] = figure["value"].to_numpy()
    options = dict(label=label, unit=unit, decimals=decimals, higher_is_need=BY_NAME[indicator].higher_is_need,
                   scheme=scheme, k=k, tiles=tiles, status=pd.Series(figure["status"].to_numpy(), index=shown.index),
                   level_label="Buurt" if level == "buurt" else "Wijk", height=height,
                   provisions=_provisions(path, mtime) if with_provisions else None,
                   provision_types=_provision_types(path, mtime),
                   initiatives=_initiatives(path, mtime) if with_provisions else None)
    geometries = _web_geometries(path, mtime, level, areas)
    return choropleth_map(shown, "_figure", legend="outside", geometries=geometries, **options)


@st.cache_resource(show_spinner="De kaartgrenzen worden vereenvoudigd…", max_entries=8)
def _web_geometries(path: str, mtime: float, level: str, _areas_frame):
    """The areas of a level as the browser gets them (simplified, WGS84), made once per store version and kept in
    the store (:func:`mapping.simplify.cached_web_geometries`): every map of the level and every server re-uses them.
    Shared: never change the array."""
    from data.store_api import store_at
    from mapping.simplify import cached_web_geometries

    return cached_web_geometries(store_at(path), level, _areas_frame["area_code"].astype(str).to_numpy(),
                                 _areas_frame.geometry, data_version=int(mtime))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _initiatives(path: str, mtime: float):
    """Residents' initiatives (the wijkagenda's map layer; no person data, every role)."""
    from pages.common import _public

    return _public(path).read_table("initiatives")


def load_map(view: KaartView, *, scheme: str = "quantiles", k: int = 5, tiles: str = "geen",
             with_provisions: bool = True, height: int = 580):
    """The choropleth of the view with its legend outside the map (``m.legend_html``), a private copy.

    The map is built once per view and store version; st_folium rewrites the ids in the map it gets
    (and adds the highlight layer to it), so every run gets a copy of the cached one.
    """
    return copy.deepcopy(_map(*_key(), view.level, view.indicator, view.year, view.per_1000, scheme, k, tiles,
                              with_provisions, height))


def load_cached_map(view: KaartView, *, scheme: str = "quantiles", k: int = 5, tiles: str = "geen",
                    with_provisions: bool = True, height: int = 580):
    """The cached choropleth itself (shared by every session: never add to it or render it; see
    :func:`map_component`)."""
    return _map(*_key(), view.level, view.indicator, view.year, view.per_1000, scheme, k, tiles, with_provisions,
                height)


# What st_folium makes of a cached map, made once per map and key: (id(map), key) -> (cached map, parts).
_PARTS: dict[tuple[int, str], tuple[object, dict]] = {}
_PARTS_MAX = 64


def folium_parts(fmap, *, key: str, returned_objects: list[str] | None) -> dict:
    """The arguments st_folium (streamlit-folium 0.27) gives its component for ``fmap``, without the
    dynamic ones (feature_group, zoom, center, on_change).

    st_folium renders the whole map (every folium element compiled as a Jinja template: about 0,1 s for
    the demo with its provisions) on every run; for a cached map that never changes this is done once
    here, on a private copy, the same way st_folium does it (``tests/test_kaart_data.py`` compares the
    two). ``parts["map"]`` is that copy, rendered, to which the outline layer is attached per run.
    """
    import folium
    import streamlit_folium as sf
    from branca.colormap import ColorMap

    m = copy.deepcopy(fmap)  # cheap: the features are shared (mapping.choropleth._AreasGeoJson)
    m.get_root().render()  # st_folium renders the map a second time (m.render()); the parts are the same without
    html, header = sf._get_html(m), sf._get_header(m)
    leaflet = sf._get_map_string(m)
    m_id = sf.get_full_id(m)
    try:
        (south, west), (north, east) = m.get_bounds()
    except AttributeError:
        (south, west), (north, east) = (None, None), (None, None)
    defaults = {"last_clicked": None, "last_object_clicked": None, "last_object_clicked_count": None,
                "last_object_clicked_tooltip": None, "last_object_clicked_popup": None, "all_drawings": None,
                "last_active_drawing": None,
                "bounds": {"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}},
                "zoom": m.options.get("zoom") if hasattr(m, "options") else {},
                "last_circle_radius": None, "last_circle_polygon": None, "selected_layers": None,
                "selected_tags": None, "last_geocoder_result": None}
    defaults = {k: v for k, v in defaults.items() if returned_objects is None or k in returned_objects}

    def walk(element):
        if isinstance(element, (ColorMap, folium.elements.JSCSSMixin)):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    elements = list(walk(m))
    if any(isinstance(e, ColorMap) for e in elements):
        raise ValueError("a branca colormap would load d3 from a CDN")
    css = list(dict.fromkeys(href for e in elements for _, href in getattr(e, "default_css", [])))
    js = list(dict.fromkeys(src for e in elements for _, src in getattr(e, "default_js", [])))
    return {"map": m, "script": leaflet, "header": header, "html": html, "id": m_id,
            "key": sf.generate_js_hash(leaflet, key, False), "returned_objects": returned_objects,
            "default": defaults, "css_links": css, "js_links": js}


def map_component(fmap, *, key: str, height: int, returned_objects: list[str] | None = None,
                  feature_group_to_add=None, center=None, zoom=None, on_change=None):
    """``st_folium(fmap, key=..., use_container_width=True, ...)`` for a cached map, without rendering it again.

    Only the outline layer (``feature_group_to_add``) is rendered per run, so a click costs the layer, not
    the map. Returns what st_folium returns; ``st.session_state[key]`` holds it as st_folium keeps it.
    """
    import streamlit_folium as sf

    entry = _PARTS.get((id(fmap), key))
    if entry is None or entry[0] is not fmap:  # a new map (an id can be re-used once the old one is gone)
        if len(_PARTS) >= _PARTS_MAX:
            _PARTS.clear()
        entry = (fmap, folium_parts(fmap, key=key, returned_objects=returned_objects))
        _PARTS[(id(fmap), key)] = entry
    parts = dict(entry[1])
    base = parts.pop("map")
    group = None
    if feature_group_to_add is not None:
        group = sf._get_feature_group_string(copy.deepcopy(feature_group_to_add), map=base, idx=0)
    hash_key = parts["key"]

    def _changed():
        st.session_state[key] = st.session_state.get(hash_key, {})
        if on_change is not None:
            on_change()

    return sf._component_func(**parts, height=height, width=None, zoom=zoom, center=center, feature_group=group,
                              return_on_hover=False, layer_control=None, pixelated=False, on_change=_changed,
                              wrap_longitude=False)


def highlight(areas, code: str | None):
    """The outline of the chosen area as a layer for ``st_folium(feature_group_to_add=...)``, or None."""
    if not code or code not in set(areas["area_code"]):
        return None
    from mapping.choropleth import highlight_layer

    return highlight_layer(areas, code)


def bounds_of(areas, code: str) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of an area in WGS84 (for zooming to it), or None when it is unknown."""
    if not code or code not in set(areas["area_code"]):
        return None
    from mapping.choropleth import area_bounds

    return area_bounds(areas, code)


def zoom_for(bounds: list[list[float]], *, width_px: int = 700, height_px: int = 580) -> int:
    """The Web-Mercator zoom level at which ``bounds`` fill about half of a map of this size (12..17)."""
    (south, west), (north, east) = bounds
    lat = np.radians((south + north) / 2)
    span_x = max(east - west, 1e-6) / 360.0
    span_y = max(north - south, 1e-6) / 360.0 / max(np.cos(lat), 1e-6)
    zoom = np.log2(min(width_px / (256 * span_x), height_px / (256 * span_y)) * 0.5)
    return int(np.clip(np.floor(zoom), 12, 17))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _postcodes(path: str, mtime: float) -> pd.DataFrame | None:
    from data.errors import DataValidationError
    from data.sql import DATABASE_ERRORS
    from pages.common import _public

    try:
        table = _public(path).read_table("postcodes")
    except (KeyError, DataValidationError, *DATABASE_ERRORS, pd.errors.DatabaseError):  # no such table (yet)
        return None
    return pd.DataFrame(table.drop(columns="geometry", errors="ignore"))


def load_postcodes() -> pd.DataFrame | None:
    """The imported PC6 → buurt table, or None when there is none (cached)."""
    return _postcodes(*_key())


@st.cache_data(show_spinner=False, max_entries=32)
def _ranking(path: str, mtime: float, level: str, indicator: str, year: int | None, per_1000_on: bool
             ) -> tuple[pd.DataFrame, str, int, bytes, bytes]:
    from data.export import frame_to_csv_bytes, frames_to_excel_bytes
    from pages.common import _areas

    areas = _areas(path, mtime, level)
    figure = _figure(path, mtime, level, indicator, year, per_1000_on)
    shown_year = figure["year"].iloc[0] if len(figure) and pd.notna(figure["year"].iloc[0]) else None
    label, unit, decimals = figure_text(indicator, per_1000_on=per_1000_on, year=shown_year)
    header = header_text(label, unit)
    ranking = ranking_frame(areas, figure, header=header, decimals=decimals)
    sheets, formats = ranking_export(ranking, indicator=indicator, header=header, unit=unit, decimals=decimals,
                                     level=level, per_1000_on=per_1000_on)
    return ranking, header, decimals, frames_to_excel_bytes(sheets, number_formats=formats), \
        frame_to_csv_bytes(ranking)


def load_ranking(view: KaartView) -> tuple[pd.DataFrame, str, int, bytes, bytes]:
    """The ranking of all areas for the view: (frame, value header, decimals, Excel bytes, CSV bytes), cached."""
    return _ranking(*_key(), view.level, view.indicator, view.year, view.per_1000)


@st.cache_data(show_spinner=False, max_entries=256)
def _profile(path: str, mtime: float, code: str, year: int | None):
    from data.profile import area_profile
    from pages.common import _area_index, _area_values

    return area_profile(_area_values(path, mtime), _area_index(path, mtime), code, year=year)


def load_profile(code: str, year: int | None = None):
    """:func:`data.profile.area_profile` of one area (cached: a second click on it costs nothing)."""
    return _profile(*_key(), code, year)

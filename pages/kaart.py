"""Kaart: buurten or wijken coloured by one key figure; a click shows the area's profile.

The map and its side panel are one fragment (a click or a search reruns only them); the chosen area is
an outline layer added to the cached map (st_folium ``feature_group_to_add``), so the map is not rebuilt.
The address bar holds the view (``?niveau=&kerncijfer=&gebied=&jaar=&per1000=``) to share it.
"""

import functools

import streamlit as st

from data.errors import DataValidationError
from data.indicators import BY_NAME
from mapping.choropleth import SCHEMES, TILE_LABELS, default_tiles
from pages import kaart_data as kd
from pages.common import (
    load_area_index,
    load_areas,
    log_export,
    md,
    show_error,
    stop_without_areas,
)

LEVELS = kd.LEVELS
DEFAULT_INDICATOR = kd.DEFAULT_INDICATOR
MAP_HEIGHT = 580
SMALL_HEIGHT = 320
ss = st.session_state


def _area_key(level: str) -> str:
    return f"kaart_gebied_{level}"


def apply_link(index) -> None:
    """A shared link (``?niveau=buurt&kerncijfer=...&gebied=...``) sets the widgets once, before they are made."""
    params = st.query_params.to_dict()
    if not params or params == ss.get("kaart_link"):
        return
    codes = {lvl: set(index.loc[index["level"] == lvl, "area_code"]) for lvl in LEVELS}
    view = kd.parse_view_params(params, indicators=BY_NAME, codes=codes)
    ss["kaart_niveau"] = view.level
    if kd.PARAM_FIGURE in params:
        ss["kaart_kerncijfer"] = view.indicator
    if view.year is not None:
        ss["kaart_jaar"] = view.year
    ss["kaart_per1000"] = view.per_1000
    if view.area:
        ss[_area_key(view.level)] = view.area
        ss["kaart_zoom_wacht"] = view.area  # zoomed to once the map's areas are loaded
    ss["kaart_link"] = params


def zoom_to(level: str, areas, code: str | None) -> None:
    """Let the map show ``code`` big enough to read (after a search or a choice in the list)."""
    bounds = kd.bounds_of(areas, code) if code else None
    if bounds is None:
        return
    (south, west), (north, east) = bounds
    ss[f"kaart_zoom_{level}"] = {"center": ((south + north) / 2, (west + east) / 2),
                                 "zoom": kd.zoom_for(bounds, width_px=700, height_px=MAP_HEIGHT)}


def on_map_click(level: str) -> None:
    """st_folium's on_change: the clicked area becomes the chosen one before the rerun draws the highlight."""
    drawing = (ss.get(f"kaart_{level}") or {}).get("last_active_drawing") or {}
    code = (drawing.get("properties") or {}).get("code")
    if code in ss.get(f"kaart_codes_{level}", ()):
        ss[_area_key(level)] = code


def on_search(level: str, areas, postcodes) -> None:
    """The search box: find the areas; one result is chosen (and zoomed to) at once."""
    query = str(ss.get("kaart_zoek") or "").strip()
    ss.pop("kaart_zoek_keuze", None)
    if not query:
        ss["kaart_zoek_resultaten"] = None
        return
    found = kd.search_areas(query, areas.drop(columns="geometry"), postcodes)
    found = found.loc[found["area_code"].isin(set(areas["area_code"]))].drop_duplicates("area_code")
    ss["kaart_zoek_resultaten"] = (query, found.reset_index(drop=True))
    if len(found) == 1:
        ss[_area_key(level)] = found["area_code"].iloc[0]
        zoom_to(level, areas, found["area_code"].iloc[0])


def on_search_choice(level: str, areas) -> None:
    code = ss.get("kaart_zoek_keuze")
    if code:
        ss[_area_key(level)] = code
        zoom_to(level, areas, code)


def on_area_choice(level: str, areas) -> None:
    zoom_to(level, areas, ss.get(_area_key(level)))


def legend(fmap) -> None:
    """The legend beside the map (pre-escaped HTML from mapping.choropleth), so it covers no area."""
    html = getattr(fmap, "legend_html", None)
    if html:
        st.html(html)


st.title("Kaart")
index = load_area_index()
stop_without_areas(index)
apply_link(index)

try:
    with st.sidebar:
        st.subheader("Kaartinstellingen")
        level = st.radio("Niveau", list(LEVELS), format_func=LEVELS.get, horizontal=True, key="kaart_niveau")
        areas = load_areas(level)
        available = [n for n in BY_NAME if n in areas.columns]
        if not available:
            st.warning("Er zijn nog geen kerncijfers. Importeer een CBS-bestand op de pagina Beheer.")
            st.stop()
        if ss.get("kaart_kerncijfer") not in available:
            ss["kaart_kerncijfer"] = DEFAULT_INDICATOR if DEFAULT_INDICATOR in available else available[0]
        indicator = st.selectbox("Kerncijfer", available, format_func=lambda n: BY_NAME[n].label,
                                 key="kaart_kerncijfer")
        per_1000 = False
        if kd.per_1000_allowed(indicator):
            per_1000 = st.toggle("Per 1.000 inwoners", key="kaart_per1000",
                                 help="Het aantal gedeeld door het aantal inwoners van het gebied, maal 1.000: zo "
                                      "zijn grote en kleine buurten te vergelijken.")
        years = kd.load_years(level, indicator)
        year = None
        if len(years) > 1:
            if ss.get("kaart_jaar") not in years:
                ss["kaart_jaar"] = years[-1]
            year = st.selectbox("Jaar", years, key="kaart_jaar", help="Standaard het nieuwste jaar.")
        scheme = st.selectbox("Klassenindeling", list(SCHEMES), format_func=SCHEMES.get, key="kaart_indeling")
        k = st.slider("Aantal klassen", 3, 7, 5, key="kaart_klassen")
        tiles = st.selectbox("Achtergrondkaart", list(TILE_LABELS), format_func=TILE_LABELS.get,
                             index=list(TILE_LABELS).index(default_tiles()), key="kaart_tegels",
                             help="PDOK en OpenStreetMap laden kaarttegels van een externe server.")
        show_provisions = st.toggle("Voorzieningen tonen", value=True, key="kaart_voorzieningen",
                                    help="Per soort een laag; rode rand = onder druk, open en gestreept = gestopt. "
                                         "Wijs een voorziening aan om haar bereik te zien.")
        small = st.multiselect("Kaarten naast elkaar (2 tot 4)", available, format_func=lambda n: BY_NAME[n].label,
                               max_selections=kd.SMALL_MULTIPLES_MAX, key="kaart_naast",
                               help="Kleine kaarten van andere kerncijfers naast elkaar, elk met een eigen legenda "
                                    "en hetzelfde gekozen gebied.", placeholder="Kies…")
    view = kd.KaartView(level=level, indicator=indicator, year=year, per_1000=per_1000)
    ss[f"kaart_codes_{level}"] = frozenset(areas["area_code"])
    if ss.get("kaart_zoom_wacht"):
        zoom_to(level, areas, ss.pop("kaart_zoom_wacht"))
    fmap_args = dict(scheme=scheme, k=k, tiles=tiles, with_provisions=show_provisions, height=MAP_HEIGHT)
    kd.load_cached_map(view, **fmap_args)  # built (and errors shown) here, re-used by every click
except DataValidationError as exc:
    show_error(exc)
    st.stop()


@st.fragment
def map_and_panel(view: kd.KaartView, areas, fmap_args: dict, small: list[str]) -> None:
    """The map, the search and the side panel: a click or a search reruns only this part."""
    level = view.level
    names = dict(zip(areas["area_code"], areas["name"], strict=True))
    search_col, result_col = st.columns([11, 9], gap="medium")
    with search_col:
        st.text_input("Zoek een gebied", key="kaart_zoek", placeholder="Naam of postcode, bijv. 1505 of 1505 AB",
                      on_change=on_search, args=(level, areas, kd.load_postcodes()))
    results = ss.get("kaart_zoek_resultaten")
    with result_col:
        if results is not None:
            query, found = results
            if found.empty:
                st.warning(md(kd.not_found_text(query, pc6_table=kd.load_postcodes() is not None)))
            elif len(found) > 1:
                matches = dict(zip(found["area_code"], found["match"], strict=True))
                st.selectbox(f"{len(found)} gebieden gevonden", list(matches), index=None, key="kaart_zoek_keuze",
                             format_func=lambda c: f"{names.get(c, c)} ({c}) – {matches[c]}",
                             placeholder="Kies een gebied", on_change=on_search_choice, args=(level, areas))
            else:
                code = found["area_code"].iloc[0]
                st.caption(f"Gevonden: **{md(names.get(code, code))}** ({md(found['match'].iloc[0])})")

    selected = ss.get(_area_key(level))
    selected = selected if selected in names else None
    view = kd.KaartView(view.level, view.indicator, selected, view.year, view.per_1000)
    fmap = kd.load_cached_map(view, **fmap_args)
    target = ss.get(f"kaart_zoom_{level}") or {}
    map_col, info_col = st.columns([11, 9], gap="medium")
    with map_col:
        # st_folium, with the cached map's script made once: a click renders only the outline layer.
        kd.map_component(fmap, key=f"kaart_{level}", height=MAP_HEIGHT, returned_objects=["last_active_drawing"],
                         feature_group_to_add=kd.highlight(areas, selected), center=target.get("center"),
                         zoom=target.get("zoom"), on_change=functools.partial(on_map_click, level))
        legend(fmap)

    with info_col:
        options = sorted(names, key=lambda c: names[c])
        selected = st.selectbox(
            "Gekozen gebied", options, index=None, format_func=lambda c: f"{names[c]} ({c})",
            placeholder="Klik op de kaart of kies een gebied", key=_area_key(level),
            on_change=on_area_choice, args=(level, areas),
        )
        if selected is None:
            st.info("Klik op een gebied op de kaart, of zoek het op naam of postcode, om de kerncijfers te zien.")
        else:
            profile = kd.load_profile(selected, view.year)
            st.subheader(md(names[selected]))
            st.caption(f"Gebiedscode {md(selected)}")
            st.markdown(md(profile.summary))
            if st.button("Volledig profiel openen", icon=":material/analytics:", key="naar_profiel"):
                ss["profiel_gebied"] = selected
                st.switch_page("pages/profiel.py")
            # st.table renders its headers as Markdown: the area names are escaped (the cells are our own text).
            st.table(profile.table[["Kerncijfer", *profile.columns]].set_index("Kerncijfer").rename(columns=md))
            st.caption("Bron: CBS Kerncijfers wijken en buurten. 'geheim': CBS maakt de waarde "
                       "niet bekend (te weinig inwoners of huishoudens). 'geen inwoners' / 'geen huishoudens': "
                       "zonder inwoners of huishoudens is er geen percentage.")

    if small:
        st.subheader("Kaarten naast elkaar")
        for column, figure in zip(st.columns(len(small)), small, strict=True):
            other = kd.KaartView(level, figure, selected, view.year, view.per_1000 and kd.per_1000_allowed(figure))
            with column:
                small_map = kd.load_cached_map(other, scheme=fmap_args["scheme"], k=fmap_args["k"],
                                               tiles=fmap_args["tiles"], with_provisions=False, height=SMALL_HEIGHT)
                kd.map_component(small_map, key=f"kaart_naast_{level}_{figure}", height=SMALL_HEIGHT,
                                 returned_objects=[], feature_group_to_add=kd.highlight(areas, selected))
                legend(small_map)

    # The address bar always holds the view: copy it to share this buurt and figure.
    params = kd.view_params(view)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    ss["kaart_link"] = params
    url = st.context.url or ""
    base = url.rstrip("/").removesuffix(f"/{kd.PAGE_PATH}") if url else ""
    with st.expander("Link naar deze kaart", icon=":material/link:"):
        st.caption("Wie deze link opent (na het aanmelden) ziet hetzelfde niveau, kerncijfer, jaar en gebied.")
        # The app's own address: the Kaart is its default page, also behind the sign-in form (which has no
        # page 'kaart' of its own; see app.py PAGE_PATHS).
        st.code(kd.share_link(base, view, page=""), language=None)


map_and_panel(view, areas, fmap_args, small)

# The ranking of all areas changes with the figure, not with a click: outside the fragment.
ranking, header, decimals, xlsx, csv = kd.load_ranking(view)
label = header
st.subheader(md(f"Ranglijst: {label}"))
st.caption(f"Alle {len(ranking)} {LEVELS[level].lower()}, hoogste waarde eerst; klik op een kolomkop om anders te "
           "sorteren. Zonder waarde (geheim, geen inwoners) staan onderaan, zonder rang.")
st.dataframe(
    ranking, hide_index=True, width="stretch", height=min(36 * (len(ranking) + 1), 420), key="kaart_ranglijst",
    column_config={
        kd.RANK: st.column_config.NumberColumn(kd.RANK, format="%d"),
        header: st.column_config.NumberColumn(header, format="localized", step=10 ** -decimals if decimals else 1),
    },
)
name = f"ranglijst_{level}_{indicator}" + (f"_{view.year}" if view.year else "") + ("_per1000" if per_1000 else "")
excel_col, csv_col, _ = st.columns([3, 3, 6])
excel_col.download_button("Ranglijst downloaden (Excel)", xlsx, file_name=f"{name}.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key="kaart_ranglijst_xlsx", on_click=log_export,
                          args=("export-ranglijst", name, {"bestand": f"{name}.xlsx"}))
csv_col.download_button("Ranglijst downloaden (CSV)", csv, file_name=f"{name}.csv", mime="text/csv",
                        key="kaart_ranglijst_csv", on_click=log_export,
                        args=("export-ranglijst", name, {"bestand": f"{name}.csv"}))

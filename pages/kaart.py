"""Kaart: buurten or wijken coloured by one key figure; a click shows the area's profile."""

import streamlit as st
from streamlit_folium import st_folium

from data.errors import DataValidationError
from data.indicators import BY_NAME
from data.profile import area_profile
from mapping.choropleth import SCHEMES, TILE_LABELS, default_tiles
from pages.common import (
    cached_choropleth,
    load_area_index,
    load_area_values,
    load_areas,
    md,
    show_error,
    stop_without_areas,
)

LEVELS = {"buurt": "Buurten", "wijk": "Wijken"}
DEFAULT_INDICATOR = "percentage_personen_65_jaar_en_ouder"

st.title("Kaart")
stop_without_areas(load_area_index())

try:
    with st.sidebar:
        st.subheader("Kaartinstellingen")
        level = st.radio("Niveau", list(LEVELS), format_func=LEVELS.get, horizontal=True,
                         key="kaart_niveau")
        areas = load_areas(level)
        available = [n for n in BY_NAME if n in areas.columns]
        if not available:
            st.warning("Er zijn nog geen kerncijfers. Importeer een CBS-bestand op de pagina Beheer.")
            st.stop()
        indicator = st.selectbox(
            "Kerncijfer", available, format_func=lambda n: BY_NAME[n].label,
            index=available.index(DEFAULT_INDICATOR) if DEFAULT_INDICATOR in available else 0,
            key="kaart_kerncijfer",
        )
        scheme = st.selectbox("Klassenindeling", list(SCHEMES), format_func=SCHEMES.get,
                              key="kaart_indeling")
        k = st.slider("Aantal klassen", 3, 7, 5, key="kaart_klassen")
        tiles = st.selectbox("Achtergrondkaart", list(TILE_LABELS), format_func=TILE_LABELS.get,
                             index=list(TILE_LABELS).index(default_tiles()), key="kaart_tegels",
                             help="PDOK en OpenStreetMap laden kaarttegels van een externe server.")
        show_provisions = st.toggle("Voorzieningen tonen", value=True, key="kaart_voorzieningen",
                                    help="Per soort een laag; rode rand = onder druk, open en gestreept = gestopt. "
                                         "Wijs een voorziening aan om haar bereik te zien.")
    fmap = cached_choropleth(level, indicator, scheme, k, tiles, show_provisions)
except DataValidationError as exc:
    show_error(exc)
    st.stop()

map_col, info_col = st.columns([11, 9], gap="medium")
with map_col:
    event = st_folium(fmap, key=f"kaart_{level}", height=580, use_container_width=True,
                      returned_objects=["last_active_drawing"])
clicked = ((event or {}).get("last_active_drawing") or {}).get("properties", {}).get("code")
names = dict(zip(areas["area_code"], areas["name"], strict=True))
if clicked in names and clicked != st.session_state.get(f"kaart_klik_{level}"):
    st.session_state[f"kaart_klik_{level}"] = clicked
    st.session_state[f"kaart_gebied_{level}"] = clicked

with info_col:
    options = sorted(names, key=lambda c: names[c])
    selected = st.selectbox(
        "Gekozen gebied", options, index=None, format_func=lambda c: f"{names[c]} ({c})",
        placeholder="Klik op de kaart of kies een gebied", key=f"kaart_gebied_{level}",
    )
    if selected is None:
        st.info("Klik op een gebied op de kaart om de kerncijfers te zien.")
    else:
        profile = area_profile(load_area_values(), load_area_index(), selected)
        st.subheader(md(names[selected]))
        st.caption(f"Gebiedscode {md(selected)}")
        st.markdown(md(profile.summary))
        if st.button("Volledig profiel openen", icon=":material/analytics:", key="naar_profiel"):
            st.session_state["profiel_gebied"] = selected
            st.switch_page("pages/profiel.py")
        # st.table renders its headers as Markdown: the area names are escaped (the cells are our own text).
        st.table(profile.table[["Kerncijfer", *profile.columns]].set_index("Kerncijfer").rename(columns=md))
        st.caption("Bron: CBS Kerncijfers wijken en buurten. 'geheim': CBS maakt de waarde "
                   "niet bekend (te weinig inwoners of huishoudens). 'geen inwoners' / 'geen huishoudens': "
                   "zonder inwoners of huishoudens is er geen percentage.")

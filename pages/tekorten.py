"""Tekorten: where need for collective, preventive support is high and little of it is within reach."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from data.formatting import format_number
from mapping.accessibility import DECAYS
from mapping.choropleth import choropleth_map
from mapping.gaps import DEFAULT_NEED, Term, describe_need, gaps_from_need_and_supply
from pages.common import load_areas, load_provision_types, load_provisions, load_signals

st.title("Tekorten (witte vlekken)")
catalogue = load_provision_types()
types = [t for t in catalogue if t in DEFAULT_NEED]
with st.sidebar:
    st.subheader("Analyse")
    ptype = st.selectbox("Soort voorziening", types, format_func=lambda t: catalogue[t].label, key="tk_soort")
    decay = st.selectbox("Afstandsverval", list(DECAYS), format_func=DECAYS.get, key="tk_verval")
    st.markdown("**Gewichten in de behoefte**")
    terms = tuple(
        Term(t.label, t.indicators, st.number_input(t.label, 0.0, 5.0, float(t.weight), 0.01, key=f"tk_w_{ptype}_{k}"))
        for k, t in enumerate(DEFAULT_NEED[ptype]))

buurten = load_areas("buurt")
provisions = load_provisions()
signals = load_signals()
own = provisions.loc[provisions["type"] == ptype]
off = st.multiselect("Scenario: zet voorzieningen uit (wat als de subsidie stopt?)",
                     list(own.loc[own["status"] != "gestopt", "provision_id"]),
                     format_func=lambda p: own.set_index("provision_id").loc[p, "name"], key="tk_uit",
                     placeholder="kies voorzieningen")
st.caption("Behoefte = " + describe_need(ptype, terms) + ". Bereikbaarheid: two-step floating catchment area "
           "(2SFCA) over de hemelsbrede afstand tot het midden van de buurt; gestopte voorzieningen tellen niet.")
signals_per_buurt = signals.groupby("buurt_code")["signal"].sum()
before = gaps_from_need_and_supply(buurten, provisions, types=[ptype], decay=decay, need_terms={ptype: terms},
                                   signals_per_buurt=signals_per_buurt, catalogue=catalogue)
after = gaps_from_need_and_supply(buurten, provisions.loc[~provisions["provision_id"].isin(off)], types=[ptype],
                                  decay=decay, need_terms={ptype: terms}, signals_per_buurt=signals_per_buurt,
                                  catalogue=catalogue) if off else before
c1, c2, c3 = st.columns(3)
c1.metric("Behoefte (personen)", format_number(before["need"].sum()))
c2.metric("Tekort (personen)", format_number(after["gap_people"].sum()),
          delta=format_number(after["gap_people"].sum() - before["gap_people"].sum()) if off else None,
          delta_color="inverse")
c3.metric("Buurten met ontbrekende kerncijfers", int((before["missing"] != "").sum()))

shown = buurten.merge(after.set_index("area_code")[["gap_people"]], left_on="area_code", right_index=True,
                      how="left")
fmap = choropleth_map(shown, "gap_people", label=f"Tekort {catalogue[ptype].label.lower()} (personen)",
                      higher_is_need=True, provisions=own.loc[~own["provision_id"].isin(off)],
                      provision_types=catalogue)
st_folium(fmap, key=f"tk_kaart_{ptype}", height=520, use_container_width=True, returned_objects=[])
st.subheader("Buurten met het grootste tekort")
ranked = after.dropna(subset=["gap_people"]).head(15)
compare = before.set_index("area_code")["gap_people"]
st.dataframe(pd.DataFrame({
    "Buurt": ranked["buurt"], "Behoefte": ranked["need"].map(format_number),
    "Tekort": ranked["gap_people"].map(format_number),
    "Tekort vóór scenario": ranked["area_code"].map(compare).map(format_number) if off else "",
    "Reden": ranked["reason"],
}), hide_index=True, width="stretch")

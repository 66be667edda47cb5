"""Profiel: every key figure of a buurt or wijk beside its wijk and gemeente, what stands out,
provisions in and near it, the trend, a comparison of areas, and exports."""

import pandas as pd
import streamlit as st

from data.profile import (
    DEVIATION_SD,
    area_profile,
    compare_areas,
    compare_to_excel,
    indicator_trend_text,
    mixed_years_message,
    nearby_provisions,
    profile_frame,
    profile_messages,
    profile_to_excel,
    profile_to_html,
    profile_to_pdf,
    trend_chart,
    years_label,
)
from mapping.provisions import provisions_near, reach_by_type
from pages.common import (
    load_area_index,
    load_area_values,
    load_areas,
    load_provision_types,
    load_provisions,
    log_export,
    md,
    stop_without_areas,
)
from reports import pdf_problem

LEVEL_LABELS = {"buurt": "buurt", "wijk": "wijk", "gemeente": "gemeente"}
_COLOURS = {"ongunstig": "background-color: #f4c7b8", "gunstig": "background-color: #cfe5f2"}

st.title("Profiel")
index = load_area_index()
values = load_area_values()
choices = index.loc[index["level"].isin(["buurt", "wijk"])].sort_values(["level", "name"])
stop_without_areas(choices)
labels = {c: f"{n} ({LEVEL_LABELS[lvl]}, {c})" for c, n, lvl in
          zip(choices["area_code"], choices["name"], choices["level"], strict=True)}
codes = list(labels)
default = st.session_state.get("profiel_gebied")
code = st.selectbox("Gebied", codes, index=codes.index(default) if default in codes else 0,
                    format_func=labels.get, key="profiel_keuze")
st.session_state["profiel_gebied"] = code

row = index.set_index("area_code").loc[code]
geometry = load_areas(row["level"]).set_index("area_code").geometry[code]
near = provisions_near(load_provisions(), geometry, distance_m=1000, catalogue=load_provision_types())
typed = nearby_provisions(load_provisions(), geometry, distance_m=1000, catalogue=load_provision_types())
profile = area_profile(values, index, code, provisions=near, nearby=typed)

st.header(md(profile.name))
st.caption(f"{LEVEL_LABELS[profile.level].capitalize()} {md(code)} · {years_label(profile)}")
st.markdown(f"**{md(profile.summary)}**")
mixed = mixed_years_message(profile)
if mixed:
    st.warning(mixed, icon=":material/event_busy:")

frame = profile_frame(profile)
signals = profile.table["signal"]
styled = frame.style.apply(lambda _row: [_COLOURS.get(signals.iloc[_row.name], "")] * len(_row), axis=1
                           ).format({"Jaar": lambda y: "" if pd.isna(y) else str(int(y))})
st.dataframe(styled, hide_index=True, width="stretch", height=min(38 * (len(frame) + 1), 900))
st.caption(
    f"Gekleurd: meer dan {DEVIATION_SD:g} standaardafwijking (sd) van het gemiddelde van de "
    f"{LEVEL_LABELS[profile.level]}en in de gemeente met inwoners; rood = ongunstig, blauw = gunstig "
    "(volgens of een hogere waarde meer behoefte betekent). Aantallen worden niet vergeleken. "
    "Wijk- en gemeentecijfers zijn correct gewogen gemiddelden. 'geheim': CBS maakt de waarde niet bekend. "
    "'geen inwoners' / 'geen huishoudens': zonder inwoners of huishoudens is er geen percentage. "
    "Jaar: het gegevensjaar van de rij."
)

st.subheader("Voorzieningen in en rond het gebied")
if not load_provisions().empty:
    st.markdown("**Binnen bereik, per soort.** Een voorziening bereikt het gebied als het binnen haar bereik "
                "(in meters, per voorziening) ligt; gestopte voorzieningen bereiken niemand meer.")
    st.dataframe(reach_by_type(load_provisions(), geometry, load_provision_types()), hide_index=True,
                 width="stretch")
if near.empty:
    if load_provisions().empty:
        st.info("Er staan nog geen voorzieningen in de opslag. Zodra de sociale kaart is gevuld "
                "(pagina Voorzieningen), ziet u hier wat er in en binnen 1 km van dit gebied is.")
    else:
        st.info("Er is geen voorziening in of binnen 1 km van dit gebied.")
else:
    st.dataframe(near, hide_index=True, width="stretch")

st.subheader("Ontwikkeling door de jaren")
if profile.trend.empty:
    st.caption("Voor dit gebied is maar één jaar geïmporteerd. Importeer een ouder of nieuwer "
               "CBS-bestand om de trend te zien.")
else:
    indicator = st.selectbox("Kerncijfer", list(profile.trend.index), key="profiel_trend")
    st.altair_chart(trend_chart(profile, indicator), width="stretch")
    st.caption("Bij percentages en gemiddelden tonen de lijnen het gebied, "
               + ("de wijk en " if profile.level == "buurt" else "") + "de gemeente; bij aantallen alleen het "
               "gebied (die van wijk en gemeente zijn vele malen groter). Een jaar zonder waarde (geheim, geen "
               "inwoners) is een onderbreking.")
    st.dataframe(indicator_trend_text(values, code), width="stretch")

st.subheader("Vergelijken")
others = st.multiselect("Vergelijk met (maximaal 3 andere gebieden)", [c for c in codes if c != code],
                        format_func=labels.get, max_selections=3, key="profiel_vergelijk",
                        placeholder="kies gebieden")
if others:
    st.dataframe(compare_areas(values, index, [code, *others]), hide_index=True, width="stretch")

st.subheader("Exporteren")
messages = profile_messages(profile)
areas_of_level = load_areas(profile.level)
xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
left, middle, right = st.columns(3)
left.download_button("Profiel als Excel", lambda: profile_to_excel(profile, values, index, others, messages=messages),
                     file_name=f"profiel_{code}.xlsx", mime=xlsx, icon=":material/table_view:", on_click=log_export,
                     args=("export-profiel", code, {"formaat": "xlsx", "vergelijking": list(others)}))
middle.download_button("Profiel als printbare HTML",
                       lambda: profile_to_html(profile, areas_gdf=areas_of_level, messages=messages),
                       file_name=f"profiel_{code}.html", mime="text/html", icon=":material/print:",
                       on_click=log_export, args=("export-profiel", code, {"formaat": "html"}))
problem = pdf_problem()
if problem is None:
    right.download_button("Profiel als PDF", lambda: profile_to_pdf(profile, areas_gdf=areas_of_level,
                                                                    messages=messages),
                          file_name=f"profiel_{code}.pdf", mime="application/pdf", icon=":material/picture_as_pdf:",
                          on_click=log_export, args=("export-profiel", code, {"formaat": "pdf"}))
else:
    right.caption(problem)
if others:
    st.download_button("Vergelijking als Excel", lambda: compare_to_excel(values, index, [code, *others]),
                       file_name=f"vergelijking_{code}.xlsx", mime=xlsx, icon=":material/compare_arrows:",
                       on_click=log_export, args=("export-vergelijking", code, {"gebieden": [code, *others]}))
st.caption("Het Excel-bestand bevat het profiel met gebiedscodes, eenheid, jaar en bron per rij, de "
           "vergelijking (als u gebieden kiest), de trend, de voorzieningen en een toelichting per kolom.")

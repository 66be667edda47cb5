"""Beheer: load a municipality's own CBS wijk- en buurtkaart into the store."""

import pandas as pd
import streamlit as st

from data.area_import import format_report, read_area_file
from data.errors import DataValidationError
from data.formatting import format_number
from data.provision_types import TARGET_GROUPS, ProvisionType
from pages.common import (
    get_store,
    load_area_index,
    load_provision_types,
    require_admin,
    show_error,
    uploaded_file,
)

st.title("Beheer")
require_admin()
st.subheader("CBS-gebieden importeren")
st.markdown(
    "Upload de CBS Wijk- en Buurtkaart van uw gemeente: een **GeoPackage** (2022 en later, lagen "
    "`gemeenten`/`wijken`/`buurten`), een **shapefile** als zip (tot 2021) of **GeoJSON**, in RD New of "
    "WGS84. Geheime waarden worden *geheim*, ongeldige vlakken worden hersteld, ontbrekende wijken en de "
    "gemeente worden uit de buurten afgeleid. Een import lukt helemaal of verandert niets."
)
with st.form("import_gebieden"):
    upload = st.file_uploader("Bestand", type=["gpkg", "zip", "geojson", "json"])
    left, right = st.columns(2)
    jaar = left.number_input("Jaar van de gegevens (leeg: uit de bestandsnaam)", min_value=1990,
                             max_value=2100, value=None, step=1)
    gemeente = right.text_input("Alleen gemeente (bijv. GM0080; nodig bij landelijke bestanden)")
    submitted = st.form_submit_button("Importeren", type="primary")

if submitted:
    if upload is None:
        st.error("Kies eerst een bestand.")
    else:
        try:
            with uploaded_file(upload, allowed=("gpkg", "zip", "geojson")) as path:
                imported = read_area_file(path, gemeente=gemeente.strip().upper() or None,
                                          year=int(jaar) if jaar else None)
                warnings = get_store().merge_area_data(imported.areas, imported.values,
                                                       details={"bestand": upload.name})
        except DataValidationError as exc:
            show_error(exc)
        else:
            st.success("Import gelukt.")
            st.markdown("\n".join(f"- {line}" for line in format_report(imported.report, warnings)))

st.subheader("Gezondheidsmonitor per buurt importeren")
st.markdown(
    "De RIVM/GGD Gezondheidsmonitor schat per buurt onder meer eenzaamheid, psychische klachten, "
    "mantelzorg, vrijwilligerswerk en moeite met rondkomen (CBS-tabel 50120NED), met een 95%-interval. "
    "Upload de StatLine-export of een eigen sheet (CSV of Excel; puntkomma en decimale komma mogen)."
)
with st.form("import_gezondheid"):
    health_upload = st.file_uploader("Bestand", type=["csv", "xlsx", "txt"], key="gezondheid_bestand")
    health_year = st.number_input("Jaar (leeg: uit het bestand)", min_value=2000, max_value=2100, value=None,
                                  step=1, key="gezondheid_jaar")
    health_submitted = st.form_submit_button("Importeren", type="primary")

if health_submitted:
    if health_upload is None:
        st.error("Kies eerst een bestand.")
    else:
        from data.health import read_health_file

        try:
            with uploaded_file(health_upload, allowed=("csv", "xlsx")) as path:
                health = read_health_file(path, year=int(health_year) if health_year else None)
                summary = get_store().merge_area_values(health, action="import-gezondheid",
                                                        details={"bestand": health_upload.name})
        except DataValidationError as exc:
            show_error(exc)
        else:
            st.success(f"Import gelukt: {summary['waarden']} waarden voor "
                       f"{health['area_code'].nunique()} gebieden.")
            if summary["onbekende_gebieden"]:
                st.warning(f"{summary['onbekende_gebieden']} gebieden staan nog niet in de opslag.")

st.subheader("Soorten voorzieningen")
catalogue = load_provision_types()
st.dataframe(pd.DataFrame({
    "code": list(catalogue), "naam": [t.label for t in catalogue.values()],
    "doelgroepen": [", ".join(TARGET_GROUPS.get(g, g) for g in t.target_groups) for t in catalogue.values()],
    "standaardbereik (m)": [format_number(t.default_reach_m) for t in catalogue.values()],
    "capaciteitseenheid": [t.capacity_unit for t in catalogue.values()],
}), hide_index=True, width="stretch")
with st.form("nieuwe_soort"):
    st.markdown("**Soort toevoegen** (bijvoorbeeld een taalcafé of een repaircafé)")
    c1, c2 = st.columns(2)
    code = c1.text_input("Code (kleine letters, cijfers en _)", placeholder="taalcafe")
    label = c2.text_input("Naam", placeholder="Taalcafé")
    description = st.text_input("Omschrijving")
    groups = st.multiselect("Doelgroepen", list(TARGET_GROUPS), format_func=TARGET_GROUPS.get,
                            placeholder="kies doelgroepen")
    c3, c4 = st.columns(2)
    reach = c3.number_input("Standaardbereik (m)", min_value=100, value=1500, step=100)
    unit = c4.text_input("Capaciteitseenheid", value="deelnemers per jaar")
    add_type = st.form_submit_button("Soort toevoegen", type="primary")
if add_type:
    try:
        get_store().add_provision_type(
            ProvisionType(code.strip(), label.strip(), description.strip(), tuple(groups), unit.strip(), int(reach),
                          colour="#8c6d31"))
    except DataValidationError as exc:
        show_error(exc)
    else:
        st.success(f"Soort '{label}' toegevoegd.")
        st.rerun()

st.subheader("Gebieden in de opslag")
index = load_area_index()
summary = index.groupby(["gemeente_code", "level"]).size().unstack(fill_value=0)
summary = summary.reindex(columns=[c for c in ("gemeente", "wijk", "buurt") if c in summary.columns])
st.dataframe(summary.rename(columns={"gemeente": "gemeente", "wijk": "wijken", "buurt": "buurten"}),
             width="stretch")
st.caption("Via de opdrachtregel: `python cli.py import-areas BESTAND --store PAD [--gemeente GM0080] "
           "[--jaar 2024]`.")

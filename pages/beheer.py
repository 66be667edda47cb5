"""Beheer: load a municipality's own CBS wijk- en buurtkaart into the store."""

import tempfile
from pathlib import Path

import streamlit as st

from data.area_import import format_report, read_area_file
from data.errors import DataValidationError
from pages.common import get_store, load_area_index, show_error

st.title("Beheer")
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
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getbuffer())
            try:
                imported = read_area_file(path, gemeente=gemeente.strip().upper() or None,
                                          year=int(jaar) if jaar else None)
                warnings = get_store().merge_area_data(imported.areas, imported.values, user="app",
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

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(health_upload.name).name
            path.write_bytes(health_upload.getbuffer())
            try:
                health = read_health_file(path, year=int(health_year) if health_year else None)
                summary = get_store().merge_area_values(health, user="app", action="import-gezondheid",
                                                        details={"bestand": health_upload.name})
            except DataValidationError as exc:
                show_error(exc)
            else:
                st.success(f"Import gelukt: {summary['waarden']} waarden voor "
                           f"{health['area_code'].nunique()} gebieden.")
                if summary["onbekende_gebieden"]:
                    st.warning(f"{summary['onbekende_gebieden']} gebieden staan nog niet in de opslag.")

st.subheader("Gebieden in de opslag")
index = load_area_index()
summary = index.groupby(["gemeente_code", "level"]).size().unstack(fill_value=0)
summary = summary.reindex(columns=[c for c in ("gemeente", "wijk", "buurt") if c in summary.columns])
st.dataframe(summary.rename(columns={"gemeente": "gemeente", "wijk": "wijken", "buurt": "buurten"}),
             width="stretch")
st.caption("Via de opdrachtregel: `python cli.py import-areas BESTAND --store PAD [--gemeente GM0080] "
           "[--jaar 2024]`.")

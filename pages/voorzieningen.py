"""Voorzieningen: the sociale kaart of collective, preventive provisions: filter, edit, add, delete,
import and export."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from data.errors import ConflictError, DataValidationError
from data.formatting import format_date, format_number
from data.provision_types import TARGET_GROUPS
from data.provisions import (
    filter_provisions,
    provisions_to_csv,
    provisions_to_excel,
    read_provisions_file,
    validate_provisions,
)
from data.schema import PROVISION_STATUSES
from data.store import file_sha256
from mapping.assets import local_map
from pages.common import (
    get_store,
    load_area_index,
    load_provision_types,
    load_provisions,
    log_export,
    md,
    show_error,
    stop_without_areas,
    uploaded_file,
)

st.title("Voorzieningen")
st.caption("De sociale kaart van collectieve, preventieve voorzieningen: wat is er, voor wie, met hoeveel "
           "ruimte, en wat dreigt te stoppen.")
provisions = load_provisions()
index = load_area_index()
stop_without_areas(index)  # a provision is placed in a buurt of the gemeente: areas come first
wijken = index.loc[index["level"] == "wijk"].set_index("area_code")["name"].to_dict()
CATALOGUE = load_provision_types()
TYPE_LABELS = {k: v.label for k, v in CATALOGUE.items()}

with st.expander("Filteren", expanded=True):
    c1, c2, c3 = st.columns(3)
    types = c1.multiselect("Soort", list(TYPE_LABELS), format_func=TYPE_LABELS.get, key="vz_soort",
                           placeholder="alle soorten")
    statuses = c2.multiselect("Status", list(PROVISION_STATUSES), format_func=PROVISION_STATUSES.get,
                              key="vz_status", placeholder="alle statussen")
    wijk = c3.selectbox("Wijk", [None, *wijken], format_func=lambda c: "alle wijken" if c is None else wijken[c],
                        key="vz_wijk")
    c4, c5, c6 = st.columns(3)
    group = c4.selectbox("Doelgroep", [None, *TARGET_GROUPS], key="vz_doelgroep",
                         format_func=lambda g: "alle doelgroepen" if g is None else TARGET_GROUPS[g])
    months = c5.number_input("Financiering eindigt binnen … maanden (0 = niet filteren)", 0, 120, 0, key="vz_maanden")
    stale = c6.checkbox("Langer dan een jaar niet gecontroleerd", key="vz_oud")

shown = filter_provisions(provisions, types=types, statuses=statuses, wijk_code=wijk, target_group=group,
                          funding_within_months=months or None, unverified_days=365 if stale else None)
table = pd.DataFrame({
    "id": shown["provision_id"],
    "Naam": shown["name"],
    "Soort": shown["type"].map(TYPE_LABELS),
    "Status": shown["status"].map(PROVISION_STATUSES),
    "Organisatie": shown["organisation"],
    "Capaciteit per jaar": [format_number(c) if pd.notna(c) else "" for c in shown["capacity_per_year"]],
    "Financiering tot": shown["funding_end"].map(format_date),
    "Laatst gecontroleerd": shown["last_verified"].map(format_date),
})
if provisions.empty:
    st.info("**Nog geen voorzieningen.** Voeg ze een voor een toe (tab *Toevoegen*, klik op de kaart voor de plek) "
            "of importeer het ingevulde sjabloon of een open-data-bestand (tab *Importeren en exporteren*).")
st.markdown(f"**{format_number(len(shown))}** van {format_number(len(provisions))} voorzieningen")
st.dataframe(table, hide_index=True, width="stretch")

editable = get_store().user.edits_provisions
if editable:
    tab_edit, tab_add, tab_io = st.tabs(["Bewerken of verwijderen", "Toevoegen", "Importeren en exporteren"])
else:
    st.info("Uw rol kan voorzieningen bekijken en exporteren, niet wijzigen.")
    tab_io = st.container()

if editable:
    with tab_edit:
        if shown.empty:
            st.info("Geen voorziening om te bewerken met deze filters.")
        else:
            options = dict(zip(shown["provision_id"], shown["name"], strict=True))
            pid = st.selectbox("Voorziening", list(options), format_func=lambda p: f"{options[p]} ({p})", key="vz_kies")
            row = provisions.set_index("provision_id").loc[pid]
            # The version the user started editing from; a save against a newer stored version is refused.
            version_key = f"vz_versie_{pid}"
            st.session_state.setdefault(version_key, int(row["version"]))
            with st.form(f"bewerk_{pid}_{st.session_state[version_key]}"):
                name = st.text_input("Naam", row["name"])
                ptype = st.selectbox("Soort", list(TYPE_LABELS), index=list(TYPE_LABELS).index(row["type"]),
                                     format_func=TYPE_LABELS.get)
                status = st.selectbox("Status", list(PROVISION_STATUSES), format_func=PROVISION_STATUSES.get,
                                      index=list(PROVISION_STATUSES).index(row["status"]))
                cap_now = row["capacity_per_year"]
                capacity = st.number_input("Capaciteit per jaar", min_value=0,
                                           value=int(cap_now) if pd.notna(cap_now) else 0)
                reach = st.number_input("Bereik (m)", min_value=0, value=int(row["reach_m"] or 0), step=100)
                funding_end = st.date_input("Financiering tot", value=row["funding_end"] if pd.notna(row["funding_end"])
                                            else None, format="DD-MM-YYYY")
                verified = st.date_input("Laatst gecontroleerd", value=pd.Timestamp.today(), format="DD-MM-YYYY")
                notes = st.text_area("Notities", row["notes"] or "")
                save = st.form_submit_button("Opslaan", type="primary")
            if save:
                try:
                    get_store().update_provision(pid, {
                        "name": name.strip(), "type": ptype, "status": status, "capacity_per_year": int(capacity),
                        "reach_m": float(reach), "funding_end": pd.Timestamp(funding_end) if funding_end else pd.NaT,
                        "last_verified": pd.Timestamp(verified), "notes": notes.strip() or None,
                    }, expected_version=st.session_state[version_key])
                except ConflictError as exc:
                    show_error(exc)
                    st.info("Gebruik 'Opnieuw laden' hieronder om de nieuwste versie te zien.")
                except DataValidationError as exc:
                    show_error(exc)
                else:
                    del st.session_state[version_key]
                    st.success("Opgeslagen.")
                    st.rerun()
            if st.button("Opnieuw laden", key=f"vz_herlaad_{pid}", help="Toon de nieuwste opgeslagen versie"):
                del st.session_state[version_key]
                st.rerun()
            sure = st.checkbox(f"Ja, verwijder '{md(row['name'])}' definitief", key=f"vz_zeker_{pid}")
            if st.button("Verwijderen", disabled=not sure, key=f"vz_weg_{pid}"):
                try:
                    get_store().delete_provision(pid, expected_version=st.session_state[version_key])
                except DataValidationError as exc:
                    show_error(exc)
                else:
                    st.success("Verwijderd.")
                    st.rerun()

    with tab_add:
        st.markdown("Klik op de kaart waar de voorziening zit, vul de gegevens in en sla op.")
        outline = get_store().outline()
        if outline is not None:
            import geopandas as gpd

            bounds = gpd.GeoSeries([outline], crs=28992).to_crs(4326).total_bounds
            pick = local_map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=12,
                             tiles=None)
            pick.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
            import folium

            folium.GeoJson(gpd.GeoSeries([outline], crs=28992).to_crs(4326).__geo_interface__,
                           style_function=lambda _f: {"fillOpacity": 0.05, "color": "#555", "weight": 1}).add_to(pick)
            clicked = st_folium(pick, key="vz_klikkaart", height=360, use_container_width=True,
                                returned_objects=["last_clicked"])
            spot = (clicked or {}).get("last_clicked")
            if spot:
                st.session_state["vz_lat"], st.session_state["vz_lon"] = round(spot["lat"], 6), round(spot["lng"], 6)
        with st.form("nieuw"):
            c1, c2 = st.columns(2)
            new_name = c1.text_input("Naam")
            new_type = c2.selectbox("Soort", list(TYPE_LABELS), format_func=TYPE_LABELS.get)
            lat = c1.number_input("Breedtegraad", value=st.session_state.get("vz_lat"), format="%.6f", key="vz_lat_in")
            lon = c2.number_input("Lengtegraad", value=st.session_state.get("vz_lon"), format="%.6f", key="vz_lon_in")
            org = c1.text_input("Organisatie")
            cap = c2.number_input("Capaciteit per jaar", min_value=0, value=None)
            new_status = c1.selectbox("Status", list(PROVISION_STATUSES), format_func=PROVISION_STATUSES.get)
            add = st.form_submit_button("Toevoegen", type="primary")
        if add:
            sheet = pd.DataFrame([{"naam": new_name, "soort": new_type,
                                   "breedtegraad": "" if lat is None else repr(lat),
                                   "lengtegraad": "" if lon is None else repr(lon), "organisatie": org,
                                   "capaciteit_per_jaar": "" if cap is None else str(int(cap)), "status": new_status}])
            try:
                store = get_store()
                new = validate_provisions(sheet, file="formulier", area=outline,
                                          next_number=store.next_provision_number(), catalogue=CATALOGUE)
                store.import_provisions(new, source="formulier", as_batch=False)
            except DataValidationError as exc:
                show_error(exc)
            else:
                st.success(f"'{md(new_name)}' toegevoegd als {md(new['provision_id'].iloc[0])}.")

with tab_io:
    c1, c2, c3 = st.columns(3)
    c1.download_button("Leeg sjabloon (Excel)", provisions_to_excel(provisions.iloc[0:0], CATALOGUE),
                       file_name="sjabloon_voorzieningen.xlsx", icon=":material/description:")
    c2.download_button("Export (Excel)", provisions_to_excel(provisions, CATALOGUE), file_name="voorzieningen.xlsx",
                       icon=":material/table_view:", on_click=log_export,
                       args=("export-voorzieningen", "provisions", {"formaat": "xlsx", "aantal": len(provisions)}))
    c3.download_button("Export (CSV, puntkomma)", provisions_to_csv(provisions), file_name="voorzieningen.csv",
                       icon=":material/csv:", on_click=log_export,
                       args=("export-voorzieningen", "provisions", {"formaat": "csv", "aantal": len(provisions)}))
    if editable:
        with st.form("import_voorzieningen"):
            upload = st.file_uploader("Ingevuld sjabloon of eerdere export (Excel of CSV)", type=["xlsx", "csv"])
            go = st.form_submit_button("Importeren", type="primary")
        if go and upload is not None:
            try:
                with uploaded_file(upload, allowed=("csv", "xlsx")) as path:
                    store = get_store()
                    new = read_provisions_file(path, area=store.outline(), next_number=store.next_provision_number(),
                                               catalogue=CATALOGUE)
                    counts = store.import_provisions(new, source=upload.name, sha256=file_sha256(path))
            except DataValidationError as exc:
                show_error(exc)
            else:
                st.success(f"Import gelukt: {counts['nieuw']} nieuw, {counts['bijgewerkt']} bijgewerkt, "
                           f"{counts['ongewijzigd']} ongewijzigd.")
    st.caption("Via de opdrachtregel: `python cli.py import-provisions BESTAND --store PAD [--type SOORT | "
               "--type-map BESTAND]` en `python cli.py export-provisions --store PAD --out voorzieningen.xlsx`.")

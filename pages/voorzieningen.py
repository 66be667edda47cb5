"""Voorzieningen: the sociale kaart of collective, preventive provisions: filter, edit, add, delete,
import and export."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from data.errors import ConflictError, DataValidationError
from data.formatting import format_date, format_number
from data.provision_form import form_values, provision_changes
from data.provision_types import TARGET_GROUPS
from data.provisions import (
    filter_provisions,
    provisions_to_csv,
    provisions_to_excel,
    validate_provisions,
)
from data.schema import PROVISION_STATUSES
from mapping.assets import local_map
from mapping.provisions import OUTSIDE_AREAS_LABEL, provisions_table
from pages.common import (
    can_add_to_agenda,
    get_store,
    load_area_index,
    load_provision_types,
    load_provisions,
    log_export,
    md,
    show_error,
    stop_without_areas,
    to_agenda_button,
    wijk_of_buurt,
)
from pages.provision_import import import_section, show_import_message

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
if provisions.empty:
    st.info("**Nog geen voorzieningen.** Voeg ze een voor een toe (tab *Toevoegen*, klik op de kaart voor de plek) "
            "of importeer het ingevulde sjabloon of een open-data-bestand (tab *Importeren en exporteren*).")
st.markdown(f"**{format_number(len(shown))}** van {format_number(len(provisions))} voorzieningen")
st.dataframe(provisions_table(shown, CATALOGUE), hide_index=True, width="stretch")

# To the wijkagenda: a provision under pressure, stopped, or whose funding ends within 12 months (in a buurt).
ending = provisions.index.isin(filter_provisions(provisions, funding_within_months=12).index)
at_risk = provisions.loc[(provisions["status"].isin(["onder_druk", "gestopt"]) | ending)
                         & provisions["buurt_code"].fillna("").astype(str).str.startswith("BU")]
if can_add_to_agenda() and len(at_risk):
    risk_names = dict(zip(at_risk["provision_id"], at_risk["name"], strict=True))
    risk_pid = st.selectbox("Voorziening voor de agenda (onder druk, gestopt of financiering eindigt binnen 12 "
                            "maanden)", list(risk_names), format_func=lambda p: f"{risk_names[p]} ({p})",
                            key="vz_agenda_voorziening")
    risk = at_risk.loc[at_risk["provision_id"] == risk_pid].iloc[0]
    funding = format_date(risk["funding_end"]) if pd.notna(risk["funding_end"]) and risk["funding_end"] else ""
    to_agenda_button(
        key="vz_agenda", wijk_code=wijk_of_buurt(risk["buurt_code"], index),
        title=(f"Opvolger zoeken voor {risk['name']}" if risk["status"] == "gestopt"
               else f"Voortbestaan van {risk['name']} regelen"),
        origin_kind="voorziening",
        figure=(f"{risk['name']}: {PROVISION_STATUSES.get(risk['status'], risk['status'])}, "
                + (f"financiering tot {funding}" if funding else "einddatum financiering onbekend")),
        links=[("voorziening", risk_pid), ("buurt", risk["buurt_code"])])

# Session state of the edit tab. The chosen provision is remembered by id and given to the selectbox on
# every run: the browser sends back the *label* it showed ('Naam (V005)'), which after a rename is no option
# any more, and a provision the filters drop is none either; Streamlit then falls back to the first one and
# the next save changes that one. The form shows a snapshot of the provision with the version it belongs to,
# so a save is checked against exactly what the user saw. A message survives the st.rerun after a save.
CHOSEN, SNAPSHOT, RELOADS = "vz_kies_id", "vz_bewerk", "vz_herladen"


def remember_choice(options: list) -> None:
    """on_change of the selectbox: a label the browser still had from before a rename is no provision."""
    if st.session_state["vz_kies"] in options:
        st.session_state[CHOSEN] = st.session_state["vz_kies"]
        st.session_state.pop(SNAPSHOT, None)


def rerun_with_message(key: str, text: str) -> None:
    """Rerun (so the table shows the change) and show ``text`` as success in the next run."""
    st.session_state[key] = text
    st.rerun()


def save_edit(pid: str, changes: dict, version: int, message: str) -> None:
    """Save a change with the version shown; on success rerun with ``message``, else say why (in Dutch)."""
    try:
        get_store().update_provision(pid, changes, expected_version=version)
    except ConflictError as exc:
        show_error(exc)
        st.info("Gebruik 'Opnieuw laden' om de nieuwste versie te zien.")
    except DataValidationError as exc:
        show_error(exc)
    else:
        st.session_state.pop(SNAPSHOT, None)
        rerun_with_message("vz_melding", message)


def options_with(current: str, options: list, labels: dict) -> tuple[list, dict]:
    """The options of a selectbox, with a stored value that is not (or no longer) among them kept."""
    return (options, labels) if current in labels else ([*options, current], {**labels, current: current})


editable = get_store().user.edits_provisions
show_import_message()  # above the tabs: after the rerun that shows the new inventory the first tab is open
if editable:
    # Keyed: the open tab survives reruns, also when elements above the tabs come and go (messages).
    tab_edit, tab_add, tab_io = st.tabs(["Bewerken of verwijderen", "Toevoegen", "Importeren en exporteren"],
                                        key="vz_tabs", on_change="rerun")
else:
    st.info("Uw rol kan voorzieningen bekijken en exporteren, niet wijzigen.")
    tab_io = st.container()

if editable:
    with tab_edit:
        if message := st.session_state.pop("vz_melding", None):
            st.success(message)
        stored = provisions.set_index("provision_id")
        chosen = st.session_state.get(CHOSEN)
        if chosen not in stored.index:  # nothing chosen yet, or deleted (here or by someone else)
            chosen = st.session_state[CHOSEN] = shown["provision_id"].iloc[0] if len(shown) else None
            st.session_state.pop(SNAPSHOT, None)
        if chosen is None:
            st.info("Geen voorziening om te bewerken met deze filters.")
        else:
            options = list(shown["provision_id"])
            if chosen not in options:
                options = [chosen, *options]
            st.session_state["vz_kies"] = chosen
            pid = st.selectbox("Voorziening", options, format_func=lambda p: f"{stored.loc[p, 'name']} ({p})",
                               key="vz_kies", on_change=remember_choice, args=(options,))
            snap = st.session_state.get(SNAPSHOT)
            if snap is None or snap["provision_id"] != pid:
                snap = st.session_state[SNAPSHOT] = form_values(stored.loc[pid])
            if pid not in set(shown["provision_id"]):
                st.caption("Deze voorziening valt buiten de gekozen filters; ze blijft gekozen tot u een andere kiest.")
            if snap["outside_areas"]:
                st.caption(f"Deze voorziening ligt {OUTSIDE_AREAS_LABEL}: ze staat op de kaart, maar telt niet mee "
                           "in de tekorten.")
            if int(stored.loc[pid, "version"]) != snap["version"]:
                st.warning(f"'{md(snap['name'])}' is intussen gewijzigd (door iemand anders of een import). Dit "
                           "formulier toont de versie van toen u begon; opslaan daarvan wordt geweigerd. Klik op "
                           "'Opnieuw laden' om de nieuwste versie te zien.")
            type_options, type_labels = options_with(snap["type"], list(TYPE_LABELS), TYPE_LABELS)
            status_options, status_labels = options_with(snap["status"], list(PROVISION_STATUSES),
                                                         PROVISION_STATUSES)
            reach = snap["reach_m"]
            with st.form(f"bewerk_{pid}_{snap['version']}_{st.session_state.get(RELOADS, 0)}"):
                c1, c2 = st.columns(2)
                name = c1.text_input("Naam", snap["name"])
                ptype = c2.selectbox("Soort", type_options, index=type_options.index(snap["type"]),
                                     format_func=type_labels.get)
                org = c1.text_input("Organisatie", snap["organisation"])
                status = c2.selectbox("Status", status_options, format_func=status_labels.get,
                                      index=status_options.index(snap["status"]))
                capacity = c1.number_input("Capaciteit per jaar", min_value=0, step=1, value=snap["capacity_per_year"],
                                           placeholder="onbekend")
                reach = c2.number_input("Bereik (m)", min_value=0, step=100, placeholder="onbekend",
                                        value=None if reach is None else round(reach))
                funding_end = c1.date_input("Financiering tot", value=snap["funding_end"], format="DD-MM-YYYY")
                verified = c2.date_input("Laatst gecontroleerd", value=pd.Timestamp.today(), format="DD-MM-YYYY")
                street = c1.text_input("Straat", snap["street"])
                number = c2.text_input("Huisnummer", snap["house_number"], placeholder="12a")
                postcode = c1.text_input("Postcode", snap["postcode"], placeholder="1234 AB")
                city = c2.text_input("Plaats", snap["city"])
                notes = st.text_area("Notities", snap["notes"])
                save = st.form_submit_button("Opslaan", type="primary")
            if save:
                try:  # a bad postcode or an empty name: refused before anything is written
                    changes = provision_changes({
                        "name": name, "type": ptype, "status": status, "organisation": org,
                        "capacity_per_year": capacity, "reach_m": reach, "funding_end": funding_end,
                        "last_verified": verified, "street": street, "house_number": number, "postcode": postcode,
                        "city": city, "notes": notes,
                    })
                except DataValidationError as exc:
                    show_error(exc)
                else:
                    save_edit(pid, changes, snap["version"], "Opgeslagen.")
            if st.button("Opnieuw laden", key="vz_herlaad", help="Toon de nieuwste opgeslagen versie; wat u hier "
                         "nog niet opsloeg, vervalt."):
                st.session_state.pop(SNAPSHOT, None)
                st.session_state[RELOADS] = st.session_state.get(RELOADS, 0) + 1
                st.rerun()

            st.markdown("**Gestopt of verwijderen?**")
            st.caption("Is de voorziening gestopt, bijvoorbeeld omdat de subsidie is afgelopen? Markeer haar dan als "
                       "gestopt: ze blijft in de sociale kaart, met haar gegevens, deelnemers en geschiedenis, telt "
                       "niet meer mee als lopend aanbod (in de tekorten, scenario's en het koppelen) en kan later "
                       "weer op actief worden gezet. Definitief verwijderen haalt de voorziening en de deelnames "
                       "eraan helemaal weg; doe dat alleen bij een vergissing of een dubbele invoer.")
            stopped = snap["status"] == "gestopt"
            if stopped:
                st.caption("Deze voorziening staat al op gestopt; zet de status hierboven terug als ze weer loopt.")
            if st.button("Markeer als gestopt", type="primary", disabled=stopped, key="vz_stop",
                         help="Zet de status op gestopt; de voorziening blijft in de sociale kaart."):
                save_edit(pid, {"status": "gestopt"}, snap["version"],
                          f"'{md(snap['name'])}' staat nu op gestopt. Ze blijft in de sociale kaart en telt niet meer "
                          "mee als lopend aanbod.")
            sure = st.checkbox(f"Ja, verwijder '{md(snap['name'])}' definitief", key=f"vz_zeker_{pid}")
            if st.button("Definitief verwijderen", disabled=not sure, key=f"vz_weg_{pid}"):
                try:
                    get_store().delete_provision(pid, expected_version=snap["version"])
                except DataValidationError as exc:
                    show_error(exc)
                else:
                    st.session_state.pop(CHOSEN, None)
                    st.session_state.pop(SNAPSHOT, None)
                    rerun_with_message("vz_melding", f"'{md(snap['name'])}' is definitief verwijderd.")

    with tab_add:
        if message := st.session_state.pop("vz_melding_nieuw", None):
            st.success(message)
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
            new_street = c1.text_input("Straat")
            new_number = c2.text_input("Huisnummer", placeholder="12a")
            new_postcode = c1.text_input("Postcode", placeholder="1234 AB")
            new_city = c2.text_input("Plaats")
            add = st.form_submit_button("Toevoegen", type="primary")
        if add:
            sheet = pd.DataFrame([{"naam": new_name, "soort": new_type,
                                   "breedtegraad": "" if lat is None else repr(lat),
                                   "lengtegraad": "" if lon is None else repr(lon), "organisatie": org,
                                   "capaciteit_per_jaar": "" if cap is None else str(int(cap)), "status": new_status}])
            try:
                address = provision_changes({"street": new_street, "house_number": new_number,
                                             "postcode": new_postcode, "city": new_city})
                store = get_store()
                new = validate_provisions(sheet, file="formulier", area=outline,
                                          next_number=store.next_provision_number(), catalogue=CATALOGUE)
                store.import_provisions(new.assign(**address), source="formulier", as_batch=False)
            except DataValidationError as exc:
                show_error(exc)
            else:
                rerun_with_message("vz_melding_nieuw",
                                   f"'{md(new_name)}' toegevoegd als {md(new['provision_id'].iloc[0])}.")

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
        import_section(CATALOGUE)
    st.caption("Via de opdrachtregel: `python cli.py import-provisions BESTAND --store PAD [--mapping KOPPELING.json] "
               "[--outside-areas flag|skip] [--dry-run]` en `python cli.py export-provisions --store PAD --out "
               "voorzieningen.xlsx`.")

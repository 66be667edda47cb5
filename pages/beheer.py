"""Beheer: load a municipality's own CBS wijk- en buurtkaart into the store."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from data.area_import import format_report, read_area_file
from data.errors import DataValidationError
from data.formatting import format_datetime, format_number
from data.postcodes import describe_postcode_table, postcode_table_warnings, read_postcode_table
from data.provision_types import NEEDS, TARGET_GROUPS, ProvisionType
from data.reach import suitability_from_grid, suitability_grid
from data.schema import BATCH_KINDS
from data.store import describe_counts, file_sha256
from pages.common import (
    get_store,
    load_area_index,
    load_area_values,
    load_provision_types,
    load_suitability,
    log_export,
    md,
    require_admin,
    show_error,
    uploaded_file,
)

st.title("Beheer")
admin = require_admin()
if admin.is_demo:
    st.info("**Dit is de demo-opslag** met de verzonnen gemeente Voorbeeldstad. Echte gegevens horen in een eigen "
            "opslag, zodat demo en werkelijkheid nooit door elkaar lopen: start Steunkaart met een eigen opslagbestand "
            "(zie *Eigen installatie* in de README). Wilt u deze installatie zelf in gebruik nemen, verwijder dan "
            "eerst de demo; daarna maakt u de beheerder aan en importeert u de eigen gegevens.")
    with st.expander("Demo verwijderen"):
        st.markdown("Alle gebieden, voorzieningen, personen en scenario's van Voorbeeldstad gaan weg; het logboek "
                    "blijft. U wordt daarna afgemeld en maakt de eerste beheerder aan.")
        sure = st.checkbox("Ja, verwijder de demogemeente uit deze opslag", key="bh_demo_zeker")
        if st.button("Demo verwijderen", type="primary", disabled=not sure, key="bh_demo_weg"):
            removed = admin.remove_demo()
            st.success("De demo is verwijderd: " + describe_counts(removed) + ".")
            st.rerun()
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
                                                       details={"bestand": upload.name}, file_name=upload.name,
                                                       sha256=file_sha256(path))
        except DataValidationError as exc:
            show_error(exc)
        else:
            st.success("Import gelukt.")
            st.markdown("\n".join(f"- {md(line)}" for line in format_report(imported.report, warnings)))

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
                                                        details={"bestand": health_upload.name},
                                                        file_name=health_upload.name, sha256=file_sha256(path))
        except DataValidationError as exc:
            show_error(exc)
        else:
            st.success(f"Import gelukt: {summary['waarden']} waarden voor "
                       f"{health['area_code'].nunique()} gebieden.")
            if summary["onbekende_gebieden"]:
                st.warning(f"{summary['onbekende_gebieden']} gebieden staan nog niet in de opslag.")

st.subheader("Postcodes koppelen aan buurten")
st.markdown(
    "Met de CBS-tabel **Buurt, wijk en gemeente voor postcode en huisnummer** vindt de kaart de buurt bij een "
    "postcode (zoals 1505 AB). Upload het bestand zoals CBS het publiceert (CSV met puntkomma's, per adres of per "
    "postcode), van het jaar van de buurtindeling in de opslag, of een eigen tabel (CSV of Excel) met de kolommen "
    "`postcode` en `buurtcode`. Rijen van andere gemeenten worden overgeslagen; een postcode met adressen in meer "
    "buurten gaat naar de buurt met de meeste adressen. De nieuwe tabel vervangt de vorige en is onder *Imports* "
    "ongedaan te maken."
)
pc_upload = st.file_uploader("Postcodetabel", type=["csv", "txt", "xlsx"], key="bh_postcodes_bestand")
if pc_upload is None:
    st.session_state.pop("bh_postcodes", None)
else:
    prepared = st.session_state.get("bh_postcodes")
    if prepared is None or prepared["id"] != pc_upload.file_id:  # read once per uploaded file, not per rerun
        prepared = {"id": pc_upload.file_id, "table": None, "sha256": None}
        try:
            with uploaded_file(pc_upload, allowed=("csv", "xlsx")) as path:
                area_index = load_area_index()
                prepared["table"] = read_postcode_table(
                    path, file_name=pc_upload.name,
                    known_buurten=set(area_index.loc[area_index["level"] == "buurt", "area_code"]))
                prepared["sha256"] = file_sha256(path)
        except DataValidationError as exc:
            prepared["error"] = exc
        st.session_state["bh_postcodes"] = prepared
    if prepared.get("error") is not None:
        show_error(prepared["error"])
    elif prepared["table"] is not None:
        pc_table = prepared["table"]
        st.markdown("\n".join(f"- {md(line)}" for line in describe_postcode_table(pc_table)))
        for line in postcode_table_warnings(pc_table):
            st.warning(md(line))
        if st.button("Postcodes importeren", type="primary", key="bh_postcodes_import"):
            try:
                result = get_store().import_postcodes(pc_table, source=pc_upload.name, sha256=prepared["sha256"])
            except DataValidationError as exc:
                show_error(exc)
            else:
                st.success(f"Import gelukt: {format_number(result['postcodes'])} postcodes bij "
                           f"{format_number(result['buurten'])} buurten (import {result['import']}; onder *Imports* "
                           "ongedaan te maken).")
                if result["vervangen_postcodes"]:
                    st.info(f"De vorige tabel ({format_number(result['vervangen_postcodes'])} postcodes) is "
                            "vervangen.")

st.subheader("Soorten voorzieningen")
catalogue = load_provision_types()
st.dataframe(pd.DataFrame({
    "code": list(catalogue), "naam": [t.label for t in catalogue.values()],
    "doelgroepen": [", ".join(TARGET_GROUPS.get(g, g) for g in t.target_groups) for t in catalogue.values()],
    "standaardbereik (m)": [format_number(t.default_reach_m) for t in catalogue.values()],
    "capaciteitseenheid": [t.capacity_unit for t in catalogue.values()],
    "plaatsen": ["ja" if t.has_places else "nee, alleen bezoekers" for t in catalogue.values()],
    "plaatsen per vrijwilliger": ["" if t.places_per_volunteer is None else format_number(t.places_per_volunteer, 1)
                                  for t in catalogue.values()],
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
    c5, c6 = st.columns(2)
    with_places = c5.checkbox("Heeft plaatsen (een groep of koppeling met een vast aantal deelnemers)", value=True,
                              help="Zonder plaatsen (alleen bezoekers, zoals een buurthuis) telt de soort nooit als "
                                   "vrije plek bij het koppelen.")
    per_volunteer = c6.number_input("Plaatsen per vrijwilliger per jaar (leeg: niet afleiden)", min_value=0.0,
                                    value=None, step=0.5,
                                    help="Voor een capaciteit uit het aantal vrijwilligers, als die ontbreekt.")
    add_type = st.form_submit_button("Soort toevoegen", type="primary")
if add_type:
    try:
        get_store().add_provision_type(
            ProvisionType(code.strip(), label.strip(), description.strip(), tuple(groups), unit.strip(), int(reach),
                          colour="#8c6d31", has_places=bool(with_places),
                          places_per_volunteer=float(per_volunteer) if per_volunteer else None))
    except DataValidationError as exc:
        show_error(exc)
    else:
        st.success(f"Soort '{md(label)}' toegevoegd.")
        st.rerun()

st.subheader("Wat past bij wie")
st.markdown("Welke soort voorziening past bij wat iemand met een signaal nodig heeft. Het koppelen, de voorstellen "
            "in de signalenlijst en de scenario's gebruiken deze tabel. Een bezoek van lotgenoten past bij verlies "
            "van de partner, een maatje bij emotionele eenzaamheid, een groep als Grip & Glans bij sociale "
            "eenzaamheid. Een soort zonder plaatsen (alleen bezoekers) wordt wel voorgesteld als plek om elkaar te "
            "ontmoeten, maar telt nooit als vrije plek.")
grid = suitability_grid(catalogue, load_suitability())
edited = st.data_editor(
    pd.DataFrame({"code": grid.index, "Soort": grid["label"].to_numpy(),
                  **{label: grid[need].to_numpy() for need, label in NEEDS.items()},
                  "Plaatsen": grid["has_places"].map({True: "ja", False: "nee, alleen bezoekers"}).to_numpy()}),
    key="bh_geschiktheid", hide_index=True, width="stretch", disabled=["code", "Soort", "Plaatsen"],
    column_config={label: st.column_config.CheckboxColumn(label) for label in NEEDS.values()})
if st.button("Tabel bewaren", key="bh_geschiktheid_bewaar"):
    table = suitability_from_grid(edited.set_index("code").rename(columns={v: k for k, v in NEEDS.items()}))
    try:
        admin.save_suitability(table)
    except DataValidationError as exc:
        show_error(exc)
    else:
        st.success("De tabel 'wat past bij wie' is bewaard; het koppelen en de scenario's rekenen er nu mee.")
        st.rerun()

st.subheader("Gebieden in de opslag")
index = load_area_index()
if index.empty:
    st.info("Nog geen gebieden. Importeer hierboven de CBS Wijk- en Buurtkaart van uw gemeente.")
else:
    summary = index.groupby(["gemeente_code", "level"]).size().unstack(fill_value=0)
    summary = summary.reindex(columns=[c for c in ("gemeente", "wijk", "buurt") if c in summary.columns])
    st.dataframe(summary.rename(columns={"gemeente": "gemeente", "wijk": "wijken", "buurt": "buurten"}),
                 width="stretch")
    with st.expander("De gebieden van één gemeente en één jaar verwijderen"):
        values = load_area_values()
        gemeenten = sorted(index["gemeente_code"].dropna().unique())
        g1, g2 = st.columns(2)
        gemeente = g1.selectbox("Gemeente", gemeenten, key="bh_weg_gemeente", format_func=lambda g: " – ".join(
            [g, *index.loc[(index["area_code"] == g), "name"].head(1)]))
        codes = set(index.loc[index["gemeente_code"] == gemeente, "area_code"])
        years = sorted(values.loc[values["area_code"].isin(codes), "year"].dropna().astype(int).unique())
        year = g2.selectbox("Jaar van de cijfers", years, key="bh_weg_jaar")
        sure = st.checkbox(f"Ja, verwijder de cijfers van {md(gemeente)} uit {year} "
                           "(en gebieden zonder andere cijfers)", key="bh_weg_zeker")
        if st.button("Verwijderen", disabled=not (sure and year), key="bh_weg_knop"):
            try:
                result = admin.remove_areas(gemeente, int(year))
            except DataValidationError as exc:
                show_error(exc)
            else:
                st.success(f"Verwijderd: {format_number(result['waarden'])} kerncijfers en "
                           f"{format_number(result['gebieden'])} gebieden (import {result['import']}; onder *Imports* "
                           "ongedaan te maken).")
                st.rerun()

st.subheader("Imports")
st.markdown("Elke import (gebieden, Gezondheidsmonitor, voorzieningen, netwerken) staat hier met wie, wanneer, "
            "welk bestand (met SHA-256) en hoeveel. Een import ongedaan maken haalt weg wat hij toevoegde en zet "
            "terug wat hij verving, in één keer; het komt in het logboek.")
batches = admin.read_batches()
with_forms = st.toggle("Ook wijzigingen met de hand en netwerken uit het gespreksformulier", key="bh_formulier")
if not with_forms:
    batches = batches.loc[~batches["kind"].isin(["netwerk-invoer", "handmatig"])]
if batches.empty:
    st.info("Nog geen imports in deze opslag.")
else:
    st.dataframe(pd.DataFrame({
        "nr.": batches["batch_id"].astype(int), "wanneer": batches["at"].map(format_datetime),
        "soort": batches["kind_label"], "door": batches["user"], "bestand": batches["file_name"].fillna(""),
        "SHA-256": batches["sha256"].fillna("").str[:12], "aantallen": batches["counts"].map(describe_counts),
        "status": [("actief" if a else f"ongedaan gemaakt {format_datetime(t)} door {u}")
                   for a, t, u in zip(batches["active"], batches["undone_at"], batches["undone_by"], strict=True)],
    }), hide_index=True, width="stretch")
    active = batches.loc[batches["active"]]
    if len(active):
        labels = {int(b.batch_id): f"{int(b.batch_id)} – {b.kind_label}: {b.file_name or 'zonder bestand'} "
                  f"({format_datetime(b.at)})" for b in active.itertuples()}
        chosen = st.selectbox("Import ongedaan maken", list(labels), format_func=labels.get, index=None,
                              placeholder="kies een import", key="bh_undo_keuze")
        if chosen is not None:
            plan = admin.undo_preview(chosen)
            st.markdown(f"**Wat er gebeurt:** weg gaan {describe_counts(plan['remove'])}; terug komen (zoals vóór "
                        f"deze import) {describe_counts(plan['restore'])}.")
            if plan["orphans"]["voorzieningen"] or plan["orphans"]["personen"]:
                st.warning(f"Daarna liggen {format_number(plan['orphans']['voorzieningen'])} voorzieningen en wonen "
                           f"{format_number(plan['orphans']['personen'])} personen in een buurt die dan niet meer in "
                           "de opslag staat; ze blijven bewaard, maar staan niet meer op de kaart van een buurt.")
            if plan["blockers"]:
                st.error("Dit kan nog niet: " + "; ".join(
                    f"import {b['batch_id']} ({BATCH_KINDS.get(b['kind'], b['kind'])}) {md(b['reason'])}"
                    if b["batch_id"] else md(b["reason"]) for b in plan["blockers"]) + ". Maak die eerst ongedaan.")
            else:
                sure = st.checkbox(f"Ja, maak import {chosen} ongedaan", key="bh_undo_zeker")
                if st.button("Ongedaan maken", type="primary", disabled=not sure, key="bh_undo_knop"):
                    try:
                        admin.undo_batch(chosen)
                    except DataValidationError as exc:
                        show_error(exc)
                    else:
                        st.session_state.pop("bh_undo_keuze", None)
                        st.success(f"Import {chosen} is ongedaan gemaakt.")
                        st.rerun()

st.subheader("Reservekopie")
if admin.is_postgis:
    st.markdown("Deze opslag staat in PostgreSQL/PostGIS. De reservekopie is die van de database zelf: elke nacht "
                "`pg_dump -Fc`, terugzetten met `pg_restore` (zie *Met PostgreSQL/PostGIS* in de README en "
                "`deploy/backup.sh`). Hieronder kunt u daarnaast een volledige kopie als GeoPackage downloaden, "
                "bijvoorbeeld voor QGIS of een losse installatie; elke tabel wordt na het kopiëren vergeleken.")
else:
    st.markdown("Maak elke nacht een reservekopie; dat kan terwijl de app draait. Op de server, bijvoorbeeld met "
                "cron:")
    st.code(f"15 2 * * *  cd /pad/naar/steunkaart && .venv/bin/python cli.py backup --store {admin.path} "
            f"--out backup/steunkaart-$(date +\\%F).gpkg", language="bash")
    st.markdown("Terugzetten (na controle; de huidige opslag blijft ernaast bewaard): "
                f"`python cli.py restore backup/steunkaart-JJJJ-MM-DD.gpkg --store {admin.path}`.")
if st.button("Reservekopie nu maken om te downloaden", key="bh_backup"):
    with tempfile.TemporaryDirectory() as tmp:
        copy = admin.backup_to(Path(tmp) / "steunkaart-reservekopie.gpkg")
        st.session_state["bh_backup_bytes"] = copy.read_bytes()
if st.session_state.get("bh_backup_bytes"):
    st.download_button("Reservekopie downloaden (.gpkg)", st.session_state["bh_backup_bytes"],
                       file_name="steunkaart-reservekopie.gpkg", mime="application/geopackage+sqlite3",
                       on_click=log_export, args=("export-reservekopie", "opslag", {}))

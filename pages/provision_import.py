"""The import step of the Voorzieningen page: the template, an earlier export, or a municipality's
open data through a mapping (type column, value per value, source id, name and address columns,
points outside the areas), with a preview of what will be added, updated and skipped and why.

Not a page of its own (app.py's navigation lists the pages); pages/voorzieningen.py calls
:func:`import_section`. The work is done by :mod:`data.provisions`; this module only holds widgets.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from data.errors import DataValidationError
from data.formatting import format_number
from data.provisions import (
    ADDRESS_PARTS,
    OTHER_VALUES,
    OUTSIDE_CHOICES,
    OUTSIDE_LABEL,
    ImportMapping,
    prepare_provision_import,
    read_provision_source,
)
from data.store import file_sha256
from pages.common import get_store, md, show_error, uploaded_file

SOURCE_KINDS = ("csv", "xlsx", "geojson", "json", "gpkg")
MAX_VALUES = 40  # distinct source values with a choice each; the rest share one choice ("*")
SKIP = "__overslaan__"
NONE = "__geen__"


def _value_key(column: str, value: str) -> str:
    return "vzi_t_" + hashlib.sha1(f"{column}\x00{value}".encode()).hexdigest()[:12]


def _load_source(upload) -> bool:
    """Read a new upload once (kept in the session while it stays the same file); False if refused."""
    if st.session_state.get("vzi_bestand_id") == upload.file_id:
        return True
    for key in [k for k in st.session_state if str(k).startswith(("vzi_t_", "vzi_kol_", "vzi_adres_"))]:
        del st.session_state[key]
    st.session_state.pop("vzi_voorbeeld", None)
    try:
        with uploaded_file(upload, allowed=SOURCE_KINDS) as path:
            source = read_provision_source(path)
            sha = file_sha256(path)
    except DataValidationError as exc:
        st.session_state.pop("vzi_bestand_id", None)
        show_error(exc)
        return False
    st.session_state.update(vzi_bestand_id=upload.file_id, vzi_bron=source, vzi_sha=sha)
    _apply_mapping(source.guess_mapping(get_store().read_provision_types()))
    return True


def _apply_mapping(mapping: ImportMapping) -> None:
    """Put a mapping (guessed, or loaded from JSON) into the widgets' state, before they are drawn."""
    st.session_state["vzi_koppeling_basis"] = mapping
    st.session_state["vzi_kol_soort"] = mapping.type_column
    st.session_state["vzi_kol_id"] = mapping.id_column or NONE
    st.session_state["vzi_kol_naam"] = mapping.name_column or NONE
    st.session_state["vzi_kol_org"] = mapping.organisation_column or NONE
    for part in ADDRESS_PARTS:
        st.session_state[f"vzi_adres_{part}"] = mapping.address_columns.get(part) or NONE
    st.session_state["vzi_buiten"] = mapping.outside_areas
    for key in [k for k in st.session_state if str(k).startswith("vzi_t_")]:
        del st.session_state[key]


def _column_choice(label: str, key: str, columns: list[str], *, optional: bool = True, help: str | None = None):
    options = ([NONE] if optional else []) + columns
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0] if options else None
    value = st.selectbox(label, options, key=key, help=help,
                         format_func=lambda c: "(geen)" if c == NONE else str(c))
    return None if value == NONE else value


def _mapping_widgets(source, catalogue: dict) -> ImportMapping:
    """Widgets for every part of the mapping; returns the mapping they describe."""
    st.markdown("**Kolommen in het bestand**")
    st.dataframe(source.column_summary().rename(columns={"kolom": "Kolom", "gevuld": "Gevuld",
                                                         "verschillend": "Verschillende waarden",
                                                         "voorbeelden": "Voorbeelden"}),
                 hide_index=True, width="stretch")
    columns = [str(c) for c in source.frame.columns]
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        type_column = _column_choice("Kolom met de soort", "vzi_kol_soort", columns, optional=False,
                                     help="Elke kolom kan het zijn, bijvoorbeeld Categorie of Soort.")
    with c2:
        id_column = _column_choice("Kolom met een vaste id van de bron", "vzi_kol_id", columns,
                                   help="Met een id werkt opnieuw importeren dezelfde voorzieningen bij in plaats van "
                                        "ze dubbel toe te voegen.")
    with c3:
        name_column = _column_choice("Kolom met de naam", "vzi_kol_naam", columns)
    with c4:
        org_column = _column_choice("Kolom met de organisatie", "vzi_kol_org", columns)
    a = st.columns(4)
    address = {}
    for col, (part, label) in zip(a, ADDRESS_PARTS.items(), strict=True):
        with col:
            chosen = _column_choice(f"Adres: {label.lower()}", f"vzi_adres_{part}", columns)
        if chosen:
            address[part] = chosen

    base: ImportMapping = st.session_state.get("vzi_koppeling_basis") or ImportMapping()
    counts = source.value_counts(type_column)
    st.markdown(f"**Soorten: elke waarde van '{md(type_column)}' naar een soort uit de catalogus, of overslaan**")
    options = [SKIP, *catalogue]
    labels = {SKIP: "overslaan", **{k: t.label for k, t in catalogue.items()}}
    types: dict[str, str | None] = {}
    shown = counts.iloc[:MAX_VALUES]
    grid = st.columns(3)
    for k, (value, count) in enumerate(shown.items()):
        key = _value_key(type_column, value)
        if key not in st.session_state:
            wanted = base.types.get(value, base.types.get(OTHER_VALUES)) if base.type_column == type_column else None
            st.session_state[key] = wanted if wanted in catalogue else SKIP
        with grid[k % 3]:
            choice = st.selectbox(f"{value or '(leeg)'} ({format_number(count)}×)", options, key=key,
                                  format_func=labels.get)
        types[value] = None if choice == SKIP else choice
    rest = counts.iloc[MAX_VALUES:]
    if len(rest):
        key = _value_key(type_column, OTHER_VALUES)
        st.session_state.setdefault(key, SKIP)
        choice = st.selectbox(f"Alle {format_number(len(rest))} overige waarden ({format_number(rest.sum())}×)",
                              options, key=key, format_func=labels.get)
        types[OTHER_VALUES] = None if choice == SKIP else choice
    outside = st.radio("Punten buiten de geladen gebieden", list(OUTSIDE_CHOICES), key="vzi_buiten",
                       format_func=OUTSIDE_CHOICES.get, horizontal=True)
    return ImportMapping(type_column, id_column, name_column, org_column, address, types, outside)


def _show_preview(preview: dict) -> None:
    counts = preview["counts"]
    m = st.columns(5)
    for col, (label, key) in zip(m, (("Nieuw", "nieuw"), ("Bijgewerkt", "bijgewerkt"), ("Ongewijzigd", "ongewijzigd"),
                                     ("Overgeslagen", "overgeslagen"), ("Buiten de gebieden", "buiten")), strict=True):
        col.metric(label, format_number(counts[key]))
    for note in preview["notes"]:
        st.info(md(note))
    if len(preview["warnings"]):
        st.warning(f"**{format_number(len(preview['warnings']))} waarschuwing(en)**: controleer deze rijen in de bron "
                   "(ze worden wel geïmporteerd, zoals beschreven).")
        warnings = preview["warnings"]
        if len(warnings) <= 20:  # as text: readable, and quotable in a message to the data owner
            st.markdown("\n".join(f"- rij {w.rij}, {md(w.kolom)}: {md(w.melding)}" for w in warnings.itertuples()))
        else:
            st.dataframe(warnings.rename(columns={"rij": "Rij", "kolom": "Kolom", "melding": "Melding"})
                         .drop(columns="bestand"), hide_index=True, width="stretch")
    if len(preview["skipped"]):
        with st.expander(f"Overgeslagen rijen ({format_number(len(preview['skipped']))})",
                         expanded=len(preview["skipped"]) <= 20):
            st.dataframe(preview["skipped"].rename(columns={"rij": "Rij", "naam": "Naam", "reden": "Reden"}),
                         hide_index=True, width="stretch")
    changed = preview["actions"]
    changed = changed.loc[changed["action"] != "ongewijzigd"]
    if len(changed):
        with st.expander(f"Nieuw en bijgewerkt ({format_number(len(changed))})"):
            st.dataframe(changed.rename(columns={"provision_id": "id", "name": "Naam", "buurt_code": "Buurt",
                                                 "action": "Wat er gebeurt"}), hide_index=True, width="stretch")


def import_section(catalogue: dict) -> None:
    """Upload, map (for open data), preview and import; every step says what happens next."""
    st.markdown("#### Importeren")
    upload = st.file_uploader("Ingevuld sjabloon, eerdere export of open data (Excel, CSV, GeoJSON, GeoPackage)",
                              type=list(SOURCE_KINDS), key="vzi_upload")
    if upload is None:
        st.caption("Een bestand in de eigen kolommen van de bron (bijvoorbeeld de open data 'maatschappelijke "
                   "voorzieningen' van de gemeente) koppelt u hierna kolom voor kolom; eerst ziet u wat er gebeurt, "
                   "dan pas wordt er iets opgeslagen.")
        st.session_state.pop("vzi_bestand_id", None)
        return
    if not _load_source(upload):
        return
    source = st.session_state["vzi_bron"]
    store = get_store()
    if source.is_template:
        st.success(f"Sjabloon van Steunkaart herkend: {format_number(len(source.frame))} rijen.")
        mapping = None
        outside = st.radio("Punten buiten de geladen gebieden", list(OUTSIDE_CHOICES), key="vzi_buiten_sjabloon",
                           format_func=OUTSIDE_CHOICES.get, horizontal=True)
        fingerprint = f"sjabloon:{outside}"
    else:
        st.info(f"**{md(source.file)}**: {format_number(len(source.frame))} rijen in de eigen kolommen van de bron. "
                "Koppel de kolommen (of laad een bewaarde koppeling) en bekijk het voorbeeld.")
        saved = st.file_uploader("Bewaarde koppeling laden (JSON)", type=["json"], key="vzi_koppeling_upload")
        if saved is not None and st.session_state.get("vzi_koppeling_id") != saved.file_id:
            try:
                loaded = ImportMapping.from_json(saved.getvalue(), file=saved.name)
                missing = [c for c in (loaded.type_column, loaded.id_column, loaded.name_column,
                                       *loaded.address_columns.values()) if c and c not in source.frame.columns]
                if missing:
                    raise DataValidationError(f"De koppeling noemt kolommen die dit bestand niet heeft: "
                                              f"{', '.join(missing)}.", file=saved.name)
            except DataValidationError as exc:
                show_error(exc)
            else:
                _apply_mapping(loaded)
                st.session_state["vzi_koppeling_id"] = saved.file_id
                st.session_state.pop("vzi_voorbeeld", None)
                st.rerun()
        mapping = _mapping_widgets(source, catalogue)
        stem = source.file.rsplit(".", 1)[0]
        st.download_button("Koppeling bewaren (JSON)", mapping.to_json().encode("utf-8"),
                           file_name=f"koppeling_{stem}.json", mime="application/json", icon=":material/save:",
                           help="Dezelfde koppeling werkt ook op de opdrachtregel: python cli.py import-provisions "
                                "BESTAND --mapping KOPPELING.json")
        outside = mapping.outside_areas
        fingerprint = mapping.to_json()

    if st.button("Voorbeeld bekijken", key="vzi_voorbeeld_knop", icon=":material/preview:"):
        try:
            existing = store.read_table("provisions")
            prepared = prepare_provision_import(source, mapping, area=store.outline(),
                                                next_number=store.next_provision_number(), catalogue=catalogue,
                                                existing=existing[["provision_id", "source_id"]],
                                                outside_areas=outside)
            actions = store.preview_provisions(prepared.provisions)
        except DataValidationError as exc:
            st.session_state.pop("vzi_voorbeeld", None)
            show_error(exc)
        else:
            plan = actions["action"].value_counts()
            st.session_state["vzi_voorbeeld"] = {
                "fingerprint": fingerprint, "file_id": upload.file_id, "prepared": prepared, "actions": actions,
                "skipped": prepared.skipped, "warnings": prepared.warnings_frame(), "notes": prepared.notes,
                "counts": {"nieuw": int(plan.get("nieuw", 0)), "bijgewerkt": int(plan.get("bijgewerkt", 0)),
                           "ongewijzigd": int(plan.get("ongewijzigd", 0)), "overgeslagen": len(prepared.skipped),
                           "buiten": int(prepared.provisions["outside_areas"].sum())}}
    preview = st.session_state.get("vzi_voorbeeld")
    current = preview is not None and preview["fingerprint"] == fingerprint and preview["file_id"] == upload.file_id
    if preview is not None and not current:
        st.caption("De koppeling is veranderd sinds het voorbeeld: bekijk het voorbeeld opnieuw.")
    if not current:
        return
    _show_preview(preview)
    counts = preview["counts"]
    if counts["nieuw"] + counts["bijgewerkt"] == 0:
        st.info("Er verandert niets: alle voorzieningen uit dit bestand staan er al zo in.")
        return
    if st.button(f"Importeren ({format_number(counts['nieuw'])} nieuw, {format_number(counts['bijgewerkt'])} "
                 "bijgewerkt)", type="primary", key="vzi_importeer"):
        prepared = preview["prepared"]
        try:
            result = store.import_provisions(prepared.provisions, source=source.file,
                                             sha256=st.session_state.get("vzi_sha"),
                                             refuse_same_file=not prepared.keyed)
        except DataValidationError as exc:
            show_error(exc)
        else:
            st.session_state.pop("vzi_voorbeeld", None)
            st.session_state["vzi_melding"] = (
                f"Import gelukt: {result['nieuw']} nieuw, {result['bijgewerkt']} bijgewerkt, {result['ongewijzigd']} "
                f"ongewijzigd, {counts['overgeslagen']} overgeslagen"
                + (f"; {counts['buiten']} {OUTSIDE_LABEL}" if counts["buiten"] else "") + ".")
            st.rerun()


def show_import_message() -> None:
    """The result of the last import, kept over the rerun that shows the new inventory."""
    message = st.session_state.pop("vzi_melding", None)
    if message:
        st.success(message)


"""The Importeren tab of the Netwerken page: a Network Canvas export (files or zip, CSV and/or GraphML),
the Steunkaart templates, or Steunkaart's own GraphML, with a preview before anything is stored.

For the roles that may enter networks; the access layer keeps a wijkteam to persons in its own wijken.
Not a page of its own: pages/netwerken.py calls :func:`import_tab`. The work is done in
:mod:`data.network_canvas`, :mod:`data.network_import` and :mod:`data.network_formats`.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from data.errors import DataValidationError
from data.formatting import format_number
from data.network_canvas import (
    NetworkCanvasMapping,
    base_variable,
    mapping_with_choices,
    preview_network_canvas,
    read_network_canvas_export,
    value_choices,
)
from data.network_formats import network_from_graphml
from data.network_import import network_templates_excel, read_network_files
from data.store import file_sha256
from data.uploads import check_upload, max_upload_bytes
from pages.common import get_store, load_area_index, md, show_error

SOURCES = {"nc": "Network Canvas-export (CSV, GraphML of zip)", "sjabloon": "Sjablonen van Steunkaart (Excel of CSV)",
           "graphml": "GraphML van Steunkaart (export-network)"}
NC_KINDS = ("csv", "zip", "graphml", "xml")
NONE = "__geen__"


@contextlib.contextmanager
def _saved(uploads) -> list[Path]:
    """Give template uploads real paths (the readers need them), each checked first; removed afterwards."""
    limit = min(max_upload_bytes(), int(st.get_option("server.maxUploadSize")) * 1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for upload in uploads:
            data = upload.getvalue()
            check_upload(upload.name, data, allowed=("csv", "xlsx"), max_bytes=limit)
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(data)
            paths.append(path)
        yield paths


def _known_buurten() -> set[str]:
    index = load_area_index()
    return set(index.loc[index["level"] == "buurt", "area_code"])


def _table(frame: pd.DataFrame, title: str, *, expanded: bool = False) -> None:
    if frame is not None and len(frame):
        with st.expander(f"{title} ({format_number(len(frame))})", expanded=expanded):
            st.dataframe(frame, hide_index=True, width="stretch")


def _nc_preview(files, mapping_upload) -> None:
    try:
        mapping = (NetworkCanvasMapping.from_json(mapping_upload.getvalue(), file=mapping_upload.name)
                   if mapping_upload is not None else NetworkCanvasMapping.preset())
        limit = min(max_upload_bytes(), int(st.get_option("server.maxUploadSize")) * 1024 * 1024)
        for upload in files:
            if upload.size > limit:
                raise DataValidationError("Het bestand is te groot.", file=upload.name)
        # The reader checks every file by content (zips too, without the shapefile rule of area uploads).
        source = read_network_canvas_export([(f.name, f.getvalue()) for f in files])
        sha = hashlib.sha256(b"".join(f.getvalue() for f in files)).hexdigest()
        preview = preview_network_canvas(source, mapping, known_buurten=_known_buurten())
    except DataValidationError as exc:
        st.session_state.pop("nwi_voorbeeld", None)
        show_error(exc)
        return
    st.session_state["nwi_voorbeeld"] = {"kind": "nc", "preview": preview, "label": source.label, "sha": sha,
                                         "frames": preview.frames, "key": _key(files, mapping_upload),
                                         "source": source, "mapping": mapping}


def _mapping_step(shown: dict) -> None:
    """Change which variable feeds a field and what an unmapped value means; then preview again."""
    preview, source = shown["preview"], shown["source"]
    unmapped = preview.unmapped_values
    missing = preview.fields["variabele"].isna() & preview.fields["belangrijk"]
    with st.expander("Koppeling aanpassen (variabelen en waarden)", expanded=bool(len(unmapped)) or missing.any()):
        st.caption("Kies per veld de variabele uit de export en per niet gekoppelde waarde wat die betekent. "
                   "Wat u niet kiest, blijft onbekend. Daarna: *Koppeling toepassen* en het voorbeeld opnieuw.")
        levels = {"ego": source.variables("egos"), "alter": source.variables("nodes")}
        variables: dict = {}
        cols = st.columns(3)
        for k, row in enumerate(preview.fields.itertuples(index=False)):
            current = base_variable(row.variabele)
            options = [NONE, *dict.fromkeys([*([current] if current else []), *levels.get(row.niveau, [])])]
            key = f"nwi_var_{row.niveau}_{row.veld}"
            st.session_state.setdefault(key, current or NONE)
            with cols[k % 3]:
                chosen = st.selectbox(f"{row.label} ({'persoon' if row.niveau == 'ego' else 'andere'})", options,
                                      key=key, format_func=lambda v: "(niet gekoppeld)" if v == NONE else v)
            if (None if chosen == NONE else chosen) != current:
                variables[(row.niveau, row.veld)] = None if chosen == NONE else chosen
        values: dict = {}
        if len(unmapped):
            st.markdown("**Niet gekoppelde waarden**")
            level_of = dict(zip(preview.fields["veld"], preview.fields["niveau"], strict=False))
            vcols = st.columns(3)
            for k, row in enumerate(unmapped.itertuples(index=False)):
                choices = value_choices(row.veld)
                if not choices:
                    continue
                key = f"nwi_waarde_{row.veld}_{hashlib.sha1(str(row.waarde).encode()).hexdigest()[:10]}"
                with vcols[k % 3]:
                    chosen = st.selectbox(f"{row.veld}: '{row.waarde}' ({format_number(row.aantal)}×)",
                                          [NONE, *choices], key=key,
                                          format_func=lambda v, c=choices: "(onbekend laten)" if v == NONE else c[v])
                if chosen != NONE:
                    values.setdefault((level_of.get(row.veld, "alter"), row.veld), {})[str(row.waarde)] = chosen
        b1, b2 = st.columns(2)
        try:
            mapping = mapping_with_choices(shown["mapping"], variables, values)
        except DataValidationError as exc:
            show_error(exc)
            return
        b2.download_button("Koppeling bewaren (JSON)", mapping.to_json().encode("utf-8"),
                           file_name="koppeling_network_canvas.json", mime="application/json", icon=":material/save:",
                           help="Werkt ook op de opdrachtregel: import-network --network-canvas … --mapping …")
        if b1.button("Koppeling toepassen", key="nwi_toepassen", disabled=not (variables or values)):
            preview = preview_network_canvas(source, mapping, known_buurten=_known_buurten())
            shown.update(preview=preview, frames=preview.frames, mapping=mapping)
            for key in [k for k in st.session_state if str(k).startswith(("nwi_var_", "nwi_waarde_"))]:
                del st.session_state[key]
            st.rerun()


def _key(files, extra=None) -> tuple:
    return tuple(f.file_id for f in files) + ((extra.file_id,) if extra is not None else ())


def _show_nc(preview) -> None:
    c = preview.counts
    m = st.columns(4)
    m[0].metric("Gesprekken (personen)", format_number(c["personen"]))
    m[1].metric("Relaties", format_number(c["relaties"]))
    m[2].metric("Banden tussen anderen", format_number(c["onderlinge_banden"]))
    m[3].metric("Overgeslagen knopen", format_number(c["overgeslagen_knopen"]))
    if len(preview.identifying):
        st.info("**Niet geïmporteerd (identificerend):** "
                + md(", ".join(dict.fromkeys(preview.identifying["kolom"].astype(str))))
                + ". Namen, telefoon, e-mail en adressen komen nooit in Steunkaart; de import gaat door.")
    for row in preview.skipped_node_types.itertuples(index=False):
        st.info(f"**Overgeslagen (geen personen):** {format_number(row.knopen)} knopen van het soort "
                f"'{md(row.soort)}'" + (f" en {format_number(row.banden)} banden daarmee" if row.banden else "")
                + ". Plekken waar mensen elkaar ontmoeten worden geen personen of steunrelaties.")
    found = preview.fields.loc[preview.fields["variabele"].notna()]
    missing = preview.fields.loc[preview.fields["variabele"].isna() & preview.fields["belangrijk"]]
    if len(missing):
        st.warning("**Niet gevonden in de export:** " + md(", ".join(missing["label"])) + ". Zonder die velden "
                   "blijven ze onbekend (niet 'nee'); laad zo nodig een koppeling die de variabelen noemt.")
    _table(found.rename(columns={"label": "Veld", "variabele": "Variabele in de export"}), "Gekoppelde velden")
    _table(preview.unmapped_variables, "Niet gekoppelde variabelen")
    _table(preview.unmapped_values, "Niet gekoppelde waarden", expanded=True)
    _table(preview.per_interview.drop(columns=["bestand"], errors="ignore"), "Per gesprek")
    _table(preview.warnings, "Waarschuwingen")


def _template_preview(persons, ties, participation) -> None:
    try:
        uploads = [u for u in (persons, ties, participation) if u is not None]
        with _saved(uploads) as paths:
            store = get_store()
            frames = read_network_files(
                paths[0], paths[1] if ties is not None else None,
                paths[uploads.index(participation)] if participation is not None else None,
                known_buurten=_known_buurten(), known_persons=set(store.read_table("persons")["person_id"]),
                known_provisions=set(store.read_table("provisions")["provision_id"]))
            sha = file_sha256(paths[0])
    except DataValidationError as exc:
        st.session_state.pop("nwi_voorbeeld", None)
        show_error(exc)
        return
    st.session_state["nwi_voorbeeld"] = {"kind": "sjabloon", "frames": frames, "label": persons.name, "sha": sha,
                                         "key": _key(uploads)}


def _graphml_preview(upload) -> None:
    try:
        frames = network_from_graphml(upload.getvalue(), file=upload.name)
    except DataValidationError as exc:
        st.session_state.pop("nwi_voorbeeld", None)
        show_error(exc)
        return
    st.session_state["nwi_voorbeeld"] = {"kind": "graphml", "frames": frames, "label": upload.name, "sha": None,
                                         "key": _key([upload])}


def _counts(frames: dict) -> None:
    m = st.columns(3)
    m[0].metric("Personen", format_number(len(frames["persons"])))
    m[1].metric("Relaties", format_number(len(frames["ties"])))
    links = frames.get("alter_links")
    m[2].metric("Banden tussen anderen", format_number(0 if links is None else len(links)))


def import_tab() -> None:
    """Choose a source, upload, preview, import; every step says what happens next."""
    st.markdown("Lees netwerken in die buiten Steunkaart zijn vastgelegd. Eerst ziet u wat er gebeurt; pas na "
                "**Importeren** wordt er iets opgeslagen. Namen, telefoonnummers en adressen worden nooit "
                "ingelezen.")
    kind = st.radio("Bron", list(SOURCES), format_func=SOURCES.get, key="nwi_bron", horizontal=True)
    current = None
    if kind == "nc":
        files = st.file_uploader("De bestanden van de export (ego, attributeList, edgeList, GraphML) of de zip",
                                 type=list(NC_KINDS), accept_multiple_files=True, key="nwi_nc")
        mapping = st.file_uploader("Koppeling (JSON, optioneel; zonder: de standaardkoppeling voor Network Canvas)",
                                   type=["json"], key="nwi_nc_koppeling")
        if files:
            current = _key(files, mapping)
            if st.button("Voorbeeld bekijken", key="nwi_voorbeeld_nc", icon=":material/preview:"):
                _nc_preview(files, mapping)
    elif kind == "sjabloon":
        st.download_button("Sjablonen (Excel, met uitleg, vragen en antwoorden)", network_templates_excel(),
                           file_name="sjabloon_netwerken.xlsx", icon=":material/description:")
        persons = st.file_uploader("Personen (of het ingevulde sjabloon met alle tabbladen)", type=["csv", "xlsx"],
                                   key="nwi_personen")
        ties = st.file_uploader("Relaties (leeg laten bij het sjabloon met tabbladen)", type=["csv", "xlsx"],
                                key="nwi_relaties")
        participation = st.file_uploader("Deelname (optioneel)", type=["csv", "xlsx"], key="nwi_deelname")
        if persons is not None:
            current = _key([u for u in (persons, ties, participation) if u is not None])
            if st.button("Voorbeeld bekijken", key="nwi_voorbeeld_sj", icon=":material/preview:"):
                _template_preview(persons, ties, participation)
    else:
        upload = st.file_uploader("GraphML-bestand", type=["graphml", "xml"], key="nwi_graphml")
        if upload is not None:
            current = _key([upload])
            if st.button("Voorbeeld bekijken", key="nwi_voorbeeld_gm", icon=":material/preview:"):
                _graphml_preview(upload)

    shown = st.session_state.get("nwi_voorbeeld")
    if shown is None or current is None or shown["key"] != current:
        return
    if shown["kind"] == "nc":
        _show_nc(shown["preview"])
        _mapping_step(shown)
        if not shown["preview"].ok:
            st.error("Zo kan er niets geïmporteerd worden; zie de problemen hieronder.")
            st.dataframe(shown["preview"].problems, hide_index=True, width="stretch")
            return
    else:
        _counts(shown["frames"])
    frames = shown["frames"]
    if not len(frames["persons"]):
        st.info("Er is niets te importeren.")
        return
    if st.button(f"Importeren ({format_number(len(frames['persons']))} personen, "
                 f"{format_number(len(frames['ties']))} relaties)", type="primary", key="nwi_importeer"):
        try:
            counts = get_store().merge_network(frames["persons"], frames["ties"], frames.get("participation"),
                                               alter_links=frames.get("alter_links"), source=shown["label"],
                                               sha256=shown["sha"])
        except DataValidationError as exc:
            show_error(exc)
        else:
            st.session_state.pop("nwi_voorbeeld", None)
            st.success(f"Netwerk geïmporteerd: {counts['personen']} personen, {counts['relaties']} relaties, "
                       f"{counts['deelnames']} deelnames, {counts['onderlinge_banden']} banden tussen anderen. "
                       "Ongedaan maken kan de beheerder op de pagina Beheer.")

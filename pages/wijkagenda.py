"""Wijkagenda: one shared social agenda per wijk (issue 17).

The gebiedsverbinder keeps the agenda of the wijk; opbouwwerk and wijkteam add items and update their own; the
gemeente reads. An item is a collective action linked to buurten, provisions, residents' initiatives and gaps,
never to a person. The role rules are in data/access.py: the page shows the forms a role may use and shows the
access layer's refusal for the rest. Only the open tab runs (``on_change="rerun"``).
"""


import pandas as pd
import streamlit as st

from data.access import AccessDenied
from data.agenda import agenda_export_bytes, agenda_table, changes_since
from data.errors import ConflictError, DataValidationError, StoreError
from data.formatting import format_date, format_datetime
from data.schema import AGENDA_OWNERS, AGENDA_STATUSES, INITIATIVE_STATUSES
from pages.common import (
    get_store,
    load_areas,
    load_provision_types,
    load_provisions,
    load_table,
    log_export,
    md,
    show_error,
    signed_in_user,
    stop_without_areas,
)

NO_ITEMS = "Nog geen agendapunten in deze wijk."
READ_ONLY = ("U bekijkt de wijkagenda alleen (rol gemeente): de gebiedsverbinder, het opbouwwerk en het wijkteam "
             "zetten de gezamenlijke acties op de agenda en houden ze bij.")
# The owner a new item gets by default: the team of the role that adds it.
DEFAULT_OWNER = {"gebiedsverbinder": "gebiedsverbinder", "opbouwwerker": "opbouwwerker", "wijkteam": "wijkteam"}

st.title("Wijkagenda")
st.caption("Eén gedeelde sociale agenda per wijk: welke gezamenlijke acties lopen er, wie trekt ze, wat is de stand? "
           "Een agendapunt gaat over buurten, voorzieningen, bewonersinitiatieven en tekorten, nooit over een bewoner.")
user = signed_in_user()
store = get_store()
buurten = load_areas("buurt")
stop_without_areas(buurten)
wijk_areas = load_areas("wijk")
read_only = user.role == "gemeente"
today = pd.Timestamp.today().normalize()

wijk_names = pd.Series(wijk_areas["name"].astype(str).to_numpy(), index=wijk_areas["area_code"].astype(str))
codes = sorted(set(wijk_names.index) | set(buurten["wijk_code"].dropna().astype(str)))
if user.role in ("gebiedsverbinder", "wijkteam") and user.wijken:
    codes = [c for c in codes if c in user.wijken] + [c for c in codes if c not in user.wijken]
wijk = st.selectbox("Wijk", codes, key="wa_wijk", format_func=lambda w: f"{wijk_names.get(w, w)} ({w})")
if read_only:
    st.info(READ_ONLY)

in_wijk = buurten.loc[buurten["wijk_code"].astype(str) == wijk].sort_values("area_code")
buurt_names = pd.Series(in_wijk["name"].astype(str).to_numpy(), index=in_wijk["area_code"].astype(str))
provisions = load_provisions()
provisions_here = provisions.loc[provisions["buurt_code"].astype(str).isin(buurt_names.index)]
provision_names = pd.Series(provisions_here["name"].astype(str).to_numpy(),
                            index=provisions_here["provision_id"].astype(str))
catalogue = load_provision_types()
area_index = pd.concat([pd.DataFrame(buurten[["area_code", "name", "level"]]),
                        pd.DataFrame(wijk_areas[["area_code", "name", "level"]])], ignore_index=True)


def _buurt_label(code) -> str:
    return f"{buurt_names.get(code, code)} ({code})"


def _initiatives_here() -> pd.DataFrame:
    frame = pd.DataFrame(load_table("initiatives")).drop(columns="geometry", errors="ignore")
    return frame.loc[frame["buurt_code"].astype(str).isin(buurt_names.index)].reset_index(drop=True)


def _items_here() -> pd.DataFrame:
    items = load_table("agenda_items")
    return items.loc[items["wijk_code"].astype(str) == wijk].reset_index(drop=True)


def _may_update(row) -> bool:
    """Whether the form may offer this item (the access layer decides again on saving)."""
    if user.is_admin:
        return True
    if user.role == "gebiedsverbinder":
        return not user.wijken or str(row["wijk_code"]) in user.wijken
    return user.role in ("opbouwwerker", "wijkteam") and str(row["created_by"]) == user.username


def _save_errors(action):
    """Run a save; show a Dutch message on a refusal and return None, else the saved record."""
    try:
        return action()
    except DataValidationError as exc:
        show_error(exc)
    except (ConflictError, AccessDenied, StoreError) as exc:
        st.error(md(str(exc)))
    return None


# --------------------------------------------------------------------------- what the data says (aggregates only)
def _facts() -> list[dict]:
    """The wijk's facts, computed once per store version, user scope, wijk, horizon and day (a form's rerun
    re-uses them)."""
    from pages.common import _scope, _version

    return _cached_facts(store.location, _version(store), _scope(user), wijk, months, today.strftime("%Y-%m-%d"))


@st.cache_data(show_spinner="De cijfers van de wijk worden berekend…", max_entries=64)
def _cached_facts(path: str, mtime: float, scope: tuple, wijk: str, months: int, day: str) -> list[dict]:
    """The wijk's facts (mapping/agenda_report.wijk_facts): profile, shortages, hot spots, provisions at risk and
    signal shares, each as it is shown elsewhere (suppressed, never a count under 5, never a person)."""
    from mapping.agenda_report import wijk_facts
    from pages.common import load_adjacency, load_area_index, load_area_values, load_signal_groups, load_signal_share

    groups = load_signal_groups()
    per_buurt = groups.groupby("buurt_code")["count"].sum() if len(groups) else None
    share = load_signal_share()
    return wijk_facts(wijk, buurten=buurten, values=load_area_values(), areas=load_area_index(),
                      provisions=provisions, catalogue=catalogue, signals_per_buurt=per_buurt,
                      signal_share=share if len(share) else None, adjacency=load_adjacency(), months=months,
                      today=pd.Timestamp(day))


with st.expander("Wat de cijfers zeggen", expanded=True):
    months = st.slider("Financiering eindigt binnen (maanden)", 3, 24, 12, key="wa_maanden")
    facts = _facts()
    if not facts:
        st.info("Voor deze wijk vallen geen tekorten, clusters, voorzieningen in gevaar of hoge aandelen met een "
                "signaal op (aantallen onder de 5 worden nooit getoond).")
    from pages.common import to_agenda_button

    for n, fact in enumerate(facts):
        c1, c2 = st.columns([5, 1])
        c1.markdown(md(fact["text"]))
        with c2:
            to_agenda_button(key=f"wa_feit_{wijk}_{n}", wijk_code=wijk, title=fact["title"], origin_kind=fact["kind"],
                             figure=fact["figure"], links=fact["links"])
    st.caption("Alleen geaggregeerde cijfers: aantallen personen onder de 5 zijn verborgen, zoals overal. *Naar de "
               "agenda* zet het cijfer zoals het hier staat op de agenda, nooit een persoon.")

tabs = ["Agenda", "Wat is er veranderd", "Initiatieven en sleutelfiguren"]
opened = dict(zip(tabs, st.tabs(tabs, key="wa_tabs", on_change="rerun"), strict=True))


# --------------------------------------------------------------------------- agenda
def _shown_agenda(table: pd.DataFrame) -> pd.DataFrame:
    links = table[["buurten", "voorzieningen", "initiatieven", "tekorten"]].astype(object)
    joined = links.where(links.notna(), "").agg(lambda r: "; ".join(v for v in r if v), axis=1)
    return pd.DataFrame({
        "Agendapunt": table["agendapunt"].astype(str), "Titel": table["titel"].astype(str),
        "Eigenaar": table["eigenaar"].fillna(""), "Status": table["status"].fillna(""),
        "Start": table["start"].map(format_date), "Deadline": table["deadline"].map(format_date),
        "Bron": table["bron"].fillna(""), "Cijfer": table["cijfer"].fillna(""),
        "Koppelingen": joined if len(table) else pd.Series(dtype=str),
    })


def _new_item_form() -> None:
    initiatives = _initiatives_here()
    initiative_names = pd.Series(initiatives["name"].astype(str).to_numpy(),
                                 index=initiatives["initiative_id"].astype(str))
    st.subheader("Nieuw agendapunt")
    with st.form("wa_nieuw", clear_on_submit=True):
        title = st.text_input("Titel", key="wa_nieuw_titel", max_chars=200)
        aim = st.text_area("Doel", key="wa_nieuw_doel", max_chars=1000)
        c1, c2, c3, c4 = st.columns(4)
        owners = list(AGENDA_OWNERS)
        owner = c1.selectbox("Eigenaar (team)", owners, format_func=AGENDA_OWNERS.get, key="wa_nieuw_eigenaar",
                             index=owners.index(DEFAULT_OWNER.get(user.role, "gebiedsverbinder")))
        status = c2.selectbox("Status", list(AGENDA_STATUSES), format_func=AGENDA_STATUSES.get, key="wa_nieuw_status")
        starts = c3.date_input("Start", None, format="DD-MM-YYYY", key="wa_nieuw_start")
        due = c4.date_input("Deadline", None, format="DD-MM-YYYY", key="wa_nieuw_deadline")
        l1, l2 = st.columns(2)
        linked_buurten = l1.multiselect("Buurten", list(buurt_names.index), format_func=_buurt_label,
                                        key="wa_nieuw_buurten", placeholder="Kies…")
        linked_provisions = l2.multiselect("Voorzieningen in de wijk", list(provision_names.index),
                                           format_func=lambda p: f"{provision_names.get(p, p)} ({p})",
                                           key="wa_nieuw_voorzieningen", placeholder="Kies…")
        linked_initiatives = l1.multiselect("Bewonersinitiatieven", list(initiative_names.index),
                                            format_func=lambda i: f"{initiative_names.get(i, i)} ({i})",
                                            key="wa_nieuw_initiatieven", placeholder="Kies…")
        linked_gaps = l2.multiselect("Tekorten (soort voorziening)", list(catalogue),
                                     format_func=lambda c: getattr(catalogue.get(c), "label", c),
                                     key="wa_nieuw_tekorten", placeholder="Kies…")
        st.caption("Schrijf over de gezamenlijke actie, nooit over een bewoner: geen namen, telefoonnummers of "
                   "e-mailadressen.")
        if st.form_submit_button("Agendapunt toevoegen"):
            links = ([("buurt", b) for b in linked_buurten] + [("voorziening", p) for p in linked_provisions]
                     + [("initiatief", i) for i in linked_initiatives] + [("tekort", g) for g in linked_gaps])
            saved = _save_errors(lambda: store.save_agenda_item(
                {"wijk_code": wijk, "title": title, "aim": aim or None, "owner_role": owner, "status": status,
                 "starts_on": starts, "due_on": due}, links))
            if saved is not None:
                st.success(f"Agendapunt {md(saved['item_id'])} toegevoegd: {md(saved['title'])}.")


def _update_form(items: pd.DataFrame) -> None:
    editable = items.loc[items.apply(_may_update, axis=1)] if len(items) else items
    if editable.empty:
        return
    st.subheader("Bijwerken")
    titles = dict(zip(editable["item_id"].astype(str), editable["title"].astype(str), strict=True))
    item_id = st.selectbox("Agendapunt", list(titles), format_func=lambda i: f"{titles[i]} ({i})",
                           key="wa_bijwerken_punt")
    row = editable.loc[editable["item_id"].astype(str) == item_id].iloc[0]

    def _day(value):
        return None if value is None or pd.isna(value) else pd.Timestamp(value).date()

    with st.form("wa_bijwerken"):
        c1, c2, c3 = st.columns(3)
        statuses = list(AGENDA_STATUSES)
        status = c1.selectbox("Status", statuses, format_func=AGENDA_STATUSES.get, key=f"wa_bw_status_{item_id}",
                              index=statuses.index(row["status"]) if row["status"] in statuses else 0)
        starts = c2.date_input("Start", _day(row.get("starts_on")), format="DD-MM-YYYY", key=f"wa_bw_start_{item_id}")
        due = c3.date_input("Deadline", _day(row.get("due_on")), format="DD-MM-YYYY", key=f"wa_bw_deadline_{item_id}")
        note = st.text_input("Notitie (kort, over de actie)", key=f"wa_bw_notitie_{item_id}", max_chars=280)
        if st.form_submit_button("Bijwerken"):
            # The version the user saw when the agenda was shown (optimistic locking across reruns).
            seen = st.session_state.get("wa_seen", {}).get(item_id, int(row["version"]))
            saved = _save_errors(lambda: store.save_agenda_item(
                {**row.to_dict(), "status": status, "starts_on": starts, "due_on": due},
                expected_version=int(seen), note=note or None))
            if saved is not None:
                st.success(f"Agendapunt {md(item_id)} bijgewerkt: {AGENDA_STATUSES.get(status, status)}.")


def _import_items() -> None:
    """Agenda items from a CSV or Excel file (the export re-imports): every row a new item, all or nothing."""
    from data.agenda import read_agenda_file
    from pages.common import uploaded_file

    with st.expander("Agendapunten importeren (CSV of Excel)"):
        st.caption("Een export van deze pagina of een eigen tabel met dezelfde kolommen; elke rij wordt een nieuw "
                   "agendapunt. Bij één fout rij wordt niets geïmporteerd.")
        upload = st.file_uploader("Agenda", type=["csv", "xlsx"], key="wa_import")
        if upload is None:
            return
        initiatives = pd.DataFrame(load_table("initiatives"))
        try:
            with uploaded_file(upload, allowed=("csv", "xlsx")) as path:
                found = read_agenda_file(path, file_name=upload.name, known_wijken=set(codes),
                                         known_buurten=set(buurten["area_code"].astype(str)),
                                         known_provisions=set(provisions["provision_id"].astype(str)),
                                         known_initiatives=set(initiatives["initiative_id"].astype(str)),
                                         known_types=catalogue)
        except DataValidationError as exc:
            show_error(exc)
            return
        st.markdown(md(found.describe()))
        if st.button(f"Importeren ({len(found.items)} agendapunten)", key="wa_import_knop"):
            result = _save_errors(lambda: store.import_agenda_items(found.items, found.links, source=upload.name))
            if result is not None:
                st.success(f"Geïmporteerd: {result['agendapunten']} agendapunten.")


def _agenda_tab() -> None:
    table_slot = st.container()
    if not read_only:
        _new_item_form()
        _update_form(_items_here())
        _import_items()
    items = _items_here()  # after the forms: a save shows at once
    table = agenda_table(items, load_table("agenda_links"), area_index, provisions, _initiatives_here(),
                         provision_types=catalogue)
    st.session_state["wa_seen"] = dict(zip(items["item_id"].astype(str), items["version"].astype(int), strict=True))
    with table_slot:
        if table.empty:
            st.info(f"**{NO_ITEMS}** " + ("Zodra een team een gezamenlijke actie toevoegt, ziet u die hier."
                                          if read_only else "Voeg hieronder het eerste agendapunt toe: een "
                                          "gezamenlijke actie met een eigenaar, een status en eventueel een deadline."))
            return
        st.dataframe(_shown_agenda(table), hide_index=True, width="stretch", key="wa_agenda")
        d1, d2, d3, d4 = st.columns(4)
        file_stem = f"wijkagenda_{wijk}"
        _print_buttons(table, d3, d4, file_stem)
        d1.download_button("Download CSV", agenda_export_bytes(table, "csv"), file_name=f"{file_stem}.csv",
                           mime="text/csv", key="wa_download_csv", on_click=log_export,
                           args=("export-wijkagenda", wijk, {"formaat": "csv", "punten": len(table)}))
        d2.download_button("Download Excel", agenda_export_bytes(table, "xlsx"), file_name=f"{file_stem}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key="wa_download_xlsx", on_click=log_export,
                           args=("export-wijkagenda", wijk, {"formaat": "xlsx", "punten": len(table)}))


def _print_buttons(table: pd.DataFrame, html_slot, pdf_slot, file_stem: str) -> None:
    """The printable agenda (reports/templates/wijkagenda.html): what the data says, the items by status with their
    owners, and what changed in the last 30 days; HTML and PDF, made when clicked and logged."""
    from mapping.agenda_report import agenda_report, agenda_to_html, agenda_to_pdf
    from reports import pdf_problem

    since = today - pd.Timedelta(days=30)
    changes = changes_since(_items_here(), load_table("agenda_updates"), since)
    report = agenda_report(wijk, str(wijk_names.get(wijk, wijk)), facts=facts, table=table, changes=changes,
                           since=since)
    html_slot.download_button("Afdrukbare agenda (HTML)", lambda: agenda_to_html(report), f"{file_stem}.html",
                              mime="text/html", key="wa_print_html", on_click=log_export,
                              args=("export-wijkagenda", wijk, {"formaat": "html", "punten": len(table)}))
    problem = pdf_problem()
    if problem is None:
        pdf_slot.download_button("PDF", lambda: agenda_to_pdf(report), f"{file_stem}.pdf", mime="application/pdf",
                                 key="wa_print_pdf", on_click=log_export,
                                 args=("export-wijkagenda", wijk, {"formaat": "pdf", "punten": len(table)}))
    else:
        pdf_slot.caption(problem)


# --------------------------------------------------------------------------- wat is er veranderd
def _changes_tab() -> None:
    since = st.date_input("Veranderd sinds", (today - pd.Timedelta(days=30)).date(), format="DD-MM-YYYY",
                          key="wa_sinds")
    items = _items_here()
    try:
        changes = changes_since(items, load_table("agenda_updates"), since)
    except DataValidationError as exc:
        show_error(exc)
        return
    if changes.empty:
        st.info(f"Niets veranderd op de agenda van deze wijk sinds {format_date(since)}.")
        return
    st.dataframe(pd.DataFrame({"Agendapunt": changes["agendapunt"].astype(str), "Titel": changes["titel"].fillna(""),
                               "Wat": changes["wat"].astype(str), "Wanneer": changes["wanneer"].map(format_datetime),
                               "Wie": changes["wie"].astype(str)}), hide_index=True, width="stretch",
                 key="wa_veranderd")


# --------------------------------------------------------------------------- initiatieven en sleutelfiguren
def _initiative_form() -> None:
    with st.form("wa_initiatief", clear_on_submit=True):
        st.markdown("**Bewonersinitiatief toevoegen**")
        name = st.text_input("Naam van het initiatief", key="wa_in_naam", max_chars=200)
        what = st.text_area("Wat doet het initiatief", key="wa_in_wat", max_chars=1000)
        c1, c2 = st.columns(2)
        buurt = c1.selectbox("Buurt", list(buurt_names.index), format_func=_buurt_label, key="wa_in_buurt")
        status = c2.selectbox("Status", list(INITIATIVE_STATUSES), format_func=INITIATIVE_STATUSES.get,
                              index=list(INITIATIVE_STATUSES).index("loopt"), key="wa_in_status")
        support = st.text_input("Gevraagde steun", key="wa_in_steun", max_chars=1000)
        contact = st.text_input("Contact via organisatie", key="wa_in_contact", max_chars=200,
                                help="Een organisatie, nooit de gegevens van een bewoner.")
        if st.form_submit_button("Initiatief toevoegen") and buurt is not None:
            point = in_wijk.loc[in_wijk["area_code"].astype(str) == buurt].geometry.representative_point().iloc[0]
            saved = _save_errors(lambda: store.save_initiative(
                {"name": name, "what": what or None, "buurt_code": buurt, "status": status,
                 "support_asked": support or None, "contact_organisation": contact or None, "geometry": point}))
            if saved is not None:
                st.success(f"Initiatief {md(name)} toegevoegd in {md(_buurt_label(buurt))}.")


def _key_figure_form() -> None:
    with st.form("wa_sleutelfiguur", clear_on_submit=True):
        st.markdown("**Sleutelfiguur toevoegen**")
        c1, c2, c3 = st.columns(3)
        role_label = c1.text_input("Rol (bijv. voorzitter bewonerscommissie)", key="wa_sf_rol", max_chars=200)
        organisation = c2.text_input("Organisatie", key="wa_sf_organisatie", max_chars=200)
        buurt = c3.selectbox("Buurt", [None, *buurt_names.index], key="wa_sf_buurt",
                             format_func=lambda b: "hele wijk" if b is None else _buurt_label(b))
        consent = st.checkbox("Toestemming voor de naam", key="wa_sf_toestemming")
        name = st.text_input("Naam (alleen met toestemming)", key="wa_sf_naam", max_chars=200)
        if st.form_submit_button("Sleutelfiguur toevoegen"):
            saved = _save_errors(lambda: store.save_key_figure(
                {"role_label": role_label, "organisation": organisation or None, "wijk_code": wijk,
                 "buurt_code": buurt, "name": name or None, "consent_name": consent}))
            if saved is not None:
                st.success(f"Sleutelfiguur {md(role_label)} toegevoegd.")


def _network_tab() -> None:
    st.subheader("Bewonersinitiatieven")
    slot = st.container()
    if not read_only:
        _initiative_form()
    initiatives = _initiatives_here()
    with slot:
        if initiatives.empty:
            st.info("Nog geen bewonersinitiatieven in deze wijk.")
        else:
            st.dataframe(pd.DataFrame({
                "Initiatief": initiatives["initiative_id"].astype(str), "Naam": initiatives["name"].astype(str),
                "Wat": initiatives["what"].fillna(""), "Buurt": initiatives["buurt_code"].map(_buurt_label),
                "Status": initiatives["status"].map(lambda s: INITIATIVE_STATUSES.get(s, s)),
                "Gevraagde steun": initiatives["support_asked"].fillna(""),
                "Contact via": initiatives["contact_organisation"].fillna(""),
            }), hide_index=True, width="stretch", key="wa_initiatieven")
    st.subheader("Sleutelfiguren")
    slot = st.container()
    if not read_only:
        _key_figure_form()
    figures = load_table("key_figures")
    figures = figures.loc[(figures["wijk_code"].astype(str) == wijk)
                          | figures["buurt_code"].astype(str).isin(buurt_names.index)].reset_index(drop=True)
    with slot:
        if figures.empty:
            st.info("Nog geen sleutelfiguren in deze wijk. Leg een rol en organisatie vast; een naam alleen met "
                    "toestemming van de persoon.")
        else:
            st.dataframe(pd.DataFrame({
                "Rol": figures["role_label"].astype(str), "Organisatie": figures["organisation"].fillna(""),
                "Buurt": figures["buurt_code"].map(lambda b: "hele wijk" if pd.isna(b) else _buurt_label(b)),
                "Naam": figures["name"].fillna(""),
            }), hide_index=True, width="stretch", key="wa_sleutelfiguren")


RUN = {"Agenda": _agenda_tab, "Wat is er veranderd": _changes_tab, "Initiatieven en sleutelfiguren": _network_tab}
for label, tab in opened.items():
    with tab:
        if tab.open:
            RUN[label]()

"""Opvolging en nazorg: what changes for the people who take part, and the light contacts after support ends.

Roles that see persons (administrator, wijkteam) get the "te doen" list, the conversation form for a
measurement moment, aftercare plans and the change per person; every role gets the change per provision and the
evidence report (aggregates only, protected as every figure from person data: data/access.py). Only the open tab
runs (``on_change="rerun"``), so a view of persons is logged only when it is shown.
"""


import pandas as pd
import streamlit as st

from data.access import AccessDenied
from data.errors import ConflictError, DataValidationError, StoreError
from data.export import FMT_2, FMT_DATE, FMT_INT, explanation_frame, frame_to_csv_bytes, frames_to_excel_bytes
from data.formatting import format_date, format_number
from data.schema import AFTERCARE_OUTCOMES, AFTERCARE_REASONS, AFTERCARE_ROLES, AFTERCARE_STATUSES, MOMENTS
from graphs.outcomes import CAVEAT, MEASURE_LABELS, measurements_long, outcomes_table
from pages.common import (
    get_store,
    load_areas,
    load_group_contact,
    load_outcome_periods,
    load_outcome_summary,
    load_provision_types,
    load_provisions,
    load_table,
    log_export,
    md,
    person_table,
    show_error,
    signed_in_user,
    stop_without_areas,
    uploaded_file,
)

PAIRS = {("T0", "T1"): "intake → einde (T0 → T1)", ("T0", "T2"): "intake → follow-up 1 (T0 → T2)",
         ("T0", "T3"): "intake → follow-up 2 (T0 → T3)"}
NO_MEASUREMENTS = ("Nog geen metingen van deelnemers. Leg een meting vast op het tabblad *Meting vastleggen* (wijkteam "
                   "en beheerder) of importeer metingen op het tabblad *Importeren* (beheerder); daarna ziet u hier "
                   "per voorziening wat er veranderde.")
STATUS_LABELS = {"te doen": "te doen", "te laat": "te laat", "gedaan": "gedaan", "vervallen": "vervallen"}

st.title("Opvolging en nazorg")
st.caption("Wat verandert er voor de mensen die meedoen aan een collectieve voorziening, en wie houdt na afloop licht "
           "contact? Metingen op vaste momenten (intake, einde, follow-ups) met LSNS-6, De Jong Gierveld en het "
           "netwerk; nazorgcontacten met datum, rol en een uitkomstcode, nooit vrije tekst over de persoon.")
user = signed_in_user()
store = get_store()
stop_without_areas(load_areas("buurt"))
provisions = load_provisions()
catalogue = load_provision_types()
names = provisions.set_index("provision_id")["name"].astype(str) if len(provisions) else pd.Series(dtype=str)
today = pd.Timestamp.today().normalize()


def _provision_label(pid) -> str:
    return f"{names.get(pid, pid)} ({pid})"


def _type_label(code) -> str:
    return catalogue[code].label if code in catalogue else str(code)


def _group_contact() -> pd.DataFrame:
    """Still in contact with another participant at T2, for group provisions only: a one-to-one provision (a
    bezoekdienst, a maatjesproject: places per volunteer) has no group to stay in contact with."""
    contact = load_group_contact("T2")
    if contact.empty:
        return contact
    type_of = provisions.set_index("provision_id")["type"]
    one_to_one = contact["provision_id"].map(type_of).map(
        lambda t: t in catalogue and catalogue[t].places_per_volunteer is not None)
    return contact.loc[~one_to_one.fillna(False).astype(bool).to_numpy()].reset_index(drop=True)


tabs = []
if user.sees_persons:
    tabs += ["Te doen", "Meting vastleggen", "Nazorgplannen", "Per persoon"]
tabs += ["Per voorziening", "Bewijsrapport"]
if user.is_admin:
    tabs.append("Importeren")
if user.edits_provisions:
    tabs.append("Meetmomenten")
opened = dict(zip(tabs, st.tabs(tabs, key="fu_tabs", on_change="rerun"), strict=True))


# --------------------------------------------------------------------------- te doen
def _todo_tab() -> None:
    from graphs.aftercare import todo_list

    c1, c2, c3 = st.columns(3)
    period = c1.selectbox("Periode", ["deze maand", "volgende maand", "komende drie maanden", "zelf kiezen"],
                          key="fu_periode")
    first = today.replace(day=1)
    if period == "deze maand":
        start, end = first, first + pd.offsets.MonthEnd(0)
    elif period == "volgende maand":
        start = first + pd.offsets.MonthBegin(1)
        end = start + pd.offsets.MonthEnd(0)
    elif period == "komende drie maanden":
        start, end = today, today + pd.DateOffset(months=3)
    else:
        chosen = c2.date_input("Van – tot en met", (today.date(), (today + pd.DateOffset(months=1)).date()),
                               format="DD-MM-YYYY", key="fu_van_tot")
        if not isinstance(chosen, tuple) or len(chosen) != 2:
            st.info("Kies een begin- en een einddatum.")
            return
        start, end = pd.Timestamp(chosen[0]), pd.Timestamp(chosen[1])
    areas = load_areas("wijk")
    wijk_names = areas.set_index("area_code")["name"].astype(str) if len(areas) else pd.Series(dtype=str)
    if user.is_admin:
        team = c3.selectbox("Team (wijk)", [None, *sorted(wijk_names.index)], key="fu_team",
                            format_func=lambda w: "alle wijken" if w is None else f"{wijk_names.get(w, w)} ({w})")
        wijken = None if team is None else [team]
    else:
        wijken = list(user.wijken)
        c3.caption("Uw team: " + ", ".join(md(f"{wijk_names.get(w, w)} ({w})") for w in wijken))
    todo = todo_list(load_table("aftercare_plans"), load_table("aftercare_contacts"), load_table("measurements"),
                     load_table("persons"), provisions, catalogue, start=start, end=end, today=today, wijken=wijken)
    st.markdown(f"**Te doen van {format_date(start)} tot en met {format_date(end)}**, met alles wat te laat is.")
    if todo.empty:
        st.info("Niets te doen in deze periode: geen nazorgcontacten of metingen gepland, en niets te laat. Een "
                "nazorgplan maakt u op het tabblad *Nazorgplannen*.")
        return
    late = int((todo["status"] == "te laat").sum())
    if late:
        st.warning(f"{format_number(late)} {'taak is' if late == 1 else 'taken zijn'} te laat.")
    shown = pd.DataFrame({
        "Persoon": todo["person_id"].astype(str),
        "Wat": todo["what"].astype(str),
        "Voorziening": todo["provision_id"].map(lambda p: "(na het wijkteam)" if pd.isna(p) else names.get(p, p)),
        "Gepland": todo["due_on"].map(format_date),
        "Status": todo["status"].map(lambda s: STATUS_LABELS.get(s, s)),
        "Dagen te laat": todo["days_overdue"].map(lambda d: "" if pd.isna(d) or d <= 0 else format_number(d)),
    })
    person_table(shown, key="sk_personen_te_doen", view="te-doen", file_name="te_doen.csv",
                 export=shown.assign(Gepland=todo["due_on"].to_numpy()),
                 number_formats={"Gepland": FMT_DATE})
    contacts = todo.loc[todo["kind"] == "nazorgcontact"].reset_index(drop=True)
    if contacts.empty:
        return
    st.subheader("Contact registreren")
    with st.form("fu_contact"):
        pick = st.selectbox("Contact", list(contacts.index), key="fu_contact_keuze",
                            format_func=lambda i: f"{contacts.at[i, 'person_id']}: {contacts.at[i, 'what']} "
                                                  f"(gepland {format_date(contacts.at[i, 'due_on'])})")
        r1, r2, r3 = st.columns(3)
        done_on = r1.date_input("Datum van het contact", today.date(), format="DD-MM-YYYY", key="fu_contact_datum")
        by_role = r2.selectbox("Door", list(AFTERCARE_ROLES), format_func=AFTERCARE_ROLES.get, key="fu_contact_rol")
        outcome = r3.selectbox("Uitkomst", list(AFTERCARE_OUTCOMES), format_func=AFTERCARE_OUTCOMES.get,
                               key="fu_contact_uitkomst")
        st.caption("Alleen datum, rol en een uitkomstcode: schrijf hier niets over de persoon zelf.")
        if st.form_submit_button("Registreren"):
            row = contacts.loc[pick]
            try:
                store.register_aftercare_contact(str(row["plan_id"]), int(row["sequence"]), done_on=done_on,
                                                 by_role=by_role, outcome=outcome,
                                                 expected_version=int(row["plan_version"]),
                                                 planned_on=row["due_on"])
            except DataValidationError as exc:
                show_error(exc)
            except (ConflictError, AccessDenied, StoreError) as exc:
                st.error(md(str(exc)))
            else:
                st.success(f"Contact geregistreerd: {md(row['what'])} op {format_date(done_on)}.")


# --------------------------------------------------------------------------- nazorgplannen
def _plans_tab() -> None:
    from graphs.aftercare import aftercare_overview

    persons = load_table("persons")
    if persons.empty:
        st.info("Nog geen personen die u mag zien. Leg eerst een netwerk vast op de pagina *Netwerken*.")
        return
    plans, contacts = load_table("aftercare_plans"), load_table("aftercare_contacts")
    st.markdown("Nazorg begint bij het begin van de ondersteuning: spreek af wie na afloop een paar keer per jaar "
                "licht contact houdt (een *waakvlam*). Hier legt u het plan vast; de contacten verschijnen op de "
                "lijst *Te doen*.")
    with st.form("fu_plan"):
        c1, c2, c3 = st.columns(3)
        person = c1.selectbox("Persoon", sorted(persons["person_id"].astype(str)), key="fu_plan_persoon")
        reason = c2.selectbox("Na", list(AFTERCARE_REASONS), format_func=AFTERCARE_REASONS.get, key="fu_plan_reden")
        provision = c3.selectbox("Voorziening (bij 'na een voorziening')", [None, *names.index], key="fu_plan_vz",
                                 format_func=lambda p: "—" if p is None else _provision_label(p))
        d1, d2, d3 = st.columns(3)
        starts = d1.date_input("Einde van de ondersteuning", today.date(), format="DD-MM-YYYY", key="fu_plan_start")
        default = 4
        if provision is not None and provision in names.index:
            ptype = provisions.set_index("provision_id").at[provision, "type"]
            default = (catalogue[ptype].aftercare_per_year if ptype in catalogue else None) or 4
        per_year = d2.number_input("Contacten per jaar", 1, 12, int(default), key="fu_plan_per_jaar")
        months = d3.number_input("Maanden", 1, 36, 12, key="fu_plan_maanden")
        if st.form_submit_button("Nazorgplan vastleggen"):
            try:
                saved = store.save_aftercare_plan({"person_id": person, "reason": reason, "provision_id": provision,
                                                   "starts_on": starts, "contacts_per_year": per_year,
                                                   "months": months})
            except DataValidationError as exc:
                show_error(exc)
            except (ConflictError, AccessDenied, StoreError) as exc:
                st.error(md(str(exc)))
            else:
                st.success(f"Nazorgplan {md(saved['plan_id'])} vastgelegd.")
                plans, contacts = load_table("aftercare_plans"), load_table("aftercare_contacts")
    if plans.empty:
        st.info("Nog geen nazorgplannen.")
        return
    overview = aftercare_overview(plans, contacts, today=today).merge(
        plans[["plan_id", "person_id", "provision_id", "reason", "starts_on", "status", "version"]], on="plan_id",
        how="left", suffixes=("", "_plan"))
    shown = pd.DataFrame({
        "Plan": overview["plan_id"].astype(str), "Persoon": overview["person_id"].astype(str),
        "Na": overview["reason"].map(lambda r: AFTERCARE_REASONS.get(r, r)),
        "Voorziening": overview["provision_id"].map(lambda p: "" if pd.isna(p) else names.get(p, p)),
        "Sinds": overview["starts_on"].map(format_date),
        "Status": overview["status"].map(lambda s: AFTERCARE_STATUSES.get(s, s)),
        "Gepland": overview["planned"].map(format_number), "Gedaan": overview["done"].map(format_number),
        "Te laat": overview["overdue"].map(format_number), "Volgende": overview["next_due"].map(format_date),
        "Laatste uitkomst": overview["last_outcome"].map(lambda o: "" if pd.isna(o) else AFTERCARE_OUTCOMES.get(o, o)),
    })
    person_table(shown, key="sk_personen_nazorgplannen", view="nazorgplannen", file_name="nazorgplannen.csv")
    with st.form("fu_plan_status"):
        c1, c2 = st.columns(2)
        plan_id = c1.selectbox("Plan", shown["Plan"].tolist(), key="fu_status_plan")
        status = c2.selectbox("Nieuwe status", list(AFTERCARE_STATUSES), format_func=AFTERCARE_STATUSES.get,
                              key="fu_status_nieuw")
        if st.form_submit_button("Status wijzigen"):
            row = plans.loc[plans["plan_id"].astype(str) == plan_id].iloc[0]
            # The version the user saw when the list was shown (optimistic locking across reruns).
            seen = st.session_state.get("fu_plan_seen", {}).get(plan_id, int(row["version"]))
            try:
                store.save_aftercare_plan({**row.to_dict(), "status": status}, expected_version=int(seen))
            except DataValidationError as exc:
                show_error(exc)
            except (ConflictError, AccessDenied, StoreError) as exc:
                st.error(md(str(exc)))
            else:
                st.success(f"Nazorgplan {md(plan_id)}: {AFTERCARE_STATUSES[status]}.")
                plans = load_table("aftercare_plans")
    st.session_state["fu_plan_seen"] = dict(zip(plans["plan_id"].astype(str), plans["version"].astype(int),
                                                strict=True))


# --------------------------------------------------------------------------- per persoon
def _person_tab() -> None:
    from graphs.outcomes import person_changes

    measurements = load_table("measurements")
    if measurements.empty:
        st.info(NO_MEASUREMENTS)
        return
    long = measurements_long(measurements, load_table("followup_ties"), provisions)
    measured = sorted(long["provision_id"].unique())
    c1, c2 = st.columns(2)
    provision = c1.selectbox("Voorziening", measured, format_func=_provision_label, key="fu_pp_vz")
    pair = c2.selectbox("Momenten", list(PAIRS), format_func=PAIRS.get, key="fu_pp_paar")
    # SD_0 of the reliable change from all measurements, as in the aggregates: the label of a person does not
    # depend on which other persons the user may see.
    rows = person_changes(long.loc[long["provision_id"] == provision], load_table("followup_ties"),
                          before=pair[0], after=pair[1], sd_before=store.outcome_sd_before(pair[0]))
    if rows.empty:
        st.info(f"Nog niemand bij deze voorziening is op {pair[0]} én {pair[1]} gemeten.")
        return
    table = pd.DataFrame({"Persoon": rows["person_id"].astype(str),
                          "Groep": rows["group"].map({"deelnemer": "deelnemer", "vergelijking": "vergelijking"})})
    for measure in ("lsns6", "djg", "djg6"):
        if f"{measure}_change" not in rows or rows[f"{measure}_change"].isna().all():
            continue
        label = {"lsns6": "LSNS-6", "djg": "DJG-11", "djg6": "DJG-6"}[measure]
        table[f"{label} voor"] = rows[f"{measure}_before"].map(lambda v: "" if pd.isna(v) else format_number(v))
        table[f"{label} na"] = rows[f"{measure}_after"].map(lambda v: "" if pd.isna(v) else format_number(v))
        table[f"{label} betrouwbare verandering"] = rows.get(f"{measure}_rci_label", pd.Series("", index=rows.index)
                                                             ).fillna("")
    for column, label in (("kept", "Behouden"), ("changed", "Veranderd"), ("lost", "Verloren"), ("new", "Nieuw"),
                          ("group_ties_after", "Uit de groep")):
        if column in rows:
            table[label] = rows[column].map(lambda v: "" if pd.isna(v) else format_number(v))
    st.caption("Betrouwbare verandering (Jacobson & Truax): groter dan wat meetfout in 95% van de gevallen geeft. "
               "LSNS-6 en De Jong Gierveld zijn screeningsinstrumenten, geen diagnose.")
    person_table(table, key="sk_personen_verandering", view="verandering-per-persoon",
                 file_name=f"verandering_{provision}.csv")


# --------------------------------------------------------------------------- per voorziening
def _summary_frame(summary: pd.DataFrame, protected: bool, by: str, periods: pd.DataFrame) -> pd.DataFrame:
    from graphs.evidence import count_text, share_hidden

    def count(values):
        return values.map(lambda n: count_text(n, protected=protected) if protected
                          else ("" if pd.isna(n) else format_number(n)))

    def num(values, d=1):
        return values.map(lambda v: "" if pd.isna(v) else format_number(v, d))

    def pct(values):
        return values.map(lambda v: "" if pd.isna(v) else f"{format_number(100 * v)}%")

    key = "provision_id" if by == "provision_id" else "type"
    moments = periods.groupby(key)["moments"].agg(lambda ms: {m for group in ms for m in group})

    def measured_at(moment: str) -> pd.Series:
        return summary[key].map(lambda k: moment in moments.get(k, set())).astype(bool)

    interval = [f"{format_number(lo, 1)} tot {format_number(hi, 1)}" if pd.notna(lo) else ""
                for lo, hi in zip(summary["ci_low"], summary["ci_high"], strict=True)]
    did_interval = [f"{format_number(lo, 1)} tot {format_number(hi, 1)}" if pd.notna(lo) else ""
                    for lo, hi in zip(summary["did_ci_low"], summary["did_ci_high"], strict=True)]
    where = (summary["provision_id"].map(_provision_label) if by == "provision_id"
             else summary["type"].map(_type_label))
    reason = [("; ".join(r for r in (a, b) if r)) for a, b in zip(summary["reason"].fillna(""),
                                                                  summary["did_reason"].fillna(""), strict=True)]
    return pd.DataFrame({
        "Voorziening" if by == "provision_id" else "Soort": where,
        "Meting": summary["measure"].map(lambda m: MEASURE_LABELS.get(m, m)),
        # A moment at which nobody of the provision (or type) was measured is empty, not 'minder dan 5'.
        **{f"n {m}": count(summary[f"n_{m}"]).where(measured_at(m), "") for m in MOMENTS},
        # A response rate whose non-response (or response) is 1-4 persons would give that count away.
        "Respons": pct(summary["response_rate"].where(~pd.Series(
            [share_hidden(r, n, protected=protected) for r, n in zip(summary["response_rate"], summary["n_before"],
                                                                      strict=True)], index=summary.index))),
        "Gem. verandering": num(summary["mean_change"]), "95%-interval": interval, "d_z": num(summary["d_z"], 2),
        "Verbeterd": pct(summary["share_improved"]), "Onveranderd": pct(summary["share_unchanged"]),
        "Verslechterd": pct(summary["share_worse"]),
        "Vergelijkingsgroep": num(summary["compare_mean_change"]),
        "Verschil (DiD)": num(summary["did"]), "DiD-interval": did_interval, "Toelichting": reason,
    })


def _per_provision_tab() -> None:
    periods = load_outcome_periods()
    if periods.empty:
        st.info(NO_MEASUREMENTS)
        return
    c1, c2 = st.columns(2)
    pair = c1.selectbox("Momenten", list(PAIRS), format_func=PAIRS.get, key="fu_pv_paar")
    by = c2.radio("Per", ["provision_id", "type"], format_func={"provision_id": "voorziening", "type": "soort"}.get,
                  horizontal=True, key="fu_pv_per")
    summary = load_outcome_summary(pair[0], pair[1], by)
    if summary.empty:
        st.info("Geen metingen op deze momenten.")
        return
    protected = not user.is_admin
    st.warning(CAVEAT + " Waar een vergelijkingsgroep is gemeten, staat het verschil in de kolom *Verschil (DiD)*; "
               "ook dan zijn de groepen niet door loting ingedeeld.", icon=":material/info:")
    st.dataframe(_summary_frame(summary, protected, by, periods), hide_index=True, width="stretch")
    st.caption("Gemiddelden, intervallen en effectgroottes alleen bij 5 of meer personen; aantallen onder de 5 zijn "
               "verborgen" + (" en beschermd met de celsleutelmethode." if protected else "."))
    if by == "provision_id":
        table = outcomes_table(summary)
        if protected:
            for column in ("n_T0", "n_T1", "n_T2", "n_T3", "n_paired"):
                table[column] = table[column].where(table[column] >= 5)
        stem = f"uitkomsten_{pair[0]}_{pair[1]}"
        formats = {c: FMT_INT for c in ("n_T0", "n_T1", "n_T2", "n_T3", "n_paired")}
        formats.update({c: FMT_2 for c in ("mean_change", "ci_low", "ci_high", "d_z", "did", "did_ci_low",
                                           "did_ci_high")})
        d1, d2 = st.columns(2)
        d1.download_button("CSV", lambda: frame_to_csv_bytes(table), f"{stem}.csv", mime="text/csv",
                           on_click=log_export, args=("export-uitkomsten", stem, {"formaat": "csv"}))
        d2.download_button("Excel", lambda: frames_to_excel_bytes(
            {"Uitkomsten": table, "Toelichting": explanation_frame([
                ("Uitkomsten", "mean_change", "Gemiddelde verandering van de deelnemers (na − voor)", "punten", ""),
                ("Uitkomsten", "ci_low / ci_high", "95%-betrouwbaarheidsinterval (gepaarde t)", "punten", ""),
                ("Uitkomsten", "d_z", "Effectgrootte van Cohen voor gepaarde metingen", "", ""),
                ("Uitkomsten", "did", "Verschil met de verandering van de vergelijkingsgroep", "punten", ""),
                ("Uitkomsten", "reason", "Waarom een cel leeg is", "", CAVEAT)])},
            number_formats={"Uitkomsten": formats}), f"{stem}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            on_click=log_export, args=("export-uitkomsten", stem, {"formaat": "xlsx"}))
    contact = _group_contact()
    if len(contact):
        from graphs.evidence import count_text, share_hidden

        hidden = [share_hidden(v, n, protected=protected) for v, n in zip(contact["share"],
                                                                           contact["n_participants"], strict=True)]
        contact = contact.assign(share=contact["share"].where(~pd.Series(hidden, index=contact.index)))
        st.markdown("**Nog contact met andere deelnemers op T2** (\"met wie uit de groep heeft u nog contact?\")")
        st.dataframe(pd.DataFrame({
            "Voorziening": contact["provision_id"].map(_provision_label),
            "Deelnemers gemeten": contact["n_participants"].map(lambda n: count_text(n, protected=protected)),
            "Nog contact": contact["share"].map(lambda v: "" if pd.isna(v) else f"{format_number(100 * v)}%"),
        }), hide_index=True)


# --------------------------------------------------------------------------- bewijsrapport
def _report_tab() -> None:
    from graphs.evidence import build_evidence_report, evidence_to_excel, evidence_to_html

    periods = load_outcome_periods()
    if periods.empty:
        st.info(NO_MEASUREMENTS)
        return
    c1, c2 = st.columns(2)
    kind = c1.radio("Rapport over", ["provision", "type"], format_func={"provision": "een voorziening",
                                                                       "type": "een soort"}.get,
                    horizontal=True, key="fu_rp_soort")
    if kind == "provision":
        scope = c2.selectbox("Voorziening", periods["provision_id"].tolist(), format_func=_provision_label,
                             key="fu_rp_vz")
        rows = periods.loc[periods["provision_id"] == scope]
    else:
        scope = c2.selectbox("Soort", sorted(periods["type"].dropna().unique()), format_func=_type_label,
                             key="fu_rp_type")
        rows = periods.loc[periods["type"] == scope]
    by = "provision_id" if kind == "provision" else "type"
    moments = sorted({m for ms in rows["moments"] for m in ms})
    summaries = {pair: load_outcome_summary(pair[0], pair[1], by) for pair in PAIRS if set(pair) <= set(moments)}
    report = build_evidence_report(summaries, _group_contact(), provisions, catalogue, scope=scope,
                                   scope_kind=kind, protected=not user.is_admin,
                                   period=(rows["first"].min(), rows["last"].max()))
    html = evidence_to_html(report)
    stem = f"bewijs_{scope}"
    r1, r2, r3 = st.columns(3)
    r1.download_button("Afdrukbare pagina (HTML)", html, f"{stem}.html", mime="text/html", width="stretch",
                       on_click=log_export, args=("export-bewijsrapport", stem, {"formaat": "html"}))
    r2.download_button("Excel", lambda: evidence_to_excel(report), f"{stem}.xlsx", width="stretch",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       on_click=log_export, args=("export-bewijsrapport", stem, {"formaat": "xlsx"}))
    from reports import pdf_problem

    problem = pdf_problem()
    if problem is None:
        from graphs.evidence import evidence_to_pdf

        r3.download_button("PDF", lambda: evidence_to_pdf(report), f"{stem}.pdf", mime="application/pdf",
                           width="stretch", on_click=log_export,
                           args=("export-bewijsrapport", stem, {"formaat": "pdf"}))
    else:
        r3.caption(problem)
    # The report is rendered with autoescape (reports/): text from data cannot become markup in the frame.
    st.iframe(html, height=900)


# --------------------------------------------------------------------------- importeren (beheerder)
def _import_tab() -> None:
    from data.outcome_import import measurement_template, network_canvas_followup, read_measurements_file

    persons = load_table("persons")
    if persons.empty or provisions.empty:
        st.info("Importeer eerst personen (pagina *Netwerken* of *Beheer*) en voorzieningen: een meting hoort bij een "
                "persoon en een voorziening die al in Steunkaart staan.")
        return
    if store.is_demo:
        st.info("Dit is de demo: een bestand importeren kan alleen in een eigen opslag. Met het gespreksformulier "
                "(tabblad *Meting vastleggen*) kunt u het hier uitproberen.")
    st.markdown("**Sjabloon** (één rij per persoon, voorziening en moment; codes, geen namen)")
    t1, t2 = st.columns(2)
    t1.download_button("Sjabloon (Excel)", lambda: measurement_template("xlsx"), "metingen_sjabloon.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    t2.download_button("Sjabloon (CSV)", lambda: measurement_template("csv"), "metingen_sjabloon.csv", mime="text/csv")
    source = st.radio("Bron", ["sjabloon", "networkcanvas"], horizontal=True, key="fu_imp_bron",
                      format_func={"sjabloon": "ingevuld sjabloon (CSV of Excel)",
                                   "networkcanvas": "herhaalde Network Canvas-interviews"}.get)
    known_persons = set(persons["person_id"].astype(str))
    if source == "sjabloon":
        upload = st.file_uploader("Metingen", type=["csv", "xlsx"], key="fu_imp_bestand")
        if upload is None:
            return
        try:
            with uploaded_file(upload, allowed=("csv", "xlsx")) as path:
                result = read_measurements_file(path, file_name=upload.name, known_persons=known_persons,
                                                known_provisions=set(names.index))
        except DataValidationError as exc:
            show_error(exc)
            return
        st.markdown(md(result.describe()))
        for warning in result.warnings:
            st.warning(md(_warning_text(warning)))
        measurements, ties = result.measurements, None
    else:
        upload = st.file_uploader("Network Canvas-export (zip of CSV-bestanden)", type=["zip", "csv", "graphml"],
                                  accept_multiple_files=True, key="fu_imp_nc")
        c1, c2, c3 = st.columns(3)
        provision = c1.selectbox("Voorziening", list(names.index), format_func=_provision_label, key="fu_imp_nc_vz")
        group = c2.selectbox("Groep", ["deelnemer", "vergelijking"], key="fu_imp_nc_groep")
        code_var = c3.text_input("Variabele met een vaste code per alter (leeg: geen)", key="fu_imp_nc_code")
        if not upload:
            return
        from data.outcome_import import read_followup_export

        try:
            # As on the page Netwerken: the export reader checks the files (zip bombs, kinds) itself.
            nc = read_followup_export([(f.name, f.getvalue()) for f in upload])
            result = network_canvas_followup(nc, provision_id=provision, study_group=group,
                                             known_persons=known_persons, alter_code_variable=code_var or None)
        except DataValidationError as exc:
            show_error(exc)
            return
        if result.report:
            st.dataframe(pd.DataFrame(result.report).rename(columns={
                "persoon": "Persoon", "gesprekken": "Gesprekken", "momenten": "Momenten",
                "relaties": "Relaties per moment", "uit_de_groep": "Uit de groep", "te_volgen": "Te volgen",
                "melding": "Melding"}), hide_index=True)
        for warning in result.warnings:
            st.warning(md(_warning_text(warning)))
        measurements, ties = result.measurements, result.followup_ties
    if st.button("Importeren", key="fu_imp_knop", disabled=store.is_demo):
        try:
            # A Network Canvas file name starts with the case id: the source is named without it.
            label = upload.name if hasattr(upload, "name") else "Network Canvas-export"
            counts = store.merge_measurements(measurements, ties, kind="metingen", source=label)
        except DataValidationError as exc:
            show_error(exc)
        except (AccessDenied, StoreError) as exc:
            st.error(md(str(exc)))
        else:
            people = counts["personen"]
            st.success(f"Geïmporteerd: {format_number(counts['metingen'])} metingen van {format_number(people)} "
                       f"{'persoon' if people == 1 else 'personen'} (import {counts['import']}; ongedaan te maken "
                       "op de pagina Beheer).")


def _warning_text(warning) -> str:
    """A warning row of an import (bestand, rij, kolom, melding) as one Dutch line."""
    if not isinstance(warning, dict):
        return str(warning)
    where = ", ".join(f"{label} {warning[key]}" for key, label in (("bestand", "bestand"), ("rij", "rij"),
                                                                   ("kolom", "kolom")) if warning.get(key))
    return f"{warning.get('melding', '')}" + (f" ({where})" if where else "")


# --------------------------------------------------------------------------- meetmomenten (per soort)
def _schedule_tab() -> None:
    st.markdown("Op welke momenten na de intake (T0) worden deelnemers opnieuw gemeten, en hoe vaak is er nazorg? "
                "Grip & Glans: zes wekelijkse bijeenkomsten (einde na 6 weken) en een terugkombijeenkomst na ongeveer "
                "drie maanden; de bezoekdienst: ongeveer tien bezoeken in een half jaar.")
    table = pd.DataFrame({
        "Soort": [t.label for t in catalogue.values()],
        "T1 (einde), weken": [t.t1_weeks for t in catalogue.values()],
        "T2, weken": [t.t2_weeks for t in catalogue.values()],
        "T3, weken": [t.t3_weeks for t in catalogue.values()],
        "Nazorgcontacten per jaar": [t.aftercare_per_year for t in catalogue.values()],
    }, index=list(catalogue)).astype({c: "Int64" for c in ("T1 (einde), weken", "T2, weken", "T3, weken",
                                                            "Nazorgcontacten per jaar")})
    edited = st.data_editor(table, key="fu_schema", hide_index=True, disabled=["Soort"], width="stretch",
                            placeholder="")
    st.caption("Een leeg vak: geen vast moment voor die soort (de datum komt dan bij elke meting); zonder aantal "
               "nazorgcontacten geldt 4 per jaar.")
    if st.button("Meetmomenten opslaan", key="fu_schema_opslaan"):
        # Compared as plain values: a number typed into an empty cell is a change (NA != 8 would be NA).
        before = table.astype(object).where(table.notna(), None)
        after = edited.astype(object).where(edited.notna(), None)
        changed = (before != after).any(axis=1)
        try:
            for code in edited.index[changed.to_numpy()]:  # the few types a user changed, not a loop over data
                row = edited.loc[code]
                store.set_followup_schedule(code, t1_weeks=row["T1 (einde), weken"], t2_weeks=row["T2, weken"],
                                            t3_weeks=row["T3, weken"],
                                            aftercare_per_year=row["Nazorgcontacten per jaar"])
        except DataValidationError as exc:
            show_error(exc)
        except (AccessDenied, StoreError) as exc:
            st.error(md(str(exc)))
        else:
            st.success("Meetmomenten opgeslagen.")


RUN = {"Te doen": _todo_tab, "Meting vastleggen": None, "Nazorgplannen": _plans_tab, "Per persoon": _person_tab,
       "Per voorziening": _per_provision_tab, "Bewijsrapport": _report_tab, "Importeren": _import_tab,
       "Meetmomenten": _schedule_tab}
for name, tab in opened.items():
    with tab:
        if not tab.open:
            continue
        if name == "Meting vastleggen":
            from pages.followup_form import followup_form

            followup_form()
        else:
            RUN[name]()

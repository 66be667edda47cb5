"""Netwerken: who lacks emotional or practical support, where they live, and what could connect them."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from data.auth import ROLES as ROLES_BY_CODE
from data.disclosure import PROTECTION_NOTE
from data.formatting import format_number
from data.provision_types import NEEDS
from data.reach import suitability_grid
from data.schema import AGE_BANDS
from graphs.aggregates import (
    FEW_PERSONS,
    HIDDEN,
    HIDDEN_STATUS,
    format_count,
    format_share,
    suitable_provisions,
)
from graphs.ecogram import ecogram_svg
from graphs.matching import match_signalled
from graphs.screening import SCREENING_NOTE
from graphs.signals import DEFAULT_RULES, SignalRules
from mapping.choropleth import choropleth_map
from pages.common import (
    can_add_to_agenda,
    get_store,
    load_areas,
    load_community,
    load_match_totals,
    load_participation_counts,
    load_provision_types,
    load_provisions,
    load_signal_share,
    load_signals,
    load_suitability,
    load_table,
    log_person_view,
    md,
    person_table,
    stop_without_areas,
    to_agenda_button,
    wijk_of_buurt,
)
from pages.network_card import network_card
from pages.network_form import entry_form
from pages.network_import import import_tab

st.title("Netwerken")
st.info(SCREENING_NOTE + " Een signaal is een reden om te kijken en te vragen, geen oordeel over een persoon.",
        icon=":material/info:")
user = get_store().user
fixed_rules = not user.sees_persons  # varying the rules would let totals be subtracted from each other
with st.sidebar:
    st.subheader("Regels voor het signaal")
    if fixed_rules:
        st.caption("Uw rol ziet totalen met de standaardregels; de regels zijn niet aan te passen.")
    st.caption("Elke aangezette regel is genoeg voor een signaal. Standaard: "
               + "; ".join(DEFAULT_RULES.describe()) + ".")
    use_lsns = st.checkbox("LSNS-6 lager dan", value=True, key="regel_lsns", disabled=fixed_rules)
    lsns_below = st.slider("LSNS-6-grens", 1, 30, int(DEFAULT_RULES.lsns_below), key="regel_lsns_grens",
                           disabled=not use_lsns or fixed_rules)
    use_emotional = st.checkbox("Niemand voor emotionele steun", value=True,
                                key="regel_emotioneel", disabled=fixed_rules)
    use_practical = st.checkbox("Niemand voor praktische steun", value=False,
                                key="regel_praktisch", disabled=fixed_rules)
    use_informal = st.checkbox("Weinig informele contacten", value=True, key="regel_informeel", disabled=fixed_rules)
    min_informal = st.slider("Minder dan … informele contacten", 1, 10, int(DEFAULT_RULES.min_informal),
                             key="regel_informeel_grens", disabled=not use_informal or fixed_rules)
    use_djg = st.checkbox("Ernstig eenzaam (De Jong Gierveld 9 of hoger)", value=False,
                          key="regel_djg", disabled=fixed_rules)
rules = SignalRules(lsns_below=lsns_below if use_lsns else None, min_emotional=1 if use_emotional else None,
                    min_practical=1 if use_practical else None, min_informal=min_informal if use_informal else None,
                    djg_at_least=9 if use_djg else None)
if fixed_rules:
    rules = DEFAULT_RULES
buurten = load_areas("buurt")
stop_without_areas(buurten)
names = dict(zip(buurten["area_code"], buurten["name"], strict=True))
types = load_provision_types()
suitability = load_suitability()
TOO_FEW = "te weinig personen"
ISOLATED_LISTED = 1000  # persons without a link listed on the tab Gemeenschap (signal first)
st.caption("Signaal van een arm netwerk bij: " + ("; ".join(rules.describe()) or "geen regel aangezet") + ".")


def share_map() -> None:
    """Share of persons with a signal per buurt: an aggregate with small cells hidden, for every role.

    A buurt where almost everyone has a signal shows a band ('80% of meer', graphs.aggregates.share_band)
    instead of disappearing; the legend tells 'te weinig personen' from 'geheim'.
    """
    share = load_signal_share(rules)
    shown_areas = buurten.merge(share, left_on="area_code", right_index=True, how="left")
    few = shown_areas["status"].isna() & shown_areas["measured"].isna() | (shown_areas["status"] == FEW_PERSONS)
    secret = shown_areas["share"].isna() & shown_areas["share_at_least"].isna() & ~few
    status = pd.Series(None, index=shown_areas.index, dtype=object).mask(few, TOO_FEW).mask(secret, "geheim")
    labels = pd.Series([format_share(s, b) for s, b in zip(shown_areas["share"], shown_areas["share_at_least"],
                                                            strict=True)], index=shown_areas.index, dtype=object)
    labels = labels.mask(few, "geen netwerkgegevens" if user.is_admin else "geen of minder dan 5 personen met gegevens")
    labels = labels.mask(secret, "geheim (kleine aantallen)")
    shown_areas["kaartwaarde"] = shown_areas["share"].fillna(shown_areas["share_at_least"])
    fmap = choropleth_map(shown_areas, "kaartwaarde", label="Aandeel met signaal", unit="%", higher_is_need=True,
                          status=status, value_labels=labels, few_status=TOO_FEW, missing_label="geheim",
                          legend_note=("'… of meer': minder dan 5 personen zonder signaal; de kleur is die van de "
                                       "ondergrens.") if shown_areas["share_at_least"].notna().any() else None)
    st_folium(fmap, key="nw_kaart", height=520, use_container_width=True, returned_objects=[])
    st.caption("Aandeel van de personen met netwerkgegevens dat een signaal heeft, per buurt. Buurten met minder dan 5 "
               "personen met gegevens tonen niets ('te weinig personen'). Aantallen onder de 5 met signaal zijn "
               "verborgen ('geheim'), en ook een tweede cel waar een totaal ze zou verraden. Hebben bijna allen een "
               "signaal (minder dan 5 zonder), dan staat er een ondergrens ('80% of meer') in plaats van het getal."
               + ("" if user.is_admin else " " + PROTECTION_NOTE
                  + (" Buiten uw eigen wijken tellen de standaardregels, niet de regels hiernaast."
                     if user.role == "wijkteam" else "")))
    table = share.assign(Buurt=share.index.map(lambda c: names.get(c, c)))
    shown_share = pd.Series([format_share(s, b) for s, b in zip(table["share"], table["share_at_least"], strict=True)],
                            index=table.index, dtype=object)
    shown_share = shown_share.mask(table["status"] == FEW_PERSONS, TOO_FEW).mask(table["status"] == HIDDEN_STATUS,
                                                                                "geheim")
    st.dataframe(pd.DataFrame({
        "Buurt": table["Buurt"],
        "Personen met gegevens": table["measured"].astype("string").fillna(table["status"]),
        "Met signaal": table["signalled"].astype("string").fillna(""),
        "Aandeel": shown_share,
    }), hide_index=True, width="stretch")
    # To the wijkagenda: only a share that is shown (a number or a band), exactly as the table shows it.
    visible = shown_share.loc[~shown_share.isin(["", TOO_FEW, "geheim"]) & shown_share.notna()]
    if can_add_to_agenda() and len(visible):
        code = st.selectbox("Buurt voor de agenda", list(visible.index), key="nw_agenda_buurt",
                            format_func=lambda c: f"{names.get(c, c)} ({visible[c]} met signaal)")
        to_agenda_button(
            key="nw_agenda", wijk_code=wijk_of_buurt(code, buurten),
            title=f"Netwerken versterken in {names.get(code, code)}", origin_kind="signaal",
            figure=(f"{visible[code]} van de personen met netwerkgegevens in {names.get(code, code)} heeft een "
                    "signaal van een arm netwerk"),
            links=[("buurt", str(code))])


def _count_or_hidden(value) -> str:
    return HIDDEN if pd.isna(value) else format_number(value)


def matching_totals() -> None:
    """Matching as totals per provision, small counts hidden for roles without person access."""
    totals = load_match_totals(load_provisions(), rules)
    m1, m2, m3 = st.columns(3)
    m1.metric("Personen met een signaal", format_count(totals["signalled"]))
    m2.metric("Kunnen een plek krijgen", format_count(totals["matched"]))
    m3.metric("Zonder passende optie", format_count(totals["unmatched"]))
    st.caption("Voorstel: zoveel mogelijk personen met een signaal krijgen een passende voorziening met een vrije "
               "plek binnen bereik, met zo weinig mogelijk totale afstand (min-cost flow); geen voorziening krijgt "
               "meer mensen dan ze vrije plekken heeft. Wie overblijft is het echte tekort, in mensen. Vrije plekken "
               "= plekken min deelnemers (vrijwilligers nemen geen plek in); een buurthuis of andere soort met "
               "alleen bezoekers telt nooit als vrije plek.")
    per = totals["per_provision"]
    if totals.get("protected"):
        st.caption(PROTECTION_NOTE + " Zo is geen klein aantal personen uit de totalen af te leiden."
                   + (" Buiten uw eigen wijken tellen de standaardregels." if user.role == "wijkteam" else ""))
    st.markdown("**Per voorziening**")
    st.dataframe(pd.DataFrame({
        "Voorziening": per["name"], "Soort": per["type"].map(lambda t: types[t].label if t in types else t),
        "Vrije plekken": per["free_places"].map(format_number),
        "Voorgesteld": per["matched"].map(_count_or_hidden),
        "Met signaal binnen bereik": per["signalled_in_reach"].map(_count_or_hidden),
    }), hide_index=True, width="stretch")
    suitability_table()


def suitability_table() -> None:
    """The table 'wat past bij wie' the matching uses, read-only (the administrator edits it on Beheer)."""
    grid = suitability_grid(types, suitability)
    grid = grid.loc[grid[list(NEEDS)].any(axis=1)]
    st.markdown("**Wat past bij wie**")
    st.dataframe(pd.DataFrame({
        "Soort": grid["label"],
        **{label: grid[code].map({True: "✓", False: ""}) for code, label in NEEDS.items()},
        "Plaatsen": grid["has_places"].map({True: "ja", False: "nee, alleen bezoekers"}),
    }), hide_index=True, width="stretch")
    st.caption("Uit het signaal volgt wat iemand nodig heeft: verweduwd (weduwe of weduwnaar), emotioneel "
               "(niemand voor emotionele steun of emotioneel eenzaam) en sociaal (weinig informele contacten, "
               "een lage LSNS-6 of sociaal eenzaam). Een voorziening past als haar soort bij één daarvan past. "
               "Soorten zonder plaatsen worden wel genoemd als plek om elkaar te ontmoeten, maar nooit als vrije "
               "plek. De beheerder past deze tabel aan op de pagina Beheer.")


if not user.sees_persons:
    st.info(f"Uw rol ({ROLES_BY_CODE[user.role]}) ziet netwerken alleen als totalen per buurt en per voorziening; "
            "aantallen onder de 5 personen zijn verborgen.", icon=":material/lock:")
    tab_map, tab_match = st.tabs(["Kaart per buurt", "Koppelen (totalen)"])
    with tab_map:
        share_map()
    with tab_match:
        matching_totals()
    st.stop()

signals = load_signals(rules)
if signals.empty:
    st.info("**Nog geen netwerkgegevens** (die u mag zien). Leg hieronder het eerste netwerk vast tijdens een "
            "gesprek, of importeer ingevulde sjablonen, een export van Network Canvas of GraphML (tab Importeren). "
            "Tot er netwerken zijn, berekent de pagina Tekorten de behoefte alleen uit de kerncijfers.")
    first_entry, first_import = st.tabs(["Netwerk vastleggen", "Importeren"], key="nw_leeg_tabs", on_change="rerun")
    with first_entry:
        if first_entry.open:
            entry_form()
    with first_import:
        if first_import.open:
            import_tab()
    st.stop()
if user.role == "wijkteam":
    st.caption("U ziet de personen van uw wijken: " + ", ".join(md(w) for w in user.wijken) + ".")

# Only the open tab runs (on_change="rerun"): a view of person data is logged only when it is shown.
tab_list, tab_match, tab_map, tab_ego, tab_entry, tab_import, tab_comm = st.tabs(
    ["Signalen", "Koppelen", "Kaart per buurt", "Ecogram", "Netwerk vastleggen", "Importeren", "Gemeenschap"],
    key="nw_tabs", on_change="rerun")

with tab_list:
    if tab_list.open:
        flagged = signals.loc[signals["signal"]]
        c1, c2, c3 = st.columns(3)
        codes = sorted(flagged["buurt_code"].dropna().unique(), key=lambda c: names.get(c, c))
        buurt = c1.selectbox("Buurt", [None, *codes],
                             format_func=lambda c: "alle buurten" if c is None else f"{names.get(c, c)} ({c})",
                             key="nw_buurt")
        reason = c2.selectbox("Reden", [None, "LSNS-6", "geen emotionele steun", "informele contact",
                                        "geen vragenlijst"],
                              format_func=lambda r: "alle redenen" if r is None else r, key="nw_reden")
        ages = c3.multiselect("Leeftijd", list(AGE_BANDS), key="nw_leeftijd", placeholder="alle leeftijden")
        shown = flagged
        if buurt:
            shown = shown.loc[shown["buurt_code"] == buurt]
        if reason:
            shown = shown.loc[shown["reasons"].str.contains(reason, regex=False)]
        if ages:
            shown = shown.loc[shown["age_band"].isin(ages)]
        options = suitable_provisions(shown, load_table("persons"), load_provisions(), buurten,
                                      load_table("participation"), catalogue=load_provision_types(),
                                      taken=load_participation_counts(),  # free places count everyone
                                      suitability=suitability, rules=rules)
        table = pd.DataFrame({
            "Persoon": shown.index,
            "Buurt": shown["buurt_code"].map(lambda c: names.get(c, c)),
            "Leeftijd": shown["age_band"],
            "Redenen": shown["reasons"],
            "Passende voorzieningen binnen bereik": options.reindex(shown.index).fillna("").replace("", "geen"),
        })
        st.markdown(f"**{format_number(len(shown))}** personen met een signaal (van {format_number(len(signals))} "
                    "in de gegevens).")
        # .array: to_numpy() would turn a nullable integer with a gap into float again.
        whole = {label: pd.to_numeric(shown[col], errors="coerce").round().astype("Int64").array
                 for col, label in (("lsns6", "LSNS-6"), ("djg11", "De Jong Gierveld (11)"),
                                    ("djg6", "De Jong Gierveld (6)"), ("network_size", "Netwerkgrootte"),
                                    ("informal_size", "Informele contacten"),
                                    ("emotional_supporters", "Emotionele steun"),
                                    ("practical_supporters", "Praktische steun")) if col in shown}
        export = pd.DataFrame({"Persoon": shown.index.astype(str), "Buurtcode": shown["buurt_code"].to_numpy(),
                               "Buurt": table["Buurt"].to_numpy(), "Leeftijd": shown["age_band"].to_numpy(),
                               **whole, "Redenen": shown["reasons"].to_numpy(),
                               "Passende voorzieningen binnen bereik":
                                   table["Passende voorzieningen binnen bereik"].to_numpy()})
        screening = "Vragenlijst (screening, geen diagnose); leeg: geen (volledige) antwoorden"
        person_table(table, key="signalen", view="signalenlijst", file_name="signalen.csv", export=export,
                     explanation=[
                         ("Persoon", "Pseudonieme code (geen naam).", "", "Steunkaart"),
                         ("Buurtcode", "CBS-code van de buurt waar de persoon woont.", "", "Netwerkgegevens"),
                         ("Buurt", "Naam van die buurt.", "", "CBS Wijk- en buurtkaart"),
                         ("Leeftijd", "Leeftijdsgroep.", "jaar", "Netwerkgegevens"),
                         ("LSNS-6", "Lubben Social Network Scale; lager dan 12 = risico op sociaal isolement.",
                          "score 0-30", screening),
                         ("De Jong Gierveld (11)", "Eenzaamheid; 3 of meer = eenzaam, 9 of meer = zeer eenzaam.",
                          "score 0-11", screening),
                         ("De Jong Gierveld (6)", "Eenzaamheid, korte versie; 2-4 matig, 5-6 zeer eenzaam.",
                          "score 0-6", screening),
                         ("Netwerkgrootte", "Mensen in het netwerk.", "personen", "Netwerkgegevens"),
                         ("Informele contacten", "Mensen in het netwerk die geen professional zijn.", "personen",
                          "Netwerkgegevens"),
                         ("Emotionele steun", "Mensen voor emotionele steun.", "personen", "Netwerkgegevens"),
                         ("Praktische steun", "Mensen voor praktische steun.", "personen", "Netwerkgegevens"),
                         ("Redenen", "Waarom er een signaal is.", "", "Regels voor het signaal"),
                         ("Passende voorzieningen binnen bereik", "Voorzieningen die passen en de buurt bereiken.",
                          "", "Sociale kaart"),
                     ])

with tab_match:
    if tab_match.open:
        match = match_signalled(signals, load_table("persons"), load_provisions(), buurten, load_table("participation"),
                                catalogue=types, taken=load_participation_counts(), suitability=suitability,
                                rules=rules)
        matching_totals()
        st.markdown("**Voorstellen per persoon**" + (" (uw wijken)" if user.role == "wijkteam" else ""))
        proposals = match.assignments
        person_table(pd.DataFrame({
            "Persoon": proposals["person_id"],
            "Buurt": proposals["buurt_code"].map(lambda c: names.get(c, c)),
            "Voorziening": proposals["name"],
            "Afstand": proposals["distance_m"].map(lambda d: f"{format_number(d / 1000, 1)} km"),
        }), key="koppeling", view="koppeling per persoon", file_name="koppeling.csv", export=pd.DataFrame({
            "Persoon": proposals["person_id"].astype(str).to_numpy(),
            "Buurtcode": proposals["buurt_code"].to_numpy(),
            "Buurt": proposals["buurt_code"].map(lambda c: names.get(c, c)).to_numpy(),
            "Voorziening-id": proposals["provision_id"].to_numpy(),
            "Voorziening": proposals["name"].to_numpy(),
            "Soort": proposals["type"].map(lambda t: types[t].label if t in types else t).to_numpy(),
            "Afstand (km)": (pd.to_numeric(proposals["distance_m"], errors="coerce") / 1000).round(1).to_numpy(),
        }), number_formats={"Afstand (km)": "#,##0.0"}, explanation=[
            ("Persoon", "Pseudonieme code (geen naam).", "", "Steunkaart"),
            ("Buurtcode", "CBS-code van de buurt waar de persoon woont.", "", "Netwerkgegevens"),
            ("Buurt", "Naam van die buurt.", "", "CBS Wijk- en buurtkaart"),
            ("Voorziening-id", "Id van de voorgestelde voorziening.", "", "Sociale kaart"),
            ("Voorziening", "Naam van de voorgestelde voorziening.", "", "Sociale kaart"),
            ("Soort", "Soort van de voorziening.", "", "Sociale kaart"),
            ("Afstand (km)", "Hemelsbrede afstand van de buurt tot de voorziening.", "kilometer", "Berekend"),
        ])
        if match.n_unmatched:
            st.markdown("**Zonder passende optie**")
            person_table(pd.DataFrame({
                "Persoon": match.unmatched["person_id"],
                "Buurt": match.unmatched["buurt_code"].map(lambda c: names.get(c, c)),
                "Reden": match.unmatched["reason"],
            }), key="zonder_optie", view="koppeling: zonder optie", file_name="zonder_optie.csv",
                export=pd.DataFrame({
                    "Persoon": match.unmatched["person_id"].astype(str).to_numpy(),
                    "Buurtcode": match.unmatched["buurt_code"].to_numpy(),
                    "Buurt": match.unmatched["buurt_code"].map(lambda c: names.get(c, c)).to_numpy(),
                    "Reden": match.unmatched["reason"].to_numpy(),
                }), explanation=[
                    ("Persoon", "Pseudonieme code (geen naam).", "", "Steunkaart"),
                    ("Buurtcode", "CBS-code van de buurt waar de persoon woont.", "", "Netwerkgegevens"),
                    ("Buurt", "Naam van die buurt.", "", "CBS Wijk- en buurtkaart"),
                    ("Reden", "Waarom er geen passende voorziening voorgesteld kon worden.", "", "Berekend"),
                ])

with tab_map:
    if tab_map.open:
        share_map()

with tab_ego:
    if tab_ego.open:
        people = list(signals.index)
        person = st.selectbox("Persoon (pseudoniem)", people, index=None, key="nw_persoon",
                              placeholder="kies een persoon om het netwerk te zien")
        if person is None:
            st.info("Kies een persoon. Elke keer dat u een netwerk bekijkt, komt dat in het logboek.")
        else:  # every view of a person's network is in the log
            log_person_view("ecogram", [person])
        if person is not None:
            ties = load_table("ties")
            own = ties.loc[ties["ego_id"] == person]
            links = load_table("alter_links")
            svg = ecogram_svg(own, alter_links=links.loc[links["ego_id"] == person],
                              title=f"Netwerkkaart van {person}")
            st.image(svg, caption=f"Netwerkkaart van {md(person)}")
            left, right = st.columns([3, 2])
            with left:
                import re

                from graphs.ecogram import netwerkkaart_print_html
                from pages.common import log_export

                stem = "netwerkkaart-" + re.sub(r"[^A-Za-z0-9_-]", "_", str(person))
                on_behalf = {"rol": user.role, "wijken": list(user.wijken)}
                d1, d2 = st.columns(2)
                for col, (label, data, ext, mime) in zip((d1, d2), (
                        ("Download (SVG)", svg, "svg", "image/svg+xml"),
                        ("Afdrukversie (HTML, A4)", netwerkkaart_print_html(svg, title=f"Netwerkkaart van {person}"),
                         "html", "text/html")), strict=True):
                    col.download_button(label, data.encode("utf-8"), file_name=f"{stem}.{ext}", mime=mime,
                                        key=f"nk_download_{ext}", icon=":material/download:", on_click=log_export,
                                        args=("export-personen", "netwerkkaart",
                                              {"bestand": f"{stem}.{ext}", "personen": [str(person)], "aantal": 1,
                                               "namens": on_behalf}))
                st.caption("Voor het gesprek: de SVG opent in elke browser en drukt scherp af; de afdrukversie past "
                           "op één A4 (liggend), kies in de browser Afdrukken of Opslaan als PDF.")
                in_data = [a for a in pd.unique(own["alter_id"].dropna().astype(str)) if a in signals.index]
                if in_data:
                    st.markdown("**Staan zelf in de gegevens** (dikke rand op de kaart): open hun netwerkkaart.")

                    def _open_person(code: str) -> None:
                        st.session_state["nw_persoon"] = code

                    with st.container(horizontal=True):
                        for code in in_data:
                            st.button(md(code), key=f"nk_open_{code}", on_click=_open_person, args=(code,))
            with right:
                row = signals.loc[person]
                st.metric("Netwerkgrootte", int(row["network_size"]))
                st.metric("Mensen voor emotionele steun", int(row["emotional_supporters"]))
                st.metric("Mensen voor praktische steun", int(row["practical_supporters"]))
                st.metric("LSNS-6", "geen vragenlijst" if pd.isna(row["lsns6"]) else f"{int(row['lsns6'])} van 30")
                st.metric("De Jong Gierveld", "geen vragenlijst" if pd.isna(row["djg11"])
                          else f"{int(row['djg11'])} van 11 ({row['djg11_band']})")
                if row["signal"]:
                    st.warning("Signaal: " + md(row["reasons"]))
                else:
                    st.success("Geen signaal van een arm netwerk.")
            network_card(person, rules=rules)

with tab_entry:
    if tab_entry.open:
        entry_form()

with tab_import:
    if tab_import.open:
        import_tab()

with tab_comm:
    if tab_comm.open:
        import streamlit.components.v1 as components

        from graphs.community import community_html, summarised_graph
        from mapping.assets import VIS_URL

        provisions = load_provisions()
        community = load_community()  # once per data version and scope, only when this tab is open
        graph, summary = community["graph"], community["summary"]
        log_person_view("gemeenschap", community["person_ids"])
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Deelnetwerken", format_number(summary["components"]))
        c2.metric("Grootste deelnetwerk", format_number(summary["largest_component"]))
        c3.metric("Personen zonder verbinding", format_number(summary["isolated_persons"]))
        c4.metric("Verbinders", format_number(len(summary["connectors"])))
        st.caption("Personen (rondjes; rood = signaal van een arm netwerk) verbonden via hun steunrelaties met "
                   "andere personen in de gegevens (grijs) en via de groepen waaraan ze meedoen (vierkanten, gele "
                   "lijnen). Verbinders (dikke rand of groter vierkant) zijn mensen of groepen zonder wie het netwerk "
                   "uiteenvalt of die op veel kortste paden liggen. Personen zonder verbinding in de gegevens (geen "
                   "relatie met een andere persoon in de gegevens, geen groep) staan niet in de tekening maar in de "
                   "lijst ernaast: dat zegt niets over hun anonieme contacten, kijk daarvoor op hun netwerkkaart.")
        exact = summary["sources"] >= summary["nodes"]
        st.caption(f"Zonder wie het uiteenvalt is exact: {format_number(len(summary['articulation_points']))} "
                   f"personen of groepen en {format_number(len(summary['bridges']))} verbindingen (bruggen). "
                   + ("De tussenpositie (kortste paden) is exact berekend." if exact else
                      f"De tussenpositie (kortste paden) is een schatting op {format_number(summary['sources'])} "
                      f"van de {format_number(summary['nodes'])} startpunten (steekproef)."))
        names_by_id = dict(zip(provisions["provision_id"], provisions["name"], strict=True))
        types_by_id = dict(zip(provisions["provision_id"], provisions["type"], strict=True))
        flagged_ids = set(signals.index[signals["signal"]].astype(str))
        linked = pd.Series(summary["linked_persons"], dtype=object)
        focus_options = pd.concat([linked[linked.isin(flagged_ids)], linked[~linked.isin(flagged_ids)]]).tolist()
        focus = st.selectbox("Omgeving van (eerst wie een signaal heeft)", focus_options, index=None,
                             key="nw_gem_focus", placeholder="kies een persoon om de omgeving te tekenen")
        shown_graph, left_out = summarised_graph(graph, summary, focus=focus)
        drawing, lists = st.columns([3, 1])
        with drawing:
            components.html(community_html(shown_graph, summary, signalled=flagged_ids, provision_names=names_by_id,
                                           provision_types=types_by_id, vis_base=VIS_URL, focus=focus,
                                           left_out=left_out), height=624)
            if left_out["persons"] or left_out["links"]:
                drawn = len(summary["person_connectors"][:40])
                st.caption(f"Samengevat getekend: alle groepen, de {format_number(drawn)}"
                           " belangrijkste verbinders en de omgeving van de gekozen persoon; niet getekend: "
                           f"{format_number(left_out['persons'])} personen en {format_number(left_out['links'])} "
                           "verbindingen" + (f", {format_number(left_out['neighbours'])} buren van de gekozen "
                                             "persoon" if left_out["neighbours"] else "") + ".")
        with lists:
            shown_connectors = summary["person_connectors"][:20]
            st.markdown("**Verbinders** (meeste kortste paden)")
            with st.container(height=180):
                st.markdown("\n".join(
                    f"- {md(n)}" + (" · zonder hen valt het uiteen" if n in summary["articulation_points"] else "")
                    + (" · signaal" if n in flagged_ids else "") for n in shown_connectors) or "geen")
            if len(summary["person_connectors"]) > len(shown_connectors):
                st.caption(f"De {len(shown_connectors)} met de hoogste tussenpositie van "
                           f"{format_number(len(summary['person_connectors']))} personen die verbinden.")
            all_isolated = sorted(summary["isolated"], key=lambda n: (n not in flagged_ids, n))
            isolated = all_isolated[:ISOLATED_LISTED]  # a city's tens of thousands would only slow the page down
            st.markdown(f"**Zonder verbinding** ({format_number(len(all_isolated))}; eerst wie een signaal heeft)")
            with st.container(height=200):
                st.markdown("\n".join(f"- {md(n)}" + (" · signaal" if n in flagged_ids else "") for n in isolated)
                            or "niemand")
            if len(all_isolated) > len(isolated):
                st.caption(f"De eerste {format_number(len(isolated))} van {format_number(len(all_isolated))}; "
                           "de anderen vindt u op het tabblad Ecogram (hun netwerkkaart).")
            openable = [n for n in (*shown_connectors, *isolated) if n in signals.index]
            if openable:
                def _open_map() -> None:
                    st.session_state["nw_persoon"] = st.session_state["nw_gem_persoon"]
                    st.session_state["nw_tabs"] = "Ecogram"

                st.selectbox("Netwerkkaart van", openable, index=None, key="nw_gem_persoon",
                             placeholder="kies een persoon")
                st.button("Open netwerkkaart", key="nw_gem_open", on_click=_open_map,
                          disabled=st.session_state.get("nw_gem_persoon") is None)
        top = [n for n in summary["connectors"] if n.startswith("V:")][:10]
        if top:
            st.markdown("**Groepen die mensen verbinden:** " + ", ".join(md(names_by_id.get(n[2:], n)) for n in top))

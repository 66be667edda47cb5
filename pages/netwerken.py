"""Netwerken: who lacks emotional or practical support, where they live, and what could connect them."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from data.access import AccessDenied
from data.auth import ROLES as ROLES_BY_CODE
from data.disclosure import PROTECTION_NOTE
from data.formatting import format_number
from data.provision_types import NEEDS
from data.reach import suitability_grid
from data.schema import AGE_BANDS
from graphs.aggregates import HIDDEN, format_count, suitable_provisions
from graphs.ecogram import ecogram_svg
from graphs.matching import match_signalled
from graphs.screening import SCREENING_NOTE
from graphs.signals import DEFAULT_RULES, SignalRules
from mapping.choropleth import choropleth_map
from pages.common import (
    get_store,
    load_areas,
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
)

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
st.caption("Signaal van een arm netwerk bij: " + ("; ".join(rules.describe()) or "geen regel aangezet") + ".")


def share_map() -> None:
    """Share of persons with a signal per buurt: an aggregate with small cells hidden, for every role."""
    share = load_signal_share(rules)
    shown_areas = buurten.merge(share, left_on="area_code", right_index=True, how="left")
    status = shown_areas["status"].where(shown_areas["status"].notna(), None)
    fmap = choropleth_map(shown_areas, "share", label="Aandeel met signaal", unit="%", higher_is_need=True,
                          status=status.fillna("geen netwerkgegevens" if user.is_admin
                                               else "geen of minder dan 5 personen met gegevens")
                          .where(shown_areas["share"].isna(), None))
    st_folium(fmap, key="nw_kaart", height=520, use_container_width=True, returned_objects=[])
    st.caption("Aandeel van de personen met netwerkgegevens dat een signaal heeft, per buurt. Aantallen onder de 5 "
               "zijn verborgen ('minder dan 5 personen'), en ook een tweede cel waar een totaal ze zou verraden."
               + ("" if user.is_admin else " " + PROTECTION_NOTE
                  + (" Buiten uw eigen wijken tellen de standaardregels, niet de regels hiernaast."
                     if user.role == "wijkteam" else "")))
    table = share.assign(Buurt=share.index.map(lambda c: names.get(c, c)))
    st.dataframe(pd.DataFrame({
        "Buurt": table["Buurt"],
        "Personen met gegevens": table["measured"].astype("string").fillna(table["status"]),
        "Met signaal": table["signalled"].astype("string").fillna(""),
        "Aandeel": table["share"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}%"),
    }), hide_index=True, width="stretch")


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

CODE_REFUSED = ("Deze code kunt u hier niet gebruiken. Gebruik een ondoorzichtige code die u zelf uitgeeft (zoals "
                "K-0142): geen naam, BSN, telefoonnummer, e-mail- of huisadres, en geen code die al voor iemand anders "
                "in gebruik is.")


def entry_form() -> None:
    """Record one person's network during a conversation (also the very first network of a store)."""
    from data.errors import DataValidationError
    from data.privacy import check_pseudonymous
    from data.schema import CONTACT_FREQUENCIES, ROLES
    from pages.common import show_error

    st.markdown("Leg tijdens een gesprek het netwerk van één persoon vast. Gebruik een **code**, nooit een naam. "
                "Veel netwerken tegelijk: vul de sjablonen in en importeer ze met `python cli.py import-network`.")
    from data.export import frame_to_csv_bytes
    from data.network_import import PARTICIPATION_HEADERS, PERSON_HEADERS, TIE_HEADERS

    d1, d2, d3 = st.columns(3)
    for col, (label, headers, fname) in zip((d1, d2, d3), (
            ("Sjabloon personen", PERSON_HEADERS, "sjabloon_personen.csv"),
            ("Sjabloon relaties", TIE_HEADERS, "sjabloon_relaties.csv"),
            ("Sjabloon deelname", PARTICIPATION_HEADERS, "sjabloon_deelname.csv")), strict=True):
        col.download_button(label, frame_to_csv_bytes(pd.DataFrame(columns=list(headers))), file_name=fname,
                            mime="text/csv", icon=":material/download:")
    c1, c2, c3 = st.columns(3)
    code = c1.text_input("Code van de persoon", key="nv_code", placeholder="bijv. K-0142").strip()
    own_buurten = [c for c in names if user.in_scope(pd.Series([c])).iloc[0]]
    if not own_buurten:
        st.info("Nog geen buurten (van uw wijken) in de opslag: de beheerder importeert eerst de CBS-gebieden op de "
                "pagina Beheer. Daarna kunt u hier netwerken vastleggen.")
        return
    buurt_code = c2.selectbox("Buurt", own_buurten, format_func=lambda c: f"{names[c]} ({c})", key="nv_buurt")
    age_band = c3.selectbox("Leeftijd", list(AGE_BANDS), key="nv_leeftijd")
    if code:
        persons_table = load_table("persons")
        ties_table = load_table("ties")
        own = ties_table.loc[ties_table["ego_id"] == code]
        with st.form("nv_alter", clear_on_submit=True):
            st.markdown("**Iemand toevoegen**")
            a1, a2, a3 = st.columns(3)
            role = a1.selectbox("Rol", list(ROLES), format_func=ROLES.get)
            closeness = a2.select_slider("Nabijheid", options=[1, 2, 3], value=2,
                                        format_func={1: "verder weg", 2: "dichtbij", 3: "heel dichtbij"}.get)
            frequency = a3.selectbox("Contact", list(CONTACT_FREQUENCIES), format_func=CONTACT_FREQUENCIES.get)
            s1, s2, s3, s4 = st.columns(4)
            emotional = s1.checkbox("emotionele steun")
            practical = s2.checkbox("praktische steun")
            informational = s3.checkbox("informatie en advies")
            company = s4.checkbox("gezelschap")
            added = st.form_submit_button("Toevoegen", type="primary")
        if added:
            try:
                check_pseudonymous(pd.DataFrame({"persoon": [code]}), file="formulier", id_columns=("persoon",))
                existing = persons_table.loc[persons_table["person_id"] == code]
                person_row = existing if len(existing) else pd.DataFrame(
                    [{"person_id": code, "buurt_code": buurt_code, "age_band": age_band, "consent": True}])
                keys = own["alter_key"].dropna().str.extract(r"^a(\d+)$")[0].dropna().astype(int)
                new_tie = pd.DataFrame([{
                    "ego_id": code, "alter_id": None, "alter_key": f"a{(keys.max() if len(keys) else 0) + 1}",
                    "role": role, "support_practical": practical, "support_emotional": emotional,
                    "support_informational": informational, "support_companionship": company,
                    "contact_frequency": frequency, "closeness": closeness, "reciprocal": None, "same_buurt": None}])
                links = load_table("alter_links")
                get_store().merge_network(person_row, pd.concat([own, new_tie], ignore_index=True),
                                          alter_links=links.loc[links["ego_id"] == code],
                                          source="gespreksformulier", kind="netwerk-invoer")
            except DataValidationError as exc:  # AccessDenied too: a code of someone outside the user's wijken
                if isinstance(exc, AccessDenied) or exc.column == "persoon":
                    # One answer for every code the user may not use, so it does not tell whether a code
                    # exists in another wijk.
                    st.error(CODE_REFUSED)
                else:
                    show_error(exc)
            else:
                st.rerun()
        own = load_table("ties").loc[lambda t: t["ego_id"] == code]
        if len(own) and st.session_state.get("nv_gelogd") != code:
            get_store().log("bekijk-netwerk", code, {"weergave": "gespreksformulier"})
            st.session_state["nv_gelogd"] = code
        st.image(ecogram_svg(own, title=f"Ecogram van {code}"), caption=f"Ecogram van {md(code)} ({len(own)} mensen)")


signals = load_signals(rules)
if signals.empty:
    st.info("**Nog geen netwerkgegevens** (die u mag zien). Leg hieronder het eerste netwerk vast tijdens een "
            "gesprek, of vul de sjablonen in; de beheerder importeert ook exports van Network Canvas of GraphML. "
            "Tot er netwerken zijn, berekent de pagina Tekorten de behoefte alleen uit de kerncijfers.")
    entry_form()
    st.stop()
if user.role == "wijkteam":
    st.caption("U ziet de personen van uw wijken: " + ", ".join(md(w) for w in user.wijken) + ".")

# Only the open tab runs (on_change="rerun"): a view of person data is logged only when it is shown.
tab_list, tab_match, tab_map, tab_ego, tab_entry, tab_comm = st.tabs(
    ["Signalen", "Koppelen", "Kaart per buurt", "Ecogram", "Netwerk vastleggen", "Gemeenschap"],
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
        person_table(table, key="signalen", view="signalenlijst", file_name="signalen.csv")

with tab_match:
    if tab_match.open:
        match = match_signalled(signals, load_table("persons"), load_provisions(), buurten, load_table("participation"),
                                catalogue=types, taken=load_participation_counts(), suitability=suitability,
                                rules=rules)
        matching_totals()
        st.markdown("**Voorstellen per persoon**" + (" (uw wijken)" if user.role == "wijkteam" else ""))
        person_table(pd.DataFrame({
            "Persoon": match.assignments["person_id"],
            "Buurt": match.assignments["buurt_code"].map(lambda c: names.get(c, c)),
            "Voorziening": match.assignments["name"],
            "Afstand": match.assignments["distance_m"].map(lambda d: f"{format_number(d / 1000, 1)} km"),
        }), key="koppeling", view="koppeling per persoon", file_name="koppeling.csv")
        if match.n_unmatched:
            st.markdown("**Zonder passende optie**")
            person_table(pd.DataFrame({
                "Persoon": match.unmatched["person_id"],
                "Buurt": match.unmatched["buurt_code"].map(lambda c: names.get(c, c)),
                "Reden": match.unmatched["reason"],
            }), key="zonder_optie", view="koppeling: zonder optie", file_name="zonder_optie.csv")

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
            left, right = st.columns([3, 2])
            with left:
                st.image(ecogram_svg(own, title=f"Ecogram van {person}"), caption=f"Ecogram van {md(person)}")
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

with tab_entry:
    if tab_entry.open:
        entry_form()

with tab_comm:
    if tab_comm.open:
        import streamlit.components.v1 as components

        from graphs.community import community_graph, community_html, community_summary
        from mapping.assets import VIS_URL

        provisions = load_provisions()
        graph = community_graph(load_table("persons"), load_table("ties"), load_table("participation"), provisions)
        log_person_view("gemeenschap", sorted(n for n, kind in graph.nodes(data="kind") if kind == "persoon"))
        summary = community_summary(graph)
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Deelnetwerken", format_number(summary["components"]))
        c2.metric("Grootste deelnetwerk", format_number(summary["largest_component"]))
        c3.metric("Personen zonder verbinding", format_number(summary["isolated_persons"]))
        c4.metric("Verbinders", format_number(len(summary["connectors"])))
        st.caption("Personen (rondjes; rood = signaal van een arm netwerk) verbonden via hun steunrelaties met "
                   "andere personen in de gegevens (grijs) en via de groepen waaraan ze meedoen (vierkanten, gele "
                   "lijnen). Verbinders (dikke rand of groter vierkant) zijn mensen of groepen zonder wie het netwerk "
                   "uiteenvalt of die op veel kortste paden liggen.")
        names_by_id = dict(zip(provisions["provision_id"], provisions["name"], strict=True))
        types_by_id = dict(zip(provisions["provision_id"], provisions["type"], strict=True))
        components.html(community_html(graph, summary, signalled=set(signals.index[signals["signal"]].astype(str)),
                                       provision_names=names_by_id, provision_types=types_by_id, vis_base=VIS_URL),
                        height=640)
        top = [n for n in summary["connectors"] if n.startswith("V:")][:10]
        if top:
            st.markdown("**Groepen die mensen verbinden:** " + ", ".join(md(names_by_id.get(n[2:], n)) for n in top))

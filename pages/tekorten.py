"""Tekorten: where need for collective, preventive support is high and little of it is within reach,
and what a scenario (a provision stops, a new one starts) changes."""

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from data.disclosure import MIN_CAPACITY, MIN_REACH_M, PROTECTION_NOTE, SMALL_CHANGE
from data.errors import ConflictError, DataValidationError
from data.formatting import format_number
from graphs.aggregates import MIN_CELL, format_count
from mapping.accessibility import DECAYS
from mapping.choropleth import choropleth_map
from mapping.gap_report import build_gap_report, report_to_excel, report_to_html
from mapping.gaps import DEFAULT_NEED, Term, describe_need
from mapping.hotspots import MIN_NEED, add_hotspot_layer, gap_hotspots
from mapping.scenarios import NewProvision, Scenario, apply_scenario, compare_scenarios, rd_from_wgs84, run_scenario
from pages.common import (
    can_add_to_agenda,
    get_store,
    load_adjacency,
    load_areas,
    load_counts,
    load_match_totals,
    load_participation_counts,
    load_provision_types,
    load_provisions,
    load_signal_groups,
    load_suitability,
    md,
    show_error,
    stop_without_areas,
    to_agenda_button,
    wijk_of_buurt,
)

st.title("Tekorten (witte vlekken)")
catalogue = load_provision_types()
suitability = load_suitability()
types = [t for t in catalogue if t in DEFAULT_NEED]
with st.sidebar:
    st.subheader("Analyse")
    ptype = st.selectbox("Soort voorziening", types, format_func=lambda t: catalogue[t].label, key="tk_soort")
    decay = st.selectbox("Afstandsverval", list(DECAYS), format_func=DECAYS.get, key="tk_verval")
    # The shortage in people by default: hot spots that point at people (mapping/hotspots.py).
    cluster_on = st.radio("Clusters (Getis-Ord Gi*, FDR 5%)", ["gap_people", "gap_index", "geen"],
                          format_func={"gap_index": "op de tekortindex", "gap_people": "op het tekort in personen",
                                       "geen": "niet tonen"}.get, key="tk_clusters")
    st.markdown("**Gewichten in de behoefte**")
    terms = tuple(
        Term(t.label, t.indicators, st.number_input(t.label, 0.0, 5.0, float(t.weight), 0.01, key=f"tk_w_{ptype}_{k}"))
        for k, t in enumerate(DEFAULT_NEED[ptype]))

buurten = load_areas("buurt")
stop_without_areas(buurten)  # gaps are computed per buurt from its key figures
provisions = load_provisions()
# Persons only as counts here (per buurt and widowed or not): the page is for every role.
signalled = load_signal_groups()
participation = load_participation_counts()
signals_per_buurt = signalled.groupby("buurt_code")["count"].sum() if len(signalled) else None
names = provisions.set_index("provision_id")["name"]


def _type_label(code: str) -> str:
    return catalogue[code].label if code in catalogue else code


type_of = provisions.set_index("provision_id")["type"]


# --------------------------------------------------------------------------- the scenario being built
def _load_scenario(name: str) -> None:
    saved = get_store().read_scenarios().set_index("name")
    scenario = Scenario.from_json(name, saved.loc[name, "definition"])
    st.session_state["tk_uit"] = [p for p in scenario.off if p in names.index]
    st.session_state["tk_nieuw"] = [vars(p) for p in scenario.added]
    st.session_state["tk_naam"] = name
    st.session_state["tk_versie"] = int(saved.loc[name, "version"])


def _clear_scenario() -> None:
    st.session_state["tk_uit"] = []
    st.session_state["tk_nieuw"] = []
    st.session_state["tk_naam"] = ""
    st.session_state.pop("tk_versie", None)
    st.session_state.pop("tk_klik", None)


added = st.session_state.setdefault("tk_nieuw", [])
scenario = Scenario(st.session_state.get("tk_naam", "") or "Scenario", tuple(st.session_state.get("tk_uit", [])),
                    tuple(NewProvision(**a) for a in added))
result = run_scenario(buurten, provisions, scenario, types=[ptype], decay=decay, need_terms={ptype: terms},
                      signals_per_buurt=signals_per_buurt, signalled=signalled if len(signalled) else None,
                      participation=participation, catalogue=catalogue, suitability=suitability)
table = result.per_buurt
summary = result.summary.iloc[0]

if load_counts()["persons"] == 0:
    st.info("Nog geen netwerkgegevens: de behoefte komt alleen uit de kerncijfers. Zodra er netwerken zijn "
            "vastgelegd (pagina Netwerken), tellen ook de mensen met een signaal van een arm netwerk mee.")
if provisions.empty:
    st.info("Nog geen voorzieningen in de opslag: alles is dan tekort. Vul de sociale kaart op de pagina "
            "Voorzieningen (importeren of toevoegen).")
st.caption("Behoefte = " + describe_need(ptype, terms) + ". Bereikbaarheid: two-step floating catchment area "
           "(2SFCA) over de hemelsbrede afstand tot een punt binnen de buurt; gestopte voorzieningen en voorzieningen "
           "buiten de geladen gebieden tellen niet, voorzieningen onder druk tellen mee en worden genoemd.")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Behoefte (personen)", format_number(summary["need"]))
c2.metric("Tekort nu (personen)", format_number(summary["gap_before"]))
c3.metric("Tekort in scenario", format_number(summary["gap_after"]),
          delta=None if scenario.empty else format_number(summary["gap_change"]), delta_color="inverse")
c4.metric("Buurten met ontbrekende kerncijfers", int((table["missing"] != "").sum()))
if not scenario.empty:
    st.markdown(
        f"**Scenario:** {md(scenario.describe(provisions, catalogue))}. "
        f"{format_number(summary['lose_reach'])} mensen in de doelgroep verliezen een "
        f"{md(catalogue[ptype].label.lower())} binnen bereik, {format_number(summary['gain_reach'])} krijgen er een."
        + (f" Van de {format_count(result.signalled['signalled'])} personen met een signaal van een arm netwerk "
           f"verliezen er {format_count(result.signalled['lose'])} een passende voorziening met plek binnen bereik "
           f"en krijgen er {format_count(result.signalled['gain'])} een." if result.signalled else ""))

# --------------------------------------------------------------------------- maps: now and scenario
values = pd.concat([table["gap_before"], table["gap_after"]]).dropna()
bins = None
if values.nunique() > 1:
    bins = np.unique(np.quantile(values, [0.2, 0.4, 0.6, 0.8, 1.0]))
label = f"Tekort {catalogue[ptype].label.lower()} (personen)"
spots_now = spots_then = None
if cluster_on != "geen":
    column = {"gap_index": ("index_before", "index_after"), "gap_people": ("gap_before", "gap_after")}[cluster_on]
    by_code = table.set_index("area_code")
    # Now and scenario: the same measure and the same rule (need does not change in a scenario).
    spots_now, spots_then = (gap_hotspots(buurten, by_code[c], adjacency=load_adjacency(), need=by_code["need"],
                                          min_need=MIN_NEED) for c in column)
own = provisions.loc[provisions["type"] == ptype]
left, right = st.columns(2)
with left:
    st.markdown("**Nu**")
    now = buurten.merge(table.set_index("area_code")[["gap_before"]], left_on="area_code", right_index=True,
                        how="left")
    now_map = choropleth_map(now, "gap_before", label=label, higher_is_need=True, provisions=own,
                             provision_types=catalogue, bins=bins, height=460)
    if spots_now is not None:
        add_hotspot_layer(now_map, buurten, spots_now, legend=False)
    st_folium(now_map, key=f"tk_kaart_nu_{ptype}", height=460, use_container_width=True, returned_objects=[])
with right:
    st.markdown("**Scenario** (klik op de kaart om een nieuwe voorziening te plaatsen)")
    then = buurten.merge(table.set_index("area_code")[["gap_after"]], left_on="area_code", right_index=True,
                         how="left")
    changed = apply_scenario(provisions, scenario)
    then_map = choropleth_map(then, "gap_after", label=label, higher_is_need=True,
                              provisions=changed.loc[changed["type"] == ptype], provision_types=catalogue,
                              bins=bins, height=460)
    if spots_then is not None:
        add_hotspot_layer(then_map, buurten, spots_then, legend=False)
    clicked = st_folium(then_map,
                        key=f"tk_kaart_scenario_{ptype}", height=460, use_container_width=True,
                        returned_objects=["last_clicked"])
    spot = (clicked or {}).get("last_clicked")
    if spot and spot != st.session_state.get("tk_klik_gezien"):  # the map keeps returning its last click
        st.session_state["tk_klik_gezien"] = spot
        st.session_state["tk_klik"] = rd_from_wgs84(spot["lat"], spot["lng"])

if spots_now is not None:
    def _count(spots, kind):
        return int((spots["cluster"] == kind).sum())
    measure = "de tekortindex" if cluster_on == "gap_index" else "het tekort in personen"
    small = int(spots_now.attrs["n_small_need"])
    st.caption(
        f"Rood gearceerd: hotspots, blauwe rand: coldspots van {measure} "
        "(Getis-Ord Gi*, buren delen een grens of hoekpunt, significant na FDR-correctie 5%). "
        f"Een buurt met een behoefte van minder dan {MIN_NEED} personen is nooit een hot- of coldspot (hier "
        f"{small} {'buurt' if small == 1 else 'buurten'}); ze telt wel mee als waarneming en als buur. De "
        f"scenariokaart gebruikt dezelfde maat en dezelfde regel. Nu {_count(spots_now, 'hot')} hot- en "
        f"{_count(spots_now, 'cold')} coldspots, in het scenario {_count(spots_then, 'hot')} en "
        f"{_count(spots_then, 'cold')}."
        + (" De tekortindex is 1 overal waar niets binnen bereik is: stopt een scenario alles van deze soort, dan "
           "is er geen verschil meer tussen buurten en verdwijnen de clusters." if cluster_on == "gap_index" else ""))

# --------------------------------------------------------------------------- matching, now and in the scenario
if len(signalled):
    try:  # hypothetical provisions under the minimum for this role are refused by the access layer
        now_match = load_match_totals(provisions)
        then_match = load_match_totals(changed) if not scenario.empty else now_match
    except DataValidationError as exc:
        show_error(exc)
    else:
        then_shown = get_store().match_change(now_match, then_match)
        st.markdown(
            f"**Koppelen** (min-cost flow, alle passende soorten): van de {format_count(now_match['signalled'])} "
            f"personen met een signaal van een arm netwerk kunnen er nu {format_count(now_match['matched'])} een "
            f"passende plek binnen bereik krijgen en blijven er {format_count(now_match['unmatched'])} zonder optie"
            + ("." if scenario.empty else
               f"; het scenario verandert dat voor {SMALL_CHANGE} personen." if then_shown["small_change"] else
               f"; in het scenario {format_count(then_shown['matched'])} met en "
               f"{format_count(then_shown['unmatched'])} zonder optie.")
            + (" " + PROTECTION_NOTE if now_match.get("protected") else "")
            + (" De personen zelf staan op de pagina Netwerken (tab Koppelen)." if get_store().user.sees_persons
               else ""))

# --------------------------------------------------------------------------- building the scenario
st.subheader("Scenario samenstellen")
running = provisions.loc[provisions["status"] != "gestopt"]
st.multiselect("Zet voorzieningen uit (wat als de subsidie stopt?)", list(running["provision_id"]),
               format_func=lambda p: f"{names.get(p, p)} ({_type_label(type_of[p])})",
               key="tk_uit", placeholder="kies voorzieningen")
spot = st.session_state.get("tk_klik")
if spot:
    with st.form("tk_nieuw_form", border=True):
        st.markdown(f"**Nieuwe voorziening op de aangeklikte plek** (RD {spot[0]:,} / {spot[1]:,})"
                    .replace(",", "."))
        f1, f2, f3, f4 = st.columns([2, 2, 1, 1])
        new_type = f1.selectbox("Soort", types, index=types.index(ptype), format_func=lambda t: catalogue[t].label)
        new_name = f2.text_input("Naam", value=f"{catalogue[ptype].label} (nieuw)")
        typical = own["capacity_per_year"].astype("Float64").median()
        # Roles with protected figures: no provision small enough to probe a few persons (data/disclosure.py).
        exact = get_store().user.is_admin
        min_capacity, min_reach = (1, 100) if exact else (MIN_CAPACITY, MIN_REACH_M)
        capacity = f3.number_input("Capaciteit per jaar", min_capacity, 100_000,
                                   max(int(typical) if pd.notna(typical) and typical > 0 else 20, min_capacity))
        reach = f4.number_input("Bereik (m)", min_reach, 50_000,
                                max(int(catalogue[ptype].default_reach_m), min_reach), 100)
        if st.form_submit_button("Toevoegen aan scenario", type="primary"):
            st.session_state["tk_nieuw"] = [*added, vars(NewProvision(new_type, float(spot[0]), float(spot[1]),
                                                                       float(capacity), float(reach),
                                                                       new_name.strip() or "Nieuwe voorziening"))]
            st.session_state.pop("tk_klik", None)
            st.rerun()
for k, p in enumerate(added):
    a, b = st.columns([5, 1])
    a.markdown(f"Nieuw: **{md(p['name'])}** — {md(_type_label(p['type']))}, "
               f"{format_number(p['capacity'])} plekken, bereik {format_number(p['reach_m'] / 1000, 1)} km")
    if b.button("Verwijder", key=f"tk_weg_{k}"):
        st.session_state["tk_nieuw"] = added[:k] + added[k + 1:]
        st.rerun()

s1, s2, s3 = st.columns([3, 1, 1])
s1.text_input("Naam van het scenario", key="tk_naam", placeholder="bijvoorbeeld: subsidie bezoekdienst stopt")
can_save = get_store().user.role != "gemeente"  # the read-only role runs scenarios but does not keep them
if s2.button("Scenario bewaren", disabled=scenario.empty or not can_save, width="stretch",
             help=None if can_save else "Uw rol (gemeente) kan scenario's doorrekenen maar niet bewaren."):
    name = st.session_state.get("tk_naam", "").strip()
    try:
        version = get_store().save_scenario(name, scenario.to_json(),
                                            expected_version=st.session_state.get("tk_versie"))
        st.session_state["tk_versie"] = version
        st.success(f"Scenario '{md(name)}' is bewaard.")
    except DataValidationError as exc:
        show_error(exc)
    except ConflictError as exc:
        st.error(md(str(exc)))
s3.button("Leegmaken", on_click=_clear_scenario, width="stretch")

# --------------------------------------------------------------------------- tables
st.subheader("Vóór en na per buurt")
ranked = table.dropna(subset=["gap_after"]).sort_values(["gap_after", "gap_change"], ascending=False).head(20)
st.dataframe(pd.DataFrame({
    "Buurt": ranked["buurt"], "Behoefte": ranked["need"].map(format_number),
    "Tekort nu": ranked["gap_before"].map(format_number), "Tekort scenario": ranked["gap_after"].map(format_number),
    "Verschil": ranked["gap_change"].map(lambda v: ("+" if v > 0.05 else "") + format_number(v)),
    "Bereik": np.select([ranked["reach_before"] & ~ranked["reach_after"],
                         ~ranked["reach_before"] & ranked["reach_after"]], ["verloren", "nieuw"], ""),
    "Reden": ranked["reason"],
}), hide_index=True, width="stretch")

# --------------------------------------------------------------------------- to the wijkagenda
# Only buurten whose shortage is shown as a number (5 persons or more): the figure goes on the agenda as shown.
short = table.loc[table["gap_before"] >= MIN_CELL].sort_values("gap_before", ascending=False)
if can_add_to_agenda() and len(short):
    hot = set() if spots_now is None else set(spots_now.index[spots_now["cluster"] == "hot"].astype(str))
    short_names = dict(zip(short["area_code"], short["buurt"], strict=True))
    short_gap = dict(zip(short["area_code"], short["gap_before"].map(format_count), strict=True))
    agenda_code = st.selectbox("Buurt voor de agenda", list(short_names), key="tk_agenda_buurt",
                               format_func=lambda c: f"{short_names[c]} ({short_gap[c]} personen tekort)")
    agenda_year = buurten.loc[buurten["area_code"] == agenda_code].get("year", pd.Series(dtype=object)).dropna()
    in_hotspot = agenda_code in hot
    type_label = catalogue[ptype].label
    to_agenda_button(
        key="tk_agenda", wijk_code=wijk_of_buurt(agenda_code, buurten),
        title=f"Tekort {type_label.lower()} in {short_names[agenda_code]} aanpakken",
        origin_kind="hotspot" if in_hotspot else "tekort",
        figure=(f"Tekort {type_label.lower()} in {short_names[agenda_code]}: {short_gap[agenda_code]} personen"
                + ("; in een cluster van tekorten (hotspot)" if in_hotspot else "")
                + (f"; CBS {int(agenda_year.iloc[0])}" if len(agenda_year) else "")),
        links=[("buurt", agenda_code), ("tekort", ptype)])

saved = get_store().read_scenarios()
# Every saved scenario once, over the whole municipality: for the comparison and for the report.
saved_results = {n: run_scenario(buurten, provisions, Scenario.from_json(n, d), types=[ptype], decay=decay,
                                 need_terms={ptype: terms}, signals_per_buurt=signals_per_buurt,
                                 signalled=signalled if len(signalled) else None, participation=participation,
                                 catalogue=catalogue, suitability=suitability)
                 for n, d in zip(saved["name"], saved["definition"], strict=True)}
if not saved.empty:
    st.subheader("Bewaarde scenario's vergelijken")
    l1, l2 = st.columns([3, 1])
    chosen = l1.multiselect("Scenario's", list(saved["name"]), default=list(saved["name"])[:3], key="tk_vergelijk",
                            placeholder="Kies…")
    load = l2.selectbox("Scenario laden", list(saved["name"]), key="tk_laad")
    l2.button("Laden", on_click=_load_scenario, args=(load,))
    if chosen:
        results = [saved_results[n] for n in chosen]
        compared = compare_scenarios(results)
        st.dataframe(pd.DataFrame({
            "Scenario": compared["scenario"],
            "Wijzigingen": [r.scenario.describe(provisions, catalogue) for r in results],
            "Tekort nu": compared["gap_before"].map(format_number),
            "Tekort scenario": compared["gap_after"].map(format_number),
            "Verschil": compared["gap_change"].map(format_number),
            "Verliezen bereik": compared["lose_reach"].map(format_number),
            "Krijgen bereik": compared["gain_reach"].map(format_number),
            "Signalen: verliezen passend aanbod": compared["signalled_lose"].map(format_number),
            "Signalen: krijgen passend aanbod": compared["signalled_gain"].map(format_number),
        }), hide_index=True, width="stretch")

# --------------------------------------------------------------------------- municipality report
st.subheader("Rapport voor de gemeente")
wijken = load_areas("wijk")
scopes = {"": load_areas("gemeente")["name"].iloc[0] if len(load_areas("gemeente")) else "Gemeente"}
scopes.update(dict(zip(wijken["area_code"], "Wijk " + wijken["name"], strict=True)))
r1, r2, r3, r4 = st.columns([2, 1, 1, 1])
scope = r1.selectbox("Gebied", list(scopes), format_func=scopes.get, key="tk_rapport_gebied")
# The wijk of every buurt (the store's, else from the CBS code): the report hides the same small counts in
# every wijk's report and the gemeente's, computed over all buurten (mapping/gap_report.py).
wijk_of = buurten.set_index("area_code").get("wijk_code", pd.Series(index=buurten["area_code"], dtype=object))
wijk_of = wijk_of.where(wijk_of.notna(), "WK" + wijk_of.index.str[2:8])
in_scope = buurten if not scope else buurten.loc[buurten["area_code"].map(wijk_of).eq(scope).to_numpy()]
gap_now = table.rename(columns={"gap_before": "gap_people", "access_before": "accessibility",
                                "index_before": "gap_index"})
report = build_gap_report(in_scope, gap_now, scope=scopes[scope], type_label=catalogue[ptype].label,
                          formula=describe_need(ptype, terms), terms=terms, wijk_of=wijk_of,
                          scenarios=list(saved_results.values()) or None, provisions=provisions, catalogue=catalogue,
                          hotspots=None if spots_now is None else spots_now["cluster"],
                          context=buurten if scope else None)
stem = f"tekorten_{ptype}_{scope or 'gemeente'}"


def _log_export(name: str, fmt: str) -> None:
    get_store().log("export-tekortenrapport", name, {"formaat": fmt})


def _pdf() -> bytes:
    from mapping.gap_report import report_to_pdf

    return report_to_pdf(report)


def _pdf_problem() -> str | None:
    from reports import pdf_problem

    return pdf_problem()


# The files are made when a button is clicked (a PDF takes a few seconds), not on every rerun.
r2.download_button("Excel", lambda: report_to_excel(report), f"{stem}.xlsx", width="stretch",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   on_click=_log_export, args=(stem, "xlsx"))
r3.download_button("Afdrukbare pagina (HTML)", lambda: report_to_html(report), f"{stem}.html", mime="text/html",
                   width="stretch", on_click=_log_export, args=(stem, "html"))
problem = _pdf_problem()
if problem is None:
    r4.download_button("PDF", _pdf, f"{stem}.pdf", mime="application/pdf", width="stretch",
                       on_click=_log_export, args=(stem, "pdf"))
else:
    r4.caption(problem)
st.caption("Het rapport bevat alleen geaggregeerde cijfers: aantallen personen onder de 5 zijn verborgen, ook waar "
           "een totaal van de wijk of de gemeente ze zou verraden; in elk rapport dezelfde buurten.")

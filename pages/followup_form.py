"""Meting vastleggen: one measurement moment (T0-T3) of a participant or comparison person, in a conversation.

``followup_form()`` is called by pages/opvolging.py (the tab 'Meting vastleggen'). Every save is one call of
``ScopedStore.merge_measurements`` (kind 'meting-invoer', source 'gespreksformulier'): the measurement and the
network of that moment land together or not at all, in one undoable batch; a wijkteam only for its own persons.

What the form guarantees:

* only roles that see persons get the form; a wijkteam finds only persons of its own wijken (a code of anyone
  else gets the same answer as an unknown code), and a code that looks like a name is refused and never echoed;
* the next unmeasured moment is proposed with its planned date (T0 + the provision type's weeks); an earlier
  moment can be re-opened: its stored answers and network come back, and its stored version is sent along, so
  a change made by someone else in between is refused (ConflictError) instead of overwritten. A moment that was
  new when the form opened is sent with version 0: if someone stored it meanwhile, that is refused too;
* LSNS-6 and De Jong Gierveld (6 or 11) with the wording, answers and columns of the network form
  (pages/network_form.py), so :mod:`graphs.screening` scores both the same;
* the network starts from the previous moment's network (at T0, or when no earlier network was asked: the
  person's network in the ties table); per alter 'behouden', 'veranderd' or 'verloren', new alters are added
  under a code that is not a name, and "met wie uit de groep heeft u nog contact?" is asked explicitly: each
  other participant chosen becomes a tie with alter_id = alter_key = that code, role 'groepsgenoot',
  from_group true. Alter keys stay the same from moment to moment, so :func:`graphs.outcomes.tie_changes`
  can follow every alter.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import streamlit as st

from data.access import AccessDenied
from data.errors import DataValidationError
from data.schema import CONTACT_FREQUENCIES, DJG_ANSWERS, MOMENTS, ROLES, STUDY_GROUPS
from graphs.outcomes import CHANGED, KEPT, LOST, NEW, tie_changes
from graphs.screening import DJG_ITEMS, LSNS_ITEMS, djg_scores, lsns6_scores
from pages.common import get_store, load_provision_types, load_provisions, load_table, md, show_error
from pages.network_form import (
    CLOSENESS,
    CODE_REFUSED,
    DJG6_ORDER,
    OUTSIDE_PREFIX,
    SUPPORT,
    code_is_usable,
    screening_questions,
)

DJG_FOLLOW_UP_HELP = ("Gebruik dezelfde versie als bij de vorige meting: alleen dan zijn de scores te vergelijken. "
                      "Lees elke uitspraak voor en vraag of die op dit moment geldt: ja, min of meer of nee.")

NO_ACCESS = ("Metingen vastleggen is voor het wijkteam en de beheerder: u ziet de uitkomsten van voorzieningen "
             "alleen als totalen, op de andere tabs van deze pagina.")
NOT_FOUND = ("Deze code hoort niet bij een persoon die u mag zien. Een nieuwe persoon legt u eerst vast op de pagina "
             "Netwerken (tab Netwerk vastleggen); personen buiten uw wijken meet het eigen wijkteam of de beheerder.")
NO_PARTICIPATION = ("Deze persoon neemt volgens de opslag aan geen voorziening deel. Kies 'vergelijkingsgroep' als de "
                    "persoon wordt vergeleken met de deelnemers van een voorziening, of leg eerst de deelname vast "
                    "(sjabloon deelname op de pagina Netwerken, tab Importeren).")
NO_CONSENT = ("Vraag eerst of de persoon ermee instemt dat deze meting wordt vastgelegd, en vink 'Toestemming "
              "gegeven' aan. Zonder toestemming wordt niets opgeslagen.")
NO_PROVISION = "Kies eerst de voorziening waar deze meting bij hoort."
ALTER_TAKEN = ("Die code staat al in dit netwerk, bij de vraag wie uit de groep, of is de code van de persoon zelf; "
               "de ander is niet toegevoegd.")
OTHER_GROUP = ("Deze persoon is bij deze voorziening eerder gemeten als {earlier}. Kies dezelfde groep: de metingen "
               "van één persoon bij één voorziening horen bij één groep. Er is niets opgeslagen.")
GROUP_QUESTION = "Met wie uit de groep heeft u nog contact?"
STATUS_OPTIONS = (KEPT, CHANGED, LOST)
TIE_VALUES = ("role", *SUPPORT, "contact_frequency", "closeness")


# --------------------------------------------------------------------------- small pure helpers
def planned_date(t0_date, weeks: int | None) -> pd.Timestamp | None:
    """The planned date of a follow-up moment: the intake date plus the type's weeks (None when either is unknown)."""
    if weeks is None or t0_date is None or pd.isna(t0_date) or pd.isna(weeks):
        return None
    return pd.Timestamp(t0_date).normalize() + pd.Timedelta(weeks=int(weeks))


def next_moment(measured: set[str]) -> str:
    """The first moment (T0..T3) not measured yet; the last one when all are."""
    return next((m for m in MOMENTS if m not in measured), list(MOMENTS)[-1])


def _ref(frame: pd.DataFrame) -> pd.Series:
    """The stable key of an alter: alter_key, else alter_id (ties from the ties table may have only the id)."""
    key = frame["alter_key"].astype("string") if "alter_key" in frame else pd.Series(pd.NA, index=frame.index)
    return key.fillna(frame["alter_id"].astype("string")).astype(str)


def _network(frame: pd.DataFrame) -> pd.DataFrame:
    """Ties (followup_ties or ties rows) as the form's network: alter_key, alter_id, the tie values, from_group."""
    out = pd.DataFrame({"alter_key": _ref(frame) if len(frame) else pd.Series(dtype=str),
                        "alter_id": frame["alter_id"].astype("string").astype(object).where(frame["alter_id"].notna(),
                                                                                            None)})
    for col in TIE_VALUES:
        out[col] = frame[col].to_numpy() if col in frame else None
    for col in SUPPORT:
        out[col] = out[col].fillna(False).astype(bool)
    out["from_group"] = (frame["from_group"].fillna(False).astype(bool).to_numpy() if "from_group" in frame
                         else False)
    return out.drop_duplicates("alter_key", keep="last").reset_index(drop=True)


def _scores(row) -> dict:
    """LSNS-6 and De Jong Gierveld (11 and 6) totals of one measurement (a dict or Series of store columns)."""
    frame = pd.DataFrame([{c: row.get(c) for c in (*LSNS_ITEMS, *DJG_ITEMS)}])
    frame = frame.astype({c: "Int64" for c in LSNS_ITEMS} | {c: "string" for c in DJG_ITEMS})
    lsns, djg = lsns6_scores(frame).iloc[0], djg_scores(frame).iloc[0]
    return {"lsns6": lsns["lsns6"], "djg11": djg["djg11"], "djg6": djg["djg6"]}


def _score(value) -> str:
    return "geen score" if value is None or pd.isna(value) else str(int(value))


def score_lines(now: dict, before: dict | None = None) -> list[str]:
    """'LSNS-6: 11 → 15'-lines of this moment next to the previous one (only this moment without ``before``).

    De Jong Gierveld is compared on the 11-item total when both moments have it, else on the 6-item total
    (the six items are part of the eleven, so an 11-item answer also has a 6-item score).
    """
    both11 = pd.notna(now["djg11"]) and (before is None or pd.notna(before["djg11"]))
    scale, label = ("djg11", "De Jong Gierveld (11)") if both11 else ("djg6", "De Jong Gierveld (6)")
    if before is None:
        return [f"LSNS-6: {_score(now['lsns6'])}", f"{label}: {_score(now[scale])}"]
    return [f"LSNS-6: {_score(before['lsns6'])} → {_score(now['lsns6'])}",
            f"{label}: {_score(before[scale])} → {_score(now[scale])}"]


def change_line(before: pd.DataFrame, after: pd.DataFrame, code: str) -> str:
    """'3 behouden, 1 veranderd, 1 verloren, 2 nieuw, 2 uit de groep' (graphs.outcomes.tie_changes)."""
    changes = tie_changes(before.assign(ego_id=code), after.assign(ego_id=code))
    counts = changes["status"].value_counts()
    from_group = int(after["from_group"].astype(bool).sum()) if len(after) else 0
    return ", ".join([*(f"{int(counts.get(s, 0))} {s}" for s in (KEPT, CHANGED, LOST, NEW)),
                      f"{from_group} uit de groep"])


# --------------------------------------------------------------------------- session state
def _check_code() -> None:
    """on_change of the code field: a refused input is removed at once, so it is never shown again."""
    code = str(st.session_state.get("fu_code") or "").strip()
    if code and not code_is_usable(code):
        st.session_state["fu_code"] = ""
        st.session_state["fu_geweigerd"] = True
    elif code:
        st.session_state["fu_geweigerd"] = False


def _clear_network_keys() -> None:
    for key in [k for k in st.session_state if str(k).startswith(("fu_alter_", "fu_weg_"))]:
        del st.session_state[key]


def _set_tie_keys(key: str, row) -> None:
    st.session_state[f"fu_alter_{key}_rol"] = row["role"] if row["role"] in ROLES else "anders"
    st.session_state[f"fu_alter_{key}_contact"] = (row["contact_frequency"] if row["contact_frequency"]
                                                   in CONTACT_FREQUENCIES else None)
    st.session_state[f"fu_alter_{key}_nabijheid"] = int(row["closeness"]) if pd.notna(row["closeness"]) else 2
    for col in SUPPORT:
        st.session_state[f"fu_alter_{key}_{col}"] = bool(row[col])


def _prefill(stored: pd.Series | None, previous: pd.Series | None, listed: pd.DataFrame, base: pd.DataFrame,
             stored_net: pd.DataFrame, members: list[str]) -> None:
    """Put this moment into the widgets before they are drawn: the stored answers and network when the moment was
    measured, else empty answers and the previous network with every alter 'behouden'."""
    for col in LSNS_ITEMS:
        st.session_state[f"fu_{col}"] = None if stored is None or pd.isna(stored[col]) else int(stored[col])
    for col in DJG_ITEMS:
        value = None if stored is None else stored[col]
        st.session_state[f"fu_{col}"] = value if isinstance(value, str) and value in DJG_ANSWERS else None
    scale_of = stored if stored is not None else previous
    if scale_of is not None:
        only_six = all(pd.isna(scale_of[f"djg_{i}"]) for i in range(1, 12) if i not in DJG6_ORDER)
        answered = any(pd.notna(scale_of[f"djg_{i}"]) for i in DJG6_ORDER)
        st.session_state["fu_djg_versie"] = 6 if only_six and answered else 11
    else:
        st.session_state["fu_djg_versie"] = 11
    on = stored["measured_on"] if stored is not None else None
    st.session_state["fu_datum"] = pd.Timestamp(on).date() if on is not None and pd.notna(on) else dt.date.today()
    st.session_state["fu_versie"] = int(stored["version"]) if stored is not None else 0
    st.session_state["fu_toestemming"] = False  # consent is asked in every conversation
    _clear_network_keys()
    recorded = stored is not None and bool(stored.get("network_recorded", False))
    now = stored_net.set_index("alter_key") if recorded else None
    status = {}
    if recorded:
        changes = tie_changes(base.assign(ego_id="x"), stored_net.assign(ego_id="x"))
        status = dict(zip(changes["alter_key"].astype(str), changes["status"].astype(str), strict=True))
    for _, row in listed.iterrows():
        key = row["alter_key"]
        st.session_state[f"fu_alter_{key}_status"] = status.get(key, KEPT) if recorded else KEPT
        _set_tie_keys(key, now.loc[key] if recorded and key in now.index else row)
    taken = set(listed["alter_key"]) | set(base["alter_key"])
    if recorded:
        in_group = stored_net["from_group"] | stored_net["alter_id"].isin(members)
        st.session_state["fu_groep_contact"] = sorted(set(stored_net.loc[in_group, "alter_id"].dropna().astype(str)))
        new = stored_net.loc[~in_group & ~stored_net["alter_key"].isin(taken)]
        st.session_state["fu_nieuwe"] = new.to_dict("records")
    else:
        st.session_state["fu_groep_contact"] = []
        st.session_state["fu_nieuwe"] = []


# --------------------------------------------------------------------------- the widgets
def _tie_label(row) -> str:
    support = ", ".join(label for col, label in SUPPORT.items() if bool(row[col])) or "geen steun genoemd"
    freq = CONTACT_FREQUENCIES.get(row["contact_frequency"], "contact onbekend") \
        if isinstance(row["contact_frequency"], str) else "contact onbekend"
    return f"{row['alter_key']}: {ROLES.get(row['role'], row['role'])}, {freq}, {support}"


def _tie_fields(prefix: str) -> dict:
    """Role, closeness, contact and support of one alter; the keys hold the values (set before drawing)."""
    a1, a2, a3 = st.columns(3)
    role = a1.selectbox("Rol", list(ROLES), format_func=ROLES.get, key=f"{prefix}_rol")
    closeness = a2.select_slider("Nabijheid", options=list(CLOSENESS), format_func=CLOSENESS.get,
                                 key=f"{prefix}_nabijheid")
    frequency = a3.selectbox("Contact", list(CONTACT_FREQUENCIES), format_func=CONTACT_FREQUENCIES.get,
                             key=f"{prefix}_contact", index=None, placeholder="onbekend")
    cols = st.columns(4)
    support = {col: cols[n].checkbox(label, key=f"{prefix}_{col}") for n, (col, label) in enumerate(SUPPORT.items())}
    return {"role": role, "closeness": int(closeness), "contact_frequency": frequency, **support}


def _alter_list(listed: pd.DataFrame) -> list[dict]:
    """Per alter of the previous network: behouden / veranderd (then editable) / verloren; returns what is kept."""
    kept: list[dict] = []
    for _, row in listed.iterrows():
        key = row["alter_key"]
        prefix = f"fu_alter_{key}"
        st.session_state.setdefault(f"{prefix}_status", KEPT)
        if f"{prefix}_rol" not in st.session_state:  # a widget that was not drawn last run forgot its value
            _set_tie_keys(key, row)
        status = st.radio(md(_tie_label(row)), list(STATUS_OPTIONS), horizontal=True, key=f"{prefix}_status")
        if status == LOST:
            continue
        values = {c: row[c] for c in TIE_VALUES}
        if status == CHANGED:
            with st.container(border=True):
                values = _tie_fields(prefix)
        kept.append({"alter_key": key, "alter_id": row["alter_id"], **values, "from_group": bool(row["from_group"])})
    return kept


def _new_alters(code: str, taken: set[str], used_keys: set[str], visible: set[str]) -> None:
    """The form to add a new alter; the alters added are kept in session state until the moment is saved."""
    st.markdown("**Iemand nieuw in het netwerk**")
    for key, value in (("fu_nieuw_rol", "vriend"), ("fu_nieuw_nabijheid", 2)):
        st.session_state.setdefault(key, value)
    with st.form("fu_nieuw", clear_on_submit=True):
        fields = _tie_fields("fu_nieuw")
        typed = st.text_input("Code van deze persoon (geen naam; leeg laten: Steunkaart geeft een code)",
                              key="fu_nieuw_code", placeholder="bijv. a7 of de code van een persoon in Steunkaart")
        added = st.form_submit_button("Toevoegen aan het netwerk")
    if not added:
        return
    typed = (typed or "").strip()
    if typed and not code_is_usable(typed):
        st.error(CODE_REFUSED)  # the same words for every refused code: nothing typed is repeated
        return
    if typed and (typed == code or typed in taken):
        st.error(ALTER_TAKEN)
        return
    if not typed:
        numbers = [int(m.group(1)) for k in used_keys if (m := re.fullmatch(r"a(\d+)", str(k)))]
        typed = f"a{max(numbers, default=0) + 1}"
    st.session_state["fu_nieuwe"] = [*st.session_state.get("fu_nieuwe", []),
                                     {"alter_key": typed, "alter_id": typed if typed in visible else None, **fields,
                                      "from_group": False}]


def _pending(new: list[dict]) -> None:
    if not new:
        return
    st.markdown("**Nieuw in het netwerk (wordt opgeslagen met de meting)**")
    for n, row in enumerate(new):
        c1, c2 = st.columns([5, 1])
        c1.markdown(md(_tie_label(row)))
        if c2.button("Weghalen", key=f"fu_weg_{row['alter_key']}"):
            st.session_state["fu_nieuwe"] = new[:n] + new[n + 1:]
            st.rerun()


# --------------------------------------------------------------------------- the form
def followup_form() -> None:
    """Record one measurement moment (answers and network) of a participant or comparison person."""
    store = get_store()
    if not store.user.sees_persons:
        st.info(NO_ACCESS)
        return
    st.markdown("Leg tijdens een gesprek één meetmoment vast: de vragenlijsten en het netwerk van dat moment. "
                "Het netwerk begint bij dat van de vorige meting; u geeft per persoon aan wat er veranderde.")
    if store.is_demo:
        st.info("**Demo**: wat u hier vastlegt, komt in de demo-opslag en kan op de pagina Beheer ongedaan worden "
                "gemaakt. Leg hier geen echte personen vast.", icon=":material/science:")
    code = st.text_input("Code van de persoon", key="fu_code", placeholder="bijv. K-0142",
                         on_change=_check_code).strip()
    if code and not code_is_usable(code):  # set without the callback (e.g. by a test): never shown, never used
        st.session_state["fu_geweigerd"] = True
        code = ""
    if st.session_state.get("fu_geweigerd"):
        st.error(CODE_REFUSED)
    notice = st.session_state.pop("fu_melding", None)
    if notice:
        st.success(md(notice))
    if not code:
        st.session_state["fu_voor_persoon"] = None
        return
    persons = load_table("persons")
    visible = set(persons["person_id"].astype(str))
    if code not in visible:
        st.error(NOT_FOUND)  # the same answer for an unknown code and for someone outside the user's wijken
        st.session_state["fu_voor_persoon"] = None
        return

    participation, measurements = load_table("participation"), load_table("measurements")
    provisions = load_provisions()
    types = load_provision_types()
    mine = measurements.loc[measurements["person_id"].astype(str) == code]
    joined = participation.loc[(participation["person_id"].astype(str) == code)
                               & (participation["role"].astype(str) == "deelnemer"), "provision_id"].astype(str)
    names = dict(zip(provisions["provision_id"].astype(str), provisions["name"].astype(str), strict=True))
    ptype = dict(zip(provisions["provision_id"].astype(str), provisions["type"].astype(str), strict=True))

    def options_for(group: str) -> list[str]:
        measured = mine.loc[mine["study_group"] == group, "provision_id"].astype(str)
        own = list(dict.fromkeys([*measured, *(joined if group == "deelnemer" else [])]))
        if group == "deelnemer":
            return own
        return own + sorted(p for p in names if p not in own)

    if st.session_state.get("fu_voor_persoon") != code:  # a new person: group and provision from the stored data
        latest = mine.sort_values("measured_on").tail(1)
        group = str(latest["study_group"].iloc[0]) if len(latest) else ("deelnemer" if len(joined) else "vergelijking")
        st.session_state["fu_groep"] = group
        first = options_for(group)[:1] if group == "deelnemer" else [None]
        st.session_state["fu_voorziening"] = str(latest["provision_id"].iloc[0]) if len(latest) else first[0]
        st.session_state["fu_voor_persoon"] = code
        st.session_state["fu_voor_voorziening"] = st.session_state["fu_voor"] = None
    if st.session_state.get("fu_gelogd") != code:
        store.log("bekijk-netwerk", code, {"weergave": "meting vastleggen"})
        st.session_state["fu_gelogd"] = code

    c1, c2 = st.columns(2)
    group = c1.radio("Groep", list(STUDY_GROUPS), format_func=STUDY_GROUPS.get, horizontal=True, key="fu_groep")
    options = options_for(group)
    if st.session_state.get("fu_voorziening") not in options:
        st.session_state["fu_voorziening"] = options[0] if group == "deelnemer" and options else None
    if not options:
        st.info(NO_PARTICIPATION)
        return
    provision = c2.selectbox("Voorziening", options, index=None, key="fu_voorziening",
                             placeholder="kies de voorziening", format_func=lambda p: f"{names.get(p, p)} ({p})")
    if provision is None:
        st.caption(NO_PROVISION)
        return
    at = mine.loc[mine["provision_id"].astype(str) == provision].set_index("moment")
    course = types.get(ptype.get(provision, ""))
    moment = _choose_moment(code, provision, at, course.moment_weeks if course is not None else {})
    _moment_form(store, code, group, provision, moment, at, visible)


def _choose_moment(code: str, provision: str, at: pd.DataFrame, weeks: dict) -> str:
    """The moment: the next unmeasured one proposed (with its planned date), a measured one can be re-opened."""
    t0_date = at.loc["T0", "measured_on"] if "T0" in at.index else None

    def moment_label(m: str) -> str:
        if m in at.index:
            on = at.loc[m, "measured_on"]
            return f"{MOMENTS[m]}: gemeten op {on:%d-%m-%Y}" if pd.notna(on) else f"{MOMENTS[m]}: gemeten"
        due = planned_date(t0_date, weeks.get(m))
        return f"{MOMENTS[m]}: nog niet gemeten" + (f", gepland rond {due:%d-%m-%Y}" if due is not None else "")

    if st.session_state.get("fu_voor_voorziening") != (code, provision):
        st.session_state["fu_moment"] = next_moment(set(at.index))
        st.session_state["fu_voor_voorziening"] = (code, provision)
    moment = st.selectbox("Meetmoment", list(MOMENTS), key="fu_moment", format_func=moment_label)
    if moment in at.index:
        st.caption("Deze meting is al vastgelegd: hieronder staan de opgeslagen antwoorden en het netwerk. Opslaan "
                   "vervangt ze.")
    else:
        due = planned_date(t0_date, weeks.get(moment))
        if due is not None:
            st.caption(f"Volgende meting {moment}: gepland rond {due:%d-%m-%Y} ({int(weeks[moment])} weken na de "
                       f"intake van {pd.Timestamp(t0_date):%d-%m-%Y}).")
        elif moment != "T0":
            st.caption("Voor deze soort voorziening staat geen vaste termijn voor dit moment, of de intake (T0) is nog "
                       "niet gemeten.")
    return moment


def _moment_form(store, code: str, group: str, provision: str, moment: str, at: pd.DataFrame,
                 visible: set[str]) -> None:
    """The answers and the network of one moment, and the save."""
    participation, measurements = load_table("participation"), load_table("measurements")
    followup = load_table("followup_ties")

    # The network this moment starts from: the latest earlier moment with a network, else the ties table.
    earlier = [m for m in MOMENTS if m in at.index and list(MOMENTS).index(m) < list(MOMENTS).index(moment)]
    previous = at.loc[earlier[-1]] if earlier else None
    with_network = [m for m in earlier if bool(at.loc[m, "network_recorded"])]
    mine_ties = followup.loc[(followup["person_id"].astype(str) == code)
                             & (followup["provision_id"].astype(str) == provision)]
    if with_network:
        base_from = with_network[-1]
        base = _network(mine_ties.loc[mine_ties["moment"] == base_from])
    else:
        base_from = None
        ties = load_table("ties")
        base = _network(ties.loc[ties["ego_id"].astype(str) == code])
    stored_net = _network(mine_ties.loc[mine_ties["moment"] == moment])
    stored_net = stored_net.loc[~stored_net["alter_key"].str.startswith(OUTSIDE_PREFIX)].reset_index(drop=True)
    outside = base["alter_key"].str.startswith(OUTSIDE_PREFIX)
    base = base.loc[~outside].reset_index(drop=True)
    members: list[str] = []
    if group == "deelnemer" and moment != "T0":
        named = pd.concat([participation.loc[(participation["provision_id"].astype(str) == provision)
                                             & (participation["role"].astype(str) == "deelnemer"), "person_id"],
                           measurements.loc[(measurements["provision_id"].astype(str) == provision)
                                            & (measurements["study_group"] == "deelnemer"), "person_id"]])
        members = sorted(set(named.astype(str)) - {code})
    listed = base.loc[~base["alter_id"].isin(members)].reset_index(drop=True)

    stored = at.loc[moment] if moment in at.index else None
    if st.session_state.get("fu_voor") != (code, provision, moment):
        _prefill(stored, previous, listed, base, stored_net, members)
        st.session_state["fu_voor"] = (code, provision, moment)

    on = st.date_input("Datum van het gesprek", key="fu_datum", format="DD-MM-YYYY",
                       max_value=max(dt.date.today(), st.session_state.get("fu_datum") or dt.date.today()))
    consent = st.checkbox("Toestemming gegeven: de persoon weet wat er bij deze meting wordt vastgelegd (alleen onder "
                          "de code) en stemt ermee in", key="fu_toestemming")
    before = _scores(previous) if previous is not None else None
    if previous is not None:
        when = f", {previous['measured_on']:%d-%m-%Y}" if pd.notna(previous["measured_on"]) else ""
        st.caption(f"Vorige meting ({earlier[-1]}{when}): " + "; ".join(score_lines(before)) + ".")
    answers = screening_questions("fu", djg_help=DJG_FOLLOW_UP_HELP, live_scores=False)

    st.markdown("**Het netwerk**")
    st.caption(f"Dit is het netwerk van de meting {base_from}." if base_from else
               "Dit is het netwerk zoals het in Steunkaart staat (de tab Netwerk vastleggen). Geef per persoon aan of "
               "het contact er nog is zoals het was (behouden), anders is (veranderd) of er niet meer is (verloren).")
    if outside.any():
        st.caption(f"{int(outside.sum())} relatie(s) met iemand buiten uw wijken staan hier niet en worden bij deze "
                   "meting niet vastgelegd; dat kan de beheerder doen.")
    if not len(listed):
        st.caption("Nog niemand in het netwerk.")
    kept = _alter_list(listed)

    chosen = _group_question(members, base, intake=group == "deelnemer" and moment == "T0")

    new = list(st.session_state.get("fu_nieuwe", []))
    taken = {*listed["alter_key"], *(r["alter_key"] for r in new), *members}
    # A new alter never gets the key of someone who was in this person's network before (keys are followed).
    ties_all = load_table("ties")
    everyone = followup.loc[followup["person_id"].astype(str) == code]
    used = {*taken, *base["alter_key"], *_network(everyone)["alter_key"],
            *_network(ties_all.loc[ties_all["ego_id"].astype(str) == code])["alter_key"]}
    _new_alters(code, taken, used, visible)
    new = list(st.session_state.get("fu_nieuwe", []))
    _pending(new)

    if not st.button("Meting opslaan", type="primary", key="fu_opslaan"):
        return
    if not consent:
        st.error(NO_CONSENT)
        return
    earlier_groups = set(at.drop(index=moment, errors="ignore")["study_group"].astype(str)) - {group}
    if earlier_groups:
        st.error(OTHER_GROUP.format(earlier=STUDY_GROUPS.get(min(earlier_groups), min(earlier_groups))))
        return
    network = pd.DataFrame([*kept, *new, *group_rows(chosen, stored_net, base)],
                           columns=["alter_key", "alter_id", *TIE_VALUES, "from_group"])
    saved = _save(store, code, provision, group, moment, on, answers, network)
    if saved is None:
        return
    compared = f" (vergeleken met {earlier[-1]})" if earlier else ""
    lines = score_lines(_scores(saved), before)
    st.session_state["fu_melding"] = (f"De meting {moment} is opgeslagen{compared}. " + "; ".join(lines)
                                      + ". Netwerk: " + change_line(base, network, code) + ".")
    st.session_state["fu_voor"] = None  # the next run shows the stored moment, with its new version
    st.rerun()


def _group_question(members: list[str], base: pd.DataFrame, *, intake: bool) -> list[str]:
    """'Met wie uit de groep heeft u nog contact?': the other participants' codes; returns the codes chosen."""
    if not members and not st.session_state.get("fu_groep_contact"):
        if intake:
            st.caption(f"'{GROUP_QUESTION}' wordt aan deelnemers gevraagd vanaf het einde (T1).")
        return []
    st.markdown(f"**{GROUP_QUESTION}**")
    before = base.loc[base["alter_id"].isin(members) | base["from_group"], "alter_id"].dropna().astype(str)
    named = f" Bij de vorige meting genoemd: {', '.join(sorted(before))}." if len(before) else ""
    st.caption("Vraag het elke keer opnieuw; alleen de codes van de andere deelnemers staan hier." + md(named))
    options = sorted(set(members) | set(st.session_state.get("fu_groep_contact") or []))
    return st.multiselect(GROUP_QUESTION, options, key="fu_groep_contact", label_visibility="collapsed",
                          placeholder="niemand uit de groep")


def group_rows(chosen: list[str], stored_net: pd.DataFrame, base: pd.DataFrame) -> list[dict]:
    """The followup_ties rows of the group members chosen: alter_id = the member's code, from_group true.

    A member stored at this moment, or in the previous network, keeps the key and values they had there (alter
    keys are followed from moment to moment); anyone else gets alter_key = their code and role 'groepsgenoot'.
    """
    by_id = {name: frame.dropna(subset=["alter_id"]).drop_duplicates("alter_id", keep="last").set_index("alter_id")
             for name, frame in (("stored", stored_net), ("base", base))}
    rows = []
    for member in chosen:
        if member in by_id["stored"].index:
            row = by_id["stored"].loc[member].to_dict()
        elif member in by_id["base"].index:
            row = by_id["base"].loc[member].to_dict()
        else:
            row = {"alter_key": member, "role": "groepsgenoot", **dict.fromkeys(SUPPORT, False),
                   "contact_frequency": None, "closeness": None}
        rows.append({**{c: row[c] for c in TIE_VALUES}, "alter_key": row["alter_key"], "alter_id": member,
                     "from_group": True})
    return rows


def _save(store, code: str, provision: str, group: str, moment: str, on, answers: dict,
          network: pd.DataFrame) -> pd.DataFrame | None:
    """One call of merge_measurements; a refusal is shown in Dutch and nothing is stored. Returns the row saved."""
    row = pd.DataFrame([{"person_id": code, "provision_id": provision, "study_group": group, "moment": moment,
                         "measured_on": pd.Timestamp(on), **answers, "network_recorded": 1}])
    row = row.astype({c: "Int64" for c in LSNS_ITEMS} | {c: "object" for c in DJG_ITEMS})
    ties = network.assign(person_id=code, provision_id=provision, moment=moment)
    for col in SUPPORT:
        ties[col] = ties[col].fillna(False).astype(bool)
    ties["from_group"] = ties["from_group"].fillna(False).astype(bool)
    ties["closeness"] = pd.to_numeric(ties["closeness"], errors="coerce").astype("Int64")
    ties["alter_id"] = ties["alter_id"].astype(object).where(ties["alter_id"].notna(), None)
    try:
        store.merge_measurements(row, ties, kind="meting-invoer", source="gespreksformulier",
                                 expected_versions={(code, provision, moment): int(st.session_state.get("fu_versie",
                                                                                                        0))})
    except (AccessDenied, DataValidationError) as exc:  # ConflictError is a DataValidationError too
        show_error(exc)
        return None
    return row.iloc[0]

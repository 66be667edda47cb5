"""Netwerk vastleggen: one person's network and screening, recorded during a conversation.

``entry_form()`` is called by pages/netwerken.py (the tab 'Netwerk vastleggen', or on its own while a store
has no networks yet). Every save goes through the access layer (``ScopedStore.merge_network``, kind
'netwerk-invoer'): one undoable batch, refused for persons outside a wijkteam's wijken, and allowed on the
demo store, where the demo keeps its demo mode (imports of files stay refused there).

What the form guarantees:

* consent is asked every time (a checkbox that must be ticked before anything is saved); the date of the
  conversation is stored with it in ``measured_on``;
* LSNS-6 and De Jong Gierveld (6 or 11 items) with the Dutch wording and answers, stored in the same
  columns, with the same codes, as an import of the personen template (``data/network_import.py``), so
  :mod:`graphs.screening` scores both the same; the 6-item version keeps its items at their 11-item
  positions (3, 4, 7, 8, 9, 10);
* an existing person's stored buurt, age band and answers are shown and saved again, never replaced by
  whatever the widgets showed for the previous person;
* alters can be added, changed and removed, and who knows whom among them is asked per alter;
* no name on screen: a code that looks like a name or other personal data is refused with one generic
  message and removed from the input field, so it is never echoed.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data.access import AccessDenied
from data.errors import DataValidationError
from data.privacy import check_pseudonymous
from data.schema import AGE_BANDS, CONTACT_FREQUENCIES, DJG_ANSWERS, ROLES
from graphs.screening import DJG_ITEMS, LSNS_ITEMS, SCREENING_NOTE, djg_scores, lsns6_scores
from pages.common import get_store, load_areas, load_table, md, show_error

CODE_REFUSED = ("Deze code kunt u hier niet gebruiken. Gebruik een ondoorzichtige code die u zelf uitgeeft (zoals "
                "K-0142): geen naam, BSN, telefoonnummer, e-mail- of huisadres, en geen code die al voor iemand anders "
                "in gebruik is.")
LINK_REFUSED = ("Die code hoort niet bij een andere persoon die u mag zien, of die persoon staat al in dit netwerk; "
                "de ander is niet toegevoegd. Laat het veld leeg voor iemand die niet in Steunkaart staat.")
NO_CONSENT = ("Vraag eerst of de persoon toestemming geeft om het netwerk en de antwoorden vast te leggen, en vink "
              "'Toestemming gegeven' aan. Zonder toestemming wordt niets opgeslagen.")
NO_CODE = "Vul eerst de code van de persoon in."
NO_BUURT = "Kies de buurt waar de persoon woont."

# LSNS-6 (Lubben et al., 2006): six questions about numbers of people, answered 0-5 (graphs/screening.py).
LSNS_FAMILY_INTRO = "Familie: denk aan de mensen met wie u familie bent door geboorte, huwelijk, adoptie, enzovoort."
LSNS_FRIENDS_INTRO = "Vrienden: denk aan al uw vrienden, ook die bij u in de buurt wonen."
LSNS_QUESTIONS = (
    "Hoeveel familieleden ziet of spreekt u minstens één keer per maand?",
    "Met hoeveel familieleden voelt u zich zo op uw gemak dat u met hen over persoonlijke zaken kunt praten?",
    "Met hoeveel familieleden voelt u zich zo verbonden dat u hen om hulp zou kunnen vragen?",
    "Hoeveel van uw vrienden ziet of spreekt u minstens één keer per maand?",
    "Met hoeveel vrienden voelt u zich zo op uw gemak dat u met hen over persoonlijke zaken kunt praten?",
    "Met hoeveel vrienden voelt u zich zo verbonden dat u hen om hulp zou kunnen vragen?",
)
LSNS_ANSWERS = {0: "geen", 1: "één", 2: "twee", 3: "drie of vier", 4: "vijf tot acht", 5: "negen of meer"}
# De Jong Gierveld eenzaamheidsschaal, the eleven statements in their published order and wording.
DJG_STATEMENTS = {
    1: "Er is altijd wel iemand in mijn omgeving bij wie ik met mijn dagelijkse probleempjes terecht kan.",
    2: "Ik mis een echt goede vriend of vriendin.",
    3: "Ik ervaar een leegte om me heen.",
    4: "Er zijn genoeg mensen op wie ik in geval van narigheid kan terugvallen.",
    5: "Ik mis gezelligheid om me heen.",
    6: "Ik vind mijn kring van kennissen te beperkt.",
    7: "Ik heb veel mensen op wie ik volledig kan vertrouwen.",
    8: "Er zijn voldoende mensen met wie ik me nauw verbonden voel.",
    9: "Ik mis mensen om me heen.",
    10: "Vaak voel ik me in de steek gelaten.",
    11: "Wanneer ik daar behoefte aan heb, kan ik altijd bij mijn vrienden terecht.",
}
# The short scale (De Jong Gierveld & Van Tilburg, 2006) asks six of them, in this order.
DJG6_ORDER = (3, 4, 7, 9, 8, 10)
CLOSENESS = {1: "verder weg", 2: "dichtbij", 3: "heel dichtbij"}
SUPPORT = {"support_emotional": "emotionele steun", "support_practical": "praktische steun",
           "support_informational": "informatie en advies", "support_companionship": "gezelschap"}
OUTSIDE_PREFIX = "buiten-wijk-"  # how the access layer shows a tie to someone outside the user's wijken


def code_is_usable(code: str) -> bool:
    """Whether a typed code may be used as a person's pseudonym (no name, BSN, phone, e-mail, spaces)."""
    try:
        check_pseudonymous(pd.DataFrame({"persoon": [code]}), file="formulier", id_columns=("persoon",))
    except DataValidationError:
        return False
    return True


PERSON_KEYS = ("nv_buurt", "nv_leeftijd", *(f"nv_{c}" for c in (*LSNS_ITEMS, *DJG_ITEMS)))


def _clear_person() -> None:
    """Empty the person's widgets (before they are drawn): nothing of one person is saved under another code."""
    for key in PERSON_KEYS:
        st.session_state[key] = None
    st.session_state["nv_djg_versie"] = 11
    st.session_state["nv_toestemming"] = False
    st.session_state["nv_voor"] = None


def _check_code() -> None:
    """on_change of the code field: a refused input is removed at once, so it is never shown again; an emptied
    field starts the form anew."""
    code = str(st.session_state.get("nv_code") or "").strip()
    if code and not code_is_usable(code):
        st.session_state["nv_code"] = ""
        st.session_state["nv_geweigerd"] = True
        _clear_person()
    elif code:
        st.session_state["nv_geweigerd"] = False
    else:
        _clear_person()


def _ref(ties: pd.DataFrame) -> pd.Series:
    """How an alter is named in the form and in alter_links: its alter_id (a person in the data) or alter_key."""
    return ties["alter_id"].astype("string").fillna(ties["alter_key"].astype("string"))


def _label(ref: str, ties: pd.DataFrame) -> str:
    row = ties.loc[_ref(ties) == ref]
    role = ROLES.get(row["role"].iloc[0], row["role"].iloc[0]) if len(row) else ""
    return f"{ref} ({role})" if role else ref


def _prefill(code: str, stored: pd.DataFrame) -> None:
    """Put the stored person's values into the widgets (before they are drawn), once per code."""
    previous = st.session_state.get("nv_voor")
    st.session_state["nv_voor"] = code
    if not len(stored) and not previous:
        return  # a new code in an empty form: what was chosen already (a buurt, answers) stays
    if len(stored):
        row = stored.iloc[0]
        st.session_state["nv_buurt"] = row["buurt_code"] if pd.notna(row["buurt_code"]) else None
        st.session_state["nv_leeftijd"] = row["age_band"] if row["age_band"] in AGE_BANDS else None
        for col in LSNS_ITEMS:
            st.session_state[f"nv_{col}"] = None if pd.isna(row[col]) else int(row[col])
        for col in DJG_ITEMS:
            value = row[col]
            st.session_state[f"nv_{col}"] = value if isinstance(value, str) and value in DJG_ANSWERS else None
        only_six = all(pd.isna(row[f"djg_{i}"]) for i in range(1, 12) if i not in DJG6_ORDER)
        answered = any(pd.notna(row[f"djg_{i}"]) for i in DJG6_ORDER)
        st.session_state["nv_djg_versie"] = 6 if only_six and answered else 11
    else:  # from one person to a new one: nothing of the previous person stays in the form
        for key in PERSON_KEYS:
            st.session_state[key] = None
        st.session_state["nv_djg_versie"] = 11
    st.session_state["nv_toestemming"] = False  # consent is asked in every conversation


DJG_HELP = "Lees elke uitspraak voor en vraag of die op dit moment voor de persoon geldt: ja, min of meer of nee."


def screening_questions(prefix: str = "nv", *, djg_help: str = DJG_HELP, live_scores: bool = True) -> dict:
    """LSNS-6 and De Jong Gierveld questions; returns the answers in the store's columns.

    Also the follow-up form's (pages/followup_form.py, ``prefix`` 'fu'): one wording and one set of codes, so
    graphs.screening scores both the same. ``live_scores`` shows the scores as the answers come in.
    """
    answers: dict = {}
    st.markdown("**LSNS-6 (Lubben): het sociale netwerk**")
    st.caption("Lees de vragen voor zoals ze er staan. Een onbeantwoorde vraag blijft leeg; dan is er geen "
               "LSNS-6-score.")
    for i, question in enumerate(LSNS_QUESTIONS, start=1):
        if i in (1, 4):
            st.markdown("*" + (LSNS_FAMILY_INTRO if i == 1 else LSNS_FRIENDS_INTRO) + "*")
        answers[f"lsns_{i}"] = st.radio(f"{i}. {question}", list(LSNS_ANSWERS), format_func=LSNS_ANSWERS.get,
                                        index=None, horizontal=True, key=f"{prefix}_lsns_{i}")
    st.markdown("**De Jong Gierveld: eenzaamheid**")
    version = st.radio("Versie van de schaal", [11, 6], format_func=lambda n: f"{n} uitspraken", horizontal=True,
                       key=f"{prefix}_djg_versie")
    st.caption(djg_help)
    items = range(1, 12) if version == 11 else DJG6_ORDER
    for n, i in enumerate(items, start=1):
        answers[f"djg_{i}"] = st.radio(f"{n}. {DJG_STATEMENTS[i]}", list(DJG_ANSWERS), index=None, horizontal=True,
                                       key=f"{prefix}_djg_{i}")
    for i in range(1, 12):
        answers.setdefault(f"djg_{i}", None)  # the 6-item version leaves the other positions empty
    if not live_scores:
        st.caption(SCREENING_NOTE)
        return answers
    frame = pd.DataFrame([answers]).astype({c: "Int64" for c in LSNS_ITEMS} | {c: "string" for c in DJG_ITEMS})
    lsns, djg = lsns6_scores(frame).iloc[0], djg_scores(frame).iloc[0]
    c1, c2 = st.columns(2)
    c1.metric("LSNS-6", "nog niet alle vragen beantwoord" if pd.isna(lsns["lsns6"])
              else f"{int(lsns['lsns6'])} van 30")
    total, band = ("djg11", "djg11_band") if version == 11 else ("djg6", "djg6_band")
    c2.metric("De Jong Gierveld", "nog niet alle uitspraken beantwoord" if pd.isna(djg[total])
              else f"{int(djg[total])} van {version} ({djg[band]})")
    st.caption(SCREENING_NOTE)
    return answers


def _person_row(code: str, stored: pd.DataFrame, *, buurt: str, age, answers: dict, on: dt.date) -> pd.DataFrame:
    """The persons row to save: the stored row (household, widowed, ...) with the form's fields over it."""
    row = stored.iloc[0].to_dict() if len(stored) else {"person_id": code}
    row.update({"person_id": code, "buurt_code": buurt, "age_band": age, **answers, "consent": True,
                "measured_on": pd.Timestamp(on)})
    frame = pd.DataFrame([row])
    frame = frame.astype({c: "Int64" for c in LSNS_ITEMS} | {c: "object" for c in DJG_ITEMS})
    for col in ("measured_on", "widowed_since"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], errors="coerce")
    return frame


def _links_without(links: pd.DataFrame, ref: str) -> pd.DataFrame:
    return links.loc[(links["source"].astype(str) != ref) & (links["target"].astype(str) != ref)]


def _links_for(code: str, ref: str, knows: list[str]) -> pd.DataFrame:
    pairs = [tuple(sorted((ref, other))) for other in knows if other != ref]
    return pd.DataFrame({"ego_id": [code] * len(pairs), "source": [p[0] for p in pairs],
                         "target": [p[1] for p in pairs]}, dtype=object)


def _alter_fields(prefix: str, values: pd.Series | None, others: list[str], ties: pd.DataFrame,
                  knows: list[str]) -> dict:
    """The widgets of one alter (in a form); ``values`` prefill them when an alter is changed."""
    def key(name: str) -> str | None:
        return f"{prefix}_{name}" if values is not None else None

    a1, a2, a3 = st.columns(3)
    roles = list(ROLES)
    role = a1.selectbox("Rol", roles, format_func=ROLES.get, key=key("rol"),
                        index=roles.index(values["role"]) if values is not None and values["role"] in ROLES else 0)
    closeness = values["closeness"] if values is not None and pd.notna(values["closeness"]) else 2
    closeness = a2.select_slider("Nabijheid", options=list(CLOSENESS), value=int(closeness),
                                 format_func=CLOSENESS.get, key=key("nabijheid"))
    freqs = list(CONTACT_FREQUENCIES)
    freq_now = values["contact_frequency"] if values is not None else None
    frequency = a3.selectbox("Contact", freqs, format_func=CONTACT_FREQUENCIES.get, key=key("contact"),
                             index=freqs.index(freq_now) if freq_now in freqs else 0)
    cols = st.columns(4)
    support = {col: cols[n].checkbox(label, key=key(col),
                                     value=bool(values[col]) if values is not None and pd.notna(values[col]) else False)
               for n, (col, label) in enumerate(SUPPORT.items())}
    known = st.multiselect("Kent ook (wie in dit netwerk kennen elkaar?)", others, default=knows,
                           format_func=lambda r: _label(r, ties), key=key("kent"),
                           placeholder="niemand anders in dit netwerk")
    return {"role": role, "closeness": int(closeness), "contact_frequency": frequency, **support, "knows": known}


def entry_form() -> None:
    """Record one person's network and screening during a conversation (also the very first network of a store)."""
    from data.export import frame_to_csv_bytes
    from data.network_import import PARTICIPATION_HEADERS, PERSON_HEADERS, TIE_HEADERS

    store = get_store()
    user = store.user
    st.markdown("Leg tijdens een gesprek het netwerk van één persoon vast. Gebruik een **code**, nooit een naam. "
                "Veel netwerken tegelijk: vul de sjablonen in of exporteer uit Network Canvas en lees ze in op de tab "
                "*Importeren* (of met `python cli.py import-network`).")
    if store.is_demo:
        st.info("**Demo**: wat u hier vastlegt, komt in de demo-opslag bij de verzonnen gemeente Voorbeeldstad en kan "
                "op de pagina Beheer ongedaan worden gemaakt; u blijft in de demomodus. Leg hier geen echte personen "
                "vast: die horen in de eigen opslag van de gemeente.", icon=":material/science:")
    d1, d2, d3 = st.columns(3)
    for col, (label, headers, fname) in zip((d1, d2, d3), (
            ("Sjabloon personen", PERSON_HEADERS, "sjabloon_personen.csv"),
            ("Sjabloon relaties", TIE_HEADERS, "sjabloon_relaties.csv"),
            ("Sjabloon deelname", PARTICIPATION_HEADERS, "sjabloon_deelname.csv")), strict=True):
        col.download_button(label, frame_to_csv_bytes(pd.DataFrame(columns=list(headers))), file_name=fname,
                            mime="text/csv", icon=":material/download:")
    buurten = load_areas("buurt")
    names = dict(zip(buurten["area_code"], buurten["name"], strict=True))
    own_buurten = [c for c in names if user.in_scope(pd.Series([c])).iloc[0]]
    if not own_buurten:
        st.info("Nog geen buurten (van uw wijken) in de opslag: de beheerder importeert eerst de CBS-gebieden op de "
                "pagina Beheer. Daarna kunt u hier netwerken vastleggen.")
        return

    if st.session_state.pop("nv_wis_code", False):  # a code refused on saving: out of the field before it is drawn
        st.session_state["nv_code"] = ""
        _clear_person()
    code = st.text_input("Code van de persoon", key="nv_code", placeholder="bijv. K-0142",
                         on_change=_check_code).strip()
    if code and not code_is_usable(code):  # set without the callback (e.g. by a test): never shown, never used
        st.session_state["nv_geweigerd"] = True
        code = ""
    if st.session_state.get("nv_geweigerd"):
        st.error(CODE_REFUSED)  # the same words for every refused code: nothing typed is repeated
    notice = st.session_state.pop("nv_melding", None)
    if notice:
        st.success(notice)

    persons = load_table("persons")
    stored = persons.loc[persons["person_id"].astype(str) == code] if code else persons.iloc[:0]
    # The stored values go into the widgets once per code. Without a code the widgets hold nobody's values
    # (an emptied field cleared them; a tab left and opened again draws them anew).
    if not code:
        st.session_state["nv_voor"] = None
    elif st.session_state.get("nv_voor") != code:
        _prefill(code, stored)
    ties = load_table("ties")
    own = ties.loc[ties["ego_id"].astype(str) == code].reset_index(drop=True) if code else ties.iloc[:0]
    links = load_table("alter_links")
    own_links = links.loc[links["ego_id"].astype(str) == code].reset_index(drop=True) if code else links.iloc[:0]

    st.markdown("**De persoon**")
    if len(stored):
        row = stored.iloc[0]
        st.caption("Deze code staat al in de opslag. Hieronder staan de opgeslagen buurt, leeftijd en antwoorden "
                   f"(laatste gesprek: {row['measured_on']:%d-%m-%Y})." if pd.notna(row["measured_on"]) else
                   "Deze code staat al in de opslag. Hieronder staan de opgeslagen buurt, leeftijd en antwoorden.")
    options = list(own_buurten)
    current = st.session_state.get("nv_buurt")
    if current is not None and current not in options:
        options.append(current)  # a stored buurt that is not (or no longer) in the areas: still shown as stored
    c1, c2, c3 = st.columns(3)
    buurt = c1.selectbox("Buurt", options, index=None, key="nv_buurt", placeholder="kies de buurt",
                         format_func=lambda c: f"{names[c]} ({c})" if c in names else c)
    age = c2.selectbox("Leeftijd", list(AGE_BANDS), index=None, key="nv_leeftijd", placeholder="onbekend")
    on = c3.date_input("Datum van het gesprek", value=dt.date.today(), key="nv_datum", format="DD-MM-YYYY",
                       max_value=dt.date.today())
    consent = st.checkbox("Toestemming gegeven: de persoon weet wat er wordt vastgelegd (alleen onder deze code) en "
                          "stemt ermee in", key="nv_toestemming")
    if consent:
        st.caption(f"Toestemming gegeven op {on:%d-%m-%Y}; die datum wordt met de gegevens opgeslagen.")

    answers = screening_questions()

    def save(new_ties: pd.DataFrame, new_links: pd.DataFrame, done: str) -> None:
        if not code:
            st.error(NO_CODE)
            return
        if not consent:
            st.error(NO_CONSENT)
            return
        if buurt is None:
            st.error(NO_BUURT)
            return
        person = _person_row(code, stored, buurt=buurt, age=age, answers=answers, on=on)
        try:
            store.merge_network(person, new_ties, alter_links=new_links, source="gespreksformulier",
                                kind="netwerk-invoer")
        except DataValidationError as exc:  # AccessDenied too: a code of someone outside the user's wijken
            if isinstance(exc, AccessDenied) or exc.column == "persoon":
                # One answer for every code the user may not use, so it does not tell whether a code exists
                # in another wijk; the code leaves the field.
                st.session_state["nv_geweigerd"] = True
                st.session_state["nv_wis_code"] = True
                st.rerun()
            show_error(exc)
            return
        st.session_state["nv_melding"] = done
        st.rerun()

    if st.button("Persoon en antwoorden opslaan", type="primary", key="nv_opslaan"):
        save(own, own_links, "De persoon en de antwoorden zijn opgeslagen.")

    refs = _ref(own) if len(own) else pd.Series(dtype="string")
    editable = [r for r in refs.dropna().astype(str) if not r.startswith(OUTSIDE_PREFIX)]
    st.markdown("**Iemand toevoegen**")
    with st.form("nv_alter", clear_on_submit=True):
        fields = _alter_fields("nv_nieuw", None, editable, own, [])
        link_code = st.text_input("Code, als deze persoon zelf in Steunkaart staat (anders leeg laten)",
                                  key="nv_nieuw_code", help="Dan wordt de ander aan die persoon gekoppeld: het "
                                  "netwerk van die persoon is met één klik te openen en de gemeenschap ziet de band.")
        added = st.form_submit_button("Toevoegen", type="primary")
    link_code = (link_code or "").strip()
    visible = set(persons["person_id"].astype(str))
    taken = set(own["alter_id"].dropna().astype(str)) if len(own) else set()
    if added and link_code and (link_code == code or link_code not in visible or link_code in taken):
        st.error(LINK_REFUSED)  # one answer for every code that cannot be used: nothing typed is repeated
        added = False
    if added:
        keys = own["alter_key"].dropna().astype(str).str.extract(r"^a(\d+)$")[0].dropna().astype(int)
        new_key = link_code or f"a{(keys.max() if len(keys) else 0) + 1}"
        new_tie = pd.DataFrame([{"ego_id": code, "alter_id": link_code or None,
                                 "alter_key": None if link_code else new_key, "role": fields["role"],
                                 **{c: fields[c] for c in SUPPORT}, "contact_frequency": fields["contact_frequency"],
                                 "closeness": fields["closeness"], "reciprocal": None, "same_buurt": None}])
        save(pd.concat([own, new_tie], ignore_index=True) if len(own) else new_tie,
             pd.concat([own_links, _links_for(code, new_key, fields["knows"])], ignore_index=True),
             "Toegevoegd.")

    if len(own):
        _alter_list(code, own, own_links, editable, save)
        if st.session_state.get("nv_gelogd") != code:
            store.log("bekijk-netwerk", code, {"weergave": "gespreksformulier"})
            st.session_state["nv_gelogd"] = code
        from graphs.ecogram import ecogram_svg

        st.image(ecogram_svg(own, alter_links=own_links, title=f"Netwerkkaart van {code}"),
                 caption=f"Netwerkkaart van {md(code)} ({len(own)} mensen)")


def _alter_list(code: str, own: pd.DataFrame, own_links: pd.DataFrame, editable: list[str], save) -> None:
    """The people in the network so far, each of them to change or remove."""
    refs = _ref(own).astype(str)
    knows = {r: sorted(set(own_links.loc[own_links["source"].astype(str) == r, "target"].astype(str))
                       | set(own_links.loc[own_links["target"].astype(str) == r, "source"].astype(str)))
             for r in refs}
    st.markdown("**Het netwerk tot nu toe**")
    st.dataframe(pd.DataFrame({
        "Wie": [("iemand buiten uw wijken" if r.startswith(OUTSIDE_PREFIX) else r) for r in refs],
        "Rol": own["role"].map(lambda r: ROLES.get(r, r)),
        "Steun": own[list(SUPPORT)].fillna(False).astype(bool).apply(
            lambda row: ", ".join(label for col, label in SUPPORT.items() if row[col]) or "geen", axis=1),
        "Contact": own["contact_frequency"].map(lambda f: CONTACT_FREQUENCIES.get(f, "") if isinstance(f, str) else ""),
        "Nabijheid": own["closeness"].map(lambda c: CLOSENESS.get(int(c), "") if pd.notna(c) else "onbekend"),
        "Kent ook": [", ".join(knows[r]) for r in refs],
    }), hide_index=True, width="stretch")
    chosen = st.selectbox("Iemand wijzigen of verwijderen", editable, index=None, key=f"nv_kies_{code}",
                          format_func=lambda r: _label(r, own), placeholder="kies iemand uit het netwerk")
    if chosen is None:
        return
    at = int(((refs == chosen).to_numpy()).argmax())
    with st.form(f"nv_wijzig_{code}_{chosen}"):
        fields = _alter_fields(f"nv_w_{code}_{chosen}", own.iloc[at], [r for r in editable if r != chosen], own,
                               [k for k in knows[chosen] if k in editable])
        b1, b2 = st.columns(2)
        changed = b1.form_submit_button("Wijziging opslaan", type="primary")
        removed = b2.form_submit_button("Verwijderen")
    if changed:
        ties = own.copy()
        for col in ("role", "closeness", "contact_frequency", *SUPPORT):
            ties.loc[at, col] = fields[col]
        # Links to someone outside the user's wijken are not in own_links; the access layer keeps them.
        save(ties, pd.concat([_links_without(own_links, chosen), _links_for(code, chosen, fields["knows"])],
                             ignore_index=True),
             "De wijziging is opgeslagen.")
    if removed:
        save(own.drop(index=at).reset_index(drop=True), _links_without(own_links, chosen),
             "Verwijderd uit het netwerk.")

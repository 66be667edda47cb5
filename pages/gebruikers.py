"""Gebruikers: the administrator adds colleagues with a role and wijken, changes and blocks them."""

import pandas as pd
import streamlit as st

from data.auth import MIN_PASSWORD, ROLE_HELP, ROLES
from data.errors import DataValidationError, StoreError
from pages.common import load_areas, md, require_admin, show_error

st.title("Gebruikers")
store = require_admin()
wijken = load_areas("wijk")
wijk_names = dict(zip(wijken["area_code"], wijken["name"], strict=True))
st.markdown("\n".join(f"- **{ROLES[r]}**: {ROLE_HELP[r]}" for r in ROLES))

if store.user.demo:
    st.info("U werkt in de demomodus. Maak hier de eerste beheerder aan; daarna meldt iedereen zich aan met een "
            "eigen account en is de demomodus uit.")

users = store.read_users()
if len(users):
    st.dataframe(pd.DataFrame({
        "Gebruiker": users["username"], "Rol": users["role"].map(ROLES),
        "Wijken": users["wijken"].map(lambda ws: ", ".join(wijk_names.get(w, w) for w in ws)),
        "Actief": users["active"].map({1: "ja", 0: "nee"}),
        "Geblokkeerd tot": users["locked_until"].fillna(""),
        "Tweestapsverificatie": users["totp"].map({True: "aan", False: "uit"}),
    }), hide_index=True, width="stretch")

created = st.session_state.pop("gb_aangemaakt", None)  # the confirmation of the form just cleared
if created:
    st.success(created)

st.subheader("Gebruiker toevoegen")
first = not len(users)
with st.form("gb_nieuw"):
    c1, c2 = st.columns(2)
    username = c1.text_input("Gebruikersnaam", key="gb_naam")
    role = c2.selectbox("Rol", ["beheerder"] if first else list(ROLES), format_func=ROLES.get, key="gb_rol")
    chosen = st.multiselect("Wijken (voor een wijkteam)", list(wijk_names), format_func=wijk_names.get,
                            key="gb_wijken", placeholder="kies wijken")
    c3, c4 = st.columns(2)
    password = c3.text_input(f"Wachtwoord (minstens {MIN_PASSWORD} tekens, geen veelgebruikt wachtwoord)",
                             type="password", key="gb_ww")
    again = c4.text_input("Wachtwoord nogmaals", type="password", key="gb_ww2")
    if st.form_submit_button("Toevoegen", type="primary"):
        if password != again:
            st.error("De twee wachtwoorden zijn niet gelijk.")
        else:
            try:
                store.create_user(username, role, chosen, password)
                name = username.strip().lower()
                scope = (" voor wijken " + ", ".join(wijk_names.get(w, w) for w in sorted(chosen))
                         if role == "wijkteam" else "")
                message = f"Gebruiker '{md(name)}' aangemaakt als {ROLES[role]}{md(scope)}."
                if store.user.demo:
                    from pages.common import sign_out

                    sign_out()  # the demo ends: from now on everyone signs in
                    st.session_state["sk_melding"] = message + " Meld u nu aan met dat account."
                else:
                    # An empty form for the next colleague; the confirmation shows after the rerun.
                    for key in ("gb_naam", "gb_rol", "gb_wijken", "gb_ww", "gb_ww2"):
                        st.session_state.pop(key, None)
                    st.session_state["gb_aangemaakt"] = message
                st.rerun()
            except DataValidationError as exc:  # also a StoreError (a busy server)
                show_error(exc)

if len(users):
    st.subheader("Gebruiker wijzigen")
    who = st.selectbox("Gebruiker", list(users["username"]), key="gb_wie")  # outside the form: fills it
    row = users.set_index("username").loc[who]
    with st.form(f"gb_wijzig_{who}"):
        c1, c2 = st.columns(2)
        new_role = c1.selectbox("Rol", list(ROLES), index=list(ROLES).index(row["role"]), format_func=ROLES.get)
        active = c2.checkbox("Actief", value=bool(row["active"]))
        new_wijken = st.multiselect("Wijken", list(wijk_names), default=[w for w in row["wijken"] if w in wijk_names],
                                    format_func=wijk_names.get, placeholder="Kies…")
        new_password = st.text_input("Nieuw wachtwoord (leeg laten om niet te wijzigen; heft een blokkade op)",
                                     type="password")
        totp_off = False
        if row["totp"] and who != store.user.username:
            totp_off = st.checkbox("Tweestapsverificatie uitzetten (bijvoorbeeld na een verloren telefoon)")
        if st.form_submit_button("Opslaan"):
            try:
                store.update_user(who, role=new_role, wijken=new_wijken, active=active,
                                  password=new_password or None)
                if totp_off:
                    store.clear_totp(who)
                ended = bool(new_password) or new_role != row["role"] or bool(active) != bool(row["active"])
                st.success(f"Gebruiker '{md(who)}' is bijgewerkt."
                           + (" Wie nu als deze gebruiker is aangemeld, wordt bij de volgende klik afgemeld."
                              if ended else ""))
            except (DataValidationError, StoreError) as exc:
                st.error(md(str(exc)))

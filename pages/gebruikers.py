"""Gebruikers: the administrator adds colleagues with a role and wijken, changes and blocks them."""

import pandas as pd
import streamlit as st

from data.auth import MIN_PASSWORD, ROLE_HELP, ROLES
from data.errors import DataValidationError, StoreError
from pages.common import load_areas, require_admin, show_error

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
    }), hide_index=True, width="stretch")

st.subheader("Gebruiker toevoegen")
first = not len(users)
with st.form("gb_nieuw"):
    c1, c2 = st.columns(2)
    username = c1.text_input("Gebruikersnaam", key="gb_naam")
    role = c2.selectbox("Rol", ["beheerder"] if first else list(ROLES), format_func=ROLES.get, key="gb_rol")
    chosen = st.multiselect("Wijken (voor een wijkteam)", list(wijk_names), format_func=wijk_names.get,
                            key="gb_wijken", placeholder="kies wijken")
    c3, c4 = st.columns(2)
    password = c3.text_input(f"Wachtwoord (minstens {MIN_PASSWORD} tekens)", type="password", key="gb_ww")
    again = c4.text_input("Wachtwoord nogmaals", type="password", key="gb_ww2")
    if st.form_submit_button("Toevoegen", type="primary"):
        if password != again:
            st.error("De twee wachtwoorden zijn niet gelijk.")
        else:
            try:
                store.create_user(username, role, chosen, password)
                if store.user.demo:
                    from pages.common import sign_out

                    sign_out()  # the demo ends: from now on everyone signs in
                st.rerun()
            except DataValidationError as exc:
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
                                    format_func=wijk_names.get)
        new_password = st.text_input("Nieuw wachtwoord (leeg laten om niet te wijzigen; heft een blokkade op)",
                                     type="password")
        if st.form_submit_button("Opslaan"):
            try:
                store.update_user(who, role=new_role, wijken=new_wijken, active=active,
                                  password=new_password or None)
                st.success(f"Gebruiker '{who}' is bijgewerkt.")
            except (DataValidationError, StoreError) as exc:
                st.error(str(exc))

"""Aanmelden: sign in with a local account, or via the municipality's identity provider (OIDC);
on first use, create the administrator."""

import streamlit as st

from data.auth import MIN_PASSWORD, SignInError
from data.errors import DataValidationError
from pages.common import create_first_admin, needs_first_admin, oidc_roles, show_error, sign_in


def sign_in_page() -> None:
    """Shown instead of the app until someone is signed in (a page of its own in app.py)."""
    st.title("Steunkaart")
    notice = st.session_state.pop("sk_melding", None)  # why the last session ended (idle, account changed)
    if notice:
        st.info(notice)

    if needs_first_admin():
        st.subheader("Eerste gebruik: maak de beheerder aan")
        st.markdown("Er is nog geen gebruiker. De eerste gebruiker is de **beheerder**: die maakt daarna de "
                    f"accounts voor collega's aan. Kies een wachtwoord van minstens {MIN_PASSWORD} tekens, "
                    "bijvoorbeeld een zin van een paar woorden: geen veelgebruikt wachtwoord en niet uw "
                    "gebruikersnaam.")
        with st.form("sk_eerste"):
            username = st.text_input("Gebruikersnaam", key="sk_eerste_naam")
            password = st.text_input("Wachtwoord", type="password", key="sk_eerste_ww")
            again = st.text_input("Wachtwoord nogmaals", type="password", key="sk_eerste_ww2")
            if st.form_submit_button("Beheerder aanmaken", type="primary"):
                if password != again:
                    st.error("De twee wachtwoorden zijn niet gelijk.")
                else:
                    try:
                        create_first_admin(username, password)
                        sign_in(username, password)
                        st.rerun()
                    except DataValidationError as exc:
                        show_error(exc)
        return

    st.subheader("Aanmelden")
    roles = oidc_roles()
    if roles is not None:
        if st.button("Aanmelden met het account van uw organisatie", type="primary"):
            st.login()
        if getattr(st.user, "is_logged_in", False):
            st.error("Uw account van de organisatie heeft geen rol in Steunkaart. Vraag de beheerder om u "
                     "toe te voegen.")
        st.markdown("Of meld u aan met een lokaal account:")
    with st.form("sk_aanmelden"):
        username = st.text_input("Gebruikersnaam", key="sk_naam")
        password = st.text_input("Wachtwoord", type="password", key="sk_ww")
        code = st.text_input("Code uit de authenticator-app (alleen als u tweestapsverificatie gebruikt)",
                             key="sk_code", max_chars=8)
        if st.form_submit_button("Aanmelden", type="primary"):
            try:
                sign_in(username, password, code)
                st.rerun()
            except SignInError as exc:
                st.error(str(exc))
            except DataValidationError as exc:  # e.g. the store busy with a long import
                show_error(exc)

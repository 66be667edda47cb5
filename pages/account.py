"""Mijn account: the signed-in user's own second sign-in step (a code from an authenticator app)."""

import streamlit as st

from data.auth import new_totp_secret, totp_uri
from data.errors import DataValidationError
from pages.common import get_store, md, show_error

st.title("Mijn account")
store = get_store()
user = store.user
st.markdown(f"Aangemeld als **{md(user.username)}**{md(user.label.removeprefix(user.username))}.")
if user.via != "lokaal":
    st.info("U bent aangemeld via het account van uw organisatie of in de demomodus: een tweede stap stelt u "
            "daar in, niet in Steunkaart.")
    st.stop()

st.subheader("Tweestapsverificatie")
done = st.session_state.pop("ac_melding", None)
if done:
    st.success(done)

if store.has_own_totp():
    st.markdown("De tweestapsverificatie **staat aan**: bij het aanmelden vraagt Steunkaart na het wachtwoord ook "
                "de code uit uw authenticator-app.")
    if user.is_admin:
        st.info("Een beheerder kan de eigen tweestapsverificatie niet uitzetten. Bij een verloren telefoon zet een "
                "andere beheerder hem uit op de pagina Gebruikers.")
    else:
        with st.form("ac_uit"):
            code = st.text_input("Code die de app nu toont", key="ac_uit_code", max_chars=8)
            if st.form_submit_button("Tweestapsverificatie uitzetten"):
                try:
                    store.clear_own_totp(code)
                    st.session_state["ac_melding"] = "De tweestapsverificatie staat uit."
                    st.rerun()
                except DataValidationError as exc:
                    show_error(exc)
    st.stop()

st.markdown("Met tweestapsverificatie is uw wachtwoord alleen niet genoeg om aan te melden: u typt ook de code van "
            "zes cijfers die een authenticator-app op uw telefoon elke 30 seconden maakt (bijvoorbeeld Microsoft "
            "Authenticator, Google Authenticator of FreeOTP). Voor een beheerder blijft hij daarna altijd aan.")
secret = st.session_state.get("ac_sleutel")
if secret is None:
    if st.button("Tweestapsverificatie instellen", type="primary", key="ac_start"):
        st.session_state["ac_sleutel"] = new_totp_secret()
        st.rerun()
    st.stop()

st.markdown("1. Kies in de app *account toevoegen* en dan *sleutel invoeren* (of *handmatig*), en typ of plak deze "
            "sleutel (type: op tijd gebaseerd):")
st.code(" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), language=None)
st.markdown("   Of plak dit adres, als uw app dat kan:")
st.code(totp_uri(user.username, secret), language=None)
st.markdown("2. Typ de code die de app nu toont en bevestig. Pas dan staat de tweestapsverificatie aan.")
with st.form("ac_aan"):
    code = st.text_input("Code uit de app", key="ac_code", max_chars=8)
    c1, c2 = st.columns(2)
    confirm = c1.form_submit_button("Bevestigen", type="primary")
    stop = c2.form_submit_button("Annuleren")
if stop:
    st.session_state.pop("ac_sleutel", None)
    st.rerun()
if confirm:
    try:
        store.set_own_totp(secret, code)
        st.session_state.pop("ac_sleutel", None)
        st.session_state["ac_melding"] = ("De tweestapsverificatie staat aan. Verliest u uw telefoon, dan zet de "
                                          "beheerder hem voor u uit.")
        st.rerun()
    except DataValidationError as exc:
        show_error(exc)

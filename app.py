"""Steunkaart: entry point. `make run` starts this with `streamlit run app.py`."""

import numpy as np
import streamlit as st
from PIL import Image

from mapping.assets import ensure_static_assets
from pages.aanmelden import sign_in_page
from pages.common import md, sign_in_gate, sign_out, store_errors_shown

# The favicon is drawn here: a material icon would be fetched from Google's font servers.
_yy, _xx = np.mgrid[:32, :32]
_icon = np.zeros((32, 32, 4), dtype=np.uint8)
_icon[(_yy - 15.5) ** 2 + (_xx - 15.5) ** 2 <= 15**2] = (179, 84, 30, 255)
st.set_page_config(page_title="Steunkaart", page_icon=Image.fromarray(_icon), layout="wide")
# Leaflet is served by the app itself (see mapping/assets.py), never from a CDN.
ensure_static_assets()

# Every page's address; before sign-in each leads to the sign-in form and, after it, to that page.
PAGE_PATHS = ("profiel", "netwerken", "tekorten", "voorzieningen", "opvolging", "wijkagenda", "beheer", "gebruikers",
              "logboek", "account", "over")

with store_errors_shown():  # a busy or broken store: a Dutch message, never a traceback
    user = sign_in_gate()  # first run: creates the store (the demo, or an empty own store); stops on a bad store
if user is None:
    gate = st.navigation([st.Page(sign_in_page, title="Aanmelden", icon=":material/login:", default=True),
                          *(st.Page(sign_in_page, title="Aanmelden", url_path=p) for p in PAGE_PATHS)],
                         position="hidden")
    if gate.url_path in PAGE_PATHS:
        st.session_state["sk_next_page"] = gate.url_path
    gate.run()
    st.stop()

with st.sidebar:
    if user.demo:
        st.warning("**Demomodus**: u bent automatisch aangemeld als demo-beheerder, met de fictieve gemeente "
                   "Voorbeeldstad. Maak onder *Gebruikers* een beheerder aan om aanmelden aan te zetten.")
    else:
        # The name can be an e-mail address from the identity provider: escaped, never a link.
        st.caption(f"Aangemeld als **{md(user.username)}{user.label.removeprefix(user.username)}**")
        if st.button("Afmelden", key="sk_afmelden"):
            sign_out()
            if user.via == "oidc":
                st.logout()
            st.rerun()

pages = [
    st.Page("pages/kaart.py", title="Kaart", icon=":material/map:", default=True),
    st.Page("pages/profiel.py", title="Profiel", icon=":material/analytics:"),
    st.Page("pages/netwerken.py", title="Netwerken", icon=":material/hub:"),
    st.Page("pages/tekorten.py", title="Tekorten", icon=":material/travel_explore:"),
    st.Page("pages/voorzieningen.py", title="Voorzieningen", icon=":material/volunteer_activism:"),
    st.Page("pages/opvolging.py", title="Opvolging", icon=":material/trending_up:"),
    st.Page("pages/wijkagenda.py", title="Wijkagenda", icon=":material/event_note:"),
]
if user.is_admin:
    pages += [
        st.Page("pages/beheer.py", title="Beheer", icon=":material/upload_file:"),
        st.Page("pages/gebruikers.py", title="Gebruikers", icon=":material/group:"),
        st.Page("pages/logboek.py", title="Logboek", icon=":material/history:"),
    ]
if user.via == "lokaal":
    pages.append(st.Page("pages/account.py", title="Mijn account", icon=":material/person:"))
pages.append(st.Page("pages/over.py", title="Over de gegevens", icon=":material/info:"))
current = st.navigation(pages)
wanted = st.session_state.pop("sk_next_page", None)  # the address opened before signing in
if wanted and wanted != current.url_path:
    target = next((p for p in pages if p.url_path == wanted), None)
    if target is not None:
        st.switch_page(target)
    st.warning("Die pagina is er niet voor uw rol; u ziet de kaart.")
current.run()

"""Steunkaart: entry point. `make run` starts this with `streamlit run app.py`."""

import numpy as np
import streamlit as st
from PIL import Image

from mapping.assets import ensure_static_assets
from pages.common import get_store

# The favicon is drawn here: a material icon would be fetched from Google's font servers.
_yy, _xx = np.mgrid[:32, :32]
_icon = np.zeros((32, 32, 4), dtype=np.uint8)
_icon[(_yy - 15.5) ** 2 + (_xx - 15.5) ** 2 <= 15**2] = (179, 84, 30, 255)
st.set_page_config(page_title="Steunkaart", page_icon=Image.fromarray(_icon), layout="wide")
# Leaflet is served by the app itself (see mapping/assets.py), never from a CDN.
ensure_static_assets()

get_store()  # first run: creates the store with the demo municipality; stops on a bad store

page = st.navigation(
    [
        st.Page("pages/kaart.py", title="Kaart", icon=":material/map:", default=True),
        st.Page("pages/profiel.py", title="Profiel", icon=":material/analytics:"),
        st.Page("pages/netwerken.py", title="Netwerken", icon=":material/hub:"),
        st.Page("pages/tekorten.py", title="Tekorten", icon=":material/travel_explore:"),
        st.Page("pages/voorzieningen.py", title="Voorzieningen", icon=":material/volunteer_activism:"),
        st.Page("pages/beheer.py", title="Beheer", icon=":material/upload_file:"),
        st.Page("pages/over.py", title="Over de gegevens", icon=":material/info:"),
    ]
)
page.run()

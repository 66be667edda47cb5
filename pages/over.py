"""Over de gegevens: what is in the store, where it comes from, and what it may be used for."""

import streamlit as st

from data.formatting import format_number
from pages.common import get_store, load_counts

st.title("Over de gegevens")

counts = load_counts()
labels = {
    "areas": "Gebieden",
    "provisions": "Voorzieningen",
    "persons": "Personen (pseudoniem)",
    "ties": "Steunrelaties",
    "participation": "Deelnames",
}
cols = st.columns(len(labels))
for col, (key, label) in zip(cols, labels.items(), strict=True):
    col.metric(label, format_number(counts[key]))

where = f"`{get_store().path}`" if get_store().user.is_admin else "één bestand op de server"
st.markdown(
    f"""
**Opslag:** {where} (GeoPackage, schemaversie {counts["schema_version"]}).
Het bestand opent direct in QGIS: de lagen *areas* en *provisions* staan in RD New (EPSG:28992).

**Demogemeente.** Voorbeeldstad (GM9999) is verzonnen: de buurten, kerncijfers, voorzieningen en
netwerken zijn met een vaste toevalsgenerator gemaakt, zodat u de werking kunt verkennen zonder
echte persoonsgegevens.

**Bronnen.** Kerncijfers volgen de CBS Wijk- en Buurtkaart en de Kerncijfers wijken en buurten
(bron: CBS / Kadaster, CC BY 4.0). Door CBS geheim gehouden waarden worden als *geheim* getoond,
nooit als getal.

**Privacy.** Personen staan er alleen onder een ondoorzichtige code in: geen naam, adres of BSN.
Vragenlijstscores (LSNS-6, De Jong Gierveld) zijn signalen voor groepen, geen diagnose van een
persoon.
"""
)

"""Netwerkmaten per persoon (the network card of issue 14): every measure of one person's network with what it
means for support. Shown under the ecogram (which the page titles 'Netwerkkaart'); logged as its own view.

Only for roles that may see persons one by one (the access layer refuses the rest); each card shown and
each export of the measures is in the audit log, like every other view of person data.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.access import AccessDenied
from data.auth import ROLES
from graphs.card import network_card_table
from graphs.screening import SCREENING_NOTE
from pages.common import get_store, load_signals, log_export, log_person_view, md

VIEW = "netwerkmaten"
OWN_REPORT_NOTE = ("De maten volgen wat de persoon zelf over het eigen netwerk vertelde. Wie de persoon in zijn of "
                   "haar netwerk noemt, staat apart onderaan en telt niet mee in de maten.")


def network_card(person_id: str, *, rules=None) -> None:
    """Show the network card of one person (logged as a view) and the export of all measures per person.

    ``rules`` are the page's signal rules (for the cached signal table); the measures do not depend on them.
    """
    user = get_store().user
    refused = (f"Uw rol ({ROLES.get(user.role, user.role)}) geeft geen toegang tot de netwerkmaten van een persoon: "
               "u ziet netwerken alleen als totalen per buurt.")
    if not user.sees_persons:
        st.error(refused, icon=":material/lock:")
        return
    try:
        signals = load_signals(rules)
    except AccessDenied:
        st.error(refused, icon=":material/lock:")
        return
    if person_id not in signals.index:
        st.warning("Van deze persoon zijn geen netwerkmaten te zien: de code is onbekend of de persoon woont buiten "
                   "uw wijken.")
        return
    log_person_view(VIEW, [person_id])
    st.subheader(f"Netwerkmaten van {md(person_id)}")
    st.caption(OWN_REPORT_NOTE + " " + SCREENING_NOTE)
    card = network_card_table(signals.loc[person_id])
    with st.container(key="netwerkmaten"):
        st.table(card.set_index("Maat"))
    measures_download(signals)


def measures_download(signals: pd.DataFrame) -> None:
    """Download buttons for every measure of every person the user may see (CSV and Excel), each download logged."""
    from graphs.card import measures_export_bytes
    from pages.common import signed_in_user

    if signals.empty:
        return
    user = signed_in_user()
    codes = sorted(signals.index.astype(str))
    st.markdown("**Alle netwerkmaten per persoon**" + (" (uw wijken)" if user.role == "wijkteam" else ""))
    c1, c2 = st.columns(2)
    for col, (label, name, excel, mime) in zip((c1, c2), (
            ("CSV", "netwerkmaten.csv", False, "text/csv"),
            ("Excel", "netwerkmaten.xlsx", True,
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")), strict=True):
        # Made only when the button is clicked (a city's measures in Excel take a while), by the one safe writer.
        col.download_button(f"Download {label} ({len(codes)} personen)",
                            lambda excel=excel: measures_export_bytes(signals, excel=excel),
                            file_name=name, mime=mime, key=f"sk_download_netwerkmaten_{label}",
                            icon=":material/download:", on_click=log_export,
                            args=("export-netwerkmaten", VIEW, {"bestand": name, "personen": codes,
                                                               "aantal": len(codes),
                                                               "namens": {"rol": user.role,
                                                                          "wijken": list(user.wijken)}}))

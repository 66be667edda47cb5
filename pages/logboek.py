"""Logboek: who did what and when (sign-ins, imports, edits, exports, views of a person's network)."""

import pandas as pd
import streamlit as st

from data.access import views_of_person
from data.export import FMT_DATETIME, explanation_frame, frame_to_csv_bytes, frames_to_excel_bytes
from data.formatting import format_number
from pages.common import require_admin

st.title("Logboek")
store = require_admin()
audit = store.read_audit()
audit["at"] = pd.to_datetime(audit["at"], utc=True, errors="coerce").dt.tz_convert("Europe/Amsterdam")
c1, c2, c3, c4 = st.columns(4)
users = c1.multiselect("Wie", sorted(audit["user"].dropna().unique()), key="lb_wie", placeholder="iedereen")
actions = c2.multiselect("Wat", sorted(audit["action"].dropna().unique()), key="lb_wat", placeholder="alles")
first = audit["at"].min().date() if len(audit) else pd.Timestamp.now().date()
period = c3.date_input("Periode", (first, pd.Timestamp.now(tz="Europe/Amsterdam").date()), format="DD-MM-YYYY",
                       key="lb_periode")
text = c4.text_input("Zoek in doel of details", key="lb_tekst")
shown = audit
if users:
    shown = shown.loc[shown["user"].isin(users)]
if actions:
    shown = shown.loc[shown["action"].isin(actions)]
if isinstance(period, tuple) and len(period) == 2:
    day = shown["at"].dt.date
    shown = shown.loc[(day >= period[0]) & (day <= period[1])]
if text:
    hay = shown["target"].fillna("") + " " + shown["details"].fillna("")
    shown = shown.loc[hay.str.contains(text, case=False, regex=False)]
shown = shown.sort_values("at", ascending=False)
table = pd.DataFrame({"Wanneer": shown["at"].dt.strftime("%d-%m-%Y %H:%M:%S"), "Wie": shown["user"],
                      "Wat": shown["action"], "Waarop": shown["target"], "Details": shown["details"]})
who = st.text_input("Wie bekeek of exporteerde de gegevens van persoon … (code)", key="lb_persoon",
                    help="Voor de vraag van een bewoner (AVG): elke weergave en export van zijn of haar gegevens.")
if who.strip():
    about = views_of_person(audit, who.strip())
    st.markdown(f"**{format_number(len(about))}** keer zijn gegevens van deze persoon getoond of geëxporteerd.")
    st.dataframe(pd.DataFrame({"Wanneer": about["at"].dt.strftime("%d-%m-%Y %H:%M:%S"), "Wie": about["user"],
                               "Wat": about["action"], "Weergave": about["target"]}), hide_index=True, width="stretch")
st.markdown(f"**{format_number(len(table))}** van {format_number(len(audit))} regels.")
st.dataframe(table, hide_index=True, width="stretch")


def _logged(file_name: str) -> None:
    store.log("export-logboek", "audit", {"regels": len(table), "bestand": file_name})


# Excel gets 'Wanneer' as a real date-time cell (Amsterdam wall-clock time), so the log sorts and filters.
workbook = table.assign(Wanneer=shown["at"].dt.tz_localize(None).to_numpy())
explanation = explanation_frame([
    ("Logboek", "Wanneer", "Datum en tijd van de handeling.", "dd-mm-jjjj uu:mm, tijd in Nederland", "Steunkaart"),
    ("Logboek", "Wie", "Gebruikersnaam van wie het deed.", "", "Steunkaart"),
    ("Logboek", "Wat", "Soort handeling (bijv. import, export-personen, bekijk-personen).", "", "Steunkaart"),
    ("Logboek", "Waarop", "Waar de handeling over ging (tabel, weergave of voorziening).", "", "Steunkaart"),
    ("Logboek", "Details", "Wat er precies gebeurde, als JSON (bijv. het bestand en de personen).", "", "Steunkaart"),
])
d1, d2 = st.columns(2)
with d1:
    st.download_button("Exporteren (CSV voor Excel)", frame_to_csv_bytes(table),
                       "steunkaart-logboek.csv", mime="text/csv", on_click=_logged, args=("steunkaart-logboek.csv",))
with d2:  # made only when clicked: a long log takes openpyxl a while
    st.download_button("Exporteren (Excel)",
                       lambda: frames_to_excel_bytes({"Logboek": workbook, "Toelichting": explanation},
                                                     number_formats={"Logboek": {"Wanneer": FMT_DATETIME}},
                                                     column_widths={"Logboek": {"A": 18, "E": 80}}),
                       "steunkaart-logboek.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click=_logged,
                       args=("steunkaart-logboek.xlsx",))

"""The evidence report (graphs/evidence.py) and the change per person (graphs/outcomes.person_changes).

A hand-made cohort with known answers: provision EV1 (Grip & Glans), LSNS-6, 8 participants and 6 comparison
persons measured at T0 and T1, and 3 of the participants again at T2 (a cell under 5).
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from scipy import stats

from data.access import ScopedStore, User
from graphs.evidence import (
    LITERATURE,
    NOT_BY_LOT,
    _interval,
    build_evidence_report,
    count_text,
    evidence_to_excel,
    evidence_to_html,
    evidence_to_pdf,
)
from graphs.outcomes import (
    CAVEAT,
    IMPROVED,
    RELIABILITY,
    UNCHANGED,
    WORSE,
    change_summary,
    measurements_long,
    person_changes,
    protect_summary,
)
from graphs.screening import SCREENING_NOTE
from reports import pdf_problem
from tests.conftest import in_ci

PART_T0 = [10, 12, 8, 14, 11, 9, 13, 15]
PART_CHANGE = [1, 2, 3, 4, 5, 6, 7, 4]
COMP_T0 = [12, 10, 9, 11, 13, 10]
COMP_CHANGE = [-1, 1, 3, 1, 0, 2]
T2_SCORE = 20  # the three who came back at T2: changes 10, 8, 12 (mean 10,0), a cell of 3 persons
T0_DATE = pd.Timestamp("2024-01-08")
GENERATED = pd.Timestamp("2024-12-01")
SECRET = b"evidence-test-secret-0123456789ab"
HOSTILE = "<script>alert(1)</script>"


def person(i: int, group: str) -> str:
    return f"KLANTX{group[0].upper()}{i:03d}"  # distinctive: searched for in every output


def row(pid: str, group: str, moment: str, score: float, *, days: int = 0, measure: str = "lsns6",
        provision: str = "EV1") -> dict:
    return {"person_id": pid, "provision_id": provision, "group": group, "moment": moment,
            "measured_on": T0_DATE + pd.Timedelta(days=days), "measure": measure, "score": float(score),
            "type": "grip_en_glans"}


def cohort(*, comparison: bool = True, comp_change=COMP_CHANGE) -> pd.DataFrame:
    out = []
    for i, (t0, d) in enumerate(zip(PART_T0, PART_CHANGE, strict=True)):
        pid = person(i, "deelnemer")
        out += [row(pid, "deelnemer", "T0", t0), row(pid, "deelnemer", "T1", t0 + d, days=42)]
    if comparison:
        for i, (t0, d) in enumerate(zip(COMP_T0, comp_change, strict=True)):
            pid = person(i, "vergelijking")
            out += [row(pid, "vergelijking", "T0", t0), row(pid, "vergelijking", "T1", t0 + d, days=45)]
    out += [row(person(i, "deelnemer"), "deelnemer", "T2", T2_SCORE, days=130) for i in range(3)]
    return pd.DataFrame(out)


def provisions(name: str = HOSTILE) -> pd.DataFrame:
    return pd.DataFrame([
        {"provision_id": "EV1", "name": name, "type": "grip_en_glans", "organisation": "Welzijn Noord",
         "status": "actief", "funding_source": "gemeente (subsidie)", "funding_end": pd.Timestamp("2025-06-30")},
        {"provision_id": "EV2", "name": "Grip & Glans Zuid", "type": "grip_en_glans", "organisation": "Welzijn Zuid",
         "status": "actief", "funding_source": "fonds", "funding_end": pd.Timestamp("2027-12-31")},
    ])


def contact() -> pd.DataFrame:
    return pd.DataFrame({"provision_id": ["EV1"], "n_participants": pd.array([8], dtype="Int64"),
                         "share": [0.75], "reason": [""]})


def summaries(long: pd.DataFrame, *, protected: bool = False, by: str = "provision_id") -> dict:
    out = {}
    for after in ("T1", "T2"):
        summary = change_summary(long, before="T0", after=after, by=by)
        if protected:
            summary = protect_summary(summary, long, before="T0", after=after, by=by, secret=SECRET)
        out[("T0", after)] = summary
    return out


def report(long=None, *, protected: bool = False, name: str = HOSTILE, **kwargs) -> dict:
    long = cohort() if long is None else long
    return build_evidence_report(summaries(long, protected=protected), contact(), provisions(name), None,
                                 scope="EV1", protected=protected, generated=GENERATED,
                                 period=(T0_DATE, T0_DATE + pd.Timedelta(days=130)), **kwargs)


def workbook(rep: dict):
    return load_workbook(io.BytesIO(evidence_to_excel(rep)))


def sheet_records(book, name: str) -> list[dict]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def all_text(book) -> str:
    return "\n".join(str(c.value) for ws in book.worksheets for r in ws.iter_rows() for c in r
                     if c.value is not None)


# --------------------------------------------------------------------------- figures, by hand
def test_hand_computed_change_and_interval_in_dutch_format():
    # Changes 1,2,3,4,5,6,7,4: mean 4, deviations -3..3 and 0, squares 28, variance 28/7 = 4, sd 2;
    # se = 2/sqrt(8); t_{0.975,7} = 2.3646 (table) -> 4 ± 1.6720 = 2,3 tot 5,7 (one decimal).
    t7 = stats.t.ppf(0.975, 7)
    assert t7 == pytest.approx(2.3646, abs=1e-4)
    low, high = 4 - t7 * 2 / math.sqrt(8), 4 + t7 * 2 / math.sqrt(8)
    rep = report()
    html = evidence_to_html(rep)
    assert "LSNS-6 steeg tussen intake (T0) en einde (T1) gemiddeld 4,0 punten (95%-interval 2,3 tot 5,7) bij 8 " \
           "deelnemers" in html
    assert "2,3 tot 5,7" in rep["changes"].iloc[0]["95%-interval"]
    assert rep["changes"].iloc[0]["d_z"] == "2,00"  # 4 / 2
    # Comparison: changes -1,1,3,1,0,2: mean 1, squares 4+0+4+0+1+1 = 10, variance 2. DiD = 3;
    # v1 = 4/8, v2 = 2/6: se = sqrt(5/6); Welch df = (5/6)^2 / ((1/2)^2/7 + (1/3)^2/5) = 11,99.
    se = math.sqrt(5 / 6)
    df = (5 / 6) ** 2 / ((1 / 2) ** 2 / 7 + (1 / 3) ** 2 / 5)
    t = stats.t.ppf(0.975, df)
    assert df == pytest.approx(11.986, abs=1e-3)
    did_low, did_high = 3 - t * se, 3 + t * se  # 1,01 and 4,99
    assert "De vergelijkingsgroep steeg gemiddeld 1,0; het verschil van 3,0 (95%-interval 1,0 tot 5,0) wijst op " \
           "een effect van de voorziening." in rep["messages"]
    results = sheet_records(workbook(rep), "Resultaten")
    first = next(r for r in results if r["Naar"] == "T1")
    assert first["Gemiddelde verandering"] == pytest.approx(4.0)
    assert first["Ondergrens 95%-interval"] == pytest.approx(low)
    assert first["Bovengrens 95%-interval"] == pytest.approx(high)
    assert first["Effectgrootte d_z"] == pytest.approx(2.0)
    assert first["Verschil met vergelijkingsgroep"] == pytest.approx(3.0)
    assert first["Ondergrens verschil"] == pytest.approx(did_low)
    assert first["Bovengrens verschil"] == pytest.approx(did_high)
    assert first["Gemeten op beide momenten"] == 8 and first["Vergelijkingsgroep gemeten op beide"] == 6


def test_response_is_reported_with_the_missing_follow_ups():
    rep = report()
    # 8 measured at T0, 8 at T1 (100%), 3 at T2: shown as 'minder dan 5' and no percentage (30% would give 3 away).
    assert rep["response"] == ["Van de 8 deelnemers (gemeten op T0) zijn er 8 gemeten op T1 (100%) en minder dan 5 "
                               "op T2."]
    assert "30%" not in evidence_to_html(rep)


def test_no_clear_difference_when_the_interval_holds_zero():
    # The comparison group changes as much as the participants (mean 4, sd 2 over 6): DiD 0, interval around 0.
    rep = report(cohort(comp_change=[1, 3, 5, 7, 4, 4]))
    line = next(m for m in rep["messages"] if m.startswith("De vergelijkingsgroep"))
    assert "het verschil met de vergelijkingsgroep is niet duidelijk" in line
    assert "wijst op een effect" not in " ".join(rep["messages"])


# --------------------------------------------------------------------------- the caveat, both variants
@pytest.mark.parametrize("comparison", [True, False])
def test_caveat_in_html_and_excel(comparison):
    rep = report(cohort(comparison=comparison))
    html = evidence_to_html(rep)
    text = all_text(workbook(rep))
    for part in (CAVEAT, LITERATURE, SCREENING_NOTE):
        assert part in html and part in text
    if comparison:
        assert NOT_BY_LOT in html and NOT_BY_LOT in text
    else:
        assert NOT_BY_LOT not in html and NOT_BY_LOT not in text
        assert f"Er is geen vergelijkingsgroep. {CAVEAT}" in rep["messages"]
        assert "wijst op een effect" not in html


# --------------------------------------------------------------------------- small cells
def test_hidden_cell_shows_minder_dan_5_and_no_mean():
    rep = report()
    html = evidence_to_html(rep)
    t2 = rep["changes"].loc[rep["changes"]["Momenten"] == "T0 → T2"].iloc[0]
    assert t2["Gemeten op beide"] == "minder dan 5"
    assert t2["Gemiddelde verandering"] == "" and t2["95%-interval"] == ""
    assert rep["counts"].iloc[0]["T2"] == "minder dan 5"
    assert "10,0" not in html  # the mean change of the three (10, 8, 12) is nowhere
    book = workbook(rep)
    results = sheet_records(book, "Resultaten")
    hidden = next(r for r in results if r["Naar"] == "T2")
    assert hidden["Gemeten op beide momenten"] is None and hidden["Gemiddelde verandering"] is None
    assert hidden["Respons"] is None
    assert "minder dan 5" in hidden["Verborgen"]
    moments = sheet_records(book, "Per moment")[0]
    assert moments["T0"] == 8 and moments["T2"] is None and "minder dan 5" in moments["Verborgen"]


def test_protected_report_hides_published_zeros_and_small_shares():
    rep = report(protected=True)
    assert count_text(0, protected=True) == "minder dan 5" and count_text(0, protected=False) == "0"
    t2 = rep["changes"].loc[rep["changes"]["Momenten"] == "T0 → T2"].iloc[0]
    assert t2["Gemeten op beide"] == "minder dan 5"  # published as 0 by the cell-key method
    # The comparison group has no one at T2: a published 0 cannot be told from 1-4, so it is hidden too.
    comp_t2 = rep["comparison"].loc[rep["comparison"]["Momenten"] == "T0 → T2"].iloc[0]
    assert comp_t2["Vergelijkingsgroep gemeten"] == "minder dan 5"
    # T0 -> T1: 6 of 8 improved and 2 unchanged: a count of 2, so no shares at all.
    t1 = rep["changes"].iloc[0]
    assert t1["Verbeterd"] == t1["Onveranderd"] == t1["Verslechterd"] == ""
    assert "aandelen verborgen" in t1["Toelichting"]
    # The mean is from the true data, so the same as unprotected.
    assert t1["Gemiddelde verandering"] == "4,0"
    # Contact: 75% of 8 leaves 2 without contact: the share is left out.
    assert rep["contact"].iloc[0]["Nog contact met een andere deelnemer"] == ""
    html = evidence_to_html(rep)
    assert "75%" not in html and "25%" not in html


def test_unprotected_shares_by_reliable_change():
    # SD_0 over all 14 T0 scores; S_diff = sqrt(2) * SD_0 * sqrt(1 - 0.83); labelled from |RCI| > 1.96.
    sd0 = np.std(PART_T0 + COMP_T0, ddof=1)
    s_diff = math.sqrt(2) * sd0 * math.sqrt(1 - RELIABILITY["lsns6"])
    improved = sum(d / s_diff > 1.96 for d in PART_CHANGE) / 8
    t1 = report()["changes"].iloc[0]
    assert t1["Verbeterd"] == f"{round(improved * 100)}%"
    assert improved not in (0, 1)  # the cohort has both labels, so the test can fail


# --------------------------------------------------------------------------- safety of the output
def test_provision_name_is_escaped():
    html = evidence_to_html(report())
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_no_person_id_anywhere():
    for protected in (False, True):
        rep = report(protected=protected)
        html = evidence_to_html(rep)
        text = all_text(workbook(rep))
        assert "KLANTX" not in html and "KLANTX" not in text


def test_excel_cells_are_numbers_with_formats_and_no_none_text():
    book = workbook(report())
    ws = book["Resultaten"]
    header = [c.value for c in ws[1]]
    cells = dict(zip(header, ws[2], strict=True))
    for column in ("Deelnemers op eerste moment", "Gemeten op beide momenten", "Gemiddelde verandering",
                   "Ondergrens 95%-interval", "Respons", "Aandeel verbeterd"):
        assert cells[column].data_type == "n", column
    assert cells["Gemeten op beide momenten"].number_format == "#,##0"
    assert isinstance(cells["Gemeten op beide momenten"].value, int)
    assert cells["Gemiddelde verandering"].number_format == "#,##0.00"
    assert cells["Respons"].number_format == "0%" and cells["Respons"].value == pytest.approx(1.0)
    ends = sheet_records(book, "Voorzieningen")
    assert ends[0]["Financiering tot"] == pd.Timestamp("2025-06-30").to_pydatetime()
    assert book["Voorzieningen"]["E2"].number_format == "dd-mm-yyyy"
    text = all_text(book)
    assert "None" not in text and "nan" not in text.lower().split()
    assert "Toelichting" in book.sheetnames
    explained = {r["Kolom"] for r in sheet_records(book, "Toelichting")}
    assert set(sheet_records(book, "Resultaten")[0]) <= explained


def test_pdf_renders():
    problem = pdf_problem()
    if problem and not in_ci():
        pytest.skip(problem)
    pdf = evidence_to_pdf(report())
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000


# --------------------------------------------------------------------------- provision, type, empty
def test_status_and_funding_next_to_the_figures():
    rep = report()
    shown = rep["provisions"].iloc[0]
    assert shown["Status"] == "actief" and shown["Financiering"] == "gemeente (subsidie)"
    assert shown["Financiering tot"] == "30 juni 2025"
    # 30 June 2025 is within 12 months of 1 December 2024: a key message.
    assert any("loopt af op 30 juni 2025" in m for m in rep["messages"])
    later = build_evidence_report(summaries(cohort()), contact(), provisions(), None, scope="EV1", protected=False,
                                  generated=pd.Timestamp("2023-01-01"))  # 30 June 2025 is 18 months away
    assert not any("financiering" in m.lower() for m in later["messages"])


def test_type_report_lists_each_provision():
    rep = build_evidence_report(summaries(cohort(), by="type"), contact(), provisions("Grip Noord"), None,
                                scope="grip_en_glans", scope_kind="type", protected=False, generated=GENERATED)
    assert rep["title"].endswith("Grip & Glans")
    assert rep["provisions"]["Voorziening"].tolist() == ["Grip & Glans Zuid", "Grip Noord"]
    assert rep["provisions"]["Financiering tot"].tolist() == ["31 december 2027", "30 juni 2025"]
    funding = [m for m in rep["messages"] if "financiering" in m.lower()]
    assert len(funding) == 1 and "Grip Noord" in funding[0] and "Zuid" not in funding[0]
    assert "4,0 punten" in rep["messages"][0]
    moments = dict(rep["moments"])
    assert moments["einde (T1)"].startswith("6 weken") and moments["follow-up 1 (T2)"].startswith("19 weken")


def test_empty_scope_says_so_instead_of_raising():
    rep = build_evidence_report({("T0", "T1"): change_summary(cohort(), before="T0", after="T1")}, contact(),
                                provisions(), None, scope="EV2", protected=True, generated=GENERATED)
    assert rep["empty"]
    expected = "Nog geen metingen voor Grip &amp; Glans Zuid: leg metingen vast op de pagina Opvolging."
    html = evidence_to_html(rep)
    assert expected in html and CAVEAT in html
    text = all_text(workbook(rep))
    assert "Nog geen metingen voor Grip & Glans Zuid" in text and CAVEAT in text
    rep = build_evidence_report({}, None, None, None, scope="X9", protected=False)
    assert rep["empty"] and "Nog geen metingen voor X9" in evidence_to_html(rep)


# --------------------------------------------------------------------------- change per person
def _person_long() -> pd.DataFrame:
    """A: LSNS 10 -> 20, DJG 6 -> 2; B: 12 -> 13, DJG 3 -> 5; C: 8 and DJG 4 at T0 only. Networks asked at every
    moment (network_size); A also takes part in P2."""
    out = []
    for pid, lsns, djg, moments in (("A", (10, 20), (6, 2), ("T0", "T1")), ("B", (12, 13), (3, 5), ("T0", "T1")),
                                    ("C", (8, None), (4, None), ("T0",))):
        for k, moment in enumerate(moments):
            out += [row(pid, "deelnemer", moment, lsns[k], days=42 * k),
                    row(pid, "deelnemer", moment, djg[k], measure="djg", days=42 * k),
                    row(pid, "deelnemer", moment, 0, measure="network_size", days=42 * k)]
    out += [row("A", "deelnemer", m, 0, measure="network_size", provision="P2", days=42 * k)
            for k, m in enumerate(("T0", "T1"))]
    return pd.DataFrame(out).assign(provision_id=lambda f: f["provision_id"].where(f["provision_id"] != "EV1", "P1"))


def _tie(moment, key, *, freq="wekelijks", from_group=False, provision="P1", pid="A", role="vriend"):
    return {"person_id": pid, "provision_id": provision, "moment": moment, "alter_key": key, "alter_id": None,
            "role": role, "support_practical": 1, "support_emotional": 0, "support_informational": 0,
            "support_companionship": 0, "contact_frequency": freq, "closeness": 3, "from_group": from_group}


def _person_ties() -> pd.DataFrame:
    # A in P1: k1, k2 kept; c1 changed (contact less often); l1 lost; n1, n2 new, n2 named as from the group.
    t0 = [_tie("T0", "k1"), _tie("T0", "k2", from_group=True), _tie("T0", "c1"), _tie("T0", "l1")]
    t1 = [_tie("T1", "k1"), _tie("T1", "k2"), _tie("T1", "c1", freq="maandelijks"), _tie("T1", "n1"),
          _tie("T1", "n2", from_group=True)]
    # A in P2: one alter at T0, gone at T1 (must not mix with P1). B: no one at T0, nobody at T1 either.
    other = [_tie("T0", "k1", provision="P2")]
    return pd.DataFrame(t0 + t1 + other)


def test_person_changes_counts_ties_per_person_and_provision():
    out = person_changes(_person_long(), _person_ties()).set_index(["person_id", "provision_id"])
    a = out.loc[("A", "P1")]
    assert (a["kept"], a["changed"], a["lost"], a["new"]) == (2, 1, 1, 2)
    assert a["group_ties_after"] == 1  # k2's mark at T0 does not count: the question is asked at T1
    a2 = out.loc[("A", "P2")]
    assert (a2["kept"], a2["lost"], a2["new"]) == (0, 1, 0)
    b = out.loc[("B", "P1")]
    assert (b["kept"], b["changed"], b["lost"], b["new"], b["group_ties_after"]) == (0, 0, 0, 0, 0)
    c = out.loc[("C", "P1")]
    assert pd.isna(c["kept"]) and pd.isna(c["group_ties_after"])  # no follow-up: unknown, not 0
    assert str(out["kept"].dtype) == "Int64"


def test_person_changes_scores_and_reliable_change():
    out = person_changes(_person_long(), _person_ties()).set_index(["person_id", "provision_id"])
    a, b, c = out.loc[("A", "P1")], out.loc[("B", "P1")], out.loc[("C", "P1")]
    assert (a["lsns6_before"], a["lsns6_after"], a["lsns6_change"]) == (10, 20, 10)
    assert (b["djg_before"], b["djg_after"], b["djg_change"]) == (3, 5, 2)
    assert c["lsns6_before"] == 8 and np.isnan(c["lsns6_after"]) and pd.isna(c["lsns6_rci_label"])
    # LSNS-6: SD_0 of 10, 12, 8 is 2; S_diff = sqrt(2)·2·sqrt(0.17) = 1.1662: A 10/1.17 = 8.6 improved,
    # B 1/1.17 = 0.86 unchanged.
    s_diff = math.sqrt(2) * 2 * math.sqrt(1 - RELIABILITY["lsns6"])
    assert a["lsns6_rci"] == pytest.approx(10 / s_diff)
    assert (a["lsns6_rci_label"], b["lsns6_rci_label"]) == (IMPROVED, UNCHANGED)
    # DJG: SD_0 of 6, 3, 4 = sqrt(7/3); S_diff = sqrt(2)·1.5275·sqrt(0.2) = 0.966: A -4 -> -4.1 (lower is
    # better: improved), B +2 -> 2.07 (worse).
    s_diff = math.sqrt(2) * math.sqrt(7 / 3) * math.sqrt(1 - RELIABILITY["djg"])
    assert b["djg_rci"] == pytest.approx(2 / s_diff) and 2 / s_diff > 1.96
    assert (a["djg_rci_label"], b["djg_rci_label"]) == (IMPROVED, WORSE)
    assert a["measured_on_after"] == T0_DATE + pd.Timedelta(days=42)
    assert "network_size_rci_label" in out and out["network_size_rci_label"].isna().all()  # no reliability


def test_person_changes_from_store_rows():
    """measurements_long on store-shaped rows, then person_changes: the same scores as the items give."""
    items = {f"lsns_{i}": [2, 4] for i in range(1, 7)}  # 12 then 24
    measurements = pd.DataFrame({"person_id": ["Q1", "Q1"], "provision_id": ["P1", "P1"],
                                 "study_group": ["deelnemer"] * 2, "moment": ["T0", "T1"],
                                 "measured_on": ["2024-01-08", "2024-02-19"], **items,
                                 **{f"djg_{i}": [None, None] for i in range(1, 12)},
                                 "network_recorded": [1, 1]})
    ties = pd.DataFrame([_tie("T0", "x", pid="Q1"), _tie("T1", "x", pid="Q1"), _tie("T1", "y", pid="Q1")])
    out = person_changes(measurements_long(measurements, ties), ties).iloc[0]
    assert (out["lsns6_before"], out["lsns6_after"], out["network_size_before"], out["network_size_after"]) == \
        (12, 24, 1, 2)
    assert (out["kept"], out["new"], out["lost"]) == (1, 1, 0)


# --------------------------------------------------------------------------- through the store (not the demo)
def _items(total: int) -> dict:
    return {f"lsns_{k + 1}": int(min(5, max(0, total - 5 * k))) for k in range(6)}


def test_report_from_a_municipality_store(town_store):
    store = town_store
    persons = store.read_table("persons")["person_id"].astype(str).tolist()
    measured = set(store.read_table("measurements")["provision_id"].astype(str))
    provs = store.read_table("provisions")
    free = provs.loc[~provs["provision_id"].astype(str).isin(measured)]
    if len(persons) < 14 or free.empty:
        pytest.skip("de gemeente-opslag heeft te weinig personen of geen voorziening zonder metingen")
    pid = str(free["provision_id"].iloc[0])
    rows = []
    for i, (t0, d) in enumerate(zip(PART_T0, PART_CHANGE, strict=True)):
        rows += [{"person_id": persons[i], "provision_id": pid, "study_group": "deelnemer", "moment": "T0",
                  "measured_on": "2024-01-08", **_items(t0)},
                 {"person_id": persons[i], "provision_id": pid, "study_group": "deelnemer", "moment": "T1",
                  "measured_on": "2024-02-19", **_items(t0 + d)}]
    store.merge_measurements(pd.DataFrame(rows), user="test")
    for user, protected in ((User("beheer", "beheerder"), False), (User("beleid", "gemeente"), True)):
        scoped = ScopedStore(store, user)
        pairs = {("T0", "T1"): scoped.outcome_summary(before="T0", after="T1")}
        rep = build_evidence_report(pairs, scoped.group_contact_summary(), scoped.read_table("provisions"),
                                    store.read_provision_types(), scope=pid, protected=protected,
                                    generated=GENERATED)
        assert not rep["empty"]
        assert rep["changes"].iloc[0]["Gemiddelde verandering"] == "4,0"
        assert rep["changes"].iloc[0]["95%-interval"] == "2,3 tot 5,7"
        assert f"Er is geen vergelijkingsgroep. {CAVEAT}" in rep["messages"]
        html, text = evidence_to_html(rep), all_text(workbook(rep))
        assert not any(p in html or p in text for p in persons[:8])


def test_person_changes_without_measurements_is_empty_not_an_error():
    out = person_changes(measurements_long(None), None)
    assert out.empty and {"person_id", "kept", "group_ties_after"} <= set(out.columns)


def test_a_decrease_is_said_as_one_and_zero_has_no_sign():
    # De Jong Gierveld 11 for the same 8 participants: 6 at T0, then 6 - change (changes 1..7, 4: mean -4).
    djg = [row(person(i, "deelnemer"), "deelnemer", m, 6 if m == "T0" else 6 - d, measure="djg",
               days=0 if m == "T0" else 42) for i, d in enumerate(PART_CHANGE) for m in ("T0", "T1")]
    rep = report(pd.concat([cohort(), pd.DataFrame(djg)], ignore_index=True))
    line = next(m for m in rep["messages"] if m.startswith("De eenzaamheidsscore"))
    # Mean -4, interval -5,7 to -2,3 (the LSNS-6 interval mirrored): said as a decrease of 2,3 to 5,7.
    assert "daalde tussen intake (T0) en einde (T1) gemiddeld 4,0 punten (95%-interval: een daling van 2,3 tot 5,7)" \
        in line and "een lagere score is minder eenzaam" in line
    assert _interval(-0.04, 3.0) == "0,0 tot 3,0" and _interval(-0.06, 3.0) == "-0,1 tot 3,0"


def test_a_pair_nobody_was_measured_at_is_left_out_when_counts_are_exact():
    long = cohort()
    pairs = {("T0", a): change_summary(long, before="T0", after=a) for a in ("T1", "T2", "T3")}
    rep = build_evidence_report(pairs, None, provisions(), None, scope="EV1", protected=False, generated=GENERATED)
    assert rep["pairs"] == ["T0 → T1", "T0 → T2"] and "T3" not in rep["response"][0]
    # Protected, a published 0 may be 1 to 4 persons: the pair stays, shown as 'minder dan 5'.
    protected = {p: protect_summary(s, long, before=p[0], after=p[1], secret=SECRET) for p, s in pairs.items()}
    rep = build_evidence_report(protected, None, provisions(), None, scope="EV1", protected=True, generated=GENERATED)
    assert rep["pairs"][-1] == "T0 → T3" and "minder dan 5 op T3" in rep["response"][0]

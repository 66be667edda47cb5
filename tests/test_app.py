"""Every page runs in Streamlit's AppTest without exceptions and shows what it should."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.store import GeoPackageStore

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_tab(at: AppTest, label: str, key: str = "nw_tabs") -> AppTest:
    """Open one tab of a page whose tabs run lazily (only the open tab's content is computed and logged)."""
    at.session_state[key] = label
    at.run()
    assert not at.exception, at.exception
    return at


def test_kaart_is_the_default_page(app):
    assert app.title[0].value == "Kaart"
    labels = [s.label for s in app.selectbox]
    assert "Kerncijfer" in labels and "Gekozen gebied" in labels
    assert any("Klik op een gebied" in i.value for i in app.info)


def test_choosing_a_buurt_shows_its_figures(app):
    gebied = next(s for s in app.selectbox if s.label == "Gekozen gebied")
    gebied.set_value("BU99990101").run()
    assert not app.exception
    assert app.subheader[0].value == "Rozenhof"
    table = app.table[0].value
    assert list(table.columns) == ["Rozenhof", "Kanaalzone", "Voorbeeldstad"]
    assert any("Valt op" in m.value for m in app.markdown)
    inhabitants = table.loc["Aantal inwoners"]
    assert all(v.replace(".", "").isdigit() for v in inhabitants)


def test_uninhabited_buurt_shows_geen_inwoners(app):
    gebied = next(s for s in app.selectbox if s.label == "Gekozen gebied")
    gebied.set_value("BU99990504").run()  # the lake: no inhabitants, its rates secret in the file
    table = app.table[0].value
    assert table.loc["Aantal inwoners", "Voorbeeldmeer"] == "0"
    assert table.loc["Verweduwd", "Voorbeeldmeer"] == "geen inwoners"
    assert table.loc["Eenpersoonshuishoudens", "Voorbeeldmeer"] == "geen inwoners"


def test_wijk_level_and_other_indicator(app):
    app.radio(key="kaart_niveau").set_value("wijk").run()
    assert not app.exception
    app.selectbox(key="kaart_kerncijfer").set_value("percentage_verweduwd").run()
    assert not app.exception
    gebied = next(s for s in app.selectbox if s.label == "Gekozen gebied")
    assert len(gebied.options) == 6


@pytest.mark.parametrize("page", ["pages/kaart.py", "pages/profiel.py", "pages/netwerken.py", "pages/tekorten.py",
                                  "pages/voorzieningen.py",
                                  "pages/beheer.py",
                                  "pages/over.py"])
def test_every_page_runs(app, page):
    app.switch_page(page).run()
    assert not app.exception, app.exception


def test_over_page_shows_counts(app):
    app.switch_page("pages/over.py").run()
    values = {m.label: m.value for m in app.metric}
    assert values["Personen (pseudoniem)"] == "2.000"
    assert values["Voorzieningen"] == "40"


def test_broken_store_shows_a_dutch_error(tmp_path, monkeypatch):
    bad = tmp_path / "kapot.gpkg"
    bad.write_text("geen database")
    monkeypatch.setenv("STEUNKAART_STORE", str(bad))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("geen GeoPackage" in e.value for e in at.error)


def test_broken_store_blocks_every_page(tmp_path, monkeypatch):
    bad = tmp_path / "kapot.gpkg"
    bad.write_text("geen database")
    monkeypatch.setenv("STEUNKAART_STORE", str(bad))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/over.py").run()
    assert not at.exception
    assert any("geen GeoPackage" in e.value for e in at.error)
    assert bad.read_text() == "geen database"


def test_first_run_without_own_store_creates_the_demo_in_its_own_file(tmp_path, monkeypatch):
    path = tmp_path / "nieuw" / "demo.gpkg"
    monkeypatch.delenv("STEUNKAART_STORE", raising=False)
    monkeypatch.setenv("STEUNKAART_DEMO_STORE", str(path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    assert path.exists() and GeoPackageStore.open(path, create=False).is_demo
    assert next(s for s in at.selectbox if s.label == "Gekozen gebied").options
    assert not list(path.parent.glob(".steunkaart-*"))  # built aside and moved into place


def test_first_run_with_own_store_creates_an_empty_store_not_the_demo(tmp_path, monkeypatch):
    path = tmp_path / "gemeente" / "eigen.gpkg"
    monkeypatch.setenv("STEUNKAART_STORE", str(path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    store = GeoPackageStore.open(path, create=False)
    assert not store.is_demo and store.counts()["areas"] == 0
    assert at.subheader[0].value == "Eerste gebruik: maak de beheerder aan"


def test_a_click_does_not_rebuild_the_map(app, monkeypatch):
    import mapping.choropleth as choropleth

    calls = []
    original = choropleth.choropleth_map
    monkeypatch.setattr(choropleth, "choropleth_map", lambda *a, **k: calls.append(1) or original(*a, **k))
    app.selectbox(key="kaart_kerncijfer").set_value("percentage_verweduwd").run()
    assert len(calls) == 1  # a new indicator builds a new map ...
    for code in ("BU99990101", "BU99990000", "BU99990203"):
        next(s for s in app.selectbox if s.label == "Gekozen gebied").set_value(code).run()
    assert len(calls) == 1  # ... choosing areas re-uses it
    assert app.subheader[0].value == "Laakse Velden"


def test_profile_page(app):
    app.session_state["profiel_gebied"] = "BU99990101"
    app.switch_page("pages/profiel.py").run()
    assert not app.exception
    assert app.header[0].value == "Rozenhof"
    summary = " ".join(m.value for m in app.markdown)
    assert "Valt op" in summary and "sociaal minimum" in summary
    frame = app.dataframe[0].value
    assert list(frame.columns[:4]) == ["Kerncijfer", "Rozenhof", "Kanaalzone", "Voorbeeldstad"]
    assert "Afwijking" in frame.columns
    assert "Actief binnen bereik" in app.dataframe[1].value.columns
    near = app.dataframe[2].value
    assert "Ontmoetingsplek Rozenhof" in set(near["Naam"])
    assert near.iloc[0]["Afstand"] == "in het gebied"
    labels = [b.label for b in app.get("download_button")]
    from reports import pdf_problem

    assert labels[:2] == ["Profiel als Excel", "Profiel als printbare HTML"]
    assert ("Profiel als PDF" in labels) == (pdf_problem() is None)


def test_profile_comparison(app):
    app.session_state["profiel_gebied"] = "BU99990101"
    app.switch_page("pages/profiel.py").run()
    app.multiselect(key="profiel_vergelijk").set_value(["BU99990201", "WK999903"]).run()
    assert not app.exception
    table = app.dataframe[-1].value
    assert list(table.columns) == ["Kerncijfer", "Rozenhof (BU99990101)", "Waterrijk (BU99990201)",
                                   "Noorderhout (WK999903)"]


def _voorzieningen(app):
    app.switch_page("pages/voorzieningen.py").run()
    assert not app.exception
    return app


def test_provisions_page_filters(app):
    _voorzieningen(app)
    assert len(app.dataframe[0].value) == 40
    app.multiselect(key="vz_status").set_value(["gestopt"]).run()
    table = app.dataframe[0].value
    assert set(table["Status"]) == {"gestopt"} and len(table) == 3
    assert any("**3** van 40" in m.value for m in app.markdown)


def _name_field(app):
    return next(t for t in app.text_input if t.label == "Naam" and t.value)


def test_edit_and_conflict_on_the_provisions_page(app, demo_store):
    _voorzieningen(app)
    app.selectbox(key="vz_kies").set_value("V007").run()
    _name_field(app).set_value("Nieuwe naam")
    next(b for b in app.button if b.label == "Opslaan").click().run()
    assert not app.exception
    assert demo_store.read_table("provisions").set_index("provision_id").loc["V007", "name"] == "Nieuwe naam"
    # Someone else saves in between: this user's next save must be refused, not overwrite.
    app.selectbox(key="vz_kies").set_value("V008").run()
    demo_store.update_provision("V008", {"name": "Door collega"}, expected_version=1, user="collega")
    _name_field(app).set_value("Mijn versie")
    next(b for b in app.button if b.label == "Opslaan").click().run()
    assert any("intussen door iemand anders gewijzigd" in e.value for e in app.error)
    assert demo_store.read_table("provisions").set_index("provision_id").loc["V008", "name"] == "Door collega"


def test_network_page(app):
    app.switch_page("pages/netwerken.py").run()
    assert not app.exception
    assert any("geen diagnose" in i.value for i in app.info)
    signals = app.dataframe[0].value
    assert 800 < len(signals) < 1400 and signals["Redenen"].str.len().gt(0).all()
    app.selectbox(key="nw_reden").set_value("geen vragenlijst").run()
    assert app.dataframe[0].value["Redenen"].str.contains("alleen op netwerkgegevens").all()
    open_tab(app, "Ecogram")
    person = app.selectbox(key="nw_persoon").options[0]
    app.selectbox(key="nw_persoon").set_value(person).run()
    assert not app.exception
    assert any(m.label == "Netwerkgrootte" for m in app.metric)


def test_network_entry_form_grows_the_ecogram(app, demo_store):
    app.switch_page("pages/netwerken.py").run()
    open_tab(app, "Netwerk vastleggen")
    app.text_input(key="nv_code").set_value("K-0142").run()
    app.selectbox(key="nv_buurt").set_value("BU99990101")
    app.checkbox(key="nv_toestemming").check().run()  # nothing is saved without consent (tests/test_network_form.py)
    for _ in range(2):
        next(c for c in app.checkbox if c.label == "emotionele steun").check()
        next(b for b in app.button if b.label == "Toevoegen").click().run()
        assert not app.exception
    ties = demo_store.read_table("ties").query("ego_id == 'K-0142'")
    assert ties["alter_key"].tolist() == ["a1", "a2"] and ties["support_emotional"].all()
    assert demo_store.read_table("persons").query("person_id == 'K-0142'")["buurt_code"].notna().all()
    assert demo_store.read_audit().iloc[0]["action"] == "invoer-netwerk"
    batches = demo_store.read_batches()  # the form may be tried on the demo; each entry can be undone
    assert batches["kind"].tolist() == ["netwerk-invoer", "netwerk-invoer"]


def test_network_entry_form_refuses_a_name(app, demo_store):
    app.switch_page("pages/netwerken.py").run()
    open_tab(app, "Netwerk vastleggen")
    app.text_input(key="nv_code").set_value("Jan Jansen").run()
    next(b for b in app.button if b.label == "Toevoegen").click().run()
    assert any("ondoorzichtige code" in e.value for e in app.error)
    assert demo_store.read_table("ties").query("ego_id == 'Jan Jansen'").empty


def test_signal_rules_are_configurable(app):
    app.switch_page("pages/netwerken.py").run()
    before = len(app.dataframe[0].value)
    app.checkbox(key="regel_emotioneel").uncheck().run()
    app.checkbox(key="regel_informeel").uncheck().run()
    only_lsns = app.dataframe[0].value
    assert len(only_lsns) < before
    assert only_lsns["Redenen"].str.startswith("LSNS-6").all()
    assert any("LSNS-6 lager dan 12" in c.value for c in app.caption)


def _metric(app, label):
    return int(next(m for m in app.metric if m.label == label).value.replace(".", ""))


def test_gap_page_scenario(app):
    """Switching the running visiting services off raises the gap; saved scenarios come back in the comparison."""
    app.switch_page("pages/tekorten.py").run()
    assert not app.exception
    app.selectbox(key="tk_soort").set_value("bezoekdienst_weduwen").run()
    assert _metric(app, "Tekort in scenario") == _metric(app, "Tekort nu (personen)")
    visiting = [p for p in app.multiselect(key="tk_uit").options if "Bezoekdienst weduwen" in p]
    assert len(visiting) == 2  # V002 (under pressure) and V003; V001 has stopped and is not offered
    app.multiselect(key="tk_uit").set_value(["V002", "V003"]).run()
    assert not app.exception
    assert _metric(app, "Tekort in scenario") > _metric(app, "Tekort nu (personen)")
    assert any("verliezen een bezoekdienst" in m.value for m in app.markdown)
    table = app.dataframe[0].value
    assert (table["Bereik"] == "verloren").any()
    app.text_input(key="tk_naam").set_value("Alle bezoekdiensten stoppen").run()
    next(b for b in app.button if b.label == "Scenario bewaren").click().run()
    assert not app.exception
    assert any("is bewaard" in s.value for s in app.success)
    compared = app.dataframe[-1].value
    assert compared["Scenario"].tolist() == ["Alle bezoekdiensten stoppen"]
    assert int(compared["Verschil"].iloc[0].replace(".", "")) > 0


def test_gap_page_hypothetical_provision(app, demo_store):
    """A click on the scenario map (its RD position) offers a form; the new provision shrinks the gap."""
    app.switch_page("pages/tekorten.py").run()
    app.selectbox(key="tk_soort").set_value("bezoekdienst_weduwen").run()
    before = _metric(app, "Tekort nu (personen)")
    centre = demo_store.outline().centroid
    app.session_state["tk_klik"] = (round(centre.x), round(centre.y))
    app.run()
    next(b for b in app.button if b.label == "Toevoegen aan scenario").click().run()
    assert not app.exception
    assert _metric(app, "Tekort in scenario") < before
    assert any("Nieuw:" in m.value for m in app.markdown)


def test_network_page_matching_tab(app):
    app.switch_page("pages/netwerken.py").run()
    open_tab(app, "Koppelen")
    wanted = ("Personen met een signaal", "Kunnen een plek krijgen", "Zonder passende optie")
    values = {m.label: int(m.value.replace(".", "")) for m in app.metric if m.label in wanted}
    assert values["Kunnen een plek krijgen"] + values["Zonder passende optie"] == values["Personen met een signaal"] > 0
    per_provision = next(d.value for d in app.dataframe if "Voorgesteld" in d.value.columns)
    assert per_provision["Voorgesteld"].map(lambda v: int(v.replace(".", ""))).sum() == values["Kunnen een plek krijgen"]

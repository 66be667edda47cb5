"""Editing provisions on the Voorzieningen page (issue 13, part 5) and their addresses (part 2).

Regression tests for the editing defects: an empty Notities field showed and saved 'nan'; after
'Opnieuw laden' the form jumped to another provision and the next save changed *that* one;
'Opgeslagen.' was never visible. Each runs on the demo (the ``app`` fixture) and on a municipality's
own store (``town_store``, signed in as an opbouwwerker).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from pyproj import Transformer
from streamlit.testing.v1 import AppTest

from data import auth
from data.addresses import address_lines, normalise_postcode, normalise_postcodes
from data.auth import User
from data.errors import DataValidationError
from data.provision_form import form_values, provision_changes
from data.store import GeoPackageStore

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "correct horse battery"


@pytest.fixture(params=["demo", "gemeente"])
def page(request, monkeypatch):
    """(AppTest on the Voorzieningen page, its store): the demo, or a municipality's own store."""
    if request.param == "demo":
        store, at = request.getfixturevalue("demo_store"), request.getfixturevalue("app")
    else:
        store = request.getfixturevalue("town_store")
        auth.create_user(store, "beheer", "beheerder", (), PASSWORD, by="test")
        auth.create_user(store, "opbouw", "opbouwwerker", (), PASSWORD, by="test")
        monkeypatch.setenv("STEUNKAART_STORE", str(store.path))
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["sk_user"] = User("opbouw", "opbouwwerker")
        at.run()
    at.switch_page("pages/voorzieningen.py").run()
    assert not at.exception, at.exception
    return at, store


def _tab(at):
    return next(t for t in at.tabs if t.label == "Bewerken of verwijderen")


def _field(at, label, kind="text_input"):
    return next(w for w in getattr(_tab(at), kind) if w.label == label)


def _click(at, label):
    next(b for b in _tab(at).button if b.label == label).click().run()
    assert not at.exception, at.exception


def _choose(at, pid):
    at.selectbox(key="vz_kies").set_value(pid).run()
    assert not at.exception, at.exception


def _rows(store) -> pd.DataFrame:
    return store.read_table("provisions").set_index("provision_id")


def _edited(store) -> list[str]:
    """The provisions changed by hand, oldest first (audit targets)."""
    audit = store.read_audit().iloc[::-1]
    return audit.loc[audit["action"] == "wijzig-voorziening", "target"].tolist()


def _file_hash(path: Path) -> str:
    """The store as it is on disk, the write-ahead log included (a commit lands there first)."""
    digest = hashlib.sha256(Path(path).read_bytes())
    wal = Path(f"{path}-wal")
    if wal.exists():
        digest.update(wal.read_bytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------- (a) empty notes


def test_empty_notes_stay_empty_and_are_never_nan(page):
    at, store = page
    # One provision with notes makes the column text; the others are then NaN in pandas, which
    # `value or ""` let through as the text 'nan'.
    store.update_provision("V001", {"notes": "Vol tot de zomer"}, expected_version=1, user="test")
    at.run()
    _choose(at, "V004")
    assert _field(at, "Notities", "text_area").value == ""
    _field(at, "Naam").set_value("Grip & Glans Kanaalzone-Oost")
    _click(at, "Opslaan")
    row = _rows(store).loc["V004"]
    assert pd.isna(row["notes"]) and row["name"] == "Grip & Glans Kanaalzone-Oost"
    assert _field(at, "Notities", "text_area").value == ""
    assert "nan" not in store.read_audit().iloc[0]["details"]
    assert _rows(store).loc["V001", "notes"] == "Vol tot de zomer"


def test_an_unknown_capacity_is_not_saved_as_zero(page):
    at, store = page
    store.update_provision("V006", {"capacity_per_year": None}, expected_version=1, user="test")
    at.run()
    _choose(at, "V006")
    assert _field(at, "Capaciteit per jaar", "number_input").value is None
    _field(at, "Organisatie").set_value("  Welzijn Centrum  ")
    _click(at, "Opslaan")
    row = _rows(store).loc["V006"]
    assert pd.isna(row["capacity_per_year"]) and row["organisation"] == "Welzijn Centrum"


# --------------------------------------------------------------------------- (b) reload keeps the provision


def _as_the_browser_shows(at, label: str) -> None:
    """Let the next run get the selectbox's value as the browser sends it: the label it showed last.

    AppTest sends the label of the current value under the current options, so it never sends a label
    that a rename made stale; the browser does, unless the page gives the widget its value again.
    """
    box = at.selectbox(key="vz_kies")
    if label not in box.options:
        box.options.append(label)
    box.set_value(label)


def test_reload_keeps_the_provision_and_the_next_save_changes_it(page):
    at, store = page
    before = _rows(store)
    _choose(at, "V005")
    old_label = f"{before.loc['V005', 'name']} (V005)"
    _field(at, "Naam").set_value("Grip & Glans Noorderhout (nieuw)")  # a rename changes the option's label
    _field(at, "Capaciteit per jaar", "number_input").set_value(40)
    _click(at, "Opslaan")
    assert at.selectbox(key="vz_kies").value == "V005"
    _as_the_browser_shows(at, old_label)
    _click(at, "Opnieuw laden")
    assert at.selectbox(key="vz_kies").value == "V005"
    assert _field(at, "Naam").value == "Grip & Glans Noorderhout (nieuw)"
    _field(at, "Capaciteit per jaar", "number_input").set_value(999)
    _click(at, "Opslaan")
    after = _rows(store)
    assert after.loc["V005", "capacity_per_year"] == 999 and after.loc["V005", "version"] == 3
    others = after.index != "V005"
    assert after.loc[others, "capacity_per_year"].equals(before.loc[others, "capacity_per_year"])
    assert after.loc[others, "version"].equals(before.loc[others, "version"])
    assert _edited(store) == ["V005", "V005"]
    assert at.selectbox(key="vz_kies").value == "V005"


def test_the_choice_survives_a_filter_that_drops_it(page):
    at, store = page
    at.multiselect(key="vz_status").set_value(["actief"]).run()
    pid = at.selectbox(key="vz_kies").options[2].rsplit("(", 1)[1].rstrip(")")
    _choose(at, pid)
    _field(at, "Status", "selectbox").set_value("onder_druk")
    _click(at, "Opslaan")
    assert at.selectbox(key="vz_kies").value == pid  # no longer in the filtered table, still being edited
    assert any("buiten de gekozen filters" in c.value for c in _tab(at).caption)
    _field(at, "Capaciteit per jaar", "number_input").set_value(12)
    _click(at, "Opslaan")
    assert _rows(store).loc[pid, "capacity_per_year"] == 12
    assert _edited(store) == [pid, pid]


def test_the_version_checked_is_the_one_shown(page):
    """Someone else saves meanwhile: the form keeps what the user started from, says so, and refuses the save."""
    at, store = page
    _choose(at, "V008")
    store.update_provision("V008", {"name": "Door collega"}, expected_version=1, user="collega")
    at.run()
    assert _field(at, "Naam").value == "Jongerenwerk De Weiden"
    assert any("intussen gewijzigd" in w.value for w in _tab(at).warning)
    _field(at, "Capaciteit per jaar", "number_input").set_value(5)
    _click(at, "Opslaan")
    assert any("intussen door iemand anders gewijzigd" in e.value for e in at.error)
    assert _rows(store).loc["V008", "name"] == "Door collega"
    _click(at, "Opnieuw laden")
    assert _field(at, "Naam").value == "Door collega" and not _tab(at).warning
    _field(at, "Capaciteit per jaar", "number_input").set_value(5)
    _click(at, "Opslaan")
    assert _rows(store).loc["V008", ["name", "capacity_per_year", "version"]].tolist() == ["Door collega", 5, 3]


# --------------------------------------------------------------------------- (c) the message after a save


def test_opgeslagen_is_shown_after_a_save(page):
    at, _store = page
    _choose(at, "V007")
    _field(at, "Naam").set_value("Grip & Glans De Horst-Zuid")
    _click(at, "Opslaan")
    assert [s.value for s in _tab(at).success] == ["Opgeslagen."]
    assert "Grip & Glans De Horst-Zuid" in set(at.dataframe[0].value["Naam"])  # the table shows the change
    at.run()
    assert not _tab(at).success  # shown once


# --------------------------------------------------------------------------- (d) stop before delete


def test_markeer_als_gestopt_keeps_the_provision(page):
    at, store = page
    before = _rows(store)
    participation = store.read_table("participation")
    _choose(at, "V004")
    buttons = [b.label for b in _tab(at).button]
    assert buttons.index("Markeer als gestopt") < buttons.index("Definitief verwijderen")
    assert next(b for b in _tab(at).button if b.label == "Definitief verwijderen").disabled
    assert any("blijft in de sociale kaart" in c.value for c in _tab(at).caption)
    _click(at, "Markeer als gestopt")
    after = _rows(store)
    assert after.loc["V004", "status"] == "gestopt"
    assert after.loc["V004", "version"] == before.loc["V004", "version"] + 1
    assert len(after) == len(before) and len(store.read_table("participation")) == len(participation)
    assert after.drop(index="V004").equals(before.drop(index="V004"))
    assert any("staat nu op gestopt" in s.value for s in _tab(at).success)
    assert at.selectbox(key="vz_kies").value == "V004"
    assert next(b for b in _tab(at).button if b.label == "Markeer als gestopt").disabled
    assert at.dataframe[0].value.set_index("id").loc["V004", "Status"] == "gestopt"


def test_definitive_delete_only_after_the_confirmation(page):
    at, store = page
    _choose(at, "V009")
    at.checkbox(key="vz_zeker_V009").check().run()
    _click(at, "Definitief verwijderen")
    assert "V009" not in _rows(store).index and len(_rows(store)) == 39
    assert any("definitief verwijderd" in s.value for s in _tab(at).success)
    assert at.selectbox(key="vz_kies").value != "V009"


# --------------------------------------------------------------------------- (e) addresses


def test_address_round_trip_in_the_edit_form(page):
    at, store = page
    _choose(at, "V010")
    for label, value in (("Straat", " Dorpsstraat "), ("Huisnummer", "12a"), ("Postcode", "1234ab"),
                         ("Plaats", "Voorbeeldstad")):
        _field(at, label).set_value(value)
    _click(at, "Opslaan")
    row = _rows(store).loc["V010"]
    assert row[["street", "house_number", "postcode", "city"]].tolist() == ["Dorpsstraat", "12a", "1234 AB",
                                                                            "Voorbeeldstad"]
    assert _field(at, "Postcode").value == "1234 AB" and _field(at, "Straat").value == "Dorpsstraat"
    table = at.dataframe[0].value.set_index("id")
    assert table.loc["V010", "Adres"] == "Dorpsstraat 12a, 1234 AB Voorbeeldstad"
    assert table.loc["V011", "Adres"] == ""


def test_a_bad_postcode_is_refused_in_dutch_and_nothing_changes(page):
    at, store = page
    _choose(at, "V010")
    before = _file_hash(store.path)
    _field(at, "Postcode").set_value("12345")
    _field(at, "Naam").set_value("Andere naam")
    _click(at, "Opslaan")
    assert any("'12345' is geen Nederlandse postcode" in e.value and "1234 AB" in e.value for e in at.error)
    assert not _tab(at).success
    assert _file_hash(store.path) == before
    assert _rows(store).loc["V010", "version"] == 1


def _inside(store) -> tuple[float, float]:
    point = store.outline().representative_point()
    lon, lat = Transformer.from_crs(28992, 4326, always_xy=True).transform(point.x, point.y)
    return round(lat, 6), round(lon, 6)


def _add_tab(at):
    return next(t for t in at.tabs if t.label == "Toevoegen")


def test_address_in_the_add_form(page):
    at, store = page
    lat, lon = _inside(store)
    tab = _add_tab(at)
    next(t for t in tab.text_input if t.label == "Naam").set_value("Taalcafé De Brug")
    at.number_input(key="vz_lat_in").set_value(lat)
    at.number_input(key="vz_lon_in").set_value(lon)
    for label, value in (("Straat", "Kerkplein"), ("Huisnummer", "3"), ("Postcode", "9999 zz"),
                         ("Plaats", "Voorbeeldstad")):
        next(t for t in tab.text_input if t.label == label).set_value(value)
    next(b for b in tab.button if b.label == "Toevoegen").click().run()
    assert not at.exception and not at.error
    new = _rows(store).loc["V041"]
    assert new[["name", "street", "house_number", "postcode", "city"]].tolist() == [
        "Taalcafé De Brug", "Kerkplein", "3", "9999 ZZ", "Voorbeeldstad"]
    assert any("toegevoegd als V041" in s.value for s in _add_tab(at).success)
    assert at.dataframe[0].value.set_index("id").loc["V041", "Adres"] == "Kerkplein 3, 9999 ZZ Voorbeeldstad"


def test_a_bad_postcode_in_the_add_form_adds_nothing(page):
    at, store = page
    lat, lon = _inside(store)
    before = _file_hash(store.path)
    tab = _add_tab(at)
    next(t for t in tab.text_input if t.label == "Naam").set_value("Taalcafé De Brug")
    at.number_input(key="vz_lat_in").set_value(lat)
    at.number_input(key="vz_lon_in").set_value(lon)
    next(t for t in tab.text_input if t.label == "Postcode").set_value("AB 1234")
    next(b for b in tab.button if b.label == "Toevoegen").click().run()
    assert any("geen Nederlandse postcode" in e.value for e in at.error)
    assert _file_hash(store.path) == before and len(_rows(store)) == 40


def test_outside_the_loaded_areas_is_shown_in_the_table(page):
    at, store = page
    with store._transaction() as conn:  # as an open-data import marks a point outside the areas
        conn.execute("UPDATE provisions SET outside_areas = 1 WHERE provision_id = 'V012'")
    at.run()
    table = at.dataframe[0].value.set_index("id")
    assert table.loc["V012", "Status"].endswith("(buiten de geladen gebieden)")
    assert "buiten" not in table.loc["V013", "Status"]
    _choose(at, "V012")
    assert any("buiten de geladen gebieden" in c.value for c in _tab(at).caption)


# --------------------------------------------------------------------------- the pure parts


@pytest.mark.parametrize(("text", "expected"), [("1234ab", "1234 AB"), (" 1234 AB ", "1234 AB"),
                                                ("1234  aB", "1234 AB"), ("", None), (None, None)])
def test_postcode_is_normalised(text, expected):
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize("text", ["12345", "0123 AB", "1234 SS", "1234-AB", "AB 1234", "1234 ABC"])
def test_a_postcode_that_is_not_dutch_is_refused(text):
    with pytest.raises(DataValidationError, match="is geen Nederlandse postcode; schrijf vier cijfers en twee"):
        normalise_postcode(text)


def test_postcodes_of_a_column_are_checked_at_once():
    normalised, bad = normalise_postcodes(pd.Series(["1234ab", None, "", "12345", "9999 zz"]))
    assert normalised.tolist() == ["1234 AB", pd.NA, pd.NA, pd.NA, "9999 ZZ"]
    assert bad.tolist() == [False, False, False, True, False]


def test_address_lines_leave_missing_parts_out():
    frame = pd.DataFrame({"street": ["Dorpsstraat", None, "", None], "house_number": ["12a", "3", None, None],
                          "postcode": ["1234 AB", "1234 AB", None, None], "city": ["Plaats", "Stad", "Stad", None]})
    assert address_lines(frame).tolist() == ["Dorpsstraat 12a, 1234 AB Plaats", "3, 1234 AB Stad", "Stad", ""]
    assert address_lines(pd.DataFrame(index=[0])).tolist() == [""]  # provisions without address columns


def test_form_values_and_changes_never_make_nan():
    row = pd.Series({"provision_id": "V1", "version": 2, "type": "grip_en_glans", "status": "actief",
                     "name": "Groep", "organisation": float("nan"), "notes": float("nan"), "street": pd.NA,
                     "capacity_per_year": pd.NA, "reach_m": float("nan"), "funding_end": pd.NaT,
                     "last_verified": pd.Timestamp("2026-01-05"), "outside_areas": pd.NA})
    values = form_values(row)
    assert values["notes"] == values["organisation"] == values["street"] == values["city"] == ""
    assert values["capacity_per_year"] is None and values["reach_m"] is None and values["funding_end"] is None
    assert values["version"] == 2 and values["outside_areas"] is False
    changes = provision_changes({"name": " Groep ", "notes": "  ", "organisation": "", "postcode": "1234ab",
                                 "capacity_per_year": None, "funding_end": None})
    assert changes.pop("funding_end") is pd.NaT
    assert changes == {"name": "Groep", "notes": None, "organisation": None, "postcode": "1234 AB",
                       "capacity_per_year": None}
    with pytest.raises(DataValidationError, match="Geef de voorziening een naam"):
        provision_changes({"name": "   "})


# --------------------------------------------------------------------------- popups


def _address_map(demo, text: str) -> str:
    from mapping.choropleth import choropleth_map
    from tests.test_escaping import _areas

    prov = demo.provisions.iloc[:4].copy()
    for col in ("street", "house_number", "postcode", "city"):
        prov[col] = [text, None, None, None]
    prov["outside_areas"] = [True, False, False, False]
    areas, _ = _areas("Gewone naam")
    return choropleth_map(areas, "waarde", label="Waarde", provisions=prov).get_root().render()


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{7*7}}",
                                  "{% if x %}{# a", "Ruïne & Co «test»", "</script><script>alert(2)</script>"])
def test_the_address_in_popups_is_escaped(demo, text):
    from tests.test_escaping import BENIGN, _assert_same_page, _detail_texts

    page, benign = _address_map(demo, text), _address_map(demo, BENIGN)
    _assert_same_page(page, benign, text)
    popups = _detail_texts(page, "Popup")
    first = next(p for p in popups if f"Adres{text} {text}, {text} {text}Capaciteit" in p)
    assert "(buiten de geladen gebieden)" in first
    assert sum("buiten de geladen gebieden" in p for p in popups) == 1
    assert "49" not in first.replace(text, "")


def test_popup_shows_address_and_outside_status(demo):
    from tests.test_escaping import _detail_texts

    page = _address_map(demo, "Dorpsstraat")
    popups = _detail_texts(page, "Popup")
    assert any("AdresDorpsstraat Dorpsstraat, Dorpsstraat Dorpsstraat" in p for p in popups)
    tooltips = _detail_texts(page, "Tooltip")
    assert any(t.endswith("(buiten de geladen gebieden)") for t in tooltips)


# --------------------------------------------------------------------------- the real browser


@pytest.mark.browser
def test_rename_reload_and_save_in_the_browser(chromium, demo_store_file, tmp_path):
    """The browser sends the selectbox's label back: after a rename and 'Opnieuw laden' the form still
    shows the renamed provision, and the next save changes it (not the first one, as in the issue)."""
    from tests.browser import chromium_page, running_app, wait_until_idle

    path = tmp_path / "demo.gpkg"
    path.write_bytes(demo_store_file.read_bytes())
    store = GeoPackageStore(path)
    before = _rows(store)
    with running_app(path) as url, chromium_page(chromium) as page:
        page.goto(url)
        page.get_by_role("heading", name="Kaart", exact=True).wait_for(timeout=60_000)  # the app's navigation is up
        page.get_by_role("link", name="Voorzieningen").click()
        page.get_by_role("tab", name="Bewerken of verwijderen").wait_for(timeout=60_000)
        wait_until_idle(page)
        box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text("Voorziening", exact=True))
        box.click()
        page.keyboard.type("V005")
        page.keyboard.press("Enter")
        wait_until_idle(page)
        assert box.get_by_role("combobox").input_value() == f"{before.loc['V005', 'name']} (V005)"
        form = page.locator("[data-testid='stForm']").first
        assert form.get_by_label("Naam", exact=True).input_value() == before.loc["V005", "name"]
        form.get_by_label("Naam", exact=True).fill("Grip & Glans Noorderhout (nieuw)")
        form.get_by_label("Capaciteit per jaar").fill("40")
        form.get_by_role("button", name="Opslaan").click()
        page.get_by_text("Opgeslagen.", exact=True).wait_for(timeout=30_000)
        wait_until_idle(page)
        page.get_by_role("button", name="Opnieuw laden").click()
        wait_until_idle(page)
        form = page.locator("[data-testid='stForm']").first
        assert form.get_by_label("Naam", exact=True).input_value() == "Grip & Glans Noorderhout (nieuw)"
        assert box.get_by_role("combobox").input_value() == "Grip & Glans Noorderhout (nieuw) (V005)"
        form.get_by_label("Capaciteit per jaar").fill("999")
        form.get_by_role("button", name="Opslaan").click()
        page.get_by_text("Opgeslagen.", exact=True).wait_for(timeout=30_000)
        wait_until_idle(page)
    after = _rows(store)
    assert after.loc["V005", ["name", "capacity_per_year"]].tolist() == ["Grip & Glans Noorderhout (nieuw)", 999]
    assert after.drop(index="V005")["version"].eq(1).all()
    assert _edited(store) == ["V005", "V005"]

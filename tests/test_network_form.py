"""The conversation form (pages/network_form.py): consent, screening, alters and their links, stored values,
no name on screen; the demo keeps its demo mode; the form scores as an import of the template does."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data import auth
from data.access import refresh_user
from data.auth import DEMO_ADMIN
from data.network_import import read_network_files
from data.store import DemoStoreError, GeoPackageStore
from graphs.screening import DJG_ITEMS, LSNS_ITEMS, djg_scores, lsns6_scores
from pages.network_form import CODE_REFUSED, NO_CONSENT
from tests.test_app import APP, open_tab
from tests.test_escaping import _proto_strings

BUURT = "BU99990101"
DAY = dt.date(2026, 11, 3)
LSNS = [3, 1, 0, 2, 2, 1]
DJG11 = ["nee", "ja", "min of meer", "nee", "ja", "nee", "min of meer", "ja", "ja", "nee", "min of meer"]
DJG6 = {3: "ja", 4: "nee", 7: "min of meer", 8: "ja", 9: "nee", 10: "ja"}


def _form(app: AppTest) -> AppTest:
    app.switch_page("pages/netwerken.py").run()
    return open_tab(app, "Netwerk vastleggen")


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def _person(at: AppTest, code: str, *, buurt: str | None = BUURT, consent: bool = True) -> AppTest:
    at.text_input(key="nv_code").set_value(code).run()
    if buurt is not None:
        at.selectbox(key="nv_buurt").set_value(buurt)
    if consent:
        at.checkbox(key="nv_toestemming").check()
    return at.run()


def _add(at: AppTest, role: str = "vriend", *, knows: list[str] | None = None, emotional: bool = False) -> AppTest:
    next(s for s in at.selectbox if s.label == "Rol" and s.key is None).set_value(role)
    if emotional:
        next(c for c in at.checkbox if c.label == "emotionele steun" and c.key is None).check()
    if knows:
        next(m for m in at.multiselect if m.label.startswith("Kent ook") and m.key is None).set_value(knows)
    return _click(at, "Toevoegen")


def _everything_shown(at: AppTest) -> str:
    """Every string of the current run: texts, labels, captions, widget values and options."""
    return "\n".join(s for node in at._tree if getattr(node, "proto", None) is not None
                     for s in _proto_strings(node.proto))


def _row(store: GeoPackageStore, code: str) -> pd.Series:
    persons = store.read_table("persons")
    return persons.loc[persons["person_id"] == code].iloc[0]


# --------------------------------------------------------------------------- consent
def test_nothing_is_saved_without_consent_and_consent_is_dated(app, demo_store):
    at = _person(_form(app), "K-0142", consent=False)
    _add(at)
    assert any(NO_CONSENT in e.value for e in at.error)
    assert demo_store.read_table("persons").query("person_id == 'K-0142'").empty
    assert demo_store.read_table("ties").query("ego_id == 'K-0142'").empty
    at.date_input(key="nv_datum").set_value(DAY)
    at.checkbox(key="nv_toestemming").check().run()
    assert any("Toestemming gegeven op 03-11-2026" in c.value for c in at.caption)
    _add(at)
    row = _row(demo_store, "K-0142")
    assert row["consent"] == 1 and row["measured_on"] == pd.Timestamp(DAY) and row["buurt_code"] == BUURT
    assert demo_store.read_table("ties").query("ego_id == 'K-0142'")["alter_key"].tolist() == ["a1"]


def test_consent_is_asked_again_for_the_next_person(app):
    at = _person(_form(app), "K-0142")
    assert at.checkbox(key="nv_toestemming").value
    at.text_input(key="nv_code").set_value("K-0143").run()
    assert not at.checkbox(key="nv_toestemming").value
    assert at.selectbox(key="nv_buurt").value is None  # nothing of the previous person stays


# --------------------------------------------------------------------------- alters: change, remove, links
def test_an_alter_can_be_changed_and_removed(app, demo_store):
    at = _person(_form(app), "K-0142")
    _add(at, "vriend")
    _add(at, "buur", emotional=True)
    ties = demo_store.read_table("ties").query("ego_id == 'K-0142'")
    assert ties["role"].tolist() == ["vriend", "buur"] and ties["support_emotional"].tolist() == [False, True]

    at.selectbox(key="nv_kies_K-0142").set_value("a1").run()
    at.selectbox(key="nv_w_K-0142_a1_rol").set_value("familie")
    at.checkbox(key="nv_w_K-0142_a1_support_practical").check()
    at.select_slider(key="nv_w_K-0142_a1_nabijheid").set_value(3)
    _click(at, "Wijziging opslaan")
    ties = demo_store.read_table("ties").query("ego_id == 'K-0142'").set_index("alter_key")
    assert ties.loc["a1", "role"] == "familie" and ties.loc["a1", "support_practical"]
    assert ties.loc["a1", "closeness"] == 3 and ties.loc["a2", "role"] == "buur"
    assert any("wijziging is opgeslagen" in s.value for s in at.success)

    at.selectbox(key="nv_kies_K-0142").set_value("a2").run()
    _click(at, "Verwijderen")
    assert demo_store.read_table("ties").query("ego_id == 'K-0142'")["alter_key"].tolist() == ["a1"]
    assert demo_store.read_batches()["kind"].eq("netwerk-invoer").sum() == 4  # each save one undoable batch


def test_who_knows_whom_among_the_alters_is_stored(app, demo_store):
    at = _person(_form(app), "K-0142")
    _add(at, "partner")
    _add(at, "kind", knows=["a1"])
    _add(at, "vriend", knows=["a1", "a2"])
    links = demo_store.read_table("alter_links").query("ego_id == 'K-0142'")
    assert sorted(zip(links["source"], links["target"], strict=True)) == [("a1", "a2"), ("a1", "a3"), ("a2", "a3")]
    at.selectbox(key="nv_kies_K-0142").set_value("a3").run()
    assert at.multiselect(key="nv_w_K-0142_a3_kent").value == ["a1", "a2"]
    at.multiselect(key="nv_w_K-0142_a3_kent").set_value(["a2"])
    _click(at, "Wijziging opslaan")
    links = demo_store.read_table("alter_links").query("ego_id == 'K-0142'")
    assert sorted(zip(links["source"], links["target"], strict=True)) == [("a1", "a2"), ("a2", "a3")]
    at.selectbox(key="nv_kies_K-0142").set_value("a2").run()
    _click(at, "Verwijderen")  # a removed alter takes its links along
    links = demo_store.read_table("alter_links").query("ego_id == 'K-0142'")
    assert links.empty


# --------------------------------------------------------------------------- an existing person
def test_an_existing_person_shows_and_keeps_the_stored_buurt_age_and_answers(app, demo_store):
    persons = demo_store.read_table("persons")
    known = persons.loc[persons["age_band"].notna() & persons["lsns_1"].notna()
                        & persons["household_type"].notna()].iloc[[0, 1]]
    first, second = known.iloc[0], known.iloc[1]
    at = _form(app)
    other = next(c for c in at.selectbox(key="nv_buurt").options if first["buurt_code"] not in c)
    at.selectbox(key="nv_buurt").set_value(other[-11:-1]).run()  # something else chosen before the code
    at.text_input(key="nv_code").set_value(first["person_id"]).run()
    assert at.selectbox(key="nv_buurt").value == first["buurt_code"]
    assert at.selectbox(key="nv_leeftijd").value == first["age_band"]
    assert [at.radio(key=f"nv_{c}").value for c in LSNS_ITEMS] == [int(first[c]) for c in LSNS_ITEMS]
    assert any("staat al in de opslag" in c.value for c in at.caption)
    at.text_input(key="nv_code").set_value(second["person_id"]).run()
    assert at.selectbox(key="nv_buurt").value == second["buurt_code"]
    assert at.selectbox(key="nv_leeftijd").value == second["age_band"]

    at.checkbox(key="nv_toestemming").check().run()
    code = second["person_id"]  # noqa: F841 - read by the query strings below
    before = len(demo_store.read_table("ties").query("ego_id == @code"))
    _add(at, "buur")
    row = _row(demo_store, second["person_id"])
    for col in ("buurt_code", "age_band", "household_type", *LSNS_ITEMS, *DJG_ITEMS):
        assert (pd.isna(row[col]) and pd.isna(second[col])) or row[col] == second[col], col
    assert len(demo_store.read_table("ties").query("ego_id == @code")) == before + 1


def test_the_stored_values_come_back_after_another_tab(app, demo_store):
    persons = demo_store.read_table("persons")
    first = persons.loc[persons["age_band"].notna()].iloc[0]
    at = _form(app)
    at.text_input(key="nv_code").set_value(first["person_id"]).run()
    open_tab(at, "Signalen")  # the form's widgets are not drawn: Streamlit forgets their values
    open_tab(at, "Netwerk vastleggen")
    at.text_input(key="nv_code").set_value(first["person_id"]).run()
    assert at.selectbox(key="nv_buurt").value == first["buurt_code"]
    assert at.selectbox(key="nv_leeftijd").value == first["age_band"]


def test_nothing_of_one_person_goes_to_the_next_code(app, demo_store):
    persons = demo_store.read_table("persons")
    first = persons.loc[persons["age_band"].notna() & persons["lsns_1"].notna()].iloc[0]
    at = _form(app)
    at.text_input(key="nv_code").set_value(first["person_id"]).run()
    assert at.radio(key="nv_lsns_1").value == int(first["lsns_1"])
    at.text_input(key="nv_code").set_value("Jan Jansen").run()  # refused: the field and the answers are emptied
    at.text_input(key="nv_code").set_value("K-0900").run()
    assert at.selectbox(key="nv_buurt").value is None and at.radio(key="nv_lsns_1").value is None
    at.text_input(key="nv_code").set_value(first["person_id"]).run()
    at.text_input(key="nv_code").set_value("").run()  # emptied by hand: the form starts anew
    at.text_input(key="nv_code").set_value("K-0901").run()
    assert at.selectbox(key="nv_leeftijd").value is None and at.radio(key="nv_lsns_1").value is None


# --------------------------------------------------------------------------- no name on screen
@pytest.mark.parametrize("typed", ["Jan Jansen", "jan.jansen@example.nl", "06 12345678", "111222333"])
def test_a_name_like_code_is_refused_and_never_echoed(app, demo_store, typed):
    at = _form(app)
    at.text_input(key="nv_code").set_value(typed).run()
    assert not at.exception
    assert [e.value for e in at.error] == [CODE_REFUSED]
    assert at.text_input(key="nv_code").value == ""
    shown = _everything_shown(at)
    assert typed not in shown and typed.split()[-1] not in shown
    _add(at)  # saving without a code: refused, still without the name
    assert typed not in _everything_shown(at)
    assert demo_store.read_table("persons").query("person_id == @typed").empty
    assert typed not in demo_store.read_audit()["details"].str.cat()


# --------------------------------------------------------------------------- the demo keeps its demo mode
def _demo_mode(at: AppTest, *, first_run: bool = False) -> bool:
    """Signed in as the demo administrator, not sent to 'Eerste gebruik'. The sidebar's 'Demomodus' is checked on
    a session's first run: after switch_page AppTest drops what app.py put in the sidebar (a browser keeps it)."""
    return (at.session_state["sk_user"] == DEMO_ADMIN
            and not any(s.value.startswith("Eerste gebruik") for s in at.subheader)
            and (not first_run or any("Demomodus" in w.value for w in at.sidebar.warning)))


@pytest.mark.parametrize("how", ["make run", "STEUNKAART_STORE"])
def test_the_demo_keeps_its_demo_mode_after_a_network_is_entered(demo_store, monkeypatch, how):
    if how == "make run":  # no own store configured: the app runs on the demo file (as `make run` does)
        monkeypatch.delenv("STEUNKAART_STORE", raising=False)
        monkeypatch.setenv("STEUNKAART_DEMO_STORE", str(demo_store.path))
    else:
        monkeypatch.setenv("STEUNKAART_STORE", str(demo_store.path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert _demo_mode(at, first_run=True)
    at = _person(_form(at), "K-0142")
    assert any("u blijft in de demomodus" in i.value for i in at.info)
    _add(at, emotional=True)
    _add(at, "buur")
    assert not at.exception and _demo_mode(at) and at.title[0].value == "Netwerken"
    assert at.text_input(key="nv_code").value == "K-0142"  # the form is still there, with its person
    assert len(demo_store.read_table("ties").query("ego_id == 'K-0142'")) == 2
    assert demo_store.is_demo and not auth.has_users(demo_store)
    assert refresh_user(demo_store, DEMO_ADMIN, oidc=False, demo_store=demo_store.is_demo) == DEMO_ADMIN
    again = AppTest.from_file(APP, default_timeout=90)  # a new session (another browser tab) too
    again.run()
    assert _demo_mode(again, first_run=True)


def test_imports_into_the_demo_stay_refused(demo_store):
    persons = demo_store.read_table("persons").head(1)
    ties = demo_store.read_table("ties")
    ties = ties.loc[ties["ego_id"] == persons["person_id"].iloc[0]]
    with pytest.raises(DemoStoreError):
        demo_store.merge_network(persons, ties, user="test", kind="netwerk")
    demo_store.merge_network(persons, ties, user="test", kind="netwerk-invoer")  # the form may
    assert demo_store.is_demo


# --------------------------------------------------------------------------- the form scores as the template
def _answer(at: AppTest, code: str, *, age: str, lsns: list[int], djg: dict[int, str], version: int) -> None:
    _person(at, code)
    at.selectbox(key="nv_leeftijd").set_value(age)
    at.date_input(key="nv_datum").set_value(DAY)
    for i, value in enumerate(lsns, start=1):
        at.radio(key=f"nv_lsns_{i}").set_value(value)
    at.radio(key="nv_djg_versie").set_value(version).run()
    for i, value in djg.items():
        at.radio(key=f"nv_djg_{i}").set_value(value)
    at.run()
    _click(at, "Persoon en antwoorden opslaan")
    _add(at, "vriend")  # one friend, as in the template's relaties file


def _template(folder, rows: list[dict]):
    personen = folder / "personen.csv"
    header = ["persoon", "buurtcode", "leeftijd", *LSNS_ITEMS, *DJG_ITEMS, "meetdatum", "toestemming"]
    lines = [";".join(header)] + [";".join(str(r.get(h, "")) for h in header) for r in rows]
    personen.write_text("\n".join(lines) + "\n", encoding="utf-8")
    relaties = folder / "relaties.csv"
    relaties.write_text("ego;alter_label;rol;contact;nabijheid\n"
                        + "".join(f"{r['persoon']};a1;vriend;dagelijks;2\n" for r in rows), encoding="utf-8")
    return personen, relaties


def test_screening_in_the_form_scores_as_the_same_answers_imported_from_the_template(app, demo_store, town_store,
                                                                                    tmp_path):
    six = {**{i: "" for i in range(1, 12)}, **DJG6}
    people = {
        "K-0500": {"age": "75-84", "lsns": LSNS, "djg": dict(enumerate(DJG11, start=1)), "version": 11},
        "K-0501": {"age": "65-74", "lsns": [0, 0, 1, 5, 4, 3], "djg": DJG6, "version": 6},
    }
    at = _form(app)
    for code, answers in people.items():
        _answer(at, code, **answers)
    rows = [{"persoon": code, "buurtcode": BUURT, "leeftijd": a["age"],
             **{f"lsns_{i}": v for i, v in enumerate(a["lsns"], start=1)},
             **{f"djg_{i}": v for i, v in (a["djg"] if a["version"] == 11 else six).items()},
             "meetdatum": DAY.strftime("%d-%m-%Y"), "toestemming": "ja"} for code, a in people.items()]
    personen, relaties = _template(tmp_path, rows)
    frames = read_network_files(personen, relaties, known_buurten={BUURT})
    town_store.merge_network(frames["persons"], frames["ties"], user="test", source="sjabloon", kind="netwerk")

    columns = ["person_id", "buurt_code", "age_band", *LSNS_ITEMS, *DJG_ITEMS, "measured_on", "consent"]
    entered = demo_store.read_table("persons").set_index("person_id").loc[list(people)].reset_index()[columns]
    imported = town_store.read_table("persons").set_index("person_id").loc[list(people)].reset_index()[columns]
    pd.testing.assert_frame_equal(entered, imported)
    pd.testing.assert_frame_equal(lsns6_scores(entered), lsns6_scores(imported))
    pd.testing.assert_frame_equal(djg_scores(entered), djg_scores(imported))
    tie_columns = ["ego_id", "alter_key", "role", "support_emotional", "support_practical", "contact_frequency",
                   "closeness"]
    entered_ties, imported_ties = (t.loc[t["ego_id"].isin(list(people)), tie_columns].reset_index(drop=True)
                                   for t in (demo_store.read_table("ties"), town_store.read_table("ties")))
    pd.testing.assert_frame_equal(entered_ties, imported_ties)
    scores = pd.concat([lsns6_scores(entered), djg_scores(entered)], axis=1).set_index(entered["person_id"])
    assert scores.loc["K-0500", "lsns6"] == 9 and scores.loc["K-0500", "djg11"] == 8  # worked out by hand
    assert scores.loc["K-0501", "lsns6"] == 13 and scores.loc["K-0501", "djg6"] == 4
    assert pd.isna(scores.loc["K-0501", "djg11"])  # the short scale never gives an 11-item score


# --------------------------------------------------------------------------- a view is logged only when shown
def test_a_plain_visit_logs_only_what_the_open_tab_shows(app, demo_store):
    app.switch_page("pages/netwerken.py").run()
    views = demo_store.read_audit().query("action in ('bekijk-personen', 'bekijk-netwerk')")
    assert views["target"].tolist() == ["signalenlijst"]  # not 'gemeenschap', 'ecogram' or a matching list
    open_tab(app, "Kaart per buurt")
    open_tab(app, "Netwerk vastleggen")
    views = demo_store.read_audit().query("action in ('bekijk-personen', 'bekijk-netwerk')")
    assert views["target"].tolist() == ["signalenlijst"]  # an aggregate map and an empty form show nobody
    open_tab(app, "Gemeenschap")
    views = demo_store.read_audit().query("action in ('bekijk-personen', 'bekijk-netwerk')")
    assert views["target"].tolist() == ["gemeenschap", "signalenlijst"]


# --------------------------------------------------------------------------- an alter who is a person in the data
def test_an_alter_with_the_code_of_a_stored_person_links_to_that_person(app, demo_store):
    from pages.network_form import LINK_REFUSED

    other = str(demo_store.read_table("persons")["person_id"].iloc[0])
    at = _person(_form(app), "K-0777")
    next(t for t in at.text_input if t.key == "nv_nieuw_code").set_value(other)
    _add(at, "buur")
    ties = demo_store.read_table("ties").query("ego_id == 'K-0777'")
    assert ties["alter_id"].tolist() == [other] and ties["alter_key"].isna().all()
    # Unknown codes, the person's own code and a code already in the network: one generic refusal.
    for code in ("X-9999-onbekend", "K-0777", other):
        next(t for t in at.text_input if t.key == "nv_nieuw_code").set_value(code)
        _add(at, "vriend")
        assert any(LINK_REFUSED in e.value for e in at.error)
        assert code not in "\n".join(e.value for e in at.error)
    assert len(demo_store.read_table("ties").query("ego_id == 'K-0777'")) == 1

"""Network Canvas exports as Network Canvas writes them import with the preset, and the store holds
exactly the ties and alter links in the files: no names, no venues, empty booleans unknown."""

import hashlib
import io
import json
import re

import pandas as pd
import pytest

from data.errors import DataValidationError
from data.network_canvas import (
    NetworkCanvasMapping,
    network_canvas_frames,
    network_canvas_preset_table,
    preview_network_canvas,
    read_network_canvas_export,
)
from data.network_formats import network_from_graphml, network_to_graphml
from data.network_import import DJG_ITEM_TEXT, network_templates_excel, read_network_files
from tests import nc_fixtures as nc
from tests.test_cli import run_cli

SUPPORT = ["support_emotional", "support_practical", "support_informational", "support_companionship"]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(store):
    """The ties and links of the interviews in the fixtures, as the store holds them."""
    egos = {iv.person_id for iv in nc.interviews()}
    ties = store.read_table("ties")
    links = store.read_table("alter_links")
    return ties.loc[ties["ego_id"].isin(egos)], links.loc[links["ego_id"].isin(egos)]


def _compare_ties(stored: pd.DataFrame) -> None:
    expected = nc.expected_ties().set_index(["ego_id", "alter_key"]).sort_index()
    got = stored.set_index(["ego_id", "alter_key"]).sort_index()
    assert got.index.tolist() == expected.index.tolist()
    assert got["alter_id"].isna().all()
    for col in ["role", *SUPPORT, "contact_frequency"]:
        assert got[col].astype(object).where(got[col].notna(), None).tolist() == \
            expected[col].astype(object).where(expected[col].notna(), None).tolist(), col
    assert [None if pd.isna(v) else int(v) for v in got["closeness"]] == \
        [None if pd.isna(v) else int(v) for v in expected["closeness"]]
    assert [None if pd.isna(v) else bool(v) for v in got["same_buurt"]] == expected["same_buurt"].tolist()
    assert got["reciprocal"].isna().all()  # not asked in this protocol: unknown, never 'nee'


@pytest.mark.parametrize(("formats", "zipped"), [(("csv",), False), (("graphml",), False), (("csv", "graphml"), True)])
def test_preset_import_stores_exactly_the_ties_in_the_files(town_store, tmp_path, formats, zipped):
    paths = nc.write_export(tmp_path / "export", formats=formats, zipped=zipped)
    persons_before = len(town_store.read_table("persons"))
    result = run_cli("import-network", "--network-canvas", *map(str, paths), "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "3 personen, 14 relaties, 0 deelnames, 9 banden tussen anderen" in result.stdout
    ties, links = _stored(town_store)
    _compare_ties(ties)
    assert {(r.ego_id, frozenset((r.source, r.target))) for r in links.itertuples()} == nc.expected_links()
    assert len(links) == len(nc.expected_links()) == 9
    persons = town_store.read_table("persons").set_index("person_id")
    assert len(persons) == persons_before + 3
    one, two, three = (persons.loc[iv.person_id] for iv in nc.interviews())
    assert (one["buurt_code"], one["age_band"], two["age_band"]) == ("BU99990001", "75-84", "30-44")
    assert pd.isna(three["age_band"])
    assert [int(one[f"lsns_{i}"]) for i in range(1, 7)] == [1, 2, 1, 3, 0, 1]
    assert one["measured_on"] == pd.Timestamp("2026-09-01")
    if zipped:
        assert "zowel in de CSV- als in de GraphML-bestanden" in result.stdout


def test_identifying_columns_are_listed_and_never_stored(town_store, tmp_path):
    paths = nc.write_export(tmp_path / "export", formats=("csv", "graphml"), zipped=True)
    result = run_cli("import-network", "--network-canvas", str(paths[0]), "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    listed = re.search(r"Niet geïmporteerd \(identificerend\): (.*)\.", result.stdout).group(1).split(", ")
    assert {"name", "first_name", "last_name", "preferred_name", "phone", "address", "email",
            "networkCanvasCaseID"} <= set(listed)
    content = town_store.path.read_bytes()
    leaked = [v for v in nc.identifying_values() if v.encode("utf-8") in content]
    assert leaked == []
    assert town_store.read_batches()["file_name"].iloc[-1] == "networkCanvasExport.zip"


def test_graphml_label_is_listed_as_identifying(tmp_path):
    paths = nc.write_export(tmp_path / "export", formats=("graphml",))
    preview = preview_network_canvas(read_network_canvas_export(paths))
    assert preview.ok, preview.problems
    reasons = preview.identifying.set_index("kolom")["reden"]
    assert reasons["label"].startswith("niet geïmporteerd (identificerend): GraphML-label")
    frames = preview.frames
    assert not any(frames[k].astype(str).apply(lambda c: c.str.contains("Ethan")).any().any() for k in frames)


def test_venues_never_become_persons_or_ties(town_store, tmp_path):
    paths = nc.write_export(tmp_path / "export")
    result = run_cli("import-network", "--network-canvas", *map(str, paths), "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    assert "4 knopen van het soort 'Venue' en 6 banden daarmee" in result.stdout
    venues = {v.uuid for iv in nc.interviews() for v in iv.venues}
    ties, links = _stored(town_store)
    assert not venues & set(ties["alter_key"])
    assert not venues & (set(links["source"]) | set(links["target"]))
    assert not venues & set(town_store.read_table("persons")["person_id"])


def test_venues_as_persons_only_when_the_mapping_says_so(tmp_path):
    source = read_network_canvas_export(nc.write_export(tmp_path / "export"))
    mapping = NetworkCanvasMapping.from_dict({"person_node_types": ["Person", "Venue"]})
    preview = preview_network_canvas(source, mapping)
    assert preview.counts["relaties"] == 18 and preview.counts["overgeslagen_knopen"] == 0


def test_unmapped_variables_and_values_are_reported(tmp_path):
    paths = nc.write_export(tmp_path / "export")
    person = next(p for p in paths if p.name.startswith("K-102") and "Person" in p.name)
    person.write_bytes(person.read_bytes().replace(b",Weekly,", b",Every_other_Sunday,"))
    preview = preview_network_canvas(read_network_canvas_export(paths))
    assert preview.ok, preview.problems
    values = preview.unmapped_values.set_index("waarde")
    assert values.loc["Every_other_Sunday", "aantal"] == 2
    assert values.loc["Every_other_Sunday", "variabele"] == "ContactFreq"
    variables = preview.unmapped_variables.set_index("variabele")["gevuld"].to_dict()
    assert variables == {"null": 0, "notes": 2, "layout_x": 14, "layout_y": 14}
    ties = preview.frames["ties"].set_index("alter_key")
    unmapped = [a.uuid for a in nc.interviews()[1].alters if a.contact == "Weekly"]
    assert ties.loc[unmapped, "contact_frequency"].isna().all()  # unknown, not a guess
    lines = preview.report_lines()
    assert any("'Every_other_Sunday' 2×" in line for line in lines)
    assert any(line.startswith("Niet gekoppelde variabelen (4): null") for line in lines)


def test_empty_three_valued_booleans_stay_unknown(town_store, tmp_path):
    paths = nc.write_export(tmp_path / "export")
    assert run_cli("import-network", "--network-canvas", *map(str, paths), "--store",
                   str(town_store.path)).returncode == 0
    ties, _ = _stored(town_store)
    ties = ties.set_index("alter_key")
    empty = [a.uuid for iv in nc.interviews() for a in iv.alters if a.lives_nearby is None]
    said_no = [a.uuid for iv in nc.interviews() for a in iv.alters if a.lives_nearby is False]
    assert len(empty) == 4 and ties.loc[empty, "same_buurt"].isna().all()
    assert (ties.loc[said_no, "same_buurt"] == False).all()  # noqa: E712


def test_personal_data_in_a_mapped_column_blocks_its_row(town_store, tmp_path):
    paths = nc.write_export(tmp_path / "export")
    person = next(p for p in paths if p.name.startswith("K-101") and "Person" in p.name)
    text = person.read_bytes().replace(b",Monthly,", b",mail jan@example.nl,", 1)
    person.write_bytes(text.replace(b",Less_than_weekly,", b",Piet Jansen,", 1))
    before = _digest(town_store.path)
    result = run_cli("import-network", "--network-canvas", *map(str, paths), "--store", str(town_store.path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"bestand {person.name}, rij 5, kolom 'ContactFreq'" in result.stderr
    assert f"bestand {person.name}, rij 6, kolom 'ContactFreq'" in result.stderr
    assert "lijkt een e-mailadres" in result.stderr and "lijkt een naam" in result.stderr
    assert "jan@example.nl" not in result.stderr + result.stdout and "Piet Jansen" not in result.stderr + result.stdout
    assert _digest(town_store.path) == before


def test_without_support_variables_the_import_is_refused_then_mapped(town_store, tmp_path):
    paths = nc.write_export(tmp_path / "export")
    for path in paths:
        for old, new in ((b"emotional_support", b"q17"), (b"practical_support", b"q18"), (b"advice", b"q19"),
                         (b"socialize", b"q20")):
            path.write_bytes(path.read_bytes().replace(old, new))
    before = _digest(town_store.path)
    result = run_cli("import-network", "--network-canvas", *map(str, paths), "--store", str(town_store.path))
    assert result.returncode == 2
    assert "onterecht het signaal 'geen emotionele steun'" in result.stderr
    assert _digest(town_store.path) == before
    mapping = tmp_path / "koppeling.json"
    mapping.write_text(json.dumps({"support": {"emotional": "q17", "practical": ["q18"], "informational": "q19",
                                               "companionship": "q20"}}))
    result = run_cli("import-network", "--network-canvas", *map(str, paths), "--mapping", str(mapping),
                     "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    _compare_ties(_stored(town_store)[0])
    allowed = tmp_path / "zonder_steun.json"
    allowed.write_text(json.dumps({"allow_without_support": True}))
    preview = preview_network_canvas(read_network_canvas_export(paths),
                                     NetworkCanvasMapping.from_json(allowed.read_text()))
    assert preview.ok and not preview.frames["ties"][SUPPORT].any().any()
    assert preview.warnings["melding"].str.contains("allow_without_support").any()


def test_a_mapping_changes_values_over_the_preset(tmp_path):
    source = read_network_canvas_export(nc.write_export(tmp_path / "export"))
    mapping = NetworkCanvasMapping.from_dict(
        {"alter": {"closeness": {"variables": ["Closeness"], "values": {"Close": 3}},
                   "contact_frequency": {"values": {"Less than weekly": "tweewekelijks"}}}})
    ties = network_canvas_frames(source, mapping)["ties"].set_index("alter_key")
    close = [a.uuid for iv in nc.interviews() for a in iv.alters if a.closeness == "Close"]
    less = [a.uuid for iv in nc.interviews() for a in iv.alters if a.contact == "Less_than_weekly"]
    assert (ties.loc[close, "closeness"] == 3).all()
    assert (ties.loc[less, "contact_frequency"] == "tweewekelijks").all()
    assert NetworkCanvasMapping.from_json(mapping.to_json()) == mapping


def test_a_bad_mapping_lists_every_problem(town_store, tmp_path):
    mapping = tmp_path / "koppeling.json"
    mapping.write_text(json.dumps({"kleur": 1, "alter": {"role": {"values": {"Mother": "moeder"}}, "hobby": "x"},
                                   "support": {"spiritual": "x"}}))
    with pytest.raises(DataValidationError) as info:
        NetworkCanvasMapping.from_json(mapping.read_text(), file=mapping.name)
    messages = [p["melding"] for p in info.value.problems]
    assert len(messages) == 4
    assert any("Onbekende sleutel(s) in de koppeling: kleur" in m for m in messages)
    assert any("Waarde 'moeder' voor 'Mother' kan niet" in m for m in messages)
    paths = nc.write_export(tmp_path / "export")
    result = run_cli("import-network", "--network-canvas", *map(str, paths), "--mapping", str(mapping),
                     "--store", str(town_store.path))
    assert result.returncode == 2 and "Onbekende steunsoort 'spiritual'" in result.stderr
    assert "Onbekend veld 'hobby'" in result.stderr


def test_graphml_quirks_are_read_and_reported(tmp_path):
    paths = nc.write_export(tmp_path / "export", formats=("graphml",))
    text = paths[0].read_bytes()
    assert b"\r\n\t<data" in text and b'for="graph"/>\n' in text  # CRLF inside elements, LF around them
    preview = preview_network_canvas(read_network_canvas_export(paths))
    warnings = " ".join(preview.warnings["melding"])
    assert "'d_removed_from_codebook', die niet gedeclareerd is (1×); genegeerd" in warnings
    assert "attr.name 'name' hoort bij 2 sleutels voor knopen" in warnings
    assert "lus" in warnings
    persons = preview.frames["persons"].set_index("person_id")
    assert persons.loc[nc.interviews()[0].person_id, "buurt_code"] == "BU99990001"  # ego data under <graph>


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t[: len(t) // 2], "geen geldige XML"),
    (lambda t: t.replace(b"<graphml", b'<!DOCTYPE g [<!ENTITY x "y">]><graphml', 1), "DOCTYPE"),
    (lambda t: t.replace(b"</graph>", b"</grap>"), "andere tag gesloten"),
    (lambda t: b"<html><body>geen graphml</body></html>", "geen GraphML-bestand"),
])
def test_broken_graphml_is_a_dutch_error_not_a_traceback(town_store, tmp_path, change, message):
    path = nc.write_export(tmp_path / "export", formats=("graphml",))[0]
    path.write_bytes(change(path.read_bytes()))
    before = _digest(town_store.path)
    for flag in ("--network-canvas", "--graphml"):
        result = run_cli("import-network", flag, str(path), "--store", str(town_store.path))
        assert result.returncode == 2
        assert message in result.stderr and "Traceback" not in result.stderr
    assert _digest(town_store.path) == before


def test_network_canvas_graphml_via_the_graphml_flag(town_store, tmp_path):
    paths = nc.write_export(tmp_path / "export", formats=("graphml",))
    result = run_cli("import-network", "--graphml", str(paths[0]), "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    assert "1 personen, 5 relaties" in result.stdout
    with pytest.raises(DataValidationError, match="komt uit Network Canvas"):
        network_from_graphml(paths[0])


def test_our_graphml_reader_says_why_instead_of_crashing(tmp_path):
    plain = tmp_path / "gephi.graphml"
    plain.write_text('<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><key id="d0" for="node" '
                     'attr.name="kind"/><graph edgedefault="directed"><node id="a"><data key="d0">persoon</data>'
                     '</node><node id="b"/><edge source="a" target="b"/></graph></graphml>')
    with pytest.raises(DataValidationError, match="komt niet van Steunkaart"):
        network_from_graphml(plain)
    persons = pd.DataFrame({"person_id": ["K-1", "K-2"], "buurt_code": ["BU99990001", None], "age_band": [None, None]})
    ties = pd.DataFrame({"ego_id": ["K-1", "K-1"], "alter_id": [None, "K-2"], "alter_key": ["a1", None],
                         "role": ["vriend", "buur"], **{s: [True, False] for s in SUPPORT},
                         "contact_frequency": ["wekelijks", None], "closeness": pd.array([2, None], dtype="Int64"),
                         "reciprocal": pd.array([None, True], dtype="boolean"),
                         "same_buurt": pd.array([False, None], dtype="boolean")})
    links = pd.DataFrame({"ego_id": ["K-1", "K-1"], "source": ["a1", "K-2"], "target": ["K-2", "K-2"]})
    ours = tmp_path / "netwerk.graphml"
    ours.write_bytes(network_to_graphml(persons, ties, links))
    back = network_from_graphml(ours)
    assert back["ties"]["reciprocal"].tolist()[0] is pd.NA and bool(back["ties"]["reciprocal"].iloc[1])
    assert back["ties"]["same_buurt"].tolist()[1] is pd.NA
    assert pd.isna(back["ties"]["closeness"].iloc[1])
    assert len(back["alter_links"]) == 1  # the self-loop is skipped ...
    assert "lus" in back["warnings"][0]["melding"]  # ... and reported


def test_preset_table_covers_every_field():
    table = network_canvas_preset_table()
    assert {"role", "closeness", "contact_frequency", "same_buurt", "buurt_code", "age_band", "lsns_i", "djg_i",
            "support_emotional", "person_node_types"} <= set(table["veld"])
    contact = table.set_index("veld").loc["contact_frequency", "waarden"]
    assert "weekly" in contact and "less_than_weekly" in contact


# --------------------------------------------------------------------------- the templates

PERSONS = "persoon;buurtcode;leeftijd\nK-001;BU99990001;75-84\nK-002;BU99990001;65-74\n"
TIES = "ego;alter;alter_label;rol;emotioneel;wederzijds\nK-001;K-002;;buurvrouw;ja;\nK-002;;a1;partner;ja;nee\n"


@pytest.mark.parametrize("persons", [PERSONS, PERSONS.replace("leeftijd\n", "leeftijd;huishouden\n")
                                     .replace("75-84\n", "75-84;\n").replace("65-74\n", "65-74;\n")])
def test_templates_without_or_with_empty_household_import(town_store, tmp_path, persons):
    (tmp_path / "p.csv").write_text(persons, encoding="utf-8")
    (tmp_path / "t.csv").write_text(TIES, encoding="utf-8")
    result = run_cli("import-network", "--personen", str(tmp_path / "p.csv"), "--relaties", str(tmp_path / "t.csv"),
                     "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    stored = town_store.read_table("persons").set_index("person_id")
    assert stored.loc[["K-001", "K-002"], "household_type"].isna().all()
    ties = town_store.read_table("ties").set_index("ego_id")
    assert pd.isna(ties.loc["K-001", "reciprocal"]) and not bool(ties.loc["K-002", "reciprocal"])


def test_every_template_problem_is_listed_by_the_cli(town_store, tmp_path):
    (tmp_path / "p.csv").write_text("persoon;buurtcode;leeftijd;telefoon\nK-001;BU12345678;zestig;\n"
                                    "K-002;BU99990001;65-74;\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text("ego;alter_label;contact\nK-009;a1;soms\nK-002;;wekelijks\n", encoding="utf-8")
    before = _digest(town_store.path)
    result = run_cli("import-network", "--personen", str(tmp_path / "p.csv"), "--relaties", str(tmp_path / "t.csv"),
                     "--store", str(town_store.path))
    assert result.returncode == 2
    err = result.stderr
    for expected in ("Kolom 'telefoon' lijkt persoonsgegevens", "bestand p.csv, rij 2, kolom 'buurtcode'",
                     "bestand p.csv, rij 2, kolom 'leeftijd'", "Verplichte kolom 'rol' ontbreekt",
                     "bestand t.csv, rij 2, kolom 'ego'", "bestand t.csv, rij 2, kolom 'contact'",
                     "bestand t.csv, rij 3, kolom 'alter'"):
        assert expected in err, expected
    assert "7 probleem/problemen" in err
    assert _digest(town_store.path) == before


def test_template_workbook_carries_the_wording_and_imports_as_it_is(town_store, tmp_path):
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(network_templates_excel()))
    assert book.sheetnames == ["Personen", "Relaties", "Deelname", "Toelichting"]
    help_text = " ".join(str(c.value) for row in book["Toelichting"].iter_rows() for c in row if c.value)
    assert DJG_ITEM_TEXT["djg_1"] == ("Er is altijd wel iemand in mijn omgeving bij wie ik met mijn dagelijkse "
                                  "probleempjes terecht kan.")
    for text in (DJG_ITEM_TEXT["djg_1"], DJG_ITEM_TEXT["djg_10"], "minstens één keer per maand", "ja, min of meer, nee",
                 "vijf tot acht", "kerk/vereniging (kerk_vereniging)", "minder dan maandelijks"):
        assert text in help_text, text
    book["Personen"].append(["K-101", "BU99990001", "75-84", "alleenstaand", None, None, 1, 2, 1, 3, 0, 1,
                             "ja", "nee"])
    book["Relaties"].append(["K-101", None, "a1", "buurvrouw", "ja", "nee", "nee", "ja", "wekelijks", 2, None, "ja"])
    path = tmp_path / "sjabloon.xlsx"
    book.save(path)
    frames = read_network_files(path)
    assert frames["persons"]["lsns_4"].tolist() == [3] and frames["persons"]["djg_2"].tolist() == ["nee"]
    result = run_cli("import-network", "--personen", str(path), "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    tie = town_store.read_table("ties").set_index("ego_id").loc["K-101"]
    assert (tie["role"], bool(tie["same_buurt"]), pd.isna(tie["reciprocal"])) == ("buur", True, True)


def test_older_and_documented_column_names_are_read(tmp_path):
    """Older exports (_egoID, _uid, _from/_to) and the documentation's example (ego_id, alter_id, edge_type)."""
    (tmp_path / "s1_ego.csv").write_text("_egoID,_caseID,sessionStart,buurtcode\ne-1,Jan,2026-09-01T10:00:00Z,"
                                         "BU99990001\n")
    (tmp_path / "s1_attributeList_Person.csv").write_text(
        "_uid,_egoID,_id,name,close_friend,contact_frequency,role\n"
        "u-1,e-1,1,John,true,Daily,friend\nu-2,e-1,2,Sarah,false,Weekly,Neighbor\n")
    (tmp_path / "s1_edgeList_knows.csv").write_text("_egoID,_from,_to\ne-1,1,2\n")
    (tmp_path / "s2_ego.csv").write_text("ego_id,networkCanvasEgoUUID,networkCanvasCaseID,age\n1,e-2,case_001,34\n")
    (tmp_path / "s2_attributeList_Person.csv").write_text(
        "ego_id,alter_id,networkCanvasUUID,networkCanvasEgoUUID,name,emotional_support,contact_frequency\n"
        "1,1,xyz789,e-2,John,true,Daily\n1,2,uvw456,e-2,Sarah,true,Weekly\n")
    (tmp_path / "s2_edgeList_knows.csv").write_text(
        "ego_id,edge_id,edge_type,from,to,networkCanvasEgoUUID,networkCanvasSourceUUID,networkCanvasTargetUUID\n"
        "1,1,knows,1,2,e-2,xyz789,uvw456\n")
    mapping = NetworkCanvasMapping.from_dict({"support": {"emotional": ["close_friend", "emotional_support"]}})
    preview = preview_network_canvas(read_network_canvas_export(sorted(tmp_path.glob("*.csv"))), mapping)
    assert preview.ok, preview.problems
    ties = preview.frames["ties"].set_index("alter_key")
    assert ties.loc[["u-1", "u-2"], "role"].tolist() == ["vriend", "buur"]
    assert ties.loc[["u-1", "xyz789"], "support_emotional"].all() and not ties.loc["u-2", "support_emotional"]
    assert ties["contact_frequency"].tolist() == ["dagelijks", "wekelijks", "dagelijks", "wekelijks"]
    assert preview.frames["alter_links"][["source", "target"]].values.tolist() == [["u-1", "u-2"],
                                                                                  ["xyz789", "uvw456"]]
    assert "Jan" not in preview.frames["persons"].to_string()
    assert preview.frames["persons"]["age_band"].tolist() == [None, "30-44"]


def test_an_interview_without_consent_is_not_imported(tmp_path):
    paths = nc.write_export(tmp_path / "export")
    ego = next(p for p in paths if p.name.startswith("K-102") and p.name.endswith("_ego.csv"))
    header, row, _ = ego.read_text().split("\n")
    ego.write_text(f"{header},toestemming\n{row},nee\n")
    source = read_network_canvas_export(paths)
    assert source.label == "Network Canvas-export (15 bestanden)"
    preview = preview_network_canvas(source)
    assert preview.counts["personen"] == 2 and preview.counts["relaties"] == 9
    assert nc.interviews()[1].person_id not in set(preview.frames["ties"]["ego_id"])
    assert preview.warnings["melding"].str.contains("zonder toestemming zijn niet geïmporteerd").any()


def test_the_page_mapping_step_maps_an_unmapped_value_and_a_variable(tmp_path):
    """What the page's 'Koppeling aanpassen' does: an unmapped value gets our value, a field another
    variable; the preview then uses them, and the mapping saved as JSON does the same on the CLI."""
    from data.network_canvas import base_variable, mapping_with_choices, value_choices

    paths = nc.write_export(tmp_path / "export")
    person = next(p for p in paths if p.name.startswith("K-102") and "Person" in p.name)
    person.write_bytes(person.read_bytes().replace(b",Weekly,", b",Every_other_Sunday,"))
    source = read_network_canvas_export(paths)
    before = preview_network_canvas(source)
    assert "tweewekelijks" in value_choices("contact_frequency")
    assert base_variable("relationship_* (9 opties)") == "relationship"
    mapping = mapping_with_choices(NetworkCanvasMapping.preset(), {("alter", "reciprocal"): "null"},
                                   {("alter", "contact_frequency"): {"Every_other_Sunday": "tweewekelijks"}})
    after = preview_network_canvas(source, mapping)
    assert after.unmapped_values.empty
    ties = after.frames["ties"].set_index("alter_key")
    changed = [a.uuid for a in nc.interviews()[1].alters if a.contact == "Weekly"]
    assert (ties.loc[changed, "contact_frequency"] == "tweewekelijks").all()
    fields = after.fields.set_index("veld")
    assert fields.loc["reciprocal", "variabele"] == "null"  # the column literally called 'null'
    assert "null" not in set(after.unmapped_variables["variabele"])
    assert len(before.frames["ties"]) == len(after.frames["ties"])
    again = NetworkCanvasMapping.from_json(mapping.to_json())
    assert preview_network_canvas(source, again).frames["ties"]["contact_frequency"].tolist() == \
        ties.reset_index()["contact_frequency"].tolist()
    with pytest.raises(DataValidationError, match="past niet bij closeness"):
        mapping_with_choices(NetworkCanvasMapping.preset(), {}, {("alter", "closeness"): {"x": "7"}})

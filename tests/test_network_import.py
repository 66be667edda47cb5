"""Importing support networks: clean templates land, every rejection is Dutch and changes nothing."""

import hashlib
import re

import pandas as pd
import pytest

from data.errors import DataValidationError
from data.network_import import read_network_files
from data.privacy import check_pseudonymous, passes_eleven_test
from tests.test_cli import run_cli

PERSONS = """persoon;buurtcode;leeftijd;huishouden;verweduwd_sinds;lsns_1;lsns_2;lsns_3;lsns_4;lsns_5;lsns_6;djg_1;meetdatum;toestemming
K-001;BU99990101;75-84;alleenstaand;03-02-2025;1;1;0;1;0;0;nee;01-09-2026;ja
K-002;BU99990101;65-74;paar zonder kinderen;;3;3;3;3;3;3;ja;01-09-2026;ja
"""
TIES = """ego;alter;alter_label;rol;praktisch;emotioneel;informatief;gezelschap;contact;nabijheid;wederzijds;zelfde_buurt
K-001;K-002;;buurvrouw;ja;nee;nee;ja;wekelijks;2;ja;ja
K-001;;a1;professional;ja;nee;ja;nee;maandelijks;1;nee;nee
K-002;;a1;partner;ja;ja;ja;ja;dagelijks;3;ja;ja
"""
PARTICIPATION = "persoon;voorziening;rol;sinds\nK-001;V003;deelnemer;01-03-2026\n"


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(tmp_path, persons=PERSONS, ties=TIES, participation=PARTICIPATION):
    paths = []
    for name, text in (("personen.csv", persons), ("relaties.csv", ties), ("deelname.csv", participation)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8-sig")
        paths.append(path)
    return paths


def test_clean_templates_import(town_store, tmp_path):
    p, t, x = _files(tmp_path)
    result = run_cli("import-network", "--personen", str(p), "--relaties", str(t), "--deelname", str(x),
                     "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    assert "2 personen, 3 relaties, 1 deelnames" in result.stdout
    persons = town_store.read_table("persons").set_index("person_id")
    assert persons.loc["K-001", "household_type"] == "alleenstaand"
    assert persons.loc["K-002", "household_type"] == "paar_zonder_kinderen"
    assert persons.loc["K-001", "widowed_since"] == pd.Timestamp("2025-02-03")
    ties = town_store.read_table("ties")
    mine = ties.loc[ties["ego_id"] == "K-001"].set_index("role")
    assert mine.loc["buur", "alter_id"] == "K-002" and bool(mine.loc["buur", "support_practical"])
    assert len(town_store.read_table("persons")) == 2002


@pytest.mark.parametrize(
    ("which", "old", "new", "column", "message"),
    [
        ("ties", "K-001;K-002;;buurvrouw", "K-001;K-999;;buurvrouw", "alter", "onbekende persoon: de code staat niet"),
        ("ties", "K-001;K-002;;buurvrouw", "K-001;K-001;;buurvrouw", "alter", "met zichzelf"),
        ("ties", "K-002;;a1;partner", "K-001;;a1;professional", "alter", "dubbele relatie"),
        ("ties", "K-001;K-002;;buurvrouw", "K-001;K-002;;tante-achtig", "rol", "onbekende rol"),
        ("persons", "K-002;BU99990101;65-74", "K-002;BU12345678;65-74", "buurtcode", "staat niet in de opslag"),
        ("persons", "K-002;BU99990101;65-74", "K-002;BU99990101;zestig", "leeftijd", "onbekende leeftijdsklasse"),
        ("persons", "K-002;BU99990101;65-74;paar zonder kinderen;;3", "K-002;BU99990101;65-74;paar zonder kinderen;;7",
         "lsns_1", "geen score 0-5"),
    ],
)
def test_rejections_are_dutch_and_change_nothing(town_store, tmp_path, which, old, new, column, message):
    persons, ties = PERSONS, TIES
    if which == "ties":
        ties = TIES.replace(old, new, 1)
    else:
        persons = PERSONS.replace(old, new, 1)
    p, t, _ = _files(tmp_path, persons, ties)
    before = _digest(town_store.path)
    result = run_cli("import-network", "--personen", str(p), "--relaties", str(t), "--store", str(town_store.path))
    assert result.returncode == 2
    assert message in result.stderr and f"kolom '{column}'" in result.stderr
    assert _digest(town_store.path) == before


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [("naam", "Jan Jansen", "Kolom 'naam' lijkt persoonsgegevens"),
     ("adres", "Dorpsstraat 1", "Kolom 'adres' lijkt persoonsgegevens"),
     ("notitie", "111222333", "een BSN (elfproef)"),
     ("notitie", "06-12345678", "een telefoonnummer"),
     ("notitie", "jan@example.nl", "een e-mailadres")],
)
def test_personal_data_is_refused(tmp_path, header, value, message):
    persons = PERSONS.replace("toestemming\n", f"toestemming;{header}\n", 1).replace(";ja\nK-002", f";ja;{value}\nK-002", 1)
    p, t, _ = _files(tmp_path, persons)
    with pytest.raises(DataValidationError, match=re.escape(message)):
        read_network_files(p, t)


def test_names_as_ids_are_refused(tmp_path):
    p, t, _ = _files(tmp_path, PERSONS.replace("K-001", "Jan Jansen"), TIES.replace("K-001", "Jan Jansen"))
    with pytest.raises(DataValidationError, match="geen ondoorzichtige code"):
        read_network_files(p, t)


def test_eleven_test():
    values = pd.Series(["111222333", "123456789", "12345678", "999999999", "abc", "123.456.782"])
    assert passes_eleven_test(values).tolist() == [True, False, False, False, False, True]
    check_pseudonymous(pd.DataFrame({"code": ["P0001", "P0002"]}), file="f", id_columns=("code",))


NC = __import__("pathlib").Path(__file__).parent / "fixtures" / "network_canvas"


def test_network_canvas_export_imports_cleanly(town_store):
    files = sorted(str(p) for p in NC.glob("*.csv"))
    result = run_cli("import-network", "--network-canvas", *files, "--koppeling", str(NC / "koppeling.json"),
                     "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    assert "1 personen, 4 relaties, 0 deelnames, 2 banden tussen anderen" in result.stdout
    person = town_store.read_table("persons").set_index("person_id").loc["NCK-7"]
    assert (person["buurt_code"], person["age_band"]) == ("BU99990101", "75-84")
    ties = town_store.read_table("ties").query("ego_id == 'NCK-7'").set_index("alter_key")
    assert ties["role"].to_dict() == {"n-0001": "kind", "n-0002": "buur", "n-0003": "professional", "n-0004": "buur"}
    assert ties["support_emotional"].tolist() == [True, False, False, False]
    assert ties.loc["n-0001", "closeness"] == 3
    # Density among the 4 alters: 2 links of 6 possible pairs; effective size 4 - 2*2/4 = 3.
    from graphs.measures import person_measures

    store = town_store
    m = person_measures(store.read_table("persons"), store.read_table("ties"), None, store.read_table("alter_links"))
    assert m.loc["NCK-7", "density_alters"] == pytest.approx(2 / 6)
    assert m.loc["NCK-7", "effective_size"] == pytest.approx(3.0)


def test_network_canvas_names_are_not_imported(tmp_path):
    """A name column is listed as not imported (identifying) and the import goes on without it."""
    from data.network_formats import preview_network_canvas, read_network_canvas_export

    lines = (NC / "interview1_attributeList_Person.csv").read_text().splitlines()
    names = ["name", "Oma Jansen", "Piet de Buur", "Dokter Visser", "Truus Smit"]
    (tmp_path / "i_attributeList_Person.csv").write_text(
        "\n".join(f"{n},{line}" for n, line in zip(names, lines, strict=True)) + "\n")
    (tmp_path / "i_ego.csv").write_text((NC / "interview1_ego.csv").read_text())
    preview = preview_network_canvas(read_network_canvas_export(sorted(tmp_path.glob("*.csv"))))
    assert preview.ok, preview.problems
    assert "name" in preview.identifying["kolom"].tolist()
    assert len(preview.frames["ties"]) == 4
    assert not preview.frames["ties"].astype(str).apply(lambda c: c.str.contains("Jansen")).any().any()


def test_graphml_round_trip(town_store, tmp_path):
    out = tmp_path / "netwerk.graphml"
    result = run_cli("export-network", "--store", str(town_store.path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    import networkx as nx

    graph = nx.read_graphml(out)
    persons = town_store.read_table("persons")
    ties = town_store.read_table("ties")
    assert sum(1 for _, d in graph.nodes(data=True) if d["kind"] == "persoon") == len(persons)
    kinds = pd.Series([d["kind"] for _, _, d in graph.edges(data=True)]).value_counts()
    assert kinds["steun"] == len(ties)
    assert kinds["kent"] == len(town_store.read_table("alter_links")) > 0
    from data.network_formats import network_from_graphml

    back = network_from_graphml(out)
    assert len(back["persons"]) == len(persons) and len(back["ties"]) == len(ties)
    assert back["ties"]["role"].value_counts().to_dict() == ties["role"].value_counts().to_dict()
    assert back["ties"]["alter_id"].notna().sum() == ties["alter_id"].notna().sum()
    assert len(back["alter_links"]) == kinds["kent"]

"""Provisions from a municipality's open data, through a mapping: a fixture in the source's own shape
(two type columns, empty values, damaged letters, house numbers turned into date serials, no ``crs``,
points outside the areas, a source id), imported by the CLI with a saved mapping and by the data layer."""

import hashlib
import json

import openpyxl
import pandas as pd
import pytest

from data.errors import DataValidationError
from data.provisions import (
    ImportMapping,
    prepare_provision_import,
    provisions_to_excel,
    read_mapping,
    read_provision_source,
    read_provisions_file,
)
from tests.test_cli import run_cli
from tests.towns import (
    DAMAGED_NAMES,
    DATE_SERIAL_NUMBERS,
    OPEN_DATA_CATEGORIES,
    OPEN_DATA_OUTSIDE,
    build_state,
    write_open_data,
    write_town_files,
)

INSIDE = {c: n for c, _, n in OPEN_DATA_CATEGORIES}
MAPPED_INSIDE = INSIDE["Buurtkamer"] + INSIDE["Huis van de wijk"] + INSIDE["Jongerencentrum"]  # 20
SKIPPED = INSIDE["Buurtteamlocatie"] + INSIDE["Bibliotheek"] + INSIDE[""]  # 13: '*' -> null, and empty ones


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def teststad(empty_store, tmp_path):
    """Teststad with its areas only (an own installation, not the demo) and the open-data files."""
    build_state(empty_store, write_town_files(tmp_path / "bron"), "gebieden")
    return empty_store, write_open_data(tmp_path / "opendata")


def _prepare(store, source, mapping):
    return prepare_provision_import(source, mapping, area=store.outline(), next_number=store.next_provision_number(),
                                    catalogue=store.read_provision_types(),
                                    existing=store.read_table("provisions")[["provision_id", "source_id"]])


def test_cli_with_a_saved_mapping_drops_categories_and_imports_twice_without_change(teststad):
    store, files = teststad
    result = run_cli("import-provisions", str(files["geojson"]), "--mapping", str(files["koppeling"]),
                     "--store", str(store.path))
    assert result.returncode == 0, result.stderr
    assert (f"{MAPPED_INSIDE + OPEN_DATA_OUTSIDE} nieuw, 0 bijgewerkt, 0 ongewijzigd, {SKIPPED} overgeslagen"
            in result.stdout)
    assert f"{OPEN_DATA_OUTSIDE} buiten de geladen gebieden" in result.stdout
    # Every suspicious cell is named with its row: damaged letters and date-serial house numbers.
    for row in DAMAGED_NAMES:
        assert f"Waarschuwing rij {row}, kolom naam:" in result.stdout
    for row in DATE_SERIAL_NUMBERS:
        assert f"Waarschuwing rij {row}, kolom huisnummer:" in result.stdout

    prov = store.read_table("provisions").set_index("source_id")
    assert len(prov) == MAPPED_INSIDE + OPEN_DATA_OUTSIDE
    assert prov["type"].value_counts().to_dict() == {"buurthuis": INSIDE["Buurtkamer"] + OPEN_DATA_OUTSIDE,
                                                     "sociaal_cultureel_werk": INSIDE["Huis van de wijk"],
                                                     "jongerenwerk": INSIDE["Jongerencentrum"]}
    # The Amsterdam-like address comes through; postcodes normalised; a date serial is not a house number.
    first = prov.loc["MVZN-0001"]
    assert (first["street"], first["house_number"], first["postcode"], first["city"]) == \
        ("Havenkade", "2", "1999 BH", "Teststad")
    assert prov.loc["MVZN-0003", "postcode"] == "1999 DV"  # written without the space in the source
    assert prov.loc["MVZN-0010", "house_number"] == "20a"
    assert all(pd.isna(prov.loc[f"MVZN-{k:04d}", "house_number"]) for k in DATE_SERIAL_NUMBERS)
    assert prov.loc["MVZN-0003", "name"] == DAMAGED_NAMES[3]  # warned about, stored as the source has it
    # Points outside Teststad: flagged, in no buurt; the rest all in a buurt.
    assert prov["outside_areas"].sum() == OPEN_DATA_OUTSIDE
    assert prov.loc[prov["outside_areas"], "buurt_code"].isna().all()
    assert prov.loc[~prov["outside_areas"], "buurt_code"].notna().all()
    # Phone, e-mail and website of the source are neither stored nor a reason to refuse the file.
    assert not prov.astype(str).apply(lambda c: c.str.contains("welzijn.example")).any().any()

    before = store.read_table("provisions")
    again = run_cli("import-provisions", str(files["geojson"]), "--mapping", str(files["koppeling"]),
                    "--store", str(store.path))
    assert again.returncode == 0, again.stderr
    assert f"0 nieuw, 0 bijgewerkt, {MAPPED_INSIDE + OPEN_DATA_OUTSIDE} ongewijzigd" in again.stdout
    pd.testing.assert_frame_equal(before.drop(columns="geometry"),
                                  store.read_table("provisions").drop(columns="geometry"))


def test_the_other_type_column_and_skipping_outside_points(teststad):
    store, files = teststad
    mapping = ImportMapping(type_column="Soort", id_column="MVZN_ID", name_column="Naam",
                            types={"Ontmoeten": "buurthuis", "Jeugd": "jongerenwerk", "": None, "*": None},
                            outside_areas="skip")
    prepared = _prepare(store, read_provision_source(files["geojson"]), mapping)
    ontmoeten = INSIDE["Buurtkamer"] + INSIDE["Huis van de wijk"]
    assert prepared.provisions["type"].value_counts().to_dict() == {"buurthuis": ontmoeten,
                                                                    "jongerenwerk": INSIDE["Jongerencentrum"]}
    reasons = prepared.skipped["reden"]
    assert (reasons == "buiten de geladen gebieden").sum() == OPEN_DATA_OUTSIDE
    assert (reasons == "geen soort (leeg), overgeslagen").sum() == INSIDE[""]
    assert (reasons == "soort overgeslagen ('Zorg en welzijn')").sum() == INSIDE["Buurtteamlocatie"]
    assert not prepared.provisions["outside_areas"].any()
    # Nothing written by preparing.
    assert store.read_table("provisions").empty


def test_values_the_mapping_does_not_name_are_listed_with_counts(teststad):
    store, files = teststad
    before = _digest(store.path)
    mapping = ImportMapping(type_column="Categorie", types={"Buurtkamer": "buurthuis"})
    with pytest.raises(DataValidationError, match=r"24 rijen .*'Huis van de wijk' \(6×\).*leeg \(3×\)") as err:
        _prepare(store, read_provision_source(files["geojson"]), mapping)
    assert err.value.column == "Categorie"
    bad = files["koppeling"].with_name("fout.json")
    bad.write_text(json.dumps({**json.loads(files["koppeling"].read_text()), "types": {"Buurtkamer": "kroeg", "*": None}}))
    result = run_cli("import-provisions", str(files["geojson"]), "--mapping", str(bad), "--store", str(store.path))
    assert result.returncode == 2 and "onbekende soort(en): kroeg" in result.stderr
    assert _digest(store.path) == before


@pytest.mark.parametrize(("change", "message"), [
    ({"type_colum": "Categorie"}, "Onbekende sleutel"),
    ({"outside_areas": "weg"}, "outside_areas"),
    ({"address_columns": {"huisnr": "Huisnummer"}}, "Onbekend adresdeel huisnr"),
    ({"id_column": "OBJECTID"}, r"noemt kolommen die het bestand niet heeft: OBJECTID \(id_column\)"),
])
def test_a_wrong_mapping_says_what_is_wrong(teststad, change, message):
    store, files = teststad
    data = {**json.loads(files["koppeling"].read_text()), **change}
    path = files["koppeling"].with_name("koppeling2.json")
    path.write_text(json.dumps(data))
    before = _digest(store.path)
    with pytest.raises(DataValidationError, match=message):
        _prepare(store, read_provision_source(files["geojson"]), read_mapping(path))
    assert _digest(store.path) == before


def test_mapping_json_round_trip(teststad):
    _, files = teststad
    mapping = read_mapping(files["koppeling"])
    assert ImportMapping.from_json(mapping.to_json()) == mapping
    assert json.loads(mapping.to_json())["types"]["*"] is None


def test_dutch_excel_csv_with_crlf_and_a_quoted_semicolon_imports_like_the_geojson(teststad):
    store, files = teststad
    source = read_provision_source(files["csv"])
    assert list(source.frame.columns)[:3] == ["MVZN_ID", "Categorie", "Soort"]
    assert source.frame.loc[6, "Naam"] == "Buurtkamer; koffie & taal"
    from_csv = _prepare(store, source, read_mapping(files["koppeling"])).provisions
    from_json = _prepare(store, read_provision_source(files["geojson"]), read_mapping(files["koppeling"])).provisions
    assert from_csv["source_id"].tolist() == from_json["source_id"].tolist()
    assert (from_csv.geometry.distance(from_json.geometry) < 0.2).all()  # six decimals in the CSV


def test_template_with_address_columns_is_not_personal_data(teststad, tmp_path):
    store, _ = teststad
    sheet = tmp_path / "sjabloon.csv"
    sheet.write_text("naam;soort;breedtegraad;lengtegraad;straat;huisnummer;postcode;plaats\n"
                     "Buurtkamer De Kern;buurthuis;52,3700;4,8600;Kerkstraat;4;1999aa;Teststad\n", encoding="utf-8")
    new = read_provisions_file(sheet, area=store.outline())
    assert new[["street", "house_number", "postcode", "city"]].iloc[0].tolist() == \
        ["Kerkstraat", "4", "1999 AA", "Teststad"]
    person = tmp_path / "persoon.csv"
    person.write_text("naam;soort;breedtegraad;lengtegraad;voornaam\nX;buurthuis;52,37;4,86;Jan\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="lijkt persoonsgegevens"):
        read_provisions_file(person)


def test_reimporting_an_export_with_a_filled_and_a_cleared_field(teststad, tmp_path):
    """Filling or clearing an optional field in an export and importing it again updates those provisions
    (it crashed with _UFuncOutputCastingError before), in the CLI as in the page."""
    store, files = teststad
    assert run_cli("import-provisions", str(files["geojson"]), "--mapping", str(files["koppeling"]),
                   "--store", str(store.path)).returncode == 0
    export = tmp_path / "export.xlsx"
    export.write_bytes(provisions_to_excel(store.read_table("provisions")))
    book = openpyxl.load_workbook(export)
    sheet = book["Voorzieningen"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("notities") + 1, value="elke dinsdag")
    sheet.cell(row=3, column=header.index("straat") + 1).value = None  # cell(..., value=None) would keep it
    book.save(export)
    result = run_cli("import-provisions", str(export), "--store", str(store.path))
    assert result.returncode == 0, result.stderr
    assert "0 nieuw, 2 bijgewerkt" in result.stdout
    prov = store.read_table("provisions").set_index("provision_id")
    assert prov.loc["V001", "notes"] == "elke dinsdag" and pd.isna(prov.loc["V002", "street"])
    # The export re-imported keeps the outside flag and the source id.
    assert prov["outside_areas"].sum() == OPEN_DATA_OUTSIDE
    assert prov["source_id"].notna().all()


def test_source_id_of_another_provision_is_refused(teststad, tmp_path):
    store, files = teststad
    run_cli("import-provisions", str(files["geojson"]), "--mapping", str(files["koppeling"]), "--store",
            str(store.path))
    sheet = tmp_path / "botsing.csv"
    sheet.write_text("id;naam;soort;breedtegraad;lengtegraad;bron_id\n"
                     "V001;Buurtkamer 1;buurthuis;52,3669;4,8509;MVZN-0002\n", encoding="utf-8")
    before = _digest(store.path)
    result = run_cli("import-provisions", str(sheet), "--store", str(store.path))
    assert result.returncode == 2 and "hoort bij voorziening V002, niet bij V001" in result.stderr
    assert _digest(store.path) == before


def test_geopackage_in_rd_and_excel_with_real_date_cells(teststad, tmp_path):
    """The same set as a GeoPackage in RD New and as an Excel sheet in which Excel made dates of house
    numbers (a date cell, not a serial): same provisions, the date is not taken as a house number."""
    import datetime

    import geopandas as gpd

    store, files = teststad
    mapping = read_mapping(files["koppeling"])
    reference = _prepare(store, read_provision_source(files["geojson"]), mapping).provisions
    gpkg = tmp_path / "mvzn.gpkg"
    gpd.read_file(files["geojson"]).to_crs(28992).to_file(gpkg, driver="GPKG")
    from_gpkg = _prepare(store, read_provision_source(gpkg), mapping).provisions
    assert from_gpkg["source_id"].tolist() == reference["source_id"].tolist()
    assert (from_gpkg.geometry.distance(reference.geometry) < 0.01).all()

    frame = pd.read_csv(files["csv"], sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    xlsx = tmp_path / "mvzn.xlsx"
    frame.to_excel(xlsx, index=False)
    book = openpyxl.load_workbook(xlsx)
    sheet = book.active
    col = [c.value for c in sheet[1]].index("Huisnummer") + 1
    sheet.cell(row=2, column=col).value = datetime.datetime(2026, 3, 1)  # '1-3' typed, a date stored
    book.save(xlsx)
    prepared = _prepare(store, read_provision_source(xlsx), mapping)
    first = prepared.provisions.set_index("source_id").loc["MVZN-0001"]
    assert pd.isna(first["house_number"])
    assert any(w["rij"] == 2 and w["kolom"] == "huisnummer" for w in prepared.warnings)
    assert prepared.provisions["source_id"].tolist() == reference["source_id"].tolist()

"""Open Referral HSDS 3.0: the round trip (CSV tables and JSON) is lossless, hostile HSDS changes nothing."""

import hashlib
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data.errors import DataValidationError
from data.hsds import (
    RESOURCES,
    UNKNOWN_ORGANISATION,
    X,
    inventory_to_hsds,
    read_hsds_dir,
    write_hsds_csv,
    write_hsds_json,
)
from data.schema import CRS_EPSG
from data.store import GeoPackageStore
from tests.test_cli import run_cli
from tests.towns import ORIGIN_RD, build_state, write_town_files

# Hand-made provisions next to Teststad's three open-data ones: every field filled, every optional field
# empty, all statuses, a point outside the areas, Dutch characters, texts a spreadsheet would evaluate.
HANDMADE = [
    {"provision_id": "V101", "name": "Café 't Hoekje — ontmoeting", "type": "grip_en_glans",
     "organisation": "Stichting Welzijn Súdwest & Co", "reach_m": 1234.125,  # 3 decimals: not '1.234' thousands
     "target_groups": "psychisch_kwetsbaren;eenzamen", "capacity_per_year": 24, "capacity_unit": "plaatsen per jaar",
     "volunteers": 3, "status": "onder_druk", "funding_source": "Wmo-subsidie gemeente",
     "funding_end": "2027-03-01", "evidence_label": "Erkend (Movisie)", "contact": "info@welzijn-sudwest.nl",
     "last_verified": "2026-09-10", "notes": '=HYPERLINK("http://example.org";"klik")',
     "street": "Burgemeester de Withstraat", "house_number": "12-14", "postcode": "1999 AA", "city": "Teststad",
     "source_id": "OD-77", "outside_areas": False, "xy": (450.0, 450.0)},
    {"provision_id": "V102", "name": "Leeg", "type": "buurthuis", "organisation": None, "reach_m": np.nan,
     "target_groups": None, "capacity_per_year": None, "capacity_unit": None, "volunteers": None,
     "status": "gestopt", "funding_source": None, "funding_end": None, "evidence_label": None, "contact": None,
     "last_verified": None, "notes": None, "street": None, "house_number": None, "postcode": None, "city": None,
     "source_id": None, "outside_areas": False, "xy": (1350.0, 450.0)},
    {"provision_id": "V103", "name": "+Jongeren ‘buiten’ de gemeente", "type": "jongerenwerk",
     "organisation": 'Ünïcode B.V. "dubbel"', "reach_m": 1500.0, "target_groups": "jongeren",
     "capacity_per_year": 10, "capacity_unit": None, "volunteers": 0, "status": "actief", "funding_source": None,
     "funding_end": "2026-12-31", "evidence_label": None, "contact": "058-2345678",
     "last_verified": "2025-01-02", "notes": "Regel 1\nRegel 2; met ; en , tekens", "street": None,
     "house_number": None, "postcode": None, "city": "Leeuwarden", "source_id": None, "outside_areas": True,
     "xy": (9000.0, 450.0)},
    {"provision_id": "V104", "name": "@Home koffie", "type": "buurthuis", "organisation": "Stichting Welzijn Súdwest & Co",
     "reach_m": 800.0, "target_groups": "alle_bewoners", "capacity_per_year": None,
     "capacity_unit": "bezoekers per jaar", "volunteers": 12, "status": "actief", "funding_source": "Fonds -10%",
     "funding_end": None, "evidence_label": None, "contact": "Ma-vr 9-17 uur, vraag naar Joke",
     "last_verified": "2026-02-28", "notes": None, "street": "Kade", "house_number": "1a", "postcode": None,
     "city": None, "source_id": "OD-78", "outside_areas": False, "xy": (450.0, 1350.0)},
]
GEOMETRY_TOLERANCE_M = 0.01


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _handmade() -> gpd.GeoDataFrame:
    rows = pd.DataFrame(HANDMADE)
    xy = np.array(rows.pop("xy").tolist()) + np.array(ORIGIN_RD)
    frame = gpd.GeoDataFrame(rows, geometry=shapely.points(xy), crs=CRS_EPSG)
    for col in ("capacity_per_year", "volunteers"):
        frame[col] = frame[col].astype("Int64")
    for col in ("funding_end", "last_verified"):
        frame[col] = pd.to_datetime(frame[col])
    frame["outside_areas"] = frame["outside_areas"].astype(bool)
    return frame


@pytest.fixture()
def town(tmp_path):
    """Teststad twice with the same areas: ``a`` with its open data and the hand-made provisions, ``b`` empty."""
    files = write_town_files(tmp_path / "bronnen")
    a = build_state(GeoPackageStore.create_new(tmp_path / "a.gpkg"), files, "voorzieningen")
    a.import_provisions(_handmade(), user="test", source="handmatig")
    b = build_state(GeoPackageStore.create_new(tmp_path / "b.gpkg"), files, "gebieden")
    return a, b


def _export(store: GeoPackageStore, folder, form: str = "csv"):
    tables = inventory_to_hsds(store.read_table("provisions"), store.read_provision_types())
    if form == "json":
        write_hsds_json(tables, folder)
    else:
        write_hsds_csv(tables, folder)
    return folder


def _import(store: GeoPackageStore, folder) -> dict:
    provisions = read_hsds_dir(folder, store.read_provision_types(), area=store.outline(),
                               next_number=store.next_provision_number(), existing=store.read_table("provisions"))
    return store.import_provisions(provisions, user="test", source=folder.name, sha256=None)


def _assert_same(expected: gpd.GeoDataFrame, got: gpd.GeoDataFrame) -> None:
    """Every column equal (the version is the store's bookkeeping), points within a centimetre."""
    pd.testing.assert_frame_equal(expected.drop(columns=["geometry", "version"]).reset_index(drop=True),
                                  got.drop(columns=["geometry", "version"]).reset_index(drop=True))
    moved = shapely.distance(expected.geometry.to_numpy(), got.geometry.to_numpy())
    assert (moved < GEOMETRY_TOLERANCE_M).all(), moved


@pytest.mark.parametrize("form", ["csv", "json"])
def test_round_trip_is_lossless(town, tmp_path, form):
    a, b = town
    expected = a.read_table("provisions")
    assert len(expected) == 7 and set(expected["status"]) == {"actief", "onder_druk", "gestopt"}
    assert expected.loc[expected["provision_id"] == "V103", "outside_areas"].item()
    assert expected["buurt_code"].isna().sum() == 1  # the point outside the areas
    folder = _export(a, tmp_path / "hsds", form)

    counts = _import(b, folder)
    assert counts == {"nieuw": 7, "bijgewerkt": 0, "ongewijzigd": 0}
    got = b.read_table("provisions")
    _assert_same(expected, got)
    assert got["provision_id"].tolist() == ["V001", "V002", "V003", "V101", "V102", "V103", "V104"]
    empty = got.set_index("provision_id").loc["V102"]
    assert empty[["reach_m", "target_groups", "capacity_unit", "organisation"]].isna().all()  # no defaults
    assert got.set_index("provision_id").loc["V101", "notes"].startswith("=HYPERLINK")

    # The same export again changes nothing, in the new store and in the one it came from.
    assert _import(b, folder) == {"nieuw": 0, "bijgewerkt": 0, "ongewijzigd": 7}
    assert _import(a, folder) == {"nieuw": 0, "bijgewerkt": 0, "ongewijzigd": 7}
    _assert_same(expected, b.read_table("provisions"))
    # A re-export is stable: the same UUIDs for the same provisions, organisations and types.
    again = inventory_to_hsds(b.read_table("provisions"), b.read_provision_types())
    first = inventory_to_hsds(expected, a.read_provision_types())
    for name in RESOURCES:
        assert again[name]["id"].tolist() == first[name]["id"].tolist(), name


def test_csv_tables_are_hsds(town, tmp_path):
    a, _ = town
    folder = _export(a, tmp_path / "hsds")
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["profile"] == "tabular-data-package"
    assert {r["name"] for r in descriptor["resources"]} >= {"organization", "service", "location",
                                                             "service_at_location", "service_capacity", "unit"}
    for resource in descriptor["resources"]:
        header = (folder / resource["path"]).read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        assert header == [f["name"] for f in resource["schema"]["fields"]], resource["name"]
    services = pd.read_csv(folder / "services.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    by_id = services.set_index(X + "provision_id")
    assert by_id.loc["V102", "status"] == "inactive" and by_id.loc["V101", "status"] == "active"
    assert by_id.loc["V101", X + "status"] == "onder_druk"
    assert by_id.loc["V101", "email"] == "info@welzijn-sudwest.nl"
    assert by_id.loc["V101", "assured_date"] == "2026-09-10"
    assert by_id.loc["V101", "description"].startswith("'=HYPERLINK")  # the formula protection of data.export
    funding = pd.read_csv(folder / "funding.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert sorted(funding[X + "end_date"]) == ["", "2026-12-31", "2027-03-01"]
    capacity = pd.read_csv(folder / "service_capacity.csv", dtype=str, encoding="utf-8-sig")
    assert sorted(capacity["maximum"].astype(float)) == [10.0, 24.0]
    organizations = pd.read_csv(folder / "organizations.csv", dtype=str, encoding="utf-8-sig")
    assert UNKNOWN_ORGANISATION in set(organizations["name"])
    addresses = pd.read_csv(folder / "addresses.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "Burgemeester de Withstraat 12-14" in set(addresses["address_1"])
    assert set(addresses["country"]) == {"NL"}
    phones = pd.read_csv(folder / "phones.csv", dtype=str, encoding="utf-8-sig")
    assert phones["number"].tolist() == ["058-2345678"]


def test_json_is_a_page_of_nested_services(town, tmp_path):
    a, _ = town
    page = json.loads((_export(a, tmp_path / "hsds", "json") / "services.json").read_text(encoding="utf-8"))
    assert page["total_items"] == 7 and len(page["contents"]) == 7
    service = next(s for s in page["contents"] if s[X + "provision_id"] == "V101")
    assert service["organization"]["name"] == "Stichting Welzijn Súdwest & Co"
    location = service["service_at_locations"][0]["location"]
    assert 51 < location["latitude"] < 54 and 3 < location["longitude"] < 8
    assert location["addresses"][0]["postal_code"] == "1999 AA"
    assert service["capacities"][0]["maximum"] == 24 and service["capacities"][0]["unit"]["name"] == "plaatsen per jaar"
    assert service["funding"][0][X + "end_date"] == "2027-03-01"
    assert service["attributes"][0]["taxonomy_term"]["code"] == "grip_en_glans"
    assert service["description"].startswith("=HYPERLINK")  # JSON needs no formula protection


def test_foreign_hsds_gets_new_ids_and_updates_on_reimport(town, tmp_path):
    _, b = town
    folder = tmp_path / "buurman"
    folder.mkdir()
    service = {
        "id": "0d4c7f43-6a3f-4d1c-9e49-6a1a3c1f0001", "name": "Inloop De Brug", "status": "temporarily closed",
        "email": "brug@example.org", "assured_date": "2026-05-04T09:30:00Z",
        "organization": {"id": "org-1", "name": "Buurtwerk Noord", "description": "Opbouwwerk."},
        "service_at_locations": [{"id": "sal-1", "location": {
            "id": "loc-1", "location_type": "physical", "latitude": 52.3681, "longitude": 4.8565,
            "addresses": [{"id": "adr-1", "address_1": "Kerkstraat 4a", "city": "Teststad", "postal_code": "1999AA",
                           "state_province": "", "country": "NL", "address_type": "physical"}]}}],
        "attributes": [{"id": "att-1", "taxonomy_term": {"id": "term-1", "name": "Buurthuis / ontmoetingsplek",
                                                         "description": "", "taxonomy": "eigen"}}],
        "funding": [{"id": "f-1", "source": "Gemeente"}, {"id": "f-2", "source": "Fonds"}],
    }
    (folder / "diensten.json").write_text(json.dumps([service]), encoding="utf-8")
    assert _import(b, folder) == {"nieuw": 1, "bijgewerkt": 0, "ongewijzigd": 0}
    got = b.read_table("provisions").iloc[0]
    assert (got["provision_id"], got["source_id"], got["type"], got["status"]) == (
        "V001", "0d4c7f43-6a3f-4d1c-9e49-6a1a3c1f0001", "buurthuis", "gestopt")
    assert (got["street"], got["house_number"], got["postcode"], got["city"]) == ("Kerkstraat", "4a", "1999 AA",
                                                                                  "Teststad")
    assert (got["organisation"], got["contact"], got["funding_source"]) == ("Buurtwerk Noord", "brug@example.org",
                                                                            "Gemeente; Fonds")
    assert got["last_verified"] == pd.Timestamp("2026-05-04") and got["reach_m"] == 1000.0  # the type's default
    assert _import(b, folder) == {"nieuw": 0, "bijgewerkt": 0, "ongewijzigd": 1}


def _edit_csv(folder, name, change) -> None:
    path = folder / name
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    change(frame)
    path.write_text(frame.to_csv(index=False), encoding="utf-8")


def _blank_first(column):
    def change(frame):
        frame.loc[0, column] = ""
    return change


def _rename_term(frame):
    frame.loc[frame["code"] == "grip_en_glans", "code"] = "zwemclub"
    frame.loc[frame["code"] == "zwemclub", "name"] = "Zwemclub"


def _stray_location(frame):
    frame.loc[3, "location_id"] = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(("damage", "message", "where"), [
    (lambda f: (f / "services.csv").unlink(), "tabel 'service' ontbreekt", ("services.csv", None, "")),
    (lambda f: _edit_csv(f, "locations.csv", _blank_first("latitude")), "geen coördinaten",
     ("locations.csv", 2, "latitude")),
    (lambda f: _edit_csv(f, "taxonomy_terms.csv", _rename_term), "onbekende soort 'zwemclub'",
     ("taxonomy_terms.csv", 5, "code")),
    (lambda f: _edit_csv(f, "service_at_location.csv", _stray_location), "onbekende locatie",
     ("service_at_location.csv", 5, "location_id")),
    (lambda f: _edit_csv(f, "services.csv", lambda s: s.__setitem__("assured_date", "10-09-2026")),
     "geen datum", ("services.csv", 2, "assured_date")),
], ids=["geen-service-tabel", "geen-coordinaten", "onbekende-soort", "onbekende-locatie", "datum"])
def test_hostile_csv_is_refused_and_changes_nothing(town, tmp_path, damage, message, where):
    a, b = town
    folder = _export(a, tmp_path / "hsds")
    damage(folder)
    before = _digest(b.path)
    with pytest.raises(DataValidationError, match=message) as caught:
        _import(b, folder)
    first = caught.value.problems[0]
    file, row, column = where
    assert first["bestand"] == file and first["kolom"] == column
    if row is not None:
        assert first["rij"] == row
    assert _digest(b.path) == before and b.read_table("provisions").empty


def test_hostile_json_names_the_property(town, tmp_path):
    a, b = town
    folder = _export(a, tmp_path / "hsds", "json")
    page = json.loads((folder / "services.json").read_text(encoding="utf-8"))
    del page["contents"][1]["service_at_locations"][0]["location"]["latitude"]
    page["contents"][2]["status"] = "misschien"
    page["contents"][2].pop(X + "status")
    (folder / "services.json").write_text(json.dumps(page), encoding="utf-8")
    before = _digest(b.path)
    with pytest.raises(DataValidationError, match="geen coördinaten") as caught:
        _import(b, folder)
    problems = {(p["rij"], p["kolom"]): p["melding"] for p in caught.value.problems}
    assert "geen coördinaten" in problems[(2, "contents[1].service_at_locations[0].location.latitude")]
    assert "onbekende status 'misschien'" in problems[(3, "contents[2].status")]
    assert _digest(b.path) == before


def test_checks_of_the_provisions_import_are_told_in_hsds_terms(town, tmp_path):
    a, b = town
    folder = _export(a, tmp_path / "hsds")
    _edit_csv(folder, "locations.csv", lambda f: f.__setitem__("latitude", ["40.0"] + list(f["latitude"][1:])))
    _edit_csv(folder, "services.csv", lambda f: f.__setitem__(X + "target_groups",
                                                              ["zwemmers"] + list(f[X + "target_groups"][1:])))
    with pytest.raises(DataValidationError) as caught:
        _import(b, folder)
    problems = {(p["bestand"], p["rij"], p["kolom"]): p["melding"] for p in caught.value.problems}
    assert "niet in Nederland" in problems[("locations.csv", 2, "latitude")]
    assert "onbekende doelgroep" in problems[("services.csv", 2, X + "target_groups")]
    assert b.read_table("provisions").empty


def test_cli_export_and_import_hsds(town, tmp_path):
    a, b = town
    for form in ("csv", "json"):
        folder = tmp_path / f"hsds-{form}"
        result = run_cli("export-hsds", "--store", str(a.path), "--out", str(folder), "--formaat", form,
                         "--gebruiker", "anna")
        assert result.returncode == 0, result.stderr
        assert "7 voorzieningen als Open Referral HSDS 3.0" in result.stdout
        entry = a.read_audit().iloc[0]
        assert (entry["user"], entry["action"]) == ("anna", "export-hsds")
        assert json.loads(entry["details"])["formaat"] == form
    result = run_cli("import-hsds", str(tmp_path / "hsds-csv"), "--store", str(b.path))
    assert result.returncode == 0, result.stderr
    assert "7 nieuw, 0 bijgewerkt, 0 ongewijzigd" in result.stdout
    result = run_cli("import-hsds", str(tmp_path / "hsds-json"), "--store", str(b.path))
    assert "0 nieuw, 0 bijgewerkt, 7 ongewijzigd" in result.stdout, result.stderr
    assert b.read_batches()["file_name"].tolist().count("hsds-csv") == 1
    _assert_same(a.read_table("provisions"), b.read_table("provisions"))

    broken = tmp_path / "hsds-csv"
    _edit_csv(broken, "locations.csv", _blank_first("latitude"))
    _edit_csv(broken, "taxonomy_terms.csv", _rename_term)
    before = _digest(b.path)
    result = run_cli("import-hsds", str(broken), "--store", str(b.path))
    assert result.returncode == 2
    assert "Fout: 2 probleem/problemen in de HSDS-gegevens" in result.stderr
    assert "bestand taxonomy_terms.csv" in result.stderr  # the second problem, as a row of the report
    assert _digest(b.path) == before
    # One form per folder: a JSON export into a folder with CSV tables is refused.
    result = run_cli("export-hsds", "--store", str(a.path), "--out", str(broken), "--formaat", "json")
    assert result.returncode == 2 and "kies een lege map" in result.stderr

"""The sociale kaart: template round trip, every rejection (Dutch, store unchanged), locking, points."""

import hashlib
import io
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from data.errors import ConflictError, DataValidationError
from data.provisions import provisions_to_excel, read_provision_points, read_provisions_file
from tests.conftest import realdata
from tests.test_cli import run_cli

HEADER = "id;naam;soort;organisatie;breedtegraad;lengtegraad;bereik_m;doelgroepen;capaciteit_per_jaar;" \
         "capaciteitseenheid;vrijwilligers;status;financiering;financiering_tot;erkenning;contact;" \
         "laatst_gecontroleerd;notities"
# Three provisions as a user types them in Dutch Excel: semicolons, decimal commas, dd-mm-jjjj.
GOOD_ROWS = [
    ";Koffieochtend De Linde;buurthuis;Welzijn Voorbeeldstad;52,0406;5,5709;;;350;;6;actief;Subsidie gemeente;"
    "31-12-2027;;;01-10-2026;elke dinsdag",
    ";Grip & Glans Oost;Grip & Glans;GGZ Vallei;52,0350;5,5800;2.500;psychisch_kwetsbaren;24;;2;onder druk;"
    "Wmo-budget;01-03-2027;Erkend;;15-09-2026;",
    ";Weduwenkring Kanaal;bezoekdienst_weduwen;Humanitas;52,0300;5,5650;3000;verweduwden;30;;12;gestopt;Fonds;"
    "01-01-2026;;;01-06-2025;subsidie gestopt",
]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(tmp_path, rows, name="voorzieningen.csv", encoding="utf-8-sig"):
    path = tmp_path / name
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode(encoding))
    return path


def test_new_user_round_trip(town_store, tmp_path):
    """Template -> three rows in Dutch Excel style -> import -> edit -> audit -> export -> re-import."""
    template = tmp_path / "sjabloon.xlsx"
    result = run_cli("export-provisions", "--store", str(town_store.path), "--out", str(template))
    assert result.returncode == 0
    sheet = openpyxl.load_workbook(template)["Voorzieningen"]
    assert [c.value for c in sheet[1]][:5] == ["id", "naam", "soort", "organisatie", "breedtegraad"]

    path = _write(tmp_path, GOOD_ROWS, encoding="cp1252")
    result = run_cli("import-provisions", str(path), "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    assert "3 nieuw, 0 bijgewerkt, 0 ongewijzigd" in result.stdout
    prov = town_store.read_table("provisions").set_index("provision_id")
    assert len(prov) == 43
    new = prov.loc[["V041", "V042", "V043"]]
    assert new["name"].tolist() == ["Koffieochtend De Linde", "Grip & Glans Oost", "Weduwenkring Kanaal"]
    assert new["type"].tolist() == ["buurthuis", "grip_en_glans", "bezoekdienst_weduwen"]
    assert new["status"].tolist() == ["actief", "onder_druk", "gestopt"]
    assert new["reach_m"].tolist() == [1000.0, 2500.0, 3000.0]  # empty = the type's default
    assert new.loc["V041", "funding_end"] == pd.Timestamp("2027-12-31")
    assert new["buurt_code"].notna().all()

    version = town_store.update_provision("V042", {"capacity_per_year": 30}, expected_version=1, user="anna")
    assert version == 2
    entry = town_store.read_audit().iloc[0]
    assert (entry["user"], entry["action"], entry["target"]) == ("anna", "wijzig-voorziening", "V042")
    details = json.loads(entry["details"])
    assert (details["voor"]["capacity_per_year"], details["na"]["capacity_per_year"]) == (24, 30)

    export = tmp_path / "export.xlsx"
    assert run_cli("export-provisions", "--store", str(town_store.path), "--out", str(export)).returncode == 0
    before = town_store.read_table("provisions")
    result = run_cli("import-provisions", str(export), "--store", str(town_store.path))
    assert "0 nieuw, 0 bijgewerkt, 43 ongewijzigd" in result.stdout
    after = town_store.read_table("provisions")
    pd.testing.assert_frame_equal(before.drop(columns="geometry"), after.drop(columns="geometry"))
    assert shapely.equals_exact(before.geometry.to_numpy(), after.geometry.to_numpy(), 0).all()


def test_csv_export_round_trip_is_lossless(town_store, tmp_path):
    out = tmp_path / "export.csv"
    run_cli("export-provisions", "--store", str(town_store.path), "--out", str(out))
    assert out.read_bytes()[:3] == b"\xef\xbb\xbf" and b";" in out.read_bytes()
    back = read_provisions_file(out)
    assert town_store.import_provisions(back, user="t") == {"nieuw": 0, "bijgewerkt": 0, "ongewijzigd": 40}


FORMULA_NAME = '=HYPERLINK("http://x","klik")'
FORMULA_FIELDS = {"name": FORMULA_NAME, "organisation": "@buurtteam", "contact": "+31 6 12345678",
                  "notes": "-1+2 deelnemers"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_like_text_round_trips_as_text(town_store, tmp_path, suffix):
    """Text that a spreadsheet would evaluate is exported as text and comes back exactly as it was."""
    town_store.update_provision("V001", FORMULA_FIELDS, expected_version=1, user="anna")
    before = town_store.read_table("provisions")
    out = tmp_path / f"export{suffix}"
    assert run_cli("export-provisions", "--store", str(town_store.path), "--out", str(out)).returncode == 0
    if suffix == ".csv":
        text = out.read_bytes().decode("utf-8-sig")
        assert "'=HYPERLINK(\"\"http://x\"\",\"\"klik\"\")" in text and ";'@buurtteam;" in text
        assert ";=HYPERLINK" not in text and ";\"=HYPERLINK" not in text
    else:
        sheet = openpyxl.load_workbook(out)["Voorzieningen"]
        cell = next(c for c in sheet["B"] if c.value == FORMULA_NAME)
        assert cell.data_type == "s"
        assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    back = read_provisions_file(out, area=town_store.outline())
    assert back.set_index("provision_id").loc["V001", list(FORMULA_FIELDS)].to_dict() == FORMULA_FIELDS
    assert town_store.import_provisions(back, user="t") == {"nieuw": 0, "bijgewerkt": 0, "ongewijzigd": 40}
    after = town_store.read_table("provisions")
    pd.testing.assert_frame_equal(before.drop(columns="geometry"), after.drop(columns="geometry"))


def test_only_the_export_mark_is_removed_on_import(tmp_path):
    """A quote before a formula character is the export's mark; any other quote belongs to the text."""
    rows = ["V1;'=1+1;buurthuis;'s-Hertogenbosch;52,04;5,57;;;10;;;;;;;'+31 6 1;;''=2",
            "V2;''+1;buurthuis;'-;52,04;5,57;;;10;;;;;;;;;'x"]
    back = read_provisions_file(_write(tmp_path, rows)).set_index("provision_id")
    assert back.loc["V1", ["name", "organisation", "contact", "notes"]].tolist() == [
        "=1+1", "'s-Hertogenbosch", "+31 6 1", "'=2"]
    assert back.loc["V2", ["name", "organisation", "notes"]].tolist() == ["'+1", "-", "'x"]


def test_changed_export_updates_instead_of_duplicating(town_store, tmp_path):
    sheet = pd.read_excel(io.BytesIO(provisions_to_excel(town_store.read_table("provisions"))), dtype=str)
    sheet.loc[sheet["id"] == "V005", "capaciteit_per_jaar"] = "99"
    path = tmp_path / "gewijzigd.xlsx"
    sheet.to_excel(path, index=False)
    counts = town_store.import_provisions(read_provisions_file(path), user="t")
    assert counts == {"nieuw": 0, "bijgewerkt": 1, "ongewijzigd": 39}
    prov = town_store.read_table("provisions").set_index("provision_id")
    assert prov.loc["V005", "capacity_per_year"] == 99 and prov.loc["V005", "version"] == 2


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (";Iets;kookclub;;52,04;5,57;;;10;;;;;;;;;", "soort", "onbekende soort 'kookclub'"),
        (";Iets;buurthuis;;52,04;5,57;;;veel;;;;;;;;;", "capaciteit_per_jaar", "'veel' is geen getal"),
        (";Iets;buurthuis;;40,0;5,57;;;10;;;;;;;;;", "breedtegraad", "niet in Nederland"),
        (";Iets;buurthuis;;52,04;5,57;;;10;;;misschien;;;;;;", "status", "onbekende status 'misschien'"),
        (";Iets;buurthuis;;52,04;5,57;;;10;;;;;31-02-2027;;;;", "financiering_tot", "geen datum"),
        (";;buurthuis;;52,04;5,57;;;10;;;;;;;;;", "naam", "mag niet leeg zijn"),
        (";Iets;buurthuis;;52,04;5,57;;kinderen;10;;;;;;;;;", "doelgroepen", "onbekende doelgroep"),
        (";Iets;buurthuis;;52,04;5,57;;;-5;;;;;;;;;", "capaciteit_per_jaar", "niet negatief"),
    ],
)
def test_every_rejection_is_dutch_and_changes_nothing(town_store, tmp_path, row, column, message):
    path = _write(tmp_path, [GOOD_ROWS[0], row])
    before = _digest(town_store.path)
    result = run_cli("import-provisions", str(path), "--store", str(town_store.path))
    assert result.returncode == 2
    assert message in result.stderr
    assert f"rij 3, kolom '{column}'" in result.stderr
    assert _digest(town_store.path) == before


def test_duplicate_ids_and_row_report(town_store, tmp_path):
    rows = [GOOD_ROWS[0].replace(";Koffie", "X1;Koffie", 1), GOOD_ROWS[1].replace(";Grip", "X1;Grip", 1),
            ";Iets;kookclub;;52,04;5,57;;;veel;;;;;;;;;"]
    with pytest.raises(DataValidationError) as info:
        read_provisions_file(_write(tmp_path, rows), area=town_store.outline())
    problems = pd.DataFrame(info.value.problems)
    assert problems[["rij", "kolom"]].values.tolist() == [[3, "id"], [4, "capaciteit_per_jaar"], [4, "soort"]]
    assert "X1" in problems.loc[0, "melding"]


def test_missing_columns_and_personal_data(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("naam;soort\nA;buurthuis\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="Verplichte kolommen ontbreken: breedtegraad"):
        read_provisions_file(path)
    path.write_text("naam;soort;breedtegraad;lengtegraad;BSN\nA;buurthuis;52;5;123456782\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="persoonsgegevens"):
        read_provisions_file(path)


def test_empty_file_is_refused(town_store, tmp_path):
    path = tmp_path / "leeg.csv"
    path.write_bytes(b"")
    before = _digest(town_store.path)
    result = run_cli("import-provisions", str(path), "--store", str(town_store.path))
    assert result.returncode == 2 and "leeg" in result.stderr
    assert _digest(town_store.path) == before


def test_second_of_two_simultaneous_edits_is_refused(town_store):
    first = town_store.read_table("provisions").set_index("provision_id").loc["V010", "version"]
    town_store.update_provision("V010", {"name": "Eerste"}, expected_version=first, user="anna")
    before = _digest(town_store.path)
    with pytest.raises(ConflictError, match="intussen door iemand anders gewijzigd"):
        town_store.update_provision("V010", {"name": "Tweede"}, expected_version=first, user="bob")
    assert _digest(town_store.path) == before
    assert town_store.read_table("provisions").set_index("provision_id").loc["V010", "name"] == "Eerste"
    with pytest.raises(ConflictError):
        town_store.delete_provision("V010", expected_version=first, user="bob")
    town_store.delete_provision("V010", expected_version=first + 1, user="anna")
    assert "V010" not in set(town_store.read_table("provisions")["provision_id"])
    assert town_store.read_audit().iloc[0]["action"] == "verwijder-voorziening"


def test_real_facility_points_need_a_type_map(tmp_path):
    path = realdata("haarlem_facilities_nonosm.geojson")
    with pytest.raises(DataValidationError, match=r"64 rijen.*school_primary.*vertaling van bronwaarde naar soort"):
        read_provision_points(path)
    mapping = {"school_primary": "jongerenwerk", "school_secondary": "jongerenwerk", "care_ggz": "grip_en_glans",
               "care_ghz": "maatjesproject", "care_vvt": "mantelzorgondersteuning", "hospital": "buurthuis"}
    points = read_provision_points(path, type_map=mapping)
    assert len(points) == 64
    assert points["type"].value_counts().to_dict() == {"jongerenwerk": 48, "grip_en_glans": 6,
                                                       "mantelzorgondersteuning": 6, "maatjesproject": 2,
                                                       "buurthuis": 2}
    assert (points["reach_m"] > 0).all()
    one_type = read_provision_points(path, type_for_all="buurthuis")
    assert set(one_type["type"]) == {"buurthuis"}


def test_real_points_outside_the_areas_are_flagged_or_skipped(town_store, tmp_path):
    """Zaanstad's facilities are all outside the demo municipality: a choice, not a failure."""
    path = realdata("zaanstad_facilities_nonosm.geojson")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({k: "buurthuis" for k in ("school_primary", "school_secondary", "care_ggz",
                                                             "care_ghz", "care_vvt", "hospital")}))
    before = _digest(town_store.path)
    skipped = run_cli("import-provisions", str(path), "--type-map", str(mapping), "--outside-areas", "skip",
                      "--store", str(town_store.path))
    assert skipped.returncode == 0, skipped.stderr
    assert "Niets te importeren: 0 nieuw, 0 bijgewerkt, 0 ongewijzigd, 67 overgeslagen (67 buiten de geladen " \
           "gebieden)" in skipped.stdout
    assert _digest(town_store.path) == before
    flagged = run_cli("import-provisions", str(path), "--type-map", str(mapping), "--store", str(town_store.path))
    assert flagged.returncode == 0, flagged.stderr
    assert "67 nieuw" in flagged.stdout and "67 buiten de geladen gebieden" in flagged.stdout
    prov = town_store.read_table("provisions")
    outside = prov.loc[prov["outside_areas"]]
    assert len(outside) == 67 and outside["buurt_code"].isna().all()
    assert not prov.loc[~prov["outside_areas"], "buurt_code"].isna().any()


def test_template_row_outside_the_municipality_is_flagged(town_store, tmp_path):
    path = _write(tmp_path, [GOOD_ROWS[0], ";Iets;buurthuis;;53,20;5,80;;;10;;;;;;;;;"])
    result = run_cli("import-provisions", str(path), "--store", str(town_store.path))
    assert result.returncode == 0, result.stderr
    assert "2 nieuw" in result.stdout and "1 buiten de geladen gebieden" in result.stdout
    prov = town_store.read_table("provisions").set_index("name")
    assert bool(prov.loc["Iets", "outside_areas"]) and not bool(prov.loc["Koffieochtend De Linde", "outside_areas"])


def test_real_points_import_into_their_own_municipality(tmp_path):
    from data.area_import import read_area_file
    from data.store import GeoPackageStore

    store = GeoPackageStore.open(tmp_path / "leeuwarden.gpkg")
    areas = read_area_file(realdata("leeuwarden_buurten_2015.geojson"))
    store.merge_area_data(areas.areas, areas.values, user="t")
    result = run_cli("import-provisions", str(realdata("leeuwarden_facilities_nonosm.geojson")), "--type",
                     "buurthuis", "--store", str(store.path))
    assert result.returncode == 0, result.stderr
    assert "65 nieuw" in result.stdout
    prov = store.read_table("provisions")
    assert prov["buurt_code"].str.startswith("BU0080").mean() > 0.9


def test_filters(demo):
    from data.provisions import filter_provisions

    prov = demo.provisions
    today = pd.Timestamp("2026-09-01")
    soon = filter_provisions(prov, funding_within_months=6, today=today)
    assert ((soon["funding_end"] >= today) & (soon["funding_end"] <= today + pd.DateOffset(months=6))).all()
    assert len(soon) == ((prov["funding_end"] >= today) & (prov["funding_end"] <= pd.Timestamp("2027-03-01"))).sum()
    stale = filter_provisions(prov, unverified_days=365, today=today)
    assert (stale["last_verified"] < today - pd.Timedelta(days=365)).all() and len(stale) > 0
    kanaal = filter_provisions(prov, wijk_code="WK999901")
    assert kanaal["buurt_code"].str.startswith("BU999901").all() and len(kanaal) > 0
    widows = filter_provisions(prov, target_group="verweduwden", statuses=["actief", "onder_druk"])
    assert set(widows["type"]) == {"bezoekdienst_weduwen"} and len(widows) == 2


def test_reach_by_type_counts_by_hand():
    import geopandas as gpd

    from mapping.provisions import provisions_near, reach_by_type

    area = shapely.box(0, 0, 1000, 1000)
    prov = gpd.GeoDataFrame({
        "name": ["In", "Dichtbij", "Ver", "Gestopt"],
        "type": ["buurthuis", "buurthuis", "buurthuis", "bezoekdienst_weduwen"],
        "status": ["actief", "onder_druk", "actief", "gestopt"],
        "reach_m": [500.0, 800.0, 800.0, 5000.0],
        "capacity_per_year": [100, 50, 20, 30],
        "funding_end": pd.to_datetime(["2027-01-01", None, None, "2025-01-01"]),
    }, geometry=[shapely.Point(500, 500), shapely.Point(1700, 500), shapely.Point(2000, 500),
                 shapely.Point(1200, 500)], crs=28992)
    # The area's location is the point inside it the gap page uses for a buurt: (500, 500) here. 'Dichtbij'
    # is 700 m from the edge but 1 200 m from that point, beyond its 800 m; a stopped one reaches nobody.
    assert shapely.equals(shapely.point_on_surface(area), shapely.Point(500, 500))
    table = reach_by_type(prov, area).set_index("Soort")
    assert table.loc["Buurthuis / ontmoetingsplek"].tolist() == [1, 0, 0, "in het gebied"]
    assert table.loc["Bezoekdienst weduwen en weduwnaars"].tolist() == [0, 0, 1, "geen"]
    near = provisions_near(prov, area, distance_m=1000)
    assert near["Naam"].tolist() == ["In", "Gestopt", "Dichtbij", "Ver"]
    assert near["Binnen bereik"].tolist() == ["ja", "nee (gestopt)", "nee", "nee"]
    # Without a reach of its own the type's default counts (buurthuis: 1 000 m), never 0.
    prov.loc[1, "reach_m"] = np.nan
    prov.loc[1, "geometry"] = shapely.Point(1400, 500)  # 900 m from the area's point
    assert reach_by_type(prov, area).set_index("Soort").loc["Buurthuis / ontmoetingsplek"].tolist()[:2] == [1, 1]
    assert near["Afstand"].tolist() == ["in het gebied", "200 m", "700 m", "1.000 m"]

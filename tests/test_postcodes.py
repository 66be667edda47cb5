"""Postcodes -> buurt: the CBS postcode of a buurt, the CBS PC6 table, the search, the store and the gate."""

import hashlib
import shutil

import geopandas as gpd
import pandas as pd
import pytest

from data import auth
from data.access import AccessDenied, ScopedStore
from data.area_import import read_area_file
from data.auth import User
from data.errors import DataValidationError
from data.postcodes import (
    SEARCH_COLUMNS,
    describe_postcode_table,
    normalise_postcode,
    postcode_table_warnings,
    read_postcode_table,
    search_areas,
)
from data.store import DemoStoreError, GeoPackageStore, file_sha256
from tests.conftest import realdata
from tests.towns import GEMEENTE, build_state, write_town_files

ZAANSTAD_2017 = "zaanstad_buurten_2017.geojson"
# Three buurten of Zaanstad (GM0479): CBS's most common postcode of each in the 2017 buurtkaart.
ACHTERSLUISPOLDER, BOMENBUURT, BURGEMEESTERSBUURT = "BU04791110", "BU04791120", "BU04791130"


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cbs_per_address(path, rows, year=2020):
    """Write rows (pc6, house number, buurt code as CBS digits) as CBS publishes pc6hnr: ';', no BU prefix."""
    lines = [f"PC6;Huisnummer;Buurt{year};Wijk{year};Gemeente{year}"]
    lines += [f"{pc};{nr};{bu};{bu[:-2]};{bu[:-4]}" for pc, nr, bu in rows]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def zaanstad_file(tmp_path_factory):
    """An empty store of Zaanstad's own installation with the real CBS buurtkaart 2017 imported."""
    source = realdata(ZAANSTAD_2017)
    path = tmp_path_factory.mktemp("zaanstad") / "zaanstad.gpkg"
    store = GeoPackageStore.create_new(path)
    imported = read_area_file(source)
    store.merge_area_data(imported.areas, imported.values, user="test", file_name=source.name,
                          sha256=file_sha256(source))
    return path


@pytest.fixture()
def zaanstad(zaanstad_file, tmp_path):
    path = tmp_path / "zaanstad.gpkg"
    shutil.copyfile(zaanstad_file, path)
    return GeoPackageStore.open(path, create=False)


@pytest.fixture()
def zaanstad_pc6(tmp_path):
    """The CBS per-address table for a few PC6 in Zaanstad, buurt codes with the leading zero lost (4791120).

    1505AB has two addresses in Bomenbuurt and one in Achtersluispolder (so: Bomenbuurt); 1505AA and 1505AC
    lie in Bomenbuurt, 1505AD in Achtersluispolder, 1505BA in Burgemeestersbuurt (whose CBS PC4 is 1501),
    1501AA in Burgemeestersbuurt.
    """
    rows = [("1505AA", 1, "4791120"), ("1505AA", 3, "4791120"), ("1505AB", 2, "4791120"),
            ("1505AB", 4, "4791120"), ("1505AB", 6, "4791110"), ("1505AC", 1, "4791120"),
            ("1505AD", 9, "4791110"), ("1505BA", 1, "4791130"), ("1501AA", 7, "4791130")]
    return _cbs_per_address(tmp_path / "pc6hnr20170801_gwb.csv", rows, year=2017)


# --------------------------------------------------------------------------- normalising


def test_postcodes_are_normalised_to_one_form():
    for text in ("1505 ab", "1505AB", " 1505-ab ", "1505  AB", "1505ab\t"):
        assert normalise_postcode(text) == "1505AB"
    assert normalise_postcode("1505") == "1505"
    assert normalise_postcode(" 1505 ") == "1505"
    # Not postcodes: a leading 0, never-issued letter pairs (data.addresses), too short, letters, names.
    for text in ("0505", "0505AB", "1505 SA", "1505SS", "150", "15055", "1505 A", "1505 ABC", "AB 1505",
                 "Zuiderhout", "", "   ", None):
        assert normalise_postcode(text) is None, text


# --------------------------------------------------------------------------- reading the CBS table


def test_cbs_per_address_table_gets_one_buurt_per_pc6(tmp_path):
    # Amsterdam (0363): the codes lose their leading zero as CBS's CSV is opened in Excel and saved again.
    path = _cbs_per_address(tmp_path / "pc6hnr20200801_gwb.csv", [
        ("1011AB", 1, "3630101"), ("1011AB", 3, "3630101"), ("1011AB", 5, "3630102"),  # 2 against 1
        ("1011AC", 1, "3630102"),
        ("1011AD", 2, "3630102"), ("1011AD", 4, "3630101"),  # a tie: the lowest code
        ("1011 ae", 8, "03630103"),  # written by hand: with space and lower case, leading zero kept
    ])
    table = read_postcode_table(path)
    assert list(table.columns) == ["postcode", "buurt_code", "year"]
    assert table["postcode"].tolist() == ["1011AB", "1011AC", "1011AD", "1011AE"]
    assert table["buurt_code"].tolist() == ["BU03630101", "BU03630102", "BU03630101", "BU03630103"]
    assert table["year"].tolist() == [2020] * 4 and str(table["year"].dtype) == "Int64"
    report = table.attrs["report"]
    assert report["rijen"] == 7 and report["per_adres"] and report["meerdere_buurten"] == 2
    assert report["postcodes"] == 4 and report["buurten"] == 3
    assert postcode_table_warnings(table) == [
        "2 postcodes liggen in meer dan één buurt; elk is gekoppeld aan de buurt met de meeste adressen (bij "
        "gelijke aantallen de laagste buurtcode)."]
    assert describe_postcode_table(table)[0] == "4 postcodes (PC6) in 3 buurten, buurtindeling 2020."


def test_cbs_per_pc6_table_and_own_tables(tmp_path):
    # The per-PC6 variant: one row per pair, so a PC6 in two buurten is a tie (lowest code wins).
    per_pc6 = tmp_path / "pc6-gwb2021.csv"
    per_pc6.write_text("PC6;Buurt2021;Wijk2021;Gemeente2021\n9711AA;140000;1400;14\n9711AB;140001;1400;14\n"
                       "9711AB;140000;1400;14\n", encoding="utf-8")
    table = read_postcode_table(per_pc6)
    assert table["buurt_code"].tolist() == ["BU00140000", "BU00140000"]  # Groningen: 0014 lost two zeros
    assert table["year"].tolist() == [2021, 2021]
    assert table.attrs["report"]["meerdere_buurten"] == 1 and not table.attrs["report"]["per_adres"]
    # A user's own table: comma-separated, BU codes, the year only in the file name.
    own = tmp_path / "postcodes_zaanstad_2017.csv"
    own.write_text("postcode,buurtcode\n1505 AB,BU04791120\n1506 cd,BU04792110\n", encoding="utf-8")
    table = read_postcode_table(own)
    assert table["postcode"].tolist() == ["1505AB", "1506CD"]
    assert table["buurt_code"].tolist() == ["BU04791120", "BU04792110"] and table["year"].tolist() == [2017] * 2
    # Excel, with the buurt code as a number (as Excel keeps it) and without a year anywhere.
    xlsx = tmp_path / "eigen.xlsx"
    pd.DataFrame({"Postcode": ["1505AB", "1501AA"], "Buurtcode": [4791120, 4791130]}).to_excel(xlsx, index=False)
    table = read_postcode_table(xlsx)
    assert table["buurt_code"].tolist() == ["BU04791130", "BU04791120"]  # sorted by postcode
    assert table["year"].isna().all()


def test_bad_tables_are_refused_with_file_row_and_column(tmp_path):
    empty = tmp_path / "leeg.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataValidationError, match="leeg"):
        read_postcode_table(empty)
    header_only = tmp_path / "kop.csv"
    header_only.write_text("PC6;Buurt2020\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="geen gegevensrijen"):
        read_postcode_table(header_only)
    no_buurt = tmp_path / "zonder_buurt.csv"
    no_buurt.write_text("PC6;Huisnummer;Gemeente2020\n1011AB;1;363\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="Geen kolom met de buurtcode") as err:
        read_postcode_table(no_buurt, file_name="upload.csv")
    assert err.value.file == "upload.csv" and "'Gemeente2020'" in str(err.value)
    no_pc = tmp_path / "zonder_pc.csv"
    no_pc.write_text("adres;Buurt2020\nDam 1;3630101\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="Geen kolom met de postcode"):
        read_postcode_table(no_pc)
    bad = _cbs_per_address(tmp_path / "fout.csv", [("1011AB", 1, "3630101"), ("1011", 2, "3630101"),
                                                    ("1011AB", 3, "363-01"), ("0111AB", 4, "3630101")])
    with pytest.raises(DataValidationError, match="3 problemen") as err:
        read_postcode_table(bad)
    found = [(p["rij"], p["kolom"]) for p in err.value.problems]
    assert found == [(3, "PC6"), (4, "Buurt2020"), (5, "PC6")]
    assert err.value.file == "fout.csv" and err.value.row == 3 and err.value.column == "PC6"
    assert "'1011' is geen postcode van zes tekens" in err.value.problems[0]["melding"]


def test_known_buurten_skip_other_gemeenten_and_refuse_unknown_ones(tmp_path):
    path = _cbs_per_address(tmp_path / "pc6hnr20170801_gwb.csv", [
        ("1505AA", 1, "4791120"), ("1011AB", 1, "3630101"), ("1505AB", 1, "4799999")], year=2017)
    known = {ACHTERSLUISPOLDER, BOMENBUURT}
    with pytest.raises(DataValidationError, match="1 probleem") as err:
        read_postcode_table(path, known_buurten=known)
    assert (err.value.row, err.value.column) == (4, "Buurt2017") and "BU04799999" in str(err.value)
    path = _cbs_per_address(tmp_path / "pc6hnr20170801_gwb.csv", [("1505AA", 1, "4791120"), ("1011AB", 1, "3630101")])
    table = read_postcode_table(path, known_buurten=known)
    assert table["postcode"].tolist() == ["1505AA"] and table.attrs["report"]["buiten_gemeente"] == 1
    assert "1 rij voor een buurt van een andere gemeente is overgeslagen." in describe_postcode_table(table)
    only_amsterdam = _cbs_per_address(tmp_path / "adam.csv", [("1011AB", 1, "3630101")])
    with pytest.raises(DataValidationError, match="Geen van de postcodes ligt in een gemeente uit de opslag"):
        read_postcode_table(only_amsterdam, known_buurten=known)
    with pytest.raises(DataValidationError, match="nog geen buurten"):
        read_postcode_table(only_amsterdam, known_buurten=set())


# --------------------------------------------------------------------------- search


def _areas(rows):
    return pd.DataFrame(rows, columns=["area_code", "name", "level", "postcode"])


def test_search_by_name_ignores_case_and_accents_exact_first():
    areas = _areas([
        ("GM0001", "Café", "gemeente", None),  # gemeenten are not searched
        ("WK000101", "Oude Kern", "wijk", None),
        ("BU00010101", "Cafébuurt", "buurt", "1234"),
        ("BU00010102", "Het Café", "buurt", "1234"),
        ("BU00010103", "Café", "buurt", "1234"),
        ("BU00010104", "Kern-Oost", "buurt", "1234"),
    ])
    found = search_areas("  CAFE ", areas, None)
    assert list(found.columns) == list(SEARCH_COLUMNS)
    # exact, then starting with it, then containing it
    assert found["area_code"].tolist() == ["BU00010103", "BU00010101", "BU00010102"]
    assert set(found["match"]) == {"naam"} and set(found["level"]) == {"buurt"}
    kern = search_areas("kérn", areas, None)
    assert kern["area_code"].tolist() == ["BU00010104", "WK000101"]
    assert kern["level"].tolist() == ["buurt", "wijk"]
    nothing = search_areas("Zaandam", areas, None)
    assert nothing.empty and list(nothing.columns) == list(SEARCH_COLUMNS)
    assert search_areas("", areas, None).empty and search_areas("cafe", areas.iloc[:0], None).empty


def test_search_on_teststad_finds_wijken_and_buurten(empty_store, tmp_path):
    store = build_state(empty_store, write_town_files(tmp_path / "teststad"), "gebieden")
    areas = store.read_areas()
    assert areas["postcode"].isna().all()  # Teststad's buurtkaart has no postcode column
    assert search_areas("noord", areas, store.read_table("postcodes"))[["area_code", "level"]].values.tolist() == [
        ["WK199901", "wijk"]]
    assert search_areas("PARKZOOM", areas, None)["area_code"].tolist() == ["BU19990102"]
    # A postcode that finds nothing falls back to the names: none has digits in it.
    assert search_areas("1999", areas, None).empty
    assert search_areas(GEMEENTE, areas, None).empty


def test_search_by_pc4_uses_the_cbs_postcode_of_the_real_zaanstad_file(zaanstad):
    raw = gpd.read_file(realdata(ZAANSTAD_2017))
    expected = set(raw.loc[raw["postcode"] == "1506", "bu_code"])
    assert len(expected) == 7  # the 2017 buurtkaart gives seven buurten 1506 as their most common PC4
    areas = zaanstad.read_areas()
    stored = areas.loc[areas["level"] == "buurt"].set_index("area_code")["postcode"]
    assert stored.to_dict() == raw.set_index("bu_code")["postcode"].to_dict()
    assert areas.loc[areas["level"] != "buurt", "postcode"].isna().all()
    found = search_areas("1506", areas, zaanstad.read_table("postcodes"))
    assert set(found["area_code"]) == expected and set(found["level"]) == {"buurt"}
    assert set(found["match"]) == {"postcode 1506 (meest voorkomende postcode volgens CBS)"}
    assert found["name"].is_monotonic_increasing  # equal rank: by name
    assert search_areas("1599", areas, None).empty


def test_cbs_secret_or_odd_postcodes_are_missing(tmp_path):
    raw = gpd.read_file(realdata(ZAANSTAD_2017)).head(4)
    raw["postcode"] = ["-99999999", ".", "150", " 1505 "]
    path = tmp_path / "buurt_2017.geojson"
    raw.to_file(path, driver="GeoJSON")
    areas = read_area_file(path).areas
    buurten = areas.loc[areas["level"] == "buurt"]
    assert buurten["postcode"].isna().tolist() == [True, True, True, False]
    assert buurten["postcode"].iloc[3] == "1505"


def test_search_by_pc6_and_pc4_with_an_imported_table(zaanstad, zaanstad_pc6):
    areas = zaanstad.read_areas()
    table = read_postcode_table(zaanstad_pc6, known_buurten=set(areas.loc[areas["level"] == "buurt", "area_code"]))
    result = zaanstad.import_postcodes(table, user="beheer", source=zaanstad_pc6.name,
                                       sha256=file_sha256(zaanstad_pc6))
    assert result["postcodes"] == 6 and result["buurten"] == 3 and result["vervangen_postcodes"] == 0
    postcodes = zaanstad.read_table("postcodes")
    assert postcodes.set_index("postcode")["buurt_code"].to_dict() == {
        "1501AA": BURGEMEESTERSBUURT, "1505AA": BOMENBUURT, "1505AB": BOMENBUURT, "1505AC": BOMENBUURT,
        "1505AD": ACHTERSLUISPOLDER, "1505BA": BURGEMEESTERSBUURT}
    assert set(postcodes["source"]) == {zaanstad_pc6.name} and set(postcodes["year"]) == {2017}

    exact = search_areas("1505 ab", areas, postcodes)
    assert exact[["area_code", "name", "match"]].values.tolist() == [[BOMENBUURT, "Bomenbuurt", "postcode 1505AB"]]
    # 1505: Bomenbuurt has three of its PC6, Achtersluispolder one (and 1505 as CBS postcode), Burgemeestersbuurt
    # one (CBS: 1501). Most PC6 first; of equal counts the buurt whose CBS postcode it is.
    pc4 = search_areas("1505", areas, postcodes)
    assert pc4["area_code"].tolist() == [BOMENBUURT, ACHTERSLUISPOLDER, BURGEMEESTERSBUURT]
    assert pc4["match"].tolist() == ["postcode 1505 (3 postcodes in deze buurt)",
                                     "postcode 1505 (1 postcode in deze buurt)",
                                     "postcode 1505 (1 postcode in deze buurt)"]
    # A PC6 that is not in the table: its PC4.
    assert search_areas("1505ZZ", areas, postcodes)["area_code"].tolist() == pc4["area_code"].tolist()


# --------------------------------------------------------------------------- the store and the gate


def test_import_replaces_the_table_and_can_be_undone(zaanstad, zaanstad_pc6, tmp_path):
    first = read_postcode_table(zaanstad_pc6)
    zaanstad.import_postcodes(first, user="beheer", source="eerste.csv")
    first_batch = zaanstad.last_batch_id
    second = pd.DataFrame({"postcode": ["1506AA"], "buurt_code": ["BU04792110"], "year": [2018]})
    result = zaanstad.import_postcodes(second, user="beheer", source="tweede.csv")
    assert result["vervangen_postcodes"] == 6 and result["postcodes"] == 1
    assert zaanstad.read_table("postcodes")["postcode"].tolist() == ["1506AA"]
    batches = zaanstad.read_batches()
    assert batches.iloc[0]["kind"] == "postcodes" and batches.iloc[0]["counts"]["postcodes"] == 1
    assert zaanstad.read_audit().iloc[0]["action"] == "import-postcodes"
    # The first import cannot go before the second, which replaced its rows.
    assert zaanstad.undo_preview(first_batch)["blockers"]
    zaanstad.undo_batch(result["import"], user="beheer")
    assert sorted(zaanstad.read_table("postcodes")["postcode"]) == sorted(first["postcode"])
    zaanstad.undo_batch(first_batch, user="beheer")
    assert zaanstad.read_table("postcodes").empty


def test_failed_import_leaves_the_store_exactly_as_it_was(zaanstad, zaanstad_pc6):
    zaanstad.import_postcodes(read_postcode_table(zaanstad_pc6), user="beheer", source=zaanstad_pc6.name)
    before, table = _digest(zaanstad.path), zaanstad.read_table("postcodes")
    audit, batches = len(zaanstad.read_audit()), len(zaanstad.read_batches())
    unknown = pd.DataFrame({"postcode": ["1505AA", "1011AB"], "buurt_code": [BOMENBUURT, "BU03630101"]})
    with pytest.raises(DataValidationError, match="BU03630101.*staat niet in de opslag") as err:
        zaanstad.import_postcodes(unknown, user="beheer", source="fout.csv")
    assert (err.value.file, err.value.row, err.value.column) == ("fout.csv", 3, "buurt_code")
    for frame, message in ((pd.DataFrame({"postcode": ["1505"], "buurt_code": [BOMENBUURT]}), "zes tekens"),
                           (pd.DataFrame({"postcode": ["1505AA", "1505 aa"], "buurt_code": [BOMENBUURT] * 2}),
                            "meer dan één keer"),
                           (pd.DataFrame({"postcode": ["1505AA"]}), "mist de kolom"),
                           (pd.DataFrame({"postcode": [], "buurt_code": []}), "geen postcodes")):
        with pytest.raises(DataValidationError, match=message):
            zaanstad.import_postcodes(frame, user="beheer", source="fout.csv")
    assert _digest(zaanstad.path) == before
    pd.testing.assert_frame_equal(zaanstad.read_table("postcodes"), table)
    assert len(zaanstad.read_audit()) == audit and len(zaanstad.read_batches()) == batches


def test_demo_store_refuses_a_postcode_table(demo_store):
    buurt = demo_store.read_table("areas").query("level == 'buurt'")["area_code"].iloc[0]
    with pytest.raises(DemoStoreError):
        demo_store.import_postcodes(pd.DataFrame({"postcode": ["9999AA"], "buurt_code": [buurt]}), user="x",
                                    source="x.csv")
    assert demo_store.read_table("postcodes").empty


def test_every_role_reads_postcodes_and_only_the_administrator_imports(empty_store, tmp_path):
    store = build_state(empty_store, write_town_files(tmp_path / "teststad"), "gebieden")
    frame = pd.DataFrame({"postcode": ["1999AA", "1999AB"], "buurt_code": ["BU19990001", "BU19990002"]})
    for role in ("gemeente", "gebiedsverbinder", "opbouwwerker", "wijkteam"):
        scoped = ScopedStore(store, User("x", role, ("WK199900",) if role == "wijkteam" else ()))
        with pytest.raises(AccessDenied, match="postcodes importeren"):
            scoped.import_postcodes(frame, source="p.csv")
        empty = scoped.read_table("postcodes")
        assert empty.empty and list(empty.columns) == ["postcode", "buurt_code", "year", "source"]
    admin = ScopedStore(store, User("beheer", "beheerder"))
    assert admin.import_postcodes(frame, source="p.csv")["postcodes"] == 2
    assert store.read_audit().iloc[0]["user"] == "beheer"
    reader = ScopedStore(store, User("g", "gemeente"))
    assert reader.read_table("postcodes")["buurt_code"].tolist() == ["BU19990001", "BU19990002"]


# --------------------------------------------------------------------------- the Beheer page in a browser


def test_postcode_table_through_the_beheer_page(chromium, tmp_path):
    from tests.browser import chromium_page, running_app, sign_in, wait_until_idle

    password = "een lang wachtwoord"
    path = tmp_path / "gemeente.gpkg"
    store = build_state(GeoPackageStore.create_new(path), write_town_files(tmp_path / "bron"), "gebieden")
    auth.create_user(store, "beheer", "beheerder", [], password, by="test")
    # Teststad's buurten plus one row of another gemeente; 1999AB lies in two buurten (two addresses in Haven).
    pc6 = _cbs_per_address(tmp_path / "pc6hnr20170801_gwb.csv", [
        ("1999AA", 1, "19990001"), ("1999AB", 1, "19990001"), ("1999AB", 3, "19990002"), ("1999AB", 5, "19990002"),
        ("1999BA", 2, "19990101"), ("1011AB", 1, "3630101")], year=2017)
    with running_app(path) as url, chromium_page(chromium) as page:
        sign_in(page, url, "beheer", "beheer", password, heading="Beheer")
        uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="Postcodetabel")
        uploader.locator("input[type='file']").set_input_files(str(pc6))
        page.get_by_text("3 postcodes (PC6) in 3 buurten, buurtindeling 2017.").wait_for(timeout=60_000)
        wait_until_idle(page)
        body = page.locator("body").inner_text()
        assert "1 postcode ligt in meer dan één buurt" in body
        assert "1 rij voor een buurt van een andere gemeente is overgeslagen." in body
        assert store.read_table("postcodes").empty  # the preview writes nothing
        page.get_by_role("button", name="Postcodes importeren").click()
        page.get_by_text("Import gelukt: 3 postcodes bij 3 buurten").wait_for(timeout=60_000)
        wait_until_idle(page)
    table = store.read_table("postcodes").set_index("postcode")["buurt_code"].to_dict()
    assert table == {"1999AA": "BU19990001", "1999AB": "BU19990002", "1999BA": "BU19990101"}
    assert store.read_batches().iloc[0]["file_name"] == pc6.name

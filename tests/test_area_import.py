"""Import of CBS wijk- en buurtkaart files: formats, real files, bad input, atomic store writes."""

import hashlib
import shutil
import warnings
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely

from data.area_import import detect_year, read_area_file
from data.errors import DataValidationError
from data.store import GeoPackageStore
from tests.conftest import realdata
from tests.test_cli import run_cli


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def gpkg_2024(demo, tmp_path):
    """A 2022-style GeoPackage with layers buurten and wijken, descriptive column names, WGS84."""
    raw = demo.raw_buurten.copy()
    path = tmp_path / "wijkenbuurten_2024_v1.gpkg"
    raw.to_crs(4326).to_file(path, layer="buurten")
    wijken = raw.dissolve(by="wijkcode", aggfunc={"wijknaam": "first", "gemeentecode": "first",
                                                  "gemeentenaam": "first", "aantal_inwoners": "sum"})
    wijken.reset_index().to_file(path, layer="wijken")
    return path


def test_year_from_file_name(tmp_path):
    assert detect_year(tmp_path / "wijkenbuurten_2024_v1.gpkg") == 2024
    assert detect_year(tmp_path / "buurt_2017_v3.zip") == 2017
    assert detect_year(tmp_path / "buurten.geojson") is None


def test_geopackage_2024_with_layers(gpkg_2024, demo):
    imp = read_area_file(gpkg_2024)
    assert imp.year == 2024
    assert imp.report["per_niveau"] == {"gemeente": 1, "wijk": 6, "buurt": 40}
    assert imp.report["afgeleid"] == ["gemeente"]
    wijken = imp.areas.loc[imp.areas["level"] == "wijk"]
    assert set(wijken["name"]) == {"Centrum", "Kanaalzone", "De Weiden", "Noorderhout", "Oosterbroek",
                                   "Buitengebied"}
    assert imp.areas.crs.to_epsg() == 28992
    inh = imp.values.query("indicator == 'aantal_inwoners'").set_index("area_code")["value"]
    assert inh["GM9999"] == inh[inh.index.str.startswith("BU")].sum()
    assert imp.report["waarden_geheim"] == int((demo.raw_buurten.select_dtypes("number") == -99999999)
                                                .to_numpy().sum())


def test_zipped_shapefile_with_abbreviated_upper_case_columns(demo, tmp_path):
    raw = demo.raw_buurten.rename(columns={
        "buurtcode": "BU_CODE", "buurtnaam": "BU_NAAM", "wijkcode": "WK_CODE", "gemeentecode": "GM_CODE",
        "gemeentenaam": "GM_NAAM", "aantal_inwoners": "AANT_INW", "percentage_verweduwd": "P_VERWEDUW",
        "percentage_personen_65_jaar_en_ouder": "P_65_EO_JR",
        "personen_per_soort_uitkering_bijstand": "WWB_UITTOT", "percentage_eenpersoonshuishoudens": "P_EENP_HH",
    })[["BU_CODE", "BU_NAAM", "WK_CODE", "GM_CODE", "GM_NAAM", "AANT_INW", "P_VERWEDUW", "P_65_EO_JR",
        "WWB_UITTOT", "P_EENP_HH", "geometry"]]
    folder = tmp_path / "shp"
    folder.mkdir()
    raw.to_file(folder / "buurt_2019.shp")
    archive = tmp_path / "buurt_2019_v2.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)
    imp = read_area_file(archive)
    assert imp.year == 2019
    assert imp.report["per_niveau"]["buurt"] == 40
    names = set(imp.values["indicator"])
    assert {"aantal_inwoners", "percentage_verweduwd", "personen_per_soort_uitkering_bijstand"} <= names
    assert imp.values["value"].min() > -99990


def test_leeuwarden_2015_real_file(tmp_path):
    imp = read_area_file(realdata("leeuwarden_buurten_2015.geojson"))
    assert imp.report["per_niveau"] == {"gemeente": 1, "wijk": 40, "buurt": 96}
    assert imp.report["geometrie_hersteld"] == 1
    assert imp.report["zonder_inwoners"] == 3
    assert imp.areas.is_valid.all()
    inh = imp.values.query("indicator == 'aantal_inwoners'").set_index("area_code")["value"]
    assert inh.filter(like="BU").sum() == 107_595
    assert abs(inh["GM0080"] - 107_691) <= 5 * 96  # CBS rounds each buurt to 5
    assert imp.values["value"].min() > -99990
    # Rates of the gemeente are weighted by inhabitants, over buurten with a known value.
    wide = imp.values.pivot_table(index="area_code", columns="indicator", values="value")
    b = wide.filter(like="BU", axis=0)
    known = b["percentage_personen_65_jaar_en_ouder"].notna() & b["aantal_inwoners"].notna()
    expected = (b.loc[known, "percentage_personen_65_jaar_en_ouder"] * b.loc[known, "aantal_inwoners"]).sum() \
        / b.loc[known, "aantal_inwoners"].sum()
    assert wide.loc["GM0080", "percentage_personen_65_jaar_en_ouder"] == pytest.approx(expected)
    assert 14 < expected < 17  # Leeuwarden 2015: about 15% aged 65+


def test_zaanstad_2017_rd_and_haarlem_2015(tmp_path):
    store = GeoPackageStore.open(tmp_path / "s.gpkg")
    for name, gm, total in (("zaanstad_buurten_2017_rd.geojson", "GM0479", 153_580),
                            ("haarlem_buurten_2015.geojson", "GM0392", 156_555)):
        imp = read_area_file(realdata(name))
        store.merge_area_data(imp.areas, imp.values, user="test")
        gemeente = store.read_areas("gemeente").set_index("area_code")
        assert gemeente.loc[gm, "aantal_inwoners"] == total
    assert len(store.read_areas("buurt")) == 90
    assert store.read_table("areas")["gemeente_code"].nunique() == 2


def test_older_year_adds_a_trend_but_keeps_the_newer_geometry(tmp_path):
    store = GeoPackageStore.open(tmp_path / "s.gpkg")
    new = read_area_file(realdata("zaanstad_buurten_2017_rd.geojson"))
    store.merge_area_data(new.areas, new.values, user="test")
    geom_2017 = store.read_table("areas").set_index("area_code").geometry["BU04795120"]
    old = read_area_file(realdata("zaanstad_buurten_2015.geojson"))
    warnings = store.merge_area_data(old.areas, old.values, user="test")
    assert warnings == []  # Zaanstad's codes were stable between 2015 and 2017
    areas = store.read_table("areas").set_index("area_code")
    assert areas.loc["BU04795120", "year"] == 2017
    assert shapely.equals_exact(areas.geometry["BU04795120"], geom_2017, 0)
    years = store.read_area_values(["BU04795120"]).query("indicator == 'aantal_inwoners'")["year"]
    assert sorted(years) == [2015, 2017]
    # The wijken file of 2015 brings real names for the wijken derived from the 2017 buurten.
    wijken = read_area_file(realdata("zaanstad_wijken_2015.geojson"))
    store.merge_area_data(wijken.areas, wijken.values, user="test")
    names = store.read_table("areas").set_index("area_code")["name"]
    assert not names.filter(like="WK").str.fullmatch(r"Wijk \d\d").any()


def test_reused_codes_are_reported(gpkg_2024, tmp_path):
    store = GeoPackageStore.open(tmp_path / "s.gpkg")
    first = read_area_file(gpkg_2024)
    store.merge_area_data(first.areas, first.values, user="test")
    second = read_area_file(gpkg_2024, year=2025)
    second.areas.loc[second.areas["area_code"] == "BU99990000", "name"] = "Garenkokerskwartier"
    warnings = store.merge_area_data(second.areas, second.values, user="test")
    assert len(warnings) == 1 and "BU99990000" in warnings[0] and "hergebruikt" in warnings[0]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda g: g.set_crs(None, allow_override=True), "geen coördinatenstelsel"),
        (lambda g: g.assign(buurtcode=["BU99990000"] * len(g)), "komt meer dan één keer voor"),
        (lambda g: g.assign(buurtcode=np.where(np.arange(len(g)) == 3, "XX12", g["buurtcode"])), "Ongeldige buurtcode"),
        (lambda g: g.drop(columns=["buurtcode"]), "Geen buurtcode gevonden"),
    ],
)
def test_bad_files_give_dutch_errors_and_leave_the_store(demo, demo_store, tmp_path, mutate, message):
    bad = mutate(demo.raw_buurten.copy())
    path = tmp_path / "buurten_2024.gpkg"
    if bad.crs is None:
        shapely_geoms = bad.geometry
        bad = gpd.GeoDataFrame(bad.drop(columns="geometry"), geometry=shapely_geoms, crs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio warns about the missing CRS
        bad.to_file(path, layer="buurten")
    before = _digest(demo_store.path)
    result = run_cli("import-areas", str(path), "--store", str(demo_store.path))
    assert result.returncode == 2
    assert message in result.stderr
    assert _digest(demo_store.path) == before


def test_empty_unreadable_and_yearless_files(tmp_path):
    empty = tmp_path / "buurten_2024.geojson"
    empty.write_bytes(b"")
    with pytest.raises(DataValidationError, match="leeg"):
        read_area_file(empty)
    text = tmp_path / "buurten_2024.gpkg"
    text.write_text("geen kaart")
    with pytest.raises(DataValidationError, match="geen GeoPackage"):  # checked by content, before GDAL
        read_area_file(text)
    src = realdata("haarlem_buurten_2015.geojson")
    yearless = tmp_path / "haarlem.geojson"
    shutil.copyfile(src, yearless)
    with pytest.raises(DataValidationError, match="--jaar"):
        read_area_file(yearless)
    assert read_area_file(yearless, year=2015).year == 2015


def test_gemeente_filter(gpkg_2024):
    with pytest.raises(DataValidationError, match="GM0001"):
        read_area_file(gpkg_2024, gemeente="GM0001")
    assert read_area_file(gpkg_2024, gemeente="GM9999").report["per_niveau"]["buurt"] == 40


def test_cli_import_areas_prints_the_report(tmp_path):
    store = tmp_path / "s.gpkg"
    result = run_cli("import-areas", str(realdata("leeuwarden_buurten_2015.geojson")), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert "96 buurten" in result.stdout and "Hersteld: 1" in result.stdout
    assert GeoPackageStore(store).counts()["areas"] == 137

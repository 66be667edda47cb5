"""Import of CBS wijk- en buurtkaart files: formats, real files, bad input, atomic store writes."""

import hashlib
import shutil
import warnings
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from data.area_import import detect_year, format_report, read_area_file
from data.errors import DataValidationError
from data.store import GeoPackageStore
from tests.conftest import realdata
from tests.test_cli import run_cli
from tests.test_plausibility import haarlem_buurten


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
def test_bad_files_give_dutch_errors_and_leave_the_store(demo, town_store, tmp_path, mutate, message):
    bad = mutate(demo.raw_buurten.copy())
    path = tmp_path / "buurten_2024.gpkg"
    if bad.crs is None:
        shapely_geoms = bad.geometry
        bad = gpd.GeoDataFrame(bad.drop(columns="geometry"), geometry=shapely_geoms, crs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio warns about the missing CRS
        bad.to_file(path, layer="buurten")
    before = _digest(town_store.path)
    result = run_cli("import-areas", str(path), "--store", str(town_store.path))
    assert result.returncode == 2
    assert message in result.stderr
    assert _digest(town_store.path) == before


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
    with pytest.raises(DataValidationError, match="Geef het jaar van de gegevens op") as info:
        read_area_file(yearless)
    assert "--" not in str(info.value)  # the page shows it too: no command-line flags
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


def _cbs_geopackage(tmp_path, layers=("gemeenten", "wijken", "buurten")):
    """A CBS GeoPackage (2022+ names) of Haarlem's six test buurten, their two wijken and two gemeenten.

    The wijk and gemeente layers carry their own figures, as CBS publishes them: totals rounded on
    their own (3.505 and 4.495 against buurt sums of 3.500 and 4.500) and figures that cannot be
    summed (address density, urbanity).
    """
    buurten = haarlem_buurten()
    buurten["omgevingsadressendichtheid"] = [4000, 4200, 3900, 2600, 2400, 2500]
    wijken = buurten.dissolve(by="wijkcode", aggfunc={"gemeentecode": "first", "gemeentenaam": "first"}).reset_index()
    wijken["wijknaam"] = ["Centrum", "Noord"]
    wijken["water"] = "NEE"
    wijken["aantal_inwoners"] = [3505, 4495]
    wijken["omgevingsadressendichtheid"] = [4100, 2500]
    wijken["stedelijkheid_adressen_per_km2"] = [1, 2]
    gemeenten = gpd.GeoDataFrame({
        "gemeentecode": ["GM0392", "GM0394"], "gemeentenaam": ["Haarlem", "Haarlemmermeer"], "water": "NEE",
        "aantal_inwoners": [8010, 160_000], "omgevingsadressendichtheid": [3300, 900],
    }, geometry=[buurten.union_all(), box(95_000, 470_000, 110_000, 484_000)], crs=28992)
    path = tmp_path / "wijkenbuurten_2024_v1.gpkg"
    for name, frame in zip(layers, (gemeenten, wijken, buurten), strict=True):
        frame.to_file(path, layer=name)
    return path


@pytest.mark.parametrize("layers", [("gemeenten", "wijken", "buurten"),
                                    ("cbs_gemeenten_2024", "cbs_wijken_2024", "cbs_buurten_2024")])
def test_cbs_geopackage_brings_all_three_levels_in_one_call(tmp_path, layers):
    path = _cbs_geopackage(tmp_path, layers)
    imp = read_area_file(path)
    assert imp.report["per_niveau"] == {"gemeente": 2, "wijk": 2, "buurt": 6}
    assert imp.report["afgeleid"] == [] and imp.report["niet_afgeleid"] == {}
    names = imp.areas.set_index("area_code")["name"]
    assert names[["WK039201", "WK039202", "GM0392"]].tolist() == ["Centrum", "Noord", "Haarlem"]
    values = imp.values.set_index(["area_code", "indicator"])["value"]
    # The wijk and gemeente figures are their own, not sums of the buurten.
    assert values[("WK039201", "aantal_inwoners")] == 3505 and values[("WK039202", "aantal_inwoners")] == 4495
    assert values[("GM0392", "aantal_inwoners")] == 8010
    assert values[("WK039201", "omgevingsadressendichtheid")] == 4100
    assert values[("WK039202", "stedelijkheid_adressen_per_km2")] == 2
    assert (imp.values["source"] == "CBS Wijk- en Buurtkaart").all()
    assert not any(line.startswith("Niet uit de buurten") for line in format_report(imp.report))
    one = read_area_file(path, gemeente="GM0392")  # each layer filtered on its gemeentecode
    assert one.report["per_niveau"] == {"gemeente": 1, "wijk": 2, "buurt": 6}


def test_buurten_only_file_derives_wijken_and_says_what_it_could_not_derive(tmp_path):
    buurten = haarlem_buurten().drop(columns="aantal_part_huishoudens")
    buurten["percentage_eenpersoonshuishoudens"] = [40, 50, 30, 45, -99997, 35]  # its weight (households) is absent
    buurten["omgevingsadressendichtheid"] = [4000, 4200, 3900, 2600, 2400, 2500]
    buurten["stedelijkheid_adressen_per_km2"] = [1, 1, 1, 2, 2, 2]
    buurten["bevolkingsdichtheid_inwoners_per_km2"] = [1000, 2000, 500, 1500, 0, 3000]
    path = tmp_path / "buurten_2024.gpkg"
    buurten.to_file(path, layer="buurten")
    imp = read_area_file(path)
    assert imp.report["afgeleid"] == ["wijk", "gemeente"]
    missing = ["percentage_eenpersoonshuishoudens", "omgevingsadressendichtheid", "stedelijkheid_adressen_per_km2"]
    assert imp.report["niet_afgeleid"] == {"wijk": missing, "gemeente": missing}
    values = imp.values.set_index(["area_code", "indicator"])["value"]
    assert values[("WK039201", "bevolkingsdichtheid_inwoners_per_km2")] == 1167  # 3.500 inhabitants on 300 ha
    # 65+ weighted by inhabitants where it is known (not in BU03920102): (10 × 1.000 + 20 × 2.000) / 3.000.
    assert values[("WK039201", "percentage_personen_65_jaar_en_ouder")] == pytest.approx(50_000 / 3000)
    assert ("WK039201", "omgevingsadressendichtheid") not in values.index
    assert "Niet uit de buurten af te leiden, dus leeg voor de wijken en de gemeente: Eenpersoonshuishoudens, " \
           "Omgevingsadressendichtheid, Stedelijkheid (1 = zeer sterk, 5 = niet)." in format_report(imp.report)


def test_wijken_from_the_file_and_a_derived_gemeente(gpkg_2024):
    report = read_area_file(gpkg_2024).report
    assert set(report["niet_afgeleid"]) == {"gemeente"}


@pytest.mark.parametrize(("missing", "message"), [
    (".dbf", r"Het \.dbf-bestand ontbreekt in de zip; daarin staan de kerncijfers"),
    (".shx", r"Het \.shx-bestand ontbreekt in de zip; dat is de index bij het \.shp-bestand"),
    (".shp", r"Het \.shp-bestand ontbreekt in de zip; daarin staan de vlakken"),
])
def test_zipped_shapefile_without_a_part_says_which(tmp_path, missing, message):
    folder = tmp_path / "shp"
    folder.mkdir()
    haarlem_buurten()[["buurtcode", "geometry"]].rename(columns={"buurtcode": "BU_CODE"}).to_file(
        folder / "buurt_2019.shp")
    archive = tmp_path / "buurt_2019.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            if part.suffix != missing:
                zf.write(part, part.name)
    with pytest.raises(DataValidationError, match=message) as info:
        read_area_file(archive)
    assert info.value.file == "buurt_2019.zip"
    (folder / f"buurt_2019{missing}").unlink()
    if missing != ".shp":  # a loose .shp without its .dbf or .shx
        with pytest.raises(DataValidationError, match=message.replace("in de zip", r"naast het \.shp-bestand")):
            read_area_file(folder / "buurt_2019.shp")


def test_problems_of_every_layer_are_reported_together_with_their_layer(tmp_path):
    path = _cbs_geopackage(tmp_path)
    wijken = gpd.read_file(path, layer="wijken")
    wijken.loc[1, "aantal_inwoners"] = -4495
    wijken.to_file(path, layer="wijken")
    buurten = gpd.read_file(path, layer="buurten")
    buurten.loc[0, "percentage_personen_65_jaar_en_ouder"] = 110
    buurten.to_file(path, layer="buurten")
    with pytest.raises(DataValidationError, match=r"2 problemen gevonden.*\(bestand wijkenbuurten_2024_v1.gpkg, "
                                                  r"laag wijken, rij 3, kolom 'aantal_inwoners'\)") as info:
        read_area_file(path)
    assert [(p["bestand"], p["rij"], p["kolom"]) for p in info.value.problems] == [
        ("wijkenbuurten_2024_v1.gpkg, laag wijken", 3, "aantal_inwoners"),
        ("wijkenbuurten_2024_v1.gpkg, laag buurten", 2, "percentage_personen_65_jaar_en_ouder"),
    ]

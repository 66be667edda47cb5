"""Plausibility checks on import: impossible figures and misplaced areas are refused with row and column,
library warnings go to the log, and a figure that jumps in every buurt between two years is a warning."""

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

import data.area_import as area_import
from data.area_import import read_area_file, year_jump_warnings
from data.errors import DataValidationError
from data.uploads import geometry_type_nl

CODES = ["BU03920100", "BU03920101", "BU03920102", "BU03920200", "BU03920201", "BU03920202"]


def haarlem_buurten() -> gpd.GeoDataFrame:
    """Six buurten of 1 km² in two wijken of Haarlem (RD New), 2022+ column names.

    Row 6 (BU03920201) has no inhabitants and a secret share of 65-plussers (-99997), row 3 a
    share that is unknown (-99995): CBS codes, which are missing values, not errors.
    """
    geoms = [box(100_000 + 1000 * i, 485_000 + 1000 * j, 101_000 + 1000 * i, 486_000 + 1000 * j)
             for j in range(2) for i in range(3)]
    return gpd.GeoDataFrame({
        "buurtcode": CODES,
        "buurtnaam": ["Oost", "West", "Zuid", "Noord", "Haven", "Dorp"],
        "wijkcode": ["WK039201"] * 3 + ["WK039202"] * 3,
        "gemeentecode": "GM0392",
        "gemeentenaam": "Haarlem",
        "water": "NEE",
        "aantal_inwoners": [1000, 2000, 500, 1500, 0, 3000],
        "aantal_part_huishoudens": [500, 900, 250, 700, 0, 1400],
        "percentage_personen_65_jaar_en_ouder": [10, 20, -99995, 15, -99997, 25],
        "oppervlakte_land_in_ha": [100] * 6,
    }, geometry=geoms, crs=28992)


def _write(frame: gpd.GeoDataFrame, tmp_path, name: str = "buurten_2024.gpkg"):
    path = tmp_path / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if name.endswith(".gpkg"):
            frame.to_file(path, layer="buurten")
        else:
            frame.to_file(path, driver="GeoJSON")
    return path


def _refused(path, match, **kwargs) -> list[dict]:
    with pytest.raises(DataValidationError, match=match) as info:
        read_area_file(path, **kwargs)
    return info.value.problems


def _swap_xy(geoms):
    return shapely.transform(geoms, lambda xy: xy[:, ::-1])


def test_secrecy_codes_and_buurten_without_inhabitants_are_no_errors(tmp_path):
    imp = read_area_file(_write(haarlem_buurten(), tmp_path))
    values = imp.values.set_index(["area_code", "indicator"])
    assert values.loc[("BU03920201", "percentage_personen_65_jaar_en_ouder"), "status"] == "geheim"
    assert values.loc[("BU03920102", "percentage_personen_65_jaar_en_ouder"), "status"] == "onbekend"
    assert values.loc[("BU03920201", "aantal_inwoners"), "value"] == 0
    assert imp.values["value"].min() == 0
    assert imp.report["per_niveau"] == {"gemeente": 1, "wijk": 2, "buurt": 6}


def test_negative_count_is_refused_naming_row_and_column_of_a_2015_file(tmp_path):
    raw = haarlem_buurten().rename(columns={
        "buurtcode": "BU_CODE", "buurtnaam": "BU_NAAM", "wijkcode": "WK_CODE", "gemeentecode": "GM_CODE",
        "gemeentenaam": "GM_NAAM", "aantal_inwoners": "AANT_INW", "aantal_part_huishoudens": "AANTAL_HH",
        "percentage_personen_65_jaar_en_ouder": "P_65_EO_JR", "oppervlakte_land_in_ha": "OPP_LAND",
    }).drop(columns="water").to_crs(4326)
    raw["WWB_UITTOT"] = [10, -99999999, 5, 0, 0, 20]  # the 2015 secrecy code is fine
    raw.loc[1, "AANT_INW"] = -5
    problems = _refused(_write(raw, tmp_path, "buurt_2015.geojson"), r"Aantal inwoners is -5")
    assert problems == [{"bestand": "buurt_2015.geojson", "rij": 3, "kolom": "AANT_INW",
                         "melding": "BU03920101: Aantal inwoners is -5; dat kan niet negatief zijn "
                                    "(geheimhoudingscodes zoals -99999999 mogen wel)."}]


def test_percentage_outside_0_to_100_is_refused_in_a_2017_file(tmp_path):
    raw = haarlem_buurten().rename(columns={
        "buurtcode": "bu_code", "buurtnaam": "bu_naam", "wijkcode": "wk_code", "gemeentecode": "gm_code",
        "gemeentenaam": "gm_naam", "aantal_inwoners": "aant_inw", "aantal_part_huishoudens": "aantal_hh",
        "percentage_personen_65_jaar_en_ouder": "p_65_eo_jr", "oppervlakte_land_in_ha": "opp_land",
    })
    raw["p_eenp_hh"] = [40, 50, 30, 45, -99999999, 35]
    raw.loc[0, "p_65_eo_jr"] = 140
    raw.loc[3, "p_eenp_hh"] = -3
    problems = _refused(_write(raw, tmp_path, "buurt_2017_rd.geojson"), r"2 problemen gevonden.*Personen 65 jaar")
    assert [(p["rij"], p["kolom"]) for p in problems] == [(2, "p_65_eo_jr"), (5, "p_eenp_hh")]
    assert problems[0]["melding"] == ("BU03920100: Personen 65 jaar en ouder is 140%; een percentage ligt "
                                      "tussen 0 en 100.")
    assert problems[1]["melding"].startswith("BU03920200: Eenpersoonshuishoudens is -3%")


def test_more_households_than_inhabitants_is_refused(tmp_path):
    raw = haarlem_buurten()
    raw.loc[5, "aantal_part_huishoudens"] = 3500  # inhabitants and households swapped in one buurt?
    problems = _refused(_write(raw, tmp_path), "meer huishoudens dan inwoners")
    assert problems == [{"bestand": "buurten_2024.gpkg", "rij": 7, "kolom": "aantal_part_huishoudens",
                         "melding": "BU03920202: 3.500 huishoudens maar 3.000 inwoners; er kunnen niet meer "
                                    "huishoudens dan inwoners zijn. Staan de kolommen verwisseld?"}]


def test_swapped_coordinates_are_refused_with_a_hint(tmp_path):
    raw = haarlem_buurten()
    raw.geometry = _swap_xy(raw.geometry.to_numpy())
    problems = _refused(_write(raw, tmp_path), r"6 problemen.*ligt buiten Nederland.*lijken verwisseld")
    assert [(p["rij"], p["kolom"]) for p in problems] == [(r, "geometry") for r in range(2, 8)]
    assert problems[0]["melding"].startswith(
        "BU03920100: ligt buiten Nederland (middelpunt x 485.500, y 100.500 m in RD New). De x- en "
        "y-coördinaten lijken verwisseld")
    # In WGS84 too: latitude and longitude in the wrong order.
    wgs = haarlem_buurten().to_crs(4326)
    wgs.geometry = _swap_xy(wgs.geometry.to_numpy())
    problems = _refused(_write(wgs, tmp_path, "wgs_2024.geojson"), "lijken verwisseld")
    assert len(problems) == 6 and problems[0]["rij"] == 2


def test_wrong_crs_is_refused_with_a_hint(tmp_path):
    degrees_as_rd = haarlem_buurten().to_crs(4326).set_crs(28992, allow_override=True)
    problems = _refused(_write(degrees_as_rd, tmp_path), r"lijken graden \(WGS84, EPSG:4326\), maar het bestand "
                                                         r"geeft EPSG:28992 op")
    assert len(problems) == 6
    metres_as_wgs = haarlem_buurten().set_crs(4326, allow_override=True)
    problems = _refused(_write(metres_as_wgs, tmp_path, "meters_2024.gpkg"),
                        r"buiten het bereik van RD New\). De coördinaten lijken meters")
    assert {p["kolom"] for p in problems} == {"geometry"} and len(problems) == 6  # one problem per area


def test_an_area_far_from_the_others_is_refused_naming_row_and_code(tmp_path):
    raw = haarlem_buurten()
    raw.loc[3, "geometry"] = shapely.affinity.translate(raw.geometry[3], 80_000, 0)
    # Centroids: x 100.500 ... with BU03920200 at 180.500; median (102.000, 486.000); 78,5 km off.
    problems = _refused(_write(raw, tmp_path), "ligt 79 km van het midden")
    assert problems == [{"bestand": "buurten_2024.gpkg", "rij": 5, "kolom": "geometry",
                         "melding": "BU03920200: ligt 79 km van het midden van de andere gebieden van GM0392 in "
                                    "dit bestand (meer dan 50 km). Controleer de coördinaten van dit gebied (x en y "
                                    "verwisseld of verkeerd overgenomen) en de gebiedscode."}]


def test_areas_of_a_national_file_are_judged_per_gemeente(tmp_path):
    raw = haarlem_buurten()
    far = raw.iloc[:3].copy()  # three buurten of Leeuwarden, 150 km away from Haarlem's
    far["buurtcode"] = ["BU00800100", "BU00800101", "BU00800102"]
    far["wijkcode"], far["gemeentecode"], far["gemeentenaam"] = "WK008001", "GM0080", "Leeuwarden"
    far.geometry = far.geometry.translate(82_000, 94_000)
    imp = read_area_file(_write(pd.concat([raw, far], ignore_index=True), tmp_path))
    assert imp.report["gemeenten"] == ["GM0080", "GM0392"]


def test_every_problem_is_collected_in_one_report(tmp_path):
    raw = haarlem_buurten()
    raw.loc[4, "aantal_inwoners"] = -10
    raw.loc[1, "percentage_personen_65_jaar_en_ouder"] = 101
    raw.loc[2, "geometry"] = _swap_xy(raw.geometry[2])
    raw.loc[0, "buurtcode"] = "XX12"
    problems = _refused(_write(raw, tmp_path), r"4 problemen gevonden; er is niets geïmporteerd. Eerste: "
                                               r"Ongeldige buurtcode 'XX12'")
    assert [(p["rij"], p["kolom"]) for p in problems] == [
        (2, "buurtcode"), (3, "percentage_personen_65_jaar_en_ouder"), (4, "geometry"), (6, "aantal_inwoners")]


def test_content_problems_come_before_the_question_of_the_year(tmp_path):
    raw = haarlem_buurten()
    raw.loc[0, "aantal_inwoners"] = -1
    problems = _refused(_write(raw, tmp_path, "buurten.gpkg"), "Aantal inwoners is -1")
    assert problems[0]["rij"] == 2
    with pytest.raises(DataValidationError, match="Geef het jaar van de gegevens op") as info:
        read_area_file(_write(haarlem_buurten(), tmp_path, "schoon.gpkg"))
    assert "--" not in str(info.value)
    assert read_area_file(tmp_path / "schoon.gpkg", year=2024).areas["year"].eq(2024).all()


def test_geometry_types_are_named_in_dutch(tmp_path):
    assert [geometry_type_nl(t) for t in ("Point", "LineString", "Polygon", "MultiPolygon")] == [
        "punt", "lijn", "vlak", "multivlak"]
    assert geometry_type_nl(int(shapely.get_type_id(Point(0, 0)))) == "punt"
    assert geometry_type_nl(None) == "geen geometrie"
    raw = haarlem_buurten()
    raw.loc[1, "geometry"] = Point(101_500, 485_500)
    raw.loc[4, "geometry"] = LineString([(101_000, 486_000), (102_000, 487_000)])
    problems = _refused(_write(raw, tmp_path), "de geometrie is een punt")
    assert [(p["rij"], p["kolom"], p["melding"]) for p in problems] == [
        (3, "geometry", "BU03920101: de geometrie is een punt; een gebied moet een vlak of multivlak zijn."),
        (6, "geometry", "BU03920201: de geometrie is een lijn; een gebied moet een vlak of multivlak zijn."),
    ]
    for problem in problems:
        assert not any(word in problem["melding"] for word in ("Point", "LineString", "Polygon"))


def test_library_warnings_go_to_the_log_not_the_screen(tmp_path, monkeypatch, caplog):
    path = _write(haarlem_buurten(), tmp_path)
    real = area_import.pyogrio.read_dataframe

    def noisy(*args, **kwargs):
        warnings.warn("Measured (M) geometry types are not supported", UserWarning, stacklevel=2)
        warnings.warn("invalid value encountered in intersection", RuntimeWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(area_import.pyogrio, "read_dataframe", noisy)
    with warnings.catch_warnings(record=True) as shown, caplog.at_level(logging.WARNING, logger="data.area_import"):
        warnings.simplefilter("always")
        assert read_area_file(path).report["per_niveau"]["buurt"] == 6
    assert shown == []
    logged = [r.getMessage() for r in caplog.records if r.name == "data.area_import"]
    assert logged == ["buurten_2024.gpkg: UserWarning: Measured (M) geometry types are not supported",
                      "buurten_2024.gpkg: RuntimeWarning: invalid value encountered in intersection"]


# --- year-to-year jumps: a warning, never a refusal -------------------------------------------------

INHABITANTS = [1000, 2000, 500, 1500, 800, 3000]
SHARE_65 = [10, 20, 30, 15, 12, 25]


def _long(year: int, figures: dict[str, list], codes=CODES) -> pd.DataFrame:
    return pd.DataFrame([
        {"area_code": code, "indicator": name, "year": year, "value": value, "status": None, "source": "CBS"}
        for name, values in figures.items() for code, value in zip(codes, values, strict=True)
    ])


def _stored() -> pd.DataFrame:
    return _long(2023, {"aantal_inwoners": INHABITANTS, "percentage_personen_65_jaar_en_ouder": SHARE_65})


def test_swapped_columns_jump_in_every_buurt_and_give_a_warning():
    # 2024 with land area (100 ha everywhere) read as inhabitants, and 65+ shifted by 15 points.
    new = _long(2024, {"aantal_inwoners": [100] * 6, "percentage_personen_65_jaar_en_ouder": [25, 5, 45, 30, 27, 10]})
    assert year_jump_warnings(new, _stored()) == [
        "Aantal inwoners: in 6 van de 6 buurten verschilt 2024 sterk van 2023 (meer dan 50%). Zo'n sprong in "
        "bijna elke buurt wijst vaak op verwisselde kolommen in het bestand; controleer de cijfers.",
        "Personen 65 jaar en ouder: in 6 van de 6 buurten verschilt 2024 sterk van 2023 (meer dan 10 "
        "procentpunten). Zo'n sprong in bijna elke buurt wijst vaak op verwisselde kolommen in het bestand; "
        "controleer de cijfers.",
    ]


def test_ordinary_changes_give_no_warning():
    # +3% inhabitants; 65+ up to 10 points (relatively up to 40%: percentages count in points).
    new = _long(2024, {"aantal_inwoners": [round(v * 1.03) for v in INHABITANTS],
                       "percentage_personen_65_jaar_en_ouder": [14, 28, 40, 20, 17, 33]})
    assert year_jump_warnings(new, _stored()) == []


def test_a_jump_in_some_buurten_only_or_in_too_few_buurten_is_no_warning():
    five_of_six = _long(2024, {"aantal_inwoners": [100, 100, 100, 100, 100, 3000]})  # 83% < 90%
    assert year_jump_warnings(five_of_six, _stored()) == []
    four = _long(2024, {"aantal_inwoners": [100] * 4}, codes=CODES[:4])  # fewer than 5 buurten in both years
    assert year_jump_warnings(four, _stored()) == []
    wijken = [f"WK0392{i:02d}" for i in range(6)]  # only buurten count
    assert year_jump_warnings(_long(2024, {"aantal_inwoners": [100] * 6}, codes=wijken),
                              _long(2023, {"aantal_inwoners": INHABITANTS}, codes=wijken)) == []


def test_the_nearest_other_year_is_the_reference_and_missing_values_are_skipped():
    stored = pd.concat([_long(2015, {"aantal_inwoners": [100] * 6}), _stored()], ignore_index=True)
    new = _long(2024, {"aantal_inwoners": [100] * 6})
    assert year_jump_warnings(new, stored)[0].startswith("Aantal inwoners: in 6 van de 6 buurten verschilt 2024 sterk "
                                                         "van 2023")
    # A re-import of the stored year is no jump between two years.
    assert year_jump_warnings(_long(2023, {"aantal_inwoners": [100] * 6}), _stored()) == []
    # Secret (missing) values in either year are left out: 5 buurten remain, all jump.
    new = _long(2024, {"aantal_inwoners": [100, 100, 100, 100, 100, np.nan]})
    assert "in 5 van de 5 buurten" in year_jump_warnings(new, _stored())[0]
    # From 0 to 0 is no change; from 0 to something is.
    zero = _long(2023, {"aantal_inwoners": [0] * 6})
    assert year_jump_warnings(_long(2024, {"aantal_inwoners": [0] * 6}), zero) == []
    assert len(year_jump_warnings(_long(2024, {"aantal_inwoners": [5] * 6}), zero)) == 1
    assert year_jump_warnings(new, _stored().iloc[0:0]) == []


def test_year_jump_warnings_needs_the_long_columns():
    with pytest.raises(DataValidationError, match="value"):
        year_jump_warnings(_stored().drop(columns="value"), _stored())

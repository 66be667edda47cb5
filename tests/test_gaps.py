"""Need, 2SFCA supply and gaps: a small grid by hand, the demo scenario, the CLI."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from mapping.gaps import describe_need, gaps_from_need_and_supply, need_for_type
from tests.test_cli import run_cli


@pytest.fixture()
def grid():
    """Three 1 km buurten in a row. Widowed: 1000 × 10% = 100, 2000 × 15% = 300, 1000 × 10% = 100;
    need for the visiting service = 0,10 × widowed = 10, 30, 10 (third buurt: figure missing -> unknown)."""
    buurten = gpd.GeoDataFrame({
        "area_code": ["BU00010001", "BU00010002", "BU00010003"], "name": ["West", "Midden", "Oost"],
        "aantal_inwoners": [1000.0, 2000.0, 1000.0], "percentage_verweduwd": [10.0, 15.0, np.nan], "water": False,
    }, geometry=[shapely.box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(3)], crs=28992)
    provisions = gpd.GeoDataFrame({
        "provision_id": ["V1", "V2"], "name": ["Kring West", "Kring Oost"], "type": "bezoekdienst_weduwen",
        "status": ["actief", "gestopt"], "capacity_per_year": [20, 50], "reach_m": [1500.0, 1500.0],
        "funding_end": pd.to_datetime(["2028-01-01", "2025-06-01"]),
    }, geometry=[shapely.Point(500, 500), shapely.Point(2500, 500)], crs=28992)
    return buurten, provisions


def test_need_by_hand_and_missing_reported(grid):
    buurten, _ = grid
    need, missing = need_for_type(buurten.set_index("area_code"), "bezoekdienst_weduwen")
    assert need.iloc[:2].tolist() == pytest.approx([10.0, 30.0])
    assert pd.isna(need.iloc[2]) and missing.iloc[2] == "percentage_verweduwd"
    assert describe_need("bezoekdienst_weduwen") == "0,10 × verweduwde inwoners (inwoners × % verweduwd)"


def test_gap_by_hand(grid):
    """V1 (20 places, reach 1.5 km) reaches West and Midden (centres 0 and 1 km away): R = 20 / 40 = 0.5,
    so A = 0.5 for both and half of their need is uncovered: gaps 5 and 15. V2 is stopped and does not count."""
    buurten, provisions = grid
    table = gaps_from_need_and_supply(buurten, provisions, types=["bezoekdienst_weduwen"]).set_index("area_code")
    assert table.loc["BU00010001", "accessibility"] == pytest.approx(0.5)
    assert table.loc[["BU00010001", "BU00010002"], "gap_people"].tolist() == pytest.approx([5.0, 15.0])
    assert pd.isna(table.loc["BU00010003", "gap_people"])
    assert "ontbrekende kerncijfers (percentage_verweduwd)" in table.loc["BU00010003", "reason"]
    assert table.loc["BU00010002", "reason"] == ("30 mensen in de doelgroep, dichtstbijzijnde bezoekdienst "
                                                 "weduwen en weduwnaars 1,0 km, Kring Oost (1,0 km) gestopt per "
                                                 "1 juni 2025")
    # Switching the remaining service off turns both into full gaps.
    off = gaps_from_need_and_supply(buurten, provisions.iloc[1:], types=["bezoekdienst_weduwen"])
    assert off.set_index("area_code").loc[["BU00010001", "BU00010002"], "gap_people"].tolist() == [10.0, 30.0]


def test_demo_visiting_service_off_makes_a_gap(demo):
    areas = demo.areas.loc[demo.areas["level"] == "buurt"]
    wide = demo.area_values.pivot_table(index="area_code", columns="indicator", values="value")
    buurten = areas.merge(wide, left_on="area_code", right_index=True)
    before = gaps_from_need_and_supply(buurten, demo.provisions, types=["bezoekdienst_weduwen"])
    running = demo.provisions.query("type == 'bezoekdienst_weduwen' and status != 'gestopt'")
    after = gaps_from_need_and_supply(buurten, demo.provisions.drop(running.index), types=["bezoekdienst_weduwen"])
    assert after["gap_people"].sum() > before["gap_people"].sum()
    assert (after["gap_index"].dropna() == 1).all()


def test_cli_gaps(demo_store_file, tmp_path):
    store = tmp_path / "s.gpkg"
    store.write_bytes(demo_store_file.read_bytes())
    out = tmp_path / "tekorten.csv"
    result = run_cli("gaps", "--store", str(store), "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig")
    assert len(table) == 40 * 9 and set(table["soort"]) >= {"grip_en_glans", "bezoekdienst_weduwen"}
    assert table["reden"].str.len().gt(0).all()
    one = run_cli("gaps", "--store", str(store), "--type", "jongerenwerk", "--out", str(out))
    assert one.returncode == 0 and len(pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig")) == 40
    bad = run_cli("gaps", "--store", str(store), "--type", "kookclub", "--out", str(out))
    assert bad.returncode == 2 and "Onbekende soort" in bad.stderr


def test_in_reach_supply_and_points_outside_the_areas(grid):
    """V1 reaches West and Midden (in_reach), not Oost. A visiting service without a capacity but with 10
    volunteers (2 visits each: 20 places) gives the same supply as V1's 20. A point outside the loaded areas
    never counts, not even as the stopped one named in the reason."""
    buurten, provisions = grid
    table = gaps_from_need_and_supply(buurten, provisions, types=["bezoekdienst_weduwen"]).set_index("area_code")
    assert table["in_reach"].to_dict() == {"BU00010001": True, "BU00010002": True, "BU00010003": False}
    by_volunteers = provisions.assign(capacity_per_year=[np.nan, 50], volunteers=[10, 0])
    again = gaps_from_need_and_supply(buurten, by_volunteers, types=["bezoekdienst_weduwen"]).set_index("area_code")
    assert again["accessibility"].tolist() == pytest.approx(table["accessibility"].tolist())
    outside = gaps_from_need_and_supply(buurten, provisions.assign(outside_areas=[True, True]),
                                        types=["bezoekdienst_weduwen"]).set_index("area_code")
    assert not outside["in_reach"].any() and (outside["accessibility"] == 0).all()
    assert "gestopt" not in outside.loc["BU00010002", "reason"]
    # A buurthuis's visitors are its 2SFCA supply for buurthuis-need (a measure of reach, not of places):
    # need 0,3 × older alone + 0,2 × low income: West 0,3 × 50 + 0,2 × 40 = 23, Midden 0,3 × 100 + 0,2 × 80 = 46,
    # so R = 1000 / 69 visitors per person in need in reach.
    house = provisions.assign(type="buurthuis", capacity_per_year=[1000, 0], reach_m=[1500.0, 1500.0])
    huis = gaps_from_need_and_supply(buurten.assign(aantal_part_huishoudens=[400.0, 800.0, 400.0],
                                                    percentage_personen_65_jaar_en_ouder=10.0,
                                                    percentage_eenpersoonshuishoudens=50.0,
                                                    percentage_huishoudens_onder_of_rond_sociaal_minimum=10.0),
                                     house, types=["buurthuis"]).set_index("area_code")
    assert huis.loc[["BU00010001", "BU00010002"], "accessibility"].tolist() == pytest.approx([1000 / 69] * 2)
    assert huis.loc[["BU00010001", "BU00010002"], "need"].tolist() == pytest.approx([23, 46])

"""Real CBS files from ../shared/realdata through the harmonisation and onto the map."""

import geopandas as gpd
import pytest

from data.cbs import harmonise_cbs_areas
from data.indicators import alias_map
from data.store import GeoPackageStore
from mapping.choropleth import choropleth_map
from tests.conftest import realdata

pytestmark = pytest.mark.realdata


def test_leeuwarden_2015_secrecy_and_invalid_polygon():
    path = realdata("leeuwarden_buurten_2015.geojson")
    raw = gpd.read_file(path)
    result = harmonise_cbs_areas(raw, file=path.name, year=2015)
    assert len(result.areas) == 96
    assert result.report["geometrie_hersteld"] == 1  # BU00805202 Buitengebied Wytgaard
    assert result.areas.is_valid.all()
    assert result.areas.crs.to_epsg() == 28992
    secret_rows = (raw.select_dtypes("number") == -99999999).any(axis=1).sum()
    assert secret_rows == 25
    mapped = [c for c in raw.columns if c.lower() in alias_map()]
    expected = (raw[mapped].select_dtypes("number") == -99999999)
    assert (result.values["status"] == "geheim").sum() == expected.to_numpy().sum()
    assert result.values["area_code"][result.values["status"] == "geheim"].nunique() == expected.any(axis=1).sum()
    assert result.values["value"].min() > -99990
    inh = result.values.query("indicator == 'aantal_inwoners'")["value"]
    assert inh.sum() == 107_595
    gemeente = harmonise_cbs_areas(gpd.read_file(realdata("leeuwarden_gemeente_2015.geojson")), year=2015)
    total = gemeente.values.query("indicator == 'aantal_inwoners'")["value"].iloc[0]
    assert abs(inh.sum() - total) <= 5 * len(result.areas)  # CBS rounds each buurt to 5


def test_zaanstad_2017_rd_new_lower_case():
    result = harmonise_cbs_areas(gpd.read_file(realdata("zaanstad_buurten_2017_rd.geojson")), year=2017)
    assert len(result.areas) == 50
    assert result.values.query("indicator == 'aantal_inwoners'")["value"].sum() == 153_580
    assert "percentage_verweduwd" in result.report["kerncijfers"]
    guisveld = result.values.query("area_code == 'BU04795120' and status == 'geheim'")
    assert len(guisveld) >= 15


def test_real_buurten_round_trip_and_map(tmp_path):
    result = harmonise_cbs_areas(gpd.read_file(realdata("haarlem_buurten_2015.geojson")), year=2015)
    store = GeoPackageStore.open(tmp_path / "haarlem.gpkg")
    store.replace_tables({"areas": result.areas, "area_values": result.values}, user="t", action="import")
    areas = store.read_areas("buurt")
    assert len(areas) == 40
    m = choropleth_map(areas, "percentage_verweduwd", label="Verweduwd", unit="%")
    assert m.get_root().render().count('"type": "Feature"') == 40


def test_haarlem_profile_by_hand_checked_numbers(tmp_path):
    """Potgieterbuurt (BU03920301, 2015): 1.685 inhabitants, 14% aged 65+; its wijk WK039203 has
    21.680 inhabitants of whom 16,9% (inhabitant-weighted) are 65+; Haarlem 156.555 and 16,6%."""
    from data.area_import import read_area_file
    from data.profile import area_profile

    imported = read_area_file(realdata("haarlem_buurten_2015.geojson"))
    store = GeoPackageStore.open(tmp_path / "haarlem.gpkg")
    store.merge_area_data(imported.areas, imported.values, user="test")
    profile = area_profile(store.read_area_values(), store.read_table("areas"), "BU03920301")
    assert profile.columns == ["Potgieterbuurt", "Wijk 03", "Haarlem"]
    table = profile.table.set_index("indicator")
    assert table.loc["aantal_inwoners", ["Potgieterbuurt", "Wijk 03", "Haarlem"]].tolist() == [
        "1.685", "21.680", "156.555"]
    assert table.loc["percentage_personen_65_jaar_en_ouder", ["Potgieterbuurt", "Wijk 03", "Haarlem"]].tolist() == [
        "14%", "17%", "17%"]
    assert table.loc["percentage_verweduwd", "Potgieterbuurt"] == "8%"

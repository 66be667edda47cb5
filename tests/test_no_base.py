"""No percentages without a base: a rate of an area without inhabitants (or households) is missing
with 'geen inwoners' / 'geen huishoudens' in the store, map, legend, profile, summary, trend and exports."""

import io
import json
import math
import re

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from data.area_import import read_area_file
from data.errors import DataValidationError
from data.indicators import BY_NAME, mask_rates_without_base
from data.profile import (
    area_profile,
    compare_areas,
    deviation_stats,
    indicator_trend,
    indicator_trend_text,
    profile_frame,
    profile_to_excel,
)
from data.store import GeoPackageStore
from mapping.choropleth import NO_BASE_FILL, choropleth_map
from mapping.gaps import need_for_type
from tests.conftest import realdata

# One gemeente (Teststad), two wijken. Buurt Leeg has nobody but its file says 100% widowed and
# 100% single-person households; Tehuis has 50 inhabitants and no private households; Bedrijven
# (the only buurt of wijk 02) has nobody either, so the derived wijk 02 has no inhabitants.
#            code          name        wijk        inh  hh   widowed  single  hh size
BUURTEN = [("BU00010101", "Een", "WK000101", 100, 50, 10, 20, 2.0),
           ("BU00010102", "Twee", "WK000101", 100, 50, 20, 40, 2.0),
           ("BU00010103", "Drie", "WK000101", 200, 100, 30, 60, 2.0),
           ("BU00010104", "Leeg", "WK000101", 0, 0, 100, 100, 1.0),
           ("BU00010105", "Tehuis", "WK000101", 50, 0, 40, 100, 2.0),
           ("BU00010201", "Bedrijven", "WK000102", 0, 0, 0, 0, 0.0)]
LEEG, TEHUIS, BEDRIJVEN, DRIE = "BU00010104", "BU00010105", "BU00010201", "BU00010103"
WIDOWED, SINGLE, HH_SIZE = "percentage_verweduwd", "percentage_eenpersoonshuishoudens", "gemiddelde_huishoudsgrootte"


def _raw(leeg_inhabitants: int = 0) -> gpd.GeoDataFrame:
    rows = [dict(zip(["buurtcode", "buurtnaam", "wijkcode", "aantal_inwoners", "aantal_part_huishoudens",
                      WIDOWED, SINGLE, HH_SIZE], b, strict=True)) for b in BUURTEN]
    raw = gpd.GeoDataFrame(rows, geometry=[shapely.box(150_000 + i * 1000, 450_000, 151_000 + i * 1000, 451_000)
                                           for i in range(len(rows))], crs=28992)
    raw["wijknaam"] = raw["wijkcode"].map({"WK000101": "Noord", "WK000102": "Haven"})
    raw["gemeentecode"], raw["gemeentenaam"], raw["water"] = "GM0001", "Teststad", "NEE"
    if leeg_inhabitants:  # an older year in which Leeg was inhabited
        raw.loc[raw["buurtcode"] == LEEG, ["aantal_inwoners", "aantal_part_huishoudens", WIDOWED]] = [
            leeg_inhabitants, 10, 10]
    return raw


@pytest.fixture()
def store(tmp_path) -> GeoPackageStore:
    """A real store (not the demo) filled through the import of a buurten file."""
    store = GeoPackageStore.open(tmp_path / "teststad.gpkg")
    path = tmp_path / "buurten_2024.geojson"
    _raw().to_file(path)
    imported = read_area_file(path, year=2024)
    store.merge_area_data(imported.areas, imported.values, user="test")
    return store


def _value(values: pd.DataFrame, code: str, indicator: str) -> pd.Series:
    return values.set_index(["area_code", "indicator"]).loc[(code, indicator)]


def test_store_reads_rates_without_base_as_missing_with_reason(store):
    values = store.read_area_values()
    leeg = _value(values, LEEG, WIDOWED)
    assert math.isnan(leeg["value"]) and leeg["status"] == "geen_inwoners"
    assert _value(values, LEEG, SINGLE)["status"] == "geen_inwoners"  # no inhabitants: every rate says so
    assert _value(values, LEEG, HH_SIZE)["status"] == "geen_inwoners"  # an average per household too
    assert _value(values, LEEG, "aantal_inwoners")["value"] == 0  # the count itself is a real 0
    tehuis = values.set_index(["area_code", "indicator"]).loc[TEHUIS]
    assert tehuis.loc[WIDOWED, "value"] == 40 and pd.isna(tehuis.loc[WIDOWED, "status"])
    assert math.isnan(tehuis.loc[SINGLE, "value"]) and tehuis.loc[SINGLE, "status"] == "geen_huishoudens"
    assert tehuis.loc[HH_SIZE, "status"] == "geen_huishoudens"
    # The derived wijk 02 has 0 inhabitants in total: no rate either (its import said 'onbekend').
    assert _value(values, "WK000102", WIDOWED)["status"] == "geen_inwoners"
    # The file is fixed at read time: the stored number is still CBS's, so older stores are covered too.
    raw = store.read_table("area_values").set_index(["area_code", "indicator"])
    assert raw.loc[(LEEG, WIDOWED), "value"] == 100
    assert store.read_area_values([LEEG]).set_index("indicator").loc[WIDOWED, "status"] == "geen_inwoners"
    buurten = store.read_areas("buurt").set_index("area_code")
    assert buurten[WIDOWED].isna().tolist() == [False, False, False, True, False, True]
    assert buurten[SINGLE].isna().tolist() == [False, False, False, True, True, True]


def test_derived_wijk_and_gemeente_leave_uninhabited_buurten_out(store):
    """Wijk 01: widowed (10·100 + 20·100 + 30·200 + 40·50) / 450 = 24,44%; single-person households
    (20·50 + 40·50 + 60·100) / 200 = 45%: the 100% of Leeg and Tehuis (weight 0) count for nothing."""
    values = store.read_area_values()
    for code in ("WK000101", "GM0001"):
        assert _value(values, code, WIDOWED)["value"] == pytest.approx(11_000 / 450)
        assert _value(values, code, SINGLE)["value"] == pytest.approx(45.0)


def test_mask_is_vectorised_pure_and_keeps_order():
    values = pd.DataFrame({
        "area_code": ["A", "A", "B", "B", "A"],
        "indicator": [WIDOWED, "aantal_inwoners", WIDOWED, "aantal_inwoners", "mannen"],
        "year": pd.array([2024, 2024, None, None, 2024], dtype="Int64"),
        "value": [100.0, 0.0, 5.0, np.nan, 0.0], "lower": [90.0, None, None, None, None],
        "upper": [100.0, None, None, None, None], "status": [None, None, None, "geheim", None],
        "source": "CBS", "batch_id": 7,
    })
    out = mask_rates_without_base(values)
    assert values.loc[0, "value"] == 100  # the input is not changed
    assert out.loc[0, "status"] == "geen_inwoners"
    assert out["status"].iloc[1:3].isna().all()  # B: unknown inhabitants is not 0 inhabitants
    assert out.loc[0, ["value", "lower", "upper"]].isna().all()
    assert out.loc[2, "value"] == 5.0 and out.loc[4, "value"] == 0  # a count stays 0
    assert list(out.columns) == list(values.columns) and out.index.equals(values.index)
    assert mask_rates_without_base(out).equals(out)  # applying it twice changes nothing
    with pytest.raises(DataValidationError, match="Kolommen ontbreken"):
        mask_rates_without_base(values.drop(columns="year"))


def test_deviation_stats_by_hand(store):
    """Peers with inhabitants: Een, Twee, Drie, Tehuis. Widowed 10, 20, 30, 40: mean 25, sd √125
    (Leeg's 100 is not counted). Single-person households only where there are households: 20, 40, 60:
    mean 40, sd √(800/3) (Tehuis's and Leeg's 100 are not counted)."""
    areas = store.read_table("areas")
    for values in (store.read_area_values(), store.read_table("area_values")):  # also on unmasked values
        stats = deviation_stats(values, areas, level="buurt", gemeente_code="GM0001")
        assert stats.loc[WIDOWED].tolist() == pytest.approx([25.0, math.sqrt(125), 4])
        assert stats.loc[SINGLE].tolist() == pytest.approx([40.0, math.sqrt(800 / 3), 3])


def test_profile_summary_and_export_of_an_uninhabited_buurt(store):
    profile = area_profile(store.read_area_values(), store.read_table("areas"), LEEG)
    assert profile.columns == ["Leeg", "Wijk 01", "Teststad"]
    table = profile.table.set_index("indicator")
    assert table.loc[WIDOWED, ["Leeg", "Wijk 01", "Teststad"]].tolist() == ["geen inwoners", "24%", "24%"]
    assert table.loc[SINGLE, "Leeg"] == "geen inwoners"
    assert table.loc["aantal_inwoners", "Leeg"] == "0"
    assert table.loc[[WIDOWED, SINGLE, HH_SIZE], "z"].isna().all()
    assert profile.summary == ("Geen kerncijfer wijkt meer dan één standaardafwijking af van de andere "
                               "gebieden in de gemeente.")  # not 'hoog aandeel verweduwd (100% tegen 24%)'
    frame = profile_frame(profile).set_index("Kerncijfer")
    assert frame.loc["Verweduwd", "Leeg"] == "geen inwoners" and frame.loc["Verweduwd", "Afwijking"] == ""
    sheet = openpyxl.load_workbook(io.BytesIO(profile_to_excel(profile)))["Profiel"]
    header, *rows = sheet.iter_rows(values_only=True)
    cells = [dict(zip(header, r, strict=True)) for r in rows]
    widowed = [c for c in cells if c["Gebiedscode"] == LEEG and c["Indicator"] == WIDOWED]
    assert len(widowed) == 1 and widowed[0]["Waarde"] is None and widowed[0]["Status"] == "geen inwoners"


def test_profile_of_a_buurt_without_households(store):
    """Tehuis: widowed 40% is (40 − 25) / √125 = 1,34 sd above; its 100% single-person households
    has no households under it and is neither shown nor mentioned."""
    profile = area_profile(store.read_area_values(), store.read_table("areas"), TEHUIS)
    table = profile.table.set_index("indicator")
    assert table.loc[SINGLE, "Tehuis"] == "geen huishoudens"
    assert table.loc[HH_SIZE, "Tehuis"] == "geen huishoudens"
    assert table.loc[WIDOWED, "z"] == pytest.approx(15 / math.sqrt(125))
    assert profile.summary == "Valt op: hoog aandeel verweduwd (40% tegen 24% in Teststad)."


def test_comparison_and_wijk_without_inhabitants(store):
    values, areas = store.read_area_values(), store.read_table("areas")
    table = compare_areas(values, areas, [LEEG, DRIE, TEHUIS]).set_index("Kerncijfer")
    assert table.loc["Verweduwd"].tolist() == ["geen inwoners", "30%", "40%"]
    assert table.loc["Eenpersoonshuishoudens"].tolist() == ["geen inwoners", "60%", "geen huishoudens"]
    wijk = area_profile(values, areas, "WK000102").table.set_index("indicator")
    assert wijk.loc[WIDOWED, "Wijk 02"] == "geen inwoners"


def test_trend_shows_the_reason_for_the_year_without_inhabitants(store, tmp_path):
    path = tmp_path / "buurten_2020.geojson"
    _raw(leeg_inhabitants=20).to_file(path)
    older = read_area_file(path, year=2020)
    store.merge_area_data(older.areas, older.values, user="test")
    values = store.read_area_values()
    trend = indicator_trend(values, LEEG)
    assert trend.loc["Verweduwd", 2020] == 10 and math.isnan(trend.loc["Verweduwd", 2024])
    text = indicator_trend_text(values, LEEG)
    assert text.loc["Verweduwd"].tolist() == ["10%", "geen inwoners"]
    assert text.loc["Aantal inwoners"].tolist() == ["20", "0"]
    assert list(text.columns) == [2020, 2024]
    # the raw long form gives the same table (the profile functions mask for themselves too)
    assert indicator_trend_text(store.read_table("area_values"), LEEG).equals(text)


def _legend_text(m) -> str:
    legend = next(c for c in m._children.values() if type(c).__name__ == "_Legend")
    return json.loads(legend.html_json.replace("<\\/", "</"))


def _store_map(store, level: str, indicator: str):
    """The map as pages/common.py builds it: values from read_areas, status from read_area_values."""
    areas = store.read_areas(level)
    values = store.read_area_values()
    status = (values.loc[values["indicator"] == indicator].sort_values("year")
              .drop_duplicates("area_code", keep="last").set_index("area_code")["status"])
    ind = BY_NAME[indicator]
    m = choropleth_map(areas, indicator, label=ind.label, unit=ind.unit, decimals=ind.decimals, k=4,
                       status=status.reindex(areas["area_code"]).set_axis(areas.index))
    html = m.get_root().render()
    features = json.loads(re.search(r"geo_json_\w+_add\((\{.*?\})\);", html, flags=re.S).group(1))["features"]
    return {f["properties"]["code"]: f["properties"] for f in features}, _legend_text(m)


def test_map_and_legend_label_areas_without_inhabitants(store):
    props, legend = _store_map(store, "buurt", WIDOWED)
    for code in (LEEG, BEDRIJVEN):
        assert props[code]["value_text"] == "geen inwoners"
        assert props[code]["fill"] == NO_BASE_FILL and props[code]["missing"]
    assert props[TEHUIS]["value_text"] == "40%"
    assert "geen inwoners (2)" in legend
    assert "geen gegevens / geheim" not in legend  # nothing else is missing
    # Classes from 10..40 only: Leeg's 100 and Bedrijven's 0 are in no class.
    assert legend.count("sk-swatch") == 5 and "10 – 18%" in legend and "34 – 40%" in legend
    assert "100" not in legend

    props, legend = _store_map(store, "buurt", SINGLE)
    assert props[TEHUIS]["value_text"] == "geen huishoudens" and props[TEHUIS]["fill"] == NO_BASE_FILL
    assert "geen inwoners (2)" in legend and "geen huishoudens (1)" in legend

    props, legend = _store_map(store, "wijk", WIDOWED)
    assert props["WK000102"]["value_text"] == "geen inwoners" and "geen inwoners (1)" in legend


def test_need_of_a_group_of_nobody_is_zero_not_unknown(store):
    """A share without a base is missing, but the group it describes is empty: need 0 ('geen
    inwoners' in the gap reason), not 'behoefte onbekend'. Tehuis has no households, so nobody
    there lives alone in one: 0 older people alone."""
    wide = store.read_areas("buurt").set_index("area_code")
    need, missing = need_for_type(wide, "bezoekdienst_weduwen")
    assert need[[LEEG, BEDRIJVEN]].tolist() == [0.0, 0.0] and (missing == "").all()
    assert need[TEHUIS] == pytest.approx(0.10 * 50 * 0.40)
    wide["percentage_personen_65_jaar_en_ouder"] = 20.0
    need, missing = need_for_type(wide, "maatjesproject")
    assert need[TEHUIS] == 0.0 and need[LEEG] == 0.0 and need[DRIE] == pytest.approx(0.03 * 200 * 0.20 * 0.60)


@pytest.mark.realdata
def test_leeuwarden_2015_uninhabited_buurten_show_no_rates(tmp_path):
    """Leeuwarden 2015 has three buurten with 0 inhabitants whose file gives rates such as 100% widowed
    (Grote Wielen) and one, De Werp, with 5 inhabitants and no private households."""
    imported = read_area_file(realdata("leeuwarden_buurten_2015.geojson"))
    store = GeoPackageStore.open(tmp_path / "leeuwarden.gpkg")
    store.merge_area_data(imported.areas, imported.values, user="test")
    buurten = store.read_areas("buurt").set_index("area_code")
    empty = buurten.index[buurten["aantal_inwoners"] == 0]
    assert sorted(empty) == ["BU00803701", "BU00805601", "BU00806004"]
    rates = [i.name for i in BY_NAME.values() if i.aggregation == "weighted_mean" and i.name in buurten]
    assert len(rates) >= 15
    assert buurten.loc[empty, rates].isna().all().all()
    values = store.read_area_values()
    shown = values.loc[values["area_code"].isin(empty) & values["indicator"].isin(rates)]
    assert (shown["status"] == "geen_inwoners").all()
    household_rates = [r for r in rates if BY_NAME[r].weight == "aantal_part_huishoudens"]
    de_werp = values.loc[values["area_code"] == "BU00805801"].set_index("indicator")
    assert (de_werp.loc[household_rates, "status"] == "geen_huishoudens").all()
    assert de_werp.loc[WIDOWED, "value"] == 50  # it has inhabitants: its person rates stay
    profile = area_profile(values, store.read_table("areas"), "BU00803701")
    assert profile.table.set_index("indicator").loc[WIDOWED, "Grote Wielen"] == "geen inwoners"
    assert "verweduwd" not in profile.summary
    props, legend = _store_map(store, "buurt", WIDOWED)
    assert all(props[c]["value_text"] == "geen inwoners" for c in empty)
    assert "geen inwoners (3)" in legend

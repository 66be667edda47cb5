"""Suppression that keeps the signal visible (graphs.aggregates.share_from_counts): a buurt where almost everyone
has a signal shows a band ('80% of meer') instead of disappearing, the band never tells the complement, secondary
suppression still holds, and the map's legend tells 'te weinig personen' from 'geheim'."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data.access import ScopedStore
from data.auth import User
from graphs.aggregates import BAND_STATUS, HIDDEN_STATUS, format_share, share_band, share_from_counts
from mapping.choropleth import FEW_FILL, MISSING_FILL, choropleth_map
from tests.test_app import open_tab

ADMIN = User("beheer", "beheerder")


def _share(rows: dict[str, tuple[int, int]], **kwargs) -> pd.DataFrame:
    measured = pd.Series({b: m for b, (m, _) in rows.items()})
    signalled = pd.Series({b: s for b, (_, s) in rows.items()})
    return share_from_counts(measured, signalled, **kwargs)


# --------------------------------------------------------------------------- the rule, by hand
@pytest.mark.parametrize(("measured", "lower"), [(20, 80), (28, 80), (32, 80), (11, 60), (9, 50), (50, 90),
                                                 (400, 90)])
def test_the_band_is_the_lowest_share_the_complement_allows_rounded_down_to_ten(measured, lower):
    # (measured - 4) / measured: 16/20 = 80%, 24/28 = 85.7%, 28/32 = 87.5%, 7/11 = 63.6%, 5/9 = 55.6%, 46/50 = 92%,
    # 396/400 = 99%: each rounded down to a multiple of 10.
    assert share_band(pd.Series([measured])).iloc[0] == lower


@pytest.mark.parametrize("measured", [5, 6, 7, 8])
def test_no_band_below_nine_persons(measured):
    """With 6 persons a band would mean 5 signalled and exactly 1 without: below 9 it is hidden as before."""
    assert pd.isna(share_band(pd.Series([measured])).iloc[0])
    for rest in range(1, 5):
        share = _share({"A": (measured, measured - rest), "B": (30, 10), "C": (40, 20)})
        assert pd.isna(share.loc["A", "share_at_least"]) and share.loc["A", "status"] == HIDDEN_STATUS


def test_a_buurt_where_almost_everyone_has_a_signal_shows_a_band():
    share = _share({"A": (20, 17), "B": (30, 10), "C": (40, 20), "D": (25, 12)})
    a = share.loc["A"]
    assert a["measured"] == 20 and pd.isna(a["signalled"]) and pd.isna(a["share"])
    assert a["share_at_least"] == 80 and a["status"] == BAND_STATUS
    assert format_share(a["share"], a["share_at_least"]) == "80% of meer"
    assert share.loc[["C", "D"], "share"].tolist() == pytest.approx([50.0, 48.0])
    assert share.loc[["C", "D"], "share_at_least"].isna().all()


# --------------------------------------------------------------------------- nothing is given away
@pytest.mark.parametrize("measured", [9, 10, 12, 20, 57, 133])
def test_the_band_is_the_same_whatever_the_complement_is(measured):
    """For a complement of 1, 2, 3 or 4 every figure of the table is the same: the band tells only that the
    complement is small, never which (E's 2 signalled are hidden as small as well)."""
    others = {"B": (30, 10), "C": (40, 20), "D": (25, 12), "E": (50, 2)}
    tables = [_share({"A": (measured, measured - rest), **others}) for rest in (1, 2, 3, 4)]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])
    assert tables[0].loc["A", "status"] == BAND_STATUS


def test_secondary_suppression_still_holds_with_a_band():
    """The band's signalled count is hidden; as the only hidden count, the smallest other one is hidden too,
    so the total minus the shown counts does not give it (and with it the complement) back."""
    share = _share({"A": (20, 17), "B": (30, 10), "C": (40, 20), "D": (25, 12)})
    hidden = share["signalled"].isna()
    assert hidden.tolist() == [True, True, False, False]
    assert share.loc["B", "status"] == HIDDEN_STATUS and pd.isna(share.loc["B", "share"])
    total = 17 + 10 + 20 + 12
    rest_of_total = total - share["signalled"].dropna().sum()  # what a reader can work out: A + B = 27
    candidates = [(a, rest_of_total - a) for a in range(16, 20) if rest_of_total - a >= 0]
    assert len(candidates) == 4  # A's signalled (and the complement) stays any of 16-19


def test_no_band_where_the_count_of_persons_is_hidden():
    """B6 of tests/test_network.py: its count of persons is hidden (B2 has 4), so a band (which depends on it)
    would tell about it: hidden as before."""
    share = _share({"B1": (20, 8), "B2": (4, 1), "B3": (30, 2), "B4": (12, 6), "B5": (25, 10), "B6": (10, 8)})
    assert pd.isna(share.loc["B6", "measured"]) and pd.isna(share.loc["B6", "share_at_least"])
    assert share.loc["B6", "status"] == HIDDEN_STATUS
    assert share["share_at_least"].isna().all()


def test_no_band_where_the_signalled_count_is_small_too():
    share = _share({"A": (7, 4), "B": (30, 10), "C": (40, 20)})  # 4 with and 3 without a signal: both small
    assert pd.isna(share.loc["A", "share_at_least"]) and share.loc["A", "status"] == HIDDEN_STATUS


def test_protected_counts_with_the_complement_below_zero_get_a_band():
    """Cells with their own noise need not add up: 21 'signalled' of 20 is shown as a band, never as 105%."""
    measured, signalled = pd.Series({"A": 20, "B": 30, "C": 40}), pd.Series({"A": 21, "B": 10, "C": 20})
    share = share_from_counts(measured, signalled, band=(measured - signalled) < 5, hide=signalled == 0)
    assert share.loc["A", "share_at_least"] == 80 and pd.isna(share.loc["A", "share"])
    assert (share["share"].dropna() <= 100).all()


# --------------------------------------------------------------------------- the demo, as the issue saw it
def test_the_highest_shares_of_the_demo_stay_on_the_map(town_store):
    persons = town_store.read_table("persons")
    admin = ScopedStore(town_store, ADMIN)
    exact = admin._aggregate_base(None)["own_signals"].groupby("buurt_code")["signal"].agg(["size", "sum"])
    exact["share"] = 100 * exact["sum"] / exact["size"]
    share = admin.signal_share()
    top = exact["share"].nlargest(3).index  # the three highest shares: each on the map, as a share or a band
    assert (share.loc[top, "share"].notna() | share.loc[top, "share_at_least"].notna()).all()
    banded = share.index[share["status"] == BAND_STATUS]
    assert len(banded) >= 2 and (share.loc[banded, "share_at_least"] <= exact.loc[banded, "share"]).all()
    # What stays hidden is a buurt with 1 to 4 signalled persons, or one hidden because of another.
    hidden = share.index[share["share"].isna() & share["share_at_least"].isna()]
    assert len(hidden) < 13 and (exact.loc[hidden, "sum"] < 5).all()
    assert persons["buurt_code"].nunique() == 39


def test_the_network_page_table_shows_bands_and_secrets(app):
    app.switch_page("pages/netwerken.py").run()
    open_tab(app, "Kaart per buurt")
    table = next(d.value for d in app.dataframe if "Aandeel" in d.value.columns)
    assert (table["Aandeel"] == "80% of meer").sum() >= 2 and (table["Aandeel"] == "geheim").any()
    assert table.loc[table["Aandeel"] == "80% of meer", "Met signaal"].eq("").all()


# --------------------------------------------------------------------------- the map: legend and fit
@pytest.fixture()
def squares():
    geoms = [shapely.box(150_000 + i * 1000, 450_000, 151_000 + i * 1000, 451_000) for i in range(5)]
    return gpd.GeoDataFrame({"area_code": [f"BU0000000{i}" for i in range(5)], "name": list("ABCDE"),
                             "waarde": [40.0, 55.0, 80.0, np.nan, np.nan]}, geometry=geoms, crs=28992)


def _features(m) -> list[dict]:
    match = re.search(r"geo_json_\w+_add\((\{.*?\})\);", m.get_root().render(), flags=re.S)
    return json.loads(match.group(1))["features"]


def test_the_legend_tells_too_few_from_secret_and_the_band_is_labelled(squares):
    status = pd.Series([None, None, None, "te weinig personen", "geheim"], index=squares.index)
    labels = pd.Series(["40%", "55%", "80% of meer", "te weinig personen", "geheim (kleine aantallen)"],
                       index=squares.index)
    m = choropleth_map(squares, "waarde", label="Aandeel", unit="%", status=status, value_labels=labels,
                       few_status="te weinig personen", missing_label="geheim", legend_note="'… of meer': band")
    html = m.get_root().render()
    assert "te weinig personen (1)" in html and "geheim (1)" in html and "geen gegevens / geheim" not in html
    features = _features(m)
    assert [f["properties"]["value_text"] for f in features][2:] == ["80% of meer", "te weinig personen",
                                                                      "geheim (kleine aantallen)"]
    assert features[3]["properties"]["fill"] == FEW_FILL and features[3]["properties"]["few"]
    assert features[4]["properties"]["fill"] == MISSING_FILL and not features[4]["properties"]["few"]


def test_the_map_fits_the_areas_again_when_it_is_shown(squares):
    """A map drawn while its container has no size (a tab not shown yet) fits the areas once it gets one."""
    html = choropleth_map(squares, "waarde", label="W").get_root().render()
    assert "new ResizeObserver(fit)" in html and "map.fitBounds(bounds, {animate: false})" in html
    bounds = json.loads(re.search(r"var bounds = (\[\[.*?\]\]);", html).group(1))
    lon, lat = np.array(bounds)[:, 1], np.array(bounds)[:, 0]
    assert 5.0 < lon.min() < lon.max() < 6.0 and 52.0 < lat.min() < lat.max() < 52.1  # the squares, not the world

"""The demo municipality: tiling, codes, key figures, determinism, network structure."""

import numpy as np
import pandas as pd
import shapely

from data.demo import GEMEENTE_CODE, SECRET, generate_demo
from data.schema import AGE_BANDS, CRS_EPSG, ROLES


def _level(demo, level):
    return demo.areas.loc[demo.areas["level"] == level]


def test_counts_and_levels(demo):
    assert len(_level(demo, "gemeente")) == 1
    assert len(_level(demo, "wijk")) == 6
    assert len(_level(demo, "buurt")) == 40
    assert demo.areas.crs.to_epsg() == CRS_EPSG


def test_buurten_tile_the_gemeente_without_overlap(demo):
    gemeente = _level(demo, "gemeente").geometry.iloc[0]
    buurten = _level(demo, "buurt").geometry.to_numpy()
    assert shapely.is_valid(buurten).all()
    union = shapely.union_all(buurten)
    # Union covers the gemeente (up to rounding at the 1 cm grid) ...
    assert shapely.symmetric_difference(union, gemeente).area < 1.0
    # ... and the parts add up to the whole: no overlaps.
    assert abs(shapely.area(buurten).sum() - gemeente.area) < 50.0
    tree = shapely.STRtree(buurten)
    left, right = tree.query(buurten, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(buurten[left[pairs]], buurten[right[pairs]]))
    assert overlap.max() < 1.0


def test_wijken_tile_the_gemeente_and_contain_their_buurten(demo):
    wijken = _level(demo, "wijk").set_index("area_code").geometry
    buurten = _level(demo, "buurt")
    gemeente = _level(demo, "gemeente").geometry.iloc[0]
    assert abs(wijken.area.sum() - gemeente.area) < 50.0
    inside = [wijken[w].buffer(0.5).contains(g) for w, g in zip(buurten["wijk_code"], buurten.geometry, strict=True)]
    assert all(inside)


def test_codes_follow_cbs_pattern(demo):
    buurten = _level(demo, "buurt")
    assert buurten["area_code"].str.fullmatch(r"BU\d{8}").all()
    assert _level(demo, "wijk")["area_code"].str.fullmatch(r"WK\d{6}").all()
    assert (buurten["area_code"].str[2:8] == buurten["wijk_code"].str[2:8]).all()
    assert (buurten["gemeente_code"] == GEMEENTE_CODE).all()
    assert demo.areas["area_code"].is_unique


def test_generation_is_deterministic(demo):
    again = generate_demo()
    pd.testing.assert_frame_equal(again.area_values, demo.area_values)
    assert shapely.equals_exact(again.areas.geometry.to_numpy(), demo.areas.geometry.to_numpy()).all()
    pd.testing.assert_frame_equal(again.persons, demo.persons)
    pd.testing.assert_frame_equal(again.ties, demo.ties)
    other = generate_demo(seed=1)
    assert not other.persons["person_id"].equals(demo.persons["person_id"])


def test_secrecy_codes_in_raw_file_become_missing_with_status(demo):
    raw = demo.raw_buurten
    numeric = raw.select_dtypes("number")
    assert (numeric == SECRET).to_numpy().sum() >= 5  # a few suppressed, as CBS does
    values = demo.area_values
    assert values["value"].min() > -99990  # no code survives as a number
    secret = values.loc[values["status"] == "geheim"]
    assert len(secret) == (numeric == SECRET).to_numpy().sum()
    assert secret["value"].isna().all()


def test_one_water_buurt_without_inhabitants(demo):
    buurten = _level(demo, "buurt")
    water = buurten.loc[buurten["water"]]
    assert len(water) == 1
    inh = demo.area_values.query("indicator == 'aantal_inwoners'").set_index("area_code")["value"]
    assert inh[water["area_code"].iloc[0]] == 0


def test_wijk_and_gemeente_totals_add_up(demo):
    inh = demo.area_values.query("indicator == 'aantal_inwoners'").set_index("area_code")["value"]
    buurten = _level(demo, "buurt")
    by_wijk = inh.reindex(buurten["area_code"]).groupby(buurten["wijk_code"].to_numpy()).sum()
    assert (by_wijk == inh.reindex(by_wijk.index)).all()
    assert inh[GEMEENTE_CODE] == by_wijk.sum()
    assert 30_000 < inh[GEMEENTE_CODE] < 150_000


def test_provisions_are_realistic(demo):
    prov = demo.provisions
    assert 35 <= len(prov) <= 45
    assert set(prov["status"]) == {"actief", "onder_druk", "gestopt"}
    assert {"bezoekdienst_weduwen", "grip_en_glans", "jongerenwerk", "buurthuis"} <= set(prov["type"])
    assert (prov["capacity_per_year"] > 0).all()
    gemeente = _level(demo, "gemeente").geometry.iloc[0]
    assert prov.geometry.within(gemeente).all()
    # Every provision lies in the buurt it names.
    buurten = _level(demo, "buurt").set_index("area_code").geometry
    assert all(buurten[b].contains(p) for b, p in zip(prov["buurt_code"], prov.geometry, strict=True))


def test_network_is_pseudonymous_and_consistent(demo):
    persons, ties = demo.persons, demo.ties
    assert len(persons) == 2000
    assert persons["person_id"].is_unique
    assert persons["person_id"].str.fullmatch(r"P[0-9a-f]{8}").all()
    assert set(persons["age_band"]) <= set(AGE_BANDS)
    assert set(ties["role"]) <= set(ROLES)
    known = set(persons["person_id"])
    assert ties["ego_id"].isin(known).all()
    linked = ties["alter_id"].dropna()
    assert len(linked) > 100 and linked.isin(known).all()
    assert (ties["alter_id"] != ties["ego_id"]).all()
    assert not ties.dropna(subset=["alter_id"]).duplicated(["ego_id", "alter_id"]).any()
    assert (ties["alter_id"].notna() ^ ties["alter_key"].notna()).all()
    assert demo.participation["person_id"].isin(known).all()
    assert demo.participation["provision_id"].isin(demo.provisions["provision_id"]).all()


def test_poor_networks_cluster_in_pockets(demo):
    persons, ties = demo.persons, demo.ties
    size = ties.groupby("ego_id").size().reindex(persons["person_id"]).fillna(0).to_numpy()
    lsns = persons[[f"lsns_{i}" for i in range(1, 7)]].sum(axis=1, min_count=6).to_numpy(dtype=float)
    wijk = persons["buurt_code"].str[:8].to_numpy()
    kanaalzone = wijk == "BU999901"
    weiden = wijk == "BU999902"
    assert size[kanaalzone].mean() < 0.6 * size[weiden].mean()
    at_risk = lsns < 12
    screened = ~np.isnan(lsns)
    assert at_risk[kanaalzone & screened].mean() > 2 * at_risk[weiden & screened].mean()
    assert 0.5 < screened.mean() < 0.9  # some persons have no screening answers

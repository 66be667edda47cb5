"""Hot and cold spots (Gi* + FDR) on hand-checkable grids and the demo; the vectorised gap helpers."""

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from data.formatting import format_number
from mapping.choropleth import choropleth_map
from mapping.gaps import _format_numbers, _nearest, _reached_at_risk, gaps_from_need_and_supply
from mapping.hotspots import CLUSTER_LABELS, LAYER_NAME, add_hotspot_layer, gap_hotspots, queen_adjacency
from mapping.scenarios import Scenario, run_scenario


def grid(rows: int, cols: int, size: float = 100.0) -> gpd.GeoDataFrame:
    """rows × cols squares in RD New, code BU{row:02d}{col:02d}, row-major."""
    geoms = [shapely.box(150_000 + c * size, 450_000 + r * size, 150_000 + (c + 1) * size, 450_000 + (r + 1) * size)
             for r in range(rows) for c in range(cols)]
    codes = [f"BU{r:02d}{c:02d}" for r in range(rows) for c in range(cols)]
    return gpd.GeoDataFrame({"area_code": codes, "name": codes}, geometry=geoms, crs=28992)


def grid_queen(rows: int, cols: int) -> np.ndarray:
    """Queen neighbours of a grid by index arithmetic (independent of any geometry code)."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    return (np.abs(r[:, None] - r[None, :]) <= 1) & (np.abs(c[:, None] - c[None, :]) <= 1) & ~np.eye(rows * cols, dtype=bool)


def gi_star_by_hand(x: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Getis-Ord Gi* z-score with binary weights including the buurt itself (w_ii = 1)."""
    n = len(x)
    w = (neighbours | np.eye(n, dtype=bool)).astype(float)
    mean, s = x.mean(), np.sqrt((x ** 2).mean() - x.mean() ** 2)
    wsum, w2sum = w.sum(axis=1), (w ** 2).sum(axis=1)
    return (w @ x - mean * wsum) / (s * np.sqrt((n * w2sum - wsum ** 2) / (n - 1)))


@pytest.fixture()
def corner():
    """7 × 7 grid, a 3 × 3 block of gap 1.0 in the corner, elsewhere 0.1 ± 0.02."""
    buurten = grid(7, 7)
    values = 0.1 + np.random.default_rng(1).uniform(-0.02, 0.02, (7, 7))
    values[:3, :3] = 1.0
    return buurten, pd.Series(values.ravel(), index=buurten["area_code"].to_numpy())


def test_queen_adjacency_equals_index_arithmetic_and_libpysal(demo):
    from libpysal.weights import Queen

    assert (queen_adjacency(grid(5, 6)).toarray() == grid_queen(5, 6)).all()  # corners count (queen, not rook)
    buurten = demo.areas.loc[demo.areas["level"] == "buurt"].reset_index(drop=True)
    ours = queen_adjacency(buurten).toarray()
    theirs = Queen.from_dataframe(buurten, use_index=False, silence_warnings=True).sparse.toarray()
    assert ours.sum() > 0 and (ours == theirs).all()
    # An enclave (filling a hole) neighbours the buurt around it; WGS84 input gives the same answer.
    ring = shapely.Polygon([(0, 0), (300, 0), (300, 300), (0, 300)], holes=[[(100, 100), (200, 100), (200, 200),
                                                                               (100, 200)]])
    enclave = gpd.GeoDataFrame({"area_code": ["A", "B", "C"]}, crs=28992, geometry=[
        shapely.affinity.translate(g, 150_000, 450_000) for g in
        (ring, shapely.box(100, 100, 200, 200), shapely.box(1000, 0, 1100, 100))])
    assert queen_adjacency(enclave).toarray().tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    assert (queen_adjacency(buurten.to_crs(4326)).toarray() == ours).all()


def test_z_equals_the_gi_star_formula_by_hand():
    buurten = grid(6, 6)
    x = np.random.default_rng(5).gamma(2.0, 0.2, 36)
    spots = gap_hotspots(buurten, pd.Series(x, index=buurten["area_code"].to_numpy()))
    want = gi_star_by_hand(x, grid_queen(6, 6))
    np.testing.assert_allclose(spots["z"].to_numpy(), want, rtol=1e-10)
    np.testing.assert_allclose(spots["p"].to_numpy(), 2 * stats.norm.sf(np.abs(want)), rtol=1e-10)
    assert spots.index.name == "area_code" and list(spots.columns) == ["z", "p", "cluster"]


def test_hot_spot_in_the_corner_and_none_in_the_uniform_part(corner):
    buurten, values = corner
    spots = gap_hotspots(buurten, values)
    cluster = spots["cluster"].to_numpy().reshape(7, 7)
    assert cluster[1, 1] == "hot" and cluster[0, 0] == "hot"
    assert (cluster[:4, :4] != "cold").all()
    assert all(c is None for c in cluster[4:, :].ravel()) and all(c is None for c in cluster[:, 4:].ravel())
    assert "cold" not in set(cluster.ravel()) and spots["cluster"].dtype == object
    assert spots.attrs["n_tested"] == 49


def test_missing_values_are_left_out_not_zero(corner):
    buurten, values = corner
    gaps = values.copy()
    gaps["BU0101"] = np.nan  # in the hot block
    gaps["BU0505"] = np.nan  # in the uniform part
    spots = gap_hotspots(buurten, gaps.drop("BU0000"))  # a code absent from the values counts as missing too
    assert spots.loc[["BU0101", "BU0505", "BU0000"], "z"].isna().all()
    assert spots.loc[["BU0101", "BU0505", "BU0000"], "cluster"].isna().all()
    # Exactly as if those buurten were not there at all ...
    rest = ~buurten["area_code"].isin(["BU0101", "BU0505", "BU0000"])
    without = gap_hotspots(buurten.loc[rest], values)
    np.testing.assert_allclose(spots.loc[rest.to_numpy(), "z"].to_numpy(), without["z"].to_numpy(), rtol=1e-12)
    # ... and not as if their gap were 0.
    as_zero = gap_hotspots(buurten, values.where(~values.index.isin(["BU0101", "BU0505", "BU0000"]), 0.0))
    assert not np.allclose(as_zero.loc[rest.to_numpy(), "z"].to_numpy(), without["z"].to_numpy())


def test_islands_get_no_cluster_but_their_value_counts_in_the_mean(corner):
    buurten, values = corner
    far = gpd.GeoDataFrame({"area_code": ["BU9999"], "name": ["Eiland"]},
                           geometry=[shapely.box(160_000, 460_000, 160_100, 460_100)], crs=28992)
    everything = pd.concat([buurten, far], ignore_index=True)
    gaps = pd.concat([values, pd.Series({"BU9999": 1.0})])
    # BU0505 loses all its neighbours: they have no known need.
    around = [f"BU{r:02d}{c:02d}" for r in (4, 5, 6) for c in (4, 5, 6) if (r, c) != (5, 5)]
    gaps[around] = np.nan
    spots = gap_hotspots(everything, gaps)
    assert spots.loc[["BU9999", "BU0505"], ["z", "p"]].isna().all().all()
    assert spots.loc[["BU9999", "BU0505"], "cluster"].isna().all()
    known = gaps.reindex(everything["area_code"]).notna().to_numpy()
    neighbours = np.zeros((50, 50), dtype=bool)
    neighbours[:49, :49] = grid_queen(7, 7)
    want = gi_star_by_hand(gaps.reindex(everything["area_code"]).to_numpy()[known], neighbours[known][:, known])
    got = spots["z"].to_numpy()[known]
    tested = ~np.isin(everything["area_code"].to_numpy()[known], ["BU9999", "BU0505"])
    np.testing.assert_allclose(got[tested], want[tested], rtol=1e-10)
    assert spots.attrs["n_tested"] == tested.sum()


def test_fdr_calls_fewer_significant_than_uncorrected_and_is_benjamini_hochberg():
    buurten = grid(12, 12)
    x = np.random.default_rng(0).uniform(0, 1, (12, 12))
    x[1:5, 1:5] += 0.5  # a moderate cluster in noise
    spots = gap_hotspots(buurten, pd.Series(x.ravel(), index=buurten["area_code"].to_numpy()), alpha=0.05)
    p = spots["p"].to_numpy()
    uncorrected = p < 0.05
    called = spots["cluster"].notna().to_numpy()
    assert 0 < called.sum() < uncorrected.sum()
    # Benjamini-Hochberg by hand: reject the k smallest, k the largest with p_(k) <= k α / m.
    ranked = np.sort(p)
    k = np.max(np.flatnonzero(ranked <= np.arange(1, len(p) + 1) * 0.05 / len(p))) + 1
    assert (called == (p <= ranked[k - 1])).all()
    assert set(spots.loc[called, "cluster"]) <= {"hot", "cold"}
    assert (spots.loc[spots["cluster"] == "hot", "z"] > 0).all()


def test_no_variation_means_no_clusters():
    buurten = grid(4, 4)
    spots = gap_hotspots(buurten, pd.Series(1.0, index=buurten["area_code"].to_numpy()))
    assert spots["cluster"].isna().all() and spots["z"].isna().all()
    with pytest.raises(ValueError, match="non-negative"):
        gap_hotspots(buurten, pd.Series(-1.0, index=buurten["area_code"].to_numpy()))


def test_permutation_p_values_and_their_floor(corner):
    buurten, values = corner
    analytic = gap_hotspots(buurten, values)
    permuted = gap_hotspots(buurten, values, permutations=99, seed=3)
    np.testing.assert_allclose(permuted["z"], analytic["z"])
    assert permuted["p"].between(2 / 100, 1).all()
    # With 99 permutations no p can get below 0.02, and 49 tests under FDR need 0.05 / 49 ≈ 0.001:
    # the documented reason permutations are not the default.
    assert permuted["cluster"].isna().all() and analytic["cluster"].notna().any()


def test_demo_store_visiting_service(demo_store):
    buurten = demo_store.read_areas("buurt")
    table = gaps_from_need_and_supply(buurten, demo_store.read_table("provisions"), types=["bezoekdienst_weduwen"])
    gap_index = table.set_index("area_code")["gap_index"]
    spots = gap_hotspots(buurten, gap_index)
    assert list(spots.index) == buurten["area_code"].tolist()
    assert spots["p"].dropna().between(0, 1).all()
    inhabited = gap_index.reindex(spots.index).notna() & ~buurten.set_index("area_code")["water"].astype(bool)
    assert not spots.loc[~inhabited.to_numpy(), "cluster"].notna().any()
    assert spots.loc[inhabited.to_numpy(), "z"].notna().any()


@pytest.fixture()
def few_and_many():
    """7 × 7 grid: in the top-left 3 × 3 block nothing is in reach (gap index 1) but almost nobody
    is in need (0–4.9 persons, one buurt exactly 5); in the bottom-right block 60 persons each (80 in
    its centre) with index 0.8 (48 and 64 uncovered people); elsewhere 20 persons, index 0.2 ± 0.05."""
    buurten = grid(7, 7)
    need = np.full((7, 7), 20.0)
    index = 0.2 + np.random.default_rng(7).uniform(-0.05, 0.05, (7, 7))
    need[:3, :3] = [[0, 1, 2], [3, 5, 4.9], [4, 2, 1]]
    index[:3, :3] = 1.0
    need[4:, 4:], index[4:, 4:] = 60.0, 0.8
    need[5, 5] = 80.0
    codes = buurten["area_code"].to_numpy()
    frame = pd.DataFrame({"need": need.ravel(), "gap_index": index.ravel(), "gap_people": (need * index).ravel()},
                         index=codes)
    return buurten, frame


def test_tiny_need_is_never_a_hot_spot_but_stays_an_observation(few_and_many):
    buurten, frame = few_and_many
    plain = gap_hotspots(buurten, frame["gap_index"])
    ruled = gap_hotspots(buurten, frame["gap_index"], need=frame["need"])
    tiny = plain["cluster"].to_numpy().reshape(7, 7)[:3, :3]
    # Without the rule the corner where nobody is in need is the strongest hot spot of the index.
    assert (tiny == "hot").sum() == 6 and plain.loc["BU0000", "cluster"] == "hot"
    assert plain["z"].idxmax() == "BU0101"
    cluster = ruled["cluster"].to_numpy().reshape(7, 7)
    assert cluster[1, 1] == "hot"  # exactly 5 persons in need: may be a hot spot
    assert [c for c in cluster[:3, :3].ravel() if c is not None] == ["hot"]
    # Kept as observations and neighbours: every z and p is the same as without the rule ...
    np.testing.assert_allclose(ruled["z"], plain["z"], rtol=1e-12)
    np.testing.assert_allclose(ruled["p"], plain["p"], rtol=1e-12)
    assert ruled.attrs["n_small_need"] == 8 and ruled.attrs["min_need"] == 5.0
    # ... but the eight small buurten are no hypotheses of the FDR correction: Benjamini-Hochberg
    # runs over the 41 others.
    assert ruled.attrs["n_tested"] == 41 and plain.attrs["n_tested"] == 49
    eligible = (frame["need"] >= 5).to_numpy()
    p = ruled["p"].to_numpy()[eligible]
    ranked = np.sort(p)
    k = np.max(np.flatnonzero(ranked <= np.arange(1, len(p) + 1) * 0.05 / len(p))) + 1
    assert (ruled["cluster"].notna().to_numpy()[eligible] == (p <= ranked[k - 1])).all()
    # Unknown need is not shown to point at people either; other thresholds are possible.
    unknown = gap_hotspots(buurten, frame["gap_index"], need=frame["need"].drop("BU0101"))
    assert unknown.loc["BU0101", "cluster"] is None
    assert gap_hotspots(buurten, frame["gap_index"], need=frame["need"], min_need=0).loc["BU0000", "cluster"] == "hot"
    with pytest.raises(ValueError, match="need has duplicate"):
        gap_hotspots(buurten, frame["gap_index"], need=pd.concat([frame["need"], frame["need"].iloc[:1]]))


def test_the_cluster_with_the_largest_shortage_in_people_is_hot(few_and_many):
    buurten, frame = few_and_many
    on_index = gap_hotspots(buurten, frame["gap_index"], need=frame["need"])
    on_people = gap_hotspots(buurten, frame["gap_people"], need=frame["need"])
    block = {f"BU{r:02d}{c:02d}" for r in (4, 5, 6) for c in (4, 5, 6)}
    hot = set(on_people.index[on_people["cluster"] == "hot"])
    assert hot == block - {"BU0404"}  # the corner has five of its eight neighbours outside the block
    assert frame["gap_people"].idxmax() == "BU0505" and "BU0505" in hot
    assert on_people["cluster"].isin(["cold"]).sum() == 0
    # The index, even with the rule, sees one buurt of the 64 + 8 × 48 uncovered people, and the
    # buurt where 5 people are in need as just as hot.
    assert set(on_index.index[on_index["cluster"] == "hot"]) == {"BU0101", "BU0505"}


def test_scenario_that_stops_everything_keeps_hot_spots_in_people(demo_store):
    """The issue's 'in the scenario the hot spots vanish': with every visiting service stopped the gap
    index is 1 in every inhabited buurt, so Gi* has nothing to compare; the gap in people still varies."""
    buurten = demo_store.read_areas("buurt")
    provisions = demo_store.read_table("provisions")
    running = provisions.loc[(provisions["type"] == "bezoekdienst_weduwen") & (provisions["status"] != "gestopt"),
                             "provision_id"]
    result = run_scenario(buurten, provisions, Scenario("alles uit", tuple(running), ()),
                          types=["bezoekdienst_weduwen"])
    table = result.per_buurt.set_index("area_code")
    assert table["index_after"].dropna().eq(1.0).all() and table["index_before"].dropna().nunique() > 1
    adjacency = queen_adjacency(buurten)
    index_now, index_then = (gap_hotspots(buurten, table[c], adjacency=adjacency, need=table["need"])
                             for c in ("index_before", "index_after"))
    assert index_now["cluster"].notna().any() and index_then["cluster"].isna().all()  # the vanishing
    people_now, people_then = (gap_hotspots(buurten, table[c], adjacency=adjacency, need=table["need"])
                               for c in ("gap_before", "gap_after"))
    hot_now = set(people_now.index[people_now["cluster"] == "hot"])
    hot_then = set(people_then.index[people_then["cluster"] == "hot"])
    assert hot_now and hot_now <= hot_then
    small = table.index[table["need"] < 5]
    assert len(small) and people_now.loc[small, "cluster"].isna().all() and people_then.loc[small, "cluster"].isna().all()


def test_tekorten_page_clusters_on_people_now_and_in_the_scenario(app):
    app.switch_page("pages/tekorten.py").run()
    assert not app.exception
    assert app.radio(key="tk_clusters").value == "gap_people"
    app.selectbox(key="tk_soort").set_value("bezoekdienst_weduwen").run()
    app.multiselect(key="tk_uit").set_value(["V002", "V003"]).run()
    assert not app.exception
    caption = next(c.value for c in app.caption if "hotspots" in c.value)
    assert "coldspots van het tekort in personen" in caption
    assert "behoefte van minder dan 5 personen is nooit een hot- of coldspot" in caption
    assert "dezelfde maat en dezelfde regel" in caption
    now, then = map(int, re.search(r"Nu (\d+) hot- en \d+ coldspots, in het scenario (\d+) en", caption).groups())
    assert 0 < now <= then
    app.radio(key="tk_clusters").set_value("gap_index").run()
    caption = next(c.value for c in app.caption if "hotspots" in c.value)
    assert "tekortindex" in caption and re.search(r"in het scenario 0 en 0\.", caption)


def test_hotspot_layer_on_the_choropleth(corner):
    buurten, values = corner
    buurten = buurten.assign(gap=values.to_numpy(), name=buurten["name"].where(
        buurten["area_code"] != "BU0101", "Hoek <script>alert(1)</script>"))
    spots = gap_hotspots(buurten, values)
    fmap = choropleth_map(buurten, "gap", label="Tekort", higher_is_need=True)
    layer = add_hotspot_layer(fmap, buurten.to_crs(4326), spots)
    assert layer is not None
    html = fmap.get_root().render()
    assert LAYER_NAME in html and CLUSTER_LABELS["hot"] in html and "url(#sk-hatch-hot)" in html
    assert "<script>alert(1)</script>" not in html
    assert not re.search(r'(src|href)="https?://', html)
    assert html.count("L.control.layers(") == 1
    features = layer.data["features"]
    assert {f["properties"]["cluster"] for f in features} == {"hot"}
    assert "Hoek &lt;script&gt;alert(1)&lt;/script&gt;" in {f["properties"]["name"] for f in features}
    assert len(features) == (spots["cluster"] == "hot").sum()
    # Nothing significant: no layer, but the legend says so.
    flat = choropleth_map(buurten, "gap", label="Tekort")
    assert add_hotspot_layer(flat, buurten, spots.assign(cluster=None)) is None
    assert "Geen significante hot- of coldspots" in flat.get_root().render()


# The vectorised helpers of mapping/gaps.py (made for national scale, see bench/bench_gaps.py) must give
# exactly what the plain per-buurt code gave: format_number's text, a dense argmin, a dense reach test.

def test_format_numbers_equals_format_number():
    rng = np.random.default_rng(2)
    values = np.r_[0, 0.05, 0.15, 0.25, 0.35, 0.45, 1.005, 2.5, 12.5, 999.5, 999.95, 1000, 1234.5, 0.049999, 4.35,
                   123456.789, 1e6 + 0.5, 1e12, -2.5, -0.0, np.nan,
                   rng.uniform(0, 100, 500), rng.uniform(0, 1e6, 500), np.round(rng.uniform(0, 100, 500), 1),
                   np.round(rng.uniform(0, 10, 500), 2) + 0.05, rng.integers(0, 5000, 200) / 2]
    for decimals in (0, 1, 2):
        want = [format_number(None if np.isnan(v) else float(v), decimals) for v in values]
        assert _format_numbers(values, decimals).tolist() == want


def test_nearest_and_reach_equal_dense_matrices():
    rng = np.random.default_rng(4)
    xy = np.round(rng.uniform(0, 5000, (400, 2)), -1)
    pts = np.round(rng.uniform(0, 5000, (60, 2)), -1)
    pts = np.vstack([pts, pts[:10]])  # co-located provisions: ties go to the first
    provisions = gpd.GeoDataFrame({"status": rng.choice(["actief", "onder_druk"], len(pts))},
                                  geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=28992)
    dense = np.hypot(xy[:, None, 0] - pts[None, :, 0], xy[:, None, 1] - pts[None, :, 1])
    dist, best = _nearest(xy, provisions)
    assert (best == dense.argmin(axis=1)).all() and (dist == dense.min(axis=1)).all()
    reach = np.round(rng.uniform(200, 1500, len(pts)), -1)
    risky = (provisions["status"] == "onder_druk").to_numpy()
    want = ((dense <= reach[None, :]) & risky[None, :]).any(axis=1)
    assert (_reached_at_risk(xy, provisions, reach) == want).all() and 0 < want.sum() < len(xy)
    none, at = _nearest(xy, provisions.iloc[:0])
    assert np.isinf(none).all() and (at == -1).all()


def test_hostile_buurt_names_in_the_hotspot_layer_stay_text():
    """folium renders scripts as Jinja templates: a name must not be evaluated (template injection)."""
    import folium
    import shapely

    from mapping.hotspots import add_hotspot_layer

    hostile = "{{ 7*7 }}<script>alert(1)</script>"
    buurten = gpd.GeoDataFrame({"area_code": ["B1", "B2"], "name": [hostile, "Oost"]},
                               geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=28992)
    fmap = folium.Map(location=[52, 5], tiles=None)
    add_hotspot_layer(fmap, buurten, pd.Series(["hot", "cold"], index=["B1", "B2"], name="cluster"))
    page = fmap.get_root().render()
    assert "{{ 7*7 }}" not in page and "<script>alert(1)" not in page
    assert "\\u0026#123;\\u0026#123; 7*7 \\u0026#125;\\u0026#125;" in page  # as text, in the GeoJSON

"""Benchmark: a national map (~14,500 buurten, 11,7 M vertices) in seconds.

Builds a synthetic national coverage with realistic detail (hundreds of vertices per buurt, shared edges
identical between neighbours), writes it as a CBS-style GeoPackage, imports it through the real import path,
and prints in one run: the import, the one-time coverage simplification (first build, the store's geometry
cache empty), the build a user pays in a fresh server process once the cache is filled (cache read, map,
HTML), the HTML size, and for one municipality the unsimplified map for comparison. Checks that the map from
the cache carries exactly the features of the first build.
Run by hand: `.venv/bin/python bench/bench_map.py [--buurten 14500] [--summary FILE]`. Prints figures only.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.summary import add_argument, record  # noqa: E402
from data.area_import import read_area_file  # noqa: E402
from data.store import GeoPackageStore  # noqa: E402
from mapping import simplify  # noqa: E402
from mapping.choropleth import choropleth_map  # noqa: E402

FIGURE = "percentage_personen_65_jaar_en_ouder"


def synthetic_country(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """Voronoi buurten over a 280 x 300 km extent, densified and wiggled like real boundaries."""
    rng = np.random.default_rng(seed)
    x0, y0 = 13_000.0, 306_000.0
    pts = np.column_stack([rng.uniform(x0, x0 + 280_000, n), rng.uniform(y0, y0 + 300_000, n)])
    frame = shapely.box(x0, y0, x0 + 280_000, y0 + 300_000)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame, ordered=True))
    cells = shapely.intersection(cells, frame)
    cells = shapely.segmentize(cells, 12.0)  # real boundaries: a vertex every ~10-15 m

    def wiggle(c: np.ndarray) -> np.ndarray:
        # A smooth field of the position only, so shared vertices move identically.
        dx = 6 * np.sin(c[:, 1] / 41.0) + 3 * np.cos(c[:, 0] / 17.0)
        dy = 6 * np.cos(c[:, 0] / 37.0) + 3 * np.sin(c[:, 1] / 13.0)
        return np.round(c + np.column_stack([dx, dy]), 2)

    cells = shapely.transform(cells, wiggle)
    # Gemeenten are contiguous blocks of about 500 buurten, wijken runs of 25 within them.
    blocks = int(round(np.sqrt(n / 500)))
    gx = np.minimum(((pts[:, 0] - x0) / (280_000 / blocks)).astype(int), blocks - 1)
    gy = np.minimum(((pts[:, 1] - y0) / (300_000 / blocks)).astype(int), blocks - 1)
    gm = gx * blocks + gy + 1
    rank = np.argsort(np.lexsort((pts[:, 1], pts[:, 0], gm)))
    first = np.searchsorted(np.sort(gm), gm)
    within = rank - first
    wk, bu = within // 25, within % 25
    inh = rng.integers(0, 4000, n)
    return gpd.GeoDataFrame({
        "buurtcode": [f"BU{g:04d}{w:02d}{b:02d}" for g, w, b in zip(gm, wk, bu, strict=True)],
        "buurtnaam": [f"Buurt {i}" for i in range(n)],
        "wijkcode": [f"WK{g:04d}{w:02d}" for g, w in zip(gm, wk, strict=True)],
        "gemeentecode": [f"GM{g:04d}" for g in gm],
        "gemeentenaam": [f"Gemeente {g}" for g in gm],
        "aantal_inwoners": inh,
        "percentage_personen_65_jaar_en_ouder": np.where(inh > 50, rng.integers(5, 35, n), -99999999),
    }, geometry=cells, crs=28992)


def build(areas: gpd.GeoDataFrame, geometries=None, simplify_m: float | None = None) -> tuple[str, float, object]:
    """The map of ``areas`` as the Kaart page builds it, rendered to HTML: (html, seconds, map)."""
    start = time.perf_counter()
    m = choropleth_map(areas, FIGURE, label="65-plussers", unit="%", simplify_m=simplify_m, geometries=geometries,
                       legend="outside")
    html = m.get_root().render()
    return html, time.perf_counter() - start, m


def features(m) -> list:
    layer = next(c for c in m._children.values() if isinstance(c, folium.GeoJson))
    return layer.data["features"]


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    return len(a) == len(b) and bool(np.all(shapely.equals_identical(a, b)))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buurten", type=int, default=14_500)
    add_argument(parser)
    args = parser.parse_args()
    t0 = time.perf_counter()
    country = synthetic_country(args.buurten)
    vertices = shapely.get_num_coordinates(country.geometry.to_numpy())
    print(f"synthetic country: {len(country):,} buurten, {vertices.sum() / 1e6:.1f} M vertices (median "
          f"{np.median(vertices):.0f} per buurt, max {vertices.max():,}), built in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wijkenbuurten_2024_synthetisch.gpkg"
        country.to_file(path, layer="buurten")
        print(f"GeoPackage on disk: {path.stat().st_size / 1e6:.1f} MB")
        t0 = time.perf_counter()
        imported = read_area_file(path)
        t_read = time.perf_counter() - t0
        store = GeoPackageStore.open(Path(tmp) / "store.gpkg")
        t0 = time.perf_counter()
        store.merge_area_data(imported.areas, imported.values, user="bench")
        t_write = time.perf_counter() - t0
        print(f"import: read + harmonise + derive wijken/gemeenten {t_read:.1f} s; store write {t_write:.1f} s "
              f"({len(imported.areas):,} areas, {len(imported.values):,} values)")
        version = store.data_version()
        t0 = time.perf_counter()
        buurten = store.read_areas("buurt")
        t_areas = time.perf_counter() - t0

        def web(s: GeoPackageStore) -> tuple[np.ndarray, float]:
            start = time.perf_counter()
            geoms = simplify.cached_web_geometries(s, "buurt", buurten["area_code"], buurten.geometry,
                                                   data_version=version)
            return geoms, time.perf_counter() - start

        calls = []
        real = simplify.web_geometries
        simplify.web_geometries = lambda *a, **kw: calls.append(1) or real(*a, **kw)
        try:
            first_geoms, t_simplify = web(store)  # cache empty: simplifies and writes the cache
            first_html, t_first_map, first_map = build(buurten, first_geoms)
            fresh = GeoPackageStore(store.path)  # what a new server process opens
            cached_geoms, t_cache = web(fresh)
            with store._transaction():  # another data write (not of the areas): the data version moves
                pass
            version = store.data_version()
            moved_geoms, t_moved = web(fresh)  # fingerprint of the areas, then the cache again
        finally:
            simplify.web_geometries = real
        html, t_map, cached_map = build(buurten, cached_geoms)
        same = features(first_map) == features(cached_map)
        assert calls == [1], calls
        assert same and store.data_version() == version and _equal(moved_geoms, cached_geoms)
        build_s = t_cache + t_map
        html_mb = len(html.encode()) / 1e6
        print(f"national ({len(buurten):,} buurten): read areas {t_areas:.1f} s (both cases)")
        print(f"  first build, cache empty: simplify {t_simplify:.1f} s + map/HTML {t_first_map:.1f} s")
        renderer = "canvas" if '"preferCanvas": true' in html else "svg"
        print(f"  fresh process, cache filled: cache read {t_cache:.2f} s + map/HTML {t_map:.2f} s = {build_s:.2f} s "
              f"(simplifier calls: {len(calls)}; features identical: {same}; renderer {renderer})")
        print(f"  after another data write (same areas): fingerprint + cache read {t_moved:.2f} s")
        print(f"  map HTML {html_mb:.2f} MB; peak memory {peak_mb():,.0f} MB")

    gemeente = buurten.loc[buurten["gemeente_code"] == buurten["gemeente_code"].iloc[0]]
    raw_html, t_raw, _ = build(gemeente, simplify_m=0)
    small_html, t_small, _ = build(gemeente)
    raw, small = len(raw_html.encode()), len(small_html.encode())
    print(f"municipality ({len(gemeente)} buurten): map HTML unsimplified {raw / 1e6:6.2f} MB ({t_raw:.1f} s) -> "
          f"simplified {small / 1e6:6.2f} MB ({t_small:.1f} s), ratio {raw / small:.1f}x")
    record(args.summary, "landelijke kaart", build_s, size_mb=html_mb)


if __name__ == "__main__":
    main()

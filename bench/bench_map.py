"""Benchmark: import and map payload at municipality (500 buurten) and national (~14,500) scale.

Builds a synthetic national coverage with realistic detail (hundreds of vertices per buurt,
shared edges identical between neighbours), writes it as a CBS-style GeoPackage, imports it
through the real import path, and prints the size of the map HTML the browser receives,
unsimplified versus coverage-simplified with rounded coordinates, plus the time to build it.
Run by hand: `.venv/bin/python bench/bench_map.py [--buurten 14500]`. Prints figures only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.area_import import read_area_file  # noqa: E402
from data.store import GeoPackageStore  # noqa: E402
from mapping.choropleth import choropleth_map  # noqa: E402


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


def map_bytes(areas: gpd.GeoDataFrame, simplify_m: float | None) -> tuple[int, float]:
    start = time.perf_counter()
    m = choropleth_map(areas, "percentage_personen_65_jaar_en_ouder", label="65-plussers", unit="%",
                       simplify_m=simplify_m)
    size = len(m.get_root().render().encode())
    return size, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buurten", type=int, default=14_500)
    args = parser.parse_args()
    t0 = time.perf_counter()
    country = synthetic_country(args.buurten)
    vertices = shapely.get_num_coordinates(country.geometry.to_numpy())
    print(f"synthetic country: {len(country):,} buurten, median {np.median(vertices):.0f} "
          f"vertices per buurt (max {vertices.max():,}), built in {time.perf_counter() - t0:.1f} s")
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
        buurten = store.read_areas("buurt")

    gemeente = buurten.loc[buurten["gemeente_code"] == "GM0001"]
    for label, areas in ((f"municipality ({len(gemeente)} buurten)", gemeente),
                         (f"national ({len(buurten):,} buurten)", buurten)):
        raw, t_raw = map_bytes(areas, simplify_m=0)
        small, t_small = map_bytes(areas, simplify_m=None)
        print(f"{label}: map HTML unsimplified {raw / 1e6:6.2f} MB ({t_raw:.1f} s) -> "
              f"simplified {small / 1e6:6.2f} MB ({t_small:.1f} s), ratio {raw / small:.1f}x")


if __name__ == "__main__":
    main()

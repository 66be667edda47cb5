"""Benchmark: demo generation, store writes/reads and the choropleth, at demo and city scale.

Run by hand (`make bench`); prints figures, asserts nothing about time.

    .venv/bin/python bench/bench_store.py [--ties 1000000] [--buurten 14500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.demo import generate_demo  # noqa: E402
from data.store import GeoPackageStore  # noqa: E402
from mapping.choropleth import choropleth_map  # noqa: E402


def timed(what: str, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"{what:<58} {time.perf_counter() - start:8.2f} s")
    return result


def synthetic_ties(n_persons: int, n_ties: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = np.char.add("P", np.arange(n_persons).astype(str))
    persons = pd.DataFrame({"person_id": ids, "buurt_code": "BU99990000", "consent": True})
    ego = rng.integers(0, n_persons, n_ties)
    alter = (ego + rng.integers(1, n_persons, n_ties)) % n_persons
    ties = pd.DataFrame({
        "ego_id": ids[ego], "alter_id": ids[alter], "role": "vriend",
        "support_emotional": rng.random(n_ties) < 0.4, "support_practical": rng.random(n_ties) < 0.4,
        "contact_frequency": "wekelijks", "reciprocal": True, "same_buurt": True,
    })
    return persons, ties


def synthetic_buurten(n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    side = int(np.ceil(np.sqrt(n)))
    x, y = np.meshgrid(np.arange(side) * 1500.0, np.arange(side) * 1500.0)
    boxes = shapely.box(x.ravel()[:n], y.ravel()[:n] + 300_000, x.ravel()[:n] + 1500, y.ravel()[:n] + 301_500)
    return gpd.GeoDataFrame({
        "area_code": [f"BU{i:08d}" for i in range(n)], "name": [f"Buurt {i}" for i in range(n)],
        "level": "buurt", "gemeente_code": "GM0000", "waarde": rng.normal(20, 5, n),
    }, geometry=boxes, crs=28992)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--ties", type=int, default=1_000_000)
    parser.add_argument("--buurten", type=int, default=14_500)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("== demo scale (Voorbeeldstad)")
        demo = timed("generate_demo()", generate_demo)
        store = GeoPackageStore.open(tmp / "demo.gpkg")
        timed("store: write all demo tables (one transaction)", store.replace_tables, demo.tables(),
              user="bench", action="bench")
        areas = timed("store: read_areas('buurt') wide", store.read_areas, "buurt")
        m = timed("choropleth_map (40 buurten)", choropleth_map, areas, "percentage_verweduwd",
                  label="Verweduwd", unit="%")
        timed("render map HTML", m.get_root().render)

        print(f"== city scale: {args.persons:,} persons, {args.ties:,} ties")
        persons, ties = synthetic_ties(args.persons, args.ties, rng)
        big = GeoPackageStore.open(tmp / "big.gpkg")
        timed("store: write persons + ties (one transaction)", big.replace_tables,
              {"persons": persons, "ties": ties}, user="bench", action="bench")
        back = timed("store: read ties", big.read_table, "ties")
        assert len(back) == args.ties

        print(f"== country scale: {args.buurten:,} buurten")
        buurten = synthetic_buurten(args.buurten, rng)
        store_big = GeoPackageStore.open(tmp / "nl.gpkg")
        t0 = time.perf_counter()
        store_big.replace_tables({"areas": buurten.drop(columns="waarde")}, user="bench", action="bench")
        ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        buurten.drop(columns="waarde").to_file(tmp / "plain.gpkg", layer="areas", engine="pyogrio")
        plain = time.perf_counter() - t0
        print(f"{'store: write 14.5k areas (sqlite3 + GPKG codec)':<58} {ours:8.2f} s")
        print(f"{'plain: GeoDataFrame.to_file(pyogrio) same layer':<58} {plain:8.2f} s"
              f"   ratio plain/ours = {plain / ours:.2f}")
        ours_back = store_big.read_table("areas")
        plain_back = gpd.read_file(tmp / "plain.gpkg", layer="areas")
        same = shapely.equals_exact(shapely.get_parts(ours_back.geometry.to_numpy()),
                                    shapely.get_parts(plain_back.geometry.to_numpy()), 0).all()
        print(f"  both give the same geometries: {bool(same)}")
        m = timed(f"choropleth_map ({args.buurten:,} buurten)", choropleth_map, buurten, "waarde",
                  label="Waarde")
        html = timed("render map HTML", m.get_root().render)
        print(f"  map HTML size: {len(html) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

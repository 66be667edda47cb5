"""Benchmark: the store's reads through Arrow (issue 19) against pyogrio's Arrow reader on the same file.

In one run: 1.000.000 ties (and 100.000 persons) written to a GeoPackage store, ``read_table("ties")`` (the Arrow
path) against ``pyogrio.read_dataframe(..., use_arrow=True)`` on the same file, best of 3 interleaved, with a check
that both hold the same content; the old tuple path once for reference; and a national coverage with real vertex
counts (``synthetic_country`` of bench/bench_map.py: Voronoi buurten densified to a vertex every ~12 m) written
and read back against pyogrio (polygon layers read as tuples: faster than GDAL's geometry round trip). The
national map itself is bench/bench_map.py. With ``--postgis`` also ``read_table("ties")`` of the PostGIS store (a
throwaway server of tests/pg_server.py), which reads through psycopg tuples as before.

    .venv/bin/python bench/bench_store.py [--ties 1000000] [--buurten 14500] [--postgis] [--summary FILE]

Prints figures, asserts nothing about time (only that the contents are equal).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_map import synthetic_country  # noqa: E402
from bench.summary import add_argument, record  # noqa: E402
from data.demo import generate_demo  # noqa: E402
from data.store import GeoPackageStore, _table  # noqa: E402


def timed(what: str, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"{what:<64} {time.perf_counter() - start:8.2f} s")
    return result


def best_of(n: int, *funcs):
    """Run the functions interleaved ``n`` times; (best seconds of each, last result of each)."""
    best, results = [float("inf")] * len(funcs), [None] * len(funcs)
    for _ in range(n):
        for i, func in enumerate(funcs):
            start = time.perf_counter()
            results[i] = func()
            best[i] = min(best[i], time.perf_counter() - start)
    return best, results


def synthetic_ties(n_persons: int, n_ties: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = np.char.add("P", np.arange(n_persons).astype(str))
    persons = pd.DataFrame({"person_id": ids, "buurt_code": "BU99990000", "consent": True,
                            "lsns_1": pd.array(rng.integers(0, 6, n_persons), dtype="Int64")})
    persons.loc[rng.random(n_persons) < 0.2, "lsns_1"] = pd.NA
    ego = rng.integers(0, n_persons, n_ties)
    alter = (ego + rng.integers(1, n_persons, n_ties)) % n_persons
    ties = pd.DataFrame({
        "ego_id": ids[ego], "alter_id": ids[alter], "role": "vriend",
        "support_emotional": rng.random(n_ties) < 0.4, "support_practical": rng.random(n_ties) < 0.4,
        "contact_frequency": np.where(rng.random(n_ties) < 0.1, None, "wekelijks"),
        "closeness": pd.array(rng.integers(1, 6, n_ties), dtype="Int64"), "reciprocal": True, "same_buurt": True,
    })
    ties.loc[rng.random(n_ties) < 0.1, "closeness"] = pd.NA
    return persons, ties


def same_content(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    """Equal values column by column, whatever the dtypes (pyogrio gives INTEGER as int64/float64, booleans 0/1)."""
    for col in ours.columns:
        if col == "geometry":
            if not shapely.equals_exact(ours.geometry.to_numpy(), theirs.geometry.to_numpy(), 0).all():
                return False
            continue
        a, b = ours[col], theirs[col].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(a) or pd.api.types.is_bool_dtype(a):
            a, b = a.astype("Float64"), b.astype("Float64")
        else:
            a, b = a.astype("string"), b.astype("string")
        if not a.equals(b):
            return False
    return len(ours) == len(theirs)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ties_reads(args, tmp: Path, rng: np.random.Generator) -> None:
    print(f"== city scale: {args.persons:,} persons, {args.ties:,} ties")
    persons, ties = synthetic_ties(args.persons, args.ties, rng)
    store = GeoPackageStore.open(tmp / "big.gpkg")
    timed("store: write persons + ties (one transaction)", store.replace_tables,
          {"persons": persons, "ties": ties}, user="bench", action="bench")
    timed("store: first large read (starts the GDAL helper process)", store.read_table, "persons")
    path = str(store.path)
    (ours_s, peer_s), (ours, theirs) = best_of(
        3, lambda: store.read_table("ties"),
        lambda: pyogrio.read_dataframe(path, layer="ties", use_arrow=True))
    print(f"{'store: read_table(ties) through Arrow (best of 3)':<64} {ours_s:8.2f} s")
    print(f"{'pyogrio.read_dataframe(ties, use_arrow=True), same file (best of 3)':<64} {peer_s:8.2f} s"
          f"   ours/pyogrio = {ours_s / peer_s:.2f}")
    print(f"  same content: {'ja' if same_content(ours, theirs) else 'NEE'} ({len(ours):,} rows, "
          f"{ours.shape[1]} columns); dtypes {dict(ours.dtypes.astype(str).value_counts())}")
    record(args.summary, "ties lezen 1M", ours_s, peer_s, rows=len(ours))
    old = timed("store: read ties through sqlite3 tuples (the path before, once)", store._read_rows_tuples,
                _table("ties"))
    print(f"  tuple path gives the same frame: {'ja' if ours.equals(old) else 'NEE'}")
    (p_s,), (back,) = best_of(3, lambda: store.read_table("persons"))
    print(f"{'store: read_table(persons) 100k, 26 columns (best of 3)':<64} {p_s:8.2f} s")
    print(f"  peak memory of this process so far: {peak_mb():,.0f} MB")


def country_reads(args, tmp: Path) -> None:
    t0 = time.perf_counter()
    country = synthetic_country(args.buurten)
    vertices = shapely.get_num_coordinates(country.geometry.to_numpy())
    print(f"== country scale: {len(country):,} buurten, {vertices.sum() / 1e6:.1f} M vertices (median "
          f"{np.median(vertices):.0f} per buurt), built in {time.perf_counter() - t0:.1f} s (bench_map's)")
    areas = country.rename(columns={"buurtcode": "area_code", "buurtnaam": "name", "wijkcode": "wijk_code",
                                    "gemeentecode": "gemeente_code", "gemeentenaam": "gemeente_name"})
    areas = areas[["area_code", "name", "wijk_code", "gemeente_code", "gemeente_name", "geometry"]].assign(
        level="buurt", year=2024)
    store = GeoPackageStore.open(tmp / "nl.gpkg")
    timed(f"store: write {len(areas):,} areas (sqlite3 + GPKG codec)", store.replace_tables, {"areas": areas},
          user="bench", action="bench")
    path = str(store.path)
    (ours_s, peer_s), (ours, theirs) = best_of(
        2, lambda: store.read_table("areas"), lambda: pyogrio.read_dataframe(path, layer="areas", use_arrow=True))
    print(f"{'store: read_table(areas), polygons as tuples (best of 2)':<64} {ours_s:8.2f} s")
    print(f"{'pyogrio.read_dataframe(areas, use_arrow=True), same file':<64} {peer_s:8.2f} s"
          f"   ours/pyogrio = {ours_s / peer_s:.2f}")
    print(f"  same content: {'ja' if same_content(ours, theirs[ours.columns]) else 'NEE'}; "
          f"CRS {ours.crs.to_epsg()}")
    timed("store: read_areas('buurt') wide (no key figures)", store.read_areas, "buurt")


def postgis_reads(args, rng: np.random.Generator) -> None:
    from data.postgis import PostgisStore, close_connections
    from tests.pg_server import missing_reason, throwaway_server

    reason = missing_reason()
    if reason:
        print(f"== postgis: skipped ({reason})")
        return
    n = args.postgis_ties
    print(f"== postgis: {n:,} ties")
    persons, ties = synthetic_ties(max(n // 10, 10), n, rng)
    with throwaway_server() as server:
        store = PostgisStore.open(server.new_database())
        timed("postgis write persons + ties", store.replace_tables, {"persons": persons, "ties": ties},
              user="bench", action="bench")
        (ours_s,), (ours,) = best_of(3, lambda: store.read_table("ties"))
        print(f"{'postgis read_table(ties), psycopg tuples (best of 3)':<64} {ours_s:8.2f} s   ({len(ours):,} rows)")
        close_connections()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--ties", type=int, default=1_000_000)
    parser.add_argument("--buurten", type=int, default=14_500)
    parser.add_argument("--postgis", action="store_true", help="also the PostGIS store (throwaway server)")
    parser.add_argument("--postgis-ties", type=int, default=1_000_000)
    add_argument(parser)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("== demo scale (Voorbeeldstad)")
        demo = timed("generate_demo()", generate_demo)
        store = GeoPackageStore.open(tmp / "demo.gpkg")
        timed("store: write all demo tables (one transaction)", store.replace_tables, demo.tables(),
              user="bench", action="bench")
        timed("store: read_areas('buurt') wide", store.read_areas, "buurt")
        ties_reads(args, tmp, rng)
        country_reads(args, tmp)
    if args.postgis:
        postgis_reads(args, rng)
    print(f"== whole bench {time.perf_counter() - start:.0f} s wall, peak memory {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()

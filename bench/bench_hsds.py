"""Benchmark: the inventory as Open Referral HSDS 3.0 and back, at national scale (thousands of provisions).

Run by hand; prints figures, asserts nothing about time.

    .venv/bin/python bench/bench_hsds.py [--provisions 5000]

Builds synthetic provisions (every field filled for half of them, empty for the other half) at random
points in the Netherlands, turns them into HSDS tables, writes the CSV Tabular Data Package and the
JSON Page, reads both back, and checks that the round trip gives the same provisions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_store import timed  # noqa: E402
from data.hsds import inventory_to_hsds, read_hsds_dir, write_hsds_csv, write_hsds_json  # noqa: E402
from data.provision_types import PROVISION_TYPES  # noqa: E402
from data.schema import CRS_EPSG  # noqa: E402


def synthetic_provisions(n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    full = np.arange(n) % 2 == 0
    types = rng.choice(list(PROVISION_TYPES), n)

    def some(values):
        return pd.Series(np.where(full, values, None), dtype=object)

    points = shapely.points(rng.uniform(100_000, 200_000, n), rng.uniform(400_000, 550_000, n))
    return gpd.GeoDataFrame({
        "provision_id": [f"V{i + 1:05d}" for i in range(n)], "name": [f"Voorziening {i}" for i in range(n)],
        "type": types, "organisation": some([f"Organisatie {i % 300}" for i in range(n)]),
        "reach_m": np.where(full, rng.integers(300, 5000, n).astype(float), np.nan),
        "target_groups": some("ouderen;eenzamen"),
        "capacity_per_year": pd.Series(rng.integers(5, 500, n), dtype="Int64").where(full),
        "capacity_unit": some("plaatsen per jaar"),
        "volunteers": pd.Series(rng.integers(0, 40, n), dtype="Int64").where(full),
        "status": rng.choice(["actief", "onder_druk", "gestopt"], n), "funding_source": some("Wmo"),
        "funding_end": pd.Series(pd.to_datetime("2027-12-31"), index=range(n)).where(full),
        "evidence_label": some("Erkend"), "contact": some("info@example.org"),
        "last_verified": pd.Series(pd.to_datetime("2026-06-01"), index=range(n)).where(full),
        "notes": some("elke dinsdag"), "street": some("Dorpsstraat"), "house_number": some("1"),
        "postcode": some("1234 AB"), "city": some("Ergens"), "source_id": some([f"S{i}" for i in range(n)]),
        "outside_areas": np.zeros(n, dtype=bool), "buurt_code": None, "version": 1,
    }, geometry=points, crs=CRS_EPSG)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--provisions", type=int, default=5_000)
    args = parser.parse_args()
    provisions = synthetic_provisions(args.provisions, np.random.default_rng(13))
    print(f"{len(provisions):,} provisions")
    with tempfile.TemporaryDirectory() as tmp:
        tables = timed("inventory_to_hsds", inventory_to_hsds, provisions)
        timed("write CSV tables + datapackage.json", write_hsds_csv, tables, Path(tmp) / "csv")
        timed("write services.json", write_hsds_json, tables, Path(tmp) / "json")
        for form in ("csv", "json"):
            back = timed(f"read_hsds_dir ({form})", read_hsds_dir, Path(tmp) / form)
            same = back.drop(columns="geometry").reset_index(drop=True).astype(str).equals(
                provisions[back.columns.drop("geometry")].reset_index(drop=True).astype(str))
            moved = float(shapely.distance(back.geometry.to_numpy(), provisions.geometry.to_numpy()).max())
            print(f"  same provisions: {same}; largest shift {moved * 1000:.3f} mm")


if __name__ == "__main__":
    main()

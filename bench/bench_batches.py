"""Benchmark: imports as batches and their undo, at city scale, against a plain delete per key.

Run by hand; prints figures, asserts nothing about time.

    .venv/bin/python bench/bench_batches.py [--persons 100000] [--ties 1000000]

Measures a first network import into an empty own store, the same import again (every person and tie
is replaced, so every old row is kept for the undo), the undo of that re-import, and the undo of the
first import; and, for comparison, the plain way of the previous version (one DELETE per ego on a
table without an index on ego_id) on the same data. Both end in the same store content.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_store import synthetic_ties, timed  # noqa: E402
from data.store import GeoPackageStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--ties", type=int, default=1_000_000)
    args = parser.parse_args()
    persons, ties = synthetic_ties(args.persons, args.ties, np.random.default_rng(7))
    print(f"{len(persons):,} persons, {len(ties):,} ties")
    with tempfile.TemporaryDirectory() as tmp:
        store = GeoPackageStore.create_new(Path(tmp) / "stad.gpkg")
        timed("first import (batch 1)", store.merge_network, persons, ties, user="bench")
        timed("same import again (batch 2: replaces and keeps every row)", store.merge_network, persons, ties,
              user="bench")
        plan = timed("undo preview of batch 2", store.undo_preview, 2)
        print(f"  would remove {plan['remove']['ties']:,} ties and restore {plan['restore']['ties']:,}")
        timed("undo batch 2", store.undo_batch, 2, user="bench")
        timed("undo batch 1", store.undo_batch, 1, user="bench")
        assert store.counts()["ties"] == 0
        size = (Path(tmp) / "stad.gpkg").stat().st_size / 1e6
        print(f"store file after everything: {size:,.0f} MB (SQLite keeps freed pages until VACUUM)")

        sample = min(2_000, len(persons))  # the plain way is quadratic: time a sample and scale
        store2 = GeoPackageStore.create_new(Path(tmp) / "plain.gpkg")
        store2.merge_network(persons, ties, user="bench")
        conn = sqlite3.connect(store2.path)
        egos = [(e,) for e in persons["person_id"].iloc[:sample]]
        start = time.perf_counter()
        conn.executemany("DELETE FROM ties WHERE ego_id = ?", egos)
        per_ego = (time.perf_counter() - start) / sample
        conn.rollback()
        conn.close()
        print(f"{'plain way: one DELETE per ego, scaled to all egos':<62} {per_ego * len(persons):8.1f} s "
              f"(measured on {sample:,} egos)")


if __name__ == "__main__":
    main()

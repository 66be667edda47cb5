"""Benchmark: reading and mapping a Network Canvas export, and our GraphML reader against networkx.

Run by hand; prints figures, asserts nothing about time.

    .venv/bin/python bench/bench_network_canvas.py [--copies 100]

The three interviews of ``tests/nc_fixtures.py`` are written ``--copies`` times (new UUIDs each
time) as the CSV set and as GraphML; the script times reading the export, the preview with the
preset (the whole mapping, vectorised over all interviews) and checks that CSV and GraphML give the
same ties. Then it writes one support network as GraphML with ``network_to_graphml`` and reads it
with :func:`data.graphml.read_graphml` and with ``networkx.read_graphml`` (the plain way), checking
both see the same nodes and edges.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.graphml import read_graphml  # noqa: E402
from data.network_canvas import preview_network_canvas, read_network_canvas_export  # noqa: E402
from data.network_formats import network_to_graphml  # noqa: E402
from tests import nc_fixtures as nc  # noqa: E402


def timed(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"{label:<58} {time.perf_counter() - start:8.2f} s")
    return result


def _copies(n: int) -> list[nc.Interview]:
    out = []
    for k in range(n):
        for iv in nc.interviews():
            def new(old: str, k=k) -> str:
                return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{k}/{old}"))

            alters = [replace(a, uuid=new(a.uuid)) for a in iv.alters]
            venues = [replace(v, uuid=new(v.uuid)) for v in iv.venues]
            out.append(replace(iv, case_id=f"{iv.case_id}-{k}", ego_uuid=new(iv.ego_uuid),
                               session_uuid=new(iv.session_uuid), alters=alters, venues=venues,
                               knows=[(new(a), new(b)) for a, b in iv.knows],
                               visits=[(new(a), new(b)) for a, b in iv.visits]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=100)
    args = parser.parse_args()
    interviews = _copies(args.copies)
    with tempfile.TemporaryDirectory() as tmp:
        csv_dir, graphml_dir = Path(tmp) / "csv", Path(tmp) / "graphml"
        csv_dir.mkdir()
        graphml_dir.mkdir()
        for iv in interviews:
            nc.write_csv(iv, csv_dir)
            nc.write_graphml(iv, graphml_dir)
        print(f"{len(interviews):,} interviews, {sum(len(iv.alters) for iv in interviews):,} alters")
        csv = timed(f"read CSV export ({len(list(csv_dir.iterdir())):,} files)", read_network_canvas_export, csv_dir)
        gml = timed(f"read GraphML export ({len(interviews):,} files)", read_network_canvas_export, graphml_dir)
        a = timed("preview with the preset (CSV)", preview_network_canvas, csv)
        b = timed("preview with the preset (GraphML)", preview_network_canvas, gml)
        cols = ["ego_id", "alter_key", "role", "closeness", "contact_frequency"]
        same = a.frames["ties"][cols].sort_values(cols[:2]).reset_index(drop=True).equals(
            b.frames["ties"][cols].sort_values(cols[:2]).reset_index(drop=True))
        print(f"ties: {len(a.frames['ties']):,}; CSV and GraphML give the same ties: {same}")

        rng = np.random.default_rng(7)
        persons = pd.DataFrame({"person_id": [f"P{i}" for i in range(5_000)], "buurt_code": "BU99990001",
                                "age_band": "65-74"})
        ego = rng.integers(0, 5_000, 40_000)
        ties = pd.DataFrame({"ego_id": [f"P{e}" for e in ego], "alter_id": None,
                             "alter_key": [f"a{i}" for i in range(40_000)], "role": "vriend",
                             "support_practical": True, "support_emotional": False, "support_informational": False,
                             "support_companionship": True, "contact_frequency": "wekelijks", "closeness": 2,
                             "reciprocal": True, "same_buurt": False})
        path = Path(tmp) / "netwerk.graphml"
        path.write_bytes(network_to_graphml(persons, ties))
        ours = timed("read_graphml (expat, tables of strings)", read_graphml, path)
        plain = timed("networkx.read_graphml (the plain way)", nx.read_graphml, path)
        print(f"nodes {len(ours.nodes):,} / {plain.number_of_nodes():,}, edges {len(ours.edges):,} / "
              f"{plain.number_of_edges():,}")


if __name__ == "__main__":
    main()

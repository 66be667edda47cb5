"""Import of a municipal open-data set of provisions through a mapping: read, map, validate, preview, store.

A synthetic "maatschappelijke voorzieningen" GeoJSON of N points (no crs, six categories in a
Categorie column, an MVZN_ID, addresses, a few damaged names and date-serial house numbers, 5% of
the points outside the areas) over Teststad (tests/towns.py), imported twice: the second import
must change nothing. Prints the time of each step. Run by hand:

    .venv/bin/python bench/bench_open_data.py [N ...]      (default 1500 15000)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.provisions import prepare_provision_import, read_mapping, read_provision_source  # noqa: E402
from data.store import GeoPackageStore  # noqa: E402
from tests.towns import ORIGIN_RD, SIDE_M, build_state, write_open_data, write_town_files  # noqa: E402

CATEGORIES = ("Buurtkamer", "Huis van de wijk", "Jongerencentrum", "Buurtteamlocatie", "Bibliotheek", "")


def write_points(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    outside = rng.random(n) < 0.05
    # Inside: anywhere in Teststad's 3 x 2 buurten; outside: in the 2 km east of it.
    x = ORIGIN_RD[0] + np.where(outside, 3 * SIDE_M + 300 + rng.random(n) * 2000,
                                50 + rng.random(n) * (3 * SIDE_M - 100))
    y = ORIGIN_RD[1] + 50 + rng.random(n) * (2 * SIDE_M - 100)
    wgs = gpd.GeoSeries(shapely.points(np.c_[x, y]), crs=28992).to_crs(4326)
    cats = rng.choice(len(CATEGORIES), n)
    features = []
    for k in range(n):
        number = 44929 if k % 97 == 0 else f"{k % 300 + 1}"
        name = f"Caf? {k}" if k % 89 == 0 else f"{CATEGORIES[cats[k]] or 'Voorziening'} {k}"
        features.append({"type": "Feature", "properties": {
            "MVZN_ID": f"MVZN-{k:06d}", "Categorie": CATEGORIES[cats[k]] or None, "Naam": name,
            "Adres": "Kerkstraat", "Huisnummer": number, "Postcode": f"1999 {chr(65 + k % 26)}{chr(66 + k % 24)}",
            "Plaats": "Teststad", "Telefoon": "020-5550000"},
            "geometry": {"type": "Point", "coordinates": [round(wgs.iloc[k].x, 7), round(wgs.iloc[k].y, 7)]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mapping = read_mapping(write_open_data(tmp / "od")["koppeling"])
        for n in sizes:
            store = GeoPackageStore.create_new(tmp / f"s{n}.gpkg")
            build_state(store, write_town_files(tmp / f"bron{n}"), "gebieden")
            path = tmp / f"mvzn_{n}.geojson"
            write_points(path, n)
            for run in ("eerste", "tweede"):
                t0 = time.perf_counter()
                source = read_provision_source(path)
                t1 = time.perf_counter()
                prepared = prepare_provision_import(
                    source, mapping, area=store.outline(), next_number=store.next_provision_number(),
                    catalogue=store.read_provision_types(),
                    existing=store.read_table("provisions")[["provision_id", "source_id"]])
                t2 = time.perf_counter()
                plan = store.preview_provisions(prepared.provisions)["action"].value_counts().to_dict()
                t3 = time.perf_counter()
                counts = store.import_provisions(prepared.provisions, user="bench", source=path.name,
                                                 refuse_same_file=False)
                t4 = time.perf_counter()
                print(f"{n:>6} punten, {run} import: lezen {t1 - t0:5.2f} s, koppelen+controleren {t2 - t1:5.2f} s, "
                      f"voorbeeld {t3 - t2:5.2f} s, opslaan {t4 - t3:5.2f} s; totaal {t4 - t0:5.2f} s; "
                      f"{len(prepared.skipped)} overgeslagen, {len(prepared.warnings)} waarschuwingen, "
                      f"voorbeeld {plan}, opgeslagen {counts}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1500, 15000])

"""Benchmark: the GeoPackage store against the PostgreSQL/PostGIS store, and 20 sessions editing at once.

Run by hand; prints figures, asserts nothing about time.

    .venv/bin/python bench/bench_postgis.py [--url postgresql://user@host/db] [--buurten 14500]
        [--persons 100000] [--ties 1000000] [--provisions 10000] [--sessions 20] [--seconds 10] [--hot 5]

Without ``--url`` it starts its own throwaway PostgreSQL cluster with PostGIS (tests/pg_server.py) and removes
it at the end; with ``--url`` it uses that database, which must be empty (the bench creates the store in it and
drops every table again afterwards). Both stores get the same data:

1. national areas: ~14,500 buurt polygons (60-200 vertices each, tiling a 250 x 300 km box, shared edges
   identical between neighbours) with six key figures each, written with ``merge_area_data``; and a city's
   network, 100,000 persons and 1,000,000 ties, written with ``merge_network`` in one import. Then the main
   reads, best of 3: ``read_areas()`` (wide, with the key figures) and ``read_table('ties')``, with the peak of
   Python's heap during one more read (tracemalloc; ``--no-memory`` skips it);
2. an import of 10,000 provisions (``import_provisions``, with the buurt of every point and an audit entry each),
   then one edit of the provision form in that store (read the provisions, ``update_provision``), best of 3;
   and where the time of the PostGIS ``read_table('ties')`` goes, step by step, next to two other ways to fetch;
3. 20 sessions (threads, each with its own store object, so its own connections) editing a small set of
   provisions for ~10 s with optimistic locking: read the provision, change a field, save with the version read;
   on a conflict read again and retry. Afterwards every provision's final version minus its first must equal
   the number of successful saves of it, and its field must hold the last successful save's value (no lost
   update). On the GeoPackage SQLite lets one writer at a time in; on PostgreSQL the store's advisory lock does.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_network import city  # noqa: E402
from data.errors import ConflictError, StoreError  # noqa: E402
from data.schema import CRS_EPSG  # noqa: E402
from data.store import GeoPackageStore, StoreBusyError  # noqa: E402

X0, Y0, WIDTH, HEIGHT = 20_000.0, 310_000.0, 250_000.0, 300_000.0
INDICATORS = ("aantal_inwoners", "aantal_part_huishoudens", "percentage_personen_65_jaar_en_ouder",
              "percentage_verweduwd", "percentage_eenpersoonshuishoudens", "gemiddeld_inkomen_per_inwoner")
NO_SERVER = ("Deze bench vergelijkt met PostgreSQL/PostGIS en start daarvoor een tijdelijke server, maar dat kan hier "
             "niet. {reason} Of geef een bestaande, lege database met PostGIS op: --url "
             "postgresql://gebruiker@server/database.")
MISSING_PSYCOPG = ("psycopg ontbreekt in deze Python-omgeving: installeer de vereisten (pip install -r "
                   "requirements.txt), dan draait deze bench mee.")


# --------------------------------------------------------------------------- data


def _edge(k: int, rng: np.random.Generator, amp: float, straight: bool) -> tuple[np.ndarray, np.ndarray]:
    """``k`` interior points of one edge: position along it (0..1) and the sideways offset (0 at both ends)."""
    t = np.arange(1, k + 1) / (k + 1)
    if straight:
        return t, np.zeros(k)
    f1, f2 = rng.integers(1, 3), rng.integers(3, 7)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    wave = 0.6 * np.sin(2 * np.pi * f1 * t + p1) + 0.4 * np.sin(2 * np.pi * f2 * t + p2)
    return t, amp * np.sin(np.pi * t) * wave


def national_buurten(n: int, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """``n`` buurten tiling a 250 x 300 km box in RD New, 60-200 vertices each, and six key figures per buurt.

    A grid of cells whose edges wiggle; every edge is made once and used by both cells next to it (the
    way CBS boundaries are shared), the outer edges of the box stay straight, so the buurten tile it.
    """
    cols = int(np.ceil(np.sqrt(n * WIDTH / HEIGHT)))
    rows = int(np.ceil(n / cols))
    w, h = WIDTH / cols, HEIGHT / rows
    amp = 0.12 * min(w, h)
    xs, ys = X0 + np.arange(cols + 1) * w, Y0 + np.arange(rows + 1) * h
    # Horizontal edge (r, c) runs from corner (c, r) to (c + 1, r); vertical edge (r, c) from (c, r) to (c, r + 1).
    horizontal = {}
    for r in range(rows + 1):
        for c in range(cols):
            t, d = _edge(int(rng.integers(14, 50)), rng, amp, r in (0, rows))
            horizontal[r, c] = np.column_stack([xs[c] + t * w, ys[r] + d])
    vertical = {}
    for r in range(rows):
        for c in range(cols + 1):
            t, d = _edge(int(rng.integers(14, 50)), rng, amp, c in (0, cols))
            vertical[r, c] = np.column_stack([xs[c] + d, ys[r] + t * h])
    parts, index = [], []
    for i in range(n):
        r, c = divmod(i, cols)
        ring = np.concatenate([
            [[xs[c], ys[r]]], horizontal[r, c], [[xs[c + 1], ys[r]]], vertical[r, c + 1],
            [[xs[c + 1], ys[r + 1]]], horizontal[r + 1, c][::-1], [[xs[c], ys[r + 1]]], vertical[r, c][::-1],
            [[xs[c], ys[r]]],
        ])
        parts.append(ring)
        index.append(np.full(len(ring), i))
    polygons = shapely.polygons(shapely.linearrings(np.concatenate(parts), indices=np.concatenate(index)))
    # Gemeenten are blocks of 10 x 10 buurten, wijken blocks of 3 x 3 within them.
    r, c = np.divmod(np.arange(n), cols)
    gm = (r // 10) * ((cols + 9) // 10) + c // 10 + 1
    wk = ((r % 10) // 3) * 4 + (c % 10) // 3
    within = pd.Series(np.arange(n)).groupby([gm, wk]).cumcount().to_numpy()  # the buurt's number in its wijk
    codes = np.array([f"BU{g:04d}{k:02d}{b:02d}" for g, k, b in zip(gm, wk, within, strict=True)])
    areas = gpd.GeoDataFrame({
        "area_code": codes, "name": [f"Buurt {i}" for i in range(n)], "level": "buurt",
        "wijk_code": [f"WK{g:04d}{k:02d}" for g, k in zip(gm, wk, strict=True)],
        "gemeente_code": [f"GM{g:04d}" for g in gm], "gemeente_name": [f"Gemeente {g}" for g in gm],
        "year": 2024, "water": rng.random(n) < 0.02, "postcode": [f"{1000 + g % 9000}" for g in gm],
    }, geometry=polygons, crs=CRS_EPSG)
    inhabitants = np.where(rng.random(n) < 0.03, 0, rng.integers(50, 4000, n)).astype(float)
    figures = {
        "aantal_inwoners": inhabitants,
        "aantal_part_huishoudens": np.round(inhabitants / rng.uniform(1.6, 2.8, n)),
        "percentage_personen_65_jaar_en_ouder": np.round(rng.normal(21, 6, n).clip(0, 100)),
        "percentage_verweduwd": np.round(rng.normal(5, 2, n).clip(0, 100)),
        "percentage_eenpersoonshuishoudens": np.round(rng.normal(38, 12, n).clip(0, 100)),
        "gemiddeld_inkomen_per_inwoner": np.round(rng.normal(32, 7, n).clip(5, None), 1),
    }
    values = pd.DataFrame({
        "area_code": np.tile(codes, len(INDICATORS)), "indicator": np.repeat(INDICATORS, n), "year": 2024,
        "value": np.concatenate([figures[k] for k in INDICATORS]),
    })
    values.loc[rng.random(len(values)) < 0.02, "value"] = np.nan  # some secret figures
    values["status"] = np.where(values["value"].isna(), "geheim", None)
    values["source"] = "CBS 85984NED (synthetisch)"
    return areas, values


def provision_frame(n: int, types: list[str], rng: np.random.Generator, first: int = 1) -> gpd.GeoDataFrame:
    """``n`` provisions with every field filled or empty as in practice, points spread over the box."""
    numbers = np.arange(first, first + n)
    points = shapely.points(rng.uniform(X0 + 100, X0 + WIDTH - 100, n), rng.uniform(Y0 + 100, Y0 + HEIGHT - 100, n))
    some = rng.random(n) < 0.6
    return gpd.GeoDataFrame({
        "provision_id": [f"V{k:05d}" for k in numbers],
        "name": [f"Voorziening {k}" for k in numbers],
        "type": np.array(types)[rng.integers(0, len(types), n)],
        "organisation": np.where(some, "Stichting Welzijn", None),
        "reach_m": np.where(some, rng.integers(300, 3000, n).astype(float), np.nan),
        "target_groups": np.where(some, "ouderen;eenzamen", None),
        "capacity_per_year": pd.Series(rng.integers(10, 400, n), dtype="Int64").where(some),
        "capacity_unit": np.where(some, "plaatsen per jaar", None),
        "volunteers": pd.array(rng.integers(0, 30, n), dtype="Int64"),
        "status": np.array(["actief", "onder_druk", "gestopt"])[rng.choice(3, n, p=[0.8, 0.15, 0.05])],
        "funding_source": np.where(some, "Wmo-subsidie gemeente", None),
        "funding_end": pd.to_datetime(np.where(some, "2027-12-31", None)),
        "evidence_label": np.where(rng.random(n) < 0.2, "Erkend (Movisie)", None),
        "contact": np.where(some, "info@welzijn.example", None),
        "last_verified": pd.to_datetime(np.where(some, "2026-01-15", None)),
        "notes": None,
        "street": np.where(some, "Kerkstraat", None),
        "house_number": np.where(some, (numbers % 200 + 1).astype(str), None),
        "postcode": None, "city": np.where(some, "Teststad", None),
        "source_id": [f"OD-{k}" for k in numbers],
        "outside_areas": False,
    }, geometry=points, crs=CRS_EPSG)


# --------------------------------------------------------------------------- measuring


def timed(func: Callable, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def best_of(func: Callable, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        seconds, result = timed(func)
        best = min(best, seconds)
    return best, result


def heap_peak_mb(func: Callable) -> float:
    """The peak of Python's heap (numpy and pandas buffers included) while ``func`` runs, above its start."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        func()
        return (tracemalloc.get_traced_memory()[1] - base) / 1e6
    finally:
        tracemalloc.stop()


def same_content(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """'ja', or what differs between the two stores' answers to the same read."""
    if len(a) != len(b) or list(a.columns) != list(b.columns):
        return f"nee ({len(a)} x {list(a.columns)} tegen {len(b)} x {list(b.columns)})"
    plain_a = pd.DataFrame(a.drop(columns="geometry", errors="ignore"))
    plain_b = pd.DataFrame(b.drop(columns="geometry", errors="ignore"))
    try:
        pd.testing.assert_frame_equal(plain_a, plain_b, check_dtype=False)
    except AssertionError as exc:
        return "nee: " + str(exc).splitlines()[0]
    if "geometry" in a and not shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), 0).all():
        return "nee: andere geometrieën"
    return "ja"


def pg_ties_profile(url: str) -> list[tuple[str, float]]:
    """Where the time of the PostGIS ``read_table('ties')`` goes, step by step, with two faster ways to compare."""
    import psycopg

    from data.postgis import PostgisStore
    from data.schema import TABLES
    from data.sql import PgConnection, translate

    cols = ", ".join(f'"{c}"' for c in TABLES["ties"].column_names)
    sql = f'SELECT {cols} FROM "ties" ORDER BY fid'
    out = []
    out.append(("translate() of the query (once, cached after)", timed(translate.__wrapped__, sql)[0]))
    with contextlib.closing(psycopg.connect(url, autocommit=True)) as raw:
        conn = PgConnection(raw)
        start = time.perf_counter()
        cur = conn.execute(sql)
        executed = time.perf_counter()
        records = cur.fetchall()
        fetched = time.perf_counter()
        frame = pd.DataFrame.from_records(records, columns=[d.name for d in cur.description], coerce_float=True)
        built = time.perf_counter()
        out += [("execute (server runs the query, client receives all rows)", executed - start),
                ("fetchall: psycopg turns the rows into Python tuples", fetched - executed),
                ("DataFrame.from_records(coerce_float=True)", built - fetched)]
        del records, frame
        # The same frame through COPY ... TO STDOUT as CSV, parsed by pandas' C reader (for the time only: a real
        # reader would also have to tell NULL from '' in text columns, which CSV writes as  and "").
        start = time.perf_counter()
        buffer = bytearray()
        with raw.cursor().copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)") as copy:
            for block in copy:
                buffer += block
        copied = time.perf_counter()
        frame = pd.read_csv(io.BytesIO(buffer), dtype={c: "string" for c, t in TABLES["ties"].columns
                                                       if t.startswith("TEXT")}, keep_default_na=False,
                            na_values={c: [""] for c, t in TABLES["ties"].columns if not t.startswith("TEXT")})
        parsed = time.perf_counter()
        out += [("alternative: COPY (query) TO STDOUT csv, received", copied - start),
                ("alternative: pandas.read_csv of that buffer", parsed - copied)]
        del buffer, frame
        # The same rows fetched with binary transfer (no text parsing of integers on the client).
        start = time.perf_counter()
        with raw.cursor(binary=True) as bcur:
            bcur.execute(sql)
            records = bcur.fetchall()
        out.append(("alternative: binary cursor execute + fetchall", time.perf_counter() - start))
        del records
    store = PostgisStore(url)
    out.append(("whole store.read_table('ties') once more, for reference", timed(store.read_table, "ties")[0]))
    return out


# --------------------------------------------------------------------------- concurrency


def edit_once(store, pid: str) -> int:
    """What one save of the provision form does: read the provisions, save one with the version read."""
    current = store.read_table("provisions")
    version = int(current.loc[current["provision_id"] == pid, "version"].iloc[0])
    return store.update_provision(pid, {"notes": f"bewerkt {time.time()}"}, expected_version=version, user="bench")


class Session(threading.Thread):
    """One user's browser session: read a provision, change its notes, save with the version read."""

    def __init__(self, number: int, store, ids: list[str], start: threading.Barrier, seconds: float):
        super().__init__(name=f"sessie{number}")
        self.store, self.ids, self.start_barrier, self.seconds = store, ids, start, seconds
        self.rng = np.random.default_rng(100 + number)
        self.saves: list[tuple[str, int, str, float]] = []  # provision, version after the save, value, at
        self.conflicts = self.busy = self.abandoned = 0
        self.latencies: list[float] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.start_barrier.wait()
            deadline = time.perf_counter() + self.seconds
            count = 0
            while time.perf_counter() < deadline:
                pid = self.ids[int(self.rng.integers(len(self.ids)))]
                count += 1
                value = f"{self.name}-{count}"
                while True:  # as edit_once, with the version read kept apart to count conflicts
                    current = self.store.read_table("provisions")
                    version = int(current.loc[current["provision_id"] == pid, "version"].iloc[0])
                    began = time.perf_counter()
                    try:
                        saved = self.store.update_provision(pid, {"notes": value}, expected_version=version,
                                                            user=self.name)
                    except ConflictError:
                        self.conflicts += 1
                    except StoreBusyError:
                        self.busy += 1
                    else:
                        done = time.perf_counter()
                        self.latencies.append(done - began)
                        self.saves.append((pid, saved, value, done))
                        break
                    if time.perf_counter() >= deadline:
                        self.abandoned += 1
                        break
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            self.error = exc


def edit_sessions(open_store: Callable[[], object], ids: list[str], sessions: int, seconds: float) -> dict:
    """``sessions`` threads edit the provisions ``ids`` for ``seconds``; return the counts and the lost-update check."""
    check_store = open_store()
    before = check_store.read_table("provisions").set_index("provision_id").loc[ids]
    barrier = threading.Barrier(sessions + 1)
    threads = [Session(i + 1, open_store(), ids, barrier, seconds) for i in range(sessions)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    after = check_store.read_table("provisions").set_index("provision_id").loc[ids]
    saves = [s for t in threads for s in t.saves]
    problems = [f"{t.name}: {type(t.error).__name__}: {t.error}" for t in threads if t.error is not None]
    for pid in ids:
        mine = sorted((version, value) for p, version, value, _ in saves if p == pid)
        first, last = int(before.loc[pid, "version"]), int(after.loc[pid, "version"])
        if last - first != len(mine):
            problems.append(f"{pid}: versie {first} -> {last}, maar {len(mine)} geslaagde opslagen")
        if [v for v, _ in mine] != list(range(first + 1, last + 1)):
            problems.append(f"{pid}: de teruggegeven versies zijn niet {first + 1}..{last} zonder gaten of dubbelen")
        if mine and after.loc[pid, "notes"] != mine[-1][1]:
            problems.append(f"{pid}: opgeslagen '{after.loc[pid, 'notes']}', laatste geslaagde opslag "
                            f"'{mine[-1][1]}'")
    latencies = sorted(x for t in threads for x in t.latencies)
    return {
        "elapsed": elapsed, "saves": len(saves), "conflicts": sum(t.conflicts for t in threads),
        "busy": sum(t.busy for t in threads), "abandoned": sum(t.abandoned for t in threads),
        "median_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        "problems": problems,
    }


def report_sessions(result: dict) -> str:
    check = "OK, no lost update" if not result["problems"] else "FAILED: " + "; ".join(result["problems"][:5])
    return (f"{result['saves']:6d} saves in {result['elapsed']:5.1f} s = "
            f"{result['saves'] / result['elapsed']:6.1f} saves/s, {result['conflicts']:5d} conflicts, "
            f"{result['busy']} busy, {result['abandoned']} abandoned at the end, save median "
            f"{result['median_ms']:.0f} ms / p95 {result['p95_ms']:.0f} ms; check: {check}")


# --------------------------------------------------------------------------- the stores


@contextlib.contextmanager
def postgres(url: str | None) -> Iterator[Callable[[], str]]:
    """Yield a function that gives an empty database for a new store: the given one (emptied again after each
    use by the caller), or a new one in a throwaway cluster."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        sys.exit(MISSING_PSYCOPG)
    if url is not None:
        yield lambda: url
        return
    from tests.pg_server import PostgresMissing, throwaway_server

    try:
        with throwaway_server() as server:
            yield server.new_database
    except PostgresMissing as exc:
        sys.exit(NO_SERVER.format(reason=exc))


@contextlib.contextmanager
def postgis_store(new_database: Callable[[], str]):
    """A new PostGIS store in an empty database, emptied again afterwards; a store that cannot be made ends
    the bench with its Dutch message."""
    from data.postgis import PostgisStore

    try:
        store = PostgisStore.create_new(new_database())
    except StoreError as exc:
        sys.exit(str(exc))
    try:
        yield store
    finally:
        store.drop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an empty PostgreSQL database with PostGIS (default: a throwaway cluster)")
    parser.add_argument("--buurten", type=int, default=14_500)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--ties", type=int, default=1_000_000)
    parser.add_argument("--provisions", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hot", type=int, default=5, help="how many provisions the sessions edit")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass of every read")
    args = parser.parse_args()
    if args.url is None:  # before minutes of building data
        from tests.pg_server import missing_reason

        reason = missing_reason()
        if reason is not None:
            sys.exit(NO_SERVER.format(reason=reason))
    rng = np.random.default_rng(18)
    table: list[tuple[str, dict[str, float]]] = []

    def record(work: str, kind: str, seconds: float, note: str = "") -> None:
        for name, figures in table:
            if name == work:
                figures[kind] = seconds
                break
        else:
            table.append((work, {kind: seconds}))
        print(f"  {kind:<10} {work:<52} {seconds:8.2f} s{note}", flush=True)

    seconds, (areas, values) = timed(national_buurten, args.buurten, rng)
    vertices = shapely.get_num_coordinates(areas.geometry.to_numpy())
    print(f"built {len(areas):,} buurten ({vertices.min()}-{vertices.max()} vertices, median "
          f"{int(np.median(vertices))}; valid: {bool(shapely.is_valid(areas.geometry.to_numpy()).all())}) and "
          f"{len(values):,} key figures in {seconds:.1f} s")
    seconds, (persons, ties, _) = timed(city, args.persons, args.ties)
    print(f"built {len(persons):,} persons and {len(ties):,} ties in {seconds:.1f} s", flush=True)

    with tempfile.TemporaryDirectory() as tmp, postgres(args.url) as new_database:
        tmp = Path(tmp)
        with postgis_store(new_database) as pg:
            gpkg = GeoPackageStore.create_new(tmp / "nl.gpkg")
            stores = {"geopackage": gpkg, "postgis": pg}
            print(f"== writes (geopackage: {gpkg.path}, postgis: {pg.path})")
            for kind, store in stores.items():
                record(f"write {len(areas):,} areas + {len(values):,} figures", kind,
                       timed(store.merge_area_data, areas, values, user="bench", file_name="buurten.gpkg")[0])
                record(f"write {len(persons):,} persons + {len(ties):,} ties", kind,
                       timed(store.merge_network, persons, ties, user="bench", source="netwerk.csv")[0])

            print("== reads (best of 3)")
            answers: dict[str, dict[str, pd.DataFrame]] = {"areas": {}, "ties": {}}
            reads = {"areas": ("read_areas() wide", lambda s: s.read_areas()),
                     "ties": (f"read_table('ties') {len(ties):,}", lambda s: s.read_table("ties"))}
            for key, (work, read) in reads.items():
                for kind, store in stores.items():
                    seconds, answers[key][kind] = best_of(lambda store=store, read=read: read(store))
                    note = ""
                    if not args.no_memory:
                        answers[key][kind] = None  # the peak of one read, without the previous answer
                        kept = []
                        peak = heap_peak_mb(lambda store=store, read=read, kept=kept: kept.append(read(store)))
                        answers[key][kind] = kept[0]
                        note = f"   heap peak {peak:,.0f} MB"
                    record(work, kind, seconds, note)
                print(f"  same content on both: {same_content(answers[key]['geopackage'], answers[key]['postgis'])}"
                      f" ({len(answers[key]['postgis']):,} rows, {answers[key]['postgis'].shape[1]} columns)",
                      flush=True)
            answers.clear()

            print(f"== import {args.provisions:,} provisions (into the stores above, with their areas)")
            types = list(gpkg.read_provision_types())
            provisions = provision_frame(args.provisions, types, np.random.default_rng(5))
            for kind, store in stores.items():
                seconds, counts = timed(store.import_provisions, provisions, user="bench", source="voorzieningen.csv")
                record(f"import_provisions {args.provisions:,}", kind, seconds, f"   {counts}")
            with_buurt = pg.read_table("provisions")["buurt_code"].notna().sum()
            print(f"  provisions with a buurt (postgis): {with_buurt:,} of {args.provisions:,}")
            pid = provisions["provision_id"].iloc[0]
            for kind, store in stores.items():
                record(f"one edit (read + update_provision), {args.provisions:,} stored", kind,
                       best_of(lambda store=store: edit_once(store, pid))[0])

            print("== where the time of the PostGIS read_table('ties') goes")
            for what, seconds in pg_ties_profile(pg.url):
                print(f"  {what:<66} {seconds:8.2f} s")

        print(f"== {args.sessions} sessions editing {args.hot} provisions for {args.seconds:.0f} s "
              "(a small store of 100 provisions)")
        few = provision_frame(100, types, np.random.default_rng(9))
        hot = few["provision_id"].iloc[:args.hot].tolist()
        concurrency = {}
        gpkg_small = GeoPackageStore.create_new(tmp / "sessies.gpkg")
        gpkg_small.import_provisions(few, user="bench")
        concurrency["geopackage"] = edit_sessions(lambda: GeoPackageStore(gpkg_small.path), hot, args.sessions,
                                                  args.seconds)
        print(f"  {'geopackage':<10} {report_sessions(concurrency['geopackage'])}", flush=True)
        from data.postgis import PostgisStore

        with postgis_store(new_database) as pg_small:
            pg_small.import_provisions(few, user="bench")
            concurrency["postgis"] = edit_sessions(lambda: PostgisStore(pg_small.url), hot, args.sessions,
                                                   args.seconds)
        print(f"  {'postgis':<10} {report_sessions(concurrency['postgis'])}", flush=True)

    print("== summary")
    for work, figures in table:
        print(f"{work}: geopackage {figures.get('geopackage', float('nan')):.2f} s, "
              f"postgis {figures.get('postgis', float('nan')):.2f} s")
    for kind, result in concurrency.items():
        print(f"{args.sessions} sessions x {args.seconds:.0f} s, {kind}: {report_sessions(result)}")


if __name__ == "__main__":
    main()

"""Benchmark: the Netwerken page at a town's and a city's scale, in Streamlit's AppTest.

Builds a GeoPackage store that is not the demo (the demo's generator for a municipality of the
asked size, written through the store API in bulk, ties trimmed or topped up to the asked number,
no demo flag), signs in as the administrator and times, with cold caches for each size:

1. the first visit of the Netwerken page (tab Signalen: signals, reasons, suitable provisions);
2. a rerun with the same inputs;
3. opening the tab Gemeenschap (the community view: graph, connectors, summarised drawing);
4. a rerun there.

Every run must end without an exception. Also prints the size of the community view's HTML.
Targets: first visit <= 5 s and rerun <= 1 s for 20.000 persons; first visit <= 15 s for 100.000.
Run by hand:

    .venv/bin/python bench/bench_netwerken.py [--sizes 20000:70000,100000:700000] [--summary F]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.summary import add_argument, record  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ADMIN = ("beheer", "beheerder")


def _resize_ties(tables: dict, n_ties: int, rng: np.random.Generator) -> None:
    """Trim the ties to ``n_ties`` (and the alter links to the kept alters), or top them up with extra
    anonymous alters of the same egos (copies of drawn ties under a new alter key, no alter_id)."""
    ties = tables["ties"]
    if len(ties) >= n_ties:
        kept = ties.iloc[np.sort(rng.choice(len(ties), n_ties, replace=False))].reset_index(drop=True)
        links = tables["alter_links"]
        have = pd.MultiIndex.from_arrays([kept["ego_id"], kept["alter_key"]])
        src = pd.MultiIndex.from_arrays([links["ego_id"], links["source"]]).isin(have)
        dst = pd.MultiIndex.from_arrays([links["ego_id"], links["target"]]).isin(have)
        tables["ties"] = kept
        tables["alter_links"] = links.loc[src & dst].reset_index(drop=True)
        return
    extra = ties.iloc[rng.integers(0, len(ties), n_ties - len(ties))].copy()
    extra["alter_key"] = "x" + np.arange(len(extra)).astype(str)
    extra["alter_id"] = None
    tables["ties"] = pd.concat([ties, extra], ignore_index=True)


def build_store(path: Path, n_persons: int, n_ties: int, seed: int = 19) -> dict:
    """A municipality's own store (not the demo) with areas, provisions, persons, ties, participation,
    alter links and questionnaires; returns the row counts."""
    from data import auth
    from data.demo import generate_demo
    from data.store import GeoPackageStore

    tables = generate_demo(seed, n_persons=n_persons).tables()
    _resize_ties(tables, n_ties, np.random.default_rng(seed))

    def fill(store) -> None:
        store.replace_tables(tables, user="bench", action="bench", details={"personen": n_persons})

    store = GeoPackageStore.create_new(path, fill=fill)
    auth.create_user(store, ADMIN[0], ADMIN[1], (), "correct horse battery", by="bench")
    return {name: len(tables[name]) for name in ("persons", "ties", "participation", "alter_links")}


def _timed_run(at) -> float:
    start = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"AppTest: uitzondering: {at.exception}")
    if at.error:
        raise SystemExit(f"AppTest: fout: {[e.value for e in at.error]}")
    return seconds


def measure_page(path: Path) -> dict:
    """Times of the Netwerken page on the store at ``path`` (cold caches: a new store path)."""
    from streamlit.testing.v1 import AppTest

    from data.auth import User

    os.environ["STEUNKAART_STORE"] = str(path)
    at = AppTest.from_file(APP, default_timeout=600)
    at.session_state["sk_user"] = User(*ADMIN)
    at.run()  # the default page (Kaart) opens first, as in the browser
    if at.exception:
        raise SystemExit(f"AppTest: uitzondering: {at.exception}")
    at.switch_page("pages/netwerken.py")
    out = {"first": _timed_run(at), "rerun": _timed_run(at)}
    at.session_state["nw_tabs"] = "Gemeenschap"
    out["community"] = _timed_run(at)
    out["community_rerun"] = _timed_run(at)
    out["texts"] = "\n".join(e.value for e in (*at.caption, *at.markdown))
    return out


def community_html_size(path: Path) -> tuple[float, float, int]:
    """Sizes in MB of the community view's HTML: as the page draws it (summarised, the first linked person
    chosen) and the whole graph as it was drawn before; and the node count of the summarised graph."""
    from data.store import GeoPackageStore
    from graphs.community import community_graph, community_html, community_summary, summarised_graph
    from mapping.assets import VIS_URL

    store = GeoPackageStore.open(path, create=False)
    provisions = store.read_table("provisions")
    graph = community_graph(store.read_table("persons"), store.read_table("ties"), store.read_table("participation"),
                            provisions)
    summary = community_summary(graph)
    names = dict(zip(provisions["provision_id"], provisions["name"], strict=True))
    types = dict(zip(provisions["provision_id"], provisions["type"], strict=True))
    focus = summary["linked_persons"][0] if summary["linked_persons"] else None
    shown, left_out = summarised_graph(graph, summary, focus=focus)
    page = community_html(shown, summary, signalled=set(), provision_names=names, provision_types=types,
                          vis_base=VIS_URL, focus=focus, left_out=left_out)
    whole = community_html(graph, summary, signalled=set(), provision_names=names, provision_types=types,
                           vis_base=VIS_URL)
    return len(page.encode("utf-8")) / 1e6, len(whole.encode("utf-8")) / 1e6, shown.number_of_nodes()


def main() -> None:
    import logging

    logging.disable(logging.WARNING)  # AppTest's bare-mode warnings would drown the figures
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000:70000,100000:700000",
                        help="persons:ties per store, comma-separated (default: a town and a city)")
    add_argument(parser)
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in part.split(":")) for part in args.sizes.split(",")]
    first_town = None
    with tempfile.TemporaryDirectory() as tmp:
        for n_persons, n_ties in sizes:
            path = Path(tmp) / f"stad-{n_persons}.gpkg"
            start = time.perf_counter()
            counts = build_store(path, n_persons, n_ties)
            built = time.perf_counter() - start
            print(f"opslag {n_persons} personen: {counts} in {built:.1f} s")
            times = measure_page(path)
            size, whole, drawn = community_html_size(path)
            print(f"netwerken {n_persons:>7} personen: eerste bezoek {times['first']:.2f} s, "
                  f"opnieuw {times['rerun']:.2f} s, Gemeenschap {times['community']:.2f} s, "
                  f"opnieuw daar {times['community_rerun']:.2f} s")
            print(f"  HTML gemeenschap {size * 1000:.0f} kB ({drawn} knopen getekend; de hele graaf zou "
                  f"{whole:.2f} MB zijn)")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  piek-RSS van het proces tot nu: {peak:.0f} MB")
            if first_town is None or n_persons == 20000:
                first_town = times["first"]
            target = 5.0 if n_persons <= 20000 else 15.0
            print(f"  doel eerste bezoek <= {target:g} s: {'ja' if times['first'] <= target else 'NEE'}"
                  + (f"; doel opnieuw <= 1 s: {'ja' if times['rerun'] <= 1 else 'NEE'}" if n_persons <= 20000
                     else ""))
    record(args.summary, "netwerken stad", first_town)


if __name__ == "__main__":
    main()

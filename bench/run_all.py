"""``make bench``: every bench in one run, then one summary table.

Runs the benches one after another in child processes (each gets the machine to itself), shows
their output as it comes, prints how long each took, and ends with the summary of bench/summary.py,
one line per work, exactly ``<werk>: ons <s> s, <peer> <s> s``. A bench that needs a component this
machine lacks (Chromium, PostgreSQL) is reported as skipped, with what to install; a bench that fails
makes the run exit non-zero after the summary.

    .venv/bin/python bench/run_all.py [--only bench_network,bench_store]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.summary import summary_lines  # noqa: E402

# (script, arguments, what it needs, whether it records a summary line): the five of the summary first, at
# the sizes the issue names, then the others at sizes that keep the whole run under ten minutes on 2 cores
# (run one by hand without arguments for its full size).
BENCHES: list[tuple[str, list[str], str | None, bool]] = [
    ("bench_network.py", [], None, True),
    ("bench_store.py", [], None, True),
    ("bench_map.py", [], None, True),
    ("bench_gaps.py", [], None, True),
    ("bench_netwerken.py", [], None, True),
    ("bench_hsds.py", [], None, False),
    ("bench_open_data.py", [], None, False),
    ("bench_uploads.py", ["--mib", "40"], None, False),
    ("bench_network_canvas.py", ["--copies", "30"], None, False),
    ("bench_outcomes.py", ["--persons", "20000", "--sample", "500"], None, False),
    ("bench_batches.py", ["--persons", "20000", "--ties", "200000"], None, False),
    ("bench_postgis.py", ["--buurten", "3000", "--persons", "20000", "--ties", "200000", "--provisions", "2000",
                          "--sessions", "5", "--seconds", "3", "--no-memory"], "postgresql", False),
    ("bench_ui.py", ["--runs", "5"], "chromium", False),
]


def _missing(needs: str | None) -> str | None:
    """Why a bench cannot run here (None: it can)."""
    if needs == "chromium":
        from tests.browser import chromium_path

        return None if chromium_path() else "Chromium ontbreekt (Debian: apt-get install chromium)"
    if needs == "postgresql":
        return None if shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) else (
            "PostgreSQL ontbreekt (Debian: apt-get install postgresql postgresql-postgis)")
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="comma-separated bench names (default: all)")
    args = parser.parse_args()
    only = {name.removesuffix(".py") for name in args.only.split(",") if name}
    failed, walls = [], []
    with tempfile.TemporaryDirectory(prefix="steunkaart-bench-") as tmp:
        summary = Path(tmp) / "summary.jsonl"
        start_all = time.perf_counter()
        for script, extra, needs, summarised in BENCHES:
            if only and script.removesuffix(".py") not in only:
                continue
            print(f"\n=== {script} {' '.join(extra)}".rstrip(), flush=True)
            reason = _missing(needs)
            if reason:
                print(f"overgeslagen: {reason}", flush=True)
                walls.append((script, None))
                continue
            start = time.perf_counter()
            flags = ["--summary", str(summary)] if summarised else []
            rc = subprocess.call([sys.executable, str(HERE / script), *extra, *flags],
                                 cwd=HERE.parent, env={**os.environ, "PYTHONUNBUFFERED": "1"})
            walls.append((script, time.perf_counter() - start))
            if rc:
                failed.append(f"{script} (exit {rc})")
        total = time.perf_counter() - start_all
        print("\n=== duur per bench")
        for script, wall in walls:
            print(f"{script}: {'overgeslagen' if wall is None else f'{wall:.1f} s'}")
        print(f"alles: {total:.1f} s ({total / 60:.1f} min)")
        if failed:
            print("mislukt: " + ", ".join(failed))
        print("\n=== samenvatting")
        lines = summary_lines(summary)
        for line in lines:
            print(line, flush=True)
    missing = [line for line in lines if line.endswith(": niet gemeten")]
    return 1 if failed or (missing and not only) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: a large CSV upload, from Streamlit's buffer to the refusal, in time and peak memory.

Run by hand; prints figures, asserts nothing about time. Every case runs in a fresh process, so the
peak (VmHWM) is that case's own. "Extra" is the peak above what the process held once the upload
was in memory (Streamlit keeps every upload in memory: that part is Streamlit's, not ours).

    .venv/bin/python bench/bench_uploads.py [--mib 190]

Cases:
- ``grootte``: the upload limit set to 100 MiB; the 190 MiB file is refused on its size.
- ``inhoud``: the default limit (200 MiB); the file passes the size check, is written to a
  temporary file and read as a table, and the provisions import refuses it (wrong columns).
- ``lezen``: only ``read_table_file`` on the file on disk (the parse itself).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024


def write_csv(path: Path, mib: float) -> None:
    """A network-like CSV (semicolons, 8 text columns) of about ``mib`` MiB."""
    import numpy as np

    rng = np.random.default_rng(12)
    target = int(mib * MIB)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("persoon;buurt;leeftijd;huishouden;rol;steun;contact;datum\n")
        written, start = 0, 0
        while written < target:
            n = 100_000
            ids = np.char.add("P", np.char.zfill((np.arange(start, start + n)).astype(str), 8))
            buurt = np.char.add("BU9999", np.char.zfill(rng.integers(0, 9999, n).astype(str), 4))
            rows = [f"{i};{b};65-74;alleenstaand;buur;praktisch;wekelijks;2024-03-01\n"
                    for i, b in zip(ids, buurt, strict=True)]
            chunk = "".join(rows)
            fh.write(chunk)
            written += len(chunk)
            start += n
    with path.open("r+b") as fh:  # exactly the size asked for, on a row boundary
        fh.truncate(target)
        tail = max(target - 4096, 0)
        fh.seek(tail)
        fh.truncate(tail + fh.read().rfind(b"\n") + 1)


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def run_case(case: str, csv_path: Path) -> dict:
    """One case in this process; returns seconds, peak and extra memory in bytes, and the outcome."""
    import logging

    logging.disable(logging.WARNING)  # "No runtime found" from st.cache_* outside a server
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    from data.errors import DataValidationError
    from data.provisions import read_provisions_file
    from data.tabular import read_table_file
    from pages.common import uploaded_file

    if case == "grootte":
        os.environ["STEUNKAART_MAX_UPLOAD_MB"] = "100"
    data = csv_path.read_bytes()
    upload = UploadedFile(UploadedFileRec("bench", "netwerk.csv", "text/csv", data), None)
    base = _status("VmRSS")
    start = time.perf_counter()
    outcome = "gelukt"
    try:
        if case == "lezen":
            frame = read_table_file(csv_path)
            outcome = f"gelezen: {len(frame):,} rijen".replace(",", ".")
        else:
            with uploaded_file(upload, allowed=("csv", "xlsx")) as path:
                read_provisions_file(path)
    except DataValidationError as exc:
        outcome = f"geweigerd: {str(exc)[:90]}"
    seconds = time.perf_counter() - start
    peak = _status("VmHWM")
    return {"seconds": seconds, "peak": peak, "extra": max(peak - base, 0), "outcome": outcome}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=190.0, help="size of the CSV in MiB (default 190)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, Path(args.csv))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "netwerk.csv"
        start = time.perf_counter()
        write_csv(csv_path, args.mib)
        size = csv_path.stat().st_size
        print(f"CSV of {size / MIB:.1f} MiB ({size:,} bytes) written in {time.perf_counter() - start:.1f} s")
        print(f"{'case':<10} {'time':>9} {'peak RSS':>12} {'extra':>12}  outcome")
        for case in ("grootte", "inhoud", "lezen"):
            proc = subprocess.run([sys.executable, __file__, "--case", case, "--csv", str(csv_path)],
                                  capture_output=True, text=True, cwd=ROOT, check=False)
            if proc.returncode != 0:
                print(f"{case:<10} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{case:<10} {r['seconds']:8.2f}s {r['peak'] / MIB:9.0f} MiB {r['extra'] / MIB:9.0f} MiB  "
                  f"{r['outcome']}")


if __name__ == "__main__":
    main()

"""The one summary table of ``make bench``: each bench records its headline figure, the runner prints them.

A bench started by ``bench/run_all.py`` gets ``--summary FILE`` and calls :func:`record` once per
headline work; run by hand without that flag it only prints its own figures. The runner prints, at
the very end, one line per work, exactly ``<werk>: ons <s> s, <peer> <s> s`` with a dot as decimal
separator (scripts outside the tests read these lines), and for a work with a size the line after it.
"""

from __future__ import annotations

import json
from pathlib import Path

# The works of the summary, in the order they are printed, and their peer (None: there is none).
WORKS = {
    "egomaten 100k": "igraph",
    "ties lezen 1M": "pyogrio-arrow",
    "landelijke kaart": None,
    "2sfca landelijk": "access",
    "netwerken stad": None,
}


def add_argument(parser) -> None:
    """The ``--summary FILE`` flag every bench of the runner accepts."""
    parser.add_argument("--summary", type=Path, default=None,
                        help="append the headline figures as JSON lines to this file (bench/run_all.py)")


def record(path: Path | None, work: str, ours_s: float, peer_s: float | None = None, *,
           size_mb: float | None = None, **extra) -> None:
    """Append one headline figure; ``peer_s`` is the peer's time in the same run (None when there is none)."""
    if work not in WORKS:
        raise ValueError(f"unknown summary work {work!r}; known: {', '.join(WORKS)}")
    if (WORKS[work] is None) != (peer_s is None):
        raise ValueError(f"{work!r}: peer time {'missing' if peer_s is None else 'given'} for peer {WORKS[work]}")
    if path is None:
        return
    entry = {"work": work, "ours_s": float(ours_s), "peer_s": None if peer_s is None else float(peer_s),
             "size_mb": None if size_mb is None else float(size_mb), **extra}
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def summary_lines(path: Path) -> list[str]:
    """The summary, one line per work in WORKS order (the last record of a work counts)."""
    entries = {}
    if Path(path).exists():
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                entries[entry["work"]] = entry
    lines = []
    for work, peer in WORKS.items():
        entry = entries.get(work)
        if entry is None:
            lines.append(f"{work}: niet gemeten")
            continue
        peer_part = "geen 0 s" if peer is None else f"{peer} {entry['peer_s']:.2f} s"
        lines.append(f"{work}: ons {entry['ours_s']:.2f} s, {peer_part}")
        if entry.get("size_mb") is not None:
            lines.append(f"{work} grootte: {entry['size_mb']:.2f} MB")
    return lines

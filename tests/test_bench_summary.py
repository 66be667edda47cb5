"""The summary of `make bench` is an interface (issue 19): scripts read its lines exactly as
``<werk>: ons <s> s, <peer> <s> s``. Checked here on the recorder, the runner and the bench scripts,
without timing anything."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import run_all
from bench.summary import WORKS, record, summary_lines

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(?P<work>[A-Za-z0-9 ]+): ons (?P<ours>\d+\.\d{2}) s, (?P<peer>[a-z-]+) (?P<peer_s>\d+(\.\d{2})?) s$")


def test_the_lines_have_the_exact_form_with_a_dot_as_decimal_separator(tmp_path):
    path = tmp_path / "s.jsonl"
    record(path, "egomaten 100k", 1.804, 2.3149)
    record(path, "ties lezen 1M", 0.5, 0.55)
    record(path, "landelijke kaart", 3.1, size_mb=5.432)
    record(path, "2sfca landelijk", 0.12, 0.61)
    record(path, "netwerken stad", 4.0)
    lines = summary_lines(path)
    assert lines == [
        "egomaten 100k: ons 1.80 s, igraph 2.31 s",
        "ties lezen 1M: ons 0.50 s, pyogrio-arrow 0.55 s",
        "landelijke kaart: ons 3.10 s, geen 0 s",
        "landelijke kaart grootte: 5.43 MB",
        "2sfca landelijk: ons 0.12 s, access 0.61 s",
        "netwerken stad: ons 4.00 s, geen 0 s",
    ]
    assert all(LINE.match(line) for line in lines if "grootte" not in line)


def test_the_last_record_of_a_work_counts_and_a_missing_work_says_so(tmp_path):
    path = tmp_path / "s.jsonl"
    record(path, "egomaten 100k", 9.0, 9.0)
    record(path, "egomaten 100k", 1.0, 2.0)
    lines = summary_lines(path)
    assert lines[0] == "egomaten 100k: ons 1.00 s, igraph 2.00 s"
    assert "ties lezen 1M: niet gemeten" in lines


def test_a_wrong_work_or_peer_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown summary work"):
        record(tmp_path / "s.jsonl", "egomaten", 1.0, 2.0)
    with pytest.raises(ValueError, match="peer time missing"):
        record(tmp_path / "s.jsonl", "egomaten 100k", 1.0)
    with pytest.raises(ValueError, match="peer time given"):
        record(tmp_path / "s.jsonl", "netwerken stad", 1.0, 2.0)
    assert not (tmp_path / "s.jsonl").exists()


def test_every_work_is_recorded_by_a_bench_the_runner_starts_with_the_summary_flag():
    started = {script for script, _, _, summarised in run_all.BENCHES if summarised}
    recorded = {}
    for script in started:
        source = (ROOT / "bench" / script).read_text(encoding="utf-8")
        assert "add_argument(parser)" in source, script
        for work in re.findall(r'record\(\s*args\.summary,\s*"([^"]+)"', source):
            recorded[work] = script
    assert set(recorded) == set(WORKS)
    # Every bench file of the folder is run by make bench.
    scripts = {p.name for p in (ROOT / "bench").glob("bench_*.py")}
    assert scripts == {script for script, *_ in run_all.BENCHES}


def test_the_runner_ends_with_the_summary_and_fails_when_a_bench_fails(tmp_path, monkeypatch):
    """run_all with two stand-in benches (one records, one fails): the summary is the last lines, exit 1."""
    good = tmp_path / "good.py"
    good.write_text(
        "import argparse, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from bench.summary import add_argument, record\n"
        "parser = argparse.ArgumentParser(); add_argument(parser); args = parser.parse_args()\n"
        "print('figures of the good bench')\n"
        "record(args.summary, 'netwerken stad', 1.5)\n", encoding="utf-8")
    (tmp_path / "bad.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\n"
        "from bench import run_all\n"
        f"run_all.HERE = Path({str(tmp_path)!r})\n"
        "run_all.BENCHES = [('good.py', [], None, True), ('bad.py', [], None, False)]\n"
        "sys.argv = ['run_all.py']\n"
        "sys.exit(run_all.main())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout.splitlines()
    assert "figures of the good bench" in out
    assert "mislukt: bad.py (exit 3)" in out
    assert out[-len(WORKS):] == [f"{work}: niet gemeten" if work != "netwerken stad" else
                                 "netwerken stad: ons 1.50 s, geen 0 s" for work in WORKS]

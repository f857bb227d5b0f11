"""The benchmark's code runs end to end (bench/run.py --quick on one case, cgihttpd
only) and writes a report with the results table. Not a timing check: no figure is
compared with anything."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_quick_bench_writes_a_report(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (scripts/install-test-deps installs it)")
    out = tmp_path / "report.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--cases", "static16",
         "--no-apache", "--no-variants", "--output", str(out)],
        capture_output=True, text=True, timeout=110, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    text = out.read_text()
    for heading in ("## Machine", "## Versions", "## Results (medians)", "## Memory",
                    "## Floors (same run)", "## Targets (issue 4)"):
        assert heading in text
    results = text.split("## Results (medians)")[1].split("\n## ")[0]
    header, rule, *rows = [line for line in results.splitlines() if line.startswith("|")]
    assert header.startswith("| case | server | req/s | p50 ms | p99 ms |")
    assert rule.count("|") == header.count("|")
    assert len(rows) == 1 and rows[0].startswith("| static index.html, 16 conns | cgihttpd |")
    req_s = rows[0].split("|")[3].strip().replace(",", "")
    assert float(req_s) > 0  # wrk completed requests and they were read from its output
    assert rows[0].split("|")[-2].strip() == "0"  # no errors: every answer was a 200
    assert "`/bin/true`" in text  # the floors were measured

"""`make bench`'s runner (tests/benchmarks/run_all.py): one table of the scripts' RATIO lines, a failed script
shown as failed and the only reason to exit non-zero (a missed target is not)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parent / "benchmarks" / "run_all.py"


def run(*scripts: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), *map(str, scripts)], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_table_gathers_ratios_and_only_a_failed_script_fails_the_run(tmp_path):
    good = tmp_path / "bench_good.py"
    good.write_text('print("figures")\nprint("RATIO\\tgood.fast\\t1.50\\t2")\nprint("RATIO\\tgood.slow\\t3.25\\t2")\n')
    broken = tmp_path / "bench_broken.py"
    broken.write_text('print("RATIO\\tbroken.first\\t0.40\\t0.5")\nraise RuntimeError("boom")\n')
    done = run(good)
    assert done.returncode == 0, done.stdout + done.stderr  # a missed target is printed, not an exit status
    table = done.stdout.split("== make bench")[1]
    assert "good.fast" in table and "1.50" in table
    rows = {line.split()[1]: line.split()[-1] for line in table.splitlines() if line.startswith("bench_good.py")}
    assert rows == {"good.fast": "met", "good.slow": "MISSED"}
    wall = [line.split() for line in table.splitlines() if line.startswith("(all)")]
    assert len(wall) == 1 and wall[0][-2:] == ["600", "met"], table  # the whole run's seconds against 10 minutes
    both = run(good, broken)
    assert both.returncode == 1
    table = both.stdout.split("== make bench")[1]
    assert "broken.first" in table and "failed (exit 1)" in table
    assert "1 script(s) failed: bench_broken.py" in table

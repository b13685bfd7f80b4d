"""`make bench`'s runner (tests/benchmarks/run_all.py): one table of the scripts' RATIO lines, a failed script
shown as failed and the only reason to exit non-zero (a missed target is not)."""

from __future__ import annotations

import os
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


def test_the_item_import_is_gated_on_both_backends_at_the_runner_s_size_unless_the_environment_says(tmp_path):
    script = tmp_path / "bench_import.py"  # ARGUMENTS is keyed by the script's name
    script.write_text(
        "import os, sys\nprint(f\"RATIO\\timport.items.{sys.argv[1]}.{os.environ['JXC_BENCH_ROWS']}\\t1.00\\t3\")\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "JXC_BENCH_ROWS"}
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(script)], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = done.stdout.split("== make bench")[1]
    rows = {line.split()[0]: line.split()[1] for line in table.splitlines() if line.startswith("bench_import.py")}
    assert rows == {
        "bench_import.py:sqlite": "import.items.sqlite.20000",
        "bench_import.py:postgresql": "import.items.postgresql.20000",
    }
    env["JXC_BENCH_ROWS"] = "100000"  # the size, asked for
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(script)], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert "import.items.postgresql.100000" in done.stdout.split("== make bench")[1]

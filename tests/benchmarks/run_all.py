"""`make bench`: run every tests/benchmarks/bench_*.py one after another and print one table of their ratios.

Each script prints, besides its own figures, one line per gated figure:
    RATIO<TAB><name><TAB><value><TAB><target>
(a ratio where lower is better: the target is met when value <= target). A script exits 0 whenever it
measured, whether or not a target was met; any other exit status is a failure of the script, shown as
failed in the table with the ratios it printed before it stopped. This runner exits non-zero only when a
script failed (or ran out of its time), never for a missed target.
A script listed in ARGUMENTS runs once per entry there, with those arguments and environment defaults (an
environment variable already set wins: JXC_BENCH_ROWS=100000 runs the issue's size), and shows in the table as
`script:arguments`; every other script runs once without arguments.
Run: .venv/bin/python tests/benchmarks/run_all.py [bench_grid.py ...]   (JXC_BENCH_TIMEOUT: seconds per run)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TIMEOUT = float(os.environ.get("JXC_BENCH_TIMEOUT", "480"))  # seconds per script
BUDGET = 600  # seconds: `make bench` runs every benchmark in under 10 minutes (issue 19)
# script -> its runs: (arguments, environment defaults). The item import is gated on both backends (issue 13), at
# 20,000 rows to fit the budget (100,000 took 1.5 min on SQLite and 3 min on PostgreSQL at load 6).
ARGUMENTS: dict[str, list[tuple[list[str], dict[str, str]]]] = {
    "bench_import.py": [(["sqlite"], {"JXC_BENCH_ROWS": "20000"}), (["postgresql"], {"JXC_BENCH_ROWS": "20000"})],
}


@dataclass
class Outcome:
    """What one script did."""

    script: str
    status: int | None = None  # exit status; None when it ran out of time
    seconds: float = 0.0
    ratios: list[tuple[str, float, float]] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)


def parse_ratio(line: str) -> tuple[str, float, float] | None:
    """(name, value, target) of a RATIO line, None for any other line."""
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 4 or parts[0] != "RATIO":
        return None
    return parts[1], float(parts[2]), float(parts[3])


def runs(script: Path) -> list[tuple[Path, list[str], dict[str, str]]]:
    """The runs of one script: (script, arguments, environment), one per ARGUMENTS entry, else one bare run."""
    return [(script, args, {**env, **os.environ}) for args, env in ARGUMENTS.get(script.name, [([], {})])]


def run(script: Path, args: list[str] | None = None, env: dict[str, str] | None = None) -> Outcome:
    """Run one benchmark (with these arguments and environment), echoing its output, and collect its RATIO lines."""
    args = args or []
    outcome = Outcome(":".join([script.name, *args]))
    started = time.monotonic()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    print(f"== {' '.join([str(shown), *args])}", flush=True)
    process = subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    deadline = started + TIMEOUT
    try:
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith("RATIO"):
                try:
                    ratio = parse_ratio(line)
                except ValueError:
                    ratio = None
                if ratio is None:
                    outcome.bad_lines.append(line.strip())
                else:
                    outcome.ratios.append(ratio)
            if time.monotonic() > deadline:
                process.kill()
                break
        outcome.status = process.wait(timeout=max(deadline - time.monotonic(), 1))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if time.monotonic() > deadline:
        outcome.status = None
    outcome.seconds = time.monotonic() - started
    return outcome


def table(outcomes: list[Outcome], total: float) -> str:
    """The summary: one row per ratio, a failed script as one row of its own, and the wall time of the whole
    run (against the budget of `make bench`, BUDGET seconds)."""
    rows = [("script", "ratio", "value", "target", "verdict")]
    for o in outcomes:
        failed = o.status != 0
        state = "timed out" if o.status is None else f"failed (exit {o.status})"
        for name, value, target in o.ratios:
            rows.append((o.script, name, f"{value:.2f}", f"{target:g}", "met" if value <= target else "MISSED"))
        for line in o.bad_lines:
            rows.append((o.script, line[:40], "", "", "malformed RATIO line"))
        if failed:
            rows.append((o.script, "", "", "", f"{state} after {o.seconds:.0f} s"))
        elif not o.ratios:
            rows.append((o.script, "(no RATIO lines)", "", "", f"ran {o.seconds:.0f} s"))
    rows.append(("(all)", "wall time, s", f"{total:.0f}", f"{BUDGET:g}", "met" if total <= BUDGET else "MISSED"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    """Run the named scripts (default: every bench_*.py), print the table; 1 when a script failed."""
    names = sys.argv[1:]
    scripts = [HERE / n for n in names] if names else sorted(HERE.glob("bench_*.py"))
    started = time.monotonic()
    outcomes = [run(*one) for script in scripts for one in runs(script)]
    total = time.monotonic() - started
    print()
    load = os.getloadavg()[0]
    print(f"== make bench: {len(outcomes)} runs of {len(scripts)} scripts in {total:.0f} s (load: {load:.1f})")
    for o in outcomes:
        print(f"   {o.script}: {o.seconds:.0f} s")
    print(table(outcomes, total))
    met = sum(1 for o in outcomes for _, v, t in o.ratios if v <= t)
    count = sum(len(o.ratios) for o in outcomes)
    failed = [o.script for o in outcomes if o.status != 0]
    print(f"{met} of {count} ratios met; {len(failed)} script(s) failed{': ' + ', '.join(failed) if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

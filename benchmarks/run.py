"""`make bench`: named benchmark cases, each timed in a fresh subprocess.

    python -m benchmarks.run                      # every case
    python -m benchmarks.run --quick              # weekly_cli_20k, api_20, weekly_200k (< 10 min)
    python -m benchmarks.run --cases weekly_20k,drift_20k
    python -m benchmarks.run --list

Each case prints ONE JSON line (case, households, seconds, peak_rss_mb, stages, households_per_second,
machine, date, ...), appends it to ``benchmarks/results.jsonl`` and ``benchmarks/RESULTS.md`` is
rewritten from the newest line of every case. Each result is then compared with the newest earlier
row of its case on the same machine kind (``benchmarks.compare``): a table of changes, any figure
more than 20 % slower marked. A case's set-up (simulated data, the benchmark
champion) runs first in its own subprocess and is cached (``benchmarks/prepare.py``), so the timed
subprocess's peak RSS (``ru_maxrss``) and seconds belong to the case alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import compare

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.jsonl"
REPORT = HERE / "RESULTS.md"

# What a developer runs before stopping (under 10 minutes on 2 cores once the set-up is cached):
# the 20k week as a user runs it, the API under 20 clients and a 200k week.
QUICK = ("weekly_cli_20k", "api_20", "weekly_200k")


def machine() -> dict:
    """Where a figure was measured: cores, Python, load average at the start of the case."""
    try:
        import psutil

        memory_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # psutil comes with the dev extra; the figure is optional
        memory_gb = None
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "memory_gb": memory_gb,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def registry() -> dict:
    from benchmarks import cases

    return cases.CASES


def run_child(name: str) -> dict:
    """Run one case in a fresh interpreter; its peak RSS is the child's own ``ru_maxrss``."""
    cases = registry()
    case = cases[name]
    if case.prepare is not None:
        prep = subprocess.run([sys.executable, "-m", "benchmarks.run", "--prepare", name],
                              capture_output=True, text=True)
        if prep.returncode != 0:
            return {"case": name, "error": "prepare failed: " + prep.stderr.strip()[-800:]}
    load = machine()["load_average"]
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--child", name], capture_output=True, text=True)
    wall = time.perf_counter() - started
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"case": name, "error": (proc.stderr.strip() or proc.stdout.strip())[-1500:], "load_at_start": load}
    result = json.loads(lines[-1])
    result["wall_with_startup_seconds"] = round(wall, 2)
    return result


def child(name: str) -> None:
    """Inside the fresh interpreter: run the case, add peak RSS, print one JSON line."""
    cases = registry()
    mach = machine()
    before = resource.getrusage(resource.RUSAGE_SELF)
    out = cases[name].run()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # CPU seconds of the case (this process; threads included): unlike wall time, barely moved
    # by other work on the machine, so figures taken under load stay comparable.
    cpu = (usage.ru_utime - before.ru_utime) + (usage.ru_stime - before.ru_stime)
    peak_mb = usage.ru_maxrss / 1024  # Linux: KiB
    cpu += out.pop("_children_cpu_seconds", 0.0)  # a case that runs the command as a user would
    for extra in out.pop("_children_rss_mb", []):
        peak_mb = max(peak_mb, extra)
    households = out.get("households")
    seconds = out["seconds"]
    record = {
        "case": name,
        "family": cases[name].family,
        "households": households,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "households_per_second": round(households / seconds, 1) if households and seconds else None,
        **{k: v for k, v in out.items() if k not in ("seconds", "households")},
        "machine": {**mach, "load_average_end": [round(x, 2) for x in os.getloadavg()]},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(record, ensure_ascii=False, default=str), flush=True)


def _rows(results: Path = RESULTS) -> list[dict]:
    return [json.loads(ln) for ln in results.read_text(encoding="utf-8").splitlines() if ln.strip()] \
        if results.exists() else []


def write_report(path: Path = REPORT, results: Path = RESULTS) -> None:
    """RESULTS.md: the newest line of each case, one table per case family."""
    from benchmarks.report import render

    path.write_text(render(_rows(results)), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fanpin benchmarks")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--list", action="store_true", help="list the cases")
    parser.add_argument("--no-save", action="store_true", help="print only; do not touch results files")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from results.jsonl")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        child(args.child)
        return 0
    if args.prepare:
        registry()[args.prepare].prepare()
        return 0
    cases = registry()
    if args.list:
        for name, case in cases.items():
            print(f"{name:24s} {case.family:10s} {case.doc}")
        return 0
    if args.report_only:
        write_report()
        return 0
    names = list(QUICK) if args.quick else list(cases)
    if args.cases:
        names = [n.strip() for n in args.cases.split(",") if n.strip()]
        unknown = [n for n in names if n not in cases]
        if unknown:
            parser.error(f"unknown case(s) {', '.join(unknown)}; see --list")
    failed = 0
    for name in names:
        result = run_child(name)
        print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
        if "error" in result:
            failed += 1
            continue
        print(compare.table(result, compare.previous_row(_rows(), result)), flush=True)
        if not args.no_save:
            with RESULTS.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
            write_report()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

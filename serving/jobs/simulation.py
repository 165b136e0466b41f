"""Simulating a county folder (``fanpin simulate``, the demo, tests and benchmarks): the
simulator's county written as a registry would export it, with its realism summary."""

from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path
from typing import Any

from features.weeks import Week

log = logging.getLogger(__name__)


def simulate_folder(out: Path, households: int, seed: int, start: date, end: date,
                    scenario: str = "baseline", scenario_week: Week | None = None,
                    oracle_sample: int = 2000, oracle_replicas: int = 60,
                    floods: tuple = ()) -> dict[str, Any]:
    """Simulate the county and write it to ``out``; returns the realism summary.

    ``floods``: scenario floods written into the history (``PlannedFlood``; default none).

    The simulator logs how far it is (``features.progress``); the CLI shows it.
    """
    from features.simulator import SCENARIOS, simulate_county, summarise, write_county

    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r} ({', '.join(SCENARIOS)})")
    t0, cpu0 = time.perf_counter(), time.process_time()
    from features.simulator.parameters import Parameters

    run = simulate_county(households, seed, start, end, oracle_sample=oracle_sample, oracle_replicas=oracle_replicas,
                          params=Parameters(planned_floods=tuple(floods)) if floods else None)
    log.info("writing the county folder %s", out)
    summary = summarise(run)
    scn = write_county(run, out, summary, scenario, scenario_week)
    # cpu_seconds: the simulator is single-threaded NumPy, so CPU time is what an idle machine's
    # wall clock would show; seconds is the wall clock of this run
    return {**summary, "scenario": scn, "seconds": round(time.perf_counter() - t0, 1),
            "cpu_seconds": round(time.process_time() - cpu0, 1), "out": str(out)}

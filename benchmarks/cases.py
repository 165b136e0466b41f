"""The benchmark cases. Each ``run()`` returns seconds, households and per-stage seconds; set-up
(``prepare()``) is cached and runs in its own subprocess before the timed one."""

from __future__ import annotations

import pickle
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import prepare as prep


@dataclass(frozen=True)
class Case:
    family: str
    doc: str
    run: Callable[[], dict[str, Any]]
    prepare: Callable[[], Any] | None = None


# -- the weekly job -------------------------------------------------------------------------------
def _weekly_prepare(n: int) -> None:
    prep.snapshot_home(n)
    prep.champion()


def _weekly_run(n: int) -> dict[str, Any]:
    """run_week end to end on a snapshot export of ``n`` households (history seeded a week back)."""
    from serving.settings import Settings
    from serving.weekly import run_week

    paths = prep.snapshot_home(n)
    champion = prep.champion()
    with tempfile.TemporaryDirectory(prefix="fanpin-bench-") as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(paths["home"], home)
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'fanpin.db'}")
        started = time.perf_counter()
        result = run_week(paths["folder"], prep.WEEK, settings, champion=champion)
        seconds = time.perf_counter() - started
    stages = dict(result["stages"]["seconds"])
    return {
        "households": result["households_scored"],
        "seconds": seconds,
        "stages": stages,
        "households_in": result["households_in"],
        "watchlist_size": result["watchlist_size"],
        "rows_quarantined": result["rows_quarantined"],
        "drift": result["stages"].get("drift"),
        "store": "sqlite",
        "model": {k: champion.params.get(k) for k in ("n_estimators", "num_leaves")},
    }


# -- simulation and training -----------------------------------------------------------------------
def _simulate_run(n: int) -> dict[str, Any]:
    folder, seconds = prep.county(n, force=True)
    return {"households": n, "seconds": seconds, "years": 7, "folder": str(folder)}


def _train_prepare(n: int) -> None:
    prep.county(n)


def _train_run(n: int) -> dict[str, Any]:
    """The training package's fit_and_evaluate (rows, tuning, fit, baselines, lead-time backtest)."""
    from features.policy import load_policy
    from training.config import default_config
    from training.county_data import read_history, read_oracle
    from training.train import fit_and_evaluate

    folder, _ = prep.county(n)
    tables, _ = read_history(folder)
    oracle = read_oracle(folder)
    started = time.perf_counter()
    result = fit_and_evaluate(tables, load_policy(), default_config(), oracle=oracle)
    seconds = time.perf_counter() - started
    m = result.metrics
    return {
        "households": n, "seconds": seconds,
        "stages": {k: round(v, 3) for k, v in result.seconds.items() if k != "total"},
        "train_rows": result.counts["train_rows"], "auc": m["auc"], "rules_auc": m["rules_auc"],
        "best_params": {k: result.best_params.get(k) for k in ("n_estimators", "num_leaves")},
    }


# -- drift -------------------------------------------------------------------------------------------
def _drift_prepare(n: int) -> None:
    _weekly_prepare(n)
    path = prep.cache_dir() / f"drift-frame-{n}.pkl"
    if path.exists():
        return
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from serving.history import load_history
    from serving.weekly import week_cutoff

    history = load_history(Path(prep.snapshot_home(n)["home"]))
    frame = build_household_frame(history.tables, week_cutoff(prep.WEEK) - __import__("pandas").Timedelta(days=7),
                                  load_policy())
    probability = prep.champion().model.predict_proba(frame)[:, 1]
    path.write_bytes(pickle.dumps((frame, probability, history.tables)))


def _drift_run(n: int) -> dict[str, Any]:
    from monitoring.drift import check_week

    frame, probability, tables = pickle.loads((prep.cache_dir() / f"drift-frame-{n}.pkl").read_bytes())
    reference = prep.champion().reference
    started = time.perf_counter()
    result = check_week(frame, reference, week=prep.WEEK, predictions=probability, raw_tables=tables)
    seconds = time.perf_counter() - started
    return {"households": len(frame), "seconds": seconds, "alerts": len(result.alerts),
            "summary": {k: v for k, v in dict(result.summary).items() if isinstance(v, (int, float, str, bool))}}


CASES: dict[str, Case] = {
    **{
        f"weekly_{label}": Case("weekly", f"weekly job end to end, {n:,} households (snapshot export)",
                                partial(_weekly_run, n), partial(_weekly_prepare, n))
        for label, n in (("20k", 20_000), ("200k", 200_000), ("1m", 1_000_000))
    },
    "simulate_20k": Case("simulate", "simulate 20,000 households x 7 years and write the county folder",
                         partial(_simulate_run, 20_000)),
    "train_20k": Case("training", "fit_and_evaluate on the simulated 20,000-household county",
                      partial(_train_run, 20_000), partial(_train_prepare, 20_000)),
    "drift_20k": Case("drift", "monitoring.drift.check_week on one week of 20,000 households",
                      partial(_drift_run, 20_000), partial(_drift_prepare, 20_000)),
}

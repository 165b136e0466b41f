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


def _import_job_modules() -> float:
    """Import what the weekly job imports lazily (pandera, LightGBM, Evidently, SQLAlchemy models)
    before the clock starts: that is interpreter start-up, reported apart as ``import_seconds``."""
    started = time.perf_counter()
    import features.reading  # noqa: F401
    import models.explanation  # noqa: F401
    import monitoring.drift  # noqa: F401
    import serving.store.publishing  # noqa: F401

    try:
        import evidently  # noqa: F401
        from evidently import Report  # noqa: F401
        from evidently.legacy.calculations.stattests import get_stattest  # noqa: F401  (~3 s alone)
        from evidently.metrics import ValueDrift  # noqa: F401
    except ImportError:
        pass
    return round(time.perf_counter() - started, 2)


# -- the weekly job -------------------------------------------------------------------------------
def _weekly_prepare(n: int) -> None:
    prep.snapshot_home(n)
    prep.champion()


def _weekly_run(n: int) -> dict[str, Any]:
    """run_week end to end on a snapshot export of ``n`` households (history seeded a week back)."""
    from serving.jobs.weekly import run_week
    from serving.settings import Settings

    paths = prep.snapshot_home(n)
    champion = prep.champion()
    imports = _import_job_modules()
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
        "import_seconds": imports,
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
def _drift_frame_path(n: int) -> Path:
    return prep.cache_dir("features", "models", "training", "monitoring") / f"drift-frame-{n}.pkl"


def _drift_prepare(n: int) -> None:
    _weekly_prepare(n)
    path = _drift_frame_path(n)
    if path.exists():
        return
    from features.household_frame import build_household_frame
    from features.policy import load_policy
    from serving.jobs.week_run import week_cutoff
    from training.county_data import read_history

    tables, _ = read_history(prep.snapshot_home(n)["folder"])
    frame = build_household_frame(tables, week_cutoff(prep.WEEK), load_policy())
    probability = prep.champion().model.predict_proba(frame)[:, 1]
    path.write_bytes(pickle.dumps((frame, probability, tables)))


def _drift_run(n: int) -> dict[str, Any]:
    from monitoring.drift import check_week

    frame, probability, tables = pickle.loads((_drift_frame_path(n)).read_bytes())
    reference = prep.champion().reference
    started = time.perf_counter()
    result = check_week(frame, reference, week=prep.WEEK, predictions=probability, raw_tables=tables)
    seconds = time.perf_counter() - started
    return {"households": len(frame), "seconds": seconds, "alerts": len(result.alerts),
            "summary": {k: v for k, v in dict(result.summary).items() if isinstance(v, (int, float, str, bool))}}


# -- explanations: AUC against explanation cost (benchmarks/explain_bench.py) -------------------------
EXPLAIN_COUNTY = 3000


def _explain_prepare() -> None:
    prep.county(EXPLAIN_COUNTY)


def _explain_run() -> dict[str, Any]:
    from benchmarks import explain_bench

    started = time.perf_counter()
    result = explain_bench.run(EXPLAIN_COUNTY, explain_rows=2000)
    return {"households": 2000, "seconds": time.perf_counter() - started, "county_households": EXPLAIN_COUNTY,
            "train_rows": result["train_rows"], "test_rows": result["test_rows"], "sizes": result["sizes"]}


# -- the API under load (benchmarks/api_load.py) ------------------------------
API_HOUSEHOLDS = 20_000
API_TARGETS = {"GET /api/v1/households/{id}": (20, "p99 < 50 ms"), "GET /api/v1/weeks/{week}/watchlist": (20, "p99 < 150 ms"),
               "GET /watchlist (web page)": (20, "p99 < 150 ms")}


def _api_home() -> Path:
    return prep.cache_dir("features", "models", "training", "serving/migrations") / f"api-home-{API_HOUSEHOLDS}"


def _api_prepare() -> None:
    """A store with one published 20,000-household week (the weekly job on the snapshot)."""
    from serving.jobs.weekly import run_week
    from serving.settings import Settings

    home = _api_home()
    if (home / "READY").exists():
        return
    if home.exists():
        shutil.rmtree(home)
    paths = prep.snapshot_home(API_HOUSEHOLDS)
    champion = prep.champion()
    shutil.copytree(paths["home"], home)
    run_week(paths["folder"], prep.WEEK, Settings(home=home, database_url=f"sqlite:///{home / 'fanpin.db'}"),
             champion=champion)
    (home / "READY").write_text("ok")


def _api_run(clients: int, seconds: float = 20.0) -> dict[str, Any]:
    """`fanpin serve` on 127.0.0.1 over the prepared store; detail, JSON list and web list page under load."""
    import os

    import psutil

    home = _api_home()
    os.environ["FANPIN_HOME"] = str(home)
    os.environ["FANPIN_DATABASE_URL"] = f"sqlite:///{home / 'fanpin.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{home / 'mlflow.db'}"
    from benchmarks import api_load

    proc, base, username, password = api_load.local_server_and_user()
    started = time.perf_counter()
    server_rss, workers = 0.0, []
    try:
        measured = api_load.measure(base, username, password, clients=clients, seconds=seconds)
        server = psutil.Process(proc.pid)
        helpers = server.children(recursive=True)  # `fanpin serve` runs one worker process per core
        workers = [p for p in helpers if "spawn_main" in " ".join(p.cmdline())]
        server_rss = sum(p.memory_info().rss for p in [server, *helpers]) / 2**20
    finally:
        api_load.stop_server(proc)
        api_load.remove_user(username)
    endpoints = []
    for ep in measured["endpoints"]:
        ep = {**ep, "throughput": ep.get("throughput_rps")}
        wanted = API_TARGETS.get(ep["endpoint"])
        ep["target"] = wanted[1] if wanted and wanted[0] == clients else ""
        endpoints.append(ep)
    return {"households": None, "seconds": time.perf_counter() - started, "clients": clients,
            "store_households": API_HOUSEHOLDS, "watchlist": measured["watchlist"], "store": "sqlite",
            "endpoints": endpoints, "server_workers": len(workers) or 1, "_children_rss_mb": [server_rss]}


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
    "explain_models": Case("explain", "AUC against TreeSHAP cost for 4 model sizes (2,000 households explained)",
                           _explain_run, _explain_prepare),
    **{
        f"api_{c}": Case("api", f"API load: household detail and watch-list page, {c} concurrent clients",
                         partial(_api_run, c), _api_prepare)
        for c in (1, 20, 100)
    },
    "drift_20k": Case("drift", "monitoring.drift.check_week on one week of 20,000 households",
                      partial(_drift_run, 20_000), partial(_drift_prepare, 20_000)),
}

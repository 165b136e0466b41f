"""The weekly job on local Spark (``serving.jobs.spark_weekly``) beside the local engine: the same
snapshot export and champion as the ``weekly_*`` cases, into SQLite or PostgreSQL
(``FANPIN_BENCH_POSTGRES_URL``), with the store's bulk load measured on its own.

CPU seconds: the case's process (the driver) plus the Spark JVM and its Python workers, read with
psutil before the session stops (the executors do the scoring; the driver's own figure alone would
miss it)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import prepare as prep
from benchmarks.store_growth import POSTGRES_ENV, _fresh_postgres

MASTER = "local[2]"


def _descendants_cpu() -> tuple[float, float]:
    """(CPU seconds, peak-ish RSS MB) of this process's live descendants (the JVM, Python workers)."""
    import psutil

    cpu, rss = 0.0, 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            cpu += t.user + t.system + t.children_user + t.children_system
            rss += child.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            continue
    return cpu, rss


def _store_rows(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, func, select

    from serving.store import models as m

    engine = create_engine(url)
    with engine.connect() as conn:
        run = conn.execute(select(m.Week.published_run_id)).scalar_one()
        counts = {t.__tablename__: int(conn.execute(select(func.count()).select_from(t).where(key == run))
                                       .scalar_one())
                  for t, key in ((m.Score, m.Score.run_id), (m.WatchlistEntry, m.WatchlistEntry.run_id),
                                 (m.WeekDocument, m.WeekDocument.run_id), (m.WeekInput, m.WeekInput.run_id),
                                 (m.RegistryVersion, m.RegistryVersion.since_run_id))}
    engine.dispose()
    return counts


def spark_prepare(n: int) -> None:
    prep.snapshot_home(n)
    prep.champion()


def spark_run(n: int, store: str) -> dict[str, Any]:
    """``run_week_spark`` end to end on the snapshot export of ``n`` households."""
    from serving.jobs.spark_weekly import run_week_spark, spark_session
    from serving.settings import Settings

    paths = prep.snapshot_home(n)
    champion = prep.champion()
    os.environ.setdefault("FANPIN_MAX_FILE_MB", "4096")
    drop = None
    with tempfile.TemporaryDirectory(prefix="fanpin-bench-spark-") as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(paths["home"], home)
        if store == "postgres":
            base = os.environ.get(POSTGRES_ENV)
            if not base:
                raise RuntimeError(f"{POSTGRES_ENV} is not set")
            url, drop = _fresh_postgres(base)
        else:
            url = f"sqlite:///{home / 'fanpin.db'}"
        try:
            started = time.perf_counter()
            spark = spark_session(MASTER)
            session_seconds = time.perf_counter() - started
            result = run_week_spark(paths["folder"], prep.WEEK, Settings(home=home, database_url=url),
                                    champion=champion, master=MASTER)
            seconds = time.perf_counter() - started
            executor_cpu, executor_rss = _descendants_cpu()
            rows = _store_rows(url)
            spark.stop()
        finally:
            if drop is not None:
                drop()
    stages = {"session": round(session_seconds, 2), **result["stages"]["seconds"]}
    stage_seconds = stages.get("stage") or 0.0
    return {
        "households": result["households_scored"],
        "seconds": seconds,
        "stages": stages,
        "engine": "spark",
        "master": MASTER,
        "partitions": result["stages"].get("partitions"),
        "watchlist_size": result["watchlist_size"],
        "drift": result["stages"].get("drift"),
        "model_health": (result["stages"].get("model_health") or {}).get("status"),
        "department_warnings": sum(result["department_warnings"].values()),
        "store": store,
        "store_rows": rows,
        # The bulk load alone: every staged row of the week (scores, watch list, registry versions,
        # model inputs, documents) over the "stage" stage's seconds, in households per second.
        "bulk_load_households_per_second": round(result["households_scored"] / stage_seconds, 1)
        if stage_seconds else None,
        "executor_cpu_seconds": round(executor_cpu, 2),  # the JVM and its Python workers (in cpu_seconds too)
        "_children_cpu_seconds": executor_cpu,
        "_children_rss_mb": [executor_rss],
    }

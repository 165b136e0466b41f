"""How the store grows: bytes per household per week over twelve published weeks of a simulated
county, and what that makes a year for a county or a province.

The first week stores everything once; the figure that decides a year's size is the growth of
each later week (registry rows that did not change should cost nothing). Sizes are what the
database holds on disk: the SQLite file (and its WAL), or PostgreSQL's relation sizes (tables,
indexes and TOAST) of the store's schema.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import prepare as prep

WEEKS = 12
YEAR_FOR = (20_000, 200_000, 1_000_000)
POSTGRES_ENV = "FANPIN_BENCH_POSTGRES_URL"


def store_bytes(engine) -> int:
    """Bytes the store takes on disk now (SQLite file + WAL, or PostgreSQL relations)."""
    from sqlalchemy import text

    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema()")).scalar_one())


def table_bytes(engine) -> dict[str, int]:
    """Bytes per table on disk now, indexes and TOAST included (PostgreSQL; SQLite's dbstat
    virtual table when the build has it, else empty): which table a week's growth goes to."""
    from sqlalchemy import text

    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            try:
                rows = conn.execute(text("SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                                         "LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1")).all()
            except Exception:  # built without SQLITE_ENABLE_DBSTAT_VTAB
                return {}
        else:
            rows = conn.execute(text(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = current_schema()")).all()
    return {str(name): int(size) for name, size in rows if size}


def project_year(first: float, growth: float) -> dict[str, float]:
    """GB a year (the first week plus 51 weeks of growth) for each size of ``YEAR_FOR``."""
    return {f"{n:,}": round(n * (first + 51 * growth) / 1e9, 2) for n in YEAR_FOR}


def _fresh_postgres(base: str):
    """A new schema on the benchmark PostgreSQL (the URL to use, and a function that drops it)."""
    import uuid
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", drop


def growth_prepare(n: int) -> None:
    prep.county(n)
    prep.champion()


def growth_run(n: int, kind: str = "sqlite") -> dict[str, Any]:
    """Twelve consecutive weeks of the simulated county through the weekly job, sizing the store
    after each; ``kind`` is sqlite or postgres (``FANPIN_BENCH_POSTGRES_URL``)."""
    import pandas as pd

    from features.weeks import week_cutoff
    from serving.jobs.weekly import run_week
    from serving.settings import Settings
    from serving.store.database import get_engine
    from serving.weekly.history import import_history

    folder, _ = prep.county(n)
    champion = prep.champion()
    weeks = sorted(p.name for p in (folder / "exports").iterdir() if p.is_dir())[-WEEKS:]
    drop = None
    with tempfile.TemporaryDirectory(prefix="fanpin-bench-store-") as tmp:
        home = Path(tmp) / "home"
        if kind == "postgres":
            base = os.environ.get(POSTGRES_ENV)
            if not base:
                raise RuntimeError(f"{POSTGRES_ENV} is not set")
            url, drop = _fresh_postgres(base)
        else:
            url = f"sqlite:///{home / 'fanpin.db'}"
        try:
            settings = Settings(home=home, database_url=url)
            import_history(folder, settings.ensure_home(), until=week_cutoff(weeks[0]) - pd.Timedelta(days=7))
            engine = get_engine(settings)
            sizes, scored, seconds, tables = [], [], [], []
            started = time.perf_counter()
            for week in weeks:
                result = run_week(folder, week, settings, champion=champion)
                engine.dispose()  # the SQLite WAL is checkpointed when the last connection closes
                sizes.append(store_bytes(engine))
                tables.append(table_bytes(engine))
                scored.append(result["households_scored"])
                seconds.append(result["seconds"])
            total = time.perf_counter() - started
        finally:
            if drop is not None:
                drop()
            shutil.rmtree(home, ignore_errors=True)
    households = max(scored)
    first = sizes[0] / scored[0]
    growth = [(b - a) / h for a, b, h in zip(sizes, sizes[1:], scored[1:], strict=False)]
    later = sum(growth) / len(growth)
    # Per table, bytes per household and later week (the mean over weeks 2-12).
    names = sorted({t for sizes_now in tables for t in sizes_now})
    by_table = {t: round((tables[-1].get(t, 0) - tables[0].get(t, 0)) / sum(scored[1:]), 1) for t in names}
    return {
        "households": households,
        "seconds": total,
        "store": kind,
        "weeks": weeks,
        "store_bytes": sizes,
        "first_week_bytes_per_household": round(first, 1),
        "store_bytes_per_household_week": round(later, 1),
        "growth_per_week_bytes_per_household": [round(g, 1) for g in growth],
        "week_seconds": seconds,
        "year_gb": project_year(first, later),
        "growth_by_table_bytes_per_household_week": {t: b for t, b in by_table.items() if b},
    }

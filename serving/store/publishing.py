"""Publishing a week: stage every row under a run id, then switch the week to it in one transaction.

Readers only ever follow ``weeks.published_run_id``, so rows staged by a run that is still going,
or that was killed, are invisible. The switch (and the run's final counts) is one short
transaction: a crash before its commit leaves the previous run published; after it, the new run
is complete. Rows of superseded and abandoned runs are purged afterwards (their run records stay:
that is the run history), and so are the registry versions they stored that no remaining week
shows (``serving.store.registry``).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from features.masking import shown
from features.weeks import Week
from serving.store import drift_samples, lease, registry
from serving.store import models as m

CHUNK = 20_000  # rows per INSERT batch and per commit (short write locks while the API reads)
# Tables whose rows belong to a run (everything a week publishes).
RUN_TABLES: tuple[type[m.Base], ...] = (
    m.Score,
    m.WatchlistEntry,
    m.Explanation,
    m.WeekDocument,
    m.WeekInput,
    m.QuarantineRow,
    m.DriftResult,
    m.DriftAlert,
    m.DepartmentWarning,
    m.ShadowRun,
    m.ShadowScore,
    m.WeekWork,
)


def utcnow() -> datetime:
    """Naive UTC (the store keeps naive UTC timestamps on both SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


def who() -> str:
    """The operator starting a run (the OS user; CLI runs have no signed-in person)."""
    try:
        return os.environ.get("FANPIN_OPERATOR") or getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


def start_run(engine: Engine, week: Week, *, started_by: str | None = None) -> int:
    """Record a new run of ``week`` holding the week's lease (``serving.store.lease``), and abandon
    earlier unfinished runs of the week (their holder is gone, or the lease could not be taken).

    Raises:
        lease.LeaseHeld: another live run holds the week; this run is recorded as failed.
    """
    with engine.begin() as conn:
        run_id = int(conn.execute(
            insert(m.Run).values(week=week, status="running", started_by=started_by or who(), started_at=utcnow())
        ).inserted_primary_key[0])
    try:
        lease.take(engine, week, run_id)
    except lease.LeaseHeld as error:
        update_run(engine, run_id, status="failed", finished_at=utcnow(), stages={"error": str(error)})
        raise
    with engine.begin() as conn:
        conn.execute(
            update(m.Run).where(m.Run.week == week, m.Run.status == "running", m.Run.id != run_id)
            .values(status="failed", finished_at=utcnow())
        )
    purge(engine)
    return run_id


def update_run(engine: Engine, run_id: int, **values: Any) -> None:
    """Fill in run facts as stages finish (model version, fingerprint, stage statuses)."""
    with engine.begin() as conn:
        conn.execute(update(m.Run).where(m.Run.id == run_id).values(**values))


def _bulk_writer(conn, target) -> Callable[[list[dict[str, Any]]], None]:
    """Insert a batch of row dicts straight through the driver: PostgreSQL COPY, else one DBAPI
    executemany with JSON already encoded (SQLAlchemy's per-row bind processing was most of
    publishing a large week)."""
    from sqlalchemy import JSON
    from sqlalchemy.types import TypeDecorator

    from serving.store.database import json_text

    columns = [c for c in target.columns if not (c.primary_key and c.autoincrement is True and c.name == "id")]
    names = [c.name for c in columns]
    # JSON columns are encoded here; typed columns (compressed JSON) by their own bind step.
    encode = [json_text if isinstance(c.type, JSON)
              else (lambda v, t=c.type: t.process_bind_param(v, conn.dialect)) if isinstance(c.type, TypeDecorator)
              else None for c in columns]
    # The models' scalar defaults (flags False, empty text), which SQLAlchemy would have filled in.
    defaults = [c.default.arg if c.default is not None and c.default.is_scalar else None for c in columns]

    def tuples(batch: list[dict[str, Any]]):
        for row in batch:
            yield tuple(None if (v := row.get(n, d)) is None else (enc(v) if enc else v)
                        for n, enc, d in zip(names, encode, defaults, strict=True))

    quoted = ", ".join(f'"{n}"' for n in names)
    if conn.dialect.name == "postgresql":
        def write(batch: list[dict[str, Any]]) -> None:
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f'COPY "{target.name}" ({quoted}) FROM STDIN') as copy:
                for values in tuples(batch):
                    copy.write_row(values)
        return write

    marks = ", ".join("?" if conn.dialect.paramstyle == "qmark" else "%s" for _ in names)
    sql = f'INSERT INTO "{target.name}" ({quoted}) VALUES ({marks})'

    def write(batch: list[dict[str, Any]]) -> None:
        conn.connection.driver_connection.cursor().executemany(sql, list(tuples(batch)))
    return write


def stage_rows(engine: Engine, table: type[m.Base], rows: Sequence[dict[str, Any]] | Iterable[dict[str, Any]],
               run_id: int) -> int:
    """Bulk-insert rows for a run (COPY or executemany in chunks, one commit each). Returns the
    number of rows."""
    batch: list[dict[str, Any]] = []
    n = 0
    target = table.__table__

    def flush() -> None:
        with engine.begin() as conn:
            _bulk_writer(conn, target)(batch)

    for row in rows:
        batch.append({**row, "run_id": run_id})
        if len(batch) >= CHUNK:
            flush()
            n += len(batch)
            batch = []
    if batch:
        flush()
        n += len(batch)
    return n


def publish(engine: Engine, run_id: int, week: Week, cutoff: date, facts: dict[str, Any],
            before_commit: Callable[[], None] | None = None) -> None:
    """Make ``run_id`` the published run of ``week`` (one transaction), then purge old rows.

    Args:
        engine: the store.
        run_id: a run whose rows are all staged.
        week: ISO week label.
        cutoff: the week's cutoff date.
        facts: final run columns (counts, seconds, ...).
        before_commit: called inside the transaction just before it commits (tests pause here to
            kill the process with the switch written but not committed).
    """
    now = utcnow()
    with engine.begin() as conn:
        lease.hold(conn, week, run_id)  # still the live run of the week, locked until the commit
        previous = conn.execute(select(m.Week.published_run_id).where(m.Week.week == week)).scalar_one_or_none()
        exists = conn.execute(select(m.Week.week).where(m.Week.week == week)).first() is not None
        if exists:
            conn.execute(
                update(m.Week).where(m.Week.week == week).values(published_run_id=run_id, published_at=now, cutoff=cutoff)
            )
        else:
            conn.execute(insert(m.Week).values(week=week, cutoff=cutoff, published_run_id=run_id, published_at=now))
        if previous is not None and previous != run_id:
            conn.execute(update(m.Run).where(m.Run.id == previous).values(status="superseded"))
        published = conn.execute(
            update(m.Run).where(m.Run.id == run_id, m.Run.status == "running")
            .values(status="published", finished_at=now, **facts)
        )
        if published.rowcount != 1:
            raise lease.LeaseLost(f"run {run_id} of {week} was marked failed by another run; nothing published")
        if before_commit is not None:
            before_commit()
    lease.release(engine, week, run_id)
    purge(engine)


def fail_run(engine: Engine, run_id: int, error: str) -> None:
    """Mark a run failed (its staged rows are purged; the published week is untouched)."""
    stages = None
    with engine.connect() as conn:
        stages = conn.execute(select(m.Run.stages).where(m.Run.id == run_id)).scalar_one_or_none()
    # The message may quote a value from the export (an ID number or phone typed in the wrong
    # column): masked by the quarantine lines' rule before it is cut, so a cut cannot split an ID.
    update_run(engine, run_id, status="failed", finished_at=utcnow(),
               stages={**(stages or {}), "error": shown(error, limit=500)})
    with engine.connect() as conn:
        week = conn.execute(select(m.Run.week).where(m.Run.id == run_id)).scalar_one_or_none()
    if week is not None:
        lease.release(engine, week, run_id)
    purge(engine)


def purge(engine: Engine) -> None:
    """Delete the rows of runs that are neither published nor still running."""
    with engine.connect() as conn:
        dead = conn.execute(
            select(m.Run.id).where(m.Run.status.in_(("superseded", "failed")))
        ).scalars().all()
    if not dead:
        return
    for table in RUN_TABLES:
        with engine.begin() as conn:
            conn.execute(delete(table).where(table.run_id.in_(dead)))
    registry.purge(engine, list(dead))
    drift_samples.purge(engine)


def published_run_id(engine: Engine, week: Week) -> int | None:
    """The run a week currently shows (None when never published)."""
    with engine.connect() as conn:
        return conn.execute(select(m.Week.published_run_id).where(m.Week.week == week)).scalar_one_or_none()


def previous_published(engine: Engine, week: Week) -> tuple[Week, int] | None:
    """The latest published week before ``week`` and its run (for change and 'new' flags)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(m.Week.week, m.Week.published_run_id)
            .where(m.Week.week < week, m.Week.published_run_id.is_not(None))
            .order_by(m.Week.week.desc())
            .limit(1)
        ).first()
    return (Week(row[0]), int(row[1])) if row else None

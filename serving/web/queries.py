"""Store queries the pages need beyond ``serving.store.queries``: the watch list filtered by
follow-up status (the latest feedback of the week), villages, quarantined-row counts.

Every function takes the caller's scope (``township`` for a township leader, None for the whole
county) and applies it in SQL, so a leader's page can never read another township's rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from features.weeks import Week
from serving.store import queries as store
from serving.store.filters import Filters
from serving.store.models import Feedback, QuarantineRow, Score

SORTS = {
    "rank": Score.rank,
    "probability": Score.probability,
    "change": Score.change,
    "village": Score.village,
    "township": Score.township,
    "household": Score.household_id,
}
FLAGS = ("new", "rising", "rule_triggered")
NO_FOLLOW_UP = "none"
WORK_FILTERS = ("new", "known")


def _follow_up(db: Session, week: Week, township: str | None, household_ids: list[str] | None = None) -> dict[str, str]:
    """The latest feedback outcome per household for the week (its follow-up status), within a
    township and/or for some households."""
    query = select(Feedback.household_id, Feedback.outcome).where(Feedback.week == week)
    if township:
        query = query.where(Feedback.township == township)
    if household_ids is not None:
        query = query.where(Feedback.household_id.in_(household_ids))
    rows = db.execute(query.order_by(Feedback.created_at, Feedback.id))
    return {household_id: outcome for household_id, outcome in rows}  # the latest one wins


# A published run never changes, so a filter's sorted rows are cached per run (``per_run``); only
# the follow-up status, which officers change all week, is read per request. Bounded by the rows
# held (a large province's unfiltered list holds tens of thousands).
@store.per_run(200_000, getsizeof=len)
def _listed(db: Session, run_id: int, township: str | None, village: str | None, level: str | None,
            flags: tuple[str, ...], sort: str, descending: bool) -> tuple[Any, ...]:
    """Score rows (attribute names as on ``Score``) of a run's filtered watch list, in display order."""
    query = store.watchlist_query(run_id, township=township, village=village, level=level, flags=list(flags))
    query = query.with_only_columns(*Score.__table__.columns)  # plain rows, not ORM objects
    column = SORTS.get(sort, Score.rank)
    # NULL changes (first week) sort last either way; rank breaks ties so paging is stable.
    nulls_last = case((column.is_(None), 1), else_=0)
    query = query.order_by(nulls_last, column.desc() if descending else column.asc(), Score.rank.asc())
    return tuple(db.execute(query).all())


def watchlist(
    db: Session, run: Any, scope: str | None, filters: Filters, *, page: int = 1, per_page: int = 50
) -> tuple[list[tuple[Any, str | None]], int]:
    """One page of the filtered, sorted watch list (score rows with their follow-up status) and the
    total number of matching rows. ``per_page=0`` returns every matching row (the Excel export)."""
    if scope and filters.township not in (None, scope):
        return [], 0
    township = scope or filters.township
    rows = _listed(db, run.id, township, filters.village, filters.level, tuple(filters.flags), filters.sort,
                   filters.descending)
    if filters.work in WORK_FILTERS:  # this week's new work, or the households already known
        from serving.store.followup import week_work

        work = week_work(db, run.id, township)
        rows = tuple(r for r in rows if work.get(r.household_id, ("known", ""))[0] == filters.work)
    if filters.status:  # the whole week's follow-up, to filter by it
        outcomes = _follow_up(db, run.week, township)
        wanted = None if filters.status == NO_FOLLOW_UP else filters.status
        rows = tuple(r for r in rows if outcomes.get(r.household_id) == wanted)
    start = (max(page, 1) - 1) * per_page
    chosen = rows[start:start + per_page] if per_page else rows
    if not filters.status:  # only the shown households' follow-up
        outcomes = _follow_up(db, run.week, township, [r.household_id for r in chosen])
    return [(r, outcomes.get(r.household_id)) for r in chosen], len(rows)


def counts(db: Session, run: Any, scope: str | None) -> dict[str, int]:
    """The week's headline numbers within the caller's scope, plus the week's quarantined rows."""
    return {**store.week_counts(db, run.id, scope), "quarantined": _quarantined(db, run.id)}


@store.per_run(1024)
def _quarantined(db: Session, run_id: int) -> int:
    return int(db.scalar(select(func.count()).select_from(QuarantineRow)
                         .where(QuarantineRow.run_id == run_id, QuarantineRow.kind == "quarantine")) or 0)


def record_feedback(db: Session, who: Any, *, household_id: str, week: Week, township: str, outcome: str,
                    risk_types: list[str], note: str) -> Feedback:
    """Store an officer's visit record and audit it, in one transaction."""
    from serving.access.auth import audit
    from serving.store.publishing import utcnow

    row = Feedback(household_id=household_id, week=week, township=township, outcome=outcome,
                   risk_types=risk_types, note=note, username=who.username, created_at=utcnow())
    db.add(row)
    audit(db, who, "feedback.write", household_id, {"week": week, "outcome": outcome, "via": "web"})
    db.commit()
    return row


def quarantine_page(db: Session, run: Any, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The week's first ``limit`` quarantined rows (``serving.store.queries.quarantine``) and their total."""
    from serving.store import queries as store

    total = db.scalar(
        select(func.count())
        .select_from(QuarantineRow)
        .where(QuarantineRow.run_id == run.id, QuarantineRow.kind == "quarantine")
    )
    return store.quarantine(db, run.id, limit=limit), int(total or 0)

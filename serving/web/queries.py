"""Store queries the pages need beyond ``serving.store.queries``: the watch list filtered by
follow-up status (the latest feedback of the week), villages, quarantined-row counts.

Every function takes the caller's scope (``township`` for a township leader, None for the whole
county) and applies it in SQL, so a leader's page can never read another township's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from serving.store.models import Feedback, HouseholdSnapshot, QuarantineRow, Score

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


@dataclass
class Filters:
    """The watch list's filters, as read from the query string."""

    township: str | None = None
    village: str | None = None
    level: str | None = None
    flags: list[str] = field(default_factory=list)
    status: str | None = None
    sort: str = "rank"
    descending: bool = False

    def as_query(self) -> dict[str, Any]:
        return {
            "township": self.township,
            "village": self.village,
            "level": self.level,
            "flag": list(self.flags),
            "status": self.status,
            "sort": self.sort if self.sort != "rank" else None,
            "dir": "desc" if self.descending else None,
        }


def _latest_feedback_subquery(week: str):
    """Latest feedback outcome per household for the week (the follow-up status)."""
    ranked = (
        select(
            Feedback.household_id,
            Feedback.outcome,
            func.row_number()
            .over(partition_by=Feedback.household_id, order_by=(Feedback.created_at.desc(), Feedback.id.desc()))
            .label("n"),
        )
        .where(Feedback.week == week)
        .subquery()
    )
    return select(ranked.c.household_id, ranked.c.outcome).where(ranked.c.n == 1).subquery()


def _watch_query(run: Any, scope: str | None, filters: Filters):
    latest = _latest_feedback_subquery(run.week)
    query = (
        select(Score, latest.c.outcome)
        .outerjoin(latest, latest.c.household_id == Score.household_id)
        .where(Score.run_id == run.id, Score.on_watchlist.is_(True))
    )
    if scope:
        query = query.where(Score.township == scope)
    if filters.township:
        query = query.where(Score.township == filters.township)
    if filters.village:
        query = query.where(Score.village == filters.village)
    if filters.level:
        query = query.where(Score.level == filters.level)
    for flag in filters.flags:
        column = {"new": Score.flag_new, "rising": Score.flag_rising, "rule_triggered": Score.flag_rule}.get(flag)
        if column is not None:
            query = query.where(column.is_(True))
    if filters.status == NO_FOLLOW_UP:
        query = query.where(latest.c.outcome.is_(None))
    elif filters.status:
        query = query.where(latest.c.outcome == filters.status)
    return query


def watchlist(
    db: Session, run: Any, scope: str | None, filters: Filters, *, page: int = 1, per_page: int = 50
) -> tuple[list[tuple[Score, str | None]], int]:
    """One page of the filtered, sorted watch list and the total number of matching rows.

    ``per_page=0`` returns every matching row (the Excel export).
    """
    query = _watch_query(run, scope, filters)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = SORTS.get(filters.sort, Score.rank)
    # NULL changes (first week) sort last either way; rank breaks ties so paging is stable.
    nulls_last = case((column.is_(None), 1), else_=0)
    order = column.desc() if filters.descending else column.asc()
    query = query.order_by(nulls_last, order, Score.rank.asc())
    if per_page:
        query = query.offset((max(page, 1) - 1) * per_page).limit(per_page)
    return [(score, outcome) for score, outcome in db.execute(query).all()], total


def counts(db: Session, run: Any, scope: str | None) -> dict[str, int]:
    """The week's headline numbers within the caller's scope, plus the week's quarantined rows."""
    from serving.store import queries as store

    numbers = store.week_counts(db, run.id, scope)
    quarantined = db.scalar(
        select(func.count())
        .select_from(QuarantineRow)
        .where(QuarantineRow.run_id == run.id, QuarantineRow.kind == "quarantine")
    )
    return {**numbers, "quarantined": int(quarantined or 0)}


def villages(db: Session, run: Any, township: str | None) -> list[str]:
    query = select(Score.village).where(Score.run_id == run.id)
    if township:
        query = query.where(Score.township == township)
    return list(db.scalars(query.distinct().order_by(Score.village)))


def identities(db: Session, run: Any, household_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Raw identity blocks of some households (mask before showing)."""
    if not household_ids:
        return {}
    rows = db.execute(
        select(HouseholdSnapshot.household_id, HouseholdSnapshot.identity).where(
            HouseholdSnapshot.run_id == run.id, HouseholdSnapshot.household_id.in_(household_ids)
        )
    )
    return {hid: identity or {} for hid, identity in rows}




def record_feedback(db: Session, who: Any, *, household_id: str, week: str, township: str, outcome: str,
                    risk_types: list[str], note: str) -> Feedback:
    """Store an officer's visit record and audit it, in one transaction."""
    from serving.auth import audit
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

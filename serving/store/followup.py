"""What officers already know before a week is scored (``serving.core.new_work.Followup``), and
the townships' capacities as the county last set them.

Read from the ledger: "no risk" verdicts (visits and home checks) within the hold period with the
risk published for the household then; open cases; visits within the hold period; last published
week's criteria. The department warnings are the week's own (the weekly job adds them).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from features.weeks import Week
from serving.core.new_work import Followup
from serving.core.watchlist import WatchlistConfig
from serving.store import models as m
from serving.store.publishing import previous_published
from serving.store.run_cache import per_run


def capacities(engine: Engine) -> dict[str, int]:
    """Township -> the capacity the county last set (townships never set are absent)."""
    latest = select(m.TownshipCapacity.township, func.max(m.TownshipCapacity.id).label("id")).group_by(
        m.TownshipCapacity.township).subquery()
    with engine.connect() as conn:
        rows = conn.execute(select(m.TownshipCapacity.township, m.TownshipCapacity.capacity).join(
            latest, m.TownshipCapacity.id == latest.c.id)).all()
    return {t: int(c) for t, c in rows}


def with_stored_capacities(engine: Engine, config: WatchlistConfig, week: Week | None = None) -> WatchlistConfig:
    """``config`` with the capacities set on the admin page over the file's, and for ``week`` the
    confirmed shock capacity moves in force (``serving.store.capacity_moves``; never below 0)."""
    townships = {**config.townships, **capacities(engine)}
    if week is not None:
        from serving.store.capacity_moves import moves_in_force

        for township, change in moves_in_force(engine, week).items():
            base = townships.get(township, config.default_capacity)
            townships[township] = max(0, int(base) + change)
    return replace(config, townships=townships)


def read_followup(engine: Engine, week: Week, cutoff: date, config: WatchlistConfig) -> Followup:
    """The :class:`Followup` for scoring ``week`` (cutoff ``cutoff``), warnings left empty."""
    since = cutoff - timedelta(weeks=config.hold_weeks)
    with engine.connect() as conn:
        weeks = conn.execute(select(m.Week.week, m.Week.cutoff, m.Week.published_run_id).where(
            m.Week.published_run_id.is_not(None), m.Week.cutoff > since, m.Week.cutoff < cutoff)
            .order_by(m.Week.cutoff)).all()
        run_of = {w: int(r) for w, _, r in weeks}
        feedback = conn.execute(select(m.Feedback.week, m.Feedback.household_id, m.Feedback.outcome).where(
            m.Feedback.week.in_(list(run_of))).order_by(m.Feedback.id)).all()
        checks = conn.execute(select(m.CaseStep.step_date, m.Case.household_id, m.CaseStep.detail).join(
            m.Case, m.Case.id == m.CaseStep.case_id).where(
            m.CaseStep.action == "home_check", m.CaseStep.step_date > since, m.CaseStep.step_date <= cutoff)
            .order_by(m.CaseStep.step_date, m.CaseStep.id)).all()
        handled = set(conn.execute(select(m.Case.household_id).where(m.Case.stage != "closed")).scalars())
        previous = previous_published(engine, week)
        criteria = None if previous is None else dict(conn.execute(
            select(m.Score.household_id, m.Score.criteria_met).where(m.Score.run_id == previous[1])).all())
    visited: set[str] = set()
    judged_in: dict[str, int] = {}  # household -> the run whose risk it was judged against
    for w, household, outcome in feedback:
        visited.add(household)
        if outcome == "not_at_risk":
            judged_in[household] = run_of[w]
        elif outcome in ("confirmed_at_risk", "already_assisted"):
            judged_in.pop(household, None)  # a later verdict "at risk" ends the hold
    for day, household, detail in checks:
        visited.add(household)
        before = [r for _, c, r in weeks if c <= day]
        if not (detail or {}).get("at_risk") and before:
            judged_in[household] = int(before[-1])
        elif (detail or {}).get("at_risk"):
            judged_in.pop(household, None)
    judged: dict[str, float] = {}
    if judged_in:
        with engine.connect() as conn:
            for run_id in set(judged_in.values()):
                ids = [h for h, r in judged_in.items() if r == run_id]
                for i in range(0, len(ids), 500):
                    judged.update(conn.execute(select(m.Score.household_id, m.Score.probability).where(
                        m.Score.run_id == run_id, m.Score.household_id.in_(ids[i:i + 500]))).all())
    return Followup(judged=judged, handled=handled, visited=visited, previous_criteria=criteria)


@per_run(1024)
def _week_work(session: Session, run_id: int, township: str | None) -> dict[str, tuple[str, str]]:
    q = select(m.WeekWork.household_id, m.WeekWork.work, m.WeekWork.why).where(m.WeekWork.run_id == run_id)
    if township:
        q = q.where(m.WeekWork.township == township)
    return {h: (w, y) for h, w, y in session.execute(q)}


def week_work(session: Session, run_id: int, township: str | None = None) -> dict[str, tuple[str, str]]:
    """Household -> (work, why) of a published run, within a township (``serving.core.new_work``);
    empty for weeks published before the split existed."""
    return _week_work(session, run_id, township)


def work_summary(session: Session, run_id: int, township: str | None = None) -> dict:
    """The run's new / known / held counts and the held back by why, within a township (a copy:
    the summary of a published run is worked out once per process)."""
    import copy

    return copy.deepcopy(_work_summary(session, run_id, township))


@per_run(1024)
def _work_summary(session: Session, run_id: int, township: str | None) -> dict:
    import pandas as pd

    from serving.core.new_work import work_counts

    rows = _week_work(session, run_id, township)
    frame = pd.DataFrame([(h, township or "", w, y) for h, (w, y) in rows.items()],
                         columns=["household_id", "township", "work", "why"])
    out = work_counts(frame)
    out.pop("townships", None)
    return out


def capacity_history(session: Session, limit: int = 200) -> list[dict]:
    """The county's capacity changes, newest first."""
    rows = session.scalars(select(m.TownshipCapacity).order_by(m.TownshipCapacity.id.desc()).limit(limit))
    return [{"township": r.township, "capacity": r.capacity, "note": r.note, "changed_by": r.changed_by,
             "changed_at": r.changed_at} for r in rows]


def set_capacity(session: Session, username: str, township: str, capacity: int, note: str) -> None:
    """Record a township's new weekly visit capacity (the next weekly run uses it)."""
    from serving.store.publishing import utcnow

    session.add(m.TownshipCapacity(township=township, capacity=capacity, note=note, changed_by=username,
                                   changed_at=utcnow()))

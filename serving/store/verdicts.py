"""The officers' verdict read from the store: the published weeks' listed households, why each was
listed, and what officers recorded on their visits (``monitoring.verdicts`` does the counting)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitoring.verdicts import COLUMNS, list_group, verdict_table
from serving.store import models as m

RECENT_WEEKS = 13  # a quarter of published weeks: the page's table and the logged figures


def officers_verdict(session: Session, *, township: str | None = None, weeks: int = RECENT_WEEKS) -> pd.DataFrame:
    """``monitoring.verdicts.verdict_table`` over the newest ``weeks`` published weeks, within a
    township (a township leader's scope) or the whole county."""
    published = session.execute(select(m.Week.week, m.Week.published_run_id)
                                .where(m.Week.published_run_id.is_not(None))
                                .order_by(m.Week.week.desc()).limit(weeks)).all()
    if not published:
        return pd.DataFrame(columns=COLUMNS)
    run_week = {run_id: week for week, run_id in published}
    query = (select(m.WatchlistEntry.run_id, m.WatchlistEntry.township, m.WatchlistEntry.household_id,
                    m.WatchlistEntry.reasons, m.Score.probability)
             .join(m.Score, (m.Score.run_id == m.WatchlistEntry.run_id)
                   & (m.Score.household_id == m.WatchlistEntry.household_id))
             .where(m.WatchlistEntry.run_id.in_(list(run_week))))
    feedback = select(m.Feedback.week, m.Feedback.household_id, m.Feedback.outcome).where(
        m.Feedback.week.in_(list(run_week.values())))
    if township is not None:
        query = query.where(m.WatchlistEntry.township == township)
        feedback = feedback.where(m.Feedback.township == township)
    listed = pd.DataFrame(
        [{"week": run_week[r], "township": t, "household_id": h, "group": list_group(reasons or []), "probability": p}
         for r, t, h, reasons, p in session.execute(query)],
        columns=["week", "township", "household_id", "group", "probability"])
    visits = pd.DataFrame(session.execute(feedback.order_by(m.Feedback.created_at, m.Feedback.id)).all(),
                          columns=["week", "household_id", "outcome"])
    return verdict_table(listed, visits)

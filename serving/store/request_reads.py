"""The one query a household read makes on a warm server: the published weeks (which run each
shows) and the household's visit records, in one round trip.

Everything else a household's answer holds belongs to one published run and never changes (a
re-run of a week is a new run with a new id), so the API keeps it per run
(``serving.api.household_answer``); only which run each week shows and the visit records, which
officers add all week, are read per request.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import CompoundSelect, String, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from features.weeks import Week
from serving.store import models as m


@cache
def _statement() -> CompoundSelect:
    fb, wk = m.Feedback.__table__, m.Week.__table__
    # The visit records come first: the union's column types (JSON risk types, timestamps) are theirs.
    visits = select(literal("f", String).label("kind"), fb.c.week, fb.c.id, fb.c.outcome, fb.c.risk_types, fb.c.note,
                    fb.c.username, fb.c.created_at).where(fb.c.household_id == bindparam("household_id"))
    weeks = select(literal("w", String), wk.c.week, wk.c.published_run_id, cast(null(), String),
                   null(), cast(null(), String), cast(null(), String), null()).where(
        wk.c.published_run_id.is_not(None))
    return union_all(visits, weeks)


def weeks_and_feedback(session: Session, household_id: str) -> tuple[list[tuple[Week, int]], list[dict[str, Any]]]:
    """([(week, published run)] newest first, the household's visit records newest first), as
    ``serving.store.queries.weeks`` and ``serving.store.queries.feedback`` order them."""
    published: list[tuple[Week, int]] = []
    visits: list[dict[str, Any]] = []
    for kind, week, number, outcome, risk_types, note, username, created_at in session.execute(
            _statement(), {"household_id": household_id}):
        if kind == "w":
            published.append((Week(week), int(number)))
        else:
            visits.append({"id": number, "week": week, "outcome": outcome, "risk_types": risk_types, "note": note,
                           "username": username, "created_at": created_at})
    published.sort(key=lambda w: w[0], reverse=True)
    visits.sort(key=lambda f: (f["created_at"], f["id"]), reverse=True)
    return published, visits


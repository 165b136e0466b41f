"""The county's decision on a proposed shock capacity move (``serving.weekly.shock``): confirmed or
declined, by whom and when, and the moves in force for a week's list.

A published week's shock record proposes, per hit township, extra weekly visits for the next N
weeks taken from the other townships. The county confirms or declines it once; the decision is an
audit-log row (``action = capacity_move``: who, when, and the move itself in ``detail``), so the
record of who decided is the same table every other decision is audited in. A confirmed move is
an overlay on the townships' capacities (``township_capacities``, the admin page's base) for the
N weeks after the proposing week: the next week's list reads it (``with_stored_capacities``), and
when the weeks have passed the base capacities apply again without anyone resetting them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from features.weeks import Week
from serving.store import models as m

ACTION = "capacity_move"
DECISIONS = ("confirmed", "declined")


def proposals(session: Session, week: Week) -> list[dict[str, Any]]:
    """The capacity moves the published ``week`` proposed (empty when none or not published)."""
    from serving.store import queries

    run_id = queries.published_run(session, week)
    if run_id is None:
        return []
    stages = session.scalar(select(m.Run.stages).where(m.Run.id == run_id)) or {}
    return list((stages.get("shock") or {}).get("proposals") or [])


def decisions(session: Session) -> list[dict[str, Any]]:
    """Every decision, oldest first: week, township, decision, by, at and the move."""
    rows = session.execute(select(m.AuditEntry.at, m.AuditEntry.username, m.AuditEntry.target, m.AuditEntry.detail)
                           .where(m.AuditEntry.action == ACTION).order_by(m.AuditEntry.id)).all()
    return [{**(detail or {}), "township": target, "by": who, "at": at} for at, who, target, detail in rows]


def decide(session: Session, username: str, role: str, week: Week, township: str, decision: str,
           reason: str = "") -> dict[str, Any]:
    """Record the county's ``decision`` on ``week``'s proposal for ``township`` (commit is the
    caller's). Raises ValueError naming what is wrong: unknown decision, no such proposal, or a
    proposal already decided (a decision is final; a new shock week makes a new proposal)."""
    from serving.store.publishing import utcnow

    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    found = [p for p in proposals(session, week) if p.get("township") == township]
    if not found:
        raise ValueError(f"week {week} proposed no capacity move for {township} / {week} 未建议向{township}调配走访力量")
    done = [d for d in decisions(session) if d.get("week") == str(week) and d["township"] == township]
    if done:
        raise ValueError(f"the move for {township} proposed in {week} was already {done[0]['decision']} by "
                         f"{done[0]['by']} / 该建议已由 {done[0]['by']} 处理")
    p = found[0]
    first = Week.of(week.monday + dt.timedelta(weeks=1))
    last = Week.of(week.monday + dt.timedelta(weeks=int(p["weeks"])))
    detail = {"week": str(week), "decision": decision, "reason": reason, "extra_per_week": int(p["extra_per_week"]),
              "taken_from": {str(t): int(k) for t, k in (p.get("taken_from") or {}).items()},
              "weeks": int(p["weeks"]), "first_week": str(first), "last_week": str(last)}
    session.add(m.AuditEntry(at=utcnow(), username=username, role=role, action=ACTION, target=township, detail=detail))
    return {**detail, "township": township, "by": username}


def moves_in_force(engine: Engine, week: Week) -> dict[str, int]:
    """Township -> change of its weekly capacity from the confirmed moves whose weeks hold ``week``
    (the hit township gains its extra visits, the others give what was taken from them)."""
    with Session(engine) as session:
        confirmed = [d for d in decisions(session) if d.get("decision") == "confirmed"]
    out: dict[str, int] = {}
    for d in confirmed:
        if Week(d["first_week"]).monday <= week.monday <= Week(d["last_week"]).monday:
            out[d["township"]] = out.get(d["township"], 0) + int(d["extra_per_week"])
            for t, k in d["taken_from"].items():
                out[t] = out.get(t, 0) - int(k)
    return out

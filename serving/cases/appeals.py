"""A case's public notice and appeal in the store: the objections its notice received, its appeal
and the county's answer (read from the case's steps), and the decided cases as retraining labels.

An appeal that overturned the county's decision makes its case's label an ``appeal`` label: a
household wrongly refused is a positive (1), one wrongly admitted a negative (0).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from serving.store import models as m


def appeal_count(session: Session, case_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(m.CaseStep).where(
        m.CaseStep.case_id == case_id, m.CaseStep.action == "appeal")) or 0)


def appeals(session: Session, case_ids: list[int] | None = None) -> dict[int, dict[str, Any]]:
    """Case -> its appeal: ``lodged`` (date), ``answered`` (date or None), ``overturned`` (None
    until answered); and its notice's objections: ``objections``, ``upheld``."""
    query = select(m.CaseStep.case_id, m.CaseStep.action, m.CaseStep.step_date, m.CaseStep.detail).where(
        m.CaseStep.action.in_(["appeal", "appeal_decision", "objection"])).order_by(m.CaseStep.id)
    if case_ids is not None:
        query = query.where(m.CaseStep.case_id.in_(case_ids))
    out: dict[int, dict[str, Any]] = {}
    for case_id, action, day, detail in session.execute(query):
        row = out.setdefault(case_id, {"lodged": None, "answered": None, "overturned": None, "objections": 0,
                                       "upheld": 0})
        if action == "appeal":
            row["lodged"] = day
        elif action == "appeal_decision":
            row["answered"], row["overturned"] = day, bool((detail or {}).get("overturned"))
        else:
            row["objections"] += 1
            row["upheld"] += bool((detail or {}).get("upheld"))
    return out


NO_APPEAL = {"lodged": None, "answered": None, "overturned": None, "objections": 0, "upheld": 0}


# County decisions are confirmed outcomes: identified = at risk (1), not identified = not (0).
LABELS = {"identified": 1, "eliminated": 1, "social_security": 1, "not_identified": 0, "no_risk_found": 0}


def label_rows(session: Session) -> list[dict[str, Any]]:
    """Decided cases as feedback-shaped rows for the retraining labels, each with its ``source``:
    ``appeal`` when an appeal overturned the county's decision (the outcome is the decision as it
    stands after the appeal: a household wrongly refused is 1, one wrongly admitted 0), else ``case``."""
    cases = list(session.scalars(select(m.Case).where(m.Case.outcome.in_(list(LABELS))).order_by(m.Case.id)))
    found = appeals(session) if cases else {}  # appeal steps are few: read them all
    out = []
    for c in cases:
        appeal = found.get(c.id, NO_APPEAL)
        overturned = bool(appeal["overturned"]) and c.outcome != "no_risk_found"
        note = f"case {c.id}" + (f": appeal overturned {appeal['answered']}" if overturned else "")
        out.append({"household_id": c.household_id, "township": c.township, "week": "",
                    "outcome": f"case_{c.outcome}", "risk_types": "|".join(c.risk_types or []), "note": note,
                    "username": c.created_by, "created_at": c.updated_at,
                    "source": "appeal" if overturned else "case"})
    return out

"""What a published week found beyond the scores: the shock response and the quarter's audit
(kept in the run's stages by the weekly job), as the household and data pages show them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from serving.store import models as m
from serving.weekly.shock import household_note


def week_findings(session: Session, run_id: int | None) -> dict[str, Any]:
    """``shock`` (hit townships, adjustment, proposals) and ``audit`` (sample per township, the
    hidden-hardship estimate) of a published run; empty dicts when the run has none."""
    if run_id is None:
        return {"shock": {}, "audit": {}}
    stages = session.scalar(select(m.Run.stages).where(m.Run.id == run_id)) or {}
    audit = dict(stages.get("audit") or {})
    audit.pop("households", None)  # the page shows counts, not who was drawn
    audit.pop("townships_of", None)
    return {"shock": stages.get("shock") or {}, "audit": audit}


def shock_note(session: Session, run_id: int | None, township: str | None) -> dict[str, str] | None:
    """The household page's line on its township's shock adjustment (None: no shock there)."""
    return household_note(week_findings(session, run_id)["shock"], township)

"""One household's read, shared by the JSON API and the web pages: the published week's bundle
(one joined query), the township scope check, the trend, the explanation (stored, or computed now
with the champion and cached) and the visit history; every read goes to the app's batched audit log.

The API and the pages differ only in how they answer (JSON or HTML); what a person may see of a
household, how it is assembled and how its reading is audited is decided here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from features.weeks import Week
from serving.access import auth
from serving.store import models as m
from serving.store import queries


class HouseholdNotFound(LookupError):
    """Unknown, not scored that week, or outside the reader's township: the same answer for all,
    so nothing leaks about a household another township holds."""


def resolve_week(session: Session, week: Week | None) -> tuple[Week, int] | None:
    """(week, its published run) for the week asked for, or the newest published week when none
    is; None when that week (or any week) has not been published."""
    if week is None:
        weeks = queries.weeks(session)
        return (Week(weeks[0]["week"]), weeks[0]["run_id"]) if weeks else None
    run_id = queries.published_run(session, week)
    return None if run_id is None else (week, run_id)


def score_in_scope(session: Session, who: auth.Principal, run_id: int, household_id: str) -> dict[str, Any]:
    """The household's score row of that run, when the reader may see it."""
    score = queries.score(session, run_id, household_id)
    if score is None or not auth.in_scope(who, score["township"]):
        raise HouseholdNotFound(household_id)
    return score


def reason_missing(session: Session, run_id: int, score: dict[str, Any], outcome: str, note: str) -> bool:
    """True when ``outcome`` judges a top-tenth household "no risk" without a reason
    (``serving.core.new_work.needs_reason``)."""
    from serving.core.new_work import needs_reason

    run = session.get(m.Run, run_id)
    scored = None if run is None else run.households_scored
    return needs_reason(outcome, score.get("rank"), scored) and not note.strip()


NO_RISK_REASON = ("判定高风险户（全县前10%）无风险时须填写理由 / a reason is required when judging a household "
                  "of the county's top tenth by risk \"no risk\"")


def on_demand_explanation(session: Session, champion: Any, policy: Any, run_id: int, household_id: str,
                          facts: dict[str, Any] | None, previous: float | None) -> tuple[dict[str, Any] | None, str]:
    """(explanation, status): computed now with the champion from the stored model input, only if
    the champion is the model that scored this week, then cached in the store."""
    run = session.get(m.Run, run_id)
    if champion is None:
        return None, "unavailable: no champion model loaded / 未加载模型"
    if run is None or str(champion.version) != str(run.model_version):
        return None, "unavailable: the champion changed since this week was scored / 模型已更新"
    if not facts:
        return None, "unavailable: no stored model input / 无模型输入"
    from features.frame_schema import frame_from_facts
    from features.rules import evaluate_rules
    from serving.weekly.explaining import explain_rows

    frame = frame_from_facts([facts])
    previous_of = {household_id: previous} if previous is not None else None
    payload = explain_rows(champion.model, frame, policy, evaluate_rules(frame, policy), previous_of)[0]
    try:
        session.add(m.Explanation(run_id=run_id, household_id=household_id, payload=payload, on_demand=True))
        session.commit()
    except IntegrityError:  # another request cached it first: same content
        session.rollback()
    return payload, "computed on demand"


@dataclass
class HouseholdRead:
    """What one read of a household found (identity and members not yet masked)."""

    week: Week
    run_id: int
    bundle: dict[str, Any]
    trend: list[dict[str, Any]]
    explanation: dict[str, Any] | None
    explanation_status: str
    feedback: list[dict[str, Any]]

    @property
    def score(self) -> dict[str, Any]:
        return self.bundle["score"]


def read_household(session: Session, who: auth.Principal, week: Week, run_id: int, household_id: str, *,
                   champion: Any, policy: Any, audit_log: Any, via: str | None = None) -> HouseholdRead:
    """Everything a household's page or API answer shows of one published week; the read is
    audited through the app's batched ``audit_log`` (``serving.api.audit_log``), ``via`` naming
    where it came from when not the API.

    Raises:
        HouseholdNotFound: not scored that week, or outside the reader's township.
    """
    bundle = queries.household_bundle(session, run_id, household_id)
    if bundle is None or not auth.in_scope(who, bundle["score"]["township"]):
        raise HouseholdNotFound(household_id)
    trend = queries.trend(session, household_id, up_to_week=week)
    explanation, explanation_status = bundle["explanation"], "stored"
    if explanation is None:
        previous = trend[-2]["probability"] if len(trend) >= 2 else None
        explanation, explanation_status = on_demand_explanation(session, champion, policy, run_id, household_id,
                                                                bundle["facts"], previous)
    # Visit notes are free text: masked by content, and none for researchers (``auth.free_text``).
    feedback = [{**f, "note": auth.free_text(f.get("note"), who)} for f in queries.feedback(session, household_id)]
    read = HouseholdRead(week, run_id, bundle, trend, explanation, explanation_status, feedback)
    audit_log.record(who, "household.read", target=household_id,
                     detail={"week": week, **({"via": via} if via else {})})
    return read

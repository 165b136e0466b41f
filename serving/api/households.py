"""One household: scores, trend, explanation, rule triggers, measures, members, feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from features import vocabulary as voc
from serving import auth
from serving.api.deps import HOUSEHOLD_NOT_FOUND, WEEK_NOT_FOUND, SessionDep, require
from serving.api.schemas import NAME_PATTERN, WEEK_PATTERN, FeedbackIn, FeedbackOut, HouseholdOut, Message
from serving.store import models as m
from serving.store import queries
from serving.store.publishing import utcnow

router = APIRouter(tags=["households"])

HouseholdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=NAME_PATTERN,
                                    description="户编号 / household ID")]


def _week_run(session: Session, week: str | None) -> tuple[str, int]:
    if week is None:
        weeks = queries.weeks(session)
        if not weeks:
            raise HTTPException(status.HTTP_404_NOT_FOUND, WEEK_NOT_FOUND)
        return weeks[0]["week"], weeks[0]["run_id"]
    run_id = queries.published_run(session, week)
    if run_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, WEEK_NOT_FOUND)
    return week, run_id


def _score_in_scope(session: Session, who: auth.Principal, run_id: int, household_id: str) -> dict[str, Any]:
    score = queries.score(session, run_id, household_id)
    # Unknown and other-township households get the same answer: nothing leaks about either.
    if score is None or not auth.in_scope(who, score["township"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, HOUSEHOLD_NOT_FOUND)
    return score


def on_demand_explanation(request: Request, session: Session, run_id: int, household_id: str,
                          facts: dict[str, Any] | None, previous: float | None) -> tuple[dict[str, Any] | None, str]:
    """An explanation computed now with the champion (only if the champion scored this week), cached."""
    champion = getattr(request.app.state, "champion", None)
    run = session.get(m.Run, run_id)
    if champion is None:
        return None, "unavailable: no champion model loaded / 未加载模型"
    if run is None or str(champion.version) != str(run.model_version):
        return None, "unavailable: the champion changed since this week was scored / 模型已更新"
    if not facts:
        return None, "unavailable: no stored model input / 无模型输入"
    from features.rules import evaluate_rules
    from serving.explaining import explain_rows, frame_from_facts

    policy = request.app.state.policy
    frame = frame_from_facts([facts])
    previous_of = {household_id: previous} if previous is not None else None
    payload = explain_rows(champion.model, frame, policy, evaluate_rules(frame, policy), previous_of)[0]
    try:
        session.add(m.Explanation(run_id=run_id, household_id=household_id, payload=payload, on_demand=True))
        session.commit()
    except IntegrityError:  # another request cached it first: same content
        session.rollback()
    return payload, "computed on demand"


@router.get("/households/{household_id}", response_model=HouseholdOut,
            responses={404: {"model": Message}, 422: {"model": Message}})
def household(
    request: Request,
    household_id: HouseholdPath,
    session: SessionDep,
    who: Annotated[auth.Principal, Depends(require("household:read"))],
    week: Annotated[str | None, Query(pattern=WEEK_PATTERN, description="ISO week (default: latest)")] = None,
):
    """户详情 / one household in a published week (every read is audited)."""
    week, run_id = _week_run(session, week)
    bundle = queries.household_bundle(session, run_id, household_id)
    # Unknown and other-township households get the same answer: nothing leaks about either.
    if bundle is None or not auth.in_scope(who, bundle["score"]["township"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, HOUSEHOLD_NOT_FOUND)
    trend = queries.trend(session, household_id, up_to_week=week)
    explanation, explanation_status = bundle["explanation"], "stored"
    if explanation is None:
        previous = trend[-2]["probability"] if len(trend) >= 2 else None
        explanation, explanation_status = on_demand_explanation(request, session, run_id, household_id,
                                                                bundle["facts"], previous)
    record = auth.mask_record(bundle["identity"], who) if bundle["identity"] else {"household_id": household_id}
    members = [auth.mask_record(x, who) for x in (bundle["members"] or [])]
    feedback = queries.feedback(session, household_id)
    session.close()  # done reading: the connection goes back in this thread, not in another hop
    request.app.state.audit_log.record(who, "household.read", target=household_id, detail={"week": week})
    body = HouseholdOut(
        household_id=household_id,
        week=week,
        score=bundle["score"],
        watchlist_reasons=bundle["watchlist_reasons"],
        trend=trend,
        explanation=explanation,
        explanation_status=explanation_status,
        rule_triggers=bundle["rule_triggers"],
        measures=(explanation or {}).get("measures", []),
        household=record,
        facts=bundle["facts"] or {},
        members=members,
        feedback=feedback,
    )
    # Already a validated HouseholdOut: serialise once instead of letting FastAPI validate it again
    # (the household page is the hot path; the response model still documents the schema).
    return Response(body.model_dump_json(), media_type="application/json")


@router.post("/households/{household_id}/feedback", response_model=FeedbackOut, status_code=201,
             responses={404: {"model": Message}, 422: {"model": Message}, 403: {"model": Message}})
def add_feedback(
    household_id: HouseholdPath,
    body: FeedbackIn,
    session: SessionDep,
    who: Annotated[auth.Principal, Depends(require("feedback:write"))],
):
    """记录走访结果 / record the outcome of a visit."""
    unknown = [t for t in body.risk_types if t not in voc.RISK_TYPE]
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"unknown risk types / 未知风险类型: {', '.join(unknown)}")
    if body.risk_types and body.outcome != "confirmed_at_risk":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "risk types only with outcome confirmed_at_risk / 仅确认存在风险时填写风险类型")
    _, run_id = _week_run(session, body.week)
    score = _score_in_scope(session, who, run_id, household_id)
    entry = m.Feedback(household_id=household_id, week=body.week, township=score["township"], outcome=body.outcome,
                       risk_types=body.risk_types, note=body.note, username=who.username, created_at=utcnow())
    session.add(entry)
    auth.audit(session, who, "feedback.write", target=household_id, detail={"week": body.week,
                                                                           "outcome": body.outcome})
    session.commit()
    return FeedbackOut(id=entry.id, week=entry.week, outcome=entry.outcome, risk_types=entry.risk_types,
                       note=entry.note, username=entry.username, created_at=entry.created_at)

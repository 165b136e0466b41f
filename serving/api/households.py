"""One household: scores, trend, explanation, rule triggers, measures, members, feedback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status

from features import vocabulary as voc
from serving.access import auth
from serving.api.deps import HOUSEHOLD_NOT_FOUND, SessionDep, published_week, published_week_of, require
from serving.api.schemas import NAME_PATTERN, WEEK_PATTERN, FeedbackIn, FeedbackOut, HouseholdOut, Message
from serving.reads.household import NO_RISK_REASON, HouseholdNotFound, read_household, reason_missing, score_in_scope
from serving.store import models as m
from serving.store.publishing import utcnow

router = APIRouter(tags=["households"])

HouseholdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=NAME_PATTERN,
                                    description="户编号 / household ID")]


@router.get("/households/{household_id}", response_model=HouseholdOut,
            responses={404: {"model": Message}, 422: {"model": Message}})
def household(
    request: Request,
    household_id: HouseholdPath,
    session: SessionDep,
    who: Annotated[auth.Principal, Depends(require("household:read"))],
    week: Annotated[str | None, Query(pattern=WEEK_PATTERN, description="ISO week (default: latest)")] = None,
):
    """户详情 / one household in a published week (every read is audited).

    A warm read is one query (the weeks' runs and the visit records); the rest of the answer is
    kept per published run (``serving.api.household_answer``)."""
    from serving.api import household_answer as answers
    from serving.store.request_reads import weeks_and_feedback
    from serving.store.run_cache import database

    published, visits = weeks_and_feedback(session, household_id)
    week, run_id = published_week_of(published, week)
    kept_as = answers.key(database(session), run_id, household_id, who, published, week)
    kept = answers.get(kept_as)
    if kept is not None:
        session.close()
        township, body = kept
        if not auth.in_scope(who, township):
            raise HTTPException(status.HTTP_404_NOT_FOUND, HOUSEHOLD_NOT_FOUND)
        request.app.state.audit_log.record(who, "household.read", target=household_id, detail={"week": week})
        return Response(answers.with_visits(body, visits, who), media_type="application/json")
    try:
        read = read_household(session, who, week, run_id, household_id,
                              champion=getattr(request.app.state, "champion", None), policy=request.app.state.policy,
                              audit_log=request.app.state.audit_log)
    except HouseholdNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, HOUSEHOLD_NOT_FOUND) from None
    session.close()  # done reading: the connection goes back in this thread, not in another hop
    body = answers.without_visits(read, household_id, who)
    if read.explanation_status == "stored":
        answers.keep(kept_as, read.score["township"], body)
    # Validated once (HouseholdOut) and serialised once; the response model still documents it.
    return Response(answers.with_visits(body, visits, who), media_type="application/json")


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
    _, run_id = published_week(session, body.week)
    try:
        score = score_in_scope(session, who, run_id, household_id)
    except HouseholdNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, HOUSEHOLD_NOT_FOUND) from None
    if reason_missing(session, run_id, score, body.outcome, body.note or ""):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, NO_RISK_REASON)
    entry = m.Feedback(household_id=household_id, week=body.week, township=score["township"], outcome=body.outcome,
                       risk_types=body.risk_types, note=body.note, username=who.username, created_at=utcnow())
    session.add(entry)
    auth.audit(session, who, "feedback.write", target=household_id, detail={"week": body.week,
                                                                           "outcome": body.outcome})
    session.commit()
    return FeedbackOut(id=entry.id, week=entry.week, outcome=entry.outcome, risk_types=entry.risk_types,
                       note=auth.free_text(entry.note, who), username=entry.username, created_at=entry.created_at)

"""From warning to help: the follow-through figures of a published week (``serving.store.follow_through``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from serving.access import auth
from serving.api.deps import SessionDep, published_week, require
from serving.api.schemas import NAME_PATTERN, WEEK_PATTERN, Message
from serving.store import queries
from serving.store.follow_through import figures

router = APIRouter(tags=["follow-through"])
TOWNSHIP_NOT_FOUND = "township not found / 未找到该乡镇"


@router.get("/follow-through", responses={404: {"model": Message}, 403: {"model": Message}})
def follow_through(
    request: Request,
    session: SessionDep,
    who: Annotated[auth.Principal, Depends(require("follow_through:read"))],
    week: Annotated[str | None, Query(pattern=WEEK_PATTERN, description="ISO week (default: the newest)")] = None,
    township: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN, description="乡镇")] = None,
) -> dict[str, Any]:
    """落实情况：预警到帮扶的各环节、遗漏户、预警负担、模型与干部判断 / the funnel from warning to help,
    missed households, alert burden, the model and the officers (a township leader: their own township)."""
    week, run_id = published_week(session, week)
    scope = auth.township_scope(who)
    if scope is not None and township not in (None, scope):
        raise HTTPException(status.HTTP_404_NOT_FOUND, TOWNSHIP_NOT_FOUND)
    township = scope or township
    if township is not None and township not in queries.townships(session, run_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, TOWNSHIP_NOT_FOUND)
    return figures(session, request.app.state.settings.home, week, township,
                   appeal_days=request.app.state.policy.cases["appeal_answer_days"])

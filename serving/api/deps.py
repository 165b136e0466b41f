"""Request dependencies: a database session, the signed-in principal, role checks.

FastAPI runs every plain ``def`` dependency in the thread pool, one hop each (a generator two:
enter and exit). Under load those hops, not the queries, dominated a request, so the dependencies
run on the event loop and only go to a thread for I/O: the session connects on first use (in the
endpoint's thread), a recently seen token is answered from ``serving.access.auth``'s cache, and the role
check is pure. A request then costs one hop, the endpoint's.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from features.weeks import Week
from serving.access import auth
from serving.api.schemas import WEEK_PATTERN

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

NOT_SIGNED_IN = "not signed in or token expired / 未登录或登录已过期"
FORBIDDEN = "your role may not do this / 您的角色无权进行此操作"
HOUSEHOLD_NOT_FOUND = "household not found in this week / 本周未找到该户"
WEEK_NOT_FOUND = "week not published / 该周尚未发布"


def _asked(week: str) -> Week:
    """The week a request names. Only the canonical spelling names a published week (as the path's
    pattern requires), and a week its year does not have (2021-W53, 1054-W53: the pattern lets them
    through) is not found either, never a server error."""
    if not re.match(WEEK_PATTERN, week):
        raise HTTPException(status.HTTP_404_NOT_FOUND, WEEK_NOT_FOUND)
    try:
        return Week.parse(week)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, WEEK_NOT_FOUND) from None


def published_week(session: Session, week: str | None) -> tuple[Week, int]:
    """(week, its published run) for the week a request names (parsed here, at the edge) or the
    newest (``serving.reads.household.resolve_week``); 404 when not published."""
    from serving.reads.household import resolve_week

    asked = _asked(week) if week is not None else None
    found = resolve_week(session, asked)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, WEEK_NOT_FOUND)
    return found


def published_week_of(published: list[tuple[Week, int]], week: str | None) -> tuple[Week, int]:
    """``published_week`` over the published weeks already read ([(week, run)] newest first)."""
    if week is None:
        if not published:
            raise HTTPException(status.HTTP_404_NOT_FOUND, WEEK_NOT_FOUND)
        return published[0]
    asked = _asked(week)
    for label, run_id in published:
        if label == asked:
            return label, run_id
    raise HTTPException(status.HTTP_404_NOT_FOUND, WEEK_NOT_FOUND)


WeekPath = Annotated[str, Path(pattern=WEEK_PATTERN, description="ISO week, e.g. 2025-W48",
                               examples=["2025-W48"])]


# Closing a session that still holds a connection (a read-only request) may be a round trip, so
# it goes to a thread, but to threads of its own: if it queued behind request threads that wait
# for a free connection, the connection it returns would never come back (a deadlock under load).
_CLOSERS = anyio.CapacityLimiter(8)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A store session for the request; it connects on first use (in the endpoint's thread)."""
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await anyio.to_thread.run_sync(session.close, limiter=_CLOSERS)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def _verify(session: Session, token: str) -> auth.Principal | None:
    try:
        return auth.principal_for_token(session, token)
    finally:
        session.rollback()  # hand the connection back: the endpoint's thread takes one when it needs it


async def current_principal(session: SessionDep, token: Annotated[str | None, Depends(oauth2)]) -> auth.Principal:
    """The token's user: from the short-lived cache on the event loop, else the store in a thread."""
    who = None
    if token:
        who = auth.cached_principal(session, token) or await run_in_threadpool(_verify, session, token)
    if who is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, NOT_SIGNED_IN, headers={"WWW-Authenticate": "Bearer"})
    return who


PrincipalDep = Annotated[auth.Principal, Depends(current_principal)]


def require(action: str):
    """A dependency that lets only roles allowed to do ``action`` through (403 otherwise)."""

    async def check(who: PrincipalDep) -> auth.Principal:  # no I/O: stays on the event loop
        if not auth.allowed(who, action):
            raise HTTPException(status.HTTP_403_FORBIDDEN, FORBIDDEN)
        return who

    return check

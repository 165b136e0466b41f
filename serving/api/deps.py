"""Request dependencies: a database session, the signed-in principal, role checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from serving import auth
from serving.api.schemas import WEEK_PATTERN

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

NOT_SIGNED_IN = "not signed in or token expired / 未登录或登录已过期"
FORBIDDEN = "your role may not do this / 您的角色无权进行此操作"
HOUSEHOLD_NOT_FOUND = "household not found in this week / 本周未找到该户"
WEEK_NOT_FOUND = "week not published / 该周尚未发布"

WeekPath = Annotated[str, Path(pattern=WEEK_PATTERN, description="ISO week, e.g. 2025-W48",
                               examples=["2025-W48"])]


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def current_principal(session: SessionDep, token: Annotated[str | None, Depends(oauth2)]) -> auth.Principal:
    who = auth.principal_for_token(session, token) if token else None
    if who is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, NOT_SIGNED_IN, headers={"WWW-Authenticate": "Bearer"})
    return who


PrincipalDep = Annotated[auth.Principal, Depends(current_principal)]


def require(action: str):
    """A dependency that lets only roles allowed to do ``action`` through (403 otherwise)."""

    def check(who: PrincipalDep) -> auth.Principal:
        if not auth.allowed(who, action):
            raise HTTPException(status.HTTP_403_FORBIDDEN, FORBIDDEN)
        return who

    return check

"""POST /auth/token: OAuth2 password form -> bearer token (throttled after repeated failures)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from serving import auth
from serving.api.deps import SessionDep
from serving.api.schemas import Message, TokenOut

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenOut,
             responses={401: {"model": Message}, 429: {"model": Message}})
def token(request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """登录取令牌 / sign in and get a bearer token."""
    try:
        who = auth.authenticate(session, form.username, form.password)
    except auth.Throttled as error:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(error)) from None
    except auth.AuthError as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(error),
                            headers={"WWW-Authenticate": "Bearer"}) from None
    minutes = request.app.state.settings.token_minutes
    value = auth.issue_token(session, who.user_id, minutes)
    return TokenOut(access_token=value, expires_in=minutes * 60, role=who.role, township=who.township)

"""POST /auth/token: OAuth2 password form -> bearer token (throttled after repeated failures)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from serving.access import auth, throttle
from serving.api.deps import SessionDep
from serving.api.schemas import NAME_PATTERN, Message, TokenOut

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenOut,
             responses={401: {"model": Message}, 429: {"model": Message}})
def token(request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """登录取令牌 / sign in and get a bearer token."""
    if not form.username or len(form.username) > 64 or not re.fullmatch(NAME_PATTERN, form.username):
        # Not a name anyone could have: refuse like a wrong password, before touching the store.
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password / 用户名或密码错误",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        address = throttle.request_address(request, request.app.state.settings)
        who = auth.authenticate(session, form.username, form.password, address)
    except auth.Throttled as error:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(error)) from None
    except auth.AuthError as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(error),
                            headers={"WWW-Authenticate": "Bearer"}) from None
    minutes = request.app.state.settings.token_minutes
    value = auth.issue_token(session, who.user_id, minutes)
    return TokenOut(access_token=value, expires_in=minutes * 60, role=who.role, township=who.township)

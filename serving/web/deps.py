"""What every page needs from a request: language, signed-in user, CSRF token, the store session.

Pages declare ``user: WebUser = Depends(signed_in)``; a visitor without a valid session is sent
to the login page (a redirect, not an error page), and every POST goes through ``checked_form``,
which refuses a form whose CSRF token does not match the session (403).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData

from serving.web import identity
from serving.web.i18n import normalise_language
from serving.web.session import (
    CSRF_FIELD,
    LANGUAGE_COOKIE,
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
)
from serving.web.user import WebUser


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login page."""

    def __init__(self, next_url: str):
        self.next_url = next_url


class PageError(Exception):
    """An error shown as a page (403 forbidden, 404 not found, 400 bad request)."""

    def __init__(self, status_code: int, title: str, message: str):
        self.status_code = status_code
        self.title = title
        self.message = message


def web_state(request: Request):
    """The web layer's shared objects (signer, settings, session factory) set at install time."""
    return request.app.state.web


def language(request: Request) -> str:
    """The request's language: the cookie, else Chinese."""
    lang = normalise_language(request.cookies.get(LANGUAGE_COOKIE))
    request.state.language = lang
    return lang


def optional_user(request: Request) -> WebUser | None:
    """The signed-in user, or None (and the CSRF token of this session or pre-session)."""
    language(request)
    state = web_state(request)
    token = state.signer.unsign(request.cookies.get(SESSION_COOKIE))
    user = identity.user_for_token(state, token) if token else None
    request.state.user = user
    seed = token if user else request.cookies.get(PRE_SESSION_COOKIE)
    request.state.csrf_seed = seed
    request.state.csrf_token = state.signer.csrf_for(seed) if seed else ""
    return user


def signed_in(request: Request, user: Annotated[WebUser | None, Depends(optional_user)]) -> WebUser:
    """The signed-in user; a visitor goes to the login page and comes back afterwards."""
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(quote(target, safe="/"))
    return user


async def checked_form(request: Request, _user: Annotated[WebUser | None, Depends(optional_user)]) -> FormData:
    """The submitted form, after checking its CSRF token against this session's."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    if not web_state(request).signer.csrf_valid(request.state.csrf_seed, submitted if isinstance(submitted, str) else None):
        raise PageError(403, "csrf", "csrf")
    return form


# Parameter types for page handlers (Annotated keeps FastAPI's dependencies out of defaults), as
# the API's ``SessionDep``: a handler names what it needs instead of fetching it from the request.
SignedIn = Annotated[WebUser, Depends(signed_in)]
State = Annotated[Any, Depends(web_state)]
Lang = Annotated[str, Depends(language)]
MaybeUser = Annotated[WebUser | None, Depends(optional_user)]
CheckedForm = Annotated[FormData, Depends(checked_form)]

"""Signing in and out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from serving.access import throttle
from serving.web import identity
from serving.web.deps import CheckedForm, Lang, MaybeUser, State, WebUser, web_state
from serving.web.i18n import LANGUAGES, gettext
from serving.web.session import (
    LANGUAGE_COOKIE,
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    new_pre_session,
    set_cookie,
)
from serving.web.templating import render

router = APIRouter(include_in_schema=False)


def local_path(target: str | None, default: str = "/") -> str:
    """Only redirect within this site (an open redirect would help phishing)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def home_for(user: WebUser) -> str:
    """Where a user starts: township leaders at their visit list, everyone else at the watch list."""
    return "/township" if user.role == "township_leader" else "/watchlist"


def _login_page(request: Request, next_url: str, error: str | None = None, username: str = "", status: int = 200):
    pre = request.cookies.get(PRE_SESSION_COOKIE)
    fresh = pre is None
    if fresh:
        pre = new_pre_session()
        request.state.csrf_seed = pre
        request.state.csrf_token = web_state(request).signer.csrf_for(pre)
    response = render(
        request, "login.html", {"next_url": next_url, "error": error, "username": username}, status_code=status
    )
    if fresh:
        set_cookie(response, request, PRE_SESSION_COOKIE, pre, max_age=None)
    return response


@router.get("/")
def start(request: Request, user: MaybeUser) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_for(user), status_code=303)


@router.get("/login")
def login_form(request: Request, user: MaybeUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(local_path(next, home_for(user)), status_code=303)
    return _login_page(request, local_path(next, ""))


@router.post("/login")
def login(request: Request, form: CheckedForm, state: State, lang: Lang) -> Response:
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    outcome = identity.sign_in(state, username, password, throttle.request_address(request, state.settings))
    if outcome.user is None:
        message = (
            gettext(lang, "Too many failed attempts. Wait a few minutes and try again.")
            if outcome.throttled
            else gettext(lang, "User name or password is wrong.")
        )
        return _login_page(request, local_path(str(form.get("next", "")), ""), message, username, status=401)
    response = RedirectResponse(local_path(str(form.get("next", "")), home_for(outcome.user)), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, state.signer.sign(outcome.user.token), max_age=state.signer.max_age_seconds)
    return response


@router.post("/logout")
def logout(request: Request, form: CheckedForm) -> Response:
    user = request.state.user
    if user is not None:
        identity.sign_out(web_state(request), user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    response = RedirectResponse(local_path(next, "/"), status_code=303)
    if code in LANGUAGES:
        set_cookie(response, request, LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600)
    return response

"""Attaching the web pages to the FastAPI app: static files, routers and page error handlers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from serving.web.session import CookieSigner, load_secret

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@dataclass
class WebState:
    """What the pages share: settings, the cookie signer, the store's session factory and the
    county's policy (its case clocks), all set at install time so a page never depends on the
    app's lifespan having run."""

    settings: Any
    signer: CookieSigner
    sessions: Any  # sqlalchemy sessionmaker
    policy: Any  # features.policy.Policy


def install_web(app: FastAPI, settings: Any | None = None) -> None:
    """Mount the pages on ``app`` (call once from ``create_app``)."""
    from features.policy import load_policy
    from serving.settings import get_settings
    from serving.store.database import get_engine, session_factory
    from serving.web import deps, pages
    from serving.web.templating import render

    settings = settings or get_settings()
    minutes = getattr(settings, "token_minutes", 8 * 60)
    app.state.web = WebState(
        settings=settings,
        signer=CookieSigner(load_secret(settings), max_age_seconds=minutes * 60),
        sessions=session_factory(get_engine(settings)),
        policy=load_policy(getattr(settings, "policy_path", None)),
    )
    from serving.documents.pdf_queue import PdfQueue

    if getattr(app.state, "pdf_queue", None) is None:  # create_app makes it for the API and the pages
        app.state.pdf_queue = PdfQueue(settings.ensure_home())  # PDFs off the request threads
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for router in pages.routers():
        app.include_router(router)

    @app.exception_handler(deps.LoginRequired)
    async def _login_required(request: Request, exc: deps.LoginRequired):
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)

    @app.exception_handler(deps.PageError)
    async def _page_error(request: Request, exc: deps.PageError):
        if not hasattr(request.state, "language"):
            deps.language(request)
        lang = request.state.language
        title, message = pages.error_text(exc, lang)
        return render(request, "error.html", {"title": title, "message": message}, status_code=exc.status_code)

"""The FastAPI application: JSON API under /api/v1, health at /healthz, web pages when installed.

``create_app(settings)`` builds it; nothing is loaded at import. The store is migrated and the
champion model loaded in ``lifespan`` (a missing champion leaves the API up: stored
explanations are still served and /model says why none is loaded).
"""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from serving.settings import Settings, get_settings

API_PREFIX = "/api/v1"
log = logging.getLogger("fanpin.api")


def load_champion_safely(settings: Settings):
    """(champion, error message): the registry's champion, or None and why."""
    from serving.tracking import load_champion_or_reason

    champion, reason = load_champion_or_reason(settings)
    return champion, None if reason is None else f"no champion model / 未加载模型: {reason}"


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for e in error.errors()[:5]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("path", "query", "body"))
        if where == "week" or where.endswith(".week"):
            parts.append("week: expected an ISO week like 2025-W48 / 周格式应为 2025-W48")
        else:
            parts.append(f"{where}: {e.get('msg')}")
    return "invalid request / 请求无效: " + "; ".join(parts)


DOCS_ROLES = frozenset({"admin", "researcher"})


async def docs_reader(request: Request):
    """The signed-in admin or researcher asking for the API documentation (a bearer token, or the
    web session's cookie for the browser's /docs); 401 or 403 otherwise."""
    from serving.access import auth

    who = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        def look():
            with request.app.state.sessions() as session:
                return auth.principal_for_token(session, header[7:].strip())

        who = await anyio.to_thread.run_sync(look)
    elif getattr(request.app.state, "web", None) is not None:
        from serving.web.deps import optional_user

        user = await anyio.to_thread.run_sync(optional_user, request)
        who = user.principal if user is not None else None
    if who is None:
        raise HTTPException(401, "sign in to read the API documentation / 请先登录", headers={"WWW-Authenticate": "Bearer"})
    if who.role not in DOCS_ROLES:
        raise HTTPException(403, "the API documentation is for administrators and researchers / 仅管理员和研究人员可查看")
    return who


def _documentation(app: FastAPI) -> None:
    from fastapi import Depends
    from fastapi.openapi.docs import get_swagger_ui_html

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(docs_reader)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(docs_reader)])
    async def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title)


def create_app(settings: Settings | None = None, *, web: bool = True, load_model: bool = True,
               champion=None) -> FastAPI:
    """Build the application.

    Args:
        settings: where the store and the model registry are (default: from the environment).
        web: mount the server-rendered pages (``serving.web``) when that package is present.
        load_model: load the champion in lifespan (on-demand explanations need it).
        champion: an already loaded champion to serve with (skips the registry).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from features.policy import load_policy
        from serving.store.database import get_engine, session_factory, upgrade

        engine = get_engine(settings)
        upgrade(engine)
        app.state.sessions = session_factory(engine)
        app.state.policy = load_policy(settings.policy_path)
        if champion is not None:
            app.state.champion, app.state.champion_error = champion, None
        elif load_model:
            app.state.champion, app.state.champion_error = load_champion_safely(settings)
        else:
            app.state.champion, app.state.champion_error = None, "model loading disabled"
        if app.state.champion is None:
            log.warning("serving without a champion model: %s", app.state.champion_error)
        from serving.api.audit_log import AuditLog

        app.state.audit_log = AuditLog(engine, settings.audit_flush_seconds).start()
        # Everything loaded so far (libraries, the model: ~340,000 objects) lives as long as the
        # process. Left to the collector, every full collection walked all of it, ~0.35 s during
        # which the worker answered nobody: the slowest 1 % of requests under load.
        gc.collect()
        gc.freeze()
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        try:
            yield
        finally:
            app.state.audit_log.close()  # after the last request: nothing read goes unaudited
            app.state.pdf_queue.close()
            gc.unfreeze()

    app = FastAPI(
        title="fanpin 防止返贫监测预警 API",
        version="1",
        description="Weekly return-to-poverty risk, reasons, rule triggers and watch lists, by role and township.",
        lifespan=lifespan,
        # The schema lists every endpoint, user administration included: served below to a signed-in
        # admin or researcher only.
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.settings = settings
    from serving.documents.pdf_queue import PdfQueue

    app.state.pdf_queue = PdfQueue(settings.ensure_home())  # every PDF (visit sheets, notices) off the request threads
    from serving.access.security_headers import SecurityHeaders

    app.add_middleware(SecurityHeaders)  # no-store on the API's personal data, CSP on pages
    from serving.access.body_limit import BodyLimit

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # JSON bodies capped like forms: 413

    from serving.api import access, cases, follow_through, households, model, users, weeks

    for router in (access.router, weeks.router, households.router, model.router, cases.router, users.router,
                   follow_through.router):
        app.include_router(router, prefix=API_PREFIX)

    _documentation(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError):
        return JSONResponse({"detail": _validation_message(error)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException):
        detail = error.detail if error.detail else "error"
        return JSONResponse({"detail": detail}, status_code=error.status_code, headers=error.headers)

    if web:
        try:
            from serving.web import install_web
        except ImportError:
            install_web = None
        if install_web is not None:
            install_web(app, settings)
    return app

"""A township's visit list for the week (a township leader's home) and all its visit sheets as one PDF."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from serving.store import queries as store
from serving.web import identity, queries
from serving.web.deps import Lang, PageError, SignedIn, State, WebUser
from serving.web.i18n import gettext
from serving.web.pages.common import choose_week, scope_of
from serving.web.pages.watchlist import rows_for_display
from serving.web.templating import render

router = APIRouter(include_in_schema=False)


def _township(user: WebUser, requested: str | None, db, run, lang: str) -> str | None:
    """The township shown: a leader's own; for county roles the requested one (or the first)."""
    scope = scope_of(user)
    if scope:
        return scope
    names = store.townships(db, run.id)
    if requested and requested not in names:
        raise PageError(404, "township", gettext(lang, "There is no such township this week."))
    return requested or (names[0] if names else None)


@router.get("/township")
def township_page(request: Request, user: SignedIn, state: State, lang: Lang, week: str | None = None, township: str | None = None) -> Response:
    with state.sessions() as db:
        weeks, run = choose_week(db, week, lang)
        if run is None:
            return render(request, "township.html", {"run": None, "weeks": []})
        chosen = _township(user, township, db, run, lang)
        filters = queries.Filters(township=chosen, sort="rank")
        scored, total = queries.watchlist(db, run, scope_of(user), filters, per_page=0)
        context = {
            "weeks": weeks,
            "run": run,
            "week": run.week,
            "township": chosen,
            "townships": [chosen] if scope_of(user) else store.townships(db, run.id),
            "counts": queries.counts(db, run, chosen),
            "rows": rows_for_display(state, db, run, user, scored),
            "total": total,
        }
    return render(request, "township.html", context)


@router.get("/township/visit-sheets.pdf")
async def township_sheets_pdf(request: Request, user: SignedIn, state: State, lang: Lang, week: str | None = None,
                              township: str | None = None) -> Response:
    # async: the render waits in a worker process, not in one of the API's few request threads.
    from serving.web.sheets import township_pdf

    def chosen_week():
        with state.sessions() as db:
            _, run = choose_week(db, week, lang)
            if run is None:
                raise PageError(404, "week", gettext(lang, "No results have been published for this week."))
            return run, _township(user, township, db, run, lang)

    run, chosen = await run_in_threadpool(chosen_week)
    content = await township_pdf(request, user, run, chosen, lang)
    await run_in_threadpool(identity.audit, state, user, "export.visit_sheets", chosen, {"week": run.week})
    name = f"fanpin-visit-sheets-{run.week}.pdf"
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

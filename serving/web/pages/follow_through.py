"""From warning to help: the follow-through page (county officers all townships, township leaders
their own) and its Excel file; the figures are ``serving.store.follow_through``'s."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from serving.store import queries as store
from serving.store.follow_through import figures
from serving.web import identity
from serving.web.deps import Lang, PageError, SignedIn, State
from serving.web.i18n import gettext
from serving.web.pages.common import choose_week, scope_of
from serving.web.templating import render

router = APIRouter(include_in_schema=False)
STEPS = ("listed", "visited", "visited_in_time", "case_opened", "decided", "decided_in_time", "measures",
         "eliminated")


def _appeal_days(request: Request) -> float:
    return request.app.state.policy.cases["appeal_answer_days"]


def _read(user, state, lang: str, week: str | None, township: str | None,
          appeal_days: float) -> tuple[list, dict]:
    if not identity.allowed(user, "follow_through:read"):
        raise PageError(403, "follow-through", gettext(lang, "Your role cannot see the follow-through figures."))
    with state.sessions() as db:
        weeks, run = choose_week(db, week, lang)
        if run is None:
            return [], {"available": False, "townships": []}
        scope = scope_of(user)
        names = [scope] if scope else store.townships(db, run.id)
        chosen = scope or (township if township in names else None)
        result = figures(db, state.settings.home, run.week, chosen, appeal_days=appeal_days)
    result["townships"] = names
    return weeks, result


@router.get("/follow-through")
def follow_through_page(request: Request, user: SignedIn, state: State, lang: Lang, week: str | None = None,
                        township: str | None = None) -> Response:
    weeks, result = _read(user, state, lang, week, township, _appeal_days(request))
    funnel = result.get("funnel") or {}
    top = max(int(funnel.get("listed") or 0), 1)
    bars = [(step, int(funnel.get(step) or 0), round(100 * int(funnel.get(step) or 0) / top)) for step in STEPS]
    return render(request, "follow_through.html", {"weeks": weeks, "f": result, "bars": bars,
                                                   "scope": scope_of(user), **_labels(lang)})


def _labels(lang: str) -> dict[str, dict[str, str]]:
    return {
        "funnel_labels": {
            "listed": gettext(lang, "Listed or warned"), "visited": gettext(lang, "Visited, with a verdict"),
            "visited_in_time": gettext(lang, "Visited within 7 days"), "case_opened": gettext(lang, "Case opened"),
            "decided": gettext(lang, "County decision"),
            "decided_in_time": gettext(lang, "Decided within 15 days"),
            "measures": gettext(lang, "Support measures"), "eliminated": gettext(lang, "Risk eliminated"),
        },
        "source_labels": {"model": gettext(lang, "the model's list"), "department": gettext(lang, "department warning"),
                          "self_report": gettext(lang, "self-report"), "village_check": gettext(lang, "village check")},
        "way_labels": {"model": gettext(lang, "The model's list alone"),
                       "officers": gettext(lang, "The officers' verdicts alone"),
                       "final": gettext(lang, "The final decisions")},
        "group_labels": {"top_decile": gettext(lang, "top tenth by risk"), "other": gettext(lang, "others")},
    }


@router.get("/follow-through/export.xlsx")
def follow_through_export(request: Request, user: SignedIn, state: State, lang: Lang, week: str | None = None,
                          township: str | None = None) -> Response:
    from serving.documents.follow_through import follow_through_workbook

    _, result = _read(user, state, lang, week, township, _appeal_days(request))
    if not result.get("available"):
        return Response(status_code=404)
    identity.audit(state, user, "export.xlsx", result["week"], {"via": "web", "what": "follow_through",
                                                                 "township": result.get("township")})
    name = f"fanpin-follow-through-{result['week']}.xlsx"
    return Response(follow_through_workbook(result), headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

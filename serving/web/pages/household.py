"""A household's page: risk and trend, reasons and contributions, criteria, measures, facts,
members, visit history and the feedback form; and its printable visit sheet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from features import vocabulary as voc
from serving.cases import service as cases
from serving.reads.household import HouseholdNotFound, read_household, reason_missing, score_in_scope
from serving.reads.week_findings import shock_note
from serving.store import week_documents
from serving.web import charts, identity, queries
from serving.web.deps import CheckedForm, Lang, PageError, SignedIn, State, WebUser, web_state
from serving.web.facts import fact_groups, member_rows
from serving.web.i18n import gettext
from serving.web.labels import OUTCOMES
from serving.web.pages.common import choose_week, not_found_household
from serving.web.templating import render

router = APIRouter(include_in_schema=False)


def household_context(request: Request, user: WebUser, household_id: str, week: str | None) -> dict[str, Any]:
    """Everything the household page and the visit sheet show (identity masked, read audited)."""
    state = web_state(request)
    lang = request.state.language
    with state.sessions() as db:
        _, run = choose_week(db, week, lang)
        if run is None:
            raise not_found_household(lang)
        # The API's own read (serving.reads.household): one joined query, then (when nothing is
        # stored) the explanation computed now with the champion.
        try:
            read = read_household(db, user.principal, run.week, run.id, household_id,
                                  champion=getattr(request.app.state, "champion", None),
                                  policy=request.app.state.policy, audit_log=request.app.state.audit_log, via="web")
        except HouseholdNotFound:
            raise not_found_household(lang) from None
        case_panel = cases.case_panel(db, run.id, household_id, dt.date.today())
        # A township shock's adjustment is shown beside the household's own reasons, never instead.
        shock = shock_note(db, run.id, (read.bundle["score"] or {}).get("township"))
    bundle, trend, history = read.bundle, read.trend, read.feedback
    explanation, explanation_status = read.explanation or {}, read.explanation_status
    score, rules = bundle["score"], bundle["rule_triggers"] or {}
    facts = bundle["facts"] or {}
    listed_because = bundle["watchlist_reasons"]
    return {
        "week": run.week,
        "run": run,
        "household_id": household_id,
        "score": score,
        "identity": identity.mask(user, bundle["identity"] or {}),
        "explanation": explanation,
        "explanation_status": explanation_status,
        "rules": rules,
        "criteria": explanation.get("rule_triggers") or rules.get("criteria") or [],
        "screening": explanation.get("screening_flags") or rules.get("screening") or [],
        "measures": explanation.get("measures") or [],
        "trend_svg": charts.trend_svg(
            [(p["week"], float(p["probability"])) for p in trend], title=gettext(lang, "Risk over the weeks")
        ),
        "trend": trend,
        "fact_groups": fact_groups(facts, lang),
        "members": [identity.mask(user, m) for m in member_rows(bundle["members"] or [], facts, lang)],
        "history": history,
        "listed_because": listed_because,
        "can_feedback": identity.allowed(user, "feedback:write"),
        "outcomes": [o for o in OUTCOMES if o != "none"],
        "risk_types": voc.RISK_TYPE,
        "case_panel": case_panel,
        "can_case": identity.allowed(user, "case:write"),
        "shock": shock,
    }


@router.get("/households/{household_id}")
def household_page(request: Request, user: SignedIn, household_id: str, week: str | None = None, saved: int = 0) -> Response:
    context = household_context(request, user, household_id, week)
    context["saved"] = bool(saved)
    return render(request, "household.html", context)


@router.get("/households/{household_id}/sheet")
def visit_sheet(request: Request, user: SignedIn, household_id: str, week: str | None = None) -> Response:
    context = household_context(request, user, household_id, week)
    return render(request, "visit_sheet.html", {**context, "sheets": [context]})


@router.post("/households/{household_id}/feedback")
def submit_feedback(request: Request, user: SignedIn, state: State, lang: Lang, form: CheckedForm, household_id: str) -> Response:
    if not identity.allowed(user, "feedback:write"):
        raise PageError(403, "feedback", gettext(lang, "Your role cannot record visits."))
    week = str(form.get("week", ""))
    outcome = str(form.get("outcome", ""))
    risk_types = [str(r) for r in form.getlist("risk_types") if str(r) in voc.RISK_TYPE][:5]
    note = str(form.get("note", ""))[:2000]
    if outcome not in OUTCOMES or outcome == "none":
        raise PageError(400, "feedback", gettext(lang, "Choose what you found on the visit."))
    with state.sessions() as db:
        _, run = choose_week(db, week or None, lang)
        if run is None:
            raise not_found_household(lang)
        try:
            score = score_in_scope(db, user.principal, run.id, household_id)
        except HouseholdNotFound:
            raise not_found_household(lang) from None
        if reason_missing(db, run.id, score, outcome, note):
            raise PageError(400, "feedback", gettext(
                lang, "Judging a household of the county's top tenth by risk 'no risk' needs a reason in the note."))
        queries.record_feedback(
            db, user.principal, household_id=household_id, week=run.week, township=score["township"],
            outcome=outcome, risk_types=risk_types if outcome == "confirmed_at_risk" else [], note=note,
        )
    return RedirectResponse(f"/households/{household_id}?week={run.week}&saved=1#history", status_code=303)


@router.get("/households/{household_id}/chart.png")
def contribution_png(request: Request, user: SignedIn, state: State, lang: Lang, household_id: str, week: str | None = None) -> Response:
    """The explanation's contribution chart (``models.chart``), in the reader's language."""
    from models.chart import contribution_chart

    with state.sessions() as db:
        _, run = choose_week(db, week, lang)
        if run is None:
            raise not_found_household(lang)
        try:
            score = score_in_scope(db, user.principal, run.id, household_id)
        except HouseholdNotFound:
            raise not_found_household(lang) from None
        explanation = week_documents.explanation(db, run.id, household_id, score["township"])
    if not explanation or not explanation.get("concept_contributions"):
        raise not_found_household(lang)
    try:
        png = contribution_chart(explanation, lang="zh" if lang == "zh_CN" else "en", fmt="png", dpi=110)
    except RuntimeError:  # no CJK font on this machine: English labels rather than boxes
        png = contribution_chart(explanation, lang="en", fmt="png", dpi=110)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})

"""Case pages for a phone on a weak signal: the list (a township leader's open cases, overdue
first), one case with the form of its next step, opening a case, and the ledger and notice exports.

Small pages, no scripts. Every form carries a ``request_key`` made when the page was rendered: a
form sent again after a dropped connection records its step once (``serving.cases.service``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from features import vocabulary as voc
from serving.cases import exports, service
from serving.cases import lifecycle as lc
from serving.web import identity
from serving.web.deps import CheckedForm, PageError, SignedIn, web_state
from serving.web.i18n import gettext
from serving.web.pages.common import scope_of
from serving.web.templating import render

router = APIRouter(include_in_schema=False)
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # a case ID the database can hold
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _pick(lang: str):
    index = 0 if lang == "zh_CN" else 1
    return lambda table, code: table.get(code, (code, code))[index]


def _call(lang: str, call):
    try:
        return call()
    except service.CaseNotFound:
        raise PageError(404, "case", gettext(lang, "There is no such case in your area.")) from None
    except service.CaseForbidden:
        raise PageError(403, "case", gettext(lang, "Your role cannot take this step.")) from None
    except lc.StepError as error:
        raise PageError(400, "case", str(error)) from None
    except (service.KeyReused, service.CaseChanged) as error:
        raise PageError(409, "case", str(error)) from None


def _date(value: Any, lang: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)) if value else dt.date.today()
    except ValueError:
        raise PageError(400, "case", gettext(lang, "The date must look like 2025-03-01.")) from None


def _key(form) -> str:
    value = str(form.get("request_key", ""))
    return value if 8 <= len(value) <= 64 and value.replace("-", "").isalnum() else uuid.uuid4().hex


@router.get("/cases")
def cases_page(request: Request, user: SignedIn, township: str | None = None, show: str = "open") -> Response:
    lang = request.state.language
    clock = request.app.state.policy.cases
    with web_state(request).sessions() as db:
        rows = _call(lang, lambda: service.list_cases(db, user.principal, as_of=dt.date.today(),
                                                      township=scope_of(user) or township or None,
                                                      open_only=show != "all", clock=clock))
    return render(request, "cases.html", {"rows": rows, "summary": service.summary(rows), "show": show,
                                          "township": scope_of(user) or township or "", "label": _pick(lang),
                                          "stages": lc.STAGES, "sources": lc.SOURCES, "outcomes": lc.OUTCOMES,
                                          "can_notice": identity.allowed(user, "notice:export"),
                                          "appeal_days": int(clock["appeal_answer_days"])})


@router.get("/cases/new")
def new_case_page(request: Request, user: SignedIn, household_id: str, source: str = "model") -> Response:
    lang = request.state.language
    if not identity.allowed(user, "case:write"):
        raise PageError(403, "case", gettext(lang, "Your role cannot take this step."))
    return render(request, "case_new.html", {"household_id": household_id, "source": source,
                                             "sources": lc.SOURCES, "label": _pick(lang),
                                             "today": dt.date.today(), "request_key": uuid.uuid4().hex})


@router.post("/cases")
def open_case(request: Request, user: SignedIn, form: CheckedForm) -> Response:
    lang = request.state.language
    with web_state(request).sessions() as db:
        case = _call(lang, lambda: service.open_case(
            db, user.principal, household_id=str(form.get("household_id", ""))[:64],
            source=str(form.get("source", "")), lead_date=_date(form.get("on"), lang), request_key=_key(form),
            source_detail=str(form.get("source_detail", ""))[:500], home=web_state(request).settings.home))
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


def _warning_labels(settings) -> dict[str, tuple[str, str]]:
    from features.department_warnings import load_warning_rules

    rules = load_warning_rules(getattr(settings, "department_warnings_path", None))
    return {name: (r.zh, r.en) for name, r in rules.items()}


def _measures() -> list[tuple[str, str, str]]:
    from models.measures import load_measures

    return [(mid, m.zh, m.en) for mid, m in load_measures().measures.items()]


@router.get("/cases/{case_id}")
def case_page(request: Request, user: SignedIn, case_id: CaseId, saved: int = 0) -> Response:
    lang = request.state.language
    state = web_state(request)
    with state.sessions() as db:
        case = _call(lang, lambda: service.get_case(db, user.principal, case_id))
        clock = request.app.state.policy.cases
        row = service.case_row(case, dt.date.today(), service.measure_count(db, case.id), who=user.principal,
                               appeal=service.appeals(db, [case.id]).get(case.id), clock=clock)
        steps = service.steps(db, case.id, who=user.principal)
        week = service.latest(db)
        warnings = service.household_warnings(db, week.run_id, case.household_id) if week else []
    identity.audit(state, user, "case.read", case.household_id, {"case": case_id, "via": "web"})
    return render(request, "case.html", {
        "case": row, "steps": steps, "warnings": warnings, "saved": bool(saved), "label": _pick(lang),
        "stages": lc.STAGES, "actions": lc.ACTIONS, "sources": lc.SOURCES, "outcomes": lc.OUTCOMES,
        "checks": lc.ELIMINATION_CHECKS, "risk_types": voc.RISK_TYPE, "measures": _measures(),
        "can_write": identity.allowed(user, "case:write"), "can_decide": identity.allowed(user, "case:decide"),
        "county_only": lc.COUNTY_ONLY, "today": dt.date.today(), "request_key": uuid.uuid4().hex,
        "week": week.week if week else None, "warning_rules": _warning_labels(state.settings),
        "objection_key": uuid.uuid4().hex, "appeal_key": uuid.uuid4().hex, "can_appeal": _can_appeal(row, clock),
        "appeal_window": int(clock["appeal_window_days"]), "appeal_days": int(clock["appeal_answer_days"]),
    })


def _can_appeal(row: dict[str, Any], clock: dict[str, float]) -> bool:
    """Whether the appeal form is offered: a county decision, not appealed yet, within the window."""
    decided = row["decided_on"]
    return (decided is not None and row["outcome"] in lc.APPEALABLE and row["appeal_lodged"] is None
            and row["stage"] in ("support", "elimination_check", "closed")
            and dt.date.today() <= decided + dt.timedelta(days=clock["appeal_window_days"]))


def _detail(action: str, form) -> dict[str, Any]:
    yes = str(form.get("answer", "")) == "yes"
    if action == "home_check":
        kinds = [str(r) for r in form.getlist("risk_types") if str(r) in voc.RISK_TYPE][:5]
        return {"at_risk": yes, "risk_types": kinds if yes else [], "note": str(form.get("note", ""))[:500]}
    if action == "township_review":
        return {"agree": True, "note": str(form.get("note", ""))[:500]}
    if action == "county_decision":
        return {"identified": yes}
    if action == "measure":
        return {"measure": str(form.get("measure", ""))[:64]}
    if action == "elimination_check":
        return {k: form.get(k) == "on" for k in lc.ELIMINATION_CHECKS}
    note = str(form.get("note", ""))[:500]
    if action == "objection":
        return {"upheld": yes, "note": note}
    if action == "appeal_decision":
        return {"overturned": yes, "note": note}
    if action == "appeal":
        return {"note": note}
    return {}


@router.post("/cases/{case_id}/steps")
def record_step(request: Request, user: SignedIn, form: CheckedForm, case_id: CaseId) -> Response:
    lang = request.state.language
    action = str(form.get("action", ""))
    with web_state(request).sessions() as db:
        _call(lang, lambda: service.record_step(db, user.principal, case_id, action=action,
                                                on=_date(form.get("on"), lang), detail=_detail(action, form),
                                                request_key=_key(form), home=web_state(request).settings.home,
                                                clock=request.app.state.policy.cases))
    return RedirectResponse(f"/cases/{case_id}?saved=1", status_code=303)


@router.get("/cases-export/ledger.xlsx")
def ledger(request: Request, user: SignedIn) -> Response:
    state = web_state(request)
    with state.sessions() as db:
        rows = service.list_cases(db, user.principal, as_of=dt.date.today(), township=scope_of(user))
        found, _ = service.identities_and_sizes(db, [r["household_id"] for r in rows])
    names = {h: identity.mask(user, v).get("head_name") for h, v in found.items()}
    to_fix = exports.names_to_fix(found) if user.principal.sees_identifiers else set()
    identity.audit(state, user, "cases.export", scope_of(user), {"rows": len(rows), "via": "web"})
    return Response(exports.ledger_workbook(rows, names, to_fix), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="cases-ledger.xlsx"'})


@router.get("/cases-export/notice.{kind}")
async def notice(request: Request, user: SignedIn, kind: str, village: str | None = None) -> Response:
    lang = request.state.language
    if kind not in ("xlsx", "pdf"):
        raise PageError(404, "case", gettext(lang, "There is no such case in your area."))
    if not identity.allowed(user, "notice:export"):
        raise PageError(403, "case", gettext(lang, "Your role cannot take this step."))
    state = web_state(request)

    def gather() -> list[dict[str, Any]]:
        with state.sessions() as db:
            found = service.village_notices(db, user.principal, township=scope_of(user), village=village)
        identity.audit(state, user, f"cases.notice.{kind}", village or scope_of(user), {"rows": len(found)})
        return found

    notices = await anyio.to_thread.run_sync(gather)
    if kind == "pdf":  # rendered in the PDF queue's worker process, one at a time per person
        from serving.documents.pdf_queue import Busy

        try:
            content = await request.app.state.pdf_queue.render(exports.notice_pdf, notices,
                                                               township=scope_of(user) or "", user=user.username)
        except Busy as error:
            raise PageError(429, "case", str(error)) from None
        return Response(content, media_type="application/pdf",
                        headers={"Content-Disposition": 'attachment; filename="notice.pdf"'})
    return Response(exports.notice_workbook(notices), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="notice.xlsx"'})

"""Cases (the 台账) in the JSON API: list, open, read, record a step, ledger and village notice.

Same roles, township scope and audit as households (``serving.cases.service`` holds the checks):
another township's case answers 404 like an unknown one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from serving.access import auth
from serving.api.deps import SessionDep, require
from serving.api.schemas import NAME_PATTERN, TEXT_PATTERN, Message
from serving.cases import exports, service
from serving.cases import lifecycle as lc
from serving.store.database import json_text

router = APIRouter(tags=["cases"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CasePath = Annotated[int, Path(ge=1, le=2**31 - 1, description="案件编号 / case ID")]
KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,64}$"


class CaseIn(BaseModel):
    household_id: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    source: Literal["model", "department", "self_report", "village_check"]
    lead_date: dt.date | None = Field(default=None, description="线索日期 (default: today)")
    source_detail: str = Field(default="", max_length=500, pattern=TEXT_PATTERN)
    request_key: str = Field(pattern=KEY_PATTERN, description="a client-made key: a retry records once")


class StepIn(BaseModel):
    action: Literal["home_check", "village_notice", "objection", "township_review", "county_decision", "measure",
                    "elimination_check", "appeal", "appeal_decision"] = Field(description=(
        "objection: one received while the notice runs (detail upheld: bool, note required); appeal: the "
        "household's appeal against the county decision (note: its grounds; within the policy's "
        "appeal_window_days); appeal_decision: the county's answer (detail overturned: bool, note required)"))
    on: dt.date | None = Field(default=None, description="办理日期 (default: today)")
    detail: dict[str, Any] = Field(default_factory=dict)
    request_key: str = Field(pattern=KEY_PATTERN)


def _errors(call):
    try:
        return call()
    except service.CaseNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except service.CaseForbidden as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from None
    except lc.StepError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    except (service.KeyReused, service.CaseChanged) as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None


def _clock(request: Request) -> dict[str, float]:
    """The policy's case settings (the appeal's window and answer days)."""
    return request.app.state.policy.cases


def _detail(session, case, as_of: dt.date, who: auth.Principal, clock: dict[str, float]) -> dict[str, Any]:
    body = service.case_row(case, as_of, service.measure_count(session, case.id), who=who,
                            appeal=service.appeals(session, [case.id]).get(case.id), clock=clock)
    week = service.latest(session)
    body["steps"] = service.steps(session, case.id, who=who)
    # Department warnings sit beside the model's reasons, never mixed with them.
    body["department_warnings"] = service.household_warnings(session, week.run_id, case.household_id) if week else []
    return body


def _json(body: Any, code: int = 200) -> Response:
    return Response(json_text(body), status_code=code, media_type="application/json")


@router.get("/cases", responses={404: {"model": Message}})
def list_cases(request: Request, session: SessionDep, who: Annotated[auth.Principal, Depends(require("case:read"))],
               township: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN)] = None,
               open_only: bool = False, as_of: dt.date | None = None):
    """案件列表 / cases in scope: overdue first; with the summary of ``fanpin cases``."""
    as_of = as_of or dt.date.today()
    rows = _errors(lambda: service.list_cases(session, who, as_of=as_of, township=township, open_only=open_only,
                                              clock=_clock(request)))
    return _json({"as_of": as_of, "summary": service.summary(rows), "cases": rows})


@router.post("/cases", status_code=201, responses={403: {"model": Message}, 404: {"model": Message},
                                                   409: {"model": Message}, 422: {"model": Message}})
def open_case(request: Request, body: CaseIn, session: SessionDep,
              who: Annotated[auth.Principal, Depends(require("case:write"))]):
    """建立案件 / open a case from a lead (a retry with the same request_key returns the same case)."""
    case = _errors(lambda: service.open_case(session, who, household_id=body.household_id, source=body.source,
                                             lead_date=body.lead_date or dt.date.today(),
                                             request_key=body.request_key, source_detail=body.source_detail,
                                             home=request.app.state.settings.home))
    return _json(_detail(session, case, dt.date.today(), who, _clock(request)), 201)


@router.get("/cases/export.xlsx", responses={200: {"content": {XLSX: {}}}, 404: {"model": Message}})
def ledger(session: SessionDep, who: Annotated[auth.Principal, Depends(require("export:write"))],
           township: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN)] = None):
    """台账导出 / the ledger of cases in scope as Excel."""
    rows = _errors(lambda: service.list_cases(session, who, as_of=dt.date.today(), township=township))
    found, _ = service.identities_and_sizes(session, [r["household_id"] for r in rows])
    names = {h: auth.mask_record(v, who).get("head_name") for h, v in found.items()}
    to_fix = exports.names_to_fix(found) if who.sees_identifiers else set()
    auth.audit(session, who, "cases.export", target=township, detail={"rows": len(rows)})
    session.commit()
    return Response(exports.ledger_workbook(rows, names, to_fix), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="cases-ledger.xlsx"'})


@router.get("/cases/notice.{kind}", responses={200: {"content": {XLSX: {}, "application/pdf": {}}},
                                                404: {"model": Message}, 429: {"model": Message}})
async def notice(request: Request, kind: Literal["xlsx", "pdf"],
                 who: Annotated[auth.Principal, Depends(require("notice:export"))],
                 township: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN)] = None,
                 village: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN)] = None):
    """村级公示 / the village notice (no ID number, no health detail) as Excel or printable PDF.

    The PDF is rendered in the PDF queue's worker process (``serving.documents.pdf_queue``), one
    at a time per person (429 for another), so the API's threads never run WeasyPrint."""
    def gather() -> list[dict[str, Any]]:
        with request.app.state.sessions() as session:
            found = _errors(lambda: service.village_notices(session, who, township=township, village=village))
            auth.audit(session, who, f"cases.notice.{kind}", target=village or township, detail={"rows": len(found)})
            session.commit()
            return found

    notices = await anyio.to_thread.run_sync(gather)
    place = township or auth.township_scope(who) or ""
    if kind == "pdf":
        from serving.documents.pdf_queue import Busy

        try:
            content = await request.app.state.pdf_queue.render(exports.notice_pdf, notices, township=place,
                                                               user=who.username)
        except Busy as error:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(error)) from None
        return Response(content, media_type="application/pdf",
                        headers={"Content-Disposition": 'attachment; filename="notice.pdf"'})
    return Response(exports.notice_workbook(notices), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="notice.xlsx"'})


@router.get("/cases/{case_id}", responses={404: {"model": Message}})
def read_case(request: Request, case_id: CasePath, session: SessionDep,
              who: Annotated[auth.Principal, Depends(require("case:read"))], as_of: dt.date | None = None):
    """案件详情 / one case with every step (audited like a household read)."""
    case = _errors(lambda: service.get_case(session, who, case_id))
    body = _detail(session, case, as_of or dt.date.today(), who, _clock(request))
    request.app.state.audit_log.record(who, "case.read", target=case.household_id, detail={"case": case_id})
    return _json(body)


@router.post("/cases/{case_id}/steps", status_code=201, responses={
    403: {"model": Message}, 404: {"model": Message}, 409: {"model": Message}, 422: {"model": Message}})
def add_step(request: Request, case_id: CasePath, body: StepIn, session: SessionDep,
             who: Annotated[auth.Principal, Depends(require("case:write"))]):
    """办理一步 / record one step (a retry with the same request_key records it once): the case's next
    step, an objection received during the notice, the household's appeal (申诉) against the county
    decision, or the county's answer to it."""
    case = _errors(lambda: service.record_step(session, who, case_id, action=body.action,
                                               on=body.on or dt.date.today(), detail=body.detail,
                                               request_key=body.request_key, home=request.app.state.settings.home,
                                               clock=_clock(request)))
    return _json(_detail(session, case, dt.date.today(), who, _clock(request)), 201)



class ObjectionIn(BaseModel):
    on: dt.date | None = Field(default=None, description="收到日期 (default: today), while the notice runs")
    upheld: bool = Field(description="异议成立 / the objection was upheld (else dismissed)")
    note: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN, description="异议内容及核实情况")
    request_key: str = Field(pattern=KEY_PATTERN)


class AppealIn(BaseModel):
    on: dt.date | None = Field(default=None, description="申诉日期 (default: today)")
    grounds: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN, description="申诉理由")
    request_key: str = Field(pattern=KEY_PATTERN)


class AnswerIn(BaseModel):
    on: dt.date | None = Field(default=None, description="复核决定日期 (default: today)")
    overturned: bool = Field(description="改变原结论 / the decision is overturned (else upheld)")
    reason: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN, description="复核意见")
    request_key: str = Field(pattern=KEY_PATTERN)


STEP_ERRORS = {403: {"model": Message}, 404: {"model": Message}, 409: {"model": Message}, 422: {"model": Message}}


def _record(request: Request, session, who, case_id: int, action: str, on: dt.date | None, detail: dict[str, Any],
            request_key: str) -> Response:
    case = _errors(lambda: service.record_step(session, who, case_id, action=action, on=on or dt.date.today(),
                                               detail=detail, request_key=request_key,
                                               home=request.app.state.settings.home, clock=_clock(request)))
    return _json(_detail(session, case, dt.date.today(), who, _clock(request)), 201)


@router.post("/cases/{case_id}/objections", status_code=201, responses=STEP_ERRORS)
def add_objection(request: Request, case_id: CasePath, body: ObjectionIn, session: SessionDep,
                  who: Annotated[auth.Principal, Depends(require("case:write"))]):
    """公示期异议 / an objection received while the village notice runs, upheld or dismissed (the
    same step as ``action: objection`` on ``/steps``)."""
    return _record(request, session, who, case_id, "objection", body.on, {"upheld": body.upheld, "note": body.note},
                   body.request_key)


@router.post("/cases/{case_id}/appeal", status_code=201, responses=STEP_ERRORS)
def lodge_appeal(request: Request, case_id: CasePath, body: AppealIn, session: SessionDep,
                 who: Annotated[auth.Principal, Depends(require("case:write"))]):
    """农户申诉 / the household's appeal against the county decision: once, within the policy's
    ``appeal_window_days`` of it; the county answers within ``appeal_answer_days``."""
    return _record(request, session, who, case_id, "appeal", body.on, {"note": body.grounds}, body.request_key)


@router.post("/cases/{case_id}/appeal/decision", status_code=201, responses=STEP_ERRORS)
def answer_appeal(request: Request, case_id: CasePath, body: AnswerIn, session: SessionDep,
                  who: Annotated[auth.Principal, Depends(require("case:decide"))]):
    """申诉复核决定 / the county's answer to an appeal: overturned (the decision flips) or upheld."""
    return _record(request, session, who, case_id, "appeal_decision", body.on,
                   {"overturned": body.overturned, "note": body.reason}, body.request_key)

"""Cases in the store: open one from a lead, record its steps, list and summarise them.

Shared by the JSON API, the web pages and ``fanpin cases``: the role and township checks and the
audit are here once. Another township's case answers like an unknown one (``CaseNotFound``), as
households do. Every write carries a ``request_key``: a form sent twice records its step once, and
the key is bound to its request (a hash of the action and body): the same key with another body is
refused (``KeyReused``, HTTP 409) naming its first use. Two steps on one case at once are
serialised: a step is stored only if the case is still as it was read (``CaseChanged``, 409).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from features import vocabulary as voc
from features.policy import DEFAULT_CASES
from features.weeks import Week
from serving.access import auth
from serving.cases import lifecycle as lc
from serving.cases.appeals import LABELS, NO_APPEAL, appeal_count, appeals, label_rows  # noqa: F401 (re-exported)
from serving.store import models as m
from serving.store import queries
from serving.store.publishing import utcnow


@lru_cache(maxsize=1)
def catalogue() -> frozenset[str]:
    """The assistance measures a case may record (the catalogue the explanations suggest from)."""
    from models.measures import load_measures

    return frozenset(load_measures().measures)


class CaseNotFound(LookupError):
    """No such case or household in the person's scope."""


class CaseForbidden(PermissionError):
    """The role may not take this step."""


class KeyReused(ValueError):
    """A request key already used for another request (another action or body)."""


class CaseChanged(RuntimeError):
    """Another step changed the case while this one was being recorded."""


# Before this date nobody was registered (建档立卡 began in 2014; exits are from 2013 on).
EARLIEST_CASE_DATE = date(2013, 1, 1)


def request_hash(action: str, body: dict[str, Any]) -> str:
    """SHA-256 of the action and its body, key order and types canonical (dates as ISO text)."""
    import orjson

    text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return hashlib.sha256(action.encode() + b"\0" + text).hexdigest()


def _check_key(step: m.CaseStep, digest: str) -> None:
    if step.request_hash is not None and step.request_hash != digest:
        raise KeyReused(f"request_key already used for another request (case {step.case_id}, {step.action}, "
                        f"by {step.username} at {step.recorded_at:%Y-%m-%d %H:%M:%S}); make a new key for a new "
                        f"request / 该请求键已用于另一请求")


@dataclass(frozen=True)
class Latest:
    """The latest published week and its run."""

    week: Week
    run_id: int


def latest(session: Session) -> Latest | None:
    rows = queries.weeks(session)
    return Latest(Week(rows[0]["week"]), rows[0]["run_id"]) if rows else None


def _step_done(session: Session, request_key: str) -> m.CaseStep | None:
    return session.scalar(select(m.CaseStep).where(m.CaseStep.request_key == request_key))


def _in_scope(who: auth.Principal, case: m.Case | None) -> m.Case:
    if case is None or not auth.in_scope(who, case.township):
        raise CaseNotFound("case not found / 未找到该案件")
    return case


def get_case(session: Session, who: auth.Principal, case_id: int) -> m.Case:
    return _in_scope(who, session.get(m.Case, case_id))


def open_case(session: Session, who: auth.Principal, *, household_id: str, source: str, lead_date: date,
              request_key: str, source_detail: str = "", home: Path | None = None) -> m.Case:
    """Open a case for a household of the latest published week (or return its open case).

    ``home``: FANPIN_HOME, whose history gives the household's first registry record (no case
    date may be earlier)."""
    if not auth.allowed(who, "case:write"):
        raise CaseForbidden("your role may not open cases / 您的角色无权建立案件")
    if source not in lc.SOURCES:
        raise lc.StepError(f"未知线索来源 / unknown source {source!r}; one of {', '.join(lc.SOURCES)}")
    digest = request_hash("open", {"household_id": household_id, "source": source, "lead_date": lead_date,
                                   "source_detail": source_detail})
    done = _step_done(session, request_key)
    if done is not None:
        _check_key(done, digest)
        return get_case(session, who, done.case_id)
    week = latest(session)
    score = queries.score(session, week.run_id, household_id) if week else None
    if score is None or not auth.in_scope(who, score["township"]):
        raise CaseNotFound("household not found / 未找到该户")
    existing = session.scalar(select(m.Case).where(m.Case.household_id == household_id, m.Case.stage != "closed"))
    if existing is not None:
        return existing
    check_date(lead_date, first_record(home, household_id))
    now = utcnow()
    case = m.Case(household_id=household_id, township=score["township"], village=score["village"], source=source,
                  source_detail=source_detail[:500], stage="home_check", outcome="open", lead_date=lead_date,
                  risk_types=[], created_by=who.username, created_at=now, updated_at=now)
    session.add(case)
    session.flush()
    session.add(m.CaseStep(case_id=case.id, action="lead", step_date=lead_date, username=who.username,
                           detail={"source": source, "source_detail": source_detail[:500]}, recorded_at=now,
                           request_key=request_key, request_hash=digest))
    auth.audit(session, who, "case.open", target=household_id, detail={"case": case.id, "source": source})
    session.commit()
    return case


def _has_working_age(session: Session, household_id: str) -> bool:
    week = latest(session)
    snap = queries.snapshot(session, week.run_id, household_id) if week else None
    facts = snap.facts if snap is not None else {}
    return float(facts.get("n_working_age") or 0) > 0


def measure_count(session: Session, case_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(m.CaseStep).where(
        m.CaseStep.case_id == case_id, m.CaseStep.action == "measure")) or 0)


def record_step(session: Session, who: auth.Principal, case_id: int, *, action: str, on: date,
                detail: dict[str, Any], request_key: str, home: Path | None = None,
                clock: dict[str, float] | None = None) -> m.Case:
    """Record one step (idempotent by ``request_key``) and move the case on.

    ``clock``: the policy's ``cases`` settings (the appeal's window and answer days)."""
    if not auth.allowed(who, "case:write"):
        raise CaseForbidden("your role may not record case steps / 您的角色无权办理案件")
    case = get_case(session, who, case_id)
    digest = request_hash("step", {"case": case_id, "action": action, "on": on, "detail": detail})
    done = _step_done(session, request_key)
    if done is not None:
        _check_key(done, digest)
        if done.case_id != case.id:
            raise KeyReused(f"request_key already used for case {done.case_id} / 该请求键已用于另一案件")
        return case
    if action in lc.COUNTY_ONLY and not auth.allowed(who, "case:decide"):
        raise CaseForbidden("the county decides this step / 此步骤由县级审定")
    check_date(on, first_record(home, case.household_id))
    detail = lc.clean_detail(action, detail, voc.RISK_TYPE, catalogue())
    last = session.scalar(select(func.max(m.CaseStep.step_date)).where(m.CaseStep.case_id == case.id))
    change = lc.apply_step(stage=case.stage, action=action, on=on, last_step=last or case.lead_date,
                           notice_start=case.notice_start, decided_on=case.decided_on,
                           measures=measure_count(session, case.id), detail=detail,
                           has_working_age=_has_working_age(session, case.household_id), outcome=case.outcome,
                           today=date.today(), appeals=appeal_count(session, case.id), clock=clock)
    values: dict[str, Any] = {"stage": change.stage, "outcome": change.outcome, "updated_at": utcnow()}
    for name in ("notice_start", "decided_on", "closed_on"):
        if getattr(change, name) is not None:
            values[name] = getattr(change, name)
    if change.reopened:
        values["closed_on"] = None
    if action == "home_check" and detail["risk_types"]:
        values["risk_types"] = list(detail["risk_types"])
    # Compare and set: only if no other step moved the case since it was read (ten notice steps
    # sent at once store one; the others are told the case changed).
    moved = session.execute(update(m.Case).where(m.Case.id == case.id, m.Case.stage == case.stage,
                                                 m.Case.updated_at == case.updated_at).values(**values)
                            .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        session.rollback()
        raise CaseChanged("the case was changed by another step meanwhile; reload it / 案件已被其他操作更新，请刷新后重试")
    session.add(m.CaseStep(case_id=case.id, action=action, step_date=on, detail=detail, username=who.username,
                           recorded_at=values["updated_at"], request_key=request_key, request_hash=digest))
    auth.audit(session, who, "case.step", target=case.household_id,
               detail={"case": case.id, "action": action, "stage": change.stage})
    session.commit()
    session.refresh(case)
    return case


def first_record(home: Path | None, household_id: str) -> date | None:
    """The earliest ``valid_from`` of the household's registry rows in the live history (None: no
    history, or the household is not in it). Read with a row filter: one household's rows only."""
    if home is None:
        return None
    import pandas as pd

    from serving.weekly.history import history_root

    root = history_root(home)
    current = root / "CURRENT"
    if not current.exists():
        return None
    path = root / current.read_text().strip() / "households.parquet"
    if not path.exists():
        return None
    rows = pd.read_parquet(path, columns=["valid_from"], filters=[("household_id", "==", household_id)])
    first = pd.to_datetime(rows["valid_from"], errors="coerce").min()
    return None if pd.isna(first) else first.date()


def check_date(day: date, first: date | None) -> None:
    """A case date lies between the household's first registry record and today (StepError)."""
    if day > date.today():
        raise lc.StepError("日期不能晚于今天 / the date cannot be in the future")
    floor = max(first or EARLIEST_CASE_DATE, EARLIEST_CASE_DATE)
    if day < floor:
        raise lc.StepError(f"日期不能早于该户最早的登记记录（{floor}） / the date cannot be before the household's "
                           f"first registry record ({floor})")


def case_row(case: m.Case, as_of: date, measures: int = 0, *, who: auth.Principal,
             appeal: dict[str, Any] | None = None, clock: dict[str, float] | None = None) -> dict[str, Any]:
    """A case as the lists show it: stage, clock and elimination due, its appeal and its clock
    (``appeal``: :func:`appeals`' row); its free text as ``who`` may read it (``auth.free_text``)."""
    appeal = appeal or NO_APPEAL
    answer_days = (clock or DEFAULT_CASES)["appeal_answer_days"]
    return {
        "id": case.id, "household_id": case.household_id, "township": case.township, "village": case.village,
        "source": case.source, "source_detail": auth.free_text(case.source_detail, who), "stage": case.stage, "outcome": case.outcome,
        "lead_date": case.lead_date, "notice_start": case.notice_start, "decided_on": case.decided_on,
        "closed_on": case.closed_on, "risk_types": list(case.risk_types or []), "measures": measures,
        # The clock runs from the lead to the county decision (or the close at the home check).
        "days_open": lc.days_open(case.lead_date, case.decided_on or case.closed_on or as_of),
        "overdue": lc.is_overdue(case.lead_date, case.decided_on, case.closed_on, as_of),
        "eligible_for_elimination": lc.eligible_for_elimination(stage=case.stage, decided_on=case.decided_on,
                                                               measures=measures, as_of=as_of),
        "objections": appeal["objections"], "objections_upheld": appeal["upheld"],
        "appeal_lodged": appeal["lodged"], "appeal_answered": appeal["answered"],
        "appeal_overturned": appeal["overturned"],
        "appeal_overdue": lc.appeal_overdue(appeal["lodged"], appeal["answered"], as_of, answer_days),
    }


def list_cases(session: Session, who: auth.Principal, *, as_of: date, township: str | None = None,
               open_only: bool = False, clock: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Cases in scope, overdue first, then the oldest lead first."""
    scope = auth.township_scope(who)
    if scope is not None and township not in (None, scope):
        raise CaseNotFound("township not found / 未找到该乡镇")
    query = select(m.Case)
    if scope or township:
        query = query.where(m.Case.township == (scope or township))
    if open_only:
        query = query.where(m.Case.stage != "closed")
    cases = list(session.scalars(query))
    counts = dict(session.execute(select(m.CaseStep.case_id, func.count()).where(
        m.CaseStep.action == "measure").group_by(m.CaseStep.case_id)).all())
    found = appeals(session)
    rows = [case_row(c, as_of, int(counts.get(c.id, 0)), who=who, appeal=found.get(c.id), clock=clock)
            for c in cases]
    rows.sort(key=lambda r: (r["stage"] == "closed", not (r["overdue"] or r["appeal_overdue"]), r["lead_date"],
                             r["id"]))
    return rows


_FREE_TEXT = ("note", "source_detail")


def steps(session: Session, case_id: int, *, who: auth.Principal) -> list[dict[str, Any]]:
    """A case's steps; their free text (notes, the lead's source detail) as ``who`` may read it."""
    rows = session.scalars(select(m.CaseStep).where(m.CaseStep.case_id == case_id).order_by(m.CaseStep.id))
    out = []
    for s in rows:
        detail = dict(s.detail or {})
        for key in _FREE_TEXT:
            if key in detail:
                detail[key] = auth.free_text(detail[key], who)
        out.append({"action": s.action, "on": s.step_date, "detail": detail, "username": s.username,
                    "recorded_at": s.recorded_at})
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """open, by_stage (stage -> count of open cases), overdue, eligible_for_elimination, and the
    appeals waiting for an answer (``appeals_open``) and overdue (``appeal_overdue``)."""
    open_rows = [r for r in rows if r["stage"] != "closed"]
    by_stage = {stage: 0 for stage in lc.STAGES if stage != "closed"}
    for r in open_rows:
        by_stage[r["stage"]] += 1
    return {"open": len(open_rows), "by_stage": by_stage, "overdue": sum(r["overdue"] for r in open_rows),
            "eligible_for_elimination": sum(r["eligible_for_elimination"] for r in open_rows),
            "appeals_open": by_stage["appeal"], "appeal_overdue": sum(r["appeal_overdue"] for r in open_rows)}


def household_stages(session: Session, household_ids: list[str], as_of: date) -> dict[str, dict[str, Any]]:
    """Each listed household's open case: its stage and overdue flag (for the weekly list)."""
    if not household_ids:
        return {}
    cases = session.scalars(select(m.Case).where(m.Case.household_id.in_(household_ids), m.Case.stage != "closed"))
    return {c.household_id: {"id": c.id, "stage": c.stage, "zh": lc.STAGES[c.stage][0], "en": lc.STAGES[c.stage][1],
                             "overdue": lc.is_overdue(c.lead_date, c.decided_on, c.closed_on, as_of)}
            for c in cases}


def week_warning_counts(session: Session, run_id: int, rule_names: list[str],
                        township: str | None = None) -> dict[str, int]:
    """Rule -> department warnings of a published run (within a township when given)."""
    query = select(m.DepartmentWarning.rule, func.count()).where(m.DepartmentWarning.run_id == run_id)
    if township:
        query = query.where(m.DepartmentWarning.township == township)
    found = dict(session.execute(query.group_by(m.DepartmentWarning.rule)).all())
    return {name: int(found.get(name, 0)) for name in rule_names}


def household_warnings(session: Session, run_id: int, household_id: str) -> list[dict[str, Any]]:
    """A household's department warnings of a run (shown beside the model's reasons, not in them)."""
    rows = session.scalars(select(m.DepartmentWarning).where(
        m.DepartmentWarning.run_id == run_id, m.DepartmentWarning.household_id == household_id)
        .order_by(m.DepartmentWarning.id))
    return [{"rule": w.rule, "department": w.department, "record": w.record, "record_date": w.record_date,
             "value": w.value, "threshold": w.threshold} for w in rows]


def identities_and_sizes(session: Session, household_ids: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Unmasked identity blocks and household sizes of the latest published week (for exports:
    the caller masks or selects what each export may show)."""
    week = latest(session)
    if week is None or not household_ids:
        return {}, {}
    found = queries.identities(session, week.run_id, household_ids)
    sizes = {}
    for household_id in household_ids:
        snap = queries.snapshot(session, week.run_id, household_id)
        sizes[household_id] = (snap.facts or {}).get("household_size") if snap is not None else None
    return found, sizes


def case_panel(session: Session, run_id: int, household_id: str, as_of: date) -> dict[str, Any]:
    """What a household page shows beside the model: its open case (if any) and the week's
    department warnings."""
    return {"case": household_stages(session, [household_id], as_of).get(household_id),
            "warnings": household_warnings(session, run_id, household_id)}


def village_notices(session: Session, who: auth.Principal, *, township: str | None,
                    village: str | None) -> list[dict[str, Any]]:
    """The notice rows of the open cases in scope (``serving.cases.exports.notice_rows``)."""
    from serving.cases.exports import notice_rows

    rows = list_cases(session, who, as_of=date.today(), township=township, open_only=True)
    rows = [r for r in rows if not village or r["village"] == village]
    found, sizes = identities_and_sizes(session, [r["household_id"] for r in rows])
    return notice_rows(rows, found, sizes)

"""A case's stages, the step each stage expects, the 15-day clock and the 2024 elimination rules.

Pure: dates and plain values in, decisions out (the store and the pages call these).

The steps (DOMAIN.md, "Since 2026"): a lead (the model's list, a department warning, a self-report
or a village check) -> home check -> village review and public notice (at least 5 days) ->
township review -> county decision (identified or not) -> support measures -> elimination check.
A lead without a county decision more than 15 days after it came in is overdue. Risk elimination
(2024 county rules): listed at least 6 months, at least one measure, income stably above the line
for 6 months, large necessary spending resolved, 三保障 and water secure; a household with no
working-age member is not marked cleared but moves to social-security support.

Public notice and appeal (公示 / 申诉): objections received while the village notice runs are
recorded with their outcome (upheld or dismissed, with a note) before the township review. A
household may appeal the county's decision (identified or not) once, within the policy's
``appeal_window_days`` of it; the case then waits for the county's answer, which is overdue after
``appeal_answer_days`` (``features.policy.DEFAULT_CASES``: fanpin's judgement, the policy papers set
no limit). An answer that overturns the decision flips it: a refused household is identified from
the answer's date (its six months of listing start then), an identified one is closed as not
identified.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from features.policy import DEFAULT_CASES

__all__ = [
    "SOURCES", "STAGES", "ACTIONS", "OUTCOMES", "ACTION_STAGE", "COUNTY_ONLY", "APPEALABLE", "NOTE_REQUIRED",
    "CLOCK_DAYS", "NOTICE_DAYS", "LISTED_MONTHS", "ELIMINATION_CHECKS", "StepError", "Transition",
    "clean_detail", "days_open", "is_overdue", "appeal_overdue", "add_months", "listed_long_enough",
    "elimination_blockers", "eligible_for_elimination", "apply_step",
]

SOURCES = {
    "model": ("模型预警名单", "the model's watch list"),
    "department": ("部门大数据预警", "department data warning"),
    "self_report": ("农户自主申报", "self-report"),
    "village_check": ("基层日常排查", "village check"),
}
# Stage = the step the case waits for; each action is allowed at one stage and moves it on.
STAGES = {
    "home_check": ("待入户核实", "home check due"),
    "village_notice": ("待村级评议公示", "village review and notice due"),
    "township_review": ("待乡镇审核", "township review due"),
    "county_decision": ("待县级审定", "county decision due"),
    "support": ("待落实帮扶措施", "support measures due"),
    "elimination_check": ("帮扶中（待风险消除核查）", "supported (elimination check due)"),
    "appeal": ("待县级复核申诉", "appeal decision due"),
    "closed": ("已结案", "closed"),
}
ACTIONS = {
    "home_check": ("入户核实", "home check"),
    "village_notice": ("村级评议并公示", "village review and public notice"),
    "township_review": ("乡镇审核", "township review"),
    "county_decision": ("县级审定", "county decision"),
    "measure": ("落实帮扶措施", "support measure"),
    "elimination_check": ("风险消除核查", "elimination check"),
    "objection": ("公示期异议", "objection during the notice"),
    "appeal": ("农户申诉", "the household's appeal"),
    "appeal_decision": ("申诉复核决定", "decision on the appeal"),
}
OUTCOMES = {
    "open": ("办理中", "open"),
    "no_risk_found": ("入户核实无风险", "no risk found at the home check"),
    "not_identified": ("县级审定未认定", "not identified by the county"),
    "identified": ("已认定为防止返贫致贫对象", "identified"),
    "eliminated": ("风险已消除", "risk eliminated"),
    "social_security": ("纳入常态化兜底保障", "moved to social-security support"),
}
ACTION_STAGE = {"home_check": "home_check", "village_notice": "village_notice",
                "township_review": "township_review", "county_decision": "county_decision",
                "measure": "support", "elimination_check": "elimination_check", "objection": "township_review",
                "appeal_decision": "appeal"}
# The county approves its decisions, the eliminations and the answers to appeals.
COUNTY_ONLY = frozenset({"county_decision", "elimination_check", "appeal_decision"})
APPEALABLE = ("identified", "not_identified")  # the county's identification decision
NOTE_REQUIRED = frozenset({"objection", "appeal", "appeal_decision"})
CLOCK_DAYS = 15
NOTICE_DAYS = 5
LISTED_MONTHS = 6
ELIMINATION_CHECKS = {
    "income_stable": ("收入持续稳定高于监测标准6个月以上", "income stably above the line for 6 months"),
    "spending_resolved": ("大额刚性支出问题已解决", "large necessary spending resolved"),
    "guarantees_secure": ("三保障和饮水安全有保障", "三保障 and drinking water secure"),
}


class StepError(ValueError):
    """A step that cannot be recorded now; the message (zh / en) says why."""


@dataclass(frozen=True)
class Transition:
    """What a recorded step changes on its case."""

    stage: str
    outcome: str
    notice_start: date | None = None
    decided_on: date | None = None
    closed_on: date | None = None
    reopened: bool = False  # the case's close is undone (an appeal overturned a refusal)


# What each step may carry: a yes/no, a short note, known codes. Anything else is refused.
_FLAGS = {"home_check": ("at_risk",), "township_review": ("agree",), "county_decision": ("identified",),
          "elimination_check": tuple(ELIMINATION_CHECKS), "objection": ("upheld",),
          "appeal_decision": ("overturned",)}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_detail(action: str, detail: dict, risk_types: Iterable[str], measures: Iterable[str]) -> dict:
    """The step's detail reduced to what the step records, checked (StepError otherwise)."""
    out: dict = {key: bool(detail.get(key)) for key in _FLAGS.get(action, ())}
    note = detail.get("note", "")
    if not isinstance(note, str) or len(note) > 500 or _CONTROL.search(note):
        raise StepError("备注应为500字以内的文字 / the note must be text of at most 500 characters")
    if note:
        out["note"] = note
    elif action in NOTE_REQUIRED:
        raise StepError("请填写说明（异议内容或申诉理由及处理意见） / write a note: the objection, or the "
                        "appeal's grounds, and how it was answered")
    if action == "home_check":
        kinds = detail.get("risk_types") or []
        known = set(risk_types)
        if not isinstance(kinds, list) or len(kinds) > 5 or not all(isinstance(k, str) and k in known for k in kinds):
            raise StepError("风险类型无效 / unknown risk types")
        out["risk_types"] = kinds if out["at_risk"] else []
    if action == "measure":
        if detail.get("measure") not in set(measures):
            raise StepError("请选择帮扶措施目录中的措施 / choose a measure of the assistance catalogue")
        out["measure"] = detail["measure"]
    return out


def days_open(lead_date: date, as_of: date) -> int:
    return (as_of - lead_date).days


def is_overdue(lead_date: date, decided_on: date | None, closed_on: date | None, as_of: date) -> bool:
    """A lead with no county decision (and not closed at the home check) past day 15 is overdue."""
    if decided_on is not None or closed_on is not None:
        return False
    return days_open(lead_date, as_of) > CLOCK_DAYS


def appeal_overdue(lodged: date | None, answered: date | None, as_of: date,
                   answer_days: float = DEFAULT_CASES["appeal_answer_days"]) -> bool:
    """An appeal with no answer after ``answer_days`` is overdue (its own clock, beside day 15)."""
    return lodged is not None and answered is None and (as_of - lodged).days > answer_days


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def listed_long_enough(decided_on: date | None, as_of: date) -> bool:
    """Listed (identified) at least six calendar months by ``as_of``."""
    return decided_on is not None and add_months(decided_on, LISTED_MONTHS) <= as_of


def elimination_blockers(*, decided_on: date | None, measures: int, checks: dict[str, bool], as_of: date) -> list[str]:
    """Why the risk cannot be marked eliminated on ``as_of`` (empty: it can)."""
    out = []
    if not listed_long_enough(decided_on, as_of):
        out.append("认定未满6个月 / listed less than 6 months")
    if measures < 1:
        out.append("尚未落实帮扶措施 / no support measure recorded")
    for key, (zh, en) in ELIMINATION_CHECKS.items():
        if not checks.get(key):
            out.append(f"未满足：{zh} / not met: {en}")
    return out


def eligible_for_elimination(*, stage: str, decided_on: date | None, measures: int, as_of: date) -> bool:
    """Listed 6 months with a measure: due for the elimination check (the checks are the officer's)."""
    return stage == "elimination_check" and measures >= 1 and listed_long_enough(decided_on, as_of)


def apply_step(*, stage: str, action: str, on: date, last_step: date, notice_start: date | None,
               decided_on: date | None, measures: int, detail: dict, has_working_age: bool,
               outcome: str, today: date | None = None, appeals: int = 0,
               clock: dict[str, float] | None = None) -> Transition:
    """Check that ``action`` may be recorded on ``on`` and return what it changes.

    The public notice runs from the day its step is *recorded* (``today``), not from a date typed
    in: a back-dated notice would let a case opened today be decided today.

    ``appeals``: appeals already lodged on the case (one is allowed); ``clock``: the policy's
    ``cases`` settings (``features.policy.DEFAULT_CASES`` when not given).

    Raises:
        StepError: the action is not the one the stage waits for, or a date or rule is not met.
    """
    if action not in ACTIONS:
        raise StepError(f"未知步骤 / unknown step {action!r}")
    if action == "appeal":
        return _appeal(stage=stage, on=on, last_step=last_step, decided_on=decided_on, outcome=outcome,
                       appeals=appeals, window=(clock or DEFAULT_CASES)["appeal_window_days"])
    if stage == "closed":
        raise StepError("案件已结案 / the case is closed")
    allowed = {ACTION_STAGE[action]} | ({"elimination_check"} if action == "measure" else set())
    if stage not in allowed:
        raise StepError(f"当前应办理：{STAGES[stage][0]} / this case waits for: {STAGES[stage][1]}")
    if on < last_step:
        raise StepError(f"日期早于上一步（{last_step}） / the date is before the previous step ({last_step})")
    if action == "objection":
        if notice_start is None or on < notice_start:
            raise StepError(f"异议应在公示期内收到（{notice_start}起） / an objection is received while the notice "
                            f"runs (from {notice_start})")
        return Transition(stage, outcome)
    if action == "appeal_decision":
        return _answer(outcome=outcome, on=on, measures=measures, overturned=bool(detail.get("overturned")))
    if action == "home_check":
        if detail.get("at_risk"):
            return Transition("village_notice", outcome)
        return Transition("closed", "no_risk_found", closed_on=on)
    if action == "village_notice":
        return Transition("township_review", outcome, notice_start=max(on, today or on))
    if action == "township_review":
        if notice_start is not None and on < notice_start + timedelta(days=NOTICE_DAYS):
            raise StepError(f"公示不少于{NOTICE_DAYS}天，最早{notice_start + timedelta(days=NOTICE_DAYS)}审核 / "
                            f"the notice runs at least {NOTICE_DAYS} days")
        return Transition("county_decision", outcome)
    if action == "county_decision":
        if detail.get("identified"):
            return Transition("support", "identified", decided_on=on)
        return Transition("closed", "not_identified", decided_on=on, closed_on=on)
    if action == "measure":
        return Transition("elimination_check", outcome)
    blockers = elimination_blockers(decided_on=decided_on, measures=measures, checks=detail, as_of=on)
    if blockers:
        raise StepError("；".join(blockers))
    # No working-age member: not "cleared" but moved to stable social-security support.
    return Transition("closed", "eliminated" if has_working_age else "social_security", closed_on=on)


def _appeal(*, stage: str, on: date, last_step: date, decided_on: date | None, outcome: str, appeals: int,
            window: float) -> Transition:
    """A household's appeal against the county's decision: once, within ``window`` days of it."""
    if decided_on is None or outcome not in APPEALABLE or stage not in ("support", "elimination_check", "closed"):
        raise StepError("只能对县级审定结论申诉 / an appeal is against the county's decision (identified or not)")
    if appeals:
        raise StepError("该案件已申诉过一次 / this case has been appealed once already")
    if on < max(last_step, decided_on):
        raise StepError(f"日期早于上一步（{max(last_step, decided_on)}） / the date is before the previous step")
    if on > decided_on + timedelta(days=window):
        raise StepError(f"申诉应在县级审定后{window:.0f}天内提出（最晚{decided_on + timedelta(days=window)}） / an appeal "
                        f"is lodged within {window:.0f} days of the decision")
    return Transition("appeal", outcome)


def _answer(*, outcome: str, on: date, measures: int, overturned: bool) -> Transition:
    """The county's answer: overturned flips the decision, upheld returns the case where it was."""
    if outcome == "not_identified":
        if overturned:  # identified from the answer: its listing (six months) starts now
            return Transition("support", "identified", decided_on=on, reopened=True)
        return Transition("closed", outcome)
    if overturned:
        return Transition("closed", "not_identified", closed_on=on)
    return Transition("elimination_check" if measures else "support", outcome)

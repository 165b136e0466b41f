"""From warning to help: each lead followed to its end, the funnel, and the officers' burden.

Pure (``monitoring.ledger`` tables in, tables out). For every episode (a new lead, see
``monitoring.ledger.episodes``) :func:`trace` finds, up to ``as_of`` and before the household's
next episode:
- the first visit with a verdict (at risk / no risk; a visit finding nothing is not a verdict) and
  who recorded it - in time when within ``VISIT_DAYS`` of the lead;
- the case (opened from ``CASE_BEFORE_DAYS`` before the lead on: a department record's case may
  predate the week it was published), its county decision - in time within ``CLOCK_DAYS`` of the
  case's lead (the 2026 15-day clock, ``serving.cases.lifecycle``) - its first support measure and
  its close by the elimination check.
- the public notice's objections (any; any upheld) and the household's appeal against the county
  decision (lodged; overturned), read from the case's steps.
Overdue as of ``as_of``: a lead with no verdict after ``VISIT_DAYS``; a case with no decision
after ``CLOCK_DAYS`` (counted from its first decision: an appeal does not reset the clock); an
appeal with no answer after the policy's ``appeal_answer_days``.

:func:`funnel` counts the steps per week, township, village or officer with the median days
between them; :func:`burden` gives the new leads per officer (or village) per week and the share
officers closed as "no risk".
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from features.policy import DEFAULT_CASES
from monitoring.ledger import Ledger, all_verdicts, days_between, episodes, first_decisions, plain

VISIT_DAYS = 7
CLOCK_DAYS = 15  # serving.cases.lifecycle.CLOCK_DAYS (monitoring may not import serving)
CASE_BEFORE_DAYS = 7
ELIMINATED = ("eliminated", "social_security")
STEPS = ["listed", "visited", "visited_in_time", "case_opened", "decided", "decided_in_time", "measures",
         "eliminated"]
MEDIANS = ["days_to_visit", "days_to_case", "days_to_decision", "days_to_measure", "days_to_elimination"]
APPEALS = ["objected", "objection_upheld", "appealed", "appeal_overturned"]
OVERDUE = ["visit_overdue", "decision_overdue", "appeal_overdue"]
GROUPS = ("week", "township", "village", "officer")
TRACE_COLUMNS = ["household_id", "township", "village", "week", "start", "source", "listed_by_fanpin",
                 "officer", "verdict_date", "verdict_label", "case_id", "case_lead", "decided_on",
                 "first_measure", "closed_on", "case_outcome", *MEDIANS, "visited", "visited_in_time",
                 "case_opened", "decided", "decided_in_time", "measures", "eliminated", "closed_no_risk",
                 *APPEALS, *OVERDUE]


def _first(frame: pd.DataFrame, column: str, start: date, until: date | None) -> pd.Series | None:
    hit = frame.loc[(frame[column] >= start) & ((frame[column] < until) if until is not None else True)]
    return None if hit.empty else hit.iloc[0]


def _case_appeals(steps: pd.DataFrame) -> dict:
    """Case -> (objections, upheld objections, appeal lodged on, answered on, overturned)."""
    out: dict = {}
    for step in steps.loc[steps["action"].isin(["objection", "appeal", "appeal_decision"])].sort_values(
            "step_date").itertuples(index=False):
        row = out.setdefault(step.case_id, [0, 0, None, None, False])
        detail = step.detail or {}
        if step.action == "objection":
            row[0] += 1
            row[1] += bool(detail.get("upheld"))
        elif step.action == "appeal":
            row[2] = step.step_date
        else:
            row[3], row[4] = step.step_date, bool(detail.get("overturned"))
    return out


def trace(ledger: Ledger, as_of: date, since: date | None = None,
          appeal_days: float = DEFAULT_CASES["appeal_answer_days"]) -> pd.DataFrame:
    """One row per episode started on or before ``as_of`` (and on or after ``since``), with what
    followed it (``TRACE_COLUMNS``); ``appeal_days``: the policy's days to answer an appeal."""
    eps = episodes(ledger)
    eps = eps.loc[(eps["start"] <= as_of) & ((eps["start"] >= since) if since is not None else True)]
    verdicts = all_verdicts(ledger)
    verdicts = verdicts.loc[verdicts["label"].notna() & (verdicts["verdict_date"] <= as_of)]
    cases = ledger.cases.loc[ledger.cases["lead_date"] <= as_of].sort_values(["lead_date", "case_id"])
    steps = ledger.steps.loc[ledger.steps["step_date"] <= as_of]
    first_measure = steps.loc[steps["action"] == "measure"].groupby("case_id")["step_date"].min()
    first_decision = first_decisions(ledger).to_dict()
    appeals = _case_appeals(steps)
    by_household_v = dict(tuple(verdicts.groupby("household_id")))
    by_household_c = dict(tuple(cases.groupby("household_id")))
    rows = []
    for ep in eps.itertuples(index=False):
        row = {"household_id": ep.household_id, "township": ep.township, "village": ep.village, "week": ep.week,
               "start": ep.start, "source": ep.source, "listed_by_fanpin": ep.listed}
        v = by_household_v.get(ep.household_id)
        verdict = None if v is None else _first(v, "verdict_date", ep.start, ep.until)
        row["officer"] = None if verdict is None else verdict["username"]
        row["verdict_date"] = None if verdict is None else verdict["verdict_date"]
        row["verdict_label"] = None if verdict is None else int(verdict["label"])
        c = by_household_c.get(ep.household_id)
        case = None if c is None else _first(c, "lead_date", ep.start - timedelta(days=CASE_BEFORE_DAYS), ep.until)
        day = None if case is None else first_decision.get(case["case_id"])
        decided = None if day is None or pd.isna(day) or day > as_of else day
        closed = None if case is None or pd.isna(case["closed_on"]) or case["closed_on"] > as_of else case["closed_on"]
        row.update({
            "case_id": None if case is None else case["case_id"],
            "case_lead": None if case is None else case["lead_date"],
            "decided_on": decided, "closed_on": closed,
            "first_measure": None if case is None else first_measure.get(case["case_id"]),
            "case_outcome": None if case is None else case["outcome"],
        })
        eliminated = case is not None and closed is not None and case["outcome"] in ELIMINATED
        row.update({
            "days_to_visit": days_between(ep.start, row["verdict_date"]),
            "days_to_case": None if case is None else max(0, (case["lead_date"] - ep.start).days),
            "days_to_decision": days_between(row["case_lead"], decided),
            "days_to_measure": days_between(decided, row["first_measure"]),
            "days_to_elimination": days_between(decided, closed) if eliminated else None,
        })
        row.update({
            "visited": verdict is not None,
            "visited_in_time": verdict is not None and row["days_to_visit"] <= VISIT_DAYS,
            "case_opened": case is not None,
            "decided": decided is not None,
            "decided_in_time": decided is not None and row["days_to_decision"] <= CLOCK_DAYS,
            "measures": row["first_measure"] is not None,
            "eliminated": eliminated,
            "closed_no_risk": row["verdict_label"] == 0,
            "visit_overdue": verdict is None and (as_of - ep.start).days > VISIT_DAYS,
            "decision_overdue": case is not None and decided is None and closed is None
            and (as_of - case["lead_date"]).days > CLOCK_DAYS,
        })
        objections, upheld, lodged, answered, overturned = (
            appeals.get(case["case_id"], (0, 0, None, None, False)) if case is not None else (0, 0, None, None, False))
        row.update({
            "objected": objections > 0, "objection_upheld": upheld > 0, "appealed": lodged is not None,
            "appeal_overturned": overturned,
            "appeal_overdue": lodged is not None and answered is None and (as_of - lodged).days > appeal_days,
        })
        rows.append(row)
    return pd.DataFrame(rows, columns=TRACE_COLUMNS)


def _median(values: pd.Series) -> float | None:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(np.median(values)) if len(values) else None


def funnel(traced: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The funnel per group of ``by`` (some of ``GROUPS``; [] for the whole county): the count at
    each of ``STEPS``, the median days of ``MEDIANS``, the notice's and the appeals' ``APPEALS``
    counts and the ``OVERDUE`` counts. An episode no officer visited has officer None."""
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"cannot group the funnel by {sorted(unknown)}")
    columns = [*by, *STEPS, *MEDIANS, *APPEALS, *OVERDUE]
    if traced.empty:
        return pd.DataFrame(columns=columns)
    frame = traced.assign(listed=True)
    groups = frame.groupby(by, sort=True, dropna=False) if by else [((), frame)]
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row.update({step: int(part[step].sum()) for step in STEPS})
        row.update({m: _median(part[m]) for m in MEDIANS})
        row.update({o: int(part[o].sum()) for o in [*APPEALS, *OVERDUE]})
        rows.append(row)
    return plain(pd.DataFrame(rows, columns=columns))


def burden(traced: pd.DataFrame, weeks: int, officers: dict[str, int] | None = None,
           villages: dict[str, int] | None = None) -> pd.DataFrame:
    """New leads per officer and per village per week, and the share of verdicts "no risk", per
    township and for the county (township None).

    Args:
        traced: :func:`trace` over the period.
        weeks: the number of weeks the period spans (published weeks).
        officers: officers per township (default: the distinct users who recorded a verdict there).
        villages: villages per township (default: the villages with a lead there).
    """
    columns = ["township", "weeks", "leads", "officers", "per_officer_week", "villages", "per_village_week",
               "with_verdict", "no_risk", "no_risk_share"]
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    rows = []
    for township, part in [*traced.groupby("township", sort=True), (None, traced)]:
        if township is None:
            n_officers = sum(officers.values()) if officers else traced["officer"].dropna().nunique()
            n_villages = sum(villages.values()) if villages else traced[["township", "village"]].drop_duplicates().shape[0]
        else:
            n_officers = officers.get(township, 0) if officers else part["officer"].dropna().nunique()
            n_villages = villages.get(township, 0) if villages else part["village"].nunique()
        judged = part["verdict_label"].notna()
        no_risk = int((part["verdict_label"] == 0).sum())
        rows.append({
            "township": township, "weeks": weeks, "leads": len(part), "officers": int(n_officers),
            "per_officer_week": len(part) / (n_officers * weeks) if n_officers else None,
            "villages": int(n_villages),
            "per_village_week": len(part) / (n_villages * weeks) if n_villages else None,
            "with_verdict": int(judged.sum()), "no_risk": no_risk,
            "no_risk_share": no_risk / int(judged.sum()) if judged.any() else None,
        })
    return plain(pd.DataFrame(rows, columns=columns))

"""The follow-through figures of a published week, read from the store and the registry history.

The ledger (``monitoring.ledger``) is assembled from the published weeks' lists and department
warnings, the officers' visits, the cases and their steps, and the registry's monitoring entries;
the figures come from ``monitoring.follow_through``, ``monitoring.missed`` and
``monitoring.judgement``. One function serves the page, the API, the Excel file and the weekly
job's summary, all for the same period: the ``WEEKS`` published weeks up to the chosen one, as of
the end of the chosen week (its cutoff + 6 days: a list is worked the week after it is published).
A township leader's figures are their township's (``township``).

The figures are cached (bounded, in-process) per published weeks, township and ledger state: the
same request again costs three small count queries, and any visit, case or step recorded since,
a newly published week or a new registry history computes them afresh.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from cachetools import LRUCache
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from features.policy import DEFAULT_CASES
from features.weeks import Week
from monitoring.case_activity import activity
from monitoring.follow_through import burden, funnel, trace
from monitoring.judgement import judgement, overrides
from monitoring.ledger import Ledger, check, plain
from monitoring.missed import missed_households, missed_share
from serving.store import models as m

WEEKS = 13
CASE_LOOKBACK_DAYS = 30  # a case opened up to this long before the first week joins its leads
HISTORY = "history"  # serving.weekly.history.history_root: the live generation is named in CURRENT


def _published(session: Session, week: Week, weeks: int) -> list[tuple[str, date, int]]:
    rows = session.execute(select(m.Week.week, m.Week.cutoff, m.Week.published_run_id).where(
        m.Week.published_run_id.is_not(None), m.Week.week <= week).order_by(m.Week.week.desc()).limit(weeks)).all()
    return [(w, c, int(r)) for w, c, r in reversed(rows)]


def _entries(home: Path, township_of: dict[str, str]) -> pd.DataFrame:
    """The registry's monitoring entries (the history's ``outcomes``), with each household's township."""
    root = Path(home) / HISTORY
    current = root / "CURRENT"
    columns = ["household_id", "township", "entry_date", "risk_type"]
    if not current.exists():
        return pd.DataFrame(columns=columns)
    outcomes = pd.read_parquet(root / current.read_text().strip() / "outcomes.parquet",
                               columns=["household_id", "entry_date", "risk_type_1"])
    out = pd.DataFrame({"household_id": outcomes["household_id"].astype(str),
                        "entry_date": pd.to_datetime(outcomes["entry_date"]).dt.date,
                        "risk_type": outcomes["risk_type_1"]})
    out["township"] = out["household_id"].map(township_of)
    return out.loc[out["township"].notna(), columns].reset_index(drop=True)


def history_end(home: Path) -> date | None:
    """The last day the registry history knows of (outcomes are known up to it)."""
    import json

    current = Path(home) / HISTORY / "CURRENT"
    if not current.exists():
        return None
    manifest = json.loads((Path(home) / HISTORY / current.read_text().strip() / "manifest.json").read_text())
    return pd.Timestamp(manifest["as_of"]).date() if manifest.get("as_of") else None


def read_ledger(session: Session, home: Path, week: Week, township: str | None = None,
                weeks: int = WEEKS, listed_only: bool = False) -> tuple[Ledger, list[tuple[str, date, int]]]:
    """The ledger of the ``weeks`` published weeks up to ``week`` (within ``township``).

    ``listed_only``: only the listed households' scores (and the week's count scored): enough for
    the funnel, the burden and the missed households' ranks when they were listed, not for the
    model / officers table (the weekly job's headline at a province's size)."""
    published = _published(session, week, weeks)
    runs = {r: (w, c) for w, c, r in published}
    scope = (lambda col: col == township) if township else (lambda col: col.is_not(None))
    query = select(
        m.Score.run_id, m.Score.household_id, m.Score.township, m.Score.village, m.Score.rank, m.Score.probability,
        m.Score.under_monitoring, m.Score.on_watchlist).where(m.Score.run_id.in_(list(runs)), scope(m.Score.township))
    if listed_only:
        query = query.where(m.Score.on_watchlist.is_(True))
    scores = pd.DataFrame(session.execute(query).all(),
                          columns=["run_id", "household_id", "township", "village", "rank", "probability",
                                   "under_monitoring", "on_list"])
    counted = dict(session.execute(select(m.Run.id, m.Run.households_scored).where(m.Run.id.in_(list(runs)))).all())
    scores["scored"] = scores["run_id"].map(counted)
    scores["week"] = scores["run_id"].map(lambda r: runs[r][0])
    scores["cutoff"] = scores["run_id"].map(lambda r: runs[r][1])
    scores["eligible"] = ~scores["under_monitoring"].astype(bool)
    village = dict(zip(scores["household_id"], scores["village"], strict=False))
    township_of = dict(zip(scores["household_id"], scores["township"], strict=False))
    listed = scores.loc[scores["on_list"].astype(bool)]
    warned = pd.DataFrame(session.execute(select(m.DepartmentWarning.run_id, m.DepartmentWarning.household_id,
                                                 m.DepartmentWarning.township).where(
        m.DepartmentWarning.run_id.in_(list(runs)), scope(m.DepartmentWarning.township))).all(),
        columns=["run_id", "household_id", "township"])
    leads = pd.concat([
        pd.DataFrame({"household_id": listed["household_id"], "township": listed["township"],
                      "village": listed["village"], "lead_date": listed["cutoff"], "source": "model"}),
        pd.DataFrame({"household_id": warned["household_id"], "township": warned["township"],
                      "village": warned["household_id"].map(village).fillna(""),
                      "lead_date": warned["run_id"].map(lambda r: runs[r][1]), "source": "department"}),
    ], ignore_index=True)
    first = published[0][1] if published else date.min
    feedback = session.execute(select(m.Feedback.household_id, m.Feedback.created_at, m.Feedback.outcome,
                                      m.Feedback.username, m.Feedback.note).where(
        m.Feedback.week.in_([w for w, _, _ in published]), scope(m.Feedback.township))
        .order_by(m.Feedback.created_at, m.Feedback.id)).all()
    verdicts = pd.DataFrame([(h, at.date(), o, u, n) for h, at, o, u, n in feedback],
                            columns=["household_id", "verdict_date", "outcome", "username", "note"])
    # The period's cases, and older ones still worked in it (a step in the period, or open): an
    # elimination of last spring's case is this quarter's casework.
    worked = select(m.CaseStep.case_id).where(m.CaseStep.step_date >= first)
    case_rows = session.scalars(select(m.Case).where(
        or_(m.Case.lead_date >= first - timedelta(days=CASE_LOOKBACK_DAYS), m.Case.id.in_(worked),
            m.Case.stage != "closed"), scope(m.Case.township))).all()
    cases = pd.DataFrame([(c.id, c.household_id, c.township, c.village, c.source, c.lead_date, c.decided_on,
                           c.closed_on, c.outcome) for c in case_rows],
                         columns=["case_id", "household_id", "township", "village", "source", "lead_date",
                                  "decided_on", "closed_on", "outcome"])
    steps = pd.DataFrame(session.execute(select(m.CaseStep.case_id, m.CaseStep.action, m.CaseStep.step_date,
                                                m.CaseStep.username, m.CaseStep.detail).where(
        m.CaseStep.case_id.in_([c.id for c in case_rows]))).all() if case_rows else [],
        columns=["case_id", "action", "step_date", "username", "detail"])
    ledger = Ledger(leads=leads, verdicts=verdicts, cases=cases, steps=steps,
                    entries=_entries(home, township_of), scores=scores.drop(columns=["run_id", "village",
                                                                                    "under_monitoring"]))
    return check(ledger), published


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = plain(frame).to_dict(orient="records")
    return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()} for r in out]


_CACHE: LRUCache = LRUCache(maxsize=32)
_LOCK = threading.Lock()
STATS = {"hits": 0, "misses": 0}


def _ledger_state(session: Session, home: Path) -> tuple:
    """What the figures read that can change without a new published week: the visits, the cases
    and their steps (counts and last ids / changes), and the registry history's generation."""
    current = Path(home) / HISTORY / "CURRENT"
    return (
        tuple(session.execute(select(func.count(), func.max(m.Feedback.id))).one()),
        tuple(session.execute(select(func.count(), func.max(m.CaseStep.id))).one()),
        tuple(session.execute(select(func.count(), func.max(m.Case.updated_at))).one()),
        current.read_text().strip() if current.exists() else None,
    )


def figures(session: Session, home: Path, week: Week, township: str | None = None,
            data_end: date | None = None, listed_only: bool = False,
            appeal_days: float = DEFAULT_CASES["appeal_answer_days"]) -> dict[str, Any]:
    """Every follow-through figure of the period ending with ``week`` (JSON-ready), cached per
    published weeks, township and ledger state (a shallow copy: callers may add keys).

    Args:
        data_end: the last day outcomes are known (default: the registry history's, else the end
            of ``week``).
        appeal_days: the policy's days to answer an appeal (its overdue count).
    """
    data_end = data_end or history_end(home)
    key = (str(session.get_bind().url), tuple(_published(session, week, WEEKS)), township, data_end, listed_only,
           appeal_days, _ledger_state(session, home))
    with _LOCK:
        found = _CACHE.get(key)
        STATS["hits" if found is not None else "misses"] += 1
    if found is None:
        found = _figures(session, home, week, township, data_end, listed_only, appeal_days)
        with _LOCK:
            _CACHE[key] = found
    return dict(found)


def _figures(session: Session, home: Path, week: Week, township: str | None, data_end: date | None,
             listed_only: bool, appeal_days: float) -> dict[str, Any]:
    ledger, published = read_ledger(session, home, week, township, listed_only=listed_only)
    if not published:
        return {"week": week, "weeks": [], "available": False}
    first, last = published[0][1], published[-1][1]
    as_of = last + timedelta(days=6)
    traced = trace(ledger, as_of, since=first - timedelta(days=CASE_LOOKBACK_DAYS), appeal_days=appeal_days)
    casework = activity(ledger, first, as_of, appeal_days)
    county = funnel(traced, [])
    load = burden(traced, weeks=len(published))
    missed_table, missed_summary = missed_households(ledger, first, as_of)
    cohort = judgement(ledger, first, last, data_end or as_of) if not listed_only else \
        {"matured": False, "matures_on": last + timedelta(weeks=52), "table": pd.DataFrame()}
    override_summary, override_detail = overrides(ledger, first, as_of, data_end or as_of)
    whole = load.loc[load["township"].isna()].iloc[0]
    return {
        "week": week, "available": True, "township": township, "as_of": as_of.isoformat(),
        "weeks": [w for w, _, _ in published], "simulated": _simulated(session),
        "funnel": (_records(county)[0] if len(county) else {}),
        # What the casework recorded in the period, whatever week its leads came in (eliminations
        # come six months and more after the decision: never among the period's own leads).
        "casework": _records(casework.loc[casework["township"].isna()])[0],
        "casework_by_township": _records(casework.loc[casework["township"].notna()]),
        "by_week": _records(funnel(traced, ["week"])),
        "by_township": _records(funnel(traced, ["township"])),
        "by_village": _records(funnel(traced, ["township", "village"])),
        "by_officer": _records(funnel(traced, ["officer"])),
        "burden": _records(load),
        "alerts_per_officer_week": None if pd.isna(whole["per_officer_week"]) else float(whole["per_officer_week"]),
        "alerts_per_village_week": None if pd.isna(whole["per_village_week"]) else float(whole["per_village_week"]),
        "missed": _records(missed_table), "missed_summary": _records(missed_summary),
        "missed_share": missed_share(missed_summary),
        "judgement": {"matured": cohort["matured"], "matures_on": cohort["matures_on"].isoformat(),
                      "table": _records(cohort["table"])},
        "overrides": _records(override_summary), "override_detail": _records(override_detail),
    }


def _simulated(session: Session) -> bool:
    """Whether officer activity in the store was simulated (``fanpin demo``): its users say so."""
    return bool(session.scalar(select(m.Feedback.id).where(m.Feedback.username.like("sim-%")).limit(1)))


def headline(result: dict[str, Any]) -> dict[str, Any]:
    """The week's figures for `fanpin weekly --json`: the county funnel, the share missed and the
    new leads per officer and week."""
    if not result.get("available"):
        return {"follow_through": None, "missed_share": None, "alerts_per_officer_week": None}
    return {"follow_through": {**result["funnel"], "casework": result["casework"]},
            "missed_share": result["missed_share"],
            "alerts_per_officer_week": result["alerts_per_officer_week"]}

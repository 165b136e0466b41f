"""Simulated officer activity for a demo or test county: the published weeks worked as a county
would, from the simulator's truth, so the follow-through pages show a county at work.

SIMULATED, NOT FIELD DATA: every row it writes is signed by a ``sim-`` user and its notes say
"（模拟）"; the follow-through page and its Excel file say so whenever such rows exist.

For each published week, in order: each of the week's new work (``week_work``; the listed
households flagged new on weeks without it) and each department-warned household is visited
with probability ``VISIT_SHARE`` after a delay of 1 + a geometric number of days. The verdict
depends on the household's true state - whether the simulated registry has it entering monitoring
within ``TRUTH_WEEKS`` of the cutoff - with error (``SENSITIVITY``, ``FALSE_ALARM``); some
households cannot be reached. A household found at risk gets a case: home check, village review
and notice, township review after the 5-day notice, county decision (identified more often when
truly at risk), a support measure a few days after identification. Only steps dated by the end
of the last published week are kept (the county's "now"); the rest is still to come.
Elimination needs six months of listing, so within the demo's weeks none is eliminated.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from features.weeks import Week
from serving.store import models as m

VISIT_SHARE = 0.7
WARNED_VISIT_SHARE = 0.9
TRUTH_WEEKS = 26
SENSITIVITY = 0.8  # truly at risk -> officer finds risk
FALSE_ALARM = 0.12  # not at risk -> officer finds risk anyway
UNREACHABLE = 0.05
IDENTIFIED_IF_TRUE, IDENTIFIED_IF_FALSE = 0.85, 0.35
OFFICERS_PER_TOWNSHIP = 2
NOTE = "（模拟）"
MEASURES = ("major_illness_treatment",)


def _user(township: str, towns: list[str], rng: np.random.Generator) -> str:
    return f"sim-{towns.index(township) + 1:02d}-{int(rng.integers(1, OFFICERS_PER_TOWNSHIP + 1))}"


def _truth(county: Path) -> pd.DataFrame:
    outcomes = pd.read_parquet(Path(county) / "history" / "outcomes.parquet", columns=["household_id", "entry_date"])
    return outcomes.assign(entry_date=pd.to_datetime(outcomes["entry_date"]).dt.date)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0))


def simulate_officers(engine: Engine, county: Path, seed: int = 0) -> dict[str, Any]:
    """Write simulated visits, cases and steps for every published week with no officer activity
    yet (re-running adds nothing to weeks already worked). Returns counts of what was written."""
    from models.measures import load_measures

    catalogue = list(load_measures().measures) or list(MEASURES)
    rng = np.random.default_rng(seed)
    truth = _truth(county)
    entries = truth.groupby("household_id")["entry_date"].apply(list).to_dict()
    written = {"visits": 0, "cases": 0, "decisions": 0, "measures": 0, "weeks": 0}
    with engine.begin() as conn:
        weeks = conn.execute(select(m.Week.week, m.Week.cutoff, m.Week.published_run_id).where(
            m.Week.published_run_id.is_not(None)).order_by(m.Week.week)).all()
        if not weeks:
            return written
        now = weeks[-1][1] + timedelta(days=6)
        worked = set(conn.execute(select(m.Feedback.week).where(m.Feedback.username.like("sim-%"))).scalars())
        for week, cutoff, run_id in weeks:
            if week in worked:
                continue
            written["weeks"] += 1
            scores = pd.DataFrame(conn.execute(select(
                m.Score.household_id, m.Score.township, m.Score.village, m.Score.flag_new, m.Score.on_watchlist,
                m.Score.rank).where(m.Score.run_id == run_id)).all(),
                columns=["household_id", "township", "village", "flag_new", "on_watchlist", "rank"])
            towns = sorted(scores["township"].unique())
            work = dict(conn.execute(select(m.WeekWork.household_id, m.WeekWork.work).where(
                m.WeekWork.run_id == run_id)).all())
            warned = set(conn.execute(select(m.DepartmentWarning.household_id).where(
                m.DepartmentWarning.run_id == run_id)).scalars())
            if work:
                chosen = scores.loc[scores["household_id"].map(work).eq("new")]
            else:
                chosen = scores.loc[scores["on_watchlist"] & scores["flag_new"]]
            chosen = pd.concat([chosen, scores.loc[scores["household_id"].isin(warned)]]).drop_duplicates(
                "household_id")
            top = int(np.ceil(len(scores) * 0.1))
            for row in chosen.itertuples(index=False):
                share = WARNED_VISIT_SHARE if row.household_id in warned else VISIT_SHARE
                if rng.random() > share:
                    continue
                day = cutoff + timedelta(days=int(1 + rng.geometric(0.3)))
                if day > now:
                    continue
                truly = any(cutoff < d <= cutoff + timedelta(weeks=TRUTH_WEEKS) for d in entries.get(row.household_id, []))
                roll = rng.random()
                outcome = ("unreachable" if roll < UNREACHABLE else "confirmed_at_risk"
                           if rng.random() < (SENSITIVITY if truly else FALSE_ALARM) else "not_at_risk")
                note = NOTE if not (outcome == "not_at_risk" and row.rank <= top) else f"家庭收入稳定{NOTE}"
                user = _user(row.township, towns, rng)
                conn.execute(m.Feedback.__table__.insert().values(
                    household_id=row.household_id, week=week, township=row.township, outcome=outcome, risk_types=[],
                    note=note, username=user, created_at=_at(day)))
                written["visits"] += 1
                if outcome == "confirmed_at_risk":
                    _case(conn, row, week, day, now, truly, user, "department" if row.household_id in warned
                          else "model", catalogue, rng, written)
    return written


def _case(conn, row, week: Week, lead: date, now: date, truly: bool, user: str, source: str, catalogue: list[str],
          rng: np.random.Generator, written: dict[str, int]) -> None:
    """One case on the 15-day clock, its steps up to ``now`` (the stage is the next step due)."""
    steps = [("home_check", lead, {"at_risk": True, "risk_types": [], "note": NOTE})]
    notice = lead + timedelta(days=int(rng.integers(1, 4)))
    steps.append(("village_notice", notice, {"note": NOTE}))
    review = notice + timedelta(days=int(rng.integers(5, 8)))
    steps.append(("township_review", review, {"agree": True, "note": NOTE}))
    decision = review + timedelta(days=int(rng.integers(1, 9)))
    identified = rng.random() < (IDENTIFIED_IF_TRUE if truly else IDENTIFIED_IF_FALSE)
    steps.append(("county_decision", decision, {"identified": bool(identified), "note": NOTE}))
    if identified:
        steps.append(("measure", decision + timedelta(days=int(rng.integers(3, 21))),
                      {"measure": catalogue[int(rng.integers(len(catalogue)))], "note": NOTE}))
    kept = [s for s in steps if s[1] <= now]
    stage_after = {"home_check": "village_notice", "village_notice": "township_review",
                   "township_review": "county_decision", "measure": "elimination_check"}
    stage, outcome, decided, closed, notice_start = "village_notice", "open", None, None, None
    for action, day, detail in kept:
        if action == "county_decision":
            decided = day
            stage, outcome = ("support", "identified") if detail["identified"] else ("closed", "not_identified")
            closed = None if detail["identified"] else day
        else:
            stage = stage_after[action]
        if action == "village_notice":
            notice_start = day
    stamp = _at(now)
    case_id = conn.execute(m.Case.__table__.insert().values(
        household_id=row.household_id, township=row.township, village=row.village, source=source,
        source_detail=f"{week} {NOTE}", stage=stage, outcome=outcome, lead_date=lead, notice_start=notice_start,
        decided_on=decided, closed_on=closed, risk_types=[], created_by=user, created_at=stamp,
        updated_at=stamp)).inserted_primary_key[0]
    rows = [("lead", lead, {"source": source, "source_detail": NOTE})] + kept
    for i, (action, day, detail) in enumerate(rows):
        conn.execute(m.CaseStep.__table__.insert().values(
            case_id=case_id, action=action, step_date=day, detail=detail,
            username="sim-county" if action == "county_decision" else user, recorded_at=_at(day),
            request_key=f"sim-{case_id}-{i}"))
    written["cases"] += 1
    written["decisions"] += int(decided is not None)
    written["measures"] += sum(a == "measure" for a, _, _ in kept)

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
truly at risk), a support measure a few days after identification. Some notices draw an
objection (mostly dismissed); a household truly at risk that the county refused often appeals, and
the county's answer (within days, some late) overturns the refusal more often than not. Only steps
dated by the end of the last published week are kept (the county's "now"); the rest is still to come.

The months before the first published week (``EARLIER_MONTHS``) are worked too, once: every
household the simulated registry has entering monitoring then gets a case that ends in its
identification on its entry date (self-reported, found by a village check or warned by a
department: fanpin's lists did not exist yet) - a few first refused and then identified on appeal -
its measures, and its risk eliminated on the registry's elimination date (at least six months
after the decision, the 2024 rule), so the published weeks show eliminations. A few households
that never entered were refused and appealed in vain. Every case is taken through
``serving.cases.lifecycle``'s rules, as the case pages would.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from features.weeks import Week
from serving.core import case_lifecycle as lc
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
OBJECTION, OBJECTION_UPHELD = 0.15, 0.2  # a notice draws an objection; the objection is upheld
APPEAL_IF_TRUE, APPEAL_IF_FALSE = 0.6, 0.25  # a refused household appeals (truly at risk or not)
OVERTURN_IF_TRUE = 0.7
EARLIER_MONTHS = 18
EARLIER = "往期台账（模拟）"  # the source detail of the earlier months' cases (worked once)
EARLIER_REFUSED = 0.1  # an entering household first refused, identified on appeal
EARLIER_SOURCES = ("self_report", "village_check", "department")


def _user(township: str, towns: list[str], rng: np.random.Generator) -> str:
    return f"sim-{towns.index(township) + 1:02d}-{int(rng.integers(1, OFFICERS_PER_TOWNSHIP + 1))}"


def _truth(county: Path) -> pd.DataFrame:
    columns = ["household_id", "entry_date", "elimination_date"]
    outcomes = pd.read_parquet(Path(county) / "history" / "outcomes.parquet", columns=columns)
    return outcomes.assign(entry_date=pd.to_datetime(outcomes["entry_date"]).dt.date,
                           elimination_date=[None if pd.isna(d) else pd.Timestamp(d).date()
                                             for d in outcomes["elimination_date"]])


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
    written = {"visits": 0, "cases": 0, "decisions": 0, "measures": 0, "weeks": 0, "objections": 0, "appeals": 0,
               "overturned": 0, "eliminated": 0, "earlier_cases": 0}
    with engine.begin() as conn:
        weeks = conn.execute(select(m.Week.week, m.Week.cutoff, m.Week.published_run_id).where(
            m.Week.published_run_id.is_not(None)).order_by(m.Week.week)).all()
        if not weeks:
            return written
        now = weeks[-1][1] + timedelta(days=6)
        worked = set(conn.execute(select(m.Feedback.week).where(m.Feedback.username.like("sim-%"))).scalars())
        _earlier(conn, truth, weeks[0], now, catalogue, rng, written)
        busy = set(conn.execute(select(m.Case.household_id).where(m.Case.stage != "closed")).scalars())
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
                if row.household_id in busy:  # one open case per household
                    continue
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
                    busy.add(row.household_id)
                    _case(conn, row, week, day, now, truly, user, "department" if row.household_id in warned
                          else "model", catalogue, rng, written)
    return written


def _case(conn, row, week: Week, lead: date, now: date, truly: bool, user: str, source: str, catalogue: list[str],
          rng: np.random.Generator, written: dict[str, int]) -> None:
    """One case on the 15-day clock, its steps up to ``now`` (the stage is the next step due)."""
    steps = [("home_check", lead, {"at_risk": True, "risk_types": [], "note": NOTE})]
    notice = lead + timedelta(days=int(rng.integers(1, 4)))
    steps.append(("village_notice", notice, {"note": NOTE}))
    steps += _objection(notice, rng)
    review = notice + timedelta(days=int(rng.integers(5, 8)))
    steps.append(("township_review", review, {"agree": True, "note": NOTE}))
    decision = review + timedelta(days=int(rng.integers(1, 9)))
    identified = rng.random() < (IDENTIFIED_IF_TRUE if truly else IDENTIFIED_IF_FALSE)
    steps.append(("county_decision", decision, {"identified": bool(identified), "note": NOTE}))
    if not identified and rng.random() < (APPEAL_IF_TRUE if truly else APPEAL_IF_FALSE):
        appeal = decision + timedelta(days=int(rng.integers(2, 10)))
        steps.append(("appeal", appeal, {"note": f"申诉：家庭困难未充分核实{NOTE}"}))
        answer = appeal + timedelta(days=int(rng.integers(5, 25)))  # some answers come late
        identified = truly and rng.random() < OVERTURN_IF_TRUE
        steps.append(("appeal_decision", answer, {"overturned": bool(identified), "note": f"复核{NOTE}"}))
        decision = answer
    if identified:
        steps.append(("measure", decision + timedelta(days=int(rng.integers(3, 21))),
                      {"measure": catalogue[int(rng.integers(len(catalogue)))], "note": NOTE}))
    _write(conn, row.household_id, row.township, row.village, source, f"{week} {NOTE}", lead, steps, now, user,
           written)


def _objection(notice: date, rng: np.random.Generator) -> list:
    if rng.random() >= OBJECTION:
        return []
    upheld = bool(rng.random() < OBJECTION_UPHELD)
    return [("objection", notice + timedelta(days=int(rng.integers(1, 5))),
             {"upheld": upheld, "note": f"{'异议属实，已重新核实' if upheld else '异议不实'}{NOTE}"})]


def _replay(lead: date, steps: list, now: date) -> tuple[dict, list]:
    """The case as ``serving.cases.lifecycle`` leaves it after the steps dated by ``now`` (a step
    the rules refuse ends the replay: the simulation never writes what a page would refuse)."""
    case = {"stage": "home_check", "outcome": "open", "notice_start": None, "decided_on": None, "closed_on": None}
    last, measures, appeals, kept = lead, 0, 0, []
    for action, day, detail in steps:
        if day > now:
            break
        try:
            change = lc.apply_step(stage=case["stage"], action=action, on=day, last_step=last,
                                   notice_start=case["notice_start"], decided_on=case["decided_on"],
                                   measures=measures, detail=detail, has_working_age=True, outcome=case["outcome"],
                                   today=day, appeals=appeals)
        except lc.StepError:
            break
        case.update(stage=change.stage, outcome=change.outcome)
        for name in ("notice_start", "decided_on", "closed_on"):
            if getattr(change, name) is not None:
                case[name] = getattr(change, name)
        if change.reopened:
            case["closed_on"] = None
        measures += action == "measure"
        appeals += action == "appeal"
        last = day
        kept.append((action, day, detail))
    return case, kept


def _write(conn, household: str, township: str, village: str, source: str, source_detail: str, lead: date,
           steps: list, now: date, user: str, written: dict[str, int]) -> None:
    case, kept = _replay(lead, steps, now)
    stamp = _at(now)
    case_id = conn.execute(m.Case.__table__.insert().values(
        household_id=household, township=township, village=village, source=source, source_detail=source_detail,
        stage=case["stage"], outcome=case["outcome"], lead_date=lead, notice_start=case["notice_start"],
        decided_on=case["decided_on"], closed_on=case["closed_on"], risk_types=[], created_by=user, created_at=stamp,
        updated_at=stamp)).inserted_primary_key[0]
    rows = [("lead", lead, {"source": source, "source_detail": NOTE})] + kept
    for i, (action, day, detail) in enumerate(rows):
        conn.execute(m.CaseStep.__table__.insert().values(
            case_id=case_id, action=action, step_date=day, detail=detail,
            username="sim-county" if action in lc.COUNTY_ONLY else user, recorded_at=_at(day),
            request_key=f"sim-{case_id}-{i}"))
    actions = [a for a, _, _ in kept]
    written["cases"] += 1
    written["decisions"] += actions.count("county_decision")
    written["measures"] += actions.count("measure")
    written["objections"] += actions.count("objection")
    written["appeals"] += actions.count("appeal")
    written["overturned"] += sum(a == "appeal_decision" and d.get("overturned") for a, _, d in kept)
    written["eliminated"] += case["outcome"] in ("eliminated", "social_security")


def _earlier(conn, truth: pd.DataFrame, first: tuple, now: date, catalogue: list[str], rng: np.random.Generator,
             written: dict[str, int]) -> None:
    """The months before the first published week: the registry's entries as cases (once)."""
    if conn.execute(select(m.Case.id).where(m.Case.source_detail == EARLIER).limit(1)).first() is not None:
        return
    _, cutoff, run_id = first
    start = lc.add_months(cutoff, -EARLIER_MONTHS)
    places = {h: (t, v) for h, t, v in conn.execute(select(m.Score.household_id, m.Score.township, m.Score.village)
                                                       .where(m.Score.run_id == run_id))}
    towns = sorted({t for t, _ in places.values()})
    entered = truth.loc[(truth["entry_date"] >= start) & (truth["entry_date"] < cutoff)
                        & truth["household_id"].isin(places)].drop_duplicates("household_id")
    for row in entered.sort_values(["entry_date", "household_id"]).itertuples(index=False):
        township, village = places[row.household_id]
        refused = rng.random() < EARLIER_REFUSED
        # Identified on the entry date: by the county's decision, or by its answer to an appeal.
        decision = row.entry_date - timedelta(days=int(rng.integers(12, 25)) if refused else 0)
        lead = decision - timedelta(days=int(rng.integers(9, 15)))
        steps = _earlier_steps(lead, decision, rng)
        if refused:
            steps[-1] = ("county_decision", decision, {"identified": False, "note": NOTE})
            steps += [("appeal", decision + timedelta(days=int(rng.integers(2, 8))), {"note": f"申诉{NOTE}"}),
                      ("appeal_decision", row.entry_date, {"overturned": True, "note": f"复核属实{NOTE}"})]
        steps.append(("measure", row.entry_date + timedelta(days=int(rng.integers(3, 21))),
                      {"measure": catalogue[int(rng.integers(len(catalogue)))], "note": NOTE}))
        if row.elimination_date is not None:
            day = max(row.elimination_date, lc.add_months(row.entry_date, lc.LISTED_MONTHS))
            steps.append(("elimination_check", day, {**dict.fromkeys(lc.ELIMINATION_CHECKS, True), "note": NOTE}))
        source = EARLIER_SOURCES[int(rng.integers(len(EARLIER_SOURCES)))]
        _write(conn, row.household_id, township, village, source, EARLIER, lead, steps, now,
               _user(township, towns, rng), written)
        written["earlier_cases"] += 1
    # A few refused households that never entered appealed in vain, up to the published weeks (some
    # answers still to come, or late).
    never = sorted(set(places) - set(truth["household_id"]))
    for household in rng.choice(never, size=min(len(never), max(1, len(entered) // 5)), replace=False):
        township, village = places[household]
        decision = start + timedelta(days=int(rng.integers(0, max(1, (now - start).days - 12))))
        lead = decision - timedelta(days=int(rng.integers(9, 15)))
        steps = _earlier_steps(lead, decision, rng)
        steps[-1] = ("county_decision", decision, {"identified": False, "note": NOTE})
        appeal = decision + timedelta(days=int(rng.integers(2, 8)))
        steps += [("appeal", appeal, {"note": f"申诉{NOTE}"}),
                  ("appeal_decision", appeal + timedelta(days=int(rng.integers(5, 15))),
                   {"overturned": False, "note": f"维持原结论{NOTE}"})]
        _write(conn, str(household), township, village, EARLIER_SOURCES[int(rng.integers(2))], EARLIER, lead, steps,
               now, _user(township, towns, rng), written)
        written["earlier_cases"] += 1


def _earlier_steps(lead: date, decision: date, rng: np.random.Generator) -> list:
    """Home check, notice (perhaps an objection), review and an identifying decision on ``decision``."""
    notice = lead + timedelta(days=1)
    steps = [("home_check", lead, {"at_risk": True, "risk_types": [], "note": NOTE}),
             ("village_notice", notice, {"note": NOTE})]
    steps += _objection(notice, rng)
    steps.append(("township_review", notice + timedelta(days=lc.NOTICE_DAYS), {"agree": True, "note": NOTE}))
    steps.append(("county_decision", max(decision, notice + timedelta(days=lc.NOTICE_DAYS)),
                  {"identified": True, "note": NOTE}))
    return steps

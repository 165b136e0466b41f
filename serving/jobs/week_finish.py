"""What both weekly engines do around scoring, so a week is the same week whichever engine scored it.

Before scoring (``before_scoring``, on the driver): the department warnings (staged), what officers
already know (the follow-up holds, ``serving.store.followup``) and the shock plan (which areas'
households get a log-odds offset, ``serving.weekly.shock``). After scoring (``finish_week``): the
week's new work (``serving.core.new_work``), the shock record, the quarter's audit sample, the
watch list's explanations, drift, model health, staging every row, publishing. After publishing
(``after_week``): the findings, the challenger's shadow scores, the officers' verdict and the
follow-through figures.

The single-machine job (``serving.jobs.weekly``) scores the week in process; the Spark job
(``serving.jobs.spark_weekly``) scores it on the executors and hands the collected results here. So
a Spark week lands in the store in the very layout a local week does, under the same lease and
publish transaction (``serving.store.publishing``): every row is staged under the run's id before
the one transaction that makes the run the week's, and a failure anywhere before that commit
leaves the week as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from features.weeks import Week
from serving.core.new_work import Followup, split_work, work_counts
from serving.core.scoring import Previous, ScoredWeek
from serving.jobs.week_run import StageClock, pause_point, publish_facts, read_counts, run_summary

# (household id, explanation JSON text, its first reason as {text_zh, text_en} or None)
Explained = tuple[str, str, dict[str, str] | None]


@dataclass
class WeekInputs:
    """What scoring needs beside the frame, decided on the driver before it.

    Attributes:
        warnings: department warnings, rule -> count (the rows are staged under the run).
        followup: what officers already know, with this week's warned households.
        shock: the shock plan; ``shock.by_area`` is the offset the scoring core adds per area.
    """

    warnings: dict[str, int]
    followup: Followup
    shock: Any

    def offsets(self, frame: pd.DataFrame):
        """The shock offset per row of ``frame`` (a whole county or one partition's townships)."""
        from serving.weekly.shock import row_offsets

        return row_offsets(frame, self.shock.rule.level, self.shock.by_area)


def before_scoring(job, run_id: int, tables: dict[str, pd.DataFrame]) -> WeekInputs:
    """Stage the week's department warnings; read the follow-up holds; decide the shock plan."""
    from serving.store.followup import read_followup
    from serving.weekly.department_feed import stage_department_warnings
    from serving.weekly.shock import shock_plan

    counts, warned = stage_department_warnings(job.engine, run_id, tables, job.cutoff, job.policy, job.settings)
    followup = replace(read_followup(job.engine, job.week, job.cutoff.date(), job.config), warned=warned)
    return WeekInputs(counts, followup, shock_plan(tables, job.cutoff, job.settings))


@dataclass
class ScoredRun:
    """A scored week as an engine hands it over.

    Attributes:
        frame: the household frame at the cutoff (sorted by household id, as ``build_household_frame``).
        scores: the scoring core's result for ``frame`` (same row order).
        previous: last published week's scores.
        explanations: given the listed households' frame and rules, (household id, JSON, first
            reason) for each: the local engine computes them here; the Spark engine already has them.
        history: the history with this week's export; before: the history as it was before it.
        read: the week's read export.
        inputs: what scoring was given (``before_scoring``).
    """

    frame: pd.DataFrame
    scores: ScoredWeek
    previous: Previous
    explanations: Callable[[pd.DataFrame, pd.DataFrame], Iterable[Explained]]
    history: Any
    before: dict[str, pd.DataFrame] | None
    read: Any
    inputs: WeekInputs


def drift_check(champion, frame, week: Week, probability, raw_tables, previous_tables) -> dict[str, Any]:
    """``monitoring.drift.check_week`` against the champion's reference sample, as store values;
    a broken monitor is recorded as ``failed`` (officers still get their list)."""
    from features.json_safe import plain, records
    from monitoring.drift import check_week

    reference = getattr(champion, "reference", None)
    if reference is None:
        return {"status": "not run", "summary": {"reason": "the champion has no reference sample"},
                "alerts": [], "feature_results": None, "report_html": None}
    try:
        # The Evidently report is rendered when someone opens it (from the stored samples), not
        # here: its plots cost more than the rest of the check.
        result = check_week(frame, reference, week=week, predictions=probability, raw_tables=raw_tables,
                            previous_tables=previous_tables, render=False)
    except Exception as error:  # noqa: BLE001 - see the docstring
        return {"status": "failed", "summary": {"error": f"{type(error).__name__}: {str(error)[:300]}"},
                "alerts": [], "feature_results": None, "report_html": None}
    features = result.feature_results
    return {
        "status": "ok",
        "summary": plain(dict(result.summary)),
        "alerts": [plain(dict(a)) for a in result.alerts],
        "feature_results": records(features) if isinstance(features, pd.DataFrame) else None,
        "report_html": None,
        "report_samples": result.report_samples,
    }


def finish_week(job, run_id: int, clock: StageClock, stages: dict[str, Any], run: ScoredRun) -> dict[str, Any]:
    """Explain, check, stage and publish a scored week (``field_evidence`` follows, outside the
    engine's failure handling: the week is published by then).

    ``clock`` is the engine's stage clock (its stages "explain", "drift", "stage" and "publish"
    start here); ``stages`` the run's stage facts. Returns the run's summary with ``run_id``,
    ``stages`` and ``department_warnings``. Raises whatever stops the week; the caller
    marks the run failed (nothing is published then)."""
    from serving.store import drift_samples, rows
    from serving.store import models as m
    from serving.store import publishing as pub
    from serving.store.capacity_moves import moves_in_force
    from serving.store.database import EncodedJSON
    from serving.store.week_documents import EXPLANATION, RULE_TRIGGERS, DocumentWriter
    from serving.store.week_documents import encode as encode_documents
    from serving.store.week_store import stage_households
    from serving.weekly.audit import week_audit

    def say(stage: str) -> None:
        clock.start(stage)
        pause_point(stage)

    engine, champion, cutoff, week = job.engine, job.champion, job.cutoff, job.week
    frame, scores, history, read = run.frame, run.scores, run.history, run.read
    scored, rules, listed = scores.scored, scores.rules, scores.listed
    if scores.work is None:  # the Spark engine splits the (small) list's work on the driver
        scores.work = split_work(scored, job.config, run.inputs.followup)
    # The proposals are sized by each hit area's share of the model's own risk (``scores.probability``).
    stages["shock"] = run.inputs.shock.record(frame, job.settings, job.config, scores.probability)
    # the confirmed capacity moves in force, and the capacities this week's list used for them
    stages["capacity_moves"] = {t: {"change": d, "capacity": job.config.capacity(t)}
                                for t, d in moves_in_force(engine, week).items()}
    stages["work"] = work_counts(scores.work)
    stages["audit"] = week_audit(engine, job.previous, week, cutoff, scored, job.settings)

    say("explain")
    # Explanations are compressed into their township's blob as they are made: the week's
    # explanations are never all in memory at once, only their compressed bytes.
    top: dict[str, dict[str, str] | None] = {}
    listed_frame = frame.loc[listed].reset_index(drop=True)
    township_of = dict(zip(listed_frame["household_id"], listed_frame["township"], strict=True))
    explanations = DocumentWriter(EXPLANATION)
    for household_id, text, first in run.explanations(listed_frame, rules.loc[listed].reset_index(drop=True)):
        top[household_id] = first
        explanations.add(township_of[household_id], household_id, EncodedJSON(text))
    if len(top) != len(listed_frame):
        raise RuntimeError(f"{len(top)} explanations for {len(listed_frame)} listed households; nothing published")
    pub.stage_rows(engine, m.WeekDocument, explanations.rows(), run_id)

    say("drift")
    drift = drift_check(champion, frame, week, scores.probability, read.tables, run.before)
    stages["drift"] = drift["status"]
    stages["model_health"] = _health(job, history.tables, frame, scores.probability, run.previous.probability)
    # Publishing needs only these of the export; the raw tables and the history as it was
    # before this week served the drift checks and are let go (at 1M households, gigabytes).
    quarantined = list(rows.quarantine_rows(read))
    counts = read_counts(read)
    result = run_summary(job, read, households_scored=len(frame), watchlist_size=int(listed.sum()),
                         drift_alerts=len(drift["alerts"]), seconds=0.0)
    run.read = run.before = read = None

    say("stage")
    shown, stages["registry_versions"] = stage_households(engine, run_id, job.previous, history.tables, frame, cutoff)
    pub.stage_rows(engine, m.Score, rows.score_rows(scored, top, shown), run_id)
    pause_point("stage-scores")
    listed_rows = scored.loc[listed]
    pub.stage_rows(engine, m.WatchlistEntry, (
        {"household_id": h, "township": t, "reasons": list(rs)}
        for h, t, rs in zip(listed_rows["household_id"], listed_rows["township"], listed_rows["reasons"], strict=True)
    ), run_id)
    pub.stage_rows(engine, m.WeekWork, scores.work[["household_id", "township", "work", "why"]].to_dict(
        orient="records"), run_id)
    pub.stage_rows(engine, m.WeekDocument, encode_documents(
        RULE_TRIGGERS, rows.rule_triggers(rules, frame["township"].to_numpy())), run_id)
    pub.stage_rows(engine, m.QuarantineRow, quarantined, run_id)
    samples, reference = drift_samples.stage(engine, drift.get("report_samples"))
    pub.stage_rows(engine, m.DriftResult, [{
        "status": drift["status"], "summary": drift["summary"],
        "feature_results": drift["feature_results"], "report_html": drift["report_html"],
        "report_samples": samples, "report_reference": reference,
    }], run_id)
    pub.stage_rows(engine, m.DriftAlert, (rows.alert_row(a) for a in drift["alerts"]), run_id)
    staged = staged_counts(engine, run_id)
    if staged != {"scores": len(frame), "watchlist": int(listed.sum())}:
        raise RuntimeError(f"staged {staged} for {len(frame)} households scored and {int(listed.sum())} listed; "
                           "nothing published / 行数不符，未发布")

    clock.start("publish")
    result["seconds"] = clock.total()
    pub.publish(engine, run_id, week, cutoff.date(), publish_facts(result, counts, stages),
                before_commit=lambda: pause_point("publish"))
    clock.start(None)
    result["seconds"] = clock.total()
    return {**result, "run_id": run_id, "stages": stages, "department_warnings": run.inputs.warnings}


def after_week(job, result: dict[str, Any], run: ScoredRun, clock: StageClock, *, challenger=None,
               from_registry: bool = False) -> dict[str, Any]:
    """After publishing (officers have their list): the week's findings, the challenger's shadow
    scores and the field's verdict (``serving.jobs.field_evidence``) and the follow-through
    figures, none of which fails the week. Their seconds are added to what the command reports
    (the published run keeps the week's)."""
    from serving.jobs.field_evidence import after_publish

    result["seconds"] = clock.total()
    result.update(week_findings(result["stages"]))  # not run columns: the run keeps them in its stages
    field_started = time.perf_counter()
    result["field"] = after_publish(job, result["run_id"], run.frame, run.scores.probability, run.history.tables,
                                    challenger, from_registry=from_registry)
    follow = _follow_through(job.engine, job.settings, job.week)
    clock.seconds["field evidence"] = round(time.perf_counter() - field_started, 3)
    result["seconds"] = clock.total()
    return {**result, **follow}


def week_findings(stages: dict[str, Any]) -> dict[str, Any]:
    """The shock response and the audit as the run's summary reports them (`fanpin weekly --json`)."""
    from serving.weekly.audit import summary

    shock = stages.get("shock") or {}
    return {"shock": {"areas": [{k: a[k] for k in ("area", "events", "hit_share", "per_100", "statement_zh",
                                                   "statement_en")} for a in shock.get("areas", [])],
                      "adjustment": (shock.get("adjustment") or {}).get("offset"),
                      "proposals": shock.get("proposals", []),
                      "capacity_moves_in_force": stages.get("capacity_moves") or {}},
            "audit_sample": summary(stages.get("audit")),
            "hidden_hardship_share": (stages.get("audit") or {}).get("estimate")}


def _follow_through(engine, settings, week: Week) -> dict[str, Any]:
    """The week's follow-through headline (``serving.store.follow_through``): read after publishing,
    never failing the week (its error is reported instead)."""
    from serving.store.database import session_factory
    from serving.store.follow_through import figures, headline

    try:
        with session_factory(engine)() as session:
            return headline(figures(session, settings.home, week, listed_only=True))
    except Exception as error:  # noqa: BLE001 - the officers have their list; a broken figure must not undo that
        return {"follow_through": {"error": f"{type(error).__name__}: {str(error)[:300]}"}, "missed_share": None,
                "alerts_per_officer_week": None}


def staged_counts(engine, run_id: int) -> dict[str, int]:
    """How many score and watch-list rows the run has staged (checked before it is published)."""
    from sqlalchemy import func, select

    from serving.store import models as m

    with engine.connect() as conn:
        scores = conn.execute(select(func.count()).select_from(m.Score).where(m.Score.run_id == run_id)).scalar_one()
        listed = conn.execute(select(func.count()).select_from(m.WatchlistEntry)
                              .where(m.WatchlistEntry.run_id == run_id)).scalar_one()
    return {"scores": int(scores), "watchlist": int(listed)}


def _health(job, tables, frame, probability, previous) -> dict[str, Any]:
    from serving.jobs.model_health import week_health

    return week_health(job, tables, frame, probability, previous)

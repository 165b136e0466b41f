"""What both weekly engines do once the week is scored: department warnings, the watch list's
explanations, drift, model health, staging every row, publishing, then the field evidence
(shadow scoring of the challenger, the officers' verdict).

The single-machine job (``serving.jobs.weekly``) scores the week in process; the Spark job
(``serving.jobs.spark_weekly``) scores it on the executors and hands the collected results here. So
a Spark week lands in the store in the very layout a local week does, under the same lease and
publish transaction (``serving.store.publishing``): every row is staged under the run's id before
the one transaction that makes the run the week's, and a failure anywhere before that commit
leaves the week as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from features.weeks import Week
from serving.core.scoring import Previous, ScoredWeek
from serving.jobs.week_run import StageClock, pause_point, publish_facts, read_counts, run_summary

# (household id, explanation JSON text, its first reason as {text_zh, text_en} or None)
Explained = tuple[str, str, dict[str, str] | None]


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
    """

    frame: pd.DataFrame
    scores: ScoredWeek
    previous: Previous
    explanations: Callable[[pd.DataFrame, pd.DataFrame], Iterable[Explained]]
    history: Any
    before: dict[str, pd.DataFrame] | None
    read: Any


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
    from serving.store.database import EncodedJSON
    from serving.store.week_documents import EXPLANATION, RULE_TRIGGERS, DocumentWriter
    from serving.store.week_documents import encode as encode_documents
    from serving.store.week_store import stage_households
    from serving.weekly.department_feed import stage_department_warnings

    def say(stage: str) -> None:
        clock.start(stage)
        pause_point(stage)

    engine, champion, policy, cutoff, week = job.engine, job.champion, job.policy, job.cutoff, job.week
    frame, scores, history, read = run.frame, run.scores, run.history, run.read
    scored, rules, listed = scores.scored, scores.rules, scores.listed
    warning_counts = stage_department_warnings(engine, run_id, history.tables, cutoff, policy, job.settings)

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
    return {**result, "run_id": run_id, "stages": stages, "department_warnings": warning_counts}


def field_evidence(job, result: dict[str, Any], run: ScoredRun, *, challenger=None,
                   from_registry: bool = False) -> dict[str, Any]:
    """After publishing (officers have their list): the challenger's shadow scores and the field's
    verdict (``serving.jobs.field_evidence``; never raises), as the result's ``field``."""
    from serving.jobs.field_evidence import after_publish

    result["field"] = after_publish(job, result["run_id"], run.frame, run.scores.probability, run.history.tables,
                                    challenger, from_registry=from_registry)
    return result


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

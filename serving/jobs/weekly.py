"""The weekly job: one ISO week's export in, one published week in the store out.

Stages (each a call into the package that owns it):
read + validate (``features.reading``) -> history append (``serving.weekly.history``) -> household frame
at the week's cutoff (``features.household_frame``) -> score, rule triggers and watch list (the
scoring core, ``serving.core.scoring.score_week``) -> explanations for the watch list in batches
(``serving.weekly.explaining``), staged as they are made -> drift (``monitoring.drift``) -> stage the
rest (``serving.store.rows``) and publish (``serving.store.publishing``: one transaction makes
the staged run the week's). After publishing, ``serving.jobs.field_evidence`` scores the
registry's challenger in the shadow and reads the officers' verdict (never failing the week).

``FANPIN_TEST_PAUSE_AT=<stage>`` makes the job stop and wait at that stage (after printing
``paused at <stage>`` to stderr), so tests can SIGKILL it at a known point.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from features.weeks import Week
from serving.core.new_work import work_counts
from serving.jobs.field_evidence import after_publish
from serving.jobs.model_health import week_health
from serving.jobs.week_run import (
    STAGES,
    StageClock,
    append_week,
    as_week,
    pause_point,
    prepare_job,
    previous_scores,
    publish_facts,
    read_counts,
    read_export,
    reconciled,
    run_summary,
)
from serving.settings import Settings


def _drift(champion, frame, week: Week, probability, raw_tables, previous_tables) -> dict[str, Any]:
    """``monitoring.drift.check_week`` against the champion's reference sample, as store values."""
    from features.json_safe import plain, records
    from monitoring.drift import check_week

    reference = getattr(champion, "reference", None)
    if reference is None:
        return {"status": "not run", "summary": {"reason": "the champion has no reference sample"},
                "alerts": [], "feature_results": None, "report_html": None}
    # The Evidently report is rendered when someone opens it (from the stored samples), not here:
    # its plots cost more than the rest of the check.
    result = check_week(frame, reference, week=week, predictions=probability, raw_tables=raw_tables,
                        previous_tables=previous_tables, render=False)
    features = result.feature_results
    return {
        "status": "ok",
        "summary": plain(dict(result.summary)),
        "alerts": [plain(dict(a)) for a in result.alerts],
        "feature_results": records(features) if isinstance(features, pd.DataFrame) else None,
        "report_html": None,
        "report_samples": result.report_samples,
    }


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


def run_week(data_dir: str | Path, week: Week | str, settings: Settings, *, champion=None, started_by: str | None = None,
             progress: Callable[[str], None] | None = None, accept_incomplete: str | None = None,
             challenger=None, started: float | None = None) -> dict[str, Any]:
    """Run the weekly job for one ISO week and publish it (see the module docstring).

    Args:
        data_dir: a county folder (``exports/<week>/``) or the week's export folder.
        week: ISO week, ``YYYY-Www`` (a ``Week``, or text parsed once here).
        settings: store, home (history) and model registry locations.
        champion: a loaded champion (default: ``serving.tracking.load_champion``).
        started_by: recorded as the run's operator (default: the OS user).
        progress: called with each stage name as it starts.
        accept_incomplete: publish even outside the completeness bounds, for this (audited) reason.
        challenger: a loaded challenger to shadow-score (default: the registry's, when the
            champion also comes from the registry; none when a champion is passed without one).
        started: ``time.perf_counter()`` when the wait began (a command: its process's start,
            ``week_run.process_started``); the ``start-up`` stage runs from it to reading.

    Returns:
        week, households_in, households_scored, rows_quarantined, watchlist_size, model_version,
        drift_alerts, seconds, run_id, and the stage statuses.
    """
    from features.household_frame import build_household_frame
    from serving.core.scoring import score_week
    from serving.store import drift_samples, rows
    from serving.store import models as m
    from serving.store import publishing as pub
    from serving.store.capacity_moves import moves_in_force
    from serving.store.database import EncodedJSON
    from serving.store.followup import read_followup
    from serving.store.week_documents import EXPLANATION, RULE_TRIGGERS, DocumentWriter
    from serving.store.week_documents import encode as encode_documents
    from serving.store.week_store import reusable_explanations, stage_households
    from serving.weekly.audit import week_audit
    from serving.weekly.department_feed import stage_department_warnings
    from serving.weekly.explaining import explained
    from serving.weekly.shock import shock_response

    week = as_week(week)
    clock = StageClock(progress, task=f"weekly {week}", total=len(STAGES), started=started)

    def say(stage: str) -> None:
        clock.start(stage)
        pause_point(stage)

    from_registry = champion is None
    job = prepare_job(data_dir, week, settings, champion)
    job.accept_incomplete = accept_incomplete
    engine, champion, policy, cutoff, week = job.engine, job.champion, job.policy, job.cutoff, job.week
    run_id = pub.start_run(engine, week, started_by=started_by)
    stages: dict[str, Any] = {"seconds": clock.seconds}
    try:
        say("read")
        history, read = read_export(job, run_id, stages)

        say("history")
        before = history.tables
        history = append_week(job, history, read, stages)

        say("frame")
        frame = build_household_frame(history.tables, cutoff, policy)
        stages["households"] = reconciled(read, frame)
        previous = previous_scores(engine, job.previous)
        warning_counts, warned = stage_department_warnings(engine, run_id, history.tables, cutoff, policy, settings)
        followup = replace(read_followup(engine, week, cutoff.date(), job.config), warned=warned)

        offsets, stages["shock"] = shock_response(history.tables, cutoff, frame, settings, job.config,
                                                  risk=lambda: champion.model.predict_proba(frame)[:, 1])
        # the confirmed capacity moves in force, and the capacities this week's list used for them
        stages["capacity_moves"] = {t: {"change": d, "capacity": job.config.capacity(t)}
                                    for t, d in moves_in_force(engine, week).items()}
        week_scores = score_week(frame, champion.model, policy, job.config, previous, stage=say, followup=followup,
                                 offset=offsets)
        scored, rules, listed = week_scores.scored, week_scores.rules, week_scores.listed
        stages["work"] = work_counts(week_scores.work)
        stages["audit"] = week_audit(engine, job.previous, week, cutoff, scored, settings)

        say("explain")
        # Explanations are compressed into their township's blob as they are made: the week's
        # explanations are never all in memory at once, only their compressed bytes.
        top: dict[str, dict[str, str] | None] = {}
        known = reusable_explanations(engine, job.previous, champion.model, str(champion.version), frame.loc[listed])
        stages["explanations_reused"] = len(known)
        listed_frame = frame.loc[listed].reset_index(drop=True)
        township_of = dict(zip(listed_frame["household_id"], listed_frame["township"], strict=True))
        explanations = DocumentWriter(EXPLANATION)
        for household_id, text, first in explained(champion.model, listed_frame, policy,
                                                   rules.loc[listed].reset_index(drop=True), previous.probability,
                                                   known=known):
            top[household_id] = first
            explanations.add(township_of[household_id], household_id, EncodedJSON(text))
        pub.stage_rows(engine, m.WeekDocument, explanations.rows(), run_id)

        say("drift")
        try:
            drift = _drift(champion, frame, week, week_scores.probability, read.tables, before)
        except Exception as error:  # a broken monitor must not stop officers getting their list
            drift = {"status": "failed", "summary": {"error": f"{type(error).__name__}: {str(error)[:300]}"},
                     "alerts": [], "feature_results": None, "report_html": None}
        stages["drift"] = drift["status"]
        stages["model_health"] = week_health(job, history.tables, frame, week_scores.probability, previous.probability)
        # Publishing needs only these of the export; the raw tables and the history as it was
        # before this week served the drift checks and are let go (at 1M households, gigabytes).
        quarantined = list(rows.quarantine_rows(read))
        counts = read_counts(read)
        result = run_summary(job, read, households_scored=len(frame), watchlist_size=int(listed.sum()),
                             drift_alerts=len(drift["alerts"]), seconds=0.0)
        del read, before

        say("stage")
        shown, stages["registry_versions"] = stage_households(engine, run_id, job.previous, history.tables, frame, cutoff)
        pub.stage_rows(engine, m.Score, rows.score_rows(scored, top, shown), run_id)
        pause_point("stage-scores")
        listed_rows = scored.loc[listed]
        pub.stage_rows(engine, m.WatchlistEntry, (
            {"household_id": h, "township": t, "reasons": list(rs)}
            for h, t, rs in zip(listed_rows["household_id"], listed_rows["township"], listed_rows["reasons"],
                                strict=True)
        ), run_id)
        pub.stage_rows(engine, m.WeekWork, week_scores.work[["household_id", "township", "work", "why"]].to_dict(
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

        clock.start("publish")
        result["seconds"] = clock.total()
        pub.publish(engine, run_id, week, cutoff.date(), publish_facts(result, counts, stages),
                    before_commit=lambda: pause_point("publish"))
        clock.start(None)
    except BaseException as error:
        if not isinstance(error, (KeyboardInterrupt, SystemExit)):
            pub.fail_run(engine, run_id, f"{type(error).__name__}: {error}")
        raise
    result["seconds"] = clock.total()
    result.update(week_findings(stages))  # not run columns: the run keeps them in its stages
    # After publishing: officers have their list; the challenger and the field's verdict follow.
    # Their seconds are added to what the command reports (the published run keeps the week's).
    field_started = time.perf_counter()
    result["field"] = after_publish(job, run_id, frame, week_scores.probability, history.tables, challenger,
                                    from_registry=from_registry)
    follow = _follow_through(engine, settings, week)
    clock.seconds["field evidence"] = round(time.perf_counter() - field_started, 3)
    result["seconds"] = clock.total()
    return {**result, "run_id": run_id, "stages": stages, "department_warnings": warning_counts, **follow}


def _follow_through(engine, settings: Settings, week: Week) -> dict[str, Any]:
    """The week's follow-through headline (``serving.store.follow_through``): read after publishing,
    never failing the week (its error is reported instead)."""
    from serving.store.database import session_factory
    from serving.store.follow_through import figures, headline

    try:
        with session_factory(engine)() as session:
            return headline(figures(session, settings.home, week, listed_only=True))
    except Exception as error:  # the officers have their list; a broken figure must not undo that
        return {"follow_through": {"error": f"{type(error).__name__}: {str(error)[:300]}"}, "missed_share": None,
                "alerts_per_officer_week": None}

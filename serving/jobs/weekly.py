"""The weekly job: one ISO week's export in, one published week in the store out.

Stages (each a call into the package that owns it):
read + validate (``features.reading``) -> history append (``serving.weekly.history``) -> household frame
at the week's cutoff (``features.household_frame``) -> department warnings, follow-up holds and the
shock plan (``serving.jobs.week_finish.before_scoring``) -> score, rule triggers and watch list (the
scoring core, ``serving.core.scoring.score_week``) -> new work, audit, explanations for the watch
list in batches, drift, model health, staging and publishing (``serving.jobs.week_finish``: the
steps the Spark engine, ``serving.jobs.spark_weekly``, shares) -> after publishing, the findings,
the challenger's shadow scores, the officers' verdict and follow-through (never failing the week).

``FANPIN_TEST_PAUSE_AT=<stage>`` makes the job stop and wait at that stage (after printing
``paused at <stage>`` to stderr), so tests can SIGKILL it at a known point.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from features.weeks import Week
from serving.jobs.week_finish import ScoredRun, after_week, before_scoring, finish_week
from serving.jobs.week_run import (
    STAGES,
    StageClock,
    append_week,
    as_week,
    pause_point,
    prepare_job,
    previous_scores,
    read_export,
    reconciled,
)
from serving.settings import Settings


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
    from serving.store import publishing as pub
    from serving.store.week_store import reusable_explanations
    from serving.weekly.explaining import explained

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
        inputs = before_scoring(job, run_id, history.tables)
        week_scores = score_week(frame, champion.model, policy, job.config, previous, stage=say,
                                 followup=inputs.followup, offset=inputs.offsets(frame))

        def explanations(listed_frame: pd.DataFrame, listed_rules: pd.DataFrame):
            known = reusable_explanations(engine, job.previous, champion.model, str(champion.version), listed_frame)
            stages["explanations_reused"] = len(known)
            return explained(champion.model, listed_frame, policy, listed_rules, previous.probability, known=known)

        run = ScoredRun(frame, week_scores, previous, explanations, history, before, read, inputs)
        del before, read
        result = finish_week(job, run_id, clock, stages, run)
    except BaseException as error:
        if not isinstance(error, (KeyboardInterrupt, SystemExit)):
            pub.fail_run(engine, run_id, f"{type(error).__name__}: {error}")
        raise
    return after_week(job, result, run, clock, challenger=challenger, from_registry=from_registry)

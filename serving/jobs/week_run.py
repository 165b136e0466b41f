"""What both weekly engines share around the scoring core: the week's set-up (cutoff, export,
policy, watch-list settings, store, champion), the stage clock and test pause points, reading the
export into the history, last week's scores, and the run's summary.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features.progress import report
from features.weeks import Week
from serving.core.scoring import Previous
from serving.settings import Settings

STAGES = ("read", "history", "frame", "score", "rules", "watchlist", "explain", "drift", "stage", "publish")
PAUSE_ENV = "FANPIN_TEST_PAUSE_AT"
# The weekly job's log name (both engines): what operators and log filters know it by.
log = logging.getLogger("serving.weekly")


class WeeklyError(RuntimeError):
    """The job cannot run (bad week, missing export, no history, no champion); one clear line."""


def as_week(value: object) -> Week:
    """The week a job's caller named, parsed once at the job's entry (``features.weeks.Week``), as
    a WeeklyError when malformed; everything below the entry takes the Week."""
    try:
        return Week.parse(value)
    except ValueError as error:
        raise WeeklyError(str(error)) from None


def pause_point(stage: str) -> None:
    """Wait here when the test hook names this stage (never set outside tests)."""
    if os.environ.get(PAUSE_ENV) == stage:
        print(f"paused at {stage}", file=sys.stderr, flush=True)
        time.sleep(3600)


def export_folder(data_dir: Path, week: Week) -> Path:
    """The week's export under ``data_dir`` (``Week.export_folder``), as a WeeklyError when absent."""
    try:
        return week.export_folder(Path(data_dir))
    except FileNotFoundError as error:
        raise WeeklyError(str(error)) from None


def fingerprint(folder: Path) -> str:
    """SHA-256 over the export's file names and bytes (what exactly was scored)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


START_UP = "start-up"


def process_started() -> float:
    """The ``time.perf_counter()`` reading at which this process started (Linux: its start time in
    /proc), so a command's start-up (interpreter, imports, settings, the store, the champion) is
    measured from where the user's wait began; now where /proc is not available."""
    now = time.perf_counter()
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])  # field 22
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return now
    return now - max(uptime - ticks / os.sysconf("SC_CLK_TCK"), 0.0)


class StageClock:
    """Wall seconds per stage: each ``start`` ends the stage before it (``start(None)`` ends the last).

    The time from ``started`` (default: now) to the first stage is the ``start-up`` stage: setting
    up the run (store, champion), and for a command given its process's start
    (``process_started``), the interpreter and imports too. Given ``task`` and ``total`` (the number
    of stages), each start is also logged as progress (``features.progress``), so a log shows one
    line per stage.
    """

    def __init__(self, progress: Callable[[str], None] | None = None, *, task: str = "weekly",
                 total: int | None = None, started: float | None = None) -> None:
        self.started = time.perf_counter() if started is None else started
        self.seconds: dict[str, float] = {}
        self._stage: str | None = START_UP
        self._since = self.started
        self._progress = progress
        self._task, self._total = task, total

    def start(self, stage: str | None) -> None:
        now = time.perf_counter()
        if self._stage is not None:
            self.seconds[self._stage] = round(now - self._since, 3)
        self._stage, self._since = stage, now
        if self._total:
            done = self._total if stage is None else min(len(self.seconds) - (START_UP in self.seconds),
                                                          self._total - 1)
            report(log, self._task, done, self._total, stage or "done")
        if stage is not None and self._progress is not None:
            self._progress(stage)

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 3)


@dataclass
class Job:
    """What both engines (``serving.jobs.weekly`` and ``serving.jobs.spark_weekly``) set up before a run."""

    data_dir: Path
    week: Week
    folder: Path
    settings: Settings
    home: Path
    policy: Any
    config: Any
    engine: Any
    champion: Any
    # The latest week published before this one (label, run id), read once when the job is set
    # up: completeness, last week's scores and the registry versions all compare with it.
    previous: tuple[Week, int] | None = None
    accept_incomplete: str | None = None  # the operator's reason for publishing an incomplete week
    fingerprint: str | None = None  # of the export, once read

    @property
    def cutoff(self) -> pd.Timestamp:
        return self.week.cutoff


def prepare_job(data_dir: str | Path, week: Week, settings: Settings, champion=None) -> Job:
    """The week's export, county policy and watch-list settings, the migrated store, the previous
    published week and the champion; a WeeklyError names whatever is missing."""
    from features.policy import load_policy
    from serving.core.watchlist import load_watchlist_config
    from serving.store.database import get_engine, upgrade
    from serving.store.publishing import previous_published

    folder = export_folder(Path(data_dir), week)
    policy = load_policy(settings.policy_path)
    config = load_watchlist_config(settings.watchlist_path)
    home = settings.ensure_home()
    engine = get_engine(settings)
    upgrade(engine)
    from serving.store.followup import with_stored_capacities

    # an admin's capacities over the file's, and the shock capacity moves the county confirmed
    config = with_stored_capacities(engine, config, week)
    if champion is None:
        from serving.tracking import load_champion

        try:
            champion = load_champion(settings)
        except Exception as error:
            raise WeeklyError(f"no champion model {settings.model_uri}: {error} / 未找到冠军模型") from None
    return Job(Path(data_dir), week, folder, settings, home, policy, config, engine, champion,
               previous=previous_published(engine, week))


def read_export(job: Job, run_id: int, stages: dict[str, Any]):
    """(history so far, the week's read and validated export); records the run's input facts.

    A first deployment's history is imported once from ``DIR/history`` when the home has none."""
    from features.mapping_profile import load_profile
    from features.reading import read_folder
    from serving.store import publishing as pub
    from serving.weekly import history as hist

    history = hist.load_history(job.home)
    if history is None:
        source = job.data_dir / "history"
        if not source.is_dir():
            raise WeeklyError("no history: run `fanpin history import --data DIR` first / 请先导入历史数据")
        hist.import_history(source, job.home)
        stages["history_import"] = str(source)
        history = hist.load_history(job.home)
    profile = load_profile(job.settings.profile_path)  # the county's headers and labels, if it has a profile
    read = read_folder(job.folder, history=history.tables, profile=profile)
    stages["profile"] = profile.record()
    check_complete(job, read, run_id, stages)
    job.fingerprint = fingerprint(job.folder)
    pub.update_run(job.engine, run_id, data_fingerprint=job.fingerprint,
                   households_in=read.counts["households"]["rows_in"],
                   rows_quarantined=read.totals["rows_quarantined"], model_name=job.settings.model_name,
                   model_version=str(job.champion.version), model_run_id=str(job.champion.run_id))
    return history, read


def check_complete(job: Job, read, run_id: int, stages: dict[str, Any]) -> None:
    """Refuse an export outside the completeness bounds unless the operator accepted it
    (``serving.weekly.completeness``); an acceptance is audited and kept with the run."""
    from serving.store.publishing import who
    from serving.weekly import completeness

    previous_week, previous = completeness.previous_counts(job.engine, job.previous)
    bounds = completeness.Bounds(job.settings.completeness_min_ratio, job.settings.completeness_max_ratio,
                                 job.settings.completeness_max_moved)
    try:
        accepted = completeness.check(read, previous, bounds, previous_week=previous_week,
                                      accept_reason=job.accept_incomplete)
    except completeness.IncompleteWeek as error:
        raise WeeklyError(str(error)) from None
    if accepted:
        stages["accepted_incomplete"] = {"reason": job.accept_incomplete, "problems": accepted}
        completeness.audit_acceptance(job.engine, job.week, run_id, who(), job.accept_incomplete or "", accepted)


def reconciled(read, frame: pd.DataFrame) -> dict[str, int]:
    """in = scored + quarantined + held + not scored, nothing stale (``serving.weekly.completeness``)."""
    from serving.weekly.completeness import IncompleteWeek, reconcile

    try:
        return reconcile(read, frame["household_id"])
    except IncompleteWeek as error:
        raise WeeklyError(str(error)) from None


def append_week(job: Job, history, read, stages: dict[str, Any]):
    """The history with this week's export appended (and saved when it changed)."""
    from serving.weekly import history as hist

    # Held rows (a suspected 万元 income) stay out: the household keeps its last confirmed survey.
    # A corrected export of the week replaces what the week contributed (not skipped as covered).
    try:
        history, stages["history"] = hist.apply_week(job.home, history, read.scoring_tables(), job.week, job.cutoff,
                                                     job.fingerprint or fingerprint(job.folder))
    except hist.HistoryConflict as error:
        raise WeeklyError(str(error)) from None
    stages["rows_held"] = read.rows_held
    return history


def previous_scores(engine, previous: tuple[Week, int] | None) -> Previous:
    """Probabilities and the watch list of the previous published week (``Job.previous``: for
    change, 'new' and 'rising'); empty and None when there is none."""
    from serving.store import models as m

    if previous is None:
        return Previous()
    with engine.connect() as conn:
        rows = conn.execute(
            m.Score.__table__.select()
            .with_only_columns(m.Score.household_id, m.Score.probability, m.Score.on_watchlist)
            .where(m.Score.run_id == previous[1])
        ).all()
    return Previous({h: p for h, p, _ in rows}, {h for h, _, listed in rows if listed})


def run_summary(job: Job, read, *, households_scored: int, watchlist_size: int, drift_alerts: int,
                seconds: float) -> dict[str, Any]:
    """The run's summary (the `--json` line)."""
    return {
        "week": job.week,
        "households_in": int(read.counts["households"]["rows_in"]),
        "households_scored": int(households_scored),
        "rows_quarantined": int(read.totals["rows_quarantined"]),
        "watchlist_size": int(watchlist_size),
        "model_version": str(job.champion.version),
        "drift_alerts": int(drift_alerts),
        "seconds": seconds,
    }


def read_counts(read) -> dict[str, Any]:
    """What the run keeps of the export's reading: per-table counts, the number of flagged rows,
    the rows of households dissolved this week (销户, kept) and what completeness compares."""
    from serving.weekly.completeness import export_counts

    return {"read": read.counts, "flags": int(len(read.flags)), "dissolved": dict(read.dissolved),
            "non_data": read.non_data_counts(), "completeness": export_counts(read)}


def publish_facts(result: dict[str, Any], read_counts: dict[str, Any], stages: dict[str, Any]) -> dict[str, Any]:
    """The run columns written when the week is published."""
    return {**{k: v for k, v in result.items() if k not in ("week", "model_version")}, "counts": read_counts,
            "stages": stages}

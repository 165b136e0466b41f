"""The weekly job: one ISO week's export in, one published week in the store out.

Stages (each a call into the package that owns it):
read + validate (``features.reading``) -> history append (``serving.history``) -> household frame
at the week's cutoff (``features.household_frame``) -> score (the champion, ``models.registry``)
-> rule triggers (``features.rules``) -> watch list (``serving.watchlist``) -> explanations for the
watch list in batches (``models.explanation``), staged as they are made -> drift
(``monitoring.drift``; "not run" while that package has no ``check_week``) -> stage the rest and
publish (``serving.store.publishing``: one transaction makes the staged run the week's).

``FANPIN_TEST_PAUSE_AT=<stage>`` makes the job stop and wait at that stage (after printing
``paused at <stage>`` to stderr), so tests can SIGKILL it at a known point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.progress import report
from serving.explaining import records
from serving.settings import Settings

STAGES = ("read", "history", "frame", "score", "rules", "watchlist", "explain", "drift", "stage", "publish")
log = logging.getLogger(__name__)
PAUSE_ENV = "FANPIN_TEST_PAUSE_AT"


class WeeklyError(RuntimeError):
    """The job cannot run (bad week, missing export, no history, no champion); one clear line."""


def week_cutoff(week: str) -> pd.Timestamp:
    """Sunday ending the ISO week (the point-in-time cutoff), as a WeeklyError when malformed."""
    from features.weeks import week_cutoff as cutoff

    try:
        return cutoff(canonical_week(week))
    except ValueError as error:
        raise WeeklyError(str(error)) from None


def canonical_week(week: str) -> str:
    """The week's one spelling (``features.weeks.normalise_week``), as a WeeklyError when malformed."""
    from features.weeks import normalise_week

    try:
        return normalise_week(week)
    except ValueError as error:
        raise WeeklyError(str(error)) from None


def pause_point(stage: str) -> None:
    """Wait here when the test hook names this stage (never set outside tests)."""
    if os.environ.get(PAUSE_ENV) == stage:
        print(f"paused at {stage}", file=sys.stderr, flush=True)
        time.sleep(3600)


def export_folder(data_dir: Path, week: str) -> Path:
    """The week's export: DIR/exports/<week>, DIR/<week>, or DIR itself when it holds the tables."""
    data_dir = Path(data_dir)
    for candidate in (data_dir / "exports" / week, data_dir / week):
        if candidate.is_dir():
            return candidate
    if data_dir.name == week or any(data_dir.glob("households.*")) or any(data_dir.glob("农户信息.*")):
        return data_dir
    raise WeeklyError(f"no export for {week} under {data_dir} (expected {data_dir}/exports/{week}/) / 未找到该周导出")


def fingerprint(folder: Path) -> str:
    """SHA-256 over the export's file names and bytes (what exactly was scored)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_champion(settings: Settings):
    """The registry's champion (``models.registry.load_champion``) with fanpin's tracking URI."""
    import mlflow

    from models.registry import load_champion as load

    mlflow.set_tracking_uri(settings.tracking_uri)
    return load(name=settings.model_name, alias=settings.model_alias)


def _levels(probability: np.ndarray, policy) -> np.ndarray:
    high, medium = policy.risk_levels["high"], policy.risk_levels["medium"]
    return np.where(probability >= high, "high", np.where(probability >= medium, "medium", "low"))


def _plain(value: Any) -> Any:
    """JSON-safe, recursively: numpy scalars and arrays, timestamps, NaN -> None (PostgreSQL's JSON
    type refuses NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return records(value)
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.isoformat()[:10]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def snapshots(tables: dict[str, pd.DataFrame], frame: pd.DataFrame, cutoff: pd.Timestamp,
              chunk: int = 20_000) -> Iterator[dict[str, Any]]:
    """Per scored household: its registry row, model-input facts and members at the cutoff.

    Yielded a chunk of households at a time, so a province-sized week never holds every
    household's JSON-ready dict in memory at once (the store stages them in batches anyway).
    """
    from features.household_frame import valid_at
    from serving.explaining import facts_of

    ids = set(frame["household_id"])
    hh = valid_at(tables["households"], cutoff)
    hh = hh.loc[hh["household_id"].isin(ids)].sort_values("valid_from").drop_duplicates("household_id", keep="last")
    hh = hh.drop(columns=["valid_to"]).set_index("household_id", drop=False)
    members = valid_at(tables["members"], cutoff)
    members = members.loc[members["household_id"].isin(ids)].sort_values("valid_from")
    members = members.drop_duplicates("member_id", keep="last").drop(columns=["valid_to"])
    members = members.sort_values(["household_id", "member_id"]).reset_index(drop=True)
    member_ids = members["household_id"].to_numpy(dtype=object)
    ordered = bool(frame["household_id"].is_monotonic_increasing)
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start:start + chunk]
        part_ids = part["household_id"].to_numpy(dtype=object)
        if ordered:
            # The frame is sorted by household (build_household_frame) and so are the members:
            # a chunk's members are one contiguous slice, found by binary search.
            lo = np.searchsorted(member_ids, part_ids[0], side="left")
            hi = np.searchsorted(member_ids, part_ids[-1], side="right")
            chunk_members = members.iloc[lo:hi]
        else:
            chunk_members = members.loc[members["household_id"].isin(part_ids)]
        by_household: dict[str, list[dict[str, Any]]] = {}
        for rec in records(chunk_members):
            by_household.setdefault(rec["household_id"], []).append(rec)
        present = hh.index.intersection(part_ids)
        identity = {r["household_id"]: r for r in records(hh.loc[present])}
        for f in facts_of(part):
            yield {"household_id": f["household_id"], "identity": identity.get(f["household_id"], {}),
                   "facts": f, "members": by_household.get(f["household_id"], [])}


def _score_rows(scored: pd.DataFrame, top: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The scores table's rows (plain Python values), one household at a time."""
    names = ("household_id", "township", "village", "probability", "level", "rank", "township_rank", "change",
             "on_watchlist", "flag_new", "flag_rising", "flag_rule", "under_monitoring", "criteria_met")
    kinds = {"probability": float, "rank": int, "township_rank": int, "on_watchlist": bool, "flag_new": bool,
             "flag_rising": bool, "flag_rule": bool, "under_monitoring": bool, "level": str, "criteria_met": str}
    # Whole columns to Python values at once (``tolist``), not a NumPy scalar per cell.
    columns = []
    for name in names:
        values = scored[name]
        if name == "change":
            values = values.astype("float64").astype(object).where(values.notna(), None)
        elif name in kinds:
            values = values.astype(kinds[name])
        columns.append(values.tolist())
    for row in zip(*columns, strict=True):
        record = dict(zip(names, row, strict=True))
        reason = top.get(record["household_id"])
        record["top_reason_zh"] = reason["text_zh"] if reason else None
        record["top_reason_en"] = reason["text_en"] if reason else None
        yield record


def _drift(champion, frame, week, probability, raw_tables, previous_tables) -> dict[str, Any]:
    """Run ``monitoring.drift.check_week`` when it exists; otherwise say so."""
    try:
        from monitoring.drift import check_week
    except ImportError:
        return {"status": "not run", "summary": {"reason": "monitoring.drift.check_week not available yet"},
                "alerts": [], "feature_results": None, "report_html": None}
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
        "summary": _plain(dict(result.summary)),
        "alerts": [_plain(dict(a)) for a in result.alerts],
        "feature_results": records(features) if isinstance(features, pd.DataFrame) else None,
        "report_html": None,
        "report_samples": result.report_samples,
    }


class StageClock:
    """Wall seconds per stage: each ``start`` ends the stage before it (``start(None)`` ends the last).

    Given ``task`` and ``total`` (the number of stages), each start is also logged as progress
    (``features.progress``), so a log shows one line per stage.
    """

    def __init__(self, progress: Callable[[str], None] | None = None, *, task: str = "weekly",
                 total: int | None = None) -> None:
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._since = self.started
        self._progress = progress
        self._task, self._total = task, total

    def start(self, stage: str | None) -> None:
        now = time.perf_counter()
        if self._stage is not None:
            self.seconds[self._stage] = round(now - self._since, 3)
        self._stage, self._since = stage, now
        if self._total:
            done = self._total if stage is None else min(len(self.seconds), self._total - 1)
            report(log, self._task, done, self._total, stage or "done")
        if stage is not None and self._progress is not None:
            self._progress(stage)

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 3)


@dataclass
class Job:
    """What both engines (this module and ``serving.spark_engine``) set up before a run."""

    data_dir: Path
    week: str
    cutoff: pd.Timestamp
    folder: Path
    settings: Settings
    home: Path
    policy: Any
    config: Any
    engine: Any
    champion: Any
    accept_incomplete: str | None = None  # the operator's reason for publishing an incomplete week
    fingerprint: str | None = None  # of the export, once read


def prepare_job(data_dir: str | Path, week: str, settings: Settings, champion=None) -> Job:
    """The week's cutoff and export, county policy and watch-list settings, the migrated store and
    the champion; a WeeklyError names whatever is missing."""
    from features.policy import load_policy
    from serving.store.database import get_engine, upgrade
    from serving.watchlist import load_watchlist_config

    week = canonical_week(week)  # before anything else: one week, one label, one cutoff
    cutoff = week_cutoff(week)
    folder = export_folder(Path(data_dir), week)
    policy = load_policy(settings.policy_path)
    config = load_watchlist_config(settings.watchlist_path)
    home = settings.ensure_home()
    engine = get_engine(settings)
    upgrade(engine)
    if champion is None:
        try:
            champion = load_champion(settings)
        except Exception as error:
            raise WeeklyError(f"no champion model {settings.model_uri}: {error} / 未找到冠军模型") from None
    return Job(Path(data_dir), week, cutoff, folder, settings, home, policy, config, engine, champion)


def read_export(job: Job, run_id: int, stages: dict[str, Any]):
    """(history so far, the week's read and validated export); records the run's input facts.

    A first deployment's history is imported once from ``DIR/history`` when the home has none."""
    from features.reading import read_folder
    from serving import history as hist
    from serving.store import publishing as pub

    history = hist.load_history(job.home)
    if history is None:
        source = job.data_dir / "history"
        if not source.is_dir():
            raise WeeklyError("no history: run `fanpin history import --data DIR` first / 请先导入历史数据")
        hist.import_history(source, job.home)
        stages["history_import"] = str(source)
        history = hist.load_history(job.home)
    read = read_folder(job.folder, history=history.tables)
    check_complete(job, read, run_id, stages)
    job.fingerprint = fingerprint(job.folder)
    pub.update_run(job.engine, run_id, data_fingerprint=job.fingerprint,
                   households_in=read.counts["households"]["rows_in"],
                   rows_quarantined=read.totals["rows_quarantined"], model_name=job.settings.model_name,
                   model_version=str(job.champion.version), model_run_id=str(job.champion.run_id))
    return history, read


def check_complete(job: Job, read, run_id: int, stages: dict[str, Any]) -> None:
    """Refuse an export outside the completeness bounds unless the operator accepted it
    (``serving.completeness``); an acceptance is audited and kept with the run."""
    from serving import completeness
    from serving.store.publishing import who

    previous_week, previous = completeness.previous_counts(job.engine, job.week)
    bounds = completeness.Bounds(job.settings.completeness_min_ratio, job.settings.completeness_max_ratio)
    try:
        accepted = completeness.check(read, previous, bounds, previous_week=previous_week,
                                      accept_reason=job.accept_incomplete)
    except completeness.IncompleteWeek as error:
        raise WeeklyError(str(error)) from None
    if accepted:
        stages["accepted_incomplete"] = {"reason": job.accept_incomplete, "problems": accepted}
        completeness.audit_acceptance(job.engine, job.week, run_id, who(), job.accept_incomplete or "", accepted)


def reconciled(read, frame: pd.DataFrame) -> dict[str, int]:
    """in = scored + quarantined + held + not scored, nothing stale (``serving.completeness``)."""
    from serving.completeness import IncompleteWeek, reconcile

    try:
        return reconcile(read, frame["household_id"])
    except IncompleteWeek as error:
        raise WeeklyError(str(error)) from None


def append_week(job: Job, history, read, stages: dict[str, Any]):
    """The history with this week's export appended (and saved when it changed)."""
    from serving import history as hist

    # Held rows (a suspected 万元 income) stay out: the household keeps its last confirmed survey.
    # A corrected export of the week replaces what the week contributed (not skipped as covered).
    try:
        history, stages["history"] = hist.apply_week(job.home, history, read.scoring_tables(), job.week, job.cutoff,
                                                     job.fingerprint or fingerprint(job.folder))
    except hist.HistoryConflict as error:
        raise WeeklyError(str(error)) from None
    stages["rows_held"] = read.rows_held
    return history


def previous_scores(engine, week: str) -> tuple[dict[str, float], set[str] | None]:
    """Probabilities and the watch list of the latest week published before ``week`` (for change,
    'new' and 'rising'); empty and None when there is none."""
    from serving.store import models as m
    from serving.store import publishing as pub

    previous = pub.previous_published(engine, week)
    if previous is None:
        return {}, None
    with engine.connect() as conn:
        rows = conn.execute(
            m.Score.__table__.select()
            .with_only_columns(m.Score.household_id, m.Score.probability, m.Score.on_watchlist)
            .where(m.Score.run_id == previous[1])
        ).all()
    return {h: p for h, p, _ in rows}, {h for h, _, listed in rows if listed}


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
    from serving.completeness import export_counts

    return {"read": read.counts, "flags": int(len(read.flags)), "dissolved": dict(read.dissolved),
            "completeness": export_counts(read)}


def publish_facts(result: dict[str, Any], read_counts: dict[str, Any], stages: dict[str, Any]) -> dict[str, Any]:
    """The run columns written when the week is published."""
    return {**{k: v for k, v in result.items() if k not in ("week", "model_version")}, "counts": read_counts,
            "stages": stages}


def run_week(data_dir: str | Path, week: str, settings: Settings, *, champion=None, started_by: str | None = None,
             progress: Callable[[str], None] | None = None, accept_incomplete: str | None = None) -> dict[str, Any]:
    """Run the weekly job for one ISO week and publish it (see the module docstring).

    Args:
        data_dir: a county folder (``exports/<week>/``) or the week's export folder.
        week: ISO week, ``YYYY-Www``.
        settings: store, home (history) and model registry locations.
        champion: a loaded champion (default: ``models.registry.load_champion``).
        started_by: recorded as the run's operator (default: the OS user).
        progress: called with each stage name as it starts.
        accept_incomplete: publish even outside the completeness bounds, for this (audited) reason.

    Returns:
        week, households_in, households_scored, rows_quarantined, watchlist_size, model_version,
        drift_alerts, seconds, run_id, and the stage statuses.
    """
    from features.household_frame import build_household_frame
    from features.rules import evaluate_rules
    from serving.department_feed import stage_department_warnings
    from serving.explaining import explained
    from serving.store import models as m
    from serving.store import publishing as pub
    from serving.store.database import EncodedJSON
    from serving.watchlist import select_watchlist

    clock = StageClock(progress, task=f"weekly {week}", total=len(STAGES))
    say = clock.start
    job = prepare_job(data_dir, week, settings, champion)
    job.accept_incomplete = accept_incomplete
    engine, champion, policy, cutoff, week = job.engine, job.champion, job.policy, job.cutoff, job.week
    run_id = pub.start_run(engine, week, started_by=started_by)
    stages: dict[str, Any] = {"seconds": clock.seconds}
    try:
        say("read")
        pause_point("read")
        history, read = read_export(job, run_id, stages)

        say("history")
        pause_point("history")
        before = history.tables
        history = append_week(job, history, read, stages)

        say("frame")
        pause_point("frame")
        frame = build_household_frame(history.tables, cutoff, policy)
        stages["households"] = reconciled(read, frame)

        say("score")
        pause_point("score")
        probability = np.asarray(champion.model.predict_proba(frame)[:, 1], dtype="float64")

        say("rules")
        pause_point("rules")
        rules = evaluate_rules(frame, policy)
        warning_counts = stage_department_warnings(engine, run_id, history.tables, cutoff, policy, settings)

        say("watchlist")
        pause_point("watchlist")
        prev_prob, prev_listed = previous_scores(engine, week)
        scored = pd.DataFrame({
            "household_id": frame["household_id"].to_numpy(),
            "township": frame["township"].to_numpy(),
            "village": frame["village"].to_numpy(),
            "probability": probability,
            "level": _levels(probability, policy),
            "under_monitoring": frame["under_monitoring"].astype(bool).to_numpy(),
            "rules_triggered": rules["rules_triggered"].to_numpy(),
            "criteria_met": rules["criteria_met"].to_numpy(),
        })
        scored["change"] = scored["probability"] - scored["household_id"].map(prev_prob).astype("float64")
        scored = select_watchlist(scored, job.config, prev_listed)
        order = scored.sort_values(["probability", "household_id"], ascending=[False, True])
        scored.loc[order.index, "rank"] = np.arange(1, len(order) + 1)
        scored["township_rank"] = (
            scored.sort_values(["probability", "household_id"], ascending=[False, True])
            .groupby("township").cumcount() + 1
        )

        say("explain")
        pause_point("explain")
        listed = scored["on_watchlist"].to_numpy()
        # Explanations go to the store as they are made (staged rows stay invisible until the
        # week is published): the week's explanations are never all in memory at once.
        top: dict[str, dict[str, str] | None] = {}

        def explanation_rows() -> Iterator[dict[str, Any]]:
            for household_id, text, first in explained(
                champion.model, frame.loc[listed].reset_index(drop=True), policy,
                rules.loc[listed].reset_index(drop=True), prev_prob,
            ):
                top[household_id] = first
                yield {"household_id": household_id, "payload": EncodedJSON(text), "on_demand": False}

        pub.stage_rows(engine, m.Explanation, explanation_rows(), run_id)

        say("drift")
        pause_point("drift")
        try:
            drift = _drift(champion, frame, week, probability, read.tables, before)
        except Exception as error:  # a broken monitor must not stop officers getting their list
            drift = {"status": "failed", "summary": {"error": f"{type(error).__name__}: {str(error)[:300]}"},
                     "alerts": [], "feature_results": None, "report_html": None}
        stages["drift"] = drift["status"]
        # Publishing needs only these of the export; the raw tables and the history as it was
        # before this week served the drift checks and are let go (at 1M households, gigabytes).
        quarantined = list(_quarantine_rows(read))
        counts = read_counts(read)
        result = run_summary(job, read, households_scored=len(frame), watchlist_size=int(listed.sum()),
                             drift_alerts=len(drift["alerts"]), seconds=0.0)
        del read, before

        say("stage")
        pause_point("stage")
        pub.stage_rows(engine, m.Score, _score_rows(scored, top), run_id)
        pause_point("stage-scores")
        listed_rows = scored.loc[listed]
        pub.stage_rows(engine, m.WatchlistEntry, (
            {"household_id": h, "township": t, "reasons": list(rs)}
            for h, t, rs in zip(listed_rows["household_id"], listed_rows["township"], listed_rows["reasons"],
                                strict=True)
        ), run_id)
        pub.stage_rows(engine, m.RuleTrigger, _rule_payloads(rules), run_id)
        pub.stage_rows(engine, m.HouseholdSnapshot, snapshots(history.tables, frame, cutoff), run_id)
        pub.stage_rows(engine, m.QuarantineRow, quarantined, run_id)
        pub.stage_rows(engine, m.DriftResult, [{
            "status": drift["status"], "summary": drift["summary"],
            "feature_results": drift["feature_results"], "report_html": drift["report_html"],
            "report_samples": drift.get("report_samples"),
        }], run_id)
        pub.stage_rows(engine, m.DriftAlert, (_alert_row(a) for a in drift["alerts"]), run_id)

        say("publish")
        result["seconds"] = clock.total()
        pub.publish(engine, run_id, week, cutoff.date(), publish_facts(result, counts, stages),
                    before_commit=lambda: pause_point("publish"))
        say(None)
    except BaseException as error:
        if not isinstance(error, (KeyboardInterrupt, SystemExit)):
            pub.fail_run(engine, run_id, f"{type(error).__name__}: {error}")
        raise
    result["seconds"] = clock.total()
    return {**result, "run_id": run_id, "stages": stages, "department_warnings": warning_counts}


def _rule_payloads(rules: pd.DataFrame):
    from features.rules import CRITERIA, SCREENING

    crit_cols = [f"rule_{n}" for n in CRITERIA]
    scr_cols = [f"rule_{n}" for n in SCREENING]
    crit = rules[crit_cols].to_numpy()
    scr = rules[scr_cols].to_numpy()
    any_flag = crit.any(axis=1) | scr.any(axis=1)
    names_c, names_s = list(CRITERIA), list(SCREENING)
    # Plain arrays once, not a DataFrame column lookup per row (a third of the week's publishing).
    ids = rules["household_id"].to_numpy()
    types = rules["rule_risk_types"].to_numpy()
    priority = rules["rules_priority_score"].to_numpy()
    for i in np.flatnonzero(any_flag):
        yield {
            "household_id": str(ids[i]),
            "payload": {
                "criteria": [{"name": n, "zh": CRITERIA[n].zh, "en": CRITERIA[n].en}
                             for n, hit in zip(names_c, crit[i], strict=True) if hit],
                "screening": [{"name": n, "zh": SCREENING[n].zh, "en": SCREENING[n].en}
                              for n, hit in zip(names_s, scr[i], strict=True) if hit],
                "risk_types": [t for t in str(types[i]).split("|") if t],
                "priority_score": float(priority[i]),
            },
        }


def _quarantine_rows(read):
    for kind, table in (("quarantine", read.quarantine), ("flag", read.flags)):
        for r in records(table):
            yield {"kind": kind, "file": str(r.get("file")), "row": r.get("row"), "column": r.get("column"),
                   "value": None if r.get("value") is None else str(r.get("value")), "reason": str(r.get("reason"))}


def _alert_row(alert: dict[str, Any]) -> dict[str, Any]:
    psi = alert.get("psi")
    return {
        "severity": str(alert.get("severity", "info")),
        "township": alert.get("township"),
        "feature": alert.get("feature"),
        "message_zh": str(alert.get("message_zh", "")),
        "message_en": str(alert.get("message_en", "")),
        "psi": None if psi is None or (isinstance(psi, float) and not math.isfinite(psi)) else float(psi),
        "payload": {k: _plain(v) for k, v in alert.items()},
    }

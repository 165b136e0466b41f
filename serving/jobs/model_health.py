"""The weekly job's model-health step: gathers what ``monitoring.model_health`` judges.

- the champion's age and its training run's measured staleness limit (its evaluation);
- the libraries it was trained with (MLflow: run params and the model's requirements) against the
  installed ones;
- this week's estimated list quality from the calibrated probabilities;
- the newest cutoff whose 52 weeks have passed: the list as it was published that week when the
  store holds it (``method: published``), else the champion's backtest at that cutoff
  (``method: backtest``), against what happened.

A broken check must not stop officers getting their list: a failure is recorded as the step's
status, as the drift check's is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def week_health(job, tables: dict[str, pd.DataFrame], frame: pd.DataFrame, probability: np.ndarray,
                previous: dict[str, float] | None = None) -> dict[str, Any]:
    """The week's model health (JSON-ready), or ``{"status": "failed", "error": ...}``.

    Args:
        job: the week's set-up (``serving.jobs.week_run.Job``).
        tables: the history with this week's export.
        frame: this week's household frame; probability: its calibrated risk.
        previous: last published week's probability by household.
    """
    from features.json_safe import plain

    try:
        return plain({"status": "ok", **_assess(job, tables, frame, probability, previous or {})})
    except Exception as error:  # noqa: BLE001 - see the module docstring
        return {"status": "failed", "error": f"{type(error).__name__}: {str(error)[:300]}", "alerts": []}


def _assess(job, tables, frame, probability, previous) -> dict[str, Any]:
    from models.libraries import installed_versions
    from monitoring import model_health as mh
    from monitoring.versions import compare_versions

    champion = job.champion
    metrics = dict(getattr(champion, "metrics", None) or {})
    table, method = matured_table(job, tables)
    eligible = ~frame["under_monitoring"].to_numpy(dtype=bool)
    return mh.assess(
        staleness=mh.staleness(job.cutoff, metrics, trained_until(champion), week=job.week),
        versions=compare_versions(champion_versions(champion), installed_versions(), week=job.week),
        estimate=mh.estimate(probability, eligible, metrics, week=job.week,
                             previous=frame.loc[eligible, "household_id"].map(previous).to_numpy(dtype="float64")),
        matured=mh.matured(table, metrics, method=method),
    )


def trained_until(champion) -> pd.Timestamp | None:
    """When the champion's data ended, for champions whose evaluation does not say (older runs):
    an explicit ``trained_until``, else its reference sample's newest cutoff plus the horizon."""
    explicit = getattr(champion, "trained_until", None)
    if explicit is not None:
        return pd.Timestamp(explicit)
    reference = getattr(champion, "reference", None)
    if reference is not None and "cutoff" in reference.columns and len(reference):
        return pd.Timestamp(reference["cutoff"].max()) + pd.Timedelta(weeks=52)
    return None


def champion_versions(champion) -> dict[str, str] | None:
    """The model libraries' versions its training run recorded (None for a champion that was never
    registered, such as one fitted in a notebook)."""
    from models.libraries import trained_versions

    uri = getattr(champion, "uri", None)
    if not uri:
        return None
    return trained_versions(str(champion.run_id), uri) or None


def matured_table(job, tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame | None, str]:
    """(``monitoring.performance`` rows of the newest matured cutoff, method)."""
    from monitoring.model_health import CAPACITY
    from monitoring.outcomes import HORIZON_WEEKS, data_end, matured, realised_outcomes
    from monitoring.performance import backtest_cutoffs, list_rows

    # The list published 52 weeks before this week, or the newest matured one before it (never a
    # later one: a county folder's history may run past the week being scored).
    year_ago = pd.Timestamp(job.cutoff) - pd.Timedelta(weeks=HORIZON_WEEKS)
    cutoffs = [c for c in backtest_cutoffs(tables, weeks=1, step_weeks=1) if c <= year_ago]
    cutoffs = [year_ago] if matured(year_ago, data_end(tables)) else cutoffs
    if not cutoffs:
        return None, "none"
    cutoff = cutoffs[0]
    published = published_scores(job.engine, cutoff)
    if published is not None and len(published):
        eligible = realised_outcomes(published, tables["outcomes"], cutoff)
        return pd.DataFrame(list_rows(eligible, eligible["probability"].to_numpy(), cutoff, CAPACITY)), "published"
    return backtest(job, tables, cutoff), "backtest"


def backtest(job, tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp) -> pd.DataFrame:
    """``monitoring.performance.realised_performance`` at ``cutoff``, the champion's scores of that
    year-old frame kept under the home (``backtests/``) for the next weeks.

    The frame at a past cutoff holds only what was recorded by then (``features.point_in_time``),
    so for one champion, cutoff and policy its eligible households and scores stay the same week
    after week; only who entered monitoring since is read again (the outcomes, which later exports
    can backdate). The kept scores are used when the champion (name, version, run), the cutoff and
    the policy are those they were made with; otherwise the frame is built and scored again.
    """
    from monitoring.model_health import CAPACITY
    from monitoring.outcomes import data_end, entrants, matured
    from monitoring.performance import list_rows, realised_performance

    path = _backtest_path(job, cutoff)
    if path is None:
        return realised_performance(tables, job.policy, job.champion.model, [cutoff], capacity=CAPACITY)
    if not matured(cutoff, data_end(tables)):
        raise ValueError(f"cutoff {pd.Timestamp(cutoff).date()} has not matured / 结果尚未成熟")
    try:
        kept = pd.read_parquet(path)
    except (OSError, ValueError):
        kept = None
    if kept is None or list(kept.columns) != ["household_id", "township", "probability"]:
        from features.household_frame import build_household_frame
        from monitoring.outcomes import realised_outcomes
        from serving.private_files import private_dir, private_file

        eligible = realised_outcomes(build_household_frame(tables, cutoff, job.policy), tables["outcomes"], cutoff)
        kept = pd.DataFrame({"household_id": eligible["household_id"].to_numpy(),
                             "township": eligible["township"].to_numpy(),
                             "probability": np.asarray(job.champion.model.predict_proba(eligible)[:, 1],
                                                       dtype="float64")})
        private_dir(path.parent)
        for old in path.parent.glob("*.parquet"):  # one champion's backtest is kept, the newest
            old.unlink(missing_ok=True)
        kept.to_parquet(private_file(path.with_suffix(".tmp")), index=False)
        path.with_suffix(".tmp").replace(path)
    entered = entrants(tables["outcomes"], cutoff)
    eligible = kept.assign(entered=kept["household_id"].isin(entered).to_numpy(dtype=int))
    return pd.DataFrame(list_rows(eligible, kept["probability"].to_numpy(), cutoff, CAPACITY))


def _backtest_path(job, cutoff: pd.Timestamp):
    """Where the backtest of this champion, cutoff and policy is kept (None: not a registered champion)."""
    import dataclasses
    import hashlib
    import json

    champion = job.champion
    if getattr(champion, "uri", None) is None or getattr(job, "home", None) is None:
        return None
    key = json.dumps({"model": [getattr(champion, "name", ""), str(champion.version), str(champion.run_id)],
                      "cutoff": str(pd.Timestamp(cutoff).date()),
                      "policy": dataclasses.asdict(job.policy) if dataclasses.is_dataclass(job.policy)
                      else repr(job.policy)}, sort_keys=True, default=str)
    return job.home / "backtests" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.parquet"


def published_scores(engine, cutoff: pd.Timestamp) -> pd.DataFrame | None:
    """The scores published for the week ending on ``cutoff`` (None when no week was)."""
    from sqlalchemy import select

    from serving.store import models as m

    with engine.connect() as conn:
        run_id = conn.execute(select(m.Week.published_run_id).where(m.Week.cutoff == pd.Timestamp(cutoff).date())
                              ).scalar()
        if run_id is None:
            return None
        rows = conn.execute(select(m.Score.household_id, m.Score.township, m.Score.probability,
                                   m.Score.under_monitoring).where(m.Score.run_id == run_id)).all()
    return pd.DataFrame(rows, columns=["household_id", "township", "probability", "under_monitoring"])

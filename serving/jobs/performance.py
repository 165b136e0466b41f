"""The performance job: backtest the champion on the matured weekly cutoffs of a county folder's
history and advise on retraining (drift evidence from the store's latest published week)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from serving.output import stderr


def latest_drift_summary(settings) -> dict[str, Any] | None:
    """The latest published week's drift check from the store (None without a store or a check)."""
    from serving.store import queries
    from serving.store.database import get_engine, session_factory, upgrade

    engine = get_engine(settings)
    upgrade(engine)
    with session_factory(engine)() as session:
        return queries.latest_drift_summary(session)


def performance_data(data: Path, *, weeks: int = 13, step_weeks: int = 4, settings=None) -> dict[str, Any]:
    """Backtest the champion on the matured weekly cutoffs of a county folder's history."""
    import pandas as pd

    from features import reading
    from features.policy import load_policy
    from monitoring.performance import backtest_cutoffs, performance_report
    from serving.settings import get_settings
    from serving.tracking import load_champion

    settings = settings or get_settings()
    history_dir = data / "history" if (data / "history").is_dir() else data
    try:
        champion = load_champion(settings)
    except Exception as error:  # noqa: BLE001 - any registry failure means: nothing to evaluate
        raise LookupError(f"no champion model {settings.model_uri}: {error} / 未找到冠军模型") from None
    stderr.print(f"reading {history_dir}", highlight=False)
    tables = reading.read_folder(history_dir).tables
    policy = load_policy(getattr(settings, "policy_path", None))
    cutoffs = backtest_cutoffs(tables, weeks=weeks, step_weeks=step_weeks)
    if not cutoffs:
        raise ValueError("no matured week in the history (needs 52 weeks after a list) / 尚无成熟周")
    reference = getattr(champion, "reference", None)
    trained_until = None
    if reference is not None and "cutoff" in reference.columns:
        trained_until = pd.Timestamp(reference["cutoff"].max()) + pd.Timedelta(weeks=52)
    metrics = dict(getattr(champion, "metrics", None) or {})
    measured = metrics.get("staleness") or {}
    stderr.print(f"backtesting {len(cutoffs)} matured weeks with champion v{champion.version}", highlight=False)
    result = performance_report(tables, policy, champion.model, metrics, cutoffs=cutoffs,
                                trained_until=trained_until,
                                drift_summary=latest_drift_summary(settings),
                                stale_weeks=measured.get("limit_weeks_after_data_end") if measured.get("measured") else None)
    result["model_version"] = str(champion.version)
    result["challenger"] = shadow_comparison(settings, tables)
    return result


def shadow_comparison(settings, tables) -> dict[str, Any]:
    """The store's shadow weeks (``serving.jobs.shadow``), their realised recall recomputed from
    the county folder's outcomes."""
    from monitoring.outcomes import data_end
    from serving.jobs.shadow import comparison
    from serving.store.database import get_engine, session_factory, upgrade

    engine = get_engine(settings)
    upgrade(engine)
    with session_factory(engine)() as session:
        return comparison(session, outcomes=tables["outcomes"], data_end=data_end(tables))

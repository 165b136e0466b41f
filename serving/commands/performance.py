"""`fanpin performance`: realised performance of matured weeks and a retraining recommendation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from serving.output import emit, fail, stderr


def latest_drift_summary(report_dir: Path) -> dict[str, Any] | None:
    """The newest ``drift-YYYY-Www.json`` that `fanpin drift` left beside its HTML reports."""
    found = sorted(Path(report_dir).glob("drift-*.json")) if Path(report_dir).is_dir() else []
    return json.loads(found[-1].read_text(encoding="utf-8")) if found else None


def performance_data(data: Path, *, weeks: int = 13, step_weeks: int = 4, settings=None) -> dict[str, Any]:
    """Backtest the champion on the matured weekly cutoffs of a county folder's history."""
    import mlflow
    import pandas as pd

    from features import reading
    from features.policy import load_policy
    from models.registry import load_champion
    from monitoring.performance import backtest_cutoffs, performance_report
    from serving.settings import get_settings

    settings = settings or get_settings()
    history_dir = data / "history" if (data / "history").is_dir() else data
    mlflow.set_tracking_uri(settings.tracking_uri)
    try:
        champion = load_champion(name=settings.model_name, alias=settings.model_alias)
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
    stderr.print(f"backtesting {len(cutoffs)} matured weeks with champion v{champion.version}", highlight=False)
    result = performance_report(tables, policy, champion.model, metrics, cutoffs=cutoffs,
                                trained_until=trained_until,
                                drift_summary=latest_drift_summary(settings.home / "reports"))
    result["model_version"] = str(champion.version)
    return result


def performance(
    data: Annotated[Path, typer.Option("--data", help="县文件夹 / county folder")],
    weeks: Annotated[int, typer.Option("--weeks", help="回测周数 / matured weeks to evaluate")] = 13,
    step_weeks: Annotated[int, typer.Option("--step-weeks", help="周间隔 / weeks between them")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 结果 / JSON result")] = False,
) -> None:
    """模型实际表现与再训练建议 / realised performance of matured weeks and retraining advice."""
    from features.reading import ContractError

    try:
        result = performance_data(data, weeks=weeks, step_weeks=step_weeks)
    except (ContractError, LookupError, ValueError) as error:
        fail(str(error))
        return
    for w in result["weeks"]:
        auc = "-" if w["auc"] is None else f"{w['auc']:.3f}"
        rec = "-" if w["recall_at_capacity"] is None else f"{w['recall_at_capacity']:.1%}"
        stderr.print(f"{w['cutoff']}  AUC {auc}  recall@capacity {rec}  predicted {w['mean_predicted']:.1%}  "
                     f"realised {w['realised_rate']:.1%}", highlight=False)
    for a in result["alerts"]:
        stderr.print(f"[yellow]{a['severity']}[/] {a['message_zh']}", highlight=False)
    stderr.print(result["recommendation"]["message_zh"], highlight=False)
    emit(result, as_json, summary="")
